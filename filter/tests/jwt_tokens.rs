//! Table test: every fixture token (filter/src/jwt/fixtures.rs) against the fixture
//! providers, at the pinned time, with the exact expected outcome.

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
use gatehouse_filter::config::Provider;
use gatehouse_filter::jwt::{ProviderSet, Reason as R};

fn providers() -> ProviderSet {
    let list: Vec<Provider> = serde_json::from_str(f::PROVIDERS_JSON).unwrap();
    ProviderSet::from_config(&list).unwrap()
}

/// Every fixture: `Ok(provider)` or the exact reason.
#[rustfmt::skip]
fn table() -> Vec<(&'static str, Result<&'static str, R>)> {
    vec![
        (f::GOOD_RS256, Ok("idp")),
        (f::GOOD_RS384, Ok("idp")),
        (f::GOOD_RS512, Ok("idp")),
        (f::GOOD_PS256, Ok("idp")),
        (f::GOOD_PS384, Ok("idp")),
        (f::GOOD_PS512, Ok("idp")),
        (f::GOOD_ES256, Ok("idp")),
        (f::GOOD_ES384, Ok("idp")),
        (f::GOOD_EDDSA, Ok("idp")),
        (f::GOOD_HS256, Ok("hmac")),
        (f::GOOD_HS384, Ok("hmac")),
        (f::GOOD_HS512, Ok("hmac")),
        (f::GOOD_RS256_KEY_WITH_ALG, Ok("idp")),
        (f::GOOD_RS256_NO_KID, Ok("idp")),
        (f::GOOD_ES256_NO_KID, Ok("idp")),
        (f::GOOD_AUD_ARRAY, Ok("idp")),
        (f::GOOD_TYP_AT_JWT, Ok("idp")),
        (f::GOOD_TYP_APPLICATION_JWT, Ok("idp")),
        (f::GOOD_FRACTIONAL_EXP, Ok("idp")),
        (f::GOOD_ESCAPED_ALG_NAME, Ok("idp")),
        (f::GOOD_ES256_HIGH_S, Ok("idp")),
        (f::GOOD_MIXED_HS256, Ok("mixed")),
        (f::GOOD_LEEWAY_EXPIRED_30S_AGO, Ok("idp")),
        (f::EXPIRED, Err(R::Expired)),
        (f::NOT_YET_VALID, Err(R::NotYetValid)),
        (f::IAT_IN_FUTURE, Err(R::IssuedInFuture)),
        (f::MISSING_EXP, Err(R::MissingExp)),
        (f::WRONG_ISSUER, Err(R::UnknownIssuer)),
        (f::MISSING_ISSUER, Err(R::UnknownIssuer)),
        (f::WRONG_AUDIENCE, Err(R::BadAudience)),
        (f::MISSING_AUDIENCE, Err(R::BadAudience)),
        (f::EMPTY_AUDIENCE_ARRAY, Err(R::BadAudience)),
        (f::UNKNOWN_KID, Err(R::UnknownKid)),
        (f::ENC_KEY_KID, Err(R::UnknownKid)),
        (f::BAD_SIGNATURE, Err(R::BadSignature)),
        (f::SIGNED_BY_OTHER_KEY, Err(R::BadSignature)),
        (f::PSS_SIGNATURE_AS_RS256, Err(R::BadSignature)),
        (f::RS256_KEY_FOR_PS256, Err(R::KeyAlgMismatch)),
        (f::HMAC_WRONG_SECRET, Err(R::BadSignature)),
        (f::ALG_NONE, Err(R::AlgNotAllowed)),
        (f::ALG_NONE_WITH_SIGNATURE, Err(R::AlgNotAllowed)),
        (f::ALG_NONE_CAPITALIZED, Err(R::AlgNotAllowed)),
        (f::ALG_NONE_UPPERCASE, Err(R::AlgNotAllowed)),
        (f::ALG_LOWERCASE_RS256, Err(R::AlgNotAllowed)),
        (f::ALG_FULLWIDTH, Err(R::AlgNotAllowed)),
        (f::ALG_TRAILING_NUL, Err(R::AlgNotAllowed)),
        (f::ALG_NOT_IN_ALLOW_LIST, Err(R::AlgNotAllowed)),
        (f::CONFUSION_HS256_RSA_PEM, Err(R::AlgNotAllowed)),
        (f::CONFUSION_HS256_RSA_DER, Err(R::AlgNotAllowed)),
        (f::CONFUSION_HS256_RSA_JWK_N, Err(R::AlgNotAllowed)),
        (f::CONFUSION_HMAC_PROVIDER_RSA_PEM, Err(R::BadSignature)),
        (f::CONFUSION_MIXED_RSA_KID, Err(R::KeyAlgMismatch)),
        (f::CONFUSION_MIXED_NO_KID, Err(R::BadSignature)),
        (f::ES256_WITH_P384_KEY, Err(R::KeyAlgMismatch)),
        (f::ES384_WITH_P256_KEY, Err(R::KeyAlgMismatch)),
        (f::ES256_P384_SIGNATURE_NO_KID, Err(R::BadSignature)),
        (f::RS256_WITH_EC_KID, Err(R::KeyAlgMismatch)),
        (f::EDDSA_WITH_RSA_KID, Err(R::KeyAlgMismatch)),
        (f::TRUNCATED_SIGNATURE, Err(R::BadSignature)),
        (f::EMPTY_SIGNATURE, Err(R::BadSignature)),
        (f::SIGNATURE_LEADING_ZERO_BYTE, Err(R::BadSignature)),
        (f::ES256_DER_SIGNATURE, Err(R::BadSignature)),
        (f::ES256_ZERO_SIGNATURE, Err(R::BadSignature)),
        (f::ES256_R_S_EQUAL_N, Err(R::BadSignature)),
        (f::EDDSA_NON_CANONICAL_S, Err(R::BadSignature)),
        (f::ALG_SWAPPED_RS512, Err(R::BadSignature)),
        (f::PADDING_IN_PAYLOAD, Err(R::Malformed)),
        (f::PADDING_IN_SIGNATURE, Err(R::Malformed)),
        (f::STANDARD_ALPHABET_SIGNATURE, Err(R::Malformed)),
        (f::NON_CANONICAL_SIGNATURE_BITS, Err(R::Malformed)),
        (f::BAD_BASE64_CHARACTER, Err(R::Malformed)),
        (f::PERCENT_ENCODED, Err(R::Malformed)),
        (f::LEADING_SPACE, Err(R::Malformed)),
        (f::TRAILING_NEWLINE, Err(R::Malformed)),
        (f::INNER_WHITESPACE, Err(R::Malformed)),
        (f::JWE_FIVE_PARTS, Err(R::Malformed)),
        (f::EXTRA_SEGMENT, Err(R::Malformed)),
        (f::TWO_SEGMENTS, Err(R::Malformed)),
        (f::TRAILING_DOT, Err(R::Malformed)),
        (f::EMPTY_HEADER_SEGMENT, Err(R::Malformed)),
        (f::EMPTY_PAYLOAD_SEGMENT, Err(R::Malformed)),
        (f::ONLY_DOTS, Err(R::Malformed)),
        (f::EMPTY_TOKEN, Err(R::Malformed)),
        (f::DUPLICATE_CLAIM_ISS, Err(R::Malformed)),
        (f::DUPLICATE_HEADER_ALG, Err(R::Malformed)),
        (f::DUPLICATE_ESCAPED_CLAIM, Err(R::Malformed)),
        (f::PAYLOAD_ARRAY, Err(R::Malformed)),
        (f::PAYLOAD_STRING, Err(R::Malformed)),
        (f::PAYLOAD_NULL, Err(R::Malformed)),
        (f::HEADER_ARRAY, Err(R::Malformed)),
        (f::HEADER_ALG_ARRAY, Err(R::Malformed)),
        (f::HEADER_KID_NUMBER, Err(R::Malformed)),
        (f::HEADER_INVALID_UTF8, Err(R::Malformed)),
        (f::PAYLOAD_LONE_SURROGATE, Err(R::Malformed)),
        (f::PAYLOAD_BOM, Err(R::Malformed)),
        (f::PAYLOAD_TRAILING_GARBAGE, Err(R::Malformed)),
        (f::PAYLOAD_NUMBER_OVERFLOW, Err(R::Malformed)),
        (f::DEEPLY_NESTED_PAYLOAD, Err(R::Malformed)),
        (f::EXP_AS_STRING, Err(R::BadClaim)),
        (f::EXP_NEGATIVE, Err(R::BadClaim)),
        (f::NBF_AS_BOOLEAN, Err(R::BadClaim)),
        (f::IAT_AS_STRING, Err(R::BadClaim)),
        (f::AUD_AS_NUMBER, Err(R::BadClaim)),
        (f::AUD_ARRAY_WITH_NUMBER, Err(R::BadClaim)),
        (f::ISS_AS_ARRAY, Err(R::BadClaim)),
        (f::HUGE_TOKEN, Err(R::TooLarge)),
        (f::HUGE_HEADER, Err(R::TooLarge)),
        (f::CRIT_HEADER, Err(R::CritHeader)),
        (f::CRIT_B64_FALSE, Err(R::CritHeader)),
        (f::CRIT_EMPTY, Err(R::CritHeader)),
        (f::JKU_ATTACKER_KEY, Err(R::UnknownKid)),
        (f::JKU_WITH_KNOWN_KID, Err(R::BadSignature)),
        (f::X5U_WITH_KNOWN_KID, Err(R::BadSignature)),
        (f::JWK_EMBEDDED_NO_KID, Err(R::BadSignature)),
        (f::JWK_EMBEDDED_KNOWN_KID, Err(R::BadSignature)),
        (f::X5C_ATTACKER_CERT, Err(R::BadSignature)),
        (f::NESTED_JWT, Err(R::NestedJwt)),
        (f::NESTED_JWT_MEDIA_TYPE, Err(R::NestedJwt)),
        (f::TYP_DPOP, Err(R::BadType)),
        (f::UNICODE_ISSUER_ZERO_WIDTH, Err(R::UnknownIssuer)),
        (f::UNICODE_ISSUER_HOMOGLYPH, Err(R::UnknownIssuer)),
        (f::UNICODE_KID_HYPHEN, Err(R::UnknownKid)),
        (f::KID_PATH_TRAVERSAL, Err(R::UnknownKid)),
        (f::KID_SQL_INJECTION, Err(R::UnknownKid)),
        (f::KID_TRAILING_NUL, Err(R::UnknownKid)),
    ]
}

