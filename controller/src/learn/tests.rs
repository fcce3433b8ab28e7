use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_filter::sampling::contract::{Body, Sample, Shape};
use gatehouse_filter::sampling::shape::{self, Evidence, Extractor, Limits};
use serde_json::{json, Value};

use super::collector::{Collector, State};
use super::diff::{diff, merge};
use super::emit::{document, json_schema};
use super::model::SchemaModel;
use super::paths::{template, Observed};
use super::*;

/// Shapes as the filter makes them, with names already seen (a warm VM).
struct Shaper {
    evidence: Evidence,
}

impl Shaper {
    fn new() -> Self {
        Self {
            evidence: Evidence::default(),
        }
    }
    fn json(&mut self, v: &Value) -> Shape {
        let mut x = Extractor {
            limits: Limits {
                name_evidence: false,
                ..Limits::default()
            },
            evidence: &mut self.evidence,
        };
        x.json(v, 1)
    }
}

fn sample(method: &str, path: &str, status: u16) -> Sample {
    Sample {
        api: "default/shop".into(),
        method: method.into(),
        host: "shop.test".into(),
        path: shape::reduce_path(path),
        status,
        ..Sample::default()
    }
}

fn with_response(mut s: Sample, shaper: &mut Shaper, body: &Value) -> Sample {
    s.response = Some(Body {
        content_type: "application/json".into(),
        shape: Some(shaper.json(body)),
        skipped: None,
    });
    s
}

fn observed(paths: &[(&str, &str, u64)]) -> Vec<Observed> {
    paths
        .iter()
        .map(|(m, p, n)| Observed {
            method: (*m).into(),
            path: shape::reduce_path(p),
            documented: false,
            samples: *n,
        })
        .collect()
}

