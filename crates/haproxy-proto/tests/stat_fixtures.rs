//! `show stat` parsing against real and hand-made replies of many HAProxy
//! versions (tests/fixtures/stat, from shared/fixtures; see its MANIFEST),
//! and against replies captured from HAProxy 2.6 here
//! (tests/fixtures/stat/captured-2.6, config beside them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use haproxy_proto::field::Column;
use haproxy_proto::stat::{parse_stat, parse_stat_with_columns, StatRecord, StatTable, Value};
use haproxy_proto::value::{Addr, CheckResult, Mode, ProxyType, Status};
use haproxy_proto::{Combine, ParseError, ParseErrorKind};
use proptest::prelude::*;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stat");

fn read(name: &str) -> String {
    let path = Path::new(DIR).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parsed(text: &str) -> StatTable<'_> {
    parse_stat(text).unwrap_or_else(|e| panic!("{e}"))
}

/// Every file of the directory whose name starts with `stat-` and ends
/// with `.csv`.
fn csv_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("fixture directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("stat-") && n.ends_with(".csv"))
        .collect();
    names.sort();
    names
}

enum Expect {
    /// Parses, with this many records and header columns.
    Ok(usize, usize),
    /// Fails with this kind at this line, record and field.
    Err(ParseErrorKind, usize, Option<usize>, Option<&'static str>),
}

fn check(name: &str, got: Result<StatTable<'_>, ParseError>, want: &Expect) {
    match (got, want) {
        (Ok(t), Expect::Ok(records, columns)) => {
            assert_eq!((t.len(), t.header().len()), (*records, *columns), "{name}");
        }
        (Err(e), Expect::Err(kind, line, record, field)) => {
            assert_eq!(&e.kind, kind, "{name}: {e}");
            assert_eq!(e.position.line, *line, "{name}: {e}");
            assert_eq!(e.position.record, *record, "{name}: {e}");
            assert_eq!(e.field.as_deref(), *field, "{name}: {e}");
        }
        (Ok(t), Expect::Err(..)) => panic!("{name}: parsed {} records, expected an error", t.len()),
        (Err(e), Expect::Ok(..)) => panic!("{name}: {e}"),
    }
}

/// What `parse_stat` gives for every stat-*.csv of shared/fixtures. Row
/// counts are the MANIFEST's "data rows"; header column counts include the
/// `-` separator and module columns.
fn shared_expectations() -> Vec<(&'static str, Expect)> {
    use Expect::{Err, Ok};
    use ParseErrorKind as K;
    vec![
        (
            "stat-1.3-haproxy_exporter-older-versions.csv",
            Err(K::MissingHeader, 1, None, None),
        ),
        // Hand-made: text in the numeric hrsp_2xx column.
        (
            "stat-1.4-datadog-mock_data.csv",
            Err(K::InvalidNumber, 10, Some(8), Some("hrsp_2xx")),
        ),
        // Hostile quoting is read right; the quoted text then sits in hrsp_2xx.
        (
            "stat-1.4-datadog-mock_data_evil.csv",
            Err(K::InvalidNumber, 10, Some(8), Some("hrsp_2xx")),
        ),
        // A lone `#` line, then the names without `# `.
        ("stat-1.4-dd-agent-docstring.csv", Ok(3, 51)),
        ("stat-1.4-diamond.csv", Ok(16, 51)),
        (
            "stat-1.4-haproxy_exporter-bench.csv",
            Err(K::MissingHeader, 1, None, None),
        ),
        (
            "stat-1.4-haproxy_exporter-broken-missing-comma-2017.csv",
            Err(K::MissingHeader, 1, None, None),
        ),
        (
            "stat-1.4-haproxy_exporter-no-check-2016.csv",
            Err(K::MissingHeader, 1, None, None),
        ),
        ("stat-1.4-neutron-lbaas-blank-line.csv", Ok(3, 51)),
        ("stat-1.4-neutron-lbaas-header-only.csv", Ok(0, 51)),
        ("stat-1.5-go-haproxy-no-final-newline.csv", Ok(1, 62)),
        // Two identical headers: the second is skipped.
        ("stat-1.5-marathon-lb-two-headers.csv", Ok(31, 62)),
        ("stat-1.5-octavia.csv", Ok(8, 62)),
        ("stat-1.5-telegraf-2015.csv", Ok(16, 62)),
        ("stat-1.7-appdynamics-demo.csv", Ok(13, 83)),
        ("stat-1.7-peopledoc-tcp-check.csv", Ok(36, 83)),
        // Record 0 lacks only the trailing comma (accepted); record 1 has 63 fields.
        (
            "stat-1.7-telegraf-2016-short-rows.csv",
            Err(
                K::TooFewFields {
                    expected: 83,
                    found: 63,
                },
                4,
                Some(1),
                Some("agent_code"),
            ),
        ),
        ("stat-1.7-telegraf-2016.csv", Ok(15, 83)),
        // Wrap spaces inside a number.
        (
            "stat-1.7-telegraf-mangled-paste.csv",
            Err(K::InvalidNumber, 3, Some(0), Some("conn_tot")),
        ),
        ("stat-1.7-telegraf-sample_output.csv", Ok(13, 83)),
        (
            "stat-2.1-openshift-router.csv",
            Err(K::MissingHeader, 1, None, None),
        ),
        ("stat-2.2-riemann-tools.csv", Ok(3, 99)),
        // 100 standard + `-` + 13 h2 columns, two names repeated.
        ("stat-2.3-sensu-go-haproxy-check.csv", Ok(11, 114)),
        ("stat-2.5.5-haproxy-rs.csv", Ok(12, 118)),
        // Digits stripped: numeric fields are empty, which is valid.
        (
            "stat-2.7-otel-haproxyreceiver-30252-broken-row.csv",
            Ok(6, 128),
        ),
        ("stat-2.7-otel-haproxyreceiver.csv", Ok(6, 128)),
        ("stat-2.9-otel-haproxyreceiver-empty.csv", Ok(0, 136)),
        (
            "stat-unknown-haproxy_exporter-broken-missing-comma.csv",
            Err(K::MissingHeader, 1, None, None),
        ),
        ("stat-unknown-haproxy_exporter-empty.csv", Ok(0, 0)),
        (
            "stat-unknown-haproxy_exporter-no-check-unix.csv",
            Err(K::MissingHeader, 1, None, None),
        ),
        (
            "stat-unknown-haproxy_exporter-no-check.csv",
            Err(K::MissingHeader, 1, None, None),
        ),
        (
            "stat-unknown-haproxy_exporter-not-enough-fields.csv",
            Err(K::MissingHeader, 1, None, None),
        ),
    ]
}

#[test]
fn every_shared_fixture_parses_as_the_manifest_says() {
    let expectations = shared_expectations();
    let listed: Vec<&str> = expectations.iter().map(|(n, _)| *n).collect();
    let present = csv_files(Path::new(DIR));
    assert_eq!(listed, present, "every fixture has exactly one expectation");
    for (name, want) in &expectations {
        let text = read(name);
        check(name, parse_stat(&text), want);
    }
}

#[test]
fn headerless_fixtures_parse_with_given_columns() {
    use Expect::{Err, Ok};
    use ParseErrorKind as K;
    let cases = [
        (
            "stat-1.3-haproxy_exporter-older-versions.csv",
            33,
            Ok(3, 33),
        ),
        ("stat-1.4-haproxy_exporter-bench.csv", 51, Ok(2735, 51)),
        // `DRAIN (agent)1`: a missing comma shifts record 1's fields left, so
        // `L4OK` lands in the numeric `rate_max`: caught there.
        (
            "stat-1.4-haproxy_exporter-broken-missing-comma-2017.csv",
            51,
            Err(K::InvalidNumber, 2, Some(1), Some("rate_max")),
        ),
        // No final newline, full field count: complete.
        ("stat-1.4-haproxy_exporter-no-check-2016.csv", 51, Ok(1, 51)),
        ("stat-2.1-openshift-router.csv", 94, Ok(18, 94)),
        ("stat-unknown-haproxy_exporter-no-check.csv", 62, Ok(1, 62)),
        (
            "stat-unknown-haproxy_exporter-no-check-unix.csv",
            62,
            Ok(1, 62),
        ),
        (
            "stat-unknown-haproxy_exporter-broken-missing-comma.csv",
            62,
            Err(K::InvalidNumber, 2, Some(1), Some("rate_max")),
        ),
        // Garbage: text where qcur must be a number.
        (
            "stat-unknown-haproxy_exporter-not-enough-fields.csv",
            51,
            Err(K::InvalidNumber, 1, Some(0), Some("qcur")),
        ),
        ("stat-unknown-haproxy_exporter-empty.csv", 51, Ok(0, 51)),
    ];
    for (name, columns, want) in &cases {
        let text = read(name);
        check(
            name,
            parse_stat_with_columns(&text, &Column::ALL[..*columns]),
            want,
        );
    }
    // The same garbage read as text columns: 3 of 4 fields, then the input
    // ends without a newline: cut short.
    let text = read("stat-unknown-haproxy_exporter-not-enough-fields.csv");
    let cols = [Column::Pxname, Column::Svname, Column::Status, Column::Addr];
    check(
        "not-enough-fields as text",
        parse_stat_with_columns(&text, &cols),
        &Err(K::Truncated, 1, Some(0), Some("addr")),
    );
}

#[test]
fn spot_checks_of_real_captures() {
    let text = read("stat-1.4-diamond.csv");
    let t = parsed(&text);
    let r = t.record(2).expect("record 2");
    assert_eq!(
        (r.pxname(), r.svname()),
        (Some("app-domain-com"), Some("FRONTEND"))
    );
    assert_eq!(r.uint(Column::Stot), Some(3_693_012));
    assert_eq!(r.status(), Some(Status::Open));
    assert_eq!(r.proxy_type(), Some(ProxyType::Frontend));

    let text = read("stat-1.7-peopledoc-tcp-check.csv");
    let t = parsed(&text);
    let c = t
        .records()
        .find(|r| r.svname() == Some("server4-back-10"))
        .and_then(|r| r.check_status())
        .expect("server4-back-10 has a check status");
    assert!(c.in_progress);
    assert_eq!(c.result, CheckResult::L7Tout);
    let leading_space = t
        .records()
        .filter_map(|r| r.text(Column::LastChk))
        .any(|s| s.starts_with(" at step 5 of tcp-check"));
    assert!(leading_space, "a last_chk keeps its leading space");

    let text = read("stat-1.5-octavia.csv");
    let t = parsed(&text);
    let r = t
        .records()
        .find(|r| r.svname() == Some("id-34836"))
        .expect("id-34836");
    assert_eq!(r.pxname(), Some("tcp-servers:listener-id"));
    assert_eq!(r.get(Column::Weight), Some(Value::Int(0)));

    let text = read("stat-1.7-telegraf-sample_output.csv");
    let t = parsed(&text);
    let listeners = t
        .records()
        .filter(|r| r.proxy_type() == Some(ProxyType::Listener))
        .count();
    assert_eq!(listeners, 5);

    let text = read("stat-1.4-datadog-mock_data.csv");
    let e = parse_stat(&text).expect_err("text in hrsp_2xx");
    assert_eq!(e.found, "space, afterspace");

    let text = read("stat-2.3-sensu-go-haproxy-check.csv");
    let t = parsed(&text);
    let first = t
        .position_by_name("h2_open_connections")
        .expect("module column");
    let dups = t
        .header()
        .iter()
        .filter(|h| h.name() == "h2_open_connections")
        .count();
    assert_eq!(dups, 2);
    assert!(first > t.position_by_name("-").expect("separator"));
    let r = t
        .records()
        .find(|r| r.svname() == Some("ctrl01"))
        .expect("ctrl01");
    assert_eq!(r.check_status().map(|c| c.in_progress), Some(true));

    let text = read("stat-2.7-otel-haproxyreceiver.csv");
    let t = parsed(&text);
    assert_eq!(t.position(Column::AggServerStatus), Some(100));
    assert_eq!(t.position(Column::AggServerCheckStatus), Some(101));
    assert_eq!(t.position(Column::AggCheckStatus), Some(102));

    let text = read("stat-2.7-otel-haproxyreceiver-30252-broken-row.csv");
    let t = parsed(&text);
    let r = t
        .records()
        .find(|r| r.svname() == Some("s"))
        .expect("row s");
    assert_eq!(
        r.check_status().map(|c| c.result),
        Some(CheckResult::Other("LOK".into()))
    );
    assert_eq!(r.get(Column::Scur), None);
    assert_eq!(
        r.get(Column::Addr),
        Some(Value::Addr(Addr::Inet {
            host: "...".into(),
            port: None
        }))
    );

    let text = read("stat-1.4-dd-agent-docstring.csv");
    let t = parsed(&text);
    assert_eq!(t.record(0).and_then(|r| r.pxname()), Some("public"));
    assert_eq!(t.record(1).and_then(|r| r.status()), Some(Status::NoCheck));

    let text = read("stat-1.5-marathon-lb-two-headers.csv");
    let t = parsed(&text);
    let keys: BTreeSet<_> = t.records().filter_map(|r| r.key()).collect();
    assert!(keys.len() < t.len(), "the joined outputs repeat their rows");
}

#[test]
fn datadog_states_and_evil_quoting() {
    let text = read("stat-1.4-datadog-mock_data.csv");
    // The rows before the hand-made text parse; read them alone.
    let head: String = text.lines().take(9).map(|l| format!("{l}\n")).collect();
    let t = parsed(&head);
    let statuses: Vec<String> = t
        .records()
        .filter_map(|r| r.status())
        .map(|s| s.to_string())
        .collect();
    assert!(statuses.contains(&"UP 1/2".to_owned()), "{statuses:?}");
    let r = t
        .records()
        .find(|r| r.status() == Some(Status::GoingDown { done: 1, total: 2 }));
    assert!(r.is_some());
    let text = read("stat-1.4-datadog-mock_data_evil.csv");
    let e = parse_stat(&text).expect_err("text in hrsp_2xx");
    assert!(
        e.found.contains('\n'),
        "the quoted multi-line field is read whole: {:?}",
        e.found
    );
}

#[test]
fn captured_2_6_replies() {
    let text = read("captured-2.6/stat.csv");
    let t = parsed(&text);
    assert_eq!(t.header().len(), 128);
    assert_eq!(t.position(Column::AggCheckStatus), Some(102));
    assert_eq!(t.header()[103].name(), "-");
    fn by_name<'t>(t: &'t StatTable<'_>, px: &str, sv: &str) -> StatRecord<'t> {
        t.records()
            .find(|r| r.pxname() == Some(px) && r.svname() == Some(sv))
            .unwrap_or_else(|| panic!("{px}/{sv}"))
    }
    let row = by_name(&t, "fe_http", "sock-2");
    assert_eq!(
        row.get(Column::Type),
        Some(Value::ProxyType(ProxyType::Listener))
    );
    assert_eq!(
        row.get(Column::Addr),
        Some(Value::Addr(Addr::Inet {
            host: "::1".into(),
            port: Some(18481)
        }))
    );
    let row = by_name(&t, "be_http", "down1");
    assert_eq!(row.get(Column::Status), Some(Value::Status(Status::Down)));
    let row = by_name(&t, "be_http", "maint1");
    assert_eq!(row.get(Column::Status), Some(Value::Status(Status::Maint)));
    let row = by_name(&t, "be_http", "nochk");
    assert_eq!(
        row.get(Column::Status),
        Some(Value::Status(Status::NoCheck))
    );
    let row = by_name(&t, "be_http", "bk1");
    assert_eq!(row.get(Column::Bck), Some(Value::Int(1)));
    let row = by_name(&t, "be_http", "trk1");
    assert_eq!(
        row.get(Column::Tracked).map(|v| v.to_string()),
        Some("be_http/up1".into())
    );
    let row = by_name(&t, "be_tcp", "BACKEND");
    assert_eq!(row.get(Column::Mode), Some(Value::Mode(Mode::Tcp)));
    assert_eq!(
        row.get(Column::Algo).map(|v| v.to_string()),
        Some("leastconn".into())
    );
    let row = by_name(&t, "be_http", "up2");
    assert_eq!(row.get(Column::Weight), Some(Value::Int(50)));
    let fe = by_name(&t, "fe_http", "FRONTEND");
    assert!(matches!(fe.get_by_name("h1_total_connections"), Some(Value::Int(n)) if n > 0));

    let text = read("captured-2.6/stat-drain-maint.csv");
    let t = parsed(&text);
    assert_eq!(
        by_name(&t, "be_http", "up2").get(Column::Status),
        Some(Value::Status(Status::Drain))
    );
    assert_eq!(
        by_name(&t, "be_tcp", "t3").get(Column::Status),
        Some(Value::Status(Status::Maint))
    );

    let text = read("captured-2.6/stat-via-nolb.csv");
    let t = parsed(&text);
    assert_eq!(
        by_name(&t, "be_http", "trk1").get(Column::Status),
        Some(Value::Status(Status::MaintVia("be_http/up1".into())))
    );
    let row = by_name(&t, "be_nolb", "n1");
    assert_eq!(row.get(Column::Status), Some(Value::Status(Status::NoLb)));
    assert_eq!(row.get(Column::CheckCode), Some(Value::Int(404)));

    let text = read("captured-2.6/stat-transitional.csv");
    let t = parsed(&text);
    assert_eq!(
        by_name(&t, "be_trans", "gu").get(Column::Status),
        Some(Value::Status(Status::GoingUp { done: 1, total: 3 }))
    );
    let text = read("captured-2.6/stat-going-down.csv");
    let t = parsed(&text);
    assert_eq!(
        by_name(&t, "be_trans", "gd").get(Column::Status),
        Some(Value::Status(Status::GoingDown { done: 2, total: 3 }))
    );

    let text = read("captured-2.6/stat-servers-only.csv");
    let t = parsed(&text);
    assert!(t
        .records()
        .all(|r| r.proxy_type() == Some(ProxyType::Server)));

    // Every text-like value prints back as HAProxy wrote it.
    for name in csv_files(&Path::new(DIR).join("captured-2.6")) {
        let text = read(&format!("captured-2.6/{name}"));
        let t = parsed(&text);
        for r in t.records() {
            for (i, _) in t.header().iter().enumerate() {
                if let (Some(v), Some(raw)) = (r.get_at(i), r.text_at(i)) {
                    assert_eq!(v.to_string(), raw, "{name}: {i}");
                }
            }
        }
    }
}

/// Which combines agree with HAProxy's nature letter of a field in
/// `show stat typed` (the second letter of the tag).
fn allowed(nature: char) -> &'static [Combine] {
    match nature {
        'C' | 'L' | 'R' => &[Combine::Sum],
        'G' => &[Combine::Sum, Combine::MustAgree],
        'M' => &[Combine::Max],
        // An age: the mean, or the most recent (`lastchg`: the last
        // change on any process is what "since the last change" means).
        'A' => &[Combine::Average, Combine::Min],
        'D' => &[Combine::Average],
        'a' => &[Combine::Average, Combine::MustAgree],
        'N' | 'O' => &[Combine::MustAgree],
        other => panic!("unexpected nature {other}"),
    }
}

