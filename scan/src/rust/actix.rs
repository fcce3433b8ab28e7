//! actix-web: route attributes (`#[get("/p/{id}")]`, `#[route("/p", method = "GET", ...)]`)
//! on handlers registered with `.service(h)`, `web::resource("/p").route(web::get().to(h))`,
//! `.route("/p", web::post().to(h))`, `web::scope("/prefix")` and `.configure(f)`, in every
//! `App::new()` chain of the crate.

use std::collections::BTreeSet;

use syn::parse::ParseStream;
use syn::visit::Visit;
use syn::{Expr, LitStr, Token};

use super::types::Types;
use super::{line_of, push_route, Crate, Entry, Func};
use crate::{Found, Framework, Gap, Loc};

const VERBS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "head", "options", "trace",
];

/// The route attribute of a handler: (methods, path).
fn route_attr(f: &Func) -> Option<(Vec<String>, String, usize)> {
    for a in &f.item.attrs {
        let name = a.path().segments.last()?.ident.to_string();
        let line = line_of(a.pound_token.span);
        if VERBS.contains(&name.as_str()) || name == "route" {
            let parsed = a.parse_args_with(|input: ParseStream<'_>| {
                let path: LitStr = input.parse()?;
                let mut methods = Vec::new();
                while !input.is_empty() {
                    input.parse::<Token![,]>()?;
                    if input.is_empty() {
                        break;
                    }
                    let key: syn::Ident = input.parse()?;
                    input.parse::<Token![=]>()?;
                    let v: Expr = input.parse()?;
                    if key == "method" {
                        if let Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) = v
                        {
                            methods.push(s.value().to_lowercase());
                        }
                    }
                }
                Ok((path.value(), methods))
            });
            if let Ok((path, methods)) = parsed {
                let methods = if name == "route" { methods } else { vec![name] };
                let first_attr = f
                    .item
                    .attrs
                    .first()
                    .map_or(line, |a| line_of(a.pound_token.span));
                return Some((methods, path, first_attr));
            }
        }
    }
    None
}

fn lit_str(e: &Expr) -> Option<String> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

fn call_path(e: &Expr) -> Option<(Vec<String>, &syn::ExprCall)> {
    match e {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => Some((
                p.path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect(),
                c,
            )),
            _ => None,
        },
        _ => None,
    }
}

/// The innermost receiver of a method chain.
fn chain_root(e: &Expr) -> &Expr {
    match e {
        Expr::MethodCall(m) => chain_root(&m.receiver),
        e => e,
    }
}

struct Finder<'a> {
    file: &'a str,
    apps: Vec<(String, Expr)>,
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let is_app = call_path(chain_root(&m.receiver))
            .is_some_and(|(segs, _)| segs.ends_with(&["App".to_string(), "new".to_string()]));
        if is_app {
            self.apps
                .push((self.file.to_string(), Expr::MethodCall(m.clone())));
            return;
        }
        syn::visit::visit_expr_method_call(self, m);
    }
}

struct Eval<'a> {
    krate: &'a Crate,
    registered: BTreeSet<String>,
    gaps: Vec<Gap>,
    depth: usize,
    /// Line of the `.service(` being evaluated.
    service_line: usize,
}

