//! How the Worker, and an actor calling another actor, send a command: one POST with a string
//! body straight through the stub's `fetch`, answered by the reply's status and text.
//!
//! This skips the worker crate's `Request`/`Response` wrappers on purpose. Building them reads
//! the request's `cf` object, copies its headers, and streams the reply body into wasm chunk by
//! chunk; on a one-job enqueue that was a fifth of the isolate's CPU (docs/PERFORMANCE.md).
//! The bench's ceiling routes use this same call, so ceilings and workloads pay the same
//! transport.

use worker::js_sys::{self, Promise, Reflect};
use worker::wasm_bindgen::{prelude::*, JsCast};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{web_sys, Env};

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
extern "C" {
    /// A Durable Object namespace binding, seen only for `getByName`.
    type Namespace;

    #[wasm_bindgen(method, catch, js_name = getByName)]
    fn get_by_name(this: &Namespace, name: &str) -> Result<Stub, JsValue>;

    /// A Durable Object stub, seen only for `fetch(url, init)`.
    type Stub;

    #[wasm_bindgen(method, catch)]
    fn fetch(this: &Stub, url: &str, init: &web_sys::RequestInit) -> Result<Promise, JsValue>;
}

/// Posts `body` to the actor called `name` in the Durable Object namespace `binding`; returns
/// the reply's status and body text, or what went wrong in the runtime.
pub async fn post(env: &Env, binding: &str, name: &str, body: &str) -> Result<(u16, String), String> {
    send(env, binding, name, body).await.map_err(|e| e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

async fn send(env: &Env, binding: &str, name: &str, body: &str) -> Result<(u16, String), JsValue> {
    let namespace: Namespace = Reflect::get(env, &JsValue::from_str(binding))?.unchecked_into();
    if namespace.is_undefined() {
        return Err(JsValue::from_str(&format!("no Durable Object binding `{binding}`")));
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let stub = namespace.get_by_name(name)?;
    let reply: web_sys::Response =
        JsFuture::from(stub.fetch("https://actor.internal/", &init)?).await?.unchecked_into();
    let bytes = js_sys::Uint8Array::new(&JsFuture::from(reply.array_buffer()?).await?).to_vec();
    let text = String::from_utf8(bytes).map_err(|_| JsValue::from_str("the actor's reply is not UTF-8"))?;
    Ok((reply.status(), text))
}

/// The body of a command [`post`]ed to an actor, on the actor's side. Both ends move bodies
/// as bytes: one copy into wasm, where a JS string is taken apart character by character.
pub async fn command_body(req: &mut worker::Request) -> worker::Result<String> {
    String::from_utf8(req.bytes().await?).map_err(|_| worker::Error::RustError("the command is not UTF-8".into()))
}
