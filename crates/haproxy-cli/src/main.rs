//! `haproxy-cli`: the operator's tool for the HAProxy Runtime API, a thin
//! binary over `haproxy-admin`. Flags parse into [`args::Cli`]; each
//! subcommand is one function here; [`output`] prints in every format.
//!
//! Exit codes (as docs/cli.md's table and the end of `--help`,
//! [`config::ENV_HELP`]): 0 on success, 1 when an operation failed (one
//! line on stderr naming the socket and quoting HAProxy), `check` found
//! differences or a confirmation was declined, 2 on a usage error
//! (including an unknown column, an argument the command builder refuses,
//! and a write on several objects without `--yes` and no terminal to
//! confirm on), 3 on a partial success with `--allow-partial` (what was
//! missed is named on stderr), 4 when a `--wait` reached its deadline, 5
//! when a `--wait` was undone (what it waited on took traffic again).

use clap::CommandFactory;
use haproxy_admin::{
    Enable, EntryRef, Error, HAProxy, Health, MapRef, ObjectKind, Snapshot, State, Weight,
};
use haproxy_cli::{output, Failure};
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

mod args;
mod cert;
mod config;
mod exporter;
mod sets;
mod source;
mod top;
mod watch;

use args::{
    AclCmd, BackendCmd, CertCmd, Cli, Command, Format, FrontendCmd, GlobalCmd, HealthArg, MapCmd,
    RateLimitArg, ServerCmd, TableCmd,
};
use sets::Action;

type Result<T = ()> = std::result::Result<T, Failure>;

/// Skipped sockets warned of one by one; the rest are counted.
const SKIPPED_NAMED: usize = 5;

/// The exit code of a partial success (`--allow-partial`).
const EXIT_PARTIAL: u8 = 3;

/// Set when a result lacks some processes (`--allow-partial` only).
static PARTIAL: AtomicBool = AtomicBool::new(false);

/// Warns on stderr of each map entry that reads in several ways (its key
/// or value holds a blank and HAProxy prints both unescaped) and that no
/// lookup resolved: the table and CSV show it as HAProxy printed it, with
/// nothing to tell it from a plain entry; JSON marks it `ambiguous`.
fn note_ambiguous(format: Format, per: &[(haproxy_admin::ProcessId, Vec<haproxy_admin::Entry>)]) {
    if matches!(format, Format::Json | Format::Jsonl) {
        return;
    }
    let mut seen = std::collections::BTreeSet::new();
    for e in per.iter().flat_map(|(_, entries)| entries) {
        if e.ambiguous && seen.insert(e.key.as_str()) {
            haproxy_cli::note!(
                "haproxy-cli: warning: map entry `{}` is ambiguous: HAProxy prints key and \
                 value unescaped, and no lookup told where the key ends (shown as printed, \
                 not split; --format json marks it)",
                haproxy_cli::escape::control(&e.key)
            );
        }
    }
}

