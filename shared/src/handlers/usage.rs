//! Usage per member (API.md "Usage per member"): services report what members used
//! (`POST /orgs/{orgId}/usage`, scope `roster/usage`), admins and owners read the totals
//! (`GET /orgs/{orgId}/usage`).

use std::collections::{BTreeMap, HashSet};

use futures::{StreamExt, TryStreamExt};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::{Acting, acting_member, on_behalf_of, org_id, serve_any};
use crate::App;
use crate::domain::usage::{self, Day, GroupBy, Metric, Quantity, RecordId};
use crate::domain::{Principal, Timestamp, UserId, access};
use crate::error::Error;
use crate::http::request::{json_object_from, query_param};
use crate::http::response::ok;
use crate::http::routes::scopes;
use crate::store::usage::{MAX_TRANSACTION_ITEMS, Recorded, UsageRecord};

/// Records a request may carry.
pub const MAX_RECORDS: usize = 100;
/// Members whose records are written at once (a transaction each).
const CONCURRENCY: usize = 16;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    serve_any(app, req, |app, principal, route, req| async move {
        match route.as_str() {
            "POST /orgs/{orgId}/usage" => report(app, principal, &req).await,
            "GET /orgs/{orgId}/usage" => {
                let who = Acting::of(principal)?;
                // A read writes no audit event: the header is checked, and records nothing.
                on_behalf_of(&who, &req)?;
                totals(app, &who, &req).await
            }
            _ => Err(Error::NotFound),
        }
    })
    .await
}

/// A record's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Recorded,
    Duplicate,
    NotMember,
    Invalid,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Duplicate => "duplicate",
            Self::NotMember => "not_member",
            Self::Invalid => "invalid",
        }
    }
}

#[derive(Deserialize)]
struct ReportBody<'a> {
    #[serde(borrow)]
    records: Vec<&'a RawValue>,
}

/// A record's fields as their own JSON text: a number is never read through a float, in any
/// field (one no float holds, `1e400`, is that record's `invalid`, not the batch's `400`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRecord<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    user_id: Option<&'a RawValue>,
    #[serde(borrow)]
    metric: Option<&'a RawValue>,
    #[serde(borrow)]
    quantity: Option<&'a RawValue>,
    #[serde(borrow)]
    at: Option<&'a RawValue>,
}

/// A field's string (its escapes read), if it is one.
fn text(field: Option<&RawValue>) -> Option<String> {
    field.and_then(|raw| serde_json::from_str(raw.get()).ok())
}

/// The body's records: their ids, each with the record when every value is valid. The
/// batch itself (not JSON, no `records`, 0 or more than 100, a record that is no object or
/// has no id) is `400` and changes nothing; a record's bad value is its own `invalid`.
fn read_records(req: &Request, now: Timestamp) -> Result<Vec<(RecordId, Option<UsageRecord>)>, Error> {
    let bytes: &[u8] = match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    let content_type =
        req.headers().get(lambda_http::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    // Size, media type, well-formed JSON, an object: as every body, its numbers kept as text.
    let body = json_object_from(content_type, bytes)?;
    let body: ReportBody = serde_json::from_str(body.get())
        .map_err(|_| Error::invalid_request("records: an array of records"))?;
    if body.records.is_empty() || body.records.len() > MAX_RECORDS {
        return Err(Error::invalid_request(format!("records: 1 to {MAX_RECORDS} records")));
    }
    body.records
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let not_object = || Error::invalid_request(format!("records[{i}]: an object"));
            // Serde would read a record from an array of its fields in order too.
            if !raw.get().starts_with('{') {
                return Err(not_object());
            }
            let record: RawRecord = serde_json::from_str(raw.get()).map_err(|_| not_object())?;
            let id = text(record.id).as_deref().and_then(RecordId::parse).ok_or_else(|| {
                Error::invalid_request(format!(
                    "records[{i}].id: 1 to {} characters, none of them control characters",
                    RecordId::MAX_LEN
                ))
            })?;
            let checked = check(&id, &record, now);
            Ok((id, checked))
        })
        .collect()
}

