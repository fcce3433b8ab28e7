//! `IdentityProvider` resources → the filter's `providers`, and the `auth` references of
//! ApiSchemas resolved to them.
//!
//! A requirement's `provider` names an IdentityProvider in the ApiSchema's own namespace
//! (`corp-sso`) or anywhere (`security/corp-sso`); in the filter configuration every
//! provider is called `namespace/name`. An unknown name is an error on the ApiSchema line
//! that wrote it, never a silently public operation.

use std::collections::BTreeSet;

use gatehouse_filter::compiled::escape_pointer;
use gatehouse_filter::config::{AuthPolicy, Policies, Provider};

use crate::error::{path_to_pointer, CompileError};
use crate::resource::{LoadedProvider, LoadedResource};

fn at(provider: &LoadedProvider, pointer: &str, message: impl Into<String>) -> CompileError {
    CompileError::new(
        Some(provider.file.clone()),
        Some(provider.provider.label()),
        pointer,
        message,
    )
}

/// The providers sorted by qualified name (the order of `providers` in the output, which
/// [`locate`] relies on), each checked against the filter's `Provider` type.
pub fn compile_providers(
    providers: &[LoadedProvider],
) -> Result<(Vec<Provider>, Vec<&LoadedProvider>), Vec<CompileError>> {
    let mut sorted: Vec<&LoadedProvider> = providers.iter().collect();
    sorted.sort_by_key(|p| p.provider.qualified_name());
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(sorted.len());
    let mut seen = BTreeSet::new();
    for loaded in &sorted {
        let name = loaded.provider.qualified_name();
        if !seen.insert(name.clone()) {
            errors.push(at(
                loaded,
                "/metadata/name",
                format!("duplicate {}", loaded.provider.label()),
            ));
            continue;
        }
        let mut spec = loaded.provider.spec.clone();
        let Some(map) = spec.as_object_mut() else {
            errors.push(at(loaded, "/spec", "spec must be an object"));
            continue;
        };
        if map.contains_key("name") {
            errors.push(at(
                loaded,
                "/spec/name",
                "the provider's name is `metadata.name` (namespace/name in the filter)",
            ));
            continue;
        }
        // Read by the Kubernetes operator only; local mode lets every namespace refer.
        map.remove("allowedNamespaces");
        map.insert("name".into(), serde_json::Value::String(name));
        let namespace = loaded.provider.namespace().to_owned();
        if let Err((pointer, message)) = crate::secrets::resolve(map, &namespace, &loaded.file) {
            errors.push(at(loaded, &pointer, message));
            continue;
        }
        match serde_path_to_error::deserialize::<_, Provider>(spec) {
            Ok(provider) => out.push(provider),
            Err(e) => {
                let pointer = format!("/spec{}", path_to_pointer(e.path()));
                errors.push(at(loaded, &pointer, e.into_inner().to_string()));
            }
        }
    }
    if errors.is_empty() {
        Ok((out, sorted))
    } else {
        Err(errors)
    }
}

/// A copy of the ApiSchema whose `auth` requirements name providers as the filter does.
pub fn resolve_auth(
    resource: &LoadedResource,
    known: &BTreeSet<String>,
) -> Result<LoadedResource, Vec<CompileError>> {
    let mut resolved = resource.clone();
    let namespace = resource.schema.namespace().to_owned();
    let mut errors = Vec::new();
    let policies = &mut resolved.schema.spec.policies;
    resolve_policies(
        &mut policies.defaults,
        "/spec/policies/defaults",
        &namespace,
        known,
        &mut errors,
    );
    for (id, ops) in &mut policies.operations {
        let at = format!("/spec/policies/operations/{}", escape_pointer(id));
        resolve_policies(ops, &at, &namespace, known, &mut errors);
    }
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(errors
            .into_iter()
            .map(|(pointer, message)| {
                CompileError::new(
                    Some(resource.file.clone()),
                    Some(resource.schema.label()),
                    pointer,
                    message,
                )
            })
            .collect())
    }
}

fn resolve_policies(
    policies: &mut Policies,
    at: &str,
    namespace: &str,
    known: &BTreeSet<String>,
    errors: &mut Vec<(String, String)>,
) {
    let Some(AuthPolicy { any_of, .. }) = policies.auth.as_mut() else {
        return;
    };
    for (a, alternative) in any_of.iter_mut().enumerate() {
        for (r, requirement) in alternative.all_of.iter_mut().enumerate() {
            let qualified = if requirement.provider.contains('/') {
                requirement.provider.clone()
            } else {
                format!("{namespace}/{}", requirement.provider)
            };
            if known.contains(&qualified) {
                requirement.provider = qualified;
            } else {
                errors.push((
                    format!("{at}/auth/anyOf/{a}/allOf/{r}/provider"),
                    format!("no IdentityProvider {qualified}"),
                ));
            }
        }
    }
}

/// Maps a filter error at `/providers/N/...` onto the IdentityProvider it came from.
#[must_use]
pub fn locate(pointer: &str, message: &str, sorted: &[&LoadedProvider]) -> Option<CompileError> {
    let rest = pointer.strip_prefix("/providers/")?;
    let (index, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let provider = sorted.get(index.parse::<usize>().ok()?)?;
    let pointer = if tail.is_empty() {
        "/spec".to_owned()
    } else if tail == "name" {
        "/metadata/name".to_owned()
    } else {
        format!("/spec/{tail}")
    };
    Some(at(provider, &pointer, message))
}

#[cfg(test)]
#[path = "providers_tests.rs"]
mod tests;
