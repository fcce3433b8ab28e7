//! Reading one JavaScript/TypeScript file with tree-sitter into owned facts: bindings
//! (apps, routers, imports), exports, route call chains and what handlers read from `req`.

use std::collections::{BTreeSet, HashMap};

use tree_sitter::{Node, Parser};

use super::ts_types::{self, TsType};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Binding {
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
pub(super) enum Arg {
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
pub(super) struct Handler {
    /// A named function expression's name.
    pub(super) name: Option<String>,
    /// (location, name)
    pub(super) params: Vec<(&'static str, String)>,
    pub(super) body: bool,
    /// Lookups by a computed name.
    pub(super) dynamic: Vec<String>,
    /// TypeScript: `Request<P, ResBody, ReqBody, Query>` and `Response<ResBody>`.
    pub(super) body_type: Option<TsType>,
    pub(super) query_type: Option<TsType>,
    pub(super) response_type: Option<TsType>,
}

#[derive(Debug, Clone)]
pub(super) struct Segment {
    pub(super) method: String,
    pub(super) args: Vec<Arg>,
    /// 0-based line of `.method(`; a comment block right above it applies to this method.
    pub(super) line: usize,
}

#[derive(Debug, Clone)]
pub(super) struct Chain {
    pub(super) base: String,
    pub(super) segments: Vec<Segment>,
    pub(super) line: usize,
}

#[derive(Debug, Default)]
pub(super) struct FileFacts {
    pub(super) bindings: HashMap<String, Binding>,
    /// Export name (`None` = default / module.exports) → local name.
    pub(super) exports: HashMap<Option<String>, String>,
    pub(super) chains: Vec<Chain>,
    pub(super) handlers: HashMap<String, Handler>,
    /// TypeScript interfaces and type aliases by name.
    pub(super) types: HashMap<String, TsType>,
}

pub(super) fn named_children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut c = node.walk();
    node.named_children(&mut c).collect()
}

pub(super) struct Reader<'s> {
    pub(super) src: &'s [u8],
    pub(super) rel: &'s str,
    pub(super) files: &'s BTreeSet<String>,
}

/// `./routes/users` from `src/app.js` → `src/routes/users.js` (or `.ts`, `/index.js`, ...).
pub(super) fn resolve_spec(from: &str, spec: &str, files: &BTreeSet<String>) -> Option<String> {
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
            "interface_declaration" => {
                if let (Some(n), Some(b)) = (
                    node.child_by_field_name("name"),
                    node.child_by_field_name("body"),
                ) {
                    facts
                        .types
                        .insert(self.text(n), ts_types::object_members(b, self.src));
                }
            }
            "type_alias_declaration" => {
                if let (Some(n), Some(v)) = (
                    node.child_by_field_name("name"),
                    node.child_by_field_name("value"),
                ) {
                    facts
                        .types
                        .insert(self.text(n), ts_types::read(v, self.src));
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
        let params: Vec<Node<'_>> = f
            .child_by_field_name("parameters")
            .map(named_children)
            .unwrap_or_default();
        let generic = |p: Option<&Node<'_>>, of: &str| -> Vec<TsType> {
            let Some(t) = p.and_then(|p| p.child_by_field_name("type")) else {
                return Vec::new();
            };
            let Some(g) = named_children(t)
                .into_iter()
                .next()
                .filter(|g| g.kind() == "generic_type")
            else {
                return Vec::new();
            };
            let name = g
                .child_by_field_name("name")
                .map(|n| self.text(n))
                .unwrap_or_default();
            if name.rsplit('.').next() != Some(of) {
                return Vec::new();
            }
            g.child_by_field_name("type_arguments")
                .map(|a| {
                    named_children(a)
                        .into_iter()
                        .map(|t| ts_types::read(t, self.src))
                        .collect()
                })
                .unwrap_or_default()
        };
        let req_args = generic(params.first(), "Request");
        let res_args = generic(params.get(1), "Response");
        h.response_type = res_args.first().or(req_args.get(1)).cloned();
        h.body_type = req_args.get(2).cloned();
        h.query_type = req_args.get(3).cloned();
        let req = params
            .first()
            .copied()
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

pub(super) fn parse_file(
    rel: &str,
    text: &str,
    files: &BTreeSet<String>,
) -> Option<(FileFacts, bool)> {
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
