//! The async client and session (feature `tokio`): the blocking
//! [`Client`] and [`Session`](crate::Session) over `tokio::net`, with
//! every rule of theirs kept — the same [`crate::codec`] frames
//! the replies, the same [`Timeouts`](crate::Timeouts) are whole-command
//! deadlines (by `tokio::time`), the same [`RetryPolicy`](crate::RetryPolicy)
//! retries only what HAProxy cannot have read, the same
//! [`ReplyLimits`](crate::ReplyLimits) bound replies, and the same
//! [`Limiter`](crate::Limiter) bounds connections per socket (a client and
//! its async twin share its slots). No thread is started and none is
//! blocked: waits for a slot, a connect on a full UNIX backlog, and the
//! pause between retries are tokio sleeps. (A TCP endpoint given by host
//! name is resolved by tokio's resolver, on tokio's blocking pool, as in
//! any tokio program; addresses and UNIX paths need none.)
//!
//! Build an [`AsyncClient`] from a configured [`Client`]:
//!
//! ```no_run
//! use haproxy_transport::asynch::AsyncClient;
//! use haproxy_transport::{Client, Endpoint, Timeouts};
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), haproxy_transport::Error> {
//! let client = Client::new(Endpoint::unix("/run/haproxy/admin.sock"))
//!     .timeouts(Timeouts::new(Duration::from_secs(2)));
//! let client = AsyncClient::from(client);
//! let info = client.command("show info").await?;
//! let mut session = client.session().await?;
//! let replies = session.pipeline(&["get weight be_app/app1", "get weight be_app/app2"]).await?;
//! # let _ = (info, replies); Ok(()) }
//! ```
//!
//! # Cancellation
//!
//! Every future here may be dropped at any point (a `tokio::time::timeout`
//! around it, a `select!`, an aborted task):
//!
//! - [`AsyncClient`]'s commands are cancel-safe: the connection and its
//!   slot are released; nothing is left half-done on this side. A command
//!   already written may still run in HAProxy (as with any command whose
//!   reply is not awaited).
//! - An [`AsyncSession`] command dropped mid-flight **closes the
//!   session's connection**: its reply would otherwise be read as the
//!   next command's. The session stays usable: the next command opens a
//!   new connection (never resending the dropped one).

use crate::client::Client;
use crate::codec::{self, OneShotDecoder, PromptDecoder};
use crate::endpoint::{Endpoint, Family, Target};
use crate::error::{Error, Phase, Result};
use crate::exchange::{chunks, judge_level, judge_probe, message, probe_of};
use crate::limiter::Permit;
use crate::session::{nothing_left, strip_payload_prompts, window};
use crate::socket::{map_connect_error, timed_out, Deadline};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

/// How much a session reads at once (replies framed on the prompt are
/// mostly short).
const READ_CHUNK: usize = 64 * 1024;

/// How much a one-shot command reads at once: dumps of many megabytes
/// come this way, and each read is a wake-up of the task (a quarter as
/// many as at 64 KiB: the async listing of 4 × 10,000 servers on a
/// current-thread runtime went from about 1.25× the blocking listing to
/// 0.9–1.2×, within the noise of a loaded two-core machine).
const ONE_SHOT_CHUNK: usize = 256 * 1024;

/// The async twin of [`Client`]: one endpoint and its settings (taken
/// from the `Client` it is built from, limiter included). Cheap to
/// clone; holds no connection.
#[derive(Debug, Clone)]
pub struct AsyncClient {
    client: Client,
}

impl From<Client> for AsyncClient {
    fn from(client: Client) -> AsyncClient {
        AsyncClient { client }
    }
}

impl AsyncClient {
    /// A client of `endpoint` with [`Client::new`]'s defaults.
    pub fn new(endpoint: Endpoint) -> AsyncClient {
        AsyncClient::from(Client::new(endpoint))
    }

    /// The settings, as a blocking [`Client`] (sharing the limiter).
    pub fn blocking(&self) -> &Client {
        &self.client
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.client.endpoint
    }

    /// [`Client::command`], async: one connection, the reply read to the
    /// end, all before the command's deadline.
    ///
    /// # Errors
    /// As [`Client::command`].
    pub async fn command(&self, line: &str) -> Result<String> {
        self.command_into(line, Vec::new()).await
    }

    /// [`Client::command_into`], async: the reply read into `buf`
    /// (emptied first; its room is kept).
    ///
    /// # Errors
    /// As [`Client::command`].
    pub async fn command_into(&self, line: &str, buf: Vec<u8>) -> Result<String> {
        self.check(line)?;
        let text = self.one_shot(line, None, buf).await?;
        judge_level(self.endpoint(), line, text)
    }

    /// [`Client::command_with_payload`], async: the payload chunked under
    /// the payload limit, one connection and one deadline per chunk.
    ///
    /// # Errors
    /// As [`Client::command_with_payload`].
    pub async fn command_with_payload(&self, line: &str, payload: &str) -> Result<String> {
        self.check(line)?;
        let chunks = chunks(self.endpoint(), line, payload, self.client.payload_limit)?;
        let mut out = String::new();
        for chunk in chunks {
            let text = self.one_shot(line, Some(chunk), Vec::new()).await?;
            out.push_str(&judge_level(self.endpoint(), line, text)?);
        }
        Ok(out)
    }

    /// [`Client::session`], async.
    ///
    /// # Errors
    /// As [`Client::session`].
    pub async fn session(&self) -> Result<AsyncSession> {
        AsyncSession::open(self.clone()).await
    }

    /// [`Client::check_haproxy`], async.
    ///
    /// # Errors
    /// As [`Client::check_haproxy`].
    pub async fn check_haproxy(&self) -> Result<()> {
        let (line, _) = probe_of(self.endpoint());
        let reply = self.one_shot(line, None, Vec::new()).await;
        judge_probe(self.endpoint(), reply)
    }

    fn check(&self, line: &str) -> Result<()> {
        codec::check_line(line).map_err(|reason| Error::InvalidCommand {
            endpoint: self.endpoint().clone(),
            line: line.to_owned(),
            reason,
        })
    }

    /// The retry loop of [`Client`]: only failures before HAProxy could
    /// read the command, while the policy and the deadline allow; no
    /// pause after the last attempt.
    async fn with_retries<T, F, Fut>(&self, deadline: &Deadline, mut f: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let retry = self.client.retry;
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() && retry.allows_another(attempt) => {
                    let pause = retry.interval();
                    match deadline.left(self.endpoint(), Phase::Connect) {
                        Ok(Some(left)) if left > pause => tokio::time::sleep(pause).await,
                        Ok(None) => tokio::time::sleep(pause).await,
                        _ => return Err(exhausted(self.endpoint(), attempt, e)),
                    }
                }
                Err(e) => return Err(exhausted(self.endpoint(), attempt, e)),
            }
        }
    }

    /// A slot, then a connection, each before its bound.
    async fn open(&self, deadline: &Deadline) -> Result<(Conn, Permit)> {
        let queue = deadline.within(self.client.timeouts.queue);
        let permit = self
            .client
            .limiter
            .acquire_async(self.endpoint(), queue.at(), queue.bound())
            .await?;
        let conn = connect(
            self.endpoint(),
            &deadline.within(self.client.timeouts.connect),
        )
        .await?;
        Ok((conn, permit))
    }

    async fn one_shot(&self, line: &str, payload: Option<&str>, into: Vec<u8>) -> Result<String> {
        let deadline = Deadline::after(self.client.timeouts.command);
        let (mut conn, _permit) = self
            .with_retries(&deadline, || self.open(&deadline))
            .await?;
        let endpoint = self.endpoint();
        let prefix = endpoint.target().map(Target::prefix);
        let msg = message(prefix.as_deref().unwrap_or(""), line, payload);
        conn.write_all(endpoint, msg.as_bytes(), &deadline).await?;
        // Half-close: the master CLI answers only then.
        let _ = conn.shutdown_write().await;
        let limit = self.client.limits.for_line(line);
        let mut decoder = OneShotDecoder::new(line, limit, prefix.is_some()).with_buffer(into);
        let frame = |e| Error::from_frame(endpoint, line, e);
        // One buffer for the command, read into and copied from (the
        // decoder's own `spare` would zero a whole chunk per read).
        let mut buf = vec![0u8; ONE_SHOT_CHUNK.min(limit.saturating_add(1)).max(64)];
        loop {
            let received = decoder.received();
            let n = conn.read(endpoint, &mut buf, &deadline, received).await?;
            if n == 0 {
                break;
            }
            decoder.feed(&buf[..n]).map_err(frame)?;
            if decoder.is_done() {
                break;
            }
        }
        decoder.finish().map_err(frame)
    }
}

