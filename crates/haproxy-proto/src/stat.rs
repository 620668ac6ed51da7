//! The `show stat` CSV parser.
//!
//! [`parse_stat`] reads a whole reply into a [`StatTable`]: the header (a
//! [`HeaderColumn`] per column) and every record, typed. Records are
//! [`StatRecord`] views that borrow the reply; a field is copied only when
//! CSV quoting forced an unescape. [`OwnedStatTable`] keeps the reply and
//! its typed cells for holding many tables at once (what `haproxy-admin`
//! combines from).
//!
//! ```
//! use haproxy_proto::field::Column;
//! use haproxy_proto::stat::{parse_stat, Value};
//! use haproxy_proto::value::{ProxyType, Status};
//!
//! let reply = "# pxname,svname,scur,status,type,\nbe,srv1,3,UP,2,\n\n";
//! let table = parse_stat(reply)?;
//! let rec = table.record(0).expect("one record");
//! assert_eq!(rec.pxname(), Some("be"));
//! assert_eq!(rec.get(Column::Scur), Some(Value::Int(3)));
//! assert_eq!(rec.status(), Some(Status::Up));
//! assert_eq!(rec.proxy_type(), Some(ProxyType::Server));
//! # Ok::<(), haproxy_proto::ParseError>(())
//! ```
//!
//! # The format, and what this parser decides at each edge
//!
//! - **Header.** A line starting with `#` names the columns (`# pxname,…`);
//!   the header alone says which column is where — no position is assumed.
//!   Names are trimmed of spaces (HAProxy 1.4.0 printed `req_rate,
//!   req_rate_max, req_tot`). A line holding only `#` (and spaces) makes the
//!   next non-blank line the names line, without its own `#` (as a 2012
//!   Datadog paste has it). Duplicate names (2.3's h2 module) are kept; a
//!   lookup by column or name finds the first.
//! - **No header.** Data before any header is [`ParseErrorKind::MissingHeader`].
//!   For headerless input whose layout is known, use
//!   [`parse_stat_with_columns`].
//! - **Second header.** A later `#` line naming exactly the same columns (two
//!   processes' replies joined) is skipped and the records go on; one naming
//!   different columns is a [`ParseErrorKind::Malformed`] error — parse each
//!   process's reply on its own.
//! - **Empty reply**, or only blank lines: an empty table with no header,
//!   not an error. **Header only**: a table with a header and no records.
//! - **Blank lines** (empty, or just `\r`) are skipped anywhere outside a
//!   quoted field, including a leading one and the CLI's terminating one.
//! - **Line ends**: `\n` or `\r\n`.
//! - **Trailing comma.** HAProxy ends the header and every record with a
//!   comma; it does not make a column. A record may also lack it.
//! - **Field count.** A record must have exactly the header's number of
//!   fields (plus, optionally, the empty one after the trailing comma).
//!   Fewer is [`ParseErrorKind::TooFewFields`], more is
//!   [`ParseErrorKind::TooManyFields`] — except at the very end of an input
//!   without a final newline, where a short record is
//!   [`ParseErrorKind::Truncated`]. A record at the end with the full field
//!   count is complete even without a final newline.
//! - **Quoting.** A field starting with `"` is quoted: it ends at the next
//!   lone `"`, `""` inside stands for `"`, and it may hold `,`, CR and LF
//!   (a record may so span lines). After the closing quote must come a
//!   comma or the end of the line, else [`ParseErrorKind::Malformed`]. An
//!   unclosed quote is [`ParseErrorKind::UnterminatedQuote`] at the opening
//!   quote. A `"` inside an unquoted field is an ordinary character.
//! - **Types.** Every numeric column of the [`Column`] table is parsed and
//!   checked while reading: text there is [`ParseErrorKind::InvalidNumber`]
//!   with line, column, record, field name and the text found. `type` must
//!   also fit in a byte. Text-like columns (status, check status, mode,
//!   address) are kept as text and made into their enum on access; those
//!   parsers are total (unknown text is `Other`), so no error waits for
//!   access. Columns not in the table (the `-` separator, module columns)
//!   hold an integer when the field is one, text otherwise.
//! - **Empty field**: `None`, never `0` or `""`.

use std::borrow::Cow;
use std::fmt;

use nom::bytes::complete::take_till;
use nom::character::complete::{char, space0};
use nom::combinator::all_consuming;
use nom::multi::separated_list1;
use nom::sequence::pair;
use nom::IResult;
#[cfg(feature = "serde")]
use serde::{Serialize, Serializer};

use crate::error::{Input, ParseError, ParseErrorKind, Position};
use crate::field::{Column, HeaderColumn, ValueKind, COLUMN_COUNT};
use crate::value::{Addr, CheckStatus, Mode, ProxyType, Status};
use crate::Combine;

/// A typed field value. Integers are [`Value::Int`] unless they exceed
/// `i64::MAX`, then [`Value::UInt`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// An integer.
    Int(i64),
    /// An unsigned integer above `i64::MAX`.
    UInt(u64),
    /// Text: names, descriptions, unknown non-numeric columns.
    Text(Cow<'a, str>),
    /// The `status` column.
    Status(Status),
    /// The `check_status` / `agent_status` columns.
    CheckStatus(CheckStatus),
    /// The `type` column.
    ProxyType(ProxyType),
    /// The `mode` column.
    Mode(Mode),
    /// The `addr` column.
    Addr(Addr),
}

