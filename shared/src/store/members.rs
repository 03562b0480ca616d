//! Membership items and their reads.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::tx::Expr;
use super::{Item, Store, TransactError, decode, encode, keys, n, s};
use crate::domain::{Member, OrgId, UserId};
use crate::error::Error;

pub fn member_item(org: &OrgId, member: &Member) -> Item {
    let mut item = encode(
        member,
        &[
            (keys::PK, s(keys::org(org))),
            (keys::SK, s(keys::member(&member.user_id))),
            (keys::GSI1PK, s(keys::user(&member.user_id))),
            (keys::GSI1SK, s(keys::org(org))),
            ("type", s("member")),
            ("orgId", s(org.as_str())),
        ],
    );
    // Not serialized with the member (the API never shows them): stored beside it.
    if let Some(address) = &member.slot_address {
        item.insert("slotAddress".to_owned(), s(address.as_str()));
    }
    item.insert(VERSION.to_owned(), n(member.version));
    item.insert(STANDING.to_owned(), n(member.standing));
    if let Some(generation) = &member.generation {
        item.insert(GENERATION.to_owned(), s(generation.as_str()));
    }
    if !member.groups.is_empty() {
        let ids = member.groups.iter().map(|g| g.as_str().to_owned()).collect();
        item.insert(GROUPS.to_owned(), AttributeValue::Ss(ids));
    }
    if member.workspace_count > 0 {
        item.insert(WORKSPACE_COUNT.to_owned(), n(member.workspace_count));
    }
    if let Some(reason) = member.standing_reason {
        let text = serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(str::to_owned));
        item.insert("standingReason".to_owned(), s(text.unwrap_or_default()));
    }
    item
}

pub(crate) const VERSION: &str = "version";
pub(crate) const GENERATION: &str = "generation";
pub(crate) const STANDING: &str = "standing";
/// The member's groups, a string set (absent when none).
pub(crate) const GROUPS: &str = "groups";
pub(crate) const WORKSPACE_COUNT: &str = "workspaceCount";

/// The condition that the stored membership is still `member` as read: the same joining
/// (generation) at the same version. Versions, never timestamps: two writes in one
/// millisecond share `updatedAt`. Memberships written before either existed have neither.
pub(crate) fn as_read(member: &Member) -> (String, Vec<(String, AttributeValue)>) {
    let mut values = vec![(":asReadVersion".to_owned(), n(member.version))];
    let version = if member.version == 0 {
        "(attribute_not_exists(version) OR version = :asReadVersion)"
    } else {
        "version = :asReadVersion"
    };
    let generation = match &member.generation {
        Some(g) => {
            values.push((":asReadGeneration".to_owned(), s(g.as_str())));
            "generation = :asReadGeneration"
        }
        None => "attribute_not_exists(generation)",
    };
    (format!("attribute_exists(PK) AND {generation} AND {version}"), values)
}

/// A `Put` that fails unless no item with this key exists yet.
pub(crate) fn put_new(table: &str, item: Item) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK)")
        .build()
        .expect("table and item are set");
    TransactWriteItem::builder().put(put).build()
}

impl Store {
    pub async fn membership(&self, org: &OrgId, user: &UserId) -> Result<Option<Member>, Error> {
        let wanted = vec![(keys::org(org), keys::member(user))];
        self.get_in_org("get_membership", org, wanted).await?.into_iter().next().map(decode).transpose()
    }

    /// Writes a member's refreshed name and address (see `Member::refreshed`) over `before`,
    /// if the membership is still as read. Nothing else of it changes, `updatedAt` included:
    /// this records who the member is, not a change anyone made; but the version moves, so a
    /// write decided on the membership before it cannot put the old name or address back.
    /// Its index items (the name orders it, name and address are searched) move with it, in
    /// one transaction.
    pub async fn refresh_identity(&self, org: &OrgId, before: &Member, after: &Member) -> Result<(), Error> {
        let (condition, values) = as_read(before);
        let mut sets = vec!["version = :nextVersion"];
        let mut update = Expr::new("").value(":nextVersion", n(after.version));
        if let (Some(name), true) = (&after.name, after.name != before.name) {
            sets.push("#name = :name");
            update = update.name("#name", "name").value(":name", s(name.as_str()));
        }
        if let (Some(email), true) = (&after.email, after.email != before.email) {
            sets.push("email = :email");
            update = update.value(":email", s(email.as_str()));
            if let Some(slot) = &after.slot_address {
                sets.push("slotAddress = if_not_exists(slotAddress, :slot)");
                update = update.value(":slot", s(slot.as_str()));
            }
        }
        if sets.len() == 1 {
            return Ok(());
        }
        update.text = format!("SET {}", sets.join(", "));
        let mut when = Expr::new(condition);
        when.values = values;
        let table = self.table();
        // The membership as read: not one removed and re-created meanwhile (another address,
        // another slot) nor one changed since.
        let mut items =
            vec![super::tx::update(table, keys::org(org), keys::member(&before.user_id), update, when)];
        items.extend(super::member_index::index_writes(table, org, Some(before), Some(after)));
        match self.transact("refresh_identity", items).await {
            Ok(()) => Ok(()),
            // Removed or changed meanwhile: the member's next read refreshes it.
            Err(TransactError::Cancelled(_)) => Ok(()),
            Err(TransactError::Failed(e)) => Err(e),
        }
    }

    /// Both memberships in one round trip (the caller's and a target's).
    pub async fn membership_pair(
        &self,
        org: &OrgId,
        first: &UserId,
        second: &UserId,
    ) -> Result<(Option<Member>, Option<Member>), Error> {
        let mut keys = vec![(keys::org(org), keys::member(first))];
        if second != first {
            keys.push((keys::org(org), keys::member(second)));
        }
        let mut found: Vec<Member> = self
            .get_in_org("get_memberships", org, keys)
            .await?
            .into_iter()
            .map(decode)
            .collect::<Result<_, _>>()?;
        let take = |found: &mut Vec<Member>, user: &UserId| {
            found.iter().position(|m| &m.user_id == user).map(|i| found.swap_remove(i))
        };
        let first_member = take(&mut found, first);
        let second_member = if second == first { first_member.clone() } else { take(&mut found, second) };
        Ok((first_member, second_member))
    }
}

impl Store {
    /// The memberships of `users` that exist, by user id.
    pub async fn memberships(
        &self,
        org: &OrgId,
        users: &[UserId],
    ) -> Result<std::collections::HashMap<String, Member>, Error> {
        let keys = users.iter().map(|u| (keys::org(org), keys::member(u))).collect();
        let mut found = std::collections::HashMap::with_capacity(users.len());
        for item in self.get_in_org("get_memberships", org, keys).await? {
            let member: Member = decode(item)?;
            found.insert(member.user_id.to_string(), member);
        }
        Ok(found)
    }
}
