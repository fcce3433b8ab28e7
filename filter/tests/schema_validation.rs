//! Behaviour of `gatehouse_filter::schema` beyond the JSON-Schema-Test-Suite: OpenAPI
//! dialect features, messages, limits, formats, numbers, recursion, serialization.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;

use gatehouse_filter::schema::{
    compile, is_valid, validate, Compiler, Dialect, Direction, Limits, Options, Program, Violation,
};
use serde_json::{json, Value};

fn compiled(dialect: Dialect, schema: &Value) -> (Program, u32) {
    compile(schema, &Options::new(dialect), &HashMap::new()).unwrap()
}

fn check(dialect: Dialect, schema: &Value, instance: &Value) -> Vec<Violation> {
    let (program, root) = compiled(dialect, schema);
    let limits = Limits::default();
    let violations = validate(&program, root, instance, &limits);
    assert_eq!(
        violations.is_empty(),
        is_valid(&program, root, instance, &limits)
    );
    // The serialized program behaves the same.
    let back: Program = serde_json::from_str(&serde_json::to_string(&program).unwrap()).unwrap();
    assert_eq!(validate(&back, root, instance, &limits), violations);
    violations
}

fn ok(dialect: Dialect, schema: &Value, instance: &Value) {
    let v = check(dialect, schema, instance);
    assert!(v.is_empty(), "{instance} should be valid, got {v:?}");
}

fn one(dialect: Dialect, schema: &Value, instance: &Value) -> Violation {
    let mut v = check(dialect, schema, instance);
    assert_eq!(v.len(), 1, "{instance}: expected one violation, got {v:#?}");
    v.remove(0)
}

/// An OpenAPI 3.0 document with a discriminated `oneOf`, compiled at `Pet`.
fn pets_document() -> Value {
    json!({
        "openapi": "3.0.3",
        "components": {"schemas": {
            "Pet": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Cat"},
                    {"$ref": "#/components/schemas/Dog"},
                    {"$ref": "#/components/schemas/Lizard"}
                ],
                "discriminator": {
                    "propertyName": "petType",
                    "mapping": {"lizard": "#/components/schemas/Lizard"}
                }
            },
            "Cat": {
                "type": "object",
                "required": ["petType", "name"],
                "properties": {
                    "petType": {"type": "string"},
                    "name": {"type": "string"},
                    "lives": {"type": "integer", "minimum": 0, "maximum": 9}
                }
            },
            "Dog": {
                "type": "object",
                "required": ["petType", "bark"],
                "properties": {
                    "petType": {"type": "string"},
                    "bark": {"type": "boolean"}
                }
            },
            "Lizard": {
                "type": "object",
                "required": ["petType"],
                "properties": {"petType": {"type": "string"}, "scales": {"type": "integer"}}
            }
        }}
    })
}

fn pets() -> (Program, u32) {
    let doc = pets_document();
    let mut c = Compiler::new(Options::new(Dialect::OpenApi30));
    c.add_document("https://example.com/openapi.json", &doc);
    let root = c
        .compile_ref("https://example.com/openapi.json#/components/schemas/Pet")
        .unwrap();
    (c.finish().unwrap(), root)
}

