//! The benchmark report: reads criterion's estimates and the RSS probe's
//! figure from the target directory, and writes a table of each figure
//! beside its floor, its ratio and its target — markdown and JSON — under
//! `target/bench-report/`.

use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The target directory cargo uses here.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Median time of one iteration of `bench` (`group/id`), in nanoseconds.
fn median_ns(target: &Path, bench: &str) -> Option<f64> {
    let p = target
        .join("criterion")
        .join(bench)
        .join("new/estimates.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// The elements or bytes one iteration of `bench` handles.
fn throughput(target: &Path, bench: &str) -> Option<f64> {
    let p = target
        .join("criterion")
        .join(bench)
        .join("new/benchmark.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
    let t = &v["throughput"];
    t["Bytes"].as_f64().or_else(|| t["Elements"].as_f64())
}

struct Row {
    measure: String,
    figure: String,
    floor: String,
    ratio: Option<f64>,
    target: String,
    met: Option<bool>,
}

fn ms(ns: f64) -> String {
    format!("{:.2} ms", ns / 1e6)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(|| "?".into(), |kb| format!("{} GiB", kb / 1024 / 1024));
    let (a, b, c) = haproxy_e2e::haproxy_version();
    format!("{cpu}, {cores} cores, {mem} RAM, haproxy {a}.{b}.{c}")
}

/// Builds the report from what the benches left in `target`, writes it,
/// and returns the markdown.
pub fn write(root: &Path) -> Result<String, String> {
    let target = target_dir(root);
    let t = |b: &str| median_ns(&target, b);
    let mut rows = Vec::new();

    // 1. Parse.
    if let (Some(typed), Some(floor), Some(bytes)) = (
        t("show_stat_10k_servers/typed"),
        t("show_stat_10k_servers/split_floor"),
        throughput(&target, "show_stat_10k_servers/typed"),
    ) {
        let mbs = |ns: f64| bytes / (ns / 1e9) / 1e6;
        rows.push(Row {
            measure: "parse `show stat` (10,000 servers), typed".into(),
            figure: format!("{:.0} MB/s", mbs(typed)),
            floor: format!("{:.0} MB/s split-only", mbs(floor)),
            ratio: Some(typed / floor),
            target: "≥ 400 MB/s, ≤ 1.5×".into(),
            met: Some(mbs(typed) >= 400.0 && typed / floor <= 1.5),
        });
    }
    // 2. Read.
    let raw = t("read_4x10000/raw_fetch");
    for (bench, what, limit) in [
        (
            "read_4x10000/library_listing",
            "list 4 × 10,000 servers, library (owned `StatObject`s)",
            1.3,
        ),
        (
            "read_4x10000/library_listing_borrowed",
            "list 4 × 10,000 servers, library (`render_objects`, every value read)",
            1.3,
        ),
        (
            "read_4x10000/cli_server_list_json",
            "list 4 × 10,000 servers, CLI JSON",
            1.5,
        ),
    ] {
        if let (Some(x), Some(r)) = (t(bench), raw) {
            rows.push(Row {
                measure: what.into(),
                figure: ms(x),
                floor: format!("{} raw concurrent fetch", ms(r)),
                ratio: Some(x / r),
                target: format!("≤ {limit}×"),
                met: Some(x / r <= limit),
            });
        }
    }
    if let (Some(x), Some(r)) = (
        t("read_4x10000/cli_server_list_json"),
        t("read_4x10000/cli_raw_show_stat"),
    ) {
        rows.push(Row {
            measure: "CLI JSON listing vs `haproxy-cli raw 'show stat'`".into(),
            figure: ms(x),
            floor: format!("{} (same process start, discovery, fetch)", ms(r)),
            ratio: Some(x / r),
            target: "—".into(),
            met: None,
        });
    }
    // 2a. The same ratios measured in pairs (rounds of each, back to
    // back: robust to the machine drifting between criterion's groups).
    let paired: Option<Value> = std::fs::read_to_string(target.join("bench-report/paired.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    if let Some(p) = paired.as_ref() {
        for (key, what, limit) in [
            (
                "library_listing_vs_raw",
                "list 4 × 10,000 servers, library (owned), paired with the raw fetch",
                Some(1.3),
            ),
            (
                "library_listing_borrowed_vs_raw",
                "list 4 × 10,000 servers, library (borrowed), paired with the raw fetch",
                Some(1.3),
            ),
            (
                "cli_server_list_json_vs_raw",
                "list 4 × 10,000 servers, CLI JSON, paired with the raw fetch",
                Some(1.5),
            ),
            (
                "cli_server_list_json_vs_cli_raw",
                "list 4 × 10,000 servers, CLI JSON, paired with `haproxy-cli raw 'show stat'`",
                None,
            ),
        ] {
            let r = &p[key];
            if let (Some(median), Some(min), Some(max), Some(n)) = (
                r["median"].as_f64(),
                r["min"].as_f64(),
                r["max"].as_f64(),
                r["rounds"].as_u64(),
            ) {
                rows.push(Row {
                    measure: what.into(),
                    figure: format!("median of {n} rounds"),
                    floor: format!("{min:.2}×–{max:.2}× over the rounds"),
                    ratio: Some(median),
                    target: limit.map_or_else(|| "—".into(), |l| format!("≤ {l}×")),
                    met: limit.map(|l| median <= l),
                });
            }
        }
    }
    // 2b. Async: the same listing on tokio, beside the blocking one.
    if let Some(blocking) = t("async_4x10000/blocking_listing") {
        let raw = t("async_4x10000/raw_fetch");
        rows.push(Row {
            measure: "list 4 × 10,000 servers, blocking (async group)".into(),
            figure: ms(blocking),
            floor: raw.map_or("—".into(), |r| format!("{} raw concurrent fetch", ms(r))),
            ratio: raw.map(|r| blocking / r),
            target: "—".into(),
            met: None,
        });
        for (bench, what) in [
            (
                "async_4x10000/async_current_thread",
                "list 4 × 10,000 servers, async, current-thread runtime",
            ),
            (
                "async_4x10000/async_multi_thread",
                "list 4 × 10,000 servers, async, multi-thread runtime",
            ),
        ] {
            if let Some(x) = t(bench) {
                rows.push(Row {
                    measure: what.into(),
                    figure: ms(x),
                    floor: format!("{} blocking listing", ms(blocking)),
                    ratio: Some(x / blocking),
                    target: "≤ 1.1×".into(),
                    met: Some(x / blocking <= 1.1),
                });
            }
        }
    }
    // 3. Scale.
    let per_server = |n: usize| {
        t(&format!("scale_4_instances/library_listing/{n}")).map(|ns| ns / (4 * n) as f64)
    };
    let mut curve = Vec::new();
    for n in [100usize, 1_000, 10_000, 50_000] {
        if let Some(ns) = per_server(n) {
            curve.push(format!("{n}: {:.2} µs", ns / 1e3));
        }
    }
    if let (Some(a), Some(b)) = (per_server(1_000), per_server(50_000)) {
        rows.push(Row {
            measure: "time per server, 50,000 vs 1,000 per instance".into(),
            figure: format!("{:.2} µs", b / 1e3),
            floor: format!("{:.2} µs at 1,000", a / 1e3),
            ratio: Some(b / a),
            target: "≤ 1.25×".into(),
            met: Some(b / a <= 1.25),
        });
    }
    // 4. Write.
    if let (Some(s), Some(o)) = (
        t("write_4_instances/weights_1000_session"),
        t("write_4_instances/weights_1000_one_connection_each"),
    ) {
        rows.push(Row {
            measure: "set weight on 1,000 servers × 4 instances (pipelined session)".into(),
            figure: ms(s),
            floor: format!("{} one connection per command", ms(o)),
            ratio: Some(s / o),
            target: "≥ 10× faster (ratio ≤ 0.1)".into(),
            met: Some(o / s >= 10.0),
        });
    }
    if let (Some(s), Some(o)) = (
        t("write_4_instances/map_10000_atomic_replace"),
        t("write_4_instances/map_10000_one_connection_each"),
    ) {
        rows.push(Row {
            measure: "load 10,000 map entries × 4 instances (atomic replace)".into(),
            figure: ms(s),
            floor: format!("{} one `add map` connection per entry", ms(o)),
            ratio: Some(s / o),
            target: "one atomic operation per process".into(),
            met: Some(true),
        });
    }
    if let (Some(s), Some(o)) = (
        t("commands/session_100"),
        t("commands/one_connection_each_100"),
    ) {
        rows.push(Row {
            measure: "commands per second, one session".into(),
            figure: format!("{:.0}/s", 100.0 / (s / 1e9)),
            floor: format!("{:.0}/s one connection per command", 100.0 / (o / 1e9)),
            ratio: Some(s / o),
            target: "—".into(),
            met: None,
        });
    }
    // 5. Memory.
    let rss: Option<Value> = std::fs::read_to_string(target.join("bench-report/rss.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    if let Some(peak) = rss.as_ref().and_then(|v| v["peak_kib"].as_f64()) {
        let mib = peak / 1024.0;
        rows.push(Row {
            measure: "peak RSS, 4 × 10,000 listing + JSON".into(),
            figure: format!("{mib:.1} MiB"),
            floor: "—".into(),
            ratio: None,
            target: "< 64 MiB".into(),
            met: Some(mib < 64.0),
        });
    }
    // 6. Prometheus (wall clock, from the bench's prometheus.json).
    let prom: Option<Value> = std::fs::read_to_string(target.join("bench-report/prometheus.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    if let Some(p) = prom.as_ref() {
        let promex = p["promex_4_concurrent_ms"].as_f64();
        for (key, what) in [
            (
                "ours_combined_ms",
                "Prometheus scrape, 4 × 10,000 servers, combined (exporter)",
            ),
            (
                "ours_per_process_ms",
                "Prometheus scrape, 4 × 10,000 servers, per process (exporter)",
            ),
        ] {
            if let (Some(x), Some(pm)) = (p[key].as_f64(), promex) {
                rows.push(Row {
                    measure: what.into(),
                    figure: ms(x * 1e6),
                    floor: format!("{} promex on the 4 instances, concurrently", ms(pm * 1e6)),
                    ratio: Some(x / pm),
                    target: "faster than promex ×4".into(),
                    met: Some(x < pm),
                });
            }
        }
        if let (Some(x), Some(theirs)) = (
            p["ours_combined_ms"].as_f64(),
            p["prometheus_haproxy_exporter_4_concurrent_ms"].as_f64(),
        ) {
            rows.push(Row {
                measure: "Prometheus scrape, 4 × 10,000 servers, combined, vs prometheus-haproxy-exporter".into(),
                figure: ms(x * 1e6),
                floor: format!("{} prometheus-haproxy-exporter ×4, concurrently", ms(theirs * 1e6)),
                ratio: Some(x / theirs),
                target: "faster".into(),
                met: Some(x < theirs),
            });
        }
        let c = &p["cached"];
        if let (Some(rate), Some(counts)) = (
            c["scrapes_per_s"].as_f64(),
            c["show_stat_per_process"].as_array(),
        ) {
            let scrapes =
                c["scrapers"].as_u64().unwrap_or(0) * c["scrapes_each"].as_u64().unwrap_or(0);
            let counts: Vec<String> = counts.iter().map(|n| n.to_string()).collect();
            rows.push(Row {
                measure: format!(
                    "{} concurrent scrapers, {scrapes} scrapes, --max-age {} s",
                    c["scrapers"], c["max_age_s"]
                ),
                figure: format!("{rate:.1} scrapes/s"),
                floor: format!("`show stat` per process: {}", counts.join(", ")),
                ratio: None,
                target: "HAProxy read once per max-age, not per scrape".into(),
                met: None,
            });
        }
    }
    if rows.is_empty() {
        return Err(format!(
            "no benchmark results under {}; run `cargo xtask bench` first",
            target.join("criterion").display()
        ));
    }

    let machine = machine();
    let mut md = String::new();
    let _ = writeln!(md, "Machine: {machine}\n");
    let _ = writeln!(md, "| measure | figure | floor | ratio | target | met |");
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for r in &rows {
        let ratio = r.ratio.map_or_else(|| "—".into(), |x| format!("{x:.2}×"));
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {ratio} | {} | {met} |",
            r.measure, r.figure, r.floor, r.target
        );
    }
    if !curve.is_empty() {
        let _ = writeln!(
            md,
            "\nScale curve (library listing, time per server): {}",
            curve.join(", ")
        );
    }
    // 6. Comparison with other tools, where installed.
    let compare: Option<Value> = std::fs::read_to_string(target.join("bench-report/compare.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    match compare.as_ref() {
        Some(c) if c["rows"].is_array() => {
            let _ = writeln!(md, "\nComparison (same fleet, wall clock):\n");
            let _ = writeln!(
                md,
                "| work | ours | time | theirs | time | ours faster by |"
            );
            let _ = writeln!(md, "|---|---|---|---|---|---|");
            for r in c["rows"].as_array().into_iter().flatten() {
                let theirs = match (r["theirs_ms"].as_f64(), r["error"].as_str()) {
                    (Some(t), _) => ms(t * 1e6),
                    (None, Some(e)) => format!("failed: {e}"),
                    _ => "—".into(),
                };
                let speedup = r["speedup"]
                    .as_f64()
                    .map_or_else(|| "—".into(), |x| format!("{x:.1}×"));
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {theirs} | {speedup} |",
                    r["work"].as_str().unwrap_or(""),
                    r["ours"].as_str().unwrap_or(""),
                    r["ours_ms"]
                        .as_f64()
                        .map_or_else(|| "—".into(), |t| ms(t * 1e6)),
                    r["theirs"].as_str().unwrap_or(""),
                );
            }
        }
        Some(c) => {
            let _ = writeln!(
                md,
                "\nComparison with haproxyadmin, haproxytool, prometheus-haproxy-exporter: {}",
                c["skipped"].as_str().unwrap_or("not run")
            );
        }
        None => {
            let _ = writeln!(
                md,
                "\nComparison with haproxyadmin, haproxytool, prometheus-haproxy-exporter: not run (no compare.json)."
            );
        }
    }

    let json = json!({
        "machine": machine,
        "rows": rows.iter().map(|r| json!({
            "measure": r.measure, "figure": r.figure, "floor": r.floor,
            "ratio": r.ratio, "target": r.target, "met": r.met,
        })).collect::<Vec<_>>(),
        "scale_curve": curve,
        "rss": rss,
        "compare": compare,
        "prometheus": prom,
    });
    let dir = target.join("bench-report");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("report.md"), &md).map_err(|e| format!("write report.md: {e}"))?;
    let pretty = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("report.json"), pretty)
        .map_err(|e| format!("write report.json: {e}"))?;
    Ok(md)
}
