//! Host tests for Gatehouse: the built `.wasm` running inside a real Envoy.
//!
//! - [`backend`]: an in-process HTTP backend that echoes requests as JSON, answers as told
//!   by request headers and counts hits (also the `gatehouse-test-backend` binary).
//! - [`envoy`]: [`envoy::EnvoyBuilder`] writes a bootstrap into a temp dir, starts Envoy on
//!   free loopback ports, waits for `/ready`, reloads the filter configuration through
//!   file-based ECDS and kills Envoy (and anything it started) on drop, panics included.
//! - [`locate`]: where Envoy, the `.wasm` files and the `gatehouse` binary are.
//! - [`client`]: a small blocking HTTP client for tests.
//! - [`configs`]: filter configurations the tests and the benchmark use; [`fixtures`]:
//!   backend + Envoy + client in one value.
//! - [`prometheus`]: reads `/stats/prometheus` into samples.
//! - [`bench`]: the `gatehouse-bench` program (variants, wrk, report).
//!
//! See `docs/testing.md`.

// This crate is a test harness: when a precondition fails (Envoy missing, a port cannot be
// read, a request fails) the right thing is to stop the test loudly with the reason, so
// unwrap/expect/panic (and indexing into JSON documents) are allowed here. The workspace
// denies them for the filter, where a panic traps the wasm VM.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod backend;
pub mod bench;
pub mod client;
pub mod configs;
pub mod envoy;
pub mod fixtures;
pub mod locate;
pub mod poll;
pub mod process;
pub mod prometheus;

pub use backend::Backend;
pub use client::{Client, Response};
pub use envoy::{EcdsOutcome, Envoy, EnvoyBuilder, Filter};
pub use fixtures::{backend_saw_operation, Stack};
pub use poll::wait_until;
