//! The `ApiSchema` resource, version `gatehouse.dev/v1alpha1` (`docs/apischema.md`).
//!
//! Shaped like a Kubernetes object (`apiVersion`, `kind`, `metadata`, `spec`) so the same
//! spec type can later back a `#[derive(CustomResource)]` without changing the YAML users
//! write. Unknown fields are refused for the same reason the filter refuses them: a typo in
//! a policy must not silently turn the policy off.

use std::collections::BTreeMap;
use std::path::PathBuf;

use gatehouse_filter::config::Policies;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::crd::{self, ApiSchemaStatus, OpenApiRef, Target};

pub const GROUP: &str = "gatehouse.dev";
pub const API_VERSION: &str = "gatehouse.dev/v1alpha1";
pub const KIND: &str = "ApiSchema";
pub const DEFAULT_NAMESPACE: &str = "default";

/// One API: an OpenAPI document plus where and how the gateway serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiSchema {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ApiSchemaSpec,
}

/// The subset of Kubernetes `ObjectMeta` a file-based resource can carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    // Accepted so manifests written for kubectl load unchanged; not used yet.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ObjectMeta {
    /// The namespace, `default` when unset or empty (as kubectl does).
    #[must_use]
    pub fn namespace(&self) -> &str {
        match self.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns,
            _ => DEFAULT_NAMESPACE,
        }
    }

    /// `namespace/name`, how every resource is named in the filter configuration.
    #[must_use]
    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.namespace(), self.name)
    }
}

///
/// The same type is the `spec` of the Kubernetes custom resource ([`KubeApiSchema`]), so a
/// file and `kubectl apply` read the same YAML.
// One `type_` per print column reads to clippy as a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CustomResource, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[kube(
    group = "gatehouse.dev",
    version = "v1alpha1",
    kind = "ApiSchema",
    root = "KubeApiSchema",
    namespaced,
    status = "ApiSchemaStatus",
    shortname = "apis",
    category = "gatehouse",
    doc = "An API served by the gateway: an OpenAPI document plus hosts, policies and the ingress it is programmed into.",
    printcolumn(name = "Hosts", type_ = "string", json_path = ".spec.hosts"),
    printcolumn(
        name = "Operations",
        type_ = "integer",
        json_path = ".status.operations"
    ),
    printcolumn(
        name = "Compiled",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Compiled\")].status"
    ),
    printcolumn(
        name = "Programmed",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Programmed\")].status"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
pub struct ApiSchemaSpec {
    /// Host names, `*.suffix` wildcards or `*`; matched case-insensitively, port ignored.
    pub hosts: Vec<String>,
    /// Path prefix of every operation; defaults to the path of `openapi.servers[0].url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_path: Option<String>,
    /// Unknown routes answer 404 (405 for a known path with another method) instead of
    /// passing through.
    #[serde(default)]
    pub strict: bool,
    /// An inline OpenAPI 3.0 or 3.1 document, kept as a tree: only `paths`, `servers` and
    /// `openapi` are read now, and error pointers can name any node of it. Exactly one of
    /// `openapi` and `openapiRef` is set (null here when the reference is used).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    #[schemars(schema_with = "crd::openapi_document_schema")]
    pub openapi: serde_json::Value,
    /// The OpenAPI document in a ConfigMap key, for documents too large to inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi_ref: Option<OpenApiRef>,
    /// The ingress the API is programmed into (Kubernetes only; ignored by local mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(default, skip_serializing_if = "ApiPolicies::is_empty")]
    #[schemars(schema_with = "crd::policies_schema")]
    pub policies: ApiPolicies,
    /// Request validation settings of the whole API (the mode itself is a policy:
    /// `policies.defaults.validation.mode`).
    #[serde(default, skip_serializing_if = "ValidationSettings::is_default")]
    pub validation: ValidationSettings,
}

/// API-wide request validation settings (`docs/apischema.md#validation`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValidationSettings {
    /// What happens to query parameters the operation does not declare.
    #[serde(default)]
    pub unknown_query_parameters: UnknownQueryParameters,
    /// Largest request body accepted, in bytes, for operations whose request body has no
    /// `x-gatehouse-max-body-bytes`. Unset: the filter's default (1 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<u32>,
}

impl ValidationSettings {
    #[must_use]
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// `spec.validation.unknownQueryParameters`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum UnknownQueryParameters {
    /// Undeclared query parameters pass.
    #[default]
    Allow,
    /// Undeclared query parameters are violations.
    Reject,
}

/// Gateway policies: defaults for the whole API, and overrides per operationId.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiPolicies {
    #[serde(default, skip_serializing_if = "Policies::is_empty")]
    pub defaults: Policies,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operations: BTreeMap<String, Policies>,
}

impl ApiPolicies {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.defaults.is_empty() && self.operations.is_empty()
    }
}

impl ApiSchema {
    /// The namespace, `default` when unset.
    #[must_use]
    pub fn namespace(&self) -> &str {
        self.metadata.namespace()
    }

    /// `namespace/name`: the API's name in the filter configuration, metrics and logs.
    #[must_use]
    pub fn qualified_name(&self) -> String {
        self.metadata.qualified_name()
    }

    /// How errors name the resource: `ApiSchema default/petstore`.
    #[must_use]
    pub fn label(&self) -> String {
        format!("{KIND} {}", self.qualified_name())
    }
}

pub const PROVIDER_KIND: &str = "IdentityProvider";

/// An identity provider ApiSchemas' `auth` policies refer to by name
/// (`docs/apischema.md#identityprovider`). Its `spec` holds the fields of the filter's
/// provider (`docs/sso.md#providers`) except `name`, which is `namespace/name`; they are
/// checked when compiling, with the filter's own types, so both sides agree on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdentityProvider {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: serde_json::Value,
}

impl IdentityProvider {
    /// The namespace, `default` when unset.
    #[must_use]
    pub fn namespace(&self) -> &str {
        self.metadata.namespace()
    }

    /// `namespace/name`: the provider's name in the filter configuration and metrics.
    #[must_use]
    pub fn qualified_name(&self) -> String {
        self.metadata.qualified_name()
    }

    /// How errors name the resource: `IdentityProvider default/corp-sso`.
    #[must_use]
    pub fn label(&self) -> String {
        format!("{PROVIDER_KIND} {}", self.qualified_name())
    }
}

/// An identity provider and where it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedProvider {
    pub file: PathBuf,
    /// Index of the YAML document within the file, from 0.
    pub document: usize,
    pub provider: IdentityProvider,
}

/// A resource and where it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedResource {
    pub file: PathBuf,
    /// Index of the YAML document within the file, from 0.
    pub document: usize,
    pub schema: ApiSchema,
}
