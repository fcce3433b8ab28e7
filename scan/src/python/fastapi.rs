//! FastAPI: operations as FastAPI itself would document them, so a scanned document and
//! `app.openapi()` can be compared (docs/import-and-scan.md lists the remaining differences).
//!
//! - Paths: include prefixes + `APIRouter(prefix=...)` + the decorator's path, concatenated.
//! - Tags: include tags, then router tags, then the decorator's.
//! - operationId: `operation_id=`, else FastAPI's generated one: the function name and the
//!   full path with every non-word character replaced by `_`, then `_` and the method.
//! - Parameters: path parameters by name, `Query`/`Path`/`Header`/`Cookie` markers (as
//!   default or in `Annotated`), pydantic models and other non-scalar types from the body,
//!   everything else from the query; `Depends(f)` is followed into `f`'s parameters.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::ast::{Call, Expr, FuncDef, Param};
use super::types::{default_value, Ty, Types};
use super::{Decl, Graph, Key, Kind, Project, Router};
use crate::text::{cleandoc, field_title, py_title, template_params};
use crate::{Found, Framework, Gap, Loc, Route};

#[derive(Debug, Clone, Default)]
struct Ctx {
    prefix: String,
    tags: Vec<String>,
    /// `dependencies=[Depends(f)]` collected on the way, with the module they are written in.
    deps: Vec<(String, Expr)>,
}

const MAX_DEPTH: usize = 32;

pub fn collect(
    project: &Project,
    g: &Graph,
    root: &Router,
    types: &mut Types<'_>,
    found: &mut Found,
    reached: &mut BTreeSet<Key>,
) {
    if root.kind == Kind::FastApi && found.info.is_empty() {
        for key in ["title", "version", "description"] {
            if let Some(v) = root.call.kw(key).and_then(Expr::literal) {
                found.info.insert(key.into(), v);
            }
        }
        if !found.info.contains_key("title") {
            found.info.insert("title".into(), json!("FastAPI"));
        }
        if !found.info.contains_key("version") {
            found.info.insert("version".into(), json!("0.1.0"));
        }
    }
    let mut stack = Vec::new();
    walk(
        project,
        g,
        &root.key,
        Ctx::default(),
        types,
        found,
        reached,
        &mut stack,
    );
}

#[allow(clippy::too_many_arguments)]
fn walk(
    project: &Project,
    g: &Graph,
    key: &Key,
    ctx: Ctx,
    types: &mut Types<'_>,
    found: &mut Found,
    reached: &mut BTreeSet<Key>,
    stack: &mut Vec<Key>,
) {
    let Some(router) = g.routers.get(key) else {
        return;
    };
    if stack.contains(key) || stack.len() > MAX_DEPTH {
        found.gaps.push(Gap::at(
            &project.loc(&key.0, router.line),
            "router included in itself (a cycle); not followed",
        ));
        return;
    }
    reached.insert(key.clone());
    stack.push(key.clone());
    let mut ctx = ctx;
    match router.call.kw("prefix") {
        Some(Expr::Str(p)) => ctx.prefix.push_str(p),
        Some(_) => found.gaps.push(Gap::at(
            &project.loc(&key.0, router.line),
            "router prefix is not a literal; its routes are left out",
        )),
        None => {}
    }
    if matches!(router.call.kw("prefix"), Some(e) if !matches!(e, Expr::Str(_))) {
        stack.pop();
        return;
    }
    ctx.tags.extend(
        router
            .call
            .kw("tags")
            .and_then(Expr::str_list)
            .unwrap_or_default(),
    );
    if let Some(Expr::List(deps)) = router.call.kw("dependencies") {
        ctx.deps
            .extend(deps.iter().map(|d| (key.0.clone(), d.clone())));
    }
    for d in g.decls.iter().filter(|d| &d.router == key) {
        emit(project, d, &ctx, types, found);
    }
    for inc in g.includes.iter().filter(|i| &i.parent == key) {
        let mut child = ctx.clone();
        match inc.call.kw("prefix") {
            Some(Expr::Str(p)) => child.prefix.push_str(p),
            Some(_) => {
                found.gaps.push(Gap::at(
                    &project.loc(&inc.module, inc.line),
                    "include_router prefix is not a literal; the router's routes are left out",
                ));
                continue;
            }
            None => {}
        }
        child.tags.extend(
            inc.call
                .kw("tags")
                .and_then(Expr::str_list)
                .unwrap_or_default(),
        );
        if let Some(Expr::List(deps)) = inc.call.kw("dependencies") {
            child
                .deps
                .extend(deps.iter().map(|d| (inc.module.clone(), d.clone())));
        }
        walk(project, g, &inc.child, child, types, found, reached, stack);
    }
    stack.pop();
}

