use std::path::PathBuf;
use std::time::Instant;

use gatehouse_filter::config::{
    FilterConfig, Operation, Policies, RequestSpec, ValidationMode, ValidationPolicy,
};
use gatehouse_filter::params::{Location, Scalar, Shape, Style};
use gatehouse_filter::schema::{self, Limits};
use serde_json::{json, Value};

use super::*;
use crate::compile::compile;
use crate::resource::{ApiSchema, ApiSchemaSpec, LoadedResource, ObjectMeta, API_VERSION, KIND};
use crate::CompileError;

fn resource(name: &str, openapi: Value, mode: ValidationMode) -> LoadedResource {
    LoadedResource {
        file: PathBuf::from(format!("{name}.yaml")),
        document: 0,
        schema: ApiSchema {
            api_version: API_VERSION.into(),
            kind: KIND.into(),
            metadata: ObjectMeta {
                name: name.into(),
                ..ObjectMeta::default()
            },
            spec: ApiSchemaSpec {
                hosts: vec![format!("{name}.test")],
                base_path: None,
                strict: false,
                openapi,
                openapi_ref: None,
                target: None,
                policies: crate::resource::ApiPolicies {
                    defaults: Policies {
                        validation: Some(ValidationPolicy {
                            mode,
                            ..ValidationPolicy::default()
                        }),
                        ..Policies::default()
                    },
                    operations: Default::default(),
                },
                validation: ValidationSettings::default(),
            },
        },
    }
}

fn compiled(openapi: Value) -> FilterConfig {
    compile(&[resource("api", openapi, ValidationMode::Enforce)]).unwrap()
}

fn errors(openapi: Value) -> Vec<CompileError> {
    compile(&[resource("api", openapi, ValidationMode::Enforce)]).unwrap_err()
}

fn op<'a>(config: &'a FilterConfig, id: &str) -> &'a Operation {
    config.apis[0]
        .operations
        .iter()
        .find(|o| o.operation_id == id)
        .unwrap()
}

fn request<'a>(config: &'a FilterConfig, id: &str) -> &'a RequestSpec {
    op(config, id).request.as_ref().unwrap()
}

/// Validates `value` against a compiled root; returns (pointer, keyword) pairs.
fn check(config: &FilterConfig, root: u32, value: Value) -> Vec<(String, &'static str)> {
    schema::validate(
        config.schemas.as_ref().unwrap(),
        root,
        &value,
        &Limits::default(),
    )
    .into_iter()
    .map(|v| (v.pointer, v.keyword))
    .collect()
}

fn doc30(paths: Value) -> Value {
    json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths,
    "components": {
        "parameters": {
            "Limit": {"name": "limit", "in": "query", "schema": {"$ref": "#/components/schemas/Limit"}}
        },
        "schemas": {
            "Limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "Node": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
            }},
            "Pet": {"type": "object", "required": ["id", "name"], "properties": {
                "id": {"type": "integer", "readOnly": true},
                "name": {"type": "string", "maxLength": 10},
                "tag": {"type": "string", "nullable": true}
            }}
        },
        "requestBodies": {
            "PetBody": {"required": true, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
            }}
        }
    }})
}

