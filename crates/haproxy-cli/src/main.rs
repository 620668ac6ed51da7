//! `haproxy-cli`: the operator's tool for the HAProxy Runtime API, a thin
//! binary over `haproxy-admin`. Flags parse into [`args::Cli`]; each
//! subcommand is one function here; [`output`] prints in every format.
//!
//! Exit codes: 0 on success, 1 when an operation failed (one line on
//! stderr naming the socket and quoting HAProxy), 2 on a usage error
//! (including an argument the command builder refuses).

use clap::{CommandFactory, Parser};
use haproxy_admin::{
    Batch, Enable, EntryRef, Error, HAProxy, Health, MapRef, ObjectKind, Retry, RetryPolicy,
    Snapshot, State, Timeouts, Weight,
};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

mod args;
mod exporter;
mod output;
mod top;

use args::{
    AclCmd, BackendCmd, Cli, Command, Format, FrontendCmd, GlobalCmd, HealthArg, MapCmd,
    RateLimitArg, ServerCmd,
};

/// What a subcommand can fail with: the library's error, or a usage
/// problem found after parsing (exit 2).
#[derive(Debug)]
enum Failure {
    Admin(Error),
    Usage(String),
    Io(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Admin(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Io(e.to_string())
    }
}

type Result<T = ()> = std::result::Result<T, Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("haproxy-cli: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Io(msg)) => {
            // A closed pipe (`| head`) is not worth a message.
            if !msg.contains("Broken pipe") {
                eprintln!("haproxy-cli: {msg}");
            }
            ExitCode::FAILURE
        }
        // An argument the command builder refused is a usage error.
        Err(Failure::Admin(e @ Error::Proto(_))) => {
            eprintln!("haproxy-cli: {}", one_line(&e.to_string()));
            ExitCode::from(2)
        }
        Err(Failure::Admin(e)) => {
            eprintln!("haproxy-cli: {}", one_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// HAProxy's replies end in newlines and may span lines; stderr gets one.
fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

fn run(cli: &Cli) -> Result {
    match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "haproxy-cli",
                &mut std::io::stdout(),
            );
            return Ok(());
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            return Ok(());
        }
        Command::Exporter(a) => return exporter::run(cli, a),
        _ => {}
    }
    let hap = connect(cli)?;
    // Stdout is line-buffered; a listing is written in large blocks.
    let out = &mut std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let format = cli.format;
    output::set_per_process(cli.per_process);
    match &cli.command {
        Command::Info => output::info(out, format, &hap.snapshot()?)?,
        Command::Metric { name } => {
            let snap = hap.snapshot()?;
            let value = snap.metric(name)?;
            if format == Format::Prometheus {
                output::prometheus_metric(out, &snap, name)?;
            } else {
                output::metric(out, format, name, &value)?;
            }
        }
        Command::Frontend(c) => frontend(out, format, &hap, c)?,
        Command::Backend(c) => backend(out, format, &hap, c)?,
        Command::Server(c) => server(out, format, &hap, c)?,
        Command::Map(c) => map(out, format, &hap, c)?,
        Command::Acl(c) => acl(out, format, &hap, c)?,
        Command::Global(c) => global(&hap, c)?,
        Command::Errors { proxy } => output::per_process_text(out, format, &hap.errors(*proxy)?)?,
        Command::Dump => {
            let snap = complete_snapshot(&hap)?;
            output::dump(out, format, &snap)?;
        }
        Command::Raw { command } => {
            output::per_process_text(out, format, &hap.command(command)?)?;
        }
        Command::Top(a) => top::run(out, &hap, a)?,
        Command::Completions { .. } | Command::Man | Command::Exporter(_) => {}
    }
    out.flush()?;
    Ok(())
}

