//! `gatehouse import`: an OpenAPI 3.0/3.1 or Swagger 2.0 file → an `ApiSchema` resource
//! (`docs/import-and-scan.md`).
//!
//! The steps, each in its own module: read the file with line information available
//! ([`source`]), bundle external `$ref`s ([`refs`]), convert Swagger 2.0 ([`swagger2`]),
//! map `security` onto auth policies ([`security`]), lint ([`lint`]), and emit the
//! resource — inline, or with the document in a ConfigMap when it is large.
//!
//! [`to_apischema`] is the entry point for callers that already hold the document (`gatehouse
//! scan --apischema`); [`import_file`] adds reading, `$ref` bundling and line numbers.

pub mod lint;
pub mod refs;
pub mod security;
pub mod source;
pub mod swagger2;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::error::pointer_join;
use crate::openapi;

/// Documents whose JSON is larger than this go to a ConfigMap by default.
pub const DEFAULT_CONFIGMAP_THRESHOLD: usize = 512 * 1024;
/// A ConfigMap holds at most 1 MiB; above this the document is stored gzip-compressed.
pub const GZIP_ABOVE: usize = 900 * 1024;
/// What Kubernetes accepts in one ConfigMap's data.
pub const CONFIGMAP_LIMIT: usize = 1024 * 1024;

/// A problem (error) or a lint (warning) about the input, located as precisely as known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: Option<PathBuf>,
    /// 1-based line in `file`.
    pub line: Option<usize>,
    /// JSON pointer into the document as read (empty: the whole document).
    pub pointer: String,
    pub message: String,
    /// The lint's name (`no-operation-id`...), empty for errors.
    pub code: &'static str,
}

impl Diagnostic {
    #[must_use]
    pub fn new(
        file: Option<&Path>,
        line: Option<usize>,
        pointer: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.map(Path::to_path_buf),
            line,
            pointer: pointer.to_owned(),
            message: message.into(),
            code: "",
        }
    }

    #[must_use]
    pub fn lint(code: &'static str, pointer: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            ..Self::new(None, None, pointer, message)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            f.write_str(": ")?;
        }
        if !self.pointer.is_empty() {
            write!(f, "{}: ", self.pointer)?;
        }
        f.write_str(&self.message)?;
        if !self.code.is_empty() {
            write!(f, " [{}]", self.code)?;
        }
        Ok(())
    }
}

/// Why an import produced nothing: every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError(pub Vec<Diagnostic>);

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportError {}

impl From<Diagnostic> for ImportError {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

/// `--validation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationMode {
    Enforce,
    Report,
    Off,
}

impl ValidationMode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Report => "report",
            Self::Off => "off",
        }
    }
}

/// Everything the command line can say about the resource to produce.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// `metadata.name`; default: the document's `info.title`, else the file name.
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// `spec.hosts`; default: the hosts of the document's absolute server URLs, else `*`.
    pub hosts: Vec<String>,
    pub base_path: Option<String>,
    pub strict: bool,
    /// `spec.policies.defaults.validation.mode`; unset: not written (the filter's `off`).
    pub validation: Option<ValidationMode>,
    /// Security scheme name → IdentityProvider (`name` or `namespace/name`).
    pub provider_map: BTreeMap<String, String>,
    /// Documents whose compact JSON is larger go to a ConfigMap; `usize::MAX`: never.
    pub configmap_threshold: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            name: None,
            namespace: None,
            hosts: Vec::new(),
            base_path: None,
            strict: false,
            validation: None,
            provider_map: BTreeMap::new(),
            configmap_threshold: DEFAULT_CONFIGMAP_THRESHOLD,
        }
    }
}

impl ImportOptions {
    /// The namespace resources are written to (`default` when unset).
    #[must_use]
    pub fn namespace(&self) -> String {
        self.namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| crate::resource::DEFAULT_NAMESPACE.to_owned())
    }
}

/// The result of an import.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The `ApiSchema` resource, with `spec.openapi` inline or `spec.openapiRef`.
    pub api_schema: Value,
    /// The ConfigMap holding the document when it is referenced rather than inline.
    pub config_map: Option<Value>,
    /// IdentityProvider skeletons (for `openIdConnect` schemes).
    pub providers: Vec<Value>,
    /// The OpenAPI 3.x document as imported (converted, bundled), whether inline or not.
    pub openapi: Value,
    /// `namespace/name` of every IdentityProvider the auth policies name.
    pub referenced_providers: BTreeSet<String>,
    /// Number of operations in the document (each is one route of the API).
    pub operations: usize,
    /// The version of the input (`2.0`, `3.0.3`, `3.1.0`...).
    pub source_version: String,
    pub warnings: Vec<Diagnostic>,
}

