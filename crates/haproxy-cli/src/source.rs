//! Where the processes are and how to reach them: the global options
//! turned, in one place, into the one [`Source`] and the connection
//! settings ([`haproxy_admin::Builder`]) that every command and the
//! exporter use.

use crate::args::{Cli, Level};
use crate::config::{endpoints, target};
use crate::Failure;
use haproxy_admin::{HAProxy, ReplyLimits, Retry, RetryPolicy, Source, Timeouts};
use std::time::Duration;

type Result<T = ()> = std::result::Result<T, Failure>;

/// The one place that decides which processes a command acts on: of
/// `--target`, `--master`, `--socket` and `--socket-dir`/`--pattern`,
/// those on the command line beat those in the environment, which beat
/// the built-in socket directory. Two of the first three at the same
/// level are a usage error; any of them beats a socket directory at the
/// same level (`--socket` replaces `--socket-dir`).
///
/// # Errors
///
/// A usage error for two conflicting options at one level, an endpoint
/// that does not parse, or a target that cannot be read.
pub fn source(cli: &Cli) -> Result<Source> {
    let g = cli.given;
    let top = g.target.max(g.master).max(g.sockets).max(g.dir);
    let named: Vec<(&str, &str)> = [
        (g.target, "--target", "HAPROXY_CLI_TARGET"),
        (g.master, "--master", "HAPROXY_CLI_MASTER"),
        (g.sockets, "--socket", "HAPROXY_CLI_SOCKET"),
    ]
    .into_iter()
    .filter(|(level, ..)| *level == top && top != Level::Unset)
    .map(|(_, flag, env)| (flag, env))
    .collect();
    if let [a, b, ..] = named[..] {
        return Err(Failure::Usage(if top == Level::CommandLine {
            format!("'{}' cannot be used with '{}'", b.0, a.0)
        } else {
            format!(
                "{} and {} are both set; unset one, or name the processes on the command line",
                a.1, b.1
            )
        }));
    }
    Ok(match named.first().map(|(flag, _)| *flag) {
        Some("--target") => match &cli.target {
            Some(name) => target(cli.config.as_deref(), name)?.source()?,
            None => return Err(Failure::Usage("--target needs a name".to_owned())),
        },
        Some("--master") => match &cli.master {
            Some(m) => Source::Master(m.clone()),
            None => return Err(Failure::Usage("--master needs a path".to_owned())),
        },
        Some(_) => Source::Endpoints(endpoints(&cli.sockets)?),
        None => Source::Dir {
            dir: cli.socket_dir.clone(),
            pattern: cli.pattern.clone(),
        },
    })
}

/// The connection settings the global options give (timeouts, retries,
/// reply limits, best effort): one place, for every command and the
/// exporter.
pub(crate) fn builder(cli: &Cli) -> Result<haproxy_admin::Builder> {
    let secs = |what: &str, s: f64| {
        if s.is_finite() && s > 0.0 {
            Ok(Duration::from_secs_f64(s))
        } else {
            Err(Failure::Usage(format!(
                "--{what} must be a positive number of seconds, not {s}"
            )))
        }
    };
    let timeout = secs("timeout", cli.io_timeout_secs())?;
    let interval = if cli.retry_interval == 0.0 {
        Duration::ZERO
    } else {
        secs("retry-interval", cli.retry_interval)?
    };
    let retry = match cli.retry.as_str() {
        "forever" => Retry::Forever,
        "0" => Retry::Never,
        n => Retry::Times(n.parse().map_err(|_| {
            Failure::Usage(format!("--retry must be a number or `forever`, not {n:?}"))
        })?),
    };
    let probe_timeout = match cli.probe_timeout {
        Some(s) => secs("probe-timeout", s)?,
        None => timeout,
    };
    let mut builder = HAProxy::builder()
        .timeouts(Timeouts::uniform(timeout))
        .retry(RetryPolicy::new(retry, interval))
        .probe_timeout(probe_timeout);
    if let Some(bytes) = cli.max_reply_size {
        let defaults = ReplyLimits::default();
        builder = builder.reply_limits(
            defaults
                .with_dump(bytes)
                .with_other(bytes.min(defaults.other)),
        );
    }
    if cli.allow_partial {
        builder = builder.allow_partial();
    }
    Ok(builder)
}
