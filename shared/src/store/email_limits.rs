//! Abuse limits on invitation email (API.md "Email delivery"): quotas per organization and
//! per inviter, and the bounce window that pauses an organization's invitation emails before
//! SES's own thresholds would suspend the deployer's whole account.
//!
//! Quotas are fixed windows (the UTC hour, the UTC day), one counter item each, claimed for a
//! whole batch in one transaction: a batch is refused whole, and concurrent batches can never
//! together pass a limit. The bounce window is one item per organization counting its emails
//! sent, bounced and complained about, in two blocks of `window` emails each (the current and
//! the previous): its rates are those of the last `window` to `2 × window` emails.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use chrono::{Duration, DurationRound};

use super::{Store, TransactError, keys, n, s};
use crate::config::{PauseRule, Quotas};
use crate::domain::model::InvitationsPaused;
use crate::domain::{AuditEvent, OrgId, Timestamp, UserId};
use crate::error::Error;

/// One quota counter to claim from.
struct Claim {
    pk: String,
    sk: String,
    limit: u32,
    ends_at: chrono::DateTime<chrono::Utc>,
    what: &'static str,
}

fn claims(org: &OrgId, inviter: &UserId, quotas: Quotas, now: Timestamp) -> [Claim; 3] {
    let at = now.as_datetime();
    let hour = at.duration_trunc(Duration::hours(1)).unwrap_or(at);
    let day = at.duration_trunc(Duration::days(1)).unwrap_or(at);
    let hour_key = keys::quota(&format!("H#{}", hour.format("%Y%m%d%H")));
    let day_key = keys::quota(&format!("D#{}", day.format("%Y%m%d")));
    [
        Claim {
            pk: keys::org(org),
            sk: hour_key.clone(),
            limit: quotas.org_per_hour,
            ends_at: hour + Duration::hours(1),
            what: "this organization's invitation emails this hour",
        },
        Claim {
            pk: keys::org(org),
            sk: day_key,
            limit: quotas.org_per_day,
            ends_at: day + Duration::days(1),
            what: "this organization's invitation emails today (UTC)",
        },
        Claim {
            pk: keys::user(inviter),
            sk: hour_key,
            limit: quotas.inviter_per_hour,
            ends_at: hour + Duration::hours(1),
            what: "your invitation emails this hour",
        },
    ]
}

fn refusal(claim: &Claim, now: Timestamp) -> Error {
    // Rounded up: a retry after exactly `Retry-After` seconds is in the next window.
    let millis = (claim.ends_at - now.as_datetime()).num_milliseconds().max(1);
    let seconds = (millis + 999) / 1000;
    Error::RateLimited {
        detail: format!(
            "{} reached its limit of {}; retry in {} minutes",
            claim.what,
            claim.limit,
            (seconds + 59) / 60
        ),
        retry_after: u64::try_from(seconds).unwrap_or(1),
    }
}

/// A batch larger than a quota's whole window: no wait lets it through, so it is no
/// `429` (whose `Retry-After` would promise a retry that fails again) but a request to split.
fn too_large(claim: &Claim, count: u32) -> Error {
    Error::invalid_request(format!(
        "{count} emails are more than {} may ever be ({} per window): split the batch",
        claim.what, claim.limit
    ))
}

/// Adds one sent email to the organization's bounce window (in the transaction that records
/// the send).
pub(crate) fn count_sent(table: &str, org: &OrgId) -> TransactWriteItem {
    add(table, org, "sent")
}

/// Adds a bounce (`bounces`) or a complaint (`complaints`) to the window, in the transaction
/// that moves the invitation's delivery: counted once however often SES repeats the event.
pub(crate) fn count_outcome(table: &str, org: &OrgId, counter: &'static str) -> TransactWriteItem {
    add(table, org, counter)
}

fn add(table: &str, org: &OrgId, counter: &str) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .key(keys::PK, s(keys::org(org)))
        .key(keys::SK, s(keys::MAIL_STATS_SK))
        .update_expression(format!("ADD {counter} :one"))
        .expression_attribute_values(":one", n(1))
        .build()
        .expect("table, key and expression are set");
    TransactWriteItem::builder().update(update).build()
}

/// The bounce window as read.
#[derive(Debug, Default, Clone, Copy)]
struct Window {
    block: i64,
    sent: i64,
    bounces: i64,
    complaints: i64,
    prev_sent: i64,
    prev_bounces: i64,
    prev_complaints: i64,
}

