//! `haproxy-admin` against real HAProxy: one and three instances, objects
//! in varied states, disagreements, writes checked from outside, discovery
//! of live, stale and foreign sockets, master-worker.

use haproxy_admin::{
    Combined, EntryRef, Error, HAProxy, Health, MapRef, ObjectKind, State, Weight,
};
use haproxy_e2e::{Fleet, Level, MasterWorker, Options, Topology};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

// ---- helpers reading HAProxy from outside our library ------------------

/// Field `column` of record `(pxname, svname)` in a raw `show stat`.
fn raw_stat(reply: &str, pxname: &str, svname: &str, column: &str) -> String {
    haproxy_e2e::stat_field(reply, pxname, svname, column)
        .unwrap_or_else(|| panic!("no {column} of {pxname}/{svname} in show stat:\n{reply}"))
        .to_owned()
}

/// Field `name` of a raw `show info`.
fn raw_info(reply: &str, name: &str) -> String {
    reply
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
        .unwrap_or_else(|| panic!("no {name} in show info:\n{reply}"))
        .to_owned()
}

fn fleet(instances: usize) -> Fleet {
    Fleet::start(Options {
        instances,
        ..Options::default()
    })
}

/// Waits until the health checks have settled (app1 UP, app2 DOWN) in
/// every instance.
fn wait_checks(f: &Fleet) {
    Fleet::wait_until(
        Duration::from_secs(10),
        "app1 UP and app2 DOWN in every instance",
        || {
            f.instances().iter().all(|i| {
                let stat = i.raw("show stat");
                raw_stat(&stat, "be_app", "app1", "status") == "UP"
                    && raw_stat(&stat, "be_app", "app2", "status") == "DOWN"
                    && raw_stat(&stat, "be_app", "app4", "status") == "UP"
            })
        },
    );
}

fn from_fleet(f: &Fleet) -> HAProxy {
    let hap = HAProxy::from_dir(f.socket_dir()).expect("discovery finds the fleet");
    assert_eq!(
        hap.processes().len(),
        f.instances().len(),
        "skipped: {:?}",
        hap.skipped()
    );
    hap
}

fn status_text(s: &haproxy_admin::Server<'_>) -> String {
    s.status()
        .expect("status agrees")
        .expect("status present")
        .to_string()
}

// ---- parity, over 1 and 3 processes ------------------------------------