fn exhausted(endpoint: &Endpoint, attempts: u32, e: Error) -> Error {
    if attempts > 1 {
        Error::RetriesExhausted {
            endpoint: endpoint.clone(),
            attempts,
            last: Box::new(e),
        }
    } else {
        e
    }
}

/// The async twin of [`crate::Session`]: one connection in interactive
/// mode carrying many commands, each reply framed on the prompt, each
/// command with its own deadline.
///
/// A command dropped before it completes (cancelled, timed out by the
/// caller) closes the connection; the next command opens a new one.
#[derive(Debug)]
pub struct AsyncSession {
    client: AsyncClient,
    conn: Option<(Conn, Permit)>,
    prefix: String,
    master: bool,
}

impl AsyncSession {
    async fn open(client: AsyncClient) -> Result<AsyncSession> {
        let target = client.endpoint().target();
        let mut s = AsyncSession {
            prefix: target.map(Target::prefix).unwrap_or_default(),
            master: target.is_some(),
            conn: None,
            client,
        };
        let deadline = Deadline::after(s.client.client.timeouts.command);
        let opened = s.connect(&deadline).await?;
        s.conn = Some(opened);
        Ok(s)
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        self.client.endpoint()
    }

    /// [`crate::Session::command`], async.
    ///
    /// # Errors
    /// As [`crate::Session::command`].
    pub async fn command(&mut self, line: &str) -> Result<String> {
        self.client.check(line)?;
        let msg = message(&self.prefix, line, None);
        let text = self.exchange(line, msg.as_bytes(), false).await?;
        judge_level(self.endpoint(), line, text)
    }

