//! Connections: one-shot commands and sessions, with timeouts, retries
//! and a bound on connections per socket.

use crate::endpoint::{Endpoint, Family, Target};
use crate::error::{Error, Phase, Result};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{mpsc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Timeouts of each phase. A zero duration means "no timeout".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the connection.
    pub connect: Duration,
    /// Sending a command (each write).
    pub write: Duration,
    /// Reading the reply (each read: a reply that keeps coming is not cut
    /// off, a silent peer is).
    pub read: Duration,
    /// Waiting for a free connection slot when
    /// [`Client::max_connections`] are already open to the socket.
    pub queue: Duration,
}

impl Default for Timeouts {
    /// 2 s to connect, 5 s per write, 10 s per read (HAProxy computes a
    /// `show stat` of 50,000 servers in well under that), 30 s in queue.
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(2),
            write: Duration::from_secs(5),
            read: Duration::from_secs(10),
            queue: Duration::from_secs(30),
        }
    }
}

impl Timeouts {
    /// The same timeout for every phase (haproxyadmin's single `timeout`).
    pub fn uniform(d: Duration) -> Timeouts {
        Timeouts {
            connect: d,
            write: d,
            read: d,
            queue: d,
        }
    }
}

/// How many times to try again after a failure to reach HAProxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
/// last error is kept ([`Error::RetriesExhausted`]).
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
    fn allows_another(&self, attempt: u32) -> bool {
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

/// Most commands [`Session::pipeline`] has in flight at once.
pub const PIPELINE_WINDOW: usize = 64;

/// A handle on one endpoint: sends one-shot commands and opens sessions.
/// Cheap to clone; holds no connection.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: Endpoint,
    timeouts: Timeouts,
    retry: RetryPolicy,
    max_connections: usize,
    payload_limit: usize,
}

