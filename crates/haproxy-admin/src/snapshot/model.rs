//! The [`Snapshot`]: every process's parsed replies, the union of their
//! columns, the objects grouped across processes, and the accessors.

use crate::aggregate::{combine_indexed, Combined};
use crate::error::ProcessFailure;
use crate::haproxy::{PerProcess, Shared};
use crate::objects::ObjectKind;
use crate::process::{Process, ProcessId};
use crate::table::{Cell, ProcTable};
use crate::value::Value;
use crate::{Error, Result};
use haproxy_proto::info::{info_combine, InfoOwned};
use haproxy_proto::Combine;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Duration;

/// What one process answered.
#[derive(Debug)]
pub(crate) struct ProcSnap {
    /// Index into the shared process list.
    pub(crate) process: usize,
    pub(crate) info: InfoOwned,
    pub(crate) table: ProcTable,
    /// For every snapshot column, this process's column index.
    pub(crate) col_map: Vec<Option<usize>>,
}

/// One object (frontend, backend, server, listener) and the rows that
/// describe it in each process that has it.
#[derive(Debug)]
pub(crate) struct ObjectEntry {
    pub(crate) kind: ObjectKind,
    /// Its proxy and name in `Snapshot::names`: where they start, and
    /// their lengths ([`Snapshot::proxy_of`], [`Snapshot::name_of`]).
    names: (u32, u32, u32),
    /// Its rows in `Snapshot::rows`: where they start, and how many
    /// ([`Snapshot::rows_of`]).
    rows: (u32, u32),
}

/// The state of every process at one moment: all reads of a snapshot are
/// consistent with each other, and none goes back to HAProxy. Refresh
/// with [`Snapshot::refresh`] (or take a new one).
#[derive(Debug)]
pub struct Snapshot {
    pub(crate) shared: Arc<Shared>,
    pub(crate) procs: Vec<ProcSnap>,
    pub(super) failures: Vec<ProcessFailure>,
    pub(crate) columns: Arc<[Box<str>]>,
    /// How each column combines across processes (from its
    /// [`haproxy_proto::HeaderColumn`], decided once per snapshot).
    pub(crate) combine: Vec<Combine>,
    /// Who each process is, read once from its `show info`.
    ids: Vec<ProcessId>,
    /// Per column: the column its processes' values are weighted by when
    /// averaged (the request-time averages, by sessions).
    pub(super) weights: Vec<Option<usize>>,
    /// For every column, whether some process lacks it (processes of
    /// different versions): such a column is never combined over the
    /// processes that have it as if they were all.
    pub(super) uneven: Vec<bool>,
    /// Whether every process has the snapshot's columns in the
    /// snapshot's order (one version: the usual case), so that a column
    /// index is each record's own.
    pub(super) aligned: bool,
    pub(crate) objects: Vec<ObjectEntry>,
    /// Every object's proxy and name, one after the other: one buffer,
    /// not two allocations per object.
    names: String,
    /// Every object's rows, `(index into procs, row)`, an object's
    /// together and in process order.
    rows: Vec<(usize, usize)>,
}

/// A dropped snapshot's tables keep their memory for the next fetch of
/// the same processes.
impl Drop for Snapshot {
    fn drop(&mut self) {
        let max = self.shared.processes.len();
        for p in self.procs.drain(..) {
            self.shared.spare.give(p.table.into_memory(), max);
        }
    }
}

