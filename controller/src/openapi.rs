//! What the gateway needs from an OpenAPI 3.0/3.1 document so far: its operations (method,
//! path template, operationId) and the base path its first server implies.
//!
//! The document stays a JSON tree rather than a typed model: users author far more than is
//! read here, and every error must carry a pointer to the node it is about.

use std::collections::{BTreeMap, BTreeSet};

use gatehouse_filter::config::Method;
use serde_json::Value;

use crate::error::pointer_join;

/// A problem in the document; `pointer` is relative to the document root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocError {
    pub pointer: String,
    pub message: String,
}

fn err(pointer: impl Into<String>, message: impl Into<String>) -> DocError {
    DocError {
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// One operation as authored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocOperation {
    pub method: Method,
    /// The `paths` key: a template relative to the base path.
    pub path: String,
    /// The document's own operationId, if it has one.
    pub operation_id: Option<String>,
    /// The operation object (`/paths/~1pets/get`).
    pub pointer: String,
}

impl DocOperation {
    /// The path item holding this operation (`/paths/~1pets`).
    #[must_use]
    pub fn path_item_pointer(&self) -> String {
        pointer_join("/paths", &self.path)
    }
}

/// Checks the `openapi` version field: 3.0.x and 3.1.x are read.
pub fn check_version(doc: &Value) -> Result<(), DocError> {
    if !doc.is_object() {
        return Err(err(
            "",
            "must be an OpenAPI 3.0 or 3.1 document (a mapping)",
        ));
    }
    if doc.get("swagger").is_some() {
        return Err(err(
            "/swagger",
            "Swagger 2.0 documents are not read here; convert the document to OpenAPI 3.x",
        ));
    }
    match doc.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.0") || v.starts_with("3.1") => Ok(()),
        Some(Value::String(v)) => Err(err(
            "/openapi",
            format!("unsupported OpenAPI version `{v}` (3.0.x and 3.1.x are supported)"),
        )),
        Some(_) => Err(err(
            "/openapi",
            "must be a string such as \"3.1.0\" (quote it in YAML)",
        )),
        None => Err(err(
            "",
            "missing field `openapi` (the OpenAPI version, such as \"3.1.0\")",
        )),
    }
}

/// Every operation of `paths`, sorted by (path, method) so the output does not depend on the
/// order a map implementation happens to iterate in.
pub fn operations(doc: &Value) -> Result<Vec<DocOperation>, Vec<DocError>> {
    let paths = match doc.get("paths") {
        // 3.1 allows documents with only webhooks or components: no operations.
        None => return Ok(Vec::new()),
        Some(Value::Object(paths)) => paths,
        Some(_) => return Err(vec![err("/paths", "must be a mapping")]),
    };
    let mut ops = Vec::new();
    let mut errors = Vec::new();
    for (path, item) in paths {
        if path.starts_with("x-") {
            continue;
        }
        let item_pointer = pointer_join("/paths", path);
        if !path.starts_with('/') {
            errors.push(err(item_pointer, "a path must start with `/`"));
            continue;
        }
        let Some(item) = item.as_object() else {
            errors.push(err(item_pointer, "a path item must be a mapping"));
            continue;
        };
        if item.contains_key("$ref") {
            // Dropping the operations behind it would make a strict API answer 404.
            errors.push(err(
                pointer_join(&item_pointer, "$ref"),
                "path item `$ref` is not supported yet; inline the path item",
            ));
            continue;
        }
        for (key, operation) in item {
            // Other keys (parameters, summary, servers, x-...) are not operations.
            let Some(method) = Method::ALL
                .into_iter()
                .find(|m| m.as_str().to_ascii_lowercase() == *key)
            else {
                continue;
            };
            let pointer = pointer_join(&item_pointer, key);
            let Some(operation) = operation.as_object() else {
                errors.push(err(pointer, "an operation must be a mapping"));
                continue;
            };
            let operation_id = match operation.get("operationId") {
                None => None,
                Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
                Some(_) => {
                    errors.push(err(
                        pointer_join(&pointer, "operationId"),
                        "must be a non-empty string",
                    ));
                    continue;
                }
            };
            ops.push(DocOperation {
                method,
                path: path.clone(),
                operation_id,
                pointer,
            });
        }
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        return Err(errors);
    }
    ops.sort_by(|a, b| (&a.path, a.method).cmp(&(&b.path, b.method)));
    Ok(ops)
}

