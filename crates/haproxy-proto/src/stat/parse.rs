//! The parser: header-driven, CSV quoting, numbers typed while reading,
//! the commonest fields in tight loops of their own.

use nom::bytes::complete::take_till;
use nom::character::complete::{char, space0};
use nom::combinator::all_consuming;
use nom::multi::separated_list1;
use nom::sequence::pair;
use nom::IResult;

use super::packing::{Packed, Slot, INPUT_MAX};
use super::table::{OwnedStatTable, Read, StatTable, TableMemory};
use crate::error::{Input, ParseError, ParseErrorKind, Position};
use crate::field::{Column, HeaderColumn};

/// Parses a `show stat` reply. See the [module documentation](crate::stat) for
/// every edge case.
///
/// # Errors
///
/// A [`ParseError`] with its position (line, column, record), the field
/// and the text found: [`ParseErrorKind::MissingHeader`] for data before any
/// header, [`ParseErrorKind::TooFewFields`] / [`ParseErrorKind::TooManyFields`]
/// for a record that does not match the header,
/// [`ParseErrorKind::Truncated`] for a short record at the end of an input
/// without a final newline, [`ParseErrorKind::InvalidNumber`] for text in a
/// numeric column, [`ParseErrorKind::UnterminatedQuote`], and
/// [`ParseErrorKind::Malformed`] for a second, different header, text after
/// a closing quote, or an input of 2 GiB or more.
pub fn parse_stat(input: &str) -> Result<StatTable<'_>, ParseError> {
    Parser::new(input)?.run(None)
}

/// Parses a `show stat` reply that has no header (some tools strip it),
/// with the columns given. Otherwise as [`parse_stat`].
///
/// ```
/// use haproxy_proto::field::Column;
/// use haproxy_proto::stat::parse_stat_with_columns;
///
/// let cols = &Column::ALL[..3]; // pxname, svname, qcur
/// let t = parse_stat_with_columns("be,s1,4,\n", cols)?;
/// assert_eq!(t.record(0).and_then(|r| r.int(Column::Qcur)), Some(4));
/// # Ok::<(), haproxy_proto::ParseError>(())
/// ```
///
/// # Errors
///
/// As [`parse_stat`], and [`ParseErrorKind::Malformed`] where the input has
/// a `#` header line after all, or `columns` is empty.
pub fn parse_stat_with_columns<'a>(
    input: &'a str,
    columns: &[Column],
) -> Result<StatTable<'a>, ParseError> {
    if columns.is_empty() {
        return Err(ParseError::new(
            Input::Stat,
            ParseErrorKind::Malformed {
                expected: "at least one column",
            },
            Position::at(input.as_bytes(), 0),
            "",
        ));
    }
    let header = columns.iter().map(|c| HeaderColumn::Known(*c)).collect();
    Parser::new(input)?.run(Some(header))
}

pub(super) fn header_names(line: &str) -> IResult<&str, Vec<&str>> {
    all_consuming(separated_list1(char(','), take_till(|c| c == ',')))(line)
}

pub(super) fn hash_prefix(line: &str) -> IResult<&str, (char, &str)> {
    pair(char('#'), space0)(line)
}

/// Reads a names line (without its `#`): names trimmed, the empty name
/// after a trailing comma dropped.
pub(super) fn names_of(line: &str) -> Vec<HeaderColumn<'_>> {
    let mut names = match header_names(line) {
        Ok((_, names)) => names,
        Err(_) => vec![line],
    };
    if names.len() > 1 && names.last().is_some_and(|n| n.trim().is_empty()) {
        names.pop();
    }
    names
        .into_iter()
        .map(|n| HeaderColumn::from_name(n.trim_matches(' ')))
        .collect()
}

pub(super) struct Parser<'a> {
    input: &'a str,
    bytes: &'a [u8],
    table: StatTable<'a>,
}

/// How a field ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// At a comma; the next field starts after it.
    Comma,
    /// At a line end; the next record starts after it.
    Line,
    /// At the end of the input.
    Eof,
}

impl<'a> Parser<'a> {
    pub(super) fn new(input: &'a str) -> Result<Parser<'a>, ParseError> {
        if input.len() >= INPUT_MAX {
            return Err(ParseError::new(
                Input::Stat,
                ParseErrorKind::Malformed {
                    expected: "a reply smaller than 2 GiB",
                },
                Position::default(),
                "",
            ));
        }
        Ok(Parser {
            input,
            bytes: input.as_bytes(),
            table: StatTable::new(input),
        })
    }

    /// Parses into `slots` and `starts` (empty, with room from an
    /// earlier table).
    pub(super) fn with_memory(mut self, slots: Vec<Packed>, starts: Vec<u32>) -> Parser<'a> {
        self.table.slots = slots;
        self.table.starts = starts;
        self
    }

