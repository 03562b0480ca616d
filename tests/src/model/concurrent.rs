//! Rounds of 10–30 conflicting requests fired at once on one organization, then the
//! invariants checked through the API: `memberCount` equals the listed members, at least one
//! active owner, one membership per user, one pending invitation per address, no link used
//! past `maxUses`, removed users get 404, the seat limit and one-org-per-user hold, no 5xx,
//! every answer one the contract lists for its route, and writes stamped in one instant that
//! do not undo each other (the member's audit trail is one chain ending at what is stored).
//! Workspaces and groups (issue 24): a member removed while being added to a workspace and a
//! group and then invited again has no workspace access; a group deleted while being granted
//! and filled gives nobody access; a workspace deleted while being filled is gone for
//! everyone; each one's access agrees with the answers, and its `memberCount` with its
//! members once the purge has run.
//!
//! A round is a function of the run's seed and its number: its kind, its setup and the list
//! of calls it fires all follow from them, and its users are its own. So a failing round can
//! be played again alone on a fresh app ([`replay`]) with a subset of its calls (numbered in
//! the order generated), which is how [`shrink`] finds a shorter list of calls that still
//! breaks the same invariant. Replays race differently each time, so a candidate counts as
//! failing if any of a few plays fails.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::join_all;
use roster::domain::{Clock, Timestamp};
use serde_json::{Value, json};

use super::ops::WsRole;
use super::rng::Rng;
use crate::conflicts::{ConflictProxy, Hold};
use crate::harness::{
    TestApp, TestResponse, User, call_app_with_claims, http_get_json, offset_clock, service_claims,
};

/// What a round does; round `n` is of kind `KINDS[n % KINDS.len()]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    LinkRace,
    OwnersFight,
    MemberChurn,
    InviteStorm,
    ResendRevokeAccept,
    SeatRace,
    OneOrgRace,
    SameInstant,
    HeldLinkRace,
    RemovalRacesAdds,
    GroupDeletedWhileGranted,
    WorkspaceDeletedWhileFilled,
    RoleDeletedWhileGranted,
}

/// Appended kinds keep the kind of every earlier round number below 9 (the kept rounds).
pub const KINDS: [Kind; 13] = [
    Kind::LinkRace,
    Kind::OwnersFight,
    Kind::MemberChurn,
    Kind::InviteStorm,
    Kind::ResendRevokeAccept,
    Kind::SeatRace,
    Kind::OneOrgRace,
    Kind::SameInstant,
    Kind::HeldLinkRace,
    Kind::RemovalRacesAdds,
    Kind::GroupDeletedWhileGranted,
    Kind::WorkspaceDeletedWhileFilled,
    Kind::RoleDeletedWhileGranted,
];

impl Kind {
    pub fn of(round: usize) -> Self {
        KINDS[round % KINDS.len()]
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::LinkRace => "link race",
            Kind::OwnersFight => "owners fight",
            Kind::MemberChurn => "member churn",
            Kind::InviteStorm => "invite storm",
            Kind::ResendRevokeAccept => "resend, revoke, accept",
            Kind::SeatRace => "seat race",
            Kind::OneOrgRace => "one-org race",
            Kind::SameInstant => "same instant",
            Kind::HeldLinkRace => "held link race",
            Kind::RemovalRacesAdds => "removal races adds",
            Kind::GroupDeletedWhileGranted => "group deleted while granted",
            Kind::WorkspaceDeletedWhileFilled => "workspace deleted while filled",
            Kind::RoleDeletedWhileGranted => "role deleted while granted",
        }
    }

    /// Its tag for `ROSTER_MODEL_SKIP`: the name, hyphenated.
    pub fn tag(self) -> String {
        self.name().replace([',', ' '], "-").replace("--", "-")
    }

    fn setting(self) -> Setting {
        match self {
            Kind::SeatRace => Setting::Seats,
            Kind::OneOrgRace => Setting::OneOrg,
            Kind::HeldLinkRace => Setting::Held,
            // Transactions held a random while commit out of the order they were sent in: an
            // assignment that read the role before a deletion began may commit after the
            // deletion counted holders, the window its role check must close.
            Kind::RoleDeletedWhileGranted => Setting::Jittered,
            _ => Setting::Plain,
        }
    }
}

/// The deployment settings a round runs under: no limits, 6 seats, one org per user; or no
/// limits with every transaction held in flight a while ([`HOLD`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    Plain,
    Seats,
    OneOrg,
    Held,
    /// As `Held`, each transaction held a random time from none to twice [`HOLD`].
    Jittered,
}

/// How long the held setting's conflict proxy keeps a transaction's items in flight before
/// sending it on: the longer windows a loaded machine (or AWS's own latency) gives, when a
/// write can lose every one of its retries to a stream of others on the same item.
const HOLD: Duration = Duration::from_millis(50);

/// An app whose clock can be stopped at one instant (for the rounds that need writes in the
/// same millisecond) and started again.
struct Stage {
    app: TestApp,
    frozen: Arc<Mutex<Option<Timestamp>>>,
    /// The held setting's own proxy, which the app's DynamoDB client goes through.
    _proxy: Option<ConflictProxy>,
}

impl Stage {
    async fn spawn(setting: Setting) -> Self {
        let mut app = match setting {
            Setting::Plain | Setting::Held | Setting::Jittered => TestApp::spawn().await,
            Setting::Seats => TestApp::spawn_with(|c| c.max_members = Some(6)).await,
            Setting::OneOrg => TestApp::spawn_with(|c| c.one_org_per_user = true).await,
        };
        let mut proxy = None;
        if matches!(setting, Setting::Held | Setting::Jittered) {
            let upstream =
                std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("AWS_ENDPOINT_URL_DYNAMODB is set");
            let hold = Hold { transactions: HOLD, jitter: setting == Setting::Jittered, ..Hold::default() };
            let held = ConflictProxy::start(&upstream, hold).expect("starting a conflict proxy");
            let config =
                app.dynamo.config().to_builder().endpoint_url(held.endpoint()).interceptor(app.calls.clone());
            app.app.store =
                roster::store::Store::new(aws_sdk_dynamodb::Client::from_conf(config.build()), app.table());
            proxy = Some(held);
        }
        let frozen = Arc::new(Mutex::new(None::<Timestamp>));
        let running = offset_clock(&app.clock_offset);
        let stopped = Arc::clone(&frozen);
        app.app.clock = Clock::from_fn(move || {
            stopped.lock().expect("the clock's lock").unwrap_or_else(|| running.now())
        });
        Self { app, frozen, _proxy: proxy }
    }

    /// Every request from now on reads the same instant, until [`Stage::thaw`].
    fn freeze(&self) {
        let now = self.app.now();
        *self.frozen.lock().expect("the clock's lock") = Some(now);
    }

    fn thaw(&self) {
        *self.frozen.lock().expect("the clock's lock") = None;
    }
}

/// One app per setting, shared by the rounds of a run (each round has users of its own).
struct Stages {
    plain: Stage,
    seats: Stage,
    one_org: Stage,
    held: Stage,
    jittered: Stage,
}

impl Stages {
    async fn spawn() -> Self {
        let (plain, seats, one_org, held, jittered) = futures::join!(
            Stage::spawn(Setting::Plain),
            Stage::spawn(Setting::Seats),
            Stage::spawn(Setting::OneOrg),
            Stage::spawn(Setting::Held),
            Stage::spawn(Setting::Jittered)
        );
        Self { plain, seats, one_org, held, jittered }
    }

    fn get(&self, setting: Setting) -> &Stage {
        match setting {
            Setting::Plain => &self.plain,
            Setting::Seats => &self.seats,
            Setting::OneOrg => &self.one_org,
            Setting::Held => &self.held,
            Setting::Jittered => &self.jittered,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Route {
    Accept,
    Decline,
    Change,
    Transfer,
    Remove,
    Bulk,
    Invite,
    Resend,
    RevokeInvitation,
    RevokeLink,
    CreateOrg,
    PutWsMember,
    PutGroupMember,
    Grant,
    DeleteGroup,
    DeleteWorkspace,
    UpdateWorkspace,
    /// `POST /authorize` as a service, racing the others.
    Authorize,
    /// `POST /authorize` sent as soon as the call it follows answered `2xx`.
    AuthorizeAfter,
    UpdateRole,
    DeleteRole,
}

struct Call {
    route: Route,
    by: User,
    method: &'static str,
    path: String,
    body: Option<Value>,
    /// Sent with a listed service's claims (`roster/authorize`) rather than `by`'s.
    service: bool,
    /// Sent once this call has answered `2xx` (while the others may still race).
    then: Option<Box<Call>>,
}

fn call(route: Route, by: &User, method: &'static str, path: String, body: Option<Value>) -> Call {
    Call { route, by: by.clone(), method, path, body, service: false, then: None }
}

/// The service that sends the rounds' `POST /authorize` calls.
const SERVICE: &str = "dev-service";

/// `POST /authorize {checks}` as [`SERVICE`].
fn authorize_call(route: Route, checks: Vec<Value>) -> Call {
    let body = Some(json!({ "checks": checks }));
    Call { service: true, ..call(route, &User::new(SERVICE), "POST", "/authorize".into(), body) }
}

async fn send(app: &TestApp, c: &Call) -> TestResponse {
    if c.service {
        let claims = service_claims(SERVICE, "roster/authorize");
        call_app_with_claims(&app.app, Some(&claims), c.method, &c.path, c.body.clone()).await
    } else {
        app.call(Some(&c.by), c.method, &c.path, c.body.clone()).await
    }
}

const INVITE_STATUSES: [&str; 8] = [
    "invited",
    "already_member",
    "already_invited",
    "invalid_email",
    "forbidden_role",
    "email_failed",
    "seat_limit",
    "failed",
];
const BULK_STATUSES: [&str; 5] = ["removed", "not_found", "forbidden", "last_owner", "failed"];

/// Whether an answer is one the contract (and the README's decisions) lists for the route.
/// `send`, but a permission check answered `503 unavailable` is asked again, twice at most,
/// as the contract tells a client to ("retry later"): on this 2-core machine a crowd of
/// transactions (a round of removals, each with its member index items) can keep DynamoDB
/// Local from answering a check's reads within the SDK's timeouts. A check changes nothing,
/// and an answer given later is still one of the round's (its state after the others); a
/// check that keeps answering 503 is still an unlisted answer.
async fn send_retrying_checks(app: &TestApp, c: &Call) -> TestResponse {
    let mut r = send(app, c).await;
    for _ in 0..2 {
        if !(matches!(c.route, Route::Authorize | Route::AuthorizeAfter) && r.status == 503) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        r = send(app, c).await;
    }
    r
}

fn allowed(route: Route, r: &TestResponse) -> bool {
    use Route::*;
    let code = r.code();
    let items_in = |key: &str, set: &[&str]| {
        r.body[key]
            .as_array()
            .is_some_and(|items| items.iter().all(|i| i["status"].as_str().is_some_and(|s| set.contains(&s))))
    };
    if r.status >= 400 && r.content_type.as_deref() != Some("application/problem+json") {
        return false;
    }
    match (route, r.status) {
        (_, s) if s >= 500 => false,
        // Any write whose transaction keeps being cancelled by others on its items gives up
        // after its retries (README: about two seconds of contention) with `409 conflict`;
        // on a loaded machine a revoke raced by a crowd of accepts does (held link race).
        (_, 409) if code == "conflict" => true,
        (Accept, 200) | (Change, 200) | (Transfer, 200) | (Resend, 200) => true,
        (PutWsMember | PutGroupMember | Grant, 200 | 201) | (UpdateWorkspace, 200) => true,
        (DeleteGroup | DeleteWorkspace, 204) => true,
        (Authorize | AuthorizeAfter, 200) => true,
        (Remove | RevokeInvitation | RevokeLink | Decline, 204) | (CreateOrg, 201) => true,
        (Accept, 403) => matches!(code, "email_mismatch" | "suspended"),
        (Accept | Decline, 404) => code == "invitation_not_found",
        (Accept, 409) => matches!(code, "seat_limit" | "already_in_org"),
        (Accept, 410) => matches!(code, "invitation_expired" | "invitation_exhausted"),
        (Decline, 403) => code == "email_mismatch",
        (Decline, 410) => code == "invitation_expired",
        (CreateOrg, 409) => code == "already_in_org",
        (_, 403) => matches!(code, "forbidden" | "suspended"),
        (_, 404) => code == "not_found",
        (Change, 409) => matches!(code, "last_owner" | "seat_limit"),
        (Transfer | Remove, 409) => code == "last_owner",
        (Bulk, 200) => items_in("results", &BULK_STATUSES),
        (Invite, 200) => items_in("results", &INVITE_STATUSES),
        (Invite, 409) => code == "seat_limit",
        (Resend, 409) => code == "seat_limit",
        (Resend, 502) => code == "email_delivery_failed",
        // A custom role deleted (or being deleted) under an assignment (README: "Custom roles").
        (Change | PutWsMember | Grant, 400) => code == "invalid_role",
        (UpdateRole, 200) | (DeleteRole, 204) => true,
        (DeleteRole, 409) => code == "role_in_use",
        _ => false,
    }
}

/// A broken invariant: which one (a short name, what shrinking holds on to), and how.
#[derive(Debug, Clone)]
pub struct Violation {
    pub invariant: &'static str,
    pub detail: String,
}

/// One round as played: what it fired (each call with its number in the generated list, who
/// made it and the answer) and what it broke.
#[derive(Debug, Clone)]
pub struct Played {
    pub seed: u64,
    pub round: usize,
    pub kind: Kind,
    /// How many calls the round generated; `fired` may hold fewer (a replay's subset).
    pub generated: usize,
    pub fired: Vec<(usize, String)>,
    pub violations: Vec<Violation>,
    answers: BTreeMap<String, usize>,
}

impl Played {
    /// The numbers of the calls fired (a call's follow-up, `then`, is listed under its
    /// number too).
    pub fn calls(&self) -> Vec<usize> {
        let mut seen = BTreeSet::new();
        self.fired.iter().map(|(i, _)| *i).filter(|i| seen.insert(*i)).collect()
    }

    pub fn breaks(&self, invariant: &str) -> bool {
        self.violations.iter().any(|v| v.invariant == invariant)
    }

    /// The line of `tests/model-regressions.txt` that plays this round (with these calls)
    /// again.
    pub fn regression_line(&self) -> String {
        let mut line = format!("concurrent seed={} round={}", self.seed, self.round);
        if self.calls().len() < self.generated {
            let calls: Vec<String> = self.calls().iter().map(usize::to_string).collect();
            line.push_str(&format!(" calls={}", calls.join(",")));
        }
        if let Some(v) = self.violations.first() {
            line.push_str(&format!("  # {}", v.invariant));
        }
        line
    }
}

impl fmt::Display for Played {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {} (ROSTER_MODEL_SEED={}), round {} ({}), {} of its {} calls, fired at once:",
            self.seed,
            self.seed,
            self.round,
            self.kind.name(),
            self.calls().len(),
            self.generated
        )?;
        for (_, line) in &self.fired {
            writeln!(f, "  {line}")?;
        }
        for v in &self.violations {
            writeln!(f, "broke [{}]: {}", v.invariant, v.detail)?;
        }
        write!(f, "replay: {}", self.regression_line())
    }
}

#[derive(Default)]
pub struct Summary {
    pub rounds: usize,
    pub requests: usize,
    /// `route status code` → how often.
    pub answers: BTreeMap<String, usize>,
    /// The rounds that broke an invariant.
    pub failed: Vec<Played>,
}

impl Summary {
    /// Adds another run's figures and failed rounds.
    pub fn merge(&mut self, other: Summary) {
        self.rounds += other.rounds;
        self.requests += other.requests;
        for (answer, n) in other.answers {
            *self.answers.entry(answer).or_default() += n;
        }
        self.failed.extend(other.failed);
    }

