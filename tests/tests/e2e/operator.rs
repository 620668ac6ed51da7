//! What an operator hits (issue 29), against real HAProxy on the version
//! under test, each write read back raw on every process.

use crate::cli::cli;
use haproxy_e2e::{Fleet, Instance, Options};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

#[derive(Debug)]
struct Out {
    code: i32,
    stderr: String,
}

/// `haproxy-cli --socket-dir DIR args`, `stdin` on its standard input and
/// stderr sent to `stderr` when given (else captured).
fn run(f: &Fleet, args: &[&str], stdin: &str, stderr: Option<std::fs::File>) -> Out {
    let mut c = Command::new(cli());
    for (k, _) in std::env::vars() {
        if k.starts_with("HAPROXY_CLI_") {
            c.env_remove(k);
        }
    }
    c.arg("--socket-dir")
        .arg(f.socket_dir())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let captured = stderr.is_none();
    c.stderr(match stderr {
        Some(file) => Stdio::from(file),
        None => Stdio::piped(),
    });
    let mut child = c.spawn().expect("spawn haproxy-cli");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.as_bytes()).expect("write stdin");
    }
    let o = child.wait_with_output().expect("wait haproxy-cli");
    Out {
        code: o.status.code().unwrap_or(-1),
        stderr: if captured {
            String::from_utf8_lossy(&o.stderr).into_owned()
        } else {
            String::new()
        },
    }
}

/// The `key value` entries of the map file on one process, raw.
fn map_entries(i: &Instance, map: &str) -> Vec<String> {
    let mut v: Vec<String> = i
        .raw(&format!("show map {map}"))
        .lines()
        .filter(|l| l.starts_with("0x"))
        .filter_map(|l| l.split_once(' ').map(|(_, kv)| kv.to_owned()))
        .collect();
    v.sort();
    v
}

#[test]
fn an_empty_map_replacement_is_refused_unless_asked_for() {
    let f = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    let map = f.map_file().to_string_lossy().into_owned();
    let before: Vec<Vec<String>> = f.instances().iter().map(|i| map_entries(i, &map)).collect();
    assert!(before.iter().all(|e| !e.is_empty()), "{before:?}");
    // A failed generator (`false | haproxy-cli map replace MAP -`), or a
    // file of comments only: refused, nothing sent.
    for input in ["", "# generated at 03:00\n\n# nothing followed\n"] {
        let o = run(&f, &["map", "replace", &map, "-"], input, None);
        assert_eq!(o.code, 2, "{input:?}: {o:?}");
        assert!(o.stderr.contains("--allow-empty"), "{o:?}");
        for (i, b) in f.instances().iter().zip(&before) {
            assert_eq!(&map_entries(i, &map), b, "pid {}: unchanged", i.pid);
        }
    }
    // Asked for: the map is emptied on every process.
    let o = run(
        &f,
        &["map", "replace", &map, "-", "--allow-empty"],
        "",
        None,
    );
    assert_eq!(o.code, 0, "{o:?}");
    for i in f.instances() {
        assert!(map_entries(i, &map).is_empty(), "pid {}", i.pid);
    }
    // And a real replacement still lands everywhere.
    let o = run(
        &f,
        &["map", "replace", &map, "-"],
        "a.example be_app\n",
        None,
    );
    assert_eq!(o.code, 0, "{o:?}");
    for i in f.instances() {
        assert_eq!(map_entries(i, &map), ["a.example be_app"], "pid {}", i.pid);
    }
}

/// stderr that cannot be written (`2>/dev/full`) after a change was made:
/// no panic, and the exit code says the change happened — so a retry is
/// not what the operator is led to.
#[test]
fn an_unwritable_stderr_is_not_a_crash_after_a_change() {
    let f = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
    };
    let servers = |i: &Instance| i.raw("show servers state be_static");
    let o = run(
        &f,
        &["server", "add", "be_static/full1", "127.0.0.1:9"],
        "",
        Some(full()),
    );
    assert_eq!(o.code, 0, "added, said nothing: {o:?}");
    for i in f.instances() {
        assert!(servers(i).contains(" full1 "), "pid {}", i.pid);
    }
    let o = run(
        &f,
        &["server", "del", "be_static/full1", "--drain-first"],
        "",
        Some(full()),
    );
    assert_eq!(o.code, 0, "deleted, said nothing: {o:?}");
    for i in f.instances() {
        assert!(!servers(i).contains(" full1 "), "pid {}", i.pid);
    }
    // A failure still exits 1, not 101, though its message is lost.
    let o = run(&f, &["raw", "frobnicate"], "", Some(full()));
    assert_eq!(o.code, 1, "{o:?}");
}

