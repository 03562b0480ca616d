//! The audit trail: one item per change, written inside the change's own transaction so
//! that no change goes unrecorded and no record describes a change that did not happen.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::{Item, Page, Store, classify, decode, encode, keys, s, string_attr};
use crate::domain::{AuditAction, AuditEvent, EventId, OrgId, Timestamp, UserId};
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
    let item = audit_item(org, written.as_ref().unwrap_or(event));
    let put = Put::builder().table_name(table).set_item(Some(item)).build().expect("table and item are set");
    TransactWriteItem::builder().put(put).build()
}

/// `event`'s item, as its change's transaction writes it (for seeding benches and tests too).
pub fn audit_item(org: &OrgId, event: &AuditEvent) -> Item {
    let sk = keys::audit(&event.id);
    let mut extra = vec![
        (keys::PK, s(keys::org(org))),
        (keys::SK, s(sk.as_str())),
        ("type", s("audit")),
        // Its places on the filter indexes (see `keys`): DynamoDB keeps them with the item.
        (keys::GSI1PK, s(keys::audit_by_actor(org, event.actor.as_str()))),
        (keys::GSI1SK, s(sk.as_str())),
        (keys::GSI3PK, s(keys::audit_by_action(org, event.action.as_str()))),
    ];
    if let Some(target) = &event.target {
        extra.push((keys::GSI2PK, s(keys::audit_by_target(org, target))));
    }
    encode(event, &extra)
}

/// An audit item as the table's stream carries it.
pub fn decode_audit(item: super::Item) -> Result<AuditEvent, Error> {
    decode(item)
}

impl Store {
    pub(crate) fn audit_put(&self, org: &OrgId, event: &AuditEvent) -> TransactWriteItem {
        put_event(self.table(), org, event)
    }

    /// One page of the events `filter` selects, newest first. Reads one partition of one
    /// index (or, for an action prefix, one per action it names, merged): see `Plan`.
    pub async fn audit_events(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<AuditEvent>, Error> {
        let plan = Plan::of(org, filter, limit);
        let (low, high) = filter.key_range();
        if let Some(cursor) = &after {
            // Signed and bound to this filter, so always inside; checked all the same.
            let inside = cursor.starts_with(keys::AUDIT_PREFIX)
                && cursor.as_str() >= low.as_str()
                && cursor.as_str() <= high.as_str();
            if !inside {
                return Err(Error::InvalidCursor);
            }
        }
        let reads =
            plan.runs.iter().map(|run| self.audit_run(org, run, &plan, (&low, &high), after.as_deref()));
        let runs = futures::future::try_join_all(reads).await?;
        // Every run has been read down to its last evaluated key (or to its end): the highest
        // of those is how far every run is complete. Nothing below it is shown yet.
        let frontier = runs.iter().filter_map(|(_, more)| more.clone()).max();
        let mut found: Vec<(String, AuditEvent)> = runs
            .into_iter()
            .flat_map(|(items, _)| items)
            .filter(|(sk, _)| frontier.as_ref().is_none_or(|f| sk >= f))
            .collect();
        found.sort_by(|a, b| b.0.cmp(&a.0));
        found.dedup_by(|a, b| a.0 == b.0);
        let last_key = if found.len() > limit {
            found.truncate(limit);
            found.last().map(|(sk, _)| sk.clone())
        } else {
            frontier
        };
        Ok(Page { items: found.into_iter().map(|(_, event)| event).collect(), last_key })
    }

    /// One run of `plan`: its events (with their `SK`) and, when it has more, the `SK` of the
    /// last item it evaluated.
    async fn audit_run(
        &self,
        org: &OrgId,
        run: &Run,
        plan: &Plan,
        (low, high): (&str, &str),
        after: Option<&str>,
    ) -> Result<(Vec<(String, AuditEvent)>, Option<String>), Error> {
        let mut query = self
            .client()
            .query()
            .table_name(self.table())
            .set_index_name(run.index.map(str::to_owned))
            .key_condition_expression("#h = :h AND #r BETWEEN :low AND :high")
            .expression_attribute_names("#h", run.hash_attr)
            .expression_attribute_names("#r", run.range_attr)
            .expression_attribute_values(":h", s(run.hash.as_str()))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high))
            .scan_index_forward(false)
            .limit(i32::try_from(plan.read).unwrap_or(i32::MAX));
        if let Some(cursor) = after {
            let mut start: Item =
                HashMap::from([(keys::PK.to_owned(), s(keys::org(org))), (keys::SK.to_owned(), s(cursor))]);
            if run.index.is_some() {
                start.insert(run.hash_attr.to_owned(), s(run.hash.as_str()));
                start.insert(run.range_attr.to_owned(), s(cursor));
            }
            query = query.set_exclusive_start_key(Some(start));
        }
        for (i, (attribute, condition)) in plan.residual.iter().enumerate() {
            let (name, value) = (format!("#f{i}"), format!(":f{i}"));
            query = query
                .expression_attribute_names(&name, *attribute)
                .expression_attribute_values(&value, AttributeValue::S(condition.value().to_owned()));
        }
        if !plan.residual.is_empty() {
            let expression: Vec<String> = plan
                .residual
                .iter()
                .enumerate()
                .map(|(i, (_, condition))| match condition {
                    Condition::Equals(_) => format!("#f{i} = :f{i}"),
                    Condition::StartsWith(_) => format!("begins_with(#f{i}, :f{i})"),
                })
                .collect();
            query = query.filter_expression(expression.join(" AND "));
        }
        let out = query.send().await.map_err(|e| classify("list_audit", e))?;
        let more = out.last_evaluated_key.as_ref().and_then(|k| string_attr(k, keys::SK)).map(str::to_owned);
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let sk = string_attr(&item, keys::SK).unwrap_or_default().to_owned();
                Ok((sk, decode::<AuditEvent>(item)?))
            })
            .collect::<Result<_, Error>>()?;
        Ok((items, more))
    }
}

