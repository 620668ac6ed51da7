//! Success by recognition, against real HAProxy: every command the builder
//! makes is sent in the forms HAProxy refuses, and each reply must be
//! judged a failure ([`Command::judge`]) — whatever HAProxy's wording —
//! with HAProxy's state read back (without our libraries) unchanged.
//!
//! A form HAProxy would misread (a number it reads as a C `int` and would
//! wrap) is refused by the builder before anything is sent; the table
//! shows those too, as `ArgError`.
//!
//! The table of what was sent, what HAProxy answered and our verdict is
//! kept in `docs/reliability.md`, one section per HAProxy version; this
//! test checks that the section matches what it observed, and rewrites it
//! when run with `VERDICTS_BLESS=1`.

use haproxy_e2e::{haproxy_version, Fleet, Instance, Level, Options, Topology};
use haproxy_proto::command::{Command, EntryRef, Health, MapRef, ServerState};
use haproxy_proto::ArgError;
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
    out.extend(haproxy_e2e::info_lines(
        &i.raw("show info"),
        &haproxy_e2e::LIMIT_FIELDS,
    ));
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
    verdict: Verdict,
}

/// What our library made of a failing form.
enum Verdict {
    /// HAProxy's reply was judged a failure (`CommandFailed`).
    Failed,
    /// The transport typed HAProxy's `Permission denied` (`LevelTooLow`).
    LevelTooLow,
    /// The builder refused the arguments: nothing was sent.
    Refused,
    /// HAProxy's reply was judged a success: a false success.
    Success,
}

/// A failing form: the command, the form, the socket's level it is sent
/// on, and what the builder made of it.
struct Case {
    command: &'static str,
    form: &'static str,
    level: Level,
    built: Result<Command, ArgError>,
}

/// A failing form sent on the admin socket.
fn admin(command: &'static str, form: &'static str, built: Result<Command, ArgError>) -> Case {
    Case {
        command,
        form,
        level: Level::Admin,
        built,
    }
}

/// The instance's socket of `level` (the admin one, or an extra one).
fn socket(i: &Instance, level: Level) -> &Path {
    if level == Level::Admin {
        return &i.socket;
    }
    i.extra_sockets
        .iter()
        .find(|(_, l)| *l == level)
        .map(|(p, _)| p.as_path())
        .unwrap_or_else(|| panic!("no {} socket", level.as_str()))
}

fn send(i: &Instance, c: &Command) -> String {
    send_on(&i.socket, c).unwrap_or_else(|e| panic!("{}: {e}", c.line()))
}

/// HAProxy's reply; a `Permission denied` the transport already typed
/// ([`haproxy_transport::Error::LevelTooLow`]) is returned as the error.
fn send_on(socket: &Path, c: &Command) -> Result<String, haproxy_transport::Error> {
    let client = Client::new(Endpoint::unix(socket));
    match c.payload() {
        Some(p) => client.command_with_payload(c.line(), p),
        None => client.command(c.line()),
    }
}