/// FastAPI's `generate_unique_id`.
#[must_use]
pub fn operation_id(name: &str, path: &str, method: &str) -> String {
    let raw: String = format!("{name}{path}")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{raw}_{method}")
}

/// `{name:path}` → `{name}`.
fn openapi_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    let mut skipping = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push(c);
            }
            '}' => {
                in_param = false;
                skipping = false;
                out.push(c);
            }
            ':' if in_param => skipping = true,
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    out
}

fn emit(project: &Project, d: &Decl, ctx: &Ctx, types: &mut Types<'_>, found: &mut Found) {
    let loc = project.loc(&d.module, d.func.first_line);
    if d.call.kw("include_in_schema") == Some(&Expr::Bool(false)) {
        return;
    }
    let Some(path) = d.call.arg("path", 0).and_then(Expr::as_str) else {
        found.gaps.push(Gap::at(
            &loc,
            format!("path of `{}` is not a literal; left out", d.func.name),
        ));
        return;
    };
    let full = format!("{}{path}", ctx.prefix);
    let methods: Vec<String> = match d.verb.as_str() {
        "api_route" | "route" => match d.call.kw("methods") {
            Some(m) => match m.str_list() {
                Some(list) => list.iter().map(|s| s.to_ascii_lowercase()).collect(),
                None => {
                    found.gaps.push(
                        Gap::at(&loc, "methods are not a literal list; left out").on("*", &full),
                    );
                    return;
                }
            },
            None => vec!["get".into()],
        },
        v => vec![v.to_string()],
    };
    for method in methods {
        let op = operation(
            project,
            d,
            &method,
            &full,
            ctx,
            types,
            &loc,
            &mut found.gaps,
        );
        found.routes.push(Route {
            framework: Framework::Fastapi,
            method,
            path: openapi_path(&full),
            operation: op,
            loc: loc.clone(),
            comment_line: d.func.first_line,
            comment_prefix: "#",
            alt_comment_line: None,
            alt_file: None,
        });
    }
}

#[derive(Debug)]
struct Out {
    location: &'static str,
    name: String,
    required: bool,
    schema: Value,
    extra: Map<String, Value>,
}

#[derive(Debug)]
struct BodyParam {
    name: String,
    ty: Ty,
    required: bool,
    embed: bool,
    default: Option<Value>,
    /// `Form()` / `File()` / `UploadFile`: the body is a form.
    form: bool,
    file: bool,
}

const MARKERS: &[&str] = &[
    "Query", "Path", "Header", "Cookie", "Body", "Form", "File", "Depends", "Security",
];
const SKIPPED_TYPES: &[&str] = &[
    "Request",
    "Response",
    "BackgroundTasks",
    "WebSocket",
    "HTTPConnection",
    "SecurityScopes",
];

struct Params<'a, 'p> {
    project: &'a Project,
    types: &'a mut Types<'p>,
    path_names: Vec<String>,
    out: Vec<Out>,
    bodies: Vec<BodyParam>,
    gaps: Vec<Gap>,
    loc: Loc,
    seen_deps: BTreeSet<(String, String)>,
}

impl Params<'_, '_> {
    fn marker(&self, module: &str, e: &Expr) -> Option<(String, Call)> {
        let c = e.as_call()?;
        let m = self.project.external(module, &c.func)?;
        MARKERS.contains(&m.as_str()).then(|| (m, c.clone()))
    }

    fn dependency(&mut self, module: &str, call: &Call, depth: usize) {
        let Some(Expr::Name(f)) = call.arg("dependency", 0) else {
            self.gaps.push(Gap::at(
                &self.loc,
                "`Depends()` without a function: its parameters are not read",
            ));
            return;
        };
        match self.project.function(module, f) {
            Some((m, def)) => {
                if !self.seen_deps.insert((m.to_string(), def.name.clone())) {
                    return;
                }
                if call.kw("scopes").is_some() {
                    self.gaps.push(Gap::at(
                        &self.loc,
                        format!("`Security({f}, scopes=...)`: add `# gatehouse: scopes=...` to carry the scopes"),
                    ));
                }
                let params = def.params.clone();
                self.params(m, &params, depth + 1, Vec::new());
            }
            None => self.gaps.push(Gap::at(
                &self.loc,
                format!("dependency `{f}` is not a function of the scanned project; its parameters are not read"),
            )),
        }
    }

