//! Maps and ACLs: listings, entries, lookups, writes, and the atomic
//! replacement of a map's content.
//!
//! Reads return every process's answer ([`PerProcess`]): processes that
//! are not forks of one parent do not share entry ids (`0x…`), and a map
//! changed on one process only is data to see, not to hide.

use crate::error::MapVersion;
use crate::haproxy::{fan_out, HAProxy, PerProcess};
use crate::process::Process;
use crate::{EntryRef, Error, MapRef, Result};
use haproxy_proto::command::Command;
use haproxy_proto::map::{parse_acl_entries, parse_lookup, parse_map_entries, parse_map_list};
use haproxy_proto::ArgError;
use haproxy_transport::Endpoint;
use serde::Serialize;

/// One map or ACL of `show map` / `show acl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapInfo {
    /// The id (`#<id>`).
    pub id: i64,
    /// The file, `None` for an anonymous list.
    pub file: Option<String>,
    /// HAProxy's description.
    pub description: String,
    /// Current version (2.4+).
    pub curr_ver: Option<u64>,
    /// Next version (2.4+).
    pub next_ver: Option<u64>,
    /// Number of entries (2.4+).
    pub entry_cnt: Option<u64>,
}

/// One entry of a map or ACL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// HAProxy's entry id (`0x…`), valid in this process only.
    pub id: String,
    /// The key (map) or pattern (ACL).
    pub key: String,
    /// The value (maps only).
    pub value: Option<String>,
    /// HAProxy printed this map entry's key and value unescaped with a
    /// blank in them, and no reading of the line could be confirmed with
    /// `get map`: `key` then holds the whole line after the id (key and
    /// value as printed) and `value` is `None`. Never split by guess.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ambiguous: bool,
}

/// One line of `get map` / `get acl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lookup {
    /// The match method (`str`, `ip`, `beg`, …).
    pub match_type: String,
    /// Whether the value matched.
    pub found: bool,
    /// The matched key or pattern.
    pub key: Option<String>,
    /// The value (maps).
    pub value: Option<String>,
}

/// Which of the two list families a command addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    Map,
    Acl,
}

impl ListKind {
    /// `show map` / `show acl`: the lists.
    pub(crate) fn show_lists(self) -> Command {
        match self {
            ListKind::Map => Command::show_maps(),
            ListKind::Acl => Command::show_acls(),
        }
    }

    /// `show map <map>` / `show acl <acl>`: one list's entries.
    pub(crate) fn show_entries(self, list: MapRef<'_>) -> Result<Command, ArgError> {
        match self {
            ListKind::Map => Command::show_map(list),
            ListKind::Acl => Command::show_acl(list),
        }
    }

    /// `get map <map> <value>` / `get acl <acl> <value>`.
    pub(crate) fn get(self, list: MapRef<'_>, value: &str) -> Result<Command, ArgError> {
        match self {
            ListKind::Map => Command::get_map(list, value),
            ListKind::Acl => Command::get_acl(list, value),
        }
    }
}

impl HAProxy {
    /// Sends `command` to `processes`, judges and parses each reply.
    fn read<T: Send>(
        &self,
        processes: &[&crate::Process],
        command: &Command,
        parse: impl Fn(&str) -> Result<T, haproxy_proto::ParseError> + Sync,
    ) -> Result<PerProcess<T>> {
        fan_out(
            self.settings(),
            processes,
            command.line(),
            |s, e: &Endpoint| {
                let reply = s.send(e, command)?;
                parse(&reply).map_err(|source| Error::Parse {
                    endpoint: e.to_string(),
                    command: command.line().to_owned(),
                    source: Box::new(source),
                })
            },
        )
    }

    fn lists(&self, kind: ListKind) -> Result<PerProcess<Vec<MapInfo>>> {
        self.read(&self.all(), &kind.show_lists(), map_infos)
    }

