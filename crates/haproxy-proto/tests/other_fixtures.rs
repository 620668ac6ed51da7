//! Every non-`show stat` fixture (copied from `/work/shared/fixtures`, see
//! its MANIFEST.md) and the HAProxy 2.6 captures in
//! `tests/fixtures/other/captured-2.6/` go through the parsers of `info`,
//! `typed`, `map`, `servers_state`, `show_errors` and `proc`, with values
//! spot-checked; malformed ones give positioned errors. The info field table
//! is checked against HAProxy 2.6's own `show info typed`.
//!
//! Not covered here (no parser for them in these modules): `env-*`
//! (`show env`), `backend-*` (`show backend`) and `info-json-*`
//! (`show info json`).

use haproxy_proto::info::{info_field, parse_info, InfoValueKind, INFO_FIELDS};
use haproxy_proto::map::{
    parse_acl_entries, parse_lookup, parse_map_entries, parse_map_list, LookupKind,
};
use haproxy_proto::proc::{parse_proc, ProcKind};
use haproxy_proto::servers_state::{parse_servers_state, OpState};
use haproxy_proto::show_errors::parse_errors;
use haproxy_proto::typed::{
    parse_typed, Nature, ObjectType, Origin, Persistence, Scope, TypedValue,
};
use haproxy_proto::{Combine, Input, ParseErrorKind};
use std::time::Duration;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("fixtures/other/", $name))
    };
}

/// The input without its last line (the manual's `(...)`).
fn without_elision(s: &str) -> &str {
    let body = s
        .strip_suffix("(...)\n")
        .expect("ends with the elision line");
    assert!(!body.contains("(...)"));
    body
}

/// (fixture, fields, version, a spot check)
type InfoCase<'a> = (&'a str, usize, Option<&'a str>, (&'a str, &'a str));

/// (fixture, entries, relative pid column, old entries, master's reloads, master's failed)
type ProcCase<'a> = (&'a str, usize, bool, usize, u32, Option<u32>);

#[test]
fn info_fixtures() {
    let cases: &[InfoCase<'_>] = &[
        (
            fixture!("info-1.5.3-octavia.txt"),
            48,
            Some("1.5.3"),
            ("SslRate", "0"),
        ),
        (
            fixture!("info-2.5.5-haproxy-rs.txt"),
            69,
            Some("2.5.5-384c5c5"),
            ("Unstoppable Jobs", "1"),
        ),
        (
            fixture!("info-2.7.1-otel-haproxyreceiver.txt"),
            69,
            Some("2.7.1-3e4af0e"),
            ("TotalSplicdedBytesOut", "0"),
        ),
        (
            fixture!("info-unknown-haproxy_exporter.txt"),
            3,
            Some("test version"),
            ("Release_date", "test date"),
        ),
        (
            fixture!("captured-2.6/info.txt"),
            70,
            Some("2.6.12-1+deb12u4"),
            ("Build info", "2.6.12-1+deb12u4"),
        ),
    ];
    for (text, n, version, (k, v)) in cases {
        let info = parse_info(text).expect("parses");
        assert_eq!(info.len(), *n);
        assert_eq!(info.version(), *version);
        assert_eq!(info.get(k), Some(*v), "{k}");
    }

    let octavia = parse_info(fixture!("info-1.5.3-octavia.txt")).expect("parses");
    assert_eq!(octavia.description(), Some(""));
    assert_eq!(octavia.node(), Some("amphora-abd35de5-e377-49c5-be32"));
    assert_eq!(octavia.uptime_text(), Some("0d 2h22m17s"));
    assert_eq!(octavia.uptime(), Ok(Some(Duration::from_secs(8537))));
    assert_eq!(octavia.maxconn(), Ok(Some(2000)));
    assert_eq!(octavia.nbthread(), Ok(None));
    assert_eq!(octavia.ssl_rate_limit(), Ok(Some(0)));

    let v26 = parse_info(fixture!("captured-2.6/info.txt")).expect("parses");
    assert_eq!(v26.description(), Some("test description, with: colon"));
    assert_eq!(v26.node(), Some("testnode"));
    assert_eq!(v26.pid(), Ok(Some(6104)));
    assert_eq!(
        (v26.maxconn(), v26.hard_maxconn()),
        (Ok(Some(500)), Ok(Some(500)))
    );
    assert_eq!(
        (v26.nbproc(), v26.process_num()),
        (Ok(Some(1)), Ok(Some(1)))
    );
    assert_eq!((v26.cum_conns(), v26.cum_req()), (Ok(Some(4)), Ok(Some(2))));
    assert_eq!(v26.idle_pct(), Ok(Some(100)));
    assert_eq!(v26.start_time_sec(), Ok(Some(1_795_488_557)));
    let owned = v26.clone().into_owned();
    assert_eq!(owned.get("Tainted"), Some("0"));
    assert_eq!(owned.fields.len(), 70);

    // Every field of every real capture is known to the table.
    for text in [
        fixture!("info-1.5.3-octavia.txt"),
        fixture!("info-2.5.5-haproxy-rs.txt"),
        fixture!("info-2.7.1-otel-haproxyreceiver.txt"),
        fixture!("captured-2.6/info.txt"),
    ] {
        let info = parse_info(text).expect("parses");
        for (name, value) in info.iter() {
            let f = info_field(name).unwrap_or_else(|| panic!("{name} not in the table"));
            if f.kind == InfoValueKind::Unsigned {
                assert!(info.get_u64(name).is_ok(), "{name}: {value}");
            }
        }
    }
}

