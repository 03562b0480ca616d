//! Deleting an organization of 10,000 members: the answer (one transaction), then the purge
//! of every item, as the scheduled function runs it.

use std::time::{Duration, Instant};

use roster::handlers::purge;

use super::ms;
use super::scale::seed_members;
use crate::harness::TestApp;

pub struct Deletion {
    pub members: usize,
    pub answer: Duration,
    pub purge: Duration,
    pub items: usize,
}

pub async fn run(app: &TestApp, members: usize) -> Deletion {
    let owner = app.user("owner");
    let org = app.create_org(&owner, "Large").await;
    seed_members(app, &org, members).await;
    let started = Instant::now();
    let deleted = app.call(Some(&owner), "DELETE", &format!("/orgs/{org}"), None).await;
    let answer = started.elapsed();
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    app.advance(roster::store::purge::PURGE_GRACE + Duration::from_secs(1));
    let started = Instant::now();
    let report = purge::run(&app.app, || true).await.expect("purge");
    let purge = started.elapsed();
    assert_eq!(report.orgs_done, 1, "one run purges it whole");
    Deletion { members, answer, purge, items: report.items_deleted }
}

pub fn markdown(d: &Deletion) -> String {
    format!(
        "| Measure | ms |\n|---|---|\n\
         | `DELETE /orgs/{{orgId}}` of a {members}-member organization, until the answer | {answer} |\n\
         | the purge run that removes its {items} items (from the end of the grace period) | {purge} |\n\n\
         Members are written straight into the table (no email, no lock), as in Scale. The purge \
         reads 500 items a page (memberships first) and deletes them in batches of 25, 8 \
         batches in flight; in AWS the scheduled function runs every minute for up to 55 s, \
         and a purge cut short resumes in the next run.\n",
        members = d.members,
        answer = ms(d.answer),
        items = d.items,
        purge = ms(d.purge),
    )
}

/// The web app's figures from the last `make test` (its build and its browser tests), when
/// present: the gzipped size against its budget, and the members page's time to interactive.
pub fn web_markdown(root: &std::path::Path) -> String {
    let read = |path: &str| {
        std::fs::read_to_string(root.join(path))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    };
    let size = read("web/dist/size.json").map_or("not built".to_owned(), |s| {
        format!(
            "{:.1} KB gzipped (budget {:.0} KB)",
            s["gzipBytes"].as_f64().unwrap_or(0.0) / 1024.0,
            s["budgetBytes"].as_f64().unwrap_or(0.0) / 1024.0
        )
    });
    let perf = read("target/web-perf.json").map_or("not measured (run `make test`)".to_owned(), |p| {
        format!(
            "{} ms (target ≤ 300 ms)",
            p["membersPageInteractiveMs"].as_f64().map_or("?".to_owned(), |v| format!("{v:.0}"))
        )
    });
    // `ROSTER_E2E_LARGE_ORG=100000 make test` (web/e2e/large-org.test.ts): both sizes in one
    // run, medians of five interleaved rounds.
    let large = read("target/web-perf-large.json").map_or(
        "not measured (run `ROSTER_E2E_LARGE_ORG=100000 make test`)".to_owned(),
        |p| {
            let figure = |key: &str| {
                let (small, large) =
                    (p[key]["small"].as_f64().unwrap_or(0.0), p[key]["large"].as_f64().unwrap_or(0.0));
                format!(
                    "{small:.0} ms at 100, {large:.0} ms at {} ({:.2}×)",
                    p["members"],
                    large / small.max(1.0)
                )
            };
            format!(
                "interactive {}; a search by surname shown {}",
                figure("interactiveMs"),
                figure("searchMs")
            )
        },
    );
    format!(
        "| Measure | Value |\n|---|---|\n\
         | all JavaScript and CSS of the app | {size} |\n\
         | members page of a 100-member organization, navigation to the 50th row's role drop-down enabled (headless Chromium, local stack) | {perf} |\n\
         | the same page of a very large organization against a 100-member one, in one run | {large} |\n"
    )
}