    fn entries(&self, kind: ListKind, list: MapRef<'_>) -> Result<PerProcess<Vec<Entry>>> {
        let show = kind.show_entries(list)?;
        fan_out(
            self.settings(),
            &self.all(),
            show.line(),
            |s, e: &Endpoint| {
                let mut conn = s.session(e)?;
                let reply = conn.send(&show)?;
                let parse_error = |source| Error::Parse {
                    endpoint: e.to_string(),
                    command: show.line().to_owned(),
                    source: Box::new(source),
                };
                let parsed = parse_entries(kind, &reply).map_err(parse_error)?;
                let readings = readings(&parsed);
                let mut confirmed = Vec::with_capacity(readings.len());
                for chunk in readings.chunks(LOOKUPS_AT_ONCE) {
                    let replies = conn.pipeline(&lookups_of(list, chunk)?)?;
                    confirmed.extend(confirmations(chunk, &replies));
                }
                Ok(resolve_all(&parsed, &readings, &confirmed))
            },
        )
    }

    fn lookup(
        &self,
        kind: ListKind,
        list: MapRef<'_>,
        value: &str,
    ) -> Result<PerProcess<Vec<Lookup>>> {
        self.read(&self.all(), &kind.get(list, value)?, lookups)
    }

    /// `show map`: every map of every process.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] / [`Error::Parse`] naming the process, or
    /// [`Error::Partial`].
    pub fn maps(&self) -> Result<PerProcess<Vec<MapInfo>>> {
        self.lists(ListKind::Map)
    }

    /// `show map <map>`: the entries, per process.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] with HAProxy's text for an unknown map.
    pub fn map_entries(&self, map: MapRef<'_>) -> Result<PerProcess<Vec<Entry>>> {
        self.entries(ListKind::Map, map)
    }

