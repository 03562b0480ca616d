//! Sequences: generate and run steps against a fresh app, and on a failure shrink the steps
//! (delete-steps shrinking: replay shorter lists on fresh apps, keep the shortest that still
//! fails the same way) and print them as readable steps.

use std::time::{Duration, Instant};

use super::driver::{Driver, world};
use super::generate::Generator;
use super::ops::{Op, Show};
use super::rng::Rng;
use super::spec::{Cfg, Model};
use crate::harness::TestApp;

/// The deployment settings of one sequence.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub name: &'static str,
    pub max_members: Option<u32>,
    pub one_org_per_user: bool,
}

pub const SETTINGS: [Setting; 4] = [
    Setting { name: "no limits", max_members: None, one_org_per_user: false },
    Setting { name: "seat limit 5", max_members: Some(5), one_org_per_user: false },
    Setting { name: "one org per user", max_members: None, one_org_per_user: true },
    Setting { name: "seat limit 4 + one org per user", max_members: Some(4), one_org_per_user: true },
];

pub struct Failure {
    pub setting: Setting,
    /// The steps run, the last one failing.
    pub ops: Vec<Op>,
    pub message: String,
}

pub struct Done {
    pub steps: usize,
    pub skipped: usize,
    pub requests: u64,
    pub tally: std::collections::BTreeMap<String, u64>,
}

async fn spawn(setting: Setting) -> TestApp {
    TestApp::spawn_with(|c| {
        c.max_members = setting.max_members;
        c.one_org_per_user = setting.one_org_per_user;
        // Only the post-confirmation trigger reads it (`Act::ConfirmSignUp`).
        c.create_org_on_sign_up = true;
    })
    .await
}

/// `app` with a user pool in which every address of the run's users has an account (signed up
/// and confirmed: no temporary password of this route's).
async fn with_accounts(app: TestApp) -> TestApp {
    let pool = crate::cognito::LocalPool::create(&roster::sdk::load_config().await).await;
    let (app, _) = app.with_user_pool(&pool).await;
    let addresses: std::collections::BTreeSet<String> =
        world(&app).infos.iter().filter_map(|u| u.email_claim.as_ref().map(|e| e.to_lowercase())).collect();
    for user in addresses {
        pool.client
            .admin_create_user()
            .user_pool_id(&pool.pool_id)
            .username(&user)
            .temporary_password("Signed-Up-1234")
            .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
            .send()
            .await
            .expect("an account");
        pool.client
            .admin_set_user_password()
            .user_pool_id(&pool.pool_id)
            .username(&user)
            .password("Signed-Up-1234")
            .permanent(true)
            .send()
            .await
            .expect("confirmed");
    }
    app
}

fn model(setting: Setting, app: &TestApp, w: &super::driver::World) -> Model {
    let cfg = Cfg {
        max_members: setting.max_members,
        one_org_per_user: setting.one_org_per_user,
        ttl_hours: i64::from(app.app.config.invite_ttl_hours),
    };
    let mut m = Model::new(cfg, w.infos.clone(), w.pool.clone());
    if app.app.accounts.is_some() {
        m.accounts =
            w.infos.iter().filter_map(|u| u.email_claim.as_ref().map(|e| e.to_lowercase())).collect();
    }
    // `generate::TEMPORARY_SKIPS`: a tag to lift the removal clean-up's expectation.
    m.cleanup_on_sweep = !super::generate::skip_tags().iter().any(|t| t == "removal-cleanup");
    m
}

