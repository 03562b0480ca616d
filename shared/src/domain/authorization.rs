//! The host product's permission checks (API.md "Checks"): a batch of questions "may this
//! user do this here?", each decided from what the table holds at that instant.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::custom_role::{CustomRole, RoleKey, org_holds, workspace_holds};
use super::model::Member;
use super::permission::{Catalog, CatalogEntry, PermissionScope};
use super::role::Role;
use super::workspace::{GroupGrant, Via, WorkspaceMember, WorkspaceRole, direct_role, effective};
use super::{GroupId, OrgId, UserId, WorkspaceId};
use crate::error::Error;

/// Checks per request.
pub const MAX_CHECKS: usize = 100;

/// One question. Ids Roster could not have minted are kept as `None`: they name nothing,
/// which is an answer (`no_org`, `not_member`, `no_workspace`), not a bad request: a host
/// asks with whatever ids its own request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub user: Option<UserId>,
    pub org: Option<OrgId>,
    pub permission: String,
    /// `None`: no `workspaceId` given; `Some(None)`: one given that names nothing.
    pub workspace: Option<Option<WorkspaceId>>,
}

/// `{checks: [{userId, orgId, permission, workspaceId?}]}`, 1–100 of them. A check of the
/// wrong shape (a missing or non-string field, an unknown one) fails the whole request: it
/// is the host's bug, and answering it `not_member` would hide it.
pub fn parse_checks(body: &Value) -> Result<Vec<Check>, Error> {
    let bad = |detail: String| Error::InvalidRequest(detail);
    let object = body.as_object().ok_or_else(|| bad("the body must be an object".into()))?;
    if let Some(unknown) = object.keys().find(|k| *k != "checks") {
        return Err(bad(format!("unknown field {unknown:?}")));
    }
    let checks = object
        .get("checks")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("checks must be an array of 1–100 checks".into()))?;
    if checks.is_empty() || checks.len() > MAX_CHECKS {
        return Err(bad(format!("checks must hold 1–{MAX_CHECKS} checks, got {}", checks.len())));
    }
    checks
        .iter()
        .enumerate()
        .map(|(i, check)| {
            let fields = check.as_object().ok_or_else(|| bad(format!("checks[{i}] must be an object")))?;
            if let Some(unknown) = fields
                .keys()
                .find(|k| !matches!(k.as_str(), "userId" | "orgId" | "permission" | "workspaceId"))
            {
                return Err(bad(format!("checks[{i}]: unknown field {unknown:?}")));
            }
            let text = |name: &str| {
                fields
                    .get(name)
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("checks[{i}].{name} must be a string")))
            };
            let workspace = match fields.get("workspaceId") {
                None | Some(Value::Null) => None,
                Some(Value::String(id)) => Some(WorkspaceId::parse(id)),
                Some(_) => return Err(bad(format!("checks[{i}].workspaceId must be a string"))),
            };
            Ok(Check {
                user: UserId::parse(text("userId")?),
                org: OrgId::parse(text("orgId")?),
                permission: text("permission")?.to_owned(),
                workspace,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Granted,
    NoOrg,
    NotMember,
    Suspended,
    NoWorkspace,
    NotInWorkspace,
    NoPermission,
    UnknownPermission,
}

/// One answer, `{allowed, reason, role}`: `role` is the role that decided (the organization
/// role for an org-scope permission, the effective workspace role for a workspace-scope
/// one), `null` when no role was reached.
/// A custom role decides by its key, a built-in one by its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    pub reason: Reason,
    pub role: Option<String>,
}

impl Decision {
    fn denied(reason: Reason) -> Self {
        Self { allowed: false, reason, role: None }
    }

    fn by_role(allowed: bool, role: &str) -> Self {
        let reason = if allowed { Reason::Granted } else { Reason::NoPermission };
        Self { allowed, reason, role: Some(role.to_owned()) }
    }
}

/// What the table holds for one check: `None` where an item is absent.
#[derive(Debug, Default)]
pub struct Facts<'a> {
    /// The organization exists and is not deleted.
    pub org_live: bool,
    pub member: Option<&'a Member>,
    /// The workspace exists in this organization (and is not deleted).
    pub workspace_live: bool,
    pub direct: Option<&'a WorkspaceMember>,
    /// The workspace's grants to the member's groups.
    pub grants: &'a [GroupGrant],
    /// Of the member's groups, those that exist.
    pub live_groups: Option<&'a BTreeSet<GroupId>>,
    /// The organization's custom roles that the member, their direct workspace membership or
    /// their groups' grants name (read when any does).
    pub roles: &'a [CustomRole],
}

impl Facts<'_> {
    /// The custom role `key` names. One the table no longer has (a deletion cannot complete
    /// while anything holds it, so only a defect leaves one behind) holds nothing.
    fn holds_org(&self, entry: &CatalogEntry, base: Role, key: Option<&RoleKey>) -> bool {
        match key {
            None => org_holds(entry, base, None),
            Some(key) => self.role(key).is_some_and(|role| org_holds(entry, base, Some(role))),
        }
    }

    fn holds_workspace(&self, entry: &CatalogEntry, base: WorkspaceRole, key: Option<&RoleKey>) -> bool {
        match key {
            None => workspace_holds(entry, base, None),
            Some(key) => self.role(key).is_some_and(|role| workspace_holds(entry, base, Some(role))),
        }
    }

    fn role(&self, key: &RoleKey) -> Option<&CustomRole> {
        self.roles.iter().find(|r| r.key == *key)
    }
}