    /// `get map <map> <value>`: what the map gives for `value`, per process
    /// (one line per expression using the map).
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] with HAProxy's text (an unknown map is an
    /// error, never a result).
    pub fn get_map(&self, map: MapRef<'_>, value: &str) -> Result<PerProcess<Vec<Lookup>>> {
        self.lookup(ListKind::Map, map, value)
    }

    /// `add map <map> <key> <value>` on every process.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] with HAProxy's text, or [`Error::Partial`].
    pub fn add_map(&self, map: MapRef<'_>, key: &str, value: &str) -> Result<()> {
        self.run(&Command::add_map(map, key, value)?).map(drop)
    }

    /// `set map <map> <key|#id> <value>` on every process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::del_map`].
    pub fn set_map(&self, map: MapRef<'_>, entry: EntryRef<'_>, value: &str) -> Result<()> {
        let set = Command::set_map(map, entry, value)?;
        self.id_everywhere(ListKind::Map, map, entry)?;
        self.run(&set).map(drop)
    }

    /// `del map <map> <key|#id>` on every process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`]; [`Error::EntryIdNotShared`], nothing
    /// sent, for an id that does not name the same entry on every process
    /// (ids are per process: with several processes, address entries by
    /// key).
    pub fn del_map(&self, map: MapRef<'_>, entry: EntryRef<'_>) -> Result<()> {
        let del = Command::del_map(map, entry)?;
        self.id_everywhere(ListKind::Map, map, entry)?;
        self.run(&del).map(drop)
    }

    /// For an entry given by id: that every process the write goes to has
    /// an entry with that id, with one key — else
    /// [`Error::EntryIdNotShared`]. A key passes. Only the listing is read
    /// (as printed: no entry's reading looked up).
    fn id_everywhere(&self, kind: ListKind, list: MapRef<'_>, entry: EntryRef<'_>) -> Result<()> {
        let EntryRef::Id(id) = entry else {
            return Ok(());
        };
        let per = self.read(&self.writable(), &kind.show_entries(list)?, |reply| {
            Ok(parse_entries(kind, reply)?
                .into_iter()
                .find(|e| e.id == id)
                .map(|e| e.key.to_owned()))
        })?;
        let keys: Vec<Option<&str>> = per.iter().map(|(_, k)| k.as_deref()).collect();
        if keys.iter().all(|k| k.is_some() && *k == keys[0]) {
            return Ok(());
        }
        Err(Error::EntryIdNotShared {
            id: id.to_owned(),
            holders: per
                .iter()
                .zip(&keys)
                .filter_map(|((p, _), k)| Some(format!("pid {} (key {:?})", p.pid, (*k)?)))
                .collect(),
        })
    }

    /// `clear map <map>` on every process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn clear_map(&self, map: MapRef<'_>) -> Result<()> {
        self.run(&Command::clear_map(map)?).map(drop)
    }

    /// `show acl`: every ACL of every process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::maps`].
    pub fn acls(&self) -> Result<PerProcess<Vec<MapInfo>>> {
        self.lists(ListKind::Acl)
    }

    /// `show acl <acl>`: the patterns, per process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::map_entries`].
    pub fn acl_entries(&self, acl: MapRef<'_>) -> Result<PerProcess<Vec<Entry>>> {
        self.entries(ListKind::Acl, acl)
    }

    /// `get acl <acl> <value>`: whether `value` matches, per process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::get_map`].
    pub fn get_acl(&self, acl: MapRef<'_>, value: &str) -> Result<PerProcess<Vec<Lookup>>> {
        self.lookup(ListKind::Acl, acl, value)
    }

    /// `add acl <acl> <pattern>` on every process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn add_acl(&self, acl: MapRef<'_>, pattern: &str) -> Result<()> {
        self.run(&Command::add_acl(acl, pattern)?).map(drop)
    }

    /// `del acl <acl> <pattern|#id>` on every process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::del_map`].
    pub fn del_acl(&self, acl: MapRef<'_>, entry: EntryRef<'_>) -> Result<()> {
        let del = Command::del_acl(acl, entry)?;
        self.id_everywhere(ListKind::Acl, acl, entry)?;
        self.run(&del).map(drop)
    }

    /// `clear acl <acl>` on every process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn clear_acl(&self, acl: MapRef<'_>) -> Result<()> {
        self.run(&Command::clear_acl(acl)?).map(drop)
    }

    /// Adds many entries at once (`add map <map> <<` with a payload), one
    /// session per process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn add_map_entries(&self, map: MapRef<'_>, entries: &[(&str, &str)]) -> Result<()> {
        let add = Command::add_map_bulk(map, None, entries)?;
        fan_out(self.settings(), &self.writable(), add.line(), |s, e| {
            s.session(e)?.send(&add)
        })
        .map(drop)
    }

    /// Replaces a map's whole content atomically on every process (HAProxy
    /// 2.4+), in three rounds over every process:
    ///
    /// 1. `prepare map` and `add map @<ver> <<` with the entries: a new
    ///    version is filled beside the live one. If this fails on any
    ///    process, nothing is committed anywhere.
    /// 2. `commit map @<ver>`: lookups switch to the new content. HAProxy
    ///    refuses a commit when a later version was committed meanwhile
    ///    (`Version number out of range.`): that is a failure.
    /// 3. `show map`: every process must hold, as its current version, the
    ///    version committed there. A process whose current version is
    ///    another one was replaced concurrently by someone else
    ///    ([`Error::MapDiverged`], naming each such process), so the
    ///    processes may hold different contents.
    ///
    /// Two concurrent replaces of one map therefore never both return
    /// `Ok` unless every process ends with the content of the one that
    /// committed last everywhere. On [`Error::MapDiverged`], run the replace
    /// again once the other writer is done (the last complete replace
    /// wins everywhere), and serialise writers of one map.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] with HAProxy's text (e.g. before 2.4, or a
    /// refused commit), [`Error::Partial`] when only some processes
    /// failed, [`Error::MapDiverged`] when the check after the commit
    /// finds another version current.
    pub fn replace_map(&self, map: MapRef<'_>, entries: &[(&str, &str)]) -> Result<()> {
        let prepare = Command::prepare_map(map)?;
        let all = self.writable();
        let versions: PerProcess<u64> = fan_out(self.settings(), &all, prepare.line(), |s, e| {
            let mut conn = s.session(e)?;
            let reply = conn.send(&prepare)?;
            let version = parse_new_version(&reply).ok_or_else(|| Error::CommandFailed {
                endpoint: e.to_string(),
                command: prepare.line().to_owned(),
                message: reply.clone(),
            })?;
            if !entries.is_empty() {
                conn.send(&Command::add_map_bulk(map, Some(version), entries)?)?;
            }
            Ok(version)
        })?;
        let version_of = |e: &Endpoint| {
            all.iter()
                .zip(&versions)
                .find(|(p, _)| p.endpoint() == e)
                .map(|(_, (_, v))| *v)
        };
        let what = format!("commit map {map}");
        fan_out(self.settings(), &all, &what, |s, e| {
            let version = version_of(e).ok_or_else(|| Error::NotHAProxy {
                endpoint: e.to_string(),
                reason: "no prepared version for this process".to_owned(),
            })?;
            s.send(e, &Command::commit_map(map, version)?)
        })?;
        let lists = self.lists(ListKind::Map)?;
        check_committed(map, &all, &versions, &lists)
    }
}

