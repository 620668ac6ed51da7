//! The reply framing of HAProxy's CLI as a pure, sans-IO codec: feed it
//! the bytes as they come, get framed replies or a typed error. No socket,
//! no clock, no thread: any transport (blocking, async, a replay of a
//! capture) drives it, and the blocking [`crate::Client`] does.
//!
//! Two framings, as HAProxy has them:
//!
//! - **One shot** ([`OneShotDecoder`]): one command per connection, the
//!   reply read to the end of the stream. A dump (`show …`, `get …`) must
//!   end with HAProxy's empty line, else it was cut short; any other reply
//!   must end with a newline. A reply in CR LF is not HAProxy's.
//! - **Prompt** ([`PromptDecoder`]): interactive mode (`prompt`), many
//!   commands on one connection, each reply ended by the prompt (`> `, or
//!   `master> ` on the master CLI).
//!
//! Both bound the size of a reply: past the limit, feeding fails with
//! [`FrameError::TooLarge`] and the bytes are not kept.
//!
//! ```
//! use haproxy_transport::codec::{OneShotDecoder, PromptDecoder};
//!
//! let mut d = OneShotDecoder::new("show info", 1 << 20, false);
//! d.feed(b"Name: HAProxy\n").unwrap();
//! d.feed(b"\n").unwrap();
//! assert_eq!(d.finish().unwrap(), "Name: HAProxy\n\n");
//!
//! let mut p = PromptDecoder::new(false, 1 << 20);
//! p.feed(b"\n> 1 (initial 1)\n\n> ").unwrap();
//! assert_eq!(p.next_reply().unwrap().unwrap(), "\n");
//! assert_eq!(p.next_reply().unwrap().unwrap(), "1 (initial 1)\n\n");
//! assert!(p.next_reply().is_none());
//! ```

use std::fmt;