#[test]
fn schema_discriminator_selects_the_branch_and_names_the_real_problem() {
    let (program, root) = pets();
    let limits = Limits::default();
    let run = |v: Value| validate(&program, root, &v, &limits);

    assert!(run(json!({"petType": "Cat", "name": "Tom", "lives": 7})).is_empty());
    assert!(run(json!({"petType": "Dog", "bark": true})).is_empty());
    // Explicit mapping.
    assert!(run(json!({"petType": "lizard", "scales": 3})).is_empty());

    // The Cat branch's own problem, not "does not match exactly one schema".
    let v = run(json!({"petType": "Cat", "name": "Tom", "lives": 12}));
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].pointer, "/lives");
    assert_eq!(v[0].keyword, "maximum");
    assert_eq!(v[0].message, "number must be at most 9");

    let v = run(json!({"petType": "Dog"}));
    assert_eq!((v[0].pointer.as_str(), v[0].keyword), ("", "required"));
    assert_eq!(v[0].message, "missing required property \"bark\"");

    let v = run(json!({"petType": "Fish"}));
    assert_eq!(
        (v[0].pointer.as_str(), v[0].keyword),
        ("/petType", "discriminator")
    );
    assert_eq!(
        v[0].message,
        "\"Fish\" is not one of: \"Cat\", \"Dog\", \"lizard\""
    );

    let v = run(json!({"name": "Tom"}));
    assert_eq!((v[0].pointer.as_str(), v[0].keyword), ("", "discriminator"));
    assert!(v[0].message.contains("petType"), "{}", v[0].message);

    let v = run(json!({"petType": 3}));
    assert_eq!(
        (v[0].pointer.as_str(), v[0].keyword),
        ("/petType", "discriminator")
    );

    // Not an object: the alternatives are tried as usual.
    let v = run(json!("cat"));
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].keyword, "oneOf");
}

#[test]
fn schema_discriminator_in_openapi_31_and_anyof() {
    let schema = json!({
        "$defs": {
            "a": {"properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}},
            "b": {"properties": {"kind": {"const": "b"}, "y": {"type": "string"}}}
        },
        "anyOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/b"}],
        "discriminator": {"propertyName": "kind"}
    });
    ok(
        Dialect::Draft2020_12,
        &schema,
        &json!({"kind": "a", "x": 1}),
    );
    let v = one(
        Dialect::Draft2020_12,
        &schema,
        &json!({"kind": "b", "y": 1}),
    );
    assert_eq!((v.pointer.as_str(), v.keyword), ("/y", "type"));
    // Plain draft 4 ignores `discriminator` (it is an OpenAPI keyword).
    let d4 = json!({
        "definitions": {"a": {"properties": {"x": {"type": "integer"}}}},
        "anyOf": [{"$ref": "#/definitions/a"}],
        "discriminator": {"propertyName": "kind"}
    });
    ok(Dialect::Draft4, &d4, &json!({"x": 1}));
}

#[test]
fn schema_undiscriminated_alternatives_report_the_only_candidate_of_the_right_type() {
    let schema = json!({"oneOf": [
        {"type": "string", "maxLength": 3},
        {"type": "object", "required": ["id"]}
    ]});
    // Only the object alternative accepts objects: its violation is the answer.
    let v = one(Dialect::Draft2020_12, &schema, &json!({"name": "x"}));
    assert_eq!(v.keyword, "required");
    let v = one(Dialect::Draft2020_12, &schema, &json!("long"));
    assert_eq!(v.keyword, "maxLength");
    // No alternative takes numbers: one summary violation.
    let v = one(Dialect::Draft2020_12, &schema, &json!(1));
    assert_eq!(v.keyword, "oneOf");
    assert_eq!(v.message, "value does not match any of the 2 alternatives");
    let two = json!({"oneOf": [{"type": "integer"}, {"minimum": 0}]});
    let v = one(Dialect::Draft2020_12, &two, &json!(3));
    assert_eq!(
        v.message,
        "value matches more than one alternative (0 and 1)"
    );
}

#[test]
fn schema_nullable_in_openapi_30() {
    let schema = json!({"type": "string", "nullable": true, "maxLength": 2});
    ok(Dialect::OpenApi30, &schema, &json!(null));
    ok(Dialect::OpenApi30, &schema, &json!("ab"));
    assert_eq!(
        one(Dialect::OpenApi30, &schema, &json!("abc")).keyword,
        "maxLength"
    );
    assert_eq!(one(Dialect::OpenApi30, &schema, &json!(1)).keyword, "type");
    // `nullable` is not a keyword elsewhere.
    assert_eq!(one(Dialect::Draft4, &schema, &json!(null)).keyword, "type");
    assert_eq!(
        one(Dialect::Draft2020_12, &schema, &json!(null)).keyword,
        "type"
    );
    // nullable: false changes nothing; null with an enum that lacks it is still allowed
    // (OpenAPI tooling treats nullable as "or null").
    let not_nullable = json!({"type": "string", "nullable": false});
    assert_eq!(
        one(Dialect::OpenApi30, &not_nullable, &json!(null)).keyword,
        "type"
    );
    let with_enum = json!({"type": "string", "enum": ["a"], "nullable": true});
    ok(Dialect::OpenApi30, &with_enum, &json!(null));
}

