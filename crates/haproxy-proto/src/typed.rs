//! `show stat typed` and `show info typed`: one field per line, with
//! HAProxy's own statement of what the field is (origin, nature, scope and,
//! from 3.3, persistence) and of its value type.
//!
//! ```text
//! F.2.0.0.pxname.1:KNS:str:public          (show stat typed, up to 3.2)
//! F.2.0.7.stot.1:MCPP:u64:0                (show stat typed, 3.3+)
//! 0.Name.1:POS:str:HAProxy                 (show info typed)
//! ```
//!
//! A stat line's key is `<obj>.<proxy id>.<object id>.<position>.<name>.<process>`
//! where `<obj>` is `F`, `B`, `S` or `L`; an info line's key is
//! `<position>.<name>.<process>`. The name sits between the fixed parts, so a
//! name holding a dot or a space (`Build info`) is kept whole. The value is
//! everything after the third `:` and may itself hold `:`; it is taken
//! verbatim (HAProxy 2.6 does not quote strings in typed output).
//!
//! Edge cases, decided here:
//! - blank lines (the CLI's empty terminator line) are skipped; a trailing
//!   `\r` is removed;
//! - the manual's `(...)` elision line is **refused** with a positioned
//!   [`ParseErrorKind::Malformed`] error: it is not HAProxy output, and
//!   accepting it silently would hide a truncated reply;
//! - tag letters this crate does not know are kept as `Other(letter)`, so a
//!   newer HAProxy does not make the whole reply unreadable; they combine as
//!   [`Combine::MustAgree`];
//! - a tag of 3 letters has no persistence (`None`), one of 4 letters has it;
//!   any other length is an error;
//! - a line that ends right after the tags (`key:MGP:`) is an empty field
//!   ([`TypedValue::Empty`]).
//!
//! [`Tags::combine`] is the authority for how a typed field combines across
//! processes; the static tables ([`crate::info::info_field`]) are checked
//! against it in tests.

use crate::combine::Combine;
use crate::error::{Input, ParseError, ParseErrorKind, Position};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// Where a value comes from (first tag letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum Origin {
    /// `M`: a metric, measured.
    Metric,
    /// `S`: a status.
    Status,
    /// `K`: a key identifying the object (ids, process number).
    Key,
    /// `C`: a configuration setting.
    Config,
    /// `P`: a product fact (name, version).
    Product,
    /// A letter this crate does not know.
    Other(char),
}

impl Origin {
    /// The origin of tag letter `c`.
    pub fn from_letter(c: char) -> Origin {
        match c {
            'M' => Origin::Metric,
            'S' => Origin::Status,
            'K' => Origin::Key,
            'C' => Origin::Config,
            'P' => Origin::Product,
            other => Origin::Other(other),
        }
    }
}

/// What a value means (second tag letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum Nature {
    /// `A`: an age (time since an event).
    Age,
    /// `a`: an average.
    Avg,
    /// `C`: a cumulative counter.
    Counter,
    /// `D`: a duration.
    Duration,
    /// `G`: a gauge (a current value).
    Gauge,
    /// `L`: a limit.
    Limit,
    /// `M`: a maximum.
    Max,
    /// `m`: a minimum.
    Min,
    /// `N`: a name.
    Name,
    /// `O`: free-form output.
    Output,
    /// `R`: a rate.
    Rate,
    /// `T`: a point in time.
    Time,
    /// A letter this crate does not know.
    Other(char),
}

impl Nature {
    /// The nature of tag letter `c` (case matters: `A` age, `a` average).
    pub fn from_letter(c: char) -> Nature {
        match c {
            'A' => Nature::Age,
            'a' => Nature::Avg,
            'C' => Nature::Counter,
            'D' => Nature::Duration,
            'G' => Nature::Gauge,
            'L' => Nature::Limit,
            'M' => Nature::Max,
            'm' => Nature::Min,
            'N' => Nature::Name,
            'O' => Nature::Output,
            'R' => Nature::Rate,
            'T' => Nature::Time,
            other => Nature::Other(other),
        }
    }

