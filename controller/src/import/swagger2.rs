//! Swagger 2.0 → OpenAPI 3.0.3, the conversion table of `docs/import-and-scan.md`.
//!
//! Structural rewrites only: schemas are the same JSON Schema subset in both versions, so
//! they are copied with three local fixes (`type: file`, `x-nullable`, string
//! `discriminator`) and `$ref`s retargeted to `components`. Everything not converted is kept,
//! vendor extensions included.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::Diagnostic;
use crate::error::pointer_join;

/// The version written into converted documents.
pub const CONVERTED_VERSION: &str = "3.0.3";

/// Converts a Swagger 2.0 document (its `$ref`s all local). Problems that lose
/// information are returned as warnings; nothing here refuses a document.
pub fn convert(doc: &Value) -> (Value, Vec<Diagnostic>) {
    let mut c = Converter {
        doc,
        warnings: Vec::new(),
        global_consumes: media_list(doc.get("consumes")),
        global_produces: media_list(doc.get("produces")),
    };
    let out = c.document();
    (out, c.warnings)
}

struct Converter<'a> {
    doc: &'a Value,
    warnings: Vec<Diagnostic>,
    global_consumes: Option<Vec<String>>,
    global_produces: Option<Vec<String>>,
}

fn media_list(v: Option<&Value>) -> Option<Vec<String>> {
    let list: Vec<String> = v?
        .as_array()?
        .iter()
        .filter_map(|m| m.as_str().map(str::to_owned))
        .collect();
    (!list.is_empty()).then_some(list)
}

/// Keys of a Swagger parameter that describe its value and so move into `schema`.
const SCHEMA_KEYS: &[&str] = &[
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
];