#[test]
fn schema_openapi_30_is_draft_4_based() {
    // Boolean exclusiveMinimum, `$ref` siblings ignored.
    let schema = json!({
        "definitions": {"n": {"type": "integer"}},
        "properties": {
            "a": {"minimum": 5, "exclusiveMinimum": true},
            "b": {"$ref": "#/definitions/n", "maximum": 1}
        }
    });
    assert_eq!(
        one(Dialect::OpenApi30, &schema, &json!({"a": 5})).keyword,
        "exclusiveMinimum"
    );
    ok(Dialect::OpenApi30, &schema, &json!({"a": 5.5, "b": 100}));
    assert_eq!(
        one(Dialect::OpenApi30, &schema, &json!({"b": "x"})).keyword,
        "type"
    );
}

fn directional(direction: Direction) -> (Program, u32) {
    let schema = json!({
        "type": "object",
        "required": ["id", "name", "password"],
        "properties": {
            "id": {"$ref": "#/definitions/Id"},
            "name": {"type": "string"},
            "password": {"type": "string", "writeOnly": true},
            "created": {"type": "string", "readOnly": true}
        },
        "definitions": {"Id": {"type": "string", "readOnly": true}}
    });
    let options = Options {
        direction,
        ..Options::new(Dialect::OpenApi30)
    };
    compile(&schema, &options, &HashMap::new()).unwrap()
}

#[test]
fn schema_read_only_rejected_in_requests_and_write_only_in_responses() {
    let limits = Limits::default();
    let (req, root) = directional(Direction::Request);
    // `id` is readOnly (through a $ref): not required in a request...
    assert!(validate(&req, root, &json!({"name": "a", "password": "p"}), &limits).is_empty());
    // ...and refused when sent.
    let v = validate(
        &req,
        root,
        &json!({"id": "1", "name": "a", "password": "p", "created": "x"}),
        &limits,
    );
    let got: Vec<(&str, &str)> = v.iter().map(|v| (v.pointer.as_str(), v.keyword)).collect();
    assert_eq!(got, [("/created", "readOnly"), ("/id", "readOnly")]);
    assert_eq!(
        v[0].message,
        "property is read-only and must not be sent in a request"
    );

    let (resp, root) = directional(Direction::Response);
    assert!(validate(
        &resp,
        root,
        &json!({"id": "1", "name": "a", "created": "x"}),
        &limits
    )
    .is_empty());
    let v = validate(
        &resp,
        root,
        &json!({"id": "1", "name": "a", "password": "p"}),
        &limits,
    );
    assert_eq!(
        (v[0].pointer.as_str(), v[0].keyword),
        ("/password", "writeOnly")
    );

    let (neither, root) = directional(Direction::Neither);
    assert!(validate(
        &neither,
        root,
        &json!({"id": "1", "name": "a", "password": "p", "created": "x"}),
        &limits
    )
    .is_empty());
    let v = validate(
        &neither,
        root,
        &json!({"name": "a", "password": "p"}),
        &limits,
    );
    assert_eq!(v[0].keyword, "required");
}

