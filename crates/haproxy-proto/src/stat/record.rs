//! A typed record: [`StatRecord`] over a [`StatTable`](super::StatTable),
//! its fields as [`Value`]s.

use std::borrow::Cow;
use std::fmt;

#[cfg(feature = "serde")]
use serde::{Serialize, Serializer};

use super::packing::Slot;
use super::parse::number_slot;
use super::table::StatTable;
use crate::field::{Column, HeaderColumn, ValueKind};
use crate::value::{Addr, CheckStatus, Mode, ProxyType, Status};

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

pub(super) fn parse_int(text: &str) -> Option<Value<'static>> {
    match number_slot(text)? {
        Slot::Int(v) => Some(Value::Int(v)),
        Slot::UInt(v) => Some(Value::UInt(v)),
        _ => None,
    }
}

pub(super) fn text_value(kind: ValueKind, text: Cow<'_, str>) -> Option<Value<'_>> {
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

/// One record of a [`StatTable`]: a row for a frontend, backend, server
/// or listener.
#[derive(Debug, Clone, Copy)]
pub struct StatRecord<'t> {
    pub(super) table: &'t StatTable<'t>,
    pub(super) row: usize,
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
impl StatTable<'_> {
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
}
