//! The Worker's request flow: route, read the body, authenticate, validate, forward to the
//! right actor, and render the answer with the standard headers. It never touches job state.

use super::body::{split_url, Query, MAX_BODY_BYTES};
use super::calls::{self, Call, MAX_FAN_OUT};
use super::error::{render_error, retry_after, status};
use super::routes::{resolve, KeyRoute, Route, TenantRoute, WebhookRoute, WorkerRoute};
use super::views::{self, Answer, Scope};
use super::{auth, catalog, failures, jobs, keys, organizations, queues, reads, webhook_views, webhooks, workers};
use crate::actors::client::{call_delivery, call_queue, call_tenant};
use crate::model::{ApiError, EpochMs, ErrorKind, OsEntropy};
use crate::queue::protocol::{QueueCommand, QueueReply};
use crate::tenant::auth_throttle::Subject;
use crate::tenant::protocol::{TenantCommand, TenantReply};
use crate::tenant::Principal;
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{Request, Response, ResponseInit};
use worker::{js_sys, web_sys, Env};

/// Extra response headers gathered while serving (rate-limit headers).
type ExtraHeaders = Vec<(&'static str, String)>;

/// Serves one request (whose URL the entry already read: `url`); every outcome, including
/// internal failures, is a JSON response.
pub async fn handle(req: Request, url: &str, env: Env) -> Response {
    let request_id = request_id(&req);
    let mut extra = ExtraHeaders::new();
    let (status, body) = match serve(&req, url, &env, &mut extra).await {
        Ok(answer) => answer,
        Err(error) => {
            if error.kind == ErrorKind::InternalError {
                worker::console_error!("request {request_id} failed: {}", error.message);
            }
            extra.extend(retry_after(&error).map(|secs| ("Retry-After", secs)));
            render_error(&error)
        }
    };
    respond(status, body, &request_id, &extra)
}

async fn serve(req: &Request, url: &str, env: &Env, extra: &mut ExtraHeaders) -> Result<Answer, ApiError> {
    // The runtime hands over an already normalized absolute URL; splitting it here keeps the
    // `url` crate (and its IDNA tables) out of the wasm.
    let (path, query) = split_url(url);
    // The raw method: the worker crate maps methods it does not know (e.g. QUERY) to GET.
    let route = match resolve(&req.method(), path)? {
        Route::Health => return views::json(200, &views::HealthView::default()),
        Route::OpenApi => return Ok((200, super::openapi::DOCUMENT.to_owned())),
        Route::CreateOrganization => return create_organization(req, env, &read_body(req).await?).await,
        Route::Tenant(route) => route,
    };
    let body = read_body(req).await?;
    let now = crate::actors::now();
    let principal = auth::authenticate(req, env, now).await?;
    // Every request counts one up front, so a key past its limit is refused before any actor
    // is asked; a fan-out counts its other queues once it knows them (below).
    admit(&principal, env, 1, now, extra)?;
    let call = match route {
        TenantRoute::Keys(route) => return manage_keys(env, route, &body, &principal, now).await,
        TenantRoute::Workers(route) => return serve_workers(env, route, &body, &query, &principal, extra).await,
        TenantRoute::Webhooks(route) => return serve_webhooks(env, route, &body, &query, &principal).await,
        TenantRoute::Jobs(route) => jobs::build(route, &body, &principal, crate::actors::url_policy(env))?,
        TenantRoute::Reads(route) => reads::build(route, &query, &principal)?,
        TenantRoute::Queues(route) => queues::build(route, &body, &query, &principal)?,
    };
    let cursor = calls::cursor(&query)?;
    let tenant = &principal.tenant_id;
    // Where a fan-out over more queues than it may reach continues.
    let mut next_cursor = None;
    let (calls, merge) = match call {
        Call::Queue { queue, command } => {
            let reply = catalog::ask(env, tenant, &queue, command).await?;
            return views::queue_reply(&reply, Scope { tenant, queue: &queue });
        }
        Call::Many { calls, merge } => (calls, merge),
        Call::EveryQueue { command, merge } => {
            let width = auth::key_limit(&principal, env).map_or(MAX_FAN_OUT, |limit| limit.min(MAX_FAN_OUT));
            let list = TenantCommand::ListQueues(principal.scope(), cursor, width);
            let (queues, more) = catalog::page(env, tenant, list).await?;
            next_cursor = queues.last().filter(|_| more).cloned();
            let calls = queues.into_iter().map(|q| (q, command.clone())).collect();
            (calls, merge)
        }
    };
    merge.check_reach(calls.len())?;
    // One request per queue actor reached; the first was counted on admission.
    admit(&principal, env, (calls.len() as u32).saturating_sub(1), now, extra)?;
    let replies = futures::future::join_all(calls.into_iter().map(|(queue, command)| async move {
        let reply = catalog::ask(env, tenant, &queue, command).await;
        (queue, reply)
    }))
    .await;
    let merged = calls::merge(&merge, replies)?;
    if let Some(has_more) = merged.has_more {
        extra.push(("X-Has-More", has_more.to_string()));
    }
    extra.extend(next_cursor.map(|cursor| ("X-Next-Cursor", cursor)));
    Ok((200, merged.body))
}

/// Counts `cost` requests against the key's rate limit and sets the `X-RateLimit-*` headers
/// to the outcome: the 429 when the cost does not fit.
fn admit(principal: &Principal, env: &Env, cost: u32, now: EpochMs, extra: &mut ExtraHeaders) -> Result<(), ApiError> {
    let verdict = if cost == 0 { None } else { auth::admit(principal, env, cost, now) };
    let Some(verdict) = verdict else { return Ok(()) };
    extra.retain(|(name, _)| !name.starts_with("X-RateLimit-"));
    extra.extend(auth::rate_headers(&verdict, now));
    if verdict.allowed {
        Ok(())
    } else {
        Err(auth::refusal(&verdict, now))
    }
}

/// Outgoing webhook routes: the tenant's delivery actor keeps webhooks and deliveries.
async fn serve_webhooks(
    env: &Env,
    route: WebhookRoute,
    body: &[u8],
    query: &Query,
    principal: &Principal,
) -> Result<Answer, ApiError> {
    let created = route == WebhookRoute::Create;
    let policy = crate::actors::url_policy(env);
    let call = webhooks::build(route, body, query, principal, policy, &mut OsEntropy)?;
    let reply = call_delivery(env, &principal.tenant_id, call.command).await?;
    webhook_views::delivery_reply(&reply, &principal.tenant_id, call.new_secret.as_deref(), created)
}

/// Worker routes: the tenant actor keeps the registry; registration also reads the queue's
/// default lease, and deregistration releases the worker's leases in its queue.
async fn serve_workers(
    env: &Env,
    route: WorkerRoute,
    body: &[u8],
    query: &Query,
    principal: &Principal,
    extra: &mut ExtraHeaders,
) -> Result<Answer, ApiError> {
    let tenant = &principal.tenant_id;
    let command = workers::build(route, body, query, principal, &mut OsEntropy)?;
    // A key confined to some queues sees only those queues' workers.
    if let Some(id) = command.traits().worker.filter(|_| !principal.is_unscoped()) {
        let TenantReply::Worker(worker) =
            call_tenant(env, tenant, TenantCommand::GetWorker { id: id.to_owned() }).await?
        else {
            return Err(unexpected("worker"));
        };
        if !workers::visible(principal, &worker) {
            return Err(ApiError::not_found("worker"));
        }
    }
    match command {
        TenantCommand::RegisterWorker { worker } => {
            let queue = worker.queue_name.clone();
            let TenantReply::Worker(registered) =
                call_tenant(env, tenant, TenantCommand::RegisterWorker { worker }).await?
            else {
                return Err(unexpected("worker"));
            };
            let lease = match catalog::ask(env, tenant, &queue, QueueCommand::GetConfig).await {
                Ok(QueueReply::Config(settings)) => settings.default_lease_secs,
                // A queue not used yet has no settings: its workers get the default lease.
                Err(e) if e.kind == ErrorKind::NotFound => crate::model::spec::DEFAULT_LEASE_SECS,
                Err(e) => return Err(e),
                Ok(_) => return Err(unexpected("queue config")),
            };
            views::json(201, &views::RegisteredWorkerView::new(&registered, lease))
        }
        TenantCommand::DeregisterWorker { id } => {
            let TenantReply::Deregistered(queue) =
                call_tenant(env, tenant, TenantCommand::DeregisterWorker { id: id.clone() }).await?
            else {
                return Err(unexpected("deregistration"));
            };
            call_queue(env, tenant, &queue, QueueCommand::ReleaseWorker { worker_id: id }).await?;
            Ok((204, String::new()))
        }
        command @ TenantCommand::ListWorkers(..) => {
            // The tenant actor keeps to the key's queues and pages; the list is a bare array.
            let TenantReply::Workers(listed, has_more) = call_tenant(env, tenant, command).await? else {
                return Err(unexpected("worker list"));
            };
            extra.push(("X-Has-More", has_more.to_string()));
            views::tenant_reply(&TenantReply::Workers(listed, has_more))
        }
        command => views::tenant_reply(&call_tenant(env, tenant, command).await?),
    }
}

/// An actor answered with a reply of another kind than its command's: a bug in the protocol.
fn unexpected(what: &str) -> ApiError {
    ApiError::internal(format!("the actor did not answer with a {what}"))
}

/// Reads the body, refusing anything over [`MAX_BODY_BYTES`] before it is parsed: at once
/// when `Content-Length` says so, else as soon as the streamed bytes pass the limit (so a
/// huge chunked body is never buffered whole). A declared length is read in one piece: the
/// runtime delivers exactly that many bytes, and one copy into wasm is far cheaper than a
/// stream of chunks.
pub async fn read_body(req: &Request) -> Result<Vec<u8>, ApiError> {
    let too_large =
        || ApiError::new(ErrorKind::PayloadTooLarge, format!("request body is larger than {MAX_BODY_BYTES} bytes"));
    let unreadable = || ApiError::new(ErrorKind::BadRequest, "the request body could not be read");
    let declared = header(req, "Content-Length").and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    if req.body().is_none() {
        return Ok(Vec::new());
    }
    if declared.is_some() {
        let buffer = JsFuture::from(req.array_buffer().map_err(|_| unreadable())?).await.map_err(|_| unreadable())?;
        let body = js_sys::Uint8Array::new(&buffer);
        // Checked again in case a proxy in front framed the body otherwise than declared.
        return if body.length() as usize > MAX_BODY_BYTES { Err(too_large()) } else { Ok(body.to_vec()) };
    }
    use futures::StreamExt;
    // The worker crate's wrapper over the same JS request, for its byte stream.
    let mut stream = worker::Request::from(Clone::clone(req)).stream().map_err(|_| unreadable())?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| unreadable())?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A request header's value, if present.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

async fn create_organization(req: &Request, env: &Env, body: &[u8]) -> Result<Answer, ApiError> {
    let configured = crate::actors::var(env, "ADMIN_KEY");
    let presented = header(req, "X-Admin-Key");
    // Wrong admin keys count against the client's address like wrong API keys.
    let (address, now) = (failures::client_address(req), crate::actors::now());
    let client = [Subject::Address(&address)];
    failures::admit(env, &client, now)?;
    let checked = organizations::check_admin_key(configured.as_deref(), presented.as_deref());
    if checked.as_ref().is_err_and(|e| e.kind == ErrorKind::Unauthorized) && presented.is_some() {
        failures::failed(&client, now);
    }
    checked?;
    let tenant = organizations::prepare(body, &auth::signing(env), &mut OsEntropy)?;
    let TenantReply::Organization(created) = call_tenant(env, &tenant.envelope.tenant, tenant.envelope.command).await?
    else {
        return Err(unexpected("organization"));
    };
    views::json(201, &views::OrganizationView::new(&created, &tenant.raw_key))
}

async fn manage_keys(
    env: &Env,
    route: KeyRoute,
    body: &[u8],
    principal: &Principal,
    now: EpochMs,
) -> Result<Answer, ApiError> {
    let call = keys::build(route, body, principal, now, &auth::signing(env), &mut OsEntropy)?;
    let reply = call_tenant(env, &principal.tenant_id, call.command).await?;
    if let Some(key_id) = call.forget {
        auth::forget_key(&key_id);
    }
    match call.raw_key {
        // The one response that shows the raw key.
        Some(raw) => {
            let TenantReply::Key(key) = &reply else { return Err(unexpected("key")) };
            views::json(201, &views::KeyView::new(key, Some(&raw)))
        }
        None => views::tenant_reply(&reply),
    }
}

/// The client's `X-Request-Id` when it is sane, otherwise a fresh UUID.
fn request_id(req: &Request) -> String {
    header(req, "X-Request-Id")
        .filter(|id| {
            (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .unwrap_or_else(|| crate::model::ids::random_uuid(&mut OsEntropy))
}

/// The response: the JSON body (none for 204) with the standard and gathered headers.
fn respond(status_code: u16, body: String, request_id: &str, extra: &ExtraHeaders) -> Response {
    let built = web_sys::Headers::new().and_then(|headers| {
        for (name, value) in extra {
            headers.set(name, value)?;
        }
        headers.set("X-Request-Id", request_id)?;
        headers.set("X-API-Version", "1")?;
        let body = (status_code != 204).then_some(body);
        if body.is_some() {
            headers.set("Content-Type", "application/json")?;
        }
        let init = ResponseInit::new();
        init.set_status(status_code);
        init.set_headers(&headers);
        Response::new_with_opt_str_and_init(body.as_deref(), &init)
    });
    // Building a response from a string cannot fail in practice; if it does, say so plainly.
    built.unwrap_or_else(|_| {
        let init = ResponseInit::new();
        init.set_status(status(ErrorKind::InternalError));
        Response::new_with_opt_str_and_init(Some("internal error"), &init).unwrap_or_else(|_| Response::new().unwrap())
    })
}
