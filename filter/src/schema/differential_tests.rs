//! Differential tests: the tape validator (bytes → [`Doc`] → `validate_doc`, the request
//! path) against the previous `serde_json::Value` validator (`validate_value`, kept for
//! these tests only) over random JSON: mutations of a realistic order for the shop
//! schema, and random instances for every schema of the JSON-Schema-Test-Suite.
//! Both must report the same violations (pointers, keywords, messages, order) and the tape
//! parser must accept exactly the texts `serde_json` accepts (it may only refuse more, in
//! which case the caller falls back on `serde_json`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use serde_json::{json, Value};

use super::{
    validate_doc, validate_value, Compiler, Dialect, Direction, Doc, Limits, Options, Program,
};

/// The shop schema the benches use (`extern crate self as gatehouse_filter` in lib.rs lets
/// this crate's own tests include it as the integration tests do).
#[path = "../../tests/common/shop_orders.rs"]
mod shop_orders;

/// xorshift64*: deterministic, so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const WORDS: &[&str] = &[
    "",
    "a",
    "id",
    "name",
    "method",
    "card",
    "paypal",
    "bank",
    "EUR",
    "ABC-12345",
    "DE",
    "10115",
    "+4915112345678",
    "jane@example.com",
    "not an email",
    "2024-11-23T10:15:30Z",
    "2024-13-01",
    "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    "https://x.example/a?b",
    "09/27",
    "4242",
    "é\u{1F600}\"\\/\n\t",
    "~/",
    "items",
    "quantity",
    "foo",
    "bar",
    "baz",
];

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let k = if depth >= 4 {
        rng.below(5)
    } else {
        rng.below(7)
    };
    match k {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => match rng.below(5) {
            0 => json!(rng.below(2000) as i64 - 1000),
            1 => json!((rng.below(100_000) as f64) / 100.0),
            2 => json!(u64::MAX - rng.below(3) as u64),
            3 => json!(1.0),
            _ => json!(-(rng.below(10) as i64)),
        },
        3 | 4 => Value::String(WORDS[rng.below(WORDS.len())].to_owned()),
        5 => Value::Array(
            (0..rng.below(5))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(5))
                .map(|_| {
                    (
                        WORDS[rng.below(WORDS.len())].to_owned(),
                        random_value(rng, depth + 1),
                    )
                })
                .collect(),
        ),
    }
}

/// Replaces, removes or adds something at a random place in `v`.
fn mutate(rng: &mut Rng, v: &mut Value, depth: usize) {
    match v {
        Value::Object(map) if !map.is_empty() && rng.chance(75) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = &keys[rng.below(keys.len())];
            match rng.below(4) {
                0 => {
                    map.remove(key);
                }
                1 => {
                    map.insert(
                        WORDS[rng.below(WORDS.len())].to_owned(),
                        random_value(rng, depth),
                    );
                }
                _ => mutate(rng, map.get_mut(key).unwrap(), depth + 1),
            }
        }
        Value::Array(items) if !items.is_empty() && rng.chance(75) => {
            let i = rng.below(items.len());
            match rng.below(4) {
                0 => {
                    items.remove(i);
                }
                1 => items.push(items[i].clone()),
                _ => mutate(rng, &mut items[i], depth + 1),
            }
        }
        other => *other = random_value(rng, depth),
    }
}

fn compare(program: &Program, root: u32, value: &Value, limits: &Limits, what: &str) {
    let old = validate_value::validate(program, root, value, limits);
    let bytes = serde_json::to_vec(value).unwrap();
    let doc = Doc::parse(&bytes).unwrap_or_else(|_| panic!("{what}: tape refused {value}"));
    let new = validate_doc(program, root, &doc, limits);
    assert_eq!(new, old, "{what}: instance {value}");
    // Pretty-printed (whitespace everywhere) gives the same answer.
    let pretty = serde_json::to_vec_pretty(value).unwrap();
    let doc = Doc::parse(&pretty).unwrap();
    assert_eq!(
        validate_doc(program, root, &doc, limits),
        old,
        "{what} (pretty)"
    );
}

