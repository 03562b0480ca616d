//! Roles, membership status and every rank rule of the product, in one place.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A member's role. Declared from lowest to highest so that the derived order *is* the rank:
/// `Owner > Admin > Member > Viewer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Member,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    /// Admins and owners manage invitations, links, the audit trail and (by rank) members.
    pub fn can_administer(self) -> bool {
        self >= Role::Admin
    }

    /// Whether a holder of this role may change, suspend or remove a member whose role is
    /// `target`: owners act on anyone, admins only on members and viewers.
    pub fn can_act_on(self, target: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => target < Role::Admin,
            Role::Member | Role::Viewer => false,
        }
    }

    /// Whether a holder of this role may hand out `role`, by invitation or role change:
    /// owners grant anything (including owner), admins only member and viewer.
    pub fn can_grant(self, role: Role) -> bool {
        self.can_act_on(role)
    }
}

impl FromStr for Role {
    type Err = InvalidRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|role| role.as_str() == s).ok_or(InvalidRole)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("role must be one of owner, admin, member, viewer")]
pub struct InvalidRole;

/// A membership's status. Suspension keeps the role so that reactivation restores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Suspended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
        }
    }
}

impl FromStr for Status {
    type Err = InvalidStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Status::Active),
            "suspended" => Ok(Status::Suspended),
            _ => Err(InvalidStatus),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("status must be active or suspended")]
pub struct InvalidStatus;

#[cfg(test)]
mod tests {
    use super::Role::*;
    use super::*;

    #[test]
    fn rank_order() {
        assert!(Owner > Admin && Admin > Member && Member > Viewer);
    }

    #[test]
    fn who_acts_on_whom() {
        // (actor, target, allowed) — the table of API.md "Roles and rank".
        let table = [
            (Owner, Owner, true),
            (Owner, Admin, true),
            (Owner, Member, true),
            (Owner, Viewer, true),
            (Admin, Owner, false),
            (Admin, Admin, false),
            (Admin, Member, true),
            (Admin, Viewer, true),
            (Member, Member, false),
            (Member, Viewer, false),
            (Viewer, Viewer, false),
        ];
        for (actor, target, allowed) in table {
            assert_eq!(actor.can_act_on(target), allowed, "{actor} on {target}");
            assert_eq!(actor.can_grant(target), allowed, "{actor} grants {target}");
        }
    }

    #[test]
    fn administering() {
        assert!(Owner.can_administer() && Admin.can_administer());
        assert!(!Member.can_administer() && !Viewer.can_administer());
    }

    #[test]
    fn parses_only_exact_names() {
        assert_eq!("admin".parse(), Ok(Admin));
        assert!("Admin".parse::<Role>().is_err());
        assert!("root".parse::<Role>().is_err());
        assert_eq!("suspended".parse(), Ok(Status::Suspended));
        assert!("deleted".parse::<Status>().is_err());
    }
}
