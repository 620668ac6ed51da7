//! Judging command replies: success by recognition, and HAProxy's own
//! error messages for good reports.
//!
//! HAProxy's CLI has no status code: a command answers with text, and an
//! error is text too. The verdict is [`judge`]: every command the builder
//! makes declares what its success looks like ([`Expect`]: an empty
//! acknowledgement, a known notice, a dump of a given shape), and a reply
//! that is not recognised as that success is a failure
//! ([`CommandFailed`], HAProxy's text verbatim) — whether or not its
//! wording is in the table of known errors. HAProxy words refusals in many
//! ways (`entry not found.`, `cannot change health on a tracking
//! server.`, `Version number out of range.`, `Proxy is disabled.`); none
//! of them is mistaken for success, including those no table lists yet.
//!
//! [`classify`] is the older, weaker judgement, kept for text typed by a
//! user (`raw`), whose success cannot be known in advance: it fails
//! when any line begins with one of HAProxy's known error messages
//! ([`ERRORS`]). It judges the **whole** reply: it fails
//! when any line of it begins with one of HAProxy's known error messages
//! ([`ERRORS`]), so a multi-line reply whose second line is an error is a
//! failure, not a success. Data replies are never mistaken for errors:
//! `show stat` rows, `show info` lines (`Name: value`), map entries
//! (`0x… key value`) and lookups (`type=…`) cannot begin with one of these
//! messages.
//!
//! Some replies are informational: the command did what was asked, and
//! HAProxy says something about it (`IP changed from …`, `All sockets are
//! already disabled.`). Those are successes carrying a [`Reply::notice`]
//! ([`NOTICES`]).

/// HAProxy answered a command with an error; `message` is its text verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HAProxy refused the command: {}", .message.trim_end())]
pub struct CommandFailed {
    /// HAProxy's reply, verbatim (the whole reply, not only its first line).
    pub message: String,
}

/// What a command's reply looks like when HAProxy did what was asked.
/// Anything else is a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expect {
    /// Nothing but blank lines (`set weight`, `add map`, `commit map`, …).
    Ack,
    /// Nothing, or one line beginning with one of these notices: the
    /// command was done, or the state already was as asked (`enable
    /// frontend`: `All sockets are already enabled.`).
    AckOrNotice(&'static [&'static str]),
    /// One line beginning with one of these notices (`add server`: `New
    /// server registered.`; `set server … addr`: `IP changed from …`).
    Notice(&'static [&'static str]),
    /// Lines of progress, the last one exactly this (`commit ssl cert`:
    /// `Committing <file>.` … `Success!`).
    Last(&'static str),
    /// A dump of this shape.
    Dump(Dump),
    /// Text typed by a user: its success cannot be known in advance, so
    /// only [`classify`]'s known errors fail it.
    Unknown,
}

/// The shape of a dump, recognised by its first line (the caller's parser
/// then reads the whole of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dump {
    /// `show info`: `Name: HAProxy` first.
    Info,
    /// `show info typed` / `show stat typed`: `<tag>.<n>.…:` lines.
    Typed,
    /// `show stat`: the `# pxname,svname,…` header.
    Stat,
    /// `show proc` (master CLI): the `#<PID>` header.
    Proc,
    /// `show map` / `show acl` without argument: `# id (file) description`.
    Lists,
    /// `show map <m>` / `show acl <m>`: `0x…` entry lines, possibly none.
    Entries,
    /// `get map` / `get acl`: `type=…` lines.
    Lookup,
    /// `get weight`: `<n> (initial <n>)`.
    Weight,
    /// `show servers state`: a format version number, then `# be_id …`.
    ServersState,
    /// `show ssl cert`: `# filename` (after `# transaction` while one is
    /// open).
    CertList,
    /// `show ssl cert <file>`: `Filename: …`.
    Cert,
    /// `show table`: `# table: …` lines (none at all: no table).
    Tables,
    /// `show table <name>`: its `# table: …` line, then entries (with
    /// `key`, nothing at all when the key is absent).
    Table,
    /// `show errors`: `Total events captured on …`.
    Errors,
}

