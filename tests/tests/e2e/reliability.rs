//! Faults at bad moments, against real HAProxy: reloads during reads and
//! writes, a process dying mid-listing, sockets that stall, truncate or
//! talk nonsense beside real ones, sockets the user may not use, and fifty
//! clients at once. Every call either succeeds with right values or fails
//! with an error that names the socket; nothing hangs, nothing is lost.

use haproxy_admin::{EntryRef, Error, HAProxy, MapRef, Weight};
use haproxy_e2e::{raw_unix, signal, Fleet, Level, MasterWorker, Options, Topology};
use haproxy_transport::Timeouts;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `command` for the whole command; 1 s to connect, 5 s in queue.
fn timeouts(command: Duration) -> Timeouts {
    Timeouts::new(command)
        .with_connect(Duration::from_secs(1))
        .with_queue(Duration::from_secs(5))
}

/// What one call did, for the account kept by the concurrent tests.
#[derive(Debug, Default)]
struct Account {
    ok: usize,
    failed: Vec<String>,
    slowest: Duration,
}

impl Account {
    fn record<T>(&mut self, started: Instant, r: &Result<T, Error>) {
        self.slowest = self.slowest.max(started.elapsed());
        match r {
            Ok(_) => self.ok += 1,
            Err(e) => self.failed.push(e.to_string()),
        }
    }
}

// ---- reload ----------------------------------------------------------------

/// The keys written, each with the worker PIDs the write addressed.
type Landed = Vec<(String, Vec<u32>)>;

#[test]
fn reloads_during_reads_and_writes() {
    let mw = Arc::new(MasterWorker::start(Topology::standard()));
    let map_file = mw
        .worker_socket()
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("hosts.map"))
        .expect("dir");
    assert!(map_file.exists(), "{}", map_file.display());
    let map_name = map_file.to_string_lossy().into_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let read_timeout = Duration::from_secs(3);
    let connect = move |mw: &MasterWorker| {
        HAProxy::builder()
            .timeouts(timeouts(read_timeout))
            .from_master(mw.master_socket())
    };

    // Reader: a fresh view of the workers each round, then a full listing
    // whose values are checked.
    let reader = {
        let (mw, stop) = (Arc::clone(&mw), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut acc = Account::default();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let r = connect(&mw).and_then(|h| h.snapshot());
                if let Ok(snap) = &r {
                    assert_eq!(snap.backend("be_app").expect("be_app").servers().len(), 6);
                    for s in snap.servers(Some("be_static")) {
                        let w = s.weight().expect("weights agree");
                        assert!(matches!(w, Some(10 | 20)), "{}: {w:?}", s.name());
                    }
                    assert!(snap.maxconn().expect("maxconn") > 0);
                }
                acc.record(started, &r);
            }
            acc
        })
    };
    // Writer: adds w<n> to the map through the master and records which
    // workers the handle that succeeded addressed.
    let landed: Arc<Mutex<Landed>> = Arc::default();
    let writer = {
        let (mw, stop, landed, map) = (
            Arc::clone(&mw),
            Arc::clone(&stop),
            Arc::clone(&landed),
            map_name.clone(),
        );
        std::thread::spawn(move || {
            let map = MapRef::File(&map);
            let mut acc = Account::default();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let key = format!("w{n}.example");
                let started = Instant::now();
                let r = connect(&mw).and_then(|h| {
                    h.add_map(map, &key, &format!("v{n}"))?;
                    Ok(h.process_ids())
                });
                if let Ok(pids) = &r {
                    landed
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((key, pids.clone()));
                }
                acc.record(started, &r);
                std::thread::sleep(Duration::from_millis(5));
            }
            acc
        })
    };

    let mut workers = vec![mw.worker_pids()];
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(400));
        mw.reload();
        let now = mw.worker_pids();
        let new: Vec<u32> = now
            .iter()
            .copied()
            .filter(|p| !workers.iter().flatten().any(|o| o == p))
            .collect();
        assert_eq!(new.len(), 1, "one new worker: {now:?}");
        // A write made after the reload reached the new worker: it is in
        // the new worker's map, read without our library.
        let deadline = Instant::now() + Duration::from_secs(10);
        let key = loop {
            let hit = landed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .rev()
                .find(|(_, pids)| pids.contains(&new[0]))
                .map(|(k, _)| k.clone());
            if let Some(k) = hit {
                break k;
            }
            assert!(Instant::now() < deadline, "no write reached {}", new[0]);
            std::thread::sleep(Duration::from_millis(20));
        };
        let shown = raw_unix(
            mw.worker_socket(),
            &format!("show map {}", map_file.display()),
        )
        .expect("worker socket");
        assert!(shown.contains(&format!(" {key} ")), "{key} not in {shown}");
        workers.push(new);
    }
    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("reader did not panic");
    let writes = writer.join().expect("writer did not panic");
    for (what, acc) in [("read", &reads), ("write", &writes)] {
        assert!(acc.ok > 0, "{what}s: {acc:?}");
        // No hang: nothing took longer than the timeouts allow (probe,
        // command, and the master's own answer).
        assert!(
            acc.slowest < read_timeout * 3,
            "{what} took {:?}",
            acc.slowest
        );
        // Every failure says where: the master socket or the worker
        // selector.
        for e in &acc.failed {
            assert!(
                e.contains(&mw.master_socket().display().to_string()),
                "{what} error names no socket: {e}"
            );
        }
    }
    eprintln!(
        "reload: {} reads ok, {} failed; {} writes ok, {} failed; slowest {:?} / {:?}; failures: {:?}",
        reads.ok,
        reads.failed.len(),
        writes.ok,
        writes.failed.len(),
        reads.slowest,
        writes.slowest,
        reads.failed.iter().chain(&writes.failed).take(4).collect::<Vec<_>>()
    );
}

