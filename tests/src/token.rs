//! Local stand-in for the JWT authorizer: HS256 tokens signed with a development secret, and
//! (with `ROSTER_OIDC_ISSUER`) the ID tokens of an OpenID Connect issuer, checked as API
//! Gateway's JWT authorizer checks them.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};

use crate::event::{Claims, claims_from_json};

pub const SECRET_ENV: &str = "ROSTER_DEV_JWT_SECRET";
pub const DEFAULT_SECRET: &str = "roster-dev-secret-for-local-use-only";

pub fn secret() -> String {
    std::env::var(SECRET_ENV).ok().filter(|s| !s.is_empty()).unwrap_or_else(|| DEFAULT_SECRET.to_owned())
}

/// A signed token for `sub`, valid for `ttl_seconds`.
pub fn mint(
    secret: &str,
    sub: &str,
    email: Option<&str>,
    name: Option<&str>,
    verified: bool,
    ttl_seconds: i64,
) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({ "sub": sub, "iat": now, "exp": now + ttl_seconds, "iss": "roster-local" });
    if let Some(email) = email {
        claims["email"] = json!(email);
        claims["email_verified"] = json!(verified);
    }
    if let Some(name) = name {
        claims["name"] = json!(name);
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing cannot fail")
}

/// A signed token for the service `client_id` holding `scope` (space-separated), valid for
/// `ttl_seconds`: the claims of an access token of the client-credentials grant (`sub` and
/// `client_id` both the client id, `token_use: "access"`, `scope`).
pub fn mint_service(secret: &str, client_id: &str, scope: &str, ttl_seconds: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": client_id,
        "client_id": client_id,
        "token_use": "access",
        "scope": scope,
        "iat": now,
        "exp": now + ttl_seconds,
        "iss": "roster-local",
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing cannot fail")
}

/// Whether a token's claims hold `scope`, as API Gateway's JWT authorizer checks a route's
/// `AuthorizationScopes`: in `scope` (space-separated) or `scp` (a list, or space-separated).
pub fn grants_scope(claims: &Claims, scope: &str) -> bool {
    let in_text = |text: &str| text.split_whitespace().any(|s| s == scope);
    let in_scp = |text: &str| match serde_json::from_str::<Vec<String>>(text) {
        Ok(list) => list.iter().any(|s| s == scope),
        Err(_) => in_text(text),
    };
    claims.get("scope").is_some_and(|t| in_text(t)) || claims.get("scp").is_some_and(|t| in_scp(t))
}

/// The claims of a valid token (signature, `exp`, a `sub`), as API Gateway would pass them on.
pub fn verify(secret: &str, token: &str) -> Option<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.validate_aud = false;
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .ok()?;
    Some(claims_from_json(&data.claims))
}

/// The algorithm a token's header names, if the token has a readable header.
pub fn algorithm(token: &str) -> Option<Algorithm> {
    jsonwebtoken::decode_header(token).ok().map(|header| header.alg)
}

/// An OpenID Connect issuer whose ID tokens are accepted as API Gateway's JWT authorizer
/// accepts them: signed with RSA (RS256, RS384, RS512: the authorizer takes no other
/// algorithm) by a key of the issuer's JWKS, `iss` equal to the
/// issuer, `aud` containing the audience (the app's client id), `exp` not passed (no
/// leeway), `nbf` reached if present, `sub` present. The keys are fetched on first use
/// (`{issuer}/.well-known/openid-configuration` names `jwks_uri`), kept, and fetched again
/// when a token names a key id they lack (at most once every few seconds). Plain HTTP only:
/// the local issuer of the tests.
pub struct Issuer {
    issuer: String,
    audience: String,
    client: Client<HttpConnector, Empty<Bytes>>,
    keys: tokio::sync::Mutex<Keys>,
}

#[derive(Default)]
struct Keys {
    set: Option<JwkSet>,
    fetched: Option<Instant>,
}

/// How soon an unknown key id may make the keys be fetched again.
const REFETCH_AFTER: Duration = Duration::from_secs(5);

