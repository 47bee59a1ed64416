//! The HTTP request a delivery makes: a POST with a deadline, redirects not followed (a
//! redirect could lead past the URL rules), and the start of the answer kept.

use crate::delivery::outbox::RESPONSE_EXCERPT;
use worker::js_sys::Promise;
use worker::wasm_bindgen::{prelude::*, JsCast};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys;

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
extern "C" {
    /// The runtime's global `fetch`.
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(url: &str, init: &web_sys::RequestInit) -> Result<Promise, JsValue>;
}

/// What a receiver answered.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The start of the body.
    pub excerpt: String,
}

/// POSTs `body` with `headers` to `url`, giving up after `timeout_ms` (answer included);
/// `Err` says why no answer came.
pub async fn post(url: &str, headers: &[(&str, String)], body: &str, timeout_ms: u32) -> Result<Answer, String> {
    send(url, headers, body, timeout_ms).await.map_err(|e| {
        let text =
            e.as_string().or_else(|| e.dyn_ref::<worker::js_sys::Error>().map(|error| String::from(error.message())));
        text.unwrap_or_else(|| "request failed".to_owned())
    })
}

async fn send(url: &str, headers: &[(&str, String)], body: &str, timeout_ms: u32) -> Result<Answer, JsValue> {
    let sent = web_sys::Headers::new()?;
    for (name, value) in headers {
        sent.set(name, value)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&sent);
    init.set_body(&JsValue::from_str(body));
    init.set_redirect(web_sys::RequestRedirect::Manual);
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(timeout_ms)));
    let reply: web_sys::Response = JsFuture::from(global_fetch(url, &init)?).await?.unchecked_into();
    let text = JsFuture::from(reply.text()?).await?.as_string().unwrap_or_default();
    Ok(Answer { status: reply.status(), excerpt: text.chars().take(RESPONSE_EXCERPT).collect() })
}
