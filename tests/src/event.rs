//! API Gateway HTTP API (payload v2.0) events, built exactly as API Gateway builds them for a
//! route with a JWT authorizer, and turned into the `lambda_http::Request` a function sees.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::Request;
use roster::http::routes::Route;
use serde_json::{Map, Value, json};

/// Claims as API Gateway forwards them: every value a string.
pub type Claims = BTreeMap<String, String>;

pub struct EventInput<'a> {
    pub route: &'a Route,
    pub path: &'a str,
    pub path_params: &'a [(String, String)],
    pub query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    /// `None`: the route had no authorizer result (API Gateway would have refused the call).
    pub claims: Option<&'a Claims>,
}

pub fn build(input: &EventInput<'_>) -> Value {
    let mut headers = Map::new();
    for (name, value) in input.headers {
        let name = name.to_ascii_lowercase();
        // API Gateway v2 joins repeated headers with commas.
        let joined = match headers.get(&name).and_then(Value::as_str) {
            Some(prev) => format!("{prev},{value}"),
            None => value.clone(),
        };
        headers.insert(name, Value::String(joined));
    }
    let mut query = Map::new();
    for (k, v) in form_urlencoded::parse(input.query.as_bytes()) {
        let (k, v) = (k.into_owned(), v.into_owned());
        let joined = match query.get(&k).and_then(Value::as_str) {
            Some(prev) => format!("{prev},{v}"),
            None => v,
        };
        query.insert(k, Value::String(joined));
    }
    let path_params: Map<String, Value> =
        input.path_params.iter().map(|(k, v)| (k.clone(), Value::String(decode_component(v)))).collect();
    let (body, is_base64) = match std::str::from_utf8(input.body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (STANDARD.encode(input.body), true),
    };
    let now = chrono::Utc::now();
    let mut context = json!({
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": "localhost",
        "domainPrefix": "localhost",
        "http": {
            "method": input.route.method,
            "path": input.path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": headers.get("user-agent").cloned().unwrap_or(Value::from("")),
        },
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": input.route.key(),
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(claims) = input.claims {
        context["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": input.route.key(),
        "rawPath": input.path,
        "rawQueryString": input.query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": is_base64,
    });
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !path_params.is_empty() {
        event["pathParameters"] = Value::Object(path_params);
    }
    if !input.body.is_empty() {
        event["body"] = Value::String(body);
    }
    event
}

/// The request a function receives for `event`, through lambda_http's own parser.
pub fn to_request(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string()).expect("a v2 event always parses")
}

fn decode_component(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// A claim value as API Gateway's JWT authorizer forwards it: strings as they are, other
/// JSON values in their text form.
pub fn claims_from_json(payload: &Map<String, Value>) -> Claims {
    payload
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}
