//! Reading what a request carries: the route, path and query parameters, and a JSON body.

use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::Error;

pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The API Gateway route key (`"GET /orgs/{orgId}"`) of the request: API Gateway sets it in
/// AWS, the local gateway sets it locally, so functions dispatch on exactly the same value.
pub fn route_key(req: &Request) -> Option<String> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.route_key.clone(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// A path parameter, raw. Parsing it into an id is the caller's business.
pub fn path_param(req: &Request, name: &str) -> Result<String, Error> {
    req.path_parameters_ref().and_then(|params| params.first(name)).map(str::to_owned).ok_or(Error::NotFound)
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|params| params.first(name)).map(str::to_owned)
}

/// Every value of a repeated query parameter (`?userId=a&userId=b`), decoded. Read from the
/// raw query string (`lambda_http` does), so a value holding a comma stays one value: API
/// Gateway's own parameter map joins repeats with commas.
pub fn query_params(req: &Request, name: &str) -> Vec<String> {
    req.query_string_parameters_ref()
        .and_then(|params| params.all(name))
        .map(|values| values.into_iter().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The body as `T`: at most 64 KiB, declared as JSON, well-formed, and of `T`'s shape.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    json_from(req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()), bytes)
}

/// [`json_body`] of a body and its `content-type` value read without `lambda_http` (the
/// `authorize` function reads its event with a type of its own), under the same rules.
pub fn json_from<T: DeserializeOwned>(content_type: Option<&str>, bytes: &[u8]) -> Result<T, Error> {
    declared_json(content_type, bytes)?;
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
    // Every body is an object: serde would read a struct from an array of its fields in
    // order too (`["Acme"]` as `{"name": "Acme"}`), which no client means.
    if !value.is_object() {
        return Err(Error::invalid_request("the body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| json_error(&e))
}

/// [`json_from`]'s checks of a body (size, media type, well-formed JSON, an object) without
/// reading it into a type: its numbers stay text, so that one no float holds (`1e400`, valid
/// JSON) is left to the reader to judge rather than making the body `invalid_json`.
pub fn json_object_from<'a>(content_type: Option<&str>, bytes: &'a [u8]) -> Result<&'a RawValue, Error> {
    declared_json(content_type, bytes)?;
    let raw: &RawValue = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
    if !raw.get().starts_with('{') {
        return Err(Error::invalid_request("the body must be a JSON object"));
    }
    Ok(raw)
}

/// At most 64 KiB, not blank, and declared as JSON.
fn declared_json(content_type: Option<&str>, bytes: &[u8]) -> Result<(), Error> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Error::PayloadTooLarge);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::InvalidJson("a JSON body is required".to_owned()));
    }
    let declared_json = content_type
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false);
    if !declared_json {
        return Err(Error::UnsupportedMediaType);
    }
    Ok(())
}

/// Like [`json_body`], but an absent body means `T::default()` (every field optional).
pub fn optional_json_body<T: DeserializeOwned + Default>(req: &Request) -> Result<T, Error> {
    let empty = match req.body() {
        Body::Empty => true,
        Body::Text(text) => text.trim().is_empty(),
        Body::Binary(bytes) => bytes.iter().all(u8::is_ascii_whitespace),
        _ => true,
    };
    if empty { Ok(T::default()) } else { json_body(req) }
}

/// Malformed JSON is `invalid_json`; well-formed JSON of the wrong shape (a missing or
/// unknown field, a wrong type) is `invalid_request`, with serde's message cut short.
fn json_error(err: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => Error::InvalidJson(format!(
            "the body is not valid JSON (line {}, column {})",
            err.line(),
            err.column()
        )),
        Category::Data => {
            let message: String = err.to_string().chars().take(200).collect();
            Error::InvalidRequest(format!("the body does not have the expected shape: {message}"))
        }
    }
}

/// `limit` of a list request: 1–100, default 50.
pub fn page_limit(req: &Request) -> Result<usize, Error> {
    match query_param(req, "limit") {
        None => Ok(50),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| Error::invalid_request("limit must be a whole number from 1 to 100")),
    }
}
