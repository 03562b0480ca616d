//! Email invitations and invite links, as stored and as shown.

use serde::{Deserialize, Serialize};

use super::DisplayName;
use super::custom_role::RoleKey;
use super::email::Email;
use super::ids::{GroupId, InvitationId, LinkId, UserId};
use super::metadata::Metadata;
use super::role::Role;
use super::standing::{RevokedReason, Voucher};
use super::text::Label;
use super::time::Timestamp;
use super::workspace::WorkspaceAssignment;
use crate::config::MAX_INVITE_HOURS;
use crate::error::Error;

/// Where an invitation's latest email is (API.md "Email delivery"): `queued` until the sender
/// hands it to SES, `sent` once SES accepted it, then what SES reports. A resend starts again
/// at `queued`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    Queued,
    Sent,
    Delivered,
    Bounced,
    Complained,
    Failed,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Bounced => "bounced",
            Self::Complained => "complained",
            Self::Failed => "failed",
        }
    }

    /// The states an email may move to `self` from. SES's events arrive at least once and in
    /// no fixed order, so a state is only ever replaced by a later one: a late `Send` never
    /// undoes a `Delivery`, while a bounce or a complaint may follow a delivery (a mailbox
    /// can accept a message and bounce it later, and a complaint comes after delivery).
    /// `failed` ends a send: nothing follows it.
    pub fn follows(self) -> &'static [Delivery] {
        use Delivery::*;
        match self {
            Queued => &[],
            Sent => &[Queued],
            Delivered => &[Queued, Sent],
            Bounced => &[Queued, Sent, Delivered],
            Complained => &[Queued, Sent, Delivered, Bounced],
            Failed => &[Queued, Sent, Delivered],
        }
    }
}

/// Why an email is `failed` or `bounced` (shown as `emailDeliveryReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryReason {
    /// The queue refused the message at invite: resend later.
    QueueRefused,
    /// The address is on the sending account's suppression list.
    Suppressed,
    /// SES rejected the message (e.g. it found a virus).
    Rejected,
    RenderingFailure,
    /// SES kept refusing (throttling, an outage) through every attempt.
    AttemptsExhausted,
    /// The organization's invitation emails were paused before it was sent.
    Paused,
    /// Bounce types, as SES names them.
    Permanent,
    Transient,
    Undetermined,
}

impl DeliveryReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QueueRefused => "queue_refused",
            Self::Suppressed => "suppressed",
            Self::Rejected => "rejected",
            Self::RenderingFailure => "rendering_failure",
            Self::AttemptsExhausted => "attempts_exhausted",
            Self::Paused => "paused",
            Self::Permanent => "permanent",
            Self::Transient => "transient",
            Self::Undetermined => "undetermined",
        }
    }
}

/// Who the email says invites: the inviter's (or resender's) name, else address, at the time
/// of the invite or resend. Stored for the sender, which composes the email later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MailedBy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<DisplayName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
}

impl MailedBy {
    /// How the email names the inviter.
    pub fn shown(&self) -> String {
        self.name.as_ref().map_or_else(
            || self.email.as_ref().map_or("A colleague", Email::as_str).to_owned(),
            |n| n.to_string(),
        )
    }
}

/// A pending email invitation. Its `status` is derived from the clock when shown, because
/// DynamoDB deletes expired items only eventually.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub id: InvitationId,
    pub email: Email,
    pub role: Role,
    /// The organization's custom role held, when one is (`role` is then its base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role: Option<RoleKey>,
    pub invited_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_sent_at: Timestamp,
    pub email_delivery: Delivery,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_delivery_reason: Option<DeliveryReason>,
    /// Which send the latest email is: bumped by every resend. The sender and SES's events
    /// act only on the send they belong to (stored, never shown).
    #[serde(default)]
    pub send_number: u64,
    /// The send whose token the sender minted (its token item exists); `None` until then,
    /// when the invitation carries the hash of a token no one holds (stored, never shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_send: Option<u64>,
    /// Who the email names as the inviter (stored, never shown).
    #[serde(default)]
    pub mailed_by: MailedBy,
    /// Copied to the membership when the invitation is accepted.
    #[serde(default)]
    pub metadata: Metadata,
    /// Whose standing admits by it (stored, never shown); `None` on invitations written
    /// before vouchers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<Voucher>,
    /// When the invitee declined it; it stays listed (`declined`) until it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declined_at: Option<Timestamp>,
    /// The workspaces and groups the invitee joins on accept.
    #[serde(default)]
    pub workspaces: Vec<WorkspaceAssignment>,
    #[serde(default)]
    pub groups: Vec<GroupId>,
    /// Bumped by every change of what it gives (its workspaces and groups) and by a resend,
    /// and the condition of the next, of the join and of a decline: a change answered `2xx`
    /// is never lost to a write that read before it. Stored, never shown.
    #[serde(default)]
    pub version: u64,
}