    pub(super) fn error(&self, kind: ParseErrorKind, at: usize, found: &str) -> ParseError {
        ParseError::new(Input::Stat, kind, Position::at(self.bytes, at), found)
    }

    pub(super) fn record_error(
        &self,
        kind: ParseErrorKind,
        at: usize,
        col: usize,
        found: &str,
    ) -> ParseError {
        let mut e = ParseError::new(
            Input::Stat,
            kind,
            Position::at(self.bytes, at).with_record(self.table.records),
            found,
        );
        if let Some(h) = self.table.header.get(col) {
            e = e.with_field(h.name());
        }
        e
    }

    /// The line starting at `p`, without its line end, and where the next
    /// line starts.
    pub(super) fn line_at(&self, p: usize) -> (&'a str, usize) {
        let rest = &self.bytes[p..];
        let (end, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (p + i, p + i + 1),
            None => (self.bytes.len(), self.bytes.len()),
        };
        let mut line = &self.input[p..end];
        if let Some(l) = line.strip_suffix('\r') {
            line = l;
        }
        (line, next)
    }

    pub(super) fn run(
        mut self,
        given: Option<Vec<HeaderColumn<'a>>>,
    ) -> Result<StatTable<'a>, ParseError> {
        let headerless = given.is_some();
        if let Some(header) = given {
            self.table.set_header(header);
        }
        let newlines = count_newlines(self.bytes);
        let mut have_header = headerless;
        let mut p = 0;
        let len = self.bytes.len();
        while p < len {
            match self.bytes[p] {
                b'\n' => {
                    p += 1;
                    continue;
                }
                b'\r' if self.bytes.get(p + 1).map_or(true, |&b| b == b'\n') => {
                    p += 2;
                    continue;
                }
                b'#' => {
                    if headerless {
                        return Err(self.error(
                            ParseErrorKind::Malformed {
                                expected: "no header line (the columns were given)",
                            },
                            p,
                            self.line_at(p).0,
                        ));
                    }
                    let (header, next) = self.header_at(p)?;
                    if !have_header {
                        self.table.set_header(header);
                        have_header = true;
                        let n = self.table.header.len();
                        self.table
                            .slots
                            .reserve(newlines.saturating_sub(1).saturating_mul(n));
                        self.table.starts.reserve(newlines.saturating_sub(1));
                    } else if header != self.table.header {
                        return Err(self.error(
                            ParseErrorKind::Malformed {
                                expected: "a repeated header naming the same columns as the first",
                            },
                            p,
                            self.line_at(p).0,
                        ));
                    }
                    p = next;
                }
                _ => {
                    if !have_header {
                        return Err(self.error(
                            ParseErrorKind::MissingHeader,
                            p,
                            self.line_at(p).0,
                        ));
                    }
                    // Under 2 GiB: checked in `Parser::new`.
                    let base = p as u32;
                    self.table.base = base;
                    p = self.record_at(p)?;
                    self.table.starts.push(base);
                    self.table.records += 1;
                }
            }
        }
        Ok(self.table)
    }

    /// Reads the header at `p` (a `#` line, or a lone `#` line and the
    /// names line after it).
    pub(super) fn header_at(&self, p: usize) -> Result<(Vec<HeaderColumn<'a>>, usize), ParseError> {
        let (line, mut next) = self.line_at(p);
        let rest = match hash_prefix(line) {
            Ok((rest, _)) => rest,
            Err(_) => line,
        };
        if !rest.trim().is_empty() {
            return Ok((names_of(rest), next));
        }
        // A lone `#`: the names are on the next non-blank line.
        while next < self.bytes.len() {
            let (names, after) = self.line_at(next);
            if names.trim().is_empty() {
                next = after;
                continue;
            }
            return Ok((names_of(names), after));
        }
        Err(self.error(ParseErrorKind::MissingHeader, p, line))
    }

    /// Reads the record starting at `p`; returns where the next starts.
    pub(super) fn record_at(&mut self, start: usize) -> Result<usize, ParseError> {
        let bytes = self.bytes;
        let len = bytes.len();
        let n = self.table.header.len();
        let mut p = start;
        let mut end = End::Eof;
        let mut col = 0;
        // The record's slots, empty until a field is read: an empty field
        // (about half of a server's) is then not written at all.
        let row = self.table.slots.len();
        self.table.slots.resize(row + n, Packed(0));
        while col < n {
            // The two commonest fields, an empty one and a one-digit number
            // (nine in ten fields of a 2.6 dump), in a tight loop.
            let (q, c) = fast_fields(
                bytes,
                &self.table.reads,
                &mut self.table.slots[row..],
                p,
                col,
            );
            if c > col {
                end = End::Comma;
                p = q;
                col = c;
                if col == n {
                    break;
                }
            }
            let read = self.table.reads[col];
            let (slot, term) = match bytes.get(p) {
                Some(b'"') => self.quoted_field(p, col)?,
                _ => {
                    let fast = match read {
                        Read::Number | Read::Byte | Read::Guess => number_fast(bytes, p),
                        Read::Text => text_fast(bytes, p),
                    };
                    match fast {
                        Some(x) => x,
                        None => self.slow_field(p, col, read)?,
                    }
                }
            };
            let slot = match (read, slot) {
                (Read::Byte, Slot::Int(v)) if !(0..=255).contains(&v) => {
                    return Err(self.record_error(
                        ParseErrorKind::Malformed {
                            expected: "a proxy type from 0 to 255",
                        },
                        p,
                        col,
                        &v.to_string(),
                    ))
                }
                (Read::Byte, Slot::UInt(v)) => {
                    return Err(self.record_error(
                        ParseErrorKind::Malformed {
                            expected: "a proxy type from 0 to 255",
                        },
                        p,
                        col,
                        &v.to_string(),
                    ))
                }
                (_, s) => s,
            };
            self.table.set_slot(row + col, slot);
            end = match bytes.get(term) {
                Some(b',') => End::Comma,
                Some(_) => End::Line,
                None => End::Eof,
            };
            p = term + 1;
            if end != End::Comma && col + 1 < n {
                self.table.slots.truncate(self.table.records * n);
                let kind = if end == End::Eof {
                    ParseErrorKind::Truncated
                } else {
                    ParseErrorKind::TooFewFields {
                        expected: n,
                        found: col + 1,
                    }
                };
                let at = if end == End::Eof { len } else { start };
                return Err(self.record_error(kind, at, col + 1, self.line_at(start).0));
            }
            col += 1;
        }
        match end {
            End::Line | End::Eof => Ok(p.min(len)),
            End::Comma => {
                // The trailing comma: the line must end here.
                match bytes.get(p) {
                    None => Ok(len),
                    Some(b'\n') => Ok(p + 1),
                    Some(b'\r') if matches!(bytes.get(p + 1), None | Some(b'\n')) => {
                        Ok((p + 2).min(len))
                    }
                    Some(_) => {
                        let found = n + self.count_fields(p);
                        self.table.slots.truncate(self.table.records * n);
                        Err(self.record_error(
                            ParseErrorKind::TooManyFields { expected: n, found },
                            p,
                            n,
                            self.line_at(start).0,
                        ))
                    }
                }
            }
        }
    }

    /// Counts the fields from `p` to the end of the record, quotes
    /// honoured (for the error message).
    pub(super) fn count_fields(&self, mut p: usize) -> usize {
        let mut count = 1;
        let mut quoted = false;
        while let Some(&b) = self.bytes.get(p) {
            match b {
                b'"' => quoted = !quoted,
                b',' if !quoted => count += 1,
                b'\n' if !quoted => break,
                _ => {}
            }
            p += 1;
        }
        // The empty field after a trailing comma is not counted.
        let before = self.bytes[..p]
            .strip_suffix(b"\r")
            .unwrap_or(&self.bytes[..p]);
        if before.last() == Some(&b',') {
            count -= 1;
        }
        count
    }

    /// A field the fast paths did not take: CR before a line end, a
    /// sign, a long number, or text in a numeric column.
    pub(super) fn slow_field(
        &mut self,
        p: usize,
        col: usize,
        read: Read,
    ) -> Result<(Slot, usize), ParseError> {
        let bytes = self.bytes;
        let mut term = p;
        while let Some(&b) = bytes.get(term) {
            if b == b',' || b == b'\n' {
                break;
            }
            term += 1;
        }
        let mut end = term;
        if end > p && bytes[end - 1] == b'\r' && bytes.get(term) != Some(&b',') {
            end -= 1;
        }
        let text = &self.input[p..end];
        let slot = self.typed_slot(text, p, false, col, read)?;
        Ok((slot, term))
    }

    /// Types the text of a field. `at` is where the text starts in the
    /// input; `owned` says the text is not the input's bytes there (it
    /// was unescaped) and must be stored apart.
    pub(super) fn typed_slot(
        &mut self,
        text: &str,
        at: usize,
        owned: bool,
        col: usize,
        read: Read,
    ) -> Result<Slot, ParseError> {
        if text.is_empty() {
            return Ok(Slot::Empty);
        }
        let number = number_slot(text);
        match (read, number) {
            (Read::Guess, Some(slot)) => Ok(slot),
            (Read::Text | Read::Guess, _) => Ok(self.text_slot(text, at, owned)),
            (Read::Number | Read::Byte, Some(slot)) => Ok(slot),
            (Read::Number | Read::Byte, None) => {
                Err(self.record_error(ParseErrorKind::InvalidNumber, at, col, text))
            }
        }
    }

    pub(super) fn text_slot(&mut self, text: &str, at: usize, owned: bool) -> Slot {
        if owned {
            let i = self.table.unescaped.len();
            self.table.unescaped.push(text.to_owned());
            // Fewer unescaped fields than input bytes, so under 4 Gi.
            Slot::Owned(i as u32)
        } else {
            // Both fit in u32: the input is checked to be under 2 GiB.
            Slot::Span(at as u32, (at + text.len()) as u32)
        }
    }

    /// A quoted field starting at `p` (on the `"`).
    pub(super) fn quoted_field(
        &mut self,
        p: usize,
        col: usize,
    ) -> Result<(Slot, usize), ParseError> {
        let bytes = self.bytes;
        let mut q = p + 1;
        let mut escaped = false;
        let close = loop {
            match bytes[q..].iter().position(|&b| b == b'"') {
                None => {
                    return Err(self.record_error(
                        ParseErrorKind::UnterminatedQuote,
                        p,
                        col,
                        self.line_at(p).0,
                    ))
                }
                Some(i) => {
                    let at = q + i;
                    if bytes.get(at + 1) == Some(&b'"') {
                        escaped = true;
                        q = at + 2;
                    } else {
                        break at;
                    }
                }
            }
        };
        let term = close + 1;
        let term = match bytes.get(term) {
            None | Some(b',') | Some(b'\n') => term,
            Some(b'\r') if matches!(bytes.get(term + 1), None | Some(b'\n')) => term + 1,
            Some(_) => {
                return Err(self.record_error(
                    ParseErrorKind::Malformed {
                        expected: "a comma or a line end after a closing quote",
                    },
                    term,
                    col,
                    self.line_at(p).0,
                ))
            }
        };
        let read = self.table.reads[col];
        let raw = &self.input[p + 1..close];
        let slot = if escaped {
            let text = raw.replace("\"\"", "\"");
            self.typed_slot(&text, p + 1, true, col, read)?
        } else {
            self.typed_slot(raw, p + 1, false, col, read)?
        };
        Ok((slot, term))
    }
}

