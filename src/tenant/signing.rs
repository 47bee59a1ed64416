//! Tenant ids signed by the deployment: a key's tenant part may carry a MAC (HMAC-SHA256 under
//! the Worker secret `KEY_SIGNING_SECRET`) of the tenant id, so the Worker refuses a made-up
//! tenant before it calls any actor. Keys minted before the secret was set carry none and keep
//! working unless the deployment accepts signed keys only.

use crate::model::mac::hmac_sha256;
use subtle::ConstantTimeEq;

/// Characters of a tenant signature: `[0-9a-z]`, about 62 bits.
pub const SIGNATURE_LEN: usize = 12;
/// Label of what is signed, so a MAC of a tenant id means nothing anywhere else.
const DOMAIN: &[u8] = b"edgespool tenant id v1:";
const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// How the deployment treats the signature in a key's tenant part.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeySigning {
    /// `KEY_SIGNING_SECRET`: signs every tenant part minted, checks every one presented.
    pub secret: Option<String>,
    /// `SIGNED_KEYS_ONLY`: refuse keys whose tenant part carries no valid signature (once
    /// every key has been re-issued signed).
    pub signed_only: bool,
}

/// What the Worker may conclude from a key's tenant part alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantPart {
    /// Signed by this deployment: the tenant was minted here.
    Signed,
    /// No signature this deployment can check: the tenant actor decides.
    Unchecked,
    /// A wrong signature, or none where one is required: refused without asking any actor.
    Refused,
}

impl KeySigning {
    /// The signature to append to `tenant_id` in a new key; `None` without a secret.
    pub fn sign(&self, tenant_id: &str) -> Option<String> {
        self.secret.as_deref().map(|secret| signature(secret, tenant_id))
    }

    /// Judges a key's tenant id and the signature it carries (if any).
    pub fn judge(&self, tenant_id: &str, presented: Option<&str>) -> TenantPart {
        match (self.secret.as_deref(), presented) {
            (Some(secret), Some(sig)) if bool::from(signature(secret, tenant_id).as_bytes().ct_eq(sig.as_bytes())) => {
                TenantPart::Signed
            }
            (Some(_), Some(_)) => TenantPart::Refused,
            _ if self.signed_only => TenantPart::Refused,
            _ => TenantPart::Unchecked,
        }
    }
}

/// The [`SIGNATURE_LEN`]-character MAC of `tenant_id` under `secret`.
fn signature(secret: &str, tenant_id: &str) -> String {
    let mac = hmac_sha256(secret.as_bytes(), &[DOMAIN, tenant_id.as_bytes()]);
    // A byte modulo 36 is slightly biased; twelve of them still carry about 61.9 bits.
    mac[..SIGNATURE_LEN].iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_checked_against_the_secret() {
        let signing = KeySigning { secret: Some("s3cret".into()), signed_only: false };
        let tenant = "a".repeat(20);
        let sig = signing.sign(&tenant).unwrap();
        assert_eq!(sig.len(), SIGNATURE_LEN);
        assert!(sig.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(signing.judge(&tenant, Some(&sig)), TenantPart::Signed);
        assert_eq!(signing.judge(&"b".repeat(20), Some(&sig)), TenantPart::Refused);
        let other = KeySigning { secret: Some("other".into()), ..signing.clone() };
        assert_eq!(other.judge(&tenant, Some(&sig)), TenantPart::Refused);
        assert_eq!(signing.judge(&tenant, None), TenantPart::Unchecked);
    }

    #[test]
    fn unsigned_keys_are_refused_only_when_signed_keys_alone_are_accepted() {
        let tenant = "a".repeat(20);
        let strict = KeySigning { secret: Some("s3cret".into()), signed_only: true };
        assert_eq!(strict.judge(&tenant, None), TenantPart::Refused);
        assert_eq!(strict.judge(&tenant, strict.sign(&tenant).as_deref()), TenantPart::Signed);
        let unset = KeySigning { secret: None, signed_only: false };
        assert_eq!(unset.sign(&tenant), None);
        assert_eq!(unset.judge(&tenant, Some("000000000000")), TenantPart::Unchecked);
        // Signed keys only, but no secret to check them with: nothing is accepted.
        assert_eq!(KeySigning { secret: None, signed_only: true }.judge(&tenant, None), TenantPart::Refused);
    }
}
