//! Usage per member (issue 28): records a second sustained by 10 concurrent reporters, each
//! sending batches of 100 records through the handler (`POST /orgs/{orgId}/usage` as a
//! `roster/usage` service), against the same transactions sent straight to DynamoDB Local
//! (bare: no handler, no read of the memberships); the p50 and p99 of a batch, under that
//! load and alone; and the read of a 10,000-member organization's totals over a month
//! (`groupBy=member`), every member with a counter on 1, 3 and 10 days of it. Not on all 30
//! (300,000 counters): DynamoDB Local, with the 512 MB heap tests/stack/lib.sh gives it, ran
//! out of memory answering that query (`java.lang.OutOfMemoryError: Java heap space`) and
//! failed every request after it.
//!
//! Each reporter reports for 4 members of its own (40 in all), so no two reporters write one
//! counter: DynamoDB cancels transactions that meet on an item, and what is measured here is
//! the write path, not contention (`contention.rs` measures that). Both sides go straight to
//! DynamoDB Local, not through the conflict proxy.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, PutRequest, TransactWriteItem, Update, WriteRequest,
};
use roster::domain::usage::{Day, Metric, WINDOW};
use roster::domain::{OrgId, Timestamp, UserId};
use roster::store::keys;
use serde_json::{Value, json};

use super::scale::{seed_members, write_items};
use super::{load_average, load_note, ms, quantile};
use crate::harness::TestApp;

pub const REPORTERS: usize = 10;
/// Members per reporter, each with a quarter of its batches' records.
const MEMBERS_EACH: usize = 4;
const BATCH: usize = 100;
/// The organization read for a month's totals.
const LARGE: usize = 10_000;
const MONTH: i64 = 30;
const METRIC: &str = "credits";
const SERVICE: (&str, &str) = ("dev-service", "roster/usage");

pub struct Usage {
    /// Batches each reporter sends per round.
    pub batches: usize,
    /// Records a second: (Roster, bare) per round, the two sides alternating.
    pub rounds: Vec<(f64, f64)>,
    /// A batch under the 10 reporters' load (p50, p99): Roster, bare.
    pub loaded: ((Duration, Duration), (Duration, Duration)),
    /// A batch from one reporter alone (p50, p99): Roster, bare.
    pub alone: ((Duration, Duration), (Duration, Duration)),
    /// DynamoDB requests of one batch through the handler, and transactions among them.
    pub requests: (usize, usize),
    /// Requests sent again after a timeout: batches through the handler, bare transactions.
    pub retries: (usize, usize),
    pub reads: Vec<Read>,
    /// The machine's 1-minute load average when the section started and when it ended.
    pub load: (Option<f64>, Option<f64>),
}

/// The month's totals of a 10,000-member organization.
pub struct Read {
    pub days_each: i64,
    pub counters: usize,
    pub seeded_in: Duration,
    /// Of the reads answered `200`.
    pub p50: Duration,
    pub p99: Duration,
    /// Reads answered `503`: a page took longer than the function's DynamoDB timeouts.
    pub unavailable: usize,
    /// Of the bare queries that finished; and those that did not (the same timeouts).
    pub bare_p50: Duration,
    pub bare_failed: usize,
    pub reps: usize,
}

