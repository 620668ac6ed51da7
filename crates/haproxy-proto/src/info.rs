//! `show info`: `Key: value` lines, and the table of info fields saying how
//! each combines across processes.
//!
//! ```text
//! Name: HAProxy
//! Version: 2.6.12-1+deb12u4
//! Unstoppable Jobs: 0
//! description: "test description, with: colon"
//! ```
//!
//! Edge cases, decided here:
//! - the name is everything before the first `:` (names may hold spaces:
//!   `Unstoppable Jobs`, `Build info`); the value is everything after it,
//!   with **one** leading space removed if present (`SslRate:0` from 1.5 has
//!   none) and a trailing `\r` removed; the value may hold `: `;
//! - a value HAProxy quoted as CSV (it does so for a value holding a comma
//!   or a quote, e.g. a `description`) is unquoted: `"a, b"` → `a, b`,
//!   `""` inside → `"`. A value that starts with `"` but is not a
//!   well-formed quoted string is an [`ParseErrorKind::UnterminatedQuote`]
//!   error;
//! - blank lines (the CLI's empty terminator) are skipped wherever they are;
//!   an empty input gives an empty [`Info`];
//! - a non-blank line without `:`, or with an empty name, is a positioned
//!   [`ParseErrorKind::Malformed`] error (this is what an error reply such as
//!   `Unknown command` gives);
//! - a name seen twice keeps both lines; [`Info::get`] returns the first.
//!
//! Typed getters return `Result<Option<T>, ParseError>`: `Ok(None)` when the
//! field is absent (older versions), `Err` naming the field and its place when
//! it is present but not a number.

use crate::combine::Combine;
use crate::error::{lines, Input, ParseError, ParseErrorKind, Position};
use crate::typed::Nature;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::time::Duration;

/// One `Key: value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoLine<'a> {
    /// The field name, as printed.
    pub name: &'a str,
    /// The value, unquoted (borrowed unless it held a doubled quote).
    pub value: Cow<'a, str>,
    /// Byte offset of the value in the input.
    pub offset: usize,
}

/// The parsed output of `show info`, borrowing from the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info<'a> {
    input: &'a str,
    lines: Vec<InfoLine<'a>>,
}

/// Parses the output of `show info`.
///
/// # Errors
///
/// A [`ParseError`] with [`Input::Info`] and the line and column of the
/// first non-blank line that has no `:` or an empty name
/// ([`ParseErrorKind::Malformed`]), or whose value opens a quote it does not
/// close properly ([`ParseErrorKind::UnterminatedQuote`]).
pub fn parse_info(input: &str) -> Result<Info<'_>, ParseError> {
    let mut out = Vec::new();
    for (offset, line) in lines(input) {
        if line.trim().is_empty() {
            continue;
        }
        let record = out.len();
        let err = |at: usize, kind: ParseErrorKind, found: &str| {
            ParseError::new(
                Input::Info,
                kind,
                Position::at(input.as_bytes(), offset + at).with_record(record),
                found,
            )
        };
        let Some((name, raw)) = line.split_once(':') else {
            return Err(err(
                0,
                ParseErrorKind::Malformed {
                    expected: "`Name: value`",
                },
                line,
            ));
        };
        if name.is_empty() {
            return Err(err(
                0,
                ParseErrorKind::Malformed {
                    expected: "a field name before `:`",
                },
                line,
            ));
        }
        let mut value_at = name.len() + 1;
        let raw = match raw.strip_prefix(' ') {
            Some(v) => {
                value_at += 1;
                v
            }
            None => raw,
        };
        let value = unquote(raw).ok_or_else(|| {
            err(value_at, ParseErrorKind::UnterminatedQuote, raw).with_field(name.to_owned())
        })?;
        out.push(InfoLine {
            name,
            value,
            offset: offset + value_at,
        });
    }
    Ok(Info { input, lines: out })
}

/// Undoes HAProxy's CSV quoting of a value; `None` if it opens a quote that
/// is not closed at the end or holds a lone quote.
fn unquote(raw: &str) -> Option<Cow<'_, str>> {
    let Some(inner) = raw.strip_prefix('"') else {
        return Some(Cow::Borrowed(raw));
    };
    let inner = inner.strip_suffix('"')?;
    if !inner.contains('"') {
        return Some(Cow::Borrowed(inner));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '"' && chars.next() != Some('"') {
            return None;
        }
        out.push(c);
    }
    Some(Cow::Owned(out))
}