impl Snapshot {
    pub(super) fn assemble(
        shared: Arc<Shared>,
        mut procs: Vec<ProcSnap>,
        failures: Vec<ProcessFailure>,
    ) -> Snapshot {
        // The union of every process's columns, in first-seen order.
        let mut columns: Vec<Box<str>> = Vec::new();
        let mut combine: Vec<Combine> = Vec::new();
        let mut by_name: HashMap<Box<str>, usize> = HashMap::new();
        for p in &procs {
            for (c, h) in p.table.columns().iter().zip(p.table.header()) {
                if !by_name.contains_key(c) {
                    by_name.insert(c.clone(), columns.len());
                    columns.push(c.clone());
                    combine.push(h.combine());
                }
            }
        }
        for p in &mut procs {
            let mut map = vec![None; columns.len()];
            for (local, c) in p.table.columns().iter().enumerate() {
                if let Some(&global) = by_name.get(c) {
                    map[global] = Some(local);
                }
            }
            p.col_map = map;
        }
        // HAProxy's time averages are over each process's last 1,024
        // sessions (fewer on a process that has served fewer): averaged
        // across processes by sessions, a process that served none left out.
        let sessions = by_name.get(haproxy_proto::Column::Stot.name()).copied();
        let weights = columns
            .iter()
            .map(|c| {
                haproxy_proto::Column::from_name(c)
                    .filter(|c| c.info().kind == haproxy_proto::field::ValueKind::AverageMs)
                    .and(sessions)
            })
            .collect();
        let ids = procs
            .iter()
            .map(|p| {
                ProcessId::from_owned(&p.info)
                    .unwrap_or_else(|| shared.processes[p.process].id.clone())
            })
            .collect();
        let uneven = (0..columns.len())
            .map(|c| procs.iter().any(|p| p.col_map[c].is_none()))
            .collect();
        let aligned = procs.iter().all(|p| {
            p.table.columns().len() == columns.len()
                && p.col_map.iter().enumerate().all(|(c, m)| *m == Some(c))
        });
        let Grouped {
            objects,
            names,
            rows,
        } = group(&procs);
        Snapshot {
            shared,
            procs,
            failures,
            columns: columns.into(),
            combine,
            ids,
            weights,
            uneven,
            aligned,
            objects,
            names,
            rows,
        }
    }

