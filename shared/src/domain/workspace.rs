//! Workspaces and groups (API.md "Workspaces and groups"): the objects, a member's effective
//! role in a workspace and where it comes from, and who may manage whose access.
//!
//! Access to a workspace has three sources: the organization role (owners and admins are
//! `admin` of every workspace), a direct workspace membership, and the grants of the groups a
//! member belongs to. The effective role is the highest. A direct membership or group grant
//! counts only for the organization membership it was made for (its generation): a member
//! removed and invited again starts with none of their old access.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

use super::custom_role::RoleKey;
use super::ids::{GroupId, UserId, WorkspaceId};
use super::metadata::Metadata;
use super::model::Member;
use super::role::Role;
use super::standing::Generation;
use super::text::{Description, Name};
use super::time::Timestamp;
use crate::error::Error;

/// The limits of API.md, beyond which a write is `409 limit_exceeded`.
pub mod limits {
    pub const WORKSPACES_PER_ORG: u32 = 1_000;
    pub const GROUPS_PER_ORG: u32 = 1_000;
    pub const WORKSPACES_PER_MEMBER: u32 = 1_000;
    pub const GROUPS_PER_MEMBER: usize = 100;
}

/// A role inside a workspace, declared lowest first so that the derived order is the rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceRole {
    Viewer,
    Member,
    Admin,
}

impl WorkspaceRole {
    pub const ALL: [WorkspaceRole; 3] = [WorkspaceRole::Admin, WorkspaceRole::Member, WorkspaceRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceRole::Admin => "admin",
            WorkspaceRole::Member => "member",
            WorkspaceRole::Viewer => "viewer",
        }
    }

    /// The workspace role an organization role stands for: owners and admins are admins.
    pub fn of_org_role(role: Role) -> Self {
        match role {
            Role::Owner | Role::Admin => WorkspaceRole::Admin,
            Role::Member => WorkspaceRole::Member,
            Role::Viewer => WorkspaceRole::Viewer,
        }
    }
}

impl FromStr for WorkspaceRole {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WorkspaceRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::invalid_request("a workspace role is one of admin, member, viewer"))
    }
}

impl fmt::Display for WorkspaceRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: Name,
    #[serde(default)]
    pub description: Description,
    pub created_at: Timestamp,
    /// Direct memberships (group grants are listed apart).
    #[serde(default, deserialize_with = "count")]
    pub member_count: u32,
    #[serde(default)]
    pub metadata: Metadata,
    /// Bumped by every change of the workspace, and the condition of the next. Stored,
    /// never shown.
    #[serde(default, skip_serializing)]
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: GroupId,
    pub name: Name,
    #[serde(default)]
    pub description: Description,
    pub created_at: Timestamp,
    #[serde(default, deserialize_with = "count")]
    pub member_count: u32,
    #[serde(default, skip_serializing)]
    pub version: u64,
}

/// A stored count, read as at least 0: counts move by conditioned writes, but a count that
/// ever drifted below zero must not make its workspace or group unreadable.
fn count<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let n = i64::deserialize(deserializer)?;
    Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
}

/// A member's direct membership of a workspace. `role: None` follows the organization role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceMember {
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub role: Option<WorkspaceRole>,
    /// The organization's custom role held, when one is (`role` is then its base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role: Option<RoleKey>,
    /// The organization membership this was made for.
    pub generation: Option<Generation>,
    pub added_at: Timestamp,
    pub added_by: UserId,
    #[serde(default)]
    pub version: u64,
}

/// A group's grant of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupGrant {
    pub workspace_id: WorkspaceId,
    pub group_id: GroupId,
    pub role: WorkspaceRole,
    /// The organization's custom role held, when one is (`role` is then its base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role: Option<RoleKey>,
    pub granted_at: Timestamp,
    pub granted_by: UserId,
}