impl Converter<'_> {
    fn warn(&mut self, pointer: &str, message: impl Into<String>) {
        self.warnings
            .push(Diagnostic::lint("swagger2", pointer, message.into()));
    }

    fn document(&mut self) -> Value {
        let doc = self.doc;
        let mut out = Map::new();
        out.insert("openapi".into(), json!(CONVERTED_VERSION));
        for (key, value) in doc.as_object().into_iter().flatten() {
            match key.as_str() {
                "swagger"
                | "host"
                | "basePath"
                | "schemes"
                | "consumes"
                | "produces"
                | "definitions"
                | "parameters"
                | "responses"
                | "securityDefinitions"
                | "paths" => {}
                _ => {
                    out.insert(key.clone(), fix_refs(value));
                }
            }
        }
        if !out.contains_key("info") {
            out.insert("info".into(), json!({"title": "", "version": ""}));
        }
        if let Some(servers) = self.servers() {
            out.insert("servers".into(), servers);
        }
        let mut components = Map::new();
        if let Some(defs) = doc.get("definitions").and_then(Value::as_object) {
            let schemas: Map<String, Value> =
                defs.iter().map(|(k, v)| (k.clone(), schema(v))).collect();
            components.insert("schemas".into(), Value::Object(schemas));
        }
        if let Some(params) = doc.get("parameters").and_then(Value::as_object) {
            let mut parameters = Map::new();
            let mut bodies = Map::new();
            for (name, p) in params {
                let at = pointer_join("/parameters", name);
                match p.get("in").and_then(Value::as_str) {
                    Some("body") => {
                        let consumes = self.global_consumes.clone();
                        bodies.insert(name.clone(), self.body_request(p, consumes.as_deref()));
                    }
                    // Form fields only exist as parts of an operation's body: they are
                    // inlined where an operation refers to them.
                    Some("formData") => {}
                    _ => {
                        parameters.insert(name.clone(), self.parameter(p, &at));
                    }
                }
            }
            if !parameters.is_empty() {
                components.insert("parameters".into(), Value::Object(parameters));
            }
            if !bodies.is_empty() {
                components.insert("requestBodies".into(), Value::Object(bodies));
            }
        }
        if let Some(responses) = doc.get("responses").and_then(Value::as_object) {
            let produces = self.global_produces.clone();
            let converted: Map<String, Value> = responses
                .iter()
                .map(|(k, v)| (k.clone(), self.response(v, produces.as_deref())))
                .collect();
            components.insert("responses".into(), Value::Object(converted));
        }
        if let Some(defs) = doc.get("securityDefinitions").and_then(Value::as_object) {
            let mut schemes = Map::new();
            for (name, def) in defs {
                let at = pointer_join("/securityDefinitions", name);
                schemes.insert(name.clone(), self.security_scheme(def, &at));
            }
            components.insert("securitySchemes".into(), Value::Object(schemes));
        }
        if !components.is_empty() {
            out.insert("components".into(), Value::Object(components));
        }
        let mut paths = Map::new();
        if let Some(src) = doc.get("paths").and_then(Value::as_object) {
            for (path, item) in src {
                if path.starts_with("x-") {
                    paths.insert(path.clone(), item.clone());
                    continue;
                }
                let at = pointer_join("/paths", path);
                paths.insert(path.clone(), self.path_item(item, &at));
            }
        }
        out.insert("paths".into(), Value::Object(paths));
        Value::Object(out)
    }

    /// `host` + `basePath` + `schemes` → `servers` (one per scheme).
    fn servers(&mut self) -> Option<Value> {
        let doc = self.doc;
        let host = doc.get("host").and_then(Value::as_str);
        let base = doc.get("basePath").and_then(Value::as_str).unwrap_or("");
        let base = if base == "/" { "" } else { base };
        if host.is_none() && base.is_empty() {
            return None;
        }
        let Some(host) = host else {
            return Some(json!([{ "url": base }]));
        };
        let schemes: Vec<&str> = doc
            .get("schemes")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if schemes.is_empty() {
            // Swagger: "the scheme used to access the documentation"; a scheme-relative
            // URL says exactly that.
            return Some(json!([{ "url": format!("//{host}{base}") }]));
        }
        Some(Value::Array(
            schemes
                .iter()
                .map(|s| json!({ "url": format!("{s}://{host}{base}") }))
                .collect(),
        ))
    }

    fn security_scheme(&mut self, def: &Value, at: &str) -> Value {
        let mut out = Map::new();
        copy_extensions(def, &mut out);
        if let Some(d) = def.get("description") {
            out.insert("description".into(), d.clone());
        }
        match def.get("type").and_then(Value::as_str) {
            Some("basic") => {
                out.insert("type".into(), json!("http"));
                out.insert("scheme".into(), json!("basic"));
            }
            Some("apiKey") => {
                out.insert("type".into(), json!("apiKey"));
                for k in ["name", "in"] {
                    if let Some(v) = def.get(k) {
                        out.insert(k.into(), v.clone());
                    }
                }
            }
            Some("oauth2") => {
                out.insert("type".into(), json!("oauth2"));
                let scopes = def.get("scopes").cloned().unwrap_or_else(|| json!({}));
                let flow_name = match def.get("flow").and_then(Value::as_str) {
                    Some("implicit") => "implicit",
                    Some("password") => "password",
                    Some("application") => "clientCredentials",
                    Some("accessCode") => "authorizationCode",
                    other => {
                        self.warn(
                            &format!("{at}/flow"),
                            format!("unknown OAuth2 flow {other:?}; kept as `implicit`"),
                        );
                        "implicit"
                    }
                };
                let mut flow = Map::new();
                for k in ["authorizationUrl", "tokenUrl"] {
                    if let Some(v) = def.get(k) {
                        flow.insert(k.into(), v.clone());
                    }
                }
                flow.insert("scopes".into(), scopes);
                out.insert("flows".into(), json!({ flow_name: flow }));
            }
            other => {
                self.warn(
                    &format!("{at}/type"),
                    format!("unknown security scheme type {other:?}; copied unchanged"),
                );
                return fix_refs(def);
            }
        }
        Value::Object(out)
    }

    fn path_item(&mut self, item: &Value, at: &str) -> Value {
        let Some(item) = item.as_object() else {
            return item.clone();
        };
        let mut out = Map::new();
        // Path-level parameters: value parameters stay on the path item; body and form
        // ones become part of each operation's request body.
        let mut shared_body: Vec<Value> = Vec::new();
        if let Some(params) = item.get("parameters").and_then(Value::as_array) {
            let mut kept = Vec::new();
            for (i, p) in params.iter().enumerate() {
                let p_at = format!("{at}/parameters/{i}");
                let (resolved, kind) = self.param_kind(p);
                match kind {
                    ParamKind::Body | ParamKind::Form => shared_body.push(resolved.clone()),
                    ParamKind::Ref(r) => kept.push(json!({ "$ref": r })),
                    ParamKind::Value => kept.push(self.parameter(p, &p_at)),
                }
            }
            if !kept.is_empty() {
                out.insert("parameters".into(), Value::Array(kept));
            }
        }
        for (key, value) in item {
            if key == "parameters" {
                continue;
            }
            if is_method(key) {
                let op_at = pointer_join(at, key);
                out.insert(key.clone(), self.operation(value, &op_at, &shared_body));
            } else {
                out.insert(key.clone(), fix_refs(value));
            }
        }
        Value::Object(out)
    }

    /// A parameter with a `$ref` to `#/parameters/...` followed, and what it is.
    fn param_kind(&self, p: &Value) -> (Value, ParamKind) {
        let mut resolved = p.clone();
        let mut via_ref = None;
        for _ in 0..8 {
            let Some(r) = resolved.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let Some(target) = r.strip_prefix('#').and_then(|frag| self.doc.pointer(frag)) else {
                break;
            };
            if via_ref.is_none() {
                via_ref = Some(r.to_owned());
            }
            resolved = target.clone();
        }
        let kind = match resolved.get("in").and_then(Value::as_str) {
            Some("body") => ParamKind::Body,
            Some("formData") => ParamKind::Form,
            _ => match via_ref {
                Some(r) => ParamKind::Ref(retarget_ref(&r)),
                None => ParamKind::Value,
            },
        };
        (resolved, kind)
    }

    fn operation(&mut self, op: &Value, at: &str, shared_body: &[Value]) -> Value {
        let Some(src) = op.as_object() else {
            return op.clone();
        };
        let consumes = media_list(src.get("consumes")).or_else(|| self.global_consumes.clone());
        let produces = media_list(src.get("produces")).or_else(|| self.global_produces.clone());
        let mut out = Map::new();
        // Body and form parameters: the path item's first, the operation's win by name.
        let mut body: Option<Value> = None;
        let mut form: Vec<Value> = Vec::new();
        let mut params = Vec::new();
        let add_body_param = |p: Value, body: &mut Option<Value>, form: &mut Vec<Value>| match p
            .get("in")
            .and_then(Value::as_str)
        {
            Some("body") => *body = Some(p),
            _ => {
                let name = p.get("name").cloned();
                form.retain(|f| f.get("name") != name.as_ref());
                form.push(p);
            }
        };
        for p in shared_body {
            add_body_param(p.clone(), &mut body, &mut form);
        }
        let mut body_ref: Option<String> = None;
        if let Some(list) = src.get("parameters").and_then(Value::as_array) {
            for (i, p) in list.iter().enumerate() {
                let p_at = format!("{at}/parameters/{i}");
                let (resolved, kind) = self.param_kind(p);
                match kind {
                    ParamKind::Body => {
                        // A body defined once under `parameters` stays shared, as a
                        // `requestBodies` component.
                        body_ref = p
                            .get("$ref")
                            .and_then(Value::as_str)
                            .map(|r| r.replacen("#/parameters/", "#/components/requestBodies/", 1));
                        add_body_param(resolved, &mut body, &mut form);
                    }
                    ParamKind::Form => add_body_param(resolved, &mut body, &mut form),
                    ParamKind::Ref(r) => params.push(json!({ "$ref": r })),
                    ParamKind::Value => params.push(self.parameter(p, &p_at)),
                }
            }
        }
        for (key, value) in src {
            match key.as_str() {
                "parameters" | "consumes" | "produces" | "responses" => {}
                "schemes" => {
                    // Per-operation schemes have no 3.0 counterpart short of a copy of the
                    // servers; the gateway routes by path, so they change nothing here.
                    // Only worth a word when they differ from the document's.
                    if Some(value) != self.doc.get("schemes") {
                        self.warn(
                            &pointer_join(at, "schemes"),
                            "per-operation `schemes` differing from the document's are dropped (OpenAPI 3 has no equivalent)",
                        );
                    }
                }
                _ => {
                    out.insert(key.clone(), fix_refs(value));
                }
            }
        }
        if !params.is_empty() {
            out.insert("parameters".into(), Value::Array(params));
        }
        if let (Some(_), false) = (&body, form.is_empty()) {
            self.warn(
                &pointer_join(at, "parameters"),
                "both `in: body` and `in: formData` parameters; the form fields are dropped",
            );
        }
        if let Some(b) = body {
            let request = match body_ref {
                Some(r) if shared_body.is_empty() && src.get("consumes").is_none() => {
                    json!({ "$ref": r })
                }
                _ => self.body_request(&b, consumes.as_deref()),
            };
            out.insert("requestBody".into(), request);
        } else if !form.is_empty() {
            out.insert(
                "requestBody".into(),
                self.form_request(&form, consumes.as_deref(), at),
            );
        }
        let responses = src
            .get("responses")
            .and_then(Value::as_object)
            .map(|r| {
                r.iter()
                    .map(|(code, resp)| {
                        if code.starts_with("x-") {
                            (code.clone(), resp.clone())
                        } else {
                            (code.clone(), self.response(resp, produces.as_deref()))
                        }
                    })
                    .collect::<Map<String, Value>>()
            })
            .unwrap_or_default();
        // `responses` is required in 3.0; an empty map keeps the document well-formed.
        out.insert("responses".into(), Value::Object(responses));
        Value::Object(out)
    }

    /// An `in: body` parameter → a request body with one entry per consumed media type.
    fn body_request(&mut self, p: &Value, consumes: Option<&[String]>) -> Value {
        let mut out = Map::new();
        if let Some(d) = p.get("description") {
            out.insert("description".into(), d.clone());
        }
        if p.get("required").and_then(Value::as_bool) == Some(true) {
            out.insert("required".into(), json!(true));
        }
        copy_extensions(p, &mut out);
        if let Some(name) = p.get("name") {
            // Code generators name the body argument after it (swagger2openapi does the same).
            out.insert("x-codegen-request-body-name".into(), name.clone());
        }
        let body_schema = p.get("schema").map(schema).unwrap_or_else(|| json!({}));
        let types: Vec<String> = match consumes {
            Some(list) => list.iter().filter(|t| !is_form(t)).cloned().collect(),
            None => Vec::new(),
        };
        // A body schema under form types only (`consumes: [application/x-www-form-urlencoded]`
        // with an object `schema`) is the form's schema; no `consumes` at all means JSON.
        let types = match (types.is_empty(), consumes) {
            (false, _) => types,
            (true, Some(list)) if !list.is_empty() => list.to_vec(),
            (true, _) => vec!["application/json".to_owned()],
        };
        let content: Map<String, Value> = types
            .into_iter()
            .map(|t| (t, json!({ "schema": body_schema.clone() })))
            .collect();
        out.insert("content".into(), Value::Object(content));
        Value::Object(out)
    }

    /// `in: formData` parameters → one object schema, as urlencoded or multipart (a `file`
    /// field, or `consumes` naming multipart, means multipart).
    fn form_request(&mut self, fields: &[Value], consumes: Option<&[String]>, at: &str) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut encoding = Map::new();
        let mut has_file = false;
        for f in fields {
            let Some(name) = f.get("name").and_then(Value::as_str) else {
                continue;
            };
            if f.get("type").and_then(Value::as_str) == Some("file") {
                has_file = true;
            }
            let mut prop = self.param_schema(f, at);
            if let (Some(d), Some(obj)) = (f.get("description"), prop.as_object_mut()) {
                obj.insert("description".into(), d.clone());
            }
            properties.insert(name.to_owned(), prop);
            if f.get("required").and_then(Value::as_bool) == Some(true) {
                required.push(json!(name));
            }
            if let Some((style, explode)) = collection_style(f, "query") {
                encoding.insert(
                    name.to_owned(),
                    json!({ "style": style, "explode": explode }),
                );
            }
        }
        let mut form_schema = Map::new();
        form_schema.insert("type".into(), json!("object"));
        form_schema.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            form_schema.insert("required".into(), Value::Array(required));
        }
        let declared: Vec<String> = consumes
            .map(|c| c.iter().filter(|t| is_form(t)).cloned().collect())
            .unwrap_or_default();
        let types = if !declared.is_empty() {
            declared
        } else if has_file {
            vec!["multipart/form-data".to_owned()]
        } else {
            vec!["application/x-www-form-urlencoded".to_owned()]
        };
        let mut content = Map::new();
        for t in types {
            let mut media = Map::new();
            media.insert("schema".into(), Value::Object(form_schema.clone()));
            if !encoding.is_empty() {
                media.insert("encoding".into(), Value::Object(encoding.clone()));
            }
            content.insert(t, Value::Object(media));
        }
        let mut out = Map::new();
        if fields
            .iter()
            .any(|f| f.get("required").and_then(Value::as_bool) == Some(true))
        {
            out.insert("required".into(), json!(true));
        }
        out.insert("content".into(), Value::Object(content));
        Value::Object(out)
    }

    /// A query, path, header or cookie parameter: value keywords move into `schema`,
    /// `collectionFormat` becomes `style`/`explode`.
    fn parameter(&mut self, p: &Value, at: &str) -> Value {
        if let Some(r) = p.get("$ref").and_then(Value::as_str) {
            return json!({ "$ref": retarget_ref(r) });
        }
        let Some(src) = p.as_object() else {
            return p.clone();
        };
        let location = src.get("in").and_then(Value::as_str).unwrap_or("");
        let mut out = Map::new();
        for (key, value) in src {
            if SCHEMA_KEYS.contains(&key.as_str()) || key == "collectionFormat" {
                continue;
            }
            out.insert(key.clone(), fix_refs(value));
        }
        if location == "path" {
            out.insert("required".into(), json!(true));
        }
        out.insert("schema".into(), self.param_schema(p, at));
        if let Some((style, explode)) = collection_style(p, location) {
            let default_style = if matches!(location, "query" | "cookie") {
                "form"
            } else {
                "simple"
            };
            let default_explode = default_style == "form";
            if style != default_style {
                out.insert("style".into(), json!(style));
            }
            if explode != default_explode {
                out.insert("explode".into(), json!(explode));
            }
        }
        if p.get("collectionFormat").and_then(Value::as_str) == Some("tsv") {
            self.warn(
                &pointer_join(at, "collectionFormat"),
                "`collectionFormat: tsv` has no OpenAPI 3 style; treated as comma-separated",
            );
        }
        if p.get("collectionFormat").and_then(Value::as_str) == Some("multi")
            && !matches!(location, "query" | "formData")
        {
            self.warn(
                &pointer_join(at, "collectionFormat"),
                format!("`collectionFormat: multi` is only valid in query and form parameters, not `{location}`"),
            );
        }
        Value::Object(out)
    }

    /// The schema a non-body parameter's value keywords describe.
    fn param_schema(&mut self, p: &Value, at: &str) -> Value {
        let mut out = Map::new();
        for key in SCHEMA_KEYS {
            let Some(value) = p.get(*key) else { continue };
            match *key {
                "items" => {
                    if value.get("collectionFormat").is_some() {
                        self.warn(
                            &pointer_join(at, "items"),
                            "nested `collectionFormat` in `items` has no OpenAPI 3 equivalent; dropped",
                        );
                    }
                    let items = self.param_schema(value, &pointer_join(at, "items"));
                    let items = match value.get("$ref") {
                        Some(r) => json!({ "$ref": r.as_str().map(retarget_ref) }),
                        None => items,
                    };
                    out.insert("items".into(), items);
                }
                "type" if value == "file" => {
                    out.insert("type".into(), json!("string"));
                    out.insert("format".into(), json!("binary"));
                }
                "format" if p.get("type").and_then(Value::as_str) == Some("file") => {}
                _ => {
                    out.insert((*key).into(), value.clone());
                }
            }
        }
        if p.get("x-nullable").and_then(Value::as_bool) == Some(true) {
            out.insert("nullable".into(), json!(true));
        }
        Value::Object(out)
    }

    /// A response: `schema` and `examples` → `content` per produced media type; headers'
    /// value keywords → their `schema`.
    fn response(&mut self, r: &Value, produces: Option<&[String]>) -> Value {
        if let Some(reference) = r.get("$ref").and_then(Value::as_str) {
            return json!({ "$ref": retarget_ref(reference) });
        }
        let Some(src) = r.as_object() else {
            return r.clone();
        };
        let mut out = Map::new();
        for (key, value) in src {
            match key.as_str() {
                "schema" | "examples" | "headers" => {}
                _ => {
                    out.insert(key.clone(), fix_refs(value));
                }
            }
        }
        out.entry("description")
            .or_insert_with(|| Value::String(String::new()));
        if let Some(headers) = src.get("headers").and_then(Value::as_object) {
            let mut converted = Map::new();
            for (name, h) in headers {
                let mut header = Map::new();
                if let Some(d) = h.get("description") {
                    header.insert("description".into(), d.clone());
                }
                copy_extensions(h, &mut header);
                header.insert("schema".into(), self.param_schema(h, ""));
                converted.insert(name.clone(), Value::Object(header));
            }
            out.insert("headers".into(), Value::Object(converted));
        }
        let examples: BTreeMap<String, Value> = src
            .get("examples")
            .and_then(Value::as_object)
            .map(|e| e.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let body_schema = src.get("schema").map(schema);
        if body_schema.is_some() || !examples.is_empty() {
            let mut types: Vec<String> = produces.map(<[String]>::to_vec).unwrap_or_default();
            for t in examples.keys() {
                if !types.contains(t) {
                    types.push(t.clone());
                }
            }
            if types.is_empty() {
                types.push("application/json".to_owned());
            }
            let mut content = Map::new();
            for t in types {
                let mut media = Map::new();
                if let Some(s) = &body_schema {
                    media.insert("schema".into(), s.clone());
                }
                if let Some(example) = examples.get(&t) {
                    media.insert("example".into(), example.clone());
                }
                content.insert(t, Value::Object(media));
            }
            out.insert("content".into(), Value::Object(content));
        }
        Value::Object(out)
    }
}