    /// The processes that answered, in process order.
    pub fn processes(&self) -> impl Iterator<Item = &Process> + '_ {
        self.procs.iter().map(|p| &self.shared.processes[p.process])
    }

    /// The processes that failed, and exactly why (empty unless best
    /// effort: [`crate::Builder::allow_partial`] or
    /// [`crate::HAProxy::snapshot_partial`]).
    pub fn failures(&self) -> &[ProcessFailure] {
        &self.failures
    }

    /// Whether every process of the fleet is in this snapshot: none was
    /// unreachable at discovery and none failed since.
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty() && self.shared.unreachable.is_empty()
    }

    /// What this snapshot lacks, one line per process, in words: the
    /// sockets unreachable at discovery, then the processes that failed
    /// during the fetch. Empty for a complete snapshot. Every combined
    /// value of the snapshot is over the other processes only.
    pub fn missing(&self) -> Vec<String> {
        self.shared
            .unreachable
            .iter()
            .map(|u| format!("unreachable: {u}"))
            .chain(self.failures.iter().map(|f| format!("failed: {f}")))
            .collect()
    }

    /// How many processes answered (the number every
    /// [`crate::StatObject::processes`] is out of).
    pub fn process_count(&self) -> usize {
        self.procs.len()
    }

    /// How many objects of `kind` only some of the processes that
    /// answered have.
    pub fn partial_objects(&self, kind: ObjectKind) -> usize {
        self.objects
            .iter()
            .filter(|o| o.kind == kind && (o.rows.1 as usize) < self.procs.len())
            .count()
    }

    /// The `show stat` column names of this snapshot (the union over
    /// processes, in HAProxy's order).
    pub fn columns(&self) -> &[Box<str>] {
        &self.columns
    }

    /// Who process `proc_index` is, as its own `show info` in this
    /// snapshot says (a process restarted behind the same socket since
    /// discovery is its new self), else as discovery found it.
    pub(crate) fn process_id(&self, proc_index: usize) -> ProcessId {
        self.ids
            .get(proc_index)
            .cloned()
            .unwrap_or_else(|| ProcessId::new(0, None, None))
    }

    // ---- show info ----------------------------------------------------

    /// Every process's `show info`.
    pub fn info(&self) -> PerProcess<&InfoOwned> {
        self.procs
            .iter()
            .enumerate()
            .map(|(i, p)| (self.process_id(i), &p.info))
            .collect()
    }

    /// A `show info` field combined across processes as the info field
    /// table says (`Maxconn` summed, `Idle_pct` averaged, `Uptime_sec` the
    /// smallest, `Version` must agree…); `None` if no process reports it.
    /// A field only some processes print (processes of different versions)
    /// is every process's value, never combined over those that print it
    /// as if they were all.
    pub fn info_field(&self, name: &str) -> Option<Combined<Value>> {
        self.info_field_spelled(&[name])
    }

    /// As [`Snapshot::info_field`], for a field HAProxy versions spell
    /// differently (2.6's `TotalSplicdedBytesOut` is 3.0's
    /// `TotalSplicedBytesOut`): each process's value is read
    /// under the first of `names` it prints, and combined as the first
    /// name's entry of the info field table says. A fleet of both
    /// spellings is one field, not a field only some processes print.
    pub fn info_field_spelled(&self, names: &[&str]) -> Option<Combined<Value>> {
        self.info_field_as(names, None)
    }

    /// [`Snapshot::info_field_spelled`], combined by `how` rather than by
    /// the field's own rule when it is given (the exporter's combined
    /// identity fields).
    pub(crate) fn info_field_as(
        &self,
        names: &[&str],
        how: Option<Combine>,
    ) -> Option<Combined<Value>> {
        // A setting (a limit: Maxconn, Ulimit-n…) is the current
        // workers': an old worker draining after a reload holds the old
        // configuration's, and the fleet's limit does not add it.
        let setting = names
            .first()
            .and_then(|n| haproxy_proto::info::info_field(n))
            .is_some_and(|f| f.nature == haproxy_proto::typed::Nature::Limit);
        let old = |p: &ProcSnap| {
            self.shared
                .processes
                .get(p.process)
                .is_some_and(|p| p.is_old())
        };
        let skip_old = setting && self.procs.iter().any(|p| !old(p));
        let kept: Vec<usize> = (0..self.procs.len())
            .filter(|&i| !(skip_old && old(&self.procs[i])))
            .collect();
        let raw: Vec<Option<&str>> = kept
            .iter()
            .map(|&i| names.iter().find_map(|n| self.procs[i].info.get(n)))
            .collect();
        let uneven = raw.iter().any(Option::is_none);
        let how = match (uneven, names.first(), how) {
            (false, Some(_), Some(how)) => how,
            (false, Some(name), None) => info_combine(name),
            _ => Combine::MustAgree,
        };
        let values: Vec<Option<Value>> =
            raw.into_iter().map(|v| v.and_then(Value::parse)).collect();
        combine_indexed(how, &values, |i| {
            self.process_id(kept.get(i).copied().unwrap_or(i))
        })
    }

    /// The combined value of `show info` metric `name` (any field HAProxy
    /// prints).
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchField`] when no process reports it (a field this
    /// HAProxy version does not have); [`Error::InconsistentData`] when a
    /// must-agree field differs.
    pub fn metric(&self, name: &str) -> Result<Value> {
        match self.info_field(name) {
            Some(c) => c.into_value(name),
            None => Err(Error::NoSuchField {
                kind: "show info",
                name: name.to_owned(),
            }),
        }
    }

    fn metric_u64(&self, name: &str) -> Result<u64> {
        let v = self.metric(name)?;
        v.as_u64().ok_or_else(|| Error::UnexpectedValue {
            what: name.to_owned(),
            value: v.to_string(),
        })
    }

    fn metric_text(&self, name: &str) -> Result<String> {
        match self.info_field(name) {
            Some(c) => Ok(c.into_value(name)?.to_string()),
            None => Err(Error::NoSuchField {
                kind: "show info",
                name: name.to_owned(),
            }),
        }
    }

    /// `Maxconn`, summed over processes.
    ///
    /// # Errors
    ///
    /// As [`Snapshot::metric`].
    pub fn maxconn(&self) -> Result<u64> {
        self.metric_u64("Maxconn")
    }

    /// `ConnRateLimit`, summed.
    ///
    /// # Errors
    ///
    /// As [`Snapshot::metric`].
    pub fn rate_limit_conn(&self) -> Result<u64> {
        self.metric_u64("ConnRateLimit")
    }

    /// `SessRateLimit`, summed.
    ///
    /// # Errors
    ///
    /// As [`Snapshot::metric`].
    pub fn rate_limit_sess(&self) -> Result<u64> {
        self.metric_u64("SessRateLimit")
    }

    /// `SslRateLimit`, summed.
    ///
    /// # Errors
    ///
    /// As [`Snapshot::metric`].
    pub fn rate_limit_ssl_sess(&self) -> Result<u64> {
        self.metric_u64("SslRateLimit")
    }

    /// `CumReq`: requests processed by every process (frontends and
    /// backends: a client request passes twice).
    ///
    /// # Errors
    ///
    /// As [`Snapshot::metric`].
    pub fn total_requests(&self) -> Result<u64> {
        self.metric_u64("CumReq")
    }

    /// The sum of every frontend's `req_tot`.
    pub fn requests(&self) -> u64 {
        self.frontends().iter().filter_map(|f| f.requests()).sum()
    }

    /// The PIDs of the processes that answered.
    pub fn process_ids(&self) -> Vec<u32> {
        self.ids.iter().map(|id| id.pid).collect()
    }

    /// The uptime of the youngest process (`Uptime_sec`, smallest).
    ///
    /// # Errors
    ///
    /// As [`Snapshot::uptime_sec`].
    pub fn uptime(&self) -> Result<Duration> {
        Ok(Duration::from_secs(self.uptime_sec()?))
    }

    /// `Uptime_sec` of the youngest process (each process's own is in
    /// [`Snapshot::info`]; the combined field shows every process's value
    /// where they differ).
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchField`] when no process reports it;
    /// [`Error::UnexpectedValue`] when one is not a number.
    pub fn uptime_sec(&self) -> Result<u64> {
        let mut youngest: Option<u64> = None;
        for p in &self.procs {
            let Some(text) = p.info.get("Uptime_sec") else {
                continue;
            };
            let v = text
                .trim()
                .parse::<u64>()
                .map_err(|_| Error::UnexpectedValue {
                    what: "Uptime_sec".to_owned(),
                    value: text.to_owned(),
                })?;
            youngest = Some(youngest.map_or(v, |y| y.min(v)));
        }
        youngest.ok_or_else(|| Error::NoSuchField {
            kind: "show info",
            name: "Uptime_sec".to_owned(),
        })
    }

    /// `Version`; must agree.
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentData`] when processes run different versions.
    pub fn version(&self) -> Result<String> {
        self.metric_text("Version")
    }

    /// `Release_date`; must agree.
    ///
    /// # Errors
    ///
    /// As [`Snapshot::version`].
    pub fn release_date(&self) -> Result<String> {
        self.metric_text("Release_date")
    }

    /// `node`; must agree.
    ///
    /// # Errors
    ///
    /// As [`Snapshot::version`].
    pub fn node_name(&self) -> Result<String> {
        self.metric_text("node")
    }

    /// `description`; must agree. `None` when none is configured.
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentData`] when processes differ.
    pub fn description(&self) -> Result<Option<String>> {
        match self.info_field("description") {
            Some(c) => Ok(Some(c.into_value("description")?.to_string())),
            None => Ok(None),
        }
    }

    // ---- per-object field access ---------------------------------------

    pub(crate) fn object(&self, obj: usize) -> &ObjectEntry {
        &self.objects[obj]
    }

    pub(crate) fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| &**c == name)
    }

    /// The processes (as in the shared list) that have object `obj`.
    pub(crate) fn object_processes(&self, obj: usize) -> Vec<&Process> {
        self.rows_of(obj)
            .iter()
            .map(|&(pi, _)| &self.shared.processes[self.procs[pi].process])
            .collect()
    }

    /// Object `obj`'s proxy (`pxname`); empty out of range.
    pub(crate) fn proxy_of(&self, obj: usize) -> &str {
        self.objects
            .get(obj)
            .and_then(|o| {
                let (at, proxy, _) = o.names;
                self.names.get(at as usize..(at + proxy) as usize)
            })
            .unwrap_or_default()
    }

    /// Object `obj`'s name (`svname`); empty out of range.
    pub(crate) fn name_of(&self, obj: usize) -> &str {
        self.objects
            .get(obj)
            .and_then(|o| {
                let (at, proxy, name) = o.names;
                self.names
                    .get((at + proxy) as usize..(at + proxy + name) as usize)
            })
            .unwrap_or_default()
    }

    /// Object `obj`'s rows, `(index into procs, row)`, in process order;
    /// empty out of range.
    pub(crate) fn rows_of(&self, obj: usize) -> &[(usize, usize)] {
        self.objects
            .get(obj)
            .and_then(|o| {
                let (at, n) = o.rows;
                self.rows.get(at as usize..(at + n) as usize)
            })
            .unwrap_or_default()
    }
}

