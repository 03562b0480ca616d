//! The members' index items (API.md "Search and filters"): what lets a search, a filter and
//! an order read about as many items as they return, in an organization of any size.
//!
//! Each membership has, in its organization's partition, beside `MEMBER#<userId>`:
//!
//! | item             | SK                                                      |
//! |------------------|---------------------------------------------------------|
//! | by name          | `MS#N#<status>#<role>#<sort name>\x01<userId>`          |
//! | by joining time  | `MS#J#<status>#<role>#<joinedAt>\x01<userId>`           |
//! | one per word     | `MW#<word>\x01<sort name>\x01<userId>`                  |
//!
//! Names and user ids hold no control character, so `\x01` sorts below anything in them:
//! keys order by (name, user id) exactly. The items are thin (the user id, and on word items
//! the member's words): a page reads its index items, then the memberships themselves in one
//! BatchGetItem, strongly consistent.
//!
//! They are written in the membership's own transactions (`index_writes`: what `before`
//! had and `after` lacks is deleted, what `after` has is put), never on their own, so none
//! outlives or disagrees with its membership; the write of the membership is conditioned on
//! it being as read, which makes `before`'s items exactly those stored.
//!
//! Reads:
//! - `sort`, `role`, `status` without `q`: one query per (status, role) the filters allow
//!   (8 with none, 1 with both), each from the cursor on, `limit` items at most, merged in
//!   key order; the first `limit` are the page. Items read: at most `limit` per query, in
//!   practice about `limit` per (status, role) that has that many members.
//! - `q`: one query of the word items that start with the longest term, from the cursor on,
//!   at most `2 × limit` read; each is kept when every other term starts one of the member's
//!   words (carried on the item) and this is the member's smallest word the term starts (a
//!   member is listed once); the page stops at `limit` kept. `role`/`status` are applied to
//!   the memberships read, so a page may be short and still carry a cursor.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::ops::{delete_if, put_if};
use super::{Item, Store, keys, s, start_key, string_attr};
use crate::domain::search::{self, MemberQuery, MemberSort, Terms};
use crate::domain::{Member, OrgId, Role, Status, UserId};
use crate::error::Error;

pub const SORT_PREFIX: &str = "MS#";
pub const WORD_PREFIX: &str = "MW#";
/// Between a key's text and the user id: below every character of names and ids.
const SEP: char = '\u{1}';
const TYPE: &str = "memberIndex";
const WORDS: &str = "words";
const WORD: &str = "word";

const ROLES: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];
const STATUSES: [Status; 2] = [Status::Active, Status::Suspended];

fn sort_code(sort: MemberSort) -> &'static str {
    match sort {
        MemberSort::Name => "N",
        MemberSort::JoinedAt => "J",
    }
}

/// The key prefix of one (sort, status, role) run of sort items.
fn run_prefix(sort: MemberSort, status: Status, role: Role) -> String {
    format!("{SORT_PREFIX}{}#{}#{}#", sort_code(sort), status.as_str(), role.as_str())
}

/// The part of a sort item's key after its run prefix: what orders it and what a cursor is.
fn sort_suffix(sort: MemberSort, member: &Member) -> String {
    let value = match sort {
        MemberSort::Name => sort_name(member),
        MemberSort::JoinedAt => member.joined_at.to_string(),
    };
    format!("{value}{SEP}{}", member.user_id)
}

fn sort_name(member: &Member) -> String {
    search::sort_name(member.name.as_ref().map(|n| n.as_str()), member.email.as_ref().map(|e| e.as_str()))
}

/// A member's searchable words.
pub fn words_of(member: &Member) -> Vec<String> {
    search::member_words(member.name.as_ref().map(|n| n.as_str()), member.email.as_ref().map(|e| e.as_str()))
}

/// The part of a word item's key after `MW#`.
fn word_suffix(word: &str, member: &Member) -> String {
    format!("{word}{SEP}{}{SEP}{}", sort_name(member), member.user_id)
}