/// A time in ms, or "–" where no read finished (the quantile of nothing is zero).
fn timed(d: Duration, none: bool) -> String {
    if none { "–".to_owned() } else { ms(d) }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Member `k` of reporter `r`'s: the seeded members `seed00000`, ... (`seed_members`).
fn member(r: usize, k: usize) -> String {
    format!("seed{:05}", r * MEMBERS_EACH + k)
}

/// Batch `b` of reporter `r` in the round `tag` names: 100 records of its 4 members
/// (25 each, each member's over two days: a minute and a day and a minute before the app's
/// now), ids never used before.
fn batch(tag: &str, r: usize, b: usize, now: Timestamp) -> Vec<Value> {
    (0..BATCH)
        .map(|i| {
            let back = ((i / MEMBERS_EACH) % 2) as i64;
            let at = now.as_datetime() - chrono::Duration::days(back) - chrono::Duration::minutes(1);
            json!({
                "id": format!("{tag}-{r}-{b}-{i}"),
                "userId": member(r, i % MEMBERS_EACH),
                "metric": METRIC,
                "quantity": format!("{}.25", i % 7),
                "at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            })
        })
        .collect()
}

/// A batch through the handler: its time; panics unless every record was recorded.
/// Times a batch sends at most: the first, then again after a `503` (as the contract tells
/// a reporter to: the ids make what counted the first time `duplicate`). On this loaded
/// 2-core machine DynamoDB Local sometimes answers after the SDK's 2 s attempt timeout.
const ATTEMPTS: usize = 5;

/// A batch through the handler: its time, sent again after a `503` (the retries counted);
/// panics unless every record counted once.
async fn report(app: &TestApp, org: &str, records: Vec<Value>) -> (Duration, usize) {
    let started = Instant::now();
    let body = json!({ "records": records });
    for attempt in 0..ATTEMPTS {
        let path = format!("/orgs/{org}/usage");
        let r = app.call_as_service(SERVICE.0, SERVICE.1, "POST", &path, Some(body.clone())).await;
        if r.status == 503 {
            continue;
        }
        let took = started.elapsed();
        assert_eq!(r.status, 200, "{:?}", r.body);
        let counted = |status: &str| {
            r.body["results"].as_array().map_or(0, |a| a.iter().filter(|x| x["status"] == status).count())
        };
        let again = if attempt == 0 { 0 } else { counted("duplicate") };
        assert_eq!(counted("recorded") + again, BATCH, "{:?}", r.body);
        return (took, attempt);
    }
    panic!("a usage batch answered 503 {ATTEMPTS} times");
}

/// The same batch as bare transactions: per member, what `Store::record_usage` writes (each
/// id's item put unless one lives, the membership checked, each counter added to under the
/// day and under the member), the members' transactions side by side as the handler sends
/// them. Its time and the transactions sent again: one that failed (an attempt's timeout) is
/// sent again, and one cancelled then had been applied before (its ids live).
async fn bare(app: &TestApp, org: &str, records: Vec<Value>, now: Timestamp) -> (Duration, usize) {
    let table = app.table();
    let pk = keys::org(&OrgId::parse(org).expect("org id"));
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let expires = (now.as_datetime() + WINDOW).timestamp().to_string();
    let started = Instant::now();
    let transactions = (0..MEMBERS_EACH).map(|k| {
        let mine: Vec<&Value> = records.iter().skip(k).step_by(MEMBERS_EACH).collect();
        let user = UserId::parse(mine[0]["userId"].as_str().expect("user")).expect("user id");
        let mut items: Vec<TransactWriteItem> = mine
            .iter()
            .map(|r| {
                let put = Put::builder()
                    .table_name(table)
                    .item(keys::PK, s(&pk))
                    .item(keys::SK, s(&format!("USAGE#ID#{}", r["id"].as_str().expect("id"))))
                    .item("userId", s(user.as_str()))
                    .item("metric", s(METRIC))
                    .item("recordedAt", s(&now.to_string()))
                    .item(keys::TTL, AttributeValue::N(expires.clone()))
                    .condition_expression("attribute_not_exists(PK) OR #ttl <= :now")
                    .expression_attribute_names("#ttl", keys::TTL)
                    .expression_attribute_values(":now", AttributeValue::N(now.epoch_seconds().to_string()))
                    .build()
                    .expect("put");
                TransactWriteItem::builder().put(put).build()
            })
            .collect();
        let check = ConditionCheck::builder()
            .table_name(table)
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(&keys::member(&user)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .expect("check");
        items.push(TransactWriteItem::builder().condition_check(check).build());
        // A counter per day of the member's records, under the day and under the member. (The
        // sum in a float: these quantities are quarters, exact in one.)
        let metric = Metric::parse(METRIC).expect("metric");
        let mut sums: std::collections::BTreeMap<Day, f64> = Default::default();
        for r in &mine {
            let day = Day::of(Timestamp::parse(r["at"].as_str().expect("at")).expect("timestamp"));
            *sums.entry(day).or_default() +=
                r["quantity"].as_str().expect("q").parse::<f64>().expect("number");
        }
        for (day, sum) in sums {
            for sk in
                [keys::usage_counter(&metric, day, &user), keys::usage_member_counter(&metric, &user, day)]
            {
                let update = Update::builder()
                    .table_name(table)
                    .key(keys::PK, s(&pk))
                    .key(keys::SK, s(&sk))
                    .update_expression("ADD #total :q SET userId = :u, metric = :m, #day = :d")
                    .expression_attribute_names("#total", "total")
                    .expression_attribute_names("#day", "day")
                    .expression_attribute_values(":q", AttributeValue::N(sum.to_string()))
                    .expression_attribute_values(":u", s(user.as_str()))
                    .expression_attribute_values(":m", s(METRIC))
                    .expression_attribute_values(":d", s(&day.compact()))
                    .build()
                    .expect("update");
                items.push(TransactWriteItem::builder().update(update).build());
            }
        }
        async move {
            for attempt in 0..ATTEMPTS {
                match app.dynamo.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                    Ok(_) => return attempt,
                    Err(e)
                        if attempt > 0
                            && e.as_service_error()
                                .is_some_and(|e| e.is_transaction_canceled_exception()) =>
                    {
                        return attempt;
                    }
                    Err(_) => continue,
                }
            }
            panic!("a bare usage transaction failed {ATTEMPTS} times");
        }
    });
    let retries = futures::future::join_all(transactions).await.into_iter().sum();
    (started.elapsed(), retries)
}

/// Which way a round's batches go.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Roster,
    Bare,
}

/// One round: every reporter sends `batches` batches, one after another, all reporters at
/// once. (records a second, every batch's time).
/// once: (records a second, every batch's time, requests sent again). `tag` keeps the ids
/// of every round apart.
async fn round(
    app: &TestApp,
    org: &str,
    side: Side,
    tag: &str,
    reporters: usize,
    batches: usize,
) -> (f64, Vec<Duration>, usize) {
    let now = app.now();
    let started = Instant::now();
    let per_reporter = futures::future::join_all((0..reporters).map(|r| async move {
        let mut times = Vec::with_capacity(batches);
        for b in 0..batches {
            let records = batch(tag, r, b, now);
            times.push(match side {
                Side::Roster => report(app, org, records).await,
                Side::Bare => bare(app, org, records, now).await,
            });
        }
        times
    }))
    .await;
    let rate = (reporters * batches * BATCH) as f64 / started.elapsed().as_secs_f64();
    let all: Vec<(Duration, usize)> = per_reporter.into_iter().flatten().collect();
    (rate, all.iter().map(|t| t.0).collect(), all.iter().map(|t| t.1).sum())
}

/// Writes a counter of `metric` for each of `members` seeded members on `days_each` days of
/// the month ending today (spread evenly), straight into the table with BatchWriteItem: the
/// items the month's read reads (the copies under each member are not read by it and are
/// left out).
async fn seed_counters(
    app: &TestApp,
    org: &str,
    metric: &str,
    members: usize,
    days_each: i64,
) -> (usize, Duration) {
    let pk = keys::org(&OrgId::parse(org).expect("org id"));
    let name = metric;
    let metric = Metric::parse(metric).expect("metric");
    let today = Day::of(app.now());
    let started = Instant::now();
    let mut writes = Vec::new();
    for i in 0..members {
        let user = UserId::parse(&format!("seed{i:05}")).expect("user id");
        for d in 0..days_each {
            let day = today.plus_days(-(d * MONTH / days_each) - (i as i64 % (MONTH / days_each)));
            let item = [
                (keys::PK, AttributeValue::S(pk.clone())),
                (keys::SK, AttributeValue::S(keys::usage_counter(&metric, day, &user))),
                ("total", AttributeValue::N(format!("{}.5", (i + d as usize) % 90))),
                ("userId", AttributeValue::S(user.as_str().to_owned())),
                ("metric", AttributeValue::S(name.to_owned())),
                ("day", AttributeValue::S(day.compact())),
            ];
            let item = item.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            writes.push(
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build().expect("item"))
                    .build(),
            );
        }
    }
    let count = writes.len();
    write_items(&app.dynamo, app.table(), writes, 8).await;
    (count, started.elapsed())
}

/// `reps` reads of the month's totals of `metric` by member, as the owner, with the bare
/// query of the same key range (every page, consistent, with the function's SDK settings)
/// beside them. A read answered `503` (a page past the SDK's timeouts) is counted, not timed.
async fn read_month(
    app: &TestApp,
    owner: &crate::harness::User,
    org: &str,
    metric: &str,
    reps: usize,
) -> (Duration, Duration, usize, Duration, usize) {
    let to = Day::of(app.now());
    let from = to.plus_days(1 - MONTH);
    let path = format!("/orgs/{org}/usage?metric={metric}&from={from}&to={to}&groupBy=member");
    let (mut samples, mut unavailable) = (Vec::with_capacity(reps), 0);
    for _ in 0..reps {
        let started = Instant::now();
        let r = app.call(Some(owner), "GET", &path, None).await;
        if r.status == 503 {
            unavailable += 1;
            continue;
        }
        samples.push(started.elapsed());
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["totals"].as_array().map(Vec::len), Some(LARGE));
    }
    let metric = Metric::parse(metric).expect("metric");
    let pk = keys::org(&OrgId::parse(org).expect("org id"));
    let (mut bare, mut bare_failed) = (Vec::with_capacity(reps), 0);
    'reads: for _ in 0..reps {
        let started = Instant::now();
        let mut start = None;
        loop {
            let page = app
                .dynamo
                .query()
                .table_name(app.table())
                .key_condition_expression("PK = :pk AND SK BETWEEN :lo AND :hi")
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .expression_attribute_values(":lo", AttributeValue::S(keys::usage_days(&metric, from)))
                .expression_attribute_values(":hi", AttributeValue::S(keys::usage_days_end(&metric, to)))
                .projection_expression("userId, #day, #total")
                .expression_attribute_names("#day", "day")
                .expression_attribute_names("#total", "total")
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await;
            let Ok(page) = page else {
                bare_failed += 1;
                continue 'reads;
            };
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        bare.push(started.elapsed());
    }
    (quantile(&samples, 0.5), quantile(&samples, 0.99), unavailable, quantile(&bare, 0.5), bare_failed)
}

