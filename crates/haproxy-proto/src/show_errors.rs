//! `show errors`: the last invalid request or response captured per proxy.
//!
//! ```text
//! Total events captured on [24/Nov/2026:02:49:23.901] : 1
//!
//! [24/Nov/2026:02:49:22.826] frontend fe_main (#2): invalid request
//!   backend <NONE> (#-1), server <NONE> (#-1), event #0, src 127.0.0.1:55166
//!   buffer starts at 0 (including 0 out), 16354 free,
//!   len 30, wraps at 16336, error at position 19
//!   H1 connection flags 0x00000100, H1 stream flags 0x00000810
//!
//!   00000  GET / HTTP/1.1\r\n
//!   00016  Bad Header\r\n
//! ```
//!
//! Edge cases, decided here:
//! - the `Total events captured on [<date>] : <n>` line is required (its
//!   absence is [`ParseErrorKind::MissingHeader`]); blank lines and lines
//!   made only of spaces are skipped;
//! - an entry starts at a line beginning with `[`; every indented line up to
//!   the next entry belongs to it: dump lines (`  <offset>[ +] <text>`) go to
//!   [`ErrorEntry::dump`], the others to [`ErrorEntry::details`], verbatim
//!   (trimmed), and the comma-separated items HAProxy prints there
//!   (`backend <name> (#<id>)`, `server …`, `event #<n>`, `src <addr>`,
//!   `len <n>`, `error at position <n>`) are also parsed out;
//! - the dump text is kept as HAProxy escaped it (`\r\n`, `\x00`);
//! - an unindented line that is not an entry header is a positioned
//!   [`ParseErrorKind::Malformed`] error, as is an entry header that is not
//!   `[<date>] <side> <name> (#<id>): <what>`;
//! - `total` is not checked against the number of entries: HAProxy counts
//!   every event but keeps only the last one per proxy and direction.

use crate::error::lines;
use crate::error::{Input, ParseError, ParseErrorKind, Position};
#[cfg(feature = "serde")]
use serde::Serialize;

/// The whole `show errors` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct ErrorsReport<'a> {
    /// The date in the header, as printed (`24/Nov/2026:02:49:23.901`).
    pub captured_at: &'a str,
    /// The number of events captured since start.
    pub total: u64,
    /// The entries, in reply order.
    pub entries: Vec<ErrorEntry<'a>>,
}

/// A proxy named in an entry: name and id (`<NONE>` / `-1` when none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct ProxyRef<'a> {
    /// The name as printed.
    pub name: &'a str,
    /// The id (`#<id>`).
    pub id: i64,
}

/// One line of an entry's hex/text dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct DumpLine<'a> {
    /// Offset in the captured buffer.
    pub offset: u64,
    /// Whether this line continues the previous one (`+`).
    pub continued: bool,
    /// The text, escaped as HAProxy printed it.
    pub text: &'a str,
}

/// One captured error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct ErrorEntry<'a> {
    /// The date, as printed.
    pub date: &'a str,
    /// `frontend` or `backend` (the proxy that saw the error).
    pub side: &'a str,
    /// That proxy.
    pub proxy: ProxyRef<'a>,
    /// What was wrong (`invalid request`, `invalid response`).
    pub what: &'a str,
    /// The backend item, if printed.
    pub backend: Option<ProxyRef<'a>>,
    /// The server item, if printed.
    pub server: Option<ProxyRef<'a>>,
    /// `event #<n>`.
    pub event: Option<u64>,
    /// `src <addr>`.
    pub src: Option<&'a str>,
    /// `len <n>`: captured length.
    pub len: Option<u64>,
    /// `error at position <n>`.
    pub error_at: Option<u64>,
    /// The indented non-dump lines, trimmed.
    pub details: Vec<&'a str>,
    /// The dump.
    pub dump: Vec<DumpLine<'a>>,
}

fn err(input: &str, at: usize, expected: &'static str, found: &str) -> ParseError {
    ParseError::new(
        Input::Errors,
        ParseErrorKind::Malformed { expected },
        Position::at(input.as_bytes(), at),
        found,
    )
}

/// Parses the output of `show errors`.
///
/// # Errors
///
/// A positioned [`ParseError`] ([`Input::Errors`]): `MissingHeader` when the
/// first line is not `Total events captured on [<date>] : <n>`, `Malformed`
/// for an entry header that cannot be read or an unindented line that is not
/// one.
pub fn parse_errors(input: &str) -> Result<ErrorsReport<'_>, ParseError> {
    let mut it = lines(input).filter(|(_, l)| !l.trim().is_empty());
    let header = it.next();
    let (captured_at, total) = header
        .and_then(|(_, l)| {
            let rest = l.strip_prefix("Total events captured on [")?;
            let (date, n) = rest.split_once("] : ")?;
            Some((date, n.trim().parse::<u64>().ok()?))
        })
        .ok_or_else(|| {
            let (at, found) = header.unwrap_or((0, ""));
            ParseError::new(
                Input::Errors,
                ParseErrorKind::MissingHeader,
                Position::at(input.as_bytes(), at),
                found,
            )
        })?;
    let mut entries: Vec<ErrorEntry<'_>> = Vec::new();
    for (at, line) in it {
        if line.starts_with('[') {
            let entry = parse_entry_header(line)
                .ok_or_else(|| err(input, at, "`[<date>] <side> <name> (#<id>): <what>`", line))?;
            entries.push(entry);
            continue;
        }
        let (Some(entry), true) = (entries.last_mut(), line.starts_with([' ', '\t'])) else {
            return Err(err(
                input,
                at,
                "an entry header `[<date>] …` or an indented line",
                line,
            ));
        };
        let text = line.trim();
        if let Some(d) = dump_line(text) {
            entry.dump.push(d);
            continue;
        }
        for item in text.split(", ").map(str::trim) {
            if let Some(r) = item.strip_prefix("backend ") {
                entry.backend = entry.backend.or(proxy_ref(r));
            } else if let Some(r) = item.strip_prefix("server ") {
                entry.server = entry.server.or(proxy_ref(r));
            } else if let Some(r) = item.strip_prefix("event #") {
                entry.event = entry.event.or(r.parse().ok());
            } else if let Some(r) = item.strip_prefix("src ") {
                entry.src = entry.src.or(Some(r));
            } else if let Some(r) = item.strip_prefix("len ") {
                entry.len = entry.len.or(r.parse().ok());
            } else if let Some(r) = item.strip_prefix("error at position ") {
                entry.error_at = entry.error_at.or(r.parse().ok());
            }
        }
        entry.details.push(text);
    }
    Ok(ErrorsReport {
        captured_at,
        total,
        entries,
    })
}

