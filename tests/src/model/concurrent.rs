//! Rounds of 10–30 conflicting requests fired at once on one organization, then the
//! invariants checked through the API: `memberCount` equals the listed members, at least one
//! active owner, one membership per user, one pending invitation per address, no link used
//! past `maxUses`, removed users get 404, the seat limit and one-org-per-user hold, no 5xx,
//! and every answer one the contract lists for its route.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use futures::future::join_all;
use serde_json::{Value, json};

use super::rng::Rng;
use crate::harness::{TestApp, TestResponse, User, http_get_json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Route {
    Accept,
    Decline,
    Change,
    Transfer,
    Remove,
    Bulk,
    Invite,
    Resend,
    RevokeInvitation,
    RevokeLink,
    CreateOrg,
}

struct Call {
    route: Route,
    by: User,
    method: &'static str,
    path: String,
    body: Option<Value>,
}

fn call(route: Route, by: &User, method: &'static str, path: String, body: Option<Value>) -> Call {
    Call { route, by: by.clone(), method, path, body }
}

const INVITE_STATUSES: [&str; 8] = [
    "invited",
    "already_member",
    "already_invited",
    "invalid_email",
    "forbidden_role",
    "email_failed",
    "seat_limit",
    "failed",
];
const BULK_STATUSES: [&str; 5] = ["removed", "not_found", "forbidden", "last_owner", "failed"];

/// Whether an answer is one the contract (and the README's decisions) lists for the route.
fn allowed(route: Route, r: &TestResponse) -> bool {
    use Route::*;
    let code = r.code();
    let items_in = |key: &str, set: &[&str]| {
        r.body[key]
            .as_array()
            .is_some_and(|items| items.iter().all(|i| i["status"].as_str().is_some_and(|s| set.contains(&s))))
    };
    if r.status >= 400 && r.content_type.as_deref() != Some("application/problem+json") {
        return false;
    }
    match (route, r.status) {
        (_, s) if s >= 500 => false,
        (Accept, 200) | (Change, 200) | (Transfer, 200) | (Resend, 200) => true,
        (Remove | RevokeInvitation | RevokeLink | Decline, 204) | (CreateOrg, 201) => true,
        (Accept, 403) => matches!(code, "email_mismatch" | "suspended"),
        (Accept | Decline, 404) => code == "invitation_not_found",
        (Accept, 409) => matches!(code, "seat_limit" | "already_in_org" | "conflict"),
        (Accept, 410) => matches!(code, "invitation_expired" | "invitation_exhausted"),
        (Decline, 403) => code == "email_mismatch",
        (Decline, 410) => code == "invitation_expired",
        (CreateOrg, 409) => code == "already_in_org",
        (_, 403) => matches!(code, "forbidden" | "suspended"),
        (_, 404) => code == "not_found",
        (Change, 409) => matches!(code, "last_owner" | "seat_limit" | "conflict"),
        (Transfer, 409) => matches!(code, "conflict" | "last_owner"),
        (Remove, 409) => matches!(code, "last_owner" | "conflict"),
        (Bulk, 200) => items_in("results", &BULK_STATUSES),
        (Invite, 200) => items_in("results", &INVITE_STATUSES),
        (Invite, 409) => code == "seat_limit",
        (Resend, 409) => matches!(code, "seat_limit" | "conflict"),
        (Resend, 502) => code == "email_delivery_failed",
        _ => false,
    }
}

#[derive(Default)]
pub struct Summary {
    pub rounds: usize,
    pub requests: usize,
    /// `route status code` → how often.
    pub answers: BTreeMap<String, usize>,
    pub violations: Vec<String>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rounds, {} concurrent requests; answers:", self.rounds, self.requests)?;
        for (answer, n) in &self.answers {
            write!(f, "\n  {answer}: {n}")?;
        }
        Ok(())
    }
}

/// One round's answers, and what they did.
struct Answers {
    calls: Vec<(Call, TestResponse)>,
}