#[test]
fn schema_one_program_many_roots_and_directions() {
    let doc = pets_document();
    let mut c = Compiler::new(Options::new(Dialect::OpenApi30));
    c.add_document("https://example.com/openapi.json", &doc);
    let pet = c
        .compile_ref("https://example.com/openapi.json#/components/schemas/Pet")
        .unwrap();
    c.set_direction(Direction::Request);
    let cat = c
        .compile_ref("https://example.com/openapi.json#/components/schemas/Cat")
        .unwrap();
    let again = c
        .compile_ref("https://example.com/openapi.json#/components/schemas/Cat")
        .unwrap();
    assert_eq!(cat, again);
    let program = c.finish().unwrap();
    let limits = Limits::default();
    assert!(validate(
        &program,
        pet,
        &json!({"petType": "Dog", "bark": false}),
        &limits
    )
    .is_empty());
    assert!(!validate(&program, cat, &json!({"petType": "Cat"}), &limits).is_empty());
}

#[test]
fn schema_recursive_schemas() {
    let tree = json!({
        "$defs": {"node": {
            "type": "object",
            "required": ["value"],
            "properties": {
                "value": {"type": "integer"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}
            },
            "additionalProperties": false
        }},
        "$ref": "#/$defs/node"
    });
    let leaf = |v: i64| json!({"value": v});
    ok(
        Dialect::Draft2020_12,
        &tree,
        &json!({"value": 1, "children": [leaf(2), {"value": 3, "children": [leaf(4)]}]}),
    );
    let v = one(
        Dialect::Draft2020_12,
        &tree,
        &json!({"value": 1, "children": [leaf(2), {"value": 3, "children": [{"value": "x"}]}]}),
    );
    assert_eq!(v.pointer, "/children/1/children/0/value");
    let v = one(
        Dialect::Draft2020_12,
        &tree,
        &json!({"value": 1, "children": [{"value": 2, "extra": 1}]}),
    );
    assert_eq!(
        (v.pointer.as_str(), v.keyword),
        ("/children/0/extra", "additionalProperties")
    );
    assert_eq!(v.message, "property is not allowed");

    // A linked list in draft 4, 100 nodes deep.
    let list = json!({
        "definitions": {"node": {
            "type": "object",
            "properties": {"v": {"type": "string"}, "next": {"$ref": "#/definitions/node"}}
        }},
        "$ref": "#/definitions/node"
    });
    let mut inst = json!({"v": "end"});
    for i in 0..100 {
        inst = json!({"v": i.to_string(), "next": inst});
    }
    ok(Dialect::Draft4, &list, &inst);
    let (program, root) = compiled(Dialect::Draft4, &list);
    // The recursion is a cycle in the arena, not a copy per level.
    assert!(program.len() < 10, "{} nodes", program.len());
    let _ = root;
}