/// The answer to `check`, from `facts`. The permission comes first (it needs no read), then
/// the organization, the membership, and the scope's role.
pub fn decide(catalog: &Catalog, check: &Check, facts: &Facts<'_>) -> Decision {
    let Some(entry) = catalog.get(&check.permission) else {
        return Decision::denied(Reason::UnknownPermission);
    };
    if check.org.is_none() || !facts.org_live {
        return Decision::denied(Reason::NoOrg);
    }
    let Some(member) = facts.member.filter(|_| check.user.is_some()) else {
        return Decision::denied(Reason::NotMember);
    };
    if !member.is_active() {
        return Decision::denied(Reason::Suspended);
    }
    match entry.scope {
        // Decided by the organization role, even when a workspace is named.
        PermissionScope::Org => {
            let custom = member.custom_role.as_ref();
            let allowed = facts.holds_org(entry, member.role, custom);
            Decision::by_role(allowed, custom.map_or(member.role.as_str(), RoleKey::as_str))
        }
        PermissionScope::Workspace => {
            if !matches!(check.workspace, Some(Some(_))) || !facts.workspace_live {
                return Decision::denied(Reason::NoWorkspace);
            }
            let none = BTreeSet::new();
            let live_groups = facts.live_groups.unwrap_or(&none);
            let sources = sources(member, facts.direct, facts.grants, live_groups);
            // The effective role is the highest source's; sources of that rank (a built-in
            // and a custom role of one base, say) decide together: any of them may grant.
            let Some(top) = sources.iter().map(|(role, _)| *role).max() else {
                return Decision::denied(Reason::NotInWorkspace);
            };
            let deciding = sources.iter().filter(|(role, _)| *role == top);
            let name = |key: Option<&RoleKey>| key.map_or_else(|| top.as_str().to_owned(), |k| k.to_string());
            match deciding.clone().find(|(role, key)| facts.holds_workspace(entry, *role, *key)) {
                Some((_, key)) => Decision::by_role(true, &name(*key)),
                None => Decision::by_role(false, &name(deciding.map(|(_, key)| *key).next().flatten())),
            }
        }
    }
}

/// Every source of `member`'s access to a workspace, with its custom role if any: the
/// sources of [`effective`] (which says the effective role and where it comes from).
fn sources<'a>(
    member: &'a Member,
    direct: Option<&'a WorkspaceMember>,
    grants: &'a [GroupGrant],
    live_groups: &BTreeSet<GroupId>,
) -> Vec<(WorkspaceRole, Option<&'a RoleKey>)> {
    // `effective` is the one place the rules live; this pairs its sources with their roles.
    let Some(access) = effective(member, direct, grants, live_groups) else { return Vec::new() };
    let mut out = Vec::new();
    for via in &access.via {
        match via {
            Via::OrgRole => out.push((WorkspaceRole::Admin, member.custom_role.as_ref())),
            Via::Direct => {
                if let Some(direct) = direct {
                    match direct.role {
                        Some(role) => out.push((role, direct.custom_role.as_ref())),
                        None => out.push((direct_role(member, direct), member.custom_role.as_ref())),
                    }
                }
            }
            Via::Group(group) => {
                for grant in grants.iter().filter(|g| g.group_id == *group) {
                    out.push((grant.role, grant.custom_role.as_ref()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_batch_parses_or_names_what_is_wrong() {
        let ok = parse_checks(&json!({"checks": [
            {"userId": "u-1", "orgId": "org_00000000000000000000000000000001", "permission": "projects:read"},
            {"userId": "u-1", "orgId": "nonsense", "permission": "x", "workspaceId": "ws_bad"},
        ]}))
        .unwrap();
        assert!(ok[0].org.is_some() && ok[0].workspace.is_none());
        assert_eq!((ok[1].org.clone(), ok[1].workspace.clone()), (None, Some(None)));
        let errors = [
            json!([]),
            json!({"checks": []}),
            json!({"checks": [{"userId": "u", "orgId": "o"}]}),
            json!({"checks": [{"userId": 1, "orgId": "o", "permission": "p"}]}),
            json!({"checks": [{"userId": "u", "orgId": "o", "permission": "p", "extra": 1}]}),
            json!({"checks": [], "more": 1}),
            json!({"checks": vec![json!({"userId": "u", "orgId": "o", "permission": "p"}); 101]}),
        ];
        for body in errors {
            assert!(matches!(parse_checks(&body), Err(Error::InvalidRequest(_))), "{body}");
        }
        let full = json!({"checks": vec![json!({"userId": "u", "orgId": "o", "permission": "p"}); 100]});
        assert_eq!(parse_checks(&full).unwrap().len(), 100);
    }
}
