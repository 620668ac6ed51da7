//! The crates' examples, built and run against real HAProxy: what they
//! print, and what they change, read from outside our libraries.

use haproxy_e2e::{Fleet, Options};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Builds every library crate's examples once per run (same profile and
/// target dir as this test binary) and returns their directory.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-q",
                "-p",
                "haproxy-proto",
                "-p",
                "haproxy-transport",
                "-p",
                "haproxy-admin",
                "--features",
                "haproxy-admin/tokio",
                "--examples",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --examples");
        assert!(status.success(), "cargo build --examples failed");
        let exe = std::env::current_exe().expect("current exe");
        // target/<profile>/deps/e2e-… → target/<profile>/examples
        exe.parent()
            .and_then(Path::parent)
            .expect("target/<profile>")
            .join("examples")
    })
}

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn example(name: &str, args: &[&str], stdin: Option<&str>) -> Out {
    let bin = examples_dir().join(name);
    assert!(bin.exists(), "no example binary at {}", bin.display());
    let mut child = Command::new(&bin)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    let o = child.wait_with_output().expect("wait for the example");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs an example and requires exit 0 and a quiet stderr.
fn ok(name: &str, args: &[&str], stdin: Option<&str>) -> String {
    let o = example(name, args, stdin);
    assert_eq!(o.code, 0, "{name} {args:?}: {o:?}");
    assert!(
        o.stderr.is_empty(),
        "{name} {args:?} wrote to stderr: {o:?}"
    );
    o.stdout
}

/// Field `column` of record `pxname/svname` in a raw `show stat`.
fn raw_stat(reply: &str, pxname: &str, svname: &str, column: &str) -> String {
    haproxy_e2e::stat_field(reply, pxname, svname, column)
        .unwrap_or_else(|| panic!("no {column} of {pxname}/{svname} in:\n{reply}"))
        .to_owned()
}

fn fleet3() -> Fleet {
    Fleet::start(Options {
        instances: 3,
        ..Options::default()
    })
}

#[test]
fn admin_drain_server_lists_then_drains_on_every_process() {
    let fleet = fleet3();
    let dir = fleet.socket_dir();
    let dir = dir.to_string_lossy();

    // Listing only: every server of the standard topology, nothing changed.
    let out = ok("drain_server", &[&dir], None);
    assert!(out.starts_with("3 processes\n"), "{out}");
    for (backend, server) in [
        ("be_app", "app1"),
        ("be_app", "app6"),
        ("be_static", "s1"),
        ("be_static", "s2"),
        ("be_tcp", "t1"),
    ] {
        assert!(
            out.lines().any(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                w.len() >= 2 && w[0] == backend && w[1] == server
            }),
            "{backend}/{server} not listed:\n{out}"
        );
    }
    // No check on be_static: static states, weights 10 and 20, as printed.
    let s2: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with("be_static    s2 "))
        .unwrap_or_else(|| panic!("no be_static/s2 line:\n{out}"))
        .split_whitespace()
        .collect();
    assert_eq!(s2[2..5], ["no", "check", "20"], "{out}");
    for i in fleet.instances() {
        assert_eq!(
            raw_stat(&i.raw("show stat"), "be_static", "s2", "status"),
            "no check"
        );
    }

    // Drain: done on every process, and said so from a fresh snapshot.
    let out = ok("drain_server", &[&dir, "be_static/s2"], None);
    assert!(
        out.ends_with("drained be_static/s2 on 3 processes: status now DRAIN\n"),
        "{out}"
    );
    for i in fleet.instances() {
        let stat = i.raw("show stat");
        assert_eq!(
            raw_stat(&stat, "be_static", "s2", "status"),
            "DRAIN",
            "pid {}",
            i.pid
        );
        assert_eq!(
            raw_stat(&stat, "be_static", "s1", "status"),
            "no check",
            "pid {}",
            i.pid
        );
    }

    // A server that does not exist: exit 1, HAProxy's view in the message,
    // nothing drained.
    let o = example("drain_server", &[&dir, "be_static/nope"], None);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("nope"), "{o:?}");
}

#[test]
fn admin_exporter_prints_exposition_text_every_interval() {
    let fleet = fleet3();
    let dir = fleet.socket_dir();
    let dir = dir.to_string_lossy();
    let start = std::time::Instant::now();
    let out = ok("exporter", &[&dir, "1", "2"], None);
    // Two scrapes, one interval apart.
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(out.matches("\nhaproxy_processes 3\n").count(), 2, "{out}");
    for line in [
        "haproxy_frontend_current_sessions{frontend=\"fe_tcp\"} 0",
        // No check: takes traffic. Disabled (MAINT): does not.
        "haproxy_server_up{backend=\"be_static\",server=\"s1\"} 1",
        "haproxy_server_up{backend=\"be_app\",server=\"app3\"} 0",
        "haproxy_server_current_sessions{backend=\"be_static\",server=\"s2\"} 0",
    ] {
        assert_eq!(
            out.lines().filter(|l| *l == line).count(),
            2,
            "{line}:\n{out}"
        );
    }
    // Every line is a comment or `name{labels} number`.
    for line in out.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(value.parse::<f64>().is_ok(), "{line}");
        let name = series.split('{').next().unwrap_or_default();
        assert!(
            name.starts_with("haproxy_")
                && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{line}"
        );
    }
    // A scrape that fails is said and makes the exit code 1.
    drop(fleet);
    let o = example("exporter", &[&dir, "1", "1"], None);
    assert_eq!(o.code, 1, "{o:?}");
}

