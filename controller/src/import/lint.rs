//! Warnings about an imported document: things that import fine but that the user should
//! know about before the gateway serves it.

use std::collections::{BTreeMap, BTreeSet};

use gatehouse_filter::config::Method;
use serde_json::Value;

use super::Diagnostic;
use crate::error::{pointer_join, pointer_tokens};
use crate::openapi::{self, DocOperation};

/// Component sections whose entries are used through `$ref`.
const REF_SECTIONS: &[&str] = &[
    "schemas",
    "parameters",
    "responses",
    "requestBodies",
    "headers",
    "examples",
    "links",
    "callbacks",
    "pathItems",
];

/// Every lint of `doc`, an OpenAPI 3.x document with its operations already listed.
#[must_use]
pub fn lint(doc: &Value, ops: &[DocOperation]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    missing_operation_ids(ops, &mut out);
    duplicate_routes(ops, &mut out);
    references(doc, &mut out);
    out
}

fn missing_operation_ids(ops: &[DocOperation], out: &mut Vec<Diagnostic>) {
    for op in ops.iter().filter(|o| o.operation_id.is_none()) {
        out.push(Diagnostic::lint(
            "no-operation-id",
            &op.pointer,
            format!(
                "{} {} has no operationId; the gateway calls it `{}` (changes when the path does)",
                op.method,
                op.path,
                openapi::generated_operation_id(op.method, &op.path)
            ),
        ));
    }
}

/// `/pets/{id}` and `/pets/{petId}` are one route: the filter refuses two operations on it
/// with the same method, and two spellings of one path are a mistake even across methods.
fn duplicate_routes(ops: &[DocOperation], out: &mut Vec<Diagnostic>) {
    let mut by_route: BTreeMap<String, BTreeMap<&str, Vec<Method>>> = BTreeMap::new();
    for op in ops {
        by_route
            .entry(normalize_template(&op.path))
            .or_default()
            .entry(op.path.as_str())
            .or_default()
            .push(op.method);
    }
    for spellings in by_route.values().filter(|s| s.len() > 1) {
        let paths: Vec<&str> = spellings.keys().copied().collect();
        let mut methods: BTreeMap<Method, Vec<&str>> = BTreeMap::new();
        for (path, ms) in spellings {
            for m in ms {
                methods.entry(*m).or_default().push(path);
            }
        }
        let clashes: Vec<String> = methods
            .iter()
            .filter(|(_, p)| p.len() > 1)
            .map(|(m, _)| m.to_string())
            .collect();
        let second = paths.get(1).copied().unwrap_or("");
        let message = if clashes.is_empty() {
            format!(
                "paths {} differ only in parameter names (one route; different methods, so it compiles)",
                paths.join(", ")
            )
        } else {
            format!(
                "paths {} are the same route and share {}: the gateway refuses the document until one is removed or renamed",
                paths.join(", "),
                clashes.join(", ")
            )
        };
        out.push(Diagnostic::lint(
            "duplicate-path",
            &pointer_join("/paths", second),
            message,
        ));
    }
}

/// The route a template stands for: parameter names dropped, `/a/{x}` → `/a/{}`.
#[must_use]
pub fn normalize_template(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push('{');
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push('}');
                }
            }
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out.trim_end_matches('/').to_owned()
}