// ---- process death -----------------------------------------------------------

#[test]
fn a_process_dying_mid_listing_is_named_and_the_rest_is_intact() {
    let mut f = Fleet::start(Options {
        instances: 3,
        topology: Topology::large(20, 100, 10),
        ..Options::default()
    });
    // Label each process: frontend maxconn 101, 102, 103.
    for (n, i) in f.instances().iter().enumerate() {
        let r = i.raw(&format!("set maxconn frontend fe_http {}", 101 + n));
        assert!(r.trim().is_empty(), "{r}");
    }
    let hap = HAProxy::builder()
        .timeouts(timeouts(Duration::from_secs(5)))
        .allow_partial()
        .from_dir(f.socket_dir())
        .expect("three");
    assert_eq!(hap.processes().len(), 3);
    let victim = f.instances()[1].pid;
    let label: BTreeMap<u32, i64> = f
        .instances()
        .iter()
        .enumerate()
        .map(|(n, i)| (i.pid, 101 + n as i64))
        .collect();

    // The victim is frozen so that the listing is surely under way when it
    // dies: the other two have answered, our request to it is queued.
    signal(victim, "STOP");
    let listing = std::thread::spawn(move || hap.snapshot().map(|s| (s, hap)));
    std::thread::sleep(Duration::from_millis(300));
    f.kill(1);
    let (snap, hap) = listing
        .join()
        .expect("no panic")
        .expect("the two others answer");

    assert_eq!(snap.failures().len(), 1, "{:?}", snap.failures());
    let failure = &snap.failures()[0];
    assert_eq!(failure.process.pid, victim);
    assert!(
        failure.endpoint.contains("instance-1.sock"),
        "{}",
        failure.endpoint
    );
    let why = failure.error.to_string();
    assert!(why.contains("instance-1.sock"), "{why}");
    let mut pids = snap.process_ids();
    pids.sort_unstable();
    let mut want: Vec<u32> = label.keys().copied().filter(|p| *p != victim).collect();
    want.sort_unstable();
    assert_eq!(pids, want);
    // Everything from the others: every server, labelled by its process.
    assert_eq!(snap.servers(None).len(), 20 * 100);
    for s in snap.servers(None).iter().step_by(97) {
        assert_eq!(s.requests_per_process().len(), 2, "{}", s.name());
    }
    for (pid, v) in snap
        .frontend("fe_http")
        .expect("fe_http")
        .metric_per_process("slim")
    {
        assert_eq!(
            v.map(|v| v.to_string()),
            Some(label[&pid.pid].to_string()),
            "pid {}",
            pid.pid
        );
    }
    // The same handle keeps working on the survivors, and says which
    // process is gone.
    let again = hap.snapshot().expect("survivors");
    assert_eq!(again.failures().len(), 1);
    assert_eq!(again.failures()[0].process.pid, victim);
    // Rediscovery skips the stale socket file, with a warning.
    let hap = HAProxy::builder()
        .probe_timeout(Duration::from_millis(300))
        .from_dir(f.socket_dir())
        .expect("two live");
    assert_eq!(hap.processes().len(), 2);
    assert_eq!(hap.skipped().len(), 1);
    assert!(hap.skipped()[0].path.ends_with("instance-1.sock"));
}

