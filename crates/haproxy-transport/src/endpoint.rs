//! Where a Runtime API lives: a UNIX socket, a TCP address, or a process
//! reached through the master CLI.
//!
//! | string | endpoint |
//! |---|---|
//! | `/run/haproxy/admin.sock`, `./a.sock`, `unix@/run/a.sock` | [`Endpoint::Unix`] |
//! | `ipv4@127.0.0.1:9999` | [`Endpoint::Tcp`], [`Family::V4`] |
//! | `ipv6@[::1]:9999` | [`Endpoint::Tcp`], [`Family::V6`] |
//! | `127.0.0.1:9999`, `lb1.example:9999` | [`Endpoint::Tcp`], [`Family::Any`] |
//! | any of those + `@master`, `@1`, `@!1234` | [`Endpoint::Master`]: the master CLI itself, its first worker, the worker with PID 1234 |
//!
//! The master selector is the text after the **last** `@`, and only when
//! it is `master`, a number, or `!` and a number: `ipv4@1.2.3.4:1` has no
//! selector. A UNIX path that itself ends in `@<digits>` needs the
//! `unix@` prefix and a selector to be read as a path.

use std::fmt;
use std::path::PathBuf;

/// The address family a TCP endpoint was given with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// `host:port`: whatever the name resolves to.
    Any,
    /// `ipv4@`.
    V4,
    /// `ipv6@`.
    V6,
}

impl Family {
    /// Whether a resolved address is of this family.
    pub fn admits(self, addr: &std::net::SocketAddr) -> bool {
        match self {
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
            Family::Any => true,
        }
    }
}

/// Which process a master-CLI endpoint talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// The master process itself (`@master`).
    Master,
    /// A worker by its relative number, as `show proc` lists it (`@1`).
    Relative(u32),
    /// A process by PID (`@!1234`).
    Pid(u32),
}

impl Target {
    /// The routing prefix put before each command (`@1 `), empty for the
    /// master itself.
    pub fn prefix(self) -> String {
        match self {
            Target::Master => String::new(),
            Target::Relative(n) => format!("@{n} "),
            Target::Pid(p) => format!("@!{p} "),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Master => f.write_str("master"),
            Target::Relative(n) => write!(f, "{n}"),
            Target::Pid(p) => write!(f, "!{p}"),
        }
    }
}

/// A Runtime API endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// A UNIX stream socket (`stats socket /path`).
    Unix(PathBuf),
    /// A TCP stats socket (`stats socket ipv4@127.0.0.1:9999`).
    Tcp {
        /// Host name or address (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
        /// How it was written.
        family: Family,
    },
    /// A process behind the master CLI (`haproxy -W -S <master socket>`).
    Master {
        /// The master socket.
        master: Box<Endpoint>,
        /// Which process.
        target: Target,
    },
}

impl Endpoint {
    /// A UNIX socket endpoint. The path is taken as it is — any bytes,
    /// `@` and `:` included — never parsed: prefer this to
    /// `path.parse()` for a path found on disk.
    pub fn unix(path: impl Into<PathBuf>) -> Endpoint {
        Endpoint::Unix(path.into())
    }

    /// A TCP endpoint, `host` resolved to any family (`host:port`).
    pub fn tcp(host: impl Into<String>, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
            family: Family::Any,
        }
    }

    /// A TCP endpoint over IPv4 only (`ipv4@addr:port`).
    pub fn tcp_v4(addr: std::net::Ipv4Addr, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: addr.to_string(),
            port,
            family: Family::V4,
        }
    }

    /// A TCP endpoint over IPv6 only (`ipv6@[addr]:port`).
    pub fn tcp_v6(addr: std::net::Ipv6Addr, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: addr.to_string(),
            port,
            family: Family::V6,
        }
    }

    /// A process behind the master CLI whose UNIX socket is `path`
    /// (`haproxy -W -S path`): `Target::Master` for the master itself,
    /// `Target::Relative(1)` for the first worker, `Target::Pid(p)` for a
    /// process by PID. The path is taken as it is, never parsed.
    pub fn master(path: impl Into<PathBuf>, target: Target) -> Endpoint {
        Endpoint::via_master(Endpoint::unix(path), target)
    }

    /// The UNIX socket path, if this endpoint (or its master socket) is one.
    pub fn unix_path(&self) -> Option<&std::path::Path> {
        match self.connect_target() {
            Endpoint::Unix(p) => Some(p),
            _ => None,
        }
    }

    /// The endpoint the connection is made to (the master socket for a
    /// master-CLI endpoint).
    pub fn connect_target(&self) -> &Endpoint {
        match self {
            Endpoint::Master { master, .. } => master.connect_target(),
            other => other,
        }
    }

    /// The master-CLI target, if this endpoint goes through a master.
    pub fn target(&self) -> Option<Target> {
        match self {
            Endpoint::Master { target, .. } => Some(*target),
            _ => None,
        }
    }

    /// This endpoint's master socket routed to `target`.
    pub fn via_master(master: Endpoint, target: Target) -> Endpoint {
        Endpoint::Master {
            master: Box::new(master.connect_target().clone()),
            target,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(p) => {
                let s = p.display().to_string();
                // Keep the round trip: a path that would read as TCP or as a
                // master selector gets the explicit prefix.
                if needs_unix_prefix(&s) {
                    write!(f, "unix@{s}")
                } else {
                    f.write_str(&s)
                }
            }
            Endpoint::Tcp { host, port, family } => match family {
                Family::V4 => write!(f, "ipv4@{host}:{port}"),
                Family::V6 => write!(f, "ipv6@[{host}]:{port}"),
                Family::Any if host.contains(':') => write!(f, "[{host}]:{port}"),
                Family::Any => write!(f, "{host}:{port}"),
            },
            Endpoint::Master { master, target } => write!(f, "{master}@{target}"),
        }
    }
}