impl Dump {
    /// Whether `first` (the reply's first non-blank line, `None` for an
    /// empty reply) begins a dump of this shape.
    fn recognises(self, first: Option<&str>) -> bool {
        let Some(l) = first else {
            // Only a list of entries may be empty.
            // `show table <t> key <k>` of an absent key is empty.
            return matches!(self, Dump::Entries | Dump::Tables | Dump::Table);
        };
        match self {
            Dump::Info => l.starts_with("Name: "),
            Dump::Typed => typed_line(l),
            Dump::Stat => l.starts_with("# pxname,"),
            Dump::Proc => l.starts_with("#<PID>"),
            Dump::Lists => l.starts_with("# id "),
            Dump::Entries => entry_line(l),
            Dump::Lookup => l.starts_with("type="),
            Dump::Weight => weight_line(l),
            Dump::ServersState => !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()),
            Dump::Errors => l.starts_with("Total events captured on "),
            Dump::Tables | Dump::Table => l.starts_with("# table: "),
            Dump::CertList => l == "# filename" || l == "# transaction",
            Dump::Cert => l.starts_with("Filename: "),
        }
    }
}

/// `F.2.0.0.pxname.1:KNO:str:fe` / `0.Name.1:POS:str:HAProxy`.
fn typed_line(l: &str) -> bool {
    let Some((head, _)) = l.split_once(':') else {
        return false;
    };
    head.contains('.')
        && head
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
}

/// `0x55d0… key …`.
fn entry_line(l: &str) -> bool {
    let id = l.split(' ').next().unwrap_or("");
    id.len() > 2 && id.starts_with("0x") && id[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `12 (initial 10)`.
fn weight_line(l: &str) -> bool {
    parse_weight(l).is_some()
}

/// A `get weight` reply, `12 (initial 10)`: the current weight and the
/// configured one; `None` for anything else (an error message).
pub fn parse_weight(reply: &str) -> Option<(u32, u32)> {
    let mut w = reply.trim_end().split(' ');
    let num = |s: Option<&str>| {
        s.filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
    };
    let current = num(w.next())?;
    (w.next() == Some("(initial")).then_some(())?;
    let initial = num(w.next().and_then(|s| s.strip_suffix(')')))?;
    w.next().is_none().then_some((current, initial))
}

/// Judges a whole reply against what success looks like for its command.
///
/// A known error message anywhere fails it (HAProxy's words, verbatim);
/// so does any reply that is not the expected success: an
/// acknowledgement that says something, a notice that is not one of the
/// command's, a dump whose first line is not of its shape.
///
/// # Errors
/// [`CommandFailed`] carrying the whole reply.
pub fn judge(expect: Expect, reply: &str) -> Result<Reply<'_>, CommandFailed> {
    let classified = classify(reply)?;
    let failed = || CommandFailed {
        message: reply.to_owned(),
    };
    let mut lines = reply
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty());
    let first = lines.next();
    let ok = match expect {
        Expect::Unknown => true,
        Expect::Ack => first.is_none(),
        Expect::AckOrNotice(notices) => {
            first.map_or(true, |l| notices.iter().any(|n| l.starts_with(n)))
                && lines.next().is_none()
        }
        Expect::Notice(notices) => {
            first.is_some_and(|l| notices.iter().any(|n| l.starts_with(n)))
                && lines.next().is_none()
        }
        Expect::Last(last) => {
            first.is_some() && reply.lines().rev().find(|l| !l.trim().is_empty()) == Some(last)
        }
        Expect::Dump(dump) => dump.recognises(first),
    };
    if !ok {
        return Err(failed());
    }
    let notice = match expect {
        Expect::AckOrNotice(_) | Expect::Notice(_) => first,
        _ => classified.notice,
    };
    Ok(Reply {
        text: reply,
        notice,
    })
}

/// A reply judged a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply<'a> {
    /// The whole reply, as received.
    pub text: &'a str,
    /// An informational line HAProxy added (e.g. `IP changed from …`),
    /// without its trailing newline.
    pub notice: Option<&'a str>,
}