// ---- stalls, truncation and garbage beside real sockets -----------------------

/// A fake stats socket: answers `show info` with `info` (so it passes the
/// probe) and every other command by `other`.
fn fake(
    path: PathBuf,
    info: Option<String>,
    other: impl Fn(&mut UnixStream) + Send + Sync + 'static,
) {
    let listener = UnixListener::bind(&path).expect("bind fake");
    let other = Arc::new(other);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let (info, other) = (info.clone(), Arc::clone(&other));
            std::thread::spawn(move || {
                let mut line = String::new();
                let mut r = BufReader::new(s.try_clone().expect("clone"));
                if r.read_line(&mut line).is_err() {
                    return;
                }
                match (&info, line.trim()) {
                    (Some(info), "show info") => {
                        let _ = s.write_all(info.as_bytes());
                    }
                    _ => other(&mut s),
                }
            });
        }
    });
}

#[test]
fn stalled_truncating_and_garbage_sockets_beside_real_ones() {
    let f = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    let dir = f.socket_dir();
    let real_info = f.instances()[0].raw("show info");
    let real_stat = f.instances()[0].raw("show stat");
    let pid = f.instances()[0].pid;
    let fake_info = |fake_pid: u32| {
        real_info.replace(&format!("\nPid: {pid}\n"), &format!("\nPid: {fake_pid}\n"))
    };

    // Discovery: sockets that stall or close mid-reply on the probe may be
    // busy processes: discovery fails naming them, unless partial results
    // are allowed; one that talks nonsense is skipped. Each with its
    // reason, within the probe time.
    fake(dir.join("stall.sock"), None, |s| {
        std::thread::sleep(Duration::from_secs(30));
        let _ = s.write_all(b"late\n\n");
    });
    fake(dir.join("cut.sock"), None, |s| {
        let _ = s.write_all(b"Name: HAProxy\nVersion: 2.");
    });
    fake(dir.join("garbage.sock"), None, |s| {
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    let probe = Duration::from_millis(500);
    let strict = HAProxy::builder().probe_timeout(probe).from_dir(&dir);
    match strict {
        Err(Error::Unreachable { unreachable }) => assert_eq!(unreachable.len(), 2),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    let started = Instant::now();
    let hap = HAProxy::builder()
        .probe_timeout(probe)
        .allow_partial()
        .from_dir(&dir)
        .expect("the two real ones");
    assert!(started.elapsed() < probe * 3, "{:?}", started.elapsed());
    assert_eq!(hap.processes().len(), 2);
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let reasons: BTreeMap<String, String> = hap
        .skipped()
        .iter()
        .map(|s| (name(&s.path), s.reason.clone()))
        .chain(
            hap.unreachable()
                .iter()
                .map(|u| (name(Path::new(&u.endpoint)), u.reason.clone())),
        )
        .collect();
    assert_eq!(hap.skipped().len(), 1, "{reasons:?}");
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons["stall.sock"].contains("timed out"), "{reasons:?}");
    assert!(reasons["cut.sock"].contains("closed"), "{reasons:?}");
    assert!(
        reasons["garbage.sock"].contains("HTTP/1.1 400"),
        "{reasons:?}"
    );

    // Past the probe: one fake answers `show info` like HAProxy and then
    // stalls, another cuts `show stat` off at a line boundary. The
    // listing names both, with the configured timeout, and keeps the real
    // process's data complete.
    let cut_at = real_stat
        .match_indices('\n')
        .nth(5)
        .map_or(0, |(i, _)| i + 1);
    let truncated = real_stat[..cut_at].to_owned();
    let stall_path = dir.join("stall-after-probe.sock");
    let cut_path = dir.join("cut-after-probe.sock");
    fake(stall_path.clone(), Some(fake_info(4_000_001)), |s| {
        std::thread::sleep(Duration::from_secs(30));
        let _ = s.write_all(b"late\n\n");
    });
    fake(cut_path.clone(), Some(fake_info(4_000_002)), move |s| {
        let _ = s.write_all(truncated.as_bytes());
    });
    let read = Duration::from_millis(800);
    let endpoints = [
        f.instances()[0]
            .socket
            .to_string_lossy()
            .parse()
            .expect("real"),
        stall_path.to_string_lossy().parse().expect("stall"),
        cut_path.to_string_lossy().parse().expect("cut"),
    ];
    let hap = HAProxy::builder()
        .timeouts(timeouts(read))
        .allow_partial()
        .from_endpoints(endpoints)
        .expect("all three pass the probe");
    assert_eq!(hap.processes().len(), 3);
    let started = Instant::now();
    let snap = hap.snapshot().expect("the real one answers");
    let took = started.elapsed();
    assert!(took >= read && took < read * 3, "listing took {took:?}");
    let failures: BTreeMap<u32, String> = snap
        .failures()
        .iter()
        .map(|f| (f.process.pid, f.error.to_string()))
        .collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    let stalled = &failures[&4_000_001];
    assert!(
        stalled.contains("stall-after-probe.sock") && stalled.contains("timed out"),
        "{stalled}"
    );
    assert!(
        stalled.contains("800ms"),
        "says the configured time: {stalled}"
    );
    let cut = &failures[&4_000_002];
    assert!(
        cut.contains("cut-after-probe.sock") && cut.contains("closed"),
        "{cut}"
    );
    assert_eq!(snap.process_ids(), [pid]);
    assert_eq!(snap.backend("be_app").expect("be_app").servers().len(), 6);
}

// ---- permissions ---------------------------------------------------------------

#[test]
fn sockets_the_user_may_not_use_are_named_errors() {
    let f = Fleet::start(Options {
        instances: 1,
        extra_sockets: vec![
            ("user".to_owned(), Level::User),
            ("operator".to_owned(), Level::Operator),
        ],
        ..Options::default()
    });
    let i = &f.instances()[0];
    let sock = |level: Level| {
        i.extra_sockets
            .iter()
            .find(|(_, l)| *l == level)
            .map(|(p, _)| p.clone())
            .expect("socket of that level")
    };
    // Levels: reading works on both, admin writes are refused with
    // HAProxy's own words and the socket named; operator may do what
    // HAProxy lets an operator do.
    for level in [Level::User, Level::Operator] {
        let path = sock(level);
        let hap = HAProxy::from_socket(&path).expect("readable");
        let snap = hap.snapshot().expect("user and operator may read");
        assert_eq!(snap.backend("be_app").expect("be_app").servers().len(), 6);
        let err = hap.set_maxconn(100).expect_err("admin only");
        let text = err.to_string();
        assert!(text.contains("Permission denied"), "{level:?}: {text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        let err = snap.server("s1", Some("be_static")).expect("s1")[0]
            .set_weight(Weight::Absolute(3))
            .expect_err("admin only");
        assert!(err.to_string().contains("Permission denied"), "{err}");
    }
    assert!(
        i.raw("show info").contains("\nMaxconn: 4000\n"),
        "unchanged"
    );

    // A socket file the user may not open (mode 600, owned by root when
    // the tests run as root; otherwise made unreadable): the CLI, run as
    // an unprivileged user where needed, names the socket.
    let cli = crate::cli::cli();
    let socket = i.socket.display().to_string();
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let out = if is_root {
        // `nobody` needs to reach the socket's directory and the binary
        // (a copy beside the sockets: the build directory may be closed
        // to other users).
        let bin = f.dir().join("haproxy-cli-as-nobody");
        std::fs::copy(cli, &bin).expect("copy the binary");
        let mut d = i.socket.parent();
        while let Some(p) = d {
            let _ = std::process::Command::new("chmod")
                .arg("o+x")
                .arg(p)
                .status();
            d = p.parent();
        }
        let _ = std::process::Command::new("chmod")
            .arg("o+rx")
            .arg(&bin)
            .status();
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(["--socket", &socket, "info"])
            .output()
            .expect("setpriv")
    } else {
        let _ = std::process::Command::new("chmod")
            .arg("000")
            .arg(&i.socket)
            .status();
        std::process::Command::new(cli)
            .args(["--socket", &socket, "info"])
            .output()
            .expect("cli")
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&socket), "{stderr}");
    assert!(
        stderr.to_lowercase().contains("permission denied"),
        "{stderr}"
    );
}

// ---- load ----------------------------------------------------------------------

#[test]
fn fifty_clients_of_mixed_reads_and_writes_lose_nothing() {
    let f = Fleet::start(Options {
        instances: 3,
        ..Options::default()
    });
    let map_file = f.map_file().to_string_lossy().into_owned();
    let hap = Arc::new(
        HAProxy::builder()
            .timeouts(timeouts(Duration::from_secs(10)))
            .from_dir(f.socket_dir())
            .expect("three"),
    );
    assert_eq!(hap.processes().len(), 3);
    let stop = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..50)
        .map(|t| {
            let (hap, stop, ops, map_file) = (
                Arc::clone(&hap),
                Arc::clone(&stop),
                Arc::clone(&ops),
                map_file.clone(),
            );
            std::thread::spawn(move || {
                let map = MapRef::File(&map_file);
                let mut acc = Account::default();
                let mut written = Vec::new();
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    ops.fetch_add(1, Ordering::Relaxed);
                    let started = Instant::now();
                    match (t + n as usize) % 5 {
                        0 => {
                            let r = hap.snapshot();
                            if let Ok(s) = &r {
                                assert!(s.failures().is_empty(), "{:?}", s.failures());
                                assert_eq!(s.servers(Some("be_app")).len(), 6);
                            }
                            acc.record(started, &r);
                        }
                        1 | 2 => {
                            let key = format!("t{t}-{n}.example");
                            let r = hap.add_map(map, &key, &format!("{t}:{n}"));
                            if r.is_ok() {
                                written.push(key);
                            }
                            acc.record(started, &r);
                        }
                        3 => {
                            // Two writers share each server; the weight
                            // read back is one of theirs.
                            let s = if t % 2 == 0 { "s1" } else { "s2" };
                            let w = 1 + (t % 25) as u16 * 10;
                            let r = hap.snapshot().and_then(|snap| {
                                snap.server(s, Some("be_static"))?[0]
                                    .set_weight(Weight::Absolute(w))
                            });
                            acc.record(started, &r);
                        }
                        _ => {
                            let r = hap.get_map(map, "example.com");
                            if let Ok(per) = &r {
                                for (_, l) in per {
                                    assert_eq!(l[0].value.as_deref(), Some("be_app"));
                                }
                            }
                            acc.record(started, &r);
                        }
                    }
                }
                (acc, written)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Relaxed);
    let mut total = Account::default();
    let mut written = Vec::new();
    for t in threads {
        let (acc, w) = t.join().expect("client did not panic");
        total.ok += acc.ok;
        total.failed.extend(acc.failed);
        total.slowest = total.slowest.max(acc.slowest);
        written.extend(w);
    }
    let issued = ops.load(Ordering::Relaxed);
    // Every operation is accounted for: it succeeded or said why not.
    assert_eq!(total.ok + total.failed.len(), issued);
    assert!(
        total.failed.is_empty(),
        "{:?}",
        &total.failed[..total.failed.len().min(5)]
    );
    assert!(issued > 200, "only {issued} operations");
    // No lost write and none doubled (an add retried after HAProxy took it
    // would show twice): every key once in every process, read from
    // outside our library.
    for i in f.instances() {
        let shown = i.raw(&format!("show map {map_file}"));
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for line in shown.lines() {
            if let Some(key) = line.split(' ').nth(1) {
                *count.entry(key).or_default() += 1;
            }
        }
        for key in &written {
            assert_eq!(count.get(key.as_str()), Some(&1), "{key} in pid {}", i.pid);
        }
    }
    // The map can still be cleaned up in one go, and deletes by key work
    // under the same limits.
    let map = MapRef::File(&map_file);
    hap.del_map(map, EntryRef::Key(&written[0])).expect("del");
    eprintln!(
        "load: {issued} operations by 50 clients in 4 s, {} writes, slowest {:?}",
        written.len(),
        total.slowest
    );
}
