//! Benchmarks against a real HAProxy fleet, each figure taken side by side
//! with its floor in the same run so the ratios mean something:
//!
//! - `commands`: commands per second over one session vs one connection
//!   per command (a standard single instance);
//! - `read`: listing every server of 4 instances × 10,000 servers with
//!   every field — library and `haproxy-cli server list --format json` —
//!   vs the raw concurrent fetch of the same `show stat` bytes with the
//!   transport alone (and vs `haproxy-cli raw 'show stat'`, the CLI's own
//!   floor: same process start, discovery and fetch);
//! - `async_4x10000`: the same listing through the async API
//!   (`haproxy_admin::asynch`, feature `tokio`) on a current-thread and on
//!   a multi-thread (2 workers) runtime, beside the blocking listing and
//!   the raw fetch, in one group;
//! - `scale`: the library listing at 100, 1,000, 10,000 and 50,000 servers
//!   per instance (4 instances); throughput is servers per second;
//! - `write`: set weight on 1,000 servers of each of 4 instances over one
//!   session per process vs one connection per command; replace a
//!   10,000-entry map atomically vs one `add map` connection per entry;
//! - peak RSS of the 4 × 10,000 listing (library listing plus JSON
//!   serialisation), measured in a child process and written to
//!   `target/bench-report/rss.json`;
//! - `compare`: where haproxytool / haproxyadmin (PyPI) are installed, the
//!   same read and write work through them and through us, timed once or
//!   a few times by wall clock (they take seconds to minutes, too long for
//!   criterion's sampling), written to `target/bench-report/compare.json`;
//!   skipped with a note when they are absent.
//!
//! - `prometheus`: one scrape of 4 × 10,000 servers through our exporter
//!   (combined and per process) vs promex scraped on the same 4 instances
//!   concurrently; 20 concurrent scrapers against the exporter with
//!   caching on, HAProxy's `show stat` count per process counted by a
//!   proxy socket in front of each instance; timed by wall clock (median
//!   of a few runs), written to `target/bench-report/prometheus.json`.
//!
//! Run through `cargo xtask bench`, which also writes the report. Alone:
//! `cargo bench -p haproxy-e2e --bench fleet [-- <filter>]`.

use criterion::{BenchmarkId, Criterion, Throughput};
use haproxy_admin::{HAProxy, MapRef, ObjectKind, Weight};
use haproxy_e2e::{Fleet, Options, Topology};
use haproxy_transport::{Client, Endpoint};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const INSTANCES: usize = 4;

fn fleet(servers_per_instance: usize, map_entries: usize) -> Fleet {
    let backends = servers_per_instance.div_ceil(100).max(1);
    let per = servers_per_instance.min(100);
    Fleet::start(Options {
        instances: INSTANCES,
        topology: Topology::large(backends, per, map_entries),
        ..Options::default()
    })
}

/// The workspace's target directory.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

/// Builds `haproxy-cli` (release, as users run it) and returns its path.
fn cli_binary() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "-q", "-p", "haproxy-cli"])
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build -p haproxy-cli failed");
    target_dir().join("release/haproxy-cli")
}

/// The raw concurrent fetch: `show stat` from every instance, one thread
/// each, transport only. Returns the bytes read.
fn raw_fetch(clients: &[Client]) -> usize {
    std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .iter()
            .map(|c| s.spawn(move || c.command("show stat").map(|r| r.len())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("fetch thread").expect("show stat"))
            .sum()
    })
}

fn clients(f: &Fleet) -> Vec<Client> {
    f.instances()
        .iter()
        .map(|i| Client::new(Endpoint::unix(&i.socket)))
        .collect()
}

fn commands(c: &mut Criterion) {
    let f = Fleet::start(Options::default());
    let client = Client::new(Endpoint::unix(&f.instances()[0].socket));
    let line = "get weight be_static/s1";
    let mut g = c.benchmark_group("commands");
    g.throughput(Throughput::Elements(100));
    g.sample_size(20);
    g.bench_function("session_100", |b| {
        let mut s = client.session().expect("session");
        b.iter(|| {
            for _ in 0..100 {
                black_box(s.command(line).expect("command"));
            }
        })
    });
    g.bench_function("one_connection_each_100", |b| {
        b.iter(|| {
            for _ in 0..100 {
                black_box(client.command(line).expect("command"));
            }
        })
    });
    g.finish();
}

