//! Permission checks (`POST /authorize`): p50/p99 of a batch of 1 and of 100 checks beside a
//! bare `BatchGetItem` of the same keys in the same waves, the handler's own time, and
//! revocation: after a removal or a suspension has answered, no check from another function
//! instance may still say `allowed`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use roster::domain::{GroupId, OrgId, UserId, WorkspaceId};
use roster::store::keys;
use serde_json::{Value, json};

use super::{load_average, load_note, ms, quantile};
use crate::conflicts::ConflictProxy;
use crate::harness::{TestApp, TestResponse, User, call_app_with_claims, service_claims};

const SCOPE: &str = "roster/authorize";
const SERVICE: &str = "dev-service";

/// Time during which at least one DynamoDB request was on the wire (requests sent side by
/// side count once), and how many such stretches there were: the waves.
#[derive(Debug, Clone, Default)]
struct Busy(Arc<Mutex<BusyState>>);

#[derive(Debug, Default)]
struct BusyState {
    in_flight: usize,
    since: Option<Instant>,
    busy: Duration,
    waves: usize,
}

impl Busy {
    /// (wire time, waves) since the last call.
    fn take(&self) -> (Duration, usize) {
        let mut s = self.0.lock().expect("busy lock");
        let taken = (s.busy, s.waves);
        *s = BusyState::default();
        taken
    }
}

impl Intercept for Busy {
    fn name(&self) -> &'static str {
        "Busy"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut s = self.0.lock().expect("busy lock");
        if s.in_flight == 0 {
            s.since = Some(Instant::now());
            s.waves += 1;
        }
        s.in_flight += 1;
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        _context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut s = self.0.lock().expect("busy lock");
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.in_flight == 0 {
            if let Some(since) = s.since.take() {
                s.busy += since.elapsed();
            }
        }
        Ok(())
    }
}

type Key = (String, String);

/// One batch to time: its checks, and the keys of its reads, wave by wave.
struct Batch {
    case: &'static str,
    checks: Vec<Value>,
    waves: Vec<Vec<Key>>,
}

pub struct Timing {
    pub case: &'static str,
    pub checks: usize,
    pub requests: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub overhead_p50: Duration,
    pub overhead_p99: Duration,
    pub bare_p50: Duration,
    pub bare_p99: Duration,
    /// BatchGetItem requests of one batch, and in how many waves.
    pub batch_gets: usize,
    pub waves: usize,
    /// Batches whose requests or waves were not the bare reads' (a retry, for one).
    pub odd: usize,
    pub allowed: usize,
}

pub struct Revocation {
    pub count: usize,
    pub violations: usize,
    /// From the removal's (or suspension's) answer to the next check's answer.
    pub p50: Duration,
    pub p99: Duration,
    pub change_p50: Duration,
    pub races: usize,
    pub race_before: usize,
    pub race_after: usize,
    pub race_mixed: usize,
    /// (before, after) by the check's offset, in tenths of the revocation's p50.
    pub race_by_offset: [(usize, usize); 11],
    pub conflicts: Option<(u64, u64)>,
}

pub struct Report {
    pub timings: Vec<Timing>,
    pub revocation: Revocation,
    /// The machine's 1-minute load average when the section started and when it ended.
    pub load: (Option<f64>, Option<f64>),
}

async fn created(app: &TestApp, by: &User, path: &str, body: Value, key: &str) -> String {
    let r = app.call(Some(by), "POST", path, Some(body)).await;
    assert_eq!(r.status, 201, "{path}: {:?}", r.body);
    r.body[key]["id"].as_str().expect("id").to_owned()
}

async fn put(app: &TestApp, by: &User, path: &str, body: Value) {
    let r = app.call(Some(by), "PUT", path, Some(body)).await;
    assert!(r.status == 200 || r.status == 201, "PUT {path}: {:?}", r.body);
}

fn check_body(checks: &[Value]) -> Value {
    json!({ "checks": checks })
}

fn results(r: &TestResponse) -> &Vec<Value> {
    assert_eq!(r.status, 200, "authorize: {:?}", r.body);
    r.body["results"].as_array().expect("results")
}

fn allowed(r: &TestResponse) -> usize {
    results(r).iter().filter(|c| c["allowed"] == json!(true)).count()
}

