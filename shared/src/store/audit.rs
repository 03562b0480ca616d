//! The audit trail: one item per change, written inside the change's own transaction so
//! that no change goes unrecorded and no record describes a change that did not happen.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::{Page, Store, decode, encode, keys, s};
use crate::domain::{AuditEvent, OrgId, UserId};
use crate::error::Error;

tokio::task_local! {
    /// The user a service's request says it acts for (`X-Roster-On-Behalf-Of`): written into
    /// the details of every audit event the request writes as `onBehalfOf`. Recorded, it
    /// grants nothing. Scoped by the handlers' frame (`handlers::serve_any`) around a
    /// service's request only; a request is one task (its reads and writes run by `join!`,
    /// never spawned), so every event it writes sees it.
    static ON_BEHALF_OF: UserId;
}

/// Runs `request` with `user` as whom its audit events say a service acted for.
pub(crate) async fn acting_for<F: Future>(user: Option<UserId>, request: F) -> F::Output {
    match user {
        Some(user) => ON_BEHALF_OF.scope(user, request).await,
        None => request.await,
    }
}

/// `event` as written: a service's event names whom it acted for, when it said so.
fn with_on_behalf_of(event: &AuditEvent) -> Option<AuditEvent> {
    if !event.actor.is_service() {
        return None;
    }
    let user = ON_BEHALF_OF.try_with(UserId::clone).ok()?;
    let mut event = event.clone();
    match &mut event.details {
        serde_json::Value::Object(details) => {
            details.insert("onBehalfOf".to_owned(), serde_json::json!(user));
        }
        other => *other = serde_json::json!({ "onBehalfOf": user }),
    }
    Some(event)
}

pub(crate) fn put_event(table: &str, org: &OrgId, event: &AuditEvent) -> TransactWriteItem {
    let written = with_on_behalf_of(event);
    let event = written.as_ref().unwrap_or(event);
    let item = encode(
        event,
        &[(keys::PK, s(keys::org(org))), (keys::SK, s(keys::audit(&event.id))), ("type", s("audit"))],
    );
    let put = Put::builder().table_name(table).set_item(Some(item)).build().expect("table and item are set");
    TransactWriteItem::builder().put(put).build()
}

/// An audit item as the table's stream carries it.
pub fn decode_audit(item: super::Item) -> Result<AuditEvent, Error> {
    decode(item)
}

impl Store {
    pub(crate) fn audit_put(&self, org: &OrgId, event: &AuditEvent) -> TransactWriteItem {
        put_event(self.table(), org, event)
    }

    /// Newest first.
    pub async fn audit_events(
        &self,
        org: &OrgId,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<AuditEvent>, Error> {
        let query = self.org_query(org, keys::AUDIT_PREFIX, after)?.scan_index_forward(false);
        let page = self.query_page("list_audit", query, limit, keys::SK).await?;
        Ok(Page {
            items: page.items.into_iter().map(decode).collect::<Result<_, _>>()?,
            last_key: page.last_key,
        })
    }
}
