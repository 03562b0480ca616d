//! What a function builds once per cold start and shares across invocations.

use std::convert::Infallible;
use std::future::Future;

use aws_config::SdkConfig;
use lambda_http::{Body, Request, Response, service_fn};

use crate::config::{Config, ConfigError};
use crate::domain::permission::{Catalog, CatalogError};
use crate::domain::{Clock, Timestamp};
use crate::mail::Mailer;
use crate::mail::queue::EmailQueue;
use crate::store::Store;

pub struct App {
    pub config: Config,
    pub store: Store,
    pub mailer: Mailer,
    /// The invitation email queue (`ROSTER_EMAIL_QUEUE_URL`).
    pub queue: EmailQueue,
    pub clock: Clock,
    /// The permissions catalog (`infra/permissions.json`), checked at cold start.
    pub catalog: Catalog,
    /// The stack's user pool (`ROSTER_USER_POOL_ID`), for adding users with a temporary
    /// password: built by the `accounts` function alone ([`run_accounts`]), none elsewhere.
    pub accounts: Option<crate::accounts::Accounts>,
}

impl App {
    /// The app of a deployment: a catalog that does not parse stops it here, named.
    pub fn new(config: Config, sdk: &SdkConfig) -> Result<Self, CatalogError> {
        let store = Store::new(aws_sdk_dynamodb::Client::new(sdk), config.table_name.clone());
        let mailer = Mailer::new(sdk.into(), config.from_email.clone());
        let queue = EmailQueue::new(sdk.into(), config.mail.queue_url.clone());
        Ok(Self {
            config,
            store,
            mailer,
            queue,
            clock: Clock::system(),
            catalog: Catalog::deployed()?,
            accounts: None,
        })
    }

    /// The instant a request is decided at; read once per request.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let config = Config::from_env()?;
        Ok(Self::new(config, &crate::sdk::load_config().await)?)
    }
}

/// The whole `main` of a function: logging, clients built once, then the Lambda loop.
pub async fn run<F, Fut>(handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    run_requiring(|_| Ok(()), handle).await
}

/// [`run`] for a function that needs settings the others go without: `require` checks them
/// at cold start, so a missing one stops the function there, named, rather than failing
/// its requests.
pub async fn run_requiring<R, F, Fut>(require: R, handle: F) -> Result<(), lambda_http::Error>
where
    R: FnOnce(&Config) -> Result<(), ConfigError>,
    F: Fn(&'static App, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    crate::logging::init();
    let app = App::from_env().await?;
    require(&app.config)?;
    serve_http(app, handle).await
}

/// The whole `main` of the `accounts` function: [`run`] with the user pool's client beside
/// the others, when the deployment has the stack's pool (`ROSTER_USER_POOL_ID`; without it
/// the route answers `501 accounts_unavailable`). It queues invitation emails too (an address
/// that has an account is invited): the queue is required.
pub async fn run_accounts() -> Result<(), lambda_http::Error> {
    crate::logging::init();
    let config = Config::from_env()?;
    config.require_email_queue()?;
    let sdk = crate::sdk::load_config().await;
    let mut app = App::new(config, &sdk)?;
    app.accounts =
        app.config.user_pool_id.clone().map(|pool| {
            crate::accounts::Accounts::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk), pool)
        });
    serve_http(app, crate::handlers::accounts::handle).await
}

/// The Lambda loop of an HTTP function over `app`.
async fn serve_http<F, Fut>(app: App, handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    // The app lives as long as the process; leaking it gives handlers a plain `&'static`.
    let app: &'static App = Box::leak(Box::new(app));
    lambda_http::run(service_fn(move |req| {
        let response = handle(app, req);
        async move { Ok::<_, Infallible>(response.await) }
    }))
    .await
}