impl Reply<'_> {
    /// True when HAProxy said nothing at all (most writes on success).
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }
}

/// The beginnings of HAProxy's error messages (2.0–3.x), with the source
/// file each comes from. A reply line that starts with one of these is an
/// error. Kept in one place; extended when a version adds one.
pub const ERRORS: &[(&str, &str)] = &[
    // src/cli.c
    ("Unknown command", "cli.c"),
    ("Permission denied", "cli.c"),
    ("Missing argument", "cli.c"),
    ("Missing argument(s)", "cli.c"),
    ("Can't ", "cli.c"),
    ("Internal error", "cli.c"),
    ("Out of memory", "cli.c"),
    ("Not enough memory", "cli.c"),
    ("Command too long", "cli.c"),
    ("Too many words", "cli.c"),
    ("Expects an integer value", "cli.c"),
    ("Value out of range", "cli.c"),
    ("Value too large", "cli.c"),
    ("Required argument", "cli.c"),
    ("Require ", "proxy.c/server.c"),
    ("Invalid ", "cli.c/proxy.c/server.c"),
    ("Unknown ", "map.c/stats.c"),
    ("Unable to ", "cli.c/server.c"),
    ("Failed to ", "proxy.c/server.c/map.c"),
    ("'set ", "cli.c/server.c/proxy.c: usage errors"),
    ("'add ", "map.c/server.c: usage errors"),
    ("'del ", "map.c/server.c: usage errors"),
    ("'get ", "map.c: usage errors"),
    ("'show ", "cli.c/stats.c: usage errors"),
    ("'clear ", "map.c: usage errors"),
    ("'commit ", "map.c: usage errors"),
    ("'prepare ", "map.c: usage errors"),
    ("'enable ", "proxy.c/server.c: usage errors"),
    ("'disable ", "proxy.c/server.c: usage errors"),
    ("'shutdown ", "proxy.c/stream.c: usage errors"),
    // src/proxy.c
    ("No such frontend", "proxy.c"),
    ("No such backend", "proxy.c"),
    ("No such proxy", "proxy.c"),
    ("No such server", "server.c"),
    ("No such table", "stick_table.c"),
    ("Unknown data type", "stick_table.c"),
    ("Invalid key", "stick_table.c"),
    (
        "\"data.<type>\" followed by a value expected",
        "stick_table.c",
    ),
    ("Optional argument only supports", "stick_table.c"),
    ("No such ", "proxy.c/server.c"),
    ("A frontend name is expected", "proxy.c"),
    ("A backend name is expected", "proxy.c"),
    ("Frontend was previously shut down", "proxy.c"),
    ("Frontend was already shut down", "proxy.c"),
    ("Frontend is already disabled", "proxy.c"),
    ("Frontend is already enabled", "proxy.c"),
    ("Frontend is disabled", "proxy.c"),
    ("Backend is disabled", "proxy.c"),
    ("Backend is using a static LB algorithm", "server.c"),
    ("Backend must be", "proxy.c"),
    ("Can't find backend", "server.c"),
    ("Can't find ", "map.c/server.c"),
    (
        "'set maxconn frontend' only applies to frontends",
        "proxy.c",
    ),
    // src/server.c
    (
        "Absolute weight can only be between 0 and 256 inclusive",
        "server.c",
    ),
    ("Relative weight must be positive", "server.c"),
    ("Relative weight can only be set", "server.c"),
    ("Empty weight", "server.c"),
    ("agent checks are not enabled on this server", "server.c"),
    ("health checks are not enabled on this server", "server.c"),
    ("checks are not enabled on this server", "server.c"),
    ("Server is not in maintenance mode", "server.c"),
    ("Server still has connections", "server.c"),
    ("Server still has", "server.c"),
    ("Server is still tracked", "server.c"),
    ("Server is still in use", "server.c"),
    ("Server deletion is not allowed", "server.c"),
    ("Server not found", "server.c"),
    ("Already exists a server with the same name", "server.c"),
    ("Backend not found", "server.c"),
    ("Error: ", "server.c: add server"),
    ("Error ", "server.c"),
    ("Server cannot ", "server.c"),
    ("Cannot ", "server.c/resolvers.c"),
    ("Not a ", "server.c"),
    ("set server ", "server.c: usage"),
    // src/map.c, src/pattern.c
    ("Unknown map identifier", "map.c"),
    ("Unknown ACL identifier", "map.c"),
    ("Malformed identifier", "map.c"),
    ("Key not found", "map.c"),
    ("Missing key", "map.c"),
    ("Missing value", "map.c"),
    ("Missing ACL identifier", "map.c"),
    ("Missing map identifier", "map.c"),
    ("Missing ", "map.c"),
    ("Unknown version", "map.c"),
    ("Invalid version", "map.c"),
    ("Too many ", "map.c"),
    ("This ACL is shared with a map", "map.c"),
    ("Unable to allocate", "map.c"),
    ("Unable to commit", "map.c"),
    ("Commit failed", "map.c"),
    ("Cannot commit", "map.c"),
    ("Failed to add", "map.c"),
    ("Failed to set", "map.c"),
    ("Failed to delete", "map.c"),
    ("Failed to allocate", "map.c"),
    ("Operation not permitted", "cli.c"),
    ("entry not found", "map.c: set map, unknown key"),
    (
        "key or pattern not found",
        "map.c: set map, unknown entry id",
    ),
    (
        "Version number out of range",
        "map.c: commit of a version not above the current one",
    ),
    (
        "Version number in the future",
        "map.c: add @ver before prepare",
    ),
    ("cannot change health on a tracking server", "server.c"),
    (
        "Proxy is disabled",
        "proxy.c/server.c: an old (stopping) worker",
    ),
    ("Already exists a server", "server.c: add server"),
    // src/ssl_ckch.c
    ("No ongoing transaction", "ssl_ckch.c"),
    (
        "The ongoing transaction is about",
        "ssl_ckch.c: another file's transaction",
    ),
    (
        "unable to load certificate",
        "ssl_ckch.c: set ssl cert, a bad payload",
    ),
    (
        "inconsistencies between private key and certificate",
        "ssl_ckch.c",
    ),
    (
        "Operations on certificates are currently locked",
        "ssl_ckch.c",
    ),
    ("'abort ", "ssl_ckch.c: usage errors"),
    // master CLI
    ("Can't find the target CLI", "mworker.c"),
    ("Not a valid", "mworker.c"),
];