    /// How a per-process value of this nature combines across processes,
    /// looking at the nature alone (see [`Tags::combine`] for the full rule):
    ///
    /// - counters, gauges, rates and **limits** add up (a limit is
    ///   per-process: the fleet's limit is the sum);
    /// - averages average; maxima take the max, minima the min;
    /// - an age (time since the last event) takes the min: the most recent
    ///   event anywhere;
    /// - a duration takes the min: for uptime, how long *every* process has
    ///   been up;
    /// - a point in time takes the max (the latest);
    /// - names, free-form output and unknown natures must agree.
    pub fn combine(self) -> Combine {
        match self {
            Nature::Counter | Nature::Gauge | Nature::Rate | Nature::Limit => Combine::Sum,
            Nature::Avg => Combine::Average,
            Nature::Max | Nature::Time => Combine::Max,
            Nature::Min | Nature::Age | Nature::Duration => Combine::Min,
            Nature::Name | Nature::Output | Nature::Other(_) => Combine::MustAgree,
        }
    }
}

/// How far a value applies (third tag letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum Scope {
    /// `G`: global, the same for the whole host.
    Global,
    /// `P`: this process only.
    Process,
    /// `S`: the service, the same for every process.
    Service,
    /// `s`: the system.
    System,
    /// A letter this crate does not know.
    Other(char),
}

impl Scope {
    /// The scope of tag letter `c`.
    pub fn from_letter(c: char) -> Scope {
        match c {
            'G' => Scope::Global,
            'P' => Scope::Process,
            'S' => Scope::Service,
            's' => Scope::System,
            other => Scope::Other(other),
        }
    }
}

/// Whether a value survives a `clear counters` (fourth tag letter, 3.3+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum Persistence {
    /// `V`: volatile.
    Volatile,
    /// `P`: persistent.
    Persistent,
    /// A letter this crate does not know.
    Other(char),
}

impl Persistence {
    /// The persistence of tag letter `c`.
    pub fn from_letter(c: char) -> Persistence {
        match c {
            'V' => Persistence::Volatile,
            'P' => Persistence::Persistent,
            other => Persistence::Other(other),
        }
    }
}

/// The tag column of a typed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Tags {
    /// First letter.
    pub origin: Origin,
    /// Second letter.
    pub nature: Nature,
    /// Third letter.
    pub scope: Scope,
    /// Fourth letter, from HAProxy 3.3 on; `None` for 3-letter tags.
    pub persistence: Option<Persistence>,
}

impl Tags {
    /// Parses a 3- or 4-letter tag such as `MCP` or `MCPP`; `None` if it
    /// has another length.
    pub fn from_letters(s: &str) -> Option<Tags> {
        let mut it = s.chars();
        let (o, n, sc) = (it.next()?, it.next()?, it.next()?);
        let persistence = it.next().map(Persistence::from_letter);
        if it.next().is_some() {
            return None;
        }
        Some(Tags {
            origin: Origin::from_letter(o),
            nature: Nature::from_letter(n),
            scope: Scope::from_letter(sc),
            persistence,
        })
    }

    /// How a field with these tags combines across processes. The
    /// authority used to check the static field tables:
    ///
    /// 1. a key of the process itself (`Process_num`, stat `pid`: origin
    ///    `K`, scope `P`) differs by construction: [`Combine::First`];
    /// 2. a value whose scope is not the process (service, global, system:
    ///    names, versions, ids, config shared by all) must agree;
    /// 3. a status or a product fact must agree (server `status`, `act`,
    ///    `bck`, `Tainted`); a difference is data to report;
    /// 4. otherwise the nature decides ([`Nature::combine`]).
    ///
    /// Known cases where HAProxy's own tags do not say what the field is
    /// (`Pid` is tagged `SGP`, `MaxSessRate` `MRP`, `Start_time_sec` `MDP`)
    /// are overridden in the static tables, and listed in their tests.
    pub fn combine(&self) -> Combine {
        match (self.origin, self.scope) {
            (Origin::Key, Scope::Process) => Combine::First,
            (_, Scope::Global | Scope::Service | Scope::System | Scope::Other(_)) => {
                Combine::MustAgree
            }
            (Origin::Status | Origin::Product | Origin::Other(_), Scope::Process) => {
                Combine::MustAgree
            }
            (Origin::Metric | Origin::Config, Scope::Process) => self.nature.combine(),
        }
    }
}

/// A typed value, as HAProxy typed it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
#[non_exhaustive]
pub enum TypedValue<'a> {
    /// `s32`.
    S32(i32),
    /// `s64`.
    S64(i64),
    /// `u32`.
    U32(u32),
    /// `u64`.
    U64(u64),
    /// `flt` (printed with `%f`).
    Flt(f64),
    /// `str`, verbatim.
    Str(&'a str),
    /// No type and no value (a line ending right after the tags).
    Empty,
}

