//! External `$ref`s (`other.yaml#/Pet`, `./schemas/pet.json`) bundled into one document.
//!
//! The gateway's compiler reads one self-contained document, so every reference to another
//! local file becomes a component of the root document (`#/components/schemas/Pet`, or
//! `#/definitions/Pet` in Swagger 2.0), named after the fragment's last token or the file,
//! and references inside the copied parts are rewritten the same way, recursively. Which
//! section a component goes to follows from where the reference stands (a `schema`, a
//! parameter, a response...). Path items have no component section in OpenAPI 3.0 and the
//! compiler does not follow path-item `$ref`s, so they are inlined, like path-item
//! references inside the root document.
//!
//! Recursive schemas across files terminate because a target gets its component name
//! before its content is walked; a cycle of path items (which would inline forever) is an
//! error. Remote (`http:`) references are refused: an import must not depend on the
//! network.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use gatehouse_filter::compiled::escape_pointer;
use gatehouse_filter::schema::percent_decode;

use super::lint::push_token;
use super::source::{self, SourceFile};
use super::Diagnostic;
use crate::error::{pointer_join, pointer_tokens};

/// Deepest nesting of inlined path items (a chain of files each referring to the next).
const MAX_INLINE_DEPTH: usize = 32;

/// What kind of OpenAPI object a node is, as far as references care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Doc,
    Components,
    Paths,
    PathItem,
    Operation,
    ParamList,
    Param,
    Body,
    MediaMap,
    Media,
    ResponseMap,
    Response,
    HeaderMap,
    Header,
    SchemaMap,
    Schema,
    ExampleMap,
    Example,
    LinkMap,
    Link,
    CallbackMap,
    Callback,
    SecurityMap,
    Security,
    BodyMap,
    Other,
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
    )
}

/// The kind of the child `key` of a node of kind `parent`.
fn child_kind(parent: Kind, key: &str) -> Kind {
    use Kind::*;
    match parent {
        Doc => match key {
            "paths" | "webhooks" | "x-ms-paths" => Paths,
            "components" => Components,
            "definitions" => SchemaMap,
            "parameters" => ParamList,
            "responses" => ResponseMap,
            "securityDefinitions" => SecurityMap,
            _ => Other,
        },
        Components => match key {
            "schemas" => SchemaMap,
            "parameters" => ParamList,
            "responses" => ResponseMap,
            "requestBodies" => BodyMap,
            "headers" => HeaderMap,
            "examples" => ExampleMap,
            "links" => LinkMap,
            "callbacks" => CallbackMap,
            "securitySchemes" => SecurityMap,
            "pathItems" => Paths,
            _ => Other,
        },
        Paths | Callback => PathItem,
        PathItem => match key {
            "parameters" => ParamList,
            k if is_method(k) => Operation,
            _ => Other,
        },
        Operation => match key {
            "parameters" => ParamList,
            "requestBody" => Body,
            "responses" => ResponseMap,
            "callbacks" => CallbackMap,
            _ => Other,
        },
        ParamList => Param,
        BodyMap => Body,
        HeaderMap => Header,
        Param | Header => match key {
            "schema" | "items" => Schema,
            "content" => MediaMap,
            "examples" => ExampleMap,
            _ => Other,
        },
        Body => match key {
            "content" => MediaMap,
            // Swagger 2.0 body parameters are parameters, with a `schema`.
            "schema" => Schema,
            _ => Other,
        },
        MediaMap => Media,
        Media => match key {
            "schema" => Schema,
            "examples" => ExampleMap,
            _ => Other,
        },
        ResponseMap => Response,
        Response => match key {
            "schema" => Schema,
            "headers" => HeaderMap,
            "content" => MediaMap,
            "links" => LinkMap,
            _ => Other,
        },
        SchemaMap => Schema,
        Schema => match key {
            "example" | "examples" | "enum" | "default" | "const" | "x-example" => Other,
            _ => Schema,
        },
        ExampleMap => Example,
        LinkMap => Link,
        CallbackMap => Callback,
        SecurityMap => Security,
        Example | Link | Security | Other => Other,
    }
}

