//! Sessions: one connection in interactive (`prompt`) mode carrying many
//! commands, each reply framed on the prompt by the codec.

use crate::client::Client;
use crate::codec::{self, PromptDecoder};
use crate::endpoint::{Endpoint, Target};
use crate::error::{Error, Result};
use crate::exchange::{chunks, judge_level, message};
use crate::limiter::Permit;
use crate::policy::PIPELINE_WINDOW;
use crate::socket::{Conn, Deadline};

/// How much is read at once.
const READ_CHUNK: usize = 64 * 1024;

/// A connection in interactive mode carrying many commands.
///
/// Each reply is framed on HAProxy's prompt (`> `, or `master> ` on the
/// master CLI), so replies that lack the usual blank line are framed
/// right too. Each command has its own deadline
/// ([`crate::Timeouts::command`]), and so has opening the session. A
/// connection that fails gives its error; the next command then opens a
/// new connection (never resending the one that failed).
#[derive(Debug)]
pub struct Session {
    client: Client,
    conn: Option<(Conn, Permit)>,
    prefix: String,
    master: bool,
}

impl Session {
    pub(crate) fn open(client: Client) -> Result<Session> {
        let target = client.endpoint.target();
        let mut s = Session {
            prefix: target.map(Target::prefix).unwrap_or_default(),
            master: target.is_some(),
            client,
            conn: None,
        };
        s.ensure_open(&Deadline::after(s.client.timeouts.command))?;
        Ok(s)
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.client.endpoint
    }

    fn check(&self, line: &str) -> Result<()> {
        codec::check_line(line).map_err(|reason| Error::InvalidCommand {
            endpoint: self.endpoint().clone(),
            line: line.to_owned(),
            reason,
        })
    }

    /// Sends one command and returns its reply (without the prompt).
    ///
    /// # Errors
    /// As [`Client::command`].
    pub fn command(&mut self, line: &str) -> Result<String> {
        self.check(line)?;
        let msg = message(&self.prefix, line, None);
        let text = self.exchange(line, msg.as_bytes(), false)?;
        judge_level(self.endpoint(), line, text)
    }

    /// Sends a `<<` command with its payload, chunked under the payload
    /// limit; the chunks' replies are concatenated.
    ///
    /// # Errors
    /// As [`Client::command_with_payload`].
    pub fn command_with_payload(&mut self, line: &str, payload: &str) -> Result<String> {
        self.check(line)?;
        let chunks = chunks(self.endpoint(), line, payload, self.client.payload_limit)?;
        let mut out = String::new();
        for chunk in chunks {
            let msg = message(&self.prefix, line, Some(chunk));
            let text = self.exchange(line, msg.as_bytes(), true)?;
            out.push_str(&judge_level(self.endpoint(), line, text)?);
        }
        Ok(out)
    }