    fn add(&mut self, played: Played) {
        self.rounds += 1;
        self.requests += played.fired.len();
        for (answer, n) in &played.answers {
            *self.answers.entry(answer.clone()).or_default() += n;
        }
        if !played.violations.is_empty() {
            self.failed.push(played);
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rounds, {} concurrent requests; answers:", self.rounds, self.requests)?;
        for (answer, n) in &self.answers {
            write!(f, "\n  {answer}: {n}")?;
        }
        Ok(())
    }
}

/// One round's answers, and what they did.
struct Answers {
    calls: Vec<(Call, TestResponse)>,
}

impl Answers {
    /// Users a remove or leave (single or bulk) answered as done.
    fn removed(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (c, r) in &self.calls {
            match (c.route, r.status) {
                (Route::Remove, 204) => {
                    out.insert(c.path.rsplit('/').next().unwrap_or_default().to_owned());
                }
                (Route::Bulk, 200) => {
                    for item in r.body["results"].as_array().into_iter().flatten() {
                        if item["status"] == "removed" {
                            out.insert(item["userId"].as_str().unwrap_or_default().to_owned());
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn joined(&self) -> BTreeSet<String> {
        self.calls
            .iter()
            .filter(|(c, r)| c.route == Route::Accept && r.status == 200)
            .map(|(c, _)| c.by.sub.clone())
            .collect()
    }

    fn count(&self, route: Route, status: u16) -> usize {
        self.calls.iter().filter(|(c, r)| c.route == route && r.status == status).count()
    }
}

/// What an active owner sees of an organization.
struct Snapshot {
    member_count: u64,
    members: Vec<Value>,
    invitations: Vec<Value>,
    links: Vec<Value>,
}

struct Ctx<'a> {
    stage: &'a Stage,
    app: &'a TestApp,
    round: usize,
    rng: Rng,
    /// Which of the generated calls to fire (all when `None`).
    keep: Option<&'a [usize]>,
    /// The organizations made, to name them `<org0>`, `<org1>` when printing calls.
    orgs: Vec<String>,
    generated: usize,
    fired: Vec<(usize, String)>,
    answers: BTreeMap<String, usize>,
    violations: Vec<Violation>,
}

/// A round's own generator: a function of the run's seed and the round's number only.
fn round_rng(seed: u64, round: usize) -> Rng {
    let mut rng =
        Rng::new((seed ^ 0xC0FF_EE00).wrapping_add((round as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)));
    rng.fork()
}

/// Plays round `round` of the run seeded `seed` on `stage`, firing the generated calls
/// numbered in `keep` (all when `None`). A round that panics (a setup step the harness
/// asserts on, say) counts as one that broke `no panic`, so that its seed and number are
/// reported like any other failure.
async fn play(stage: &Stage, seed: u64, round: usize, keep: Option<&[usize]>) -> Played {
    // Boxed: a round's future is large, and the test's thread has a small stack.
    let played = AssertUnwindSafe(Box::pin(play_round(stage, seed, round, keep))).catch_unwind().await;
    stage.thaw();
    played.unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        Played {
            seed,
            round,
            kind: Kind::of(round),
            generated: 0,
            fired: Vec::new(),
            violations: vec![Violation {
                invariant: "no panic",
                detail: format!("round {round}: the round panicked: {message}"),
            }],
            answers: BTreeMap::new(),
        }
    })
}

async fn play_round(stage: &Stage, seed: u64, round: usize, keep: Option<&[usize]>) -> Played {
    let kind = Kind::of(round);
    let mut ctx = Ctx {
        stage,
        app: &stage.app,
        round,
        rng: round_rng(seed, round),
        keep,
        orgs: Vec::new(),
        generated: 0,
        fired: Vec::new(),
        answers: BTreeMap::new(),
        violations: Vec::new(),
    };
    // Each kind boxed: the largest round would otherwise size every poll of this one, on
    // the test thread's small stack.
    match kind {
        Kind::LinkRace => Box::pin(link_race(&mut ctx)).await,
        Kind::HeldLinkRace => Box::pin(held_link_race(&mut ctx)).await,
        Kind::OwnersFight => Box::pin(owners_fight(&mut ctx)).await,
        Kind::MemberChurn => Box::pin(member_churn(&mut ctx)).await,
        Kind::InviteStorm => Box::pin(invite_storm(&mut ctx)).await,
        Kind::ResendRevokeAccept => Box::pin(resend_revoke_accept(&mut ctx)).await,
        Kind::SeatRace => Box::pin(seat_race(&mut ctx)).await,
        Kind::OneOrgRace => Box::pin(one_org_race(&mut ctx)).await,
        Kind::SameInstant => Box::pin(same_instant(&mut ctx)).await,
        Kind::RemovalRacesAdds => Box::pin(removal_races_adds(&mut ctx)).await,
        Kind::GroupDeletedWhileGranted => Box::pin(group_deleted_while_granted(&mut ctx)).await,
        Kind::WorkspaceDeletedWhileFilled => Box::pin(workspace_deleted_while_filled(&mut ctx)).await,
        Kind::RoleDeletedWhileGranted => Box::pin(role_deleted_while_granted(&mut ctx)).await,
    }
    Played {
        seed,
        round,
        kind,
        generated: ctx.generated,
        fired: ctx.fired,
        violations: ctx.violations,
        answers: ctx.answers,
    }
}

/// `rounds` rounds of the run seeded `seed`, one after another (but those of a kind whose
/// tag `ROSTER_MODEL_SKIP` names).
pub async fn run(seed: u64, rounds: usize) -> Summary {
    let stages = Stages::spawn().await;
    let skip = super::generate::skip_tags();
    let mut summary = Summary::default();
    for round in 0..rounds {
        if skip.contains(&Kind::of(round).tag()) {
            continue;
        }
        let played = play(stages.get(Kind::of(round).setting()), seed, round, None).await;
        if std::env::var_os("ROSTER_MODEL_VERBOSE").is_some() {
            println!("concurrent: {played}");
        }
        summary.add(played);
    }
    summary
}

/// Round `round` of the run seeded `seed` played alone on a fresh app, firing the calls
/// numbered in `keep` (all when `None`).
pub async fn replay(seed: u64, round: usize, keep: Option<&[usize]>) -> Played {
    let stage = Stage::spawn(Kind::of(round).setting()).await;
    play(&stage, seed, round, keep).await
}

/// [`replay`] up to `plays` times: the first play that breaks `invariant` (or any invariant
/// when `None`), else the last play.
pub async fn replay_until(
    seed: u64,
    round: usize,
    keep: Option<&[usize]>,
    invariant: Option<&str>,
    plays: usize,
) -> (Played, usize) {
    let mut last = None;
    for n in 1..=plays.max(1) {
        let played = replay(seed, round, keep).await;
        let broke = match invariant {
            Some(name) => played.breaks(name),
            None => !played.violations.is_empty(),
        };
        if broke {
            return (played, n);
        }
        last = Some(played);
    }
    (last.expect("at least one play"), plays.max(1))
}

/// Plays of each candidate while shrinking: a race need not come out the same way twice.
pub const PLAYS_PER_CANDIDATE: usize = 3;

/// The shortest list of calls found within `budget` that still breaks the first invariant
/// `failed` broke (delete-chunks shrinking, as for sequences), and how many plays it took.
pub async fn shrink(failed: &Played, budget: Duration) -> (Played, usize) {
    let started = Instant::now();
    let Some(invariant) = failed.violations.first().map(|v| v.invariant) else {
        return (failed.clone(), 0);
    };
    let mut best = failed.clone();
    let mut current = failed.calls();
    let mut plays = 0;
    let mut chunk = current.len().div_ceil(2).max(1);
    loop {
        let mut progress = false;
        let mut start = 0;
        while start < current.len() && started.elapsed() < budget {
            let end = (start + chunk).min(current.len());
            let candidate: Vec<usize> = current[..start].iter().chain(&current[end..]).copied().collect();
            let (played, n) = replay_until(
                failed.seed,
                failed.round,
                Some(&candidate),
                Some(invariant),
                PLAYS_PER_CANDIDATE,
            )
            .await;
            plays += n;
            if played.breaks(invariant) {
                current = candidate;
                best = played;
                progress = true;
            } else {
                start += chunk;
            }
        }
        if started.elapsed() >= budget || (chunk == 1 && !progress) || current.is_empty() {
            break;
        }
        if !progress {
            chunk = chunk.div_ceil(2).max(1);
        }
    }
    (best, plays)
}

/// A JSON body as printed: long strings (tokens) cut short.
fn brief(value: &Value) -> Value {
    match value {
        Value::String(s) if s.chars().count() > 24 => {
            Value::String(format!("{}…", s.chars().take(12).collect::<String>()))
        }
        Value::Array(items) => Value::Array(items.iter().map(brief).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), brief(v))).collect()),
        other => other.clone(),
    }
}

impl Ctx<'_> {
    fn fail(&mut self, invariant: &'static str, what: String) {
        self.violations.push(Violation { invariant, detail: format!("round {}: {what}", self.round) });
    }

