//! Runs steps through the real handlers (real API Gateway v2 events, DynamoDB Local, the SES
//! emulator) and holds every answer, and everything the API shows afterwards, to the model.
//! Server-made ids, tokens and times are learnt from the answers (mapped, not predicted).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};

use super::authorize::{self, host_permissions};
use super::generate::Pool;
use super::ops::{
    Act, Bad, CUSTOM_KEYS, Op, Ref, Role, Search, Status, Target, TokArg, USAGE_METRICS, UsageRec, UserIx,
    WsRole, meta_json, terms, usage_quantity, words,
};
use super::rng::Rng;
use super::spec::{Access, DAY_MS, HOUR_MS, Model, Outcome, TokenFor, UsageKey, UserInfo, Via};
use crate::harness::{TestApp, TestResponse, User, call_app, call_app_with_claims, http_get_json};

/// The people of a run. Several share an address; some have it unverified or not at all.
pub struct World {
    pub users: Vec<User>,
    pub infos: Vec<UserInfo>,
    pub names: Vec<String>,
    pub pool: Pool,
}

pub const GHOST: &str = "nobody";

pub fn world(app: &TestApp) -> World {
    let cat_upper = app.email("cat").to_uppercase();
    let people: [(&str, &str, Option<String>, Option<bool>); 10] = [
        ("ann", "Ann", Some(app.email("ann")), Some(true)),
        ("bob", "Bob", Some(app.email("bob")), Some(true)),
        ("cat", "Cat", Some(app.email("cat")), Some(true)),
        // A second account with Cat's address (another identity provider, say).
        ("cat2", "Cat Two", Some(cat_upper), Some(true)),
        ("dan", "Dan", Some(app.email("dan")), Some(false)),
        ("eve", "Eve", Some(app.email("eve")), Some(true)),
        // Claims Ann's address without having verified it.
        ("ann2", "Ann Two", Some(app.email("ann")), Some(false)),
        // No email_verified claim at all: proves no address (API.md "Identity").
        ("fay", "Fay", Some(app.email("fay")), None),
        ("gus", "Gus", None, Some(true)),
        ("hal", "Hal", Some(app.email("hal")), Some(true)),
    ];
    let mut users = Vec::new();
    let mut infos = Vec::new();
    for (sub, name, email, verified) in people {
        users.push(User {
            sub: sub.to_owned(),
            email: email.clone(),
            name: Some(name.to_owned()),
            email_verified: verified,
        });
        infos.push(UserInfo {
            sub: sub.to_owned(),
            name: name.to_owned(),
            email_claim: email,
            email_verified: verified,
        });
    }
    let names = infos.iter().map(|u| u.sub.clone()).collect();
    let addresses = ["ann", "bob", "cat", "dan", "eve", "fay", "hal", "zed", "yan"]
        .iter()
        .map(|l| app.email(l))
        .collect();
    let invalid = vec![
        "not-an-address".to_owned(),
        format!("two@@t{}.example.com", app.id),
        "nobody@localhost".to_owned(),
        "  ".to_owned(),
    ];
    World { users, infos, names, pool: Pool { addresses, invalid } }
}

enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

struct Req {
    by: Option<UserIx>,
    method: &'static str,
    path: String,
    body: Body,
    /// Through an app whose SES endpoint is unreachable.
    ses_down: bool,
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

pub struct Driver<'a> {
    pub app: &'a TestApp,
    offline: roster::App,
    pub world: World,
    pub model: Model,
    org_ids: HashMap<Ref, String>,
    inv_ids: HashMap<Ref, String>,
    link_ids: HashMap<Ref, String>,
    tokens: HashMap<Ref, String>,
    /// Invitations whose expiry the model knows only within a window (a resend answered
    /// 502 carries no body): adopted from the next listing that shows it.
    approximate: HashMap<Ref, (i64, i64)>,
    seen_mail: HashSet<String>,
    /// The organization each invitation and link was made in (kept after they go).
    created_in: HashMap<Ref, Ref>,
    /// Workspace and group ids, by the step that created them (kept after they go).
    ws_ids: HashMap<Ref, String>,
    group_ids: HashMap<Ref, String>,
    /// Organizations in which a workspace or group was ever made: their workspaces are
    /// observed.
    ws_orgs: BTreeSet<Ref>,
    /// Whether the next full observation reads every workspace's and group's members.
    deep: bool,
    skip: Vec<String>,
    rng: Rng,
    pub requests: u64,
    steps: u64,
    /// How often each kind of step met each expected outcome (coverage, printed by the test).
    pub tally: std::collections::BTreeMap<String, u64>,
    /// The permissions catalog as the model reads it (`POST /authorize`).
    catalog: authorize::Catalog,
}

/// Metadata over the 32-key limit.
fn oversized_metadata() -> Value {
    Value::Object((0..33).map(|i| (format!("k{i}"), json!(i))).collect())
}

/// Every this many steps, everything is observed (not only what the step may have changed).
const FULL_OBSERVATION_EVERY: u64 = 20;

/// Every this many full observations (and after every sweep), so are all workspaces and
/// groups.
const WORKSPACE_OBSERVATION_EVERY: u64 = 5;

/// The organization a step names in its path, if any.
fn act_org(act: &Act) -> Option<Ref> {
    match act {
        Act::Invite { org, .. }
        | Act::AddUser { org, .. }
        | Act::Resend { org, .. }
        | Act::RevokeInvitation { org, .. }
        | Act::CreateLink { org, .. }
        | Act::RevokeLink { org, .. }
        | Act::Change { org, .. }
        | Act::UpdateOrg { org, .. }
        | Act::DeleteOrg { org, .. }
        | Act::Transfer { org, .. }
        | Act::Remove { org, .. }
        | Act::BulkRemove { org, .. }
        | Act::GetOrg { org, .. }
        | Act::GetMember { org, .. }
        | Act::ListMembers { org, .. }
        | Act::ListInvitations { org, .. }
        | Act::ListLinks { org, .. }
        | Act::AssignCustom { org, .. }
        | Act::CreateRole { org, .. }
        | Act::UpdateRole { org, .. }
        | Act::DeleteRole { org, .. } => Some(*org),
        Act::CreateOrg { .. } | Act::Preview { .. } | Act::Accept { .. } | Act::Decline { .. } => None,
        Act::MyOrgs { .. } | Act::Advance { .. } | Act::Sweep | Act::SignUp { .. } => None,
        Act::ConfirmSignUp { .. } => None,
        // Workspace and group steps are observed apart (`Driver::look_after`).
        _ => None,
    }
}

/// The trigger's answer against the model's: an admitted event comes back untouched (no
/// auto-confirmation), a refusal carries the one message Cognito shows.
fn check_sign_up(
    expected: &Outcome,
    answer: Result<Value, roster::Error>,
    sent: &Value,
) -> Result<(), String> {
    use roster::handlers::pre_sign_up::INVITATION_ONLY;
    match (expected, answer) {
        (Outcome::SignUp(true), Ok(event)) => {
            ensure!(event == *sent, "the admitted event came back changed: {event}");
            Ok(())
        }
        (Outcome::SignUp(false), Err(roster::Error::Forbidden(message))) if message == INVITATION_ONLY => {
            Ok(())
        }
        (expected, answer) => Err(format!("the trigger answered {answer:?} but the model says {expected:?}")),
    }
}

fn millis(text: &Value) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.as_str()?).ok().map(|t| t.timestamp_millis())
}

fn real_epoch_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

impl<'a> Driver<'a> {
    pub async fn new(app: &'a TestApp, model: Model, world: World, seed: u64) -> Self {
        // A queue that does not exist: every invitation email is refused, as when the queue
        // cannot be reached (the model's `ses_down`: the email is not on its way).
        let offline = app
            .with_config(|c| {
                c.mail.queue_url = Some(format!("{}-missing", c.mail.queue_url.clone().unwrap_or_default()))
            })
            .await;
        Self {
            app,
            offline,
            world,
            model,
            org_ids: HashMap::new(),
            inv_ids: HashMap::new(),
            link_ids: HashMap::new(),
            tokens: HashMap::new(),
            approximate: HashMap::new(),
            seen_mail: HashSet::new(),
            created_in: HashMap::new(),
            ws_ids: HashMap::new(),
            group_ids: HashMap::new(),
            ws_orgs: BTreeSet::new(),
            deep: false,
            skip: super::generate::skip_tags(),
            rng: Rng::new(seed),
            requests: 0,
            steps: 0,
            tally: std::collections::BTreeMap::new(),
            catalog: authorize::Catalog::deployed(),
        }
    }

    pub fn org_id(&self, org: Ref) -> Option<&String> {
        self.org_ids.get(&org)
    }

    pub fn token(&self, token: Ref) -> Option<&String> {
        self.tokens.get(&token)
    }

    fn sub(&self, user: UserIx) -> &str {
        &self.world.infos[user].sub
    }

    fn target_sub(&self, target: Target) -> String {
        target.map_or(GHOST.to_owned(), |u| self.sub(u).to_owned())
    }

    /// `/orgs/{orgId}/workspaces/{workspaceId}` (the workspace may be another
    /// organization's, or deleted).
    fn ws_path(&self, org: Ref, ws: Ref) -> Option<String> {
        Some(format!("/orgs/{}/workspaces/{}", self.org_ids.get(&org)?, self.ws_ids.get(&ws)?))
    }

    fn group_path(&self, org: Ref, group: Ref) -> Option<String> {
        Some(format!("/orgs/{}/groups/{}", self.org_ids.get(&org)?, self.group_ids.get(&group)?))
    }

