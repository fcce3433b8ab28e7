//! Reading resources from YAML: files and directories into [`LoadedResource`]s.
//!
//! A directory is read the way `kubectl apply -f DIR` reads one: every `*.yaml`/`*.yml`
//! file in it (not recursive), each possibly holding several `---`-separated documents.
//! Documents of other kinds are skipped, so an ApiSchema can live beside the Envoy
//! bootstrap or a Deployment.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{path_to_pointer, CompileError};
use crate::openapi_ref::{self, ConfigMapData};
use crate::resource::{
    ApiSchema, IdentityProvider, LoadedProvider, LoadedResource, API_VERSION, DEFAULT_NAMESPACE,
    GROUP, KIND, PROVIDER_KIND,
};

/// Everything read from some paths: the resources, and the problems that kept others out.
#[derive(Debug, Default)]
pub struct Loaded {
    pub resources: Vec<LoadedResource>,
    pub providers: Vec<LoadedProvider>,
    pub errors: Vec<CompileError>,
    /// ConfigMap manifests, which `spec.openapiRef` may name.
    pub config_maps: Vec<ConfigMapData>,
}

/// One document that is ours.
// Short-lived, one per parsed document: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Parsed {
    Api(LoadedResource),
    Provider(LoadedProvider),
    ConfigMap(Box<ConfigMapData>),
}

/// Parses the YAML documents of one file.
#[must_use]
pub fn parse_documents(file: &Path, text: &str) -> Loaded {
    let mut out = Loaded::default();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let value = match serde_json::Value::deserialize(document) {
            Ok(value) => value,
            Err(e) => {
                out.errors.push(CompileError::new(
                    Some(file.to_path_buf()),
                    None,
                    "",
                    format!("document {}: invalid YAML: {e}", index + 1),
                ));
                // The parser cannot resynchronise after a syntax error.
                break;
            }
        };
        match parse_document(file, index, value) {
            Ok(Some(Parsed::Api(resource))) => out.resources.push(resource),
            Ok(Some(Parsed::Provider(provider))) => out.providers.push(provider),
            Ok(Some(Parsed::ConfigMap(config_map))) => out.config_maps.push(*config_map),
            Ok(None) => {}
            Err(e) => out.errors.push(e),
        }
    }
    out
}

fn parse_document(
    file: &Path,
    index: usize,
    value: serde_json::Value,
) -> Result<Option<Parsed>, CompileError> {
    if value.is_null() {
        return Ok(None);
    }
    let kind = value.get("kind").and_then(|v| v.as_str()).unwrap_or("");
    let api_version = value
        .get("apiVersion")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let group = api_version.split_once('/').map_or("", |(group, _)| group);
    if kind == "ConfigMap" && api_version == "v1" {
        return config_map(file, &value).map(|c| Some(Parsed::ConfigMap(Box::new(c))));
    }
    let ours = kind == KIND || kind == PROVIDER_KIND;
    if ours && api_version.is_empty() {
        // Skipping it would silently drop an API the user meant to serve.
        return Err(CompileError::new(
            Some(file.to_path_buf()),
            Some(label_of(&value)),
            "",
            format!("missing `apiVersion` (`{API_VERSION}`)"),
        ));
    }
    if group == GROUP && !ours {
        // Perhaps a kind a newer build reads, perhaps a typo: worth a word, not a failure.
        tracing::warn!(
            file = %file.display(),
            document = index + 1,
            kind,
            "skipping a {GROUP} document of a kind this build does not read"
        );
        return Ok(None);
    }
    if !ours || group != GROUP {
        tracing::debug!(
            file = %file.display(),
            document = index + 1,
            kind,
            api_version,
            "skipping a document that is not a {KIND}"
        );
        return Ok(None);
    }
    let label = label_of(&value);
    let error = |pointer: &str, message: String| {
        CompileError::new(
            Some(file.to_path_buf()),
            Some(label.clone()),
            pointer,
            message,
        )
    };
    if api_version != API_VERSION {
        return Err(error(
            "/apiVersion",
            format!("unsupported apiVersion `{api_version}` (this build reads `{API_VERSION}`)"),
        ));
    }
    if kind == PROVIDER_KIND {
        let provider: IdentityProvider = serde_path_to_error::deserialize(value).map_err(|e| {
            let pointer = path_to_pointer(e.path());
            error(&pointer, e.into_inner().to_string())
        })?;
        return Ok(Some(Parsed::Provider(LoadedProvider {
            file: file.to_path_buf(),
            document: index,
            provider,
        })));
    }
    let schema: ApiSchema = serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = path_to_pointer(e.path());
        error(&pointer, e.into_inner().to_string())
    })?;
    Ok(Some(Parsed::Api(LoadedResource {
        file: file.to_path_buf(),
        document: index,
        schema,
    })))
}