fn templates(input: &[(&str, &str, u64)]) -> Vec<String> {
    let mut out: Vec<String> = template(&observed(input))
        .into_iter()
        .map(|t| format!("{} {}", t.method, t.template))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn templating_table() {
    // (input paths with sample counts, expected templates)
    let users: Vec<String> = (0..20)
        .map(|i| {
            format!(
                "/users/{}",
                ["ann", "bob", "cy", "dee", "eve"][i % 5].repeat(i / 5 + 1)
            )
        })
        .collect();
    let mut words: Vec<(&str, &str, u64)> = users.iter().map(|p| ("GET", p.as_str(), 1)).collect();
    words.push(("GET", "/users/me", 30));
    words.push(("GET", "/users/login", 12));
    assert_eq!(
        templates(&words),
        ["GET /users/login", "GET /users/me", "GET /users/{userId}"],
        "rare words at one position are values; frequent ones stay literal"
    );

    assert_eq!(
        templates(&[
            ("GET", "/users/17", 1),
            ("GET", "/users/18", 1),
            ("DELETE", "/users/19", 1),
            ("GET", "/users/me", 1)
        ]),
        [
            "DELETE /users/{userId}",
            "GET /users/me",
            "GET /users/{userId}"
        ],
        "`/users/me` stays literal beside `/users/{{id}}` even when seen once"
    );

    assert_eq!(
        templates(&[
            (
                "GET",
                "/orgs/3f2b8c1e-8a0d-4c57-9a43-5b1c2f7e9d10/members",
                3
            ),
            (
                "GET",
                "/orgs/0b8c1e3f-8a0d-4c57-9a43-5b1c2f7e9d10/members",
                3
            ),
            (
                "GET",
                "/orgs/0b8c1e3f-8a0d-4c57-9a43-5b1c2f7e9d10/members/42",
                3
            ),
        ]),
        [
            "GET /orgs/{orgId}/members",
            "GET /orgs/{orgId}/members/{memberId}"
        ],
        "any position, named after the previous segment"
    );

    assert_eq!(
        templates(&[
            ("GET", "/api/users", 50),
            ("GET", "/api/orders", 50),
            ("GET", "/api/pets", 50),
            ("GET", "/api/items", 50),
            ("GET", "/api/stores", 50),
            ("GET", "/api/carts", 50),
        ]),
        [
            "GET /api/carts",
            "GET /api/items",
            "GET /api/orders",
            "GET /api/pets",
            "GET /api/stores",
            "GET /api/users"
        ],
        "many frequent literals are routes, not values"
    );

    assert_eq!(
        templates(&[
            ("GET", "/categories/12/products/sku-991", 1),
            ("GET", "/categories/13/products/sku-992", 1),
            ("GET", "/reports/2024-01-31", 1),
            ("GET", "/blobs/d41d8cd98f00b204e9800998ecf8427e", 1),
            ("GET", "/people/ann%40example.com", 1),
        ]),
        [
            "GET /blobs/{blobId}",
            "GET /categories/{categoryId}/products/{productId}",
            "GET /people/{personId}",
            "GET /reports/{reportId}",
        ]
    );

    assert_eq!(
        templates(&[("GET", "/users/ann", 1), ("GET", "/users/bob", 1)]),
        ["GET /users/ann", "GET /users/bob"],
        "two words are not evidence of a parameter (a literal would be invented)"
    );

    let documented = vec![Observed {
        method: "GET".into(),
        path: "/pets/{petId}".into(),
        documented: true,
        samples: 5,
    }];
    assert_eq!(template(&documented)[0].template, "/pets/{petId}");
}

fn model_of(shapes: &[Value]) -> SchemaModel {
    let mut shaper = Shaper::new();
    let mut m = SchemaModel::default();
    for v in shapes {
        m.add(&shaper.json(v));
    }
    m
}

#[test]
fn type_and_format_merge_table() {
    let many = |f: &dyn Fn(usize) -> Value| (0..30).map(f).collect::<Vec<_>>();
    let cases: Vec<(&str, Vec<Value>, Value)> = vec![
        (
            "integer ∪ number = number",
            many(&|i| {
                if i % 2 == 0 {
                    json!(i)
                } else {
                    json!(i as f64 + 0.5)
                }
            }),
            json!({"type": "number"}),
        ),
        (
            "integers stay integer",
            many(&|i| json!(i)),
            json!({"type": "integer"}),
        ),
        (
            "format when all agree",
            many(&|i| json!(format!("2024-01-{:02}", i % 28 + 1))),
            json!({"type": "string", "format": "date"}),
        ),
        (
            "no format when they disagree",
            many(&|i| {
                if i == 3 {
                    json!("soon")
                } else {
                    json!("2024-01-01")
                }
            }),
            json!({"type": "string"}),
        ),
        (
            "nullable",
            many(&|i| {
                if i % 3 == 0 {
                    json!(null)
                } else {
                    json!(format!("{i}@x.example"))
                }
            }),
            json!({"type": ["string", "null"], "format": "email"}),
        ),
        (
            "object or string: oneOf",
            many(&|i| {
                if i % 2 == 0 {
                    json!({"street": "x"})
                } else {
                    json!("somewhere")
                }
            }),
            json!({"oneOf": [{"type": "string"}, {"type": "object", "properties": {"street": {"type": "string"}}, "required": []}]}),
        ),
        (
            "only nulls",
            many(&|_| json!(null)),
            json!({"type": "null"}),
        ),
        (
            "uuid",
            many(&|i| json!(format!("3f2b8c1e-8a0d-4c57-9a43-5b1c2f7e9d{i:02}"))),
            json!({"type": "string", "format": "uuid"}),
        ),
    ];
    for (name, values, want) in cases {
        let got = json_schema(&model_of(&values));
        if name.starts_with("object or string") {
            let alts = got["oneOf"].as_array().unwrap();
            assert_eq!(alts.len(), 2, "{name}: {got}");
            assert!(alts.iter().any(|a| a["type"] == "object" && a["properties"]["street"]["type"] == "string"), "{name}: {got}");
            assert!(alts.iter().any(|a| a["type"] == "string"), "{name}: {got}");
            continue;
        }
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn required_needs_every_complete_sample_and_a_minimum() {
    let docs = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| {
                let mut v = json!({"id": i, "name": "x"});
                if i % 2 == 0 {
                    v["nick"] = json!("y");
                }
                v
            })
            .collect()
    };
    let few = json_schema(&model_of(&docs(19)));
    assert!(
        few.get("required").is_none(),
        "19 samples: no claim yet: {few}"
    );
    let enough = json_schema(&model_of(&docs(20)));
    assert_eq!(enough["required"], json!(["id", "name"]), "{enough}");

    // Truncated objects (names not yet seen in the proxy) do not count against required.
    let mut shaper = Shaper::new();
    let mut m = SchemaModel::default();
    let mut truncated = shaper.json(&json!({"id": 1}));
    truncated.truncated = true;
    truncated.properties = Some(BTreeMap::new());
    m.add(&truncated);
    for v in docs(20) {
        m.add(&shaper.json(&v));
    }
    assert_eq!(json_schema(&m)["required"], json!(["id", "name"]));
}

#[test]
fn arrays_of_objects_are_merged() {
    let docs: Vec<Value> = (0..25)
        .map(|i| json!({"items": [{"sku": "a", "qty": i}, {"sku": "b", "qty": 1, "note": "gift"}]}))
        .collect();
    let s = json_schema(&model_of(&docs));
    let items = &s["properties"]["items"];
    assert_eq!(items["type"], "array");
    assert_eq!(items["items"]["type"], "object");
    assert_eq!(items["items"]["properties"]["qty"]["type"], "integer");
    assert_eq!(items["items"]["properties"]["note"]["type"], "string");
    assert_eq!(items["items"]["required"], json!(["qty", "sku"]), "{s}");
}

#[test]
fn enums_need_evidence() {
    let mut shaper = Shaper::new();
    let mut m = SchemaModel::default();
    for i in 0..40 {
        let v = json!({"status": (["available", "pending", "sold"][i % 3]), "name": format!("pet{}", i)});
        let mut x = Extractor {
            limits: Limits::default(),
            evidence: &mut shaper.evidence,
        };
        m.add(&x.json(&v, 7));
    }
    let s = json_schema(&m);
    assert_eq!(
        s["properties"]["status"]["enum"],
        json!(["available", "pending", "sold"]),
        "{s}"
    );
    assert!(s["properties"]["name"].get("enum").is_none());
    // Too few samples: no enum.
    let mut m = SchemaModel::default();
    for i in 0..12 {
        let mut x = Extractor {
            limits: Limits::default(),
            evidence: &mut shaper.evidence,
        };
        m.add(&x.json(&json!({"status": (["on", "off"][i % 2])}), 8));
    }
    assert!(json_schema(&m)["properties"]["status"]
        .get("enum")
        .is_none());
}

/// A varied model of one API: documented and undocumented operations, params, bodies.
fn shop_model() -> Model {
    let mut shaper = Shaper::new();
    let mut model = Model::new();
    for i in 0..60u64 {
        let mut s = with_response(
            sample("GET", &format!("/v1/orders/{}", 1000 + i), 200),
            &mut shaper,
            &json!({"id": 1000 + i, "total": 9.5, "placed": "2024-01-02T03:04:05Z", "lines": [{"sku": "a", "qty": 1}]}),
        );
        let mut x = Extractor {
            limits: Limits::default(),
            evidence: &mut shaper.evidence,
        };
        s.query = shape::query_shapes(
            &mut x,
            &format!("/?expand=lines&limit={}", i % 10 + 1),
            3,
            32,
        );
        s.headers = vec!["accept".into(), "x-tenant".into()];
        s.auth = Some("bearer".into());
        model.add(&s);
        let mut post = with_response(
            sample("POST", "/v1/orders", 201),
            &mut shaper,
            &json!({"id": i}),
        );
        post.request = Some(Body {
            content_type: "application/json".into(),
            shape: Some(shaper.json(&json!({"lines": [{"sku": "b", "qty": 2}], "coupon": if i % 2 == 0 { json!("X") } else { json!(null) }}))),
            skipped: None,
        });
        model.add(&post);
        model.add(&with_response(
            sample("GET", "/v1/orders/999/refunds", 404),
            &mut shaper,
            &json!({"title": "nope"}),
        ));
    }
    model.add(&sample("GET", "/v1/orders/me", 200));
    model
}

fn json_of(r: ureq::Response) -> Value {
    serde_json::from_str(&r.into_string().unwrap()).unwrap()
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs openapi-spec-validator (pinned by scripts/setup.sh) on a document.
fn assert_valid_openapi(doc: &Value) {
    let bin = std::env::var_os("OPENAPI_SPEC_VALIDATOR").map_or_else(
        || repo_root().join(".venv/bin/openapi-spec-validator"),
        PathBuf::from,
    );
    assert!(
        bin.exists(),
        "{} missing: run scripts/setup.sh",
        bin.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("learned.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = std::process::Command::new(&bin)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document:\n{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        serde_json::to_string_pretty(doc).unwrap()
    );
}

#[test]
fn learned_document_is_valid_openapi_31_with_counts() {
    let model = shop_model();
    let doc = document("default/shop", &model.apis["default/shop"]);
    assert_valid_openapi(&doc);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["x-gatehouse-samples"], 181);
    let get = &doc["paths"]["/v1/orders/{orderId}"]["get"];
    assert_eq!(get["x-gatehouse-samples"], 60);
    let params = get["parameters"].as_array().unwrap();
    let by_name = |n: &str| params.iter().find(|p| p["name"] == n).unwrap();
    assert_eq!(by_name("orderId")["in"], "path");
    assert_eq!(by_name("orderId")["schema"]["type"], "integer");
    assert_eq!(by_name("limit")["schema"]["type"], "integer");
    assert_eq!(by_name("limit")["required"], true);
    assert_eq!(by_name("x-tenant")["in"], "header");
    assert!(
        params.iter().all(|p| p["name"] != "accept"),
        "standard headers are not parameters"
    );
    let body = &get["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(body["properties"]["placed"]["format"], "date-time");
    assert_eq!(body["properties"]["total"]["type"], "number");
    assert_eq!(get["security"], json!([{"bearerAuth": []}]));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    let post = &doc["paths"]["/v1/orders"]["post"];
    assert_eq!(post["requestBody"]["required"], true);
    let coupon =
        &post["requestBody"]["content"]["application/json"]["schema"]["properties"]["coupon"];
    assert_eq!(coupon["type"], json!(["string", "null"]));
    assert!(
        doc["paths"]["/v1/orders/me"]["get"].is_object(),
        "literal beside the template"
    );
    assert_eq!(
        doc["paths"]["/v1/orders/{orderId}/refunds"]["get"]["responses"]["404"]
            ["x-gatehouse-samples"],
        60
    );
}

fn authored() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "shop", "version": "1"},
        "servers": [{"url": "https://shop.test/v1"}],
        "paths": {
            "/orders/{id}": {"get": {
                "operationId": "getOrder",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "string", "format": "date"}}
                ],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}}}
            }},
            "/orders": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["lines", "coupon"], "properties": {"lines": {"type": "array"}, "coupon": {"type": "string", "nullable": true}}}}}},
                "responses": {"201": {"description": "created"}}
            }}
        },
        "components": {"schemas": {"Order": {"type": "object", "properties": {"id": {"type": "string"}, "total": {"type": "number"}}}}}
    })
}

