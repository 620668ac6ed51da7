//! The async API (`haproxy_admin::asynch`, `haproxy_transport::asynch`)
//! against real HAProxy: the same results as the blocking API, many tasks
//! on one handle within `stats maxconn`, cancellation, deadlines, and the
//! async example.

use haproxy_admin::asynch::AsyncHAProxy;
use haproxy_admin::{
    Builder, Error, HAProxy, Limiter, MapRef, ObjectKind, Snapshot, State, TransportError, Weight,
};
use haproxy_e2e::{Fleet, Level, Options, Topology};
use haproxy_transport::{Phase, Retry, RetryPolicy, Timeouts};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub(crate) fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Field `column` of record `pxname/svname` in a raw `show stat`.
fn raw_stat(reply: &str, pxname: &str, svname: &str, column: &str) -> String {
    haproxy_e2e::stat_field(reply, pxname, svname, column)
        .unwrap_or_else(|| panic!("no {column} of {pxname}/{svname} in:\n{reply}"))
        .to_owned()
}

/// What a listing says that does not move by itself (servers without
/// live checks, no traffic): `backend/server` → field → value.
fn listing(snap: &Snapshot) -> BTreeMap<String, BTreeMap<&'static str, String>> {
    const FIELDS: [&str; 8] = [
        "status", "weight", "scur", "stot", "addr", "sid", "bck", "act",
    ];
    snap.stat_objects(ObjectKind::Server)
        .into_iter()
        .filter(|o| o.proxy() != "be_app" || matches!(o.name(), "app3" | "app6"))
        .map(|o| {
            let fields = FIELDS
                .iter()
                .map(|f| (*f, format!("{:?}", o.get(f))))
                .collect();
            (format!("{}/{}", o.proxy(), o.name()), fields)
        })
        .collect()
}

fn fleet(instances: usize) -> Fleet {
    Fleet::start(Options {
        instances,
        ..Options::default()
    })
}

