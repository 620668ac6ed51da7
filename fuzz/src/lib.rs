//! The fuzz targets' bodies, shared by the stable mutation fuzzer
//! (`haproxy-fuzz`, this crate's binary) and the coverage-guided
//! libFuzzer targets (`fuzz/libfuzzer`, nightly): one entry point per
//! parser, the reply classifier and verdict, the command builder, and the
//! transport's reply codec fed in random pieces. Each panics on a broken
//! property; a panic is a crash.

use haproxy_proto::command::{Command, EntryRef, MapRef, ServerState};
use haproxy_proto::reply::{self, Dump, Expect};
use haproxy_proto::{
    parse_acl_entries, parse_errors, parse_info, parse_lookup, parse_map_entries, parse_map_list,
    parse_proc, parse_servers_state, parse_stat, parse_typed, Addr, CheckStatus, Mode,
    OwnedStatTable, Status,
};
use haproxy_transport::codec::{FrameError, OneShotDecoder, PromptDecoder};

/// `parse_typed`.
pub fn typed(s: &str) {
    debug(parse_typed(s));
}

/// `parse_map_list`.
pub fn map_list(s: &str) {
    debug(parse_map_list(s));
}

/// `parse_map_entries`, and every reading of an ambiguous line.
pub fn map_entries(s: &str) {
    if let Ok(entries) = parse_map_entries(s) {
        for e in &entries {
            let splits: Vec<(&str, &str)> = e.splits().collect();
            assert_eq!(e.is_ambiguous(), e.value.is_some() && splits.len() > 1);
            for (k, v) in splits {
                assert!(
                    k.len() + 1 + v.len() == e.text.len()
                        && e.text.starts_with(k)
                        && e.text.ends_with(v),
                    "a reading is the line split at one blank"
                );
            }
        }
    }
    debug(parse_map_entries(s));
}

/// `parse_acl_entries`.
pub fn acl_entries(s: &str) {
    debug(parse_acl_entries(s));
}

/// `parse_lookup`.
pub fn lookup(s: &str) {
    debug(parse_lookup(s));
}

/// `parse_servers_state`.
pub fn servers_state(s: &str) {
    debug(parse_servers_state(s));
}

/// `parse_errors`.
pub fn errors(s: &str) {
    debug(parse_errors(s));
}

/// `parse_proc`.
pub fn proc(s: &str) {
    debug(parse_proc(s));
}

/// Every success shape a builder command declares.
const EXPECTS: &[Expect] = &[
    Expect::Ack,
    Expect::AckOrNotice(&["All sockets are already enabled."]),
    Expect::Notice(&["IP changed from", "no need to change the addr"]),
    Expect::Dump(Dump::Info),
    Expect::Dump(Dump::Typed),
    Expect::Dump(Dump::Stat),
    Expect::Dump(Dump::Proc),
    Expect::Dump(Dump::Lists),
    Expect::Dump(Dump::Entries),
    Expect::Dump(Dump::Lookup),
    Expect::Dump(Dump::Weight),
    Expect::Dump(Dump::ServersState),
    Expect::Dump(Dump::Errors),
    Expect::Unknown,
];

/// The verdict: for every success shape, a reply judged a success is one
/// the known-error table passes too, and a failure keeps the reply
/// verbatim.
pub fn verdict(s: &str) {
    let classified = reply::classify(s);
    for e in EXPECTS {
        match reply::judge(*e, s) {
            Ok(r) => {
                assert!(classified.is_ok(), "judged a success, but a known error");
                assert_eq!(r.text, s);
            }
            Err(f) => assert_eq!(f.message, s, "the failure keeps the reply verbatim"),
        }
    }
}

