//! Stick tables on every process (issue 30): two instances share a
//! frontend that tracks the client in tables; real requests fill them on
//! both; `table show` combines, `table set` and `table clear` are read back
//! raw on each process.

use crate::certs::cli;
use haproxy_e2e::{free_port, Fleet, Options};
use serde_json::Value as Json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn get(port: u16) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("send");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read");
    assert!(
        reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200"),
        "{reply}"
    );
}

/// The value of `data` of `key` in a raw `show table` reply.
fn raw_value(reply: &str, key: &str, data: &str) -> Option<u64> {
    reply
        .lines()
        .find(|l| l.contains(&format!(" key={key} ")))?
        .split_ascii_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{data}=")))?
        .parse()
        .ok()
}

#[test]
fn tables_are_combined_across_processes_and_writes_read_back() {
    let port = free_port();
    let f = Fleet::start(Options {
        instances: 2,
        extra_config: format!(
            "frontend fe_st\n    bind 127.0.0.1:{port}\n    \
             tcp-request connection track-sc1 src table st_conn\n    \
             http-request track-sc0 src table st_src\n    \
             http-request return status 200 content-type text/plain string ok\n\
             backend st_src\n    stick-table type ip size 1k expire 10m store http_req_cnt,gpc0,gpt0\n\
             backend st_conn\n    stick-table type ip size 1k expire 10m store conn_cur\n\
             backend st_int\n    stick-table type integer size 1k expire 10m store gpc0\n"
        ),
        ..Options::default()
    });
    // Real traffic: the kernel spreads the connections over both
    // processes (they share the port); each counts its own.
    let n = 40;
    for _ in 0..n {
        get(port);
    }
    let counts: Vec<u64> = f
        .instances()
        .iter()
        .map(|i| raw_value(&i.raw("show table st_src"), "127.0.0.1", "http_req_cnt").unwrap_or(0))
        .collect();
    assert_eq!(counts.iter().sum::<u64>(), n, "{counts:?}");
    assert!(
        counts.iter().all(|c| *c > 0),
        "all {n} requests on one process: {counts:?}"
    );

    let o = cli(&f, &["table", "show", "st_src", "-o", "json"]);
    assert_eq!(o.code, 0, "{o:?}");
    let rows: Json = serde_json::from_str(&o.stdout).expect("JSON");
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["key"], "127.0.0.1");
    assert_eq!(rows[0]["pids"].as_array().map(Vec::len), Some(2));
    let data: Vec<(String, Json)> = serde_json::from_value(rows[0]["data"].clone()).expect("data");
    let of = |t: &str| data.iter().find(|(n, _)| n == t).map(|(_, v)| v.clone());
    assert_eq!(of("http_req_cnt"), Some(Json::from(n)), "{data:?}");
    assert_eq!(of("gpt0"), Some(Json::from("0")), "{data:?}");
    let o = cli(&f, &["table", "list", "-o", "json"]);
    let list: Json = serde_json::from_str(&o.stdout).expect("JSON");
    let st = list
        .as_array()
        .and_then(|l| l.iter().find(|t| t["table"] == "st_src"))
        .expect("st_src listed");
    assert_eq!(
        (
            st["type"].as_str(),
            st["used"].as_u64(),
            st["processes"].as_u64()
        ),
        (Some("ip"), Some(2), Some(2))
    );

    // A set, read back raw on each process.
    let o = cli(
        &f,
        &[
            "table",
            "set",
            "st_src",
            "10.0.0.1",
            "data.gpc0=5",
            "data.gpt0=3",
        ],
    );
    assert_eq!(o.code, 0, "{o:?}");
    for i in f.instances() {
        let r = i.raw("show table st_src key 10.0.0.1");
        assert_eq!(
            (
                raw_value(&r, "10.0.0.1", "gpc0"),
                raw_value(&r, "10.0.0.1", "gpt0")
            ),
            (Some(5), Some(3)),
            "{r}"
        );
    }
    // Keys the table's type cannot hold, and malformed data: nothing sent.
    for (args, says) in [
        (
            vec!["table", "set", "st_src", "10.0.0.256", "data.gpc0=1"],
            "IPv4",
        ),
        (
            vec!["table", "set", "st_int", "abc", "data.gpc0=1"],
            "0 to 4294967295",
        ),
        (
            vec!["table", "set", "st_src", "10.0.0.2", "data.gpc(0)=1"],
            "data type",
        ),
        (
            vec!["table", "set", "st_src", "10.0.0.2", "data.gpc0=x"],
            "data.TYPE=VALUE",
        ),
    ] {
        let o = cli(&f, &args);
        assert_eq!(o.code, 2, "{args:?}: {o:?}");
        assert!(o.stderr.contains(says), "{args:?}: {o:?}");
    }
    for i in f.instances() {
        assert!(!i.raw("show table st_int").contains("key="));
        assert!(!i.raw("show table st_src").contains("key=10.0.0.2 "));
    }
    let o = cli(&f, &["table", "set", "nosuch", "10.0.0.1", "data.gpc0=1"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("no stick table named `nosuch`"), "{o:?}");

    // A clear by key, read back raw on each process.
    let o = cli(&f, &["table", "clear", "st_src", "--key", "10.0.0.1"]);
    assert_eq!(o.code, 0, "{o:?}");
    for i in f.instances() {
        let r = i.raw("show table st_src");
        assert!(!r.contains("key=10.0.0.1 "), "{r}");
        assert!(r.contains("key=127.0.0.1 "), "only the key asked for: {r}");
    }
    // An entry a connection tracks survives a clear: HAProxy says
    // nothing, the read-back does.
    let mut held = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    haproxy_e2e::wait_until(
        Duration::from_secs(5),
        "the held connection tracked",
        || {
            f.instances().iter().any(|i| {
                raw_value(&i.raw("show table st_conn"), "127.0.0.1", "conn_cur") == Some(1)
            })
        },
    );
    let o = cli(&f, &["table", "clear", "st_conn", "--all"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains("left after the clear") && o.stderr.contains("key 127.0.0.1 in use by 1"),
        "{o:?}"
    );
    held.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("send");
    let mut reply = String::new();
    held.read_to_string(&mut reply).expect("read");
    drop(held);
    haproxy_e2e::wait_until(Duration::from_secs(5), "the connection released", || {
        f.instances().iter().all(|i| {
            !i.raw("show table st_conn")
                .lines()
                .any(|l| l.contains(" use=1 "))
        })
    });
    let o = cli(&f, &["table", "clear", "st_conn", "--all"]);
    assert_eq!(o.code, 0, "{o:?}");
    for i in f.instances() {
        assert!(!i.raw("show table st_conn").contains("key="));
    }
}
