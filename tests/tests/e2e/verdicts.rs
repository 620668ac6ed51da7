//! Success by recognition, against real HAProxy: every command the builder
//! makes is sent in the forms HAProxy refuses, and each reply must be
//! judged a failure ([`Command::judge`]) — whatever HAProxy's wording —
//! with HAProxy's state read back (without our libraries) unchanged.
//!
//! The table of what was sent, what HAProxy answered and our verdict is
//! kept in `docs/reliability.md`, one section per HAProxy version; this
//! test checks that the section matches what it observed, and rewrites it
//! when run with `VERDICTS_BLESS=1`.

use haproxy_e2e::{haproxy_version, Fleet, Instance, Options, Topology};
use haproxy_proto::command::{Command, EntryRef, Health, MapRef, ServerState};
use haproxy_transport::{Client, Endpoint};
use std::path::Path;

/// HAProxy's state as far as any of these commands could change it: each
/// server's administrative state and weight, each frontend's status,
/// global limits, map and ACL contents and versions. Read with `std` only.
fn state(i: &Instance, map: &str, acl: &str) -> String {
    let mut out = Vec::new();
    for l in i.raw("show stat").lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        if f.len() < 19 {
            continue;
        }
        let status = f[17];
        // Checks move servers between UP and DOWN by themselves; only the
        // administrative part is ours to compare.
        let administrative =
            status.contains("MAINT") || status.contains("DRAIN") || f[1] == "FRONTEND";
        let status = if administrative { status } else { "-" };
        let weight = if f[1] == "BACKEND" { "" } else { f[18] };
        out.push(format!(
            "{} {} {status} {weight} maxconn={}",
            f[0], f[1], f[6]
        ));
    }
    out.extend(
        i.raw("show info")
            .lines()
            .filter(|l| {
                [
                    "Maxconn:",
                    "ConnRateLimit:",
                    "SessRateLimit:",
                    "SslRateLimit:",
                ]
                .iter()
                .any(|p| l.starts_with(p))
            })
            .map(str::to_owned),
    );
    for what in ["map", "acl"] {
        // HAProxy 2.6 lowers an ACL's `entry_cnt` when `add acl` refuses a
        // pattern, though the entries stay (compared below): the count
        // is left out.
        out.extend(
            i.raw(&format!("show {what}"))
                .lines()
                .map(|l| l.split(" entry_cnt=").next().unwrap_or(l).to_owned()),
        );
    }
    for (what, file) in [("map", map), ("acl", acl)] {
        let mut entries: Vec<String> = i
            .raw(&format!("show {what} {file}"))
            .lines()
            .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_owned())
            .collect();
        entries.sort();
        out.extend(entries);
    }
    out.join("\n")
}

/// One observation: the command, the failing form, HAProxy's reply, our
/// verdict.
struct Row {
    command: &'static str,
    form: &'static str,
    line: String,
    reply: String,
    failed: bool,
}

fn send(i: &Instance, c: &Command) -> String {
    let client = Client::new(Endpoint::unix(&i.socket));
    let r = match c.payload() {
        Some(p) => client.command_with_payload(c.line(), p),
        None => client.command(c.line()),
    };
    r.unwrap_or_else(|e| panic!("{}: {e}", c.line()))
}