/// Names on stderr each process a result lacks, and makes the exit code
/// say so.
fn note_missing(missing: &[String]) {
    for m in missing {
        haproxy_cli::note!("haproxy-cli: partial: {}", one_line(m));
    }
    if !missing.is_empty() {
        PARTIAL.store(true, Ordering::Relaxed);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse_all();
    match run(&cli) {
        Ok(()) if PARTIAL.load(Ordering::Relaxed) => ExitCode::from(EXIT_PARTIAL),
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            haproxy_cli::note!("haproxy-cli: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::WaitTimeout(msg)) => {
            haproxy_cli::note!("haproxy-cli: {msg}");
            ExitCode::from(sets::EXIT_WAIT_TIMEOUT)
        }
        Err(Failure::Checked(msg)) => {
            haproxy_cli::note!("haproxy-cli: {msg}");
            ExitCode::FAILURE
        }
        // A closed pipe (`| head`): the reader has what it wanted.
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Io(msg)) => {
            haproxy_cli::note!("haproxy-cli: {msg}");
            ExitCode::FAILURE
        }
        Err(Failure::Admin(e @ Error::WaitUndone { .. })) => {
            haproxy_cli::note!("haproxy-cli: {e}");
            ExitCode::from(sets::EXIT_WAIT_UNDONE)
        }
        // An argument the command builder refused, or an entry id that
        // is not every process's, is a usage error: nothing was sent.
        Err(Failure::Admin(e @ (Error::Proto(_) | Error::EntryIdNotShared { .. }))) => {
            haproxy_cli::note!("haproxy-cli: {}", one_line(&e.to_string()));
            ExitCode::from(2)
        }
        Err(Failure::Admin(e)) => {
            haproxy_cli::note!("haproxy-cli: {}", one_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// The binary's name, as completions and the man page call it.
const BIN: &str = "haproxy-cli";

/// clap_complete's bash script for a name with a hyphen names each
/// subcommand's state `haproxy__subcmd__cli__subcmd__server` in one
/// place and `haproxy__cli__subcmd__server` in the other (clap issues
/// 6421, 6529), so nothing below the top level completed. One spelling
/// is made the other's.
fn fix_bash_completion(script: &[u8]) -> Vec<u8> {
    let wrong = BIN.replace('-', "__subcmd__");
    let right = BIN.replace('-', "__");
    String::from_utf8_lossy(script)
        .replace(&wrong, &right)
        .into_bytes()
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
        // Written whole into memory first: clap_complete panics on a
        // failed write, and `completions bash | head -1` closes the pipe.
        Command::Completions { shell } => {
            let mut text = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), BIN, &mut text);
            if *shell == clap_complete::Shell::Bash {
                text = fix_bash_completion(&text);
            }
            std::io::stdout().lock().write_all(&text)?;
            return Ok(());
        }
        Command::Man { command, all } => {
            if let Some(dir) = all {
                std::fs::create_dir_all(dir)
                    .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
                    .map_err(|e| Failure::Io(format!("man --all {}: {e}", dir.display())))?;
                return Ok(());
            }
            // Built as generate_to builds it, so that each page is named
            // as the main page's list of subcommands names it.
            let mut root = Cli::command().disable_help_subcommand(true);
            root.build();
            let mut page = &root;
            for word in command {
                page = page.find_subcommand(word).ok_or_else(|| {
                    let known: Vec<&str> = page.get_subcommands().map(|c| c.get_name()).collect();
                    Failure::Usage(format!(
                        "man: {:?} has no subcommand {word:?} (it has: {})",
                        page.get_display_name().unwrap_or(page.get_name()),
                        known.join(", ")
                    ))
                })?;
            }
            let mut text = Vec::new();
            clap_mangen::Man::new(page.clone()).render(&mut text)?;
            std::io::stdout().lock().write_all(&text)?;
            return Ok(());
        }
        // Usage errors before any socket is opened.
        Command::Top(a) => top::check(a)?,
        Command::Exporter(a) => return exporter::run(cli, a),
        Command::Cert(c) => return cert::run(cli, c),
        _ => {}
    }
    let hap = connect(cli)?;
    let out = &mut std::io::BufWriter::with_capacity(1 << 16, stdout_file());
    let format = cli.format;
    output::set_per_process(cli.per_process);
    match &cli.command {
        Command::Info => output::info(out, format, &complete_snapshot(&hap)?)?,
        Command::Metric { name } => {
            let snap = complete_snapshot(&hap)?;
            let value = snap.metric(name)?;
            if format == Format::Prometheus {
                output::prometheus_metric(out, &snap, name)?;
            } else {
                output::metric(out, format, name, &value)?;
            }
        }
        Command::Frontend(c) => frontend(out, cli, format, &hap, c)?,
        Command::Backend(c) => backend(out, format, &hap, c)?,
        Command::Server(c) => server(out, cli, format, &hap, c)?,
        Command::Map(c) => map(out, format, &hap, c)?,
        Command::Acl(c) => acl(out, format, &hap, c)?,
        Command::Table(c) => table(out, format, &hap, c)?,
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
        Command::Check => sets::check(out, format, &hap)?,
        Command::Completions { .. }
        | Command::Man { .. }
        | Command::Exporter(_)
        | Command::Cert(_) => {}
    }
    out.flush()?;
    Ok(())
}

/// Stdout, written as a file where it can be: a listing is written in
/// blocks of a quarter megabyte, which the standard handle (line-buffered)
/// would search for a newline as it passes them on.
fn stdout_file() -> Box<dyn Write> {
    use std::os::fd::AsFd;
    match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(std::io::stdout()),
    }
}

