//! Gatehouse filter.
//!
//! Everything outside [`glue`] is the host-independent core: it never calls proxy-wasm
//! directly, only the [`host::Host`] trait, so it runs natively under a mock host in unit
//! tests and inside Envoy (or any proxy-wasm host) unchanged. The controller links this
//! crate as an rlib to compile configurations with the very code the filter runs.

pub mod auth;
pub mod cache;
pub mod compiled;
pub mod config;
pub mod engine;
pub mod foreign;
pub mod host;
pub mod jwks_sync;
pub mod jwt;
pub mod metrics;
pub mod oidc;
pub mod params;
pub mod percent;
pub mod problem;
pub mod request_id;
pub mod responses;
pub mod router;
pub mod sampling;
pub mod schema;
pub mod validation;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

// Test fixtures shared with the integration tests name the crate `gatehouse_filter`.
#[cfg(test)]
extern crate self as gatehouse_filter;

#[cfg(target_arch = "wasm32")]
mod glue;
#[cfg(target_arch = "wasm32")]
mod glue_sampling;
