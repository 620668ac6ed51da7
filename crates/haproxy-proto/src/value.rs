//! The text-like values of `show stat`, as enums: [`Status`],
//! [`CheckStatus`], [`ProxyType`], [`Mode`] and [`Addr`].
//!
//! Every parser here is total: text this code does not recognise becomes an
//! `Other(..)` variant holding it verbatim, so nothing HAProxy prints is lost
//! and nothing can fail. Recognition is exact (case-sensitive): `no check`
//! is [`Status::NoCheck`], but `NO CHECK` (which no HAProxy prints) is
//! `Other("NO CHECK")`. `Display` gives back HAProxy's text; serde uses the
//! same text (the number for [`ProxyType`], which HAProxy prints as one).
//!
//! ```
//! use haproxy_proto::value::{Addr, CheckResult, CheckStatus, Status};
//!
//! assert_eq!(Status::parse("UP 1/3"), Status::GoingDown { done: 1, total: 3 });
//! assert_eq!(
//!     Status::parse("MAINT (via be/srv)"),
//!     Status::MaintVia("be/srv".to_owned())
//! );
//! let c = CheckStatus::parse("* L7OK");
//! assert!(c.in_progress);
//! assert_eq!(c.result, CheckResult::L7Ok);
//! let a = Addr::parse("[::1]:8080");
//! assert_eq!(a, Addr::Inet { host: "::1".to_owned(), port: Some(8080) });
//! assert_eq!(a.to_string(), "[::1]:8080");
//! ```

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use nom::bytes::complete::tag;
use nom::character::complete::{char, u32 as dec_u32};
use nom::combinator::{all_consuming, map};
use nom::sequence::separated_pair;
use nom::IResult;
#[cfg(feature = "serde")]
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Implements `FromStr` (infallible), `Serialize` (as `Display` text) and
/// `Deserialize` (from text) for a type with a total `parse(&str)`.
macro_rules! text_value {
    ($ty:ident) => {
        impl FromStr for $ty {
            type Err = Infallible;
            fn from_str(s: &str) -> Result<Self, Infallible> {
                Ok($ty::parse(s))
            }
        }

        #[cfg(feature = "serde")]
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Ok($ty::parse(&s))
            }
        }
    };
}

/// The `status` column: a server's, backend's, frontend's or listener's
/// state.
///
/// Transitional states keep HAProxy's two numbers as printed: `UP 1/3` is a
/// server still up after failed checks ([`Status::GoingDown`]: HAProxy
/// prints the remaining health above the down threshold, then `fall`), and
/// `DOWN 1/2` a server still down after successful checks
/// ([`Status::GoingUp`]: successful checks so far, then `rise`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// `UP`.
    Up,
    /// `DOWN`.
    Down,
    /// `NOLB`: up but taking no new load-balanced traffic
    /// (`http-check disable-on-404`).
    NoLb,
    /// `MAINT`: in maintenance, set by an administrator or `disabled`.
    Maint,
    /// `MAINT (via <proxy>/<server>)`: in maintenance because the tracked
    /// server is; holds `proxy/server`.
    MaintVia(String),
    /// `MAINT (resolution)`: in maintenance because its name does not
    /// resolve.
    MaintResolution,
    /// `DRAIN`: weight forced to 0.
    Drain,
    /// `no check`: a server without health checks.
    NoCheck,
    /// `OPEN`: a frontend or listener accepting connections.
    Open,
    /// `FULL`: a frontend or listener at its connection limit.
    Full,
    /// `STOP`: a stopped frontend or listener.
    Stop,
    /// `WAITING`: a listener waiting for resources.
    Waiting,
    /// `UP n/m`: up, failing checks, going down.
    GoingDown {
        /// First number printed.
        done: u32,
        /// Second number printed (`fall`).
        total: u32,
    },
    /// `DOWN n/m`: down, passing checks, going up.
    GoingUp {
        /// First number printed (checks passed).
        done: u32,
        /// Second number printed (`rise`).
        total: u32,
    },
    /// `NOLB n/m`: in NOLB, failing checks, going down.
    NoLbGoingDown {
        /// First number printed.
        done: u32,
        /// Second number printed (`fall`).
        total: u32,
    },
    /// `<status> (agent)`: the state was set by the agent check.
    Agent(Box<Status>),
    /// Any other text, verbatim.
    Other(String),
}

