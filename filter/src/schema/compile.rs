//! JSON Schema → [`Program`]. Runs in the controller (and in tests), never per request.
//!
//! Compilation has two halves. *Indexing* walks each document once, following only the
//! keywords whose values are schemas, and records every schema resource (`$id`, draft 4
//! `id`), every `$anchor`/`$dynamicAnchor` and the base URI of every schema location.
//! *Lowering* turns a schema location into a [`Node`], memoized by location (and
//! [`Direction`]), so a `$ref` is an index and recursion is a cycle in the arena.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::ecma::Pattern;
use super::format::Format;
use super::program::{
    types, Conditional, Contains, Discriminator, DynamicRef, Items, Kw, Node, NodeId, Program,
    Properties,
};
use super::uri::{percent_decode, resolve, split_fragment};
use super::{CompileError, Dialect, Direction, Options};
use crate::compiled::escape_pointer;

/// Base URI of a schema compiled with [`compile`] that declares no `$id`.
pub const DEFAULT_BASE_URI: &str = "gatehouse:/schema.json";

const VALIDATION_VOCABULARY: &str = "https://json-schema.org/draft/2020-12/vocab/validation";

/// Compiles one schema. `documents` maps URIs (without fragment) to the documents
/// `$ref`s may point into; they are read only when referenced.
///
/// Returns the program and the root node of `schema`.
pub fn compile(
    schema: &Value,
    options: &Options,
    documents: &HashMap<String, Value>,
) -> Result<(Program, NodeId), CompileError> {
    let mut compiler = Compiler::new(options.clone());
    for (uri, doc) in documents {
        compiler.add_document(uri, doc);
    }
    let root = compiler.compile_value(DEFAULT_BASE_URI, schema)?;
    Ok((compiler.finish()?, root))
}

/// A schema location: document index and JSON pointer (escaped form).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Loc {
    doc: usize,
    ptr: String,
}

impl Loc {
    fn child(&self, segments: &[&str]) -> Loc {
        let mut ptr = self.ptr.clone();
        for s in segments {
            ptr.push('/');
            ptr.push_str(&escape_pointer(s));
        }
        Loc { doc: self.doc, ptr }
    }
}

/// Lexical scope of a schema location.
#[derive(Debug, Clone)]
struct Scope {
    /// Base URI for resolving references.
    base: String,
    /// URI of the schema resource the location belongs to (for dynamic scope).
    resource: String,
}

#[derive(Debug)]
struct Doc<'a> {
    uri: String,
    value: &'a Value,
}

/// Compiles schemas from several documents into one [`Program`].
#[derive(Debug)]
pub struct Compiler<'a> {
    options: Options,
    /// Documents offered by the caller, loaded when referenced.
    available: HashMap<String, &'a Value>,
    docs: Vec<Doc<'a>>,
    resources: HashMap<String, Loc>,
    /// `uri#name` → location, for `$anchor`, `$dynamicAnchor` and draft 4 `id: "#name"`.
    anchors: HashMap<String, Loc>,
    /// Resource URI → its `$dynamicAnchor`s.
    dynamic_anchors: HashMap<String, Vec<(String, Loc)>>,
    scopes: HashMap<Loc, Scope>,
    memo: HashMap<(Loc, Direction), NodeId>,
    nodes: Vec<Node>,
    /// Per node: its resource URI and the direction it was compiled for.
    node_meta: Vec<(String, Direction)>,
    direction: Direction,
    uses_dynamic_ref: bool,
    validation_vocabulary: HashMap<String, bool>,
}

fn strip_empty_fragment(uri: &str) -> &str {
    uri.strip_suffix('#').unwrap_or(uri)
}

impl<'a> Compiler<'a> {
    /// A compiler for `options.dialect`; `options.direction` is the initial direction.
    #[must_use]
    pub fn new(options: Options) -> Self {
        let direction = options.direction;
        Self {
            options,
            available: HashMap::new(),
            docs: Vec::new(),
            resources: HashMap::new(),
            anchors: HashMap::new(),
            dynamic_anchors: HashMap::new(),
            scopes: HashMap::new(),
            memo: HashMap::new(),
            nodes: Vec::new(),
            node_meta: Vec::new(),
            direction,
            uses_dynamic_ref: false,
            validation_vocabulary: HashMap::new(),
        }
    }

    /// Offers `document` under `uri` to `$ref`s. It is indexed when first referenced.
    pub fn add_document(&mut self, uri: &str, document: &'a Value) {
        self.available
            .insert(strip_empty_fragment(uri).to_owned(), document);
    }

    /// The direction (request/response) of the schemas compiled next.
    pub fn set_direction(&mut self, direction: Direction) {
        self.direction = direction;
    }

    /// Compiles `schema` as a document of its own with base URI `base_uri`.
    pub fn compile_value(
        &mut self,
        base_uri: &str,
        schema: &'a Value,
    ) -> Result<NodeId, CompileError> {
        let doc = self.load(strip_empty_fragment(base_uri), schema);
        self.compile_loc(&Loc {
            doc,
            ptr: String::new(),
        })
    }