/// The info table against HAProxy 2.6's own statement of each field's nature.
#[test]
fn info_table_matches_haproxy_2_6_typed() {
    // Where the table deliberately differs from `Tags::combine` (documented
    // on `INFO_FIELDS`).
    let exceptions = [
        ("Process_num", Combine::MustAgree),
        ("Pid", Combine::MustAgree),
        ("Uptime", Combine::MustAgree),
        ("Uptime_sec", Combine::MustAgree),
        ("MaxSessRate", Combine::Max),
        ("SslFrontendSessionReuse_pct", Combine::Average),
        ("Start_time_sec", Combine::MustAgree),
    ];
    let typed = parse_typed(fixture!("captured-2.6/info-typed.txt")).expect("parses");
    assert_eq!(typed.len(), 70);
    let plain = parse_info(fixture!("captured-2.6/info.txt")).expect("parses");
    let plain_names: Vec<_> = plain.iter().map(|(n, _)| n).collect();
    let typed_names: Vec<_> = typed.iter().map(|t| t.name).collect();
    assert_eq!(plain_names, typed_names, "same fields, same order");
    let mut checked = 0;
    for t in &typed {
        let f = info_field(t.name).unwrap_or_else(|| panic!("{} not in the table", t.name));
        assert_eq!(f.nature, t.tags.nature, "{}: nature", t.name);
        let want = exceptions
            .iter()
            .find(|(n, _)| *n == t.name)
            .map_or_else(|| t.tags.combine(), |(_, c)| *c);
        assert_eq!(f.combine, want, "{}: combine (tags {:?})", t.name, t.tags);
        let numeric = matches!(t.value, TypedValue::U32(_) | TypedValue::U64(_));
        assert_eq!(
            f.kind == InfoValueKind::Unsigned,
            numeric,
            "{}: kind",
            t.name
        );
        checked += 1;
    }
    assert_eq!(checked, 70);
    // The two zlib-only fields are not in a 2.6 build without zlib; 11
    // fields are 3.0's and 3.4's (checked in captured_versions.rs).
    assert_eq!(INFO_FIELDS.len(), 72 + 11);
    // haproxyadmin sums Idle_pct (200% on two processes); we average it.
    assert_eq!(
        info_field("Idle_pct").map(|f| f.combine),
        Some(Combine::Average)
    );
}

