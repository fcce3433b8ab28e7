//! `examples/envoy` as a user runs it: Envoy started with the example's own bootstrap
//! (`envoy.yaml`, only addresses and paths changed for loopback) reading the example's ECDS
//! document (`gatehouse-ecds.json`, only the module path changed) from a directory laid out
//! like a Kubernetes ConfigMap volume. The API is served as declared, and a ConfigMap update
//! (the kubelet's atomic swap of the `..data` symlink) reaches Envoy without a restart,
//! which is what the bootstrap's `watched_directory` is for.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use wasm_host_tests::{
    backend_saw_operation, locate, Backend, Client, EcdsOutcome, EnvoyBuilder, Filter,
};

const ECDS_FILE: &str = "gatehouse-ecds.json";

fn example(file: &str) -> PathBuf {
    locate::repo_root().join("examples/envoy").join(file)
}

/// The example's ECDS document with the module at the built `.wasm`, the configuration
/// changed by `edit`, and `version_info` set so the test can wait for it.
fn ecds_document(version: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(example(ECDS_FILE)).unwrap()).unwrap();
    let config = &mut doc["resources"][0]["typed_config"]["config"];
    config["vm_config"]["code"]["local"]["filename"] =
        json!(locate::gatehouse_wasm().display().to_string());
    let mut filter_config: Value =
        serde_json::from_str(config["configuration"]["value"].as_str().unwrap()).unwrap();
    edit(&mut filter_config);
    config["configuration"]["value"] = json!(filter_config.to_string());
    doc["version_info"] = json!(version);
    doc
}

/// Writes `document` the way the kubelet projects a ConfigMap: the data in a timestamped
/// directory, `..data` a symlink to it (replaced by a rename, atomically), and the file a
/// symlink through `..data`.
fn project_configmap(dir: &Path, generation: u32, document: &Value) {
    let data = format!("..2026_11_23_00_00_0{generation}.000000001");
    std::fs::create_dir_all(dir.join(&data)).unwrap();
    std::fs::write(
        dir.join(&data).join(ECDS_FILE),
        serde_json::to_vec_pretty(document).unwrap(),
    )
    .unwrap();
    let tmp = dir.join("..data_tmp");
    std::os::unix::fs::symlink(&data, &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
    let file = dir.join(ECDS_FILE);
    if file.symlink_metadata().is_err() {
        std::os::unix::fs::symlink(Path::new("..data").join(ECDS_FILE), &file).unwrap();
    }
}

/// The example bootstrap, moved to loopback: ephemeral listener and admin ports, the
/// `inventory` cluster at the test backend, the ConfigMap directory at `ecds_dir`.
fn loopback_bootstrap(backend: std::net::SocketAddr, ecds_dir: &Path) -> Value {
    let text = std::fs::read_to_string(example("envoy.yaml")).unwrap();
    let mut b: Value = serde_yaml_ng::from_str(&text).unwrap();
    b["admin"]["address"]["socket_address"] = json!({"address": "127.0.0.1", "port_value": 0});
    let listener = &mut b["static_resources"]["listeners"][0];
    assert_eq!(listener["name"], "ingress");
    listener["address"]["socket_address"] = json!({"address": "127.0.0.1", "port_value": 0});
    let source = &mut listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"][0]
        ["config_discovery"]["config_source"]["path_config_source"];
    assert_eq!(source["path"], "/etc/gatehouse/ecds/gatehouse-ecds.json");
    source["path"] = json!(ecds_dir.join(ECDS_FILE).display().to_string());
    source["watched_directory"]["path"] = json!(ecds_dir.display().to_string());
    let cluster = &mut b["static_resources"]["clusters"][0];
    assert_eq!(cluster["name"], "inventory");
    cluster["type"] = json!("STATIC");
    cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
        ["socket_address"] =
        json!({"address": backend.ip().to_string(), "port_value": backend.port()});
    b
}

#[test]
fn the_envoy_example_serves_its_api_and_follows_configmap_updates() {
    let dir = tempfile::tempdir().unwrap();
    let ecds_dir = dir.path().join("ecds");
    project_configmap(&ecds_dir, 1, &ecds_document("v1", |_| {}));

    let backend = Backend::start();
    let bootstrap = loopback_bootstrap(backend.addr(), &ecds_dir);
    let envoy = EnvoyBuilder::new(&backend)
        .filter(Filter::ExternalEcds {
            name: "gatehouse".into(),
            path: ecds_dir.join(ECDS_FILE),
        })
        .patch_bootstrap(move |b| *b = bootstrap)
        .start();
    let client = Client::new();

    let ok = client.get(&envoy.url("/inventory/items?limit=5"), &[]);
    assert_eq!(
        backend_saw_operation(&ok).as_deref(),
        Some("default/inventory/listItems")
    );
    let invalid = client.get(&envoy.url("/inventory/items?limit=0"), &[]);
    assert_eq!(invalid.status, 400, "{}", invalid.body);
    assert_eq!(
        invalid.header("content-type"),
        Some("application/problem+json")
    );
    let bad_sku = client.get(&envoy.url("/inventory/items/abc"), &[]);
    assert_eq!(bad_sku.status, 400, "{}", bad_sku.body);
    let unknown = client.get(&envoy.url("/inventory/orders"), &[]);
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    // Outside the base path the API does not apply (hosts: ["*"], basePath /inventory).
    let other = client.get(&envoy.url("/metrics-of-the-backend"), &[]);
    assert_eq!(backend_saw_operation(&other), None);

    // The ConfigMap changes (here: the API made non-strict): the kubelet swaps `..data`,
    // Envoy's directory watch sees the move and loads the new document.
    let before = envoy.ecds_counters();
    project_configmap(
        &ecds_dir,
        2,
        &ecds_document("v2", |c| c["apis"][0]["strict"] = json!(false)),
    );
    assert_eq!(envoy.wait_ecds_version("v2", before), EcdsOutcome::Accepted);
    let passed = client.get(&envoy.url("/inventory/orders"), &[]);
    assert_eq!(backend_saw_operation(&passed), None, "{}", passed.body);
    let still_checked = client.get(&envoy.url("/inventory/items?limit=0"), &[]);
    assert_eq!(still_checked.status, 400, "{}", still_checked.body);
}
