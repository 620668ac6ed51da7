//! `show map` / `show acl` listings, their entries, and `get map` /
//! `get acl` results.
//!
//! ```text
//! # id (file) description
//! 3 (/etc/hosts.map) pattern loaded from file '/etc/hosts.map' used by map at file 'h.cfg' line 15. curr_ver=0 next_ver=0 entry_cnt=3
//! 1 () acl 'src' file 'h.cfg' line 13. curr_ver=0 next_ver=0 entry_cnt=0
//!
//! 0x562467785a60 example.com be_app          (show map <map>)
//! 0x5624677860b0 10.0.0.0/8                  (show acl <acl>)
//!
//! type=str, case=sensitive, found=yes, idx=tree, key="example.com", value="be_app", type="str"
//! type=ip, case=sensitive, match=no
//! ```
//!
//! Edge cases, decided here:
//! - lines starting with `#` are headers and skipped; blank lines (the CLI's
//!   terminator) are skipped; a trailing `\r` is removed;
//! - **leading** spaces and TABs of a line are ignored (copies of replies in
//!   test suites are often indented); trailing ones are kept, they may be
//!   part of a value;
//! - a listing's file is what lies between the first `(` and the first `)`
//!   followed by a space or the end of the line; `()` gives `None`; the id
//!   may be negative (`-1`, pre-2.4);
//! - the 2.4+ suffix `. curr_ver=N next_ver=N entry_cnt=N` is split off the
//!   description and parsed; without it the three are `None`;
//! - a map entry's key is its first word and its value the rest of the line
//!   after the separating blanks (`None` if there is none); an ACL entry's
//!   pattern is the whole rest of the line;
//! - HAProxy prints a map entry's key and value unescaped, separated by one
//!   blank: `0x… sp ace val x` may be key `sp ace` and value `val x`, or key
//!   `sp` and value `ace val x`. Such a line is **ambiguous**
//!   ([`MapEntry::is_ambiguous`]); [`MapEntry::splits`] lists every reading,
//!   for the caller to resolve (with `get map`) or report — the first-word
//!   split in `key`/`value` is only one of them;
//! - HAProxy's error replies (`Unknown map identifier. …`) are not a listing:
//!   they are a positioned [`ParseErrorKind::Malformed`] error (classify
//!   replies with [`crate::reply`] first to get HAProxy's text verbatim);
//! - `get map`/`get acl` print one line per expression using the map; each
//!   line is one [`MapLookup`]. HAProxy does not escape quotes inside the
//!   quoted key/value: the key ends at the first `", value=` and the value at
//!   the last `", type="`.

use crate::error::lines;
use crate::error::{Input, ParseError, ParseErrorKind, Position};
#[cfg(feature = "serde")]
use serde::Serialize;

/// One line of `show map` / `show acl` without argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct MapListing<'a> {
    /// The unique id (`#<id>` in commands); `-1` possible before 2.4.
    pub id: i64,
    /// The file, `None` for an anonymous list (`()`).
    pub file: Option<&'a str>,
    /// HAProxy's description, without the version suffix.
    pub description: &'a str,
    /// `curr_ver` (2.4+).
    pub curr_ver: Option<u64>,
    /// `next_ver` (2.4+).
    pub next_ver: Option<u64>,
    /// `entry_cnt` (2.4+).
    pub entry_cnt: Option<u64>,
}

/// One entry of `show map <map>` or `show acl <acl>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct MapEntry<'a> {
    /// HAProxy's entry id, the `0x…` pointer (usable in `del map #<id>`).
    pub id: &'a str,
    /// The key (map) or the pattern (ACL).
    pub key: &'a str,
    /// The value (maps only).
    pub value: Option<&'a str>,
    /// Everything after the id, as printed (key and value of a map entry).
    pub text: &'a str,
}

impl<'a> MapEntry<'a> {
    /// Every way of reading a map entry's [`MapEntry::text`] as a key and
    /// a non-empty value, split at one blank (space or TAB), first word
    /// first.
    pub fn splits(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let text = self.text;
        text.char_indices()
            .filter(|&(_, c)| c == ' ' || c == '\t')
            .map(move |(i, _)| (&text[..i], &text[i + 1..]))
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
    }