/// The last round of [`HAProxy::replace_map`]: every process must hold,
/// as its current version, the version committed there.
pub(crate) fn check_committed(
    map: MapRef<'_>,
    all: &[&Process],
    versions: &PerProcess<u64>,
    lists: &PerProcess<Vec<MapInfo>>,
) -> Result<()> {
    let mut diverged = Vec::new();
    for ((p, (_, committed)), (_, list)) in all.iter().zip(versions).zip(lists) {
        let current = list
            .iter()
            .find(|m| match map {
                MapRef::Id(id) => u64::try_from(m.id) == Ok(id),
                MapRef::File(f) => m.file.as_deref() == Some(f),
            })
            .and_then(|m| m.curr_ver);
        if current != Some(*committed) {
            diverged.push(MapVersion {
                process: p.id.clone(),
                endpoint: p.endpoint().to_string(),
                committed: *committed,
                current,
            });
        }
    }
    if diverged.is_empty() {
        Ok(())
    } else {
        Err(Error::MapDiverged {
            map: map.to_string(),
            diverged,
        })
    }
}

/// `show map` / `show acl` (the lists), owned.
pub(crate) fn map_infos(reply: &str) -> Result<Vec<MapInfo>, haproxy_proto::ParseError> {
    Ok(parse_map_list(reply)?
        .into_iter()
        .map(|m| MapInfo {
            id: m.id,
            file: m.file.map(str::to_owned),
            description: m.description.to_owned(),
            curr_ver: m.curr_ver,
            next_ver: m.next_ver,
            entry_cnt: m.entry_cnt,
        })
        .collect())
}

/// `get map` / `get acl`, owned.
pub(crate) fn lookups(reply: &str) -> Result<Vec<Lookup>, haproxy_proto::ParseError> {
    Ok(parse_lookup(reply)?
        .into_iter()
        .map(|l| Lookup {
            match_type: l.match_type.to_owned(),
            found: l.found,
            key: l.key.map(str::to_owned),
            value: l.value.map(str::to_owned),
        })
        .collect())
}

/// `show map <map>` / `show acl <acl>` entries, borrowed.
pub(crate) fn parse_entries(
    kind: ListKind,
    reply: &str,
) -> Result<Vec<haproxy_proto::MapEntry<'_>>, haproxy_proto::ParseError> {
    match kind {
        ListKind::Map => parse_map_entries(reply),
        ListKind::Acl => parse_acl_entries(reply),
    }
}

/// An entry that reads one way only.
pub(crate) fn plain_entry(entry: &haproxy_proto::MapEntry<'_>) -> Entry {
    Entry {
        id: entry.id.to_owned(),
        key: entry.key.to_owned(),
        value: entry.value.map(str::to_owned),
        ambiguous: false,
    }
}

/// Whether `get map <key>`'s reply finds exactly `key` with exactly
/// `value` (one reading of an ambiguous entry confirmed).
pub(crate) fn confirms(reply: &str, key: &str, value: &str) -> bool {
    parse_lookup(reply)
        .map(|lookups| {
            lookups
                .iter()
                .any(|l| l.found && l.key == Some(key) && l.value == Some(value))
        })
        .unwrap_or(false)
}

