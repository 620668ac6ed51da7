//! Acting on sets: the selection flags of listings and writes, sorted and
//! column-chosen listings, writes on many objects with a preview and a
//! confirmation (or `--dry-run`), waiting for sessions to end, dynamic
//! servers, and the fleet consistency `check`.
//!
//! The matching, sorting, waiting and comparing are the library's
//! ([`haproxy_admin::Selection`], [`haproxy_admin::sort_objects`],
//! [`HAProxy::wait_sessions`], [`HAProxy::differences`]); this module turns
//! flags into them and prints.

use crate::args::{AddArgs, Cli, DelArgs, Filters, Format, ListArgs, Target, WaitArgs};
use crate::{output, Failure};
use haproxy_admin::{
    display_name, sort_objects, Command, Enable, HAProxy, Health, NamePattern, ObjectKind,
    ObjectRef, Predicate, Selection, SessionsLeft, Snapshot, SortKey, StatObject, State, Weight,
};
use haproxy_proto::field::is_separator;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

type Result<T = ()> = std::result::Result<T, Failure>;

/// Objects listed one per line in a write's preview; the rest are
/// counted.
const PREVIEW_LINES: usize = 20;

/// The exit code of a `--wait` that reached its deadline.
pub const EXIT_WAIT_TIMEOUT: u8 = 4;

/// The exit code of a `--wait` that was undone: a drained or disabled
/// object took new traffic again while it was waited for.
pub const EXIT_WAIT_UNDONE: u8 = 5;

// ---- selection ------------------------------------------------------------

fn usage(e: haproxy_admin::Error) -> Failure {
    Failure::Usage(e.to_string())
}

/// The library selection the flags describe.
pub(crate) fn selection(patterns: &[String], f: &Filters) -> Result<Selection> {
    let mut sel = Selection::new();
    for p in patterns {
        sel = sel.pattern(p.parse::<NamePattern>().map_err(usage)?);
    }
    for s in &f.status {
        sel = sel.status(s);
    }
    for w in &f.wheres {
        sel = sel.predicate(w.parse::<Predicate>().map_err(usage)?);
    }
    if f.disagreeing {
        sel = sel.disagreeing();
    }
    Ok(sel)
}

/// Whether a listing needs more than the plain historical output.
pub(crate) fn is_plain(l: &ListArgs, format: Format) -> bool {
    l.patterns.is_empty()
        && l.filters.status.is_empty()
        && l.filters.wheres.is_empty()
        && !l.filters.disagreeing
        && l.sort.is_none()
        && l.columns.is_empty()
        && !l.wide
        && !l.no_header
        && format != Format::Jsonl
}

/// Checks that `c`, named by `flag`, is a column of the snapshot (or
/// `name`, `backend`, `proxy`).
fn known_column(snap: &Snapshot, flag: &str, c: &str) -> Result {
    if matches!(c, "name" | "backend" | "proxy") || snap.columns().iter().any(|x| &**x == c) {
        Ok(())
    } else {
        Err(unknown_column(snap, flag, c))
    }
}

/// A column the processes do not report, named by `flag`: a usage error
/// (exit 2) that lists the columns there are.
fn unknown_column(snap: &Snapshot, flag: &str, c: &str) -> Failure {
    // HAProxy 2.6 has a column named `-` between the aggregates and the
    // modules' columns: not a name anyone types.
    let known: Vec<&str> = ["name", "backend", "proxy"]
        .into_iter()
        .chain(snap.columns().iter().map(|x| &**x))
        .filter(|c| !is_separator(c))
        .collect();

    Failure::Usage(format!(
        "unknown column `{c}` in {flag}; the columns are: {}",
        known.join(", ")
    ))
}

/// The selected objects of `kind`, sorted.
fn select(
    snap: &Snapshot,
    kind: ObjectKind,
    sel: &Selection,
    sort: Option<&str>,
) -> Result<Vec<StatObject>> {
    sel.check_columns(snap.columns()).map_err(|e| match e {
        haproxy_admin::Error::NoSuchField { name, .. } => unknown_column(snap, "--where", &name),
        e => Failure::Admin(e),
    })?;
    let mut list: Vec<StatObject> = snap
        .stat_objects(kind)
        .into_iter()
        .filter(|o| sel.matches(o))
        .collect();
    if let Some(s) = sort {
        let keys = SortKey::parse_list(s).map_err(usage)?;
        for k in &keys {
            known_column(snap, "--sort", &k.field)?;
        }
        sort_objects(&mut list, &keys);
    }
    Ok(list)
}