#[test]
fn diff_reports_additions_and_conflicts() {
    let model = shop_model();
    let learned = document("default/shop", &model.apis["default/shop"]);
    let drift = diff(&authored(), &learned, "/v1");
    let kinds: Vec<(String, String, String)> = drift
        .iter()
        .map(|d| {
            (
                d.kind.clone(),
                format!("{} {}", d.method, d.path),
                d.pointer.clone(),
            )
        })
        .collect();
    let has = |kind: &str, op: &str, pointer: &str| {
        kinds
            .iter()
            .any(|(k, o, p)| k == kind && o == op && p == pointer)
    };
    assert!(
        has(
            "undocumented-operation",
            "GET /orders/{orderId}/refunds",
            "/paths/~1orders~1{orderId}~1refunds/get"
        ),
        "{kinds:#?}"
    );
    assert!(
        has(
            "undocumented-operation",
            "GET /orders/me",
            "/paths/~1orders~1me/get"
        ),
        "{kinds:#?}"
    );
    assert!(
        has(
            "type-differs",
            "GET /orders/{id}",
            "/paths/~1orders~1{id}/get/parameters/1/schema"
        ),
        "limit: string/date vs integer: {kinds:#?}"
    );
    assert!(
        has(
            "undocumented-parameter",
            "GET /orders/{id}",
            "/paths/~1orders~1{id}/get/parameters/2"
        ),
        "expand: {kinds:#?}"
    );
    assert!(has("type-differs", "GET /orders/{id}", "/paths/~1orders~1{id}/get/responses/200/content/application~1json/schema/properties/id"), "{kinds:#?}");
    assert!(has("undocumented-property", "GET /orders/{id}", "/paths/~1orders~1{id}/get/responses/200/content/application~1json/schema/properties/placed"), "{kinds:#?}");
    assert!(
        !kinds
            .iter()
            .any(|(k, _, p)| k == "type-differs" && p.ends_with("/coupon")),
        "3.0 nullable admits null: {kinds:#?}"
    );
    assert!(
        !kinds.iter().any(|(_, o, _)| o.starts_with("POST")),
        "the POST matches: {kinds:#?}"
    );
}

