//! What a client is allowed: how long a command may take, how often a
//! failure to reach HAProxy is retried, how large a reply may grow.

use std::time::Duration;

/// How long things may take. Every bound is a **deadline**, not a
/// per-read timeout: a peer that trickles one byte at a time is cut off
/// when the deadline passes, however busy it looks.
///
/// - [`Timeouts::command`] bounds one whole command: waiting for a
///   connection slot, connecting, writing the command and reading the
///   full reply. For a [`crate::Session`], each command has its own
///   deadline (and opening the session one more).
/// - [`Timeouts::connect`] and [`Timeouts::queue`] are tighter bounds on
///   those two steps, inside the command's deadline (a socket that does
///   not accept is given up on sooner than a slow reply).
///
/// A zero duration means "no bound" for that one. Build with
/// [`Timeouts::new`] (or [`Timeouts::uniform`]) and the `with_*` methods.
///
/// ```
/// use haproxy_transport::Timeouts;
/// use std::time::Duration;
/// let t = Timeouts::new(Duration::from_secs(10)).with_connect(Duration::from_secs(1));
/// assert_eq!(t.command, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// The deadline of one whole command (connect, queue, write, reply).
    pub command: Duration,
    /// A tighter bound on connecting.
    pub connect: Duration,
    /// A tighter bound on waiting for a connection slot when the
    /// [`crate::Limiter`] has every slot of the socket taken.
    pub queue: Duration,
}

impl Default for Timeouts {
    /// 30 s per command (HAProxy computes a `show stat` of 50,000 servers
    /// in well under that), 2 s to connect, 30 s in queue.
    fn default() -> Timeouts {
        Timeouts {
            command: Duration::from_secs(30),
            connect: Duration::from_secs(2),
            queue: Duration::from_secs(30),
        }
    }
}

impl Timeouts {
    /// `command` for the whole command, and as the bound of the connect
    /// and queue steps too.
    pub fn new(command: Duration) -> Timeouts {
        Timeouts {
            command,
            connect: command,
            queue: command,
        }
    }

    /// The same bound everywhere (haproxyadmin's single `timeout`): as
    /// [`Timeouts::new`].
    pub fn uniform(d: Duration) -> Timeouts {
        Timeouts::new(d)
    }

    /// Sets the whole-command deadline.
    pub fn with_command(mut self, d: Duration) -> Timeouts {
        self.command = d;
        self
    }

    /// Sets the bound on connecting.
    pub fn with_connect(mut self, d: Duration) -> Timeouts {
        self.connect = d;
        self
    }

    /// Sets the bound on waiting for a connection slot.
    pub fn with_queue(mut self, d: Duration) -> Timeouts {
        self.queue = d;
        self
    }
}

/// How large one reply may grow before it is abandoned with
/// [`crate::Error::ReplyTooLarge`]: a bound on memory whatever the peer
/// sends. Dumps (`show …`, `get …`) may be large; anything else is an
/// acknowledgement or a short message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplyLimits {
    /// A dump (`show …`, `get …`): generous — a `show stat` of 50,000
    /// servers of 4 KiB each fits.
    pub dump: usize,
    /// Any other reply (acknowledgements, notices, errors, help texts).
    pub other: usize,
}

impl Default for ReplyLimits {
    /// 256 MiB for a dump, 1 MiB for anything else.
    fn default() -> ReplyLimits {
        ReplyLimits {
            dump: 256 << 20,
            other: 1 << 20,
        }
    }
}

impl ReplyLimits {
    /// Sets the limit of a dump.
    pub fn with_dump(mut self, bytes: usize) -> ReplyLimits {
        self.dump = bytes.max(1);
        self
    }

    /// Sets the limit of any other reply.
    pub fn with_other(mut self, bytes: usize) -> ReplyLimits {
        self.other = bytes.max(1);
        self
    }

    /// The limit for a reply to `line`.
    pub fn for_line(&self, line: &str) -> usize {
        if crate::codec::is_dump(line) {
            self.dump
        } else {
            self.other
        }
    }
}

/// How many times to try again after a failure to reach HAProxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retry {
    /// One attempt only.
    Never,
    /// Up to this many retries after the first attempt.
    Times(u32),
    /// Until it works. Explicit, never the accidental meaning of `0`.
    Forever,
}

/// When and how often to retry.
///
/// Only failures that happen **before HAProxy could have read the
/// command** are retried: no socket file, connection refused, connect or
/// queue timeout. A command HAProxy answered, or that failed after it was
/// sent, is never repeated. No sleep follows the last attempt, and the
/// last error is kept ([`crate::Error::RetriesExhausted`]).
///
/// haproxyadmin 0.2.4 maps as follows: `retry=None` → [`Retry::Never`];
/// `retry=N` (N > 0) → [`Retry::Times`]`(N)`; `retry=0`, which loops
/// forever there, → [`Retry::Forever`], said out loud; `retry_interval`
/// → the interval here; `timeout` → [`Timeouts::uniform`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    retry: Retry,
    interval: Duration,
}

impl Default for RetryPolicy {
    /// Two retries, 200 ms apart: rides over a reload's socket swap.
    fn default() -> RetryPolicy {
        RetryPolicy {
            retry: Retry::Times(2),
            interval: Duration::from_millis(200),
        }
    }
}

impl RetryPolicy {
    /// A policy.
    pub fn new(retry: Retry, interval: Duration) -> RetryPolicy {
        RetryPolicy { retry, interval }
    }

    /// No retry at all.
    pub fn never() -> RetryPolicy {
        RetryPolicy::new(Retry::Never, Duration::ZERO)
    }

    /// How many retries.
    pub fn retry(&self) -> Retry {
        self.retry
    }

    /// The pause between attempts.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// May attempt number `attempt` (1-based, just failed) be followed by
    /// another?
    pub(crate) fn allows_another(&self, attempt: u32) -> bool {
        match self.retry {
            Retry::Never => false,
            Retry::Times(n) => attempt <= n,
            Retry::Forever => true,
        }
    }
}

/// Default bound on connections this process keeps open to one socket
/// (HAProxy's `stats maxconn` defaults to 10; leave room for others).
pub const DEFAULT_MAX_CONNECTIONS: usize = 8;

/// Default limit for one command plus its payload chunk: HAProxy 2.6 reads
/// a payload into one buffer of `tune.bufsize` (16384 bytes by default).
pub const DEFAULT_PAYLOAD_LIMIT: usize = 16_000;

/// Most commands [`crate::Session::pipeline`] has in flight at once.
pub const PIPELINE_WINDOW: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_policy_counts() {
        let p = RetryPolicy::new(Retry::Times(2), Duration::ZERO);
        assert!(p.allows_another(1) && p.allows_another(2) && !p.allows_another(3));
        assert!(!RetryPolicy::never().allows_another(1));
        assert!(RetryPolicy::new(Retry::Forever, Duration::ZERO).allows_another(u32::MAX));
    }

    #[test]
    fn limits_by_kind() {
        let l = ReplyLimits::default().with_other(10);
        assert_eq!(l.for_line("set weight b/s 1"), 10);
        assert_eq!(l.for_line("show stat"), 256 << 20);
        assert_eq!(l.for_line("@1 get map #1 k"), 256 << 20);
    }
}
