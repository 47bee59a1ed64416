//! The job model: pure rules and vocabulary shared by every layer.
//!
//! Nothing here touches the runtime: time arrives as epoch milliseconds and randomness through
//! the [`Entropy`] trait, so every rule compiles and is tested on the host.
//!
//! - [`status`]: the job states and their wire names.
//! - [`event`]: the names of the events transitions and other changes emit.
//! - [`spec`]: a validated enqueue request ([`JobSpec`]) and the limits it is checked against.
//! - [`ids`]: queue names, job ids (which encode their queue) and lease ids.
//! - [`lease`]: lease fencing and what a failed attempt leads to.
//! - [`retry`]: the exponential backoff curve.
//! - [`time`]: epoch milliseconds to and from RFC 3339.
//! - [`wire`]: serde helpers for request fields: integers written `30.0`, `null` vs absent.
//! - [`json_text`]: checks, minifying and digests over raw JSON text.
//! - [`mac`]: HMAC-SHA256 signatures and their hex form.
//! - [`error`]: the typed error every layer returns, rendered to HTTP in one place.

pub mod error;
pub mod event;
pub mod ids;
pub mod json_text;
pub mod lease;
pub mod mac;
pub mod retry;
pub mod spec;
pub mod status;
pub mod target_url;
pub mod time;
pub mod wire;

pub use error::{ApiError, ErrorKind};
pub use event::EventKind;
pub use ids::{Entropy, JobId, OsEntropy};
pub use retry::RetryPolicy;
pub use spec::{CompletionHook, JobSpec};
pub use status::JobStatus;
pub use time::EpochMs;
