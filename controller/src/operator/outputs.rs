//! The objects the operator writes, one per target: an Istio `WasmPlugin`, an Envoy Gateway
//! `EnvoyExtensionPolicy`, or a `ConfigMap` for plain Envoy. Pure: a target's output in,
//! the object (as server-side-apply JSON) out.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{json, Value};

use super::index::{Attachment, ObjectKey, TargetKey, TargetKind, TargetOutput};
use crate::resource;

/// Field manager of every write (server-side apply).
pub const FIELD_MANAGER: &str = "gatehouse";
/// Label on every generated object; how the operator finds them again.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "gatehouse";
/// SHA-256 of the configuration the object carries.
pub const HASH_ANNOTATION: &str = "gatehouse.dev/config-hash";
/// SHA-256 of the whole generated object (without this annotation): what decides whether
/// it is rewritten, so a new module URL or selector is written even when the configuration
/// is the same.
pub const OBJECT_HASH_ANNOTATION: &str = "gatehouse.dev/object-hash";
/// The ApiSchemas (namespace/name, comma-separated) in the configuration.
pub const APIS_ANNOTATION: &str = "gatehouse.dev/apis";

/// How the proxy loads the module: WasmPlugin `failStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailStrategy {
    /// Requests fail (503) while the module cannot run: an API gateway that is not
    /// checking must not pass traffic.
    #[value(name = "FAIL_CLOSE")]
    FailClose,
    #[value(name = "FAIL_OPEN")]
    FailOpen,
}

impl FailStrategy {
    fn as_str(self) -> &'static str {
        match self {
            Self::FailClose => "FAIL_CLOSE",
            Self::FailOpen => "FAIL_OPEN",
        }
    }
}

/// Where the module comes from and how it is loaded.
#[derive(Debug, Clone)]
pub struct ModuleOptions {
    /// `oci://...`, `https://...` or `file://...` (WasmPlugin `url`; Envoy Gateway `code`).
    pub url: String,
    pub sha256: Option<String>,
    pub fail_strategy: FailStrategy,
    /// Path of the .wasm inside the Envoy container, for the plain-Envoy ECDS document.
    pub envoy_wasm_path: PathBuf,
}

/// `value[key] = item` on an object (the generated objects are always objects).
fn set(value: &mut Value, key: &str, item: Value) {
    if let Some(map) = value.as_object_mut() {
        map.insert(key.to_owned(), item);
    }
}

#[must_use]
pub fn api_resource(kind: TargetKind) -> ApiResource {
    let gvk = match kind {
        TargetKind::Istio => GroupVersionKind::gvk("extensions.istio.io", "v1alpha1", "WasmPlugin"),
        TargetKind::EnvoyGateway => {
            GroupVersionKind::gvk("gateway.envoyproxy.io", "v1alpha1", "EnvoyExtensionPolicy")
        }
        TargetKind::Envoy => GroupVersionKind::gvk("", "v1", "ConfigMap"),
    };
    let plural = match kind {
        TargetKind::Istio => "wasmplugins",
        TargetKind::EnvoyGateway => "envoyextensionpolicies",
        TargetKind::Envoy => "configmaps",
    };
    ApiResource::from_gvk_with_plural(&gvk, plural)
}

/// The generated object for `target`. `uids` gives the ApiSchemas' uids: those in the
/// object's namespace become owner references (Kubernetes forbids cross-namespace owners;
/// the finalizer cleans up the rest).
#[must_use]
pub fn object(
    target: &TargetKey,
    output: &TargetOutput,
    uids: &BTreeMap<ObjectKey, String>,
    module: &ModuleOptions,
) -> Value {
    let resource = api_resource(target.kind);
    let owners: Vec<Value> = output
        .members
        .iter()
        .filter(|k| k.0 == target.namespace)
        .filter_map(|k| {
            uids.get(k).map(|uid| {
                json!({
                    "apiVersion": resource::API_VERSION,
                    "kind": resource::KIND,
                    "name": k.1,
                    "uid": uid,
                })
            })
        })
        .collect();
    let apis: Vec<String> = output
        .members
        .iter()
        .map(|(ns, n)| format!("{ns}/{n}"))
        .collect();
    let mut metadata = json!({
        "name": target.name,
        "namespace": target.namespace,
        "labels": { MANAGED_BY_LABEL: MANAGED_BY },
        "annotations": { HASH_ANNOTATION: output.hash, APIS_ANNOTATION: apis.join(",") },
    });
    if !owners.is_empty() {
        set(&mut metadata, "ownerReferences", Value::Array(owners));
    }
    let config = serde_json::to_value(&output.config).unwrap_or(Value::Null);
    let mut object = json!({
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "metadata": metadata,
    });
    match target.kind {
        TargetKind::Istio => {
            let mut spec = json!({
                "url": module.url,
                "phase": "AUTHN",
                "failStrategy": module.fail_strategy.as_str(),
                "pluginName": "gatehouse",
                "pluginConfig": config,
            });
            if let Attachment::Selector(labels) = &output.attachment {
                set(&mut spec, "selector", json!({ "matchLabels": labels }));
            }
            if let Some(sha) = &module.sha256 {
                set(&mut spec, "sha256", sha.clone().into());
            }
            set(&mut object, "spec", spec);
        }
        TargetKind::EnvoyGateway => {
            let code = match module.url.strip_prefix("oci://") {
                Some(image) => json!({ "type": "Image", "image": { "url": image } }),
                None => {
                    let mut http = json!({ "url": module.url });
                    if let Some(sha) = &module.sha256 {
                        set(&mut http, "sha256", sha.clone().into());
                    }
                    json!({ "type": "HTTP", "http": http })
                }
            };
            let mut spec = json!({
                "wasm": [{
                    "name": "gatehouse",
                    "rootID": "gatehouse",
                    "code": code,
                    "config": config,
                    "failOpen": module.fail_strategy == FailStrategy::FailOpen,
                }],
            });
            if let Attachment::TargetRef(r) = &output.attachment {
                set(
                    &mut spec,
                    "targetRefs",
                    json!([{
                        "group": r.group.clone().unwrap_or_else(|| "gateway.networking.k8s.io".into()),
                        "kind": r.kind,
                        "name": r.name,
                    }]),
                );
            }
            set(&mut object, "spec", spec);
        }
        TargetKind::Envoy => {
            let ecds =
                crate::envoy::ecds_document(&output.json, &module.envoy_wasm_path, "gatehouse");
            set(
                &mut object,
                "data",
                json!({
                    "gatehouse.json": output.json,
                    "gatehouse-ecds.json": serde_json::to_string_pretty(&ecds).unwrap_or_default(),
                }),
            );
        }
    }
    let hash = object_hash(&object);
    if let Some(annotations) = object
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    {
        set(annotations, OBJECT_HASH_ANNOTATION, hash.into());
    }
    object
}

