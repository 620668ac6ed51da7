//! The transport's errors: typed by phase, each naming its endpoint.

use crate::endpoint::Endpoint;
use std::fmt;
use std::time::Duration;

/// The phase of a command in which something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Opening the connection.
    Connect,
    /// Sending the command.
    Write,
    /// Reading the reply.
    Read,
    /// Waiting for a free connection slot to the socket.
    Queue,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connect",
            Phase::Write => "write",
            Phase::Read => "read",
            Phase::Queue => "queue",
        })
    }
}

/// Every error of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An endpoint string could not be read.
    #[error("invalid endpoint {input:?}: {reason}")]
    InvalidEndpoint {
        /// The string given.
        input: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A command line that cannot be sent as one line (it holds CR, LF or
    /// NUL, or is empty).
    #[error("{endpoint}: refusing to send command {line:?}: {reason}")]
    InvalidCommand {
        /// Where it was to be sent.
        endpoint: Endpoint,
        /// The line.
        line: String,
        /// Why.
        reason: &'static str,
    },
    /// The socket file does not exist.
    #[error("{endpoint}: no such socket")]
    NoSuchSocket {
        /// The endpoint.
        endpoint: Endpoint,
    },
    /// The path exists but is not a socket.
    #[error("{endpoint}: not a socket")]
    NotASocket {
        /// The endpoint.
        endpoint: Endpoint,
    },
    /// The operating system refused access to the socket.
    #[error(
        "{endpoint}: permission denied by the operating system (check the socket's owner and mode)"
    )]
    PermissionDenied {
        /// The endpoint.
        endpoint: Endpoint,
    },
    /// Nothing listens there (a stale socket file, or a closed port).
    #[error("{endpoint}: connection refused (no HAProxy listening; stale socket file?)")]
    ConnectRefused {
        /// The endpoint.
        endpoint: Endpoint,
    },
    /// Any other failure to connect.
    #[error("{endpoint}: connect failed: {source}")]
    Connect {
        /// The endpoint.
        endpoint: Endpoint,
        /// The OS error.
        source: std::io::Error,
    },
    /// The command's deadline (or the tighter bound of its connect or
    /// queue step) passed; `phase` is where the command was then.
    #[error("{endpoint}: {phase} timed out after {after:?}")]
    Timeout {
        /// The endpoint.
        endpoint: Endpoint,
        /// Which phase.
        phase: Phase,
        /// The timeout that fired.
        after: Duration,
    },
    /// Sending failed.
    #[error("{endpoint}: write failed: {source}")]
    Write {
        /// The endpoint.
        endpoint: Endpoint,
        /// The OS error.
        source: std::io::Error,
    },
    /// Reading failed.
    #[error("{endpoint}: read failed: {source}")]
    Read {
        /// The endpoint.
        endpoint: Endpoint,
        /// The OS error.
        source: std::io::Error,
    },
    /// The connection closed before the reply was complete: what was
    /// received is not presented as a reply.
    #[error("{endpoint}: connection closed mid-reply after {received} bytes (reply cut short)")]
    ClosedMidReply {
        /// The endpoint.
        endpoint: Endpoint,
        /// Bytes received before the close.
        received: usize,
    },
    /// The reply is not UTF-8.
    #[error("{endpoint}: reply is not UTF-8 (first bad byte at offset {at})")]
    InvalidUtf8 {
        /// The endpoint.
        endpoint: Endpoint,
        /// Offset of the first invalid byte.
        at: usize,
    },
    /// The endpoint answered, but not as HAProxy's CLI does.
    #[error(
        "{endpoint}: not a HAProxy stats socket: expected `Name: HAProxy` (or a master's \
         `#<PID>` list), {}",
        answered(found)
    )]
    NotHAProxy {
        /// The endpoint.
        endpoint: Endpoint,
        /// The start of what it answered.
        found: String,
    },
    /// HAProxy answered `Permission denied`: the socket's `level` is
    /// below what the command needs.
    #[error("{endpoint}: HAProxy refused `{command}`: {message} (the socket's level is too low for this command; use an admin-level socket)")]
    LevelTooLow {
        /// The endpoint.
        endpoint: Endpoint,
        /// The command.
        command: String,
        /// HAProxy's text.
        message: String,
    },
    /// The master CLI has no process for the selector.
    #[error("{endpoint}: {message}")]
    NoSuchProcess {
        /// The endpoint.
        endpoint: Endpoint,
        /// The master's text.
        message: String,
    },
    /// Pipelined replies did not split into one per command.
    #[error("{endpoint}: replies out of step with the commands: {detail}")]
    Framing {
        /// The endpoint.
        endpoint: Endpoint,
        /// What was found.
        detail: String,
    },
    /// One payload line is longer than the CLI buffer can take.
    #[error("{endpoint}: payload line {line} is {len} bytes; the CLI buffer limit is {limit}")]
    PayloadTooLarge {
        /// The endpoint.
        endpoint: Endpoint,
        /// 0-based line index.
        line: usize,
        /// Its length.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The reply grew past the limit for its kind of command
    /// ([`crate::ReplyLimits`]); it was abandoned, not kept.
    #[error("{endpoint}: the reply to `{command}` passed {limit} bytes (the limit for this kind of command; see ReplyLimits) and was abandoned")]
    ReplyTooLarge {
        /// The endpoint.
        endpoint: Endpoint,
        /// The command.
        command: String,
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// Every attempt failed; the last error is kept.
    #[error("{endpoint}: gave up after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// The endpoint.
        endpoint: Endpoint,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<Error>,
    },
}