/// A bare BatchGetItem wave: the keys, deduplicated, 100 to a request, side by side, as the
/// store sends them (strongly consistent). The items found.
async fn bare_wave(app: &TestApp, keys: &[Key]) -> usize {
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    let requests = keys.chunks(100).map(|chunk| {
        let keys = chunk
            .iter()
            .map(|(pk, sk)| {
                [
                    ("PK".to_owned(), AttributeValue::S(pk.clone())),
                    ("SK".to_owned(), AttributeValue::S(sk.clone())),
                ]
                .into_iter()
                .collect()
            })
            .collect();
        let request =
            KeysAndAttributes::builder().set_keys(Some(keys)).consistent_read(true).build().expect("keys");
        app.dynamo.batch_get_item().request_items(app.table(), request).send()
    });
    let out = futures::future::try_join_all(requests).await.expect("BatchGetItem");
    out.iter()
        .map(|o| {
            assert!(o.unprocessed_keys.as_ref().is_none_or(|u| u.is_empty()), "unprocessed keys");
            o.responses.as_ref().and_then(|r| r.get(app.table())).map_or(0, Vec::len)
        })
        .sum()
}

fn requests_of(waves: &[Vec<Key>]) -> usize {
    waves.iter().map(|w| w.iter().collect::<BTreeSet<_>>().len().div_ceil(100)).sum()
}

/// Times `n` calls of `batch` through the handler, each followed by the bare reads of its keys.
async fn time(app: &TestApp, busy: &Busy, batch: &Batch, n: usize) -> Timing {
    let (mut totals, mut overheads, mut bare) = (Vec::new(), Vec::new(), Vec::new());
    let (mut batch_gets, mut waves, mut found, mut odd) = (0, 0, 0, 0);
    let expected = requests_of(&batch.waves);
    let body = check_body(&batch.checks);
    for _ in 0..n {
        app.calls.take();
        busy.take();
        let started = Instant::now();
        let r = app.call_as_service(SERVICE, SCOPE, "POST", "/authorize", Some(body.clone())).await;
        let total = started.elapsed();
        let (wire, w) = busy.take();
        found = allowed(&r);
        assert_eq!(results(&r).len(), batch.checks.len());
        totals.push(total);
        overheads.push(total.saturating_sub(wire));
        let calls = app.calls.take();
        let gets = calls.iter().filter(|c| *c == "DynamoDB.BatchGetItem").count();
        if gets != expected || w != batch.waves.len() {
            eprintln!(
                "{}: {gets} BatchGetItem in {w} waves, not {expected} in {}: {calls:?}",
                batch.case,
                batch.waves.len()
            );
            odd += 1;
        } else {
            (batch_gets, waves) = (gets, w);
        }

        let started = Instant::now();
        for wave in &batch.waves {
            bare_wave(app, wave).await;
        }
        bare.push(started.elapsed());
    }
    assert!(odd * 100 <= n, "{}: {odd} of {n} batches not read as the bare reads are", batch.case);
    Timing {
        case: batch.case,
        checks: batch.checks.len(),
        requests: n,
        p50: quantile(&totals, 0.5),
        p99: quantile(&totals, 0.99),
        overhead_p50: quantile(&overheads, 0.5),
        overhead_p99: quantile(&overheads, 0.99),
        bare_p50: quantile(&bare, 0.5),
        bare_p99: quantile(&bare, 0.99),
        batch_gets,
        waves,
        odd,
        allowed: found,
    }
}

fn id<T>(parse: fn(&str) -> Option<T>, raw: &str) -> T {
    parse(raw).expect("an id Roster minted")
}