/// An integer slot for `text`, if it is a decimal integer (an optional
/// `-`, then digits).
pub(super) fn number_slot(text: &str) -> Option<Slot> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Ok(v) = text.parse::<i64>() {
        return Some(Slot::Int(v));
    }
    text.parse::<u64>().ok().map(Slot::UInt)
}

/// Reads an unsigned number of up to 18 digits ending at a comma, a line
/// end or the input's end; `None` sends the field to the slow path.
#[inline(always)]
pub(super) fn number_fast(bytes: &[u8], p: usize) -> Option<(Slot, usize)> {
    let mut v: u64 = 0;
    let mut q = p;
    while let Some(&b) = bytes.get(q) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        q += 1;
    }
    match bytes.get(q) {
        Some(b',') | Some(b'\n') | None if q - p <= 18 => {
            if q == p {
                Some((Slot::Empty, q))
            } else {
                // 18 digits always fit in i64.
                Some((Slot::Int(v as i64), q))
            }
        }
        _ => None,
    }
}

/// Reads, from field `col` at `p` on, the fields that are empty or one
/// digit (in a number column) and followed by a comma, packing them into
/// `slots`; returns where it stopped: the position and the column of the
/// first field it did not read.
#[inline(always)]
pub(super) fn fast_fields(
    bytes: &[u8],
    reads: &[Read],
    row: &mut [Packed],
    mut p: usize,
    mut col: usize,
) -> (usize, usize) {
    while let (Some(&read), Some(slot)) = (reads.get(col), row.get_mut(col)) {
        match (bytes.get(p), bytes.get(p + 1)) {
            // Empty: the row's slot is empty already.
            (Some(b','), _) => p += 1,
            (Some(&d), Some(b',')) if d.is_ascii_digit() && read != Read::Text => {
                *slot = Packed::digit(d - b'0');
                p += 2;
            }
            _ => break,
        }
        col += 1;
    }
    (p, col)
}

