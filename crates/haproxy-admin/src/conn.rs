//! Everything this crate asks of `haproxy-transport`, in one place:
//! one-shot commands, probes with a short timeout and no retry, sessions
//! for many commands, and reply classification.

use crate::{Error, Result};
use haproxy_proto::command::Command;
use haproxy_transport::{
    Client, Endpoint, Limiter, ReplyLimits, Retry, RetryPolicy, Session, Timeouts,
    DEFAULT_MAX_CONNECTIONS,
};
use std::time::Duration;

/// Connection settings shared by every process of a set.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    /// The discovery probe's timeout for every phase; `None`: the command
    /// timeouts.
    pub(crate) probe_timeout: Option<Duration>,
    /// Whether the user asked for best effort: proceed without processes
    /// that could not be reached, and say which.
    pub(crate) allow_partial: bool,
    /// One bound on connections per socket for every client of the set.
    pub(crate) limiter: Limiter,
    /// How large a reply may grow (the discovery probe: at most
    /// [`PROBE_REPLY_LIMIT`]).
    pub(crate) limits: ReplyLimits,
}

/// The most a discovery probe (`show info`) reads before abandoning the
/// reply: HAProxy's `show info` is a few KiB, so a socket that sends more
/// is cut here, not at the limit of a dump.
pub const PROBE_REPLY_LIMIT: usize = 1 << 20;

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            probe_timeout: None,
            allow_partial: false,
            limiter: Limiter::new(DEFAULT_MAX_CONNECTIONS),
            limits: ReplyLimits::default(),
        }
    }
}

impl Settings {
    pub(crate) fn client(&self, endpoint: &Endpoint) -> Client {
        Client::new(endpoint.clone())
            .timeouts(self.timeouts)
            .retry(self.retry)
            .limiter(self.limiter.clone())
            .reply_limits(self.limits)
    }

    /// The reply limits of a probe: the set's, at most
    /// [`PROBE_REPLY_LIMIT`].
    fn probe_limits(&self) -> ReplyLimits {
        self.limits
            .with_dump(self.limits.dump.min(PROBE_REPLY_LIMIT))
            .with_other(self.limits.other.min(PROBE_REPLY_LIMIT))
    }

    /// A client for discovery probes: the probe timeout for every phase
    /// (by default the command timeouts), no retry, the probe's reply
    /// limit.
    pub(crate) fn probe_client(&self, endpoint: &Endpoint) -> Client {
        let t = self.probe_timeout.map_or(self.timeouts, Timeouts::uniform);
        Client::new(endpoint.clone())
            .timeouts(t)
            .retry(RetryPolicy::new(Retry::Never, Duration::ZERO))
            .limiter(self.limiter.clone())
            .reply_limits(self.probe_limits())
    }

    /// The client that identifies a process (`show info`): `quick`, a
    /// discovery probe ([`Settings::probe_client`]); otherwise the command
    /// settings. Either way with the probe's reply limit.
    pub(crate) fn identify_client(&self, endpoint: &Endpoint, quick: bool) -> Client {
        if quick {
            self.probe_client(endpoint)
        } else {
            self.client(endpoint).reply_limits(self.probe_limits())
        }
    }

    /// Sends `line` and returns the whole reply, unjudged.
    pub(crate) fn raw(&self, endpoint: &Endpoint, line: &str) -> Result<String> {
        Ok(self.client(endpoint).command(line)?)
    }

    /// Sends `line` with the probe settings.
    pub(crate) fn probe(&self, endpoint: &Endpoint, line: &str) -> Result<String> {
        Ok(self.probe_client(endpoint).command(line)?)
    }

    /// Sends `line` and judges the whole reply: HAProxy's error text
    /// becomes [`Error::CommandFailed`], verbatim. For fixed dumps whose
    /// parser reads the reply next (`show info`, `show stat`); a command
    /// built by the builder goes through [`Settings::send`].
    pub(crate) fn command(&self, endpoint: &Endpoint, line: &str) -> Result<String> {
        let reply = self.raw(endpoint, line)?;
        judge_text(endpoint, line, reply)
    }

    /// Sends `show stat` (or another CSV dump) and returns the reply. A
    /// reply that starts with the dump's header line (`# pxname,…`) is
    /// data, recognised by that header and handed whole to its parser
    /// (megabytes of records are not scanned for error messages, which a
    /// record cannot be); any other reply is judged as
    /// [`Settings::command`] judges it.
    ///
    /// The reply is read into `buf` (an earlier reply's buffer, or a new
    /// one).
    pub(crate) fn csv_dump(&self, endpoint: &Endpoint, line: &str, buf: Vec<u8>) -> Result<String> {
        let reply = self.client(endpoint).command_into(line, buf)?;
        judge_dump(endpoint, line, reply)
    }

