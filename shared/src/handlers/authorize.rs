//! `POST /authorize`: the host product's permission checks (API.md "Checks"). Its own
//! function because it is the host's hot path: it links no mail client and holds only the
//! table's client and the catalog.
//!
//! The function reads API Gateway's event with [`HttpEvent`], a type of its own that holds
//! only what it uses, and answers [`HttpResponse`], rather than through `lambda_http`: that
//! crate's conversions carry every event source's types and an HTTP body stack, and the
//! zip is what Lambda downloads at a cold start (README, "POST /authorize"). The local
//! gateway still hands [`handle`] a `lambda_http` request; both reach [`answer`] with the
//! same [`Call`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use crate::App;
use crate::domain::Principal;
use crate::domain::authorization::{decide, parse_checks};
use crate::domain::identity::ServiceClients;
use crate::domain::permission::Catalog;
use crate::error::Error;
use crate::http::request::{json_from, route_key};
use crate::http::response::{ok, respond};
use crate::http::routes::scopes;
use crate::store::Store;

/// What the function builds once per cold start.
pub struct Authorizer {
    pub store: Store,
    pub catalog: Catalog,
    pub services: ServiceClients,
}

impl Authorizer {
    /// The same parts as `app`'s (the local gateway serves every function from one app).
    pub fn of(app: &App) -> Self {
        Self {
            store: app.store.clone(),
            catalog: app.catalog.clone(),
            services: app.config.service_clients.clone(),
        }
    }
}

/// What a request brings that `authorize` reads, however it arrived.
pub struct Call<'a> {
    /// API Gateway's `requestContext.routeKey` (`"POST /authorize"`).
    pub route_key: Option<&'a str>,
    /// The JWT authorizer's claims; `None` when the event carries no authorizer result.
    pub claims: Option<&'a HashMap<String, String>>,
    /// The `content-type` header's value, when it is visible ASCII (what `http`'s
    /// `HeaderValue::to_str` accepts, so both ways in read the same header alike).
    pub content_type: Option<&'a str>,
    /// The body, decoded from base64 when API Gateway encoded it.
    pub body: &'a [u8],
}

/// An API Gateway HTTP API event (payload format 2.0), reduced to what [`Call`] needs;
/// every other field of the event is ignored. A field that is absent or `null` reads as
/// `lambda_http` reads it: no headers, no body, not base64, no authorizer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpEvent {
    #[serde(default)]
    pub headers: ContentType,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub is_base64_encoded: Option<bool>,
    #[serde(default)]
    pub request_context: Option<EventContext>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventContext {
    #[serde(default)]
    pub route_key: Option<String>,
    #[serde(default)]
    pub authorizer: Option<EventAuthorizer>,
}

#[derive(Debug, Default, Deserialize)]
pub struct EventAuthorizer {
    #[serde(default)]
    pub jwt: Option<EventJwt>,
}

#[derive(Debug, Default, Deserialize)]
pub struct EventJwt {
    /// `null` reads as no claims, as `lambda_http` reads it (an empty map): `401` either way.
    #[serde(default)]
    pub claims: Option<HashMap<String, String>>,
}

/// The `content-type` of the event's `headers`: the last entry of that name in any case, as
/// `http`'s header map keeps it when `lambda_http` reads the event (API Gateway itself sends
/// one, in lower case). The other headers are skipped, not kept.
#[derive(Debug, Default)]
pub struct ContentType(pub Option<String>);

impl<'de> Deserialize<'de> for ContentType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Headers;
        impl<'de> Visitor<'de> for Headers {
            type Value = ContentType;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of header names to values")
            }
            fn visit_unit<E: de::Error>(self) -> Result<ContentType, E> {
                Ok(ContentType(None))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut headers: M) -> Result<ContentType, M::Error> {
                let mut found = None;
                while let Some(name) = headers.next_key::<String>()? {
                    if name.eq_ignore_ascii_case("content-type") {
                        found = Some(headers.next_value::<String>()?);
                    } else {
                        headers.next_value::<de::IgnoredAny>()?;
                    }
                }
                Ok(ContentType(found))
            }
        }
        deserializer.deserialize_any(Headers)
    }
}

/// API Gateway's answer format for an HTTP API (payload format 2.0).
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub is_base64_encoded: bool,
}