    /// Compiles the schema a URI reference points to (`doc.json#/components/schemas/Pet`),
    /// in a document given to [`Compiler::add_document`] or already loaded.
    pub fn compile_ref(&mut self, uri: &str) -> Result<NodeId, CompileError> {
        let loc = self.resolve_ref(uri).map_err(|message| CompileError {
            document: split_fragment(uri).0.to_owned(),
            pointer: String::new(),
            message,
        })?;
        self.compile_loc(&loc)
    }

    /// Finishes the program: resolves what `$dynamicRef` needs, drops what it does not.
    pub fn finish(mut self) -> Result<Program, CompileError> {
        let mut dynamic: Vec<Vec<(String, NodeId)>> = Vec::new();
        let mut res_ids: HashMap<(String, Direction), u32> = HashMap::new();
        let mut res: Vec<Option<u32>> = Vec::new();
        if self.uses_dynamic_ref {
            let mut i = 0;
            while i < self.nodes.len() {
                let Some((resource, direction)) = self.node_meta.get(i).cloned() else {
                    break;
                };
                let anchors = self.dynamic_anchors.get(&resource).cloned();
                let id = match anchors {
                    Some(anchors) if !anchors.is_empty() => {
                        if let Some(&id) = res_ids.get(&(resource.clone(), direction)) {
                            Some(id)
                        } else {
                            let id = u32::try_from(dynamic.len()).unwrap_or(u32::MAX);
                            res_ids.insert((resource, direction), id);
                            let saved = self.direction;
                            self.direction = direction;
                            let mut table = Vec::new();
                            for (name, loc) in anchors {
                                table.push((name, self.compile_loc(&loc)?));
                            }
                            self.direction = saved;
                            table.sort();
                            dynamic.push(table);
                            Some(id)
                        }
                    }
                    _ => None,
                };
                res.push(id);
                i += 1;
            }
        }
        let mut nodes = self.nodes;
        for (node, r) in nodes.iter_mut().zip(res) {
            node.res = r;
        }
        let mut program = Program { nodes, dynamic };
        skip_plain_refs(&mut program);
        Ok(program)
    }

    fn draft4_like(&self) -> bool {
        matches!(self.options.dialect, Dialect::Draft4 | Dialect::OpenApi30)
    }

    fn error(&self, loc: &Loc, keyword: &str, message: impl Into<String>) -> CompileError {
        let mut pointer = loc.ptr.clone();
        if !keyword.is_empty() {
            pointer.push('/');
            pointer.push_str(&escape_pointer(keyword));
        }
        CompileError {
            document: self
                .docs
                .get(loc.doc)
                .map(|d| d.uri.clone())
                .unwrap_or_default(),
            pointer,
            message: message.into(),
        }
    }

    // ---------------------------------------------------------------- indexing

    /// Adds a document and indexes it; returns its index.
    fn load(&mut self, uri: &str, value: &'a Value) -> usize {
        let doc = self.docs.len();
        self.docs.push(Doc {
            uri: uri.to_owned(),
            value,
        });
        let root = Loc {
            doc,
            ptr: String::new(),
        };
        self.resources.entry(uri.to_owned()).or_insert(root.clone());
        self.walk(&root, value, uri.to_owned(), uri.to_owned());
        doc
    }

    fn walk(&mut self, loc: &Loc, value: &'a Value, mut base: String, mut resource: String) {
        let Value::Object(obj) = value else {
            self.scopes.insert(loc.clone(), Scope { base, resource });
            return;
        };
        if self.draft4_like() {
            if let (Some(id), false) = (
                obj.get("id").and_then(Value::as_str),
                obj.contains_key("$ref"),
            ) {
                let full = resolve(&base, id);
                let (uri, fragment) = split_fragment(&full);
                if !id.starts_with('#') {
                    base = uri.to_owned();
                    resource = uri.to_owned();
                    self.resources
                        .entry(uri.to_owned())
                        .or_insert_with(|| loc.clone());
                }
                if !fragment.is_empty() {
                    self.anchors
                        .insert(format!("{uri}#{fragment}"), loc.clone());
                }
            }
        } else {
            if let Some(id) = obj.get("$id").and_then(Value::as_str) {
                let full = resolve(&base, id);
                let uri = split_fragment(&full).0.to_owned();
                self.resources
                    .entry(uri.clone())
                    .or_insert_with(|| loc.clone());
                base.clone_from(&uri);
                resource = uri;
            }
            if let Some(name) = obj.get("$anchor").and_then(Value::as_str) {
                self.anchors.insert(format!("{base}#{name}"), loc.clone());
            }
            if let Some(name) = obj.get("$dynamicAnchor").and_then(Value::as_str) {
                self.anchors
                    .entry(format!("{base}#{name}"))
                    .or_insert_with(|| loc.clone());
                self.dynamic_anchors
                    .entry(resource.clone())
                    .or_default()
                    .push((name.to_owned(), loc.clone()));
            }
        }
        self.scopes.insert(
            loc.clone(),
            Scope {
                base: base.clone(),
                resource: resource.clone(),
            },
        );
        let mut children: Vec<(Loc, &'a Value)> = Vec::new();
        subschemas(self.options.dialect, obj, &mut |segments, v| {
            children.push((loc.child(segments), v));
        });
        for (child, v) in children {
            self.walk(&child, v, base.clone(), resource.clone());
        }
    }

    fn value_at(&self, loc: &Loc) -> Option<&'a Value> {
        self.docs.get(loc.doc)?.value.pointer(&loc.ptr)
    }