impl Invitation {
    /// Whether its current token has a token item: once the sender minted the token of its
    /// send; or, on an invitation written before emails were queued (no `issuedSend`, no
    /// reason, never `queued`), always.
    pub fn has_token_item(&self) -> bool {
        match self.issued_send {
            Some(send) => send == self.send_number,
            None => self.email_delivery_reason.is_none() && self.email_delivery != Delivery::Queued,
        }
    }

    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        self.expires_at.is_reached_at(now)
    }

    /// The API object at `now`, given why it no longer admits (see `standing::verdict`): the
    /// stored fields plus `status` and `revokedReason`.
    pub fn view(&self, now: Timestamp, revoked: Option<RevokedReason>) -> serde_json::Value {
        let status = match revoked {
            _ if self.is_expired_at(now) => "expired",
            _ if self.declined_at.is_some() => "declined",
            Some(_) => "revoked",
            None => "pending",
        };
        shown(self, status, revoked.filter(|_| status == "revoked"))
    }
}

/// `value` as the API shows it: without its voucher, with `status` and, when revoked, why.
fn shown(value: &impl Serialize, status: &str, revoked: Option<RevokedReason>) -> serde_json::Value {
    let mut value = serde_json::to_value(value).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        fields.remove("voucher");
        fields.remove("declinedAt");
        fields.remove("version");
        fields.remove("sendNumber");
        fields.remove("issuedSend");
        fields.remove("mailedBy");
        fields.insert("status".to_owned(), serde_json::json!(status));
        if let Some(reason) = revoked {
            fields.insert("revokedReason".to_owned(), serde_json::json!(reason));
        }
    }
    value
}

/// A multi-use invite link. `max_uses: None` means unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteLink {
    pub id: LinkId,
    /// What the admins call it; `null` when none was given.
    #[serde(default)]
    pub label: Option<Label>,
    pub role: Role,
    /// The organization's custom role held, when one is (`role` is then its base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role: Option<RoleKey>,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub max_uses: Option<u32>,
    pub uses: u32,
    /// As on invitations: stored, never shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<Voucher>,
    /// The workspaces and groups each member who joins by it joins.
    #[serde(default)]
    pub workspaces: Vec<WorkspaceAssignment>,
    #[serde(default)]
    pub groups: Vec<GroupId>,
}

/// An invitation or a link: what admits only while someone vouches for it.
pub trait Vouched {
    /// Who vouches for it: the voucher's member, or for one written before vouchers, its
    /// creator.
    fn vouched_by(&self) -> &UserId;
    fn voucher(&self) -> Option<&Voucher>;
    fn role(&self) -> Role;
    /// The API object at `now`, given why it no longer admits (see `standing::verdict`).
    fn shown(&self, now: Timestamp, revoked: Option<RevokedReason>) -> serde_json::Value;
}

impl Vouched for Invitation {
    fn vouched_by(&self) -> &UserId {
        self.voucher.as_ref().map_or(&self.invited_by, |v| &v.by)
    }
    fn voucher(&self) -> Option<&Voucher> {
        self.voucher.as_ref()
    }
    fn role(&self) -> Role {
        self.role
    }
    fn shown(&self, now: Timestamp, revoked: Option<RevokedReason>) -> serde_json::Value {
        self.view(now, revoked)
    }
}

impl Vouched for InviteLink {
    fn vouched_by(&self) -> &UserId {
        self.voucher.as_ref().map_or(&self.created_by, |v| &v.by)
    }
    fn voucher(&self) -> Option<&Voucher> {
        self.voucher.as_ref()
    }
    fn role(&self) -> Role {
        self.role
    }
    fn shown(&self, now: Timestamp, revoked: Option<RevokedReason>) -> serde_json::Value {
        self.view(now, revoked)
    }
}

impl InviteLink {
    /// The API object at `now` (see [`Invitation::view`]): `active`, `expired`, `used_up` or
    /// `revoked`.
    pub fn view(&self, now: Timestamp, revoked: Option<RevokedReason>) -> serde_json::Value {
        let status = if self.expires_at.is_reached_at(now) {
            "expired"
        } else if self.max_uses.is_some_and(|max| self.uses >= max) {
            "used_up"
        } else if revoked.is_some() {
            "revoked"
        } else {
            "active"
        };
        shown(self, status, revoked.filter(|_| status == "revoked"))
    }
}

pub const MAX_LINK_USES: u32 = 100_000;

/// `expiresInHours` of a request: 1–720, or the deployment's default.
pub fn lifetime_hours(requested: Option<i64>, default: u32) -> Result<u32, Error> {
    match requested {
        None => Ok(default),
        Some(h) => u32::try_from(h)
            .ok()
            .filter(|h| (1..=MAX_INVITE_HOURS).contains(h))
            .ok_or_else(|| Error::invalid_request("expiresInHours must be a whole number from 1 to 720")),
    }
}