impl<'a> Value<'a> {
    /// The value as a signed integer, for integers that fit.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            Value::UInt(v) => i64::try_from(*v).ok(),
            Value::ProxyType(t) => Some(i64::from(t.code())),
            _ => None,
        }
    }

    /// The value as an unsigned integer, for non-negative integers.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(v) => u64::try_from(*v).ok(),
            Value::UInt(v) => Some(*v),
            Value::ProxyType(t) => Some(u64::from(t.code())),
            _ => None,
        }
    }

    /// The text, for a [`Value::Text`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The same value, owning its text.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Int(v) => Value::Int(v),
            Value::UInt(v) => Value::UInt(v),
            Value::Text(s) => Value::Text(Cow::Owned(s.into_owned())),
            Value::Status(s) => Value::Status(s),
            Value::CheckStatus(s) => Value::CheckStatus(s),
            Value::ProxyType(t) => Value::ProxyType(t),
            Value::Mode(m) => Value::Mode(m),
            Value::Addr(a) => Value::Addr(a),
        }
    }

    /// Types HAProxy's text `text` as a field of `column` would be
    /// (integers for numeric kinds, enums for text-like ones). `None`
    /// when a numeric column's text is not a number.
    pub fn from_text(column: HeaderColumn<'_>, text: &'a str) -> Option<Value<'a>> {
        match column.info().map(|i| i.kind) {
            None => Some(parse_int(text).unwrap_or(Value::Text(Cow::Borrowed(text)))),
            Some(kind) => text_value(kind, Cow::Borrowed(text)),
        }
    }
}

fn parse_int(text: &str) -> Option<Value<'static>> {
    match number_slot(text)? {
        Slot::Int(v) => Some(Value::Int(v)),
        Slot::UInt(v) => Some(Value::UInt(v)),
        _ => None,
    }
}

fn text_value(kind: ValueKind, text: Cow<'_, str>) -> Option<Value<'_>> {
    Some(match kind {
        ValueKind::Name | ValueKind::Text => Value::Text(text),
        ValueKind::Status => Value::Status(Status::parse(&text)),
        ValueKind::CheckStatus => Value::CheckStatus(CheckStatus::parse(&text)),
        ValueKind::Mode => Value::Mode(Mode::parse(&text)),
        ValueKind::Addr => Value::Addr(Addr::parse(&text)),
        ValueKind::ProxyType => {
            let code = text.parse::<u8>().ok()?;
            Value::ProxyType(ProxyType::from_code(code))
        }
        _ => parse_int(&text)?,
    })
}

impl fmt::Display for Value<'_> {
    /// HAProxy's text for the value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::UInt(v) => write!(f, "{v}"),
            Value::Text(s) => f.write_str(s),
            Value::Status(s) => write!(f, "{s}"),
            Value::CheckStatus(s) => write!(f, "{s}"),
            Value::ProxyType(t) => write!(f, "{t}"),
            Value::Mode(m) => write!(f, "{m}"),
            Value::Addr(a) => write!(f, "{a}"),
        }
    }
}

#[cfg(feature = "serde")]
impl Serialize for Value<'_> {
    /// Integers (and the proxy type) as numbers, everything else as
    /// HAProxy's text.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Int(v) => serializer.serialize_i64(*v),
            Value::UInt(v) => serializer.serialize_u64(*v),
            Value::ProxyType(t) => serializer.serialize_u8(t.code()),
            Value::Text(s) => serializer.serialize_str(s),
            other => serializer.collect_str(other),
        }
    }
}

/// One stored field: 16 bytes, no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Empty,
    Int(i64),
    UInt(u64),
    /// A byte range of the input.
    Span(u32, u32),
    /// An index into `StatTable::unescaped`.
    Owned(u32),
}

/// A [`Slot`] in 8 bytes (a large fleet's tables hold millions of
/// fields): the low 2 bits say what the rest is.
///
/// - `00`: empty;
/// - `01`: an integer in the upper 62 bits (sign-extended);
/// - `10`: a span of the input: start in the upper 32 bits, length in
///   bits 2–31;
/// - `11`: an index (upper 62 bits) into the overflow table, for the rest
///   (huge integers, long spans, unescaped text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed(u64);

const PACKED_INT_MIN: i64 = -(1 << 61);
const PACKED_INT_MAX: i64 = (1 << 61) - 1;
const PACKED_LEN_MAX: u32 = (1 << 30) - 1;

impl Packed {
    fn pack(slot: Slot, overflow: &mut Vec<Slot>) -> Packed {
        match slot {
            Slot::Empty => Packed(0),
            // `as` reinterprets the range-checked value's bits.
            Slot::Int(n) if (PACKED_INT_MIN..=PACKED_INT_MAX).contains(&n) => {
                Packed(((n << 2) as u64) | 0b01)
            }
            Slot::Span(s, e) if e >= s && e - s <= PACKED_LEN_MAX => {
                Packed((u64::from(s) << 32) | (u64::from(e - s) << 2) | 0b10)
            }
            other => {
                overflow.push(other);
                Packed((((overflow.len() - 1) as u64) << 2) | 0b11)
            }
        }
    }