/// A member's place in a group (the membership's `groups` set is what checks read; this item
/// lists the group's members).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMember {
    pub group_id: GroupId,
    pub user_id: UserId,
    pub generation: Option<Generation>,
    pub added_at: Timestamp,
    pub added_by: UserId,
}

/// Where access comes from: `"org_role"`, `"direct"` or `"group:{id}"`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Via {
    OrgRole,
    Direct,
    Group(GroupId),
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::OrgRole => f.write_str("org_role"),
            Via::Direct => f.write_str("direct"),
            Via::Group(id) => write!(f, "group:{id}"),
        }
    }
}

impl Serialize for Via {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A member's effective access to one workspace: the highest role of its sources, and every
/// source that gives access (not only the highest), so that a page can say why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    pub role: WorkspaceRole,
    pub via: Vec<Via>,
}

impl Access {
    pub fn is_admin(&self) -> bool {
        self.role == WorkspaceRole::Admin
    }
}

/// The role a direct membership gives: its own, or the organization role's.
pub fn direct_role(member: &Member, direct: &WorkspaceMember) -> WorkspaceRole {
    direct.role.unwrap_or_else(|| WorkspaceRole::of_org_role(member.role))
}

/// Whether a workspace or group membership belongs to `member`'s current joining.
pub fn same_joining(member: &Member, generation: Option<&Generation>) -> bool {
    member.generation.as_ref() == generation
}

/// `member`'s effective access to a workspace, given its direct membership (if any) and the
/// grants of that workspace to groups (any: those of groups the member is not in are
/// ignored, as are those of groups that no longer exist, which `live_groups` leaves out).
/// `None`: no access (not active, or no source).
pub fn effective(
    member: &Member,
    direct: Option<&WorkspaceMember>,
    grants: &[GroupGrant],
    live_groups: &BTreeSet<GroupId>,
) -> Option<Access> {
    if !member.is_active() {
        return None;
    }
    let mut sources: Vec<(WorkspaceRole, Via)> = Vec::new();
    if member.role.can_administer() {
        sources.push((WorkspaceRole::Admin, Via::OrgRole));
    }
    if let Some(direct) = direct.filter(|d| same_joining(member, d.generation.as_ref())) {
        sources.push((direct_role(member, direct), Via::Direct));
    }
    for grant in grants {
        if member.groups.contains(&grant.group_id) && live_groups.contains(&grant.group_id) {
            sources.push((grant.role, Via::Group(grant.group_id.clone())));
        }
    }
    let role = sources.iter().map(|(role, _)| *role).max()?;
    let mut via: Vec<Via> = sources.into_iter().map(|(_, via)| via).collect();
    via.sort();
    via.dedup();
    Some(Access { role, via })
}

/// Creating workspaces and groups, granting workspaces to groups, managing groups: the
/// organization's admins and owners.
pub fn require_org_admin(me: &Member) -> Result<(), Error> {
    if me.role.can_administer() {
        Ok(())
    } else {
        Err(Error::forbidden("only organization admins and owners may do this"))
    }
}

/// Reading a workspace and its members: anyone with access to it. Without access the
/// workspace does not exist for the caller (404), as an organization does for a non-member.
pub fn require_access(access: Option<&Access>) -> Result<&Access, Error> {
    access.ok_or(Error::NotFound)
}

/// Renaming a workspace: organization admins and owners, and the workspace's admins.
pub fn require_workspace_admin(access: Option<&Access>) -> Result<&Access, Error> {
    let access = require_access(access)?;
    if access.is_admin() {
        Ok(access)
    } else {
        Err(Error::forbidden("only the workspace's admins may do this"))
    }
}

/// May `me` (with `my_access` to the workspace) add, change or remove `target`'s direct
/// membership? Organization admins and owners manage anyone's; the workspace's admins manage
/// members whose organization role is `member` or `viewer` (roles up to `admin`, the highest
/// a workspace has).
pub fn require_manage_member(me: &Member, my_access: Option<&Access>, target: &Member) -> Result<(), Error> {
    if me.role.can_administer() {
        return Ok(());
    }
    require_workspace_admin(my_access)?;
    if target.role.can_administer() {
        return Err(Error::forbidden(format!(
            "a workspace admin may not manage the access of an organization {}",
            target.role
        )));
    }
    Ok(())
}