impl Eval<'_> {
    /// Applies a chain's `.service/.route/.configure` calls under `prefix`.
    fn chain(&mut self, e: &Expr, prefix: &str, file: &str, out: &mut Vec<Entry>) {
        let Expr::MethodCall(m) = e else { return };
        self.chain(&m.receiver, prefix, file, out);
        let line = line_of(m.method.span());
        let loc = Loc {
            file: file.to_string(),
            line,
        };
        let args: Vec<&Expr> = m.args.iter().collect();
        match m.method.to_string().as_str() {
            "service" => {
                self.service_line = line;
                if let Some(a) = args.first() {
                    self.service(a, prefix, file, out);
                }
            }
            "route" => match (args.first().and_then(|a| lit_str(a)), args.get(1)) {
                (Some(p), Some(r)) => {
                    let path = format!("{prefix}{p}");
                    if let Some((method, handler)) = self.route_def(r, &loc) {
                        out.push(Entry {
                            path,
                            method,
                            handler,
                            file: file.to_string(),
                            line,
                            registered_at: None,
                        });
                    }
                }
                _ => self
                    .gaps
                    .push(Gap::at(&loc, "route() path is not a literal; left out")),
            },
            "configure" => match args.first() {
                Some(Expr::Path(p)) => match self.krate.func(&p.path).cloned() {
                    Some(f) => self.configure(&f, prefix, out),
                    None => self.gaps.push(Gap::at(
                        &loc,
                        "configure() function not found; its routes are left out",
                    )),
                },
                _ => self.gaps.push(Gap::at(
                    &loc,
                    "configure() with a closure; its routes are left out",
                )),
            },
            _ => {}
        }
    }

    /// `fn config(cfg: &mut web::ServiceConfig) { cfg.service(...); ... }`
    fn configure(&mut self, f: &Func, prefix: &str, out: &mut Vec<Entry>) {
        if self.depth > 16 {
            return;
        }
        self.depth += 1;
        for stmt in &f.item.block.stmts {
            if let syn::Stmt::Expr(e, _) = stmt {
                if matches!(chain_root(e), Expr::Path(_)) {
                    self.chain(e, prefix, &f.file, out);
                }
            }
        }
        self.depth -= 1;
    }

    fn service(&mut self, e: &Expr, prefix: &str, file: &str, out: &mut Vec<Entry>) {
        match e {
            Expr::Path(p) => {
                let Some(f) = self.krate.func(&p.path).cloned() else {
                    self.gaps.push(Gap::at(
                        &Loc {
                            file: file.to_string(),
                            line: line_of(
                                p.path
                                    .segments
                                    .first()
                                    .map_or_else(proc_macro2::Span::call_site, |s| s.ident.span()),
                            ),
                        },
                        "service is not a handler of the crate; left out",
                    ));
                    return;
                };
                let name = f.item.sig.ident.to_string();
                match route_attr(&f) {
                    Some((methods, path, line)) => {
                        self.registered.insert(name);
                        for method in methods {
                            out.push(Entry {
                                path: format!("{prefix}{path}"),
                                method,
                                handler: Some(p.path.clone()),
                                file: f.file.clone(),
                                line,
                                registered_at: Some((file.to_string(), self.service_line)),
                            });
                        }
                    }
                    None => self.gaps.push(Gap::at(
                        &Loc {
                            file: f.file.clone(),
                            line: line_of(f.item.sig.ident.span()),
                        },
                        format!("service `{name}` has no route attribute; left out"),
                    )),
                }
            }
            Expr::MethodCall(_) => {
                let root = chain_root(e);
                match call_path(root) {
                    Some((segs, c)) if segs.last().is_some_and(|s| s == "scope") => {
                        let p = c.args.first().and_then(lit_str).unwrap_or_default();
                        self.chain(e, &format!("{prefix}{p}"), file, out);
                    }
                    Some((segs, c)) if segs.last().is_some_and(|s| s == "resource") => {
                        let p = c.args.first().and_then(lit_str).unwrap_or_default();
                        self.resource(e, &format!("{prefix}{p}"), file, out);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn resource(&mut self, e: &Expr, path: &str, file: &str, out: &mut Vec<Entry>) {
        let Expr::MethodCall(m) = e else { return };
        self.resource(&m.receiver, path, file, out);
        let line = line_of(m.method.span());
        let loc = Loc {
            file: file.to_string(),
            line,
        };
        match m.method.to_string().as_str() {
            "route" => {
                if let Some(r) = m.args.first() {
                    if let Some((method, handler)) = self.route_def(r, &loc) {
                        out.push(Entry {
                            path: path.to_string(),
                            method,
                            handler,
                            file: file.to_string(),
                            line,
                            registered_at: None,
                        });
                    }
                }
            }
            "to" => self.gaps.push(Gap::at(
                &loc,
                "resource().to(h) answers every method; left out (use .route(web::get().to(h)))",
            )),
            _ => {}
        }
    }

    /// `web::get().to(h)` → ("get", h).
    fn route_def(&mut self, e: &Expr, loc: &Loc) -> Option<(String, Option<syn::Path>)> {
        let Expr::MethodCall(m) = e else { return None };
        if m.method == "to" {
            let (segs, _) = call_path(chain_root(&m.receiver))?;
            let verb = segs.last()?.clone();
            if !VERBS.contains(&verb.as_str()) {
                self.gaps
                    .push(Gap::at(loc, format!("`{verb}()` route not described")));
                return None;
            }
            let handler = match m.args.first() {
                Some(Expr::Path(p)) => Some(p.path.clone()),
                _ => None,
            };
            return Some((verb, handler));
        }
        self.route_def(&m.receiver, loc)
    }
}

pub fn collect(krate: &Crate, types: &mut Types<'_>, found: &mut Found) {
    let mut apps = Vec::new();
    for funcs in krate.fns.values() {
        for f in funcs {
            let mut finder = Finder {
                file: &f.file,
                apps: Vec::new(),
            };
            finder.visit_item_fn(&f.item);
            apps.extend(finder.apps);
        }
    }
    let mut ev = Eval {
        krate,
        registered: BTreeSet::new(),
        gaps: Vec::new(),
        depth: 0,
        service_line: 0,
    };
    let mut entries = Vec::new();
    for (file, app) in &apps {
        ev.chain(app, "", file, &mut entries);
    }
    let attributed: Vec<&Func> = krate
        .fns
        .values()
        .flatten()
        .filter(|f| route_attr(f).is_some())
        .collect();
    if apps.is_empty() {
        // No App in the crate (a library of handlers): each attribute stands alone.
        for f in &attributed {
            if let Some((methods, path, line)) = route_attr(f) {
                for method in methods {
                    entries.push(Entry {
                        path: path.clone(),
                        method,
                        handler: Some(f.item.sig.ident.clone().into()),
                        file: f.file.clone(),
                        line,
                        registered_at: None,
                    });
                }
            }
        }
    } else {
        for f in attributed {
            let name = f.item.sig.ident.to_string();
            if !ev.registered.contains(&name) {
                found.gaps.push(Gap::at(
                    &Loc { file: f.file.clone(), line: line_of(f.item.sig.ident.span()) },
                    format!("handler `{name}` has a route attribute but is not registered in any App; left out"),
                ));
            }
        }
    }
    found.gaps.append(&mut ev.gaps);
    for e in entries {
        push_route(krate, types, Framework::Actix, e, found);
    }
}