#[test]
fn parameters_of_every_style_and_location() {
    let config = compiled(doc30(json!({
        "/items/{id}/{label}/{matrix}": {
            "parameters": [
                {"name": "id", "in": "path", "schema": {"type": "integer"}},
                {"name": "q", "in": "query", "schema": {"type": "string"}}
            ],
            "get": {
                "operationId": "get",
                "parameters": [
                    {"name": "label", "in": "path", "required": true, "style": "label", "explode": true,
                     "schema": {"type": "array", "items": {"type": "integer"}}},
                    {"name": "matrix", "in": "path", "required": true, "style": "matrix",
                     "schema": {"type": "object", "properties": {"a": {"type": "boolean"}},
                                "additionalProperties": {"type": "number"}}},
                    {"name": "q", "in": "query", "required": true, "schema": {"type": "integer"}},
                    {"name": "form", "in": "query", "explode": false,
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "sp", "in": "query", "style": "spaceDelimited",
                     "schema": {"type": "array", "items": {"type": "number"}}},
                    {"name": "pp", "in": "query", "style": "pipeDelimited",
                     "schema": {"type": "array", "items": {"type": "boolean"}}},
                    {"name": "deep", "in": "query", "style": "deepObject", "explode": true,
                     "schema": {"type": "object", "properties": {"x": {"type": "integer"}}}},
                    {"name": "e", "in": "query", "allowEmptyValue": true, "schema": {"type": "string"}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": ["integer", "string"]}},
                    {"name": "session", "in": "cookie", "schema": {"oneOf": [{"type": "integer"}, {"type": "boolean"}]}},
                    {"name": "Accept", "in": "header", "schema": {"type": "string"}},
                    {"$ref": "#/components/parameters/Limit"}
                ]
            }
        }
    })));
    let spec = request(&config, "get");
    let by_name = |n: &str| spec.parameters.iter().find(|p| p.name == n).unwrap();
    // Path-item parameters first; the operation's `q` replaced the path item's.
    let names: Vec<_> = spec.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "id", "q", "label", "matrix", "form", "sp", "pp", "deep", "e", "X-Trace", "session",
            "limit"
        ]
    );
    let id = by_name("id");
    assert!(id.required, "path parameters are always required");
    assert_eq!(id.location, Location::Path);
    assert_eq!((id.style, id.explode), (None, None));
    assert_eq!(
        id.shape,
        Shape::Scalar {
            scalar: Scalar::Integer
        }
    );
    let q = by_name("q");
    assert!(q.required);
    assert_eq!(
        q.shape,
        Shape::Scalar {
            scalar: Scalar::Integer
        }
    );
    let label = by_name("label");
    assert_eq!(
        (label.style, label.explode),
        (Some(Style::Label), Some(true))
    );
    assert_eq!(
        label.shape,
        Shape::Array {
            items: Scalar::Integer
        }
    );
    let matrix = by_name("matrix");
    assert_eq!(matrix.style, Some(Style::Matrix));
    assert_eq!(
        matrix.shape,
        Shape::Object {
            properties: vec![("a".into(), Scalar::Boolean)],
            additional: Scalar::Number
        }
    );
    // Defaults are left out: form + explode=true for query.
    assert_eq!(
        (by_name("form").style, by_name("form").explode),
        (None, Some(false))
    );
    assert_eq!(by_name("sp").style, Some(Style::SpaceDelimited));
    assert_eq!(
        by_name("sp").shape,
        Shape::Array {
            items: Scalar::Number
        }
    );
    assert_eq!(
        by_name("pp").shape,
        Shape::Array {
            items: Scalar::Boolean
        }
    );
    assert_eq!(by_name("deep").style, Some(Style::DeepObject));
    assert!(by_name("e").allow_empty_value);
    assert_eq!(
        by_name("X-Trace").shape,
        Shape::Scalar {
            scalar: Scalar::Any
        }
    );
    assert_eq!(by_name("session").location, Location::Cookie);
    assert_eq!(
        by_name("session").shape,
        Shape::Scalar {
            scalar: Scalar::Any
        }
    );
    assert!(spec.parameters.iter().all(|p| p.name != "Accept"));
    // $ref to components/parameters, whose schema is itself a $ref.
    let limit = by_name("limit");
    assert_eq!(
        limit.shape,
        Shape::Scalar {
            scalar: Scalar::Integer
        }
    );
    let root = limit.schema.unwrap();
    assert!(check(&config, root, json!(5)).is_empty());
    assert_eq!(
        check(&config, root, json!(500)),
        vec![(String::new(), "maximum")]
    );
    // Every root is inside the program and the filter accepts the configuration.
    gatehouse_filter::validation::check_config(&config).unwrap();
}

#[test]
fn sensitive_parameters() {
    let config = compiled(doc30(
        json!({"/a": {"get": {"operationId": "a", "parameters": [
            {"name": "Authorization", "in": "header", "schema": {"type": "string"}},
            {"name": "pin", "in": "query", "schema": {"type": "string", "format": "password"}},
            {"name": "k", "in": "header", "x-gatehouse-sensitive": true, "schema": {"type": "string"}},
            {"name": "plain", "in": "header", "schema": {"type": "string"}}
        ]}}}),
    ));
    let sensitive: Vec<_> = request(&config, "a")
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.sensitive))
        .collect();
    assert_eq!(
        sensitive,
        vec![
            ("Authorization", true),
            ("pin", true),
            ("k", true),
            ("plain", false)
        ]
    );
}

