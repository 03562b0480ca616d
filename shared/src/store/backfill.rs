//! The one-off backfill after upgrading a deployment to the search indexes (issue 27):
//! memberships written before carry no member index items (so no list shows them), and
//! audit events no places on the filter indexes (so only the unfiltered trail shows them).
//! The operator runs it once (README "Upgrading"); it is the only Scan Roster makes, a page
//! at a time, resumable from the key it hands back, and safe to run again or alongside
//! traffic.

use aws_sdk_dynamodb::types::AttributeValue;

use super::tx::{Expr, check};
use super::{Item, Store, TransactError, decode, keys, s, string_attr};
use crate::domain::{AuditEvent, Member, OrgId};
use crate::error::Error;

/// Items a Scan page looks at (before its filter): a page costs about this many reads.
const PAGE: i32 = 200;

/// What one page did, and where the next starts (`None`: the table is done).
#[derive(Debug, Default)]
pub struct BackfillPage {
    pub memberships: usize,
    pub events: usize,
    pub next: Option<Item>,
}

impl Store {
    /// One page of the backfill from `start`: every membership's index items written
    /// (idempotent puts, with a check that the membership is still as read: one changed
    /// meanwhile is read again), and every audit event without index keys given them.
    pub async fn backfill_page(&self, start: Option<Item>) -> Result<BackfillPage, Error> {
        let out = self
            .client()
            .scan()
            .table_name(self.table())
            .filter_expression(
                "begins_with(SK, :member) OR (begins_with(SK, :audit) AND attribute_not_exists(GSI1PK))",
            )
            .expression_attribute_values(":member", s(keys::MEMBER_PREFIX))
            .expression_attribute_values(":audit", s(keys::AUDIT_PREFIX))
            .consistent_read(true)
            .limit(PAGE)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| super::classify("backfill_scan", e))?;
        let mut page = BackfillPage { next: out.last_evaluated_key, ..BackfillPage::default() };
        for item in out.items.unwrap_or_default() {
            let (Some(pk), Some(sk)) = (string_attr(&item, keys::PK), string_attr(&item, keys::SK)) else {
                continue;
            };
            let Some(org) = pk.strip_prefix(keys::ORG_PREFIX).and_then(OrgId::parse) else { continue };
            if sk.starts_with(keys::MEMBER_PREFIX) {
                let member: Member = decode(item.clone())?;
                self.index_membership(&org, member).await?;
                page.memberships += 1;
            } else {
                let event: AuditEvent = decode(item.clone())?;
                self.index_event(&org, &event).await?;
                page.events += 1;
            }
        }
        Ok(page)
    }

    /// Writes `member`'s index items if the membership is still as read; else reads it
    /// again (a write since then may have written only the items it moved).
    async fn index_membership(&self, org: &OrgId, mut member: Member) -> Result<(), Error> {
        for _ in 0..5 {
            let (condition, values) = super::members::as_read(&member);
            let mut when = Expr::new(condition);
            when.values = values;
            let mut items = vec![check(self.table(), keys::org(org), keys::member(&member.user_id), when)];
            items.extend(
                super::member_index::index_items(org, &member)
                    .into_values()
                    .map(|item| super::ops::put_if(self.table(), item, None, &[])),
            );
            match self.transact("backfill_member_index", items).await {
                Ok(()) => return Ok(()),
                Err(TransactError::Failed(e)) => return Err(e),
                Err(TransactError::Cancelled(_)) => match self.membership(org, &member.user_id).await? {
                    Some(now) => member = now,
                    // Removed meanwhile: its removal deleted whatever it had.
                    None => return Ok(()),
                },
            }
        }
        Err(Error::Conflict("a membership kept changing during the backfill; run it again".into()))
    }

    /// Gives `event` its places on the filter indexes, unless it has them.
    async fn index_event(&self, org: &OrgId, event: &AuditEvent) -> Result<(), Error> {
        let wanted = super::audit::audit_item(org, event);
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::org(org)))
            .key(keys::SK, s(keys::audit(&event.id)))
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(GSI1PK)");
        let mut sets = Vec::new();
        for name in [keys::GSI1PK, keys::GSI1SK, keys::GSI2PK, keys::GSI3PK] {
            if let Some(AttributeValue::S(value)) = wanted.get(name) {
                sets.push(format!("{name} = :{name}"));
                update = update.expression_attribute_values(format!(":{name}"), s(value.as_str()));
            }
        }
        match update.update_expression(format!("SET {}", sets.join(", "))).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(())
            }
            Err(e) => Err(super::classify("backfill_event", e)),
        }
    }
}