    /// Whether this map entry's line reads in more than one way (its key
    /// or value holds a blank): `key`/`value` are then only a guess.
    pub fn is_ambiguous(&self) -> bool {
        self.value.is_some() && self.splits().nth(1).is_some()
    }
}

/// Whether a lookup result is from a map (`found=`) or an ACL (`match=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize))]
#[non_exhaustive]
pub enum LookupKind {
    /// `get map`.
    Map,
    /// `get acl`.
    Acl,
}

/// One line of `get map` / `get acl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct MapLookup<'a> {
    /// Map or ACL.
    pub kind: LookupKind,
    /// The match method (`str`, `ip`, `beg`, `reg`, …).
    pub match_type: &'a str,
    /// `case=insensitive`.
    pub case_insensitive: bool,
    /// `found=yes` / `match=yes`.
    pub found: bool,
    /// The index (`tree`, `list`) when found.
    pub index: Option<&'a str>,
    /// The matched key (map) or pattern (ACL); `None` when not found or
    /// printed as `unknown`.
    pub key: Option<&'a str>,
    /// The value (map); `None` when not found or printed as `none`.
    pub value: Option<&'a str>,
    /// The value's sample type (`str`, `int`, …), maps only.
    pub value_type: Option<&'a str>,
}

struct Ctx<'a> {
    input: &'a str,
}

impl Ctx<'_> {
    fn err(&self, at: usize, kind: ParseErrorKind, found: &str, record: usize) -> ParseError {
        ParseError::new(
            Input::MapAcl,
            kind,
            Position::at(self.input.as_bytes(), at).with_record(record),
            found,
        )
    }
}

/// The content lines: (offset of the first non-blank byte, text from it),
/// skipping blank lines and, when `skip_comments`, `#` lines.
fn content_lines(input: &str, skip_comments: bool) -> impl Iterator<Item = (usize, &str)> {
    lines(input).filter_map(move |(offset, line)| {
        let text = line.trim_start_matches([' ', '\t']);
        let at = offset + (line.len() - text.len());
        if text.trim().is_empty() || (skip_comments && text.starts_with('#')) {
            None
        } else {
            Some((at, text))
        }
    })
}

/// Parses the output of `show map` or `show acl` without argument.
///
/// # Errors
///
/// A positioned [`ParseError`] ([`Input::MapAcl`]) for a line that does
/// not start with `<id> (<file>)` (`Malformed`), or whose id or version
/// counters are not numbers (`InvalidNumber`, naming the field).
pub fn parse_map_list(input: &str) -> Result<Vec<MapListing<'_>>, ParseError> {
    let ctx = Ctx { input };
    let mut out = Vec::new();
    for (at, text) in content_lines(input, true) {
        let record = out.len();
        let malformed = |off: usize, expected: &'static str| {
            ctx.err(
                at + off,
                ParseErrorKind::Malformed { expected },
                text,
                record,
            )
        };
        let (id_text, rest) = text
            .split_once(' ')
            .ok_or_else(|| malformed(0, "`<id> (<file>) <description>`"))?;
        let id: i64 = id_text.parse().map_err(|_| {
            ctx.err(at, ParseErrorKind::InvalidNumber, id_text, record)
                .with_field("id")
        })?;
        let open = id_text.len() + 1;
        let inner = rest
            .strip_prefix('(')
            .ok_or_else(|| malformed(open, "`(<file>)` after the id"))?;
        let close = inner
            .match_indices(')')
            .map(|(i, _)| i)
            .find(|&i| matches!(inner.as_bytes().get(i + 1), None | Some(b' ')))
            .ok_or_else(|| malformed(open, "`)` closing the file name"))?;
        let file = &inner[..close];
        let desc_at = open + 1 + close + 1;
        let description = text.get(desc_at..).unwrap_or("").trim_start_matches(' ');
        let desc_at = text.len() - description.len();
        let (description, curr_ver, next_ver, entry_cnt) = match description.rfind(". curr_ver=") {
            None => (description, None, None, None),
            Some(i) => {
                let suffix = &description[i + 2..];
                let mut vals = [None; 3];
                let mut off = desc_at + i + 2;
                for word in suffix.split(' ') {
                    let (k, v) = word.split_once('=').unwrap_or((word, ""));
                    let slot = match k {
                        "curr_ver" => 0,
                        "next_ver" => 1,
                        "entry_cnt" => 2,
                        _ => {
                            return Err(malformed(
                                off,
                                "`curr_ver=N next_ver=N entry_cnt=N` after the description",
                            ))
                        }
                    };
                    let n: u64 = v.parse().map_err(|_| {
                        ctx.err(
                            at + off + k.len() + 1,
                            ParseErrorKind::InvalidNumber,
                            v,
                            record,
                        )
                        .with_field(k.to_owned())
                    })?;
                    vals[slot] = Some(n);
                    off += word.len() + 1;
                }
                (&description[..i + 1], vals[0], vals[1], vals[2])
            }
        };
        out.push(MapListing {
            id,
            file: (!file.is_empty()).then_some(file),
            description,
            curr_ver,
            next_ver,
            entry_cnt,
        });
    }
    Ok(out)
}

