//! Fleet consistency: every difference between the processes of a host on
//! what must agree — versions, the set of objects, server states, weights
//! and addresses, proxy settings, map and ACL contents. A deploy pipeline's
//! one-line health check ([`HAProxy::differences`]).

use crate::aggregate::Combined;
use crate::haproxy::{HAProxy, PerProcess};
use crate::maps::Entry;
use crate::objects::StatObject;
use crate::process::ProcessId;
use crate::snapshot::Snapshot;
use crate::MapRef;
use crate::Result;
use std::fmt;

/// The `show stat` columns that must be the same on every process for an
/// object: administrative and health state, weights, addresses, ids,
/// proxy settings. (Counters, rates and check timings are per process by
/// nature and not compared.)
pub const MUST_AGREE_COLUMNS: &[&str] = &[
    "status", "weight", "uweight", "addr", "act", "bck", "iid", "sid", "tracked", "mode", "algo",
    "cookie",
];

/// The `show info` fields that must agree.
pub const MUST_AGREE_INFO: &[&str] = &["Version", "Release_date"];

/// One thing the processes of a fleet disagree on.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// What differs: `server be_app/app1`, `backend be_app`, `map #1
    /// (/etc/haproxy/hosts.map)`, `show info`, `maps`.
    pub object: String,
    /// The field: a `show stat` column, a `show info` field, `present`,
    /// `entries`.
    pub field: String,
    /// Every process's value (`None`: the process has none).
    pub values: PerProcess<Option<String>>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}:", self.object, self.field)?;
        for (i, (p, v)) in self.values.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            match v {
                Some(v) => write!(f, "{sep}{p}={v}")?,
                None => write!(f, "{sep}{p}=(none)")?,
            }
        }
        Ok(())
    }
}

fn label(o: &StatObject) -> String {
    match o.kind() {
        crate::ObjectKind::Server | crate::ObjectKind::Listener => {
            format!("server {}/{}", o.proxy(), o.name())
        }
        crate::ObjectKind::Frontend => format!("frontend {}", o.proxy()),
        crate::ObjectKind::Backend => format!("backend {}", o.proxy()),
    }
}

/// The differences of `snap`'s objects and `show info`.
pub fn snapshot_differences(snap: &Snapshot) -> Vec<Difference> {
    let mut out = Vec::new();
    let info = snap.info();
    for field in MUST_AGREE_INFO {
        let values: PerProcess<Option<String>> = info
            .iter()
            .map(|(p, i)| (p.clone(), i.get(field).map(str::to_owned)))
            .collect();
        if values.windows(2).any(|w| w[0].1 != w[1].1) {
            out.push(Difference {
                object: "show info".to_owned(),
                field: (*field).to_owned(),
                values,
            });
        }
    }
    let all: Vec<ProcessId> = info.iter().map(|(p, _)| p.clone()).collect();
    let mut object = |stats: StatObject, present: Vec<ProcessId>| {
        if present.len() < all.len() {
            out.push(Difference {
                object: label(&stats),
                field: "present".to_owned(),
                values: all
                    .iter()
                    .map(|p| (p.clone(), Some(present.contains(p).to_string())))
                    .collect(),
            });
        }
        for (col, v) in stats.disagreements() {
            if !MUST_AGREE_COLUMNS.contains(&col) {
                continue;
            }
            if let Combined::Disagreement { values } = v {
                out.push(Difference {
                    object: label(&stats),
                    field: col.to_owned(),
                    values: values
                        .iter()
                        .map(|(p, v)| (p.clone(), v.as_ref().map(ToString::to_string)))
                        .collect(),
                });
            }
        }
    };
    for f in snap.frontends() {
        object(f.stats(), f.processes());
    }
    for b in snap.backends() {
        object(b.stats(), b.processes());
        for s in b.servers() {
            object(s.stats(), s.processes());
        }
    }
    out
}

/// `(key, value)` of every entry, sorted: entry ids are per process and
/// the order of equal keys is not compared.
fn content(entries: &[Entry]) -> Vec<(&str, Option<&str>)> {
    let mut v: Vec<_> = entries
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_deref()))
        .collect();
    v.sort_unstable();
    v
}

/// The processes a snapshot could not read, as a difference (best effort
/// only).
pub(crate) fn read_difference(snap: &Snapshot) -> Option<Difference> {
    if snap.failures().is_empty() {
        return None;
    }
    let mut values: PerProcess<Option<String>> = snap
        .info()
        .into_iter()
        .map(|(p, _)| (p, Some("ok".to_owned())))
        .collect();
    values.extend(
        snap.failures()
            .iter()
            .map(|f| (f.process.clone(), Some(format!("failed: {}", f.error)))),
    );
    Some(Difference {
        object: "process".to_owned(),
        field: "read".to_owned(),
        values,
    })
}