fn check_read_parity(instances: usize) {
    let f = fleet(instances);
    wait_checks(&f);
    let hap = from_fleet(&f);
    let snap = hap.snapshot().expect("snapshot");
    assert!(snap.failures().is_empty(), "{:?}", snap.failures());

    // HAProxy level.
    let mut pids: Vec<u32> = f.instances().iter().map(|i| i.pid).collect();
    pids.sort_unstable();
    let mut got = snap.process_ids();
    got.sort_unstable();
    assert_eq!(got, pids);
    assert!(snap.version().expect("one version").starts_with(&{
        let (a, b, c) = haproxy_e2e::haproxy_version();
        format!("{a}.{b}.{c}")
    }));
    snap.release_date().expect("release date agrees");
    snap.node_name().expect("node agrees");
    let per: u64 = f
        .instances()
        .iter()
        .map(|i| {
            raw_info(&i.raw("show info"), "Maxconn")
                .parse::<u64>()
                .expect("number")
        })
        .sum();
    assert_eq!(snap.maxconn().expect("maxconn"), per, "Maxconn is summed");
    assert_eq!(snap.info().len(), instances);
    // Uptime_sec works (haproxyadmin always raised) and is the smallest.
    let up = snap.metric("Uptime_sec").expect("Uptime_sec");
    assert!(up.as_u64().is_some(), "{up:?}");
    snap.uptime().expect("uptime");
    // Idle_pct is averaged, never summed past 100.
    let idle = snap
        .metric("Idle_pct")
        .expect("Idle_pct")
        .as_u64()
        .expect("number");
    assert!(idle <= 100, "Idle_pct {idle}");
    // A metric HAProxy does not print is a clear error.
    assert!(matches!(
        snap.metric("NoSuchMetric"),
        Err(Error::NoSuchField { .. })
    ));
    snap.rate_limit_conn().expect("ConnRateLimit");
    snap.rate_limit_sess().expect("SessRateLimit");
    snap.rate_limit_ssl_sess().expect("SslRateLimit");
    snap.total_requests().expect("CumReq");

    // Frontends.
    let names: Vec<&str> = snap.frontends().iter().map(|f| f.name()).collect();
    for want in ["fe_http", "fe_tcp"] {
        assert!(names.contains(&want), "{names:?}");
    }
    let fe = snap.frontend("fe_http").expect("fe_http");
    assert_eq!(
        fe.status().expect("agrees").expect("present").to_string(),
        "OPEN"
    );
    assert!(fe.iid().expect("iid agrees").is_some());
    assert!(fe.maxconn().expect("slim").is_some());
    assert_eq!(fe.requests_per_process().len(), instances);
    assert_eq!(fe.stats_per_process().len(), instances);
    assert!(fe.metric("scur").expect("scur").is_some());
    assert!(matches!(
        snap.frontend("nope"),
        Err(Error::NotFound {
            kind: "frontend",
            ..
        })
    ));

    // Backends.
    let be = snap.backend("be_app").expect("be_app");
    assert_eq!(be.servers().len(), 6);
    assert!(be.iid().expect("iid").is_some());
    assert_eq!(
        be.status().expect("agrees").expect("present").to_string(),
        "UP"
    );
    assert!(be.requests().is_some());
    assert!(matches!(
        be.server("nope"),
        Err(Error::NotFound { kind: "server", .. })
    ));

    // Servers in varied states.
    let states = [
        ("app1", "UP"),
        ("app2", "DOWN"),
        ("app3", "MAINT"),
        ("app4", "UP"),
        ("app6", "no check"),
    ];
    for (name, want) in states {
        let s = be.server(name).expect("server");
        assert_eq!(status_text(&s), want, "{name}");
        assert_eq!(s.backend(), "be_app");
    }
    let app1 = be.server("app1").expect("app1");
    assert!(app1.sid().expect("sid").is_some());
    // Each instance runs its own checks: with several, one may be mid-check
    // when the snapshot is taken, and then the check columns differ — data
    // (`InconsistentData`, every process's value), never a wrong value.
    let agrees_unless_mid_check = |r: Result<(), Error>, what: &str| match r {
        Ok(()) => {}
        Err(Error::InconsistentData { values, .. }) if instances > 1 => {
            assert_eq!(values.len(), instances, "{what}: {values:?}");
        }
        Err(e) => panic!("{what}: {e}"),
    };
    match app1.check_status() {
        Ok(check) => {
            let check = check.expect("present");
            assert!(check.result.is_ok(), "{check}");
            if check.to_string() == "L7OK" {
                assert_eq!(app1.check_code().expect("agrees"), Some(200));
            } else {
                agrees_unless_mid_check(app1.check_code().map(drop), "check_code");
            }
        }
        Err(e) => agrees_unless_mid_check(Err(e), "check_status"),
    }
    agrees_unless_mid_check(app1.last_status().map(drop), "last_chk");
    app1.last_agent_check()
        .expect("no agent: agrees on nothing");
    // The instances share their ports (SO_REUSEPORT), so the address
    // agrees across them and is one value with a port.
    let addr = app1.address().expect("address agrees").expect("present");
    assert!(addr.port().is_some(), "{addr:?}");
    assert_eq!(snap.server("s2", None).expect("s2").len(), 1);
    let s2 = &snap.server("s2", Some("be_static")).expect("s2")[0];
    assert_eq!(s2.weight().expect("agrees"), Some(20));
    let addr = raw_stat(
        &f.instances()[0].raw("show stat"),
        "be_static",
        "s2",
        "addr",
    );
    assert_eq!(
        s2.address().expect("agrees").map(|a| a.to_string()),
        Some(addr)
    );
    assert!(s2.port().expect("agrees").is_some());
    assert_eq!(s2.requests_per_process().len(), instances);
    // A time is averaged, a counter summed, a maximum the largest.
    for col in ["ttime", "stot", "smax"] {
        s2.metric(col).expect(col);
    }
    assert!(matches!(
        s2.metric("no_such_column"),
        Err(Error::NoSuchField { .. })
    ));
    assert_eq!(
        snap.servers(None).len(),
        6 + 2 + 1 + snap.servers(Some("health")).len()
    );

    // Owned output: every column under HAProxy's name, JSON numbers.
    let objects = snap.stat_objects(ObjectKind::Server);
    let json = serde_json::to_value(&objects).expect("serialises");
    let first = &json[0];
    assert!(first["weight"].is_number(), "{first}");
    assert!(first["pxname"].is_string(), "{first}");
    // Must-agree columns may differ only where the instances really do
    // differ: each runs its own health checks, so a check in progress in
    // one (`* L7OK`) and finished in another is data, shown per process —
    // and so is the last check's text (`last_chk`).
    let columns: Vec<&str> = objects
        .iter()
        .flat_map(|o| o.disagreements().map(|(c, _)| c))
        .collect();
    if instances == 1 {
        assert!(columns.is_empty(), "{columns:?}");
    } else {
        assert!(
            columns
                .iter()
                .all(|c| c.starts_with("check_") || c.starts_with("agent_") || *c == "last_chk"),
            "{columns:?}"
        );
    }
}

