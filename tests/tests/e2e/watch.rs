//! `--watch` on a non-terminal (a pipe): the first listing, then one
//! time-stamped line per change made behind the watch's back, read from
//! the built binary's stdout as it runs; SIGINT ends it with status 0.

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
    for bad in ["0", "-1", "nan"] {
        let o = Command::new(cli())
            .arg("--socket-dir")
            .arg(f.socket_dir())
            .args(["backend", "list", "--watch", bad])
            .output()
            .expect("run haproxy-cli");
        assert_eq!(o.status.code(), Some(2), "--watch {bad}: {o:?}");
    }
}
