//! The Flask example's routes as scanned, against Flask's own `url_map` (flask pinned in
//! scripts/setup.sh): every rule and method, and the converter types of path parameters.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use gatehouse_scan::{scan_dir, Framework};
use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python() -> PathBuf {
    std::env::var_os("GATEHOUSE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"))
}

/// `/a/<int:id>` → (`/a/{id}`, [(id, int)]).
fn openapi_rule(rule: &str) -> (String, Vec<(String, String)>) {
    let mut params = Vec::new();
    let path = rule
        .split('/')
        .map(
            |seg| match seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
                Some(inner) => {
                    let (conv, name) = inner.rsplit_once(':').unwrap_or(("string", inner));
                    params.push((name.to_string(), conv.to_string()));
                    format!("{{{name}}}")
                }
                None => seg.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/");
    (path, params)
}

#[test]
fn scan_matches_flask_url_map() {
    let project = root().join("examples/scan/flask");
    let out = Command::new(python())
        .current_dir(&project)
        .args([
            "-c",
            "import json\nfrom library import create_app\napp = create_app()\nprint(json.dumps([[r.rule, sorted(r.methods - {'HEAD', 'OPTIONS'})] for r in app.url_map.iter_rules()]))",
        ])
        .output()
        .expect("run python (scripts/setup.sh installs flask into .venv)");
    assert!(
        out.status.success(),
        "reading Flask's url_map failed (is flask installed? run scripts/setup.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules: Vec<(String, Vec<String>)> = serde_json::from_slice(&out.stdout).expect("json");
    let scan = scan_dir(&project, Framework::Flask).expect("scan");
    let paths = scan.openapi["paths"].as_object().expect("paths");

    let mut flask_ops = BTreeSet::new();
    for (rule, methods) in &rules {
        let (path, params) = openapi_rule(rule);
        for m in methods {
            let m = m.to_lowercase();
            flask_ops.insert(format!("{} {path}", m.to_uppercase()));
            let Some(op) = paths.get(&path).and_then(|i| i.get(&m)) else {
                continue;
            };
            for (name, conv) in &params {
                let p = op["parameters"]
                    .as_array()
                    .and_then(|ps| {
                        ps.iter()
                            .find(|p| p["name"] == json!(name) && p["in"] == json!("path"))
                    })
                    .unwrap_or_else(|| panic!("{m} {path}: no path parameter {name}"));
                let expected: Value = match conv.as_str() {
                    "int" => json!({"type": "integer"}),
                    "float" => json!({"type": "number"}),
                    "uuid" => json!({"type": "string", "format": "uuid"}),
                    _ => json!({"type": "string"}),
                };
                assert_eq!(p["schema"], expected, "{m} {path} {name}");
            }
        }
    }
    let scan_ops: BTreeSet<String> = paths
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .expect("item")
                .keys()
                .map(move |m| format!("{} {p}", m.to_uppercase()))
        })
        .collect();
    let only_flask: Vec<&String> = flask_ops.difference(&scan_ops).collect();
    let only_scan: Vec<&String> = scan_ops.difference(&flask_ops).collect();
    assert!(only_scan.is_empty(), "scan invented {only_scan:?}");
    assert_eq!(
        only_flask,
        vec![
            // Flask's built-in static files route, not part of the API.
            "GET /static/{filename}",
            // The MethodView rule: reported, left out.
            "GET /stats",
        ],
    );
    assert_eq!(scan_ops.len(), 10);
}