fn shop() -> (Program, u32) {
    // The realistic schema of `tests/schema_bench.rs`, compiled for requests.
    let doc = shop_orders::document();
    let mut c = Compiler::new(Options::new(Dialect::OpenApi30));
    c.add_document(shop_orders::DOC_URI, &doc);
    c.set_direction(Direction::Request);
    let root = c
        .compile_ref(&format!(
            "{}#/components/schemas/Order",
            shop_orders::DOC_URI
        ))
        .unwrap();
    (c.finish().unwrap(), root)
}

fn order() -> Value {
    json!({
        "status": "paid",
        "createdAt": "2024-11-23T10:15:30.123Z",
        "customer": {"id": "f47ac10b-58cc-4372-a567-0e02b2c3d479", "email": "jane.doe@example.com",
                     "name": "Jane Doe", "phone": "+4915112345678", "website": "https://jane.example.com/about"},
        "items": [
            {"sku": "ABC-10000", "name": "Widget", "quantity": 1, "unitPrice": 19.99, "currency": "EUR", "discount": 0.1},
            {"sku": "ABC-10001", "quantity": 2, "unitPrice": 5}
        ],
        "shipping": {"line1": "Hauptstrasse 1", "city": "Berlin", "postalCode": "10115", "country": "DE"},
        "payment": {"method": "card", "last4": "4242", "expiry": "09/27", "holder": "Jane Doe"},
        "tags": ["gift", "express"],
        "notes": null,
        "metadata": {"channel": "web"}
    })
}

#[test]
fn tape_and_value_validators_agree_on_mutated_orders() {
    let (program, root) = shop();
    let base = order();
    let limits = Limits::default();
    let few = Limits {
        max_errors: 2,
        ..Limits::default()
    };
    assert!(validate_value::validate(&program, root, &base, &limits).is_empty());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut invalid = 0;
    for case in 0..4000 {
        let mut v = base.clone();
        for _ in 0..=rng.below(4) {
            mutate(&mut rng, &mut v, 0);
        }
        if !validate_value::validate(&program, root, &v, &limits).is_empty() {
            invalid += 1;
        }
        compare(&program, root, &v, &limits, &format!("order case {case}"));
        compare(
            &program,
            root,
            &v,
            &few,
            &format!("order case {case}, 2 errors"),
        );
    }
    // The mutations must exercise the failure paths, not only valid orders.
    assert!(
        invalid > 2000,
        "only {invalid} of 4000 mutated orders were invalid"
    );
}

#[test]
fn tape_and_value_validators_agree_on_suite_schemas() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/testdata/json-schema-test-suite/tests");
    let limits = Limits::default();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut schemas = 0;
    for (draft, dialect) in [
        ("draft2020-12", Dialect::Draft2020_12),
        ("draft4", Dialect::Draft4),
    ] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(draft))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for file in files {
            let cases: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            for case in cases.as_array().unwrap() {
                let mut c = Compiler::new(Options::new(dialect));
                let Ok(root) = c.compile_value("gatehouse:/suite/schema.json", &case["schema"])
                else {
                    continue;
                };
                let Ok(program) = c.finish() else { continue };
                schemas += 1;
                let what = format!("{} :: {}", file.display(), case["description"]);
                for test in case["tests"].as_array().unwrap() {
                    let data = &test["data"];
                    compare(&program, root, data, &limits, &what);
                    for _ in 0..6 {
                        let mut v = data.clone();
                        mutate(&mut rng, &mut v, 0);
                        compare(&program, root, &v, &limits, &what);
                    }
                }
                for _ in 0..10 {
                    let v = random_value(&mut rng, 0);
                    compare(&program, root, &v, &limits, &what);
                }
            }
        }
    }
    assert!(schemas > 500, "only {schemas} suite schemas compiled");
}