/// Informational replies: the command succeeded and HAProxy said so, or
/// said the state was already as asked.
pub const NOTICES: &[(&str, &str)] = &[
    ("IP changed from", "server.c"),
    ("no need to change the addr", "server.c"),
    ("port changed from", "server.c"),
    ("All sockets are already disabled", "proxy.c"),
    ("All sockets are already enabled", "proxy.c"),
    ("New version created:", "map.c"),
    ("Done.", "cli.c"),
    (
        "nothing changed",
        "server.c (3.x): set server addr, same address",
    ),
    ("New server registered.", "server.c"),
    ("Server deleted.", "server.c"),
    ("Transaction created for certificate", "ssl_ckch.c"),
    ("Transaction updated for certificate", "ssl_ckch.c"),
    ("Transaction aborted for certificate", "ssl_ckch.c"),
];

/// Errors that quote the refused value first (`'x' is not a valid IPv4
/// or IPv6 address.`, pattern.c): the line starts with a quote and holds
/// one of these.
pub const QUOTED_ERRORS: &[(&str, &str)] = &[
    ("' is not a valid ", "pattern.c"),
    ("' is not a known ", "cli.c"),
    ("' is not supported", "cli.c"),
];

/// The error message `line` begins with, if any.
fn error_prefix(line: &str) -> Option<&'static str> {
    if line.starts_with('\'') {
        if let Some((e, _)) = QUOTED_ERRORS.iter().find(|(e, _)| line.contains(e)) {
            return Some(e);
        }
    }
    // Notices are checked first: some begin like an error would.
    if NOTICES.iter().any(|(n, _)| line.starts_with(n)) {
        return None;
    }
    ERRORS
        .iter()
        .find(|(e, _)| line.starts_with(e))
        .map(|(e, _)| *e)
}

