//! A fleet mid-upgrade: one instance of every HAProxy version of the
//! matrix (2.6, 3.0, 3.2, 3.4), the same proxies, one socket directory.
//! Listings, writes and maps work across all of them; what only some
//! versions have (columns, `show info` fields) is shown per process, never
//! summed over the processes that have it; `metric Version` reports the
//! disagreement.
//!
//! Needs the matrix's binaries: `cargo xtask test` (and `ci`) fetch them
//! and set `HAPROXY_MATRIX`; by hand, `cargo xtask haproxy` writes
//! `target/haproxy/READY`, which the harness reads. Without them the test
//! fails saying so.

use crate::cli::cli;
use haproxy_admin::{HAProxy, MapRef, ObjectKind};
use haproxy_e2e::{haproxy_matrix, version_triple, Fleet, Options};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli_in(dir: &Path, args: &[&str]) -> Out {
    let o = Command::new(cli())
        .arg("--socket-dir")
        .arg(dir)
        .args(args)
        .env_remove("HAPROXY_CLI_SOCKET_DIR")
        .output()
        .expect("run haproxy-cli");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn ok_json(dir: &Path, args: &[&str]) -> Json {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let o = cli_in(dir, &all);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "{args:?}: {o:?}");
    serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", o.stdout))
}

/// Field `column` of `px/sv` in a raw `show stat`, `None` when the column
/// is not in this version's header.
fn stat(reply: &str, px: &str, sv: &str, column: &str) -> Option<String> {
    haproxy_e2e::stat_field(reply, px, sv, column).map(str::to_owned)
}

/// The values of a `{"disagreement": [...]}`, in process order.
fn per_process<'a>(v: &'a Json, what: &str) -> Vec<&'a Json> {
    v["disagreement"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: every process's value expected, got {v}"))
        .iter()
        .map(|e| &e["value"])
        .collect()
}

/// The matrix's binaries, oldest first, one per release line.
fn versions() -> Vec<(String, PathBuf)> {
    let mut m = haproxy_matrix();
    m.dedup_by_key(|(v, _)| {
        let (a, b, _) = version_triple(v);
        (a, b)
    });
    assert!(
        m.len() >= 2,
        "a mixed fleet needs two HAProxy lines or more, found {m:?}: run `cargo xtask haproxy` \
         or `cargo xtask test --haproxy all`"
    );
    m
}

