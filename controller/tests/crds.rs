//! The CRDs committed under charts/gatehouse/crds/ are the ones the types generate.

use std::path::Path;

#[test]
fn committed_crds_match_the_types() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../charts/gatehouse/crds/gatehouse.dev.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = gatehouse_controller::crd::crds_yaml().unwrap();
    assert!(
        committed == generated,
        "{} is out of date: run `cargo run -p gatehouse-controller -- crds > charts/gatehouse/crds/gatehouse.dev.yaml`",
        path.display()
    );
}

#[test]
fn crds_are_structural_and_keep_documents_whole() {
    let yaml = gatehouse_controller::crd::crds_yaml().unwrap();
    let docs: Vec<serde_json::Value> = serde_yaml_ng::Deserializer::from_str(&yaml)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &serde_json::Value| !v.is_null())
        .collect();
    assert_eq!(docs.len(), 2);
    let spec = &docs[0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    assert_eq!(
        spec["properties"]["openapi"]["x-kubernetes-preserve-unknown-fields"],
        true
    );
    assert_eq!(
        docs[0]["spec"]["versions"][0]["subresources"]["status"],
        serde_json::json!({})
    );
    assert_eq!(docs[1]["spec"]["names"]["kind"], "IdentityProvider");
    // Kubernetes refuses `additionalProperties: false` next to `properties`.
    assert!(!yaml.contains("additionalProperties: false"));
}

#[test]
fn gatehouse_crds_prints_them() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("crds")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        gatehouse_controller::crd::crds_yaml().unwrap()
    );
}

/// `spec.oidc` (browser login, with `clientSecretRef` / `cookieKeyRef`) is not a named field
/// of the IdentityProvider type: the schema keeps unknown fields of `spec`, so the API
/// server stores the section as written and the operator reads it whole.
#[test]
fn identity_provider_schema_keeps_the_oidc_section() {
    let yaml = gatehouse_controller::crd::crds_yaml().unwrap();
    let docs: Vec<serde_json::Value> = serde_yaml_ng::Deserializer::from_str(&yaml)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &serde_json::Value| !v.is_null())
        .collect();
    let spec = &docs[1]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    assert_eq!(spec["x-kubernetes-preserve-unknown-fields"], true, "{spec}");
    assert!(spec["properties"].get("oidc").is_none(), "{spec}");
    let oidc = serde_json::json!({
        "clientId": "web",
        "clientSecretRef": {"name": "sso", "key": "client"},
        "cookieKeyRef": {"env": "COOKIE_KEY"},
    });
    let idp: gatehouse_controller::crd::KubeIdentityProvider =
        serde_json::from_value(serde_json::json!({
            "apiVersion": "gatehouse.dev/v1alpha1",
            "kind": "IdentityProvider",
            "metadata": {"name": "sso", "namespace": "shop"},
            "spec": {"issuer": "https://sso.example", "oidc": oidc},
        }))
        .unwrap();
    assert_eq!(idp.spec.rest["oidc"], oidc);
    assert_eq!(serde_json::to_value(&idp).unwrap()["spec"]["oidc"], oidc);
}