#[test]
fn transport_pipeline_reads_weights_over_one_session() {
    let fleet = fleet3();
    let i = &fleet.instances()[0];
    let sock = i.socket.to_string_lossy();
    let out = ok("pipeline", &[&sock], None);
    assert!(out.contains(&format!("pid {}\n", i.pid)), "{out}");
    assert!(out.contains("be_static/s1: 10 (initial 10)\n"), "{out}");
    assert!(out.contains("be_static/s2: 20 (initial 20)\n"), "{out}");
    assert!(
        out.ends_with("3 commands pipelined over one connection\n"),
        "{out}"
    );
    // HAProxy's refusal is a reply like any other, in order.
    let out = ok("pipeline", &[&sock, "be_static/s2", "be_static/nope"], None);
    assert!(out.contains("be_static/s2: 20 (initial 20)\n"), "{out}");
    assert!(out.contains("be_static/nope: No such server."), "{out}");
}

#[test]
fn proto_parse_stats_csv_reads_stdin_and_files() {
    let fleet = Fleet::start(Options::default());
    let i = &fleet.instances()[0];
    let csv = i.raw("show stat");
    let records = csv
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    let from_stdin = ok("parse_stats_csv", &[], Some(&csv));
    assert!(
        from_stdin
            .lines()
            .any(|l| l.split_whitespace().take(2).eq(["server", "be_static/s1"])),
        "{from_stdin}"
    );
    let summary = from_stdin.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with(&format!("{records} records, ")),
        "{from_stdin}"
    );
    let file = fleet.dir().join("stats.csv");
    std::fs::write(&file, &csv).expect("write the CSV");
    assert_eq!(
        ok("parse_stats_csv", &[&file.to_string_lossy()], None),
        from_stdin
    );
    // A broken CSV: exit 1 and the parser's position.
    let o = example(
        "parse_stats_csv",
        &[],
        Some("# pxname,svname,scur,\nbe,s1,x,\n"),
    );
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("line"), "{o:?}");
}

/// One HAProxy serving its HTTP stats page (`stats uri /stats`) on
/// 127.0.0.1, which the harness's fleets do not have; killed by PID and
/// its directory removed on `Drop`.
struct StatsPage {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl StatsPage {
    fn start() -> StatsPage {
        let dir = std::env::temp_dir().join(format!("hx-stats-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the stats page dir");
        let port = haproxy_e2e::free_port();
        let cfg = dir.join("haproxy.cfg");
        std::fs::write(
            &cfg,
            format!(
                "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    \
                 timeout server 5s\n\n\
                 frontend stats\n    bind 127.0.0.1:{port}\n    stats enable\n    stats uri /stats\n\n\
                 backend be_static\n    server s1 127.0.0.1:1 weight 10\n    \
                 server s2 127.0.0.1:1 weight 20\n"
            ),
        )
        .expect("write the config");
        let child = Command::new(haproxy_e2e::haproxy_path())
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy");
        let page = StatsPage { child, dir, port };
        haproxy_e2e::wait_until(Duration::from_secs(10), "the stats page answers", || {
            page.try_csv().is_some()
        });
        page
    }

    /// `GET /stats;csv`, the body de-chunked; `None` until it answers 200.
    fn try_csv(&self) -> Option<String> {
        let mut conn = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        conn.write_all(b"GET /stats;csv HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut raw = String::new();
        conn.read_to_string(&mut raw).ok()?;
        let (head, body) = raw.split_once("\r\n\r\n")?;
        if !head.starts_with("HTTP/1.1 200") {
            return None;
        }
        if !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            return Some(body.to_owned());
        }
        let (mut out, mut rest) = (String::new(), body);
        loop {
            let (size, after) = rest.split_once("\r\n")?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            if size == 0 {
                return Some(out);
            }
            out.push_str(after.get(..size)?);
            rest = after.get(size..)?.strip_prefix("\r\n")?;
        }
    }
}

impl Drop for StatsPage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn proto_parse_stats_csv_reads_the_http_stats_page() {
    let page = StatsPage::start();
    let csv = page
        .try_csv()
        .expect("the stats page answered a moment ago");
    assert!(csv.starts_with("# pxname,svname,"), "{csv}");
    let out = ok("parse_stats_csv", &[], Some(&csv));
    for (kind, name) in [
        ("frontend", "stats/FRONTEND"),
        ("server", "be_static/s1"),
        ("server", "be_static/s2"),
        ("backend", "be_static/BACKEND"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().take(2).eq([kind, name])),
            "{kind} {name}:\n{out}"
        );
    }
    // Two servers without checks (`no check`): none counted UP.
    let summary = out.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("4 records, ") && summary.ends_with(" columns, 2 servers (0 up)"),
        "{out}"
    );
}
