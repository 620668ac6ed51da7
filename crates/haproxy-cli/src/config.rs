//! The CLI's configuration: durations as people write them, the
//! environment variables of the global options, and the optional file of
//! named targets (`--target prod-eu`).
//!
//! The file is line-based:
//!
//! ```text
//! # comments and blank lines are ignored
//! [prod-eu]
//! socket = /run/haproxy/eu-1.sock
//! socket = ipv4@10.0.0.12:9999
//!
//! [staging]
//! socket-dir = /run/haproxy-staging
//! pattern = admin-*.sock
//!
//! [old]
//! master = /run/haproxy-master.sock
//! ```

use crate::Failure;
use haproxy_admin::{Endpoint, Source};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Shown at the end of `haproxy-cli --help` (and `-h`). The lists are
/// kept within 58 columns so that a 60-column terminal shows them as
/// written; the paragraphs are single lines that clap wraps to the
/// terminal.
pub const ENV_HELP: &str = "\
Environment (an option on the command line wins):
  HAPROXY_CLI_SOCKET_DIR      --socket-dir
  HAPROXY_CLI_PATTERN         --pattern
  HAPROXY_CLI_SOCKET          --socket (comma-separated)
  HAPROXY_CLI_MASTER          --master
  HAPROXY_CLI_TARGET          --target
  HAPROXY_CLI_CONFIG          --config
  HAPROXY_CLI_TIMEOUT         --timeout
  HAPROXY_CLI_PROBE_TIMEOUT   --probe-timeout
  HAPROXY_CLI_RETRY           --retry
  HAPROXY_CLI_RETRY_INTERVAL  --retry-interval
  HAPROXY_CLI_ALLOW_PARTIAL   --allow-partial (true/false)
  HAPROXY_CLI_FORMAT          --format
  HAPROXY_CLI_PER_PROCESS     --per-process (true/false)
  HAPROXY_CLI_MAX_REPLY_SIZE  --max-reply-size

Targets: a config file (--config, default ~/.config/haproxy-cli/config) of sections `[NAME]` with lines `socket = ENDPOINT` (repeatable), `socket-dir = DIR`, `pattern = GLOB` or `master = PATH`.

Durations (every option that takes one): seconds (`2.5`) or with a unit: `500ms`, `5s`, `2m`, `1h`.

Exit codes:
  0  done on every process
  1  failed (one line on stderr naming the socket; a
     process not reached is a failure), `check` found
     differences, or the confirmation was declined
  2  usage error (also: a write on several objects
     without --yes and no terminal to ask on)
  3  partial success with --allow-partial: done on the
     processes reached, the others named on stderr
  4  a --wait reached its deadline
  5  a --wait was undone: what it waited on took new
     traffic again (set back to ready mid-wait)";

/// A duration: seconds (`5`, `2.5`) or a number with a unit (`500ms`,
/// `5s`, `2m`, `1h`, `30d`).
///
/// # Errors
///
/// A message saying what was expected.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad =
        || format!("expected a duration like 500ms, 5s, 2m or a number of seconds, not {s:?}");
    let n: f64 = num.parse().map_err(|_| bad())?;
    let scale = match unit.trim() {
        "" | "s" | "sec" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(bad()),
    };
    let secs = n * scale;
    if !secs.is_finite() || secs > 1e9 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// [`parse_duration`] as seconds, for clap.
///
/// # Errors
///
/// As [`parse_duration`].
pub fn parse_secs(s: &str) -> Result<f64, String> {
    parse_duration(s).map(|d| d.as_secs_f64())
}

/// A size in bytes: a number, or with a binary unit (`64K`, `16M`, `1G`;
/// `KiB`, `MiB`, `GiB` and `B` also read). At least 1.
///
/// # Errors
///
/// A message saying what was expected.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || format!("expected a size like 65536, 64K, 16M or 1G, not {s:?}");
    let n: usize = num.parse().map_err(|_| bad())?;
    let shift = match unit.trim() {
        "" | "B" => 0,
        "K" | "k" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        _ => return Err(bad()),
    };
    match n.checked_mul(1 << shift) {
        Some(bytes) if bytes > 0 => Ok(bytes),
        _ => Err(bad()),
    }
}

/// Where a named target's processes are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetDef {
    /// `socket = …` lines.
    pub sockets: Vec<String>,
    /// `socket-dir = …`.
    pub socket_dir: Option<PathBuf>,
    /// `pattern = …`.
    pub pattern: Option<String>,
    /// `master = …`.
    pub master: Option<PathBuf>,
}

impl TargetDef {
    /// The processes the target names.
    ///
    /// # Errors
    ///
    /// A usage error naming an endpoint that does not parse.
    pub fn source(&self) -> Result<Source, Failure> {
        Ok(if let Some(m) = &self.master {
            Source::Master(m.clone())
        } else if let Some(dir) = &self.socket_dir {
            Source::Dir {
                dir: dir.clone(),
                pattern: self.pattern.clone(),
            }
        } else {
            Source::Endpoints(endpoints(&self.sockets)?)
        })
    }
}

