//! Watch every server of every HAProxy process from a tokio program:
//! poll once a second with `haproxy-admin`'s async API and print each
//! change of state.
//!
//! ```sh
//! cargo xtask demo --serve        # prints a socket directory and waits
//! cargo run -p haproxy-admin --features tokio --example async_watch -- /tmp/…/sockets --iterations 10
//! ```
//!
//! The first argument is a directory of stats sockets (one per process) or
//! one endpoint (a UNIX socket path, `ipv4@host:port`, a master socket
//! with `@1`). `--iterations N` stops after N polls (default: run until
//! killed). Every poll is one concurrent snapshot of every process (tasks,
//! not threads), bounded by the transport's whole-command deadline; a poll
//! that fails is reported and the next one tried.

use haproxy_admin::asynch::AsyncHAProxy;
use haproxy_admin::{Builder, Snapshot};
use std::collections::BTreeMap;
use std::error::Error;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("async_watch: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("async_watch: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `backend/server` → status, as the processes report it (a status the
/// processes disagree on is shown as the disagreement).
fn states(snap: &Snapshot) -> BTreeMap<String, String> {
    snap.servers(None)
        .into_iter()
        .map(|s| {
            let status = match s.status() {
                Ok(Some(st)) => st.to_string(),
                Ok(None) => "-".to_owned(),
                Err(e) => format!("({e})"),
            };
            (format!("{}/{}", s.backend(), s.name()), status)
        })
        .collect()
}

async fn run() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .ok_or("usage: async_watch <socket-dir|socket> [--iterations N]")?;
    let mut iterations: Option<u64> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--iterations" => {
                let n = args.next().ok_or("--iterations needs a number")?;
                iterations = Some(n.parse().map_err(|_| format!("not a count: {n}"))?);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let hap = if Path::new(&target).is_dir() {
        Builder::new().from_dir_async(&target).await?
    } else {
        AsyncHAProxy::from_endpoints([target.parse()?]).await?
    };

    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<BTreeMap<String, String>> = None;
    let mut polls = 0u64;
    while iterations.map_or(true, |n| polls < n) {
        tick.tick().await;
        polls += 1;
        let snap = match hap.snapshot().await {
            Ok(snap) => snap,
            Err(e) => {
                eprintln!("poll {polls}: {e}");
                continue;
            }
        };
        let now = states(&snap);
        match &last {
            None => {
                println!(
                    "{} processes, {} servers",
                    snap.process_ids().len(),
                    now.len()
                );
                for (server, status) in &now {
                    println!("{server} {status}");
                }
            }
            Some(before) => {
                for (server, status) in &now {
                    match before.get(server) {
                        Some(old) if old == status => {}
                        Some(old) => println!("poll {polls}: {server}: {old} -> {status}"),
                        None => println!("poll {polls}: {server}: new, {status}"),
                    }
                }
                for server in before.keys().filter(|s| !now.contains_key(*s)) {
                    println!("poll {polls}: {server}: gone");
                }
            }
        }
        last = Some(now);
    }
    println!("done after {polls} polls");
    Ok(())
}