#[test]
fn tape_parser_accepts_what_serde_json_accepts() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let fixed: &[&str] = &[
        "0",
        "-0",
        "1e400",
        "-1e400",
        "1E+2",
        "1e-2",
        "01",
        "-",
        "1.",
        ".5",
        "+1",
        "[1,]",
        "{\"a\":1,}",
        "[",
        "]",
        "{}",
        "[]",
        " [ ] ",
        "\"\\ud800\"",
        "\"\\ud83d\\ude00\"",
        "\"\\udc00\"",
        "\"\\u00e9\"",
        "\"\\x\"",
        "\"a\nb\"",
        "nul",
        "true false",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "{\"a\" 1}",
        "{1:2}",
        "\"\u{1F600}\"",
        "[1 2]",
        "{\"a\":1 \"b\":2}",
        "\"\\/\"",
        "1 ",
        " 1",
        "\t\n\r1",
        "\u{a0}1",
    ];
    let mut texts: Vec<Vec<u8>> = fixed.iter().map(|s| s.as_bytes().to_vec()).collect();
    texts.push(vec![b'"', 0xff, b'"']);
    texts.push([b"[".repeat(127), b"]".repeat(127)].concat());
    texts.push([b"[".repeat(128), b"]".repeat(128)].concat());
    texts.push([b"{\"a\":".repeat(128), b"}".repeat(128)].concat());
    for _ in 0..3000 {
        let v = random_value(&mut rng, 0);
        let mut bytes = serde_json::to_vec(&v).unwrap();
        // Corrupt some: drop, duplicate or replace a byte.
        if rng.chance(60) && !bytes.is_empty() {
            let i = rng.below(bytes.len());
            match rng.below(3) {
                0 => {
                    bytes.remove(i);
                }
                1 => bytes.insert(i, bytes[i]),
                _ => {
                    let noise = b"{}[],:\"\\ 0-+.eEtfn\x01";
                    bytes[i] = noise[rng.below(noise.len())];
                }
            }
        }
        texts.push(bytes);
    }
    for text in texts {
        let serde = serde_json::from_slice::<Value>(&text);
        let tape = Doc::parse(&text);
        let shown = String::from_utf8_lossy(&text);
        match (&serde, &tape) {
            (Ok(value), Ok(doc)) => {
                let theirs = Doc::from_value(value);
                assert!(
                    super::json::inst_eq(theirs.root(), doc.root()) || close_floats(&theirs, doc),
                    "different values for {shown}"
                );
                assert_eq!(
                    super::json::inst_type_name(Doc::from_value(value).root()),
                    super::json::inst_type_name(doc.root())
                );
            }
            (Err(_), Err(_)) => {}
            (Ok(_), Err(_)) => panic!("tape refused valid JSON {shown}"),
            (Err(e), Ok(_)) => panic!("tape accepted {shown}, serde_json said {e}"),
        }
    }
}

/// Both documents are one float, at most an ULP apart: the tape parses decimals correctly
/// rounded (`str::parse`), `serde_json`'s default parser may be an ULP off for long ones.
fn close_floats(a: &Doc<'_>, b: &Doc<'_>) -> bool {
    match (a.root().as_number(), b.root().as_number()) {
        (Some(x), Some(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= x.abs() * f64::EPSILON,
            _ => false,
        },
        _ => false,
    }
}

#[test]
fn duplicate_keys_are_all_validated() {
    let doc: Value =
        json!({"type": "object", "properties": {"a": {"type": "integer"}}, "maxProperties": 1});
    let mut c = Compiler::new(Options::new(Dialect::Draft2020_12));
    let root = c.compile_value("gatehouse:/dup.json", &doc).unwrap();
    let program = c.finish().unwrap();
    let body = br#"{"a": "text", "a": 1}"#;
    let parsed = Doc::parse(body).unwrap();
    let v = validate_doc(&program, root, &parsed, &Limits::default());
    // serde_json keeps the last `a` (valid); the tape checks both, as an upstream parser
    // that keeps the first one would see "text".
    assert!(
        v.iter().any(|v| v.pointer == "/a" && v.keyword == "type"),
        "{v:?}"
    );
}
