//! A sample of the JSON-Schema-Test-Suite through real Envoy and the built `.wasm`: each
//! sampled schema becomes the JSON body schema of one operation (validation `enforce`),
//! each of its tests is POSTed as the request body, and Envoy's answer must match the
//! core validator's native verdict: valid bodies reach the backend intact, invalid ones
//! are answered 400 problem+json with the same violations (pointers and keywords).
//!
//! Sample: the first case of every required test file of `draft2020-12` and `draft4`
//! whose schema compiles, with all of its tests (one Envoy per draft).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use gatehouse_filter::config::{
    BodySpec, FilterConfig, MediaSpec, Method, Operation, Policies, RequestSpec, ValidationMode,
    ValidationPolicy,
};
use gatehouse_filter::schema::{validate, Compiler, Dialect, Limits, Options};
use serde_json::Value;
use wasm_host_tests::{configs, Stack};

const HOST: &str = "suite.test";

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/json-schema-test-suite")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn remotes(dir: &Path) -> HashMap<String, Value> {
    fn walk(root: &Path, dir: &Path, out: &mut HashMap<String, Value>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(format!("http://localhost:1234/{rel}"), read_json(&path));
            }
        }
    }
    let mut out = HashMap::new();
    let remotes = dir.join("remotes");
    walk(&remotes, &remotes, &mut out);
    out
}

/// A sampled test: operation index, description, body, native violations.
struct Sampled {
    op: usize,
    name: String,
    body: String,
    native: Vec<(String, String)>,
}

fn sample(draft: &str, dialect: Dialect) -> (FilterConfig, Vec<Sampled>) {
    let dir = suite_dir();
    let remotes = remotes(&dir);
    let mut compiler = Compiler::new(Options {
        assert_formats: false,
        ..Options::new(dialect)
    });
    for (uri, doc) in &remotes {
        compiler.add_document(uri, doc);
    }
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join("tests").join(draft))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    // The compiler borrows every schema it compiles: read them all first.
    let firsts: Vec<(String, Value)> = files
        .iter()
        .filter_map(|file| {
            let case = read_json(file).as_array()?.first()?.clone();
            Some((
                file.file_name().unwrap().to_string_lossy().into_owned(),
                case,
            ))
        })
        .collect();
    let mut roots = Vec::new();
    let mut cases = Vec::new();
    for (file, case) in &firsts {
        let uri = format!("gatehouse:/suite/{draft}/{}", roots.len());
        let Ok(root) = compiler.compile_value(&uri, &case["schema"]) else {
            continue;
        };
        roots.push(root);
        cases.push((file, case));
    }
    let program = compiler.finish().unwrap();
    let limits = Limits::default();
    let mut operations = Vec::new();
    let mut tests = Vec::new();
    for (i, ((file, case), root)) in cases.iter().zip(&roots).enumerate() {
        operations.push(Operation {
            operation_id: format!("c{i}"),
            method: Method::Post,
            path: format!("/c/{i}"),
            policies: Policies::default(),
            request: Some(RequestSpec {
                body: Some(BodySpec {
                    required: true,
                    content: vec![MediaSpec {
                        media_type: "application/json".into(),
                        schema: Some(*root),
                        form: Vec::new(),
                    }],
                    max_bytes: None,
                }),
                ..RequestSpec::default()
            }),
        });
        for test in case["tests"].as_array().unwrap() {
            let native = validate(&program, *root, &test["data"], &limits)
                .into_iter()
                .map(|v| (v.pointer, v.keyword.to_owned()))
                .collect();
            tests.push(Sampled {
                op: i,
                name: format!(
                    "{draft}/{file} :: {} :: {}",
                    case["description"], test["description"]
                ),
                body: serde_json::to_string(&test["data"]).unwrap(),
                native,
            });
        }
    }
    let mut api = configs::api("default/suite", &[HOST], "", true, operations);
    api.defaults.validation = Some(ValidationPolicy {
        mode: ValidationMode::Enforce,
        ..ValidationPolicy::default()
    });
    let mut config = configs::config(vec![api]);
    config.schemas = Some(program);
    (config, tests)
}

fn run(draft: &str, dialect: Dialect) {
    let (config, tests) = sample(draft, dialect);
    assert!(
        tests.len() >= 100,
        "{draft}: only {} sampled tests",
        tests.len()
    );
    let stack = Stack::gatehouse(&configs::to_json(&config));
    let mut valid = 0;
    let mut mismatches = Vec::new();
    for t in &tests {
        let r = stack.client.send(
            "POST",
            &stack.envoy.url(&format!("/c/{}", t.op)),
            &[("host", HOST), ("content-type", "application/json")],
            Some(&t.body),
        );
        let got: Option<Vec<(String, String)>> = match r.status {
            200 => {
                assert_eq!(
                    r.json()["body"],
                    t.body.as_str(),
                    "{}: body changed",
                    t.name
                );
                Some(Vec::new())
            }
            400 => {
                let problem = r.json();
                problem["errors"].as_array().map(|errors| {
                    errors
                        .iter()
                        .map(|e| {
                            assert_eq!(e["in"], "body");
                            (
                                e["pointer"].as_str().unwrap().to_owned(),
                                e["keyword"].as_str().unwrap().to_owned(),
                            )
                        })
                        .collect()
                })
            }
            _ => None,
        };
        if t.native.is_empty() {
            valid += 1;
        }
        if got.as_ref() != Some(&t.native) {
            mismatches.push(format!(
                "{}: native {:?}, Envoy {} {:?}",
                t.name, t.native, r.status, got
            ));
        }
    }
    println!(
        "{draft}: {} suite tests through Envoy ({valid} valid, {} invalid), {} mismatches",
        tests.len(),
        tests.len() - valid,
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(valid > 0 && valid < tests.len());
}

#[test]
fn suite_sample_through_envoy_draft2020_12() {
    run("draft2020-12", Dialect::Draft2020_12);
}

#[test]
fn suite_sample_through_envoy_draft4() {
    run("draft4", Dialect::Draft4);
}