#[test]
fn read_parity_one_instance() {
    check_read_parity(1);
}

#[test]
fn read_parity_three_instances() {
    check_read_parity(3);
}

fn check_write_parity(instances: usize) {
    let f = fleet(instances);
    let hap = from_fleet(&f);
    let snap = hap.snapshot().expect("snapshot");
    let each = |what: &str, check: &dyn Fn(&str) -> bool| {
        for i in f.instances() {
            let stat = i.raw("show stat");
            assert!(
                check(&stat),
                "{what} not seen in instance pid {}:\n{stat}",
                i.pid
            );
        }
    };

    let s1 = snap
        .backend("be_static")
        .expect("be")
        .server("s1")
        .expect("s1");
    s1.set_weight(Weight::Absolute(256))
        .expect("256 is HAProxy's maximum");
    each("weight 256", &|s| {
        raw_stat(s, "be_static", "s1", "weight") == "256"
    });
    s1.set_weight(Weight::Percent(50)).expect("relative weight");
    each("weight 50% of 10", &|s| {
        raw_stat(s, "be_static", "s1", "weight") == "5"
    });
    assert!(matches!(
        s1.set_weight(Weight::Absolute(257)),
        Err(Error::Proto(_))
    ));

    s1.set_state(State::Drain).expect("drain");
    each("DRAIN", &|s| {
        raw_stat(s, "be_static", "s1", "status") == "DRAIN"
    });
    s1.set_state(State::Maint).expect("maint");
    each("MAINT", &|s| {
        raw_stat(s, "be_static", "s1", "status") == "MAINT"
    });
    s1.set_state(State::Ready).expect("ready");
    each("ready", &|s| {
        raw_stat(s, "be_static", "s1", "status") == "no check"
    });
    s1.disable().expect("disable");
    each("disabled", &|s| {
        raw_stat(s, "be_static", "s1", "status") == "MAINT"
    });
    s1.enable().expect("enable");
    each("enabled", &|s| {
        raw_stat(s, "be_static", "s1", "status") == "no check"
    });

    s1.set_address("::1", Some(8080)).expect("IPv6 address");
    each("addr", &|s| {
        raw_stat(s, "be_static", "s1", "addr").contains("::1")
    });
    let snap2 = snap.refresh().expect("refresh");
    let s1b = &snap2.server("s1", Some("be_static")).expect("s1")[0];
    assert_eq!(s1b.port().expect("agrees"), Some(8080));
    assert_eq!(
        s1b.address().expect("agrees").map(|a| a.to_string()),
        Some("[::1]:8080".to_owned())
    );
    s1.shutdown_sessions().expect("shutdown sessions");

    // app2, not app1: app1's check (every 100 ms) would undo a health set
    // here before it is read; app2's runs hourly once it is DOWN.
    wait_checks(&f);
    let app2 = snap
        .backend("be_app")
        .expect("be")
        .server("app2")
        .expect("app2");
    app2.set_health(Health::Up).expect("health up");
    each("health up", &|s| {
        raw_stat(s, "be_app", "app2", "status") == "UP"
    });
    app2.set_health(Health::Down).expect("health down");
    each("health down", &|s| {
        raw_stat(s, "be_app", "app2", "status") == "DOWN"
    });

    let fe = snap.frontend("fe_http").expect("fe");
    fe.set_maxconn(1234).expect("set maxconn frontend");
    each("slim 1234", &|s| {
        raw_stat(s, "fe_http", "FRONTEND", "slim") == "1234"
    });
    fe.disable().expect("disable frontend");
    each("STOP/PAUSED", &|s| {
        matches!(
            raw_stat(s, "fe_http", "FRONTEND", "status").as_str(),
            "STOP" | "PAUSED"
        )
    });
    fe.enable().expect("enable frontend");
    each("OPEN", &|s| {
        raw_stat(s, "fe_http", "FRONTEND", "status") == "OPEN"
    });

    hap.set_maxconn(777).expect("set maxconn global");
    hap.set_rate_limit_conn(100).expect("rate limit conn");
    hap.set_rate_limit_sess(200).expect("rate limit sess");
    hap.set_rate_limit_ssl_sess(300).expect("rate limit ssl");
    for i in f.instances() {
        let info = i.raw("show info");
        assert_eq!(raw_info(&info, "Maxconn"), "777");
        assert_eq!(raw_info(&info, "ConnRateLimit"), "100");
        assert_eq!(raw_info(&info, "SessRateLimit"), "200");
    }
    let snap3 = hap.snapshot().expect("snapshot");
    assert_eq!(snap3.maxconn().expect("sum"), 777 * instances as u64);
    hap.clear_counters().expect("clear counters");
    hap.clear_all_counters().expect("clear counters all");

    let errors = hap.errors(None).expect("show errors");
    assert_eq!(errors.len(), instances);
    for (_, text) in &errors {
        text.errors().expect("show errors parses");
    }
    hap.errors(Some(2)).expect("show errors <iid>");
    let state = hap.servers_state(Some("be_app")).expect("servers state");
    for (_, text) in &state {
        assert_eq!(text.servers_state().expect("parses").servers.len(), 6);
    }

    // Raw passthrough: one reply per process, verbatim.
    let replies = hap.command("show info").expect("raw command");
    let mut pids: Vec<String> = replies.iter().map(|(_, r)| raw_info(r, "Pid")).collect();
    pids.dedup();
    assert_eq!(pids.len(), instances);

    // HAProxy's own error text, verbatim, naming the endpoint.
    let refused = snap
        .backend("be_app")
        .expect("be")
        .server("app1")
        .expect("s")
        .set_address("not-an-address", None);
    let refusals: Vec<(String, String, String)> = match refused {
        Err(Error::CommandFailed {
            endpoint,
            command,
            message,
        }) => vec![(endpoint, command, message)],
        Err(Error::Partial { failures, .. }) => failures
            .into_iter()
            .map(|f| match *f.error {
                Error::CommandFailed {
                    endpoint,
                    command,
                    message,
                } => (endpoint, command, message),
                other => panic!("expected CommandFailed, got {other:?}"),
            })
            .collect(),
        other => panic!("expected HAProxy's refusal, got {other:?}"),
    };
    assert_eq!(refusals.len(), instances);
    for (endpoint, command, message) in refusals {
        assert!(
            !endpoint.is_empty() && command.contains("set server"),
            "{endpoint} {command}"
        );
        assert!(!message.trim().is_empty());
    }

    // Frontend shutdown last: the frontend is gone afterwards.
    snap.frontend("fe_tcp")
        .expect("fe_tcp")
        .shutdown()
        .expect("shutdown frontend");
    let after = hap.snapshot().expect("snapshot");
    if let Ok(fe) = after.frontend("fe_tcp") {
        let status = fe.status().expect("agrees").map(|s| s.to_string());
        assert_eq!(status.as_deref(), Some("STOP"));
    }
}

