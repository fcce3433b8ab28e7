//! SSO configured the way users write it: an `IdentityProvider` and an `ApiSchema` whose
//! policies require its tokens, compiled by the controller (`gatehouse compile` does the
//! same) and enforced by the filter in Envoy.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use wasm_host_tests::fixtures::{jwt_providers, jwt_token};
use wasm_host_tests::{configs, Stack};

const HOST: &str = "shop.test";

fn resources() -> String {
    let mut idp = jwt_providers()
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == "idp").cloned())
        .expect("the fixtures have an idp provider");
    let spec = idp.as_object_mut().unwrap();
    spec.remove("name");
    spec.insert("forwardClaims".into(), serde_json::json!({"x-user": "sub"}));
    // YAML is a superset of JSON: the provider's spec goes in as it is.
    format!(
        r#"apiVersion: gatehouse.dev/v1alpha1
kind: IdentityProvider
metadata: {{ name: corp-sso, namespace: shop }}
spec: {spec}
---
apiVersion: gatehouse.dev/v1alpha1
kind: ApiSchema
metadata: {{ name: pets, namespace: shop }}
spec:
  hosts: ["{HOST}"]
  strict: true
  policies:
    defaults:
      auth: {{ anyOf: [ {{ allOf: [ {{ provider: corp-sso, scopes: [read] }} ] }} ] }}
    operations:
      health:
        auth: {{ anyOf: [] }}
      deletePet:
        auth: {{ anyOf: [ {{ allOf: [ {{ provider: corp-sso, scopes: [admin] }} ] }} ] }}
  openapi:
    openapi: 3.1.0
    info: {{ title: pets, version: "1" }}
    paths:
      /health:
        get: {{ operationId: health }}
      /pets/{{id}}:
        get: {{ operationId: getPet }}
        delete: {{ operationId: deletePet }}
"#,
        spec = serde_json::Value::Object(spec.clone())
    )
}

fn stack() -> Stack {
    let text = resources();
    let loaded =
        gatehouse_controller::load::parse_documents(std::path::Path::new("shop.yaml"), &text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(loaded.providers.len(), 1);
    let config = gatehouse_controller::compile_with_providers(&loaded.resources, &loaded.providers)
        .unwrap_or_else(|e| panic!("{e:?}"));
    Stack::gatehouse(&configs::to_json(&config))
}

#[test]
fn apischema_auth_policies_are_enforced_with_the_identityproviders_keys() {
    let stack = stack();
    let bearer = format!("Bearer {}", jwt_token("GOOD_RS256"));

    let r = stack.send_to(HOST, "GET", "/pets/1", &[]);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer realm="));

    let r = stack.send_to(HOST, "GET", "/pets/1", &[("authorization", &bearer)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.echoed_header("x-user").as_deref(), Some("user-1"));
    assert_eq!(
        r.echoed_header("x-gatehouse-operation").as_deref(),
        Some("shop/pets/getPet")
    );

    // The fixture token has scopes `read write`, not `admin`.
    let r = stack.send_to(HOST, "DELETE", "/pets/1", &[("authorization", &bearer)]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("insufficient_scope"));

    let r = stack.send_to(HOST, "GET", "/health", &[]);
    assert_eq!(r.status, 200, "public operation: {}", r.body);
    assert_eq!(stack.backend.hits(), 2);
}