fn cases(map: &str, acl: &str) -> Vec<(&'static str, &'static str, Command)> {
    let m = MapRef::File(map);
    let a = MapRef::File(acl);
    let none = MapRef::File("/nonexistent.map");
    let ok = |r: Result<Command, haproxy_proto::ArgError>| r.expect("the builder accepts it");
    vec![
        (
            "enable frontend",
            "no such frontend",
            ok(Command::enable_frontend("nosuch")),
        ),
        (
            "disable frontend",
            "no such frontend",
            ok(Command::disable_frontend("nosuch")),
        ),
        (
            "shutdown frontend",
            "no such frontend",
            ok(Command::shutdown_frontend("nosuch")),
        ),
        (
            "set maxconn frontend",
            "a backend's name",
            ok(Command::set_maxconn_frontend("be_app", 10)),
        ),
        (
            "set maxconn frontend",
            "above HAProxy's range",
            ok(Command::set_maxconn_frontend("fe_http", u32::MAX)),
        ),
        (
            "set rate-limit connections global",
            "above HAProxy's range",
            ok(Command::set_rate_limit_connections(u32::MAX)),
        ),
        (
            "set rate-limit sessions global",
            "above HAProxy's range",
            ok(Command::set_rate_limit_sessions(u32::MAX)),
        ),
        (
            "get weight",
            "no such server",
            ok(Command::get_weight("be_app", "nosuch")),
        ),
        (
            "get weight",
            "no such backend",
            ok(Command::get_weight("nosuch", "s1")),
        ),
        (
            "set weight",
            "no such server",
            ok(Command::set_weight("be_app", "nosuch", 1)),
        ),
        (
            "set weight",
            "no such backend",
            ok(Command::set_weight("nosuch", "s1", 1)),
        ),
        (
            "set weight …%",
            "no such server",
            ok(Command::set_weight_percent("be_app", "nosuch", 50)),
        ),
        (
            "set server state",
            "no such server",
            ok(Command::set_server_state(
                "be_app",
                "nosuch",
                ServerState::Drain,
            )),
        ),
        (
            "enable server",
            "no such server",
            ok(Command::enable_server("be_app", "nosuch")),
        ),
        (
            "disable server",
            "no such server",
            ok(Command::disable_server("be_app", "nosuch")),
        ),
        (
            "enable health",
            "no such server",
            ok(Command::enable_health("be_app", "nosuch")),
        ),
        (
            "enable health",
            "a server without check",
            ok(Command::enable_health("be_static", "s1")),
        ),
        (
            "disable health",
            "no such server",
            ok(Command::disable_health("be_app", "nosuch")),
        ),
        (
            "set server addr",
            "no such server",
            ok(Command::set_server_addr(
                "be_app",
                "nosuch",
                "127.0.0.9",
                None,
            )),
        ),
        (
            "shutdown sessions server",
            "no such server",
            ok(Command::shutdown_sessions_server("be_app", "nosuch")),
        ),
        (
            "set server health",
            "a tracking server",
            ok(Command::set_server_health("be_app", "app5", Health::Down)),
        ),
        (
            "set server health",
            "no such server",
            ok(Command::set_server_health("be_app", "nosuch", Health::Up)),
        ),
        (
            "set server agent",
            "a server without agent",
            ok(Command::set_server_agent("be_app", "app1", Health::Down)),
        ),
        (
            "add server",
            "the name exists",
            ok(Command::add_server("be_app", "app1", "127.0.0.9:1", &[])),
        ),
        (
            "add server",
            "no such backend",
            ok(Command::add_server("nosuch", "x", "127.0.0.9:1", &[])),
        ),
        (
            "del server",
            "a tracked server",
            ok(Command::del_server("be_app", "app1")),
        ),
        (
            "del server",
            "no such server",
            ok(Command::del_server("be_app", "nosuch")),
        ),
        ("show map", "no such map", ok(Command::show_map(none))),
        ("show acl", "no such ACL", ok(Command::show_acl(none))),
        (
            "get map",
            "no such map",
            ok(Command::get_map(none, "example.com")),
        ),
        (
            "get acl",
            "no such ACL",
            ok(Command::get_acl(none, "192.0.2.1")),
        ),
        (
            "add map",
            "no such map",
            ok(Command::add_map(none, "k", "v")),
        ),
        (
            "set map",
            "no such key",
            ok(Command::set_map(m, EntryRef::Key("no-such-key"), "v")),
        ),
        (
            "set map",
            "no such entry id",
            ok(Command::set_map(m, EntryRef::Id("0x1"), "v")),
        ),
        (
            "set map",
            "no such map",
            ok(Command::set_map(none, EntryRef::Key("example.com"), "v")),
        ),
        (
            "del map",
            "no such key",
            ok(Command::del_map(m, EntryRef::Key("no-such-key"))),
        ),
        ("clear map", "no such map", ok(Command::clear_map(none))),
        (
            "add acl",
            "not an address",
            ok(Command::add_acl(a, "not-an-ip")),
        ),
        (
            "add acl",
            "no such ACL",
            ok(Command::add_acl(none, "192.0.2.9")),
        ),
        (
            "del acl",
            "no such pattern",
            ok(Command::del_acl(a, EntryRef::Key("203.0.113.7"))),
        ),
        (
            "del acl",
            "no such entry id",
            ok(Command::del_acl(a, EntryRef::Id("0x1"))),
        ),
        ("clear acl", "no such ACL", ok(Command::clear_acl(none))),
        ("prepare map", "no such map", ok(Command::prepare_map(none))),
        (
            "commit map",
            "a version never prepared",
            ok(Command::commit_map(m, 99)),
        ),
        ("prepare acl", "no such ACL", ok(Command::prepare_acl(none))),
        (
            "commit acl",
            "a version never prepared",
            ok(Command::commit_acl(a, 99)),
        ),
        (
            "add map @ver <<",
            "a version never prepared",
            ok(Command::add_map_bulk(m, Some(99), &[("k", "v")])),
        ),
        (
            "add map <<",
            "no such map",
            ok(Command::add_map_bulk(none, None, &[("k", "v")])),
        ),
        (
            "add acl <<",
            "no such ACL",
            ok(Command::add_acl_bulk(none, None, &["192.0.2.9"])),
        ),
        (
            "show servers state",
            "no such backend",
            ok(Command::show_servers_state(Some("nosuch"))),
        ),
        (
            "show proc",
            "a worker's socket, not the master's",
            Command::show_proc(),
        ),
    ]
}