#[test]
fn write_parity_one_instance() {
    check_write_parity(1);
}

#[test]
fn write_parity_three_instances() {
    check_write_parity(3);
}

fn check_maps_and_acls(instances: usize) {
    let f = fleet(instances);
    let hap = from_fleet(&f);
    let map_file = f.map_file().to_string_lossy().into_owned();
    let map = MapRef::File(&map_file);
    let acl_file = f.acl_file().to_string_lossy().into_owned();
    let acl = MapRef::File(&acl_file);

    let maps = hap.maps().expect("show map");
    assert_eq!(maps.len(), instances);
    let id = maps[0]
        .1
        .iter()
        .find(|m| m.file.as_deref() == Some(f.map_file().to_str().expect("utf-8")))
        .expect("hosts.map listed")
        .id;
    let by_id = MapRef::try_from(id).expect("a listed id");

    let entries = hap.map_entries(by_id).expect("show map #id");
    for (_, e) in &entries {
        let keys: Vec<(&str, Option<&str>)> = e
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_deref()))
            .collect();
        assert_eq!(
            keys,
            [
                ("example.com", Some("be_app")),
                ("static.example.com", Some("be_static"))
            ]
        );
    }
    let got = hap.get_map(map, "example.com").expect("get map");
    assert!(got.iter().all(|(_, l)| l
        .iter()
        .all(|l| l.found && l.value.as_deref() == Some("be_app"))));
    let miss = hap.get_map(map, "nothing.example").expect("get map miss");
    assert!(miss.iter().all(|(_, l)| l.iter().all(|l| !l.found)));
    // HAProxy's error text, never a result.
    match hap.get_map(MapRef::Id(9999), "x") {
        Err(Error::CommandFailed { message, .. }) => {
            assert!(message.contains("Unknown map"), "{message}")
        }
        Err(Error::Partial { failures, .. }) => assert_eq!(failures.len(), instances),
        other => panic!("expected CommandFailed, got {other:?}"),
    }

    hap.add_map(map, "new.example", "be_tcp").expect("add map");
    hap.set_map(map, EntryRef::Key("new.example"), "be_static")
        .expect("set map");
    for i in f.instances() {
        let reply = i.raw(&format!("get map {} new.example", f.map_file().display()));
        assert!(reply.contains("value=\"be_static\""), "{reply}");
    }
    hap.del_map(map, EntryRef::Key("new.example"))
        .expect("del map by key");
    for i in f.instances() {
        let reply = i.raw(&format!("show map {}", f.map_file().display()));
        assert!(!reply.contains("new.example"), "{reply}");
    }
    if instances == 1 {
        let entries = hap.map_entries(map).expect("entries");
        let eid = entries[0].1[0].id.clone();
        hap.set_map(map, EntryRef::Id(&eid), "be_tcp")
            .expect("set map by id");
        hap.del_map(map, EntryRef::Id(&eid)).expect("del map by id");
        assert_eq!(hap.map_entries(map).expect("entries")[0].1.len(), 1);
    }

    hap.add_map_entries(map, &[("a.example", "be_app"), ("b.example", "be_app")])
        .expect("bulk add");
    hap.replace_map(map, &[("only.example", "be_tcp")])
        .expect("atomic replace");
    for (_, e) in hap.map_entries(map).expect("entries") {
        let keys: Vec<&str> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["only.example"]);
    }
    hap.clear_map(map).expect("clear map");
    assert!(hap
        .map_entries(map)
        .expect("entries")
        .iter()
        .all(|(_, e)| e.is_empty()));

    assert_eq!(hap.acls().expect("show acl").len(), instances);
    let pats = hap.acl_entries(acl).expect("show acl <file>");
    for (_, e) in &pats {
        let keys: Vec<&str> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["192.0.2.1", "198.51.100.0/24"]);
    }
    let hit = hap.get_acl(acl, "198.51.100.7").expect("get acl");
    assert!(hit.iter().all(|(_, l)| l.iter().all(|l| l.found)));
    hap.add_acl(acl, "203.0.113.9").expect("add acl");
    for i in f.instances() {
        assert!(i
            .raw(&format!("show acl {}", f.acl_file().display()))
            .contains("203.0.113.9"));
    }
    hap.del_acl(acl, EntryRef::Key("203.0.113.9"))
        .expect("del acl");
    hap.clear_acl(acl).expect("clear acl");
    assert!(hap
        .acl_entries(acl)
        .expect("entries")
        .iter()
        .all(|(_, e)| e.is_empty()));
}

