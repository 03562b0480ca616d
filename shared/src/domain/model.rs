//! The objects of the API (API.md "Objects"), exactly as they are serialised.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::email::Email;
use super::ids::{EventId, OrgId, UserId};
use super::metadata::Metadata;
use super::role::{Role, Status};
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: UserId,
    pub email: Option<Email>,
    pub name: Option<DisplayName>,
    pub role: Role,
    pub status: Status,
    pub joined_at: Timestamp,
    pub invited_by: Option<UserId>,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub metadata: Metadata,
}

impl Member {
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
    #[serde(rename = "ownership.transferred")]
    OwnershipTransferred,
    #[serde(rename = "org.updated")]
    OrgUpdated,
    #[serde(rename = "member.updated")]
    MemberUpdated,
    #[serde(rename = "org.deleted")]
    OrgDeleted,
}

impl AuditEvent {
    pub fn new(
        at: Timestamp,
        actor: &UserId,
        action: AuditAction,
        target: Option<String>,
        details: Value,
    ) -> Self {
        Self { id: EventId::new(), at, actor: actor.clone(), action, target, details }
    }
}
