//! The crate's one error type. Every error names the process or endpoint
//! it concerns, and HAProxy's own text is kept verbatim.

use crate::process::ProcessId;
use std::fmt;
use std::path::{Path, PathBuf};

/// Every error of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the pure layer without a process to name: a command
    /// argument the builder refused.
    #[error(transparent)]
    Proto(Box<haproxy_proto::Error>),
    /// Talking to an endpoint failed (the transport error names the
    /// endpoint and the phase).
    #[error(transparent)]
    Transport(#[from] haproxy_transport::Error),
    /// A reply from `endpoint` could not be parsed.
    #[error("{endpoint}: reply to `{command}` could not be read: {source}")]
    Parse {
        /// The endpoint that sent the reply.
        endpoint: String,
        /// The command sent.
        command: String,
        /// Where and why parsing failed.
        source: Box<haproxy_proto::ParseError>,
    },
    /// HAProxy at `endpoint` refused `command`; `message` is its reply,
    /// verbatim.
    #[error("{endpoint}: `{command}` failed: {}", .message.trim_end())]
    CommandFailed {
        /// The endpoint that answered.
        endpoint: String,
        /// The command sent.
        command: String,
        /// HAProxy's reply, verbatim.
        message: String,
    },
    /// Commands of a batch that HAProxy at `endpoint` refused — every one,
    /// in order — the others of the batch having been applied there.
    #[error("{endpoint}: {}", DisplayBatch { sent: *sent, failures })]
    BatchFailed {
        /// The endpoint that answered.
        endpoint: String,
        /// How many commands the batch sent.
        sent: usize,
        /// Each refused command and HAProxy's reply to it, verbatim.
        failures: Vec<(String, String)>,
    },
    /// A single value was asked for but the processes disagree on it.
    #[error("processes disagree on {what}: {}", DisplayValues(.values))]
    InconsistentData {
        /// What was asked for (e.g. `weight of be_app/app1`).
        what: String,
        /// Every process's value, `None` where it has none.
        values: Vec<(ProcessId, Option<String>)>,
    },
    /// A field holds a value of another kind than asked for (text where a
    /// number was expected).
    #[error("{what}: expected a number, found {value:?}")]
    UnexpectedValue {
        /// The field asked for.
        what: String,
        /// What it holds.
        value: String,
    },
    /// No object of this kind and name exists in any process.
    #[error("no {kind} named `{name}`")]
    NotFound {
        /// What was looked for (`frontend`, `backend`, `server`, `map`…).
        kind: &'static str,
        /// The name looked for.
        name: String,
    },
    /// The field or metric is not reported by the HAProxy versions in use.
    #[error("no field `{name}` in {kind} (not reported by this HAProxy version)")]
    NoSuchField {
        /// What was asked (`show info`, `server`, …).
        kind: &'static str,
        /// The field name.
        name: String,
    },
    /// No live HAProxy socket was found in the directory.
    #[error("no live HAProxy socket in {}{}", .dir.display(), DisplaySkipped(.skipped))]
    NoLiveSocket {
        /// The directory scanned.
        dir: PathBuf,
        /// Every socket file tried, and why it was skipped.
        skipped: Vec<Skipped>,
    },
    /// The directory could not be read.
    #[error("cannot read socket directory {}: {source}", .dir.display())]
    ReadDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file-name pattern is not a valid glob.
    #[error("invalid socket pattern `{pattern}`: {message}")]
    Pattern {
        /// The pattern given.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// A map or ACL entry id (`0x…`) that does not name the same entry on
    /// every process: ids are HAProxy's per-process pointers, so a write
    /// by id would change one process's entry and fail on the others.
    /// Refused before anything is sent; address the entry by key.
    #[error(
        "entry id {id} is not the same entry on every process (ids are per process; {}): address the entry by its key",
        if .holders.is_empty() { "no process has it".to_owned() } else { format!("only {}", DisplayList(.holders)) }
    )]
    EntryIdNotShared {
        /// The id given.
        id: String,
        /// The processes that have an entry with that id, with its key.
        holders: Vec<String>,
    },
    /// A selection (name pattern, filter or sort key) could not be read.
    #[error("invalid selection `{input}`: {reason}")]
    Selection {
        /// What was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A sessions wait was undone: an object that was not taking new
    /// traffic when the wait began (drained, in maintenance, a disabled
    /// frontend) takes it again on a process, so the sessions it has left
    /// no longer say what the wait was for.
    #[error(
        "the wait on {object} was undone: it takes new traffic again on pid {} (status {status})",
        process.pid
    )]
    WaitUndone {
        /// The object (`be/s1`, or a frontend's name).
        object: String,
        /// A process on which it takes traffic again.
        process: ProcessId,
        /// Its status there now (`UP`, `OPEN`, …).
        status: String,
    },
    /// A process could not be read while waiting for a state (its
    /// sessions are unknown, so the wait cannot be called done).
    #[error("{endpoint}: could not be read while waiting: {reason}")]
    WaitUnreadable {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// An endpoint answered `show info` but is not HAProxy, or gave no
    /// `Pid` to identify the process.
    #[error("{endpoint}: not a HAProxy process ({reason})")]
    NotHAProxy {
        /// The endpoint.
        endpoint: String,
        /// What was missing, and the start of what it answered.
        reason: String,
    },
    /// No endpoint was given.
    #[error("no endpoint given")]
    NoEndpoints,
    /// After `replace_map` committed its version on every process, some
    /// process holds another version: someone else replaced the map at
    /// the same time, and the processes may hold different contents.
    /// Replace the map again once the other writer is done.
    #[error("map {map} diverged across processes after the commit (a concurrent replace?): {}; replace it again once the other writer is done", DisplayVersions(.diverged))]
    MapDiverged {
        /// The map.
        map: String,
        /// Every process whose current version is not the one committed
        /// there.
        diverged: Vec<MapVersion>,
    },
    /// Sockets that lead to a live process (it accepted, or could not be
    /// opened for a reason other than "nobody listens") did not answer:
    /// proceeding without them would report a fleet-wide result for part
    /// of the fleet. Build with [`crate::Builder::allow_partial`] to
    /// proceed with the others, each one then listed in
    /// [`crate::HAProxy::unreachable`].
    #[error("{} could not be reached (a busy process, stats maxconn full, out of file descriptors?): {}", DisplayCount(.unreachable.len(), "socket", "sockets"), DisplayList(.unreachable))]
    Unreachable {
        /// Every socket that did not answer, and why.
        unreachable: Vec<Unreachable>,
    },
    /// A worker thread of this crate panicked while doing `task` for
    /// `item`: a defect of this crate, not something the peer did.
    #[error("internal error: the {task} thread for {item} panicked")]
    WorkerPanicked {
        /// What the thread was doing (`probe`, `fetch`, `command`…).
        task: &'static str,
        /// What it was doing it for (an endpoint).
        item: String,
    },
    /// The socket given as a master CLI is not one: it does not know the
    /// master's `show proc` (e.g. a worker's stats socket).
    #[error("{endpoint}: not a master CLI socket (it does not know `show proc`; is it a worker's stats socket? use it with --socket instead); it answered {found:?}")]
    NotAMaster {
        /// The socket given.
        endpoint: String,
        /// The start of its reply.
        found: String,
    },
    /// A `set ssl cert` transaction is open on a process (someone else's
    /// update in progress, or one left behind): an update would be
    /// committed with it. Nothing was sent; finish or `abort ssl cert` it.
    #[error("{endpoint}: a certificate transaction is open for {transaction} (another update in progress, or one left behind: `abort ssl cert {transaction}` to drop it)")]
    CertBusy {
        /// The endpoint.
        endpoint: String,
        /// The file the open transaction is about (empty: unknown).
        transaction: String,
    },
    /// A stick-table write that HAProxy acknowledged but the read-back
    /// does not show (a value not set, an entry a connection still tracks
    /// left by a clear).
    #[error("{endpoint}: {what}")]
    TableNotApplied {
        /// The endpoint.
        endpoint: String,
        /// What the read-back found.
        what: String,
    },
    /// After a commit, a process does not serve the certificate sent.
    #[error("{endpoint}: serves SHA-1 {} after the commit, not {expected}", .found.as_deref().unwrap_or("(none)"))]
    CertNotServed {
        /// The endpoint.
        endpoint: String,
        /// The fingerprint of the certificate sent.
        expected: String,
        /// The fingerprint the process serves.
        found: Option<String>,
    },
    /// A certificate update did not complete on every process: what was
    /// committed (those processes serve the new certificate), what was
    /// aborted (they serve the old one), and why each failure.
    #[error("certificate {file} not updated on every process: {}{}{}", DisplayFailures(.failures, ""), if .committed.is_empty() { "; committed nowhere".to_owned() } else { format!("; committed (serving the new certificate) on {}", DisplayList(.committed)) }, if .aborted.is_empty() { String::new() } else { format!("; aborted (serving the old one) on {}", DisplayList(.aborted)) })]
    CertUpdate {
        /// The certificate file.
        file: String,
        /// The processes that committed the new certificate.
        committed: Vec<ProcessId>,
        /// The processes whose transaction was aborted.
        aborted: Vec<ProcessId>,
        /// What failed, per process.
        failures: Vec<ProcessFailure>,
    },
    /// Several processes were asked; some failed (the others succeeded
    /// and their changes stand).
    #[error("`{command}` failed on {} of {} processes: {}", .failures.len(), .failures.len() + .succeeded.len(), DisplayFailures(.failures, .command))]
    Partial {
        /// The command.
        command: String,
        /// The processes where it succeeded.
        succeeded: Vec<ProcessId>,
        /// The processes where it failed, and why.
        failures: Vec<ProcessFailure>,
    },
}