fn fraction<'a>(word: &'static str) -> impl FnMut(&'a str) -> IResult<&'a str, (u32, u32)> {
    map(
        separated_pair(
            separated_pair(tag(word), char(' '), dec_u32),
            char('/'),
            dec_u32,
        ),
        |((_, done), total)| (done, total),
    )
}

fn transitional(word: &'static str, s: &str) -> Option<(u32, u32)> {
    all_consuming(fraction(word))(s).ok().map(|(_, v)| v)
}

impl Status {
    /// Reads HAProxy's text. Total: unknown text is [`Status::Other`].
    pub fn parse(s: &str) -> Status {
        if let Some(inner) = s.strip_suffix(" (agent)") {
            return Status::Agent(Box::new(Status::parse_plain(inner)));
        }
        Status::parse_plain(s)
    }

    fn parse_plain(s: &str) -> Status {
        match s {
            "UP" => Status::Up,
            "DOWN" => Status::Down,
            "NOLB" => Status::NoLb,
            "MAINT" => Status::Maint,
            "MAINT (resolution)" => Status::MaintResolution,
            "DRAIN" => Status::Drain,
            "no check" => Status::NoCheck,
            "OPEN" => Status::Open,
            "FULL" => Status::Full,
            "STOP" => Status::Stop,
            "WAITING" => Status::Waiting,
            _ => {
                if let Some(via) = s
                    .strip_prefix("MAINT (via ")
                    .and_then(|r| r.strip_suffix(')'))
                {
                    return Status::MaintVia(via.to_owned());
                }
                if let Some((done, total)) = transitional("UP", s) {
                    return Status::GoingDown { done, total };
                }
                if let Some((done, total)) = transitional("DOWN", s) {
                    return Status::GoingUp { done, total };
                }
                if let Some((done, total)) = transitional("NOLB", s) {
                    return Status::NoLbGoingDown { done, total };
                }
                Status::Other(s.to_owned())
            }
        }
    }

    /// The state a check in transition is in: `UP n/m` (up, its checks
    /// failing) is [`Status::Up`], `DOWN n/m` [`Status::Down`], `NOLB n/m`
    /// [`Status::NoLb`], under an agent's mark too; any other status is
    /// itself.
    pub fn settled(&self) -> Status {
        match self {
            Status::GoingDown { .. } => Status::Up,
            Status::GoingUp { .. } => Status::Down,
            Status::NoLbGoingDown { .. } => Status::NoLb,
            Status::Agent(inner) => Status::Agent(Box::new(inner.settled())),
            other => other.clone(),
        }
    }

    /// Whether the object takes traffic: `UP`, `UP n/m` (still up), `OPEN`,
    /// `FULL` (open but at its limit), `no check`, and their agent forms.
    /// `DRAIN` and `NOLB` serve existing sessions only and are not counted.
    pub fn is_up(&self) -> bool {
        match self {
            Status::Up | Status::GoingDown { .. } | Status::Open | Status::Full => true,
            Status::NoCheck => true,
            Status::Agent(inner) => inner.is_up(),
            _ => false,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Up => f.write_str("UP"),
            Status::Down => f.write_str("DOWN"),
            Status::NoLb => f.write_str("NOLB"),
            Status::Maint => f.write_str("MAINT"),
            Status::MaintVia(via) => write!(f, "MAINT (via {via})"),
            Status::MaintResolution => f.write_str("MAINT (resolution)"),
            Status::Drain => f.write_str("DRAIN"),
            Status::NoCheck => f.write_str("no check"),
            Status::Open => f.write_str("OPEN"),
            Status::Full => f.write_str("FULL"),
            Status::Stop => f.write_str("STOP"),
            Status::Waiting => f.write_str("WAITING"),
            Status::GoingDown { done, total } => write!(f, "UP {done}/{total}"),
            Status::GoingUp { done, total } => write!(f, "DOWN {done}/{total}"),
            Status::NoLbGoingDown { done, total } => write!(f, "NOLB {done}/{total}"),
            Status::Agent(inner) => write!(f, "{inner} (agent)"),
            Status::Other(s) => f.write_str(s),
        }
    }
}

text_value!(Status);

/// The result part of a check status (`check_status`, `agent_status`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckResult {
    /// `UNK`: unknown.
    Unk,
    /// `INI`: initialising.
    Ini,
    /// `SOCKERR`: socket error.
    SockErr,
    /// `L4OK`: layer 4 check passed.
    L4Ok,
    /// `L4TOUT`: layer 1–4 timeout.
    L4Tout,
    /// `L4CON`: layer 1–4 connection problem (refused, reset, …).
    L4Con,
    /// `L6OK`: layer 6 (SSL) check passed.
    L6Ok,
    /// `L6TOUT`: layer 6 timeout.
    L6Tout,
    /// `L6RSP`: layer 6 invalid response (protocol error).
    L6Rsp,
    /// `L7OK`: layer 7 check passed.
    L7Ok,
    /// `L7OKC`: layer 7 check conditionally passed (e.g. 404 with
    /// `disable-on-404`).
    L7Okc,
    /// `L7TOUT`: layer 7 timeout.
    L7Tout,
    /// `L7RSP`: layer 7 invalid response.
    L7Rsp,
    /// `L7STS`: layer 7 response error (e.g. HTTP 5xx).
    L7Sts,
    /// `PROCERR`: external check process error.
    ProcErr,
    /// `PROCTOUT`: external check process timeout.
    ProcTout,
    /// `PROCOK`: external check passed.
    ProcOk,
    /// `HANA`: health analyse detected errors.
    Hana,
    /// Any other text, verbatim.
    Other(String),
}