/// A ConfigMap manifest, for `spec.openapiRef` (`binaryData` base64-decoded).
fn config_map(file: &Path, value: &serde_json::Value) -> Result<ConfigMapData, CompileError> {
    use base64::Engine as _;
    let meta = value.get("metadata");
    let field = |name: &str| {
        meta.and_then(|m| m.get(name))
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    };
    let name = field("name").unwrap_or_default().to_owned();
    let namespace = field("namespace").unwrap_or(DEFAULT_NAMESPACE).to_owned();
    let error = |pointer: String, message: String| {
        CompileError::new(
            Some(file.to_path_buf()),
            Some(format!("ConfigMap {namespace}/{name}")),
            pointer,
            message,
        )
    };
    let strings =
        |member: &str| -> Result<std::collections::BTreeMap<String, String>, CompileError> {
            match value.get(member) {
                None | Some(serde_json::Value::Null) => Ok(Default::default()),
                Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                    error(
                        format!("/{member}"),
                        format!("must map keys to strings: {e}"),
                    )
                }),
            }
        };
    let data = strings("data")?;
    let mut binary_data = std::collections::BTreeMap::new();
    for (key, encoded) in strings("binaryData")? {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| error(format!("/binaryData/{key}"), format!("invalid base64: {e}")))?;
        binary_data.insert(key, bytes);
    }
    Ok(ConfigMapData {
        namespace: namespace.clone(),
        name: name.clone(),
        data,
        binary_data,
    })
}

/// Puts the documents `spec.openapiRef` names into `spec.openapi`; an ApiSchema whose
/// reference does not resolve is moved to the errors.
pub fn resolve_openapi_refs(loaded: &mut Loaded) {
    let resources = std::mem::take(&mut loaded.resources);
    for mut resource in resources {
        let namespace = resource.schema.namespace().to_owned();
        let maps = &loaded.config_maps;
        match openapi_ref::resolve(&mut resource.schema.spec, &namespace, |ns, name| {
            maps.iter().find(|c| c.namespace == ns && c.name == name)
        }) {
            Ok(()) => loaded.resources.push(resource),
            Err(e) => loaded.errors.push(CompileError::new(
                Some(resource.file.clone()),
                Some(resource.schema.label()),
                e.pointer,
                e.message,
            )),
        }
    }
}

/// `ApiSchema ns/name` read leniently from a document that may not parse as one.
fn label_of(value: &serde_json::Value) -> String {
    let meta = value.get("metadata");
    let field = |name: &str| {
        meta.and_then(|m| m.get(name))
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    };
    let namespace = field("namespace").unwrap_or(DEFAULT_NAMESPACE);
    let name = field("name").unwrap_or("<unnamed>");
    let kind = value
        .get("kind")
        .and_then(|v| v.as_str())
        .filter(|k| *k == PROVIDER_KIND)
        .unwrap_or(KIND);
    format!("{kind} {namespace}/{name}")
}

/// The YAML files a directory contributes, sorted so load order (and so error order) is
/// stable. Hidden files are skipped: editors keep swap and backup files there.
pub fn yaml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let is_yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml");
        if is_yaml && !name.starts_with('.') && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads every path: directories as [`yaml_files`], files whatever their extension (the
/// user named them).
#[must_use]
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    let mut out = Loaded::default();
    // `-f dir -f dir/a.yaml` names a.yaml twice; reading it twice would only report it as
    // a duplicate of itself.
    let mut seen = std::collections::BTreeSet::new();
    for path in paths {
        let files = if path.is_dir() {
            match yaml_files(path) {
                Ok(files) => files,
                Err(e) => {
                    out.errors.push(io_error(path, &e));
                    continue;
                }
            }
        } else {
            vec![path.clone()]
        };
        for file in files {
            if !seen.insert(std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone())) {
                continue;
            }
            match std::fs::read_to_string(&file) {
                Ok(text) => {
                    let loaded = parse_documents(&file, &text);
                    out.resources.extend(loaded.resources);
                    out.providers.extend(loaded.providers);
                    out.errors.extend(loaded.errors);
                    out.config_maps.extend(loaded.config_maps);
                }
                Err(e) => out.errors.push(io_error(&file, &e)),
            }
        }
    }
    resolve_openapi_refs(&mut out);
    out
}