impl TypedValue<'_> {
    /// The value as an `i128` when it is an integer, which holds every
    /// integer type without loss.
    pub fn as_integer(&self) -> Option<i128> {
        match *self {
            TypedValue::S32(v) => Some(v.into()),
            TypedValue::S64(v) => Some(v.into()),
            TypedValue::U32(v) => Some(v.into()),
            TypedValue::U64(v) => Some(v.into()),
            TypedValue::Flt(_) | TypedValue::Str(_) | TypedValue::Empty => None,
        }
    }

    /// The text when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TypedValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// The kind of object a `show stat typed` line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum ObjectType {
    /// `F`.
    Frontend,
    /// `B`.
    Backend,
    /// `S`.
    Server,
    /// `L`.
    Listener,
    /// A letter this crate does not know.
    Other(char),
}

impl ObjectType {
    fn from_letter(c: char) -> ObjectType {
        match c {
            'F' => ObjectType::Frontend,
            'B' => ObjectType::Backend,
            'S' => ObjectType::Server,
            'L' => ObjectType::Listener,
            other => ObjectType::Other(other),
        }
    }
}

/// The object of a `show stat typed` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StatObject {
    /// Frontend, backend, server or listener.
    pub kind: ObjectType,
    /// The proxy's id (`iid`).
    pub proxy_id: u32,
    /// The server's or listener's id within the proxy (`sid`); 0 for
    /// frontends and backends.
    pub id: u32,
}

/// One line of typed output.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct TypedField<'a> {
    /// The object, for `show stat typed`; `None` for `show info typed`.
    pub object: Option<StatObject>,
    /// The field's position: its line number in `show info`; in `show stat`
    /// its CSV column number — but for the per-module fields (2.3+), which
    /// HAProxy numbers as if the CSV header's `-` separator were not there:
    /// their CSV column is one more.
    pub position: u32,
    /// The field's name (`pxname`, `Build info`).
    pub name: &'a str,
    /// The process number (1-based).
    pub process: u32,
    /// The tags.
    pub tags: Tags,
    /// The value.
    pub value: TypedValue<'a>,
}

fn err(input: &str, at: usize, kind: ParseErrorKind, found: &str, record: usize) -> ParseError {
    ParseError::new(
        Input::Typed,
        kind,
        Position::at(input.as_bytes(), at).with_record(record),
        found,
    )
}

fn malformed(expected: &'static str) -> ParseErrorKind {
    ParseErrorKind::Malformed { expected }
}

/// Parses the whole output of `show stat typed` or `show info typed`
/// (the two may even be mixed), in input order.
///
/// # Errors
///
/// A [`ParseError`] with [`Input::Typed`] and the line, column and record
/// number of the first line that is not a typed field: a bad key
/// (`Malformed`), a number that does not fit its type (`InvalidNumber`,
/// naming the field), a tag of other than 3 or 4 letters, an unknown value
/// type, or the manual's `(...)` elision line.
pub fn parse_typed(input: &str) -> Result<Vec<TypedField<'_>>, ParseError> {
    let mut out = Vec::new();
    for (offset, line) in crate::error::lines(input) {
        if line.trim().is_empty() {
            continue;
        }
        let record = out.len();
        out.push(parse_line(input, offset, line, record)?);
    }
    Ok(out)
}

