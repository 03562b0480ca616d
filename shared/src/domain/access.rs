//! Who may do what in an organization (API.md "Roles and rank"). Handlers ask here; the
//! store then makes the same facts hold at write time with conditions.

use super::model::Member;
use super::role::Role;
use crate::error::Error;

/// The caller's membership, if it lets them into the organization at all: a non-member
/// learns nothing (404), a suspended member is told so (403 `suspended`).
pub fn active(membership: Option<Member>) -> Result<Member, Error> {
    let member = membership.ok_or(Error::NotFound)?;
    if member.is_active() { Ok(member) } else { Err(Error::Suspended) }
}

/// Reading the organization and its members is for every active member.
pub fn require_member(_: &Member) -> Result<(), Error> {
    Ok(())
}

/// Only an owner hands ownership over.
pub fn require_owner(caller: &Member) -> Result<(), Error> {
    if caller.role == Role::Owner {
        Ok(())
    } else {
        Err(Error::forbidden("only an owner may transfer ownership"))
    }
}

/// Invitations, invite links and the audit trail are for admins and owners.
pub fn require_admin(caller: &Member) -> Result<(), Error> {
    if caller.role.can_administer() {
        Ok(())
    } else {
        Err(Error::forbidden("only admins and owners may do this"))
    }
}

/// May `caller` hand out `role` (by invitation, link or role change)?
pub fn require_grant(caller: &Member, role: Role) -> Result<(), Error> {
    require_admin(caller)?;
    if caller.role.can_grant(role) {
        Ok(())
    } else {
        Err(Error::forbidden(format!("a {} may not grant the {role} role", caller.role)))
    }
}

/// Whether a deployment lets `role` be granted at all: with `ROSTER_SINGLE_OWNER`, no route
/// grants `owner` (ownership moves only by transfer).
pub fn require_grantable(single_owner: bool, role: Role) -> Result<(), Error> {
    if single_owner && role == Role::Owner {
        Err(Error::forbidden("an organization here has a single owner: ownership moves only by transfer"))
    } else {
        Ok(())
    }
}

/// May `caller` change, suspend or remove `target`? Acting on oneself is a separate rule
/// (only an owner stepping down, or anyone leaving), decided by the caller of this function.
pub fn require_act_on(caller: &Member, target: &Member) -> Result<(), Error> {
    require_admin(caller)?;
    if caller.role.can_act_on(target.role) {
        Ok(())
    } else {
        Err(Error::forbidden(format!("a {} may not manage a {}", caller.role, target.role)))
    }
}
