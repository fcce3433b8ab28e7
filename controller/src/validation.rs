//! OpenAPI operations → the filter's request validation contract: a [`RequestSpec`] per
//! operation and one shared schema [`Program`] for the whole configuration
//! (`docs/validation.md`).
//!
//! Each OpenAPI document is offered whole to a [`Compiler`] under its own base URI, and
//! every schema is compiled by a JSON pointer into that document, so `$ref`s anywhere in
//! the document (and recursive schemas) resolve, and compile errors point into the document
//! as written. Documents of one dialect share a compiler; the programs of the (at most
//! two) dialects are concatenated at the end.

use std::collections::HashMap;

use gatehouse_filter::config::{
    Api, BodySpec, MediaSpec, Operation, RequestSpec, ResponseMode, ResponseSpec, ValidationMode,
};
use gatehouse_filter::params::{Location, ParamSpec, Scalar, Shape, Style};
use gatehouse_filter::schema::{Compiler, Dialect, Direction, NodeId, Options, Program};
use serde_json::Value;

use crate::error::pointer_join;
use crate::openapi::DocError;
use crate::resource::{UnknownQueryParameters, ValidationSettings};

/// Longest chain of `$ref`s followed to reach a parameter, request body or schema.
const MAX_REF_HOPS: usize = 32;
/// Deepest schema nesting looked at to derive a parameter's shape.
const MAX_SHAPE_DEPTH: usize = 16;

fn err(pointer: impl Into<String>, message: impl Into<String>) -> DocError {
    DocError {
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// The schema dialect an OpenAPI document's schemas are written in.
pub fn dialect(doc: &Value) -> Result<Dialect, DocError> {
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if version.starts_with("3.0") {
        return Ok(Dialect::OpenApi30);
    }
    match doc.get("jsonSchemaDialect") {
        None => Ok(Dialect::Draft2020_12),
        Some(Value::String(uri))
            if uri.trim_end_matches('#') == "https://json-schema.org/draft/2020-12/schema"
                || uri.starts_with("https://spec.openapis.org/oas/3.1/dialect/") =>
        {
            Ok(Dialect::Draft2020_12)
        }
        Some(other) => Err(err(
            "/jsonSchemaDialect",
            format!(
                "unsupported schema dialect {other}: only JSON Schema 2020-12 (and the OpenAPI \
                 3.1 base dialect built on it) can be validated"
            ),
        )),
    }
}

/// Compiles the request side of many documents into one program.
#[derive(Debug)]
pub struct RequestCompiler<'a> {
    groups: Vec<(Dialect, Compiler<'a>)>,
}

impl Default for RequestCompiler<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// One document registered with a [`RequestCompiler`].
#[derive(Debug, Clone)]
pub struct DocHandle<'a> {
    group: usize,
    uri: String,
    doc: &'a Value,
}

impl DocHandle<'_> {
    /// Which dialect group (and so which program offset) the document belongs to.
    #[must_use]
    pub fn group(&self) -> usize {
        self.group
    }
}

impl<'a> RequestCompiler<'a> {
    #[must_use]
    pub fn new() -> Self {
        Self { groups: Vec::new() }
    }

