//! The objects of the API (API.md "Objects"), exactly as they are serialised.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::custom_role::RoleKey;
use super::email::Email;
use super::ids::{EventId, GroupId, OrgId, UserId};
use super::metadata::Metadata;
use super::role::{Role, Status};
use super::standing::{Generation, RevokedReason};
use super::text::{DisplayName, OrgName};
use super::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Org {
    pub id: OrgId,
    pub name: OrgName,
    pub created_at: Timestamp,
    pub member_count: u32,
    #[serde(default)]
    pub metadata: Metadata,
    /// Bumped by every settings change (name, metadata), and the condition of the next.
    /// Stored, never shown.
    #[serde(default, skip_serializing)]
    pub version: u64,
    /// Set when its invitation emails are paused (API.md "Email delivery"); written by the
    /// email-events function, lifted by the deployment's operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitations_paused: Option<InvitationsPaused>,
    /// Made for its owner when they signed up (API.md "Accounts"), and nobody invited to it
    /// since: with one organization per user, accepting an invitation replaces it while they
    /// are its only member. The first invitation or link clears it for good. Stored, never
    /// shown.
    #[serde(default, skip_serializing)]
    pub personal: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationsPaused {
    pub at: Timestamp,
    /// `bounces` or `complaints`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: UserId,
    pub email: Option<Email>,
    pub name: Option<DisplayName>,
    pub role: Role,
    pub status: Status,
    /// The organization's custom role held, when one is (`role` is then its base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role: Option<RoleKey>,
    pub joined_at: Timestamp,
    pub invited_by: Option<UserId>,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub metadata: Metadata,
    /// The address whose slot this membership holds (the one it joined with), once `email`
    /// has moved on to the member's current address. Stored, never shown.
    #[serde(default, skip_serializing, rename = "slotAddress")]
    pub slot_address: Option<Email>,
    /// Bumped by every write of the membership, and the condition of the next: two writes in
    /// one millisecond cannot pass for one (a timestamp could). Stored, never shown.
    #[serde(default, skip_serializing)]
    pub version: u64,
    /// New on every join (see `standing`). Stored, never shown; `None` on memberships written
    /// before it existed.
    #[serde(default, skip_serializing)]
    pub generation: Option<Generation>,
    /// Raised by every demotion and suspension (see `standing`). Stored, never shown.
    #[serde(default, skip_serializing)]
    pub standing: u64,
    /// Why `standing` last moved. Stored, never shown.
    #[serde(default, skip_serializing, rename = "standingReason")]
    pub standing_reason: Option<RevokedReason>,
    /// The groups the member belongs to, on the membership itself so that a permission check
    /// learns them in the read that finds the member; removal takes them along. Stored, never
    /// shown (`GET .../groups/{groupId}/members` lists them).
    #[serde(default, skip_serializing)]
    pub groups: BTreeSet<GroupId>,
    /// Direct workspace memberships, held under the per-member limit by a condition on this
    /// counter. Stored, never shown.
    #[serde(default, skip_serializing, rename = "workspaceCount")]
    pub workspace_count: u32,
}

impl Member {
    /// A membership as it starts: active, of a new generation, at version 0.
    pub fn joining(
        user_id: UserId,
        email: Option<Email>,
        name: Option<DisplayName>,
        role: Role,
        now: Timestamp,
        invited_by: Option<UserId>,
        metadata: Metadata,
    ) -> Self {
        Self {
            user_id,
            email,
            name,
            role,
            custom_role: None,
            status: Status::Active,
            joined_at: now,
            invited_by,
            updated_at: now,
            metadata,
            slot_address: None,
            version: 0,
            generation: Some(Generation::new()),
            standing: 0,
            standing_reason: None,
            groups: BTreeSet::new(),
            workspace_count: 0,
        }
    }

    /// A service holding `roster/admin`, as it acts in an organization: an owner (API.md
    /// "Service callers") that is no member. It is never stored; the store's actor check for
    /// it is that the organization still exists (`store::org_update::push_actor_check`), and
    /// what it vouches for holds while its client id stays listed (no generation, standing 0:
    /// a service's standing never moves).
    pub fn service_owner(service: UserId, now: Timestamp) -> Self {
        debug_assert!(service.is_service(), "{service} names no service");
        Self {
            generation: None,
            ..Self::joining(service, None, None, Role::Owner, now, None, Metadata::default())
        }
    }

    /// Whether this is a service acting as an owner ([`Member::service_owner`]).
    pub fn is_service(&self) -> bool {
        self.user_id.is_service()
    }

    /// A membership for unit tests: user `u`, no address, joined at a fixed time.
    #[cfg(test)]
    pub(crate) fn sample(role: Role, status: Status) -> Self {
        let at = Timestamp::parse("2026-01-01T00:00:00Z").expect("a valid time");
        let user = UserId::parse("u").expect("a valid user id");
        Self::joining(user, None, None, role, at, None, Metadata::default()).with_status(status)
    }

    /// As joining with a custom role (`role` is then its base).
    pub fn with_custom_role(self, custom_role: Option<RoleKey>) -> Self {
        Self { custom_role, ..self }
    }

    pub fn with_status(self, status: Status) -> Self {
        Self { status, ..self }
    }

    /// `self` as the next write stores it: one version on, at `now`.
    pub fn next_version(self, now: Timestamp) -> Self {
        Self { version: self.version + 1, updated_at: now, ..self }
    }

    /// The address this membership marks as taken in its organization (see `store::slots`).
    pub fn slot_email(&self) -> Option<&Email> {
        self.slot_address.as_ref().or(self.email.as_ref())
    }

    /// The membership as its member's current claims describe them (name; verified address),
    /// if that differs from what is stored. An unverified or absent claim changes nothing.
    pub fn refreshed(&self, name: Option<&DisplayName>, verified_email: Option<&Email>) -> Option<Member> {
        let name = name.filter(|n| self.name.as_ref() != Some(*n));
        let email = verified_email.filter(|e| self.email.as_ref() != Some(*e));
        if name.is_none() && email.is_none() {
            return None;
        }
        let mut after = self.clone();
        if let Some(name) = name {
            after.name = Some(name.clone());
        }
        if let Some(email) = email {
            after.slot_address = self.slot_email().cloned();
            after.email = Some(email.clone());
        }
        after.version += 1;
        Some(after)
    }

    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }

    pub fn is_active_owner(&self) -> bool {
        self.is_active() && self.role == Role::Owner
    }
}

