//! `POST /authorize` in the model (API.md "Roles and permissions, and authorization for the
//! host product", "Checks"): batches of checks over the run's users, organizations,
//! permissions and workspaces, answered from the model's own state.
//!
//! The model reads the catalog's data (which permissions exist, their scope, which built-in
//! roles hold a host permission) from `infra/permissions.json` itself, and Roster's own
//! permissions from API.md's list and rank rules; it never asks the implementation's
//! decision code.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Value, json};

use super::ops::{Bad, CUSTOM_KEYS, CustomIx, Ref, Role, Status, UserIx, WsRole};
use super::rng::Rng;
use super::spec::{CustomRole, Model, Via};

/// The catalog file the deployment packages.
const CATALOG: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/permissions.json"));

/// Roster's own permissions (API.md: org scope, fixed, following the rank rules) and the
/// least organization role that holds each: reading is every member's, managing an admin's
/// (as `admin` acts in "Roles and rank"), deleting the organization and its roles an owner's.
const ROSTER_OWN: [(&str, Role); 9] = [
    ("org:read", Role::Viewer),
    ("members:read", Role::Viewer),
    ("org:update", Role::Admin),
    ("members:invite", Role::Admin),
    ("members:manage", Role::Admin),
    ("workspaces:manage", Role::Admin),
    ("audit:read", Role::Admin),
    ("org:delete", Role::Owner),
    ("roles:manage", Role::Owner),
];

/// Permissions no catalog lists, well-formed (`unknown_permission`).
const UNKNOWN: [&str; 3] = ["nope:x", "projects:archive", "org:transfer"];
/// Permissions not of the form `resource:action`.
const MALFORMED: [&str; 6] = ["Projects:read", "projects", "projects:read:all", "", " org:read", "org :read"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Org,
    Workspace,
}

/// One permission of the catalog as the model knows it.
#[derive(Debug, Clone)]
pub struct Permission {
    pub scope: Scope,
    /// Organization roles that hold an org-scope permission.
    pub org_roles: BTreeSet<Role>,
    /// Workspace roles that hold a workspace-scope permission.
    pub ws_roles: BTreeSet<WsRole>,
    pub builtin: bool,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub permissions: BTreeMap<String, Permission>,
}

impl Catalog {
    pub fn deployed() -> Self {
        let file: Value = serde_json::from_str(CATALOG).expect("infra/permissions.json is JSON");
        let mut permissions = BTreeMap::new();
        for (key, least) in ROSTER_OWN {
            let org_roles = Role::ALL.into_iter().filter(|r| *r >= least).collect();
            permissions.insert(
                key.to_owned(),
                Permission { scope: Scope::Org, org_roles, ws_roles: BTreeSet::new(), builtin: true },
            );
        }
        for entry in file["permissions"].as_array().expect("permissions") {
            let key = entry["key"].as_str().expect("key").to_owned();
            let scope = match entry["scope"].as_str() {
                Some("org") => Scope::Org,
                Some("workspace") => Scope::Workspace,
                other => panic!("{key}: scope {other:?}"),
            };
            let p =
                Permission { scope, org_roles: BTreeSet::new(), ws_roles: BTreeSet::new(), builtin: false };
            permissions.insert(key, p);
        }
        for (role, keys) in file["roles"].as_object().expect("roles") {
            let role = Role::parse(role).expect("a built-in role");
            for key in keys.as_array().expect("keys") {
                let p = permissions.get_mut(key.as_str().expect("a key")).expect("listed");
                match p.scope {
                    Scope::Org => {
                        p.org_roles.insert(role);
                    }
                    // Owners hold workspace permissions as workspace admins; the file lists
                    // none for them.
                    Scope::Workspace => {
                        p.ws_roles.insert(WsRole::of_org(role));
                    }
                }
            }
        }
        Self { permissions }
    }

    fn keys(&self, f: impl Fn(&Permission) -> bool) -> Vec<String> {
        self.permissions.iter().filter(|(_, p)| f(p)).map(|(k, _)| k.clone()).collect()
    }

    /// The host product's permissions, in key order: bit `i` of a custom role's `perms` is
    /// the `i`-th.
    pub fn host_keys(&self) -> Vec<String> {
        self.keys(|p| !p.builtin)
    }
}

/// The host permissions `perms` picks (see [`Catalog::host_keys`]), sorted.
pub fn host_permissions(catalog: &Catalog, perms: u16) -> Vec<String> {
    catalog
        .host_keys()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| perms & (1 << i) != 0)
        .map(|(_, k)| k)
        .collect()
}

