//! No log level writes a token (issue 10, defect 7). The real function binaries run at
//! `AWS_LAMBDA_LOG_LEVEL=TRACE` (JSON lines, as deployed) against a local Lambda Runtime API,
//! DynamoDB Local and the SES emulator, and carry tokens along every path one travels: made
//! with an invite link (in the response), mailed with an invitation and a resend (in the SES
//! request), previewed, accepted, declined and refused (in the event). The emails are sent
//! by the `send-invitations` binary, fed the queue's messages as SQS events: the token is
//! minted there. Their whole stdout and
//! stderr must hold TRACE lines, and neither any token nor any accept link. The `accounts`
//! binary adds users with temporary passwords (on moto's Cognito API): no password may reach
//! its output either, given, retried or refused as weak.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use roster::http::routes::{self, RouteMatch};
use roster_tests::event::{self, EventInput};
use roster_tests::harness::{TestApp, User};
use roster_tests::runtime_api::{RuntimeApi, function_command};
use serde_json::{Value, json};

const FUNCTIONS: [&str; 5] = ["create-org", "invite", "accept", "send-invitations", "accounts"];
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// Builds the function binaries (debug is enough: logging is the same) beside this test.
fn build_functions() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>").to_owned();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    build.current_dir(&workspace).args(["build", "--quiet"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    for function in FUNCTIONS {
        build.args(["-p", function]);
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "cargo build of {FUNCTIONS:?} failed");
    profile_dir
}

/// One function process, fed events one by one; everything it writes is kept.
struct Function {
    name: &'static str,
    runtime: RuntimeApi,
    child: Child,
    readers: Vec<JoinHandle<Vec<u8>>>,
}

