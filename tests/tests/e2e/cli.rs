//! The built `haproxy-cli` binary against real HAProxy: every command, in
//! every format where it applies, each write checked from outside on every
//! instance, and the exit codes and messages of failures.

use haproxy_e2e::{Fleet, Level, MasterWorker, Options, Topology};
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Builds `haproxy-cli` once per run (same profile and target dir as this
/// test binary) and returns its path.
pub(crate) fn cli() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "haproxy-cli"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build -p haproxy-cli");
        assert!(status.success(), "cargo build -p haproxy-cli failed");
        let exe = std::env::current_exe().expect("current exe");
        // target/<profile>/deps/e2e-… → target/<profile>/haproxy-cli
        let bin = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>")
            .join("haproxy-cli");
        assert!(bin.exists(), "no binary at {}", bin.display());
        bin
    })
}

#[derive(Debug)]
pub(crate) struct Out {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn run_with(args: &[&str], stdin: Option<&str>) -> Out {
    let mut c = Command::new(cli());
    c.args(args)
        .env_remove("HAPROXY_CLI_SOCKET_DIR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn haproxy-cli");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    let o = child.wait_with_output().expect("wait haproxy-cli");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub(crate) fn run(args: &[&str]) -> Out {
    run_with(args, None)
}

/// Runs against the fleet's socket dir and requires success.
fn ok(f: &Fleet, args: &[&str]) -> String {
    let dir = f.socket_dir();
    let dir = dir.to_string_lossy();
    let mut all = vec!["--socket-dir", &dir];
    all.extend_from_slice(args);
    let o = run(&all);
    assert_eq!(o.code, 0, "haproxy-cli {args:?}: {o:?}");
    assert!(
        o.stderr.is_empty(),
        "haproxy-cli {args:?} wrote to stderr: {}",
        o.stderr
    );
    o.stdout
}

/// Runs against the fleet and expects failure with `code`.
fn fails(f: &Fleet, args: &[&str], code: i32) -> String {
    let dir = f.socket_dir();
    let dir = dir.to_string_lossy();
    let mut all = vec!["--socket-dir", &dir];
    all.extend_from_slice(args);
    let o = run(&all);
    assert_eq!(o.code, code, "haproxy-cli {args:?}: {o:?}");
    assert!(o.stdout.is_empty(), "{o:?}");
    assert_eq!(o.stderr.lines().count(), 1, "one line on stderr: {o:?}");
    o.stderr
}

fn json(s: &str) -> Json {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// A tiny CSV reader honouring quotes (RFC 4180).
pub(crate) fn csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

/// Every line is a comment (`# HELP`/`# TYPE`) or `name{labels} value`.
fn assert_prometheus(s: &str) {
    assert!(!s.trim().is_empty());
    for line in s.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (name_labels, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(value.parse::<f64>().is_ok(), "value of {line}");
        let name = name_labels.split('{').next().unwrap_or("");
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name of {line}"
        );
        if let Some(labels) = name_labels.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line}"
            );
        }
    }
}

/// Field `column` of record `(pxname, svname)` in a raw `show stat`.
fn stat(reply: &str, px: &str, sv: &str, column: &str) -> String {
    haproxy_e2e::stat_field(reply, px, sv, column)
        .unwrap_or_else(|| panic!("no {column} of {px}/{sv}"))
        .to_owned()
}

