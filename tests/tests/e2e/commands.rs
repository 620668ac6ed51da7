//! The command builder and the reply classifier against real HAProxy:
//! hostile arguments either are refused before sending or reach HAProxy as
//! one literal value — read back byte for byte — and nothing else changes;
//! HAProxy's real replies are classified right.

use haproxy_e2e::{Fleet, Instance, Options, Topology};
use haproxy_proto::command::{Command, EntryRef, MapRef};
use haproxy_proto::error::ArgErrorKind;
use haproxy_proto::reply::classify;
use haproxy_transport::{Client, Endpoint};

fn fleet() -> Fleet {
    Fleet::start(Options {
        instances: 1,
        topology: Topology::standard(),
        ..Options::default()
    })
}

fn send(i: &Instance, c: &Command) -> String {
    let client = Client::new(Endpoint::unix(&i.socket));
    let reply = match c.payload() {
        Some(p) => client.command_with_payload(c.line(), p),
        None => client.command(c.line()),
    }
    .unwrap_or_else(|e| panic!("{}: {e}", c.line()));
    classify(&reply).unwrap_or_else(|e| panic!("{}: {e}", c.line()));
    reply
}

/// Everything a smuggled command could change: every server's status and
/// weight, every frontend's status, global maxconn, and the other map and
/// ACL contents (entry ids removed).
fn state(i: &Instance, map: &str, acl: &str) -> String {
    let stat = i.raw("show stat");
    let mut out: Vec<String> = stat
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let (px, sv) = (f[0], f.get(1).copied().unwrap_or(""));
            let status = f.get(17).copied().unwrap_or("");
            let weight = f.get(18).copied().unwrap_or("");
            // pxname, svname, status (17), weight (18). Health checks move
            // a checked server between UP and DOWN on their own (and the
            // backend's weight with it), so of those only the
            // administrative part is compared.
            let status = if status.contains("MAINT") || status.contains("DRAIN") {
                status
            } else if status.starts_with("UP") || status.starts_with("DOWN") {
                "checked"
            } else {
                status
            };
            let weight = if sv == "BACKEND" { "" } else { weight };
            format!("{px} {sv} {status} {weight}")
        })
        .collect();
    let info = i.raw("show info");
    out.extend(
        info.lines()
            .filter(|l| l.starts_with("Maxconn:"))
            .map(str::to_owned),
    );
    for (what, file) in [("map", map), ("acl", acl)] {
        let entries = i.raw(&format!("show {what} {file}"));
        out.extend(
            entries
                .lines()
                .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_owned()),
        );
    }
    out.join("\n")
}

const HOSTILE: &[&str] = &[
    "a;b",
    "x; clear map ",
    "x;shutdown frontend fe_http",
    "x ; set weight be_static/s1 0",
    " leading",
    "trailing ",
    "  both  ",
    "tab\there",
    r"back\slash",
    r"trailing\",
    r"\;",
    "\"quoted\"",
    "'single'",
    "#hash",
    "$dollar",
    "unicode é ü 日本",
    "a  b   c",
];

#[test]
fn hostile_map_keys_and_values_are_stored_literally_or_refused() {
    let f = fleet();
    let i = &f.instances()[0];
    let map = f.map_file().to_string_lossy().into_owned();
    let acl = f.acl_file().to_string_lossy().into_owned();
    let long = "v".repeat(200);
    let mut values: Vec<String> = HOSTILE.iter().map(|s| (*s).to_owned()).collect();
    values.push(long);
    values.push(format!("{} ;clear acl {acl}", "z".repeat(20)));
    let initial = state(i, &map, &acl);
    let mut kept_by_hash = 0;
    for (n, v) in values.iter().enumerate() {
        // As a value (with a plain key), then as a key (with a plain value).
        for (key, value) in [
            (format!("k{n}.example"), v.clone()),
            (v.clone(), format!("val{n}")),
        ] {
            let before = state(i, &map, &acl);
            let add = match Command::add_map(MapRef::File(&map), &key, &value) {
                Ok(c) => c,
                Err(e) => panic!("carriable input refused: {key:?} {value:?}: {e}"),
            };
            send(i, &add);
            // Read back: get map finds exactly that key and value.
            let get = Command::get_map(MapRef::File(&map), &key).expect("get");
            let reply = send(i, &get);
            let lookups = haproxy_proto::parse_lookup(&reply).expect("lookup parses");
            assert_eq!(lookups.len(), 1, "{reply}");
            assert!(lookups[0].found, "{key:?}: {reply}");
            assert_eq!(lookups[0].key, Some(key.as_str()), "{reply}");
            assert_eq!(lookups[0].value, Some(value.as_str()), "{reply}");
            // Nothing else changed: the new entry is the only difference.
            let after = state(i, &map, &acl);
            let extra: Vec<&str> = after
                .lines()
                .filter(|l| !before.lines().any(|b| b == *l))
                .collect();
            assert_eq!(extra.len(), 1, "only the new entry: {extra:?}");
            assert_eq!(after.lines().count(), before.lines().count() + 1);
            // And it goes away by key, alone.
            if key.starts_with('#') {
                kept_by_hash += 1;
            } else {
                send(
                    i,
                    &Command::del_map(MapRef::File(&map), EntryRef::Key(&key)).expect("del"),
                );
                assert_eq!(state(i, &map, &acl), before, "{key:?}");
            }
        }
    }
    // Every entry went away by its key but the one whose key starts with
    // '#' (below): the map holds what it held and that one more.
    assert_eq!(kept_by_hash, 1);
    let after = state(i, &map, &acl);
    assert_eq!(
        after.lines().count(),
        initial.lines().count() + 1,
        "{after}"
    );
    assert!(after.lines().any(|l| l.starts_with("#hash val")), "{after}");
    // A key starting with '#' cannot be deleted by key (HAProxy would read
    // an entry id): refused, with the reason.
    let e = Command::del_map(MapRef::File(&map), EntryRef::Key("#hash")).expect_err("refused");
    assert!(matches!(e.kind, ArgErrorKind::Invalid { .. }), "{e}");
}

