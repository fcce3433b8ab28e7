//! `gatehouse scan --apischema` output goes through `gatehouse compile` unchanged, and with
//! request validation switched on (so every scanned schema is compiled by the filter's own
//! validator too).

// Helpers are test code too (clippy.toml allows these in #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn gatehouse() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/scan")
        .join(name)
}

fn scan_then_compile(framework: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let resource = dir.path().join("api.yaml");
    let report = dir.path().join("report.json");
    let out = gatehouse()
        .args(["scan", "--framework", framework, "--apischema", "--name"])
        .arg(format!("{framework}-example"))
        .args(["--namespace", "scan", "--host", "api.example.com", "-o"])
        .arg(&resource)
        .arg("--report")
        .arg(&report)
        .arg(example(framework))
        .output()
        .expect("run gatehouse scan");
    assert!(
        out.status.success(),
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("operations"), "summary on stderr: {stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report written")).expect("json");
    let operations = report["operations"].as_u64().expect("count");
    assert!(operations > 0);

    let compiled = |path: &Path| -> serde_json::Value {
        let out = gatehouse()
            .args(["compile", "-f"])
            .arg(path)
            .output()
            .expect("run gatehouse compile");
        assert!(
            out.status.success(),
            "compile failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("config json")
    };
    let config = compiled(&resource);
    let ops = config["apis"][0]["operations"]
        .as_array()
        .expect("operations")
        .len();
    assert_eq!(ops as u64, operations, "every scanned operation is routed");

    // Validation on: parameters and bodies of every operation compile.
    let mut doc: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&resource).expect("read")).expect("yaml");
    doc["spec"]["policies"] = serde_json::json!({"defaults": {"validation": {"mode": "enforce"}}});
    let enforced = dir.path().join("enforced.yaml");
    std::fs::write(&enforced, serde_yaml_ng::to_string(&doc).expect("yaml")).expect("write");
    let config = compiled(&enforced);
    assert_eq!(
        config["apis"][0]["operations"].as_array().map(Vec::len),
        Some(ops)
    );
}

#[test]
fn fastapi_scan_compiles() {
    scan_then_compile("fastapi");
}

#[test]
fn flask_scan_compiles() {
    scan_then_compile("flask");
}

#[test]
fn express_scan_compiles() {
    scan_then_compile("express");
}

#[test]
fn axum_scan_compiles() {
    scan_then_compile("axum");
}

#[test]
fn actix_scan_compiles() {
    scan_then_compile("actix");
}