    fn user(&self, name: &str) -> User {
        let sub = format!("r{}-{name}", self.round);
        User { name: Some(sub.clone()), ..User::new(&sub).with_email(&self.app.email(&sub)) }
    }

    /// `text` with the round's organization ids as `<org0>`, `<org1>`, ...
    fn named(&self, text: &str) -> String {
        self.orgs
            .iter()
            .enumerate()
            .fold(text.to_owned(), |t, (i, org)| t.replace(org.as_str(), &format!("<org{i}>")))
    }

    /// Fires the round's calls at once (those numbered in `keep`, when replaying a subset).
    /// A round fires once.
    async fn fire(&mut self, calls: Vec<Call>) -> Answers {
        self.generated = calls.len();
        let calls: Vec<(usize, Call)> = match self.keep {
            None => calls.into_iter().enumerate().collect(),
            Some(keep) => {
                let mut all: Vec<Option<Call>> = calls.into_iter().map(Some).collect();
                keep.iter().filter_map(|&i| all.get_mut(i).and_then(Option::take).map(|c| (i, c))).collect()
            }
        };
        let app = self.app;
        let responses = join_all(calls.iter().map(|(_, c)| async move {
            let r = send_retrying_checks(app, c).await;
            let then = match &c.then {
                Some(then) if (200..300).contains(&r.status) => Some(send_retrying_checks(app, then).await),
                _ => None,
            };
            (r, then)
        }))
        .await;
        let mut answered = Vec::with_capacity(calls.len());
        let mut followed = Vec::new();
        for ((i, mut c), (r, then)) in calls.into_iter().zip(responses) {
            if let (Some(call), Some(r)) = (c.then.take(), then) {
                followed.push((i, *call, r));
            }
            *self.answers.entry(format!("{:?} {} {}", c.route, r.status, r.code())).or_default() += 1;
            let body = c.body.as_ref().map(|b| format!(" {}", brief(b))).unwrap_or_default();
            let answer = match r.body["detail"].as_str() {
                Some(detail) if r.status >= 400 => format!("{} {} ({detail})", r.status, r.code()),
                _ if r.status >= 400 => format!("{} {}", r.status, r.code()),
                _ => r.status.to_string(),
            };
            let line = self.named(&format!("#{i} {} {} {}{body} → {answer}", c.by.sub, c.method, c.path));
            if !allowed(c.route, &r) {
                let detail = self.named(&format!("{line}: an answer the contract does not list: {}", r.body));
                self.fail("unlisted answer", detail);
            }
            self.fired.push((i, line));
            answered.push((c, r));
        }
        for (i, c, r) in followed {
            *self.answers.entry(format!("{:?} {} {}", c.route, r.status, r.code())).or_default() += 1;
            let body = c.body.as_ref().map(|b| format!(" {}", brief(b))).unwrap_or_default();
            let line = self.named(&format!(
                "#{i} then {} {} {}{body} → {} {}",
                c.by.sub, c.method, c.path, r.status, r.body
            ));
            if !allowed(c.route, &r) {
                let detail = self.named(&format!("{line}: an answer the contract does not list"));
                self.fail("unlisted answer", detail);
            }
            self.fired.push((i, line));
            answered.push((c, r));
        }
        Answers { calls: answered }
    }

    async fn must(
        &mut self,
        by: &User,
        method: &str,
        path: &str,
        body: Option<Value>,
        want: u16,
    ) -> TestResponse {
        let r = self.app.call(Some(by), method, path, body).await;
        if r.status != want {
            self.fail("setup", format!("setup {method} {path} answered {} {}", r.status, r.body));
        }
        r
    }

    /// An organization of `owner` with these members (role), joined through single-use links.
    async fn org(&mut self, owner: &User, members: &[(&User, &str)]) -> String {
        let org = self.app.create_org(owner, &format!("Round {}", self.round)).await;
        self.orgs.push(org.clone());
        for (user, role) in members {
            self.app.add_member(owner, &org, user, role).await;
        }
        org
    }

    async fn link(&mut self, by: &User, org: &str, body: Value) -> String {
        let r = self.must(by, "POST", &format!("/orgs/{org}/invite-links"), Some(body), 201).await;
        r.body["link"]["token"].as_str().unwrap_or_default().to_owned()
    }

    /// Tokens mailed to `address` since `since` (epoch seconds), oldest first.
    async fn mailed(&self, address: &str, since: i64) -> Vec<String> {
        self.app.drain_mail().await;
        let url = std::env::var("ROSTER_TEST_SES_STORE").expect("ROSTER_TEST_SES_STORE is set");
        let store = http_get_json(&format!("{url}?since={since}")).await;
        store["emails"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["destination"]["to"].as_array().is_some_and(|to| to.iter().any(|a| a == address)))
            .filter_map(|m| {
                let text = m["body"]["text"].as_str()?;
                let start = text.find("token=")? + "token=".len();
                Some(text[start..].split_whitespace().next()?.to_owned())
            })
            .collect()
    }