impl From<haproxy_proto::Error> for Error {
    fn from(e: haproxy_proto::Error) -> Error {
        Error::Proto(Box::new(e))
    }
}

impl From<haproxy_proto::ArgError> for Error {
    fn from(e: haproxy_proto::ArgError) -> Error {
        Error::Proto(Box::new(e.into()))
    }
}

/// A process whose current map version is not the one committed there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapVersion {
    /// The process.
    pub process: ProcessId,
    /// The endpoint used.
    pub endpoint: String,
    /// The version this replace committed there.
    pub committed: u64,
    /// The version current there now (`None`: the map is gone, or HAProxy
    /// lists no version).
    pub current: Option<u64>,
}

struct DisplayVersions<'a>(&'a [MapVersion]);

impl fmt::Display for DisplayVersions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(
                f,
                "{} committed version {} but holds ",
                v.endpoint, v.committed
            )?;
            match v.current {
                Some(c) => write!(f, "version {c}")?,
                None => f.write_str("no version")?,
            }
        }
        Ok(())
    }
}

/// One process that failed, and why.
#[derive(Debug)]
pub struct ProcessFailure {
    /// The process.
    pub process: ProcessId,
    /// The endpoint used.
    pub endpoint: String,
    /// What went wrong.
    pub error: Box<Error>,
}

