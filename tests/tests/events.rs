//! Membership events: the audit items of the table's stream (DynamoDB Local's Streams API)
//! handed to the `events` handler as Lambda's event source would, published to a real
//! EventBridge implementation (moto's server) whose rule forwards to an SQS queue that the
//! test reads.

use std::time::{Duration, Instant};

use roster::handlers::events::{Publisher, handle};
use roster_tests::event_bus::{self, BusToQueue};
use roster_tests::harness::TestApp;
use roster_tests::streams;
use serde_json::{Value, json};

/// A bus of its own, with a rule forwarding every Roster event to a queue of its own.
struct Bus {
    publisher: Publisher,
    sqs: aws_sdk_sqs::Client,
    queue: String,
    failed: String,
}

async fn bus() -> Bus {
    let BusToQueue { publisher, sqs, queue } = event_bus::bus_to_queue("roster").await;
    let failed = event_bus::queue(&sqs, &format!("failed-{}", uuid::Uuid::new_v4().simple())).await;
    Bus { publisher, sqs, queue, failed }
}

impl Bus {
    /// The first `n` messages of `queue` (waiting a little for them), as JSON.
    async fn read(&self, queue: &str, n: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while out.len() < n && Instant::now() < deadline {
            let got = self
                .sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive");
            for message in got.messages() {
                out.push(serde_json::from_str(message.body().unwrap_or("null")).expect("a JSON message"));
                if let Some(handle) = message.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(queue)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .expect("delete");
                }
            }
            if got.messages().is_empty() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        out
    }

    /// Plays the event source mapping over `records`: batches of `batch`, `retries` retries,
    /// then the failure queue.
    async fn deliver(&self, records: &[Value], batch: usize, retries: u32) -> usize {
        streams::deliver(
            records,
            batch,
            retries,
            |event| handle(&self.publisher, event),
            |record| async move {
                let body = json!({ "record": record }).to_string();
                self.sqs
                    .send_message()
                    .queue_url(&self.failed)
                    .message_body(body)
                    .send()
                    .await
                    .expect("send");
            },
        )
        .await
    }
}

fn ids(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["detail"]["eventId"].as_str().unwrap_or("?").to_owned()).collect()
}