impl CheckResult {
    /// Reads HAProxy's text. Total: unknown text is [`CheckResult::Other`].
    pub fn parse(s: &str) -> CheckResult {
        match s {
            "UNK" => CheckResult::Unk,
            "INI" => CheckResult::Ini,
            "SOCKERR" => CheckResult::SockErr,
            "L4OK" => CheckResult::L4Ok,
            "L4TOUT" => CheckResult::L4Tout,
            "L4CON" => CheckResult::L4Con,
            "L6OK" => CheckResult::L6Ok,
            "L6TOUT" => CheckResult::L6Tout,
            "L6RSP" => CheckResult::L6Rsp,
            "L7OK" => CheckResult::L7Ok,
            "L7OKC" => CheckResult::L7Okc,
            "L7TOUT" => CheckResult::L7Tout,
            "L7RSP" => CheckResult::L7Rsp,
            "L7STS" => CheckResult::L7Sts,
            "PROCERR" => CheckResult::ProcErr,
            "PROCTOUT" => CheckResult::ProcTout,
            "PROCOK" => CheckResult::ProcOk,
            "HANA" => CheckResult::Hana,
            other => CheckResult::Other(other.to_owned()),
        }
    }

    /// HAProxy's text.
    pub fn as_str(&self) -> &str {
        match self {
            CheckResult::Unk => "UNK",
            CheckResult::Ini => "INI",
            CheckResult::SockErr => "SOCKERR",
            CheckResult::L4Ok => "L4OK",
            CheckResult::L4Tout => "L4TOUT",
            CheckResult::L4Con => "L4CON",
            CheckResult::L6Ok => "L6OK",
            CheckResult::L6Tout => "L6TOUT",
            CheckResult::L6Rsp => "L6RSP",
            CheckResult::L7Ok => "L7OK",
            CheckResult::L7Okc => "L7OKC",
            CheckResult::L7Tout => "L7TOUT",
            CheckResult::L7Rsp => "L7RSP",
            CheckResult::L7Sts => "L7STS",
            CheckResult::ProcErr => "PROCERR",
            CheckResult::ProcTout => "PROCTOUT",
            CheckResult::ProcOk => "PROCOK",
            CheckResult::Hana => "HANA",
            CheckResult::Other(s) => s,
        }
    }