    /// The request of a step, or `None` when it names something this run never created
    /// (a step deleted while shrinking): then the step is skipped.
    fn request(&self, act: &Act) -> Option<Req> {
        let org = |o: &Ref| self.org_ids.get(o).cloned();
        let raw_json = || Body::Raw("application/json", b"{,".to_vec());
        let with_bad = |bad: &Option<Bad>, json: Value| match bad {
            Some(Bad::Json) => raw_json(),
            Some(Bad::MediaType) => Body::Raw("text/plain", b"invite everyone".to_vec()),
            _ => Body::Json(json),
        };
        let req = |by: &Option<UserIx>, method, path: String, body| Req {
            by: *by,
            method,
            path,
            body,
            ses_down: false,
        };
        Some(match act {
            Act::CreateOrg { by, name } => {
                req(&Some(*by), "POST", "/orgs".into(), Body::Json(json!({ "name": name })))
            }
            Act::Invite { by, org: o, entries, hours, metadata, ses_down, bad } => {
                let mut list: Vec<Value> = entries
                    .iter()
                    .map(|(addr, role)| {
                        let mut entry = json!({ "email": self.world.pool.render(*addr) });
                        if let Some(r) = role {
                            entry["role"] = json!(r.as_str());
                        }
                        if *metadata != 0 {
                            entry["metadata"] = meta_json(*metadata);
                        }
                        entry
                    })
                    .collect();
                match bad {
                    Some(Bad::Empty) => list.clear(),
                    Some(Bad::Role) => list[0]["role"] = json!("root"),
                    Some(Bad::Metadata) => list[0]["metadata"] = oversized_metadata(),
                    _ => {}
                }
                let mut body = json!({ "invitations": list });
                match (bad, hours) {
                    (Some(Bad::Hours(h)), _) | (_, Some(h)) => body["expiresInHours"] = json!(h),
                    _ => {}
                }
                let mut r = req(by, "POST", format!("/orgs/{}/invitations", org(o)?), with_bad(bad, body));
                r.ses_down = *ses_down && bad.is_none();
                r
            }
            Act::AddUser { by, org: o, addr, role, weak } => {
                let password = if *weak { "alllowercase-and-long" } else { "Model-Password-1234" };
                let body = json!({
                    "email": self.world.pool.render(*addr), "name": "Added Person", "role": role.as_str(),
                    "temporaryPassword": password, "sendEmail": false,
                });
                req(by, "POST", format!("/orgs/{}/members/accounts", org(o)?), Body::Json(body))
            }
            Act::Resend { by, org: o, inv, ses_down } => {
                let path = format!("/orgs/{}/invitations/{}/resend", org(o)?, self.inv_ids.get(inv)?);
                let mut r = req(by, "POST", path, Body::None);
                r.ses_down = *ses_down;
                r
            }
            Act::RevokeInvitation { by, org: o, inv } => req(
                by,
                "DELETE",
                format!("/orgs/{}/invitations/{}", org(o)?, self.inv_ids.get(inv)?),
                Body::None,
            ),
            Act::CreateLink { by, org: o, role, hours, max_uses, bad } => {
                let mut body = json!({});
                if let Some(r) = role {
                    body["role"] = json!(r.as_str());
                }
                if let Some(h) = hours {
                    body["expiresInHours"] = json!(h);
                }
                if let Some(m) = max_uses {
                    body["maxUses"] = json!(m);
                }
                match bad {
                    Some(Bad::Hours(h)) => body["expiresInHours"] = json!(h),
                    Some(Bad::MaxUses(m)) => body["maxUses"] = json!(m),
                    Some(Bad::Role) => body["role"] = json!("root"),
                    _ => {}
                }
                let path = format!("/orgs/{}/invite-links", org(o)?);
                let body = match (bad, body.as_object().is_some_and(|b| b.is_empty())) {
                    (None, true) => Body::None,
                    _ => with_bad(bad, body),
                };
                req(by, "POST", path, body)
            }
            Act::RevokeLink { by, org: o, link } => req(
                by,
                "DELETE",
                format!("/orgs/{}/invite-links/{}", org(o)?, self.link_ids.get(link)?),
                Body::None,
            ),
            Act::Preview { by, token } | Act::Accept { by, token } | Act::Decline { by, token } => {
                let token = match token {
                    TokArg::Issued(t) => self.tokens.get(t)?.clone(),
                    TokArg::Garbage => "garbage-token".to_owned(),
                };
                let path = match act {
                    Act::Preview { .. } => "/invitations/preview",
                    Act::Accept { .. } => "/invitations/accept",
                    _ => "/invitations/decline",
                };
                req(by, "POST", path.into(), Body::Json(json!({ "token": token })))
            }
            Act::Change { by, org: o, target, role, status, metadata, bad } => {
                let mut body = json!({});
                if let Some(r) = role {
                    body["role"] = json!(r.as_str());
                }
                if let Some(s) = status {
                    body["status"] = json!(s.as_str());
                }
                if let Some(m) = metadata {
                    body["metadata"] = meta_json(*m);
                }
                match bad {
                    Some(Bad::Role) => body["role"] = json!("root"),
                    Some(Bad::Status) => body["status"] = json!("deleted"),
                    Some(Bad::Metadata) => body["metadata"] = oversized_metadata(),
                    _ => {}
                }
                let path = format!("/orgs/{}/members/{}", org(o)?, self.target_sub(*target));
                req(by, "PATCH", path, with_bad(bad, body))
            }
            Act::UpdateOrg { by, org: o, name, metadata, bad } => {
                let mut body = json!({});
                if let Some(n) = name {
                    body["name"] = json!(n);
                }
                if let Some(m) = metadata {
                    body["metadata"] = meta_json(*m);
                }
                if *bad == Some(Bad::Metadata) {
                    body["metadata"] = json!(["not", "an", "object"]);
                }
                req(by, "PATCH", format!("/orgs/{}", org(o)?), with_bad(bad, body))
            }
            Act::Transfer { by, org: o, target, bad } => {
                let body = with_bad(bad, json!({ "userId": self.target_sub(*target) }));
                req(by, "POST", format!("/orgs/{}/transfer-ownership", org(o)?), body)
            }
            Act::Remove { by, org: o, target } => req(
                by,
                "DELETE",
                format!("/orgs/{}/members/{}", org(o)?, self.target_sub(*target)),
                Body::None,
            ),
            Act::BulkRemove { by, org: o, targets, bad } => {
                let ids: Vec<String> = if *bad == Some(Bad::Empty) {
                    vec![]
                } else {
                    targets.iter().map(|t| self.target_sub(*t)).collect()
                };
                let body = with_bad(bad, json!({ "userIds": ids }));
                req(by, "POST", format!("/orgs/{}/members/remove", org(o)?), body)
            }
            Act::GetOrg { by, org: o } => req(by, "GET", format!("/orgs/{}", org(o)?), Body::None),
            Act::DeleteOrg { by, org: o } => req(by, "DELETE", format!("/orgs/{}", org(o)?), Body::None),
            Act::GetMember { by, org: o, target } => {
                req(by, "GET", format!("/orgs/{}/members/{}", org(o)?, self.target_sub(*target)), Body::None)
            }
            Act::ListMembers { by, org: o, limit, role, status, bad, search } => {
                let mut query = search.query();
                if let (Some(r), false) = (role, *bad == Some(Bad::Role)) {
                    query.push(format!("role={}", r.as_str()));
                }
                if let Some(s) = status {
                    query.push(format!("status={}", s.as_str()));
                }
                let path = list_path(&format!("/orgs/{}/members", org(o)?), query, *limit, bad);
                req(by, "GET", path, Body::None)
            }
            Act::ListInvitations { by, org: o, limit, bad } => req(
                by,
                "GET",
                list_path(&format!("/orgs/{}/invitations", org(o)?), vec![], *limit, bad),
                Body::None,
            ),
            Act::ListLinks { by, org: o, limit, bad } => req(
                by,
                "GET",
                list_path(&format!("/orgs/{}/invite-links", org(o)?), vec![], *limit, bad),
                Body::None,
            ),
            Act::MyOrgs { by, limit } => req(by, "GET", format!("/orgs?limit={limit}"), Body::None),
            Act::CreateWorkspace { by, org: o, name, metadata } => {
                let mut body = json!({ "name": name });
                if *metadata != 0 {
                    body["metadata"] = meta_json(*metadata);
                }
                req(by, "POST", format!("/orgs/{}/workspaces", org(o)?), Body::Json(body))
            }
            Act::UpdateWorkspace { by, org: o, ws, name, metadata, bad } => {
                let mut body = json!({});
                if let Some(n) = name {
                    body["name"] = json!(n);
                }
                if let Some(m) = metadata {
                    body["metadata"] = meta_json(*m);
                }
                req(by, "PATCH", self.ws_path(*o, *ws)?, with_bad(bad, body))
            }
            Act::DeleteWorkspace { by, org: o, ws } => req(by, "DELETE", self.ws_path(*o, *ws)?, Body::None),
            Act::GetWorkspace { by, org: o, ws } => req(by, "GET", self.ws_path(*o, *ws)?, Body::None),
            Act::ListWorkspaces { by, org: o, limit } => {
                req(by, "GET", format!("/orgs/{}/workspaces?limit={limit}", org(o)?), Body::None)
            }
            Act::PutWsMember { by, org: o, ws, target, role, bad } => {
                let role = match bad {
                    Some(Bad::Role) => json!("owner"),
                    _ => json!(role.map(WsRole::as_str)),
                };
                let path = format!("{}/members/{}", self.ws_path(*o, *ws)?, self.target_sub(*target));
                req(by, "PUT", path, with_bad(bad, json!({ "role": role })))
            }
            Act::RemoveWsMember { by, org: o, ws, target } => {
                let path = format!("{}/members/{}", self.ws_path(*o, *ws)?, self.target_sub(*target));
                req(by, "DELETE", path, Body::None)
            }
            Act::ListWsMembers { by, org: o, ws, limit, bad } => {
                let path = list_path(&format!("{}/members", self.ws_path(*o, *ws)?), vec![], *limit, bad);
                req(by, "GET", path, Body::None)
            }
            Act::Grant { by, org: o, ws, group, role, bad } => {
                let role = if *bad == Some(Bad::Role) { "owner" } else { role.as_str() };
                let path = format!("{}/groups/{}", self.ws_path(*o, *ws)?, self.group_ids.get(group)?);
                req(by, "PUT", path, with_bad(bad, json!({ "role": role })))
            }
            Act::Revoke { by, org: o, ws, group } => {
                let path = format!("{}/groups/{}", self.ws_path(*o, *ws)?, self.group_ids.get(group)?);
                req(by, "DELETE", path, Body::None)
            }
            Act::CreateGroup { by, org: o, name } => {
                req(by, "POST", format!("/orgs/{}/groups", org(o)?), Body::Json(json!({ "name": name })))
            }
            Act::RenameGroup { by, org: o, group, name } => {
                req(by, "PATCH", self.group_path(*o, *group)?, Body::Json(json!({ "name": name })))
            }
            Act::DeleteGroup { by, org: o, group } => {
                req(by, "DELETE", self.group_path(*o, *group)?, Body::None)
            }
            Act::PutGroupMember { by, org: o, group, target } => {
                let path = format!("{}/members/{}", self.group_path(*o, *group)?, self.target_sub(*target));
                req(by, "PUT", path, Body::None)
            }
            Act::RemoveGroupMember { by, org: o, group, target } => {
                let path = format!("{}/members/{}", self.group_path(*o, *group)?, self.target_sub(*target));
                req(by, "DELETE", path, Body::None)
            }
            Act::ListGroupMembers { by, org: o, group, limit } => {
                let path = format!("{}/members?limit={limit}", self.group_path(*o, *group)?);
                req(by, "GET", path, Body::None)
            }
            Act::MemberWorkspaces { by, org: o, target } => {
                let path = format!("/orgs/{}/members/{}/workspaces", org(o)?, self.target_sub(*target));
                req(by, "GET", path, Body::None)
            }
            Act::CreateRole { by, org: o, key, base, perms } => {
                let body = json!({
                    "key": CUSTOM_KEYS[usize::from(*key)],
                    "name": format!("Role {}", CUSTOM_KEYS[usize::from(*key)]),
                    "base": base.as_str(),
                    "permissions": host_permissions(&self.catalog, *perms),
                });
                req(by, "POST", format!("/orgs/{}/roles", org(o)?), Body::Json(body))
            }
            Act::UpdateRole { by, org: o, key, perms } => {
                let body = json!({ "permissions": host_permissions(&self.catalog, *perms) });
                let path = format!("/orgs/{}/roles/{}", org(o)?, CUSTOM_KEYS[usize::from(*key)]);
                req(by, "PATCH", path, Body::Json(body))
            }
            Act::DeleteRole { by, org: o, key } => {
                let path = format!("/orgs/{}/roles/{}", org(o)?, CUSTOM_KEYS[usize::from(*key)]);
                req(by, "DELETE", path, Body::None)
            }
            Act::AssignCustom { by, org: o, target, key } => {
                let body = json!({ "role": CUSTOM_KEYS[usize::from(*key)] });
                let path = format!("/orgs/{}/members/{}", org(o)?, self.target_sub(*target));
                req(by, "PATCH", path, Body::Json(body))
            }
            // Not an API request: Cognito invokes the trigger (see `step`).
            Act::Advance { .. } | Act::Sweep | Act::SignUp { .. } | Act::ConfirmSignUp { .. } => return None,
            // Sent with a service's claims, or handed to `email-events` (see `step`).
            Act::Authorize { .. } | Act::SesEvent { .. } | Act::LiftPause { .. } => return None,
            Act::ReportUsage { .. } | Act::ReadUsage { .. } => return None,
        })
    }

    async fn send(&mut self, req: &Req) -> TestResponse {
        self.requests += 1;
        let user = req.by.map(|u| &self.world.users[u]);
        match &req.body {
            _ if req.ses_down => {
                let body = match &req.body {
                    Body::Json(v) => Some(v.clone()),
                    _ => None,
                };
                call_app(&self.offline, user, req.method, &req.path, body).await
            }
            Body::None => self.app.call(user, req.method, &req.path, None).await,
            Body::Json(v) => self.app.call(user, req.method, &req.path, Some(v.clone())).await,
            Body::Raw(content_type, bytes) => {
                let headers = [("content-type".to_owned(), (*content_type).to_owned())];
                self.app.call_raw(user, req.method, &req.path, &headers, bytes).await
            }
        }
    }

    async fn get(&mut self, by: UserIx, path: &str) -> TestResponse {
        self.requests += 1;
        self.app.call(Some(&self.world.users[by]), "GET", path, None).await
    }

