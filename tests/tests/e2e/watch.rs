//! `--watch` on a non-terminal (a pipe): the first listing (as the listing
//! flags say), then one time-stamped line per change made behind the
//! watch's back, read from the built binary's stdout as it runs; SIGINT
//! ends it with status 0.

use crate::cli::cli;
use haproxy_e2e::{Fleet, Options, Topology};
use serde_json::Value as Json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(15);

/// A running `haproxy-cli … --watch`, its stdout read line by line on a
/// thread; killed on drop if still running.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watch {
    fn start(f: &Fleet, args: &[&str]) -> Watch {
        let mut child = Command::new(cli())
            .arg("--socket-dir")
            .arg(f.socket_dir())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn haproxy-cli");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        Watch {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one satisfies `cond`; every line so far, on
    /// failure.
    fn wait_line(&mut self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if cond(&l) {
                        return l;
                    }
                }
                Err(_) => panic!(
                    "no line for: {what} within {DEADLINE:?}; output so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// SIGINT, then the exit status (within the deadline).
    fn interrupt(&mut self) -> i32 {
        haproxy_e2e::signal(self.child.id(), "INT");
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(st) = self.child.try_wait().expect("wait haproxy-cli") {
                return st.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "the watch did not stop on SIGINT"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fleet() -> Fleet {
    Fleet::start(Options {
        instances: 3,
        topology: Topology::standard(),
        ..Options::default()
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn is_stamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn watch_prints_a_timestamped_line_per_change() {
    let f = fleet();
    let mut w = Watch::start(
        &f,
        &["server", "list", "--backend", "be_static", "--watch", "0.2"],
    );
    // The first listing, whole.
    w.wait_line("the header", |l| {
        l.starts_with("backend") && l.contains("weight")
    });
    w.wait_line("be_static/s2", |l| {
        l.starts_with("be_static") && l.contains(" s2 ")
    });
    // A weight changed on one instance only, raw.
    f.instances()[1].raw("set weight be_static/s1 3");
    let l = w.wait_line("the weight change", |l| l.contains("be_static/s1"));
    let (stamp, rest) = l.split_once(' ').expect("a stamp, then the change");
    assert!(is_stamp(stamp), "{l}");
    assert_eq!(rest, "be_static/s1 weight 10 -> {10|3|10}");
    // A state change on every instance.
    for i in f.instances() {
        i.raw("set server be_static/s2 state maint");
    }
    let l = w.wait_line("the status change", |l| {
        l.contains("be_static/s2 status") && l.ends_with("-> MAINT")
    });
    assert!(is_stamp(&l[..20]), "{l}");
    assert_eq!(w.interrupt(), 0, "Ctrl-C ends the watch cleanly");
    // Only change lines after the listing: nothing else was printed.
    let after: Vec<&String> = w.seen.iter().skip(3).collect();
    assert!(after.iter().all(|l| is_stamp(&l[..20])), "{:?}", w.seen);
}

#[test]
fn watch_json_lines_and_bad_intervals() {
    let f = fleet();
    let mut w = Watch::start(
        &f,
        &["--format", "json", "frontend", "list", "--watch", "0.2"],
    );
    w.wait_line("the JSON listing", |l| {
        l.starts_with('[') && l.contains("fe_tcp")
    });
    for i in f.instances() {
        i.raw("disable frontend fe_tcp");
    }
    let l = w.wait_line("the change", |l| l.contains("fe_tcp"));
    let v: Json = serde_json::from_str(&l).expect("one JSON object per line");
    assert_eq!(v["object"], "fe_tcp", "{l}");
    assert_eq!(v["change"], "status", "{l}");
    assert_eq!(v["old"], "OPEN", "{l}");
    // `disable frontend` pauses the listeners: PAUSED (2.x), STOP before.
    assert!(v["new"] == "PAUSED" || v["new"] == "STOP", "{l}");
    assert!(is_stamp(v["time"].as_str().unwrap_or_default()), "{l}");
    assert_eq!(w.interrupt(), 0);
    for bad in ["0", "0ms", "-1", "nan", "5x"] {
        let o = Command::new(cli())
            .arg("--socket-dir")
            .arg(f.socket_dir())
            .args(["backend", "list", "--watch", bad])
            .output()
            .expect("run haproxy-cli");
        assert_eq!(o.status.code(), Some(2), "--watch {bad}: {o:?}");
    }
}

/// The first listing of a watch is the listing without `--watch`: the
/// selection, `--sort`, `--columns`, `--no-header`, `-o wide` and
/// `--format jsonl` hold (and `--watch` takes a duration with a unit).
#[test]
fn watch_lists_as_the_listing_flags_say() {
    let f = fleet();
    // Columns, sort, no header: exactly these rows, in this order.
    let mut w = Watch::start(
        &f,
        &[
            "server",
            "list",
            "be_static/*",
            "--columns",
            "weight,status",
            "--sort",
            "-weight",
            "--no-header",
            "--watch",
            "500ms",
        ],
    );
    let first = w.wait_line("the first row", |_| true);
    let second = w.wait_line("the second row", |_| true);
    let cells = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(cells(&first), "be_static s2 20 no check", "{:?}", w.seen);
    assert_eq!(cells(&second), "be_static s1 10 no check", "{:?}", w.seen);
    f.instances()[0].raw("set weight be_static/s1 4");
    let l = w.wait_line("the weight change", |l| l.contains("be_static/s1"));
    assert!(l.ends_with("be_static/s1 weight 10 -> {4|10|10}"), "{l}");
    assert_eq!(w.interrupt(), 0);
    assert_eq!(
        w.seen.len(),
        3,
        "nothing but the rows and the change: {:?}",
        w.seen
    );

    // JSON lines: one object per selected server with the chosen
    // columns, then the changes as JSON lines too.
    let mut w = Watch::start(
        &f,
        &[
            "--format",
            "jsonl",
            "server",
            "list",
            "be_static/*",
            "--columns",
            "weight",
            "--watch",
            "500ms",
        ],
    );
    for want in ["s1", "s2"] {
        let l = w.wait_line("a JSON line", |_| true);
        let v: Json = serde_json::from_str(&l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
        assert_eq!(v["name"], want, "{l}");
        assert_eq!(v["backend"], "be_static", "{l}");
        assert_eq!(
            v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
            // (serde_json's map sorts the keys)
            Some(vec!["backend".into(), "name".into(), "weight".into()]),
            "{l}"
        );
    }
    for i in f.instances() {
        i.raw("set weight be_static/s2 7");
    }
    let l = w.wait_line("the change", |l| l.contains("be_static/s2"));
    let v: Json = serde_json::from_str(&l).expect("a JSON line");
    assert_eq!(
        (&v["change"], &v["new"]),
        (&"weight".into(), &"7".into()),
        "{l}"
    );
    assert_eq!(w.interrupt(), 0);

    // -o wide: every column in the header.
    let mut w = Watch::start(&f, &["backend", "list", "-o", "wide", "--watch", "500ms"]);
    let header = w.wait_line("the header", |_| true);
    for col in ["name", "status", "qmax", "chkdown", "lastsess"] {
        assert!(
            header.split_whitespace().any(|c| c == col),
            "{col} missing: {header}"
        );
    }
    assert_eq!(w.interrupt(), 0);

    // Change lines cannot follow an exposition: refused, not mixed in.
    let o = Command::new(cli())
        .arg("--socket-dir")
        .arg(f.socket_dir())
        .args(["--format", "prometheus", "server", "list", "--watch", "1"])
        .output()
        .expect("run haproxy-cli");
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(o.stdout.is_empty(), "{o:?}");

    // A column that does not exist is a usage error, watch or not.

    for flag in ["--columns", "--sort"] {
        let o = Command::new(cli())
            .arg("--socket-dir")
            .arg(f.socket_dir())
            .args(["server", "list", flag, "nosuch", "--watch", "1"])
            .output()
            .expect("run haproxy-cli");
        assert_eq!(o.status.code(), Some(2), "{flag}: {o:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("unknown column `nosuch`"),
            "{o:?}"
        );
    }
}