#[test]
fn bodies_with_refs_media_types_and_limits() {
    let mut doc = doc30(json!({
        "/pets": {"post": {"operationId": "create",
            "requestBody": {"$ref": "#/components/requestBodies/PetBody"}}},
        "/forms": {"post": {"operationId": "form", "x-gatehouse-max-body-bytes": 2048,
            "requestBody": {"content": {
                "*/*": {},
                "text/plain": {"schema": {"type": "string"}},
                "application/*": {},
                "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                    "n": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}
                }}},
                "Application/Merge-Patch+JSON; charset=utf-8": {"schema": {"type": "object"}}
            }}}}
    }));
    doc["components"]["requestBodies"]["PetBody"]["x-gatehouse-max-body-bytes"] = json!(4096);
    let config = compiled(doc);
    let body = request(&config, "create").body.as_ref().unwrap();
    assert!(body.required);
    assert_eq!(body.max_bytes, Some(4096));
    assert_eq!(body.content.len(), 1);
    let root = body.content[0].schema.unwrap();
    // readOnly `id` is dropped from `required` and forbidden in a request (OpenAPI 3.0).
    assert!(check(&config, root, json!({"name": "rex", "tag": null})).is_empty());
    assert_eq!(
        check(&config, root, json!({"id": 1, "name": "rex"})),
        vec![("/id".to_owned(), "readOnly")]
    );
    assert_eq!(
        check(&config, root, json!({"name": "a very long name"})),
        vec![("/name".to_owned(), "maxLength")]
    );

    let body = request(&config, "form").body.as_ref().unwrap();
    assert!(!body.required);
    assert_eq!(body.max_bytes, Some(2048));
    let types: Vec<_> = body.content.iter().map(|m| m.media_type.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "application/merge-patch+json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "application/*",
            "*/*"
        ]
    );
    // Only JSON and form bodies carry schemas; others are declared-only.
    let with_schema: Vec<_> = body.content.iter().map(|m| m.schema.is_some()).collect();
    assert_eq!(with_schema, vec![true, true, false, false, false]);
    assert_eq!(
        body.content[1].form,
        vec![
            (
                "n".to_owned(),
                Shape::Scalar {
                    scalar: Scalar::Integer
                }
            ),
            (
                "tags".to_owned(),
                Shape::Array {
                    items: Scalar::String
                }
            )
        ]
    );
}

#[test]
fn recursive_schemas_compile_to_cycles() {
    let config = compiled(doc30(json!({"/tree": {"put": {"operationId": "tree",
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}}}})));
    let root = request(&config, "tree").body.as_ref().unwrap().content[0]
        .schema
        .unwrap();
    let ok = json!({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]});
    assert!(check(&config, root, ok).is_empty());
    let bad = json!({"name": "a", "children": [{"name": "b", "children": [{"nam": "c"}]}]});
    assert_eq!(
        check(&config, root, bad),
        vec![("/children/0/children/0".to_owned(), "required")]
    );
}

#[test]
fn openapi_31_uses_2020_12() {
    let doc = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
    "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
    "paths": {"/a": {"post": {"operationId": "a",
        "parameters": [{"name": "n", "in": "query", "schema": {"type": ["integer", "null"]}}],
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "prefixItems": [], "properties": {"c": {"const": 3}},
            "$defs": {"x": {"type": "string"}}, "additionalProperties": {"$ref": "#/paths/~1a/post/requestBody/content/application~1json/schema/$defs/x"}
        }}}}}}}});
    let config = compiled(doc);
    let spec = request(&config, "a");
    assert_eq!(
        spec.parameters[0].shape,
        Shape::Scalar {
            scalar: Scalar::Integer
        }
    );
    let root = spec.body.as_ref().unwrap().content[0].schema.unwrap();
    assert!(check(&config, root, json!({"c": 3, "z": "s"})).is_empty());
    let got = check(&config, root, json!({"c": 4, "z": 1}));
    assert_eq!(
        got,
        vec![("/c".to_owned(), "const"), ("/z".to_owned(), "type")]
    );
    // Another dialect is refused, with its pointer.
    let doc = json!({"openapi": "3.1.0", "jsonSchemaDialect": "http://json-schema.org/draft-07/schema#",
        "paths": {"/a": {"get": {}}}});
    let e = errors(doc);
    assert_eq!(e[0].pointer, "/spec/openapi/jsonSchemaDialect");
}