#[test]
fn schema_limits_depth_errors_and_steps() {
    let list = json!({
        "definitions": {"node": {"properties": {"next": {"$ref": "#/definitions/node"}}}},
        "$ref": "#/definitions/node"
    });
    let (program, root) = compiled(Dialect::Draft4, &list);
    let mut inst = json!({});
    for _ in 0..200 {
        inst = json!({"next": inst});
    }
    let limits = Limits::default();
    let v = validate(&program, root, &inst, &limits);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].keyword, "limit");
    assert!(v[0].message.contains("too deep"), "{}", v[0].message);
    assert!(!is_valid(&program, root, &inst, &limits));
    let deep = Limits {
        max_depth: 1000,
        ..limits
    };
    assert!(validate(&program, root, &inst, &deep).is_empty());

    // A limit hit inside `not` (quiet evaluation) still fails the instance.
    let negated =
        json!({"not": {"$ref": "#/definitions/node"}, "definitions": list["definitions"]});
    let (program, root) = compiled(Dialect::Draft4, &negated);
    let v = validate(&program, root, &inst, &limits);
    assert_eq!(v[0].keyword, "limit");

    // max_errors.
    let schema = json!({"items": {"type": "string"}});
    let (program, root) = compiled(Dialect::Draft2020_12, &schema);
    let inst = Value::Array((0..100).map(|i| json!(i)).collect());
    let v = validate(
        &program,
        root,
        &inst,
        &Limits {
            max_errors: 5,
            ..limits
        },
    );
    assert_eq!(v.len(), 5);
    assert_eq!(v[4].pointer, "/4");
    assert_eq!(validate(&program, root, &inst, &limits).len(), 20);

    // Step budget: a pathological schema × instance.
    let fan = json!({"items": {"anyOf": [
        {"items": {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]}},
        {"type": "string"}
    ]}});
    let (program, root) = compiled(Dialect::Draft2020_12, &fan);
    // Valid, but 100 rows × 100 items × 3 nodes.
    let row = Value::Array((0..100).map(|_| json!(1)).collect());
    let inst = Value::Array((0..100).map(|_| row.clone()).collect());
    let v = validate(
        &program,
        root,
        &inst,
        &Limits {
            max_steps: 10_000,
            ..limits
        },
    );
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].keyword, "limit");
    assert!(v[0].message.contains("too many steps"));
    assert!(validate(&program, root, &inst, &limits).is_empty());

    // uniqueItems on a long array counts against the budget too.
    let unique = json!({"uniqueItems": true});
    let (program, root) = compiled(Dialect::Draft2020_12, &unique);
    let inst = Value::Array((0..5000).map(|i| json!(i)).collect());
    assert!(validate(&program, root, &inst, &limits).is_empty());
    let v = validate(
        &program,
        root,
        &inst,
        &Limits {
            max_steps: 1000,
            ..limits
        },
    );
    assert_eq!(v[0].keyword, "limit");
}

#[test]
fn schema_deep_recursion_does_not_overflow_a_small_stack() {
    // The wasm stack is 1 MiB: the default max_depth (128) must fit well within it. Measured
    // natively: ~620 bytes per level in release, ~3.2 KB in debug builds.
    let schema = json!({"$defs": {"n": {"anyOf": [{"type": "null"}, {"items": {"$ref": "#/$defs/n"}}]}}, "$ref": "#/$defs/n"});
    let (program, root) = compiled(Dialect::Draft2020_12, &schema);
    let mut inst = json!(null);
    for _ in 0..60 {
        inst = json!([inst]);
    }
    let handle = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || validate(&program, root, &inst, &Limits::default()))
        .unwrap();
    let v = handle.join().unwrap();
    assert!(v.is_empty() || v[0].keyword == "limit", "{v:?}");
}

