//! Express (JavaScript and TypeScript, read with tree-sitter): `app.get('/p/:id', ...)`,
//! `router.post(...)`, `router.route('/p').get(h).post(h)`, `app.use('/prefix', router)`
//! across `require`/`import` of local modules. `:id` becomes `{id}` (a string; `:id(\\d+)`
//! adds the pattern). Query, header and cookie parameters come from literal uses of
//! `req.query`, `req.headers`/`req.get()`, `req.cookies` in handlers found in the scanned
//! project ([`read`] reads each file); `req.body` marks a JSON request body whose shape is not inferred.

mod read;
mod ts_types;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::files::Sources;
use crate::{Found, Framework, Gap, Loc, Route};
use read::{parse_file, resolve_spec, Arg, Binding, FileFacts, Handler};
use ts_types::{Resolve, Schemas, TsType};

const VERBS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "options", "head", "all",
];
const MAX_DEPTH: usize = 32;

/// A router object: (file, local name).
type Key = (String, String);

struct Ctx<'a> {
    files: &'a BTreeMap<String, FileFacts>,
    found: &'a mut Found,
    reached: BTreeSet<Key>,
    ts: Schemas,
}

/// TypeScript names as a file sees them: its own declarations, then its imports.
struct Files<'a>(&'a BTreeMap<String, FileFacts>);

impl Resolve for Files<'_> {
    fn resolve(&self, file: &str, name: &str) -> Option<(String, TsType)> {
        let facts = self.0.get(file)?;
        if let Some(t) = facts.types.get(name) {
            return Some((file.to_string(), t.clone()));
        }
        match facts.bindings.get(name)? {
            Binding::Import(f, Some(export)) => {
                let target = self.0.get(f)?;
                let local = target
                    .exports
                    .get(&Some(export.clone()))
                    .cloned()
                    .unwrap_or_else(|| export.clone());
                target.types.get(&local).map(|t| (f.clone(), t.clone()))
            }
            _ => None,
        }
    }
}