/// Builds the process set the global options name, warning about sockets
/// that were skipped.
fn connect(cli: &Cli) -> Result<HAProxy> {
    let secs = |what: &str, s: f64| {
        if s.is_finite() && s > 0.0 {
            Ok(Duration::from_secs_f64(s))
        } else {
            Err(Failure::Usage(format!(
                "--{what} must be a positive number of seconds, not {s}"
            )))
        }
    };
    let timeout = secs("timeout", cli.timeout)?;
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
    let builder = HAProxy::builder()
        .timeouts(Timeouts::uniform(timeout))
        .retry(RetryPolicy::new(retry, interval))
        .probe_timeout(timeout.min(Duration::from_secs(1)));
    let hap = if let Some(master) = &cli.master {
        builder.from_master(master)?
    } else if !cli.sockets.is_empty() {
        let endpoints = cli
            .sockets
            .iter()
            .map(|s| {
                s.parse()
                    .map_err(|e: haproxy_admin::TransportError| Failure::Usage(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        builder.from_endpoints(endpoints)?
    } else if let Some(pattern) = &cli.pattern {
        builder.from_dir_matching(&cli.socket_dir, pattern)?
    } else {
        builder.from_dir(&cli.socket_dir)?
    };
    for skipped in hap.skipped() {
        eprintln!("haproxy-cli: warning: skipped {skipped}");
    }
    Ok(hap)
}

/// A snapshot for listings: a process that failed makes the listing fail
/// (never a short table presented as complete).
fn complete_snapshot(hap: &HAProxy) -> Result<Snapshot> {
    let snap = hap.snapshot()?;
    if let Some(f) = snap.failures().first() {
        return Err(Failure::Io(format!(
            "{} of {} processes failed; first: {f}",
            snap.failures().len(),
            hap.processes().len()
        )));
    }
    Ok(snap)
}

/// Sends the commands `queue` adds to every process, pipelined over one
/// session each. Writes do not read the stats first: changing one server
/// should not cost a stats dump of the whole fleet, and HAProxy itself
/// says when the object does not exist ("No such server.").
fn write_all<'h>(
    hap: &'h HAProxy,
    queue: impl for<'b> FnOnce(&'b mut Batch<'h>) -> haproxy_admin::Result<&'b mut Batch<'h>>,
) -> Result {
    let mut batch = hap.batch();
    queue(&mut batch)?;
    batch.run()?;
    Ok(())
}

fn frontend(out: &mut impl Write, format: Format, hap: &HAProxy, c: &FrontendCmd) -> Result {
    match c {
        FrontendCmd::List => {
            let snap = complete_snapshot(hap)?;
            output::stream_objects(out, format, ObjectKind::Frontend, &snap, |_| true)?;
        }
        FrontendCmd::Show { name } => {
            let snap = complete_snapshot(hap)?;
            let obj = snap.frontend(name)?.stats();
            if format == Format::Prometheus {
                output::stream_objects(out, format, ObjectKind::Frontend, &snap, |o| {
                    o.proxy() == name
                })?;
            } else {
                output::object(out, format, ObjectKind::Frontend, &obj)?;
            }
        }
        FrontendCmd::Enable { name } => {
            write_all(hap, |b| b.enable_frontend(name, Enable::Enable))?
        }
        FrontendCmd::Disable { name } => {
            write_all(hap, |b| b.enable_frontend(name, Enable::Disable))?
        }
        FrontendCmd::Shutdown { name } => write_all(hap, |b| b.shutdown_frontend(name))?,
        FrontendCmd::SetMaxconn { name, maxconn } => {
            write_all(hap, |b| b.set_maxconn_frontend(name, *maxconn))?
        }
    }
    Ok(())
}

fn backend(out: &mut impl Write, format: Format, hap: &HAProxy, c: &BackendCmd) -> Result {
    let snap = complete_snapshot(hap)?;
    match c {
        BackendCmd::List => {
            output::stream_objects(out, format, ObjectKind::Backend, &snap, |_| true)?;
        }
        BackendCmd::Show { name } => {
            let obj = snap.backend(name)?.stats();
            if format == Format::Prometheus {
                output::stream_objects(out, format, ObjectKind::Backend, &snap, |o| {
                    o.proxy() == name
                })?;
            } else {
                output::object(out, format, ObjectKind::Backend, &obj)?;
            }
        }
    }
    Ok(())
}

/// Splits `BACKEND/SERVER`.
fn split_server(s: &str) -> Result<(&str, &str)> {
    match s.split_once('/') {
        Some((b, srv)) if !b.is_empty() && !srv.is_empty() && !srv.contains('/') => Ok((b, srv)),
        _ => Err(Failure::Usage(format!(
            "expected BACKEND/SERVER, got {s:?}"
        ))),
    }
}

fn server(out: &mut impl Write, format: Format, hap: &HAProxy, c: &ServerCmd) -> Result {
    match c {
        ServerCmd::List { backends } => {
            let snap = complete_snapshot(hap)?;
            for b in backends {
                snap.backend(b)?;
            }
            output::stream_objects(out, format, ObjectKind::Server, &snap, |o| {
                backends.is_empty() || backends.iter().any(|b| b == o.proxy())
            })?;
        }
        ServerCmd::Show { server } => {
            let snap = complete_snapshot(hap)?;
            let (b, s) = split_server(server)?;
            let obj = snap.backend(b)?.server(s)?.stats();
            if format == Format::Prometheus {
                output::stream_objects(out, format, ObjectKind::Server, &snap, |o| {
                    o.proxy() == b && o.name() == s
                })?;
            } else {
                output::object(out, format, ObjectKind::Server, &obj)?;
            }
        }
        ServerCmd::Enable { server } => {
            let (b, s) = split_server(server)?;
            write_all(hap, |q| q.enable_server(b, s, Enable::Enable))?;
        }
        ServerCmd::Disable { server } => {
            let (b, s) = split_server(server)?;
            write_all(hap, |q| q.enable_server(b, s, Enable::Disable))?;
        }
        ServerCmd::Ready { server } => server_state(hap, server, State::Ready)?,
        ServerCmd::Drain { server } => server_state(hap, server, State::Drain)?,
        ServerCmd::Maint { server } => server_state(hap, server, State::Maint)?,
        ServerCmd::SetWeight { server, weight } => {
            let w = parse_weight(weight)?;
            let (b, s) = split_server(server)?;
            write_all(hap, |q| q.set_weight(b, s, w))?;
        }
        ServerCmd::SetAddr { server, addr, port } => {
            let (b, s) = split_server(server)?;
            write_all(hap, |q| q.set_address(b, s, addr, *port))?;
        }
        ServerCmd::SetHealth { server, state } => {
            let (b, s) = split_server(server)?;
            write_all(hap, |q| q.set_health(b, s, health(*state)))?;
        }
        ServerCmd::SetAgent { server, state } => {
            let (b, s) = split_server(server)?;
            write_all(hap, |q| q.set_agent(b, s, health(*state)))?;
        }
        ServerCmd::ShutdownSessions { server } => {
            let (b, s) = split_server(server)?;
            write_all(hap, |q| q.shutdown_sessions(b, s))?;
        }
    }
    Ok(())
}

fn server_state(hap: &HAProxy, server: &str, state: State) -> Result {
    let (b, s) = split_server(server)?;
    write_all(hap, |q| q.set_state(b, s, state))
}

fn health(h: HealthArg) -> Health {
    match h {
        HealthArg::Up => Health::Up,
        HealthArg::Stopping => Health::Stopping,
        HealthArg::Down => Health::Down,
    }
}

/// `0`–`256`, or `N%`.
fn parse_weight(s: &str) -> Result<Weight> {
    let bad = || {
        Failure::Usage(format!(
            "weight must be 0-256 or a percentage like 50%, not {s:?}"
        ))
    };
    match s.strip_suffix('%') {
        Some(p) => Ok(Weight::Percent(p.parse().map_err(|_| bad())?)),
        None => {
            let w: u16 = s.parse().map_err(|_| bad())?;
            if w > 256 {
                return Err(bad());
            }
            Ok(Weight::Absolute(w))
        }
    }
}

fn map(out: &mut impl Write, format: Format, hap: &HAProxy, c: &MapCmd) -> Result {
    match c {
        MapCmd::List => output::lists(out, format, &hap.maps()?)?,
        MapCmd::Show { map } => {
            output::entries(out, format, &hap.map_entries(&MapRef::parse(map))?)?
        }
        MapCmd::Get { map, key } => {
            output::lookups(out, format, &hap.get_map(&MapRef::parse(map), key)?)?
        }
        MapCmd::Add { map, key, value } => hap.add_map(&MapRef::parse(map), key, value)?,
        MapCmd::Set { map, key, value } => {
            hap.set_map(&MapRef::parse(map), EntryRef::parse(key), value)?
        }
        MapCmd::Del { map, key } => hap.del_map(&MapRef::parse(map), EntryRef::parse(key))?,
        MapCmd::Clear { map } => hap.clear_map(&MapRef::parse(map))?,
        MapCmd::Replace { map, file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(file)
                    .map_err(|e| Failure::Io(format!("cannot read {}: {e}", file.display())))?
            };
            let entries = map_file_entries(&text, &file.display().to_string())?;
            hap.replace_map(&MapRef::parse(map), &entries)?;
        }
    }
    Ok(())
}

/// The `key value` lines of a map file (blank lines and `#` comments
/// skipped), or the first line that has no value.
fn map_file_entries<'t>(text: &'t str, name: &str) -> Result<Vec<(&'t str, &'t str)>> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once([' ', '\t']) {
            Some((k, v)) => entries.push((k, v.trim_start())),
            None => {
                return Err(Failure::Usage(format!(
                    "{name}:{}: expected `key value`, found {line:?}",
                    n + 1
                )))
            }
        }
    }
    Ok(entries)
}