pub async fn run(batches: usize, rounds: usize, read_reps: usize) -> Usage {
    let started = load_average();
    let app = TestApp::spawn().await.without_conflict_emulation();
    let owner = app.user("usage-owner");
    let (org, bare_org) = (app.create_org(&owner, "Usage").await, app.create_org(&owner, "Usage bare").await);
    for o in [&org, &bare_org] {
        seed_members(&app, o, REPORTERS * MEMBERS_EACH).await;
    }

    // What one batch sends, through the handler.
    app.calls.take();
    report(&app, &org, batch("probe", 0, 0, app.now())).await;
    let sent = app.calls.take();
    let dynamodb = sent.iter().filter(|c| c.starts_with("DynamoDB.")).count();
    let transactions = sent.iter().filter(|c| *c == "DynamoDB.TransactWriteItems").count();

    // Warm both sides up, then alternate them, a round each, so that the machine's load falls
    // on both alike.
    round(&app, &org, Side::Roster, "warm", REPORTERS, 2).await;
    round(&app, &bare_org, Side::Bare, "warm", REPORTERS, 2).await;
    let (mut rates, mut roster_times, mut bare_times, mut retries) =
        (Vec::new(), Vec::new(), Vec::new(), (0, 0));
    for k in 0..rounds {
        eprintln!("usage: round {} of {rounds}", k + 1);
        let tag = format!("round{k}");
        let (roster_rate, times, again) = round(&app, &org, Side::Roster, &tag, REPORTERS, batches).await;
        roster_times.extend(times);
        retries.0 += again;
        let (bare_rate, times, again) = round(&app, &bare_org, Side::Bare, &tag, REPORTERS, batches).await;
        bare_times.extend(times);
        retries.1 += again;
        rates.push((roster_rate, bare_rate));
    }
    let p = |t: &[Duration]| (quantile(t, 0.5), quantile(t, 0.99));
    let loaded = (p(&roster_times), p(&bare_times));
    let (_, solo_roster, again) = round(&app, &org, Side::Roster, "alone", 1, batches * 5).await;
    retries.0 += again;
    let (_, solo_bare, again) = round(&app, &bare_org, Side::Bare, "alone", 1, batches * 5).await;
    retries.1 += again;
    let alone = (p(&solo_roster), p(&solo_bare));

    // One organization, a metric per shape: each read is its own key range. (Not every day
    // of the month: see the module's comment.)
    let large = app.create_org(&owner, &format!("Usage {LARGE}")).await;
    eprintln!("usage: seeding {LARGE} members");
    seed_members(&app, &large, LARGE).await;
    let mut reads = Vec::new();
    for (metric, days_each) in [("credits", 1), ("tokens", 3), ("seats", 10)] {
        eprintln!("usage: counters of {metric} on {days_each} days of the month for each member");
        let (counters, seeded_in) = seed_counters(&app, &large, metric, LARGE, days_each).await;
        let (p50, p99, unavailable, bare_p50, bare_failed) =
            read_month(&app, &owner, &large, metric, read_reps).await;
        reads.push(Read {
            days_each,
            counters,
            seeded_in,
            p50,
            p99,
            unavailable,
            bare_p50,
            bare_failed,
            reps: read_reps,
        });
    }
    Usage {
        batches,
        rounds: rates,
        loaded,
        alone,
        requests: (dynamodb, transactions),
        retries,
        reads,
        load: (started, load_average()),
    }
}