#[test]
fn maps_and_acls_one_instance() {
    check_maps_and_acls(1);
}

#[test]
fn maps_and_acls_three_instances() {
    check_maps_and_acls(3);
}

// ---- beyond haproxyadmin ------------------------------------------------

#[test]
fn a_value_differing_between_instances_is_data_not_a_crash() {
    let f = fleet(3);
    let hap = from_fleet(&f);
    let reply = f.instances()[1].raw("set weight be_static/s1 3");
    assert!(reply.trim().is_empty(), "{reply}");
    let snap = hap.snapshot().expect("snapshot");
    let s1 = &snap.server("s1", Some("be_static")).expect("s1")[0];
    match s1.weight() {
        Err(Error::InconsistentData { what, values }) => {
            assert!(what.contains("be_static/s1"), "{what}");
            let mut ws: Vec<Option<String>> = values.into_iter().map(|(_, v)| v).collect();
            ws.sort();
            assert_eq!(
                ws,
                [
                    Some("10".to_owned()),
                    Some("10".to_owned()),
                    Some("3".to_owned())
                ]
            );
        }
        other => panic!("expected InconsistentData, got {other:?}"),
    }
    match s1.field("weight") {
        Some(Combined::Disagreement { values }) => assert_eq!(values.len(), 3),
        other => panic!("expected a disagreement, got {other:?}"),
    }
    // Listings still succeed; the disagreement is shown per process.
    assert_eq!(
        snap.servers(None).len(),
        snap.stat_objects(ObjectKind::Server).len()
    );
    let objs = snap.stat_objects(ObjectKind::Server);
    let s1o = objs
        .iter()
        .find(|o| o.proxy() == "be_static" && o.name() == "s1")
        .expect("s1 listed");
    let json = serde_json::to_value(s1o).expect("serialises");
    assert_eq!(
        json["weight"]["disagreement"].as_array().map(Vec::len),
        Some(3),
        "{json}"
    );
    // Sums are unaffected.
    assert!(s1.metric("stot").expect("stot").is_some());
}