fn read(c: &mut Criterion, cli: &Path) {
    let f = fleet(10_000, 100);
    let clients = clients(&f);
    let bytes = raw_fetch(&clients);
    let hap = HAProxy::from_dir(f.socket_dir()).expect("discovery");
    assert_eq!(hap.processes().len(), INSTANCES);
    let dir = f.socket_dir();
    let mut g = c.benchmark_group("read_4x10000");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("raw_fetch", |b| b.iter(|| black_box(raw_fetch(&clients))));
    g.bench_function("library_listing", |b| b.iter(|| owned_listing(&hap)));
    // The same listing read the way a writer reads it: every value of
    // every server combined, borrowed, nothing owned built.
    g.bench_function("library_listing_borrowed", |b| {
        b.iter(|| borrowed_listing(&hap))
    });
    let run_cli = |args: &[&str]| {
        let status = Command::new(cli)
            .arg("--socket-dir")
            .arg(&dir)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .expect("run haproxy-cli");
        assert!(status.success(), "haproxy-cli {args:?}");
    };
    g.bench_function("cli_raw_show_stat", |b| {
        b.iter(|| run_cli(&["raw", "show stat"]))
    });
    g.bench_function("cli_server_list_json", |b| {
        b.iter(|| run_cli(&["server", "list", "--format", "json"]))
    });
    g.finish();
    paired(&clients, &hap, &run_cli);
}

/// A snapshot and every server of it, owned.
fn owned_listing(hap: &HAProxy) -> Vec<haproxy_admin::StatObject> {
    let snap = hap.snapshot().expect("snapshot");
    let list = snap.stat_objects(ObjectKind::Server);
    assert_eq!(list.len(), 10_000);
    black_box(list)
}

/// A snapshot and every value of every server of it, combined and read
/// borrowed: how many values are not empty.
fn borrowed_listing(hap: &HAProxy) -> usize {
    let snap = hap.snapshot().expect("snapshot");
    let mut objects = 0usize;
    let mut values = 0usize;
    snap.render_objects(
        ObjectKind::Server,
        |o, buf| {
            let mut n = 0usize;
            o.try_for_each_value(|_, v| {
                n += usize::from(black_box(v).is_some());
                Ok::<(), ()>(())
            })?;
            buf.extend_from_slice(&n.to_le_bytes());
            Ok::<(), ()>(())
        },
        |bytes| {
            for n in bytes.chunks_exact(std::mem::size_of::<usize>()) {
                objects += 1;
                values += n.iter().map(|&b| usize::from(b)).sum::<usize>();
            }
            Ok::<(), ()>(())
        },
    )
    .expect("render");
    assert_eq!(objects, 10_000);
    black_box(values)
}

/// The read ratios measured in pairs: each round times the raw concurrent
/// fetch, then the owned and the borrowed library listings, the CLI's JSON
/// listing and its raw fetch, back to back, so that a slow moment of the
/// machine (another tenant, HAProxy's health checks) falls on the floor
/// and on what is compared with it alike. Criterion's groups above time
/// each for seconds in turn, and a drift between them moved a ratio by a
/// third on this 2-core VM. Writes the median, lowest and highest of each
/// ratio over the rounds to `target/bench-report/paired.json`.
fn paired(clients: &[Client], hap: &HAProxy, run_cli: &dyn Fn(&[&str])) {
    const ROUNDS: usize = 40;
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64()
    };
    let mut ratios: [Vec<f64>; 4] = Default::default();
    for _ in 0..ROUNDS {
        let raw = time(&mut || {
            black_box(raw_fetch(clients));
        });
        let owned = time(&mut || {
            owned_listing(hap);
        });
        let borrowed = time(&mut || {
            borrowed_listing(hap);
        });
        let cli = time(&mut || run_cli(&["server", "list", "--format", "json"]));
        let cli_raw = time(&mut || run_cli(&["raw", "show stat"]));
        for (r, x) in ratios
            .iter_mut()
            .zip([owned / raw, borrowed / raw, cli / raw, cli / cli_raw])
        {
            r.push(x);
        }
    }
    let summary = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        serde_json::json!({
            "median": v[v.len() / 2],
            "min": v[0],
            "max": v[v.len() - 1],
            "rounds": v.len(),
        })
    };
    let [owned, borrowed, cli, cli_vs_cli_raw] = ratios;
    let report = serde_json::json!({
        "library_listing_vs_raw": summary(owned),
        "library_listing_borrowed_vs_raw": summary(borrowed),
        "cli_server_list_json_vs_raw": summary(cli),
        "cli_server_list_json_vs_cli_raw": summary(cli_vs_cli_raw),
    });
    let out = target_dir().join("bench-report").join("paired.json");
    std::fs::create_dir_all(out.parent().expect("report dir")).expect("report dir");
    std::fs::write(&out, serde_json::to_string_pretty(&report).expect("json"))
        .expect("write paired.json");
    eprintln!("paired ratios: {report}");
}

