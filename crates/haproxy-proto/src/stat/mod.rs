//! The `show stat` CSV parser.
//!
//! [`parse_stat`] reads a whole reply into a [`StatTable`]: the header (a
//! [`HeaderColumn`](crate::HeaderColumn) per column) and every record, typed. Records are
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
//! - **No header.** Data before any header is [`crate::ParseErrorKind::MissingHeader`].
//!   For headerless input whose layout is known, use
//!   [`parse_stat_with_columns`].
//! - **Second header.** A later `#` line naming exactly the same columns (two
//!   processes' replies joined) is skipped and the records go on; one naming
//!   different columns is a [`crate::ParseErrorKind::Malformed`] error — parse each
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
//!   Fewer is [`crate::ParseErrorKind::TooFewFields`], more is
//!   [`crate::ParseErrorKind::TooManyFields`] — except at the very end of an input
//!   without a final newline, where a short record is
//!   [`crate::ParseErrorKind::Truncated`]. A record at the end with the full field
//!   count is complete even without a final newline.
//! - **Quoting.** A field starting with `"` is quoted: it ends at the next
//!   lone `"`, `""` inside stands for `"`, and it may hold `,`, CR and LF
//!   (a record may so span lines). After the closing quote must come a
//!   comma or the end of the line, else [`crate::ParseErrorKind::Malformed`]. An
//!   unclosed quote is [`crate::ParseErrorKind::UnterminatedQuote`] at the opening
//!   quote. A `"` inside an unquoted field is an ordinary character.
//! - **Types.** Every numeric column of the [`Column`](crate::Column) table is parsed and
//!   checked while reading: text there is [`crate::ParseErrorKind::InvalidNumber`]
//!   with line, column, record, field name and the text found. `type` must
//!   also fit in a byte. Text-like columns (status, check status, mode,
//!   address) are kept as text and made into their enum on access; those
//!   parsers are total (unknown text is `Other`), so no error waits for
//!   access. Columns not in the table (the `-` separator, module columns)
//!   hold an integer when the field is one, text otherwise.
//! - **Empty field**: `None`, never `0` or `""`.

mod packing;
mod parse;
mod record;
mod table;

pub use parse::{parse_stat, parse_stat_with_columns};
pub use record::{StatRecord, Value};
pub use table::{Cells, Field, OwnedStatTable, StatTable, TableMemory};

