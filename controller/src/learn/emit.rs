//! The learned model as an OpenAPI 3.1 document.
//!
//! Rules (`docs/learning.md`): integer ∪ number = number; a format only when every string
//! seen had it; `required` only when present in every complete observation and at least
//! [`MIN_REQUIRED`] were seen; nullable as `type: [T, "null"]`; an enum only with
//! [`MIN_ENUM`] strings, nearly all of them repeated candidates, at most [`MAX_ENUM`]
//! values; object-or-string as `oneOf`; counts as `x-gatehouse-samples`.

use std::collections::BTreeMap;

use super::set;
use gatehouse_filter::sampling::contract::{Format, Kind};
use serde_json::{json, Map, Value};

use super::model::{ApiModel, OperationModel, SchemaModel};
use super::paths::{self, Observed};

/// Complete observations needed before a property or parameter is called required.
pub const MIN_REQUIRED: u64 = 20;
/// Strings needed before an enum is claimed.
pub const MIN_ENUM: u64 = 20;
/// Most values of a learned enum.
pub const MAX_ENUM: usize = 10;

/// Headers that are part of HTTP itself, not of an API's contract.
const STANDARD_HEADERS: [&str; 24] = [
    "accept",
    "accept-encoding",
    "accept-language",
    "accept-charset",
    "user-agent",
    "content-type",
    "content-length",
    "content-encoding",
    "connection",
    "keep-alive",
    "te",
    "host",
    "origin",
    "referer",
    "cache-control",
    "pragma",
    "if-none-match",
    "if-modified-since",
    "upgrade-insecure-requests",
    "traceparent",
    "tracestate",
    "x-b3-traceid",
    "x-b3-spanid",
    "via",
];

/// An API's operations after path templating: template → method → merged model.
#[must_use]
pub fn templated(api: &ApiModel) -> BTreeMap<String, BTreeMap<String, OperationModel>> {
    let keys: Vec<(&String, &OperationModel)> = api.operations.iter().collect();
    let observed: Vec<Observed> = keys
        .iter()
        .map(|(k, op)| {
            let (method, path) = k.split_once(' ').unwrap_or(("GET", k.as_str()));
            Observed {
                method: method.to_owned(),
                path: path.to_owned(),
                documented: op.matched > 0,
                samples: op.samples,
            }
        })
        .collect();
    let mut out: BTreeMap<String, BTreeMap<String, OperationModel>> = BTreeMap::new();
    for ((_, op), t) in keys.iter().zip(paths::template(&observed)) {
        let merged = out
            .entry(t.template)
            .or_default()
            .entry(t.method)
            .or_default();
        merged.merge(op);
        for (name, shape) in &t.params {
            merged
                .path_params
                .entry(name.clone())
                .or_default()
                .add_times(shape, op.samples);
        }
    }
    out
}

/// The learned document of one API.
#[must_use]
pub fn document(name: &str, api: &ApiModel) -> Value {
    let mut paths = Map::new();
    let mut schemes: BTreeMap<String, Value> = BTreeMap::new();
    for (template, methods) in templated(api) {
        let mut item = Map::new();
        for (method, op) in methods {
            item.insert(
                method.to_ascii_lowercase(),
                operation(&template, &method, &op, &mut schemes),
            );
        }
        paths.insert(template, Value::Object(item));
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": format!("{name} (learned)"), "version": "learned"},
        "x-gatehouse-samples": api.samples,
        "paths": paths,
    });
    if !api.hosts.is_empty() {
        let servers: Value = api
            .hosts
            .iter()
            .map(|h| json!({"url": format!("https://{h}")}))
            .collect();
        set(&mut doc, "servers", servers);
    }
    if !schemes.is_empty() {
        set(&mut doc, "components", json!({"securitySchemes": schemes}));
    }
    doc
}