impl Client {
    /// A client with default timeouts and retry policy.
    pub fn new(endpoint: Endpoint) -> Client {
        Client {
            endpoint,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            payload_limit: DEFAULT_PAYLOAD_LIMIT,
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

    /// Sets the most connections this process opens to the socket at
    /// once (at least 1); more wait for a slot up to the queue timeout.
    pub fn max_connections(mut self, n: usize) -> Client {
        self.max_connections = n.max(1);
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
    /// end.
    ///
    /// # Errors
    /// Any [`Error`]: connection failures (retried per the policy),
    /// timeouts, a reply cut short, HAProxy's `Permission denied`
    /// ([`Error::LevelTooLow`]).
    pub fn command(&self, line: &str) -> Result<String> {
        check_line(&self.endpoint, line)?;
        let bytes = self.one_shot(line, None)?;
        self.finish_one_shot(line, bytes)
    }

    /// Sends a `<<` command and its payload (lines ending in `\n`, no
    /// empty line), split into chunks under the payload limit; the replies
    /// of the chunks are concatenated.
    ///
    /// # Errors
    /// As [`Client::command`], and [`Error::PayloadTooLarge`] for a line
    /// that no chunk can hold.
    pub fn command_with_payload(&self, line: &str, payload: &str) -> Result<String> {
        check_line(&self.endpoint, line)?;
        let chunks = chunk_payload(&self.endpoint, line, payload, self.payload_limit)?;
        let mut out = String::new();
        for chunk in chunks {
            let bytes = self.one_shot(line, Some(chunk))?;
            out.push_str(&self.finish_one_shot(line, bytes)?);
        }
        Ok(out)
    }

    /// Opens a session: one connection in HAProxy's interactive (`prompt`)
    /// mode that carries many commands, each reply framed on the prompt.
    ///
    /// # Errors
    /// Connection failures (retried per the policy) and a peer that does
    /// not answer with a prompt.
    pub fn session(&self) -> Result<Session> {
        let mut s = Session {
            client: self.clone(),
            conn: None,
            prefix: self
                .endpoint
                .target()
                .map(Target::prefix)
                .unwrap_or_default(),
        };
        s.ensure_open()?;
        Ok(s)
    }

    /// Checks that the endpoint is a live HAProxy: `show info` must name
    /// HAProxy (`show proc` for the master itself).
    ///
    /// # Errors
    /// [`Error::NotHAProxy`] when something else answered, or any
    /// connection error.
    pub fn check_haproxy(&self) -> Result<()> {
        let (line, needle) = match self.endpoint.target() {
            Some(Target::Master) => ("show proc", "#<PID>"),
            _ => ("show info", "Name: HAProxy"),
        };
        let bytes = self.one_shot(line, None)?;
        let text = String::from_utf8_lossy(&bytes);
        if text
            .lines()
            .any(|l| l.trim_end() == needle || l.starts_with(needle))
        {
            Ok(())
        } else {
            Err(Error::NotHAProxy {
                endpoint: self.endpoint.clone(),
                found: text.chars().take(80).collect(),
            })
        }
    }

    /// Runs `f` on a fresh connection, retrying connection-phase failures.
    fn with_retries<T>(&self, mut f: impl FnMut() -> Result<T>) -> Result<T> {
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            match f() {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() && self.retry.allows_another(attempt) => {
                    std::thread::sleep(self.retry.interval);
                }
                Err(e) if attempt > 1 => {
                    return Err(Error::RetriesExhausted {
                        endpoint: self.endpoint.clone(),
                        attempts: attempt,
                        last: Box::new(e),
                    })
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Connects (with retries), sends, shuts the write side (the master
    /// CLI answers only then), reads to EOF.
    fn one_shot(&self, line: &str, payload: Option<&str>) -> Result<Vec<u8>> {
        let (mut conn, _permit) = self.with_retries(|| self.open())?;
        let mut msg = String::with_capacity(line.len() + payload.map_or(0, str::len) + 16);
        if let Some(t) = self.endpoint.target() {
            msg.push_str(&t.prefix());
        }
        msg.push_str(line);
        msg.push('\n');
        if let Some(p) = payload {
            msg.push_str(p);
            msg.push('\n');
        }
        conn.write_all_to(&self.endpoint, msg.as_bytes(), self.timeouts.write)?;
        // Half-close: HAProxy's master CLI only answers once it sees the
        // end of the request; worker sockets do not mind.
        let _ = conn.shutdown_write();
        let mut buf = Vec::with_capacity(64 * 1024);
        loop {
            match conn.read_some(&self.endpoint, &mut buf, self.timeouts.read)? {
                0 => break,
                // The master's refusal of a selector is the whole reply;
                // 3.0–3.4 then leave the connection open now and then (2.6
                // always closes it), so waiting for EOF could time out.
                _ if self.endpoint.target().is_some() && is_master_refusal_line(&buf) => break,
                _ => continue,
            }
        }
        Ok(buf)
    }

    fn finish_one_shot(&self, line: &str, bytes: Vec<u8>) -> Result<String> {
        if let Some(e) = master_refusal(&self.endpoint, &bytes) {
            return Err(e);
        }
        let complete = match bytes.as_slice() {
            [] => false,
            // A dump (`show …`, `get …`) ends with an empty line, errors
            // included; a dump cut at a line boundary lacks it.
            b"\n" => true,
            [.., b'\n', b'\n'] => true,
            // HAProxy ends every reply with a newline; a few 2.6 messages
            // (`del server` refusals) lack the empty line.
            [.., b'\n'] => !last_is_dump(line),
            _ => false,
        };
        if !complete {
            // Bytes that are not text at all say more than "cut short".
            let received = bytes.len();
            if std::str::from_utf8(&bytes).is_err() {
                into_text(&self.endpoint, bytes)?;
                return Err(Error::ClosedMidReply {
                    endpoint: self.endpoint.clone(),
                    received,
                });
            }
            // HAProxy's CLI never ends lines with CR LF; network protocols
            // (HTTP, SMTP, SSH banners) do.
            if bytes.ends_with(b"\r\n") {
                return Err(Error::NotHAProxy {
                    endpoint: self.endpoint.clone(),
                    found: String::from_utf8_lossy(&bytes[..received.min(60)]).into_owned(),
                });
            }
            // A silent close or a reply without its end was cut short.
            return Err(Error::ClosedMidReply {
                endpoint: self.endpoint.clone(),
                received,
            });
        }
        let text = into_text(&self.endpoint, bytes)?;
        judge_level(&self.endpoint, line, text)
    }

    /// Opens a connection to the endpoint, taking a slot.
    fn open(&self) -> Result<(Conn, Permit)> {
        let permit = Permit::acquire(&self.endpoint, self.max_connections, self.timeouts.queue)?;
        let conn = connect(&self.endpoint, &self.timeouts)?;
        Ok((conn, permit))
    }
}

/// A connection in interactive mode carrying many commands.
///
/// Each reply is framed on HAProxy's prompt (`> `, or `master> ` on the
/// master CLI), so replies that lack the usual blank line are framed
/// right too. A connection that closes before the prompt gives
/// [`Error::ClosedMidReply`]; the next command then opens a new
/// connection (never resending the one that failed).
#[derive(Debug)]
pub struct Session {
    client: Client,
    conn: Option<(Conn, Permit)>,
    prefix: String,
}

impl Session {
    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.client.endpoint
    }

    /// Sends one command and returns its reply (without the prompt).
    ///
    /// # Errors
    /// As [`Client::command`].
    pub fn command(&mut self, line: &str) -> Result<String> {
        check_line(self.endpoint(), line)?;
        let msg = format!("{}{line}\n", self.prefix);
        let text = self.exchange(msg.as_bytes(), false)?;
        judge_level(self.endpoint(), line, text)
    }

    /// Sends a `<<` command with its payload, chunked under the payload
    /// limit; the chunks' replies are concatenated.
    ///
    /// # Errors
    /// As [`Client::command_with_payload`].
    pub fn command_with_payload(&mut self, line: &str, payload: &str) -> Result<String> {
        check_line(self.endpoint(), line)?;
        let chunks = chunk_payload(self.endpoint(), line, payload, self.client.payload_limit)?;
        let mut out = String::new();
        for chunk in chunks {
            let msg = format!("{}{line}\n{chunk}\n", self.prefix);
            let text = self.exchange(msg.as_bytes(), true)?;
            out.push_str(&judge_level(self.endpoint(), line, text)?);
        }
        Ok(out)
    }

    /// Sends many commands with pipelining: up to [`PIPELINE_WINDOW`]
    /// commands (and 8 KiB) are written at once, then their replies are
    /// read and framed one prompt at a time. Much faster than
    /// [`Session::command`] in a loop (no round trip per command); meant
    /// for commands with short replies (writes). Every command is sent,
    /// whatever an earlier one answered: judge the replies.
    ///
    /// # Errors
    /// As [`Session::command`] for the connection; [`Error::Framing`] when
    /// the replies do not split into exactly one per command (the session
    /// is then closed). A reply of `Permission denied` is returned as
    /// text here, not as [`Error::LevelTooLow`], so that every reply can be
    /// matched to its command.
    pub fn pipeline<S: AsRef<str>>(&mut self, lines: &[S]) -> Result<Vec<String>> {
        for l in lines {
            check_line(self.endpoint(), l.as_ref())?;
        }
        let mut replies = Vec::with_capacity(lines.len());
        let mut start = 0;
        while start < lines.len() {
            let mut msg = String::new();
            let mut end = start;
            while end < lines.len() && end - start < PIPELINE_WINDOW && msg.len() < 8 * 1024 {
                msg.push_str(&self.prefix);
                msg.push_str(lines[end].as_ref());
                msg.push('\n');
                end += 1;
            }
            match self.pipeline_window(msg.as_bytes(), end - start) {
                Ok(batch) => replies.extend(batch),
                Err(e) => {
                    self.conn = None;
                    return Err(e);
                }
            }
            start = end;
        }
        Ok(replies)
    }

    fn pipeline_window(&mut self, msg: &[u8], count: usize) -> Result<Vec<String>> {
        let (conn, endpoint, timeouts, master) = self.ready()?;
        conn.write_all_to(&endpoint, msg, timeouts.write)?;
        let mut pending: Vec<u8> = Vec::with_capacity(4096);
        let mut out = Vec::with_capacity(count);
        let mut from = 0;
        while out.len() < count {
            match find_prompt(&pending[from..], master) {
                Some((end, plen)) => {
                    let reply = pending[from..from + end].to_vec();
                    out.push(into_text(&endpoint, reply)?);
                    from += end + plen;
                }
                None => {
                    if conn.read_some(&endpoint, &mut pending, timeouts.read)? == 0 {
                        if let Some(e) = master_refusal(&endpoint, &pending[from..]) {
                            return Err(e);
                        }
                        return Err(Error::ClosedMidReply {
                            endpoint,
                            received: pending.len(),
                        });
                    }
                }
            }
        }
        if from != pending.len() {
            return Err(Error::Framing {
                endpoint,
                detail: format!(
                    "{} bytes after the reply to the last of {count} pipelined commands",
                    pending.len() - from
                ),
            });
        }
        Ok(out)
    }

    /// The open connection (opened if need be) and what a round trip on
    /// it needs: the endpoint, the timeouts, whether it is a master CLI.
    fn ready(&mut self) -> Result<(&mut Conn, Endpoint, Timeouts, bool)> {
        self.ensure_open()?;
        let master = self.is_master();
        let endpoint = self.client.endpoint.clone();
        let timeouts = self.client.timeouts;
        match self.conn.as_mut() {
            Some((conn, _)) => Ok((conn, endpoint, timeouts, master)),
            None => Err(Error::ClosedMidReply {
                endpoint,
                received: 0,
            }),
        }
    }

    fn is_master(&self) -> bool {
        self.client.endpoint.target().is_some()
    }

    /// Opens the connection and enters prompt mode, if not open.
    fn ensure_open(&mut self) -> Result<()> {
        if self.conn.is_some() {
            return Ok(());
        }
        let client = self.client.clone();
        let master = self.is_master();
        let opened = client.with_retries(|| {
            let (mut conn, permit) = client.open()?;
            conn.write_all_to(&client.endpoint, b"prompt\n", client.timeouts.write)?;
            read_to_prompt(&mut conn, &client.endpoint, client.timeouts.read, master)?;
            Ok((conn, permit))
        })?;
        self.conn = Some(opened);
        Ok(())
    }

    fn exchange(&mut self, msg: &[u8], payload: bool) -> Result<String> {
        let (conn, endpoint, timeouts, master) = self.ready()?;
        let result = conn
            .write_all_to(&endpoint, msg, timeouts.write)
            .and_then(|()| read_to_prompt(conn, &endpoint, timeouts.read, master));
        match result {
            Ok(mut bytes) => {
                if payload {
                    // Interactive mode echoes a `+ ` prompt per payload line.
                    let skip = bytes.chunks(2).take_while(|c| *c == b"+ ").count() * 2;
                    bytes.drain(..skip);
                }
                into_text(&endpoint, bytes)
            }
            Err(e) => {
                // The connection's state is unknown: drop it.
                self.conn = None;
                Err(e)
            }
        }
    }
}

/// Reads until the buffer ends with the prompt; returns what came before
/// it.
fn read_to_prompt(
    conn: &mut Conn,
    endpoint: &Endpoint,
    timeout: Duration,
    master: bool,
) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        let n = conn.read_some(endpoint, &mut buf, timeout)?;
        if n == 0 {
            if let Some(e) = master_refusal(endpoint, &buf) {
                return Err(e);
            }
            return Err(Error::ClosedMidReply {
                endpoint: endpoint.clone(),
                received: buf.len(),
            });
        }
        if let Some(len) = prompt_len(&buf, master) {
            buf.truncate(buf.len() - len);
            return Ok(buf);
        }
    }
}

/// The length of the prompt that ends `buf`, if it does: `> ` after a
/// newline (or alone) for a worker; a short last line ending in `> `
/// (`master> `) for the master CLI.
fn prompt_len(buf: &[u8], master: bool) -> Option<usize> {
    if !buf.ends_with(b"> ") {
        return None;
    }
    let start = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let last = &buf[start..];
    if last == b"> " {
        return Some(2);
    }
    if master && last.len() <= 48 && last.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return Some(last.len());
    }
    None
}

/// The first prompt in `buf`: `(end of the reply, length of the prompt)`.
/// A worker's prompt is `> ` at the start of a line; the master's a line
/// of the form `master…> `.
fn find_prompt(buf: &[u8], master: bool) -> Option<(usize, usize)> {
    let mut line_start = 0;
    loop {
        let rest = &buf[line_start..];
        if master {
            if rest.starts_with(b"master") {
                if let Some(i) = rest.iter().take(48).position(|&b| b == b'>') {
                    if rest.get(i + 1) == Some(&b' ') && !rest[..i].contains(&b'\n') {
                        return Some((line_start, i + 2));
                    }
                }
            }
        } else if rest.starts_with(b"> ") {
            return Some((line_start, 2));
        }
        let nl = rest.iter().position(|&b| b == b'\n')?;
        line_start += nl + 1;
    }
}

/// Whether `buf` is the master CLI's refusal of a selector, complete:
/// `Can't find the target PID matching the prefix '@!1'` and its newline.
fn is_master_refusal_line(buf: &[u8]) -> bool {
    buf.starts_with(b"Can't find the target") && buf.ends_with(b"\n")
}

/// The master CLI answers with this text (and closes the connection, on
/// 2.6 always, on 3.x not always) when a selector names no process.
fn master_refusal(endpoint: &Endpoint, bytes: &[u8]) -> Option<Error> {
    endpoint.target()?;
    let text = String::from_utf8_lossy(bytes);
    let t = text.trim();
    t.starts_with("Can't find the target")
        .then(|| Error::NoSuchProcess {
            endpoint: endpoint.clone(),
            message: t.to_owned(),
        })
}

fn into_text(endpoint: &Endpoint, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| Error::InvalidUtf8 {
        endpoint: endpoint.clone(),
        at: e.utf8_error().valid_up_to(),
    })
}

/// HAProxy's `Permission denied` (the socket's level is below the
/// command's) becomes a typed error.
fn judge_level(endpoint: &Endpoint, line: &str, text: String) -> Result<String> {
    if text.trim() == "Permission denied" {
        return Err(Error::LevelTooLow {
            endpoint: endpoint.clone(),
            command: line.to_owned(),
            message: text.trim().to_owned(),
        });
    }
    Ok(text)
}

fn check_line(endpoint: &Endpoint, line: &str) -> Result<()> {
    let reason = if line.trim().is_empty() {
        "the line is empty"
    } else if line.contains(['\n', '\r']) {
        "it holds a line break, which would start a second command"
    } else if line.contains('\0') {
        "it holds a NUL byte"
    } else {
        return Ok(());
    };
    Err(Error::InvalidCommand {
        endpoint: endpoint.clone(),
        line: line.to_owned(),
        reason,
    })
}

/// Splits a payload on line boundaries into chunks that, with the command
/// line, stay under `limit` bytes. Every chunk ends in `\n`.
fn chunk_payload<'p>(
    endpoint: &Endpoint,
    line: &str,
    payload: &'p str,
    limit: usize,
) -> Result<Vec<&'p str>> {
    let bad = |reason| Error::InvalidCommand {
        endpoint: endpoint.clone(),
        line: line.to_owned(),
        reason,
    };
    if payload.contains(['\r', '\0']) {
        return Err(bad("the payload holds CR or NUL"));
    }
    if payload.is_empty() {
        return Ok(vec![""]);
    }
    if !payload.ends_with('\n') {
        return Err(bad("the payload must end with a newline"));
    }
    let room = limit.saturating_sub(line.len() + 16);
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for (i, l) in payload.split_inclusive('\n').enumerate() {
        if l == "\n" {
            return Err(bad(
                "the payload holds an empty line, which would end it early",
            ));
        }
        if l.len() > room {
            return Err(Error::PayloadTooLarge {
                endpoint: endpoint.clone(),
                line: i,
                len: l.len(),
                limit: room,
            });
        }
        if end + l.len() - start > room {
            chunks.push(&payload[start..end]);
            start = end;
        }
        end += l.len();
    }
    chunks.push(&payload[start..end]);
    Ok(chunks)
}