    /// [`crate::Session::command_with_payload`], async.
    ///
    /// # Errors
    /// As [`crate::Session::command_with_payload`].
    pub async fn command_with_payload(&mut self, line: &str, payload: &str) -> Result<String> {
        self.client.check(line)?;
        let limit = self.client.client.payload_limit;
        let chunks = chunks(self.endpoint(), line, payload, limit)?;
        let mut out = String::new();
        for chunk in chunks {
            let msg = message(&self.prefix, line, Some(chunk));
            let text = self.exchange(line, msg.as_bytes(), true).await?;
            out.push_str(&judge_level(self.endpoint(), line, text)?);
        }
        Ok(out)
    }

    /// [`crate::Session::pipeline`], async: the same windows, the same
    /// framing, one deadline per window.
    ///
    /// # Errors
    /// As [`crate::Session::pipeline`].
    pub async fn pipeline<S: AsRef<str>>(&mut self, lines: &[S]) -> Result<Vec<String>> {
        for l in lines {
            self.client.check(l.as_ref())?;
        }
        let mut replies = Vec::with_capacity(lines.len());
        let mut start = 0;
        while start < lines.len() {
            let (end, msg) = window(&self.prefix, lines, start);
            let first = lines[start].as_ref();
            let batch = self
                .pipeline_window(first, msg.as_bytes(), end - start)
                .await?;
            replies.extend(batch);
            start = end;
        }
        Ok(replies)
    }

    async fn pipeline_window(
        &mut self,
        first: &str,
        msg: &[u8],
        count: usize,
    ) -> Result<Vec<String>> {
        let deadline = Deadline::after(self.client.client.timeouts.command);
        // Taken out while in flight: dropped (closed) unless put back, so
        // a cancelled window never leaves replies for the next command.
        let (mut conn, permit) = self.take_or_open(&deadline).await?;
        let endpoint = self.endpoint().clone();
        let limits = self.client.client.limits;
        let limit = limits.dump.max(limits.other);
        conn.write_all(&endpoint, msg, &deadline).await?;
        let mut decoder = PromptDecoder::new(self.master, limit);
        let mut out = Vec::with_capacity(count);
        let mut buf = vec![0u8; READ_CHUNK];
        let frame = |e| Error::from_frame(&endpoint, first, e);
        while out.len() < count {
            match decoder.next_reply() {
                Some(reply) => out.push(reply.map_err(frame)?),
                None => {
                    let n = conn
                        .read(&endpoint, &mut buf, &deadline, decoder.pending())
                        .await?;
                    if n == 0 {
                        return Err(frame(decoder.eof()));
                    }
                    decoder.feed(&buf[..n]).map_err(frame)?;
                }
            }
        }
        nothing_left(&endpoint, decoder.pending(), count)?;
        self.conn = Some((conn, permit));
        Ok(out)
    }

