//! The single-table key layout. Every key Roster writes is built here.
//!
//! | item                | PK               | SK                 | GSI1PK              | GSI1SK                        |
//! |---------------------|------------------|--------------------|---------------------|-------------------------------|
//! | organization        | `ORG#<orgId>`    | `ORG`              |                     |                               |
//! | membership          | `ORG#<orgId>`    | `MEMBER#<userId>`  | `USER#<userId>`     | `ORG#<orgId>`                 |
//! | address slot        | `ORG#<orgId>`    | `EMAIL#<email>`    |                     |                               |
//! | invitation          | `ORG#<orgId>`    | `INV#<invId>`      | `INVITEE#<email>`   | `ORG#<orgId>#INV#<invId>`     |
//! | invite link         | `ORG#<orgId>`    | `LINK#<linkId>`    |                     |                               |
//! | audit event         | `ORG#<orgId>`    | `AUDIT#<eventId>`  |                     |                               |
//! | token (by hash)     | `TOKEN#<sha256>` | `TOKEN`            |                     |                               |
//! | one-org lock        | `USER#<userId>`  | `ORG_LOCK`         |                     |                               |
//! | purge list entry    | `PURGE`          | `ORG#<orgId>`      |                     |                               |
//!
//! GSI1 answers two questions: a user's memberships (`USER#`, the organizations list) and an
//! address's invitations in every organization (`INVITEE#`, the pre-sign-up trigger). The
//! two partitions never meet: each query names its own prefix.
//!
//! A deleted organization's item stays as a tombstone (`deletedAt`, no other attribute).

use crate::domain::{Email, EventId, InvitationId, LinkId, OrgId, UserId};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
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
/// The partition that lists deleted organizations whose items are still being removed.
pub const PURGE_PK: &str = "PURGE";

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