/// Whether a holder of `base`, with `custom` if any, holds permission `key`: Roster's own by
/// the base's rank, the host's as the custom role lists them (or the catalog gives the
/// built-in role).
fn holds(catalog: &Catalog, key: &str, base: Role, ws: Option<WsRole>, custom: Option<CustomRole>) -> bool {
    let Some(p) = catalog.permissions.get(key) else { return false };
    match (p.scope, custom) {
        (Scope::Org, _) if ws.is_some() => false,
        (Scope::Workspace, _) if ws.is_none() => false,
        (Scope::Org, Some(role)) if !p.builtin => {
            host_permissions(catalog, role.perms).iter().any(|k| k == key)
        }
        (Scope::Org, _) => p.org_roles.contains(&base),
        (Scope::Workspace, Some(role)) => host_permissions(catalog, role.perms).iter().any(|k| k == key),
        (Scope::Workspace, None) => ws.is_some_and(|w| p.ws_roles.contains(&w)),
    }
}

/// The org-scope permissions `you` lists for a holder of `base` (with `custom`), sorted.
pub fn org_permissions(catalog: &Catalog, base: Role, custom: Option<CustomRole>) -> Vec<String> {
    catalog
        .keys(|p| p.scope == Scope::Org)
        .into_iter()
        .filter(|k| holds(catalog, k, base, None, custom))
        .collect()
}

/// Who sends the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A listed service client (`dev-service`, `dev-backend`) with `roster/authorize`.
    Service(u8),
    /// A listed service with `roster/admin` only: `403 forbidden`.
    WrongScope,
    /// `sub` = `client_id`, with `roster/authorize`, but not a listed client: a person, `403`.
    Unlisted,
    /// A person's token: `403 forbidden`.
    Person(UserIx),
    /// No claims: `401 unauthenticated`.
    Anonymous,
}

pub const SERVICES: [&str; 2] = ["dev-service", "dev-backend"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhoArg {
    User(UserIx),
    /// A well-formed user id no one has (`nobody`).
    Ghost,
    /// Not a user id Roster could have (`MALFORMED_USERS`).
    Malformed(u8),
}

const MALFORMED_USERS: [&str; 3] = ["", "a b", "tab\there"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgArg {
    /// An organization made by a step (live, deleted, or never made if that step was shrunk
    /// away).
    Org(Ref),
    /// A well-formed id that names nothing.
    Unknown,
    Malformed(u8),
}

const UNKNOWN_ORG: &str = "org_0123456789abcdef0123456789abcdef";
const MALFORMED_ORGS: [&str; 4] = ["nonsense", "org_123", "org_0123456789ABCDEF0123456789ABCDEF", ""];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsArg {
    /// No `workspaceId`.
    Absent,
    /// A workspace made by a step (this organization's or another's; live or deleted).
    Ws(Ref),
    Unknown,
    Malformed(u8),
}

const UNKNOWN_WS: &str = "ws_0123456789abcdef0123456789abcdef";
const MALFORMED_WS: [&str; 3] = ["ws_bad", "", "grp_0123456789abcdef0123456789abcdef"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCheck {
    pub user: WhoArg,
    pub org: OrgArg,
    pub permission: String,
    pub ws: WsArg,
}

/// One expected result: `{allowed, reason, role}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub allowed: bool,
    pub reason: &'static str,
    pub role: Option<&'static str>,
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{allowed: {}, reason: {}, role: {}}}",
            self.allowed,
            self.reason,
            self.role.unwrap_or("null")
        )
    }
}

fn denied(reason: &'static str) -> Answer {
    Answer { allowed: false, reason, role: None }
}

fn by_role(allowed: bool, role: &'static str) -> Answer {
    Answer { allowed, reason: if allowed { "granted" } else { "no_permission" }, role: Some(role) }
}