    /// A dependant's parameters the way FastAPI flattens them: its own first, then those of
    /// its dependencies (`first`, i.e. router and decorator `dependencies=`, then the
    /// `Depends()` of its signature), depth first.
    fn params(&mut self, module: &str, params: &[Param], depth: usize, first: Vec<(String, Call)>) {
        if depth > 10 {
            return;
        }
        let mut later: Vec<(String, Call)> = first;
        for p in params {
            if p.splat || p.name == "self" || p.name == "cls" {
                continue;
            }
            let (inner, metas) = match &p.annotation {
                Some(a) => self.types.split_annotated(module, a),
                None => (Expr::Name("Any".into()), Vec::new()),
            };
            let from_meta = metas.iter().find_map(|m| self.marker(module, m));
            let from_default = p.default.as_ref().and_then(|d| self.marker(module, d));
            let (marker, default) = match (from_meta, from_default) {
                (Some(m), _) => (Some(m), p.default.clone()),
                (None, Some((kind, c))) => {
                    let d = c.arg("default", 0).cloned();
                    (Some((kind, c)), d)
                }
                (None, None) => (None, p.default.clone()),
            };
            if let Some((kind, call)) = &marker {
                if kind == "Depends" || kind == "Security" {
                    let call = if call.args.is_empty() && call.kw("dependency").is_none() {
                        // `x: Annotated[Dep, Depends()]`: the dependency is the annotation.
                        let mut c = call.clone();
                        c.args.push(inner.clone());
                        c
                    } else {
                        call.clone()
                    };
                    later.push((module.to_string(), call));
                    continue;
                }
            }
            if let Expr::Name(n) = &inner {
                if let Some(e) = self.project.external(module, n) {
                    if SKIPPED_TYPES.contains(&e.as_str()) {
                        continue;
                    }
                }
            }
            let required = matches!(default, None | Some(Expr::Ellipsis));
            let mut ty = self.types.ty(module, &inner, &self.loc);
            let location = match marker.as_ref().map(|(k, _)| k.as_str()) {
                Some("Query") => "query",
                Some("Path") => "path",
                Some("Header") => "header",
                Some("Cookie") => "cookie",
                Some("Body") => "body",
                Some("Form") => "form",
                Some("File") => "file",
                _ if self.path_names.contains(&p.name) => "path",
                _ if is_upload(&ty.schema) => "file",
                _ if body_like(&ty.schema, &self.types.schemas) || ty.is_model => "body",
                _ => "query",
            };
            let call = marker.as_ref().map(|(_, c)| c.clone());
            if let Some(c) = &call {
                self.types.constrain(&mut ty, c, &self.loc);
            }
            let alias = call
                .as_ref()
                .and_then(|c| c.kw("alias"))
                .and_then(Expr::as_str)
                .map(str::to_string);
            if location == "file" {
                ty.schema = file_schema(ty.schema);
            }
            if matches!(location, "body" | "form" | "file") {
                let default = if required {
                    None
                } else {
                    default
                        .as_ref()
                        .and_then(default_value)
                        .filter(|v| !v.is_null())
                };
                self.bodies.push(BodyParam {
                    name: alias.unwrap_or_else(|| p.name.clone()),
                    ty,
                    required,
                    embed: call.as_ref().and_then(|c| c.kw("embed")) == Some(&Expr::Bool(true)),
                    default,
                    form: location != "body",
                    file: location == "file",
                });
                continue;
            }
            let converts = call
                .as_ref()
                .and_then(|c| c.kw("convert_underscores"))
                .is_none_or(|e| *e != Expr::Bool(false));
            let name = match alias {
                Some(a) => a,
                None if location == "header" && converts => p.name.replace('_', "-"),
                None => p.name.clone(),
            };
            let mut schema = match ty.schema {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            if location != "path" && !required {
                match default.as_ref().map(default_value) {
                    Some(Some(Value::Null)) | None => {}
                    Some(Some(v)) => {
                        schema.insert("default".into(), v);
                    }
                    Some(None) => self.gaps.push(Gap::at(
                        &self.loc,
                        format!(
                            "default of parameter `{}` is not a literal; left out",
                            p.name
                        ),
                    )),
                }
            }
            if !ty.is_ref && !schema.contains_key("title") {
                schema.insert("title".into(), json!(field_title(&name)));
            }
            let mut extra = Map::new();
            for key in ["description", "deprecated"] {
                if let Some(v) = call
                    .as_ref()
                    .and_then(|c| c.kw(key))
                    .and_then(Expr::literal)
                {
                    extra.insert(key.into(), v);
                }
            }
            if self
                .out
                .iter()
                .any(|o| o.location == location && o.name == name)
            {
                continue;
            }
            self.out.push(Out {
                location,
                name,
                required: required || location == "path",
                schema: Value::Object(schema),
                extra,
            });
        }
        for (m, c) in later {
            self.dependency(&m, &c, depth);
        }
    }
}

/// How FastAPI documents an uploaded file.
fn upload_schema() -> Value {
    json!({"type": "string", "contentMediaType": "application/octet-stream"})
}

/// `UploadFile`, or a list of them.
fn is_upload(schema: &Value) -> bool {
    *schema == upload_schema()
        || schema.get("items").is_some_and(|i| *i == upload_schema())
        || schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(is_upload))
}

