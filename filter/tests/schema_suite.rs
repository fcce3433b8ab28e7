//! JSON-Schema-Test-Suite conformance of `gatehouse_filter::schema`.
//!
//! Runs the required tests of `draft2020-12` and `draft4` (with `format` as an annotation,
//! the specifications' default), and `optional/format` for the formats the validator
//! asserts (with assertion on), from `../shared/testdata/json-schema-test-suite` (the
//! `shared/` directory beside the repository). Remote references are served from the
//! suite's `remotes/` as `http://localhost:1234/...` documents.
//!
//! Every failing test must be listed in `tests/data/json-schema-suite-ignore.txt` with a
//! reason, and every listed test must still fail: the test fails otherwise. Each program is
//! also serialized, deserialized and run again, and must give the same violations, and
//! every instance is also validated from its bytes (the request path, `Doc::parse`).
//!
//! `cargo test -p gatehouse-filter --test schema_suite -- --nocapture` prints the pass
//! rates per file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use gatehouse_filter::schema::{
    is_valid, validate, validate_doc, Compiler, Dialect, Doc, Limits, Options, Program,
};
use serde_json::Value;

/// Formats asserted by the validator whose optional suite files are run.
const CLAIMED_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "uuid",
    "unknown",
];

const REMOTE_BASE: &str = "http://localhost:1234/";

fn suite_dir() -> PathBuf {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/json-schema-test-suite");
    assert!(
        dir.join("tests").is_dir(),
        "JSON-Schema-Test-Suite not found at {} (expected the shared/ directory beside the \
         repository: shared/testdata/json-schema-test-suite)",
        dir.display()
    );
    dir
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn remotes(dir: &Path) -> HashMap<String, Value> {
    fn walk(root: &Path, dir: &Path, out: &mut HashMap<String, Value>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(format!("{REMOTE_BASE}{rel}"), read_json(&path));
            }
        }
    }
    let mut out = HashMap::new();
    walk(&dir.join("remotes"), &dir.join("remotes"), &mut out);
    out
}

/// `draft/file.json :: case :: test` → reason.
fn ignore_list() -> BTreeMap<String, String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/json-schema-suite-ignore.txt");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, reason) = line
            .rsplit_once(" # ")
            .unwrap_or_else(|| panic!("ignore file line {}: no `# reason`", n + 1));
        assert_eq!(
            key.split(" :: ").count(),
            3,
            "ignore file line {}: expected `file :: case :: test # reason`",
            n + 1
        );
        assert!(
            out.insert(key.trim().to_owned(), reason.trim().to_owned())
                .is_none(),
            "ignore file line {}: duplicate entry",
            n + 1
        );
    }
    out
}

#[derive(Default)]
struct Tally {
    passed: usize,
    total: usize,
}

fn test_files(dir: &Path, draft: &str) -> Vec<(String, PathBuf, bool)> {
    let mut files = Vec::new();
    let tests = dir.join("tests").join(draft);
    let mut required: Vec<_> = fs::read_dir(&tests)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    required.sort();
    for p in required {
        let name = format!("{draft}/{}", p.file_name().unwrap().to_string_lossy());
        files.push((name, p, true));
    }
    for format in CLAIMED_FORMATS {
        let p = tests.join("optional/format").join(format!("{format}.json"));
        if p.is_file() {
            files.push((format!("{draft}/optional/format/{format}.json"), p, false));
        }
    }
    files
}

fn compile_case(
    options: &Options,
    schema: &Value,
    remotes: &HashMap<String, Value>,
) -> Result<(Program, u32), String> {
    let mut compiler = Compiler::new(options.clone());
    for (uri, doc) in remotes {
        compiler.add_document(uri, doc);
    }
    let root = compiler
        .compile_value("gatehouse:/suite/schema.json", schema)
        .map_err(|e| e.to_string())?;
    let program = compiler.finish().map_err(|e| e.to_string())?;
    Ok((program, root))
}

