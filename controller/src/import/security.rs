//! OpenAPI `security` → the gateway's `auth` policies (`docs/sso.md#authorization`).
//!
//! Both are an OR of ANDs, so a requirement list maps one to one: each security
//! requirement object is an alternative (`allOf`), each scheme in it a
//! `{provider, scopes}`. Schemes the gateway can check are those whose credential is a
//! JWT: `oauth2`, `openIdConnect`, `http` + `bearer`, and any scheme named in
//! `--provider-map`. An alternative with a scheme the gateway cannot check (`apiKey`,
//! `http basic`, `mutualTLS`) cannot be required at the gateway without refusing the
//! clients that use it, so such an operation is left to the upstream (public at the
//! gateway) and a warning says so.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::{Diagnostic, ImportOptions};
use crate::error::pointer_join;
use crate::openapi::DocOperation;

/// The policies and resources derived from a document's security.
#[derive(Debug, Default)]
pub struct SecurityMapping {
    /// `spec.policies.defaults.auth`, from the global `security`.
    pub defaults: Option<Value>,
    /// `spec.policies.operations.<id>.auth`, where an operation differs from the default.
    pub operations: BTreeMap<String, Value>,
    /// IdentityProvider skeletons for `openIdConnect` schemes not mapped by the user.
    pub providers: Vec<Value>,
    /// The IdentityProviders the policies name (`namespace/name`), for the summary.
    pub referenced: BTreeSet<String>,
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone, PartialEq)]
enum Mapped {
    /// No authentication required (`security: []`, or an empty alternative).
    Public,
    /// An `anyOf` list the gateway enforces.
    Policy(Value),
    /// Some alternative uses a scheme the gateway cannot check.
    Upstream,
}

/// How one scheme is checked: by which provider, or not at the gateway.
#[derive(Debug, Clone)]
enum Scheme {
    Provider(String),
    Unchecked(String),
}

/// Maps the document's security onto policies. `ops` and `ids` are the document's
/// operations and their operationIds as the compiler sees them.
#[must_use]
pub fn map(
    doc: &Value,
    ops: &[DocOperation],
    ids: &[String],
    options: &ImportOptions,
) -> SecurityMapping {
    let mut out = SecurityMapping::default();
    let namespace = options.namespace();
    let schemes = schemes(doc, options, &mut out);
    let mut warned: BTreeSet<String> = BTreeSet::new();
    let global = doc
        .get("security")
        .map(|s| map_requirements(s, "/security", &schemes, &mut out, &mut warned));
    if let Some(Mapped::Policy(p)) = &global {
        out.defaults = Some(p.clone());
    }
    for (op, id) in ops.iter().zip(ids) {
        let Some(requirements) = doc.pointer(&op.pointer).and_then(|o| o.get("security")) else {
            continue;
        };
        let at = pointer_join(&op.pointer, "security");
        let mapped = map_requirements(requirements, &at, &schemes, &mut out, &mut warned);
        if Some(&mapped) == global.as_ref() {
            continue;
        }
        match mapped {
            Mapped::Policy(p) => {
                out.operations.insert(id.clone(), p);
            }
            // Public, or not checkable here: only needs saying when a default would
            // otherwise apply.
            Mapped::Public | Mapped::Upstream if out.defaults.is_some() => {
                out.operations.insert(id.clone(), json!({ "anyOf": [] }));
            }
            Mapped::Public | Mapped::Upstream => {}
        }
    }
    for scheme in schemes.values() {
        if let Scheme::Provider(p) = scheme {
            let qualified = if p.contains('/') {
                p.clone()
            } else {
                format!("{namespace}/{p}")
            };
            out.referenced.insert(qualified);
        }
    }
    out
}

fn schemes(
    doc: &Value,
    options: &ImportOptions,
    out: &mut SecurityMapping,
) -> BTreeMap<String, Scheme> {
    let mut result = BTreeMap::new();
    let defined = doc
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    for (name, def) in defined.into_iter().flatten() {
        let at = pointer_join("/components/securitySchemes", name);
        let def = follow(doc, def);
        if let Some(provider) = options.provider_map.get(name) {
            result.insert(name.clone(), Scheme::Provider(provider.clone()));
            continue;
        }
        let kind = def.get("type").and_then(Value::as_str).unwrap_or("");
        let http_scheme = def
            .get("scheme")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let scheme = match kind {
            "oauth2" | "openIdConnect" => Scheme::Provider(k8s_name(name)),
            "http" if http_scheme == "bearer" => Scheme::Provider(k8s_name(name)),
            "http" => Scheme::Unchecked(format!("http {http_scheme}")),
            other => Scheme::Unchecked(other.to_owned()),
        };
        if kind == "openIdConnect" {
            if let (Scheme::Provider(provider), Some(url)) =
                (&scheme, def.get("openIdConnectUrl").and_then(Value::as_str))
            {
                out.providers
                    .push(oidc_skeleton(provider, &options.namespace(), url));
            }
        } else if let Scheme::Provider(provider) = &scheme {
            out.warnings.push(Diagnostic::lint(
                "identity-provider",
                &at,
                format!(
                    "`{name}` ({kind}) is checked as JWTs of IdentityProvider {}/{provider}; \
                     create it, or map the scheme with --provider-map {name}=NAMESPACE/NAME",
                    options.namespace()
                ),
            ));
        }
        result.insert(name.clone(), scheme);
    }
    // A mapping for a scheme the document does not define is the user's typo.
    for name in options.provider_map.keys() {
        if !result.contains_key(name) {
            out.warnings.push(Diagnostic::lint(
                "provider-map",
                "/components/securitySchemes",
                format!(
                    "--provider-map names `{name}`, which is not a security scheme of the document"
                ),
            ));
        }
    }
    result
}

