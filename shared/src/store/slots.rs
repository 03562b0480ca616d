//! Address slots: one item per organization and address (`EMAIL#<address>`), held either by
//! one invitation (pending, or expired and not yet deleted) or by the members whose verified
//! address it is (a set of user ids: two accounts may share an address). Every write that
//! creates an invitation, or joins a member, conditions on the slot as it was read, which is
//! what makes "one pending invitation per address" and "already a member" hold under
//! concurrent requests.

use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::{Item, keys, n, number_attr, s, string_attr};
use crate::domain::invitation::Invitation;
use crate::domain::token::TokenHash;
use crate::domain::{Email, InvitationId, OrgId, Timestamp, UserId};

pub(crate) const TOKEN_HASH: &str = "tokenHash";
const HOLDER: &str = "holder";
const HOLDER_INVITATION: &str = "invitation";
const HOLDER_MEMBERS: &str = "member";
const USER_IDS: &str = "userIds";

/// The invitation holding a slot, as read: enough to replace it only if it is still so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBy {
    pub invitation_id: InvitationId,
    pub token_hash: TokenHash,
}

/// What an address slot says, at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// No one holds it (absent, or a members' slot whose members all left).
    Free,
    /// Members of the organization have this verified address.
    Members,
    /// An unexpired invitation holds it.
    Pending(HeldBy),
    /// An expired invitation still holds it (DynamoDB's TTL deletes it only eventually).
    Expired(HeldBy),
}

impl Slot {
    /// The slot of a stored item (or its absence) at `now`.
    pub fn read(item: Option<&Item>, now: Timestamp) -> Self {
        let Some(item) = item.filter(|i| i.contains_key(keys::PK)) else { return Slot::Free };
        if string_attr(item, HOLDER) != Some(HOLDER_INVITATION) {
            let held = item.get(USER_IDS).and_then(|v| v.as_ss().ok()).is_some_and(|ids| !ids.is_empty());
            return if held { Slot::Members } else { Slot::Free };
        }
        let held_by = HeldBy {
            invitation_id: string_attr(item, "invitationId")
                .and_then(InvitationId::parse)
                .unwrap_or_default(),
            token_hash: TokenHash::from_stored(string_attr(item, TOKEN_HASH).unwrap_or_default().to_owned()),
        };
        // Exact expiry from the stored time; the TTL's whole seconds for older items.
        let expired = match string_attr(item, "expiresAt").and_then(Timestamp::parse) {
            Some(expires_at) => expires_at.is_reached_at(now),
            None => number_attr(item, keys::TTL).is_some_and(|t| t <= now.epoch_seconds()),
        };
        if expired { Slot::Expired(held_by) } else { Slot::Pending(held_by) }
    }
}

pub(crate) fn slot_key(org: &OrgId, email: &Email) -> (String, String) {
    (keys::org(org), keys::email(email))
}

/// The slot an invitation holds, with its expiry (TTL) and current token hash.
pub(crate) fn invitation_slot(org: &OrgId, invitation: &Invitation, hash: &TokenHash) -> Item {
    Item::from([
        (keys::PK.to_owned(), s(keys::org(org))),
        (keys::SK.to_owned(), s(keys::email(&invitation.email))),
        ("type".to_owned(), s("email_slot")),
        (HOLDER.to_owned(), s(HOLDER_INVITATION)),
        ("invitationId".to_owned(), s(invitation.id.as_str())),
        (TOKEN_HASH.to_owned(), s(hash.as_str())),
        ("expiresAt".to_owned(), s(invitation.expires_at.to_string())),
        (keys::TTL.to_owned(), n(invitation.expires_at.epoch_seconds())),
    ])
}

fn members_slot(org: &OrgId, email: &Email, user: &UserId) -> Item {
    Item::from([
        (keys::PK.to_owned(), s(keys::org(org))),
        (keys::SK.to_owned(), s(keys::email(email))),
        ("type".to_owned(), s("email_slot")),
        (HOLDER.to_owned(), s(HOLDER_MEMBERS)),
        (USER_IDS.to_owned(), AttributeValue::Ss(vec![user.to_string()])),
    ])
}

const FREE: &str = "attribute_not_exists(PK) OR (holder = :members AND attribute_not_exists(userIds))";
const HELD_BY: &str = "holder = :invitation AND invitationId = :inv AND tokenHash = :hash";

fn put(table: &str, item: Item, condition: &str, values: Vec<(&str, AttributeValue)>) -> TransactWriteItem {
    let mut put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    for (name, value) in values {
        put = put.expression_attribute_values(name, value);
    }
    TransactWriteItem::builder().put(put.build().expect("table and item are set")).build()
}

/// Takes the slot for `item` (an invitation's or a new member's) on the condition that it is
/// still what `read` said: free, or held by that same invitation with that same token.
pub(crate) fn take(table: &str, item: Item, read: &Slot) -> TransactWriteItem {
    match read {
        Slot::Pending(held) | Slot::Expired(held) => put(
            table,
            item,
            HELD_BY,
            vec![
                (":invitation", s(HOLDER_INVITATION)),
                (":inv", s(held.invitation_id.as_str())),
                (":hash", s(held.token_hash.as_str())),
            ],
        ),
        Slot::Free | Slot::Members => put(table, item, FREE, vec![(":members", s(HOLDER_MEMBERS))]),
    }
}

