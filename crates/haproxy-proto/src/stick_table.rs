//! Stick tables: `show table` (the list, and one table's entries), and
//! the keys and data types a `set table` / `clear table` takes, checked by
//! the table's key type before sending.
//!
//! The list is one `# table: NAME, type: TYPE, size:N, used:N` line per
//! table; a table's dump is that line, then one line per entry:
//! `0x…: key=KEY use=N exp=MS [shard=N] TYPE=VALUE …` (2.6–3.4; `shard`
//! from 3.0). A key is printed with HAProxy's CLI escaping (`alice\ bob`),
//! read back unescaped here. Data types are `name=value`, rates with their
//! period in milliseconds (`http_req_rate(10000)=3`).

use crate::error::{Input, ParseError, ParseErrorKind, Position};

/// One table of `show table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo<'a> {
    /// Its name (the proxy that declares it).
    pub name: &'a str,
    /// Its key type: `ip`, `ipv6`, `integer`, `string`, `binary`.
    pub key_type: &'a str,
    /// Entries it can hold.
    pub size: u64,
    /// Entries it holds.
    pub used: u64,
}

/// One entry of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableEntry<'a> {
    /// The key, unescaped.
    pub key: String,
    /// How many streams track it now.
    pub used: u64,
    /// Milliseconds until it expires (none for a table without expiry).
    pub exp: Option<u64>,
    /// Its data, in HAProxy's order: the type as printed
    /// (`http_req_rate(10000)`) and the value.
    pub data: Vec<(&'a str, &'a str)>,
}

/// A table's dump: its header and entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDump<'a> {
    /// The `# table:` line.
    pub table: TableInfo<'a>,
    /// The entries, in HAProxy's order.
    pub entries: Vec<TableEntry<'a>>,
}

fn err(reply: &str, at: usize, expected: &'static str, line: &str) -> ParseError {
    ParseError::new(
        Input::Reply,
        ParseErrorKind::Malformed { expected },
        Position::at(reply.as_bytes(), at),
        line,
    )
}

/// `# table: st_src, type: ip, size:1024, used:1`.
fn header(line: &str) -> Option<TableInfo<'_>> {
    let rest = line.strip_prefix("# table: ")?;
    let (name, rest) = rest.split_once(", type: ")?;
    let (key_type, rest) = rest.split_once(", size:")?;
    let (size, used) = rest.split_once(", used:")?;
    Some(TableInfo {
        name,
        key_type,
        size: size.trim().parse().ok()?,
        used: used.trim().parse().ok()?,
    })
}

/// Lines of `reply` with their byte offsets, blank ones skipped.
fn lines(reply: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    reply.split_inclusive('\n').filter_map(move |raw| {
        let start = at;
        at += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        (!line.is_empty()).then_some((start, line))
    })
}

/// Parses `show table` without argument.
///
/// # Errors
///
/// [`ParseError`] at the first line that is not a table header.
pub fn parse_tables(reply: &str) -> Result<Vec<TableInfo<'_>>, ParseError> {
    lines(reply)
        .map(|(at, l)| header(l).ok_or_else(|| err(reply, at, "a `# table:` line", l)))
        .collect()
}

/// Parses `show table NAME` (with or without a key or data filter). An
/// empty reply (a `key` that is absent) is `None`.
///
/// # Errors
///
/// [`ParseError`] when the first line is not the table's header or an
/// entry line is malformed.
pub fn parse_table(reply: &str) -> Result<Option<TableDump<'_>>, ParseError> {
    if reply.trim().is_empty() {
        return Ok(None);
    }
    let mut it = lines(reply);
    let (at, first) = it.next().ok_or_else(|| {
        ParseError::new(
            Input::Reply,
            ParseErrorKind::MissingHeader,
            Position::at(reply.as_bytes(), 0),
            reply,
        )
    })?;
    let table = header(first).ok_or_else(|| err(reply, at, "a `# table:` line", first))?;
    let entries = it
        .map(|(at, l)| entry(l).ok_or_else(|| err(reply, at, "`0x…: key=… use=… …`", l)))
        .collect::<Result<_, _>>()?;
    Ok(Some(TableDump { table, entries }))
}

