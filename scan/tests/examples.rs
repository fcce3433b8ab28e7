//! Each example project under examples/scan/<framework>/ scans to the document and report
//! committed next to it. `GATEHOUSE_BLESS=1 cargo test -p gatehouse-scan --test examples`
//! rewrites them after an intended change (review the diff).

// Helpers are test code too (clippy.toml allows these in #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use gatehouse_scan::{scan_dir, Framework};
use serde_json::Value;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/scan")
        .join(name)
}

fn check(name: &str, framework: Framework) {
    let dir = example(name);
    let scan = scan_dir(&dir, framework).unwrap_or_else(|e| panic!("scan {name}: {e}"));
    let doc_path = dir.join("openapi.yaml");
    let report_path = dir.join("report.json");
    let report = serde_json::to_value(&scan.report).expect("report");
    if std::env::var_os("GATEHOUSE_BLESS").is_some() {
        std::fs::write(
            &doc_path,
            gatehouse_scan::to_yaml(&scan.openapi).expect("yaml"),
        )
        .expect("write");
        let mut r = serde_json::to_string_pretty(&report).expect("json");
        r.push('\n');
        std::fs::write(&report_path, r).expect("write");
    }
    let expected: Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(&doc_path).expect("expected openapi.yaml"),
    )
    .expect("expected yaml");
    assert_eq!(
        scan.openapi,
        expected,
        "{name}: scan output differs from {}",
        doc_path.display()
    );
    let expected_report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report.json"))
            .expect("report json");
    assert_eq!(report, expected_report, "{name}: report differs");
}

#[test]
fn fastapi_example() {
    check("fastapi", Framework::Fastapi);
}

#[test]
fn fastapi_example_auto_detects() {
    let scan = scan_dir(&example("fastapi"), Framework::Auto).expect("scan");
    assert_eq!(scan.report.frameworks, vec!["fastapi"]);
}

#[test]
fn flask_example() {
    check("flask", Framework::Flask);
}

#[test]
fn express_example() {
    check("express", Framework::Express);
}

#[test]
fn axum_example() {
    check("axum", Framework::Axum);
}

#[test]
fn actix_example() {
    check("actix", Framework::Actix);
}