fn io_error(path: &Path, e: &std::io::Error) -> CompileError {
    CompileError::new(
        Some(path.to_path_buf()),
        None,
        "",
        format!("cannot read: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Loaded {
        parse_documents(Path::new("t.yaml"), text)
    }

    const MINIMAL: &str = r"
apiVersion: gatehouse.dev/v1alpha1
kind: ApiSchema
metadata:
  name: petstore
spec:
  hosts: [localhost]
  openapi:
    openapi: 3.1.0
    paths:
      /pets:
        get:
          responses:
            200: {description: ok}
";

    #[test]
    fn reads_every_document_and_skips_other_kinds() {
        let text = format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n---\n{MINIMAL}---\n{}\n---\n",
            MINIMAL.replace("name: petstore", "name: second\n  namespace: shop")
        );
        let loaded = parse(&text);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let names: Vec<_> = loaded
            .resources
            .iter()
            .map(|r| (r.document, r.schema.qualified_name()))
            .collect();
        assert_eq!(
            names,
            vec![(1, "default/petstore".into()), (2, "shop/second".into())]
        );
    }

    #[test]
    fn integer_yaml_keys_become_strings() {
        let loaded = parse(MINIMAL);
        let r = &loaded.resources[0];
        assert!(r.schema.spec.openapi["paths"]["/pets"]["get"]["responses"]["200"].is_object());
    }

    #[test]
    fn unknown_fields_are_refused_with_a_pointer() {
        let loaded = parse(&MINIMAL.replace("  hosts:", "  strikt: true\n  hosts:"));
        assert!(loaded.resources.is_empty());
        let e = &loaded.errors[0];
        assert_eq!(e.resource.as_deref(), Some("ApiSchema default/petstore"));
        assert!(e.pointer.starts_with("/spec"), "{e}");
        assert!(e.message.contains("strikt"), "{e}");
    }

    #[test]
    fn unknown_policy_fields_are_refused_with_a_pointer() {
        let text = format!(
            "{MINIMAL}  policies:\n    operations:\n      listPets:\n        cache: {{enabled: true, ttl: 3}}\n"
        );
        let e = &parse(&text).errors[0];
        assert!(
            e.pointer
                .starts_with("/spec/policies/operations/listPets/cache"),
            "{e}"
        );
        assert!(e.message.contains("ttl"), "{e}");
    }

    #[test]
    fn wrong_version_of_our_group_is_an_error_other_groups_are_not() {
        let loaded = parse(&MINIMAL.replace("v1alpha1", "v9"));
        assert_eq!(loaded.errors[0].pointer, "/apiVersion");
        let loaded = parse(&MINIMAL.replace("gatehouse.dev/v1alpha1", "example.com/v1"));
        assert!(loaded.errors.is_empty() && loaded.resources.is_empty());
    }

    #[test]
    fn an_api_schema_without_api_version_is_an_error() {
        let loaded = parse(&MINIMAL.replace("apiVersion: gatehouse.dev/v1alpha1", ""));
        assert_eq!(loaded.errors.len(), 1);
        assert!(loaded.errors[0].message.contains("apiVersion"));
    }

    #[test]
    fn non_mapping_documents_are_skipped() {
        let loaded = parse(&format!("- a\n- b\n---\n42\n---\n{MINIMAL}"));
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.resources.len(), 1);
        assert_eq!(loaded.resources[0].document, 2);
    }

    #[test]
    fn openapi_ref_reads_a_config_map_manifest_of_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let doc =
            "openapi: 3.1.0\npaths:\n  /pets:\n    get: {responses: {'200': {description: ok}}}\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, doc.as_bytes()).unwrap();
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        let api = |name: &str, key: &str| {
            format!("apiVersion: gatehouse.dev/v1alpha1\nkind: ApiSchema\nmetadata: {{name: {name}}}\nspec:\n  hosts: [{name}]\n  openapiRef: {{configMap: pets-openapi, key: {key}}}\n")
        };
        std::fs::write(
            dir.path().join("a.yaml"),
            format!(
                "{}---\n{}---\n{}",
                api("plain", "openapi.yaml"),
                api("zipped", "openapi.yaml.gz"),
                api("missing", "nope.yaml")
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("cm.yaml"),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: pets-openapi}}\ndata:\n  openapi.yaml: |\n{}binaryData:\n  openapi.yaml.gz: {b64}\n",
                doc.lines().map(|l| format!("    {l}\n")).collect::<String>()),
        )
        .unwrap();
        let loaded = load_paths(&[dir.path().to_path_buf()]);
        let names: Vec<_> = loaded
            .resources
            .iter()
            .map(|r| r.schema.metadata.name.as_str())
            .collect();
        assert_eq!(names, ["plain", "zipped"]);
        for r in &loaded.resources {
            assert!(r.schema.spec.openapi["paths"]["/pets"]["get"].is_object());
        }
        assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
        assert_eq!(loaded.errors[0].pointer, "/spec/openapiRef/key");
        assert_eq!(
            loaded.errors[0].resource.as_deref(),
            Some("ApiSchema default/missing")
        );
    }

    #[test]
    fn yaml_syntax_errors_name_the_file() {
        let loaded = parse("apiVersion: [unclosed\n");
        assert_eq!(loaded.errors.len(), 1);
        assert_eq!(loaded.errors[0].file.as_deref(), Some(Path::new("t.yaml")));
        assert!(loaded.errors[0].message.contains("invalid YAML"));
    }
}