    /// Sends many commands with pipelining: up to [`PIPELINE_WINDOW`]
    /// commands (and 8 KiB) are written at once, then their replies are
    /// read and framed one prompt at a time. Much faster than
    /// [`Session::command`] in a loop (no round trip per command); meant
    /// for commands with short replies (writes). Every command is sent,
    /// whatever an earlier one answered: judge the replies. Each window
    /// has one command's deadline.
    ///
    /// # Errors
    /// As [`Session::command`] for the connection; [`Error::Framing`] when
    /// the replies do not split into exactly one per command (the session
    /// is then closed). A reply of `Permission denied` is returned as
    /// text here, not as [`Error::LevelTooLow`], so that every reply can be
    /// matched to its command.
    pub fn pipeline<S: AsRef<str>>(&mut self, lines: &[S]) -> Result<Vec<String>> {
        for l in lines {
            self.check(l.as_ref())?;
        }
        let mut replies = Vec::with_capacity(lines.len());
        let mut start = 0;
        while start < lines.len() {
            let (end, msg) = window(&self.prefix, lines, start);
            let first = lines[start].as_ref();
            match self.pipeline_window(first, msg.as_bytes(), end - start) {
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

    fn pipeline_window(&mut self, first: &str, msg: &[u8], count: usize) -> Result<Vec<String>> {
        let deadline = Deadline::after(self.client.timeouts.command);
        self.ensure_open(&deadline)?;
        let endpoint = self.client.endpoint.clone();
        // Writes' replies are short; a dump in a pipeline may be large.
        let limit = self.client.limits.dump.max(self.client.limits.other);
        let master = self.master;
        let conn = self.conn_mut()?;
        conn.write_all(&endpoint, msg, &deadline)?;
        let mut decoder = PromptDecoder::new(master, limit);
        let mut out = Vec::with_capacity(count);
        let mut buf = vec![0u8; READ_CHUNK];
        let frame = |e| Error::from_frame(&endpoint, first, e);
        while out.len() < count {
            match decoder.next_reply() {
                Some(reply) => out.push(reply.map_err(frame)?),
                None => {
                    let n = conn.read(&endpoint, &mut buf, &deadline, decoder.pending())?;
                    if n == 0 {
                        return Err(frame(decoder.eof()));
                    }
                    decoder.feed(&buf[..n]).map_err(frame)?;
                }
            }
        }
        nothing_left(&endpoint, decoder.pending(), count)?;
        Ok(out)
    }

    fn conn_mut(&mut self) -> Result<&mut Conn> {
        match self.conn.as_mut() {
            Some((conn, _)) => Ok(conn),
            None => Err(Error::ClosedMidReply {
                endpoint: self.client.endpoint.clone(),
                received: 0,
            }),
        }
    }

    /// Opens the connection and enters prompt mode, if not open.
    fn ensure_open(&mut self, deadline: &Deadline) -> Result<()> {
        if self.conn.is_some() {
            return Ok(());
        }
        let client = self.client.clone();
        let master = self.master;
        let opened = client.with_retries(deadline, || {
            let (mut conn, permit) = client.open(deadline)?;
            conn.write_all(&client.endpoint, b"prompt\n", deadline)?;
            read_reply(
                &mut conn,
                &client.endpoint,
                "prompt",
                deadline,
                master,
                client.limits.other,
            )?;
            Ok((conn, permit))
        })?;
        self.conn = Some(opened);
        Ok(())
    }

    fn exchange(&mut self, line: &str, msg: &[u8], payload: bool) -> Result<String> {
        let deadline = Deadline::after(self.client.timeouts.command);
        self.ensure_open(&deadline)?;
        let endpoint = self.client.endpoint.clone();
        let limit = self.client.limits.for_line(line);
        let master = self.master;
        let conn = self.conn_mut()?;
        let result = conn
            .write_all(&endpoint, msg, &deadline)
            .and_then(|()| read_reply(conn, &endpoint, line, &deadline, master, limit));
        match result {
            Ok(mut text) => {
                if payload {
                    strip_payload_prompts(&mut text);
                }
                Ok(text)
            }
            Err(e) => {
                // The connection's state is unknown: drop it.
                self.conn = None;
                Err(e)
            }
        }
    }
}

/// The next pipeline window from `start`: up to [`PIPELINE_WINDOW`]
/// commands and about 8 KiB; the index after it and the bytes to send.
pub(crate) fn window<S: AsRef<str>>(prefix: &str, lines: &[S], start: usize) -> (usize, String) {
    let mut msg = String::new();
    let mut end = start;
    while end < lines.len() && end - start < PIPELINE_WINDOW && msg.len() < 8 * 1024 {
        msg.push_str(prefix);
        msg.push_str(lines[end].as_ref());
        msg.push('\n');
        end += 1;
    }
    (end, msg)
}

/// Interactive mode echoes a `+ ` prompt per payload line before the
/// reply: removes them.
pub(crate) fn strip_payload_prompts(text: &mut String) {
    let skip = text
        .as_bytes()
        .chunks(2)
        .take_while(|c| *c == b"+ ")
        .count()
        * 2;
    text.drain(..skip);
}

/// Reads until the bytes received end with the prompt; the reply before it.
fn read_reply(
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
        let n = conn.read(endpoint, &mut buf, deadline, decoder.pending())?;
        if n == 0 {
            return Err(frame(decoder.eof()));
        }
        decoder.feed(&buf[..n]).map_err(frame)?;
        if let Some(reply) = decoder.final_reply() {
            return reply.map_err(frame);
        }
    }
}

/// A pipelined window's replies must use every byte read: bytes after the
/// last reply mean the framing went wrong ([`Error::Framing`]).
pub(crate) fn nothing_left(endpoint: &Endpoint, pending: usize, count: usize) -> Result<()> {
    if pending == 0 {
        return Ok(());
    }
    Err(Error::Framing {
        endpoint: endpoint.clone(),
        detail: format!(
            "{pending} bytes after the reply to the last of {count} pipelined commands"
        ),
    })
}

impl Client {
    /// Opens a session: one connection in HAProxy's interactive (`prompt`)
    /// mode that carries many commands, each reply framed on the prompt.
    ///
    /// # Errors
    /// Connection failures (retried per the policy) and a peer that does
    /// not answer with a prompt before the deadline.
    pub fn session(&self) -> Result<Session> {
        Session::open(self.clone())
    }
}
