//! The operator's output, end to end: `examples/istio/wasmplugin.yaml` is exactly the
//! `WasmPlugin` the operator writes for that example's resources (controller/tests/examples.rs
//! fails otherwise), and its `spec.pluginConfig` is what Istio hands the filter. Loaded into
//! Envoy as the filter's configuration, it serves the example's API as declared.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use wasm_host_tests::{backend_saw_operation, Stack};

const HOST: &str = "pets.example.com";

fn plugin_config() -> String {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/istio/wasmplugin.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let plugin: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
    assert_eq!(plugin["kind"], "WasmPlugin");
    assert_eq!(plugin["spec"]["phase"], "AUTHN");
    serde_json::to_string(&plugin["spec"]["pluginConfig"]).unwrap()
}

#[test]
fn the_generated_wasmplugin_configures_the_filter_in_envoy() {
    let stack = Stack::gatehouse(&plugin_config());

    // The public operation reaches the backend, tagged with the operator's naming.
    let r = stack.send_to(HOST, "GET", "/v1/health", &[]);
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("shop/pets/health")
    );

    // Reads need a corp-sso token: refused before the backend, RFC 6750 style.
    let r = stack.send_to(HOST, "GET", "/v1/pets", &[]);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer")),
        "{:?}",
        r.header("www-authenticate")
    );

    // Strict: a route the document does not declare is a 404 problem.
    let r = stack.send_to(HOST, "GET", "/v1/owners", &[]);
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));

    assert_eq!(stack.backend.hits(), 1);
}
