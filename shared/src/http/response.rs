//! Building responses.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

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