/// A workspace an invitation or link gives, with the role (`None`: the organization role's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceAssignment {
    pub id: WorkspaceId,
    pub role: Option<WorkspaceRole>,
}

/// Read from an object only: a derived reader would take `["ws_…", "admin"]` too.
impl<'de> Deserialize<'de> for WorkspaceAssignment {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields {
            id: WorkspaceId,
            #[serde(default)]
            role: Option<WorkspaceRole>,
        }
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let Fields { id, role } =
            serde_json::from_value(serde_json::Value::Object(map)).map_err(serde::de::Error::custom)?;
        Ok(Self { id, role })
    }
}

/// The workspaces and groups an invitation or link gives on accept: at most
/// [`Assignments::MAX`] together, because the join is one transaction (README: the join's
/// items).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignments {
    pub workspaces: Vec<WorkspaceAssignment>,
    pub groups: Vec<GroupId>,
}

impl Assignments {
    pub const MAX: usize = 25;

    /// As requested: no workspace or group twice, 25 at most together.
    pub fn parse(
        workspaces: Option<Vec<WorkspaceAssignment>>,
        groups: Option<Vec<GroupId>>,
    ) -> Result<Self, Error> {
        let (workspaces, groups) = (workspaces.unwrap_or_default(), groups.unwrap_or_default());
        if workspaces.len() + groups.len() > Self::MAX {
            return Err(Error::invalid_request(format!(
                "an invitation gives at most {} workspaces and groups together",
                Self::MAX
            )));
        }
        let distinct: BTreeSet<&WorkspaceId> = workspaces.iter().map(|w| &w.id).collect();
        if distinct.len() != workspaces.len() {
            return Err(Error::invalid_request("a workspace is listed twice"));
        }
        let distinct: BTreeSet<&GroupId> = groups.iter().collect();
        if distinct.len() != groups.len() {
            return Err(Error::invalid_request("a group is listed twice"));
        }
        Ok(Self { workspaces, groups })
    }

    pub fn is_empty(&self) -> bool {
        self.workspaces.is_empty() && self.groups.is_empty()
    }
}

/// A workspace or group, and its key fields, as a new one starts.
pub fn new_workspace(name: Name, description: Description, metadata: Metadata, now: Timestamp) -> Workspace {
    Workspace {
        id: WorkspaceId::new(),
        name,
        description,
        created_at: now,
        member_count: 0,
        metadata,
        version: 0,
    }
}