impl Ctx<'_> {
    /// The router an argument of `use` refers to, if any.
    fn router_of(&self, file: &str, arg: &Arg) -> Option<Key> {
        let facts = self.files.get(file)?;
        let (target, export) = match arg {
            Arg::Ident(n) => match facts.bindings.get(n)? {
                Binding::Router | Binding::App => return Some((file.to_string(), n.clone())),
                Binding::Import(f, e) => (f.clone(), e.clone()),
                _ => return None,
            },
            Arg::Member(o, p) => match facts.bindings.get(o)? {
                Binding::Import(f, None) => (f.clone(), Some(p.clone())),
                _ => return None,
            },
            Arg::Require(spec) => {
                let files: BTreeSet<String> = self.files.keys().cloned().collect();
                (resolve_spec(file, spec, &files)?, None)
            }
            _ => return None,
        };
        self.export_router(&target, export.as_ref(), 0)
    }

    /// A handler named by identifier or `module.name`, in this file or an imported one,
    /// with the file it is defined in.
    fn handler_of(&self, file: &str, arg: &Arg) -> Option<(String, Handler)> {
        let facts = self.files.get(file)?;
        let (target, export) = match arg {
            Arg::Ident(n) => match facts.bindings.get(n) {
                Some(Binding::Import(f, e)) => (f.clone(), e.clone()),
                _ => {
                    return facts
                        .handlers
                        .get(n)
                        .cloned()
                        .map(|h| (file.to_string(), h))
                }
            },
            Arg::Member(o, p) => match facts.bindings.get(o)? {
                Binding::Import(f, None) => (f.clone(), Some(p.clone())),
                _ => return None,
            },
            _ => return None,
        };
        let t = self.files.get(&target)?;
        let local = t.exports.get(&export)?;
        t.handlers.get(local).cloned().map(|h| (target, h))
    }

    /// A TypeScript type as JSON Schema, reporting what does not resolve.
    fn ts_schema(&mut self, t: &TsType, file: &str, loc: &Loc) -> Value {
        let files = Files(self.files);
        let before = self.ts.unresolved.len();
        let s = self.ts.schema(t, file, &files);
        for u in self.ts.unresolved.split_off(before) {
            self.found.gaps.push(Gap::at(
                loc,
                format!("TypeScript type `{u}` not found in the scanned project; schema left open"),
            ));
        }
        s
    }

    /// The properties of an object type (through aliases and imports).
    fn ts_props(&self, t: &TsType, file: &str) -> Option<(String, Vec<ts_types::TsProp>)> {
        let files = Files(self.files);
        let (mut file, mut t) = (file.to_string(), t.clone());
        for _ in 0..8 {
            match t {
                TsType::Object(props) => return Some((file, props)),
                TsType::Ref(name) => (file, t) = files.resolve(&file, &name)?,
                _ => return None,
            }
        }
        None
    }

    fn export_router(&self, file: &str, export: Option<&String>, depth: usize) -> Option<Key> {
        if depth > 16 {
            return None;
        }
        let facts = self.files.get(file)?;
        let local = facts.exports.get(&export.cloned())?;
        match facts.bindings.get(local)? {
            Binding::Router | Binding::App => Some((file.to_string(), local.clone())),
            Binding::Import(f, e) => self.export_router(f, e.as_ref(), depth + 1),
            _ => None,
        }
    }

    fn walk(&mut self, key: &Key, prefix: &str, stack: &mut Vec<Key>) {
        if stack.contains(key) || stack.len() > MAX_DEPTH {
            return;
        }
        stack.push(key.clone());
        self.reached.insert(key.clone());
        let files = self.files;
        let Some(facts) = files.get(&key.0) else {
            return;
        };
        for chain in facts.chains.iter().filter(|c| c.base == key.1) {
            let loc = Loc {
                file: key.0.clone(),
                line: chain.line + 1,
            };
            let mut route_path: Option<String> = None;
            for seg in &chain.segments {
                let m = seg.method.as_str();
                if m == "route" {
                    match seg.args.first() {
                        Some(Arg::Str(p)) => route_path = Some(p.clone()),
                        _ => {
                            self.found
                                .gaps
                                .push(Gap::at(&loc, "route() path is not a literal; left out"));
                            break;
                        }
                    }
                } else if m == "use" && route_path.is_none() {
                    let (mount, rest) = match seg.args.split_first() {
                        Some((Arg::Str(p), rest)) => (p.clone(), rest),
                        _ => (String::new(), seg.args.as_slice()),
                    };
                    for a in rest {
                        if let Some(child) = self.router_of(&key.0, a) {
                            let p = join(prefix, &mount);
                            self.walk(&child, &p, stack);
                        } else if matches!(a, Arg::Ident(_) | Arg::Member(..) | Arg::Require(_)) {
                            // Middleware, usually; only say so when it came from a local module.
                            if let Arg::Require(spec) = a {
                                self.found.gaps.push(Gap::at(&loc, format!("use({spec}) is not a router of the scanned project; not followed")));
                            }
                        }
                    }
                } else if VERBS.contains(&m) {
                    let (path, handlers) = match (&route_path, seg.args.split_first()) {
                        (Some(p), _) => (p.clone(), seg.args.as_slice()),
                        (None, Some((Arg::Str(p), rest))) if !rest.is_empty() => (p.clone(), rest),
                        (None, Some((Arg::Str(_), _))) => continue, // app.get('setting')
                        (None, _) => {
                            self.found.gaps.push(Gap::at(
                                &loc,
                                format!("{m}() path is not a literal; left out"),
                            ));
                            continue;
                        }
                    };
                    let full = join(prefix, &path);
                    let (comment_line, loc) = if seg.line > chain.line {
                        (
                            seg.line,
                            Loc {
                                file: key.0.clone(),
                                line: seg.line + 1,
                            },
                        )
                    } else {
                        (chain.line, loc.clone())
                    };
                    self.route(&key.0, m, &full, handlers, &loc, comment_line);
                }
            }
        }
        stack.pop();
    }

    fn route(
        &mut self,
        file: &str,
        verb: &str,
        full: &str,
        handlers: &[Arg],
        loc: &Loc,
        line: usize,
    ) {
        let (path, mut params) = convert_path(full, &mut self.found.gaps, loc);
        let methods: Vec<&str> = if verb == "all" {
            self.found.gaps.push(
                Gap::at(
                    loc,
                    "`all()` answers every method; documented as get, post, put, patch, delete",
                )
                .on("*", &path),
            );
            vec!["get", "post", "put", "patch", "delete"]
        } else {
            vec![verb]
        };
        let mut body = false;
        let mut body_schema: Option<Value> = None;
        let mut response_schema: Option<Value> = None;
        let mut name = None;
        let mut dynamic = Vec::new();
        let mut unknown_handler = false;
        for h in handlers {
            let info = match h {
                Arg::Inline(i) => {
                    name.clone_from(&i.name);
                    unknown_handler = false;
                    Some((file.to_string(), i.clone()))
                }
                Arg::Ident(n) | Arg::Member(_, n) => {
                    name = Some(n.clone());
                    let found = self.handler_of(file, h);
                    unknown_handler = found.is_none();
                    found
                }
                _ => None,
            };
            if let Some((hfile, i)) = info {
                // Express's default ReqBody is `any`; `never`/`void` say there is none.
                if let Some(t) = i
                    .body_type
                    .as_ref()
                    .filter(|t| !matches!(t, TsType::Any | TsType::Null))
                {
                    body_schema = Some(self.ts_schema(t, &hfile, loc));
                }
                if let Some(t) = i
                    .response_type
                    .as_ref()
                    .filter(|t| !matches!(t, TsType::Any))
                {
                    response_schema = Some(self.ts_schema(t, &hfile, loc));
                }
                if let Some(t) = &i.query_type {
                    match self.ts_props(t, &hfile) {
                        Some((pfile, props)) => {
                            for prop in props {
                                let schema = self.ts_schema(&prop.ty, &pfile, loc);
                                params.retain(|p| !(p["in"] == json!("query") && p["name"] == json!(prop.name)));
                                params.push(json!({"name": prop.name, "in": "query", "required": !prop.optional, "schema": schema}));
                            }
                        }
                        None => self.found.gaps.push(Gap::at(loc, "the Request's query type is not an object type of the project; its parameters are left out").on(verb, &path)),
                    }
                }
                for (l, n) in i.params {
                    let (l, n) = if l == "header" {
                        (l, n.to_ascii_lowercase())
                    } else {
                        (l, n)
                    };
                    if !params
                        .iter()
                        .any(|p| p["in"] == json!(l) && p["name"] == json!(n))
                    {
                        params.push(json!({"name": n, "in": l, "required": false, "schema": {"type": "string"}}));
                    }
                }
                body |= i.body;
                dynamic.extend(i.dynamic);
            }
        }
        for method in methods {
            let mut op = Map::new();
            if let Some(n) = &name {
                op.insert("operationId".into(), json!(n));
            }
            if !params.is_empty() {
                op.insert("parameters".into(), Value::Array(params.clone()));
            }
            if let (Some(schema), false) = (&body_schema, matches!(method, "get" | "head")) {
                op.insert(
                    "requestBody".into(),
                    json!({"required": true, "content": {"application/json": {"schema": schema}}}),
                );
            } else if body && !matches!(method, "get" | "head" | "delete" | "options") {
                op.insert(
                    "requestBody".into(),
                    json!({"content": {"application/json": {"schema": {}}}}),
                );
                self.found.gaps.push(
                    Gap::at(
                        loc,
                        "req.body read; its shape is not inferred (schema left open)",
                    )
                    .on(method, &path),
                );
            }
            if let Some(schema) = &response_schema {
                // The type every `res.json()` of the handler sends; the status is not inferred.
                op.insert(
                    "responses".into(),
                    json!({"default": {"description": "Response (status not inferred)", "content": {"application/json": {"schema": schema}}}}),
                );
            }
            if unknown_handler {
                self.found.gaps.push(Gap::at(loc, format!("handler `{}` not found in the scanned project; its parameters are not read", name.clone().unwrap_or_default())).on(method, &path));
            }
            for d in &dynamic {
                self.found.gaps.push(
                    Gap::at(
                        loc,
                        format!("`{d}` looked up with a computed name; that parameter is left out"),
                    )
                    .on(method, &path),
                );
            }
            self.found.routes.push(Route {
                framework: Framework::Express,
                method: method.to_string(),
                path: path.clone(),
                operation: op,
                loc: loc.clone(),
                comment_line: line,
                comment_prefix: "//",
                alt_comment_line: None,
                alt_file: None,
            });
        }
    }
}

