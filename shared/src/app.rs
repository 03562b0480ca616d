//! What a function builds once per cold start and shares across invocations.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use lambda_http::{Body, Request, Response, service_fn};

use crate::config::Config;
use crate::mail::Mailer;
use crate::store::Store;

pub struct App {
    pub config: Config,
    pub store: Store,
    pub mailer: Mailer,
}

impl App {
    pub fn new(config: Config, sdk: &SdkConfig) -> Self {
        let store = Store::new(aws_sdk_dynamodb::Client::new(sdk), config.table_name.clone());
        let mailer = Mailer::new(aws_sdk_sesv2::Client::new(sdk), config.from_email.clone());
        Self { config, store, mailer }
    }

    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let config = Config::from_env()?;
        Ok(Self::new(config, &load_sdk_config().await))
    }
}

/// The AWS SDK configuration from the environment (region, credentials, and endpoint
/// overrides such as `AWS_ENDPOINT_URL_DYNAMODB` for the local stack), with timeouts short
/// enough that an unreachable table becomes a prompt `503` rather than a Lambda timeout.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .load()
        .await
}

/// The whole `main` of a function: logging, clients built once, then the Lambda loop.
pub async fn run<F, Fut>(handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    lambda_http::tracing::init_default_subscriber();
    // The app lives as long as the process; leaking it gives handlers a plain `&'static`.
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    lambda_http::run(service_fn(move |req| {
        let response = handle(app, req);
        async move { Ok::<_, Infallible>(response.await) }
    }))
    .await
}