/// `frontend|backend|server list` as the flags ask, the objects `extra`
/// also accepts: the plain listing (streamed) when no listing flag is
/// given, else [`list`]. The one writer of listings, with or without
/// `--watch`.
pub(crate) fn listing(
    out: &mut impl Write,
    format: Format,
    kind: ObjectKind,
    snap: &Snapshot,
    l: &ListArgs,
    extra: impl Fn(&StatObject) -> bool,
) -> Result {
    if is_plain(l, format) {
        output::stream_objects(out, format, kind, snap, extra)
    } else {
        list(out, format, kind, snap, l, extra)
    }
}

/// A listing with selection, sort, columns, header choice or JSON lines.
fn list(
    out: &mut impl Write,
    format: Format,
    kind: ObjectKind,
    snap: &Snapshot,
    l: &ListArgs,
    extra: impl Fn(&StatObject) -> bool,
) -> Result {
    let sel = selection(&l.patterns, &l.filters)?;
    let mut list = select(snap, kind, &sel, l.sort.as_deref())?;
    list.retain(|o| extra(o));
    for c in &l.columns {
        known_column(snap, "--columns", c)?;
    }
    if format == Format::Prometheus {
        // The exposition has its own names and order: the selection
        // applies, the table's flags do not.
        let table_flags = [
            (l.sort.is_some(), "--sort"),
            (!l.columns.is_empty(), "--columns"),
            (l.wide, "-o wide"),
            (l.no_header, "--no-header"),
        ];
        if let Some((_, flag)) = table_flags.iter().find(|(given, _)| *given) {
            return Err(Failure::Usage(format!(
                "{flag} does not apply to --format prometheus"
            )));
        }
        let kept: std::collections::HashSet<(&str, &str)> =
            list.iter().map(|o| (o.proxy(), o.name())).collect();
        return output::stream_objects(out, format, kind, snap, |o| {
            kept.contains(&(o.proxy(), o.name()))
        });
    }

    let server = matches!(kind, ObjectKind::Server | ObjectKind::Listener);
    let cols: Vec<String> = if !l.columns.is_empty() {
        l.columns
            .iter()
            .filter(|c| !matches!(c.as_str(), "name" | "backend" | "proxy"))
            .cloned()
            .collect()
    } else if l.wide || !matches!(format, Format::Table) {
        snap.columns()
            .iter()
            .filter(|c| !matches!(&***c, "pxname" | "svname") && !is_separator(c))
            .map(|c| c.to_string())
            .collect()
    } else {
        output::table_columns(kind)
            .iter()
            .map(|c| (*c).to_owned())
            .collect()
    };
    // An object only some processes have is marked in every form, as in
    // the plain listing: `name [1/2]` in a table, a `processes` column in
    // CSV, a `processes` key in JSON.
    let partial = list.iter().any(StatObject::is_partial);
    let mut header: Vec<&str> = Vec::new();
    if server {
        header.push("backend");
    }
    header.push("name");
    header.extend(cols.iter().map(String::as_str));
    let row = |o: &StatObject, table: bool| -> Vec<String> {
        let mut r = Vec::with_capacity(header.len() + 1);
        if server {
            r.push(o.proxy().to_owned());
        }
        r.push(if table {
            output::table_name(o)
        } else {
            display_name(o).to_owned()
        });
        r.extend(cols.iter().map(|c| output::cell(o.get(c))));
        if partial && !table {
            r.push(o.processes().to_string());
        }
        r
    };
    match format {
        Format::Table => {
            let rows: Vec<Vec<String>> = list.iter().map(|o| row(o, true)).collect();
            output::table_rows(out, (!l.no_header).then_some(&header[..]), &rows)?;
        }
        Format::Csv => {
            if !l.no_header {
                let extra = partial.then_some("processes");
                output::csv_row(out, header.iter().copied().chain(extra))?;
            }
            for o in &list {
                let r = row(o, false);
                output::csv_row(out, r.iter().map(String::as_str))?;
            }
        }
        Format::Json | Format::Jsonl => {
            let row = |o| Chosen {
                o,
                server,
                cols: &cols,
            };
            if format == Format::Jsonl {
                for o in &list {
                    serde_json::to_writer(&mut *out, &row(o)).map_err(json_err)?;
                    writeln!(out)?;
                }
            } else {
                let all: Vec<Chosen<'_>> = list.iter().map(row).collect();
                serde_json::to_writer(&mut *out, &all).map_err(json_err)?;
                writeln!(out)?;
            }
        }
        // Written above, from the snapshot.
        Format::Prometheus => {}
    }
    Ok(())
}