impl From<Response<Body>> for HttpResponse {
    fn from(response: Response<Body>) -> Self {
        let (parts, body) = response.into_parts();
        let mut headers = BTreeMap::<String, String>::new();
        for (name, value) in &parts.headers {
            // Every header Roster writes is static ASCII; API Gateway v2 joins repeated
            // headers with commas, as `lambda_http` does for it.
            let value = String::from_utf8_lossy(value.as_bytes());
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|joined| {
                    joined.push(',');
                    joined.push_str(&value);
                })
                .or_insert_with(|| value.into_owned());
        }
        let (body, is_base64_encoded) = match body {
            Body::Text(text) => (Some(text), false),
            Body::Binary(bytes) => (Some(STANDARD.encode(bytes)), true),
            _ => (None, false),
        };
        Self { status_code: parts.status.as_u16(), headers, body, is_base64_encoded }
    }
}

/// The function's handler: the event as Lambda delivers it, answered for API Gateway.
pub async fn handle_event(authorizer: &Authorizer, event: HttpEvent) -> HttpResponse {
    let context = event.request_context.as_ref();
    let route = context.and_then(|c| c.route_key.as_deref());
    let body: Cow<'_, [u8]> = match (event.body.as_deref(), event.is_base64_encoded.unwrap_or(false)) {
        (None, _) => Cow::Borrowed(&[]),
        (Some(text), false) => Cow::Borrowed(text.as_bytes()),
        (Some(text), true) => match STANDARD.decode(text) {
            Ok(bytes) => Cow::Owned(bytes),
            // API Gateway encodes every body it marks; one that does not decode is a defect
            // between it and us, not the caller's (`lambda_http` panics on it: a 500 too).
            Err(_) => return respond(route, Err(Error::Internal)).into(),
        },
    };
    let call = Call {
        route_key: route,
        claims: context
            .and_then(|c| c.authorizer.as_ref())
            .and_then(|a| a.jwt.as_ref())
            .and_then(|jwt| jwt.claims.as_ref()),
        content_type: (event.headers.0.as_deref())
            .filter(|v| v.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b))),
        body: &body,
    };
    answer(authorizer, &call).await.into()
}

/// The local gateway's way in: the `lambda_http` request it built from the same event.
pub async fn handle(authorizer: &Authorizer, req: Request) -> Response<Body> {
    let route = route_key(&req);
    let claims = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|jwt| &jwt.claims)
        }
        #[allow(unreachable_patterns)]
        _ => None,
    };
    let body: &[u8] = match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    let call = Call {
        route_key: route.as_deref(),
        claims,
        content_type: req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        body,
    };
    answer(authorizer, &call).await
}

/// The answer to one call, whichever way it came in.
pub async fn answer(authorizer: &Authorizer, call: &Call<'_>) -> Response<Body> {
    let outcome = async {
        // Only a listed service with the scope: API Gateway's AuthorizationScopes say the
        // same, but a person's access token can carry any scope its app client allows.
        Principal::from_claims(call.claims.ok_or(Error::Unauthenticated)?, &authorizer.services)?
            .service_with(scopes::AUTHORIZE)?;
        match call.route_key {
            // Boxed: the reads' future is large, and an unoptimised build (the tests') would
            // otherwise copy it through every layer above on a task's 2 MiB stack. One
            // allocation per request, beside the batch's network round trips.
            Some("POST /authorize") => Box::pin(check(authorizer, call)).await,
            _ => Err(Error::NotFound),
        }
    }
    .await;
    respond(call.route_key, outcome)
}

/// Every check answered, in request order, from strongly consistent reads made after the
/// request arrived: once a change has answered 2xx, no later check sees the state before it.
async fn check(authorizer: &Authorizer, call: &Call<'_>) -> Result<Response<Body>, Error> {
    let body: Value = json_from(call.content_type, call.body)?;
    let checks = parse_checks(&body)?;
    let reads = authorizer.store.check_reads(&authorizer.catalog, &checks).await?;
    let results = checks
        .iter()
        .map(|c| reads.with_facts(c, |facts| decide(&authorizer.catalog, c, facts)))
        .collect::<Result<Vec<_>, Error>>()?;
    ok(&json!({ "results": results }))
}
