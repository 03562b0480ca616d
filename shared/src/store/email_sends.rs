//! The sends of invitation emails (API.md "Email delivery"): the token minted when the email
//! goes out, and the delivery state that the sender and SES's events move forward.
//!
//! Every write here is conditioned on the invitation's `sendNumber`: a resend (which bumps
//! it) or a revoke (which deletes the item) wins over whatever an earlier send still does.

use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::invitations::{
    StoredInvitation, TokenKind, TokenRecord, decode_invitation, token_delete, token_item,
};
use super::ops::{NEW, put_if};
use super::slots::{self, TOKEN_HASH};
use super::{Store, TransactError, decode, keys, n, s, string_attr};
use crate::domain::invitation::{Delivery, DeliveryReason, Invitation, Vouched};
use crate::domain::token::TokenHash;
use crate::domain::{InvitationId, Org, OrgId, Timestamp};
use crate::error::Error;

/// What became of minting a send's token.
#[derive(Debug, PartialEq, Eq)]
pub enum Issue {
    /// The invitation now has the new token; the email may go.
    Issued,
    /// This send is over: resent, revoked, accepted, declined or expired since. Nothing to do.
    Stale,
    /// The invitation changed otherwise (its workspaces, a concurrent attempt of this same
    /// send): read it again.
    Changed,
}

/// The condition that the invitation is still at send `:send` (items written before sends
/// were numbered carry none: send 0).
fn at_send(send: u64) -> &'static str {
    if send == 0 { "(attribute_not_exists(sendNumber) OR sendNumber = :send)" } else { "sendNumber = :send" }
}

/// An `Update` of one item, as a transaction item.
fn update(
    table: &str,
    (pk, sk): (String, String),
    expression: &str,
    condition: &str,
    values: Vec<(&str, AttributeValue)>,
) -> TransactWriteItem {
    let mut update = Update::builder()
        .table_name(table)
        .key(keys::PK, s(pk))
        .key(keys::SK, s(sk))
        .update_expression(expression)
        .condition_expression(condition)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    for (name, value) in values {
        update = update.expression_attribute_values(name, value);
    }
    TransactWriteItem::builder().update(update.build().expect("table, key and expressions are set")).build()
}

/// The token item an email invitation's token stands for: all a preview shows and an accept
/// needs, from the invitation as it is (its voucher, the resender's after a resend, admits).
fn token_record_of(org: &OrgId, invitation: &Invitation) -> TokenRecord {
    TokenRecord {
        kind: TokenKind::Email,
        org_id: org.clone(),
        role: invitation.role,
        custom_role: invitation.custom_role.clone(),
        invited_by: invitation.vouched_by().clone(),
        inviter_name: invitation.mailed_by.name.clone(),
        expires_at: invitation.expires_at,
        email: Some(invitation.email.clone()),
        invitation_id: Some(invitation.id.clone()),
        link_id: None,
        max_uses: None,
        uses: 0,
        metadata: invitation.metadata.clone(),
        voucher: invitation.voucher.clone(),
        outcome: None,
        workspaces: invitation.workspaces.clone(),
        groups: invitation.groups.clone(),
        version: invitation.version,
    }
}

impl Store {
    /// The organization and one invitation, strongly consistent: what a send is decided on.
    pub async fn send_context(
        &self,
        org: &OrgId,
        id: &InvitationId,
    ) -> Result<(Option<Org>, Option<StoredInvitation>), Error> {
        let wanted = vec![(keys::org(org), keys::ORG_SK.to_owned()), (keys::org(org), keys::invitation(id))];
        let (mut found_org, mut invitation) = (None, None);
        for item in self.get_in_org("get_send_context", org, wanted).await? {
            match string_attr(&item, keys::SK) {
                Some(keys::ORG_SK) if !item.contains_key("deletedAt") => found_org = Some(decode(item)?),
                Some(keys::ORG_SK) => {}
                _ => invitation = Some(decode_invitation(item)?),
            }
        }
        Ok((found_org, invitation))
    }

    /// Gives the invitation a new token (`hash`) for send `send`, if it is still at that send
    /// with the token and version it was read with: the old token item goes (it was never
    /// mailed, or its email was superseded), the new one is written, and the address slot
    /// follows. Only after this may the email carrying the token be handed to SES.
    pub async fn issue_send_token(
        &self,
        org: &OrgId,
        stored: &StoredInvitation,
        hash: &TokenHash,
    ) -> Result<Issue, Error> {
        let table = self.table();
        let invitation = &stored.invitation;
        let record = token_record_of(org, invitation);
        let condition = format!(
            "{} AND tokenHash = :old AND attribute_not_exists(declinedAt) AND \
             (attribute_not_exists(version) OR version = :version)",
            at_send(invitation.send_number)
        );
        let items = vec![
            update(
                table,
                (keys::org(org), keys::invitation(&invitation.id)),
                &format!("SET {TOKEN_HASH} = :new, issuedSend = :send"),
                &condition,
                vec![
                    (":new", s(hash.as_str())),
                    (":old", s(stored.token_hash.as_str())),
                    (":send", n(invitation.send_number)),
                    (":version", n(invitation.version)),
                ],
            ),
            token_delete(table, stored.token_hash.as_str(), None),
            put_if(table, token_item(hash, &record), NEW, &[]),
            slots::rehold(table, org, invitation, hash),
        ];
        let cancelled = match self.transact("issue_send_token", items).await {
            Ok(()) => return Ok(Issue::Issued),
            Err(TransactError::Failed(e)) => return Err(e),
            Err(TransactError::Cancelled(c)) => c,
        };
        if cancelled.failed(0) {
            let Some(now) = cancelled.old_item(0) else { return Ok(Issue::Stale) };
            let same_send = super::number_attr(now, "sendNumber").unwrap_or(0)
                == i64::try_from(invitation.send_number).unwrap_or(-1);
            return Ok(if same_send && !now.contains_key("declinedAt") {
                Issue::Changed
            } else {
                Issue::Stale
            });
        }
        // The slot is another invitation's or a member's: this one expired and its address
        // was taken since.
        Ok(Issue::Stale)
    }

