//! Ready-made set-ups shared by the test files.

use crate::backend::Backend;
use crate::client::{Client, Response};
use crate::configs;
use crate::envoy::{Envoy, EnvoyBuilder};

/// A backend, an Envoy running Gatehouse with `config_json` in front of it, and a client.
#[derive(Debug)]
pub struct Stack {
    // Field order is drop order: Envoy goes before its backend.
    pub envoy: Envoy,
    pub backend: Backend,
    pub client: Client,
}

impl Stack {
    /// Starts the stack with a Gatehouse configuration.
    pub fn gatehouse(config_json: &str) -> Self {
        let backend = Backend::start();
        let envoy = EnvoyBuilder::new(&backend).gatehouse(config_json).start();
        Self {
            envoy,
            backend,
            client: Client::new(),
        }
    }

    /// The petstore API ([`configs::petstore`]), strict or not.
    pub fn petstore(strict: bool) -> Self {
        Self::gatehouse(&configs::to_json(&configs::petstore(strict)))
    }

    /// `method path` through Envoy with `Host: host` and extra headers.
    pub fn send_to(
        &self,
        host: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut all = vec![("host", host)];
        all.extend_from_slice(headers);
        self.client.send(method, &self.envoy.url(path), &all, None)
    }

    /// `method path` through Envoy to the petstore host.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        self.send_to(configs::PETSTORE_HOST, method, path, headers)
    }
}

/// Asserts `response` is an answer of the backend (an echo) and returns the operation
/// header the backend saw, if any.
pub fn backend_saw_operation(response: &Response) -> Option<String> {
    assert_eq!(
        response.status, 200,
        "expected the backend's echo, got {} {}",
        response.status, response.body
    );
    assert!(
        response.json().get("method").is_some(),
        "not an echo: {}",
        response.body
    );
    response.echoed_header("x-gatehouse-operation")
}