/// Generates and runs `steps` steps from `seed` (with workspace and group steps unless
/// `workspaces` is false: as before issue 24; with `POST /authorize` steps unless
/// `authorize` is false: as before issue 25).
pub async fn generate(
    setting: Setting,
    seed: u64,
    steps: usize,
    (workspaces, authorize, mail, search, usage): (bool, bool, bool, bool, bool),
    accounts: bool,
) -> Result<Done, Failure> {
    let app = spawn(setting).await;
    // Users added with a temporary password (`accounts=on`): a user pool on moto's server, in
    // which every user of the run has an account.
    let app = if accounts { with_accounts(app).await } else { app };
    let w = world(&app);
    let pool = w.pool.clone();
    let m = model(setting, &app, &w);
    let mut rng = Rng::new(seed);
    let mut driver = Driver::new(&app, m, w, rng.next_u64()).await;
    let mut generator = Generator::new(rng.fork(), pool);
    generator.workspaces = workspaces;
    generator.authorize = authorize;
    generator.mail = mail;
    generator.search = search;
    generator.usage = usage;
    generator.accounts = accounts;
    // Issue 28's accounts: users added with a temporary password, and sign-ups' own
    // organizations (`accounts=on` only, so that kept cases replay unchanged).
    generator.sign_ups = accounts;
    let mut ops = Vec::with_capacity(steps);
    let mut skipped = 0;
    let verbose = std::env::var_os("ROSTER_MODEL_VERBOSE").is_some();
    for _ in 0..steps {
        let op = generator.next(&driver.model, app.now().epoch_millis());
        if verbose {
            println!(
                "{} {}",
                setting.name,
                Show { op: &op, names: &driver.world.names, pool: &driver.world.pool }
            );
        }
        ops.push(op.clone());
        match driver.step(&op).await {
            Ok(true) => {}
            Ok(false) => skipped += 1,
            Err(message) => return Err(Failure { setting, ops, message }),
        }
    }
    Ok(Done { steps, skipped, requests: driver.requests, tally: driver.tally })
}

/// Replays `ops` on a fresh app: the index of the failing step and why, if one fails.
pub async fn replay(setting: Setting, ops: &[Op]) -> Option<(usize, String)> {
    let app = spawn(setting).await;
    let app = if ops.iter().any(|o| matches!(o.act, super::ops::Act::AddUser { .. })) {
        with_accounts(app).await
    } else {
        app
    };
    let w = world(&app);
    let m = model(setting, &app, &w);
    let mut driver = Driver::new(&app, m, w, 7).await;
    for (i, op) in ops.iter().enumerate() {
        if let Err(message) = driver.step(op).await {
            return Some((i, message));
        }
    }
    None
}

/// The shortest list of steps found that still fails at a step of the same kind, within
/// `budget`.
pub async fn shrink(failure: &Failure, budget: Duration) -> (Vec<Op>, String, usize) {
    let started = Instant::now();
    let kind = failure.ops.last().expect("a failing step").act.kind();
    let mut current = failure.ops.clone();
    let mut message = failure.message.clone();
    let mut replays = 0;
    let mut chunk = current.len().div_ceil(2).max(1);
    loop {
        let mut progress = false;
        let mut start = 0;
        while start < current.len() && started.elapsed() < budget {
            let end = (start + chunk).min(current.len());
            let candidate: Vec<Op> = current[..start].iter().chain(&current[end..]).cloned().collect();
            replays += 1;
            match replay(failure.setting, &candidate).await {
                Some((at, why)) if candidate[at].act.kind() == kind => {
                    current = candidate[..=at].to_vec();
                    message = why;
                    progress = true;
                }
                _ => start += chunk,
            }
        }
        if started.elapsed() >= budget || (chunk == 1 && !progress) {
            break;
        }
        if !progress {
            chunk = chunk.div_ceil(2).max(1);
            if chunk == 1 && current.len() <= 1 {
                break;
            }
        }
    }
    (current, message, replays)
}

/// A failing case as a person would replay it.
pub fn describe(setting: Setting, ops: &[Op], message: &str) -> String {
    let app_names = ["ann", "bob", "cat", "cat2", "dan", "eve", "ann2", "fay", "gus", "hal"];
    let names: Vec<String> = app_names.iter().map(|n| (*n).to_owned()).collect();
    let pool = super::generate::Pool {
        addresses: ["ann", "bob", "cat", "dan", "eve", "fay", "hal", "zed", "yan"]
            .iter()
            .map(|l| format!("{l}@x.test"))
            .collect(),
        invalid: vec!["not-an-address".into(), "two@@x.test".into(), "nobody@localhost".into(), "  ".into()],
    };
    let mut out = format!(
        "setting: {} (max_members {:?}, one_org_per_user {})\n\
         users: ann, bob, cat (verified), cat2 (CAT@: cat's address, verified), dan (unverified), eve, \
         ann2 (ann's address, unverified), fay (no email_verified claim), gus (no email), hal\n",
        setting.name, setting.max_members, setting.one_org_per_user
    );
    for op in ops {
        out.push_str(&format!("  {}\n", Show { op, names: &names, pool: &pool }));
    }
    out.push_str(&format!("fails: {message}\n"));
    out
}