fn header_of(reply: &str) -> BTreeSet<String> {
    reply
        .lines()
        .next()
        .expect("header")
        .trim_start_matches("# ")
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `column` of `px/sv` on every instance.
fn everywhere(f: &Fleet, px: &str, sv: &str, column: &str) -> Vec<String> {
    f.instances()
        .iter()
        .map(|i| stat(&i.raw("show stat"), px, sv, column))
        .collect()
}

fn fleet(instances: usize, extra: Vec<(String, Level)>, tcp: bool) -> Fleet {
    let f = Fleet::start(Options {
        instances,
        topology: Topology::standard(),
        extra_sockets: extra,
        tcp_socket: tcp,
        ..Options::default()
    });
    Fleet::wait_until(Duration::from_secs(10), "checks settle", || {
        f.instances().iter().all(|i| {
            let s = i.raw("show stat");
            stat(&s, "be_app", "app1", "check_status") == "L7OK"
                && stat(&s, "be_app", "app4", "check_status") == "L7OK"
                && stat(&s, "be_app", "app2", "status") == "DOWN"
        })
    });
    f
}

#[test]
fn reads_in_every_format() {
    let f = fleet(3, vec![], false);
    let raw = f.instances()[0].raw("show stat");
    let columns = header_of(&raw);
    let json_columns: BTreeSet<String> = columns.iter().filter(|c| *c != "-").cloned().collect();

    // info
    let t = ok(&f, &["info"]);
    assert!(
        t.lines()
            .any(|l| l.starts_with("Name") && l.ends_with("HAProxy")),
        "{t}"
    );
    let maxconn: u64 = f
        .instances()
        .iter()
        .map(|i| {
            let info = i.raw("show info");
            info.lines()
                .find_map(|l| l.strip_prefix("Maxconn: "))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .expect("Maxconn")
        })
        .sum();
    let j = json(&ok(&f, &["info", "--format", "json"]));
    assert_eq!(j["Maxconn"], maxconn);
    assert_eq!(j["Name"], "HAProxy");
    let c = csv(&ok(&f, &["info", "--format", "csv"]));
    assert_eq!(c[0], ["field", "value"]);
    assert!(c
        .iter()
        .any(|r| r[0] == "Maxconn" && r[1] == maxconn.to_string()));
    let p = ok(&f, &["info", "--format", "prometheus"]);
    assert_prometheus(&p);
    assert!(
        p.contains(&format!("haproxy_process_max_connections {maxconn}\n")),
        "{p}"
    );

    // metric: the bare value, summed
    assert_eq!(ok(&f, &["metric", "Maxconn"]).trim(), maxconn.to_string());
    assert_eq!(
        json(&ok(&f, &["metric", "Maxconn", "--format", "json"])),
        maxconn
    );
    let c = csv(&ok(&f, &["metric", "Maxconn", "--format", "csv"]));
    assert_eq!(c[1], ["Maxconn", &maxconn.to_string()]);
    // Uptime_sec is per process (it must agree or shows each process's):
    // instances started in different seconds disagree, so a metric that
    // always agrees is used here.
    assert_prometheus(&ok(&f, &["metric", "Maxconn", "--format", "prometheus"]));
    assert_eq!(
        ok(&f, &["metric", "Version"]).trim(),
        haproxy_e2e::haproxy_version_string()
    );
    let e = fails(&f, &["metric", "NoSuchMetric"], 1);
    assert!(e.contains("NoSuchMetric"), "{e}");

    // lists: table, JSON with every column, CSV, Prometheus
    for (kind, names) in [
        ("frontend", vec!["fe_http", "fe_tcp", "health"]),
        ("backend", vec!["be_app", "be_static", "be_tcp", "health"]),
        (
            "server",
            vec![
                "app1", "app2", "app3", "app4", "app5", "app6", "s1", "s2", "t1",
            ],
        ),
    ] {
        let t = ok(&f, &[kind, "list"]);
        for n in &names {
            assert!(
                t.lines().any(|l| l.split_whitespace().any(|w| w == *n)),
                "{kind} {n}: {t}"
            );
        }
        let j = json(&ok(&f, &[kind, "list", "--format", "json"]));
        let arr = j.as_array().expect("array");
        let got: BTreeSet<&str> = arr.iter().filter_map(|o| o["name"].as_str()).collect();
        for n in &names {
            assert!(got.contains(n), "{kind} {n} in {got:?}");
        }
        for o in arr {
            let keys: BTreeSet<String> = o
                .as_object()
                .expect("object")
                .keys()
                .filter(|k| *k != "name" && *k != "backend")
                .cloned()
                .collect();
            assert_eq!(
                keys, json_columns,
                "{kind}: every show stat column, by name (2.6's `-` separator is no field)"
            );
            if kind == "server" {
                assert!(o["backend"].is_string());
            }
        }
        let c = csv(&ok(&f, &[kind, "list", "--format", "csv"]));
        assert_eq!(c.len(), arr.len() + 1, "header + one row each");
        assert!(c.iter().all(|r| r.len() == c[0].len()), "rectangular");
        assert_prometheus(&ok(&f, &[kind, "list", "--format", "prometheus"]));
    }
    // Counters are summed across the three instances.
    let j = json(&ok(&f, &["server", "list", "--format", "json"]));
    let s1 = j
        .as_array()
        .and_then(|a| a.iter().find(|o| o["name"] == "s1"))
        .expect("s1");
    assert_eq!(s1["weight"], 10);
    assert!(s1["slim"].is_null(), "empty column is null: {s1}");
    assert!(s1["stot"].is_u64());
    let app2 = j
        .as_array()
        .and_then(|a| a.iter().find(|o| o["name"] == "app2"))
        .expect("app2");
    assert_eq!(app2["status"], "DOWN");

    // server list --backend
    let t = ok(&f, &["server", "list", "--backend", "be_static"]);
    assert_eq!(t.lines().count(), 3, "{t}");
    let j = json(&ok(
        &f,
        &[
            "server",
            "list",
            "--backend",
            "be_static",
            "--backend",
            "be_tcp",
            "--format",
            "json",
        ],
    ));
    assert_eq!(j.as_array().map(Vec::len), Some(3));
    fails(&f, &["server", "list", "--backend", "nosuch"], 1);

    // show, every format
    let t = ok(&f, &["frontend", "show", "fe_http"]);
    assert!(
        t.lines()
            .any(|l| l.starts_with("status") && l.ends_with("OPEN")),
        "{t}"
    );
    let j = json(&ok(&f, &["backend", "show", "be_app", "--format", "json"]));
    assert_eq!(j["name"], "be_app");
    assert_eq!(j["status"], "UP");
    let j = json(&ok(
        &f,
        &["server", "show", "be_static/s2", "--format", "json"],
    ));
    assert_eq!(
        (j["name"].as_str(), j["backend"].as_str()),
        (Some("s2"), Some("be_static"))
    );
    assert_eq!(j["weight"], 20);
    let c = csv(&ok(
        &f,
        &["server", "show", "be_app/app1", "--format", "csv"],
    ));
    assert_eq!(c.len(), 2);
    assert_prometheus(&ok(
        &f,
        &["backend", "show", "be_static", "--format", "prometheus"],
    ));
    fails(&f, &["server", "show", "be_static/nosuch"], 1);
    fails(&f, &["frontend", "show", "nosuch"], 1);
    fails(&f, &["server", "show", "noslash"], 2);

    // dump: every object of every process
    let j = json(&ok(&f, &["dump", "--format", "json"]));
    let rows = j.as_array().expect("array");
    let objects = raw
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .count();
    // Listeners are not in the dump; the standard topology has none.
    assert_eq!(rows.len(), objects * 3, "every object, three processes");
    let pids: BTreeSet<u64> = rows
        .iter()
        .filter_map(|r| r["process"]["pid"].as_u64())
        .collect();
    assert_eq!(pids.len(), 3);
    assert!(ok(&f, &["dump"]).lines().count() >= objects * 3);
    let c = csv(&ok(&f, &["dump", "--format", "csv"]));
    assert_eq!(c.len(), objects * 3 + 1);

    // errors, raw: one section per process
    let t = ok(&f, &["errors"]);
    assert_eq!(t.matches("==> pid ").count(), 3, "{t}");
    let j = json(&ok(&f, &["errors", "--format", "json"]));
    assert_eq!(j.as_array().map(Vec::len), Some(3));
    let t = ok(&f, &["raw", "show servers state be_static"]);
    assert_eq!(t.matches(" be_static 1 s1 ").count(), 3, "{t}");
    let c = csv(&ok(
        &f,
        &["raw", "get weight be_static/s1", "--format", "csv"],
    ));
    assert_eq!(c[0], ["pid", "output"]);
    assert_eq!(c.len(), 4);
    fails(&f, &["raw", "show info", "--format", "prometheus"], 2);
}

#[test]
fn server_writes_land_on_every_instance() {
    let f = fleet(3, vec![], false);
    let set = |args: &[&str]| assert_eq!(ok(&f, args), "", "writes print nothing");

    set(&["server", "set-weight", "be_static/s1", "0"]);
    assert_eq!(everywhere(&f, "be_static", "s1", "weight"), ["0"; 3]);
    set(&["server", "set-weight", "be_static/s1", "256"]);
    assert_eq!(everywhere(&f, "be_static", "s1", "weight"), ["256"; 3]);
    set(&["server", "set-weight", "be_static/s2", "50%"]);
    assert_eq!(everywhere(&f, "be_static", "s2", "weight"), ["10"; 3]);
    let e = fails(&f, &["server", "set-weight", "be_static/s1", "257"], 2);
    assert!(e.contains("257"), "{e}");
    assert_eq!(everywhere(&f, "be_static", "s1", "weight"), ["256"; 3]);

    set(&["server", "drain", "be_static/s1"]);
    assert_eq!(everywhere(&f, "be_static", "s1", "status"), ["DRAIN"; 3]);
    set(&["server", "maint", "be_static/s1"]);
    assert_eq!(everywhere(&f, "be_static", "s1", "status"), ["MAINT"; 3]);
    set(&["server", "ready", "be_static/s1"]);
    assert_eq!(everywhere(&f, "be_static", "s1", "status"), ["no check"; 3]);
    set(&["server", "disable", "be_static/s2"]);
    assert_eq!(everywhere(&f, "be_static", "s2", "status"), ["MAINT"; 3]);
    set(&["server", "enable", "be_static/s2"]);
    assert_eq!(everywhere(&f, "be_static", "s2", "status"), ["no check"; 3]);

    set(&["server", "set-addr", "be_static/s2", "127.0.0.2", "8081"]);
    assert_eq!(
        everywhere(&f, "be_static", "s2", "addr"),
        ["127.0.0.2:8081"; 3]
    );
    set(&["server", "set-addr", "be_static/s2", "::1"]);
    assert_eq!(everywhere(&f, "be_static", "s2", "addr"), ["[::1]:8081"; 3]);
    fails(
        &f,
        &["server", "set-addr", "be_static/s2", "1.2.3.4;shutdown"],
        2,
    );

    // app2's check runs only hourly once it is DOWN (see
    // `Topology::standard`): the health set here stays, on every instance.
    set(&["server", "set-health", "be_app/app2", "up"]);
    assert_eq!(everywhere(&f, "be_app", "app2", "status"), ["UP"; 3]);
    set(&["server", "set-health", "be_app/app2", "down"]);
    assert_eq!(everywhere(&f, "be_app", "app2", "status"), ["DOWN"; 3]);
    set(&["server", "set-health", "be_app/app1", "stopping"]);
    set(&["server", "shutdown-sessions", "be_static/s1"]);
    // HAProxy's own refusal: exit 1, one line naming the socket and quoting it.
    let e = fails(&f, &["server", "set-agent", "be_static/s1", "up"], 1);
    assert!(
        e.contains("agent checks are not enabled on this server"),
        "{e}"
    );
    assert!(e.contains("instance-0.sock"), "{e}");
}

#[test]
fn frontend_and_global_writes() {
    let f = fleet(2, vec![], false);
    let set = |args: &[&str]| assert_eq!(ok(&f, args), "");
    set(&["frontend", "disable", "fe_http"]);
    assert_eq!(
        everywhere(&f, "fe_http", "FRONTEND", "status"),
        ["PAUSED"; 2]
    );
    set(&["frontend", "enable", "fe_http"]);
    assert_eq!(everywhere(&f, "fe_http", "FRONTEND", "status"), ["OPEN"; 2]);
    set(&["frontend", "set-maxconn", "fe_http", "77"]);
    assert_eq!(everywhere(&f, "fe_http", "FRONTEND", "slim"), ["77"; 2]);
    set(&["frontend", "shutdown", "fe_tcp"]);
    assert_eq!(everywhere(&f, "fe_tcp", "FRONTEND", "status"), ["STOP"; 2]);
    // A stopped frontend cannot be enabled again: HAProxy says so.
    let e = fails(&f, &["frontend", "enable", "fe_tcp"], 1);
    assert!(e.contains("HAProxy said"), "{e}");

    let info = |i: usize, k: &str| {
        f.instances()[i]
            .raw("show info")
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}: ")).map(str::to_owned))
            .unwrap_or_default()
    };
    set(&["global", "set-maxconn", "3000"]);
    assert_eq!(
        (info(0, "Maxconn"), info(1, "Maxconn")),
        ("3000".into(), "3000".into())
    );
    for (which, key) in [
        ("connections", "ConnRateLimit"),
        ("sessions", "SessRateLimit"),
        ("ssl-sessions", "SslRateLimit"),
    ] {
        set(&["global", "set-rate-limit", which, "123"]);
        assert_eq!(
            (info(0, key), info(1, key)),
            ("123".into(), "123".into()),
            "{which}"
        );
    }
    // Counters: only what this test sends reaches `fe_http` (the health
    // checks hit `health`, whose counters never stop moving), so after
    // clearing, its session count is 0 everywhere.
    let http = f.instances()[0].http_port;
    for _ in 0..4 {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", http)).expect("connect fe_http");
        c.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            .expect("send");
        let mut reply = String::new();
        std::io::Read::read_to_string(&mut c, &mut reply).expect("reply");
        assert!(reply.starts_with("HTTP/1."), "{reply}");
    }
    let total: u64 = everywhere(&f, "fe_http", "FRONTEND", "stot")
        .iter()
        .map(|v| v.parse::<u64>().expect("stot"))
        .sum();
    assert_eq!(total, 4, "four sessions before clearing");
    set(&["global", "clear-counters"]);
    set(&["global", "clear-counters", "--all"]);
    assert_eq!(everywhere(&f, "fe_http", "FRONTEND", "stot"), ["0"; 2]);
}