#[test]
fn modes_off_emit_nothing_and_unknown_query_setting() {
    let doc = doc30(json!({"/a": {"get": {"operationId": "a", "parameters": [
        {"name": "q", "in": "query", "schema": {"type": "integer"}}]},
        "post": {"operationId": "b"}}}));
    let config = compile(&[resource("api", doc.clone(), ValidationMode::Off)]).unwrap();
    assert!(config.apis[0]
        .operations
        .iter()
        .all(|o| o.request.is_none()));
    assert!(config.schemas.is_none());

    let mut r = resource("api", doc, ValidationMode::Report);
    r.schema.spec.validation.unknown_query_parameters = UnknownQueryParameters::Reject;
    r.schema.spec.policies.operations.insert(
        "a".into(),
        Policies {
            validation: Some(ValidationPolicy {
                mode: ValidationMode::Off,
                ..ValidationPolicy::default()
            }),
            ..Policies::default()
        },
    );
    let config = compile(&[r]).unwrap();
    // `a` is off; `b` has no parameters but rejects unknown query parameters.
    assert!(op(&config, "a").request.is_none());
    assert!(request(&config, "b").reject_unknown_query);
}

#[test]
fn errors_point_into_the_resource() {
    let e = errors(doc30(json!({"/pets": {"post": {"operationId": "p",
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {"x": {"type": "string", "pattern": "(?=a)"}}}}}}}}})));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        e[0].pointer,
        "/spec/openapi/paths/~1pets/post/requestBody/content/application~1json/schema/properties/x/pattern"
    );
    assert_eq!(e[0].resource.as_deref(), Some("ApiSchema default/api"));
    assert_eq!(e[0].file.as_deref(), Some(std::path::Path::new("api.yaml")));

    let e = errors(doc30(
        json!({"/a": {"get": {"operationId": "a", "parameters": [
            {"$ref": "#/components/parameters/Nope"},
            {"name": "s", "in": "query", "style": "matrix"},
            {"name": "t", "in": "query", "schema": {"$ref": "#/components/schemas/Missing"}},
            {"name": "id", "in": "path", "schema": {"type": "string"}}
        ]}}}),
    ));
    let pointers: Vec<_> = e.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        vec![
            "/spec/openapi/paths/~1a/get/parameters/0/$ref",
            "/spec/openapi/paths/~1a/get/parameters/1/style",
            "/spec/openapi/paths/~1a/get/parameters/2/schema/$ref",
            "/spec/openapi/paths/~1a/get/parameters/3/name",
        ],
        "{e:?}"
    );
}