/// Judges a whole reply: success (with any notice), or HAProxy's error
/// text verbatim.
///
/// # Errors
/// [`CommandFailed`] carrying the whole reply when any line of it is one
/// of HAProxy's error messages.
pub fn classify(reply: &str) -> Result<Reply<'_>, CommandFailed> {
    let mut notice = None;
    for raw in reply.lines() {
        let line = raw.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        if error_prefix(line).is_some() {
            return Err(CommandFailed {
                message: reply.to_owned(),
            });
        }
        if notice.is_none() && NOTICES.iter().any(|(n, _)| line.starts_with(n)) {
            notice = Some(line);
        }
    }
    Ok(Reply {
        text: reply,
        notice,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_read_with_their_initial_weight() {
        assert_eq!(parse_weight("12 (initial 10)\n\n"), Some((12, 10)));
        assert_eq!(parse_weight("0 (initial 1)"), Some((0, 1)));
        for bad in [
            "",
            "No such server.",
            "1 (initial x)",
            "1 (initial 2) z",
            "-1 (initial 2)",
        ] {
            assert_eq!(parse_weight(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn errors_anywhere_in_the_reply_fail_it() {
        for r in [
            "No such server.\n\n",
            "Unknown map identifier. Please use #<id> or <file>.\n",
            "\nKey not found.\n",
            "Permission denied\n\n",
            "Absolute weight can only be between 0 and 256 inclusive.\n",
            "Unknown command, but maybe one of the following ones is a better match:\n  help\n",
            "IP changed from '1.2.3.4' to '5.6.7.8'\nNo such server.\n",
            "Require 'backend/server'.\n",
            "agent checks are not enabled on this server.\n",
            "'x;clear map x' is not a valid IPv4 or IPv6 address.\n",
        ] {
            let e = classify(r).expect_err(r);
            assert_eq!(e.message, r, "verbatim");
        }
    }

    #[test]
    fn data_and_notices_succeed() {
        for r in [
            "",
            "\n",
            "# pxname,svname,qcur\nfe,FRONTEND,0\n\n",
            "Name: HAProxy\nVersion: 2.6.12\nDescription: No such server.\n\n",
            "0x55d0 No such server. v\n\n",
            "type=str, case=sensitive, found=no\n\n",
            "256 (initial 10)\n\n",
        ] {
            let ok = classify(r).expect(r);
            assert_eq!(ok.notice, None, "{r:?}");
        }
        let ok = classify("IP changed from '127.0.0.1' to '1.2.3.4', port changed from '9' to '80' by 'stats socket command'\n\n")
            .expect("notice");
        assert!(ok.notice.is_some_and(|n| n.starts_with("IP changed")));
        assert!(!ok.is_empty());
        assert!(classify("All sockets are already disabled.\n").is_ok());
        assert!(classify("New version created: 3\n").is_ok());
    }

    #[test]
    fn success_is_recognised_not_assumed() {
        const FE_ON: Expect = Expect::AckOrNotice(&["All sockets are already enabled."]);
        const ADDR: Expect = Expect::Notice(&["IP changed from", "no need to change the addr"]);
        const ADDED: Expect = Expect::Notice(&["New server registered."]);
        // (expect, reply, success?) — replies as HAProxy 2.6–3.4 sends them.
        let cases: &[(Expect, &str, bool)] = &[
            (Expect::Ack, "\n", true),
            (Expect::Ack, "", true),
            (Expect::Ack, "entry not found.\n\n", false),
            (Expect::Ack, "key or pattern not found.\n\n", false),
            (Expect::Ack, "cannot change health on a tracking server.\n\n", false),
            (Expect::Ack, "Proxy is disabled.\n", false),
            (Expect::Ack, "Version number out of range.\n\n", false),
            (Expect::Ack, "A wording no table lists yet.\n", false),
            (Expect::Ack, "IP changed from '1' to '2'\n", false),
            (FE_ON, "\n", true),
            (FE_ON, "All sockets are already enabled.\n\n", true),
            (FE_ON, "Frontend was previously shut down, cannot enable.\n\n", false),
            (ADDR, "IP changed from '127.0.0.1' to '127.0.0.2' by 'stats socket command'\n\n", true),
            (ADDR, "no need to change the addr, port changed from '1' to '80' by 'stats socket command'\n\n", true),
            (ADDR, "\n", false),
            (ADDR, "No such server.\n\n", false),
            (ADDED, "New server registered.\n\n", true),
            (ADDED, "Already exists a server with the same name in backend.\n\n", false),
            (Expect::Dump(Dump::Weight), "1 (initial 1)\n\n", true),
            (Expect::Dump(Dump::Weight), "1 (initial 99999999999)\n\n", false),
            (Expect::Dump(Dump::Weight), "No such server.\n\n", false),
            (Expect::Dump(Dump::Weight), "something else\n\n", false),
            (Expect::Dump(Dump::Entries), "\n", true),
            (Expect::Dump(Dump::Entries), "0x55d0 k v\n\n", true),
            (Expect::Dump(Dump::Entries), "Unknown map identifier. Please use #<id> or <file>.\n\n", false),
            (Expect::Dump(Dump::Lookup), "type=str, case=sensitive, found=no\n\n", true),
            (Expect::Dump(Dump::ServersState), "1\n# be_id be_name\n\n", true),
            (Expect::Dump(Dump::ServersState), "Can't find backend.\n\n", false),
            (Expect::Dump(Dump::Stat), "# pxname,svname,\nfe,FRONTEND,\n\n", true),
            (Expect::Dump(Dump::Stat), "Unknown command: 'show', but maybe…\n", false),
            (Expect::Dump(Dump::Info), "Name: HAProxy\nVersion: 2.6\n\n", true),
            (Expect::Dump(Dump::Info), "\n", false),
            (Expect::Dump(Dump::Typed), "0.Name.1:POS:str:HAProxy\n", true),
            (Expect::Dump(Dump::Typed), "F.2.0.0.pxname.1:KNO:str:fe\n", true),
            (Expect::Dump(Dump::Lists), "# id (file) description\n\n", true),
            (Expect::Dump(Dump::Errors), "Total events captured on [x] : 0\n\n", true),
            (Expect::Dump(Dump::CertList), "# filename\n/a.pem\n\n", true),
            (Expect::Dump(Dump::CertList), "# transaction\n*/a.pem\n# filename\n/a.pem\n\n", true),
            (Expect::Dump(Dump::Cert), "Filename: /a.pem\nStatus: Used\n\n", true),
            (Expect::Dump(Dump::Cert), "Can't display the certificate: Not found or the certificate is a bundle!\n\n", false),
            (Expect::Last("Success!"), "Committing /a.pem.\nSuccess!\n\n", true),
            (Expect::Last("Success!"), "Committing /a.pem...\nSuccess!\n\n", true),
            (Expect::Last("Success!"), "inconsistencies between private key and certificate loaded '/a.pem'.\nCan't commit /a.pem!\n\n", false),
            (Expect::Last("Success!"), "No ongoing transaction! !\nCan't commit /a.pem!\n\n", false),
            (Expect::Last("Success!"), "\n", false),
            (Expect::Dump(Dump::Proc), "#<PID>          <type>\n", true),
            (Expect::Unknown, "whatever\n", true),
            (Expect::Unknown, "No such server.\n", false),
        ];
        for (expect, reply, ok) in cases {
            match judge(*expect, reply) {
                Ok(_) => assert!(ok, "{expect:?} {reply:?} judged a success"),
                Err(e) => {
                    assert!(!ok, "{expect:?} {reply:?} judged a failure");
                    assert_eq!(e.message, *reply, "verbatim");
                }
            }
        }
        let r = judge(ADDR, "IP changed from 'a' to 'b'\n\n").expect("notice");
        assert_eq!(r.notice, Some("IP changed from 'a' to 'b'"));
    }
}