#[cfg(test)]
mod tests {
    use super::packing::{Packed, Slot, PACKED_INT_MAX, PACKED_INT_MIN};
    use super::parse::{count_newlines, field_end};
    use super::*;
    use crate::error::{ParseError, ParseErrorKind};
    use crate::field::{Column, HeaderColumn};
    use crate::value::{ProxyType, Status};
    use crate::Combine;

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
            let p = Packed::pack(slot, 0, &mut overflow);
            assert_eq!(p.unpack(0, &overflow), slot, "{slot:?}");
        }
        assert_eq!(overflow.len(), 6, "only what does not fit overflows");
        // Spans are packed from their record's start: near it and short
        // they fit, far from it or long they overflow.
        let mut overflow = Vec::new();
        for (base, slot, fits) in [
            (1000, Slot::Span(1000, 1000), true),
            (1000, Slot::Span(1007, 1010), true),
            (
                1000,
                Slot::Span(1000 + 65_535, 1000 + 65_535 + 16_383),
                true,
            ),
            (1000, Slot::Span(1000 + 65_536, 1000 + 65_537), false),
            (1000, Slot::Span(1000, 1000 + 16_384), false),
            (1000, Slot::Span(999, 1001), false),
            (1000, Slot::Span(1010, 1005), false),
            (0, Slot::Int(PACKED_INT_MAX + 1), false),
            (0, Slot::Int(PACKED_INT_MIN - 1), false),
        ] {
            let before = overflow.len();
            let p = Packed::pack(slot, base, &mut overflow);
            assert_eq!(p.unpack(base, &overflow), slot, "{slot:?} from {base}");
            assert_eq!(overflow.len() > before, !fits, "{slot:?} from {base}");
            if fits {
                assert_eq!(p.small_int().is_some(), matches!(slot, Slot::Int(_)));
            }
        }
    }

    #[test]
    fn long_and_far_fields_of_long_records_read_back_whole() {
        // A field longer than a packed span holds, one that starts further
        // into its record than a packed offset reaches, numbers past the
        // packed range, in records after others.
        let long = "x".repeat(20_000);
        let pad = "p".repeat(70_000);
        let raw = format!(
            "# pxname,svname,scur,status,addr,\nbe,a,1,UP,1.2.3.4:80,\nbe,{long},536870912,{pad},far,\nbe,c,-536870913,DOWN,,\n"
        );
        let owned = OwnedStatTable::parse(raw.clone()).expect("parses");
        let borrowed = parse_stat(&raw).expect("parses");
        let want = [
            ["be", "a", "1", "UP", "1.2.3.4:80"],
            ["be", &long, "536870912", &pad, "far"],
            ["be", "c", "-536870913", "DOWN", ""],
        ];
        for (row, fields) in want.iter().enumerate() {
            let rec = borrowed.record(row).expect("record");
            let cells = owned.cells(row).expect("cells");
            for (col, &text) in fields.iter().enumerate() {
                let field = owned.field(row, col);
                assert_eq!(cells.get(col), field, "{row}/{col}");
                let seen = match field {
                    Field::Empty => String::new(),
                    Field::Int(n) => n.to_string(),
                    Field::UInt(n) => n.to_string(),
                    Field::Text(t) => t.to_owned(),
                };
                assert_eq!(seen, text, "{row}/{col}");
                if col != 2 {
                    assert_eq!(rec.text_at(col).unwrap_or(""), text, "{row}/{col}");
                }
            }
        }
        assert_eq!(owned.cells(1).and_then(|c| c.small_int(2)), None);
        assert_eq!(owned.cells(0).and_then(|c| c.small_int(2)), Some(Some(1)));
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
                crate::ParseErrorKind::MissingHeader,
                1,
                1,
                None,
            ),
            (
                "\n#\n".to_owned(),
                crate::ParseErrorKind::MissingHeader,
                2,
                1,
                None,
            ),
            (
                format!("{H}be,s1,3\n"),
                crate::ParseErrorKind::TooFewFields {
                    expected: 9,
                    found: 3,
                },
                2,
                1,
                Some("status"),
            ),
            (
                format!("{H}be,s1,3"),
                crate::ParseErrorKind::Truncated,
                2,
                8,
                Some("status"),
            ),
            (
                format!("{H}{row}8,\n"),
                crate::ParseErrorKind::TooManyFields {
                    expected: 9,
                    found: 10,
                },
                2,
                35,
                None,
            ),
            (
                format!("{H}be,s1,x3,UP,2,L7OK,a,-,7,\n"),
                crate::ParseErrorKind::InvalidNumber,
                2,
                7,
                Some("qcur"),
            ),
            (
                format!("{H}be,s1,-3x,UP,2,L7OK,a,-,7,\n"),
                crate::ParseErrorKind::InvalidNumber,
                2,
                7,
                Some("qcur"),
            ),
            (
                format!("{H}be,s1,3,UP,300,L7OK,a,-,7,\n"),
                crate::ParseErrorKind::Malformed {
                    expected: "a proxy type from 0 to 255",
                },
                2,
                12,
                Some("type"),
            ),
            (
                format!("{H}be,\"s1,3,UP\n"),
                crate::ParseErrorKind::UnterminatedQuote,
                2,
                4,
                Some("svname"),
            ),
            (
                format!("{H}be,\"s1\"x,3,UP,2,L7OK,a,-,7,\n"),
                crate::ParseErrorKind::Malformed {
                    expected: "a comma or a line end after a closing quote",
                },
                2,
                8,
                Some("svname"),
            ),
            (
                format!("{H}{row}\n# pxname,svname,\n"),
                crate::ParseErrorKind::Malformed {
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
        assert!(matches!(e.kind, crate::ParseErrorKind::Malformed { .. }));
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