/// Every audit-writing route, in a row; returns the organization and its audit trail,
/// oldest first (read just before the organization is deleted, its last event).
async fn every_change(app: &TestApp) -> (String, Vec<Value>) {
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Events").await;
    let o = |p: &str| format!("/orgs/{org}{p}");
    let (bob, carol, erin) = (app.user("bob"), app.user("carol"), app.user("erin"));
    let invite = |who: &roster_tests::harness::User| json!({ "invitations": [{ "email": who.email }] });
    for who in [&bob, &carol, &erin] {
        assert_eq!(app.call(Some(&owner), "POST", &o("/invitations"), Some(invite(who))).await.status, 200);
    }
    let bob_token = app.token_mailed_to(bob.email.as_deref().unwrap()).await;
    app.call(Some(&bob), "POST", "/invitations/accept", Some(json!({ "token": bob_token }))).await;
    let carol_token = app.token_mailed_to(carol.email.as_deref().unwrap()).await;
    app.call(Some(&carol), "POST", "/invitations/decline", Some(json!({ "token": carol_token }))).await;
    let erins = app.call(Some(&owner), "GET", &o("/invitations"), None).await;
    // Carol's declined invitation is listed too (until it expires).
    let erin_id = erins.body["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == json!(erin.email))
        .and_then(|i| i["id"].as_str())
        .unwrap()
        .to_owned();
    app.call(Some(&owner), "POST", &o(&format!("/invitations/{erin_id}/resend")), None).await;
    app.call(Some(&owner), "DELETE", &o(&format!("/invitations/{erin_id}")), None).await;
    for change in
        [json!({ "role": "admin" }), json!({ "status": "suspended" }), json!({ "status": "active" })]
    {
        assert_eq!(app.call(Some(&owner), "PATCH", &o("/members/bob"), Some(change)).await.status, 200);
    }
    let link = app.call(Some(&owner), "POST", &o("/invite-links"), Some(json!({ "role": "member" }))).await;
    let (link_id, link_token) = (
        link.body["link"]["id"].as_str().unwrap().to_owned(),
        link.body["link"]["token"].as_str().unwrap().to_owned(),
    );
    let dave = app.user("dave");
    app.call(Some(&dave), "POST", "/invitations/accept", Some(json!({ "token": link_token }))).await;
    app.call(Some(&owner), "DELETE", &o(&format!("/invite-links/{link_id}")), None).await;
    // Boxed: the workspace and group routes' futures are large for a test thread's stack.
    Box::pin(workspace_and_group_changes(app, &owner, &org, "dave")).await;
    app.call(Some(&owner), "PATCH", &o(""), Some(json!({ "name": "Events Inc." }))).await;
    app.call(Some(&owner), "PATCH", &o("/members/dave"), Some(json!({ "metadata": { "team": "a" } }))).await;
    app.call(Some(&owner), "DELETE", &o("/members/dave"), None).await;
    app.call(Some(&owner), "POST", &o("/transfer-ownership"), Some(json!({ "userId": "bob" }))).await;
    app.call(Some(&owner), "DELETE", &o("/members/owner"), None).await; // leaves
    let mut trail = app.call(Some(&bob), "GET", &o("/audit?limit=100"), None).await.body["events"]
        .as_array()
        .unwrap()
        .clone();
    trail.reverse();
    assert_eq!(app.call(Some(&bob), "DELETE", &o(""), None).await.status, 204);
    (org, trail)
}

/// Every workspace and group action, and an invitation's workspaces and groups changed, with
/// `member` (an active member) as the one added and removed.
async fn workspace_and_group_changes(
    app: &TestApp,
    owner: &roster_tests::harness::User,
    org: &str,
    member: &str,
) {
    let o = |p: &str| format!("/orgs/{org}{p}");
    let call = |method: &'static str, path: String, body: Option<Value>| async move {
        let answer = Box::pin(app.call(Some(owner), method, &path, body)).await;
        assert!(answer.status < 300, "{method} {path}: {} {}", answer.status, answer.body);
        answer
    };
    let created = call("POST", o("/workspaces"), Some(json!({ "name": "Site" }))).await;
    let ws = created.body["workspace"]["id"].as_str().unwrap().to_owned();
    let w = |p: &str| o(&format!("/workspaces/{ws}{p}"));
    call("PATCH", w(""), Some(json!({ "description": "The public site" }))).await;
    let created = call("POST", o("/groups"), Some(json!({ "name": "Design" }))).await;
    let group = created.body["group"]["id"].as_str().unwrap().to_owned();
    let g = |p: &str| o(&format!("/groups/{group}{p}"));
    call("PATCH", g(""), Some(json!({ "name": "Designers" }))).await;
    let invite = json!({ "invitations": [{ "email": app.email("frank"), "workspaces": [{ "id": ws }] }] });
    let invited = call("POST", o("/invitations"), Some(invite)).await;
    let invitation = invited.body["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    call("PATCH", o(&format!("/invitations/{invitation}")), Some(json!({ "groups": [group] }))).await;
    call("DELETE", o(&format!("/invitations/{invitation}")), None).await;
    call("PUT", g(&format!("/members/{member}")), None).await;
    call("PUT", w(&format!("/members/{member}")), Some(json!({ "role": "viewer" }))).await;
    call("PUT", w(&format!("/members/{member}")), Some(json!({}))).await;
    call("PUT", w(&format!("/groups/{group}")), Some(json!({ "role": "member" }))).await;
    call("DELETE", w(&format!("/groups/{group}")), None).await;
    call("DELETE", w(&format!("/members/{member}")), None).await;
    call("DELETE", g(&format!("/members/{member}")), None).await;
    call("DELETE", g(""), None).await;
    call("DELETE", w(""), None).await;
}

#[tokio::test]
async fn every_change_is_published_once_in_order_with_what_changed() {
    let app = TestApp::spawn_with_stream().await;
    let bus = bus().await;
    let (org, trail) = every_change(&app).await;
    let records = streams::records(&app).await;
    let invocations = bus.deliver(&records, 100, 5).await;
    assert!(invocations >= 1);

    let published = bus.read(&bus.queue, trail.len() + 1).await;
    let actions: Vec<&str> = published.iter().map(|e| e["detail-type"].as_str().unwrap_or("?")).collect();
    let mut expected: Vec<&str> = trail.iter().map(|e| e["action"].as_str().unwrap()).collect();
    expected.push("org.deleted");
    assert_eq!(actions, expected, "one event per change, in the order of the changes");
    for action in [
        "org.created",
        "invitation.created",
        "invitation.accepted",
        "invitation.declined",
        "invitation.resent",
        "invitation.revoked",
        "member.role_changed",
        "member.suspended",
        "member.reactivated",
        "link.created",
        "link.revoked",
        "org.updated",
        "member.updated",
        "member.removed",
        "ownership.transferred",
        "member.left",
        "org.deleted",
        "invitation.updated",
        "workspace.created",
        "workspace.updated",
        "workspace.deleted",
        "workspace.member_added",
        "workspace.member_updated",
        "workspace.member_removed",
        "workspace.group_granted",
        "workspace.group_revoked",
        "group.created",
        "group.updated",
        "group.deleted",
        "group.member_added",
        "group.member_removed",
    ] {
        assert!(actions.contains(&action), "{action} was published");
    }
    assert_eq!(
        ids(&published[..trail.len()]),
        trail.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    );
    for event in &published {
        assert_eq!(event["source"], "roster");
        assert_eq!(event["detail"]["orgId"], json!(org));
        assert!(event["detail"]["time"].is_string() && event["detail"]["actor"].is_string());
    }
    let changed =
        |action: &str| published.iter().find(|e| e["detail-type"] == action).unwrap()["detail"].clone();
    let role = changed("member.role_changed");
    assert_eq!(
        (&role["target"], &role["before"], &role["after"]),
        (&json!("bob"), &json!({ "role": "member" }), &json!({ "role": "admin" }))
    );
    assert_eq!(changed("member.suspended")["after"], json!({ "role": "admin", "status": "suspended" }));
    assert_eq!(changed("member.removed")["after"], Value::Null);
    assert_eq!(changed("invitation.accepted")["after"]["status"], "active");
    // Nothing else arrives: no repeats, no invented events.
    assert!(bus.read(&bus.queue, 1).await.is_empty());

    // Each event's detail is what infra/events.schema.json says of its detail-type.
    let schemas = event_schemas();
    for event in &published {
        let action = event["detail-type"].as_str().unwrap();
        let schema = schemas.get(action).unwrap_or_else(|| panic!("no schema for {action}"));
        if let Err(e) = conforms(&event["detail"], schema) {
            panic!("{action}: {e}\n{}", event["detail"]);
        }
    }
}

/// infra/events.schema.json's schema of each detail-type; it lists exactly the audit
/// actions of the OpenAPI document.
fn event_schemas() -> serde_json::Map<String, Value> {
    let infra = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(infra.join("events.schema.json")).unwrap()).unwrap();
    let schemas = file["detailTypes"].as_object().expect("detailTypes").clone();
    let openapi: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(infra.join("openapi.yaml")).unwrap()).unwrap();
    let mut actions: Vec<String> = openapi["components"]["schemas"]["AuditAction"]["enum"]
        .as_sequence()
        .expect("AuditAction")
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    actions.sort();
    let mut listed: Vec<String> = schemas.keys().cloned().collect();
    listed.sort();
    assert_eq!(listed, actions, "infra/events.schema.json has a schema for every audit action, and no other");
    schemas
}

