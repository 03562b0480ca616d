//! The local API: API Gateway and its JWT authorizer played on 127.0.0.1, every route handed
//! to its function's handler, against DynamoDB Local and the SES emulator.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use roster::{App, Config};
use roster_tests::email_queue::LocalQueue;
use roster_tests::gateway::{Gateway, WebApp, bind};
use roster_tests::harness::offset_clock;
use roster_tests::{table, token};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    // It serves `list` too, so it starts only with cursor keys, as that function does.
    config.require_cursor_keys()?;
    let port: u16 = std::env::var("ROSTER_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let sdk = roster::sdk::load_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    if table::ensure(&dynamo, &config.table_name).await? {
        eprintln!("created table {}", config.table_name);
    }
    // The members web app, when built (`make run` builds it): web/dist beside the API.
    // Its runtime settings (`/config.json`: how it signs in) from ROSTER_WEB_CONFIG, else the
    // build's own config.json if any, else none (the dev sign-in).
    let web_config =
        std::env::var_os("ROSTER_WEB_CONFIG").filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
    if let Some(file) = &web_config {
        let bytes = std::fs::read(file).map_err(|e| format!("ROSTER_WEB_CONFIG {}: {e}", file.display()))?;
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .map_err(|e| format!("ROSTER_WEB_CONFIG {}: not JSON: {e}", file.display()))?;
    }
    let web = std::env::var_os("ROSTER_WEB_DIR")
        .map(std::path::PathBuf::from)
        .filter(|dir| dir.join("index.html").is_file())
        .map(|dir| WebApp { dir, config: web_config });
    // The JWT authorizer for an OpenID Connect issuer too (ID tokens whose audience is the
    // app's client id), besides the dev tokens.
    let oidc = match std::env::var("ROSTER_OIDC_ISSUER").ok().filter(|v| !v.is_empty()) {
        Some(issuer) => {
            Some(token::Issuer::new(&issuer, &std::env::var("ROSTER_OIDC_AUDIENCE").unwrap_or_default())?)
        }
        None => None,
    };
    let serves_web = web.is_some();
    // The invitation email queue: ROSTER_EMAIL_QUEUE_URL's, else one of this table's on the
    // local SQS (moto's server), created with its dead-letter queue.
    let mut config = config;
    let email_queue = match &config.mail.queue_url {
        Some(_) => None,
        None => {
            let queue =
                LocalQueue::create(&sdk, &format!("{}-emails", config.table_name), config.mail.send_attempts)
                    .await
                    .map_err(|e| {
                        format!("the invitation email queue (AWS_ENDPOINT_URL_SQS, moto's server): {e}")
                    })?;
            config.mail.queue_url = Some(queue.url.clone());
            Some(queue)
        }
    };
    let send_rate = f64::from(config.mail.send_rate);
    let mut app = App::new(config, &sdk)?;
    // Adding users with a temporary password, with a user pool named (moto's server locally:
    // AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER); without one that route answers 501.
    app.accounts = app.config.user_pool_id.clone().map(|pool| {
        roster::accounts::Accounts::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk), pool)
    });
    let clock_offset = (std::env::var("ROSTER_LOCAL_TIME_TRAVEL").as_deref() == Ok("1")).then(|| {
        let offset = Arc::new(AtomicI64::new(0));
        app.clock = offset_clock(&offset);
        offset
    });
    if let Some(issuer) = &oidc {
        eprintln!("Accepting ID tokens of {} besides dev tokens", issuer.issuer());
    }
    let gateway = Arc::new(Gateway { app, secret: token::secret(), web, clock_offset, oidc, email_queue });
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = bind(addr).await?;
    eprintln!("Roster API on http://{addr}  (get a token: make token SUB=alice EMAIL=alice@example.com)");
    if serves_web {
        eprintln!("Members web app on http://{addr}/");
    }
    tokio::spawn(Arc::clone(&gateway).run_purges(std::time::Duration::from_secs(5)));
    tokio::spawn(Arc::clone(&gateway).run_sends(std::time::Duration::from_millis(200), send_rate));
    tokio::select! {
        served = gateway.serve(listener) => served?,
        _ = tokio::signal::ctrl_c() => eprintln!("stopping"),
    }
    Ok(())
}