/// Groups every process's records by (kind, proxy, name), in first-seen
/// order. Processes of one configuration list the same objects in the
/// same order, so each row is first checked against the object at its own
/// place; the index (a map over names borrowed from the tables) is built
/// only when a row is somewhere else, and the first process's rows (each
/// its own object: a configuration names an object once) need none.
/// What grouping gives a snapshot: its objects, their names and their
/// rows.
struct Grouped {
    objects: Vec<ObjectEntry>,
    names: String,
    rows: Vec<(usize, usize)>,
}

fn group(procs: &[ProcSnap]) -> Grouped {
    type Key<'p> = (ObjectKind, &'p str, &'p str);
    type Index<'p> = HashMap<Key<'p>, usize, BuildHasherDefault<NameHasher>>;
    /// A row that names no object.
    const NONE: u32 = u32::MAX;
    // Each process's `pxname`, `svname` and `type` columns.
    let columns: Vec<_> = procs
        .iter()
        .map(|p| {
            let c = |name| p.table.column_index(name);
            (c("pxname"), c("svname"), c("type"))
        })
        .collect();
    // What identifies the record at `row` of process `pi`.
    let key = |pi: usize, row: usize| -> Option<Key<'_>> {
        let (Some(px), Some(sv), ty) = *columns.get(pi)? else {
            return None;
        };
        let cells = procs.get(pi)?.table.cells(row)?;
        let text = |c| match cells.get(c) {
            Cell::Text(t) => t,
            _ => "",
        };
        let (proxy, name) = (text(px), text(sv));
        let code = ty.and_then(|c| match cells.get(c) {
            Cell::Int(n) => Some(n),
            _ => None,
        });
        Some((ObjectKind::of(code, name), proxy, name))
    };
    let first = procs.first().map_or(0, |p| p.table.rows());
    // Every object, borrowed from the tables, and how many rows it has.
    let mut found: Vec<Key<'_>> = Vec::with_capacity(first);
    let mut counts: Vec<u32> = Vec::with_capacity(first);
    // Each row's object, process after process.
    let mut assign: Vec<u32> = Vec::with_capacity(procs.iter().map(|p| p.table.rows()).sum());
    let mut index: Option<Index<'_>> = None;
    for (pi, p) in procs.iter().enumerate() {
        for row in 0..p.table.rows() {
            let Some(k) = key(pi, row) else {
                assign.push(NONE);
                continue;
            };
            let slot = if pi > 0 && found.get(row) == Some(&k) {
                row
            } else if pi == 0 {
                found.push(k);
                counts.push(0);
                found.len() - 1
            } else {
                let index = index.get_or_insert_with(|| {
                    let mut index = Index::default();
                    for (i, &f) in found.iter().enumerate() {
                        index.entry(f).or_insert(i);
                    }
                    index
                });
                *index.entry(k).or_insert_with(|| {
                    found.push(k);
                    counts.push(0);
                    found.len() - 1
                })
            };
            if let Some(c) = counts.get_mut(slot) {
                *c += 1;
            }
            assign.push(u32::try_from(slot).unwrap_or(NONE));
        }
    }
    // Each object's rows together, in process order.
    let mut starts: Vec<u32> = Vec::with_capacity(counts.len());
    let mut total = 0u32;
    for &c in &counts {
        starts.push(total);
        total += c;
    }
    let mut rows = vec![(0, 0); total as usize];
    let mut next = starts.clone();
    let mut assigned = assign.iter();
    for (pi, p) in procs.iter().enumerate() {
        for row in 0..p.table.rows() {
            let Some(&slot) = assigned.next() else { break };
            if let Some(n) = next.get_mut(slot as usize) {
                if let Some(r) = rows.get_mut(*n as usize) {
                    *r = (pi, row);
                }
                *n += 1;
            }
        }
    }
    let mut names = String::with_capacity(found.iter().map(|f| f.1.len() + f.2.len()).sum());
    let objects = found
        .iter()
        .zip(starts.iter().zip(&counts))
        .map(|(&(kind, proxy, name), (&at, &n))| {
            // One snapshot's names are a small part of its replies, which
            // are under 2 GiB each: the offsets and lengths fit.
            let len = |t: &str| u32::try_from(t.len()).unwrap_or(0);
            let start = u32::try_from(names.len()).unwrap_or(0);
            names.push_str(proxy);
            names.push_str(name);
            ObjectEntry {
                kind,
                names: (start, len(proxy), len(name)),
                rows: (at, n),
            }
        })
        .collect();
    Grouped {
        objects,
        names,
        rows,
    }
}

