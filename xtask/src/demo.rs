//! `cargo xtask demo`: a throwaway local HAProxy fleet, and `haproxy-cli`
//! run against it, or against the sockets you name. `cargo xtask demo
//! --serve` keeps the fleet up for the crates' examples.

use crate::{cargo, ensure_haproxy, root, run, Result};
use haproxy_e2e::{Fleet, Options};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Builds the CLI, starts three HAProxy instances that share the same
/// proxies (unless `HAPROXY_CLI_SOCKET_DIR` names real ones), and shows
/// what the tool does.
pub(crate) fn demo(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        None => {}
        Some("--serve") => return serve(),
        Some(other) => return Err(format!("demo: unknown argument {other:?} (try --serve)")),
    }
    run_cargo_build()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let cli = target.join("debug").join("haproxy-cli");
    if let Some(dir) = std::env::var_os("HAPROXY_CLI_SOCKET_DIR") {
        let dir = dir.to_string_lossy().into_owned();
        println!("# haproxy-cli against the sockets in {dir}\n");
        for args in [
            &["info"][..],
            &["frontend", "list"],
            &["backend", "list"],
            &["server", "list"],
        ] {
            show(&cli, &["--socket-dir", &dir], args)?;
        }
        return Ok(());
    }
    ensure_haproxy()?;
    let fleet = Fleet::start(Options {
        instances: 3,
        ..Options::default()
    });
    let dir = fleet.socket_dir().to_string_lossy().into_owned();
    println!(
        "# A throwaway fleet: 3 HAProxy instances with the same proxies, sockets in {dir}\n\
         # (haproxy {}.{}.{}); removed when the demo ends.\n",
        haproxy_e2e::haproxy_version().0,
        haproxy_e2e::haproxy_version().1,
        haproxy_e2e::haproxy_version().2
    );
    // Let the health checks settle so the states are the real ones.
    haproxy_e2e::wait_until(Duration::from_secs(10), "health checks settle", || {
        fleet.instances().iter().all(|i| {
            let stat = i.raw("show stat");
            stat.lines()
                .any(|l| l.starts_with("be_app,app2,") && l.contains(",DOWN,"))
                && stat
                    .lines()
                    .any(|l| l.starts_with("be_app,app4,") && l.contains(",L7OK,"))
        })
    });
    let map = fleet.map_file().to_string_lossy().into_owned();
    let g = ["--socket-dir", dir.as_str()];
    let steps: Vec<Vec<&str>> = vec![
        vec!["info"],
        vec!["metric", "Maxconn"],
        vec!["frontend", "list"],
        vec!["backend", "list"],
        vec!["server", "list"],
        vec!["server", "set-weight", "be_static/s1", "42"],
        vec!["server", "drain", "be_static/s2"],
        vec!["server", "list", "--backend", "be_static"],
        vec!["server", "show", "be_static/s1", "--format", "json"],
        vec!["map", "list"],
        vec!["map", "add", map.as_str(), "demo.example", "be_static"],
        vec!["map", "show", map.as_str()],
        vec!["map", "get", map.as_str(), "demo.example"],
        vec!["raw", "show servers state be_static"],
        vec!["backend", "list", "--format", "csv"],
        vec!["metric", "CurrConns", "--format", "prometheus"],
    ];
    for args in steps {
        show(&cli, &g, &args)?;
    }
    println!("# A command HAProxy refuses: the error names the socket and quotes HAProxy.");
    let out = Command::new(&cli)
        .args(g)
        .args(["map", "del", map.as_str(), "no.such.key"])
        .output()
        .map_err(|e| format!("run haproxy-cli: {e}"))?;
    println!("$ haproxy-cli map del {map} no.such.key");
    print!("{}", String::from_utf8_lossy(&out.stderr));
    println!("(exit code {})\n", out.status.code().unwrap_or(-1));
    drop(fleet);
    println!("# Done; the fleet is stopped. Point haproxy-cli at your own sockets with --socket-dir or --socket.");
    Ok(())
}

/// `cargo xtask demo --serve`: starts the same throwaway fleet, prints its
/// socket directory and the commands that run each crate's examples
/// against it, and keeps it up until Enter (or end of input, or Ctrl-C,
/// which HAProxy's foreground processes receive too).
fn serve() -> Result {
    ensure_haproxy()?;
    let fleet = Fleet::start(Options {
        instances: 3,
        ..Options::default()
    });
    let dir = fleet.socket_dir().to_string_lossy().into_owned();
    let sock = fleet.instances()[0].socket.to_string_lossy().into_owned();
    println!(
        "# A throwaway fleet: 3 HAProxy instances with the same proxies.\n\
         HAPROXY_SOCKET_DIR={dir}\n\n\
         # Try:\n\
         cargo run -p haproxy-admin --example drain_server -- {dir} be_static/s2\n\
         cargo run -p haproxy-admin --example exporter -- {dir} 2 3\n\
         cargo run -p haproxy-transport --example pipeline -- {sock}\n\
         cargo run -q -p haproxy-cli -- --socket {sock} raw 'show stat' | cargo run -p haproxy-proto --example parse_stats_csv\n\
         cargo run -p haproxy-cli -- --socket-dir {dir} server list\n\n\
         # Press Enter to stop the fleet."
    );
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(fleet);
    println!("# The fleet is stopped.");
    Ok(())
}

fn run_cargo_build() -> Result {
    run(
        "cargo build -p haproxy-cli",
        cargo().args(["build", "--quiet", "-p", "haproxy-cli"]),
    )
}

/// Runs the CLI with `global` then `args`, printing the command and its
/// output.
fn show(cli: &std::path::Path, global: &[&str], args: &[&str]) -> Result {
    println!("$ haproxy-cli {}", args.join(" "));
    let out = Command::new(cli)
        .args(global)
        .args(args)
        .output()
        .map_err(|e| format!("run haproxy-cli: {e}"))?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        return Err(format!(
            "haproxy-cli {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    println!();
    Ok(())
}
