//! FastAPI and Flask: one pass over the project's Python modules finds the applications,
//! routers/blueprints and how they include each other; [`fastapi`] and [`flask`] turn the
//! routes reachable from each application into operations.
//!
//! Names are resolved through the modules' own imports (absolute and relative) within the
//! scanned directory. Nothing is imported or executed.

pub mod ast;
pub mod fastapi;
pub mod flask;
pub mod types;

use std::collections::{BTreeMap, BTreeSet};

use ast::{Call, ClassDef, Expr, Module};

use crate::files::Sources;
use crate::{Found, Framework, Gap, Loc};

#[derive(Debug, Default)]
pub struct Project {
    pub modules: BTreeMap<String, Module>,
}

impl Project {
    /// The module named `name`; failing that, the one module whose name ends with it (a
    /// project scanned from a directory above its import root).
    #[must_use]
    pub fn find_module(&self, name: &str) -> Option<&str> {
        if let Some((k, _)) = self.modules.get_key_value(name) {
            return Some(k);
        }
        let suffix = format!(".{name}");
        let mut hits = self.modules.keys().filter(|k| k.ends_with(&suffix));
        match (hits.next(), hits.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }

    /// `dotted` as used in module `module` → (module, symbol within it). `symbol` is `None`
    /// when the name is a module. Modules outside the project keep their dotted name.
    #[must_use]
    pub fn resolve(&self, module: &str, dotted: &str) -> Option<(String, Option<String>)> {
        self.resolve_depth(module, dotted, 0)
    }

    fn resolve_depth(
        &self,
        module: &str,
        dotted: &str,
        depth: usize,
    ) -> Option<(String, Option<String>)> {
        if depth > 20 {
            return None;
        }
        let m = self.modules.get(module)?;
        let mut segs = dotted.split('.');
        let first = segs.next()?;
        let (mut cur_mod, mut sym): (String, Option<String>) = match m.imports.get(first) {
            Some(imp) => match &imp.name {
                None => (
                    self.find_module(&imp.module)
                        .map_or_else(|| imp.module.clone(), str::to_string),
                    None,
                ),
                Some(n) => {
                    let sub = format!("{}.{n}", imp.module);
                    match self.find_module(&sub) {
                        Some(s) => (s.to_string(), None),
                        None => (
                            self.find_module(&imp.module)
                                .map_or_else(|| imp.module.clone(), str::to_string),
                            Some(n.clone()),
                        ),
                    }
                }
            },
            None => (module.to_string(), Some(first.to_string())),
        };
        for seg in segs {
            match &sym {
                None => {
                    let sub = format!("{cur_mod}.{seg}");
                    match self.find_module(&sub) {
                        Some(s) => cur_mod = s.to_string(),
                        None => sym = Some(seg.to_string()),
                    }
                }
                Some(s) => sym = Some(format!("{s}.{seg}")),
            }
        }
        // Follow re-exports: `from .items import router` in a package's __init__.
        if let Some(s) = &sym {
            if cur_mod != module || depth == 0 {
                if let Some(target) = self.modules.get(&cur_mod) {
                    let head = s.split('.').next().unwrap_or(s);
                    if target.imports.contains_key(head) && cur_mod != module {
                        return self.resolve_depth(&cur_mod, s, depth + 1);
                    }
                }
            }
        }
        Some((cur_mod, sym))
    }

    #[must_use]
    pub fn class(&self, module: &str, name: &str) -> Option<(&str, &ClassDef)> {
        let (k, m) = self.modules.get_key_value(module)?;
        m.classes.get(name).map(|c| (k.as_str(), c))
    }

    /// The last segment of what `name` refers to outside the project (`fastapi.APIRouter`
    /// → `APIRouter`); `None` for project symbols.
    #[must_use]
    pub fn external(&self, module: &str, name: &str) -> Option<String> {
        match self.resolve(module, name) {
            Some((m, Some(s))) if !self.modules.contains_key(&m) => {
                Some(s.rsplit('.').next().unwrap_or(&s).to_string())
            }
            Some((m, Some(s))) => {
                let local = self.modules.get(&m).is_some_and(|md| {
                    md.classes.contains_key(&s)
                        || md.functions.iter().any(|f| f.name == s)
                        || md.assigns.iter().any(|a| a.target == s)
                });
                (!local).then(|| s.rsplit('.').next().unwrap_or(&s).to_string())
            }
            Some((m, None)) => Some(m.rsplit('.').next().unwrap_or(&m).to_string()),
            None => Some(name.rsplit('.').next().unwrap_or(name).to_string()),
        }
    }

    pub fn loc(&self, module: &str, line0: usize) -> Loc {
        Loc {
            file: self
                .modules
                .get(module)
                .map_or_else(String::new, |m| m.rel.clone()),
            line: line0 + 1,
        }
    }

    /// A function by (module, name) reference as used in `module`.
    #[must_use]
    pub fn function(&self, module: &str, name: &str) -> Option<(&str, &ast::FuncDef)> {
        let (m, sym) = self.resolve(module, name)?;
        let sym = sym?;
        let (k, md) = self.modules.get_key_value(&m)?;
        md.function(&sym).map(|f| (k.as_str(), f))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    FastApi,
    ApiRouter,
    Flask,
    Blueprint,
}

impl Kind {
    fn framework(self) -> Framework {
        match self {
            Kind::FastApi | Kind::ApiRouter => Framework::Fastapi,
            Kind::Flask | Kind::Blueprint => Framework::Flask,
        }
    }

    fn is_app(self) -> bool {
        matches!(self, Kind::FastApi | Kind::Flask)
    }
}

/// A router object: (module, variable).
pub type Key = (String, String);

#[derive(Debug, Clone)]
pub struct Router {
    pub kind: Kind,
    pub key: Key,
    pub call: Call,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Include {
    pub parent: Key,
    pub child: Key,
    pub call: Call,
    pub module: String,
    pub line: usize,
}

/// A route declaration: a decorated function.
#[derive(Debug, Clone)]
pub struct Decl {
    pub router: Key,
    pub module: String,
    /// `get`, `post`, ..., `route`, `api_route`.
    pub verb: String,
    pub call: Call,
    pub func: ast::FuncDef,
}

#[derive(Debug, Default)]
pub struct Graph {
    pub routers: BTreeMap<Key, Router>,
    pub includes: Vec<Include>,
    pub decls: Vec<Decl>,
    /// Flask `add_url_rule` calls: (router, module, call, line).
    pub url_rules: Vec<(Key, String, Call, usize)>,
}

const VERBS: &[&str] = &[
    "get",
    "post",
    "put",
    "delete",
    "patch",
    "options",
    "head",
    "trace",
    "route",
    "api_route",
];

fn graph(project: &Project, gaps: &mut Vec<Gap>) -> Graph {
    let mut g = Graph::default();
    for (name, m) in &project.modules {
        for a in &m.assigns {
            let Expr::Call(c) = &a.value else { continue };
            let kind = match project.external(name, &c.func).as_deref() {
                Some("FastAPI") => Kind::FastApi,
                Some("APIRouter") => Kind::ApiRouter,
                Some("Flask") => Kind::Flask,
                Some("Blueprint") => Kind::Blueprint,
                _ => continue,
            };
            let key = (name.clone(), a.target.clone());
            g.routers.insert(
                key.clone(),
                Router {
                    kind,
                    key,
                    call: (**c).clone(),
                    line: a.line,
                },
            );
        }
    }
    let router_key = |module: &str, expr: &str| -> Option<Key> {
        let (m, s) = project.resolve(module, expr)?;
        let key = (m, s?);
        g.routers.contains_key(&key).then_some(key)
    };
    let mut includes = Vec::new();
    for (name, m) in &project.modules {
        for c in &m.calls {
            let (child_kw, is_include) = match c.method.as_str() {
                "include_router" => ("router", true),
                "register_blueprint" => ("blueprint", true),
                "mount" => ("app", false),
                "add_url_rule" => {
                    if let Some(r) = router_key(name, &c.receiver) {
                        g.url_rules.push((r, name.clone(), c.call.clone(), c.line));
                    }
                    continue;
                }
                _ => continue,
            };
            let Some(parent) = router_key(name, &c.receiver) else {
                continue;
            };
            let loc = project.loc(name, c.line);
            if !is_include {
                gaps.push(Gap::at(
                    &loc,
                    "a mounted sub-application is not scanned; its routes are left out",
                ));
                continue;
            }
            let child_expr = c.call.arg(child_kw, 0);
            match child_expr.and_then(|e| match e {
                Expr::Name(n) => router_key(name, n),
                _ => None,
            }) {
                Some(child) => includes.push(Include {
                    parent,
                    child,
                    call: c.call.clone(),
                    module: name.clone(),
                    line: c.line,
                }),
                None => gaps.push(Gap::at(
                    &loc,
                    format!(
                        "`{}.{}` of a router not found in the scanned project; its routes are left out",
                        c.receiver, c.method
                    ),
                )),
            }
        }
        for f in &m.functions {
            for (d, line) in &f.decorators {
                let Some(call) = d.as_call() else { continue };
                let Some((recv, verb)) = call.func.rsplit_once('.') else {
                    continue;
                };
                if !VERBS.contains(&verb) {
                    continue;
                }
                let Some(router) = router_key(name, recv) else {
                    continue;
                };
                let mut func = f.clone();
                // Comments are read above the route's own decorator when it is not the first.
                func.first_line = f.first_line.min(*line);
                g.decls.push(Decl {
                    router,
                    module: name.clone(),
                    verb: verb.to_string(),
                    call: call.clone(),
                    func,
                });
            }
        }
    }
    g.includes = includes;
    g
}

/// Scans the Python modules for FastAPI and Flask routes.
pub fn scan(sources: &Sources, framework: Framework, found: &mut Found) {
    let mut project = Project::default();
    for s in sources.with_ext(&["py"]) {
        match ast::parse(&s.rel, &s.text) {
            Some(m) => {
                if m.parse_errors {
                    found.gaps.push(Gap {
                        file: s.rel.clone(),
                        line: 0,
                        operation: None,
                        message: "syntax errors; declarations in the broken parts are not read"
                            .into(),
                    });
                }
                project.modules.insert(m.name.clone(), m);
            }
            None => found.gaps.push(Gap {
                file: s.rel.clone(),
                line: 0,
                operation: None,
                message: "not parsed".into(),
            }),
        }
    }
    if project.modules.is_empty() {
        return;
    }
    let g = graph(&project, &mut found.gaps);
    let mut types = types::Types::new(&project);
    let mut reached: BTreeSet<Key> = BTreeSet::new();
    for family in [Framework::Fastapi, Framework::Flask] {
        if !(framework == Framework::Auto || framework == family) {
            continue;
        }
        let routers: Vec<&Router> = g
            .routers
            .values()
            .filter(|r| r.kind.framework() == family)
            .collect();
        if routers.is_empty() {
            continue;
        }
        let apps: Vec<&Router> = routers
            .iter()
            .copied()
            .filter(|r| r.kind.is_app())
            .collect();
        let included: BTreeSet<&Key> = g.includes.iter().map(|i| &i.child).collect();
        let roots: Vec<&Router> = if apps.is_empty() {
            routers
                .iter()
                .copied()
                .filter(|r| !included.contains(&r.key))
                .collect()
        } else {
            apps
        };
        let before = found.routes.len();
        for root in roots {
            if family == Framework::Fastapi {
                fastapi::collect(&project, &g, root, &mut types, found, &mut reached);
            } else {
                flask::collect(&project, &g, root, found, &mut reached);
            }
        }
        if found.routes.len() > before {
            found.frameworks.push(family);
        }
        for r in routers {
            let n = g.decls.iter().filter(|d| d.router == r.key).count();
            if n > 0 && !reached.contains(&r.key) {
                found.gaps.push(Gap::at(
                    &project.loc(&r.key.0, r.line),
                    format!(
                        "`{}` is not included in any application; its {n} route(s) are left out",
                        r.key.1
                    ),
                ));
            }
        }
    }
    found.gaps.append(&mut types.gaps);
    found.schemas.append(&mut types.schemas);
}