enum ParamKind {
    Body,
    Form,
    Value,
    /// A `$ref` to a value parameter, rewritten for `components.parameters`.
    Ref(String),
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch"
    )
}

fn is_form(media_type: &str) -> bool {
    let t = media_type.to_ascii_lowercase();
    t.starts_with("application/x-www-form-urlencoded") || t.starts_with("multipart/form-data")
}

fn copy_extensions(src: &Value, out: &mut Map<String, Value>) {
    for (k, v) in src.as_object().into_iter().flatten() {
        if k.starts_with("x-") && k != "x-nullable" {
            out.insert(k.clone(), v.clone());
        }
    }
}

/// `collectionFormat` of an array parameter → (style, explode) for `location`.
fn collection_style(p: &Value, location: &str) -> Option<(&'static str, bool)> {
    if p.get("type").and_then(Value::as_str) != Some("array") {
        return None;
    }
    let format = p
        .get("collectionFormat")
        .and_then(Value::as_str)
        .unwrap_or("csv");
    let form_like = matches!(location, "query" | "formData" | "cookie");
    Some(match format {
        "multi" => ("form", true),
        "ssv" => ("spaceDelimited", false),
        "pipes" => ("pipeDelimited", false),
        // csv, tsv (no equivalent) and anything unknown.
        _ if form_like => ("form", false),
        _ => ("simple", false),
    })
}

