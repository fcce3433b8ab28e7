//! The FastAPI example scanned statically against the document FastAPI itself generates
//! (`app.openapi()`, fastapi and pydantic pinned in scripts/setup.sh). Every difference is
//! listed here and in docs/import-and-scan.md; a new one fails the test.

// Helpers are test code too (clippy.toml allows these in #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use gatehouse_scan::{scan_dir, Framework};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The interpreter scripts/setup.sh installs fastapi into.
fn python() -> PathBuf {
    std::env::var_os("GATEHOUSE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"))
}

fn fastapi_document(project: &Path, module: &str) -> Value {
    let out = Command::new(python())
        .current_dir(project)
        .args([
            "-c",
            &format!("import json, sys, warnings; warnings.simplefilter('ignore'); sys.path.insert(0, '.'); from {module} import app; print(json.dumps(app.openapi()))"),
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (run scripts/setup.sh)", python().display()));
    assert!(
        out.status.success(),
        "exporting app.openapi() failed (is fastapi installed? run scripts/setup.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("FastAPI's document is JSON")
}

/// Differences as `kind pointer` lines; numbers compare by value (pydantic writes `0.0`
/// where the source says `0`).
fn diff(scan: &Value, fastapi: &Value, at: &str, out: &mut Vec<String>) {
    match (scan, fastapi) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match b.get(k) {
                    Some(w) => diff(v, w, &p, out),
                    None => out.push(format!("only-scan {p}")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!(
                    "only-fastapi {at}/{}",
                    k.replace('~', "~0").replace('/', "~1")
                ));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                diff(v, w, &format!("{at}/{i}"), out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        _ => out.push(format!("differs {at}")),
    }
}

#[test]
fn scan_matches_what_fastapi_generates() {
    let project = root().join("examples/scan/fastapi");
    let reference = fastapi_document(&project, "app.main");
    let scan = scan_dir(&project, Framework::Fastapi).expect("scan");
    let mut differences = Vec::new();
    diff(&scan.openapi, &reference, "", &mut differences);
    differences.sort();
    let expected = [
        // `gatehouse:` comments add what FastAPI does not know (docs/import-and-scan.md).
        "differs /paths/~1api~1v1~1items~1{item_id}/delete/summary",
        "only-scan /components/securitySchemes",
        "only-scan /paths/~1api~1v1~1items~1/post/security",
        "only-scan /paths/~1api~1v1~1items~1{item_id}/delete/security",
        "only-scan /paths/~1api~1v1~1items~1{item_id}/put/security",
        "only-scan /paths/~1healthz/get/security",
    ];
    let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_string()).collect();
    expected.sort();
    assert_eq!(
        differences, expected,
        "differences between `gatehouse scan` and FastAPI's own document changed"
    );
    // The comparison covers every operation FastAPI documents.
    let ops = |d: &Value| -> usize {
        d["paths"].as_object().map_or(0, |p| {
            p.values()
                .map(|i| i.as_object().map_or(0, |o| o.len()))
                .sum()
        })
    };
    assert_eq!(ops(&scan.openapi), ops(&reference));
    assert_eq!(ops(&reference), 8);
    assert_eq!(scan.report.schemas, 9);
}

/// Nesting, tag order, router and signature dependencies (parameter order as FastAPI
/// flattens them), `Annotated` markers, and `api_route` with several methods.
#[test]
fn nested_routers_and_dependencies_match_fastapi() {
    let project = root().join("scan/tests/fixtures/fastapi_nested");
    let reference = fastapi_document(&project, "pkg.main");
    let scan = scan_dir(&project, Framework::Fastapi).expect("scan");
    let mut differences = Vec::new();
    diff(&scan.openapi, &reference, "", &mut differences);
    // FastAPI gives every method of one api_route the id of `list(route.methods)[0]`, a
    // set whose order changes with Python's hash seed (and warns "Duplicate Operation
    // ID"); scan gives each method its own. So exactly one of the two differs.
    let put = "differs /paths/~1v1~1outer~1p2~1inner~1y/put/operationId";
    let patch = "differs /paths/~1v1~1outer~1p2~1inner~1y/patch/operationId";
    assert!(
        differences == [put] || differences == [patch],
        "{differences:#?}"
    );
}