/// `<name> (#<id>)`.
fn proxy_ref(s: &str) -> Option<ProxyRef<'_>> {
    let (name, id) = s.rsplit_once(" (#")?;
    let id = id.strip_suffix(')')?.parse().ok()?;
    Some(ProxyRef { name, id })
}

fn parse_entry_header(line: &str) -> Option<ErrorEntry<'_>> {
    let (date, rest) = line.strip_prefix('[')?.split_once("] ")?;
    let (side, rest) = rest.split_once(' ')?;
    let (proxy, what) = rest.split_once("): ")?;
    let (name, id) = proxy.rsplit_once(" (#")?;
    Some(ErrorEntry {
        date,
        side,
        proxy: ProxyRef {
            name,
            id: id.parse().ok()?,
        },
        what,
        backend: None,
        server: None,
        event: None,
        src: None,
        len: None,
        error_at: None,
        details: Vec::new(),
        dump: Vec::new(),
    })
}

/// `<digits>[ +] <text>` (already trimmed of the leading spaces).
fn dump_line(text: &str) -> Option<DumpLine<'_>> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 5 {
        return None;
    }
    let rest = &text[digits..];
    let continued = match rest.as_bytes().first() {
        Some(b'+') => true,
        Some(b' ') => false,
        None => return None,
        Some(_) => return None,
    };
    let text_part = rest[1..].strip_prefix(' ').unwrap_or(&rest[1..]);
    Some(DumpLine {
        offset: text[..digits].parse().ok()?,
        continued,
        text: text_part,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Total events captured on [24/Nov/2026:02:49:23.901] : 3\n \n\
        [24/Nov/2026:02:49:22.826] frontend fe main (#2): invalid request\n\
        \x20 backend <NONE> (#-1), server <NONE> (#-1), event #0, src 127.0.0.1:55166\n\
        \x20 len 30, wraps at 16336, error at position 19\n\
        \x20 \n\
        \x20 00000  GET / HTTP/1.1\\r\\n\n\
        \x20 00016+ Bad Header\\r\\n\n\
        \n\
        [24/Nov/2026:02:49:23.000] backend be (#3): invalid response\n\
        \x20 frontend fe (#2), server s1 (#1), event #1\n";

    #[test]
    fn parses_entries() {
        let r = parse_errors(SAMPLE).expect("parses");
        assert_eq!(
            (r.captured_at, r.total, r.entries.len()),
            ("24/Nov/2026:02:49:23.901", 3, 2)
        );
        let a = &r.entries[0];
        assert_eq!(
            (a.side, a.proxy, a.what),
            (
                "frontend",
                ProxyRef {
                    name: "fe main",
                    id: 2
                },
                "invalid request"
            )
        );
        assert_eq!(
            a.backend,
            Some(ProxyRef {
                name: "<NONE>",
                id: -1
            })
        );
        assert_eq!(
            (a.event, a.src, a.len, a.error_at),
            (Some(0), Some("127.0.0.1:55166"), Some(30), Some(19))
        );
        assert_eq!(a.dump.len(), 2);
        assert_eq!(
            a.dump[1],
            DumpLine {
                offset: 16,
                continued: true,
                text: "Bad Header\\r\\n"
            }
        );
        assert_eq!(a.details.len(), 2);
        let b = &r.entries[1];
        assert_eq!(
            (b.side, b.server, b.event),
            ("backend", Some(ProxyRef { name: "s1", id: 1 }), Some(1))
        );
    }

    #[test]
    fn errors() {
        let cases: &[(&str, ParseErrorKind, usize)] = &[
            ("", ParseErrorKind::MissingHeader, 1),
            ("Unknown command\n", ParseErrorKind::MissingHeader, 1),
            (
                "Total events captured on [x] : y\n",
                ParseErrorKind::MissingHeader,
                1,
            ),
            (
                "Total events captured on [x] : 0\n  orphan\n",
                ParseErrorKind::Malformed {
                    expected: "an entry header `[<date>] …` or an indented line",
                },
                2,
            ),
            (
                "Total events captured on [x] : 0\n[x] frontend\n",
                ParseErrorKind::Malformed {
                    expected: "`[<date>] <side> <name> (#<id>): <what>`",
                },
                2,
            ),
        ];
        for (input, kind, line) in cases {
            let e = parse_errors(input).expect_err(input);
            assert_eq!((&e.kind, e.position.line), (kind, *line), "{input:?}");
        }
        let empty = parse_errors("Total events captured on [x] : 0\n\n").expect("empty report");
        assert!(empty.entries.is_empty());
    }
}