#[test]
fn merge_adds_marked_and_never_overwrites() {
    let model = shop_model();
    let learned = document("default/shop", &model.apis["default/shop"]);
    let (merged, conflicts) = merge(&authored(), &learned, "/v1");
    // Authored wins.
    assert_eq!(
        merged["paths"]["/orders/{id}"]["get"]["parameters"][1]["schema"]["type"],
        "string"
    );
    assert_eq!(
        merged["components"]["schemas"]["Order"]["properties"]["id"]["type"],
        "string"
    );
    // Additions are marked.
    let refunds = &merged["paths"]["/orders/{orderId}/refunds"]["get"];
    assert_eq!(refunds["x-gatehouse-learned"], true);
    let expand = &merged["paths"]["/orders/{id}"]["get"]["parameters"][2];
    assert_eq!(
        (expand["name"].as_str(), &expand["x-gatehouse-learned"]),
        (Some("expand"), &json!(true))
    );
    // A property of a shared `$ref` schema is reported, not patched into the shared schema.
    assert!(merged["components"]["schemas"]["Order"]["properties"]
        .get("placed")
        .is_none());
    // Conflicts are returned, additions are not.
    assert!(conflicts.iter().all(|d| !d.is_addition()));
    assert!(conflicts.iter().any(|d| d.kind == "type-differs"));
    // Merging again changes nothing more.
    let (again, _) = merge(&merged, &learned, "/v1");
    assert_eq!(again, merged);
    assert_valid_openapi(&merged);
}

