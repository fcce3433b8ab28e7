//! Authorization: OR-of-ANDs policies, scopes from `scope`/`scp`, required claims.

// Test helpers outside `#[test]` functions may unwrap and index too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../src/jwt/fixtures.rs"]
mod fixtures;

use fixtures as f;
use gatehouse_filter::config::{AuthPolicy, Provider};
use gatehouse_filter::jwt::authz::{authorize, Decision};
use gatehouse_filter::jwt::{Algorithm, ProviderSet, Verified};
use serde_json::{json, Value};

fn providers(idp_required_claims: Value) -> ProviderSet {
    let mut list: Vec<Value> = serde_json::from_str(f::PROVIDERS_JSON).unwrap();
    if !idp_required_claims.is_null() {
        list[0]["requiredClaims"] = idp_required_claims;
    }
    let list: Vec<Provider> = serde_json::from_value(Value::Array(list)).unwrap();
    ProviderSet::from_config(&list).unwrap()
}

fn policy(v: Value) -> AuthPolicy {
    serde_json::from_value(v).unwrap()
}

fn req(provider: &str, scopes: &[&str]) -> Value {
    json!({"provider": provider, "scopes": scopes})
}

fn one_of(alternatives: Vec<Vec<Value>>) -> AuthPolicy {
    let any: Vec<Value> = alternatives
        .into_iter()
        .map(|all| json!({ "allOf": all }))
        .collect();
    policy(json!({ "anyOf": any }))
}