#[test]
fn async_listing_and_writes_match_the_blocking_api() {
    let f = fleet(3);
    let blocking = HAProxy::from_dir(f.socket_dir()).expect("blocking discovery");
    let rt = current_thread();
    let hap = rt
        .block_on(Builder::new().from_dir_async(f.socket_dir()))
        .expect("async discovery");

    // Discovery: the same processes, through the same sockets.
    let ids = |p: &[haproxy_admin::Process]| -> Vec<(u32, String)> {
        p.iter()
            .map(|p| (p.id().pid, p.endpoint().to_string()))
            .collect()
    };
    assert_eq!(ids(hap.processes()), ids(blocking.processes()));
    assert_eq!(hap.processes().len(), 3);

    // Listing: the same columns, objects and values.
    let a = rt.block_on(hap.snapshot()).expect("async snapshot");
    let b = blocking.snapshot().expect("blocking snapshot");
    assert_eq!(a.process_ids(), b.process_ids());
    assert_eq!(a.columns(), b.columns());
    assert_eq!(a.maxconn().expect("maxconn"), b.maxconn().expect("maxconn"));
    assert_eq!(a.version().expect("version"), b.version().expect("version"));
    let names = |s: &Snapshot| -> Vec<String> {
        s.servers(None)
            .iter()
            .map(|s| format!("{}/{}", s.backend(), s.name()))
            .collect()
    };
    assert_eq!(names(&a), names(&b));
    assert!(names(&a).len() >= 9, "{:?}", names(&a));
    assert_eq!(listing(&a), listing(&b));

    // Writes: the async one through the view, the blocking one through
    // its own view; each lands on every process.
    let s1 = a
        .backend("be_static")
        .and_then(|be| be.server("s1"))
        .expect("s1");
    let weight = Weight::Absolute(7).command("be_static", "s1").expect("cmd");
    rt.block_on(hap.run_having(&s1.processes(), &weight))
        .expect("async set weight");
    let drain =
        haproxy_admin::Command::set_server_state("be_static", "s1", State::Drain).expect("cmd");
    rt.block_on(hap.run_having(&s1.processes(), &drain))
        .expect("async set state");
    let s2 = b
        .backend("be_static")
        .and_then(|be| be.server("s2"))
        .expect("s2");
    s2.set_weight(Weight::Absolute(7))
        .expect("blocking set weight");
    s2.set_state(State::Drain).expect("blocking set state");
    for i in f.instances() {
        let stat = i.raw("show stat");
        for s in ["s1", "s2"] {
            assert_eq!(
                raw_stat(&stat, "be_static", s, "weight"),
                "7",
                "pid {}",
                i.pid
            );
            assert_eq!(
                raw_stat(&stat, "be_static", s, "status"),
                "DRAIN",
                "pid {}",
                i.pid
            );
        }
    }
    let a = rt.block_on(hap.snapshot()).expect("async snapshot");
    let b = blocking.snapshot().expect("blocking snapshot");
    assert_eq!(listing(&a), listing(&b));

    // Batches: the same replies, and the same failure, word for word.
    let queue = |batch: &mut haproxy_admin::Batch<'_>| {
        batch
            .push(
                Weight::Absolute(3)
                    .command("be_static", "s1")
                    .expect("queue"),
            )
            .push(
                haproxy_admin::Command::set_server_state("be_static", "s1", State::Ready)
                    .expect("queue"),
            );
    };
    let mut ab = hap.batch();
    queue(&mut ab);
    let mut bb = blocking.batch();
    queue(&mut bb);
    let ra = rt.block_on(hap.run_batch(ab)).expect("async batch");
    let rb = bb.run().expect("blocking batch");
    assert_eq!(ra, rb);
    assert_eq!(ra.len(), 3);
    let mut ab = hap.batch();
    let nope = Weight::Absolute(1)
        .command("be_static", "nope")
        .expect("queue");
    ab.push(nope.clone());
    let mut bb = blocking.batch();
    bb.push(nope);
    let ea = rt.block_on(hap.run_batch(ab)).expect_err("no such server");
    let eb = bb.run().expect_err("no such server");
    assert!(matches!(ea, Error::Partial { .. }), "{ea}");
    assert_eq!(ea.to_string(), eb.to_string());

    // Maps: an atomic replace through the async API, read back by both.
    let map_file = f.map_file().to_string_lossy().into_owned();
    let map = MapRef::File(&map_file);
    rt.block_on(hap.replace_map(map, &[("a.example", "be_static"), ("b.example", "be_tcp")]))
        .expect("async replace");
    let keys = |entries: &haproxy_admin::PerProcess<Vec<haproxy_admin::Entry>>| {
        entries
            .iter()
            .map(|(_, e)| {
                e.iter()
                    .map(|e| (e.key.clone(), e.value.clone()))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    };
    let ea = rt.block_on(hap.map_entries(map)).expect("async entries");
    let eb = blocking.map_entries(map).expect("blocking entries");
    assert_eq!(keys(&ea), keys(&eb));
    assert_eq!(
        keys(&ea)[0],
        [
            ("a.example".to_owned(), Some("be_static".to_owned())),
            ("b.example".to_owned(), Some("be_tcp".to_owned()))
        ]
    );
    let add = haproxy_admin::Command::add_map(map, "c.example", "be_app").expect("cmd");
    rt.block_on(hap.run(&add)).expect("async add map");
    let la = rt
        .block_on(hap.get_map(map, "c.example"))
        .expect("async get");
    let lb = blocking.get_map(map, "c.example").expect("blocking get");
    assert_eq!(la, lb);
    // Read back raw on every process: the added entry beside the two
    // there were, nothing else.
    for i in f.instances() {
        let reply = i.raw(&format!("show map {}", f.map_file().display()));
        let mut entries: Vec<&str> = reply
            .lines()
            .filter(|l| l.starts_with("0x"))
            .filter_map(|l| l.split_once(' ').map(|(_, kv)| kv))
            .collect();
        entries.sort_unstable();
        assert_eq!(
            entries,
            [
                "a.example be_static",
                "b.example be_tcp",
                "c.example be_app"
            ],
            "{reply}"
        );
    }
}

/// `show sess` lines of the CLI (`fe=GLOBAL`), the asking one included.
fn cli_sessions(observer: &std::path::Path) -> usize {
    haproxy_e2e::raw_unix(observer, "show sess")
        .map(|r| r.lines().filter(|l| l.contains("fe=GLOBAL")).count())
        .unwrap_or(0)
}

#[test]
fn a_thousand_tasks_share_one_handle_within_stats_maxconn() {
    let f = Fleet::start(Options {
        instances: 3,
        extra_sockets: vec![("observer".to_owned(), Level::Admin)],
        ..Options::default()
    });
    // HAProxy's `stats maxconn` is 10 (the default; the harness does not
    // change it); the handle's limiter allows 8 per socket.
    let config = std::fs::read_to_string(&f.instances()[0].config).expect("config");
    assert!(!config.contains("stats maxconn"), "{config}");
    let limiter = Limiter::new(haproxy_transport::DEFAULT_MAX_CONNECTIONS);
    assert_eq!(limiter.max(), 8);
    let endpoints: Vec<haproxy_admin::Endpoint> = f
        .instances()
        .iter()
        .map(|i| haproxy_admin::Endpoint::unix(&i.socket))
        .collect();
    let rt = multi_thread();
    let hap: AsyncHAProxy = rt
        .block_on(
            Builder::new()
                .timeouts(Timeouts::new(Duration::from_secs(60)))
                .limiter(limiter.clone())
                .from_endpoints_async(endpoints.clone()),
        )
        .expect("discovery");

    // Two watchers per instance. The handle's own count of connections
    // open to the socket is exact: a slot is taken before the connect and
    // given back after the close. HAProxy's count of CLI sessions, seen
    // from another socket, shows the tasks overlapping on HAProxy's side;
    // it is not the bound, because HAProxy still lists a session whose
    // client has closed until its loop gets to the close, and by then the
    // freed slot may have been taken again.
    let stop = Arc::new(AtomicBool::new(false));
    let observers: Vec<_> = f
        .instances()
        .iter()
        .zip(&endpoints)
        .map(|(i, endpoint)| {
            let observer = i.extra_sockets[0].0.clone();
            let (stop, limiter, endpoint) = (Arc::clone(&stop), limiter.clone(), endpoint.clone());
            std::thread::spawn(move || {
                let (mut ours, mut haproxy) = (0, 0);
                let deadline = Instant::now() + Duration::from_secs(300);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    ours = ours.max(limiter.open(&endpoint));
                    // Less the observer's own session.
                    haproxy = haproxy.max(cli_sessions(&observer).saturating_sub(1));
                    std::thread::sleep(Duration::from_millis(2));
                }
                (ours, haproxy)
            })
        })
        .collect();

    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let results: Vec<haproxy_admin::Result<(usize, usize)>> = rt.block_on(async {
        let mut tasks = Vec::new();
        for n in 0..1000 {
            let hap = hap.clone();
            let done = Arc::clone(&done);
            tasks.push(tokio::spawn(async move {
                let r = if n % 2 == 0 {
                    hap.snapshot()
                        .await
                        .map(|s| (s.process_count(), s.servers(None).len()))
                } else {
                    hap.command("show info").await.map(|r| (r.len(), 0))
                };
                done.fetch_add(1, Ordering::Relaxed);
                r
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        out
    });
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let most: Vec<(usize, usize)> = observers
        .into_iter()
        .map(|o| o.join().expect("observer"))
        .collect();
    assert_eq!(results.len(), 1000);
    assert_eq!(done.load(Ordering::Relaxed), 1000);
    let servers = results[0].as_ref().expect("first snapshot").1;
    for (n, r) in results.iter().enumerate() {
        match r {
            Ok((processes, s)) => {
                assert_eq!(*processes, 3, "task {n}");
                if n % 2 == 0 {
                    assert_eq!(*s, servers, "task {n}");
                }
            }
            Err(e) => panic!("task {n} failed after {took:?}: {e}"),
        }
    }
    for (i, (ours, haproxy)) in most.iter().enumerate() {
        assert!(
            *ours <= 8,
            "instance {i}: {ours} connections open at once (the limiter allows 8)"
        );
        assert!(
            *ours >= 2,
            "instance {i}: the tasks never overlapped ({ours})"
        );
        assert!(
            *haproxy >= 2,
            "instance {i}: HAProxy never served two of them at once ({haproxy})"
        );
    }
    for i in f.instances() {
        assert_eq!(limiter.open(&haproxy_admin::Endpoint::unix(&i.socket)), 0);
    }
    eprintln!(
        "1000 tasks in {took:?}; most connections, ours and HAProxy's, per instance: {most:?}"
    );
}

#[test]
fn a_listing_cancelled_mid_way_leaves_the_handle_usable() {
    let f = Fleet::start(Options {
        instances: 3,
        topology: Topology::large(20, 500, 0),
        ..Options::default()
    });
    for rt in [current_thread(), multi_thread()] {
        let hap = rt
            .block_on(Builder::new().from_dir_async(f.socket_dir()))
            .expect("discovery");
        let full = rt.block_on(hap.snapshot()).expect("snapshot");
        let servers = full.servers(None).len();
        assert_eq!(servers, 20 * 500);

        // Cut short by a timeout, then by abort(), several times over.
        for cut in [1u64, 5, 20] {
            let r = rt.block_on(async {
                tokio::time::timeout(Duration::from_millis(cut), hap.snapshot()).await
            });
            assert!(
                r.is_err(),
                "a snapshot of 3 x 10,000 servers took under {cut} ms"
            );
        }
        let task = {
            let hap = hap.clone();
            rt.spawn(async move { hap.snapshot().await })
        };
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(5)).await });
        task.abort();
        let joined = rt.block_on(task);
        assert!(joined.is_err_and(|e| e.is_cancelled()), "aborted");

        // The handle still works, and with every connection slot: eight
        // snapshots at once need all eight slots per socket.
        let again: Vec<_> = rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..8 {
                let hap = hap.clone();
                set.spawn(async move { hap.snapshot().await });
            }
            let mut out = Vec::new();
            while let Some(r) = set.join_next().await {
                out.push(r.expect("task"));
            }
            out
        });
        for snap in again {
            let snap = snap.expect("a snapshot after the cancellations");
            assert_eq!(snap.servers(None).len(), servers);
            assert_eq!(snap.process_count(), 3);
        }
    }
}