/// Scrapers that arrive while a read of the target is under way (a
/// Prometheus HA pair, a frozen process making the read slow) wait for it
/// and share its result: every one is answered in full, and HAProxy is
/// read once for all of them (counted on a tap in front of its socket).
#[test]
fn concurrent_scrapes_share_one_read_and_all_are_answered() {
    use crate::one_path::{Exporter, Tap};
    let f = Fleet::start(Options::default());
    let real = &f.instances()[0];
    let tap = Tap::start(&real.socket, f.dir().join("tap.sock"));
    let sock = tap.path.to_string_lossy().into_owned();
    let e = Exporter::start(&["--socket", &sock], &[]);
    // A first scrape: the exporter has discovered the process.
    assert!(e.scrape().contains("be_static"));
    tap.take();

    haproxy_e2e::signal(real.pid, "STOP");
    // Four scrapes sent while the process is frozen.
    let mut scrapes: Vec<std::net::TcpStream> = (0..4)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(e.addr).expect("connect");
            s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
                .expect("request");
            s
        })
        .collect();
    // Thawed only once the exporter has read every request (nothing left
    // in the receive queues of its side of the four connections): each
    // is then waiting on the read under way.
    haproxy_e2e::wait_until(Duration::from_secs(10), "four requests read", || {
        consumed_by(e.addr.port()) >= 4
    });
    haproxy_e2e::signal(real.pid, "CONT");
    for s in &mut scrapes {
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("read timeout");
        let mut text = String::new();
        std::io::Read::read_to_string(s, &mut text).expect("response");
        assert!(
            text.starts_with("HTTP/1.1 200") || text.starts_with("HTTP/1.0 200"),
            "{text:.300}"
        );
        let up = text
            .lines()
            .find(|l| l.starts_with("haproxy_up{"))
            .unwrap_or_else(|| panic!("no haproxy_up: {text:.800}"));
        assert!(up.ends_with(" 1"), "answered in full: {up}");
        assert!(text.contains("haproxy_backend_status{proxy=\"be_static\""));
    }
    let reads = tap.take().matches("show stat").count();
    assert_eq!(reads, 1, "one read served the four scrapes");
}

/// Connections established to local `port` whose receive queue is empty
/// (from /proc/net/tcp): requests the server has read.
fn consumed_by(port: u16) -> usize {
    let port = format!(":{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // local_address rem_address st tx_queue:rx_queue; st 01 is
            // ESTABLISHED.
            f.len() > 4 && f[1].ends_with(&port) && f[3] == "01" && f[4].ends_with(":00000000")
        })
        .count()
}