/// A number HAProxy reads as a C `int` and would wrap: 2.6 acknowledges
/// `set maxconn global 4294967295` with an empty reply and sets the
/// startup limit. The builder refuses it (a usage error, exit 2, naming
/// the argument) and nothing is sent: every process keeps its limits,
/// read back raw.
#[test]
fn numbers_haproxy_would_wrap_are_refused_before_sending() {
    let f = fleet(2, vec![], false);
    let state = || {
        f.instances()
            .iter()
            .map(|i| {
                (
                    haproxy_e2e::info_lines(&i.raw("show info"), &haproxy_e2e::LIMIT_FIELDS),
                    stat(&i.raw("show stat"), "fe_http", "FRONTEND", "slim"),
                )
            })
            .collect::<Vec<_>>()
    };
    let before = state();
    assert!(
        before
            .iter()
            .all(|(info, _)| info.contains(&"Maxconn: 4000".to_owned())),
        "{before:?}"
    );
    for (args, argument) in [
        (&["global", "set-maxconn", "4294967295"][..], "maxconn"),
        (&["global", "set-maxconn", "2147483648"][..], "maxconn"),
        (
            &["global", "set-rate-limit", "connections", "4294967295"][..],
            "limit",
        ),
        (
            &["global", "set-rate-limit", "sessions", "2147483648"][..],
            "limit",
        ),
        (
            &["global", "set-rate-limit", "ssl-sessions", "4294967295"][..],
            "limit",
        ),
        (
            &["frontend", "set-maxconn", "fe_http", "2147483648"][..],
            "maxconn",
        ),
    ] {
        let e = fails(&f, args, 2);
        assert!(
            e.contains(argument) && e.contains("out of range") && e.contains("2147483647"),
            "{args:?}: {e}"
        );
        assert_eq!(state(), before, "{args:?} changed a process");
    }
    // The largest value HAProxy reads is sent, and HAProxy itself refuses
    // it: above the hard limit (the startup maxconn, 4000).
    let e = fails(&f, &["global", "set-maxconn", "2147483647"], 1);
    assert!(e.contains("Value out of range."), "{e}");
    assert_eq!(state(), before);
}

