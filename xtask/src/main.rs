//! `cargo xtask`: the one entry point for automation.
//!
//! - `cargo xtask demo`: start a throwaway local HAProxy fleet and run
//!   `haproxy-cli` against it.
//! - `cargo xtask test [--haproxy all|VERSION,…]`: every test (unit,
//!   property, fixtures, end-to-end against real HAProxy) with the system's
//!   HAProxy; with `--haproxy`, the e2e suite once per version of the
//!   matrix (2.6, 3.0, 3.2, 3.4) and the mixed-version fleet test.
//! - `cargo xtask ci`: what CI runs: fmt, clippy, docs, the benches
//!   compiled and the parser bench in quick mode, a short fuzz run, the
//!   tests over every version of the matrix; it ends with one line per
//!   HAProxy version and its passed and failed tests.
//! - `cargo xtask bench`: the benchmark suite and its report.
//! - `cargo xtask fuzz [SECS]`: the fuzz targets for SECS seconds each:
//!   the stable mutation fuzzer, then the coverage-guided libFuzzer
//!   targets when a nightly toolchain and cargo-fuzz are installed.
//! - `cargo xtask haproxy [VERSION…|all]`: fetch Debian's builds of HAProxy
//!   3.0, 3.2 and 3.4 into `target/haproxy/` (see the `haproxy` module) and
//!   print every version's binary.
//! - `cargo xtask package`: `cargo package` of every published crate,
//!   verified, and what each ships checked.
//! - `cargo xtask deb [--install]`: the Debian package of `haproxy-cli`
//!   (cargo-deb), with its man page and bash completion; `--install`
//!   installs it with dpkg and checks it (root).
//!
//! `ci`, `test`, `bench` and `demo` need `haproxy`: where it is missing and
//! the user is root they install it with apt-get, otherwise they stop with
//! the command to run (so does `haproxy` for `patchelf`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

mod demo;
mod haproxy;
mod libfuzz;
mod publish;
mod report;