impl Window {
    fn read(item: &super::Item) -> Self {
        let get = |name: &str| super::number_attr(item, name).unwrap_or(0);
        Self {
            block: get("block"),
            sent: get("sent"),
            bounces: get("bounces"),
            complaints: get("complaints"),
            prev_sent: get("prevSent"),
            prev_bounces: get("prevBounces"),
            prev_complaints: get("prevComplaints"),
        }
    }

    /// Why the window pauses the organization, if it does: bounces or complaints over the
    /// rule's share of the last emails (at least `window` of them, so that a new organization's
    /// one bounce of three emails is 1 in 200, not a third).
    fn verdict(&self, rule: PauseRule) -> Option<&'static str> {
        let emails = (self.sent + self.prev_sent).max(i64::from(rule.window));
        let over = |count: i64, basis_points: u32| count * 10_000 > i64::from(basis_points) * emails;
        if over(self.complaints + self.prev_complaints, rule.complaint_basis_points) {
            Some("complaints")
        } else if over(self.bounces + self.prev_bounces, rule.bounce_basis_points) {
            Some("bounces")
        } else {
            None
        }
    }
}

impl Store {
    /// Claims `count` invitation emails from the organization's hourly and daily quotas and
    /// the inviter's hourly one, all or none: `429 rate_limited` naming the first quota that
    /// has no room, with the seconds until its window ends.
    pub async fn claim_email_quota(
        &self,
        org: &OrgId,
        inviter: &UserId,
        count: u32,
        quotas: Quotas,
        now: Timestamp,
    ) -> Result<(), Error> {
        if count == 0 {
            return Ok(());
        }
        let claims = claims(org, inviter, quotas, now);
        if let Some(claim) = claims.iter().find(|c| count > c.limit) {
            return Err(too_large(claim, count));
        }
        let items = claims
            .iter()
            .map(|claim| {
                let update = Update::builder()
                    .table_name(self.table())
                    .key(keys::PK, s(&claim.pk))
                    .key(keys::SK, s(&claim.sk))
                    .update_expression("SET used = if_not_exists(used, :zero) + :count, #ttl = :ttl")
                    .condition_expression("attribute_not_exists(used) OR used <= :room")
                    .expression_attribute_names("#ttl", keys::TTL)
                    .expression_attribute_values(":zero", n(0))
                    .expression_attribute_values(":count", n(count))
                    .expression_attribute_values(":room", n(claim.limit - count))
                    // Kept an hour past its window, then TTL removes it.
                    .expression_attribute_values(":ttl", n(claim.ends_at.timestamp() + 3600))
                    .build()
                    .expect("table, key and expressions are set");
                TransactWriteItem::builder().update(update).build()
            })
            .collect();
        match self.transact("claim_email_quota", items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Cancelled(c)) => {
                let full = (0..claims.len()).find(|&i| c.failed(i)).unwrap_or(0);
                Err(refusal(&claims[full], now))
            }
            Err(TransactError::Failed(e)) => Err(e),
        }
    }

    /// Judges the organization's bounce window after a bounce or complaint was counted:
    /// rolls it when its block is full, and pauses the organization's invitation emails when
    /// it is over `rule` (with `event`, which this builds from the reason). Whether it paused
    /// the organization now.
    pub async fn judge_bounce_window(
        &self,
        org: &OrgId,
        rule: PauseRule,
        now: Timestamp,
        event: impl FnOnce(&'static str) -> AuditEvent,
    ) -> Result<bool, Error> {
        let item = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(keys::MAIL_STATS_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| super::errors::classify("get_bounce_window", e))?;
        let mut window = item.item().map(Window::read).unwrap_or_default();
        if window.sent >= i64::from(rule.window) {
            window = self.roll(org, window).await.unwrap_or(window);
        }
        let Some(reason) = window.verdict(rule) else { return Ok(false) };
        self.pause_invitations(org, InvitationsPaused { at: now, reason: reason.to_owned() }, &event(reason))
            .await
    }

    /// Starts a new block: the current counts become the previous block's. Counts added since
    /// the read stay in the new block (subtracted rather than zeroed); a concurrent roll wins
    /// (the block number is the condition). The window after, if this rolled it.
    async fn roll(&self, org: &OrgId, read: Window) -> Option<Window> {
        let output = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(keys::MAIL_STATS_SK))
            .update_expression(
                "SET prevSent = :sent, prevBounces = :bounces, prevComplaints = :complaints, \
                 sent = sent - :sent, bounces = if_not_exists(bounces, :zero) - :bounces, \
                 complaints = if_not_exists(complaints, :zero) - :complaints, #block = :next",
            )
            .condition_expression("attribute_not_exists(#block) OR #block = :block")
            .expression_attribute_names("#block", "block")
            .expression_attribute_values(":sent", n(read.sent))
            .expression_attribute_values(":bounces", n(read.bounces))
            .expression_attribute_values(":complaints", n(read.complaints))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":block", n(read.block))
            .expression_attribute_values(":next", n(read.block + 1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .ok()?;
        output.attributes().map(Window::read)
    }

    /// Pauses the organization's invitation emails, unless already paused or deleted.
    async fn pause_invitations(
        &self,
        org: &OrgId,
        paused: InvitationsPaused,
        event: &AuditEvent,
    ) -> Result<bool, Error> {
        let value: AttributeValue = serde_dynamo::to_attribute_value(&paused).map_err(|_| Error::Internal)?;
        let update = Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(keys::ORG_SK))
            .update_expression("SET invitationsPaused = :paused")
            .condition_expression(
                "attribute_exists(PK) AND attribute_not_exists(deletedAt) AND attribute_not_exists(invitationsPaused)",
            )
            .expression_attribute_values(":paused", value)
            .build()
            .expect("table, key and expressions are set");
        let items = vec![TransactWriteItem::builder().update(update).build(), self.audit_put(org, event)];
        match self.transact("pause_invitations", items).await {
            Ok(()) => {
                tracing::warn!(org = %org, reason = paused.reason, "invitation emails paused");
                Ok(true)
            }
            Err(TransactError::Cancelled(_)) => Ok(false),
            Err(TransactError::Failed(e)) => Err(e),
        }
    }

    /// Lifts a pause (the deployment's operator): the organization invites again, and its
    /// bounce window starts empty, so that the emails that paused it do not pause it again at
    /// the next bounce. Whether it was paused.
    pub async fn resume_invitations(&self, org: &OrgId, event: &AuditEvent) -> Result<bool, Error> {
        let update = Update::builder()
            .table_name(self.table())
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(keys::ORG_SK))
            .update_expression("REMOVE invitationsPaused")
            .condition_expression("attribute_not_exists(deletedAt) AND attribute_exists(invitationsPaused)")
            .build()
            .expect("table, key and expressions are set");
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            super::ops::delete_if(self.table(), keys::org(org), keys::MAIL_STATS_SK.to_owned(), None, &[]),
            self.audit_put(org, event),
        ];
        match self.transact("resume_invitations", items).await {
            Ok(()) => Ok(true),
            Err(TransactError::Cancelled(_)) => Ok(false),
            Err(TransactError::Failed(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> PauseRule {
        PauseRule { window: 200, bounce_basis_points: 500, complaint_basis_points: 10 }
    }

    #[test]
    fn small_organizations_are_judged_over_the_whole_window() {
        let window = Window { sent: 3, bounces: 1, ..Window::default() };
        assert_eq!(window.verdict(rule()), None, "1 bounce in 3 emails is 1 in 200");
        let window = Window { sent: 30, bounces: 10, ..Window::default() };
        assert_eq!(window.verdict(rule()), None, "10 of 200 is 5%, not past it");
        let window = Window { sent: 30, bounces: 11, ..Window::default() };
        assert_eq!(window.verdict(rule()), Some("bounces"));
    }

    #[test]
    fn one_complaint_in_the_window_passes_a_tenth_of_a_percent() {
        let window = Window { sent: 150, prev_sent: 200, complaints: 1, ..Window::default() };
        assert_eq!(window.verdict(rule()), Some("complaints"));
    }

    #[test]
    fn both_blocks_count() {
        let window = Window { sent: 100, prev_sent: 200, bounces: 8, prev_bounces: 8, ..Window::default() };
        assert_eq!(window.verdict(rule()), Some("bounces"), "16 of 300 is 5.3%");
        let window = Window { sent: 100, prev_sent: 200, bounces: 7, prev_bounces: 8, ..Window::default() };
        assert_eq!(window.verdict(rule()), None, "15 of 300 is 5%");
    }
}
