//! (c) Non-strict API and unclaimed hosts: unknown routes pass through to the backend
//! without an operation header (a spoofed one is still removed); a host no API claims
//! passes through untouched, even when a strict API exists for another host.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use wasm_host_tests::configs::OTHER_HOST;
use wasm_host_tests::{backend_saw_operation, Stack};

#[test]
fn unknown_routes_of_a_non_strict_api_pass_through_without_operation() {
    let stack = Stack::petstore(false);
    let r = stack.send("GET", "/v1/owners", &[]);
    assert_eq!(backend_saw_operation(&r), None);
    assert_eq!(r.json()["path"], "/v1/owners");
    let r = stack.send("PUT", "/v1/pets", &[]);
    assert_eq!(
        backend_saw_operation(&r),
        None,
        "wrong method passes through too"
    );
    let r = stack.send("GET", "/v1/pets", &[]);
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("default/petstore/listPets")
    );
    assert_eq!(stack.backend.hits(), 3);
}

#[test]
fn a_spoofed_operation_header_is_removed_on_pass_through() {
    let stack = Stack::petstore(false);
    let r = stack.send(
        "GET",
        "/v1/owners",
        &[("x-gatehouse-operation", "default/petstore/getPet")],
    );
    assert_eq!(backend_saw_operation(&r), None);
}

#[test]
fn a_host_without_api_passes_through() {
    let stack = Stack::petstore(true);
    for path in ["/v1/owners", "/v1/pets", "/anything"] {
        let r = stack.send_to(OTHER_HOST, "GET", path, &[("x-gatehouse-operation", "x/y")]);
        assert_eq!(backend_saw_operation(&r), None, "{path}");
        assert_eq!(r.echoed_header("host").as_deref(), Some(OTHER_HOST));
    }
    assert_eq!(stack.backend.hits(), 3);
}
