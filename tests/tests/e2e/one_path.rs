//! One path per job (issue 27): the defects that came from a second path,
//! each checked against real HAProxy on the version under test, from
//! outside (HAProxy's own replies, the bytes on the socket).
//!
//! - a dry run prints the bytes that are sent, and `server add` refuses
//!   an address shaped like a second command;
//! - an object only some processes have is marked in every listing form;
//! - `raw` replies are judged;
//! - the exporter honours `--max-reply-size` and `--target`;
//! - the command line beats the environment for every way of naming the
//!   processes;
//! - a malformed `--where` is a usage error.

use crate::cli::cli;
use haproxy_e2e::{stat_field, Fleet, MasterWorker, Options, Topology};
use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `haproxy-cli args` with none of its variables but `env`.
fn run_env(args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = Command::new(cli());
    for (k, _) in std::env::vars() {
        if k.starts_with("HAPROXY_CLI_") {
            c.env_remove(k);
        }
    }
    // No user config file is read by accident.
    c.env("XDG_CONFIG_HOME", "/nonexistent/hx-config");
    c.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let o = c.output().expect("run haproxy-cli");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn in_dir(f: &Fleet, args: &[&str]) -> Out {
    let dir = f.socket_dir().to_string_lossy().into_owned();
    let mut all = vec!["--socket-dir", dir.as_str()];
    all.extend_from_slice(args);
    run_env(&all, &[])
}

/// `show servers state be_static` of one instance: the names of its
/// servers.
fn servers_of(i: &haproxy_e2e::Instance) -> Vec<String> {
    i.raw("show servers state be_static")
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|l| l.split_whitespace().nth(3).map(str::to_owned))
        .collect()
}

/// A transparent tap in front of a real HAProxy socket: every byte the
/// client sends is recorded, every byte is passed on both ways.
pub(crate) struct Tap {
    pub(crate) path: PathBuf,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Tap {
    pub(crate) fn start(real: &Path, path: PathBuf) -> Tap {
        let listener = UnixListener::bind(&path).expect("bind the tap");
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (real, log) = (real.to_path_buf(), Arc::clone(&sent));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let (real, log) = (real.clone(), Arc::clone(&log));
                std::thread::spawn(move || {
                    let Ok(mut upstream) = UnixStream::connect(&real) else {
                        return;
                    };
                    let (Ok(mut back), Ok(mut to_client)) =
                        (upstream.try_clone(), client.try_clone())
                    else {
                        return;
                    };
                    let pump = std::thread::spawn(move || {
                        let _ = std::io::copy(&mut back, &mut to_client);
                        let _ = to_client.shutdown(std::net::Shutdown::Write);
                    });
                    let mut buf = [0u8; 8192];
                    loop {
                        match client.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                log.lock().expect("tap log").extend_from_slice(&buf[..n]);
                                if upstream.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = upstream.shutdown(std::net::Shutdown::Write);
                    let _ = pump.join();
                });
            }
        });
        Tap { path, sent }
    }

    pub(crate) fn take(&self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut *self.sent.lock().expect("tap log")))
            .into_owned()
    }
}

/// The command lines of a dry run (its `# pid` headers left out).
fn planned(dry: &str) -> Vec<&str> {
    dry.lines().filter(|l| !l.starts_with("# pid ")).collect()
}

/// Asserts that every planned line was sent, whole and in order.
fn sent_in_order(plan: &[&str], sent: &str) {
    assert!(!plan.is_empty(), "a dry run that plans nothing");
    let lines: Vec<&str> = sent.split('\n').collect();
    let mut at = 0;
    for want in plan {
        match lines[at..].iter().position(|l| l == want) {
            Some(i) => at += i + 1,
            None => panic!("`{want}` was not sent as planned; sent:\n{sent}"),
        }
    }
}

