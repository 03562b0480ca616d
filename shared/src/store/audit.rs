//! The audit trail: one item per change, written inside the change's own transaction so
//! that no change goes unrecorded and no record describes a change that did not happen.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::{Page, Store, decode, encode, keys, s};
use crate::domain::{AuditEvent, OrgId};
use crate::error::Error;

pub(crate) fn put_event(table: &str, org: &OrgId, event: &AuditEvent) -> TransactWriteItem {
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