/// Every index item of `member`, by sort key.
pub fn index_items(org: &OrgId, member: &Member) -> BTreeMap<String, Item> {
    let base = |sk: String| {
        Item::from([
            (keys::PK.to_owned(), s(keys::org(org))),
            (keys::SK.to_owned(), s(sk)),
            ("type".to_owned(), s(TYPE)),
            ("userId".to_owned(), s(member.user_id.as_str())),
        ])
    };
    let mut items = BTreeMap::new();
    for sort in [MemberSort::Name, MemberSort::JoinedAt] {
        let sk = format!("{}{}", run_prefix(sort, member.status, member.role), sort_suffix(sort, member));
        items.insert(sk.clone(), base(sk));
    }
    let words = words_of(member);
    let listed = AttributeValue::L(words.iter().map(|w| s(w.as_str())).collect());
    for word in &words {
        let sk = format!("{WORD_PREFIX}{}", word_suffix(word, member));
        let mut item = base(sk.clone());
        item.insert(WORD.to_owned(), s(word.as_str()));
        item.insert(WORDS.to_owned(), listed.clone());
        items.insert(sk, item);
    }
    items
}

/// The writes that take `org`'s index from `before` to `after` (either absent: a member
/// joining or leaving). Unconditional: they ride on the membership's conditional write.
pub(crate) fn index_writes(
    table: &str,
    org: &OrgId,
    before: Option<&Member>,
    after: Option<&Member>,
) -> Vec<TransactWriteItem> {
    let old = before.map(|m| index_items(org, m)).unwrap_or_default();
    let new = after.map(|m| index_items(org, m)).unwrap_or_default();
    let mut writes = Vec::new();
    for sk in old.keys().filter(|sk| !new.contains_key(*sk)) {
        writes.push(delete_if(table, keys::org(org), sk.clone(), None, &[]));
    }
    for (sk, item) in new {
        if old.get(&sk) != Some(&item) {
            writes.push(put_if(table, item, None, &[]));
        }
    }
    writes
}

/// How many index writes a change from `before` to `after` takes (for sizing transactions).
pub(crate) fn index_write_count(org: &OrgId, before: Option<&Member>, after: Option<&Member>) -> usize {
    index_writes("", org, before, after).len()
}

/// One page of matching user ids, in order, and the cursor after it.
pub(crate) struct IdPage {
    pub users: Vec<UserId>,
    pub last_key: Option<String>,
}

impl Store {
    /// The members `query` lists, one page: index items first, then the memberships.
    pub async fn member_page(
        &self,
        org: &OrgId,
        query: &MemberQuery,
        limit: usize,
        after: Option<String>,
    ) -> Result<super::Page<Member>, Error> {
        let ids = match &query.terms {
            Some(terms) => self.search_ids(org, terms, query, limit, after).await?,
            None => self.sorted_ids(org, query, limit, after).await?,
        };
        let found = self.memberships(org, &ids.users).await?;
        let mut items = Vec::with_capacity(ids.users.len());
        for user in &ids.users {
            // Present unless removed between the two reads (then it is not listed).
            if let Some(member) = found.get(user.as_str()) {
                let role_ok = query.role.is_none_or(|r| member.role == r);
                let status_ok = query.status.is_none_or(|s| member.status == s);
                if role_ok && status_ok {
                    items.push(member.clone());
                }
            }
        }
        Ok(super::Page { items, last_key: ids.last_key })
    }

