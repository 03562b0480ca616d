//! The members' index items (API.md "Search and filters"): what lets a search, a filter and
//! an order read about as many items as they return, in an organization of any size.
//!
//! Each membership has, in its organization's partition, beside `MEMBER#<userId>`:
//!
//! | item                     | SK                                                  | also   |
//! |--------------------------|-----------------------------------------------------|--------|
//! | everyone, by name        | `MS#N#*#<sort name>\x01<userId>`                    |        |
//! | by role, by name         | `MS#N#R#<role>#<sort name>\x01<userId>`             | status |
//! | by status, by name       | `MS#N#S#<status>#<sort name>\x01<userId>`           | role   |
//! | the same three by joining time | `MS#J#...#<joinedAt>\x01<userId>`             |        |
//! | one per word             | `MW#<word>\x01<sort name>\x01<userId>`              | words  |
//!
//! Names and user ids hold no control character, so `\x01` sorts below anything in them:
//! keys order by (name, user id) exactly. The items are thin (the user id, and what a filter
//! of the other kind needs): a page reads its index items, then the memberships themselves
//! in one BatchGetItem, strongly consistent.
//!
//! They are written in the membership's own transactions (`index_writes`: what `before`
//! had and `after` lacks is deleted, what `after` has and `before` had otherwise is put),
//! never on their own, so none outlives or disagrees with its membership; the write of the
//! membership is conditioned on it being as read, which makes `before`'s items exactly
//! those stored. A role change moves two items and rewrites two, likewise a status change;
//! a rename moves them all.
//!
//! Reads (one query each, then one BatchGetItem of the page's memberships):
//! - no `q`: the run of the filter (everyone, a role, a status), from the cursor on,
//!   `limit + 1` items: as many as the page holds, whatever the organization's size. Role
//!   and status together: the run of the status when it is `suspended` (rare), else of the
//!   role, the other filtered on the item; at most `limit + 1` items read, so such a page
//!   may be short and still carry a cursor.
//! - `q`: the word items that start with the longest term, from the cursor on, at most
//!   `2 × limit` read; each is kept when every other term starts one of the member's words
//!   (carried on the item) and this is the member's smallest word the term starts (a member
//!   is listed once); the page stops at `limit` kept. `role`/`status` are applied to the
//!   memberships read, so a page may be short and still carry a cursor.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::ops::{delete_if, put_if};
use super::{Item, Store, keys, past, s, string_attr};
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

fn sort_code(sort: MemberSort) -> &'static str {
    match sort {
        MemberSort::Name => "N",
        MemberSort::JoinedAt => "J",
    }
}

/// The runs of sort items: everyone, one role, one status.
#[derive(Debug, Clone, Copy)]
enum Run {
    Everyone,
    Role(Role),
    Status(Status),
}