    /// Records that SES accepted send `send`'s email: `lastSentAt` and the organization's
    /// bounce window, if the invitation is still at that send with that token; then `sent`,
    /// if it is still `queued` (SES's own events may have come first, and a `Delivery` is
    /// not undone). Whether the send was recorded.
    pub async fn mark_sent(
        &self,
        org: &OrgId,
        id: &InvitationId,
        (send, hash): (u64, &TokenHash),
        at: Timestamp,
    ) -> Result<bool, Error> {
        let table = self.table();
        let items = vec![
            update(
                table,
                (keys::org(org), keys::invitation(id)),
                "SET lastSentAt = :at",
                &format!("{} AND tokenHash = :hash", at_send(send)),
                vec![(":at", s(at.to_string())), (":hash", s(hash.as_str())), (":send", n(send))],
            ),
            super::email_limits::count_sent(table, org),
        ];
        match self.transact("mark_sent", items).await {
            Ok(()) => {}
            Err(TransactError::Cancelled(_)) => return Ok(false),
            Err(TransactError::Failed(e)) => return Err(e),
        }
        self.move_delivery(org, id, send, (Delivery::Sent, None)).await?;
        Ok(true)
    }

    /// Ends send `send` as `failed`, for `reason` (see [`Store::move_delivery`]).
    pub async fn fail_send(
        &self,
        org: &OrgId,
        id: &InvitationId,
        send: u64,
        reason: DeliveryReason,
    ) -> Result<bool, Error> {
        self.move_delivery(org, id, send, (Delivery::Failed, Some(reason))).await
    }

    /// Moves send `send` of the invitation to `to` (with `reason`), if it is at that send and
    /// in a state `to` may follow (see [`Delivery::follows`]). Whether it moved: a send that
    /// is over, a repeat or a move that arrives after a later state changes nothing.
    pub async fn move_delivery(
        &self,
        org: &OrgId,
        id: &InvitationId,
        send: u64,
        to: (Delivery, Option<DeliveryReason>),
    ) -> Result<bool, Error> {
        self.move_delivery_if(org, id, (send, false), to, Vec::new()).await
    }

    /// [`Store::move_delivery`] for what SES reports, with `extra` (its audit event and bounce
    /// window count) written in the same transaction: only a send whose token was minted (SES
    /// reports only on an email it was handed) moves; an event naming a send still queued
    /// does not stop its email, nor count against the organization.
    pub async fn move_reported_delivery(
        &self,
        org: &OrgId,
        id: &InvitationId,
        send: u64,
        to: (Delivery, Option<DeliveryReason>),
        extra: Vec<TransactWriteItem>,
    ) -> Result<bool, Error> {
        self.move_delivery_if(org, id, (send, true), to, extra).await
    }

    async fn move_delivery_if(
        &self,
        org: &OrgId,
        id: &InvitationId,
        (send, issued): (u64, bool),
        (to, reason): (Delivery, Option<DeliveryReason>),
        extra: Vec<TransactWriteItem>,
    ) -> Result<bool, Error> {
        let table = self.table();
        let from = to.follows();
        let mut values = vec![(":to", s(to.as_str())), (":send", n(send))];
        let placeholders: Vec<String> = (0..from.len()).map(|i| format!(":from{i}")).collect();
        for (name, state) in placeholders.iter().zip(from) {
            values.push((name.as_str(), s(state.as_str())));
        }
        let expression = match reason {
            Some(reason) => {
                values.push((":reason", s(reason.as_str())));
                "SET emailDelivery = :to, emailDeliveryReason = :reason"
            }
            None => "SET emailDelivery = :to REMOVE emailDeliveryReason",
        };
        let mut condition = format!("{} AND emailDelivery IN ({})", at_send(send), placeholders.join(", "));
        if issued {
            condition.push_str(" AND issuedSend = :send");
        }
        let mut items =
            vec![update(table, (keys::org(org), keys::invitation(id)), expression, &condition, values)];
        items.extend(extra);
        match self.transact("move_delivery", items).await {
            Ok(()) => Ok(true),
            Err(TransactError::Cancelled(c)) if c.failed(0) => Ok(false),
            Err(TransactError::Cancelled(c)) => {
                tracing::error!(reasons = ?c, "move_delivery cancelled on an item other than the invitation");
                Err(Error::Internal)
            }
            Err(TransactError::Failed(e)) => Err(e),
        }
    }
}
