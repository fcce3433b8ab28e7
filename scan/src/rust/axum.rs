//! axum: `Router::new().route("/p/{id}", get(h).post(h2))`, `.nest("/prefix", r)`,
//! `.merge(r)`, with routers held in `let` bindings or returned by functions of the crate.
//! Every function is evaluated symbolically (no code is run); the routers no other router
//! nests or merges are the applications.

use std::collections::{BTreeSet, HashMap};

use syn::{Expr, Pat, Stmt};

use super::types::Types;
use super::{line_of, push_route, Crate, Entry, Func};
use crate::{Found, Framework, Gap, Loc};

const VERBS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "head", "options", "trace",
];

struct Eval<'a> {
    krate: &'a Crate,
    used: BTreeSet<String>,
    stack: Vec<String>,
    gaps: Vec<Gap>,
}

fn lit_str(e: &Expr) -> Option<String> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        Expr::Group(g) => lit_str(&g.expr),
        Expr::Paren(p) => lit_str(&p.expr),
        _ => None,
    }
}

fn join(prefix: &str, path: &str) -> String {
    if path == "/" || path.is_empty() {
        if prefix.is_empty() {
            "/".into()
        } else {
            prefix.to_string()
        }
    } else {
        format!("{}{path}", prefix.trim_end_matches('/'))
    }
}

fn is_router_new(c: &syn::ExprCall) -> bool {
    let Expr::Path(p) = &*c.func else {
        return false;
    };
    let segs: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segs.len() >= 2 && segs.ends_with(&["Router".to_string(), "new".to_string()])
}