    async fn pages(&self, by: &User, path: &str, key: &str) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let url = match &cursor {
                None => format!("{path}?limit=7"),
                Some(c) => format!("{path}?limit=7&cursor={c}"),
            };
            let r = self.app.call(Some(by), "GET", &url, None).await;
            if r.status != 200 {
                return None;
            }
            items.extend(r.body[key].as_array().cloned().unwrap_or_default());
            match r.body["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return Some(items),
            }
        }
        None
    }

    /// The organization as an active owner among `people` sees it.
    async fn snapshot(&mut self, org: &str, people: &[User]) -> Option<(User, Snapshot)> {
        for p in people {
            let view = self.app.call(Some(p), "GET", &format!("/orgs/{org}"), None).await;
            if view.status != 200
                || view.body["membership"]["role"] != "owner"
                || view.body["membership"]["status"] != "active"
            {
                continue;
            }
            let members = self.pages(p, &format!("/orgs/{org}/members"), "members").await?;
            let invitations = self.pages(p, &format!("/orgs/{org}/invitations"), "invitations").await?;
            let links = self.pages(p, &format!("/orgs/{org}/invite-links"), "links").await?;
            // However the round's writes interleaved, the member index is what the
            // memberships call for.
            let drift = self.app.index_drift(org).await;
            if !drift.is_empty() {
                self.fail("member index", format!("{org}'s member index disagrees: {drift:?}"));
            }
            let member_count = view.body["org"]["memberCount"].as_u64().unwrap_or(u64::MAX);
            return Some((p.clone(), Snapshot { member_count, members, invitations, links }));
        }
        self.fail("active owner", format!("no active owner of {org} can read it"));
        None
    }

    /// The invariants every round must leave, through the API.
    async fn invariants(&mut self, org: &str, people: &[User], answers: &Answers) -> Option<Snapshot> {
        let (_, snap) = self.snapshot(org, people).await?;
        if snap.member_count != snap.members.len() as u64 {
            self.fail(
                "memberCount",
                format!("memberCount {} but {} members listed", snap.member_count, snap.members.len()),
            );
        }
        let ids: Vec<&str> = snap.members.iter().filter_map(|m| m["userId"].as_str()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        if unique.len() != ids.len() {
            self.fail("one membership per user", format!("a user is listed twice: {ids:?}"));
        }
        if !snap.members.iter().any(|m| m["role"] == "owner" && m["status"] == "active") {
            self.fail("active owner", "no active owner left".into());
        }
        let mut pending: BTreeMap<String, usize> = BTreeMap::new();
        for i in &snap.invitations {
            if i["status"] == "pending" {
                *pending.entry(i["email"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
            }
        }
        for (address, n) in pending {
            if n > 1 {
                self.fail(
                    "one pending invitation per address",
                    format!("{n} pending invitations for {address}"),
                );
            }
        }
        for l in &snap.links {
            if let (Some(uses), Some(max)) = (l["uses"].as_u64(), l["maxUses"].as_u64()) {
                if uses > max {
                    self.fail("link uses", format!("a link used {uses} times of {max}"));
                }
            }
        }
        let joined = answers.joined();
        for gone in answers.removed().difference(&joined) {
            if unique.contains(gone.as_str()) {
                self.fail("removed", format!("{gone} was removed but is still listed"));
            }
            if let Some(user) = people.iter().find(|p| &p.sub == gone) {
                let r = self.app.call(Some(user), "GET", &format!("/orgs/{org}"), None).await;
                if r.status != 404 {
                    self.fail(
                        "removed",
                        format!("{gone} was removed but GET /orgs/{org} answers {}", r.status),
                    );
                }
            }
        }
        // Each person's own list agrees with the member list.
        for p in people {
            let mine = self.pages(p, "/orgs", "orgs").await.unwrap_or_default();
            let listed = mine.iter().filter(|o| o["org"]["id"] == json!(org)).count();
            if listed != usize::from(unique.contains(p.sub.as_str())) {
                self.fail(
                    "own list",
                    format!(
                        "{}'s GET /orgs lists {org} {listed} times; member list: {}",
                        p.sub,
                        unique.contains(p.sub.as_str())
                    ),
                );
            }
        }
        Some(snap)
    }
}

/// Many users accept one link with few uses (and an owner may revoke it meanwhile).
async fn link_race(ctx: &mut Ctx<'_>) {
    let owner = ctx.user("owner");
    let org = ctx.org(&owner, &[]).await;
    let max = 1 + ctx.rng.below(5);
    let role = *ctx.rng.pick(&["viewer", "member", "admin"]);
    let token = ctx.link(&owner, &org, json!({ "maxUses": max, "role": role })).await;
    let n = 10 + ctx.rng.below(20);
    let users: Vec<User> = (0..n).map(|i| ctx.user(&format!("u{i}"))).collect();
    let mut calls: Vec<Call> = users
        .iter()
        .map(|u| {
            call(Route::Accept, u, "POST", "/invitations/accept".into(), Some(json!({ "token": token })))
        })
        .collect();
    let revoking = ctx.rng.chance(30);
    if revoking {
        let links = ctx.app.call(Some(&owner), "GET", &format!("/orgs/{org}/invite-links"), None).await;
        let id = links.body["links"][0]["id"].as_str().unwrap_or_default().to_owned();
        calls.insert(
            ctx.rng.below(calls.len()),
            call(Route::RevokeLink, &owner, "DELETE", format!("/orgs/{org}/invite-links/{id}"), None),
        );
    }
    let answers = ctx.fire(calls).await;
    let joined = answers.count(Route::Accept, 200);
    if joined > max {
        ctx.fail("link uses", format!("a link of {max} uses admitted {joined}"));
    }
    let mut people = vec![owner];
    people.extend(users);
    if let Some(snap) = ctx.invariants(&org, &people, &answers).await {
        if snap.members.len() != joined + 1 {
            ctx.fail(
                "joins and members",
                format!("{joined} accepts answered 200 but {} members", snap.members.len()),
            );
        }
        if let Some(l) = snap.links.first() {
            if l["uses"] != json!(joined) {
                ctx.fail("link uses", format!("the link shows {} uses after {joined} joins", l["uses"]));
            }
        }
    }
}

/// A crowd accepts a link with uses to spare while its owner revokes it, every transaction
/// held in flight [`HOLD`] (the held setting): one accept after another keeps the link's item
/// busy, and the revoke, like any accept, may lose all its retries to them. Whatever wins,
/// the link's uses and status and the members agree with the answers.
async fn held_link_race(ctx: &mut Ctx<'_>) {
    let owner = ctx.user("owner");
    let org = ctx.org(&owner, &[]).await;
    let n = 25 + ctx.rng.below(11);
    let token = ctx.link(&owner, &org, json!({ "maxUses": 100 })).await;
    let links = ctx.app.call(Some(&owner), "GET", &format!("/orgs/{org}/invite-links"), None).await;
    let id = links.body["links"][0]["id"].as_str().unwrap_or_default().to_owned();
    let users: Vec<User> = (0..n).map(|i| ctx.user(&format!("u{i}"))).collect();
    let mut calls: Vec<Call> = users
        .iter()
        .map(|u| {
            call(Route::Accept, u, "POST", "/invitations/accept".into(), Some(json!({ "token": token })))
        })
        .collect();
    calls.insert(
        ctx.rng.below(calls.len() / 2),
        call(Route::RevokeLink, &owner, "DELETE", format!("/orgs/{org}/invite-links/{id}"), None),
    );
    let answers = ctx.fire(calls).await;
    let joined = answers.count(Route::Accept, 200);
    let revoked = answers.count(Route::RevokeLink, 204) > 0;
    let mut people = vec![owner];
    people.extend(users);
    let Some(snap) = ctx.invariants(&org, &people, &answers).await else { return };
    if snap.members.len() != joined + 1 {
        ctx.fail(
            "joins and members",
            format!("{joined} accepts answered 200 but {} members", snap.members.len()),
        );
    }
    // A revoked link is listed as revoked, or not at all; one the revoke lost to stays
    // active, its uses the joins.
    let link = snap.links.iter().find(|l| l["id"] == json!(id));
    let gone = link.is_none_or(|l| l["status"] == "revoked");
    if revoked != gone {
        let shown = link.map_or("not listed".to_owned(), |l| format!("listed as {}", l["status"]));
        ctx.fail("revoke answered", format!("the revoke answered 204: {revoked}, but the link is {shown}"));
    }
    if let Some(l) = link.filter(|_| !gone)
        && l["uses"] != json!(joined)
    {
        ctx.fail("link uses", format!("the link shows {} uses after {joined} joins", l["uses"]));
    }
}

/// Owners demote, suspend, remove and transfer among themselves, and leave, all at once.
async fn owners_fight(ctx: &mut Ctx<'_>) {
    let owner = ctx.user("o0");
    let n_owners = 3 + ctx.rng.below(3);
    let owners: Vec<User> = (1..n_owners).map(|i| ctx.user(&format!("o{i}"))).collect();
    let admins: Vec<User> = (0..2).map(|i| ctx.user(&format!("a{i}"))).collect();
    let mut members: Vec<(&User, &str)> = owners.iter().map(|o| (o, "owner")).collect();
    members.extend(admins.iter().map(|a| (a, "admin")));
    let org = ctx.org(&owner, &members).await;
    let mut all_owners = vec![owner.clone()];
    all_owners.extend(owners.iter().cloned());
    let n = 10 + ctx.rng.below(21);
    let mut calls = Vec::new();
    for _ in 0..n {
        let by = ctx.rng.pick(&all_owners).clone();
        let other = ctx.rng.pick(&all_owners).clone();
        let admin = ctx.rng.pick(&admins).clone();
        let member_path = |u: &User| format!("/orgs/{org}/members/{}", u.sub);
        calls.push(match ctx.rng.below(7) {
            0 => call(Route::Change, &by, "PATCH", member_path(&other), Some(json!({ "role": "admin" }))),
            1 => {
                call(Route::Change, &by, "PATCH", member_path(&other), Some(json!({ "status": "suspended" })))
            }
            2 => call(Route::Remove, &by, "DELETE", member_path(&other), None),
            3 => call(Route::Remove, &by, "DELETE", member_path(&by), None),
            4 => call(Route::Change, &by, "PATCH", member_path(&by), Some(json!({ "role": "admin" }))),
            5 => call(
                Route::Transfer,
                &by,
                "POST",
                format!("/orgs/{org}/transfer-ownership"),
                Some(json!({ "userId": admin.sub })),
            ),
            _ => call(
                Route::Bulk,
                &by,
                "POST",
                format!("/orgs/{org}/members/remove"),
                Some(json!({ "userIds": [other.sub, admin.sub] })),
            ),
        });
    }
    let answers = ctx.fire(calls).await;
    let mut people = all_owners;
    people.extend(admins);
    ctx.invariants(&org, &people, &answers).await;
}

/// Admins and owners change, suspend, reactivate and remove the same members while those
/// members leave.
async fn member_churn(ctx: &mut Ctx<'_>) {
    let owner = ctx.user("owner");
    let admins: Vec<User> = (0..2).map(|i| ctx.user(&format!("a{i}"))).collect();
    let plain: Vec<User> = (0..6).map(|i| ctx.user(&format!("m{i}"))).collect();
    let mut members: Vec<(&User, &str)> = admins.iter().map(|a| (a, "admin")).collect();
    members.extend(plain.iter().map(|m| (m, if m.sub.ends_with(['0', '1']) { "viewer" } else { "member" })));
    let org = ctx.org(&owner, &members).await;
    if ctx.rng.chance(50) {
        ctx.must(
            &owner,
            "PATCH",
            &format!("/orgs/{org}/members/{}", plain[5].sub),
            Some(json!({ "status": "suspended" })),
            200,
        )
        .await;
    }
    let mut actors = admins.clone();
    actors.push(owner.clone());
    let n = 10 + ctx.rng.below(21);
    let mut calls = Vec::new();
    for _ in 0..n {
        let by = ctx.rng.pick(&actors).clone();
        let target = ctx.rng.pick(&plain).clone();
        let path = format!("/orgs/{org}/members/{}", target.sub);
        calls.push(match ctx.rng.below(7) {
            0 => call(
                Route::Change,
                &by,
                "PATCH",
                path,
                Some(json!({ "role": *ctx.rng.pick(&["member", "viewer", "admin"]) })),
            ),
            1 => call(Route::Change, &by, "PATCH", path, Some(json!({ "status": "suspended" }))),
            2 => {
                call(Route::Change, &by, "PATCH", path, Some(json!({ "status": "active", "role": "member" })))
            }
            3 => call(Route::Remove, &by, "DELETE", path, None),
            4 => call(Route::Remove, &target, "DELETE", path, None),
            5 => {
                let k = 1 + ctx.rng.below(4);
                let ids: Vec<String> = (0..k).map(|_| ctx.rng.pick(&plain).sub.clone()).collect();
                call(
                    Route::Bulk,
                    &by,
                    "POST",
                    format!("/orgs/{org}/members/remove"),
                    Some(json!({ "userIds": ids })),
                )
            }
            _ => call(Route::Change, &target, "PATCH", path, Some(json!({ "role": "member" }))),
        });
    }
    let answers = ctx.fire(calls).await;
    let mut people = vec![owner];
    people.extend(admins);
    people.extend(plain);
    ctx.invariants(&org, &people, &answers).await;
}

/// The same addresses invited many times at once, with resends and revokes of one of them.
async fn invite_storm(ctx: &mut Ctx<'_>) {
    let owner = ctx.user("owner");
    let admin = ctx.user("admin");
    let org = ctx.org(&owner, &[(&admin, "admin")]).await;
    let addresses: Vec<String> = (0..3).map(|i| ctx.app.email(&format!("r{}-x{i}", ctx.round))).collect();
    let first = ctx
        .must(
            &owner,
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": addresses[0] }] })),
            200,
        )
        .await;
    let inv = first.body["results"][0]["invitation"]["id"].as_str().unwrap_or_default().to_owned();
    let n = 10 + ctx.rng.below(11);
    let mut calls = Vec::new();
    for _ in 0..n {
        let by = if ctx.rng.chance(50) { owner.clone() } else { admin.clone() };
        calls.push(match ctx.rng.below(6) {
            0 => call(Route::Resend, &by, "POST", format!("/orgs/{org}/invitations/{inv}/resend"), None),
            1 => call(Route::RevokeInvitation, &by, "DELETE", format!("/orgs/{org}/invitations/{inv}"), None),
            _ => {
                let k = 1 + ctx.rng.below(3);
                let list: Vec<Value> = (0..k)
                    .map(|_| {
                        let a = ctx.rng.pick(&addresses).clone();
                        json!({ "email": if ctx.rng.chance(30) { a.to_uppercase() } else { a } })
                    })
                    .collect();
                call(
                    Route::Invite,
                    &by,
                    "POST",
                    format!("/orgs/{org}/invitations"),
                    Some(json!({ "invitations": list })),
                )
            }
        });
    }
    let answers = ctx.fire(calls).await;
    ctx.invariants(&org, &[owner, admin], &answers).await;
}

/// One invitation resent, revoked, accepted and declined at once: whatever wins, the tokens
/// tell the same story as the lists.
async fn resend_revoke_accept(ctx: &mut Ctx<'_>) {
    let owner = ctx.user("owner");
    let admin = ctx.user("admin");
    let org = ctx.org(&owner, &[(&admin, "admin")]).await;
    let invitee = ctx.user("invitee");
    let address = invitee.email.clone().unwrap_or_default();
    let since = chrono::Utc::now().timestamp() - 1;
    let first = ctx
        .must(
            &owner,
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": address }] })),
            200,
        )
        .await;
    let inv = first.body["results"][0]["invitation"]["id"].as_str().unwrap_or_default().to_owned();
    let original = ctx.mailed(&address, since).await.last().cloned().unwrap_or_default();
    let n = 10 + ctx.rng.below(11);
    let mut calls = Vec::new();
    for _ in 0..n {
        let by = if ctx.rng.chance(50) { owner.clone() } else { admin.clone() };
        let token = json!({ "token": original });
        calls.push(match ctx.rng.below(8) {
            0..=2 => call(Route::Resend, &by, "POST", format!("/orgs/{org}/invitations/{inv}/resend"), None),
            3 => call(Route::RevokeInvitation, &by, "DELETE", format!("/orgs/{org}/invitations/{inv}"), None),
            4 => call(Route::Decline, &invitee, "POST", "/invitations/decline".into(), Some(token)),
            _ => call(Route::Accept, &invitee, "POST", "/invitations/accept".into(), Some(token)),
        });
    }
    let answers = ctx.fire(calls).await;
    let accepted = answers.count(Route::Accept, 200) > 0;
    let revoked = answers.count(Route::RevokeInvitation, 204) > 0;
    let declined = answers.count(Route::Decline, 204) > 0;
    // Accepting ends the invitation; a declined one stays until it expires, and may still be
    // revoked (API.md "Accept", "Decline", "Lists").
    if accepted && (revoked || declined) {
        ctx.fail(
            "one outcome",
            format!("one invitation was accepted {accepted}, revoked {revoked} and declined {declined}"),
        );
    }
    let people = vec![owner, admin, invitee.clone()];
    let Some(snap) = ctx.invariants(&org, &people, &answers).await else { return };
    let listed = snap.invitations.iter().find(|i| i["id"] == json!(inv)).map(|i| i["status"].clone());
    let member = snap.members.iter().any(|m| m["userId"] == json!(invitee.sub));
    if accepted != member {
        ctx.fail("joins and members", format!("accept answered 200: {accepted}, but member: {member}"));
    }
    let (want_listed, want_token) = match (accepted || revoked, declined) {
        (true, _) => (None, if accepted { vec!["accepted"] } else { vec![] }),
        (false, true) => (Some(json!("declined")), vec!["declined"]),
        (false, false) => (Some(json!("pending")), vec!["pending"]),
    };
    if listed != want_listed {
        ctx.fail(
            "invitation listed",
            format!(
                "accepted {accepted}, revoked {revoked}, declined {declined}, but the invitation is {}",
                listed.map_or("not listed".to_owned(), |s| format!("listed as {s}"))
            ),
        );
    }
    // Of the tokens mailed, only the last one sent exists, and it tells the same story; a
    // resend whose email failed leaves the live token unmailed.
    let mut tokens = ctx.mailed(&address, since).await;
    if !tokens.contains(&original) {
        tokens.push(original);
    }
    let mut live = Vec::new();
    let stranger = ctx.user("stranger");
    for t in &tokens {
        let r =
            ctx.app.call(Some(&stranger), "POST", "/invitations/preview", Some(json!({ "token": t }))).await;
        match r.status {
            200 => live.push(r.body["status"].as_str().unwrap_or_default().to_owned()),
            404 => {}
            other => ctx.fail("unlisted answer", format!("preview answered {other} {}", r.body)),
        }
    }
    let unmailed = live.is_empty() && want_token == ["pending"] && answers.count(Route::Resend, 502) > 0;
    if live != want_token && !unmailed {
        let outcome = format!("accepted {accepted}, revoked {revoked}, declined {declined}");
        ctx.fail("working tokens", format!("the mailed tokens preview as {live:?}; {outcome}"));
    }
}

/// Link joins, a reactivation, invites and an email accept race for the last seats.
async fn seat_race(ctx: &mut Ctx<'_>) {
    const MAX: usize = 6;
    let owner = ctx.user("owner");
    let m: Vec<User> = (0..3).map(|i| ctx.user(&format!("m{i}"))).collect();
    let org = ctx.org(&owner, &[(&m[0], "member"), (&m[1], "member"), (&m[2], "member")]).await;
    ctx.must(
        &owner,
        "PATCH",
        &format!("/orgs/{org}/members/{}", m[2].sub),
        Some(json!({ "status": "suspended" })),
        200,
    )
    .await;
    let invitee = ctx.user("invitee");
    let address = invitee.email.clone().unwrap_or_default();
    let since = chrono::Utc::now().timestamp() - 1;
    ctx.must(
        &owner,
        "POST",
        &format!("/orgs/{org}/invitations"),
        Some(json!({ "invitations": [{ "email": address }] })),
        200,
    )
    .await;
    let email_token = ctx.mailed(&address, since).await.last().cloned().unwrap_or_default();
    let token = ctx.link(&owner, &org, json!({})).await;
    let joiners: Vec<User> = (0..(4 + ctx.rng.below(8))).map(|i| ctx.user(&format!("j{i}"))).collect();
    let mut calls: Vec<Call> = joiners
        .iter()
        .map(|u| {
            call(Route::Accept, u, "POST", "/invitations/accept".into(), Some(json!({ "token": token })))
        })
        .collect();
    calls.push(call(
        Route::Accept,
        &invitee,
        "POST",
        "/invitations/accept".into(),
        Some(json!({ "token": email_token })),
    ));
    calls.push(call(
        Route::Change,
        &owner,
        "PATCH",
        format!("/orgs/{org}/members/{}", m[2].sub),
        Some(json!({ "status": "active" })),
    ));
    for i in 0..(1 + ctx.rng.below(3)) {
        let a = ctx.app.email(&format!("r{}-new{i}", ctx.round));
        calls.push(call(
            Route::Invite,
            &owner,
            "POST",
            format!("/orgs/{org}/invitations"),
            Some(json!({ "invitations": [{ "email": a }] })),
        ));
    }
    let len = calls.len();
    for i in 0..len {
        calls.swap(i, ctx.rng.below(len));
    }
    let answers = ctx.fire(calls).await;
    let mut people = vec![owner, invitee];
    people.extend(m);
    people.extend(joiners);
    if let Some(snap) = ctx.invariants(&org, &people, &answers).await {
        let active = snap.members.iter().filter(|m| m["status"] == "active").count();
        let pending = snap.invitations.iter().filter(|i| i["status"] == "pending").count();
        if active + pending > MAX {
            ctx.fail(
                "seat limit",
                format!("{active} active members and {pending} pending invitations exceed {MAX} seats"),
            );
        }
    }
}

/// With one organization per user, people join several organizations (and create one) at once.
async fn one_org_race(ctx: &mut Ctx<'_>) {
    let owners: Vec<User> = (0..3).map(|i| ctx.user(&format!("o{i}"))).collect();
    let mut orgs = Vec::new();
    let mut tokens = Vec::new();
    for o in &owners {
        let org = ctx.org(o, &[]).await;
        tokens.push(ctx.link(o, &org, json!({})).await);
        orgs.push(org);
    }
    let users: Vec<User> = (0..(4 + ctx.rng.below(4))).map(|i| ctx.user(&format!("u{i}"))).collect();
    let mut calls = Vec::new();
    for u in &users {
        for t in &tokens {
            calls.push(call(
                Route::Accept,
                u,
                "POST",
                "/invitations/accept".into(),
                Some(json!({ "token": t })),
            ));
        }
        if ctx.rng.chance(30) {
            calls.push(call(Route::CreateOrg, u, "POST", "/orgs".into(), Some(json!({ "name": "Mine" }))));
        }
    }
    let answers = ctx.fire(calls).await;
    for u in &users {
        let mine = ctx.pages(u, "/orgs", "orgs").await.unwrap_or_default();
        if mine.len() > 1 {
            ctx.fail(
                "one org per user",
                format!("{} belongs to {} organizations with one org per user", u.sub, mine.len()),
            );
        }
    }
    let mut people = owners.clone();
    people.extend(users);
    for org in &orgs {
        ctx.invariants(org, &people, &answers).await;
    }
}

/// Metadata PATCHes (each a value of its own) and role changes at one member by its owners
/// and an admin, with the app's clock stopped: every write lands in the same millisecond
/// (issue 22 item 4). However they interleave, no write may undo another unseen: the
/// member's `member.updated` events form one chain from the metadata before the round (each
/// event's `before` the previous one's `after`) ending at the stored metadata, its
/// `member.role_changed` events one path from the role before to the stored role, and every
/// metadata write answered 200 is in the chain once.
async fn same_instant(ctx: &mut Ctx<'_>) {
    let owner = ctx.user("owner");
    let co_owner = ctx.user("o1");
    let admin = ctx.user("admin");
    let target = ctx.user("m0");
    let org = ctx.org(&owner, &[(&co_owner, "owner"), (&admin, "admin"), (&target, "member")]).await;
    let path = format!("/orgs/{org}/members/{}", target.sub);
    let actors = [owner.clone(), co_owner.clone(), admin.clone()];
    let n = 10 + ctx.rng.below(11);
    let mut calls = Vec::new();
    for i in 0..n {
        let by = ctx.rng.pick(&actors).clone();
        let body = if ctx.rng.chance(70) {
            json!({ "metadata": { "write": i } })
        } else {
            json!({ "role": *ctx.rng.pick(&["member", "viewer"]) })
        };
        calls.push(call(Route::Change, &by, "PATCH", path.clone(), Some(body)));
    }
    let start = ctx.must(&owner, "GET", &path, None, 200).await.body["member"].clone();
    ctx.stage.freeze();
    let answers = ctx.fire(calls).await;
    ctx.stage.thaw();
    let stored = ctx.must(&owner, "GET", &path, None, 200).await.body["member"].clone();
    let audit = ctx.pages(&owner, &format!("/orgs/{org}/audit"), "events").await.unwrap_or_default();
    let about: Vec<&Value> = audit.iter().filter(|e| e["target"] == json!(target.sub)).collect();
    let of = |action: &str| {
        about.iter().filter(|e| e["action"] == action).map(|e| &e["details"]).collect::<Vec<_>>()
    };
    let metadata: Vec<(Value, Value)> = of("member.updated")
        .iter()
        .map(|d| (d["before"]["metadata"].clone(), d["after"]["metadata"].clone()))
        .collect();
    if let Err((invariant, why)) = chain(&start["metadata"], &stored["metadata"], &metadata) {
        let detail = ctx.named(&format!(
            "{why}; member.updated (before → after): {}; stored: {}",
            pairs(&metadata),
            stored["metadata"]
        ));
        ctx.fail(invariant, detail);
    }
    let roles: Vec<(Value, Value)> = of("member.role_changed")
        .iter()
        .map(|d| {
            let from = if d["from"].is_null() { &d["before"]["role"] } else { &d["from"] };
            let to = if d["to"].is_null() { &d["after"]["role"] } else { &d["to"] };
            (from.clone(), to.clone())
        })
        .collect();
    if !path_through(&start["role"], &stored["role"], &roles) {
        let detail = format!(
            "the role went from {} to {}, but member.role_changed says {}",
            start["role"],
            stored["role"],
            pairs(&roles)
        );
        ctx.fail("one role path", detail);
    }
    let written: Vec<&Value> = answers
        .calls
        .iter()
        .filter(|(c, r)| r.status == 200 && c.body.as_ref().is_some_and(|b| b.get("metadata").is_some()))
        .map(|(_, r)| &r.body["member"]["metadata"])
        .collect();
    let recorded: Vec<&Value> = metadata.iter().map(|(_, after)| after).collect();
    if written.len() != recorded.len() || written.iter().any(|w| !recorded.contains(w)) {
        ctx.fail(
            "writes answered and audited",
            format!(
                "{} metadata writes answered 200 ({}), {} member.updated events",
                written.len(),
                written.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", "),
                recorded.len()
            ),
        );
    }
    let people = vec![owner, co_owner, admin, target];
    ctx.invariants(&org, &people, &answers).await;
}

/// Workspace and group helpers of a round.
impl Ctx<'_> {
    async fn workspace(&mut self, by: &User, org: &str, name: &str) -> String {
        let path = format!("/orgs/{org}/workspaces");
        let r = self.must(by, "POST", &path, Some(json!({ "name": name })), 201).await;
        r.body["workspace"]["id"].as_str().unwrap_or_default().to_owned()
    }

    async fn group(&mut self, by: &User, org: &str, name: &str) -> String {
        let r =
            self.must(by, "POST", &format!("/orgs/{org}/groups"), Some(json!({ "name": name })), 201).await;
        r.body["group"]["id"].as_str().unwrap_or_default().to_owned()
    }

    /// `user`'s access to workspace `ws` (`you`: its sources), or the refusal's status.
    async fn you(&self, user: &User, org: &str, ws: &str) -> Result<BTreeSet<String>, u16> {
        let r = self.app.call(Some(user), "GET", &format!("/orgs/{org}/workspaces/{ws}"), None).await;
        if r.status != 200 {
            return Err(r.status);
        }
        Ok(via_set(&r.body["workspace"]["you"]["via"]))
    }

    /// `of`'s workspaces as `by` reads them: each id with its sources.
    async fn workspaces_of(&mut self, by: &User, org: &str, of: &User) -> BTreeMap<String, BTreeSet<String>> {
        let r =
            self.app.call(Some(by), "GET", &format!("/orgs/{org}/members/{}/workspaces", of.sub), None).await;
        if r.status != 200 {
            self.fail("workspace reads", format!("{}'s workspaces answered {} {}", of.sub, r.status, r.body));
        }
        r.body["workspaces"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| (w["id"].as_str().unwrap_or_default().to_owned(), via_set(&w["via"])))
            .collect()
    }

    /// The user ids a workspace's or group's member list shows (`path` without a query).
    async fn listed(&mut self, by: &User, path: &str) -> BTreeSet<String> {
        let Some(rows) = self.pages(by, path, "members").await else {
            self.fail("workspace reads", self.named(&format!("{path} could not be read")));
            return BTreeSet::new();
        };
        rows.iter().filter_map(|m| m["userId"].as_str().map(str::to_owned)).collect()
    }

    /// The purge catches up (past its grace), as it does within minutes.
    async fn purge(&self) {
        self.app.advance(roster::store::purge::PURGE_GRACE + Duration::from_secs(1));
        if let Err(e) = roster::handlers::purge::run(&self.app.app, || true).await {
            panic!("the purge failed: {e:?}");
        }
    }

    /// Once the purge has run, each workspace's and group's `memberCount` is its listed
    /// members (`objects`: paths of workspaces and groups).
    async fn counts_agree(&mut self, by: &User, objects: &[String]) {
        for path in objects {
            let r = self.app.call(Some(by), "GET", path, None).await;
            let object = if path.contains("/groups/") { &r.body["group"] } else { &r.body["workspace"] };
            let Some(count) = object["memberCount"].as_u64() else {
                self.fail("workspace reads", self.named(&format!("{path} answered {} {}", r.status, r.body)));
                continue;
            };
            let listed = self.listed(by, &format!("{path}/members")).await;
            if count != listed.len() as u64 {
                let what =
                    format!("{path}: memberCount {count} after the purge, {} members listed", listed.len());
                self.fail("memberCount after the purge", self.named(&what));
            }
        }
    }
}