pub fn new_group(name: Name, description: Description, now: Timestamp) -> Group {
    Group { id: GroupId::new(), name, description, created_at: now, member_count: 0, version: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;

    fn at() -> Timestamp {
        Timestamp::parse("2026-01-01T00:00:00Z").unwrap()
    }

    fn direct(member: &Member, role: Option<WorkspaceRole>) -> WorkspaceMember {
        WorkspaceMember {
            workspace_id: WorkspaceId::new(),
            user_id: member.user_id.clone(),
            role,
            custom_role: None,
            generation: member.generation.clone(),
            added_at: at(),
            added_by: member.user_id.clone(),
            version: 0,
        }
    }

    fn grant(group: &GroupId, role: WorkspaceRole) -> GroupGrant {
        GroupGrant {
            workspace_id: WorkspaceId::new(),
            group_id: group.clone(),
            role,
            custom_role: None,
            granted_at: at(),
            granted_by: UserId::parse("a").unwrap(),
        }
    }

    #[test]
    fn owners_and_admins_are_admins_everywhere_members_need_a_source() {
        let none = BTreeSet::new();
        for role in [Role::Owner, Role::Admin] {
            let m = Member::sample(role, Status::Active);
            let access = effective(&m, None, &[], &none).unwrap();
            assert_eq!((access.role, access.via), (WorkspaceRole::Admin, vec![Via::OrgRole]));
            // An explicit lower direct role never takes an admin below admin.
            let d = direct(&m, Some(WorkspaceRole::Viewer));
            assert_eq!(effective(&m, Some(&d), &[], &none).unwrap().role, WorkspaceRole::Admin);
        }
        for role in [Role::Member, Role::Viewer] {
            assert_eq!(effective(&Member::sample(role, Status::Active), None, &[], &none), None);
        }
    }

    #[test]
    fn direct_role_follows_the_org_role_unless_explicit() {
        let none = BTreeSet::new();
        let m = Member::sample(Role::Member, Status::Active);
        assert_eq!(effective(&m, Some(&direct(&m, None)), &[], &none).unwrap().role, WorkspaceRole::Member);
        let d = direct(&m, Some(WorkspaceRole::Viewer));
        assert_eq!(effective(&m, Some(&d), &[], &none).unwrap().role, WorkspaceRole::Viewer);
        let d = direct(&m, Some(WorkspaceRole::Admin));
        assert_eq!(effective(&m, Some(&d), &[], &none).unwrap().role, WorkspaceRole::Admin);
    }

    #[test]
    fn groups_count_only_for_their_members_and_while_they_exist() {
        let g = GroupId::new();
        let mut m = Member::sample(Role::Viewer, Status::Active);
        let live = BTreeSet::from([g.clone()]);
        let grants = [grant(&g, WorkspaceRole::Member)];
        assert_eq!(effective(&m, None, &grants, &live), None, "not in the group");
        m.groups.insert(g.clone());
        let access = effective(&m, Some(&direct(&m, None)), &grants, &live).unwrap();
        assert_eq!(access.role, WorkspaceRole::Member);
        assert_eq!(access.via, vec![Via::Direct, Via::Group(g.clone())]);
        assert_eq!(effective(&m, None, &grants, &BTreeSet::new()), None, "group deleted");
    }

    #[test]
    fn an_earlier_joining_and_suspension_give_nothing() {
        let none = BTreeSet::new();
        let m = Member::sample(Role::Member, Status::Active);
        let mut d = direct(&m, Some(WorkspaceRole::Admin));
        d.generation = Some(Generation::new());
        assert_eq!(effective(&m, Some(&d), &[], &none), None, "removed and invited again");
        let s = Member::sample(Role::Owner, Status::Suspended);
        assert_eq!(effective(&s, Some(&direct(&s, None)), &[], &none), None);
    }

    #[test]
    fn workspace_admins_manage_only_members_and_viewers() {
        let none = BTreeSet::new();
        let ws_admin = Member::sample(Role::Member, Status::Active);
        let d = direct(&ws_admin, Some(WorkspaceRole::Admin));
        let access = effective(&ws_admin, Some(&d), &[], &none);
        let viewer = Member::sample(Role::Viewer, Status::Active);
        let org_admin = Member::sample(Role::Admin, Status::Active);
        assert!(require_manage_member(&ws_admin, access.as_ref(), &viewer).is_ok());
        assert!(require_manage_member(&ws_admin, access.as_ref(), &org_admin).is_err());
        let plain = effective(&ws_admin, Some(&direct(&ws_admin, None)), &[], &none);
        assert!(require_manage_member(&ws_admin, plain.as_ref(), &viewer).is_err());
        assert!(require_manage_member(&org_admin, None, &viewer).is_ok());
    }

    #[test]
    fn via_reads_as_the_contract_spells_it() {
        let g = GroupId::parse("grp_0123456789abcdef0123456789abcdef").unwrap();
        let json = serde_json::to_value([Via::OrgRole, Via::Direct, Via::Group(g)]).unwrap();
        assert_eq!(
            json,
            serde_json::json!(["org_role", "direct", "group:grp_0123456789abcdef0123456789abcdef"])
        );
    }
}