/// The answer API.md gives `check` in the model's state: the permission first, then the
/// organization, the membership, its status, and the scope's role.
pub fn answer(model: &Model, catalog: &Catalog, check: &AuthCheck) -> Answer {
    let Some(permission) = catalog.permissions.get(&check.permission) else {
        return denied("unknown_permission");
    };
    let OrgArg::Org(org) = check.org else { return denied("no_org") };
    let Some(o) = model.orgs.get(&org) else { return denied("no_org") };
    let WhoArg::User(user) = check.user else { return denied("not_member") };
    let Some(member) = o.members.get(&user) else { return denied("not_member") };
    if member.status != Status::Active {
        return denied("suspended");
    }
    let custom_of = |key: Option<CustomIx>| key.and_then(|k| o.roles.get(&k).copied());
    let name =
        |key: Option<CustomIx>, builtin: &'static str| key.map_or(builtin, |k| CUSTOM_KEYS[usize::from(k)]);
    match permission.scope {
        Scope::Org => {
            let allowed = holds(catalog, &check.permission, member.role, None, custom_of(member.custom));
            by_role(allowed, name(member.custom, member.role.as_str()))
        }
        Scope::Workspace => {
            let WsArg::Ws(ws) = check.ws else { return denied("no_workspace") };
            if !o.workspaces.contains_key(&ws) {
                return denied("no_workspace");
            }
            let Some(access) = model.access(org, ws, user) else { return denied("not_in_workspace") };
            // The sources of the effective (highest) role decide together: any of them may
            // grant. A source's custom role is the member's own where the source stands for
            // the organization role (org_role, or a direct membership without a role).
            let w = &o.workspaces[&ws];
            let deciding: Vec<(WsRole, Option<CustomIx>)> = access
                .via
                .iter()
                .filter_map(|via| match via {
                    Via::OrgRole => Some((WsRole::Admin, member.custom)),
                    Via::Direct => w.direct.get(&user).map(|d| match d.role {
                        Some(role) => (role, None),
                        None => (WsRole::of_org(member.role), member.custom),
                    }),
                    Via::Group(g) => w.grants.get(g).map(|role| (*role, None)),
                })
                .filter(|(role, _)| *role == access.role)
                .collect();
            let holding = deciding.iter().find(|(role, key)| {
                holds(catalog, &check.permission, member.role, Some(*role), custom_of(*key))
            });
            match holding {
                Some((role, key)) => by_role(true, name(*key, role.as_str())),
                None => {
                    let key = deciding.first().and_then(|(_, key)| *key);
                    by_role(false, name(key, access.role.as_str()))
                }
            }
        }
    }
}

/// What the whole request must answer: an error `(status, code)`, or a result per check.
pub fn expect(
    model: &Model,
    catalog: &Catalog,
    caller: Caller,
    checks: &[AuthCheck],
    bad: Option<Bad>,
) -> Result<Vec<Answer>, (u16, &'static str)> {
    match caller {
        Caller::Anonymous => return Err((401, "unauthenticated")),
        Caller::WrongScope | Caller::Unlisted | Caller::Person(_) => return Err((403, "forbidden")),
        Caller::Service(_) => {}
    }
    if bad.is_some() {
        return Err((400, "invalid_request"));
    }
    Ok(checks.iter().map(|c| answer(model, catalog, c)).collect())
}

/// Ids the request names, as the driver knows them (`None`: never made in this run).
pub struct Ids<'a> {
    pub sub: &'a dyn Fn(UserIx) -> String,
    pub org: &'a dyn Fn(Ref) -> Option<String>,
    pub ws: &'a dyn Fn(Ref) -> Option<String>,
}

/// A check as JSON. A step that was never run (deleted while shrinking) made nothing: its
/// organization or workspace is rendered as a well-formed id that names nothing.
pub fn render(check: &AuthCheck, ids: &Ids<'_>) -> Value {
    let user = match check.user {
        WhoArg::User(u) => (ids.sub)(u),
        WhoArg::Ghost => super::driver::GHOST.to_owned(),
        WhoArg::Malformed(i) => MALFORMED_USERS[usize::from(i) % MALFORMED_USERS.len()].to_owned(),
    };
    let org = match check.org {
        OrgArg::Org(r) => (ids.org)(r).unwrap_or_else(|| UNKNOWN_ORG.to_owned()),
        OrgArg::Unknown => UNKNOWN_ORG.to_owned(),
        OrgArg::Malformed(i) => MALFORMED_ORGS[usize::from(i) % MALFORMED_ORGS.len()].to_owned(),
    };
    let mut value = json!({ "userId": user, "orgId": org, "permission": check.permission });
    let ws = match check.ws {
        WsArg::Absent => None,
        WsArg::Ws(r) => Some((ids.ws)(r).unwrap_or_else(|| UNKNOWN_WS.to_owned())),
        WsArg::Unknown => Some(UNKNOWN_WS.to_owned()),
        WsArg::Malformed(i) => Some(MALFORMED_WS[usize::from(i) % MALFORMED_WS.len()].to_owned()),
    };
    if let Some(ws) = ws {
        value["workspaceId"] = json!(ws);
    }
    value
}