impl Function {
    async fn start(dir: &Path, name: &'static str, app: &TestApp) -> Self {
        let runtime = RuntimeApi::start().await;
        let config = &app.app.config;
        let mut child = function_command(&dir.join(name), runtime.port)
            .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("TABLE_NAME", &config.table_name)
            .env("ROSTER_APP_URL", &config.app_url)
            .env("ROSTER_FROM_EMAIL", config.from_email.as_deref().expect("the harness sets a sender"))
            .env(
                "ROSTER_EMAIL_QUEUE_URL",
                config.mail.queue_url.as_deref().expect("the harness makes a queue"),
            )
            .env("ROSTER_SEND_RATE", "100")
            .envs(config.user_pool_id.as_ref().map(|pool| ("ROSTER_USER_POOL_ID", pool)))
            .env("ROSTER_PASSWORD_MIN_LENGTH", config.password_policy.min_length.to_string())
            .env("ROSTER_PASSWORD_REQUIRE", "lowercase,uppercase,numbers")
            // The SDK's own switches for logging request and response bodies at TRACE: even
            // with them on, nothing may leak.
            .env("LOG_SIGNABLE_BODY", "true")
            .env("LOG_SENSITIVE_BODIES", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let read_all = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut out = Vec::new();
                let _ = pipe.read_to_end(&mut out);
                out
            })
        };
        let readers = vec![
            read_all(Box::new(child.stdout.take().expect("stdout"))),
            read_all(Box::new(child.stderr.take().expect("stderr"))),
        ];
        Self { name, runtime, child, readers }
    }

    /// Sends a request as API Gateway would and returns (status, JSON body).
    async fn call(
        &mut self,
        user: Option<&User>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let RouteMatch::Found(route, params) = routes::find(method, path) else {
            panic!("no route for {method} {path}");
        };
        assert_eq!(route.function.name(), self.name, "{method} {path} is not served by {}", self.name);
        let headers = [("content-type".to_owned(), "application/json".to_owned())];
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let claims = user.map(User::claims);
        let event = event::build(&EventInput {
            route,
            path,
            path_params: &params,
            query: "",
            headers: if bytes.is_empty() { &[] } else { &headers },
            body: &bytes,
            claims: claims.as_ref(),
        });
        let response = self
            .runtime
            .invoke(&event, ANSWER_WITHIN)
            .await
            .unwrap_or_else(|e| panic!("{} on {method} {path}: {e}", self.name));
        let status = response["statusCode"].as_u64().expect("statusCode") as u16;
        let body =
            response["body"].as_str().map_or(Value::Null, |b| serde_json::from_str(b).unwrap_or(Value::Null));
        (status, body)
    }

    /// Feeds the app's queued messages to this (`send-invitations`) process as SQS events, as
    /// the queue's event source does, until the queue is empty.
    async fn send_queued(&mut self, app: &TestApp) {
        let sqs = &app.queue.sqs;
        loop {
            let received = sqs
                .receive_message()
                .queue_url(&app.queue.url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let messages = received.messages();
            if messages.is_empty() {
                return;
            }
            let records: Vec<Value> = messages
                .iter()
                .map(|m| json!({ "messageId": m.message_id(), "body": m.body(), "attributes": { "ApproximateReceiveCount": "1" } }))
                .collect();
            let answer =
                self.runtime.invoke(&json!({ "Records": records }), ANSWER_WITHIN).await.expect("an answer");
            assert_eq!(answer["batchItemFailures"], json!([]), "every email sent");
            for m in messages {
                sqs.delete_message()
                    .queue_url(&app.queue.url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// Stops the process and returns all it wrote, stdout then stderr.
    fn finish(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let readers = std::mem::take(&mut self.readers);
        let bytes: Vec<u8> = readers.into_iter().flat_map(|r| r.join().expect("reader")).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Drop for Function {
    /// A failed assertion must not leave the process behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The accept link of the latest email to `address`.
async fn mailed_link(app: &TestApp, address: &str) -> String {
    let mail = app.mailbox(address).await;
    let text = mail
        .last()
        .and_then(|m| m["body"]["text"].as_str())
        .unwrap_or_else(|| panic!("no email to {address}"));
    let start = text.find("https://").expect("a link in the email");
    text[start..].split_whitespace().next().expect("the link").to_owned()
}

#[tokio::test]
async fn no_token_reaches_the_logs_at_trace() {
    let dir = tokio::task::spawn_blocking(build_functions).await.expect("build");
    let pool = roster_tests::cognito::LocalPool::create(&roster::sdk::load_config().await).await;
    let (app, _) = TestApp::spawn().await.with_user_pool(&pool).await;
    let (alice, bob, carol, dave) = (app.user("alice"), app.user("bob"), app.user("carol"), app.user("dave"));
    let mut create_org = Function::start(&dir, "create-org", &app).await;
    let mut invite = Function::start(&dir, "invite", &app).await;
    let mut accept = Function::start(&dir, "accept", &app).await;
    let mut sender = Function::start(&dir, "send-invitations", &app).await;
    let mut accounts = Function::start(&dir, "accounts", &app).await;
    let mut secrets = Vec::new(); // every token and accept link that went by

    let (status, body) =
        create_org.call(Some(&alice), "POST", "/orgs", Some(json!({ "name": "Trace Co" }))).await;
    assert_eq!(status, 201, "{body}");
    let org = body["org"]["id"].as_str().expect("org id").to_owned();

    // A link: its token and URL are in the response.
    let (status, body) = invite
        .call(Some(&alice), "POST", &format!("/orgs/{org}/invite-links"), Some(json!({ "maxUses": 3 })))
        .await;
    assert_eq!(status, 201, "{body}");
    let link_token = body["link"]["token"].as_str().expect("token").to_owned();
    secrets.extend([link_token.clone(), body["link"]["url"].as_str().expect("url").to_owned()]);

    // Invitations: the tokens are in the emails, that is in the SES requests.
    let invitations = json!({ "invitations": [{ "email": bob.email }, { "email": carol.email }] });
    let (status, body) =
        invite.call(Some(&alice), "POST", &format!("/orgs/{org}/invitations"), Some(invitations)).await;
    assert_eq!(status, 200, "{body}");
    let carol_invitation = body["results"][1]["invitation"]["id"].as_str().expect("invitation id").to_owned();
    sender.send_queued(&app).await;
    let bob_token = app.token_mailed_to(bob.email.as_deref().unwrap()).await;
    secrets.extend([bob_token.clone(), mailed_link(&app, bob.email.as_deref().unwrap()).await]);
    let first_carol_token = app.token_mailed_to(carol.email.as_deref().unwrap()).await;
    secrets.push(first_carol_token.clone());
    let path = format!("/orgs/{org}/invitations/{carol_invitation}/resend");
    let (status, body) = invite.call(Some(&alice), "POST", &path, None).await;
    assert_eq!(status, 200, "{body}");
    sender.send_queued(&app).await;
    let carol_token = app.token_mailed_to(carol.email.as_deref().unwrap()).await;
    assert_ne!(carol_token, first_carol_token, "a resend mails a new token");
    secrets.extend([carol_token.clone(), mailed_link(&app, carol.email.as_deref().unwrap()).await]);

    // Every use of a token: the token is in the event.
    for (user, route, token, expected) in [
        (Some(&dave), "preview", &link_token, 200),
        (Some(&dave), "accept", &link_token, 200),
        (Some(&bob), "preview", &bob_token, 200),
        (Some(&bob), "accept", &bob_token, 200),
        (Some(&bob), "accept", &bob_token, 200), // used: a member gets their membership
        (Some(&carol), "accept", &bob_token, 404), // used: nobody else gets in
        (Some(&carol), "preview", &first_carol_token, 404), // replaced by the resend
        (Some(&dave), "decline", &carol_token, 403), // not the invited address
        (Some(&carol), "decline", &carol_token, 204),
        (Some(&carol), "accept", &carol_token, 404), // declined
    ] {
        let (status, body) = accept
            .call(user, "POST", &format!("/invitations/{route}"), Some(json!({ "token": token })))
            .await;
        assert_eq!(status, expected, "{route} {token}: {body}");
    }
    // Refused before reading the token: an unknown field (400) and no sign-in (401).
    let (status, _) = accept
        .call(Some(&dave), "POST", "/invitations/accept", Some(json!({ "token": link_token, "extra": 1 })))
        .await;
    assert_eq!(status, 400);
    let (status, _) =
        accept.call(None, "POST", "/invitations/accept", Some(json!({ "token": bob_token }))).await;
    assert_eq!(status, 401);

    // Temporary passwords: a new account's, the same request again (a retry sets its
    // password), another account's with the email on, and one refused as weak.
    let random = || format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let password = |tag: &str| format!("Tr4ce{tag}{}", random());
    let path = format!("/orgs/{org}/members/accounts");
    for (email, given, send_email, expected) in [
        (app.email("erin"), password("A"), false, 201),
        (app.email("erin"), password("B"), false, 201),
        (app.email("frank"), password("C"), true, 201),
        (app.email("gina"), format!("weak-no-capitals-{}", random()), false, 400),
    ] {
        let body = json!({ "email": email, "name": "Trace Person", "role": "member",
                           "temporaryPassword": given, "sendEmail": send_email });
        let (status, body) = accounts.call(Some(&alice), "POST", &path, Some(body)).await;
        assert_eq!(status, expected, "{email} {send_email}: {body}");
        secrets.push(given);
    }
    assert_eq!(pool.user_count().await, 2);

    // Kept for reading when this test fails (removed when it passes).
    let logs = std::env::temp_dir().join(format!("roster-trace-logs-{}", app.id));
    std::fs::create_dir_all(&logs).expect("a folder for the logs");
    let mut leaks = Vec::new();
    for function in [create_org, invite, accept, sender, accounts] {
        let name = function.name;
        let output = function.finish();
        let file = logs.join(format!("{name}.log"));
        std::fs::write(&file, &output).expect("writing the log");
        eprintln!("{name}: {} lines in {}", output.lines().count(), file.display());
        for line in output.lines() {
            // The random part alone: found however the token is quoted, escaped or embedded,
            // also in bytes printed as numbers (`Bytes([123, 34, ...])`, the SDK's form).
            let searched = format!("{line}\n{}", byte_lists_as_text(line));
            if let Some(secret) =
                secrets.iter().find(|s| searched.contains(s.rsplit(['.', '=']).next().unwrap_or(s)))
            {
                let shown: String = line.chars().take(600).collect();
                leaks.push(format!("{name} wrote {secret}:\n  {shown}"));
            }
        }
        // The test can fail: output at TRACE was really written, by us and by the libraries.
        let levels: Vec<String> = output
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|l| l["level"].as_str().map(str::to_owned))
            .collect();
        assert!(levels.iter().any(|l| l == "TRACE"), "{name} wrote no TRACE line (in {})", file.display());
        assert!(levels.iter().any(|l| l == "DEBUG"), "{name} wrote no DEBUG line (in {})", file.display());
    }
    assert!(secrets.iter().all(|s| s.rsplit(['.', '=']).next().is_some_and(|r| r.len() >= 43)));
    assert!(leaks.is_empty(), "{} log lines carry a token:\n{}", leaks.len(), leaks.join("\n"));
    let _ = std::fs::remove_dir_all(&logs);
}

/// Every list of byte values in `line` (`[104, 116, 116, 112]`), as text.
fn byte_lists_as_text(line: &str) -> String {
    let mut text = String::new();
    for candidate in line.split('[').skip(1) {
        let Some((list, _)) = candidate.split_once(']') else { continue };
        let bytes: Option<Vec<u8>> = list.split(',').map(|n| n.trim().parse::<u8>().ok()).collect();
        if let Some(bytes) = bytes.filter(|b| b.len() > 1) {
            text.push_str(&String::from_utf8_lossy(&bytes));
            text.push('\n');
        }
    }
    text
}
