//! `gatehouse import` on files: external `$ref`s across nested files, errors with file,
//! line and pointer, lints, and the command line end to end (import, then compile).

// clippy.toml allows these in #[test] functions only; the helpers here are test code too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use gatehouse_controller::import::{self, ImportOptions, ValidationMode};
use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/import")
        .join(name)
}

fn enforce() -> ImportOptions {
    ImportOptions {
        validation: Some(ValidationMode::Enforce),
        ..ImportOptions::default()
    }
}

#[test]
fn external_refs_across_nested_files_are_bundled() {
    let imported = import::import_file(&fixture("multi/openapi.yaml"), &enforce()).unwrap();
    let doc = &imported.openapi;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut names: Vec<&str> = schemas.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["Address", "Error", "Local", "Owner", "pet"]);
    // Every reference is local now, and resolves (example values are data, not looked at).
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    match (k.as_str(), child) {
                        ("$ref", Value::String(r)) => out.push(r.clone()),
                        ("value", _) => {}
                        _ => refs(child, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|c| refs(c, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(doc, &mut found);
    assert!(found.len() > 10);
    for r in &found {
        let target = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("file reference left: {r}"));
        assert!(doc.pointer(target).is_some(), "{r} does not resolve");
    }
    // One component per target, whichever file referred to it.
    assert_eq!(
        doc["paths"]["/pets/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"],
        json!({"$ref": "#/components/schemas/pet"})
    );
    // The path item file is inlined (the compiler reads operations from `paths`), and its
    // own relative references resolve from its directory.
    let list = &doc["paths"]["/pets"]["get"];
    assert_eq!(list["operationId"], "listPets");
    assert_eq!(
        list["parameters"][0],
        json!({"$ref": "#/components/parameters/limit"})
    );
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["items"],
        json!({"$ref": "#/components/schemas/pet"})
    );
    // Recursion across files (pet → Owner → pet) ends in references, a reference back into
    // the root document becomes local, a file-local `#/Address` is bundled too.
    assert_eq!(
        schemas["Owner"]["properties"]["pets"]["items"],
        json!({"$ref": "#/components/schemas/pet"})
    );
    assert_eq!(
        schemas["Owner"]["properties"]["address"],
        json!({"$ref": "#/components/schemas/Address"})
    );
    assert_eq!(
        schemas["pet"]["properties"]["tag"],
        json!({"$ref": "#/components/schemas/Local"})
    );
    assert_eq!(
        doc["components"]["responses"]["Error"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Error"})
    );
    assert_eq!(imported.operations, 3);
    assert!(
        imported.warnings.iter().all(|w| w.code != "unresolved-ref"),
        "{:?}",
        imported.warnings
    );
}

#[test]
fn split_swagger_documents_are_bundled_then_converted() {
    let imported = import::import_file(&fixture("swagger-multi/swagger.yaml"), &enforce()).unwrap();
    let doc = &imported.openapi;
    assert_eq!(doc["servers"], json!([{"url": "https://split.test/api"}]));
    let thing = &doc["components"]["schemas"]["Thing"];
    assert_eq!(
        thing["properties"]["parts"]["items"],
        json!({"$ref": "#/components/schemas/Thing"})
    );
    assert_eq!(thing["properties"]["note"]["nullable"], true);
    assert_eq!(
        doc["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Thing"})
    );
    assert_eq!(imported.api_schema["metadata"]["name"], "split-swagger");
    assert_eq!(imported.api_schema["spec"]["hosts"], json!(["split.test"]));
}

fn errors(name: &str) -> Vec<String> {
    let e = import::import_file(&fixture(name), &ImportOptions::default()).unwrap_err();
    e.0.iter().map(ToString::to_string).collect()
}

#[test]
fn a_missing_file_is_reported_at_the_reference() {
    let e = errors("bad/missing.yaml");
    assert_eq!(e.len(), 1, "{e:?}");
    let expected_prefix = format!(
        "{}:12: /paths/~1a/get/responses/200/content/application~1json/schema/$ref: cannot resolve `nowhere.yaml#/Thing`",
        fixture("bad/missing.yaml").display()
    );
    assert!(e[0].starts_with(&expected_prefix), "{}", e[0]);
}

