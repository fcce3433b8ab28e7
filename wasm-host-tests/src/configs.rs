//! Filter configurations, built from `gatehouse_filter::config` types so they track the
//! contract the filter and the controller compile against.

use gatehouse_filter::config::{
    Api, AuthPolicy, FilterConfig, Method, Operation, Policies, Settings, CONFIG_VERSION,
};

/// API name of [`petstore`].
pub const PETSTORE: &str = "default/petstore";
/// Host [`petstore`] is served under.
pub const PETSTORE_HOST: &str = "petstore.test";
/// A host no API claims.
pub const OTHER_HOST: &str = "unclaimed.test";

/// An operation.
pub fn op(operation_id: &str, method: Method, path: &str) -> Operation {
    Operation {
        operation_id: operation_id.to_owned(),
        method,
        path: path.to_owned(),
        policies: Policies::default(),
        request: None,
    }
}

/// An API with no policies.
pub fn api(
    name: &str,
    hosts: &[&str],
    base_path: &str,
    strict: bool,
    operations: Vec<Operation>,
) -> Api {
    Api {
        name: name.to_owned(),
        hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        base_path: base_path.to_owned(),
        strict,
        defaults: Policies::default(),
        operations,
    }
}

/// A configuration holding `apis` with default settings.
pub fn config(apis: Vec<Api>) -> FilterConfig {
    FilterConfig {
        version: CONFIG_VERSION,
        settings: Settings::default(),
        providers: Vec::new(),
        apis,
        schemas: None,
    }
}

/// The petstore operations: `listPets GET /pets`, `createPet POST /pets`,
/// `getPet GET /pets/{petId}`, `deletePet DELETE /pets/{petId}`.
pub fn petstore_operations() -> Vec<Operation> {
    vec![
        op("listPets", Method::Get, "/pets"),
        op("createPet", Method::Post, "/pets"),
        op("getPet", Method::Get, "/pets/{petId}"),
        op("deletePet", Method::Delete, "/pets/{petId}"),
    ]
}

/// `default/petstore` under host [`PETSTORE_HOST`], base path `/v1`.
pub fn petstore(strict: bool) -> FilterConfig {
    config(vec![api(
        PETSTORE,
        &[PETSTORE_HOST],
        "/v1",
        strict,
        petstore_operations(),
    )])
}

/// Serializes a configuration the way the controller would hand it to the filter.
pub fn to_json(config: &FilterConfig) -> String {
    serde_json::to_string(config).expect("a FilterConfig always serializes")
}

/// A synthetic API of `n` GET operations for the benchmark, under host `*`, base path
/// `/bench`: operation `i` is `op{i}`, path `/r{i}/items/{id}` for even `i` (one path
/// parameter) and `/r{i}/items` for odd `i` (static). Returns the configuration and one
/// concrete request path per operation.
pub fn synthetic(n: usize) -> (FilterConfig, Vec<String>) {
    let mut operations = Vec::with_capacity(n);
    let mut paths = Vec::with_capacity(n);
    for i in 0..n {
        if i % 2 == 0 {
            operations.push(op(
                &format!("op{i}"),
                Method::Get,
                &format!("/r{i}/items/{{id}}"),
            ));
            paths.push(format!("/bench/r{i}/items/{}", 1000 + i));
        } else {
            operations.push(op(&format!("op{i}"), Method::Get, &format!("/r{i}/items")));
            paths.push(format!("/bench/r{i}/items"));
        }
    }
    (
        config(vec![api(
            "bench/synthetic",
            &["*"],
            "/bench",
            true,
            operations,
        )]),
        paths,
    )
}

/// Host of [`validated_petstore`].
pub const VALIDATED_HOST: &str = "validated.test";

