//! Python type annotations → JSON Schema, the way pydantic v2 (as FastAPI uses it) writes
//! them: models and enums become `components.schemas` entries referenced by `$ref`,
//! `Optional[X]` / `X | None` an `anyOf` with `null`, `Field(...)` constraints where they
//! are literals. An annotation that does not resolve is `{}` and reported.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};

use super::ast::{Call, ClassDef, Expr};
use super::Project;
use crate::text::{cleandoc, field_title};
use crate::{Gap, Loc};

/// A schema with what callers need to know about it.
#[derive(Debug, Clone)]
pub struct Ty {
    pub schema: Value,
    /// A model or enum reference, possibly nullable: pydantic gives those no title.
    pub is_ref: bool,
    /// A pydantic model (or a nullable/union of them): FastAPI reads it from the body.
    pub is_model: bool,
    /// `null` is one of the alternatives.
    pub nullable: bool,
}

impl Ty {
    fn plain(schema: Value) -> Self {
        Ty {
            schema,
            is_ref: false,
            is_model: false,
            nullable: false,
        }
    }
}

/// What a name resolves to.
#[derive(Debug, Clone)]
pub enum Resolved<'p> {
    Class(&'p str, &'p ClassDef),
    /// A name outside the project (or a builtin), by its last segment: `Optional`, `str`.
    External(String),
}

#[derive(Debug)]
pub struct Types<'p> {
    pub project: &'p Project,
    pub schemas: BTreeMap<String, Value>,
    pub gaps: Vec<Gap>,
    building: HashSet<String>,
    /// Component name → defining module, to report two classes with one name.
    owners: BTreeMap<String, String>,
}

const NUMERIC: &[(&str, &str)] = &[
    ("ge", "minimum"),
    ("le", "maximum"),
    ("gt", "exclusiveMinimum"),
    ("lt", "exclusiveMaximum"),
    ("multiple_of", "multipleOf"),
];

impl<'p> Types<'p> {
    #[must_use]
    pub fn new(project: &'p Project) -> Self {
        Types {
            project,
            schemas: BTreeMap::new(),
            gaps: Vec::new(),
            building: HashSet::new(),
            owners: BTreeMap::new(),
        }
    }

