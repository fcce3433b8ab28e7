//! (g) End to end with the controller: `gatehouse compile` on the demo resources serves
//! as declared, and `gatehouse run --local DIR --ecds-out FILE` keeps a running Envoy in
//! step with the YAML in DIR: an edit is served without restarting Envoy, and a broken edit
//! leaves the last good configuration in force.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_yaml_ng::Value;
use wasm_host_tests::process::{self, Guarded};
use wasm_host_tests::{
    backend_saw_operation, locate, wait_until, Backend, Client, EnvoyBuilder, Filter,
};

/// The demo resources (`examples/demo/*.yaml`) copied into a fresh directory.
fn demo_copy(dir: &Path) -> PathBuf {
    let resources = dir.join("resources");
    std::fs::create_dir_all(&resources).unwrap();
    let demo = locate::repo_root().join("examples/demo");
    for entry in std::fs::read_dir(&demo).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            std::fs::copy(&path, resources.join(path.file_name().unwrap())).unwrap();
        }
    }
    resources
}

fn host_get(client: &Client, url: &str) -> wasm_host_tests::Response {
    client.get(url, &[("host", "localhost")])
}

#[test]
fn the_compiled_demo_routes_as_declared() {
    let dir = tempfile::tempdir().unwrap();
    let resources = demo_copy(dir.path());
    let out = dir.path().join("config.json");
    let status = std::process::Command::new(locate::gatehouse_bin())
        .arg("compile")
        .arg("-f")
        .arg(&resources)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "gatehouse compile failed: {status}");
    let config = std::fs::read_to_string(&out).unwrap();

    let backend = Backend::start();
    let envoy = EnvoyBuilder::new(&backend).gatehouse(&config).start();
    let client = Client::new();
    let cases = [
        ("/v1/pets", Some("default/petstore/listPets")),
        ("/v1/pets/mine", Some("default/petstore/listMyPets")),
        ("/v1/pets/5", Some("default/petstore/getPet")),
        ("/legacy/status", Some("default/legacy/getStatus")),
        (
            "/legacy/orders/7",
            Some("default/legacy/get_orders_orderId"),
        ),
        ("/legacy/anything", None),
    ];
    for (path, operation) in cases {
        let r = host_get(&client, &envoy.url(path));
        assert_eq!(backend_saw_operation(&r).as_deref(), operation, "{path}");
    }
    assert_eq!(host_get(&client, &envoy.url("/v1/owners")).status, 404);
}

/// `gatehouse run --local` as a child process (killed on drop) with its output in files.
struct Controller {
    process: Guarded,
    stderr: PathBuf,
}

impl Controller {
    fn start(resources: &Path, out: &Path) -> Self {
        let stderr = out.join("controller.stderr");
        let mut cmd = process::command(&locate::gatehouse_bin(), None);
        cmd.arg("run")
            .arg("--local")
            .arg(resources)
            .arg("--config-out")
            .arg(out.join("config.json"))
            .arg("--ecds-out")
            .arg(out.join("gatehouse-ecds.json"))
            .arg("--wasm")
            .arg(locate::gatehouse_wasm())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                std::fs::File::create(out.join("controller.stdout")).unwrap(),
            ))
            .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()));
        Self {
            process: Guarded::spawn(cmd, "gatehouse run --local").unwrap(),
            stderr,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

/// Adds `GET /owners` (operationId `listOwners`) to the petstore resource.
fn add_owners(resources: &Path) {
    let file = resources.join("petstore.yaml");
    let mut doc: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let paths = doc["spec"]["openapi"]["paths"].as_mapping_mut().unwrap();
    let op: Value = serde_yaml_ng::from_str(
        "get: {operationId: listOwners, responses: {'200': {description: Owners}}}",
    )
    .unwrap();
    paths.insert(Value::from("/owners"), op);
    std::fs::write(&file, serde_yaml_ng::to_string(&doc).unwrap()).unwrap();
}

#[test]
fn edits_in_the_local_directory_are_served_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let resources = demo_copy(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let ecds = out.join("gatehouse-ecds.json");

    let mut controller = Controller::start(&resources, &out);
    wait_until(
        "gatehouse run --local to write the ECDS file",
        Duration::from_secs(20),
        || {
            if let Some(status) = controller.process.try_exit_status() {
                panic!("gatehouse run exited ({status}):\n{}", controller.log());
            }
            ecds.exists().then_some(())
        },
    );

    let backend = Backend::start();
    let envoy = EnvoyBuilder::new(&backend)
        .filter(Filter::ExternalEcds {
            name: "gatehouse".into(),
            path: ecds.clone(),
        })
        .start();
    let pid = envoy.pid();
    let client = Client::new();
    let r = host_get(&client, &envoy.url("/v1/pets"));
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("default/petstore/listPets")
    );
    assert_eq!(host_get(&client, &envoy.url("/v1/owners")).status, 404);

    // An edit: the new operation is served, by the same Envoy.
    add_owners(&resources);
    let r = wait_until(
        "GET /v1/owners to be routed after the edit",
        Duration::from_secs(15),
        || {
            let r = host_get(&client, &envoy.url("/v1/owners"));
            (r.status == 200).then_some(r)
        },
    );
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("default/petstore/listOwners")
    );
    assert_eq!(envoy.pid(), pid, "same Envoy process");

    // A broken edit: the controller reports it and writes nothing; Envoy keeps serving.
    let before = std::fs::read(&ecds).unwrap();
    std::fs::write(
        resources.join("broken.yaml"),
        "apiVersion: gatehouse.dev/v1alpha1\nkind: ApiSchema\nmetadata: {name: broken}\nspec: {hosts: [x.test], openapi: {}, strictt: true}\n",
    )
    .unwrap();
    wait_until(
        "the controller to report the broken resource",
        Duration::from_secs(15),
        || controller.log().contains("broken.yaml").then_some(()),
    );
    assert_eq!(
        std::fs::read(&ecds).unwrap(),
        before,
        "ECDS file left alone"
    );
    let r = host_get(&client, &envoy.url("/v1/owners"));
    assert_eq!(
        backend_saw_operation(&r).as_deref(),
        Some("default/petstore/listOwners")
    );
    assert!(
        controller.process.try_exit_status().is_none(),
        "the controller keeps running"
    );
}
