//! The reads of a batch of permission checks: at most two waves of parallel, strongly
//! consistent `BatchGetItem`s, whatever the batch.
//!
//! Wave 1, for every check: the organization item, the membership, and for a workspace-scope
//! check the workspace and the direct workspace membership. Wave 2, only for workspace checks
//! whose member belongs to groups: the workspace's grant to each of those groups and the
//! group itself (a deleted group's grants last until the purge, and grant nothing), and the
//! membership again, which must be as wave 1 read it (see [`Store::check_reads`]). Also in
//! wave 2, for a check that may meet a custom role (held by the member, their direct
//! workspace membership or a grant) in an organization that has any: the organization's
//! custom roles, one Query beside the BatchGetItems (a grant's role is known only once the
//! grant is read, so the roles are read whole rather than by key).

use std::collections::{BTreeSet, HashMap};

use super::roles::ROLE_COUNT_ON_ORG;
use super::{Item, Store, decode, keys, orgs};
use crate::domain::authorization::{Check, Facts};
use crate::domain::custom_role::CustomRole;
use crate::domain::permission::{Catalog, PermissionScope};
use crate::domain::workspace::{GroupGrant, WorkspaceMember};
use crate::domain::{Member, OrgId};
use crate::error::Error;

type Key = (String, String);

/// What the two waves found, by key.
#[derive(Debug, Default)]
pub struct CheckReads {
    items: HashMap<Key, Item>,
    /// The custom roles of the organizations whose checks name one (read in wave 2).
    roles: HashMap<OrgId, Vec<CustomRole>>,
}

impl CheckReads {
    fn item(&self, pk: &str, sk: &str) -> Option<&Item> {
        self.items.get(&(pk.to_owned(), sk.to_owned()))
    }

    fn member(&self, check: &Check) -> Result<Option<Member>, Error> {
        let (Some(org), Some(user)) = (&check.org, &check.user) else { return Ok(None) };
        self.item(&keys::org(org), &keys::member(user)).cloned().map(decode).transpose()
    }

    /// The facts of `check` (see [`Facts`]); `f` decides on them while they are borrowed.
    pub fn with_facts<T>(&self, check: &Check, f: impl FnOnce(&Facts<'_>) -> T) -> Result<T, Error> {
        let Some(org) = &check.org else { return Ok(f(&Facts::default())) };
        let pk = keys::org(org);
        let org_live = self.item(&pk, keys::ORG_SK).is_some_and(|i| !orgs::is_deleted(i));
        let member = self.member(check)?;
        let roles = self.roles.get(org).map_or(&[][..], Vec::as_slice);
        let mut facts = Facts { org_live, member: member.as_ref(), roles, ..Facts::default() };
        let (grants, live_groups, direct);
        if let (Some(Some(ws)), Some(member)) = (&check.workspace, &member) {
            facts.workspace_live = self.item(&pk, &keys::workspace(ws)).is_some();
            direct = self
                .item(&pk, &keys::workspace_member(ws, &member.user_id))
                .cloned()
                .map(decode::<WorkspaceMember>)
                .transpose()?;
            let mut found = Vec::new();
            let mut live = BTreeSet::new();
            for group in &member.groups {
                if let Some(grant) = self.item(&pk, &keys::workspace_grant(ws, group)) {
                    found.push(decode::<GroupGrant>(grant.clone())?);
                }
                if self.item(&pk, &keys::group(group)).is_some() {
                    live.insert(group.clone());
                }
            }
            (grants, live_groups) = (found, live);
            facts.direct = direct.as_ref();
            facts.grants = &grants;
            facts.live_groups = Some(&live_groups);
        }
        Ok(f(&facts))
    }
}

/// A check needs reads only when its permission is known (an unknown one is answered as is).
fn needs_reads(catalog: &Catalog, check: &Check) -> Option<PermissionScope> {
    catalog.get(&check.permission).map(|e| e.scope)
}

/// Attempts at two waves that agree (see [`Store::check_reads`]).
const WAVE_ATTEMPTS: usize = 3;

impl Store {
    /// Everything `checks` need, in at most two waves (see the module's comment).
    ///
    /// Wave 2 reads the grants of the groups that wave 1 found on the membership, so it
    /// reads that membership again beside them: had it changed in between (the member left
    /// a group, then that group's grant was raised), the groups of one instant and the
    /// grants of another would make an answer that was true at neither. The reads start
    /// over then, a few times at most (the host fails closed on `503`).
    pub async fn check_reads(&self, catalog: &Catalog, checks: &[Check]) -> Result<CheckReads, Error> {
        for _ in 0..WAVE_ATTEMPTS {
            if let Some(reads) = self.check_reads_once(catalog, checks).await? {
                return Ok(reads);
            }
        }
        tracing::error!("a membership changed between the two waves of every attempt");
        Err(Error::Unavailable)
    }

