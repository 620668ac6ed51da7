//! Property tests: no argument can make the command builder produce a
//! second command or split into two words — checked against a model of
//! HAProxy 2.6's CLI tokenizer — and no parser panics on any input.

use haproxy_proto::command::{Command, EntryRef, MapRef, MAX_WORDS};
use haproxy_proto::error::ArgErrorKind;
use proptest::prelude::*;

/// HAProxy 2.6's reading of a line (`cli_parse_request`): commands split on
/// an unescaped `;`, words on unescaped spaces and TABs, a backslash takes
/// the next character literally.
fn tokenize(line: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                match chars.next() {
                    Some(n) => word.push(n),
                    None => word.push('\\'),
                }
                in_word = true;
            }
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            ';' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                commands.push(std::mem::take(&mut words));
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if !words.is_empty() {
        commands.push(words);
    }
    commands
}

/// Strings made of the characters that matter to the CLI, and others.
fn hostile() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        4 => prop::char::range('a', 'z'),
        1 => Just(' '),
        1 => Just('\t'),
        1 => Just(';'),
        1 => Just('\\'),
        1 => Just('"'),
        1 => Just('\''),
        1 => Just('#'),
        1 => Just('$'),
        1 => Just('\n'),
        1 => Just('\r'),
        1 => Just('\0'),
        1 => Just('\u{1b}'),
        1 => Just('é'),
        1 => Just('/'),
        1 => any::<char>(),
    ];
    prop::collection::vec(ch, 0..16).prop_map(String::from_iter)
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![hostile(), any::<String>()]
}

/// What the builder must accept: non-empty, no control character but TAB.
fn carriable(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c.is_control() && c != '\t')
}

fn one_line(line: &str) -> bool {
    !line.contains(['\n', '\r', '\0'])
}

