//! The parsed tables: [`StatTable`] (borrowing the reply, typed records)
//! and [`OwnedStatTable`] (owning it, for holding many processes' tables),
//! with their cells ([`Field`], [`Cells`]).

use super::packing::{Packed, Slot};
use crate::field::{Column, HeaderColumn, ValueKind, COLUMN_COUNT};
use crate::Combine;

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
/// field, 4 bytes (a span of the text or a number). For holding many
/// processes' tables at once without a copy per field; [`StatTable`] is
/// the borrowing, typed view.
#[derive(Debug)]
pub struct OwnedStatTable {
    pub(super) input: String,
    pub(super) header: Vec<Box<str>>,
    /// The known column of each header name (`None`: not in the table).
    pub(super) known: Vec<Option<Column>>,
    pub(super) slots: Vec<Packed>,
    /// Where each record starts in `input` (its spans are packed from
    /// there).
    pub(super) starts: Vec<u32>,
    pub(super) overflow: Vec<Slot>,
    pub(super) unescaped: Vec<String>,
    pub(super) records: usize,
}

/// The memory of an [`OwnedStatTable`] no longer needed, kept to parse
/// the next reply into ([`OwnedStatTable::parse_reusing`]): a program that
/// reads the same processes again and again (a dashboard, an exporter)
/// then writes its tables over pages already in memory instead of
/// faulting in fresh ones for every reply.
#[derive(Debug, Default)]
pub struct TableMemory {
    pub(super) input: Vec<u8>,
    pub(super) slots: Vec<Packed>,
    pub(super) starts: Vec<u32>,
}

impl TableMemory {
    /// The reply's buffer, emptied, to read the next reply into; what is
    /// left is the room for its cells.
    pub fn take_input(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.input)
    }

    /// How many bytes the memory holds.
    pub fn capacity(&self) -> usize {
        self.input.capacity()
            + self.slots.capacity() * std::mem::size_of::<Packed>()
            + self.starts.capacity() * std::mem::size_of::<u32>()
    }
}

impl OwnedStatTable {
    /// The reply's text.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The table's memory, emptied, for [`OwnedStatTable::parse_reusing`].
    pub fn into_memory(self) -> TableMemory {
        let mut input = self.input.into_bytes();
        input.clear();
        TableMemory {
            input,
            slots: self.slots,
            starts: self.starts,
        }
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
        let base = self.starts.get(row).copied()?;
        Some(Cells {
            table: self,
            slots,
            base,
        })
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
        match (self.slots.get(row * n + col), self.starts.get(row)) {
            (Some(p), Some(&base)) => self.unpack(*p, base),
            _ => Field::Empty,
        }
    }

    pub(super) fn unpack(&self, p: Packed, base: u32) -> Field<'_> {
        match p.unpack(base, &self.overflow) {
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

/// The typed cells of one record of an [`OwnedStatTable`], 4 bytes each:
/// what the parser read, handed on without a copy or a second parse.
#[derive(Debug, Clone, Copy)]
pub struct Cells<'a> {
    pub(super) table: &'a OwnedStatTable,
    pub(super) slots: &'a [Packed],
    /// Where the record starts in the table's input.
    pub(super) base: u32,
}

impl<'a> Cells<'a> {
    /// Field `col`; [`Field::Empty`] when out of range.
    #[inline]
    pub fn get(&self, col: usize) -> Field<'a> {
        match self.slots.get(col) {
            Some(p) => self.table.unpack(*p, self.base),
            None => Field::Empty,
        }
    }

    /// Field `col` when it is empty or a number from −2²⁹ to 2²⁹ − 1
    /// (nine in ten fields of a dump), read without unpacking:
    /// `Some(None)` for an empty field, `None` for anything else (text, a
    /// larger number, out of range), which [`Cells::get`] reads.
    #[inline]
    pub fn small_int(&self, col: usize) -> Option<Option<i64>> {
        self.slots.get(col)?.small_int()
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
pub(super) enum Read {
    /// A number; anything else is an error.
    Number,
    /// A number from 0 to 255 (`type`).
    Byte,
    /// Text, kept as it is.
    Text,
    /// A column not in the table: a number if it is one, else text.
    Guess,
}

pub(super) const NO_INDEX: u16 = u16::MAX;

/// A parsed `show stat` reply: the header and the typed records, borrowing
/// the reply.
#[derive(Debug, Clone)]
pub struct StatTable<'a> {
    pub(super) input: &'a str,
    pub(super) header: Vec<HeaderColumn<'a>>,
    pub(super) reads: Vec<Read>,
    /// Where each standard column is in `header`, by `Column::index()`.
    pub(super) index: [u16; COLUMN_COUNT],
    /// `header.len()` slots per record, records one after the other,
    /// 4 bytes each (see [`Packed`]).
    pub(super) slots: Vec<Packed>,
    /// Where each record starts in `input` (its spans are packed from
    /// there).
    pub(super) starts: Vec<u32>,
    /// Where the record being parsed starts.
    pub(super) base: u32,
    /// Slots that do not fit in 4 bytes.
    pub(super) overflow: Vec<Slot>,
    pub(super) unescaped: Vec<String>,
    pub(super) records: usize,
}

impl<'a> StatTable<'a> {
    pub(super) fn new(input: &'a str) -> StatTable<'a> {
        StatTable {
            input,
            header: Vec::new(),
            reads: Vec::new(),
            index: [NO_INDEX; COLUMN_COUNT],
            slots: Vec::new(),
            starts: Vec::new(),
            base: 0,
            overflow: Vec::new(),
            unescaped: Vec::new(),
            records: 0,
        }
    }

    pub(super) fn set_header(&mut self, header: Vec<HeaderColumn<'a>>) {
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
    /// reading each record's value with [`StatRecord::get_at`](super::StatRecord::get_at).
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

    pub(super) fn slot(&self, row: usize, col: usize) -> Option<Slot> {
        let n = self.header.len();
        if col >= n {
            return None;
        }
        let base = self.starts.get(row).copied()?;
        self.slots
            .get(row * n + col)
            .map(|p| p.unpack(base, &self.overflow))
    }

    /// Stores the field at slot `i` (of a record the parser has made room
    /// for); an empty field leaves the slot empty.
    pub(super) fn set_slot(&mut self, i: usize, slot: Slot) {
        if slot == Slot::Empty {
            return;
        }
        let packed = Packed::pack(slot, self.base, &mut self.overflow);
        if let Some(s) = self.slots.get_mut(i) {
            *s = packed;
        }
    }

    pub(super) fn slot_text(&self, slot: Slot) -> Option<&str> {
        match slot {
            Slot::Span(s, e) => self.input.get(s as usize..e as usize),
            Slot::Owned(i) => self.unescaped.get(i as usize).map(String::as_str),
            _ => None,
        }
    }
}
