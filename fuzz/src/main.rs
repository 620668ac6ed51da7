//! `haproxy-fuzz`: a mutation fuzzer for haproxy-proto, on stable Rust with
//! the standard library alone.
//!
//! Each target feeds mutated HAProxy outputs (seeded from the fixtures of
//! haproxy-proto) to one parser or to the command builder and walks
//! everything the result offers. A panic is a crash: the input is written
//! to `fuzz/crashes/` and the run fails. There is no coverage feedback;
//! the mutations are shaped by HAProxy's formats (CSV quoting, `: `
//! separators, numbers at their limits, lines moved between files)
//! instead.
//!
//! ```text
//! haproxy-fuzz <TARGET|all|list> [--secs N] [--seed S]
//! haproxy-fuzz replay <TARGET> <FILE>
//! ```

use fuzz::{
    acl_entries, codec, command, errors, info, lookup, map_entries, map_list, proc, reply_target,
    servers_state, stat, typed, verdict,
};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// One fuzz target: which fixtures seed it, and what it runs.
struct Target {
    name: &'static str,
    /// Whether a fixture (path relative to the fixture root) seeds it.
    seeds: fn(&str) -> bool,
    run: fn(&str),
}

const TARGETS: &[Target] = &[
    Target {
        name: "stat",
        seeds: |p| p.starts_with("stat/") && p.ends_with(".csv"),
        run: stat,
    },
    Target {
        name: "info",
        seeds: |p| (p.contains("info") || p.contains("env-")) && !p.contains("typed"),
        run: info,
    },
    Target {
        name: "typed",
        seeds: |p| p.contains("typed"),
        run: typed,
    },
    Target {
        name: "map_list",
        seeds: |p| p.contains("-list"),
        run: map_list,
    },
    Target {
        name: "map_entries",
        seeds: |p| p.contains("entries"),
        run: map_entries,
    },
    Target {
        name: "acl_entries",
        seeds: |p| p.contains("entries"),
        run: acl_entries,
    },
    Target {
        name: "lookup",
        seeds: |p| p.contains("get-"),
        run: lookup,
    },
    Target {
        name: "servers_state",
        seeds: |p| p.contains("servers-state"),
        run: servers_state,
    },
    Target {
        name: "errors",
        seeds: |p| p.contains("errors"),
        run: errors,
    },
    Target {
        name: "proc",
        seeds: |p| p.contains("proc"),
        run: proc,
    },
    Target {
        name: "reply",
        seeds: |p| p.starts_with("other/"),
        run: reply_target,
    },
    Target {
        name: "verdict",
        seeds: |p| p.starts_with("other/"),
        run: verdict,
    },
    Target {
        name: "command",
        seeds: |_| false,
        run: command,
    },
    Target {
        name: "codec",
        seeds: |p| p.starts_with("other/") || p.contains("entries"),
        run: |s| codec(s.as_bytes()),
    },
];

// ---- mutation -----------------------------------------------------------------

/// xorshift64*: small, fast, reproducible from `--seed`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that mean something in HAProxy's outputs.
const INTERESTING: &[u8] = b",\"\n\r: #\t0123456789-x;\\/@'[]{}=\x00\xff";

const NUMBERS: &[&str] = &[
    "",
    "0",
    "-1",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999999",
    "0x",
    "1e9",
    "NaN",
];

