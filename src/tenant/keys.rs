//! API keys: `sp_live_{tenant_id}{signature?}_{secret}`. The tenant id tells the Worker which
//! tenant actor verifies the key, and the optional signature that this deployment minted the
//! tenant ([`signing`](super::signing)); only a SHA-256 hash of the whole key is ever stored.

use super::signing::{KeySigning, SIGNATURE_LEN};
use crate::model::ids::random_token;
use crate::model::Entropy;
use sha2::{Digest, Sha256};

/// Prefix of keys minted here (Spooled SDKs require `sp_` or `sk_`).
pub const LIVE_PREFIX: &str = "sp_live_";
/// Prefix of test-mode keys, accepted when presented.
pub const TEST_PREFIX: &str = "sp_test_";
/// Length of a tenant id: 20 characters of `[0-9a-z]` (about 103 bits).
pub const TENANT_ID_LEN: usize = 20;
/// Length of a key's secret part: 40 characters of `[0-9a-z]` (about 206 bits).
pub const SECRET_LEN: usize = 40;
/// How many leading characters of a key are kept, unhashed, to help users recognise it.
pub const DISPLAY_PREFIX_LEN: usize = 16;

/// A freshly minted key: the raw text (shown once) and what is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MintedKey {
    /// The full key, returned to the user once and never stored.
    pub raw: String,
    /// SHA-256 of `raw`, lowercase hex.
    pub hash: String,
    /// The first characters of `raw`, for display.
    pub prefix: String,
}

/// Mints a new tenant id.
pub fn new_tenant_id(entropy: &mut dyn Entropy) -> String {
    random_token(TENANT_ID_LEN, entropy)
}

/// Mints a new key id (`key_` plus 20 random characters).
pub fn new_key_id(entropy: &mut dyn Entropy) -> String {
    format!("key_{}", random_token(20, entropy))
}

/// A well-formed key's tenant part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyParts<'a> {
    /// The tenant id.
    pub tenant: &'a str,
    /// The signature after it, in keys minted with a signing secret.
    pub signature: Option<&'a str>,
}

/// Mints a new key for `tenant_id`, its tenant part signed when `signing` has a secret.
pub fn mint_key(tenant_id: &str, signing: &KeySigning, entropy: &mut dyn Entropy) -> MintedKey {
    let signature = signing.sign(tenant_id).unwrap_or_default();
    let raw = format!("{LIVE_PREFIX}{tenant_id}{signature}_{}", random_token(SECRET_LEN, entropy));
    MintedKey { hash: hash_key(&raw), prefix: raw[..DISPLAY_PREFIX_LEN].to_owned(), raw }
}

/// SHA-256 of the whole key, lowercase hex.
pub fn hash_key(raw: &str) -> String {
    Sha256::digest(raw.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The tenant part of a well-formed key; `None` for anything that is not one of our keys.
pub fn parse_key(raw: &str) -> Option<KeyParts<'_>> {
    let rest = raw.strip_prefix(LIVE_PREFIX).or_else(|| raw.strip_prefix(TEST_PREFIX))?;
    let (tenant_part, secret) = rest.split_once('_')?;
    let well_formed = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    if !(well_formed(tenant_part) && well_formed(secret) && secret.len() == SECRET_LEN) {
        return None;
    }
    match tenant_part.len() {
        TENANT_ID_LEN => Some(KeyParts { tenant: tenant_part, signature: None }),
        len if len == TENANT_ID_LEN + SIGNATURE_LEN => {
            let (tenant, signature) = tenant_part.split_at(TENANT_ID_LEN);
            Some(KeyParts { tenant, signature: Some(signature) })
        }
        _ => None,
    }
}

/// Whether `tenant_id` has the shape of one we mint.
pub fn is_tenant_id(tenant_id: &str) -> bool {
    tenant_id.len() == TENANT_ID_LEN && tenant_id.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OsEntropy;

    const UNSIGNED: KeySigning = KeySigning { secret: None, signed_only: false };

    fn tenant_of(raw: &str) -> Option<&str> {
        parse_key(raw).map(|parts| parts.tenant)
    }

    #[test]
    fn minted_keys_parse_back_to_their_tenant() {
        let tenant = new_tenant_id(&mut OsEntropy);
        let key = mint_key(&tenant, &UNSIGNED, &mut OsEntropy);
        assert!(key.raw.starts_with("sp_live_"));
        assert_eq!(parse_key(&key.raw), Some(KeyParts { tenant: &tenant, signature: None }));
        assert_eq!(key.hash, hash_key(&key.raw));
        assert!(!key.prefix.contains(&key.raw[key.raw.len() - SECRET_LEN..]));
    }

    #[test]
    fn signed_keys_carry_the_signature_after_the_tenant_id() {
        let tenant = new_tenant_id(&mut OsEntropy);
        let signing = KeySigning { secret: Some("s3cret".into()), signed_only: true };
        let key = mint_key(&tenant, &signing, &mut OsEntropy);
        let parts = parse_key(&key.raw).unwrap();
        assert_eq!(parts.tenant, tenant);
        assert_eq!(parts.signature, signing.sign(&tenant).as_deref());
        assert_eq!(signing.judge(parts.tenant, parts.signature), super::super::signing::TenantPart::Signed);
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(hash_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn foreign_and_malformed_keys_are_refused() {
        let tenant = "a".repeat(TENANT_ID_LEN);
        let secret = "b".repeat(SECRET_LEN);
        assert_eq!(tenant_of(&format!("sp_test_{tenant}_{secret}")), Some(tenant.as_str()));
        for bad in [
            String::new(),
            format!("sk_live_{tenant}_{secret}"),
            format!("sp_live_{tenant}{secret}"),
            format!("sp_live_{tenant}_{secret}x"),
            format!("sp_live_../{}_{secret}", &tenant[3..]),
            format!("sp_live_{}_{secret}", tenant.to_uppercase()),
            format!("sp_live_{tenant}abc_{secret}"),
            format!("sp_live_{tenant}{}_{secret}", "c".repeat(SIGNATURE_LEN + 1)),
        ] {
            assert_eq!(tenant_of(&bad), None, "{bad}");
        }
    }
}