/// One open connection.
#[derive(Debug)]
enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    fn set_timeouts(&self, endpoint: &Endpoint, t: &Timeouts) -> Result<()> {
        let some = |d: Duration| (!d.is_zero()).then_some(d);
        let r = match self {
            Conn::Unix(s) => s
                .set_read_timeout(some(t.read))
                .and_then(|()| s.set_write_timeout(some(t.write))),
            Conn::Tcp(s) => s
                .set_read_timeout(some(t.read))
                .and_then(|()| s.set_write_timeout(some(t.write)))
                .and_then(|()| s.set_nodelay(true)),
        };
        r.map_err(|source| Error::Connect {
            endpoint: endpoint.clone(),
            source,
        })
    }

    fn write_all_to(&mut self, endpoint: &Endpoint, bytes: &[u8], timeout: Duration) -> Result<()> {
        let r = match self {
            Conn::Unix(s) => s.write_all(bytes),
            Conn::Tcp(s) => s.write_all(bytes),
        };
        r.map_err(|source| match source.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout {
                endpoint: endpoint.clone(),
                phase: Phase::Write,
                after: timeout,
            },
            _ => Error::Write {
                endpoint: endpoint.clone(),
                source,
            },
        })
    }

    fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.shutdown(Shutdown::Write),
            Conn::Tcp(s) => s.shutdown(Shutdown::Write),
        }
    }

    /// Appends what is available to `buf`; 0 at EOF.
    fn read_some(
        &mut self,
        endpoint: &Endpoint,
        buf: &mut Vec<u8>,
        timeout: Duration,
    ) -> Result<usize> {
        const CHUNK: usize = 64 * 1024;
        let len = buf.len();
        buf.resize(len + CHUNK, 0);
        loop {
            let r = match self {
                Conn::Unix(s) => s.read(&mut buf[len..]),
                Conn::Tcp(s) => s.read(&mut buf[len..]),
            };
            match r {
                Ok(n) => {
                    buf.truncate(len + n);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    buf.truncate(len);
                    return Err(match e.kind() {
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout {
                            endpoint: endpoint.clone(),
                            phase: Phase::Read,
                            after: timeout,
                        },
                        io::ErrorKind::ConnectionReset => Error::ClosedMidReply {
                            endpoint: endpoint.clone(),
                            received: len,
                        },
                        _ => Error::Read {
                            endpoint: endpoint.clone(),
                            source: e,
                        },
                    });
                }
            }
        }
    }
}