#[test]
fn a_dry_run_prints_the_bytes_that_are_sent() {
    let f = Fleet::start(Options::default());
    let inst = &f.instances()[0];
    let tap = Tap::start(&inst.socket, f.dir().join("tap.sock"));
    let sock = tap.path.to_string_lossy().into_owned();

    // A set write: the dry run's lines are those the socket receives.
    let args = [
        "--socket",
        &sock,
        "server",
        "set-weight",
        "be_static/s*",
        "7",
    ];
    let dry = run_env(&[&args[..], &["--dry-run"]].concat(), &[]);
    assert_eq!(dry.code, 0, "{dry:?}");
    let plan = planned(&dry.stdout);
    assert_eq!(plan.len(), 2, "{dry:?}");
    assert_eq!(
        tap.take().matches("set weight").count(),
        0,
        "a dry run sends no write"
    );
    let o = run_env(&[&args[..], &["--yes"]].concat(), &[]);
    assert_eq!(o.code, 0, "{o:?}");
    sent_in_order(&plan, &tap.take());
    for s in ["s1", "s2"] {
        assert!(
            inst.raw(&format!("get weight be_static/{s}"))
                .starts_with("7 "),
            "{s}"
        );
    }

    // `server add` with follow-up commands: the same.
    let args = [
        "--socket",
        &sock,
        "server",
        "add",
        "be_static/dry1",
        "127.0.0.1:9",
        "--weight",
        "5",
        "--check",
    ];
    let dry = run_env(&[&args[..], &["--dry-run"]].concat(), &[]);
    assert_eq!(dry.code, 0, "{dry:?}");
    let plan = planned(&dry.stdout);
    assert_eq!(
        plan,
        [
            "add server be_static/dry1 127.0.0.1:9 weight 5 check",
            "enable health be_static/dry1",
            "enable server be_static/dry1"
        ],
        "{dry:?}"
    );
    assert!(!servers_of(inst).contains(&"dry1".to_owned()));
    tap.take();
    let o = run_env(&args, &[]);
    assert_eq!(o.code, 0, "{o:?}");
    sent_in_order(&plan, &tap.take());
    assert!(servers_of(inst).contains(&"dry1".to_owned()));
    assert!(inst.raw("get weight be_static/dry1").starts_with("5 "));
}

#[test]
fn an_address_shaped_like_a_second_command_is_refused() {
    let f = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    let evil = "127.0.0.1:1 ;shutdown frontend fe_http";
    for extra in [&["--dry-run"][..], &[]] {
        let o = in_dir(
            &f,
            &[&["server", "add", "be_static/x", evil][..], extra].concat(),
        );
        assert_eq!(o.code, 2, "{extra:?}: {o:?}");
        assert!(o.stdout.is_empty(), "nothing planned: {o:?}");
        assert!(
            o.stderr.contains("address") && o.stderr.contains("ADDR:PORT"),
            "says what is wrong: {o:?}"
        );
    }
    // Nothing reached HAProxy: the frontend is open, no server added, on
    // every process.
    for i in f.instances() {
        let stat = i.raw("show stat");
        assert_eq!(
            stat_field(&stat, "fe_http", "FRONTEND", "status"),
            Some("OPEN"),
            "pid {}",
            i.pid
        );
        assert!(!servers_of(i).contains(&"x".to_owned()), "pid {}", i.pid);
    }
    // `set-addr` refuses the same address the same way.
    let o = in_dir(&f, &["server", "set-addr", "be_static/s1", evil]);
    assert_eq!(o.code, 2, "{o:?}");
}