    /// Scope of a location; locations the index did not reach (pointers into unknown
    /// keywords) are indexed now, from their nearest indexed ancestor.
    fn scope_of(&mut self, loc: &Loc) -> Scope {
        if let Some(s) = self.scopes.get(loc) {
            return s.clone();
        }
        let mut ptr = loc.ptr.clone();
        let ancestor = loop {
            match ptr.rfind('/') {
                Some(i) => ptr.truncate(i),
                None => break None,
            }
            if let Some(s) = self.scopes.get(&Loc {
                doc: loc.doc,
                ptr: ptr.clone(),
            }) {
                break Some(s.clone());
            }
        };
        let ancestor = ancestor.unwrap_or_else(|| {
            let uri = self
                .docs
                .get(loc.doc)
                .map(|d| d.uri.clone())
                .unwrap_or_default();
            Scope {
                base: uri.clone(),
                resource: uri,
            }
        });
        if let Some(value) = self.value_at(loc) {
            self.walk(loc, value, ancestor.base.clone(), ancestor.resource.clone());
        }
        self.scopes.get(loc).cloned().unwrap_or(ancestor)
    }

    /// The location an absolute URI (with fragment) designates.
    fn resolve_ref(&mut self, absolute: &str) -> Result<Loc, String> {
        let (uri, fragment) = split_fragment(absolute);
        let root = match self.resources.get(uri) {
            Some(loc) => loc.clone(),
            None => {
                let Some(&doc) = self.available.get(uri) else {
                    return Err(format!(
                        "cannot resolve {absolute:?}: unknown document {uri:?}"
                    ));
                };
                let idx = self.load(uri, doc);
                self.resources.get(uri).cloned().unwrap_or(Loc {
                    doc: idx,
                    ptr: String::new(),
                })
            }
        };
        let fragment = percent_decode(fragment);
        if fragment.is_empty() {
            return Ok(root);
        }
        if fragment.starts_with('/') {
            let loc = Loc {
                doc: root.doc,
                ptr: format!("{}{}", root.ptr, fragment),
            };
            if self.value_at(&loc).is_none() {
                return Err(format!("cannot resolve {absolute:?}: no such location"));
            }
            return Ok(loc);
        }
        self.anchors
            .get(&format!("{uri}#{fragment}"))
            .cloned()
            .ok_or_else(|| format!("cannot resolve {absolute:?}: unknown anchor {fragment:?}"))
    }

    /// Whether the validation vocabulary is in force for a resource (2020-12 `$schema`
    /// pointing to a meta-schema whose `$vocabulary` leaves it out turns it off).
    fn validation_enabled(&mut self, resource: &str) -> bool {
        if self.draft4_like() {
            return true;
        }
        if let Some(&v) = self.validation_vocabulary.get(resource) {
            return v;
        }
        let meta = self
            .resources
            .get(resource)
            .and_then(|loc| self.value_at(loc))
            .and_then(|v| v.get("$schema"))
            .and_then(Value::as_str)
            .map(|s| strip_empty_fragment(s).to_owned());
        let enabled = match meta.and_then(|m| self.available.get(&m).copied()) {
            Some(meta) => match meta.get("$vocabulary").and_then(Value::as_object) {
                Some(vocab) => vocab.contains_key(VALIDATION_VOCABULARY),
                None => true,
            },
            None => true,
        };
        self.validation_vocabulary
            .insert(resource.to_owned(), enabled);
        enabled
    }

    // ---------------------------------------------------------------- lowering

    fn compile_loc(&mut self, loc: &Loc) -> Result<NodeId, CompileError> {
        let key = (loc.clone(), self.direction);
        if let Some(&id) = self.memo.get(&key) {
            return Ok(id);
        }
        let Some(value) = self.value_at(loc) else {
            return Err(self.error(loc, "", "no schema at this location"));
        };
        let id = NodeId::try_from(self.nodes.len())
            .map_err(|_| self.error(loc, "", "too many schema nodes"))?;
        let scope = self.scope_of(loc);
        self.nodes.push(Node::default());
        self.node_meta
            .push((scope.resource.clone(), self.direction));
        self.memo.insert(key, id);
        let node = self.lower(loc, value, &scope)?;
        if let Some(slot) = self.nodes.get_mut(id as usize) {
            *slot = node;
        }
        Ok(id)
    }

