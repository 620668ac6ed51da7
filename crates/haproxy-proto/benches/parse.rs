//! `show stat` parsing speed on a 10,000-server reply built from rows
//! captured from HAProxy 2.6 (tests/fixtures/stat/captured-2.6/stat.csv).
//!
//! - `typed`: the full typed parse, [`parse_stat`], plus a read of one
//!   typed value per record so nothing is left unused.
//! - `split_floor`: a tokenizer that only finds field boundaries (commas and
//!   line ends, honouring quotes) and counts fields — the floor any CSV
//!   parse of these bytes pays.
//!
//! Run: `cargo bench -p haproxy-proto --bench parse` (add `-- --quick` for a
//! fast pass).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_main, Criterion, Throughput};
use haproxy_proto::field::Column;
use haproxy_proto::stat::parse_stat;

const CAPTURE: &str = include_str!("../tests/fixtures/stat/captured-2.6/stat.csv");

/// The capture's row for `px`/`sv`, without its first two fields.
fn template(px: &str, sv: &str) -> &'static str {
    CAPTURE
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{px},{sv},")))
        .unwrap_or_else(|| panic!("no {px}/{sv} row in the capture"))
}

/// A reply with `backends` frontend/backend pairs of `per` servers each,
/// under the real 2.6 header (128 columns with the module ones).
fn reply(backends: usize, per: usize) -> String {
    let header = CAPTURE.lines().next().expect("the capture has a header");
    let fe = template("fe_http", "FRONTEND");
    let be = template("be_http", "BACKEND");
    let servers = [
        template("be_http", "up1"),
        template("be_http", "down1"),
        template("be_http", "bk1"),
        template("be_http", "v6"),
        template("be_tcp", "t1"),
    ];
    let mut out = String::with_capacity(backends * (per + 2) * 400);
    out.push_str(header);
    out.push('\n');
    for b in 0..backends {
        out.push_str(&format!("fe_{b},FRONTEND,{fe}\n"));
        for s in 0..per {
            let row = servers[s % servers.len()];
            out.push_str(&format!("be_{b},srv_{s},{row}\n"));
        }
        out.push_str(&format!("be_{b},BACKEND,{be}\n"));
    }
    out.push('\n');
    out
}

/// Finds every field boundary and counts the fields: the floor.
fn split_floor(input: &[u8]) -> usize {
    let mut fields = 0;
    let mut i = 0;
    let n = input.len();
    while i < n {
        if input[i] == b'"' {
            i += 1;
            while i < n {
                if input[i] == b'"' {
                    if i + 1 < n && input[i + 1] == b'"' {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            continue;
        }
        if input[i] == b',' || input[i] == b'\n' {
            fields += 1;
        }
        i += 1;
    }
    fields
}

fn bench(c: &mut Criterion) {
    let input = reply(100, 100);
    let table = parse_stat(&input).expect("the generated reply parses");
    assert_eq!(table.len(), 100 * 102);
    assert!(split_floor(input.as_bytes()) > 100 * 102 * 128);

    let mut group = c.benchmark_group("show_stat_10k_servers");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.sample_size(30);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("typed", |b| {
        b.iter(|| {
            let t = parse_stat(black_box(&input)).expect("parses");
            let sum: u64 = t.records().filter_map(|r| r.uint(Column::Stot)).sum();
            black_box((t.len(), sum))
        })
    });
    group.bench_function("split_floor", |b| {
        b.iter(|| black_box(split_floor(black_box(input.as_bytes()))))
    });
    group.finish();
}

// `criterion_group!` generates an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench);
}
use group::benches;
criterion_main!(benches);