/// Local references that lead nowhere, and components nothing refers to.
fn references(doc: &Value, out: &mut Vec<Diagnostic>) {
    let mut refs: Vec<(String, String)> = Vec::new();
    collect_refs(doc, &mut String::new(), &mut refs);
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    for (at, reference) in &refs {
        let Some(fragment) = reference.strip_prefix('#') else {
            out.push(Diagnostic::lint(
                "unresolved-ref",
                at,
                format!("`{reference}` refers to another document and was not bundled (it stands where the importer does not look for references); operations using it cannot be validated"),
            ));
            continue;
        };
        let tokens = pointer_tokens(fragment);
        if let [components, section, name, ..] = tokens.as_slice() {
            if components == "components" {
                used.insert((section.clone(), name.clone()));
            }
        }
        if doc.pointer(fragment).is_none() {
            out.push(Diagnostic::lint(
                "unresolved-ref",
                at,
                format!("`{reference}` does not resolve; operations using it cannot be validated"),
            ));
        }
    }
    for section in REF_SECTIONS {
        let Some(entries) = doc
            .get("components")
            .and_then(|c| c.get(*section))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for name in entries.keys() {
            if !used.contains(&((*section).to_owned(), name.clone())) {
                out.push(Diagnostic::lint(
                    "unused-component",
                    &pointer_join(&format!("/components/{section}"), name),
                    format!("components.{section}.{name} is never referenced"),
                ));
            }
        }
    }
}

/// Appends `/token` to a pointer, escaped (RFC 6901).
pub(crate) fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// Every `$ref` string with its pointer. `at` is one buffer extended and cut back on the
/// way down, so only the pointers of references are allocated.
fn collect_refs(v: &Value, at: &mut String, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let len = at.len();
                // Example values are data: a `$ref` key in them is not a reference. Other
                // keys are all looked at (`default` is a schema keyword in one place and a
                // response code in another).
                let parent_is_properties = at.ends_with("/properties");
                let data = (k == "example" && !parent_is_properties)
                    || (k == "value" && at.contains("/examples/"));
                push_token(at, k);
                match (k.as_str(), child) {
                    _ if data => {}
                    ("$ref", Value::String(r)) => out.push((at.clone(), r.clone())),
                    _ => collect_refs(child, at, out),
                }
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = at.len();
                at.push('/');
                at.push_str(&i.to_string());
                collect_refs(child, at, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codes(doc: &Value) -> Vec<(String, String)> {
        let ops = openapi::operations(doc).unwrap();
        lint(doc, &ops)
            .into_iter()
            .map(|d| (d.code.to_owned(), d.pointer))
            .collect()
    }

    #[test]
    fn finds_each_kind() {
        let doc = json!({
            "openapi": "3.0.3",
            "paths": {
                "/pets/{id}": {"get": {"operationId": "a", "responses": {"200": {"$ref": "#/components/responses/Nope"}}}},
                "/pets/{petId}": {"get": {"operationId": "b"}, "delete": {}}
            },
            "components": {"schemas": {"Unused": {}, "Used": {}},
                           "responses": {"R": {"description": "", "content": {"a/json": {"schema": {"$ref": "#/components/schemas/Used"}}}}}}
        });
        let found = codes(&doc);
        assert!(found.contains(&(
            "no-operation-id".into(),
            "/paths/~1pets~1{petId}/delete".into()
        )));
        assert!(found.contains(&("duplicate-path".into(), "/paths/~1pets~1{petId}".into())));
        assert!(found.contains(&(
            "unresolved-ref".into(),
            "/paths/~1pets~1{id}/get/responses/200/$ref".into()
        )));
        assert!(found.contains(&(
            "unused-component".into(),
            "/components/schemas/Unused".into()
        )));
        assert!(found.contains(&("unused-component".into(), "/components/responses/R".into())));
        assert!(!found.contains(&("unused-component".into(), "/components/schemas/Used".into())));
    }

    #[test]
    fn templates_normalize() {
        assert_eq!(normalize_template("/a/{x}/b.{fmt}/"), "/a/{}/b.{}");
        assert_eq!(normalize_template("/a/{x{y}}"), "/a/{}");
    }

    #[test]
    fn duplicate_spellings_with_different_methods_are_only_noted() {
        let doc = json!({"openapi": "3.0.3", "paths": {
            "/a/{x}": {"get": {"operationId": "g"}},
            "/a/{y}": {"put": {"operationId": "p"}}
        }});
        let ops = openapi::operations(&doc).unwrap();
        let d = lint(&doc, &ops);
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("different methods"), "{}", d[0]);
    }
}