/// The record when each of its values is valid and `at` lies in the window.
fn check(id: &RecordId, record: &RawRecord, now: Timestamp) -> Option<UsageRecord> {
    let user = UserId::person(&text(record.user_id)?)?;
    let metric = Metric::parse(&text(record.metric)?)?;
    // A number, or the same digits in a string (for clients whose JSON reads numbers as floats).
    let quantity = match text(record.quantity) {
        Some(text) => Quantity::parse(&text),
        None => Quantity::parse(record.quantity?.get()),
    }
    .ok()?;
    let at = Timestamp::parse(&text(record.at)?)?;
    usage::in_window(at, now).then(|| UsageRecord { id: id.clone(), user, metric, quantity, at })
}

/// `POST /orgs/{orgId}/usage`: services holding `roster/usage` only. One read (the
/// organization and the memberships of the batch's users), then one transaction per member
/// ([`crate::store::Store::record_usage`]; more for a member whose records and counters pass
/// a transaction's 100 items, one after another), members side by side. Records are decided
/// in request order: invalid, then not a member, then an id an earlier record of the request
/// carries (duplicate), then the store's verdict.
async fn report(app: &App, principal: Principal, req: &Request) -> Result<Response<Body>, Error> {
    principal.service_with(scopes::USAGE)?;
    let org = org_id(req)?;
    let now = app.now();
    let records = read_records(req, now)?;
    let mut users: Vec<UserId> =
        records.iter().filter_map(|(_, r)| r.as_ref().map(|r| r.user.clone())).collect();
    users.sort();
    users.dedup();
    let members = app.store.org_members_of(&org, &users).await?.ok_or(Error::NotFound)?;
    let mut statuses: Vec<Status> = vec![Status::Invalid; records.len()];
    let mut seen: HashSet<&RecordId> = HashSet::new();
    let mut by_user: BTreeMap<UserId, Vec<usize>> = BTreeMap::new();
    for (i, (id, record)) in records.iter().enumerate() {
        statuses[i] = match record {
            None => Status::Invalid,
            Some(r) if !members.contains(r.user.as_str()) => Status::NotMember,
            Some(_) if !seen.insert(id) => Status::Duplicate,
            Some(r) => {
                by_user.entry(r.user.clone()).or_default().push(i);
                continue;
            }
        };
    }
    let (records, org) = (&records, &org);
    let decided: Vec<Vec<(usize, Recorded)>> = futures::stream::iter(by_user)
        .map(|(user, indexes)| async move {
            let mut out = Vec::with_capacity(indexes.len());
            for chunk in chunks(records, &indexes) {
                let batch: Vec<&UsageRecord> = chunk.iter().filter_map(|&i| records[i].1.as_ref()).collect();
                let outcome = app.store.record_usage(org, &user, &batch, now).await?;
                out.extend(chunk.into_iter().zip(outcome));
            }
            Ok::<_, Error>(out)
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    for (i, recorded) in decided.into_iter().flatten() {
        statuses[i] = match recorded {
            Recorded::Recorded => Status::Recorded,
            Recorded::Duplicate => Status::Duplicate,
            Recorded::NotMember => Status::NotMember,
        };
    }
    let results: Vec<Value> = records
        .iter()
        .zip(statuses)
        .map(|((id, _), status)| json!({ "id": id.as_str(), "status": status.as_str() }))
        .collect();
    ok(&json!({ "results": results }))
}

/// One member's records in transactions: each holds its records' id items, the membership
/// check and two updates per distinct counter, 100 items at most.
fn chunks(records: &[(RecordId, Option<UsageRecord>)], indexes: &[usize]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut counters: HashSet<(&Metric, Day)> = HashSet::new();
    let mut current: Vec<usize> = Vec::new();
    for &i in indexes {
        let Some(r) = &records[i].1 else { continue };
        let key = (&r.metric, Day::of(r.at));
        // Its id, the membership check, and two updates per counter (by day, by member).
        let more = usize::from(!counters.contains(&key));
        if current.len() + 1 + 1 + 2 * (counters.len() + more) > MAX_TRANSACTION_ITEMS {
            out.push(std::mem::take(&mut current));
            counters.clear();
        }
        counters.insert(key);
        current.push(i);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// What a read of totals asks.
struct TotalsQuery {
    metric: Metric,
    /// One member's totals only (their counters under them: a few items).
    user: Option<UserId>,
    from: Day,
    to: Day,
    group_by: GroupBy,
}

fn totals_query(req: &Request, now: Timestamp) -> Result<TotalsQuery, Error> {
    let metric = query_param(req, "metric")
        .as_deref()
        .and_then(Metric::parse)
        .ok_or_else(|| Error::invalid_request("metric: required, [a-z0-9_.-]{1,64}"))?;
    let day = |name: &str| {
        query_param(req, name)
            .map(|raw| {
                Day::parse(&raw).ok_or_else(|| Error::invalid_request(format!("{name}: a day, YYYY-MM-DD")))
            })
            .transpose()
    };
    let to = day("to")?.unwrap_or_else(|| Day::of(now));
    let from = day("from")?.unwrap_or_else(|| to.plus_days(1 - usage::DEFAULT_DAYS));
    let span = from.span_to(to);
    if span < 1 {
        return Err(Error::invalid_request("from: on or before to"));
    }
    if span > usage::MAX_DAYS {
        return Err(Error::invalid_request(format!("from..to: at most {} days", usage::MAX_DAYS)));
    }
    let group_by = match query_param(req, "groupBy") {
        Some(raw) => GroupBy::parse(&raw).ok_or_else(|| Error::invalid_request("groupBy: member or day"))?,
        None => GroupBy::Member,
    };
    let user = query_param(req, "userId")
        .map(|raw| UserId::parse(&raw).ok_or_else(|| Error::invalid_request("userId: a user id")))
        .transpose()?;
    Ok(TotalsQuery { metric, user, from, to, group_by })
}

/// `GET /orgs/{orgId}/usage`: admins and owners (and services with `roster/admin`). The
/// metric's counters over the days asked (both counted, 92 at most), summed by member or by
/// day; with `userId`, that member's only (their own copy of the counters: one query of at
/// most 92 items). Totals are exact decimals in strings.
async fn totals(app: &App, who: &Acting, req: &Request) -> Result<Response<Body>, Error> {
    let org = org_id(req)?;
    let me = acting_member(app, who, &org).await?;
    access::require_admin(&me)?;
    // After authorization: a non-member learns nothing from a bad query (404).
    let query = totals_query(req, app.now())?;
    let counters = match &query.user {
        Some(user) => {
            app.store.member_usage_counters(&org, &query.metric, user, query.from, query.to).await?
        }
        None => app.store.usage_counters(&org, &query.metric, query.from, query.to).await?,
    };
    let overflow = || {
        tracing::error!("a usage total is out of range");
        Error::Internal
    };
    let totals: Vec<Value> = match query.group_by {
        GroupBy::Member => {
            let mut sums: BTreeMap<UserId, Quantity> = BTreeMap::new();
            for c in counters {
                let sum = sums.entry(c.user).or_default();
                *sum = sum.checked_add(c.total).ok_or_else(overflow)?;
            }
            sums.into_iter()
                .map(|(user, total)| json!({ "userId": user.as_str(), "total": total.to_string() }))
                .collect()
        }
        GroupBy::Day => {
            let mut sums: BTreeMap<Day, Quantity> = BTreeMap::new();
            for c in counters {
                let sum = sums.entry(c.day).or_default();
                *sum = sum.checked_add(c.total).ok_or_else(overflow)?;
            }
            sums.into_iter()
                .map(|(day, total)| json!({ "day": day.to_string(), "total": total.to_string() }))
                .collect()
        }
    };
    ok(&json!({
        "metric": query.metric.as_str(),
        "from": query.from.to_string(),
        "to": query.to.to_string(),
        "groupBy": match query.group_by { GroupBy::Member => "member", GroupBy::Day => "day" },
        "totals": totals,
    }))
}
