//! Resources → filter configuration.
//!
//! A pure function: no files, no clock, and the same resources give the same bytes (APIs
//! sorted by name, operations by path and method). After building the configuration it runs
//! the filter's own compiler, so anything the filter would refuse at `on_configure` is
//! refused here first, and its error is mapped back onto the resource line the user wrote.

use std::collections::{BTreeMap, BTreeSet};

use gatehouse_filter::compiled::{CompiledConfig, ConfigError};
use gatehouse_filter::config::{Api, FilterConfig, Operation, Provider, Settings, CONFIG_VERSION};

use crate::error::{pointer_join, pointer_tokens, CompileError};
use crate::openapi::{self, DocError};
use crate::providers;
use crate::resource::{LoadedProvider, LoadedResource};
use crate::validation::{self, RequestCompiler};

/// Where each part of one generated API came from, to map filter errors back.
#[derive(Debug)]
struct ApiOrigin {
    resource: usize,
    base_path_pointer: String,
    operations: Vec<OperationOrigin>,
}

#[derive(Debug)]
struct OperationOrigin {
    /// The operation object (`/spec/openapi/paths/~1pets/get`).
    pointer: String,
    /// The path item, which is where the path template is written.
    path_item_pointer: String,
    /// Set when the operationId was authored rather than generated.
    operation_id_pointer: Option<String>,
    /// Set when `spec.policies.operations` has an entry for this operation.
    policies_pointer: Option<String>,
}

/// Compiles ApiSchemas (with no identity providers) into one filter configuration.
pub fn compile(resources: &[LoadedResource]) -> Result<FilterConfig, Vec<CompileError>> {
    compile_with_providers(resources, &[])
}

/// Compiles ApiSchemas and IdentityProviders into one filter configuration, or reports
/// every problem found.
pub fn compile_with_providers(
    resources: &[LoadedResource],
    identity_providers: &[LoadedProvider],
) -> Result<FilterConfig, Vec<CompileError>> {
    let mut errors = Vec::new();
    let compiled = providers::compile_providers(identity_providers)
        .map_err(|mut e| errors.append(&mut e))
        .ok();
    // References are checked against every provider resource, compiled or not, so a broken
    // provider is reported once, on itself.
    let known: BTreeSet<String> = identity_providers
        .iter()
        .map(|p| p.provider.qualified_name())
        .collect();
    let mut resolved = Vec::with_capacity(resources.len());
    for resource in resources {
        match providers::resolve_auth(resource, &known) {
            Ok(r) => resolved.push(r),
            Err(mut e) => errors.append(&mut e),
        }
    }
    match compiled {
        Some((list, sorted)) if errors.is_empty() => compile_resolved(&resolved, list, &sorted),
        _ => Err(errors),
    }
}

