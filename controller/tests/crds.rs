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
