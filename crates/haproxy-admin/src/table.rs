//! One process's `show stat`, owned: the reply text and, per record, 8
//! bytes per field ([`haproxy_proto::OwnedStatTable`]). No allocation per
//! field, and no copy of what the parser produced.

use haproxy_proto::field::Column;
use haproxy_proto::{Combine, Field, OwnedStatTable, ParseError};

/// One field: empty, a number the parser already read, or text.
pub(crate) type Cell<'a> = Field<'a>;

/// One process's `show stat` reply with its fields indexed.
#[derive(Debug)]
pub(crate) struct ProcTable {
    t: OwnedStatTable,
}

impl ProcTable {
    /// Parses `raw` (a `show stat` reply) with `haproxy-proto`.
    pub(crate) fn parse(raw: String) -> Result<ProcTable, ParseError> {
        OwnedStatTable::parse(raw).map(|t| ProcTable { t })
    }

    /// The header's column names, in order.
    pub(crate) fn columns(&self) -> &[Box<str>] {
        self.t.columns()
    }

    /// Number of records.
    pub(crate) fn rows(&self) -> usize {
        self.t.len()
    }

    /// The typed cells of record `row`.
    pub(crate) fn cells(&self, row: usize) -> Option<haproxy_proto::stat::Cells<'_>> {
        self.t.cells(row)
    }

    /// Field `col` of record `row` ([`Field::Empty`] when out of range).
    pub(crate) fn cell(&self, row: usize, col: usize) -> Cell<'_> {
        self.t.field(row, col)
    }

    /// The text of field `col` of record `row` (`""` unless text).
    pub(crate) fn field(&self, row: usize, col: usize) -> &str {
        match self.cell(row, col) {
            Field::Text(t) => t,
            _ => "",
        }
    }

    /// A cell as a [`crate::Value`] read as `kind` says.
    pub(crate) fn value(&self, cell: Cell<'_>, kind: ColumnKind) -> Option<crate::Value> {
        match cell {
            Field::Empty => None,
            Field::Int(n) => Some(match u64::try_from(n) {
                Ok(u) => crate::Value::Unsigned(u),
                Err(_) => crate::Value::Signed(n),
            }),
            Field::UInt(n) => Some(crate::Value::Unsigned(n)),
            Field::Text(t) => kind.read(t),
        }
    }

    /// The index of column `name`.
    pub(crate) fn column_index(&self, name: &str) -> Option<usize> {
        self.columns().iter().position(|c| &**c == name)
    }
}

/// The prefixes of the per-module columns HAProxy 2.x and 3.x print after
/// the `-` column: every one is a counter or a current count of its
/// process, so they add up across processes. 3.0–3.4's QPACK module names
/// its first column `pack_decompression_failed` (sic; the others are
/// `qpack_*`).
const MODULE_PREFIXES: &[&str] = &[
    "h1_",
    "h2_",
    "h3_",
    "ssl_",
    "quic_",
    "qpack_",
    "pack_decompression_failed",
    "rslv_",
];

/// How a column combines and whether it holds numbers, from the field
/// table in `haproxy-proto`. Module columns (`h1_*`, `h2_*`, `ssl_*`, …)
/// are summed; any other column the table does not know must agree and
/// is read as a number when it looks like one.
pub(crate) fn column_traits(name: &str) -> (Combine, ColumnKind) {
    match Column::from_name(name) {
        Some(c) if c.kind().is_numeric() => (c.combine(), ColumnKind::Number),
        Some(c) => (c.combine(), ColumnKind::Text),
        None if MODULE_PREFIXES.iter().any(|p| name.starts_with(p)) => {
            (Combine::Sum, ColumnKind::Guess)
        }
        None => (Combine::MustAgree, ColumnKind::Guess),
    }
}

/// How a column's text is read into a [`crate::Value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    /// A number (text if it is not one).
    Number,
    /// Always text.
    Text,
    /// A number if it looks like one.
    Guess,
}

impl ColumnKind {
    pub(crate) fn read(self, raw: &str) -> Option<crate::Value> {
        match self {
            ColumnKind::Text => crate::Value::text(raw),
            ColumnKind::Number | ColumnKind::Guess => crate::Value::parse(raw),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_reads_numbers_text_and_quoted_fields() {
        let raw = "# pxname,svname,scur,status,type,addr,\nbe,\"s,1\",3,UP,2,[::1]:80,\nbe,BACKEND,,DOWN,1,,\n\n";
        let t = ProcTable::parse(raw.to_owned()).expect("parses");
        assert_eq!(t.rows(), 2);
        assert_eq!(t.columns().len(), 6);
        assert_eq!(t.field(0, 0), "be");
        assert_eq!(t.field(0, 1), "s,1");
        assert_eq!(t.cell(0, 2), Cell::Int(3));
        assert_eq!(t.field(0, 3), "UP");
        assert_eq!(t.cell(0, 4), Cell::Int(2));
        assert_eq!(t.field(0, 5), "[::1]:80");
        assert_eq!(t.cell(1, 2), Cell::Empty);
        assert_eq!(t.cell(1, 9), Cell::Empty);
        assert_eq!(t.cell(5, 0), Cell::Empty);
        assert_eq!(
            t.value(t.cell(0, 2), ColumnKind::Number),
            Some(crate::Value::Unsigned(3))
        );
        assert_eq!(t.column_index("status"), Some(3));
    }

    #[test]
    fn module_columns_of_3_x_add_up() {
        for name in [
            "h3_data",
            "quic_rxbuf_full",
            "qpack_encoder_stream_error",
            "pack_decompression_failed",
        ] {
            assert_eq!(column_traits(name).0, Combine::Sum, "{name}");
        }
        assert_eq!(column_traits("no_such").0, Combine::MustAgree);
    }
}