    /// Whether the check passed (`L4OK`, `L6OK`, `L7OK`, `L7OKC`, `PROCOK`).
    pub fn is_ok(&self) -> bool {
        matches!(
            self,
            CheckResult::L4Ok
                | CheckResult::L6Ok
                | CheckResult::L7Ok
                | CheckResult::L7Okc
                | CheckResult::ProcOk
        )
    }
}

impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check status as printed in `check_status` / `agent_status`: the result
/// of the last check, prefixed by `* ` while a new check is in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckStatus {
    /// The `* ` prefix: a check is running now.
    pub in_progress: bool,
    /// The last check's result.
    pub result: CheckResult,
}

impl CheckStatus {
    /// Reads HAProxy's text. Total.
    pub fn parse(s: &str) -> CheckStatus {
        match s.strip_prefix("* ") {
            Some(rest) => CheckStatus {
                in_progress: true,
                result: CheckResult::parse(rest),
            },
            None => CheckStatus {
                in_progress: false,
                result: CheckResult::parse(s),
            },
        }
    }
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.in_progress {
            f.write_str("* ")?;
        }
        f.write_str(self.result.as_str())
    }
}

text_value!(CheckStatus);

/// The `type` column: what a row describes. HAProxy prints a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProxyType {
    /// `0`: a frontend (svname `FRONTEND`).
    Frontend,
    /// `1`: a backend (svname `BACKEND`).
    Backend,
    /// `2`: a server.
    Server,
    /// `3`: a listener (socket), shown with `option socket-stats`.
    Listener,
    /// Any other number.
    Other(u8),
}

impl ProxyType {
    /// The type for HAProxy's number.
    pub const fn from_code(code: u8) -> ProxyType {
        match code {
            0 => ProxyType::Frontend,
            1 => ProxyType::Backend,
            2 => ProxyType::Server,
            3 => ProxyType::Listener,
            n => ProxyType::Other(n),
        }
    }

    /// HAProxy's number.
    pub const fn code(self) -> u8 {
        match self {
            ProxyType::Frontend => 0,
            ProxyType::Backend => 1,
            ProxyType::Server => 2,
            ProxyType::Listener => 3,
            ProxyType::Other(n) => n,
        }
    }

    /// A word for it: `frontend`, `backend`, `server`, `listener`, `other`.
    pub const fn name(self) -> &'static str {
        match self {
            ProxyType::Frontend => "frontend",
            ProxyType::Backend => "backend",
            ProxyType::Server => "server",
            ProxyType::Listener => "listener",
            ProxyType::Other(_) => "other",
        }
    }
}

impl fmt::Display for ProxyType {
    /// HAProxy's text: the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

#[cfg(feature = "serde")]
impl Serialize for ProxyType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.code())
    }
}

#[cfg(feature = "serde")]
impl<'de> Deserialize<'de> for ProxyType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u8::deserialize(deserializer).map(ProxyType::from_code)
    }
}

/// The `mode` column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// `tcp`.
    Tcp,
    /// `http`.
    Http,
    /// `health`.
    Health,
    /// `unknown`.
    Unknown,
    /// Any other text, verbatim.
    Other(String),
}

impl Mode {
    /// Reads HAProxy's text. Total.
    pub fn parse(s: &str) -> Mode {
        match s {
            "tcp" => Mode::Tcp,
            "http" => Mode::Http,
            "health" => Mode::Health,
            "unknown" => Mode::Unknown,
            other => Mode::Other(other.to_owned()),
        }
    }

