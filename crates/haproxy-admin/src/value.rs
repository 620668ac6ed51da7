//! Owned, typed field values: what a `show stat` or `show info` field holds
//! once read, numbers as numbers.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// One field's value: a number where HAProxy printed a number, text
/// otherwise. An empty field is not a `Value` (it is `None` where a value
/// is asked for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Value {
    /// A non-negative integer (counters, gauges, ids, limits).
    Unsigned(u64),
    /// A negative integer (`-1` for "never" in some columns).
    Signed(i64),
    /// A decimal number.
    Float(f64),
    /// Text: names, status, check results, addresses.
    Text(String),
}

/// A [`Value`] borrowed from the snapshot it was read from: text is not
/// copied. Serialises exactly as the [`Value`] it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ValueRef<'a> {
    /// A non-negative integer.
    Unsigned(u64),
    /// A negative integer.
    Signed(i64),
    /// A decimal number.
    Float(f64),
    /// Text.
    Text(&'a str),
}

impl<'a> ValueRef<'a> {
    /// The value as an unsigned integer, if it is one.
    pub fn as_u64(self) -> Option<u64> {
        match self {
            ValueRef::Unsigned(n) => Some(n),
            ValueRef::Signed(n) => u64::try_from(n).ok(),
            _ => None,
        }
    }

    /// The value as a signed integer, if it is an integer that fits.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            ValueRef::Unsigned(n) => i64::try_from(n).ok(),
            ValueRef::Signed(n) => Some(n),
            _ => None,
        }
    }

    /// The value as a decimal number, if it is a number.
    pub fn as_f64(self) -> Option<f64> {
        match self {
            ValueRef::Unsigned(n) => Some(n as f64),
            ValueRef::Signed(n) => Some(n as f64),
            ValueRef::Float(f) => Some(f),
            ValueRef::Text(_) => None,
        }
    }

    /// The value as text, if it is text.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            ValueRef::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The owned value.
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Unsigned(n) => Value::Unsigned(n),
            ValueRef::Signed(n) => Value::Signed(n),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Text(t) => Value::Text(t.to_owned()),
        }
    }

    /// A field's value, as [`Value::of_cell`] reads it, borrowing its text.
    pub(crate) fn of_cell(cell: haproxy_proto::Field<'_>) -> Option<ValueRef<'_>> {
        use haproxy_proto::Field;
        match cell {
            Field::Empty | Field::Text("") => None,
            Field::Int(n) => Some(ValueRef::of_i64(n)),
            Field::UInt(n) => Some(ValueRef::Unsigned(n)),
            Field::Text(t) => Some(ValueRef::Text(t)),
        }
    }

    /// An integer: [`ValueRef::Unsigned`] when it is not negative.
    pub(crate) fn of_i64(n: i64) -> ValueRef<'static> {
        match u64::try_from(n) {
            Ok(u) => ValueRef::Unsigned(u),
            Err(_) => ValueRef::Signed(n),
        }
    }
}

impl Value {
    /// Reads a field's text: an integer or decimal number becomes a
    /// number; `None` for an empty field; anything else is text.
    pub fn parse(raw: &str) -> Option<Value> {
        if raw.is_empty() {
            return None;
        }
        Some(Value::parse_number(raw).unwrap_or_else(|| Value::Text(raw.to_owned())))
    }

    /// A `show stat` cell as the parser typed it: numbers as numbers,
    /// text as text (never read again for a number), `None` when empty.
    pub(crate) fn of_cell(cell: haproxy_proto::Field<'_>) -> Option<Value> {
        ValueRef::of_cell(cell).map(ValueRef::to_value)
    }

    /// An integer: [`Value::Unsigned`] when it is not negative.
    pub(crate) fn of_i64(n: i64) -> Value {
        ValueRef::of_i64(n).to_value()
    }

    /// Reads a field's text as text, even if it looks like a number (names).
    pub fn text(raw: &str) -> Option<Value> {
        (!raw.is_empty()).then(|| Value::Text(raw.to_owned()))
    }