#[test]
fn control_characters_are_refused_before_sending() {
    let f = fleet();
    let i = &f.instances()[0];
    let map = f.map_file().to_string_lossy().into_owned();
    let acl = f.acl_file().to_string_lossy().into_owned();
    let before = state(i, &map, &acl);
    for bad in [
        "v\nshutdown frontend fe_http",
        "v\rshutdown frontend fe_http",
        "v\0x",
        "v\u{1b}[2J",
        "\n",
    ] {
        let e = Command::add_map(MapRef::File(&map), "k", bad).expect_err("refused");
        assert_eq!(e.argument, "value");
        assert!(
            matches!(e.kind, ArgErrorKind::ControlCharacter { .. }),
            "{e}"
        );
        let e = Command::add_map(MapRef::File(&map), bad, "v").expect_err("refused");
        assert_eq!(e.argument, "key");
        assert!(Command::add_acl(MapRef::File(&acl), bad).is_err());
        assert!(Command::raw(&format!("show info{bad}")).is_err());
        assert!(Command::add_map_bulk(MapRef::File(&map), None, &[("k", bad)]).is_err());
    }
    // The transport refuses such a line too (defence in depth).
    let err = Client::new(Endpoint::unix(&i.socket))
        .command("show info\nshutdown frontend fe_http")
        .expect_err("refused");
    assert!(err.to_string().contains("line break"), "{err}");
    assert_eq!(state(i, &map, &acl), before);
    assert!(i.raw("show stat").contains("\nfe_http,FRONTEND,"));
    assert!(!i.raw("show stat").contains(",STOP,"));
}

#[test]
fn names_and_addresses_cannot_carry_a_second_command() {
    let f = fleet();
    let i = &f.instances()[0];
    let map = f.map_file().to_string_lossy().into_owned();
    let acl = f.acl_file().to_string_lossy().into_owned();
    let before = state(i, &map, &acl);
    for server in [
        "s1;set weight be_static/s2 0",
        "s1 0",
        "s1\tx",
        "s1\n",
        "s1/x",
        "",
        "s1;",
    ] {
        let e = Command::set_weight("be_static", server, 5).expect_err(server);
        assert_eq!(e.argument, "server", "{e}");
    }
    for backend in ["be_static;clear counters all", "be static", "be_static/s1"] {
        assert!(Command::set_weight(backend, "s1", 5).is_err(), "{backend}");
        assert!(Command::disable_frontend(backend).is_err(), "{backend}");
    }
    for addr in [
        "127.0.0.1;shutdown frontend fe_http",
        "127.0.0.1 port 1",
        "1.2.3.4\n",
        "",
        "a b",
    ] {
        assert!(
            Command::set_server_addr("be_static", "s1", addr, None).is_err(),
            "{addr:?}"
        );
    }
    assert!(Command::set_weight("be_static", "s1", 257).is_err());
    assert_eq!(state(i, &map, &acl), before, "nothing was sent");
    // The accepted forms work.
    send(i, &Command::set_weight("be_static", "s1", 256).expect("ok"));
    assert!(i.raw("get weight be_static/s1").starts_with("256 "));
    send(
        i,
        &Command::set_server_addr("be_static", "s2", "::1", Some(8080)).expect("ok"),
    );
    assert!(i.raw("show stat").contains(",[::1]:8080,"));
}

