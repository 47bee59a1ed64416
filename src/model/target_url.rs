//! Where a webhook may send: the URL rules for outgoing webhook and completion webhook targets,
//! checked at create, update and before every attempt.
//!
//! Production accepts only `https` to a public host: no userinfo, no IP literal of a private,
//! loopback, link-local, CGNAT, documentation, benchmarking, multicast, reserved or metadata
//! range (IPv4, IPv6, and IPv4 inside IPv6), no name that only resolves inside a network
//! (`localhost`, `.local`, `.internal`, single labels such as `redis`…). IPv4 written in any
//! form but dotted decimal (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) is refused outright:
//! resolvers read those forms differently, and no real receiver needs them. Names are not
//! resolved here: the Worker's fetch resolves them on Cloudflare's network, which does not route
//! to private addresses, and redirects are never followed. Local development may allow `http`
//! to loopback ([`UrlPolicy::allow_http_loopback`]). Parsed by hand: the `url` crate would bring
//! IDNA tables into the wasm, so non-ASCII hosts are refused (write them as `xn--` punycode).

use crate::model::ApiError;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest target URL.
pub const MAX_URL_LEN: usize = 2048;

/// What the deployment allows besides `https` to public hosts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// `http` to loopback (`localhost`, `127.0.0.0/8`, `[::1]`): local development only.
    pub allow_http_loopback: bool,
}

/// An accepted target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetUrl {
    /// The URL to fetch: scheme and host lowercased, a host's trailing dot dropped.
    pub url: String,
    /// Its host, lowercased (IPv6 without brackets).
    pub host: String,
}

/// Why a target is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlRefusal {
    /// Longer than [`MAX_URL_LEN`].
    TooLong,
    /// Not `scheme://host…`, or it holds whitespace or control characters.
    NotAUrl,
    /// A scheme other than `https` (or `http` to loopback where allowed).
    Scheme(String),
    /// `user:password@` in the authority.
    Userinfo,
    /// A port that is not 1–65535.
    Port,
    /// A host that only resolves inside a network, or is not plain ASCII.
    BlockedHost(String),
    /// An IP literal in a range that is not the public internet.
    BlockedAddress(&'static str),
}

impl fmt::Display for UrlRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlRefusal::TooLong => write!(f, "longer than {MAX_URL_LEN} characters"),
            UrlRefusal::NotAUrl => f.write_str("not an absolute URL (scheme://host/…) without spaces"),
            UrlRefusal::Scheme(scheme) => write!(f, "scheme `{scheme}` is not allowed; use https"),
            UrlRefusal::Userinfo => f.write_str("credentials in the URL (user@host) are not allowed"),
            UrlRefusal::Port => f.write_str("the port must be 1-65535"),
            UrlRefusal::BlockedHost(why) => write!(f, "the host {why}"),
            UrlRefusal::BlockedAddress(range) => write!(f, "the address is in a non-public range ({range})"),
        }
    }
}

impl From<UrlRefusal> for ApiError {
    fn from(refusal: UrlRefusal) -> ApiError {
        ApiError::validation("url", &format!("Invalid webhook URL: {refusal}"))
    }
}

/// Name suffixes that only resolve inside a network.
const INTERNAL_SUFFIXES: [&str; 10] = [
    ".localhost",
    ".local",
    ".internal",
    ".localdomain",
    ".home.arpa",
    ".lan",
    ".intranet",
    ".corp",
    ".svc",
    ".cluster.local",
];

/// Checks `text` against the URL rules under `policy`.
pub fn check_target_url(text: &str, policy: UrlPolicy) -> Result<TargetUrl, UrlRefusal> {
    if text.len() > MAX_URL_LEN {
        return Err(UrlRefusal::TooLong);
    }
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlRefusal::NotAUrl);
    }
    let (scheme, rest) = text.split_once("://").ok_or(UrlRefusal::NotAUrl)?;
    let scheme = scheme.to_ascii_lowercase();
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err(UrlRefusal::Userinfo);
    }
    let (host, port) = split_port(authority)?;
    if host.is_empty() {
        return Err(UrlRefusal::NotAUrl);
    }
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host).to_owned();
    let loopback = classify(&host)?;
    match (scheme.as_str(), loopback) {
        ("https", false) => {}
        ("http" | "https", true) if policy.allow_http_loopback => {}
        (_, true) => return Err(UrlRefusal::BlockedHost("is loopback".into())),
        (other, false) => return Err(UrlRefusal::Scheme(other.to_owned())),
    }
    let shown = if host.contains(':') { format!("[{host}]") } else { host.clone() };
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    Ok(TargetUrl { url: format!("{scheme}://{shown}{port}{tail}"), host })
}