    /// A usage report by a service holding `roster/usage`, each record's status checked
    /// against the model's. Quantities go as JSON numbers (their shortest text is the
    /// decimal's) or, for odd ids, as strings; `at` relative to the instant the model decides at.
    async fn usage_report(&mut self, op: &Op, org: &str, records: &[UsageRec]) -> Result<(), String> {
        let now = self.app.now();
        let body: Vec<Value> = records
            .iter()
            .map(|r| {
                let metric = USAGE_METRICS[r.metric];
                let metric = if r.bad_metric { format!("{metric}#") } else { metric.to_owned() };
                let text = usage_quantity(r.hundredths);
                let quantity = if r.id % 2 == 0 {
                    serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)
                } else {
                    json!(text)
                };
                let at = now.plus_millis(-r.age_minutes * 60_000).to_string();
                json!({ "id": format!("rec-{}", r.id), "userId": self.sub(r.user), "metric": metric,
                        "quantity": quantity, "at": at })
            })
            .collect();
        let claims = crate::harness::service_claims("dev-service", roster::http::routes::scopes::USAGE);
        self.requests += 1;
        let path = format!("/orgs/{org}/usage");
        let r = call_app_with_claims(
            &self.app.app,
            Some(&claims),
            "POST",
            &path,
            Some(json!({ "records": body })),
        )
        .await;
        let expected = self.model.apply(op, now.epoch_millis());
        for label in outcome_labels(&expected) {
            *self.tally.entry(format!("{} {label}", op.act.kind())).or_default() += 1;
        }
        match expected {
            Outcome::UsageResults(want) => {
                ensure!(r.status == 200, "answered {} {} but the model says 200 {want:?}", r.status, r.body);
                let results = r.body["results"].as_array().cloned().unwrap_or_default();
                let ids: Vec<String> =
                    results.iter().map(|x| x["id"].as_str().unwrap_or("?").to_owned()).collect();
                let sent: Vec<String> = records.iter().map(|r| format!("rec-{}", r.id)).collect();
                ensure!(ids == sent, "results for {ids:?} but the request sent {sent:?}");
                let shown: Vec<&str> = results.iter().map(|x| x["status"].as_str().unwrap_or("?")).collect();
                ensure!(shown == want, "statuses {shown:?} but the model says {want:?}");
            }
            Outcome::Error(status, code) => ensure!(
                r.status == status && r.code() == code,
                "answered {} {} but the model says {status} {code}",
                r.status,
                r.body
            ),
            other => return Err(format!("a usage report answers 200 or an error, not {other:?}")),
        }
        Ok(())
    }

    /// A read of usage totals over the `days` UTC days to today, each total checked exactly.
    async fn usage_read(
        &mut self,
        op: &Op,
        org: &str,
        by: UserIx,
        only: Option<UserIx>,
        (metric, by_day, days): (usize, bool, i64),
    ) -> Result<(), String> {
        let now = self.app.now().epoch_millis();
        let day_text = |day: i64| {
            chrono::DateTime::from_timestamp(day * DAY_MS / 1000, 0)
                .map(|t| t.date_naive().format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        let to = now.div_euclid(DAY_MS);
        let from = to - (days - 1);
        let mut path = format!(
            "/orgs/{org}/usage?metric={}&from={}&to={}&groupBy={}",
            USAGE_METRICS[metric],
            day_text(from),
            day_text(to),
            if by_day { "day" } else { "member" }
        );
        if let Some(user) = only {
            path.push_str(&format!("&userId={}", self.sub(user)));
        }
        let r = self.get(by, &path).await;
        let expected = self.model.apply(op, now);
        for label in outcome_labels(&expected) {
            *self.tally.entry(format!("{} {label}", op.act.kind())).or_default() += 1;
        }
        match expected {
            Outcome::UsageTotals { rows, .. } => {
                ensure!(r.status == 200, "answered {} {} but the model says 200", r.status, r.body);
                let key = if by_day { "day" } else { "userId" };
                let shown: Vec<(String, String)> = r.body["totals"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|t| {
                        (
                            t[key].as_str().unwrap_or("?").to_owned(),
                            t["total"].as_str().unwrap_or("?").to_owned(),
                        )
                    })
                    .collect();
                let mut want: Vec<(String, String)> = rows
                    .iter()
                    .map(|(k, total)| {
                        let k = match k {
                            UsageKey::Member(u) => self.sub(*u).to_owned(),
                            UsageKey::Day(d) => day_text(*d),
                        };
                        (k, usage_quantity(*total))
                    })
                    .collect();
                want.sort();
                ensure!(shown == want, "totals {shown:?} but the model says {want:?}");
            }
            Outcome::Error(status, code) => ensure!(
                r.status == status && r.code() == code,
                "answered {} {} but the model says {status} {code}",
                r.status,
                r.body
            ),
            other => return Err(format!("a usage read answers 200 or an error, not {other:?}")),
        }
        Ok(())
    }

    /// Moves the app's clock so that no expiry lies near "now": a step is decided at some
    /// instant between its start and end, and the model must know on which side it falls.
    fn clear_of_expiries(&self) {
        for _ in 0..200 {
            let now = self.app.now().epoch_millis();
            if !self.model.expiries().any(|e| e > now - 3_000 && e <= now + 20_000) {
                return;
            }
            self.app.advance(Duration::from_secs(30));
        }
    }

    /// Runs one step and checks it. `Ok(false)`: skipped (it names something never made).
    pub async fn step(&mut self, op: &Op) -> Result<bool, String> {
        match &op.act {
            Act::Advance { minutes } => {
                self.app.advance(Duration::from_secs(u64::from(*minutes) * 60));
                self.clear_of_expiries();
                self.observe_with(false).await?;
                return Ok(true);
            }
            Act::Sweep => {
                self.clear_of_expiries();
                let now = self.app.now().epoch_millis();
                self.sweep(now).await;
                let left = self.left_behind();
                self.model.apply(op, now);
                // The purge moves the workspaces and groups only of the organizations whose
                // removed members' grace ran out: theirs are observed whole.
                let cleared: Vec<Ref> = self
                    .left_behind()
                    .iter()
                    .filter(|(org, n)| left.get(org).is_some_and(|before| before > n))
                    .map(|(org, _)| *org)
                    .collect();
                if !cleared.is_empty() {
                    if std::env::var_os("ROSTER_MODEL_VERBOSE").is_some() {
                        println!(
                            "model: #{} the sweep cleared what removed members left in workspaces and groups",
                            op.id
                        );
                    }
                    *self
                        .tally
                        .entry("ttl-sweep clears a removed member's workspaces and groups".into())
                        .or_default() += 1;
                }
                self.observe_with(false).await?;
                self.deep = true;
                for org in cleared {
                    self.observe_all_workspaces(org).await?;
                }
                return Ok(true);
            }
            Act::Authorize { caller, checks, bad } => {
                // It changes nothing: no observation follows.
                self.authorize(*caller, checks, *bad).await?;
                return Ok(true);
            }
            Act::SesEvent { inv, kind, stale } => {
                // SES's published JSON, handed to the handler as the default bus's rule would.
                let (Some(id), Some(i)) = (self.inv_ids.get(inv).cloned(), self.model.invitations.get(inv))
                else {
                    return Ok(false);
                };
                let org = self.org_ids[&i.org].clone();
                let send = if *stale { i.send.checked_sub(1).unwrap_or(i.send + 1) } else { i.send };
                let event = crate::ses_proxy::ses_event(kind.fixture(), &org, &id, send);
                self.requests += 1;
                let answer = roster::handlers::email_events::handle(&self.app.app, event)
                    .await
                    .map_err(|e| format!("email-events failed: {}", e.code()))?;
                let expected = self.model.apply(op, self.app.now().epoch_millis());
                for label in outcome_labels(&expected) {
                    *self.tally.entry(format!("{} {label}", op.act.kind())).or_default() += 1;
                }
                let Outcome::Moved(moved) = expected else { unreachable!("an SES event answers Moved") };
                ensure!(
                    answer["moved"] == json!(moved),
                    "moved {} but the model says {moved}",
                    answer["moved"]
                );
                let org_ref = self.model.invitations[inv].org;
                self.observe_some(&[org_ref], &BTreeSet::new()).await?;
                return Ok(true);
            }
            Act::LiftPause { org } => {
                let Some(id) = self.org_ids.get(org).cloned() else { return Ok(false) };
                let claims =
                    crate::harness::service_claims("dev-service", roster::http::routes::scopes::ADMIN);
                self.requests += 1;
                let path = format!("/orgs/{id}/email-pause");
                let r = call_app_with_claims(&self.app.app, Some(&claims), "DELETE", &path, None).await;
                let expected = self.model.apply(op, self.app.now().epoch_millis());
                for label in outcome_labels(&expected) {
                    *self.tally.entry(format!("{} {label}", op.act.kind())).or_default() += 1;
                }
                match expected {
                    Outcome::NoContent => ensure!(r.status == 204, "answered {} {}", r.status, r.body),
                    Outcome::Error(status, code) => ensure!(
                        r.status == status && r.code() == code,
                        "answered {} {} but the model says {status} {code}",
                        r.status,
                        r.body
                    ),
                    other => return Err(format!("a lift answers 204 or an error, not {other:?}")),
                }
                if self.model.orgs.contains_key(org) {
                    self.observe_some(&[*org], &BTreeSet::new()).await?;
                }
                return Ok(true);
            }
            Act::ReportUsage { org, records } => {
                // It changes nothing a list shows: no observation follows (the reads check
                // the totals).
                let Some(id) = self.org_ids.get(org).cloned() else { return Ok(false) };
                self.usage_report(op, &id, records).await?;
                return Ok(true);
            }
            Act::ReadUsage { by: Some(by), org, only, metric, by_day, days } => {
                let Some(id) = self.org_ids.get(org).cloned() else { return Ok(false) };
                self.usage_read(op, &id, *by, *only, (*metric, *by_day, *days)).await?;
                return Ok(true);
            }
            Act::ConfirmSignUp { by, reset } => {
                self.clear_of_expiries();
                self.confirm_sign_up(op, *by, *reset).await?;
                return Ok(true);
            }
            Act::SignUp { trigger, addr, verified } => {
                // The handler the `pre-sign-up` function runs, as Cognito would invoke it.
                self.clear_of_expiries();
                let address = addr.map(|a| self.world.pool.render(a));
                let event =
                    crate::cognito::pre_sign_up_event(trigger.source(), address.as_deref(), *verified);
                let before = self.app.now().epoch_millis();
                self.requests += 1;
                let answer = roster::handlers::pre_sign_up::handle(&self.app.app, event.clone()).await;
                let expected = self.model.apply(op, before);
                for label in outcome_labels(&expected) {
                    *self.tally.entry(format!("{} {label}", op.act.kind())).or_default() += 1;
                }
                // It changes nothing: no observation follows.
                check_sign_up(&expected, answer, &event)?;
                return Ok(true);
            }
            _ => {}
        }
        let Some(req) = self.request(&op.act) else { return Ok(false) };
        if super::generate::skipped(&self.model, &op.act, &self.skip) {
            return Ok(false);
        }
        let memberships_before = self.memberships();
        let ws_affected =
            op.act.workspace_org().map(|org| self.ws_affected(&op.act, org)).unwrap_or_default();
        self.clear_of_expiries();
        let mail_since = real_epoch_seconds() - 2;
        let before = self.app.now().epoch_millis();
        let response = self.send(&req).await;
        let after = self.app.now().epoch_millis();
        let replaced_before = self.model.replaced;
        let expected = self.model.apply(op, before);
        for label in outcome_labels(&expected) {
            *self.tally.entry(format!("{} {label}", op.act.kind())).or_default() += 1;
        }
        if self.model.replaced > replaced_before {
            *self.tally.entry(format!("{} replaces a personal organization", op.act.kind())).or_default() +=
                1;
        }
        if response.status >= 500 && response.status != 502 {
            return Err(format!("answered {} {}", response.status, response.body));
        }
        self.check(op, &req, &expected, response, (before, after), mail_since).await?;
        self.steps += 1;
        if self.steps % FULL_OBSERVATION_EVERY == 0 {
            // Workspaces and groups are observed after each step that may move them; all of
            // them only every few full observations (they cost as much again).
            let workspaces = self.steps % (FULL_OBSERVATION_EVERY * WORKSPACE_OBSERVATION_EVERY) == 0;
            self.observe_with(workspaces).await?;
        } else if let Some(org) = op.act.workspace_org() {
            // A workspace or group step changes nothing else; one refused changes nothing.
            let look = self.look_after(&op.act, org, &ws_affected);
            if let (Some(look), false) = (look, matches!(expected, Outcome::Error(..))) {
                self.observe_workspaces(org, &look).await?;
            }
        } else {
            // What this step may have changed: its organization, and the users whose
            // memberships moved (plus the caller).
            let orgs: Vec<Ref> = match (act_org(&op.act), &op.act) {
                (Some(org), _) => vec![org],
                (
                    None,
                    Act::Accept { token: TokArg::Issued(t), .. }
                    | Act::Decline { token: TokArg::Issued(t), .. },
                ) => self.model.tokens.get(t).map(|t| self.org_of(t.target)).into_iter().flatten().collect(),
                (None, Act::CreateOrg { .. }) => vec![Ref { step: op.id, n: 0 }],
                _ => vec![],
            };
            let after = self.memberships();
            let moved: BTreeSet<(UserIx, Ref)> =
                after.symmetric_difference(&memberships_before).map(|(u, o, ..)| (*u, *o)).collect();
            let mut users: BTreeSet<UserIx> = moved.iter().map(|(u, _)| *u).collect();
            users.extend(req.by);
            self.observe_some(&orgs, &users).await?;
            // Their access to the workspaces of organizations that have some: a role change,
            // a suspension, a reactivation or a joining moves it.
            let ws_orgs: BTreeSet<Ref> =
                moved.iter().map(|(_, o)| *o).filter(|o| self.ws_orgs.contains(o)).collect();
            for org in ws_orgs {
                let users = moved.iter().filter(|(_, o)| *o == org).map(|(u, _)| *u).collect();
                self.observe_workspaces(org, &Look { users, ..Look::default() }).await?;
            }
        }
        Ok(true)
    }

    /// `POST /authorize` as `caller`, every result held to the model's answer.
    async fn authorize(
        &mut self,
        caller: authorize::Caller,
        checks: &[authorize::AuthCheck],
        bad: Option<Bad>,
    ) -> Result<(), String> {
        let sub = |u: UserIx| self.world.infos[u].sub.clone();
        let org = |r: Ref| self.org_ids.get(&r).cloned();
        let ws = |r: Ref| self.ws_ids.get(&r).cloned();
        let body = authorize::body(checks, bad, &authorize::Ids { sub: &sub, org: &org, ws: &ws });
        let claims = authorize::claims(caller, &self.world.users);
        self.requests += 1;
        let r = call_app_with_claims(&self.app.app, claims.as_ref(), "POST", "/authorize", Some(body)).await;
        let expected = authorize::expect(&self.model, &self.catalog, caller, checks, bad);
        let labels: Vec<String> = match &expected {
            Err((status, code)) => vec![format!("{status} {code}")],
            Ok(answers) => answers
                .iter()
                .zip(checks)
                .map(|(a, c)| match self.catalog.permissions.get(&c.permission) {
                    Some(p) => format!("{} ({:?} scope)", a.reason, p.scope),
                    None => a.reason.to_owned(),
                })
                .collect(),
        };
        for label in labels {
            *self.tally.entry(format!("authorize {label}")).or_default() += 1;
        }
        let answers = match expected {
            Err((status, code)) => {
                ensure!(
                    r.status == status && r.code() == code,
                    "answered {} {} but the model says {status} {code}",
                    r.status,
                    r.body
                );
                return Ok(());
            }
            Ok(answers) => answers,
        };
        ensure!(r.status == 200, "answered {} {} but the model says 200", r.status, r.body);
        let results = r.body["results"].as_array().ok_or_else(|| format!("no results: {}", r.body))?;
        ensure!(
            results.len() == answers.len(),
            "{} results for {} checks: {}",
            results.len(),
            answers.len(),
            r.body
        );
        for (i, (got, want)) in results.iter().zip(&answers).enumerate() {
            let fits = got["allowed"] == json!(want.allowed)
                && got["reason"] == json!(want.reason)
                && got["role"] == json!(want.role);
            ensure!(
                fits,
                "check [{i}] ({}) answered {got} but the model says {want}",
                authorize::show(&checks[i], &self.world.names)
            );
        }
        Ok(())
    }

    /// The organization of an invitation or link, even one the model has dropped.
    fn org_of(&self, target: TokenFor) -> Option<Ref> {
        let id = match target {
            TokenFor::Invitation(r) | TokenFor::Link(r) => r,
        };
        self.created_in.get(&id).copied()
    }

    /// Direct workspace memberships and group places the model holds, of any joining.
    fn left_behind(&self) -> BTreeMap<Ref, usize> {
        self.model
            .orgs
            .iter()
            .map(|(r, o)| {
                let n = o.workspaces.values().map(|w| w.direct.len()).sum::<usize>()
                    + o.groups.values().map(|g| g.members.len()).sum::<usize>();
                (*r, n)
            })
            .collect()
    }

    /// `(user, org, role, status)` of every membership in the model.
    fn memberships(&self) -> BTreeSet<(UserIx, Ref, Role, &'static str)> {
        self.model
            .orgs
            .iter()
            .flat_map(|(o, org)| org.members.iter().map(move |(u, m)| (*u, *o, m.role, m.status.as_str())))
            .collect()
    }

    /// DynamoDB's TTL, all at once: every item whose expiry attribute has passed goes.
    async fn sweep(&self, now_ms: i64) {
        use aws_sdk_dynamodb::types::AttributeValue;
        let now = now_ms.div_euclid(1000);
        for item in self.app.all_items().await {
            let Some(AttributeValue::N(epoch)) = item.get(roster::store::keys::TTL) else { continue };
            if epoch.parse::<i64>().is_ok_and(|e| e <= now) {
                self.app
                    .dynamo
                    .delete_item()
                    .table_name(self.app.table())
                    .key("PK", item["PK"].clone())
                    .key("SK", item["SK"].clone())
                    .send()
                    .await
                    .expect("delete an expired item");
            }
        }
        // The scheduled purge catches up too (organizations deleted past its grace period).
        roster::handlers::purge::run(&self.app.app, || true).await.expect("purge");
    }

    /// Messages the SES emulator received since `since` (epoch seconds) that this run has
    /// not seen yet, by recipient.
    async fn new_mail(&mut self, since: i64) -> HashMap<String, Vec<Value>> {
        // The queued emails go out first, as the sender sends them in AWS.
        self.app.drain_mail().await;
        let url = std::env::var("ROSTER_TEST_SES_STORE").expect("ROSTER_TEST_SES_STORE is set");
        let store = http_get_json(&format!("{url}?since={since}")).await;
        let mut by_address: HashMap<String, Vec<Value>> = HashMap::new();
        let mine: HashSet<&String> = self.world.pool.addresses.iter().collect();
        for message in store["emails"].as_array().cloned().unwrap_or_default() {
            let id = message["messageId"].as_str().unwrap_or_default().to_owned();
            let recipients: Vec<String> = message["destination"]["to"]
                .as_array()
                .map(|to| to.iter().filter_map(|a| a.as_str().map(str::to_lowercase)).collect())
                .unwrap_or_default();
            if !recipients.iter().any(|a| mine.contains(a)) || !self.seen_mail.insert(id) {
                continue;
            }
            for address in recipients {
                by_address.entry(address).or_default().push(message.clone());
            }
        }
        by_address
    }

    /// The one new invitation email to `address`, its accept token, and a check that it names
    /// the organization and the role.
    fn mailed_token(
        &self,
        mail: &HashMap<String, Vec<Value>>,
        address: &str,
        org: Ref,
        role: Role,
    ) -> Result<String, String> {
        let messages = mail.get(address).map(Vec::as_slice).unwrap_or_default();
        ensure!(messages.len() == 1, "expected one new email to {address}, found {}", messages.len());
        let text = messages[0]["body"]["text"].as_str().unwrap_or_default();
        let subject = messages[0]["subject"].as_str().unwrap_or_default();
        let org_name = &self.model.orgs[&org].name;
        ensure!(
            subject.contains(org_name.as_str()) || text.contains(org_name.as_str()),
            "the email does not name the org: {subject}"
        );
        ensure!(text.contains(role.as_str()), "the email does not name the role {}: {text}", role.as_str());
        let start = text.find("token=").ok_or("no accept link in the email")? + "token=".len();
        let token = text[start..].split_whitespace().next().unwrap_or_default().to_owned();
        ensure!(
            text.contains(&format!("{}/invite?token={token}", self.app.app.config.app_url)),
            "accept link: {text}"
        );
        Ok(token)
    }

    #[allow(clippy::too_many_arguments)]
    async fn check(
        &mut self,
        op: &Op,
        req: &Req,
        expected: &Outcome,
        response: TestResponse,
        (before, after): (i64, i64),
        mail_since: i64,
    ) -> Result<(), String> {
        let r = &response;
        let status_is = |want: u16| -> Result<(), String> {
            ensure!(
                r.status == want,
                "answered {} {} but the model says {want} ({expected:?})",
                r.status,
                r.body
            );
            Ok(())
        };
        match expected {
            Outcome::SignUp(_) | Outcome::SignUpOrg(_) => {
                return Err("a sign-up is checked where it runs, in `step`".into());
            }
            Outcome::Moved(_) => return Err("an SES event is checked where it runs, in `step`".into()),
            Outcome::UsageResults(_) | Outcome::UsageTotals { .. } => {
                return Err("usage is checked where it runs, in `step`".into());
            }
            Outcome::Error(status, code) => {
                ensure!(
                    r.status == *status && r.code() == *code,
                    "answered {} {} but the model says {status} {code}",
                    r.status,
                    r.body
                );
                if let Act::AddUser { addr, .. } = &op.act {
                    self.no_account_made(*addr).await?;
                }
                ensure!(
                    r.content_type.as_deref() == Some("application/problem+json"),
                    "content type {:?}",
                    r.content_type
                );
            }
            Outcome::NoContent => status_is(204)?,
            Outcome::Either(first, second) => {
                let fits = |o: &Outcome| match o {
                    Outcome::Error(status, code) => {
                        r.status == *status
                            && r.code() == *code
                            && r.content_type.as_deref() == Some("application/problem+json")
                    }
                    Outcome::NoContent => r.status == 204,
                    other => unreachable!("only errors and 204 are alternatives: {other:?}"),
                };
                ensure!(
                    fits(first) || fits(second),
                    "answered {} {} but the model says {first:?} or {second:?}",
                    r.status,
                    r.body
                );
            }
            Outcome::Local => {}
            Outcome::OrgCreated(org) => {
                status_is(201)?;
                let id = r.body["org"]["id"].as_str().ok_or("no org id")?.to_owned();
                self.org_ids.insert(*org, id);
                self.check_org(&r.body["org"], *org)?;
                let Act::CreateOrg { by, .. } = op.act else { unreachable!() };
                self.check_member(&r.body["membership"], *org, by)?;
            }
            Outcome::Invited(items) => {
                status_is(200)?;
                let Act::Invite { hours, org, .. } = &op.act else { unreachable!() };
                let hours = hours.unwrap_or(self.model.cfg.ttl_hours);
                let results = r.body["results"].as_array().ok_or("no results")?;
                let shown: Vec<(String, String)> = results
                    .iter()
                    .map(|x| {
                        (
                            x["email"].as_str().unwrap_or("?").to_owned(),
                            x["status"].as_str().unwrap_or("?").to_owned(),
                        )
                    })
                    .collect();
                let want: Vec<(String, String)> =
                    items.iter().map(|i| (i.email.clone(), i.status.to_owned())).collect();
                ensure!(shown == want, "results {shown:?} but the model says {want:?}");
                let mail = if req.ses_down { HashMap::new() } else { self.new_mail(mail_since).await };
                for (item, actual) in items.iter().zip(results) {
                    let Some(inv) = item.invitation else {
                        ensure!(
                            actual.get("invitation").is_none_or(Value::is_null),
                            "{}: an invitation in {actual}",
                            item.email
                        );
                        ensure!(
                            !mail.contains_key(&item.email),
                            "{} ({}) was emailed",
                            item.email,
                            item.status
                        );
                        continue;
                    };
                    let shown = &actual["invitation"];
                    let id = shown["id"].as_str().ok_or("no invitation id")?.to_owned();
                    self.inv_ids.insert(inv, id);
                    self.created_in.insert(inv, *org);
                    let expires = millis(&shown["expiresAt"]).ok_or("no expiresAt")?;
                    let (lo, hi) = (before + hours * HOUR_MS, after + hours * HOUR_MS);
                    ensure!(
                        (lo..=hi).contains(&expires),
                        "expiresAt {} not {hours}h after the request",
                        shown["expiresAt"]
                    );
                    self.model.invitations.get_mut(&inv).expect("invited").expires_at = expires;
                    self.check_invitation_as(shown, inv, after, true)?;
                    if req.ses_down {
                        ensure!(!mail.contains_key(&item.email), "{} was emailed with SES down", item.email);
                    } else {
                        let role = self.model.invitations[&inv].role;
                        let token = self.mailed_token(&mail, &item.email, *org, role)?;
                        self.tokens.insert(inv, token);
                    }
                }
            }
            Outcome::AccountInvited(inv) => {
                status_is(201)?;
                self.account_invited(r, *inv, (before, after), mail_since).await?;
            }
            Outcome::Resent(inv) => {
                status_is(200)?;
                let shown = &r.body["invitation"];
                let expires = millis(&shown["expiresAt"]).ok_or("no expiresAt")?;
                let ttl = self.model.cfg.ttl_hours * HOUR_MS;
                ensure!(
                    (before + ttl..=after + ttl).contains(&expires),
                    "expiresAt {} is not a fresh expiry",
                    shown["expiresAt"]
                );
                self.model.invitations.get_mut(inv).expect("resent").expires_at = expires;
                self.check_invitation_as(shown, *inv, after, true)?;
                let mail = self.new_mail(mail_since).await;
                let i = &self.model.invitations[inv];
                let token = self.mailed_token(&mail, &i.email.clone(), i.org, i.role)?;
                self.tokens.insert(Ref { step: op.id, n: 0 }, token);
            }
            Outcome::LinkCreated(link) => {
                status_is(201)?;
                let shown = &r.body["link"];
                let Act::CreateLink { hours, .. } = &op.act else { unreachable!() };
                let hours = hours.unwrap_or(self.model.cfg.ttl_hours);
                let id = shown["id"].as_str().ok_or("no link id")?.to_owned();
                self.link_ids.insert(*link, id);
                self.created_in.insert(*link, self.model.links[link].org);
                let expires = millis(&shown["expiresAt"]).ok_or("no expiresAt")?;
                ensure!(
                    (before + hours * HOUR_MS..=after + hours * HOUR_MS).contains(&expires),
                    "expiresAt {} is not {hours}h after the request",
                    shown["expiresAt"]
                );
                self.model.links.get_mut(link).expect("created").expires_at = expires;
                self.check_link(shown, *link)?;
                let token = shown["token"].as_str().ok_or("no token")?.to_owned();
                let url = format!("{}/invite?token={token}", self.app.app.config.app_url);
                ensure!(shown["url"] == json!(url), "url {} for token {token}", shown["url"]);
                self.tokens.insert(*link, token);
            }
            Outcome::Preview(view) => {
                status_is(200)?;
                let b = &r.body;
                let want = json!({
                    "kind": view.kind,
                    "org": { "id": self.org_ids[&view.org], "name": self.model.orgs[&view.org].name },
                    "role": view.role.as_str(),
                    "invitedBy": { "name": self.world.infos[view.sender].name },
                    "status": view.status,
                    "revokedReason": view.reason,
                    "email": view.email,
                });
                for key in ["kind", "org", "role", "invitedBy", "status", "revokedReason", "email"] {
                    ensure!(
                        b[key] == want[key],
                        "preview {key} is {} but the model says {}",
                        b[key],
                        want[key]
                    );
                }
                ensure!(
                    b.get("revokedReason").is_some() == view.reason.is_some()
                        && b.get("email").is_some() == view.email.is_some(),
                    "preview {b} has fields the model does not show"
                );
                ensure!(
                    millis(&b["expiresAt"]) == Some(view.expires_at),
                    "preview expiresAt {}",
                    b["expiresAt"]
                );
            }
            Outcome::Joined { org, user } => {
                status_is(200)?;
                self.check_org(&r.body["org"], *org)?;
                self.check_member(&r.body["membership"], *org, *user)?;
            }
            Outcome::OrgUpdated(org) => {
                status_is(200)?;
                self.check_org(&r.body["org"], *org)?;
            }
            Outcome::OrgView { org, user } => {
                status_is(200)?;
                self.check_org(&r.body["org"], *org)?;
                self.check_member(&r.body["membership"], *org, *user)?;
                self.check_seats(&r.body, *org)?;
                self.check_you(&r.body["you"], *org, *user)?;
            }
            Outcome::Member { org, user } => {
                status_is(200)?;
                self.check_member(&r.body["member"], *org, *user)?;
            }
            Outcome::Transferred { org, from, to } => {
                status_is(200)?;
                self.check_member(&r.body["from"], *org, *from)?;
                self.check_member(&r.body["to"], *org, *to)?;
            }
            Outcome::Bulk(results) => {
                status_is(200)?;
                let shown: Vec<(String, String)> = r.body["results"]
                    .as_array()
                    .ok_or("no results")?
                    .iter()
                    .map(|x| {
                        (
                            x["userId"].as_str().unwrap_or("?").to_owned(),
                            x["status"].as_str().unwrap_or("?").to_owned(),
                        )
                    })
                    .collect();
                let want: Vec<(String, String)> =
                    results.iter().map(|(t, s)| (self.target_sub(*t), (*s).to_owned())).collect();
                ensure!(shown == want, "results {shown:?} but the model says {want:?}");
            }
            Outcome::Members { org, role, status, search } => {
                let Act::ListMembers { by, limit, .. } = &op.act else { unreachable!() };
                let items =
                    self.pages(by.expect("a member"), &req.path, "members", *limit, Some(response)).await?;
                // A search lists fewer than the filters alone: the order check below holds
                // the list to exactly the model's matches; here, each as the model has it.
                if search.q.is_some_and(|q| !terms(q).is_empty()) {
                    for m in &items {
                        let user = self.world.infos.iter().position(|u| m["userId"] == json!(u.sub));
                        self.check_member(m, *org, user.ok_or_else(|| format!("unknown member {m}"))?)?;
                    }
                } else {
                    self.check_members(&items, *org, *role, *status)?;
                }
                self.check_member_order(&items, *org, *role, *status, search)?;
            }
            Outcome::Invitations(org) => {
                let Act::ListInvitations { by, limit, .. } = &op.act else { unreachable!() };
                let items = self
                    .pages(by.expect("a member"), &req.path, "invitations", *limit, Some(response))
                    .await?;
                self.check_invitations(&items, *org, after)?;
            }
            Outcome::Links(org) => {
                let Act::ListLinks { by, limit, .. } = &op.act else { unreachable!() };
                let items =
                    self.pages(by.expect("a member"), &req.path, "links", *limit, Some(response)).await?;
                self.check_links(&items, *org)?;
            }
            Outcome::MyOrgs(user) => {
                let Act::MyOrgs { limit, .. } = &op.act else { unreachable!() };
                let items = self.pages(*user, &req.path, "orgs", *limit, Some(response)).await?;
                self.check_my_orgs(&items, *user)?;
            }
            Outcome::WorkspaceCreated { org, ws, user } => {
                status_is(201)?;
                let id = r.body["workspace"]["id"].as_str().ok_or("no workspace id")?.to_owned();
                ensure!(id.starts_with("ws_"), "workspace id {id}");
                self.ws_ids.insert(*ws, id);
                self.ws_orgs.insert(*org);
                self.check_workspace(&r.body["workspace"], *org, *ws, Some(*user))?;
            }
            Outcome::WorkspaceView { org, ws, user } => {
                status_is(200)?;
                self.check_workspace(&r.body["workspace"], *org, *ws, Some(*user))?;
                if let Act::GetWorkspace { .. } = op.act {
                    self.check_grants(&r.body["groups"], *org, *ws)?;
                }
            }
            Outcome::Workspaces { org, user } => {
                let Act::ListWorkspaces { limit, .. } = &op.act else { unreachable!() };
                let items = self.pages(*user, &req.path, "workspaces", *limit, Some(response)).await?;
                self.check_workspace_list(&items, *org, *user)?;
            }
            Outcome::WsMember { org, ws, user, created } => {
                status_is(if *created { 201 } else { 200 })?;
                self.check_ws_row(&r.body["member"], *org, *ws, *user)?;
            }
            Outcome::WsMembers { org, ws } => {
                let Act::ListWsMembers { by, limit, .. } = &op.act else { unreachable!() };
                let items =
                    self.pages(by.expect("a member"), &req.path, "members", *limit, Some(response)).await?;
                self.check_ws_rows(&items, *org, *ws)?;
            }
            Outcome::Granted { ws, group, role, created } => {
                status_is(if *created { 201 } else { 200 })?;
                let g = &r.body["grant"];
                let want = json!({ "workspaceId": self.ws_ids[ws], "groupId": self.group_ids[group], "role": role.as_str() });
                for key in ["workspaceId", "groupId", "role"] {
                    ensure!(
                        g[key] == want[key],
                        "grant {key} is {} but the model says {}",
                        g[key],
                        want[key]
                    );
                }
            }
            Outcome::GroupView { org, group, created } => {
                status_is(if *created { 201 } else { 200 })?;
                if *created {
                    let id = r.body["group"]["id"].as_str().ok_or("no group id")?.to_owned();
                    ensure!(id.starts_with("grp_"), "group id {id}");
                    self.group_ids.insert(*group, id);
                    self.ws_orgs.insert(*org);
                }
                self.check_group(&r.body["group"], *org, *group)?;
            }
            Outcome::GroupMember { org, group, user, created } => {
                status_is(if *created { 201 } else { 200 })?;
                self.check_group_row(&r.body["member"], *org, *user)?;
                let _ = group;
            }
            Outcome::GroupMembers { org, group } => {
                let Act::ListGroupMembers { by, limit, .. } = &op.act else { unreachable!() };
                let items =
                    self.pages(by.expect("a member"), &req.path, "members", *limit, Some(response)).await?;
                self.check_group_rows(&items, *org, *group)?;
            }
            Outcome::MemberWorkspaces { org, user } => {
                status_is(200)?;
                let items = r.body["workspaces"].as_array().ok_or("no workspaces")?;
                ensure!(r.body.get("nextCursor").is_none_or(Value::is_null), "a member's workspaces paged");
                self.check_member_workspaces(items, *org, *user)?;
            }
            Outcome::Role { org, key, created } => {
                status_is(if *created { 201 } else { 200 })?;
                let role = self.model.orgs[org].roles[key];
                let shown = &r.body["role"];
                let want = json!({
                    "key": CUSTOM_KEYS[usize::from(*key)],
                    "base": role.base.as_str(),
                    "builtin": false,
                    "permissions": host_permissions(&self.catalog, role.perms),
                });
                for field in ["key", "base", "builtin", "permissions"] {
                    ensure!(
                        shown[field] == want[field],
                        "role {}: {field} is {} but the model says {}",
                        want["key"],
                        shown[field],
                        want[field]
                    );
                }
            }
        }
        // A failed resend rotated the token and expiry, but says nothing of them.
        if let (Act::Resend { inv, .. }, Outcome::Error(502, _)) = (&op.act, expected) {
            let ttl = self.model.cfg.ttl_hours * HOUR_MS;
            self.approximate.insert(*inv, (before + ttl, after + ttl));
        }
        Ok(())
    }

    /// Every page of a list, following `nextCursor`; `first` is the first page if already
    /// fetched. `path` carries the query of the first page.
    async fn pages(
        &mut self,
        by: UserIx,
        path: &str,
        key: &str,
        limit: u32,
        first: Option<TestResponse>,
    ) -> Result<Vec<Value>, String> {
        let mut items = Vec::new();
        let mut next = first;
        let mut cursor: Option<String> = None;
        for _ in 0..500 {
            let page = match next.take() {
                Some(page) => page,
                None => {
                    let sep = if path.contains('?') { '&' } else { '?' };
                    match cursor.as_deref() {
                        Some(c) => self.get(by, &format!("{path}{sep}cursor={c}")).await,
                        None => self.get(by, path).await,
                    }
                }
            };
            ensure!(page.status == 200, "{path} answered {} {}", page.status, page.body);
            let list =
                page.body[key].as_array().ok_or_else(|| format!("{path}: no {key} in {}", page.body))?;
            ensure!(list.len() <= limit as usize, "{path}: {} items on a page of {limit}", list.len());
            items.extend(list.iter().cloned());
            match &page.body["nextCursor"] {
                Value::Null if page.body.get("nextCursor").is_some() => return Ok(items),
                Value::String(c) => cursor = Some(c.clone()),
                other => return Err(format!("{path}: nextCursor {other}")),
            }
        }
        Err(format!("{path}: more than 500 pages"))
    }

    fn check_org(&self, shown: &Value, org: Ref) -> Result<(), String> {
        let o = &self.model.orgs[&org];
        let want = json!({
            "id": self.org_ids[&org],
            "name": o.name,
            "memberCount": o.members.len(),
            "metadata": meta_json(o.metadata),
        });
        for key in ["id", "name", "memberCount", "metadata"] {
            ensure!(shown[key] == want[key], "org {key} is {} but the model says {}", shown[key], want[key]);
        }
        let paused = shown.get("invitationsPaused").is_some_and(Value::is_object);
        ensure!(
            paused == o.paused,
            "invitationsPaused is {} but the model says paused={}",
            shown["invitationsPaused"],
            o.paused
        );
        Ok(())
    }

    /// `seats` of an organization read: present with a seat limit only, counting what the
    /// model counts (unless an invitation's expiry is known only within a window).
    fn check_seats(&self, body: &Value, org: Ref) -> Result<(), String> {
        let Some(limit) = self.model.cfg.max_members else {
            ensure!(body.get("seats").is_none(), "seats {} shown without a seat limit", body["seats"]);
            return Ok(());
        };
        ensure!(body["seats"]["limit"] == json!(limit), "seats limit {}", body["seats"]);
        let uncertain = self.approximate.keys().any(|i| self.created_in.get(i) == Some(&org));
        if !uncertain {
            let used = self.model.seats_used(org, self.app.now().epoch_millis());
            ensure!(
                body["seats"]["used"] == json!(used),
                "seats {} but the model counts {used} used",
                body["seats"]
            );
        }
        Ok(())
    }

    /// `you` of an organization read: the caller's role (and custom role) and the org-scope
    /// permissions they hold, as the model's catalog and custom roles say.
    fn check_you(&self, shown: &Value, org: Ref, user: UserIx) -> Result<(), String> {
        let m = self.model.member(org, user).ok_or("no member for you")?;
        let custom = m.custom.map(|k| (CUSTOM_KEYS[usize::from(k)], self.model.orgs[&org].roles[&k]));
        let want = json!({
            "role": m.role.as_str(),
            "customRole": custom.map(|(k, _)| k),
            "permissions": super::authorize::org_permissions(&self.catalog, m.role, custom.map(|(_, r)| r)),
        });
        for key in ["role", "customRole", "permissions"] {
            ensure!(shown[key] == want[key], "you: {key} is {} but the model says {}", shown[key], want[key]);
        }
        Ok(())
    }

    fn check_member(&self, shown: &Value, org: Ref, user: UserIx) -> Result<(), String> {
        let m = self
            .model
            .member(org, user)
            .ok_or_else(|| format!("the model has no member {}", self.sub(user)))?;
        let want = json!({
            "userId": self.sub(user),
            "email": m.email,
            "name": self.world.infos[user].name,
            "role": m.role.as_str(),
            "customRole": m.custom.map(|k| CUSTOM_KEYS[usize::from(k)]),
            "status": m.status.as_str(),
            "invitedBy": m.invited_by.map(|u| self.sub(u)),
            "metadata": meta_json(m.metadata),
        });
        for key in ["userId", "email", "name", "role", "customRole", "status", "invitedBy", "metadata"] {
            ensure!(
                shown[key] == want[key],
                "member {}: {key} is {} but the model says {}",
                self.sub(user),
                shown[key],
                want[key]
            );
        }
        Ok(())
    }

    fn check_invitation(&self, shown: &Value, inv: Ref, now: i64) -> Result<(), String> {
        self.check_invitation_as(shown, inv, now, false)
    }

    /// With `answered`: the invitation as invite or resend answer it, its email queued (or
    /// refused by the queue) and not yet sent.
    fn check_invitation_as(&self, shown: &Value, inv: Ref, now: i64, answered: bool) -> Result<(), String> {
        let i = &self.model.invitations[&inv];
        let (status, reason) = self.model.token_status(TokenFor::Invitation(inv), now);
        ensure!(
            shown.get("revokedReason").and_then(Value::as_str) == reason,
            "invitation {}: revokedReason {} but the model says {reason:?}",
            i.email,
            shown["revokedReason"]
        );
        let want = json!({
            "id": self.inv_ids[&inv],
            "email": i.email,
            "role": i.role.as_str(),
            "status": status,
            "invitedBy": self.sub(i.invited_by),
            // Invite and resend answer before the sender runs.
            "emailDelivery": if answered && i.delivered { "queued" } else { i.delivery },
            "emailDeliveryReason": if answered && i.delivered { None } else { i.reason },
            "metadata": meta_json(i.metadata),
        });
        for key in
            ["id", "email", "role", "status", "invitedBy", "emailDelivery", "emailDeliveryReason", "metadata"]
        {
            ensure!(
                shown[key] == want[key],
                "invitation {}: {key} is {} but the model says {}",
                i.email,
                shown[key],
                want[key]
            );
        }
        ensure!(
            millis(&shown["expiresAt"]) == Some(i.expires_at),
            "invitation {}: expiresAt {}",
            i.email,
            shown["expiresAt"]
        );
        Ok(())
    }

    fn check_link(&self, shown: &Value, link: Ref) -> Result<(), String> {
        let l = &self.model.links[&link];
        let (status, reason) = self.model.token_status(TokenFor::Link(link), self.app.now().epoch_millis());
        let want = json!({
            "id": self.link_ids[&link],
            "role": l.role.as_str(),
            "status": status,
            "revokedReason": reason,
            "label": null,
            "createdBy": self.sub(l.created_by),
            "maxUses": l.max_uses,
            "uses": l.uses,
        });
        ensure!(
            shown.get("revokedReason").is_some() == reason.is_some(),
            "link{link}: revokedReason {}",
            shown["revokedReason"]
        );
        ensure!(shown.get("label").is_some(), "link{link}: no label field");
        for key in ["id", "role", "status", "revokedReason", "label", "createdBy", "maxUses", "uses"] {
            ensure!(
                shown[key] == want[key],
                "link{link}: {key} is {} but the model says {}",
                shown[key],
                want[key]
            );
        }
        ensure!(
            millis(&shown["expiresAt"]) == Some(l.expires_at),
            "link{link}: expiresAt {}",
            shown["expiresAt"]
        );
        Ok(())
    }

    fn check_members(
        &self,
        items: &[Value],
        org: Ref,
        role: Option<Role>,
        status: Option<Status>,
    ) -> Result<(), String> {
        let want: BTreeSet<&str> = self.model.orgs[&org]
            .members
            .iter()
            .filter(|(_, m)| role.is_none_or(|r| m.role == r) && status.is_none_or(|s| m.status == s))
            .map(|(u, _)| self.sub(*u))
            .collect();
        let shown: Vec<&str> = items.iter().map(|m| m["userId"].as_str().unwrap_or("?")).collect();
        let unique: BTreeSet<&str> = shown.iter().copied().collect();
        ensure!(unique.len() == shown.len(), "members listed twice: {shown:?}");
        ensure!(unique == want, "members {unique:?} but the model says {want:?}");
        for m in items {
            let user = self.world.infos.iter().position(|u| m["userId"] == json!(u.sub)).expect("known");
            self.check_member(m, org, user)?;
        }
        Ok(())
    }

    /// The members a search and filters list, in the order the contract gives: a search by
    /// the smallest word its longest term starts, then name, then user id; otherwise by name
    /// (then user id), or by joining time (checked on the times shown: the model does not
    /// know the instant of each joining). `desc` reverses.
    fn check_member_order(
        &self,
        items: &[Value],
        org: Ref,
        role: Option<Role>,
        status: Option<Status>,
        search: &Search,
    ) -> Result<(), String> {
        let desc = search.order == Some("desc");
        let shown: Vec<String> =
            items.iter().map(|m| m["userId"].as_str().unwrap_or("?").to_owned()).collect();
        if search.sort == Some("joinedAt") {
            let mut keys: Vec<(String, String)> = items
                .iter()
                .map(|m| {
                    (
                        m["joinedAt"].as_str().unwrap_or("").to_owned(),
                        m["userId"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect();
            if desc {
                keys.reverse();
            }
            ensure!(keys.is_sorted(), "not in joining order: {keys:?}");
            return Ok(());
        }
        let terms = search.q.map(terms).unwrap_or_default();
        let driver = terms.iter().fold(None::<&String>, |best, t| match best {
            Some(b) if b.chars().count() >= t.chars().count() => Some(b),
            _ => Some(t),
        });
        let mut want: Vec<(String, String, String)> = Vec::new();
        for (user, m) in &self.model.orgs[&org].members {
            if role.is_some_and(|r| m.role != r) || status.is_some_and(|s| m.status != s) {
                continue;
            }
            let name = self.world.infos[*user].name.to_lowercase();
            let mut member_words = words(&self.world.infos[*user].name);
            member_words.extend(m.email.as_deref().map(words).unwrap_or_default());
            let word = match driver {
                Some(driver) => {
                    let every = terms.iter().all(|t| member_words.iter().any(|w| w.starts_with(t.as_str())));
                    match member_words.iter().filter(|w| w.starts_with(driver.as_str())).min() {
                        Some(w) if every => w.clone(),
                        _ => continue,
                    }
                }
                None => String::new(),
            };
            want.push((word, name, self.sub(*user).to_owned()));
        }
        want.sort();
        if desc {
            want.reverse();
        }
        let want: Vec<String> = want.into_iter().map(|(_, _, u)| u).collect();
        ensure!(shown == want, "members {shown:?} but the model lists {want:?}");
        Ok(())
    }

    fn check_invitations(&mut self, items: &[Value], org: Ref, now: i64) -> Result<(), String> {
        let want: BTreeSet<String> =
            self.model.invitations_of(org, now).iter().map(|(r, _, _)| self.inv_ids[r].clone()).collect();
        let shown: Vec<String> = items.iter().map(|i| i["id"].as_str().unwrap_or("?").to_owned()).collect();
        let unique: BTreeSet<String> = shown.iter().cloned().collect();
        ensure!(unique.len() == shown.len(), "invitations listed twice: {shown:?}");
        if unique != want {
            let describe = |ids: &BTreeSet<String>| -> Vec<String> {
                ids.iter()
                    .map(|id| {
                        items
                            .iter()
                            .find(|i| i["id"] == json!(id))
                            .map(|i| format!("{}:{}", i["email"], i["status"]))
                            .unwrap_or_else(|| {
                                let r = self.inv_ids.iter().find(|(_, v)| *v == id).map(|(r, _)| *r);
                                r.and_then(|r| self.model.invitations.get(&r))
                                    .map(|i| format!("{}(model)", i.email))
                                    .unwrap_or_else(|| id.clone())
                            })
                    })
                    .collect()
            };
            let extra: BTreeSet<String> = unique.difference(&want).cloned().collect();
            let missing: BTreeSet<String> = want.difference(&unique).cloned().collect();
            return Err(format!(
                "invitations listed but not in the model: {:?}; in the model but not listed: {:?}",
                describe(&extra),
                describe(&missing)
            ));
        }
        for shown in items {
            let r = *self.inv_ids.iter().find(|(_, v)| shown["id"] == json!(v)).expect("known").0;
            if let Some((lo, hi)) = self.approximate.remove(&r) {
                let expires = millis(&shown["expiresAt"]).ok_or("no expiresAt")?;
                ensure!(
                    (lo..=hi).contains(&expires),
                    "a failed resend left expiresAt {}",
                    shown["expiresAt"]
                );
                self.model.invitations.get_mut(&r).expect("listed").expires_at = expires;
            }
            self.check_invitation(shown, r, now)?;
        }
        Ok(())
    }

    fn check_links(&self, items: &[Value], org: Ref) -> Result<(), String> {
        let want: BTreeSet<String> =
            self.model.links_of(org).iter().map(|(r, _)| self.link_ids[r].clone()).collect();
        let shown: Vec<String> = items.iter().map(|i| i["id"].as_str().unwrap_or("?").to_owned()).collect();
        let unique: BTreeSet<String> = shown.iter().cloned().collect();
        ensure!(unique.len() == shown.len(), "links listed twice");
        ensure!(unique == want, "links {unique:?} but the model says {want:?}");
        for shown in items {
            let r = *self.link_ids.iter().find(|(_, v)| shown["id"] == json!(v)).expect("known").0;
            self.check_link(shown, r)?;
        }
        Ok(())
    }

    /// Cognito's post-confirmation trigger for `by`, as their claims describe them: the event
    /// comes back untouched, and their organizations are then the model's (a new one's id is
    /// learnt from the list, where it is the one not seen before).
    async fn confirm_sign_up(&mut self, op: &Op, by: UserIx, reset: bool) -> Result<(), String> {
        let info = &self.world.infos[by];
        let trigger =
            if reset { "PostConfirmation_ConfirmForgotPassword" } else { "PostConfirmation_ConfirmSignUp" };
        let event = crate::cognito::post_confirmation_event(
            trigger,
            &info.sub,
            info.email_claim.as_deref(),
            info.email_verified == Some(true),
            Some(&info.name),
        );
        let before = self.app.now().epoch_millis();
        self.requests += 1;
        let answer = roster::handlers::post_confirmation::handle(&self.app.app, event.clone()).await;
        let expected = self.model.apply(op, before);
        for label in outcome_labels(&expected) {
            *self.tally.entry(format!("{} {label}", op.act.kind())).or_default() += 1;
        }
        ensure!(answer.as_ref() == Ok(&event), "the trigger answered {answer:?}, not the event back");
        let Outcome::SignUpOrg(made) = expected else {
            return Err(format!("the model answered {expected:?} to a post-confirmation"));
        };
        let path = "/orgs?limit=100";
        let items = self.pages(by, path, "orgs", 100, None).await?;
        if let Some(org) = made {
            let known: HashSet<&String> = self.org_ids.values().collect();
            let new: Vec<String> = items
                .iter()
                .filter_map(|i| i["org"]["id"].as_str().map(str::to_owned))
                .filter(|id| !known.contains(id))
                .collect();
            ensure!(new.len() == 1, "the sign-up made {new:?} but the model says one organization");
            self.org_ids.insert(org, new[0].clone());
        }
        self.check_my_orgs(&items, by)
    }

    fn check_my_orgs(&self, items: &[Value], user: UserIx) -> Result<(), String> {
        // Oldest first (README): in the order the organizations were created.
        let want: Vec<Ref> =
            self.model.orgs.iter().filter(|(_, o)| o.members.contains_key(&user)).map(|(r, _)| *r).collect();
        let want_ids: Vec<&str> = want.iter().map(|r| self.org_ids[r].as_str()).collect();
        let shown: Vec<&str> = items.iter().map(|i| i["org"]["id"].as_str().unwrap_or("?")).collect();
        ensure!(shown == want_ids, "{}'s orgs are {shown:?} but the model says {want_ids:?}", self.sub(user));
        for (item, org) in items.iter().zip(&want) {
            if self.model.orgs[org].members[&user].status == Status::Suspended {
                // Of an organization where they are suspended: its id and name, and the status.
                let want = json!({
                    "org": { "id": self.org_ids[org], "name": self.model.orgs[org].name },
                    "membership": { "status": "suspended" },
                });
                ensure!(
                    *item == want,
                    "{}'s suspended entry is {item} but the model says {want}",
                    self.sub(user)
                );
                continue;
            }
            self.check_org(&item["org"], *org)?;
            self.check_member(&item["membership"], *org, user)?;
        }
        Ok(())
    }

    fn via_text(&self, via: Via) -> String {
        match via {
            Via::OrgRole => "org_role".to_owned(),
            Via::Direct => "direct".to_owned(),
            Via::Group(g) => format!("group:{}", self.group_ids.get(&g).map_or("?", String::as_str)),
        }
    }

    /// `{role, via}` (or `null` roles and an empty `via` for no access) against the model's
    /// access; `via` is compared as a set (API.md gives no order).
    fn check_access(
        &self,
        role: &Value,
        via: &Value,
        want: Option<&Access>,
        what: &str,
    ) -> Result<(), String> {
        let want_role = json!(want.map(|a| a.role.as_str()));
        let want_via: BTreeSet<String> =
            want.map(|a| a.via.iter().map(|v| self.via_text(*v)).collect()).unwrap_or_default();
        let shown_via: Vec<String> = match via {
            Value::Array(items) => items.iter().map(|v| v.as_str().unwrap_or("?").to_owned()).collect(),
            Value::Null if want.is_none() => vec![],
            other => return Err(format!("{what}: via is {other}")),
        };
        let unique: BTreeSet<String> = shown_via.iter().cloned().collect();
        ensure!(
            *role == want_role && unique == want_via && unique.len() == shown_via.len(),
            "{what}: access {role} via {via} but the model says {want_role} via {want_via:?}"
        );
        Ok(())
    }

    /// `memberCount` of a workspace (`Ok`) or group (`Err`) within what the model allows.
    fn check_count(&self, shown: &Value, org: Ref, of: Result<Ref, Ref>, what: &str) -> Result<(), String> {
        let (lo, hi) = self.model.count_range(org, of);
        let count = shown["memberCount"].as_u64().ok_or_else(|| format!("{what}: no memberCount"))? as usize;
        ensure!(
            (lo..=hi).contains(&count),
            "{what}: memberCount {count} but the model counts {lo} members ({hi} with ones left by removed members)"
        );
        Ok(())
    }

    /// A workspace object, with `you` as `user` sees it when given.
    fn check_workspace(&self, shown: &Value, org: Ref, ws: Ref, you: Option<UserIx>) -> Result<(), String> {
        let w = &self.model.orgs[&org].workspaces[&ws];
        let what = format!("workspace{ws}");
        let want = json!({ "id": self.ws_ids[&ws], "name": w.name, "metadata": meta_json(w.metadata) });
        for key in ["id", "name", "metadata"] {
            ensure!(
                shown[key] == want[key],
                "{what}: {key} is {} but the model says {}",
                shown[key],
                want[key]
            );
        }
        self.check_count(shown, org, Ok(ws), &what)?;
        if let Some(user) = you {
            let access = self.model.access(org, ws, user);
            ensure!(access.is_some(), "{what}: the model gives {} no access", self.sub(user));
            let you = &shown["you"];
            self.check_access(
                &you["role"],
                &you["via"],
                access.as_ref(),
                &format!("{what} you ({})", self.sub(user)),
            )?;
        }
        Ok(())
    }

    /// The grants a workspace read lists (`groups`): those to live groups, with their roles.
    fn check_grants(&self, shown: &Value, org: Ref, ws: Ref) -> Result<(), String> {
        let w = &self.model.orgs[&org].workspaces[&ws];
        let want: BTreeSet<(String, String)> =
            w.grants.iter().map(|(g, role)| (self.group_ids[g].clone(), role.as_str().to_owned())).collect();
        let items = shown.as_array().ok_or("no groups in a workspace read")?;
        let listed: BTreeSet<(String, String)> = items
            .iter()
            .map(|g| {
                (
                    g["groupId"].as_str().unwrap_or("?").to_owned(),
                    g["role"].as_str().unwrap_or("?").to_owned(),
                )
            })
            .collect();
        ensure!(
            listed == want && listed.len() == items.len(),
            "workspace{ws} grants {listed:?} but the model says {want:?}"
        );
        for g in items {
            let r = self
                .group_ids
                .iter()
                .find(|(_, id)| g["groupId"] == json!(id))
                .map(|(r, _)| *r)
                .expect("listed");
            let name = &self.model.orgs[&org].groups[&r].name;
            ensure!(g["name"] == json!(name), "workspace{ws} grant to group{r}: name {}", g["name"]);
        }
        Ok(())
    }

    /// A list of workspaces as `user` sees it: those they can access (all, for the
    /// organization's admins and owners), each with `you`.
    fn check_workspace_list(&self, items: &[Value], org: Ref, user: UserIx) -> Result<(), String> {
        let want: BTreeSet<String> =
            self.model.accessible(org, user).keys().map(|ws| self.ws_ids[ws].clone()).collect();
        let shown: Vec<String> = items.iter().map(|w| w["id"].as_str().unwrap_or("?").to_owned()).collect();
        let unique: BTreeSet<String> = shown.iter().cloned().collect();
        ensure!(unique.len() == shown.len(), "workspaces listed twice: {shown:?}");
        ensure!(
            unique == want,
            "{} sees workspaces {} but the model says {}",
            self.sub(user),
            self.ws_names(&unique),
            self.ws_names(&want)
        );
        for item in items {
            let ws = self.ws_ref(&item["id"]);
            self.check_workspace(item, org, ws, Some(user))?;
        }
        Ok(())
    }

    fn ws_ref(&self, id: &Value) -> Ref {
        *self.ws_ids.iter().find(|(_, v)| *id == json!(v)).expect("a known workspace").0
    }

    /// Workspace ids as the model's refs, for messages.
    fn ws_names(&self, ids: &BTreeSet<String>) -> String {
        let names: Vec<String> = ids
            .iter()
            .map(|id| {
                self.ws_ids
                    .iter()
                    .find(|(_, v)| *v == id)
                    .map_or(id.clone(), |(r, _)| format!("workspace{r}"))
            })
            .collect();
        format!("[{}]", names.join(", "))
    }

    /// `GET /orgs/{orgId}/members/{userId}/workspaces`: id, name, role and via of each.
    fn check_member_workspaces(&self, items: &[Value], org: Ref, user: UserIx) -> Result<(), String> {
        let access = self.model.accessible(org, user);
        let want: BTreeSet<String> = access.keys().map(|ws| self.ws_ids[ws].clone()).collect();
        let shown: Vec<String> = items.iter().map(|w| w["id"].as_str().unwrap_or("?").to_owned()).collect();
        let unique: BTreeSet<String> = shown.iter().cloned().collect();
        ensure!(
            unique == want && unique.len() == shown.len(),
            "{}'s workspaces are {} but the model says {}",
            self.sub(user),
            self.ws_names(&unique),
            self.ws_names(&want)
        );
        for item in items {
            let ws = self.ws_ref(&item["id"]);
            let name = &self.model.orgs[&org].workspaces[&ws].name;
            ensure!(item["name"] == json!(name), "{}'s workspace{ws}: name {}", self.sub(user), item["name"]);
            let what = format!("{}'s workspace{ws}", self.sub(user));
            self.check_access(&item["role"], &item["via"], access.get(&ws), &what)?;
        }
        Ok(())
    }

    /// A row of a workspace's member list: the direct membership's own role, the effective
    /// role and its sources (none while suspended).
    fn check_ws_row(&self, row: &Value, org: Ref, ws: Ref, user: UserIx) -> Result<(), String> {
        let m = self
            .model
            .member(org, user)
            .ok_or_else(|| format!("the model has no member {}", self.sub(user)))?;
        let d = self.model.orgs[&org].workspaces[&ws].direct[&user];
        let what = format!("workspace{ws} member {}", self.sub(user));
        let want = json!({
            "userId": self.sub(user),
            "name": self.world.infos[user].name,
            "email": m.email,
            "status": m.status.as_str(),
            "role": d.role.map(WsRole::as_str),
        });
        for key in ["userId", "name", "email", "status", "role"] {
            ensure!(row[key] == want[key], "{what}: {key} is {} but the model says {}", row[key], want[key]);
        }
        let access = self.model.access(org, ws, user);
        self.check_access(&row["effectiveRole"], &row["via"], access.as_ref(), &what)
    }

    fn check_ws_rows(&self, items: &[Value], org: Ref, ws: Ref) -> Result<(), String> {
        let want: BTreeSet<&str> = self.model.ws_members(org, ws).iter().map(|(u, _)| self.sub(*u)).collect();
        let shown: Vec<&str> = items.iter().map(|m| m["userId"].as_str().unwrap_or("?")).collect();
        let unique: BTreeSet<&str> = shown.iter().copied().collect();
        ensure!(
            unique == want && unique.len() == shown.len(),
            "workspace{ws} members {shown:?} but the model says {want:?}"
        );
        for row in items {
            let user = self.world.infos.iter().position(|u| row["userId"] == json!(u.sub)).expect("known");
            self.check_ws_row(row, org, ws, user)?;
        }
        Ok(())
    }

    fn check_group(&self, shown: &Value, org: Ref, group: Ref) -> Result<(), String> {
        let g = &self.model.orgs[&org].groups[&group];
        let what = format!("group{group}");
        ensure!(shown["id"] == json!(self.group_ids[&group]), "{what}: id {}", shown["id"]);
        ensure!(
            shown["name"] == json!(g.name),
            "{what}: name {} but the model says {:?}",
            shown["name"],
            g.name
        );
        self.check_count(shown, org, Err(group), &what)
    }

    /// A row of a group's member list: the member's organization role and status.
    fn check_group_row(&self, row: &Value, org: Ref, user: UserIx) -> Result<(), String> {
        let m = self
            .model
            .member(org, user)
            .ok_or_else(|| format!("the model has no member {}", self.sub(user)))?;
        let want = json!({
            "userId": self.sub(user),
            "name": self.world.infos[user].name,
            "email": m.email,
            "role": m.role.as_str(),
            "status": m.status.as_str(),
        });
        for key in ["userId", "name", "email", "role", "status"] {
            ensure!(
                row[key] == want[key],
                "group member {}: {key} is {} but the model says {}",
                self.sub(user),
                row[key],
                want[key]
            );
        }
        Ok(())
    }

    fn check_group_rows(&self, items: &[Value], org: Ref, group: Ref) -> Result<(), String> {
        let want: BTreeSet<&str> =
            self.model.group_members(org, group).iter().map(|u| self.sub(*u)).collect();
        let shown: Vec<&str> = items.iter().map(|m| m["userId"].as_str().unwrap_or("?")).collect();
        let unique: BTreeSet<&str> = shown.iter().copied().collect();
        ensure!(
            unique == want && unique.len() == shown.len(),
            "group{group} members {shown:?} but the model says {want:?}"
        );
        for row in items {
            let user = self.world.infos.iter().position(|u| row["userId"] == json!(u.sub)).expect("known");
            self.check_group_row(row, org, user)?;
        }
        Ok(())
    }

    /// The workspaces and groups of `org` as its owner sees them: the workspace list (each
    /// with the owner's `you`), the group list when `groups`, each of `users`' workspaces
    /// (their access), and the member lists of `ws_members` and `group_members`.
    async fn observe_workspaces(&mut self, org: Ref, look: &Look) -> Result<(), String> {
        let Some(o) = self.model.orgs.get(&org) else { return Ok(()) };
        let owner = o
            .members
            .iter()
            .find(|(_, m)| m.role == Role::Owner && m.status == Status::Active)
            .map(|(u, _)| *u)
            .ok_or_else(|| format!("the model's org{org} has no active owner"))?;
        let id = self.org_ids[&org].clone();
        let limit = self.observation_limit();
        let path = format!("/orgs/{id}/workspaces?limit={limit}");
        let items = self.pages(owner, &path, "workspaces", limit, None).await?;
        self.check_workspace_list(&items, org, owner).map_err(|e| format!("org{org} workspaces: {e}"))?;
        if look.groups {
            let limit = self.observation_limit();
            let path = format!("/orgs/{id}/groups?limit={limit}");
            let items = self.pages(owner, &path, "groups", limit, None).await?;
            let want: BTreeSet<String> =
                self.model.orgs[&org].groups.keys().map(|g| self.group_ids[g].clone()).collect();
            let shown: Vec<String> =
                items.iter().map(|g| g["id"].as_str().unwrap_or("?").to_owned()).collect();
            let unique: BTreeSet<String> = shown.iter().cloned().collect();
            ensure!(
                unique == want && unique.len() == shown.len(),
                "org{org} groups {shown:?} but the model says {want:?}"
            );
            for item in &items {
                let g = *self.group_ids.iter().find(|(_, v)| item["id"] == json!(v)).expect("known").0;
                self.check_group(item, org, g).map_err(|e| format!("org{org} groups: {e}"))?;
            }
        }
        for &user in &look.users {
            if self.model.member(org, user).is_none() {
                continue;
            }
            let r = self.get(owner, &format!("/orgs/{id}/members/{}/workspaces", self.sub(user))).await;
            ensure!(r.status == 200, "{}'s workspaces answered {} {}", self.sub(user), r.status, r.body);
            let items = r.body["workspaces"].as_array().cloned().unwrap_or_default();
            self.check_member_workspaces(&items, org, user).map_err(|e| format!("org{org}: {e}"))?;
        }
        for &ws in &look.ws_members {
            if !self.model.orgs[&org].workspaces.contains_key(&ws) {
                continue;
            }
            let limit = self.observation_limit();
            let path = format!("/orgs/{id}/workspaces/{}/members?limit={limit}", self.ws_ids[&ws]);
            let items = self.pages(owner, &path, "members", limit, None).await?;
            self.check_ws_rows(&items, org, ws).map_err(|e| format!("org{org}: {e}"))?;
        }
        for &g in &look.group_members {
            if !self.model.orgs[&org].groups.contains_key(&g) {
                continue;
            }
            let limit = self.observation_limit();
            let path = format!("/orgs/{id}/groups/{}/members?limit={limit}", self.group_ids[&g]);
            let items = self.pages(owner, &path, "members", limit, None).await?;
            self.check_group_rows(&items, org, g).map_err(|e| format!("org{org}: {e}"))?;
        }
        Ok(())
    }

    /// Everything of `org`'s workspaces and groups, for every member (the member lists of
    /// each workspace and group only on a deep turn).
    async fn observe_all_workspaces(&mut self, org: Ref) -> Result<(), String> {
        let Some(o) = self.model.orgs.get(&org) else { return Ok(()) };
        let look = Look {
            groups: true,
            users: o.members.keys().copied().collect(),
            ws_members: if self.deep { o.workspaces.keys().copied().collect() } else { vec![] },
            group_members: if self.deep { o.groups.keys().copied().collect() } else { vec![] },
        };
        self.observe_workspaces(org, &look).await
    }

    /// Whose access a workspace or group step may move (read before it): its target's; for a
    /// grant, a revoke or a group's deletion, the group's members'; for a workspace's
    /// deletion, everyone's who had access.
    fn ws_affected(&self, act: &Act, org: Ref) -> BTreeSet<UserIx> {
        let Some(o) = self.model.orgs.get(&org) else { return BTreeSet::new() };
        match act {
            Act::PutWsMember { target, .. }
            | Act::RemoveWsMember { target, .. }
            | Act::PutGroupMember { target, .. }
            | Act::RemoveGroupMember { target, .. } => target.iter().copied().collect(),
            Act::Grant { group, .. } | Act::Revoke { group, .. } | Act::DeleteGroup { group, .. } => {
                o.groups.get(group).map(|g| g.members.keys().copied().collect()).unwrap_or_default()
            }
            Act::DeleteWorkspace { ws, .. } => {
                o.members.keys().copied().filter(|u| self.model.access(org, *ws, *u).is_some()).collect()
            }
            _ => BTreeSet::new(),
        }
    }

    /// What a workspace or group step may have changed, observed after it succeeded.
    fn look_after(&self, act: &Act, org: Ref, affected: &BTreeSet<UserIx>) -> Option<Look> {
        let mut look = Look { users: affected.clone(), ..Look::default() };
        match act {
            Act::CreateWorkspace { .. } | Act::UpdateWorkspace { .. } => {}
            Act::DeleteWorkspace { .. } => {}
            Act::PutWsMember { ws, .. } | Act::RemoveWsMember { ws, .. } => look.ws_members.push(*ws),
            Act::Grant { ws, group, .. } | Act::Revoke { ws, group, .. } => {
                look.groups = true;
                look.ws_members.push(*ws);
                let _ = group;
            }
            Act::CreateGroup { .. } | Act::RenameGroup { .. } | Act::DeleteGroup { .. } => look.groups = true,
            Act::PutGroupMember { group, .. } | Act::RemoveGroupMember { group, .. } => {
                look.groups = true;
                look.group_members.push(*group);
            }
            // Reads change nothing.
            _ => return None,
        }
        let _ = org;
        Some(look)
    }

    fn observation_limit(&mut self) -> u32 {
        if self.rng.chance(15) { 1 + self.rng.below(3) as u32 } else { 100 }
    }

    /// Everything the API shows, against the model: each organization (as read by an active
    /// owner: the org, all members, invitations and links) and each user's organizations,
    /// and the workspaces and groups of those that have some.
    pub async fn observe(&mut self) -> Result<(), String> {
        self.observe_with(true).await
    }

    /// [`Driver::observe`], without the workspaces and groups unless `workspaces` (time alone
    /// moves nothing of theirs; a sweep's purge moves only what removals left, observed
    /// apart). Their member lists are read every other time.
    async fn observe_with(&mut self, workspaces: bool) -> Result<(), String> {
        let orgs: Vec<Ref> = self.model.orgs.keys().copied().collect();
        let users: BTreeSet<UserIx> = (0..self.world.users.len()).collect();
        self.observe_some(&orgs, &users).await?;
        if !workspaces {
            return Ok(());
        }
        self.deep = !self.deep;
        let ws_orgs: Vec<Ref> = self.ws_orgs.iter().copied().collect();
        for org in ws_orgs {
            self.observe_all_workspaces(org).await?;
        }
        Ok(())
    }

    async fn observe_some(&mut self, orgs: &[Ref], users: &BTreeSet<UserIx>) -> Result<(), String> {
        let now = self.app.now().epoch_millis();
        for &org in orgs {
            if !self.model.orgs.contains_key(&org) {
                continue;
            }
            let owner = self.model.orgs[&org]
                .members
                .iter()
                .find(|(_, m)| m.role == Role::Owner && m.status == Status::Active)
                .map(|(u, _)| *u)
                .ok_or_else(|| format!("the model's org{org} has no active owner"))?;
            let id = self.org_ids[&org].clone();
            let view = self.get(owner, &format!("/orgs/{id}")).await;
            ensure!(
                view.status == 200,
                "GET /orgs/{{org{org}}} by its owner answered {} {}",
                view.status,
                view.body
            );
            self.check_org(&view.body["org"], org).map_err(|e| format!("GET /orgs/{{org{org}}}: {e}"))?;
            let limit = self.observation_limit();
            let members = self
                .pages(owner, &format!("/orgs/{id}/members?limit={limit}"), "members", limit, None)
                .await?;
            self.check_members(&members, org, None, None).map_err(|e| format!("org{org} members: {e}"))?;
            // Its member index: exactly what its memberships call for, after every change.
            let drift = self.app.index_drift(&id).await;
            ensure!(drift.is_empty(), "org{org}'s member index disagrees with its memberships: {drift:?}");
            let limit = self.observation_limit();
            let invitations = self
                .pages(owner, &format!("/orgs/{id}/invitations?limit={limit}"), "invitations", limit, None)
                .await?;
            self.check_invitations(&invitations, org, now)
                .map_err(|e| format!("org{org} invitations: {e}"))?;
            let limit = self.observation_limit();
            let links = self
                .pages(owner, &format!("/orgs/{id}/invite-links?limit={limit}"), "links", limit, None)
                .await?;
            self.check_links(&links, org).map_err(|e| format!("org{org} links: {e}"))?;
        }
        for &user in users {
            let limit = self.observation_limit();
            let orgs = self.pages(user, &format!("/orgs?limit={limit}"), "orgs", limit, None).await?;
            self.check_my_orgs(&orgs, user)?;
        }
        Ok(())
    }
}

/// What to observe of an organization's workspaces and groups (see
/// [`Driver::observe_workspaces`]).
#[derive(Debug, Default)]
struct Look {
    groups: bool,
    users: BTreeSet<UserIx>,
    ws_members: Vec<Ref>,
    group_members: Vec<Ref>,
}

fn list_path(base: &str, mut query: Vec<String>, limit: u32, bad: &Option<Bad>) -> String {
    match bad {
        Some(Bad::Limit(l)) => query.push(format!("limit={l}")),
        _ => query.push(format!("limit={limit}")),
    }
    match bad {
        Some(Bad::Cursor) => query.push("cursor=bm90LWEtY3Vyc29y".to_owned()),
        Some(Bad::Role) => query.push("role=root".to_owned()),
        _ => {}
    }
    format!("{base}?{}", query.join("&"))
}

/// Short names of an expected outcome, for the coverage tally.
fn outcome_labels(outcome: &Outcome) -> Vec<String> {
    match outcome {
        Outcome::Error(status, code) => vec![format!("{status} {code}")],
        Outcome::Invited(items) => items.iter().map(|i| format!("item {}", i.status)).collect(),
        Outcome::Bulk(items) => items.iter().map(|(_, s)| format!("item {s}")).collect(),
        Outcome::NoContent => vec!["204".into()],
        Outcome::Either(a, b) => {
            vec![format!("{} or {}", outcome_labels(a).join(" "), outcome_labels(b).join(" "))]
        }
        Outcome::Local => vec!["done".into()],
        Outcome::UsageResults(items) => items.iter().map(|s| format!("item {s}")).collect(),
        Outcome::UsageTotals { rows, .. } => vec![(if rows.is_empty() { "none" } else { "totals" }).into()],
        Outcome::SignUp(admitted) => vec![(if *admitted { "admitted" } else { "refused" }).into()],
        Outcome::SignUpOrg(made) => vec![(if made.is_some() { "org made" } else { "no org" }).into()],
        Outcome::Moved(moved) => vec![(if *moved { "moved" } else { "ignored" }).into()],
        Outcome::Preview(view) => {
            vec![format!("{} {}", view.status, view.reason.unwrap_or_default()).trim_end().into()]
        }
        other => vec![format!("{}", format!("{other:?}").split([' ', '(']).next().unwrap_or("ok"))],
    }
}

/// Adding a user with a temporary password (after the macros it uses).
mod accounts;
