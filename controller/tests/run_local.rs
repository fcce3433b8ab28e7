//! `gatehouse run --local`: the built binary watching a real directory.
//!
//! Only bounded polling: the watcher and the debounce make timing vary, and a slow machine
//! must not fail the test, only a wrong outcome.

// clippy.toml allows unwrap in #[test] functions only; the helpers here are test code too.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PETSTORE: &str = r"
apiVersion: gatehouse.dev/v1alpha1
kind: ApiSchema
metadata: {name: petstore}
spec:
  hosts: [localhost]
  basePath: /v1
  strict: true
  openapi:
    openapi: 3.1.0
    paths:
      /pets: {get: {operationId: listPets}}
";

const PATIENCE: Duration = Duration::from_secs(20);

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Kills the child if the test fails half-way, so no watcher outlives the test.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn recompiles_on_change_keeps_last_good_on_error_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("resources");
    std::fs::create_dir(&dir).unwrap();
    let input = dir.join("petstore.yaml");
    std::fs::write(&input, PETSTORE).unwrap();
    let config = tmp.path().join("config.json");
    let ecds = tmp.path().join("ecds.json");
    let log = tmp.path().join("controller.log");

    let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("run")
        .arg("--local")
        .arg(&dir)
        .arg("--config-out")
        .arg(&config)
        .arg("--ecds-out")
        .arg(&ecds)
        .arg("--wasm")
        .arg(tmp.path().join("gatehouse.wasm"))
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut child = Guard(child);

    wait_for("the first configuration", || {
        read(&config).contains("listPets")
    });
    wait_for("the ECDS document", || read(&ecds).contains("listPets"));
    let ecds_doc: serde_json::Value = serde_json::from_str(&read(&ecds)).unwrap();
    let embedded = ecds_doc["resources"][0]["typed_config"]["config"]["configuration"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    gatehouse_filter::compiled::CompiledConfig::from_json(embedded.as_bytes()).unwrap();

    // A good change is picked up.
    std::fs::write(
        &input,
        PETSTORE.replace(
            "/pets: {get: {operationId: listPets}}",
            "/pets: {get: {operationId: listPets}}\n      /pets/{id}: {get: {operationId: getPet}}",
        ),
    )
    .unwrap();
    wait_for("the change", || read(&config).contains("getPet"));
    wait_for("the ECDS change", || read(&ecds).contains("getPet"));
    let good_config = read(&config);
    let good_ecds = read(&ecds);

    // A broken change is refused: outputs untouched, process alive.
    std::fs::write(&input, PETSTORE.replace("strict: true", "strikt: true")).unwrap();
    wait_for("the refusal in the log", || read(&log).contains("strikt"));
    assert!(read(&log).contains("/spec/strikt"), "{}", read(&log));
    assert_eq!(read(&config), good_config);
    assert_eq!(read(&ecds), good_ecds);
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "the controller exited"
    );

    // And the next good change goes through again.
    std::fs::write(&input, PETSTORE.replace("listPets", "listAllPets")).unwrap();
    wait_for("the recovery", || read(&config).contains("listAllPets"));

    // SIGTERM (what the demo sends) exits cleanly.
    let term = Command::new("kill")
        .arg("-TERM")
        .arg(child.0.id().to_string())
        .status()
        .unwrap();
    assert!(term.success());
    let mut status = None;
    wait_for("the exit", || {
        status = child.0.try_wait().unwrap();
        status.is_some()
    });
    assert!(status.unwrap().success(), "{}", read(&log));
    // No temporary files left behind next to the outputs.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
