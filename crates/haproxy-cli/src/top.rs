//! `top`: a live view of frontends, backends and servers, refreshed in
//! place on a terminal (and printed one frame after another when the
//! output is a pipe or file, so it can be tested and logged).

use crate::args::TopArgs;
use crate::Failure;
use haproxy_admin::{Combined, HAProxy, ObjectKind, Snapshot, StatObject, Value};
use std::io::{IsTerminal, Write};
use std::time::Duration;

type Result<T = ()> = std::result::Result<T, Failure>;

/// Runs the view until `--iterations` frames were shown (or forever).
pub(crate) fn run(out: &mut impl Write, hap: &HAProxy, args: &TopArgs) -> Result {
    if !(args.interval.is_finite() && args.interval > 0.0) {
        return Err(Failure::Usage(format!(
            "--interval must be a positive number of seconds, not {}",
            args.interval
        )));
    }
    let interval = Duration::from_secs_f64(args.interval);
    let tty = std::io::stdout().is_terminal();
    let mut frame = 0u64;
    loop {
        let snap = hap.snapshot_partial()?;
        if tty {
            // Clear the screen and go home.
            out.write_all(b"\x1b[2J\x1b[H")?;
        } else if frame > 0 {
            out.write_all(b"\n")?;
        }
        render(out, &snap, frame)?;
        out.flush()?;
        frame += 1;
        if args.iterations.is_some_and(|n| frame >= n) {
            return Ok(());
        }
        std::thread::sleep(interval);
    }
}

fn text(o: &StatObject, c: &str) -> String {
    match o.get(c) {
        None => "-".to_owned(),
        Some(Combined::Value(v)) => v.to_string(),
        Some(Combined::Disagreement { values }) => {
            let parts: Vec<String> = values
                .iter()
                .map(|(_, v)| v.as_ref().map_or_else(|| "-".to_owned(), Value::to_string))
                .collect();
            format!("{{{}}}", parts.join("|"))
        }
    }
}

fn render(out: &mut impl Write, snap: &Snapshot, frame: u64) -> Result {
    let metric = |n: &str| {
        snap.metric(n)
            .map_or_else(|_| "-".to_owned(), |v| v.to_string())
    };
    writeln!(
        out,
        "haproxy-cli top — {} process(es), HAProxy {}, uptime {}s, conns {} (rate {}/s), frame {}",
        snap.process_ids().len(),
        metric("Version"),
        // The youngest process's (each process's own differs).
        snap.uptime_sec()
            .map_or_else(|_| "-".to_owned(), |v| v.to_string()),
        metric("CurrConns"),
        metric("ConnRate"),
        frame + 1
    )?;
    for f in snap.failures() {
        writeln!(out, "  failed: {f}")?;
    }
    section(
        out,
        "FRONTENDS",
        &snap.stat_objects(ObjectKind::Frontend),
        &[
            "name", "status", "scur", "slim", "rate", "req_rate", "stot", "ereq",
        ],
        |o| o.proxy().to_owned(),
    )?;
    section(
        out,
        "BACKENDS",
        &snap.stat_objects(ObjectKind::Backend),
        &[
            "name", "status", "act", "bck", "scur", "rate", "qcur", "stot", "econ",
        ],
        |o| o.proxy().to_owned(),
    )?;
    section(
        out,
        "SERVERS",
        &snap.stat_objects(ObjectKind::Server),
        &[
            "server",
            "status",
            "weight",
            "scur",
            "rate",
            "qcur",
            "stot",
            "check_status",
        ],
        |o| format!("{}/{}", o.proxy(), o.name()),
    )?;
    Ok(())
}

fn section(
    out: &mut impl Write,
    title: &str,
    list: &[StatObject],
    header: &[&str],
    name: impl Fn(&StatObject) -> String,
) -> Result {
    writeln!(out, "\n{title}")?;
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|o| {
            let mut r = vec![name(o)];
            r.extend(header[1..].iter().map(|c| text(o, c)));
            r
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            s.push_str(&" ".repeat(widths[i].saturating_sub(c.chars().count()) + 2));
        }
        s.trim_end().to_owned()
    };
    let upper: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
    writeln!(out, "{}", line(upper.iter().map(String::as_str).collect()))?;
    for r in &rows {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}
