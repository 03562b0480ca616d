//! The single-table key layout. Every key Roster writes is built here.
//!
//! | item                | PK               | SK                 | GSI1PK              | GSI1SK                        |
//! |---------------------|------------------|--------------------|---------------------|-------------------------------|
//! | organization        | `ORG#<orgId>`    | `ORG`              |                     |                               |
//! | membership          | `ORG#<orgId>`    | `MEMBER#<userId>`  | `USER#<userId>`     | `ORG#<orgId>`                 |
//! | address slot        | `ORG#<orgId>`    | `EMAIL#<email>`    |                     |                               |
//! | invitation          | `ORG#<orgId>`    | `INV#<invId>`      | `INVITEE#<email>`   | `ORG#<orgId>#INV#<invId>`     |
//! | invite link         | `ORG#<orgId>`    | `LINK#<linkId>`    |                     |                               |
//! | audit event         | `ORG#<orgId>`    | `AUDIT#<eventId>`  | `AUDA#<orgId>#<actor>` | `AUDIT#<eventId>` (its SK) |
//! | token (by hash)     | `TOKEN#<sha256>` | `TOKEN`            |                     |                               |
//! | one-org lock        | `USER#<userId>`  | `ORG_LOCK`         |                     |                               |
//! | sign-up's organization | `USER#<userId>` | `SIGN_UP`        |                     |                               |
//! | purge list entry    | `PURGE`          | `ORG#<orgId>`      |                     |                               |
//! | workspace           | `ORG#<orgId>`    | `WS#<wsId>`        |                     |                               |
//! | workspace member    | `ORG#<orgId>`    | `WSM#<wsId>#<userId>` |                  |                               |
//! | the same, by member | `ORG#<orgId>`    | `UWS#<len>#<userId>#<wsId>` |            |                               |
//! | group               | `ORG#<orgId>`    | `GRP#<groupId>`    |                     |                               |
//! | group member        | `ORG#<orgId>`    | `GRPM#<groupId>#<userId>` |              |                               |
//! | group grant         | `ORG#<orgId>`    | `WSG#<wsId>#<groupId>` |                 |                               |
//! | the same, by group  | `ORG#<orgId>`    | `GWS#<groupId>#<wsId>` |                 |                               |
//! | purge: workspace    | `PURGE`          | `WS#<orgId>#<wsId>`  |                   |                               |
//! | purge: group        | `PURGE`          | `GRP#<orgId>#<groupId>` |                |                               |
//! | purge: removed member's access | `PURGE` | `MEMBER#<orgId>#<generation>#<userId>` |  |                               |
//! | custom role         | `ORG#<orgId>`    | `ROLE#<key>`       |                     |                               |
//! | email quota: org    | `ORG#<orgId>`    | `QUOTA#H#<yyyymmddhh>`, `QUOTA#D#<yyyymmdd>` |   |                               |
//! | email quota: inviter | `USER#<userId>` | `QUOTA#H#<yyyymmddhh>` |                 |                               |
//! | bounce window       | `ORG#<orgId>`    | `MAILSTATS`        |                     |                               |
//! | usage counter (member, metric, UTC day) | `ORG#<orgId>` | `USAGE#D#<metric>#<yyyymmdd>#<len>#<userId>` | |            |
//! | the same, by member | `ORG#<orgId>` | `USAGE#U#<metric>#<len>#<userId>#<yyyymmdd>` |   |            |
//! | usage record id (7 days) | `ORG#<orgId>` | `USAGE#ID#<recordId>` |                 |                               |
//! | account intent (24 hours; `store::accounts`) | `ACCOUNT#<email>` | `INTENT` |      |                               |
//!
//! GSI1 answers three questions: a user's memberships (`USER#`, the organizations list), an
//! address's invitations in every organization (`INVITEE#`, the pre-sign-up trigger) and an
//! organization's audit events by one actor (`AUDA#`). The partitions never meet: each query
//! names its own whole key.
//!
//! An audit event is also on two sparse indexes keyed by its `SK`: GSI2 (`GSI2PK =
//! AUDT#<orgId>#<target>`, when it has a target) and GSI3 (`GSI3PK =
//! AUDX#<orgId>#<action>`). So each audit filter (actor, target, action) is a query of one
//! partition, newest first, reading about as many items as it returns, and a time range is a
//! key range on the `SK` in any of them (an event's id starts with its `at`: `EventId::at`).
//! The indexes are DynamoDB's, kept by the write of the event itself: no index item is ever
//! in a transaction (none of the 100-item limits moves), none is on the table's stream
//! (nothing more to publish), and the purge's deletion of the event takes it off them.
//!
//! Workspace access lives in the organization's partition, never on GSI1: every read of it
//! is strongly consistent. A direct membership and a group grant are each written twice, in
//! one transaction, once under each side (`WSM`/`UWS`, `WSG`/`GWS`), so that both "who is in
//! this workspace" and "which workspaces does this member (group) have" are one query.
//! "What may user U do in workspace W" reads the membership (role, status, generation, its
//! `groups`), `WS#`, `WSM#W#U` together, then `WSG#W#G` and `GRP#G` of U's groups: two waves.
//! A user id may hold `#`, so the member side carries the id's length before it: the prefix
//! `UWS#3#ann#` can never match the items of user `ann#x`.
//!
//! A deleted organization's item stays as a tombstone (`deletedAt`, no other attribute).