impl Issuer {
    pub fn new(issuer: &str, audience: &str) -> Result<Self, String> {
        if !issuer.starts_with("http://") {
            return Err(format!(
                "ROSTER_OIDC_ISSUER must be a plain http:// URL (a local issuer), not {issuer}"
            ));
        }
        if audience.is_empty() {
            return Err(
                "ROSTER_OIDC_AUDIENCE (the app's client id) is required with ROSTER_OIDC_ISSUER".into()
            );
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            keys: tokio::sync::Mutex::default(),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// An issuer whose keys are already known (and not fetched again for a while).
    #[cfg(test)]
    fn with_keys(issuer: &str, audience: &str, set: JwkSet) -> Self {
        let me = Self::new(issuer, audience).expect("valid settings");
        *me.keys.try_lock().expect("new") = Keys { set: Some(set), fetched: Some(Instant::now()) };
        me
    }

    /// The claims of a valid ID token of this issuer, as API Gateway would pass them on.
    pub async fn verify(&self, token: &str) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512) {
            return None;
        }
        let key = self.key(header.kid.as_deref()?, header.alg).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).ok()?;
        let sub = data.claims.get("sub").and_then(Value::as_str).unwrap_or("");
        (!sub.is_empty()).then(|| claims_from_json(&data.claims))
    }

    /// The key `kid` of the issuer's key set, for `alg` (a key that names another algorithm,
    /// or is for encryption, is not used).
    async fn key(&self, kid: &str, alg: Algorithm) -> Option<DecodingKey> {
        let mut keys = self.keys.lock().await;
        let known = keys.set.as_ref().is_some_and(|set| set.find(kid).is_some());
        if !known && keys.fetched.is_none_or(|at| at.elapsed() >= REFETCH_AFTER) {
            keys.fetched = Some(Instant::now());
            match self.fetch_keys().await {
                Ok(set) => keys.set = Some(set),
                Err(e) => eprintln!("OIDC issuer {}: {e}", self.issuer),
            }
        }
        let jwk = keys.set.as_ref()?.find(kid)?;
        let other_alg = jwk.common.key_algorithm.is_some_and(|a| a.to_string() != format!("{alg:?}"));
        let not_for_signing =
            jwk.common.public_key_use.as_ref().is_some_and(|u| *u != PublicKeyUse::Signature);
        if other_alg || not_for_signing {
            return None;
        }
        DecodingKey::from_jwk(jwk).ok()
    }

    async fn fetch_keys(&self) -> Result<JwkSet, String> {
        let discovery = format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'));
        let document = self.get_json(&discovery).await?;
        let jwks_uri = document
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or("no jwks_uri in the discovery document")?;
        serde_json::from_value(self.get_json(jwks_uri).await?)
            .map_err(|e| format!("{jwks_uri}: not a JWK set: {e}"))
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        let response = tokio::time::timeout(Duration::from_secs(5), self.client.get(uri))
            .await
            .map_err(|_| format!("{url}: no answer in 5 s"))?
            .map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url}: status {}", response.status()));
        }
        let body = response.into_body().collect().await.map_err(|e| format!("{url}: {e}"))?.to_bytes();
        serde_json::from_slice(&body).map_err(|e| format!("{url}: not JSON: {e}"))
    }
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mint_and_verify() {
        let token = mint("s", "alice", Some("a@x.io"), Some("Alice"), true, 60);
        let claims = verify("s", &token).unwrap();
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["email_verified"], "true");
        assert!(verify("other", &token).is_none(), "wrong secret");
        assert!(verify("s", &mint("s", "alice", None, None, true, -120)).is_none(), "expired");
        assert!(verify("s", "garbage").is_none());
    }

    #[test]
    fn service_tokens_and_their_scopes() {
        let token = mint_service("s", "dev-service", "roster/authorize roster/admin", 60);
        let claims = verify("s", &token).unwrap();
        assert_eq!(claims["sub"], "dev-service");
        assert_eq!(claims["client_id"], "dev-service");
        assert_eq!(claims["token_use"], "access");
        assert!(grants_scope(&claims, "roster/authorize") && grants_scope(&claims, "roster/admin"));
        assert!(!grants_scope(&claims, "roster/usage"));
        assert!(!grants_scope(&claims, "roster"), "whole scopes only");
        assert!(verify("s", &mint_service("s", "dev-service", "", -120)).is_none(), "expired");
        let person = verify("s", &mint("s", "alice", None, None, true, 60)).unwrap();
        assert!(!grants_scope(&person, "roster/authorize"), "no scope claim");
        let mut scp = Claims::new();
        scp.insert("scp".into(), r#"["roster/usage","roster/authorize"]"#.into());
        assert!(grants_scope(&scp, "roster/authorize") && !grants_scope(&scp, "roster/admin"));
    }

    // An RSA key for these tests only (PKCS#1 DER, base64), and its modulus for the JWK.
    const RSA_PKCS1: &str = concat!(
        "MIIEowIBAAKCAQEAyUVTJsRMXT6GhxM8hDnl1J/iaJ2XsA+gV6ssITUlygnUzx4s1ZI/w6ao6IqGFU8rhJlsdav2r3wYXS+U",
        "yLGVpm+FqdXv42WGKMX4M/qm20ikF0XHZo0leXInTEFTMnvnkmI7TuBgmlqW26rIsVTH6R2W/8tTa0UUcA5GK4v2mBpldLZ1",
        "wdcuY3WxdUfZ+vIvq1MOkBP589PLPbuaC0PvmkTbrUDEz7BGuM8FLgNaf7zds2DRpoYH3ehDLZIbOw7XPui0+cJnfppaHWUC",
        "BKTKhIeUXi+arEssUOpKEpjL1Bwbcakh3T2Dyq6/LyFKL0rID50Kvr/g+pYgkvZVLLEgQwIDAQABAoIBAA0t/HVv6j46321N",
        "7asM7YdgVt+Z3jp5s3q6K0AbbleOEEDlzXLIymMh8TKVC5Wuov9iWo9UDOnN2vyTJo+DzXRiHiMSbsx5s/DMkeW5dp6qYZBi",
        "kd2dxYPv3THpnyyRn4be5tpR6BGDeBh3VQADuLmDpgUnB9Xg5qc10BN+7U1lYzVervUUlctEw+OtvEJmQxTrCTQmDy5waHiz",
        "uJCD0CKPwghtZ5iYQvPde0SJVt/H5rkWmuXkAsvRqJP0UyxjLTDGFirNnANqnVf4kyDhPsX75MuuAGt2eqcd76BrfiBntltk",
        "uPjSg5hkSNI1RdPMVYWJtFW5UybXmYcIUhK/wjECgYEA/E6wfpIkRn5m3PmQ24Vg0xSlndBsZ3xhVzvd/ilaShj2slBwDKrg",
        "tm/F2t0U9J/wCqyKBf++pIgj6E8P7kt8iJeu/scQgdkEBPspH/B2wWRmLnaQTl056bpfJIimxIlJjy6nYvvfEUj3ebWBCReI",
        "blZokzyEvs6oFshHJ/goO9MCgYEAzDdrJaPewhVnKphuIbxf2dlF2JfZuG+JqdZeBocRmt1Tfq9RoKuidpjij9+70VTh0mam",
        "1eHXL1PzRy1QziKGIie7GicitiG/NYM793eRpY0i0CRcZDtUEHlWk/b7zwu4KmzCUBo4CSpcjn2WWYvVet5EA5PolNgaR1DS",
        "mqJV89ECgYA2016U0mrhipwNjomEujH1DDqE1YKI5kU8sHynuxKsoUoSK1p91i/oVNd4nKvuEEcX+rAvZ4hktlSfKXb7wBl6",
        "kQNsx5L1tFOkRXOFRjp4AboWhJsM/EMWX/JGvQ8IDBEY9PlYkATD+8gTAXbdo+h4mXw16mOqFrv9311e+RS9EwKBgQC8Z9iL",
        "hm7qYnKmwrDAoRlRU/nzhM0SMp0wOpzOquhcFxuEAl1tvUuK3SwRDpop24Tn51q+crhjarFElpM5SnKzqjIdQ8PrgqD0ztmR",
        "SxftQ5O9sf4nXvEErd1pb3ELqMVFJsfyvO27zwBLWaRPgwn2bH8VSe1G/UTpTLCwh1qDMQKBgBkpiBzxJ/TTU0tk2wqk4jex",
        "CbFnqDDTb9LdffQ2iqo9zxRXBAG48YXn9Xh0OIlNPtBB5AMuSXF5WOM0J91ugfdMumwFn4zxLBeNlVAIBKib2hQwgR0w43Fg",
        "wBO+3BTrf1WqsZrpmvSoQ1LmBUx7ZtoxL4e3MF18rFlzZuptp+AT",
    );
    const RSA_N: &str = "yUVTJsRMXT6GhxM8hDnl1J_iaJ2XsA-gV6ssITUlygnUzx4s1ZI_w6ao6IqGFU8rhJlsdav2r3wYXS-UyLGVpm-FqdXv42WGKMX4M_qm20ikF0XHZo0leXInTEFTMnvnkmI7TuBgmlqW26rIsVTH6R2W_8tTa0UUcA5GK4v2mBpldLZ1wdcuY3WxdUfZ-vIvq1MOkBP589PLPbuaC0PvmkTbrUDEz7BGuM8FLgNaf7zds2DRpoYH3ehDLZIbOw7XPui0-cJnfppaHWUCBKTKhIeUXi-arEssUOpKEpjL1Bwbcakh3T2Dyq6_LyFKL0rID50Kvr_g-pYgkvZVLLEgQw";
    // A P-256 key, which API Gateway's authorizer would not take.
    const EC_PKCS8: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSwxF0UYs26CI8a6LM5alMyCMhG4v88qELBVUgOe6OkGhRANCAARRBHVBXVvPdmpuUTjuooBFfjPjKdgfkO7wcbeLcwzcdm3GCzhQqoWFTf86MBzFXfJb7otzFxJUXKgqpY6TfFOy";
    const ISSUER: &str = "http://127.0.0.1:9/issuer";

    fn issuer() -> Issuer {
        let set = serde_json::from_value(json!({ "keys": [
            { "kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": RSA_N, "e": "AQAB" },
            {
                "kty": "EC", "crv": "P-256", "kid": "ec", "alg": "ES256", "use": "sig",
                "x": "UQR1QV1bz3ZqblE47qKARX4z4ynYH5Du8HG3i3MM3HY", "y": "bcYLOFCqhYVN_zowHMVd8lvui3MXElRcqCqljpN8U7I",
            },
        ]}))
        .unwrap();
        Issuer::with_keys(ISSUER, "app-client", set)
    }

    fn id_token(kid: &str, claims: Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD.decode(RSA_PKCS1).unwrap();
        let key = EncodingKey::from_rsa_der(&der);
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    fn es256_token(kid: &str, claims: Value) -> String {
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD.decode(EC_PKCS8).unwrap();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_der(&der)).unwrap()
    }

    fn claims(changes: Value) -> Value {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({ "iss": ISSUER, "aud": "app-client", "sub": "u-1", "exp": now + 60, "iat": now,
                                 "email": "u@example.com", "email_verified": true });
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    }

    #[tokio::test]
    async fn issuer_tokens_are_checked_as_the_jwt_authorizer_does() {
        let issuer = issuer();
        let ok = issuer.verify(&id_token("k1", claims(json!({})))).await.expect("a valid ID token");
        assert_eq!(ok["sub"], "u-1");
        assert_eq!(ok["email_verified"], "true", "claims passed on as the dev tokens' are");
        let with_audiences = claims(json!({ "aud": ["other", "app-client"] }));
        assert!(issuer.verify(&id_token("k1", with_audiences)).await.is_some(), "aud contains the client id");

        let now = chrono::Utc::now().timestamp();
        for (why, token) in [
            ("another issuer", id_token("k1", claims(json!({ "iss": format!("{ISSUER}/") })))),
            ("another audience", id_token("k1", claims(json!({ "aud": "other" })))),
            ("no audience", id_token("k1", claims(json!({ "aud": null })))),
            ("expired, no leeway", id_token("k1", claims(json!({ "exp": now - 1 })))),
            ("not yet valid", id_token("k1", claims(json!({ "nbf": now + 60 })))),
            ("no sub", id_token("k1", claims(json!({ "sub": null })))),
            ("an empty sub", id_token("k1", claims(json!({ "sub": "" })))),
            ("an unknown key", id_token("k2", claims(json!({})))),
            ("ES256, which API Gateway's authorizer refuses", es256_token("ec", claims(json!({})))),
        ] {
            assert!(issuer.verify(&token).await.is_none(), "{why}");
        }
        let token = id_token("k1", claims(json!({})));
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        use base64::Engine;
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(claims(json!({ "sub": "u-2" })).to_string());
        assert!(issuer.verify(&format!("{head}.{forged}.{signature}")).await.is_none(), "a changed payload");
        // A dev token is not the issuer's, whatever its claims.
        let dev = mint("roster-dev-secret-for-local-use-only", "u-1", None, None, true, 60);
        assert!(issuer.verify(&dev).await.is_none());
        assert_eq!(algorithm(&dev), Some(Algorithm::HS256));
    }
}