fn connect(endpoint: &Endpoint, t: &Timeouts) -> Result<Conn> {
    let conn = match endpoint.connect_target() {
        Endpoint::Unix(path) => Conn::Unix(connect_unix(endpoint, path, t.connect)?),
        Endpoint::Tcp { host, port, family } => {
            Conn::Tcp(connect_tcp(endpoint, host, *port, *family, t.connect)?)
        }
        // connect_target() never returns a master endpoint.
        Endpoint::Master { .. } => {
            return Err(Error::InvalidEndpoint {
                input: endpoint.to_string(),
                reason: "nested master selectors".into(),
            })
        }
    };
    conn.set_timeouts(endpoint, t)?;
    Ok(conn)
}

fn map_connect_error(endpoint: &Endpoint, path: Option<&Path>, e: io::Error) -> Error {
    let endpoint = endpoint.clone();
    match e.kind() {
        io::ErrorKind::NotFound => Error::NoSuchSocket { endpoint },
        io::ErrorKind::PermissionDenied => Error::PermissionDenied { endpoint },
        io::ErrorKind::ConnectionRefused => {
            let not_socket = path
                .and_then(|p| std::fs::metadata(p).ok())
                .is_some_and(|m| !m.file_type().is_socket());
            if not_socket {
                Error::NotASocket { endpoint }
            } else {
                Error::ConnectRefused { endpoint }
            }
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::Connect {
            endpoint,
            source: e,
        },
        _ => Error::Connect {
            endpoint,
            source: e,
        },
    }
}

/// UNIX connect has no timeout in std; a full backlog would block, so the
/// connect runs on a helper thread when a timeout is set.
fn connect_unix(endpoint: &Endpoint, path: &Path, timeout: Duration) -> Result<UnixStream> {
    if let Ok(m) = std::fs::metadata(path) {
        if !m.file_type().is_socket() {
            return Err(Error::NotASocket {
                endpoint: endpoint.clone(),
            });
        }
    }
    if timeout.is_zero() {
        return UnixStream::connect(path).map_err(|e| map_connect_error(endpoint, Some(path), e));
    }
    let (tx, rx) = mpsc::channel();
    let owned = path.to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(UnixStream::connect(&owned));
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(map_connect_error(endpoint, Some(path), e)),
        Err(_) => Err(Error::Timeout {
            endpoint: endpoint.clone(),
            phase: Phase::Connect,
            after: timeout,
        }),
    }
}