/// The reply codec fed in pieces: the first bytes choose the framing and
/// the limit and where the input is cut; feeding it whole or in those
/// pieces (through `feed` or `spare`/`filled`) must give the same result.
pub fn codec(data: &[u8]) {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let Some((&cuts, bytes)) = rest.split_first() else {
        return;
    };
    let limit = match head & 3 {
        0 => 16,
        1 => 256,
        2 => 4096,
        _ => 1 << 20,
    };
    let master = head & 4 != 0;
    let line = if head & 8 != 0 {
        "show stat"
    } else {
        "set weight b/s 1"
    };
    // Cut points: a pseudo-random walk seeded by `cuts`.
    let mut pieces = Vec::new();
    let mut at = 0;
    let mut x = u32::from(cuts) | 1;
    while at < bytes.len() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let n = 1 + (x as usize % 64);
        let end = (at + n).min(bytes.len());
        pieces.push(&bytes[at..end]);
        at = end;
    }
    if head & 16 == 0 {
        let whole = one_shot(line, limit, master, &[bytes], false);
        let split = one_shot(line, limit, master, &pieces, false);
        let direct = one_shot(line, limit, master, &pieces, true);
        assert_eq!(whole, split, "one shot: the split changed the result");
        assert_eq!(whole, direct, "one shot: spare/filled differ from feed");
        if let Ok(text) = &whole {
            assert!(text.len() <= limit);
        }
    } else {
        let whole = prompt(master, limit, &[bytes]);
        let split = prompt(master, limit, &pieces);
        // The limit may strike at another point when the bytes come in
        // pieces (a reply framed early frees room): compare the replies
        // both framed.
        let n = whole.0.len().min(split.0.len());
        assert_eq!(
            whole.0[..n],
            split.0[..n],
            "prompt: the split changed a reply"
        );
        if whole.1.is_none() && split.1.is_none() {
            assert_eq!(whole, split, "prompt: the split changed the result");
        }
    }
}

fn one_shot(
    line: &str,
    limit: usize,
    master: bool,
    pieces: &[&[u8]],
    direct: bool,
) -> Result<String, FrameError> {
    let mut d = OneShotDecoder::new(line, limit, master);
    for p in pieces {
        if direct {
            let mut p: &[u8] = p;
            while !p.is_empty() {
                let room = d.spare(p.len());
                let n = room.len().min(p.len());
                room[..n].copy_from_slice(&p[..n]);
                d.filled(n)?;
                p = &p[n..];
            }
        } else {
            d.feed(p)?;
        }
    }
    if direct {
        d.spare(16);
        d.filled(0)?;
    }
    d.finish()
}

type Framed = (Vec<Result<String, FrameError>>, Option<FrameError>);

fn prompt(master: bool, limit: usize, pieces: &[&[u8]]) -> Framed {
    let mut d = PromptDecoder::new(master, limit);
    let mut out = Vec::new();
    for p in pieces {
        if let Err(e) = d.feed(p) {
            return (out, Some(e));
        }
        while let Some(r) = d.next_reply() {
            out.push(r);
        }
    }
    (out, Some(d.eof()).filter(|_| d.pending() > 0))
}

/// Parses, formats the result (walking every field through `Debug`), and
/// formats an error's message.
pub fn debug<T: std::fmt::Debug, E: std::fmt::Display>(r: Result<T, E>) {
    match r {
        Ok(v) => drop(format!("{v:?}")),
        Err(e) => drop(e.to_string()),
    }
}

/// `parse_stat` (every record and value), `OwnedStatTable`, the value parsers.
pub fn stat(s: &str) {
    match parse_stat(s) {
        Ok(t) => {
            for r in t.records() {
                for (c, v) in r.values() {
                    drop((c, v.map(|v| v.to_string())));
                }
                drop((r.status(), r.check_status(), r.key(), r.pid(), r.iid()));
            }
            drop(format!("{:?}", t.header()));
        }
        Err(e) => drop(e.to_string()),
    }
    if let Ok(o) = OwnedStatTable::parse(s.to_owned()) {
        for row in 0..o.len() {
            for col in 0..=o.columns().len() {
                drop(format!("{:?}", o.field(row, col)));
            }
        }
    }
    for w in s.split([',', '\n']).take(4096) {
        drop((
            Status::parse(w),
            CheckStatus::parse(w),
            Addr::parse(w),
            Mode::parse(w),
        ));
    }
}

