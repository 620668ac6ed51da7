//! `cargo xtask`: the one entry point for automation.
//!
//! - `cargo xtask demo`: start a throwaway local HAProxy fleet and run
//!   `haproxy-cli` against it.
//! - `cargo xtask test`: every test (unit, property, fixtures, end-to-end
//!   against real HAProxy).
//! - `cargo xtask ci`: what CI runs: fmt, clippy, the tests, docs, the
//!   benches compiled and the parser bench in quick mode, a short fuzz run.
//! - `cargo xtask bench`: the benchmark suite and its report.
//! - `cargo xtask fuzz [SECS]`: the proto fuzz targets for SECS seconds
//!   each.
//!
//! `ci`, `test`, `bench` and `demo` need `haproxy`: where it is missing and
//! the user is root they install it with apt-get, otherwise they stop with
//! the command to run.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

mod demo;
mod report;

type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask <demo|test|ci|bench|fuzz [SECS]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("test") => test().map(|_| ()),
        Some("bench") => bench(&args[1..]),
        Some("demo") => demo::demo(),
        Some("fuzz") => fuzz(args.get(1).map(String::as_str).unwrap_or("30")),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's directory).
fn root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root());
    c
}

/// Runs `cmd`, echoing it, and fails when it fails.
fn run(what: &str, cmd: &mut Command) -> Result {
    eprintln!("xtask: {what}");
    let status = cmd
        .status()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what}: failed ({status})"))
    }
}

/// Makes sure `haproxy` is installed: installs it with apt-get when root,
/// else says how.
pub(crate) fn ensure_haproxy() -> Result {
    if haproxy_e2e::find_haproxy().is_some() {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let install = "apt-get update && apt-get install -y haproxy";
    if !root {
        return Err(format!(
            "haproxy is not installed and this user is not root; run: sudo sh -c '{install}'"
        ));
    }
    eprintln!("xtask: haproxy is missing; installing it: {install}");
    run(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    run(
        "apt-get install haproxy",
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "haproxy"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    if haproxy_e2e::find_haproxy().is_none() {
        return Err("apt-get installed haproxy but it is not on PATH nor in /usr/sbin".into());
    }
    Ok(())
}

/// Installs Debian's `prometheus` package (the e2e tests start
/// `/usr/bin/prometheus` and `/usr/bin/promtool` themselves; the system
/// service is not used) when it is missing and we are root; otherwise says
/// the command to run.
pub(crate) fn ensure_prometheus() -> Result {
    let present = |p: &str| std::path::Path::new(p).exists();
    if present("/usr/bin/prometheus") && present("/usr/bin/promtool") {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let install = "apt-get update && apt-get install -y prometheus";
    if !root {
        return Err(format!(
            "prometheus is not installed and this user is not root; run: sudo sh -c '{install}'"
        ));
    }
    eprintln!("xtask: prometheus is missing; installing it: {install}");
    run(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    run(
        "apt-get install prometheus",
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "prometheus"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    if !present("/usr/bin/prometheus") || !present("/usr/bin/promtool") {
        return Err(
            "apt-get installed prometheus but /usr/bin/prometheus or promtool is missing".into(),
        );
    }
    Ok(())
}

/// Runs the whole test suite; returns (passed, failed) summed over every
/// test binary.
fn test() -> Result<(u64, u64)> {
    ensure_haproxy()?;
    ensure_prometheus()?;
    eprintln!("xtask: cargo test --workspace");
    let mut child = cargo()
        .args(["test", "--workspace", "--color", "never"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo test: cannot start: {e}"))?;
    let mut passed = 0;
    let mut failed = 0;
    if let Some(out) = child.stdout.take() {
        use std::io::BufRead;
        for line in std::io::BufReader::new(out).lines() {
            let line = line.map_err(|e| format!("cargo test output: {e}"))?;
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += count(rest, " passed");
                failed += count(rest, " failed");
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    println!("tests: {passed} passed, {failed} failed");
    if !status.success() || failed > 0 {
        return Err(format!("cargo test failed ({status})"));
    }
    if passed == 0 {
        return Err("cargo test ran no test".into());
    }
    Ok((passed, failed))
}

/// The number before `label` in a `test result:` line.
fn count(line: &str, label: &str) -> u64 {
    line.split(';')
        .find_map(|part| part.trim().strip_suffix(label.trim()))
        .and_then(|n| n.trim().rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn ci() -> Result {
    run(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;
    run(
        "cargo clippy -D warnings",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "cargo doc (warnings denied)",
        cargo()
            .args(["doc", "--workspace", "--no-deps", "--quiet"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    run(
        "cargo bench --no-run (benches compile)",
        cargo().args(["bench", "--workspace", "--no-run", "--quiet"]),
    )?;
    run(
        "parser bench, quick mode",
        cargo().args([
            "bench",
            "-p",
            "haproxy-proto",
            "--bench",
            "parse",
            "--quiet",
            "--",
            "--quick",
        ]),
    )?;
    if root().join("fuzz").join("Cargo.toml").exists() {
        fuzz("5")?;
    }
    let (passed, failed) = test()?;
    println!("xtask ci: fmt, clippy, docs, benches, fuzz and tests green");
    println!("ci: {passed} passed, {failed} failed");
    Ok(())
}

fn fuzz(secs: &str) -> Result {
    secs.parse::<u64>()
        .map_err(|_| format!("fuzz: SECS must be a number of seconds, not {secs:?}"))?;
    run(
        &format!("fuzz every proto target for {secs}s each"),
        cargo().args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "fuzz",
            "--",
            "all",
            "--secs",
            secs,
        ]),
    )
}

fn bench(args: &[String]) -> Result {
    ensure_haproxy()?;
    let pass = |c: &mut Command| {
        if !args.is_empty() {
            c.arg("--").args(args);
        }
    };
    let mut c = cargo();
    c.args(["bench", "-p", "haproxy-proto", "--bench", "parse"]);
    pass(&mut c);
    run("cargo bench -p haproxy-proto --bench parse", &mut c)?;
    let mut c = cargo();
    c.args(["bench", "-p", "haproxy-e2e", "--bench", "fleet"]);
    pass(&mut c);
    run("cargo bench -p haproxy-e2e --bench fleet", &mut c)?;
    let md = report::write(&root())?;
    println!("\n{md}");
    println!(
        "xtask: report written to {}",
        report::target_dir(&root()).join("bench-report").display()
    );
    Ok(())
}
