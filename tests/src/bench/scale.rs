//! Scale: an invite batch of 100 against one of 10, and list pages of a 10,000-member
//! organization against a 10-member one.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use futures::StreamExt;
use roster::domain::{Member, OrgId, Role, Status, Timestamp, UserId};
use serde_json::json;

use super::{ms, quantile};
use crate::harness::TestApp;

pub struct Scale {
    pub invite_10: Duration,
    pub invite_100: Duration,
    pub small_first_page: Duration,
    pub big_first_page: Duration,
    pub big_late_page: Duration,
    pub late_page_offset: usize,
}

async fn seed_members(app: &TestApp, org: &str, count: usize) {
    let org = OrgId::parse(org).expect("org id");
    let now = Timestamp::now();
    let writes: Vec<WriteRequest> = (0..count)
        .map(|i| {
            let member = Member {
                user_id: UserId::parse(&format!("seed{i:05}")).expect("user id"),
                email: None,
                name: None,
                role: Role::Member,
                status: Status::Active,
                joined_at: now,
                invited_by: None,
                updated_at: now,
            };
            let item = roster::store::members::member_item(&org, &member);
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().expect("item"))
                .build()
        })
        .collect();
    let batches: Vec<Vec<WriteRequest>> = writes.chunks(25).map(<[WriteRequest]>::to_vec).collect();
    futures::stream::iter(batches)
        .for_each_concurrent(8, |batch| async move {
            let mut pending = batch;
            while !pending.is_empty() {
                let out = app
                    .dynamo
                    .batch_write_item()
                    .request_items(app.table(), pending)
                    .send()
                    .await
                    .expect("BatchWriteItem");
                pending = out.unprocessed_items.and_then(|mut u| u.remove(app.table())).unwrap_or_default();
            }
        })
        .await;
}

async fn time_get(app: &TestApp, owner: &crate::harness::User, path: &str, n: usize) -> Duration {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let r = app.call(Some(owner), "GET", path, None).await;
        samples.push(started.elapsed());
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
    }
    quantile(&samples, 0.5)
}

pub async fn run(app: &TestApp, reps: usize) -> Scale {
    let owner = app.user("scale-owner");
    let invite = |size: usize, round: usize| {
        let addresses: Vec<_> =
            (0..size).map(|i| json!({ "email": app.email(&format!("s{size}r{round}i{i}")) })).collect();
        json!({ "invitations": addresses })
    };
    let org = app.create_org(&owner, "Invites").await;
    let (mut tens, mut hundreds) = (Vec::new(), Vec::new());
    for round in 0..reps {
        for (size, samples) in [(10, &mut tens), (100, &mut hundreds)] {
            let body = invite(size, round);
            let started = Instant::now();
            let r = app.call(Some(&owner), "POST", &format!("/orgs/{org}/invitations"), Some(body)).await;
            samples.push(started.elapsed());
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
    }

    let small = app.create_org(&owner, "Small").await;
    seed_members(app, &small, 10).await;
    let big = app.create_org(&owner, "Big").await;
    seed_members(app, &big, 10_000).await;
    // Walk to a late page once; the cursor then stays valid for repeated reads.
    let mut cursor = String::new();
    let mut offset = 0;
    while offset < 9_900 {
        let path = format!("/orgs/{big}/members?limit=100{cursor}");
        let page = app.call(Some(&owner), "GET", &path, None).await;
        cursor = format!("&cursor={}", page.body["nextCursor"].as_str().expect("more pages"));
        offset += 100;
    }
    let n = reps * 20;
    Scale {
        invite_10: quantile(&tens, 0.5),
        invite_100: quantile(&hundreds, 0.5),
        small_first_page: time_get(app, &owner, &format!("/orgs/{small}/members?limit=50"), n).await,
        big_first_page: time_get(app, &owner, &format!("/orgs/{big}/members?limit=50"), n).await,
        big_late_page: time_get(app, &owner, &format!("/orgs/{big}/members?limit=50{cursor}"), n).await,
        late_page_offset: offset,
    }
}

pub fn markdown(s: &Scale) -> String {
    format!(
        "| Measure | p50 ms | Ratio |\n|---|---|---|\n\
         | invite, batch of 10 | {} | 1.0× |\n\
         | invite, batch of 100 | {} | {:.1}× the batch of 10 (target ≤ 3×) |\n\
         | members, first page of 50, 10-member org | {} | 1.0× |\n\
         | members, first page of 50, 10,000-member org | {} | {:.2}× |\n\
         | members, page of 50 after {} members, 10,000-member org | {} | {:.2}× |\n",
        ms(s.invite_10),
        ms(s.invite_100),
        s.invite_100.as_secs_f64() / s.invite_10.as_secs_f64(),
        ms(s.small_first_page),
        ms(s.big_first_page),
        s.big_first_page.as_secs_f64() / s.small_first_page.as_secs_f64(),
        s.late_page_offset,
        ms(s.big_late_page),
        s.big_late_page.as_secs_f64() / s.small_first_page.as_secs_f64(),
    )
}