/// The most items a request reads from one partition when some of its filters are not the
/// partition's own (checked on each item read): the page may then be short, with a cursor.
pub const FILTERED_READ: usize = 200;

/// What `GET /orgs/{orgId}/audit` narrows the trail to (API.md "Search and filters").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub target: Option<String>,
    /// An action (`member.suspended`), or a prefix ending in `.` (`member.`).
    pub action: Option<String>,
    /// Events at or after (in whole milliseconds since the epoch, rounded up).
    pub from: Option<i64>,
    /// Events before (rounded up likewise: an event is at a whole millisecond).
    pub to: Option<i64>,
}

/// The longest actor or target taken, in characters.
pub const MAX_ID_CHARS: usize = 255;
/// The longest action or action prefix taken.
pub const MAX_ACTION_CHARS: usize = 64;

impl AuditFilter {
    /// The filter a request's query parameters (`param`) ask for, or what is wrong with them.
    pub fn parse(param: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let id = |name: &str| -> Result<Option<String>, String> {
            let Some(value) = param(name) else { return Ok(None) };
            let fine = !value.is_empty()
                && value.chars().count() <= MAX_ID_CHARS
                && !value.chars().any(char::is_control);
            if !fine {
                return Err(format!(
                    "{name} must be 1 to {MAX_ID_CHARS} characters, none of them a control character"
                ));
            }
            Ok(Some(value))
        };
        let time = |name: &str| -> Result<Option<i64>, String> {
            param(name)
                .map(|raw| {
                    Timestamp::parse(&raw)
                        .map(ceil_millis)
                        .ok_or_else(|| format!("{name} must be an RFC 3339 time, e.g. 2026-12-05T10:00:00Z"))
                })
                .transpose()
        };
        let action = param("action");
        if let Some(action) = &action
            && !is_action_shape(action)
        {
            return Err(format!(
                "action must be an action (member.suspended) or a prefix ending in '.' (member.): \
                 lowercase letters and '_' between dots, at most {MAX_ACTION_CHARS} characters"
            ));
        }
        let filter =
            Self { actor: id("actor")?, target: id("target")?, action, from: time("from")?, to: time("to")? };
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err("from must not be after to".to_owned());
        }
        Ok(filter)
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The filter as one canonical text, for binding a cursor to it ("" without one).
    pub fn canonical(&self) -> String {
        if self.is_empty() {
            return String::new();
        }
        serde_json::json!([self.actor, self.target, self.action, self.from, self.to]).to_string()
    }

    /// The `SK` range the time bounds allow, both ends inclusive (no key equals a bound).
    fn key_range(&self) -> (String, String) {
        let low = self.from.map_or_else(|| keys::AUDIT_PREFIX.to_owned(), bound);
        // `~` sorts above every character of an event id.
        let high = self.to.map_or_else(|| format!("{}~", keys::AUDIT_PREFIX), bound);
        (low, high)
    }
}

fn bound(millis: i64) -> String {
    format!("{}{}", keys::AUDIT_PREFIX, EventId::time_bound(millis))
}

/// Whole milliseconds since the epoch at or after `t`.
fn ceil_millis(t: Timestamp) -> i64 {
    let time = t.as_datetime();
    let millis = time.timestamp_millis();
    if time.timestamp_subsec_nanos() % 1_000_000 == 0 { millis } else { millis + 1 }
}

/// `^[a-z_]+(\.[a-z_]+)*\.?$`, at most `MAX_ACTION_CHARS`.
fn is_action_shape(action: &str) -> bool {
    let body = action.strip_suffix('.').unwrap_or(action);
    action.len() <= MAX_ACTION_CHARS
        && body
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
}

/// A condition checked on each item a run reads (the filters its partition does not answer).
#[derive(Debug)]
enum Condition {
    Equals(String),
    StartsWith(String),
}

impl Condition {
    fn value(&self) -> &str {
        match self {
            Self::Equals(v) | Self::StartsWith(v) => v,
        }
    }
}

/// One partition a request reads.
#[derive(Debug)]
struct Run {
    index: Option<&'static str>,
    hash_attr: &'static str,
    hash: String,
    range_attr: &'static str,
}