impl ProcessFailure {
    /// Why it failed, without the command when it is `sent` (which the
    /// caller names once): HAProxy's own text for a refused command (with
    /// the command, when it is one of a batch), the error otherwise.
    fn reason(&self, sent: &str) -> String {
        match &*self.error {
            Error::CommandFailed {
                message, command, ..
            } if command == sent => {
                format!("HAProxy said: {}", message.trim_end())
            }
            Error::CommandFailed {
                message, command, ..
            } => {
                format!("`{command}`: HAProxy said: {}", message.trim_end())
            }
            Error::BatchFailed { sent, failures, .. } => DisplayBatch {
                sent: *sent,
                failures,
            }
            .to_string(),
            e => e.to_string(),
        }
    }
}

/// Refused commands of a batch named in an error, at most this many; the
/// rest are counted.
const BATCH_FAILURES_NAMED: usize = 10;

/// `2 of 2003 commands failed, 2001 applied: `set weight be/x 1`: HAProxy
/// said: No such server.; …`
struct DisplayBatch<'a> {
    sent: usize,
    failures: &'a [(String, String)],
}

impl fmt::Display for DisplayBatch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        write!(
            f,
            "{n} of {} commands failed, {} applied: ",
            self.sent,
            self.sent.saturating_sub(n)
        )?;
        for (i, (command, message)) in self.failures.iter().take(BATCH_FAILURES_NAMED).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "`{command}`: HAProxy said: {}", message.trim_end())?;
        }
        if n > BATCH_FAILURES_NAMED {
            write!(f, "; and {} more", n - BATCH_FAILURES_NAMED)?;
        }
        Ok(())
    }
}

impl fmt::Display for ProcessFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.process,
            self.endpoint,
            self.reason("")
        )
    }
}

/// A socket that leads to a process which did not answer (timed out,
/// `stats maxconn` full, could not be opened), and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unreachable {
    /// The endpoint (for a socket directory, the socket file).
    pub endpoint: String,
    /// What happened, in words (the transport's error).
    pub reason: String,
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The transport's error already names the endpoint.
        if self.reason.starts_with(&self.endpoint) {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.endpoint, self.reason)
        }
    }
}

struct DisplayCount(usize, &'static str, &'static str);

impl fmt::Display for DisplayCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = if self.0 == 1 { self.1 } else { self.2 };
        write!(f, "{} {word}", self.0)
    }
}

struct DisplayList<'a, T>(&'a [T]);

impl<T: fmt::Display> fmt::Display for DisplayList<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, x) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{x}")?;
        }
        Ok(())
    }
}