#[test]
fn jwt_every_fixture_token_gets_its_exact_outcome() {
    let set = providers();
    let mut failures = Vec::new();
    for (token, want) in table() {
        let got = set.verify(token, f::NOW);
        let name = f::TOKENS
            .iter()
            .find(|fx| fx.token == token)
            .map_or("?", |fx| fx.name);
        let ok = match (&got, &want) {
            (Ok(v), Ok(p)) => v.provider == *p,
            (Err(e), Err(r)) => e.reason == *r,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{name}: want {want:?}, got {:?}",
                got.as_ref().map(|v| &v.provider).map_err(|e| e.reason)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn jwt_table_covers_every_fixture_and_agrees_with_its_label() {
    let table = table();
    assert_eq!(table.len(), f::TOKENS.len());
    for fx in f::TOKENS {
        let (_, want) = table
            .iter()
            .find(|(t, _)| *t == fx.token)
            .unwrap_or_else(|| panic!("{} not in the table", fx.name));
        let label = match want {
            Ok(_) => "ok",
            Err(r) => r.label(),
        };
        assert_eq!(label, fx.expect, "{}", fx.name);
    }
}

#[test]
fn jwt_at_least_25_malicious_tokens() {
    let malicious = f::TOKENS
        .iter()
        .filter(|fx| fx.expect != "ok" && !fx.name.starts_with("GOOD_"))
        .count();
    assert!(malicious >= 25 + 15, "{malicious}");
}

#[test]
fn jwt_errors_name_the_provider_once_the_issuer_is_known() {
    let set = providers();
    for fx in f::TOKENS {
        let Err(e) = set.verify(fx.token, f::NOW) else {
            continue;
        };
        if let Some(p) = &e.provider {
            assert_eq!(p, fx.provider, "{}", fx.name);
        }
        if matches!(
            e.reason,
            R::UnknownKid | R::BadSignature | R::Expired | R::BadAudience | R::KeyAlgMismatch
        ) {
            assert_eq!(e.provider.as_deref(), Some(fx.provider), "{}", fx.name);
        }
        if e.reason == R::UnknownIssuer {
            assert_eq!(e.provider, None, "{}", fx.name);
        }
    }
}

#[test]
fn jwt_verified_result_carries_claims_exp_alg_kid() {
    let set = providers();
    let v = set.verify(f::GOOD_ES256, f::NOW).unwrap();
    assert_eq!(v.provider, "idp");
    assert_eq!(v.exp, Some(4_000_000_000));
    assert_eq!(v.alg.name(), "ES256");
    assert_eq!(v.kid.as_deref(), Some("ec-p256"));
    assert_eq!(v.subject(), Some("user-1"));
    assert_eq!(v.scopes(), vec!["read", "write"]);
    assert_eq!(v.claims["iss"], f::ISSUER);

    let v = set.verify(f::GOOD_FRACTIONAL_EXP, f::NOW).unwrap();
    assert_eq!(v.exp, Some(4_000_000_000));
}

#[test]
fn jwt_good_tokens_also_verify_at_the_real_time() {
    // Fixtures must stay usable by tests that run against a real clock (Envoy).
    let set = providers();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for fx in f::TOKENS.iter().filter(|fx| fx.expect == "ok") {
        if fx.name == "GOOD_LEEWAY_EXPIRED_30S_AGO" {
            continue;
        }
        assert!(set.verify(fx.token, now).is_ok(), "{}", fx.name);
    }
}

#[test]
fn jwt_time_boundaries_with_the_default_leeway() {
    let set = providers();
    // EXPIRED has exp = NOW - 3600: valid until exp + 60 s of leeway.
    let exp = f::NOW - 3600;
    assert!(set.verify(f::EXPIRED, exp + 59).is_ok());
    assert_eq!(
        set.verify(f::EXPIRED, exp + 60).unwrap_err().reason,
        R::Expired
    );
    // NOT_YET_VALID has nbf = 3900000000.
    let nbf = 3_900_000_000;
    assert_eq!(
        set.verify(f::NOT_YET_VALID, nbf - 61).unwrap_err().reason,
        R::NotYetValid
    );
    assert!(set.verify(f::NOT_YET_VALID, nbf - 60).is_ok());
    // IAT_IN_FUTURE has iat = 3900000000.
    assert_eq!(
        set.verify(f::IAT_IN_FUTURE, nbf - 61).unwrap_err().reason,
        R::IssuedInFuture
    );
    assert!(set.verify(f::IAT_IN_FUTURE, nbf - 60).is_ok());
}

#[test]
fn jwt_error_answers_follow_rfc_6750() {
    let set = providers();
    let e = set.verify(f::EXPIRED, f::NOW).unwrap_err();
    assert_eq!(e.reason.http_status(), 401);
    assert_eq!(e.reason.label(), "expired");
    assert_eq!(
        e.www_authenticate(Some("gatehouse")),
        r#"Bearer realm="gatehouse", error="invalid_token", error_description="Jwt is expired""#
    );
    let e = set.verify(f::UNKNOWN_KID, f::NOW).unwrap_err();
    assert_eq!(e.reason.label(), "unknown_kid");
    assert_eq!(e.provider.as_deref(), Some("idp"));
    for r in R::ALL {
        assert_eq!(r.error_code().is_none(), r == R::Missing);
    }
}