#[test]
fn a_stalled_socket_times_out_at_the_configured_time() {
    let dir = tempdir();
    let path = dir.join("stalled.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    // Accepts and never answers (keeps every connection open).
    let stop = Arc::new(AtomicBool::new(false));
    listener.set_nonblocking(true).expect("nonblocking");
    let held = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((s, _)) => kept.push(s),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        })
    };
    let rt = current_thread();
    for timeout in [Duration::from_millis(300), Duration::from_millis(900)] {
        let started = Instant::now();
        let r = rt.block_on(
            Builder::new()
                .timeouts(Timeouts::new(timeout))
                .retry(RetryPolicy::new(Retry::Times(3), Duration::from_millis(50)))
                .from_endpoints_async([haproxy_admin::Endpoint::unix(&path)]),
        );
        let took = started.elapsed();
        match r {
            Err(Error::Transport(TransportError::Timeout {
                phase: Phase::Read,
                after,
                ..
            })) => assert_eq!(after, timeout),
            other => panic!("{other:?}"),
        }
        // At the deadline: not before, not much after (a read timeout is
        // never retried: the command may have been read).
        assert!(took >= timeout, "{took:?} < {timeout:?}");
        assert!(took < timeout + Duration::from_millis(400), "{took:?}");
    }
    // The transport alone, a whole-command deadline however the peer acts.
    let client = haproxy_transport::asynch::AsyncClient::from(
        haproxy_transport::Client::new(haproxy_transport::Endpoint::unix(&path))
            .timeouts(Timeouts::new(Duration::from_millis(400))),
    );
    let started = Instant::now();
    let e = rt
        .block_on(client.session())
        .expect_err("no prompt ever comes");
    assert!(
        matches!(
            e,
            haproxy_transport::Error::Timeout {
                phase: Phase::Read,
                ..
            }
        ),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_millis(800));
    stop.store(true, Ordering::Relaxed);
    held.join().expect("stalled peer");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hx-async-e2e-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The async watcher example: the first poll lists every server, a change
