//! Envoy's `verify_signature` foreign function: BoringSSL signature checks for wasm.
//!
//! Envoy takes a protobuf `envoy.source.extensions.common.wasm.VerifySignatureArguments`
//! and answers a `VerifySignatureResult`. Both are tiny, so they are encoded by hand here
//! rather than pulling a protobuf runtime into the module. Other hosts (nginx) have no such
//! function: the glue detects its absence and the pure-Rust verifier is used instead.

/// Name of the foreign function in Envoy.
pub const VERIFY_SIGNATURE: &str = "verify_signature";

/// `VerifySignatureArguments { hash_function = 1; public_key = 2 (DER); signature = 3; text = 4 }`.
#[must_use]
pub fn encode_verify_arguments(
    hash_function: &str,
    public_key_der: &[u8],
    signature: &[u8],
    text: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + public_key_der.len() + signature.len() + 32);
    for (field, value) in [
        (1, hash_function.as_bytes()),
        (2, public_key_der),
        (3, signature),
        (4, text),
    ] {
        out.push((field << 3) | 2); // length-delimited
        put_varint(&mut out, value.len() as u64);
        out.extend_from_slice(value);
    }
    out
}

/// What Envoy answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyResult {
    pub result: bool,
    pub error: String,
}

impl VerifyResult {
    /// `Some(valid)` when the answer is a verdict on the signature; `None` when Envoy could
    /// not judge (unknown hash, unparsable key), so the caller falls back to pure Rust.
    /// Envoy 1.40 words a wrong signature `Failed to verify digest. Error code: 0`.
    #[must_use]
    pub fn verdict(&self) -> Option<bool> {
        if self.result {
            Some(true)
        } else if self.error.starts_with("Failed to verify digest") {
            Some(false)
        } else {
            None
        }
    }
}

/// Decodes `VerifySignatureResult { bool result = 1; string error = 2; }`; unknown fields
/// are skipped as protobuf requires. `None` on malformed input.
#[must_use]
pub fn decode_verify_result(bytes: &[u8]) -> Option<VerifyResult> {
    let mut out = VerifyResult {
        result: false,
        error: String::new(),
    };
    let mut rest = bytes;
    while !rest.is_empty() {
        let key = take_varint(&mut rest)?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                let value = take_varint(&mut rest)?;
                if field == 1 {
                    out.result = value != 0;
                }
            }
            2 => {
                let len = usize::try_from(take_varint(&mut rest)?).ok()?;
                let value = rest.get(..len)?;
                rest = rest.get(len..)?;
                if field == 2 {
                    out.error = String::from_utf8_lossy(value).into_owned();
                }
            }
            1 => rest = rest.get(8..)?,
            5 => rest = rest.get(4..)?,
            _ => return None,
        }
    }
    Some(out)
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn take_varint(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_encode_as_protobuf() {
        let encoded = encode_verify_arguments("sha256", &[0xAA; 2], &[0xBB], b"hi");
        assert_eq!(
            encoded,
            [
                0x0a, 6, b's', b'h', b'a', b'2', b'5', b'6', // 1: hash_function
                0x12, 2, 0xAA, 0xAA, // 2: public_key
                0x1a, 1, 0xBB, // 3: signature
                0x22, 2, b'h', b'i', // 4: text
            ]
        );
    }

    #[test]
    fn long_fields_use_multi_byte_lengths() {
        let text = vec![7u8; 300];
        let encoded = encode_verify_arguments("sha256", &[], &[], &text);
        // 300 = 0b10_0101100 → 0xAC 0x02
        let at = encoded.len() - 300 - 3;
        assert_eq!(&encoded[at..at + 3], &[0x22, 0xAC, 0x02]);
    }

    #[test]
    fn results_map_to_verdicts() {
        let ok = decode_verify_result(&[0x08, 1]).unwrap();
        assert_eq!(ok.verdict(), Some(true));
        let mut bad = vec![0x12, 23];
        bad.extend_from_slice(b"Failed to verify digest");
        assert_eq!(decode_verify_result(&bad).unwrap().verdict(), Some(false));
        let mut coded = vec![0x12, 38];
        coded.extend_from_slice(b"Failed to verify digest. Error code: 0");
        assert_eq!(decode_verify_result(&coded).unwrap().verdict(), Some(false));
        let mut odd = vec![0x12, 11];
        odd.extend_from_slice(b"unknown key");
        assert_eq!(decode_verify_result(&odd).unwrap().verdict(), None);
        assert_eq!(decode_verify_result(&[]).unwrap().verdict(), None);
        // An unknown fixed64 field is skipped.
        let skipped = decode_verify_result(&[0x19, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 1]).unwrap();
        assert_eq!(skipped.verdict(), Some(true));
    }

    #[test]
    fn malformed_results_are_refused_without_panicking() {
        for bytes in [
            &[0x12, 5, b'a'][..],
            &[0x80][..],
            &[0x0b][..],
            &[0xff; 11][..],
            &[0x0d, 1, 2][..],
        ] {
            assert_eq!(decode_verify_result(bytes), None, "{bytes:?}");
        }
    }
}