#[test]
fn maps_and_acls() {
    let f = fleet(2, vec![], false);
    let map = f.map_file().to_string_lossy().into_owned();
    let acl = f.acl_file().to_string_lossy().into_owned();
    let set = |args: &[&str]| assert_eq!(ok(&f, args), "");
    let shown = |i: usize| f.instances()[i].raw(&format!("show map {map}"));

    // list
    let t = ok(&f, &["map", "list"]);
    assert!(t.contains(&map), "{t}");
    let j = json(&ok(&f, &["map", "list", "--format", "json"]));
    let id = j
        .as_array()
        .and_then(|a| a.iter().find(|m| m["file"] == map.as_str()))
        .and_then(|m| m["id"].as_i64())
        .expect("the map's id");
    assert!(csv(&ok(&f, &["map", "list", "--format", "csv"]))[0].contains(&"file".to_owned()));
    fails(&f, &["map", "list", "--format", "prometheus"], 2);

    // add (literal, with spaces and ';'), show, get — by file and by id
    set(&["map", "add", &map, "cli.example", "be_static"]);
    set(&["map", "add", &format!("#{id}"), "odd key;x", "v 1;2"]);
    for i in 0..2 {
        assert!(
            shown(i).contains(" cli.example be_static\n"),
            "{}",
            shown(i)
        );
        assert!(shown(i).contains(" odd key;x v 1;2\n"), "{}", shown(i));
    }
    // Two processes: the ids (each one's pointers) are not shown.
    let t = ok(&f, &["map", "show", &map]);
    assert!(t.lines().any(|l| l == "- cli.example be_static"), "{t}");
    let j = json(&ok(
        &f,
        &["map", "show", &id.to_string(), "--format", "json"],
    ));
    let entry = j
        .as_array()
        .and_then(|a| a.iter().find(|e| e["key"] == "cli.example"))
        .expect("entry");
    assert_eq!(entry["value"], "be_static");
    assert!(entry["id"].is_null(), "{entry}");
    let c = csv(&ok(&f, &["map", "show", &map, "--format", "csv"]));
    assert_eq!(c[0], ["id", "key", "value"]);
    let j = json(&ok(
        &f,
        &["map", "get", &map, "cli.example", "--format", "json"],
    ));
    assert_eq!(j[0]["found"], true);
    assert_eq!(j[0]["value"], "be_static");
    let t = ok(&f, &["map", "get", &map, "absent.example"]);
    assert!(t.contains("found=no"), "{t}");
    assert!(
        csv(&ok(
            &f,
            &["map", "get", &map, "cli.example", "--format", "csv"]
        ))
        .len()
            == 2
    );

    // set, del
    set(&["map", "set", &map, "cli.example", "be_app"]);
    assert!(shown(1).contains(" cli.example be_app\n"));
    set(&["map", "del", &map, "cli.example"]);
    assert!(!shown(0).contains("cli.example") && !shown(1).contains("cli.example"));
    let e = fails(&f, &["map", "del", &map, "cli.example"], 1);
    assert!(e.contains("Key not found"), "{e}");

    // replace from a file, then from stdin: atomic, exact
    let file = f.dir().join("new.map");
    std::fs::write(&file, "# comment\na.example be_a\nb.example be_b\n").expect("write map");
    set(&["map", "replace", &map, &file.to_string_lossy()]);
    for i in 0..2 {
        let s = shown(i);
        assert_eq!(s.lines().filter(|l| l.starts_with("0x")).count(), 2, "{s}");
        assert!(s.contains(" a.example be_a\n") && s.contains(" b.example be_b\n"));
    }
    let dir = f.socket_dir();
    let o = run_with(
        &[
            "--socket-dir",
            &dir.to_string_lossy(),
            "map",
            "replace",
            &map,
            "-",
        ],
        Some("c.example be_c\n"),
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert!(shown(0).contains(" c.example be_c\n") && !shown(0).contains("a.example"));
    let bad = f.dir().join("bad.map");
    std::fs::write(&bad, "ok.example be\nlonely\n").expect("write");
    let e = fails(&f, &["map", "replace", &map, &bad.to_string_lossy()], 2);
    assert!(e.contains("bad.map:2"), "{e}");
    assert!(shown(0).contains(" c.example be_c\n"), "nothing changed");

    // clear
    set(&["map", "clear", &map]);
    assert_eq!(shown(0).trim(), "");

    // ACLs
    let t = ok(&f, &["acl", "list"]);
    assert!(t.contains(&acl), "{t}");
    assert!(json(&ok(&f, &["acl", "list", "--format", "json"])).is_array());
    set(&["acl", "add", &acl, "198.51.100.7"]);
    for i in 0..2 {
        assert!(f.instances()[i]
            .raw(&format!("show acl {acl}"))
            .contains(" 198.51.100.7\n"));
    }
    let j = json(&ok(&f, &["acl", "show", &acl, "--format", "json"]));
    assert!(j
        .as_array()
        .is_some_and(|a| a.iter().any(|e| e["key"] == "198.51.100.7")));
    assert!(ok(&f, &["acl", "show", &acl]).contains("198.51.100.7"));
    let t = ok(&f, &["acl", "get", &acl, "198.51.100.7"]);
    assert!(t.contains("found=yes"), "{t}");
    let j = json(&ok(
        &f,
        &["acl", "get", &acl, "203.0.113.9", "--format", "json"],
    ));
    assert_eq!(j[0]["found"], false);
    set(&["acl", "del", &acl, "198.51.100.7"]);
    assert!(!f.instances()[1]
        .raw(&format!("show acl {acl}"))
        .contains("198.51.100.7"));
    set(&["acl", "clear", &acl]);
    assert_eq!(f.instances()[0].raw(&format!("show acl {acl}")).trim(), "");
}

/// `map set` of a key the map does not hold: HAProxy answers `entry not
/// found.` (in no table of errors): the CLI fails with HAProxy's words,
/// naming the socket, and no process's map changed, read back raw.
#[test]
fn map_set_of_a_missing_key_fails_with_haproxys_words() {
    let f = fleet(2, vec![], false);
    let map = f.map_file().to_string_lossy().into_owned();
    let raw = |i: usize| f.instances()[i].raw(&format!("show map {map}"));
    let before = (raw(0), raw(1));
    assert!(before.0.contains(" example.com be_app\n"), "{before:?}");
    let e = fails(&f, &["map", "set", &map, "no-such-key", "v"], 1);
    assert!(e.contains("entry not found"), "HAProxy's words: {e}");
    assert!(e.contains("instance-"), "names the socket: {e}");
    assert_eq!((raw(0), raw(1)), before, "a map changed");
}

#[test]
fn a_disagreement_shows_every_process() {
    let f = fleet(2, vec![], false);
    // Change one instance behind the tool's back.
    f.instances()[0].raw("set weight be_static/s1 5");
    let j = json(&ok(&f, &["server", "list", "--format", "json"]));
    let s1 = j
        .as_array()
        .and_then(|a| a.iter().find(|o| o["name"] == "s1"))
        .expect("s1");
    let values: Vec<u64> = s1["weight"]["disagreement"]
        .as_array()
        .expect("a disagreement, not one value")
        .iter()
        .filter_map(|e| e["value"].as_u64())
        .collect();
    assert_eq!(values, [5, 10], "{s1}");
    let t = ok(&f, &["server", "list", "--backend", "be_static"]);
    assert!(t.contains("{5|10}"), "{t}");
    let p = ok(
        &f,
        &[
            "server",
            "list",
            "--backend",
            "be_static",
            "--format",
            "prometheus",
        ],
    );
    assert_prometheus(&p);
    // The exposition keeps its label set: the processes' mean, flagged.
    assert!(
        p.contains("\nhaproxy_server_weight{proxy=\"be_static\",server=\"s1\"} 7.5\n"),
        "{p}"
    );
    assert!(
        p.contains("haproxy_cli_disagreement{proxy=\"be_static\",server=\"s1\",scope=\"server\",field=\"weight\"} 1"),
        "{p}"
    );
    assert!(!p.contains("pid="), "{p}");
}

/// The peak RSS documented for the CLI cut off by a reply without end at
/// discovery (docs/reliability.md): the probe reads at most 1 MiB.
const ENDLESS_PROBE_RSS_KIB: u64 = 32 * 1024;

/// Runs the CLI under GNU `time`, returning its outcome, its wall time
/// and its peak RSS in KiB (`wait4`'s `ru_maxrss`: exact, even for a peak
/// just before exit).
fn run_measured(args: &[&str]) -> (Out, Duration, u64) {
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "GNU time is needed to measure peak RSS: apt-get install time"
    );
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let report = std::env::temp_dir().join(format!(
        "hx-rss-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let report_arg = report.to_string_lossy().into_owned();
    let cli_path = cli().to_string_lossy().into_owned();
    let mut all = vec!["-f", "%M", "-o", &report_arg, &cli_path];
    all.extend_from_slice(args);
    let started = std::time::Instant::now();
    let o = Command::new(time)
        .args(&all)
        .env_remove("HAPROXY_CLI_SOCKET_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("run haproxy-cli under time");
    let took = started.elapsed();
    let rss = std::fs::read_to_string(&report)
        .ok()
        .and_then(|r| r.lines().last().and_then(|l| l.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no peak RSS in {}", report.display()));
    let _ = std::fs::remove_file(&report);
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    (out, took, rss)
}

/// Reply size bounds from the command line: a tiny `--max-reply-size`
/// makes a listing fail with the size error naming the socket; a foreign
/// socket beside a real HAProxy that streams without end when probed
/// (`show info`) is cut at the probe's 1 MiB — quickly, with bounded
/// memory, whatever `--timeout` says — and the command fails naming it,
/// or with `--allow-partial` names it as missed (exit 3).
#[test]
fn reply_size_bounds_from_the_command_line() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let f = fleet(1, vec![], false);
    let dir = f.socket_dir();
    let dir = dir.to_string_lossy().into_owned();
    let real = f.instances()[0].socket.to_string_lossy().into_owned();

    // 2K holds `show info` (about 1.2 KiB) but not the `show stat` of the
    // standard topology (over 4 KiB on every version).
    let o = run(&[
        "--socket-dir",
        &dir,
        "--max-reply-size",
        "2K",
        "server",
        "list",
    ]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains(&real) && o.stderr.contains("passed 2048 bytes"),
        "the size error, naming the socket: {o:?}"
    );
    assert!(o.stdout.is_empty(), "{o:?}");
    // The same from the environment; and a bad size is a usage error.
    let mut c = Command::new(cli());
    let env = c
        .args(["--socket-dir", &dir, "server", "list"])
        .env("HAPROXY_CLI_MAX_REPLY_SIZE", "2K")
        .output()
        .expect("run");
    assert_eq!(env.status.code(), Some(1), "{env:?}");
    assert!(String::from_utf8_lossy(&env.stderr).contains("passed 2048 bytes"));
    let o = run(&["--socket-dir", &dir, "--max-reply-size", "1.5M", "info"]);
    assert_eq!(o.code, 2, "{o:?}");
    // A generous one changes nothing.
    assert!(ok(&f, &["--max-reply-size", "64M", "server", "list"]).contains("app1"));

    // A foreign socket streaming without end on `show info`.
    static SENT: AtomicUsize = AtomicUsize::new(0);
    let endless = f.socket_dir().join("endless.sock");
    let listener = std::os::unix::net::UnixListener::bind(&endless).expect("bind");
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut req = [0u8; 256];
                let _ = std::io::Read::read(&mut s, &mut req);
                let _ = s.write_all(b"Name: HAProxy\nVersion: 2.6.0\n");
                let chunk = "Filler: 0123456789abcdef\n".repeat(4096);
                while s.write_all(chunk.as_bytes()).is_ok() {
                    SENT.fetch_add(chunk.len(), Ordering::Relaxed);
                }
            });
        }
    });
    let endless = endless.to_string_lossy().into_owned();
    let (o, took, rss) = run_measured(&["--socket-dir", &dir, "--timeout", "30", "info"]);
    println!(
        "endless probe: exit {}, {took:?}, peak RSS {rss} KiB, the peer sent {} bytes",
        o.code,
        SENT.load(Ordering::Relaxed)
    );
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains(&endless) && o.stderr.contains("passed 1048576 bytes"),
        "names the socket and the probe's limit: {o:?}"
    );
    assert!(o.stdout.is_empty(), "{o:?}");
    assert!(
        took < Duration::from_secs(5),
        "cut by size, not the 30 s deadline: {took:?}"
    );
    assert!(
        rss < ENDLESS_PROBE_RSS_KIB,
        "peak RSS {rss} KiB over the documented {ENDLESS_PROBE_RSS_KIB} KiB"
    );
    // Best effort: the real process answers, the endless socket is named
    // as missed, exit 3.
    let (o, took, rss) = run_measured(&[
        "--socket-dir",
        &dir,
        "--timeout",
        "30",
        "--allow-partial",
        "info",
    ]);
    assert_eq!(o.code, 3, "{o:?}");
    assert!(
        o.stderr.contains("partial: not reached") && o.stderr.contains(&endless),
        "{o:?}"
    );
    assert!(o.stdout.contains("HAProxy"), "{o:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(rss < ENDLESS_PROBE_RSS_KIB, "peak RSS {rss} KiB");
}

