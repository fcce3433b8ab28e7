//! The Kubernetes examples (`examples/istio`, `examples/envoy-gateway`, `examples/envoy`)
//! stay true: their resources compile with `gatehouse compile`, the filter accepts the
//! result, and the generated object each example ships (WasmPlugin, EnvoyExtensionPolicy,
//! ECDS document) carries exactly that configuration. When the compiler's output changes,
//! `scripts/refresh-examples.py` (`make examples`) rewrites the generated objects.

// clippy.toml allows unwrap in #[test] functions only; the helpers here are test code too.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use gatehouse_filter::compiled::CompiledConfig;
use serde_json::Value;

const REFRESH: &str = "run `make examples` (scripts/refresh-examples.py) to regenerate it";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// `gatehouse compile -f examples/NAME`, checked by the filter's own compiler.
fn compile(name: &str) -> Value {
    let dir = examples().join(name);
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["compile", "-f", dir.to_str().unwrap()])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "examples/{name} does not compile:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    CompiledConfig::from_json(&out.stdout)
        .unwrap_or_else(|e| panic!("the filter refuses examples/{name}: {e:?}"));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn yaml_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

fn one_of_kind(path: &Path, kind: &str) -> Value {
    let mut found: Vec<Value> = yaml_docs(path)
        .into_iter()
        .filter(|d| d["kind"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "one {kind} in {}", path.display());
    found.pop().unwrap()
}

#[test]
fn istio_wasmplugin_carries_the_compiled_configuration() {
    let compiled = compile("istio");
    let plugin = one_of_kind(&examples().join("istio/wasmplugin.yaml"), "WasmPlugin");
    assert_eq!(plugin["apiVersion"], "extensions.istio.io/v1alpha1");
    let spec = &plugin["spec"];
    assert_eq!(spec["phase"], "AUTHN");
    assert_eq!(spec["failStrategy"], "FAIL_CLOSE");
    assert_eq!(spec["pluginName"], "gatehouse");
    assert_eq!(spec["selector"]["matchLabels"]["istio"], "ingressgateway");
    assert!(
        spec["pluginConfig"] == compiled,
        "examples/istio/wasmplugin.yaml: pluginConfig is not what the resources compile to; {REFRESH}"
    );

    // What the example is about: SSO through the cluster the ServiceEntry creates.
    let provider = &compiled["providers"][0];
    assert_eq!(provider["name"], "shop/corp-sso");
    assert_eq!(provider["jwksCluster"], "outbound|80||sso.example.com");
    let egress = yaml_docs(&examples().join("istio/sso-egress.yaml"));
    assert_eq!(egress[0]["kind"], "ServiceEntry");
    assert_eq!(egress[0]["spec"]["hosts"][0], "sso.example.com");
    assert_eq!(egress[0]["spec"]["ports"][0]["number"], 80);
    let api = &compiled["apis"][0];
    assert_eq!(api["name"], "shop/pets");
    let health = api["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["operationId"] == "health")
        .unwrap();
    assert_eq!(health["policies"]["auth"]["anyOf"], serde_json::json!([]));
}

#[test]
fn envoy_gateway_policy_carries_the_compiled_configuration() {
    let compiled = compile("envoy-gateway");
    let policy = one_of_kind(
        &examples().join("envoy-gateway/envoyextensionpolicy.yaml"),
        "EnvoyExtensionPolicy",
    );
    let wasm = &policy["spec"]["wasm"][0];
    assert_eq!(wasm["rootID"], "gatehouse");
    assert_eq!(wasm["failOpen"], false);
    assert!(
        wasm["config"] == compiled,
        "examples/envoy-gateway/envoyextensionpolicy.yaml: wasm[0].config is stale; {REFRESH}"
    );
    // The policy attaches to the Gateway the example declares, in the same namespace.
    let gateway = one_of_kind(&examples().join("envoy-gateway/gateway.yaml"), "Gateway");
    assert_eq!(policy["spec"]["targetRef"]["kind"], "Gateway");
    assert_eq!(
        policy["spec"]["targetRef"]["name"],
        gateway["metadata"]["name"]
    );
    assert_eq!(
        policy["metadata"]["namespace"],
        gateway["metadata"]["namespace"]
    );
    assert_eq!(compiled["apis"][0]["basePath"], "/api");
}

#[test]
fn plain_envoy_ecds_is_what_the_controller_writes() {
    let compiled = compile("envoy");
    let dir = examples().join("envoy");
    let ecds: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("gatehouse-ecds.json")).unwrap())
            .unwrap();
    let config = &ecds["resources"][0]["typed_config"]["config"];
    let value = config["configuration"]["value"].as_str().unwrap();
    assert!(
        serde_json::from_str::<Value>(value).unwrap() == compiled,
        "examples/envoy/gatehouse-ecds.json: the configuration is stale; {REFRESH}"
    );
    let wasm_path = config["vm_config"]["code"]["local"]["filename"]
        .as_str()
        .unwrap();
    // Same document `gatehouse run --local --ecds-out` writes, byte for byte in structure.
    let expected =
        gatehouse_controller::envoy::ecds_document(value, Path::new(wasm_path), "gatehouse");
    assert_eq!(ecds, expected);

    // The bootstrap reads that file, from the directory the Kubernetes manifest mounts the
    // ConfigMap on, and the module path is where the initContainer copies it.
    let bootstrap = yaml_docs(&dir.join("envoy.yaml")).pop().unwrap();
    let hcm = &bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0];
    let source = &hcm["typed_config"]["http_filters"][0]["config_discovery"]["config_source"]
        ["path_config_source"];
    let ecds_path = Path::new(source["path"].as_str().unwrap());
    let watched = source["watched_directory"]["path"].as_str().unwrap();
    assert_eq!(ecds_path.file_name().unwrap(), "gatehouse-ecds.json");
    assert_eq!(ecds_path.parent().unwrap(), Path::new(watched));

    let deployment = one_of_kind(&dir.join("k8s/envoy.yaml"), "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let mounts: Vec<&str> = pod["containers"][0]["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    assert!(mounts.contains(&watched), "{mounts:?} lacks {watched}");
    let wasm_dir = Path::new(wasm_path).parent().unwrap().to_str().unwrap();
    assert!(mounts.contains(&wasm_dir), "{mounts:?} lacks {wasm_dir}");
    let copy = pod["initContainers"][0]["command"].as_array().unwrap();
    assert_eq!(copy.last().unwrap(), wasm_path);
}