/// The operationId generated for an operation without one: the lower-case method, then each
/// path segment with template braces dropped and every run of characters other than ASCII
/// letters and digits turned into one `_` (`GET /pets/{petId}` → `get_pets_petId`,
/// `GET /` → `get`).
#[must_use]
pub fn generated_operation_id(method: Method, path: &str) -> String {
    let mut id = method.as_str().to_ascii_lowercase();
    for segment in path.split('/') {
        let mut cleaned = String::new();
        let mut gap = false;
        for c in segment.chars().filter(|c| *c != '{' && *c != '}') {
            if c.is_ascii_alphanumeric() {
                if gap && !cleaned.is_empty() {
                    cleaned.push('_');
                }
                gap = false;
                cleaned.push(c);
            } else {
                gap = true;
            }
        }
        if !cleaned.is_empty() {
            id.push('_');
            id.push_str(&cleaned);
        }
    }
    id
}

/// The operationId of each operation (same order): the authored one, or a generated one.
/// Generated ids never take an authored id: on a clash they get `_2`, `_3`, ... in the
/// order of `ops`, which [`operations`] makes deterministic.
pub fn operation_ids(ops: &[DocOperation]) -> Result<Vec<String>, Vec<DocError>> {
    let mut errors = Vec::new();
    let mut authored: BTreeMap<&str, &DocOperation> = BTreeMap::new();
    for op in ops {
        let Some(id) = op.operation_id.as_deref() else {
            continue;
        };
        if let Some(first) = authored.get(id) {
            errors.push(err(
                pointer_join(&op.pointer, "operationId"),
                format!(
                    "duplicate operationId `{id}`: {} {} uses it too",
                    first.method, first.path
                ),
            ));
        } else {
            authored.insert(id, op);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut taken: BTreeSet<String> = authored.keys().map(|id| (*id).to_owned()).collect();
    let mut ids = Vec::with_capacity(ops.len());
    for op in ops {
        if let Some(id) = &op.operation_id {
            ids.push(id.clone());
            continue;
        }
        let base = generated_operation_id(op.method, &op.path);
        let mut id = base.clone();
        let mut n = 2;
        while taken.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        taken.insert(id.clone());
        ids.push(id);
    }
    Ok(ids)
}

/// The base path the first server implies: the path of an absolute URL (`https://h/v1` →
/// `/v1`) or of an absolute-path reference (`/v1`), with server variables replaced by their
/// defaults. Empty without servers, and for other relative URLs, which are relative to
/// wherever the document is served and so name no fixed path. `Ok` carries the path as
/// written; the caller normalises it.
pub fn server_base_path(doc: &Value) -> Result<String, DocError> {
    let Some(server) = doc
        .get("servers")
        .and_then(|s| s.as_array())
        .and_then(|s| s.first())
    else {
        return Ok(String::new());
    };
    let Some(url) = server.get("url").and_then(|u| u.as_str()) else {
        return Err(err("/servers/0/url", "must be a string"));
    };
    let url =
        substitute_variables(url, server.get("variables")).map_err(|m| err("/servers/0/url", m))?;
    let url = url.split(['?', '#']).next().unwrap_or("");
    let path = if let Some((_, rest)) = url.split_once("://") {
        rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("")
    } else if let Some(rest) = url.strip_prefix("//") {
        rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("")
    } else if url.starts_with('/') {
        url
    } else {
        ""
    };
    Ok(path.to_owned())
}

fn substitute_variables(url: &str, variables: Option<&Value>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = url;
    while let Some(open) = rest.find('{') {
        let (before, tail) = rest.split_at(open);
        out.push_str(before);
        let Some(close) = tail.find('}') else {
            return Err("unclosed `{` in server URL".to_owned());
        };
        let name = tail.get(1..close).unwrap_or("");
        let default = variables
            .and_then(|v| v.get(name))
            .and_then(|v| v.get("default"))
            .and_then(|d| d.as_str())
            .ok_or_else(|| format!("server variable `{name}` has no string `default`"))?;
        out.push_str(default);
        rest = tail.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extracts_methods_only_and_sorts() {
        let doc = json!({
            "openapi": "3.1.0",
            "paths": {
                "x-internal": {},
                "/pets/{petId}": {
                    "parameters": [], "summary": "s", "x-foo": 1,
                    "delete": {"operationId": "deletePet"},
                    "get": {"operationId": "getPet"}
                },
                "/pets": {"post": {}, "get": {"operationId": "listPets"}, "trace": {}}
            }
        });
        check_version(&doc).unwrap();
        let ops = operations(&doc).unwrap();
        let got: Vec<_> = ops
            .iter()
            .map(|o| (o.method, o.path.as_str(), o.pointer.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Method::Get, "/pets", "/paths/~1pets/get"),
                (Method::Post, "/pets", "/paths/~1pets/post"),
                (Method::Trace, "/pets", "/paths/~1pets/trace"),
                (Method::Get, "/pets/{petId}", "/paths/~1pets~1{petId}/get"),
                (
                    Method::Delete,
                    "/pets/{petId}",
                    "/paths/~1pets~1{petId}/delete"
                ),
            ]
        );
        assert_eq!(ops[0].path_item_pointer(), "/paths/~1pets");
    }

    #[test]
    fn generated_ids_follow_the_documented_shape() {
        assert_eq!(
            generated_operation_id(Method::Get, "/pets/{petId}"),
            "get_pets_petId"
        );
        assert_eq!(generated_operation_id(Method::Get, "/"), "get");
        assert_eq!(
            generated_operation_id(Method::Patch, "/a-b/{x.y}/c.json"),
            "patch_a_b_x_y_c_json"
        );
        assert_eq!(
            generated_operation_id(Method::Delete, "/v1//_odd_/"),
            "delete_v1_odd"
        );
    }

    #[test]
    fn generated_ids_never_collide() {
        let doc = json!({"openapi": "3.0.3", "paths": {
            "/pets/{id}": {"get": {}},
            "/pets/id": {"get": {}},
            "/pets": {"get": {"operationId": "get_pets_id"}}
        }});
        let ops = operations(&doc).unwrap();
        let ids = operation_ids(&ops).unwrap();
        // Sorted: /pets, /pets/id, /pets/{id}.
        assert_eq!(ids, vec!["get_pets_id", "get_pets_id_2", "get_pets_id_3"]);
    }

    #[test]
    fn duplicate_authored_ids_are_errors() {
        let doc = json!({"openapi": "3.0.3", "paths": {
            "/a": {"get": {"operationId": "x"}},
            "/b": {"get": {"operationId": "x"}}
        }});
        let errors = operation_ids(&operations(&doc).unwrap()).unwrap_err();
        assert_eq!(errors[0].pointer, "/paths/~1b/get/operationId");
        assert!(errors[0].message.contains("GET /a"));
    }

    #[test]
    fn bad_shapes_are_reported_with_pointers() {
        let doc = json!({"openapi": "3.0.3", "paths": {
            "pets": {},
            "/a": {"$ref": "#/x"},
            "/b": {"get": "nope", "put": {"operationId": 3}}
        }});
        let errors = operations(&doc).unwrap_err();
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            vec![
                "/paths/pets",
                "/paths/~1a/$ref",
                "/paths/~1b/get",
                "/paths/~1b/put/operationId",
            ]
        );
    }

    #[test]
    fn versions() {
        assert!(check_version(&json!({"openapi": "3.0.0"})).is_ok());
        assert_eq!(
            check_version(&json!({"openapi": "2.0"}))
                .unwrap_err()
                .pointer,
            "/openapi"
        );
        assert_eq!(
            check_version(&json!({"swagger": "2.0"}))
                .unwrap_err()
                .pointer,
            "/swagger"
        );
        assert_eq!(
            check_version(&json!({"openapi": 3.1})).unwrap_err().pointer,
            "/openapi"
        );
        assert!(check_version(&json!([])).is_err());
    }

    #[test]
    fn base_path_from_servers() {
        let base = |url: &str| server_base_path(&json!({"servers": [{"url": url}]})).unwrap();
        assert_eq!(base("https://api.example.com/v1"), "/v1");
        assert_eq!(base("https://api.example.com"), "");
        assert_eq!(base("http://h:8080/v1/?x=1"), "/v1/");
        assert_eq!(base("/v2"), "/v2");
        assert_eq!(base("//cdn.example.com/v3"), "/v3");
        assert_eq!(base("v1"), "");
        assert_eq!(server_base_path(&json!({})).unwrap(), "");
        let doc = json!({"servers": [{"url": "https://{host}/{version}", "variables": {
            "host": {"default": "x"}, "version": {"default": "v7", "enum": ["v7"]}
        }}]});
        assert_eq!(server_base_path(&doc).unwrap(), "/v7");
        let doc = json!({"servers": [{"url": "https://h/{version}"}]});
        assert_eq!(
            server_base_path(&doc).unwrap_err().pointer,
            "/servers/0/url"
        );
    }
}
