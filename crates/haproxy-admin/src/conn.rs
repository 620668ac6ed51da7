//! Everything this crate asks of `haproxy-transport`, in one place:
//! one-shot commands, probes with a short timeout and no retry, sessions
//! for many commands, and reply classification.

use crate::{Error, Result};
use haproxy_transport::{Client, Endpoint, Retry, RetryPolicy, Session, Timeouts};
use std::time::Duration;

/// Connection settings shared by every process of a set.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    /// The discovery probe's timeout for every phase; `None`: the command
    /// timeouts.
    pub(crate) probe_timeout: Option<Duration>,
    /// Whether the user asked for best effort: proceed without processes
    /// that could not be reached, and say which.
    pub(crate) allow_partial: bool,
}

impl Settings {
    fn client(&self, endpoint: &Endpoint) -> Client {
        Client::new(endpoint.clone())
            .timeouts(self.timeouts)
            .retry(self.retry)
    }

    /// A client for discovery probes: the probe timeout for every phase
    /// (by default the command timeouts), no retry.
    fn probe_client(&self, endpoint: &Endpoint) -> Client {
        let t = self.probe_timeout.map_or(self.timeouts, Timeouts::uniform);
        Client::new(endpoint.clone())
            .timeouts(t)
            .retry(RetryPolicy::new(Retry::Never, Duration::ZERO))
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
    /// becomes [`Error::CommandFailed`], verbatim.
    pub(crate) fn command(&self, endpoint: &Endpoint, line: &str) -> Result<String> {
        let reply = self.raw(endpoint, line)?;
        judge(endpoint, line, reply)
    }

    /// Opens a session (many commands over one connection).
    pub(crate) fn session(&self, endpoint: &Endpoint) -> Result<Conn> {
        Ok(Conn {
            endpoint: endpoint.clone(),
            session: self.client(endpoint).session()?,
        })
    }
}

/// Judges a whole reply with `haproxy-proto`'s table of HAProxy's error
/// messages.
pub(crate) fn judge(endpoint: &Endpoint, line: &str, reply: String) -> Result<String> {
    match haproxy_proto::reply::classify(&reply) {
        Ok(_) => Ok(reply),
        Err(failed) => Err(Error::CommandFailed {
            endpoint: endpoint.to_string(),
            command: line.to_owned(),
            message: failed.message,
        }),
    }
}

/// An open session to one process.
pub(crate) struct Conn {
    endpoint: Endpoint,
    session: Session,
}

impl Conn {
    /// Sends `line` over the session and judges the reply.
    pub(crate) fn command(&mut self, line: &str) -> Result<String> {
        let reply = self.session.command(line)?;
        judge(&self.endpoint, line, reply)
    }

    /// Sends every line pipelined and judges each reply; the first
    /// failure (in command order) is the error, after every command was
    /// sent.
    pub(crate) fn pipeline(&mut self, lines: &[String]) -> Result<Vec<String>> {
        let replies = self.session.pipeline(lines)?;
        lines
            .iter()
            .zip(replies)
            .map(|(line, reply)| {
                if reply.trim() == "Permission denied" {
                    return Err(haproxy_transport::Error::LevelTooLow {
                        endpoint: self.endpoint.clone(),
                        command: line.clone(),
                        message: reply.trim().to_owned(),
                    }
                    .into());
                }
                judge(&self.endpoint, line, reply)
            })
            .collect()
    }

    /// Sends `line` followed by `payload` and judges the reply.
    pub(crate) fn command_with_payload(&mut self, line: &str, payload: &str) -> Result<String> {
        let reply = self.session.command_with_payload(line, payload)?;
        judge(&self.endpoint, line, reply)
    }
}