/// The whole `main` of a scheduled function: an EventBridge schedule invokes it with an event
/// it does not need; `handle` gets the instant the invocation's time runs out.
pub async fn run_scheduled<F, Fut>(handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, std::time::SystemTime, serde_json::Value) -> Fut,
    Fut: Future<Output = Result<serde_json::Value, crate::error::Error>> + Send,
{
    use lambda_http::lambda_runtime::{self, LambdaEvent};
    crate::logging::init();
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let run = handle(app, event.context.deadline(), event.payload);
        async move { run.await.map_err(|e| lambda_http::Error::from(format!("{}: {e}", e.code()))) }
    }))
    .await
}

/// The whole `main` of the `send-invitations` function: invoked by the invitation email
/// queue with a batch of messages, answering which to deliver again
/// (`ReportBatchItemFailures`). Its sending pace is set once per cold start.
pub async fn run_sender() -> Result<(), lambda_http::Error> {
    use lambda_http::lambda_runtime::{self, LambdaEvent};

    use crate::handlers::send_invitations::{Pace, handle};
    crate::logging::init();
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    let pace: &'static Pace = Box::leak(Box::new(Pace::of(app).await));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        handle(app, pace, event.payload).await.map_err(lambda_http::Error::from)
    }))
    .await
}

/// The whole `main` of the `events` function: invoked by the table's stream with a batch of
/// records, answering which record to retry from (`ReportBatchItemFailures`).
pub async fn run_stream() -> Result<(), lambda_http::Error> {
    use lambda_http::lambda_runtime::{self, LambdaEvent};
    crate::logging::init();
    let bus = std::env::var("ROSTER_EVENT_BUS").map_err(|_| "ROSTER_EVENT_BUS is not set")?;
    let sdk = crate::sdk::load_config().await;
    let publisher: &'static crate::handlers::events::Publisher =
        Box::leak(Box::new(crate::handlers::events::Publisher {
            client: aws_sdk_eventbridge::Client::new(&sdk),
            bus,
        }));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Infallible>(crate::handlers::events::handle(publisher, event.payload).await)
    }))
    .await
}

/// The whole `main` of a function invoked with one event that answers it or fails: a Cognito
/// user pool trigger (Cognito reads the answer's `response`, and shows an error's message to
/// the visitor after its own prefix, e.g. "PreSignUp failed with error "), or `email-events`
/// (an error makes Lambda retry the asynchronous invocation).
pub async fn run_event_handler<F, Fut>(handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, serde_json::Value) -> Fut,
    Fut: Future<Output = Result<serde_json::Value, crate::error::Error>> + Send,
{
    use lambda_http::lambda_runtime::{self, Diagnostic, LambdaEvent};
    crate::logging::init();
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let run = handle(app, event.payload);
        async move {
            run.await
                .map_err(|e| Diagnostic { error_type: e.code().to_owned(), error_message: e.to_string() })
        }
    }))
    .await
}

/// The whole `main` of the `authorize` function: the table's client and the catalog, and no
/// mail client (the host's hot path starts and runs as lean as it can). Its client is built
/// from Lambda's variables alone (`sdk::lambda_dynamodb_client`), and it reads API Gateway's
/// event on `lambda_runtime` with a type of its own rather than through `lambda_http::run`,
/// whose request and response conversions would be linked for nothing (see
/// `handlers::authorize`): both for the zip that a cold start downloads.
pub async fn run_authorize() -> Result<(), lambda_http::Error> {
    use lambda_http::lambda_runtime::{self, LambdaEvent};

    use crate::handlers::authorize::{Authorizer, HttpEvent, handle_event};
    crate::logging::init();
    let config = Config::from_env()?;
    let authorizer: &'static Authorizer = Box::leak(Box::new(Authorizer {
        store: Store::new(crate::sdk::lambda_dynamodb_client()?, config.table_name),
        catalog: Catalog::deployed()?,
        services: config.service_clients,
    }));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<HttpEvent>| async move {
        Ok::<_, Infallible>(handle_event(authorizer, event.payload).await)
    }))
    .await
}