#[test]
fn errors_and_exit_codes() {
    let f = fleet(1, vec![("user".into(), Level::User)], false);
    // A directory that does not exist.
    let o = run(&["--socket-dir", "/nonexistent/hx", "server", "list"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("/nonexistent/hx"), "{o:?}");
    // A directory with no live socket.
    let empty = f.dir().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let o = run(&["--socket-dir", &empty.to_string_lossy(), "info"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains(&*empty.to_string_lossy()), "{o:?}");
    // A stale socket beside the live one: a warning, and it still works.
    let stale = f.socket_dir().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).expect("bind"));
    let dir = f.socket_dir();
    let o = run(&[
        "--socket-dir",
        &dir.to_string_lossy(),
        "--pattern",
        "instance-*",
        "metric",
        "Maxconn",
    ]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (0, ""),
        "the pattern leaves it out: {o:?}"
    );
    let o = run(&[
        "--socket",
        &f.instances()[0].socket.to_string_lossy(),
        "metric",
        "Maxconn",
    ]);
    assert_eq!(o.code, 0, "{o:?}");
    let o = run(&[
        "--socket-dir",
        &dir.to_string_lossy(),
        "--pattern",
        "[is]*.sock",
        "server",
        "list",
    ]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stderr.contains("warning: skipped") && o.stderr.contains("stale.sock"),
        "{o:?}"
    );
    // A level-user socket refuses a write: the socket and the level named.
    let (user, _) = &f.instances()[0].extra_sockets[0];
    let o = run(&[
        "--socket",
        &user.to_string_lossy(),
        "server",
        "set-weight",
        "be_static/s1",
        "3",
    ]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains("user-0.sock") && o.stderr.contains("level"),
        "{o:?}"
    );
    assert_eq!(o.stderr.lines().count(), 1);
    // Usage errors exit 2.
    assert_eq!(run(&["server"]).code, 2);
    assert_eq!(run(&["--format", "yaml", "info"]).code, 2);
    let o = run(&["--socket", "ipv4@1.2.3.4", "info"]);
    assert_eq!(o.code, 2, "{o:?}");
    let o = run(&[
        "--socket",
        &user.to_string_lossy(),
        "raw",
        "show info\nshow stat",
    ]);
    assert_eq!(o.code, 2, "{o:?}");
    assert!(o.stderr.contains("control character"), "{o:?}");
}