fn async_read(c: &mut Criterion) {
    let f = fleet(10_000, 100);
    let clients = clients(&f);
    let bytes = raw_fetch(&clients);
    let hap = HAProxy::from_dir(f.socket_dir()).expect("discovery");
    assert_eq!(hap.processes().len(), INSTANCES);
    let list = |snap: haproxy_admin::Snapshot| {
        let list = snap.stat_objects(ObjectKind::Server);
        assert_eq!(list.len(), 10_000);
        black_box(list)
    };
    let mut g = c.benchmark_group("async_4x10000");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("raw_fetch", |b| b.iter(|| black_box(raw_fetch(&clients))));
    g.bench_function("blocking_listing", |b| {
        b.iter(|| list(hap.snapshot().expect("snapshot")))
    });
    for (name, rt) in [
        (
            "async_current_thread",
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
        ),
        (
            "async_multi_thread",
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build(),
        ),
    ] {
        let rt = rt.expect("tokio runtime");
        let ahap = haproxy_admin::asynch::AsyncHAProxy::from(hap.clone());
        g.bench_function(name, |b| {
            b.iter(|| list(rt.block_on(ahap.snapshot()).expect("async snapshot")))
        });
    }
    g.finish();
}

fn scale(c: &mut Criterion) {
    let mut g = c.benchmark_group("scale_4_instances");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(6));
    for n in [100usize, 1_000, 10_000, 50_000] {
        let f = fleet(n, 10);
        let hap = HAProxy::from_dir(f.socket_dir()).expect("discovery");
        g.throughput(Throughput::Elements((n * INSTANCES) as u64));
        g.bench_with_input(BenchmarkId::new("library_listing", n), &n, |b, &n| {
            b.iter(|| {
                let snap = hap.snapshot().expect("snapshot");
                let list = snap.stat_objects(ObjectKind::Server);
                assert_eq!(list.len(), n);
                black_box(list)
            })
        });
        let clients = clients(&f);
        g.bench_with_input(BenchmarkId::new("raw_fetch", n), &n, |b, _| {
            b.iter(|| black_box(raw_fetch(&clients)))
        });
    }
    g.finish();
}