#[test]
fn combine_table_agrees_with_haproxy_2_6_typed_natures() {
    let text = read("captured-2.6/stat-typed.txt");
    // field name -> (origins, natures, scopes)
    let mut tags: BTreeMap<&str, [BTreeSet<char>; 3]> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut parts = line.splitn(4, ':');
        let (Some(id), Some(tag)) = (parts.next(), parts.next()) else {
            panic!("bad typed line {line:?}")
        };
        let name = id.split('.').nth(4).expect("field name in the id");
        let entry = tags.entry(name).or_default();
        for (set, c) in entry.iter_mut().zip(tag.chars()) {
            set.insert(c);
        }
    }
    let mut checked = 0;
    for (name, [origins, natures, scopes]) in &tags {
        let Some(column) = Column::from_name(name) else {
            continue; // module columns
        };
        let combine = column.combine();
        // HAProxy leaves some fields untagged on some object types, and an
        // untagged field reads as a gauge (nature 0): where a field has
        // another nature too, that one is meant.
        let mut natures = natures.clone();
        if natures.len() > 1 {
            natures.remove(&'G');
        }
        if origins.contains(&'K') {
            assert!(
                matches!(combine, Combine::MustAgree | Combine::First),
                "{name}: key"
            );
            checked += 1;
            continue;
        }
        for n in &natures {
            assert!(
                allowed(*n).contains(&combine),
                "{name}: nature {n} but {combine:?}"
            );
        }
        if scopes.contains(&'S') || origins.contains(&'S') {
            assert_eq!(
                combine,
                Combine::MustAgree,
                "{name}: service-wide or status"
            );
        }
        if origins.contains(&'K') {
            assert!(
                matches!(combine, Combine::MustAgree | Combine::First),
                "{name}: key"
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 90,
        "only {checked} standard fields in the typed output"
    );
}

fn fixture_texts() -> Vec<String> {
    let mut texts: Vec<String> = csv_files(Path::new(DIR)).iter().map(|n| read(n)).collect();
    texts.push(read("captured-2.6/stat.csv"));
    // Keep mutation cases quick: the 332 kB bench file is left out.
    texts.retain(|t| t.len() < 64 * 1024);
    texts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_text(s in "\\PC*") {
        let _ = parse_stat(&s);
    }

    #[test]
    fn never_panics_on_csv_like_text(s in "[#a-z0-9,\"\r\n -]{0,200}") {
        if let Ok(t) = parse_stat(&s) {
            for r in t.records() {
                for i in 0..t.header().len() {
                    let _ = r.get_at(i);
                }
                let _ = r.values().count();
            }
        }
    }

    #[test]
    fn never_panics_on_mutated_fixtures(
        which in any::<prop::sample::Index>(),
        cuts in prop::collection::vec((any::<prop::sample::Index>(), 0usize..8, "[,\"\r\n#a0-]{0,3}"), 1..4),
    ) {
        let texts = fixture_texts();
        let mut text = texts[which.index(texts.len())].clone().into_bytes();
        for (at, del, ins) in cuts {
            let at = at.index(text.len() + 1);
            let del = del.min(text.len() - at);
            text.splice(at..at + del, ins.bytes());
        }
        let text = String::from_utf8_lossy(&text);
        if let Ok(t) = parse_stat(&text) {
            for r in t.records() {
                let _ = r.values().count();
            }
        }
    }

    /// Any prefix of the whole capture (cut anywhere, not only early)
    /// parses into the whole parse's first records — each complete one
    /// equal to the whole's, the last maybe cut — or fails at or before
    /// the cut.
    #[test]
    fn any_prefix_of_a_capture_parses_or_says_where(at in any::<prop::sample::Index>()) {
        let text = read("captured-2.6/stat.csv");
        let whole = parse_stat(&text).expect("the whole capture parses");
        let fields = |r: haproxy_proto::stat::StatRecord<'_>| -> Vec<String> {
            r.values().map(|v| format!("{v:?}")).collect()
        };
        let want: Vec<Vec<String>> = whole.records().map(fields).collect();
        let cut = at.index(text.len() + 1);
        match parse_stat(&text[..cut]) {
            Ok(t) => {
                prop_assert!(t.len() <= want.len());
                for (got, want) in t.records().map(fields).zip(&want).take(t.len().saturating_sub(1)) {
                    prop_assert_eq!(&got, want);
                }
            }
            Err(e) => prop_assert!(e.position.byte <= cut),
        }
    }
}