#[test]
fn summary_counts_operations_samples_and_drift() {
    let model = shop_model();
    let s = summary(&model, "default/shop", Some(&authored()), "/v1");
    assert_eq!(s.samples, 181);
    assert_eq!(s.operations_learned, 4);
    assert_eq!(s.undocumented_operations, 2);
    assert!(s.drift >= 3, "{s:?}");
    assert_eq!(
        summary(&model, "default/none", None, ""),
        Summary::default()
    );
}

#[test]
fn model_memory_is_bounded_by_distinct_shapes() {
    let mut shaper = Shaper::new();
    let mut model = Model::new();
    let one = with_response(
        sample("GET", "/v1/orders/5", 200),
        &mut shaper,
        &json!({"id": 1, "tags": ["a"], "when": "2024-01-01"}),
    );
    let size = |m: &Model| serde_json::to_vec(m).unwrap().len();
    for _ in 0..1000 {
        model.add(&one);
    }
    let after_1k = size(&model);
    for _ in 0..99_000 {
        model.add(&one);
    }
    // Only the digits of the counters grow.
    assert!(
        size(&model) <= after_1k + 64,
        "{} vs {after_1k}",
        size(&model)
    );
}

#[test]
fn batches_are_versioned() {
    let ok = json!({"version": 1, "samples": []});
    assert!(parse_batch(ok.to_string().as_bytes()).is_ok());
    let v2 = json!({"version": 2, "samples": []});
    assert!(matches!(
        parse_batch(v2.to_string().as_bytes()),
        Err(BatchError::Version(2))
    ));
    let unknown = json!({"version": 1, "samples": [], "extra": 1});
    assert!(parse_batch(unknown.to_string().as_bytes()).is_err());
    assert!(parse_batch(b"nope").is_err());
}