fn cases(map: &str, acl: &str) -> Vec<Case> {
    let m = MapRef::File(map);
    let a = MapRef::File(acl);
    let none = MapRef::File("/nonexistent.map");
    vec![
        admin(
            "enable frontend",
            "no such frontend",
            Command::enable_frontend("nosuch"),
        ),
        admin(
            "disable frontend",
            "no such frontend",
            Command::disable_frontend("nosuch"),
        ),
        admin(
            "shutdown frontend",
            "no such frontend",
            Command::shutdown_frontend("nosuch"),
        ),
        admin(
            "set maxconn frontend",
            "a backend's name",
            Command::set_maxconn_frontend("be_app", 10),
        ),
        admin(
            "set maxconn frontend",
            "above a C int (HAProxy would wrap it)",
            Command::set_maxconn_frontend("fe_http", u32::MAX),
        ),
        admin(
            "set maxconn global",
            "above the process's hard limit (maxconn 4000)",
            Command::set_maxconn_global(99_999),
        ),
        admin(
            "set maxconn global",
            "above a C int (HAProxy 2.6 would set the hard limit)",
            Command::set_maxconn_global(u32::MAX),
        ),
        admin(
            "set rate-limit connections global",
            "above a C int (HAProxy would wrap it)",
            Command::set_rate_limit_connections(u32::MAX),
        ),
        admin(
            "set rate-limit sessions global",
            "above a C int (HAProxy would wrap it)",
            Command::set_rate_limit_sessions(u32::MAX),
        ),
        admin(
            "set rate-limit ssl-sessions global",
            "above a C int (HAProxy would wrap it)",
            Command::set_rate_limit_ssl_sessions(u32::MAX),
        ),
        admin("show errors", "proxy id 0", Command::show_errors(Some(0))),
        Case {
            command: "clear counters",
            form: "on a `level user` socket",
            level: Level::User,
            built: Ok(Command::clear_counters()),
        },
        Case {
            command: "clear counters all",
            form: "on a `level operator` socket",
            level: Level::Operator,
            built: Ok(Command::clear_counters_all()),
        },
        admin(
            "get weight",
            "no such server",
            Command::get_weight("be_app", "nosuch"),
        ),
        admin(
            "get weight",
            "no such backend",
            Command::get_weight("nosuch", "s1"),
        ),
        admin(
            "set weight",
            "no such server",
            Command::set_weight("be_app", "nosuch", 1),
        ),
        admin(
            "set weight",
            "no such backend",
            Command::set_weight("nosuch", "s1", 1),
        ),
        admin(
            "set weight",
            "a backend with a static algorithm (static-rr)",
            Command::set_weight("be_fixed", "f1", 5),
        ),
        admin(
            "set weight …%",
            "no such server",
            Command::set_weight_percent("be_app", "nosuch", 50),
        ),
        admin(
            "set server state",
            "no such server",
            Command::set_server_state("be_app", "nosuch", ServerState::Drain),
        ),
        admin(
            "enable server",
            "no such server",
            Command::enable_server("be_app", "nosuch"),
        ),
        admin(
            "disable server",
            "no such server",
            Command::disable_server("be_app", "nosuch"),
        ),
        admin(
            "enable health",
            "no such server",
            Command::enable_health("be_app", "nosuch"),
        ),
        admin(
            "enable health",
            "a server without check",
            Command::enable_health("be_static", "s1"),
        ),
        admin(
            "disable health",
            "no such server",
            Command::disable_health("be_app", "nosuch"),
        ),
        admin(
            "set server addr",
            "no such server",
            Command::set_server_addr("be_app", "nosuch", "127.0.0.9", None),
        ),
        admin(
            "shutdown sessions server",
            "no such server",
            Command::shutdown_sessions_server("be_app", "nosuch"),
        ),
        admin(
            "set server health",
            "a tracking server",
            Command::set_server_health("be_app", "app5", Health::Down),
        ),
        admin(
            "set server health",
            "no such server",
            Command::set_server_health("be_app", "nosuch", Health::Up),
        ),
        admin(
            "set server agent",
            "a server without agent",
            Command::set_server_agent("be_app", "app1", Health::Down),
        ),
        admin(
            "add server",
            "the name exists",
            Command::add_server("be_app", "app1", "127.0.0.9:1", &[]),
        ),
        admin(
            "add server",
            "no such backend",
            Command::add_server("nosuch", "x", "127.0.0.9:1", &[]),
        ),
        admin(
            "del server",
            "a tracked server",
            Command::del_server("be_app", "app1"),
        ),
        admin(
            "del server",
            "a server not in maintenance",
            Command::del_server("be_static", "s1"),
        ),
        admin(
            "del server",
            "no such server",
            Command::del_server("be_app", "nosuch"),
        ),
        admin("show map", "no such map", Command::show_map(none)),
        admin("show acl", "no such ACL", Command::show_acl(none)),
        admin(
            "get map",
            "no such map",
            Command::get_map(none, "example.com"),
        ),
        admin(
            "get acl",
            "no such ACL",
            Command::get_acl(none, "192.0.2.1"),
        ),
        admin("add map", "no such map", Command::add_map(none, "k", "v")),
        admin(
            "set map",
            "no such key",
            Command::set_map(m, EntryRef::Key("no-such-key"), "v"),
        ),
        admin(
            "set map",
            "no such entry id",
            Command::set_map(m, EntryRef::Id("0x1"), "v"),
        ),
        admin(
            "set map",
            "no such map",
            Command::set_map(none, EntryRef::Key("example.com"), "v"),
        ),
        admin(
            "del map",
            "no such key",
            Command::del_map(m, EntryRef::Key("no-such-key")),
        ),
        admin("clear map", "no such map", Command::clear_map(none)),
        admin(
            "add acl",
            "not an address",
            Command::add_acl(a, "not-an-ip"),
        ),
        admin(
            "add acl",
            "no such ACL",
            Command::add_acl(none, "192.0.2.9"),
        ),
        admin(
            "del acl",
            "no such pattern",
            Command::del_acl(a, EntryRef::Key("203.0.113.7")),
        ),
        admin(
            "del acl",
            "no such entry id",
            Command::del_acl(a, EntryRef::Id("0x1")),
        ),
        admin("clear acl", "no such ACL", Command::clear_acl(none)),
        admin("prepare map", "no such map", Command::prepare_map(none)),
        admin(
            "commit map",
            "a version never prepared",
            Command::commit_map(m, 99),
        ),
        admin("prepare acl", "no such ACL", Command::prepare_acl(none)),
        admin(
            "commit acl",
            "a version never prepared",
            Command::commit_acl(a, 99),
        ),
        admin(
            "add map @ver <<",
            "a version never prepared",
            Command::add_map_bulk(m, Some(99), &[("k", "v")]),
        ),
        admin(
            "add map <<",
            "no such map",
            Command::add_map_bulk(none, None, &[("k", "v")]),
        ),
        admin(
            "add acl <<",
            "no such ACL",
            Command::add_acl_bulk(none, None, &["192.0.2.9"]),
        ),
        admin(
            "show servers state",
            "no such backend",
            Command::show_servers_state(Some("nosuch")),
        ),
        admin(
            "show proc",
            "a worker's socket, not the master's",
            Ok(Command::show_proc()),
        ),
        admin(
            "show ssl cert",
            "no such certificate",
            Command::show_ssl_cert("/nosuch.pem"),
        ),
        admin(
            "set ssl cert <<",
            "no such certificate",
            Command::set_ssl_cert("/nosuch.pem", &test_pem()),
        ),
        admin(
            "set ssl cert <<",
            "the open transaction (`*file`)",
            Command::set_ssl_cert("*/nosuch.pem", &test_pem()),
        ),
        admin(
            "commit ssl cert",
            "no transaction open",
            Command::commit_ssl_cert("/nosuch.pem"),
        ),
        admin(
            "abort ssl cert",
            "no transaction open",
            Command::abort_ssl_cert("/nosuch.pem"),
        ),
        admin(
            "show table",
            "no such table",
            Command::show_table("nosuch", None),
        ),
        admin(
            "set table",
            "no such table",
            Command::set_table("nosuch", "ip", "10.0.0.1", &[("gpc0", 1)]),
        ),
        admin(
            "set table",
            "a key its type cannot hold (3.4 would store it as 0)",
            Command::set_table("nosuch", "integer", "abc", &[("gpc0", 1)]),
        ),
        admin(
            "clear table",
            "no such table",
            Command::clear_table("nosuch", Some(("ip", "10.0.0.1"))),
        ),
    ]
}