/// An object as JSON with the chosen columns: `name`, `backend` (servers),
/// then the columns in the order asked.
struct Chosen<'a> {
    o: &'a StatObject,
    server: bool,
    cols: &'a [String],
}

impl serde::Serialize for Chosen<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", display_name(self.o))?;
        if self.server {
            m.serialize_entry("backend", self.o.proxy())?;
        }
        for c in self.cols {
            m.serialize_entry(c, &self.o.get(c))?;
        }
        // As the plain listing: how many processes have it, when only
        // some do.
        if self.o.is_partial() {
            m.serialize_entry("processes", &self.o.processes())?;
        }
        m.end()
    }
}

fn json_err(e: serde_json::Error) -> Failure {
    Failure::json(e)
}

// ---- writes -----------------------------------------------------------------

/// A change to a server or frontend.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Action {
    /// `enable server` / `disable server`.
    Server(Enable),
    /// `set server … state`.
    State(State),
    /// `set weight`.
    Weight(Weight),
    /// `set server … health`.
    Health(Health),
    /// `set server … agent`.
    Agent(Health),
    /// `shutdown sessions server`.
    ShutdownSessions,
    /// `enable frontend` / `disable frontend`.
    Frontend(Enable),
    /// `shutdown frontend`.
    ShutdownFrontend,
    /// `set maxconn frontend`.
    Maxconn(u32),
    /// `set weight N%`: N% of each process's configured weight; whether a
    /// nonzero weight may become 0.
    Percent(u16, bool),
}

impl Action {
    fn kind(self) -> ObjectKind {
        match self {
            Action::Frontend(_) | Action::ShutdownFrontend | Action::Maxconn(_) => {
                ObjectKind::Frontend
            }
            _ => ObjectKind::Server,
        }
    }

    /// What the preview says will change, from the object's current state.
    fn describe(self, o: &StatObject) -> String {
        let now = |c: &str| output::cell(o.get(c));
        match self {
            Action::Server(Enable::Enable) => format!("status {} -> enabled", now("status")),
            Action::Server(Enable::Disable) => format!("status {} -> MAINT", now("status")),
            Action::State(s) => format!(
                "status {} -> {}",
                now("status"),
                s.as_str().to_ascii_uppercase()
            ),
            Action::Weight(w) => format!("weight {} -> {}", now("weight"), weight_word(w)),
            Action::Percent(p, _) => {
                format!("weight {} -> {p}% of its configured weight", now("weight"))
            }
            Action::Health(h) => {
                format!("check {} -> forced {}", now("check_status"), h.as_str())
            }
            Action::Agent(h) => format!("agent -> forced {}", h.as_str()),
            Action::ShutdownSessions => format!("{} sessions closed", now("scur")),
            Action::Frontend(Enable::Enable) => format!("status {} -> OPEN", now("status")),
            Action::Frontend(Enable::Disable) => format!("status {} -> disabled", now("status")),
            Action::ShutdownFrontend => "shut down (until a reload)".to_owned(),
            Action::Maxconn(n) => format!("maxconn {} -> {n}", now("slim")),
        }
    }

    /// The command that makes the change on `o`: one builder, whether
    /// it is printed (a dry run) or sent.
    fn command(self, o: &ObjectRef) -> haproxy_admin::Result<Command> {
        let (px, sv) = (o.proxy.as_str(), o.name.as_str());
        Ok(match self {
            Action::Server(e) => e.server(px, sv)?,
            Action::State(s) => Command::set_server_state(px, sv, s)?,
            Action::Weight(w) => w.command(px, sv)?,
            Action::Percent(p, _) => Weight::Percent(p).command(px, sv)?,
            Action::Health(h) => Command::set_server_health(px, sv, h)?,
            Action::Agent(h) => Command::set_server_agent(px, sv, h)?,
            Action::ShutdownSessions => Command::shutdown_sessions_server(px, sv)?,
            Action::Frontend(e) => e.frontend(px)?,
            Action::ShutdownFrontend => Command::shutdown_frontend(px)?,
            Action::Maxconn(n) => Command::set_maxconn_frontend(px, n)?,
        })
    }
}

