//! Whether an invitation or link may still admit anyone: it carries the standing of whoever
//! made it (API.md "Roles and rank"), and admits nobody once that standing is lost.
//!
//! A membership has a *generation* (new on every join, so a member removed and invited again
//! is not the membership that vouched before) and a *standing number*, raised by every loss
//! of trust: a demotion or a suspension (a removal deletes the membership, and with it its
//! generation). A promotion or a reactivation never raises it, so it never revives what a
//! loss ended. An invitation or link records both when it is created or resent; the join
//! transaction conditions on them, on the creator being active, and on the creator's role
//! still granting the invitation's role.

use serde::{Deserialize, Serialize};

use super::identity::ServiceClients;
use super::ids::UserId;
use super::model::Member;
use super::role::{Role, Status};
use super::time::Timestamp;

/// Which joining of an organization a membership is: random, new on every join.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Generation(String);

impl Generation {
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Generation {
    fn default() -> Self {
        Self::new()
    }
}

/// What an invitation or link records of its creator's membership when created or resent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Voucher {
    /// The creator (or the last to resend it).
    pub by: UserId,
    /// `None` for a membership written before generations existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<Generation>,
    pub standing: u64,
}

impl Voucher {
    pub fn of(creator: &Member) -> Self {
        Self {
            by: creator.user_id.clone(),
            generation: creator.generation.clone(),
            standing: creator.standing,
        }
    }
}

/// Why an invitation or link no longer admits anyone (`revokedReason` in lists and previews).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokedReason {
    CreatorLeft,
    CreatorSuspended,
    CreatorDemoted,
    /// Revoked by an admin (its token is gone), or the creator's standing moved for a reason
    /// no longer known.
    Revoked,
}

/// The roles whose holders may grant `role`: the creator's role must still be one of them.
pub fn roles_granting(role: Role) -> Vec<Role> {
    Role::ALL.into_iter().filter(|holder| holder.can_administer() && holder.can_grant(role)).collect()
}

/// Whether an invitation or link for `role`, vouched for by `voucher` (absent: made before
/// vouchers existed), still admits, given its creator's membership as it is now: `None` if it
/// does, else why not.
pub fn verdict(creator: Option<&Member>, voucher: Option<&Voucher>, role: Role) -> Option<RevokedReason> {
    let Some(creator) = creator else { return Some(RevokedReason::CreatorLeft) };
    if let Some(voucher) = voucher {
        if voucher.generation.is_some() && voucher.generation != creator.generation {
            return Some(RevokedReason::CreatorLeft);
        }
        if voucher.standing != creator.standing {
            return Some(creator.standing_reason.unwrap_or(RevokedReason::Revoked));
        }
    }
    if creator.status != Status::Active {
        return Some(RevokedReason::CreatorSuspended);
    }
    if !roles_granting(role).contains(&creator.role) {
        return Some(RevokedReason::CreatorDemoted);
    }
    None
}

/// The membership a service stands on as the creator of an invitation or link: it is no
/// member, and vouches as an owner while its client id stays in the service list (API.md
/// "Roles and rank"); `None` once it is removed (`creator_left`), and for a person's `by`.
pub fn service_creator(by: &UserId, services: &ServiceClients, now: Timestamp) -> Option<Member> {
    let listed = by.service_client().is_some_and(|client| services.contains(client));
    listed.then(|| Member::service_owner(by.clone(), now))
}

