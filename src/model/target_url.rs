//! TEMPORARY stand-in until the target-url branch lands (not committed).
use crate::model::ApiError;
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    pub allow_http_loopback: bool,
}
pub struct TargetUrl {
    pub url: String,
    pub host: String,
}
#[derive(Debug)]
pub struct UrlRefusal(String);
impl std::fmt::Display for UrlRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl From<UrlRefusal> for ApiError {
    fn from(r: UrlRefusal) -> ApiError {
        ApiError::validation("url", &format!("Invalid webhook URL: {r}"))
    }
}
pub fn check_target_url(text: &str, policy: UrlPolicy) -> Result<TargetUrl, UrlRefusal> {
    let ok = text.starts_with("https://") || (policy.allow_http_loopback && text.starts_with("http://127.0.0.1"));
    if ok {
        Ok(TargetUrl { url: text.to_owned(), host: String::new() })
    } else {
        Err(UrlRefusal("scheme".into()))
    }
}