#[test]
fn collector_serves_learns_persists_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let persist = dir.path().join("model.json");
    let resources = dir.path().join("apis");
    std::fs::create_dir(&resources).unwrap();
    std::fs::write(
        resources.join("shop.yaml"),
        serde_yaml_ng::to_string(&json!({
            "apiVersion": "gatehouse.dev/v1alpha1", "kind": "ApiSchema",
            "metadata": {"name": "shop"},
            "spec": {"hosts": ["shop.test"], "openapi": authored()}
        }))
        .unwrap(),
    )
    .unwrap();
    let state = Arc::new(State::new(Some(persist.clone()), Some(resources.clone())).unwrap());
    let mut collector = Collector::start(
        "127.0.0.1:0".parse().unwrap(),
        state,
        Duration::from_secs(3600),
    )
    .unwrap();
    let base = format!("http://{}", collector.addr);

    let samples: Vec<Sample> = {
        let mut shaper = Shaper::new();
        (0..30)
            .map(|i| {
                with_response(
                    sample("GET", &format!("/v1/orders/{i}"), 200),
                    &mut shaper,
                    &json!({"id": i}),
                )
            })
            .collect()
    };
    let batch = json!({"version": 1, "dropped": 3, "samples": samples});
    let r = ureq::post(&format!("{base}/v1/samples"))
        .send_string(&batch.to_string())
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(json_of(r)["accepted"], 30);
    let bad =
        ureq::post(&format!("{base}/v1/samples")).send_string(r#"{"version":9,"samples":[]}"#);
    assert!(matches!(bad, Err(ureq::Error::Status(400, _))));

    let doc = json_of(
        ureq::get(&format!("{base}/v1/apis/default/shop/openapi.json"))
            .call()
            .unwrap(),
    );
    assert_eq!(
        doc["paths"]["/v1/orders/{orderId}"]["get"]["x-gatehouse-samples"],
        30
    );
    let yaml = ureq::get(&format!("{base}/v1/apis/default/shop/openapi.yaml"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let from_yaml: Value = serde_yaml_ng::from_str(&yaml).unwrap();
    assert_eq!(from_yaml, doc);
    let drift = json_of(
        ureq::get(&format!("{base}/v1/apis/default/shop/diff"))
            .call()
            .unwrap(),
    );
    assert!(
        drift
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["kind"] == "type-differs"),
        "{drift}"
    );
    let summary = json_of(
        ureq::get(&format!("{base}/v1/apis/default/shop/summary"))
            .call()
            .unwrap(),
    );
    assert_eq!(summary["samples"], 30);
    assert!(matches!(
        ureq::get(&format!("{base}/v1/apis/default/nope/openapi.json")).call(),
        Err(ureq::Error::Status(404, _))
    ));
    let merged = json_of(
        ureq::get(&format!("{base}/v1/apis/default/shop/merged.json"))
            .call()
            .unwrap(),
    );
    assert_eq!(merged["info"]["title"], "shop");

    collector.stop();
    assert!(persist.exists(), "saved on shutdown");
    let reloaded = State::new(Some(persist), None).unwrap();
    let m = reloaded.model.lock().unwrap();
    assert_eq!(m.apis["default/shop"].samples, 30);
    assert_eq!(m.dropped, 3);
}

#[test]
fn har_files_are_inferred_like_traffic() {
    let entries: Vec<Value> = (0..25)
        .map(|i| {
            json!({
                "request": {"method": "GET", "url": format!("https://api.example.com/v2/items/{}?page={}", 100 + i, i % 3),
                            "headers": [{"name": "Authorization", "value": "Bearer abc"}, {"name": "X-Client", "value": "web"}]},
                "response": {"status": 200, "content": {"mimeType": "application/json; charset=utf-8",
                             "text": json!({"id": 100 + i, "title": format!("Item {i}"), "price": 1.5}).to_string()}}
            })
        })
        .collect();
    let har = json!({"log": {"version": "1.2", "entries": entries}});
    let samples = har::samples(&har).unwrap();
    assert_eq!(samples.len(), 25);
    let text = serde_json::to_string(&samples).unwrap();
    assert!(
        !text.contains("Item 3") && !text.contains("abc"),
        "no values in samples"
    );
    let mut model = Model::new();
    for s in &samples {
        model.add(s);
    }
    let doc = document("api.example.com", &model.apis["api.example.com"]);
    let op = &doc["paths"]["/v2/items/{itemId}"]["get"];
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"]["required"],
        json!(["id", "price", "title"])
    );
    assert_eq!(op["security"], json!([{"bearerAuth": []}]));
    assert_valid_openapi(&doc);
}

