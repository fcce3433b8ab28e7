//! The operator's pure half: an index of every resource → the filter configuration of each
//! target and the status of each resource. No API server, no clock: the controller fills the
//! index from its watches and writes what this returns (`docs/kubernetes.md`).
//!
//! Every ApiSchema is first checked on its own (target, OpenAPI reference, providers it may
//! see, compile), so one broken API never takes the others down. The good ones are grouped
//! by target; within a group the oldest API wins a host + base path, and a newer one that
//! claims it again is left out with `Conflicted`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use gatehouse_filter::config::{AuthPolicy, FilterConfig, Policies};
use sha2::{Digest, Sha256};

use crate::crd::{ApiSchemaStatus, Condition, IdentityProviderSpec, IdentityProviderStatus};
use crate::crd::{PolicyTargetRef, Target};
use crate::error::CompileError;
use crate::openapi_ref::{self, ConfigMapData};
use crate::resource::{self, ApiSchema, ApiSchemaSpec, IdentityProvider, ObjectMeta};
use crate::resource::{LoadedProvider, LoadedResource};

/// `(namespace, name)` of a namespaced object.
pub type ObjectKey = (String, String);

/// Most compile errors listed in one condition message; the rest are counted.
const MAX_ERRORS_IN_MESSAGE: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct SchemaEntry {
    pub namespace: String,
    pub name: String,
    pub generation: Option<i64>,
    /// RFC 3339 creation time: the older API wins a conflict. Ties: by namespace/name.
    pub created: String,
    pub spec: ApiSchemaSpec,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderEntry {
    pub namespace: String,
    pub name: String,
    pub generation: Option<i64>,
    pub spec: IdentityProviderSpec,
}

/// Everything the reconciler reads. ApiSchemas being deleted are left out by the caller.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub schemas: BTreeMap<ObjectKey, SchemaEntry>,
    pub providers: BTreeMap<ObjectKey, ProviderEntry>,
    pub config_maps: BTreeMap<ObjectKey, ConfigMapData>,
    /// Secret data (decoded), for `hmacSecretRef`.
    pub secrets: BTreeMap<ObjectKey, BTreeMap<String, Vec<u8>>>,
    /// Where filters post samples (`gatehouse run --collector-listen`): written into every
    /// target's `settings.sampling`; with it, [`Desired::authored`] is filled.
    pub sampling: Option<gatehouse_filter::config::SamplingSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetKind {
    /// `extensions.istio.io/v1alpha1` `WasmPlugin`.
    Istio,
    /// `gateway.envoyproxy.io/v1alpha1` `EnvoyExtensionPolicy`.
    EnvoyGateway,
    /// `v1` `ConfigMap`.
    Envoy,
}

impl TargetKind {
    #[must_use]
    pub fn object_kind(self) -> &'static str {
        match self {
            Self::Istio => "WasmPlugin",
            Self::EnvoyGateway => "EnvoyExtensionPolicy",
            Self::Envoy => "ConfigMap",
        }
    }
}

/// One generated object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetKey {
    pub kind: TargetKind,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for TargetKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.kind.object_kind(),
            self.namespace,
            self.name
        )
    }
}

/// How the generated object attaches to the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attachment {
    Selector(BTreeMap<String, String>),
    TargetRef(PolicyTargetRef),
    None,
}

/// What one target should carry.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetOutput {
    pub config: FilterConfig,
    /// The configuration as compact JSON, what the proxy reads.
    pub json: String,
    /// SHA-256 hex of `json`.
    pub hash: String,
    pub attachment: Attachment,
    /// The ApiSchemas in it, oldest first.
    pub members: Vec<ObjectKey>,
}

/// The result of one pass.
#[derive(Debug, Clone, Default)]
pub struct Desired {
    pub targets: BTreeMap<TargetKey, TargetOutput>,
    pub schemas: BTreeMap<ObjectKey, ApiSchemaStatus>,
    pub providers: BTreeMap<ObjectKey, IdentityProviderStatus>,
    /// The target each ApiSchema belongs to, when it named a valid one.
    pub schema_targets: BTreeMap<ObjectKey, TargetKey>,
    /// With [`Index::sampling`]: each compiled ApiSchema's document (`openapiRef`
    /// resolved) and base path, what the learned model is compared with.
    pub authored: BTreeMap<ObjectKey, (serde_json::Value, String)>,
}

pub const ACCEPTED: &str = "Accepted";
pub const COMPILED: &str = "Compiled";
pub const PROGRAMMED: &str = "Programmed";
pub const CONFLICTED: &str = "Conflicted";

