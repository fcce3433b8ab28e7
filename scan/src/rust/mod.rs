//! axum and actix-web, read with `syn`: the crate's functions, serde structs and enums are
//! collected once; [`axum`] evaluates `Router` building expressions, [`actix`] `App`
//! building expressions and route attributes. Handlers' extractors (`Path<T>`, `Query<T>`,
//! `Json<T>`, `Form<T>`) are resolved to the serde types of the same crate.

pub mod actix;
pub mod axum;
pub mod types;

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use syn::{FnArg, GenericArgument, Item, PathArguments, ReturnType, Type};

use crate::files::Sources;
use crate::text::template_params;
use crate::{Found, Framework, Gap, Loc, Route};

/// One function of the crate.
#[derive(Clone)]
pub struct Func {
    pub file: String,
    pub item: syn::ItemFn,
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fn {} ({})", self.item.sig.ident, self.file)
    }
}

/// What the crate declares, by name (Rust paths are resolved by their last segment; two
/// items with one name are reported where it matters).
#[derive(Default)]
pub struct Crate {
    pub fns: BTreeMap<String, Vec<Func>>,
    pub structs: BTreeMap<String, Vec<Def<syn::ItemStruct>>>,
    pub enums: BTreeMap<String, Vec<Def<syn::ItemEnum>>>,
    pub uses_axum: bool,
    pub uses_actix: bool,
}

impl std::fmt::Debug for Crate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crate({} fns)", self.fns.len())
    }
}

/// A struct or enum and where it is defined.
#[derive(Clone)]
pub struct Def<T> {
    /// `a::b` from the file and inline `mod`s; "" for the crate root.
    pub module: String,
    pub file: String,
    pub item: T,
}

impl<T> std::fmt::Debug for Def<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::… ({})", self.module, self.file)
    }
}

/// The module path of a file: `src/a/b.rs` and `src/a/b/mod.rs` → `a::b`, `src/main.rs` → "".
#[must_use]
pub fn file_module(rel: &str) -> String {
    let p = rel.strip_suffix(".rs").unwrap_or(rel);
    let p = p.split_once("src/").map_or(p, |(_, rest)| rest);
    let p = p.strip_suffix("/mod").unwrap_or(p);
    if matches!(p, "main" | "lib") || p.starts_with("bin/") {
        return String::new();
    }
    p.replace('/', "::")
}

/// The definition a path names: the one whose module ends with the path's qualifier
/// (`models::Pet` → module `…models`), else the one in `prefer_file`, else the only one.
/// The flag says the choice was ambiguous.
pub fn pick<'a, T>(
    defs: &'a [Def<T>],
    qualifier: &[String],
    prefer_file: &str,
) -> Option<(&'a Def<T>, bool)> {
    let q: Vec<&str> = qualifier
        .iter()
        .map(String::as_str)
        .filter(|s| !matches!(*s, "crate" | "self" | "super"))
        .collect();
    if defs.len() == 1 {
        return defs.first().map(|d| (d, false));
    }
    if !q.is_empty() {
        let want = q.join("::");
        let hits: Vec<&Def<T>> = defs
            .iter()
            .filter(|d| d.module == want || d.module.ends_with(&format!("::{want}")))
            .collect();
        if let [one] = hits.as_slice() {
            return Some((one, false));
        }
    }
    let same_file: Vec<&Def<T>> = defs.iter().filter(|d| d.file == prefer_file).collect();
    if let [one] = same_file.as_slice() {
        return Some((one, false));
    }
    defs.first().map(|d| (d, true))
}

/// The path segments before a type's name: `models::Pet` → [models].
#[must_use]
pub fn qualifier(ty: &Type) -> Vec<String> {
    match ty {
        Type::Path(p) => {
            let n = p.path.segments.len();
            p.path
                .segments
                .iter()
                .take(n.saturating_sub(1))
                .map(|s| s.ident.to_string())
                .collect()
        }
        Type::Reference(r) => qualifier(&r.elem),
        Type::Paren(p) => qualifier(&p.elem),
        Type::Group(g) => qualifier(&g.elem),
        _ => Vec::new(),
    }
}

