//! Scale: an invite batch of 100 against one of 10, and list pages of a 10,000-member
//! organization against a 10-member one.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use futures::StreamExt;
use roster::domain::{Member, OrgId, Role, Timestamp, UserId};
use serde_json::json;

use super::{ms, quantile};
use crate::harness::TestApp;

pub struct Scale {
    pub invite_10: Duration,
    pub invite_100: Duration,
    /// DynamoDB transactions (attempts included) per batch, the most seen over the rounds.
    pub tx_10: usize,
    pub tx_100: usize,
    pub small_first_page: Duration,
    pub big_first_page: Duration,
    pub big_late_page: Duration,
    pub late_page_offset: usize,
    /// The same shapes without Roster: bare transactions, 16 in flight as invite sends them,
    /// and bare queries of the first and the late page.
    pub raw_tx_10: Duration,
    pub raw_tx_100: Duration,
    pub raw_first_query: Duration,
    pub raw_late_query: Duration,
}

/// `count` bare TransactWriteItems of four fresh puts each, 16 in flight at a time.
async fn raw_transactions(app: &TestApp, count: usize, round: usize) -> Duration {
    use aws_sdk_dynamodb::types::{AttributeValue::S, Put, TransactWriteItem};
    let started = Instant::now();
    futures::stream::iter(0..count)
        .for_each_concurrent(16, |i| async move {
            let items = (0..4)
                .map(|k| {
                    let put = Put::builder()
                        .table_name(app.table())
                        .item("PK", S(format!("RAW#{round}#{count}#{i}")))
                        .item("SK", S(format!("K{k}")))
                        .condition_expression("attribute_not_exists(PK)")
                        .build()
                        .expect("put");
                    TransactWriteItem::builder().put(put).build()
                })
                .collect();
            app.dynamo
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
                .expect("transaction");
        })
        .await;
    started.elapsed()
}

/// p50 of a bare Query of 51 index items of `org`'s run `prefix`, from the start or after
/// the key `after`.
async fn raw_query(app: &TestApp, org: &str, prefix: &str, after: Option<&str>, n: usize) -> Duration {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let start = after.map(|sk| {
            std::collections::HashMap::from([
                ("PK".to_owned(), S(format!("ORG#{org}"))),
                ("SK".to_owned(), S(sk.to_owned())),
            ])
        });
        let started = Instant::now();
        app.dynamo
            .query()
            .table_name(app.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
            .expression_attribute_values(":pk", S(format!("ORG#{org}")))
            .expression_attribute_values(":p", S(prefix.to_owned()))
            .consistent_read(true)
            .limit(51)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("query");
        samples.push(started.elapsed());
    }
    quantile(&samples, 0.5)
}

/// Member `i` of [`seed_members`]: `seed00000`, ..., no name or address, joined at `now`.
pub fn seed_member(i: usize, now: Timestamp) -> Member {
    let user = UserId::parse(&format!("seed{i:05}")).expect("user id");
    Member::joining(user, None, None, Role::Member, now, None, Default::default())
}

/// Writes `count` members (`seed00000`, ...) straight into `org` with their index items
/// (what lists them), 25 items to a batch, 8 batches in flight.
pub async fn seed_members(app: &TestApp, org: &str, count: usize) {
    let now = Timestamp::now();
    write_members(app, org, (0..count).map(|i| seed_member(i, now)).collect(), 8).await;
}

/// Writes `members` straight into `org`: each membership and its index items, as the
/// membership's transactions would, with BatchWriteItem (25 items each, `in_flight` at a
/// time, unprocessed items sent again). Returns the number of items written.
pub async fn write_members(app: &TestApp, org: &str, members: Vec<Member>, in_flight: usize) -> usize {
    write_members_to(&app.dynamo, app.table(), org, members, in_flight).await
}

/// [`write_members`] into any table (the browser tests' seeding binary, `seed-members`).
pub async fn write_members_to(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    org: &str,
    members: Vec<Member>,
    in_flight: usize,
) -> usize {
    let org = OrgId::parse(org).expect("org id");
    let writes: Vec<WriteRequest> = members
        .iter()
        .flat_map(|member| {
            std::iter::once(roster::store::members::member_item(&org, member))
                .chain(roster::store::member_index::index_items(&org, member).into_values())
        })
        .map(|item| {
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().expect("item"))
                .build()
        })
        .collect();
    let written = writes.len();
    write_items(dynamo, table, writes, in_flight).await;
    written
}

/// Sends `writes` with BatchWriteItem, 25 to a request, `in_flight` requests at a time,
/// unprocessed items sent again.
pub async fn write_items(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    writes: Vec<WriteRequest>,
    in_flight: usize,
) {
    let batches: Vec<Vec<WriteRequest>> = writes.chunks(25).map(<[WriteRequest]>::to_vec).collect();
    futures::stream::iter(batches)
        .for_each_concurrent(in_flight, |batch| async move {
            let mut pending = batch;
            while !pending.is_empty() {
                let out = dynamo
                    .batch_write_item()
                    .request_items(table, pending)
                    .send()
                    .await
                    .expect("BatchWriteItem");
                pending = out.unprocessed_items.and_then(|mut u| u.remove(table)).unwrap_or_default();
            }
        })
        .await;
}

/// The run an unfiltered list by name reads (its key prefix), and the key of seeded member
/// `i` in it: where a page after that member starts (the list's cursor is the part of
/// that key after the prefix). Taken from the index items themselves: the by-name item of
/// the widest run (the shortest prefix; seeded members have an empty sort name).
fn seed_name_key(org: &str, i: usize) -> (String, String) {
    let org = OrgId::parse(org).expect("org id");
    let key = roster::store::member_index::index_items(&org, &seed_member(i, Timestamp::now()))
        .into_keys()
        .filter(|sk| sk.starts_with("MS#N#"))
        .min_by_key(String::len)
        .expect("a by-name index item");
    let prefix = key[..=key.rfind('#').expect("a run prefix")].to_owned();
    (prefix, key)
}