#[test]
fn cli_infer_diff_merge_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let samples_file = dir.path().join("samples.jsonl");
    let mut shaper = Shaper::new();
    let lines: Vec<String> = (0..25)
        .map(|i| {
            serde_json::to_string(&with_response(
                sample("GET", &format!("/v1/orders/{i}"), 200),
                &mut shaper,
                &json!({"id": i}),
            ))
            .unwrap()
        })
        .collect();
    std::fs::write(&samples_file, lines.join("\n")).unwrap();
    let learned = dir.path().join("learned.yaml");
    cli::infer(Some(&samples_file), None, None, &learned).unwrap();
    let doc = read_document(&learned).unwrap();
    assert!(doc["paths"]["/v1/orders/{orderId}"]["get"].is_object());
    let authored_file = dir.path().join("authored.json");
    std::fs::write(&authored_file, serde_json::to_vec(&authored()).unwrap()).unwrap();
    assert!(
        !cli::diff_command(&authored_file, &learned, None, true).unwrap(),
        "drift: id is a string in Order"
    );
    let out = dir.path().join("merged.json");
    cli::merge_command(&authored_file, &learned, None, &out).unwrap();
    let merged = read_document(&out).unwrap();
    assert!(merged["x-gatehouse-drift"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));

    // adopt writes the merged document into the resource file.
    let apis = dir.path().join("apis");
    std::fs::create_dir(&apis).unwrap();
    std::fs::write(
        apis.join("shop.yaml"),
        serde_yaml_ng::to_string(&json!({
            "apiVersion": "gatehouse.dev/v1alpha1", "kind": "ApiSchema",
            "metadata": {"name": "shop"},
            "spec": {"hosts": ["shop.test"], "basePath": "/v1", "openapi": {"openapi": "3.1.0", "info": {"title": "s", "version": "1"}, "paths": {}}}
        }))
        .unwrap(),
    )
    .unwrap();
    let file = cli::adopt(&apis, "shop", None, Some(&learned)).unwrap();
    let adopted = read_document(&file).unwrap();
    assert_eq!(
        adopted["paths"]["/orders/{orderId}"]["get"]["x-gatehouse-learned"],
        true
    );
    // The adopted resource still compiles.
    crate::compile_paths(&[apis]).unwrap();
}