/// SHA-256 (hex) of the object's JSON; `serde_json` keeps map keys sorted, so equal objects
/// hash equally.
#[must_use]
pub fn object_hash(object: &Value) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(object).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::index::{reconcile, Index, SchemaEntry};

    fn module() -> ModuleOptions {
        ModuleOptions {
            url: "oci://ghcr.io/gatehouse-dev/filter:0.1.0".into(),
            sha256: None,
            fail_strategy: FailStrategy::FailClose,
            envoy_wasm_path: "/etc/gatehouse/gatehouse_filter.wasm".into(),
        }
    }

    fn output(target: &str) -> (TargetKey, TargetOutput) {
        let spec = serde_yaml_ng::from_str(&format!(
            "hosts: [a.example]\ntarget: {target}\nopenapi: {{openapi: 3.1.0, paths: {{/a: {{get: {{responses: {{'200': {{description: ok}}}}}}}}}}}}\n"
        ))
        .unwrap();
        let mut index = Index::default();
        index.schemas.insert(
            ("shop".into(), "a".into()),
            SchemaEntry {
                namespace: "shop".into(),
                name: "a".into(),
                generation: Some(1),
                created: "t".into(),
                spec,
            },
        );
        reconcile(&index).targets.into_iter().next().unwrap()
    }

    #[test]
    fn wasm_plugin_carries_the_configuration_in_plugin_config() {
        let (key, out) = output("{istio: {selector: {istio: ingressgateway}}}");
        let uids = [(("shop".to_owned(), "a".to_owned()), "u-1".to_owned())].into();
        let o = object(&key, &out, &uids, &module());
        assert_eq!(o["apiVersion"], "extensions.istio.io/v1alpha1");
        assert_eq!(o["metadata"]["namespace"], "shop");
        assert_eq!(o["metadata"]["annotations"][HASH_ANNOTATION], out.hash);
        let object_hash = o["metadata"]["annotations"][OBJECT_HASH_ANNOTATION].clone();
        assert_eq!(object_hash.as_str().unwrap().len(), 64);
        // Same input, same object; another module URL, another object hash.
        assert_eq!(object(&key, &out, &uids, &module()), o);
        let other = ModuleOptions {
            url: "oci://ghcr.io/gatehouse-dev/filter:0.2.0".into(),
            ..module()
        };
        let o2 = object(&key, &out, &uids, &other);
        assert_eq!(o2["metadata"]["annotations"][HASH_ANNOTATION], out.hash);
        assert_ne!(
            o2["metadata"]["annotations"][OBJECT_HASH_ANNOTATION],
            object_hash
        );
        assert_eq!(o["metadata"]["ownerReferences"][0]["uid"], "u-1");
        assert_eq!(o["spec"]["phase"], "AUTHN");
        assert_eq!(o["spec"]["failStrategy"], "FAIL_CLOSE");
        assert_eq!(
            o["spec"]["selector"]["matchLabels"]["istio"],
            "ingressgateway"
        );
        assert_eq!(o["spec"]["pluginConfig"]["apis"][0]["name"], "shop/a");
        // What the filter reads is what was hashed.
        let back: gatehouse_filter::config::FilterConfig =
            serde_json::from_value(o["spec"]["pluginConfig"].clone()).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), out.json);
    }

    #[test]
    fn envoy_gateway_policy_and_config_map() {
        let (key, out) =
            output("{envoyGateway: {namespace: gw, targetRef: {kind: Gateway, name: eg}}}");
        let o = object(&key, &out, &BTreeMap::new(), &module());
        assert_eq!(o["kind"], "EnvoyExtensionPolicy");
        assert_eq!(o["metadata"]["namespace"], "gw");
        assert!(o["metadata"].get("ownerReferences").is_none());
        assert_eq!(
            o["spec"]["targetRefs"][0]["group"],
            "gateway.networking.k8s.io"
        );
        assert_eq!(o["spec"]["wasm"][0]["code"]["type"], "Image");
        assert_eq!(o["spec"]["wasm"][0]["config"]["version"], 1);

        let (key, out) = output("{envoy: {name: edge}}");
        let o = object(&key, &out, &BTreeMap::new(), &module());
        assert_eq!(o["kind"], "ConfigMap");
        assert_eq!(o["metadata"]["name"], "edge");
        assert_eq!(o["data"]["gatehouse.json"], out.json.as_str());
        assert!(o["data"]["gatehouse-ecds.json"]
            .as_str()
            .unwrap()
            .contains("/etc/gatehouse/gatehouse_filter.wasm"));
    }
}