impl Imported {
    /// The resources as one multi-document YAML stream: providers, the ConfigMap, then the
    /// ApiSchema (so `kubectl apply -f` creates what the ApiSchema refers to first).
    pub fn to_yaml(&self) -> Result<String, serde_yaml_ng::Error> {
        let mut out = String::new();
        let mut docs: Vec<&Value> = self.providers.iter().collect();
        docs.extend(self.config_map.as_ref());
        docs.push(&self.api_schema);
        for doc in docs {
            out.push_str("---\n");
            out.push_str(&serde_yaml_ng::to_string(doc)?);
        }
        Ok(out)
    }
}

/// Reads `path` (JSON or YAML), resolves its external references and imports it. Errors
/// and warnings about the root file carry its line numbers.
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<Imported, ImportError> {
    let file = source::read(path)?;
    if !file.doc.is_object() {
        return Err(Diagnostic::new(
            Some(path),
            Some(1),
            "",
            "not an OpenAPI document (expected a mapping at the top level)",
        )
        .into());
    }
    let text = file.text.clone();
    let stem = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned);
    let doc = refs::bundle(file).map_err(ImportError)?;
    let swagger = doc.get("swagger").is_some();
    let mut options = options.clone();
    if options.name.is_none() && title_name(&doc).is_none() {
        options.name = stem.map(|s| security::k8s_name(&s));
    }
    // Line lookups are one pass over the text for all pointers together.
    match to_apischema(doc, &options) {
        Ok(mut imported) => {
            imported.warnings = with_lines(imported.warnings, path, &text, swagger);
            Ok(imported)
        }
        Err(ImportError(errors)) => Err(ImportError(with_lines(errors, path, &text, swagger))),
    }
}

fn with_lines(list: Vec<Diagnostic>, path: &Path, text: &str, swagger: bool) -> Vec<Diagnostic> {
    let mut list: Vec<Diagnostic> = list
        .into_iter()
        .map(|mut d| {
            if d.file.is_none() {
                d.file = Some(path.to_path_buf());
                if swagger {
                    d.pointer = swagger_pointer(&d.pointer);
                }
            }
            d
        })
        .collect();
    let mut wanted = BTreeSet::new();
    for d in list
        .iter()
        .filter(|d| d.line.is_none() && d.file.as_deref() == Some(path))
    {
        let mut p = d.pointer.clone();
        loop {
            wanted.insert(p.clone());
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => break,
            }
        }
    }
    let lines = source::lines_of(text, &wanted);
    for d in list
        .iter_mut()
        .filter(|d| d.line.is_none() && d.file.as_deref() == Some(path))
    {
        let mut p = d.pointer.clone();
        loop {
            if let Some(line) = lines.get(&p) {
                d.line = Some(*line);
                break;
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => break,
            }
        }
    }
    list
}

/// A pointer into the converted document, as the place in the Swagger 2.0 original.
fn swagger_pointer(pointer: &str) -> String {
    for (from, to) in [
        ("/components/schemas/", "/definitions/"),
        ("/components/parameters/", "/parameters/"),
        ("/components/requestBodies/", "/parameters/"),
        ("/components/responses/", "/responses/"),
        ("/components/securitySchemes/", "/securityDefinitions/"),
    ] {
        if let Some(rest) = pointer.strip_prefix(from) {
            return format!("{to}{rest}");
        }
    }
    pointer.to_owned()
}