/// Every builder command that has a failing form HAProxy can be driven
/// to; the others (`show info`, `show stat`, `clear counters`, …) have
/// none on an admin socket and are judged by recognition of their dump.
#[test]
fn every_failing_form_is_a_failure_and_changes_nothing() {
    let fleet = Fleet::start(Options {
        instances: 1,
        topology: Topology::standard(),
        ..Options::default()
    });
    let i = &fleet.instances()[0];
    let map = fleet.map_file().to_string_lossy().into_owned();
    let acl = fleet.acl_file().to_string_lossy().into_owned();
    let dir = fleet.dir().to_string_lossy().into_owned();
    let mut rows = Vec::new();
    for (command, form, c) in cases(&map, &acl) {
        let before = state(i, &map, &acl);
        let reply = send(i, &c);
        let failed = c.judge(&reply).is_err();
        let after = state(i, &map, &acl);
        assert_eq!(before, after, "`{}` changed HAProxy's state", c.line());
        rows.push(Row {
            command,
            form,
            line: c.line().replace(&dir, "$DIR"),
            reply,
            failed,
        });
    }
    let (maj, min, _) = haproxy_version();
    let table = render(&format!("{maj}.{min}"), &rows);
    check_doc(&format!("{maj}.{min}"), &table);
    let false_successes: Vec<&Row> = rows.iter().filter(|r| !r.failed).collect();
    assert!(
        false_successes.is_empty(),
        "judged a success: {:?}",
        false_successes
            .iter()
            .map(|r| (&r.line, &r.reply))
            .collect::<Vec<_>>()
    );
}

