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

/// The JWT fixtures of the filter (`filter/fixtures/jwt/tokens.json`): `now`, `providers`,
/// `tokens` (`name`, `token`, `provider`, `expect`).
pub fn jwt_fixtures() -> &'static serde_json::Value {
    static FIXTURES: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    FIXTURES.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../filter/fixtures/jwt/tokens.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_json::from_str(&text).expect("tokens.json is JSON")
    })
}

/// The fixtures' `/providers` list.
pub fn jwt_providers() -> serde_json::Value {
    jwt_fixtures()["providers"].clone()
}

/// A pre-signed fixture token by name (`GOOD_RS256`, `EXPIRED`, ...).
pub fn jwt_token(name: &str) -> String {
    jwt_fixtures()["tokens"]
        .as_array()
        .and_then(|all| all.iter().find(|t| t["name"] == name))
        .and_then(|t| t["token"].as_str())
        .unwrap_or_else(|| panic!("no fixture token {name}"))
        .to_owned()
}

/// A JWKS document holding the fixtures' `idp` keys with these `kid`s.
pub fn jwt_jwks(kids: &[&str]) -> String {
    let idp = jwt_providers()
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == "idp").cloned())
        .expect("the fixtures have an idp provider");
    let keys: Vec<serde_json::Value> = idp["jwks"]["keys"]
        .as_array()
        .expect("idp has inline keys")
        .iter()
        .filter(|k| k["kid"].as_str().is_some_and(|kid| kids.contains(&kid)))
        .cloned()
        .collect();
    assert_eq!(keys.len(), kids.len(), "unknown kid among {kids:?}");
    serde_json::json!({ "keys": keys }).to_string()
}

/// A bootstrap patch adding a static cluster `name` (plain HTTP/1.1) to `addr`, for
/// `dispatch_http_call` targets such as a JWKS server.
pub fn add_static_cluster(
    name: &str,
    addr: std::net::SocketAddr,
) -> impl FnOnce(&mut serde_json::Value) + 'static {
    let name = name.to_owned();
    move |bootstrap: &mut serde_json::Value| {
        let cluster = serde_json::json!({
            "name": name,
            "type": "STATIC",
            "connect_timeout": "1s",
            "load_assignment": {
                "cluster_name": name,
                "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": { "socket_address": {
                    "address": addr.ip().to_string(), "port_value": addr.port()
                } } } }] }]
            }
        });
        bootstrap["static_resources"]["clusters"]
            .as_array_mut()
            .expect("the bootstrap has clusters")
            .push(cluster);
    }
}

/// A bootstrap patch adding Istio-style `stats_tags` extractors for `tags` (e.g.
/// `provider` of `gatehouse_auth_total`) next to the harness' own.
pub fn add_stats_tags(tags: &'static [&'static str]) -> impl FnOnce(&mut serde_json::Value) {
    move |bootstrap: &mut serde_json::Value| {
        if let Some(list) = bootstrap["stats_config"]["stats_tags"].as_array_mut() {
            list.extend(tags.iter().map(|t| crate::envoy::stats_tag(t)));
        }
    }
}