/// Builds the process set the global options name ([`source::source`]),
/// warning about sockets that were skipped.
fn connect(cli: &Cli) -> Result<HAProxy> {
    let hap = source::builder(cli)?.connect(&source::source(cli)?)?;
    // A directory of thousands of stale sockets: a few named, the rest
    // counted.
    let skipped = hap.skipped();
    for s in skipped.iter().take(SKIPPED_NAMED) {
        haproxy_cli::note!("haproxy-cli: warning: skipped {s}");
    }
    if skipped.len() > SKIPPED_NAMED {
        haproxy_cli::note!(
            "haproxy-cli: warning: skipped {} more sockets",
            skipped.len() - SKIPPED_NAMED
        );
    }
    let unreachable: Vec<String> = hap
        .unreachable()
        .iter()
        .map(|u| format!("not reached: {u}"))
        .collect();
    note_missing(&unreachable);
    // A master's old workers (draining after a reload) refuse writes and
    // hold the old configuration: writes go to the current workers.
    if is_write(&cli.command) {
        for p in hap.skipped_by_writes() {
            haproxy_cli::note!(
                "haproxy-cli: skipped old worker pid {} (draining after a reload): writes go to the current workers",
                p.id().pid
            );
        }
    }
    Ok(hap)
}

/// Whether `c` changes HAProxy (`raw` is sent as typed, to every process).
fn is_write(c: &Command) -> bool {
    match c {
        Command::Frontend(f) => !matches!(f, FrontendCmd::List(_) | FrontendCmd::Show { .. }),
        Command::Server(s) => !matches!(s, ServerCmd::List { .. } | ServerCmd::Show { .. }),
        Command::Map(m) => !matches!(m, MapCmd::List | MapCmd::Show { .. } | MapCmd::Get { .. }),
        Command::Acl(a) => !matches!(a, AclCmd::List | AclCmd::Show { .. } | AclCmd::Get { .. }),
        Command::Cert(c) => matches!(c, CertCmd::Update { .. }),
        Command::Table(t) => matches!(t, TableCmd::Set { .. } | TableCmd::Clear { .. }),
        Command::Global(g) => matches!(
            g,
            GlobalCmd::SetMaxconn { .. }
                | GlobalCmd::SetRateLimit { .. }
                | GlobalCmd::ClearCounters { .. }
        ),
        _ => false,
    }
}

/// A snapshot for reads: a process that failed makes the read fail
/// (never a short table presented as complete), unless `--allow-partial`,
/// where each process it lacks is named on stderr and the exit code is 3.
pub(crate) fn complete_snapshot(hap: &HAProxy) -> Result<Snapshot> {
    let snap = hap.snapshot()?;
    // Unreachable processes were named at discovery.
    let failed: Vec<String> = snap
        .failures()
        .iter()
        .map(|f| format!("failed: {f}"))
        .collect();
    note_missing(&failed);
    Ok(snap)
}

fn frontend(
    out: &mut impl Write,
    cli: &Cli,
    format: Format,
    hap: &HAProxy,
    c: &FrontendCmd,
) -> Result {
    match c {
        FrontendCmd::List(l) => list_objects(out, format, hap, ObjectKind::Frontend, l, &[])?,
        FrontendCmd::Show { name } => {
            let snap = complete_snapshot(hap)?;
            let obj = snap.frontend(name)?.stats();
            show_proxy(out, format, &snap, &obj)?;
        }
        FrontendCmd::Enable(t) => {
            sets::write(out, cli, hap, Action::Frontend(Enable::Enable), t, None)?
        }
        FrontendCmd::Disable { target, wait } => sets::write(
            out,
            cli,
            hap,
            Action::Frontend(Enable::Disable),
            target,
            Some(wait),
        )?,
        FrontendCmd::Shutdown(t) => sets::write(out, cli, hap, Action::ShutdownFrontend, t, None)?,
        FrontendCmd::SetMaxconn { target, maxconn } => {
            sets::write(out, cli, hap, Action::Maxconn(*maxconn), target, None)?
        }
    }
    Ok(())
}