/// One organization of 100 members, 5 workspaces and 4 groups (each granted two workspaces):
/// half the checks org-scope, half workspace-scope (a third of those members in groups, a
/// third direct members of the workspace, a third neither). The batches to time: one check
/// of each scope, and the 100.
async fn setup(app: &TestApp) -> Vec<Batch> {
    let owner = app.user("az-owner");
    let org = app.create_org(&owner, "Checks").await;
    let members: Vec<User> = (0..100).map(|i| app.user(&format!("az-m{i}"))).collect();
    for (i, m) in members.iter().enumerate() {
        app.add_member(&owner, &org, m, ["member", "viewer", "member", "admin"][i % 4]).await;
    }
    let mut workspaces = Vec::new();
    for w in 0..5 {
        let path = format!("/orgs/{org}/workspaces");
        workspaces.push(created(app, &owner, &path, json!({ "name": format!("W{w}") }), "workspace").await);
    }
    let mut groups = Vec::new();
    for g in 0..4 {
        let path = format!("/orgs/{org}/groups");
        let group = created(app, &owner, &path, json!({ "name": format!("G{g}") }), "group").await;
        for (ws, role) in [(&workspaces[g], "member"), (&workspaces[g + 1], "viewer")] {
            put(app, &owner, &format!("/orgs/{org}/workspaces/{ws}/groups/{group}"), json!({ "role": role }))
                .await;
        }
        groups.push(group);
    }
    // The groups of each member (in the order they joined: the membership keeps them so).
    let mut member_groups: Vec<Vec<usize>> = vec![Vec::new(); members.len()];
    for i in 50..100 {
        let ws = &workspaces[i % 5];
        match i % 3 {
            0 => {
                member_groups[i].push(i % 4);
                if i % 6 == 0 {
                    member_groups[i].push((i + 1) % 4);
                }
            }
            1 => {
                let path = format!("/orgs/{org}/workspaces/{ws}/members/{}", members[i].sub);
                put(app, &owner, &path, json!({ "role": "member" })).await;
            }
            _ => {}
        }
        for g in &member_groups[i] {
            put(
                app,
                &owner,
                &format!("/orgs/{org}/groups/{}/members/{}", groups[*g], members[i].sub),
                json!({}),
            )
            .await;
        }
    }

    let org_id = id(OrgId::parse, &org);
    let pk = keys::org(&org_id);
    let org_scope = ["reports:read", "settings:read", "billing:read", "settings:manage"];
    let ws_scope = ["projects:read", "projects:write"];
    let check = |i: usize| -> (Value, Vec<Key>, Vec<Key>) {
        let user = id(UserId::parse, &members[i].sub);
        let mut first = vec![(pk.clone(), keys::ORG_SK.to_owned()), (pk.clone(), keys::member(&user))];
        let mut second = Vec::new();
        if i < 50 {
            let c = json!({ "userId": members[i].sub, "orgId": org, "permission": org_scope[i % 4] });
            return (c, first, second);
        }
        let ws_raw = &workspaces[i % 5];
        let ws = id(WorkspaceId::parse, ws_raw);
        first.push((pk.clone(), keys::workspace(&ws)));
        first.push((pk.clone(), keys::workspace_member(&ws, &user)));
        for g in &member_groups[i] {
            let group = id(GroupId::parse, &groups[*g]);
            second.push((pk.clone(), keys::workspace_grant(&ws, &group)));
            second.push((pk.clone(), keys::group(&group)));
        }
        let c = json!({ "userId": members[i].sub, "orgId": org, "permission": ws_scope[i % 2], "workspaceId": ws_raw });
        (c, first, second)
    };
    let batch = |case: &'static str, of: &[usize]| {
        let (mut checks, mut first, mut second) = (Vec::new(), Vec::new(), Vec::new());
        for &i in of {
            let (c, f, s) = check(i);
            checks.push(c);
            first.extend(f);
            second.extend(s);
        }
        let waves = if second.is_empty() { vec![first] } else { vec![first, second] };
        Batch { case, checks, waves }
    };
    let in_group = (50..100).find(|i| i % 3 == 0 && i % 6 != 0).expect("a member in one group");
    let all: Vec<usize> = (0..100).collect();
    vec![
        batch("1 check, org scope", &[0]),
        batch("1 check, workspace through a group", &[in_group]),
        batch("100 checks: 100 members, half org, half workspace scope", &all),
    ]
}

/// The checks a revoked member must lose: an org-scope one and a workspace-scope one that
/// holds through a group.
fn revocable(org: &str, ws: &str, user: &User) -> Value {
    check_body(&[
        json!({ "userId": user.sub, "orgId": org, "permission": "reports:read" }),
        json!({ "userId": user.sub, "orgId": org, "permission": "projects:read", "workspaceId": ws }),
    ])
}

async fn revoke(app: &TestApp, owner: &User, org: &str, user: &User, remove: bool) -> TestResponse {
    let path = format!("/orgs/{org}/members/{}", user.sub);
    let r = if remove {
        app.call(Some(owner), "DELETE", &path, None).await
    } else {
        app.call(Some(owner), "PATCH", &path, Some(json!({ "status": "suspended" }))).await
    };
    assert!(r.status < 300, "revoke {}: {} {:?}", user.sub, r.status, r.body);
    r
}