/// HAProxy's CSV encoding of one field: quoted when it holds a comma, a
/// quote, CR or LF, inner quotes doubled.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encoded_fields_read_back(
        rows in prop::collection::vec(
            ("[a-z][a-z0-9_.:-]{0,12}", "\\PC{1,12}", proptest::option::of(0u64..=u64::MAX), "[ -~\r\n]{0,20}"),
            0..6,
        ),
        crlf in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("# pxname,svname,stot,last_chk,{eol}");
        for (px, sv, stot, chk) in &rows {
            let stot = stot.map(|v| v.to_string()).unwrap_or_default();
            text.push_str(&format!(
                "{},{},{stot},{},{eol}",
                csv_field(px),
                csv_field(sv),
                csv_field(chk)
            ));
        }
        let t = parse_stat(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(t.len(), rows.len());
        for (r, (px, sv, stot, chk)) in t.records().zip(&rows) {
            prop_assert_eq!(r.pxname(), Some(px.as_str()));
            prop_assert_eq!(r.svname(), Some(sv.as_str()));
            prop_assert_eq!(r.uint(Column::Stot), *stot);
            let want_chk = (!chk.is_empty()).then_some(chk.as_str());
            prop_assert_eq!(r.text(Column::LastChk), want_chk);
        }
    }
}