#[test]
fn endpoints_tcp_and_master() {
    let f = fleet(1, vec![], true);
    let tcp = f.instances()[0].tcp.expect("tcp");
    let o = run(&["--socket", &format!("ipv4@{tcp}"), "metric", "Pid"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(o.stdout.trim(), f.instances()[0].pid.to_string());

    let mw = MasterWorker::start(Topology::standard());
    let pid = mw.worker_pids()[0];
    let master = mw.master_socket().to_string_lossy().into_owned();
    let o = run(&["--master", &master, "metric", "Pid"]);
    assert_eq!(
        (o.code, o.stdout.trim()),
        (0, pid.to_string().as_str()),
        "{o:?}"
    );
    // Each selector sets its own weight, read back from the worker: a
    // selector that reached nothing would leave the other's value.
    for (sel, weight) in [("@1".to_owned(), "7"), (format!("@!{pid}"), "8")] {
        let o = run(&[
            "--socket",
            &format!("{master}{sel}"),
            "server",
            "set-weight",
            "be_static/s2",
            weight,
        ]);
        assert_eq!(o.code, 0, "{sel}: {o:?}");
        let got = mw.raw_master(&format!("@!{pid} get weight be_static/s2"));
        assert!(got.starts_with(&format!("{weight} ")), "{sel}: {got:?}");
    }
}

#[test]
fn top_completions_and_man() {
    let f = fleet(1, vec![], false);
    let t = ok(&f, &["top", "--iterations", "2", "--interval", "0.1"]);
    assert_eq!(t.matches("haproxy-cli top").count(), 2, "{t}");
    for section in ["FRONTENDS", "BACKENDS", "SERVERS", "be_static/s1"] {
        assert!(t.contains(section), "{section}: {t}");
    }
    let o = run(&["completions", "bash"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("haproxy-cli") && o.stdout.contains("set-weight"));
    let o = run(&["completions", "zsh"]);
    assert!(o.code == 0 && o.stdout.contains("#compdef haproxy-cli"));
    let o = run(&["man"]);
    assert_eq!(o.code, 0);
    assert!(
        o.stdout.contains(".TH haproxy-cli"),
        "{}",
        &o.stdout[..200.min(o.stdout.len())]
    );
    // Every subpage the main page names exists: `man server set-weight`
    // prints haproxy-cli-server-set-weight(1), `man --all` writes them all.
    let named: Vec<String> = o
        .stdout
        .split("haproxy\\-cli\\-")
        .skip(1)
        .filter_map(|rest| rest.split_once("(1)").map(|(n, _)| n.replace("\\-", "-")))
        .filter(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        .collect();
    assert!(named.len() > 10, "{named:?}");
    let dir = f.dir().join("man");
    let all = run(&["man", "--all", &dir.to_string_lossy()]);
    assert_eq!(all.code, 0, "{all:?}");
    for n in &named {
        assert!(
            dir.join(format!("haproxy-cli-{n}.1")).is_file(),
            "haproxy-cli-{n}(1) is named but not written"
        );
    }
    assert!(dir.join("haproxy-cli-server-set-weight.1").is_file());
    let sub = run(&["man", "server", "set-weight"]);
    assert_eq!(sub.code, 0, "{sub:?}");
    assert!(
        sub.stdout.contains(".TH haproxy-cli-server-set-weight"),
        "{}",
        &sub.stdout[..200.min(sub.stdout.len())]
    );
    let bad = run(&["man", "servr"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("no subcommand \"servr\""), "{bad:?}");
}

/// Runs `haproxy-cli args`, reads the first line of its output and closes
/// the pipe, as `| head -1` does; returns that line and the exit.
fn head_1(args: &[&str]) -> (String, Out) {
    use std::io::BufRead;
    let mut child = Command::new(cli())
        .args(args)
        .env_remove("HAPROXY_CLI_SOCKET_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn haproxy-cli");
    let mut first = String::new();
    {
        let stdout = child.stdout.take().expect("piped stdout");
        let mut reader = std::io::BufReader::with_capacity(64, stdout);
        reader.read_line(&mut first).expect("read the first line");
        // The reader (and the pipe) dropped here, mid-output.
    }
    let o = child.wait_with_output().expect("wait haproxy-cli");
    (
        first,
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::new(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        },
    )
}

#[test]
fn a_closed_pipe_is_exit_0_without_a_word() {
    // Outputs larger than a pipe's buffer (64 KiB), so that the reader is
    // gone while the CLI still writes.
    let f = Fleet::start(Options {
        instances: 1,
        topology: Topology::large(30, 100, 0),
        ..Options::default()
    });
    let dir = f.socket_dir();
    let dir = dir.to_string_lossy().into_owned();
    let list = ["--socket-dir", &dir, "server", "list"];
    let whole = run(&list);
    assert_eq!(whole.code, 0, "{whole:?}");
    assert!(whole.stdout.len() > 4 * 65536, "{}", whole.stdout.len());
    let (first, o) = head_1(&list);
    assert!(first.starts_with("backend"), "{first}");
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "{o:?}");

    let whole = run(&["completions", "bash"]);
    assert_eq!(whole.code, 0);
    assert!(whole.stdout.len() > 65536, "{}", whole.stdout.len());
    let (first, o) = head_1(&["completions", "bash"]);
    assert!(!first.is_empty());
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "{o:?}");
}