/// `gatehouse run --local` with a collector: the configuration it writes tells the filters
/// where to post samples, and the filter accepts it.
#[test]
fn local_mode_writes_sampling_settings() {
    use crate::local::{LocalOptions, Reconciler};
    let dir = tempfile::tempdir().unwrap();
    let apis = dir.path().join("apis");
    std::fs::create_dir(&apis).unwrap();
    std::fs::write(
        apis.join("shop.yaml"),
        "apiVersion: gatehouse.dev/v1alpha1\nkind: ApiSchema\nmetadata: {name: shop}\nspec:\n  hosts: [shop.test]\n  policies: {defaults: {sampling: {rate: 0.5}}}\n  openapi: {openapi: 3.1.0, paths: {/orders: {get: {operationId: listOrders}}}}\n",
    )
    .unwrap();
    let out = dir.path().join("config.json");
    let sampling = serde_json::from_value(json!({"collector": "gatehouse-collector"})).unwrap();
    let mut r = Reconciler::new(LocalOptions {
        dir: apis,
        config_out: out.clone(),
        ecds: None,
        debounce: Duration::from_millis(10),
        sampling: Some(sampling),
    });
    r.reconcile().unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let config: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        config["settings"]["sampling"]["collector"],
        "gatehouse-collector"
    );
    assert_eq!(config["settings"]["sampling"]["maxPerOperation"], 100);
    assert_eq!(config["apis"][0]["defaults"]["sampling"]["rate"], 0.5);
    gatehouse_filter::compiled::CompiledConfig::from_json(&bytes).unwrap();
}

/// Partial models (other replicas, a reloaded file plus new samples) fold into the model
/// all the samples would have built.
#[test]
fn partial_models_merge_to_the_whole() {
    let mut shaper = Shaper::new();
    let mut a = Model::new();
    let mut b = Model::new();
    let mut all = Model::new();
    for i in 0..80u64 {
        let s = with_response(
            sample(
                if i % 3 == 0 { "POST" } else { "GET" },
                &format!("/v1/orders/{i}"),
                200 + (i % 2) as u16,
            ),
            &mut shaper,
            &json!({"id": i, "status": (["open", "paid"][(i % 2) as usize]), "n": if i % 5 == 0 { json!(null) } else { json!(1.5) }}),
        );
        all.add(&s);
        if i % 2 == 0 {
            a.add(&s)
        } else {
            b.add(&s)
        }
    }
    let mut merged = a.clone();
    merged.merge(&b);
    assert_eq!(merged.samples(), all.samples());
    assert_eq!(
        document("default/shop", &merged.apis["default/shop"]),
        document("default/shop", &all.apis["default/shop"])
    );
    // Round trip through the persisted form.
    let bytes = serde_json::to_vec(&merged).unwrap();
    let back: Model = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(back, merged);
}

/// The operator's status pass: the summary of a real model, in the CRD's status shape.
#[test]
fn operator_status_carries_the_summary() {
    let model = shop_model();
    let s = summary(&model, "default/shop", Some(&authored()), "/v1");
    let status =
        crate::operator::learned::learned_status(&model, "default/shop", Some(&authored()), "/v1")
            .unwrap();
    assert_eq!(status.samples, Some(s.samples));
    assert_eq!(
        status.undocumented_operations,
        Some(u32::try_from(s.undocumented_operations).unwrap())
    );
    let drifted = u64::from(status.drifted_operations.unwrap());
    assert!(drifted >= 1 && drifted <= s.drift, "{status:?} {s:?}");
    // Without the authored document nothing is undocumented or drifted.
    let bare = crate::operator::learned::learned_status(&model, "default/shop", None, "").unwrap();
    assert_eq!(
        (
            bare.samples,
            bare.undocumented_operations,
            bare.drifted_operations
        ),
        (Some(181), Some(0), Some(0))
    );
}