    pub fn resolve(&self, module: &str, name: &str) -> Resolved<'p> {
        match self.project.resolve(module, name) {
            Some((m, Some(sym))) if self.project.modules.contains_key(&m) => {
                if let Some((mname, c)) = self.project.class(&m, &sym) {
                    return Resolved::Class(mname, c);
                }
                Resolved::External(sym.rsplit('.').next().unwrap_or(&sym).to_string())
            }
            Some((_, Some(sym))) => {
                Resolved::External(sym.rsplit('.').next().unwrap_or(&sym).to_string())
            }
            Some((m, None)) => Resolved::External(m.rsplit('.').next().unwrap_or(&m).to_string()),
            None => Resolved::External(name.rsplit('.').next().unwrap_or(name).to_string()),
        }
    }

    fn external_name(&self, module: &str, name: &str) -> Option<String> {
        match self.resolve(module, name) {
            Resolved::External(n) => Some(n),
            Resolved::Class(..) => None,
        }
    }

    /// `Annotated[T, meta...]` → (T, meta); anything else → (itself, []).
    pub fn split_annotated(&self, module: &str, ann: &Expr) -> (Expr, Vec<Expr>) {
        if let Expr::Subscript(n, idx) = ann {
            if self.external_name(module, n).as_deref() == Some("Annotated") {
                if let Some((first, rest)) = idx.split_first() {
                    return (first.clone(), rest.to_vec());
                }
            }
        }
        (ann.clone(), Vec::new())
    }

    /// Is this class a pydantic model (directly or through project bases)?
    pub fn is_model_class(&self, module: &str, c: &ClassDef, depth: usize) -> bool {
        self.class_base(module, c, depth, &["BaseModel", "SQLModel"])
    }

    pub fn is_enum_class(&self, module: &str, c: &ClassDef, depth: usize) -> bool {
        self.class_base(module, c, depth, &["Enum", "IntEnum", "StrEnum"])
    }

    fn class_base(&self, module: &str, c: &ClassDef, depth: usize, roots: &[&str]) -> bool {
        if depth > 20 {
            return false;
        }
        c.bases.iter().any(|b| {
            let Expr::Name(n) = b else { return false };
            match self.resolve(module, n) {
                Resolved::External(e) => roots.contains(&e.as_str()),
                Resolved::Class(m, base) => self.class_base(m, base, depth + 1, roots),
            }
        })
    }

    fn gap(&mut self, loc: &Loc, msg: String) {
        self.gaps.push(Gap::at(loc, msg));
    }

    pub fn ty(&mut self, module: &str, ann: &Expr, loc: &Loc) -> Ty {
        match ann {
            Expr::None => Ty::plain(json!({"type": "null"})),
            Expr::Str(s) => self.ty(module, &Expr::Name(s.trim().to_string()), loc),
            Expr::Union(parts) => self.union(module, parts, loc),
            Expr::Name(n) => match self.resolve(module, n) {
                Resolved::Class(m, c) => self.class_ref(m, c, loc),
                Resolved::External(e) => match scalar(&e) {
                    Some(s) => Ty::plain(s),
                    None if e == "None" => Ty::plain(json!({"type": "null"})),
                    None => {
                        self.gap(
                            loc,
                            format!("type `{n}` not resolved; schema left open ({{}})"),
                        );
                        Ty::plain(json!({}))
                    }
                },
            },
            Expr::Subscript(n, idx) => {
                let Some(e) = self.external_name(module, n) else {
                    self.gap(
                        loc,
                        format!("generic class `{n}[...]` not supported; schema left open"),
                    );
                    return Ty::plain(json!({}));
                };
                let first = idx.first().cloned().unwrap_or(Expr::Name("Any".into()));
                match e.as_str() {
                    "Optional" => self.union(module, &[first, Expr::None], loc),
                    "Union" => self.union(module, idx, loc),
                    "List" | "list" | "Sequence" | "Iterable" | "Collection" => {
                        let items = self.ty(module, &first, loc).schema;
                        Ty::plain(json!({"type": "array", "items": items}))
                    }
                    "Set" | "set" | "FrozenSet" | "frozenset" | "AbstractSet" => {
                        let items = self.ty(module, &first, loc).schema;
                        Ty::plain(json!({"type": "array", "items": items, "uniqueItems": true}))
                    }
                    "Tuple" | "tuple" => self.tuple(module, idx, loc),
                    "Dict" | "dict" | "Mapping" | "MutableMapping" => {
                        let value = idx.get(1).map_or(Value::Bool(true), |v| {
                            let s = self.ty(module, v, loc).schema;
                            if s == json!({}) {
                                Value::Bool(true)
                            } else {
                                s
                            }
                        });
                        Ty::plain(json!({"type": "object", "additionalProperties": value}))
                    }
                    "Literal" => Ty::plain(literal(idx).unwrap_or_else(|| {
                        self.gap(loc, format!("Literal with non-literal values in `{n}`"));
                        json!({})
                    })),
                    "Annotated" => {
                        let mut t = self.ty(module, &first, loc);
                        for meta in idx.iter().skip(1) {
                            if let Some(c) = meta.as_call() {
                                if self.external_name(module, &c.func).as_deref() == Some("Field") {
                                    self.constrain(&mut t, c, loc);
                                }
                            }
                        }
                        t
                    }
                    other => {
                        self.gap(
                            loc,
                            format!("type `{other}[...]` not supported; schema left open"),
                        );
                        Ty::plain(json!({}))
                    }
                }
            }
            other => {
                self.gap(
                    loc,
                    format!("annotation `{other:?}` not read; schema left open"),
                );
                Ty::plain(json!({}))
            }
        }
    }

    fn tuple(&mut self, module: &str, idx: &[Expr], loc: &Loc) -> Ty {
        if let [one, Expr::Ellipsis] = idx {
            let items = self.ty(module, one, loc).schema;
            return Ty::plain(json!({"type": "array", "items": items}));
        }
        let items: Vec<Value> = idx.iter().map(|i| self.ty(module, i, loc).schema).collect();
        let n = items.len();
        Ty::plain(json!({"type": "array", "prefixItems": items, "minItems": n, "maxItems": n}))
    }

    fn union(&mut self, module: &str, parts: &[Expr], loc: &Loc) -> Ty {
        let mut nullable = false;
        let mut alts: Vec<Ty> = Vec::new();
        for p in parts {
            let t = self.ty(module, p, loc);
            if t.schema == json!({"type": "null"}) {
                nullable = true;
                continue;
            }
            // Nested unions are flattened, as pydantic does.
            if let (false, Some(Value::Array(inner))) = (t.is_ref, t.schema.get("anyOf")) {
                for s in inner {
                    if s == &json!({"type": "null"}) {
                        nullable = true;
                    } else {
                        alts.push(Ty::plain(s.clone()));
                    }
                }
                continue;
            }
            alts.push(t);
        }
        let is_ref = alts.len() == 1 && alts.iter().all(|a| a.is_ref);
        let is_model = !alts.is_empty() && alts.iter().all(|a| a.is_model);
        let mut schemas: Vec<Value> = alts.into_iter().map(|a| a.schema).collect();
        if nullable {
            schemas.push(json!({"type": "null"}));
        }
        let schema = if schemas.len() == 1 {
            schemas.pop().unwrap_or(json!({}))
        } else {
            json!({ "anyOf": schemas })
        };
        Ty {
            schema,
            is_ref,
            is_model,
            nullable,
        }
    }

    fn class_ref(&mut self, module: &str, c: &ClassDef, loc: &Loc) -> Ty {
        let is_model = self.is_model_class(module, c, 0);
        let is_enum = !is_model && self.is_enum_class(module, c, 0);
        if !is_model && !is_enum {
            self.gap(
                loc,
                format!(
                    "class `{}` is neither a pydantic model nor an Enum; schema left open",
                    c.name
                ),
            );
            return Ty::plain(json!({}));
        }
        match self.owners.get(&c.name) {
            Some(owner) if owner != module => {
                self.gap(
                    loc,
                    format!(
                        "two classes named `{}` ({owner} and {module}); the first one's schema is used",
                        c.name
                    ),
                );
            }
            Some(_) => {}
            None => {
                self.owners.insert(c.name.clone(), module.to_string());
                self.building.insert(c.name.clone());
                let schema = if is_model {
                    self.model_schema(module, c)
                } else {
                    self.enum_schema(c, loc)
                };
                self.building.remove(&c.name);
                self.schemas.insert(c.name.clone(), schema);
            }
        }
        Ty {
            schema: json!({"$ref": format!("#/components/schemas/{}", c.name)}),
            is_ref: true,
            is_model,
            nullable: false,
        }
    }

    fn enum_schema(&mut self, c: &ClassDef, loc: &Loc) -> Value {
        let mut values = Vec::new();
        for f in c.fields.iter().filter(|f| f.annotation.is_none()) {
            match f.value.as_ref().and_then(Expr::literal) {
                Some(v) => values.push(v),
                None => self.gap(
                    loc,
                    format!(
                        "enum `{}` member `{}` is not a literal; left out",
                        c.name, f.name
                    ),
                ),
            }
        }
        let mut s = Map::new();
        if values.iter().all(Value::is_string) {
            s.insert("type".into(), json!("string"));
        } else if values.iter().all(|v| v.is_i64() || v.is_u64()) {
            s.insert("type".into(), json!("integer"));
        }
        s.insert("enum".into(), Value::Array(values));
        s.insert("title".into(), json!(c.name));
        if let Some(d) = c.doc.as_deref().map(cleandoc).filter(|d| !d.is_empty()) {
            s.insert("description".into(), json!(d));
        }
        Value::Object(s)
    }

    /// Fields of a model and of its project bases, bases first.
    fn fields<'c>(
        &self,
        module: &'c str,
        c: &'c ClassDef,
        depth: usize,
        out: &mut Vec<(&'c str, &'c super::ast::ClassField)>,
    ) where
        'p: 'c,
    {
        if depth > 20 {
            return;
        }
        for b in &c.bases {
            if let Expr::Name(n) = b {
                if let Resolved::Class(m, base) = self.resolve(module, n) {
                    self.fields(m, base, depth + 1, out);
                }
            }
        }
        for f in &c.fields {
            if f.annotation.is_some() {
                out.retain(|(_, g)| g.name != f.name);
                out.push((module, f));
            }
        }
    }

    fn model_schema(&mut self, module: &str, c: &ClassDef) -> Value {
        let loc = Loc {
            file: self
                .project
                .modules
                .get(module)
                .map_or_else(String::new, |m| m.rel.clone()),
            line: c.line + 1,
        };
        let mut fields = Vec::new();
        self.fields(module, c, 0, &mut fields);
        let mut props = Map::new();
        let mut required = Vec::new();
        let mut forbid = false;
        for (m, f) in fields {
            if f.name.starts_with('_') || f.name == "model_config" {
                continue;
            }
            let Some(ann) = &f.annotation else { continue };
            if let Expr::Subscript(n, _) | Expr::Name(n) = ann {
                if n.ends_with("ClassVar") {
                    continue;
                }
            }
            let (inner, metas) = self.split_annotated(m, ann);
            let field_call = f
                .value
                .as_ref()
                .and_then(Expr::as_call)
                .filter(|c| self.external_name(m, &c.func).as_deref() == Some("Field"))
                .cloned();
            let meta_call = metas
                .iter()
                .filter_map(Expr::as_call)
                .find(|c| self.external_name(m, &c.func).as_deref() == Some("Field"))
                .cloned();
            let mut t = self.ty(m, &inner, &loc);
            let default = match &field_call {
                Some(c) if c.kw("default_factory").is_some() => Some(factory_default(c)),
                Some(c) => c
                    .arg("default", 0)
                    .filter(|d| **d != Expr::Ellipsis)
                    .map(|d| Some(d.clone())),
                None => f.value.clone().map(Some),
            };
            let name = [&field_call, &meta_call]
                .into_iter()
                .flatten()
                .find_map(|c| c.kw("alias").and_then(Expr::as_str).map(str::to_string))
                .unwrap_or_else(|| f.name.clone());
            for c in [&meta_call, &field_call].into_iter().flatten() {
                self.constrain(&mut t, c, &loc);
            }
            let mut s = match t.schema {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            if !t.is_ref && !s.contains_key("title") {
                s.insert("title".into(), json!(field_title(&name)));
            }
            match default {
                None => required.push(json!(name)),
                Some(Some(d)) => match default_value(&d) {
                    Some(Value::Null) => {}
                    Some(v) => {
                        s.insert("default".into(), v);
                    }
                    None => self.gap(
                        &loc,
                        format!(
                            "default of `{}.{}` is not a literal; left out",
                            c.name, f.name
                        ),
                    ),
                },
                Some(None) => {}
            }
            props.insert(name, Value::Object(s));
        }
        for f in &c.fields {
            if f.name == "model_config" {
                if let Some(call) = f.value.as_ref().and_then(Expr::as_call) {
                    forbid = call.kw("extra").and_then(Expr::as_str) == Some("forbid");
                }
            }
        }
        let mut s = Map::new();
        s.insert("type".into(), json!("object"));
        s.insert("title".into(), json!(c.name));
        s.insert("properties".into(), Value::Object(props));
        if !required.is_empty() {
            s.insert("required".into(), Value::Array(required));
        }
        if forbid {
            s.insert("additionalProperties".into(), json!(false));
        }
        if let Some(d) = c.doc.as_deref().map(cleandoc).filter(|d| !d.is_empty()) {
            s.insert("description".into(), json!(d));
        }
        Value::Object(s)
    }

    /// `Field(...)`, `Query(...)` and friends: literal constraints onto the non-null branch,
    /// documentation onto the schema itself.
    pub fn constrain(&mut self, t: &mut Ty, c: &Call, loc: &Loc) {
        let is_nullable_union = t
            .schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|s| s == &json!({"type": "null"})));
        {
            let target = if is_nullable_union {
                t.schema
                    .get_mut("anyOf")
                    .and_then(Value::as_array_mut)
                    .and_then(|a| a.iter_mut().find(|s| *s != &json!({"type": "null"})))
            } else {
                Some(&mut t.schema)
            };
            if let Some(Value::Object(target)) = target {
                let is_array = target.get("type") == Some(&json!("array"));
                for (key, value) in &c.kwargs {
                    let out = match key.as_str() {
                        "min_length" if is_array => "minItems",
                        "max_length" if is_array => "maxItems",
                        "min_length" => "minLength",
                        "max_length" => "maxLength",
                        "pattern" | "regex" => "pattern",
                        k => match NUMERIC.iter().find(|(p, _)| *p == k) {
                            Some((_, o)) => o,
                            None => continue,
                        },
                    };
                    if target.contains_key("$ref") {
                        continue;
                    }
                    match value.literal() {
                        Some(v) if !v.is_null() => {
                            target.insert(out.into(), v);
                        }
                        _ => self.gaps.push(Gap::at(
                            loc,
                            format!("constraint `{key}` is not a literal; left out"),
                        )),
                    }
                }
            }
        }
        if let Value::Object(s) = &mut t.schema {
            for key in ["title", "description", "examples", "deprecated"] {
                if let Some(v) = c.kw(key).and_then(Expr::literal) {
                    s.insert(key.into(), v);
                }
            }
        }
    }
}