fn via_set(via: &Value) -> BTreeSet<String> {
    via.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
}

fn shuffle(rng: &mut Rng, calls: &mut [Call]) {
    for i in 0..calls.len() {
        let j = rng.below(calls.len());
        calls.swap(i, j);
    }
}

/// Whether a call of `route` whose path ends with `/{tail}` answered `2xx`.
fn answered_ok(answers: &Answers, route: Route, tail: &str) -> bool {
    let tail = format!("/{tail}");
    answers
        .calls
        .iter()
        .any(|(c, r)| c.route == route && c.path.ends_with(&tail) && (200..300).contains(&r.status))
}

/// Members are removed from the organization (or leave) while being added to a workspace
/// and to a group granted another workspace; the removed are then invited again. However
/// the adds and removals interleave, the re-invited have none of the old access (a workspace
/// or group membership belongs to its joining: API.md), those not removed have exactly what
/// was answered, a bystander keeps theirs, and once the purge has run every count is its
/// members.
async fn removal_races_adds(ctx: &mut Ctx<'_>) {
    let read = super::authorize::Catalog::deployed().permissions.remove(READ_IN_WORKSPACE);
    assert!(
        read.is_some_and(|p| p.ws_roles.len() == WsRole::ALL.len()),
        "{READ_IN_WORKSPACE} is no longer a workspace permission every workspace role holds"
    );
    let owner = ctx.user("owner");
    let bystander = ctx.user("b0");
    let k = 4 + ctx.rng.below(3);
    let targets: Vec<User> = (0..k).map(|i| ctx.user(&format!("t{i}"))).collect();
    let mut members: Vec<(&User, &str)> = vec![(&bystander, "member")];
    for t in &targets {
        members.push((t, if ctx.rng.chance(50) { "member" } else { "viewer" }));
    }
    // Suspended while the others race, and checked racing it (not one of the round's people:
    // only the checks look at them).
    let suspended = ctx.user("s0");
    members.push((&suspended, "member"));
    let org_roles: BTreeMap<String, &str> = members.iter().map(|(u, r)| (u.sub.clone(), *r)).collect();
    let org = ctx.org(&owner, &members).await;
    let ws = ctx.workspace(&owner, &org, "Apollo").await;
    let other = ctx.workspace(&owner, &org, "Zeus").await;
    let team = ctx.group(&owner, &org, "Team").await;
    let body = Some(json!({ "role": "member" }));
    ctx.must(&owner, "PUT", &format!("/orgs/{org}/workspaces/{other}/groups/{team}"), body, 201).await;
    let ws_member = |u: &User| format!("/orgs/{org}/workspaces/{ws}/members/{}", u.sub);
    let group_member = |u: &User| format!("/orgs/{org}/groups/{team}/members/{}", u.sub);
    // A member's access to the organization, to `ws` and to `other` (a permission every
    // workspace role holds).
    let checks_of = |u: &User| -> Vec<Value> {
        let permission = READ_IN_WORKSPACE;
        vec![
            json!({ "userId": u.sub, "orgId": org, "permission": "org:read" }),
            json!({ "userId": u.sub, "orgId": org, "permission": permission, "workspaceId": ws }),
            json!({ "userId": u.sub, "orgId": org, "permission": permission, "workspaceId": other }),
        ]
    };
    ctx.must(&owner, "PUT", &ws_member(&bystander), Some(json!({ "role": null })), 201).await;
    ctx.must(&owner, "PUT", &group_member(&bystander), None, 201).await;
    ctx.must(&owner, "PUT", &ws_member(&suspended), Some(json!({ "role": null })), 201).await;
    let mut calls = Vec::new();
    for t in &targets {
        let roles = [json!(null), json!("admin"), json!("member"), json!("viewer")];
        for _ in 0..(1 + usize::from(ctx.rng.chance(40))) {
            let role = ctx.rng.pick(&roles).clone();
            calls.push(call(Route::PutWsMember, &owner, "PUT", ws_member(t), Some(json!({ "role": role }))));
        }
        calls.push(call(Route::PutGroupMember, &owner, "PUT", group_member(t), None));
        let by = if ctx.rng.chance(25) { t } else { &owner };
        let mut remove = call(Route::Remove, by, "DELETE", format!("/orgs/{org}/members/{}", t.sub), None);
        remove.then = Some(Box::new(authorize_call(Route::AuthorizeAfter, checks_of(t))));
        calls.push(remove);
    }
    let path = format!("/orgs/{org}/members/{}", suspended.sub);
    let mut suspend = call(Route::Change, &owner, "PATCH", path, Some(json!({ "status": "suspended" })));
    suspend.then = Some(Box::new(authorize_call(Route::AuthorizeAfter, checks_of(&suspended))));
    calls.push(suspend);
    // Checks of everyone's access racing the removals, the suspension and the adds (API.md
    // "Checks").
    let mut everyone = checks_of(&bystander);
    everyone.extend(checks_of(&suspended));
    targets.iter().for_each(|t| everyone.extend(checks_of(t)));
    calls.extend((0..2).map(|_| authorize_call(Route::Authorize, everyone.clone())));
    shuffle(&mut ctx.rng, &mut calls);
    let answers = ctx.fire(calls).await;
    let mut people = vec![owner.clone(), bystander.clone()];
    people.extend(targets.iter().cloned());
    ctx.invariants(&org, &people, &answers).await;
    let (bystander_sub, suspended_sub) = (bystander.sub.as_str(), suspended.sub.as_str());
    authorized_as_before_or_after(ctx, &answers, &org_roles, (bystander_sub, suspended_sub), &other);
    let removed = answers.removed();
    let team_via = format!("group:{team}");
    for t in &targets {
        if removed.contains(&t.sub) {
            ctx.app.add_member(&owner, &org, t, "member").await;
            for w in [&ws, &other] {
                if let Ok(via) = ctx.you(t, &org, w).await {
                    let what =
                        format!("{} was removed and invited again, and has {w} through {via:?}", t.sub);
                    ctx.fail("rejoined with old access", ctx.named(&what));
                }
            }
            let theirs = ctx.workspaces_of(&owner, &org, t).await;
            let in_ws =
                ctx.listed(&owner, &format!("/orgs/{org}/workspaces/{ws}/members")).await.contains(&t.sub);
            let in_group =
                ctx.listed(&owner, &format!("/orgs/{org}/groups/{team}/members")).await.contains(&t.sub);
            if !theirs.is_empty() || in_ws || in_group {
                let what = format!(
                    "{} was removed and invited again: workspaces {theirs:?}, listed in {ws}: {in_ws}, in {team}: {in_group}",
                    t.sub
                );
                ctx.fail("rejoined with old access", ctx.named(&what));
            }
            continue;
        }
        // Not removed (its removal lost to the others): what the adds answered.
        let direct = answered_ok(&answers, Route::PutWsMember, &t.sub);
        let grouped = answered_ok(&answers, Route::PutGroupMember, &t.sub);
        let want =
            |source: &str, given: bool| if given { [source.to_owned()].into() } else { BTreeSet::new() };
        for (w, want) in [(&ws, want("direct", direct)), (&other, want(&team_via, grouped))] {
            let got = ctx.you(t, &org, w).await;
            let agrees = match &got {
                Ok(via) => *via == want,
                Err(404) => want.is_empty(),
                Err(_) => false,
            };
            if !agrees {
                let what =
                    format!("{} (not removed) has {got:?} in {w}, but the answers give {want:?}", t.sub);
                ctx.fail("access as answered", ctx.named(&what));
            }
        }
    }
    let kept = (ctx.you(&bystander, &org, &ws).await, ctx.you(&bystander, &org, &other).await);
    if kept != (Ok(["direct".to_owned()].into()), Ok([team_via].into())) {
        ctx.fail("access as answered", ctx.named(&format!("the bystander's access is now {kept:?}")));
    }
    ctx.purge().await;
    let objects = [format!("/orgs/{org}/workspaces/{ws}"), format!("/orgs/{org}/groups/{team}")];
    ctx.counts_agree(&owner, &objects).await;
}