pub fn markdown(u: &Usage) -> String {
    let roster = median(u.rounds.iter().map(|r| r.0).collect());
    let bare = median(u.rounds.iter().map(|r| r.1).collect());
    let each: Vec<String> = u.rounds.iter().map(|(r, b)| format!("{r:.0} / {b:.0}")).collect();
    let mut out = format!(
        "{REPORTERS} reporters at once, each sending {} batches of {BATCH} records per round for {MEMBERS_EACH} \
         members of its own (25 records each, over two days), one batch after another; {} rounds, Roster's and \
         the bare one alternating. One batch through the handler sends {} DynamoDB requests ({} transactions, \
         one per member, side by side; the other the read of the organization with the batch's memberships). \
         The bare side sends the same transactions straight to DynamoDB Local, with no handler and no read.\n\n\
         | Measure | Roster | Bare DynamoDB Local | Ratio |\n|---|---|---|---|\n\
         | records a second, {REPORTERS} reporters (median of the rounds) | {roster:.0} | {bare:.0} | {:.2}× |\n",
        u.batches,
        u.rounds.len(),
        u.requests.0,
        u.requests.1,
        bare / roster,
    );
    let ((lr, lb), (ar, ab)) = (u.loaded, u.alone);
    for (label, r, b) in [
        ("under that load, p50", lr.0, lb.0),
        ("under that load, p99", lr.1, lb.1),
        ("alone, p50", ar.0, ab.0),
        ("alone, p99", ar.1, ab.1),
    ] {
        let ratio = r.as_secs_f64() / b.as_secs_f64();
        out.push_str(&format!("| batch of {BATCH} {label} ms | {} | {} | {ratio:.2}× |\n", ms(r), ms(b)));
    }
    out.push_str(&format!(
        "\nEach round, records a second (Roster / bare): {}. Goal: Roster's rate within 1.3× of the bare one's. \
         Sent again after an attempt timed out (2 s): {} batches through the handler (answered `503`), {} bare \
         transactions.\n",
        each.join(", "),
        u.retries.0,
        u.retries.1,
    ));
    out.push_str(&load_note(u.load));
    out.push_str(&format!(
        "\nA 10,000-member organization's totals over {MONTH} days (`GET .../usage?groupBy=member`, as the owner, \
         {} reads each): one Query of the month's key range, every page, summed by member.\n\n\
         | Usage | Counters in the month (items read) | p50 ms | p99 ms | Answered `503` | Bare Query, every page, p50 ms | Bare Query timed out | Counters seeded in |\n\
         |---|---|---|---|---|---|---|---|\n",
        u.reads.first().map_or(0, |r| r.reps),
    ));
    for r in &u.reads {
        out.push_str(&format!(
            "| every member on {} of the 30 days | {} | {} | {} | {} of {} | {} | {} of {} | {:.1} s |\n",
            r.days_each,
            r.counters,
            timed(r.p50, r.unavailable == r.reps),
            timed(r.p99, r.unavailable == r.reps),
            r.unavailable,
            r.reps,
            timed(r.bare_p50, r.bare_failed == r.reps),
            r.bare_failed,
            r.reps,
            r.seeded_in.as_secs_f64()
        ));
    }
    out
}