fn parse_line<'a>(
    input: &str,
    offset: usize,
    line: &'a str,
    record: usize,
) -> Result<TypedField<'a>, ParseError> {
    let e =
        |at: usize, kind: ParseErrorKind, found: &str| err(input, offset + at, kind, found, record);
    if line.trim() == "(...)" {
        return Err(e(
            0,
            malformed(
                "a typed field line; `(...)` is the manual's elision marker, not HAProxy output",
            ),
            line,
        ));
    }
    let Some((key, rest)) = line.split_once(':') else {
        return Err(e(0, malformed("`key:tags:type:value`"), line));
    };
    let (object, position, name, process) =
        parse_key(key).map_err(|(at, what)| e(at, malformed(what), key))?;
    let tags_at = key.len() + 1;
    let (tag_text, rest) = match rest.split_once(':') {
        Some(pair) => pair,
        None => return Err(e(tags_at, malformed("`:` after the tags"), rest)),
    };
    let tags = Tags::from_letters(tag_text)
        .ok_or_else(|| e(tags_at, malformed("a tag of 3 or 4 letters"), tag_text))?;
    let type_at = tags_at + tag_text.len() + 1;
    let value = if rest.is_empty() {
        TypedValue::Empty
    } else {
        let (ty, text) = rest
            .split_once(':')
            .ok_or_else(|| e(type_at, malformed("`type:value` after the tags"), rest))?;
        let value_at = type_at + ty.len() + 1;
        let bad_number =
            || e(value_at, ParseErrorKind::InvalidNumber, text).with_field(name.to_owned());
        match ty {
            "s32" => TypedValue::S32(text.parse().map_err(|_| bad_number())?),
            "s64" => TypedValue::S64(text.parse().map_err(|_| bad_number())?),
            "u32" => TypedValue::U32(text.parse().map_err(|_| bad_number())?),
            "u64" => TypedValue::U64(text.parse().map_err(|_| bad_number())?),
            "flt" => TypedValue::Flt(text.parse().map_err(|_| bad_number())?),
            "str" => TypedValue::Str(text),
            _ => {
                return Err(e(
                    type_at,
                    malformed("a value type: s32, s64, u32, u64, flt or str"),
                    ty,
                ))
            }
        }
    };
    Ok(TypedField {
        object,
        position,
        name,
        process,
        tags,
        value,
    })
}

type Key<'a> = (Option<StatObject>, u32, &'a str, u32);