fn acl(out: &mut impl Write, format: Format, hap: &HAProxy, c: &AclCmd) -> Result {
    match c {
        AclCmd::List => output::lists(out, format, &hap.acls()?)?,
        AclCmd::Show { acl } => {
            output::entries(out, format, &hap.acl_entries(&MapRef::parse(acl))?)?
        }
        AclCmd::Get { acl, value } => {
            output::lookups(out, format, &hap.get_acl(&MapRef::parse(acl), value)?)?
        }
        AclCmd::Add { acl, entry } => hap.add_acl(&MapRef::parse(acl), entry)?,
        AclCmd::Del { acl, key } => hap.del_acl(&MapRef::parse(acl), EntryRef::parse(key))?,
        AclCmd::Clear { acl } => hap.clear_acl(&MapRef::parse(acl))?,
    }
    Ok(())
}

fn global(hap: &HAProxy, c: &GlobalCmd) -> Result {
    match c {
        GlobalCmd::SetMaxconn { maxconn } => hap.set_maxconn(*maxconn)?,
        GlobalCmd::SetRateLimit { which, limit } => match which {
            RateLimitArg::Connections => hap.set_rate_limit_conn(*limit)?,
            RateLimitArg::Sessions => hap.set_rate_limit_sess(*limit)?,
            RateLimitArg::SslSessions => hap.set_rate_limit_ssl_sess(*limit)?,
        },
        GlobalCmd::ClearCounters { all } => {
            if *all {
                hap.clear_all_counters()?
            } else {
                hap.clear_counters()?
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights() {
        assert!(matches!(parse_weight("0"), Ok(Weight::Absolute(0))));
        assert!(matches!(parse_weight("256"), Ok(Weight::Absolute(256))));
        assert!(matches!(parse_weight("50%"), Ok(Weight::Percent(50))));
        for bad in ["257", "-1", "x", "%", "1.5"] {
            assert!(matches!(parse_weight(bad), Err(Failure::Usage(_))), "{bad}");
        }
    }

    #[test]
    fn server_names() {
        assert_eq!(split_server("be/s1").ok(), Some(("be", "s1")));
        for bad in ["be", "/s", "be/", "a/b/c"] {
            assert!(split_server(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn map_files() {
        let e = map_file_entries("# c\n\na.example be_a\nb\tbe b\n", "f").ok();
        assert_eq!(e, Some(vec![("a.example", "be_a"), ("b", "be b")]));
        let err = map_file_entries("a 1\nlonely\n", "f");
        assert!(matches!(err, Err(Failure::Usage(m)) if m.contains("f:2")));
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn positionals_do_not_leak_into_global_options() {
        // Every subcommand argument id must differ from the globals' ids,
        // or clap hands the positional's value to the global option.
        let globals: Vec<String> = Cli::command()
            .get_arguments()
            .filter(|a| a.is_global_set())
            .map(|a| a.get_id().to_string())
            .collect();
        fn walk(cmd: &clap::Command, globals: &[String], path: &str) {
            for a in cmd.get_arguments() {
                if !a.is_global_set() {
                    let id = a.get_id().to_string();
                    assert!(
                        !globals.contains(&id),
                        "{path}: `{id}` shadows a global option"
                    );
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, globals, &format!("{path} {}", sub.get_name()));
            }
        }
        walk(&Cli::command(), &globals, "haproxy-cli");
        let cli = Cli::try_parse_from(["haproxy-cli", "acl", "add", "blocked.acl", "10.0.0.1"])
            .expect("parses");
        assert_eq!(cli.pattern, None);
    }
}