/// A workspace-scope permission of the catalog (`infra/permissions.json`) that every
/// workspace role holds.
const READ_IN_WORKSPACE: &str = "projects:read";

/// An expected `POST /authorize` result: `(allowed, reason, role)`.
type Expected = (bool, &'static str, Option<&'static str>);

/// Every `POST /authorize` answer of a round that answered `200`, check by check: the call's
/// route, the check's place in its batch, the check and its result. A batch whose results do
/// not pair with its checks is a wrong answer of its own (in `wrong`).
fn checks_answered(answers: &Answers, wrong: &mut Vec<String>) -> Vec<(Route, usize, Value, Value)> {
    let mut out = Vec::new();
    for (c, r) in &answers.calls {
        if !matches!(c.route, Route::Authorize | Route::AuthorizeAfter) || r.status != 200 {
            continue;
        }
        let checks = c.body.as_ref().and_then(|b| b["checks"].as_array().cloned()).unwrap_or_default();
        let results = r.body["results"].as_array().cloned().unwrap_or_default();
        if results.len() != checks.len() {
            wrong.push(format!("{} results for {} checks: {}", results.len(), checks.len(), r.body));
            continue;
        }
        let batch = checks.into_iter().zip(results).enumerate();
        out.extend(batch.map(|(j, (check, result))| (c.route, j, check, result)));
    }
    out
}

/// Each `POST /authorize` answer of a round whose calls all send the same checks: check `j`
/// racing answers one of `racing[j]`, sent after the call it follows answered `after[j]`.
fn authorized_as(ctx: &mut Ctx<'_>, answers: &Answers, racing: &[Vec<Expected>], after: &[Expected]) {
    let mut wrong = Vec::new();
    for (route, j, check, result) in checks_answered(answers, &mut wrong) {
        let got = (result["allowed"].as_bool(), result["reason"].as_str(), result["role"].as_str());
        let is = |e: &Expected| got == (Some(e.0), Some(e.1), e.2);
        let (fits, when) = match route {
            Route::AuthorizeAfter => (is(&after[j]), "after the call it follows answered"),
            _ => (racing[j].iter().any(is), "racing"),
        };
        if !fits {
            wrong.push(format!("{when}: {check} answered {result}"));
        }
    }
    for what in wrong {
        let what = ctx.named(&what);
        ctx.fail("authorize as before or after", what);
    }
}