    fn sub(&mut self, loc: &Loc, segments: &[&str]) -> Result<NodeId, CompileError> {
        self.compile_loc(&loc.child(segments))
    }

    fn reference(
        &mut self,
        loc: &Loc,
        keyword: &str,
        base: &str,
        reference: &str,
    ) -> Result<Loc, CompileError> {
        let absolute = resolve(base, reference);
        self.resolve_ref(&absolute)
            .map_err(|m| self.error(loc, keyword, m))
    }

    #[allow(clippy::too_many_lines)]
    fn lower(&mut self, loc: &Loc, value: &'a Value, scope: &Scope) -> Result<Node, CompileError> {
        let obj = match value {
            Value::Bool(true) => return Ok(Node::default()),
            Value::Bool(false) => {
                return Ok(Node {
                    kw: vec![Kw::False],
                    ..Node::default()
                })
            }
            Value::Object(obj) => obj,
            _ => return Err(self.error(loc, "", "a schema must be an object or a boolean")),
        };
        let draft4 = self.draft4_like();
        let modern = !draft4;
        let openapi = self.options.dialect != Dialect::Draft4;
        let mut kw: Vec<Kw> = Vec::new();
        let mut ann = false;

        if draft4 {
            if let Some(r) = obj.get("$ref") {
                let Some(r) = r.as_str() else {
                    return Err(self.error(loc, "$ref", "must be a string"));
                };
                let target = self.reference(loc, "$ref", &scope.base, r)?;
                let target = self.compile_loc(&target)?;
                return Ok(Node {
                    kw: vec![Kw::Ref(target)],
                    ..Node::default()
                });
            }
        }

        if self.options.dialect == Dialect::OpenApi30
            && obj.get("nullable") == Some(&Value::Bool(true))
        {
            kw.push(Kw::Nullable);
        }
        match self.direction {
            Direction::Request if obj.get("readOnly") == Some(&Value::Bool(true)) => {
                kw.push(Kw::ReadOnly);
            }
            Direction::Response if obj.get("writeOnly") == Some(&Value::Bool(true)) => {
                kw.push(Kw::WriteOnly);
            }
            _ => {}
        }

        let validation = self.validation_enabled(&scope.resource);
        if validation {
            self.lower_validation(loc, obj, draft4, &mut kw)?;
        }
        if let Some(f) = obj.get("format") {
            let Some(name) = f.as_str() else {
                return Err(self.error(loc, "format", "must be a string"));
            };
            if self.options.assert_formats {
                match Format::from_name(name) {
                    // Draft 4 (and OpenAPI 3.0) host names are RFC 1123's, without the
                    // IDNA2008 rules on `--` in the third and fourth positions.
                    Some(Format::Hostname) if draft4 => kw.push(Kw::Format(Format::HostnameLdh)),
                    Some(format) => kw.push(Kw::Format(format)),
                    None => {}
                }
            }
        }

        // Arrays.
        let (prefix, rest) = if modern {
            let prefix = match obj.get("prefixItems") {
                Some(Value::Array(list)) => (0..list.len())
                    .map(|i| self.sub(loc, &["prefixItems", &i.to_string()]))
                    .collect::<Result<Vec<_>, _>>()?,
                Some(_) => return Err(self.error(loc, "prefixItems", "must be an array")),
                None => Vec::new(),
            };
            let rest = match obj.get("items") {
                Some(Value::Array(_)) => {
                    return Err(self.error(
                        loc,
                        "items",
                        "must be a schema in JSON Schema 2020-12 (use prefixItems for tuples)",
                    ))
                }
                Some(_) => Some(self.sub(loc, &["items"])?),
                None => None,
            };
            (prefix, rest)
        } else {
            match obj.get("items") {
                Some(Value::Array(list)) => {
                    let prefix = (0..list.len())
                        .map(|i| self.sub(loc, &["items", &i.to_string()]))
                        .collect::<Result<Vec<_>, _>>()?;
                    let rest = match obj.get("additionalItems") {
                        Some(_) => Some(self.sub(loc, &["additionalItems"])?),
                        None => None,
                    };
                    (prefix, rest)
                }
                Some(_) => (Vec::new(), Some(self.sub(loc, &["items"])?)),
                None => (Vec::new(), None),
            }
        };
        if !prefix.is_empty() || rest.is_some() {
            kw.push(Kw::Items(Items { prefix, rest }));
        }
        if modern && obj.contains_key("contains") {
            let schema = self.sub(loc, &["contains"])?;
            let (min, max) = if validation {
                (
                    self.count(loc, obj, "minContains")?.unwrap_or(1),
                    self.count(loc, obj, "maxContains")?,
                )
            } else {
                (1, None)
            };
            kw.push(Kw::Contains(Contains { schema, min, max }));
        }

        // Objects.
        let mut named = Vec::new();
        if let Some(props) = obj.get("properties") {
            let Value::Object(props) = props else {
                return Err(self.error(loc, "properties", "must be an object"));
            };
            for name in props.keys() {
                named.push((name.clone(), self.sub(loc, &["properties", name])?));
            }
            named.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let mut patterns = Vec::new();
        if let Some(pp) = obj.get("patternProperties") {
            let Value::Object(pp) = pp else {
                return Err(self.error(loc, "patternProperties", "must be an object"));
            };
            for source in pp.keys() {
                let pattern = Pattern::new(source)
                    .map_err(|m| self.error(&loc.child(&["patternProperties"]), source, m))?;
                patterns.push((pattern, self.sub(loc, &["patternProperties", source])?));
            }
        }
        let additional = match obj.get("additionalProperties") {
            Some(_) => Some(self.sub(loc, &["additionalProperties"])?),
            None => None,
        };
        if !named.is_empty() || !patterns.is_empty() || additional.is_some() {
            kw.push(Kw::Properties(Properties {
                named,
                patterns,
                additional,
            }));
        }
        if validation {
            if let Some(required) = obj.get("required") {
                let mut names = self.strings(loc, "required", required)?;
                self.drop_hidden_required(loc, obj, &scope.base, &mut names)?;
                if !names.is_empty() {
                    kw.push(Kw::Required(names));
                }
            }
        }
        let mut dependent_required = Vec::new();
        let mut dependent_schemas = Vec::new();
        let dep_keyword = if modern {
            "dependentSchemas"
        } else {
            "dependencies"
        };
        if let Some(deps) = obj.get(dep_keyword) {
            let Value::Object(deps) = deps else {
                return Err(self.error(loc, dep_keyword, "must be an object"));
            };
            for (name, dep) in deps {
                if !modern && dep.is_array() {
                    let names = self.strings(&loc.child(&[dep_keyword]), name, dep)?;
                    dependent_required.push((name.clone(), names));
                } else {
                    dependent_schemas.push((name.clone(), self.sub(loc, &[dep_keyword, name])?));
                }
            }
        }
        if modern && validation {
            if let Some(deps) = obj.get("dependentRequired") {
                let Value::Object(deps) = deps else {
                    return Err(self.error(loc, "dependentRequired", "must be an object"));
                };
                for (name, dep) in deps {
                    let names = self.strings(&loc.child(&["dependentRequired"]), name, dep)?;
                    dependent_required.push((name.clone(), names));
                }
            }
        }
        if !dependent_required.is_empty() {
            kw.push(Kw::DependentRequired(dependent_required));
        }
        if !dependent_schemas.is_empty() {
            kw.push(Kw::DependentSchemas(dependent_schemas));
        }
        if modern && obj.contains_key("propertyNames") {
            kw.push(Kw::PropertyNames(self.sub(loc, &["propertyNames"])?));
        }

        // In-place applicators.
        if modern {
            if let Some(r) = obj.get("$ref") {
                let Some(r) = r.as_str() else {
                    return Err(self.error(loc, "$ref", "must be a string"));
                };
                let target = self.reference(loc, "$ref", &scope.base, r)?;
                kw.push(Kw::Ref(self.compile_loc(&target)?));
            }
            if let Some(r) = obj.get("$dynamicRef") {
                let Some(r) = r.as_str() else {
                    return Err(self.error(loc, "$dynamicRef", "must be a string"));
                };
                let target_loc = self.reference(loc, "$dynamicRef", &scope.base, r)?;
                let target = self.compile_loc(&target_loc)?;
                let (_, fragment) = split_fragment(r);
                let bookended = !fragment.is_empty()
                    && !fragment.starts_with('/')
                    && self
                        .value_at(&target_loc)
                        .and_then(|v| v.get("$dynamicAnchor"))
                        .and_then(Value::as_str)
                        == Some(fragment);
                if bookended {
                    self.uses_dynamic_ref = true;
                    kw.push(Kw::DynamicRef(DynamicRef {
                        target,
                        anchor: fragment.to_owned(),
                    }));
                } else {
                    kw.push(Kw::Ref(target));
                }
            }
        }
        if let Some(list) = self.schema_list(loc, obj, "allOf")? {
            kw.push(Kw::AllOf(list));
        }
        let any_of = self.schema_list(loc, obj, "anyOf")?;
        let one_of = self.schema_list(loc, obj, "oneOf")?;
        let discriminated = match obj.get("discriminator") {
            Some(d) if openapi && (one_of.is_some() || any_of.is_some()) => {
                let (key, branches) = match (&one_of, &any_of) {
                    (Some(b), _) => ("oneOf", b.clone()),
                    (None, Some(b)) => ("anyOf", b.clone()),
                    (None, None) => ("oneOf", Vec::new()),
                };
                let d = self.discriminator(loc, obj, d, key, branches, &scope.base)?;
                Some((key, d))
            }
            _ => None,
        };
        if let Some(list) = any_of {
            if !matches!(discriminated, Some(("anyOf", _))) {
                kw.push(Kw::AnyOf(list));
            }
        }
        if let Some(list) = one_of {
            if !matches!(discriminated, Some(("oneOf", _))) {
                kw.push(Kw::OneOf(list));
            }
        }
        if let Some((_, d)) = discriminated {
            kw.push(Kw::Discriminator(d));
        }
        if obj.contains_key("not") {
            kw.push(Kw::Not(self.sub(loc, &["not"])?));
        }
        if modern && obj.contains_key("if") {
            let cond = self.sub(loc, &["if"])?;
            let then = match obj.get("then") {
                Some(_) => Some(self.sub(loc, &["then"])?),
                None => None,
            };
            let otherwise = match obj.get("else") {
                Some(_) => Some(self.sub(loc, &["else"])?),
                None => None,
            };
            // Kept without `then`/`else` too: `if` still yields annotations.
            kw.push(Kw::If(Conditional {
                cond,
                then,
                otherwise,
            }));
        }
        if modern {
            if obj.contains_key("unevaluatedItems") {
                kw.push(Kw::UnevaluatedItems(self.sub(loc, &["unevaluatedItems"])?));
                ann = true;
            }
            if obj.contains_key("unevaluatedProperties") {
                kw.push(Kw::UnevaluatedProperties(
                    self.sub(loc, &["unevaluatedProperties"])?,
                ));
                ann = true;
            }
        }
        Ok(Node { kw, res: None, ann })
    }

    /// The assertions of the validation vocabulary (plus `const`, absent from draft 4).
    fn lower_validation(
        &mut self,
        loc: &Loc,
        obj: &Map<String, Value>,
        draft4: bool,
        kw: &mut Vec<Kw>,
    ) -> Result<(), CompileError> {
        if let Some(t) = obj.get("type") {
            let mut mask = 0u8;
            let mut add = |name: &str| -> bool {
                mask |= match name {
                    "null" => types::NULL,
                    "boolean" => types::BOOLEAN,
                    "object" => types::OBJECT,
                    "array" => types::ARRAY,
                    "number" => types::NUMBER,
                    "string" => types::STRING,
                    "integer" => types::INTEGER,
                    _ => return false,
                };
                true
            };
            let ok = match t {
                Value::String(s) => add(s),
                Value::Array(list) => list.iter().all(|v| v.as_str().is_some_and(&mut add)),
                _ => false,
            };
            if !ok {
                return Err(self.error(loc, "type", "must be a type name or an array of them"));
            }
            kw.push(Kw::Type(mask));
        }
        if let Some(e) = obj.get("enum") {
            let Value::Array(values) = e else {
                return Err(self.error(loc, "enum", "must be an array"));
            };
            kw.push(Kw::Enum(values.clone()));
        }
        if !draft4 {
            if let Some(c) = obj.get("const") {
                kw.push(Kw::Const(c.clone()));
            }
        }
        if let Some(m) = obj.get("multipleOf") {
            match m {
                Value::Number(n) if n.as_f64().is_some_and(|f| f > 0.0) => {
                    kw.push(Kw::MultipleOf(n.clone()));
                }
                _ => return Err(self.error(loc, "multipleOf", "must be a number above 0")),
            }
        }
        for (name, exclusive_name) in [
            ("minimum", "exclusiveMinimum"),
            ("maximum", "exclusiveMaximum"),
        ] {
            let bound = match obj.get(name) {
                Some(Value::Number(n)) => Some(n.clone()),
                Some(_) => return Err(self.error(loc, name, "must be a number")),
                None => None,
            };
            let exclusive = obj.get(exclusive_name);
            let lower = name == "minimum";
            match (draft4, exclusive) {
                (true, Some(Value::Bool(true))) => {
                    if let Some(n) = bound {
                        kw.push(if lower {
                            Kw::ExclusiveMinimum(n)
                        } else {
                            Kw::ExclusiveMaximum(n)
                        });
                    }
                    continue;
                }
                (true, Some(Value::Bool(false)) | None) => {}
                (false, Some(Value::Number(n))) => {
                    kw.push(if lower {
                        Kw::ExclusiveMinimum(n.clone())
                    } else {
                        Kw::ExclusiveMaximum(n.clone())
                    });
                }
                (false, None) => {}
                (true, Some(_)) => {
                    return Err(self.error(loc, exclusive_name, "must be a boolean"));
                }
                (false, Some(_)) => {
                    return Err(self.error(loc, exclusive_name, "must be a number"));
                }
            }
            if let Some(n) = bound {
                kw.push(if lower {
                    Kw::Minimum(n)
                } else {
                    Kw::Maximum(n)
                });
            }
        }
        if let Some(n) = self.count(loc, obj, "minLength")? {
            kw.push(Kw::MinLength(n));
        }
        if let Some(n) = self.count(loc, obj, "maxLength")? {
            kw.push(Kw::MaxLength(n));
        }
        if let Some(p) = obj.get("pattern") {
            let Some(source) = p.as_str() else {
                return Err(self.error(loc, "pattern", "must be a string"));
            };
            let pattern = Pattern::new(source).map_err(|m| self.error(loc, "pattern", m))?;
            kw.push(Kw::Pattern(pattern));
        }
        if let Some(n) = self.count(loc, obj, "minItems")? {
            kw.push(Kw::MinItems(n));
        }
        if let Some(n) = self.count(loc, obj, "maxItems")? {
            kw.push(Kw::MaxItems(n));
        }
        match obj.get("uniqueItems") {
            Some(Value::Bool(true)) => kw.push(Kw::UniqueItems),
            Some(Value::Bool(false)) | None => {}
            Some(_) => return Err(self.error(loc, "uniqueItems", "must be a boolean")),
        }
        if let Some(n) = self.count(loc, obj, "minProperties")? {
            kw.push(Kw::MinProperties(n));
        }
        if let Some(n) = self.count(loc, obj, "maxProperties")? {
            kw.push(Kw::MaxProperties(n));
        }
        Ok(())
    }

    /// A non-negative integer keyword (`2.0` is accepted as 2).
    fn count(
        &self,
        loc: &Loc,
        obj: &Map<String, Value>,
        keyword: &str,
    ) -> Result<Option<u64>, CompileError> {
        let Some(v) = obj.get(keyword) else {
            return Ok(None);
        };
        if let Some(n) = v.as_u64() {
            return Ok(Some(n));
        }
        match v.as_f64() {
            Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let n = f as u64;
                Ok(Some(n))
            }
            _ => Err(self.error(loc, keyword, "must be a non-negative integer")),
        }
    }