/// What a `default_factory` produces, when it is one of the empty containers.
fn factory_default(c: &Call) -> Option<Expr> {
    match c.kw("default_factory") {
        Some(Expr::Name(n)) if n == "list" || n == "set" => Some(Expr::List(Vec::new())),
        Some(Expr::Name(n)) if n == "dict" => Some(Expr::Dict(Vec::new())),
        _ => None,
    }
}

/// A default as JSON: literals, and the empty `list()`/`set()`/`dict()` calls.
#[must_use]
pub fn default_value(e: &Expr) -> Option<Value> {
    if let Expr::Call(c) = e {
        if c.args.is_empty() && c.kwargs.is_empty() {
            return match c.func.as_str() {
                "list" | "set" | "tuple" | "frozenset" => Some(json!([])),
                "dict" => Some(json!({})),
                _ => None,
            };
        }
        return None;
    }
    e.literal()
}

fn literal(idx: &[Expr]) -> Option<Value> {
    let values: Vec<Value> = idx.iter().map(Expr::literal).collect::<Option<_>>()?;
    let ty = if values.iter().all(Value::is_string) {
        Some("string")
    } else if values.iter().all(Value::is_boolean) {
        Some("boolean")
    } else if values.iter().all(|v| v.is_i64() || v.is_u64()) {
        Some("integer")
    } else {
        None
    };
    let mut s = Map::new();
    if let Some(t) = ty {
        s.insert("type".into(), json!(t));
    }
    match values.as_slice() {
        [one] => s.insert("const".into(), one.clone()),
        _ => s.insert("enum".into(), Value::Array(values)),
    };
    Some(Value::Object(s))
}