/// The `POST /authorize` answers of [`removal_races_adds`]: a check racing a removal and
/// the adds answers as before it or after it (the member's organization role; their
/// workspace role as a `2xx` put answered it, or none; the group's grant once their group
/// put answered `2xx`; `not_member` once removed), one sent after the removal answered
/// `2xx` answers `not_member`, and the bystander's answers never move; the suspended
/// member's answer as before the suspension or `suspended`, only `suspended` once it
/// answered `2xx`.
fn authorized_as_before_or_after(
    ctx: &mut Ctx<'_>,
    answers: &Answers,
    org_roles: &BTreeMap<String, &str>,
    (bystander, suspended): (&str, &str),
    other: &str,
) {
    let ws_roles = |sub: &str| -> BTreeSet<String> {
        let tail = format!("/{sub}");
        let puts = answers.calls.iter().filter(|(c, r)| {
            c.route == Route::PutWsMember && c.path.ends_with(&tail) && (200..300).contains(&r.status)
        });
        // `null` follows the organization role (a member or viewer here).
        puts.map(|(c, _)| {
            c.body.as_ref().and_then(|b| b["role"].as_str()).unwrap_or(org_roles[sub]).to_owned()
        })
        .collect()
    };
    let mut wrong = Vec::new();
    for (route, _, check, result) in checks_answered(answers, &mut wrong) {
        let sub = check["userId"].as_str().unwrap_or_default();
        let got = (
            result["allowed"].as_bool(),
            result["reason"].as_str().unwrap_or_default(),
            result["role"].as_str().map(str::to_owned),
        );
        let is = |allowed: bool, reason: &str, role: Option<&str>| {
            got == (Some(allowed), reason, role.map(str::to_owned))
        };
        let gone = is(false, "not_member", None);
        let outside = is(false, "not_in_workspace", None);
        let fits = if sub == bystander {
            is(true, "granted", Some("member"))
        } else if sub == suspended {
            let before = match check["workspaceId"].as_str() {
                Some(w) if w == other => outside,
                _ => is(true, "granted", Some("member")),
            };
            is(false, "suspended", None) || (route == Route::Authorize && before)
        } else if route == Route::AuthorizeAfter {
            gone
        } else {
            gone || match check["workspaceId"].as_str() {
                None => is(true, "granted", Some(org_roles[sub])),
                Some(w) if w == other => {
                    outside
                        || (is(true, "granted", Some("member"))
                            && answered_ok(answers, Route::PutGroupMember, sub))
                }
                Some(_) => {
                    outside
                        || (got.0 == Some(true)
                            && got.1 == "granted"
                            && got.2.as_ref().is_some_and(|role| ws_roles(sub).contains(role)))
                }
            }
        };
        if !fits {
            let when =
                if route == Route::AuthorizeAfter { "after the call it follows answered" } else { "racing" };
            wrong.push(format!("{when}: {check} answered {result}"));
        }
    }
    for what in wrong {
        let what = ctx.named(&what);
        ctx.fail("authorize as before or after", what);
    }
}

/// A group is deleted (once or twice) while it is granted workspaces and gets members,
/// beside a group that stays. Once a deletion answered 204, nobody has access through the
/// group, no workspace lists its grant, and it takes no grant or member; the other group's
/// members keep what it gives.
async fn group_deleted_while_granted(ctx: &mut Ctx<'_>) {
    let owner = ctx.user("owner");
    let admin = ctx.user("admin");
    let m: Vec<User> = (0..5).map(|i| ctx.user(&format!("m{i}"))).collect();
    let mut members: Vec<(&User, &str)> = vec![(&admin, "admin")];
    members.extend(m.iter().map(|u| (u, if u.sub.ends_with(['0', '2']) { "viewer" } else { "member" })));
    let org = ctx.org(&owner, &members).await;
    let w = [ctx.workspace(&owner, &org, "Apollo").await, ctx.workspace(&owner, &org, "Gemini").await];
    let doomed = ctx.group(&owner, &org, "Doomed").await;
    let kept = ctx.group(&owner, &org, "Kept").await;
    for u in &m[..2] {
        ctx.must(&owner, "PUT", &format!("/orgs/{org}/groups/{doomed}/members/{}", u.sub), None, 201).await;
    }
    ctx.must(&owner, "PUT", &format!("/orgs/{org}/groups/{kept}/members/{}", m[4].sub), None, 201).await;
    let body = Some(json!({ "role": "viewer" }));
    ctx.must(&owner, "PUT", &format!("/orgs/{org}/workspaces/{}/groups/{kept}", w[1]), body, 201).await;
    let actors = [owner.clone(), admin.clone()];
    let n = 12 + ctx.rng.below(11);
    let mut calls = Vec::new();
    for _ in 0..n {
        let by = ctx.rng.pick(&actors).clone();
        let target = ctx.rng.pick(&m).clone();
        let role = *ctx.rng.pick(&["admin", "member", "viewer"]);
        let ws = ctx.rng.pick(&w).clone();
        calls.push(match ctx.rng.below(8) {
            0..=2 => call(
                Route::Grant,
                &by,
                "PUT",
                format!("/orgs/{org}/workspaces/{ws}/groups/{doomed}"),
                Some(json!({ "role": role })),
            ),
            3..=5 => call(
                Route::PutGroupMember,
                &by,
                "PUT",
                format!("/orgs/{org}/groups/{doomed}/members/{}", target.sub),
                None,
            ),
            6 => call(
                Route::PutGroupMember,
                &by,
                "PUT",
                format!("/orgs/{org}/groups/{kept}/members/{}", target.sub),
                None,
            ),
            _ => call(
                Route::Grant,
                &by,
                "PUT",
                format!("/orgs/{org}/workspaces/{}/groups/{kept}", w[0]),
                Some(json!({ "role": role })),
            ),
        });
    }
    for _ in 0..(1 + usize::from(ctx.rng.chance(30))) {
        let by = ctx.rng.pick(&actors).clone();
        let at = ctx.rng.below(calls.len() + 1);
        calls.insert(
            at,
            call(Route::DeleteGroup, &by, "DELETE", format!("/orgs/{org}/groups/{doomed}"), None),
        );
    }
    let answers = ctx.fire(calls).await;
    let mut people = vec![owner.clone(), admin.clone()];
    people.extend(m.iter().cloned());
    ctx.invariants(&org, &people, &answers).await;
    let doomed_via = format!("group:{doomed}");
    let kept_via = format!("group:{kept}");
    if answers.count(Route::DeleteGroup, 204) > 0 {
        for p in &people {
            let theirs = ctx.workspaces_of(&owner, &org, p).await;
            let mut through: Vec<String> = theirs
                .iter()
                .filter(|(_, via)| via.contains(&doomed_via))
                .map(|(id, _)| id.clone())
                .collect();
            for ws in &w {
                if ctx.you(p, &org, ws).await.is_ok_and(|via| via.contains(&doomed_via)) {
                    through.push(format!("{ws} (you)"));
                }
            }
            if !through.is_empty() {
                let what = format!("{} reaches {through:?} through the deleted group", p.sub);
                ctx.fail("deleted group grants nothing", ctx.named(&what));
            }
        }
        for ws in &w {
            let r = ctx.app.call(Some(&owner), "GET", &format!("/orgs/{org}/workspaces/{ws}"), None).await;
            let listed =
                r.body["groups"].as_array().into_iter().flatten().any(|g| g["groupId"] == json!(doomed));
            if listed {
                ctx.fail(
                    "deleted group grants nothing",
                    ctx.named(&format!("{ws} still lists the deleted group's grant")),
                );
            }
        }
        let after = [
            ("GET", format!("/orgs/{org}/groups/{doomed}"), None),
            ("PUT", format!("/orgs/{org}/groups/{doomed}/members/{}", m[3].sub), None),
            (
                "PUT",
                format!("/orgs/{org}/workspaces/{}/groups/{doomed}", w[0]),
                Some(json!({ "role": "admin" })),
            ),
        ];
        for (method, path, body) in after {
            let r = ctx.app.call(Some(&owner), method, &path, body).await;
            if r.status != 404 {
                let what =
                    format!("{method} {path} after the group's deletion answered {} {}", r.status, r.body);
                ctx.fail("deleted group grants nothing", ctx.named(&what));
            }
        }
    }
    // The kept group: its members (answered, or from the setup) reach what it was granted.
    let granted_first = answered_ok(&answers, Route::Grant, &format!("groups/{kept}"));
    for u in &m {
        let placed = u.sub == m[4].sub
            || answered_ok(&answers, Route::PutGroupMember, &format!("{kept}/members/{}", u.sub));
        if !placed {
            continue;
        }
        for (ws, granted) in [(&w[0], granted_first), (&w[1], true)] {
            let got = ctx.you(u, &org, ws).await;
            if granted != got.as_ref().is_ok_and(|via| via.contains(&kept_via)) {
                let what =
                    format!("{} is in the kept group (granted {ws}: {granted}) but has {got:?} there", u.sub);
                ctx.fail("access as answered", ctx.named(&what));
            }
        }
    }
    ctx.purge().await;
    let mut objects: Vec<String> = w.iter().map(|ws| format!("/orgs/{org}/workspaces/{ws}")).collect();
    objects.push(format!("/orgs/{org}/groups/{kept}"));
    ctx.counts_agree(&owner, &objects).await;
}

/// A workspace is deleted (once or twice) while its admins (an organization admin, the
/// owner, and a member who is the workspace's admin) add members, rename it and grant it to
/// a group, beside a workspace that stays. Once a deletion answered 204 it is gone for
/// everyone: no read, list or member's workspaces shows it and it takes no member; the
/// other workspace keeps what was answered.
async fn workspace_deleted_while_filled(ctx: &mut Ctx<'_>) {
    let owner = ctx.user("owner");
    let admin = ctx.user("admin");
    let m: Vec<User> = (0..5).map(|i| ctx.user(&format!("m{i}"))).collect();
    let mut members: Vec<(&User, &str)> = vec![(&admin, "admin")];
    members.extend(m.iter().map(|u| (u, if u.sub.ends_with(['1', '3']) { "viewer" } else { "member" })));
    let org = ctx.org(&owner, &members).await;
    let doomed = ctx.workspace(&owner, &org, "Doomed").await;
    let kept = ctx.workspace(&owner, &org, "Kept").await;
    let team = ctx.group(&owner, &org, "Team").await;
    for u in &m[3..] {
        ctx.must(&owner, "PUT", &format!("/orgs/{org}/groups/{team}/members/{}", u.sub), None, 201).await;
    }
    // m0 is the doomed workspace's admin, and adds members too.
    let body = Some(json!({ "role": "admin" }));
    ctx.must(&owner, "PUT", &format!("/orgs/{org}/workspaces/{doomed}/members/{}", m[0].sub), body, 201)
        .await;
    let actors = [owner.clone(), admin.clone(), m[0].clone()];
    let n = 12 + ctx.rng.below(11);
    let mut calls = Vec::new();
    for _ in 0..n {
        let by = ctx.rng.pick(&actors).clone();
        let target = ctx.rng.pick(&m[1..]).clone();
        let role = json!(*ctx.rng.pick(&["admin", "member", "viewer"]));
        calls.push(match ctx.rng.below(8) {
            0..=3 => call(
                Route::PutWsMember,
                &by,
                "PUT",
                format!("/orgs/{org}/workspaces/{doomed}/members/{}", target.sub),
                Some(json!({ "role": role })),
            ),
            4 => call(
                Route::Grant,
                &owner,
                "PUT",
                format!("/orgs/{org}/workspaces/{doomed}/groups/{team}"),
                Some(json!({ "role": role })),
            ),
            5 => call(
                Route::UpdateWorkspace,
                &by,
                "PATCH",
                format!("/orgs/{org}/workspaces/{doomed}"),
                Some(json!({ "name": format!("Renamed {}", ctx.rng.below(100)) })),
            ),
            _ => call(
                Route::PutWsMember,
                &admin,
                "PUT",
                format!("/orgs/{org}/workspaces/{kept}/members/{}", target.sub),
                Some(json!({ "role": null })),
            ),
        });
    }
    for _ in 0..(1 + usize::from(ctx.rng.chance(30))) {
        let by = if ctx.rng.chance(50) { owner.clone() } else { admin.clone() };
        let at = ctx.rng.below(calls.len() + 1);
        calls.insert(
            at,
            call(Route::DeleteWorkspace, &by, "DELETE", format!("/orgs/{org}/workspaces/{doomed}"), None),
        );
    }
    // Checks racing the deletion, and one right after each deletion answered (API.md
    // "Checks"): the doomed workspace's admins have it until it is gone, then `no_workspace`;
    // an org-scope permission is the organization role's even with the doomed workspace
    // named; m0 never had the kept workspace.
    let check = |u: &User, permission: &str, ws: &str| json!({ "userId": u.sub, "orgId": org, "permission": permission, "workspaceId": ws });
    let checks = vec![
        check(&owner, READ_IN_WORKSPACE, &doomed),
        check(&m[0], READ_IN_WORKSPACE, &doomed),
        check(&owner, "org:read", &doomed),
        check(&m[0], READ_IN_WORKSPACE, &kept),
    ];
    let gone = (false, "no_workspace", None);
    let admin_of = (true, "granted", Some("admin"));
    let owner_reads = (true, "granted", Some("owner"));
    let outside = (false, "not_in_workspace", None);
    let racing = [vec![admin_of, gone], vec![admin_of, gone], vec![owner_reads], vec![outside]];
    let after = [gone, gone, owner_reads, outside];
    for c in calls.iter_mut().filter(|c| c.route == Route::DeleteWorkspace) {
        c.then = Some(Box::new(authorize_call(Route::AuthorizeAfter, checks.clone())));
    }
    for _ in 0..2 {
        let at = ctx.rng.below(calls.len() + 1);
        calls.insert(at, authorize_call(Route::Authorize, checks.clone()));
    }
    let answers = ctx.fire(calls).await;
    let mut people = vec![owner.clone(), admin.clone()];
    people.extend(m.iter().cloned());
    ctx.invariants(&org, &people, &answers).await;
    authorized_as(ctx, &answers, &racing, &after);
    if answers.count(Route::DeleteWorkspace, 204) > 0 {
        for p in &people {
            if let Ok(via) = ctx.you(p, &org, &doomed).await {
                let what = format!("{} still reads the deleted workspace {doomed} (via {via:?})", p.sub);
                ctx.fail("deleted workspace gone", ctx.named(&what));
            }
            if ctx.workspaces_of(&owner, &org, p).await.contains_key(&doomed) {
                let what = format!("{}'s workspaces still list the deleted {doomed}", p.sub);
                ctx.fail("deleted workspace gone", ctx.named(&what));
            }
        }
        for lister in [&owner, &admin] {
            let listed =
                ctx.pages(lister, &format!("/orgs/{org}/workspaces"), "workspaces").await.unwrap_or_default();
            if listed.iter().any(|w| w["id"] == json!(doomed)) {
                let what = format!("{}'s list of workspaces still shows the deleted {doomed}", lister.sub);
                ctx.fail("deleted workspace gone", ctx.named(&what));
            }
        }
        let path = format!("/orgs/{org}/workspaces/{doomed}/members/{}", m[2].sub);
        let r = ctx.app.call(Some(&owner), "PUT", &path, Some(json!({ "role": null }))).await;
        if r.status != 404 {
            let what = format!("PUT {path} after the deletion answered {} {}", r.status, r.body);
            ctx.fail("deleted workspace gone", ctx.named(&what));
        }
    }
    // The kept workspace: those added (answered) are its direct members.
    for u in &m[1..] {
        let added = answered_ok(&answers, Route::PutWsMember, &format!("{kept}/members/{}", u.sub));
        let got = ctx.you(u, &org, &kept).await;
        if added != got.as_ref().is_ok_and(|via| via.contains("direct")) {
            let what = format!("{} was added to the kept workspace: {added}, but has {got:?} there", u.sub);
            ctx.fail("access as answered", ctx.named(&what));
        }
    }
    ctx.purge().await;
    let objects = [format!("/orgs/{org}/workspaces/{kept}"), format!("/orgs/{org}/groups/{team}")];
    ctx.counts_agree(&owner, &objects).await;
}