/// `count` revocations (removals and suspensions, alternately), each followed at once by a
/// check from a second function instance, then `races` revocations sent together with a
/// check. Conflict emulation as the harness has it.
async fn revocation(app: &TestApp, count: usize, races: usize) -> Revocation {
    let second = app.second_instance().await;
    let service = service_claims(SERVICE, SCOPE);
    let owner = app.user("rv-owner");
    let org = app.create_org(&owner, "Revocation").await;
    let ws = created(app, &owner, &format!("/orgs/{org}/workspaces"), json!({ "name": "Site" }), "workspace")
        .await;
    let group =
        created(app, &owner, &format!("/orgs/{org}/groups"), json!({ "name": "Crew" }), "group").await;
    put(app, &owner, &format!("/orgs/{org}/workspaces/{ws}/groups/{group}"), json!({ "role": "member" }))
        .await;
    let join = |user: User| {
        let (org, group, owner) = (&org, &group, &owner);
        async move {
            app.add_member(owner, org, &user, "member").await;
            put(app, owner, &format!("/orgs/{org}/groups/{group}/members/{}", user.sub), json!({})).await;
            user
        }
    };
    let ask = |body: Value| {
        let (second, service) = (&second, &service);
        async move { call_app_with_claims(second, Some(service), "POST", "/authorize", Some(body)).await }
    };
    // Suspended members come back for the next round; removed ones are new each time.
    let pool: Vec<User> = {
        let mut pool = Vec::new();
        for i in 0..8 {
            pool.push(join(app.user(&format!("rv-s{i}"))).await);
        }
        pool
    };
    let reactivate = |user: &User| {
        let path = format!("/orgs/{org}/members/{}", user.sub);
        let owner = &owner;
        async move {
            let r = app.call(Some(owner), "PATCH", &path, Some(json!({ "status": "active" }))).await;
            assert_eq!(r.status, 200, "reactivate: {:?}", r.body);
        }
    };
    let before_stats = ConflictProxy::shared().map(|p| p.table_stats(app.table()));

    let (mut gaps, mut changes, mut violations) = (Vec::new(), Vec::new(), 0);
    for i in 0..count {
        let remove = i % 2 == 0;
        let user = if remove {
            join(app.user(&format!("rv-r{i}"))).await
        } else {
            pool[(i / 2) % pool.len()].clone()
        };
        let body = revocable(&org, &ws, &user);
        // The other instance has seen the member allowed.
        assert_eq!(allowed(&ask(body.clone()).await), 2, "before the revocation of {}", user.sub);
        let started = Instant::now();
        revoke(app, &owner, &org, &user, remove).await;
        let answered = Instant::now();
        let r = ask(body).await;
        gaps.push(answered.elapsed());
        changes.push(answered - started);
        violations += allowed(&r);
        if !remove {
            reactivate(&user).await;
        }
    }

    let changes_p50 = quantile(&changes, 0.5);
    let (mut race_before, mut race_after, mut race_mixed) = (0, 0, 0);
    let mut by_offset = [(0, 0); 11];
    for i in 0..races {
        let remove = i % 2 == 0;
        let user = if remove {
            join(app.user(&format!("rv-x{i}"))).await
        } else {
            pool[(i / 2) % pool.len()].clone()
        };
        let body = revocable(&org, &ws, &user);
        assert_eq!(allowed(&ask(body.clone()).await), 2, "before the race for {}", user.sub);
        // At once, or later by up to a revocation's p50, in tenths: the check lands before,
        // inside and after the revocation's writes.
        let offset = changes_p50.mul_f64((i % 11) as f64 / 10.0);
        let later = async {
            // Finer than a timer's millisecond: yield until the offset has passed.
            let until = Instant::now() + offset;
            while Instant::now() < until {
                tokio::task::yield_now().await;
            }
            ask(body).await
        };
        let (_, r) = tokio::join!(revoke(app, &owner, &org, &user, remove), later);
        let step = &mut by_offset[i % 11];
        match allowed(&r) {
            2 => {
                race_before += 1;
                step.0 += 1;
            }
            0 => {
                race_after += 1;
                step.1 += 1;
            }
            _ => race_mixed += 1,
        }
        if !remove {
            reactivate(&user).await;
        }
    }
    let conflicts = ConflictProxy::shared().zip(before_stats).map(|(p, before)| {
        let now = p.table_stats(app.table());
        (
            now.transaction_attempts() - before.transaction_attempts(),
            now.transactions_cancelled - before.transactions_cancelled,
        )
    });
    Revocation {
        count,
        violations,
        p50: quantile(&gaps, 0.5),
        p99: quantile(&gaps, 0.99),
        change_p50: changes_p50,
        races,
        race_before,
        race_after,
        race_mixed,
        race_by_offset: by_offset,
        conflicts,
    }
}

