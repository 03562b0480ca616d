//! Workspaces at scale: a member of a 1,000-workspace organization who reaches 200 of them
//! through 20 groups lists their workspaces and reads their access to one, against the same
//! in an organization of one workspace that they belong to directly. p50 and p99, and the
//! ratio, from one run.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{ms, quantile};
use crate::harness::{TestApp, User};

pub struct Row {
    pub case: &'static str,
    pub small: (Duration, Duration),
    pub large: (Duration, Duration),
    pub dynamodb_small: usize,
    pub dynamodb_large: usize,
}

async fn created(app: &TestApp, by: &User, path: &str, body: serde_json::Value, key: &str) -> String {
    let r = app.call(Some(by), "POST", path, Some(body)).await;
    assert_eq!(r.status, 201, "{path}: {:?}", r.body);
    r.body[key]["id"].as_str().expect("id").to_owned()
}

/// Times `requests` calls of `path` by `user`: (p50, p99) and the DynamoDB requests of one.
async fn time(app: &TestApp, user: &User, path: &str, requests: usize) -> ((Duration, Duration), usize) {
    let mut samples = Vec::with_capacity(requests);
    let mut calls = 0;
    for _ in 0..requests {
        app.calls.take();
        let started = Instant::now();
        let r = app.call(Some(user), "GET", path, None).await;
        samples.push(started.elapsed());
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        calls = app.calls.take().iter().filter(|c| c.starts_with("DynamoDB.")).count();
    }
    ((quantile(&samples, 0.5), quantile(&samples, 0.99)), calls)
}

pub async fn run(
    app: &TestApp,
    workspaces: usize,
    groups: usize,
    per_group: usize,
    requests: usize,
) -> Vec<Row> {
    let owner = app.user("ws-owner");
    let (member, small_member) = (app.user("ws-member"), app.user("ws-small"));

    let large = app.create_org(&owner, "Large").await;
    app.add_member(&owner, &large, &member, "member").await;
    let mut ids = Vec::with_capacity(workspaces);
    for i in 0..workspaces {
        let body = json!({ "name": format!("Workspace {i}") });
        ids.push(created(app, &owner, &format!("/orgs/{large}/workspaces"), body, "workspace").await);
    }
    for g in 0..groups {
        let body = json!({ "name": format!("Group {g}") });
        let group = created(app, &owner, &format!("/orgs/{large}/groups"), body, "group").await;
        let path = format!("/orgs/{large}/groups/{group}/members/{}", member.sub);
        assert_eq!(app.call(Some(&owner), "PUT", &path, None).await.status, 201);
        for ws in &ids[g * per_group..(g + 1) * per_group] {
            let path = format!("/orgs/{large}/workspaces/{ws}/groups/{group}");
            let r = app.call(Some(&owner), "PUT", &path, Some(json!({ "role": "member" }))).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
        }
    }
    let small = app.create_org(&owner, "Small").await;
    app.add_member(&owner, &small, &small_member, "member").await;
    let one =
        created(app, &owner, &format!("/orgs/{small}/workspaces"), json!({ "name": "Only" }), "workspace")
            .await;
    let path = format!("/orgs/{small}/workspaces/{one}/members/{}", small_member.sub);
    assert_eq!(app.call(Some(&owner), "PUT", &path, Some(json!({}))).await.status, 201);

    let reached = &ids[groups * per_group / 2];
    let mut rows = Vec::new();
    for (case, small_path, large_path) in [
        (
            "a member's workspaces",
            format!("/orgs/{small}/members/{}/workspaces", small_member.sub),
            format!("/orgs/{large}/members/{}/workspaces", member.sub),
        ),
        (
            "their access to one workspace",
            format!("/orgs/{small}/workspaces/{one}"),
            format!("/orgs/{large}/workspaces/{reached}"),
        ),
    ] {
        let (small_times, dynamodb_small) = time(app, &small_member, &small_path, requests).await;
        let (large_times, dynamodb_large) = time(app, &member, &large_path, requests).await;
        rows.push(Row { case, small: small_times, large: large_times, dynamodb_small, dynamodb_large });
    }
    let listed = app
        .call(Some(&member), "GET", &format!("/orgs/{large}/members/{}/workspaces", member.sub), None)
        .await;
    assert_eq!(listed.body["workspaces"].as_array().map_or(0, Vec::len), groups * per_group);
    rows
}

pub fn markdown(rows: &[Row], (workspaces, groups, per_group): (usize, usize, usize)) -> String {
    let mut out = format!(
        "A member of an organization of {workspaces} workspaces, in {groups} groups each granted \
         {per_group} workspaces ({} in all), against a member of an organization of one workspace, \
         added directly. Requests in sequence through the handlers, DynamoDB requests counted.\n\n\
         | Case | 1 workspace p50 / p99 ms | {workspaces} workspaces p50 / p99 ms | p50 ratio | DynamoDB requests (1 / {workspaces}) |\n\
         |---|---|---|---|---|\n",
        groups * per_group
    );
    for r in rows {
        let ratio = r.large.0.as_secs_f64() / r.small.0.as_secs_f64().max(1e-9);
        out.push_str(&format!(
            "| {} | {} / {} | {} / {} | {ratio:.2} | {} / {} |\n",
            r.case,
            ms(r.small.0),
            ms(r.small.1),
            ms(r.large.0),
            ms(r.large.1),
            r.dynamodb_small,
            r.dynamodb_large
        ));
    }
    out.push_str(
        "\nListing 200 workspaces reached through 20 groups is one query per group and one for \
         the direct memberships, side by side, then one BatchGetItem per 100 workspaces: the \
         work grows with what the member can reach, not with the organization. Reading the \
         access to one workspace reads the membership, the workspace and the direct \
         membership, then the workspace's grants to the member's 20 groups and those groups: \
         two waves whatever the organization's size.\n",
    );
    out
}