#[test]
fn schema_formats_good_and_bad() {
    let cases: &[(&str, &[Value], &[Value])] = &[
        (
            "date-time",
            &[
                json!("2024-02-29T12:30:00Z"),
                json!("2024-01-01T00:00:00.5+05:30"),
            ],
            &[
                json!("2023-02-29T12:30:00Z"),
                json!("2024-01-01 00:00:00Z"),
                json!("2024-01-01T00:00:00"),
            ],
        ),
        (
            "date",
            &[json!("2024-12-31")],
            &[json!("2024-13-01"), json!("24-01-01")],
        ),
        (
            "time",
            &[json!("23:59:59Z"), json!("08:00:00-03:00")],
            &[json!("25:00:00Z"), json!("08:00:00")],
        ),
        (
            "duration",
            &[json!("P1DT2H"), json!("P2W")],
            &[json!("P1H"), json!("PT")],
        ),
        (
            "email",
            &[json!("a.b@example.com"), json!("\"q u\"@[127.0.0.1]")],
            &[
                json!("a..b@example.com"),
                json!("@x.com"),
                json!("a@b_c.com"),
            ],
        ),
        (
            "uuid",
            &[json!("123e4567-e89b-12d3-a456-426614174000")],
            &[json!("123e4567e89b12d3a456426614174000")],
        ),
        (
            "uri",
            &[
                json!("https://example.com/a?b=c#d"),
                json!("urn:isbn:0451450523"),
            ],
            &[json!("/relative"), json!("http://exa mple.com")],
        ),
        (
            "uri-reference",
            &[json!("../a/b?c"), json!("")],
            &[json!("a b"), json!("%zz")],
        ),
        (
            "ipv4",
            &[json!("10.0.0.255")],
            &[json!("10.0.0.256"), json!("010.0.0.1")],
        ),
        (
            "ipv6",
            &[json!("2001:db8::1"), json!("::ffff:10.0.0.1")],
            &[json!("2001:db8:::1"), json!("fe80::1%eth0")],
        ),
        (
            "hostname",
            &[
                json!("api.example.com"),
                json!("xn--9n2bp8q.xn--9t4b11yi5a"),
            ],
            &[json!("-bad.example"), json!("a..b"), json!("a_b.com")],
        ),
        (
            "byte",
            &[json!("aGVsbG8gd29ybGQ="), json!("")],
            &[json!("aGVsbG8gd29ybGQ"), json!("a$==")],
        ),
        (
            "int32",
            &[json!(2_147_483_647), json!(-5)],
            &[json!(2_147_483_648_i64), json!(1.5)],
        ),
        (
            "int64",
            &[json!(i64::MAX), json!(3.0)],
            &[json!(u64::MAX), json!(1e19)],
        ),
    ];
    for (format, good, bad) in cases {
        let schema = json!({"format": format});
        for g in *good {
            ok(Dialect::OpenApi30, &schema, g);
        }
        for b in *bad {
            let v = one(Dialect::OpenApi30, &schema, b);
            assert_eq!(v.keyword, "format", "{format} {b}");
            assert!(
                v.message.ends_with(&format!("valid {format}")),
                "{}",
                v.message
            );
        }
    }
    // String formats ignore other types; unknown formats are ignored.
    ok(Dialect::OpenApi30, &json!({"format": "email"}), &json!(12));
    ok(Dialect::OpenApi30, &json!({"format": "int32"}), &json!("x"));
    ok(
        Dialect::OpenApi30,
        &json!({"format": "password"}),
        &json!("x"),
    );
    // IDNA2008 A-label checks apply to the 2020-12 (OpenAPI 3.1) `hostname` only.
    let host = json!({"format": "hostname"});
    assert_eq!(
        one(Dialect::Draft2020_12, &host, &json!("xn--X")).keyword,
        "format"
    );
    assert_eq!(
        one(Dialect::Draft2020_12, &host, &json!("ab--cd.example")).keyword,
        "format"
    );
    ok(Dialect::OpenApi30, &host, &json!("ab--cd.example"));
    // Assertion can be turned off.
    let (program, root) = compile(
        &json!({"format": "email"}),
        &Options {
            assert_formats: false,
            ..Options::default()
        },
        &HashMap::new(),
    )
    .unwrap();
    assert!(validate(&program, root, &json!("nope"), &Limits::default()).is_empty());
}