#[test]
fn two_sockets_to_one_process_count_once() {
    let f = Fleet::start(Options {
        instances: 1,
        extra_sockets: vec![("operator".to_owned(), Level::Operator)],
        tcp_socket: true,
        ..Options::default()
    });
    let inst = &f.instances()[0];
    let (operator, _) = &inst.extra_sockets[0];
    let tcp = inst.tcp.expect("tcp socket");
    let endpoints = [
        inst.socket
            .to_string_lossy()
            .parse()
            .expect("unix endpoint"),
        operator.to_string_lossy().parse().expect("unix endpoint"),
        format!("ipv4@{tcp}").parse().expect("tcp endpoint"),
    ];
    let hap = HAProxy::from_endpoints(endpoints).expect("endpoints");
    assert_eq!(hap.processes().len(), 1, "{:?}", hap.processes());
    assert_eq!(hap.processes()[0].alternates().len(), 2);
    assert_eq!(hap.processes()[0].id().pid, inst.pid);
    let snap = hap.snapshot().expect("snapshot");
    let direct = raw_info(&inst.raw("show info"), "Maxconn")
        .parse::<u64>()
        .expect("number");
    assert_eq!(snap.maxconn().expect("maxconn"), direct, "not doubled");
    // Discovery over the directory (if the harness put the operator socket
    // there) also counts it once.
    let by_dir = HAProxy::from_dir(f.socket_dir()).expect("dir");
    assert_eq!(by_dir.processes().len(), 1);
}

