//! What a member vouches for: the invitations and links whose admitting rests on their
//! standing (see `domain::standing`).

use super::{Store, keys, n, s};
use crate::domain::{Member, OrgId, Timestamp};
use crate::error::Error;

/// Unexpired invitations and usable links that a member vouches for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Vouched {
    pub invitations: u32,
    pub links: u32,
}

impl Store {
    /// How many of the organization's invitations and links still admit on `creator`'s
    /// standing at `now` (theirs, vouched at their current generation and standing, live):
    /// what a change that raises that standing ends, for its audit event. A query of the
    /// organization's invitations and links (paged), so only for rare changes.
    pub async fn vouched_for(&self, org: &OrgId, creator: &Member, now: Timestamp) -> Result<Vouched, Error> {
        let invitations = self.count_vouched(org, keys::INVITATION_PREFIX, "invitedBy", creator, now);
        let links = self.count_vouched(org, keys::LINK_PREFIX, "createdBy", creator, now);
        let (invitations, links) = tokio::try_join!(invitations, links)?;
        Ok(Vouched { invitations, links })
    }

    async fn count_vouched(
        &self,
        org: &OrgId,
        prefix: &str,
        creator_attribute: &str,
        creator: &Member,
        now: Timestamp,
    ) -> Result<u32, Error> {
        // Vouched for by this membership as it stands (tokens written before vouchers name
        // their creator only), unexpired, not declined, not used up.
        let generation = match &creator.generation {
            Some(_) => "voucher.generation = :generation",
            None => "attribute_not_exists(voucher.generation)",
        };
        let filter = format!(
            "((voucher.#by = :user AND {generation} AND voucher.standing = :standing) \
             OR (attribute_not_exists(voucher) AND #creator = :user)) \
             AND expiresAt > :now AND attribute_not_exists(declinedAt) \
             AND (attribute_not_exists(maxUses) OR maxUses = :null OR uses < maxUses)"
        );
        let mut count = 0u32;
        let mut start = None;
        loop {
            let mut query = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND SK BETWEEN :prefix AND :past")
                .filter_expression(&filter)
                .expression_attribute_names("#by", "by")
                .expression_attribute_names("#creator", creator_attribute)
                .expression_attribute_values(":pk", s(keys::org(org)))
                .expression_attribute_values(":prefix", s(prefix))
                .expression_attribute_values(":past", s(super::past(prefix)))
                .expression_attribute_values(":user", s(creator.user_id.as_str()))
                .expression_attribute_values(":standing", n(creator.standing))
                .expression_attribute_values(":now", s(now.to_string()))
                .expression_attribute_values(":null", aws_sdk_dynamodb::types::AttributeValue::Null(true))
                .select(aws_sdk_dynamodb::types::Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start);
            if let Some(g) = &creator.generation {
                query = query.expression_attribute_values(":generation", s(g.as_str()));
            }
            let out = query.send().await.map_err(|e| super::classify("count_vouched", e))?;
            count = count.saturating_add(u32::try_from(out.count).unwrap_or(0));
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }
}