#[test]
fn typed_fixtures() {
    // Doc excerpts: refused because of the `(...)` line, parsed without it.
    let docs: &[(&str, usize, bool)] = &[
        (fixture!("info-typed-1.7-dev1-haproxy-doc.txt"), 12, false),
        (
            fixture!("info-typed-1.7-dev1-haproxy-doc-2proc.txt"),
            14,
            false,
        ),
        (fixture!("info-typed-3.3-haproxy-doc.txt"), 13, true),
        (fixture!("stat-typed-1.7-haproxy-doc.txt"), 31, false),
        (fixture!("stat-typed-3.3-haproxy-doc.txt"), 26, true),
        (fixture!("stat-typed-3.3-haproxy-doc-2proc.txt"), 14, true),
    ];
    for (text, n, four) in docs {
        let e = parse_typed(text).expect_err("the elision line is refused");
        assert_eq!(e.input, Input::Typed);
        assert!(matches!(e.kind, ParseErrorKind::Malformed { .. }));
        assert_eq!((e.position.line, e.position.column), (n + 1, 1));
        let fields = parse_typed(without_elision(text)).expect("parses");
        assert_eq!(fields.len(), *n);
        assert!(fields.iter().all(|f| f.tags.persistence.is_some() == *four));
    }

    // MANIFEST.md says this one ends with `(...)` and has 13 data rows; the
    // bytes have 14 field lines and no elision line.
    let merged = parse_typed(fixture!("stat-typed-1.7-haproxy-doc-2proc.txt")).expect("parses");
    assert_eq!(merged.len(), 14);
    assert_eq!(merged.iter().filter(|f| f.process == 2).count(), 7);

    let two = parse_typed(without_elision(fixture!(
        "info-typed-1.7-dev1-haproxy-doc-2proc.txt"
    )))
    .expect("parses");
    let pids: Vec<_> = two
        .iter()
        .filter(|f| f.name == "Pid")
        .map(|f| (f.process, f.value))
        .collect();
    assert_eq!(
        pids,
        [(1, TypedValue::U32(30120)), (2, TypedValue::U32(30121))]
    );
    assert_eq!(two[13].value, TypedValue::Str("0d 0h01m28s"));

    let stat17 =
        parse_typed(without_elision(fixture!("stat-typed-1.7-haproxy-doc.txt"))).expect("parses");
    assert!(stat17.iter().any(|f| f.tags.nature == Nature::Avg));
    assert!(stat17.iter().any(|f| f.value == TypedValue::S32(-1)));
    let kinds: std::collections::BTreeSet<_> = stat17
        .iter()
        .filter_map(|f| f.object.map(|o| format!("{:?}", o.kind)))
        .collect();
    assert_eq!(kinds.len(), 4, "F, L, S and B: {kinds:?}");

    let stat33 =
        parse_typed(without_elision(fixture!("stat-typed-3.3-haproxy-doc.txt"))).expect("parses");
    assert_eq!(stat33[5].name, "stot");
    assert_eq!(stat33[5].tags.persistence, Some(Persistence::Persistent));
    assert_eq!(stat33[0].tags.persistence, Some(Persistence::Volatile));

    let info26 = parse_typed(fixture!("captured-2.6/info-typed.txt")).expect("parses");
    let desc = info26
        .iter()
        .find(|f| f.name == "description")
        .expect("description");
    assert_eq!(desc.value, TypedValue::Str("test description, with: colon"));
    assert_eq!(
        (desc.tags.origin, desc.tags.scope),
        (Origin::Config, Scope::Service)
    );

    let stat26 = parse_typed(fixture!("captured-2.6/stat-typed.txt")).expect("parses");
    assert_eq!(stat26.len(), 430);
    let fe = stat26[0];
    assert_eq!((fe.name, fe.value), ("pxname", TypedValue::Str("fe_main")));
    let o = fe.object.expect("stat line");
    assert_eq!((o.kind, o.proxy_id, o.id), (ObjectType::Frontend, 2, 0));
    let slim = stat26.iter().find(|f| f.name == "slim").expect("slim");
    assert_eq!(
        (slim.value, slim.tags.combine()),
        (TypedValue::U32(500), Combine::Sum)
    );
    assert!(stat26
        .iter()
        .any(|f| f.name == "status" && f.value == TypedValue::Str("no check")));
    assert!(stat26
        .iter()
        .all(|f| f.process == 1 && f.tags.persistence.is_none()));
}