/// Builtins and well-known library types.
#[must_use]
pub fn scalar(name: &str) -> Option<Value> {
    Some(match name {
        "str" => json!({"type": "string"}),
        "int" => json!({"type": "integer"}),
        "float" => json!({"type": "number"}),
        "bool" => json!({"type": "boolean"}),
        "bytes" => json!({"type": "string", "format": "binary"}),
        "dict" | "Dict" | "Mapping" => json!({"type": "object", "additionalProperties": true}),
        "list" | "List" | "Sequence" => json!({"type": "array", "items": {}}),
        "set" | "Set" => json!({"type": "array", "items": {}, "uniqueItems": true}),
        "Any" | "object" => json!({}),
        "datetime" => json!({"type": "string", "format": "date-time"}),
        "date" => json!({"type": "string", "format": "date"}),
        "time" => json!({"type": "string", "format": "time"}),
        "timedelta" => json!({"type": "string", "format": "duration"}),
        "UUID" | "UUID1" | "UUID3" | "UUID4" | "UUID5" => {
            json!({"type": "string", "format": "uuid"})
        }
        "Decimal" => json!({"anyOf": [{"type": "number"}, {"type": "string"}]}),
        "EmailStr" => json!({"type": "string", "format": "email"}),
        "HttpUrl" => json!({"type": "string", "format": "uri", "minLength": 1, "maxLength": 2083}),
        "AnyUrl" | "AnyHttpUrl" => json!({"type": "string", "format": "uri", "minLength": 1}),
        "UploadFile" => json!({"type": "string", "contentMediaType": "application/octet-stream"}),
        "SecretStr" => json!({"type": "string", "format": "password", "writeOnly": true}),
        _ => return None,
    })
}