/// The body of a batch, or one refused whole (`400 invalid_request`) for `bad`: `Empty` no
/// checks, `Limit` 101 checks; in the last check, `Status` a `workspaceId` that is a number,
/// `Role` a `userId` that is a number, `MaxUses` no `permission` (a check of the wrong shape
/// is the host's bug, not a question: README).
pub fn body(checks: &[AuthCheck], bad: Option<Bad>, ids: &Ids<'_>) -> Value {
    let mut rendered: Vec<Value> = checks.iter().map(|c| render(c, ids)).collect();
    let last = rendered.len().saturating_sub(1);
    match bad {
        Some(Bad::Empty) => return json!({ "checks": [] }),
        Some(Bad::Limit(_)) => {
            let first = rendered.first().cloned().unwrap_or(json!({}));
            return json!({ "checks": vec![first; 101] });
        }
        Some(Bad::Status) => rendered[last]["workspaceId"] = json!(7),
        Some(Bad::Role) => rendered[last]["userId"] = json!(1),
        Some(_) => {
            rendered[last].as_object_mut().expect("an object").remove("permission");
        }
        None => {}
    }
    json!({ "checks": rendered })
}

/// What `bad` does to a batch, for a person reading a step.
pub fn bad_text(bad: Option<Bad>) -> &'static str {
    match bad {
        None => "",
        Some(Bad::Empty) => " (sent with no checks)",
        Some(Bad::Limit(_)) => " (sent as 101 copies of the first)",
        Some(Bad::Status) => " (the last with a number as workspaceId)",
        Some(Bad::Role) => " (the last with a number as userId)",
        Some(_) => " (the last without its permission)",
    }
}

/// A random batch of 1–100 checks over what the model holds (and what it no longer holds:
/// `seen_ws` names deleted workspaces too), and now and then a caller or body that is
/// refused whole.
pub fn generate(
    rng: &mut Rng,
    model: &Model,
    catalog: &Catalog,
    seen_ws: &[Ref],
) -> (Caller, Vec<AuthCheck>, Option<Bad>) {
    let users = model.users.len();
    let caller = match rng.below(100) {
        0 => Caller::Anonymous,
        1 => Caller::Person(rng.below(users)),
        2 => Caller::WrongScope,
        3 => Caller::Unlisted,
        n => Caller::Service((n % 2) as u8),
    };
    let n = if rng.chance(75) { 1 + rng.below(8) } else { 1 + rng.below(100) };
    let live: Vec<Ref> = model.orgs.keys().copied().collect();
    let deleted: Vec<Ref> = model.deleted.keys().copied().collect();
    let org_scope = catalog.keys(|p| p.scope == Scope::Org && !p.builtin);
    let ws_scope = catalog.keys(|p| p.scope == Scope::Workspace);
    let own = catalog.keys(|p| p.builtin);
    let all_ws: Vec<Ref> = model.orgs.values().flat_map(|o| o.workspaces.keys().copied()).collect();
    // Active members of member and viewer rank with a workspace they can or cannot reach:
    // where a workspace permission is the workspace role's, not the organization's.
    let mut reach = Vec::new();
    for (r, o) in &model.orgs {
        for (u, m) in &o.members {
            if m.status == Status::Active && !m.role.administers() {
                reach.extend(o.workspaces.keys().map(|ws| (*r, *u, *ws)));
            }
        }
    }
    let checks = (0..n)
        .map(|_| {
            if !reach.is_empty() && rng.chance(20) {
                let (org, user, ws) = *rng.pick(&reach);
                let permission = rng.pick(&ws_scope).clone();
                return AuthCheck {
                    user: WhoArg::User(user),
                    org: OrgArg::Org(org),
                    permission,
                    ws: WsArg::Ws(ws),
                };
            }
            let org = match rng.below(100) {
                0..=79 if !live.is_empty() => OrgArg::Org(*rng.pick(&live)),
                80..=87 if !deleted.is_empty() => OrgArg::Org(*rng.pick(&deleted)),
                88..=92 => OrgArg::Unknown,
                93..=99 => OrgArg::Malformed(rng.below(MALFORMED_ORGS.len()) as u8),
                _ if !live.is_empty() => OrgArg::Org(*rng.pick(&live)),
                _ => OrgArg::Unknown,
            };
            let o = match org {
                OrgArg::Org(r) => model.orgs.get(&r),
                _ => None,
            };
            let members: Vec<UserIx> = o.map(|o| o.members.keys().copied().collect()).unwrap_or_default();
            let suspended: Vec<UserIx> = o
                .map(|o| {
                    o.members.iter().filter(|(_, m)| m.status == Status::Suspended).map(|(u, _)| *u).collect()
                })
                .unwrap_or_default();
            let user = match rng.below(100) {
                0..=9 if !suspended.is_empty() => WhoArg::User(*rng.pick(&suspended)),
                0..=74 if !members.is_empty() => WhoArg::User(*rng.pick(&members)),
                90..=94 => WhoArg::Ghost,
                95..=99 => WhoArg::Malformed(rng.below(MALFORMED_USERS.len()) as u8),
                _ => WhoArg::User(rng.below(users)),
            };
            let permission = match rng.below(100) {
                0..=44 => rng.pick(&ws_scope).clone(),
                45..=69 => rng.pick(&org_scope).clone(),
                70..=84 => rng.pick(&own).clone(),
                85..=92 => (*rng.pick(&UNKNOWN)).to_owned(),
                _ => (*rng.pick(&MALFORMED)).to_owned(),
            };
            let here: Vec<Ref> = o.map(|o| o.workspaces.keys().copied().collect()).unwrap_or_default();
            let ws = match rng.below(100) {
                0..=24 => WsArg::Absent,
                25..=74 if !here.is_empty() => WsArg::Ws(*rng.pick(&here)),
                75..=84 if !seen_ws.is_empty() => WsArg::Ws(*rng.pick(seen_ws)),
                85..=89 if !all_ws.is_empty() => WsArg::Ws(*rng.pick(&all_ws)),
                90..=94 => WsArg::Unknown,
                95..=99 => WsArg::Malformed(rng.below(MALFORMED_WS.len()) as u8),
                _ => WsArg::Absent,
            };
            AuthCheck { user, org, permission, ws }
        })
        .collect();
    let bad = if matches!(caller, Caller::Service(_)) && rng.chance(4) {
        Some(*rng.pick(&[Bad::Empty, Bad::Limit("101"), Bad::Status, Bad::Role, Bad::MaxUses(0)]))
    } else {
        None
    };
    (caller, checks, bad)
}