macro_rules! number_getters {
    ($($(#[$doc:meta])* $fn:ident => $name:literal;)*) => {
        $(
            $(#[$doc])*
            ///
            /// # Errors
            ///
            /// [`ParseErrorKind::InvalidNumber`] naming the field when it is
            /// present but not an unsigned integer.
            pub fn $fn(&self) -> Result<Option<u64>, ParseError> {
                self.get_u64($name)
            }
        )*
    };
}

macro_rules! text_getters {
    ($($(#[$doc:meta])* $fn:ident => $name:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $fn(&self) -> Option<&str> {
                self.get($name)
            }
        )*
    };
}

impl<'a> Info<'a> {
    /// The lines, in reply order.
    pub fn lines(&self) -> &[InfoLine<'a>] {
        &self.lines
    }

    /// `(name, value)` pairs in reply order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &str)> + '_ {
        self.lines.iter().map(|l| (l.name, l.value.as_ref()))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The value of the first field named `name` (exact, case-sensitive:
    /// HAProxy prints `node` in lower case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.line(name).map(|l| l.value.as_ref())
    }

    fn line(&self, name: &str) -> Option<&InfoLine<'a>> {
        self.lines.iter().find(|l| l.name == name)
    }

    /// The value of field `name` as an unsigned integer.
    ///
    /// # Errors
    ///
    /// [`ParseErrorKind::InvalidNumber`] naming the field, at the value's
    /// place, when it is present but not an unsigned integer.
    pub fn get_u64(&self, name: &str) -> Result<Option<u64>, ParseError> {
        let Some(line) = self.line(name) else {
            return Ok(None);
        };
        line.value.parse::<u64>().map(Some).map_err(|_| {
            ParseError::new(
                Input::Info,
                ParseErrorKind::InvalidNumber,
                Position::at(self.input.as_bytes(), line.offset),
                &line.value,
            )
            .with_field(name)
        })
    }

    number_getters! {
        /// `Pid`.
        pid => "Pid";
        /// `Process_num` (1-based).
        process_num => "Process_num";
        /// `Nbproc`.
        nbproc => "Nbproc";
        /// `Nbthread` (1.8+).
        nbthread => "Nbthread";
        /// `Uptime_sec`.
        uptime_sec => "Uptime_sec";
        /// `Memmax_MB`.
        memmax_mb => "Memmax_MB";
        /// `Ulimit-n`.
        ulimit_n => "Ulimit-n";
        /// `Maxsock`.
        maxsock => "Maxsock";
        /// `Maxconn`.
        maxconn => "Maxconn";
        /// `Hard_maxconn`.
        hard_maxconn => "Hard_maxconn";
        /// `CurrConns`.
        curr_conns => "CurrConns";
        /// `CumConns`.
        cum_conns => "CumConns";
        /// `CumReq`.
        cum_req => "CumReq";
        /// `ConnRate`.
        conn_rate => "ConnRate";
        /// `ConnRateLimit`.
        conn_rate_limit => "ConnRateLimit";
        /// `MaxConnRate`.
        max_conn_rate => "MaxConnRate";
        /// `SessRate`.
        sess_rate => "SessRate";
        /// `SessRateLimit`.
        sess_rate_limit => "SessRateLimit";
        /// `MaxSessRate`.
        max_sess_rate => "MaxSessRate";
        /// `SslRate`.
        ssl_rate => "SslRate";
        /// `SslRateLimit`.
        ssl_rate_limit => "SslRateLimit";
        /// `Tasks`.
        tasks => "Tasks";
        /// `Run_queue`.
        run_queue => "Run_queue";
        /// `Idle_pct`.
        idle_pct => "Idle_pct";
        /// `Stopping` (1.8+).
        stopping => "Stopping";
        /// `Jobs` (1.8+).
        jobs => "Jobs";
        /// `Listeners` (1.8+).
        listeners => "Listeners";
        /// `Start_time_sec` (2.5+), seconds since the Unix epoch.
        start_time_sec => "Start_time_sec";
    }

    text_getters! {
        /// `Name` (`HAProxy`).
        name => "Name";
        /// `Version`.
        version => "Version";
        /// `Release_date`.
        release_date => "Release_date";
        /// `Uptime` as printed (`0d 0h00m06s`); see [`Info::uptime`].
        uptime_text => "Uptime";
        /// `node`.
        node => "node";
        /// `description`, unquoted.
        description => "description";
    }

    /// `Uptime_sec` as a [`Duration`].
    ///
    /// # Errors
    ///
    /// As [`Info::get_u64`].
    pub fn uptime(&self) -> Result<Option<Duration>, ParseError> {
        Ok(self.uptime_sec()?.map(Duration::from_secs))
    }

    /// An owned copy, for storing or serialising.
    pub fn into_owned(self) -> InfoOwned {
        InfoOwned {
            fields: self
                .lines
                .into_iter()
                .map(|l| (l.name.to_owned(), l.value.into_owned()))
                .collect(),
        }
    }
}

/// An owned `show info`: `(name, value)` pairs in reply order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct InfoOwned {
    /// The fields, in reply order.
    pub fields: Vec<(String, String)>,
}

impl InfoOwned {
    /// The value of the first field named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What kind of value an info field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum InfoValueKind {
    /// An unsigned integer.
    Unsigned,
    /// Text.
    Text,
}

/// What is known about one `show info` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoFieldInfo {
    /// The name as HAProxy prints it.
    pub name: &'static str,
    /// The nature HAProxy states for it in `show info typed` (2.6).
    pub nature: Nature,
    /// The kind of value.
    pub kind: InfoValueKind,
    /// How it combines across processes.
    pub combine: Combine,
}