fn weight_word(w: Weight) -> String {
    match w {
        Weight::Absolute(n) => n.to_string(),
        Weight::Percent(p) => format!("{p}%"),
    }
}

/// The objects a write's target names. A single literal name without
/// filters is taken as is, without reading the stats (HAProxy says when
/// it does not exist), as a write of one object always was.
fn resolve(
    hap: &HAProxy,
    kind: ObjectKind,
    t: &Target,
) -> Result<(Vec<ObjectRef>, Option<Vec<StatObject>>)> {
    let sel = selection(&t.patterns, &t.filters)?;
    if let Some((proxy, server)) = sel.single_literal() {
        let one = match (kind, server) {
            (ObjectKind::Server, Some(s)) => Some(ObjectRef {
                kind,
                proxy: proxy.to_owned(),
                name: s.to_owned(),
            }),
            (ObjectKind::Frontend, None) => Some(ObjectRef {
                kind,
                proxy: proxy.to_owned(),
                name: "FRONTEND".to_owned(),
            }),
            _ => None,
        };
        if let Some(one) = one {
            return Ok((vec![one], None));
        }
    }
    if kind == ObjectKind::Frontend && t.patterns.iter().any(|p| p.contains('/')) {
        return Err(Failure::Usage(format!(
            "frontend patterns are names, not BACKEND/SERVER: {:?}",
            t.patterns
        )));
    }
    let snap = crate::complete_snapshot(hap)?;
    let list = select(&snap, kind, &sel, None)?;
    if list.is_empty() {
        return Err(Failure::Admin(haproxy_admin::Error::NotFound {
            kind: if kind == ObjectKind::Frontend {
                "frontend"
            } else {
                "server"
            },
            name: t.patterns.join(" "),
        }));
    }
    Ok((list.iter().map(ObjectRef::of).collect(), Some(list)))
}

fn noun(kind: ObjectKind, n: usize) -> String {
    let w = if kind == ObjectKind::Frontend {
        "frontend"
    } else {
        "server"
    };
    if n == 1 {
        format!("1 {w}")
    } else {
        format!("{n} {w}s")
    }
}

/// A dry run: the exact bytes each process would receive, the commands'
/// own lines (and payloads), as they are sent.
pub(crate) fn print_plan<'c>(
    out: &mut impl Write,
    hap: &HAProxy,
    commands: impl IntoIterator<Item = &'c Command> + Clone,
) -> Result {
    for p in hap.processes() {
        writeln!(out, "# pid {} ({})", p.id().pid, p.endpoint())?;
        for c in commands.clone() {
            writeln!(out, "{}", c.line())?;
            if let Some(payload) = c.payload() {
                if c.verb() == "set ssl cert" {
                    write_without_key(out, payload)?;
                } else {
                    writeln!(out, "{payload}")?;
                }
            }
        }
    }
    Ok(())
}

/// A certificate payload as sent, but for the private key's base64 lines
/// (a dry run's output ends up in logs and terminals).
fn write_without_key(out: &mut impl Write, payload: &str) -> Result {
    let mut in_key = false;
    let mut hidden = 0;
    for line in payload.lines() {
        if line.starts_with("-----END ") && in_key {
            writeln!(out, "({hidden} lines of the private key, not shown)")?;
            in_key = false;
        }
        if in_key {
            hidden += 1;
            continue;
        }
        writeln!(out, "{line}")?;
        in_key = line.starts_with("-----BEGIN ") && line.ends_with("PRIVATE KEY-----");
        hidden = 0;
    }
    writeln!(out)?;
    Ok(())
}