/// `frontend show` and `backend show`: the proxy's object, or in
/// Prometheus its series.
fn show_proxy(
    out: &mut impl Write,
    format: Format,
    snap: &Snapshot,
    obj: &haproxy_admin::StatObject,
) -> Result {
    if format == Format::Prometheus {
        output::stream_objects(out, format, obj.kind(), snap, |o| o.proxy() == obj.proxy())?;
    } else {
        output::object(out, format, obj.kind(), obj)?;
    }
    Ok(())
}

fn backend(out: &mut impl Write, format: Format, hap: &HAProxy, c: &BackendCmd) -> Result {
    match c {
        BackendCmd::List(l) => list_objects(out, format, hap, ObjectKind::Backend, l, &[])?,
        BackendCmd::Show { name } => {
            let snap = complete_snapshot(hap)?;
            let obj = snap.backend(name)?.stats();
            show_proxy(out, format, &snap, &obj)?;
        }
    }
    Ok(())
}

/// `frontend|backend|server list`, once or with `--watch`: one snapshot
/// (every process, as any read), the `--backend` names checked against
/// it, then the listing the flags ask for. The watch prints its first
/// listing through the same writer ([`sets::listing`]).
fn list_objects(
    out: &mut impl Write,
    format: Format,
    hap: &HAProxy,
    kind: ObjectKind,
    l: &args::ListArgs,
    backends: &[String],
) -> Result {
    let keep = |o: &haproxy_admin::StatObject| {
        backends.is_empty() || backends.iter().any(|b| b == o.proxy())
    };
    let every = l.watch.watch.map(watch::interval).transpose()?;
    if every.is_some() && format == Format::Prometheus {
        // An exposition is read whole by a scraper; change lines after it
        // would make it invalid.
        return Err(Failure::Usage(
            "--watch does not apply to --format prometheus (serve the metrics with \
             `haproxy-cli exporter`)"
                .to_owned(),
        ));
    }

    let snap = complete_snapshot(hap)?;
    for b in backends {
        snap.backend(b)?;
    }
    match every {
        Some(every) => watch::run(out, format, hap, kind, l, every, snap, keep),
        // Kept by name only: JSON is written straight from the snapshot.
        None if sets::is_plain(l, format) => {
            output::stream_objects_by_name(out, format, kind, &snap, |px, _| {
                backends.is_empty() || backends.iter().any(|b| b == px)
            })
        }
        None => sets::listing(out, format, kind, &snap, l, keep),
    }
}

/// Splits `BACKEND/SERVER`.
pub(crate) fn split_server(s: &str) -> Result<(&str, &str)> {
    match s.split_once('/') {
        Some((b, srv)) if !b.is_empty() && !srv.is_empty() && !srv.contains('/') => Ok((b, srv)),
        _ => Err(Failure::Usage(format!(
            "expected BACKEND/SERVER, got {s:?}"
        ))),
    }
}