/// Imports a document already in memory (its `$ref`s local): converts Swagger 2.0, maps
/// security, lints, and builds the resources. Pointers in diagnostics are into `doc` as
/// converted (OpenAPI 3.x).
pub fn to_apischema(doc: Value, options: &ImportOptions) -> Result<Imported, ImportError> {
    let mut warnings = Vec::new();
    let (mut doc, source_version) = match (doc.get("swagger"), doc.get("openapi")) {
        (Some(Value::String(v)), _) if v == "2.0" => {
            let (converted, w) = swagger2::convert(&doc);
            warnings.extend(w);
            (converted, "2.0".to_owned())
        }
        (Some(v), _) => {
            return Err(Diagnostic::new(
                None,
                None,
                "/swagger",
                format!("unsupported Swagger version {v} (2.0 is read)"),
            )
            .into())
        }
        (None, Some(Value::String(v))) => {
            let version = v.clone();
            (doc, version)
        }
        _ => {
            openapi::check_version(&doc)
                .map_err(|e| Diagnostic::new(None, None, &e.pointer, e.message))?;
            return Err(Diagnostic::new(None, None, "", "not an OpenAPI document").into());
        }
    };
    openapi::check_version(&doc).map_err(|e| Diagnostic::new(None, None, &e.pointer, e.message))?;
    refs::inline_path_items(&mut doc).map_err(ImportError)?;
    drop_empty_operation_ids(&mut doc, &mut warnings);
    let ops = openapi::operations(&doc).map_err(|errors| {
        ImportError(
            errors
                .into_iter()
                .map(|e| Diagnostic::new(None, None, &e.pointer, e.message))
                .collect(),
        )
    })?;
    dedupe_operation_ids(&mut doc, &ops, &mut warnings);
    let ops = openapi::operations(&doc).map_err(|errors| {
        ImportError(
            errors
                .into_iter()
                .map(|e| Diagnostic::new(None, None, &e.pointer, e.message))
                .collect(),
        )
    })?;
    let ids = openapi::operation_ids(&ops).map_err(|errors| {
        ImportError(
            errors
                .into_iter()
                .map(|e| Diagnostic::new(None, None, &e.pointer, e.message))
                .collect(),
        )
    })?;
    warnings.extend(lint::lint(&doc, &ops));
    let auth = security::map(&doc, &ops, &ids, options);
    warnings.extend(auth.warnings.iter().cloned());

    let namespace = options.namespace();
    let name = match &options.name {
        Some(n) => n.clone(),
        None => title_name(&doc).unwrap_or_else(|| "api".to_owned()),
    };
    let hosts = if options.hosts.is_empty() {
        let found = server_hosts(&doc);
        if found.is_empty() {
            warnings.push(Diagnostic::lint(
                "hosts",
                "/servers",
                "no absolute server URL names a host; `spec.hosts` is `*` (set --host)",
            ));
            vec!["*".to_owned()]
        } else {
            found
        }
    } else {
        options.hosts.clone()
    };

    let mut spec = Map::new();
    spec.insert("hosts".into(), json!(hosts));
    if let Some(base) = &options.base_path {
        spec.insert("basePath".into(), json!(base));
    }
    if options.strict {
        spec.insert("strict".into(), json!(true));
    }
    let mut policies = Map::new();
    let mut defaults = Map::new();
    if let Some(a) = &auth.defaults {
        defaults.insert("auth".into(), a.clone());
    }
    if let Some(mode) = options.validation {
        defaults.insert("validation".into(), json!({ "mode": mode.as_str() }));
    }
    if !defaults.is_empty() {
        policies.insert("defaults".into(), Value::Object(defaults));
    }
    if !auth.operations.is_empty() {
        let ops: Map<String, Value> = auth
            .operations
            .iter()
            .map(|(id, a)| (id.clone(), json!({ "auth": a })))
            .collect();
        policies.insert("operations".into(), Value::Object(ops));
    }
    if !policies.is_empty() {
        spec.insert("policies".into(), Value::Object(policies));
    }

    let compact = serde_json::to_vec(&doc)
        .map_err(|e| Diagnostic::new(None, None, "", format!("cannot serialize: {e}")))?;
    let config_map = if compact.len() > options.configmap_threshold {
        let cm_name = format!("{name}-openapi");
        let (cm, key) = config_map(&cm_name, &namespace, compact, &mut warnings)?;
        spec.insert(
            "openapiRef".into(),
            json!({ "configMap": cm_name, "key": key }),
        );
        Some(cm)
    } else {
        spec.insert("openapi".into(), doc.clone());
        None
    };
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    metadata.insert("namespace".into(), json!(namespace));
    let api_schema = json!({
        "apiVersion": crate::resource::API_VERSION,
        "kind": crate::resource::KIND,
        "metadata": metadata,
        "spec": spec,
    });
    Ok(Imported {
        api_schema,
        config_map,
        providers: auth.providers,
        openapi: doc,
        referenced_providers: auth.referenced,
        operations: ops.len(),
        source_version,
        warnings,
    })
}