/// The component section a reference of `kind` goes to; `None`: inline it.
fn section(kind: Kind, swagger: bool) -> Option<&'static str> {
    use Kind::*;
    if swagger {
        return match kind {
            Schema | SchemaMap => Some("definitions"),
            Param => Some("parameters"),
            Response => Some("responses"),
            _ => None,
        };
    }
    match kind {
        Schema | SchemaMap => Some("schemas"),
        Param => Some("parameters"),
        Response => Some("responses"),
        Body => Some("requestBodies"),
        Header => Some("headers"),
        Example => Some("examples"),
        Link => Some("links"),
        Callback => Some("callbacks"),
        Security => Some("securitySchemes"),
        _ => None,
    }
}

fn section_kind(section: &str) -> Kind {
    match section {
        "parameters" => Kind::Param,
        "responses" => Kind::Response,
        "requestBodies" => Kind::Body,
        "headers" => Kind::Header,
        "examples" => Kind::Example,
        "links" => Kind::Link,
        "callbacks" => Kind::Callback,
        "securitySchemes" => Kind::Security,
        _ => Kind::Schema,
    }
}

struct Bundler {
    root: PathBuf,
    swagger: bool,
    files: HashMap<PathBuf, SourceFile>,
    /// (file, fragment, section) → the local reference that replaced it.
    done: HashMap<(PathBuf, String, &'static str), String>,
    taken: BTreeMap<&'static str, BTreeSet<String>>,
    added: Vec<(&'static str, String, Value)>,
    inlining: Vec<(PathBuf, String)>,
    errors: Vec<Diagnostic>,
    /// How each file is named in messages: as the user named the root, and referenced
    /// files relative to the file that referred to them (not canonicalized).
    display: HashMap<PathBuf, PathBuf>,
}

/// Resolves every external reference of `root` (read from `root.path`), returning the
/// self-contained document.
pub fn bundle(root: SourceFile) -> Result<Value, Vec<Diagnostic>> {
    let swagger = root.doc.get("swagger").is_some();
    let canonical = std::fs::canonicalize(&root.path).unwrap_or_else(|_| root.path.clone());
    let mut taken: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    let sections: &[&'static str] = if swagger {
        &["definitions", "parameters", "responses"]
    } else {
        &[
            "schemas",
            "parameters",
            "responses",
            "requestBodies",
            "headers",
            "examples",
            "links",
            "callbacks",
            "securitySchemes",
        ]
    };
    for s in sections {
        let existing = if swagger {
            root.doc.get(*s)
        } else {
            root.doc.get("components").and_then(|c| c.get(*s))
        };
        let names = existing
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        taken.insert(s, names);
    }
    let mut doc = root.doc.clone();
    let mut display = HashMap::new();
    display.insert(canonical.clone(), root.path.clone());
    let mut b = Bundler {
        root: canonical.clone(),
        swagger,
        files: HashMap::new(),
        done: HashMap::new(),
        taken,
        added: Vec::new(),
        inlining: Vec::new(),
        errors: Vec::new(),
        display,
    };
    b.files.insert(canonical.clone(), root);
    b.walk(&mut doc, &canonical, &mut String::new(), Kind::Doc, 0);
    if !b.errors.is_empty() {
        return Err(b.errors);
    }
    for (section, name, value) in b.added {
        let parent = if swagger {
            Some(&mut doc)
        } else {
            ensure_object(&mut doc, "components")
        };
        if let Some(Value::Object(map)) = parent.and_then(|p| ensure_object(p, section)) {
            map.insert(name, value);
        }
    }
    Ok(doc)
}

fn ensure_object<'v>(v: &'v mut Value, key: &str) -> Option<&'v mut Value> {
    let slot = v
        .as_object_mut()?
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    Some(slot)
}

impl Bundler {
    fn error(&mut self, file: &Path, pointer: &str, message: impl Into<String>) {
        let line = self
            .files
            .get(file)
            .and_then(|f| source::nearest_line(&f.text, pointer));
        let shown = self.shown(file);
        self.errors
            .push(Diagnostic::new(Some(&shown), line, pointer, message.into()));
    }