fn write(c: &mut Criterion) {
    let f = fleet(10_000, 100);
    let hap = HAProxy::from_dir(f.socket_dir()).expect("discovery");
    let targets: Vec<(String, String)> = (0..10)
        .flat_map(|b| (0..100).map(move |s| (format!("be_{b}"), format!("s{s}"))))
        .collect();
    let mut g = c.benchmark_group("write_4_instances");
    g.sample_size(10);
    g.throughput(Throughput::Elements(targets.len() as u64));
    let mut w = 1u16;
    g.bench_function("weights_1000_session", |b| {
        b.iter(|| {
            w = w % 200 + 1;
            let mut batch = hap.batch();
            for (be, s) in &targets {
                batch.push(Weight::Absolute(w).command(be, s).expect("queue"));
            }
            black_box(batch.run().expect("batch"))
        })
    });
    let clients = clients(&f);
    g.bench_function("weights_1000_one_connection_each", |b| {
        b.iter(|| {
            w = w % 200 + 1;
            let w = w;
            std::thread::scope(|s| {
                for c in &clients {
                    let targets = &targets;
                    s.spawn(move || {
                        for (be, srv) in targets {
                            c.command(&format!("set weight {be}/{srv} {w}"))
                                .expect("set weight");
                        }
                    });
                }
            });
        })
    });
    let map = f.map_file().to_string_lossy().into_owned();
    let entries: Vec<(String, String)> = (0..10_000)
        .map(|i| (format!("host{i}.example"), format!("be_{}", i % 100)))
        .collect();
    let pairs: Vec<(&str, &str)> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    g.throughput(Throughput::Elements(entries.len() as u64));
    g.bench_function("map_10000_atomic_replace", |b| {
        b.iter(|| {
            hap.replace_map(MapRef::File(&map), &pairs)
                .expect("replace")
        })
    });
    g.bench_function("map_10000_one_connection_each", |b| {
        b.iter_batched(
            || {
                for c in &clients {
                    c.command(&format!("clear map {map}")).expect("clear");
                }
            },
            |()| {
                std::thread::scope(|s| {
                    for c in &clients {
                        let (entries, map) = (&entries, &map);
                        s.spawn(move || {
                            for (k, v) in entries {
                                c.command(&format!("add map {map} {k} {v}"))
                                    .expect("add map");
                            }
                        });
                    }
                });
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// Peak RSS (VmHWM) of this process, in KiB.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// In the child: list every server with every field, serialise it as the
/// CLI does (streamed), and print the peak RSS.
fn rss_probe(dir: &str) {
    let before = vm_hwm_kib();
    let hap = HAProxy::from_dir(dir).expect("discovery");
    let snap = hap.snapshot().expect("snapshot");
    let after_snapshot = vm_hwm_kib();
    // As `haproxy-cli server list --format json` does: combined and
    // written object by object.
    let mut sink = std::io::sink();
    let mut servers = 0;
    snap.for_each_stat_object(ObjectKind::Server, |o| {
        servers += 1;
        serde_json::to_writer(&mut sink, &o)
    })
    .expect("serialise");
    println!(
        "{{\"servers\":{servers},\"start_kib\":{before},\"after_snapshot_kib\":{after_snapshot},\"peak_kib\":{}}}",
        vm_hwm_kib()
    );
}

fn rss() {
    let f = fleet(10_000, 100);
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe)
        .env("HX_RSS_PROBE", f.socket_dir())
        .output()
        .expect("run the RSS probe");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    println!("rss_4x10000: {json}");
    let dir = target_dir().join("bench-report");
    std::fs::create_dir_all(&dir).expect("report dir");
    std::fs::write(dir.join("rss.json"), json).expect("write rss.json");
}

/// Whether `program` is on PATH.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// The median wall time of `runs` runs of `cmd` (stdout discarded), in
/// milliseconds; the failure's stderr if a run fails.
fn wall_ms(runs: usize, mut cmd: impl FnMut() -> Command) -> Result<f64, String> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let out = cmd()
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| e.to_string())?;
        let took = started.elapsed().as_secs_f64() * 1e3;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        times.push(took);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// haproxyadmin 0.2.4 through Python: building the objects of every
/// server, then status and weight of `sample` servers (each a command per
/// process per property, as haproxyadmin works).
const HAPROXYADMIN_SCRIPT: &str = r#"
import json, sys, time
from haproxyadmin import haproxy
d, sample = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
hap = haproxy.HAProxy(socket_dir=d)
servers = hap.servers()
t1 = time.perf_counter()
for s in servers[:sample]:
    s.status, s.weight
t2 = time.perf_counter()
print(json.dumps({"servers": len(servers), "list_ms": (t1 - t0) * 1e3,
                  "per_server_status_weight_ms": (t2 - t1) * 1e3 / sample}))
"#;

fn compare(cli: &Path) {
    let out = target_dir().join("bench-report").join("compare.json");
    std::fs::create_dir_all(out.parent().expect("report dir")).expect("report dir");
    let haproxytool = on_path("haproxytool");
    let haproxyadmin = Command::new("python3")
        .args(["-c", "import haproxyadmin"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let exporter = on_path("prometheus-haproxy-exporter");
    if !haproxytool && !haproxyadmin && !exporter {
        let note = "haproxytool, haproxyadmin and prometheus-haproxy-exporter are not \
                    installed (`pip install haproxytool` installs the first two, \
                    `apt-get install prometheus-haproxy-exporter` the third); comparison skipped";
        println!("compare: {note}");
        std::fs::write(&out, serde_json::json!({ "skipped": note }).to_string())
            .expect("write compare.json");
        return;
    }
    let f = fleet(10_000, 100);
    let dir = f.socket_dir();
    let dir_s = dir.to_string_lossy().into_owned();
    let mut rows = Vec::new();
    let mut row =
        |work: &str, ours: &str, ours_ms: f64, theirs: &str, theirs_ms: Result<f64, String>| {
            let r = match theirs_ms {
                Ok(t) => serde_json::json!({
                    "work": work, "ours": ours, "ours_ms": ours_ms,
                    "theirs": theirs, "theirs_ms": t, "speedup": t / ours_ms,
                }),
                Err(e) => serde_json::json!({
                    "work": work, "ours": ours, "ours_ms": ours_ms,
                    "theirs": theirs, "error": e,
                }),
            };
            println!("compare: {r}");
            rows.push(r);
        };
    let ours_list = wall_ms(3, || {
        let mut c = Command::new(cli);
        c.args(["--socket-dir", &dir_s, "server", "list", "--format", "json"]);
        c
    })
    .expect("haproxy-cli server list");
    // Ten backends of 100 servers: the 1,000 servers of the write test.
    let backends: Vec<String> = (0..10).map(|b| format!("--backend=be_{b}")).collect();
    if haproxytool {
        let theirs = wall_ms(1, || {
            let mut c = Command::new("haproxytool");
            c.args(["server", "-D", &dir_s, "-l"]);
            c
        });
        row(
            "list every server, 4 × 10,000",
            "haproxy-cli server list --format json (every column, combined)",
            ours_list,
            "haproxytool server -l (names only)",
            theirs,
        );
        let ours_w = wall_ms(3, || {
            let mut c = Command::new(cli);
            c.args([
                "--socket-dir",
                &dir_s,
                "server",
                "set-weight",
                "be_0/s0",
                "7",
            ]);
            c
        })
        .expect("haproxy-cli set-weight");
        let theirs_w = wall_ms(1, || {
            let mut c = Command::new("haproxytool");
            c.args(["server", "-D", &dir_s, "-w", "7", "--backend=be_0", "s0"]);
            c
        });
        row(
            "set one server's weight, 4 instances of 10,000 servers",
            "haproxy-cli server set-weight be_0/s0 7",
            ours_w,
            "haproxytool server -w 7 --backend=be_0 s0",
            theirs_w,
        );
        let hap = HAProxy::from_dir(&dir).expect("discovery");
        let started = Instant::now();
        let mut batch = hap.batch();
        for b in 0..10 {
            for s in 0..100 {
                batch.push(
                    Weight::Absolute(9)
                        .command(&format!("be_{b}"), &format!("s{s}"))
                        .expect("queue"),
                );
            }
        }
        batch.run().expect("batch");
        let ours_bulk = started.elapsed().as_secs_f64() * 1e3;
        let theirs_bulk = wall_ms(1, || {
            let mut c = Command::new("haproxytool");
            c.args(["server", "-D", &dir_s, "-w", "9"]).args(&backends);
            c
        });
        row(
            "set weight on 1,000 servers × 4 instances",
            "haproxy-admin Batch (one pipelined session per process)",
            ours_bulk,
            "haproxytool server -w 9 --backend=be_0 … --backend=be_9",
            theirs_bulk,
        );
    }
    if haproxyadmin {
        let started = Instant::now();
        let hap = HAProxy::from_dir(&dir).expect("discovery");
        let snap = hap.snapshot().expect("snapshot");
        let servers = snap.servers(None);
        let mut n = 0;
        for s in &servers {
            if s.status().is_ok() && s.weight().is_ok() {
                n += 1;
            }
        }
        assert_eq!(n, servers.len());
        let ours_all = started.elapsed().as_secs_f64() * 1e3;
        let py = Command::new("python3")
            .args(["-c", HAPROXYADMIN_SCRIPT, &dir_s, "200"])
            .output()
            .expect("python3");
        let theirs: Result<serde_json::Value, String> = if py.status.success() {
            serde_json::from_slice(&py.stdout).map_err(|e| e.to_string())
        } else {
            Err(String::from_utf8_lossy(&py.stderr).trim().to_owned())
        };
        match theirs {
            Ok(v) => {
                let list = v["list_ms"].as_f64().unwrap_or(f64::NAN);
                let per = v["per_server_status_weight_ms"]
                    .as_f64()
                    .unwrap_or(f64::NAN);
                row(
                    "status and weight of every server, 4 × 10,000 (library)",
                    "haproxy-admin: discovery, snapshot, status() and weight() of all 10,000",
                    ours_all,
                    "haproxyadmin 0.2.4: HAProxy(socket_dir).servers(), then .status and .weight — \
                     timed on 200 servers and extrapolated to 10,000",
                    Ok(list + per * 10_000.0),
                );
            }
            Err(e) => row(
                "status and weight of every server, 4 × 10,000 (library)",
                "haproxy-admin",
                ours_all,
                "haproxyadmin 0.2.4",
                Err(e),
            ),
        }
    }
    if exporter {
        // One exporter per instance (it reads one socket), scraped
        // concurrently, as Prometheus would.
        let mut children = Vec::new();
        let mut ports = Vec::new();
        for i in f.instances() {
            let port = haproxy_e2e::free_port();
            let child = Command::new("prometheus-haproxy-exporter")
                .arg(format!("--haproxy.scrape-uri=unix:{}", i.socket.display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start prometheus-haproxy-exporter");
            children.push(child);
            ports.push(port);
        }
        let scrape = |port: u16| -> Result<usize, String> {
            use std::io::{Read, Write};
            let mut s =
                std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
            s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                .map_err(|e| e.to_string())?;
            let mut body = Vec::new();
            s.read_to_end(&mut body).map_err(|e| e.to_string())?;
            if body.starts_with(b"HTTP/1.0 200") || body.starts_with(b"HTTP/1.1 200") {
                Ok(body.len())
            } else {
                Err(String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
            }
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while ports.iter().any(|p| scrape(*p).is_err()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let scrape_all = || -> Result<f64, String> {
            let started = Instant::now();
            let results: Vec<Result<usize, String>> = std::thread::scope(|sc| {
                let hs: Vec<_> = ports.iter().map(|p| sc.spawn(move || scrape(*p))).collect();
                hs.into_iter()
                    .map(|h| h.join().unwrap_or_else(|_| Err("scrape thread".into())))
                    .collect()
            });
            let took = started.elapsed().as_secs_f64() * 1e3;
            results.into_iter().collect::<Result<Vec<_>, _>>()?;
            Ok(took)
        };
        let mut times = Vec::new();
        let mut failed = None;
        for _ in 0..3 {
            match scrape_all() {
                Ok(t) => times.push(t),
                Err(e) => failed = Some(e),
            }
        }
        times.sort_by(f64::total_cmp);
        let theirs = match failed {
            Some(e) => Err(e),
            None => Ok(times[times.len() / 2]),
        };
        let ours = wall_ms(3, || {
            let mut c = Command::new(cli);
            c.args([
                "--socket-dir",
                &dir_s,
                "server",
                "list",
                "--format",
                "prometheus",
            ]);
            c
        })
        .expect("haproxy-cli prometheus");
        row(
            "Prometheus exposition of every server, 4 × 10,000",
            "haproxy-cli server list --format prometheus (every numeric column, combined)",
            ours,
            "prometheus-haproxy-exporter, one per instance, 4 scrapes in parallel (its default server metrics, per instance)",
            theirs,
        );
        for mut c in children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    std::fs::write(&out, serde_json::json!({ "rows": rows }).to_string())
        .expect("write compare.json");
}

// ---- prometheus ------------------------------------------------------------

/// A child killed on drop.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET /metrics` over HTTP/1.0, the whole body read (promex answers
/// chunked, our exporter with a length); returns the body's size.
fn scrape(addr: std::net::SocketAddr) -> usize {
    use std::io::{Read, Write};
    let mut s =
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
        .expect("request");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("response");
    assert!(
        buf.starts_with(b"HTTP/1.1 200") || buf.starts_with(b"HTTP/1.0 200"),
        "{}",
        String::from_utf8_lossy(&buf[..buf.len().min(200)])
    );
    let at = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("head");
    buf.len() - at - 4
}

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// A UNIX socket in front of `upstream` that counts the `show stat`
/// commands passing through it.
fn counting_proxy(path: &Path, upstream: PathBuf) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    use std::io::{Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::sync::atomic::{AtomicU64, Ordering};
    let count = std::sync::Arc::new(AtomicU64::new(0));
    let listener = UnixListener::bind(path).expect("bind proxy");
    let c = std::sync::Arc::clone(&count);
    // Lives as long as the bench process.
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let Ok(mut up) = UnixStream::connect(&upstream) else {
                continue;
            };
            let c = std::sync::Arc::clone(&c);
            std::thread::spawn(move || {
                let (Ok(mut client_r), Ok(mut up_w)) = (client.try_clone(), up.try_clone()) else {
                    return;
                };
                let fwd = std::thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    let mut first = true;
                    while let Ok(n) = client_r.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if first && buf[..n].starts_with(b"show stat") {
                            c.fetch_add(1, Ordering::Relaxed);
                        }
                        first = false;
                        if up_w.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = up_w.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut up, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Write);
                let _ = fwd.join();
            });
        }
    });
    count
}

fn prometheus(cli: &Path) {
    use std::sync::atomic::Ordering;
    let out = target_dir().join("bench-report").join("prometheus.json");
    std::fs::create_dir_all(out.parent().expect("report dir")).expect("report dir");
    let f = Fleet::start(Options {
        instances: INSTANCES,
        topology: Topology::large(100, 100, 10),
        promex: true,
        ..Options::default()
    });
    let dir = f.socket_dir();
    let counted = f.dir().join("counted");
    std::fs::create_dir_all(&counted).expect("proxy dir");
    let counts: Vec<_> = f
        .instances()
        .iter()
        .enumerate()
        .map(|(n, i)| {
            counting_proxy(
                &counted.join(format!("instance-{n}.sock")),
                i.socket.clone(),
            )
        })
        .collect();
    let free = || std::net::SocketAddr::from(([127, 0, 0, 1], haproxy_e2e::free_port()));
    let exporter = |sockets: &Path, extra: &[&str], listen: std::net::SocketAddr| {
        let child = Command::new(cli)
            .arg("--socket-dir")
            .arg(sockets)
            .args(extra)
            .args([
                "exporter",
                "--listen",
                &listen.to_string(),
                "--scrape-timeout",
                "60",
            ])
            .stderr(Stdio::null())
            .spawn()
            .expect("start the exporter");
        Fleet::wait_until(Duration::from_secs(10), "the exporter listens", || {
            std::net::TcpStream::connect(listen).is_ok()
        });
        Killed(child)
    };
    let (a, b, c) = (free(), free(), free());
    let combined_exporter = exporter(&dir, &[], a);
    let _per_process = exporter(&dir, &["--per-process"], b);
    let child = Command::new(cli)
        .arg("--socket-dir")
        .arg(&counted)
        .args([
            "exporter",
            "--listen",
            &c.to_string(),
            "--scrape-timeout",
            "60",
            "--max-age",
            "1",
            "--http-workers",
            "20",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("start the cached exporter");
    let _cached = Killed(child);
    Fleet::wait_until(
        Duration::from_secs(10),
        "the cached exporter listens",
        || std::net::TcpStream::connect(c).is_ok(),
    );
    let promex: Vec<_> = f
        .instances()
        .iter()
        .map(|i| i.promex.expect("promex"))
        .collect();
    let runs = 5;
    let mut bytes = (0, 0, 0);
    let combined = median_ms(runs, || bytes.0 = scrape(a));
    let per_process = median_ms(runs, || bytes.1 = scrape(b));
    let promex_ms = median_ms(runs, || {
        bytes.2 = std::thread::scope(|s| {
            let h: Vec<_> = promex.iter().map(|p| s.spawn(move || scrape(*p))).collect();
            h.into_iter()
                .map(|h| h.join().expect("promex scrape"))
                .sum()
        });
    });
    let hap = HAProxy::from_dir(&dir).expect("discovery");
    let library = median_ms(runs, || {
        let snap = hap.snapshot().expect("snapshot");
        let mut e = haproxy_admin::prometheus::Exposition::new();
        e.add_snapshot(&snap, &[], haproxy_admin::prometheus::Mode::Combined);
        black_box(e.into_bytes());
    });
    // prometheus-haproxy-exporter where installed: one per instance (it
    // reads one socket), the 4 scraped concurrently.
    let mut theirs_ms = None;
    let mut theirs_children = Vec::new();
    if on_path("prometheus-haproxy-exporter") {
        let mut addrs = Vec::new();
        for i in f.instances() {
            let addr = free();
            theirs_children.push(Killed(
                Command::new("prometheus-haproxy-exporter")
                    .arg(format!("--haproxy.scrape-uri=unix:{}", i.socket.display()))
                    .arg(format!("--web.listen-address={addr}"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start prometheus-haproxy-exporter"),
            ));
            addrs.push(addr);
        }
        Fleet::wait_until(
            Duration::from_secs(10),
            "prometheus-haproxy-exporter listens",
            || {
                addrs
                    .iter()
                    .all(|a| std::net::TcpStream::connect(a).is_ok())
            },
        );
        theirs_ms = Some(median_ms(3, || {
            std::thread::scope(|s| {
                let h: Vec<_> = addrs.iter().map(|a| s.spawn(move || scrape(*a))).collect();
                for h in h {
                    h.join().expect("scrape");
                }
            });
        }));
    }
    drop(theirs_children);
    // 20 scrapers, 10 scrapes each, against the cached exporter.
    scrape(c);
    std::thread::sleep(Duration::from_millis(1100));
    for n in &counts {
        n.store(0, Ordering::Relaxed);
    }
    let (scrapers, each) = (20, 10);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..scrapers {
            s.spawn(|| {
                for _ in 0..each {
                    scrape(c);
                }
            });
        }
    });
    let took = started.elapsed().as_secs_f64();
    let show_stat: Vec<u64> = counts.iter().map(|n| n.load(Ordering::Relaxed)).collect();
    // The combined exporter's memory over 300 scrapes of 4 × 10,000
    // servers (its counter books included): resident now and at its peak,
    // after 10, 100 and 300.
    let status = |field: &str| -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", combined_exporter.0.id()))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix(field))
                    .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            })
            .unwrap_or(0)
    };
    let mut memory = Vec::new();
    for n in 1..=300 {
        scrape(a);
        if [10, 100, 300].contains(&n) {
            memory.push(serde_json::json!({
                "scrapes": n, "rss_kib": status("VmRSS:"), "peak_kib": status("VmHWM:"),
            }));
        }
    }
    let r = serde_json::json!({
        "instances": INSTANCES,
        "servers_per_instance": 10_000,
        "ours_combined_ms": combined,
        "ours_combined_bytes": bytes.0,
        "ours_per_process_ms": per_process,
        "ours_per_process_bytes": bytes.1,
        "promex_4_concurrent_ms": promex_ms,
        "promex_4_bytes": bytes.2,
        "library_snapshot_and_exposition_ms": library,
        "exporter_memory_over_scrapes": memory,
        "cached": {
            "scrapers": scrapers, "scrapes_each": each, "max_age_s": 1,
            "wall_s": took, "scrapes_per_s": (scrapers * each) as f64 / took,
            "show_stat_per_process": show_stat,
        },
        "prometheus_haproxy_exporter_4_concurrent_ms": theirs_ms,
        "prometheus_haproxy_exporter": if theirs_ms.is_some() {
            "prometheus-haproxy-exporter (Debian), one per instance, 4 scraped concurrently"
        } else {
            "not installed (apt-get install prometheus-haproxy-exporter); not compared"
        },
    });
    println!("prometheus: {r}");
    std::fs::write(&out, r.to_string()).expect("write prometheus.json");
}

fn main() {
    if let Some(dir) = std::env::var_os("HX_RSS_PROBE") {
        rss_probe(&dir.to_string_lossy());
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    // Criterion's own flags (`--bench`, filters) are in the arguments;
    // a filter naming none of these groups skips the fleets entirely.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wants = |group: &str| {
        filter
            .as_deref()
            .map_or(true, |f| group.contains(f) || f.contains(group))
    };
    if wants("commands") {
        commands(&mut c);
    }
    if wants("read_4x10000") {
        let cli = cli_binary();
        read(&mut c, &cli);
    }
    if wants("async_4x10000") {
        async_read(&mut c);
    }
    if wants("scale_4_instances") {
        scale(&mut c);
    }
    if wants("write_4_instances") {
        write(&mut c);
    }
    if wants("rss") {
        rss();
    }
    if wants("compare") {
        compare(&cli_binary());
    }
    if wants("prometheus") {
        prometheus(&cli_binary());
    }
    c.final_summary();
}
