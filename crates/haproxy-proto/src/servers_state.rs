//! `show servers state [<backend>]`: a format version line, a `#` header
//! naming the columns, then one space-separated line per server.
//!
//! ```text
//! 1
//! # be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
//! 3 be_app 1 app1 127.0.0.1 2 0 1 1 6 1 0 2 0 0 0 0 - 18491 - 0 0 - - 0
//! ```
//!
//! Edge cases, decided here:
//! - the records are read through the header, so columns added by newer
//!   versions are kept by name and older layouts with fewer columns work;
//! - a `-` field is absent (`None`), never `""`;
//! - blank lines are skipped; a trailing `\r` is removed; fields are
//!   separated by runs of spaces or TABs;
//! - the first non-blank line must be the version (an unsigned integer),
//!   the next the `#` header; anything else (an error reply such as
//!   `Can't find backend.`) is a positioned error; an input that is empty or
//!   blank is [`ParseErrorKind::MissingHeader`];
//! - a record with more or fewer fields than the header is an error
//!   ([`ParseErrorKind::TooManyFields`] / [`ParseErrorKind::TooFewFields`]);
//! - a second `#` header line (several outputs joined) replaces the first for
//!   the lines after it.

use crate::error::lines;
use crate::error::{Input, ParseError, ParseErrorKind, Position};
use std::sync::Arc;

/// One server's saved state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerState<'a> {
    columns: Arc<[&'a str]>,
    fields: Vec<&'a str>,
    offsets: Vec<usize>,
    input: &'a str,
    record: usize,
}

/// The whole reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServersState<'a> {
    /// The format version (`1` in every HAProxy to date).
    pub version: u32,
    /// The column names of the (last) header.
    pub columns: Vec<&'a str>,
    /// One record per server.
    pub servers: Vec<ServerState<'a>>,
}

/// A server's operational state, `srv_op_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpState {
    /// 0: stopped.
    Stopped,
    /// 1: starting.
    Starting,
    /// 2: running.
    Running,
    /// 3: stopping.
    Stopping,
    /// A value this crate does not know.
    Other(u64),
}

fn e(input: &str, at: usize, kind: ParseErrorKind, found: &str) -> ParseError {
    ParseError::new(
        Input::ServersState,
        kind,
        Position::at(input.as_bytes(), at),
        found,
    )
}

/// Splits on runs of spaces/TABs, with each word's offset in `line`.
fn words(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split([' ', '\t'])
        .scan(0usize, |off, w| {
            let at = *off;
            *off += w.len() + 1;
            Some((at, w))
        })
        .filter(|(_, w)| !w.is_empty())
}

/// Parses the output of `show servers state`.
///
/// # Errors
///
/// A positioned [`ParseError`] ([`Input::ServersState`]): `MissingHeader`
/// for an empty input or data before the `#` header, `Malformed` when the
/// first line is not a version number, `TooFewFields`/`TooManyFields` for a
/// record that does not match the header.
pub fn parse_servers_state(input: &str) -> Result<ServersState<'_>, ParseError> {
    let mut it = lines(input).filter(|(_, l)| !l.trim().is_empty());
    let Some((vat, vline)) = it.next() else {
        return Err(e(input, input.len(), ParseErrorKind::MissingHeader, ""));
    };
    let version: u32 = vline.trim().parse().map_err(|_| {
        e(
            input,
            vat,
            ParseErrorKind::Malformed {
                expected: "the format version line (`1`)",
            },
            vline,
        )
    })?;
    let mut columns: Option<Arc<[&str]>> = None;
    let mut servers = Vec::new();
    for (at, line) in it {
        if let Some(h) = line.strip_prefix('#') {
            columns = Some(h.split_whitespace().collect::<Vec<_>>().into());
            continue;
        }
        let record = servers.len();
        let Some(cols) = &columns else {
            return Err(e(input, at, ParseErrorKind::MissingHeader, line).with_field("#"));
        };
        let (offsets, fields): (Vec<usize>, Vec<&str>) =
            words(line).map(|(o, w)| (at + o, w)).unzip();
        if fields.len() != cols.len() {
            let (expected, found) = (cols.len(), fields.len());
            let (kind, where_) = if found < expected {
                (
                    ParseErrorKind::TooFewFields { expected, found },
                    at + line.len(),
                )
            } else {
                (
                    ParseErrorKind::TooManyFields { expected, found },
                    offsets.get(expected).copied().unwrap_or(at),
                )
            };
            let mut err = e(input, where_, kind, line);
            err.position = err.position.with_record(record);
            return Err(err);
        }
        servers.push(ServerState {
            columns: Arc::clone(cols),
            fields,
            offsets,
            input,
            record,
        });
    }
    let Some(cols) = columns else {
        return Err(e(input, input.len(), ParseErrorKind::MissingHeader, ""));
    };
    Ok(ServersState {
        version,
        columns: cols.to_vec(),
        servers,
    })
}