/// The success forms of the same commands are judged successes: the
/// verdict recognises HAProxy's acknowledgements and notices.
#[test]
fn success_forms_are_recognised() {
    let fleet = Fleet::start(Options {
        instances: 1,
        topology: Topology::standard(),
        ..Options::default()
    });
    let i = &fleet.instances()[0];
    let map = fleet.map_file().to_string_lossy().into_owned();
    let acl = fleet.acl_file().to_string_lossy().into_owned();
    let m = MapRef::File(&map);
    let a = MapRef::File(&acl);
    let ok = |r: Result<Command, haproxy_proto::ArgError>| r.expect("the builder accepts it");
    let mut commands = vec![
        Command::show_info(),
        Command::show_info_typed(),
        Command::show_stat(),
        Command::show_stat_typed(),
        Command::show_maps(),
        Command::show_acls(),
        ok(Command::show_errors(None)),
        ok(Command::show_servers_state(None)),
        ok(Command::get_weight("be_static", "s1")),
        ok(Command::set_weight("be_static", "s1", 11)),
        ok(Command::set_weight_percent("be_static", "s2", 50)),
        ok(Command::set_server_state(
            "be_static",
            "s1",
            ServerState::Drain,
        )),
        ok(Command::set_server_state(
            "be_static",
            "s1",
            ServerState::Ready,
        )),
        ok(Command::disable_server("be_static", "s2")),
        ok(Command::enable_server("be_static", "s2")),
        ok(Command::set_server_addr(
            "be_static",
            "s2",
            "127.0.0.1",
            None,
        )),
        ok(Command::set_server_addr(
            "be_static",
            "s2",
            "127.0.0.2",
            Some(1),
        )),
        ok(Command::shutdown_sessions_server("be_static", "s2")),
        ok(Command::disable_health("be_app", "app4")),
        ok(Command::enable_health("be_app", "app4")),
        ok(Command::set_server_health("be_app", "app6", Health::Up)),
        ok(Command::enable_frontend("fe_tcp")),
        ok(Command::disable_frontend("fe_tcp")),
        ok(Command::disable_frontend("fe_tcp")),
        ok(Command::enable_frontend("fe_tcp")),
        ok(Command::set_maxconn_frontend("fe_tcp", 50)),
        ok(Command::set_maxconn_global(3000)),
        ok(Command::set_rate_limit_connections(100)),
        ok(Command::set_rate_limit_sessions(100)),
        Command::clear_counters(),
        Command::clear_counters_all(),
        ok(Command::add_server("be_static", "dyn1", "127.0.0.1:1", &[])),
        ok(Command::set_server_state(
            "be_static",
            "dyn1",
            ServerState::Maint,
        )),
        ok(Command::del_server("be_static", "dyn1")),
        ok(Command::show_map(m)),
        ok(Command::show_acl(a)),
        ok(Command::get_map(m, "example.com")),
        ok(Command::get_acl(a, "192.0.2.1")),
        ok(Command::add_map(m, "new.example", "be_static")),
        ok(Command::set_map(m, EntryRef::Key("new.example"), "be_app")),
        ok(Command::del_map(m, EntryRef::Key("new.example"))),
        ok(Command::add_acl(a, "203.0.113.9")),
        ok(Command::del_acl(a, EntryRef::Key("203.0.113.9"))),
        ok(Command::add_map_bulk(m, None, &[("b1.example", "be_app")])),
    ];
    // prepare → add @ver → commit, with the version HAProxy hands out.
    let prepare = ok(Command::prepare_map(m));
    let reply = send(i, &prepare);
    prepare.judge(&reply).expect("prepare map");
    let ver: u64 = reply
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a version");
    commands.push(ok(Command::add_map_bulk(
        m,
        Some(ver),
        &[("example.com", "be_app")],
    )));
    commands.push(ok(Command::commit_map(m, ver)));
    for c in &commands {
        let reply = send(i, c);
        if let Err(e) = c.judge(&reply) {
            panic!("`{}` judged a failure: {e}", c.line());
        }
    }
}

fn cell(s: &str) -> String {
    let one = s.trim_end().replace('\n', "⏎");
    let one = if one.chars().count() > 90 {
        format!("{}…", one.chars().take(90).collect::<String>())
    } else {
        one
    };
    if one.is_empty() {
        "(empty)".to_owned()
    } else {
        format!("`{}`", one.replace('`', "'").replace('|', "\\|"))
    }
}

