//! Sealed cookie values: XChaCha20-Poly1305 (confidential and tamper-evident), a random
//! 24-byte nonce per value, the cookie's purpose and name as associated data (a state
//! cookie cannot be replayed as a session cookie, nor one provider's as another's).
//! Value: base64url(nonce ‖ ciphertext ‖ tag).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::Mac;

use crate::jwt::b64;

const NONCE: usize = 24;
const TAG: usize = 16;

/// The AEAD key: HMAC-SHA256(configured key, label), so the configured secret may be any
/// length and is never used directly.
#[must_use]
pub fn derive_key(secret: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) {
        mac.update(b"gatehouse oidc cookie key v1");
        let digest = mac.finalize().into_bytes();
        for (dst, src) in out.iter_mut().zip(digest.iter()) {
            *dst = *src;
        }
    }
    out
}

/// Random bytes from the host (WASI `random_get` in wasm). `None` when it fails: the
/// caller refuses to go on rather than use predictable values.
#[must_use]
pub fn random<const N: usize>() -> Option<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).ok()?;
    Some(buf)
}

/// Seals `plaintext` for `aad`.
#[must_use]
pub fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Option<String> {
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    let nonce_bytes: [u8; NONCE] = random()?;
    let nonce = XNonce::from(nonce_bytes);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .ok()?;
    let mut out = Vec::with_capacity(NONCE + sealed.len());
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&sealed);
    Some(b64::encode(&out))
}

/// Opens a value sealed by [`seal`] with the same key and `aad`; `None` when it was
/// tampered with, sealed for something else, or is not ours.
#[must_use]
pub fn open(key: &[u8; 32], aad: &[u8], value: &str) -> Option<Vec<u8>> {
    let bytes = b64::decode(value.as_bytes())?;
    if bytes.len() < NONCE + TAG {
        return None;
    }
    let (nonce_bytes, sealed) = bytes.split_at(NONCE);
    let nonce_array: [u8; NONCE] = nonce_bytes.try_into().ok()?;
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    cipher
        .decrypt(&XNonce::from(nonce_array), Payload { msg: sealed, aad })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_tamper_is_refused() {
        let key = derive_key(&[7u8; 32]);
        let sealed = seal(&key, b"s:p", b"hello").unwrap();
        assert_eq!(open(&key, b"s:p", &sealed).unwrap(), b"hello");
        // Another purpose, another key, a flipped byte anywhere, truncation: refused.
        assert!(open(&key, b"t:p", &sealed).is_none());
        assert!(open(&derive_key(&[8u8; 32]), b"s:p", &sealed).is_none());
        let raw = b64::decode(sealed.as_bytes()).unwrap();
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 1;
            assert!(open(&key, b"s:p", &b64::encode(&bad)).is_none(), "byte {i}");
        }
        assert!(open(&key, b"s:p", &b64::encode(&raw[..raw.len() - 1])).is_none());
        assert!(open(&key, b"s:p", "").is_none());
        assert!(open(&key, b"s:p", "not base64!").is_none());
        // Fresh nonce per value.
        assert_ne!(seal(&key, b"s:p", b"hello").unwrap(), sealed);
    }
}