/// A socket directory of links to each instance's socket is read as the
/// sockets themselves; thousands of stale sockets are summarised, not
/// listed one by one in a line of hundreds of kilobytes.
#[test]
fn linked_sockets_count_and_stale_ones_are_summarised() {
    let f = Fleet::start(Options::default());
    let real = &f.instances()[0];
    let links = f.dir().join("links");
    std::fs::create_dir_all(&links).expect("mkdir");
    std::os::unix::fs::symlink(&real.socket, links.join("lb.sock")).expect("symlink");
    let o = run_in(&links, &["metric", "Pid"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(o.stdout.trim(), real.pid.to_string(), "{o:?}");

    let stale = f.dir().join("stale");
    std::fs::create_dir_all(&stale).expect("mkdir");
    for n in 0..2000 {
        let p = stale.join(format!("old-{n:04}.sock"));
        drop(std::os::unix::net::UnixListener::bind(&p).expect("bind"));
    }
    let o = run_in(&stale, &["info"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.len() < 2048,
        "{} bytes: {:.300}",
        o.stderr.len(),
        o.stderr
    );
    assert!(
        o.stderr.contains("2000 sockets") && o.stderr.contains("and 1997 more"),
        "{}",
        o.stderr
    );
    // Beside a live one: it works, a few warnings and a count.
    std::os::unix::fs::symlink(&real.socket, stale.join("live.sock")).expect("symlink");
    let o = run_in(&stale, &["metric", "Pid"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stderr.lines().count() <= 6, "{}", o.stderr);
    assert!(
        o.stderr.contains("skipped 1995 more sockets"),
        "{}",
        o.stderr
    );
}

#[derive(Debug)]
struct Full {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `haproxy-cli --socket-dir DIR args`, no variables of its own.
fn run_in(dir: &std::path::Path, args: &[&str]) -> Full {
    let mut c = Command::new(cli());
    for (k, _) in std::env::vars() {
        if k.starts_with("HAPROXY_CLI_") {
            c.env_remove(k);
        }
    }
    let o = c
        .arg("--socket-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run haproxy-cli");
    Full {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// JSON has no key for HAProxy 2.6's `-` separator column (it printed
/// `"-":"-"` in every object); the CSV keeps HAProxy's header as it is.
#[test]
fn json_has_no_separator_key() {
    let f = Fleet::start(Options::default());
    let stat = f.instances()[0].raw("show stat");
    let header = stat.lines().next().expect("header");
    let has_separator = header.split(',').any(|c| c == "-");
    for args in [
        &["--format", "json", "server", "list"][..],
        &["--format", "json", "server", "list", "be_static/*"],
        &["--format", "jsonl", "backend", "list"],
        &["--format", "json", "backend", "show", "be_static"],
        &["--format", "json", "dump"],
    ] {
        let o = run_in(&f.socket_dir(), args);
        assert_eq!(o.code, 0, "{args:?}: {o:?}");
        assert!(!o.stdout.contains("\"-\":"), "{args:?}: {:.400}", o.stdout);
        if args[1] == "jsonl" {
            for line in o.stdout.lines() {
                let _: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            }
        } else {
            let _: serde_json::Value = serde_json::from_str(&o.stdout).expect("JSON");
        }
    }
    let o = run_in(&f.socket_dir(), &["--format", "csv", "server", "list"]);
    let csv_header = o.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        csv_header.split(',').any(|c| c == "-"),
        has_separator,
        "CSV keeps HAProxy's columns: {csv_header}"
    );
}

/// A batch whose commands are refused on a process names every refused
/// command there and how many were applied, not only the first.
#[test]
fn a_batch_names_every_refused_command_and_what_was_applied() {
    let f = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    let (lacking, having) = (&f.instances()[0], &f.instances()[1]);
    for s in ["lone1", "lone2"] {
        let r = having.raw(&format!("add server be_static/{s} 127.0.0.1:9"));
        assert!(r.contains("New server registered"), "{r}");
    }
    let o = run_in(
        &f.socket_dir(),
        &["server", "set-weight", "be_static/*", "3", "--yes"],
    );
    assert_eq!(o.code, 1, "{o:?}");
    let pid = lacking.pid.to_string();
    let line = o
        .stderr
        .lines()
        .find(|l| l.contains(&pid))
        .unwrap_or_else(|| panic!("names pid {pid}: {o:?}"));
    for s in ["lone1", "lone2"] {
        assert!(
            line.contains(&format!(
                "`set weight be_static/{s} 3`: HAProxy said: No such server."
            )),
            "{line}"
        );
    }
    assert!(line.contains("2 of 4 commands failed, 2 applied"), "{line}");
    // What it says was applied, was: read back raw on each process.
    for i in f.instances() {
        for s in ["s1", "s2"] {
            let w = i.raw(&format!("get weight be_static/{s}"));
            assert!(w.starts_with("3 "), "pid {} {s}: {w}", i.pid);
        }
    }
    for s in ["lone1", "lone2"] {
        let w = having.raw(&format!("get weight be_static/{s}"));
        assert!(w.starts_with("3 "), "{s}: {w}");
    }
}

/// The bash completion works below the top level, in a real bash: the
/// script clap_complete makes for a hyphenated name completed nothing
/// after `haproxy-cli server` (it listed files).
#[test]
fn bash_completes_every_level() {
    let script = Command::new(cli())
        .args(["completions", "bash"])
        .output()
        .expect("completions");
    assert!(script.status.success());
    let file = std::env::temp_dir().join(format!("hx-completion-{}.bash", std::process::id()));
    std::fs::write(&file, &script.stdout).expect("write the script");
    let complete = |words: &[&str]| -> Vec<String> {
        // COMP_WORDS as bash fills it; the function gets the command,
        // the word being completed and the one before it.
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let program = format!(
            "source '{}' && COMP_WORDS=({}) && COMP_CWORD={} && _haproxy__cli haproxy-cli '{}' '{}' && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            file.display(),
            quoted.join(" "),
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let o = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &program])
            .output()
            .expect("run bash");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let top = complete(&["haproxy-cli", ""]);
    assert!(top.iter().any(|w| w == "server"), "{top:?}");
    let server = complete(&["haproxy-cli", "server", ""]);
    for w in ["list", "drain", "set-weight", "add"] {
        assert!(server.iter().any(|x| x == w), "{w} in {server:?}");
    }
    let drain = complete(&["haproxy-cli", "server", "drain", "--wa"]);
    assert_eq!(drain, ["--wait"], "{drain:?}");
    let map = complete(&["haproxy-cli", "map", "re"]);
    assert_eq!(map, ["replace"], "{map:?}");
    // And bash registers it under the binary's name.
    let program = format!("source '{}' && complete -p haproxy-cli", file.display());
    let o = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("run bash");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("-F _haproxy__cli"),
        "{o:?}"
    );
    let _ = std::fs::remove_file(&file);
}

/// The exporter's HTTP edges, with a real TCP client: a head over 16 KiB
/// is refused however it arrives, a bare-LF request is answered (not
/// left to a 408 after 5 s), `gzip;q=0` gets no gzip, and a worker count
/// that would exhaust the process is a usage error.
#[test]
fn the_exporter_reads_requests_as_http_says() {
    use std::io::Read;
    let f = Fleet::start(Options::default());
    let sock = f.instances()[0].socket.to_string_lossy().into_owned();
    let e = crate::one_path::Exporter::start(&["--socket", &sock], &[]);
    let exchange = |bytes: &[u8]| -> String {
        let mut s = std::net::TcpStream::connect(e.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let _ = s.write_all(bytes);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    // 17,000 bytes of head, its end in the same read as the excess.
    let mut big = b"GET /metrics HTTP/1.0\r\nX-Pad: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 17_000));
    big.extend_from_slice(b"\r\n\r\n");
    let r = exchange(&big);
    assert!(
        r.starts_with("HTTP/1.0 431") || r.starts_with("HTTP/1.1 431"),
        "{r:.200}"
    );
    let r = exchange(b"GET /metrics HTTP/1.0\n\n");
    assert!(r.starts_with("HTTP/1.0 200"), "bare LF: {r:.200}");
    assert!(r.contains("be_static"), "{r:.200}");
    let r = exchange(b"GET /metrics HTTP/1.0\r\nAccept-Encoding: gzip;q=0\r\n\r\n");
    assert!(r.starts_with("HTTP/1.0 200"), "{r:.200}");
    assert!(
        !r.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{r:.300}"
    );
    assert!(r.contains("be_static"), "plain text: {r:.200}");
    let r = exchange(b"GET /metrics HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n");
    assert!(
        r.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{r:.300}"
    );

    for flag in ["--http-workers", "--concurrency"] {
        let o = Command::new(cli())
            .args([
                "--socket",
                &sock,
                "exporter",
                "--listen",
                "127.0.0.1:0",
                flag,
                "100000",
            ])
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(2), "{flag}: {o:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("from 1 to 1024"),
            "{o:?}"
        );
    }
}

/// Two processes started at different seconds, read as one target: their
/// uptime and start time are one combined series each (the youngest's
/// uptime, the latest start), never per-pid series nor a disagreement.
#[test]
fn identity_fields_are_never_exporter_disagreements() {
    let uptime = |i: &Instance| -> u64 {
        i.raw("show info")
            .lines()
            .find_map(|l| l.strip_prefix("Uptime_sec: "))
            .and_then(|v| v.trim().parse().ok())
            .expect("Uptime_sec")
    };
    let older = Fleet::start(Options::default());
    haproxy_e2e::wait_until(Duration::from_secs(10), "a second of uptime", || {
        uptime(&older.instances()[0]) >= 2
    });
    let younger = Fleet::start(Options::default());
    let links = older.dir().join("both");
    std::fs::create_dir_all(&links).expect("mkdir");
    std::os::unix::fs::symlink(&older.instances()[0].socket, links.join("a.sock")).expect("link");
    std::os::unix::fs::symlink(&younger.instances()[0].socket, links.join("b.sock")).expect("link");
    let dir = links.to_string_lossy().into_owned();
    let e = crate::one_path::Exporter::start(&["--socket-dir", &dir], &[]);
    let body = e.scrape();
    for field in ["Uptime_sec", "Start_time_sec"] {
        assert!(
            !body.contains(&format!("field=\"{field}\"")),
            "{field} flagged as a disagreement"
        );
    }
    for family in [
        "haproxy_process_uptime_seconds",
        "haproxy_process_start_time_seconds",
    ] {
        let lines: Vec<&str> = body
            .lines()
            .filter(|l| l.starts_with(family) && !l.starts_with('#'))
            .collect();
        assert_eq!(lines.len(), 1, "one combined series: {lines:?}");
        assert!(!lines[0].contains("pid="), "{lines:?}");
    }
    let combined: u64 = body
        .lines()
        .find(|l| l.starts_with("haproxy_process_uptime_seconds"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .map(|v| v as u64)
        .expect("uptime value");
    assert!(
        combined < uptime(&older.instances()[0]),
        "the youngest process's uptime, not the oldest's: {combined}"
    );
}

/// `get weight` of `be_static/s1` on every process, raw.
fn weights(f: &Fleet, server: &str) -> Vec<String> {
    f.instances()
        .iter()
        .map(|i| i.raw(&format!("get weight {server}")).trim().to_owned())
        .collect()
}

/// `set-weight P%` previews the weight HAProxy will set (P% of the
/// configured weight, rounded down), and refuses one that rounds a
/// nonzero weight to 0 unless `--allow-zero`; each outcome read back raw
/// on every process.
#[test]
fn a_percentage_previews_what_haproxy_sets_and_never_zeroes_silently() {
    let f = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    let s1 = "be_static/s1";
    // 5% of 10 is 0: refused, nothing sent.
    let o = run(&f, &["server", "set-weight", s1, "5%"], "", None);
    assert_eq!(o.code, 2, "{o:?}");
    assert!(
        o.stderr.contains("--allow-zero") && o.stderr.contains(s1),
        "{o:?}"
    );
    assert_eq!(weights(&f, s1), ["10 (initial 10)", "10 (initial 10)"]);
    // The preview of a set says what each server becomes.
    let o = run(
        &f,
        &[
            "server",
            "set-weight",
            "be_static/*",
            "5%",
            "--dry-run",
            "--allow-zero",
        ],
        "",
        None,
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stderr.contains("weight 10 -> 0 (5% of 10)"), "{o:?}");
    assert!(o.stderr.contains("weight 20 -> 1 (5% of 20)"), "{o:?}");
    assert_eq!(weights(&f, s1), ["10 (initial 10)", "10 (initial 10)"]);
    // 55% of 10 is 5, set on every process.
    let o = run(&f, &["server", "set-weight", s1, "55%"], "", None);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(weights(&f, s1), ["5 (initial 10)", "5 (initial 10)"]);
    // Asked for: 0.
    let o = run(
        &f,
        &["server", "set-weight", s1, "5%", "--allow-zero"],
        "",
        None,
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(weights(&f, s1), ["0 (initial 10)", "0 (initial 10)"]);
}

/// `-o MODE` is accepted wherever `--format` is (kubectl's habit), before
/// or after the subcommand, and gives the same bytes; `-o wide` outside a
/// listing is a usage error.
#[test]
fn dash_o_is_format_everywhere() {
    let f = Fleet::start(Options::default());
    let dir = f.socket_dir();
    for (o, format, args) in [
        ("json", "json", &["info"][..]),
        ("json", "json", &["server", "list"][..]),
        ("jsonl", "jsonl", &["backend", "list"][..]),
        ("csv", "csv", &["frontend", "list"][..]),
        ("json", "json", &["map", "list"][..]),
        ("json", "json", &["check"][..]),
    ] {
        let by_format = run_in(&dir, &[&["--format", format][..], args].concat());
        assert_eq!(by_format.code, 0, "{args:?}: {by_format:?}");
        let before = run_in(&dir, &[&["-o", o][..], args].concat());
        let after = run_in(&dir, &[args, &["-o", o][..]].concat());
        // The same output but for live numbers (counters move between
        // the runs): every run of digits read as one.
        let shape = |t: &str| -> String {
            let mut out = String::new();
            for c in t.chars() {
                if !c.is_ascii_digit() {
                    out.push(c);
                } else if !out.ends_with('#') {
                    out.push('#');
                }
            }
            out
        };
        for got in [&before, &after] {
            assert_eq!(got.code, 0, "-o {o} {args:?}: {got:?}");
            assert_eq!(
                shape(&got.stdout),
                shape(&by_format.stdout),
                "-o {o} {args:?}"
            );
        }
        assert!(!by_format.stdout.trim().is_empty(), "{by_format:?}");
    }
    let wide = run_in(&dir, &["server", "list", "-o", "wide"]);
    assert_eq!(wide.code, 0, "{wide:?}");
    assert!(
        wide.stdout
            .lines()
            .next()
            .is_some_and(|h| h.contains("lbtot")),
        "{wide:?}"
    );
    let o = run_in(&dir, &["info", "-o", "wide"]);
    assert_eq!(o.code, 2, "{o:?}");
    assert!(o.stderr.contains("-o wide applies to listings"), "{o:?}");
}

/// The `0x…` ids of `map` on one process, raw, with their `key value`.
fn map_ids(i: &Instance, map: &str) -> Vec<(String, String)> {
    i.raw(&format!("show map {map}"))
        .lines()
        .filter(|l| l.starts_with("0x"))
        .filter_map(|l| l.split_once(' '))
        .map(|(id, kv)| (id.to_owned(), kv.to_owned()))
        .collect()
}

/// Entry ids are per process: `map show` prints an id only where every
/// process has it, and a write by an id that is not the same entry
/// everywhere is refused before anything is sent (exit 2), every
/// process's map unchanged; on one process, by id works.
#[test]
fn map_entry_ids_are_per_process() {
    let f = Fleet::start(Options {
        instances: 3,
        ..Options::default()
    });
    let map = f.map_file().to_string_lossy().into_owned();
    let raw: Vec<Vec<(String, String)>> = f.instances().iter().map(|i| map_ids(i, &map)).collect();
    let everywhere = |id: &str| raw.iter().all(|r| r.iter().any(|(i, _)| i == id));
    let shown = run_in(&f.socket_dir(), &["map", "show", &map]);
    assert_eq!(shown.code, 0, "{shown:?}");
    for line in shown.stdout.lines() {
        let id = line.split(' ').next().unwrap_or("");
        assert!(
            id == "-" || everywhere(id),
            "{id} is not every process's: {line}"
        );
    }
    // An id of the first process that another lacks (pointers differ).
    let (id, _) = raw[0]
        .iter()
        .find(|(id, _)| !everywhere(id))
        .expect("an id the processes do not share")
        .clone();
    let before: Vec<Vec<String>> = f.instances().iter().map(|i| map_entries(i, &map)).collect();
    for args in [
        vec!["map", "del", &map, &id],
        vec!["map", "set", &map, &id, "be_tcp"],
    ] {
        let o = run(&f, &args, "", None);
        assert_eq!(o.code, 2, "{args:?}: {o:?}");
        assert!(
            o.stderr.contains("by its key") && o.stderr.contains(&id),
            "{o:?}"
        );
        let after: Vec<Vec<String>> = f.instances().iter().map(|i| map_entries(i, &map)).collect();
        assert_eq!(after, before, "{args:?} changed a process");
    }
    // One process: its own ids work.
    let one = &f.instances()[0];
    let (id, kv) = raw[0][0].clone();
    let o = Command::new(cli())
        .arg("--socket")
        .arg(&one.socket)
        .args(["map", "del", &map, &id])
        .output()
        .expect("run");
    assert!(o.status.success(), "{o:?}");
    assert!(!map_entries(one, &map).contains(&kv), "{kv} still there");
}

/// zsh completes every level, typed in a real zsh under tmux: the
/// script `completions zsh` writes, installed as `_haproxy-cli` in
/// `fpath`, lists a subcommand's subcommands and completes a prefix.
#[test]
fn zsh_completes_every_level() {
    let zsh = Command::new("zsh")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        zsh,
        "zsh is not installed: `apt-get install -y zsh` (`cargo xtask test` installs it)"
    );
    let dir = std::env::temp_dir().join(format!("hx-zsh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script = Command::new(cli())
        .args(["completions", "zsh"])
        .output()
        .expect("completions");
    assert!(script.status.success());
    std::fs::write(dir.join("_haproxy-cli"), &script.stdout).expect("write the script");
    let bin = cli();
    let bin_dir = bin.parent().expect("the binary's directory");
    let t = crate::top::Tmux::start(
        &dir,
        160,
        40,
        &format!("PATH='{}':$PATH zsh -f", bin_dir.display()),
    );
    t.keys(&[
        &format!(
            "fpath=('{}' $fpath); autoload -Uz compinit; compinit -u -d '{}/zcompdump'; PS1='ready> '",
            dir.display(),
            dir.display()
        ),
        "Enter",
    ]);
    t.wait("zsh's prompt", |s| s.contains("ready> "));
    t.keys(&["haproxy-cli server ", "Tab"]);
    t.wait("the server subcommands listed", |s| {
        ["set-weight", "drain", "list", "add"]
            .iter()
            .all(|w| s.contains(w))
    });
    t.keys(&["C-u", "haproxy-cli map rep", "Tab"]);
    t.wait("map rep completed to replace", |s| {
        s.contains("ready> haproxy-cli map replace")
    });
    t.keys(&["C-u", "haproxy-cli server drain --wa", "Tab"]);
    t.wait("--wa completed to --wait", |s| {
        s.contains("haproxy-cli server drain --wait")
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// After a reload with an old worker still draining (a connection held
/// open on it): a write through the master goes to the current worker,
/// says which old one it skipped and exits 0 (the old one refused it with
/// `Proxy is disabled.` before); `check` compares the current workers;
/// `metric Maxconn` is the current worker's, not doubled. Read back raw
/// from both workers.
#[test]
fn old_workers_after_a_reload_are_skipped_by_writes_and_settings() {
    use haproxy_e2e::{MasterWorker, Topology};
    use std::io::Write as _;
    let mw = MasterWorker::start(Topology::standard());
    let port = mw.frontend_port("fe_tcp");
    // A connection that stays open keeps the old worker alive.
    let mut held = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to fe_tcp");
    held.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .expect("half a request");
    let old = mw.worker_pids()[0];
    mw.reload();
    let current: Vec<u32> = mw.worker_pids().into_iter().filter(|p| *p != old).collect();
    assert_eq!(current.len(), 1, "one new worker: {current:?}");
    let new = current[0];
    assert!(
        mw.raw_master("show proc")
            .split("# old workers")
            .nth(1)
            .is_some_and(|s| s.contains(&old.to_string())),
        "{old} is an old worker"
    );
    let master = mw.master_socket().to_string_lossy().into_owned();
    let cli_run = |args: &[&str]| -> Full {
        let o = Command::new(cli())
            .arg("--master")
            .arg(&master)
            .args(args)
            .env_remove("HAPROXY_CLI_SOCKET_DIR")
            .env_remove("HAPROXY_CLI_SOCKET")
            .env_remove("HAPROXY_CLI_TARGET")
            .env_remove("HAPROXY_CLI_MASTER")
            .output()
            .expect("run haproxy-cli");
        Full {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    };
    let weight = |pid: u32| mw.raw_master(&format!("@!{pid} get weight be_static/s1"));
    let o = cli_run(&["server", "set-weight", "be_static/s1", "5"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stderr.contains(&format!("skipped old worker pid {old}")),
        "{o:?}"
    );
    assert!(weight(new).starts_with("5 "), "{}", weight(new));
    assert!(weight(old).starts_with("10 "), "{}", weight(old));
    let o = cli_run(&["check"]);
    assert_eq!(o.code, 0, "the current workers agree: {o:?}");
    assert!(
        o.stderr.contains(&format!("skipped old worker pid {old}")),
        "{o:?}"
    );
    let maxconn = |pid: u32| -> u64 {
        mw.raw_master(&format!("@!{pid} show info"))
            .lines()
            .find_map(|l| l.strip_prefix("Maxconn: "))
            .and_then(|v| v.trim().parse().ok())
            .expect("Maxconn")
    };
    let o = cli_run(&["metric", "Maxconn"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(o.stdout.trim(), maxconn(new).to_string(), "{o:?}");
    drop(held);
}
