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
//! - `scale`: the library listing at 100, 1,000, 10,000 and 50,000 servers
//!   per instance (4 instances); throughput is servers per second;
//! - `write`: set weight on 1,000 servers of each of 4 instances over one
//!   session per process vs one connection per command; replace a
//!   10,000-entry map atomically vs one `add map` connection per entry;
//! - peak RSS of the 4 × 10,000 listing (library listing plus JSON
//!   serialisation), measured in a child process and written to
//!   `target/bench-report/rss.json`.
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
use std::time::Duration;

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
    g.bench_function("library_listing", |b| {
        b.iter(|| {
            let snap = hap.snapshot().expect("snapshot");
            let list = snap.stat_objects(ObjectKind::Server);
            assert_eq!(list.len(), 10_000);
            black_box(list)
        })
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
                batch.set_weight(be, s, Weight::Absolute(w)).expect("queue");
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
            hap.replace_map(&MapRef::File(map.clone()), &pairs)
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
    if wants("scale_4_instances") {
        scale(&mut c);
    }
    if wants("write_4_instances") {
        write(&mut c);
    }
    if wants("rss") {
        rss();
    }
    c.final_summary();
}
