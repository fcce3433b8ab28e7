//! Schemathesis (PyPI, pinned in `scripts/setup.sh`) against Envoy + the filter + the
//! backend, with the validated petstore ([`configs::validated_petstore_yaml`]) in
//! `enforce` mode:
//!
//! - positive mode: every request generated from the document is accepted (reaches the
//!   backend's 200 echo): no false rejection;
//! - negative mode: every request that violates the document is refused with 400 (413/415
//!   where that is the problem), each with a problem+json body (hook
//!   `tests/data/schemathesis_hooks.py`).
//!
//! `#[ignore]`d so `cargo test -p wasm-host-tests` does not need schemathesis; run by
//! `make test-schemathesis` (part of `make test`):
//! `cargo test -p wasm-host-tests --test validation_schemathesis -- --ignored`. The run is
//! deterministic (seed 4, 40 examples per operation); `SCHEMATHESIS_SEED` and
//! `SCHEMATHESIS_MAX_EXAMPLES` change that.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use wasm_host_tests::configs;
use wasm_host_tests::Stack;

/// The schemathesis CLI: `SCHEMATHESIS_BIN`, else the project venv's.
fn schemathesis() -> PathBuf {
    if let Some(bin) = std::env::var_os("SCHEMATHESIS_BIN") {
        return PathBuf::from(bin);
    }
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/schemathesis");
    assert!(
        bin.exists(),
        "schemathesis not found at {}: run `bash scripts/setup.sh` (or set SCHEMATHESIS_BIN)",
        bin.display()
    );
    bin
}

/// The petstore served on any host, and its OpenAPI document with responses declared.
fn setup() -> (Stack, tempfile::TempDir, PathBuf) {
    let mut config = configs::validated_petstore("enforce");
    config.apis[0].hosts = vec!["*".into()];
    let stack = Stack::gatehouse(&configs::to_json(&config));

    let yaml: Value =
        serde_yaml_ng::from_str(&configs::validated_petstore_yaml("enforce")).unwrap();
    let mut doc = yaml["spec"]["openapi"].clone();
    let problem = json!({"description": "refused by Gatehouse",
        "content": {"application/problem+json": {"schema": {"type": "object"}}}});
    for item in doc["paths"].as_object_mut().unwrap().values_mut() {
        for (key, op) in item.as_object_mut().unwrap() {
            if key == "parameters" {
                continue;
            }
            op["responses"] = json!({
                "200": {"description": "the backend's echo"},
                "400": problem, "413": problem, "415": problem
            });
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("openapi.json");
    std::fs::write(&spec, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    std::fs::write(
        dir.path().join("schemathesis.toml"),
        "[checks.negative_data_rejection]\nexpected-statuses = [400, 413, 415]\n",
    )
    .unwrap();
    (stack, dir, spec)
}

/// `SCHEMATHESIS_SEED` / `SCHEMATHESIS_MAX_EXAMPLES` explore further than the defaults.
fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn run(stack: &Stack, dir: &Path, spec: &Path, mode: &str, checks: &str) {
    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let output = Command::new(schemathesis())
        .current_dir(dir)
        .env("PYTHONPATH", &hooks)
        .env("SCHEMATHESIS_HOOKS", "schemathesis_hooks")
        .env("NO_COLOR", "1")
        .arg("run")
        .arg(spec)
        .args(["--url", &stack.envoy.url("/v1")])
        .args(["--mode", mode])
        .args(["--checks", checks])
        .args(["--max-examples", &env_or("SCHEMATHESIS_MAX_EXAMPLES", "40")])
        .args([
            "--seed",
            &env_or("SCHEMATHESIS_SEED", "4"),
            "--workers",
            "1",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--generation-database", "none", "--no-color"])
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{text}");
    assert!(
        output.status.success(),
        "schemathesis --mode {mode} failed:\n{text}"
    );
}

#[test]
#[ignore = "needs schemathesis; run by `make test-schemathesis`"]
fn positive_mode_has_no_false_rejections() {
    let (stack, dir, spec) = setup();
    run(
        &stack,
        dir.path(),
        &spec,
        "positive",
        "not_a_server_error,positive_data_acceptance,refusals_are_problem_json",
    );
    assert!(stack.backend.hits() > 0);
}

#[test]
#[ignore = "needs schemathesis; run by `make test-schemathesis`"]
fn negative_mode_gets_every_violation_refused_with_problem_json() {
    let (stack, dir, spec) = setup();
    run(
        &stack,
        dir.path(),
        &spec,
        "negative",
        "not_a_server_error,negative_data_rejection,refusals_are_problem_json",
    );
}