#[test]
fn map_and_acl_fixtures() {
    let l = parse_map_list(fixture!("map-list-unknown-openshift-router.txt")).expect("parses");
    assert_eq!(l.len(), 3);
    assert_eq!(l[2].id, -1);
    assert_eq!(l[2].file, Some("/var/lib/haproxy/conf/os_http_be.map"));
    assert!(l
        .iter()
        .all(|m| m.curr_ver.is_none() && m.entry_cnt.is_none()));
    assert!(l[0].description.ends_with("line 68"));

    let a =
        parse_map_list(fixture!("acl-list-unknown-client-native-indented.txt")).expect("parses");
    assert_eq!(a.len(), 2);
    assert_eq!((a[0].id, a[0].file), (0, Some("/etc/acl/blocklist.txt")));
    assert_eq!((a[1].id, a[1].file), (1, None));
    assert_eq!(
        a[1].description,
        "acl 'src' file '/usr/local/etc/haproxy/haproxy.cfg' line 59"
    );

    let e = parse_acl_entries(fixture!("acl-entries-unknown-client-native-indented.txt"))
        .expect("parses");
    let pats: Vec<_> = e.iter().map(|x| (x.id, x.key)).collect();
    assert_eq!(
        pats,
        [
            ("0x55c476034560", "2.178.160.0/20"),
            ("0x55c475f602f0", "2.178.176.0/20"),
            ("0x55c476035b90", "2.178.192.0/20"),
        ]
    );

    for text in [
        fixture!("acl-error-unknown-client-native-indented.txt"),
        fixture!("captured-2.6/acl-error.txt"),
        fixture!("captured-2.6/map-error.txt"),
    ] {
        for err in [
            parse_map_list(text).expect_err("error reply"),
            parse_acl_entries(text).expect_err("error reply"),
            parse_map_entries(text).expect_err("error reply"),
            parse_lookup(text).expect_err("error reply"),
        ] {
            assert_eq!(err.input, Input::MapAcl);
            assert_eq!(err.position.line, 1);
            assert!(matches!(
                err.kind,
                ParseErrorKind::Malformed { .. } | ParseErrorKind::InvalidNumber
            ));
        }
    }

    let ml = parse_map_list(fixture!("captured-2.6/map-list.txt")).expect("parses");
    assert_eq!(ml.len(), 1);
    assert_eq!(
        (ml[0].id, ml[0].curr_ver, ml[0].next_ver, ml[0].entry_cnt),
        (3, Some(0), Some(0), Some(3))
    );
    assert_eq!(ml[0].file, Some("/tmp/info-cap.JECD/hosts.map"));
    assert!(ml[0]
        .description
        .ends_with("used by map at file 'haproxy.cfg' line 15."));

    let al = parse_map_list(fixture!("captured-2.6/acl-list.txt")).expect("parses");
    assert_eq!(al.len(), 5);
    assert_eq!((al[1].file, al[1].entry_cnt), (None, Some(0)));
    assert_eq!(al[4].description, "acl 'var' file 'httpclient' line 0.");

    let me = parse_map_entries(fixture!("captured-2.6/map-entries.txt")).expect("parses");
    assert_eq!(me.len(), 3);
    assert_eq!((me[0].key, me[0].value), ("example.com", Some("be_app")));
    assert_eq!(
        (me[2].key, me[2].value),
        ("spaced.key", Some("some value with spaces"))
    );

    let ae = parse_acl_entries(fixture!("captured-2.6/acl-entries.txt")).expect("parses");
    assert_eq!(
        ae.iter().map(|x| x.key).collect::<Vec<_>>(),
        ["10.0.0.0/8", "192.168.0.0/16", "127.0.0.1"]
    );

    let found = parse_lookup(fixture!("captured-2.6/get-map-found.txt")).expect("parses");
    assert_eq!(found.len(), 1);
    let f = found[0];
    assert_eq!(
        (f.kind, f.match_type, f.case_insensitive, f.found),
        (LookupKind::Map, "str", false, true)
    );
    assert_eq!(
        (f.index, f.key, f.value, f.value_type),
        (
            Some("tree"),
            Some("example.com"),
            Some("be_app"),
            Some("str")
        )
    );
    let spaces = parse_lookup(fixture!("captured-2.6/get-map-spaces.txt")).expect("parses");
    assert_eq!(spaces[0].value, Some("some value with spaces"));
    let nf = parse_lookup(fixture!("captured-2.6/get-map-notfound.txt")).expect("parses");
    assert_eq!((nf[0].found, nf[0].key, nf[0].index), (false, None, None));
    let acl = parse_lookup(fixture!("captured-2.6/get-acl-found.txt")).expect("parses");
    assert_eq!(
        (acl[0].kind, acl[0].match_type, acl[0].key),
        (LookupKind::Acl, "ip", Some("10.0.0.0/8"))
    );
    let anf = parse_lookup(fixture!("captured-2.6/get-acl-notfound.txt")).expect("parses");
    assert_eq!((anf[0].kind, anf[0].found), (LookupKind::Acl, false));
}