    /// Rewrites the references under `node`, which sits at `pointer` of `file` and is of
    /// kind `kind`. `pointer` is one buffer extended and cut back on the way down.
    fn walk(
        &mut self,
        node: &mut Value,
        file: &Path,
        pointer: &mut String,
        kind: Kind,
        depth: usize,
    ) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let reference = reference.clone();
                    // Under data (an example's `value`, an `enum`...) a `$ref` key is data.
                    if kind != Kind::Other {
                        self.reference(node, &reference, file, pointer, kind, depth);
                        return;
                    }
                }
                for (key, child) in map.iter_mut() {
                    let child_kind = if kind == Kind::Schema && is_schema_map_keyword(key) {
                        Kind::SchemaMap
                    } else {
                        child_kind(kind, key)
                    };
                    if child_kind == Kind::Other && !child.is_object() && !child.is_array() {
                        continue;
                    }
                    let len = pointer.len();
                    push_token(pointer, key);
                    self.walk(child, file, pointer, child_kind, depth);
                    pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    if !child.is_object() && !child.is_array() {
                        continue;
                    }
                    // Lists hold items of the parent's kind (allOf members, parameters).
                    let item_kind = match kind {
                        Kind::ParamList => Kind::Param,
                        Kind::Schema => Kind::Schema,
                        _ => Kind::Other,
                    };
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    self.walk(child, file, pointer, item_kind, depth);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }

    fn reference(
        &mut self,
        node: &mut Value,
        reference: &str,
        file: &Path,
        pointer: &str,
        kind: Kind,
        depth: usize,
    ) {
        let ref_at = pointer_join(pointer, "$ref");
        let (file_part, fragment) = match reference.split_once('#') {
            Some((f, frag)) => (f, frag.to_owned()),
            None => (reference, String::new()),
        };
        let fragment = percent_decode(&fragment);
        if file_part.contains("://") || file_part.starts_with("//") {
            self.error(
                file,
                &ref_at,
                format!("remote reference `{reference}` is not fetched; download it and refer to the local file"),
            );
            return;
        }
        let target_file = if file_part.is_empty() {
            file.to_path_buf()
        } else {
            let base = file.parent().unwrap_or(Path::new("."));
            let joined = base.join(percent_decode(file_part));
            let shown_base = self.shown(file);
            let shown = shown_base
                .parent()
                .unwrap_or(Path::new(""))
                .join(percent_decode(file_part));
            match std::fs::canonicalize(&joined) {
                Ok(p) => {
                    self.display.entry(p.clone()).or_insert(shown);
                    p
                }
                Err(e) => {
                    self.error(
                        file,
                        &ref_at,
                        format!("cannot resolve `{reference}`: {}: {e}", shown.display()),
                    );
                    return;
                }
            }
        };
        let in_root = target_file == self.root;
        let is_path_item = kind == Kind::PathItem;
        if in_root && !is_path_item {
            // A local reference of the root document (or one back into it): stays a
            // local reference, checked later by the compiler and the lints.
            if let Some(map) = node.as_object_mut() {
                map.insert("$ref".into(), Value::String(format!("#{fragment}")));
            }
            return;
        }
        if in_root && is_path_item && file == self.root {
            // Local path-item references are inlined after conversion (inline_path_items).
            return;
        }
        if !self.load(&target_file, file, &ref_at) {
            return;
        }
        let Some(target) = self
            .files
            .get(&target_file)
            .and_then(|f| f.doc.pointer(&fragment))
            .cloned()
        else {
            self.error(
                file,
                &ref_at,
                format!(
                    "cannot resolve `{reference}`: no `{fragment}` in {}",
                    target_file.display()
                ),
            );
            return;
        };
        match section(kind, self.swagger) {
            Some(section) => {
                let key = (target_file.clone(), fragment.clone(), section);
                let local = match self.done.get(&key) {
                    Some(local) => local.clone(),
                    None => {
                        let name = self.name_for(section, &target_file, &fragment);
                        let local = if self.swagger {
                            format!("#/{section}/{}", escape_pointer(&name))
                        } else {
                            format!("#/components/{section}/{}", escape_pointer(&name))
                        };
                        self.done.insert(key, local.clone());
                        let mut content = target;
                        self.walk(
                            &mut content,
                            &target_file,
                            &mut fragment.clone(),
                            section_kind(section),
                            depth,
                        );
                        self.added.push((section, name, content));
                        local
                    }
                };
                if let Some(map) = node.as_object_mut() {
                    map.insert("$ref".into(), Value::String(local));
                }
            }
            None => {
                let key = (target_file.clone(), fragment.clone());
                if self.inlining.contains(&key) || depth >= MAX_INLINE_DEPTH {
                    self.error(
                        file,
                        &ref_at,
                        format!("reference cycle: `{reference}` leads back to itself"),
                    );
                    return;
                }
                self.inlining.push(key);
                let mut content = target;
                self.walk(
                    &mut content,
                    &target_file,
                    &mut fragment.clone(),
                    kind,
                    depth + 1,
                );
                self.inlining.pop();
                // Siblings of a path-item `$ref` (a summary, extra operations) are kept and
                // win over the referenced item.
                if let (Some(content), Some(map)) = (content.as_object(), node.as_object()) {
                    let mut merged = content.clone();
                    for (k, v) in map {
                        if k != "$ref" {
                            merged.insert(k.clone(), v.clone());
                        }
                    }
                    *node = Value::Object(merged);
                } else {
                    *node = content;
                }
            }
        }
    }

    fn shown(&self, file: &Path) -> PathBuf {
        self.display
            .get(file)
            .cloned()
            .unwrap_or_else(|| file.to_path_buf())
    }

    /// Reads `path` once; false (and an error at the referring place) when it cannot.
    fn load(&mut self, path: &Path, from: &Path, ref_at: &str) -> bool {
        if self.files.contains_key(path) {
            return true;
        }
        match source::read(path) {
            Ok(f) => {
                self.files.insert(path.to_path_buf(), f);
                true
            }
            Err(mut e) => {
                // The referenced file's own problem, with its own line, and where it was
                // referred to.
                let shown = self.shown(path);
                e.file = Some(shown.clone());
                self.errors.push(e);
                self.error(
                    from,
                    ref_at,
                    format!("referenced from here: {}", shown.display()),
                );
                false
            }
        }
    }

    fn name_for(&mut self, section: &'static str, file: &Path, fragment: &str) -> String {
        let last = pointer_tokens(fragment).pop().unwrap_or_default();
        let base = if last.is_empty() {
            file.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("component")
                .to_owned()
        } else {
            last
        };
        let mut clean: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if clean.is_empty() {
            clean = "component".into();
        }
        let taken = self.taken.entry(section).or_default();
        let mut name = clean.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{clean}_{n}");
            n += 1;
        }
        taken.insert(name.clone());
        name
    }
}