/// What a peer that is not HAProxy's CLI sent, for [`Error::NotHAProxy`].
fn answered(found: &str) -> String {
    if found.is_empty() {
        "got nothing (it closed without answering: an HTTP port, say)".to_owned()
    } else {
        format!("got {found:?}")
    }
}

impl Error {
    /// The endpoint the error is about (`None` for an endpoint string that
    /// could not be read).
    pub fn endpoint(&self) -> Option<&Endpoint> {
        match self {
            Error::InvalidEndpoint { .. } => None,
            Error::InvalidCommand { endpoint, .. }
            | Error::NoSuchSocket { endpoint }
            | Error::NotASocket { endpoint }
            | Error::PermissionDenied { endpoint }
            | Error::ConnectRefused { endpoint }
            | Error::Connect { endpoint, .. }
            | Error::Timeout { endpoint, .. }
            | Error::Write { endpoint, .. }
            | Error::Read { endpoint, .. }
            | Error::ClosedMidReply { endpoint, .. }
            | Error::InvalidUtf8 { endpoint, .. }
            | Error::NotHAProxy { endpoint, .. }
            | Error::LevelTooLow { endpoint, .. }
            | Error::NoSuchProcess { endpoint, .. }
            | Error::PayloadTooLarge { endpoint, .. }
            | Error::Framing { endpoint, .. }
            | Error::ReplyTooLarge { endpoint, .. }
            | Error::RetriesExhausted { endpoint, .. } => Some(endpoint),
        }
    }

    /// True for failures that happened before HAProxy could have read the
    /// command and that may pass — the only ones a retry may repeat. A
    /// socket path that does not exist is not one: it is reported at
    /// once (a restarting HAProxy leaves its socket file, refused until
    /// it listens again).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::ConnectRefused { .. }
                | Error::Connect { .. }
                | Error::Timeout {
                    phase: Phase::Connect | Phase::Queue,
                    ..
                }
        )
    }
}

impl Error {
    /// The transport's error for a framing failure at `endpoint`.
    pub(crate) fn from_frame(
        endpoint: &Endpoint,
        command: &str,
        e: crate::codec::FrameError,
    ) -> Error {
        use crate::codec::FrameError as F;
        let endpoint = endpoint.clone();
        match e {
            F::TooLarge { limit } => Error::ReplyTooLarge {
                endpoint,
                command: command.to_owned(),
                limit,
            },
            F::CutShort { received } => Error::ClosedMidReply { endpoint, received },
            F::NotHAProxy { found } => Error::NotHAProxy { endpoint, found },
            F::InvalidUtf8 { at } => Error::InvalidUtf8 { endpoint, at },
            F::NoSuchProcess { message } => Error::NoSuchProcess { endpoint, message },
            // FrameError is non-exhaustive for other crates, not this one.
        }
    }
}

/// This crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
impl std::str::FromStr for Endpoint {
    type Err = Error;

    /// A UNIX socket path (or `unix@PATH`), `ipv4@HOST:PORT`,
    /// `ipv6@[ADDR]:PORT`, `HOST:PORT`, each optionally followed by a
    /// master selector (`@1`, `@!PID`, `@master`).
    fn from_str(s: &str) -> Result<Endpoint> {
        crate::endpoint::parse(s).map_err(|e| Error::InvalidEndpoint {
            input: e.input,
            reason: e.reason,
        })
    }
}
