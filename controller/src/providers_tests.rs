use std::path::Path;

use crate::compile::compile_with_providers;
use crate::error::CompileError;
use crate::load::parse_documents;
use gatehouse_filter::config::FilterConfig;

const API: &str = r#"
apiVersion: gatehouse.dev/v1alpha1
kind: ApiSchema
metadata: { name: pets, namespace: shop }
spec:
  hosts: ["pets.test"]
  policies:
    defaults:
      auth: { anyOf: [ { allOf: [ { provider: corp-sso, scopes: [pets:read] } ] } ] }
    operations:
      createPet:
        auth: { anyOf: [ { allOf: [ { provider: security/partners } ] } ] }
  openapi:
    openapi: 3.1.0
    info: { title: pets, version: "1" }
    paths:
      /pets:
        get: { operationId: listPets }
        post: { operationId: createPet }
"#;

fn provider(namespace: &str, name: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: gatehouse.dev/v1alpha1\nkind: IdentityProvider\nmetadata: {{ name: {name}, namespace: {namespace} }}\nspec: {spec}\n"
    )
}

const SSO: &str = r#"{ issuer: "https://sso.example.com", audiences: [api], jwksUri: "https://sso.example.com/jwks", jwksCluster: sso }"#;
const PARTNERS: &str = r#"{ issuer: "https://partners.example.com", jwksUri: "https://partners.example.com/jwks", jwksCluster: partners }"#;

fn compile_text(text: &str) -> Result<FilterConfig, Vec<CompileError>> {
    let loaded = parse_documents(Path::new("all.yaml"), text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    compile_with_providers(&loaded.resources, &loaded.providers)
}

fn one_error(text: &str) -> CompileError {
    let errors = compile_text(text).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn providers_are_compiled_and_references_qualified() {
    let text = format!(
        "{API}{}{}",
        provider("shop", "corp-sso", SSO),
        provider("security", "partners", PARTNERS)
    );
    let loaded = parse_documents(Path::new("all.yaml"), &text);
    assert_eq!((loaded.resources.len(), loaded.providers.len()), (1, 2));
    let config = compile_with_providers(&loaded.resources, &loaded.providers).unwrap();
    let names: Vec<&str> = config.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["security/partners", "shop/corp-sso"],
        "sorted by name"
    );
    assert_eq!(config.providers[1].audiences, ["api"]);
    let api = &config.apis[0];
    let default_auth = api.defaults.auth.as_ref().unwrap();
    assert_eq!(default_auth.any_of[0].all_of[0].provider, "shop/corp-sso");
    let create = api
        .operations
        .iter()
        .find(|o| o.operation_id == "createPet")
        .unwrap();
    let create_auth = create.policies.auth.as_ref().unwrap();
    assert_eq!(
        create_auth.any_of[0].all_of[0].provider,
        "security/partners"
    );
}

#[test]
fn an_unknown_provider_is_an_error_on_the_apischema_line() {
    let e = one_error(&format!("{API}{}", provider("shop", "corp-sso", SSO)));
    assert_eq!(e.resource.as_deref(), Some("ApiSchema shop/pets"));
    assert_eq!(
        e.pointer,
        "/spec/policies/operations/createPet/auth/anyOf/0/allOf/0/provider"
    );
    assert!(e.message.contains("security/partners"), "{e}");
    // A provider of the same name in another namespace does not count.
    let e = one_error(&format!(
        "{API}{}{}",
        provider("other", "corp-sso", SSO),
        provider("security", "partners", PARTNERS)
    ));
    assert_eq!(
        e.pointer,
        "/spec/policies/defaults/auth/anyOf/0/allOf/0/provider"
    );
}

#[test]
fn provider_spec_errors_point_into_the_identityprovider() {
    let typo =
        r#"{ isuer: "https://sso.example.com", jwksUri: "https://x/jwks", jwksCluster: sso }"#;
    let e = one_error(&format!(
        "{API}{}{}",
        provider("shop", "corp-sso", typo),
        provider("security", "partners", PARTNERS)
    ));
    assert_eq!(
        e.resource.as_deref(),
        Some("IdentityProvider shop/corp-sso")
    );
    assert_eq!(e.pointer, "/spec/isuer");

    let named = r#"{ name: x, issuer: "https://sso.example.com", jwksUri: "https://x/jwks", jwksCluster: sso }"#;
    let e = one_error(&format!(
        "{API}{}{}",
        provider("shop", "corp-sso", named),
        provider("security", "partners", PARTNERS)
    ));
    assert_eq!(e.pointer, "/spec/name");
}

#[test]
fn the_filters_own_provider_checks_are_mapped_back() {
    // No key source at all: refused by the filter's provider compiler.
    let keyless = r#"{ issuer: "https://sso.example.com" }"#;
    let e = one_error(&format!(
        "{API}{}{}",
        provider("shop", "corp-sso", keyless),
        provider("security", "partners", PARTNERS)
    ));
    assert_eq!(
        e.resource.as_deref(),
        Some("IdentityProvider shop/corp-sso"),
        "{e}"
    );
    assert!(e.pointer.starts_with("/spec"), "{e}");

    // Two providers with one issuer: tokens could not be routed to a provider.
    let same_issuer =
        r#"{ issuer: "https://sso.example.com", jwksUri: "https://p/jwks", jwksCluster: p }"#;
    let e = one_error(&format!(
        "{API}{}{}",
        provider("shop", "corp-sso", SSO),
        provider("security", "partners", same_issuer)
    ));
    assert!(
        e.resource
            .as_deref()
            .is_some_and(|r| r.starts_with("IdentityProvider")),
        "{e}"
    );
}

#[test]
fn duplicate_providers_are_refused() {
    let text = format!(
        "{API}{}{}{}",
        provider("shop", "corp-sso", SSO),
        provider("shop", "corp-sso", SSO),
        provider("security", "partners", PARTNERS)
    );
    let e = one_error(&text);
    assert_eq!(e.pointer, "/metadata/name");
    assert!(e.message.contains("duplicate"), "{e}");
}