#[test]
fn an_object_on_some_processes_is_marked_in_every_listing_form() {
    let f = Fleet::start(Options {
        instances: 3,
        ..Options::default()
    });
    // `dyn` on two of three processes, with weights that differ.
    for (i, w) in f.instances()[..2].iter().zip([1, 2]) {
        let r = i.raw(&format!("add server be_static/dyn 127.0.0.1:9 weight {w}"));
        assert!(r.contains("New server registered"), "{r}");
    }
    assert!(!servers_of(&f.instances()[2]).contains(&"dyn".to_owned()));

    for args in [
        &["server", "list"][..],
        &["server", "list", "*/dyn"],
        &["server", "list", "--status", "MAINT"],
        &["server", "list", "--columns", "weight"],
        &["server", "list", "--disagreeing"],
        &["server", "list", "--sort", "-weight"],
        &["server", "list", "-o", "wide"],
    ] {
        let o = in_dir(&f, args);
        assert_eq!(o.code, 0, "{args:?}: {o:?}");
        let line = o
            .stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some("dyn"))
            .unwrap_or_else(|| panic!("{args:?}: dyn listed: {o:?}"));
        assert!(line.contains("dyn [2/3]"), "{args:?}: {line}");
    }
    for args in [
        &["--format", "json", "server", "list"][..],
        &["--format", "json", "server", "list", "*/dyn"],
        &["--format", "json", "server", "list", "--columns", "weight"],
        &["--format", "json", "server", "list", "--disagreeing"],
        &["--format", "jsonl", "server", "list"],
    ] {
        let o = in_dir(&f, args);
        assert_eq!(o.code, 0, "{args:?}: {o:?}");
        let objects: Vec<Json> = if args[1] == "jsonl" {
            o.stdout
                .lines()
                .map(|l| serde_json::from_str(l).expect("a JSON line"))
                .collect()
        } else {
            serde_json::from_str(&o.stdout).expect("JSON")
        };
        let d = objects
            .iter()
            .find(|o| o["name"] == "dyn")
            .unwrap_or_else(|| panic!("{args:?}: dyn listed"));
        assert_eq!(d["processes"], 2, "{args:?}: {d}");
        let s1 = objects.iter().find(|o| o["name"] == "s1");
        assert!(
            s1.is_none_or(|s| s.get("processes").is_none()),
            "{args:?}: s1 is on every process"
        );
    }
    for args in [
        &["--format", "csv", "server", "list"][..],
        &["--format", "csv", "server", "list", "--columns", "weight"],
        &["--format", "csv", "server", "list", "*/dyn"],
    ] {
        let o = in_dir(&f, args);
        assert_eq!(o.code, 0, "{args:?}: {o:?}");
        let rows = crate::cli::csv(&o.stdout);
        let last = rows[0].len() - 1;
        assert_eq!(rows[0][last], "processes", "{args:?}: {:?}", rows[0]);
        let name = rows[0].iter().position(|c| c == "name").expect("name");
        let d = rows
            .iter()
            .find(|r| r[name] == "dyn")
            .unwrap_or_else(|| panic!("{args:?}: dyn listed"));
        assert_eq!(d[last], "2", "{args:?}: {d:?}");
    }
}

#[test]
fn raw_replies_are_judged() {
    let f = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    for (line, said) in [
        ("frobnicate", "Unknown command"),
        ("set weight be_static/nosuch 3", "No such server"),
    ] {
        let o = in_dir(&f, &["raw", line]);
        assert_eq!(o.code, 1, "{line}: {o:?}");
        assert!(o.stderr.contains(said), "HAProxy's words: {o:?}");
        assert!(o.stdout.is_empty(), "{o:?}");
    }
    // Accepted lines still pass, and their effect is on every process.
    let o = in_dir(&f, &["raw", "set weight be_static/s1 9"]);
    assert_eq!(o.code, 0, "{o:?}");
    for i in f.instances() {
        assert!(
            i.raw("get weight be_static/s1").starts_with("9 "),
            "pid {}",
            i.pid
        );
    }
    let o = in_dir(&f, &["raw", "show info"]);
    assert_eq!(o.code, 0, "{o:?}");
    for i in f.instances() {
        assert!(o.stdout.contains(&format!("Pid: {}", i.pid)), "{o:?}");
    }
}

#[test]
fn a_malformed_where_is_a_usage_error() {
    let f = Fleet::start(Options::default());
    for w in ["scur>abc", "weight<=1x", "status>UP"] {
        let o = in_dir(&f, &["server", "list", "--where", w]);
        assert_eq!(o.code, 2, "{w}: {o:?}");
        assert!(o.stderr.contains("needs a number"), "{w}: {o:?}");
    }
    // A well-formed one still selects.
    let o = in_dir(&f, &["server", "list", "--where", "weight>=15"]);
    assert_eq!(o.code, 0, "{o:?}");
    let names: Vec<&str> = o
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(names, ["s2"], "{o:?}");
}

/// The exporter, started with `args` and `env`; killed on drop.
pub(crate) struct Exporter {
    child: std::process::Child,
    pub(crate) addr: SocketAddr,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Exporter {
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)]) -> Exporter {
        let addr = SocketAddr::from(([127, 0, 0, 1], haproxy_e2e::free_port()));
        let mut c = Command::new(cli());
        for (k, _) in std::env::vars() {
            if k.starts_with("HAPROXY_CLI_") {
                c.env_remove(k);
            }
        }
        let child = c
            .args(args)
            .args(["exporter", "--listen", &addr.to_string()])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the exporter");
        let mut e = Exporter { child, addr };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = e.child.try_wait() {
                panic!("the exporter exited: {status}");
            }
            assert!(Instant::now() < deadline, "the exporter does not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        e
    }

    pub(crate) fn scrape(&self) -> String {
        let (head, body) = crate::prometheus::http_get(self.addr, "/metrics", "");
        assert!(
            head.starts_with("HTTP/1.") && head.contains(" 200"),
            "{head}"
        );
        String::from_utf8(body).expect("UTF-8")
    }

    /// The exporter's peak resident memory, in KiB.
    pub(crate) fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }
}

