//! Stick tables on every process: list, entries (combined across
//! processes where the data adds), and writes read back — written once
//! against [`Exchange`], for both drivers.
//!
//! Combining: a key held by several processes is one entry. Data that
//! counts (`*_cnt`, rates, `gpc*`, `bytes_*`, `conn_cur`) is summed, as the
//! service as a whole saw it; anything else (`gpt*` tags, `server_id`) is
//! one value where the processes agree and each process's where they do
//! not.

use crate::exchange::{each, ready, Exchange};
use crate::haproxy::{collect, HAProxy, PerProcess};
use crate::{Error, Process, Result};
use haproxy_proto::command::Command;
use haproxy_proto::stick_table::{parse_table, parse_tables};

/// A stick table as one process holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableInfo {
    /// Its name.
    pub name: String,
    /// Its key type (`ip`, `ipv6`, `integer`, `string`, `binary`).
    pub key_type: String,
    /// Entries it can hold.
    pub size: u64,
    /// Entries it holds.
    pub used: u64,
}

/// One entry as one process holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableEntry {
    /// The key.
    pub key: String,
    /// Streams tracking it now (an entry in use cannot be cleared).
    pub used: u64,
    /// Milliseconds until it expires.
    pub exp: Option<u64>,
    /// Its data: type as printed (`http_req_rate(10000)`) and value.
    pub data: Vec<(String, String)>,
}

/// One data value of a key across the processes that hold it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum TableValue {
    /// Counted data, summed over the processes.
    Sum(u64),
    /// The value every process holding the key has.
    Same(String),
    /// Each process's value (pid, value), where they differ.
    PerProcess(Vec<(u32, String)>),
}

/// A key across the processes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CombinedEntry {
    /// The key.
    pub key: String,
    /// The pids of the processes that hold it.
    pub pids: Vec<u32>,
    /// Each data type, combined.
    pub data: Vec<(String, TableValue)>,
}

/// Whether a data type counts (summed across processes).
pub fn data_adds(name: &str) -> bool {
    let base = name.split('(').next().unwrap_or(name);
    base.ends_with("_cnt")
        || base.ends_with("_rate")
        || base.starts_with("gpc")
        || base.starts_with("bytes_")
        || base == "conn_cur"
}

/// Combines every process's entries of one table by key (keys in first
/// appearance order).
pub fn combine_entries(per: &PerProcess<Vec<TableEntry>>) -> Vec<CombinedEntry> {
    let mut keys: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (_, entries) in per {
        for e in entries {
            if seen.insert(e.key.as_str()) {
                keys.push(&e.key);
            }
        }
    }
    let mut by_key: std::collections::HashMap<&str, Vec<(u32, &TableEntry)>> =
        std::collections::HashMap::new();
    for (p, entries) in per {
        for e in entries {
            by_key.entry(&e.key).or_default().push((p.pid, e));
        }
    }
    keys.into_iter()
        .map(|k| {
            let holders = by_key.remove(k).unwrap_or_default();
            let mut names: Vec<&str> = Vec::new();
            for (_, e) in &holders {
                for (n, _) in &e.data {
                    if !names.contains(&n.as_str()) {
                        names.push(n);
                    }
                }
            }
            let data = names
                .into_iter()
                .map(|n| {
                    let values: Vec<(u32, &str)> = holders
                        .iter()
                        .filter_map(|(pid, e)| {
                            e.data
                                .iter()
                                .find(|(d, _)| d == n)
                                .map(|(_, v)| (*pid, v.as_str()))
                        })
                        .collect();
                    let sum = data_adds(n)
                        .then(|| {
                            values
                                .iter()
                                .map(|(_, v)| v.parse::<u64>().ok())
                                .sum::<Option<u64>>()
                        })
                        .flatten();
                    let value = match sum {
                        Some(s) => TableValue::Sum(s),
                        None if values.windows(2).all(|w| w[0].1 == w[1].1) => TableValue::Same(
                            values
                                .first()
                                .map_or_else(String::new, |(_, v)| (*v).to_owned()),
                        ),
                        None => TableValue::PerProcess(
                            values.iter().map(|(p, v)| (*p, (*v).to_owned())).collect(),
                        ),
                    };
                    (n.to_owned(), value)
                })
                .collect();
            CombinedEntry {
                key: k.to_owned(),
                pids: holders.iter().map(|(p, _)| *p).collect(),
                data,
            }
        })
        .collect()
}