#[test]
fn discovery_reports_silent_sockets_quickly() {
    let f = fleet(2);
    // Foreign programs' sockets that accept but never answer.
    let silent: Vec<UnixListener> = (0..3)
        .map(|n| {
            UnixListener::bind(f.socket_dir().join(format!("foreign-{n}.sock"))).expect("bind")
        })
        .collect();
    std::fs::write(f.socket_dir().join("not-a-socket.txt"), "x").expect("write");
    let probe = Duration::from_millis(400);
    // A socket that accepts and stays silent may be a busy HAProxy: not
    // skipped, but a process that could not be reached.
    match HAProxy::builder()
        .probe_timeout(probe)
        .from_dir(f.socket_dir())
    {
        Err(Error::Unreachable { unreachable }) => {
            assert_eq!(unreachable.len(), 3, "{unreachable:?}");
            assert!(unreachable.iter().all(|u| u.endpoint.contains("foreign")));
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    let started = Instant::now();
    let hap = HAProxy::builder()
        .probe_timeout(probe)
        .allow_partial()
        .from_dir(f.socket_dir())
        .expect("discovery");
    let took = started.elapsed();
    assert_eq!(hap.processes().len(), 2);
    assert!(hap.skipped().is_empty(), "{:?}", hap.skipped());
    assert_eq!(hap.unreachable().len(), 3, "{:?}", hap.unreachable());
    // Concurrent probes: the three silent sockets cost one probe timeout,
    // not three (and far less than a normal command timeout).
    assert!(
        took < probe * 2 + Duration::from_millis(600),
        "discovery took {took:?}"
    );

    // A pattern narrows the scan: the foreign sockets are not even probed.
    let hap = HAProxy::from_dir_matching(f.socket_dir(), "instance-*.sock").expect("pattern");
    assert_eq!(hap.processes().len(), 2);
    assert!(hap.skipped().is_empty());
    assert!(matches!(
        HAProxy::from_dir_matching(f.socket_dir(), "[").err(),
        Some(Error::Pattern { .. })
    ));
    assert!(matches!(
        HAProxy::from_dir_matching(f.socket_dir(), "nothing-*.sock").err(),
        Some(Error::NoLiveSocket { .. })
    ));
    drop(silent);
}

#[test]
fn stale_socket_is_skipped_with_a_report() {
    let mut f = fleet(2);
    let dead = f.instances()[1].socket.clone();
    f.kill(1);
    let hap = HAProxy::builder()
        .probe_timeout(Duration::from_millis(300))
        .from_dir(f.socket_dir())
        .expect("one live");
    assert_eq!(hap.processes().len(), 1);
    assert_eq!(hap.skipped().len(), 1);
    assert_eq!(hap.skipped()[0].path, dead);
    assert!(!hap.skipped()[0].reason.is_empty());
}

#[test]
fn snapshot_keeps_the_others_when_one_process_fails() {
    let mut f = fleet(3);
    from_fleet(&f);
    let hap = HAProxy::builder()
        .allow_partial()
        .from_dir(f.socket_dir())
        .expect("three");
    let dead_pid = f.instances()[2].pid;
    f.kill(2);
    let snap = hap.snapshot().expect("two answer");
    assert!(!snap.is_complete());
    assert_eq!(snap.missing().len(), 1, "{:?}", snap.missing());
    assert_eq!(snap.failures().len(), 1);
    assert_eq!(snap.failures()[0].process.pid, dead_pid);
    assert_eq!(snap.process_ids().len(), 2);
    assert!(!snap.process_ids().contains(&dead_pid));
    assert_eq!(snap.backend("be_app").expect("be_app").servers().len(), 6);
    assert_eq!(
        snap.frontend("fe_http")
            .expect("fe")
            .requests_per_process()
            .len(),
        2
    );
    // A write reports exactly which process failed.
    match hap.set_maxconn(500) {
        Err(Error::Partial {
            succeeded,
            failures,
            ..
        }) => {
            assert_eq!(succeeded.len(), 2);
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].process.pid, dead_pid);
        }
        other => panic!("expected Partial, got {other:?}"),
    }
}

#[test]
fn batch_goes_over_one_session_per_process() {
    let f = fleet(3);
    let hap = from_fleet(&f);
    let mut batch = hap.batch();
    for s in ["s1", "s2"] {
        batch.push(Weight::Absolute(7).command("be_static", s).expect("valid"));
        batch.push(
            haproxy_admin::Command::set_server_state("be_static", s, State::Drain).expect("valid"),
        );
    }
    assert_eq!(batch.len(), 4);
    let replies = batch.run().expect("batch");
    assert_eq!(replies.len(), 3);
    assert!(replies.iter().all(|(_, r)| r.len() == 4));
    for i in f.instances() {
        let stat = i.raw("show stat");
        for s in ["s1", "s2"] {
            assert_eq!(raw_stat(&stat, "be_static", s, "weight"), "7");
            assert_eq!(raw_stat(&stat, "be_static", s, "status"), "DRAIN");
        }
    }
    let snap = hap.snapshot().expect("snapshot");
    for s in snap.servers(Some("be_static")) {
        assert_eq!(s.weight().expect("agrees"), Some(7));
        assert_eq!(status_text(&s), "DRAIN");
    }
    // A failing command names its endpoint and keeps HAProxy's text.
    let mut bad = hap.batch();
    bad.push(
        Weight::Absolute(1)
            .command("be_static", "nope")
            .expect("valid arguments"),
    );
    match bad.run() {
        Err(Error::Partial { failures, .. }) => {
            assert_eq!(failures.len(), 3);
            assert!(
                matches!(*failures[0].error, Error::CommandFailed { .. }),
                "{:?}",
                failures[0].error
            );
        }
        other => panic!("expected failures, got {other:?}"),
    }
}