/// Express joins mount paths and route paths without doubling `/`.
fn join(prefix: &str, path: &str) -> String {
    if prefix.is_empty() || prefix == "/" {
        return path.to_string();
    }
    if path == "/" || path.is_empty() {
        return prefix.trim_end_matches('/').to_string();
    }
    format!(
        "{}/{}",
        prefix.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// `/users/:id(\\d+)` → `/users/{id}` with its path parameters.
fn convert_path(path: &str, gaps: &mut Vec<Gap>, loc: &Loc) -> (String, Vec<Value>) {
    let mut out = Vec::new();
    let mut params = Vec::new();
    for seg in path.split('/') {
        if let Some(rest) = seg.strip_prefix(':') {
            let name_end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = rest.get(..name_end).unwrap_or("");
            let tail = rest.get(name_end..).unwrap_or("");
            let mut schema = Map::new();
            schema.insert("type".into(), json!("string"));
            if let Some(re) = tail.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
                schema.insert("pattern".into(), json!(format!("^{re}$")));
            } else if tail == "?" {
                gaps.push(Gap::at(
                    loc,
                    format!("optional parameter `:{name}?`: documented as required"),
                ));
            } else if !tail.is_empty() {
                gaps.push(Gap::at(
                    loc,
                    format!("`{seg}`: only the parameter name is read"),
                ));
            }
            out.push(format!("{{{name}}}"));
            params.push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
        } else if let Some(name) = seg.strip_prefix('*') {
            let name = if name.is_empty() { "wildcard" } else { name };
            gaps.push(Gap::at(loc, format!("wildcard `{seg}` matches several segments; documented as one parameter `{name}`")));
            out.push(format!("{{{name}}}"));
            params.push(
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
            );
        } else {
            out.push(seg.to_string());
        }
    }
    let p = out.join("/");
    (if p.is_empty() { "/".into() } else { p }, params)
}

pub fn scan(sources: &Sources, found: &mut Found) {
    let exts = ["js", "mjs", "cjs", "ts", "mts", "cts", "tsx"];
    let names: BTreeSet<String> = sources.with_ext(&exts).map(|s| s.rel.clone()).collect();
    let mut files = BTreeMap::new();
    for s in sources.with_ext(&exts) {
        match parse_file(&s.rel, &s.text, &names) {
            Some((facts, errors)) => {
                if errors && !facts.chains.is_empty() {
                    found.gaps.push(Gap {
                        file: s.rel.clone(),
                        line: 0,
                        operation: None,
                        message: "syntax errors; declarations in the broken parts are not read"
                            .into(),
                    });
                }
                files.insert(s.rel.clone(), facts);
            }
            None => continue,
        }
    }
    let apps: Vec<Key> = files
        .iter()
        .flat_map(|(f, facts)| {
            facts
                .bindings
                .iter()
                .filter(|(_, b)| **b == Binding::App)
                .map(|(n, _)| (f.clone(), n.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let routers: Vec<Key> = files
        .iter()
        .flat_map(|(f, facts)| {
            facts
                .bindings
                .iter()
                .filter(|(_, b)| **b == Binding::Router)
                .map(|(n, _)| (f.clone(), n.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    if apps.is_empty() && routers.is_empty() {
        return;
    }
    let before = found.routes.len();
    let mut ctx = Ctx {
        files: &files,
        found,
        reached: BTreeSet::new(),
        ts: Schemas::default(),
    };
    let roots = if apps.is_empty() {
        routers.clone()
    } else {
        apps
    };
    for root in &roots {
        if !ctx.reached.contains(root) {
            ctx.walk(root, "", &mut Vec::new());
        }
    }
    let reached = std::mem::take(&mut ctx.reached);
    let components = std::mem::take(&mut ctx.ts.components);
    found.schemas.extend(components);
    for r in routers {
        let n: usize = files
            .get(&r.0)
            .map_or(0, |f| f.chains.iter().filter(|c| c.base == r.1).count());
        if n > 0 && !reached.contains(&r) {
            found.gaps.push(Gap {
                file: r.0.clone(),
                line: 0,
                operation: None,
                message: format!(
                    "router `{}` is not mounted on any application; its routes are left out",
                    r.1
                ),
            });
        }
    }
    if found.routes.len() > before {
        found.frameworks.push(Framework::Express);
        let untyped = found
            .routes
            .iter()
            .skip(before)
            .filter(|r| !r.operation.contains_key("responses"))
            .count();
        if untyped > 0 {
            found.gaps.push(Gap {
                file: roots.first().map(|r| r.0.clone()).unwrap_or_default(),
                line: 0,
                operation: None,
                message: format!(
                    "Express responses are not inferred without a `Response<T>` type ({untyped} operations documented with a `default` response)"
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_specs() {
        let loc = Loc {
            file: "a.js".into(),
            line: 1,
        };
        let mut gaps = Vec::new();
        let (p, params) = convert_path("/users/:id(\\d+)/files/:name", &mut gaps, &loc);
        assert_eq!(p, "/users/{id}/files/{name}");
        assert_eq!(params[0]["schema"]["pattern"], json!("^\\d+$"));
        assert!(gaps.is_empty());
        assert_eq!(join("/api", "/"), "/api");
        assert_eq!(join("/api/", "/users"), "/api/users");
        let files: BTreeSet<String> = [
            "src/routes/users.ts".to_string(),
            "src/lib/index.js".to_string(),
        ]
        .into();
        assert_eq!(
            resolve_spec("src/app.ts", "./routes/users", &files).as_deref(),
            Some("src/routes/users.ts")
        );
        assert_eq!(
            resolve_spec("src/routes/users.ts", "../lib", &files).as_deref(),
            Some("src/lib/index.js")
        );
        assert_eq!(resolve_spec("src/app.ts", "express", &files), None);
    }
}