async fn lists<E: Exchange>(x: &E, procs: &[&Process]) -> Vec<Result<Vec<TableInfo>>> {
    each(x, procs, &Command::show_tables(), |reply| {
        Ok(parse_tables(reply)?
            .into_iter()
            .map(|t| TableInfo {
                name: t.name.to_owned(),
                key_type: t.key_type.to_owned(),
                size: t.size,
                used: t.used,
            })
            .collect())
    })
    .await
}

/// Each process's key type of table `name` (the table must exist on
/// every one of `procs`, with one key type).
async fn key_type<E: Exchange>(x: &E, procs: &[&Process], name: &str) -> Result<String> {
    let results: Vec<Result<String>> = lists(x, procs)
        .await
        .into_iter()
        .map(|l| {
            l?.into_iter()
                .find(|t| t.name == name)
                .map(|t| t.key_type)
                .ok_or_else(|| Error::NotFound {
                    kind: "stick table",
                    name: name.to_owned(),
                })
        })
        .collect();
    let types = collect(procs, &format!("show table {name}"), results)?;
    let first = types.first().map(|(_, t)| t.clone()).unwrap_or_default();
    if types.iter().any(|(_, t)| *t != first) {
        return Err(Error::InconsistentData {
            what: format!("the key type of table {name}"),
            values: types.into_iter().map(|(p, t)| (p, Some(t))).collect(),
        });
    }
    Ok(first)
}

async fn entries_of<E: Exchange>(
    x: &E,
    procs: &[&Process],
    show: &Command,
) -> Vec<Result<Vec<TableEntry>>> {
    each(x, procs, show, |reply| {
        Ok(parse_table(reply)?
            .map(|d| d.entries)
            .unwrap_or_default()
            .into_iter()
            .map(|e| TableEntry {
                key: e.key,
                used: e.used,
                exp: e.exp,
                data: e
                    .data
                    .into_iter()
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect(),
            })
            .collect())
    })
    .await
}

/// Sends `write` to every process a write goes to, then reads `show` back
/// on each and asks `check` of what it holds: `Ok` only when every
/// process passes.
async fn write_read_back<E: Exchange>(
    x: &E,
    procs: &[&Process],
    write: &Command,
    show: &Command,
    check: impl Fn(&Process, Vec<TableEntry>) -> Result<()>,
) -> Result<()> {
    let replies = x
        .exchange(procs, vec![vec![write.clone()]; procs.len()])
        .await;
    collect(procs, write.line(), replies)?;
    let results: Vec<Result<()>> = procs
        .iter()
        .zip(entries_of(x, procs, show).await)
        .map(|(p, r)| check(p, r?))
        .collect();
    collect(procs, write.line(), results).map(drop)
}

pub(crate) async fn tables<E: Exchange>(x: &E) -> Result<PerProcess<Vec<TableInfo>>> {
    let all = x.all();
    let results = lists(x, &all).await;
    collect(&all, "show table", results)
}

pub(crate) async fn table<E: Exchange>(
    x: &E,
    name: &str,
    key: Option<&str>,
) -> Result<PerProcess<Vec<TableEntry>>> {
    let all = x.all();
    let show = match key {
        Some(k) => Command::show_table(name, Some((&key_type(x, &all, name).await?, k)))?,
        None => Command::show_table(name, None)?,
    };
    let results = entries_of(x, &all, &show).await;
    collect(&all, show.line(), results)
}

pub(crate) async fn set_entry<E: Exchange>(
    x: &E,
    name: &str,
    key: &str,
    data: &[(&str, u64)],
) -> Result<()> {
    let procs = x.writable();
    let kt = key_type(x, &procs, name).await?;
    let set = Command::set_table(name, &kt, key, data)?;
    // Read back: the entry on every process, each value as set (a
    // counter may already have moved on with traffic: at least it).
    let show = Command::show_table(name, Some((&kt, key)))?;
    write_read_back(x, &procs, &set, &show, |p, entries| {
        let e = entries.iter().find(|e| e.key == key);
        for (t, v) in data {
            let found = e.and_then(|e| {
                e.data
                    .iter()
                    .find(|(n, _)| n == t)
                    .and_then(|(_, s)| s.parse::<u64>().ok())
            });
            let ok = match found {
                Some(f) if data_adds(t) => f >= *v,
                Some(f) => f == *v,
                None => false,
            };
            if !ok {
                return Err(Error::TableNotApplied {
                    endpoint: p.endpoint().to_string(),
                    what: format!(
                        "{name} key {key}: data.{t} reads {} after setting {v}",
                        found.map_or_else(|| "nothing".to_owned(), |f| f.to_string())
                    ),
                });
            }
        }
        Ok(())
    })
    .await
}