use crate::domain::usage::{Day, Metric, RecordId};
use crate::domain::{Email, EventId, GroupId, InvitationId, LinkId, OrgId, UserId, WorkspaceId};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
/// An organization's audit events by target (`GSI2PK`), in the order of their `SK`.
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
/// An organization's audit events by action (`GSI3PK`), in the order of their `SK`.
pub const GSI3: &str = "GSI3";
pub const GSI3PK: &str = "GSI3PK";
/// Epoch seconds after which DynamoDB may delete the item (invitations, their slots, tokens).
pub const TTL: &str = "expiresAtEpoch";

pub const ORG_SK: &str = "ORG";
pub const MEMBER_PREFIX: &str = "MEMBER#";
pub const EMAIL_PREFIX: &str = "EMAIL#";
pub const INVITATION_PREFIX: &str = "INV#";
pub const LINK_PREFIX: &str = "LINK#";
pub const AUDIT_PREFIX: &str = "AUDIT#";
pub const ORG_PREFIX: &str = "ORG#";
pub const TOKEN_SK: &str = "TOKEN";
pub const ORG_LOCK_SK: &str = "ORG_LOCK";
/// A user's sign-up made their personal organization (see `store::orgs`).
pub const SIGN_UP_SK: &str = "SIGN_UP";
/// The partition that lists deleted organizations whose items are still being removed.
pub const PURGE_PK: &str = "PURGE";

pub const QUOTA_PREFIX: &str = "QUOTA#";
pub const MAIL_STATS_SK: &str = "MAILSTATS";

/// A quota window's item: `QUOTA#H#2026120517` (an hour) or `QUOTA#D#20261205` (a day).
pub fn quota(window: &str) -> String {
    format!("{QUOTA_PREFIX}{window}")
}

/// A member's counter of one metric on one UTC day. The metric (`[a-z0-9_.-]`, never `#`)
/// comes first and the day next, so a metric's days are one key range; the user id, which
/// may hold `#`, last, after its length.
pub fn usage_counter(metric: &Metric, day: Day, user: &UserId) -> String {
    format!("{}{}#{}", usage_days(metric, day), user.as_str().len(), user.as_str())
}

/// The start of a metric's counters on `day` (`USAGE#D#<metric>#<yyyymmdd>#`).
pub fn usage_days(metric: &Metric, day: Day) -> String {
    format!("USAGE#D#{}#{}#", metric.as_str(), day.compact())
}

/// Past every counter of a metric on `day`: `$` sorts right after `#`.
pub fn usage_days_end(metric: &Metric, day: Day) -> String {
    format!("USAGE#D#{}#{}$", metric.as_str(), day.compact())
}

/// The same counter under its member: one member's days of a metric are one key range.
pub fn usage_member_counter(metric: &Metric, user: &UserId, day: Day) -> String {
    format!("{}{}", usage_member(metric, user), day.compact())
}

/// The start of a member's counters of a metric (`USAGE#U#<metric>#<len>#<userId>#`).
pub fn usage_member(metric: &Metric, user: &UserId) -> String {
    format!("USAGE#U#{}#{}#{}#", metric.as_str(), user.as_str().len(), user.as_str())
}

/// A reported record's id, kept 7 days (TTL) so that it counts once.
pub fn usage_record(id: &RecordId) -> String {
    format!("USAGE#ID#{}", id.as_str())
}

/// An address's account intent (`store::accounts`): one organization's, for a day.
pub fn account_intent(email: &Email) -> String {
    format!("ACCOUNT#{email}")
}

pub const ACCOUNT_INTENT_SK: &str = "INTENT";

pub fn org(org: &OrgId) -> String {
    format!("{ORG_PREFIX}{org}")
}