#[test]
fn mixed_fleet_of_every_version() {
    let versions = versions();
    let n = versions.len();
    let bins: Vec<PathBuf> = versions.iter().map(|(_, b)| b.clone()).collect();
    let f = Fleet::start_mixed(
        Options {
            instances: n,
            ..Options::default()
        },
        &bins,
    );
    let dir = f.socket_dir();
    for (i, (v, _)) in f.instances().iter().zip(&versions) {
        assert_eq!(i.version(), *v);
        assert!(i.raw("show info").contains(&format!("\nVersion: {v}\n")));
    }
    Fleet::wait_until(Duration::from_secs(10), "checks settle", || {
        f.instances().iter().all(|i| {
            let s = i.raw("show stat");
            stat(&s, "be_app", "app1", "status").as_deref() == Some("UP")
                && stat(&s, "be_app", "app2", "status").as_deref() == Some("DOWN")
        })
    });
    let raw: Vec<String> = f.instances().iter().map(|i| i.raw("show stat")).collect();

    // Listings: every object of the shared proxies, once, with every
    // process behind it.
    let servers = ok_json(&dir, &["server", "list"]);
    let servers = servers.as_array().expect("array");
    assert_eq!(servers.len(), 9, "be_app 6, be_static 2, be_tcp 1");
    let s1 = servers
        .iter()
        .find(|s| s["backend"] == "be_static" && s["name"] == "s1")
        .expect("s1");
    assert!(s1.get("processes").is_none(), "every process has s1: {s1}");
    assert_eq!(s1["weight"], 10);
    assert_eq!(s1["status"], "no check");
    let app2 = servers.iter().find(|s| s["name"] == "app2").expect("app2");
    assert_eq!(app2["status"], "DOWN");
    assert_eq!(app2["check_status"], "L4CON");
    for (kind, count) in [("frontend", 3), ("backend", 4)] {
        let l = ok_json(&dir, &[kind, "list"]);
        let l = l.as_array().expect("array");
        assert_eq!(l.len(), count, "{kind}: {l:?}");
        assert!(
            l.iter().all(|o| o.get("processes").is_none()),
            "{kind}: {l:?}"
        );
    }

    // A column every version has is combined; one only some versions have
    // is every process's value, `null` for the processes without it.
    let fe = ok_json(&dir, &["frontend", "show", "fe_http"]);
    let has = |px: &str, sv: &str, column: &str| -> Vec<bool> {
        raw.iter()
            .map(|r| stat(r, px, sv, column).is_some_and(|v| !v.is_empty()))
            .collect()
    };
    assert!(has("be_static", "s1", "stot").iter().all(|h| *h));
    assert!(s1["stot"].is_u64(), "{s1}");
    assert!(
        fe["h1_open_connections"].is_u64(),
        "2.6 has the h1 module: {fe}"
    );
    let mut partial_columns = Vec::new();
    for (obj, px, sv, column) in [
        (s1, "be_static", "s1", "srid"),
        (s1, "be_static", "s1", "reqbin"),
        (&fe, "fe_http", "FRONTEND", "h3_data"),
        (&fe, "fe_http", "FRONTEND", "quic_rxbuf_full"),
        (&fe, "fe_http", "FRONTEND", "ssl_sess"),
    ] {
        let h = has(px, sv, column);
        if h.iter().all(|x| *x) || h.iter().all(|x| !*x) {
            continue;
        }
        partial_columns.push(column);
        let values = per_process(&obj[column], column);
        assert_eq!(values.len(), n, "{column}: {values:?}");
        for (value, has) in values.iter().zip(&h) {
            assert_eq!(!value.is_null(), *has, "{column}: {values:?} vs {h:?}");
        }
    }
    assert!(
        partial_columns.contains(&"srid") && partial_columns.contains(&"h3_data"),
        "srid (2.8+) and h3_data (3.0+) at least: {partial_columns:?}"
    );

    // `show info`: fields of every version combined; fields of some
    // versions per process; `Version` disagrees and says so.
    let info = ok_json(&dir, &["info"]);
    assert_eq!(info["Maxconn"], 4000 * n as u64, "{info}");
    let vs: Vec<String> = per_process(&info["Version"], "Version")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect();
    let want: Vec<String> = versions.iter().map(|(v, _)| v.clone()).collect();
    let mut sorted = vs.clone();
    sorted.sort_by_key(|v| version_triple(v));
    assert_eq!(sorted, want);
    let infos: Vec<String> = f.instances().iter().map(|i| i.raw("show info")).collect();
    let field_in = |name: &str| -> Vec<bool> {
        infos
            .iter()
            .map(|t| t.lines().any(|l| l.starts_with(&format!("{name}: "))))
            .collect()
    };
    let mut partial_fields = 0;
    for name in [
        "TotalWarnings",
        "CumStreams",
        "PatternsAdded",
        "TotalSplicdedBytesOut",
    ] {
        let h = field_in(name);
        if h.iter().all(|x| *x) || h.iter().all(|x| !*x) {
            continue;
        }
        partial_fields += 1;
        let values = per_process(&info[name], name);
        assert_eq!(values.len(), n);
        for (value, has) in values.iter().zip(&h) {
            assert_eq!(!value.is_null(), *has, "{name}: {values:?} vs {h:?}");
        }
    }
    assert!(partial_fields >= 1, "3.0's fields are not in 2.6");
    let o = cli_in(&dir, &["metric", "Version"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stdout.is_empty(), "{o:?}");
    for v in &want {
        assert!(o.stderr.contains(v.as_str()), "{v} in {o:?}");
    }
    assert_eq!(
        cli_in(&dir, &["metric", "Maxconn"]).stdout.trim(),
        (4000 * n).to_string()
    );

    // Writes land on every instance, whatever its version.
    let set = |args: &[&str]| {
        let o = cli_in(&dir, args);
        assert_eq!(
            (o.code, o.stdout.as_str(), o.stderr.as_str()),
            (0, "", ""),
            "{args:?}: {o:?}"
        );
    };
    let everywhere = |px: &str, sv: &str, column: &str| -> Vec<String> {
        f.instances()
            .iter()
            .map(|i| stat(&i.raw("show stat"), px, sv, column).unwrap_or_default())
            .collect()
    };
    set(&["server", "set-weight", "be_static/s1", "7"]);
    assert_eq!(everywhere("be_static", "s1", "weight"), vec!["7"; n]);
    set(&["server", "drain", "be_static/s2"]);
    assert_eq!(everywhere("be_static", "s2", "status"), vec!["DRAIN"; n]);
    set(&["server", "maint", "be_static/s2"]);
    assert_eq!(everywhere("be_static", "s2", "status"), vec!["MAINT"; n]);
    set(&["server", "ready", "be_static/s2"]);
    assert_eq!(everywhere("be_static", "s2", "status"), vec!["no check"; n]);
    set(&["server", "set-addr", "be_static/s2", "127.0.0.2", "8081"]);
    assert_eq!(
        everywhere("be_static", "s2", "addr"),
        vec!["127.0.0.2:8081"; n]
    );
    set(&["server", "set-health", "be_app/app2", "up"]);
    assert_eq!(everywhere("be_app", "app2", "status"), vec!["UP"; n]);
    set(&["frontend", "set-maxconn", "fe_http", "55"]);
    assert_eq!(everywhere("fe_http", "FRONTEND", "slim"), vec!["55"; n]);
    set(&["global", "set-maxconn", "3000"]);
    assert_eq!(
        cli_in(&dir, &["metric", "Maxconn"]).stdout.trim(),
        (3000 * n).to_string()
    );
    // HAProxy's refusal, worded alike by every version, names each process.
    let o = cli_in(&dir, &["server", "set-weight", "be_static/nosuch", "1"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("No such server"), "{o:?}");

    // Maps and ACLs: add, set, del, atomic replace, on every version.
    let map = f.map_file().to_string_lossy().into_owned();
    let acl = f.acl_file().to_string_lossy().into_owned();
    let shown = |what: &str, file: &str| -> Vec<String> {
        f.instances()
            .iter()
            .map(|i| {
                let mut l: Vec<String> = i
                    .raw(&format!("show {what} {file}"))
                    .lines()
                    .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest.to_owned()))
                    .collect();
                l.sort();
                l.join("\n")
            })
            .collect()
    };
    set(&["map", "add", &map, "mixed.example", "be_static"]);
    set(&["map", "set", &map, "mixed.example", "be_app"]);
    assert!(shown("map", &map)
        .iter()
        .all(|s| s.contains("mixed.example be_app")));
    set(&["map", "del", &map, "mixed.example"]);
    assert!(shown("map", &map)
        .iter()
        .all(|s| !s.contains("mixed.example")));
    let file = f.dir().join("replace.map");
    std::fs::write(&file, "a.example be_a\nb.example be_b\n").expect("write map");
    set(&["map", "replace", &map, &file.to_string_lossy()]);
    assert_eq!(
        shown("map", &map),
        vec!["a.example be_a\nb.example be_b"; n]
    );
    let got = ok_json(&dir, &["map", "get", &map, "b.example"]);
    // Every process answers alike: one lookup.
    assert_eq!(got.as_array().map(Vec::len), Some(1), "{got}");
    assert_eq!(
        (&got[0]["found"], &got[0]["value"]),
        (&Json::Bool(true), &Json::from("be_b"))
    );
    set(&["acl", "add", &acl, "203.0.113.5"]);
    assert!(shown("acl", &acl).iter().all(|s| s.contains("203.0.113.5")));
    set(&["acl", "del", &acl, "203.0.113.5"]);
    assert!(shown("acl", &acl)
        .iter()
        .all(|s| !s.contains("203.0.113.5")));

    // The library over the same fleet: dynamic servers and an atomic map
    // replace through prepare/commit on every version.
    let hap = HAProxy::from_dir(&dir).expect("discovery");
    assert_eq!(hap.processes().len(), n, "skipped: {:?}", hap.skipped());
    hap.add_server("be_static", "dyn1", "127.0.0.1:9", &[])
        .expect("add server on every version");
    assert_eq!(everywhere("be_static", "dyn1", "status"), vec!["MAINT"; n]);
    hap.del_server("be_static", "dyn1").expect("del server");
    assert!(f
        .instances()
        .iter()
        .all(|i| stat(&i.raw("show stat"), "be_static", "dyn1", "status").is_none()));
    hap.replace_map(MapRef::File(&map), &[("c.example", "be_c")])
        .expect("replace map");
    assert_eq!(shown("map", &map), vec!["c.example be_c"; n]);
    let snap = hap.snapshot().expect("snapshot");
    assert_eq!(snap.process_ids().len(), n);
    assert!(snap.version().is_err(), "versions differ");
    assert_eq!(snap.stat_objects(ObjectKind::Server).len(), 9);
}

