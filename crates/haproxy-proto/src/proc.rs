//! `show proc` on the master CLI: the master, its workers, old workers still
//! draining, and programs.
//!
//! ```text
//! #<PID>          <type>          <reloads>       <uptime>        <version>
//! 6241            master          1 [failed: 0]   0d00h00m07s     2.6.12-1+deb12u4
//! # workers
//! 6274            worker          0               0d00h00m01s     2.6.12-1+deb12u4
//! # old workers
//! 6244            worker          1               0d00h00m07s     2.6.12-1+deb12u4
//! # programs
//! 6273            sleeper         0               0d00h00m01s     -
//! ```
//!
//! Before 2.5 a `<relative PID>` column follows `<type>` (old workers show
//! `[was: N]` there); the header says which layout it is.
//!
//! Edge cases, decided here:
//! - fields are separated by runs of spaces **or TABs** (a 2.5.3 capture has
//!   a TAB in the padding); trailing padding is ignored;
//! - the header line (`#<PID>`) is required: without it,
//!   [`ParseErrorKind::MissingHeader`];
//! - `# <section>` lines set the section; a section whose name starts with
//!   `old` marks its entries old; blank lines are skipped;
//! - the version `-` (programs) is `None`;
//! - a line with too few fields is [`ParseErrorKind::Truncated`] (positioned
//!   at the end of the input) when it is the last line and the input does not
//!   end with a newline — the reply was cut; otherwise
//!   [`ParseErrorKind::Malformed`] at that line.

use crate::error::lines;
use crate::error::{Input, ParseError, ParseErrorKind, Position};
#[cfg(feature = "serde")]
use serde::Serialize;
use std::time::Duration;

/// What a `show proc` line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize))]
#[non_exhaustive]
pub enum ProcKind<'a> {
    /// The master process.
    Master,
    /// A worker (current or old).
    Worker,
    /// A program, with its name from the config (`program <name>`).
    Program(&'a str),
    /// Another type outside the programs section.
    Other(&'a str),
}

/// One process of `show proc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct ProcEntry<'a> {
    /// The system PID.
    pub pid: u32,
    /// Master, worker, program.
    pub kind: ProcKind<'a>,
    /// The relative PID (pre-2.5 layout only; for an old worker, the `N` of
    /// `[was: N]`).
    pub relative_pid: Option<u32>,
    /// Reloads seen by this process.
    pub reloads: u32,
    /// The master's failed reloads (`[failed: N]`, 2.5+).
    pub failed: Option<u32>,
    /// Uptime as printed (`0d00h02m21s`).
    pub uptime_text: &'a str,
    /// Uptime.
    pub uptime: Duration,
    /// The version, `None` when printed `-`.
    pub version: Option<&'a str>,
    /// Whether the process is in an `old …` section (draining after a reload).
    pub old: bool,
}

