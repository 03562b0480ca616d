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
    /// Bumped by every seat-taking write while a seat limit is configured.
    pub const SEAT_VERSION: &str = "seatVersion";
}

/// Seats as counted at one instant (with a seat limit): active members, unexpired pending
/// invitations, and the version of the organization's invitations when counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seats {
    pub active: u32,
    pub pending: u32,
    pub version: i64,
}

impl Seats {
    pub fn used(&self) -> u32 {
        self.active.saturating_add(self.pending)
    }

    /// Whether `more` seats fit under `max`.
    pub fn fit(&self, more: u32, max: u32) -> bool {
        self.used().saturating_add(more) <= max
    }
}

/// The condition a seat-taking write carries, so that active members plus pending
/// invitations never pass the limit however many requests run at once. Pending invitations
/// are counted by a query, so their count is pinned by `seatVersion`, which only writes that
/// add pending invitations bump; active members are a counter on this same item, so the
/// condition reads them as they are at write time. Concurrent joins and reactivations
/// therefore never invalidate each other, only a concurrent invitation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatClaim {
    version: i64,
    /// Active members the organization may have before this write.
    max_active_before: i64,
    adds_invitations: bool,
}

impl SeatClaim {
    /// `joining` members become active (a join by link, a reactivation).
    pub fn members(seats: Seats, max: u32, joining: u32) -> Self {
        let max_active_before = i64::from(max) - i64::from(seats.pending) - i64::from(joining);
        Self { version: seats.version, max_active_before, adds_invitations: false }
    }

    /// `invited` invitations become pending (an invite, the resend of an expired one).
    pub fn invitations(seats: Seats, max: u32, invited: u32) -> Self {
        let max_active_before = i64::from(max) - i64::from(seats.pending) - i64::from(invited);
        Self { version: seats.version, max_active_before, adds_invitations: true }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrgDelta {
    pub members: i64,
    pub active_members: i64,
    pub active_owners: i64,
    /// With a seat limit, for a write that takes seats.
    pub seats: Option<SeatClaim>,
    /// The first invitation or link of a personal organization: it stops being personal
    /// (`Org::personal`), so that accepting another organization's invitation no longer
    /// replaces it. Set only when the organization was read as personal, so others' writes
    /// stay off its item.
    pub ends_personal: bool,
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
            seats: None,
            ends_personal: false,
        }
    }

    pub fn with_seats(mut self, claim: Option<SeatClaim>) -> Self {
        self.seats = claim;
        self
    }

    /// See [`OrgDelta::ends_personal`]: `org` as read.
    pub fn inviting_into(mut self, org: &crate::domain::Org) -> Self {
        self.ends_personal = org.personal;
        self
    }

    /// The counters of two changes written in one transaction (neither takes seats).
    pub fn and(self, other: Self) -> Self {
        debug_assert!(self.seats.is_none() && other.seats.is_none(), "seat claims do not add up");
        Self {
            members: self.members + other.members,
            active_members: self.active_members + other.active_members,
            active_owners: self.active_owners + other.active_owners,
            seats: None,
            ends_personal: self.ends_personal || other.ends_personal,
        }
    }

    /// Appends the organization's update to `items` when the change needs it (see
    /// [`OrgDelta::build`]); its index, to read a cancellation by.
    pub fn push_to(&self, items: &mut Vec<TransactWriteItem>, table: &str, org: &OrgId) -> Option<usize> {
        items.push(self.build(table, org)?);
        Some(items.len() - 1)
    }