/// `bytes` in a `File()` parameter is an uploaded file too.
fn file_schema(schema: Value) -> Value {
    match schema {
        s if s == json!({"type": "string", "format": "binary"}) => upload_schema(),
        Value::Object(mut o) => {
            for key in ["items"] {
                if let Some(v) = o.remove(key) {
                    o.insert(key.into(), file_schema(v));
                }
            }
            if let Some(Value::Array(alts)) = o.remove("anyOf") {
                o.insert(
                    "anyOf".into(),
                    Value::Array(alts.into_iter().map(file_schema).collect()),
                );
            }
            Value::Object(o)
        }
        s => s,
    }
}

/// Does FastAPI read a parameter without a marker from the body (models, mappings,
/// sequences) rather than the query?
fn body_like(schema: &Value, components: &std::collections::BTreeMap<String, Value>) -> bool {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        return components
            .get(name)
            .is_some_and(|s| s.get("type") == Some(&json!("object")));
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => true,
        // A sequence is a query parameter only with an explicit `Query()`.
        Some("array") => true,
        _ => schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|s| body_like(s, components))),
    }
}

fn status_code(e: Option<&Expr>) -> Option<u16> {
    match e? {
        Expr::Int(i) => u16::try_from(*i).ok(),
        Expr::Name(n) => {
            let rest = n.rsplit('.').next()?.strip_prefix("HTTP_")?;
            rest.split('_').next()?.parse().ok()
        }
        _ => None,
    }
}

fn body_allowed(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 205 || status == 304)
}