fn server(out: &mut impl Write, cli: &Cli, format: Format, hap: &HAProxy, c: &ServerCmd) -> Result {
    match c {
        ServerCmd::List { backends, list } => {
            list_objects(out, format, hap, ObjectKind::Server, list, backends)?
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
        ServerCmd::Enable(t) => {
            sets::write(out, cli, hap, Action::Server(Enable::Enable), t, None)?
        }
        ServerCmd::Disable(t) => {
            sets::write(out, cli, hap, Action::Server(Enable::Disable), t, None)?
        }
        ServerCmd::Ready(t) => sets::write(out, cli, hap, Action::State(State::Ready), t, None)?,
        ServerCmd::Drain { target, wait } => sets::write(
            out,
            cli,
            hap,
            Action::State(State::Drain),
            target,
            Some(wait),
        )?,
        ServerCmd::Maint { target, wait } => sets::write(
            out,
            cli,
            hap,
            Action::State(State::Maint),
            target,
            Some(wait),
        )?,
        ServerCmd::SetWeight {
            target,
            weight,
            allow_zero,
        } => {
            let w = parse_weight(weight)?;
            let action = match w {
                Weight::Percent(p) => Action::Percent(p, *allow_zero),
                w => Action::Weight(w),
            };
            sets::write(out, cli, hap, action, target, None)?;
        }
        ServerCmd::SetAddr { server, addr, port } => {
            let (b, s) = split_server(server)?;
            let set =
                haproxy_admin::Command::set_server_addr(b, s, addr, *port).map_err(Error::from)?;
            hap.run(&set)?;
        }
        ServerCmd::SetHealth { target, state } => {
            sets::write(out, cli, hap, Action::Health(health(*state)), target, None)?
        }
        ServerCmd::SetAgent { target, state } => {
            sets::write(out, cli, hap, Action::Agent(health(*state)), target, None)?
        }
        ServerCmd::ShutdownSessions(t) => {
            sets::write(out, cli, hap, Action::ShutdownSessions, t, None)?
        }
        ServerCmd::Add(a) => sets::add(out, hap, a)?,
        ServerCmd::Del(d) => sets::del(cli, hap, d)?,
    }
    Ok(())
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
    s.parse()
        .map_err(|e: haproxy_admin::InvalidWeight| Failure::Usage(e.to_string()))
}

fn map(out: &mut impl Write, format: Format, hap: &HAProxy, c: &MapCmd) -> Result {
    match c {
        MapCmd::List => output::lists(out, format, &hap.maps()?)?,
        MapCmd::Show { map } => {
            let per = hap.map_entries(map_ref(map)?)?;
            output::entries(out, format, &per)?;
            note_ambiguous(format, &per);
        }
        MapCmd::Get { map, key } => {
            output::lookups(out, format, &hap.get_map(map_ref(map)?, key)?)?
        }
        MapCmd::Add { map, key, value } => hap.add_map(map_ref(map)?, key, value)?,
        MapCmd::Set { map, key, value } => {
            hap.set_map(map_ref(map)?, EntryRef::parse(key), value)?
        }
        MapCmd::Del { map, key } => hap.del_map(map_ref(map)?, EntryRef::parse(key))?,
        MapCmd::Clear { map } => hap.clear_map(map_ref(map)?)?,
        MapCmd::Replace {
            map,
            file,
            allow_empty,
        } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(file)
                    .map_err(|e| Failure::Io(format!("cannot read {}: {e}", file.display())))?
            };
            let entries = map_file_entries(&text, &file.display().to_string())?;
            if entries.is_empty() && !allow_empty {
                return Err(Failure::Usage(format!(
                    "{} has no `key value` line: refusing to empty map {map} on every                      process (--allow-empty to mean it); nothing sent",
                    file.display()
                )));
            }
            hap.replace_map(map_ref(map)?, &entries)?;
        }
    }
    Ok(())
}

/// A map or ACL named on the command line: `#id`, `id` or a file; a
/// negative id is refused as the library refuses it.
fn map_ref(s: &str) -> Result<MapRef<'_>> {
    MapRef::parse(s).map_err(|e| Error::from(e).into())
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
        AclCmd::Show { acl } => output::entries(out, format, &hap.acl_entries(map_ref(acl)?)?)?,
        AclCmd::Get { acl, value } => {
            output::lookups(out, format, &hap.get_acl(map_ref(acl)?, value)?)?
        }
        AclCmd::Add { acl, entry } => hap.add_acl(map_ref(acl)?, entry)?,
        AclCmd::Del { acl, key } => hap.del_acl(map_ref(acl)?, EntryRef::parse(key))?,
        AclCmd::Clear { acl } => hap.clear_acl(map_ref(acl)?)?,
    }
    Ok(())
}