    /// Both waves; `None` when a membership read in wave 1 was not the same in wave 2.
    async fn check_reads_once(
        &self,
        catalog: &Catalog,
        checks: &[Check],
    ) -> Result<Option<CheckReads>, Error> {
        let mut first: Vec<Key> = Vec::new();
        for check in checks {
            let (Some(scope), Some(org)) = (needs_reads(catalog, check), &check.org) else { continue };
            let pk = keys::org(org);
            first.push((pk.clone(), keys::ORG_SK.to_owned()));
            let Some(user) = &check.user else { continue };
            first.push((pk.clone(), keys::member(user)));
            if let (PermissionScope::Workspace, Some(Some(ws))) = (scope, &check.workspace) {
                first.push((pk.clone(), keys::workspace(ws)));
                first.push((pk, keys::workspace_member(ws, user)));
            }
        }
        let mut reads = CheckReads::default();
        reads.absorb(self.get_many("authorize", first).await?);
        let mut second: Vec<Key> = Vec::new();
        let mut again: Vec<Key> = Vec::new();
        let mut role_orgs: BTreeSet<OrgId> = BTreeSet::new();
        for check in checks {
            let (Some(scope), Some(org)) = (needs_reads(catalog, check), &check.org) else { continue };
            let pk = keys::org(org);
            let Some(member) = reads.member(check)? else { continue };
            if !member.is_active() {
                continue;
            }
            let mut wave_two = false;
            // Custom roles are read only where the organization has any (its item counts
            // them), and only for a check that may meet one.
            let has_roles = reads
                .item(&pk, keys::ORG_SK)
                .and_then(|i| super::number_attr(i, ROLE_COUNT_ON_ORG))
                .is_some_and(|n| n > 0);
            let mut meets_role = member.custom_role.is_some();
            if let (PermissionScope::Workspace, Some(Some(ws))) = (scope, &check.workspace)
                && reads.item(&pk, &keys::workspace(ws)).is_some()
            {
                let direct = reads.item(&pk, &keys::workspace_member(ws, &member.user_id));
                meets_role |= direct.is_some_and(|d| d.contains_key("customRole"));
                meets_role |= !member.groups.is_empty();
                for group in &member.groups {
                    second.push((pk.clone(), keys::workspace_grant(ws, group)));
                    second.push((pk.clone(), keys::group(group)));
                    wave_two = true;
                }
            }
            if has_roles && meets_role {
                role_orgs.insert(org.clone());
                wave_two = true;
            }
            if wave_two {
                let membership = (pk, keys::member(&member.user_id));
                second.push(membership.clone());
                again.push(membership);
            }
        }
        if second.is_empty() {
            return Ok(Some(reads));
        }
        let role_reads =
            role_orgs.iter().map(|org| async move { Ok((org.clone(), self.custom_roles(org).await?)) });
        let (found, roles) = futures::future::try_join(
            self.get_many("authorize_groups", second),
            futures::future::try_join_all(role_reads),
        )
        .await?;
        let mut later = CheckReads::default();
        later.absorb(found);
        if again.iter().any(|key| reads.items.get(key) != later.items.get(key)) {
            tracing::info!("a membership changed between the waves of a check; reading again");
            return Ok(None);
        }
        reads.items.extend(later.items);
        reads.roles = roles.into_iter().collect();
        Ok(Some(reads))
    }
}

impl CheckReads {
    fn absorb(&mut self, items: Vec<Item>) {
        for item in items {
            let key = (
                super::string_attr(&item, keys::PK).unwrap_or_default().to_owned(),
                super::string_attr(&item, keys::SK).unwrap_or_default().to_owned(),
            );
            self.items.insert(key, item);
        }
    }
}
