//! The purge run: removes the items of deleted organizations, oldest deletion first, while
//! time is left. Run on a schedule (the `purge` function, every minute) and by the local
//! gateway; a run that stops midway leaves the rest to the next.

use crate::App;
use crate::error::Error;
use crate::store::purge::{PURGE_GRACE, Purged};

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PurgeReport {
    /// Organizations, workspaces and groups whose items are all gone.
    pub orgs_done: usize,
    pub items_deleted: usize,
}

/// Purges every organization deleted at least [`PURGE_GRACE`] ago, while `time_left()`.
pub async fn run(app: &App, time_left: impl Fn() -> bool) -> Result<PurgeReport, Error> {
    let now = app.now();
    let grace = i64::try_from(PURGE_GRACE.as_millis()).unwrap_or(i64::MAX);
    let mut report = PurgeReport::default();
    for pending in app.store.pending_purges().await? {
        if pending.deleted_at.plus_millis(grace) > now || !time_left() {
            break;
        }
        let progress = match &pending.what {
            Purged::Org => app.store.purge_org(&pending.org, &time_left).await?,
            Purged::Workspace(ws) => app.store.purge_workspace(&pending.org, ws, &time_left).await?,
            Purged::Group(group) => app.store.purge_group(&pending.org, group, &time_left).await?,
            Purged::RemovedMember { user, generation, groups } => {
                app.store.purge_removed_member(&pending.org, user, generation, groups, &time_left).await?
            }
        };
        report.items_deleted += progress.deleted;
        if progress.done {
            report.orgs_done += 1;
            tracing::info!(org = %pending.org, what = ?pending.what, "purged what was deleted");
        }
    }
    Ok(report)
}

/// The scheduled function's run: stops starting pages 10 s before `deadline`. Invoked by
/// the operator with `{"backfill": {}}` (then `{"backfill": {"next": ...}}` with the `next`
/// it answered, until it answers none), it runs the upgrade's backfill instead.
pub async fn scheduled(
    app: &App,
    deadline: std::time::SystemTime,
    payload: serde_json::Value,
) -> Result<serde_json::Value, Error> {
    let stop_at = deadline - std::time::Duration::from_secs(10);
    let time_left = || std::time::SystemTime::now() < stop_at;
    if let Some(backfill) = payload.get("backfill") {
        return backfill_run(app, backfill.get("next"), time_left).await;
    }
    let report = run(app, time_left).await?;
    Ok(serde_json::json!({ "orgsDone": report.orgs_done, "itemsDeleted": report.items_deleted }))
}

/// The upgrade's backfill (`store::backfill`) from `next` (as a previous run answered it),
/// a page at a time while `time_left()`: how many memberships were indexed and events given
/// index keys, and where to go on (`next: null` once the table is done).
pub async fn backfill_run(
    app: &App,
    next: Option<&serde_json::Value>,
    time_left: impl Fn() -> bool,
) -> Result<serde_json::Value, Error> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let key_part = |name: &str| next.and_then(|n| n.get(name)).and_then(|v| v.as_str()).map(str::to_owned);
    let mut start = match (key_part("PK"), key_part("SK")) {
        (Some(pk), Some(sk)) => Some(crate::store::start_key(pk, sk)),
        (None, None) if next.is_none_or(serde_json::Value::is_null) => None,
        _ => return Err(Error::invalid_request("backfill.next is {\"PK\", \"SK\"} as answered")),
    };
    let (mut memberships, mut events) = (0, 0);
    loop {
        let page = app.store.backfill_page(start).await?;
        memberships += page.memberships;
        events += page.events;
        start = page.next;
        if start.is_none() || !time_left() {
            break;
        }
    }
    let text = |name: &str| match start.as_ref().and_then(|k| k.get(name)) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    };
    let next = start.as_ref().map(|_| serde_json::json!({ "PK": text("PK"), "SK": text("SK") }));
    tracing::info!(memberships, events, done = next.is_none(), "backfill ran");
    Ok(serde_json::json!({ "memberships": memberships, "events": events, "next": next }))
}
