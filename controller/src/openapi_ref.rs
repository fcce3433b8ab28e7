//! `spec.openapiRef`: the OpenAPI document held in a ConfigMap key, for documents too large
//! to inline (`gatehouse import` writes them this way). Shared by the operator (ConfigMaps
//! from the API server) and local mode (ConfigMap manifests in the directory).
//!
//! A key ending in `.gz` is gzip data in `binaryData` (ConfigMaps are limited to 1 MiB, and
//! OpenAPI documents compress ~10x); any other key is YAML or JSON text in `data`.

use std::collections::BTreeMap;
use std::io::Read;

use crate::resource::ApiSchemaSpec;

/// Largest decompressed document accepted: bounds what a small `.gz` can expand to.
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

/// The parts of a ConfigMap a reference reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigMapData {
    pub namespace: String,
    pub name: String,
    pub data: BTreeMap<String, String>,
    /// Already base64-decoded.
    pub binary_data: BTreeMap<String, Vec<u8>>,
}

/// A problem resolving a reference: where in the ApiSchema, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefError {
    pub pointer: String,
    pub message: String,
}

fn err(pointer: &str, message: impl Into<String>) -> RefError {
    RefError {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// Checks that exactly one of `openapi` / `openapiRef` is set and, for a reference, puts the
/// document into `spec.openapi`. `lookup(namespace, name)` finds a ConfigMap.
pub fn resolve<'a>(
    spec: &mut ApiSchemaSpec,
    namespace: &str,
    lookup: impl Fn(&str, &str) -> Option<&'a ConfigMapData>,
) -> Result<(), RefError> {
    let Some(reference) = &spec.openapi_ref else {
        if spec.openapi.is_null() {
            return Err(err(
                "/spec/openapi",
                "missing: set `openapi` (the document) or `openapiRef` (a ConfigMap key)",
            ));
        }
        return Ok(());
    };
    if !spec.openapi.is_null() {
        return Err(err(
            "/spec/openapiRef",
            "set either `openapi` or `openapiRef`, not both",
        ));
    }
    let Some(config_map) = lookup(namespace, &reference.config_map) else {
        return Err(err(
            "/spec/openapiRef/configMap",
            format!("no ConfigMap {namespace}/{}", reference.config_map),
        ));
    };
    spec.openapi = document(config_map, &reference.key)
        .map_err(|message| err("/spec/openapiRef/key", message))?;
    Ok(())
}

/// The document under `key`, parsed (YAML, which includes JSON).
pub fn document(config_map: &ConfigMapData, key: &str) -> Result<serde_json::Value, String> {
    let at = format!(
        "ConfigMap {}/{} key `{key}`",
        config_map.namespace, config_map.name
    );
    let text = if key.ends_with(".gz") {
        let Some(bytes) = config_map.binary_data.get(key) else {
            return Err(format!("{at}: no such key in binaryData"));
        };
        gunzip(bytes).map_err(|e| format!("{at}: {e}"))?
    } else {
        match config_map.data.get(key) {
            Some(text) => text.clone(),
            None if config_map.binary_data.contains_key(key) => {
                return Err(format!(
                    "{at}: the key is in binaryData; compressed documents need a key ending in .gz"
                ))
            }
            None => return Err(format!("{at}: no such key in data")),
        }
    };
    let value: serde_json::Value =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("{at}: invalid YAML/JSON: {e}"))?;
    if !value.is_object() {
        return Err(format!("{at}: the document is not an object"));
    }
    Ok(value)
}

fn gunzip(bytes: &[u8]) -> Result<String, String> {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_string(&mut out)
        .map_err(|e| format!("not gzip-compressed UTF-8: {e}"))?;
    if out.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "decompressed document larger than {MAX_DOCUMENT_BYTES} bytes"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn spec(yaml: &str) -> ApiSchemaSpec {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    fn cm(data: &[(&str, &str)], binary: &[(&str, Vec<u8>)]) -> ConfigMapData {
        ConfigMapData {
            namespace: "shop".into(),
            name: "pets-openapi".into(),
            data: data
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            binary_data: binary
                .iter()
                .cloned()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        }
    }

    const DOC: &str = "openapi: 3.1.0\npaths: {}\n";

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn text_and_gzip_keys_resolve() {
        let map = cm(&[("openapi.yaml", DOC)], &[("openapi.yaml.gz", gz(DOC))]);
        for key in ["openapi.yaml", "openapi.yaml.gz"] {
            let mut s = spec(&format!(
                "hosts: [a]\nopenapiRef: {{configMap: pets-openapi, key: {key}}}\n"
            ));
            resolve(&mut s, "shop", |ns, name| {
                (ns == "shop" && name == "pets-openapi").then_some(&map)
            })
            .unwrap();
            assert_eq!(s.openapi["openapi"], "3.1.0", "{key}");
        }
    }

    #[test]
    fn exactly_one_source() {
        let mut neither = spec("hosts: [a]\n");
        let e = resolve(&mut neither, "shop", |_, _| None).unwrap_err();
        assert_eq!(e.pointer, "/spec/openapi");
        let mut both =
            spec("hosts: [a]\nopenapi: {openapi: 3.1.0}\nopenapiRef: {configMap: x, key: y}\n");
        let e = resolve(&mut both, "shop", |_, _| None).unwrap_err();
        assert_eq!(e.pointer, "/spec/openapiRef");
    }

    #[test]
    fn missing_config_map_and_key_are_errors_with_pointers() {
        let map = cm(&[("other", DOC)], &[("raw", gz(DOC))]);
        let mut s = spec("hosts: [a]\nopenapiRef: {configMap: nope, key: openapi.yaml}\n");
        let e = resolve(&mut s, "shop", |_, _| None).unwrap_err();
        assert_eq!(e.pointer, "/spec/openapiRef/configMap");
        assert!(e.message.contains("shop/nope"), "{}", e.message);
        for (key, needle) in [
            ("openapi.yaml", "no such key"),
            ("raw", "binaryData"),
            ("x.gz", "no such key in binaryData"),
        ] {
            let mut s = spec(&format!(
                "hosts: [a]\nopenapiRef: {{configMap: pets-openapi, key: {key}}}\n"
            ));
            let e = resolve(&mut s, "shop", |_, _| Some(&map)).unwrap_err();
            assert_eq!(e.pointer, "/spec/openapiRef/key");
            assert!(e.message.contains(needle), "{key}: {}", e.message);
        }
    }

    #[test]
    fn corrupt_gzip_and_non_object_documents_are_refused() {
        let map = cm(
            &[("list.yaml", "- a\n- b\n")],
            &[("bad.gz", b"not gzip".to_vec())],
        );
        assert!(document(&map, "bad.gz").unwrap_err().contains("gzip"));
        assert!(document(&map, "list.yaml")
            .unwrap_err()
            .contains("not an object"));
    }
}