fn lines(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in b.iter().enumerate() {
        if *c == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < b.len() {
        out.push((start, b.len()));
    }
    out
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, pool: &[Vec<u8>]) {
    let len = input.len();
    match rng.below(11) {
        0 if len > 0 => {
            let i = rng.below(len);
            input[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            input[i] = INTERESTING[rng.below(INTERESTING.len())];
        }
        2 if len > 0 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.below(16)).min(len);
            input.drain(a..b);
        }
        3 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n)
                .map(|_| INTERESTING[rng.below(INTERESTING.len())])
                .collect();
            input.splice(at..at, bytes);
        }
        4 if len > 0 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.below(256)).min(len);
            let chunk = input[a..b].to_vec();
            let at = rng.below(len + 1);
            input.splice(at..at, chunk);
        }
        5 => input.truncate(rng.below(len + 1)),
        6 if !pool.is_empty() => {
            // A line of another input, at a line boundary of this one.
            let other = &pool[rng.below(pool.len())];
            let ls = lines(other);
            if ls.is_empty() {
                return;
            }
            let (a, b) = ls[rng.below(ls.len())];
            let here = lines(input);
            let at = if here.is_empty() {
                0
            } else {
                here[rng.below(here.len())].0
            };
            input.splice(at..at, other[a..b].to_vec());
        }
        7 => {
            // A run of digits becomes a number at a limit.
            let starts: Vec<usize> = (0..len)
                .filter(|&i| {
                    input[i].is_ascii_digit() && (i == 0 || !input[i - 1].is_ascii_digit())
                })
                .collect();
            if starts.is_empty() {
                return;
            }
            let a = starts[rng.below(starts.len())];
            let mut b = a;
            while b < len && input[b].is_ascii_digit() {
                b += 1;
            }
            let n = NUMBERS[rng.below(NUMBERS.len())];
            input.splice(a..b, n.bytes());
        }
        8 => {
            let ls = lines(input);
            if ls.len() < 2 {
                return;
            }
            let (x, y) = (ls[rng.below(ls.len())], ls[rng.below(ls.len())]);
            let (first, second) = if x.0 < y.0 { (x, y) } else { (y, x) };
            if first.0 == second.0 {
                return;
            }
            let mut out = Vec::with_capacity(len);
            out.extend_from_slice(&input[..first.0]);
            out.extend_from_slice(&input[second.0..second.1]);
            out.extend_from_slice(&input[first.1..second.0]);
            out.extend_from_slice(&input[first.0..first.1]);
            out.extend_from_slice(&input[second.1..]);
            *input = out;
        }
        9 => {
            let ls = lines(input);
            if ls.is_empty() {
                return;
            }
            let (a, b) = ls[rng.below(ls.len())];
            input.drain(a..b);
        }
        _ => {
            let at = rng.below(len + 1);
            let c = INTERESTING[rng.below(INTERESTING.len())];
            let n = 1 + rng.below(5000);
            input.splice(at..at, std::iter::repeat(c).take(n));
        }
    }
}

// ---- driver --------------------------------------------------------------------

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/haproxy-proto/tests/fixtures")
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, root, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            let rel = p
                .strip_prefix(root)
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((rel, bytes));
        }
    }
}

/// Hand-written seeds for the command builder: arguments one per line.
const COMMAND_SEEDS: &[&str] = &[
    "be_app\napp1\n127.0.0.1\n10",
    "/etc/haproxy/hosts.map\nexample.com\nbe_app\n1",
    "be static\ns1;shutdown frontend fe\n::1\n256",
    "hosts.map\n#0x55d0c4a3b2c0\nv a l\n0",
    "m\nk\\;\n'quoted' \"d\"\n65536",
];

thread_local! {
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// FNV-1a, to name crash files by content.
fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, c| {
        (h ^ u64::from(*c)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Runs `t` on `input`; on a panic, returns its message.
fn exec(t: &Target, input: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(input);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (t.run)(&text)));
    r.err().map(|_| {
        PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "panic".to_owned())
    })
}

struct Stats {
    execs: u64,
    crashes: Vec<PathBuf>,
}