    /// The open connection, taken out of the session, or a new one.
    async fn take_or_open(&mut self, deadline: &Deadline) -> Result<(Conn, Permit)> {
        match self.conn.take() {
            Some(open) => Ok(open),
            None => self.connect(deadline).await,
        }
    }

    /// A new connection in prompt mode (with retries).
    async fn connect(&self, deadline: &Deadline) -> Result<(Conn, Permit)> {
        let client = &self.client;
        let master = self.master;
        let other = client.client.limits.other;
        client
            .with_retries(deadline, || async move {
                let (mut conn, permit) = client.open(deadline).await?;
                conn.write_all(client.endpoint(), b"prompt\n", deadline)
                    .await?;
                read_reply(
                    &mut conn,
                    client.endpoint(),
                    "prompt",
                    deadline,
                    master,
                    other,
                )
                .await?;
                Ok((conn, permit))
            })
            .await
    }

    async fn exchange(&mut self, line: &str, msg: &[u8], payload: bool) -> Result<String> {
        let deadline = Deadline::after(self.client.client.timeouts.command);
        let (mut conn, permit) = self.take_or_open(&deadline).await?;
        let endpoint = self.endpoint().clone();
        let limit = self.client.client.limits.for_line(line);
        conn.write_all(&endpoint, msg, &deadline).await?;
        let mut text =
            read_reply(&mut conn, &endpoint, line, &deadline, self.master, limit).await?;
        // Complete: the connection is in step again.
        self.conn = Some((conn, permit));
        if payload {
            strip_payload_prompts(&mut text);
        }
        Ok(text)
    }
}

/// Reads until the bytes received end with the prompt; the reply before it.
async fn read_reply(
    conn: &mut Conn,
    endpoint: &Endpoint,
    line: &str,
    deadline: &Deadline,
    master: bool,
    limit: usize,
) -> Result<String> {
    let mut decoder = PromptDecoder::new(master, limit);
    let mut buf = vec![0u8; READ_CHUNK.min(limit.saturating_add(1)).max(64)];
    let frame = |e| Error::from_frame(endpoint, line, e);
    loop {
        let n = conn
            .read(endpoint, &mut buf, deadline, decoder.pending())
            .await?;
        if n == 0 {
            return Err(frame(decoder.eof()));
        }
        decoder.feed(&buf[..n]).map_err(frame)?;
        if let Some(reply) = decoder.final_reply() {
            return reply.map_err(frame);
        }
    }
}

/// One open tokio connection.
#[derive(Debug)]
enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

/// Runs `f` before the deadline; the timeout error for `phase` after it.
async fn before<T>(
    deadline: &Deadline,
    endpoint: &Endpoint,
    phase: Phase,
    f: impl Future<Output = T>,
) -> Result<T> {
    match deadline.left(endpoint, phase)? {
        None => Ok(f.await),
        Some(left) => tokio::time::timeout(left, f)
            .await
            .map_err(|_| deadline.expired(endpoint, phase)),
    }
}

impl Conn {
    async fn write_all(
        &mut self,
        endpoint: &Endpoint,
        bytes: &[u8],
        deadline: &Deadline,
    ) -> Result<()> {
        async fn go<S: AsyncWrite + Unpin>(s: &mut S, b: &[u8]) -> io::Result<()> {
            s.write_all(b).await
        }
        let r = match self {
            Conn::Unix(s) => before(deadline, endpoint, Phase::Write, go(s, bytes)).await?,
            Conn::Tcp(s) => before(deadline, endpoint, Phase::Write, go(s, bytes)).await?,
        };
        r.map_err(|source| Error::Write {
            endpoint: endpoint.clone(),
            source,
        })
    }