    /// The number `raw` holds, if it is one (digits, an optional leading
    /// `-`, at most one `.` between digits).
    pub fn parse_number(raw: &str) -> Option<Value> {
        let digits = raw.strip_prefix('-').unwrap_or(raw);
        let first = *digits.as_bytes().first()?;
        if !first.is_ascii_digit() {
            return None;
        }
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            return if raw.starts_with('-') {
                raw.parse().ok().map(Value::Signed)
            } else {
                raw.parse().ok().map(Value::Unsigned)
            };
        }
        let (int, frac) = digits.split_once('.')?;
        let ok = !frac.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit());
        if ok {
            raw.parse().ok().map(Value::Float)
        } else {
            None
        }
    }

    /// The value borrowed: its text is not copied.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Unsigned(n) => ValueRef::Unsigned(*n),
            Value::Signed(n) => ValueRef::Signed(*n),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Text(t) => ValueRef::Text(t),
        }
    }

    /// The value as an unsigned integer, if it is one.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_ref().as_u64()
    }

    /// The value as a signed integer, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_ref().as_i64()
    }

    /// The value as a decimal number, if it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_ref().as_f64()
    }

    /// The value as text, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        self.as_ref().as_str()
    }

    fn as_i128(&self) -> Option<i128> {
        match *self {
            Value::Unsigned(n) => Some(i128::from(n)),
            Value::Signed(n) => Some(i128::from(n)),
            _ => None,
        }
    }

    fn from_i128(n: i128) -> Option<Value> {
        if let Ok(u) = u64::try_from(n) {
            Some(Value::Unsigned(u))
        } else {
            i64::try_from(n).ok().map(Value::Signed)
        }
    }

    pub(crate) fn checked_add(&self, other: &Value) -> Option<Value> {
        match (self.as_i128(), other.as_i128()) {
            (Some(a), Some(b)) => Value::from_i128(a.checked_add(b)?),
            _ => Some(Value::Float(self.as_f64()? + other.as_f64()?)),
        }
    }

    pub(crate) fn checked_div(&self, count: usize) -> Option<Value> {
        if count == 0 {
            return None;
        }
        match self {
            Value::Float(f) => Some(Value::Float(f / count as f64)),
            _ => Value::from_i128(self.as_i128()? / i128::try_from(count).ok()?),
        }
    }

    pub(crate) fn numeric_cmp(&self, other: &Value) -> Option<Ordering> {
        match (self.as_i128(), other.as_i128()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => self.as_f64()?.partial_cmp(&other.as_f64()?),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

impl fmt::Display for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Unsigned(n) => write!(f, "{n}"),
            ValueRef::Signed(n) => write!(f, "{n}"),
            ValueRef::Float(n) => write!(f, "{n}"),
            ValueRef::Text(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_text() {
        let cases: &[(&str, Option<Value>)] = &[
            ("", None),
            ("0", Some(Value::Unsigned(0))),
            ("18446744073709551615", Some(Value::Unsigned(u64::MAX))),
            ("-1", Some(Value::Signed(-1))),
            ("1.5", Some(Value::Float(1.5))),
            ("UP", Some(Value::Text("UP".into()))),
            ("UP 1/2", Some(Value::Text("UP 1/2".into()))),
            ("1.", Some(Value::Text("1.".into()))),
            ("-", Some(Value::Text("-".into()))),
            ("127.0.0.1:80", Some(Value::Text("127.0.0.1:80".into()))),
            (
                "99999999999999999999",
                Some(Value::Text("99999999999999999999".into())),
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(&Value::parse(raw), want, "{raw:?}");
        }
        assert_eq!(Value::text("12"), Some(Value::Text("12".into())));
    }

    #[test]
    fn serialises_numbers_as_numbers() {
        let v = vec![
            Value::Unsigned(1),
            Value::Signed(-1),
            Value::Float(0.5),
            Value::Text("a".into()),
        ];
        assert_eq!(
            serde_json::to_string(&v).expect("serialises"),
            r#"[1,-1,0.5,"a"]"#
        );
    }
}
