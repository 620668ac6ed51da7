//! Parse the CSV of HAProxy's HTTP stats page (`/stats;csv`) with
//! `haproxy-proto` alone: no socket, no HAProxy needed.
//!
//! ```sh
//! curl -s 'http://127.0.0.1:8404/stats;csv' | cargo run -p haproxy-proto --example parse_stats_csv
//! cargo run -p haproxy-proto --example parse_stats_csv -- stats.csv
//! ```
//!
//! The stats page's CSV and the Runtime API's `show stat` reply are the same
//! format, so the output of `echo 'show stat' | socat stdio <socket>` works
//! too. Prints one line per proxy and server, then a summary.

use haproxy_proto::{parse_stat, Column, ProxyType};
use std::error::Error;
use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Errors as their Display text (which says where and why), exit code 1.
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parse_stats_csv: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let input = match std::env::args_os().nth(1) {
        Some(path) => std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.to_string_lossy()))?,
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
    };
    // Every error says where: line, column, record, field and what was found.
    let table = parse_stat(&input)?;
    println!(
        "{:<10} {:<20} {:<12} {:>6} {:>8}",
        "type", "proxy/name", "status", "scur", "stot"
    );
    let mut servers = 0;
    let mut up = 0;
    for record in table.records() {
        let kind = record.proxy_type().map_or("?", |t| t.name());
        let name = format!(
            "{}/{}",
            record.pxname().unwrap_or("?"),
            record.svname().unwrap_or("?")
        );
        let status = record.status().map(|s| s.to_string()).unwrap_or_default();
        // An empty field is `None`, never 0: print it as `-`.
        let show = |c: Column| record.uint(c).map_or("-".to_owned(), |v| v.to_string());
        println!(
            "{kind:<10} {name:<20} {status:<12} {:>6} {:>8}",
            show(Column::Scur),
            show(Column::Stot)
        );
        if record.proxy_type() == Some(ProxyType::Server) {
            servers += 1;
            if status.starts_with("UP") {
                up += 1;
            }
        }
    }
    println!(
        "{} records, {} columns, {servers} servers ({up} up)",
        table.len(),
        table.header().len()
    );
    Ok(())
}