    /// The organization item's update, or `None` when the change moves no counter and takes
    /// no seat: then the organization item stays out of the transaction, so that changes
    /// which do not need it (most role changes, invitations without a seat limit) do not
    /// contend for this one hot item.
    pub fn build(&self, table: &str, org: &OrgId) -> Option<TransactWriteItem> {
        let mut update = Update::builder()
            .table_name(table)
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(keys::ORG_SK))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let mut adds = Vec::new();
        for (name, placeholder, value) in [
            (counters::MEMBERS, "members", self.members),
            (counters::ACTIVE_MEMBERS, "active", self.active_members),
            (counters::ACTIVE_OWNERS, "owners", self.active_owners),
        ] {
            if value != 0 {
                adds.push(format!("#{placeholder} :{placeholder}"));
                update = update
                    .expression_attribute_names(format!("#{placeholder}"), name)
                    .expression_attribute_values(format!(":{placeholder}"), n(value));
            }
        }
        // A deleted organization's tombstone takes no change: a request that read it before
        // the deletion finds it gone.
        let mut conditions = vec!["attribute_exists(PK) AND attribute_not_exists(deletedAt)".to_owned()];
        if self.active_owners < 0 {
            // At least one active owner must remain after the change.
            conditions.push("#owners >= :min_owners".to_owned());
            update = update.expression_attribute_values(":min_owners", n(1 - self.active_owners));
        }
        if let Some(claim) = self.seats {
            conditions.push("#seats = :seat_version AND #active <= :max_active".to_owned());
            update = update
                .expression_attribute_names("#seats", counters::SEAT_VERSION)
                .expression_attribute_names("#active", counters::ACTIVE_MEMBERS)
                .expression_attribute_values(":seat_version", n(claim.version))
                .expression_attribute_values(":max_active", n(claim.max_active_before));
            if claim.adds_invitations {
                // Every count of pending invitations taken before this write is now stale.
                adds.push("#seats :one".to_owned());
                update = update.expression_attribute_values(":one", n(1));
            }
        }
        let mut expression = Vec::new();
        if !adds.is_empty() {
            expression.push(format!("ADD {}", adds.join(", ")));
        }
        if self.ends_personal {
            expression.push("REMOVE #personal".to_owned());
            update = update.expression_attribute_names("#personal", super::orgs::PERSONAL);
        }
        if expression.is_empty() {
            return None;
        }
        let update = update
            .update_expression(expression.join(" "))
            .condition_expression(conditions.join(" AND "))
            .build()
            .expect("table, key and expression are set");
        Some(TransactWriteItem::builder().update(update).build())
    }

    /// Which of this update's conditions the organization item, as it was, did not meet.
    pub fn refusal(&self, old: Option<&Item>) -> OrgRefusal {
        let Some(old) = old.filter(|o| string_attr(o, keys::SK).is_some() && !super::orgs::is_deleted(o))
        else {
            return OrgRefusal::Gone;
        };
        let number = |name| super::number_attr(old, name).unwrap_or(0);
        let seats_changed = self.seats.is_some_and(|claim| {
            number(counters::SEAT_VERSION) != claim.version
                || number(counters::ACTIVE_MEMBERS) > claim.max_active_before
        });
        if seats_changed { OrgRefusal::SeatsChanged } else { OrgRefusal::LastOwner }
    }
}

/// The check that the caller still holds, at write time, what the decision was made on,
/// appended to `items` (its index), or `None` when `items` already hold it. A member: the
/// role and status of their membership. A service acting as an owner (`Member::service_owner`,
/// no membership): the organization itself, existing and not deleted; when `items` already
/// write or check the organization item, that item's own condition says as much (every write
/// of it requires `attribute_exists(PK) AND attribute_not_exists(deletedAt)`), and DynamoDB
/// allows one operation per item per transaction, so nothing is added. Call it after the
/// organization's update is in `items`.
pub(crate) fn push_actor_check(
    items: &mut Vec<TransactWriteItem>,
    table: &str,
    org: &OrgId,
    actor: &Member,
) -> Option<usize> {
    let check = if actor.is_service() {
        let org_key = (keys::org(org), keys::ORG_SK.to_owned());
        if items.iter().any(|item| targets(item, &org_key)) {
            return None;
        }
        ConditionCheck::builder()
            .table_name(table)
            .key(keys::PK, s(org_key.0))
            .key(keys::SK, s(org_key.1))
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(deletedAt)")
    } else {
        ConditionCheck::builder()
            .table_name(table)
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(keys::member(&actor.user_id)))
            .condition_expression("#role = :role AND #status = :status")
            .expression_attribute_names("#role", "role")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":role", s(actor.role.as_str()))
            .expression_attribute_values(":status", s(actor.status.as_str()))
    };
    let check = check.build().expect("table, key and condition are set");
    items.push(TransactWriteItem::builder().condition_check(check).build());
    Some(items.len() - 1)
}

