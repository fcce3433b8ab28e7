//! What plain Envoy reads: the file-based extension config discovery (ECDS) document that
//! carries the filter configuration, and the atomic write Envoy's file watch needs.
//!
//! Envoy's HTTP filter entry points at the file with
//! `config_discovery: {config_source: {path_config_source: {path: FILE}, resource_api_version: V3},
//! type_urls: [type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm]}`, and reloads
//! when a new file is moved over FILE. Field names are those of Envoy 1.40's v3 API
//! (`envoy.extensions.wasm.v3.PluginConfig`, `VmConfig`, `config.core.v3.TypedExtensionConfig`).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

pub const TYPED_EXTENSION_CONFIG_TYPE: &str =
    "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig";
pub const WASM_FILTER_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
pub const STRING_VALUE_TYPE: &str = "type.googleapis.com/google.protobuf.StringValue";
/// The root context id the filter registers; the Rust SDK ignores it, but every plugin
/// sharing a VM should still have its own.
pub const ROOT_ID: &str = "gatehouse";
/// Shared data is per `vm_id`: every Gatehouse plugin in one Envoy shares caches and JWKS.
pub const VM_ID: &str = "gatehouse";
pub const RUNTIME: &str = "envoy.wasm.runtime.v8";
/// `PluginConfig.failure_policy`. Envoy 1.40 deprecates the boolean `fail_open` in its favour
/// and refuses a config that sets both.
pub const FAILURE_POLICY: &str = "FAIL_CLOSED";

/// The ECDS discovery document for the filter named `filter_name`, running `wasm_path` with
/// `config_json` as its plugin configuration.
///
/// Fails closed: a VM that crashed or refused its configuration answers 503 rather than
/// letting requests past an API gateway that is not checking them. The configuration is
/// passed as a `StringValue`, which Envoy hands to `on_configure` as raw bytes.
#[must_use]
pub fn ecds_document(config_json: &str, wasm_path: &Path, filter_name: &str) -> Value {
    // Envoy resolves relative paths against its own working directory, not ours.
    let wasm_path = std::path::absolute(wasm_path).unwrap_or_else(|_| wasm_path.to_path_buf());
    json!({
        "resources": [{
            "@type": TYPED_EXTENSION_CONFIG_TYPE,
            "name": filter_name,
            "typed_config": {
                "@type": WASM_FILTER_TYPE,
                "config": {
                    "name": filter_name,
                    "root_id": ROOT_ID,
                    "vm_config": {
                        "vm_id": VM_ID,
                        "runtime": RUNTIME,
                        "code": {"local": {"filename": wasm_path.to_string_lossy()}}
                    },
                    "configuration": {
                        "@type": STRING_VALUE_TYPE,
                        "value": config_json
                    },
                    "failure_policy": FAILURE_POLICY
                }
            }
        }]
    })
}

/// Replaces `path` with `bytes` so readers see the old file or the new one, never a torn
/// write: a temporary file in the same directory (same filesystem, so the rename is atomic),
/// flushed, then renamed over. Envoy's watch reacts to that move.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}.{}",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecds_document_has_envoys_field_names() {
        let doc = ecds_document(
            r#"{"version":1}"#,
            Path::new("/opt/gatehouse.wasm"),
            "gatehouse",
        );
        let resource = &doc["resources"][0];
        assert_eq!(resource["@type"], TYPED_EXTENSION_CONFIG_TYPE);
        assert_eq!(resource["name"], "gatehouse");
        let typed = &resource["typed_config"];
        assert_eq!(typed["@type"], WASM_FILTER_TYPE);
        let config = &typed["config"];
        assert_eq!(config["name"], "gatehouse");
        assert_eq!(config["root_id"], "gatehouse");
        assert_eq!(config["vm_config"]["vm_id"], "gatehouse");
        assert_eq!(config["vm_config"]["runtime"], "envoy.wasm.runtime.v8");
        assert_eq!(
            config["vm_config"]["code"]["local"]["filename"],
            "/opt/gatehouse.wasm"
        );
        assert_eq!(config["configuration"]["@type"], STRING_VALUE_TYPE);
        assert_eq!(config["configuration"]["value"], r#"{"version":1}"#);
        assert_eq!(config["failure_policy"], "FAIL_CLOSED");
        assert!(config.get("fail_open").is_none());
    }

    #[test]
    fn relative_wasm_paths_become_absolute() {
        let doc = ecds_document("{}", Path::new("x.wasm"), "f");
        let name = doc["resources"][0]["typed_config"]["config"]["vm_config"]["code"]["local"]
            ["filename"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(Path::new(&name).is_absolute(), "{name}");
        assert!(name.ends_with("x.wasm"));
    }

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.json")]);
        assert!(write_atomic(&dir.path().join("missing/out.json"), b"x").is_err());
    }
}