fn insufficient(scopes: &[&str], claims: &[&str]) -> Decision {
    Decision::InsufficientScope {
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        failed_claims: claims.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn jwt_or_of_ands() {
    let set = providers(Value::Null);
    let idp = set.verify(f::GOOD_RS256, f::NOW).unwrap();
    let hmac = set.verify(f::GOOD_HS256, f::NOW).unwrap();
    let both = [idp.clone(), hmac.clone()];
    let only_idp = std::slice::from_ref(&idp);

    // Public: empty policy, or an empty alternative.
    assert_eq!(
        authorize(&AuthPolicy::default(), &[], &set),
        Decision::Allowed
    );
    assert_eq!(
        authorize(&one_of(vec![vec![]]), &[], &set),
        Decision::Allowed
    );

    let cases: Vec<(AuthPolicy, &[Verified], Decision)> = vec![
        (
            one_of(vec![vec![req("idp", &[])]]),
            only_idp,
            Decision::Allowed,
        ),
        (
            one_of(vec![vec![req("idp", &["read"])]]),
            only_idp,
            Decision::Allowed,
        ),
        (
            one_of(vec![vec![req("idp", &["read", "write"])]]),
            only_idp,
            Decision::Allowed,
        ),
        (
            one_of(vec![vec![req("idp", &["read", "admin"])]]),
            only_idp,
            insufficient(&["read", "admin"], &[]),
        ),
        (
            one_of(vec![vec![req("idp", &["read"])]]),
            &[],
            Decision::Unauthenticated,
        ),
        (
            one_of(vec![vec![req("hmac", &[])]]),
            only_idp,
            Decision::Unauthenticated,
        ),
        (
            one_of(vec![
                vec![req("idp", &["admin"])],
                vec![req("hmac", &["read"])],
            ]),
            only_idp,
            insufficient(&["admin"], &[]),
        ),
        (
            one_of(vec![
                vec![req("idp", &["admin"])],
                vec![req("hmac", &["read"])],
            ]),
            &both,
            Decision::Allowed,
        ),
        (
            one_of(vec![vec![req("idp", &["read"]), req("hmac", &["write"])]]),
            &both,
            Decision::Allowed,
        ),
        (
            one_of(vec![vec![req("idp", &["read"]), req("hmac", &["write"])]]),
            only_idp,
            Decision::Unauthenticated,
        ),
        (
            one_of(vec![vec![req("idp", &["read"]), req("hmac", &["admin"])]]),
            &both,
            insufficient(&["read", "admin"], &[]),
        ),
        // A requirement naming a provider that does not exist never holds.
        (
            one_of(vec![vec![req("ghost", &[])]]),
            &both,
            Decision::Unauthenticated,
        ),
    ];
    for (i, (p, tokens, want)) in cases.into_iter().enumerate() {
        assert_eq!(authorize(&p, tokens, &set), want, "case {i}");
    }
}

#[test]
fn jwt_scopes_from_scp_arrays_and_strings() {
    let set = providers(Value::Null);
    let mut token = set.verify(f::GOOD_RS256, f::NOW).unwrap();
    token.claims.remove("scope");
    token
        .claims
        .insert("scp".into(), json!(["pets:read", "pets:write"]));
    let p = one_of(vec![vec![req("idp", &["pets:write"])]]);
    assert_eq!(authorize(&p, &[token.clone()], &set), Decision::Allowed);
    token
        .claims
        .insert("scp".into(), json!("pets:read pets:write"));
    assert_eq!(authorize(&p, &[token.clone()], &set), Decision::Allowed);
    token.claims.insert("scp".into(), json!(7));
    assert_eq!(
        authorize(&p, &[token], &set),
        insufficient(&["pets:write"], &[])
    );
}

#[test]
fn jwt_required_claims() {
    let p = one_of(vec![vec![req("idp", &["read"])]]);
    let check = |rules: Value| {
        let set = providers(rules);
        let token = set.verify(f::GOOD_RS256, f::NOW).unwrap();
        authorize(&p, &[token], &set)
    };
    assert_eq!(check(json!({"sub": "user-1"})), Decision::Allowed);
    assert_eq!(check(json!({"groups": "ops"})), Decision::Allowed);
    assert_eq!(
        check(json!({"groups": ["admins", "eng"]})),
        Decision::Allowed
    );
    assert_eq!(
        check(json!({"/realm_access/roles": "user"})),
        Decision::Allowed
    );
    assert_eq!(
        check(json!({"groups": "admins"})),
        insufficient(&["read"], &["groups"])
    );
    assert_eq!(
        check(json!({"sub": "someone-else", "/realm_access/roles": ["admin"]})),
        insufficient(&["read"], &["/realm_access/roles", "sub"])
    );
    assert_eq!(
        check(json!({"email_verified": true})),
        insufficient(&["read"], &["email_verified"])
    );
}

#[test]
fn jwt_answers() {
    assert_eq!(Decision::Allowed.http_status(), None);
    assert_eq!(Decision::Allowed.www_authenticate(None), None);
    assert_eq!(Decision::Unauthenticated.http_status(), Some(401));
    assert_eq!(
        Decision::Unauthenticated
            .www_authenticate(Some("api"))
            .as_deref(),
        Some(r#"Bearer realm="api""#)
    );
    let d = insufficient(&["pets:read", "admin"], &[]);
    assert_eq!(d.http_status(), Some(403));
    assert_eq!(
        d.www_authenticate(None).as_deref(),
        Some(
            r#"Bearer error="insufficient_scope", error_description="Insufficient scope or claims", scope="pets:read admin""#
        )
    );
    let claims_only = insufficient(&[], &["groups"]);
    assert_eq!(
        claims_only.www_authenticate(None).as_deref(),
        Some(
            r#"Bearer error="insufficient_scope", error_description="Insufficient scope or claims""#
        )
    );
}

#[test]
fn jwt_verified_fields_are_public_for_the_glue() {
    // The glue rebuilds `Verified` from its verified-token cache.
    let v = Verified {
        provider: "idp".into(),
        claims: serde_json::Map::new(),
        exp: Some(1),
        alg: Algorithm::Es256,
        kid: None,
    };
    assert!(v.scopes().is_empty());
    assert_eq!(v.subject(), None);
}