fn parse_entries(input: &str, with_value: bool) -> Result<Vec<MapEntry<'_>>, ParseError> {
    let ctx = Ctx { input };
    let mut out = Vec::new();
    for (at, text) in content_lines(input, false) {
        let record = out.len();
        let (id, rest) = text.split_once([' ', '\t']).unwrap_or((text, ""));
        let hex = id.strip_prefix("0x").unwrap_or("");
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ctx.err(
                at,
                ParseErrorKind::Malformed {
                    expected: "an entry `0x<id> <key> [<value>]`",
                },
                text,
                record,
            ));
        }
        let rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Err(ctx.err(
                at + id.len(),
                ParseErrorKind::Malformed {
                    expected: "a key after the entry id",
                },
                text,
                record,
            ));
        }
        let (key, value) = if with_value {
            match rest.split_once([' ', '\t']) {
                Some((k, v)) => (k, Some(v.trim_start_matches([' ', '\t']))),
                None => (rest, None),
            }
        } else {
            (rest, None)
        };
        out.push(MapEntry {
            id,
            key,
            value,
            text: rest,
        });
    }
    Ok(out)
}

/// Parses the output of `show map <map>`: key and value per entry.
///
/// # Errors
///
/// A positioned [`ParseErrorKind::Malformed`] error for a line that is not
/// `0x<hex id> <key> [<value>]` (error replies included).
pub fn parse_map_entries(input: &str) -> Result<Vec<MapEntry<'_>>, ParseError> {
    parse_entries(input, true)
}

/// Parses the output of `show acl <acl>`: a pattern per entry (the whole
/// rest of the line; [`MapEntry::value`] is always `None`).
///
/// # Errors
///
/// As [`parse_map_entries`].
pub fn parse_acl_entries(input: &str) -> Result<Vec<MapEntry<'_>>, ParseError> {
    parse_entries(input, false)
}

/// Parses the output of `get map` / `get acl`: one result per line.
///
/// # Errors
///
/// A positioned [`ParseErrorKind::Malformed`] error for a line that is not
/// `type=…, case=…, found=…|match=…[, …]`.
pub fn parse_lookup(input: &str) -> Result<Vec<MapLookup<'_>>, ParseError> {
    let ctx = Ctx { input };
    let mut out = Vec::new();
    for (at, text) in content_lines(input, false) {
        let record = out.len();
        let lookup = parse_lookup_line(text).map_err(|(off, expected)| {
            ctx.err(
                at + off,
                ParseErrorKind::Malformed { expected },
                text,
                record,
            )
        })?;
        out.push(lookup);
    }
    Ok(out)
}

/// Takes `<prefix><word>` from the front of `rest`, the word ending at the
/// next `, ` or the end.
fn take_word<'a>(
    text: &str,
    rest: &mut &'a str,
    prefix: &'static str,
    what: &'static str,
) -> Result<&'a str, (usize, &'static str)> {
    let r = rest
        .strip_prefix(prefix)
        .ok_or((text.len() - rest.len(), what))?;
    let end = r.find(", ").unwrap_or(r.len());
    *rest = &r[end..];
    Ok(&r[..end])
}