/// A certificate and its key (proto's test pair).
fn test_pem() -> haproxy_proto::ssl::Pem {
    haproxy_proto::ssl::Pem::parse(concat!(
        include_str!("../../../crates/haproxy-proto/src/testdata/ec.crt"),
        include_str!("../../../crates/haproxy-proto/src/testdata/ec.key")
    ))
    .expect("proto's test pair")
}

/// A backend with a static balance algorithm, for `set weight`'s refusal.
const STATIC_BACKEND: &str =
    "backend be_fixed\n    balance static-rr\n    server f1 127.0.0.1:9 weight 10\n";

/// Every builder command with a form HAProxy refuses is sent in that form
/// — on the admin socket, or on a `level user` / `level operator` one
/// where the refusal is about the socket's level. The read-only dumps
/// left out (`show info`, `show info typed`, `show stat`, `show stat
/// typed`, `show map` / `show acl` without argument, `show errors` and
/// `show servers state` without argument) have no failing form on an
/// admin socket: they are judged by recognition of their dump
/// ([`success_forms_are_recognised`]).
#[test]
fn every_failing_form_is_a_failure_and_changes_nothing() {
    let fleet = Fleet::start(Options {
        instances: 1,
        topology: Topology::standard(),
        extra_sockets: vec![
            ("user".to_owned(), Level::User),
            ("operator".to_owned(), Level::Operator),
        ],
        extra_config: STATIC_BACKEND.to_owned(),
        ..Options::default()
    });
    let i = &fleet.instances()[0];
    let map = fleet.map_file().to_string_lossy().into_owned();
    let acl = fleet.acl_file().to_string_lossy().into_owned();
    let dir = fleet.dir().to_string_lossy().into_owned();
    let mut rows = Vec::new();
    for case in cases(&map, &acl) {
        let Case {
            command,
            form,
            level,
            built,
        } = case;
        let before = state(i, &map, &acl);
        let (line, reply, verdict) = match built {
            Ok(c) => {
                let (reply, verdict) = match send_on(socket(i, level), &c) {
                    Ok(reply) => {
                        let verdict = match c.judge(&reply) {
                            Ok(_) => Verdict::Success,
                            Err(_) => Verdict::Failed,
                        };
                        (reply, verdict)
                    }
                    Err(haproxy_transport::Error::LevelTooLow { message, .. }) => {
                        (message, Verdict::LevelTooLow)
                    }
                    Err(e) => panic!("{}: {e}", c.line()),
                };
                (c.line().replace(&dir, "$DIR"), reply, verdict)
            }
            Err(e) => (
                format!("refused: {}: {}", e.argument, e.kind),
                String::new(),
                Verdict::Refused,
            ),
        };
        let after = state(i, &map, &acl);
        assert_eq!(before, after, "`{line}` changed HAProxy's state");
        rows.push(Row {
            command,
            form,
            line,
            reply,
            verdict,
        });
    }
    let (maj, min, _) = haproxy_version();
    let table = render(&format!("{maj}.{min}"), &rows);
    check_doc(&format!("{maj}.{min}"), &table);
    let false_successes: Vec<&Row> = rows
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Success))
        .collect();
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
        let (reply, verdict) = match r.verdict {
            Verdict::Failed => (cell(&r.reply), "**CommandFailed**"),
            Verdict::LevelTooLow => (cell(&r.reply), "**LevelTooLow** (transport)"),
            Verdict::Refused => ("(not sent)".to_owned(), "**ArgError** (builder)"),
            Verdict::Success => (cell(&r.reply), "success (WRONG)"),
        };
        t.push_str(&format!(
            "| {} | {} | {} | {reply} | {verdict} |\n",
            r.command,
            r.form,
            cell(&r.line),
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
    let port = mw.frontend_port("fe_tcp");
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
    batch.push(
        Weight::Absolute(5)
            .command("be_static", "s1")
            .expect("queue"),
    );
    let err = batch.run().expect_err("a write to an old worker");
    assert!(
        err.to_string().contains("Proxy is disabled."),
        "HAProxy's words, verbatim: {err}"
    );
    let after = mw.raw_master(&format!("@!{old} get weight be_static/s1"));
    assert_eq!(before, after, "the old worker's weight changed");
    drop(conn);
}
