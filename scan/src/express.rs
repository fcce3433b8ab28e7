//! Express (JavaScript and TypeScript, read with tree-sitter): `app.get('/p/:id', ...)`,
//! `router.post(...)`, `router.route('/p').get(h).post(h)`, `app.use('/prefix', router)`
//! across `require`/`import` of local modules. `:id` becomes `{id}` (a string; `:id(\\d+)`
//! adds the pattern). Query, header and cookie parameters come from literal uses of
//! `req.query`, `req.headers`/`req.get()`, `req.cookies` in handlers defined in the same
//! file; `req.body` marks a JSON request body whose shape is not inferred.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Map, Value};
use tree_sitter::{Node, Parser};

use crate::files::Sources;
use crate::{Found, Framework, Gap, Loc, Route};

const VERBS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "options", "head", "all",
];
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
enum Binding {
    App,
    Router,
    /// An import of a local module: (file, export); export `None` is the module itself
    /// (default export / `module.exports`).
    Import(String, Option<String>),
    /// `require('express')` / `import express from 'express'`.
    Express,
    /// `import { Router } from 'express'`.
    ExpressRouter,
}

#[derive(Debug, Clone)]
enum Arg {
    Str(String),
    Ident(String),
    /// `obj.prop`.
    Member(String, String),
    /// `require('./x')` inline.
    Require(String),
    Inline(Handler),
    Other,
}

#[derive(Debug, Clone, Default)]
struct Handler {
    /// A named function expression's name.
    name: Option<String>,
    /// (location, name)
    params: Vec<(&'static str, String)>,
    body: bool,
    /// Lookups by a computed name.
    dynamic: Vec<String>,
}

#[derive(Debug, Clone)]
struct Segment {
    method: String,
    args: Vec<Arg>,
    /// 0-based line of `.method(`; a comment block right above it applies to this method.
    line: usize,
}

#[derive(Debug, Clone)]
struct Chain {
    base: String,
    segments: Vec<Segment>,
    line: usize,
}

#[derive(Debug, Default)]
struct FileFacts {
    bindings: HashMap<String, Binding>,
    /// Export name (`None` = default / module.exports) → local name.
    exports: HashMap<Option<String>, String>,
    chains: Vec<Chain>,
    handlers: HashMap<String, Handler>,
}

fn named_children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut c = node.walk();
    node.named_children(&mut c).collect()
}

struct Reader<'s> {
    src: &'s [u8],
    rel: &'s str,
    files: &'s BTreeSet<String>,
}