/// An invitation takes the slot it was planned on.
pub(crate) fn take_for_invitation(
    table: &str,
    org: &OrgId,
    invitation: &Invitation,
    hash: &TokenHash,
    read: &Slot,
) -> TransactWriteItem {
    take(table, invitation_slot(org, invitation, hash), read)
}

/// A new member takes the slot of their verified address from an invitation or from no one.
pub(crate) fn take_for_member(
    table: &str,
    org: &OrgId,
    email: &Email,
    user: &UserId,
    read: &Slot,
) -> TransactWriteItem {
    take(table, members_slot(org, email, user), read)
}

/// A new member joins the members already holding the slot of their address.
pub(crate) fn join_members(table: &str, org: &OrgId, email: &Email, user: &UserId) -> TransactWriteItem {
    let held_by_members = (":members", s(HOLDER_MEMBERS));
    members_update(table, (org, email, user), "ADD userIds :me", ("holder = :members", held_by_members))
}

/// A leaving member lets go of their address's slot; once its last member has left, the
/// slot is free (DynamoDB drops an emptied set). Fails if they do not hold it.
pub(crate) fn leave(table: &str, org: &OrgId, email: &Email, user: &UserId) -> TransactWriteItem {
    let holds = (":user", s(user.as_str()));
    members_update(table, (org, email, user), "DELETE userIds :me", ("contains(userIds, :user)", holds))
}

/// An update of a members' slot, `:me` being the member's id as a set, under a condition
/// with one value of its own.
fn members_update(
    table: &str,
    (org, email, user): (&OrgId, &Email, &UserId),
    expression: &str,
    (condition, (placeholder, value)): (&str, (&str, AttributeValue)),
) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .key(keys::PK, s(keys::org(org)))
        .key(keys::SK, s(keys::email(email)))
        .update_expression(expression)
        .condition_expression(condition)
        .expression_attribute_values(":me", AttributeValue::Ss(vec![user.to_string()]))
        .expression_attribute_values(placeholder, value)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .expect("table, key and expression are set");
    TransactWriteItem::builder().update(update).build()
}

/// Frees the slot if invitation `id` holds it (already deleted by TTL is fine).
pub(crate) fn release(table: &str, org: &OrgId, email: &Email, id: &InvitationId) -> TransactWriteItem {
    super::ops::delete_if(
        table,
        keys::org(org),
        keys::email(email),
        Some("attribute_not_exists(PK) OR invitationId = :inv"),
        &[(":inv", id.as_str())],
    )
}

/// Keeps the slot held by invitation `id` (absent is fine: its invitation expired and TTL
/// took it first) while the invitation gets a new token: the slot carries the new hash.
pub(crate) fn rehold(
    table: &str,
    org: &OrgId,
    invitation: &Invitation,
    hash: &TokenHash,
) -> TransactWriteItem {
    super::ops::put_if(
        table,
        invitation_slot(org, invitation, hash),
        Some("attribute_not_exists(PK) OR invitationId = :inv"),
        &[(":inv", invitation.id.as_str())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;
    use crate::domain::invitation::Delivery;

    fn invitation(expires_at: Timestamp) -> Invitation {
        Invitation {
            id: InvitationId::new(),
            email: Email::parse("a@b.co").unwrap(),
            role: Role::Member,
            custom_role: None,
            invited_by: UserId::parse("u").unwrap(),
            created_at: expires_at,
            expires_at,
            last_sent_at: expires_at,
            email_delivery: Delivery::Queued,
            email_delivery_reason: None,
            send_number: 0,
            issued_send: None,
            mailed_by: Default::default(),
            metadata: Default::default(),
            voucher: None,
            declined_at: None,
            workspaces: Vec::new(),
            groups: Vec::new(),
            version: 0,
        }
    }

    #[test]
    fn reads_each_kind_of_slot() {
        let now = Timestamp::parse("2026-06-01T12:00:00Z").unwrap();
        let org = OrgId::new();
        let hash = TokenHash::from_stored("h".into());
        assert_eq!(Slot::read(None, now), Slot::Free);
        let pending = invitation(now.plus_millis(1));
        let read = Slot::read(Some(&invitation_slot(&org, &pending, &hash)), now);
        assert_eq!(
            read,
            Slot::Pending(HeldBy { invitation_id: pending.id.clone(), token_hash: hash.clone() })
        );
        let expired = invitation(now);
        assert!(matches!(Slot::read(Some(&invitation_slot(&org, &expired, &hash)), now), Slot::Expired(_)));
        let email = Email::parse("a@b.co").unwrap();
        let mut members = members_slot(&org, &email, &UserId::parse("u").unwrap());
        assert_eq!(Slot::read(Some(&members), now), Slot::Members);
        members.remove(USER_IDS);
        assert_eq!(Slot::read(Some(&members), now), Slot::Free, "every member left");
    }
}
