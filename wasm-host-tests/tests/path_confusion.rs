//! Paths sent exactly as written (raw HTTP/1.1, no client-side normalisation) to a strict
//! API: whatever could make the filter and the backend disagree on which resource is meant
//! is refused with 400 problem+json before the backend sees it, odd-but-harmless forms route
//! as expected, and none of it disturbs the VM (a panic would turn everything into 503).

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use wasm_host_tests::client::raw_request;
use wasm_host_tests::configs::PETSTORE_HOST;
use wasm_host_tests::{backend_saw_operation, Stack};

fn get(stack: &Stack, target: &str) -> wasm_host_tests::Response {
    raw_request(
        &stack.envoy.url(""),
        "GET",
        target,
        &[("host", PETSTORE_HOST)],
    )
}

#[test]
fn ambiguous_paths_are_400_and_never_reach_the_backend() {
    let stack = Stack::petstore(true);
    for target in [
        "/v1/pets/../owners",
        "/v1/./pets",
        "/v1/pets/%2e%2e/x",
        "/v1/pets/%2e",
        "/v1/pets/%2F",
        "/v1/pets/%00",
        "/v1/pets\\1",
        "/v1/pets/%zz",
        "/v1//pets",
        "//v1/pets",
        "///v1/pets/1",
        "/elsewhere/../v1/pets",
    ] {
        let r = get(&stack, target);
        assert_eq!(r.status, 400, "{target}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{target}"
        );
        let problem = r.json();
        assert_eq!(problem["status"], 400);
        assert_eq!(
            problem["requestId"],
            r.header("x-request-id").unwrap(),
            "{target}"
        );
    }
    assert_eq!(stack.backend.hits(), 0);
    let r = stack.send("GET", "/v1/pets", &[]);
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("default/petstore/listPets"),
        "VM still healthy"
    );
}

#[test]
fn harmless_variants_route_as_expected() {
    let stack = Stack::petstore(true);
    let cases = [
        ("/v1/pets?", Some("default/petstore/listPets")),
        ("/v1/pets/", Some("default/petstore/listPets")),
        ("/v1/%70ets", Some("default/petstore/listPets")),
        ("/v1/pets/%C3%A9", Some("default/petstore/getPet")),
        ("/v1/pets/1;x=y", Some("default/petstore/getPet")),
        (
            &*format!("/v1/pets/{}", "a".repeat(16 * 1024)),
            Some("default/petstore/getPet"),
        ),
    ];
    for (target, operation) in cases {
        let r = get(&stack, target);
        assert_eq!(
            backend_saw_operation(&r).as_deref(),
            operation,
            "{}",
            &target[..target.len().min(40)]
        );
    }
    let r = raw_request(
        &stack.envoy.url(""),
        "GET",
        "/v1/pets",
        &[("host", "PETSTORE.TEST:8080")],
    );
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("default/petstore/listPets"),
        "host: case and port ignored"
    );
}

/// Backends that merge slashes (nginx's default, many frameworks) serve `//v1/pets` as
/// `/v1/pets`, so it must not bypass a strict API (nor, later, its auth policies).
/// The same holds on a non-strict API, where an unmatched path would otherwise pass through
/// without the checks (auth, validation) of the operation it reaches after merging.
#[test]
fn a_doubled_slash_does_not_slip_past_a_non_strict_api() {
    let stack = Stack::petstore(false);
    for target in ["//v1/pets", "/v1//pets/1"] {
        let r = get(&stack, target);
        assert_eq!(r.status, 400, "{target}: {} {}", r.status, r.body);
    }
    assert_eq!(stack.backend.hits(), 0);
}
