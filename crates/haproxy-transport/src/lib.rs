//! Endpoints, timeouts, retries and sessions for the HAProxy Runtime API.
//!
//! The only crate of the workspace that opens sockets. It moves bytes and
//! frames replies; it knows nothing of what the replies mean (CSV, maps…)
//! beyond what framing needs: the prompt, HAProxy's `Permission denied`,
//! and the master CLI's refusal of an unknown process.
//!
//! Files by job: [`policy`](Timeouts) (timeouts, retries, reply limits),
//! [`Limiter`] (connections per socket, owned by the client, shared by
//! its clones), `socket` (connect without a helper thread, I/O bounded
//! by the command's deadline), [`codec`] (the framing, pure and public),
//! [`Session`] and [`Client`].
//!
//! Every wait has a deadline: [`Timeouts::command`] bounds one whole
//! command — queue, connect, write and the full reply — so a peer that
//! trickles a byte at a time ends at the deadline like a silent one.
//! Every reply has a size bound ([`ReplyLimits`]):
//! [`Error::ReplyTooLarge`] past it.
//!
//! ```no_run
//! use haproxy_transport::{Client, Endpoint, Retry, RetryPolicy, Timeouts};
//! use std::time::Duration;
//!
//! # fn main() -> Result<(), haproxy_transport::Error> {
//! let endpoint: Endpoint = "/run/haproxy/admin.sock".parse()?;
//! let client = Client::new(endpoint)
//!     .timeouts(Timeouts::uniform(Duration::from_secs(2)))
//!     .retry(RetryPolicy::new(Retry::Times(3), Duration::from_millis(100)));
//! client.check_haproxy()?;
//! let info = client.command("show info")?;          // one connection
//! let mut session = client.session()?;              // many commands, one connection
//! for server in ["app1", "app2"] {
//!     session.command(&format!("get weight be_app/{server}"))?;
//! }
//! # let _ = info; Ok(()) }
//! ```
//!
//! # Async
//!
//! With the `tokio` feature (off by default), `asynch` has the same
//! client and session over `tokio::net` — the same codec, deadlines,
//! retry policy, reply limits and connection limiter; no thread per
//! command, cancel-safe as documented there.
//!
//! Lines are sent as given: build them with `haproxy-proto`'s command
//! builder, which escapes every argument. This crate still refuses a line
//! holding CR, LF or NUL (defence in depth).
#![deny(missing_docs)]

#[cfg(feature = "tokio")]
pub mod asynch;
mod client;
pub mod codec;
mod endpoint;
mod error;
mod exchange;
mod limiter;
mod policy;
mod session;
mod socket;

pub use client::Client;
pub use endpoint::{Endpoint, Family, Target};
pub use error::{Error, Phase, Result};
pub use limiter::Limiter;
pub use policy::{
    ReplyLimits, Retry, RetryPolicy, Timeouts, DEFAULT_MAX_CONNECTIONS, DEFAULT_PAYLOAD_LIMIT,
    PIPELINE_WINDOW,
};
pub use session::Session;

/// The README's snippets, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