#[test]
fn schema_json_schema_test_suite() {
    let dir = suite_dir();
    let remotes = remotes(&dir);
    let ignored = ignore_list();
    let limits = Limits::default();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut unexpected: Vec<String> = Vec::new();
    let mut stale: Vec<String> = Vec::new();
    let mut report = String::new();
    let mut totals: BTreeMap<(String, &str), Tally> = BTreeMap::new();

    for (draft, dialect) in [
        ("draft2020-12", Dialect::Draft2020_12),
        ("draft4", Dialect::Draft4),
    ] {
        for (name, path, required) in test_files(&dir, draft) {
            let kind = if required { "required" } else { "format" };
            // The required tests run with the specification's default, `format` as an
            // annotation; the format files with assertion on (Gatehouse's default).
            let options = Options {
                assert_formats: !required,
                ..Options::new(dialect)
            };
            let mut tally = Tally::default();
            let Value::Array(cases) = read_json(&path) else {
                panic!("{name}: not an array");
            };
            for case in &cases {
                let case_desc = case["description"].as_str().unwrap();
                let compiled = compile_case(&options, &case["schema"], &remotes);
                let round_tripped = compiled.as_ref().ok().map(|(program, _)| {
                    let json = serde_json::to_string(program).unwrap();
                    let back: Program = serde_json::from_str(&json)
                        .unwrap_or_else(|e| panic!("{name} :: {case_desc}: round trip: {e}"));
                    back.check().unwrap();
                    back
                });
                for test in case["tests"].as_array().unwrap() {
                    let test_desc = test["description"].as_str().unwrap();
                    let key = format!("{name} :: {case_desc} :: {test_desc}");
                    assert!(seen.insert(key.clone()), "duplicate test name {key}");
                    let expected = test["valid"].as_bool().unwrap();
                    let outcome = match (&compiled, &round_tripped) {
                        (Ok((program, root)), Some(back)) => {
                            let violations = validate(program, *root, &test["data"], &limits);
                            let again = validate(back, *root, &test["data"], &limits);
                            assert_eq!(violations, again, "{key}: round trip changed the result");
                            // The request path: the same instance as bytes, on the tape.
                            let bytes = serde_json::to_vec(&test["data"]).unwrap();
                            let doc = Doc::parse(&bytes)
                                .unwrap_or_else(|_| panic!("{key}: tape parser refused the data"));
                            assert_eq!(
                                validate_doc(program, *root, &doc, &limits),
                                violations,
                                "{key}: bytes and value disagree"
                            );
                            assert_eq!(
                                violations.is_empty(),
                                is_valid(program, *root, &test["data"], &limits),
                                "{key}: is_valid disagrees with validate"
                            );
                            if violations.is_empty() == expected {
                                Ok(())
                            } else if expected {
                                Err(format!("rejected: {}", violations[0]))
                            } else {
                                Err("accepted".to_owned())
                            }
                        }
                        (Err(e), _) => Err(format!("compile error: {e}")),
                        (Ok(_), None) => unreachable!(),
                    };
                    tally.total += 1;
                    match (outcome, ignored.contains_key(&key)) {
                        (Ok(()), false) => tally.passed += 1,
                        (Ok(()), true) => {
                            tally.passed += 1;
                            stale.push(key);
                        }
                        (Err(_), true) => {}
                        (Err(why), false) => unexpected.push(format!("{key}  [{why}]")),
                    }
                }
            }
            report.push_str(&format!(
                "{:<55} {:>4}/{:<4} {:>6.1}%\n",
                name,
                tally.passed,
                tally.total,
                100.0 * tally.passed as f64 / tally.total.max(1) as f64
            ));
            let t = totals.entry((draft.to_owned(), kind)).or_default();
            t.passed += tally.passed;
            t.total += tally.total;
        }
    }
    report.push('\n');
    for ((draft, kind), t) in &totals {
        report.push_str(&format!(
            "TOTAL {draft} {kind}: {}/{} ({:.2}%)\n",
            t.passed,
            t.total,
            100.0 * t.passed as f64 / t.total as f64
        ));
    }
    println!("{report}");

    let unknown: Vec<&String> = ignored.keys().filter(|k| !seen.contains(*k)).collect();
    assert!(
        unknown.is_empty(),
        "ignore file lists tests that do not exist:\n{unknown:#?}"
    );
    assert!(
        stale.is_empty(),
        "ignored tests now pass; remove them from the ignore file:\n{}",
        stale.join("\n")
    );
    assert!(
        unexpected.is_empty(),
        "{} failing tests not in the ignore file:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    for ((draft, kind), t) in &totals {
        if *kind == "required" {
            let rate = t.passed as f64 / t.total as f64;
            assert!(
                rate >= 0.99,
                "{draft}: required pass rate {rate:.4} below 99%"
            );
        }
    }
}