/// Reads an unquoted text field ending at a comma, or at a line end not
/// preceded by CR, or at the input's end.
#[inline(always)]
pub(super) fn text_fast(bytes: &[u8], p: usize) -> Option<(Slot, usize)> {
    let q = field_end(bytes, p);
    if q > p && bytes[q - 1] == b'\r' && bytes.get(q) != Some(&b',') {
        return None;
    }
    if q == p {
        return Some((Slot::Empty, q));
    }
    // Both fit in u32: the input is checked to be under 2 GiB.
    Some((Slot::Span(p as u32, q as u32), q))
}

/// The first comma or LF at or after `p` (or the input's length), eight
/// bytes at a time: a byte equal to the one sought becomes zero after the
/// XOR, and `(x - 0x01…) & !x & 0x80…` flags the first zero byte exactly
/// (a borrow can only mark bytes above it).
#[inline(always)]
pub(super) fn field_end(bytes: &[u8], p: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut q = p;
    while let Some(word) = bytes.get(q..q + 8) {
        let Ok(word) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let w = u64::from_le_bytes(word);
        let c = w ^ (LO * u64::from(b','));
        let n = w ^ (LO * u64::from(b'\n'));
        let hits = ((c.wrapping_sub(LO) & !c) | (n.wrapping_sub(LO) & !n)) & HI;
        if hits != 0 {
            return q + (hits.trailing_zeros() / 8) as usize;
        }
        q += 8;
    }
    while let Some(&b) = bytes.get(q) {
        if b == b',' || b == b'\n' {
            break;
        }
        q += 1;
    }
    q
}

