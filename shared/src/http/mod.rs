//! The HTTP edge: routes, request reading, response writing.

pub mod request;
pub mod response;
pub mod routes;