/// Asks on the terminal; `false` unless the answer is yes.
fn confirm(question: &str) -> Result<bool> {
    let mut err = std::io::stderr().lock();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Applies `action` to the objects `t` selects on every process, over one
/// pipelined session per process, with the preview, confirmation and dry
/// run of a set write; then waits when `wait` asks.
pub(crate) fn write(
    out: &mut impl Write,
    cli: &Cli,
    hap: &HAProxy,
    action: Action,
    t: &Target,
    wait: Option<&WaitArgs>,
) -> Result {
    let kind = action.kind();
    let (objects, stats) = resolve(hap, kind, t)?;
    let procs = hap.processes().len();
    let set = stats.is_some() && objects.len() > 1;
    if let Some(list) = stats.as_ref().filter(|_| set || t.dry_run) {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "will change {} on {procs} processes:",
            noun(kind, objects.len())
        )?;
        // A percentage's outcome is read from HAProxy (below).
        for o in list
            .iter()
            .take(PREVIEW_LINES)
            .filter(|_| !matches!(action, Action::Percent(..)))
        {
            writeln!(err, "  {}  {}", ObjectRef::of(o), action.describe(o))?;
        }
        if let Action::Percent(p, allow_zero) = action {
            percent_preview(hap, &objects, p, allow_zero, true)?;
        }
        if list.len() > PREVIEW_LINES {
            writeln!(
                err,
                "  … and {} more (--dry-run lists every command)",
                list.len() - PREVIEW_LINES
            )?;
        }
    }
    match action {
        Action::Percent(p, allow_zero) if !(set || t.dry_run) || stats.is_none() => {
            percent_preview(hap, &objects, p, allow_zero, false)?;
        }
        _ => {}
    }
    let mut batch = hap.batch();
    for o in &objects {
        batch.push(action.command(o)?);
    }
    if t.dry_run {
        return print_plan(out, hap, batch.commands());
    }
    if set && !t.yes {
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Err(Failure::Usage(format!(
                "refusing to change {} without confirmation: no terminal to ask on; pass --yes",
                noun(kind, objects.len())
            )));
        }
        if !confirm(&format!("change {}?", noun(kind, objects.len())))? {
            return Err(Failure::Io("nothing changed (not confirmed)".to_owned()));
        }
    }
    let report = batch.run()?;
    if set {
        haproxy_cli::note!(
            "changed {} on {} processes",
            noun(kind, objects.len()),
            report.len()
        );
    }
    if let Some(w) = wait.filter(|w| w.wait) {
        wait_sessions(cli, hap, &objects, w.until_sessions)?;
    }
    Ok(())
}

/// What `set weight P%` will set, read before anything is sent: HAProxy
/// takes P% of each process's configured weight (`get weight`'s
/// "initial"), rounded down, at most 256. A nonzero weight that this
/// rounds to 0 takes the server out of the rotation: refused (usage,
/// nothing sent) unless `allow_zero`. With `show`, each object's outcome
/// is printed (`weight 1 -> 0 (50% of 1)`).
fn percent_preview(
    hap: &HAProxy,
    objects: &[ObjectRef],
    p: u16,
    allow_zero: bool,
    show: bool,
) -> Result {
    let mut batch = hap.batch();
    for o in objects {
        batch.push(Command::get_weight(&o.proxy, &o.name).map_err(haproxy_admin::Error::from)?);
    }
    let replies = batch.run()?;
    let mut zeroed = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let mut outcomes: Vec<(u32, u32, u32)> = Vec::new();
        for (pid, r) in &replies {
            let reply = r.get(i).map_or("", String::as_str);
            let (now, initial) = haproxy_proto::reply::parse_weight(reply).ok_or_else(|| {
                Failure::Io(format!(
                    "get weight {o} on pid {}: unexpected reply {reply:?}",
                    pid.pid
                ))
            })?;
            let new = (u64::from(initial) * u64::from(p) / 100).min(256) as u32;
            if !outcomes.contains(&(now, new, initial)) {
                outcomes.push((now, new, initial));
            }
        }
        if outcomes
            .iter()
            .any(|&(_, new, initial)| new == 0 && initial > 0)
        {
            zeroed.push(o.to_string());
        }
        if show && i < PREVIEW_LINES {
            let words: Vec<String> = outcomes
                .iter()
                .map(|(now, new, initial)| format!("weight {now} -> {new} ({p}% of {initial})"))
                .collect();
            haproxy_cli::note!("  {o}  {}", words.join("; "));
        }
    }
    if !zeroed.is_empty() && !allow_zero {
        return Err(Failure::Usage(format!(
            "{p}% rounds the weight of {} down to 0, which takes it out of the rotation; \
             pass --allow-zero if that is meant (nothing was changed)",
            zeroed.join(", ")
        )));
    }
    Ok(())
}

