//! A tiny Prometheus exporter loop, blocking, with `haproxy-admin`: every
//! interval, one snapshot of every process, printed as Prometheus
//! exposition text on stdout.
//!
//! ```sh
//! cargo xtask demo --serve        # prints a socket directory and waits
//! cargo run -p haproxy-admin --example exporter -- /tmp/…/sockets 5 3
//! ```
//!
//! Arguments: a directory of stats sockets (or one endpoint), the interval
//! in seconds (default 5) and the number of scrapes (default 3; the loop
//! is bounded so that it can run in tests). A failed scrape is reported on
//! stderr and the loop goes on; the exit code is 1 if any failed. Values
//! are combined across processes by the field table (sums for counters and
//! gauges); a server whose processes disagree on its status is left out,
//! and said so on stderr.

use haproxy_admin::Status;
use haproxy_admin::{HAProxy, Snapshot};
use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    // Errors as their Display text (which says where and why), exit code 1.
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("exporter: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .ok_or("usage: exporter <socket-dir|socket> [interval-secs] [scrapes]")?;
    let interval = Duration::from_secs(args.next().map_or(Ok(5), |s| s.parse())?);
    let scrapes: u32 = args.next().map_or(Ok(3), |s| s.parse())?;
    let hap = if Path::new(&target).is_dir() {
        HAProxy::from_dir(&target)?
    } else {
        HAProxy::from_endpoints([target.parse()?])?
    };
    let mut failed = 0;
    for n in 0..scrapes {
        if n > 0 {
            std::thread::sleep(interval);
        }
        match hap.snapshot() {
            Ok(snap) => print!("{}", exposition(&snap)),
            Err(e) => {
                failed += 1;
                eprintln!("scrape {}: {e}", n + 1);
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} of {scrapes} scrapes failed").into());
    }
    Ok(())
}

/// One scrape as exposition text.
fn exposition(snap: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP haproxy_processes HAProxy processes that answered.\n\
         # TYPE haproxy_processes gauge\nhaproxy_processes {}",
        snap.process_ids().len()
    );
    let _ = writeln!(
        out,
        "# HELP haproxy_frontend_current_sessions Current sessions, summed over processes.\n\
         # TYPE haproxy_frontend_current_sessions gauge"
    );
    for f in snap.frontends() {
        if let Ok(Some(v)) = f.metric("scur") {
            let _ = writeln!(
                out,
                "haproxy_frontend_current_sessions{{frontend=\"{}\"}} {v}",
                escape(f.name())
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP haproxy_server_up 1 if the server takes traffic (UP, or no check) on every process.\n\
         # TYPE haproxy_server_up gauge"
    );
    let mut sessions = String::new();
    for s in snap.servers(None) {
        let labels = format!(
            "backend=\"{}\",server=\"{}\"",
            escape(s.backend()),
            escape(s.name())
        );
        match s.status() {
            Ok(status) => {
                let up = matches!(
                    status,
                    Some(Status::Up | Status::GoingDown { .. } | Status::NoCheck)
                );
                let _ = writeln!(out, "haproxy_server_up{{{labels}}} {}", u8::from(up));
            }
            Err(e) => eprintln!("{}/{}: {e}", s.backend(), s.name()),
        }
        if let Ok(Some(v)) = s.metric("scur") {
            let _ = writeln!(sessions, "haproxy_server_current_sessions{{{labels}}} {v}");
        }
    }
    let _ = writeln!(
        out,
        "# HELP haproxy_server_current_sessions Current sessions, summed over processes.\n\
         # TYPE haproxy_server_current_sessions gauge"
    );
    out.push_str(&sessions);
    out
}

/// A label value as the exposition format wants it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
