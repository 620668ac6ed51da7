//! Operate every HAProxy process of a host (or a fleet) through the Runtime
//! API: discovery, the multi-process model, aggregation, and frontends,
//! backends and servers as objects.
//!
//! This crate sits between the CLI and the two lower layers: it sends
//! command lines built by `haproxy-proto`'s builder over
//! `haproxy-transport`, and reads the replies with `haproxy-proto`'s
//! parsers. It is where several processes become one view.
//!
//! # Main types
//!
//! - [`HAProxy`]: the process set, built [`from_socket`](HAProxy::from_socket),
//!   [`from_dir`](HAProxy::from_dir) (live sockets only, probed concurrently,
//!   the rest [skipped](HAProxy::skipped) with a reason),
//!   [`from_dir_matching`](HAProxy::from_dir_matching),
//!   [`from_endpoints`](HAProxy::from_endpoints) or
//!   [`from_master`](HAProxy::from_master) (the workers of a master CLI), or
//!   through a [`Builder`] for timeouts, retry policy, probe timeout and
//!   [best effort](Builder::allow_partial). A socket that accepted but did
//!   not answer, whose `stats maxconn` was full or that could not be
//!   opened is a process that could not be reached: an
//!   [`Error::Unreachable`], or with best effort one listed in
//!   [`HAProxy::unreachable`]. A process reached by several sockets is
//!   counted once ([`ProcessId`]: PID, node and start time; the
//!   highest-level socket is used, the others kept as
//!   [alternates](Process::alternates)).
//! - [`Snapshot`]: one `show info` and one `show stat` per process, fetched
//!   concurrently and parsed in the fetch threads. [`Frontend`], [`Backend`]
//!   and [`Server`] are views over it: reads never go back to HAProxy and
//!   are consistent with each other. A process that fails makes the
//!   snapshot fail; with best effort it is listed in
//!   [`Snapshot::failures`] with its error, the others' data is kept, and
//!   [`Snapshot::missing`] and [`StatObject::processes`] say what the
//!   values lack.
//! - [`Combined`]: a field across processes, combined as the field table
//!   of `haproxy-proto` says ([`haproxy_proto::Combine`]: sum, average,
//!   max, min, must-agree, first). A must-agree field that differs is a
//!   [`Combined::Disagreement`] holding every process's value; asking for a
//!   single value of it gives [`Error::InconsistentData`]. Listings never
//!   fail because one object disagrees.
//! - [`StatObject`]: every `show stat` column of an object under HAProxy's
//!   name, combined, owned and serialisable.
//! - Writes go to every process that has the object, concurrently, each
//!   reply judged whole ([`Error::CommandFailed`] keeps HAProxy's text);
//!   [`Batch`] sends many over one session per process; maps and ACLs
//!   ([`MapRef`], [`EntryRef`]) including atomic replacement
//!   ([`HAProxy::replace_map`]).
//! - `asynch` (feature `tokio`): the same set, snapshots, writes,
//!   batches and maps from async code — tasks, not threads; the same
//!   types.
//! - [`prometheus`]: the Prometheus text exposition of snapshots, under
//!   the metric names of HAProxy's own exporter (promex).
//!
//! # Example
//!
//! ```no_run
//! use haproxy_admin::{HAProxy, State, Weight};
//!
//! # fn main() -> haproxy_admin::Result<()> {
//! let hap = HAProxy::from_dir("/run/haproxy")?;
//! for skipped in hap.skipped() {
//!     eprintln!("skipped {skipped}");
//! }
//! let snap = hap.snapshot()?;
//! println!("{} processes, version {}", snap.process_ids().len(), snap.version()?);
//! for server in snap.servers(Some("be_app")) {
//!     match server.weight() {
//!         Ok(w) => println!("{}/{}: weight {w:?}", server.backend(), server.name()),
//!         Err(e) => println!("{}/{}: {e}", server.backend(), server.name()),
//!     }
//! }
//! let app1 = snap.backend("be_app")?.server("app1")?;
//! app1.set_weight(Weight::Absolute(50))?;
//! app1.set_state(State::Drain)?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod aggregate;
#[cfg(feature = "tokio")]
pub mod asynch;
mod batch;
mod certs;
mod check;
mod conn;
mod error;
mod exchange;
mod fanout;
mod global;
mod haproxy;
mod maps;
mod objects;
mod process;
pub mod prometheus;
mod reports;
mod select;
mod servers;
mod snapshot;
mod table;
mod tables;
mod value;
mod views;

pub use aggregate::{combine, Combined, CombinedRef, Merge};
pub use batch::{Batch, Enable};
pub use certs::{Cert, CertUpdate};
pub use check::{
    entry_differences, snapshot_differences, Difference, MUST_AGREE_COLUMNS, MUST_AGREE_INFO,
};
pub use error::{Error, MapVersion, ProcessFailure, Result, Skipped, Unreachable};
pub use haproxy::{Builder, HAProxy, PerProcess, Source};
/// Commands, maps and ACLs and server states as `haproxy-proto`'s command
/// builder makes and takes them (one type each, nothing converted).
pub use haproxy_proto::command::{Command, EntryRef, Health, MapRef, ServerState as State};
/// Certificate files as `haproxy-proto` reads and checks them for
/// [`HAProxy::update_cert`].
pub use haproxy_proto::ssl::{KeyMatch, Pem, PemError};
/// What the views' accessors read (`Server::status`, `check_status`,
/// `addr`): `State` is the state set, `Status` the state read.
pub use haproxy_proto::value::{Addr, CheckStatus, Status};
pub use maps::{Entry, Lookup, MapInfo};
pub use objects::{ObjectKind, StatObject};
pub use process::{Process, ProcessId};
pub use reports::Text;
pub use select::{
    display_name, sessions_above, sort_objects, NamePattern, ObjectRef, Op, Predicate, Selection,
    SessionsLeft, SortKey,
};
pub use snapshot::{BorrowedObject, Snapshot};
pub use tables::{combine_entries, data_adds, CombinedEntry, TableEntry, TableInfo, TableValue};
pub use value::{Value, ValueRef};
pub use views::{Backend, Frontend, InvalidWeight, Server, Weight};

pub use conn::PROBE_REPLY_LIMIT;
/// The transport's error (what a socket did), as `haproxy-admin` wraps it.
pub use haproxy_transport::Error as TransportError;
pub use haproxy_transport::{Endpoint, Limiter, ReplyLimits, Retry, RetryPolicy, Timeouts};

/// The README's snippets, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The user guide (`docs/user-guide.md` in the repository), compiled as
/// doctests so that its snippets stay true. Only in `cargo test --doc`: the
/// guide is not part of the published crate.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/user-guide.md")]
pub struct UserGuideDoctests;