/// A socket file discovery did not use, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// The socket file.
    pub path: PathBuf,
    /// Why it was skipped, in words (the transport's error, or what the
    /// reply lacked).
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// A value in an error message is cut to this many characters.
const VALUE_CHARS: usize = 64;
/// An error message lists at most this many processes' values.
const VALUE_PROCESSES: usize = 8;

/// Every process's value, one per process, each cut to [`VALUE_CHARS`]
/// characters, at most [`VALUE_PROCESSES`] processes: a disagreement on a
/// 15 MB field is still one short line.
struct DisplayValues<'a>(&'a [(ProcessId, Option<String>)]);

impl fmt::Display for DisplayValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (p, v)) in self.0.iter().take(VALUE_PROCESSES).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match v {
                Some(v) => write!(f, "{p}: {}", Bounded(v))?,
                None => write!(f, "{p}: (none)")?,
            }
        }
        if self.0.len() > VALUE_PROCESSES {
            write!(f, ", and {} more", self.0.len() - VALUE_PROCESSES)?;
        }
        Ok(())
    }
}

/// A value quoted and escaped as `{:?}` does, cut to [`VALUE_CHARS`]
/// characters with the full length said.
struct Bounded<'a>(&'a str);

impl fmt::Display for Bounded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(VALUE_CHARS) {
            None => write!(f, "{:?}", self.0),
            Some((cut, _)) => write!(f, "{:?}… ({} bytes)", &self.0[..cut], self.0.len()),
        }
    }
}

/// Skipped sockets named one by one up to this many; past it, grouped by
/// reason.
const SKIPPED_NAMED: usize = 8;

struct DisplaySkipped<'a>(&'a [Skipped]);

impl fmt::Display for DisplaySkipped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(" (no socket files)");
        }
        f.write_str(" (skipped: ")?;
        if self.0.len() <= SKIPPED_NAMED {
            for (i, s) in self.0.iter().enumerate() {
                if i > 0 {
                    f.write_str("; ")?;
                }
                write!(f, "{s}")?;
            }
            return f.write_str(")");
        }
        // Thousands of stale sockets make one line of hundreds of
        // kilobytes: each reason once, with a few of its paths and a count.
        let mut reasons: Vec<(&str, Vec<&Path>)> = Vec::new();
        for s in self.0 {
            match reasons.iter_mut().find(|(r, _)| *r == s.reason) {
                Some((_, paths)) => paths.push(&s.path),
                None => reasons.push((&s.reason, vec![&s.path])),
            }
        }
        for (i, (reason, paths)) in reasons.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(
                f,
                "{} socket{}: ",
                paths.len(),
                if paths.len() == 1 { "" } else { "s" }
            )?;
            for (j, p) in paths.iter().take(3).enumerate() {
                if j > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}", p.display())?;
            }
            if paths.len() > 3 {
                write!(f, " and {} more", paths.len() - 3)?;
            }
            write!(f, " ({reason})")?;
        }
        f.write_str(")")
    }
}

struct DisplayFailures<'a>(&'a [ProcessFailure], &'a str);

impl fmt::Display for DisplayFailures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The same reason everywhere (HAProxy's "Key not found." from every
        // process) is said once, with the list of processes.
        let sent = self.1;
        if let Some(first) = self.0.first() {
            let reason = first.reason(sent);
            if self.0.len() > 1 && self.0.iter().all(|p| p.reason(sent) == reason) {
                write!(f, "{reason} (")?;
                for (i, p) in self.0.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} via {}", p.process, p.endpoint)?;
                }
                return f.write_str(")");
            }
        }
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{} ({}): {}", p.process, p.endpoint, p.reason(sent))?;
        }
        Ok(())
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disagreement_prints_one_short_line() {
        let huge = "x".repeat(15 << 20);
        let values: Vec<(ProcessId, Option<String>)> = (0..20)
            .map(|i| (ProcessId::new(i, None, None), Some(huge.clone())))
            .collect();
        let e = Error::InconsistentData {
            what: "weight of be/s".into(),
            values,
        };
        let text = e.to_string();
        assert!(text.len() < 1200, "{} bytes", text.len());
        assert!(!text.contains('\n'));
        assert!(text.contains("(15728640 bytes)"), "{text}");
        assert!(text.ends_with("and 12 more"), "{text}");
        let short = Error::InconsistentData {
            what: "w".into(),
            values: vec![(ProcessId::new(1, None, None), Some("a\0b".into()))],
        };
        assert_eq!(
            short.to_string(),
            "processes disagree on w: pid 1: \"a\\0b\""
        );
    }
}