fn needs_unix_prefix(s: &str) -> bool {
    !(s.starts_with('/') || s.starts_with('.')) && (s.contains(':') || s.contains('@'))
        || split_selector(s).is_some()
}

/// Splits `base@selector` when the text after the last `@` is a master
/// selector.
fn split_selector(s: &str) -> Option<(&str, Target)> {
    let (base, sel) = s.rsplit_once('@')?;
    if base.is_empty() {
        return None;
    }
    let target = if sel == "master" {
        Target::Master
    } else if let Some(pid) = sel.strip_prefix('!') {
        Target::Pid(parse_num(pid)?)
    } else {
        Target::Relative(parse_num(sel)?)
    };
    Some((base, target))
}

fn parse_num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// An endpoint string that does not parse: the string given and what is
/// wrong with it. [`crate::Error::InvalidEndpoint`] carries it to users
/// (`str::parse::<Endpoint>`, whose impl sits with the error type).
#[derive(Debug)]
pub(crate) struct Invalid {
    pub(crate) input: String,
    pub(crate) reason: String,
}

fn invalid(input: &str, reason: impl Into<String>) -> Invalid {
    Invalid {
        input: input.to_owned(),
        reason: reason.into(),
    }
}

fn parse_port(input: &str, port: &str) -> Result<u16, Invalid> {
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(invalid(input, format!("`{port}` is not a port (1-65535)"))),
    }
}

fn parse_base(input: &str, s: &str) -> Result<Endpoint, Invalid> {
    if s.is_empty() {
        return Err(invalid(input, "empty endpoint"));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(invalid(input, "holds a control character"));
    }
    if s.starts_with('@') {
        return Err(invalid(
            input,
            "a master selector (`@1`, `@!PID`, `@master`) goes after the master socket",
        ));
    }
    if let Some(path) = s.strip_prefix("unix@") {
        if path.is_empty() {
            return Err(invalid(input, "`unix@` needs a path"));
        }
        return Ok(Endpoint::Unix(PathBuf::from(path)));
    }
    if let Some(rest) = s.strip_prefix("ipv4@") {
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| invalid(input, "`ipv4@` needs host:port"))?;
        if host.is_empty() {
            return Err(invalid(input, "`ipv4@` needs a host before the port"));
        }
        if host.contains(':') {
            return Err(invalid(input, "an IPv6 address needs `ipv6@[addr]:port`"));
        }
        return Ok(Endpoint::Tcp {
            host: host.to_owned(),
            port: parse_port(input, port)?,
            family: Family::V4,
        });
    }
    if let Some(rest) = s.strip_prefix("ipv6@") {
        let (host, port) =
            bracketed(rest).ok_or_else(|| invalid(input, "`ipv6@` needs [address]:port"))?;
        return Ok(Endpoint::Tcp {
            host: host.to_owned(),
            port: parse_port(input, port)?,
            family: Family::V6,
        });
    }
    if let Some(prefix) = ["udp@", "udp4@", "udp6@", "abns@", "fd@", "sockpair@"]
        .iter()
        .find(|p| s.starts_with(**p))
    {
        return Err(invalid(
            input,
            format!("`{prefix}` is not a stream socket the CLI can be reached on"),
        ));
    }
    if s.starts_with('/') || s.starts_with('.') || s.starts_with('~') {
        return Ok(Endpoint::Unix(PathBuf::from(s)));
    }
    if s.starts_with('[') {
        let (host, port) = bracketed(s).ok_or_else(|| invalid(input, "expected [address]:port"))?;
        return Ok(Endpoint::Tcp {
            host: host.to_owned(),
            port: parse_port(input, port)?,
            family: Family::Any,
        });
    }
    if let Some((host, port)) = s.rsplit_once(':') {
        if !host.is_empty() && !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Endpoint::Tcp {
                host: host.to_owned(),
                port: parse_port(input, port)?,
                family: Family::Any,
            });
        }
    }
    Ok(Endpoint::Unix(PathBuf::from(s)))
}