/// Schema keywords whose value is a map of names to schemas.
fn is_schema_map_keyword(key: &str) -> bool {
    matches!(
        key,
        "properties" | "patternProperties" | "definitions" | "$defs" | "dependentSchemas"
    )
}

/// Replaces local path-item references (`paths: {/a: {$ref: '#/components/pathItems/A'}}`)
/// with the items they name: the compiler reads operations from `paths` only.
pub fn inline_path_items(doc: &mut Value) -> Result<(), Vec<Diagnostic>> {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Ok(());
    };
    let mut replacements = Vec::new();
    let mut errors = Vec::new();
    for (path, item) in paths {
        let Some(first) = item.get("$ref").and_then(Value::as_str) else {
            continue;
        };
        let at = pointer_join(&pointer_join("/paths", path), "$ref");
        let mut seen = BTreeSet::new();
        let mut reference = first.to_owned();
        let mut resolved = None;
        let mut unresolved = false;
        for _ in 0..MAX_INLINE_DEPTH {
            if !seen.insert(reference.clone()) {
                break;
            }
            let Some(target) = reference
                .strip_prefix('#')
                .map(percent_decode)
                .and_then(|f| doc.pointer(&f))
            else {
                errors.push(Diagnostic::new(
                    None,
                    None,
                    &at,
                    format!("cannot resolve path item reference `{reference}`"),
                ));
                unresolved = true;
                break;
            };
            match target.get("$ref").and_then(Value::as_str) {
                Some(next) => reference = next.to_owned(),
                None => {
                    resolved = Some(target.clone());
                    break;
                }
            }
        }
        match resolved {
            Some(target) => {
                let mut merged = target.as_object().cloned().unwrap_or_default();
                for (k, v) in item.as_object().into_iter().flatten() {
                    if k != "$ref" {
                        merged.insert(k.clone(), v.clone());
                    }
                }
                replacements.push((path.clone(), Value::Object(merged)));
            }
            None if !unresolved => errors.push(Diagnostic::new(
                None,
                None,
                &at,
                format!("reference cycle: `{first}` leads back to itself"),
            )),
            None => {}
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for (path, item) in replacements {
            paths.insert(path, item);
        }
    }
    Ok(())
}