/// Endpoints as typed (`--socket`, a target's `socket` lines, an
/// inventory); a bad one is a usage error naming it.
///
/// # Errors
///
/// A usage error naming the first endpoint that does not parse.
pub fn endpoints(sockets: &[String]) -> Result<Vec<Endpoint>, Failure> {
    sockets
        .iter()
        .map(|s| {
            s.parse()
                .map_err(|e: haproxy_admin::TransportError| Failure::Usage(e.to_string()))
        })
        .collect()
}

/// The default config file: `$XDG_CONFIG_HOME/haproxy-cli/config`, else
/// `$HOME/.config/haproxy-cli/config`.
fn default_path() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("haproxy-cli/config"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/haproxy-cli/config"))
}

/// Target `name` from `file` (or the default file).
///
/// # Errors
///
/// A usage error when the file cannot be read, has a bad line (named by
/// line number), or has no such target.
pub fn target(file: Option<&Path>, name: &str) -> Result<TargetDef, Failure> {
    let path = file
        .map(Path::to_path_buf)
        .or_else(default_path)
        .ok_or_else(|| Failure::Usage("--target needs --config (no HOME to look in)".into()))?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::Usage(format!("cannot read config file {}: {e}", path.display())))?;
    let targets = parse(&text)
        .map_err(|(line, msg)| Failure::Usage(format!("{}:{line}: {msg}", path.display())))?;
    targets
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t)
        .ok_or_else(|| {
            Failure::Usage(format!(
                "no target [{name}] in config file {}",
                path.display()
            ))
        })
}

/// Every `[name]` section of a config file, or the line number and
/// what is wrong with it.
fn parse(text: &str) -> Result<Vec<(String, TargetDef)>, (usize, String)> {
    let mut out: Vec<(String, TargetDef)> = Vec::new();
    // The line of each section's `[NAME]`, for errors about the whole
    // section.
    let mut starts: Vec<usize> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            if name.is_empty() {
                return Err((n, "empty target name".into()));
            }
            if out.iter().any(|(x, _)| x == name) {
                return Err((n, format!("target [{name}] defined twice")));
            }
            out.push((name.to_owned(), TargetDef::default()));
            starts.push(n);
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err((
                n,
                format!("expected `[NAME]` or `key = value`, found {line:?}"),
            ));
        };
        let (key, value) = (key.trim(), value.trim().to_owned());
        let Some((_, t)) = out.last_mut() else {
            return Err((n, "a setting before the first [NAME]".into()));
        };
        if value.is_empty() {
            return Err((n, format!("`{key}` has no value")));
        }
        match key {
            "socket" => t.sockets.push(value),
            "socket-dir" => t.socket_dir = Some(value.into()),
            "pattern" => t.pattern = Some(value),
            "master" => t.master = Some(value.into()),
            _ => {
                return Err((
                    n,
                    format!("unknown setting `{key}` (socket, socket-dir, pattern, master)"),
                ))
            }
        }
    }
    for ((name, t), line) in out.iter().zip(starts) {
        let ways = usize::from(!t.sockets.is_empty())
            + usize::from(t.socket_dir.is_some())
            + usize::from(t.master.is_some());
        if ways != 1 {
            return Err((
                line,
                format!("target [{name}] needs exactly one of socket, socket-dir, master"),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (s, ms) in [
            ("5", 5000),
            ("2.5", 2500),
            ("500ms", 500),
            ("5s", 5000),
            ("2m", 120_000),
            ("1h", 3_600_000),
        ] {
            assert_eq!(parse_duration(s), Ok(Duration::from_millis(ms)), "{s}");
        }
        for bad in ["", "s", "5x", "-1", "1e400", "5 m s", "nan", "inf"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_secs("500ms"), Ok(0.5));
        assert_eq!(parse_secs("0"), Ok(0.0));
    }

    #[test]
    fn sizes() {
        for (s, bytes) in [
            ("65536", 65_536),
            ("64K", 65_536),
            ("64k", 65_536),
            ("16M", 16 << 20),
            ("1G", 1 << 30),
            ("1GiB", 1 << 30),
            ("10B", 10),
        ] {
            assert_eq!(parse_size(s), Ok(bytes), "{s}");
        }
        for bad in ["", "0", "K", "5x", "-1", "1.5M", "99999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn targets() {
        let t = parse("# c\n[eu]\nsocket = /a.sock\nsocket=ipv4@127.0.0.1:1\n\n[dir]\nsocket-dir = /run/x\npattern = a-*\n")
            .expect("parses");
        assert_eq!(t[0].0, "eu");
        assert_eq!(t[0].1.sockets, ["/a.sock", "ipv4@127.0.0.1:1"]);
        assert_eq!(t[1].1.pattern.as_deref(), Some("a-*"));
        for (bad, line) in [
            ("socket = /a\n", 1),
            ("[a]\nsocket /a\n", 2),
            ("[a]\nfoo = 1\n", 2),
            ("[a]\n[a]\n", 2),
            ("[a]\nsocket =\n", 2),
            ("[a]\n", 1),
            ("# c\n[a]\nsocket = /a\n[b]\nsocket = /b\nmaster = /m\n", 4),
        ] {
            assert_eq!(parse(bad).map_err(|e| e.0), Err(line), "{bad:?}");
        }
    }
}