#[test]
fn hostile_acl_patterns_and_bulk_payloads() {
    let f = fleet();
    let i = &f.instances()[0];
    let map = f.map_file().to_string_lossy().into_owned();
    let acl = f.acl_file().to_string_lossy().into_owned();
    // The ACL file is `src` (IP patterns); a string ACL is what these
    // need, so use the map's patterns as a `str` ACL is not configured:
    // add to the IP ACL only what parses as an address, with escapes.
    for p in ["10.1.2.3", "10.0.0.0/8", "::1"] {
        send(i, &Command::add_acl(MapRef::File(&acl), p).expect("ok"));
        let r = send(
            i,
            &Command::get_acl(MapRef::File(&acl), p.split('/').next().unwrap_or(p)).expect("ok"),
        );
        assert!(r.contains("match=yes"), "{p}: {r}");
    }
    // A pattern HAProxy cannot parse as an IP: HAProxy's own refusal.
    let c = Command::add_acl(MapRef::File(&acl), "x;clear map x").expect("escaped");
    let reply = Client::new(Endpoint::unix(&i.socket))
        .command(c.line())
        .expect("answered");
    // HAProxy quotes the value it got: one literal word, `;` included.
    assert!(
        reply.starts_with("'x;clear map x' is not a valid"),
        "{reply}"
    );
    assert!(
        classify(&reply).is_err(),
        "classified as a failure: {reply}"
    );

    // Bulk: entries the payload can carry arrive exactly; the others are
    // refused with their index.
    let entries: Vec<(String, String)> = (0..500)
        .map(|n| {
            (
                format!("bulk{n}.example"),
                format!("v {n};x\\y 'q' \"d\"  "),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send(
        i,
        &Command::add_map_bulk(MapRef::File(&map), None, &pairs).expect("bulk"),
    );
    for (k, v) in entries.iter().step_by(97) {
        let r = send(i, &Command::get_map(MapRef::File(&map), k).expect("get"));
        let l = haproxy_proto::parse_lookup(&r).expect("parses");
        assert_eq!(l[0].value, Some(v.as_str()), "{k}");
    }
    let e = Command::add_map_bulk(MapRef::File(&map), None, &[("ok", "1"), ("bad key", "2")])
        .expect_err("refused");
    assert!(e.value.starts_with("entry 1"), "{e}");
}

#[test]
fn real_replies_are_classified_right() {
    let f = fleet();
    let i = &f.instances()[0];
    let map = f.map_file().to_string_lossy().into_owned();
    let failing = [
        "get weight nosuch/x".to_owned(),
        "get weight be_static/nosuch".to_owned(),
        "set weight be_static/s1 300".to_owned(),
        "show map #999".to_owned(),
        format!("del map {map} #0x1"),
        format!("del map {map} no.such.key"),
        "set server be_static/s1 agent up".to_owned(),
        "disable frontend nosuch".to_owned(),
        "set maxconn frontend nosuch 10".to_owned(),
        "set server be_static/s1 state bogus".to_owned(),
        "foo".to_owned(),
    ];
    for cmd in &failing {
        let reply = i.raw(cmd);
        match classify(&reply) {
            Err(e) => assert_eq!(e.message, reply, "verbatim"),
            Ok(_) => panic!("`{cmd}` classified as success: {reply:?}"),
        }
    }
    let succeeding = [
        "set weight be_static/s1 10".to_owned(),
        "get weight be_static/s1".to_owned(),
        "show stat".to_owned(),
        "show info".to_owned(),
        "show info typed".to_owned(),
        "show stat typed".to_owned(),
        format!("show map {map}"),
        format!("get map {map} example.com"),
        format!("get map {map} absent"),
        "show map".to_owned(),
        "show acl".to_owned(),
        "show servers state".to_owned(),
        "show errors".to_owned(),
        "set server be_static/s1 addr 127.0.0.1 port 9".to_owned(),
        "set server be_static/s1 state drain".to_owned(),
        "set server be_static/s1 state ready".to_owned(),
        "clear counters".to_owned(),
        format!("prepare map {map}"),
    ];
    for cmd in &succeeding {
        let reply = i.raw(cmd);
        assert!(
            classify(&reply).is_ok(),
            "`{cmd}` classified as failure: {reply:?}"
        );
    }
    let r = i.raw("set server be_static/s1 addr 127.0.0.2");
    let ok = classify(&r).expect("success");
    assert!(
        ok.notice.is_some_and(|n| n.starts_with("IP changed")),
        "{r}"
    );
}
