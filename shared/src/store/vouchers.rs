//! What a member vouches for: the invitations and links whose admitting rests on their
//! standing (see `domain::standing`).

use super::{Store, keys, s};
use crate::domain::{OrgId, Role, Timestamp, UserId};
use crate::error::Error;

/// Unexpired invitations and usable links that `user` vouches for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Vouched {
    pub invitations: u32,
    pub links: u32,
}

impl Store {
    /// How many of the organization's live invitations and links for one of `roles` rest on
    /// `user`'s standing at `now`: what an ownership transfer ends, for its audit event. A
    /// query of the organization's invitations and links (paged), so only for rare changes.
    pub async fn vouched_for(
        &self,
        org: &OrgId,
        user: &UserId,
        roles: &[Role],
        now: Timestamp,
    ) -> Result<Vouched, Error> {
        let invitations = self.count_vouched(org, keys::INVITATION_PREFIX, "invitedBy", user, roles, now);
        let links = self.count_vouched(org, keys::LINK_PREFIX, "createdBy", user, roles, now);
        let (invitations, links) = tokio::try_join!(invitations, links)?;
        Ok(Vouched { invitations, links })
    }

    async fn count_vouched(
        &self,
        org: &OrgId,
        prefix: &str,
        creator_attribute: &str,
        user: &UserId,
        roles: &[Role],
        now: Timestamp,
    ) -> Result<u32, Error> {
        let role_values: Vec<String> = (0..roles.len()).map(|i| format!(":role{i}")).collect();
        // Tokens written before vouchers name their creator only.
        let filter = format!(
            "(voucher.#by = :user OR (attribute_not_exists(voucher) AND #creator = :user)) \
             AND #role IN ({}) AND expiresAt > :now AND attribute_not_exists(declinedAt) \
             AND (attribute_not_exists(maxUses) OR maxUses = :null OR uses < maxUses)",
            role_values.join(", ")
        );
        let mut count = 0u32;
        let mut start = None;
        loop {
            let mut query = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .filter_expression(&filter)
                .expression_attribute_names("#by", "by")
                .expression_attribute_names("#creator", creator_attribute)
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":pk", s(keys::org(org)))
                .expression_attribute_values(":prefix", s(prefix))
                .expression_attribute_values(":user", s(user.as_str()))
                .expression_attribute_values(":now", s(now.to_string()))
                .expression_attribute_values(":null", aws_sdk_dynamodb::types::AttributeValue::Null(true))
                .select(aws_sdk_dynamodb::types::Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start);
            for (name, role) in role_values.iter().zip(roles) {
                query = query.expression_attribute_values(name, s(role.as_str()));
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