    fn unpack(self, overflow: &[Slot]) -> Slot {
        match self.0 & 0b11 {
            0b00 => Slot::Empty,
            // Arithmetic shift of the reinterpreted bits restores the sign.
            0b01 => Slot::Int((self.0 as i64) >> 2),
            0b10 => {
                let start = (self.0 >> 32) as u32;
                let len = ((self.0 >> 2) as u32) & PACKED_LEN_MAX;
                Slot::Span(start, start.saturating_add(len))
            }
            _ => usize::try_from(self.0 >> 2)
                .ok()
                .and_then(|i| overflow.get(i).copied())
                .unwrap_or(Slot::Empty),
        }
    }
}

/// A field of an [`OwnedStatTable`]: what the parser read, untyped beyond
/// number or text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// An empty field.
    Empty,
    /// An integer that fits in `i64`.
    Int(i64),
    /// A larger non-negative integer.
    UInt(u64),
    /// Text (unquoted and unescaped).
    Text(&'a str),
}

/// A parsed `show stat` reply that owns its text: the reply and, per
/// field, 8 bytes (a span of the text or a number). For holding many
/// processes' tables at once without a copy per field; [`StatTable`] is
/// the borrowing, typed view.
#[derive(Debug)]
pub struct OwnedStatTable {
    input: String,
    header: Vec<Box<str>>,
    /// The known column of each header name (`None`: not in the table).
    known: Vec<Option<Column>>,
    slots: Vec<Packed>,
    overflow: Vec<Slot>,
    unescaped: Vec<String>,
    records: usize,
}

impl OwnedStatTable {
    /// Parses `input` as [`parse_stat`] does and keeps it.
    ///
    /// # Errors
    /// As [`parse_stat`].
    pub fn parse(input: String) -> Result<OwnedStatTable, ParseError> {
        let (header, known, slots, overflow, unescaped, records) = {
            let t = parse_stat(&input)?;
            let header: Vec<Box<str>> = t.header.iter().map(|h| Box::from(h.name())).collect();
            let known = t.header.iter().map(HeaderColumn::column).collect();
            (header, known, t.slots, t.overflow, t.unescaped, t.records)
        };
        Ok(OwnedStatTable {
            input,
            header,
            known,
            slots,
            overflow,
            unescaped,
            records,
        })
    }

    /// The reply's text.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The header's column names, in order.
    pub fn columns(&self) -> &[Box<str>] {
        &self.header
    }

    /// The header's columns, typed: each one's [`Column`] (its kind,
    /// [`Combine`] and version) or its name when the table does not know
    /// it.
    pub fn header(&self) -> impl ExactSizeIterator<Item = HeaderColumn<'_>> + '_ {
        self.header
            .iter()
            .zip(&self.known)
            .map(|(name, known)| match known {
                Some(c) => HeaderColumn::Known(*c),
                None => HeaderColumn::Unknown(name),
            })
    }

    /// The typed cells of record `row`; `None` when out of range.
    pub fn cells(&self, row: usize) -> Option<Cells<'_>> {
        let n = self.header.len();
        if row >= self.records {
            return None;
        }
        let slots = self.slots.get(row * n..(row + 1) * n)?;
        Some(Cells { table: self, slots })
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Field `col` of record `row`; [`Field::Empty`] when out of range.
    pub fn field(&self, row: usize, col: usize) -> Field<'_> {
        let n = self.header.len();
        if col >= n || row >= self.records {
            return Field::Empty;
        }
        match self.slots.get(row * n + col) {
            Some(p) => self.unpack(*p),
            None => Field::Empty,
        }
    }

    fn unpack(&self, p: Packed) -> Field<'_> {
        match p.unpack(&self.overflow) {
            Slot::Empty => Field::Empty,
            Slot::Int(v) => Field::Int(v),
            Slot::UInt(v) => Field::UInt(v),
            Slot::Span(s, e) => self
                .input
                .get(s as usize..e as usize)
                .map_or(Field::Empty, Field::Text),
            Slot::Owned(i) => self
                .unescaped
                .get(i as usize)
                .map_or(Field::Empty, |t| Field::Text(t)),
        }
    }
}

/// The typed cells of one record of an [`OwnedStatTable`], 8 bytes each:
/// what the parser read, handed on without a copy or a second parse.
#[derive(Debug, Clone, Copy)]
pub struct Cells<'a> {
    table: &'a OwnedStatTable,
    slots: &'a [Packed],
}

