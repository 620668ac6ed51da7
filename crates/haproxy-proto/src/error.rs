//! Errors of the pure layer: parse errors that say where, and argument
//! errors that say which argument of which command was refused and why.

use std::fmt;

/// Which kind of HAProxy output was being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Input {
    /// `show stat` CSV.
    Stat,
    /// `show info`.
    Info,
    /// `show stat typed` / `show info typed`.
    Typed,
    /// `show map` / `show acl` listings and entries, `get map` / `get acl`.
    MapAcl,
    /// `show servers state`.
    ServersState,
    /// `show errors`.
    Errors,
    /// `show proc` on the master CLI.
    Proc,
    /// `show ssl cert`.
    Ssl,
    /// Any other command reply.
    Reply,
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Input::Stat => "show stat",
            Input::Info => "show info",
            Input::Typed => "typed output",
            Input::MapAcl => "map/acl output",
            Input::ServersState => "show servers state",
            Input::Errors => "show errors",
            Input::Proc => "show proc",
            Input::Ssl => "show ssl cert",
            Input::Reply => "command reply",
        })
    }
}

/// A place in the input: byte offset, 1-based line and 1-based column
/// (in bytes), and for record-oriented inputs the 0-based record number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Byte offset from the start of the input.
    pub byte: usize,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in bytes.
    pub column: usize,
    /// 0-based data record number, where the input has records.
    pub record: Option<usize>,
}

impl Position {
    /// The position of byte offset `byte` in `input`, with line and column
    /// computed from the bytes before it.
    pub fn at(input: &[u8], byte: usize) -> Position {
        let byte = byte.min(input.len());
        let before = &input[..byte];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        Position {
            byte,
            line,
            column: byte - line_start + 1,
            record: None,
        }
    }

    /// The same position, tagged with a record number.
    pub fn with_record(mut self, record: usize) -> Position {
        self.record = Some(record);
        self
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        if let Some(r) = self.record {
            write!(f, " (record {r})")?;
        }
        Ok(())
    }
}

/// What was wrong with the input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input has no header where one is required.
    MissingHeader,
    /// A quoted field is not closed before the end of the input.
    UnterminatedQuote,
    /// A record has fewer fields than the header names.
    TooFewFields {
        /// Fields the header names.
        expected: usize,
        /// Fields the record has.
        found: usize,
    },
    /// A record has more fields than the header names.
    TooManyFields {
        /// Fields the header names.
        expected: usize,
        /// Fields the record has.
        found: usize,
    },
    /// A field that must hold a number does not.
    InvalidNumber,
    /// A field or line does not have the expected form.
    Malformed {
        /// What was expected there, in words.
        expected: &'static str,
    },
    /// The input ends in the middle of a line or record.
    Truncated,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::MissingHeader => f.write_str("missing header line"),
            ParseErrorKind::UnterminatedQuote => f.write_str("unterminated quoted field"),
            ParseErrorKind::TooFewFields { expected, found } => {
                write!(
                    f,
                    "too few fields: header has {expected}, record has {found}"
                )
            }
            ParseErrorKind::TooManyFields { expected, found } => {
                write!(
                    f,
                    "too many fields: header has {expected}, record has {found}"
                )
            }
            ParseErrorKind::InvalidNumber => f.write_str("not a valid number"),
            ParseErrorKind::Malformed { expected } => write!(f, "expected {expected}"),
            ParseErrorKind::Truncated => f.write_str("input ends mid-record (truncated)"),
        }
    }
}

/// A parse failure with its place, the field involved and what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input}: {kind} at {position}{}{}", field_part(.field), found_part(.found))]
pub struct ParseError {
    /// What was being parsed.
    pub input: Input,
    /// What was wrong.
    pub kind: ParseErrorKind,
    /// Where.
    pub position: Position,
    /// The field (column) name involved, where there is one.
    pub field: Option<String>,
    /// The offending text, shortened to at most 64 characters.
    pub found: String,
}

fn field_part(field: &Option<String>) -> String {
    field
        .as_ref()
        .map(|f| format!(", field `{f}`"))
        .unwrap_or_default()
}

fn found_part(found: &str) -> String {
    if found.is_empty() {
        String::new()
    } else {
        format!(", found {found:?}")
    }
}