#[test]
fn proc_fixtures() {
    let cases: &[ProcCase<'_>] = &[
        (
            fixture!("proc-2.2.3-haproxy-ingress-multi-worker.txt"),
            6,
            true,
            3,
            1128,
            None,
        ),
        (
            fixture!("proc-2.2.3-haproxy-ingress-old-worker.txt"),
            3,
            true,
            1,
            2,
            None,
        ),
        (
            fixture!("proc-2.5-dev13-haproxy-doc.txt"),
            3,
            false,
            1,
            5,
            Some(0),
        ),
        (
            fixture!("proc-2.5.3-haproxy-ingress-old-workers.txt"),
            8,
            false,
            6,
            1420,
            Some(0),
        ),
        (
            fixture!("proc-2.5.3-haproxy-ingress-tab.txt"),
            2,
            false,
            0,
            0,
            Some(0),
        ),
        (fixture!("captured-2.6/proc.txt"), 3, false, 0, 0, Some(0)),
        (
            fixture!("captured-2.6/proc-after-reload.txt"),
            4,
            false,
            1,
            1,
            Some(0),
        ),
    ];
    for (text, n, relative, old, reloads, failed) in cases {
        let p = parse_proc(text).expect("parses");
        assert_eq!(p.len(), *n);
        assert_eq!(p[0].kind, ProcKind::Master);
        assert_eq!((p[0].reloads, p[0].failed), (*reloads, *failed));
        assert!(p.iter().all(|e| e.relative_pid.is_some() == *relative));
        assert_eq!(p.iter().filter(|e| e.old).count(), *old);
    }

    let multi =
        parse_proc(fixture!("proc-2.2.3-haproxy-ingress-multi-worker.txt")).expect("parses");
    assert_eq!(
        (multi[3].pid, multi[3].relative_pid, multi[3].old),
        (2112, Some(1001), true)
    );
    assert_eq!(multi[0].uptime, Duration::from_secs(148));

    let doc = parse_proc(fixture!("proc-2.5-dev13-haproxy-doc.txt")).expect("parses");
    assert_eq!(doc[2].version, Some("2.0-dev3-6019f6-289"));
    assert_eq!(doc[0].uptime_text, "0d00h02m07s");

    let tab = parse_proc(fixture!("proc-2.5.3-haproxy-ingress-tab.txt")).expect("parses");
    assert_eq!(
        (tab[1].pid, tab[1].kind, tab[1].reloads),
        (94293, ProcKind::Worker, 0)
    );

    let reload = parse_proc(fixture!("captured-2.6/proc-after-reload.txt")).expect("parses");
    assert_eq!((reload[1].pid, reload[1].old), (6274, false));
    assert_eq!(
        (reload[2].pid, reload[2].old, reload[2].reloads),
        (6244, true, 1)
    );
    assert_eq!(
        (reload[3].kind, reload[3].version),
        (ProcKind::Program("sleeper"), None)
    );
    assert_eq!(reload[0].version, Some("2.6.12-1+deb12u4"));

    let cut = fixture!("proc-2.2.3-haproxy-ingress-truncated.txt");
    let e = parse_proc(cut).expect_err("truncated");
    assert_eq!(e.input, Input::Proc);
    assert_eq!(e.kind, ParseErrorKind::Truncated);
    assert_eq!(e.position.byte, cut.len());
    assert_eq!((e.position.line, e.position.record), (5, Some(2)));
}

