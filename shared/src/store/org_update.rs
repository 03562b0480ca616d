//! The one update of the organization item that a transaction may carry (DynamoDB allows one
//! operation per item per transaction): counter changes, the last-owner guard and the
//! seat-limit version, together.

use aws_sdk_dynamodb::types::{
    ConditionCheck, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::{Item, keys, n, s, string_attr};
use crate::domain::{Member, OrgId, Status};
use crate::error::Error;

pub(crate) mod counters {
    /// Every membership, active or suspended (the `memberCount` the API shows).
    pub const MEMBERS: &str = "memberCount";
    pub const ACTIVE_MEMBERS: &str = "activeMembers";
    pub const ACTIVE_OWNERS: &str = "activeOwners";
    /// Bumped by every write that may take a seat while a seat limit is configured.
    pub const SEAT_VERSION: &str = "seatVersion";
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrgDelta {
    pub members: i64,
    pub active_members: i64,
    pub active_owners: i64,
    /// `Some(v)`: the write is valid only if no seat was taken since the seats were counted
    /// at version `v`.
    pub seat_version: Option<i64>,
}

/// Why the organization item refused a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrgRefusal {
    Gone,
    LastOwner,
    SeatsChanged,
}

impl From<OrgRefusal> for Error {
    fn from(value: OrgRefusal) -> Self {
        match value {
            OrgRefusal::Gone => Error::NotFound,
            OrgRefusal::LastOwner => Error::LastOwner,
            OrgRefusal::SeatsChanged => Error::Conflict("the organization's seats changed; retry".into()),
        }
    }
}

impl OrgDelta {
    /// How the counters move when a membership goes from `before` to `after` (either may be
    /// absent: joining, leaving).
    pub fn between(before: Option<&Member>, after: Option<&Member>) -> Self {
        let count = |m: Option<&Member>, f: fn(&Member) -> bool| i64::from(m.is_some_and(f));
        Self {
            members: count(after, |_| true) - count(before, |_| true),
            active_members: count(after, |m| m.status == Status::Active)
                - count(before, |m| m.status == Status::Active),
            active_owners: count(after, Member::is_active_owner) - count(before, Member::is_active_owner),
            seat_version: None,
        }
    }

    pub fn with_seat_version(mut self, version: Option<i64>) -> Self {
        self.seat_version = version;
        self
    }

    pub fn build(&self, table: &str, org: &OrgId) -> TransactWriteItem {
        let mut conditions = vec!["attribute_exists(PK)".to_owned()];
        let mut update = Update::builder()
            .table_name(table)
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(keys::ORG_SK))
            .update_expression("ADD #members :members, #active :active, #owners :owners, #seats :one")
            .expression_attribute_names("#members", counters::MEMBERS)
            .expression_attribute_names("#active", counters::ACTIVE_MEMBERS)
            .expression_attribute_names("#owners", counters::ACTIVE_OWNERS)
            .expression_attribute_names("#seats", counters::SEAT_VERSION)
            .expression_attribute_values(":members", n(self.members))
            .expression_attribute_values(":active", n(self.active_members))
            .expression_attribute_values(":owners", n(self.active_owners))
            .expression_attribute_values(":one", n(1))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if self.active_owners < 0 {
            // At least one active owner must remain after the change.
            conditions.push("#owners >= :min_owners".to_owned());
            update = update.expression_attribute_values(":min_owners", n(1 - self.active_owners));
        }
        if let Some(version) = self.seat_version {
            conditions.push("#seats = :seat_version".to_owned());
            update = update.expression_attribute_values(":seat_version", n(version));
        }
        let update = update
            .condition_expression(conditions.join(" AND "))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().update(update).build()
    }

    /// Which of this update's conditions the organization item, as it was, did not meet.
    pub fn refusal(&self, old: Option<&Item>) -> OrgRefusal {
        let Some(old) = old.filter(|o| string_attr(o, keys::SK).is_some()) else {
            return OrgRefusal::Gone;
        };
        let number = |name| super::number_attr(old, name).unwrap_or(0);
        if self.seat_version.is_some_and(|v| number(counters::SEAT_VERSION) != v) {
            OrgRefusal::SeatsChanged
        } else {
            OrgRefusal::LastOwner
        }
    }
}

/// The caller still holds, at write time, the membership the decision was made on.
pub(crate) fn actor_check(table: &str, org: &OrgId, actor: &Member) -> TransactWriteItem {
    let check = ConditionCheck::builder()
        .table_name(table)
        .key(keys::PK, s(keys::org(org)))
        .key(keys::SK, s(keys::member(&actor.user_id)))
        .condition_expression("#role = :role AND #status = :status")
        .expression_attribute_names("#role", "role")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":role", s(actor.role.as_str()))
        .expression_attribute_values(":status", s(actor.status.as_str()))
        .build()
        .expect("table, key and condition are set");
    TransactWriteItem::builder().condition_check(check).build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Role, Timestamp, UserId};

    fn member(role: Role, status: Status) -> Member {
        let now = Timestamp::now();
        Member {
            user_id: UserId::parse("u").unwrap(),
            email: None,
            name: None,
            role,
            status,
            joined_at: now,
            invited_by: None,
            updated_at: now,
        }
    }

    #[test]
    fn deltas() {
        let owner = member(Role::Owner, Status::Active);
        let suspended_owner = member(Role::Owner, Status::Suspended);
        let admin = member(Role::Admin, Status::Active);
        let d = OrgDelta::between(None, Some(&admin));
        assert_eq!((d.members, d.active_members, d.active_owners), (1, 1, 0));
        let d = OrgDelta::between(Some(&owner), None);
        assert_eq!((d.members, d.active_members, d.active_owners), (-1, -1, -1));
        let d = OrgDelta::between(Some(&owner), Some(&suspended_owner));
        assert_eq!((d.members, d.active_members, d.active_owners), (0, -1, -1));
        let d = OrgDelta::between(Some(&admin), Some(&owner));
        assert_eq!((d.members, d.active_members, d.active_owners), (0, 0, 1));
        let d = OrgDelta::between(Some(&suspended_owner), None);
        assert_eq!((d.members, d.active_members, d.active_owners), (-1, 0, 0));
    }
}
