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

    // The scanned `security` (from `scopes=` comments) is mapped as `gatehouse import`
    // maps it: every operation that requires scopes gets an auth policy naming them.
    let mut doc: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&resource).expect("read")).expect("yaml");
    let secured: Vec<(String, serde_json::Value)> = doc["spec"]["openapi"]["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
        .filter_map(|op| {
            let scopes = op["security"][0]["bearerAuth"].clone();
            let id = op["operationId"].as_str()?.to_owned();
            scopes.is_array().then_some((id, scopes))
        })
        .collect();
    assert!(!secured.is_empty(), "every example has a scopes= comment");
    let policies = &doc["spec"]["policies"]["operations"];
    assert_eq!(
        policies.as_object().map(serde_json::Map::len),
        Some(secured.len()),
        "{policies}"
    );
    for (id, scopes) in &secured {
        assert_eq!(
            policies[id]["auth"],
            serde_json::json!({"anyOf": [{"allOf": [{"provider": "bearerauth", "scopes": scopes}]}]}),
            "{id}"
        );
    }
    // What the user creates after scanning: the IdentityProvider the policies name.
    let provider = dir.path().join("provider.yaml");
    std::fs::write(
        &provider,
        "apiVersion: gatehouse.dev/v1alpha1\nkind: IdentityProvider\nmetadata: {name: bearerauth, namespace: scan}\nspec: {issuer: 'https://idp.test', jwksUri: 'https://idp.test/jwks', jwksCluster: idp}\n",
    )
    .expect("write provider");

    let compiled = |path: &Path| -> serde_json::Value {
        let out = gatehouse()
            .args(["compile", "-f"])
            .arg(path)
            .arg("-f")
            .arg(&provider)
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
    doc["spec"]["policies"]["defaults"] = serde_json::json!({"validation": {"mode": "enforce"}});
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

/// `--provider-map` names the IdentityProvider, and a document over the threshold goes to a
/// ConfigMap the ApiSchema refers to, as with `gatehouse import`.
#[test]
fn scan_provider_map_and_configmap() {
    let out = gatehouse()
        .args([
            "scan",
            "--framework",
            "axum",
            "--apischema",
            "--namespace",
            "shop",
            "--host",
            "api.example.com",
            "--provider-map",
            "bearerAuth=auth/corp-sso",
            "--configmap-threshold",
            "10",
        ])
        .arg(example("axum"))
        .output()
        .expect("run gatehouse scan");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("IdentityProvider auth/corp-sso"),
        "{stderr}"
    );
    let docs: Vec<serde_json::Value> =
        serde_yaml_ng::Deserializer::from_str(&String::from_utf8(out.stdout).expect("utf-8"))
            .map(|d| serde::Deserialize::deserialize(d).expect("yaml"))
            .collect();
    assert_eq!(docs.len(), 2, "{docs:?}");
    assert_eq!(docs[0]["kind"], "ConfigMap");
    let cm_name = docs[0]["metadata"]["name"].as_str().expect("name");
    let text = docs[0]["data"]["openapi.json"]
        .as_str()
        .expect("inline text");
    let openapi: serde_json::Value = serde_json::from_str(text).expect("json");
    assert!(openapi["paths"].is_object());
    let api = &docs[1];
    assert_eq!(api["kind"], "ApiSchema");
    assert_eq!(api["metadata"]["namespace"], "shop");
    assert_eq!(
        api["spec"]["openapiRef"],
        serde_json::json!({"configMap": cm_name, "key": "openapi.json"})
    );
    assert!(api["spec"].get("openapi").is_none());
    let auth = api["spec"]["policies"]["operations"]
        .as_object()
        .expect("policies")
        .values()
        .next()
        .expect("one policy")["auth"]
        .clone();
    assert_eq!(
        auth["anyOf"][0]["allOf"][0]["provider"], "auth/corp-sso",
        "{auth}"
    );
}