/// `after` with its standing raised when going from `before` to `after` loses trust (a lower
/// role, or a suspension). An ownership transfer does not call this: it is a handover, and
/// what the old owner may no longer grant ends by the role rule alone (API.md).
pub fn after_change(before: &Member, mut after: Member) -> Member {
    let reason = if after.status == Status::Suspended && before.status != Status::Suspended {
        Some(RevokedReason::CreatorSuspended)
    } else if after.role < before.role {
        Some(RevokedReason::CreatorDemoted)
    } else {
        None
    };
    if let Some(reason) = reason {
        after.standing = before.standing + 1;
        after.standing_reason = Some(reason);
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn member(role: Role, status: Status) -> Member {
        Member::sample(role, status)
    }

    #[test]
    fn granting_roles_follow_rank() {
        assert_eq!(roles_granting(Role::Owner), vec![Role::Owner]);
        assert_eq!(roles_granting(Role::Admin), vec![Role::Owner]);
        assert_eq!(roles_granting(Role::Member), vec![Role::Owner, Role::Admin]);
        assert_eq!(roles_granting(Role::Viewer), vec![Role::Owner, Role::Admin]);
    }

    #[test]
    fn a_voucher_holds_while_the_creator_keeps_standing() {
        let owner = member(Role::Owner, Status::Active);
        let voucher = Voucher::of(&owner);
        assert_eq!(verdict(Some(&owner), Some(&voucher), Role::Owner), None);
        assert_eq!(verdict(None, Some(&voucher), Role::Viewer), Some(RevokedReason::CreatorLeft));

        let rejoined = member(Role::Owner, Status::Active);
        assert_eq!(verdict(Some(&rejoined), Some(&voucher), Role::Viewer), Some(RevokedReason::CreatorLeft));

        let suspended = after_change(&owner, owner.clone().with_status(Status::Suspended));
        assert_eq!(
            verdict(Some(&suspended), Some(&voucher), Role::Viewer),
            Some(RevokedReason::CreatorSuspended)
        );
        // Reactivation does not revive it.
        let back = after_change(&suspended, suspended.clone().with_status(Status::Active));
        assert_eq!(back.standing, suspended.standing);
        assert_eq!(verdict(Some(&back), Some(&voucher), Role::Viewer), Some(RevokedReason::CreatorSuspended));

        let demoted = after_change(&owner, Member { role: Role::Admin, ..owner.clone() });
        assert_eq!(
            verdict(Some(&demoted), Some(&voucher), Role::Viewer),
            Some(RevokedReason::CreatorDemoted)
        );
        // A promotion does not raise it.
        let admin = member(Role::Admin, Status::Active);
        let promoted = after_change(&admin, Member { role: Role::Owner, ..admin.clone() });
        assert_eq!(promoted.standing, admin.standing);
        assert_eq!(verdict(Some(&promoted), Some(&Voucher::of(&admin)), Role::Member), None);
    }

    #[test]
    fn a_service_vouches_while_listed() {
        let services = ServiceClients::parse("svc").unwrap();
        let by = UserId::service("svc");
        let creator = service_creator(&by, &services, Timestamp::now());
        let voucher = Voucher::of(creator.as_ref().unwrap());
        assert_eq!(voucher.by, by);
        assert_eq!(verdict(creator.as_ref(), Some(&voucher), Role::Owner), None);
        let delisted = service_creator(&by, &ServiceClients::default(), Timestamp::now());
        assert_eq!(
            verdict(delisted.as_ref(), Some(&voucher), Role::Viewer),
            Some(RevokedReason::CreatorLeft)
        );
        assert!(service_creator(&UserId::parse("svc").unwrap(), &services, Timestamp::now()).is_none());
    }

    #[test]
    fn a_role_the_creator_may_no_longer_grant_is_refused() {
        let owner = member(Role::Owner, Status::Active);
        let voucher = Voucher::of(&owner);
        // An ownership transfer makes the old owner an admin without raising the standing.
        let handed_over = Member { role: Role::Admin, ..owner.clone() };
        assert_eq!(
            verdict(Some(&handed_over), Some(&voucher), Role::Admin),
            Some(RevokedReason::CreatorDemoted)
        );
        assert_eq!(verdict(Some(&handed_over), Some(&voucher), Role::Member), None);
        // Links made before vouchers: the creator's role and status alone.
        assert_eq!(verdict(Some(&handed_over), None, Role::Viewer), None);
        assert_eq!(verdict(Some(&handed_over), None, Role::Owner), Some(RevokedReason::CreatorDemoted));
    }
}