#[test]
fn servers_state_capture() {
    let s = parse_servers_state(fixture!("captured-2.6/servers-state.txt")).expect("parses");
    assert_eq!((s.version, s.columns.len(), s.servers.len()), (1, 25, 3));
    let app2 = &s.servers[1];
    assert_eq!(
        (app2.backend(), app2.server(), app2.addr()),
        (Some("be_app"), Some("app2"), Some("127.0.0.1"))
    );
    assert_eq!(
        (app2.port(), app2.weight()),
        (Ok(Some(18492)), Ok(Some(50)))
    );
    // `disabled` in the config: configured maintenance (4) + forced-from-config bit (1).
    assert_eq!(app2.admin_state(), Ok(Some(5)));
    assert_eq!(app2.op_state(), Ok(Some(OpState::Stopped)));
    assert_eq!(app2.get("srv_fqdn"), None);
    assert_eq!(s.servers[0].op_state(), Ok(Some(OpState::Running)));
    assert_eq!(s.servers[2].get_u64("be_id"), Ok(Some(4)));

    let one =
        parse_servers_state(fixture!("captured-2.6/servers-state-be_app.txt")).expect("parses");
    assert_eq!(one.servers.len(), 2);
    assert!(one.servers.iter().all(|r| r.backend() == Some("be_app")));
}

#[test]
fn show_errors_capture() {
    let r = parse_errors(fixture!("captured-2.6/errors.txt")).expect("parses");
    assert_eq!(
        (r.captured_at, r.total, r.entries.len()),
        ("24/Nov/2026:02:49:23.901", 1, 1)
    );
    let e = &r.entries[0];
    assert_eq!(
        (e.date, e.side, e.proxy.name, e.proxy.id),
        ("24/Nov/2026:02:49:22.826", "frontend", "fe_main", 2)
    );
    assert_eq!(e.what, "invalid request");
    assert_eq!(e.backend.map(|b| (b.name, b.id)), Some(("<NONE>", -1)));
    assert_eq!(e.server.map(|b| (b.name, b.id)), Some(("<NONE>", -1)));
    assert_eq!((e.event, e.src), (Some(0), Some("127.0.0.1:55166")));
    assert_eq!((e.len, e.error_at), (Some(30), Some(19)));
    let dump: Vec<_> = e.dump.iter().map(|d| (d.offset, d.text)).collect();
    assert_eq!(
        dump,
        [
            (0, "GET / HTTP/1.1\\r\\n"),
            (16, "Bad Header\\r\\n"),
            (28, "\\r\\n")
        ]
    );
    assert_eq!(e.details.len(), 6);
}

mod never_panic {
    use super::*;
    use proptest::prelude::*;

    fn all(s: &str) {
        let _ = parse_info(s).map(|i| (i.pid(), i.uptime()));
        let _ = parse_typed(s);
        let _ = parse_map_list(s);
        let _ = parse_map_entries(s);
        let _ = parse_acl_entries(s);
        let _ = parse_lookup(s);
        if let Ok(st) = parse_servers_state(s) {
            for r in &st.servers {
                let _ = (r.op_state(), r.port(), r.get("be_name"));
            }
        }
        let _ = parse_errors(s);
        let _ = parse_proc(s);
        let _ = haproxy_proto::proc::parse_uptime(s);
    }

    proptest! {
        #[test]
        fn on_arbitrary_text(s in any::<String>()) {
            all(&s);
        }

        #[test]
        fn on_output_like_text(s in "[0-9a-fxFBSLMCGPKNOaRDTmsV .:#()\\[\\]\"=,+\\-<>\t\r\n]{0,300}") {
            all(&s);
        }

        #[test]
        fn on_mutated_fixtures(i in 0usize..8, cut in 0usize..4000, b in any::<u8>()) {
            let texts = [
                fixture!("captured-2.6/info.txt"),
                fixture!("captured-2.6/stat-typed.txt"),
                fixture!("captured-2.6/map-list.txt"),
                fixture!("captured-2.6/get-map-found.txt"),
                fixture!("captured-2.6/servers-state.txt"),
                fixture!("captured-2.6/errors.txt"),
                fixture!("captured-2.6/proc-after-reload.txt"),
                fixture!("proc-2.2.3-haproxy-ingress-multi-worker.txt"),
            ];
            let mut bytes = texts[i].as_bytes().to_vec();
            let at = cut % (bytes.len() + 1);
            bytes.truncate(at);
            bytes.push(b);
            all(&String::from_utf8_lossy(&bytes));
            all(&String::from_utf8_lossy(&bytes[..at]));
        }
    }
}
