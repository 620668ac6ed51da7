//! The client: one endpoint and its settings; one-shot commands, sessions,
//! retries.

use crate::codec::{self, OneShotDecoder};
use crate::endpoint::{Endpoint, Target};
use crate::error::{Error, Phase, Result};
use crate::exchange::{chunks, judge_level, judge_probe, message, probe_of};
use crate::limiter::{Limiter, Permit};
use crate::policy::{
    ReplyLimits, RetryPolicy, Timeouts, DEFAULT_MAX_CONNECTIONS, DEFAULT_PAYLOAD_LIMIT,
};
use crate::socket::{connect, Conn, Deadline};

/// How much is read at once.
const READ_CHUNK: usize = 64 * 1024;

/// A handle on one endpoint: sends one-shot commands and opens sessions.
/// Cheap to clone; holds no connection. Clones share the connection
/// [`Limiter`].
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) endpoint: Endpoint,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    pub(crate) limiter: Limiter,
    pub(crate) payload_limit: usize,
    pub(crate) limits: ReplyLimits,
}

impl Client {
    /// A client with default timeouts, retry policy and reply limits, and
    /// a limiter of its own ([`DEFAULT_MAX_CONNECTIONS`] per socket).
    pub fn new(endpoint: Endpoint) -> Client {
        Client {
            endpoint,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            limiter: Limiter::new(DEFAULT_MAX_CONNECTIONS),
            payload_limit: DEFAULT_PAYLOAD_LIMIT,
            limits: ReplyLimits::default(),
        }
    }

    /// Sets the timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Client {
        self.timeouts = timeouts;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Client {
        self.retry = retry;
        self
    }

    /// Sets the size limits of replies.
    pub fn reply_limits(mut self, limits: ReplyLimits) -> Client {
        self.limits = limits;
        self
    }

    /// Shares `limiter` (e.g. one for every client of a program, so that
    /// the bound per socket holds across them).
    pub fn limiter(mut self, limiter: Limiter) -> Client {
        self.limiter = limiter;
        self
    }

    /// Gives this client a limiter of its own with at most `n` connections
    /// (at least 1) per socket; more wait for a slot up to the queue
    /// timeout.
    pub fn max_connections(mut self, n: usize) -> Client {
        self.limiter = Limiter::new(n);
        self
    }