const fn f(
    name: &'static str,
    nature: Nature,
    kind: InfoValueKind,
    combine: Combine,
) -> InfoFieldInfo {
    InfoFieldInfo {
        name,
        nature,
        kind,
        combine,
    }
}

use Combine::{Average, Max, Min, MustAgree, Sum};
use InfoValueKind::{Text, Unsigned};

/// Every `show info` field of HAProxy 1.5–3.4: 2.6's, in 2.6's order, then
/// those 3.0 and 3.4 added, in their order. The nature is
/// HAProxy 2.6's own (checked in tests against a `show info typed` capture);
/// the combine is [`crate::typed::Tags::combine`] of 2.6's tags except where
/// the tags do not say what the field is:
///
/// - `Process_num`, `Pid`, `Uptime`, `Uptime_sec`, `Start_time_sec`: who
///   each process is and since when. Picking one process's value (or the
///   youngest's uptime from another) would describe no process:
///   [`Combine::MustAgree`], so that processes that differ show every
///   process's value;
/// - `MaxSessRate`: tagged `MRP` (rate) by mistake; it is a maximum:
///   [`Combine::Max`];
/// - `SslFrontendSessionReuse_pct`: tagged a gauge, but it is a percentage:
///   [`Combine::Average`];
/// - `ZlibMemUsage`, `MaxZlibMemUsage` (only in zlib builds, absent from the
///   capture): a gauge and a per-process limit, [`Combine::Sum`].
///
/// Limits (`Maxconn`, `Hard_maxconn`, `Maxsock`, `Ulimit-n`, `Memmax_MB`,
/// `*RateLimit`, `Maxpipes`) are per process, so the fleet's limit is their
/// [`Combine::Sum`]; `Idle_pct` is an average ([`Combine::Average`]), never
/// a sum.
pub static INFO_FIELDS: &[InfoFieldInfo] = &[
    f("Name", Nature::Output, Text, MustAgree),
    f("Version", Nature::Output, Text, MustAgree),
    f("Release_date", Nature::Output, Text, MustAgree),
    f("Nbthread", Nature::Gauge, Unsigned, MustAgree),
    f("Nbproc", Nature::Gauge, Unsigned, MustAgree),
    // Who each process is: never one process's value picked for the fleet
    // (a difference is every process's value, as data).
    f("Process_num", Nature::Gauge, Unsigned, MustAgree),
    f("Pid", Nature::Gauge, Unsigned, MustAgree),
    f("Uptime", Nature::Duration, Text, MustAgree),
    f("Uptime_sec", Nature::Duration, Unsigned, MustAgree),
    f("Memmax_MB", Nature::Limit, Unsigned, Sum),
    f("PoolAlloc_MB", Nature::Gauge, Unsigned, Sum),
    f("PoolUsed_MB", Nature::Gauge, Unsigned, Sum),
    f("PoolFailed", Nature::Counter, Unsigned, Sum),
    f("Ulimit-n", Nature::Limit, Unsigned, Sum),
    f("Maxsock", Nature::Limit, Unsigned, Sum),
    f("Maxconn", Nature::Limit, Unsigned, Sum),
    f("Hard_maxconn", Nature::Limit, Unsigned, Sum),
    f("CurrConns", Nature::Gauge, Unsigned, Sum),
    f("CumConns", Nature::Counter, Unsigned, Sum),
    f("CumReq", Nature::Counter, Unsigned, Sum),
    f("MaxSslConns", Nature::Max, Unsigned, Max),
    f("CurrSslConns", Nature::Gauge, Unsigned, Sum),
    f("CumSslConns", Nature::Counter, Unsigned, Sum),
    f("Maxpipes", Nature::Limit, Unsigned, Sum),
    f("PipesUsed", Nature::Gauge, Unsigned, Sum),
    f("PipesFree", Nature::Gauge, Unsigned, Sum),
    f("ConnRate", Nature::Rate, Unsigned, Sum),
    f("ConnRateLimit", Nature::Limit, Unsigned, Sum),
    f("MaxConnRate", Nature::Max, Unsigned, Max),
    f("SessRate", Nature::Rate, Unsigned, Sum),
    f("SessRateLimit", Nature::Limit, Unsigned, Sum),
    f("MaxSessRate", Nature::Rate, Unsigned, Max),
    f("SslRate", Nature::Rate, Unsigned, Sum),
    f("SslRateLimit", Nature::Limit, Unsigned, Sum),
    f("MaxSslRate", Nature::Max, Unsigned, Max),
    f("SslFrontendKeyRate", Nature::Gauge, Unsigned, Sum),
    f("SslFrontendMaxKeyRate", Nature::Max, Unsigned, Max),
    f(
        "SslFrontendSessionReuse_pct",
        Nature::Gauge,
        Unsigned,
        Average,
    ),
    f("SslBackendKeyRate", Nature::Rate, Unsigned, Sum),
    f("SslBackendMaxKeyRate", Nature::Max, Unsigned, Max),
    f("SslCacheLookups", Nature::Counter, Unsigned, Sum),
    f("SslCacheMisses", Nature::Counter, Unsigned, Sum),
    f("CompressBpsIn", Nature::Rate, Unsigned, Sum),
    f("CompressBpsOut", Nature::Rate, Unsigned, Sum),
    f("CompressBpsRateLim", Nature::Limit, Unsigned, Sum),
    f("ZlibMemUsage", Nature::Gauge, Unsigned, Sum),
    f("MaxZlibMemUsage", Nature::Limit, Unsigned, Sum),
    f("Tasks", Nature::Gauge, Unsigned, Sum),
    f("Run_queue", Nature::Gauge, Unsigned, Sum),
    f("Idle_pct", Nature::Avg, Unsigned, Average),
    f("node", Nature::Output, Text, MustAgree),
    f("description", Nature::Output, Text, MustAgree),
    f("Stopping", Nature::Gauge, Unsigned, Sum),
    f("Jobs", Nature::Gauge, Unsigned, Sum),
    f("Unstoppable Jobs", Nature::Gauge, Unsigned, Sum),
    f("Listeners", Nature::Gauge, Unsigned, Sum),
    f("ActivePeers", Nature::Gauge, Unsigned, Sum),
    f("ConnectedPeers", Nature::Gauge, Unsigned, Sum),
    f("DroppedLogs", Nature::Gauge, Unsigned, Sum),
    f("BusyPolling", Nature::Gauge, Unsigned, Sum),
    f("FailedResolutions", Nature::Gauge, Unsigned, Sum),
    f("TotalBytesOut", Nature::Gauge, Unsigned, Sum),
    f("TotalSplicdedBytesOut", Nature::Gauge, Unsigned, Sum),
    f("BytesOutRate", Nature::Rate, Unsigned, Sum),
    f("DebugCommandsIssued", Nature::Gauge, Unsigned, Sum),
    f("CumRecvLogs", Nature::Counter, Unsigned, Sum),
    f("Build info", Nature::Output, Text, MustAgree),
    f("Memmax_bytes", Nature::Limit, Unsigned, Sum),
    f("PoolAlloc_bytes", Nature::Gauge, Unsigned, Sum),
    f("PoolUsed_bytes", Nature::Gauge, Unsigned, Sum),
    f("Start_time_sec", Nature::Duration, Unsigned, MustAgree),
    f("Tainted", Nature::Gauge, Text, MustAgree),
    // 3.0 (natures from 3.0's own `show info typed`; same in 3.2 and 3.4).
    // 3.0 also spells `TotalSplicdedBytesOut` right, at the same position.
    f("TotalSplicedBytesOut", Nature::Gauge, Unsigned, Sum),
    f("TotalWarnings", Nature::Counter, Unsigned, Sum),
    f("MaxconnReached", Nature::Counter, Unsigned, Sum),
    f("BootTime_ms", Nature::Duration, Unsigned, Min),
    f("Niced_tasks", Nature::Gauge, Unsigned, Sum),
    f("CurrStreams", Nature::Gauge, Unsigned, Sum),
    f("CumStreams", Nature::Gauge, Unsigned, Sum),
    f("BlockedTrafficWarnings", Nature::Gauge, Unsigned, Sum),
    // 3.4.
    f("PatternsAdded", Nature::Gauge, Unsigned, Sum),
    f("PatternsFreed", Nature::Gauge, Unsigned, Sum),
    f("NbThreadGroups", Nature::Gauge, Unsigned, MustAgree),
];