pub(crate) async fn clear<E: Exchange>(x: &E, name: &str, key: Option<&str>) -> Result<()> {
    let procs = x.writable();
    let kt = key_type(x, &procs, name).await?;
    let clear = Command::clear_table(name, key.map(|k| (kt.as_str(), k)))?;
    // Read back: HAProxy keeps an entry a stream tracks and says nothing.
    let show = Command::show_table(name, key.map(|k| (kt.as_str(), k)))?;
    write_read_back(x, &procs, &clear, &show, |p, left| {
            if left.is_empty() {
                return Ok(());
            }
            Err(Error::TableNotApplied {
                endpoint: p.endpoint().to_string(),
                what: format!(
                    "{name}: {} entr{} left after the clear ({}; an entry a connection tracks is kept by HAProxy until it ends)",
                    left.len(),
                    if left.len() == 1 { "y" } else { "ies" },
                    left.iter().take(3).map(|e| format!("key {} in use by {}", e.key, e.used)).collect::<Vec<_>>().join(", ")
                ),
            })
    })
    .await
}

impl HAProxy {
    /// `show table`: every stick table of every process.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] / [`Error::Parse`] naming the process, or
    /// [`Error::Partial`].
    pub fn tables(&self) -> Result<PerProcess<Vec<TableInfo>>> {
        ready(tables(self))
    }

    /// A table's entries on every process (the one of `key`, checked
    /// against the table's key type first); [`combine_entries`] makes one
    /// entry of a key several processes hold.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] where a process lacks the table (with `key`),
    /// [`Error::CommandFailed`], [`Error::Proto`] for a key the table's
    /// type cannot hold, [`Error::Partial`].
    pub fn table_entries(
        &self,
        name: &str,
        key: Option<&str>,
    ) -> Result<PerProcess<Vec<TableEntry>>> {
        ready(table(self, name, key))
    }

    /// `set table <name> key <key> data.<type> <value>…` on every process,
    /// then read back: `Ok` only when every process holds the entry with
    /// each value (a counter at least it: traffic may have counted since).
    ///
    /// # Errors
    ///
    /// [`Error::Proto`] before sending (a key the table's type cannot
    /// hold, a bad data type), [`Error::CommandFailed`] with HAProxy's
    /// words, [`Error::TableNotApplied`] from the read-back, or
    /// [`Error::Partial`].
    pub fn set_table_entry(&self, name: &str, key: &str, data: &[(&str, u64)]) -> Result<()> {
        ready(set_entry(self, name, key, data))
    }

    /// `clear table <name> [key <key>]` on every process, then read back:
    /// `Ok` only when no entry is left (HAProxy silently keeps an entry a
    /// connection still tracks: that is [`Error::TableNotApplied`]).
    ///
    /// # Errors
    ///
    /// As [`HAProxy::set_table_entry`].
    pub fn clear_table(&self, name: &str, key: Option<&str>) -> Result<()> {
        ready(clear(self, name, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProcessId;

    fn entry(key: &str, data: &[(&str, &str)]) -> TableEntry {
        TableEntry {
            key: key.to_owned(),
            used: 0,
            exp: None,
            data: data
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn counted_data_adds_and_tags_stay_per_process() {
        let p = |pid| ProcessId::new(pid, None, None);
        let per = vec![
            (
                p(1),
                vec![entry(
                    "10.0.0.1",
                    &[
                        ("http_req_cnt", "3"),
                        ("gpt0", "1"),
                        ("http_req_rate(10000)", "2"),
                    ],
                )],
            ),
            (
                p(2),
                vec![
                    entry(
                        "10.0.0.1",
                        &[
                            ("http_req_cnt", "4"),
                            ("gpt0", "2"),
                            ("http_req_rate(10000)", "1"),
                        ],
                    ),
                    entry(
                        "10.0.0.2",
                        &[("http_req_cnt", "1"), ("gpt0", "0"), ("server_id", "3")],
                    ),
                ],
            ),
        ];
        let c = combine_entries(&per);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].pids, [1, 2]);
        assert_eq!(
            c[0].data[0],
            ("http_req_cnt".to_owned(), TableValue::Sum(7))
        );
        assert_eq!(
            c[0].data[1],
            (
                "gpt0".to_owned(),
                TableValue::PerProcess(vec![(1, "1".to_owned()), (2, "2".to_owned())])
            )
        );
        assert_eq!(c[0].data[2].1, TableValue::Sum(3));
        assert_eq!(c[1].pids, [2]);
        assert_eq!(
            c[1].data[2],
            ("server_id".to_owned(), TableValue::Same("3".to_owned()))
        );
        assert!(
            data_adds("gpc0_rate(10000)") && data_adds("bytes_out_cnt") && !data_adds("server_id")
        );
    }
}
