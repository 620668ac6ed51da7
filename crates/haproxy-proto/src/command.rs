//! The command builder: every line this workspace sends to HAProxy, with
//! every argument validated and escaped so that it reaches HAProxy as
//! exactly one literal word.
//!
//! # How HAProxy 2.6 reads a command line
//!
//! The CLI (`src/cli.c`, `cli_parse_request`) splits a line into words on
//! spaces and TABs, reads a backslash as "take the next character
//! literally", splits commands on an unescaped `;`, and takes at most 64
//! words per command. A line ends at LF. Tried against haproxy 2.6.12 (the
//! tests crate proves each row end to end, byte for byte):
//!
//! | character in an argument | how it is carried |
//! |---|---|
//! | space, TAB | escaped: `\ `, `\<TAB>` |
//! | `;` | escaped: `\;` — never starts a second command |
//! | `\` | escaped: `\\` |
//! | `"`, `'`, `#`, `$` | escaped (`\"` …): HAProxy treats none of them specially today, escaping keeps it so |
//! | LF, CR, NUL, any other control character | **refused** ([`ArgErrorKind::ControlCharacter`]): a line cannot hold them |
//! | an empty string | **refused** where a value is required ([`ArgErrorKind::Empty`]) |
//!
//! Proxy and server names are checked against HAProxy's own rule for
//! identifiers (letters, digits, `-`, `_`, `.`, `:`), so a name that no
//! configuration could declare is refused before it is sent.
//!
//! # Payloads (`<<`)
//!
//! `add map … <<` / `add acl … <<` take their entries on the following
//! lines, up to an empty line. HAProxy applies **no** escaping there: a
//! map line is split at its first blank into key and value, leading blanks
//! of the value are dropped, and the rest of the line (trailing blanks
//! included) is the value. So a payload entry is refused when its key is
//! empty or holds a blank, when its value is empty or starts with a blank,
//! or when either holds a control character — never silently altered.
//! The error names the entry by its index.
//!
//! # Example
//!
//! ```
//! use haproxy_proto::command::{Command, MapRef};
//!
//! let c = Command::add_map(MapRef::File("/etc/haproxy/hosts.map"), "a b;c", "be 1").unwrap();
//! assert_eq!(c.to_wire(), r"add map /etc/haproxy/hosts.map a\ b\;c be\ 1");
//! assert!(Command::set_weight("be_app", "app1", 300).is_err());
//! assert!(Command::add_map(MapRef::Id(3), "k", "v\nshutdown frontend fe").is_err());
//! ```

use crate::error::{ArgError, ArgErrorKind};
use crate::reply::{CommandFailed, Dump, Expect, Reply};
use std::fmt;

/// The most words HAProxy's CLI accepts in one command (`MAX_CLI_ARGS`).
pub const MAX_WORDS: usize = 64;

/// The largest absolute weight HAProxy accepts.
pub const MAX_WEIGHT: u32 = 256;

/// The largest number HAProxy reads into a C `int` (`atoi`): maxconn,
/// rate limits, proxy and map ids. A larger one wraps there — HAProxy 2.6
/// acknowledges `set maxconn global 4294967295` and sets the startup
/// limit instead — so the builder refuses it.
pub const MAX_INT: u32 = i32::MAX as u32;

/// The largest map or ACL version HAProxy reads (`str2uic`, an `unsigned
/// int`); a larger one wraps there.
pub const MAX_VERSION: u64 = u32::MAX as u64;

/// One command, ready to send: its line and, for `<<` commands, the
/// payload lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Command {
    verb: &'static str,
    line: String,
    payload: Option<String>,
    expect: Expect,
}

/// `set server … addr`: HAProxy always says what it did — 2.6: `IP
/// changed from …`, `no need to change the addr[, port changed from …]`;
/// 3.x: `IP changed from …`, `port changed from …`, `nothing changed`.
const ADDR_NOTICES: &[&str] = &[
    "IP changed from",
    "no need to change the addr",
    "port changed from",
    "nothing changed",
];

/// What success looks like for each verb the builder makes: one table.
/// `show map` / `show acl` without argument and `set server … addr` are
/// set by their constructors (their verb is shared).
fn expect_of(verb: &str) -> Expect {
    match verb {
        "show info" => Expect::Dump(Dump::Info),
        "show info typed" | "show stat typed" => Expect::Dump(Dump::Typed),
        "show stat" => Expect::Dump(Dump::Stat),
        "show proc" => Expect::Dump(Dump::Proc),
        "show map" | "show acl" => Expect::Dump(Dump::Entries),
        "get map" | "get acl" => Expect::Dump(Dump::Lookup),
        "get weight" => Expect::Dump(Dump::Weight),
        "show errors" => Expect::Dump(Dump::Errors),
        "set ssl cert" => Expect::Notice(&[
            "Transaction created for certificate ",
            "Transaction updated for certificate ",
        ]),
        "commit ssl cert" => Expect::Last("Success!"),
        "abort ssl cert" => Expect::Notice(&["Transaction aborted for certificate "]),
        "set table" | "clear table" => Expect::Ack,
        "show servers state" => Expect::Dump(Dump::ServersState),
        "enable frontend" => Expect::AckOrNotice(&["All sockets are already enabled."]),
        "disable frontend" => Expect::AckOrNotice(&["All sockets are already disabled."]),
        "add server" => Expect::Notice(&["New server registered."]),
        "del server" => Expect::Notice(&["Server deleted."]),
        "prepare map" | "prepare acl" => Expect::Notice(&["New version created: "]),
        "clear counters"
        | "clear counters all"
        | "shutdown frontend"
        | "set maxconn frontend"
        | "set maxconn global"
        | "set rate-limit connections global"
        | "set rate-limit sessions global"
        | "set rate-limit ssl-sessions global"
        | "set weight"
        | "set server"
        | "enable server"
        | "disable server"
        | "enable health"
        | "disable health"
        | "shutdown sessions server"
        | "add map"
        | "set map"
        | "del map"
        | "clear map"
        | "commit map"
        | "add acl"
        | "del acl"
        | "clear acl"
        | "commit acl" => Expect::Ack,
        _ => Expect::Unknown,
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line)
    }
}

/// Which state `set server … state` forces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ServerState {
    /// Back in rotation.
    Ready,
    /// No new sessions; existing ones finish.
    Drain,
    /// Maintenance: out of rotation, checks stopped.
    Maint,
}

impl ServerState {
    /// The word HAProxy expects.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerState::Ready => "ready",
            ServerState::Drain => "drain",
            ServerState::Maint => "maint",
        }
    }
}

/// The health (or agent) state `set server … health|agent` forces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Health {
    /// `up`.
    Up,
    /// `stopping` (health only).
    Stopping,
    /// `down`.
    Down,
}

impl Health {
    /// The word HAProxy expects.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Stopping => "stopping",
            Health::Down => "down",
        }
    }
}

/// A map or ACL, as HAProxy's commands address it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum MapRef<'a> {
    /// The numeric id `show map` / `show acl` lists (sent as `#<id>`;
    /// HAProxy reads it as an `int`, so the builder refuses one above
    /// [`MAX_INT`]).
    Id(u64),
    /// The file the map or ACL was loaded from.
    File(&'a str),
}