/// What is known about the `show info` field `name` (exact name).
pub fn info_field(name: &str) -> Option<&'static InfoFieldInfo> {
    INFO_FIELDS.iter().find(|i| i.name == name)
}

/// How the field `name` combines across processes: the table's answer, or
/// [`Combine::MustAgree`] for a name the table does not know. Even a
/// numeric unknown field must agree: summing an unknown percentage would
/// be silently wrong, whereas a disagreement is returned as data with every
/// process's value. Where `show info typed` is available,
/// [`crate::typed::Tags::combine`] answers for unknown fields too.
pub fn info_combine(name: &str) -> Combine {
    info_field(name).map_or(Combine::MustAgree, |i| i.combine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_edge_cases() {
        let input = "Name: HAProxy\nSslRate:0\nUnstoppable Jobs: 1\ndescription: \"a, \"\"b\"\": c\"\nx: a: b\r\n\nempty:";
        let info = parse_info(input).expect("parses");
        let got: Vec<_> = info.iter().collect();
        assert_eq!(
            got,
            [
                ("Name", "HAProxy"),
                ("SslRate", "0"),
                ("Unstoppable Jobs", "1"),
                ("description", "a, \"b\": c"),
                ("x", "a: b"),
                ("empty", ""),
            ]
        );
        assert_eq!(info.ssl_rate(), Ok(Some(0)));
        assert_eq!(info.pid(), Ok(None));
    }

    #[test]
    fn errors_are_positioned() {
        let cases: &[(&str, ParseErrorKind, usize, usize)] = &[
            (
                "Name: x\nUnknown command\n",
                ParseErrorKind::Malformed {
                    expected: "`Name: value`",
                },
                2,
                1,
            ),
            (
                ": x",
                ParseErrorKind::Malformed {
                    expected: "a field name before `:`",
                },
                1,
                1,
            ),
            ("d: \"abc", ParseErrorKind::UnterminatedQuote, 1, 4),
            ("d: \"a\"b\"", ParseErrorKind::UnterminatedQuote, 1, 4),
            ("d: \"", ParseErrorKind::UnterminatedQuote, 1, 4),
        ];
        for (input, kind, line, column) in cases {
            let e = parse_info(input).expect_err(input);
            assert_eq!(&e.kind, kind, "{input}");
            assert_eq!(
                (e.position.line, e.position.column),
                (*line, *column),
                "{input}"
            );
        }
    }

    #[test]
    fn bad_number_in_getter_names_field() {
        let info = parse_info("Name: x\nPid: 12a\n").expect("parses");
        let e = info.pid().expect_err("not a number");
        assert_eq!(e.kind, ParseErrorKind::InvalidNumber);
        assert_eq!(e.field.as_deref(), Some("Pid"));
        assert_eq!((e.position.line, e.position.column), (2, 6));
    }

    #[test]
    fn table_is_unique_and_unknown_must_agree() {
        for (i, a) in INFO_FIELDS.iter().enumerate() {
            assert!(
                INFO_FIELDS[i + 1..].iter().all(|b| b.name != a.name),
                "{} twice",
                a.name
            );
        }
        let cases = [
            ("Idle_pct", Combine::Average),
            ("Maxconn", Combine::Sum),
            ("MaxConnRate", Combine::Max),
            ("Version", Combine::MustAgree),
            ("Pid", Combine::MustAgree),
            ("Uptime_sec", Combine::MustAgree),
            ("Start_time_sec", Combine::MustAgree),
            ("NotAField", Combine::MustAgree),
        ];
        for (name, c) in cases {
            assert_eq!(info_combine(name), c, "{name}");
        }
    }

    #[test]
    fn owned_round_trip() {
        let info = parse_info("Name: HAProxy\ndescription: \"a,b\"\n").expect("parses");
        let owned = info.into_owned();
        assert_eq!(owned.get("description"), Some("a,b"));
        assert_eq!(owned.fields.len(), 2);
    }
}