fn pairs(edges: &[(Value, Value)]) -> String {
    let shown: Vec<String> = edges.iter().map(|(a, b)| format!("{a} → {b}")).collect();
    if shown.is_empty() { "nothing".into() } else { shown.join(", ") }
}

/// Whether `edges` (values all distinct on the `after` side) link up as one chain from
/// `start` that ends at `end`, each used once; which invariant fails and why, if not.
fn chain(start: &Value, end: &Value, edges: &[(Value, Value)]) -> Result<(), (&'static str, String)> {
    let mut used = vec![false; edges.len()];
    let mut at = start.clone();
    loop {
        let next: Vec<usize> = (0..edges.len()).filter(|&i| !used[i] && edges[i].0 == at).collect();
        match next.as_slice() {
            [] => break,
            [i] => {
                used[*i] = true;
                at = edges[*i].1.clone();
            }
            several => {
                let from: Vec<String> = several.iter().map(|&i| edges[i].1.to_string()).collect();
                let why = format!("{} writes started from {at}: to {}", several.len(), from.join(", "));
                return Err(("one metadata chain", why));
            }
        }
    }
    if let Some(i) = used.iter().position(|u| !u) {
        return Err((
            "one metadata chain",
            format!("the write {} → {} follows no other", edges[i].0, edges[i].1),
        ));
    }
    if &at != end {
        return Err(("last metadata write stored", format!("the last write left {at}, but {end} is stored")));
    }
    Ok(())
}

/// Whether `edges` can be walked in some order, each once, from `start` to `end` (an Euler
/// path: roles repeat, so there is no single chain to follow).
fn path_through(start: &Value, end: &Value, edges: &[(Value, Value)]) -> bool {
    let mut balance: BTreeMap<String, i64> = BTreeMap::new();
    for (from, to) in edges {
        *balance.entry(from.to_string()).or_default() += 1;
        *balance.entry(to.to_string()).or_default() -= 1;
    }
    *balance.entry(start.to_string()).or_default() -= 1;
    *balance.entry(end.to_string()).or_default() += 1;
    if balance.values().any(|b| *b != 0) {
        return false;
    }
    // Every edge reachable from `start` (with the balance above, an Euler path exists then).
    let mut reached: BTreeSet<String> = [start.to_string()].into();
    loop {
        let before = reached.len();
        for (from, to) in edges {
            if reached.contains(&from.to_string()) {
                reached.insert(to.to_string());
            }
        }
        if reached.len() == before {
            break;
        }
    }
    edges.iter().all(|(from, _)| reached.contains(&from.to_string()))
}

/// A custom role deleted while it is being granted, and its permissions changed while checks
/// run (issue 25): members, a direct workspace membership and a group's grant are given the
/// role while one or two deletions of it race them, and a change of its permissions races
/// checks. Half the rounds start with a member holding it (every deletion must then be
/// refused). Whatever the interleaving: a deletion that answered `204` followed no
/// assignment that answered `2xx` and left no holder; a refused one left the role; a check
/// sent after the permission change's `2xx` answers the new permissions.
async fn role_deleted_while_granted(ctx: &mut Ctx<'_>) {
    let owner = ctx.user("owner");
    let admin = ctx.user("admin");
    let m: Vec<User> = (0..4).map(|i| ctx.user(&format!("m{i}"))).collect();
    let mut members: Vec<(&User, &str)> = vec![(&admin, "admin")];
    members.extend(m.iter().map(|u| (u, "member")));
    let org = ctx.org(&owner, &members).await;
    let ws = ctx.workspace(&owner, &org, "Apollo").await;
    let group = ctx.group(&owner, &org, "Crew").await;
    let role = json!({ "key": "crew", "name": "Crew", "base": "member", "permissions": ["billing:read"] });
    ctx.must(&owner, "POST", &format!("/orgs/{org}/roles"), Some(role), 201).await;
    let anchored = ctx.rng.chance(50);
    if anchored {
        let path = format!("/orgs/{org}/members/{}", m[0].sub);
        ctx.must(&owner, "PATCH", &path, Some(json!({ "role": "crew" })), 200).await;
    }
    let check = json!({ "userId": m[0].sub, "orgId": org, "permission": "billing:read" });
    let crew = Some(json!({ "role": "crew" }));
    // Few assignments, so that a deletion often finds no holder yet while one is still in
    // flight: the interleaving the role check exists for.
    let actors = [owner.clone(), admin.clone()];
    let mut calls = Vec::new();
    for _ in 0..(1 + ctx.rng.below(4)) {
        let by = ctx.rng.pick(&actors).clone();
        let target = ctx.rng.pick(&m[1..]).clone();
        calls.push(match ctx.rng.below(3) {
            0 => {
                call(Route::Change, &by, "PATCH", format!("/orgs/{org}/members/{}", target.sub), crew.clone())
            }
            1 => call(
                Route::PutWsMember,
                &by,
                "PUT",
                format!("/orgs/{org}/workspaces/{ws}/members/{}", target.sub),
                crew.clone(),
            ),
            _ => call(
                Route::Grant,
                &owner,
                "PUT",
                format!("/orgs/{org}/workspaces/{ws}/groups/{group}"),
                crew.clone(),
            ),
        });
    }
    for _ in 0..ctx.rng.below(4) {
        calls.push(authorize_call(Route::Authorize, vec![check.clone()]));
    }
    // The permission change races the checks where a holder makes them meaningful (and
    // every deletion is refused anyway).
    if anchored {
        let path = format!("/orgs/{org}/roles/crew");
        let mut update = call(Route::UpdateRole, &owner, "PATCH", path, Some(json!({ "permissions": [] })));
        update.then = Some(Box::new(authorize_call(Route::AuthorizeAfter, vec![check.clone()])));
        calls.push(update);
    }
    for _ in 0..(1 + usize::from(ctx.rng.chance(30))) {
        calls.push(call(Route::DeleteRole, &owner, "DELETE", format!("/orgs/{org}/roles/crew"), None));
    }
    shuffle(&mut ctx.rng, &mut calls);
    let answers = ctx.fire(calls).await;
    let mut people = vec![owner.clone(), admin.clone()];
    people.extend(m.iter().cloned());
    ctx.invariants(&org, &people, &answers).await;

    let granted: usize = [Route::Change, Route::PutWsMember, Route::Grant]
        .iter()
        .map(|r| answers.count(*r, 200) + answers.count(*r, 201))
        .sum();
    let roles = ctx.app.call(Some(&owner), "GET", &format!("/orgs/{org}/roles"), None).await;
    let exists = roles.body["roles"].as_array().into_iter().flatten().any(|r| r["key"] == "crew");
    let deleted = answers.count(Route::DeleteRole, 204) > 0;
    if deleted && exists {
        ctx.fail("a deleted role is gone", ctx.named("a deletion answered 204 and the role is still listed"));
    }
    if !deleted && !exists {
        ctx.fail("a deleted role is gone", ctx.named("no deletion answered 204 and the role is gone"));
    }
    if deleted && (granted > 0 || anchored) {
        let what = format!(
            "a deletion answered 204 though {granted} assignments answered 2xx (anchored: {anchored})"
        );
        ctx.fail("a deleted role has no holder", ctx.named(&what));
    }
    if deleted {
        let members =
            ctx.app.call(Some(&owner), "GET", &format!("/orgs/{org}/members?limit=100"), None).await;
        let ws_members = ctx
            .app
            .call(Some(&owner), "GET", &format!("/orgs/{org}/workspaces/{ws}/members?limit=100"), None)
            .await;
        let read = ctx.app.call(Some(&owner), "GET", &format!("/orgs/{org}/workspaces/{ws}"), None).await;
        let holders = [&members.body["members"], &ws_members.body["members"], &read.body["groups"]]
            .iter()
            .flat_map(|list| list.as_array().cloned().unwrap_or_default())
            .filter(|item| item["customRole"] == "crew")
            .count();
        if holders > 0 {
            ctx.fail(
                "a deleted role has no holder",
                ctx.named(&format!("{holders} items still hold the deleted role")),
            );
        }
    }
    // Checks of m0: with the role (anchored) `crew` decides, before the change allowed or
    // not, after it never; without, the built-in member never holds billing:read.
    let mut wrong = Vec::new();
    for (c, r) in &answers.calls {
        if !matches!(c.route, Route::Authorize | Route::AuthorizeAfter) || r.status != 200 {
            continue;
        }
        let got = &r.body["results"][0];
        let denied_as =
            |role: &str| *got == json!({ "allowed": false, "reason": "no_permission", "role": role });
        let fine = match (anchored, c.route) {
            (false, _) => denied_as("member"),
            (true, Route::AuthorizeAfter) => denied_as("crew"),
            (true, _) => {
                denied_as("crew") || *got == json!({ "allowed": true, "reason": "granted", "role": "crew" })
            }
        };
        if !fine {
            wrong.push(format!("{:?} answered {got}", c.route));
        }
    }
    if !wrong.is_empty() {
        ctx.fail("checks answer the role as it is", ctx.named(&wrong.join("; ")));
    }
}