/// Why bytes do not frame into a reply. The transport adds the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// The reply grew past its limit.
    TooLarge {
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// The stream ended before the reply did.
    CutShort {
        /// Bytes of the unfinished reply.
        received: usize,
    },
    /// Not HAProxy's CLI (CR LF line ends, …).
    NotHAProxy {
        /// The start of what was received.
        found: String,
    },
    /// The reply is not UTF-8.
    InvalidUtf8 {
        /// Offset of the first invalid byte.
        at: usize,
    },
    /// The master CLI has no process for the selector.
    NoSuchProcess {
        /// The master's text.
        message: String,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { limit } => write!(f, "reply larger than {limit} bytes"),
            FrameError::CutShort { received } => {
                write!(f, "stream closed mid-reply after {received} bytes")
            }
            FrameError::NotHAProxy { found } => write!(f, "not HAProxy (answered {found:?})"),
            FrameError::InvalidUtf8 { at } => write!(f, "reply is not UTF-8 (byte {at})"),
            FrameError::NoSuchProcess { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for FrameError {}

/// Whether the last command of `line` (commands split on unescaped `;`,
/// a master-CLI route `@1 ` skipped) is a dump — `show …` or `get …` —
/// whose reply HAProxy always ends with an empty line.
pub fn is_dump(line: &str) -> bool {
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
    let mut words = line[last..].split_whitespace();
    let verb = match words.next() {
        Some(w) if w.starts_with('@') => words.next().unwrap_or(""),
        Some(w) => w,
        None => "",
    };
    matches!(verb, "show" | "get")
}

/// Why a command line cannot be sent as one line, if it cannot.
pub fn check_line(line: &str) -> Result<(), &'static str> {
    if line.trim().is_empty() {
        Err("the line is empty")
    } else if line.contains(['\n', '\r']) {
        Err("it holds a line break, which would start a second command")
    } else if line.contains('\0') {
        Err("it holds a NUL byte")
    } else {
        Ok(())
    }
}

/// Why a payload cannot be chunked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadError {
    /// The payload as a whole is not valid (CR or NUL, no final newline,
    /// an empty line).
    Invalid(&'static str),
    /// One line is longer than any chunk may be.
    LineTooLarge {
        /// 0-based line index.
        line: usize,
        /// Its length.
        len: usize,
        /// The room a chunk has.
        limit: usize,
    },
}

/// Splits a `<<` payload on line boundaries into chunks that, with the
/// command line, stay under `limit` bytes (HAProxy reads a payload into
/// one buffer). Every chunk ends in `\n`; an empty payload is one empty
/// chunk.
///
/// # Errors
/// [`PayloadError`] for a payload holding CR or NUL or an empty line
/// (which would end it early), not ending in a newline, or with a line no
/// chunk can hold.
pub fn chunk_payload<'p>(
    line: &str,
    payload: &'p str,
    limit: usize,
) -> Result<Vec<&'p str>, PayloadError> {
    if payload.contains(['\r', '\0']) {
        return Err(PayloadError::Invalid("the payload holds CR or NUL"));
    }
    if payload.is_empty() {
        return Ok(vec![""]);
    }
    if !payload.ends_with('\n') {
        return Err(PayloadError::Invalid("the payload must end with a newline"));
    }
    let room = limit.saturating_sub(line.len() + 16);
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for (i, l) in payload.split_inclusive('\n').enumerate() {
        if l == "\n" {
            return Err(PayloadError::Invalid(
                "the payload holds an empty line, which would end it early",
            ));
        }
        if l.len() > room {
            return Err(PayloadError::LineTooLarge {
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

/// The master CLI closes the connection with this text when a selector
/// names no process.
fn master_refusal(bytes: &[u8]) -> Option<FrameError> {
    let text = String::from_utf8_lossy(bytes);
    let t = text.trim();
    t.starts_with("Can't find the target")
        .then(|| FrameError::NoSuchProcess {
            message: t.to_owned(),
        })
}

fn into_text(bytes: Vec<u8>) -> Result<String, FrameError> {
    String::from_utf8(bytes).map_err(|e| FrameError::InvalidUtf8 {
        at: e.utf8_error().valid_up_to(),
    })
}

/// One reply read to the end of the stream.
#[derive(Debug, Clone)]
pub struct OneShotDecoder {
    buf: Vec<u8>,
    /// Bytes of `buf` received (the rest is room handed out by `spare`).
    len: usize,
    limit: usize,
    dump: bool,
    via_master: bool,
}

impl OneShotDecoder {
    /// A decoder for the reply to `line`, at most `limit` bytes;
    /// `via_master` when the command went through the master CLI (whose
    /// refusal of an unknown process is then recognised).
    pub fn new(line: &str, limit: usize, via_master: bool) -> OneShotDecoder {
        OneShotDecoder {
            buf: Vec::new(),
            len: 0,
            limit,
            dump: is_dump(line),
            via_master,
        }
    }

    /// A decoder that reads into `buf` (emptied; its room is kept): the
    /// buffer of an earlier reply, so that a large reply read again and
    /// again lands on pages already in memory.
    pub fn with_buffer(mut self, mut buf: Vec<u8>) -> OneShotDecoder {
        buf.clear();
        self.buf = buf;
        self.len = 0;
        self
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.len
    }

    /// Whether the reply is complete before the end of the stream: the
    /// master CLI's refusal of a selector (`Can't find the target PID
    /// matching the prefix '@!1'` and its newline) is the whole reply, and
    /// HAProxy 3.0–3.4 now and then leave that connection open (2.6 always
    /// closes it), so waiting for the end of the stream could time out.
    pub fn is_done(&self) -> bool {
        let bytes = &self.buf[..self.len.min(self.buf.len())];
        self.via_master && bytes.starts_with(b"Can't find the target") && bytes.ends_with(b"\n")
    }

    /// Appends bytes.
    ///
    /// # Errors
    /// [`FrameError::TooLarge`] past the limit (the decoder is then spent).
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), FrameError> {
        self.check(bytes.len())?;
        self.buf.truncate(self.len);
        self.buf.extend_from_slice(bytes);
        self.len = self.buf.len();
        Ok(())
    }

    /// Room for up to `max` more bytes, to read into directly (no copy);
    /// follow with [`OneShotDecoder::filled`]. Never more than the limit
    /// leaves, plus one byte to see that the limit was passed.
    pub fn spare(&mut self, max: usize) -> &mut [u8] {
        let len = self.len;
        let room = self.limit.saturating_sub(len).saturating_add(1);
        let n = max.min(room).max(1);
        // Room handed out before and not filled is kept, zeroed once: a
        // read of 16 KiB into 64 KiB of room zeroes 16 KiB more, not 64.
        if self.buf.len() < len + n {
            self.buf.resize(len + n, 0);
        }
        &mut self.buf[len..len + n]
    }

    /// Keeps `n` bytes of the last [`OneShotDecoder::spare`] (0: the end
    /// of the stream).
    ///
    /// # Errors
    /// [`FrameError::TooLarge`] past the limit.
    pub fn filled(&mut self, n: usize) -> Result<(), FrameError> {
        let len = (self.len + n).min(self.buf.len());
        self.len = len;
        if len > self.limit {
            self.buf = Vec::new();
            self.len = 0;
            return Err(FrameError::TooLarge { limit: self.limit });
        }
        Ok(())
    }

    fn check(&mut self, more: usize) -> Result<(), FrameError> {
        if self.len.saturating_add(more) > self.limit {
            self.buf = Vec::new();
            self.len = 0;
            return Err(FrameError::TooLarge { limit: self.limit });
        }
        Ok(())
    }

    /// The stream ended: the reply, if it is complete.
    ///
    /// # Errors
    /// [`FrameError::NoSuchProcess`] for the master's refusal,
    /// [`FrameError::CutShort`] for a reply without its end,
    /// [`FrameError::NotHAProxy`] for CR LF line ends,
    /// [`FrameError::InvalidUtf8`].
    pub fn finish(mut self) -> Result<String, FrameError> {
        self.buf.truncate(self.len);
        let bytes = self.buf;
        if self.via_master {
            if let Some(e) = master_refusal(&bytes) {
                return Err(e);
            }
        }
        let complete = match bytes.as_slice() {
            [] => false,
            // A dump (`show …`, `get …`) ends with an empty line, errors
            // included; a dump cut at a line boundary lacks it.
            b"\n" => true,
            [.., b'\n', b'\n'] => true,
            // HAProxy ends every reply with a newline; a few 2.6 messages
            // (`del server`) lack the empty line.
            [.., b'\n'] => !self.dump,
            _ => false,
        };
        if !complete {
            let received = bytes.len();
            if std::str::from_utf8(&bytes).is_err() {
                into_text(bytes)?;
                return Err(FrameError::CutShort { received });
            }
            // HAProxy's CLI never ends lines with CR LF; network protocols
            // (HTTP, SMTP, SSH banners) do.
            if bytes.ends_with(b"\r\n") {
                return Err(FrameError::NotHAProxy {
                    found: String::from_utf8_lossy(&bytes[..received.min(60)]).into_owned(),
                });
            }
            return Err(FrameError::CutShort { received });
        }
        into_text(bytes)
    }
}

/// Replies framed on HAProxy's prompt (interactive mode).
#[derive(Debug, Clone)]
pub struct PromptDecoder {
    buf: Vec<u8>,
    /// Start of the reply being framed.
    from: usize,
    /// Where the search for the next prompt resumes: the start of the
    /// first line not yet known to hold no prompt (a prompt begins a
    /// line, and may arrive split across feeds). Keeps framing linear.
    scan: usize,
    master: bool,
    limit: usize,
}

impl PromptDecoder {
    /// A decoder for a worker's prompt (`> `) or, with `master`, the
    /// master CLI's (`master> `); each reply at most `limit` bytes.
    pub fn new(master: bool, limit: usize) -> PromptDecoder {
        PromptDecoder {
            buf: Vec::new(),
            from: 0,
            scan: 0,
            master,
            limit,
        }
    }

    /// Sets the limit of the replies still to come.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// Bytes received and not yet framed into a reply.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.from
    }

    /// Appends bytes.
    ///
    /// # Errors
    /// [`FrameError::TooLarge`] when the unframed bytes pass the limit
    /// without a prompt (the decoder is then spent).
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), FrameError> {
        self.compact();
        self.buf.extend_from_slice(bytes);
        if self.pending() > self.limit && self.find().is_none() {
            // A reply may be done and the next begun in these bytes: only
            // a run of bytes without any prompt is too large.
            self.buf = Vec::new();
            self.from = 0;
            self.scan = 0;
            return Err(FrameError::TooLarge { limit: self.limit });
        }
        Ok(())
    }

    fn compact(&mut self) {
        if self.from > 0 && self.from == self.buf.len() {
            self.buf.clear();
            self.from = 0;
            self.scan = 0;
        } else if self.from > 64 * 1024 && self.from * 2 > self.buf.len() {
            self.buf.drain(..self.from);
            self.scan -= self.from;
            self.from = 0;
        }
    }

    /// The first prompt at or after `scan`: `(end of the reply, length of
    /// the prompt)`, absolute; remembers where to resume when none.
    fn find(&mut self) -> Option<(usize, usize)> {
        let start = self.scan.max(self.from);
        match find_prompt(&self.buf[start..], self.master) {
            Some((end, plen)) => Some((start + end, plen)),
            None => {
                // Resume at the last line start: its prompt may be partial.
                let last = self.buf[start..]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(start, |i| start + i + 1);
                self.scan = last;
                None
            }
        }
    }

    /// The next reply framed by a prompt at the start of a line (for
    /// pipelined commands, whose replies follow each other).
    pub fn next_reply(&mut self) -> Option<Result<String, FrameError>> {
        let (end, plen) = self.find()?;
        let reply = self.buf[self.from..end].to_vec();
        self.from = end + plen;
        self.scan = self.from;
        Some(into_text(reply))
    }

    /// The reply, once the bytes received end with the prompt (for one
    /// command at a time: a line inside a reply that happens to begin
    /// with `> ` does not end it unless nothing follows).
    pub fn final_reply(&mut self) -> Option<Result<String, FrameError>> {
        let len = prompt_len(&self.buf[self.from..], self.master)?;
        let end = self.buf.len() - len;
        let reply = self.buf[self.from..end].to_vec();
        self.from = self.buf.len();
        self.scan = self.from;
        Some(into_text(reply))
    }

    /// The error for a stream that ended now.
    pub fn eof(&self) -> FrameError {
        let rest = &self.buf[self.from..];
        if self.master {
            if let Some(e) = master_refusal(rest) {
                return e;
            }
        }
        FrameError::CutShort {
            received: rest.len(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_master_refusal_is_complete_at_its_newline() {
        let mut d = OneShotDecoder::new("show info", 1 << 20, true);
        d.feed(b"Can't find the target PID").expect("feed");
        assert!(!d.is_done());
        d.feed(b" matching the prefix '@!1'\n").expect("feed");
        assert!(d.is_done());
        assert!(matches!(d.finish(), Err(FrameError::NoSuchProcess { .. })));
        let mut worker = OneShotDecoder::new("show info", 1 << 20, false);
        worker.feed(b"Can't find the target PID\n").expect("feed");
        assert!(!worker.is_done(), "only through the master");
        let mut info = OneShotDecoder::new("show info", 1 << 20, true);
        info.feed(b"Name: HAProxy\n").expect("feed");
        assert!(!info.is_done());
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
        let mut d = PromptDecoder::new(false, 1 << 20);
        for b in buf.iter() {
            d.feed(&[*b]).expect("feed");
        }
        let replies: Vec<String> = std::iter::from_fn(|| d.next_reply())
            .map(|r| r.expect("utf8"))
            .collect();
        assert_eq!(replies, ["\n", "5 (initial 10)\n\n", "No such server.\n"]);
        assert_eq!(d.pending(), 0);
        assert_eq!(d.eof(), FrameError::CutShort { received: 0 });
    }

    #[test]
    fn one_shot_completeness() {
        let run = |line: &str, bytes: &[u8]| {
            let mut d = OneShotDecoder::new(line, 1 << 20, true);
            d.feed(bytes).expect("feed");
            d.finish()
        };
        assert!(run("show stat", b"# pxname\nfe\n\n").is_ok());
        assert_eq!(
            run("show stat", b"# pxname\nfe\n"),
            Err(FrameError::CutShort { received: 12 })
        );
        assert!(run("del server b/s", b"Server deleted.\n").is_ok());
        assert!(run("set weight b/s 1", b"\n").is_ok());
        assert!(matches!(
            run("show info", b"HTTP/1.0 400 Bad\r\n"),
            Err(FrameError::NotHAProxy { .. })
        ));
        assert!(matches!(
            run("show info", b"Can't find the target CLI!\n"),
            Err(FrameError::NoSuchProcess { .. })
        ));
        assert!(matches!(
            run("show info", b"\xff\xfe\n\n"),
            Err(FrameError::InvalidUtf8 { at: 0 })
        ));
        assert_eq!(
            run("show info", b""),
            Err(FrameError::CutShort { received: 0 })
        );
    }

    #[test]
    fn limits_hold_whatever_the_split() {
        let mut d = OneShotDecoder::new("show stat", 10, false);
        d.feed(b"0123456789").expect("at the limit");
        assert_eq!(d.feed(b"x"), Err(FrameError::TooLarge { limit: 10 }));
        let mut d = OneShotDecoder::new("show stat", 10, false);
        let n = {
            let s = d.spare(1000);
            assert_eq!(s.len(), 11, "never more room than the limit and one");
            s[..11].copy_from_slice(b"0123456789x");
            11
        };
        assert_eq!(d.filled(n), Err(FrameError::TooLarge { limit: 10 }));
        let mut p = PromptDecoder::new(false, 8);
        p.feed(b"\n> ").expect("prompt");
        assert!(p.next_reply().is_some());
        assert_eq!(p.feed(b"012345678"), Err(FrameError::TooLarge { limit: 8 }));
    }

    #[test]
    fn payload_chunks_on_line_boundaries() {
        let payload: String = (0..1000).map(|i| format!("key{i} value{i}\n")).collect();
        let chunks = chunk_payload("add map #1 <<", &payload, 1000).expect("chunks");
        assert!(chunks.len() > 10);
        assert_eq!(chunks.concat(), payload);
        assert!(chunks.iter().all(|c| c.ends_with('\n') && c.len() <= 1000));
        assert!(matches!(
            chunk_payload("l", &format!("{}\n", "x".repeat(2000)), 1000),
            Err(PayloadError::LineTooLarge { line: 0, .. })
        ));
        assert!(chunk_payload("l", "a 1\n\nb 2\n", 1000).is_err());
        assert!(chunk_payload("l", "a 1", 1000).is_err());
    }

    #[test]
    fn lines_that_would_split_are_refused() {
        for l in ["", "  ", "show info\nshow stat", "a\rb", "a\0"] {
            assert!(check_line(l).is_err(), "{l:?}");
        }
        assert!(check_line("show info").is_ok());
    }

    #[test]
    fn the_last_command_decides() {
        assert!(is_dump("show stat"));
        assert!(is_dump("  get map #1 k"));
        assert!(is_dump("set weight b/s 1; show info"));
        assert!(is_dump("@1 show stat"));
        assert!(!is_dump("show info; del server b/s"));
        assert!(!is_dump(r"show info; add map m a\;show b"));
        assert!(!is_dump("set weight b/s 1"));
        assert!(!is_dump(""));
    }
}
