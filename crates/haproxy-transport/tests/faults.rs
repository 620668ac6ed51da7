//! Faults a real HAProxy will not produce on demand, from a misbehaving
//! socket server of our own: silence, a reply cut short, garbage, a
//! socket that refuses then accepts, a stale socket file, a path that is
//! not a socket.

use haproxy_transport::{Client, Endpoint, Error, Phase, Retry, RetryPolicy, Timeouts};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "hx-faults-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Serves every connection with `f` on its own thread.
fn serve(f: impl Fn(UnixStream) + Send + Sync + Copy + 'static) -> (PathBuf, Endpoint) {
    let path = temp_dir().join("fake.sock");
    let l = UnixListener::bind(&path).expect("bind");
    thread::spawn(move || {
        for s in l.incoming().flatten() {
            thread::spawn(move || f(s));
        }
    });
    let ep = Endpoint::unix(&path);
    (path, ep)
}

fn read_request(s: &mut UnixStream) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    buf.truncate(n);
    buf
}

/// A client whose whole command has `command`; no retry.
fn quick(ep: Endpoint, command: Duration) -> Client {
    Client::new(ep)
        .timeouts(Timeouts::uniform(Duration::from_secs(2)).with_command(command))
        .retry(RetryPolicy::never())
}

#[test]
fn a_silent_socket_times_out_at_the_configured_time() {
    let (_p, ep) = serve(|s| {
        thread::sleep(Duration::from_secs(10));
        drop(s);
    });
    let t = Instant::now();
    let err = quick(ep.clone(), Duration::from_millis(300))
        .command("show info")
        .expect_err("must time out");
    let took = t.elapsed();
    match &err {
        Error::Timeout {
            endpoint,
            phase,
            after,
        } => {
            assert_eq!(endpoint, &ep);
            assert_eq!(*phase, Phase::Read);
            assert_eq!(*after, Duration::from_millis(300));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert!(
        err.to_string().contains("read timed out after 300ms"),
        "{err}"
    );
    // The session's prompt handshake times out the same way.
    let err = quick(ep, Duration::from_millis(200))
        .session()
        .expect_err("session");
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::Read,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_reply_cut_short_is_an_error_not_a_short_success() {
    let (_p, ep) = serve(|mut s| {
        let _ = read_request(&mut s);
        let _ = s.write_all(b"# pxname,svname,qcur\nfe,FRONTEND,0\nbe,BACK");
    });
    let err = quick(ep.clone(), Duration::from_secs(2))
        .command("show stat")
        .expect_err("cut short");
    assert!(
        matches!(&err, Error::ClosedMidReply { received, .. } if *received == 42),
        "{err:?}"
    );
    // A session closed before the prompt: the same error.
    let (_p2, ep2) = serve(|mut s| {
        let _ = read_request(&mut s);
        let _ = s.write_all(b"\n> ");
        let _ = read_request(&mut s);
        let _ = s.write_all(b"Name: HAProxy\nVers");
    });
    let mut session = quick(ep2, Duration::from_secs(2))
        .session()
        .expect("session");
    let err = session.command("show info").expect_err("cut short");
    assert!(
        matches!(err, Error::ClosedMidReply { received: 18, .. }),
        "{err:?}"
    );
    // A connection closed without a byte is not an empty success either.
    let (_p3, ep3) = serve(|mut s| {
        let _ = read_request(&mut s);
    });
    let err = quick(ep3, Duration::from_secs(2))
        .command("set weight b/s 1")
        .expect_err("silent close");
    assert!(
        matches!(err, Error::ClosedMidReply { received: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn garbage_is_not_haproxy() {
    let (_p, ep) = serve(|mut s| {
        let _ = read_request(&mut s);
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
    });
    let err = quick(ep.clone(), Duration::from_secs(2))
        .check_haproxy()
        .expect_err("not haproxy");
    match err {
        Error::NotHAProxy { endpoint, found } => {
            assert_eq!(endpoint, ep);
            assert!(found.starts_with("SSH-2.0"), "{found}");
        }
        other => panic!("{other:?}"),
    }
    // Binary garbage: not UTF-8, said so with the offset.
    let (_p2, ep2) = serve(|mut s| {
        let _ = read_request(&mut s);
        let _ = s.write_all(b"ok\xff\xfe\n");
    });
    let err = quick(ep2, Duration::from_secs(2))
        .command("show info")
        .expect_err("binary");
    assert!(matches!(err, Error::InvalidUtf8 { at: 2, .. }), "{err:?}");
    // A network service's CRLF reply to any command: not HAProxy, with
    // what it said.
    let (_p3, ep3) = serve(|mut s| {
        let _ = read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    let err = quick(ep3, Duration::from_secs(2))
        .command("show stat")
        .expect_err("http");
    assert!(
        matches!(&err, Error::NotHAProxy { found, .. } if found.starts_with("HTTP/1.1 400")),
        "{err:?}"
    );
}

#[test]
fn a_dump_cut_at_a_line_boundary_is_cut_short() {
    // Every line complete, the closing empty line missing.
    let (_p, ep) = serve(|mut s| {
        let _ = read_request(&mut s);
        let _ = s.write_all(b"# pxname,svname\nfe,FRONTEND\n");
    });
    let err = quick(ep.clone(), Duration::from_secs(2))
        .command("show stat")
        .expect_err("cut short");
    assert!(
        matches!(err, Error::ClosedMidReply { received: 28, .. }),
        "{err:?}"
    );
    // A command whose 2.6 refusal lacks the empty line is not flagged.
    let reply = quick(ep, Duration::from_secs(2))
        .command("del server b/s")
        .expect("complete");
    assert_eq!(reply, "# pxname,svname\nfe,FRONTEND\n");
}

#[test]
fn refused_then_accepting_succeeds_on_retry() {
    let dir = temp_dir();
    let path = dir.join("late.sock");
    // A socket file whose listener is gone (a process restarting):
    // refused until the new listener is bound.
    drop(UnixListener::bind(&path).expect("bind"));
    let p2 = path.clone();
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(300));
        let _ = std::fs::remove_file(&p2);
        let l = UnixListener::bind(&p2).expect("bind");
        if let Some(Ok(mut s)) = l.incoming().next() {
            let _ = read_request(&mut s);
            let _ = s.write_all(b"Name: HAProxy\n\n");
        }
    });
    let client = Client::new(Endpoint::unix(&path)).retry(RetryPolicy::new(
        Retry::Times(20),
        Duration::from_millis(50),
    ));
    let reply = client
        .command("show info")
        .expect("retried until it listened");
    assert_eq!(reply, "Name: HAProxy\n\n");

    // With too few retries, the last error is kept and the count is right.
    let never = dir.join("never.sock");
    drop(UnixListener::bind(&never).expect("bind"));
    let t = Instant::now();
    let err = Client::new(Endpoint::unix(&never))
        .retry(RetryPolicy::new(
            Retry::Times(2),
            Duration::from_millis(100),
        ))
        .command("show info")
        .expect_err("never listens");
    match err {
        Error::RetriesExhausted { attempts, last, .. } => {
            assert_eq!(attempts, 3);
            assert!(matches!(*last, Error::ConnectRefused { .. }), "{last:?}");
        }
        other => panic!("{other:?}"),
    }
    // Two sleeps between three attempts, none after the last.
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_millis(290),
        "{took:?}"
    );
}

/// A path that does not exist is a mistake to report, not a fault to
/// wait out: not retried, whatever the policy, and the error names the
/// path once.
#[test]
fn a_missing_socket_path_is_not_retried() {
    let missing = temp_dir().join("missing.sock");
    let err = Client::new(Endpoint::unix(&missing))
        .retry(RetryPolicy::new(Retry::Times(5), Duration::from_secs(10)))
        .command("show info")
        .expect_err("missing");
    assert!(matches!(err, Error::NoSuchSocket { .. }), "{err:?}");
    let text = err.to_string();
    assert_eq!(text.matches("missing.sock").count(), 1, "{text}");
}

#[test]
fn a_command_haproxy_answered_is_never_retried() {
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    let (_p, ep) = serve(|mut s| {
        SEEN.fetch_add(1, Ordering::SeqCst);
        let _ = read_request(&mut s);
        let _ = s.write_all(b"partial");
    });
    let err = Client::new(ep)
        .retry(RetryPolicy::new(Retry::Times(5), Duration::ZERO))
        .command("set weight b/s 10")
        .expect_err("cut short");
    assert!(matches!(err, Error::ClosedMidReply { .. }), "{err:?}");
    assert_eq!(SEEN.load(Ordering::SeqCst), 1, "sent exactly once");
}

#[test]
fn stale_socket_missing_path_and_regular_file() {
    let dir = temp_dir();
    let stale = dir.join("stale.sock");
    drop(UnixListener::bind(&stale).expect("bind"));
    assert!(stale.exists(), "the socket file outlives its listener");
    let err = quick(Endpoint::unix(&stale), Duration::from_secs(1))
        .command("show info")
        .expect_err("stale");
    assert!(matches!(err, Error::ConnectRefused { .. }), "{err:?}");
    assert!(err.to_string().contains("stale.sock"), "{err}");

    let err = quick(
        Endpoint::unix(dir.join("missing.sock")),
        Duration::from_secs(1),
    )
    .command("show info")
    .expect_err("missing");
    assert!(matches!(err, Error::NoSuchSocket { .. }), "{err:?}");

    let file = dir.join("file.txt");
    std::fs::write(&file, "x").expect("write");
    let err = quick(Endpoint::unix(&file), Duration::from_secs(1))
        .command("show info")
        .expect_err("regular file");
    assert!(matches!(err, Error::NotASocket { .. }), "{err:?}");
}

#[test]
fn session_frames_replies_on_the_prompt() {
    // Replies without the usual blank line, and one with "> " inside.
    let (_p, ep) = serve(|mut s| {
        let _ = read_request(&mut s);
        let _ = s.write_all(b"\n> ");
        for reply in [&b"No such server.\n> "[..], b"a -> b\n\n> ", b"+ + \n> "] {
            let _ = read_request(&mut s);
            let _ = s.write_all(reply);
        }
    });
    let mut session = quick(ep, Duration::from_secs(2))
        .session()
        .expect("session");
    assert_eq!(
        session.command("get weight b/x").expect("1"),
        "No such server.\n"
    );
    assert_eq!(session.command("show x").expect("2"), "a -> b\n\n");
    assert_eq!(
        session
            .command_with_payload("add map #1 <<", "k v\n")
            .expect("3"),
        "\n"
    );
}

/// Pointed at something that is not HAProxy's CLI (an HTTP port closes on
/// a line it cannot read), the probe says what was expected and that
/// nothing came, not `answered ""`.
#[test]
fn a_peer_that_answers_nothing_is_named_not_haproxy_plainly() {
    let (_p, ep) = serve(|mut s| {
        let _ = read_request(&mut s);
    });
    let err = quick(ep, Duration::from_secs(2))
        .check_haproxy()
        .expect_err("not HAProxy");
    assert!(matches!(err, Error::NotHAProxy { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("expected `Name: HAProxy`") && text.contains("got nothing"),
        "{text}"
    );
}
