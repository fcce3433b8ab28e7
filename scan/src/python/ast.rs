//! A Python module read with tree-sitter into the few owned facts the scanners need: imports,
//! assignments, method-call statements, classes and functions. Expressions are kept as
//! [`Expr`], a literal-or-name view; anything else is [`Expr::Other`] and never evaluated.

use std::collections::HashMap;

use serde_json::{json, Value};
use tree_sitter::{Node, Parser};

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
    Ellipsis,
    List(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    /// A name or an attribute chain: `a.b.c`.
    Name(String),
    Call(Box<Call>),
    /// `value[index, ...]`, the value a name.
    Subscript(String, Vec<Expr>),
    /// `a | b | c` in annotations.
    Union(Vec<Expr>),
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The callee when it is a name or attribute chain, else "".
    pub func: String,
    pub args: Vec<Expr>,
    pub kwargs: Vec<(String, Expr)>,
}

impl Call {
    #[must_use]
    pub fn kw(&self, name: &str) -> Option<&Expr> {
        self.kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Keyword `name`, else positional argument `pos`.
    #[must_use]
    pub fn arg(&self, name: &str, pos: usize) -> Option<&Expr> {
        self.kw(name).or_else(|| self.args.get(pos))
    }
}

impl Expr {
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::Str(s) => Some(s),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_call(&self) -> Option<&Call> {
        match self {
            Expr::Call(c) => Some(c),
            _ => None,
        }
    }

    /// The value as JSON when it is a literal.
    #[must_use]
    pub fn literal(&self) -> Option<Value> {
        Some(match self {
            Expr::Str(s) => json!(s),
            Expr::Int(i) => json!(i),
            Expr::Float(f) => json!(f),
            Expr::Bool(b) => json!(b),
            Expr::None => Value::Null,
            Expr::List(items) => Value::Array(
                items
                    .iter()
                    .map(Expr::literal)
                    .collect::<Option<Vec<_>>>()?,
            ),
            Expr::Dict(pairs) => {
                let mut m = serde_json::Map::new();
                for (k, v) in pairs {
                    m.insert(k.as_str()?.to_string(), v.literal()?);
                }
                Value::Object(m)
            }
            _ => return None,
        })
    }

    /// Literal strings of a list (`tags=["a", "b"]`).
    #[must_use]
    pub fn str_list(&self) -> Option<Vec<String>> {
        match self {
            Expr::List(items) => items
                .iter()
                .map(|e| e.as_str().map(str::to_string))
                .collect(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Import {
    /// Absolute module name (relative imports resolved against the importing module).
    pub module: String,
    /// The imported name for `from m import name`; `None` for `import m`.
    pub name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Assign {
    pub target: String,
    pub value: Expr,
    pub line: usize,
}

/// A statement `receiver.method(...)`, anywhere in the module.
#[derive(Debug, Clone)]
pub struct CallStmt {
    pub receiver: String,
    pub method: String,
    pub call: Call,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub annotation: Option<Expr>,
    pub default: Option<Expr>,
    /// `*args` / `**kwargs`.
    pub splat: bool,
}

/// A use of Flask's `request` in a view body.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestUse {
    /// `request.args.get("n", type=int)`, `request.args["n"]`, `request.args.getlist("n")`,
    /// and the same on `headers`/`cookies`.
    Param {
        location: &'static str,
        name: String,
        required: bool,
        ty: Option<String>,
        list: bool,
        line: usize,
    },
    /// `request.get_json()` / `request.json`.
    Json { line: usize },
    /// `request.form` / `request.files`.
    Form { line: usize },
    /// A lookup whose name is not a literal.
    Dynamic { what: String, line: usize },
}

#[derive(Debug, Clone)]
pub struct FuncDef {
    pub name: String,
    pub decorators: Vec<(Expr, usize)>,
    pub params: Vec<Param>,
    pub returns: Option<Expr>,
    pub doc: Option<String>,
    /// 0-based first line of the definition, decorators included.
    pub first_line: usize,
    pub is_async: bool,
    pub request_uses: Vec<RequestUse>,
}

#[derive(Debug, Clone)]
pub struct ClassField {
    pub name: String,
    pub annotation: Option<Expr>,
    pub value: Option<Expr>,
}

#[derive(Debug, Clone)]
pub struct ClassDef {
    pub name: String,
    pub bases: Vec<Expr>,
    pub fields: Vec<ClassField>,
    pub doc: Option<String>,
    pub line: usize,
}

#[derive(Debug)]
pub struct Module {
    pub name: String,
    pub rel: String,
    pub is_package: bool,
    pub imports: HashMap<String, Import>,
    pub assigns: Vec<Assign>,
    pub calls: Vec<CallStmt>,
    pub classes: HashMap<String, ClassDef>,
    pub functions: Vec<FuncDef>,
    pub parse_errors: bool,
}

impl Module {
    #[must_use]
    pub fn function(&self, name: &str) -> Option<&FuncDef> {
        self.functions.iter().find(|f| f.name == name)
    }
}

/// Module name of a file: `app/routers/items.py` → `app.routers.items`, `app/__init__.py`
/// → `app`.
#[must_use]
pub fn module_name(rel: &str) -> (String, bool) {
    let stem = rel.strip_suffix(".py").unwrap_or(rel);
    match stem.strip_suffix("/__init__") {
        Some(pkg) => (pkg.replace('/', "."), true),
        None if stem == "__init__" => (String::new(), true),
        None => (stem.replace('/', "."), false),
    }
}

pub fn parse(rel: &str, src: &str) -> Option<Module> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .ok()?;
    let tree = parser.parse(src, None)?;
    let (name, is_package) = module_name(rel);
    let mut m = Module {
        name,
        rel: rel.to_string(),
        is_package,
        imports: HashMap::new(),
        assigns: Vec::new(),
        calls: Vec::new(),
        classes: HashMap::new(),
        functions: Vec::new(),
        parse_errors: tree.root_node().has_error(),
    };
    let r = Reader {
        src: src.as_bytes(),
    };
    r.walk(tree.root_node(), &mut m, 0);
    Some(m)
}

struct Reader<'s> {
    src: &'s [u8],
}

fn named_children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut c = node.walk();
    node.named_children(&mut c).collect()
}

impl Reader<'_> {
    fn text(&self, n: Node<'_>) -> String {
        n.utf8_text(self.src).unwrap_or("").to_string()
    }