fn words(fixed: &[&str], args: &[&str]) -> Vec<Vec<String>> {
    vec![fixed.iter().chain(args).map(|s| (*s).to_owned()).collect()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn add_map_is_one_command_with_the_exact_words(file in any_text(), key in any_text(), value in any_text()) {
        match Command::add_map(MapRef::File(&file), &key, &value) {
            Ok(c) => {
                let line = c.to_wire();
                prop_assert!(one_line(&line), "{line:?}");
                prop_assert_eq!(tokenize(&line), words(&["add", "map"], &[&file, &key, &value]));
            }
            Err(e) => {
                prop_assert!(
                    !carriable(&file) || !carriable(&key) || !carriable(&value) || file.starts_with('#'),
                    "refused a carriable argument: {e}"
                );
            }
        }
    }

    #[test]
    fn set_del_get_and_acls_keep_their_words(id in 0u64..1000, key in any_text(), value in any_text()) {
        let map = format!("#{id}");
        if let Ok(c) = Command::set_map(MapRef::Id(id), EntryRef::Key(&key), &value) {
            prop_assert!(one_line(c.line()));
            prop_assert_eq!(tokenize(c.line()), words(&["set", "map"], &[&map, &key, &value]));
        } else {
            prop_assert!(!carriable(&key) || !carriable(&value) || key.starts_with('#'));
        }
        if let Ok(c) = Command::del_map(MapRef::Id(id), EntryRef::Key(&key)) {
            prop_assert_eq!(tokenize(c.line()), words(&["del", "map"], &[&map, &key]));
        }
        if let Ok(c) = Command::get_map(MapRef::Id(id), &key) {
            prop_assert_eq!(tokenize(c.line()), words(&["get", "map"], &[&map, &key]));
        } else {
            prop_assert!(!carriable(&key));
        }
        if let Ok(c) = Command::add_acl(MapRef::Id(id), &value) {
            prop_assert_eq!(tokenize(c.line()), words(&["add", "acl"], &[&map, &value]));
        }
        if let Ok(c) = Command::get_acl(MapRef::Id(id), &value) {
            prop_assert_eq!(tokenize(c.line()), words(&["get", "acl"], &[&map, &value]));
        }
    }

    #[test]
    fn names_and_addresses_cannot_smuggle_anything(backend in any_text(), server in any_text(), addr in any_text(), w in 0u32..300) {
        for c in [
            Command::set_weight(&backend, &server, w),
            Command::enable_server(&backend, &server),
            Command::set_server_addr(&backend, &server, &addr, Some(80)),
            Command::enable_frontend(&backend),
            Command::set_maxconn_frontend(&backend, w),
            Command::add_server(&backend, &server, &addr, &[&server]),
        ]
        .into_iter()
        .flatten()
        {
            let line = c.to_wire();
            prop_assert!(one_line(&line), "{line:?}");
            let t = tokenize(&line);
            prop_assert_eq!(t.len(), 1, "one command: {:?}", line);
            prop_assert!(t[0].len() <= MAX_WORDS);
        }
        if let Ok(c) = Command::set_weight(&backend, &server, w) {
            prop_assert!(w <= 256);
            prop_assert_eq!(
                tokenize(c.line()),
                vec![vec!["set".to_owned(), "weight".to_owned(), format!("{backend}/{server}"), w.to_string()]]
            );
        }
        if let Ok(c) = Command::set_server_addr(&backend, &server, &addr, None) {
            let t = tokenize(c.line());
            prop_assert_eq!(t[0][4].as_str(), addr.as_str());
        }
    }

    #[test]
    fn raw_lines_never_hold_a_line_break(line in any_text()) {
        match Command::raw(&line) {
            Ok(c) => prop_assert!(one_line(c.line()) && !c.line().trim().is_empty()),
            Err(e) => prop_assert!(
                line.trim().is_empty() || line.chars().any(|c| c.is_control() && c != '\t'),
                "{e}"
            ),
        }
    }

    #[test]
    fn bulk_payloads_split_back_into_the_entries(entries in prop::collection::vec((any_text(), any_text()), 0..8)) {
        let pairs: Vec<(&str, &str)> = entries.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        match Command::add_map_bulk(MapRef::Id(1), Some(2), &pairs) {
            Ok(c) => {
                prop_assert_eq!(c.line(), "add map @2 #1 <<");
                let payload = c.payload().unwrap_or_default();
                prop_assert!(!payload.contains("\n\n") && !payload.starts_with('\n'), "no empty line ends it early");
                // HAProxy's reading: key up to the first blank, value after the blanks.
                let read: Vec<(String, String)> = payload
                    .lines()
                    .map(|l| {
                        let (k, v) = l.split_once([' ', '\t']).unwrap_or((l, ""));
                        (k.to_owned(), v.trim_start_matches([' ', '\t']).to_owned())
                    })
                    .collect();
                prop_assert_eq!(read, entries.clone());
            }
            Err(e) => {
                let (ArgErrorKind::Payload { .. } | ArgErrorKind::ControlCharacter { .. }) = e.kind else {
                    return Err(TestCaseError::fail(format!("unexpected error kind: {e}")));
                };
                prop_assert!(e.value.starts_with("entry "), "names the entry: {e}");
            }
        }
    }

    #[test]
    fn no_parser_panics(input in any_text()) {
        let _ = haproxy_proto::parse_stat(&input);
        let _ = haproxy_proto::parse_info(&input);
        let _ = haproxy_proto::parse_typed(&input);
        let _ = haproxy_proto::parse_map_list(&input);
        let _ = haproxy_proto::parse_map_entries(&input);
        let _ = haproxy_proto::parse_acl_entries(&input);
        let _ = haproxy_proto::parse_lookup(&input);
        let _ = haproxy_proto::parse_servers_state(&input);
        let _ = haproxy_proto::parse_errors(&input);
        let _ = haproxy_proto::parse_proc(&input);
        let _ = haproxy_proto::reply::classify(&input);
        let _ = haproxy_proto::OwnedStatTable::parse(input.clone());
    }

    #[test]
    fn no_parser_panics_on_mangled_csv(cells in prop::collection::vec(any_text(), 0..40)) {
        let input = format!("# pxname,svname,qcur,status,weight,type,addr,\n{}\n", cells.join(","));
        if let Ok(t) = haproxy_proto::parse_stat(&input) {
            for r in t.records() {
                for i in 0..t.header().len() + 2 {
                    let _ = r.get_at(i);
                    let _ = r.text_at(i);
                }
            }
        }
    }
}

#[test]
fn the_tokenizer_model_reads_haproxy_examples() {
    assert_eq!(
        tokenize(r"add map /m a\ b c\;d\\e\ \ f"),
        words(&["add", "map", "/m", "a b", r"c;d\e  f"], &[])
    );
    assert_eq!(tokenize("show info;show stat").len(), 2);
    assert_eq!(tokenize("  a \t b  "), words(&["a", "b"], &[]));
}
