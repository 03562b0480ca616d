//! Adding a user with a temporary password (API.md "Accounts") in the model: the run's users'
//! addresses have accounts, so such a request is an ordinary invitation of the address, in an
//! answer of its own; the refusals come in the route's order.

use super::{Check, HOUR_MS, Model, Outcome, err};
use crate::model::ops::{Addr, Ref, Role, UserIx};

impl Model {
    pub(super) fn add_user(
        &mut self,
        step: u32,
        now: i64,
        (by, org): (Option<UserIx>, Ref),
        (addr, role): (Addr, Role),
        weak: bool,
    ) -> Check<Outcome> {
        let (me, member) = self.admin(org, by)?;
        if weak {
            return Err(err(400, "weak_password"));
        }
        // The address has an account (the generator draws no other where the request may
        // pass): an invitation as invite makes it, its refusals as the route answers them.
        let mut invited = self.clone();
        let expiry = (now + self.cfg.ttl_hours * HOUR_MS, now);
        let Outcome::Invited(items) =
            invited.invite(step, org, (me, member.role), (&[(addr, Some(role))], 0), expiry, false)?
        else {
            unreachable!("an invitation batch answers its items")
        };
        match (items[0].status, items[0].invitation) {
            ("forbidden_role", _) => Err(err(403, "forbidden")),
            ("already_member" | "already_invited", _) => Err(err(409, "conflict")),
            ("invited", Some(_)) if self.orgs[&org].paused => Err(err(403, "invitations_paused")),
            ("invited", Some(inv)) => {
                *self = invited;
                Ok(Outcome::AccountInvited(inv))
            }
            (status, _) => unreachable!("one address of a batch is never {status}"),
        }
    }
}
