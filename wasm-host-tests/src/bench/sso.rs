//! The SSO benchmark: the same RS256/ES256 fixture tokens through Gatehouse and through
//! Envoy's native `jwt_authn` with the same keys, issuer and audience.

use gatehouse_filter::config::{AuthPolicy, Method};
use serde_json::{json, Value};

use crate::configs::{api, config, op, to_json};
use crate::fixtures::{jwt_providers, jwt_token};

/// The fixtures' `idp` provider (inline JWKS); `cache: false` turns the verified-token
/// cache off so every request verifies a signature, as with a fresh token each time.
fn provider(cache: bool) -> Value {
    let mut idp = jwt_providers()
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == "idp").cloned())
        .unwrap_or_else(|| panic!("the JWT fixtures have no idp provider"));
    if !cache {
        idp["tokenCacheMaxAgeSeconds"] = json!(0);
    }
    idp
}

/// Gatehouse: `GET /pets/{id}` needs an `idp` token with scope `read`.
pub fn gatehouse_config(cache: bool) -> String {
    let mut get_pet = op("getPet", Method::Get, "/pets/{id}");
    get_pet.policies.auth = serde_json::from_value::<AuthPolicy>(json!({
        "anyOf": [{"allOf": [{"provider": "idp", "scopes": ["read"]}]}]
    }))
    .ok();
    let mut cfg = config(vec![api("bench/sso", &["*"], "", true, vec![get_pet])]);
    cfg.providers =
        vec![serde_json::from_value(provider(cache))
            .unwrap_or_else(|e| panic!("fixture provider: {e}"))];
    to_json(&cfg)
}

/// `Authorization` header value for a fixture token (`GOOD_RS256`, `GOOD_ES256`).
pub fn bearer(token: &str) -> String {
    format!("Bearer {}", jwt_token(token))
}

/// A bootstrap patch putting `jwt_authn` (one provider, required on every route) in front
/// of the router; `cache` turns on its `jwt_cache_config`.
pub fn jwt_authn_patch(cache: bool) -> impl FnOnce(&mut Value) + 'static {
    move |bootstrap: &mut Value| {
        let idp = provider(true);
        let jwks = match &idp["jwks"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut native = json!({
            "issuer": idp["issuer"],
            "audiences": idp["audiences"],
            "local_jwks": {"inline_string": jwks},
            "forward": true
        });
        if cache {
            native["jwt_cache_config"] = json!({"jwt_cache_size": 100});
        }
        let filter = json!({
            "name": "envoy.filters.http.jwt_authn",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
                "providers": {"idp": native},
                "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "idp"}}]
            }
        });
        if let Some(filters) = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]
            ["filters"][0]["typed_config"]["http_filters"]
            .as_array_mut()
        {
            filters.insert(0, filter);
        }
    }
}

/// Gatehouse with `n` providers (`n - 1` others with their own issuers, then the fixtures'
/// `idp`, which signs the benchmark's token); `GET /pets/{id}` accepts any of them with
/// scope `read`. Verified-token cache off: every request parses the token, picks its
/// provider by `iss` and verifies a signature, as with a fresh token each time.
pub fn gatehouse_config_providers(n: usize) -> String {
    let idp = provider(false);
    let mut providers: Vec<Value> = (1..n)
        .map(|i| {
            let mut other = idp.clone();
            other["name"] = json!(format!("other-{i}"));
            other["issuer"] = json!(format!("https://other-{i}.example.test"));
            other
        })
        .collect();
    providers.push(idp);
    let any: Vec<Value> = providers
        .iter()
        .map(|p| json!({"allOf": [{"provider": p["name"], "scopes": ["read"]}]}))
        .collect();
    let mut get_pet = op("getPet", Method::Get, "/pets/{id}");
    get_pet.policies.auth = serde_json::from_value::<AuthPolicy>(json!({ "anyOf": any })).ok();
    let mut cfg = config(vec![api("bench/sso", &["*"], "", true, vec![get_pet])]);
    cfg.providers = providers
        .into_iter()
        .map(|p| serde_json::from_value(p).unwrap_or_else(|e| panic!("bench provider: {e}")))
        .collect();
    to_json(&cfg)
}