/// What `GET /orgs/{orgId}/invitations` narrows the list to (API.md "Search and filters"):
/// `q` (every term starts a word of the address), `status` (as shown: decided when read)
/// and `emailDelivery`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvitationFilter {
    pub terms: Option<super::search::Terms>,
    pub status: Option<&'static str>,
    pub delivery: Option<Delivery>,
}

/// The statuses an invitation is shown with.
pub const INVITATION_STATUSES: [&str; 4] = ["pending", "expired", "declined", "revoked"];

impl InvitationFilter {
    /// The filter a request's query parameters (`param`) ask for, or what is wrong with them.
    pub fn parse(param: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let terms = param("q").map(|q| super::search::Terms::parse(&q)).transpose()?.flatten();
        let status = param("status")
            .map(|s| {
                INVITATION_STATUSES
                    .iter()
                    .copied()
                    .find(|known| *known == s)
                    .ok_or_else(|| format!("status must be one of {}", INVITATION_STATUSES.join(", ")))
            })
            .transpose()?;
        let deliveries = [
            Delivery::Queued,
            Delivery::Sent,
            Delivery::Delivered,
            Delivery::Bounced,
            Delivery::Complained,
            Delivery::Failed,
        ];
        let delivery = param("emailDelivery")
            .map(|d| {
                deliveries.into_iter().find(|known| known.as_str() == d).ok_or_else(|| {
                    let names: Vec<&str> = deliveries.iter().map(|d| d.as_str()).collect();
                    format!("emailDelivery must be one of {}", names.join(", "))
                })
            })
            .transpose()?;
        Ok(Self { terms, status, delivery })
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The filter as one canonical text, for binding a cursor to it ("" without one).
    pub fn canonical(&self) -> String {
        if self.is_empty() {
            return String::new();
        }
        let terms = self.terms.as_ref().map(super::search::Terms::canonical);
        serde_json::json!([terms, self.status, self.delivery.map(Delivery::as_str)]).to_string()
    }

    /// Whether `invitation` passes the filters that need no reading of anyone's standing
    /// (all but `status`).
    pub fn admits(&self, invitation: &Invitation) -> bool {
        let delivery_ok = self.delivery.is_none_or(|d| d == invitation.email_delivery);
        let terms_ok = self.terms.as_ref().is_none_or(|terms| {
            let words: Vec<String> = super::search::words(invitation.email.as_str()).collect();
            terms.matches(&words)
        });
        delivery_ok && terms_ok
    }

    /// Whether an invitation shown (`Invitation::shown`'s value) has the status asked for.
    pub fn admits_shown(&self, shown: &serde_json::Value) -> bool {
        self.status.is_none_or(|s| shown["status"] == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_bounds() {
        assert_eq!(lifetime_hours(None, 72), Ok(72));
        assert_eq!(lifetime_hours(Some(1), 72), Ok(1));
        assert_eq!(lifetime_hours(Some(720), 72), Ok(720));
        for bad in [0, 721, -5, i64::MAX] {
            assert!(lifetime_hours(Some(bad), 72).is_err(), "{bad}");
        }
    }

    fn filter(pairs: &[(&str, &str)]) -> Result<InvitationFilter, String> {
        InvitationFilter::parse(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn invitation_filters_parse_or_say_what_is_wrong() {
        assert!(filter(&[]).unwrap().is_empty());
        assert!(filter(&[("q", " . ")]).unwrap().is_empty(), "a q of no term filters nothing");
        assert_eq!(filter(&[("status", "revoked")]).unwrap().status, Some("revoked"));
        assert_eq!(filter(&[("emailDelivery", "bounced")]).unwrap().delivery, Some(Delivery::Bounced));
        let bad = filter(&[("status", "accepted")]).unwrap_err();
        assert!(bad.contains("status must be one of pending, expired, declined, revoked"), "{bad}");
        assert!(filter(&[("emailDelivery", "Sent")]).unwrap_err().contains("emailDelivery"));
        assert!(filter(&[("q", &"a ".repeat(150))]).is_err(), "q too long");
        assert!(filter(&[("q", "a b c d e f g h i")]).is_err(), "too many terms");
        let (a, b) = (filter(&[("q", "ann lee")]).unwrap(), filter(&[("q", "ann"), ("status", "lee")]));
        assert!(b.is_err());
        assert_ne!(a.canonical(), filter(&[("q", "ann"), ("status", "pending")]).unwrap().canonical());
        assert_eq!(a.canonical(), filter(&[("q", "ANN  Lee")]).unwrap().canonical(), "folded");
    }

    #[test]
    fn q_matches_prefixes_of_the_address_words() {
        let q = |q: &str| filter(&[("q", q)]).unwrap().terms.unwrap();
        let words: Vec<String> = crate::domain::search::words("Ann.Lee+work@Example.com").collect();
        assert!(q("ann").matches(&words) && q("lee exam").matches(&words) && q("WORK").matches(&words));
        assert!(q("ann.lee@example.com").matches(&words), "a pasted address finds itself");
        assert!(!q("nn").matches(&words) && !q("ann bob").matches(&words));
    }
}