/// The key prefix of one run under one order.
fn run_prefix(sort: MemberSort, run: Run) -> String {
    let code = sort_code(sort);
    match run {
        Run::Everyone => format!("{SORT_PREFIX}{code}#*#"),
        Run::Role(role) => format!("{SORT_PREFIX}{code}#R#{}#", role.as_str()),
        Run::Status(status) => format!("{SORT_PREFIX}{code}#S#{}#", status.as_str()),
    }
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
        let suffix = sort_suffix(sort, member);
        let runs = [
            (Run::Everyone, None),
            (Run::Role(member.role), Some(("status", member.status.as_str()))),
            (Run::Status(member.status), Some(("role", member.role.as_str()))),
        ];
        for (run, other) in runs {
            let sk = format!("{}{suffix}", run_prefix(sort, run));
            let mut item = base(sk.clone());
            if let Some((name, value)) = other {
                item.insert(name.to_owned(), s(value));
            }
            items.insert(sk, item);
        }
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
        // A Query is not isolated from a transaction running meanwhile: it may read a renamed
        // member's old item and new one both. Each member is listed once.
        let mut users = ids.users;
        let mut seen = std::collections::HashSet::new();
        users.retain(|u| seen.insert(u.clone()));
        let found = self.memberships(org, &users).await?;
        let mut items = Vec::with_capacity(users.len());
        for user in &users {
            // Present unless removed between the two reads (then it is not listed).
            if let Some(member) = found.get(user.as_str()).filter(|m| query.admits(m.role, m.status)) {
                items.push(member.clone());
            }
        }
        Ok(super::Page { items, last_key: ids.last_key })
    }

    /// A strongly consistent query of `read` index items of the key range a page reads: the
    /// prefix's, from the cursor's key on (that key included: the caller drops its item). A
    /// range rather than `ExclusiveStartKey`: the same items in DynamoDB, while DynamoDB Local
    /// walks from the range's start to a start key (a late page of 100,000 members was 4× a
    /// first one; BENCHMARKS.md "Member search").
    fn range_query(
        &self,
        org: &OrgId,
        prefix: &str,
        cursor: Option<&str>,
        ascending: bool,
        read: usize,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let (low, high) = match (cursor, ascending) {
            (None, _) => (prefix.to_owned(), past(prefix)),
            (Some(key), true) => (key.to_owned(), past(prefix)),
            (Some(key), false) => (prefix.to_owned(), key.to_owned()),
        };
        self.client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND SK BETWEEN :low AND :high")
            .expression_attribute_values(":pk", s(keys::org(org)))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high))
            .scan_index_forward(ascending)
            .consistent_read(true)
            .limit(i32::try_from(read).unwrap_or(i32::MAX))
    }

    /// Without `q`: one run, from the cursor on.
    async fn sorted_ids(
        &self,
        org: &OrgId,
        query: &MemberQuery,
        limit: usize,
        after: Option<String>,
    ) -> Result<IdPage, Error> {
        if after.as_deref().is_some_and(|a| !a.contains(SEP)) {
            return Err(Error::InvalidCursor);
        }
        let (run, filter) = match (query.role, query.status) {
            (None, None) => (Run::Everyone, None),
            (Some(role), None) => (Run::Role(role), None),
            (None, Some(status)) => (Run::Status(status), None),
            // Suspended members are few: their run, the role filtered on each item.
            (Some(role), Some(status @ Status::Suspended)) => {
                (Run::Status(status), Some(("role", role.as_str())))
            }
            (Some(role), Some(status)) => (Run::Role(role), Some(("status", status.as_str()))),
        };
        let prefix = run_prefix(query.sort, run);
        let cursor = after.map(|a| format!("{prefix}{a}"));
        // One more than the page to know whether more follow, one more for the cursor's own
        // item (the range includes it).
        let mut request =
            self.range_query(org, &prefix, cursor.as_deref(), query.order.is_ascending(), limit + 2);
        if let Some((name, value)) = filter {
            request = request
                .filter_expression("#other = :other")
                .expression_attribute_names("#other", name)
                .expression_attribute_values(":other", s(value));
        }
        let out = request.send().await.map_err(|e| super::classify("list_members", e))?;
        let mut items = out.items.unwrap_or_default();
        items.retain(|i| string_attr(i, keys::SK) != cursor.as_deref());
        let suffix = |item: &Item| string_attr(item, keys::SK).map(|sk| sk[prefix.len()..].to_owned());
        let last_key = if items.len() > limit {
            items.truncate(limit);
            items.last().and_then(suffix)
        } else {
            // Read to the limit with some filtered out: go on after the last item read.
            out.last_evaluated_key.as_ref().and_then(suffix)
        };
        let users = items.iter().filter_map(|i| string_attr(i, "userId").and_then(UserId::parse)).collect();
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
        let read = (2 * limit).clamp(1, 200) + 1;
        let cursor = after.map(|a| format!("{WORD_PREFIX}{a}"));
        let out = self
            .range_query(org, &prefix, cursor.as_deref(), query.order.is_ascending(), read)
            .send()
            .await
            .map_err(|e| super::classify("search_members", e))?;
        let mut more = out.last_evaluated_key.is_some();
        let mut items = out.items.unwrap_or_default();
        items.retain(|i| string_attr(i, keys::SK) != cursor.as_deref());
        let mut users = Vec::new();
        let mut last_read: Option<&str> = None;
        for item in &items {
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

#[cfg(test)]
mod tests {
    use crate::store::past;

    #[test]
    fn past_is_above_every_key_of_the_prefix_and_below_the_next_ones() {
        for prefix in ["MS#N#*#", "MW#ann", "MW#é", "MW#a\u{D7FF}"] {
            let above = past(prefix);
            for key in
                [prefix.to_string(), format!("{prefix}\u{1}x"), format!("{prefix}\u{10FFFF}\u{10FFFF}")]
            {
                assert!(key.as_str() < above.as_str(), "{key:?} < {above:?}");
            }
            assert!(!above.starts_with(prefix));
        }
        assert_eq!(past("MW#ann"), "MW#ano");
        // U+D7FF's next character is U+E000 (surrogates are no characters).
        assert_eq!(past("a\u{D7FF}"), "a\u{E000}");
    }
}