impl<'a> Cells<'a> {
    /// Field `col`; [`Field::Empty`] when out of range.
    #[inline]
    pub fn get(&self, col: usize) -> Field<'a> {
        match self.slots.get(col) {
            Some(p) => self.table.unpack(*p),
            None => Field::Empty,
        }
    }

    /// Field `col` when it is empty or a number that fits in 62 bits (nine
    /// in ten fields of a dump), read without unpacking: `Some(None)` for
    /// an empty field, `None` for anything else (text, a larger number,
    /// out of range), which [`Cells::get`] reads.
    #[inline]
    pub fn small_int(&self, col: usize) -> Option<Option<i64>> {
        let p = self.slots.get(col)?;
        match p.0 & 0b11 {
            0b00 => Some(None),
            // Arithmetic shift of the reinterpreted bits restores the sign.
            0b01 => Some(Some((p.0 as i64) >> 2)),
            _ => None,
        }
    }

    /// How many fields (the header's columns).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// How the parser reads one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// A number; anything else is an error.
    Number,
    /// A number from 0 to 255 (`type`).
    Byte,
    /// Text, kept as it is.
    Text,
    /// A column not in the table: a number if it is one, else text.
    Guess,
}

const NO_INDEX: u16 = u16::MAX;

/// A parsed `show stat` reply: the header and the typed records, borrowing
/// the reply.
#[derive(Debug, Clone)]
pub struct StatTable<'a> {
    input: &'a str,
    header: Vec<HeaderColumn<'a>>,
    reads: Vec<Read>,
    /// Where each standard column is in `header`, by `Column::index()`.
    index: [u16; COLUMN_COUNT],
    /// `header.len()` slots per record, records one after the other,
    /// 8 bytes each (see [`Packed`]).
    slots: Vec<Packed>,
    /// Slots that do not fit in 8 bytes.
    overflow: Vec<Slot>,
    unescaped: Vec<String>,
    records: usize,
}

impl<'a> StatTable<'a> {
    fn new(input: &'a str) -> StatTable<'a> {
        StatTable {
            input,
            header: Vec::new(),
            reads: Vec::new(),
            index: [NO_INDEX; COLUMN_COUNT],
            slots: Vec::new(),
            overflow: Vec::new(),
            unescaped: Vec::new(),
            records: 0,
        }
    }

    fn set_header(&mut self, header: Vec<HeaderColumn<'a>>) {
        self.index = [NO_INDEX; COLUMN_COUNT];
        self.reads = Vec::with_capacity(header.len());
        for (i, h) in header.iter().enumerate() {
            let read = match h.info() {
                None => Read::Guess,
                Some(info) if info.kind == ValueKind::ProxyType => Read::Byte,
                Some(info) if info.kind.is_numeric() => Read::Number,
                Some(_) => Read::Text,
            };
            self.reads.push(read);
            if let (Some(c), Ok(i)) = (h.column(), u16::try_from(i)) {
                let slot = &mut self.index[c.index()];
                if *slot == NO_INDEX {
                    *slot = i;
                }
            }
        }
        self.header = header;
    }

    /// The columns, in the reply's order. Empty for an empty reply.
    pub fn header(&self) -> &[HeaderColumn<'a>] {
        &self.header
    }

    /// Each column with its place and how it combines across processes
    /// (`None` for columns not in the table): what an aggregator iterates,
    /// reading each record's value with [`StatRecord::get_at`].
    pub fn columns(
        &self,
    ) -> impl ExactSizeIterator<Item = (usize, HeaderColumn<'a>, Combine)> + '_ {
        self.header
            .iter()
            .enumerate()
            .map(|(i, h)| (i, *h, h.combine()))
    }

    /// Where `column` is in the header, if the reply has it.
    pub fn position(&self, column: Column) -> Option<usize> {
        match self.index[column.index()] {
            NO_INDEX => None,
            i => Some(usize::from(i)),
        }
    }

    /// Where the column named `name` is in the header (the first, if the
    /// name repeats).
    pub fn position_by_name(&self, name: &str) -> Option<usize> {
        match Column::from_name(name) {
            Some(c) => self.position(c),
            None => self.header.iter().position(|h| h.name() == name),
        }
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Record `i`, 0-based.
    pub fn record(&self, i: usize) -> Option<StatRecord<'_>> {
        (i < self.records).then_some(StatRecord {
            table: self,
            row: i,
        })
    }

    /// Every record, in order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = StatRecord<'_>> + '_ {
        (0..self.records).map(move |row| StatRecord { table: self, row })
    }

    fn slot(&self, row: usize, col: usize) -> Option<Slot> {
        let n = self.header.len();
        if col >= n {
            return None;
        }
        self.slots
            .get(row * n + col)
            .map(|p| p.unpack(&self.overflow))
    }

    fn push_slot(&mut self, slot: Slot) {
        let packed = Packed::pack(slot, &mut self.overflow);
        self.slots.push(packed);
    }

    fn slot_text(&self, slot: Slot) -> Option<&str> {
        match slot {
            Slot::Span(s, e) => self.input.get(s as usize..e as usize),
            Slot::Owned(i) => self.unescaped.get(i as usize).map(String::as_str),
            _ => None,
        }
    }
}

/// One record of a [`StatTable`]: a row for a frontend, backend, server
/// or listener.
#[derive(Debug, Clone, Copy)]
pub struct StatRecord<'t> {
    table: &'t StatTable<'t>,
    row: usize,
}

impl<'t> StatRecord<'t> {
    /// The record's 0-based number in its table.
    pub fn number(&self) -> usize {
        self.row
    }