#[test]
fn the_exporter_honours_max_reply_size() {
    let f = Fleet::start(Options::default());
    let real = &f.instances()[0];
    // Beside the real process, a socket that answers `show info` as a
    // process of its own and `show stat` without end (a fault a real
    // HAProxy does not produce on demand).
    let info = real
        .raw("show info")
        .replace(&format!("\nPid: {}\n", real.pid), "\nPid: 4000007\n");
    let stat = real.raw("show stat");
    let header = stat.lines().next().expect("header").to_owned();
    let row = stat.lines().nth(1).expect("a row").to_owned();
    let endless = f.socket_dir().join("endless.sock");
    let listener = UnixListener::bind(&endless).expect("bind");
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let (info, header, row) = (info.clone(), header.clone(), row.clone());
            std::thread::spawn(move || {
                let mut line = String::new();
                let Ok(clone) = s.try_clone() else { return };
                if BufReader::new(clone).read_line(&mut line).is_err() {
                    return;
                }
                if line.trim() == "show info" {
                    let _ = s.write_all(info.as_bytes());
                } else if line.trim() == "show stat" {
                    let _ = writeln!(s, "{header}");
                    let chunk = format!("{row}\n").repeat(1024);
                    while s.write_all(chunk.as_bytes()).is_ok() {}
                } else {
                    let _ = s.write_all(b"Unknown command.\n\n");
                }
            });
        }
    });
    let dir = f.socket_dir().to_string_lossy().into_owned();
    let e = Exporter::start(
        &[
            "--socket-dir",
            &dir,
            "--max-reply-size",
            "1M",
            "--timeout",
            "30",
        ],
        &[],
    );
    for _ in 0..3 {
        let body = e.scrape();
        let ups: Vec<&str> = body
            .lines()
            .filter(|l| l.starts_with("haproxy_up{"))
            .collect();
        let real_up = ups
            .iter()
            .find(|l| l.contains(&format!("endpoint=\"{}\"", real.socket.display())));
        assert!(
            real_up.is_some_and(|l| l.ends_with(" 1")),
            "the real process is served: {ups:?}"
        );
        assert!(
            ups.iter()
                .any(|l| l.contains("endless.sock") && l.ends_with(" 0")),
            "the endless one is down: {ups:?}"
        );
        // No pid on `haproxy_up` (a reload keeps the series); the pid is
        // on the info series of the process behind the endpoint.
        assert!(ups.iter().all(|l| !l.contains("pid=")), "{ups:?}");
        assert!(
            body.lines()
                .any(|l| l.starts_with("haproxy_cli_process_info{")
                    && l.contains(&format!("pid=\"{}\"", real.pid))),
            "the info series names the pid"
        );
        assert!(
            body.contains("haproxy_backend_status{proxy=\"be_static\""),
            "its series are there"
        );
    }
    let rss = e.peak_rss_kib();
    assert!(
        rss < 64 * 1024,
        "peak RSS {rss} KiB: the 1M bound was not honoured"
    );
}

#[test]
fn the_exporter_and_every_command_honour_a_named_target() {
    let f = Fleet::start(Options::default());
    let cfg = f.dir().join("hx-config");
    std::fs::write(
        &cfg,
        format!(
            "# fleet\n[lab]\nsocket-dir = {}\n",
            f.socket_dir().display()
        ),
    )
    .expect("config");
    let cfg = cfg.to_string_lossy().into_owned();
    let pid = f.instances()[0].pid.to_string();
    let by_flag = Exporter::start(&["--config", &cfg, "--target", "lab"], &[]);
    let by_env = Exporter::start(
        &[],
        &[
            ("HAPROXY_CLI_TARGET", "lab"),
            ("HAPROXY_CLI_CONFIG", cfg.as_str()),
        ],
    );
    for e in [&by_flag, &by_env] {
        let body = e.scrape();
        assert!(
            body.contains("haproxy_backend_status{proxy=\"be_static\""),
            "the target's processes are served: {body:.2000}"
        );
        assert!(
            body.contains(&format!("pid=\"{pid}\"")) || body.contains(&pid),
            "its pid is there"
        );
    }
    let o = run_env(&["--config", &cfg, "--target", "lab", "metric", "Pid"], &[]);
    assert_eq!((o.code, o.stdout.trim()), (0, pid.as_str()), "{o:?}");
}