/// One entry of the audit trail. `details` holds what the action changed (old and new role,
/// the invited address, ...), never a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: EventId,
    pub at: Timestamp,
    pub actor: UserId,
    pub action: AuditAction,
    pub target: Option<String>,
    pub details: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    #[serde(rename = "org.created")]
    OrgCreated,
    #[serde(rename = "invitation.created")]
    InvitationCreated,
    #[serde(rename = "invitation.resent")]
    InvitationResent,
    #[serde(rename = "invitation.revoked")]
    InvitationRevoked,
    #[serde(rename = "invitation.updated")]
    InvitationUpdated,
    #[serde(rename = "invitation.accepted")]
    InvitationAccepted,
    #[serde(rename = "invitation.declined")]
    InvitationDeclined,
    #[serde(rename = "link.created")]
    LinkCreated,
    #[serde(rename = "link.revoked")]
    LinkRevoked,
    #[serde(rename = "member.role_changed")]
    MemberRoleChanged,
    #[serde(rename = "member.suspended")]
    MemberSuspended,
    #[serde(rename = "member.reactivated")]
    MemberReactivated,
    #[serde(rename = "member.removed")]
    MemberRemoved,
    #[serde(rename = "member.left")]
    MemberLeft,
    /// A service added a known user directly (`POST /orgs/{orgId}/members`).
    #[serde(rename = "member.added")]
    MemberAdded,
    #[serde(rename = "ownership.transferred")]
    OwnershipTransferred,
    #[serde(rename = "org.updated")]
    OrgUpdated,
    #[serde(rename = "member.updated")]
    MemberUpdated,
    #[serde(rename = "org.deleted")]
    OrgDeleted,
    #[serde(rename = "workspace.created")]
    WorkspaceCreated,
    #[serde(rename = "workspace.updated")]
    WorkspaceUpdated,
    #[serde(rename = "workspace.deleted")]
    WorkspaceDeleted,
    #[serde(rename = "workspace.member_added")]
    WorkspaceMemberAdded,
    #[serde(rename = "workspace.member_updated")]
    WorkspaceMemberUpdated,
    #[serde(rename = "workspace.member_removed")]
    WorkspaceMemberRemoved,
    #[serde(rename = "workspace.group_granted")]
    WorkspaceGroupGranted,
    #[serde(rename = "workspace.group_revoked")]
    WorkspaceGroupRevoked,
    #[serde(rename = "group.created")]
    GroupCreated,
    #[serde(rename = "group.updated")]
    GroupUpdated,
    #[serde(rename = "group.deleted")]
    GroupDeleted,
    #[serde(rename = "group.member_added")]
    GroupMemberAdded,
    #[serde(rename = "group.member_removed")]
    GroupMemberRemoved,
    #[serde(rename = "role.created")]
    RoleCreated,
    #[serde(rename = "role.updated")]
    RoleUpdated,
    #[serde(rename = "role.deleted")]
    RoleDeleted,
    /// SES reported a bounce of an invitation email (a suppressed address included).
    #[serde(rename = "invitation.email_bounced")]
    InvitationEmailBounced,
    #[serde(rename = "invitation.email_complained")]
    InvitationEmailComplained,
    /// The organization's bounces or complaints passed the deployment's threshold.
    #[serde(rename = "org.invitations_paused")]
    OrgInvitationsPaused,
    /// The deployment's operator lifted the pause.
    #[serde(rename = "org.invitations_resumed")]
    OrgInvitationsResumed,
}

