//! Feeds arbitrary bytes to every untrusted-input entry point of the JWT core: compact JWS
//! parsing, full verification against the fixture providers, strict base64url and JSON,
//! and JWKS parsing. Any panic, overflow or hang is a bug.

#![no_main]

use std::sync::OnceLock;

use gatehouse_filter::config::Provider;
use gatehouse_filter::jwt::fixtures::{NOW, PROVIDERS_JSON, TOKENS};
use gatehouse_filter::jwt::token::{self, TokenLimits};
use gatehouse_filter::jwt::{b64, json, Jwks, JwksLimits, ProviderSet};
use libfuzzer_sys::fuzz_target;

fn providers() -> &'static ProviderSet {
    static SET: OnceLock<ProviderSet> = OnceLock::new();
    SET.get_or_init(|| {
        let list: Vec<Provider> = serde_json::from_str(PROVIDERS_JSON).unwrap_or_default();
        ProviderSet::from_config(&list).unwrap_or_default()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = token::parse(text, &TokenLimits::default());
        if let Ok(v) = providers().verify(text, NOW) {
            // Only the fixtures' private keys can sign, and every token has exactly one
            // accepted encoding: anything but a good fixture token verifying is a bug.
            let known = TOKENS.iter().any(|f| f.expect == "ok" && f.token == text);
            assert!(known, "fuzz input verified for provider {}", v.provider);
        }
    }
    let _ = b64::decode(data);
    let _ = json::parse(data);
    let limits = JwksLimits {
        allow_oct: true,
        ..JwksLimits::default()
    };
    let _ = Jwks::parse(data, &limits);
});
