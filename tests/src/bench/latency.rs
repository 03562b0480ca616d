//! p50/p99 per route through the handlers, against DynamoDB Local and the SES emulator, next
//! to a bare GetItem measured in the same run. Overhead is a request's total time less the
//! time its SDK requests spent on the wire (signing, serialising, routing and our own code).

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use super::{ms, quantile};
use crate::harness::{TestApp, User};

pub struct Timing {
    pub route: &'static str,
    pub requests: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub overhead_p50: Duration,
}

struct Request {
    user: User,
    method: &'static str,
    path: String,
    body: Option<Value>,
}

async fn time(app: &TestApp, route: &'static str, requests: Vec<Request>) -> Timing {
    let (mut totals, mut overheads) = (Vec::new(), Vec::new());
    for r in &requests {
        app.calls.take();
        app.calls.take_wire_time();
        let started = Instant::now();
        let response = app.call(Some(&r.user), r.method, &r.path, r.body.clone()).await;
        let total = started.elapsed();
        assert!(response.status < 300, "{route}: {} {:?}", response.status, response.body);
        totals.push(total);
        overheads.push(total.saturating_sub(app.calls.take_wire_time()));
    }
    Timing {
        route,
        requests: requests.len(),
        p50: quantile(&totals, 0.5),
        p99: quantile(&totals, 0.99),
        overhead_p50: quantile(&overheads, 0.5),
    }
}

/// The p50 of a bare, consistent GetItem of an existing item.
pub async fn bare_get_item(app: &TestApp, n: usize) -> Duration {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        app.dynamo
            .get_item()
            .table_name(app.table())
            .key("PK", AttributeValue::S("BENCH".into()))
            .key("SK", AttributeValue::S("ITEM".into()))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem");
        samples.push(started.elapsed());
    }
    quantile(&samples, 0.5)
}

pub async fn run(app: &TestApp, n: usize) -> (Vec<Timing>, Duration) {
    app.dynamo
        .put_item()
        .table_name(app.table())
        .item("PK", AttributeValue::S("BENCH".into()))
        .item("SK", AttributeValue::S("ITEM".into()))
        .send()
        .await
        .expect("PutItem");
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Latency").await;
    let link = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), None).await;
    let token = link.body["link"]["token"].as_str().expect("token").to_owned();
    let users: Vec<User> = (0..n).map(|i| app.user(&format!("u{i}"))).collect();
    let req = |user: &User, method, path: String, body| Request { user: user.clone(), method, path, body };
    let same = |method: &'static str, path: String, body: Option<Value>| -> Vec<Request> {
        (0..n).map(|_| req(&owner, method, path.clone(), body.clone())).collect()
    };
    let mut timings = Vec::new();
    let accepts = users
        .iter()
        .map(|u| req(u, "POST", "/invitations/accept".into(), Some(json!({ "token": token }))))
        .collect();
    timings.push(time(app, "POST /invitations/accept (link)", accepts).await);
    timings.push(
        time(
            app,
            "POST /invitations/preview",
            same("POST", "/invitations/preview".into(), Some(json!({ "token": token }))),
        )
        .await,
    );
    timings
        .push(time(app, "POST /orgs", same("POST", "/orgs".into(), Some(json!({ "name": "Bench" })))).await);
    timings.push(time(app, "GET /orgs/{orgId}", same("GET", format!("/orgs/{org}"), None)).await);
    timings.push(
        time(app, "GET /orgs/{orgId}/members", same("GET", format!("/orgs/{org}/members"), None)).await,
    );
    timings.push(time(app, "GET /orgs/{orgId}/audit", same("GET", format!("/orgs/{org}/audit"), None)).await);
    let changes = users
        .iter()
        .map(|u| {
            req(&owner, "PATCH", format!("/orgs/{org}/members/{}", u.sub), Some(json!({ "role": "member" })))
        })
        .collect();
    timings.push(time(app, "PATCH /orgs/{orgId}/members/{userId}", changes).await);
    let invites = (0..n)
        .map(|i| {
            req(
                &owner,
                "POST",
                format!("/orgs/{org}/invitations"),
                Some(json!({ "invitations": [{ "email": app.email(&format!("inv{i}")) }] })),
            )
        })
        .collect();
    timings.push(time(app, "POST /orgs/{orgId}/invitations (1 address, with SES)", invites).await);
    let removals =
        users.iter().map(|u| req(&owner, "DELETE", format!("/orgs/{org}/members/{}", u.sub), None)).collect();
    timings.push(time(app, "DELETE /orgs/{orgId}/members/{userId}", removals).await);
    (timings, bare_get_item(app, n).await)
}

pub fn markdown(timings: &[Timing], get_item: Duration) -> String {
    let mut out = format!(
        "Bare DynamoDB Local `GetItem` p50: **{} ms** (same run).\n\n\
         | Route | Requests | p50 ms | p99 ms | p50 / GetItem p50 | Handler overhead p50 ms |\n|---|---|---|---|---|---|\n",
        ms(get_item)
    );
    for t in timings {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {:.1}× | {} |\n",
            t.route,
            t.requests,
            ms(t.p50),
            ms(t.p99),
            t.p50.as_secs_f64() / get_item.as_secs_f64().max(1e-9),
            ms(t.overhead_p50)
        ));
    }
    out
}
