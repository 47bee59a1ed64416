//! The HTTP edge: routes, request validation, authentication and the error → HTTP mapping.
//!
//! Pure (tested natively): [`routes`], [`body`], [`calls`] (which calls answer a request, and
//! how replies merge), [`jobs`], [`reads`], [`queues`], [`keys`], [`workers`], [`organizations`],
//! [`views`] (the actors' typed replies rendered as Spooled's JSON, once, here) and [`error`]
//! (errors rendered as HTTP, in one place).
//! Runtime glue: [`handler`] (the Worker's request flow), [`auth`] (key verification with
//! an isolate cache, and per-key rate limits), [`failures`] (throttling failed
//! authentications) and [`catalog`] (which queues exist, so reads of others call no actor).

pub mod auth;
pub mod body;
pub mod calls;
pub mod catalog;
pub mod error;
pub mod failures;
pub mod handler;
pub mod jobs;
pub mod keys;
pub mod openapi;
pub mod organizations;
pub mod queues;
pub mod reads;
pub mod routes;
pub mod views;
pub mod webhook_views;
pub mod webhooks;
pub mod workers;