impl ParseError {
    /// Builds an error; `found` is shortened to 64 characters.
    pub fn new(input: Input, kind: ParseErrorKind, position: Position, found: &str) -> ParseError {
        ParseError {
            input,
            kind,
            position,
            field: None,
            found: shorten(found, 64),
        }
    }

    /// The same error, naming the field involved.
    pub fn with_field(mut self, field: impl Into<String>) -> ParseError {
        self.field = Some(field.into());
        self
    }
}

/// Shortens `s` to at most `max` characters, on a character boundary,
/// marking the cut with `…`.
pub fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

/// Why an argument cannot be carried to HAProxy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArgErrorKind {
    /// The argument is empty where a value is required.
    Empty,
    /// The argument holds a control character (CR, LF, NUL, …) that the
    /// CLI cannot carry inside one word.
    ControlCharacter {
        /// The character.
        ch: char,
        /// Its byte offset in the argument.
        at: usize,
    },
    /// The command line would have more words than HAProxy accepts (64).
    TooManyWords {
        /// Words the line would have.
        count: usize,
    },
    /// A number outside the range HAProxy accepts.
    OutOfRange {
        /// The value given.
        value: i64,
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
    /// The value does not have the form the command needs.
    Invalid {
        /// What was expected, in words.
        expected: &'static str,
    },
    /// A payload line that would end the payload early or break framing.
    Payload {
        /// What was wrong, in words.
        reason: &'static str,
    },
}

impl fmt::Display for ArgErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgErrorKind::Empty => f.write_str("must not be empty"),
            ArgErrorKind::ControlCharacter { ch, at } => {
                write!(
                    f,
                    "holds control character {ch:?} at byte {at}, which HAProxy's CLI cannot carry"
                )
            }
            ArgErrorKind::TooManyWords { count } => {
                write!(
                    f,
                    "command would have {count} words; HAProxy accepts at most 64"
                )
            }
            ArgErrorKind::OutOfRange { value, min, max } => {
                write!(f, "{value} is out of range {min}..={max}")
            }
            ArgErrorKind::Invalid { expected } => write!(f, "expected {expected}"),
            ArgErrorKind::Payload { reason } => write!(f, "payload {reason}"),
        }
    }
}

/// An argument the command builder refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{command}`: argument `{argument}` {kind} (value {})", shorten_debug(.value))]
pub struct ArgError {
    /// The command being built, e.g. `set weight`.
    pub command: &'static str,
    /// The argument's name, e.g. `server`.
    pub argument: &'static str,
    /// The refused value (shortened).
    pub value: String,
    /// Why.
    pub kind: ArgErrorKind,
}

fn shorten_debug(s: &str) -> String {
    format!("{:?}", shorten(s, 64))
}

/// Every error of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HAProxy output could not be parsed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A command argument was refused.
    #[error(transparent)]
    Argument(#[from] ArgError),
    /// HAProxy answered a command with an error.
    #[error(transparent)]
    CommandFailed(#[from] crate::reply::CommandFailed),
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Splits `input` into lines (on `\n`, a trailing `\r` removed), each with
/// the byte offset where it starts. A final line without `\n` is yielded;
/// an input ending in `\n` yields no empty last line.
pub(crate) fn lines(input: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    input.split_inclusive('\n').map(move |raw| {
        let start = offset;
        offset += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        (start, line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_counts_lines_and_columns() {
        let input = b"ab\ncd\nef";
        let cases = [(0, 1, 1), (2, 1, 3), (3, 2, 1), (7, 3, 2), (99, 3, 3)];
        for (byte, line, column) in cases {
            let p = Position::at(input, byte);
            assert_eq!((p.line, p.column), (line, column), "byte {byte}");
        }
    }

    #[test]
    fn shorten_cuts_on_char_boundary() {
        assert_eq!(shorten("héllo", 2), "hé…");
        assert_eq!(shorten("abc", 3), "abc");
    }

    #[test]
    fn parse_error_message_says_where() {
        let e = ParseError::new(
            Input::Stat,
            ParseErrorKind::InvalidNumber,
            Position::at(b"a\nbc", 3).with_record(0),
            "x1",
        )
        .with_field("scur");
        assert_eq!(
            e.to_string(),
            "show stat: not a valid number at line 2, column 2 (record 0), field `scur`, found \"x1\""
        );
    }
}