/// An ambiguous entry given the readings its lookups confirmed: the one
/// reading, or ambiguous still.
pub(crate) fn resolved(entry: &haproxy_proto::MapEntry<'_>, confirmed: &[(&str, &str)]) -> Entry {
    match confirmed {
        [(key, value)] => Entry {
            id: entry.id.to_owned(),
            key: (*key).to_owned(),
            value: Some((*value).to_owned()),
            ambiguous: false,
        },
        _ => Entry {
            id: entry.id.to_owned(),
            key: entry.text.to_owned(),
            value: None,
            ambiguous: true,
        },
    }
}

/// How many `get map` lookups go in one pipelined write.
pub(crate) const LOOKUPS_AT_ONCE: usize = 1024;

/// One reading of an ambiguous entry: the entry's index, a key and a value.
pub(crate) type Reading<'e> = (usize, &'e str, &'e str);

/// A `show map` line whose key or value holds a blank reads in several
/// ways: each reading is looked up with `get map <key>` — pipelined,
/// [`LOOKUPS_AT_ONCE`] at a time ([`lookups_of`]; a round trip each made
/// 100,000 entries with blanks take 14 s) — and the one whose lookup finds
/// exactly that key with exactly that value is the entry
/// ([`resolve_all`]). Every reading of every such entry, in order.
pub(crate) fn readings<'e>(parsed: &[haproxy_proto::MapEntry<'e>]) -> Vec<Reading<'e>> {
    parsed
        .iter()
        .enumerate()
        .filter(|(_, e)| e.is_ambiguous())
        .flat_map(|(i, e)| e.splits().map(move |(key, value)| (i, key, value)))
        .collect()
}

/// The `get map` of each of `readings`.
pub(crate) fn lookups_of(list: MapRef<'_>, readings: &[Reading<'_>]) -> Result<Vec<Command>> {
    readings
        .iter()
        .map(|&(_, key, _)| Command::get_map(list, key).map_err(Error::from))
        .collect()
}

/// Whether each of `readings` is confirmed by its lookup's reply.
pub(crate) fn confirmations<'r>(
    readings: &'r [Reading<'_>],
    replies: &'r [String],
) -> impl Iterator<Item = bool> + 'r {
    readings
        .iter()
        .zip(replies)
        .map(|(&(_, key, value), reply)| confirms(reply, key, value))
}

/// The entries of `parsed`, each ambiguous one resolved by the replies to
/// its [`readings`] ([`confirmations`]): when none or more than one reading is confirmed (a
/// match method other than exact strings, or two entries that print
/// alike), the entry is reported as ambiguous, never split by guess.
pub(crate) fn resolve_all(
    parsed: &[haproxy_proto::MapEntry<'_>],
    readings: &[Reading<'_>],
    confirmations: &[bool],
) -> Vec<Entry> {
    let mut confirmed: Vec<Vec<(&str, &str)>> = vec![Vec::new(); parsed.len()];
    for (&(i, key, value), _) in readings.iter().zip(confirmations).filter(|(_, c)| **c) {
        if let Some(c) = confirmed.get_mut(i) {
            c.push((key, value));
        }
    }
    parsed
        .iter()
        .zip(&confirmed)
        .map(|(entry, c)| {
            if entry.is_ambiguous() {
                resolved(entry, c)
            } else {
                plain_entry(entry)
            }
        })
        .collect()
}

/// The version of `prepare map`'s `New version created: <n>`.
pub(crate) fn parse_new_version(reply: &str) -> Option<u64> {
    reply
        .lines()
        .find_map(|l| l.trim().strip_prefix("New version created:"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_map_version_is_read() {
        let cases = [
            ("New version created: 1\n\n", Some(1)),
            ("Unknown map identifier.\n", None),
            ("", None),
        ];
        for (reply, want) in cases {
            assert_eq!(parse_new_version(reply), want, "{reply:?}");
        }
    }
}