#[test]
fn dynamic_servers_add_and_delete() {
    let f = fleet(1);
    let hap = from_fleet(&f);
    hap.add_server("be_static", "dyn1", "127.0.0.1:9", &[])
        .expect("add server");
    let snap = hap.snapshot().expect("snapshot");
    let dyn1 = &snap.server("dyn1", Some("be_static")).expect("dyn1 listed")[0];
    assert_eq!(status_text(dyn1), "MAINT");
    hap.del_server("be_static", "dyn1").expect("del server");
    let snap = snap.refresh().expect("refresh");
    assert!(snap.server("dyn1", None).is_err());
}

#[test]
fn master_worker_workers_are_the_processes() {
    let mw = MasterWorker::start(Topology::standard());
    let hap = HAProxy::from_master(mw.master_socket()).expect("master");
    let mut want = mw.worker_pids();
    want.sort_unstable();
    let mut got = hap.process_ids();
    got.sort_unstable();
    assert_eq!(got, want);
    assert!(hap.processes().iter().all(|p| !p.is_old()));
    let snap = hap.snapshot().expect("snapshot through the master");
    assert_eq!(snap.backend("be_app").expect("be_app").servers().len(), 6);
    // The worker's own socket and the master selector reach one process.
    let endpoints = [
        mw.worker_socket().to_string_lossy().parse().expect("unix"),
        format!("{}@!{}", mw.master_socket().display(), want[0])
            .parse()
            .expect("master selector"),
    ];
    let both = HAProxy::from_endpoints(endpoints).expect("both");
    assert_eq!(both.processes().len(), 1);
    // An interactive CLI session keeps the old worker alive (draining)
    // after a reload: it is listed, flagged old, and still answers.
    let mut held = UnixStream::connect(mw.worker_socket()).expect("worker socket");
    held.write_all(b"prompt\n").expect("prompt");
    let mut prompt = [0u8; 16];
    let _ = held.read(&mut prompt).expect("prompt answered");
    mw.reload();
    let hap = HAProxy::from_master(mw.master_socket()).expect("master after reload");
    let old: Vec<u32> = hap
        .processes()
        .iter()
        .filter(|p| p.is_old())
        .map(|p| p.id().pid)
        .collect();
    let current: Vec<u32> = hap
        .processes()
        .iter()
        .filter(|p| !p.is_old())
        .map(|p| p.id().pid)
        .collect();
    assert_eq!(
        old,
        [want[0]],
        "the pre-reload worker is old: {:?}",
        hap.processes()
    );
    assert_eq!(current.len(), 1);
    assert!(!current.contains(&want[0]));
    let snap = hap.snapshot().expect("snapshot of new and old workers");
    assert!(snap.failures().is_empty(), "{:?}", snap.failures());
    assert_eq!(snap.process_ids().len(), 2);
    drop(held);
}

#[test]
fn streamed_listing_matches_the_collected_one() {
    // Enough servers for the parallel rounds (over 2,048), two processes.
    let f = Fleet::start(Options {
        instances: 2,
        topology: Topology::large(25, 120, 10),
        ..Options::default()
    });
    let hap = from_fleet(&f);
    let snap = hap.snapshot().expect("snapshot");
    let collected = snap.stat_objects(ObjectKind::Server);
    assert_eq!(collected.len(), 25 * 120);
    let mut streamed = Vec::new();
    snap.for_each_stat_object(ObjectKind::Server, |o| {
        streamed.push(serde_json::to_string(&o)?);
        Ok::<(), serde_json::Error>(())
    })
    .expect("streamed");
    assert_eq!(streamed.len(), collected.len());
    for (s, c) in streamed.iter().zip(&collected) {
        assert_eq!(*s, serde_json::to_string(c).expect("json"));
    }
    // `f`'s error stops the stream at once.
    let mut seen = 0;
    let r = snap.for_each_stat_object(ObjectKind::Server, |_| {
        seen += 1;
        if seen == 1500 {
            Err("enough")
        } else {
            Ok(())
        }
    });
    assert_eq!(r, Err("enough"));
    assert_eq!(seen, 1500);
}
