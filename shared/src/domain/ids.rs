//! Identifiers. Ids Roster mints are a type prefix and a UUIDv7 (time-ordered, so audit
//! events sort by time); user ids are the identity provider's `sub`.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! minted_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn new() -> Self {
                Self(format!("{}{}", $prefix, Uuid::now_v7().simple()))
            }

            /// `None` for anything Roster could not have minted: such an id names nothing.
            pub fn parse(raw: &str) -> Option<Self> {
                let hex = raw.strip_prefix($prefix)?;
                let canonical = hex.len() == 32
                    && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                canonical.then(|| Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value).ok_or_else(|| format!("not a {} id", stringify!($name)))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

minted_id!(
    /// An organization.
    OrgId, "org_"
);
minted_id!(
    /// An email invitation.
    InvitationId, "inv_"
);
minted_id!(
    /// A multi-use invite link.
    LinkId, "lnk_"
);
minted_id!(
    /// An audit event; sorts by creation time.
    EventId, "evt_"
);
minted_id!(
    /// A workspace of an organization.
    WorkspaceId, "ws_"
);
minted_id!(
    /// A group of an organization's members.
    GroupId, "grp_"
);

/// A user, as the identity provider's `sub` claim names them: 1–128 printable characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && !raw.chars().any(|c| c.is_control() || c.is_whitespace());
        ok.then(|| Self(raw.to_owned()))
    }

    /// A person's id, as a request names one: never a service's (`service:{clientId}`), which
    /// no person's token may carry (see `identity::Caller`), and nothing invisible or turning
    /// the text around (`text::is_invisible`): a service names users in bodies and headers,
    /// and `a\u{202e}b` would show in the audit trail as another id.
    pub fn person(raw: &str) -> Option<Self> {
        Self::parse(raw).filter(|id| !id.is_service() && !raw.chars().any(super::text::is_invisible))
    }

    /// How the audit trail, and the invitations and links it makes, name a service.
    pub fn service(client_id: &str) -> Self {
        Self(format!("{}{client_id}", Self::SERVICE_PREFIX))
    }

    /// Whether this names a service (`service:{clientId}`) rather than a person.
    pub fn is_service(&self) -> bool {
        self.0.starts_with(Self::SERVICE_PREFIX)
    }

    /// The client id of the service this names.
    pub fn service_client(&self) -> Option<&str> {
        self.0.strip_prefix(Self::SERVICE_PREFIX)
    }

    pub const SERVICE_PREFIX: &str = "service:";

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| "not a user id".to_owned())
    }
}

impl From<UserId> for String {
    fn from(id: UserId) -> Self {
        id.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_round_trip_and_sort_by_time() {
        let a = EventId::new();
        let b = EventId::new();
        assert_eq!(EventId::parse(a.as_str()), Some(a.clone()));
        assert!(a < b, "UUIDv7 ids sort in creation order");
    }

    #[test]
    fn rejects_foreign_or_malformed_ids() {
        let org = OrgId::new();
        assert!(InvitationId::parse(org.as_str()).is_none(), "wrong prefix");
        assert!(OrgId::parse("org_").is_none());
        assert!(OrgId::parse(&org.as_str().to_uppercase()).is_none());
        assert!(OrgId::parse(&format!("{org}0")).is_none());
        assert!(OrgId::parse("org_../../etc/passwd00000000000000000").is_none());
    }

    #[test]
    fn user_ids_are_printable_and_bounded() {
        assert!(UserId::parse("5f1c-auth0|abc").is_some());
        assert!(UserId::parse("").is_none());
        assert!(UserId::parse("a b").is_none());
        assert!(UserId::parse("a\nb").is_none());
        assert!(UserId::parse(&"x".repeat(129)).is_none());
    }

    #[test]
    fn service_ids_are_no_persons() {
        let service = UserId::service("dev-backend");
        assert_eq!(service.as_str(), "service:dev-backend");
        assert!(service.is_service() && service.service_client() == Some("dev-backend"));
        assert!(UserId::person("service:dev-backend").is_none());
        assert!(UserId::person("u-1").is_some_and(|u| !u.is_service()));
        for hidden in ["a\u{202e}b", "a\u{200b}b", "\u{2066}u", "u\u{feff}"] {
            assert!(UserId::person(hidden).is_none(), "{hidden:?}");
        }
    }
}
