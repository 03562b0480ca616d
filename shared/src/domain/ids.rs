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

impl EventId {
    /// The id of an event that happened at `at_millis` (ms since the epoch): a UUIDv7 whose
    /// 48-bit time is `at_millis` itself, not the instant of minting, so that the audit
    /// trail's order and its time range (`from`/`to`, a key range on the id) are the events'
    /// `at` exactly, whatever clock the request read. Events of one millisecond come in the
    /// order they were minted: the other 74 bits are a microsecond count that only goes up in
    /// this process (and follows real time across processes), then 22 random bits.
    pub fn at(at_millis: i64) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static LAST_MICROS: AtomicU64 = AtomicU64::new(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        let previous = LAST_MICROS
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| Some(now.max(last + 1)))
            .unwrap_or(0);
        let micros = now.max(previous + 1) & ((1 << 52) - 1);
        let millis = u64::try_from(at_millis).unwrap_or(0) & ((1 << 48) - 1);
        let random = u64::from(getrandom::u32().unwrap_or(0)) & ((1 << 22) - 1);
        // time (48) | version 7 (4) | micros' top 12 | variant 0b10 (2) | micros' low 40 | random 22
        let high = (millis << 16) | (0x7 << 12) | (micros >> 40);
        let low = (0b10 << 62) | ((micros & ((1 << 40) - 1)) << 22) | random;
        Self(format!("{}{high:016x}{low:016x}", Self::PREFIX))
    }

    /// The least key text of any event at or after `at_millis` (and the greatest, exclusive,
    /// of any event before it): the id's prefix up to its time. Sorts below every id of that
    /// millisecond and above every id of an earlier one.
    pub fn time_bound(at_millis: i64) -> String {
        let millis = u64::try_from(at_millis).unwrap_or(0).min((1 << 48) - 1);
        format!("{}{millis:012x}", Self::PREFIX)
    }
}

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
    fn event_ids_carry_their_time_and_sort_by_it_then_by_minting() {
        let at = 1_780_000_000_123;
        let ids: Vec<EventId> = (0..1000).map(|_| EventId::at(at)).collect();
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "one millisecond's events come in minting order");
        }
        let id = &ids[0];
        assert_eq!(EventId::parse(id.as_str()), Some(id.clone()));
        let uuid = Uuid::parse_str(&id.as_str()[4..]).unwrap();
        assert_eq!(uuid.get_version_num(), 7);
        assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
        let (secs, nanos) = uuid.get_timestamp().unwrap().to_unix();
        assert_eq!(secs * 1000 + u64::from(nanos / 1_000_000), 1_780_000_000_123);
        // Earlier times sort first whatever the minting order; the bounds fall between.
        let later = EventId::at(at + 1);
        let earlier = EventId::at(at - 1);
        assert!(earlier < ids[0] && ids[999] < later);
        let bound = EventId::time_bound(at);
        assert!(earlier.as_str() < bound.as_str() && bound.as_str() < ids[0].as_str());
        let next = EventId::time_bound(at + 1);
        assert!(ids[999].as_str() < next.as_str() && next.as_str() < later.as_str());
        assert_eq!(EventId::time_bound(-5), "evt_000000000000");
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
