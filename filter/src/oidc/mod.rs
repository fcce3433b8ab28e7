//! Browser login (OIDC authorization code + PKCE) for operations whose auth policy is
//! `interactive` (`docs/sso.md`, "Browser login").
//!
//! The glue calls [`flow::intercept`] before routing (callback, logout, refresh due),
//! [`flow::on_protected`] before the auth phase (session → bearer token, or the login
//! redirect), and [`flow::on_token_response`] with token endpoint answers.

pub mod cookies;
pub mod flow;
pub mod seal;
pub mod settings;

pub use flow::{ExchangeState, Intercept, OidcRequest, Pending, Protected, Resumed, Session};
pub use settings::{OidcClient, OidcClientConfig, OidcClients, SessionToken};

#[cfg(test)]
mod tests;