fn condition(type_: &str, ok: bool, reason: &str, message: impl Into<String>) -> Condition {
    Condition {
        type_: type_.to_owned(),
        status: if ok { "True" } else { "False" }.to_owned(),
        reason: reason.to_owned(),
        message: message.into(),
        observed_generation: None,
        last_transition_time: None,
    }
}

/// One ApiSchema's findings while the pass runs.
#[derive(Debug, Default)]
struct Findings {
    accepted: Option<Condition>,
    compiled: Option<Condition>,
    conflicted: Option<Condition>,
    operations: Option<u32>,
    /// `(host, base path)` pairs it serves, from its own compile.
    claims: Vec<(String, String)>,
    /// SHA-256 of its own compiled configuration.
    hash: Option<String>,
}

fn lines(errors: &[CompileError]) -> String {
    let mut out: Vec<String> = errors
        .iter()
        .take(MAX_ERRORS_IN_MESSAGE)
        .map(|e| {
            if e.pointer.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", e.pointer, e.message)
            }
        })
        .collect();
    if errors.len() > MAX_ERRORS_IN_MESSAGE {
        out.push(format!(
            "... and {} more",
            errors.len() - MAX_ERRORS_IN_MESSAGE
        ));
    }
    out.join("\n")
}

fn loaded_schema(entry: &SchemaEntry, spec: ApiSchemaSpec) -> LoadedResource {
    LoadedResource {
        file: PathBuf::new(),
        document: 0,
        schema: ApiSchema {
            api_version: resource::API_VERSION.to_owned(),
            kind: resource::KIND.to_owned(),
            metadata: ObjectMeta {
                name: entry.name.clone(),
                namespace: Some(entry.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec,
        },
    }
}

/// The provider as the filter's compiler reads it: operator-only fields removed, the
/// Secret reference resolved.
fn loaded_provider(
    entry: &ProviderEntry,
    secrets: &BTreeMap<ObjectKey, BTreeMap<String, Vec<u8>>>,
) -> Result<LoadedProvider, (String, String)> {
    let mut spec = entry.spec.clone();
    spec.allowed_namespaces.clear();
    let secret_ref = spec.hmac_secret_ref.take();
    let mut value = serde_json::to_value(&spec).map_err(|e| ("/spec".to_owned(), e.to_string()))?;
    if let (Some(r), Some(map)) = (secret_ref, value.as_object_mut()) {
        if map.contains_key("hmacSecret") {
            return Err((
                "/spec/hmacSecretRef".into(),
                "set either `hmacSecret` or `hmacSecretRef`, not both".into(),
            ));
        }
        let secret = secrets
            .get(&(entry.namespace.clone(), r.name.clone()))
            .ok_or_else(|| {
                (
                    "/spec/hmacSecretRef/name".to_owned(),
                    format!("no Secret {}/{}", entry.namespace, r.name),
                )
            })?;
        let bytes = secret.get(&r.key).ok_or_else(|| {
            (
                "/spec/hmacSecretRef/key".to_owned(),
                format!(
                    "Secret {}/{} has no key `{}`",
                    entry.namespace, r.name, r.key
                ),
            )
        })?;
        let text = String::from_utf8(bytes.clone()).map_err(|_| {
            (
                "/spec/hmacSecretRef/key".to_owned(),
                "the secret must be base64 text".to_owned(),
            )
        })?;
        map.insert("hmacSecret".into(), text.trim().into());
    }
    if let Some(map) = value.as_object_mut() {
        crate::secrets::resolve_with(map, |name, key| {
            oidc_secret(secrets, &entry.namespace, name, key)
        })?;
    }
    Ok(LoadedProvider {
        file: PathBuf::new(),
        document: 0,
        provider: IdentityProvider {
            api_version: resource::API_VERSION.to_owned(),
            kind: resource::PROVIDER_KIND.to_owned(),
            metadata: ObjectMeta {
                name: entry.name.clone(),
                namespace: Some(entry.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: value,
        },
    })
}

/// `spec.oidc.clientSecretRef` / `cookieKeyRef` `{name, key}`: a key of a Secret (labelled
/// `gatehouse.dev/secret`, the only ones watched) in the provider's namespace. Unlike the
/// base64 `hmacSecret`, these values are used as they are, so only a trailing newline (what
/// `kubectl create secret --from-file` keeps) is dropped.
fn oidc_secret(
    secrets: &BTreeMap<ObjectKey, BTreeMap<String, Vec<u8>>>,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<String, String> {
    let secret = secrets
        .get(&(namespace.to_owned(), name.to_owned()))
        .ok_or_else(|| {
            format!(
                "no Secret {namespace}/{name} (only Secrets labelled {} are read)",
                super::controller::SECRET_LABEL
            )
        })?;
    let bytes = secret
        .get(key)
        .ok_or_else(|| format!("Secret {namespace}/{name} has no key {key}"))?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| format!("Secret {namespace}/{name}: key {key} is not UTF-8"))?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.is_empty() {
        return Err(format!("Secret {namespace}/{name}: key {key} is empty"));
    }
    Ok(text.to_owned())
}

/// `namespace/name` of every provider the API's auth policies name.
fn referenced_providers(spec: &ApiSchemaSpec, namespace: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |p: &Policies| {
        if let Some(AuthPolicy { any_of, .. }) = &p.auth {
            for alternative in any_of {
                for r in &alternative.all_of {
                    out.insert(if r.provider.contains('/') {
                        r.provider.clone()
                    } else {
                        format!("{namespace}/{}", r.provider)
                    });
                }
            }
        }
    };
    add(&spec.policies.defaults);
    spec.policies.operations.values().for_each(&mut add);
    out
}

fn may_refer(provider: &ProviderEntry, from_namespace: &str) -> bool {
    provider.namespace == from_namespace
        || provider
            .spec
            .allowed_namespaces
            .iter()
            .any(|n| n == "*" || n == from_namespace)
}

fn target_of(spec: &ApiSchemaSpec, namespace: &str) -> Result<(TargetKey, Attachment), String> {
    let Some(Target {
        istio,
        envoy_gateway,
        envoy,
    }) = &spec.target
    else {
        return Err("spec.target is required: istio, envoyGateway or envoy".into());
    };
    let count = [istio.is_some(), envoy_gateway.is_some(), envoy.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if count != 1 {
        return Err("spec.target must set exactly one of istio, envoyGateway, envoy".into());
    }
    let key = |kind, ns: &Option<String>, name: &Option<String>| TargetKey {
        kind,
        namespace: ns
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| namespace.to_owned()),
        name: name
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "gatehouse".to_owned()),
    };
    if let Some(t) = istio {
        if t.selector.is_empty() {
            return Err("spec.target.istio.selector must name the gateway's labels".into());
        }
        return Ok((
            key(TargetKind::Istio, &t.namespace, &t.name),
            Attachment::Selector(t.selector.clone()),
        ));
    }
    if let Some(t) = envoy_gateway {
        return Ok((
            key(TargetKind::EnvoyGateway, &t.namespace, &t.name),
            Attachment::TargetRef(t.target_ref.clone()),
        ));
    }
    let t = envoy.clone().unwrap_or_default();
    Ok((
        key(TargetKind::Envoy, &t.namespace, &t.name),
        Attachment::None,
    ))
}

/// The pass: index → per-target configuration and per-resource status.
#[must_use]
pub fn reconcile(index: &Index) -> Desired {
    let mut desired = Desired::default();

    // Providers, each on its own.
    let mut good_providers: BTreeMap<String, (LoadedProvider, &ProviderEntry)> = BTreeMap::new();
    for (key, entry) in &index.providers {
        let outcome = loaded_provider(entry, &index.secrets).and_then(|loaded| {
            // Through the whole compiler, so the filter's own provider checks (a usable
            // key source, ...) are reported on the provider rather than on every API using it.
            match crate::compile_with_providers(&[], std::slice::from_ref(&loaded)) {
                Ok(_) => Ok(loaded),
                Err(errors) => Err((String::new(), lines(&errors))),
            }
        });
        let accepted = match outcome {
            Ok(loaded) => {
                good_providers.insert(format!("{}/{}", key.0, key.1), (loaded, entry));
                condition(ACCEPTED, true, "Accepted", "")
            }
            Err((pointer, message)) => {
                let message = if pointer.is_empty() {
                    message
                } else {
                    format!("{pointer}: {message}")
                };
                condition(ACCEPTED, false, "Invalid", message)
            }
        };
        desired.providers.insert(
            key.clone(),
            IdentityProviderStatus {
                conditions: vec![with_generation(accepted, entry.generation)],
                observed_generation: entry.generation,
            },
        );
    }

    // ApiSchemas, each on its own.
    let mut findings: BTreeMap<ObjectKey, Findings> = BTreeMap::new();
    let mut resolved: BTreeMap<ObjectKey, (LoadedResource, BTreeSet<String>)> = BTreeMap::new();
    let mut groups: BTreeMap<TargetKey, Vec<(ObjectKey, Attachment)>> = BTreeMap::new();
    for (key, entry) in &index.schemas {
        let f = findings.entry(key.clone()).or_default();
        let (target, attachment) = match target_of(&entry.spec, &entry.namespace) {
            Ok(t) => t,
            Err(message) => {
                f.accepted = Some(condition(ACCEPTED, false, "InvalidTarget", message));
                continue;
            }
        };
        let mut spec = entry.spec.clone();
        if let Err(e) = openapi_ref::resolve(&mut spec, &entry.namespace, |ns, name| {
            index.config_maps.get(&(ns.to_owned(), name.to_owned()))
        }) {
            let reason = if e.pointer == "/spec/openapiRef/configMap" {
                "RefNotFound"
            } else {
                "InvalidRef"
            };
            f.accepted = Some(condition(
                ACCEPTED,
                false,
                reason,
                format!("{}: {}", e.pointer, e.message),
            ));
            continue;
        }
        f.accepted = Some(condition(ACCEPTED, true, "Accepted", ""));
        desired.schema_targets.insert(key.clone(), target.clone());

        let wanted = referenced_providers(&spec, &entry.namespace);
        let mut visible = Vec::new();
        for name in &wanted {
            if let Some((loaded, provider)) = good_providers.get(name) {
                if may_refer(provider, &entry.namespace) {
                    visible.push(loaded.clone());
                }
            }
        }
        let loaded = loaded_schema(entry, spec);
        match crate::compile_with_providers(std::slice::from_ref(&loaded), &visible) {
            Ok(config) => {
                let api = config.apis.first();
                f.operations = api.map(|a| u32::try_from(a.operations.len()).unwrap_or(u32::MAX));
                if let Some(api) = api {
                    f.claims = api
                        .hosts
                        .iter()
                        .map(|h| (h.to_ascii_lowercase(), api.base_path.clone()))
                        .collect();
                }
                f.hash = serde_json::to_string(&config)
                    .ok()
                    .map(|json| hex(&Sha256::digest(json.as_bytes())));
                f.compiled = Some(condition(COMPILED, true, "Compiled", ""));
                if index.sampling.is_some() {
                    desired.authored.insert(
                        key.clone(),
                        (
                            loaded.schema.spec.openapi.clone(),
                            crate::learn::collector::base_path_of(&loaded),
                        ),
                    );
                }
                resolved.insert(key.clone(), (loaded, wanted));
                groups
                    .entry(target)
                    .or_default()
                    .push((key.clone(), attachment));
            }
            Err(errors) => {
                let errors = explain_denied_providers(errors, index, &entry.namespace);
                f.compiled = Some(condition(COMPILED, false, "CompileError", lines(&errors)));
            }
        }
    }

    // Targets: oldest first; conflicts out; then one configuration per target.
    for (target, mut members) in groups {
        let created = |k: &ObjectKey| index.schemas.get(k).map(|e| e.created.clone());
        members.sort_by_key(|(k, _)| (created(k), k.clone()));
        let Some((oldest, attachment)) = members.first().cloned() else {
            continue;
        };
        let mut claimed: BTreeMap<(String, String), ObjectKey> = BTreeMap::new();
        let mut kept: Vec<ObjectKey> = Vec::new();
        for (key, attach) in &members {
            let f = findings.entry(key.clone()).or_default();
            if *attach != attachment {
                f.conflicted = Some(condition(
                    CONFLICTED,
                    true,
                    "TargetConflict",
                    format!(
                        "{target} is already attached differently by the older ApiSchema {}/{}",
                        oldest.0, oldest.1
                    ),
                ));
                continue;
            }
            let taken = f.claims.iter().find_map(|c| claimed.get(c).map(|k| (c, k)));
            if let Some(((host, base), winner)) = taken {
                f.conflicted = Some(condition(
                    CONFLICTED,
                    true,
                    "HostPathConflict",
                    format!(
                        "host {host} with base path \"{base}\" is already served by the older ApiSchema {}/{}",
                        winner.0, winner.1
                    ),
                ));
                continue;
            }
            for c in &f.claims {
                claimed.insert(c.clone(), key.clone());
            }
            kept.push(key.clone());
        }
        // What is left can still clash in ways exact pairs do not show (overlapping
        // wildcards): drop the newest API the compiler names, and try again.
        loop {
            if kept.is_empty() {
                break;
            }
            let mut resources: Vec<LoadedResource> = Vec::with_capacity(kept.len());
            let mut names = BTreeSet::new();
            for (loaded, wanted) in kept.iter().filter_map(|k| resolved.get(k)) {
                resources.push(loaded.clone());
                names.extend(wanted.iter().cloned());
            }
            let providers: Vec<LoadedProvider> = names
                .iter()
                .filter_map(|n| good_providers.get(n).map(|(l, _)| l.clone()))
                .collect();
            match crate::compile_with_providers(&resources, &providers) {
                Ok(mut config) => {
                    if let Some(sampling) = &index.sampling {
                        config.settings.sampling = Some(sampling.clone());
                    }
                    let json = serde_json::to_string(&config).unwrap_or_default();
                    let hash = hex(&Sha256::digest(json.as_bytes()));
                    desired.targets.insert(
                        target.clone(),
                        TargetOutput {
                            config,
                            json,
                            hash,
                            attachment: attachment.clone(),
                            members: kept.clone(),
                        },
                    );
                    break;
                }
                Err(errors) => {
                    let labels: BTreeSet<&str> = errors
                        .iter()
                        .filter_map(|e| e.resource.as_deref())
                        .collect();
                    let newest = kept
                        .iter()
                        .rposition(|k| {
                            labels.contains(format!("ApiSchema {}/{}", k.0, k.1).as_str())
                        })
                        .unwrap_or(kept.len() - 1);
                    let key = kept.remove(newest);
                    findings.entry(key).or_default().conflicted = Some(condition(
                        CONFLICTED,
                        true,
                        "ConfigConflict",
                        format!("conflicts with older APIs in {target}: {}", lines(&errors)),
                    ));
                }
            }
        }
    }

    for (key, f) in findings {
        let generation = index.schemas.get(&key).and_then(|e| e.generation);
        let target = desired.schema_targets.get(&key);
        let output = target.and_then(|t| desired.targets.get(t).map(|o| (t, o)));
        let member = output.filter(|(_, o)| o.members.contains(&key));
        let mut conditions = Vec::new();
        conditions.extend(f.accepted.clone());
        if f.accepted.as_ref().is_some_and(|c| c.status == "True") {
            conditions.push(
                f.compiled
                    .clone()
                    .unwrap_or_else(|| condition(COMPILED, false, "Pending", "not compiled yet")),
            );
        }
        conditions.push(match (&f.conflicted, member) {
            (_, Some((t, _))) => condition(PROGRAMMED, true, "Programmed", format!("in {t}")),
            (Some(_), None) => condition(
                PROGRAMMED,
                false,
                "Conflicted",
                "see the Conflicted condition",
            ),
            (None, None) if f.compiled.as_ref().is_some_and(|c| c.status == "False") => condition(
                PROGRAMMED,
                false,
                "Invalid",
                "the API does not compile; the target keeps serving the others",
            ),
            (None, None) => condition(PROGRAMMED, false, "Invalid", "the API is not accepted"),
        });
        conditions.extend(f.conflicted.clone());
        desired.schemas.insert(
            key,
            ApiSchemaStatus {
                conditions: conditions
                    .into_iter()
                    .map(|c| with_generation(c, generation))
                    .collect(),
                observed_generation: generation,
                operations: f.operations,
                // The API's own hash, not the target's: a change to one API then rewrites
                // one status, not the status of every API sharing its target.
                config_hash: member.and(f.hash.clone()),
                programmed_into: member.map(|(t, _)| t.to_string()),
                learned: None,
            },
        );
    }
    desired
}

fn with_generation(mut c: Condition, generation: Option<i64>) -> Condition {
    c.observed_generation = generation;
    c
}

/// "no IdentityProvider x" is misleading when it exists but does not allow this namespace.
fn explain_denied_providers(
    mut errors: Vec<CompileError>,
    index: &Index,
    namespace: &str,
) -> Vec<CompileError> {
    for e in &mut errors {
        let Some(name) = e.message.strip_prefix("no IdentityProvider ") else {
            continue;
        };
        let Some((ns, n)) = name.split_once('/') else {
            continue;
        };
        if let Some(p) = index.providers.get(&(ns.to_owned(), n.to_owned())) {
            e.message = if may_refer(p, namespace) {
                format!("IdentityProvider {name} is not valid (see its status)")
            } else {
                format!(
                    "IdentityProvider {name} does not allow references from namespace {namespace} (its spec.allowedNamespaces)"
                )
            };
        }
    }
    errors
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