fn compile_resolved(
    resources: &[LoadedResource],
    provider_list: Vec<Provider>,
    sorted_providers: &[&LoadedProvider],
) -> Result<FilterConfig, Vec<CompileError>> {
    let mut errors = Vec::new();
    let mut apis: Vec<(Api, ApiOrigin)> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (index, resource) in resources.iter().enumerate() {
        let name = resource.schema.qualified_name();
        if let Some(first) = seen.get(&name).and_then(|i| resources.get(*i)) {
            errors.push(at(
                resource,
                "/metadata/name",
                format!(
                    "duplicate {}: also defined in {} (document {})",
                    resource.schema.label(),
                    first.file.display(),
                    first.document + 1
                ),
            ));
            continue;
        }
        seen.insert(name, index);
        match compile_one(index, resource) {
            Ok(api) => apis.push(api),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    apis.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let schemas = compile_requests(&mut apis, resources)?;
    let (apis, origins): (Vec<Api>, Vec<ApiOrigin>) = apis.into_iter().unzip();
    let config = FilterConfig {
        version: CONFIG_VERSION,
        settings: Settings::default(),
        providers: provider_list,
        apis,
        schemas,
    };
    let checked = CompiledConfig::from_config(config.clone())
        .and_then(|_| gatehouse_filter::validation::check_config(&config));
    match checked {
        Ok(()) => Ok(config),
        Err(e) => Err(vec![providers::locate(
            &e.pointer,
            &e.message,
            sorted_providers,
        )
        .unwrap_or_else(|| map_filter_error(&e, &origins, resources))]),
    }
}

/// Fills in each operation's `request` (validation) and returns the shared schema program.
fn compile_requests(
    apis: &mut [(Api, ApiOrigin)],
    resources: &[LoadedResource],
) -> Result<Option<gatehouse_filter::schema::Program>, Vec<CompileError>> {
    let mut compiler = RequestCompiler::new();
    let mut errors = Vec::new();
    let mut groups = Vec::with_capacity(apis.len());
    for (api, origin) in apis.iter_mut() {
        let Some(resource) = resources.get(origin.resource) else {
            groups.push(None);
            continue;
        };
        let spec = &resource.schema.spec;
        let uri = format!(
            "gatehouse:/apis/{}/{}/openapi.json",
            resource.schema.namespace(),
            resource.schema.metadata.name
        );
        let handle = match compiler.add_document(&uri, &spec.openapi) {
            Ok(handle) => handle,
            Err(e) => {
                errors.push(from_doc(resource, e));
                groups.push(None);
                continue;
            }
        };
        let pointers: Vec<String> = origin
            .operations
            .iter()
            .map(|o| {
                o.pointer
                    .strip_prefix("/spec/openapi")
                    .unwrap_or(&o.pointer)
                    .to_owned()
            })
            .collect();
        let found = compiler.compile_api(&handle, api, &pointers, &spec.validation);
        errors.extend(found.into_iter().map(|e| from_doc(resource, e)));
        groups.push(Some(handle.group()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (program, offsets) = compiler
        .finish()
        .map_err(|m| vec![CompileError::new(None, None, "", m)])?;
    for ((api, _), group) in apis.iter_mut().zip(groups) {
        if let Some(offset) = group.and_then(|g| offsets.get(g)) {
            validation::shift_roots(api, *offset);
        }
    }
    Ok(program)
}

fn at(resource: &LoadedResource, pointer: &str, message: impl Into<String>) -> CompileError {
    CompileError::new(
        Some(resource.file.clone()),
        Some(resource.schema.label()),
        pointer,
        message,
    )
}

fn from_doc(resource: &LoadedResource, e: DocError) -> CompileError {
    at(resource, &format!("/spec/openapi{}", e.pointer), e.message)
}

fn compile_one(
    index: usize,
    resource: &LoadedResource,
) -> Result<(Api, ApiOrigin), Vec<CompileError>> {
    let schema = &resource.schema;
    let spec = &schema.spec;
    let mut errors = Vec::new();

    if let Err(message) = check_object_name(&schema.metadata.name) {
        errors.push(at(resource, "/metadata/name", message));
    }
    if let Some(namespace) = &schema.metadata.namespace {
        if let Err(message) = check_object_name(namespace) {
            errors.push(at(resource, "/metadata/namespace", message));
        }
    }
    if spec.hosts.is_empty() {
        errors.push(at(
            resource,
            "/spec/hosts",
            "at least one host is required (`*` for any host)",
        ));
    }
    if let Err(e) = openapi::check_version(&spec.openapi) {
        errors.push(from_doc(resource, e));
        return Err(errors);
    }

    let (base_path, base_path_pointer) = match &spec.base_path {
        Some(written) => (written.clone(), "/spec/basePath".to_owned()),
        None => match openapi::server_base_path(&spec.openapi) {
            Ok(path) => (path, "/spec/openapi/servers/0/url".to_owned()),
            Err(e) => {
                errors.push(from_doc(resource, e));
                (String::new(), String::new())
            }
        },
    };
    let base_path = match normalize_base_path(&base_path) {
        Ok(path) => path,
        Err(message) => {
            errors.push(at(resource, &base_path_pointer, message));
            String::new()
        }
    };

    let ops = match openapi::operations(&spec.openapi) {
        Ok(ops) => ops,
        Err(e) => {
            errors.extend(e.into_iter().map(|e| from_doc(resource, e)));
            return Err(errors);
        }
    };
    let ids = match openapi::operation_ids(&ops) {
        Ok(ids) => ids,
        Err(e) => {
            errors.extend(e.into_iter().map(|e| from_doc(resource, e)));
            return Err(errors);
        }
    };
    for id in spec.policies.operations.keys() {
        if !ids.contains(id) {
            errors.push(at(
                resource,
                &pointer_join("/spec/policies/operations", id),
                format!(
                    "no operation has operationId `{id}`; known: {}",
                    known_ids(&ids)
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut operations = Vec::with_capacity(ops.len());
    let mut origins = Vec::with_capacity(ops.len());
    for (op, id) in ops.iter().zip(ids) {
        let policies = spec.policies.operations.get(&id);
        origins.push(OperationOrigin {
            pointer: format!("/spec/openapi{}", op.pointer),
            path_item_pointer: format!("/spec/openapi{}", op.path_item_pointer()),
            operation_id_pointer: op
                .operation_id
                .as_ref()
                .map(|_| format!("/spec/openapi{}/operationId", op.pointer)),
            policies_pointer: policies.map(|_| pointer_join("/spec/policies/operations", &id)),
        });
        let mut policies = policies.cloned().unwrap_or_default();
        // `policies.operations.<id>.cache` in the resource wins over the document's
        // `x-gatehouse-cache`.
        if policies.cache.is_none() {
            let object = spec
                .openapi
                .pointer(&op.pointer)
                .unwrap_or(&serde_json::Value::Null);
            match crate::cache::extension(object) {
                Ok(cache) => policies.cache = cache,
                Err(message) => errors.push(at(
                    resource,
                    &format!("/spec/openapi{}/{}", op.pointer, crate::cache::EXTENSION),
                    message,
                )),
            }
        }
        operations.push(Operation {
            operation_id: id,
            method: op.method,
            path: op.path.clone(),
            policies,
            request: None,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let api = Api {
        name: schema.qualified_name(),
        hosts: spec.hosts.clone(),
        base_path,
        strict: spec.strict,
        defaults: spec.policies.defaults.clone(),
        operations,
    };
    let origin = ApiOrigin {
        resource: index,
        base_path_pointer,
        operations: origins,
    };
    Ok((api, origin))
}

fn known_ids(ids: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut sorted: Vec<&str> = ids.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    let mut out = sorted
        .iter()
        .take(SHOWN)
        .map(|id| format!("`{id}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if sorted.is_empty() {
        out.push_str("none");
    } else if sorted.len() > SHOWN {
        out.push_str(&format!(", ... ({} in all)", sorted.len()));
    }
    out
}

/// Kubernetes object names (RFC 1123 subdomains), so file-based resources stay valid when
/// they are applied to a cluster, and `namespace/name` stays unambiguous.
fn check_object_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid name: lower-case letters, digits, `-` and `.`, \
             starting and ending with a letter or digit"
        ))
    }
}

/// `""` and `"/"` mean no prefix; otherwise one leading `/`, no trailing one.
fn normalize_base_path(path: &str) -> Result<String, String> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if !trimmed.starts_with('/') {
        return Err(format!("base path `{path}` must start with `/`"));
    }
    if trimmed.contains(['{', '}', '?', '#']) {
        return Err(format!(
            "base path `{path}` must be a literal path (no templates, query or fragment)"
        ));
    }
    Ok(trimmed.to_owned())
}

/// Maps a pointer into the generated configuration back to the resource and the place in it
/// that produced that part. Pointers the filter quotes in its message (`(/apis/0)`) are
/// rewritten the same way: users never see the generated configuration.
fn map_filter_error(
    e: &ConfigError,
    origins: &[ApiOrigin],
    resources: &[LoadedResource],
) -> CompileError {
    match locate(&e.pointer, origins) {
        Some((index, pointer)) => match resources.get(index) {
            Some(resource) => at(
                resource,
                &pointer,
                rewrite_pointers(&e.message, index, origins, resources),
            ),
            None => unlocated(e),
        },
        None => unlocated(e),
    }
}

fn unlocated(e: &ConfigError) -> CompileError {
    CompileError::new(
        None,
        None,
        "",
        format!(
            "{} (at {} of the filter configuration)",
            e.message, e.pointer
        ),
    )
}

/// The resource index and resource pointer a configuration pointer came from.
fn locate(pointer: &str, origins: &[ApiOrigin]) -> Option<(usize, String)> {
    let tokens = pointer_tokens(pointer);
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    match refs.as_slice() {
        ["apis", api, rest @ ..] => {
            let origin = origins.get(api.parse::<usize>().ok()?)?;
            Some((origin.resource, api_pointer(origin, rest)))
        }
        _ => None,
    }
}

fn rewrite_pointers(
    message: &str,
    own: usize,
    origins: &[ApiOrigin],
    resources: &[LoadedResource],
) -> String {
    const PREFIX: &str = "/apis/";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(PREFIX) {
        let (before, tail) = rest.split_at(start);
        out.push_str(before);
        // The filter quotes `/apis/N`, `/apis/N/operations/M` and field names: ASCII tokens.
        let len = tail
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '/'))
            .map_or(tail.len(), |(i, _)| i);
        let quoted = tail.get(..len).unwrap_or("").trim_end_matches('/');
        let after = tail.get(quoted.len()..).unwrap_or("");
        match locate(quoted, origins) {
            Some((index, pointer)) if index == own => {
                out.push_str(if pointer.is_empty() {
                    "this resource"
                } else {
                    &pointer
                });
            }
            Some((index, pointer)) => match resources.get(index) {
                Some(other) => {
                    out.push_str(&format!(
                        "{} in {}",
                        other.schema.label(),
                        other.file.display()
                    ));
                    if !pointer.is_empty() {
                        out.push_str(&format!(" at {pointer}"));
                    }
                }
                None => out.push_str(quoted),
            },
            None => out.push_str(quoted),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn api_pointer(origin: &ApiOrigin, rest: &[&str]) -> String {
    let append = |base: &str, rest: &[&str]| {
        rest.iter()
            .fold(base.to_owned(), |acc, token| pointer_join(&acc, token))
    };
    match rest {
        [] => String::new(),
        ["name", ..] => "/metadata/name".to_owned(),
        ["hosts", rest @ ..] => append("/spec/hosts", rest),
        ["basePath", ..] => origin.base_path_pointer.clone(),
        ["strict", ..] => "/spec/strict".to_owned(),
        ["defaults", rest @ ..] => append("/spec/policies/defaults", rest),
        ["operations", op, rest @ ..] => {
            let Some(op) = op
                .parse::<usize>()
                .ok()
                .and_then(|i| origin.operations.get(i))
            else {
                return "/spec/openapi/paths".to_owned();
            };
            match rest {
                ["operationId", ..] => op
                    .operation_id_pointer
                    .clone()
                    .unwrap_or_else(|| op.pointer.clone()),
                ["path", ..] => op.path_item_pointer.clone(),
                ["policies", rest @ ..] => match &op.policies_pointer {
                    Some(base) => append(base, rest),
                    None => op.pointer.clone(),
                },
                _ => op.pointer.clone(),
            }
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{ApiSchema, ApiSchemaSpec, ObjectMeta, API_VERSION, KIND};
    use gatehouse_filter::config::{CachePolicy, Method, Policies};
    use serde_json::{json, Value};
    use std::path::PathBuf;

    /// A resource named `name` (namespace `default`) in `<name>.yaml`.
    fn schema(name: &str, openapi: Value) -> LoadedResource {
        LoadedResource {
            file: PathBuf::from(format!("{name}.yaml")),
            document: 0,
            schema: ApiSchema {
                api_version: API_VERSION.into(),
                kind: KIND.into(),
                metadata: ObjectMeta {
                    name: name.into(),
                    ..ObjectMeta::default()
                },
                spec: ApiSchemaSpec {
                    hosts: vec!["localhost".into()],
                    base_path: None,
                    strict: false,
                    openapi,
                    openapi_ref: None,
                    target: None,
                    policies: Default::default(),
                    validation: Default::default(),
                },
            },
        }
    }

    fn with(mut r: LoadedResource, f: impl FnOnce(&mut ApiSchemaSpec)) -> LoadedResource {
        f(&mut r.schema.spec);
        r
    }

    fn petstore() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "servers": [{"url": "https://api.example.com/v1/"}],
            "paths": {
                "/pets": {
                    "get": {"operationId": "listPets"},
                    "post": {"operationId": "createPet"}
                },
                "/pets/{petId}": {
                    "parameters": [{"name": "petId", "in": "path", "required": true}],
                    "get": {"operationId": "getPet"},
                    "delete": {}
                }
            }
        })
    }

    fn cache(ttl: u32) -> Policies {
        Policies {
            cache: Some(CachePolicy {
                enabled: true,
                default_ttl_seconds: ttl,
                ..CachePolicy::default()
            }),
            ..Policies::default()
        }
    }

    fn pointers(errors: &[CompileError]) -> Vec<&str> {
        errors.iter().map(|e| e.pointer.as_str()).collect()
    }

    #[test]
    fn compiles_operations_with_authored_and_generated_ids() {
        let config = compile(&[schema("petstore", petstore())]).unwrap();
        assert_eq!(config.version, CONFIG_VERSION);
        let api = &config.apis[0];
        assert_eq!(api.name, "default/petstore");
        assert_eq!(api.base_path, "/v1");
        let ops: Vec<_> = api
            .operations
            .iter()
            .map(|o| (o.operation_id.as_str(), o.method, o.path.as_str()))
            .collect();
        assert_eq!(
            ops,
            vec![
                ("listPets", Method::Get, "/pets"),
                ("createPet", Method::Post, "/pets"),
                ("getPet", Method::Get, "/pets/{petId}"),
                ("delete_pets_petId", Method::Delete, "/pets/{petId}"),
            ]
        );
    }

    #[test]
    fn explicit_base_path_wins_and_is_normalised() {
        let r = with(schema("p", petstore()), |s| {
            s.base_path = Some("/api/".into())
        });
        assert_eq!(compile(&[r]).unwrap().apis[0].base_path, "/api");
        let r = with(schema("p", petstore()), |s| s.base_path = Some("/".into()));
        assert_eq!(compile(&[r]).unwrap().apis[0].base_path, "");
        let r = with(schema("p", petstore()), |s| {
            s.base_path = Some("api".into())
        });
        assert_eq!(
            pointers(&compile(&[r]).unwrap_err()),
            vec!["/spec/basePath"]
        );
    }

    #[test]
    fn x_gatehouse_cache_on_operations_and_resource_policies_win() {
        let mut doc = petstore();
        doc["paths"]["/pets"]["get"]["x-gatehouse-cache"] = json!({"defaultTtlSeconds": 5});
        doc["paths"]["/pets/{petId}"]["get"]["x-gatehouse-cache"] = json!(true);
        doc["paths"]["/pets"]["post"]["x-gatehouse-cache"] =
            json!({"idempotency": {"ttlSeconds": 60}});
        let r = with(schema("p", doc.clone()), |s| {
            s.policies.operations.insert("getPet".into(), cache(60));
        });
        let api = &compile(&[r]).unwrap().apis[0];
        let by_id: BTreeMap<&str, &Policies> = api
            .operations
            .iter()
            .map(|o| (o.operation_id.as_str(), &o.policies))
            .collect();
        let list = by_id["listPets"].cache.as_ref().unwrap();
        assert!(list.enabled);
        assert_eq!(list.default_ttl_seconds, 5);
        assert_eq!(by_id["getPet"], &cache(60), "the resource's policy wins");
        let create = by_id["createPet"].cache.as_ref().unwrap();
        assert_eq!(create.idempotency.as_ref().unwrap().ttl_seconds, 60);
        doc["paths"]["/pets"]["get"]["x-gatehouse-cache"] = json!({"ttl": 5});
        assert_eq!(
            pointers(&compile(&[schema("p", doc)]).unwrap_err()),
            vec!["/spec/openapi/paths/~1pets/get/x-gatehouse-cache"]
        );
    }

    #[test]
    fn bad_server_url_points_at_the_server() {
        let mut doc = petstore();
        doc["servers"] = json!([{"url": "https://h/{v}"}]);
        let errors = compile(&[schema("p", doc)]).unwrap_err();
        assert_eq!(pointers(&errors), vec!["/spec/openapi/servers/0/url"]);
    }

    #[test]
    fn defaults_and_overrides() {
        let r = with(schema("petstore", petstore()), |s| {
            s.strict = true;
            s.policies.defaults = cache(10);
            s.policies.operations.insert("getPet".into(), cache(60));
            s.policies
                .operations
                .insert("delete_pets_petId".into(), cache(1));
        });
        let config = compile(&[r]).unwrap();
        let api = &config.apis[0];
        assert!(api.strict);
        assert_eq!(api.defaults, cache(10));
        let by_id: BTreeMap<_, _> = api
            .operations
            .iter()
            .map(|o| (o.operation_id.as_str(), &o.policies))
            .collect();
        assert_eq!(by_id["getPet"], &cache(60));
        assert_eq!(by_id["delete_pets_petId"], &cache(1));
        // Unset slots stay unset: the filter falls back to `defaults` itself.
        assert!(by_id["listPets"].is_empty());
    }

    #[test]
    fn policies_for_unknown_operations_are_errors() {
        let r = with(schema("petstore", petstore()), |s| {
            s.policies.operations.insert("nope".into(), cache(1));
            s.policies.operations.insert("a/b".into(), cache(1));
        });
        let errors = compile(&[r]).unwrap_err();
        assert_eq!(
            pointers(&errors),
            vec![
                "/spec/policies/operations/a~1b",
                "/spec/policies/operations/nope"
            ]
        );
        let e = &errors[1];
        assert_eq!(
            e.file.as_deref(),
            Some(std::path::Path::new("petstore.yaml"))
        );
        assert_eq!(e.resource.as_deref(), Some("ApiSchema default/petstore"));
        assert!(e.message.contains("`listPets`"), "{e}");
        assert_eq!(
            e.to_string(),
            format!(
                "petstore.yaml: ApiSchema default/petstore: /spec/policies/operations/nope: {}",
                e.message
            )
        );
    }

    #[test]
    fn openapi_errors_point_into_the_resource() {
        let mut doc = petstore();
        doc["paths"]["/pets/{id}"] = json!({"get": {"operationId": "listPets"}});
        let errors = compile(&[schema("petstore", doc)]).unwrap_err();
        assert_eq!(
            pointers(&errors),
            vec!["/spec/openapi/paths/~1pets~1{id}/get/operationId"]
        );
        let errors = compile(&[schema("petstore", json!({"openapi": "2.0"}))]).unwrap_err();
        assert_eq!(pointers(&errors), vec!["/spec/openapi/openapi"]);
    }

    #[test]
    fn collects_errors_from_every_resource() {
        let a = with(schema("a", petstore()), |s| s.hosts.clear());
        let b = with(schema("b", petstore()), |s| {
            s.policies.operations.insert("x".into(), cache(1));
        });
        let mut c = schema("Bad_Name", petstore());
        c.schema.metadata.namespace = Some("ns".into());
        let errors = compile(&[a, b, c]).unwrap_err();
        let got: Vec<_> = errors
            .iter()
            .map(|e| (e.resource.as_deref().unwrap(), e.pointer.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("ApiSchema default/a", "/spec/hosts"),
                ("ApiSchema default/b", "/spec/policies/operations/x"),
                ("ApiSchema ns/Bad_Name", "/metadata/name"),
            ]
        );
    }

    #[test]
    fn duplicate_resources_are_errors() {
        let a = schema("petstore", petstore());
        let mut b = schema("petstore", petstore());
        b.file = PathBuf::from("other.yaml");
        let errors = compile(&[a, b]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].file.as_deref(),
            Some(std::path::Path::new("other.yaml"))
        );
        assert_eq!(errors[0].pointer, "/metadata/name");
        assert!(errors[0].message.contains("petstore.yaml"));
    }

    #[test]
    fn output_is_sorted_and_byte_stable() {
        let mut ns = schema("zoo", petstore());
        ns.schema.metadata.namespace = Some("a-team".into());
        let resources = vec![
            schema("zoo", petstore()),
            with(schema("api", petstore()), |s| {
                s.hosts = vec!["other".into()]
            }),
            with(ns, |s| s.hosts = vec!["third".into()]),
        ];
        let names: Vec<_> = compile(&resources)
            .unwrap()
            .apis
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, vec!["a-team/zoo", "default/api", "default/zoo"]);
        let bytes = |r: &[LoadedResource]| serde_json::to_vec_pretty(&compile(r).unwrap()).unwrap();
        let mut reversed = resources.clone();
        reversed.reverse();
        assert_eq!(bytes(&resources), bytes(&reversed));
    }

    #[test]
    fn filter_route_conflicts_map_to_the_path_item() {
        let mut doc = petstore();
        doc["paths"]["/pets/{id}"] = json!({"get": {"operationId": "getPetById"}});
        let errors = compile(&[schema("petstore", doc)]).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        let e = &errors[0];
        assert_eq!(e.resource.as_deref(), Some("ApiSchema default/petstore"));
        assert_eq!(
            e.file.as_deref(),
            Some(std::path::Path::new("petstore.yaml"))
        );
        assert!(
            e.pointer == "/spec/openapi/paths/~1pets~1{id}"
                || e.pointer == "/spec/openapi/paths/~1pets~1{petId}",
            "{e}"
        );
        // The other operation is named by its place in the resource, not in the config.
        assert!(!e.message.contains("/apis/"), "{e}");
        assert!(e.message.contains("/spec/openapi/paths/"), "{e}");
    }

    #[test]
    fn filter_template_errors_map_to_the_path_item() {
        let mut doc = petstore();
        doc["paths"]["/pets/{"] = json!({"get": {}});
        let errors = compile(&[schema("petstore", doc)]).unwrap_err();
        assert_eq!(pointers(&errors), vec!["/spec/openapi/paths/~1pets~1{"]);
    }

    #[test]
    fn filter_host_conflicts_name_both_resources() {
        let a = schema("a", petstore());
        let b = schema("b", petstore());
        let errors = compile(&[b, a]).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        let e = &errors[0];
        assert_eq!(e.resource.as_deref(), Some("ApiSchema default/b"));
        assert_eq!(e.pointer, "/spec/hosts/0");
        assert!(e.message.contains("ApiSchema default/a in a.yaml"), "{e}");
    }

    #[test]
    fn filter_policy_errors_map_into_spec_policies() {
        let r = with(schema("petstore", petstore()), |s| {
            let auth = serde_json::from_value(json!({"anyOf": [{"allOf": [{"provider": "idp"}]}]}));
            s.policies.operations.insert(
                "getPet".into(),
                Policies {
                    auth: Some(auth.unwrap()),
                    ..Policies::default()
                },
            );
        });
        let errors = compile(&[r]).unwrap_err();
        assert_eq!(
            pointers(&errors),
            vec!["/spec/policies/operations/getPet/auth/anyOf/0/allOf/0/provider"]
        );
    }

    #[test]
    fn filter_errors_map_back_through_the_side_table() {
        let origin = ApiOrigin {
            resource: 0,
            base_path_pointer: "/spec/openapi/servers/0/url".into(),
            operations: vec![
                OperationOrigin {
                    pointer: "/spec/openapi/paths/~1pets/get".into(),
                    path_item_pointer: "/spec/openapi/paths/~1pets".into(),
                    operation_id_pointer: Some("/spec/openapi/paths/~1pets/get/operationId".into()),
                    policies_pointer: Some("/spec/policies/operations/listPets".into()),
                },
                OperationOrigin {
                    pointer: "/spec/openapi/paths/~1pets/post".into(),
                    path_item_pointer: "/spec/openapi/paths/~1pets".into(),
                    operation_id_pointer: None,
                    policies_pointer: None,
                },
            ],
        };
        let resources = [schema("petstore", petstore())];
        let map = |pointer: &str| {
            let e = ConfigError {
                pointer: pointer.into(),
                message: "m".into(),
            };
            map_filter_error(&e, std::slice::from_ref(&origin), &resources)
        };
        let cases = [
            ("/apis/0/operations/0/path", "/spec/openapi/paths/~1pets"),
            (
                "/apis/0/operations/0/operationId",
                "/spec/openapi/paths/~1pets/get/operationId",
            ),
            (
                "/apis/0/operations/1/operationId",
                "/spec/openapi/paths/~1pets/post",
            ),
            (
                "/apis/0/operations/1/method",
                "/spec/openapi/paths/~1pets/post",
            ),
            (
                "/apis/0/operations/0/policies/cache/defaultTtlSeconds",
                "/spec/policies/operations/listPets/cache/defaultTtlSeconds",
            ),
            ("/apis/0/operations/1", "/spec/openapi/paths/~1pets/post"),
            ("/apis/0/hosts/0", "/spec/hosts/0"),
            ("/apis/0/basePath", "/spec/openapi/servers/0/url"),
            ("/apis/0/defaults/cache", "/spec/policies/defaults/cache"),
            ("/apis/0/name", "/metadata/name"),
            ("/apis/0", ""),
        ];
        for (from, to) in cases {
            let e = map(from);
            assert_eq!(e.pointer, to, "{from}");
            assert_eq!(e.resource.as_deref(), Some("ApiSchema default/petstore"));
            assert_eq!(e.message, "m");
        }
        let e = map("/version");
        assert_eq!((e.file, e.resource), (None, None));
        assert!(e.message.contains("/version"));
        assert!(map("/apis/7/hosts/0").resource.is_none());
    }
}
