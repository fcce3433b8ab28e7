//! (d) Invalid configurations are refused where the filter reads them (`on_configure`),
//! with a critical log naming the JSON pointer:
//! - at start-up Envoy has no filter configuration, so it fails closed: every request gets
//!   500 (`NFCF`, no filter config found) and none reaches the backend;
//! - as an ECDS update, the refusal leaves the previous configuration in force.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use serde_json::json;
use wasm_host_tests::configs::{self, PETSTORE_HOST};
use wasm_host_tests::{backend_saw_operation, Backend, Client, EcdsOutcome, EnvoyBuilder, Stack};

/// The petstore configuration with a typo in one operation's field name.
fn typo_config() -> String {
    let mut config = serde_json::to_value(configs::petstore(true)).unwrap();
    config["apis"][0]["operations"][2]["polices"] = json!({});
    config.to_string()
}

const TYPO_POINTER: &str = "/apis/0/operations/2/polices";

#[test]
fn an_invalid_configuration_at_start_up_is_refused_and_nothing_is_served() {
    let backend = Backend::start();
    let mut envoy = EnvoyBuilder::new(&backend)
        .gatehouse(&typo_config())
        .start();
    let logs = envoy.wait_for_log("configuration refused", Duration::from_secs(10));
    let line = logs
        .lines()
        .find(|l| l.contains("configuration refused"))
        .unwrap();
    assert!(line.contains("[critical]"), "{line}");
    assert!(
        line.contains(TYPO_POINTER),
        "the log names the JSON pointer: {line}"
    );

    let client = Client::new();
    for path in ["/v1/pets", "/v1/pets/1", "/v1/unknown"] {
        let r = client.get(&envoy.url(path), &[("host", PETSTORE_HOST)]);
        assert_eq!(
            r.status, 500,
            "{path}: fails closed, got {} {}",
            r.status, r.body
        );
    }
    assert_eq!(backend.hits(), 0, "nothing reached the backend");
    let ecds = envoy.ecds_counters();
    assert!(ecds.rejected >= 1, "{ecds:?}");
    assert_eq!(ecds.version, "", "no configuration in force: {ecds:?}");
    assert!(
        envoy.is_running(),
        "Envoy keeps running (and takes a good config later)"
    );

    // A valid configuration then brings it to life without a restart.
    let pid = envoy.pid();
    assert_eq!(
        envoy.reload_and_wait(&configs::to_json(&configs::petstore(true))),
        EcdsOutcome::Accepted
    );
    let r = wasm_host_tests::wait_until(
        "the valid configuration to serve",
        Duration::from_secs(10),
        || {
            let r = client.get(&envoy.url("/v1/pets"), &[("host", PETSTORE_HOST)]);
            (r.status == 200).then_some(r)
        },
    );
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("default/petstore/listPets")
    );
    assert_eq!(envoy.pid(), pid);
}

#[test]
fn an_invalid_reload_keeps_the_previous_configuration() {
    let stack = Stack::petstore(true);
    let pid = stack.envoy.pid();
    let before = stack.envoy.ecds_counters();

    assert_eq!(
        stack.envoy.reload_and_wait(&typo_config()),
        EcdsOutcome::Refused
    );
    let logs = stack
        .envoy
        .wait_for_log(TYPO_POINTER, Duration::from_secs(10));
    assert!(
        logs.lines().any(|l| l.contains("[critical]")
            && l.contains("configuration refused")
            && l.contains(TYPO_POINTER)),
        "critical refusal naming the pointer"
    );
    assert_eq!(
        stack.envoy.ecds_counters().version,
        before.version,
        "version in force unchanged"
    );

    // Still routed as before: known operation tagged, unknown path 404.
    let r = stack.send("GET", "/v1/pets/9", &[]);
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("default/petstore/getPet")
    );
    assert_eq!(stack.send("GET", "/v1/unknown", &[]).status, 404);
    assert_eq!(stack.envoy.pid(), pid);
}

#[test]
fn other_refusals_name_their_pointer() {
    let stack = Stack::petstore(true);
    let cases = [
        (json!({"version": 2, "apis": []}).to_string(), "/version"),
        ("this is not JSON".to_owned(), "configuration refused"),
    ];
    for (config, needle) in cases {
        assert_eq!(
            stack.envoy.reload_and_wait(&config),
            EcdsOutcome::Refused,
            "{config}"
        );
        stack.envoy.wait_for_log(needle, Duration::from_secs(10));
    }
    let r = stack.send("GET", "/v1/pets", &[]);
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("default/petstore/listPets")
    );
}