    /// Without `q`: the (status, role) runs the filters allow, merged.
    async fn sorted_ids(
        &self,
        org: &OrgId,
        query: &MemberQuery,
        limit: usize,
        after: Option<String>,
    ) -> Result<IdPage, Error> {
        let ascending = query.order.is_ascending();
        let runs: Vec<String> = STATUSES
            .iter()
            .filter(|s| query.status.is_none_or(|f| f == **s))
            .flat_map(|s| {
                ROLES
                    .iter()
                    .filter(|r| query.role.is_none_or(|f| f == **r))
                    .map(|r| run_prefix(query.sort, *s, *r))
            })
            .collect();
        if after.as_deref().is_some_and(|a| a.contains('#') && !a.contains(SEP)) {
            return Err(Error::InvalidCursor);
        }
        let reads = runs.iter().map(|prefix| {
            let start = after.as_ref().map(|a| start_key(keys::org(org), format!("{prefix}{a}")));
            let query = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(keys::org(org)))
                .expression_attribute_values(":prefix", s(prefix.as_str()))
                .set_exclusive_start_key(start)
                .scan_index_forward(ascending)
                .consistent_read(true)
                .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
            async move {
                let out = query.send().await.map_err(|e| super::classify("list_members_sorted", e))?;
                let more = out.last_evaluated_key.is_some();
                let suffixes: Vec<(String, String)> = out
                    .items
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|i| {
                        let sk = string_attr(i, keys::SK)?;
                        Some((sk[prefix.len()..].to_owned(), string_attr(i, "userId")?.to_owned()))
                    })
                    .collect();
                Ok::<_, Error>((suffixes, more))
            }
        });
        let results = futures::future::try_join_all(reads).await?;
        let mut more = false;
        let mut merged: Vec<(String, String)> = Vec::new();
        for (suffixes, run_more) in results {
            more |= run_more;
            merged.extend(suffixes);
        }
        merged.sort();
        if !ascending {
            merged.reverse();
        }
        if merged.len() > limit {
            merged.truncate(limit);
            more = true;
        }
        let last_key = if more { merged.last().map(|(suffix, _)| suffix.clone()) } else { None };
        let users = merged.into_iter().filter_map(|(_, u)| UserId::parse(&u)).collect();
        Ok(IdPage { users, last_key })
    }

    /// With `q`: the word items of the longest term, from the cursor on.
    async fn search_ids(
        &self,
        org: &OrgId,
        terms: &Terms,
        query: &MemberQuery,
        limit: usize,
        after: Option<String>,
    ) -> Result<IdPage, Error> {
        let driver = terms.driver();
        if after.as_deref().is_some_and(|a| !a.starts_with(driver)) {
            return Err(Error::InvalidCursor);
        }
        let prefix = format!("{WORD_PREFIX}{driver}");
        let read = (2 * limit).clamp(1, 200);
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::org(org)))
            .expression_attribute_values(":prefix", s(prefix.as_str()))
            .set_exclusive_start_key(after.map(|a| start_key(keys::org(org), format!("{WORD_PREFIX}{a}"))))
            .scan_index_forward(query.order.is_ascending())
            .consistent_read(true)
            .limit(i32::try_from(read).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| super::classify("search_members", e))?;
        let mut more = out.last_evaluated_key.is_some();
        let items = out.items.unwrap_or_default();
        let mut users = Vec::new();
        let mut last_read: Option<&str> = None;
        for (i, item) in items.iter().enumerate() {
            if users.len() == limit {
                more = true;
                break;
            }
            let Some(sk) = string_attr(item, keys::SK) else { continue };
            last_read = Some(&sk[WORD_PREFIX.len()..]);
            let words: Vec<String> = match item.get(WORDS) {
                Some(AttributeValue::L(list)) => list.iter().filter_map(|w| w.as_s().ok().cloned()).collect(),
                _ => continue,
            };
            let word = string_attr(item, WORD);
            if terms.matches(&words)
                && terms.listed_under(&words) == word
                && let Some(user) = string_attr(item, "userId").and_then(UserId::parse)
            {
                users.push(user);
            }
            if i + 1 == items.len() {
                break;
            }
        }
        let last_key = if more { last_read.map(str::to_owned) } else { None };
        Ok(IdPage { users, last_key })
    }
}

/// What differs between `org`'s index items and its memberships, given every item of its
/// partition: each index item no membership calls for ("stray ..."), each one missing or
/// different ("missing ..."). Empty when they agree: the invariant the tests check after
/// races, and what a repair would act on.
pub fn index_drift(org: &OrgId, partition: &[Item]) -> Result<Vec<String>, Error> {
    let mut wanted = BTreeMap::new();
    let mut stored = BTreeMap::new();
    for item in partition {
        let Some(sk) = string_attr(item, keys::SK) else { continue };
        if sk.starts_with(keys::MEMBER_PREFIX) {
            let member: Member = super::decode(item.clone())?;
            wanted.extend(index_items(org, &member));
        } else if sk.starts_with(SORT_PREFIX) || sk.starts_with(WORD_PREFIX) {
            stored.insert(sk.to_owned(), item.clone());
        }
    }
    let mut drift: Vec<String> =
        stored.keys().filter(|sk| !wanted.contains_key(*sk)).map(|sk| format!("stray {sk:?}")).collect();
    for (sk, item) in &wanted {
        if stored.get(sk) != Some(item) {
            drift.push(format!("missing {sk:?}"));
        }
    }
    Ok(drift)
}