/// `./routes/users` from `src/app.js` → `src/routes/users.js` (or `.ts`, `/index.js`, ...).
fn resolve_spec(from: &str, spec: &str, files: &BTreeSet<String>) -> Option<String> {
    if !spec.starts_with('.') {
        return None;
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in spec.split('/') {
        match seg {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let base = parts.join("/");
    let exts = ["js", "ts", "mjs", "cjs", "tsx", "mts", "cts"];
    let base_no_ext = exts
        .iter()
        .find_map(|e| base.strip_suffix(&format!(".{e}")))
        .unwrap_or(&base);
    std::iter::once(base.clone())
        .chain(exts.iter().map(|e| format!("{base_no_ext}.{e}")))
        .chain(exts.iter().map(|e| format!("{base}/index.{e}")))
        .find(|c| files.contains(c))
}

impl Reader<'_> {
    fn text(&self, n: Node<'_>) -> String {
        n.utf8_text(self.src).unwrap_or("").to_string()
    }

    fn string(&self, n: Node<'_>) -> Option<String> {
        match n.kind() {
            "string" | "template_string" => {
                let mut out = String::new();
                for c in named_children(n) {
                    match c.kind() {
                        "string_fragment" => out.push_str(&self.text(c)),
                        "escape_sequence" => {
                            let t = self.text(c);
                            out.push_str(t.strip_prefix('\\').unwrap_or(&t));
                        }
                        _ => return None,
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }

    fn require_spec(&self, n: Node<'_>) -> Option<String> {
        if n.kind() != "call_expression" {
            return None;
        }
        let f = n.child_by_field_name("function")?;
        if self.text(f) != "require" {
            return None;
        }
        let args = n.child_by_field_name("arguments")?;
        self.string(*named_children(args).first()?)
    }

    fn binding_of_source(&self, spec: &str, export: Option<String>) -> Option<Binding> {
        if spec == "express" {
            return Some(match export.as_deref() {
                None => Binding::Express,
                Some("Router") => Binding::ExpressRouter,
                Some(_) => return None,
            });
        }
        resolve_spec(self.rel, spec, self.files).map(|f| Binding::Import(f, export))
    }

    /// What a value creates: an app, a router, or an import.
    fn value_binding(&self, v: Node<'_>, facts: &FileFacts) -> Option<Binding> {
        let v = self.unwrap(v);
        if let Some(spec) = self.require_spec(v) {
            return self.binding_of_source(&spec, None);
        }
        match v.kind() {
            "call_expression" | "new_expression" => {
                let f = v
                    .child_by_field_name("function")
                    .or_else(|| v.child_by_field_name("constructor"))?;
                match f.kind() {
                    "identifier" => match facts.bindings.get(&self.text(f)) {
                        Some(Binding::Express) => Some(Binding::App),
                        Some(Binding::ExpressRouter) => Some(Binding::Router),
                        _ => None,
                    },
                    "member_expression" => {
                        let obj = f.child_by_field_name("object")?;
                        let prop = f.child_by_field_name("property")?;
                        let is_express = match obj.kind() {
                            "identifier" => {
                                facts.bindings.get(&self.text(obj)) == Some(&Binding::Express)
                            }
                            _ => self.require_spec(obj).as_deref() == Some("express"),
                        };
                        (is_express && self.text(prop) == "Router").then_some(Binding::Router)
                    }
                    _ => None,
                }
            }
            "member_expression" => {
                // `require('./x').router`
                let obj = v.child_by_field_name("object")?;
                let prop = v.child_by_field_name("property")?;
                let spec = self.require_spec(obj)?;
                self.binding_of_source(&spec, Some(self.text(prop)))
            }
            _ => None,
        }
    }

    fn unwrap<'a>(&self, mut v: Node<'a>) -> Node<'a> {
        while matches!(
            v.kind(),
            "parenthesized_expression"
                | "as_expression"
                | "await_expression"
                | "satisfies_expression"
        ) {
            match named_children(v).first() {
                Some(c) => v = *c,
                None => break,
            }
        }
        v
    }

    fn declarations(&self, node: Node<'_>, facts: &mut FileFacts, depth: usize) {
        if depth > 200 {
            return;
        }
        match node.kind() {
            "import_statement" => {
                let spec = node
                    .child_by_field_name("source")
                    .and_then(|s| self.string(s));
                if let Some(spec) = spec {
                    for clause in named_children(node)
                        .into_iter()
                        .filter(|c| c.kind() == "import_clause")
                    {
                        for c in named_children(clause) {
                            match c.kind() {
                                "identifier" => {
                                    if let Some(b) = self.binding_of_source(&spec, None) {
                                        facts.bindings.insert(self.text(c), b);
                                    }
                                }
                                "namespace_import" => {
                                    if let (Some(id), Some(b)) = (
                                        named_children(c).first().map(|i| self.text(*i)),
                                        self.binding_of_source(&spec, None),
                                    ) {
                                        facts.bindings.insert(id, b);
                                    }
                                }
                                "named_imports" => {
                                    for s in named_children(c) {
                                        let name =
                                            s.child_by_field_name("name").map(|n| self.text(n));
                                        let alias =
                                            s.child_by_field_name("alias").map(|n| self.text(n));
                                        if let Some(name) = name {
                                            let export = if name == "default" {
                                                None
                                            } else {
                                                Some(name.clone())
                                            };
                                            if let Some(b) = self.binding_of_source(&spec, export) {
                                                facts.bindings.insert(alias.unwrap_or(name), b);
                                            }
                                        }
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
            "variable_declarator" => {
                if let (Some(name), Some(value)) = (
                    node.child_by_field_name("name"),
                    node.child_by_field_name("value"),
                ) {
                    match name.kind() {
                        "identifier" => {
                            let n = self.text(name);
                            if let Some(b) = self.value_binding(value, facts) {
                                facts.bindings.insert(n.clone(), b);
                            }
                            let v = self.unwrap(value);
                            if matches!(
                                v.kind(),
                                "arrow_function" | "function_expression" | "function"
                            ) {
                                facts.handlers.insert(n, self.handler(v));
                            }
                        }
                        "object_pattern" => {
                            // const { router, other: alias } = require('./x')
                            if let Some(spec) = self.require_spec(self.unwrap(value)) {
                                for p in named_children(name) {
                                    let (export, local) = match p.kind() {
                                        "shorthand_property_identifier_pattern" => {
                                            (self.text(p), self.text(p))
                                        }
                                        "pair_pattern" => match (
                                            p.child_by_field_name("key"),
                                            p.child_by_field_name("value"),
                                        ) {
                                            (Some(k), Some(v)) => (self.text(k), self.text(v)),
                                            _ => continue,
                                        },
                                        _ => continue,
                                    };
                                    if let Some(b) = self.binding_of_source(&spec, Some(export)) {
                                        facts.bindings.insert(local, b);
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            "function_declaration" => {
                if let Some(n) = node.child_by_field_name("name") {
                    facts.handlers.insert(self.text(n), self.handler(node));
                }
            }
            "assignment_expression" => {
                if let (Some(left), Some(right)) = (
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                ) {
                    let l = self.text(left);
                    let export = if l == "module.exports" || l == "exports.default" {
                        Some(None)
                    } else {
                        l.strip_prefix("module.exports.")
                            .or_else(|| l.strip_prefix("exports."))
                            .map(|n| Some(n.to_string()))
                    };
                    if let Some(export) = export {
                        let right = self.unwrap(right);
                        match right.kind() {
                            "arrow_function" | "function_expression" | "function" => {
                                let local = format!("<export {export:?}>");
                                facts.handlers.insert(local.clone(), self.handler(right));
                                facts.exports.insert(export, local);
                            }
                            "identifier" => {
                                facts.exports.insert(export, self.text(right));
                            }
                            "object" => {
                                for p in named_children(right) {
                                    match p.kind() {
                                        "shorthand_property_identifier" => {
                                            facts.exports.insert(Some(self.text(p)), self.text(p));
                                        }
                                        "pair" => {
                                            if let (Some(k), Some(v)) = (
                                                p.child_by_field_name("key"),
                                                p.child_by_field_name("value"),
                                            ) {
                                                facts
                                                    .exports
                                                    .insert(Some(self.text(k)), self.text(v));
                                            }
                                        }
                                        _ => {}
                                    }
                                }
                            }
                            _ => {
                                if let Some(b) = self.value_binding(right, facts) {
                                    let local = format!("<export {export:?}>");
                                    facts.bindings.insert(local.clone(), b);
                                    facts.exports.insert(export, local);
                                }
                            }
                        }
                    }
                }
            }
            "export_statement" => {
                if let Some(v) = node.child_by_field_name("value") {
                    let v = self.unwrap(v);
                    if v.kind() == "identifier" {
                        facts.exports.insert(None, self.text(v));
                    } else if let Some(b) = self.value_binding(v, facts) {
                        facts.bindings.insert("<export default>".into(), b);
                        facts.exports.insert(None, "<export default>".into());
                    }
                }
                if let Some(d) = node.child_by_field_name("declaration") {
                    for decl in named_children(d)
                        .into_iter()
                        .filter(|c| c.kind() == "variable_declarator")
                    {
                        if let Some(n) = decl.child_by_field_name("name") {
                            facts.exports.insert(Some(self.text(n)), self.text(n));
                        }
                    }
                    if let Some(n) = d.child_by_field_name("name") {
                        facts.exports.insert(Some(self.text(n)), self.text(n));
                    }
                }
                for clause in named_children(node)
                    .into_iter()
                    .filter(|c| c.kind() == "export_clause")
                {
                    for s in named_children(clause) {
                        let name = s.child_by_field_name("name").map(|n| self.text(n));
                        let alias = s.child_by_field_name("alias").map(|n| self.text(n));
                        if let Some(name) = name {
                            let export = alias.unwrap_or_else(|| name.clone());
                            let export = if export == "default" {
                                None
                            } else {
                                Some(export)
                            };
                            facts.exports.insert(export, name);
                        }
                    }
                }
            }
            _ => {}
        }
        for c in named_children(node) {
            self.declarations(c, facts, depth + 1);
        }
    }

    /// Route chains: every call expression that is the top of its chain.
    fn chains(&self, node: Node<'_>, facts: &mut FileFacts, depth: usize) {
        if depth > 200 {
            return;
        }
        if node.kind() == "call_expression" {
            let is_top = node.parent().is_none_or(|p| {
                !(p.kind() == "member_expression"
                    && p.child_by_field_name("object")
                        .is_some_and(|o| o.id() == node.id()))
            });
            if is_top {
                if let Some((base, segments)) = self.chain(node, 0) {
                    if facts.bindings.contains_key(&base) {
                        facts.chains.push(Chain {
                            base,
                            segments,
                            line: self.statement_line(node),
                        });
                    }
                }
            }
        }
        for c in named_children(node) {
            self.chains(c, facts, depth + 1);
        }
    }

    /// The first line of the statement holding a call (comments are read above it).
    fn statement_line(&self, node: Node<'_>) -> usize {
        let mut n = node;
        while let Some(p) = n.parent() {
            if p.kind() == "expression_statement" {
                return p.start_position().row;
            }
            if matches!(p.kind(), "program" | "statement_block") {
                break;
            }
            n = p;
        }
        node.start_position().row
    }

    fn chain(&self, call: Node<'_>, depth: usize) -> Option<(String, Vec<Segment>)> {
        if depth > 64 || call.kind() != "call_expression" {
            return None;
        }
        let f = call.child_by_field_name("function")?;
        if f.kind() != "member_expression" {
            return None;
        }
        let obj = self.unwrap(f.child_by_field_name("object")?);
        let method = self.text(f.child_by_field_name("property")?);
        let (base, mut segments) = match obj.kind() {
            "identifier" => (self.text(obj), Vec::new()),
            "call_expression" => self.chain(obj, depth + 1)?,
            _ => return None,
        };
        let args = call
            .child_by_field_name("arguments")
            .map(|a| {
                named_children(a)
                    .into_iter()
                    .filter(|c| c.kind() != "comment")
                    .map(|c| self.arg(c))
                    .collect()
            })
            .unwrap_or_default();
        let line = f
            .child_by_field_name("property")
            .map_or(call.start_position().row, |p| p.start_position().row);
        segments.push(Segment { method, args, line });
        Some((base, segments))
    }

    fn arg(&self, n: Node<'_>) -> Arg {
        let n = self.unwrap(n);
        if let Some(s) = self.string(n) {
            return Arg::Str(s);
        }
        if let Some(spec) = self.require_spec(n) {
            return Arg::Require(spec);
        }
        match n.kind() {
            "identifier" => Arg::Ident(self.text(n)),
            "member_expression" => match (
                n.child_by_field_name("object"),
                n.child_by_field_name("property"),
            ) {
                (Some(o), Some(p)) if o.kind() == "identifier" => {
                    Arg::Member(self.text(o), self.text(p))
                }
                _ => Arg::Other,
            },
            "arrow_function" | "function_expression" | "function" => Arg::Inline(self.handler(n)),
            _ => Arg::Other,
        }
    }

    /// What a handler reads from its request (the first parameter).
    fn handler(&self, f: Node<'_>) -> Handler {
        let mut h = Handler {
            name: f.child_by_field_name("name").map(|n| self.text(n)),
            ..Handler::default()
        };
        let req = f
            .child_by_field_name("parameters")
            .and_then(|ps| named_children(ps).into_iter().next())
            .or_else(|| f.child_by_field_name("parameter"))
            .map(|p| match p.kind() {
                "required_parameter" | "optional_parameter" => p
                    .child_by_field_name("pattern")
                    .map(|x| self.text(x))
                    .unwrap_or_default(),
                _ => self.text(p),
            });
        let Some(req) = req.filter(|r| !r.is_empty()) else {
            return h;
        };
        if let Some(body) = f.child_by_field_name("body") {
            self.uses(body, &req, &mut h, 0);
        }
        h
    }

    fn part(&self, n: Node<'_>, req: &str) -> Option<String> {
        // `req.query` → "query"
        if n.kind() != "member_expression" {
            return None;
        }
        let o = n.child_by_field_name("object")?;
        (o.kind() == "identifier" && self.text(o) == req)
            .then(|| n.child_by_field_name("property").map(|p| self.text(p)))
            .flatten()
    }

    fn uses(&self, n: Node<'_>, req: &str, h: &mut Handler, depth: usize) {
        if depth > 200 {
            return;
        }
        let location = |part: &str| match part {
            "query" => Some("query"),
            "headers" => Some("header"),
            "cookies" | "signedCookies" => Some("cookie"),
            _ => None,
        };
        match n.kind() {
            "member_expression" => {
                if let Some(obj) = n.child_by_field_name("object") {
                    if let Some(loc) = self.part(obj, req).as_deref().and_then(location) {
                        if let Some(p) = n.child_by_field_name("property") {
                            h.params.push((loc, self.text(p)));
                        }
                    }
                }
                if self.part(n, req).as_deref() == Some("body") {
                    h.body = true;
                }
            }
            "subscript_expression" => {
                if let Some(obj) = n.child_by_field_name("object") {
                    if let Some(loc) = self.part(obj, req).as_deref().and_then(location) {
                        match n.child_by_field_name("index").and_then(|i| self.string(i)) {
                            Some(name) => h.params.push((loc, name)),
                            None => h
                                .dynamic
                                .push(format!("{req}.{}", self.part(obj, req).unwrap_or_default())),
                        }
                    }
                }
            }
            "variable_declarator" => {
                if let (Some(name), Some(value)) = (
                    n.child_by_field_name("name"),
                    n.child_by_field_name("value"),
                ) {
                    if name.kind() == "object_pattern" {
                        if let Some(loc) = self
                            .part(self.unwrap(value), req)
                            .as_deref()
                            .and_then(location)
                        {
                            for p in named_children(name) {
                                let key = match p.kind() {
                                    "shorthand_property_identifier_pattern" => Some(self.text(p)),
                                    "pair_pattern" => {
                                        p.child_by_field_name("key").map(|k| self.text(k))
                                    }
                                    "object_assignment_pattern" => {
                                        p.child_by_field_name("left").map(|k| self.text(k))
                                    }
                                    _ => None,
                                };
                                if let Some(k) = key {
                                    h.params.push((
                                        loc,
                                        k.trim_matches(|c| c == '"' || c == '\'').to_string(),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
            "call_expression" => {
                if let Some(f) = n.child_by_field_name("function") {
                    if matches!(self.part(f, req).as_deref(), Some("get" | "header")) {
                        let arg = n
                            .child_by_field_name("arguments")
                            .and_then(|a| named_children(a).into_iter().next());
                        match arg.and_then(|a| self.string(a)) {
                            Some(name) => h.params.push(("header", name)),
                            None => h.dynamic.push(format!("{req}.get")),
                        }
                    }
                }
            }
            _ => {}
        }
        for c in named_children(n) {
            self.uses(c, req, h, depth + 1);
        }
    }
}

fn parse_file(rel: &str, text: &str, files: &BTreeSet<String>) -> Option<(FileFacts, bool)> {
    let mut parser = Parser::new();
    let lang: tree_sitter::Language = match rel.rsplit_once('.').map(|(_, e)| e) {
        Some("ts" | "mts" | "cts") => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        Some("tsx") => tree_sitter_typescript::LANGUAGE_TSX.into(),
        _ => tree_sitter_javascript::LANGUAGE.into(),
    };
    parser.set_language(&lang).ok()?;
    let tree = parser.parse(text, None)?;
    let r = Reader {
        src: text.as_bytes(),
        rel,
        files,
    };
    let mut facts = FileFacts::default();
    r.declarations(tree.root_node(), &mut facts, 0);
    r.chains(tree.root_node(), &mut facts, 0);
    Some((facts, tree.root_node().has_error()))
}

/// A router object: (file, local name).
type Key = (String, String);

struct Ctx<'a> {
    files: &'a BTreeMap<String, FileFacts>,
    found: &'a mut Found,
    reached: BTreeSet<Key>,
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

    /// A handler named by identifier or `module.name`, in this file or an imported one.
    fn handler_of(&self, file: &str, arg: &Arg) -> Option<Handler> {
        let facts = self.files.get(file)?;
        let (target, export) = match arg {
            Arg::Ident(n) => match facts.bindings.get(n) {
                Some(Binding::Import(f, e)) => (f.clone(), e.clone()),
                _ => return facts.handlers.get(n).cloned(),
            },
            Arg::Member(o, p) => match facts.bindings.get(o)? {
                Binding::Import(f, None) => (f.clone(), Some(p.clone())),
                _ => return None,
            },
            _ => return None,
        };
        let t = self.files.get(&target)?;
        let local = t.exports.get(&export)?;
        t.handlers.get(local).cloned()
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
        let mut name = None;
        let mut dynamic = Vec::new();
        let mut unknown_handler = false;
        for h in handlers {
            let info = match h {
                Arg::Inline(i) => {
                    name.clone_from(&i.name);
                    unknown_handler = false;
                    Some(i.clone())
                }
                Arg::Ident(n) | Arg::Member(_, n) => {
                    name = Some(n.clone());
                    let found = self.handler_of(file, h);
                    unknown_handler = found.is_none();
                    found
                }
                _ => None,
            };
            if let Some(i) = info {
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
            if body && !matches!(method, "get" | "head" | "delete" | "options") {
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
        found.gaps.push(Gap {
            file: roots.first().map(|r| r.0.clone()).unwrap_or_default(),
            line: 0,
            operation: None,
            message: format!(
                "Express responses are not inferred ({} operations documented with a `default` response)",
                found.routes.len() - before
            ),
        });
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