impl Eval<'_> {
    fn func(&mut self, f: &Func) -> Option<Vec<Entry>> {
        let name = f.item.sig.ident.to_string();
        if self.stack.contains(&name) || self.stack.len() > 32 {
            return None;
        }
        self.stack.push(name);
        let r = self.block(&f.item.block.stmts, &f.file, &mut HashMap::new());
        self.stack.pop();
        r
    }

    fn block(
        &mut self,
        stmts: &[Stmt],
        file: &str,
        env: &mut HashMap<String, Vec<Entry>>,
    ) -> Option<Vec<Entry>> {
        let mut last = None;
        for (i, stmt) in stmts.iter().enumerate() {
            match stmt {
                Stmt::Local(l) => {
                    let Some(init) = &l.init else { continue };
                    if let Some(v) = self.expr(&init.expr, file, env) {
                        let name = match &l.pat {
                            Pat::Ident(p) => Some(p.ident.to_string()),
                            Pat::Type(t) => match &*t.pat {
                                Pat::Ident(p) => Some(p.ident.to_string()),
                                _ => None,
                            },
                            _ => None,
                        };
                        if let Some(n) = name {
                            env.insert(n, v.clone());
                        }
                        last = Some(v);
                    }
                }
                Stmt::Expr(Expr::Return(r), _) => {
                    return r
                        .expr
                        .as_ref()
                        .and_then(|e| self.expr(e, file, env))
                        .or(last);
                }
                Stmt::Expr(e, None) if i + 1 == stmts.len() => {
                    if let Some(v) = self.expr(e, file, env) {
                        return Some(v);
                    }
                }
                _ => {}
            }
        }
        last
    }

    fn expr(
        &mut self,
        e: &Expr,
        file: &str,
        env: &mut HashMap<String, Vec<Entry>>,
    ) -> Option<Vec<Entry>> {
        match e {
            Expr::MethodCall(m) => {
                let mut base = self.expr(&m.receiver, file, env)?;
                let method = m.method.to_string();
                let line = line_of(m.method.span());
                let loc = Loc {
                    file: file.to_string(),
                    line,
                };
                let args: Vec<&Expr> = m.args.iter().collect();
                match method.as_str() {
                    "route" => {
                        let (Some(p), Some(mr)) =
                            (args.first().and_then(|a| lit_str(a)), args.get(1))
                        else {
                            self.gaps
                                .push(Gap::at(&loc, "route() path is not a literal; left out"));
                            return Some(base);
                        };
                        for (verb, handler) in self.method_router(mr, &loc) {
                            base.push(Entry {
                                path: p.clone(),
                                method: verb,
                                handler,
                                file: file.to_string(),
                                line,
                                registered_at: None,
                            });
                        }
                    }
                    "nest" | "merge" => {
                        let (prefix, target) = if method == "nest" {
                            (args.first().and_then(|a| lit_str(a)), args.get(1))
                        } else {
                            (Some(String::new()), args.first())
                        };
                        let Some(prefix) = prefix else {
                            self.gaps.push(Gap::at(
                                &loc,
                                "nest() prefix is not a literal; the nested routes are left out",
                            ));
                            return Some(base);
                        };
                        match target.and_then(|t| self.expr(t, file, env)) {
                            Some(sub) => base.extend(sub.into_iter().map(|mut s| {
                                s.path = join(&prefix, &s.path);
                                s
                            })),
                            None => self.gaps.push(Gap::at(&loc, format!("{method}() target is not a router the scan can read; its routes are left out"))),
                        }
                    }
                    "nest_service" | "route_service" | "fallback_service" => {
                        self.gaps.push(Gap::at(
                            &loc,
                            format!("{method}() mounts a tower service; not described"),
                        ));
                    }
                    _ => {}
                }
                Some(base)
            }
            Expr::Call(c) if is_router_new(c) => Some(Vec::new()),
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else { return None };
                let f = self.krate.func(&p.path)?.clone();
                let v = self.func(&f)?;
                self.used.insert(f.item.sig.ident.to_string());
                Some(v)
            }
            Expr::Path(p) => {
                let id = p.path.get_ident()?.to_string();
                env.get(&id).cloned()
            }
            Expr::Paren(p) => self.expr(&p.expr, file, env),
            Expr::Group(g) => self.expr(&g.expr, file, env),
            Expr::Reference(r) => self.expr(&r.expr, file, env),
            Expr::Try(t) => self.expr(&t.expr, file, env),
            Expr::Await(a) => self.expr(&a.base, file, env),
            Expr::Block(b) => self.block(&b.block.stmts, file, &mut env.clone()),
            _ => None,
        }
    }

    /// `get(h).post(h2)`, `routing::get(h)`, `on(MethodFilter::GET, h)`.
    fn method_router(&mut self, e: &Expr, loc: &Loc) -> Vec<(String, Option<syn::Path>)> {
        let handler = |a: Option<&Expr>| match a {
            Some(Expr::Path(p)) => Some(p.path.clone()),
            _ => None,
        };
        match e {
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else {
                    return Vec::new();
                };
                let name = p
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                if VERBS.contains(&name.as_str()) {
                    return vec![(name, handler(c.args.first()))];
                }
                if name == "on" {
                    if let Some(Expr::Path(f)) = c.args.first() {
                        let m = f
                            .path
                            .segments
                            .last()
                            .map(|s| s.ident.to_string().to_lowercase())
                            .unwrap_or_default();
                        if VERBS.contains(&m.as_str()) {
                            return vec![(m, handler(c.args.iter().nth(1)))];
                        }
                    }
                }
                self.gaps.push(Gap::at(
                    loc,
                    format!("`{name}(...)` method router not described"),
                ));
                Vec::new()
            }
            Expr::MethodCall(m) => {
                let mut base = self.method_router(&m.receiver, loc);
                let name = m.method.to_string();
                if VERBS.contains(&name.as_str()) {
                    base.push((name, handler(m.args.first())));
                }
                base
            }
            Expr::Paren(p) => self.method_router(&p.expr, loc),
            _ => {
                self.gaps.push(Gap::at(
                    loc,
                    "method router is not a literal chain of get/post/...; left out",
                ));
                Vec::new()
            }
        }
    }
}

pub fn collect(krate: &Crate, types: &mut Types<'_>, found: &mut Found) {
    let mut ev = Eval {
        krate,
        used: BTreeSet::new(),
        stack: Vec::new(),
        gaps: Vec::new(),
    };
    let mut results: Vec<(String, Vec<Entry>)> = Vec::new();
    for funcs in krate.fns.values() {
        for f in funcs {
            if let Some(v) = ev.func(f) {
                if !v.is_empty() {
                    results.push((f.item.sig.ident.to_string(), v));
                }
            }
        }
    }
    let used = std::mem::take(&mut ev.used);
    found.gaps.append(&mut ev.gaps);
    for (_, entries) in results.into_iter().filter(|(n, _)| !used.contains(n)) {
        for e in entries {
            push_route(krate, types, Framework::Axum, e, found);
        }
    }
}