    fn walk(&self, node: Node<'_>, m: &mut Module, depth: usize) {
        if depth > 200 {
            return;
        }
        match node.kind() {
            "import_statement" => self.import(node, m),
            "import_from_statement" => self.import_from(node, m),
            "decorated_definition" => {
                let decorators: Vec<(Expr, usize)> = named_children(node)
                    .into_iter()
                    .filter(|c| c.kind() == "decorator")
                    .filter_map(|d| {
                        named_children(d)
                            .first()
                            .map(|e| (self.expr(*e), d.start_position().row))
                    })
                    .collect();
                if let Some(def) = node.child_by_field_name("definition") {
                    match def.kind() {
                        "function_definition" => {
                            self.function(def, decorators, node.start_position().row, m);
                        }
                        "class_definition" => self.class(def, m),
                        _ => {}
                    }
                    if let Some(body) = def.child_by_field_name("body") {
                        self.walk(body, m, depth + 1);
                    }
                }
                return;
            }
            "function_definition" => {
                self.function(node, Vec::new(), node.start_position().row, m);
            }
            "class_definition" => self.class(node, m),
            "assignment" => {
                if let (Some(left), Some(right)) = (
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                ) {
                    if matches!(left.kind(), "identifier" | "attribute") {
                        m.assigns.push(Assign {
                            target: self.text(left),
                            value: self.expr(right),
                            line: node.start_position().row,
                        });
                    }
                }
            }
            "expression_statement" => {
                if let Some(call) = named_children(node).first().filter(|c| c.kind() == "call") {
                    if let Expr::Call(c) = self.expr(*call) {
                        if let Some((recv, method)) = c.func.rsplit_once('.') {
                            m.calls.push(CallStmt {
                                receiver: recv.to_string(),
                                method: method.to_string(),
                                call: (*c).clone(),
                                line: node.start_position().row,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
        for child in named_children(node) {
            self.walk(child, m, depth + 1);
        }
    }

    fn package_of(m: &Module, dots: usize) -> String {
        // `from . import x` in package `a.b` (its __init__) is `a.b`; in module `a.b` it is `a`.
        let mut parts: Vec<&str> = m.name.split('.').filter(|s| !s.is_empty()).collect();
        let up = if m.is_package { dots - 1 } else { dots };
        for _ in 0..up {
            parts.pop();
        }
        parts.join(".")
    }

    fn import(&self, node: Node<'_>, m: &mut Module) {
        for c in named_children(node) {
            match c.kind() {
                "dotted_name" => {
                    let full = self.text(c);
                    let first = full.split('.').next().unwrap_or("").to_string();
                    m.imports.insert(
                        first.clone(),
                        Import {
                            module: first,
                            name: None,
                        },
                    );
                }
                "aliased_import" => {
                    if let (Some(n), Some(a)) = (
                        c.child_by_field_name("name"),
                        c.child_by_field_name("alias"),
                    ) {
                        m.imports.insert(
                            self.text(a),
                            Import {
                                module: self.text(n),
                                name: None,
                            },
                        );
                    }
                }
                _ => {}
            }
        }
    }

    fn import_from(&self, node: Node<'_>, m: &mut Module) {
        let Some(module_node) = node.child_by_field_name("module_name") else {
            return;
        };
        let module = if module_node.kind() == "relative_import" {
            let mut dots = 0;
            let mut rest = String::new();
            for c in named_children(module_node) {
                match c.kind() {
                    "import_prefix" => dots = self.text(c).chars().filter(|c| *c == '.').count(),
                    "dotted_name" => rest = self.text(c),
                    _ => {}
                }
            }
            let base = Self::package_of(m, dots.max(1));
            match (base.is_empty(), rest.is_empty()) {
                (true, _) => rest,
                (false, true) => base,
                (false, false) => format!("{base}.{rest}"),
            }
        } else {
            self.text(module_node)
        };
        let mut c = node.walk();
        for n in node.children_by_field_name("name", &mut c) {
            let (name, alias) = match n.kind() {
                "aliased_import" => (
                    n.child_by_field_name("name").map(|x| self.text(x)),
                    n.child_by_field_name("alias").map(|x| self.text(x)),
                ),
                _ => (Some(self.text(n)), None),
            };
            if let Some(name) = name {
                m.imports.insert(
                    alias.unwrap_or_else(|| name.clone()),
                    Import {
                        module: module.clone(),
                        name: Some(name),
                    },
                );
            }
        }
    }

    fn docstring(&self, body: Option<Node<'_>>) -> Option<String> {
        let first = named_children(body?).into_iter().next()?;
        if first.kind() != "expression_statement" {
            return None;
        }
        let s = named_children(first).into_iter().next()?;
        match self.expr(s) {
            Expr::Str(s) => Some(s),
            _ => None,
        }
    }

    fn function(
        &self,
        node: Node<'_>,
        decorators: Vec<(Expr, usize)>,
        first: usize,
        m: &mut Module,
    ) {
        let name = node
            .child_by_field_name("name")
            .map(|n| self.text(n))
            .unwrap_or_default();
        let mut params = Vec::new();
        if let Some(ps) = node.child_by_field_name("parameters") {
            for p in named_children(ps) {
                let (pname, ann, default, splat) = match p.kind() {
                    "identifier" => (self.text(p), None, None, false),
                    "typed_parameter" => {
                        let inner = named_children(p).into_iter().next();
                        let splat = inner.is_some_and(|i| i.kind() != "identifier");
                        (
                            inner.map(|i| self.text(i)).unwrap_or_default(),
                            p.child_by_field_name("type").map(|t| self.expr(t)),
                            None,
                            splat,
                        )
                    }
                    "default_parameter" | "typed_default_parameter" => (
                        p.child_by_field_name("name")
                            .map(|n| self.text(n))
                            .unwrap_or_default(),
                        p.child_by_field_name("type").map(|t| self.expr(t)),
                        p.child_by_field_name("value").map(|v| self.expr(v)),
                        false,
                    ),
                    "list_splat_pattern" | "dictionary_splat_pattern" => {
                        (self.text(p), None, None, true)
                    }
                    _ => continue,
                };
                params.push(Param {
                    name: pname,
                    annotation: ann,
                    default,
                    splat,
                });
            }
        }
        let body = node.child_by_field_name("body");
        let mut uses = Vec::new();
        if let Some(b) = body {
            self.request_uses(b, &mut uses, 0);
        }
        let mut c = node.walk();
        let is_async = node.children(&mut c).any(|x| x.kind() == "async");
        m.functions.push(FuncDef {
            name,
            decorators,
            params,
            returns: node
                .child_by_field_name("return_type")
                .map(|t| self.expr(t)),
            doc: self.docstring(body),
            first_line: first,
            is_async,
            request_uses: uses,
        });
    }

    fn class(&self, node: Node<'_>, m: &mut Module) {
        let name = node
            .child_by_field_name("name")
            .map(|n| self.text(n))
            .unwrap_or_default();
        let bases = node
            .child_by_field_name("superclasses")
            .map(|s| {
                named_children(s)
                    .into_iter()
                    .filter(|c| c.kind() != "keyword_argument")
                    .map(|c| self.expr(c))
                    .collect()
            })
            .unwrap_or_default();
        let body = node.child_by_field_name("body");
        let mut fields = Vec::new();
        if let Some(b) = body {
            for stmt in named_children(b) {
                if stmt.kind() != "expression_statement" {
                    continue;
                }
                let Some(a) = named_children(stmt)
                    .into_iter()
                    .next()
                    .filter(|a| a.kind() == "assignment")
                else {
                    continue;
                };
                let Some(left) = a
                    .child_by_field_name("left")
                    .filter(|l| l.kind() == "identifier")
                else {
                    continue;
                };
                fields.push(ClassField {
                    name: self.text(left),
                    annotation: a.child_by_field_name("type").map(|t| self.expr(t)),
                    value: a.child_by_field_name("right").map(|v| self.expr(v)),
                });
            }
        }
        m.classes.insert(
            name.clone(),
            ClassDef {
                name,
                bases,
                fields,
                doc: self.docstring(body),
                line: node.start_position().row,
            },
        );
    }

    /// Flask's `request.<part>` lookups in a view body.
    fn request_uses(&self, node: Node<'_>, out: &mut Vec<RequestUse>, depth: usize) {
        if depth > 200 {
            return;
        }
        let line = node.start_position().row;
        match node.kind() {
            "call" => {
                if let Expr::Call(c) = self.expr(node) {
                    let loc = |part: &str| match part {
                        "request.args" => Some("query"),
                        "request.headers" => Some("header"),
                        "request.cookies" => Some("cookie"),
                        _ => None,
                    };
                    if let Some((recv, method)) = c.func.rsplit_once('.') {
                        if let (Some(location), "get" | "getlist") = (loc(recv), method) {
                            match c.args.first().and_then(Expr::as_str) {
                                Some(name) => {
                                    let ty = c.kw("type").and_then(|t| match t {
                                        Expr::Name(n) => Some(n.clone()),
                                        _ => None,
                                    });
                                    out.push(RequestUse::Param {
                                        location,
                                        name: name.to_string(),
                                        required: false,
                                        ty,
                                        list: method == "getlist",
                                        line,
                                    });
                                }
                                None => out.push(RequestUse::Dynamic {
                                    what: c.func.clone(),
                                    line,
                                }),
                            }
                        }
                    }
                    if c.func == "request.get_json" {
                        out.push(RequestUse::Json { line });
                    }
                }
            }
            "subscript" => {
                if let Some(v) = node.child_by_field_name("value") {
                    let base = self.text(v);
                    let location = match base.as_str() {
                        "request.args" => Some("query"),
                        "request.headers" => Some("header"),
                        "request.cookies" => Some("cookie"),
                        "request.form" | "request.files" => {
                            out.push(RequestUse::Form { line });
                            None
                        }
                        _ => None,
                    };
                    if let Some(location) = location {
                        let idx = node.child_by_field_name("subscript").map(|s| self.expr(s));
                        match idx.as_ref().and_then(Expr::as_str) {
                            Some(name) => out.push(RequestUse::Param {
                                location,
                                name: name.to_string(),
                                required: true,
                                ty: None,
                                list: false,
                                line,
                            }),
                            None => out.push(RequestUse::Dynamic { what: base, line }),
                        }
                    }
                }
            }
            "attribute" => {
                let t = self.text(node);
                if t == "request.json" {
                    out.push(RequestUse::Json { line });
                } else if (t == "request.form" || t == "request.files")
                    && node.parent().is_none_or(|p| p.kind() != "subscript")
                {
                    out.push(RequestUse::Form { line });
                }
            }
            _ => {}
        }
        for c in named_children(node) {
            self.request_uses(c, out, depth + 1);
        }
    }

    pub fn expr(&self, node: Node<'_>) -> Expr {
        match node.kind() {
            "type" | "parenthesized_expression" | "expression_statement" => named_children(node)
                .into_iter()
                .next()
                .map_or(Expr::Other(String::new()), |n| self.expr(n)),
            "identifier" => Expr::Name(self.text(node)),
            "attribute" => {
                let obj = node.child_by_field_name("object").map(|o| self.expr(o));
                let attr = node.child_by_field_name("attribute").map(|a| self.text(a));
                match (obj, attr) {
                    (Some(Expr::Name(o)), Some(a)) => Expr::Name(format!("{o}.{a}")),
                    _ => Expr::Other(self.text(node)),
                }
            }
            "string" => self
                .string(node)
                .map_or_else(|| Expr::Other(self.text(node)), Expr::Str),
            "concatenated_string" => {
                let parts: Option<Vec<String>> = named_children(node)
                    .into_iter()
                    .map(|s| self.string(s))
                    .collect();
                parts.map_or_else(|| Expr::Other(self.text(node)), |p| Expr::Str(p.concat()))
            }
            "integer" => {
                let t = self.text(node).replace('_', "");
                t.parse().map_or(Expr::Other(t), Expr::Int)
            }
            "float" => {
                let t = self.text(node).replace('_', "");
                t.parse().map_or(Expr::Other(t), Expr::Float)
            }
            "true" => Expr::Bool(true),
            "false" => Expr::Bool(false),
            "none" => Expr::None,
            "ellipsis" => Expr::Ellipsis,
            "unary_operator" => {
                let op = node.child_by_field_name("operator").map(|o| self.text(o));
                let arg = node.child_by_field_name("argument").map(|a| self.expr(a));
                match (op.as_deref(), arg) {
                    (Some("-"), Some(Expr::Int(i))) => Expr::Int(-i),
                    (Some("-"), Some(Expr::Float(f))) => Expr::Float(-f),
                    _ => Expr::Other(self.text(node)),
                }
            }
            "list" | "tuple" | "set" | "expression_list" => Expr::List(
                named_children(node)
                    .into_iter()
                    .map(|c| self.expr(c))
                    .collect(),
            ),
            "dictionary" => Expr::Dict(
                named_children(node)
                    .into_iter()
                    .filter(|p| p.kind() == "pair")
                    .filter_map(|p| {
                        Some((
                            self.expr(p.child_by_field_name("key")?),
                            self.expr(p.child_by_field_name("value")?),
                        ))
                    })
                    .collect(),
            ),
            "call" => {
                let func = node.child_by_field_name("function").map(|f| self.expr(f));
                let func = match func {
                    Some(Expr::Name(n)) => n,
                    _ => String::new(),
                };
                let mut args = Vec::new();
                let mut kwargs = Vec::new();
                if let Some(a) = node.child_by_field_name("arguments") {
                    for c in named_children(a) {
                        if c.kind() == "keyword_argument" {
                            if let (Some(k), Some(v)) = (
                                c.child_by_field_name("name"),
                                c.child_by_field_name("value"),
                            ) {
                                kwargs.push((self.text(k), self.expr(v)));
                            }
                        } else if c.kind() != "comment" {
                            args.push(self.expr(c));
                        }
                    }
                }
                Expr::Call(Box::new(Call { func, args, kwargs }))
            }
            "subscript" => {
                let value = node.child_by_field_name("value").map(|v| self.expr(v));
                let mut c = node.walk();
                let idx: Vec<Expr> = node
                    .children_by_field_name("subscript", &mut c)
                    .map(|s| self.expr(s))
                    .collect();
                // `Dict[str, int]` may parse as one tuple-like subscript.
                let idx = match idx.as_slice() {
                    [Expr::List(items)]
                        if node
                            .child_by_field_name("subscript")
                            .is_some_and(|s| s.kind() == "expression_list") =>
                    {
                        items.clone()
                    }
                    _ => idx,
                };
                match value {
                    Some(Expr::Name(n)) => Expr::Subscript(n, idx),
                    _ => Expr::Other(self.text(node)),
                }
            }
            // Annotations: `list[str]`, `a | None` inside `type` nodes.
            "generic_type" => {
                let kids = named_children(node);
                let name = kids.first().map(|k| self.expr(*k));
                let params: Vec<Expr> = kids
                    .iter()
                    .filter(|k| k.kind() == "type_parameter")
                    .flat_map(|tp| named_children(*tp))
                    .map(|t| self.expr(t))
                    .collect();
                match name {
                    Some(Expr::Name(n)) => Expr::Subscript(n, params),
                    _ => Expr::Other(self.text(node)),
                }
            }
            "member_type" => {
                let t = self.text(node);
                Expr::Name(t.split_whitespace().collect())
            }
            "union_type" => {
                let mut parts = Vec::new();
                for k in named_children(node) {
                    match self.expr(k) {
                        Expr::Union(inner) => parts.extend(inner),
                        e => parts.push(e),
                    }
                }
                Expr::Union(parts)
            }
            "binary_operator" => {
                let op = node.child_by_field_name("operator").map(|o| self.text(o));
                if op.as_deref() == Some("|") {
                    let mut parts = Vec::new();
                    for side in ["left", "right"] {
                        match node.child_by_field_name(side).map(|s| self.expr(s)) {
                            Some(Expr::Union(inner)) => parts.extend(inner),
                            Some(e) => parts.push(e),
                            None => {}
                        }
                    }
                    Expr::Union(parts)
                } else {
                    Expr::Other(self.text(node))
                }
            }
            _ => Expr::Other(self.text(node)),
        }
    }

    /// A string literal's value; `None` for f-strings with interpolations.
    fn string(&self, node: Node<'_>) -> Option<String> {
        if node.kind() != "string" {
            return None;
        }
        let mut out = String::new();
        let mut raw = false;
        for c in named_children(node) {
            match c.kind() {
                "string_start" => raw = self.text(c).to_ascii_lowercase().contains('r'),
                "string_content" => {
                    // Escapes may be nested inside the content node.
                    let inner = named_children(c);
                    if inner.is_empty() || raw {
                        out.push_str(&self.text(c));
                    } else {
                        let start = c.start_byte();
                        let mut pos = start;
                        for e in inner {
                            out.push_str(
                                std::str::from_utf8(self.src.get(pos..e.start_byte())?).ok()?,
                            );
                            out.push_str(&unescape(&self.text(e)));
                            pos = e.end_byte();
                        }
                        out.push_str(std::str::from_utf8(self.src.get(pos..c.end_byte())?).ok()?);
                    }
                }
                "escape_sequence" => {
                    if raw {
                        out.push_str(&self.text(c));
                    } else {
                        out.push_str(&unescape(&self.text(c)));
                    }
                }
                "interpolation" => return None,
                _ => {}
            }
        }
        Some(out)
    }
}

fn unescape(e: &str) -> String {
    match e {
        "\\n" => "\n".into(),
        "\\t" => "\t".into(),
        "\\r" => "\r".into(),
        "\\\\" => "\\".into(),
        "\\'" => "'".into(),
        "\\\"" => "\"".into(),
        "\\\n" => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_imports_assignments_and_routes() {
        let src = r#"
from fastapi import APIRouter, Query as Q
from ..models import Item
import app.other as other
router = APIRouter(prefix="/items", tags=["items"])

@router.get("/{id}", status_code=201)
async def read(id: int, q: str | None = Q(None, max_length=5), n: int = -1) -> Item:
    """Doc."""
    return 1

class M(BaseModel):
    a: Dict[str, int] = {}
"#;
        let m = parse("app/routers/items.py", src).expect("parse");
        assert_eq!(m.imports["Item"].module, "app.models");
        assert_eq!(m.imports["Q"].name.as_deref(), Some("Query"));
        assert_eq!(m.imports["other"].module, "app.other");
        assert_eq!(m.assigns[0].target, "router");
        let f = m.function("read").expect("read");
        assert!(f.is_async);
        assert_eq!(f.doc.as_deref(), Some("Doc."));
        assert_eq!(f.params[2].default, Some(Expr::Int(-1)));
        assert!(matches!(&f.params[1].annotation, Some(Expr::Union(u)) if u.len() == 2));
        let d = f.decorators[0].0.as_call().expect("call");
        assert_eq!(d.func, "router.get");
        assert_eq!(d.kw("status_code"), Some(&Expr::Int(201)));
        let field = &m.classes["M"].fields[0];
        assert_eq!(
            field.annotation,
            Some(Expr::Subscript(
                "Dict".into(),
                vec![Expr::Name("str".into()), Expr::Name("int".into())]
            ))
        );
    }
}
