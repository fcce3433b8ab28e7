//! The same accept/reject table (`filter/fixtures/jwt/tokens.json`) through Gatehouse and
//! through Envoy's native `jwt_authn`, configured with the same providers (issuers,
//! audiences, keys), in the same run and at the same clock. They must agree on
//! admit/refuse for every token, except the documented [`EXCLUDED`] ones, where Gatehouse
//! is deliberately stricter (each with its reason; the test also checks that each
//! exclusion still is a disagreement, so the list cannot go stale).

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{json, Value};
use wasm_host_tests::fixtures::jwt_fixtures;
use wasm_host_tests::{Backend, Client, Envoy, EnvoyBuilder, Filter};

/// Tokens `jwt_authn` admits and Gatehouse refuses on purpose, with why.
const EXCLUDED: &[(&str, &str)] = &[
    ("IAT_IN_FUTURE", "jwt_authn does not check iat; Gatehouse refuses a token issued after now + leeway"),
    ("ALG_NOT_IN_ALLOW_LIST", "jwt_authn has no per-provider algorithm allow-list (`algorithms`)"),
    ("PADDING_IN_SIGNATURE", "jwt_authn's base64url decoder accepts `=` padding; Gatehouse wants one encoding per token"),
    ("NON_CANONICAL_SIGNATURE_BITS", "jwt_authn accepts non-zero unused trailing bits; Gatehouse wants one encoding per token"),
    ("LEADING_SPACE", "jwt_authn trims whitespace after `Bearer `; Gatehouse takes the rest of the header as the token"),
    ("TRAILING_DOT", "jwt_authn accepts a fourth, empty segment; a JWS compact serialization has exactly three"),
    ("HUGE_TOKEN", "Gatehouse refuses tokens over maxTokenBytes (8 KiB by default); jwt_authn has no limit"),
    ("HUGE_HEADER", "Gatehouse refuses JOSE headers over 2 KiB; jwt_authn has no limit"),
    ("CRIT_HEADER", "jwt_authn ignores `crit`; RFC 7515 §4.1.11 requires refusing extensions not understood"),
    ("CRIT_B64_FALSE", "jwt_authn ignores `crit` (here b64: false, RFC 7797, which changes what is signed)"),
    ("CRIT_EMPTY", "jwt_authn ignores `crit`; an empty `crit` is invalid (RFC 7515 §4.1.11)"),
    ("NESTED_JWT_MEDIA_TYPE", "jwt_authn ignores `cty`; Gatehouse refuses nested JWTs"),
    ("TYP_DPOP", "jwt_authn ignores `typ`; Gatehouse refuses types other than JWT / at+jwt (RFC 8725 §3.11)"),
];

fn providers() -> Vec<Value> {
    jwt_fixtures()["providers"].as_array().unwrap().clone()
}

fn gatehouse_config() -> String {
    let any: Vec<Value> = providers()
        .iter()
        .map(|p| json!({"allOf": [{"provider": p["name"]}]}))
        .collect();
    json!({
        "version": 1,
        "settings": {"tokenCacheSlots": 0},
        "providers": providers(),
        "apis": [{"name": "agree", "hosts": ["*"], "strict": false,
                  "defaults": {"auth": {"anyOf": any}},
                  "operations": [{"operationId": "check", "method": "GET", "path": "/check"}]}]
    })
    .to_string()
}

/// `jwt_authn` with the same providers: `local_jwks` from the inline JWKS, an HMAC secret
/// as an `oct` key, every provider accepted on every route.
fn jwt_authn_patch() -> impl FnOnce(&mut Value) + 'static {
    |bootstrap: &mut Value| {
        let mut native = serde_json::Map::new();
        let mut names = Vec::new();
        for p in providers() {
            let keys = if let Some(secret) = p["hmacSecret"].as_str() {
                let raw = gatehouse_filter::jwt::b64::decode_config(secret).unwrap();
                json!({"keys": [{"kty": "oct", "k": gatehouse_filter::jwt::b64::encode(&raw)}]})
            } else {
                match &p["jwks"] {
                    Value::String(s) => serde_json::from_str(s).unwrap(),
                    other => other.clone(),
                }
            };
            let mut provider = json!({
                "issuer": p["issuer"],
                "local_jwks": {"inline_string": keys.to_string()},
                "forward": true,
                "clock_skew_seconds": 60,
                // Gatehouse's default `requireExpiration: true`.
                "require_expiration": true
            });
            if let Some(aud) = p["audiences"].as_array().filter(|a| !a.is_empty()) {
                provider["audiences"] = json!(aud);
            }
            let name = p["name"].as_str().unwrap().to_owned();
            native.insert(name.clone(), provider);
            names.push(json!({"provider_name": name}));
        }
        let filter = json!({
            "name": "envoy.filters.http.jwt_authn",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
                "providers": native,
                "rules": [{"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": names}}}]
            }
        });
        bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
            ["typed_config"]["http_filters"]
            .as_array_mut()
            .unwrap()
            .insert(0, filter);
    }
}

fn status(client: &Client, envoy: &Envoy, token: &str) -> u16 {
    // Only the header: `jwt_authn` would also read an `access_token` query parameter.
    let auth = format!("Bearer {token}");
    match client.try_send(
        "GET",
        &envoy.url("/check"),
        &[("authorization", &auth)],
        None,
    ) {
        Ok(r) => r.status,
        // A header the HTTP stack refuses (control characters): neither filter sees it.
        Err(_) => 0,
    }
}

#[test]
fn gatehouse_and_jwt_authn_agree_on_the_token_table() {
    let backend = Backend::start();
    let gatehouse = EnvoyBuilder::new(&backend)
        .gatehouse(&gatehouse_config())
        .start();
    let native = EnvoyBuilder::new(&backend)
        .filter(Filter::None)
        .patch_bootstrap(jwt_authn_patch())
        .start();
    let client = Client::new();
    let mut disagreements = Vec::new();
    let mut compared = 0;
    let mut skipped = Vec::new();
    for t in jwt_fixtures()["tokens"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        let token = t["token"].as_str().unwrap();
        let (ours, theirs) = (
            status(&client, &gatehouse, token),
            status(&client, &native, token),
        );
        if ours == 0 || theirs == 0 {
            skipped.push(name);
            continue;
        }
        compared += 1;
        let excluded = EXCLUDED.iter().any(|(n, _)| *n == name);
        let agree = (ours == 200) == (theirs == 200);
        println!(
            "{name:40} gatehouse {ours} jwt_authn {theirs}{}",
            if agree { "" } else { "  DISAGREE" }
        );
        if agree && excluded {
            disagreements.push(format!(
                "{name}: excluded but both answer {ours}/{theirs}: drop it from EXCLUDED"
            ));
        }
        if !agree && !excluded {
            disagreements.push(format!("{name}: gatehouse {ours}, jwt_authn {theirs}"));
        }
    }
    println!("compared {compared} tokens, skipped (unsendable) {skipped:?}");
    assert!(compared >= 100, "only {compared} tokens compared");
    assert_eq!(
        skipped,
        ["TRAILING_NEWLINE"],
        "only a header with a newline cannot be sent"
    );
    assert!(
        disagreements.is_empty(),
        "disagreements:\n{}",
        disagreements.join("\n")
    );
}