    async fn shutdown_write(&mut self) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.shutdown().await,
            Conn::Tcp(s) => s.shutdown().await,
        }
    }

    async fn read(
        &mut self,
        endpoint: &Endpoint,
        buf: &mut [u8],
        deadline: &Deadline,
        received: usize,
    ) -> Result<usize> {
        async fn go<S: AsyncRead + Unpin>(s: &mut S, b: &mut [u8]) -> io::Result<usize> {
            loop {
                match s.read(b).await {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    r => return r,
                }
            }
        }
        let r = match self {
            Conn::Unix(s) => before(deadline, endpoint, Phase::Read, go(s, buf)).await?,
            Conn::Tcp(s) => before(deadline, endpoint, Phase::Read, go(s, buf)).await?,
        };
        match r {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Err(Error::ClosedMidReply {
                endpoint: endpoint.clone(),
                received,
            }),
            Err(source) => Err(Error::Read {
                endpoint: endpoint.clone(),
                source,
            }),
        }
    }
}

async fn connect(endpoint: &Endpoint, deadline: &Deadline) -> Result<Conn> {
    match endpoint.connect_target() {
        Endpoint::Unix(path) => Ok(Conn::Unix(connect_unix(endpoint, path, deadline).await?)),
        Endpoint::Tcp { host, port, family } => Ok(Conn::Tcp(
            connect_tcp(endpoint, host, *port, *family, deadline).await?,
        )),
        _ => Err(Error::InvalidEndpoint {
            input: endpoint.to_string(),
            reason: "nested master selectors".into(),
        }),
    }
}

/// As the blocking connect: Linux answers `EAGAIN` at once when the
/// listener's backlog is full, so the connect is tried again every few
/// milliseconds (tokio sleeps) until the deadline.
async fn connect_unix(endpoint: &Endpoint, path: &Path, deadline: &Deadline) -> Result<UnixStream> {
    if let Ok(m) = std::fs::metadata(path) {
        if !m.file_type().is_socket() {
            return Err(Error::NotASocket {
                endpoint: endpoint.clone(),
            });
        }
    }
    let mut pause = Duration::from_millis(1);
    loop {
        let r = before(
            deadline,
            endpoint,
            Phase::Connect,
            UnixStream::connect(path),
        )
        .await?;
        match r {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.left(endpoint, Phase::Connect)?;
                tokio::time::sleep(left.map_or(pause, |l| l.min(pause))).await;
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(map_connect_error(endpoint, Some(path), e)),
        }
    }
}