impl Answers {
    /// Users a remove or leave (single or bulk) answered as done.
    fn removed(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (c, r) in &self.calls {
            match (c.route, r.status) {
                (Route::Remove, 204) => {
                    out.insert(c.path.rsplit('/').next().unwrap_or_default().to_owned());
                }
                (Route::Bulk, 200) => {
                    for item in r.body["results"].as_array().into_iter().flatten() {
                        if item["status"] == "removed" {
                            out.insert(item["userId"].as_str().unwrap_or_default().to_owned());
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn joined(&self) -> BTreeSet<String> {
        self.calls
            .iter()
            .filter(|(c, r)| c.route == Route::Accept && r.status == 200)
            .map(|(c, _)| c.by.sub.clone())
            .collect()
    }

    fn count(&self, route: Route, status: u16) -> usize {
        self.calls.iter().filter(|(c, r)| c.route == route && r.status == status).count()
    }
}

/// What an active owner sees of an organization.
struct Snapshot {
    member_count: u64,
    members: Vec<Value>,
    invitations: Vec<Value>,
    links: Vec<Value>,
}

struct Ctx<'a> {
    app: &'a TestApp,
    round: usize,
    rng: Rng,
    violations: Vec<String>,
}

impl Ctx<'_> {
    fn fail(&mut self, what: String) {
        self.violations.push(format!("round {}: {what}", self.round));
    }

    fn user(&self, name: &str) -> User {
        let sub = format!("r{}-{name}", self.round);
        User { name: Some(sub.clone()), ..User::new(&sub).with_email(&self.app.email(&sub)) }
    }

    async fn fire(&mut self, calls: Vec<Call>, summary: &mut Summary) -> Answers {
        let app = self.app;
        let responses =
            join_all(calls.iter().map(|c| app.call(Some(&c.by), c.method, &c.path, c.body.clone()))).await;
        summary.requests += calls.len();
        let calls: Vec<(Call, TestResponse)> = calls.into_iter().zip(responses).collect();
        for (c, r) in &calls {
            *summary.answers.entry(format!("{:?} {} {}", c.route, r.status, r.code())).or_default() += 1;
            if !allowed(c.route, r) {
                let line = format!(
                    "{:?} {} {} by {} answered {} {}",
                    c.route, c.method, c.path, c.by.sub, r.status, r.body
                );
                self.fail(line);
            }
        }
        Answers { calls }
    }

    async fn must(
        &mut self,
        by: &User,
        method: &str,
        path: &str,
        body: Option<Value>,
        want: u16,
    ) -> TestResponse {
        let r = self.app.call(Some(by), method, path, body).await;
        if r.status != want {
            self.fail(format!("setup {method} {path} answered {} {}", r.status, r.body));
        }
        r
    }

    /// An organization of `owner` with these members (role), joined through single-use links.
    async fn org(&mut self, owner: &User, members: &[(&User, &str)]) -> String {
        let org = self.app.create_org(owner, &format!("Round {}", self.round)).await;
        for (user, role) in members {
            self.app.add_member(owner, &org, user, role).await;
        }
        org
    }

    async fn link(&mut self, by: &User, org: &str, body: Value) -> String {
        let r = self.must(by, "POST", &format!("/orgs/{org}/invite-links"), Some(body), 201).await;
        r.body["link"]["token"].as_str().unwrap_or_default().to_owned()
    }

    /// Tokens mailed to `address` since `since` (epoch seconds), oldest first.
    async fn mailed(&self, address: &str, since: i64) -> Vec<String> {
        let url = std::env::var("ROSTER_TEST_SES_STORE").expect("ROSTER_TEST_SES_STORE is set");
        let store = http_get_json(&format!("{url}?since={since}")).await;
        store["emails"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["destination"]["to"].as_array().is_some_and(|to| to.iter().any(|a| a == address)))
            .filter_map(|m| {
                let text = m["body"]["text"].as_str()?;
                let start = text.find("token=")? + "token=".len();
                Some(text[start..].split_whitespace().next()?.to_owned())
            })
            .collect()
    }

    async fn pages(&self, by: &User, path: &str, key: &str) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let url = match &cursor {
                None => format!("{path}?limit=7"),
                Some(c) => format!("{path}?limit=7&cursor={c}"),
            };
            let r = self.app.call(Some(by), "GET", &url, None).await;
            if r.status != 200 {
                return None;
            }
            items.extend(r.body[key].as_array().cloned().unwrap_or_default());
            match r.body["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return Some(items),
            }
        }
        None
    }

    /// The organization as an active owner among `people` sees it.
    async fn snapshot(&mut self, org: &str, people: &[User]) -> Option<(User, Snapshot)> {
        for p in people {
            let view = self.app.call(Some(p), "GET", &format!("/orgs/{org}"), None).await;
            if view.status != 200
                || view.body["membership"]["role"] != "owner"
                || view.body["membership"]["status"] != "active"
            {
                continue;
            }
            let members = self.pages(p, &format!("/orgs/{org}/members"), "members").await?;
            let invitations = self.pages(p, &format!("/orgs/{org}/invitations"), "invitations").await?;
            let links = self.pages(p, &format!("/orgs/{org}/invite-links"), "links").await?;
            let member_count = view.body["org"]["memberCount"].as_u64().unwrap_or(u64::MAX);
            return Some((p.clone(), Snapshot { member_count, members, invitations, links }));
        }
        self.fail(format!("no active owner of {org} can read it"));
        None
    }

    /// The invariants every round must leave, through the API.
    async fn invariants(&mut self, org: &str, people: &[User], answers: &Answers) -> Option<Snapshot> {
        let (_, snap) = self.snapshot(org, people).await?;
        if snap.member_count != snap.members.len() as u64 {
            self.fail(format!("memberCount {} but {} members listed", snap.member_count, snap.members.len()));
        }
        let ids: Vec<&str> = snap.members.iter().filter_map(|m| m["userId"].as_str()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        if unique.len() != ids.len() {
            self.fail(format!("a user is listed twice: {ids:?}"));
        }
        if !snap.members.iter().any(|m| m["role"] == "owner" && m["status"] == "active") {
            self.fail("no active owner left".into());
        }
        let mut pending: BTreeMap<String, usize> = BTreeMap::new();
        for i in &snap.invitations {
            if i["status"] == "pending" {
                *pending.entry(i["email"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
            }
        }
        for (address, n) in pending {
            if n > 1 {
                self.fail(format!("{n} pending invitations for {address}"));
            }
        }
        for l in &snap.links {
            if let (Some(uses), Some(max)) = (l["uses"].as_u64(), l["maxUses"].as_u64()) {
                if uses > max {
                    self.fail(format!("a link used {uses} times of {max}"));
                }
            }
        }
        let joined = answers.joined();
        for gone in answers.removed().difference(&joined) {
            if unique.contains(gone.as_str()) {
                self.fail(format!("{gone} was removed but is still listed"));
            }
            if let Some(user) = people.iter().find(|p| &p.sub == gone) {
                let r = self.app.call(Some(user), "GET", &format!("/orgs/{org}"), None).await;
                if r.status != 404 {
                    self.fail(format!("{gone} was removed but GET /orgs/{org} answers {}", r.status));
                }
            }
        }
        // Each person's own list agrees with the member list.
        for p in people {
            let mine = self.pages(p, "/orgs", "orgs").await.unwrap_or_default();
            let listed = mine.iter().filter(|o| o["org"]["id"] == json!(org)).count();
            if listed != usize::from(unique.contains(p.sub.as_str())) {
                self.fail(format!(
                    "{}'s GET /orgs lists {org} {listed} times; member list: {}",
                    p.sub,
                    unique.contains(p.sub.as_str())
                ));
            }
        }
        Some(snap)
    }
}

/// The apps of the concurrent phase: no limits, a seat limit, one org per user.
pub async fn run(seed: u64, rounds: usize) -> Summary {
    let plain = TestApp::spawn().await;
    let seats = TestApp::spawn_with(|c| c.max_members = Some(6)).await;
    let one_org = TestApp::spawn_with(|c| c.one_org_per_user = true).await;
    let mut summary = Summary::default();
    let mut rng = Rng::new(seed ^ 0xC0FF_EE00);
    for round in 0..rounds {
        let kind = round % 7;
        let app = match kind {
            5 => &seats,
            6 => &one_org,
            _ => &plain,
        };
        let mut ctx = Ctx { app, round, rng: rng.fork(), violations: Vec::new() };
        match kind {
            0 => link_race(&mut ctx, &mut summary).await,
            1 => owners_fight(&mut ctx, &mut summary).await,
            2 => member_churn(&mut ctx, &mut summary).await,
            3 => invite_storm(&mut ctx, &mut summary).await,
            4 => resend_revoke_accept(&mut ctx, &mut summary).await,
            5 => seat_race(&mut ctx, &mut summary).await,
            _ => one_org_race(&mut ctx, &mut summary).await,
        }
        summary.rounds += 1;
        summary.violations.extend(ctx.violations);
    }
    summary
}

/// Many users accept one link with few uses (and an owner may revoke it meanwhile).
async fn link_race(ctx: &mut Ctx<'_>, summary: &mut Summary) {
    let owner = ctx.user("owner");
    let org = ctx.org(&owner, &[]).await;
    let max = 1 + ctx.rng.below(5);
    let role = *ctx.rng.pick(&["viewer", "member", "admin"]);
    let token = ctx.link(&owner, &org, json!({ "maxUses": max, "role": role })).await;
    let n = 10 + ctx.rng.below(20);
    let users: Vec<User> = (0..n).map(|i| ctx.user(&format!("u{i}"))).collect();
    let mut calls: Vec<Call> = users
        .iter()
        .map(|u| {
            call(Route::Accept, u, "POST", "/invitations/accept".into(), Some(json!({ "token": token })))
        })
        .collect();
    let revoking = ctx.rng.chance(30);
    if revoking {
        let links = ctx.app.call(Some(&owner), "GET", &format!("/orgs/{org}/invite-links"), None).await;
        let id = links.body["links"][0]["id"].as_str().unwrap_or_default().to_owned();
        calls.insert(
            ctx.rng.below(calls.len()),
            call(Route::RevokeLink, &owner, "DELETE", format!("/orgs/{org}/invite-links/{id}"), None),
        );
    }
    let answers = ctx.fire(calls, summary).await;
    let joined = answers.count(Route::Accept, 200);
    if joined > max {
        ctx.fail(format!("a link of {max} uses admitted {joined}"));
    }
    let mut people = vec![owner];
    people.extend(users);
    if let Some(snap) = ctx.invariants(&org, &people, &answers).await {
        if snap.members.len() != joined + 1 {
            ctx.fail(format!("{joined} accepts answered 200 but {} members", snap.members.len()));
        }
        if let Some(l) = snap.links.first() {
            if l["uses"] != json!(joined) {
                ctx.fail(format!("the link shows {} uses after {joined} joins", l["uses"]));
            }
        }
    }
}

/// Owners demote, suspend, remove and transfer among themselves, and leave, all at once.
async fn owners_fight(ctx: &mut Ctx<'_>, summary: &mut Summary) {
    let owner = ctx.user("o0");
    let n_owners = 3 + ctx.rng.below(3);
    let owners: Vec<User> = (1..n_owners).map(|i| ctx.user(&format!("o{i}"))).collect();
    let admins: Vec<User> = (0..2).map(|i| ctx.user(&format!("a{i}"))).collect();
    let mut members: Vec<(&User, &str)> = owners.iter().map(|o| (o, "owner")).collect();
    members.extend(admins.iter().map(|a| (a, "admin")));
    let org = ctx.org(&owner, &members).await;
    let mut all_owners = vec![owner.clone()];
    all_owners.extend(owners.iter().cloned());
    let n = 10 + ctx.rng.below(21);
    let mut calls = Vec::new();
    for _ in 0..n {
        let by = ctx.rng.pick(&all_owners).clone();
        let other = ctx.rng.pick(&all_owners).clone();
        let admin = ctx.rng.pick(&admins).clone();
        let member_path = |u: &User| format!("/orgs/{org}/members/{}", u.sub);
        calls.push(match ctx.rng.below(7) {
            0 => call(Route::Change, &by, "PATCH", member_path(&other), Some(json!({ "role": "admin" }))),
            1 => {
                call(Route::Change, &by, "PATCH", member_path(&other), Some(json!({ "status": "suspended" })))
            }
            2 => call(Route::Remove, &by, "DELETE", member_path(&other), None),
            3 => call(Route::Remove, &by, "DELETE", member_path(&by), None),
            4 => call(Route::Change, &by, "PATCH", member_path(&by), Some(json!({ "role": "admin" }))),
            5 => call(
                Route::Transfer,
                &by,
                "POST",
                format!("/orgs/{org}/transfer-ownership"),
                Some(json!({ "userId": admin.sub })),
            ),
            _ => call(
                Route::Bulk,
                &by,
                "POST",
                format!("/orgs/{org}/members/remove"),
                Some(json!({ "userIds": [other.sub, admin.sub] })),
            ),
        });
    }
    let answers = ctx.fire(calls, summary).await;
    let mut people = all_owners;
    people.extend(admins);
    ctx.invariants(&org, &people, &answers).await;
}

/// Admins and owners change, suspend, reactivate and remove the same members while those
/// members leave.
async fn member_churn(ctx: &mut Ctx<'_>, summary: &mut Summary) {
    let owner = ctx.user("owner");
    let admins: Vec<User> = (0..2).map(|i| ctx.user(&format!("a{i}"))).collect();
    let plain: Vec<User> = (0..6).map(|i| ctx.user(&format!("m{i}"))).collect();
    let mut members: Vec<(&User, &str)> = admins.iter().map(|a| (a, "admin")).collect();
    members.extend(plain.iter().map(|m| (m, if m.sub.ends_with(['0', '1']) { "viewer" } else { "member" })));
    let org = ctx.org(&owner, &members).await;
    if ctx.rng.chance(50) {
        ctx.must(
            &owner,
            "PATCH",
            &format!("/orgs/{org}/members/{}", plain[5].sub),
            Some(json!({ "status": "suspended" })),
            200,
        )
        .await;
    }
    let mut actors = admins.clone();
    actors.push(owner.clone());
    let n = 10 + ctx.rng.below(21);
    let mut calls = Vec::new();
    for _ in 0..n {
        let by = ctx.rng.pick(&actors).clone();
        let target = ctx.rng.pick(&plain).clone();
        let path = format!("/orgs/{org}/members/{}", target.sub);
        calls.push(match ctx.rng.below(7) {
            0 => call(
                Route::Change,
                &by,
                "PATCH",
                path,
                Some(json!({ "role": *ctx.rng.pick(&["member", "viewer", "admin"]) })),
            ),
            1 => call(Route::Change, &by, "PATCH", path, Some(json!({ "status": "suspended" }))),
            2 => {
                call(Route::Change, &by, "PATCH", path, Some(json!({ "status": "active", "role": "member" })))
            }
            3 => call(Route::Remove, &by, "DELETE", path, None),
            4 => call(Route::Remove, &target, "DELETE", path, None),
            5 => {
                let k = 1 + ctx.rng.below(4);
                let ids: Vec<String> = (0..k).map(|_| ctx.rng.pick(&plain).sub.clone()).collect();
                call(
                    Route::Bulk,
                    &by,
                    "POST",
                    format!("/orgs/{org}/members/remove"),
                    Some(json!({ "userIds": ids })),
                )
            }
            _ => call(Route::Change, &target, "PATCH", path, Some(json!({ "role": "member" }))),
        });
    }
    let answers = ctx.fire(calls, summary).await;
    let mut people = vec![owner];
    people.extend(admins);
    people.extend(plain);
    ctx.invariants(&org, &people, &answers).await;
}

/// The same addresses invited many times at once, with resends and revokes of one of them.
async fn invite_storm(ctx: &mut Ctx<'_>, summary: &mut Summary) {
    let owner = ctx.user("owner");
    let admin = ctx.user("admin");
    let org = ctx.org(&owner, &[(&admin, "admin")]).await;
    let addresses: Vec<String> = (0..3).map(|i| ctx.app.email(&format!("r{}-x{i}", ctx.round))).collect();
    let first = ctx
        .must(
            &owner,
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": addresses[0] }] })),
            200,
        )
        .await;
    let inv = first.body["results"][0]["invitation"]["id"].as_str().unwrap_or_default().to_owned();
    let n = 10 + ctx.rng.below(11);
    let mut calls = Vec::new();
    for _ in 0..n {
        let by = if ctx.rng.chance(50) { owner.clone() } else { admin.clone() };
        calls.push(match ctx.rng.below(6) {
            0 => call(Route::Resend, &by, "POST", format!("/orgs/{org}/invitations/{inv}/resend"), None),
            1 => call(Route::RevokeInvitation, &by, "DELETE", format!("/orgs/{org}/invitations/{inv}"), None),
            _ => {
                let k = 1 + ctx.rng.below(3);
                let list: Vec<Value> = (0..k)
                    .map(|_| {
                        let a = ctx.rng.pick(&addresses).clone();
                        json!({ "email": if ctx.rng.chance(30) { a.to_uppercase() } else { a } })
                    })
                    .collect();
                call(
                    Route::Invite,
                    &by,
                    "POST",
                    format!("/orgs/{org}/invitations"),
                    Some(json!({ "invitations": list })),
                )
            }
        });
    }
    let answers = ctx.fire(calls, summary).await;
    ctx.invariants(&org, &[owner, admin], &answers).await;
}

/// One invitation resent, revoked, accepted and declined at once: whatever wins, the tokens
/// tell the same story as the lists.
async fn resend_revoke_accept(ctx: &mut Ctx<'_>, summary: &mut Summary) {
    let owner = ctx.user("owner");
    let admin = ctx.user("admin");
    let org = ctx.org(&owner, &[(&admin, "admin")]).await;
    let invitee = ctx.user("invitee");
    let address = invitee.email.clone().unwrap_or_default();
    let since = chrono::Utc::now().timestamp() - 1;
    let first = ctx
        .must(
            &owner,
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": address }] })),
            200,
        )
        .await;
    let inv = first.body["results"][0]["invitation"]["id"].as_str().unwrap_or_default().to_owned();
    let original = ctx.mailed(&address, since).await.last().cloned().unwrap_or_default();
    let n = 10 + ctx.rng.below(11);
    let mut calls = Vec::new();
    for _ in 0..n {
        let by = if ctx.rng.chance(50) { owner.clone() } else { admin.clone() };
        let token = json!({ "token": original });
        calls.push(match ctx.rng.below(8) {
            0..=2 => call(Route::Resend, &by, "POST", format!("/orgs/{org}/invitations/{inv}/resend"), None),
            3 => call(Route::RevokeInvitation, &by, "DELETE", format!("/orgs/{org}/invitations/{inv}"), None),
            4 => call(Route::Decline, &invitee, "POST", "/invitations/decline".into(), Some(token)),
            _ => call(Route::Accept, &invitee, "POST", "/invitations/accept".into(), Some(token)),
        });
    }
    let answers = ctx.fire(calls, summary).await;
    let accepted = answers.count(Route::Accept, 200) > 0;
    let revoked = answers.count(Route::RevokeInvitation, 204) > 0;
    let declined = answers.count(Route::Decline, 204) > 0;
    if u8::from(accepted) + u8::from(revoked) + u8::from(declined) > 1 {
        ctx.fail(format!(
            "one invitation was accepted {accepted}, revoked {revoked} and declined {declined}"
        ));
    }
    let people = vec![owner, admin, invitee.clone()];
    let Some(snap) = ctx.invariants(&org, &people, &answers).await else { return };
    let listed = snap.invitations.iter().any(|i| i["id"] == json!(inv));
    let member = snap.members.iter().any(|m| m["userId"] == json!(invitee.sub));
    if accepted != member {
        ctx.fail(format!("accept answered 200: {accepted}, but member: {member}"));
    }
    if listed && (accepted || revoked || declined) {
        ctx.fail("the invitation is still listed after it was accepted, revoked or declined".into());
    }
    let mut tokens = ctx.mailed(&address, since).await;
    tokens.push(original);
    let mut working = 0;
    let stranger = ctx.user("stranger");
    for t in &tokens {
        let r =
            ctx.app.call(Some(&stranger), "POST", "/invitations/preview", Some(json!({ "token": t }))).await;
        match r.status {
            200 => working += 1,
            404 => {}
            other => ctx.fail(format!("preview answered {other} {}", r.body)),
        }
    }
    let want = usize::from(listed);
    if working != want {
        ctx.fail(format!("{working} of the mailed tokens work, but the invitation is listed: {listed}"));
    }
}

/// Link joins, a reactivation, invites and an email accept race for the last seats.
async fn seat_race(ctx: &mut Ctx<'_>, summary: &mut Summary) {
    const MAX: usize = 6;
    let owner = ctx.user("owner");
    let m: Vec<User> = (0..3).map(|i| ctx.user(&format!("m{i}"))).collect();
    let org = ctx.org(&owner, &[(&m[0], "member"), (&m[1], "member"), (&m[2], "member")]).await;
    ctx.must(
        &owner,
        "PATCH",
        &format!("/orgs/{org}/members/{}", m[2].sub),
        Some(json!({ "status": "suspended" })),
        200,
    )
    .await;
    let invitee = ctx.user("invitee");
    let address = invitee.email.clone().unwrap_or_default();
    let since = chrono::Utc::now().timestamp() - 1;
    ctx.must(
        &owner,
        "POST",
        &format!("/orgs/{org}/invitations"),
        Some(json!({ "invitations": [{ "email": address }] })),
        200,
    )
    .await;
    let email_token = ctx.mailed(&address, since).await.last().cloned().unwrap_or_default();
    let token = ctx.link(&owner, &org, json!({})).await;
    let joiners: Vec<User> = (0..(4 + ctx.rng.below(8))).map(|i| ctx.user(&format!("j{i}"))).collect();
    let mut calls: Vec<Call> = joiners
        .iter()
        .map(|u| {
            call(Route::Accept, u, "POST", "/invitations/accept".into(), Some(json!({ "token": token })))
        })
        .collect();
    calls.push(call(
        Route::Accept,
        &invitee,
        "POST",
        "/invitations/accept".into(),
        Some(json!({ "token": email_token })),
    ));
    calls.push(call(
        Route::Change,
        &owner,
        "PATCH",
        format!("/orgs/{org}/members/{}", m[2].sub),
        Some(json!({ "status": "active" })),
    ));
    for i in 0..(1 + ctx.rng.below(3)) {
        let a = ctx.app.email(&format!("r{}-new{i}", ctx.round));
        calls.push(call(
            Route::Invite,
            &owner,
            "POST",
            format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": a }] })),
        ));
    }
    let len = calls.len();
    for i in 0..len {
        calls.swap(i, ctx.rng.below(len));
    }
    let answers = ctx.fire(calls, summary).await;
    let mut people = vec![owner, invitee];
    people.extend(m);
    people.extend(joiners);
    if let Some(snap) = ctx.invariants(&org, &people, &answers).await {
        let active = snap.members.iter().filter(|m| m["status"] == "active").count();
        let pending = snap.invitations.iter().filter(|i| i["status"] == "pending").count();
        if active + pending > MAX {
            ctx.fail(format!("{active} active members and {pending} pending invitations exceed {MAX} seats"));
        }
    }
}

/// With one organization per user, people join several organizations (and create one) at once.
async fn one_org_race(ctx: &mut Ctx<'_>, summary: &mut Summary) {
    let owners: Vec<User> = (0..3).map(|i| ctx.user(&format!("o{i}"))).collect();
    let mut orgs = Vec::new();
    let mut tokens = Vec::new();
    for o in &owners {
        let org = ctx.org(o, &[]).await;
        tokens.push(ctx.link(o, &org, json!({})).await);
        orgs.push(org);
    }
    let users: Vec<User> = (0..(4 + ctx.rng.below(4))).map(|i| ctx.user(&format!("u{i}"))).collect();
    let mut calls = Vec::new();
    for u in &users {
        for t in &tokens {
            calls.push(call(
                Route::Accept,
                u,
                "POST",
                "/invitations/accept".into(),
                Some(json!({ "token": t })),
            ));
        }
        if ctx.rng.chance(30) {
            calls.push(call(Route::CreateOrg, u, "POST", "/orgs".into(), Some(json!({ "name": "Mine" }))));
        }
    }
    let answers = ctx.fire(calls, summary).await;
    for u in &users {
        let mine = ctx.pages(u, "/orgs", "orgs").await.unwrap_or_default();
        if mine.len() > 1 {
            ctx.fail(format!("{} belongs to {} organizations with one org per user", u.sub, mine.len()));
        }
    }
    let mut people = owners.clone();
    people.extend(users);
    for org in &orgs {
        ctx.invariants(org, &people, &answers).await;
    }
}