    fn strings(&self, loc: &Loc, keyword: &str, v: &Value) -> Result<Vec<String>, CompileError> {
        let err = || self.error(loc, keyword, "must be an array of strings");
        let Value::Array(list) = v else {
            return Err(err());
        };
        list.iter()
            .map(|s| s.as_str().map(str::to_owned).ok_or_else(err))
            .collect()
    }

    fn schema_list(
        &mut self,
        loc: &Loc,
        obj: &Map<String, Value>,
        keyword: &str,
    ) -> Result<Option<Vec<NodeId>>, CompileError> {
        match obj.get(keyword) {
            Some(Value::Array(list)) if !list.is_empty() => (0..list.len())
                .map(|i| self.sub(loc, &[keyword, &i.to_string()]))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.error(loc, keyword, "must be a non-empty array of schemas")),
            None => Ok(None),
        }
    }

    /// In a request, `required` does not apply to `readOnly` properties (in a response,
    /// to `writeOnly` ones): OpenAPI's rule.
    fn drop_hidden_required(
        &mut self,
        loc: &Loc,
        obj: &Map<String, Value>,
        base: &str,
        names: &mut Vec<String>,
    ) -> Result<(), CompileError> {
        let flag = match self.direction {
            Direction::Neither => return Ok(()),
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
        };
        let Some(Value::Object(props)) = obj.get("properties") else {
            return Ok(());
        };
        let mut hidden = Vec::new();
        for name in names.iter() {
            let Some(mut schema) = props.get(name) else {
                continue;
            };
            // Follow a few `$ref`s (OpenAPI 3.0 ignores a `$ref`'s siblings; 3.1 does not).
            let mut base = base.to_owned();
            for _ in 0..8 {
                if schema.get(flag) == Some(&Value::Bool(true)) {
                    hidden.push(name.clone());
                    break;
                }
                let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
                    break;
                };
                let target = self.reference(loc, "required", &base, r)?;
                base = self.scope_of(&target).base;
                match self.value_at(&target) {
                    Some(v) => schema = v,
                    None => break,
                }
            }
        }
        names.retain(|n| !hidden.contains(n));
        Ok(())
    }

    fn discriminator(
        &mut self,
        loc: &Loc,
        obj: &Map<String, Value>,
        d: &Value,
        key: &str,
        branches: Vec<NodeId>,
        base: &str,
    ) -> Result<Discriminator, CompileError> {
        let dloc = loc.child(&["discriminator"]);
        let Some(property) = d.get("propertyName").and_then(Value::as_str) else {
            return Err(self.error(&dloc, "propertyName", "must be a string"));
        };
        let mut mapping: BTreeMap<String, NodeId> = BTreeMap::new();
        let mut explicit_targets = Vec::new();
        if let Some(m) = d.get("mapping") {
            let Value::Object(m) = m else {
                return Err(self.error(&dloc, "mapping", "must be an object"));
            };
            let mloc = dloc.child(&["mapping"]);
            for (value, target) in m {
                let Some(target) = target.as_str() else {
                    return Err(self.error(&mloc, value, "must be a string"));
                };
                // A bare name designates a component schema.
                let reference = if target.contains('/') || target.contains('#') {
                    target.to_owned()
                } else {
                    format!("#/components/schemas/{target}")
                };
                let target_loc = self.reference(&mloc, value, base, &reference)?;
                explicit_targets.push(target_loc.clone());
                mapping.insert(value.clone(), self.compile_loc(&target_loc)?);
            }
        }
        // Implicit mapping: a `$ref` branch is selected by the last segment of its pointer.
        if let Some(Value::Array(list)) = obj.get(key) {
            for branch in list {
                let Some(r) = branch.get("$ref").and_then(Value::as_str) else {
                    continue;
                };
                let target_loc = self.reference(loc, key, base, r)?;
                if explicit_targets.contains(&target_loc) {
                    continue;
                }
                let (doc_part, fragment) = split_fragment(r);
                let name = if fragment.is_empty() {
                    // `pet.json` → `pet`
                    let file = doc_part.rsplit('/').next().unwrap_or(doc_part);
                    file.split('.').next().unwrap_or(file).to_owned()
                } else {
                    let last = fragment.rsplit('/').next().unwrap_or(fragment);
                    percent_decode(last).replace("~1", "/").replace("~0", "~")
                };
                if let std::collections::btree_map::Entry::Vacant(slot) = mapping.entry(name) {
                    slot.insert(self.compile_loc(&target_loc)?);
                }
            }
        }
        Ok(Discriminator {
            property: property.to_owned(),
            mapping: mapping.into_iter().collect(),
            branches,
            one_of: key == "oneOf",
        })
    }
}