type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask <demo [--serve]|test [--haproxy all|VERSION,…]|ci|bench|fuzz [SECS]|haproxy [VERSION…|all]|package|deb [--install]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("test") => test_cmd(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("demo") => demo::demo(&args[1..]),
        Some("haproxy") => haproxy::cmd(&args[1..]),
        Some("fuzz") => fuzz(args.get(1).map(String::as_str).unwrap_or("30")),
        Some("package") => publish::package(),
        Some("deb") => publish::deb(args.get(1).is_some_and(|a| a == "--install")),
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
pub(crate) fn root() -> PathBuf {
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

/// Whether this user is root (and so may install packages).
pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Makes sure the Debian package `package` is there (`present` says so):
/// installs it with apt-get when root, else fails with the command to run.
pub(crate) fn ensure_apt_package(package: &str, present: impl Fn() -> bool) -> Result {
    if present() {
        return Ok(());
    }
    let install = format!("apt-get update && apt-get install -y {package}");
    if !is_root() {
        return Err(format!(
            "{package} is not installed and this user is not root; run: sudo sh -c '{install}'"
        ));
    }
    eprintln!("xtask: {package} is missing; installing it: {install}");
    run(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    run(
        &format!("apt-get install {package}"),
        Command::new("apt-get")
            .args(["install", "-y", "-qq", package])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    if !present() {
        return Err(format!(
            "apt-get installed {package} but it is still not found"
        ));
    }
    Ok(())
}

/// Makes sure `haproxy` is installed (the e2e tests' default version).
pub(crate) fn ensure_haproxy() -> Result {
    ensure_apt_package("haproxy", || haproxy_e2e::find_haproxy().is_some())
}

/// The e2e tests of `haproxy-cli top` drive it in a real terminal under
/// tmux.
pub(crate) fn ensure_tmux() -> Result {
    ensure_apt_package("tmux", || {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Debian's `prometheus` package: the e2e tests start `/usr/bin/prometheus`
/// and `/usr/bin/promtool` themselves (the system service is not used).
pub(crate) fn ensure_prometheus() -> Result {
    ensure_apt_package("prometheus", || {
        Path::new("/usr/bin/prometheus").exists() && Path::new("/usr/bin/promtool").exists()
    })
}

/// Every program the test suite runs besides HAProxy.
fn ensure_test_tools() -> Result {
    ensure_tmux()?;
    // The completion tests type into a real zsh under tmux.
    ensure_apt_package("zsh", || {
        Command::new("zsh")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })?;
    // The certificate tests make keys and act as a TLS client with it.
    ensure_apt_package("openssl", || {
        Command::new("openssl")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    })?;
    ensure_prometheus()
}

/// `cargo xtask test [--haproxy all|VERSION[,VERSION…]]`.
fn test_cmd(args: &[String]) -> Result {
    let mut versions: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--haproxy=") {
            versions.push(v.to_owned());
        } else if a == "--haproxy" {
            versions.push(
                it.next()
                    .ok_or("--haproxy needs a value: all, or versions such as 3.0,3.4")?
                    .clone(),
            );
        } else {
            return Err(format!("test: unknown argument {a:?}; {USAGE}"));
        }
    }
    if versions.is_empty() {
        test().map(|_| ())
    } else {
        matrix(&versions).map(|_| ())
    }
}

/// Runs the whole test suite against the system's HAProxy; returns
/// (passed, failed) summed over every test binary.
fn test() -> Result<(u64, u64)> {
    ensure_haproxy()?;
    ensure_test_tools()?;
    // The mixed-version fleet tests need every line of the matrix.
    let versions = haproxy::ensure(&["all".to_owned()])?;
    let (passed, failed, problem) = cargo_test(
        "cargo test --workspace",
        cargo()
            .env("HAPROXY_MATRIX", matrix_paths(&versions)?)
            .args(["test", "--workspace", "--color", "never"]),
    )?;
    if let Some(p) = problem {
        println!("tests: {passed} passed, {failed} failed");
        return Err(format!("cargo test failed: {p}"));
    }
    println!("tests: {passed} passed, {failed} failed");
    if passed == 0 {
        return Err("cargo test ran no test".into());
    }
    Ok((passed, failed))
}

/// `HAPROXY_MATRIX`: every binary of the matrix, for the mixed-version
/// fleet tests.
fn matrix_paths(versions: &[haproxy::Installed]) -> Result<std::ffi::OsString> {
    std::env::join_paths(versions.iter().map(|v| &v.binary))
        .map_err(|e| format!("HAPROXY_MATRIX: {e}"))
}

/// The version matrix: every test once, with the first version; the e2e
/// suite again with each other version (`HAPROXY_BIN`). Every run also has
/// every version at once (`HAPROXY_MATRIX`) for the mixed-fleet tests.
/// Every run is made even when one fails; the summary (one line per
/// version, with its counts) is printed at the end and returned, so that
/// `ci` can print it again as its last lines.
fn matrix(selectors: &[String]) -> Result<Vec<VersionRun>> {
    let versions = haproxy::ensure(selectors)?;
    ensure_test_tools()?;
    let paths = matrix_paths(&versions)?;
    let mut runs = Vec::new();
    for (n, v) in versions.iter().enumerate() {
        let mut c = cargo();
        c.env("HAPROXY_BIN", &v.binary)
            .env("HAPROXY_MATRIX", &paths);
        // Always `--workspace`, as the first run: the same features, so the
        // same build (with `-p haproxy-e2e` cargo builds every dependency
        // again).
        let what = if n == 0 {
            c.args(["test", "--workspace", "--color", "never"]);
            "cargo test --workspace"
        } else {
            c.args(["test", "--workspace", "--test", "e2e", "--color", "never"]);
            "the e2e suite"
        };
        let r = cargo_test(
            &format!("{what}, HAProxy {} ({})", v.full, v.binary.display()),
            &mut c,
        );
        runs.push(VersionRun::new(&v.full, what, r));
    }
    println!("\nversion matrix:");
    for r in &runs {
        println!("{}", r.line());
    }
    let passed: u64 = runs.iter().map(|r| r.passed).sum();
    let failed: u64 = runs.iter().map(|r| r.failed).sum();
    println!("tests: {passed} passed, {failed} failed");
    let errors: Vec<String> = runs
        .iter()
        .filter(|r| r.problem.is_some())
        .map(|r| format!("HAProxy {}", r.version))
        .collect();
    if !errors.is_empty() {
        return Err(format!("tests failed: {}", errors.join("; ")));
    }
    if passed == 0 {
        return Err("cargo test ran no test".into());
    }
    Ok(runs)
}

/// One run of the matrix: the HAProxy version it ran against, what it
/// ran, the tests its `test result:` lines count, and what went wrong.
struct VersionRun {
    version: String,
    what: &'static str,
    passed: u64,
    failed: u64,
    problem: Option<String>,
}

impl VersionRun {
    fn new(version: &str, what: &'static str, r: Result<TestRun>) -> VersionRun {
        let (passed, failed, problem) = match r {
            Ok(run) => run,
            Err(e) => (0, 0, Some(e)),
        };
        VersionRun {
            version: version.to_owned(),
            what,
            passed,
            failed,
            problem,
        }
    }

    /// `  ok    HAProxy 3.0.11-1+deb13u4: 107 passed, 0 failed (the e2e
    /// suite)`, or `FAIL` and what went wrong.
    fn line(&self) -> String {
        let mut l = format!(
            "  {:<5} HAProxy {}: {} passed, {} failed ({})",
            if self.problem.is_none() { "ok" } else { "FAIL" },
            self.version,
            self.passed,
            self.failed,
            self.what
        );
        if let Some(p) = &self.problem {
            l.push_str(": ");
            l.push_str(p);
        }
        l
    }
}

/// Tests passed, tests failed, and what went wrong if anything did.
type TestRun = (u64, u64, Option<String>);

/// Runs `cmd` (a `cargo test`), echoing its output; returns (passed,
/// failed) summed over every test binary, and what went wrong if anything
/// did (failed tests, or cargo's own failure).
fn cargo_test(what: &str, cmd: &mut Command) -> Result<TestRun> {
    eprintln!("xtask: {what}");
    let mut child = cmd
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
    let problem = (!status.success() || failed > 0).then(|| format!("cargo test: {status}"));
    Ok((passed, failed, problem))
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
    // The versions first: a Debian archive out of reach fails in seconds,
    // not after the build.
    haproxy::ensure(&["all".to_owned()])?;
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
            // The optional `tokio` feature (async API, async example) too.
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "cargo doc (warnings denied)",
        cargo()
            .args([
                "doc",
                "--workspace",
                "--no-deps",
                "--all-features",
                "--quiet",
            ])
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
        fuzz_stable("5")?;
    }
    publish::package()?;
    publish::deb(true)?;
    let runs = matrix(&["all".to_owned()])?;
    println!("xtask ci: fmt, clippy, docs, benches, fuzz, packages and tests green");
    // Last, so the log's end shows the matrix green version by version.
    for r in &runs {
        println!("ci:{}", r.line());
    }
    let passed: u64 = runs.iter().map(|r| r.passed).sum();
    let failed: u64 = runs.iter().map(|r| r.failed).sum();
    println!("ci: {passed} passed, {failed} failed");
    Ok(())
}

/// The stable fuzzer, then the libFuzzer targets where nightly is.
fn fuzz(secs: &str) -> Result {
    fuzz_stable(secs)?;
    let secs = secs
        .parse::<u64>()
        .map_err(|_| format!("fuzz: SECS must be a number of seconds, not {secs:?}"))?;
    libfuzz::run(secs)
}

fn fuzz_stable(secs: &str) -> Result {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary of a run sums its binaries' `test result:` lines.
    #[test]
    fn a_run_is_summed_into_one_line_per_version() {
        let results = "echo 'test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured'; \
             echo 'running 2 tests'; \
             echo 'test result: FAILED. 4 passed; 2 failed; 0 ignored; 0 measured'";
        let cases: [(&str, &str); 3] = [
            (
                results,
                "  FAIL  HAProxy 3.0.11-1: 7 passed, 2 failed (the e2e suite): cargo test: exit status: 0",
            ),
            (
                "echo 'test result: ok. 107 passed; 0 failed; 0 ignored'",
                "  ok    HAProxy 3.0.11-1: 107 passed, 0 failed (the e2e suite)",
            ),
            (
                "echo 'test result: ok. 5 passed; 0 failed'; exit 101",
                "  FAIL  HAProxy 3.0.11-1: 5 passed, 0 failed (the e2e suite): cargo test: exit status: 101",
            ),
        ];
        for (script, want) in cases {
            let r = cargo_test("fake", Command::new("sh").args(["-c", script]));
            assert_eq!(VersionRun::new("3.0.11-1", "the e2e suite", r).line(), want);
        }
        let r = VersionRun::new(
            "2.6.12",
            "cargo test --workspace",
            Err("cannot start".into()),
        );
        assert_eq!(
            r.line(),
            "  FAIL  HAProxy 2.6.12: 0 passed, 0 failed (cargo test --workspace): cannot start"
        );
    }
}