    /// HAProxy's text.
    pub fn as_str(&self) -> &str {
        match self {
            Mode::Tcp => "tcp",
            Mode::Http => "http",
            Mode::Health => "health",
            Mode::Unknown => "unknown",
            Mode::Other(s) => s,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_value!(Mode);

/// The `addr` column: where a server or listener is.
///
/// Forms read: `1.2.3.4:80`, `host:80`, `host`, `[::1]:80` (host `::1`),
/// `[::1]` and bare `::1` (no port: a host with more than one `:` is never
/// split), `unix@/path`, `unix` (HAProxy's text for a UNIX socket address),
/// `abns@name`. Anything else — another `family@` prefix, a port that is
/// not a number up to 65535, an empty host — is kept in [`Addr::Other`].
/// `Display` writes an IPv6 host with a port in brackets and without one
/// bare, so `[::1]` reads back as `::1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Addr {
    /// An IPv4 or IPv6 address or a host name, with an optional port.
    Inet {
        /// The address or name, without IPv6 brackets.
        host: String,
        /// The port, when one is given.
        port: Option<u16>,
    },
    /// A UNIX socket path (empty when HAProxy printed just `unix`).
    Unix(String),
    /// A Linux abstract-namespace socket name.
    Abns(String),
    /// Any other text, verbatim.
    Other(String),
}

impl Addr {
    /// Reads HAProxy's text. Total.
    pub fn parse(s: &str) -> Addr {
        if s == "unix" {
            return Addr::Unix(String::new());
        }
        if let Some(path) = s.strip_prefix("unix@") {
            return Addr::Unix(path.to_owned());
        }
        if let Some(name) = s.strip_prefix("abns@") {
            return Addr::Abns(name.to_owned());
        }
        let other = || Addr::Other(s.to_owned());
        if s.is_empty() || s.contains('@') || s.contains(char::is_whitespace) {
            return other();
        }
        if let Some(rest) = s.strip_prefix('[') {
            let Some((host, after)) = rest.split_once(']') else {
                return other();
            };
            if host.is_empty() {
                return other();
            }
            let port = match after {
                "" => None,
                p => match p.strip_prefix(':').and_then(parse_port) {
                    Some(port) => Some(port),
                    None => return other(),
                },
            };
            return Addr::Inet {
                host: host.to_owned(),
                port,
            };
        }
        match s.split_once(':') {
            None => Addr::Inet {
                host: s.to_owned(),
                port: None,
            },
            // More than one colon: bare IPv6, never split.
            Some((_, rest)) if rest.contains(':') => Addr::Inet {
                host: s.to_owned(),
                port: None,
            },
            Some((host, port)) => match parse_port(port) {
                Some(port) if !host.is_empty() => Addr::Inet {
                    host: host.to_owned(),
                    port: Some(port),
                },
                _ => other(),
            },
        }
    }

    /// The port, for an [`Addr::Inet`] that has one.
    pub fn port(&self) -> Option<u16> {
        match self {
            Addr::Inet { port, .. } => *port,
            _ => None,
        }
    }
}

fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Inet {
                host,
                port: Some(port),
            } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Addr::Inet {
                host,
                port: Some(port),
            } => write!(f, "{host}:{port}"),
            Addr::Inet { host, port: None } => f.write_str(host),
            Addr::Unix(path) if path.is_empty() => f.write_str("unix"),
            Addr::Unix(path) => write!(f, "unix@{path}"),
            Addr::Abns(name) => write!(f, "abns@{name}"),
            Addr::Other(s) => f.write_str(s),
        }
    }
}