/// The host (brackets removed from IPv6) and the port, if any.
fn split_port(authority: &str) -> Result<(&str, Option<u16>), UrlRefusal> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (host, after) = inner.split_once(']').ok_or(UrlRefusal::NotAUrl)?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or(UrlRefusal::NotAUrl)?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok().filter(|&p| p > 0).ok_or(UrlRefusal::Port)?)
        }
        Some(_) => return Err(UrlRefusal::Port),
    };
    Ok((host, port))
}

/// Whether `host` is loopback (allowed only by the development policy); refuses hosts that are
/// never allowed.
fn classify(host: &str) -> Result<bool, UrlRefusal> {
    if host.contains(':') {
        let ip: Ipv6Addr = host.parse().map_err(|_| UrlRefusal::NotAUrl)?;
        return check_v6(ip);
    }
    if !host.is_ascii() {
        return Err(UrlRefusal::BlockedHost("is not ASCII (write it as xn-- punycode)".into()));
    }
    if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') || host.split('.').any(str::is_empty)
    {
        return Err(UrlRefusal::NotAUrl);
    }
    let last = host.rsplit('.').next().unwrap_or(host);
    if last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x") {
        // Numeric: dotted decimal only, four parts without leading zeros.
        let ip: Ipv4Addr = host
            .parse()
            .map_err(|_| UrlRefusal::BlockedHost("is an IPv4 address in a form other than dotted decimal".into()))?;
        return check_v4(ip);
    }
    if host == "localhost" {
        return Ok(true);
    }
    if let Some(suffix) = INTERNAL_SUFFIXES.iter().find(|s| host.ends_with(*s)) {
        return Err(UrlRefusal::BlockedHost(format!("ends with `{suffix}`, an internal name")));
    }
    if !host.contains('.') {
        return Err(UrlRefusal::BlockedHost("is a single label, an internal name".into()));
    }
    Ok(false)
}

/// Loopback → `Ok(true)`; other non-public ranges refused.
fn check_v4(ip: Ipv4Addr) -> Result<bool, UrlRefusal> {
    let [a, b, c, _] = ip.octets();
    let range = match (a, b, c) {
        (127, _, _) => return Ok(true),
        (0, _, _) => "0.0.0.0/8",
        (10, _, _) => "10.0.0.0/8",
        (100, 64..=127, _) => "100.64.0.0/10 (CGNAT)",
        (169, 254, _) => "169.254.0.0/16 (link-local, metadata)",
        (172, 16..=31, _) => "172.16.0.0/12",
        (192, 0, 0) => "192.0.0.0/24",
        (192, 0, 2) => "192.0.2.0/24 (documentation)",
        (192, 168, _) => "192.168.0.0/16",
        (198, 18..=19, _) => "198.18.0.0/15 (benchmarking)",
        (198, 51, 100) => "198.51.100.0/24 (documentation)",
        (203, 0, 113) => "203.0.113.0/24 (documentation)",
        (224..=239, _, _) => "224.0.0.0/4 (multicast)",
        (240..=255, _, _) => "240.0.0.0/4 (reserved)",
        _ => return Ok(false),
    };
    Err(UrlRefusal::BlockedAddress(range))
}