fn render(version: &str, rows: &[Row]) -> String {
    let mut t = format!(
        "<!-- verdicts {version} begin: generated by tests/tests/e2e/verdicts.rs -->\n\
         | command | failing form | sent | HAProxy {version} replied | verdict |\n|---|---|---|---|---|\n"
    );
    for r in rows {
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.command,
            r.form,
            cell(&r.line),
            cell(&r.reply),
            if r.failed {
                "**CommandFailed**"
            } else {
                "success (WRONG)"
            }
        ));
    }
    t.push_str(&format!("<!-- verdicts {version} end -->\n"));
    t
}

/// Compares the table with its section in `docs/reliability.md`; with
/// `VERDICTS_BLESS=1`, writes it there instead.
fn check_doc(version: &str, table: &str) {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/reliability.md");
    let text = std::fs::read_to_string(&doc).unwrap_or_default();
    let begin = format!("<!-- verdicts {version} begin");
    let end = format!("<!-- verdicts {version} end -->\n");
    let current = text
        .find(&begin)
        .and_then(|b| text[b..].find(&end).map(|e| (b, b + e + end.len())));
    let bless = std::env::var_os("VERDICTS_BLESS").is_some();
    match current {
        Some((b, e)) if &text[b..e] == table => {}
        Some((b, e)) if bless => {
            let new = format!("{}{table}{}", &text[..b], &text[e..]);
            std::fs::write(&doc, new).expect("write docs/reliability.md");
        }
        None if bless => {
            let anchor = "<!-- verdicts tables -->\n";
            let new = match text.find(anchor) {
                Some(a) => format!(
                    "{}{table}\n{}",
                    &text[..a + anchor.len()],
                    &text[a + anchor.len()..]
                ),
                None => format!("{text}\n{anchor}{table}"),
            };
            std::fs::write(&doc, new).expect("write docs/reliability.md");
        }
        _ => panic!(
            "the verdict table for HAProxy {version} in docs/reliability.md is stale or missing; \
             rerun with VERDICTS_BLESS=1 and commit it. Observed:\n{table}"
        ),
    }
}

/// A write to an old worker (one left serving a connection after a
/// reload), reached through the master CLI: HAProxy answers `Proxy is
/// disabled.` — in no table of errors — and the write must fail.
#[test]
fn a_write_to_an_old_worker_through_the_master_fails() {
    use haproxy_admin::{HAProxy, Weight};
    use haproxy_e2e::MasterWorker;
    use haproxy_transport::Target;
    use std::io::Write;
    let mw = MasterWorker::start(Topology::standard());
    // `fe_tcp`'s port, from the configuration the harness wrote.
    let cfg_path = mw
        .master_socket()
        .parent()
        .and_then(Path::parent)
        .expect("the fleet's directory")
        .join("haproxy.cfg");
    let cfg = std::fs::read_to_string(&cfg_path).expect("read the config");
    let port: u16 = cfg
        .split("frontend fe_tcp")
        .nth(1)
        .and_then(|s| s.split("bind 127.0.0.1:").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("fe_tcp's port");
    // A connection that stays open keeps the old worker alive.
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to fe_tcp");
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .expect("half a request");
    let old = mw.worker_pids()[0];
    mw.reload();
    assert!(
        mw.raw_master("show proc")
            .split("# old workers")
            .nth(1)
            .is_some_and(|s| s.contains(&old.to_string())),
        "worker {old} is not an old worker"
    );
    let hap = HAProxy::from_endpoints([Endpoint::master(mw.master_socket(), Target::Pid(old))])
        .expect("the old worker answers show info");
    let before = mw.raw_master(&format!("@!{old} get weight be_static/s1"));
    let mut batch = hap.batch();
    batch
        .set_weight("be_static", "s1", Weight::Absolute(5))
        .expect("queue");
    let err = batch.run().expect_err("a write to an old worker");
    assert!(
        err.to_string().contains("Proxy is disabled."),
        "HAProxy's words, verbatim: {err}"
    );
    let after = mw.raw_master(&format!("@!{old} get weight be_static/s1"));
    assert_eq!(before, after, "the old worker's weight changed");
    drop(conn);
}