text_value!(Addr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_in_transition_settles_to_its_state() {
        for (text, want) in [
            ("UP 1/3", Status::Up),
            ("DOWN 1/2", Status::Down),
            ("NOLB 2/3", Status::NoLb),
            ("UP 1/3 (agent)", Status::Agent(Box::new(Status::Up))),
            ("MAINT (via be/s1)", Status::MaintVia("be/s1".to_owned())),
            ("DRAIN", Status::Drain),
        ] {
            assert_eq!(Status::parse(text).settled(), want, "{text}");
        }
    }
    #[cfg(feature = "serde")]
    use serde::de::value::{Error as DeError, StrDeserializer, U8Deserializer};
    #[cfg(feature = "serde")]
    use serde::de::IntoDeserializer;

    #[test]
    fn status_parses_and_displays_back() {
        let cases = [
            ("UP", Status::Up),
            ("DOWN", Status::Down),
            ("NOLB", Status::NoLb),
            ("MAINT", Status::Maint),
            (
                "MAINT (via be_http/up1)",
                Status::MaintVia("be_http/up1".into()),
            ),
            ("MAINT (resolution)", Status::MaintResolution),
            ("DRAIN", Status::Drain),
            ("no check", Status::NoCheck),
            ("OPEN", Status::Open),
            ("FULL", Status::Full),
            ("STOP", Status::Stop),
            ("WAITING", Status::Waiting),
            ("UP 1/3", Status::GoingDown { done: 1, total: 3 }),
            ("DOWN 1/2", Status::GoingUp { done: 1, total: 2 }),
            ("NOLB 2/3", Status::NoLbGoingDown { done: 2, total: 3 }),
            ("DOWN (agent)", Status::Agent(Box::new(Status::Down))),
            ("DRAIN (agent)", Status::Agent(Box::new(Status::Drain))),
            (
                "UP 1/2 (agent)",
                Status::Agent(Box::new(Status::GoingDown { done: 1, total: 2 })),
            ),
            ("NO CHECK", Status::Other("NO CHECK".into())),
            ("UP 1/", Status::Other("UP 1/".into())),
            ("UP 1/2x", Status::Other("UP 1/2x".into())),
            ("DRAIN (agent)1", Status::Other("DRAIN (agent)1".into())),
            ("", Status::Other(String::new())),
        ];
        for (text, want) in cases {
            let got = Status::parse(text);
            assert_eq!(got, want, "{text:?}");
            assert_eq!(got.to_string(), text, "{text:?}");
        }
    }

    #[test]
    fn status_is_up() {
        let cases = [
            ("UP", true),
            ("UP 1/3", true),
            ("no check", true),
            ("OPEN", true),
            ("DOWN", false),
            ("DOWN 1/2", false),
            ("MAINT", false),
            ("DRAIN", false),
            ("NOLB", false),
            ("DOWN (agent)", false),
        ];
        for (text, up) in cases {
            assert_eq!(Status::parse(text).is_up(), up, "{text}");
        }
    }

    #[test]
    fn check_status_keeps_in_progress_flag() {
        let cases = [
            ("L4OK", false, CheckResult::L4Ok),
            ("* L7OK", true, CheckResult::L7Ok),
            ("* L7TOUT", true, CheckResult::L7Tout),
            ("L7OKC", false, CheckResult::L7Okc),
            ("SOCKERR", false, CheckResult::SockErr),
            ("PROCTOUT", false, CheckResult::ProcTout),
            ("HANA", false, CheckResult::Hana),
            ("INI", false, CheckResult::Ini),
            ("UNK", false, CheckResult::Unk),
            ("LOK", false, CheckResult::Other("LOK".into())),
        ];
        for (text, in_progress, result) in cases {
            let got = CheckStatus::parse(text);
            assert_eq!(got.in_progress, in_progress, "{text}");
            assert_eq!(got.result, result, "{text}");
            assert_eq!(got.to_string(), text);
        }
        assert!(CheckResult::L7Okc.is_ok());
        assert!(!CheckResult::L4Con.is_ok());
    }

    #[test]
    fn proxy_type_codes() {
        let cases = [
            (0, ProxyType::Frontend, "frontend"),
            (1, ProxyType::Backend, "backend"),
            (2, ProxyType::Server, "server"),
            (3, ProxyType::Listener, "listener"),
            (9, ProxyType::Other(9), "other"),
        ];
        for (code, ty, name) in cases {
            assert_eq!(ProxyType::from_code(code), ty);
            assert_eq!(ty.code(), code);
            assert_eq!(ty.name(), name);
            assert_eq!(ty.to_string(), code.to_string());
            #[cfg(feature = "serde")]
            {
                let d: U8Deserializer<DeError> = code.into_deserializer();
                assert_eq!(ProxyType::deserialize(d), Ok(ty));
            }
        }
    }

    #[test]
    fn mode_parses() {
        let cases = [
            ("tcp", Mode::Tcp),
            ("http", Mode::Http),
            ("health", Mode::Health),
            ("unknown", Mode::Unknown),
            ("spop", Mode::Other("spop".into())),
        ];
        for (text, mode) in cases {
            assert_eq!(Mode::parse(text), mode);
            assert_eq!(mode.to_string(), text);
        }
    }

    #[test]
    fn addr_forms() {
        let inet = |h: &str, p: Option<u16>| Addr::Inet {
            host: h.to_owned(),
            port: p,
        };
        // (input, parsed, displayed back)
        let cases = [
            (
                "127.0.0.1:18480",
                inet("127.0.0.1", Some(18480)),
                "127.0.0.1:18480",
            ),
            ("[::1]:18480", inet("::1", Some(18480)), "[::1]:18480"),
            (
                "[fe80::1%eth0]:80",
                inet("fe80::1%eth0", Some(80)),
                "[fe80::1%eth0]:80",
            ),
            ("::1", inet("::1", None), "::1"),
            (
                "2001:db8::8080",
                inet("2001:db8::8080", None),
                "2001:db8::8080",
            ),
            ("[::1]", inet("::1", None), "::1"),
            (
                "db.example:5432",
                inet("db.example", Some(5432)),
                "db.example:5432",
            ),
            ("db.example", inet("db.example", None), "db.example"),
            (
                "unix@/run/app.sock",
                Addr::Unix("/run/app.sock".into()),
                "unix@/run/app.sock",
            ),
            ("unix", Addr::Unix(String::new()), "unix"),
            ("abns@name", Addr::Abns("name".into()), "abns@name"),
            (
                "ipv4@1.2.3.4:80",
                Addr::Other("ipv4@1.2.3.4:80".into()),
                "ipv4@1.2.3.4:80",
            ),
            (
                "1.2.3.4:99999",
                Addr::Other("1.2.3.4:99999".into()),
                "1.2.3.4:99999",
            ),
            ("1.2.3.4:", Addr::Other("1.2.3.4:".into()), "1.2.3.4:"),
            (":80", Addr::Other(":80".into()), ":80"),
            ("[::1", Addr::Other("[::1".into()), "[::1"),
            ("[::1]x", Addr::Other("[::1]x".into()), "[::1]x"),
            ("", Addr::Other(String::new()), ""),
        ];
        for (text, addr, shown) in cases {
            let got = Addr::parse(text);
            assert_eq!(got, addr, "{text:?}");
            assert_eq!(got.to_string(), shown, "{text:?}");
        }
        assert_eq!(Addr::parse("10.0.0.1:80").port(), Some(80));
        assert_eq!(Addr::parse("unix").port(), None);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn text_values_deserialize_from_text() {
        let d: StrDeserializer<'_, DeError> = "MAINT (via a/b)".into_deserializer();
        assert_eq!(Status::deserialize(d), Ok(Status::MaintVia("a/b".into())));
        let d: StrDeserializer<'_, DeError> = "* L4CON".into_deserializer();
        assert_eq!(
            CheckStatus::deserialize(d).map(|c| c.to_string()),
            Ok("* L4CON".to_owned())
        );
        let d: StrDeserializer<'_, DeError> = "[::1]:80".into_deserializer();
        assert_eq!(Addr::deserialize(d).map(|a| a.port()), Ok(Some(80)));
        let d: StrDeserializer<'_, DeError> = "http".into_deserializer();
        assert_eq!(Mode::deserialize(d), Ok(Mode::Http));
        assert_eq!("UP".parse::<Status>(), Ok(Status::Up));
    }
}