    /// Offers a document under `uri` (a URI without fragment, unique per document).
    pub fn add_document(&mut self, uri: &str, doc: &'a Value) -> Result<DocHandle<'a>, DocError> {
        let dialect = dialect(doc)?;
        let group = match self.groups.iter().position(|(d, _)| *d == dialect) {
            Some(g) => g,
            None => {
                let mut compiler = Compiler::new(Options {
                    dialect,
                    direction: Direction::Request,
                    assert_formats: true,
                });
                compiler.set_direction(Direction::Request);
                self.groups.push((dialect, compiler));
                self.groups.len() - 1
            }
        };
        if let Some((_, compiler)) = self.groups.get_mut(group) {
            compiler.add_document(uri, doc);
        }
        Ok(DocHandle {
            group,
            uri: uri.to_owned(),
            doc,
        })
    }

    /// Fills in `request` of every operation of `api` whose validation mode is not `off`.
    /// `pointers` gives, per operation, the operation object's pointer in the document.
    pub fn compile_api(
        &mut self,
        handle: &DocHandle<'a>,
        api: &mut Api,
        pointers: &[String],
        settings: &ValidationSettings,
    ) -> Vec<DocError> {
        let mut errors = Vec::new();
        let defaults = api.defaults.validation.clone();
        for (op, pointer) in api.operations.iter_mut().zip(pointers) {
            let policy = op.policies.validation.as_ref().or(defaults.as_ref());
            let mode = policy.map_or(ValidationMode::Off, |v| v.mode);
            let responses = policy.map_or(ResponseMode::Off, |v| v.responses);
            op.request = None;
            if mode != ValidationMode::Off {
                match self.operation(handle, op, pointer, settings) {
                    Ok(spec) => op.request = spec,
                    Err(mut e) => errors.append(&mut e),
                }
            }
            if responses == ResponseMode::Report {
                match self.responses(handle, pointer) {
                    Ok(list) if list.is_empty() => {}
                    Ok(list) => {
                        op.request
                            .get_or_insert_with(RequestSpec::default)
                            .responses = list
                    }
                    Err(mut e) => errors.append(&mut e),
                }
            }
        }
        errors
    }

    fn operation(
        &mut self,
        handle: &DocHandle<'a>,
        op: &Operation,
        pointer: &str,
        settings: &ValidationSettings,
    ) -> Result<Option<RequestSpec>, Vec<DocError>> {
        let doc = handle.doc;
        let mut errors = Vec::new();
        let Some(operation) = doc.pointer(pointer) else {
            return Err(vec![err(pointer, "operation not found")]);
        };
        let path_item_pointer = pointer_join("/paths", &op.path);

        // Path-item parameters first, then the operation's, which win by (name, in).
        let mut declared: Vec<(String, &'a Value)> = Vec::new();
        let mut by_key: HashMap<(String, String), usize> = HashMap::new();
        for list_pointer in [
            format!("{path_item_pointer}/parameters"),
            format!("{pointer}/parameters"),
        ] {
            let Some(list) = doc.pointer(&list_pointer) else {
                continue;
            };
            let Some(list) = list.as_array() else {
                errors.push(err(&list_pointer, "parameters must be a list"));
                continue;
            };
            for i in 0..list.len() {
                let at = format!("{list_pointer}/{i}");
                let (resolved, param) = match resolve(doc, &at) {
                    Ok(found) => found,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                let name = param.get("name").and_then(Value::as_str).unwrap_or("");
                let location = param.get("in").and_then(Value::as_str).unwrap_or("");
                let key = (name.to_owned(), location.to_owned());
                match by_key.get(&key) {
                    Some(&index) => {
                        if let Some(slot) = declared.get_mut(index) {
                            *slot = (resolved, param);
                        }
                    }
                    None => {
                        by_key.insert(key, declared.len());
                        declared.push((resolved, param));
                    }
                }
            }
        }

        let mut parameters = Vec::with_capacity(declared.len());
        for (at, param) in declared {
            match self.parameter(handle, &at, param) {
                Ok(Some(spec))
                    if spec.location == Location::Path
                        && !op.path.contains(&format!("{{{}}}", spec.name)) =>
                {
                    // It could never be present: every request would miss it.
                    errors.push(err(
                        pointer_join(&at, "name"),
                        format!(
                            "path parameter `{}` is not in the path template `{}`",
                            spec.name, op.path
                        ),
                    ));
                }
                Ok(Some(spec)) => parameters.push(spec),
                Ok(None) => {}
                Err(mut e) => errors.append(&mut e),
            }
        }

        let body = match operation.get("requestBody") {
            None => None,
            Some(_) => match self.body(handle, pointer, operation, settings) {
                Ok(body) => Some(body),
                Err(mut e) => {
                    errors.append(&mut e);
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let spec = RequestSpec {
            parameters,
            reject_unknown_query: settings.unknown_query_parameters
                == UnknownQueryParameters::Reject,
            body,
            responses: Vec::new(),
        };
        if spec == RequestSpec::default() {
            // Nothing to check: the filter pays nothing for this operation.
            return Ok(None);
        }
        Ok(Some(spec))
    }

    fn parameter(
        &mut self,
        handle: &DocHandle<'a>,
        at: &str,
        param: &'a Value,
    ) -> Result<Option<ParamSpec>, Vec<DocError>> {
        let doc = handle.doc;
        let Some(obj) = param.as_object() else {
            return Err(vec![err(at, "a parameter must be a mapping")]);
        };
        let name = match obj.get("name") {
            Some(Value::String(n)) if !n.is_empty() => n.clone(),
            _ => return Err(vec![err(at, "parameter `name` must be a non-empty string")]),
        };
        let location = match obj.get("in").and_then(Value::as_str) {
            Some("path") => Location::Path,
            Some("query") => Location::Query,
            Some("header") => Location::Header,
            Some("cookie") => Location::Cookie,
            _ => {
                return Err(vec![err(
                    pointer_join(at, "in"),
                    "`in` must be one of path, query, header, cookie",
                )])
            }
        };
        let lower = name.to_ascii_lowercase();
        // OpenAPI: header parameters named Accept or Content-Type are ignored (content
        // negotiation covers them).
        if location == Location::Header && (lower == "accept" || lower == "content-type") {
            return Ok(None);
        }
        let mut errors = Vec::new();
        let style = match obj.get("style") {
            None => None,
            Some(value) => match serde_json::from_value::<Style>(value.clone()) {
                Ok(style) if style_allowed(location, style) => Some(style),
                Ok(_) => {
                    errors.push(err(
                        pointer_join(at, "style"),
                        format!(
                            "style {value} is not allowed for {} parameters",
                            location.as_str()
                        ),
                    ));
                    None
                }
                Err(_) => {
                    errors.push(err(
                        pointer_join(at, "style"),
                        format!("unknown style {value}"),
                    ));
                    None
                }
            },
        };
        let explode = match obj.get("explode") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                errors.push(err(pointer_join(at, "explode"), "must be a boolean"));
                None
            }
        };
        let default_style = match location {
            Location::Path | Location::Header => Style::Simple,
            Location::Query | Location::Cookie => Style::Form,
        };
        let effective_style = style.unwrap_or(default_style);
        let style = style.filter(|s| *s != default_style);
        let explode = explode.filter(|e| *e != (effective_style == Style::Form));
        let required = location == Location::Path
            || obj.get("required").and_then(Value::as_bool) == Some(true);
        let allow_empty_value = location == Location::Query
            && obj.get("allowEmptyValue").and_then(Value::as_bool) == Some(true);

        let (shape, schema, password) = match obj.get("schema") {
            Some(schema_value) => {
                let schema_at = pointer_join(at, "schema");
                let resolved = deref(doc, schema_value);
                let password = resolved.get("format").and_then(Value::as_str) == Some("password");
                let shape = shape_of(doc, schema_value);
                match self.compile(handle, &schema_at) {
                    Ok(id) => (shape, Some(id), password),
                    Err(e) => {
                        errors.push(e);
                        (shape, None, password)
                    }
                }
            }
            // `content` parameters (a JSON-encoded value): presence only, for now.
            None => (Shape::default(), None, false),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let sensitive = (location == Location::Header
            && matches!(
                lower.as_str(),
                "authorization" | "proxy-authorization" | "cookie"
            ))
            || password
            || obj.get("x-gatehouse-sensitive").and_then(Value::as_bool) == Some(true);
        Ok(Some(ParamSpec {
            name,
            location,
            required,
            style,
            explode,
            allow_empty_value,
            shape,
            sensitive,
            schema,
        }))
    }

    fn body(
        &mut self,
        handle: &DocHandle<'a>,
        op_pointer: &str,
        operation: &Value,
        settings: &ValidationSettings,
    ) -> Result<BodySpec, Vec<DocError>> {
        let doc = handle.doc;
        let (at, body) =
            resolve(doc, &pointer_join(op_pointer, "requestBody")).map_err(|e| vec![e])?;
        let Some(obj) = body.as_object() else {
            return Err(vec![err(at, "a request body must be a mapping")]);
        };
        let required = obj.get("required").and_then(Value::as_bool) == Some(true);
        let max_bytes = match max_bytes_extension(obj.get("x-gatehouse-max-body-bytes"), &at)? {
            Some(n) => Some(n),
            None => {
                match max_bytes_extension(operation.get("x-gatehouse-max-body-bytes"), op_pointer)?
                {
                    Some(n) => Some(n),
                    None => settings.max_body_bytes,
                }
            }
        };
        let content_at = pointer_join(&at, "content");
        let Some(content) = obj.get("content").and_then(Value::as_object) else {
            return Err(vec![err(content_at, "a request body needs `content`")]);
        };
        let mut errors = Vec::new();
        let mut media: Vec<(u8, MediaSpec)> = Vec::new();
        for (key, value) in content {
            let media_type = normalize_media_type(key);
            let media_at = pointer_join(&content_at, key);
            let json = is_json(&media_type);
            let form = media_type == "application/x-www-form-urlencoded";
            let mut spec = MediaSpec {
                media_type: media_type.clone(),
                schema: None,
                form: Vec::new(),
            };
            if let Some(schema_value) = value.get("schema").filter(|_| json || form) {
                match self.compile(handle, &pointer_join(&media_at, "schema")) {
                    Ok(id) => spec.schema = Some(id),
                    Err(e) => errors.push(e),
                }
                if form {
                    spec.form = form_fields(doc, schema_value);
                }
            }
            let rank = if media_type == "*/*" {
                2
            } else if media_type.contains('*') {
                1
            } else {
                0
            };
            media.push((rank, spec));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        media.sort_by_key(|(rank, _)| *rank);
        Ok(BodySpec {
            required,
            content: media.into_iter().map(|(_, m)| m).collect(),
            max_bytes,
        })
    }

    /// The declared responses of the operation at `op_pointer`, for response validation
    /// (`responses: report`): status keys as written, media types ordered like request
    /// bodies, JSON schemas compiled in the response direction (`writeOnly` properties
    /// must be absent).
    fn responses(
        &mut self,
        handle: &DocHandle<'a>,
        op_pointer: &str,
    ) -> Result<Vec<ResponseSpec>, Vec<DocError>> {
        let doc = handle.doc;
        let at = pointer_join(op_pointer, "responses");
        let Some(map) = doc.pointer(&at) else {
            return Ok(Vec::new());
        };
        let Some(map) = map.as_object() else {
            return Err(vec![err(at, "responses must be a mapping")]);
        };
        let mut errors = Vec::new();
        let mut out = Vec::new();
        for key in map.keys() {
            if key.starts_with("x-") {
                continue;
            }
            let key_at = pointer_join(&at, key);
            if !gatehouse_filter::responses::status_key_valid(key) {
                errors.push(err(
                    &key_at,
                    format!("{key:?} is not a status code, a range like 2XX or default"),
                ));
                continue;
            }
            let (resolved, response) = match resolve(doc, &key_at) {
                Ok(found) => found,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let mut content = Vec::new();
            if let Some(media) = response.get("content").and_then(Value::as_object) {
                let content_at = pointer_join(&resolved, "content");
                for (raw, value) in media {
                    let media_type = normalize_media_type(raw);
                    let mut spec = MediaSpec {
                        media_type: media_type.clone(),
                        schema: None,
                        form: Vec::new(),
                    };
                    if is_json(&media_type) && value.get("schema").is_some() {
                        let schema_at = pointer_join(&pointer_join(&content_at, raw), "schema");
                        match self.compile_in(handle, &schema_at, Direction::Response) {
                            Ok(id) => spec.schema = Some(id),
                            Err(e) => errors.push(e),
                        }
                    }
                    let rank = u8::from(media_type.contains('*')) + u8::from(media_type == "*/*");
                    content.push((rank, spec));
                }
            }
            content.sort_by_key(|(rank, _)| *rank);
            out.push(ResponseSpec {
                status: key.clone(),
                content: content.into_iter().map(|(_, m)| m).collect(),
            });
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// [`Self::compile`] in another direction than requests'.
    fn compile_in(
        &mut self,
        handle: &DocHandle<'a>,
        pointer: &str,
        direction: Direction,
    ) -> Result<NodeId, DocError> {
        if let Some((_, compiler)) = self.groups.get_mut(handle.group) {
            compiler.set_direction(direction);
        }
        let result = self.compile(handle, pointer);
        if let Some((_, compiler)) = self.groups.get_mut(handle.group) {
            compiler.set_direction(Direction::Request);
        }
        result
    }

    /// Compiles the schema at `pointer` (a JSON pointer into the document).
    fn compile(&mut self, handle: &DocHandle<'a>, pointer: &str) -> Result<NodeId, DocError> {
        let Some((_, compiler)) = self.groups.get_mut(handle.group) else {
            return Err(err(pointer, "internal: unknown document"));
        };
        let uri = format!("{}#{}", handle.uri, pointer.replace('%', "%25"));
        compiler.compile_ref(&uri).map_err(|e| {
            if e.document == handle.uri && !e.pointer.is_empty() {
                err(e.pointer, e.message)
            } else if e.document == handle.uri {
                err(pointer, e.message)
            } else {
                err(pointer, format!("{} (in {})", e.message, e.document))
            }
        })
    }

    /// The program holding every root compiled so far, and per dialect group the offset
    /// to add to the roots it returned. `None` when nothing was compiled.
    pub fn finish(self) -> Result<(Option<Program>, Vec<u32>), String> {
        let mut programs = Vec::new();
        for (_, compiler) in self.groups {
            programs.push(compiler.finish().map_err(|e| e.to_string())?);
        }
        let (program, offsets) = merge_programs(programs)?;
        Ok((
            if program.is_empty() {
                None
            } else {
                Some(program)
            },
            offsets,
        ))
    }
}

/// Adds `offset` to every schema root an API's request specs refer to.
pub fn shift_roots(api: &mut Api, offset: u32) {
    if offset == 0 {
        return;
    }
    for op in &mut api.operations {
        let Some(request) = &mut op.request else {
            continue;
        };
        for p in &mut request.parameters {
            if let Some(id) = &mut p.schema {
                *id += offset;
            }
        }
        if let Some(body) = &mut request.body {
            for m in &mut body.content {
                if let Some(id) = &mut m.schema {
                    *id += offset;
                }
            }
        }
        for m in request.responses.iter_mut().flat_map(|r| &mut r.content) {
            if let Some(id) = &mut m.schema {
                *id += offset;
            }
        }
    }
}

fn style_allowed(location: Location, style: Style) -> bool {
    match location {
        Location::Path => matches!(style, Style::Simple | Style::Label | Style::Matrix),
        Location::Query => matches!(
            style,
            Style::Form | Style::SpaceDelimited | Style::PipeDelimited | Style::DeepObject
        ),
        Location::Header => style == Style::Simple,
        Location::Cookie => style == Style::Form,
    }
}

fn max_bytes_extension(value: Option<&Value>, at: &str) -> Result<Option<u32>, Vec<DocError>> {
    match value {
        None => Ok(None),
        Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(vec![err(
                pointer_join(at, "x-gatehouse-max-body-bytes"),
                "must be a positive integer below 2^32",
            )]),
        },
    }
}

/// Lower case, parameters (`; charset=utf-8`) and white space removed.
#[must_use]
pub fn normalize_media_type(raw: &str) -> String {
    raw.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// `application/json` and every `+json` type.
#[must_use]
pub fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// Follows local `$ref`s from the node at `pointer`; returns the final pointer and node.
fn resolve<'v>(doc: &'v Value, pointer: &str) -> Result<(String, &'v Value), DocError> {
    let mut at = pointer.to_owned();
    let mut node = doc
        .pointer(&at)
        .ok_or_else(|| err(&at, "no such location"))?;
    for _ in 0..MAX_REF_HOPS {
        let Some(reference) = node.get("$ref") else {
            return Ok((at, node));
        };
        let ref_at = pointer_join(&at, "$ref");
        let Some(target) = reference.as_str().and_then(|r| r.strip_prefix('#')) else {
            return Err(err(
                ref_at,
                "only references within the document (`#/...`) are supported here",
            ));
        };
        let target = percent_decode(target);
        node = doc
            .pointer(&target)
            .ok_or_else(|| err(&ref_at, format!("cannot resolve {reference}")))?;
        at = target;
    }
    Err(err(at, "too many chained `$ref`s"))
}

/// The schema a (local) `$ref` chain ends at; the node itself when it is not a reference
/// or the reference does not resolve (the compiler reports that).
fn deref<'v>(doc: &'v Value, mut node: &'v Value) -> &'v Value {
    for _ in 0..MAX_REF_HOPS {
        let Some(target) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        else {
            return node;
        };
        match doc.pointer(&percent_decode(target)) {
            Some(next) => node = next,
            None => return node,
        }
    }
    node
}

fn percent_decode(s: &str) -> String {
    gatehouse_filter::params::form_decode(&s.replace('+', "%2B")).unwrap_or_else(|| s.to_owned())
}

/// JSON types a schema admits, as far as it says (`null` left out). Empty: unknown.
fn types_of(doc: &Value, schema: &Value, depth: usize) -> Vec<String> {
    if depth > MAX_SHAPE_DEPTH {
        return Vec::new();
    }
    let schema = deref(doc, schema);
    let mut out: Vec<String> = Vec::new();
    fn add(out: &mut Vec<String>, t: &str) {
        if t != "null" && !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) => add(&mut out, t),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .for_each(|t| add(&mut out, t)),
        _ => {}
    }
    if !out.is_empty() {
        return out;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            for branch in list {
                for t in types_of(doc, branch, depth + 1) {
                    add(&mut out, &t);
                }
            }
        }
    }
    if let Some(list) = schema.get("allOf").and_then(Value::as_array) {
        if let Some(found) = list
            .iter()
            .map(|b| types_of(doc, b, depth + 1))
            .find(|t| !t.is_empty())
        {
            found.iter().for_each(|t| add(&mut out, t));
        }
    }
    let literals = schema
        .get("enum")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .chain(schema.get("const").cloned());
    for value in literals {
        match value {
            Value::Bool(_) => add(&mut out, "boolean"),
            Value::Number(n) if n.is_i64() || n.is_u64() => add(&mut out, "integer"),
            Value::Number(_) => add(&mut out, "number"),
            Value::String(_) => add(&mut out, "string"),
            _ => {}
        }
    }
    if out.is_empty() {
        if schema.get("items").is_some() || schema.get("prefixItems").is_some() {
            add(&mut out, "array");
        } else if schema.get("properties").is_some() || schema.get("additionalProperties").is_some()
        {
            add(&mut out, "object");
        }
    }
    out
}

fn scalar_of(doc: &Value, schema: Option<&Value>, depth: usize) -> Scalar {
    let Some(schema) = schema else {
        return Scalar::String;
    };
    let types = types_of(doc, schema, depth);
    let scalar = |t: &str| match t {
        "integer" => Some(Scalar::Integer),
        "number" => Some(Scalar::Number),
        "boolean" => Some(Scalar::Boolean),
        "string" => Some(Scalar::String),
        _ => None,
    };
    match types.as_slice() {
        [] => Scalar::String,
        [one] => scalar(one).unwrap_or(Scalar::Any),
        many if many.len() == 2
            && many.iter().any(|t| t == "integer")
            && many.iter().any(|t| t == "number") =>
        {
            Scalar::Number
        }
        _ => Scalar::Any,
    }
}

/// What a parameter's schema makes of its value.
fn shape_of(doc: &Value, schema: &Value) -> Shape {
    let types = types_of(doc, schema, 0);
    let resolved = deref(doc, schema);
    if types.len() == 1 && types.iter().any(|t| t == "array") {
        return Shape::Array {
            items: scalar_of(doc, resolved.get("items"), 1),
        };
    }
    if types.len() == 1 && types.iter().any(|t| t == "object") {
        let mut properties: Vec<(String, Scalar)> = resolved
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .map(|(k, v)| (k.clone(), scalar_of(doc, Some(v), 1)))
                    .collect()
            })
            .unwrap_or_default();
        properties.sort_by(|a, b| a.0.cmp(&b.0));
        let additional = match resolved.get("additionalProperties") {
            Some(v) if v.is_object() => scalar_of(doc, Some(v), 1),
            _ => Scalar::String,
        };
        return Shape::Object {
            properties,
            additional,
        };
    }
    Shape::Scalar {
        scalar: scalar_of(doc, Some(schema), 0),
    }
}

/// The shape of each property of a form body's (object) schema.
fn form_fields(doc: &Value, schema: &Value) -> Vec<(String, Shape)> {
    let resolved = deref(doc, schema);
    let mut fields: Vec<(String, Shape)> = resolved
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(k, v)| {
                    let shape = match shape_of(doc, v) {
                        // Nested objects in a form body are not decoded; keep strings.
                        Shape::Object { .. } => Shape::default(),
                        other => other,
                    };
                    (k.clone(), shape)
                })
                .collect()
        })
        .unwrap_or_default();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields
}

/// Concatenates programs; returns the offset of each one's nodes in the result.
///
/// `Program`'s arena is private to the filter crate, so this works on its serialized form:
/// every node index in a node's keywords (and in the dynamic-anchor table) is shifted.
fn merge_programs(programs: Vec<Program>) -> Result<(Program, Vec<u32>), String> {
    if programs.len() <= 1 {
        let offsets = vec![0; programs.len()];
        return Ok((programs.into_iter().next().unwrap_or_default(), offsets));
    }
    let mut nodes: Vec<Value> = Vec::new();
    let mut dynamic: Vec<Value> = Vec::new();
    let mut offsets = Vec::new();
    for program in programs {
        let value = serde_json::to_value(&program).map_err(|e| e.to_string())?;
        let offset = u32::try_from(nodes.len()).map_err(|_| "program too large".to_owned())?;
        let res_offset = dynamic.len() as u64;
        offsets.push(offset);
        if let Some(list) = value.get("n").and_then(Value::as_array) {
            for node in list {
                let mut node = node.clone();
                if let Some(kws) = node.get_mut("k").and_then(Value::as_array_mut) {
                    for kw in kws {
                        shift_keyword(kw, offset);
                    }
                }
                if let Some(r) = node.get_mut("r") {
                    if let Some(n) = r.as_u64() {
                        *r = Value::from(n + res_offset);
                    }
                }
                nodes.push(node);
            }
        }
        if let Some(list) = value.get("d").and_then(Value::as_array) {
            for table in list {
                let mut table = table.clone();
                if let Some(entries) = table.as_array_mut() {
                    for entry in entries {
                        if let Some(id) = entry.get_mut(1) {
                            shift_id(id, offset);
                        }
                    }
                }
                dynamic.push(table);
            }
        }
    }
    let mut merged = serde_json::Map::new();
    merged.insert("n".into(), Value::Array(nodes));
    if !dynamic.is_empty() {
        merged.insert("d".into(), Value::Array(dynamic));
    }
    let program: Program =
        serde_json::from_value(Value::Object(merged)).map_err(|e| e.to_string())?;
    program.check()?;
    Ok((program, offsets))
}

fn shift_id(id: &mut Value, offset: u32) {
    if let Some(n) = id.as_u64() {
        *id = Value::from(n + u64::from(offset));
    }
}

fn shift_ids(list: Option<&mut Value>, offset: u32) {
    if let Some(list) = list.and_then(Value::as_array_mut) {
        list.iter_mut().for_each(|id| shift_id(id, offset));
    }
}

/// `[[key, id], ...]`: shifts the ids.
fn shift_pairs(list: Option<&mut Value>, offset: u32) {
    if let Some(list) = list.and_then(Value::as_array_mut) {
        for pair in list {
            if let Some(id) = pair.get_mut(1) {
                shift_id(id, offset);
            }
        }
    }
}

/// Shifts the node indices of one serialized keyword (`schema::program::Kw`).
fn shift_keyword(kw: &mut Value, offset: u32) {
    let Some(obj) = kw.as_object_mut() else {
        return; // unit keywords: "f", "nl", "uq", "ro", "wo"
    };
    for (key, value) in obj.iter_mut() {
        match key.as_str() {
            "pn" | "not" | "$" | "ui" | "up" => shift_id(value, offset),
            "all" | "any" | "one" => shift_ids(Some(value), offset),
            "ds" => shift_pairs(Some(value), offset),
            "i" => {
                shift_ids(value.get_mut("p"), offset);
                if let Some(id) = value.get_mut("r") {
                    shift_id(id, offset);
                }
            }
            "ct" => {
                if let Some(id) = value.get_mut("s") {
                    shift_id(id, offset);
                }
            }
            "p" => {
                shift_pairs(value.get_mut("p"), offset);
                shift_pairs(value.get_mut("r"), offset);
                if let Some(id) = value.get_mut("a") {
                    shift_id(id, offset);
                }
            }
            "if" => {
                for k in ["i", "t", "e"] {
                    if let Some(id) = value.get_mut(k) {
                        shift_id(id, offset);
                    }
                }
            }
            "$d" => {
                if let Some(id) = value.get_mut("t") {
                    shift_id(id, offset);
                }
            }
            "dc" => {
                shift_pairs(value.get_mut("m"), offset);
                shift_ids(value.get_mut("b"), offset);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "validation_tests.rs"]
mod tests;
