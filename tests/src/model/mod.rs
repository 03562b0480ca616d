//! A model-based test of Roster (issue 10): a reference model written from API.md and the
//! README's decisions, random step sequences run through the real handlers and compared with
//! it after every step, and rounds of concurrent conflicting requests checked against the
//! invariants. The test itself is `tests/tests/model.rs`.

pub mod authorize;
pub mod concurrent;
pub mod driver;
pub mod generate;
pub mod ops;
pub mod rng;
pub mod run;
pub mod spec;