/// `0x…: key=K use=N exp=N [shard=N] a=b …`.
fn entry(line: &str) -> Option<TableEntry<'_>> {
    let (ptr, rest) = line.split_once(": ")?;
    if !ptr.starts_with("0x") {
        return None;
    }
    let rest = rest.strip_prefix("key=")?;
    // The key ends at the first unescaped space.
    let mut key = String::new();
    let mut chars = rest.char_indices();
    let mut end = rest.len();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => key.push(chars.next()?.1),
            ' ' => {
                end = i;
                break;
            }
            c => key.push(c),
        }
    }
    let mut e = TableEntry {
        key,
        used: 0,
        exp: None,
        data: Vec::new(),
    };
    for word in rest[end..].split_ascii_whitespace() {
        let (name, value) = word.split_once('=')?;
        match name {
            "use" => e.used = value.parse().ok()?,
            "exp" => e.exp = value.parse().ok(),
            "shard" => {}
            _ => e.data.push((name, value)),
        }
    }
    Some(e)
}

/// Whether a data type name (`gpc0`, `http_req_rate`) can be sent as
/// `data.<name>`: lower-case letters, digits and `_`, starting with a
/// letter.
pub fn is_data_type(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks `key` against a table's key type: what HAProxy would read as
/// that type, so that a key it would misread (3.4 stores `abc` in an
/// integer table as 0, silently) is refused. `None` when it is valid,
/// else what was expected.
pub fn key_problem(key_type: &str, key: &str) -> Option<&'static str> {
    let ok = match key_type {
        "ip" => key.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => key.parse::<std::net::Ipv6Addr>().is_ok(),
        "integer" => {
            !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) && key.parse::<u32>().is_ok()
        }
        "string" => !key.is_empty() && !key.chars().any(char::is_control),
        "binary" => {
            !key.is_empty() && key.len() % 2 == 0 && key.bytes().all(|b| b.is_ascii_hexdigit())
        }
        _ => {
            return Some(
                "a table of a key type this tool knows (ip, ipv6, integer, string, binary)",
            )
        }
    };
    if ok {
        None
    } else {
        Some(match key_type {
            "ip" => "an IPv4 address (the table's key type is ip)",
            "ipv6" => "an IPv6 address (the table's key type is ipv6)",
            "integer" => "a number from 0 to 4294967295 (the table's key type is integer)",
            "string" => "a non-empty string without control characters",
            _ => "hex digits, an even number of them (the table's key type is binary)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_entries_read_as_printed() {
        let list = parse_tables("# table: st_int, type: integer, size:1024, used:0\n# table: st_src, type: ip, size:1024, used:1\n\n").expect("a list");
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[1].name, list[1].key_type, list[1].used),
            ("st_src", "ip", 1)
        );
        assert!(parse_tables("No such table\n").is_err());
        assert_eq!(parse_table("\n"), Ok(None));
        let d = parse_table("# table: st_str, type: string, size:1024, used:1\n0x7fa0a1757728: key=alice\\ bob use=0 exp=599696 shard=0 http_req_cnt=3 gpc0=0 gpc0_rate(10000)=0\n\n").expect("a dump").expect("a table");
        assert_eq!(d.table.name, "st_str");
        assert_eq!(d.entries[0].key, "alice bob");
        assert_eq!(d.entries[0].exp, Some(599_696));
        assert_eq!(
            d.entries[0].data,
            [
                ("http_req_cnt", "3"),
                ("gpc0", "0"),
                ("gpc0_rate(10000)", "0")
            ]
        );
        let d = parse_table("# table: t, type: integer, size:1, used:0\n")
            .expect("empty")
            .expect("a table");
        assert!(d.entries.is_empty());
        for bad in [
            "No such table\n",
            "# table: t, type: ip, size:1, used:1\nnonsense\n",
            "# table: t, type: ip, size:1, used:1\n0x1: key=a\\",
        ] {
            assert!(parse_table(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn keys_are_checked_by_the_tables_type() {
        assert_eq!(key_problem("ip", "10.0.0.1"), None);
        assert!(key_problem("ip", "10.0.0.256").is_some());
        assert!(key_problem("ip", "::1").is_some());
        assert_eq!(key_problem("ipv6", "::1"), None);
        assert_eq!(key_problem("integer", "42"), None);
        assert!(key_problem("integer", "abc").is_some());
        assert!(key_problem("integer", "4294967296").is_some());
        assert!(key_problem("integer", "-1").is_some());
        assert_eq!(key_problem("string", "alice bob"), None);
        assert!(key_problem("string", "a\nb").is_some());
        assert_eq!(key_problem("binary", "00ff"), None);
        assert!(key_problem("binary", "0f0").is_some());
        assert!(key_problem("weird", "x").is_some());
        assert!(is_data_type("gpc0") && is_data_type("http_req_rate"));
        assert!(!is_data_type("gpc(2)") && !is_data_type("") && !is_data_type("0x"));
    }
}