fn connect_tcp(
    endpoint: &Endpoint,
    host: &str,
    port: u16,
    family: Family,
    timeout: Duration,
) -> Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::Connect {
            endpoint: endpoint.clone(),
            source: e,
        })?
        .filter(|a| match family {
            Family::Any => true,
            Family::V4 => a.is_ipv4(),
            Family::V6 => a.is_ipv6(),
        })
        .collect();
    let mut last = None;
    for a in addrs {
        let r = if timeout.is_zero() {
            TcpStream::connect(a)
        } else {
            TcpStream::connect_timeout(&a, timeout)
        };
        match r {
            Ok(s) => return Ok(s),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                last = Some(Error::Timeout {
                    endpoint: endpoint.clone(),
                    phase: Phase::Connect,
                    after: timeout,
                });
            }
            Err(e) => last = Some(map_connect_error(endpoint, None, e)),
        }
    }
    Err(last.unwrap_or_else(|| Error::Connect {
        endpoint: endpoint.clone(),
        source: io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} has no address of the requested family"),
        ),
    }))
}

/// Connection slots per socket, shared by every client of this process.
type Slots = (Mutex<HashMap<Endpoint, usize>>, Condvar);

fn slots() -> &'static Slots {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS.get_or_init(|| (Mutex::new(HashMap::new()), Condvar::new()))
}