async fn time_get(app: &TestApp, owner: &crate::harness::User, path: &str, n: usize) -> Duration {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let r = app.call(Some(owner), "GET", path, None).await;
        samples.push(started.elapsed());
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
    }
    quantile(&samples, 0.5)
}

pub async fn run(app: &TestApp, reps: usize) -> Scale {
    let owner = app.user("scale-owner");
    let invite = |size: usize, round: usize| {
        let addresses: Vec<_> =
            (0..size).map(|i| json!({ "email": app.email(&format!("s{size}r{round}i{i}")) })).collect();
        json!({ "invitations": addresses })
    };
    let org = app.create_org(&owner, "Invites").await;
    let (mut tens, mut hundreds) = (Vec::new(), Vec::new());
    let (mut tx_10, mut tx_100) = (0, 0);
    for round in 0..reps {
        for (size, samples, tx) in [(10, &mut tens, &mut tx_10), (100, &mut hundreds, &mut tx_100)] {
            let body = invite(size, round);
            app.calls.take();
            let started = Instant::now();
            let r = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invitations"), Some(body)).await;
            samples.push(started.elapsed());
            assert_eq!(r.status, 200, "{:?}", r.body);
            let sent = app.calls.take();
            *tx = (*tx).max(sent.iter().filter(|c| *c == "DynamoDB.TransactWriteItems").count());
        }
    }

    let small = app.create_org(&owner, "Small").await;
    seed_members(app, &small, 10).await;
    let big = app.create_org(&owner, "Big").await;
    seed_members(app, &big, 10_000).await;
    // Walk to a late page once; the cursor then stays valid for repeated reads.
    let mut cursor = String::new();
    let mut offset = 0;
    while offset < 9_900 {
        let path = format!("/orgs/{big}/members?limit=100{cursor}");
        let page = app.call(Some(&owner), "GET", &path, None).await;
        cursor = format!("&cursor={}", page.body["nextCursor"].as_str().expect("more pages"));
        offset += 100;
    }
    // The bare rows read the same run from the start and from past the 9,900th member
    // (`seed09899`: the owner, named, sorts after every unnamed seed), where the late page's
    // cursor points.
    let (run, late_key) = seed_name_key(&big, offset - 1);
    let n = reps * 20;
    let (mut raw_10, mut raw_100) = (Vec::new(), Vec::new());
    for round in 0..reps {
        raw_10.push(raw_transactions(app, 10, round).await);
        raw_100.push(raw_transactions(app, 100, round).await);
    }
    Scale {
        raw_tx_10: quantile(&raw_10, 0.5),
        raw_tx_100: quantile(&raw_100, 0.5),
        raw_first_query: raw_query(app, &big, &run, None, n).await,
        raw_late_query: raw_query(app, &big, &run, Some(&late_key), n).await,
        invite_10: quantile(&tens, 0.5),
        invite_100: quantile(&hundreds, 0.5),
        tx_10,
        tx_100,
        small_first_page: time_get(app, &owner, &format!("/orgs/{small}/members?limit=50"), n).await,
        big_first_page: time_get(app, &owner, &format!("/orgs/{big}/members?limit=50"), n).await,
        big_late_page: time_get(app, &owner, &format!("/orgs/{big}/members?limit=50{cursor}"), n).await,
        late_page_offset: offset,
    }
}

pub fn markdown(s: &Scale) -> String {
    format!(
        "| Measure | p50 ms | Ratio | Transactions |\n|---|---|---|---|\n\
         | invite, batch of 10 | {} | 1.0× | {} |\n\
         | invite, batch of 100 | {} | {:.1}× the batch of 10 (target ≤ 3×) | {} |\n\
         | members, first page of 50, 10-member org | {} | 1.0× | |\n\
         | members, first page of 50, 10,000-member org | {} | {:.2}× | |\n\
         | members, page of 50 after {} members, 10,000-member org | {} | {:.2}× | |\n\n\
         The same shapes against DynamoDB Local without Roster, to tell its behaviour from ours:\n\n\
         | Bare DynamoDB Local | p50 ms | Ratio |\n|---|---|---|\n\
         | 10 transactions of 4 puts, 16 in flight | {} | 1.0× |\n\
         | 100 transactions of 4 puts, 16 in flight | {} | {:.1}× |\n\
         | Query of 51 index items (the list's run by name), first page, 10,000-member org | {} | 1.0× |\n\
         | Query of 51 index items after member 9,900 | {} | {:.2}× |\n",
        ms(s.invite_10),
        s.tx_10,
        ms(s.invite_100),
        s.invite_100.as_secs_f64() / s.invite_10.as_secs_f64(),
        s.tx_100,
        ms(s.small_first_page),
        ms(s.big_first_page),
        s.big_first_page.as_secs_f64() / s.small_first_page.as_secs_f64(),
        s.late_page_offset,
        ms(s.big_late_page),
        s.big_late_page.as_secs_f64() / s.small_first_page.as_secs_f64(),
        ms(s.raw_tx_10),
        ms(s.raw_tx_100),
        s.raw_tx_100.as_secs_f64() / s.raw_tx_10.as_secs_f64(),
        ms(s.raw_first_query),
        ms(s.raw_late_query),
        s.raw_late_query.as_secs_f64() / s.raw_first_query.as_secs_f64(),
    )
}
