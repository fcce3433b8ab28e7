//! Secret references of an `IdentityProvider`'s browser-login client: `spec.oidc`'s
//! `clientSecretRef` and `cookieKeyRef` become the filter's `clientSecret` and `cookieKey`.
//!
//! A reference is `{env: VAR}` (an environment variable of the `gatehouse` process) or
//! `{name: SECRET, key: KEY}`: a core/v1 `Secret` in the provider's namespace. Without a
//! cluster (`gatehouse compile`, `gatehouse run --local DIR`) the Secret is read from a
//! Secret manifest in the same directory as the IdentityProvider (`data` base64 or
//! `stringData`), so a laptop set-up needs no secret in the provider's own file.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The two secret fields and their reference forms.
const REFS: [(&str, &str); 2] = [
    ("clientSecretRef", "clientSecret"),
    ("cookieKeyRef", "cookieKey"),
];

/// Replaces the references of `spec.oidc` by their values. `Err((pointer, message))`
/// points into the resource.
pub fn resolve(
    spec: &mut Map<String, Value>,
    namespace: &str,
    file: &Path,
) -> Result<(), (String, String)> {
    resolve_with(spec, |name, key| from_manifest(name, key, namespace, file))
}

/// [`resolve`] with `{name, key}` references answered by `secret(name, key)`: the
/// operator's, from the labelled Secrets it watches in the provider's namespace.
/// `{env: VAR}` references read the process environment either way.
pub fn resolve_with(
    spec: &mut Map<String, Value>,
    secret: impl Fn(&str, &str) -> Result<String, String>,
) -> Result<(), (String, String)> {
    let Some(oidc) = spec.get_mut("oidc").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (reference, field) in REFS {
        let Some(r) = oidc.remove(reference) else {
            continue;
        };
        let at = format!("/spec/oidc/{reference}");
        if oidc.contains_key(field) {
            return Err((at, format!("set `{field}` or `{reference}`, not both")));
        }
        let value = lookup(&r, &secret).map_err(|m| (at, m))?;
        oidc.insert(field.to_owned(), Value::String(value));
    }
    Ok(())
}

fn lookup(
    reference: &Value,
    secret: &impl Fn(&str, &str) -> Result<String, String>,
) -> Result<String, String> {
    let text = |name: &str| reference.get(name).and_then(Value::as_str);
    match (text("env"), text("name"), text("key")) {
        (Some(var), None, None) => std::env::var(var)
            .map_err(|_| format!("environment variable {var} is not set"))
            .and_then(|v| {
                if v.is_empty() {
                    Err(format!("environment variable {var} is empty"))
                } else {
                    Ok(v)
                }
            }),
        (None, Some(name), Some(key)) => secret(name, key),
        _ => Err("a reference is {env: VAR} or {name: SECRET, key: KEY}".to_owned()),
    }
}

/// The value of `key` of Secret `namespace/name`, from a manifest next to `file`.
fn from_manifest(name: &str, key: &str, namespace: &str, file: &Path) -> Result<String, String> {
    let dir = file.parent().unwrap_or_else(|| Path::new("."));
    let files =
        crate::load::yaml_files(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for path in files {
        let Ok(content) = std::fs::read_to_string(&path) else {
            continue;
        };
        for document in serde_yaml_ng::Deserializer::from_str(&content) {
            let Ok(doc) = Value::deserialize(document) else {
                break;
            };
            let is_secret = doc.get("kind").and_then(Value::as_str) == Some("Secret")
                && doc.get("apiVersion").and_then(Value::as_str) == Some("v1");
            let meta = |f: &str| {
                doc.get("metadata")
                    .and_then(|m| m.get(f))
                    .and_then(Value::as_str)
            };
            if !is_secret
                || meta("name") != Some(name)
                || meta("namespace").unwrap_or("default") != namespace
            {
                continue;
            }
            if let Some(v) = doc
                .get("stringData")
                .and_then(|d| d.get(key))
                .and_then(Value::as_str)
            {
                return Ok(v.to_owned());
            }
            if let Some(v) = doc
                .get("data")
                .and_then(|d| d.get(key))
                .and_then(Value::as_str)
            {
                let bytes = gatehouse_filter::jwt::b64::decode_config(v).ok_or_else(|| {
                    format!("Secret {namespace}/{name}: data.{key} is not base64")
                })?;
                return String::from_utf8(bytes)
                    .map_err(|_| format!("Secret {namespace}/{name}: data.{key} is not UTF-8"));
            }
            return Err(format!("Secret {namespace}/{name} has no key {key}"));
        }
    }
    Err(format!(
        "no Secret {namespace}/{name} among the manifests in {}",
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use serde_json::json;

    fn spec(oidc: Value) -> Map<String, Value> {
        json!({"issuer": "x", "oidc": oidc})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn references_resolve_from_manifests_and_env_and_errors_point_at_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("secret.yaml"),
            "apiVersion: v1\nkind: Secret\nmetadata: {name: sso, namespace: shop}\ndata: {client: czNjcmV0}\nstringData: {cookie: a-cookie-key}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: sso}\nstringData: {client: other-namespace}\n",
        )
        .unwrap();
        let file = dir.path().join("idp.yaml");
        let mut s = spec(
            json!({"clientId": "web", "clientSecretRef": {"name": "sso", "key": "client"}, "cookieKeyRef": {"name": "sso", "key": "cookie"}}),
        );
        resolve(&mut s, "shop", &file).unwrap();
        assert_eq!(s["oidc"]["clientSecret"], "s3cret");
        assert_eq!(s["oidc"]["cookieKey"], "a-cookie-key");
        assert!(s["oidc"].get("clientSecretRef").is_none());
        let mut s = spec(json!({"clientSecretRef": {"name": "sso", "key": "client"}}));
        resolve(&mut s, "default", &file).unwrap();
        assert_eq!(s["oidc"]["clientSecret"], "other-namespace");

        std::env::set_var("GATEHOUSE_TEST_OIDC_SECRET", "from-env");
        let mut s = spec(json!({"clientSecretRef": {"env": "GATEHOUSE_TEST_OIDC_SECRET"}}));
        resolve(&mut s, "shop", &file).unwrap();
        assert_eq!(s["oidc"]["clientSecret"], "from-env");

        for (oidc, needle) in [
            (
                json!({"clientSecretRef": {"env": "GATEHOUSE_TEST_UNSET_VAR"}}),
                "not set",
            ),
            (
                json!({"clientSecretRef": {"name": "nope", "key": "client"}}),
                "no Secret shop/nope",
            ),
            (
                json!({"clientSecretRef": {"name": "sso", "key": "nope"}}),
                "no key nope",
            ),
            (
                json!({"clientSecretRef": {"name": "sso"}}),
                "a reference is",
            ),
            (
                json!({"clientSecret": "x", "clientSecretRef": {"env": "X"}}),
                "not both",
            ),
        ] {
            let mut s = spec(oidc);
            let (pointer, message) = resolve(&mut s, "shop", &file).unwrap_err();
            assert_eq!(pointer, "/spec/oidc/clientSecretRef");
            assert!(message.contains(needle), "{message}");
        }
    }
}
