//! (e) Reload without restart: a new configuration written through ECDS (temp file +
//! rename) changes behaviour within seconds, and the Envoy process is the same.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use gatehouse_filter::config::Method;
use wasm_host_tests::configs::{self, op};
use wasm_host_tests::{backend_saw_operation, wait_until, EcdsOutcome, Stack};

const RELOAD_BOUND: Duration = Duration::from_secs(10);

#[test]
fn adding_an_operation_takes_effect_without_restart() {
    let stack = Stack::petstore(true);
    let pid = stack.envoy.pid();
    assert_eq!(stack.send("GET", "/v1/owners", &[]).status, 404);

    let mut config = configs::petstore(true);
    config.apis[0]
        .operations
        .push(op("listOwners", Method::Get, "/owners"));
    assert_eq!(
        stack.envoy.reload_and_wait(&configs::to_json(&config)),
        EcdsOutcome::Accepted
    );

    let r = wait_until("GET /v1/owners to be routed", RELOAD_BOUND, || {
        let r = stack.send("GET", "/v1/owners", &[]);
        (r.status == 200).then_some(r)
    });
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("default/petstore/listOwners")
    );
    // The rest of the API is unchanged.
    let r = stack.send("GET", "/v1/pets/1", &[]);
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("default/petstore/getPet")
    );
    assert_eq!(stack.envoy.pid(), pid, "same Envoy process");
    assert!(stack.envoy.logs().contains("configuration accepted"));
}

#[test]
fn flipping_strict_takes_effect_both_ways_without_restart() {
    let stack = Stack::petstore(true);
    let pid = stack.envoy.pid();
    assert_eq!(stack.send("GET", "/v1/unknown", &[]).status, 404);

    stack
        .envoy
        .reload(&configs::to_json(&configs::petstore(false)));
    let r = wait_until("the unknown path to pass through", RELOAD_BOUND, || {
        let r = stack.send("GET", "/v1/unknown", &[]);
        (r.status == 200).then_some(r)
    });
    assert_eq!(backend_saw_operation(&r), None);

    stack
        .envoy
        .reload(&configs::to_json(&configs::petstore(true)));
    wait_until("the unknown path to be 404 again", RELOAD_BOUND, || {
        (stack.send("GET", "/v1/unknown", &[]).status == 404).then_some(())
    });
    assert_eq!(stack.envoy.pid(), pid, "same Envoy process");
    assert!(wasm_host_tests::process::pid_alive(pid));
}