/// `check` on a consistent fleet of every version: the versions differ
/// (they must be reported), the maps and ACLs do not — they are compared
/// by file, not by the ids each version numbers them with, and anonymous
/// ACLs are not compared — whatever the raw ids say.
#[test]
fn check_compares_maps_by_file_across_versions() {
    let versions = versions();
    let bins: Vec<PathBuf> = versions.iter().map(|(_, b)| b.clone()).collect();
    let f = Fleet::start_mixed(
        Options {
            instances: versions.len(),
            ..Options::default()
        },
        &bins,
    );
    let hap = haproxy_admin::HAProxy::from_dir(f.socket_dir()).expect("discovery");
    let snap = hap.snapshot().expect("snapshot");
    let differences = || -> Vec<String> {
        hap.differences(&snap)
            .expect("differences")
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let d = differences();
    assert!(
        d.iter().any(|d| d.starts_with("show info Version:")),
        "{d:?}"
    );
    assert!(
        !d.iter()
            .any(|d| d.starts_with("map") || d.starts_with("acl")),
        "{d:?}"
    );
    // An entry that differs is still found, by file, on every version.
    let map = f.map_file();
    let r = f.instances()[0].raw(&format!("add map {} v.example be_tcp", map.display()));
    assert!(r.trim().is_empty(), "{r}");
    let d = differences();
    let want = format!("map {} entry v.example:", map.display());
    assert!(d.iter().any(|d| d.starts_with(&want)), "{d:?}");
}