/// Parses a HAProxy uptime, `0d00h02m21s` (`show proc`) or `0d 0h00m06s`
/// (`show info`): days, hours, minutes, seconds, spaces allowed before each
/// number. `None` if it has another form or overflows.
pub fn parse_uptime(s: &str) -> Option<Duration> {
    let mut rest = s.trim();
    let mut secs: u64 = 0;
    for (unit, mult) in [('d', 86_400u64), ('h', 3_600), ('m', 60), ('s', 1)] {
        rest = rest.trim_start_matches(' ');
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || !rest[digits..].starts_with(unit) {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        secs = secs.checked_add(n.checked_mul(mult)?)?;
        rest = &rest[digits + 1..];
    }
    rest.is_empty().then(|| Duration::from_secs(secs))
}

/// Parses the output of `show proc` (master CLI), both layouts.
///
/// # Errors
///
/// A positioned [`ParseError`] ([`Input::Proc`]): `MissingHeader` without a
/// `#<PID>` header; `Truncated` for a last line cut short; `Malformed` or
/// `InvalidNumber` (naming the column) for a line that cannot be read.
pub fn parse_proc(input: &str) -> Result<Vec<ProcEntry<'_>>, ParseError> {
    let mut relative: Option<bool> = None;
    let mut section: Option<&str> = None;
    let mut out = Vec::new();
    let ends_cut = !input.is_empty() && !input.ends_with('\n');
    let mut all = lines(input).peekable();
    while let Some((at, line)) = all.next() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix('#') {
            if h.starts_with('<') {
                relative = Some(h.contains("<relative PID>"));
            } else {
                section = Some(h.trim());
            }
            continue;
        }
        let record = out.len();
        let position = |off: usize| Position::at(input.as_bytes(), at + off).with_record(record);
        let Some(relative) = relative else {
            return Err(ParseError::new(
                Input::Proc,
                ParseErrorKind::MissingHeader,
                position(0),
                line,
            ));
        };
        let is_last = all.peek().is_none();
        let entry = parse_line(line, relative, section).map_err(|(off, kind, field)| {
            let (kind, pos) = match kind {
                ParseErrorKind::Malformed { .. } if is_last && ends_cut => (
                    ParseErrorKind::Truncated,
                    Position::at(input.as_bytes(), input.len()).with_record(record),
                ),
                kind => (kind, position(off)),
            };
            let e = ParseError::new(Input::Proc, kind, pos, line);
            match field {
                Some(f) => e.with_field(f),
                None => e,
            }
        })?;
        out.push(entry);
    }
    if relative.is_none() {
        return Err(ParseError::new(
            Input::Proc,
            ParseErrorKind::MissingHeader,
            Position::at(input.as_bytes(), 0),
            input.lines().next().unwrap_or(""),
        ));
    }
    Ok(out)
}