    /// Sends a built command and judges the reply by recognition: success
    /// only when it is what the command's success looks like.
    pub(crate) fn send(&self, endpoint: &Endpoint, command: &Command) -> Result<String> {
        let client = self.client(endpoint);
        let reply = match command.payload() {
            Some(p) => client.command_with_payload(command.line(), p)?,
            None => client.command(command.line())?,
        };
        judge(endpoint, command, reply)
    }

    /// Opens a session (many commands over one connection).
    pub(crate) fn session(&self, endpoint: &Endpoint) -> Result<Conn> {
        Ok(Conn {
            endpoint: endpoint.clone(),
            session: self.client(endpoint).session()?,
        })
    }
}

/// Judges a reply to a built command by recognition
/// ([`Command::judge`]): anything but the command's success is
/// [`Error::CommandFailed`] with HAProxy's text.
pub(crate) fn judge(endpoint: &Endpoint, command: &Command, reply: String) -> Result<String> {
    match command.judge(&reply) {
        Ok(_) => Ok(reply),
        Err(failed) => Err(Error::CommandFailed {
            endpoint: endpoint.to_string(),
            command: command.line().to_owned(),
            message: failed.message,
        }),
    }
}

/// Judges a whole reply with `haproxy-proto`'s table of HAProxy's error
/// messages (text whose success shape is not declared).
pub(crate) fn judge_text(endpoint: &Endpoint, line: &str, reply: String) -> Result<String> {
    match haproxy_proto::reply::classify(&reply) {
        Ok(_) => Ok(reply),
        Err(failed) => Err(Error::CommandFailed {
            endpoint: endpoint.to_string(),
            command: line.to_owned(),
            message: failed.message,
        }),
    }
}

/// Judges the reply to a CSV dump (`show stat`): one that starts with the
/// dump's header line is data, handed on unscanned; any other is judged
/// as [`judge_text`] judges it. For [`Settings::csv_dump`] and the async
/// fetch alike.
pub(crate) fn judge_dump(endpoint: &Endpoint, line: &str, reply: String) -> Result<String> {
    if reply.starts_with("# ") {
        return Ok(reply);
    }
    judge_text(endpoint, line, reply)
}

/// An open session to one process.
pub(crate) struct Conn {
    endpoint: Endpoint,
    session: Session,
}

impl Conn {
    /// Sends a built command (with its payload, if any) over the session
    /// and judges the reply by recognition.
    pub(crate) fn send(&mut self, command: &Command) -> Result<String> {
        let reply = match command.payload() {
            Some(p) => self.session.command_with_payload(command.line(), p)?,
            None => self.session.command(command.line())?,
        };
        judge(&self.endpoint, command, reply)
    }

    /// Sends every command pipelined and judges each reply; the first
    /// failure (in command order) is the error, after every command was
    /// sent.
    pub(crate) fn pipeline(&mut self, commands: &[Command]) -> Result<Vec<String>> {
        let lines: Vec<&str> = commands.iter().map(Command::line).collect();
        let replies = self.session.pipeline(&lines)?;
        judge_pipelined(&self.endpoint, commands, replies)
    }
}

/// Judges pipelined replies, each by its command. Every command was sent
/// whatever the others' fate, so every refusal is reported
/// ([`Error::BatchFailed`], with how many were applied); a single
/// command's refusal is its [`Error::CommandFailed`].
pub(crate) fn judge_pipelined(
    endpoint: &Endpoint,
    commands: &[Command],
    replies: Vec<String>,
) -> Result<Vec<String>> {
    let mut judged = Vec::with_capacity(replies.len());
    let mut refused = Vec::new();
    for (command, reply) in commands.iter().zip(replies) {
        if reply.trim() == "Permission denied" {
            return Err(haproxy_transport::Error::LevelTooLow {
                endpoint: endpoint.clone(),
                command: command.line().to_owned(),
                message: reply.trim().to_owned(),
            }
            .into());
        }
        match judge(endpoint, command, reply) {
            Ok(r) => judged.push(r),
            // Every refusal is kept, not only the first: the batch went on.
            Err(Error::CommandFailed {
                command, message, ..
            }) if commands.len() > 1 => refused.push((command, message)),
            Err(e) => return Err(e),
        }
    }
    if refused.is_empty() {
        Ok(judged)
    } else {
        Err(Error::BatchFailed {
            endpoint: endpoint.to_string(),
            sent: commands.len(),
            failures: refused,
        })
    }
}