impl<'a> ServerState<'a> {
    /// The field of column `name`; `None` if the column is absent or the
    /// field is `-`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        let i = self.columns.iter().position(|c| *c == name)?;
        self.fields.get(i).copied().filter(|f| *f != "-")
    }

    /// `(column, field)` pairs in order, `-` fields included as printed.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.columns
            .iter()
            .copied()
            .zip(self.fields.iter().copied())
    }

    /// The field of column `name` as an unsigned integer.
    ///
    /// # Errors
    ///
    /// [`ParseErrorKind::InvalidNumber`] naming the column, at the field's
    /// place, when it is present but not an unsigned integer.
    pub fn get_u64(&self, name: &str) -> Result<Option<u64>, ParseError> {
        let Some(i) = self.columns.iter().position(|c| *c == name) else {
            return Ok(None);
        };
        let Some(text) = self.fields.get(i).copied().filter(|f| *f != "-") else {
            return Ok(None);
        };
        text.parse().map(Some).map_err(|_| {
            let at = self.offsets.get(i).copied().unwrap_or(0);
            let mut err = e(self.input, at, ParseErrorKind::InvalidNumber, text).with_field(name);
            err.position = err.position.with_record(self.record);
            err
        })
    }

    /// `be_name`.
    pub fn backend(&self) -> Option<&'a str> {
        self.get("be_name")
    }

    /// `srv_name`.
    pub fn server(&self) -> Option<&'a str> {
        self.get("srv_name")
    }

    /// `srv_addr`.
    pub fn addr(&self) -> Option<&'a str> {
        self.get("srv_addr")
    }

    /// `srv_port`.
    ///
    /// # Errors
    ///
    /// As [`ServerState::get_u64`].
    pub fn port(&self) -> Result<Option<u64>, ParseError> {
        self.get_u64("srv_port")
    }

    /// `srv_uweight` (the user-set weight).
    ///
    /// # Errors
    ///
    /// As [`ServerState::get_u64`].
    pub fn weight(&self) -> Result<Option<u64>, ParseError> {
        self.get_u64("srv_uweight")
    }

    /// `srv_admin_state`, HAProxy's bit field (1 forced maintenance, 2
    /// inherited maintenance, 4 configured maintenance, 8 forced drain, …).
    ///
    /// # Errors
    ///
    /// As [`ServerState::get_u64`].
    pub fn admin_state(&self) -> Result<Option<u64>, ParseError> {
        self.get_u64("srv_admin_state")
    }

    /// `srv_op_state`.
    ///
    /// # Errors
    ///
    /// As [`ServerState::get_u64`].
    pub fn op_state(&self) -> Result<Option<OpState>, ParseError> {
        Ok(self.get_u64("srv_op_state")?.map(|n| match n {
            0 => OpState::Stopped,
            1 => OpState::Starting,
            2 => OpState::Running,
            3 => OpState::Stopping,
            other => OpState::Other(other),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_port srv_fqdn\n\
                      3 be_app 1 app1 127.0.0.1 2 0 80 -\n4\t x 2 y ::1 0 5 - a.example\n\n";

    #[test]
    fn parses_records() {
        let s = parse_servers_state(OK).expect("parses");
        assert_eq!(s.version, 1);
        assert_eq!(s.columns.len(), 9);
        assert_eq!(s.servers.len(), 2);
        let a = &s.servers[0];
        assert_eq!(
            (a.backend(), a.server(), a.addr()),
            (Some("be_app"), Some("app1"), Some("127.0.0.1"))
        );
        assert_eq!(a.port(), Ok(Some(80)));
        assert_eq!(a.op_state(), Ok(Some(OpState::Running)));
        assert_eq!(a.get("srv_fqdn"), None);
        let b = &s.servers[1];
        assert_eq!(
            (b.backend(), b.port(), b.admin_state()),
            (Some("x"), Ok(None), Ok(Some(5)))
        );
        assert_eq!(b.get("srv_fqdn"), Some("a.example"));
        assert_eq!(b.get("no_such_column"), None);
    }

    #[test]
    fn errors() {
        let cases: &[(&str, usize, usize)] = &[
            ("", 1, 1),
            ("Can't find backend.\n", 1, 1),
            ("1\n3 be 1 s\n", 2, 1),
            ("1\n# a b c\n1 2\n", 3, 4),
            ("1\n# a b\n1 2 3\n", 3, 5),
            ("1\n", 2, 1),
        ];
        for (input, line, column) in cases {
            let err = parse_servers_state(input).expect_err(input);
            assert_eq!(
                (err.position.line, err.position.column),
                (*line, *column),
                "{input:?}: {err}"
            );
        }
        let s = parse_servers_state("1\n# a srv_port\nx y\n").expect("parses");
        let err = s.servers[0].port().expect_err("not a number");
        assert_eq!(err.field.as_deref(), Some("srv_port"));
        assert_eq!((err.position.line, err.position.column), (3, 3));
    }
}