    /// Sets the size limit of one command line plus payload chunk
    /// (`tune.bufsize` minus headroom).
    pub fn payload_limit(mut self, bytes: usize) -> Client {
        self.payload_limit = bytes.max(64);
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends one command on a fresh connection and reads the reply to the
    /// end, all before the command's deadline ([`Timeouts::command`]).
    ///
    /// # Errors
    /// Any [`Error`]: connection failures (retried per the policy, within
    /// the deadline), [`Error::Timeout`], a reply cut short,
    /// [`Error::ReplyTooLarge`], HAProxy's `Permission denied`
    /// ([`Error::LevelTooLow`]).
    pub fn command(&self, line: &str) -> Result<String> {
        self.command_into(line, Vec::new())
    }

    /// [`Client::command`], reading the reply into `buf` (emptied first;
    /// its room is kept): the buffer of an earlier reply, for a program
    /// that reads large dumps again and again.
    ///
    /// # Errors
    /// As [`Client::command`].
    pub fn command_into(&self, line: &str, buf: Vec<u8>) -> Result<String> {
        self.check(line)?;
        let text = self.one_shot(line, None, buf)?;
        judge_level(&self.endpoint, line, text)
    }

    /// Sends a `<<` command and its payload (lines ending in `\n`, no
    /// empty line), split into chunks under the payload limit; the replies
    /// of the chunks are concatenated. Each chunk is one command, with its
    /// own deadline.
    ///
    /// # Errors
    /// As [`Client::command`], and [`Error::PayloadTooLarge`] for a line
    /// that no chunk can hold.
    pub fn command_with_payload(&self, line: &str, payload: &str) -> Result<String> {
        self.check(line)?;
        let chunks = chunks(&self.endpoint, line, payload, self.payload_limit)?;
        let mut out = String::new();
        for chunk in chunks {
            let text = self.one_shot(line, Some(chunk), Vec::new())?;
            out.push_str(&judge_level(&self.endpoint, line, text)?);
        }
        Ok(out)
    }

    /// Checks that the endpoint is a live HAProxy: `show info` must name
    /// HAProxy (`show proc` for the master itself).
    ///
    /// # Errors
    /// [`Error::NotHAProxy`] when something else answered, or any
    /// connection error.
    pub fn check_haproxy(&self) -> Result<()> {
        let (line, _) = probe_of(&self.endpoint);
        let reply = self.one_shot(line, None, Vec::new());
        judge_probe(&self.endpoint, reply)
    }

    fn check(&self, line: &str) -> Result<()> {
        codec::check_line(line).map_err(|reason| Error::InvalidCommand {
            endpoint: self.endpoint.clone(),
            line: line.to_owned(),
            reason,
        })
    }

    /// Runs `f` until it succeeds, retrying failures that happened before
    /// HAProxy could read the command, while the policy and the deadline
    /// allow.
    pub(crate) fn with_retries<T>(
        &self,
        deadline: &Deadline,
        mut f: impl FnMut() -> Result<T>,
    ) -> Result<T> {
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            match f() {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() && self.retry.allows_another(attempt) => {
                    let pause = self.retry.interval();
                    match deadline.left(&self.endpoint, Phase::Connect) {
                        Ok(Some(left)) if left > pause => std::thread::sleep(pause),
                        Ok(None) => std::thread::sleep(pause),
                        // No time for another attempt: the last error.
                        _ => return Err(self.exhausted(attempt, e)),
                    }
                }
                Err(e) => return Err(self.exhausted(attempt, e)),
            }
        }
    }

    fn exhausted(&self, attempts: u32, e: Error) -> Error {
        if attempts > 1 {
            Error::RetriesExhausted {
                endpoint: self.endpoint.clone(),
                attempts,
                last: Box::new(e),
            }
        } else {
            e
        }
    }

    /// Takes a slot and connects, both before the command's deadline (and
    /// their own tighter bounds).
    pub(crate) fn open(&self, deadline: &Deadline) -> Result<(Conn, Permit)> {
        let queue = deadline.within(self.timeouts.queue);
        let permit = self
            .limiter
            .acquire(&self.endpoint, queue.at(), queue.bound())?;
        let conn = connect(&self.endpoint, &deadline.within(self.timeouts.connect))?;
        Ok((conn, permit))
    }

    /// Connects (with retries), sends, shuts the write side (the master
    /// CLI answers only then), reads to EOF — all before one deadline.
    fn one_shot(&self, line: &str, payload: Option<&str>, buf: Vec<u8>) -> Result<String> {
        let deadline = Deadline::after(self.timeouts.command);
        let (mut conn, _permit) = self.with_retries(&deadline, || self.open(&deadline))?;
        let prefix = self.endpoint.target().map(Target::prefix);
        let msg = message(prefix.as_deref().unwrap_or(""), line, payload);
        conn.write_all(&self.endpoint, msg.as_bytes(), &deadline)?;
        // Half-close: HAProxy's master CLI only answers once it sees the
        // end of the request; worker sockets do not mind.
        let _ = conn.shutdown_write();
        let limit = self.limits.for_line(line);
        let mut decoder = OneShotDecoder::new(line, limit, prefix.is_some()).with_buffer(buf);
        let frame = |e| Error::from_frame(&self.endpoint, line, e);
        loop {
            let received = decoder.received();
            let n = conn.read(
                &self.endpoint,
                decoder.spare(READ_CHUNK),
                &deadline,
                received,
            );
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    decoder.filled(0).map_err(frame)?;
                    return Err(e);
                }
            };
            decoder.filled(n).map_err(frame)?;
            if n == 0 || decoder.is_done() {
                break;
            }
        }
        decoder.finish().map_err(frame)
    }
}