/// The whole section: `requests` timed calls per batch, `revocations` revocations and a fifth
/// as many races (at least 10).
pub async fn run(requests: usize, revocations: usize) -> Report {
    let load_before = load_average();
    let mut app = TestApp::spawn().await;
    let batches = setup(&app).await;
    // Set up through the conflict proxy; timed straight against DynamoDB Local, as the bare
    // reads are (checks write nothing, so the proxy has nothing to judge in them).
    let busy = Busy::default();
    let direct =
        app.dynamo.config().to_builder().interceptor(app.calls.clone()).interceptor(busy.clone()).build();
    app.app.store = roster::store::Store::new(aws_sdk_dynamodb::Client::from_conf(direct), app.table());
    let mut timings = Vec::new();
    for b in &batches {
        timings.push(time(&app, &busy, b, requests).await);
    }
    assert_eq!(timings[1].allowed, 1, "the group's grant allows the workspace check");
    let revocation = revocation(&TestApp::spawn().await, revocations, (revocations / 5).max(10)).await;
    Report { timings, revocation, load: (load_before, load_average()) }
}

pub fn markdown(report: &Report) -> String {
    let mut out = String::from(
        "`POST /authorize` as a service holding `roster/authorize`, requests in sequence through \
         the handler, each followed by a bare `BatchGetItem` of the same keys (deduplicated, 100 \
         to a request, side by side within a wave, strongly consistent) in the same waves, sent \
         with the SDK client against the same table. Both go straight to DynamoDB Local here \
         (checks write nothing for the conflict proxy to judge). Overhead is the handler's time \
         less the time a DynamoDB request was on the wire (requests side by side counted once). \
         The 100 checks: 100 members of one organization, 50 org-scope checks, 50 \
         workspace-scope checks over 5 workspaces (a third of those members in groups granted \
         the workspace, a third direct members of it, a third neither). Goal: ≤ 1.5× the bare \
         reads.\n\n\
         | Batch | Requests | p50 / p99 ms | Overhead p50 / p99 ms | Bare BatchGetItem p50 / p99 ms | p50 ratio | p99 ratio | BatchGetItem requests (waves) | Allowed |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for t in &report.timings {
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
        out.push_str(&format!(
            "| {} | {} | {} / {} | {} / {} | {} / {} | {:.2} | {:.2} | {} ({}) | {} of {} |\n",
            t.case,
            t.requests,
            ms(t.p50),
            ms(t.p99),
            ms(t.overhead_p50),
            ms(t.overhead_p99),
            ms(t.bare_p50),
            ms(t.bare_p99),
            ratio(t.p50, t.bare_p50),
            ratio(t.p99, t.bare_p99),
            t.batch_gets,
            t.waves,
            t.allowed,
            t.checks,
        ));
    }
    for t in report.timings.iter().filter(|t| t.odd > 0) {
        out.push_str(&format!(
            "\n{}: {} of {} batches were not read in the requests and waves above (a retry, for one).\n",
            t.case, t.odd, t.requests
        ));
    }
    out.push_str(&load_note(report.load));
    let r = &report.revocation;
    let conflicts = match r.conflicts {
        Some((attempts, cancelled)) => format!(
            "Conflict emulation on: this phase's writes (the joins before each removal \
             included) made {attempts} transaction attempts, {cancelled} cancelled for conflict."
        ),
        None => "Conflict emulation was off (`ROSTER_TEST_CONFLICTS=off`).".to_owned(),
    };
    out.push_str(&format!(
        "\n### Revocation\n\n\
         {count} revocations, removals and suspensions alternately, of members holding an \
         org-scope permission and a workspace permission through a group. Before each, a second \
         function instance (its own DynamoDB client) checks both and is allowed; as soon as the \
         removal or suspension has answered 2xx, it checks again. {conflicts}\n\n\
         | Revocations | Checks still allowed after the 2xx | Revocation's answer to the check's answer p50 / p99 ms | Revocation p50 ms |\n\
         |---|---|---|---|\n\
         | {count} | {violations} | {p50} / {p99} | {change} |\n\n\
         Raced: {races} revocations, each sent together with a check from the second instance, \
         the check at once or later by up to the revocation's p50 (0, 10%, ... 100% of it, in \
         turn). Both answers are valid; the check saw the member before the revocation {before} times and \
         after it {after} times ({mixed} answers mixed one with the other). Before / after by \
         the check's offset: {steps}.\n",
        count = r.count,
        violations = r.violations,
        p50 = ms(r.p50),
        p99 = ms(r.p99),
        change = ms(r.change_p50),
        races = r.races,
        before = r.race_before,
        after = r.race_after,
        mixed = r.race_mixed,
        steps = r
            .race_by_offset
            .iter()
            .enumerate()
            .map(|(k, (b, a))| format!("{}% {b} / {a}", k * 10))
            .collect::<Vec<_>>()
            .join(", "),
    ));
    out
}