/// The processes' lists of map (or ACL) files, when they differ.
pub(crate) fn files_difference(
    kind: &str,
    lists: &PerProcess<Vec<crate::MapInfo>>,
) -> Option<Difference> {
    let names = |l: &Vec<crate::MapInfo>| -> Vec<String> {
        let mut v: Vec<String> = l
            .iter()
            .map(|m| format!("#{} {}", m.id, m.file.as_deref().unwrap_or("")))
            .collect();
        v.sort();
        v
    };
    let per: PerProcess<Option<String>> = lists
        .iter()
        .map(|(p, l)| (p.clone(), Some(names(l).join(", "))))
        .collect();
    per.windows(2)
        .any(|w| w[0].1 != w[1].1)
        .then(|| Difference {
            object: format!("{kind}s"),
            field: "files".to_owned(),
            values: per,
        })
}

/// One map's (or ACL's) entries on every process, when they differ.
pub(crate) fn entries_difference(
    kind: &str,
    m: &crate::MapInfo,
    got: &PerProcess<Vec<Entry>>,
) -> Option<Difference> {
    let contents: Vec<_> = got.iter().map(|(_, e)| content(e)).collect();
    contents
        .windows(2)
        .any(|w| w[0] != w[1])
        .then(|| Difference {
            object: format!("{kind} #{} ({})", m.id, m.file.as_deref().unwrap_or("")),
            field: "entries".to_owned(),
            values: got
                .iter()
                .map(|(p, e)| (p.clone(), Some(format!("{} entries", e.len()))))
                .collect(),
        })
}

/// Differences in the maps (or ACLs) of every process: the list of files,
/// then each one's entries.
fn list_differences(
    hap: &HAProxy,
    kind: &str,
    lists: &PerProcess<Vec<crate::MapInfo>>,
    entries: impl Fn(&HAProxy, MapRef<'_>) -> Result<PerProcess<Vec<Entry>>>,
    out: &mut Vec<Difference>,
) -> Result<()> {
    if let Some(d) = files_difference(kind, lists) {
        out.push(d);
        return Ok(());
    }
    let Some((_, first)) = lists.first() else {
        return Ok(());
    };
    for m in first {
        let got = entries(hap, MapRef::try_from(m.id)?)?;
        out.extend(entries_difference(kind, m, &got));
    }
    Ok(())
}

impl HAProxy {
    /// Everything the processes disagree on that must agree, in `snap`
    /// (taken from this process set) and in the maps and ACLs read now:
    /// `show info` versions, which frontends, backends and servers exist,
    /// the [`MUST_AGREE_COLUMNS`] of each, the map and ACL files and their
    /// entries. Empty on a consistent fleet. A process `snap` could not
    /// read is a difference too (field `read`): an unread process cannot
    /// be called consistent.
    ///
    /// # Errors
    ///
    /// Reading the maps or ACLs failed on some process.
    pub fn differences(&self, snap: &Snapshot) -> Result<Vec<Difference>> {
        let mut out: Vec<Difference> = read_difference(snap).into_iter().collect();
        out.extend(snapshot_differences(snap));
        list_differences(
            self,
            "map",
            &self.maps()?,
            |h, r| h.map_entries(r),
            &mut out,
        )?;
        list_differences(
            self,
            "acl",
            &self.acls()?,
            |h, r| h.acl_entries(r),
            &mut out,
        )?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_names_the_object_the_field_and_every_process() {
        let d = Difference {
            object: "server be/s1".to_owned(),
            field: "weight".to_owned(),
            values: vec![
                (ProcessId::new(10, None, None), Some("1".to_owned())),
                (
                    ProcessId::new(11, Some("lb2".to_owned()), None),
                    Some("3".to_owned()),
                ),
                (ProcessId::new(12, None, None), None),
            ],
        };
        assert_eq!(
            d.to_string(),
            "server be/s1 weight: pid 10=1, pid 11 on lb2=3, pid 12=(none)"
        );
    }

    #[test]
    fn map_contents_ignore_entry_ids_and_order() {
        let e = |id: &str, k: &str, v: &str| Entry {
            id: id.to_owned(),
            key: k.to_owned(),
            value: Some(v.to_owned()),
            ambiguous: false,
        };
        let a = [e("0x1", "a", "1"), e("0x2", "b", "2")];
        let b = [e("0x9", "b", "2"), e("0x8", "a", "1")];
        assert_eq!(content(&a), content(&b));
        assert_ne!(content(&a), content(&a[..1]));
    }
}
