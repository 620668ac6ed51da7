//! One process's `show stat`, owned: the reply text and, per record, the
//! span of every field in it. One allocation for the spans, none per field.

use haproxy_proto::field::Column;
use haproxy_proto::{Combine, ParseError};

/// One field, decoded: empty, a number the parser already read, or text
/// (a range of the reply, or an index into the side table for a field the
/// parser had to unquote).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell {
    Empty,
    Int(i64),
    UInt(u64),
    Span(u32, u32),
    Owned(u32),
}

/// A [`Cell`] packed in 8 bytes (the tables of a large fleet hold millions
/// of fields): the low 2 bits say what the rest is.
///
/// - `00`: empty;
/// - `01`: an integer in the upper 62 bits (sign-extended);
/// - `10`: text, the range's start in the upper 32 bits and its length in
///   bits 2–31;
/// - `11`: an index (upper 62 bits) into the side table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed(u64);

/// What the side table holds for fields that do not fit a [`Packed`].
#[derive(Debug)]
enum Side {
    Int(i64),
    UInt(u64),
    Text(String),
}

fn push_side(s: Side, side: &mut Vec<Side>) -> Packed {
    side.push(s);
    Packed::side(side.len() - 1)
}

const INT_MIN: i64 = -(1 << 61);
const INT_MAX: i64 = (1 << 61) - 1;
const LEN_MAX: usize = (1 << 30) - 1;

impl Packed {
    const EMPTY: Packed = Packed(0);

    fn int(n: i64) -> Option<Packed> {
        // `as` reinterprets the (range-checked) signed value's bits.
        (INT_MIN..=INT_MAX)
            .contains(&n)
            .then_some(Packed(((n << 2) as u64) | 0b01))
    }

    fn span(start: usize, len: usize) -> Option<Packed> {
        let start = u32::try_from(start).ok()?;
        (len <= LEN_MAX).then(|| Packed((u64::from(start) << 32) | ((len as u64) << 2) | 0b10))
    }

    fn side(index: usize) -> Packed {
        Packed(((index as u64) << 2) | 0b11)
    }

    fn unpack(self, side: &[Side]) -> Cell {
        match self.0 & 0b11 {
            0b00 => Cell::Empty,
            // Arithmetic shift of the reinterpreted bits restores the sign.
            0b01 => Cell::Int((self.0 as i64) >> 2),
            0b10 => {
                let start = (self.0 >> 32) as u32;
                let len = ((self.0 >> 2) & LEN_MAX as u64) as u32;
                Cell::Span(start, start.saturating_add(len))
            }
            _ => {
                let index = self.0 >> 2;
                match usize::try_from(index).ok().and_then(|i| side.get(i)) {
                    Some(Side::Int(n)) => Cell::Int(*n),
                    Some(Side::UInt(n)) => Cell::UInt(*n),
                    Some(Side::Text(_)) => Cell::Owned(u32::try_from(index).unwrap_or(u32::MAX)),
                    None => Cell::Empty,
                }
            }
        }
    }
}

/// One process's `show stat` reply with its fields indexed.
#[derive(Debug)]
pub(crate) struct ProcTable {
    raw: String,
    columns: Vec<Box<str>>,
    cells: Vec<Packed>,
    side: Vec<Side>,
    rows: usize,
}

impl ProcTable {
    /// Parses `raw` (a `show stat` reply) with `haproxy-proto` and keeps
    /// every field packed in 8 bytes: no allocation per field.
    pub(crate) fn parse(raw: String) -> Result<ProcTable, ParseError> {
        let (columns, cells, side, rows) = {
            let table = haproxy_proto::stat::parse_stat(&raw)?;
            let columns: Vec<Box<str>> =
                table.header().iter().map(|c| Box::from(c.name())).collect();
            let width = columns.len();
            let mut cells = Vec::with_capacity(width * table.len());
            let mut side = Vec::new();
            let base = raw.as_ptr() as usize;
            for record in table.records() {
                for i in 0..width {
                    let cell = match record.text_at(i) {
                        Some(text) => {
                            let start = (text.as_ptr() as usize).wrapping_sub(base);
                            let end = start.wrapping_add(text.len());
                            let inside = raw.get(start..end).is_some_and(|t| std::ptr::eq(t, text));
                            match Packed::span(start, text.len()).filter(|_| inside) {
                                Some(p) => p,
                                None => push_side(Side::Text(text.to_owned()), &mut side),
                            }
                        }
                        None => match record.get_at(i) {
                            None => Packed::EMPTY,
                            Some(v) => match (v.as_i64(), v.as_u64()) {
                                (Some(n), _) => Packed::int(n)
                                    .unwrap_or_else(|| push_side(Side::Int(n), &mut side)),
                                (None, Some(n)) => push_side(Side::UInt(n), &mut side),
                                (None, None) => push_side(Side::Text(v.to_string()), &mut side),
                            },
                        },
                    };
                    cells.push(cell);
                }
            }
            (columns, cells, side, table.len())
        };
        Ok(ProcTable {
            raw,
            columns,
            cells,
            side,
            rows,
        })
    }