fn operation(
    template: &str,
    method: &str,
    op: &OperationModel,
    schemes: &mut BTreeMap<String, Value>,
) -> Value {
    let mut o = Map::new();
    let id = op
        .operation_id
        .clone()
        .unwrap_or_else(|| operation_id(method, template));
    o.insert("operationId".into(), json!(id));
    o.insert("x-gatehouse-samples".into(), json!(op.samples));
    let mut params = Vec::new();
    for name in template_params(template) {
        let schema = op
            .path_params
            .get(&name)
            .map_or_else(|| json!({"type": "string"}), param_schema);
        params.push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
    }
    for (name, m) in &op.query {
        let mut p = json!({"name": name, "in": "query", "schema": param_schema(m)});
        if m.count == op.samples && op.samples >= MIN_REQUIRED {
            set(&mut p, "required", json!(true));
        }
        set(&mut p, "x-gatehouse-samples", json!(m.count));
        params.push(p);
    }
    for (name, count) in &op.headers {
        if STANDARD_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let mut p = json!({"name": name, "in": "header", "schema": {"type": "string"}});
        if *count == op.samples && op.samples >= MIN_REQUIRED {
            set(&mut p, "required", json!(true));
        }
        set(&mut p, "x-gatehouse-samples", json!(count));
        params.push(p);
    }
    if !params.is_empty() {
        o.insert("parameters".into(), Value::Array(params));
    }
    if !op.request.is_empty() {
        let mut content = Map::new();
        for (ct, body) in &op.request {
            content.insert(ct.clone(), media(body.schema.as_ref(), body.count));
        }
        let mut rb = json!({"content": content});
        if op.with_body == op.samples && op.samples >= MIN_REQUIRED {
            set(&mut rb, "required", json!(true));
        }
        o.insert("requestBody".into(), rb);
    }
    let mut responses = Map::new();
    for (status, r) in &op.responses {
        let key = if *status == 0 {
            "default".to_owned()
        } else {
            status.to_string()
        };
        let mut resp = json!({"description": describe(*status), "x-gatehouse-samples": r.count});
        if !r.content.is_empty() {
            let mut content = Map::new();
            for (ct, body) in &r.content {
                content.insert(ct.clone(), media(body.schema.as_ref(), body.count));
            }
            set(&mut resp, "content", Value::Object(content));
        }
        responses.insert(key, resp);
    }
    if responses.is_empty() {
        responses.insert("default".into(), json!({"description": "not observed"}));
    }
    o.insert("responses".into(), Value::Object(responses));
    if !op.auth.is_empty() {
        let mut security = Vec::new();
        for scheme in op.auth.keys() {
            let (name, def) = match scheme.as_str() {
                "bearer" => ("bearerAuth", json!({"type": "http", "scheme": "bearer"})),
                "basic" => ("basicAuth", json!({"type": "http", "scheme": "basic"})),
                other => (other, json!({"type": "http", "scheme": other})),
            };
            schemes.insert(name.to_owned(), def);
            security.push(json!({ name: [] }));
        }
        let with_auth: u64 = op.auth.values().sum();
        if with_auth < op.samples {
            security.push(json!({}));
        }
        o.insert("security".into(), Value::Array(security));
    }
    Value::Object(o)
}

fn media(schema: Option<&SchemaModel>, count: u64) -> Value {
    let mut m = json!({"x-gatehouse-samples": count});
    if let Some(s) = schema {
        set(&mut m, "schema", json_schema(s));
    }
    m
}

fn describe(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 | 302 | 307 | 308 => "Redirect",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Observed",
    };
    format!("{reason} (learned)")
}

/// Names of a template's `{parameters}`, in order.
#[must_use]
pub fn template_params(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push(after[..close].to_owned());
        rest = &after[close + 1..];
    }
    out
}

/// `GET /users/{userId}/orders` → `getUsersUserIdOrders`.
#[must_use]
pub fn operation_id(method: &str, template: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for seg in template.split('/').filter(|s| !s.is_empty()) {
        let word = paths::camel(seg.trim_matches(|c| c == '{' || c == '}'));
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.extend(first.to_uppercase());
            id.push_str(chars.as_str());
        }
    }
    id
}

/// Schema of a parameter from the shapes of its values (text typed by what it looks like).
#[must_use]
pub fn param_schema(m: &SchemaModel) -> Value {
    let strings = m.kinds.get(&Kind::String).copied().unwrap_or(0);
    if let Some(items) = &m.items {
        if m.kinds.get(&Kind::Array).copied().unwrap_or(0) > 0 {
            return json!({"type": "array", "items": param_schema(items)});
        }
    }
    if strings == 0 {
        return json!({"type": "string"});
    }
    let all = |f: Format| m.formats.get(&f).copied().unwrap_or(0) == strings;
    let ints = m.formats.get(&Format::Integer).copied().unwrap_or(0);
    let nums = m.formats.get(&Format::Number).copied().unwrap_or(0);
    if all(Format::Integer) {
        return json!({"type": "integer"});
    }
    if ints + nums == strings {
        return json!({"type": "number"});
    }
    if all(Format::Boolean) {
        return json!({"type": "boolean"});
    }
    let mut s = json!({"type": "string"});
    if let Some(f) = single_format(m, strings) {
        set(&mut s, "format", json!(f));
    } else if let Some(values) = enum_values(m, strings) {
        set(&mut s, "enum", json!(values));
    }
    s
}