/// A held connection slot; released on drop.
#[derive(Debug)]
struct Permit {
    key: Endpoint,
}

impl Permit {
    fn acquire(endpoint: &Endpoint, max: usize, wait: Duration) -> Result<Permit> {
        let key = endpoint.connect_target().clone();
        let (lock, cvar) = slots();
        let deadline = Instant::now()
            + if wait.is_zero() {
                Duration::from_secs(86_400)
            } else {
                wait
            };
        let mut map = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let n = map.entry(key.clone()).or_insert(0);
            if *n < max {
                *n += 1;
                return Ok(Permit { key });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    endpoint: endpoint.clone(),
                    phase: Phase::Queue,
                    after: wait,
                });
            }
            map = cvar
                .wait_timeout(map, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let (lock, cvar) = slots();
        let mut map = lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
        cvar.notify_all();
    }
}

/// Whether the last command of `line` (commands split on unescaped `;`)
/// is a dump, whose reply HAProxy always ends with an empty line.
fn last_is_dump(line: &str) -> bool {
    let mut last = 0;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ';' => last = i + 1,
            _ => {}
        }
    }
    let verb = line[last..].split_whitespace().next().unwrap_or("");
    // A master-CLI route (`@1 show stat`) is followed by the command.
    let verb = if verb.starts_with('@') {
        line[last..].split_whitespace().nth(1).unwrap_or("")
    } else {
        verb
    };
    matches!(verb, "show" | "get")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep() -> Endpoint {
        Endpoint::unix("/x.sock")
    }

    #[test]
    fn a_master_refusal_is_complete_at_its_newline() {
        assert!(is_master_refusal_line(
            b"Can't find the target PID matching the prefix '@!1'\n"
        ));
        assert!(!is_master_refusal_line(b"Can't find the target PID"));
        assert!(!is_master_refusal_line(b"Name: HAProxy\n"));
    }

    #[test]
    fn prompt_framing() {
        assert_eq!(prompt_len(b"\n> ", false), Some(2));
        assert_eq!(prompt_len(b"256 (initial 10)\n\n> ", false), Some(2));
        assert_eq!(prompt_len(b"> ", false), Some(2));
        assert_eq!(prompt_len(b"a -> ", false), None);
        assert_eq!(prompt_len(b"master> ", true), Some(8));
        assert_eq!(prompt_len(b"x\n\nmaster> ", true), Some(8));
        assert_eq!(prompt_len(b"x\nmaster> ", false), None);
    }

    #[test]
    fn pipelined_replies_split_on_prompts() {
        let buf = b"\n> 5 (initial 10)\n\n> No such server.\n> ";
        assert_eq!(find_prompt(buf, false), Some((1, 2)));
        assert_eq!(find_prompt(&buf[3..], false), Some((16, 2)));
        assert_eq!(find_prompt(b"> ", false), Some((0, 2)));
        assert_eq!(find_prompt(b"a -> b\n", false), None);
        assert_eq!(find_prompt(b"x\nmaster> ", true), Some((2, 8)));
        assert_eq!(find_prompt(b"master> ", true), Some((0, 8)));
        assert_eq!(find_prompt(b"x\n> ", true), None);
    }

    #[test]
    fn payload_chunks_on_line_boundaries() {
        let payload: String = (0..1000).map(|i| format!("key{i} value{i}\n")).collect();
        let chunks = chunk_payload(&ep(), "add map #1 <<", &payload, 1000).expect("chunks");
        assert!(chunks.len() > 10);
        assert_eq!(chunks.concat(), payload);
        assert!(chunks.iter().all(|c| c.ends_with('\n') && c.len() <= 1000));
        assert!(matches!(
            chunk_payload(&ep(), "l", &format!("{}\n", "x".repeat(2000)), 1000),
            Err(Error::PayloadTooLarge { line: 0, .. })
        ));
        assert!(chunk_payload(&ep(), "l", "a 1\n\nb 2\n", 1000).is_err());
        assert!(chunk_payload(&ep(), "l", "a 1", 1000).is_err());
    }

    #[test]
    fn retry_policy_counts() {
        let p = RetryPolicy::new(Retry::Times(2), Duration::ZERO);
        assert!(p.allows_another(1) && p.allows_another(2) && !p.allows_another(3));
        assert!(!RetryPolicy::never().allows_another(1));
        assert!(RetryPolicy::new(Retry::Forever, Duration::ZERO).allows_another(u32::MAX));
    }

    #[test]
    fn lines_that_would_split_are_refused() {
        for l in ["", "  ", "show info\nshow stat", "a\rb", "a\0"] {
            assert!(
                matches!(check_line(&ep(), l), Err(Error::InvalidCommand { .. })),
                "{l:?}"
            );
        }
        assert!(check_line(&ep(), "show info").is_ok());
    }

    #[test]
    fn permits_bound_connections() {
        let e = Endpoint::unix("/permit-test.sock");
        let a = Permit::acquire(&e, 2, Duration::from_millis(10)).expect("1");
        let _b = Permit::acquire(&e, 2, Duration::from_millis(10)).expect("2");
        assert!(matches!(
            Permit::acquire(&e, 2, Duration::from_millis(10)),
            Err(Error::Timeout {
                phase: Phase::Queue,
                ..
            })
        ));
        drop(a);
        assert!(Permit::acquire(&e, 2, Duration::from_millis(10)).is_ok());
    }

    #[test]
    fn the_last_command_decides() {
        assert!(last_is_dump("show stat"));
        assert!(last_is_dump("  get map #1 k"));
        assert!(last_is_dump("set weight b/s 1; show info"));
        assert!(last_is_dump("@1 show stat"));
        assert!(!last_is_dump("show info; del server b/s"));
        assert!(!last_is_dump(r"show info; add map m a\;show b"));
        assert!(!last_is_dump("set weight b/s 1"));
        assert!(!last_is_dump(""));
    }
}