/// Splits a key; on failure, the byte offset in the key and what was expected.
fn parse_key(key: &str) -> Result<Key<'_>, (usize, &'static str)> {
    let num = |s: &str, at: usize, what: &'static str| s.parse::<u32>().map_err(|_| (at, what));
    let (front, process) = key.rsplit_once('.').ok_or((
        0,
        "a key `<pos>.<name>.<process>` or `<obj>.<iid>.<sid>.<pos>.<name>.<process>`",
    ))?;
    let process = num(
        process,
        front.len() + 1,
        "a process number after the last `.`",
    )?;
    let first = front.chars().next().ok_or((0, "a non-empty key"))?;
    if first.is_ascii_digit() {
        let (pos, name) = front
            .split_once('.')
            .ok_or((0, "`<pos>.<name>.<process>`"))?;
        let position = num(pos, 0, "a field position")?;
        if name.is_empty() {
            return Err((pos.len() + 1, "a field name"));
        }
        return Ok((None, position, name, process));
    }
    let mut parts = front.splitn(5, '.');
    let mut at = 0;
    let mut next = |what: &'static str| {
        let p = parts.next().ok_or((at, what))?;
        let here = at;
        at += p.len() + 1;
        Ok::<_, (usize, &'static str)>((p, here))
    };
    let (obj, _) = next("an object type letter")?;
    let mut obj_chars = obj.chars();
    let kind = match (obj_chars.next(), obj_chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => ObjectType::from_letter(c),
        _ => return Err((0, "an object type letter (F, B, S, L)")),
    };
    let (iid, iat) = next("a proxy id")?;
    let proxy_id = num(iid, iat, "a proxy id")?;
    let (sid, sat) = next("an object id")?;
    let id = num(sid, sat, "an object id")?;
    let (pos, pat) = next("a field position")?;
    let position = num(pos, pat, "a field position")?;
    let (name, nat) = next("a field name")?;
    if name.is_empty() {
        return Err((nat, "a field name"));
    }
    Ok((
        Some(StatObject { kind, proxy_id, id }),
        position,
        name,
        process,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, object, position, name, process, tags, value)
    type Case<'a> = (
        &'a str,
        Option<StatObject>,
        u32,
        &'a str,
        u32,
        &'a str,
        TypedValue<'a>,
    );

    #[test]
    fn parses_lines() {
        let cases: &[Case<'_>] = &[
            (
                "F.2.0.0.pxname.1:KNS:str:public",
                Some(StatObject {
                    kind: ObjectType::Frontend,
                    proxy_id: 2,
                    id: 0,
                }),
                0,
                "pxname",
                1,
                "KNS",
                TypedValue::Str("public"),
            ),
            (
                "0.Name.1:POS:str:HAProxy",
                None,
                0,
                "Name",
                1,
                "POS",
                TypedValue::Str("HAProxy"),
            ),
            (
                "66.Build info.2:POS:str:a:b:c",
                None,
                66,
                "Build info",
                2,
                "POS",
                TypedValue::Str("a:b:c"),
            ),
            (
                "S.3.1.55.lastsess.1:MAPV:s32:-1",
                Some(StatObject {
                    kind: ObjectType::Server,
                    proxy_id: 3,
                    id: 1,
                }),
                55,
                "lastsess",
                1,
                "MAPV",
                TypedValue::S32(-1),
            ),
            (
                "7.x.1:MGP:u64:18446744073709551615",
                None,
                7,
                "x",
                1,
                "MGP",
                TypedValue::U64(u64::MAX),
            ),
            (
                "7.x.1:MaP:flt:0.500000",
                None,
                7,
                "x",
                1,
                "MaP",
                TypedValue::Flt(0.5),
            ),
            ("7.x.1:MGP:", None, 7, "x", 1, "MGP", TypedValue::Empty),
            (
                "7.x.1:MGP:str:",
                None,
                7,
                "x",
                1,
                "MGP",
                TypedValue::Str(""),
            ),
            (
                "7.a.b.1:MGP:s64:-3",
                None,
                7,
                "a.b",
                1,
                "MGP",
                TypedValue::S64(-3),
            ),
        ];
        for (line, object, position, name, process, tags, value) in cases {
            let f = parse_typed(line).expect(line);
            assert_eq!(f.len(), 1, "{line}");
            let f = f[0];
            assert_eq!(f.object, *object, "{line}");
            assert_eq!(
                (f.position, f.name, f.process),
                (*position, *name, *process),
                "{line}"
            );
            assert_eq!(Some(f.tags), Tags::from_letters(tags), "{line}");
            assert_eq!(f.value, *value, "{line}");
        }
    }

    #[test]
    fn refuses_malformed_lines_with_position() {
        let cases: &[(&str, usize, usize)] = &[
            ("0.Name.1:POS:str:x\n(...)\n", 2, 1),
            ("0.Name.1:POS:str:x\nnocolon\n", 2, 1),
            ("0.Name.x:POS:str:x", 1, 8),
            ("0.Name.1:PO:str:x", 1, 10),
            ("0.Name.1:POSVX:str:x", 1, 10),
            ("0.Name.1:POS:int:x", 1, 14),
            ("0.Name.1:POS:u32:-1", 1, 18),
            ("0.Name.1:POS:s32:99999999999", 1, 18),
            ("F.x.0.0.pxname.1:KNS:str:a", 1, 3),
            ("FF.2.0.0.pxname.1:KNS:str:a", 1, 1),
            ("F.2.0.0.1:KNS:str:a", 1, 9),
            ("0.Name.1:POS", 1, 10),
            ("0.Name.1:POS:u32", 1, 14),
        ];
        for (input, line, column) in cases {
            let e = parse_typed(input).expect_err(input);
            assert_eq!(e.input, Input::Typed);
            assert_eq!(
                (e.position.line, e.position.column),
                (*line, *column),
                "{input}: {e}"
            );
        }
    }

    #[test]
    fn tags_combine() {
        let cases = [
            ("KGP", Combine::First),
            ("KNS", Combine::MustAgree),
            ("POS", Combine::MustAgree),
            ("SGP", Combine::MustAgree),
            ("MCP", Combine::Sum),
            ("MCPP", Combine::Sum),
            ("MGP", Combine::Sum),
            ("CLP", Combine::Sum),
            ("MMP", Combine::Max),
            ("MmP", Combine::Min),
            ("MaP", Combine::Average),
            ("MAP", Combine::Min),
            ("MDP", Combine::Min),
            ("MTP", Combine::Max),
            ("MRP", Combine::Sum),
            ("MOP", Combine::MustAgree),
            ("MZP", Combine::MustAgree),
            ("CGS", Combine::MustAgree),
        ];
        for (t, c) in cases {
            assert_eq!(Tags::from_letters(t).expect(t).combine(), c, "{t}");
        }
    }

    #[test]
    fn skips_blank_lines_and_cr() {
        let f = parse_typed("\n0.Name.1:POS:str:HAProxy\r\n\n").expect("parses");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].value, TypedValue::Str("HAProxy"));
    }
}