fn table(out: &mut impl Write, format: Format, hap: &HAProxy, c: &TableCmd) -> Result {
    match c {
        TableCmd::List => output::tables(out, format, &hap.tables()?)?,
        TableCmd::Show { table, key } => {
            let per = hap.table_entries(table, key.as_deref())?;
            output::table_entries(out, format, &haproxy_admin::combine_entries(&per))?;
        }
        TableCmd::Set { table, key, data } => {
            let mut pairs = Vec::with_capacity(data.len());
            for d in data {
                let parsed = d
                    .strip_prefix("data.")
                    .and_then(|d| d.split_once('='))
                    .and_then(|(t, v)| v.parse::<u64>().ok().map(|v| (t, v)));
                match parsed {
                    Some(p) => pairs.push(p),
                    None => {
                        return Err(Failure::Usage(format!(
                        "expected data.TYPE=VALUE with a number as VALUE (data.gpc0=5), got {d:?}"
                    )))
                    }
                }
            }
            hap.set_table_entry(table, key, &pairs)?;
        }
        TableCmd::Clear { table, key, .. } => hap.clear_table(table, key.as_deref())?,
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
    use clap::Parser;

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
    fn every_global_option_has_an_environment_variable_listed_in_the_help() {
        let cmd = Cli::command();
        // `-o` is `--format` under another name: HAPROXY_CLI_FORMAT is its
        // variable.
        let globals: Vec<&clap::Arg> = cmd
            .get_arguments()
            .filter(|a| a.is_global_set() && a.get_long() != Some("output"))
            .collect();
        assert!(globals.len() >= 13, "{}", globals.len());
        for a in globals {
            let long = a.get_long().unwrap_or_default();
            let env = a
                .get_env()
                .and_then(|e| e.to_str())
                .unwrap_or_else(|| panic!("--{long} has no environment variable"));
            assert_eq!(
                env,
                format!("HAPROXY_CLI_{}", long.replace('-', "_").to_uppercase()),
                "--{long}"
            );
            let line = config::ENV_HELP
                .lines()
                .find(|l| l.split_whitespace().next() == Some(env))
                .unwrap_or_else(|| panic!("{env} is not in the help's Environment list"));
            assert!(line.contains(&format!("--{long}")), "{line}");
        }
    }

    #[test]
    fn the_help_fits_60_columns_and_lists_every_exit_code() {
        let help = Cli::command().term_width(60).render_long_help().to_string();
        for l in help.lines() {
            assert!(l.chars().count() <= 60, "wider than 60 columns: {l:?}");
        }
        let codes = help.split("Exit codes:").nth(1).expect("an exit code list");
        for code in 0..=5 {
            assert!(
                codes.lines().any(|l| l.starts_with(&format!("  {code}  "))),
                "exit code {code} missing: {codes}"
            );
        }
        assert_eq!(help.matches("Exit codes").count(), 1, "one list: {help}");
    }

    #[test]
    fn every_duration_option_takes_a_unit() {
        let parse = |args: &[&str]| {
            let mut all = vec!["haproxy-cli"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all).unwrap_or_else(|e| panic!("{args:?}: {e}"))
        };
        let cli = parse(&[
            "--timeout",
            "2m",
            "--retry-interval",
            "250ms",
            "--probe-timeout",
            "500ms",
            "server",
            "list",
            "--watch",
            "1.5s",
        ]);
        assert_eq!(cli.timeout, 120.0);
        assert_eq!(cli.retry_interval, 0.25);
        assert_eq!(cli.probe_timeout, Some(0.5));
        match cli.command {
            Command::Server(ServerCmd::List { list, .. }) => {
                assert_eq!(list.watch.watch, Some(1.5))
            }
            c => panic!("{c:?}"),
        }
        // Plain numbers stay seconds.
        assert_eq!(
            parse(&["--probe-timeout", "3", "info"]).probe_timeout,
            Some(3.0)
        );
        match parse(&["top", "--interval", "500ms"]).command {
            Command::Top(t) => assert_eq!(t.interval, 0.5),
            c => panic!("{c:?}"),
        }
        match parse(&[
            "exporter",
            "--listen",
            "127.0.0.1:1",
            "--max-age",
            "2m",
            "--scrape-timeout",
            "500ms",
        ])
        .command
        {
            Command::Exporter(e) => {
                assert_eq!((e.max_age, e.scrape_timeout), (120.0, 0.5));
            }
            c => panic!("{c:?}"),
        }
        for bad in [
            &["--probe-timeout", "5x", "info"][..],
            &["top", "--interval", "soon"],
            &["server", "list", "--watch", "1 parsec"],
        ] {
            let mut all = vec!["haproxy-cli"];
            all.extend_from_slice(bad);
            let e = Cli::try_parse_from(all).expect_err("a bad duration");
            assert_eq!(e.exit_code(), 2, "{bad:?}");
        }
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
