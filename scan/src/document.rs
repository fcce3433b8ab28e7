//! Routes → one OpenAPI 3.1 document: comments applied, duplicates resolved, counts taken.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::annotate;
use crate::files::Sources;
use crate::text::template_params;
use crate::{Found, Gap, Report, Scan};

pub fn assemble(found: Found, sources: &Sources, default_title: &str) -> Scan {
    let Found {
        mut routes,
        schemas,
        mut gaps,
        info,
        frameworks,
    } = found;
    routes.sort_by(|a, b| (&a.path, &a.loc).cmp(&(&b.path, &b.loc)));
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut ids: BTreeSet<String> = BTreeSet::new();
    let mut schemes: BTreeSet<String> = BTreeSet::new();
    let mut report = Report {
        files: sources.files.len(),
        ..Report::default()
    };
    for mut route in routes {
        let text = sources.get(&route.loc.file).map_or("", |s| s.text.as_str());
        let mut directives = annotate::read_block(text, route.comment_line, route.comment_prefix);
        if let (true, Some(alt)) = (directives.pairs.is_empty(), route.alt_comment_line) {
            let alt_text = route
                .alt_file
                .as_deref()
                .and_then(|f| sources.get(f))
                .map_or(text, |s| s.text.as_str());
            directives = annotate::read_block(alt_text, alt, route.comment_prefix);
        }
        if !directives.pairs.is_empty() {
            let applied = annotate::apply(&directives, &mut route.operation);
            for e in applied.errors {
                gaps.push(Gap {
                    file: route.loc.file.clone(),
                    line: directives.line,
                    operation: None,
                    message: e,
                });
            }
            if applied.skip {
                continue;
            }
            schemes.extend(applied.schemes);
            report.annotated += 1;
        }
        let item = paths.entry(route.path.clone()).or_default();
        if item.contains_key(&route.method) {
            gaps.push(
                Gap::at(
                    &route.loc,
                    "declared again; the first declaration is kept, this one is left out",
                )
                .on(&route.method, &route.path),
            );
            continue;
        }
        let op = &mut route.operation;
        declare_path_params(op, &route.path, &route.loc, &route.method, &mut gaps);
        if !op.contains_key("responses") {
            op.insert(
                "responses".into(),
                json!({"default": {"description": "Response not inferred by gatehouse scan"}}),
            );
        }
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| crate::text::generated_operation_id(&route.method, &route.path));
        let mut unique = id.clone();
        let mut n = 2;
        while ids.contains(&unique) {
            unique = format!("{id}_{n}");
            n += 1;
        }
        if unique != id {
            gaps.push(
                Gap::at(
                    &route.loc,
                    format!("operationId `{id}` is taken; `{unique}` used instead"),
                )
                .on(&route.method, &route.path),
            );
        }
        op.insert("operationId".into(), json!(unique));
        ids.insert(unique);
        report.operations += 1;
        report.parameters += op
            .get("parameters")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        report.request_bodies += usize::from(op.contains_key("requestBody"));
        item.insert(route.method.clone(), Value::Object(route.operation));
    }
    let mut doc = Map::new();
    doc.insert("openapi".into(), json!("3.1.0"));
    let mut info_out = Map::new();
    info_out.insert(
        "title".into(),
        info.get("title")
            .cloned()
            .unwrap_or_else(|| json!(default_title)),
    );
    info_out.insert(
        "version".into(),
        info.get("version")
            .cloned()
            .unwrap_or_else(|| json!("0.0.0")),
    );
    if let Some(d) = info.get("description") {
        info_out.insert("description".into(), d.clone());
    }
    doc.insert("info".into(), Value::Object(info_out));
    doc.insert(
        "paths".into(),
        Value::Object(
            paths
                .into_iter()
                .map(|(k, v)| (k, Value::Object(v)))
                .collect(),
        ),
    );
    let mut components = Map::new();
    report.schemas = schemas.len();
    if !schemas.is_empty() {
        components.insert(
            "schemas".into(),
            Value::Object(schemas.into_iter().collect()),
        );
    }
    if !schemes.is_empty() {
        let defs: Map<String, Value> = schemes
            .into_iter()
            .map(|s| {
                (
                    s,
                    json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}),
                )
            })
            .collect();
        components.insert("securitySchemes".into(), Value::Object(defs));
    }
    if !components.is_empty() {
        doc.insert("components".into(), Value::Object(components));
    }
    gaps.sort();
    gaps.dedup();
    report.gaps = gaps;
    let mut fw: Vec<String> = frameworks.iter().map(|f| f.name().to_string()).collect();
    fw.sort();
    fw.dedup();
    report.frameworks = fw;
    Scan {
        openapi: Value::Object(doc),
        report,
    }
}

/// Every `{name}` of the template must be a path parameter. A framework that could not
/// type one leaves it out; it is declared as a string (what a path segment is) and reported.
fn declare_path_params(
    op: &mut Map<String, Value>,
    path: &str,
    loc: &crate::Loc,
    method: &str,
    gaps: &mut Vec<Gap>,
) {
    for name in template_params(path) {
        let declared = op
            .get("parameters")
            .and_then(Value::as_array)
            .is_some_and(|ps| {
                ps.iter().any(|p| {
                    p.get("in") == Some(&json!("path")) && p.get("name") == Some(&json!(name))
                })
            });
        if !declared {
            gaps.push(
                Gap::at(
                    loc,
                    format!("type of path parameter `{name}` not inferred; declared as a string"),
                )
                .on(method, path),
            );
            annotate::add_param(
                op,
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
            );
        }
    }
}