/// made from outside shows as one line, and it stops after the polls it
/// was given.
#[test]
fn the_async_watch_example_prints_state_changes() {
    let f = fleet(3);
    // The live checks settle first (app2 goes DOWN once, then is checked
    // hourly): only the change this test makes may show.
    Fleet::wait_until(Duration::from_secs(10), "checks settled", || {
        f.instances().iter().all(|i| {
            let stat = i.raw("show stat");
            raw_stat(&stat, "be_app", "app1", "status") == "UP"
                && raw_stat(&stat, "be_app", "app2", "status") == "DOWN"
                && raw_stat(&stat, "be_app", "app4", "status") == "UP"
                && raw_stat(&stat, "be_app", "app5", "status") == "UP"
        })
    });
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "-q",
            "-p",
            "haproxy-admin",
            "--features",
            "tokio",
            "--example",
            "async_watch",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build");
    assert!(status.success());
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>")
        .join("examples/async_watch");
    let started = Instant::now();
    let mut child = Command::new(&bin)
        .arg(f.socket_dir())
        .args(["--iterations", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn async_watch");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("first line");
    let count: usize = first
        .strip_prefix("3 processes, ")
        .and_then(|r| r.strip_suffix(" servers\n"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("first line {first:?}"));
    assert!(count >= 9, "{first}");
    let mut listed = Vec::new();
    for _ in 0..count {
        let mut l = String::new();
        out.read_line(&mut l).expect("a server line");
        listed.push(l);
    }
    assert!(
        listed.contains(&"be_static/s1 no check\n".to_owned()),
        "{listed:?}"
    );
    // A change from outside, on every process.
    for i in f.instances() {
        i.raw("set server be_static/s1 state drain");
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).expect("the rest");
    let o = child.wait_with_output().expect("wait");
    assert!(o.status.success(), "{o:?}");
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let changes: Vec<&str> = rest.lines().filter(|l| l.starts_with("poll ")).collect();
    assert_eq!(changes.len(), 1, "{rest}");
    assert!(
        changes[0].ends_with(": be_static/s1: no check -> DRAIN"),
        "{rest}"
    );
    assert!(rest.ends_with("done after 4 polls\n"), "{rest}");
    // Four polls, one second apart (the first at once).
    assert!(started.elapsed() >= Duration::from_secs(3));
}

/// The async transport over TCP and through the master CLI's selectors,
/// as the blocking one: the same processes, the same replies.
#[test]
fn async_over_tcp_and_the_master_cli() {
    let f = Fleet::start(Options {
        instances: 2,
        tcp_socket: true,
        ..Options::default()
    });
    let rt = current_thread();
    let tcp: Vec<haproxy_admin::Endpoint> = f
        .instances()
        .iter()
        .map(|i| {
            let a = i.tcp.expect("tcp socket");
            haproxy_admin::Endpoint::tcp(a.ip().to_string(), a.port())
        })
        .collect();
    let hap = rt
        .block_on(AsyncHAProxy::from_endpoints(tcp.clone()))
        .expect("async over tcp");
    let blocking = HAProxy::from_endpoints(tcp).expect("blocking over tcp");
    let pids =
        |p: &[haproxy_admin::Process]| -> Vec<u32> { p.iter().map(|p| p.id().pid).collect() };
    assert_eq!(pids(hap.processes()), pids(blocking.processes()));
    let mut want: Vec<u32> = f.instances().iter().map(|i| i.pid).collect();
    let mut got = pids(hap.processes());
    want.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, want);
    let snap = rt.block_on(hap.snapshot()).expect("snapshot over tcp");
    assert_eq!(snap.process_count(), 2);
    let s1 = snap
        .backend("be_static")
        .and_then(|b| b.server("s1"))
        .expect("s1");
    let weight = Weight::Absolute(4).command("be_static", "s1").expect("cmd");
    rt.block_on(hap.run_having(&s1.processes(), &weight))
        .expect("write over tcp");
    for i in f.instances() {
        assert_eq!(
            raw_stat(&i.raw("show stat"), "be_static", "s1", "weight"),
            "4"
        );
    }

    let mw = haproxy_e2e::MasterWorker::start(Topology::standard());
    let hap = rt
        .block_on(AsyncHAProxy::from_master(mw.master_socket()))
        .expect("async from master");
    let blocking = HAProxy::from_master(mw.master_socket()).expect("blocking from master");
    assert_eq!(pids(hap.processes()), pids(blocking.processes()));
    assert_eq!(pids(hap.processes()), mw.worker_pids());
    let a = rt
        .block_on(hap.snapshot())
        .expect("async snapshot via master");
    let b = blocking.snapshot().expect("blocking snapshot via master");
    assert_eq!(listing(&a), listing(&b));
    // A session through the master's selector, pipelined.
    let worker = hap.processes()[0].endpoint().clone();
    assert!(worker.target().is_some(), "{worker}");
    let client = haproxy_transport::asynch::AsyncClient::new(worker);
    let replies = rt
        .block_on(async {
            let mut s = client.session().await?;
            s.pipeline(&["get weight be_static/s1", "get weight be_static/s2"])
                .await
        })
        .expect("pipeline via master");
    assert_eq!(replies, ["10 (initial 10)\n\n", "20 (initial 20)\n\n"]);
}

/// Two sockets of one process count once, and the admin-level one is
/// used, as in blocking discovery (the level probes run as tasks).
#[test]
fn async_discovery_counts_a_process_once_and_uses_its_admin_socket() {
    let f = Fleet::start(Options {
        instances: 1,
        extra_sockets: vec![("operator".to_owned(), Level::Operator)],
        ..Options::default()
    });
    let inst = &f.instances()[0];
    let operator = haproxy_admin::Endpoint::unix(&inst.extra_sockets[0].0);
    let admin = haproxy_admin::Endpoint::unix(&inst.socket);
    let rt = current_thread();
    let hap = rt
        .block_on(AsyncHAProxy::from_endpoints([
            operator.clone(),
            admin.clone(),
        ]))
        .expect("discovery");
    let blocking = HAProxy::from_endpoints([operator.clone(), admin.clone()]).expect("blocking");
    assert_eq!(hap.processes().len(), 1);
    assert_eq!(hap.processes()[0].endpoint(), &admin);
    assert_eq!(hap.processes()[0].alternates(), [operator]);
    assert_eq!(
        blocking.processes()[0].endpoint(),
        hap.processes()[0].endpoint()
    );
}

/// `Snapshot::from_replies`: replies fetched by other means (here plain
/// std sockets, outside our libraries) aggregate as a fetch does.
#[test]
fn replies_fetched_elsewhere_aggregate_like_a_snapshot() {
    let f = fleet(3);
    let hap = HAProxy::from_dir(f.socket_dir()).expect("discovery");
    let fetched = hap.snapshot().expect("snapshot");
    let replies = f.instances().iter().map(|i| {
        (
            haproxy_admin::Endpoint::unix(&i.socket),
            i.raw("show info"),
            i.raw("show stat"),
        )
    });
    let built = Snapshot::from_replies(replies).expect("from replies");
    let mut a = built.process_ids();
    let mut b = fetched.process_ids();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    assert_eq!(built.columns(), fetched.columns());
    assert_eq!(listing(&built), listing(&fetched));
    assert_eq!(
        built.maxconn().expect("maxconn"),
        fetched.maxconn().expect("maxconn")
    );
}

/// A payload larger than HAProxy's buffer goes in chunks through the
/// async session, and every entry lands on every process.
#[test]
fn async_payloads_are_chunked_like_blocking_ones() {
    let f = fleet(2);
    let rt = current_thread();
    let hap = rt
        .block_on(AsyncHAProxy::from_dir(f.socket_dir()))
        .expect("discovery");
    let map_file = f.map_file().to_string_lossy().into_owned();
    let map = MapRef::File(&map_file);
    let owned: Vec<(String, String)> = (0..3000)
        .map(|n| (format!("host{n}.example"), format!("be_{n}")))
        .collect();
    let entries: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // About 60 KB: several chunks of under 16 KB.
    let bytes: usize = entries.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    assert!(bytes > 3 * 16_000, "{bytes}");
    rt.block_on(hap.replace_map(map, &[]))
        .expect("empty the map");
    rt.block_on(hap.add_map_entries(map, &entries))
        .expect("chunked payload");
    for i in f.instances() {
        let reply = i.raw(&format!("show map {}", f.map_file().display()));
        assert_eq!(reply.lines().filter(|l| !l.is_empty()).count(), 3000);
        assert!(
            reply.contains(" host2999.example be_2999\n"),
            "pid {}",
            i.pid
        );
    }
    let got = rt.block_on(hap.map_entries(map)).expect("entries");
    assert!(got.iter().all(|(_, e)| e.len() == 3000));
}

/// `wait_sessions`, async: idle servers are done at once; a server that
/// is gone is the blocking API's error.
#[test]
fn async_wait_sessions_answers_as_the_blocking_one() {
    let f = fleet(2);
    let blocking = HAProxy::from_dir(f.socket_dir()).expect("discovery");
    let hap = AsyncHAProxy::from(blocking.clone());
    let rt = current_thread();
    let snap = rt.block_on(hap.snapshot()).expect("snapshot");
    let idle: Vec<haproxy_admin::ObjectRef> = snap
        .stat_objects(ObjectKind::Server)
        .iter()
        .filter(|o| o.proxy() == "be_static")
        .map(haproxy_admin::ObjectRef::of)
        .collect();
    assert_eq!(idle.len(), 2);
    let mut polls = 0;
    let left = rt
        .block_on(hap.wait_sessions(
            &idle,
            0,
            Duration::from_secs(5),
            Duration::from_millis(50),
            |_| polls += 1,
        ))
        .expect("wait");
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(polls, 1);
    let gone = [haproxy_admin::ObjectRef {
        kind: ObjectKind::Server,
        proxy: "be_static".to_owned(),
        name: "nope".to_owned(),
    }];
    let ea = rt
        .block_on(hap.wait_sessions(
            &gone,
            0,
            Duration::from_secs(1),
            Duration::from_millis(50),
            |_| {},
        ))
        .expect_err("gone");
    let eb = blocking
        .wait_sessions(
            &gone,
            0,
            Duration::from_secs(1),
            Duration::from_millis(50),
            |_| {},
        )
        .expect_err("gone");
    assert_eq!(ea.to_string(), eb.to_string());
}

/// `differences`, async: the same report as the blocking one, a map
/// changed on one process only included.
#[test]
fn async_differences_match_the_blocking_ones() {
    let f = fleet(2);
    let blocking = HAProxy::from_dir(f.socket_dir()).expect("discovery");
    let hap = AsyncHAProxy::from(blocking.clone());
    let rt = current_thread();
    f.instances()[0].raw(&format!(
        "add map {} only-here.example be_static",
        f.map_file().display()
    ));
    f.instances()[1].raw("set weight be_static/s1 3");
    let snap = blocking.snapshot().expect("snapshot");
    let text = |d: Vec<haproxy_admin::Difference>| -> Vec<String> {
        d.iter().map(ToString::to_string).collect()
    };
    let a = text(rt.block_on(hap.differences(&snap)).expect("async"));
    let b = text(blocking.differences(&snap).expect("blocking"));
    assert_eq!(a, b);
    assert!(
        a.iter()
            .any(|d| d.contains("entry only-here.example:") && d.contains("=be_static")),
        "{a:?}"
    );
    assert!(
        a.iter().any(|d| d.contains("s1") && d.contains("weight")),
        "{a:?}"
    );
}

/// A frozen HAProxy (SIGSTOP: the kernel still accepts, nobody answers)
/// in a fleet: the async snapshot fails at the configured deadline, or
/// with best effort lists it as failed and keeps the others' data.
#[test]
fn a_frozen_process_fails_the_async_snapshot_at_the_deadline() {
    let f = fleet(3);
    let rt = current_thread();
    let timeout = Duration::from_millis(700);
    let hap = rt
        .block_on(
            Builder::new()
                .timeouts(Timeouts::new(timeout))
                .retry(RetryPolicy::never())
                .from_dir_async(f.socket_dir()),
        )
        .expect("discovery");
    let frozen = f.instances()[1].pid;
    haproxy_e2e::signal(frozen, "STOP");
    let started = Instant::now();
    let strict = rt.block_on(hap.snapshot());
    let took = started.elapsed();
    let partial = rt.block_on(hap.snapshot_partial());
    haproxy_e2e::signal(frozen, "CONT");
    match strict {
        Err(Error::Partial {
            failures,
            succeeded,
            ..
        }) => {
            assert_eq!(succeeded.len(), 2);
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].process.pid, frozen);
            assert!(
                matches!(
                    *failures[0].error,
                    Error::Transport(TransportError::Timeout { after, .. }) if after == timeout
                ),
                "{}",
                failures[0].error
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        took >= timeout && took < timeout + Duration::from_millis(500),
        "{took:?}"
    );
    let partial = partial.expect("best effort");
    assert_eq!(partial.process_count(), 2);
    assert_eq!(partial.failures().len(), 1);
    assert!(!partial.is_complete());
    // Thawed, it answers again through the same handle.
    let again = rt.block_on(hap.snapshot()).expect("after CONT");
    assert_eq!(again.process_count(), 3);
}