fn fuzz(t: &Target, seeds: &[(String, Vec<u8>)], secs: u64, seed: u64) -> Stats {
    let mut pool: Vec<Vec<u8>> = if t.name == "command" {
        COMMAND_SEEDS
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect()
    } else {
        let mine: Vec<Vec<u8>> = seeds
            .iter()
            .filter(|(p, _)| (t.seeds)(p))
            .map(|(_, b)| b.clone())
            .collect();
        if mine.is_empty() {
            seeds.iter().map(|(_, b)| b.clone()).collect()
        } else {
            mine
        }
    };
    pool.push(Vec::new());
    let base = pool.len();
    let mut rng = Rng(seed.max(1) ^ fnv(t.name.as_bytes()));
    let mut stats = Stats {
        execs: 0,
        crashes: Vec::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(secs);
    // Every seed as it is, first.
    for input in pool.clone() {
        record(t, &input, &mut stats);
    }
    while Instant::now() < deadline {
        for _ in 0..64 {
            let mut input = pool[rng.below(pool.len())].clone();
            for _ in 0..=rng.below(4) {
                mutate(&mut rng, &mut input, &pool);
            }
            input.truncate(1 << 20);
            record(t, &input, &mut stats);
            // Keep some mutants to mutate further (bounded pool).
            if rng.below(32) == 0 {
                if pool.len() < base + 256 {
                    pool.push(input);
                } else {
                    let i = base + rng.below(256);
                    pool[i] = input;
                }
            }
        }
    }
    stats
}

fn record(t: &Target, input: &[u8], stats: &mut Stats) {
    stats.execs += 1;
    if let Some(msg) = exec(t, input) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crashes");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{}-{:016x}.txt", t.name, fnv(input)));
        if !stats.crashes.contains(&path) {
            let _ = std::fs::write(&path, input);
            eprintln!(
                "{}: CRASH {msg} (input saved to {})",
                t.name,
                path.display()
            );
            stats.crashes.push(path);
        }
    }
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let msg = format!("{info}");
        PANIC.with(|p| *p.borrow_mut() = Some(msg));
    }));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: haproxy-fuzz <TARGET|all|list> [--secs N] [--seed S]\n       haproxy-fuzz replay <TARGET> <FILE>";
    let Some(what) = args.first() else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let flag = |name: &str, default: u64| -> Result<u64, String> {
        match args.iter().position(|a| a == name) {
            None => Ok(default),
            Some(i) => args
                .get(i + 1)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number")),
        }
    };
    let find = |name: &str| TARGETS.iter().find(|t| t.name == name);
    match what.as_str() {
        "list" => {
            for t in TARGETS {
                println!("{}", t.name);
            }
            ExitCode::SUCCESS
        }
        "replay" => {
            let (Some(t), Some(file)) = (args.get(1).and_then(|n| find(n)), args.get(2)) else {
                eprintln!("{usage}");
                return ExitCode::from(2);
            };
            match std::fs::read(file) {
                Ok(bytes) => match exec(t, &bytes) {
                    Some(msg) => {
                        eprintln!("{}: {file}: CRASH {msg}", t.name);
                        ExitCode::FAILURE
                    }
                    None => {
                        println!("{}: {file}: no crash", t.name);
                        ExitCode::SUCCESS
                    }
                },
                Err(e) => {
                    eprintln!("{file}: {e}");
                    ExitCode::from(2)
                }
            }
        }
        name => {
            let (secs, seed) = match (flag("--secs", 10), flag("--seed", 0x5eed)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("haproxy-fuzz: {e}\n{usage}");
                    return ExitCode::from(2);
                }
            };
            let targets: Vec<&Target> = if name == "all" {
                TARGETS.iter().collect()
            } else if let Some(t) = find(name) {
                vec![t]
            } else {
                eprintln!("haproxy-fuzz: no target {name:?} (see `haproxy-fuzz list`)");
                return ExitCode::from(2);
            };
            let mut seeds = Vec::new();
            walk(&fixture_root(), &fixture_root(), &mut seeds);
            if seeds.is_empty() {
                eprintln!(
                    "haproxy-fuzz: no fixtures under {}",
                    fixture_root().display()
                );
                return ExitCode::from(2);
            }
            let mut crashed = false;
            for t in targets {
                let started = Instant::now();
                let s = fuzz(t, &seeds, secs, seed);
                let rate = s.execs as f64 / started.elapsed().as_secs_f64();
                println!(
                    "{:<14} {:>10} execs  {:>9.0}/s  {} crashes",
                    t.name,
                    s.execs,
                    rate,
                    s.crashes.len()
                );
                crashed |= !s.crashes.is_empty();
            }
            if crashed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_target_is_caught_with_its_message() {
        std::panic::set_hook(Box::new(|info| {
            let msg = format!("{info}");
            PANIC.with(|p| *p.borrow_mut() = Some(msg));
        }));
        let t = Target {
            name: "boom",
            seeds: |_| true,
            run: |s| assert!(!s.contains("boom"), "found boom"),
        };
        assert_eq!(exec(&t, b"fine"), None);
        let msg = exec(&t, b"a boom").expect("caught");
        assert!(msg.contains("found boom"), "{msg}");
    }

    #[test]
    fn mutations_stay_in_bounds() {
        let pool = vec![b"a,b\n1,2\n".to_vec(), Vec::new(), b"x".to_vec()];
        let mut rng = Rng(7);
        for _ in 0..20_000 {
            let mut input = pool[rng.below(pool.len())].clone();
            for _ in 0..4 {
                mutate(&mut rng, &mut input, &pool);
            }
            assert!(input.len() <= 8 + 4 * 5_000 + 4 * 256 + 64);
        }
    }

    #[test]
    fn every_target_has_seeds_and_survives_them() {
        let mut seeds = Vec::new();
        walk(&fixture_root(), &fixture_root(), &mut seeds);
        assert!(seeds.len() > 50, "{} fixtures", seeds.len());
        for t in TARGETS {
            let mine = seeds.iter().filter(|(p, _)| (t.seeds)(p)).count();
            assert!(t.name == "command" || mine > 0, "{} has no seeds", t.name);
            for (p, b) in &seeds {
                assert_eq!(exec(t, b), None, "{} on {p}", t.name);
            }
        }
    }
}