/// Waits until every object has at most `max` sessions on every process:
/// a progress line redrawn in place on a terminal, a line per change
/// otherwise; [`Failure::WaitTimeout`] at the deadline (global
/// `--timeout`).
pub(crate) fn wait_sessions(cli: &Cli, hap: &HAProxy, objects: &[ObjectRef], max: u64) -> Result {
    let deadline = Duration::from_secs_f64(cli.timeout);
    let tty = std::io::stderr().is_terminal();
    let start = std::time::Instant::now();
    let mut last = String::new();
    let line = |left: &[SessionsLeft]| -> String {
        let parts: Vec<String> = left
            .iter()
            .map(|l| format!("{} {}", l.object, l.total()))
            .collect();
        format!("sessions left: {}", parts.join(", "))
    };
    let left = hap.wait_sessions(objects, max, deadline, Duration::from_millis(250), |left| {
        if left.is_empty() {
            return;
        }
        let text = line(left);
        if tty {
            haproxy_cli::note_inline!("\r\x1b[K{text}  ({:.0}s)", start.elapsed().as_secs_f64());
        } else if text != last {
            haproxy_cli::note!("{text}");
        }
        last = text;
    })?;
    if tty && !last.is_empty() {
        haproxy_cli::note!();
    }
    if left.is_empty() {
        let what = if objects.len() == 1 {
            objects[0].to_string()
        } else {
            format!("{} objects", objects.len())
        };
        let sessions = if max == 0 {
            "no sessions".to_owned()
        } else {
            format!("at most {max} sessions")
        };
        haproxy_cli::note!(
            "done: {sessions} left on {what}, on every process ({:.1}s)",
            start.elapsed().as_secs_f64()
        );
        Ok(())
    } else {
        let detail: Vec<String> = left
            .iter()
            .map(|l| {
                let per: Vec<String> = l
                    .per_process
                    .iter()
                    .map(|(p, n)| format!("pid {}: {n}", p.pid))
                    .collect();
                format!("{} ({})", l.object, per.join(", "))
            })
            .collect();
        Err(Failure::WaitTimeout(format!(
            "timed out after {:?} waiting for at most {max} sessions: {}",
            deadline,
            detail.join("; ")
        )))
    }
}

// ---- dynamic servers --------------------------------------------------------

/// `server add`: `add server` on every process, read back; then, in one
/// batch per process, `enable health` with `--check` (HAProxy starts a
/// dynamic server's checks stopped) and `enable server` unless
/// `--maint` (it adds dynamic servers in maintenance).
pub(crate) fn add(out: &mut impl Write, hap: &HAProxy, a: &AddArgs) -> Result {
    let (b, s) = crate::split_server(&a.server)?;
    let mut opts: Vec<String> = Vec::new();
    if let Some(w) = a.weight {
        if w > 256 {
            return Err(Failure::Usage(format!("--weight must be 0-256, not {w}")));
        }
        opts.push("weight".into());
        opts.push(w.to_string());
    }
    if a.check {
        opts.push("check".into());
    }
    let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
    // Built (and its address checked) before anything is printed or
    // sent: the dry run prints this very command.
    let add_cmd =
        Command::add_server(b, s, &a.address, &opts).map_err(haproxy_admin::Error::from)?;
    let mut then = hap.batch();
    if a.check {
        then.push(
            Enable::Enable
                .health(b, s)
                .map_err(haproxy_admin::Error::from)?,
        );
    }
    if !a.maint {
        then.push(
            Enable::Enable
                .server(b, s)
                .map_err(haproxy_admin::Error::from)?,
        );
    }
    if a.dry_run {
        return print_plan(out, hap, std::iter::once(&add_cmd).chain(then.commands()));
    }
    hap.run(&add_cmd)?;
    let on = present_on(hap, b, s)?;
    if on.len() != hap.processes().len() {
        return Err(Failure::Io(format!(
            "{b}/{s} was added on {} of {} processes only",
            on.len(),
            hap.processes().len()
        )));
    }
    let procs = hap.processes().len();
    if !then.is_empty() {
        let what: Vec<String> = then.commands().iter().map(|c| format!("`{c}`")).collect();
        if let Err(e) = then.run() {
            return Err(Failure::Io(format!(
                "{b}/{s} was added on {procs} processes, but {} failed: {}",
                what.join(" then "),
                crate::one_line(&e.to_string())
            )));
        }
    }
    let mut notes = Vec::new();
    if a.check {
        notes.push("checks enabled");
    }
    if a.maint {
        notes.push("in maintenance");
    }
    haproxy_cli::note!(
        "added {b}/{s} on {procs} processes{}",
        if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        }
    );
    Ok(())
}