#[test]
fn a_table_parsed_into_an_earlier_tables_memory_is_the_same_table() {
    use haproxy_proto::stat::OwnedStatTable;
    let captured = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/captured"
    ));
    let text = |v: &str| {
        std::fs::read_to_string(captured.join(v).join("show-stat.txt")).expect("captured")
    };
    // A 3.4 table's memory, reused for a 2.6 reply (fewer columns) and
    // back: the same fields as a table parsed into fresh memory.
    let mut memory = OwnedStatTable::parse(text("3.4"))
        .expect("3.4")
        .into_memory();
    assert!(memory.capacity() > text("3.4").len());
    for v in ["2.6", "3.4", "3.0"] {
        let mut buf = memory.take_input();
        assert!(buf.is_empty() && buf.capacity() > 0, "{v}");
        buf.extend_from_slice(text(v).as_bytes());
        let reused = OwnedStatTable::parse_reusing(String::from_utf8(buf).expect("utf-8"), memory)
            .expect("parses");
        let fresh = OwnedStatTable::parse(text(v)).expect("parses");
        assert_eq!(
            (reused.len(), reused.columns()),
            (fresh.len(), fresh.columns()),
            "{v}"
        );
        for row in 0..fresh.len() {
            for col in 0..fresh.columns().len() {
                assert_eq!(
                    reused.field(row, col),
                    fresh.field(row, col),
                    "{v}: {row}, {col}"
                );
            }
        }
        memory = reused.into_memory();
    }
    // A reply that does not parse gives its error whatever the memory.
    let bad = OwnedStatTable::parse_reusing("be,a,1,\n".to_owned(), memory);
    assert_eq!(
        bad.map(|t| t.len()).map_err(|e| e.kind),
        Err(ParseErrorKind::MissingHeader)
    );
}