impl<'a> MapRef<'a> {
    /// `#12` or `12` is an id; anything else a file name.
    ///
    /// # Errors
    ///
    /// A negative id (`#-1`, as `show map` lists some before 2.4): HAProxy
    /// addresses only non-negative ones.
    pub fn parse(s: &'a str) -> Result<MapRef<'a>, ArgError> {
        match s.strip_prefix('#').unwrap_or(s).parse::<i64>() {
            Ok(id) => MapRef::try_from(id),
            Err(_) => Ok(MapRef::File(s)),
        }
    }
}

impl<'a> TryFrom<&'a str> for MapRef<'a> {
    type Error = ArgError;

    /// As [`MapRef::parse`].
    fn try_from(s: &'a str) -> Result<MapRef<'a>, ArgError> {
        MapRef::parse(s)
    }
}

impl TryFrom<i64> for MapRef<'_> {
    type Error = ArgError;

    /// The map or ACL with the id `show map` / `show acl` lists (signed
    /// there, `-1` before 2.4); only a non-negative one can be addressed.
    fn try_from(id: i64) -> Result<Self, ArgError> {
        u64::try_from(id).map(MapRef::Id).map_err(|_| ArgError {
            command: "map/acl",
            argument: "id",
            value: id.to_string(),
            kind: ArgErrorKind::Invalid {
                expected: "a non-negative map or ACL id",
            },
        })
    }
}

impl fmt::Display for MapRef<'_> {
    /// `#<id>` or the file name, as a command line holds it (unescaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapRef::Id(id) => write!(f, "#{id}"),
            MapRef::File(file) => f.write_str(file),
        }
    }
}

/// One entry of a map or ACL, for `set map` / `del map` / `del acl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryRef<'a> {
    /// Every entry with this key (map) or pattern (ACL).
    Key(&'a str),
    /// The entry HAProxy lists as `0x…` (sent as `#0x…`).
    Id(&'a str),
}

impl<'a> EntryRef<'a> {
    /// `0x…` is an entry id; anything else a key.
    pub fn parse(s: &'a str) -> EntryRef<'a> {
        if s.starts_with("0x") {
            EntryRef::Id(s)
        } else {
            EntryRef::Key(s)
        }
    }
}

impl<'a> From<&'a str> for EntryRef<'a> {
    /// As [`EntryRef::parse`].
    fn from(s: &'a str) -> EntryRef<'a> {
        EntryRef::parse(s)
    }
}

/// Builds one line word by word, validating as it goes.
struct Line {
    verb: &'static str,
    line: String,
    words: usize,
}

impl Line {
    fn new(verb: &'static str) -> Line {
        Line {
            verb,
            line: verb.to_owned(),
            words: verb.split(' ').count(),
        }
    }

    fn err(&self, argument: &'static str, value: &str, kind: ArgErrorKind) -> ArgError {
        ArgError {
            command: self.verb,
            argument,
            value: value.to_owned(),
            kind,
        }
    }

    /// A fixed keyword of the command (trusted, never user input).
    fn keyword(mut self, word: &'static str) -> Line {
        self.line.push(' ');
        self.line.push_str(word);
        self.words += 1;
        self
    }

    /// A number: digits only, nothing to escape.
    fn number(mut self, n: impl fmt::Display) -> Line {
        use fmt::Write;
        self.line.push(' ');
        // Writing to a String cannot fail.
        let _ = write!(self.line, "{n}");
        self.words += 1;
        self
    }

    /// A number HAProxy reads as a C `int`: refused above [`MAX_INT`].
    fn int(self, argument: &'static str, n: u64) -> Result<Line, ArgError> {
        Ok(self.at_most(argument, n, u64::from(MAX_INT))?.number(n))
    }

    /// A map or ACL version (`@<ver>`): refused above [`MAX_VERSION`].
    fn version(self, version: u64) -> Result<Line, ArgError> {
        let l = self.at_most("version", version, MAX_VERSION)?;
        Ok(l.number(format_args!("@{version}")))
    }

    /// Checks `n` against `max` (the range error names `argument`); the
    /// caller writes it.
    fn at_most(self, argument: &'static str, n: u64, max: u64) -> Result<Line, ArgError> {
        if n > max {
            return Err(self.err(
                argument,
                &n.to_string(),
                ArgErrorKind::OutOfRange {
                    value: i64::try_from(n).unwrap_or(i64::MAX),
                    min: 0,
                    max: i64::try_from(max).unwrap_or(i64::MAX),
                },
            ));
        }
        Ok(self)
    }

    /// Any value, escaped so that it is one literal word.
    fn value(mut self, argument: &'static str, value: &str) -> Result<Line, ArgError> {
        check_text(value).map_err(|kind| self.err(argument, value, kind))?;
        self.line.push(' ');
        escape_into(&mut self.line, value);
        self.words += 1;
        Ok(self)
    }

    /// A proxy name (frontend, backend, listen).
    fn proxy(mut self, argument: &'static str, name: &str) -> Result<Line, ArgError> {
        check_name(name).map_err(|kind| self.err(argument, name, kind))?;
        self.line.push(' ');
        self.line.push_str(name);
        self.words += 1;
        Ok(self)
    }

    /// `<backend>/<server>`.
    fn server(mut self, backend: &str, server: &str) -> Result<Line, ArgError> {
        check_name(backend).map_err(|kind| self.err("backend", backend, kind))?;
        check_name(server).map_err(|kind| self.err("server", server, kind))?;
        self.line.push(' ');
        self.line.push_str(backend);
        self.line.push('/');
        self.line.push_str(server);
        self.words += 1;
        Ok(self)
    }

    /// A certificate file as HAProxy names it (`show ssl cert` lists
    /// them): a leading `*` would name the open transaction instead.
    fn cert(self, file: &str) -> Result<Line, ArgError> {
        if file.starts_with('*') {
            return Err(self.err(
                "certificate",
                file,
                ArgErrorKind::Invalid {
                    expected: "a certificate file name (a leading '*' names the open transaction)",
                },
            ));
        }
        self.value("certificate", file)
    }

    /// A stick-table key, checked against the table's key type.
    fn table_key(self, key_type: &str, key: &str) -> Result<Line, ArgError> {
        if let Some(expected) = crate::stick_table::key_problem(key_type, key) {
            return Err(self.err("key", key, ArgErrorKind::Invalid { expected }));
        }
        self.value("key", key)
    }

    /// A map or ACL reference.
    fn map(self, argument: &'static str, map: MapRef<'_>) -> Result<Line, ArgError> {
        match map {
            MapRef::Id(id) => {
                let mut l = self.at_most(argument, id, u64::from(MAX_INT))?;
                l.line.push_str(" #");
                l.line.push_str(&id.to_string());
                l.words += 1;
                Ok(l)
            }
            MapRef::File(file) => {
                if file.starts_with('#') {
                    return Err(self.err(
                        argument,
                        file,
                        ArgErrorKind::Invalid {
                            expected: "a file name (a leading '#' would make it an id)",
                        },
                    ));
                }
                self.value(argument, file)
            }
        }
    }

    /// An entry reference: a key, or `#0x…`.
    fn entry(self, entry: EntryRef<'_>) -> Result<Line, ArgError> {
        match entry {
            EntryRef::Id(id) => {
                if !is_entry_id(id) {
                    return Err(self.err(
                        "entry",
                        id,
                        ArgErrorKind::Invalid {
                            expected:
                                "an entry id as listed by HAProxy (0x followed by hex digits)",
                        },
                    ));
                }
                let mut l = self;
                l.line.push_str(" #");
                l.line.push_str(id);
                l.words += 1;
                Ok(l)
            }
            EntryRef::Key(key) => {
                if key.starts_with('#') {
                    return Err(self.err(
                        "key",
                        key,
                        ArgErrorKind::Invalid {
                            expected: "a key not starting with '#' (HAProxy would read an entry id); address the entry by its 0x… id instead",
                        },
                    ));
                }
                self.value("key", key)
            }
        }
    }

    fn finish(self) -> Result<Command, ArgError> {
        if self.words > MAX_WORDS {
            let count = self.words;
            let line = self.line.clone();
            return Err(self.err("line", &line, ArgErrorKind::TooManyWords { count }));
        }
        Ok(Command {
            verb: self.verb,
            line: self.line,
            payload: None,
            expect: expect_of(self.verb),
        })
    }

    fn finish_with_payload(self, payload: String) -> Result<Command, ArgError> {
        let mut c = self.keyword("<<").finish()?;
        c.payload = Some(payload);
        Ok(c)
    }
}

/// Characters escaped with a backslash inside a word.
fn needs_escape(c: char) -> bool {
    matches!(c, ' ' | '\t' | ';' | '\\' | '"' | '\'' | '#' | '$')
}

fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        if needs_escape(c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Escapes `value` so that HAProxy's CLI reads it as one literal word.
/// Does not validate: see [`Command`]'s constructors for that.
pub fn escape(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 4);
    escape_into(&mut s, value);
    s
}

/// A value the CLI can carry in one word: not empty, no control
/// character except TAB (which is escaped).
fn check_text(value: &str) -> Result<(), ArgErrorKind> {
    if value.is_empty() {
        return Err(ArgErrorKind::Empty);
    }
    check_controls(value)
}

fn check_controls(value: &str) -> Result<(), ArgErrorKind> {
    match value
        .char_indices()
        .find(|&(_, c)| c.is_control() && c != '\t')
    {
        Some((at, ch)) => Err(ArgErrorKind::ControlCharacter { ch, at }),
        None => Ok(()),
    }
}

/// HAProxy's rule for proxy and server names (`invalid_char()`):
/// letters, digits, `-`, `_`, `.`, `:`.
fn check_name(name: &str) -> Result<(), ArgErrorKind> {
    check_text(name)?;
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        Ok(())
    } else {
        Err(ArgErrorKind::Invalid {
            expected: "a proxy or server name (letters, digits, '-', '_', '.', ':')",
        })
    }
}

fn is_entry_id(id: &str) -> bool {
    match id.strip_prefix("0x").or_else(|| id.strip_prefix("0X")) {
        Some(hex) => {
            !hex.is_empty() && hex.len() <= 16 && hex.chars().all(|c| c.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// An address for `set server … addr` / `add server`: an IPv4 or IPv6
/// address, or a host name.
fn check_addr(addr: &str) -> Result<(), ArgErrorKind> {
    check_text(addr)?;
    if addr.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let hostname = addr.len() <= 253
        && addr.split('.').all(|l| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if hostname {
        Ok(())
    } else {
        Err(ArgErrorKind::Invalid {
            expected: "an IPv4 or IPv6 address or a host name",
        })
    }
}

/// The address of `add server`: `ADDR` or `ADDR:PORT`, `[V6]` or
/// `[V6]:PORT`, or a bare IPv6 address; ADDR as [`check_addr`] takes it,
/// PORT a number from 1 to 65535.
fn check_server_address(address: &str) -> Result<(), ArgErrorKind> {
    check_text(address)?;
    if address.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok(());
    }
    let expected = ArgErrorKind::Invalid {
        expected: "ADDR or ADDR:PORT (an IP address or host name; [V6]:PORT for IPv6)",
    };
    let (host, port) = match address.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, tail)) if v6.parse::<std::net::Ipv6Addr>().is_ok() => {
                match tail.strip_prefix(':') {
                    Some(port) => (None, Some(port)),
                    None if tail.is_empty() => (None, None),
                    None => return Err(expected),
                }
            }
            _ => return Err(expected),
        },
        None => match address.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(address), None),
        },
    };
    if let Some(host) = host {
        check_addr(host).map_err(|_| expected.clone())?;
    }
    match port {
        Some(p)
            if !p.bytes().all(|b| b.is_ascii_digit()) || !matches!(p.parse::<u16>(), Ok(1..)) =>
        {
            Err(expected)
        }
        _ => Ok(()),
    }
}