/// The claims of `caller` (`None`: anonymous).
pub fn claims(caller: Caller, users: &[crate::harness::User]) -> Option<crate::event::Claims> {
    use crate::harness::service_claims;
    match caller {
        Caller::Service(i) => Some(service_claims(SERVICES[usize::from(i) % 2], "roster/authorize")),
        Caller::WrongScope => Some(service_claims(SERVICES[0], "roster/admin roster/usage")),
        Caller::Unlisted => Some(service_claims("rogue-service", "roster/authorize")),
        Caller::Person(u) => Some(users[u].claims()),
        Caller::Anonymous => None,
    }
}

/// A check as a person would read it.
pub fn show(check: &AuthCheck, names: &[String]) -> String {
    let who = match check.user {
        WhoArg::User(u) => names[u].clone(),
        WhoArg::Ghost => "nobody".to_owned(),
        WhoArg::Malformed(i) => format!("{:?}", MALFORMED_USERS[usize::from(i) % MALFORMED_USERS.len()]),
    };
    let org = match check.org {
        OrgArg::Org(r) => format!("org{r}"),
        OrgArg::Unknown => "an unknown org".to_owned(),
        OrgArg::Malformed(i) => format!("org {:?}", MALFORMED_ORGS[usize::from(i) % MALFORMED_ORGS.len()]),
    };
    let ws = match check.ws {
        WsArg::Absent => String::new(),
        WsArg::Ws(r) => format!(" in workspace{r}"),
        WsArg::Unknown => " in an unknown workspace".to_owned(),
        WsArg::Malformed(i) => {
            format!(" in workspace {:?}", MALFORMED_WS[usize::from(i) % MALFORMED_WS.len()])
        }
    };
    format!("{who} {:?} in {org}{ws}", check.permission)
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caller::Service(i) => write!(f, "{}", SERVICES[usize::from(*i) % 2]),
            Caller::WrongScope => write!(f, "{} (roster/admin only)", SERVICES[0]),
            Caller::Unlisted => write!(f, "an unlisted client"),
            Caller::Person(u) => write!(f, "user #{u}"),
            Caller::Anonymous => write!(f, "anonymous"),
        }
    }
}