impl Crate {
    fn add_items(&mut self, file: &str, module: &str, items: &[Item]) {
        for item in items {
            match item {
                Item::Fn(f) => self
                    .fns
                    .entry(f.sig.ident.to_string())
                    .or_default()
                    .push(Func {
                        file: file.to_string(),
                        item: f.clone(),
                    }),
                Item::Struct(s) => self
                    .structs
                    .entry(s.ident.to_string())
                    .or_default()
                    .push(Def {
                        module: module.to_string(),
                        file: file.to_string(),
                        item: s.clone(),
                    }),
                Item::Enum(e) => self
                    .enums
                    .entry(e.ident.to_string())
                    .or_default()
                    .push(Def {
                        module: module.to_string(),
                        file: file.to_string(),
                        item: e.clone(),
                    }),
                // Handlers and router builders may be associated functions.
                Item::Impl(i) if i.trait_.is_none() => {
                    for it in &i.items {
                        if let syn::ImplItem::Fn(f) = it {
                            self.fns
                                .entry(f.sig.ident.to_string())
                                .or_default()
                                .push(Func {
                                    file: file.to_string(),
                                    item: syn::ItemFn {
                                        attrs: f.attrs.clone(),
                                        vis: f.vis.clone(),
                                        sig: f.sig.clone(),
                                        block: Box::new(f.block.clone()),
                                    },
                                });
                        }
                    }
                }
                Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        let sub = if module.is_empty() {
                            m.ident.to_string()
                        } else {
                            format!("{module}::{}", m.ident)
                        };
                        self.add_items(file, &sub, inner);
                    }
                }
                Item::Use(u) => {
                    let t = quote::quote!(#u).to_string();
                    self.uses_axum |= t.contains("axum");
                    self.uses_actix |= t.contains("actix_web");
                }
                _ => {}
            }
        }
    }

    /// The function a handler path (`handlers::list_users`) names.
    #[must_use]
    pub fn func(&self, path: &syn::Path) -> Option<&Func> {
        let name = path.segments.last()?.ident.to_string();
        let all = self.fns.get(&name)?;
        if all.len() == 1 {
            return all.first();
        }
        // Several: prefer the one whose file matches the path's module (`handlers::x`).
        let module = path
            .segments
            .iter()
            .rev()
            .nth(1)
            .map(|s| s.ident.to_string());
        module
            .and_then(|m| all.iter().find(|f| f.file.contains(&m)))
            .or_else(|| all.first())
    }
}

pub fn line_of(span: proc_macro2::Span) -> usize {
    span.start().line
}