/// Loopback → `Ok(true)`; other non-public ranges (and blocked IPv4 inside IPv6) refused.
fn check_v6(ip: Ipv6Addr) -> Result<bool, UrlRefusal> {
    let s = ip.segments();
    if ip.is_loopback() {
        return Ok(true);
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return check_v4(v4);
    }
    let embedded = |v4: Ipv4Addr| check_v4(v4).and(Err(UrlRefusal::BlockedAddress("IPv4-compatible ::/96")));
    let range = match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => "::",
        [0, 0, 0, 0, 0, 0, _, _] => return embedded(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32)),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => {
            return check_v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32)).map(|_| false)
        }
        [a, ..] if a & 0xfe00 == 0xfc00 => "fc00::/7 (unique local)",
        [a, ..] if a & 0xffc0 == 0xfe80 => "fe80::/10 (link-local)",
        [a, ..] if a & 0xff00 == 0xff00 => "ff00::/8 (multicast)",
        [0x2001, 0xdb8, ..] => "2001:db8::/32 (documentation)",
        _ => return Ok(false),
    };
    Err(UrlRefusal::BlockedAddress(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: UrlPolicy = UrlPolicy { allow_http_loopback: false };
    const DEV: UrlPolicy = UrlPolicy { allow_http_loopback: true };

    fn refused(url: &str, policy: UrlPolicy) -> UrlRefusal {
        check_target_url(url, policy).expect_err(url)
    }

    #[test]
    fn public_https_targets_are_accepted_and_normalised() {
        let t = check_target_url("HTTPS://Example.COM:443/path?q=1#frag", PROD).unwrap();
        assert_eq!(t.url, "https://example.com:443/path?q=1#frag");
        assert_eq!(t.host, "example.com");
        assert_eq!(check_target_url("https://example.com./x", PROD).unwrap().url, "https://example.com/x");
        for ok in [
            "https://hooks.example.com",
            "https://8.8.8.8/hook",
            "https://[2606:4700::1111]/",
            // A public name whatever it resolves to: resolving is the runtime's concern.
            "https://127.0.0.1.nip.io/",
            "https://xn--bcher-kva.example/",
            "https://[64:ff9b::808:808]/",
        ] {
            assert!(check_target_url(ok, PROD).is_ok(), "{ok}");
        }
    }

    #[test]
    fn only_https_and_no_credentials() {
        assert_eq!(refused("http://example.com/", PROD), UrlRefusal::Scheme("http".into()));
        assert_eq!(refused("ftp://example.com/", DEV), UrlRefusal::Scheme("ftp".into()));
        assert_eq!(refused("javascript://x.com", PROD), UrlRefusal::Scheme("javascript".into()));
        assert_eq!(refused("https://example.com@evil.com/", PROD), UrlRefusal::Userinfo);
        assert_eq!(refused("https://user:pw@example.com/", PROD), UrlRefusal::Userinfo);
        assert_eq!(refused("https://exa mple.com/", PROD), UrlRefusal::NotAUrl);
        assert_eq!(refused("example.com/hook", PROD), UrlRefusal::NotAUrl);
        assert_eq!(refused("https:///path", PROD), UrlRefusal::NotAUrl);
        assert_eq!(refused("https://example.com:0/", PROD), UrlRefusal::Port);
        assert_eq!(refused("https://example.com:70000/", PROD), UrlRefusal::Port);
        assert_eq!(refused("https://example.com:x/", PROD), UrlRefusal::Port);
        assert_eq!(refused(&format!("https://example.com/{}", "a".repeat(MAX_URL_LEN)), PROD), UrlRefusal::TooLong);
    }

    #[test]
    fn non_public_addresses_are_refused_in_every_spelling() {
        for url in [
            "https://10.0.0.1/",
            "https://100.64.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://172.16.5.4/",
            "https://192.168.1.1/",
            "https://0.0.0.0/",
            "https://198.18.0.1/",
            "https://203.0.113.9/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[ff02::1]/",
            "https://[2001:db8::1]/",
            "https://[::]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[::10.0.0.1]/",
            "https://[64:ff9b::a00:1]/",
        ] {
            assert!(matches!(refused(url, DEV), UrlRefusal::BlockedAddress(_)), "{url}");
        }
        for url in ["https://2130706433/", "https://0x7f.1/", "https://0177.0.0.1/", "https://127.1/", "https://10.1/"]
        {
            assert!(matches!(refused(url, DEV), UrlRefusal::BlockedHost(_)), "{url}");
        }
    }

    #[test]
    fn internal_names_are_refused() {
        for url in [
            "https://redis/",
            "https://metadata.google.internal/",
            "https://printer.local/",
            "https://api.svc/",
            "https://db.default.svc.cluster.local/",
            "https://router.home.arpa/",
            "https://app.localhost/",
            "https://bücher.example/",
        ] {
            assert!(matches!(refused(url, DEV), UrlRefusal::BlockedHost(_)), "{url}");
        }
    }

    #[test]
    fn loopback_only_over_the_development_switch() {
        for url in [
            "http://127.0.0.1:9000/hook",
            "http://localhost:9000/",
            "http://[::1]:9000/",
            "https://[::ffff:127.0.0.1]/",
        ] {
            assert!(matches!(refused(url, PROD), UrlRefusal::BlockedHost(_)), "{url}");
            assert!(check_target_url(url, DEV).is_ok(), "{url}");
        }
        assert_eq!(check_target_url("http://127.0.0.1:9000/hook", DEV).unwrap().url, "http://127.0.0.1:9000/hook");
    }

    #[test]
    fn a_refusal_is_a_validation_error_naming_the_url() {
        let error = ApiError::from(refused("https://10.0.0.1/", PROD));
        assert_eq!(error.kind, crate::model::ErrorKind::ValidationError);
        assert!(error.message.contains("Invalid webhook URL"), "{}", error.message);
    }
}