/// The number of LF bytes in `b`, counted in 64-byte blocks whose per-byte
/// matches add up in a `u8` (which the compiler turns into wide compares).
pub(super) fn count_newlines(b: &[u8]) -> usize {
    let blocks = b.chunks_exact(64);
    let tail = blocks.remainder();
    let mut n: usize = blocks
        .map(|block| {
            let hits: u8 = block.iter().map(|&x| u8::from(x == b'\n')).sum();
            usize::from(hits)
        })
        .sum();
    n += tail.iter().filter(|&&x| x == b'\n').count();
    n
}
impl OwnedStatTable {
    /// Parses `input` as [`parse_stat`](crate::stat::parse_stat) does and keeps it.
    ///
    /// # Errors
    /// As [`parse_stat`](crate::stat::parse_stat).
    pub fn parse(input: String) -> Result<OwnedStatTable, ParseError> {
        OwnedStatTable::parse_reusing(input, TableMemory::default())
    }

    /// [`OwnedStatTable::parse`], writing the cells into `memory` (a
    /// table's, from [`OwnedStatTable::into_memory`]) rather than into
    /// fresh memory.
    ///
    /// # Errors
    /// As [`parse_stat`](crate::stat::parse_stat).
    pub fn parse_reusing(input: String, memory: TableMemory) -> Result<OwnedStatTable, ParseError> {
        let (header, known, slots, starts, overflow, unescaped, records) = {
            let mut slots = memory.slots;
            let mut starts = memory.starts;
            slots.clear();
            starts.clear();
            let t = Parser::new(&input)?.with_memory(slots, starts).run(None)?;
            let header: Vec<Box<str>> = t.header.iter().map(|h| Box::from(h.name())).collect();
            let known = t.header.iter().map(HeaderColumn::column).collect();
            (
                header,
                known,
                t.slots,
                t.starts,
                t.overflow,
                t.unescaped,
                t.records,
            )
        };
        Ok(OwnedStatTable {
            input,
            header,
            known,
            slots,
            starts,
            overflow,
            unescaped,
            records,
        })
    }
}