/// `server del`: optionally maintenance, wait for no sessions, then `del
/// server` on every process.
pub(crate) fn del(cli: &Cli, hap: &HAProxy, d: &DelArgs) -> Result {
    let (b, s) = crate::split_server(&d.server)?;
    if d.drain_first {
        hap.run(
            &Command::set_server_state(b, s, State::Maint).map_err(haproxy_admin::Error::from)?,
        )?;
        let one = ObjectRef {
            kind: ObjectKind::Server,
            proxy: b.to_owned(),
            name: s.to_owned(),
        };
        wait_sessions(cli, hap, &[one], 0)?;
    }
    hap.del_server(b, s)?;
    let left = present_on(hap, b, s)?;
    if !left.is_empty() {
        return Err(Failure::Io(format!(
            "{b}/{s} is still present on {} after `del server` (HAProxy deletes only a \
             server in maintenance without sessions; see --drain-first)",
            left.join(", ")
        )));
    }
    haproxy_cli::note!("deleted {b}/{s} on {} processes", hap.processes().len());
    Ok(())
}

/// The processes (`pid N`) on which server `b/s` exists, read back after
/// a change: what HAProxy did, whatever its reply said.
fn present_on(hap: &HAProxy, b: &str, s: &str) -> Result<Vec<String>> {
    let snap = crate::complete_snapshot(hap)?;
    Ok(match snap.backend(b).and_then(|be| be.server(s)) {
        Ok(srv) => srv
            .processes()
            .iter()
            .map(|p| format!("pid {}", p.pid))
            .collect(),
        Err(_) => Vec::new(),
    })
}

// ---- check ------------------------------------------------------------------

/// A value of `check` as JSON: a number where it is one (weights,
/// counts), as every other JSON output writes numbers; text otherwise.
fn json_value(v: &Option<String>) -> serde_json::Value {
    match v.as_deref().map(|t| (t, t.parse::<i64>())) {
        Some((_, Ok(n))) => n.into(),
        Some((t, Err(_))) => t.into(),
        None => serde_json::Value::Null,
    }
}

/// `check`: every difference between the processes, exit 1 when any.
pub(crate) fn check(out: &mut impl Write, format: Format, hap: &HAProxy) -> Result {
    // A master's old workers hold the old configuration while they drain:
    // what must agree is compared among the current workers.
    for p in hap.skipped_by_writes() {
        haproxy_cli::note!(
            "haproxy-cli: skipped old worker pid {} (draining after a reload): check compares the current workers",
            p.id().pid
        );
    }
    let hap = &hap.current();
    let snap = hap.snapshot()?;
    let diffs = hap.differences(&snap)?;
    let procs = snap.info().len() + snap.failures().len();
    match format {
        Format::Json | Format::Jsonl => {
            let v: Vec<serde_json::Value> = diffs
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "object": d.object,
                        "field": d.field,
                        "values": d.values.iter().map(|(p, v)| serde_json::json!({"process": p.pid, "value": json_value(v)})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::to_writer(&mut *out, &v).map_err(json_err)?;
            writeln!(out)?;
        }
        _ => {
            if diffs.is_empty() {
                writeln!(out, "consistent: {procs} processes agree")?;
            }
            for d in &diffs {
                writeln!(out, "{d}")?;
            }
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        out.flush()?;
        Err(Failure::Checked(format!(
            "{} difference{} between {procs} processes",
            diffs.len(),
            if diffs.len() == 1 { "" } else { "s" }
        )))
    }
}