type LineError = (usize, ParseErrorKind, Option<&'static str>);

fn parse_line<'a>(
    line: &'a str,
    relative: bool,
    section: Option<&str>,
) -> Result<ProcEntry<'a>, LineError> {
    let mut words = line
        .split([' ', '\t'])
        .scan(0usize, |off, w| {
            let at = *off;
            *off += w.len() + 1;
            Some((at, w))
        })
        .filter(|(_, w)| !w.is_empty())
        .peekable();
    let end = line.len();
    let mut next = |what: &'static str| {
        words.next().ok_or((
            end,
            ParseErrorKind::Malformed { expected: what },
            None::<&'static str>,
        ))
    };
    let number = |(at, w): (usize, &str), name: &'static str| {
        w.parse::<u32>()
            .map_err(|_| (at, ParseErrorKind::InvalidNumber, Some(name)))
    };
    let pid = number(next("a PID")?, "PID")?;
    let (_, ty) = next("a type after the PID")?;
    let relative_pid = if relative {
        let (at, w) = next("a relative PID")?;
        if w == "[was:" {
            let (at2, n) = next("`N]` after `[was:`")?;
            let n = n.strip_suffix(']').ok_or((
                at2,
                ParseErrorKind::Malformed { expected: "`]`" },
                None,
            ))?;
            Some(number((at2, n), "relative PID")?)
        } else {
            Some(number((at, w), "relative PID")?)
        }
    } else {
        None
    };
    let reloads = number(next("a reload count")?, "reloads")?;
    let (uat, mut uptime_text) = next("an uptime")?;
    let mut failed = None;
    if uptime_text == "[failed:" {
        let (fat, n) = next("`N]` after `[failed:`")?;
        let n = n.strip_suffix(']').ok_or((
            fat,
            ParseErrorKind::Malformed { expected: "`]`" },
            None,
        ))?;
        failed = Some(number((fat, n), "failed")?);
        uptime_text = next("an uptime")?.1;
    }
    let uptime = parse_uptime(uptime_text).ok_or((
        uat,
        ParseErrorKind::Malformed {
            expected: "an uptime `<d>d<hh>h<mm>m<ss>s`",
        },
        Some("uptime"),
    ))?;
    let (_, version) = next("a version")?;
    if let Some((at, _)) = words.next() {
        return Err((
            at,
            ParseErrorKind::Malformed {
                expected: "the end of the line after the version",
            },
            None,
        ));
    }
    let section = section.unwrap_or("");
    let kind = match ty {
        "master" => ProcKind::Master,
        "worker" => ProcKind::Worker,
        name if section.ends_with("programs") => ProcKind::Program(name),
        name => ProcKind::Other(name),
    };
    Ok(ProcEntry {
        pid,
        kind,
        relative_pid,
        reloads,
        failed,
        uptime_text,
        uptime,
        version: (version != "-").then_some(version),
        old: section.starts_with("old"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptimes() {
        let cases = [
            ("0d00h02m21s", Some(141)),
            ("0d 0h00m06s", Some(6)),
            ("2d 3h04m05s", Some(2 * 86_400 + 3 * 3600 + 4 * 60 + 5)),
            ("0d00h02m", None),
            ("0d00h02m21sx", None),
            ("xd00h02m21s", None),
            ("99999999999999999999d00h00m00s", None),
            ("", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_uptime(s), want.map(Duration::from_secs), "{s}");
        }
    }

    #[test]
    fn both_layouts() {
        let old = "#<PID> <type> <relative PID> <reloads> <uptime> <version>\n\
                   1 master 0 2 0d00h01m28s 2.2.3\n# workers\n3 worker 1 0 0d00h00m00s 2.2.3\n\
                   # old workers\n2 worker [was: 1] 1 0d00h00m28s 2.2.3\n# programs\n";
        let p = parse_proc(old).expect("pre-2.5");
        assert_eq!(p.len(), 3);
        assert_eq!(
            (p[0].kind, p[0].relative_pid, p[0].failed),
            (ProcKind::Master, Some(0), None)
        );
        assert_eq!(
            (p[2].relative_pid, p[2].old, p[2].reloads),
            (Some(1), true, 1)
        );
        let new = "#<PID> <type> <reloads> <uptime> <version>\n\
                   9 master 5 [failed: 1] 0d00h02m07s 2.6\n# programs\n7 sleeper 0 0d00h00m01s -\t \n";
        let p = parse_proc(new).expect("2.5+");
        assert_eq!(
            (p[0].reloads, p[0].failed, p[0].relative_pid),
            (5, Some(1), None)
        );
        assert_eq!(
            (p[1].kind, p[1].version, p[1].old),
            (ProcKind::Program("sleeper"), None, false)
        );
    }

    #[test]
    fn errors() {
        let h = "#<PID> <type> <reloads> <uptime> <version>\n";
        let cases: Vec<(String, ParseErrorKind, usize, usize)> = vec![
            (
                "1 master 0 0d00h00m00s 2.6\n".into(),
                ParseErrorKind::MissingHeader,
                1,
                1,
            ),
            (String::new(), ParseErrorKind::MissingHeader, 1, 1),
            (
                format!("{h}x master 0 0d00h00m00s 2.6\n"),
                ParseErrorKind::InvalidNumber,
                2,
                1,
            ),
            (
                format!("{h}1 master\n"),
                ParseErrorKind::Malformed {
                    expected: "a reload count",
                },
                2,
                9,
            ),
            (format!("{h}1 master 0  "), ParseErrorKind::Truncated, 2, 13),
            (
                format!("{h}1 master 0 soon 2.6\n"),
                ParseErrorKind::Malformed {
                    expected: "an uptime `<d>d<hh>h<mm>m<ss>s`",
                },
                2,
                12,
            ),
            (
                format!("{h}1 master 0 0d00h00m00s 2.6 extra\n"),
                ParseErrorKind::Malformed {
                    expected: "the end of the line after the version",
                },
                2,
                28,
            ),
        ];
        for (input, kind, line, column) in cases {
            let e = parse_proc(&input).expect_err(&input);
            assert_eq!(e.kind, kind, "{input:?}");
            assert_eq!(
                (e.position.line, e.position.column),
                (line, column),
                "{input:?}: {e}"
            );
        }
    }
}
