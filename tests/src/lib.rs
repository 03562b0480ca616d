//! Roster's development and test support: the local API gateway, dev tokens, API Gateway
//! events, the table schema for local use, and the integration-test harness.

pub mod bench;
pub mod cognito;
pub mod conflicts;
pub mod counting;
pub mod cut;
pub mod email_queue;
pub mod entry_failures;
pub mod event;
pub mod event_bus;
pub mod gateway;
pub mod harness;
pub mod held;
pub mod host_example;
pub mod model;
pub mod proxy;
pub mod round_trips;
pub mod runtime_api;
pub mod ses_proxy;
pub mod streams;
pub mod table;
pub mod token;
pub mod usage;
