//! Endpoints, timeouts, retries and sessions for the HAProxy Runtime API.
//!
//! The only crate of the workspace that opens sockets. It moves bytes and
//! frames replies; it knows nothing of what the replies mean (CSV, maps…)
//! beyond what framing needs: the prompt, HAProxy's `Permission denied`,
//! and the master CLI's refusal of an unknown process.
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
//! Lines are sent as given: build them with `haproxy-proto`'s command
//! builder, which escapes every argument. This crate still refuses a line
//! holding CR, LF or NUL (defence in depth).
#![deny(missing_docs)]

mod client;
mod endpoint;
mod error;

pub use client::{
    Client, Retry, RetryPolicy, Session, Timeouts, DEFAULT_MAX_CONNECTIONS, DEFAULT_PAYLOAD_LIMIT,
    PIPELINE_WINDOW,
};
pub use endpoint::{Endpoint, Family, Target};
pub use error::{Error, Phase, Result};

/// The README's snippets, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