/// `[addr]:port` → (`addr`, `port`).
fn bracketed(s: &str) -> Option<(&str, &str)> {
    let rest = s.strip_prefix('[')?;
    let (host, after) = rest.split_once(']')?;
    let port = after.strip_prefix(':')?;
    if host.is_empty() {
        return None;
    }
    Some((host, port))
}

/// Parses an endpoint string (`str::parse::<Endpoint>`).
pub(crate) fn parse(s: &str) -> Result<Endpoint, Invalid> {
    match split_selector(s) {
        Some((base, target)) => Ok(Endpoint::Master {
            master: Box::new(parse_base(s, base)?),
            target,
        }),
        None => parse_base(s, s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn tcp(host: &str, port: u16, family: Family) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
            family,
        }
    }

    #[test]
    fn parses_every_form_and_round_trips() {
        let master = |b: Endpoint, t| Endpoint::Master {
            master: Box::new(b),
            target: t,
        };
        let cases = [
            ("/run/h.sock", Endpoint::unix("/run/h.sock")),
            ("./h.sock", Endpoint::unix("./h.sock")),
            ("h.sock", Endpoint::unix("h.sock")),
            ("unix@/p", Endpoint::unix("/p")),
            ("ipv4@127.0.0.1:9999", tcp("127.0.0.1", 9999, Family::V4)),
            ("ipv6@[::1]:9999", tcp("::1", 9999, Family::V6)),
            ("127.0.0.1:9999", tcp("127.0.0.1", 9999, Family::Any)),
            ("localhost:9999", tcp("localhost", 9999, Family::Any)),
            ("[::1]:80", tcp("::1", 80, Family::Any)),
            (
                "/run/m.sock@master",
                master(Endpoint::unix("/run/m.sock"), Target::Master),
            ),
            (
                "/run/m.sock@1",
                master(Endpoint::unix("/run/m.sock"), Target::Relative(1)),
            ),
            (
                "/run/m.sock@!1234",
                master(Endpoint::unix("/run/m.sock"), Target::Pid(1234)),
            ),
            (
                "ipv4@127.0.0.1:9000@2",
                master(tcp("127.0.0.1", 9000, Family::V4), Target::Relative(2)),
            ),
        ];
        for (s, want) in cases {
            let got: Endpoint = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(got, want, "{s}");
            let again: Endpoint = got.to_string().parse().expect("round trip");
            assert_eq!(again, got, "{s} -> {got}");
        }
    }

    #[test]
    fn refuses_bad_forms_with_reasons() {
        for s in [
            "",
            "ipv4@127.0.0.1",
            "ipv4@:80",
            "ipv4@1.2.3.4:0",
            "ipv4@1.2.3.4:99999",
            "ipv6@::1:80",
            "ipv6@[]:80",
            "unix@",
            "udp@1.2.3.4:5",
            "/a\nb",
            "@1",
        ] {
            match s.parse::<Endpoint>() {
                Err(Error::InvalidEndpoint { input, reason }) => {
                    assert_eq!(input, s);
                    assert!(!reason.is_empty());
                }
                other => panic!("{s:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn constructors_take_paths_as_they_are() {
        use std::os::unix::ffi::OsStrExt;
        // A file named like a master selector, and one that is not UTF-8.
        let at = Endpoint::unix("/run/x@1");
        assert_eq!(at, Endpoint::Unix(PathBuf::from("/run/x@1")));
        assert_eq!(at.target(), None);
        let raw = std::ffi::OsStr::from_bytes(b"/run/h\xff.sock");
        let bytes = Endpoint::unix(raw);
        assert_eq!(bytes.unix_path().map(|p| p.as_os_str()), Some(raw));
        let m = Endpoint::master("/run/m@2.sock", Target::Pid(42));
        assert_eq!(m.target(), Some(Target::Pid(42)));
        assert_eq!(m.unix_path(), Some(std::path::Path::new("/run/m@2.sock")));
        assert_eq!(
            Endpoint::tcp_v4(std::net::Ipv4Addr::LOCALHOST, 9999).to_string(),
            "ipv4@127.0.0.1:9999"
        );
        assert_eq!(
            Endpoint::tcp_v6(std::net::Ipv6Addr::LOCALHOST, 9999).to_string(),
            "ipv6@[::1]:9999"
        );
        assert_eq!(Endpoint::tcp("lb1", 80).to_string(), "lb1:80");
    }

    #[test]
    fn connect_target_and_prefix() {
        let e: Endpoint = "/m.sock@!42".parse().expect("parse");
        assert_eq!(e.connect_target(), &Endpoint::unix("/m.sock"));
        assert_eq!(e.target().map(Target::prefix), Some("@!42 ".to_owned()));
        assert_eq!(Target::Master.prefix(), "");
    }
}
