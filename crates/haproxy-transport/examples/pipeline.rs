//! A pipelined session with `haproxy-transport` alone: many commands over
//! one connection, written at once, their replies framed one by one.
//!
//! ```sh
//! cargo xtask demo --serve        # prints a socket directory and waits
//! cargo run -p haproxy-transport --example pipeline -- /tmp/…/sockets/instance-0.sock
//! cargo run -p haproxy-transport --example pipeline -- ipv4@127.0.0.1:9999 be_app/app1 be_app/app2
//! ```
//!
//! The first argument is an endpoint (a UNIX socket path, `ipv4@host:port`,
//! `host:port`, or a master socket with a `@1` selector); the others are
//! `backend/server` names (default: the demo fleet's `be_static/s1` and
//! `be_static/s2`). Prints the process's `show info` summary, then each
//! server's weight, read with `get weight` in one pipelined window.

use haproxy_transport::{Client, Endpoint, Retry, RetryPolicy, Timeouts};
use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    // Errors as their Display text (which says where and why), exit code 1.
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pipeline: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let endpoint: Endpoint = args
        .next()
        .ok_or("usage: pipeline <socket> [backend/server ...]")?
        .parse()?;
    let mut servers: Vec<String> = args.collect();
    if servers.is_empty() {
        servers = vec!["be_static/s1".into(), "be_static/s2".into()];
    }
    let client = Client::new(endpoint)
        .timeouts(Timeouts::uniform(Duration::from_secs(2)))
        .retry(RetryPolicy::new(
            Retry::Times(2),
            Duration::from_millis(100),
        ));
    // Lines are sent as given; the transport refuses CR, LF and NUL. Build
    // lines from untrusted input with haproxy-proto's `Command` instead.
    let mut session = client.session()?;
    let info = session.command("show info")?;
    for line in info.lines() {
        if let Some(v) = line.strip_prefix("Version: ") {
            println!("version {v}");
        } else if let Some(v) = line.strip_prefix("Pid: ") {
            println!("pid {v}");
        }
    }
    let lines: Vec<String> = servers.iter().map(|s| format!("get weight {s}")).collect();
    // One write, then one reply per command, in order.
    let replies = session.pipeline(&lines)?;
    for (server, reply) in servers.iter().zip(&replies) {
        // `get weight` answers `10 (initial 10)`, or HAProxy's error text.
        println!("{server}: {}", reply.trim_end());
    }
    println!("{} commands pipelined over one connection", lines.len() + 1);
    Ok(())
}
