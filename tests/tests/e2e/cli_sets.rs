//! The built `haproxy-cli` acting on sets against a real 3-instance fleet:
//! selection by glob and `--where`, set writes with preview, refusal
//! without a terminal, `--dry-run` and `--yes` (read back raw, without our
//! library), `drain --wait` against sessions the test holds open, dynamic
//! servers, and `check`.
//!
//! The fleets are `Topology::large` (no health checks), so nothing the
//! tests set is changed behind their back by a check.

use crate::cli::cli;
use haproxy_e2e::{wait_until, Fleet, Instance, Options, Topology};
use serde_json::Value as Json;
use std::io::Write;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn command(f: &Fleet, args: &[&str]) -> Command {
    let mut c = Command::new(cli());
    c.arg("--socket-dir")
        .arg(f.socket_dir())
        .args(args)
        .env_remove("HAPROXY_CLI_SOCKET_DIR")
        .env_remove("HAPROXY_CLI_SOCKET")
        .env_remove("HAPROXY_CLI_FORMAT")
        .env_remove("HAPROXY_CLI_TIMEOUT")
        .env_remove("HAPROXY_CLI_TARGET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn run(f: &Fleet, args: &[&str]) -> Out {
    let o = command(f, args).output().expect("run haproxy-cli");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn ok(f: &Fleet, args: &[&str]) -> String {
    let o = run(f, args);
    assert_eq!(o.code, 0, "haproxy-cli {args:?}: {o:?}");
    o.stdout
}

fn fleet(backends: usize, servers: usize) -> Fleet {
    Fleet::start(Options {
        instances: 3,
        topology: Topology::large(backends, servers, 0),
        ..Options::default()
    })
}

/// `BACKEND/SERVER` of every line of a `--format jsonl` server listing.
fn jsonl_names(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| {
            let v: Json = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
            format!(
                "{}/{}",
                v["backend"].as_str().expect("backend"),
                v["name"].as_str().expect("name")
            )
        })
        .collect()
}

/// The current weight of `be/srv` on `i`, read raw (`get weight`).
fn weight(i: &Instance, server: &str) -> String {
    let r = i.raw(&format!("get weight {server}"));
    r.split_whitespace().next().unwrap_or_default().to_owned()
}

/// Every server's weight on every instance, raw.
fn weights(f: &Fleet, servers: &[&str]) -> Vec<String> {
    f.instances()
        .iter()
        .flat_map(|i| servers.iter().map(move |s| weight(i, s)))
        .collect()
}

#[test]
fn selection_by_glob_status_and_where_on_a_fleet() {
    let f = fleet(2, 3);
    for i in f.instances() {
        assert!(i.raw("set weight be_0/s1 5").trim().is_empty());
        assert!(i.raw("set weight be_1/s1 9").trim().is_empty());
        assert!(i.raw("disable server be_1/s2").trim().is_empty());
    }
    let names = |args: &[&str]| {
        let mut all = vec!["--format", "jsonl", "server", "list"];
        all.extend_from_slice(args);
        jsonl_names(&ok(&f, &all))
    };
    assert_eq!(names(&["be_0/*"]), ["be_0/s0", "be_0/s1", "be_0/s2"]);
    assert_eq!(names(&["*/s2"]), ["be_0/s2", "be_1/s2"]);
    assert_eq!(
        names(&["*/s0", "be_1/s1"]),
        ["be_0/s0", "be_1/s0", "be_1/s1"]
    );
    assert_eq!(names(&["--where", "weight>1"]), ["be_0/s1", "be_1/s1"]);
    assert_eq!(
        names(&["be_0/*", "--where", "weight>1"]),
        ["be_0/s1"],
        "patterns and filters combine"
    );
    assert_eq!(names(&["--status", "MAINT"]), ["be_1/s2"]);
    assert_eq!(
        names(&["--status", "no check,MAINT", "--where", "name~s[12]"]),
        ["be_0/s1", "be_0/s2", "be_1/s1", "be_1/s2"]
    );
    assert_eq!(names(&["--disagreeing"]), Vec::<String>::new());
    assert_eq!(
        names(&["--sort", "-weight,backend", "--where", "weight>0"])[..2],
        ["be_1/s1", "be_0/s1"]
    );

    // Columns, no header, table.
    let t = ok(
        &f,
        &[
            "server",
            "list",
            "be_1/*",
            "--columns",
            "weight,status",
            "--no-header",
            "--sort",
            "-weight",
        ],
    );
    let rows: Vec<Vec<&str>> = t
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        rows,
        [
            vec!["be_1", "s1", "9", "no check"],
            vec!["be_1", "s0", "1", "no check"],
            vec!["be_1", "s2", "1", "MAINT"],
        ],
        "{t}"
    );
    // JSON lines carry only the chosen columns.
    let j = ok(
        &f,
        &[
            "--format",
            "jsonl",
            "server",
            "list",
            "be_0/s1",
            "--columns",
            "weight",
        ],
    );
    let v: Json = serde_json::from_str(j.trim()).expect("one JSON line");
    assert_eq!(v["weight"], 5);
    assert_eq!(v.as_object().map(serde_json::Map::len), Some(3), "{v}");

    // A bad selection is a usage error naming it; an unknown column too
    // (exit 2, naming the column and listing the known ones), in
    // listings and in writes.
    let o = run(&f, &["server", "list", "--where", "scur"]);
    assert_eq!(o.code, 2, "{o:?}");
    assert!(o.stderr.contains("scur"), "{o:?}");
    for (args, flag) in [
        (&["server", "list", "--where", "nosuch>1"][..], "--where"),
        (&["server", "list", "--sort", "-nosuch"], "--sort"),
        (
            &["backend", "list", "--columns", "status,nosuch"],
            "--columns",
        ),
        (
            &[
                "server",
                "set-weight",
                "*",
                "2",
                "--where",
                "nosuch=1",
                "--yes",
            ],
            "--where",
        ),
    ] {
        let o = run(&f, args);
        assert_eq!(o.code, 2, "{args:?}: {o:?}");
        assert!(
            o.stderr.contains(&format!(
                "unknown column `nosuch` in {flag}; the columns are: "
            )),
            "{args:?}: {o:?}"
        );
        for known in ["name", "backend", "scur", "weight", "check_status"] {
            assert!(o.stderr.contains(&format!(" {known},")), "{known}: {o:?}");
        }
    }
    assert!(weights(&f, &["be_0/s0"]).iter().all(|w| w == "1"));

    // Prometheus: the selection applies; the table's flags are refused.
    let p = ok(&f, &["--format", "prometheus", "server", "list", "be_1/*"]);
    assert!(
        p.contains(r#"{proxy="be_1",server="s2"}"#) && !p.contains(r#"proxy="be_0""#),
        "{p}"
    );
    let o = run(
        &f,
        &[
            "--format",
            "prometheus",
            "server",
            "list",
            "be_1/*",
            "--sort",
            "name",
        ],
    );
    assert_eq!(o.code, 2, "{o:?}");
    assert!(o.stderr.contains("--sort does not apply"), "{o:?}");
}

#[test]
fn set_writes_preview_refuse_dry_run_and_apply_on_every_process() {
    let f = fleet(2, 3);
    let all = [
        "be_0/s0", "be_0/s1", "be_0/s2", "be_1/s0", "be_1/s1", "be_1/s2",
    ];
    let before = weights(&f, &all);
    assert!(before.iter().all(|w| w == "1"), "{before:?}");

    // Several objects, no terminal, no --yes: refused, with the preview.
    let o = run(&f, &["server", "set-weight", "be_0/*", "7"]);
    assert_eq!(o.code, 2, "{o:?}");
    assert!(
        o.stderr.contains("will change 3 servers on 3 processes"),
        "{o:?}"
    );
    assert!(o.stderr.contains("be_0/s1  weight 1 -> 7"), "{o:?}");
    assert!(o.stderr.contains("--yes"), "{o:?}");
    assert_eq!(
        weights(&f, &all),
        before,
        "a refused write changed something"
    );

    // --dry-run: the commands per process, nothing sent.
    let out = ok(&f, &["server", "set-weight", "be_0/*", "7", "--dry-run"]);
    for i in f.instances() {
        assert!(out.contains(&format!("# pid {} (", i.pid)), "{out}");
    }
    assert_eq!(out.matches("set weight be_0/s0 7").count(), 3, "{out}");
    assert_eq!(out.matches("set weight be_0/s2 7").count(), 3, "{out}");
    assert!(!out.contains("be_1"), "{out}");
    assert_eq!(weights(&f, &all), before, "--dry-run sent something");

    // --yes: applied to every selected server on every process, and only
    // to them.
    let o = run(&f, &["server", "set-weight", "be_0/*", "7", "--yes"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stderr.contains("changed 3 servers on 3 processes"),
        "{o:?}"
    );
    for i in f.instances() {
        for s in ["be_0/s0", "be_0/s1", "be_0/s2"] {
            assert_eq!(weight(i, s), "7", "{s} on pid {}", i.pid);
        }
        for s in ["be_1/s0", "be_1/s1", "be_1/s2"] {
            assert_eq!(weight(i, s), "1", "{s} on pid {}", i.pid);
        }
    }

    // A state change selected by filter: every server of weight 7 to
    // maintenance, read back raw.
    ok(
        &f,
        &["server", "maint", "*", "--where", "weight=7", "--yes"],
    );
    for i in f.instances() {
        let state = i.raw("show servers state be_0");
        // srv_admin_state (field 7) has the forced-maintenance bit.
        let maint = state
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .filter(|l| l.split_whitespace().nth(6) == Some("1"))
            .count();
        assert_eq!(maint, 3, "pid {}: {state}", i.pid);
    }

    // One literal server: no preview, no question, as before.
    let o = run(&f, &["server", "set-weight", "be_1/s0", "3"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stderr.is_empty(), "{o:?}");
    assert!(f.instances().iter().all(|i| weight(i, "be_1/s0") == "3"));

    // A server only one process has: the set write reaches it there, the
    // other processes refuse, and the report names each of them (exit 1).
    let lone = &f.instances()[2];
    let r = lone.raw("add server be_1/lone 127.0.0.1:9");
    assert!(r.contains("New server registered"), "{r}");
    let o = run(&f, &["server", "set-weight", "be_1/*", "2", "--yes"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("will change 4 servers"), "{o:?}");
    assert!(o.stderr.contains("failed on 2 of 3 processes"), "{o:?}");
    for i in &f.instances()[..2] {
        assert!(o.stderr.contains(&format!("pid {}", i.pid)), "{o:?}");
    }
    assert_eq!(weight(lone, "be_1/lone"), "2");
    // And `check` names the server that exists on one process only.
    let o = run(&f, &["check"]);
    assert_eq!(o.code, 1, "{o:?}");
    let line = o
        .stdout
        .lines()
        .find(|l| l.starts_with("server be_1/lone present:"))
        .unwrap_or_else(|| panic!("{o:?}"));
    assert!(
        line.contains(&format!("pid {}", lone.pid)) && line.contains("=false"),
        "{line}"
    );

    // Nothing selected is an error, not a silent success.
    let o = run(&f, &["server", "drain", "be_9/*", "--yes"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("be_9/*"), "{o:?}");
}

/// A TCP server on loopback that accepts connections and holds them,
/// never answering, until told to close them.
struct SlowBackend {
    port: u16,
    held: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SlowBackend {
    fn start() -> SlowBackend {
        let l = haproxy_e2e::listen_loopback();
        l.set_nonblocking(true).expect("nonblocking");
        let port = l.local_addr().expect("addr").port();
        let held = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (held.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((c, _)) => h.lock().unwrap_or_else(|e| e.into_inner()).push(c),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        SlowBackend {
            port,
            held,
            stop,
            thread: Some(thread),
        }
    }

    /// How many connections it holds.
    fn accepted(&self) -> usize {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Closes every held connection (HAProxy's sessions to it end).
    fn close_all(&self) {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Drop for SlowBackend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `scur` of `be_0`'s servers summed over every instance, read raw.
fn server_sessions(f: &Fleet) -> u64 {
    f.instances()
        .iter()
        .map(|i| {
            let csv = i.raw("show stat -1 4 -1");
            let scur = haproxy_e2e::stat_column(&csv, "scur").expect("scur");
            csv.lines()
                .skip(1)
                .filter(|l| l.starts_with("be_0,"))
                .filter_map(|l| l.split(',').nth(scur).and_then(|v| v.parse::<u64>().ok()))
                .sum::<u64>()
        })
        .sum()
}

/// Opens `n` HTTP requests through `fe_http` that the slow backend will
/// hold, and waits until HAProxy counts them as server sessions. A
/// request HAProxy has answered already (an error: the slow backend never
/// answers) holds nothing: it is sent again, and said so on stderr.
fn hold_sessions(f: &Fleet, slow: &SlowBackend, n: u64) -> Vec<TcpStream> {
    let port = f.instances()[0].http_port;
    let open = || {
        let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect fe_http");
        c.write_all(b"GET /slow HTTP/1.1\r\nHost: slow\r\n\r\n")
            .expect("send request");
        c.set_nonblocking(true).expect("nonblocking client");
        c
    };
    let mut clients: Vec<TcpStream> = (0..n).map(|_| open()).collect();
    let mut answered = Vec::new();
    // A deadline for a loaded machine; what was seen is named if it
    // passes.
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen < n {
        if Instant::now() >= deadline {
            let sessions: Vec<String> = f
                .instances()
                .iter()
                .map(|i| i.raw("show sess") + &i.raw("show stat -1 6 -1"))
                .collect();
            panic!(
                "timed out after 30s waiting for {n} sessions to the slow backend (port {}, \
                 {} connections accepted); HAProxy counts {seen}; answered early: \
                 {answered:?}; sessions per process: {sessions:#?}",
                slow.port,
                slow.accepted()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
        for c in &mut clients {
            let mut first = [0u8; 64];
            match c.peek(&mut first) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                other => {
                    let what = match other {
                        Ok(len) => String::from_utf8_lossy(&first[..len]).into_owned(),
                        Err(e) => e.to_string(),
                    };
                    eprintln!("hold_sessions: a request was answered early, sent again: {what:?}");
                    answered.push(what);
                    *c = open();
                }
            }
        }
        seen = server_sessions(f);
    }
    clients
}

/// Points `be_0/s0` and `be_0/s1` of every instance at the slow backend.
fn point_at_slow(f: &Fleet, slow: &SlowBackend) {
    for i in f.instances() {
        for s in ["s0", "s1"] {
            let r = i.raw(&format!(
                "set server be_0/{s} addr 127.0.0.1 port {}",
                slow.port
            ));
            assert!(r.contains("changed") || r.trim().is_empty(), "{r}");
        }
    }
}

fn wait_child(child: &mut Child, within: Duration) -> (i32, String) {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return (status.code().unwrap_or(-1), err);
        }
        assert!(
            Instant::now() < deadline,
            "haproxy-cli still running after {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn drain_wait_returns_when_sessions_end_and_times_out_with_exit_4() {
    let f = fleet(1, 2);
    let slow = SlowBackend::start();
    point_at_slow(&f, &slow);

    // Sessions held open: the wait reaches its deadline, exit 4, naming
    // what is left.
    let clients = hold_sessions(&f, &slow, 4);
    let started = Instant::now();
    let o = run(
        &f,
        &[
            "server",
            "drain",
            "be_0/*",
            "--wait",
            "--timeout",
            "2s",
            "--yes",
        ],
    );
    assert_eq!(o.code, 4, "{o:?}");
    assert!(o.stderr.contains("timed out"), "{o:?}");
    assert!(o.stderr.contains("be_0/"), "{o:?}");
    assert!(started.elapsed() >= Duration::from_secs(2), "{o:?}");
    for i in f.instances() {
        let st = i.raw("show stat -1 4 -1");
        assert!(
            st.lines()
                .filter(|l| l.starts_with("be_0,s"))
                .all(|l| l.contains(",DRAIN,")),
            "pid {}: {st}",
            i.pid
        );
    }
    slow.close_all();
    drop(clients);
    wait_until(Duration::from_secs(10), "sessions closed", || {
        server_sessions(&f) == 0
    });
    ok(&f, &["server", "ready", "be_0/*", "--yes"]);

    // Sessions held, then closed by the test while the CLI waits: it
    // returns 0 only after they reached zero.
    let clients = hold_sessions(&f, &slow, 4);
    let mut child = command(
        &f,
        &[
            "server",
            "drain",
            "be_0/*",
            "--wait",
            "--timeout",
            "20s",
            "--yes",
        ],
    )
    .spawn()
    .expect("spawn haproxy-cli");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "drain --wait returned while 4 sessions were open"
    );
    assert_eq!(server_sessions(&f), 4);
    let closed = Instant::now();
    slow.close_all();
    drop(clients);
    let (code, err) = wait_child(&mut child, Duration::from_secs(20));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("sessions left: be_0/"),
        "progress lines: {err}"
    );
    assert!(err.contains("done"), "{err}");
    assert_eq!(server_sessions(&f), 0);
    assert!(closed.elapsed() < Duration::from_secs(10), "{err}");
}

/// Spawns `haproxy-cli args` and returns it with its stderr lines as
/// they come (a thread reads them), so a test can act on the wait's
/// progress rather than on time.
fn spawn_watched(f: &Fleet, args: &[&str]) -> (Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = command(f, args).spawn().expect("spawn haproxy-cli");
    let err = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (child, rx)
}

/// Lines from `rx` until one contains `needle` (within `within`); all of
/// them.
fn lines_until(
    rx: &std::sync::mpsc::Receiver<String>,
    needle: &str,
    within: Duration,
) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => {
                let done = l.contains(needle);
                seen.push(l);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("no line with {needle:?} within {within:?}: {seen:?}"),
        }
    }
}

/// A drain wait is undone when someone sets the server back to `ready`
/// while it waits: it ends with exit 5 naming the server and process,
/// never "done"; and a process frozen mid-wait does not stretch the
/// deadline: the read cut by it ends the wait as timed out (exit 4), not
/// as a process that could not be read seconds later.
#[test]
fn a_drain_wait_that_is_undone_fails_and_a_frozen_process_keeps_the_deadline() {
    let f = fleet(1, 2);
    let slow = SlowBackend::start();
    point_at_slow(&f, &slow);
    let clients = hold_sessions(&f, &slow, 4);

    // `drain --wait` with `timeout`; `act` runs once the wait's first
    // round is done (its first progress line). Its exit code and stderr.
    let drain_wait = |timeout: &str, act: &dyn Fn()| -> (Option<i32>, Vec<String>) {
        let (mut child, rx) = spawn_watched(
            &f,
            &[
                "server",
                "drain",
                "be_0/*",
                "--wait",
                "--timeout",
                timeout,
                "--yes",
            ],
        );
        let mut seen = lines_until(&rx, "sessions left:", Duration::from_secs(30));
        act();
        let status = child.wait().expect("wait haproxy-cli");
        seen.extend(rx.iter());
        (status.code(), seen)
    };

    // Undone: s0 set back to ready on one process mid-wait.
    let undo = &f.instances()[1];
    let (code, seen) = drain_wait("60s", &|| {
        let r = undo.raw("set server be_0/s0 state ready");
        assert!(r.trim().is_empty(), "{r}");
    });
    let err = seen.join("\n");
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("undone") && err.contains("be_0/s0") && err.contains(&undo.pid.to_string()),
        "{err}"
    );
    assert!(
        !seen.iter().any(|l| l.starts_with("done:")),
        "never called done: {err}"
    );

    // A frozen process: the wait keeps its 3 s deadline.
    ok(&f, &["server", "drain", "be_0/*", "--yes"]);
    let frozen = &f.instances()[2];
    let started = Instant::now();
    let (code, seen) = drain_wait("3s", &|| haproxy_e2e::signal(frozen.pid, "STOP"));
    let took = started.elapsed();
    haproxy_e2e::signal(frozen.pid, "CONT");
    let err = seen.join("\n");
    assert_eq!(code, Some(4), "timed out at the deadline ({took:?}): {err}");
    assert!(err.contains("timed out"), "{err}");
    // A bound for a hang, not a window: the exit code says the deadline
    // logic ended it.
    assert!(took < Duration::from_secs(15), "{took:?}");

    slow.close_all();
    drop(clients);
    wait_until(Duration::from_secs(10), "sessions closed", || {
        server_sessions(&f) == 0
    });
}

#[test]
fn dynamic_servers_are_added_and_deleted_on_every_process() {
    let f = fleet(1, 1);
    let slow = SlowBackend::start();
    let addr = format!("127.0.0.1:{}", slow.port);
    let o = run(&f, &["server", "add", "be_0/dyn1", &addr, "--weight", "5"]);
    assert_eq!(o.code, 0, "{o:?}");
    for i in f.instances() {
        assert_eq!(weight(i, "be_0/dyn1"), "5", "pid {}", i.pid);
        let st = i.raw("show stat -1 4 -1");
        let line = st
            .lines()
            .find(|l| l.starts_with("be_0,dyn1,"))
            .expect("dyn1");
        assert!(
            line.contains(",UP,") || line.contains(",no check,"),
            "{line}"
        );
    }
    // Not in maintenance: HAProxy refuses the delete, and says so.
    let o = run(&f, &["server", "del", "be_0/dyn1"]);
    assert_eq!(o.code, 1, "{o:?}");
    // --drain-first: maintenance, wait, delete.
    let o = run(
        &f,
        &[
            "server",
            "del",
            "be_0/dyn1",
            "--drain-first",
            "--timeout",
            "10s",
        ],
    );
    assert_eq!(o.code, 0, "{o:?}");
    for i in f.instances() {
        assert!(
            !i.raw("show stat -1 4 -1").contains("be_0,dyn1,"),
            "pid {}",
            i.pid
        );
    }
}

/// `server add --check` starts the checks (`enable health`, which a
/// dynamic server needs) on every process; `--maint` leaves the server
/// in maintenance on every process. Read back raw.
#[test]
fn server_add_check_starts_the_checks_and_maint_leaves_it_in_maintenance() {
    let f = fleet(1, 1);
    let slow = SlowBackend::start();
    let addr = format!("127.0.0.1:{}", slow.port);

    let out = ok(
        &f,
        &["server", "add", "be_0/chk", &addr, "--check", "--dry-run"],
    );
    assert_eq!(out.matches("enable health be_0/chk").count(), 3, "{out}");
    assert_eq!(out.matches("enable server be_0/chk").count(), 3, "{out}");

    let o = run(&f, &["server", "add", "be_0/chk", &addr, "--check"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stderr
            .contains("added be_0/chk on 3 processes (checks enabled)"),
        "{o:?}"
    );
    for i in f.instances() {
        // The checks run (default inter 2s): past `INI`, a check
        // passed (the slow backend accepts connections), so the server
        // is UP by its check.
        wait_until(
            Duration::from_secs(15),
            "a passed check of be_0/chk",
            || {
                let st = i.raw("show stat -1 4 -1");
                haproxy_e2e::stat_field(&st, "be_0", "chk", "check_status") == Some("L4OK")
            },
        );
        let st = i.raw("show stat -1 4 -1");
        assert!(
            haproxy_e2e::stat_field(&st, "be_0", "chk", "status")
                .is_some_and(|s| s.starts_with("UP")),
            "pid {}: {st}",
            i.pid
        );
    }

    let o = run(&f, &["server", "add", "be_0/m1", &addr, "--maint"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stderr
            .contains("added be_0/m1 on 3 processes (in maintenance)"),
        "{o:?}"
    );
    for i in f.instances() {
        let st = i.raw("show stat -1 4 -1");
        assert_eq!(
            haproxy_e2e::stat_field(&st, "be_0", "m1", "status"),
            Some("MAINT"),
            "pid {}: {st}",
            i.pid
        );
    }

    // A server without `check`: HAProxy refuses `enable health`; not
    // asked for, it is not sent, and the add succeeds.
    let o = run(&f, &["server", "add", "be_0/plain", &addr]);
    assert_eq!(o.code, 0, "{o:?}");
    let r = f.instances()[0].raw("enable health be_0/plain");
    assert!(
        !r.trim().is_empty(),
        "HAProxy accepted enable health without check: {r}"
    );
}

/// A frontend write on a glob set: previewed, refused without `--yes`
/// off a terminal, then applied to exactly the selected frontends on
/// every process (read back raw), and undone the same way.
#[test]
fn a_frontend_write_on_a_glob_set_reaches_every_process() {
    let f = Fleet::start(Options {
        instances: 3,
        topology: Topology::standard(),
        ..Options::default()
    });
    let status = |i: &Instance, fe: &str| {
        let st = i.raw("show stat -1 1 -1");
        haproxy_e2e::stat_field(&st, fe, "FRONTEND", "status")
            .unwrap_or_else(|| panic!("no {fe}: {st}"))
            .to_owned()
    };
    let all_open = |f: &Fleet| {
        f.instances().iter().all(|i| {
            ["fe_http", "fe_tcp", "health"]
                .iter()
                .all(|fe| status(i, fe) == "OPEN")
        })
    };
    assert!(all_open(&f));

    let o = run(&f, &["frontend", "disable", "fe_*"]);
    assert_eq!(o.code, 2, "{o:?}");
    assert!(
        o.stderr.contains("will change 2 frontends on 3 processes"),
        "{o:?}"
    );
    assert!(all_open(&f), "a refused write changed something");

    let o = run(&f, &["frontend", "disable", "fe_*", "--yes"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stderr.contains("changed 2 frontends on 3 processes"),
        "{o:?}"
    );
    for i in f.instances() {
        for fe in ["fe_http", "fe_tcp"] {
            let s = status(i, fe);
            // `disable frontend` pauses the listeners: PAUSED (2.x), STOP
            // before.
            assert!(s == "PAUSED" || s == "STOP", "{fe} on pid {}: {s}", i.pid);
        }
        assert_eq!(status(i, "health"), "OPEN", "pid {}", i.pid);
    }

    let o = run(&f, &["frontend", "enable", "fe_*", "--yes"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stderr.contains("changed 2 frontends on 3 processes"),
        "{o:?}"
    );
    assert!(all_open(&f));
}

#[test]
fn check_passes_on_a_consistent_fleet_and_names_a_weight_changed_behind_its_back() {
    let f = fleet(2, 2);
    let o = run(&f, &["check"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("consistent: 3 processes agree"), "{o:?}");

    let odd = &f.instances()[1];
    assert!(odd.raw("set weight be_1/s0 3").trim().is_empty());
    let o = run(&f, &["check"]);
    assert_eq!(o.code, 1, "{o:?}");
    let line = o
        .stdout
        .lines()
        .find(|l| l.starts_with("server be_1/s0 weight:"))
        .unwrap_or_else(|| panic!("no weight difference: {o:?}"));
    let values: Vec<&str> = line
        .split_once(':')
        .map_or("", |(_, v)| v)
        .split(", ")
        .map(str::trim)
        .collect();
    assert_eq!(values.len(), 3, "{line}");
    for i in f.instances() {
        let want = if i.pid == odd.pid { "=3" } else { "=1" };
        let pid = format!("pid {}", i.pid);
        assert!(
            values
                .iter()
                .any(|v| v.starts_with(&pid) && v.ends_with(want)),
            "{line}"
        );
    }
    assert!(o.stderr.contains("difference"), "{o:?}");
    // The same object is what --disagreeing selects.
    let d = ok(
        &f,
        &["--format", "jsonl", "server", "list", "--disagreeing"],
    );
    assert_eq!(jsonl_names(&d), ["be_1/s0"]);

    // A map entry added behind the CLI's back on one instance.
    let map = f.map_file();
    let r = odd.raw(&format!("add map {} odd.example be_1", map.display()));
    assert!(r.trim().is_empty(), "{r}");
    let o = run(&f, &["check"]);
    assert_eq!(o.code, 1, "{o:?}");
    // Named by its file and key, with each process's value (none where
    // it lacks the key), whole.
    let line = o
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("map {} entry odd.example:", map.display())))
        .unwrap_or_else(|| panic!("no map difference: {o:?}"));
    assert!(line.contains(&format!("pid {}", odd.pid)), "{line}");
    assert!(line.contains("=be_1"), "{line}");
    assert!(line.contains("=(none)"), "{line}");
    // map show refuses to pick one process's entries, naming the key
    // and each process's value, in words (no Rust Debug text).
    let o = run(&f, &["map", "show", &map.to_string_lossy()]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains("1 key differs") && o.stderr.contains("\"odd.example\""),
        "{o:?}"
    );
    assert!(
        o.stderr.contains("\"be_1\"") && !o.stderr.contains("Some("),
        "{o:?}"
    );
    let j = run(&f, &["--format", "json", "check"]);
    assert_eq!(j.code, 1, "{j:?}");
    let v: Json = serde_json::from_str(&j.stdout).expect("JSON");
    assert!(
        v.as_array().is_some_and(|a| a
            .iter()
            .any(|d| d["field"] == "uweight" || d["field"] == "weight")),
        "{v}"
    );
    // Numbers are JSON numbers, as in every other JSON output.
    let weights: Vec<&Json> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["field"] == "weight")
        .flat_map(|d| d["values"].as_array().into_iter().flatten())
        .map(|p| &p["value"])
        .collect();
    assert!(!weights.is_empty(), "{v}");
    assert!(weights.iter().all(|w| w.is_i64()), "{weights:?}");
}

#[test]
fn environment_variables_and_named_targets_select_the_fleet() {
    let f = fleet(1, 1);
    let dir = f.socket_dir();
    // HAPROXY_CLI_SOCKET (comma-separated) and HAPROXY_CLI_FORMAT.
    let socks: Vec<String> = f
        .instances()
        .iter()
        .map(|i| i.socket.display().to_string())
        .collect();
    let o = Command::new(cli())
        .args(["server", "list", "be_0/s0"])
        .env("HAPROXY_CLI_SOCKET", socks.join(","))
        .env("HAPROXY_CLI_FORMAT", "jsonl")
        .env("HAPROXY_CLI_SOCKET_DIR", "/nonexistent")
        .output()
        .expect("run");
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        jsonl_names(&String::from_utf8_lossy(&o.stdout)),
        ["be_0/s0"]
    );
    // A named target from a config file.
    let cfg = f.dir().join("cli.conf");
    std::fs::write(
        &cfg,
        format!(
            "# test\n[local]\nsocket-dir = {}\n\n[other]\nsocket = /nope.sock\n",
            dir.display()
        ),
    )
    .expect("write config");
    let o = Command::new(cli())
        .args(["--config"])
        .arg(&cfg)
        .args(["--target", "local", "check"])
        .env_remove("HAPROXY_CLI_SOCKET_DIR")
        .output()
        .expect("run");
    assert!(o.status.success(), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("3 processes agree"));
    let o = Command::new(cli())
        .args(["--config"])
        .arg(&cfg)
        .args(["--target", "nope", "check"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("no target [nope]"));

    // HAPROXY_CLI_PER_PROCESS: one series per process, with its pid.
    let o = command(&f, &["--format", "prometheus", "server", "list"])
        .env("HAPROXY_CLI_PER_PROCESS", "true")
        .output()
        .expect("run");
    assert!(o.status.success(), "{o:?}");
    let text = String::from_utf8_lossy(&o.stdout);
    for i in f.instances() {
        assert!(text.contains(&format!("pid=\"{}\"", i.pid)), "{text}");
    }

    // HAPROXY_CLI_PROBE_TIMEOUT (a duration with a unit) and
    // HAPROXY_CLI_ALLOW_PARTIAL, with one process frozen: discovery gives
    // up on it after 500ms (not the 20 s --timeout), and the listing is
    // partial (exit 3) — or a failure (exit 1) when partial is refused.
    let frozen = Frozen::new(f.instances()[2].pid);
    let partial = |allow: &str| {
        let started = Instant::now();
        let o = command(&f, &["server", "list", "be_0/s0"])
            .env("HAPROXY_CLI_TIMEOUT", "20")
            .env("HAPROXY_CLI_PROBE_TIMEOUT", "500ms")
            .env("HAPROXY_CLI_ALLOW_PARTIAL", allow)
            .output()
            .expect("run");
        assert!(started.elapsed() < Duration::from_secs(10), "{o:?}");
        o
    };
    let o = partial("true");
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("partial: not reached"), "{err}");
    assert!(err.contains("500ms"), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("s0"), "{o:?}");
    let o = partial("false");
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    drop(frozen);
}

/// Sends SIGCONT on drop, so a failed assertion never leaves a process
/// frozen.
struct Frozen(u32);

impl Frozen {
    fn new(pid: u32) -> Frozen {
        haproxy_e2e::signal(pid, "STOP");
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        haproxy_e2e::signal(self.0, "CONT");
    }
}

/// Runs `haproxy-cli ARGS` on a pseudo-terminal (util-linux `script`),
/// typing `answer` on it.
fn on_terminal(f: &Fleet, args: &str, answer: &str) -> (i32, String) {
    let line = format!(
        "{} --socket-dir {} {args}",
        cli().display(),
        f.socket_dir().display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("HAPROXY_CLI_SOCKET_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs a command on a pseudo-terminal: install util-linux");
    if let Some(mut i) = child.stdin.take() {
        i.write_all(answer.as_bytes()).expect("type the answer");
    }
    let o = child.wait_with_output().expect("wait script");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn a_set_write_on_a_terminal_asks_and_does_what_was_answered() {
    let f = fleet(1, 3);
    let all = ["be_0/s0", "be_0/s1", "be_0/s2"];
    let (code, screen) = on_terminal(&f, "server set-weight 'be_0/*' 4", "n\n");
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("change 3 servers? [y/N]"), "{screen}");
    assert!(screen.contains("nothing changed"), "{screen}");
    assert!(weights(&f, &all).iter().all(|w| w == "1"));
    let (code, screen) = on_terminal(&f, "server set-weight 'be_0/*' 4", "y\n");
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("changed 3 servers on 3 processes"),
        "{screen}"
    );
    assert!(weights(&f, &all).iter().all(|w| w == "4"));
}

#[test]
fn maint_and_frontend_disable_wait_for_sessions_too() {
    let f = fleet(1, 1);
    let slow = SlowBackend::start();
    for i in f.instances() {
        i.raw(&format!(
            "set server be_0/s0 addr 127.0.0.1 port {}",
            slow.port
        ));
    }
    let clients = hold_sessions(&f, &slow, 2);
    let o = run(
        &f,
        &["server", "maint", "be_0/s0", "--wait", "--timeout", "1s"],
    );
    assert_eq!(o.code, 4, "{o:?}");
    // Two sessions in all: at most 2 per process holds at once.
    let o = run(
        &f,
        &[
            "frontend",
            "disable",
            "fe_http",
            "--wait",
            "--until-sessions",
            "2",
        ],
    );
    assert_eq!(o.code, 0, "{o:?}");
    let o = run(
        &f,
        &[
            "frontend",
            "disable",
            "fe_http",
            "--wait",
            "--timeout",
            "500ms",
        ],
    );
    assert_eq!(o.code, 4, "{o:?}");
    assert!(o.stderr.contains("fe_http"), "{o:?}");
    for i in f.instances() {
        let st = i.raw("show stat -1 1 -1");
        assert!(
            st.contains("fe_http,FRONTEND,") && (st.contains(",PAUSED,") || st.contains(",STOP,")),
            "{st}"
        );
    }
    slow.close_all();
    drop(clients);
    let o = run(
        &f,
        &[
            "frontend",
            "disable",
            "fe_http",
            "--wait",
            "--timeout",
            "10s",
        ],
    );
    assert_eq!(o.code, 0, "{o:?}");
    let o = run(
        &f,
        &["server", "maint", "be_0/s0", "--wait", "--timeout", "10s"],
    );
    assert_eq!(o.code, 0, "{o:?}");
}
