//! The coverage-guided fuzz targets (`fuzz/libfuzzer`, cargo-fuzz and
//! libFuzzer), run by `cargo xtask fuzz` when a nightly toolchain and
//! `cargo-fuzz` are installed; skipped with a note otherwise. Each target
//! keeps its corpus in `fuzz/libfuzzer/corpus/<target>` (seeded from
//! haproxy-proto's fixtures), so later runs in the same checkout start
//! where earlier ones stopped; that directory is gitignored, not part of
//! the repository. A crash fails the run; libFuzzer leaves the input in
//! `fuzz/libfuzzer/artifacts/<target>/`, to become a regression test.

use crate::{root, Result};
use std::process::{Command, Stdio};

/// Every libFuzzer target (`fuzz/libfuzzer/fuzz_targets/<name>.rs`).
pub(crate) const TARGETS: &[&str] = &[
    "stat",
    "info",
    "typed",
    "map_list",
    "map_entries",
    "acl_entries",
    "lookup",
    "servers_state",
    "errors",
    "proc",
    "reply",
    "verdict",
    "command",
    "codec",
];

/// Whether `cargo +nightly fuzz` can run here.
fn available() -> std::result::Result<(), String> {
    let nightly = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("nightly"))
        .unwrap_or(false);
    if !nightly {
        return Err("no nightly toolchain (`rustup toolchain install nightly`)".into());
    }
    let fuzz = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !fuzz {
        return Err("no cargo-fuzz (`cargo install cargo-fuzz`)".into());
    }
    Ok(())
}

/// One target's figures, from libFuzzer's final statistics.
struct Figures {
    execs: u64,
    cov: u64,
    features: u64,
    corpus: u64,
}

fn figures(stderr: &str) -> Figures {
    let stat = |key: &str| {
        stderr
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    // The last status line: `#N  DONE  cov: C ft: F corp: K/…`.
    let last = stderr
        .lines()
        .rev()
        .find(|l| l.contains(" cov: "))
        .unwrap_or("");
    let after = |key: &str| {
        last.split(key)
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Figures {
        execs: stat("stat::number_of_executed_units:"),
        cov: after("cov: "),
        features: after("ft: "),
        corpus: after("corp: "),
    }
}

/// Runs every target for `secs` seconds, if nightly and cargo-fuzz are
/// there; prints a table of executions and coverage.
pub(crate) fn run(secs: u64) -> Result {
    if let Err(why) = available() {
        eprintln!("xtask: coverage-guided fuzzing skipped: {why}");
        return Ok(());
    }
    let dir = root().join("fuzz").join("libfuzzer");
    let seeds = root()
        .join("crates")
        .join("haproxy-proto")
        .join("tests")
        .join("fixtures");
    let mut rows = Vec::new();
    for t in TARGETS {
        let corpus = dir.join("corpus").join(t);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| format!("create {}: {e}", corpus.display()))?;
        eprintln!("xtask: cargo +nightly fuzz run {t} for {secs}s");
        let out = Command::new("cargo")
            .current_dir(root())
            .args(["+nightly", "fuzz", "run", "--fuzz-dir"])
            .arg(&dir)
            .args(["-O", t])
            .arg(&corpus)
            .arg(&seeds)
            .arg("--")
            .arg(format!("-max_total_time={secs}"))
            .args(["-print_final_stats=1", "-max_len=65536", "-timeout=10"])
            .stdout(Stdio::null())
            .output()
            .map_err(|e| format!("cargo +nightly fuzz run {t}: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "fuzz target {t} failed (a crash is kept under {}):\n{}",
                dir.join("artifacts").join(t).display(),
                tail.join("\n")
            ));
        }
        let f = figures(&stderr);
        rows.push(format!(
            "| {t} | {} | {} | {} | {} |",
            f.execs, f.cov, f.features, f.corpus
        ));
    }
    println!("| target | executions | coverage (edges) | features | corpus |");
    println!("|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    Ok(())
}
