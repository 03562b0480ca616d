//! Usage per member in tests (API.md "Usage per member"): records, reports by the
//! `roster/usage` service and their statuses, reads of the totals, and the organization the
//! usage tests and attacks start from.

use serde_json::{Value, json};

use crate::harness::{TestApp, TestResponse, User};

/// The service that reports: a listed client holding `roster/usage`.
pub const USAGE: (&str, &str) = ("dev-service", "roster/usage");

pub fn record(id: &str, user: &str, metric: &str, quantity: Value, at: &str) -> Value {
    json!({ "id": id, "userId": user, "metric": metric, "quantity": quantity, "at": at })
}

pub async fn report(app: &TestApp, org: &str, records: Value) -> TestResponse {
    let body = Some(json!({ "records": records }));
    app.call_as_service(USAGE.0, USAGE.1, "POST", &format!("/orgs/{org}/usage"), body).await
}

/// The statuses of a report that answered `200`.
pub async fn statuses(app: &TestApp, org: &str, records: Value) -> Vec<String> {
    status_list(&report(app, org, records).await)
}

/// The statuses of a report's answer, which must be `200`.
#[track_caller]
pub fn status_list(r: &TestResponse) -> Vec<String> {
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["results"].as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap().to_owned()).collect()
}

pub async fn totals(app: &TestApp, by: &User, org: &str, query: &str) -> TestResponse {
    app.call(Some(by), "GET", &format!("/orgs/{org}/usage?{query}"), None).await
}

/// `(key, total)` of a totals answer, which must be `200`.
#[track_caller]
pub fn by_key(r: &TestResponse, key: &str) -> Vec<(String, String)> {
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t[key].as_str().unwrap().to_owned(), t["total"].as_str().unwrap().to_owned()))
        .collect()
}

pub fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// An organization of `olivia` (owner), `ann` (member) and `sam` (member, suspended).
pub async fn setup(app: &TestApp) -> (User, String) {
    let olivia = app.user("olivia");
    let org = app.create_org(&olivia, "Acme").await;
    app.add_member(&olivia, &org, &app.user("ann"), "member").await;
    app.add_member(&olivia, &org, &app.user("sam"), "member").await;
    app.suspend(&olivia, &org, "sam").await;
    (olivia, org)
}