impl Command {
    /// The command line, without its terminating newline. Payload
    /// commands end with ` <<`.
    pub fn to_wire(&self) -> String {
        self.line.clone()
    }

    /// The command line, borrowed.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The command's name (`set weight`, `add map`, …), for messages.
    pub fn verb(&self) -> &'static str {
        self.verb
    }

    /// The payload of a `<<` command: one line per entry, each ending in
    /// `\n`, without the empty line that ends a payload on the wire.
    pub fn payload(&self) -> Option<&str> {
        self.payload.as_deref()
    }

    /// What HAProxy's reply looks like when the command succeeded.
    pub fn expect(&self) -> Expect {
        self.expect
    }

    /// Judges HAProxy's whole reply to this command: success only when it
    /// is recognised as this command's success ([`Command::expect`]).
    ///
    /// # Errors
    /// [`CommandFailed`] with HAProxy's text verbatim for anything else.
    pub fn judge<'r>(&self, reply: &'r str) -> Result<Reply<'r>, CommandFailed> {
        crate::reply::judge(self.expect, reply)
    }

    fn fixed(verb: &'static str) -> Command {
        Command {
            verb,
            line: verb.to_owned(),
            payload: None,
            expect: expect_of(verb),
        }
    }

    /// A line typed by a user for passthrough (`haproxy-cli raw`). It is
    /// sent as typed — a `;` in it separates commands because the user
    /// wrote it — but it must be one line: control characters (LF, CR,
    /// NUL, …) are refused, as is an empty line.
    ///
    /// # Errors
    /// [`ArgError`] for an empty line or a control character.
    pub fn raw(line: &str) -> Result<Command, ArgError> {
        let trimmed = line.trim();
        let err = |kind| ArgError {
            command: "raw",
            argument: "line",
            value: line.to_owned(),
            kind,
        };
        check_text(trimmed).map_err(err)?;
        check_controls(line).map_err(err)?;
        Ok(Command {
            verb: "raw",
            line: trimmed.to_owned(),
            payload: None,
            expect: Expect::Unknown,
        })
    }

    /// `show info`.
    pub fn show_info() -> Command {
        Command::fixed("show info")
    }

    /// `show info typed`.
    pub fn show_info_typed() -> Command {
        Command::fixed("show info typed")
    }

    /// `show stat`.
    pub fn show_stat() -> Command {
        Command::fixed("show stat")
    }

    /// `show stat typed`.
    pub fn show_stat_typed() -> Command {
        Command::fixed("show stat typed")
    }

    /// `show proc` (master CLI).
    pub fn show_proc() -> Command {
        Command::fixed("show proc")
    }

    /// `show maps`… HAProxy spells it `show map` without argument.
    pub fn show_maps() -> Command {
        Command {
            expect: Expect::Dump(Dump::Lists),
            ..Command::fixed("show map")
        }
    }

    /// `show acl` without argument: the list of ACLs.
    pub fn show_acls() -> Command {
        Command {
            expect: Expect::Dump(Dump::Lists),
            ..Command::fixed("show acl")
        }
    }

    /// `clear counters`: the max and rate counters.
    pub fn clear_counters() -> Command {
        Command::fixed("clear counters")
    }

    /// `clear counters all`: every counter.
    pub fn clear_counters_all() -> Command {
        Command::fixed("clear counters all")
    }

    /// `show errors [<proxy id>]`; a negative id means every proxy.
    /// HAProxy has no proxy 0 (it answers `No such proxy.`).
    ///
    /// # Errors
    /// [`ArgError`] for an id above [`MAX_INT`] (HAProxy would read
    /// another proxy's).
    pub fn show_errors(proxy_id: Option<i64>) -> Result<Command, ArgError> {
        let l = Line::new("show errors");
        match proxy_id.and_then(|id| u64::try_from(id).ok()) {
            Some(id) => l.int("proxy id", id)?.finish(),
            None => l.finish(),
        }
    }

    /// `show servers state [<backend>]`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid backend name.
    pub fn show_servers_state(backend: Option<&str>) -> Result<Command, ArgError> {
        let l = Line::new("show servers state");
        match backend {
            Some(b) => l.proxy("backend", b)?.finish(),
            None => l.finish(),
        }
    }

    /// `enable frontend <name>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid name.
    pub fn enable_frontend(name: &str) -> Result<Command, ArgError> {
        Line::new("enable frontend")
            .proxy("frontend", name)?
            .finish()
    }

    /// `disable frontend <name>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid name.
    pub fn disable_frontend(name: &str) -> Result<Command, ArgError> {
        Line::new("disable frontend")
            .proxy("frontend", name)?
            .finish()
    }

    /// `shutdown frontend <name>` (irreversible until reload).
    ///
    /// # Errors
    /// [`ArgError`] for an invalid name.
    pub fn shutdown_frontend(name: &str) -> Result<Command, ArgError> {
        Line::new("shutdown frontend")
            .proxy("frontend", name)?
            .finish()
    }

    /// `set maxconn frontend <name> <n>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid name or a limit above [`MAX_INT`].
    pub fn set_maxconn_frontend(name: &str, maxconn: u32) -> Result<Command, ArgError> {
        Line::new("set maxconn frontend")
            .proxy("frontend", name)?
            .int("maxconn", maxconn.into())?
            .finish()
    }

    /// `set maxconn global <n>`; 0 sets the process's hard limit (its
    /// startup maxconn), and HAProxy refuses one above that limit.
    ///
    /// # Errors
    /// [`ArgError`] for a limit above [`MAX_INT`]: HAProxy 2.6 reads it
    /// as a negative number and, without a word, sets the hard limit.
    pub fn set_maxconn_global(maxconn: u32) -> Result<Command, ArgError> {
        Line::new("set maxconn global")
            .int("maxconn", maxconn.into())?
            .finish()
    }

    /// `set rate-limit connections global <n>`, 0 for none.
    ///
    /// # Errors
    /// [`ArgError`] for a limit above [`MAX_INT`].
    pub fn set_rate_limit_connections(limit: u32) -> Result<Command, ArgError> {
        Line::new("set rate-limit connections global")
            .int("limit", limit.into())?
            .finish()
    }

    /// `set rate-limit sessions global <n>`, 0 for none.
    ///
    /// # Errors
    /// [`ArgError`] for a limit above [`MAX_INT`].
    pub fn set_rate_limit_sessions(limit: u32) -> Result<Command, ArgError> {
        Line::new("set rate-limit sessions global")
            .int("limit", limit.into())?
            .finish()
    }

    /// `set rate-limit ssl-sessions global <n>`, 0 for none.
    ///
    /// # Errors
    /// [`ArgError`] for a limit above [`MAX_INT`].
    pub fn set_rate_limit_ssl_sessions(limit: u32) -> Result<Command, ArgError> {
        Line::new("set rate-limit ssl-sessions global")
            .int("limit", limit.into())?
            .finish()
    }

    /// `get weight <backend>/<server>`.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names.
    pub fn get_weight(backend: &str, server: &str) -> Result<Command, ArgError> {
        Line::new("get weight").server(backend, server)?.finish()
    }

    /// `set weight <backend>/<server> <weight>`, 0–256.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names or a weight above 256.
    pub fn set_weight(backend: &str, server: &str, weight: u32) -> Result<Command, ArgError> {
        let l = Line::new("set weight").server(backend, server)?;
        if weight > MAX_WEIGHT {
            return Err(l.err(
                "weight",
                &weight.to_string(),
                ArgErrorKind::OutOfRange {
                    value: i64::from(weight),
                    min: 0,
                    max: i64::from(MAX_WEIGHT),
                },
            ));
        }
        l.number(weight).finish()
    }

    /// `set weight <backend>/<server> <pct>%`: a percentage of the
    /// configured weight (HAProxy caps the result at 256).
    ///
    /// # Errors
    /// [`ArgError`] for invalid names or a percentage above 25600.
    pub fn set_weight_percent(backend: &str, server: &str, pct: u32) -> Result<Command, ArgError> {
        let l = Line::new("set weight").server(backend, server)?;
        if pct > 25_600 {
            return Err(l.err(
                "weight",
                &format!("{pct}%"),
                ArgErrorKind::OutOfRange {
                    value: i64::from(pct),
                    min: 0,
                    max: 25_600,
                },
            ));
        }
        l.number(format_args!("{pct}%")).finish()
    }

    /// `set server <backend>/<server> state ready|drain|maint`.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names.
    pub fn set_server_state(
        backend: &str,
        server: &str,
        state: ServerState,
    ) -> Result<Command, ArgError> {
        Line::new("set server")
            .server(backend, server)?
            .keyword("state")
            .keyword(state.as_str())
            .finish()
    }

    /// `enable server <backend>/<server>`.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names.
    pub fn enable_server(backend: &str, server: &str) -> Result<Command, ArgError> {
        Line::new("enable server").server(backend, server)?.finish()
    }

    /// `disable server <backend>/<server>`.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names.
    pub fn disable_server(backend: &str, server: &str) -> Result<Command, ArgError> {
        Line::new("disable server")
            .server(backend, server)?
            .finish()
    }

    /// `set server <backend>/<server> addr <addr> [port <port>]`.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names or an address that is neither an IP
    /// address nor a host name.
    pub fn set_server_addr(
        backend: &str,
        server: &str,
        addr: &str,
        port: Option<u16>,
    ) -> Result<Command, ArgError> {
        let l = Line::new("set server")
            .server(backend, server)?
            .keyword("addr");
        check_addr(addr).map_err(|kind| l.err("addr", addr, kind))?;
        let l = l.value("addr", addr)?;
        let c = match port {
            Some(p) => l.keyword("port").number(p).finish(),
            None => l.finish(),
        }?;
        Ok(Command {
            expect: Expect::Notice(ADDR_NOTICES),
            ..c
        })
    }

    /// `enable health <backend>/<server>`: start the server's health
    /// checks again (a dynamic server's `check` starts with them
    /// stopped). HAProxy refuses it for a server without `check`.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names.
    pub fn enable_health(backend: &str, server: &str) -> Result<Command, ArgError> {
        Line::new("enable health").server(backend, server)?.finish()
    }

    /// `disable health <backend>/<server>`: stop the server's health
    /// checks.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names.
    pub fn disable_health(backend: &str, server: &str) -> Result<Command, ArgError> {
        Line::new("disable health")
            .server(backend, server)?
            .finish()
    }

    /// `shutdown sessions server <backend>/<server>`.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names.
    pub fn shutdown_sessions_server(backend: &str, server: &str) -> Result<Command, ArgError> {
        Line::new("shutdown sessions server")
            .server(backend, server)?
            .finish()
    }

    /// `set server <backend>/<server> health up|stopping|down`.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names.
    pub fn set_server_health(
        backend: &str,
        server: &str,
        health: Health,
    ) -> Result<Command, ArgError> {
        Line::new("set server")
            .server(backend, server)?
            .keyword("health")
            .keyword(health.as_str())
            .finish()
    }

    /// `set server <backend>/<server> agent up|down` (`stopping` is not an
    /// agent state and is refused).
    ///
    /// # Errors
    /// [`ArgError`] for invalid names or [`Health::Stopping`].
    pub fn set_server_agent(
        backend: &str,
        server: &str,
        health: Health,
    ) -> Result<Command, ArgError> {
        let l = Line::new("set server").server(backend, server)?;
        if health == Health::Stopping {
            return Err(l.err(
                "agent",
                "stopping",
                ArgErrorKind::Invalid {
                    expected: "up or down (HAProxy has no agent 'stopping' state)",
                },
            ));
        }
        l.keyword("agent").keyword(health.as_str()).finish()
    }

    /// `add server <backend>/<name> <address> [options…]` (dynamic
    /// servers, 2.4+). The address is `ADDR` or `ADDR:PORT` (`[V6]:PORT`
    /// for IPv6), ADDR checked as [`Command::set_server_addr`] checks
    /// it. Each option is one escaped word.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names, an address of another form, an
    /// empty or control-character option, or more than 64 words.
    pub fn add_server(
        backend: &str,
        name: &str,
        address: &str,
        options: &[&str],
    ) -> Result<Command, ArgError> {
        let l = Line::new("add server").server(backend, name)?;
        check_server_address(address).map_err(|kind| l.err("address", address, kind))?;
        let mut l = l.value("address", address)?;
        for o in options {
            l = l.value("option", o)?;
        }
        l.finish()
    }

    /// `del server <backend>/<name>`.
    ///
    /// # Errors
    /// [`ArgError`] for invalid names.
    pub fn del_server(backend: &str, name: &str) -> Result<Command, ArgError> {
        Line::new("del server").server(backend, name)?.finish()
    }

    /// `show ssl cert`: the certificate files a process holds, and the
    /// open transaction's.
    pub fn show_ssl_certs() -> Command {
        let mut c = Command::fixed("show ssl cert");
        c.expect = Expect::Dump(Dump::CertList);
        c
    }

    /// `show ssl cert <file>`: one certificate, as the process serves it.
    ///
    /// # Errors
    /// [`ArgError`] for an empty name, a control character or a leading
    /// `*`.
    pub fn show_ssl_cert(file: &str) -> Result<Command, ArgError> {
        let mut c = Line::new("show ssl cert").cert(file)?.finish()?;
        c.expect = Expect::Dump(Dump::Cert);
        Ok(c)
    }

    /// `set ssl cert <file> <<` with `pem` as payload: opens (or updates)
    /// the process's transaction for `file`. Nothing is served until
    /// [`Command::commit_ssl_cert`].
    ///
    /// # Errors
    /// [`ArgError`] for a bad file name.
    pub fn set_ssl_cert(file: &str, pem: &crate::ssl::Pem) -> Result<Command, ArgError> {
        Line::new("set ssl cert")
            .cert(file)?
            .finish_with_payload(pem.payload())
    }

    /// `commit ssl cert <file>`: the transaction's certificate is served
    /// from now on. Success is HAProxy's final `Success!`.
    ///
    /// # Errors
    /// [`ArgError`] for a bad file name.
    pub fn commit_ssl_cert(file: &str) -> Result<Command, ArgError> {
        Line::new("commit ssl cert").cert(file)?.finish()
    }

    /// `abort ssl cert <file>`: drops the open transaction.
    ///
    /// # Errors
    /// [`ArgError`] for a bad file name.
    pub fn abort_ssl_cert(file: &str) -> Result<Command, ArgError> {
        Line::new("abort ssl cert").cert(file)?.finish()
    }

    /// `show table`: every stick table of the process.
    pub fn show_tables() -> Command {
        let mut c = Command::fixed("show table");
        c.expect = Expect::Dump(Dump::Tables);
        c
    }

    /// `show table <name> [key <key>]`: a table's entries, or the one of
    /// `key` (checked against the table's `key_type`, as `show table`
    /// lists it).
    ///
    /// # Errors
    /// [`ArgError`] for a bad table name or a key the table's type cannot
    /// hold.
    pub fn show_table(name: &str, key: Option<(&str, &str)>) -> Result<Command, ArgError> {
        let mut l = Line::new("show table").proxy("table", name)?;
        if let Some((key_type, key)) = key {
            l = l.keyword("key").table_key(key_type, key)?;
        }
        let mut c = l.finish()?;
        c.expect = Expect::Dump(Dump::Table);
        Ok(c)
    }

    /// `set table <name> key <key> data.<type> <value> …`: creates the
    /// entry if needed and sets each data type. Values are unsigned
    /// numbers (counters, tags, rates are set as counts).
    ///
    /// # Errors
    /// [`ArgError`] for a bad name, a key the table's type cannot hold,
    /// no data, a data type that is not a plain name (`gpc0`, not
    /// `gpc(0)`) or a value that is not a number.
    pub fn set_table(
        name: &str,
        key_type: &str,
        key: &str,
        data: &[(&str, u64)],
    ) -> Result<Command, ArgError> {
        let mut l = Line::new("set table")
            .proxy("table", name)?
            .keyword("key")
            .table_key(key_type, key)?;
        if data.is_empty() {
            return Err(l.err("data", "", ArgErrorKind::Empty));
        }
        for (t, v) in data {
            if !crate::stick_table::is_data_type(t) {
                return Err(l.err(
                    "data type",
                    t,
                    ArgErrorKind::Invalid {
                        expected:
                            "a data type as `show table` prints it (gpc0, gpt0, http_req_cnt…)",
                    },
                ));
            }
            l.line.push_str(" data.");
            l.line.push_str(t);
            l.words += 1;
            l = l.number(v);
        }
        l.finish()
    }

    /// `clear table <name> [key <key>]`: one entry, or every entry.
    ///
    /// # Errors
    /// [`ArgError`] for a bad name or a key the table's type cannot hold.
    pub fn clear_table(name: &str, key: Option<(&str, &str)>) -> Result<Command, ArgError> {
        let mut l = Line::new("clear table").proxy("table", name)?;
        if let Some((key_type, key)) = key {
            l = l.keyword("key").table_key(key_type, key)?;
        }
        l.finish()
    }

    /// `show map <map>`: the entries of one map.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference.
    pub fn show_map(map: MapRef<'_>) -> Result<Command, ArgError> {
        Line::new("show map").map("map", map)?.finish()
    }

    /// `show acl <acl>`: the entries of one ACL.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference.
    pub fn show_acl(acl: MapRef<'_>) -> Result<Command, ArgError> {
        Line::new("show acl").map("acl", acl)?.finish()
    }

    /// `get map <map> <key>`: look a sample up as traffic would.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference or key.
    pub fn get_map(map: MapRef<'_>, key: &str) -> Result<Command, ArgError> {
        Line::new("get map")
            .map("map", map)?
            .value("key", key)?
            .finish()
    }

    /// `get acl <acl> <value>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference or value.
    pub fn get_acl(acl: MapRef<'_>, value: &str) -> Result<Command, ArgError> {
        Line::new("get acl")
            .map("acl", acl)?
            .value("value", value)?
            .finish()
    }

    /// `add map <map> <key> <value>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference, key or value.
    pub fn add_map(map: MapRef<'_>, key: &str, value: &str) -> Result<Command, ArgError> {
        Line::new("add map")
            .map("map", map)?
            .value("key", key)?
            .value("value", value)?
            .finish()
    }

    /// `set map <map> <key>|#<id> <value>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference, entry or value.
    pub fn set_map(map: MapRef<'_>, entry: EntryRef<'_>, value: &str) -> Result<Command, ArgError> {
        Line::new("set map")
            .map("map", map)?
            .entry(entry)?
            .value("value", value)?
            .finish()
    }

    /// `add acl <acl> <pattern>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference or pattern.
    pub fn add_acl(acl: MapRef<'_>, pattern: &str) -> Result<Command, ArgError> {
        Line::new("add acl")
            .map("acl", acl)?
            .value("pattern", pattern)?
            .finish()
    }

    /// `del map <map> <key>|#<id>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference or entry.
    pub fn del_map(map: MapRef<'_>, entry: EntryRef<'_>) -> Result<Command, ArgError> {
        Line::new("del map").map("map", map)?.entry(entry)?.finish()
    }

    /// `del acl <acl> <pattern>|#<id>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference or entry.
    pub fn del_acl(acl: MapRef<'_>, entry: EntryRef<'_>) -> Result<Command, ArgError> {
        Line::new("del acl").map("acl", acl)?.entry(entry)?.finish()
    }

    /// `clear map <map>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference.
    pub fn clear_map(map: MapRef<'_>) -> Result<Command, ArgError> {
        Line::new("clear map").map("map", map)?.finish()
    }

    /// `clear acl <acl>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference.
    pub fn clear_acl(acl: MapRef<'_>) -> Result<Command, ArgError> {
        Line::new("clear acl").map("acl", acl)?.finish()
    }

    /// `prepare map <map>`: opens a new version to fill (2.4+); HAProxy
    /// answers `New version created: <ver>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference.
    pub fn prepare_map(map: MapRef<'_>) -> Result<Command, ArgError> {
        Line::new("prepare map").map("map", map)?.finish()
    }

    /// `commit map @<ver> <map>`: atomically replaces the map's entries
    /// with that version's.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference or a version above
    /// [`MAX_VERSION`].
    pub fn commit_map(map: MapRef<'_>, version: u64) -> Result<Command, ArgError> {
        Line::new("commit map")
            .version(version)?
            .map("map", map)?
            .finish()
    }

    /// `prepare acl <acl>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference.
    pub fn prepare_acl(acl: MapRef<'_>) -> Result<Command, ArgError> {
        Line::new("prepare acl").map("acl", acl)?.finish()
    }

    /// `commit acl @<ver> <acl>`.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference or a version above
    /// [`MAX_VERSION`].
    pub fn commit_acl(acl: MapRef<'_>, version: u64) -> Result<Command, ArgError> {
        Line::new("commit acl")
            .version(version)?
            .map("acl", acl)?
            .finish()
    }

    /// `add map [@<ver>] <map> <<` with one `key value` line per entry.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference, a version above
    /// [`MAX_VERSION`], or an entry that a payload line cannot carry (see
    /// the module docs); the error's value names the entry's index.
    pub fn add_map_bulk(
        map: MapRef<'_>,
        version: Option<u64>,
        entries: &[(&str, &str)],
    ) -> Result<Command, ArgError> {
        let mut l = Line::new("add map");
        if let Some(v) = version {
            l = l.version(v)?;
        }
        let l = l.map("map", map)?;
        let mut payload = String::with_capacity(entries.len() * 32);
        for (i, (key, value)) in entries.iter().enumerate() {
            let bad = |argument, kind| ArgError {
                command: "add map",
                argument,
                value: format!("entry {i}: {key:?} {value:?}"),
                kind,
            };
            check_payload_word(key, true).map_err(|k| bad("key", k))?;
            check_payload_word(value, false).map_err(|k| bad("value", k))?;
            payload.push_str(key);
            payload.push(' ');
            payload.push_str(value);
            payload.push('\n');
        }
        l.finish_with_payload(payload)
    }

    /// `add acl [@<ver>] <acl> <<` with one pattern per line.
    ///
    /// # Errors
    /// [`ArgError`] for an invalid reference, a version above
    /// [`MAX_VERSION`], or a pattern that a payload line cannot carry
    /// (empty, leading blank, control character).
    pub fn add_acl_bulk(
        acl: MapRef<'_>,
        version: Option<u64>,
        patterns: &[&str],
    ) -> Result<Command, ArgError> {
        let mut l = Line::new("add acl");
        if let Some(v) = version {
            l = l.version(v)?;
        }
        let l = l.map("acl", acl)?;
        let mut payload = String::with_capacity(patterns.len() * 16);
        for (i, p) in patterns.iter().enumerate() {
            check_payload_word(p, false).map_err(|kind| ArgError {
                command: "add acl",
                argument: "pattern",
                value: format!("entry {i}: {p:?}"),
                kind,
            })?;
            payload.push_str(p);
            payload.push('\n');
        }
        l.finish_with_payload(payload)
    }
}

