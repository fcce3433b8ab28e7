//! The custom resource definitions, `gatehouse.dev/v1alpha1` (`docs/kubernetes.md`).
//!
//! `ApiSchema`'s spec is [`crate::resource::ApiSchemaSpec`], the same type files are read
//! into. Parts whose shape belongs to the filter (policies, the OpenAPI document, most of an
//! identity provider) are open objects in the CRD schema (`x-kubernetes-preserve-unknown-fields`)
//! and are checked by the controller with the filter's own types, which refuse unknown
//! fields; the error lands in `status.conditions` with its JSON pointer. Keeping one source
//! of truth beats a second, drifting copy of the filter's schema in the CRD.

use std::collections::BTreeMap;

use kube::core::CustomResourceExt;
use kube::CustomResource;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::resource::KubeApiSchema;

/// `spec.openapiRef`: a ConfigMap key in the ApiSchema's namespace holding the document (YAML
/// or JSON). A key ending in `.gz` is read from `binaryData` and gunzipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OpenApiRef {
    /// Name of the ConfigMap, in the ApiSchema's namespace.
    pub config_map: String,
    /// Key within the ConfigMap (`data`, or `binaryData` when it ends in `.gz`).
    pub key: String,
}

/// `spec.target`: where the API is programmed. Exactly one member is set. APIs naming the
/// same generated object share one filter configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Target {
    /// An Istio ingress gateway: the controller writes an `extensions.istio.io` `WasmPlugin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub istio: Option<IstioTarget>,
    /// Envoy Gateway: the controller writes a `gateway.envoyproxy.io` `EnvoyExtensionPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envoy_gateway: Option<EnvoyGatewayTarget>,
    /// Plain Envoy: the controller writes a `ConfigMap` with the filter configuration and an
    /// ECDS document, for Envoy to read from a mounted file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envoy: Option<EnvoyTarget>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IstioTarget {
    /// Namespace of the generated WasmPlugin (where the gateway runs, e.g. `istio-system`).
    /// Default: the ApiSchema's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the generated WasmPlugin. Default `gatehouse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Labels of the gateway workload (`WasmPlugin.spec.selector.matchLabels`).
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvoyGatewayTarget {
    /// Namespace of the generated policy (that of the Gateway / HTTPRoute). Default: the
    /// ApiSchema's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the generated EnvoyExtensionPolicy. Default `gatehouse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The Gateway API object the policy attaches to.
    pub target_ref: PolicyTargetRef,
}

/// A Gateway API `LocalPolicyTargetReference`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyTargetRef {
    /// Default `gateway.networking.k8s.io`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `Gateway` or `HTTPRoute`.
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvoyTarget {
    /// Namespace of the generated ConfigMap. Default: the ApiSchema's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the generated ConfigMap. Default `gatehouse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A status condition, shaped like `metav1.Condition`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Accepted`, `Compiled`, `Programmed` or `Conflicted`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// CamelCase reason, stable for automation.
    pub reason: String,
    /// For humans; compile errors are `POINTER: message` lines. Left out when empty: the
    /// v1.20 API server turns `""` in an apply patch into null and refuses it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The `metadata.generation` this condition describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// RFC 3339 time the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

/// `ApiSchema.status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiSchemaStatus {
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Number of operations the API compiled to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<u32>,
    /// SHA-256 (hex) of this API's compiled configuration (its part of what is programmed;
    /// the whole target's is the generated object's `gatehouse.dev/config-hash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<String>,
    /// The generated object carrying the configuration (`Kind namespace/name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programmed_into: Option<String>,
    /// Summary of the OpenAPI learned from traffic (filled by the collector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned: Option<LearnedSummary>,
}

/// What the collector learned from sampled traffic for this API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LearnedSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
    /// Operations seen in traffic but absent from the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undocumented_operations: Option<u32>,
    /// Operations whose observed shapes differ from the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drifted_operations: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sample_time: Option<String>,
}

/// `IdentityProvider` as a custom resource. The named fields are the ones `kubectl get`
/// shows and the operator reads; every other field of the filter's provider
/// (`docs/sso.md#providers`) is accepted as is and checked by the compiler.
// One `type_` per print column reads to clippy as a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CustomResource, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[kube(
    group = "gatehouse.dev",
    version = "v1alpha1",
    kind = "IdentityProvider",
    root = "KubeIdentityProvider",
    namespaced,
    status = "IdentityProviderStatus",
    shortname = "idp",
    category = "gatehouse",
    doc = "An OIDC / JWT identity provider that ApiSchema auth policies refer to.",
    printcolumn(name = "Issuer", type_ = "string", json_path = ".spec.issuer"),
    printcolumn(
        name = "Accepted",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Accepted\")].status"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct IdentityProviderSpec {
    /// Expected `iss` claim.
    pub issuer: String,
    /// Accepted `aud` values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// JWKS location, fetched through `jwksCluster`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Envoy cluster that reaches the JWKS / discovery endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_cluster: Option<String>,
    /// HMAC secret (HS256/384/512) from a Secret in the provider's namespace, instead of
    /// an inline `hmacSecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_secret_ref: Option<SecretKeyRef>,
    /// Namespaces whose ApiSchemas may refer to this provider (`namespace/name`). Its own
    /// namespace always may; `["*"]` allows every namespace. Default: none other.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_namespaces: Vec<String>,
    /// The filter's other provider fields (`algorithms`, `forwardClaims`, `requiredClaims`,
    /// `tokenSources`, `jwks`, `oidcDiscovery`, ...).
    #[serde(flatten)]
    #[schemars(skip)]
    pub rest: BTreeMap<String, serde_json::Value>,
}

/// A key of a Secret in the referring object's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

/// `IdentityProvider.status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProviderStatus {
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Schema of `spec.openapi`: any object, kept whole by the API server.
pub fn openapi_document_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "An inline OpenAPI 3.0 or 3.1 document (as YAML, not a string).",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// Schema of `spec.policies`: the filter's policy objects, checked by the compiler.
pub fn policies_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "Gateway policies (auth, validation, cache, sampling; docs/filter-config.md): `defaults`, and overrides keyed by operationId in `operations`.",
        "properties": {
            "defaults": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
            "operations": {
                "type": "object",
                "additionalProperties": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
            }
        }
    })
}

/// Every CRD, as the multi-document YAML `gatehouse crds` prints and
/// `charts/gatehouse/crds/` holds.
pub fn crds_yaml() -> Result<String, serde_yaml_ng::Error> {
    let mut out = String::from(
        "# Generated by `gatehouse crds` from controller/src (resource.rs, crd.rs); do not edit.\n",
    );
    for crd in [KubeApiSchema::crd(), KubeIdentityProvider::crd()] {
        let mut value = serde_json::to_value(&crd)
            .map_err(<serde_yaml_ng::Error as serde::ser::Error>::custom)?;
        drop_empty_string_defaults(&mut value);
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(&value)?);
    }
    Ok(out)
}

/// Removes `default: ""` from a schema: API servers up to at least v1.20 read an empty-string
/// default as null and refuse the CRD; an absent string deserializes to "" anyway.
fn drop_empty_string_defaults(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("default").and_then(|d| d.as_str()) == Some("") {
                map.remove("default");
            }
            map.values_mut().for_each(drop_empty_string_defaults);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_empty_string_defaults),
        _ => {}
    }
}