/// Points references at the target of nodes that are nothing but a `$ref` (`{"$ref":
/// ...}`, or any `$ref` in draft 4), so evaluation skips the hop: fewer steps, and depth
/// follows the instance's nesting more closely. Root ids handed out stay valid: the
/// skipped nodes remain in the arena.
fn skip_plain_refs(program: &mut Program) {
    let target = |program: &Program, mut id: NodeId| -> NodeId {
        // Bounded: a cycle of plain refs keeps its last hop (and fails on depth at run time).
        for _ in 0..16 {
            match program.nodes.get(id as usize) {
                Some(Node {
                    kw,
                    res: None,
                    ann: false,
                }) => match kw.as_slice() {
                    [Kw::Ref(next)] if *next != id => id = *next,
                    _ => break,
                },
                _ => break,
            }
        }
        id
    };
    let resolved: Vec<NodeId> = (0..program.nodes.len())
        .map(|i| target(program, NodeId::try_from(i).unwrap_or(NodeId::MAX)))
        .collect();
    let map = |id: &mut NodeId| {
        if let Some(&t) = resolved.get(*id as usize) {
            *id = t;
        }
    };
    for node in &mut program.nodes {
        for kw in &mut node.kw {
            kw.for_each_child_mut(&mut |id| map(id));
        }
    }
    for table in &mut program.dynamic {
        for (_, id) in table {
            map(id);
        }
    }
}