/// A `$ref` retargeted from Swagger's sections to `components`.
#[must_use]
pub fn retarget_ref(r: &str) -> String {
    for (from, to) in [
        ("#/definitions/", "#/components/schemas/"),
        ("#/parameters/", "#/components/parameters/"),
        ("#/responses/", "#/components/responses/"),
    ] {
        if let Some(rest) = r.strip_prefix(from) {
            return format!("{to}{rest}");
        }
    }
    r.to_owned()
}

/// A copy of `v` with every `$ref` retargeted (for parts that hold no schemas to fix).
fn fix_refs(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => (k.clone(), Value::String(retarget_ref(r))),
                    _ => (k.clone(), fix_refs(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(fix_refs).collect()),
        other => other.clone(),
    }
}

/// A Swagger schema → an OpenAPI 3.0 schema: `$ref`s retargeted, `type: file` → binary
/// string, `x-nullable` → `nullable`, a string `discriminator` → `{propertyName}`.
#[must_use]
pub fn schema(v: &Value) -> Value {
    let Value::Object(map) = v else {
        return v.clone();
    };
    let mut out = Map::new();
    for (k, value) in map {
        match k.as_str() {
            "$ref" => {
                let r = value
                    .as_str()
                    .map_or_else(|| value.clone(), |r| json!(retarget_ref(r)));
                out.insert(k.clone(), r);
            }
            "x-nullable" => {
                if value.as_bool() == Some(true) {
                    out.insert("nullable".into(), json!(true));
                }
            }
            "type" if value == "file" => {
                out.insert("type".into(), json!("string"));
                out.insert("format".into(), json!("binary"));
            }
            "format" if map.get("type").and_then(Value::as_str) == Some("file") => {}
            "discriminator" if value.is_string() => {
                out.insert("discriminator".into(), json!({ "propertyName": value }));
            }
            // Keywords whose values are schemas, or maps/lists of them.
            "items" | "additionalProperties" | "not" => {
                out.insert(k.clone(), schema(value));
            }
            "allOf" | "anyOf" | "oneOf" => {
                let list = value
                    .as_array()
                    .map(|l| Value::Array(l.iter().map(schema).collect()))
                    .unwrap_or_else(|| value.clone());
                out.insert(k.clone(), list);
            }
            "properties" | "patternProperties" | "definitions" => {
                let props = value
                    .as_object()
                    .map(|p| Value::Object(p.iter().map(|(n, s)| (n.clone(), schema(s))).collect()))
                    .unwrap_or_else(|| value.clone());
                out.insert(k.clone(), props);
            }
            _ => {
                out.insert(k.clone(), value.clone());
            }
        }
    }
    // OpenAPI 3.0 forbids siblings of `$ref` (they are ignored); Swagger documents often
    // carry a `description` there. Dropping nothing: 3.0 readers ignore them.
    Value::Object(out)
}