#[test]
fn a_cycle_of_path_items_is_an_error() {
    let e = errors("bad/cycle.yaml");
    assert!(e.iter().any(|m| m.contains("reference cycle")), "{e:?}");
    assert!(
        e.iter()
            .any(|m| m.contains("cycle-") && m.contains(":1: /$ref")),
        "{e:?}"
    );
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    let e = errors("bad/syntax.yaml");
    assert_eq!(e.len(), 1);
    let prefix = format!("{}:", fixture("bad/syntax.yaml").display());
    assert!(e[0].starts_with(&prefix), "{}", e[0]);
    assert!(e[0].contains("invalid YAML"), "{}", e[0]);
    // A broken file reached through a reference: its own error, and the referring line.
    let e = errors("bad/broken-target.yaml");
    assert!(
        e.iter()
            .any(|m| m.contains("syntax.yaml:") && m.contains("invalid YAML")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|m| m.contains("broken-target.yaml:5: /paths/~1a/$ref")),
        "{e:?}"
    );
}

#[test]
fn remote_references_are_refused() {
    let e = errors("bad/remote.yaml");
    assert!(
        e[0].contains(":7: /paths/~1a/get/parameters/0/$ref: remote reference"),
        "{}",
        e[0]
    );
}

#[test]
fn lints_carry_lines() {
    let imported =
        import::import_file(&fixture("bad/lints.yaml"), &ImportOptions::default()).unwrap();
    let found: Vec<(&str, Option<usize>, &str)> = imported
        .warnings
        .iter()
        .map(|w| (w.code, w.line, w.pointer.as_str()))
        .collect();
    for expected in [
        (
            "no-operation-id",
            Some(11),
            "/paths/~1items~1{itemId}/delete",
        ),
        ("duplicate-path", Some(10), "/paths/~1items~1{itemId}"),
        (
            "unresolved-ref",
            Some(9),
            "/paths/~1items~1{id}/get/responses/200/$ref",
        ),
        ("unused-component", Some(15), "/components/schemas/Unused"),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
}

fn gatehouse() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
}

#[test]
fn command_line_import_then_compile() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pets.yaml");
    let run = gatehouse()
        .args([
            "import",
            "--name",
            "pets",
            "--namespace",
            "shop",
            "--host",
            "pets.test",
        ])
        .args(["--validation", "enforce", "--strict", "--base-path", "/api"])
        .arg(fixture("multi/openapi.yaml"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("3 operations"), "{stderr}");
    let compiled = gatehouse()
        .arg("compile")
        .arg("-f")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let config: Value = serde_json::from_slice(&compiled.stdout).unwrap();
    let api = &config["apis"][0];
    assert_eq!(api["name"], "shop/pets");
    assert_eq!(api["strict"], true);
    assert_eq!(api["basePath"], "/api");
    let ids: Vec<&str> = api["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["operationId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["listPets", "createPet", "getPet"]);
    // Validation compiled from the bundled schemas: the body of createPet has a schema.
    assert!(api["operations"][1]["request"]["body"]["content"][0]["schema"].is_number());
}

#[test]
fn command_line_errors_exit_1_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.yaml");
    let run = gatehouse()
        .arg("import")
        .arg(fixture("bad/missing.yaml"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("missing.yaml:12:"), "{stderr}");
    assert!(!out.exists());
    let bad_flag = gatehouse()
        .args(["import", "x.yaml", "--provider-map", "nope"])
        .output()
        .unwrap();
    assert_eq!(bad_flag.status.code(), Some(2));
}

#[test]
fn command_line_config_map_for_large_documents() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pets.yaml");
    let run = gatehouse()
        .args(["import", "--configmap-threshold", "200"])
        .arg(fixture("multi/openapi.yaml"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let docs: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    assert_eq!(docs[0]["kind"], "ConfigMap");
    assert_eq!(
        docs[1]["spec"]["openapiRef"],
        json!({"configMap": "multi-openapi", "key": "openapi.json"})
    );
    let held: Value =
        serde_json::from_str(docs[0]["data"]["openapi.json"].as_str().unwrap()).unwrap();
    let direct =
        import::import_file(&fixture("multi/openapi.yaml"), &ImportOptions::default()).unwrap();
    assert_eq!(held, direct.openapi);
}