fn follow<'v>(doc: &'v Value, mut v: &'v Value) -> &'v Value {
    for _ in 0..8 {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| doc.pointer(p))
        {
            Some(next) => v = next,
            None => break,
        }
    }
    v
}

fn map_requirements(
    requirements: &Value,
    at: &str,
    schemes: &BTreeMap<String, Scheme>,
    out: &mut SecurityMapping,
    warned: &mut BTreeSet<String>,
) -> Mapped {
    let Some(list) = requirements.as_array() else {
        out.warnings.push(Diagnostic::lint(
            "security",
            at,
            "`security` must be a list; ignored",
        ));
        return Mapped::Upstream;
    };
    let mut any_of = Vec::new();
    for (i, alternative) in list.iter().enumerate() {
        let Some(alternative) = alternative.as_object() else {
            continue;
        };
        if alternative.is_empty() {
            // `{}` among the alternatives: anonymous access is one of them.
            return Mapped::Public;
        }
        let mut all_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (name, scopes) in alternative {
            let scopes: Vec<String> = scopes
                .as_array()
                .map(|s| {
                    s.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            match schemes.get(name) {
                Some(Scheme::Provider(p)) => {
                    all_of.entry(p.clone()).or_default().extend(scopes);
                }
                Some(Scheme::Unchecked(kind)) => {
                    if warned.insert(name.clone()) {
                        out.warnings.push(Diagnostic::lint(
                            "auth-upstream",
                            &format!("{at}/{i}"),
                            format!(
                                "security scheme `{name}` ({kind}) is not checked by the gateway; \
                                 operations that accept it are left to the upstream \
                                 (--provider-map {name}=NS/NAME if its credential is a JWT)"
                            ),
                        ));
                    }
                    return Mapped::Upstream;
                }
                None => {
                    if warned.insert(name.clone()) {
                        out.warnings.push(Diagnostic::lint(
                            "auth-upstream",
                            &format!("{at}/{i}"),
                            format!("security scheme `{name}` is not defined in components.securitySchemes; operations that use it are left to the upstream"),
                        ));
                    }
                    return Mapped::Upstream;
                }
            }
        }
        let all_of: Vec<Value> = all_of
            .into_iter()
            .map(|(provider, scopes)| {
                let mut r = Map::new();
                r.insert("provider".into(), json!(provider));
                if !scopes.is_empty() {
                    r.insert("scopes".into(), json!(scopes));
                }
                Value::Object(r)
            })
            .collect();
        let alternative = json!({ "allOf": all_of });
        if !any_of.contains(&alternative) {
            any_of.push(alternative);
        }
    }
    if any_of.is_empty() {
        return Mapped::Public;
    }
    Mapped::Policy(json!({ "anyOf": any_of }))
}

/// An IdentityProvider for an `openIdConnect` scheme: issuer from the discovery URL, keys
/// by discovery. `jwksCluster` is a guess (the issuer's host) the user checks.
fn oidc_skeleton(name: &str, namespace: &str, url: &str) -> Value {
    let issuer = url
        .trim_end_matches('/')
        .trim_end_matches("/.well-known/openid-configuration")
        .to_owned();
    let host = issuer
        .split_once("://")
        .map_or(issuer.as_str(), |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_owned();
    let (namespace, name) = match name.split_once('/') {
        Some((ns, n)) => (ns.to_owned(), n.to_owned()),
        None => (namespace.to_owned(), name.to_owned()),
    };
    json!({
        "apiVersion": crate::resource::API_VERSION,
        "kind": crate::resource::PROVIDER_KIND,
        "metadata": { "name": name, "namespace": namespace },
        "spec": {
            "issuer": issuer,
            "oidcDiscovery": true,
            "jwksCluster": host,
        }
    })
}

/// A Kubernetes object name from a scheme name (`Petstore_Auth` → `petstore-auth`).
#[must_use]
pub fn k8s_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    let mut trimmed: String = trimmed.chars().take(63).collect();
    while trimmed.ends_with('-') {
        trimmed.pop();
    }
    if trimmed.is_empty() {
        "provider".to_owned()
    } else {
        trimmed
    }
}