/// The JSON Schema keywords that file uses: `type`, `const`, `enum`, `required`,
/// `properties`, `additionalProperties: false`.
fn conforms(value: &Value, schema: &Value) -> Result<(), String> {
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !allowed.contains(&kind(value)) {
            return Err(format!("{value} is not of type {types}"));
        }
    }
    if let Some(constant) = schema.get("const").filter(|c| *c != value) {
        return Err(format!("{value} is not {constant}"));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array).filter(|o| !o.contains(value)) {
        return Err(format!("{value} is none of {options:?}"));
    }
    let Some(object) = value.as_object() else { return Ok(()) };
    for key in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
        if !object.contains_key(key.as_str().unwrap_or_default()) {
            return Err(format!("{key} is missing"));
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (key, item) in object {
        match properties.and_then(|p| p.get(key)) {
            Some(property) => conforms(item, property).map_err(|e| format!("{key}: {e}"))?,
            None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                return Err(format!("{key} is not allowed"));
            }
            None => {}
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_poison_record_goes_to_the_failure_queue_and_blocks_nothing_after_it() {
    let app = TestApp::spawn_with_stream().await;
    let bus = bus().await;
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Poison").await;
    for name in ["a", "b", "c", "d"] {
        let invite = json!({ "invitations": [{ "email": app.email(name) }] });
        app.call(Some(&owner), "POST", &format!("/orgs/{org}/invitations"), Some(invite)).await;
    }
    let mut records: Vec<Value> = streams::records(&app)
        .await
        .into_iter()
        .filter(|r| r["dynamodb"]["NewImage"]["type"]["S"] == "audit")
        .collect();
    assert_eq!(records.len(), 5);
    // An audit item no event can be made of, between the second and third.
    let mut poison = records[1].clone();
    poison["dynamodb"]["NewImage"]["action"] = json!({ "S": "no.such_action" });
    poison["dynamodb"]["SequenceNumber"] =
        json!(format!("{}5", records[1]["dynamodb"]["SequenceNumber"].as_str().unwrap()));
    records.insert(2, poison.clone());
    records.sort_by_key(streams::seq);

    bus.deliver(&records, 3, 2).await;
    let failed = bus.read(&bus.failed, 1).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["record"]["dynamodb"]["SequenceNumber"], poison["dynamodb"]["SequenceNumber"]);
    let published = bus.read(&bus.queue, 5).await;
    assert_eq!(published.len(), 5, "every good record, the ones after the poison too");
    let expected: Vec<String> = records
        .iter()
        .filter(|r| *r != &poison)
        .map(|r| r["dynamodb"]["NewImage"]["id"]["S"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids(&published), expected, "each once, in order");
    assert!(bus.read(&bus.queue, 1).await.is_empty());
}

/// EventBridge refusing some entries of a `PutEvents` (a partial failure): only those are
/// sent again, and every event arrives exactly once.
#[tokio::test]
async fn a_partial_failure_retries_only_the_refused_entries() {
    let app = TestApp::spawn_with_stream().await;
    let mut bus = bus().await;
    let proxy = roster_tests::entry_failures::EntryFailures::start(
        &std::env::var("AWS_ENDPOINT_URL_EVENTBRIDGE").expect("moto's EventBridge"),
    )
    .await;
    let sdk = roster::sdk::load_config().await;
    bus.publisher.client = aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::config::Builder::from(&sdk).endpoint_url(&proxy.endpoint).build(),
    );
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Partial").await;
    let batch: Vec<Value> = (0..11).map(|i| json!({ "email": app.email(&format!("p{i}")) })).collect();
    app.call(
        Some(&owner),
        "POST",
        &format!("/orgs/{org}/invitations"),
        Some(json!({ "invitations": batch })),
    )
    .await;
    let records = streams::records(&app).await;
    let audit: Vec<String> = records
        .iter()
        .filter(|r| r["dynamodb"]["NewImage"]["type"]["S"] == "audit")
        .map(|r| r["dynamodb"]["NewImage"]["id"]["S"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(audit.len(), 12, "org.created and 11 invitations");

    // The first PutEvents (10 entries) loses its 3rd and 7th; their retry loses the 7th again.
    proxy.fail_next(&[2, 6]);
    proxy.fail_next(&[1]);
    assert_eq!(bus.deliver(&records, 100, 5).await, 1, "handled in one invocation");
    assert_eq!(
        proxy.seen(),
        [10, 2, 1, 2],
        "the refused entries, and only they, sent again; then the last two"
    );

    let mut published = ids(&bus.read(&bus.queue, 12).await);
    assert_eq!(published.len(), 12);
    assert!(bus.read(&bus.queue, 1).await.is_empty(), "no repeats");
    published.sort();
    let mut expected = audit.clone();
    expected.sort();
    assert_eq!(published, expected, "each once");
}
