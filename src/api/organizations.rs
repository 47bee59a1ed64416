//! Bootstrapping a tenant: `POST /api/v1/organizations`, guarded by the admin key.

use super::body::{parse_json, required_name};
use crate::model::{ApiError, Entropy, ErrorKind};
use crate::tenant::key_store::NewKey;
use crate::tenant::keys::{mint_key, new_key_id, new_tenant_id};
use crate::tenant::protocol::{TenantCommand, TenantEnvelope};
use crate::tenant::signing::KeySigning;
use crate::tenant::store::NewOrganization;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Name of the first key of every organization.
pub const FIRST_KEY_NAME: &str = "default";

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub(crate) struct OrganizationBody {
    #[cfg_attr(feature = "openapi", schemars(with = "String", length(min = 1, max = crate::model::spec::MAX_NAME_LEN)))]
    name: Option<String>,
    /// Default: derived from `name`.
    #[cfg_attr(feature = "openapi", schemars(pattern("^[a-z0-9-]{1,64}$")))]
    slug: Option<String>,
}

/// A tenant ready to be created: the command for its actor and the raw key to hand out.
pub struct NewTenant {
    /// What the tenant actor stores.
    pub envelope: TenantEnvelope,
    /// The raw API key, returned once in the 201 response and never stored.
    pub raw_key: String,
}

/// Checks the `X-Admin-Key` header against the configured secret in constant time. Admin
/// routes refuse outright when no admin key is configured.
pub fn check_admin_key(configured: Option<&str>, presented: Option<&str>) -> Result<(), ApiError> {
    let configured = configured
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::new(ErrorKind::AccessDenied, "admin routes are disabled: ADMIN_KEY is not set"))?;
    // Hashing both sides first makes the comparison constant-time regardless of length.
    let matches =
        presented.is_some_and(|p| Sha256::digest(p.as_bytes()).ct_eq(&Sha256::digest(configured.as_bytes())).into());
    if matches {
        Ok(())
    } else {
        Err(ApiError::new(ErrorKind::Unauthorized, "missing or invalid X-Admin-Key"))
    }
}

/// Validates the request and mints the tenant id and first key (signed by `signing`).
pub fn prepare(body: &[u8], signing: &KeySigning, entropy: &mut dyn Entropy) -> Result<NewTenant, ApiError> {
    let b: OrganizationBody = parse_json(body)?;
    let name = required_name(b.name)?;
    let slug = match b.slug {
        Some(slug) => check_slug(slug)?,
        None => check_slug(slugify(&name)).unwrap_or_else(|_| "org".to_owned()),
    };
    let tenant = new_tenant_id(entropy);
    let key = mint_key(&tenant, signing, entropy);
    Ok(NewTenant {
        envelope: TenantEnvelope {
            tenant: tenant.clone(),
            command: TenantCommand::CreateOrganization {
                organization: NewOrganization { id: tenant, name, slug },
                key: NewKey {
                    id: new_key_id(entropy),
                    name: FIRST_KEY_NAME.to_owned(),
                    hash: key.hash,
                    prefix: key.prefix,
                    ..NewKey::default()
                },
            },
        },
        raw_key: key.raw,
    })
}

fn check_slug(slug: String) -> Result<String, ApiError> {
    let ok = (1..=64).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(slug)
    } else {
        Err(ApiError::validation("slug", "must be 1-64 characters of a-z 0-9 -"))
    }
}

fn slugify(name: &str) -> String {
    let dashed: String =
        name.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    dashed.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-").chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OsEntropy;

    #[test]
    fn admin_key_must_be_configured_and_match() {
        assert_eq!(check_admin_key(None, Some("x")).unwrap_err().kind, ErrorKind::AccessDenied);
        assert_eq!(check_admin_key(Some(""), Some("")).unwrap_err().kind, ErrorKind::AccessDenied);
        assert_eq!(check_admin_key(Some("k"), None).unwrap_err().kind, ErrorKind::Unauthorized);
        assert_eq!(check_admin_key(Some("k"), Some("kk")).unwrap_err().kind, ErrorKind::Unauthorized);
        assert!(check_admin_key(Some("k"), Some("k")).is_ok());
    }

    #[test]
    fn slug_is_derived_from_the_name() {
        assert_eq!(slugify("Acme, Inc."), "acme-inc");
        let t = prepare(br#"{"name":"Acme, Inc."}"#, &KeySigning::default(), &mut OsEntropy).unwrap();
        let TenantCommand::CreateOrganization { organization, key } = t.envelope.command else { panic!() };
        assert_eq!(organization.slug, "acme-inc");
        assert!(t.raw_key.starts_with("sp_live_"));
        assert_ne!(key.hash, t.raw_key);
    }

    #[test]
    fn names_and_slugs_are_validated() {
        assert!(prepare(br#"{"name":""}"#, &KeySigning::default(), &mut OsEntropy).is_err());
        assert!(prepare(br#"{"name":"a","slug":"Bad Slug"}"#, &KeySigning::default(), &mut OsEntropy).is_err());
    }
}