/// An `ApiSchema` with typed parameters and a JSON body, validated in `mode` (`enforce`,
/// `report` or `off`): query `limit` (integer 1..100), header `x-api-key` (sensitive,
/// `^[a-z0-9]{8}$`), path `petId` (integer), createPet's body (at most 512 bytes: JSON
/// `NewPet`, or a form `NewPetForm`), unknown query parameters rejected.
pub fn validated_petstore_yaml(mode: &str) -> String {
    format!(
        r##"apiVersion: gatehouse.dev/v1alpha1
kind: ApiSchema
metadata: {{ name: validated }}
spec:
  hosts: ["{VALIDATED_HOST}"]
  strict: true
  policies:
    defaults:
      validation: {{ mode: {mode} }}
  validation:
    unknownQueryParameters: reject
    maxBodyBytes: 512
  openapi:
    openapi: 3.0.3
    info: {{ title: Validated petstore, version: "1" }}
    servers: [{{ url: /v1 }}]
    paths:
      /pets:
        get:
          operationId: listPets
          parameters:
            - {{ name: limit, in: query, schema: {{ type: integer, minimum: 1, maximum: 100 }} }}
            - name: x-api-key
              in: header
              x-gatehouse-sensitive: true
              schema: {{ type: string, pattern: "^[a-z0-9]{{8}}$" }}
        post:
          operationId: createPet
          requestBody:
            required: true
            content:
              application/json:
                schema: {{ $ref: "#/components/schemas/NewPet" }}
              application/x-www-form-urlencoded:
                schema: {{ $ref: "#/components/schemas/NewPetForm" }}
      /pets/{{petId}}:
        parameters:
          - {{ name: petId, in: path, required: true, schema: {{ type: integer }} }}
        get:
          operationId: getPet
    components:
      schemas:
        NewPet:
          type: object
          required: [name]
          additionalProperties: false
          properties:
            name: {{ type: string, minLength: 1, maxLength: 20 }}
            age: {{ type: integer, minimum: 0 }}
            tags: {{ type: array, items: {{ type: string }}, maxItems: 3 }}
        # A form field sent once is a one-item array for an array property, so a form
        # schema with arrays cannot tell `tags=a` (valid) from a string (schemathesis'
        # negative case): the form variant has scalars only.
        NewPetForm:
          type: object
          required: [name]
          additionalProperties: false
          properties:
            name: {{ type: string, minLength: 1, maxLength: 20 }}
            age: {{ type: integer, minimum: 0 }}
"##
    )
}

/// [`validated_petstore_yaml`] compiled by the controller, as `gatehouse compile` would.
pub fn validated_petstore(mode: &str) -> FilterConfig {
    let yaml = validated_petstore_yaml(mode);
    let loaded =
        gatehouse_controller::load::parse_documents(std::path::Path::new("validated.yaml"), &yaml);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    gatehouse_controller::compile(&loaded.resources).unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// API name of [`sso`].
pub const SSO: &str = "default/sso";
/// Host [`sso`] is served under.
pub const SSO_HOST: &str = "sso.test";
/// Cluster (and `jwksUri` host) of the remote JWKS in [`sso_remote_provider`].
pub const JWKS_CLUSTER: &str = "jwks";

/// The `idp` provider of the JWT fixtures (`filter/fixtures/jwt/tokens.json`: issuer
/// `https://idp.example.test`, audience `api://gatehouse`, inline JWKS with RSA, P-256,
/// P-384 and Ed25519 keys), forwarding `sub` as `x-user` and `groups` as `x-groups`.
pub fn sso_inline_provider() -> serde_json::Value {
    let mut idp = crate::fixtures::jwt_providers()
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == "idp").cloned())
        .expect("the fixtures have an idp provider");
    idp["forwardClaims"] = serde_json::json!({"x-user": "sub", "x-groups": "groups"});
    idp
}

/// [`sso_inline_provider`] without inline keys, fetching them from
/// `http://jwks.test/keys.json` through cluster [`JWKS_CLUSTER`], every 30 s. The verified
/// -token cache is off for it, so every request verifies a signature.
pub fn sso_remote_provider() -> serde_json::Value {
    let mut idp = sso_inline_provider();
    if let Some(map) = idp.as_object_mut() {
        map.remove("jwks");
    }
    idp["jwksUri"] = serde_json::json!(format!("http://{JWKS_CLUSTER}.test/keys.json"));
    idp["jwksCluster"] = serde_json::json!(JWKS_CLUSTER);
    idp["jwksRefreshSeconds"] = serde_json::json!(30);
    idp["tokenCacheMaxAgeSeconds"] = serde_json::json!(0);
    idp
}

/// `default/sso` (strict) under [`SSO_HOST`] with `provider`: `getPet GET /pets/{id}` needs
/// an `idp` token with scope `read`, `admin GET /admin` scope `admin`, `health GET /health`
/// is public (`anyOf: []`).
pub fn sso(provider: serde_json::Value) -> FilterConfig {
    let need = |scope: &str| -> Option<AuthPolicy> {
        serde_json::from_value(serde_json::json!({
            "anyOf": [{"allOf": [{"provider": "idp", "scopes": [scope]}]}]
        }))
        .ok()
    };
    let mut get_pet = op("getPet", Method::Get, "/pets/{id}");
    get_pet.policies.auth = need("read");
    let mut admin = op("admin", Method::Get, "/admin");
    admin.policies.auth = need("admin");
    let mut health = op("health", Method::Get, "/health");
    health.policies.auth = Some(AuthPolicy::default());
    let mut cfg = config(vec![api(
        SSO,
        &[SSO_HOST],
        "",
        true,
        vec![get_pet, admin, health],
    )]);
    cfg.providers = vec![serde_json::from_value(provider).expect("a valid provider")];
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_round_trip_through_the_contract_types() {
        for cfg in [petstore(true), petstore(false), synthetic(10).0] {
            let json = to_json(&cfg);
            let back: FilterConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back, cfg);
        }
        let (cfg, paths) = synthetic(5000);
        assert_eq!(cfg.apis[0].operations.len(), 5000);
        assert_eq!(paths.len(), 5000);
    }
}