#[test]
fn schema_numbers() {
    let int = json!({"type": "integer"});
    ok(Dialect::Draft2020_12, &int, &json!(1.0));
    ok(Dialect::Draft2020_12, &int, &json!(-0.0));
    ok(Dialect::Draft2020_12, &int, &json!(1e308));
    ok(Dialect::Draft2020_12, &int, &json!(u64::MAX));
    ok(Dialect::Draft2020_12, &int, &json!(i64::MIN));
    assert_eq!(
        one(Dialect::Draft2020_12, &int, &json!(1.5)).message,
        "expected integer, found number"
    );
    let big: Value = serde_json::from_str("123456789012345678901234567890").unwrap();
    ok(Dialect::Draft2020_12, &int, &big);

    let range = json!({"minimum": -0.0, "maximum": 1e308, "exclusiveMaximum": 1e308});
    ok(Dialect::Draft2020_12, &range, &json!(0));
    ok(Dialect::Draft2020_12, &range, &json!(-0.0));
    assert_eq!(
        one(Dialect::Draft2020_12, &range, &json!(-1e-300)).keyword,
        "minimum"
    );
    assert_eq!(
        one(Dialect::Draft2020_12, &range, &json!(1e308)).keyword,
        "exclusiveMaximum"
    );

    // The instance's number is not echoed (it may be a secret), the bound is.
    let v = one(
        Dialect::Draft2020_12,
        &json!({"maximum": 9}),
        &json!(4_111_111_111_111_111_u64),
    );
    assert_eq!(v.message, "number must be at most 9");

    // Exact integer comparison beyond 2^53.
    let max = json!({"maximum": 9_007_199_254_740_992_u64});
    assert_eq!(
        one(
            Dialect::Draft2020_12,
            &max,
            &json!(9_007_199_254_740_993_u64)
        )
        .keyword,
        "maximum"
    );

    let m = json!({"multipleOf": 0.01});
    ok(Dialect::Draft2020_12, &m, &json!(19.99));
    ok(Dialect::Draft2020_12, &m, &json!(0.07));
    assert_eq!(
        one(Dialect::Draft2020_12, &m, &json!(19.999)).keyword,
        "multipleOf"
    );
    ok(
        Dialect::Draft2020_12,
        &json!({"multipleOf": 3}),
        &json!(9_007_199_254_740_993_u64),
    );
    assert_eq!(
        one(
            Dialect::Draft2020_12,
            &json!({"multipleOf": 2}),
            &json!(9_007_199_254_740_993_u64)
        )
        .keyword,
        "multipleOf"
    );

    let e = json!({"enum": [1, "a", [1.0]]});
    ok(Dialect::Draft2020_12, &e, &json!(1.0));
    ok(Dialect::Draft2020_12, &e, &json!([1]));
    assert_eq!(one(Dialect::Draft2020_12, &e, &json!(true)).keyword, "enum");
    let u = json!({"uniqueItems": true});
    assert_eq!(
        one(Dialect::Draft2020_12, &u, &json!([1, {"a": 1}, {"a": 1.0}])).message,
        "items 1 and 2 are equal"
    );
    let many: Vec<Value> = (0..40).map(|i| json!(i)).chain([json!(3.0)]).collect();
    assert_eq!(
        one(Dialect::Draft2020_12, &u, &Value::Array(many)).message,
        "items 3 and 40 are equal"
    );
}

#[test]
fn schema_messages_never_echo_long_values() {
    let long = "x".repeat(10_000);
    let schemas = [
        json!({"enum": [long.clone(), "b"]}),
        json!({"const": long.clone()}),
        json!({"required": [long.clone()]}),
        json!({"pattern": "^a"}),
        json!({"propertyNames": {"maxLength": 3}}),
        json!({"dependentRequired": {"a": [long.clone()]}}),
    ];
    let mut instance = serde_json::Map::new();
    instance.insert(long.clone(), json!(1));
    instance.insert("a".into(), json!(1));
    for s in &schemas {
        for inst in [json!(long.clone()), Value::Object(instance.clone())] {
            for v in check(Dialect::Draft2020_12, s, &inst) {
                assert!(v.message.len() < 200, "{} {}", v.keyword, v.message.len());
            }
        }
    }
}

#[test]
fn schema_violations_list_every_problem_with_pointers() {
    let schema = json!({
        "type": "object",
        "required": ["id", "tags"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 2}, "maxItems": 3},
            "a/b": {"type": "integer"},
            "m~n": {"type": "integer"}
        },
        "additionalProperties": false
    });
    let v = check(
        Dialect::Draft2020_12,
        &schema,
        &json!({"id": "nope", "tags": ["ok", "x", 3, "y", "z"], "a/b": "s", "m~n": "t", "zzz": 1}),
    );
    let got: Vec<(String, &str)> = v.iter().map(|v| (v.pointer.clone(), v.keyword)).collect();
    let want = [
        ("/a~1b", "type"),
        ("/id", "format"),
        ("/m~0n", "type"),
        ("/tags", "maxItems"),
        ("/tags/1", "minLength"),
        ("/tags/2", "type"),
        ("/tags/3", "minLength"),
        ("/tags/4", "minLength"),
        ("/zzz", "additionalProperties"),
    ];
    let want: Vec<(String, &str)> = want.iter().map(|(p, k)| ((*p).to_owned(), *k)).collect();
    assert_eq!(got, want);
    // Serializes as problem+json-ready objects.
    assert_eq!(
        serde_json::to_value(&v[0]).unwrap(),
        json!({"pointer": "/a~1b", "keyword": "type", "message": "expected integer, found string"})
    );
}

