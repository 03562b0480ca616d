//! Building responses.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::error::Error;

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Result<Response<Body>, Error> {
    let text = serde_json::to_string(body).map_err(|e| {
        tracing::error!(error = %e, "response did not serialise");
        Error::Internal
    })?;
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(text))
        .map_err(|_| Error::Internal)
}

pub fn ok<T: Serialize>(body: &T) -> Result<Response<Body>, Error> {
    json(StatusCode::OK, body)
}

pub fn created<T: Serialize>(body: &T) -> Result<Response<Body>, Error> {
    json(StatusCode::CREATED, body)
}

/// A list page, `{"<name>": [...], "nextCursor": ...}`, written straight from the items
/// rather than through an intermediate JSON tree (a page holds up to 100 of them).
pub fn list<T: Serialize>(
    name: &'static str,
    items: &[T],
    next_cursor: Option<String>,
) -> Result<Response<Body>, Error> {
    struct Page<'a, T> {
        name: &'static str,
        items: &'a [T],
        next_cursor: Option<String>,
    }
    impl<T: Serialize> Serialize for Page<'_, T> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(2))?;
            map.serialize_entry(self.name, self.items)?;
            map.serialize_entry("nextCursor", &self.next_cursor)?;
            map.end()
        }
    }
    ok(&Page { name, items, next_cursor })
}

pub fn no_content() -> Result<Response<Body>, Error> {
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).map_err(|_| Error::Internal)
}

/// Turns a handler's outcome into the response, logging server-side failures once.
pub fn respond(route: Option<&str>, outcome: Result<Response<Body>, Error>) -> Response<Body> {
    match outcome {
        Ok(response) => response,
        Err(error) => {
            if error.status().is_server_error() {
                tracing::error!(route, code = error.code(), "request failed");
            } else {
                tracing::info!(route, code = error.code(), "request refused");
            }
            error.to_response()
        }
    }
}
