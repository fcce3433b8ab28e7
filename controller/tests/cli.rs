//! `gatehouse compile`, run as a user runs it: the built binary on real files.

// clippy.toml allows unwrap in #[test] functions only; the helpers here are test code too.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gatehouse_filter::compiled::CompiledConfig;

fn gatehouse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn compiles_the_demo_to_a_configuration_the_filter_accepts() {
    let demo = demo_dir();
    let out = gatehouse(&["compile", "-f", demo.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let compiled = CompiledConfig::from_json(&out.stdout).unwrap();
    let config = compiled.source;
    let names: Vec<_> = config.apis.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["default/account", "default/legacy", "default/petstore"]
    );

    let petstore = &config.apis[2];
    assert!(petstore.strict);
    assert_eq!(petstore.base_path, "/v1");
    let ids: Vec<_> = petstore
        .operations
        .iter()
        .map(|o| o.operation_id.as_str())
        .collect();
    assert_eq!(
        ids,
        vec!["listPets", "createPet", "listMyPets", "getPet", "deletePet"]
    );

    let legacy = &config.apis[1];
    assert!(!legacy.strict);
    assert_eq!(legacy.base_path, "/legacy");
    assert!(legacy
        .operations
        .iter()
        .any(|o| o.operation_id == "get_orders_orderId"));

    // The SSO part (examples/demo/idp.yaml): the client secret and cookie key come from the
    // Secret manifest beside the provider, never from the provider's own file.
    let idp = &config.providers[0];
    assert_eq!(idp.name, "default/demo-idp");
    let oidc = idp.oidc.as_ref().unwrap();
    assert_eq!(oidc.client_secret.as_ref().unwrap().0, "gatehouse-secret");
    assert!(compiled.oidc.for_provider(0).is_some());
    let account = &config.apis[0];
    let me = account
        .operations
        .iter()
        .find(|o| o.operation_id == "getMe")
        .unwrap();
    assert!(me.policies.auth.as_ref().unwrap().interactive);
}

#[test]
fn output_file_matches_stdout_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("config.json");
    let demo = demo_dir();
    let demo = demo.to_str().unwrap();
    let to_file = gatehouse(&["compile", "-f", demo, "-o", file.to_str().unwrap()]);
    assert!(to_file.status.success(), "{}", stderr(&to_file));
    let stdout = gatehouse(&["compile", "-f", demo, "-o", "-"]);
    assert_eq!(std::fs::read(&file).unwrap(), stdout.stdout);
    // Files named one by one give the same result as their directory.
    let by_file = gatehouse(&[
        "compile",
        "-f",
        &format!("{demo}/petstore.yaml"),
        "-f",
        &format!("{demo}/legacy.yaml"),
        "-f",
        &format!("{demo}/account.yaml"),
        "-f",
        &format!("{demo}/idp.yaml"),
    ]);
    assert_eq!(by_file.stdout, stdout.stdout);
}

#[test]
fn a_bad_directory_exits_1_with_every_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(demo_dir().join("petstore.yaml")).unwrap();
    std::fs::write(
        tmp.path().join("bad.yaml"),
        demo.replace("name: petstore", "name: bad")
            .replace("operationId: deletePet", "operationId: getPet"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("typo.yaml"),
        demo.replace("name: petstore", "name: typo")
            .replace("strict: true", "strikt: true"),
    )
    .unwrap();
    let output = tmp.path().join("config.json");
    let out = gatehouse(&[
        "compile",
        "-f",
        tmp.path().to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad.yaml: ApiSchema default/bad: /spec/openapi/paths/~1pets~1{petId}/delete/operationId: duplicate operationId `getPet`"), "{err}");
    assert!(
        err.contains("typo.yaml: ApiSchema default/typo: /spec/strikt: unknown field `strikt`"),
        "{err}"
    );
    assert!(err.contains("2 error(s)"), "{err}");
    assert!(!output.exists());
}

#[test]
fn usage_errors_exit_2() {
    let out = gatehouse(&["compile"]);
    assert_eq!(out.status.code(), Some(2));
    let out = gatehouse(&[
        "run",
        "--local",
        ".",
        "--config-out",
        "x",
        "--ecds-out",
        "y",
    ]);
    assert_eq!(out.status.code(), Some(2), "--ecds-out needs --wasm");
}