/// The last segment of a type path and its generic type arguments: `web::Json<User>` →
/// ("Json", [User]).
#[must_use]
pub fn type_head(ty: &Type) -> Option<(String, Vec<Type>)> {
    match ty {
        Type::Path(p) => {
            let seg = p.path.segments.last()?;
            let args = match &seg.arguments {
                PathArguments::AngleBracketed(a) => a
                    .args
                    .iter()
                    .filter_map(|g| match g {
                        GenericArgument::Type(t) => Some(t.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Some((seg.ident.to_string(), args))
        }
        Type::Reference(r) => type_head(&r.elem),
        Type::Paren(p) => type_head(&p.elem),
        Type::Group(g) => type_head(&g.elem),
        _ => None,
    }
}

/// Extractors that carry no documented input.
const IGNORED_EXTRACTORS: &[&str] = &[
    "State",
    "Extension",
    "Data",
    "HttpRequest",
    "Request",
    "HeaderMap",
    "Method",
    "Uri",
    "OriginalUri",
    "ConnectInfo",
    "Payload",
    "MatchedPath",
    "Version",
];

/// One route a framework module found, before its operation is built.
#[derive(Clone)]
pub(crate) struct Entry {
    pub path: String,
    pub method: String,
    pub handler: Option<syn::Path>,
    pub file: String,
    /// 1-based line the comment block is read above.
    pub line: usize,
    /// actix-web: where `.service(h)` registered an attributed handler (file, 1-based line),
    /// a second place its comment block may stand.
    pub registered_at: Option<(String, usize)>,
}

/// Builds the operation of `e` (path template, handler extractors) and adds the route.
pub(crate) fn push_route(
    krate: &Crate,
    types: &mut types::Types<'_>,
    framework: Framework,
    e: Entry,
    found: &mut Found,
) {
    let loc = Loc {
        file: e.file.clone(),
        line: e.line,
    };
    let (path, schemas) = convert_path(&e.path, &loc, &mut found.gaps);
    let func = e.handler.as_ref().and_then(|h| krate.func(h));
    let name = e
        .handler
        .as_ref()
        .and_then(|h| h.segments.last())
        .map(|s| s.ident.to_string());
    if e.handler.is_none() {
        found.gaps.push(
            Gap::at(
                &loc,
                "closure or computed handler; its extractors are not read",
            )
            .on(&e.method, &path),
        );
    }
    let mut op = operation(
        types,
        func,
        name.as_deref().unwrap_or(""),
        &e.method,
        &path,
        &loc,
        &schemas,
        &mut found.gaps,
    );
    if name.is_none() {
        op.remove("operationId");
    }
    found.routes.push(Route {
        framework,
        method: e.method,
        path,
        operation: op,
        comment_line: e.line.saturating_sub(1),
        loc,
        comment_prefix: "//",
        alt_comment_line: e.registered_at.as_ref().map(|(_, l)| l.saturating_sub(1)),
        alt_file: e.registered_at.map(|(f, _)| f),
    });
}

/// The operation of a handler at `path` (OpenAPI template) for `method`.
#[allow(clippy::too_many_arguments)]
pub fn operation(
    types: &mut types::Types<'_>,
    handler: Option<&Func>,
    handler_name: &str,
    method: &str,
    path: &str,
    loc: &Loc,
    path_schemas: &BTreeMap<String, Value>,
    gaps: &mut Vec<Gap>,
) -> Map<String, Value> {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(handler_name));
    let names = template_params(path);
    let mut params: Vec<Value> = Vec::new();
    let mut typed: BTreeMap<String, Value> = BTreeMap::new();
    let mut body: Option<(String, Value)> = None;
    let mut response: Option<(Option<&str>, Value)> = None;
    let Some(func) = handler else {
        if !handler_name.is_empty() {
            gaps.push(
                Gap::at(loc, format!("handler `{handler_name}` not found in the crate; its extractors are not read"))
                    .on(method, path),
            );
        }
        for n in &names {
            params.push(path_param(
                n,
                path_schemas
                    .get(n)
                    .cloned()
                    .unwrap_or(json!({"type": "string"})),
            ));
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        return op;
    };
    if let Some(doc) = types::doc_of(&func.item.attrs) {
        let (first, rest) = doc.split_once("\n\n").unwrap_or((&doc, ""));
        op.insert("summary".into(), json!(first.replace('\n', " ")));
        if !rest.trim().is_empty() {
            op.insert("description".into(), json!(rest.trim()));
        }
    }
    let hloc = Loc {
        file: func.file.clone(),
        line: line_of(func.item.sig.ident.span()),
    };
    for input in &func.item.sig.inputs {
        let FnArg::Typed(pt) = input else { continue };
        let Some((head, args)) = type_head(&pt.ty) else {
            continue;
        };
        let inner = args.first();
        match (head.as_str(), inner) {
            ("Path", Some(t)) => {
                match t {
                    Type::Tuple(tuple) => {
                        if tuple.elems.len() == names.len() {
                            for (n, t) in names.iter().zip(tuple.elems.iter()) {
                                typed.insert(n.clone(), types.schema(t, &hloc).0);
                            }
                        } else {
                            gaps.push(Gap::at(&hloc, "Path tuple does not match the path's parameters; types left out").on(method, path));
                        }
                    }
                    t => match types.struct_fields(t, &hloc) {
                        Some(fields) => {
                            for f in fields {
                                typed.insert(f.name, f.schema);
                            }
                        }
                        None if names.len() == 1 => {
                            if let Some(n) = names.first() {
                                typed.insert(n.clone(), types.schema(t, &hloc).0);
                            }
                        }
                        None => gaps.push(
                            Gap::at(
                                &hloc,
                                "Path type not matched to the path's parameters; types left out",
                            )
                            .on(method, path),
                        ),
                    },
                }
            }
            ("Query", Some(t)) => match types.struct_fields(t, &hloc) {
                Some(fields) => {
                    for f in fields {
                        params.push(json!({"name": f.name, "in": "query", "required": f.required, "schema": f.schema}));
                    }
                }
                None => gaps.push(
                    Gap::at(
                        &hloc,
                        "Query type is not a struct of the crate; query parameters left out",
                    )
                    .on(method, path),
                ),
            },
            ("Json", Some(t)) => body = Some(("application/json".into(), types.schema(t, &hloc).0)),
            ("Form", Some(t)) => {
                body = Some((
                    "application/x-www-form-urlencoded".into(),
                    types.schema(t, &hloc).0,
                ));
            }
            (h, _) if IGNORED_EXTRACTORS.contains(&h) => {}
            ("String" | "Bytes", _) => {
                body = Some(("text/plain".into(), json!({"type": "string"})));
            }
            (h, _) => {
                gaps.push(Gap::at(&hloc, format!("extractor `{h}` is not read")).on(method, path))
            }
        }
    }
    if let ReturnType::Type(_, ty) = &func.item.sig.output {
        response = json_response(types, ty, &hloc, 0);
    }
    let mut list: Vec<Value> = names
        .iter()
        .map(|n| {
            let s = typed
                .get(n)
                .or_else(|| path_schemas.get(n))
                .cloned()
                .unwrap_or(json!({"type": "string"}));
            path_param(n, s)
        })
        .collect();
    list.extend(params);
    if !list.is_empty() {
        op.insert("parameters".into(), Value::Array(list));
    }
    if let Some((ct, schema)) = body {
        op.insert(
            "requestBody".into(),
            json!({"required": true, "content": {ct: {"schema": schema}}}),
        );
    }
    match response {
        Some((Some(status), schema)) => {
            op.insert("responses".into(), json!({status: {"description": "OK", "content": {"application/json": {"schema": schema}}}}));
        }
        Some((None, schema)) => {
            op.insert("responses".into(), json!({"default": {"description": "Response (status not inferred)", "content": {"application/json": {"schema": schema}}}}));
        }
        None => gaps.push(
            Gap::at(&hloc, "response type not inferred (only Json<T>, (StatusCode, Json<T>) and Result of them are)")
                .on(method, path),
        ),
    }
    op
}

fn path_param(name: &str, schema: Value) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": schema})
}

/// `Json<T>`, `Result<Json<T>, E>`, `web::Json<T>` → ("200", T's schema); a tuple ending
/// in `Json<T>` (`(StatusCode, Json<T>)`) → (no status: it is a value, not a type, T's schema).
fn json_response(
    types: &mut types::Types<'_>,
    ty: &Type,
    loc: &Loc,
    depth: usize,
) -> Option<(Option<&'static str>, Value)> {
    if depth > 4 {
        return None;
    }
    if let Type::Tuple(t) = ty {
        let (_, schema) = json_response(types, t.elems.last()?, loc, depth + 1)?;
        return Some((None, schema));
    }
    let (head, args) = type_head(ty)?;
    match head.as_str() {
        "Json" => args.first().map(|t| (Some("200"), types.schema(t, loc).0)),
        "Result" => json_response(types, args.first()?, loc, depth + 1),
        _ => None,
    }
}

/// Paths as the frameworks write them → OpenAPI templates: `:id` and `{id}` → `{id}`,
/// `*rest` / `{*rest}` → `{rest}` (reported: it spans segments), `{id:\d+}` → `{id}` with a
/// pattern.
pub fn convert_path(
    path: &str,
    loc: &Loc,
    gaps: &mut Vec<Gap>,
) -> (String, BTreeMap<String, Value>) {
    let mut schemas = BTreeMap::new();
    let segs: Vec<String> = path
        .split('/')
        .map(|seg| {
            if let Some(n) = seg.strip_prefix(':') {
                return format!("{{{n}}}");
            }
            if let Some(n) = seg.strip_prefix('*') {
                gaps.push(Gap::at(
                    loc,
                    format!("wildcard `{seg}` spans segments; documented as one parameter"),
                ));
                return format!("{{{n}}}");
            }
            if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                if let Some(n) = inner.strip_prefix('*') {
                    gaps.push(Gap::at(
                        loc,
                        format!("wildcard `{seg}` spans segments; documented as one parameter"),
                    ));
                    return format!("{{{n}}}");
                }
                if let Some((n, re)) = inner.split_once(':') {
                    if re == ".*" || re == ".+" {
                        gaps.push(Gap::at(
                            loc,
                            format!("`{seg}` spans segments; documented as one parameter"),
                        ));
                    } else {
                        schemas.insert(
                            n.to_string(),
                            json!({"type": "string", "pattern": format!("^{re}$")}),
                        );
                    }
                    return format!("{{{n}}}");
                }
            }
            seg.to_string()
        })
        .collect();
    let p = segs.join("/");
    (if p.is_empty() { "/".into() } else { p }, schemas)
}

pub fn scan(sources: &Sources, framework: Framework, found: &mut Found) {
    let mut krate = Crate::default();
    for s in sources.with_ext(&["rs"]) {
        match syn::parse_file(&s.text) {
            Ok(file) => krate.add_items(&s.rel, &file_module(&s.rel), &file.items),
            Err(e) => found.gaps.push(Gap {
                file: s.rel.clone(),
                line: line_of(e.span()),
                operation: None,
                message: format!("not parsed: {e}"),
            }),
        }
    }
    if krate.fns.is_empty() {
        return;
    }
    let mut types = types::Types::new(&krate);
    if (framework == Framework::Auto && krate.uses_axum) || framework == Framework::Axum {
        let before = found.routes.len();
        axum::collect(&krate, &mut types, found);
        if found.routes.len() > before {
            found.frameworks.push(Framework::Axum);
        }
    }
    if (framework == Framework::Auto && krate.uses_actix) || framework == Framework::Actix {
        let before = found.routes.len();
        actix::collect(&krate, &mut types, found);
        if found.routes.len() > before {
            found.frameworks.push(Framework::Actix);
        }
    }
    found.gaps.append(&mut types.gaps);
    found.schemas.append(&mut types.schemas);
}