/// Calls `f` with the path segments and value of every subschema of `obj` (the keywords
/// of `dialect` whose values are schemas; never `enum`, `const` or unknown keywords).
fn subschemas<'v>(
    dialect: Dialect,
    obj: &'v Map<String, Value>,
    f: &mut dyn FnMut(&[&str], &'v Value),
) {
    let draft4 = matches!(dialect, Dialect::Draft4 | Dialect::OpenApi30);
    let single: &[&str] = if draft4 {
        &["additionalItems", "additionalProperties", "not"]
    } else {
        &[
            "additionalProperties",
            "not",
            "items",
            "contains",
            "propertyNames",
            "if",
            "then",
            "else",
            "unevaluatedItems",
            "unevaluatedProperties",
        ]
    };
    for &k in single {
        if let Some(v) = obj.get(k) {
            f(&[k], v);
        }
    }
    let maps: &[&str] = if draft4 {
        &[
            "properties",
            "patternProperties",
            "definitions",
            "dependencies",
        ]
    } else {
        &[
            "properties",
            "patternProperties",
            "$defs",
            "definitions",
            "dependentSchemas",
        ]
    };
    for &k in maps {
        if let Some(Value::Object(m)) = obj.get(k) {
            for (name, v) in m {
                if v.is_object() || v.is_boolean() {
                    f(&[k, name], v);
                }
            }
        }
    }
    let arrays: &[&str] = if draft4 {
        &["allOf", "anyOf", "oneOf", "items"]
    } else {
        &["allOf", "anyOf", "oneOf", "prefixItems"]
    };
    for &k in arrays {
        match obj.get(k) {
            Some(Value::Array(list)) => {
                for (i, v) in list.iter().enumerate() {
                    f(&[k, &i.to_string()], v);
                }
            }
            Some(v) if draft4 && k == "items" => f(&[k], v),
            _ => {}
        }
    }
}
