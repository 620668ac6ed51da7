//! Every wait has a deadline and every reply a size bound, shown against
//! fake peers doing what real HAProxy does not: a reply without end, a
//! reply trickled a byte at a time, a socket whose process is frozen (its
//! backlog full, nothing accepted).
//!
//! Memory and threads are measured in a child process (this test binary
//! run again with `HX_BOUNDS_CHILD` set), so that other tests running in
//! parallel do not blur the figures: peak RSS is the child's `VmHWM`, the
//! thread count its `Threads` (`/proc/<pid>/status`).

use haproxy_transport::{Client, Endpoint, Error, Phase, ReplyLimits, RetryPolicy, Timeouts};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The peak RSS allowed to a process whose client read an endless reply
/// with a 16 MiB limit: the reply buffer may reach twice the limit while
/// it grows (old and new buffer during a reallocation), plus the program.
const ENDLESS_LIMIT: usize = 16 << 20;
const RSS_BOUND_KIB: u64 = 64 * 1024;

fn temp_sock(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "hx-bounds-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d.join(name)
}

/// Serves every connection with `f` on its own thread.
fn serve(f: impl Fn(UnixStream) + Send + Sync + Copy + 'static) -> Endpoint {
    let path = temp_sock("fake.sock");
    let l = UnixListener::bind(&path).expect("bind");
    thread::spawn(move || {
        for s in l.incoming().flatten() {
            thread::spawn(move || f(s));
        }
    });
    Endpoint::unix(&path)
}

fn status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Runs this test binary again as a child, running only `test` with
/// `HX_BOUNDS_CHILD` set; returns its standard output.
fn child(test: &str) -> String {
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env("HX_BOUNDS_CHILD", "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn child_value(out: &str, key: &str) -> u64 {
    // The harness may print `test … ... ` before the child's own line.
    out.lines()
        .find_map(|l| l.split(key).nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in the child's output:\n{out}"))
}

#[test]
fn an_endless_reply_ends_in_the_size_error_with_bounded_memory() {
    if std::env::var_os("HX_BOUNDS_CHILD").is_none() {
        let out = child("an_endless_reply_ends_in_the_size_error_with_bounded_memory");
        let hwm = child_value(&out, "VmHWM_KiB=");
        let streamed = child_value(&out, "streamed_bytes=");
        println!("endless reply: peak RSS {hwm} KiB, the peer sent {streamed} bytes");
        assert!(
            hwm < RSS_BOUND_KIB,
            "peak RSS {hwm} KiB over the documented {RSS_BOUND_KIB} KiB"
        );
        return;
    }
    static SENT: AtomicUsize = AtomicUsize::new(0);
    let ep = serve(|mut s| {
        let mut req = [0u8; 256];
        let _ = s.read(&mut req);
        let row = "be_app,srv,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5,0,,1,3,1,,0,,2,0,,0\n"
            .repeat(1000);
        let _ = s.write_all(b"# pxname,svname\n");
        while s.write_all(row.as_bytes()).is_ok() {
            SENT.fetch_add(row.len(), Ordering::Relaxed);
        }
    });
    let client = Client::new(ep)
        .timeouts(Timeouts::new(Duration::from_secs(60)))
        .retry(RetryPolicy::never())
        .reply_limits(ReplyLimits::default().with_dump(ENDLESS_LIMIT));
    let err = client.command("show stat").expect_err("endless");
    match &err {
        Error::ReplyTooLarge { limit, command, .. } => {
            assert_eq!(*limit, ENDLESS_LIMIT);
            assert_eq!(command, "show stat");
        }
        other => panic!("{other:?}"),
    }
    // A session and an acknowledgement's small limit: the same bound.
    let small = client
        .clone()
        .reply_limits(ReplyLimits::default().with_other(4096));
    let err = small.command("set weight b/s 1").expect_err("endless ack");
    assert!(
        matches!(err, Error::ReplyTooLarge { limit: 4096, .. }),
        "{err:?}"
    );
    println!("VmHWM_KiB={}", status_field(std::process::id(), "VmHWM:"));
    println!("streamed_bytes={}", SENT.load(Ordering::Relaxed));
}

#[test]
fn a_trickling_peer_ends_at_the_deadline() {
    let ep = serve(|mut s| {
        let mut req = [0u8; 256];
        let _ = s.read(&mut req);
        // A byte every 20 ms, forever: each read is quick, the reply never
        // ends.
        loop {
            if s.write_all(b"x").is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
    });
    for (deadline, session) in [
        (Duration::from_secs(2), false),
        (Duration::from_secs(1), true),
    ] {
        let client = Client::new(ep.clone())
            .timeouts(Timeouts::new(deadline))
            .retry(RetryPolicy::never());
        let t = Instant::now();
        let err = if session {
            // The prompt handshake is trickled too.
            client.session().map(drop).expect_err("trickled session")
        } else {
            client.command("show info").expect_err("trickled")
        };
        let took = t.elapsed();
        assert!(
            matches!(
                err,
                Error::Timeout {
                    phase: Phase::Read,
                    after,
                    ..
                } if after == deadline
            ),
            "{err:?}"
        );
        println!("trickling peer, deadline {deadline:?}: ended after {took:?}");
        let off = took.abs_diff(deadline);
        assert!(
            off <= Duration::from_millis(500),
            "{took:?} for a {deadline:?} deadline"
        );
    }
}

/// A listener that never accepts, its backlog full: what a frozen
/// (SIGSTOP) HAProxy process looks like from outside.
fn frozen_socket() -> (Socket, Vec<Socket>, PathBuf) {
    let path = temp_sock("frozen.sock");
    let l = Socket::new(Domain::UNIX, Type::STREAM, None).expect("socket");
    l.bind(&SockAddr::unix(&path).expect("addr")).expect("bind");
    l.listen(0).expect("listen");
    let mut fill = Vec::new();
    for _ in 0..8 {
        let s = Socket::new(Domain::UNIX, Type::STREAM, None).expect("socket");
        s.set_nonblocking(true).expect("nonblocking");
        if s.connect(&SockAddr::unix(&path).expect("addr")).is_ok() {
            fill.push(s);
        }
    }
    (l, fill, path)
}

#[test]
fn a_frozen_process_grows_no_threads() {
    if std::env::var_os("HX_BOUNDS_CHILD").is_none() {
        let out = child("a_frozen_process_grows_no_threads");
        let before = child_value(&out, "threads_before=");
        let after = child_value(&out, "threads_after=");
        println!("frozen socket: {before} threads before 20 timed-out commands, {after} after");
        assert_eq!(before, after, "threads grew");
        return;
    }
    let (_listener, _fill, path) = frozen_socket();
    let client = Client::new(Endpoint::unix(&path))
        .timeouts(Timeouts::new(Duration::from_millis(100)))
        .retry(RetryPolicy::never());
    let pid = std::process::id();
    let before = status_field(pid, "Threads:");
    for _ in 0..20 {
        let t = Instant::now();
        let err = client.command("show info").expect_err("frozen");
        assert!(
            matches!(
                err,
                Error::Timeout {
                    phase: Phase::Connect,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            t.elapsed() < Duration::from_millis(600),
            "{:?}",
            t.elapsed()
        );
    }
    let after = status_field(pid, "Threads:");
    println!("threads_before={before}");
    println!("threads_after={after}");
}
