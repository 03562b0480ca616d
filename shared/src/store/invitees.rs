//! An address's invitations across organizations, through GSI1 (`INVITEE#<email>`): what the
//! pre-sign-up trigger decides on. The index is eventually consistent; an invitation written
//! a moment before its invitee signs up may be missed once, and the sign-up tried again.

use super::{Store, classify, keys, orgs, s, string_attr};
use crate::domain::{Email, OrgId, Timestamp};
use crate::error::Error;

/// An invitation as the index shows it: its organization and its expiry. Expired ones are
/// among them until DynamoDB's TTL deletes them; a deleted organization's until the purge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteeInvitation {
    pub org: OrgId,
    pub expires_at: Timestamp,
}

/// The organizations (each once) where an invitation is still pending at `now`. Expiry is
/// checked here, not left to DynamoDB's TTL, which deletes expired items only eventually.
pub fn pending_orgs(invitations: &[InviteeInvitation], now: Timestamp) -> Vec<OrgId> {
    let mut orgs: Vec<OrgId> =
        invitations.iter().filter(|i| !i.expires_at.is_reached_at(now)).map(|i| i.org.clone()).collect();
    orgs.sort();
    orgs.dedup();
    orgs
}

impl Store {
    /// Whether `email` has an invitation pending at `now` in an organization that is not
    /// deleted: one Query, and one BatchGetItem when there is any.
    pub async fn invited(&self, email: &Email, now: Timestamp) -> Result<bool, Error> {
        let pending = pending_orgs(&self.invitations_to(email).await?, now);
        if pending.is_empty() {
            return Ok(false);
        }
        Ok(!self.live_orgs(&pending).await?.is_empty())
    }

    /// Every invitation to `email`, in any organization: one Query (another per MB of
    /// results, which one address never comes near: it has at most one invitation per
    /// organization). Only the organization and the expiry are read.
    pub async fn invitations_to(&self, email: &Email) -> Result<Vec<InviteeInvitation>, Error> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(keys::GSI1)
                .key_condition_expression("GSI1PK = :invitee")
                .expression_attribute_values(":invitee", s(keys::invitee(email)))
                .projection_expression("PK, expiresAt")
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify("query_invitations_to", e))?;
            for item in out.items.unwrap_or_default() {
                let org = string_attr(&item, keys::PK)
                    .and_then(|pk| pk.strip_prefix(keys::ORG_PREFIX))
                    .and_then(OrgId::parse);
                let expires_at = string_attr(&item, "expiresAt").and_then(Timestamp::parse);
                match org.zip(expires_at) {
                    Some((org, expires_at)) => found.push(InviteeInvitation { org, expires_at }),
                    None => {
                        tracing::error!("an invitee index entry lacks its organization or expiry");
                        return Err(Error::Internal);
                    }
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    /// Those of `orgs` that exist and are not deleted (a tombstone has `deletedAt`): one
    /// BatchGetItem of the organization items (another per 100 organizations, sent together).
    pub async fn live_orgs(&self, orgs: &[OrgId]) -> Result<Vec<OrgId>, Error> {
        let wanted = orgs.iter().map(|o| (keys::org(o), keys::ORG_SK.to_owned())).collect();
        let items = self.get_many("get_invitee_orgs", wanted).await?;
        Ok(items
            .iter()
            .filter(|item| !orgs::is_deleted(item))
            .filter_map(|item| {
                string_attr(item, keys::PK)?.strip_prefix(keys::ORG_PREFIX).and_then(OrgId::parse)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unexpired_invitations_count_each_org_once() {
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let (a, b, c) = (OrgId::new(), OrgId::new(), OrgId::new());
        let at =
            |org: &OrgId, millis| InviteeInvitation { org: org.clone(), expires_at: now.plus_millis(millis) };
        let invitations = [at(&a, 1), at(&b, 0), at(&c, -1), at(&a, 5_000)];
        assert_eq!(pending_orgs(&invitations, now), vec![a]);
        assert!(pending_orgs(&[], now).is_empty());
    }
}
