//! DynamoDB and SES requests per route, measured by counting what the SDK clients send.

use roster::http::routes;
use serde_json::{Value, json};

use crate::harness::{TestApp, TestResponse, User};

pub struct Measured {
    pub route: String,
    pub case: &'static str,
    pub status: u16,
    pub dynamodb: usize,
    pub ses: usize,
    /// Requests to the user pool (adding a user with a temporary password).
    pub cognito: usize,
    /// The most DynamoDB round trips the route may take.
    pub budget: usize,
}

struct Meter<'a> {
    app: &'a TestApp,
    rows: Vec<Measured>,
}

impl Meter<'_> {
    /// Calls the route `method path` resolves to, as the route table resolves it.
    async fn run(
        &mut self,
        case: &'static str,
        budget: usize,
        user: &User,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> TestResponse {
        self.run_with(case, budget, &user.claims(), method, path, body).await
    }

    /// [`Meter::run`] with these authorizer claims (a service's).
    async fn run_with(
        &mut self,
        case: &'static str,
        budget: usize,
        claims: &crate::event::Claims,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> TestResponse {
        self.app.calls.take();
        let response =
            crate::harness::call_app_with_claims(&self.app.app, Some(claims), method, path, body).await;
        let calls = self.app.calls.take();
        let dynamodb = calls.iter().filter(|c| c.starts_with("DynamoDB.")).count();
        let ses = calls.iter().filter(|c| c.starts_with("SESv2.")).count();
        let cognito = calls.iter().filter(|c| c.starts_with("Cognito Identity Provider.")).count();
        let route = match routes::find(method, path.split('?').next().unwrap_or(path)) {
            routes::RouteMatch::Found(route, _) => route.key(),
            _ => panic!("no route for {method} {path}"),
        };
        self.rows.push(Measured { route, case, status: response.status, dynamodb, ses, cognito, budget });
        response
    }
}

/// Exercises every route once on the success path (and invite at two batch sizes).
pub async fn measure(app: &TestApp) -> Vec<Measured> {
    let mut m = Meter { app, rows: Vec::new() };
    let owner = app.user("owner");
    let created = m.run("", 1, &owner, "POST", "/orgs", Some(json!({ "name": "Bench" }))).await;
    let org = created.body["org"]["id"].as_str().expect("org").to_owned();
    let o = |p: &str| format!("/orgs/{org}{p}");
    for (name, role) in [
        ("admin", "admin"),
        ("member", "member"),
        ("viewer", "viewer"),
        ("gone1", "member"),
        ("gone2", "member"),
    ] {
        app.add_member(&owner, &org, &app.user(name), role).await;
    }

    m.run("", 2, &owner, "GET", "/orgs", None).await;
    m.run("", 2, &owner, "GET", &o(""), None).await;
    // The caller's membership beside the page's index items, then the page's memberships.
    m.run("", 3, &owner, "GET", &o("/members"), None).await;
    m.run("search", 3, &owner, "GET", &o("/members?q=mem%20example"), None).await;
    m.run("role and status", 3, &owner, "GET", &o("/members?role=admin&status=suspended"), None).await;
    m.run("by id", 2, &owner, "GET", &o("/members?userId=member&userId=viewer"), None).await;
    m.run("", 2, &owner, "GET", &o("/members/member"), None).await;
    m.run("", 2, &owner, "GET", &o("/audit"), None).await;
    // A filter is one partition of an index (the rest checked on each item read); a time
    // range is a key range of it; an action prefix reads one partition per action it names,
    // side by side (seven for `member.`).
    m.run(
        "actor, target, from, to",
        2,
        &owner,
        "GET",
        &o("/audit?actor=owner&target=admin&from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z"),
        None,
    )
    .await;
    m.run("action=member.", 8, &owner, "GET", &o("/audit?action=member."), None).await;
    let settings = json!({ "name": "Bench Inc.", "metadata": { "plan": "pro" } });
    m.run("", 2, &owner, "PATCH", &o(""), Some(settings)).await;

    // Boxed, as a function of its own: one future for every route is too large for a stack.
    let ws = Box::pin(workspace_routes(&mut m, &owner, &org)).await;
    Box::pin(usage_routes(&mut m, &owner, &org)).await;
    if app.app.accounts.is_some() {
        Box::pin(account_routes(&mut m, &owner, &org)).await;
    }
    let w = |p: &str| o(&format!("/workspaces/{ws}{p}"));

    let one = json!({ "invitations": [{ "email": app.email("ann") }] });
    // A read pass, the claim on the email quotas, and the batch's transactions (24 new
    // invitations each); the emails are queued (SQS), not sent, on the request path.
    let invited = m.run("1 address", 3, &owner, "POST", &o("/invitations"), Some(one)).await;
    let invitation = invited.body["results"][0]["invitation"]["id"].as_str().expect("invitation").to_owned();
    let ten: Vec<Value> = (0..10).map(|i| json!({ "email": app.email(&format!("batch{i}")) })).collect();
    let batch = m
        .run("10 addresses", 3, &owner, "POST", &o("/invitations"), Some(json!({ "invitations": ten })))
        .await;
    let hundred: Vec<Value> = (0..100).map(|i| json!({ "email": app.email(&format!("many{i}")) })).collect();
    m.run("100 addresses", 8, &owner, "POST", &o("/invitations"), Some(json!({ "invitations": hundred })))
        .await;
    let revocable = batch.body["results"][1]["invitation"]["id"].as_str().expect("invitation").to_owned();
    m.run("made by the caller", 2, &owner, "GET", &o("/invitations"), None).await;
    m.run(
        "q, status, emailDelivery",
        2,
        &owner,
        "GET",
        &o("/invitations?q=many&status=pending&emailDelivery=queued"),
        None,
    )
    .await;
    let resend = format!("/invitations/{invitation}/resend");
    m.run("", 3, &owner, "POST", &o(&resend), None).await;
    // The invitation and the caller, and the workspaces named (one wave), then the write.
    let reassign = format!("/invitations/{invitation}");
    m.run("", 3, &owner, "PATCH", &o(&reassign), Some(json!({ "workspaces": [{ "id": ws }] }))).await;
    // The organization (the service's standing), then the lift with its audit event.
    let operator = crate::harness::service_claims("dev-service", routes::scopes::ADMIN);
    m.run_with("not paused", 2, &operator, "DELETE", &o("/email-pause"), None).await;
    let link = m.run("", 2, &owner, "POST", &o("/invite-links"), None).await;
    let (link_id, link_token) = (
        link.body["link"]["id"].as_str().unwrap().to_owned(),
        link.body["link"]["token"].as_str().unwrap().to_owned(),
    );
    m.run("made by the caller", 2, &owner, "GET", &o("/invite-links"), None).await;

    let ann = app.user("ann");
    let token = app.token_mailed_to(ann.email.as_deref().unwrap()).await;
    let t = |token: &str| Some(json!({ "token": token }));
    // The token with its organization, then the membership that vouches for it.
    m.run("", 2, &ann, "POST", "/invitations/preview", t(&token)).await;
    m.run("email invitation", 2, &ann, "POST", "/invitations/accept", t(&token)).await;
    m.run("invite link", 2, &app.user("linked"), "POST", "/invitations/accept", t(&link_token)).await;
    let declining = app.user("batch0");
    let batch_token = app.token_mailed_to(declining.email.as_deref().unwrap()).await;
    m.run("", 2, &declining, "POST", "/invitations/decline", t(&batch_token)).await;

    m.run("", 2, &owner, "PATCH", &o("/members/member"), Some(json!({ "role": "admin" }))).await;
    // The read, the two counts of what the old owner vouched for (side by side), the write.
    m.run("", 4, &owner, "POST", &o("/transfer-ownership"), Some(json!({ "userId": "admin" }))).await;
    // A service adding a user: the organization (it is no member), then the write.
    let admin = crate::harness::service_claims("dev-backend", "roster/admin");
    let added = json!({ "userId": "added", "role": "viewer" });
    m.run_with("service", 2, &admin, "POST", &o("/members"), Some(added)).await;
    let new_owner = app.user("admin");
    // Made by someone else: their memberships are read too, to say which were revoked.
    m.run("made by others", 3, &new_owner, "GET", &o("/invitations"), None).await;
    m.run("made by others", 3, &new_owner, "GET", &o("/invite-links"), None).await;
    m.run("", 2, &new_owner, "DELETE", &o("/members/viewer"), None).await;
    m.run(
        "2 members",
        2,
        &new_owner,
        "POST",
        &o("/members/remove"),
        Some(json!({ "userIds": ["gone1", "gone2"] })),
    )
    .await;
    let invitation_path = format!("/invitations/{revocable}");
    m.run("", 2, &new_owner, "DELETE", &o(&invitation_path), None).await;
    let link_path = format!("/invite-links/{link_id}");
    m.run("", 2, &new_owner, "DELETE", &o(&link_path), None).await;
    m.run("", 2, &new_owner, "DELETE", &w(""), None).await;
    m.run("", 2, &new_owner, "DELETE", &o(""), None).await;
    m.rows
}

/// Usage per member: a report is one read (the organization with the batch's memberships),
/// then one transaction per member, sixteen members at a time; totals are the caller's
/// membership, then one query of the metric's days.
async fn usage_routes(m: &mut Meter<'_>, owner: &User, org: &str) {
    let o = |p: &str| format!("/orgs/{org}{p}");
    let reporter = crate::harness::service_claims("dev-service", "roster/usage");
    let at = m.app.now().to_string();
    let record = |i: usize, user: &str| json!({ "id": format!("rt-{i}"), "userId": user, "metric": "credits", "quantity": 1, "at": at });
    let one = json!({ "records": [record(0, "member")] });
    m.run_with("1 record", 2, &reporter, "POST", &o("/usage"), Some(one)).await;
    let hundred: Vec<Value> =
        (1..=100).map(|i| record(i, ["member", "viewer", "admin", "owner"][i % 4])).collect();
    let batch = json!({ "records": hundred });
    m.run_with("100 records of 4 members", 5, &reporter, "POST", &o("/usage"), Some(batch)).await;
    m.run("by member", 2, owner, "GET", &o("/usage?metric=credits"), None).await;
    m.run("by day", 2, owner, "GET", &o("/usage?metric=credits&groupBy=day"), None).await;
    m.run("one member by day", 2, owner, "GET", &o("/usage?metric=credits&groupBy=day&userId=member"), None)
        .await;
}

/// Adding a user with a temporary password (an app with a user pool only): one read (the
/// organization, the caller and the address's slot), the account intent's write, Cognito's
/// `AdminCreateUser`, the membership's transaction. An address that has an account adds
/// Cognito's `AdminGetUser` and the read of that account's membership here (an added user
/// who signed in is a member no slot shows), then is invited as invite does it (the email
/// quota's claim and the invitation's transaction instead of the membership's).
async fn account_routes(m: &mut Meter<'_>, owner: &User, org: &str) {
    let path = format!("/orgs/{org}/members/accounts");
    let add = |local: &str| {
        json!({ "email": m.app.email(local), "name": "New Person", "role": "member",
                "temporaryPassword": "Round-Trips-123", "sendEmail": false })
    };
    m.run("new account", 3, owner, "POST", &path, Some(add("account1"))).await;
    // An address that signed up before (its account made straight in the pool).
    let accounts = m.app.app.accounts.as_ref().expect("a user pool");
    let email = roster::domain::Email::parse(&m.app.email("account2")).expect("address");
    let name = roster::domain::DisplayName::clean("Signed Up").expect("name");
    let account = roster::accounts::NewAccount {
        email: &email,
        name: &name,
        password: "Signed-Up-123",
        send_email: false,
    };
    assert!(accounts.create(account).await.is_ok(), "an account made in the pool");
    // Older than the clock skew the route allows for, so that it is no account of its own.
    let skew = u64::try_from(roster::handlers::accounts::CLOCK_SKEW_MS).expect("positive");
    tokio::time::sleep(std::time::Duration::from_millis(skew + 1_000)).await;
    m.run("address with an account", 5, owner, "POST", &path, Some(add("account2"))).await;
    // The first address, in another organization while the first one's intent holds it:
    // invited without asking the pool.
    let other_owner = m.app.user("other-owner");
    let other = crate::harness::call_app(
        &m.app.app,
        Some(&other_owner),
        "POST",
        "/orgs",
        Some(json!({ "name": "Other" })),
    )
    .await;
    let other = other.body["org"]["id"].as_str().expect("org").to_owned();
    let path = format!("/orgs/{other}/members/accounts");
    m.run("address another organization just added", 4, &other_owner, "POST", &path, Some(add("account1")))
        .await;
}

/// The workspace and group routes; answers the workspace's id (deleted at the end of the walk).
async fn workspace_routes(m: &mut Meter<'_>, owner: &User, org: &str) -> String {
    // Reads in one wave (two when the caller is in a group), each write one transaction.
    let app = m.app;
    let o = |p: &str| format!("/orgs/{org}{p}");
    let ws = m.run("", 2, owner, "POST", &o("/workspaces"), Some(json!({ "name": "Apollo" }))).await;
    let ws = ws.body["workspace"]["id"].as_str().expect("workspace").to_owned();
    let w = |p: &str| o(&format!("/workspaces/{ws}{p}"));
    let group = m.run("", 2, owner, "POST", &o("/groups"), Some(json!({ "name": "Team" }))).await;
    let group = group.body["group"]["id"].as_str().expect("group").to_owned();
    let g = |p: &str| o(&format!("/groups/{group}{p}"));
    m.run("", 2, owner, "PUT", &g("/members/viewer"), None).await;
    m.run("", 2, owner, "PUT", &w("/members/member"), Some(json!({ "role": "admin" }))).await;
    m.run("", 4, owner, "PUT", &w(&format!("/groups/{group}")), Some(json!({ "role": "viewer" }))).await;
    let member = app.user("member");
    let viewer = app.user("viewer");
    m.run("workspace admin", 2, &member, "PATCH", &w(""), Some(json!({ "description": "Launch" }))).await;
    m.run("through a group", 4, &viewer, "GET", &w(""), None).await;
    m.run("direct", 3, &member, "GET", &w(""), None).await;
    m.run("", 6, &member, "GET", &w("/members"), None).await;
    m.run("member, no group", 3, &member, "GET", &o("/workspaces"), None).await;
    m.run("admin: all", 4, owner, "GET", &o("/workspaces"), None).await;
    m.run("in one group", 5, owner, "GET", &o("/members/viewer/workspaces"), None).await;
    m.run("", 2, &member, "GET", &o("/groups"), None).await;
    m.run("", 1, &member, "GET", &g(""), None).await;
    m.run("", 3, &member, "GET", &g("/members"), None).await;
    m.run("", 2, owner, "PATCH", &g(""), Some(json!({ "name": "Core team" }))).await;
    // The host's checks: one wave, a second only for workspace checks of members in groups
    // (and, below, for members whose organization has custom roles they may meet).
    let service = crate::harness::service_claims("dev-service", "roster/authorize");
    m.run_with("", 0, &service, "GET", "/permissions", None).await;
    let check = |user: &str, permission: &str| json!({ "userId": user, "orgId": org, "permission": permission, "workspaceId": ws });
    let one = json!({ "checks": [check("member", "reports:read")] });
    m.run_with("1 check, org scope", 1, &service, "POST", "/authorize", Some(one)).await;
    let hundred: Vec<Value> =
        (0..100).map(|i| check(["member", "viewer", "admin", "owner"][i % 4], "projects:write")).collect();
    let batch = json!({ "checks": hundred });
    m.run_with("100 checks, workspace scope, groups", 2, &service, "POST", "/authorize", Some(batch)).await;
    // Custom roles: a read of the caller beside the role(s), then one transaction; a deletion
    // marks, counts the five kinds of holder side by side, and deletes.
    let role =
        json!({ "key": "editor", "name": "Editor", "base": "member", "permissions": ["billing:read"] });
    m.run("", 2, owner, "POST", &o("/roles"), Some(role)).await;
    m.run("", 2, &member, "GET", &o("/roles"), None).await;
    let permissions = json!({ "permissions": ["billing:read", "reports:read"] });
    m.run("", 3, owner, "PATCH", &o("/roles/editor"), Some(permissions)).await;
    let viewer_path = o("/members/viewer");
    let held = app.call(Some(owner), "PATCH", &viewer_path, Some(json!({ "role": "editor" }))).await;
    assert_eq!(held.status, 200, "{:?}", held.body);
    let custom = json!({ "checks": [{ "userId": "viewer", "orgId": org, "permission": "billing:read" }] });
    m.run_with("1 check, a custom role's holder", 3, &service, "POST", "/authorize", Some(custom)).await;
    let back = app.call(Some(owner), "PATCH", &viewer_path, Some(json!({ "role": "viewer" }))).await;
    assert_eq!(back.status, 200, "{:?}", back.body);
    m.run("no holder", 9, owner, "DELETE", &o("/roles/editor"), None).await;
    m.run("", 2, owner, "DELETE", &w("/members/member"), None).await;
    m.run("", 3, owner, "DELETE", &w(&format!("/groups/{group}")), None).await;
    m.run("", 2, owner, "DELETE", &g("/members/viewer"), None).await;
    m.run("", 2, owner, "DELETE", &g(""), None).await;

    ws
}

/// The table as Markdown.
pub fn markdown(rows: &[Measured]) -> String {
    let mut out =
        String::from("| Route | Case | Status | DynamoDB | SES | Budget |\n|---|---|---|---|---|---|\n");
    for r in rows {
        // Cognito's requests beside the case, on the one route that makes any.
        let cognito = if r.cognito > 0 { format!(" (+{} Cognito)", r.cognito) } else { String::new() };
        out.push_str(&format!(
            "| `{}` | {}{} | {} | {} | {} | {} |\n",
            r.route, r.case, cognito, r.status, r.dynamodb, r.ses, r.budget
        ));
    }
    out
}
