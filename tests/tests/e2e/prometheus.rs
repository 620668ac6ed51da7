//! Prometheus: our exposition against HAProxy's own exporter (promex) on
//! the same process, and our exporter scraped by a real Prometheus.

use haproxy_admin::prometheus::{Exposition, Mode, RENAMED};
use haproxy_admin::HAProxy;
use haproxy_e2e::{Fleet, Options, Topology};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

// ---- reading the exposition format ---------------------------------------

/// One parsed exposition: families (type, help, label-name sets) and
/// series (name + sorted labels → value).
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) types: BTreeMap<String, String>,
    pub(crate) helps: BTreeMap<String, String>,
    pub(crate) label_sets: BTreeMap<String, BTreeSet<Vec<String>>>,
    pub(crate) series: BTreeMap<(String, Vec<(String, String)>), f64>,
    /// Each family's first sample value, in the text's order.
    pub(crate) first: BTreeMap<String, f64>,
}

/// Parses the text format as Prometheus writes it (and promex does):
/// `name{a="b",…} value`.
pub(crate) fn parse(text: &str) -> Parsed {
    let mut p = Parsed::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (n, t) = rest.split_once(' ').expect("TYPE line");
            p.types.insert(n.to_owned(), t.to_owned());
        } else if let Some(rest) = line.strip_prefix("# HELP ") {
            let (n, h) = rest.split_once(' ').unwrap_or((rest, ""));
            p.helps.insert(n.to_owned(), h.to_owned());
        } else if !line.is_empty() && !line.starts_with('#') {
            let (head, value) = line.rsplit_once(' ').expect("sample line");
            let value: f64 = match value {
                "NaN" => f64::NAN,
                v => v.parse().unwrap_or_else(|_| panic!("value of {line}")),
            };
            let (name, labels) = match head.split_once('{') {
                Some((n, l)) => (n, l.strip_suffix('}').expect("closing brace")),
                None => (head, ""),
            };
            let mut ls = Vec::new();
            let mut rest = labels;
            while !rest.is_empty() {
                let (k, v) = rest.split_once("=\"").expect("label");
                // Values here have no escaped quotes.
                let end = v.find('"').expect("label end");
                ls.push((k.to_owned(), v[..end].to_owned()));
                rest = v[end + 1..].trim_start_matches(',');
            }
            ls.sort();
            p.label_sets
                .entry(name.to_owned())
                .or_default()
                .insert(ls.iter().map(|(k, _)| k.clone()).collect());
            p.first.entry(name.to_owned()).or_insert(value);
            p.series.insert((name.to_owned(), ls), value);
        }
    }
    p
}

