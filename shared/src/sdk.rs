//! The AWS SDK's configuration and its HTTPS client, built once per cold start.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

/// System CA bundles, one file each: Amazon Linux 2023 (Lambda's `provided.al2023`), then
/// Debian and Ubuntu.
const CA_BUNDLES: [&str; 2] = ["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt"];

/// The SDK configuration from the environment (region, credentials, and endpoint overrides
/// such as `AWS_ENDPOINT_URL_DYNAMODB` for the local stack), with timeouts short enough that
/// an unreachable table becomes a prompt `503` rather than a Lambda timeout.
pub async fn load_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .timeout_config(timeouts())
        .load()
        .await
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build()
}

/// The DynamoDB client of `authorize`, built from the variables Lambda sets rather than by
/// [`load_config`]: the region (`AWS_REGION`), the role's credentials (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and the local stack's endpoint override
/// (`AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`), with the same HTTPS client,
/// timeouts and standard retries. In Lambda the default chains end at exactly these
/// variables, but linking them (profile files, IMDS, ECS, STS for web identity) is about a
/// tenth of the function's zip, which Lambda downloads at a cold start. A missing region or
/// key stops the function at cold start rather than failing every request with `503`.
pub fn lambda_dynamodb_client() -> Result<aws_sdk_dynamodb::Client, String> {
    let env = |key: &str| std::env::var(key).ok().filter(|v| !v.trim().is_empty());
    let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).ok_or("AWS_REGION is not set")?;
    if env("AWS_ACCESS_KEY_ID").is_none() || env("AWS_SECRET_ACCESS_KEY").is_none() {
        return Err("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required (Lambda sets them)".to_owned());
    }
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new())
        .http_client(https_client())
        // What `load_config` gets by default; a client built this way would have none.
        .retry_config(aws_config::retry::RetryConfig::standard())
        .timeout_config(timeouts());
    config.set_endpoint_url(env("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| env("AWS_ENDPOINT_URL")));
    Ok(aws_sdk_dynamodb::Client::from_conf(config.build()))
}

/// hyper and rustls over `ring`: a smaller binary than the SDK's default (aws-lc), with the
/// same TLS 1.2/1.3 suites towards AWS endpoints.
fn https_client() -> SharedHttpClient {
    let builder = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring));
    match TlsContext::builder().with_trust_store(trust_store()).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        Err(_) => builder.build_https(),
    }
}

/// The system's CA bundle file. The SDK's default also reads every file of the certificate
/// directory (about 290 on Debian, each root two or three times over), which was most of a
/// cold start. `SSL_CERT_FILE`/`SSL_CERT_DIR`, when set, are honoured by that default.
fn trust_store() -> TrustStore {
    if std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some() {
        return TrustStore::default();
    }
    match CA_BUNDLES.iter().find_map(|path| std::fs::read(path).ok()) {
        // The SDK panics on a certificate it cannot parse in a custom store, where the
        // default store skips it: only a bundle that parses whole is handed over.
        Some(pem) if parses_whole(&pem) => TrustStore::empty().with_pem_certificate(pem),
        _ => TrustStore::default(),
    }
}

/// Whether every certificate of `pem` makes a trust anchor, as the SDK will require. The
/// base64 is decoded with the ordinary decoder: rustls's constant-time one, meant for secrets,
/// costs about a millisecond per pass over a bundle of public certificates.
fn parses_whole(pem: &[u8]) -> bool {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let Ok(mut rest) = std::str::from_utf8(pem) else { return false };
    let mut roots = RootCertStore::empty();
    while let Some(start) = rest.find(BEGIN) {
        let body = &rest[start + BEGIN.len()..];
        let Some(end) = body.find(END) else { return false };
        let base64: String = body[..end].split_ascii_whitespace().collect();
        let Ok(der) = STANDARD.decode(base64) else { return false };
        if roots.add(CertificateDer::from(der)).is_err() {
            return false;
        }
        rest = &body[end + END.len()..];
    }
    !roots.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real root (Let's Encrypt's ISRG Root X2), so the test needs no system bundle.
    const ROOT: &[u8] = include_bytes!("../testdata/isrg-root-x2.pem");

    #[test]
    fn only_a_bundle_that_parses_whole_is_used() {
        assert!(parses_whole(ROOT));
        let broken = [ROOT, b"-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n"].concat();
        assert!(!parses_whole(&broken));
        assert!(!parses_whole(b""));
        let unterminated = [ROOT, b"-----BEGIN CERTIFICATE-----\nMIIB"].concat();
        assert!(!parses_whole(&unterminated));
    }
}