    /// The value of the field at header position `i`; `None` when the
    /// field is empty or `i` is past the header.
    pub fn get_at(&self, i: usize) -> Option<Value<'t>> {
        let slot = self.table.slot(self.row, i)?;
        match slot {
            Slot::Empty => None,
            Slot::Int(v) => match self.table.header.get(i)?.info().map(|i| i.kind) {
                Some(ValueKind::ProxyType) => Some(Value::ProxyType(ProxyType::from_code(
                    u8::try_from(v).ok()?,
                ))),
                _ => Some(Value::Int(v)),
            },
            Slot::UInt(v) => Some(Value::UInt(v)),
            Slot::Span(..) | Slot::Owned(_) => {
                let text = self.text_at(i)?;
                match self.table.header.get(i)?.info() {
                    None => Some(Value::Text(Cow::Borrowed(text))),
                    Some(info) => text_value(info.kind, Cow::Borrowed(text)),
                }
            }
        }
    }

    /// The value of `column`; `None` when the reply lacks the column or
    /// the field is empty.
    pub fn get(&self, column: Column) -> Option<Value<'t>> {
        self.get_at(self.table.position(column)?)
    }

    /// The value of the column named `name` (any column, also unknown
    /// ones).
    pub fn get_by_name(&self, name: &str) -> Option<Value<'t>> {
        self.get_at(self.table.position_by_name(name)?)
    }

    /// The raw text of a text field at header position `i` (unescaped if it
    /// was quoted); `None` for empty and numeric fields.
    pub fn text_at(&self, i: usize) -> Option<&'t str> {
        let slot = self.table.slot(self.row, i)?;
        self.table.slot_text(slot)
    }

    /// The raw text of a text column (see [`StatRecord::text_at`]).
    pub fn text(&self, column: Column) -> Option<&'t str> {
        self.text_at(self.table.position(column)?)
    }

    /// The integer in `column`, if it holds one that fits in `i64`.
    pub fn int(&self, column: Column) -> Option<i64> {
        match self.table.slot(self.row, self.table.position(column)?)? {
            Slot::Int(v) => Some(v),
            Slot::UInt(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The non-negative integer in `column`.
    pub fn uint(&self, column: Column) -> Option<u64> {
        match self.table.slot(self.row, self.table.position(column)?)? {
            Slot::Int(v) => u64::try_from(v).ok(),
            Slot::UInt(v) => Some(v),
            _ => None,
        }
    }

    /// `pxname`.
    pub fn pxname(&self) -> Option<&'t str> {
        self.text(Column::Pxname)
    }

    /// `svname`.
    pub fn svname(&self) -> Option<&'t str> {
        self.text(Column::Svname)
    }

    /// `type`.
    pub fn proxy_type(&self) -> Option<ProxyType> {
        u8::try_from(self.int(Column::Type)?)
            .ok()
            .map(ProxyType::from_code)
    }

    /// `iid`, the proxy's id.
    pub fn iid(&self) -> Option<u64> {
        self.uint(Column::Iid)
    }

    /// `sid`, the server's id.
    pub fn sid(&self) -> Option<u64> {
        self.uint(Column::Sid)
    }

    /// `pid`.
    pub fn pid(&self) -> Option<u64> {
        self.uint(Column::Pid)
    }

    /// `status`.
    pub fn status(&self) -> Option<Status> {
        self.text(Column::Status).map(Status::parse)
    }

    /// `check_status`.
    pub fn check_status(&self) -> Option<CheckStatus> {
        self.text(Column::CheckStatus).map(CheckStatus::parse)
    }

    /// `(type, pxname, svname)`: what identifies the object across
    /// processes. `None` when one of them is missing.
    pub fn key(&self) -> Option<(ProxyType, &'t str, &'t str)> {
        Some((self.proxy_type()?, self.pxname()?, self.svname()?))
    }

    /// Each column with this record's value.
    pub fn values(&self) -> impl Iterator<Item = (HeaderColumn<'t>, Option<Value<'t>>)> + '_ {
        self.table
            .header
            .iter()
            .enumerate()
            .map(move |(i, h)| (*h, self.get_at(i)))
    }
}

/// Parses a `show stat` reply. See the [module documentation](self) for
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
/// a closing quote, or an input of 4 GiB or more.
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

fn header_names(line: &str) -> IResult<&str, Vec<&str>> {
    all_consuming(separated_list1(char(','), take_till(|c| c == ',')))(line)
}

fn hash_prefix(line: &str) -> IResult<&str, (char, &str)> {
    pair(char('#'), space0)(line)
}

/// Reads a names line (without its `#`): names trimmed, the empty name
/// after a trailing comma dropped.
fn names_of(line: &str) -> Vec<HeaderColumn<'_>> {
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

struct Parser<'a> {
    input: &'a str,
    bytes: &'a [u8],
    table: StatTable<'a>,
}