/// A hasher for the object index: names from the processes' own
/// configuration, hashed a word at a time (SipHash's resistance to
/// chosen keys buys nothing here and cost a fifth of grouping).
#[derive(Default)]
struct NameHasher(u64);

impl NameHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for NameHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.add(u64::from_le_bytes(b));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::aggregate::CombinedRef;
    use crate::conn::Settings;
    use haproxy_proto::info::parse_info;

    const HEADER: &str = "# pxname,svname,qmax,scur,stot,status,weight,ttime,type,addr,\n";

    /// A snapshot of processes answering `stats` (one `show stat` each),
    /// without sockets.
    fn snapshot(stats: &[&str]) -> Snapshot {
        let processes = (0..stats.len())
            .map(|i| Process {
                id: ProcessId::new(100 + i as u32, None, Some(1)),
                endpoint: format!("/tmp/p{i}.sock").parse().expect("endpoint"),
                alternates: Vec::new(),
                version: None,
                old: false,
                exact_start: false,
            })
            .collect();
        let shared = Arc::new(Shared {
            processes,
            settings: Settings::default(),
            unreachable: Vec::new(),
            spare: Default::default(),
        });
        let procs = stats
            .iter()
            .enumerate()
            .map(|(i, s)| ProcSnap {
                process: i,
                info: parse_info(&format!(
                    "Name: HAProxy\nPid: {}\nMaxconn: 100\nIdle_pct: {}\nVersion: 2.6\n",
                    100 + i,
                    50 + 10 * i
                ))
                .expect("info")
                .into_owned(),
                table: ProcTable::parse(if s.starts_with("# ") {
                    format!("{s}\n")
                } else {
                    format!("{HEADER}{s}\n")
                })
                .expect("stat"),
                col_map: Vec::new(),
            })
            .collect();
        Snapshot::assemble(shared, procs, Vec::new())
    }

    fn value(snap: &Snapshot, obj: usize, col: &str) -> Option<Combined<Value>> {
        snap.combined(
            obj,
            snap.column_index(col).expect("column"),
            &mut Vec::new(),
        )
    }

    #[test]
    fn a_dropped_snapshot_leaves_its_tables_memory_for_the_next_fetch() {
        let row = "be,s1,1,2,3,UP,1,0,2,127.0.0.1:80,\n";
        let snap = snapshot(&[row, row]);
        let shared = Arc::clone(&snap.shared);
        drop(snap);
        let mut kept: Vec<_> = (0..3).map(|_| shared.spare.take()).collect();
        assert!(kept[0].capacity() > 0 && kept[1].capacity() > 0);
        // Two processes: never more than two kept.
        assert_eq!(kept[2].capacity(), 0);
        for m in kept.drain(..) {
            shared.spare.give(m, 2);
        }
        let left = (0..3)
            .filter(|_| shared.spare.take().capacity() > 0)
            .count();
        assert_eq!(left, 2);
    }

    #[test]
    fn objects_group_and_combine_across_processes() {
        let a = "fe,FRONTEND,,3,10,OPEN,,,0,,\nbe,s1,2,1,5,UP,10,4,2,10.0.0.1:80,\nbe,BACKEND,2,1,5,UP,10,4,1,,";
        let b = "fe,FRONTEND,,4,20,OPEN,,,0,,\nbe,s1,7,0,6,UP,10,8,2,10.0.0.1:80,\nbe,BACKEND,7,0,6,UP,10,8,1,,";
        let snap = snapshot(&[a, b]);
        assert_eq!(snap.frontends().len(), 1);
        assert_eq!(snap.backends().len(), 1);
        assert_eq!(snap.servers(None).len(), 1);
        let s1 = snap
            .objects
            .iter()
            .position(|o| o.kind == ObjectKind::Server)
            .expect("s1");
        let u = |n| Some(Combined::Value(Value::Unsigned(n)));
        let cases: &[(&str, Option<Combined<Value>>)] = &[
            ("qmax", u(7)),
            ("scur", u(1)),
            ("stot", u(11)),
            ("weight", u(10)),
            ("ttime", u(6)),
            ("status", Some(Combined::Value(Value::Text("UP".into())))),
            (
                "addr",
                Some(Combined::Value(Value::Text("10.0.0.1:80".into()))),
            ),
        ];
        for (col, want) in cases {
            assert_eq!(&value(&snap, s1, col), want, "{col}");
        }
        assert_eq!(snap.maxconn().expect("sum"), 200);
        assert_eq!(snap.metric("Idle_pct").expect("avg"), Value::Unsigned(55));
        assert_eq!(snap.version().expect("agrees"), "2.6");
        assert!(matches!(
            snap.metric("Nope"),
            Err(Error::NoSuchField { .. })
        ));
        assert_eq!(snap.frontend("fe").expect("fe").requests(), None);
        assert_eq!(
            snap.frontend("fe")
                .expect("fe")
                .metric("stot")
                .expect("stot"),
            Some(Value::Unsigned(30))
        );
    }

    #[test]
    fn objects_are_grouped_by_name_whatever_each_process_lists_where() {
        // The second process lists the servers in another order and one
        // more; the third lists a server twice and lacks one.
        let row = |sv: &str, scur: u32| format!("be,{sv},,{scur},,UP,1,,2,,\n");
        let a = [row("s1", 1), row("s2", 2), row("s3", 3)].concat();
        let b = [row("s2", 20), row("s1", 10), row("s3", 30), row("s4", 40)].concat();
        let c = [row("s1", 100), row("s1", 100), row("s3", 300)].concat();
        let snap = snapshot(&[&a, &b, &c]);
        let names: Vec<&str> = (0..snap.objects.len()).map(|o| snap.name_of(o)).collect();
        assert_eq!(names, ["s1", "s2", "s3", "s4"]);
        let rows: Vec<&[(usize, usize)]> =
            (0..snap.objects.len()).map(|o| snap.rows_of(o)).collect();
        assert_eq!(
            rows,
            [
                &[(0, 0), (1, 1), (2, 0), (2, 1)][..],
                &[(0, 1), (1, 0)][..],
                &[(0, 2), (1, 2), (2, 2)][..],
                &[(1, 3)][..],
            ]
        );
        let u = |n| Some(Combined::Value(Value::Unsigned(n)));
        assert_eq!(value(&snap, 2, "scur"), u(333));
        assert_eq!(value(&snap, 1, "scur"), u(22));
    }

    #[test]
    fn a_column_only_some_processes_have_is_never_summed_over_them() {
        // Process 0 is a newer HAProxy with a counter `newc`; process 1 has
        // no such column. Summing would give process 0's count as the
        // fleet's.
        let a = "# pxname,svname,stot,newc,type,\nbe,s1,5,7,2,\nbe,only0,1,1,2,";
        let b = "# pxname,svname,stot,type,\nbe,s1,6,2,";
        let snap = snapshot(&[a, b]);
        let s1 = &snap.server("s1", Some("be")).expect("s1")[0];
        assert_eq!(s1.field("stot"), Some(Combined::Value(Value::Unsigned(11))));
        match s1.field("newc") {
            Some(Combined::Disagreement { values }) => {
                let got: Vec<(u32, Option<Value>)> =
                    values.into_iter().map(|(p, v)| (p.pid, v)).collect();
                assert_eq!(got, [(100, Some(Value::Unsigned(7))), (101, None)]);
            }
            other => panic!("expected every process's value, got {other:?}"),
        }
        // An object of one process: its own values, and it says so.
        let objects = snap.stat_objects(ObjectKind::Server);
        let only0 = objects.iter().find(|o| o.name() == "only0").expect("only0");
        assert_eq!((only0.processes(), only0.of_processes()), (1, 2));
        assert!(only0.is_partial());
        assert_eq!(
            only0.get("newc").map(CombinedRef::into_owned),
            Some(Combined::Value(Value::Unsigned(1)))
        );
        let s1 = objects.iter().find(|o| o.name() == "s1").expect("s1");
        assert_eq!((s1.processes(), s1.is_partial()), (2, false));
        let json = serde_json::to_value(only0).expect("serialises");
        assert_eq!(json["processes"], 1);
    }

    #[test]
    fn identity_fields_are_per_process() {
        let snap = snapshot(&["be,s1,0,0,1,UP,10,0,2,,", "be,s1,0,0,1,UP,10,0,2,,"]);
        // Pids 100 and 101: shown per process, not one picked.
        match snap.info_field("Pid") {
            Some(Combined::Disagreement { values }) => assert_eq!(values.len(), 2),
            other => panic!("expected every process's Pid, got {other:?}"),
        }
    }

    #[test]
    fn a_disagreement_is_data_and_the_listing_survives() {
        let a = "be,s1,0,0,1,UP,10,0,2,,";
        let b = "be,s1,0,0,1,MAINT,3,0,2,,\nbe,s2,0,0,1,UP,1,0,2,,";
        let snap = snapshot(&[a, b]);
        let servers = snap.servers(Some("be"));
        assert_eq!(servers.len(), 2);
        let s1 = &snap.server("s1", Some("be")).expect("s1")[0];
        match s1.field("weight") {
            Some(Combined::Disagreement { values }) => {
                let got: Vec<(u32, Option<Value>)> =
                    values.into_iter().map(|(p, v)| (p.pid, v)).collect();
                assert_eq!(
                    got,
                    [
                        (100, Some(Value::Unsigned(10))),
                        (101, Some(Value::Unsigned(3)))
                    ]
                );
            }
            other => panic!("expected a disagreement, got {other:?}"),
        }
        assert!(matches!(s1.weight(), Err(Error::InconsistentData { .. })));
        assert!(matches!(s1.status(), Err(Error::InconsistentData { .. })));
        // s2 exists in one process only: its values are that process's.
        let s2 = &snap.server("s2", None).expect("s2")[0];
        assert_eq!(s2.weight().expect("one process"), Some(1));
        assert_eq!(s2.processes().len(), 1);
        let objects = snap.stat_objects(ObjectKind::Server);
        assert_eq!(objects.len(), 2);
        let disagreeing: Vec<&str> = objects[0].disagreements().map(|(c, _)| c).collect();
        assert_eq!(disagreeing, ["status", "weight"]);
        let json = serde_json::to_value(&objects[1]).expect("serialises");
        assert_eq!(json["weight"], 1);
        assert_eq!(json["addr"], serde_json::Value::Null);
        assert_eq!(json["svname"], "s2");
    }
}