#[test]
fn schema_compile_errors_point_into_the_schema() {
    let bad = [
        (
            json!({"properties": {"a": {"type": "strin"}}}),
            "/properties/a/type",
        ),
        (json!({"items": {"$ref": "#/$defs/missing"}}), "/items/$ref"),
        (json!({"pattern": "(?=lookahead)"}), "/pattern"),
        (
            json!({"patternProperties": {"\\1": true}}),
            "/patternProperties/\\1",
        ),
        (json!({"allOf": []}), "/allOf"),
        (json!({"minLength": -1}), "/minLength"),
        (json!({"$defs": {"x": 3}, "$ref": "#/$defs/x"}), "/$defs/x"),
    ];
    for (schema, pointer) in bad {
        let err = compile(&schema, &Options::default(), &HashMap::new()).unwrap_err();
        assert_eq!(err.pointer, pointer, "{schema}: {err}");
        assert!(err.to_string().contains(pointer));
    }
    let err = compile(
        &json!({"pattern": "a(?<=b)"}),
        &Options::default(),
        &HashMap::new(),
    )
    .unwrap_err();
    assert!(err.message.contains("lookbehind"), "{}", err.message);
}

#[test]
fn schema_refs_across_documents_with_ids_and_anchors() {
    let common = json!({
        "$id": "https://example.com/common.json",
        "$defs": {
            "money": {"$anchor": "money", "type": "number", "multipleOf": 0.01},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}
        }
    });
    let mut docs = HashMap::new();
    docs.insert("https://example.com/common.json".to_owned(), common);
    let schema = json!({
        "$id": "https://example.com/order.json",
        "properties": {
            "total": {"$ref": "common.json#money"},
            "currency": {"$ref": "common.json#/$defs/currency"}
        }
    });
    let (program, root) = compile(&schema, &Options::default(), &docs).unwrap();
    let limits = Limits::default();
    assert!(validate(
        &program,
        root,
        &json!({"total": 10.5, "currency": "EUR"}),
        &limits
    )
    .is_empty());
    let v = validate(
        &program,
        root,
        &json!({"total": 10.555, "currency": "eur"}),
        &limits,
    );
    let got: Vec<&str> = v.iter().map(|v| v.keyword).collect();
    assert_eq!(got, ["pattern", "multipleOf"]);
}

#[test]
fn schema_program_json_is_compact_and_strict() {
    let (program, _) = pets();
    let text = serde_json::to_string(&program).unwrap();
    assert!(text.len() < 600, "{} bytes: {text}", text.len());
    // Unknown fields are refused, like everywhere in the filter configuration.
    let mut value: Value = serde_json::from_str(&text).unwrap();
    value["extra"] = json!(1);
    assert!(serde_json::from_value::<Program>(value).is_err());
    assert!(serde_json::from_str::<Program>(r#"{"n":[{"k":[{"zz":1}]}]}"#).is_err());
    assert!(serde_json::from_str::<Program>(r#"{"n":[{"k":[{"re":"(?=x)"}]}]}"#).is_err());
    // Indices are checked.
    let dangling: Program = serde_json::from_str(r#"{"n":[{"k":[{"$":7}]}]}"#).unwrap();
    assert!(dangling.check().is_err());
    let v = validate(&dangling, 0, &json!(1), &Limits::default());
    assert_eq!(v[0].keyword, "limit");
    assert_eq!(
        validate(&dangling, 99, &json!(1), &Limits::default())[0].keyword,
        "limit"
    );
}