/// Every pair of ways to name the processes, one on the command line and
/// the other in the environment: the command line wins, whatever the
/// environment names (here, something that does not exist). Two at the
/// same level are a usage error.
#[test]
fn the_command_line_beats_the_environment_for_every_source() {
    let f = Fleet::start(Options::default());
    let mw = MasterWorker::start(Topology::standard());
    let cfg = f.dir().join("hx-config");
    std::fs::write(
        &cfg,
        format!("[lab]\nsocket = {}\n", f.instances()[0].socket.display()),
    )
    .expect("config");
    let cfg = cfg.to_string_lossy().into_owned();
    let dir = f.socket_dir().to_string_lossy().into_owned();
    let sock = f.instances()[0].socket.to_string_lossy().into_owned();
    let master = mw.master_socket().to_string_lossy().into_owned();
    let fleet_pid = f.instances()[0].pid.to_string();
    let worker_pid = mw.worker_pids()[0].to_string();

    // (flag, its good value, its variable, a value naming nothing, the
    // pid it reaches).
    let ways: [(&str, &str, &str, &str, &str); 4] = [
        (
            "--socket-dir",
            &dir,
            "HAPROXY_CLI_SOCKET_DIR",
            "/nonexistent/hx-dir",
            &fleet_pid,
        ),
        (
            "--socket",
            &sock,
            "HAPROXY_CLI_SOCKET",
            "/nonexistent/hx.sock",
            &fleet_pid,
        ),
        (
            "--master",
            &master,
            "HAPROXY_CLI_MASTER",
            "/nonexistent/hx-master.sock",
            &worker_pid,
        ),
        (
            "--target",
            "lab",
            "HAPROXY_CLI_TARGET",
            "nosuch",
            &fleet_pid,
        ),
    ];
    let mut pairs = 0;
    for (flag, good, _, _, pid) in &ways {
        for (_, _, var, bad, _) in ways.iter().filter(|w| w.0 != *flag) {
            let o = run_env(
                &["--config", &cfg, flag, good, "metric", "Pid"],
                &[(var, bad)],
            );
            assert_eq!(
                (o.code, o.stdout.trim()),
                (0, *pid),
                "{flag} on the command line, {var}={bad}: {o:?}"
            );
            pairs += 1;
        }
        // Its own variable naming nothing: the flag wins too.
        let own = ways.iter().find(|w| w.0 == *flag).map(|w| (w.2, w.3));
        let (var, bad) = own.expect("its variable");
        let o = run_env(
            &["--config", &cfg, flag, good, "metric", "Pid"],
            &[(var, bad)],
        );
        assert_eq!(
            (o.code, o.stdout.trim()),
            (0, *pid),
            "{flag} vs {var}: {o:?}"
        );
    }
    assert_eq!(pairs, 12);
    // The environment alone is used when the command line names nothing.
    for (_, good, var, _, pid) in &ways {
        let o = run_env(&["--config", &cfg, "metric", "Pid"], &[(var, good)]);
        assert_eq!((o.code, o.stdout.trim()), (0, *pid), "{var}={good}: {o:?}");
    }
    // Two at one level: a usage error that names both.
    let o = run_env(
        &[
            "--config", &cfg, "--socket", &sock, "--target", "lab", "info",
        ],
        &[],
    );
    assert_eq!(o.code, 2, "{o:?}");
    assert!(
        o.stderr.contains("--socket") && o.stderr.contains("--target"),
        "{o:?}"
    );
    let o = run_env(
        &["--config", &cfg, "info"],
        &[
            ("HAPROXY_CLI_SOCKET", &sock),
            ("HAPROXY_CLI_MASTER", &master),
        ],
    );
    assert_eq!(o.code, 2, "{o:?}");
    assert!(
        o.stderr.contains("HAPROXY_CLI_SOCKET") && o.stderr.contains("HAPROXY_CLI_MASTER"),
        "{o:?}"
    );
    // Any other option: the command line beats its variable too.
    let o = run_env(
        &["--socket", &sock, "--format", "csv", "backend", "list"],
        &[("HAPROXY_CLI_FORMAT", "json")],
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.starts_with("name,"), "{o:?}");
}