fn parse_lookup_line<'a>(text: &'a str) -> Result<MapLookup<'a>, (usize, &'static str)> {
    let mut rest = text;
    let pos = |rest: &str| text.len() - rest.len();
    let word = |rest: &mut &'a str, prefix: &'static str, what: &'static str| {
        take_word(text, rest, prefix, what)
    };
    let match_type = word(&mut rest, "type=", "`type=` first")?;
    let case = word(&mut rest, ", case=", "`, case=` after the type")?;
    let case_insensitive = match case {
        "sensitive" => false,
        "insensitive" => true,
        _ => return Err((pos(rest) - case.len(), "`sensitive` or `insensitive`")),
    };
    let (kind, found) = if rest.starts_with(", found=") {
        (LookupKind::Map, word(&mut rest, ", found=", "`found=`")?)
    } else {
        (
            LookupKind::Acl,
            word(&mut rest, ", match=", "`, found=` or `, match=`")?,
        )
    };
    let found = match found {
        "yes" => true,
        "no" => false,
        _ => return Err((pos(rest) - found.len(), "`yes` or `no`")),
    };
    let mut lookup = MapLookup {
        kind,
        match_type,
        case_insensitive,
        found,
        index: None,
        key: None,
        value: None,
        value_type: None,
    };
    if !found {
        return if rest.is_empty() {
            Ok(lookup)
        } else {
            Err((pos(rest), "the end of the line after `no`"))
        };
    }
    lookup.index = Some(word(&mut rest, ", idx=", "`, idx=` after `yes`")?);
    match kind {
        LookupKind::Acl => {
            if rest == ", pattern=unknown" {
                return Ok(lookup);
            }
            let p = rest
                .strip_prefix(", pattern=\"")
                .and_then(|r| r.strip_suffix('"'))
                .ok_or((pos(rest), "`, pattern=\"…\"` after the index"))?;
            lookup.key = Some(p);
        }
        LookupKind::Map => {
            if let Some(r) = rest.strip_prefix(", key=unknown") {
                rest = r;
            } else {
                let r = rest
                    .strip_prefix(", key=\"")
                    .ok_or((pos(rest), "`, key=\"…\"` after the index"))?;
                let end = r
                    .find("\", value=")
                    .ok_or((pos(r), "`\", value=` after the key"))?;
                lookup.key = Some(&r[..end]);
                rest = &r[end + 1..];
            }
            if rest == ", value=none" {
                return Ok(lookup);
            }
            let r = rest
                .strip_prefix(", value=\"")
                .ok_or((pos(rest), "`, value=\"…\"` after the key"))?;
            let end = r
                .rfind("\", type=\"")
                .ok_or((pos(r), "`\", type=\"…\"` after the value"))?;
            lookup.value = Some(&r[..end]);
            let ty = r[end + 9..]
                .strip_suffix('"')
                .ok_or((text.len(), "a closing `\"` after the value type"))?;
            lookup.value_type = Some(ty);
        }
    }
    Ok(lookup)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, id, file, description, entry_cnt)
    type ListingCase<'a> = (&'a str, i64, Option<&'a str>, &'a str, Option<u64>);

    #[test]
    fn listings() {
        let cases: &[ListingCase<'_>] = &[
            (
                "3 (/a b.map) pattern loaded from file '/a b.map' used by map at file 'h.cfg' line 15. curr_ver=0 next_ver=1 entry_cnt=3",
                3,
                Some("/a b.map"),
                "pattern loaded from file '/a b.map' used by map at file 'h.cfg' line 15.",
                Some(3),
            ),
            ("1 () acl 'src' file 'h.cfg' line 13", 1, None, "acl 'src' file 'h.cfg' line 13", None),
            ("-1 (/x.map) d", -1, Some("/x.map"), "d", None),
            ("\t\t5 (/x(1).map)", 5, Some("/x(1).map"), "", None),
        ];
        for (line, id, file, desc, cnt) in cases {
            let l = parse_map_list(line).expect(line);
            assert_eq!(l.len(), 1);
            assert_eq!(
                (l[0].id, l[0].file, l[0].description, l[0].entry_cnt),
                (*id, *file, *desc, *cnt),
                "{line}"
            );
        }
    }

    #[test]
    fn listing_errors() {
        let cases: &[(&str, usize, usize)] = &[
            (
                "# id (file) description\nUnknown map identifier. Please use #<id> or <file>.\n",
                2,
                1,
            ),
            ("x (/a) d", 1, 1),
            ("1 /a d", 1, 3),
            ("1 (/a", 1, 3),
            ("1 (/a) d. curr_ver=x next_ver=0 entry_cnt=0", 1, 20),
            ("1 (/a) d. curr_ver=0 bogus=0", 1, 22),
        ];
        for (input, line, column) in cases {
            let e = parse_map_list(input).expect_err(input);
            assert_eq!(
                (e.position.line, e.position.column),
                (*line, *column),
                "{input}: {e}"
            );
        }
    }

    #[test]
    fn entries() {
        let m = parse_map_entries("0x1a k v w\n0x2b  k2\n\n").expect("map");
        assert_eq!(
            m,
            [
                MapEntry {
                    id: "0x1a",
                    key: "k",
                    value: Some("v w"),
                    text: "k v w",
                },
                MapEntry {
                    id: "0x2b",
                    key: "k2",
                    value: None,
                    text: "k2",
                },
            ]
        );
        assert!(m[0].is_ambiguous());
        assert_eq!(
            m[0].splits().collect::<Vec<_>>(),
            [("k", "v w"), ("k v", "w")]
        );
        assert!(!m[1].is_ambiguous());
        let plain = parse_map_entries(
            "0x1 k v
0x2 k v 
",
        )
        .expect("map");
        assert!(plain.iter().all(|e| !e.is_ambiguous()), "{plain:?}");
        let a = parse_acl_entries(" 0xff 10.0.0.0/8\n\t0xfe a b\n").expect("acl");
        assert_eq!(
            a[1],
            MapEntry {
                id: "0xfe",
                key: "a b",
                value: None,
                text: "a b",
            }
        );
        assert!(!a[1].is_ambiguous(), "an ACL pattern is the whole line");
        for bad in ["0x k", "12 k", "0xzz k", "0x12", "Unknown ACL identifier."] {
            let e = parse_acl_entries(bad).expect_err(bad);
            assert_eq!(e.position.line, 1, "{bad}");
        }
    }

    #[test]
    fn lookups() {
        let l = parse_lookup(
            "type=str, case=sensitive, found=yes, idx=tree, key=\"a\", value=\"b, \"c\"\", type=\"str\"\n\
             type=beg, case=insensitive, found=no\n\
             type=ip, case=sensitive, match=yes, idx=tree, pattern=\"10.0.0.0/8\"\n\
             type=str, case=sensitive, found=yes, idx=list, key=unknown, value=none\n",
        )
        .expect("parses");
        assert_eq!(l.len(), 4);
        assert_eq!(
            (l[0].key, l[0].value, l[0].value_type),
            (Some("a"), Some("b, \"c\""), Some("str"))
        );
        assert!(l[1].case_insensitive && !l[1].found && l[1].kind == LookupKind::Map);
        assert_eq!(
            (l[2].kind, l[2].key, l[2].index),
            (LookupKind::Acl, Some("10.0.0.0/8"), Some("tree"))
        );
        assert_eq!((l[3].key, l[3].value), (None, None));
        for bad in [
            "type=str",
            "type=str, case=maybe, found=no",
            "type=str, case=sensitive, found=perhaps",
            "type=str, case=sensitive, found=no, extra",
            "type=str, case=sensitive, found=yes, idx=tree, key=\"a\"",
            "type=str, case=sensitive, found=yes, idx=tree, key=\"a\", value=\"b\"",
            "type=ip, case=sensitive, match=yes, idx=tree, pattern=\"x",
        ] {
            assert!(parse_lookup(bad).is_err(), "{bad}");
        }
    }
}
