//! Roster's domain crate: everything the Lambda functions share. Each function binary is a
//! one-line `main` over a handler in [`handlers`].

pub mod accounts;
pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod handlers;
pub mod http;
pub mod logging;
pub mod mail;
pub mod sdk;
pub mod store;

pub use app::App;
pub use config::Config;
pub use error::{Error, Result};