/// A ConfigMap holding the compact JSON document: as text under `openapi.json`, or
/// gzip-compressed under `binaryData` `openapi.json.gz` when that would not fit.
fn config_map(
    name: &str,
    namespace: &str,
    compact: Vec<u8>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<(Value, String), ImportError> {
    let metadata = json!({
        "name": name,
        "namespace": namespace,
        "labels": { "app.kubernetes.io/managed-by": "gatehouse-import" },
    });
    if compact.len() <= GZIP_ABOVE {
        let text = String::from_utf8(compact)
            .map_err(|e| Diagnostic::new(None, None, "", format!("not UTF-8: {e}")))?;
        let cm = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata,
            "data": { "openapi.json": text },
        });
        return Ok((cm, "openapi.json".to_owned()));
    }
    let gz = gzip(&compact)
        .map_err(|e| Diagnostic::new(None, None, "", format!("cannot compress: {e}")))?;
    if gz.len() > CONFIGMAP_LIMIT {
        warnings.push(Diagnostic::lint(
            "configmap-too-large",
            "",
            format!(
                "the document is {} bytes gzip-compressed, over the 1 MiB a ConfigMap holds; \
                 Kubernetes will refuse it (split the API, or drop examples and descriptions)",
                gz.len()
            ),
        ));
    }
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&gz);
    let cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "binaryData": { "openapi.json.gz": encoded },
    });
    Ok((cm, "openapi.json.gz".to_owned()))
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// `operationId: ""` (or a non-string) names nothing; the compiler refuses it. Removing it
/// lets the operation get a generated id, which is what the author's tool meant by leaving
/// it blank.
fn drop_empty_operation_ids(doc: &mut Value, warnings: &mut Vec<Diagnostic>) {
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let is_method = gatehouse_filter::config::Method::ALL
                .into_iter()
                .any(|m| m.as_str().eq_ignore_ascii_case(method));
            let Some(operation) = operation.as_object_mut().filter(|_| is_method) else {
                continue;
            };
            let blank = match operation.get("operationId") {
                Some(Value::String(id)) => id.trim().is_empty(),
                Some(_) => true,
                None => false,
            };
            if blank {
                operation.remove("operationId");
                warnings.push(Diagnostic::lint(
                    "no-operation-id",
                    &pointer_join(&pointer_join(&pointer_join("/paths", path), method), "operationId"),
                    "an empty or non-string operationId is ignored; the operation gets a generated one",
                ));
            }
        }
    }
}

/// Operations sharing an authored operationId (the compiler refuses them): the later ones
/// in (path, method) order get `_2`, `_3`... and a warning each.
fn dedupe_operation_ids(
    doc: &mut Value,
    ops: &[openapi::DocOperation],
    warnings: &mut Vec<Diagnostic>,
) {
    let mut taken: BTreeSet<String> = ops.iter().filter_map(|o| o.operation_id.clone()).collect();
    let mut seen = BTreeSet::new();
    for op in ops {
        let Some(id) = &op.operation_id else { continue };
        if seen.insert(id.clone()) {
            continue;
        }
        let mut n = 2;
        let mut renamed = format!("{id}_{n}");
        while taken.contains(&renamed) {
            n += 1;
            renamed = format!("{id}_{n}");
        }
        taken.insert(renamed.clone());
        let at = pointer_join(&op.pointer, "operationId");
        if let Some(slot) = doc.pointer_mut(&at) {
            *slot = Value::String(renamed.clone());
        }
        warnings.push(Diagnostic::lint(
            "duplicate-operation-id",
            &at,
            format!("operationId `{id}` is used more than once; this one is renamed `{renamed}`"),
        ));
    }
}

/// `info.title` as a Kubernetes name (`Swagger Petstore` → `swagger-petstore`).
fn title_name(doc: &Value) -> Option<String> {
    let title = doc.pointer("/info/title").and_then(Value::as_str)?;
    let name = security::k8s_name(title);
    (name != "provider").then_some(name)
}

/// Host names of the absolute server URLs, in order, ports and variables resolved.
fn server_hosts(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for server in doc
        .get("servers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(url) = server.get("url").and_then(Value::as_str) else {
            continue;
        };
        let url = substitute(url, server.get("variables"));
        let rest = match url.split_once("://") {
            Some((_, rest)) => rest,
            None => match url.strip_prefix("//") {
                Some(rest) => rest,
                None => continue,
            },
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or("");
        let host = if authority.starts_with('[') {
            authority
                .split(']')
                .next()
                .map(|h| format!("{h}]"))
                .unwrap_or_default()
        } else {
            authority.split(':').next().unwrap_or("").to_owned()
        };
        let host = host.to_ascii_lowercase();
        if is_host_pattern(&host) && !out.contains(&host) {
            out.push(host);
        }
    }
    out
}

/// What the filter accepts in `hosts` (`router::normalize_host_pattern`): a host name, an
/// IPv6 literal, `*.suffix` or `*`. Server URLs with unset variables (`https://.api.com`)
/// or underscores are left out rather than refused later.
fn is_host_pattern(host: &str) -> bool {
    if host == "*" {
        return true;
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    if name.starts_with('[') && name.ends_with(']') {
        return true;
    }
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn substitute(url: &str, variables: Option<&Value>) -> String {
    let mut out = String::new();
    let mut rest = url;
    while let Some(open) = rest.find('{') {
        let (before, tail) = rest.split_at(open);
        out.push_str(before);
        let Some(close) = tail.find('}') else {
            out.push_str(tail);
            return out;
        };
        let name = tail.get(1..close).unwrap_or("");
        let value = variables
            .and_then(|v| v.get(name))
            .and_then(|v| v.get("default"))
            .and_then(Value::as_str)
            .unwrap_or("");
        out.push_str(value);
        rest = tail.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