#[allow(clippy::too_many_arguments)]
fn operation(
    project: &Project,
    d: &Decl,
    method: &str,
    full: &str,
    ctx: &Ctx,
    types: &mut Types<'_>,
    loc: &Loc,
    gaps: &mut Vec<Gap>,
) -> Map<String, Value> {
    let f: &FuncDef = &d.func;
    let path = openapi_path(full);
    let mut op = Map::new();
    let id = d
        .call
        .kw("operation_id")
        .and_then(Expr::as_str)
        .map_or_else(|| operation_id(&f.name, full, method), str::to_string);
    let mut tags = ctx.tags.clone();
    tags.extend(
        d.call
            .kw("tags")
            .and_then(Expr::str_list)
            .unwrap_or_default(),
    );
    if !tags.is_empty() {
        op.insert("tags".into(), json!(tags));
    }
    let summary = d
        .call
        .kw("summary")
        .and_then(Expr::as_str)
        .map_or_else(|| py_title(&f.name.replace('_', " ")), str::to_string);
    op.insert("summary".into(), json!(summary));
    let description = d
        .call
        .kw("description")
        .and_then(Expr::as_str)
        .map(str::to_string)
        .or_else(|| f.doc.as_deref().map(cleandoc))
        .map(|s| s.split('\u{c}').next().unwrap_or("").trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(desc) = description {
        op.insert("description".into(), json!(desc));
    }
    op.insert("operationId".into(), json!(id));
    if d.call.kw("deprecated") == Some(&Expr::Bool(true)) {
        op.insert("deprecated".into(), json!(true));
    }

    let mut ps = Params {
        project,
        types,
        path_names: template_params(&path),
        out: Vec::new(),
        bodies: Vec::new(),
        gaps: Vec::new(),
        loc: loc.clone(),
        seen_deps: BTreeSet::new(),
    };
    let mut deps: Vec<(String, Expr)> = ctx.deps.clone();
    if let Some(Expr::List(list)) = d.call.kw("dependencies") {
        deps.extend(list.iter().map(|e| (d.module.clone(), e.clone())));
    }
    let first: Vec<(String, Call)> = deps
        .iter()
        .filter_map(|(m, dep)| match ps.marker(m, dep) {
            Some((kind, c)) if kind == "Depends" || kind == "Security" => Some((m.clone(), c)),
            _ => None,
        })
        .collect();
    ps.params(&d.module, &f.params, 0, first);
    let Params {
        mut out,
        bodies,
        gaps: pgaps,
        ..
    } = ps;
    gaps.extend(pgaps.into_iter().map(|g| g.on(method, &path)));
    // FastAPI lists path, query, header, cookie parameters in that order.
    let rank = |l: &str| {
        ["path", "query", "header", "cookie"]
            .iter()
            .position(|x| *x == l)
    };
    out.sort_by_key(|o| rank(o.location));
    let has_params = !out.is_empty();
    if has_params {
        let list: Vec<Value> = out
            .into_iter()
            .map(|o| {
                let mut p = Map::new();
                p.insert("name".into(), json!(o.name));
                p.insert("in".into(), json!(o.location));
                p.insert("required".into(), json!(o.required));
                p.insert("schema".into(), o.schema);
                p.extend(o.extra);
                Value::Object(p)
            })
            .collect();
        op.insert("parameters".into(), Value::Array(list));
    }
    let has_body = !bodies.is_empty();
    if has_body {
        let required = bodies.iter().any(|b| b.required);
        let form = bodies.iter().any(|b| b.form);
        let media = if bodies.iter().any(|b| b.file) {
            "multipart/form-data"
        } else if form {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        let schema = match bodies.as_slice() {
            // Form fields always travel in a `Body_` schema, even alone.
            [one] if !one.embed && !form => titled(&one.ty, &one.name),
            _ => {
                let name = format!("Body_{id}");
                let mut props = Map::new();
                let mut req = Vec::new();
                for b in &bodies {
                    let mut schema = titled(&b.ty, &b.name);
                    if let (Some(d), Value::Object(o)) = (&b.default, &mut schema) {
                        o.insert("default".into(), d.clone());
                    }
                    props.insert(b.name.clone(), schema);
                    if b.required {
                        req.push(json!(b.name));
                    }
                }
                let mut s = Map::new();
                s.insert("type".into(), json!("object"));
                s.insert("title".into(), json!(name));
                s.insert("properties".into(), Value::Object(props));
                if !req.is_empty() {
                    s.insert("required".into(), Value::Array(req));
                }
                types.schemas.insert(name.clone(), Value::Object(s));
                json!({"$ref": format!("#/components/schemas/{name}")})
            }
        };
        let mut rb = Map::new();
        rb.insert("content".into(), json!({ media: {"schema": schema} }));
        if required {
            rb.insert("required".into(), json!(true));
        }
        op.insert("requestBody".into(), Value::Object(rb));
    }

    let status = match d.call.kw("status_code") {
        None => 200,
        e => status_code(e).unwrap_or_else(|| {
            gaps.push(Gap::at(loc, "status_code is not a literal; 200 assumed").on(method, &path));
            200
        }),
    };
    let mut ok = Map::new();
    ok.insert("description".into(), json!("Successful Response"));
    if body_allowed(status) {
        let model = match d.call.kw("response_model") {
            Some(Expr::None) => None,
            Some(e) => Some(e.clone()),
            None => f.returns.clone().filter(|r| {
                let n = match r {
                    Expr::Name(n) | Expr::Subscript(n, _) => n.as_str(),
                    _ => "",
                };
                let ext = project.external(&d.module, n).unwrap_or_default();
                !(*r == Expr::None || ext.ends_with("Response"))
            }),
        };
        let schema = match model {
            Some(m) => titled(&types.ty(&d.module, &m, loc), &format!("Response_{id}")),
            None => json!({}),
        };
        ok.insert(
            "content".into(),
            json!({"application/json": {"schema": schema}}),
        );
    }
    if d.call.kw("response_class").is_some() {
        gaps.push(
            Gap::at(
                loc,
                "response_class is not read; the response is documented as JSON",
            )
            .on(method, &path),
        );
    }
    let mut responses = additional_responses(d, &id, &path, method, types, loc, gaps);
    match responses.get_mut(&status.to_string()) {
        Some(Value::Object(existing)) => {
            for (k, v) in ok {
                existing.entry(k).or_insert(v);
            }
        }
        _ => {
            responses.insert(status.to_string(), Value::Object(ok));
        }
    }
    if (has_params || has_body) && !responses.contains_key("422") {
        responses.insert(
            "422".into(),
            json!({"description": "Validation Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}),
        );
        validation_error_schemas(types);
    }
    op.insert("responses".into(), Value::Object(responses));
    op
}

/// `responses={404: {"description": ..., "model": M}, ...}` when written literally.
fn additional_responses(
    d: &Decl,
    id: &str,
    path: &str,
    method: &str,
    types: &mut Types<'_>,
    loc: &Loc,
    gaps: &mut Vec<Gap>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(r) = d.call.kw("responses") else {
        return out;
    };
    let Expr::Dict(pairs) = r else {
        gaps.push(Gap::at(loc, "`responses=` is not a literal dict; not read").on(method, path));
        return out;
    };
    for (k, v) in pairs {
        let code = match k {
            Expr::Int(i) => i.to_string(),
            Expr::Str(s) => s.clone(),
            Expr::Name(n) => match status_code(Some(k)) {
                Some(c) => c.to_string(),
                None => {
                    gaps.push(
                        Gap::at(loc, format!("response key `{n}` not read")).on(method, path),
                    );
                    continue;
                }
            },
            _ => {
                gaps.push(
                    Gap::at(loc, "a `responses=` key is not a literal; not read").on(method, path),
                );
                continue;
            }
        };
        let Expr::Dict(fields) = v else {
            gaps.push(
                Gap::at(
                    loc,
                    format!("response {code} is not a literal dict; not read"),
                )
                .on(method, path),
            );
            continue;
        };
        let mut resp = Map::new();
        for (fk, fv) in fields {
            match fk.as_str() {
                Some("model") => {
                    let ty = types.ty(&d.module, fv, loc);
                    let schema = titled(&ty, &format!("Response_{code}_{id}"));
                    resp.insert(
                        "content".into(),
                        json!({"application/json": {"schema": schema}}),
                    );
                }
                Some(key @ ("description" | "content" | "headers" | "links")) => match fv.literal()
                {
                    Some(v) => {
                        resp.insert(key.into(), v);
                    }
                    None => gaps.push(
                        Gap::at(
                            loc,
                            format!("response {code} `{key}` is not a literal; not read"),
                        )
                        .on(method, path),
                    ),
                },
                _ => gaps
                    .push(Gap::at(loc, format!("response {code}: key not read")).on(method, path)),
            }
        }
        if !resp.contains_key("description") {
            // FastAPI fills in the HTTP reason phrase.
            let phrase = code
                .parse::<u16>()
                .ok()
                .and_then(reason)
                .unwrap_or("Additional Response");
            resp.insert("description".into(), json!(phrase));
        }
        out.insert(code, Value::Object(resp));
    }
    out
}

/// Python's `http.HTTPStatus(code).phrase` for the codes APIs document most.
fn reason(code: u16) -> Option<&'static str> {
    Some(match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}

/// A schema as FastAPI gives it to a body or response field: titled unless a reference.
fn titled(ty: &Ty, name: &str) -> Value {
    let mut s = ty.schema.clone();
    if let Value::Object(o) = &mut s {
        if !ty.is_ref && !o.contains_key("title") {
            o.insert("title".into(), json!(field_title(name)));
        }
    }
    s
}

/// FastAPI's 422 answer, as it documents it.
fn validation_error_schemas(types: &mut Types<'_>) {
    types.schemas.insert(
        "HTTPValidationError".into(),
        json!({
            "type": "object",
            "title": "HTTPValidationError",
            "properties": {
                "detail": {"type": "array", "title": "Detail", "items": {"$ref": "#/components/schemas/ValidationError"}}
            }
        }),
    );
    types.schemas.insert(
        "ValidationError".into(),
        json!({
            "type": "object",
            "title": "ValidationError",
            "required": ["loc", "msg", "type"],
            "properties": {
                "loc": {"type": "array", "title": "Location", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                "msg": {"type": "string", "title": "Message"},
                "type": {"type": "string", "title": "Error Type"},
                "input": {"title": "Input"},
                "ctx": {"type": "object", "title": "Context"}
            }
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastapi_ids_and_paths() {
        assert_eq!(
            operation_id("list_items", "/api/v1/items/", "get"),
            "list_items_api_v1_items__get"
        );
        assert_eq!(openapi_path("/files/{p:path}"), "/files/{p}");
        assert_eq!(
            status_code(Some(&Expr::Name("status.HTTP_201_CREATED".into()))),
            Some(201)
        );
    }
}