/// The OpenAPI name of the one format every string had.
fn single_format(m: &SchemaModel, strings: u64) -> Option<&'static str> {
    let (f, n) = m.formats.iter().next()?;
    if m.formats.len() != 1 || *n != strings {
        return None;
    }
    Some(match f {
        Format::Uuid => "uuid",
        Format::DateTime => "date-time",
        Format::Date => "date",
        Format::Time => "time",
        Format::Email => "email",
        Format::Uri => "uri",
        Format::Ipv4 => "ipv4",
        Format::Ipv6 => "ipv6",
        Format::Byte => "byte",
        Format::Hex | Format::Integer | Format::Number | Format::Boolean => return None,
    })
}

fn enum_values(m: &SchemaModel, strings: u64) -> Option<Vec<String>> {
    let cands = m.candidates.as_ref()?;
    let ok = strings >= MIN_ENUM
        && !cands.is_empty()
        && cands.len() <= MAX_ENUM
        && m.with_candidate * 10 >= strings * 7
        && cands.values().all(|c| *c >= 2);
    ok.then(|| cands.keys().cloned().collect())
}

/// JSON Schema (2020-12, as OpenAPI 3.1 uses it) of a JSON body or property.
#[must_use]
pub fn json_schema(m: &SchemaModel) -> Value {
    let count = |k: Kind| m.kinds.get(&k).copied().unwrap_or(0);
    let nullable = count(Kind::Null) > 0;
    let mut kinds: Vec<Kind> = m
        .kinds
        .keys()
        .copied()
        .filter(|k| !matches!(k, Kind::Null | Kind::Any))
        .collect();
    if kinds.contains(&Kind::Integer) && kinds.contains(&Kind::Number) {
        kinds.retain(|k| *k != Kind::Integer);
    }
    let mut schema = match kinds.as_slice() {
        [] if nullable => return json!({"type": "null"}),
        [] => json!({}),
        [k] => typed(m, *k),
        several => {
            let alternatives: Vec<Value> = several.iter().map(|k| typed(m, *k)).collect();
            let mut s = json!({"oneOf": alternatives});
            if nullable {
                if let Some(a) = s.get_mut("oneOf").and_then(Value::as_array_mut) {
                    a.push(json!({"type": "null"}));
                }
            }
            return s;
        }
    };
    if nullable {
        if let Some(t) = schema.get("type").cloned() {
            set(&mut schema, "type", json!([t, "null"]));
        }
    }
    schema
}

fn typed(m: &SchemaModel, kind: Kind) -> Value {
    match kind {
        Kind::Null => json!({"type": "null"}),
        Kind::Boolean => json!({"type": "boolean"}),
        Kind::Integer => json!({"type": "integer"}),
        Kind::Number => json!({"type": "number"}),
        Kind::String => {
            let strings = m.kinds.get(&Kind::String).copied().unwrap_or(0);
            let mut s = json!({"type": "string"});
            if let Some(f) = single_format(m, strings) {
                set(&mut s, "format", json!(f));
            } else if let Some(values) = enum_values(m, strings) {
                set(&mut s, "enum", json!(values));
            }
            s
        }
        Kind::Array => {
            let items = m.items.as_deref().map_or_else(|| json!({}), json_schema);
            json!({"type": "array", "items": items})
        }
        Kind::Object => {
            let mut s = json!({"type": "object"});
            if !m.properties.is_empty() {
                let mut props = Map::new();
                let mut required = Vec::new();
                for (name, p) in &m.properties {
                    props.insert(name.clone(), json_schema(&p.schema));
                    if m.complete_objects >= MIN_REQUIRED
                        && p.present_complete == m.complete_objects
                    {
                        required.push(json!(name));
                    }
                }
                set(&mut s, "properties", Value::Object(props));
                if !required.is_empty() {
                    set(&mut s, "required", Value::Array(required));
                }
            } else if let Some(map) = &m.map {
                set(&mut s, "additionalProperties", json_schema(map));
            }
            s
        }
        Kind::Any => json!({}),
    }
}