#[test]
fn apis_of_both_dialects_share_one_program() {
    let a = doc30(json!({"/a": {"get": {"operationId": "a", "parameters": [
        {"$ref": "#/components/parameters/Limit"}]}}}));
    let b = json!({"openapi": "3.1.0", "paths": {"/b": {"post": {"operationId": "b",
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/T"}}}}}}},
        "components": {"schemas": {"T": {"type": "object", "properties": {
            "kids": {"type": "array", "items": {"$ref": "#/components/schemas/T"}},
            "n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}}}}});
    let config = compile(&[
        resource("zeta", a, ValidationMode::Enforce),
        resource("alpha", b, ValidationMode::Enforce),
    ])
    .unwrap();
    gatehouse_filter::validation::check_config(&config).unwrap();
    let find = |api: &str, id: &str| {
        config
            .apis
            .iter()
            .find(|x| x.name == api)
            .unwrap()
            .operations
            .iter()
            .find(|o| o.operation_id == id)
            .unwrap()
            .request
            .clone()
            .unwrap()
    };
    let limit = find("default/zeta", "a").parameters[0].schema.unwrap();
    assert!(check(&config, limit, json!(3)).is_empty());
    assert_eq!(
        check(&config, limit, json!(0)),
        vec![(String::new(), "minimum")]
    );
    let t = find("default/alpha", "b").body.unwrap().content[0]
        .schema
        .unwrap();
    assert!(check(
        &config,
        t,
        json!({"kids": [{"n": null}, {"kids": [{"n": 2}]}]})
    )
    .is_empty());
    assert_eq!(
        check(&config, t, json!({"kids": [{"kids": [{"n": "x"}]}]})),
        vec![("/kids/0/kids/0/n".to_owned(), "anyOf")]
    );
    // The merged program survives the configuration round trip.
    let json = serde_json::to_string(&config).unwrap();
    let back = gatehouse_filter::compiled::CompiledConfig::from_json(json.as_bytes()).unwrap();
    gatehouse_filter::validation::check_config(&back.source).unwrap();
}

#[test]
fn thousand_operations_compile_time() {
    let mut paths = serde_json::Map::new();
    for i in 0..500 {
        paths.insert(
            format!("/r{i}/items"),
            json!({
                "get": {"operationId": format!("list{i}"), "parameters": [
                    {"$ref": "#/components/parameters/Limit"},
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 40}}]},
                "post": {"operationId": format!("create{i}"), "requestBody": {"$ref": "#/components/requestBodies/PetBody"}}
            }),
        );
    }
    let doc = doc30(Value::Object(paths));
    let r = resource("big", doc, ValidationMode::Enforce);
    let start = Instant::now();
    let config = compile(&[r]).unwrap();
    let elapsed = start.elapsed();
    let ops = config.apis[0].operations.len();
    let bytes = serde_json::to_vec(&config).unwrap().len();
    println!(
        "compiled {ops} operations in {elapsed:?}: {} schema nodes, {bytes} bytes of configuration",
        config.schemas.as_ref().map_or(0, |p| p.len())
    );
    assert_eq!(ops, 1000);
    // What every worker VM's `on_configure` does with it (natively; V8 is slower).
    let json = serde_json::to_vec(&config).unwrap();
    let start = Instant::now();
    let filter = gatehouse_filter::compiled::CompiledConfig::from_json(&json).unwrap();
    gatehouse_filter::validation::check_config(&filter.source).unwrap();
    println!("filter configure (native): {:?}", start.elapsed());
}

#[test]
fn responses_compile_when_reported() {
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/pets/{id}": {"get": {
            "operationId": "getPet",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
            "responses": {
                "200": {"description": "ok", "content": {
                    "*/*": {"schema": {"type": "string"}},
                    "application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Pet"}}
                }},
                "4XX": {"$ref": "#/components/responses/Problem"},
                "204": {"description": "empty"},
                "x-note": "ignored"
            }
        }}},
        "components": {
            "schemas": {"Pet": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer", "readOnly": true},
                "password": {"type": "string", "writeOnly": true}}}},
            "responses": {"Problem": {"description": "problem", "content": {
                "application/problem+json": {"schema": {"type": "object", "required": ["title"]}}}}}
        }
    });
    // Requests off, responses reported: only `responses` is emitted.
    let mut r = resource("api", doc.clone(), ValidationMode::Off);
    r.schema.spec.policies.defaults.validation = Some(ValidationPolicy {
        mode: ValidationMode::Off,
        responses: gatehouse_filter::config::ResponseMode::Report,
    });
    let config = compile(&[r]).unwrap();
    let spec = request(&config, "getPet");
    assert!(spec.parameters.is_empty() && spec.body.is_none());
    let statuses: Vec<&str> = spec.responses.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["200", "204", "4XX"]);
    let ok = &spec.responses[0];
    let types: Vec<&str> = ok.content.iter().map(|m| m.media_type.as_str()).collect();
    assert_eq!(types, ["application/json", "*/*"]);
    assert!(
        ok.content[1].schema.is_none(),
        "only JSON types carry a schema"
    );
    assert!(spec.responses[1].content.is_empty());
    let program = config.schemas.as_ref().unwrap();
    let pet = ok.content[0].schema.unwrap();
    let limits = Limits::default();
    // Response direction: readOnly is fine, writeOnly must be absent.
    assert!(schema::validate(program, pet, &json!({"id": 1}), &limits).is_empty());
    let v = schema::validate(program, pet, &json!({"id": 1, "password": "x"}), &limits);
    assert_eq!(v[0].keyword, "writeOnly");
    let problem = spec.responses[2].content[0].schema.unwrap();
    assert_eq!(
        schema::validate(program, problem, &json!({}), &limits)[0].keyword,
        "required"
    );

    // Not asked for: nothing about responses.
    let config = compile(&[resource("api", doc.clone(), ValidationMode::Enforce)]).unwrap();
    assert!(request(&config, "getPet").responses.is_empty());

    // A bad status key is an error at its pointer.
    let mut bad = doc;
    bad["paths"]["/pets/{id}"]["get"]["responses"]["20x0"] = json!({"description": "?"});
    let mut r = resource("api", bad, ValidationMode::Off);
    r.schema.spec.policies.defaults.validation = Some(ValidationPolicy {
        mode: ValidationMode::Off,
        responses: gatehouse_filter::config::ResponseMode::Report,
    });
    let e = compile(&[r]).unwrap_err();
    assert!(
        e[0].to_string()
            .contains("/spec/openapi/paths/~1pets~1{id}/get/responses/20x0"),
        "{}",
        e[0]
    );
}