/// A word of a payload line: not empty, no control character (TAB is
/// allowed inside a value), not starting with a blank (HAProxy would drop
/// it), and for a key no blank at all (HAProxy splits there).
fn check_payload_word(s: &str, key: bool) -> Result<(), ArgErrorKind> {
    if s.is_empty() {
        return Err(ArgErrorKind::Payload {
            reason: "entry is empty (HAProxy would reject or mis-split the line)",
        });
    }
    check_controls(s)?;
    if s.starts_with([' ', '\t']) {
        return Err(ArgErrorKind::Payload {
            reason: "entry starts with a blank, which HAProxy drops from payload lines",
        });
    }
    if key && s.contains([' ', '\t']) {
        return Err(ArgErrorKind::Payload {
            reason: "key holds a blank; in a payload HAProxy splits key and value there (use the one-by-one form, which escapes it)",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_separator() {
        let c = Command::add_map(MapRef::File("/m.map"), "a b\tc", r#"x;y\z"'#$"#).expect("valid");
        assert_eq!(
            c.to_wire(),
            "add map /m.map a\\ b\\\tc x\\;y\\\\z\\\"\\'\\#\\$"
        );
        assert_eq!(c.to_string(), c.to_wire());
        assert_eq!(c.verb(), "add map");
    }

    #[test]
    fn refuses_control_characters_with_their_position() {
        for (v, ch, at) in [
            ("a\nb", '\n', 1),
            ("\rx", '\r', 0),
            ("ab\0", '\0', 2),
            ("x\u{1b}", '\u{1b}', 1),
        ] {
            let e = Command::add_map(MapRef::Id(1), "k", v).expect_err("refused");
            assert_eq!(e.kind, ArgErrorKind::ControlCharacter { ch, at }, "{v:?}");
            assert_eq!(e.argument, "value");
            assert_eq!(e.command, "add map");
        }
        assert!(Command::raw("show info\nshutdown frontend f").is_err());
        assert!(Command::raw("   ").is_err());
        assert_eq!(
            Command::raw(" show info; show stat ")
                .expect("raw")
                .to_wire(),
            "show info; show stat"
        );
    }

    #[test]
    fn map_refs_and_entry_refs_parse() {
        let cases = [
            ("3", Ok(MapRef::Id(3))),
            ("#3", Ok(MapRef::Id(3))),
            (
                "/etc/haproxy/hosts.map",
                Ok(MapRef::File("/etc/haproxy/hosts.map")),
            ),
            (
                "99999999999999999999",
                Ok(MapRef::File("99999999999999999999")),
            ),
            ("#x", Ok(MapRef::File("#x"))),
            ("-1", Err("-1")),
            ("#-2", Err("-2")),
        ];
        for (s, want) in cases {
            let got = MapRef::parse(s).map_err(|e| e.value);
            assert_eq!(got, want.map_err(str::to_owned), "{s}");
            assert_eq!(MapRef::try_from(s).map_err(|e| e.value), got, "{s}");
        }
        let e = MapRef::try_from(-1).expect_err("negative");
        assert_eq!((e.command, e.argument), ("map/acl", "id"));
        assert_eq!(MapRef::try_from(7), Ok(MapRef::Id(7)));
        assert_eq!(MapRef::Id(3).to_string(), "#3");
        assert_eq!(MapRef::File("/m").to_string(), "/m");
        assert_eq!(EntryRef::from("0x1"), EntryRef::Id("0x1"));
        assert_eq!(EntryRef::parse("0x55d0"), EntryRef::Id("0x55d0"));
        assert_eq!(EntryRef::parse("example.com"), EntryRef::Key("example.com"));
    }

    #[test]
    fn names_follow_haproxys_identifier_rule() {
        assert!(Command::set_weight("be_app", "app-1.x:2", 10).is_ok());
        for bad in ["a b", "a;b", "a/b", "", "é"] {
            assert!(Command::enable_server("be", bad).is_err(), "{bad:?}");
            assert!(Command::enable_frontend(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn weights() {
        assert_eq!(
            Command::set_weight("b", "s", 256).expect("ok").to_wire(),
            "set weight b/s 256"
        );
        assert_eq!(
            Command::set_weight("b", "s", 257).expect_err("range").kind,
            ArgErrorKind::OutOfRange {
                value: 257,
                min: 0,
                max: 256
            }
        );
        assert_eq!(
            Command::set_weight_percent("b", "s", 50)
                .expect("ok")
                .to_wire(),
            "set weight b/s 50%"
        );
    }

    /// HAProxy reads these numbers into a C `int` (`atoi`) or an
    /// `unsigned int` (versions): one beyond that range wraps there
    /// (`set maxconn global 4294967295` became the startup limit on 2.6),
    /// so the builder refuses it, naming the argument.
    #[test]
    fn numbers_haproxy_reads_as_int_are_range_checked() {
        let big = MAX_INT + 1;
        let huge = MAX_VERSION + 1;
        type Build = Box<dyn Fn(u64) -> Result<Command, ArgError>>;
        let narrow = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let cases: Vec<(&str, u64, u64, Build)> = vec![
            (
                "maxconn",
                u64::from(MAX_INT),
                u64::from(big),
                Box::new(move |n| Command::set_maxconn_global(narrow(n))),
            ),
            (
                "maxconn",
                u64::from(MAX_INT),
                u64::from(big),
                Box::new(move |n| Command::set_maxconn_frontend("fe", narrow(n))),
            ),
            (
                "limit",
                u64::from(MAX_INT),
                u64::from(big),
                Box::new(move |n| Command::set_rate_limit_connections(narrow(n))),
            ),
            (
                "limit",
                u64::from(MAX_INT),
                u64::from(big),
                Box::new(move |n| Command::set_rate_limit_sessions(narrow(n))),
            ),
            (
                "limit",
                u64::from(MAX_INT),
                u64::from(big),
                Box::new(move |n| Command::set_rate_limit_ssl_sessions(narrow(n))),
            ),
            (
                "proxy id",
                u64::from(MAX_INT),
                u64::from(big),
                Box::new(|n| Command::show_errors(Some(i64::try_from(n).unwrap_or(i64::MAX)))),
            ),
            (
                "map",
                u64::from(MAX_INT),
                u64::from(big),
                Box::new(|n| Command::show_map(MapRef::Id(n))),
            ),
            (
                "acl",
                u64::from(MAX_INT),
                u64::from(big),
                Box::new(|n| Command::clear_acl(MapRef::Id(n))),
            ),
            (
                "version",
                MAX_VERSION,
                huge,
                Box::new(|n| Command::commit_map(MapRef::Id(1), n)),
            ),
            (
                "version",
                MAX_VERSION,
                huge,
                Box::new(|n| Command::commit_acl(MapRef::Id(1), n)),
            ),
            (
                "version",
                MAX_VERSION,
                huge,
                Box::new(|n| Command::add_map_bulk(MapRef::Id(1), Some(n), &[("k", "v")])),
            ),
            (
                "version",
                MAX_VERSION,
                huge,
                Box::new(|n| Command::add_acl_bulk(MapRef::Id(1), Some(n), &["p"])),
            ),
        ];
        for (argument, max, over, build) in cases {
            let c = build(max).expect("the largest value HAProxy reads");
            assert!(c.line().contains(&max.to_string()), "{}", c.line());
            let e = build(over).expect_err("one beyond HAProxy's range");
            assert_eq!(e.argument, argument, "{e}");
            assert_eq!(e.value, over.to_string(), "{e}");
            assert!(
                matches!(e.kind, ArgErrorKind::OutOfRange { max: m, .. } if m == i64::try_from(max).unwrap_or(i64::MAX)),
                "{e}"
            );
        }
        let e = Command::set_maxconn_global(u32::MAX).expect_err("wraps in HAProxy");
        assert!(e.to_string().contains("maxconn"), "names the argument: {e}");
        // A negative proxy id means every proxy; 0 is sent (HAProxy: `No
        // such proxy.`).
        assert_eq!(
            Command::show_errors(Some(-1)).expect("ok").line(),
            "show errors"
        );
        assert_eq!(
            Command::show_errors(Some(0)).expect("ok").line(),
            "show errors 0"
        );
    }

    #[test]
    fn map_and_entry_references() {
        assert_eq!(
            Command::del_map(MapRef::Id(3), EntryRef::Id("0x55d0"))
                .expect("ok")
                .to_wire(),
            "del map #3 #0x55d0"
        );
        assert!(Command::del_map(MapRef::Id(3), EntryRef::Id("0xzz")).is_err());
        assert!(Command::del_map(MapRef::Id(3), EntryRef::Key("#k")).is_err());
        assert!(Command::show_map(MapRef::File("#3")).is_err());
        assert_eq!(
            Command::commit_map(MapRef::File("/m"), 4)
                .expect("ok")
                .to_wire(),
            "commit map @4 /m"
        );
    }

    #[test]
    fn server_commands() {
        let c = Command::set_server_addr("b", "s", "::1", Some(80)).expect("ok");
        assert_eq!(c.to_wire(), "set server b/s addr ::1 port 80");
        assert!(Command::set_server_addr("b", "s", "1.2.3.4 port 1", None).is_err());
        assert!(Command::set_server_addr("b", "s", "a;b", None).is_err());
        assert_eq!(
            Command::set_server_state("b", "s", ServerState::Drain)
                .expect("ok")
                .to_wire(),
            "set server b/s state drain"
        );
        assert!(Command::set_server_agent("b", "s", Health::Stopping).is_err());
    }

    #[test]
    fn bulk_payload_and_word_limit() {
        let c = Command::add_map_bulk(MapRef::Id(2), Some(7), &[("a", "x y "), ("b", "1")])
            .expect("ok");
        assert_eq!(c.to_wire(), "add map @7 #2 <<");
        assert_eq!(c.payload(), Some("a x y \nb 1\n"));
        let e = Command::add_map_bulk(MapRef::Id(2), None, &[("a", "1"), ("b c", "2")])
            .expect_err("blank key");
        assert!(e.value.starts_with("entry 1"), "{e}");
        assert!(Command::add_map_bulk(MapRef::Id(2), None, &[("a", " lead")]).is_err());
        assert!(Command::add_map_bulk(MapRef::Id(2), None, &[("a", "")]).is_err());
        for good in [
            "1.2.3.4",
            "1.2.3.4:80",
            "::1",
            "[::1]",
            "[::1]:8080",
            "app.local:443",
        ] {
            let c = Command::add_server("b", "s", good, &[]).expect(good);
            assert_eq!(c.line(), format!("add server b/s {good}"));
        }
        for bad in [
            "127.0.0.1:1 ;shutdown frontend fe",
            "1.2.3.4:0",
            "1.2.3.4:65536",
            "1.2.3.4:x",
            "[::1",
            "[::1]x",
            "[nothost]:80",
            "a b",
            "1.2.3.4:",
        ] {
            let e = Command::add_server("b", "s", bad, &[]).expect_err(bad);
            assert_eq!((e.argument, e.value.as_str()), ("address", bad));
        }
        let opts = vec!["x"; 70];
        let e = Command::add_server("b", "s", "1.2.3.4", &opts).expect_err("too many");
        assert!(matches!(e.kind, ArgErrorKind::TooManyWords { count } if count > 64));
    }

    #[test]
    fn every_builder_command_declares_its_success() {
        use crate::reply::{Dump, Expect};
        let m = MapRef::Id(1);
        let all: Vec<Command> = vec![
            Command::show_info(),
            Command::show_info_typed(),
            Command::show_stat(),
            Command::show_stat_typed(),
            Command::show_proc(),
            Command::show_maps(),
            Command::show_acls(),
            Command::clear_counters(),
            Command::clear_counters_all(),
            Command::show_errors(None).expect("ok"),
            Command::show_servers_state(None).expect("ok"),
            Command::enable_frontend("f").expect("ok"),
            Command::disable_frontend("f").expect("ok"),
            Command::shutdown_frontend("f").expect("ok"),
            Command::set_maxconn_frontend("f", 1).expect("ok"),
            Command::set_maxconn_global(1).expect("ok"),
            Command::set_rate_limit_connections(1).expect("ok"),
            Command::set_rate_limit_sessions(1).expect("ok"),
            Command::set_rate_limit_ssl_sessions(1).expect("ok"),
            Command::get_weight("b", "s").expect("ok"),
            Command::set_weight("b", "s", 1).expect("ok"),
            Command::set_weight_percent("b", "s", 1).expect("ok"),
            Command::set_server_state("b", "s", ServerState::Drain).expect("ok"),
            Command::enable_server("b", "s").expect("ok"),
            Command::disable_server("b", "s").expect("ok"),
            Command::enable_health("b", "s").expect("ok"),
            Command::disable_health("b", "s").expect("ok"),
            Command::set_server_addr("b", "s", "::1", None).expect("ok"),
            Command::shutdown_sessions_server("b", "s").expect("ok"),
            Command::set_server_health("b", "s", Health::Up).expect("ok"),
            Command::set_server_agent("b", "s", Health::Up).expect("ok"),
            Command::add_server("b", "s", "1.2.3.4", &[]).expect("ok"),
            Command::del_server("b", "s").expect("ok"),
            Command::show_map(m).expect("ok"),
            Command::show_acl(m).expect("ok"),
            Command::get_map(m, "k").expect("ok"),
            Command::get_acl(m, "k").expect("ok"),
            Command::add_map(m, "k", "v").expect("ok"),
            Command::set_map(m, EntryRef::Key("k"), "v").expect("ok"),
            Command::add_acl(m, "k").expect("ok"),
            Command::del_map(m, EntryRef::Key("k")).expect("ok"),
            Command::del_acl(m, EntryRef::Key("k")).expect("ok"),
            Command::clear_map(m).expect("ok"),
            Command::clear_acl(m).expect("ok"),
            Command::prepare_map(m).expect("ok"),
            Command::commit_map(m, 1).expect("ok"),
            Command::prepare_acl(m).expect("ok"),
            Command::commit_acl(m, 1).expect("ok"),
            Command::add_map_bulk(m, Some(1), &[("k", "v")]).expect("ok"),
            Command::add_acl_bulk(m, None, &["k"]).expect("ok"),
        ];
        for c in &all {
            assert_ne!(c.expect(), Expect::Unknown, "{c}");
        }
        assert_eq!(Command::show_maps().expect(), Expect::Dump(Dump::Lists));
        assert_eq!(
            Command::show_map(m).expect("ok").expect(),
            Expect::Dump(Dump::Entries)
        );
        assert_eq!(Command::raw("x").expect("ok").expect(), Expect::Unknown);
        // The examples of issue 15 fail now.
        let set = Command::set_map(m, EntryRef::Key("nosuch"), "v").expect("ok");
        assert!(set.judge("entry not found.\n\n").is_err());
        assert!(set.judge("\n").is_ok());
    }
}