impl AuditAction {
    /// Every action, in declaration order (`as_str`'s match makes a new variant a compile
    /// error until it is listed here too: see the test).
    pub const ALL: [AuditAction; 39] = [
        Self::OrgCreated,
        Self::InvitationCreated,
        Self::InvitationResent,
        Self::InvitationRevoked,
        Self::InvitationUpdated,
        Self::InvitationAccepted,
        Self::InvitationDeclined,
        Self::LinkCreated,
        Self::LinkRevoked,
        Self::MemberRoleChanged,
        Self::MemberSuspended,
        Self::MemberReactivated,
        Self::MemberRemoved,
        Self::MemberLeft,
        Self::MemberAdded,
        Self::OwnershipTransferred,
        Self::OrgUpdated,
        Self::MemberUpdated,
        Self::OrgDeleted,
        Self::WorkspaceCreated,
        Self::WorkspaceUpdated,
        Self::WorkspaceDeleted,
        Self::WorkspaceMemberAdded,
        Self::WorkspaceMemberUpdated,
        Self::WorkspaceMemberRemoved,
        Self::WorkspaceGroupGranted,
        Self::WorkspaceGroupRevoked,
        Self::GroupCreated,
        Self::GroupUpdated,
        Self::GroupDeleted,
        Self::GroupMemberAdded,
        Self::GroupMemberRemoved,
        Self::RoleCreated,
        Self::RoleUpdated,
        Self::RoleDeleted,
        Self::InvitationEmailBounced,
        Self::InvitationEmailComplained,
        Self::OrgInvitationsPaused,
        Self::OrgInvitationsResumed,
    ];

    /// The action's name, as serialized (`member.suspended`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrgCreated => "org.created",
            Self::InvitationCreated => "invitation.created",
            Self::InvitationResent => "invitation.resent",
            Self::InvitationRevoked => "invitation.revoked",
            Self::InvitationUpdated => "invitation.updated",
            Self::InvitationAccepted => "invitation.accepted",
            Self::InvitationDeclined => "invitation.declined",
            Self::LinkCreated => "link.created",
            Self::LinkRevoked => "link.revoked",
            Self::MemberRoleChanged => "member.role_changed",
            Self::MemberSuspended => "member.suspended",
            Self::MemberReactivated => "member.reactivated",
            Self::MemberRemoved => "member.removed",
            Self::MemberLeft => "member.left",
            Self::MemberAdded => "member.added",
            Self::OwnershipTransferred => "ownership.transferred",
            Self::OrgUpdated => "org.updated",
            Self::MemberUpdated => "member.updated",
            Self::OrgDeleted => "org.deleted",
            Self::WorkspaceCreated => "workspace.created",
            Self::WorkspaceUpdated => "workspace.updated",
            Self::WorkspaceDeleted => "workspace.deleted",
            Self::WorkspaceMemberAdded => "workspace.member_added",
            Self::WorkspaceMemberUpdated => "workspace.member_updated",
            Self::WorkspaceMemberRemoved => "workspace.member_removed",
            Self::WorkspaceGroupGranted => "workspace.group_granted",
            Self::WorkspaceGroupRevoked => "workspace.group_revoked",
            Self::GroupCreated => "group.created",
            Self::GroupUpdated => "group.updated",
            Self::GroupDeleted => "group.deleted",
            Self::GroupMemberAdded => "group.member_added",
            Self::GroupMemberRemoved => "group.member_removed",
            Self::RoleCreated => "role.created",
            Self::RoleUpdated => "role.updated",
            Self::RoleDeleted => "role.deleted",
            Self::InvitationEmailBounced => "invitation.email_bounced",
            Self::InvitationEmailComplained => "invitation.email_complained",
            Self::OrgInvitationsPaused => "org.invitations_paused",
            Self::OrgInvitationsResumed => "org.invitations_resumed",
        }
    }
}

impl AuditEvent {
    pub fn new(
        at: Timestamp,
        actor: &UserId,
        action: AuditAction,
        target: Option<String>,
        details: Value,
    ) -> Self {
        Self { id: EventId::at(at.epoch_millis()), at, actor: actor.clone(), action, target, details }
    }
}

#[cfg(test)]
mod audit_action_tests {
    use super::AuditAction;

    #[test]
    fn every_action_is_listed_once_under_its_serialized_name() {
        let mut names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        for action in AuditAction::ALL {
            assert_eq!(serde_json::to_value(action).unwrap(), serde_json::json!(action.as_str()));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
    }
}