async fn connect_tcp(
    endpoint: &Endpoint,
    host: &str,
    port: u16,
    family: Family,
    deadline: &Deadline,
) -> Result<TcpStream> {
    let resolved = before(
        deadline,
        endpoint,
        Phase::Connect,
        tokio::net::lookup_host((host, port)),
    )
    .await?
    .map_err(|e| Error::Connect {
        endpoint: endpoint.clone(),
        source: e,
    })?;
    let addrs: Vec<SocketAddr> = resolved.filter(|a| family.admits(a)).collect();
    let mut last = None;
    for a in addrs {
        match before(deadline, endpoint, Phase::Connect, TcpStream::connect(a)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Ok(Err(e)) if timed_out(&e) => last = Some(deadline.expired(endpoint, Phase::Connect)),
            Ok(Err(e)) => last = Some(map_connect_error(endpoint, None, e)),
            Err(e) => last = Some(e),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limiter, Retry, RetryPolicy, Timeouts};
    use std::time::Instant;
    use tokio::net::UnixListener;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    fn sock(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("hx-async-{}-{name}.sock", std::process::id()))
    }

    /// A peer that accepts and never answers times out at the deadline,
    /// in the read phase.
    #[test]
    fn a_silent_peer_times_out_at_the_deadline() {
        rt().block_on(async {
            let path = sock("silent");
            let _ = std::fs::remove_file(&path);
            let listener = UnixListener::bind(&path).expect("bind");
            let held = tokio::spawn(async move {
                let mut kept = Vec::new();
                while let Ok((s, _)) = listener.accept().await {
                    kept.push(s);
                }
            });
            let client = AsyncClient::from(
                Client::new(Endpoint::unix(&path))
                    .timeouts(Timeouts::new(Duration::from_millis(300)))
                    .retry(RetryPolicy::never()),
            );
            let t = Instant::now();
            let e = client.command("show info").await.expect_err("silent");
            let took = t.elapsed();
            assert!(
                matches!(e, Error::Timeout { phase: Phase::Read, after, .. } if after == Duration::from_millis(300)),
                "{e}"
            );
            assert!(took >= Duration::from_millis(290) && took < Duration::from_secs(2), "{took:?}");
            held.abort();
            let _ = std::fs::remove_file(&path);
        });
    }

    /// A prompt-mode peer that answers every line with `ok`.
    async fn prompt_peer(listener: UnixListener, delay: Duration) {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut pending = Vec::new();
                loop {
                    let n = match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    while let Some(i) = pending.iter().position(|&b| b == b'\n') {
                        let line: Vec<u8> = pending.drain(..=i).collect();
                        let reply = if line == b"prompt\n" {
                            "\n> ".to_owned()
                        } else {
                            tokio::time::sleep(delay).await;
                            format!("{}\n> ", String::from_utf8_lossy(&line[..line.len() - 1]))
                        };
                        if s.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    }

    /// A session command dropped mid-flight closes the connection; the
    /// next command gets its own reply on a new one, never the old one's.
    #[test]
    fn a_cancelled_session_command_never_leaks_its_reply() {
        rt().block_on(async {
            let path = sock("prompt");
            let _ = std::fs::remove_file(&path);
            let listener = UnixListener::bind(&path).expect("bind");
            let peer = tokio::spawn(prompt_peer(listener, Duration::from_millis(100)));
            let limiter = Limiter::new(1);
            let client = AsyncClient::from(
                Client::new(Endpoint::unix(&path))
                    .timeouts(Timeouts::new(Duration::from_secs(5)))
                    .limiter(limiter.clone()),
            );
            let mut session = client.session().await.expect("session");
            let cut =
                tokio::time::timeout(Duration::from_millis(20), session.command("first")).await;
            assert!(cut.is_err(), "the command was cut");
            assert_eq!(
                limiter.open(client.endpoint()),
                0,
                "the slot went with the connection"
            );
            assert_eq!(session.command("second").await.expect("second"), "second\n");
            let replies = session.pipeline(&["a", "b", "c"]).await.expect("pipeline");
            assert_eq!(replies, ["a\n", "b\n", "c\n"]);
            assert_eq!(limiter.open(client.endpoint()), 1);
            drop(session);
            assert_eq!(limiter.open(client.endpoint()), 0);
            peer.abort();
            let _ = std::fs::remove_file(&path);
        });
    }

    /// Async and blocking clients sharing a limiter share its bound; a
    /// waiter queues (no thread blocked) and times out in the queue phase.
    #[test]
    fn the_limiter_bounds_async_clients_too() {
        rt().block_on(async {
            let path = sock("limit");
            let _ = std::fs::remove_file(&path);
            let listener = UnixListener::bind(&path).expect("bind");
            let peer = tokio::spawn(prompt_peer(listener, Duration::ZERO));
            let limiter = Limiter::new(2);
            let client = AsyncClient::from(
                Client::new(Endpoint::unix(&path))
                    .timeouts(
                        Timeouts::new(Duration::from_secs(5))
                            .with_queue(Duration::from_millis(100)),
                    )
                    .retry(RetryPolicy::new(Retry::Never, Duration::ZERO))
                    .limiter(limiter.clone()),
            );
            let a = client.session().await.expect("a");
            let b = client.session().await.expect("b");
            let e = client.session().await.expect_err("full");
            assert!(
                matches!(
                    e,
                    Error::Timeout {
                        phase: Phase::Queue,
                        ..
                    }
                ),
                "{e}"
            );
            drop(a);
            let mut c = client.session().await.expect("a slot freed");
            assert_eq!(c.command("x").await.expect("x"), "x\n");
            drop((b, c));
            assert_eq!(limiter.open(client.endpoint()), 0);
            peer.abort();
            let _ = std::fs::remove_file(&path);
        });
    }
}
