//! List every server of every HAProxy process, then drain one, with
//! `haproxy-admin`.
//!
//! ```sh
//! cargo xtask demo --serve        # prints a socket directory and waits
//! cargo run -p haproxy-admin --example drain_server -- /tmp/…/sockets
//! cargo run -p haproxy-admin --example drain_server -- /tmp/…/sockets be_static/s2
//! ```
//!
//! The first argument is a directory of stats sockets (one per process) or
//! one endpoint (a UNIX socket path, `ipv4@host:port`, a master socket
//! with `@1`). With a second argument, `backend/server`, that server is put
//! in `DRAIN` on every process that has it, and a fresh snapshot shows
//! the new state.

use haproxy_admin::{HAProxy, State};
use std::error::Error;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Errors as their Display text (which says where and why), exit code 1.
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drain_server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .ok_or("usage: drain_server <socket-dir|socket> [backend/server]")?;
    let hap = connect(&target)?;
    for skipped in hap.skipped() {
        eprintln!("skipped {skipped}");
    }

    let snap = hap.snapshot()?;
    for failure in snap.failures() {
        eprintln!("not read: {failure}");
    }
    println!("{} processes", snap.process_ids().len());
    println!(
        "{:<12} {:<8} {:<12} {:>6} {:>5}",
        "backend", "server", "status", "weight", "scur"
    );
    for server in snap.servers(None) {
        // A field the processes disagree on is an error for this server
        // only: show it and go on.
        let status = server
            .status()
            .map(|s| s.map(|s| s.to_string()).unwrap_or_default())
            .unwrap_or_else(|e| format!("({e})"));
        let weight = server
            .weight()
            .map(|w| w.map_or("-".into(), |w| w.to_string()))
            .unwrap_or_else(|e| format!("({e})"));
        let scur = server
            .metric("scur")
            .map(|v| v.map_or("-".into(), |v| v.to_string()))
            .unwrap_or_else(|e| format!("({e})"));
        println!(
            "{:<12} {:<8} {status:<12} {weight:>6} {scur:>5}",
            server.backend(),
            server.name()
        );
    }

    let Some(which) = args.next() else {
        return Ok(());
    };
    let (backend, name) = which
        .split_once('/')
        .ok_or_else(|| format!("{which:?}: expected backend/server"))?;
    // Written to every process that has the server; `Error::Partial` names
    // the processes that refused (the others' change stands).
    snap.backend(backend)?
        .server(name)?
        .set_state(State::Drain)?;
    let fresh = snap.refresh()?;
    let after = fresh.backend(backend)?.server(name)?;
    let status = after
        .status()?
        .map(|s| s.to_string())
        .unwrap_or_else(|| "-".into());
    println!(
        "drained {backend}/{name} on {} processes: status now {status}",
        after.processes().len()
    );
    Ok(())
}

/// A directory of sockets, or one endpoint.
fn connect(target: &str) -> haproxy_admin::Result<HAProxy> {
    if Path::new(target).is_dir() {
        HAProxy::from_dir(target)
    } else {
        HAProxy::from_endpoints([target.parse()?])
    }
}