/// `GET path` over HTTP/1.0 on loopback, with a deadline on every step
/// and a size bound; the body (or the whole response with `head`).
pub(crate) fn http_get(addr: SocketAddr, path: &str, headers: &str) -> (String, Vec<u8>) {
    let (head, body) = exchange(addr, &format!("GET {path} HTTP/1.0"), headers);
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // promex answers chunked even to HTTP/1.0.
        return (head, dechunk(&body));
    }
    (head, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size = std::str::from_utf8(&b[..eol]).expect("chunk size");
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .expect("hex chunk size");
        b = &b[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

/// The status code of a response head (Go answers HTTP/1.0 in kind).
fn status(head: &str) -> u16 {
    head.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn promex(addr: SocketAddr) -> String {
    let (head, body) = http_get(addr, "/metrics", "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    String::from_utf8(body).expect("promex writes UTF-8")
}

fn wait_checks(f: &Fleet) {
    Fleet::wait_until(Duration::from_secs(10), "app1 UP, app2 DOWN", || {
        f.instances().iter().all(|i| {
            let s = i.raw("show stat");
            s.lines()
                .any(|l| l.starts_with("be_app,app1,") && l.contains(",UP,"))
                && s.lines()
                    .any(|l| l.starts_with("be_app,app2,") && l.contains(",DOWN,"))
        })
    });
}

/// Series that depend on who is reading: the promex scrape is itself a
/// connection, a task and a session on the `promex` frontend; our read is
/// a stats-socket connection. Compared nowhere (see docs/prometheus.md).
fn observer_dependent(name: &str, labels: &[(String, String)]) -> bool {
    const PROCESS: [&str; 11] = [
        "haproxy_process_current_connection_rate",
        "haproxy_process_current_session_rate",
        "haproxy_process_bytes_out_rate",
        "haproxy_process_current_connections",
        "haproxy_process_current_tasks",
        "haproxy_process_current_run_queue",
        "haproxy_process_jobs",
        "haproxy_process_idle_time_percent",
        "haproxy_process_pool_allocated_bytes",
        "haproxy_process_pool_used_bytes",
        "haproxy_process_unstoppable_jobs",
    ];
    PROCESS.contains(&name)
        // A check may run between the reads; its duration is not monotonic.
        || name == "haproxy_server_check_duration_seconds"
        || labels.iter().any(|(k, v)| k == "proxy" && v == "promex")
}

/// promex's text with the names we deliberately change (a counter
/// without `_total`) changed the same way.
fn renamed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut l = line.to_owned();
        for (theirs, ours) in RENAMED {
            for prefix in ["", "# HELP ", "# TYPE "] {
                let from = format!("{prefix}{theirs} ");
                if l.starts_with(&from) {
                    l = format!("{prefix}{ours} {}", &l[from.len()..]);
                }
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

#[test]
fn same_families_and_values_as_promex() {
    let f = Fleet::start(Options {
        promex: true,
        ..Options::default()
    });
    wait_checks(&f);
    compare_with_promex(&f, 600);
}

/// 4,000 servers: the exposition is written on every core and joined.
#[test]
fn same_values_as_promex_for_a_large_listing() {
    let f = Fleet::start(Options {
        promex: true,
        topology: Topology::large(40, 100, 0),
        ..Options::default()
    });
    compare_with_promex(&f, 200_000);
}

/// Families of ours that no promex has (docs/prometheus.md).
const OURS_ONLY: [&str; 3] = [
    "haproxy_frontend_http_requests_rate_current",
    "haproxy_frontend_connections_rate_current",
    "haproxy_server_check_analyze_failures_total",
];

/// Families promex 3.0 added, of `show stat` columns 2.6 has: ours on
/// every version.
const PROMEX_3_0: [&str; 2] = ["haproxy_server_active", "haproxy_server_backup"];

/// Families promex 3.2 added, of `show stat` columns and a `show info`
/// field 2.6 has: ours on every version (same names and help).
const PROMEX_3_2: [&str; 5] = [
    "haproxy_frontend_current_session_rate",
    "haproxy_backend_current_session_rate",
    "haproxy_server_current_session_rate",
    "haproxy_server_http_requests_total",
    "haproxy_process_node",
];

/// promex 3.4's `_total` families it types gauge: counters here.
const PROMEX_3_4_GAUGES: [&str; 2] = [
    "haproxy_process_patterns_added_total",
    "haproxy_process_patterns_freed_total",
];

/// How the promex of the HAProxy under test differs from ours, on
/// purpose or by its version (our table is 2.6's promex and the families
/// later ones added, each where the HAProxy read has its field). Every entry
/// must be seen and nothing else may differ: a list that no longer
/// holds fails as surely as a new difference.
#[derive(Debug, Default)]
struct Known {
    /// promex families we do not write (none, 2.6 to 3.4: a family a
    /// new promex adds fails the test until it is written or listed).
    promex_only: BTreeSet<&'static str>,
    /// Our families promex does not write.
    ours_only: BTreeSet<&'static str>,
    /// Shared families whose help promex words otherwise (ours is 2.6's).
    help: BTreeSet<&'static str>,
    /// Shared families promex types gauge, ours counter.
    gauges: BTreeSet<&'static str>,
    /// promex types a family after its first sample, a gauge when that
    /// one is empty (NaN): 3.2+.
    typed_by_first_sample: bool,
}

fn known_differences() -> Known {
    let at_least = haproxy_e2e::haproxy_at_least;
    let mut k = Known::default();
    k.ours_only.extend(OURS_ONLY);
    if !at_least(3, 0) {
        k.ours_only.extend(PROMEX_3_0);
    }
    if !at_least(3, 2) {
        k.ours_only.extend(PROMEX_3_2);
    }
    if at_least(3, 0) && !at_least(3, 2) {
        // 3.0 prints `TotalWarnings`; its promex has no metric of it.
        k.ours_only.insert("haproxy_process_total_warnings_total");
    }
    // The families of fields of later versions (3.3's `priv_idle_cur`,
    // `reqbin` …; 3.4's `NbThreadGroups` …) are written only where the
    // version prints them: no difference.
    if at_least(3, 0) {
        // `[DEPRECATED] Backend's aggregated gauge of servers' status`.
        k.help.insert("haproxy_backend_agg_server_check_status");
    }
    if at_least(3, 2) {
        // E.g. `haproxy_backend_downtime_seconds_total` is a gauge when
        // the first backend has no servers (the harness's `health`), and
        // `haproxy_server_check_failures_total` when the first server has
        // no check. Ours stays 2.6's counter (a `_total` is one).
        k.typed_by_first_sample = true;
    }
    if at_least(3, 4) {
        k.gauges.extend(PROMEX_3_4_GAUGES);
        // 3.4 corrects 2.6's "in byes" to "in bytes".
        k.help.insert("haproxy_process_max_memory_bytes");
    }
    k
}

fn compare_with_promex(f: &Fleet, min_compared: usize) {
    let known = known_differences();
    let i = &f.instances()[0];
    let addr = i.promex.expect("promex address");
    let hap = HAProxy::from_socket(&i.socket).expect("connect");

    // promex, ours, promex: a value that did not move between the two
    // promex reads cannot have moved under ours (counters are monotonic;
    // the gauges that are not, depend on the reader and are excluded).
    let before = parse(&renamed(&promex(addr)));
    let snap = hap.snapshot().expect("snapshot");
    let mut e = Exposition::new();
    e.add_snapshot(&snap, &[], Mode::Combined);
    let ours_text = e.to_text();
    let after = parse(&renamed(&promex(addr)));
    let ours = parse(&ours_text);
    assert!(!ours_text.contains("haproxy_cli_disagreement"));

    // The families of the process, frontends, backends and servers
    // (promex's listener, resolver and stick table ones are not written).
    let scoped = |name: &str| {
        ["process", "frontend", "backend", "server"]
            .iter()
            .any(|s| name.starts_with(&format!("haproxy_{s}_")))
    };
    let theirs: BTreeSet<&str> = before
        .types
        .keys()
        .map(String::as_str)
        .filter(|n| scoped(n))
        .collect();
    let mine: BTreeSet<&str> = ours.types.keys().map(String::as_str).collect();
    let promex_only: BTreeSet<&str> = theirs.difference(&mine).copied().collect();
    let ours_only: BTreeSet<&str> = mine.difference(&theirs).copied().collect();
    let v = haproxy_e2e::haproxy_version_string();
    assert_eq!(
        promex_only, known.promex_only,
        "promex {v}: families we lack"
    );
    // Ours is promex's set, bar our documented names.
    assert_eq!(ours_only, known.ours_only, "promex {v}: families it lacks");

    // The shared families: same type, help and label names, but for the
    // listed differences (which must differ).
    let shared: BTreeSet<&str> = theirs.intersection(&mine).copied().collect();
    assert!(shared.len() > 100, "only {} shared families", shared.len());
    for &name in &shared {
        let (ty, help) = (&before.types[name], &before.helps[name]);
        let (our_ty, our_help) = (&ours.types[name], &ours.helps[name]);
        let first_empty = before.first.get(name).is_some_and(|f| f.is_nan());
        let gauge_for_counter = (ty.as_str(), our_ty.as_str()) == ("gauge", "counter");
        if known.gauges.contains(name) {
            assert!(gauge_for_counter, "type of {name}: promex {v} {ty}");
        } else {
            assert!(
                ty == our_ty || (known.typed_by_first_sample && first_empty && gauge_for_counter),
                "type of {name}: promex {v} {ty}, ours {our_ty}"
            );
        }
        assert_eq!(
            help != our_help,
            known.help.contains(name),
            "help of {name}: promex {v} {help:?}, ours {our_help:?}"
        );
        assert_eq!(
            ours.label_sets.get(name),
            before.label_sets.get(name),
            "label names of {name}"
        );
    }

    // The shared families have the same series, and the stable ones the
    // same values.
    for (name, labels) in ours.series.keys() {
        if shared.contains(name.as_str()) {
            assert!(
                before.series.contains_key(&(name.clone(), labels.clone())),
                "series of ours promex {v} lacks: {name}{labels:?}"
            );
        }
    }
    let (mut compared, mut moved, mut observer) = (0, 0, 0);
    for ((name, labels), v1) in &before.series {
        if !shared.contains(name.as_str()) {
            continue;
        }
        let ours_v = *ours
            .series
            .get(&(name.clone(), labels.clone()))
            .unwrap_or_else(|| panic!("missing series {name}{labels:?}"));
        let v2 = after.series.get(&(name.clone(), labels.clone()));
        let same = |a: f64, b: f64| (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-9;
        if observer_dependent(name, labels) {
            observer += 1;
        } else if v2.is_some_and(|v2| same(*v1, *v2)) {
            assert!(
                same(*v1, ours_v),
                "{name}{labels:?}: promex {v} {v1} (twice), ours {ours_v}"
            );
            compared += 1;
        } else {
            moved += 1;
        }
    }
    assert!(
        compared > min_compared && moved < compared / 10,
        "compared {compared}, moved {moved}, observer-dependent {observer}"
    );
}

// ---- a real Prometheus scraping our exporter ------------------------------

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";
const PROMETHEUS_HINT: &str = "Prometheus is not installed: run `apt-get install -y prometheus` \
     (as root; `cargo xtask test` does it), the test starts /usr/bin/prometheus itself";

/// A child process killed (by its own PID) on drop.
pub(crate) struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A UNIX socket that accepts connections and never answers: a stalled
/// HAProxy, which a real one will not be on demand.
struct Stalled {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Stalled {
    fn start(path: &std::path::Path) -> Stalled {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::os::unix::net::UnixListener::bind(path).expect("bind stalled socket");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            // Bounded: the test sets the flag when it ends (Drop).
            let give_up = Instant::now() + Duration::from_secs(120);
            while !flag.load(Ordering::Relaxed) && Instant::now() < give_up {
                match listener.accept() {
                    Ok((s, _)) => held.push(s),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Stalled {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Stalled {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], haproxy_e2e::free_port()))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An instant PromQL query: the result vector's `(labels, value)`.
fn query(prom: SocketAddr, q: &str) -> Vec<(serde_json::Value, f64)> {
    let (head, body) = http_get(
        prom,
        &format!("/api/v1/query?query={}", percent_encode(q)),
        "",
    );
    assert_eq!(status(&head), 200, "{q}: {head}");
    let v: serde_json::Value = serde_json::from_slice(&body).expect("Prometheus answers JSON");
    assert_eq!(v["status"], "success", "{q}: {v}");
    v["data"]["result"]
        .as_array()
        .expect("a vector")
        .iter()
        .map(|r| {
            let value = r["value"][1]
                .as_str()
                .expect("value")
                .parse()
                .expect("a number");
            (r["metric"].clone(), value)
        })
        .collect()
}

pub(crate) fn promtool_check(text: &[u8]) {
    let mut child = std::process::Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect(PROMETHEUS_HINT);
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text)
        .expect("feed promtool");
    let out = child.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_real_prometheus_scrapes_the_exporter() {
    assert!(
        std::path::Path::new(PROMETHEUS).exists() && std::path::Path::new(PROMTOOL).exists(),
        "{PROMETHEUS_HINT}"
    );
    let f = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    wait_checks(&f);
    // Traffic through be_app, so that sessions_total has moved.
    let http = SocketAddr::from(([127, 0, 0, 1], f.instances()[0].http_port));
    for _ in 0..10 {
        let (head, _) = http_get(http, "/", "");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    let stall_path = f.dir().join("stalled.sock");
    let _stalled = Stalled::start(&stall_path);
    let inventory = f.dir().join("inventory");
    std::fs::write(
        &inventory,
        format!(
            "# two instances of one host, and a stalled one\n\
             dir:{}:instance-*.sock host=lb1 datacenter=dc1\n\
             {} host=lb2 datacenter=dc2\n",
            f.socket_dir().display(),
            stall_path.display()
        ),
    )
    .expect("write inventory");

    let listen = free_addr();
    let exporter = Killed(
        std::process::Command::new(crate::cli::cli())
            .args(["exporter", "--listen", &listen.to_string(), "--inventory"])
            .arg(&inventory)
            .args(["--scrape-timeout", "0.7"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the exporter"),
    );
    Fleet::wait_until(Duration::from_secs(10), "the exporter listens", || {
        TcpStream::connect_timeout(&listen, Duration::from_millis(200)).is_ok()
    });

    // One scrape by hand: headers, answer time, completeness, promtool.
    let start = Instant::now();
    let (head, body) = http_get(listen, "/metrics", "");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(3), "scrape took {took:?}");
    // Header names in any case (HTTP's rule; hyper writes them lower).
    assert_eq!(status(&head), 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    promtool_check(&body);
    let text = String::from_utf8(body.clone()).expect("UTF-8");
    let p = parse(&text);
    let up: Vec<_> = p
        .series
        .iter()
        .filter(|((n, _), _)| n == "haproxy_up")
        .collect();
    assert_eq!(up.len(), 3, "{up:?}");
    for ((_, labels), v) in &up {
        let host = labels
            .iter()
            .find(|(k, _)| k == "host")
            .map(|(_, v)| v.as_str());
        let want = if host == Some("lb2") { 0.0 } else { 1.0 };
        assert_eq!(**v, want, "{labels:?}");
    }
    // Complete data for lb1 beside the stalled lb2: every server of the
    // two instances, combined, with the target's labels.
    let servers = p
        .series
        .keys()
        .filter(|(n, l)| {
            n == "haproxy_server_current_sessions"
                && l.contains(&("host".into(), "lb1".into()))
                && l.contains(&("datacenter".into(), "dc1".into()))
        })
        .count();
    assert_eq!(servers, 9, "{text}");
    // Gzip when asked.
    let (head, gz) = http_get(listen, "/metrics", "Accept-Encoding: gzip\r\n");
    assert!(
        head.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{head}"
    );
    assert!(gz.starts_with(&[0x1f, 0x8b]) && gz.len() < body.len() / 3);
    // A bad request is refused, and the server lives on.
    let (head, _) = http_get(listen, "/nowhere", "");
    assert_eq!(status(&head), 404, "{head}");

    // Prometheus, on loopback, temp storage, scraping every second.
    let (_prometheus, prom_addr) = prometheus(&f.dir().join("prometheus"), &[("haproxy", listen)]);
    // A few scrapes: until the rate over them has a value.
    let rate = "rate(haproxy_backend_sessions_total{proxy=\"be_app\",host=\"lb1\"}[10s])";
    Fleet::wait_until(Duration::from_secs(20), "a rate over our scrapes", || {
        !query(prom_addr, rate).is_empty()
    });

    let r = query(
        prom_addr,
        "haproxy_server_current_sessions{proxy=\"be_app\",server=\"app1\"}",
    );
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0["host"], "lb1");
    assert_eq!(r[0].0["datacenter"], "dc1");
    assert_eq!(r[0].1, 0.0);
    // Traffic while Prometheus scrapes: the rate it computes over our
    // combined counter rises above 0.
    for _ in 0..20 {
        let (head, _) = http_get(http, "/", "");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    Fleet::wait_until(Duration::from_secs(20), "a rate above 0", || {
        query(prom_addr, rate).first().is_some_and(|r| r.1 > 0.0)
    });
    // The ten requests of two instances, summed.
    let r = query(
        prom_addr,
        "haproxy_backend_sessions_total{proxy=\"be_app\"}",
    );
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].1 >= 10.0, "{r:?}");
    // Our per-process up: both lb1 processes 1, the stalled one 0.
    let r = query(prom_addr, "haproxy_up");
    let mut ups: Vec<(String, f64)> = r
        .iter()
        .map(|(m, v)| (m["host"].as_str().unwrap_or("").to_owned(), *v))
        .collect();
    ups.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    assert_eq!(
        ups,
        [
            ("lb1".into(), 1.0),
            ("lb1".into(), 1.0),
            ("lb2".into(), 0.0)
        ],
        "{r:?}"
    );
    // Prometheus' own view: the exporter answered inside its 1 s timeout
    // every time, the stall notwithstanding.
    let r = query(prom_addr, "up{job=\"haproxy\"}");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].1, 1.0, "{r:?}");
    let r = query(
        prom_addr,
        "max_over_time(scrape_duration_seconds{job=\"haproxy\"}[1m])",
    );
    assert!(r.len() == 1 && r[0].1 < 1.0, "{r:?}");
    let r = query(prom_addr, "count(haproxy_server_status{host=\"lb1\"})");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].1, 45.0, "9 servers, 5 states: {r:?}");
    drop(exporter);
}

#[test]
fn per_process_series_and_disagreements() {
    assert!(std::path::Path::new(PROMTOOL).exists(), "{PROMETHEUS_HINT}");
    let f = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    wait_checks(&f);
    // s1 (no check) gets another weight in the second instance only.
    let reply = f.instances()[1].raw("set weight be_static/s1 7");
    assert!(reply.trim().is_empty(), "{reply}");
    let hap = HAProxy::from_dir(f.socket_dir()).expect("connect");
    let snap = hap.snapshot().expect("snapshot");
    let pids: BTreeSet<String> = f.instances().iter().map(|i| i.pid.to_string()).collect();

    let mut e = Exposition::new();
    e.add_snapshot(&snap, &[], Mode::Combined);
    let text = e.to_text();
    promtool_check(text.as_bytes());
    let p = parse(&text);
    // The disagreement: the labels of a series the processes agree on
    // (no pid: the series does not change when they start or stop
    // agreeing), the processes' mean, and the flag naming it.
    let weights: Vec<_> = p
        .series
        .iter()
        .filter(|((n, l), _)| {
            n == "haproxy_server_weight" && l.contains(&("server".into(), "s1".into()))
        })
        .collect();
    assert_eq!(weights.len(), 1, "{weights:?}");
    assert_eq!(
        weights[0].0 .1,
        [
            ("proxy".to_owned(), "be_static".to_owned()),
            ("server".to_owned(), "s1".to_owned())
        ]
    );
    assert_eq!(*weights[0].1, 8.5);
    assert!(!text.contains("pid=\""), "{text}");
    let flag = (
        "haproxy_cli_disagreement".to_owned(),
        vec![
            ("field".to_owned(), "weight".to_owned()),
            ("proxy".to_owned(), "be_static".to_owned()),
            ("scope".to_owned(), "server".to_owned()),
            ("server".to_owned(), "s1".to_owned()),
        ],
    );
    assert_eq!(p.series.get(&flag), Some(&1.0), "{text}");
    // Sums stay combined: one series for a counter of s1.
    let totals = p
        .series
        .keys()
        .filter(|(n, l)| {
            n == "haproxy_server_sessions_total" && l.contains(&("server".into(), "s1".into()))
        })
        .count();
    assert_eq!(totals, 1);

    // Per process: every object series has a pid of one of the two.
    let mut e = Exposition::new();
    e.add_snapshot(&snap, &[("host", "lb1")], Mode::PerProcess);
    let text = e.to_text();
    promtool_check(text.as_bytes());
    let p = parse(&text);
    for (name, labels) in p.series.keys() {
        let pid = labels
            .iter()
            .find(|(k, _)| k == "pid")
            .map(|(_, v)| v.clone());
        assert!(pid.is_some_and(|p| pids.contains(&p)), "{name}{labels:?}");
        assert!(labels.contains(&("host".into(), "lb1".into())));
    }
    let app1 = p
        .series
        .keys()
        .filter(|(n, l)| {
            n == "haproxy_server_current_sessions" && l.contains(&("server".into(), "app1".into()))
        })
        .count();
    assert_eq!(app1, 2);
    assert!(!text.contains("haproxy_cli_disagreement"));
}

/// Starts the exporter on one socket with `extra` flags; waits until it
/// listens.
fn exporter(socket: &std::path::Path, extra: &[&str]) -> (Killed, SocketAddr) {
    exporter_of(&["--socket".as_ref(), socket.as_os_str()], extra)
}

/// Starts the exporter on the processes `source` (global options) names,
/// with `extra` flags; waits until it listens.
pub(crate) fn exporter_of(source: &[&std::ffi::OsStr], extra: &[&str]) -> (Killed, SocketAddr) {
    let listen = free_addr();
    let child = Killed(
        std::process::Command::new(crate::cli::cli())
            .args(source)
            .args(["exporter", "--listen", &listen.to_string()])
            .args(extra)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the exporter"),
    );
    Fleet::wait_until(Duration::from_secs(10), "the exporter listens", || {
        TcpStream::connect_timeout(&listen, Duration::from_millis(200)).is_ok()
    });
    (child, listen)
}

/// Sends `bytes` raw and returns the status line's code (0 if none).
fn raw_request(addr: SocketAddr, bytes: &[u8]) -> u16 {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("read timeout");
    // The server may answer before reading everything: ignore a reset.
    let _ = s.write_all(bytes);
    let mut buf = Vec::new();
    let _ = s.take(1 << 20).read_to_end(&mut buf);
    status(&String::from_utf8_lossy(&buf))
}

#[test]
fn the_exporter_refuses_bad_requests_and_lives_on() {
    let f = Fleet::start(Options::default());
    let (_exporter, addr) = exporter(&f.instances()[0].socket, &["--http-workers", "2"]);
    // A client that connects and never sends costs a task, not a worker,
    // and is closed at the head deadline.
    let idle = TcpStream::connect(addr).expect("connect");
    let started = Instant::now();
    assert_eq!(raw_request(addr, b"GET /metrics HTTP/1.0\r\n\r\n"), 200);
    assert_eq!(raw_request(addr, b"POST /metrics HTTP/1.0\r\n\r\n"), 405);
    assert_eq!(raw_request(addr, b"\x00\x01\x02 garbage\r\n\r\n"), 400);
    let mut huge = b"GET /metrics HTTP/1.0\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 64 * 1024));
    assert_eq!(raw_request(addr, &huge), 431);
    assert_eq!(raw_request(addr, b"GET /nowhere HTTP/1.0\r\n\r\n"), 404);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The idle client is closed at the head deadline (5 s), unanswered.
    let mut idle = idle;
    idle.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("read timeout");
    let mut buf = Vec::new();
    let closed = idle.read_to_end(&mut buf);
    assert!(
        closed.is_ok() && started.elapsed() < Duration::from_secs(12),
        "{closed:?} after {:?}",
        started.elapsed()
    );
    assert_ne!(status(&String::from_utf8_lossy(&buf)), 200);
    // And the server lives on, HEAD included.
    assert_eq!(
        raw_request(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
        200
    );
    let (head, body) = http_get(addr, "/metrics", "");
    assert_eq!(status(&head), 200);
    assert!(!body.is_empty());
}

/// Sends `request_line` with a `Host` and `headers` on loopback, with a
/// deadline on every step and a size bound; the head and the body as
/// sent.
pub(crate) fn exchange(addr: SocketAddr, request_line: &str, headers: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("read timeout");
    s.set_write_timeout(Some(Duration::from_secs(5)))
        .expect("write timeout");
    write!(s, "{request_line}\r\nHost: {addr}\r\n{headers}\r\n").expect("send request");
    let mut buf = Vec::new();
    s.take(512 << 20)
        .read_to_end(&mut buf)
        .expect("read response");
    let at = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    (
        String::from_utf8_lossy(&buf[..at]).into_owned(),
        buf[at + 4..].to_vec(),
    )
}

/// `GET /metrics` over HTTP/1.1: the head and the body as sent.
fn http11_get(addr: SocketAddr, headers: &str) -> (String, Vec<u8>) {
    exchange(addr, "GET /metrics HTTP/1.1", headers)
}

#[test]
fn an_uncached_scrape_is_streamed_in_chunks_to_http_1_1() {
    let f = Fleet::start(Options::default());
    let (_exporter, addr) = exporter(&f.instances()[0].socket, &[]);
    // HTTP/1.1: chunked (a cut body would show as cut), no length; the
    // same families as HTTP/1.0's close-delimited body.
    let (head, raw) = http11_get(addr, "");
    assert_eq!(status(&head), 200, "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("transfer-encoding: chunked"), "{head}");
    assert!(!lower.contains("content-length"), "{head}");
    assert!(
        raw.ends_with(b"\r\n0\r\n\r\n"),
        "{:?}",
        &raw[raw.len().saturating_sub(16)..]
    );
    let chunked = String::from_utf8(dechunk(&raw)).expect("utf-8");
    let (_, plain) = http_get(addr, "/metrics", "");
    let plain = String::from_utf8(plain).expect("utf-8");
    let types = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("# TYPE "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(types(&chunked), types(&plain));
    assert!(types(&plain).len() > 50, "{plain}");
    assert!(chunked.contains("\nhaproxy_up{"), "{chunked}");
    // Gzip, streamed in chunks too.
    let (head, raw) = http11_get(addr, "Accept-Encoding: gzip\r\n");
    assert!(
        head.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{head}"
    );
    let gz = dechunk(&raw);
    assert!(
        gz.starts_with(&[0x1f, 0x8b]) && gz.len() < plain.len() / 3,
        "{}",
        gz.len()
    );
}

#[test]
fn the_exporter_cache_serves_one_snapshot_to_many_scrapers() {
    let f = Fleet::start(Options::default());
    let socket = &f.instances()[0].socket;
    let (_cached, cached) = exporter(socket, &["--max-age", "30"]);
    let (_fresh, fresh) = exporter(socket, &["--per-process"]);
    // Identical bodies (their durations included) mean one snapshot.
    let bodies: Vec<Vec<u8>> = std::thread::scope(|s| {
        let h: Vec<_> = (0..8)
            .map(|_| s.spawn(|| http_get(cached, "/metrics", "").1))
            .collect();
        h.into_iter().map(|h| h.join().expect("scraper")).collect()
    });
    assert!(bodies.iter().all(|b| b == &bodies[0] && !b.is_empty()));
    let text = String::from_utf8(bodies[0].clone()).expect("UTF-8");
    assert!(text.contains("haproxy_cli_exposition_duration_seconds "));
    // Without caching, every scrape reads HAProxy again (its own
    // duration differs), and --per-process labels every series.
    let a = http_get(fresh, "/metrics", "").1;
    let b = http_get(fresh, "/metrics", "").1;
    assert_ne!(a, b);
    let p = parse(&String::from_utf8(a).expect("UTF-8"));
    let pid = f.instances()[0].pid.to_string();
    let cur = p
        .series
        .keys()
        .find(|(n, l)| {
            n == "haproxy_server_current_sessions" && l.contains(&("server".into(), "app1".into()))
        })
        .expect("app1's sessions");
    assert!(cur.1.contains(&("pid".into(), pid)), "{cur:?}");
}

#[test]
fn a_stalled_socket_in_the_directory_is_up_0() {
    let f = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    let stalled_path = f.socket_dir().join("stalled.sock");
    let _stalled = Stalled::start(&stalled_path);
    let listen = free_addr();
    let _exporter = Killed(
        std::process::Command::new(crate::cli::cli())
            .arg("--socket-dir")
            .arg(f.socket_dir())
            .args([
                "exporter",
                "--listen",
                &listen.to_string(),
                "--scrape-timeout",
                "2",
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the exporter"),
    );
    Fleet::wait_until(Duration::from_secs(10), "the exporter listens", || {
        TcpStream::connect_timeout(&listen, Duration::from_millis(200)).is_ok()
    });
    let started = Instant::now();
    let (head, body) = http_get(listen, "/metrics", "");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status(&head), 200);
    let p = parse(&String::from_utf8(body).expect("UTF-8"));
    let mut ups: Vec<(String, f64)> = p
        .series
        .iter()
        .filter(|((n, _), _)| n == "haproxy_up")
        .map(|((_, l), v)| {
            let endpoint = l
                .iter()
                .find(|(k, _)| k == "endpoint")
                .map_or("", |(_, v)| v);
            (endpoint.to_owned(), *v)
        })
        .collect();
    ups.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want: Vec<(String, f64)> = f
        .instances()
        .iter()
        .map(|i| (i.socket.display().to_string(), 1.0))
        .collect();
    want.push((stalled_path.display().to_string(), 0.0));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(ups, want);
    // Both instances' servers, combined: 9 servers.
    let servers = p
        .series
        .keys()
        .filter(|(n, _)| n == "haproxy_server_current_sessions")
        .count();
    assert_eq!(servers, 9);
}

/// Starts a Prometheus on loopback scraping every second with `jobs`
/// (`(name, exporter address)`); waits until it is ready.
fn prometheus(dir: &std::path::Path, jobs: &[(&str, SocketAddr)]) -> (Killed, SocketAddr) {
    let addr = free_addr();
    std::fs::create_dir_all(dir).expect("prometheus dir");
    let mut config = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n",
    );
    for (job, target) in jobs {
        config.push_str(&format!(
            "  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
        ));
    }
    let path = dir.join("prometheus.yml");
    std::fs::write(&path, config).expect("write prometheus.yml");
    let child = Killed(
        std::process::Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect(PROMETHEUS_HINT),
    );
    Fleet::wait_until(Duration::from_secs(20), "Prometheus is ready", || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
            && status(&http_get(addr, "/-/ready", "").0) == 200
    });
    (child, addr)
}

/// How many scrapes of `job` Prometheus has stored over the last `range`.
fn scrapes(prom: SocketAddr, job: &str, range: &str) -> f64 {
    query(
        prom,
        &format!("count_over_time(up{{job=\"{job}\"}}[{range}])"),
    )
    .first()
    .map_or(0.0, |r| r.1)
}

/// A Prometheus HA pair (two scrape jobs on one exporter) while one of
/// three processes is frozen for 8 s and another restarts: every scrape
/// of both is answered in full, no combined counter ever goes backwards
/// (`resets()` 0 for every family), and the combined increase is the
/// per-process sum's.
#[test]
fn counters_never_go_backwards_for_a_prometheus_ha_pair() {
    use std::sync::atomic::{AtomicBool, Ordering};
    assert!(
        std::path::Path::new(PROMETHEUS).exists(),
        "{PROMETHEUS_HINT}"
    );
    let mut f = Fleet::start(Options {
        instances: 3,
        ..Options::default()
    });
    wait_checks(&f);
    let dir = f.socket_dir();
    let source = ["--socket-dir".as_ref(), dir.as_os_str()];
    let (_combined, combined) = exporter_of(&source, &["--scrape-timeout", "0.6"]);
    let (_per, per) = exporter_of(&source, &["--scrape-timeout", "0.6", "--per-process"]);
    // Steady traffic through fe_http, spread over the three processes by
    // the kernel (they share the port); a request to the frozen one
    // times out and is let go.
    let stop = AtomicBool::new(false);
    let http = SocketAddr::from(([127, 0, 0, 1], f.instances()[0].http_port));
    std::thread::scope(|s| {
        let (_prom, prom) = prometheus(
            &f.dir().join("prometheus-pair"),
            &[("a", combined), ("b", combined), ("p", per)],
        );
        // Every job has its first samples before the traffic starts, and
        // its last ones after it stops (below): the combined and the
        // per-process growth are of the same requests.
        Fleet::wait_until(Duration::from_secs(20), "3 scrapes by each job", || {
            ["a", "b", "p"]
                .iter()
                .all(|j| scrapes(prom, j, "1m") >= 3.0)
        });
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut c) = TcpStream::connect_timeout(&http, Duration::from_millis(300)) {
                    let _ = c.set_read_timeout(Some(Duration::from_millis(300)));
                    let _ = c.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n");
                    let _ = c.read_to_end(&mut Vec::new());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        // Frozen for 8 s: its socket and its traffic stall.
        let frozen = f.instances()[1].pid;
        haproxy_e2e::signal(frozen, "STOP");
        let thaw = Instant::now() + Duration::from_secs(8);
        let before = scrapes(prom, "a", "1m");
        Fleet::wait_until(Duration::from_secs(20), "8 s of freeze", || {
            Instant::now() >= thaw
        });
        haproxy_e2e::signal(frozen, "CONT");
        assert!(
            scrapes(prom, "a", "1m") >= before + 5.0,
            "scraped while frozen"
        );
        // Another one restarts: a new pid, counters from 0.
        f.restart(2);
        let before = scrapes(prom, "a", "2m");
        Fleet::wait_until(
            Duration::from_secs(20),
            "6 scrapes after the restart",
            || {
                ["a", "b"]
                    .iter()
                    .all(|j| scrapes(prom, j, "2m") >= before + 6.0)
            },
        );
        stop.store(true, Ordering::Relaxed);
        let after: Vec<f64> = ["a", "p"].iter().map(|j| scrapes(prom, j, "2m")).collect();
        Fleet::wait_until(
            Duration::from_secs(20),
            "2 scrapes after the traffic",
            || {
                ["a", "p"]
                    .iter()
                    .zip(&after)
                    .all(|(j, n)| scrapes(prom, j, "2m") >= n + 2.0)
            },
        );

        // Every scrape of both answered in full.
        for job in ["a", "b"] {
            let r = query(prom, &format!("min_over_time(up{{job=\"{job}\"}}[2m])"));
            assert_eq!(r.len(), 1, "{r:?}");
            assert_eq!(r[0].1, 1.0, "job {job}: a scrape failed");
            let r = query(
                prom,
                &format!("min_over_time(scrape_samples_scraped{{job=\"{job}\"}}[2m])"),
            );
            assert!(r.len() == 1 && r[0].1 > 300.0, "job {job}: {r:?}");
        }
        // No combined counter went backwards, in any family.
        let counters = query(prom, "count(haproxy_backend_sessions_total{job=\"a\"})");
        assert!(!counters.is_empty(), "no counters scraped");
        let families = query(
            prom,
            "count by (__name__) ({__name__=~\"haproxy_(process|frontend|backend|server)_.+_total\",job=\"a\"})",
        );
        assert!(families.len() > 20, "{families:?}");
        for (family, _) in &families {
            let name = family["__name__"].as_str().expect("a name");
            let resets = query(prom, &format!("resets({name}{{job=~\"a|b\"}}[2m]) > 0"));
            assert!(resets.is_empty(), "{name} went backwards: {resets:?}");
        }
        // And what they count is what the processes count.
        // Growth as scraped (the last sample less the first: increase()'s
        // extrapolation at the edges of a series that starts or ends in
        // the window — the restarted process's — is not what is compared).
        // They differ by what the new process counted before its first
        // per-process scrape (the combined counter counts it from 0) and
        // by when each job last read the killed one: a second or so of
        // one process's traffic.
        let one = |q: &str| query(prom, q).first().map_or(f64::NAN, |r| r.1);
        let growth =
            |sel: &str| format!("sum(max_over_time({sel}[2m]) - min_over_time({sel}[2m]))");
        let ours = one(&growth(
            "haproxy_frontend_http_requests_total{proxy=\"fe_http\",job=\"a\"}",
        ));
        let sum = one(&growth(
            "haproxy_frontend_http_requests_total{proxy=\"fe_http\",job=\"p\"}",
        ));
        assert!(
            ours > 100.0 && (ours - sum).abs() <= sum * 0.1,
            "combined growth {ours}, per-process sum {sum}"
        );
    });
}

/// 40 idle connections, 8 slowloris clients (a header byte every 300 ms)
/// and 2 clients reading at 8 KB/s, all held open, while 5 real scrapes
/// each answer in full within 1 s.
#[test]
fn idle_slow_and_slowloris_clients_starve_no_scrape() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let f = Fleet::start(Options::default());
    let (_exporter, addr) = exporter(&f.instances()[0].socket, &["--http-workers", "2"]);
    let stop = AtomicBool::new(false);
    // The ten clients' requests are on the wire before any scrape.
    let sent = std::sync::Barrier::new(11);
    let idle: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(addr).expect("idle connect"))
        .collect();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                let mut c = TcpStream::connect(addr).expect("slowloris connect");
                let _ = c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n");
                sent.wait();
                while !stop.load(Ordering::Relaxed) && c.write_all(b"X").is_ok() {
                    std::thread::sleep(Duration::from_millis(300));
                }
            });
        }
        for _ in 0..2 {
            s.spawn(|| {
                let mut c = TcpStream::connect(addr).expect("slow reader connect");
                let _ = c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
                sent.wait();
                let mut buf = [0u8; 1024];
                while !stop.load(Ordering::Relaxed) && c.read(&mut buf).is_ok_and(|n| n > 0) {
                    std::thread::sleep(Duration::from_millis(125));
                }
            });
        }
        sent.wait();
        for n in 0..5 {
            let start = Instant::now();
            let (head, body) = http_get(addr, "/metrics", "");
            let took = start.elapsed();
            assert_eq!(status(&head), 200, "scrape {n}: {head}");
            let text = String::from_utf8(body).expect("UTF-8");
            assert!(
                text.contains("\nhaproxy_up{") && text.ends_with('\n'),
                "scrape {n} not whole"
            );
            assert!(took < Duration::from_secs(1), "scrape {n} took {took:?}");
        }
        stop.store(true, Ordering::Relaxed);
    });
    drop(idle);
}

/// SIGTERM: the exporter stops accepting, lets an answer in progress
/// finish, and exits 0.
#[test]
fn the_exporter_stops_cleanly_at_sigterm() {
    let f = Fleet::start(Options::default());
    let (mut exporter, addr) = exporter(&f.instances()[0].socket, &[]);
    let (head, _) = http_get(addr, "/metrics", "");
    assert_eq!(status(&head), 200, "{head}");
    haproxy_e2e::signal(exporter.0.id(), "TERM");
    let mut code = None;
    Fleet::wait_until(Duration::from_secs(15), "the exporter exits", || {
        code = exporter.0.try_wait().ok().flatten();
        code.is_some()
    });
    assert_eq!(code.and_then(|c| c.code()), Some(0), "{code:?}");
    assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err());
}

/// The label names of every family but the ones that name processes or
/// disagreements by design.
fn label_names(body: &str) -> BTreeMap<String, BTreeSet<Vec<String>>> {
    let mut sets = parse(body).label_sets;
    sets.remove("haproxy_cli_disagreement");
    sets
}

/// A weight set on one process, then on both, then a restart: every
/// family keeps its label-name sets across the scrapes (no per-pid series
/// appears or goes stale), and promtool passes every body.
#[test]
fn label_sets_never_change_with_disagreements_or_restarts() {
    let mut f = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    wait_checks(&f);
    let dir = f.socket_dir().to_string_lossy().into_owned();
    let e = crate::one_path::Exporter::start(&["--socket-dir", &dir], &[]);
    let first = e.scrape();
    promtool_check(first.as_bytes());
    let want = label_names(&first);
    assert!(want.len() > 50, "{want:?}");
    let reply = f.instances()[1].raw("set weight be_static/s1 7");
    assert!(reply.trim().is_empty(), "{reply}");
    let split = e.scrape();
    assert!(
        split.contains("field=\"weight\"} 1"),
        "the disagreement is flagged"
    );
    let reply = f.instances()[0].raw("set weight be_static/s1 7");
    assert!(reply.trim().is_empty(), "{reply}");
    let agreed = e.scrape();
    assert!(!agreed.contains("field=\"weight\""), "agreed again");
    let old = f.instances()[1].pid;
    f.restart(1);
    let new = f.instances()[1].pid;
    assert_ne!(old, new);
    // The next scrape reads the new process behind the same socket, and
    // names it by its own pid (not the discovered one's).
    let restarted = e.scrape();
    assert!(
        restarted.contains(&format!("pid=\"{new}\""))
            && !restarted.contains(&format!("pid=\"{old}\"")),
        "{}",
        restarted
            .lines()
            .filter(|l| l.starts_with("haproxy_cli_process_info"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for (what, body) in [
        ("split", &split),
        ("agreed", &agreed),
        ("restarted", &restarted),
    ] {
        promtool_check(body.as_bytes());
        let got = label_names(body);
        let changed: Vec<_> = want
            .keys()
            .chain(got.keys())
            .filter(|k| want.get(*k) != got.get(*k))
            .collect();
        assert!(
            changed.is_empty(),
            "{what}: label sets changed for {changed:?}"
        );
    }
}