/// Whether `item` writes or checks the item of `key` (partition and sort key).
fn targets(item: &TransactWriteItem, key: &(String, String)) -> bool {
    let keyed = |k: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
        string_attr(k, keys::PK) == Some(key.0.as_str()) && string_attr(k, keys::SK) == Some(key.1.as_str())
    };
    item.update.as_ref().is_some_and(|u| keyed(&u.key))
        || item.put.as_ref().is_some_and(|p| keyed(&p.item))
        || item.delete.as_ref().is_some_and(|d| keyed(&d.key))
        || item.condition_check.as_ref().is_some_and(|c| keyed(&c.key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn member(role: Role, status: Status) -> Member {
        Member::sample(role, status)
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

    #[test]
    fn the_org_item_joins_only_when_needed() {
        let org = crate::domain::OrgId::new();
        let (plain, viewer) = (member(Role::Member, Status::Active), member(Role::Viewer, Status::Active));
        assert!(OrgDelta::between(Some(&plain), Some(&viewer)).build("t", &org).is_none());
        let counted = Seats { active: 2, pending: 3, version: 7 };
        let invite = OrgDelta::default().with_seats(Some(SeatClaim::invitations(counted, 10, 4)));
        let update = invite.build("t", &org).expect("a seat-taking write").update.unwrap();
        assert_eq!(update.update_expression, "ADD #seats :one");
        assert!(
            update
                .condition_expression
                .unwrap()
                .contains("#seats = :seat_version AND #active <= :max_active")
        );
        assert_eq!(
            update.expression_attribute_values.unwrap()[":max_active"],
            n(3),
            "10 - 3 pending - 4 new"
        );
        let join = OrgDelta::between(None, Some(&plain)).with_seats(Some(SeatClaim::members(counted, 10, 1)));
        let update = join.build("t", &org).unwrap().update.unwrap();
        assert!(!update.update_expression.contains("#seats"), "joins leave the version alone");
        let owner = member(Role::Owner, Status::Active);
        let leave = OrgDelta::between(Some(&owner), None).build("t", &org).unwrap().update.unwrap();
        assert!(leave.condition_expression.unwrap().contains("#owners >= :min_owners"));
    }

    #[test]
    fn a_service_actor_checks_the_organization_once() {
        let org = crate::domain::OrgId::new();
        let now = crate::domain::Timestamp::now();
        let service = Member::service_owner(crate::domain::UserId::service("svc"), now);
        let mut items = Vec::new();
        assert_eq!(push_actor_check(&mut items, "t", &org, &service), Some(0));
        let check = items[0].condition_check.as_ref().unwrap();
        assert_eq!(string_attr(&check.key, keys::SK), Some(keys::ORG_SK));
        // Beside the organization's own update, whose condition already requires it live.
        let mut items = Vec::new();
        let owner = member(Role::Owner, Status::Active);
        OrgDelta::between(Some(&owner), None).push_to(&mut items, "t", &org);
        assert_eq!(push_actor_check(&mut items, "t", &org, &service), None);
        assert_eq!(items.len(), 1);
        // A member's check is on their membership, whatever else the transaction holds.
        assert_eq!(push_actor_check(&mut items, "t", &org, &owner), Some(1));
    }
}
