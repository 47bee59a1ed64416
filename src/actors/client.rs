//! How the Worker, and an actor calling another actor, send a command: one POST with a string
//! body straight through the stub's `fetch`, answered by the reply's text.
//!
//! Commands and replies are typed ([`QueueCommand`] and [`QueueReply`], [`TenantCommand`] and
//! [`TenantReply`]) and travel as serde_json text, the reply as the command's whole outcome
//! (`Result<QueueReply, ApiError>`): an error reaches the Worker as the typed value the actor
//! returned, and only `api::error` gives it an HTTP status. JSON keeps payloads and results raw
//! end to end (`serde_json::value::RawValue` works only with serde_json); docs/DECISIONS.md
//! compares it with a binary encoding.
//!
//! This skips the worker crate's `Request`/`Response` wrappers on purpose. Building them reads
//! the request's `cf` object, copies its headers, and streams the reply body into wasm chunk by
//! chunk; on a one-job enqueue that was a fifth of the isolate's CPU (docs/PERFORMANCE.md).
//! The bench's ceiling routes use this same call, so ceilings and workloads pay the same
//! transport.

use crate::delivery::protocol::{DeliveryCommand, DeliveryEnvelope, DeliveryReply};
use crate::model::wire::{from_json, to_json};
use crate::model::ApiError;
use crate::queue::protocol::{QueueCommand, QueueEnvelope, QueueReply};
use crate::tenant::protocol::{TenantCommand, TenantEnvelope, TenantReply};
use serde::de::DeserializeOwned;
use serde::Serialize;
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

/// Durable Object binding of the queue actors.
const QUEUE_BINDING: &str = "QUEUE";
/// Durable Object binding of the tenant actors.
const TENANT_BINDING: &str = "TENANT";

/// Sends one command to the actor of `queue` (of `tenant`) and returns its reply.
pub async fn call_queue(env: &Env, tenant: &str, queue: &str, command: QueueCommand) -> Result<QueueReply, ApiError> {
    let name = format!("{tenant}/{queue}");
    let envelope = QueueEnvelope { tenant: tenant.to_owned(), queue: queue.to_owned(), command };
    ask(env, QUEUE_BINDING, &name, &envelope).await
}

/// Durable Object binding of the delivery actors.
const DELIVERY_BINDING: &str = "DELIVERY";

/// Sends one command to the delivery actor of `tenant` and returns its reply.
pub async fn call_delivery(env: &Env, tenant: &str, command: DeliveryCommand) -> Result<DeliveryReply, ApiError> {
    ask(env, DELIVERY_BINDING, tenant, &DeliveryEnvelope { tenant: tenant.to_owned(), command }).await
}

/// Sends one command to the actor of `tenant` and returns its reply.
pub async fn call_tenant(env: &Env, tenant: &str, command: TenantCommand) -> Result<TenantReply, ApiError> {
    ask(env, TENANT_BINDING, tenant, &TenantEnvelope { tenant: tenant.to_owned(), command }).await
}

/// Sends `command` to an actor and decodes its outcome.
async fn ask<T: DeserializeOwned>(
    env: &Env,
    binding: &str,
    name: &str,
    command: &impl Serialize,
) -> Result<T, ApiError> {
    let (status, text) = post(env, binding, name, &to_json(command)?)
        .await
        .map_err(|e| ApiError::internal(format!("actor call failed: {e}")))?;
    if status != 200 {
        // The actor itself failed (it answers every outcome, errors included, with 200).
        return Err(ApiError::internal(format!("actor call failed with {status}: {text}")));
    }
    decode(&text)
}

/// An actor's answer to a command: its whole outcome, encoded for [`decode`].
pub fn encode<T: Serialize>(outcome: &Result<T, ApiError>) -> String {
    to_json(outcome).unwrap_or_else(|e| {
        to_json(&Err::<(), _>(e))
            .unwrap_or_else(|_| r#"{"Err":{"code":"INTERNAL_ERROR","message":"reply encoding failed"}}"#.to_owned())
    })
}

/// The outcome an actor [`encode`]d.
pub fn decode<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    from_json::<Result<T, ApiError>>(text, "actor reply")?
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
