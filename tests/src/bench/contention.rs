//! Contention on the organization item: many people joining through one invite link at
//! once, each join a transaction that updates the organization's counters. With the conflict
//! proxy on, overlapping joins are cancelled as DynamoDB cancels them and retried.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{ms, quantile};
use crate::conflicts::ConflictProxy;
use crate::harness::TestApp;

pub struct Contention {
    pub joiners: usize,
    pub rounds: usize,
    pub p50: Duration,
    pub p99: Duration,
    /// Transaction attempts per join (1.0 means no join was ever cancelled).
    pub attempts_per_join: Option<f64>,
    pub failures: usize,
}

/// `rounds` rounds of `joiners` concurrent accepts of one fresh link each.
pub async fn run(app: &TestApp, joiners: usize, rounds: usize) -> Contention {
    let owner = app.user("contention-owner");
    let org = app.create_org(&owner, "Contention").await;
    let before = ConflictProxy::shared().map(|p| p.table_stats(app.table()));
    let (mut samples, mut failures) = (Vec::with_capacity(joiners * rounds), 0);
    for round in 0..rounds {
        let link = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invite-links"), None).await;
        let token = link.body["link"]["token"].as_str().expect("a link token").to_owned();
        let users: Vec<_> = (0..joiners).map(|i| app.user(&format!("r{round}j{i}"))).collect();
        let joins = users.iter().map(|user| {
            let token = &token;
            async move {
                let started = Instant::now();
                let answer = app
                    .call(Some(user), "POST", "/invitations/accept", Some(json!({ "token": token })))
                    .await;
                (started.elapsed(), answer.status)
            }
        });
        for (elapsed, status) in futures::future::join_all(joins).await {
            samples.push(elapsed);
            failures += usize::from(status != 200);
        }
    }
    let attempts_per_join = ConflictProxy::shared().zip(before).map(|(proxy, before)| {
        let after = proxy.table_stats(app.table());
        // The links' own creation is one transaction each.
        let attempts = after.transaction_attempts() - before.transaction_attempts() - rounds as u64;
        attempts as f64 / (joiners * rounds) as f64
    });
    Contention {
        joiners,
        rounds,
        p50: quantile(&samples, 0.5),
        p99: quantile(&samples, 0.99),
        attempts_per_join,
        failures,
    }
}

pub fn markdown(c: &Contention) -> String {
    format!(
        "| Measure | Value |\n|---|---|\n\
         | concurrent accepts of one link, per round | {} ({} rounds) |\n\
         | accept p50 | {} ms |\n\
         | accept p99 | {} ms |\n\
         | transaction attempts per accept | {} |\n\
         | accepts not answered 200 | {} |\n",
        c.joiners,
        c.rounds,
        ms(c.p50),
        ms(c.p99),
        c.attempts_per_join.map_or_else(|| "(conflict emulation off)".to_owned(), |a| format!("{a:.2}")),
        c.failures,
    )
}