    /// The header's column names, in order.
    pub(crate) fn columns(&self) -> &[Box<str>] {
        &self.columns
    }

    /// Number of records.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Field `col` of record `row` ([`Cell::Empty`] when out of range).
    pub(crate) fn cell(&self, row: usize, col: usize) -> Cell {
        let width = self.columns.len();
        if col >= width {
            return Cell::Empty;
        }
        self.cells
            .get(row * width + col)
            .map_or(Cell::Empty, |p| p.unpack(&self.side))
    }

    /// The text of a text field (`""` for empty or numeric fields).
    pub(crate) fn text(&self, cell: Cell) -> &str {
        match cell {
            Cell::Span(s, e) => self.raw.get(s as usize..e as usize).unwrap_or(""),
            Cell::Owned(i) => match self.side.get(i as usize) {
                Some(Side::Text(t)) => t,
                _ => "",
            },
            _ => "",
        }
    }

    /// The text of field `col` of record `row` (`""` unless text).
    pub(crate) fn field(&self, row: usize, col: usize) -> &str {
        self.text(self.cell(row, col))
    }

    /// Whether two cells hold the same field (numbers equal, texts equal).
    pub(crate) fn same(&self, a: Cell, other: &ProcTable, b: Cell) -> bool {
        match (a, b) {
            (Cell::Empty, Cell::Empty) => true,
            (Cell::Int(x), Cell::Int(y)) => x == y,
            (Cell::UInt(x), Cell::UInt(y)) => x == y,
            (Cell::Span(..) | Cell::Owned(_), Cell::Span(..) | Cell::Owned(_)) => {
                self.text(a) == other.text(b)
            }
            _ => false,
        }
    }

    /// A cell as a [`crate::Value`] read as `kind` says.
    pub(crate) fn value(&self, cell: Cell, kind: ColumnKind) -> Option<crate::Value> {
        match cell {
            Cell::Empty => None,
            Cell::Int(n) => Some(match u64::try_from(n) {
                Ok(u) => crate::Value::Unsigned(u),
                Err(_) => crate::Value::Signed(n),
            }),
            Cell::UInt(n) => Some(crate::Value::Unsigned(n)),
            Cell::Span(..) | Cell::Owned(_) => kind.read(self.text(cell)),
        }
    }

    /// The index of column `name`.
    pub(crate) fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| &**c == name)
    }
}

/// The prefixes of the per-module columns HAProxy 2.x prints after the
/// `-` column: every one is a counter or a current count of its
/// process, so they add up across processes.
const MODULE_PREFIXES: &[&str] = &["h1_", "h2_", "h3_", "ssl_", "quic_", "qpack_", "rslv_"];

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
    fn packed_cells_round_trip() {
        let side = vec![
            Side::Int(i64::MIN),
            Side::UInt(u64::MAX),
            Side::Text("x".into()),
        ];
        let cases = [
            (Packed::EMPTY, Cell::Empty),
            (Packed::int(0).expect("fits"), Cell::Int(0)),
            (Packed::int(-1).expect("fits"), Cell::Int(-1)),
            (Packed::int(INT_MAX).expect("fits"), Cell::Int(INT_MAX)),
            (Packed::int(INT_MIN).expect("fits"), Cell::Int(INT_MIN)),
            (Packed::span(7, 3).expect("fits"), Cell::Span(7, 10)),
            (
                Packed::span(u32::MAX as usize, 0).expect("fits"),
                Cell::Span(u32::MAX, u32::MAX),
            ),
            (Packed::side(0), Cell::Int(i64::MIN)),
            (Packed::side(1), Cell::UInt(u64::MAX)),
            (Packed::side(2), Cell::Owned(2)),
            (Packed::side(9), Cell::Empty),
        ];
        for (packed, want) in cases {
            assert_eq!(packed.unpack(&side), want, "{packed:?}");
        }
        assert_eq!(Packed::int(INT_MAX + 1), None);
        assert_eq!(Packed::span(1, LEN_MAX + 1), None);
    }

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
}
