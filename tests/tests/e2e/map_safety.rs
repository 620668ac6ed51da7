//! Maps across processes against real HAProxy: concurrent atomic replaces
//! never both report success while the processes hold different contents,
//! and `show map` lines whose key or value holds a blank are never split
//! silently.

use haproxy_admin::{EntryRef, Error, HAProxy, MapRef};
use haproxy_e2e::{Fleet, Options, Topology};
use std::sync::Barrier;

fn fleet(instances: usize) -> Fleet {
    Fleet::start(Options {
        instances,
        topology: Topology::standard(),
        ..Options::default()
    })
}

/// The map's keys and values in one process, read without our libraries.
fn contents(i: &haproxy_e2e::Instance, map: &str) -> Vec<String> {
    let mut v: Vec<String> = i
        .raw(&format!("show map {map}"))
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn concurrent_replaces_never_both_succeed_with_diverged_processes() {
    let f = fleet(3);
    let map_path = f.map_file().to_string_lossy().into_owned();
    let map = MapRef::File(&map_path);
    let a: Vec<(String, String)> = (0..200)
        .map(|n| (format!("a{n}.example"), "be_app".to_owned()))
        .collect();
    let b: Vec<(String, String)> = (0..200)
        .map(|n| (format!("b{n}.example"), "be_static".to_owned()))
        .collect();
    let a_ref: Vec<(&str, &str)> = a.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let b_ref: Vec<(&str, &str)> = b.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (mut diverged_rounds, mut both_ok, mut one_failed) = (0, 0, 0);
    let (mut by_check, mut by_refusal) = (0, 0);
    for round in 0..25 {
        let barrier = Barrier::new(2);
        let run = |entries: &[(&str, &str)]| {
            let hap = HAProxy::from_dir(f.socket_dir()).expect("discover");
            barrier.wait();
            hap.replace_map(map, entries)
        };
        let (ra, rb) = std::thread::scope(|s| {
            let run = &run;
            let ha = s.spawn(|| run(&a_ref));
            let hb = s.spawn(|| run(&b_ref));
            (
                ha.join().expect("replace A thread"),
                hb.join().expect("replace B thread"),
            )
        });
        let per: Vec<Vec<String>> = f
            .instances()
            .iter()
            .map(|i| contents(i, &map_path))
            .collect();
        let same = per.windows(2).all(|w| w[0] == w[1]);
        if !same {
            diverged_rounds += 1;
            assert!(
                ra.is_err() || rb.is_err(),
                "round {round}: both replaces returned Ok, but the processes hold different maps"
            );
        }
        for r in [&ra, &rb] {
            if let Err(e) = r {
                // The error names the processes involved.
                let text = e.to_string();
                assert!(
                    matches!(
                        e,
                        Error::MapDiverged { .. }
                            | Error::Partial { .. }
                            | Error::CommandFailed { .. }
                    ),
                    "round {round}: unexpected error {e:?}"
                );
                assert!(text.contains(".sock"), "names no process: {text}");
                if matches!(e, Error::MapDiverged { .. }) {
                    by_check += 1;
                } else {
                    by_refusal += 1;
                }
            }
        }
        if ra.is_ok() && rb.is_ok() {
            both_ok += 1;
            assert!(same, "round {round}");
        } else {
            one_failed += 1;
        }
        // Every process holds one of the two contents, whole.
        for p in &per {
            assert!(
                p.len() == 200,
                "round {round}: a mix of A and B: {} entries",
                p.len()
            );
        }
    }
    eprintln!(
        "25 rounds of two concurrent replaces over 3 processes: {diverged_rounds} ended diverged \
         (each reported), {one_failed} with a failure, {both_ok} with both Ok and one content; \
         failures: {by_check} found by the version check, {by_refusal} by a refused command"
    );
}

#[test]
fn show_map_lines_with_blanks_are_resolved_not_split() {
    let f = fleet(2);
    let map_path = f.map_file().to_string_lossy().into_owned();
    let map = MapRef::File(&map_path);
    let hap = HAProxy::from_dir(f.socket_dir()).expect("discover");
    hap.add_map(map, "sp ace", "val x")
        .expect("add a key with a blank");
    hap.add_map(map, "plain", "two words")
        .expect("add a value with a blank");
    for i in f.instances() {
        let raw = i.raw(&format!("show map {map_path}"));
        assert!(
            raw.contains(" sp ace val x\n"),
            "HAProxy lists it unescaped: {raw}"
        );
    }
    for (_, entries) in hap.map_entries(map).expect("entries") {
        let find = |k: &str| entries.iter().find(|e| e.key == k);
        let e = find("sp ace").unwrap_or_else(|| panic!("`sp ace` not resolved: {entries:?}"));
        assert_eq!(e.value.as_deref(), Some("val x"));
        let e = find("plain").unwrap_or_else(|| panic!("`plain` missing: {entries:?}"));
        assert_eq!(e.value.as_deref(), Some("two words"));
        assert!(find("sp").is_none(), "split silently: {entries:?}");
        assert!(find("example.com").is_some());
    }
    // And the entry is addressable by what was resolved.
    hap.set_map(map, EntryRef::Key("sp ace"), "other")
        .expect("set by the resolved key");
    for i in f.instances() {
        assert!(contents(i, &map_path).contains(&"sp ace other".to_owned()));
    }
}

/// Two entries that print alike: key `a b` → value `c`, and key `a` →
/// value `b c` both print as `a b c`. Each reading of each line is
/// confirmed by `get map` (both keys exist, each with its value), so
/// neither line can be attributed: both are reported as ambiguous — by
/// the library (`Entry::ambiguous`, the whole text as `key`, no value),
/// in the CLI's JSON (`"ambiguous": true`), and on stderr beside the
/// table — never split into a guessed key and value.
#[test]
fn entries_that_print_alike_are_reported_ambiguous_not_split() {
    let f = fleet(2);
    let map_path = f.map_file().to_string_lossy().into_owned();
    let map = MapRef::File(&map_path);
    let hap = HAProxy::from_dir(f.socket_dir()).expect("discover");
    hap.add_map(map, "a b", "c").expect("add `a b` → `c`");
    hap.add_map(map, "a", "b c").expect("add `a` → `b c`");
    for i in f.instances() {
        assert_eq!(
            i.raw(&format!("show map {map_path}"))
                .matches(" a b c\n")
                .count(),
            2,
            "HAProxy prints both alike"
        );
    }
    for (pid, entries) in hap.map_entries(map).expect("entries") {
        let alike: Vec<_> = entries.iter().filter(|e| e.key.starts_with('a')).collect();
        assert_eq!(alike.len(), 2, "{pid:?}: {entries:?}");
        for e in alike {
            assert!(e.ambiguous, "{pid:?}: not reported ambiguous: {e:?}");
            assert_eq!(e.key, "a b c", "{pid:?}: split by guess: {e:?}");
            assert_eq!(e.value, None, "{pid:?}: {e:?}");
        }
        let plain = entries.iter().find(|e| e.key == "example.com");
        assert!(
            plain.is_some_and(|e| !e.ambiguous && e.value.as_deref() == Some("be_app")),
            "{entries:?}"
        );
    }
    // The CLI.
    let dir = f.socket_dir().to_string_lossy().into_owned();
    let run = |format: &str| {
        let o = std::process::Command::new(crate::cli::cli())
            .args([
                "--socket-dir",
                &dir,
                "map",
                "show",
                &map_path,
                "--format",
                format,
            ])
            .env_remove("HAPROXY_CLI_SOCKET_DIR")
            .output()
            .expect("run haproxy-cli");
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (json, _) = run("json");
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let alike: Vec<&serde_json::Value> = json
        .as_array()
        .expect("an array")
        .iter()
        .filter(|e| e["key"] == "a b c")
        .collect();
    assert_eq!(alike.len(), 2, "{json}");
    for e in alike {
        assert_eq!(e["ambiguous"], true, "{e}");
        assert!(e["value"].is_null(), "{e}");
    }
    assert!(
        !json
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["key"] == "a" || e["key"] == "a b")),
        "split by guess: {json}"
    );
    for format in ["table", "csv"] {
        let (out, err) = run(format);
        assert!(out.contains("a b c"), "{format}: {out}");
        assert!(
            err.contains("warning: map entry `a b c` is ambiguous"),
            "{format}: the ambiguity is said: {err:?}"
        );
    }
}