/// `parse_info`, every field and the uptime.
pub fn info(s: &str) {
    match parse_info(s) {
        Ok(i) => {
            let names: Vec<&str> = i.iter().map(|(n, _)| n).collect();
            for n in names {
                drop((i.get(n), i.get_u64(n).map_err(|e| e.to_string())));
            }
            drop(i.uptime().map_err(|e| e.to_string()));
            drop(format!("{i:?}"));
        }
        Err(e) => drop(e.to_string()),
    }
}

/// `reply::classify`: a failure keeps the reply verbatim.
pub fn reply_target(s: &str) {
    match reply::classify(s) {
        Ok(r) => drop(format!("{r:?}")),
        Err(e) => {
            // The error keeps HAProxy's whole text.
            assert_eq!(e.message, s, "classify must keep the reply verbatim");
            drop(e.to_string());
        }
    }
}

/// The builder: the input's lines are arguments. Whatever it accepts must
/// be one line without control characters; payload lines must be as many
/// as the entries and never empty (an empty line ends a payload).
pub fn command(s: &str) {
    let args: Vec<&str> = s.split('\n').chain(std::iter::repeat("")).take(6).collect();
    let (a, b, c, d) = (args[0], args[1], args[2], args[3]);
    let number = d.trim().parse::<u32>().unwrap_or(u32::MAX);
    let built = [
        Command::raw(a),
        Command::set_weight(a, b, number),
        Command::set_weight_percent(a, b, number),
        Command::set_server_state(a, b, ServerState::Drain),
        Command::set_server_addr(a, b, c, u16::try_from(number).ok()),
        Command::add_server(a, b, c, &[d]),
        Command::disable_frontend(a),
        Command::show_servers_state(Some(a)),
        Command::add_map(MapRef::File(a), b, c),
        Command::add_map(MapRef::Id(u64::from(number)), b, c),
        Command::set_maxconn_global(number),
        Command::set_rate_limit_ssl_sessions(number),
        Command::set_map(MapRef::File(a), EntryRef::Key(b), c),
        Command::set_map(MapRef::File(a), EntryRef::Id(b), c),
        Command::del_map(MapRef::File(a), EntryRef::Key(b)),
        Command::get_map(MapRef::File(a), b),
        Command::add_acl(MapRef::File(a), b),
        Command::del_acl(MapRef::File(a), EntryRef::Id(b)),
        Command::clear_map(MapRef::File(a)),
    ];
    for cmd in built.iter().flatten() {
        check_line(cmd.line());
    }
    let entries: Vec<(&str, &str)> = s
        .split('\n')
        .skip(1)
        .map(|l| l.split_once(' ').unwrap_or((l, "")))
        .collect();
    if let Ok(cmd) = Command::add_map_bulk(MapRef::File(a), None, &entries) {
        check_line(cmd.line());
        let payload = cmd.payload().unwrap_or("");
        assert_eq!(
            payload.lines().count(),
            entries.len(),
            "one payload line per entry"
        );
        assert!(
            payload.lines().all(|l| !l.trim().is_empty()),
            "no empty payload line"
        );
    }
    let patterns: Vec<&str> = s.split('\n').skip(1).collect();
    if let Ok(cmd) = Command::add_acl_bulk(MapRef::File(a), Some(u64::from(number)), &patterns) {
        check_line(cmd.line());
    }
    drop(haproxy_proto::command::escape(s));
}

/// A built line holds no control character but TAB.
pub fn check_line(line: &str) {
    assert!(
        !line.chars().any(|c| c.is_control() && c != '\t'),
        "accepted a control character: {line:?}"
    );
}