/// How a filter is read: the partition of its most selective filter (target, else actor,
/// else action; an action prefix is one partition per action it names, merged by id), the
/// other filters checked on each item read, and how many items each partition may read.
#[derive(Debug)]
struct Plan {
    runs: Vec<Run>,
    residual: Vec<(&'static str, Condition)>,
    read: usize,
}

impl Plan {
    fn of(org: &OrgId, filter: &AuditFilter, limit: usize) -> Self {
        let action = filter.action.as_deref().map(|a| match a.strip_suffix('.') {
            Some(_) => Condition::StartsWith(a.to_owned()),
            None => Condition::Equals(a.to_owned()),
        });
        let mut residual = Vec::new();
        let runs = if let Some(target) = &filter.target {
            residual.extend(filter.actor.clone().map(|a| ("actor", Condition::Equals(a))));
            residual.extend(action.map(|a| ("action", a)));
            vec![Run {
                index: Some(keys::GSI2),
                hash_attr: keys::GSI2PK,
                hash: keys::audit_by_target(org, target),
                range_attr: keys::SK,
            }]
        } else if let Some(actor) = &filter.actor {
            residual.extend(action.map(|a| ("action", a)));
            vec![Run {
                index: Some(keys::GSI1),
                hash_attr: keys::GSI1PK,
                hash: keys::audit_by_actor(org, actor),
                range_attr: keys::GSI1SK,
            }]
        } else if let Some(action) = action {
            let by_action = |name: &str| Run {
                index: Some(keys::GSI3),
                hash_attr: keys::GSI3PK,
                hash: keys::audit_by_action(org, name),
                range_attr: keys::SK,
            };
            match action {
                Condition::Equals(name) => vec![by_action(&name)],
                Condition::StartsWith(prefix) => AuditAction::ALL
                    .iter()
                    .map(|a| a.as_str())
                    .filter(|name| name.starts_with(prefix.as_str()))
                    .map(by_action)
                    .collect(),
            }
        } else {
            vec![Run { index: None, hash_attr: keys::PK, hash: keys::org(org), range_attr: keys::SK }]
        };
        let read = if residual.is_empty() { limit + 1 } else { FILTERED_READ.max(limit + 1) };
        Self { runs, residual, read }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<AuditFilter, String> {
        AuditFilter::parse(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn actions_are_exact_or_a_prefix_ending_in_a_dot() {
        for good in ["member.", "member.suspended", "workspace.member_added", "org", "org.x.y."] {
            assert!(parse(&[("action", good)]).is_ok(), "{good}");
        }
        for bad in
            ["", ".", "member..", "Member.", "member.*", "member .x", "a.b-c", ".member", &"a".repeat(65)]
        {
            assert!(parse(&[("action", bad)]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn times_round_up_to_the_millisecond_and_from_is_not_after_to() {
        let f = parse(&[("from", "2026-12-05T10:00:00.0001Z"), ("to", "2026-12-05T10:00:00.001Z")]).unwrap();
        assert_eq!(f.from, f.to);
        assert!(parse(&[("from", "2026-12-05T10:00:01Z"), ("to", "2026-12-05T10:00:00Z")]).is_err());
        assert!(parse(&[("from", "yesterday")]).is_err());
        assert!(parse(&[("to", "2026-12-05")]).is_err());
    }

    #[test]
    fn ids_are_bounded_and_printable() {
        assert!(parse(&[("actor", "")]).is_err());
        assert!(parse(&[("actor", &"x".repeat(256))]).is_err());
        assert!(parse(&[("target", "a\nb")]).is_err());
        assert!(parse(&[("actor", "auth0|a#b"), ("target", "service:x")]).is_ok());
    }

    #[test]
    fn canonical_text_tells_every_filter_apart() {
        let a = parse(&[("actor", "a"), ("target", "b")]).unwrap();
        let b = parse(&[("actor", "a\",\"b")]).unwrap();
        let c = parse(&[("target", "a"), ("actor", "b")]).unwrap();
        assert_ne!(a.canonical(), b.canonical());
        assert_ne!(a.canonical(), c.canonical());
        assert_eq!(AuditFilter::default().canonical(), "");
    }

    #[test]
    fn a_plan_reads_the_most_selective_partition() {
        let org = OrgId::new();
        let plan =
            Plan::of(&org, &parse(&[("actor", "a"), ("target", "t"), ("action", "member.")]).unwrap(), 10);
        assert_eq!(plan.runs.len(), 1);
        assert_eq!(plan.runs[0].index, Some(keys::GSI2));
        assert_eq!(plan.residual.len(), 2);
        assert_eq!(plan.read, FILTERED_READ);
        let plan = Plan::of(&org, &parse(&[("action", "member.")]).unwrap(), 10);
        let members = AuditAction::ALL.iter().filter(|a| a.as_str().starts_with("member.")).count();
        assert_eq!((plan.runs.len(), plan.read), (members, 11));
        assert!(Plan::of(&org, &parse(&[("action", "nothing.")]).unwrap(), 10).runs.is_empty());
        assert_eq!(Plan::of(&org, &AuditFilter::default(), 10).runs[0].index, None);
    }
}
