//! Property-style tests with a seeded generator: no input panics, and no mutation of a good
//! token verifies. (Coverage-guided fuzzing: `filter/fuzz/`, run by hand.)

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
use gatehouse_filter::jwt::token::{self, TokenLimits};
use gatehouse_filter::jwt::{b64, json, Jwks, JwksLimits, ProviderSet};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn providers() -> ProviderSet {
    let list: Vec<Provider> = serde_json::from_str(f::PROVIDERS_JSON).unwrap();
    ProviderSet::from_config(&list).unwrap()
}

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// JSON-ish fragments that reach deep into header and claim handling.
const PIECES: &[&str] = &[
    r#""alg":"RS256""#,
    r#""alg":"ES256""#,
    r#""alg":"HS256""#,
    r#""alg":"EdDSA""#,
    r#""alg":"none""#,
    r#""alg":1"#,
    r#""kid":"rsa-1""#,
    r#""kid":"ec-p256""#,
    r#""kid":"oct-1""#,
    r#""kid":null"#,
    r#""typ":"JWT""#,
    r#""typ":"x""#,
    r#""cty":"JWT""#,
    r#""crit":[]"#,
    r#""iss":"https://idp.example.test""#,
    r#""iss":"https://hmac.example.test""#,
    r#""iss":"https://mixed.example.test""#,
    r#""iss":7"#,
    r#""aud":"api://gatehouse""#,
    r#""aud":["api://gatehouse",1]"#,
    r#""aud":{}"#,
    r#""exp":4000000000"#,
    r#""exp":-1.5e308"#,
    r#""exp":1e308"#,
    r#""exp":"1""#,
    r#""nbf":0"#,
    r#""iat":18446744073709551615"#,
    r#""iat":-9223372036854775808"#,
    r#""scope":"a b""#,
    r#""x":[[[[[[]]]]]]"#,
    r#""\u0000":"\ud83d\ude00""#,
];

fn random_object(rng: &mut Rng) -> String {
    let n = rng.below(7);
    let parts: Vec<&str> = (0..n).map(|_| *rng.pick(PIECES)).collect();
    let mut s = format!("{{{}}}", parts.join(","));
    if rng.below(10) == 0 {
        // Occasionally break it.
        let cut = rng.below(s.len() + 1);
        s.truncate(cut);
    }
    s
}

#[test]
fn jwt_random_inputs_never_panic() {
    let set = providers();
    let limits = TokenLimits::default();
    let jwks_limits = JwksLimits::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut verified = 0;
    for i in 0..20_000 {
        let token = match i % 4 {
            // Arbitrary bytes, lossily made a string.
            0 => String::from_utf8_lossy(&rng.bytes(300)).into_owned(),
            // base64url characters and dots.
            1 => {
                let len = rng.below(400);
                (0..len)
                    .map(|_| {
                        if rng.below(20) == 0 {
                            '.'
                        } else {
                            char::from(*rng.pick(B64URL))
                        }
                    })
                    .collect()
            }
            // Structured: random header and payload objects, random signature.
            _ => format!(
                "{}.{}.{}",
                b64::encode(random_object(&mut rng).as_bytes()),
                b64::encode(random_object(&mut rng).as_bytes()),
                b64::encode(&rng.bytes(300))
            ),
        };
        let _ = token::parse(&token, &limits);
        if set.verify(&token, f::NOW).is_ok() {
            verified += 1;
        }
        let bytes = token.as_bytes();
        let _ = b64::decode(bytes);
        let _ = json::parse(bytes);
        let _ = Jwks::parse(bytes, &jwks_limits);
    }
    assert_eq!(verified, 0, "random input verified");
}

#[test]
fn jwt_random_jwks_never_panic() {
    let limits = JwksLimits {
        allow_oct: true,
        ..JwksLimits::default()
    };
    let mut rng = Rng(42);
    let members = [
        r#""kty":"RSA""#,
        r#""kty":"EC""#,
        r#""kty":"OKP""#,
        r#""kty":"oct""#,
        r#""crv":"P-256""#,
        r#""crv":"P-384""#,
        r#""crv":"Ed25519""#,
        r#""use":"sig""#,
        r#""alg":"RS256""#,
        r#""key_ops":["verify"]"#,
    ];
    for _ in 0..3_000 {
        let mut key: Vec<String> = (0..rng.below(5))
            .map(|_| rng.pick(&members).to_string())
            .collect();
        for name in ["n", "e", "x", "y", "k"] {
            if rng.below(2) == 0 {
                let len = *rng.pick(&[0usize, 1, 3, 31, 32, 33, 48, 64, 256, 257, 600]);
                let mut bytes = rng.bytes(len);
                bytes.resize(len, 0xff);
                key.push(format!(r#""{name}":"{}""#, b64::encode(&bytes)));
            }
        }
        let doc = format!(r#"{{"keys":[{{{}}}]}}"#, key.join(","));
        let _ = Jwks::parse(doc.as_bytes(), &limits);
    }
}

/// One random edit of a token.
fn mutate(rng: &mut Rng, token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    match rng.below(6) {
        0 => {
            let i = rng.below(bytes.len());
            bytes[i] = *rng.pick(B64URL);
        }
        1 => {
            let i = rng.below(bytes.len());
            bytes.remove(i);
        }
        2 => {
            let i = rng.below(bytes.len() + 1);
            bytes.insert(i, *rng.pick(B64URL));
        }
        3 => {
            let cut = rng.below(bytes.len());
            bytes.truncate(cut);
        }
        4 => {
            // Swap two segments.
            let parts: Vec<&str> = token.split('.').collect();
            return format!("{}.{}.{}", parts[1], parts[0], parts[2]);
        }
        _ => {
            // Flip one bit of the decoded signature.
            let (head, sig) = token.rsplit_once('.').unwrap();
            let mut raw = b64::decode(sig.as_bytes()).unwrap();
            if raw.is_empty() {
                return token.to_owned();
            }
            let i = rng.below(raw.len());
            raw[i] ^= 1 << rng.below(8);
            return format!("{head}.{}", b64::encode(&raw));
        }
    }
    String::from_utf8(bytes).unwrap()
}

#[test]
fn jwt_no_mutation_of_a_good_token_verifies() {
    let set = providers();
    let mut rng = Rng(7);
    let good: Vec<&f::Fixture> = f::TOKENS.iter().filter(|fx| fx.expect == "ok").collect();
    assert!(good.len() > 15);
    for fx in good {
        assert!(set.verify(fx.token, f::NOW).is_ok(), "{}", fx.name);
        for _ in 0..100 {
            let mutated = mutate(&mut rng, fx.token);
            if mutated == fx.token {
                continue;
            }
            assert!(
                set.verify(&mutated, f::NOW).is_err(),
                "{}: mutation verified: {mutated}",
                fx.name
            );
        }
    }
}
