//! One process's `show stat`, owned: the reply text and, per record, 8
//! bytes per field ([`haproxy_proto::OwnedStatTable`]). No allocation per
//! field, and no copy of what the parser produced.

use haproxy_proto::stat::TableMemory;
use haproxy_proto::{Field, HeaderColumn, OwnedStatTable, ParseError};

/// One field: empty, a number the parser already read, or text.
pub(crate) type Cell<'a> = Field<'a>;

/// One process's `show stat` reply with its fields indexed.
#[derive(Debug)]
pub(crate) struct ProcTable {
    t: OwnedStatTable,
}

impl ProcTable {
    /// Parses `raw` (a `show stat` reply) with `haproxy-proto`.
    #[cfg(test)]
    pub(crate) fn parse(raw: String) -> Result<ProcTable, ParseError> {
        ProcTable::parse_reusing(raw, TableMemory::default())
    }

    /// Parses `raw` (a `show stat` reply) with `haproxy-proto`, into
    /// `memory` (a dropped table's, or none).
    pub(crate) fn parse_reusing(raw: String, memory: TableMemory) -> Result<ProcTable, ParseError> {
        OwnedStatTable::parse_reusing(raw, memory).map(|t| ProcTable { t })
    }

    /// The table's memory, for the next parse.
    pub(crate) fn into_memory(self) -> TableMemory {
        self.t.into_memory()
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

    /// The header's columns, typed (kind, [`Combine`], version).
    pub(crate) fn header(&self) -> impl ExactSizeIterator<Item = HeaderColumn<'_>> + '_ {
        self.t.header()
    }

    /// The index of column `name`.
    pub(crate) fn column_index(&self, name: &str) -> Option<usize> {
        self.columns().iter().position(|c| &**c == name)
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
        assert_eq!(t.cell(0, 0), Cell::Text("be"));
        assert_eq!(t.cell(0, 1), Cell::Text("s,1"));
        assert_eq!(t.cell(0, 2), Cell::Int(3));
        assert_eq!(t.cell(0, 3), Cell::Text("UP"));
        assert_eq!(t.cell(0, 4), Cell::Int(2));
        assert_eq!(t.cell(0, 5), Cell::Text("[::1]:80"));
        assert_eq!(t.cell(1, 2), Cell::Empty);
        assert_eq!(t.cell(1, 9), Cell::Empty);
        assert_eq!(t.cell(5, 0), Cell::Empty);
        assert_eq!(
            crate::Value::of_cell(t.cell(0, 2)),
            Some(crate::Value::Unsigned(3))
        );
        assert_eq!(crate::Value::of_cell(t.cell(1, 2)), None);
        assert_eq!(t.column_index("status"), Some(3));
    }
}