/// How a field ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// At a comma; the next field starts after it.
    Comma,
    /// At a line end; the next record starts after it.
    Line,
    /// At the end of the input.
    Eof,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Result<Parser<'a>, ParseError> {
        if u32::try_from(input.len()).is_err() {
            return Err(ParseError::new(
                Input::Stat,
                ParseErrorKind::Malformed {
                    expected: "a reply smaller than 4 GiB",
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

    fn error(&self, kind: ParseErrorKind, at: usize, found: &str) -> ParseError {
        ParseError::new(Input::Stat, kind, Position::at(self.bytes, at), found)
    }

    fn record_error(&self, kind: ParseErrorKind, at: usize, col: usize, found: &str) -> ParseError {
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
    fn line_at(&self, p: usize) -> (&'a str, usize) {
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

    fn run(mut self, given: Option<Vec<HeaderColumn<'a>>>) -> Result<StatTable<'a>, ParseError> {
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
                    p = self.record_at(p)?;
                    self.table.records += 1;
                }
            }
        }
        Ok(self.table)
    }

    /// Reads the header at `p` (a `#` line, or a lone `#` line and the
    /// names line after it).
    fn header_at(&self, p: usize) -> Result<(Vec<HeaderColumn<'a>>, usize), ParseError> {
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
    fn record_at(&mut self, start: usize) -> Result<usize, ParseError> {
        let bytes = self.bytes;
        let len = bytes.len();
        let n = self.table.header.len();
        let mut p = start;
        let mut end = End::Eof;
        let mut col = 0;
        while col < n {
            // The two commonest fields, an empty one and a one-digit number
            // (nine in ten fields of a 2.6 dump), in a tight loop.
            let (q, c) = fast_fields(bytes, &self.table.reads, &mut self.table.slots, p, col);
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
            self.table.push_slot(slot);
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
    fn count_fields(&self, mut p: usize) -> usize {
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
    fn slow_field(
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
    fn typed_slot(
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

    fn text_slot(&mut self, text: &str, at: usize, owned: bool) -> Slot {
        if owned {
            let i = self.table.unescaped.len();
            self.table.unescaped.push(text.to_owned());
            // Fewer unescaped fields than input bytes, so under 4 Gi.
            Slot::Owned(i as u32)
        } else {
            // Both fit in u32: the input is checked to be under 4 GiB.
            Slot::Span(at as u32, (at + text.len()) as u32)
        }
    }

    /// A quoted field starting at `p` (on the `"`).
    fn quoted_field(&mut self, p: usize, col: usize) -> Result<(Slot, usize), ParseError> {
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
fn number_slot(text: &str) -> Option<Slot> {
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
fn number_fast(bytes: &[u8], p: usize) -> Option<(Slot, usize)> {
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
fn fast_fields(
    bytes: &[u8],
    reads: &[Read],
    slots: &mut Vec<Packed>,
    mut p: usize,
    mut col: usize,
) -> (usize, usize) {
    while let Some(&read) = reads.get(col) {
        match (bytes.get(p), bytes.get(p + 1)) {
            (Some(b','), _) => {
                slots.push(Packed(0));
                p += 1;
            }
            (Some(&d), Some(b',')) if d.is_ascii_digit() && read != Read::Text => {
                slots.push(Packed((u64::from(d - b'0') << 2) | 0b01));
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
fn text_fast(bytes: &[u8], p: usize) -> Option<(Slot, usize)> {
    let q = field_end(bytes, p);
    if q > p && bytes[q - 1] == b'\r' && bytes.get(q) != Some(&b',') {
        return None;
    }
    if q == p {
        return Some((Slot::Empty, q));
    }
    // Both fit in u32: the input is checked to be under 4 GiB.
    Some((Slot::Span(p as u32, q as u32), q))
}

/// The first comma or LF at or after `p` (or the input's length), eight
/// bytes at a time: a byte equal to the one sought becomes zero after the
/// XOR, and `(x - 0x01…) & !x & 0x80…` flags the first zero byte exactly
/// (a borrow can only mark bytes above it).
#[inline(always)]
fn field_end(bytes: &[u8], p: usize) -> usize {
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
fn count_newlines(b: &[u8]) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_end_finds_the_first_separator() {
        let text = b"abcdefghij,klm\nxyz0123456789abcdef";
        for p in 0..text.len() {
            let want = text[p..]
                .iter()
                .position(|&b| b == b',' || b == b'\n')
                .map_or(text.len(), |i| p + i);
            assert_eq!(field_end(text, p), want, "from {p}");
        }
        // Bytes just above and below the separators do not match.
        let near = [b'+', b'-', b'\t', b'\x0b', 0x80 | b',', 0xff, 0x00];
        assert_eq!(field_end(&near, 0), near.len());
    }

    #[test]
    fn newlines_are_counted_in_blocks_and_tail() {
        for len in [0, 1, 63, 64, 65, 200, 1000] {
            let b: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { b'\n' } else { b'x' })
                .collect();
            let want = b.iter().filter(|&&x| x == b'\n').count();
            assert_eq!(count_newlines(&b), want, "{len}");
        }
        assert_eq!(count_newlines(&[b'\n'; 64 * 5]), 320);
    }

    #[test]
    fn packed_slots_round_trip() {
        let mut overflow = Vec::new();
        for slot in [
            Slot::Empty,
            Slot::Int(0),
            Slot::Int(-1),
            Slot::Int(PACKED_INT_MAX),
            Slot::Int(PACKED_INT_MIN),
            Slot::Int(i64::MIN),
            Slot::Int(i64::MAX),
            Slot::UInt(u64::MAX),
            Slot::Span(7, 10),
            Slot::Span(u32::MAX, u32::MAX),
            Slot::Span(0, u32::MAX),
            Slot::Owned(3),
        ] {
            let p = Packed::pack(slot, &mut overflow);
            assert_eq!(p.unpack(&overflow), slot, "{slot:?}");
        }
        assert_eq!(overflow.len(), 5, "only what does not fit overflows");
    }

    #[test]
    fn owned_table_reads_numbers_text_and_quoted_fields() {
        let raw = "# pxname,svname,scur,status,type,addr,\nbe,\"s,1\",3,UP,2,[::1]:80,\nbe,BACKEND,,DOWN,1,,\n\n";
        let t = OwnedStatTable::parse(raw.to_owned()).expect("parses");
        assert_eq!(t.len(), 2);
        assert_eq!(t.columns().len(), 6);
        assert_eq!(t.field(0, 0), Field::Text("be"));
        assert_eq!(t.field(0, 1), Field::Text("s,1"));
        assert_eq!(t.field(0, 2), Field::Int(3));
        assert_eq!(t.field(0, 3), Field::Text("UP"));
        assert_eq!(t.field(0, 4), Field::Int(2));
        assert_eq!(t.field(0, 5), Field::Text("[::1]:80"));
        assert_eq!(t.field(1, 2), Field::Empty);
        assert_eq!(t.field(1, 9), Field::Empty);
        assert_eq!(t.field(5, 0), Field::Empty);
        assert!(!t.is_empty());
        assert!(t.input().starts_with("# pxname"));
    }

    const H: &str = "# pxname,svname,qcur,status,type,check_status,addr,-,h2_x,\n";

    fn t(input: &str) -> StatTable<'_> {
        match parse_stat(input) {
            Ok(t) => t,
            Err(e) => panic!("{input:?}: {e}"),
        }
    }

    fn err(input: &str) -> ParseError {
        match parse_stat(input) {
            Ok(t) => panic!("{input:?} parsed: {} records", t.len()),
            Err(e) => e,
        }
    }

    #[test]
    fn edge_cases_that_parse() {
        let row = "be,s1,3,UP,2,L7OK,10.0.0.1:80,-,7,";
        // (input, records, columns)
        let cases = [
            (String::new(), 0, 0),
            ("\n\n".to_owned(), 0, 0),
            (H.to_owned(), 0, 9),
            (format!("{H}{row}\n"), 1, 9),
            (format!("\n{H}{row}\n\n"), 1, 9),
            (format!("{H}\n{row}\n\n{row}\n"), 2, 9),
            (format!("{H}{row}"), 1, 9),
            (format!("{H}{}", row.trim_end_matches(',')), 1, 9),
            (format!("{H}{}\n", row.trim_end_matches(',')), 1, 9),
            (format!("{H}{row}\n{H}{row}\n"), 2, 9),
            (format!("{H}{row}\n").replace('\n', "\r\n"), 1, 9),
            (format!("{H}{}\r\n", row.trim_end_matches(',')), 1, 9),
            (format!("#\n{}{row}\n", &H[2..]), 1, 9),
            ("# a, b ,c\n1,x,3\n".to_owned(), 1, 3),
        ];
        for (input, records, columns) in cases {
            let table = t(&input);
            assert_eq!(table.len(), records, "{input:?}");
            assert_eq!(table.header().len(), columns, "{input:?}");
            if let Some(r) = table.record(0).filter(|_| columns == 9) {
                assert_eq!(r.pxname(), Some("be"), "{input:?}");
                assert_eq!(r.get(Column::Qcur), Some(Value::Int(3)), "{input:?}");
                assert_eq!(r.status(), Some(Status::Up), "{input:?}");
                assert_eq!(r.get_by_name("h2_x"), Some(Value::Int(7)), "{input:?}");
                assert_eq!(r.text_at(6), Some("10.0.0.1:80"), "{input:?}");
            }
        }
    }

    #[test]
    fn header_names_are_trimmed_and_unknown_kept() {
        let table = t("# req_rate, req_rate_max, req_tot,\n1,2,3,\n");
        let names: Vec<&str> = table.header().iter().map(|h| h.name()).collect();
        assert_eq!(names, ["req_rate", "req_rate_max", "req_tot"]);
        assert_eq!(table.position(Column::ReqTot), Some(2));
        let table = t(H);
        assert_eq!(table.header()[7], HeaderColumn::Unknown("-"));
        assert_eq!(table.position_by_name("h2_x"), Some(8));
    }

    #[test]
    fn edge_cases_that_fail() {
        let row = "be,s1,3,UP,2,L7OK,10.0.0.1:80,-,7,";
        // (input, kind, line, column, field)
        let cases: Vec<(String, ParseErrorKind, usize, usize, Option<&str>)> = vec![
            (
                format!("{row}\n"),
                ParseErrorKind::MissingHeader,
                1,
                1,
                None,
            ),
            (
                "\n#\n".to_owned(),
                ParseErrorKind::MissingHeader,
                2,
                1,
                None,
            ),
            (
                format!("{H}be,s1,3\n"),
                ParseErrorKind::TooFewFields {
                    expected: 9,
                    found: 3,
                },
                2,
                1,
                Some("status"),
            ),
            (
                format!("{H}be,s1,3"),
                ParseErrorKind::Truncated,
                2,
                8,
                Some("status"),
            ),
            (
                format!("{H}{row}8,\n"),
                ParseErrorKind::TooManyFields {
                    expected: 9,
                    found: 10,
                },
                2,
                35,
                None,
            ),
            (
                format!("{H}be,s1,x3,UP,2,L7OK,a,-,7,\n"),
                ParseErrorKind::InvalidNumber,
                2,
                7,
                Some("qcur"),
            ),
            (
                format!("{H}be,s1,-3x,UP,2,L7OK,a,-,7,\n"),
                ParseErrorKind::InvalidNumber,
                2,
                7,
                Some("qcur"),
            ),
            (
                format!("{H}be,s1,3,UP,300,L7OK,a,-,7,\n"),
                ParseErrorKind::Malformed {
                    expected: "a proxy type from 0 to 255",
                },
                2,
                12,
                Some("type"),
            ),
            (
                format!("{H}be,\"s1,3,UP\n"),
                ParseErrorKind::UnterminatedQuote,
                2,
                4,
                Some("svname"),
            ),
            (
                format!("{H}be,\"s1\"x,3,UP,2,L7OK,a,-,7,\n"),
                ParseErrorKind::Malformed {
                    expected: "a comma or a line end after a closing quote",
                },
                2,
                8,
                Some("svname"),
            ),
            (
                format!("{H}{row}\n# pxname,svname,\n"),
                ParseErrorKind::Malformed {
                    expected: "a repeated header naming the same columns as the first",
                },
                3,
                1,
                None,
            ),
        ];
        for (input, kind, line, column, field) in cases {
            let e = err(&input);
            assert_eq!(e.kind, kind, "{input:?}");
            assert_eq!(
                (e.position.line, e.position.column),
                (line, column),
                "{input:?}: {e}"
            );
            assert_eq!(e.field.as_deref(), field, "{input:?}");
        }
    }

    #[test]
    fn quoted_fields_unescape_and_span_lines() {
        let input =
            "# pxname,svname,last_chk,qcur,\n\"a,b\",\"s\"\"1\"\"\",\"line1\nline2\",\"5\",\n";
        let table = t(input);
        let r = table.record(0).expect("record");
        assert_eq!(r.pxname(), Some("a,b"));
        assert_eq!(r.svname(), Some("s\"1\""));
        assert_eq!(r.text(Column::LastChk), Some("line1\nline2"));
        assert_eq!(r.int(Column::Qcur), Some(5));
    }

    #[test]
    fn empty_fields_are_none_and_numbers_are_typed() {
        let input = "# pxname,svname,qcur,lastsess,stot,type,-,m,\nbe,BACKEND,,-1,18446744073709551615,1,-,x,\n";
        let table = t(input);
        let r = table.record(0).expect("record");
        assert_eq!(r.get(Column::Qcur), None);
        assert_eq!(r.get(Column::Lastsess), Some(Value::Int(-1)));
        assert_eq!(r.get(Column::Stot), Some(Value::UInt(u64::MAX)));
        assert_eq!(
            r.get(Column::Type),
            Some(Value::ProxyType(ProxyType::Backend))
        );
        assert_eq!(r.key(), Some((ProxyType::Backend, "be", "BACKEND")));
        assert_eq!(r.get_by_name("-"), Some(Value::Text("-".into())));
        assert_eq!(r.get_by_name("m"), Some(Value::Text("x".into())));
        assert_eq!(r.get(Column::Scur), None);
    }

    #[test]
    fn with_columns_reads_headerless_input() {
        let cols = &Column::ALL[..4];
        let table = parse_stat_with_columns("be,s1,1,2,\nbe,s2,3,4\n", cols).expect("parses");
        assert_eq!(table.len(), 2);
        assert_eq!(table.record(1).and_then(|r| r.int(Column::Qmax)), Some(4));
        let e = parse_stat_with_columns("# pxname\nbe\n", cols).expect_err("has a header");
        assert!(matches!(e.kind, ParseErrorKind::Malformed { .. }));
        assert!(parse_stat_with_columns("x\n", &[]).is_err());
    }

    #[test]
    fn records_type_text_like_columns() {
        let input =
            "# pxname,svname,scur,status,type,addr,h2_x,\nbe,s1,3,MAINT (via a/b),2,[::1]:80,x,\n";
        let table = t(input);
        let rec = table.record(0).expect("record");
        assert_eq!(rec.get(Column::Scur), Some(Value::Int(3)));
        assert_eq!(
            rec.get(Column::Status),
            Some(Value::Status(Status::MaintVia("a/b".into())))
        );
        assert_eq!(
            rec.get(Column::Addr).map(|a| a.to_string()),
            Some("[::1]:80".into())
        );
    }

    #[test]
    fn columns_carry_their_combine() {
        let table = t(H);
        let combines: Vec<Combine> = table.columns().map(|(_, _, c)| c).collect();
        assert_eq!(combines[2], Combine::Sum);
        assert_eq!(combines[3], Combine::MustAgree);
        assert_eq!(combines[7], Combine::MustAgree, "an unknown column");
        assert_eq!(combines[8], Combine::Sum, "a module counter");
    }
}
