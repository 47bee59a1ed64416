//! Message authentication: HMAC-SHA256 from the `hmac` crate, and the hex forms webhooks and
//! providers write it in. One home for every signature edgespool makes or checks: key tenant
//! parts, outgoing webhook deliveries, inbound provider signatures.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]).map(char::from).collect()
}

/// Whether `presented` (hex, either case) is the HMAC-SHA256 of `parts` under `key`, compared
/// in constant time.
pub fn verify_hex(key: &[u8], parts: &[&[u8]], presented: &str) -> bool {
    let Some(bytes) = unhex(presented) else { return false };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(&bytes).is_ok()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes.chunks(2).map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 (a short key) and test case 6 (a key longer than the block).
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", &[b"what do ya ", b"want for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(&[0xaa; 131], &[b"Test Using Larger Than Block-Size Key - Hash Key First"])),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn verification_takes_hex_of_either_case_and_refuses_anything_else() {
        let mac = hex(&hmac_sha256(b"k", &[b"m"]));
        assert!(verify_hex(b"k", &[b"m"], &mac));
        assert!(verify_hex(b"k", &[b"m"], &mac.to_uppercase()));
        assert!(!verify_hex(b"k", &[b"n"], &mac));
        assert!(!verify_hex(b"other", &[b"m"], &mac));
        assert!(!verify_hex(b"k", &[b"m"], &mac[..62]));
        assert!(!verify_hex(b"k", &[b"m"], "zz"));
        assert!(!verify_hex(b"k", &[b"m"], ""));
    }
}
