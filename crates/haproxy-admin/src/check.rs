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
                // A check in transition (`UP 1/3`: up, the checks failing;
                // `DOWN 1/2`: coming up) is its state: processes whose
                // checks run out of step are not a difference.
                let state = |v: &Option<crate::Value>| {
                    v.as_ref()
                        .map(|v| crate::Status::parse(&v.to_string()).settled())
                };
                if col == "status" && values.windows(2).all(|w| state(&w[0].1) == state(&w[1].1)) {
                    continue;
                }
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
    // By file: ids differ between versions (2.6 and 3.x number a
    // configuration's maps differently), and anonymous lists (ACLs written
    // inline, no file) are not an operator's to keep in step.
    let names = |l: &Vec<crate::MapInfo>| -> Vec<String> {
        let mut v: Vec<String> = l.iter().filter_map(|m| m.file.clone()).collect();
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

/// Every key whose entries differ between the processes of `per` (one
/// map's or ACL's entries on each process), with each process's value
/// there: its values joined by `, ` (a key may be in a map more than
/// once), `present` for an ACL pattern, `None` where the process lacks
/// the key. Entry ids and order are not compared (ids are per process).
/// Sorted by key; empty when the processes agree.
pub fn entry_differences(
    per: &PerProcess<Vec<Entry>>,
) -> Vec<(String, PerProcess<Option<String>>)> {
    use std::collections::BTreeMap;
    let by_key: Vec<BTreeMap<&str, Vec<Option<&str>>>> = per
        .iter()
        .map(|(_, entries)| {
            let mut m: BTreeMap<&str, Vec<Option<&str>>> = BTreeMap::new();
            for (k, v) in content(entries) {
                m.entry(k).or_default().push(v);
            }
            m
        })
        .collect();
    let mut keys: Vec<&str> = by_key.iter().flat_map(|m| m.keys().copied()).collect();
    keys.sort_unstable();
    keys.dedup();
    let text = |vs: &Vec<Option<&str>>| {
        vs.iter()
            .map(|v| v.unwrap_or("present"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    keys.into_iter()
        .filter(|k| by_key.windows(2).any(|w| w[0].get(k) != w[1].get(k)))
        .map(|k| {
            let values = per
                .iter()
                .zip(&by_key)
                .map(|((p, _), m)| (p.clone(), m.get(k).map(text)))
                .collect();
            (k.to_owned(), values)
        })
        .collect()
}

/// How many differing keys of one map `check` names one by one; the rest
/// are counted in one more difference.
const KEYS_NAMED: usize = 100;

/// One map's (or ACL's) entries on every process, when they differ: each
/// differing key with every process's value (at most [`KEYS_NAMED`], then
/// how many more).
pub(crate) fn entries_differences(
    kind: &str,
    m: &crate::MapInfo,
    got: &PerProcess<Vec<Entry>>,
) -> Vec<Difference> {
    let object = match m.file.as_deref() {
        Some(f) => format!("{kind} {f}"),
        None => format!("{kind} #{}", m.id),
    };
    let diffs = entry_differences(got);
    let more = diffs.len().saturating_sub(KEYS_NAMED);
    let mut out: Vec<Difference> = diffs
        .into_iter()
        .take(KEYS_NAMED)
        .map(|(key, values)| Difference {
            object: object.clone(),
            field: format!("entry {key}"),
            values,
        })
        .collect();
    if more > 0 {
        out.push(Difference {
            object,
            field: format!("{more} more keys"),
            values: got
                .iter()
                .map(|(p, e)| (p.clone(), Some(format!("{} entries", e.len()))))
                .collect(),
        });
    }
    out
}

/// The maps (or ACLs) whose entries are compared, with their file (they
/// are read by file: ids differ between versions): those of the first
/// process that have one.
pub(crate) fn compared(
    lists: &PerProcess<Vec<crate::MapInfo>>,
) -> impl Iterator<Item = (&crate::MapInfo, &str)> {
    lists
        .first()
        .into_iter()
        .flat_map(|(_, l)| l.iter())
        .filter_map(|m| Some((m, m.file.as_deref()?)))
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
    for (m, file) in compared(lists) {
        let got = entries(hap, MapRef::File(file))?;
        out.extend(entries_differences(kind, m, &got));
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

    /// A check in transition is its state; another state is a difference.
    #[test]
    fn a_check_in_transition_is_not_a_difference() {
        use haproxy_transport::Endpoint;
        let snap = |a: &str, b: &str| {
            Snapshot::from_replies([(a, 10), (b, 11)].map(|(status, pid)| {
                (
                    Endpoint::unix(format!("/{pid}")),
                    format!("Name: HAProxy\nPid: {pid}\n"),
                    format!("# pxname,svname,status,\nbe,s1,{status},\nbe,BACKEND,UP,\n\n"),
                )
            }))
            .expect("snapshot")
        };
        assert!(snapshot_differences(&snap("UP 1/3", "UP")).is_empty());
        assert!(snapshot_differences(&snap("DOWN 1/2", "DOWN")).is_empty());
        let d = snapshot_differences(&snap("UP", "DOWN"));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            (d[0].object.as_str(), d[0].field.as_str()),
            ("server be/s1", "status")
        );
    }

    #[test]
    fn entry_differences_name_each_key_with_every_value() {
        let e = |k: &str, v: Option<&str>| Entry {
            id: "0x1".into(),
            key: k.into(),
            value: v.map(Into::into),
            ambiguous: false,
        };
        let p = |n| ProcessId::new(n, None, None);
        let per = vec![
            (p(1), vec![e("a", Some("x")), e("b", Some("y"))]),
            (
                p(2),
                vec![e("b", Some("y")), e("a", Some("z")), e("c", None)],
            ),
        ];
        let d = entry_differences(&per);
        assert_eq!(
            d,
            [
                (
                    "a".to_owned(),
                    vec![(p(1), Some("x".into())), (p(2), Some("z".into()))]
                ),
                (
                    "c".to_owned(),
                    vec![(p(1), None), (p(2), Some("present".into()))]
                ),
            ]
        );
        assert!(entry_differences(&per[..1].to_vec()).is_empty());
    }

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