pub fn member(user: &UserId) -> String {
    format!("{MEMBER_PREFIX}{user}")
}

pub fn user(user: &UserId) -> String {
    format!("USER#{user}")
}

pub fn email(email: &Email) -> String {
    format!("{EMAIL_PREFIX}{email}")
}

pub fn invitation(id: &InvitationId) -> String {
    format!("{INVITATION_PREFIX}{id}")
}

pub fn link(id: &LinkId) -> String {
    format!("{LINK_PREFIX}{id}")
}

pub fn audit(id: &EventId) -> String {
    format!("{AUDIT_PREFIX}{id}")
}

/// GSI1 partition of an organization's audit events by `actor` (the sort key, `GSI1SK`, is
/// the event's `SK`). A whole key, compared for equality: an actor holding `#` cannot reach
/// another's partition, and the organization id (fixed length, no `#`) comes first.
pub fn audit_by_actor(org: &OrgId, actor: &str) -> String {
    format!("AUDA#{org}#{actor}")
}

/// GSI2 partition of an organization's audit events about `target` (sorted by `SK`).
pub fn audit_by_target(org: &OrgId, target: &str) -> String {
    format!("AUDT#{org}#{target}")
}

/// GSI3 partition of an organization's audit events of `action` (sorted by `SK`).
pub fn audit_by_action(org: &OrgId, action: &str) -> String {
    format!("AUDX#{org}#{action}")
}

/// GSI1 partition of the invitations to `email`, across organizations.
pub fn invitee(email: &Email) -> String {
    format!("INVITEE#{email}")
}

/// GSI1 sort key of an invitation in its address's partition: one per organization and
/// invitation, so that two organizations' invitations to one address never share a key.
pub fn invitee_sort(org: &OrgId, id: &InvitationId) -> String {
    format!("{ORG_PREFIX}{org}#{INVITATION_PREFIX}{id}")
}

pub fn token(hash: &str) -> String {
    format!("TOKEN#{hash}")
}

pub const WORKSPACE_PREFIX: &str = "WS#";
pub const GROUP_PREFIX: &str = "GRP#";

pub fn workspace(id: &WorkspaceId) -> String {
    format!("{WORKSPACE_PREFIX}{id}")
}

pub fn group(id: &GroupId) -> String {
    format!("{GROUP_PREFIX}{id}")
}

/// The prefix of a workspace's direct memberships.
pub fn workspace_members(ws: &WorkspaceId) -> String {
    format!("WSM#{ws}#")
}

pub fn workspace_member(ws: &WorkspaceId, user: &UserId) -> String {
    format!("WSM#{ws}#{user}")
}

/// The prefix of a member's direct workspace memberships.
pub fn member_workspaces(user: &UserId) -> String {
    format!("UWS#{}#{user}#", user.as_str().len())
}

pub fn member_workspace(user: &UserId, ws: &WorkspaceId) -> String {
    format!("{}{ws}", member_workspaces(user))
}

/// The prefix of a group's members.
pub fn group_members(group: &GroupId) -> String {
    format!("GRPM#{group}#")
}

pub fn group_member(group: &GroupId, user: &UserId) -> String {
    format!("GRPM#{group}#{user}")
}

/// The prefix of a workspace's group grants.
pub fn workspace_grants(ws: &WorkspaceId) -> String {
    format!("WSG#{ws}#")
}

pub fn workspace_grant(ws: &WorkspaceId, group: &GroupId) -> String {
    format!("WSG#{ws}#{group}")
}

/// The prefix of a group's workspace grants.
pub fn group_grants(group: &GroupId) -> String {
    format!("GWS#{group}#")
}

pub fn group_grant(group: &GroupId, ws: &WorkspaceId) -> String {
    format!("GWS#{group}#{ws}")
}

/// Purge list entries of a deleted workspace and a deleted group.
pub fn purge_workspace(org: &OrgId, ws: &WorkspaceId) -> String {
    format!("{WORKSPACE_PREFIX}{org}#{ws}")
}

pub fn purge_group(org: &OrgId, group: &GroupId) -> String {
    format!("{GROUP_PREFIX}{org}#{group}")
}

/// Purge list entry of a removed member's workspace and group memberships.
pub fn purge_member(org: &OrgId, user: &UserId, generation: &str) -> String {
    format!("{MEMBER_PREFIX}{org}#{generation}#{user}")
}

pub const ROLE_PREFIX: &str = "ROLE#";

/// An organization's custom role.
pub fn role(key: &crate::domain::custom_role::RoleKey) -> String {
    format!("{ROLE_PREFIX}{key}")
}
