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

/// The scheduled function's run: stops starting pages 10 s before `deadline`.
pub async fn scheduled(app: &App, deadline: std::time::SystemTime) -> Result<serde_json::Value, Error> {
    let stop_at = deadline - std::time::Duration::from_secs(10);
    let report = run(app, || std::time::SystemTime::now() < stop_at).await?;
    Ok(serde_json::json!({ "orgsDone": report.orgs_done, "itemsDeleted": report.items_deleted }))
}
