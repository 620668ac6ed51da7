//! Prometheus: our exposition against HAProxy's own exporter (promex) on
//! the same process, and our exporter scraped by a real Prometheus.

use haproxy_admin::prometheus::{Exposition, Mode, RENAMED};
use haproxy_admin::HAProxy;
use haproxy_e2e::{Fleet, Options};
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
            p.series.insert((name.to_owned(), ls), value);
        }
    }
    p
}

/// `GET path` over HTTP/1.0 on loopback, with a deadline on every step
/// and a size bound; the body (or the whole response with `head`).
pub(crate) fn http_get(addr: SocketAddr, path: &str, headers: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("read timeout");
    s.set_write_timeout(Some(Duration::from_secs(5)))
        .expect("write timeout");
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n{headers}\r\n").expect("send request");
    let mut buf = Vec::new();
    s.take(512 << 20)
        .read_to_end(&mut buf)
        .expect("read response");
    let at = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&buf[..at]).into_owned();
    let body = buf[at + 4..].to_vec();
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
    const PROCESS: [&str; 8] = [
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

    // Every family promex exposes for the process, frontends, backends
    // and servers: same name, type, help and label names.
    let mut families = 0;
    for (name, ty) in &before.types {
        let scope = ["process", "frontend", "backend", "server"]
            .iter()
            .any(|s| name.starts_with(&format!("haproxy_{s}_")));
        if !scope {
            continue;
        }
        families += 1;
        assert_eq!(ours.types.get(name), Some(ty), "type of {name}");
        assert_eq!(
            ours.helps.get(name),
            before.helps.get(name),
            "help of {name}"
        );
        assert_eq!(
            ours.label_sets.get(name),
            before.label_sets.get(name),
            "label names of {name}"
        );
    }
    assert!(families > 150, "only {families} promex families");
    // Families of ours that promex lacks have names promex does not use.
    for name in ours.types.keys() {
        if !before.types.contains_key(name) {
            assert!(
                [
                    "haproxy_frontend_current_session_rate",
                    "haproxy_frontend_http_requests_rate_current",
                    "haproxy_frontend_connections_rate_current",
                    "haproxy_backend_current_session_rate",
                    "haproxy_server_current_session_rate",
                    "haproxy_server_check_analyze_failures_total",
                ]
                .contains(&name.as_str()),
                "unexpected family of ours: {name}"
            );
        }
    }

    // Every promex series exists in ours, and the stable ones are equal.
    let (mut compared, mut moved, mut observer) = (0, 0, 0);
    for ((name, labels), v1) in &before.series {
        if !before.types.contains_key(name) || name.starts_with("haproxy_sticktable_") {
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
                "{name}{labels:?}: promex {v1} (twice), ours {ours_v}"
            );
            compared += 1;
        } else {
            moved += 1;
        }
    }
    assert!(
        compared > 600 && moved < compared / 10,
        "compared {compared}, moved {moved}, observer-dependent {observer}"
    );
    assert!(!ours_text.contains("haproxy_cli_disagreement"));
}
