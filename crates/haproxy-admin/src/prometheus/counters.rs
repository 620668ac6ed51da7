//! Combined counters that never go backwards: [`Counters`].

use crate::objects::ObjectKind;
use crate::process::ProcessId;
use crate::snapshot::Snapshot;
use haproxy_proto::typed::Nature;
use haproxy_proto::{Column, Field};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{MetricType, INFO_METRICS, STAT_METRICS};

/// `show info` fields promex types as counters that are current values
/// (pipes in use, compression rates): never made monotonic.
const NOT_MONOTONIC: [&str; 4] = ["PipesUsed", "PipesFree", "CompressBpsIn", "CompressBpsOut"];

/// How many folded processes are remembered (see [`Counters::observe`]).
const MAX_FOLDED: usize = 4096;

/// The `show stat` columns made monotonic: every counter family's.
fn stat_columns() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for m in STAT_METRICS.iter().filter(|m| m.ty == MetricType::Counter) {
        for c in m.columns {
            let counter = Column::from_name(c)
                .is_some_and(|c| c.info().kind == haproxy_proto::field::ValueKind::Counter);
            if counter && !out.contains(c) {
                out.push(c);
            }
        }
    }
    out
}

/// Whether `INFO_METRICS[i]` is made monotonic.
fn info_tracked(i: usize) -> bool {
    INFO_METRICS.get(i).is_some_and(|m| {
        m.ty == MetricType::Counter
            && m.fields.iter().all(|f| !NOT_MONOTONIC.contains(f))
            && m.fields
                .first()
                .and_then(|f| haproxy_proto::info::info_field(f))
                .map_or(true, |f| f.nature != Nature::Rate)
    })
}

/// One process as the books know it.
type Instance = (u32, Option<String>);

/// One object: its kind, proxy and name, as one key.
fn key_into(buf: &mut String, kind: ObjectKind, proxy: &str, name: &str) {
    buf.clear();
    buf.push(match kind {
        ObjectKind::Frontend => 'f',
        ObjectKind::Backend => 'b',
        ObjectKind::Server => 's',
        ObjectKind::Listener => 'l',
    });
    buf.push_str(proxy);
    buf.push('/');
    buf.push_str(name);
}

/// A counter on one process: what it showed last, and what it counted
/// before its last reset (or, negated, what it showed when it came back
/// after being folded): its contribution is `acc + last`, wrapping.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    last: u64,
    acc: u64,
}

impl Cell {
    fn contribution(self) -> u64 {
        self.acc.wrapping_add(self.last)
    }

    /// A counter first seen at `now` that counts only from now on (a
    /// process back after being folded: what it showed is in the total).
    fn baseline(now: u64) -> Cell {
        Cell {
            last: now,
            acc: 0u64.wrapping_sub(now),
        }
    }

    /// Takes `now`; a value lower than the last is a reset.
    fn update(&mut self, now: u64) {
        if now < self.last {
            self.acc = self.acc.wrapping_add(self.last);
        }
        self.last = now;
    }
}

/// One object's counters on one process.
#[derive(Debug)]
struct Entry {
    round: u64,
    cells: Box<[Cell]>,
}

/// One process's counters.
#[derive(Debug)]
struct Book {
    /// Who it is (its start time tells a restart behind the same pid).
    id: ProcessId,
    /// The round it came back in after being folded: objects first seen
    /// then count from their value then.
    returned: Option<u64>,
    seen: Instant,
    round: u64,
    info: Box<[Cell]>,
    objects: HashMap<String, Entry>,
}

/// What the exporter remembers of one target between scrapes, so that
/// its combined counters never go backwards.
///
/// A combined counter is the sum of every process's. Summed scrape by
/// scrape, it drops whenever a process is missing from a scrape (stalled,
/// or gone after a reload) or restarts, and Prometheus reads each drop as
/// a reset: `rate()` spikes. [`Counters`] remembers, per process, what
/// each counter of each object showed last, and makes the sum of
/// contributions instead:
///
/// - a process missing from a scrape contributes what it showed last
///   ("carried"), for [`Counters::carry`] (5 minutes by default); after
///   that its last values are folded into the target's total for good
///   (an old worker that left after a reload keeps counting in the total);
/// - a counter that goes down on a process that stayed (a restart with
///   the same pid and start time unknown, `clear counters`) is a reset:
///   the process's contribution keeps what it had, and grows from there;
/// - a restarted process (a new pid, or the same pid with another
///   `Start_time_sec`) is a new process whose counters start at 0, so the
///   total goes on from where it was.
///
/// Bounds: what a process counts while it is missing is added when it
/// comes back (within the carry window); a process missing for longer than
/// the window that comes back counts only from then on (its growth while
/// missing is lost, never counted twice). The first scrape counts every
/// process in full, as promex would.
///
/// Memory: 16 bytes per tracked counter column (one per counter family),
/// object and process, plus carried processes until they are folded.
#[derive(Debug)]
pub struct Counters {
    carry: Duration,
    round: u64,
    stat: Vec<&'static str>,
    books: HashMap<Instance, Book>,
    /// Processes that left: their contributions, per object.
    gone: HashMap<String, Box<[u64]>>,
    gone_info: Box<[u64]>,
    /// Processes that left and were folded, with their start time: one that
    /// comes back counts only from then on.
    folded: HashMap<Instance, ProcessId>,
}

impl Default for Counters {
    fn default() -> Self {
        Counters::new()
    }
}

/// The monotonic combined counters of one snapshot, from
/// [`Counters::observe`], for [`super::Exposition::add_counted`].
#[derive(Debug)]
pub struct Totals {
    /// Per snapshot column: its index among the tracked ones.
    pub(super) slot: Vec<Option<usize>>,
    width: usize,
    /// `objects × width`; `u64::MAX` where no process has the column.
    values: Vec<u64>,
    /// Per [`INFO_METRICS`] entry.
    pub(super) info: Vec<Option<u64>>,
}

impl Totals {
    /// The total of snapshot column `col` of object `obj`, if tracked.
    pub(super) fn get(&self, obj: usize, col: usize) -> Option<u64> {
        let t = (*self.slot.get(col)?)?;
        let v = *self.values.get(obj * self.width + t)?;
        (v != u64::MAX).then_some(v)
    }
}

impl Counters {
    /// Empty books, carrying a missing process for 5 minutes.
    pub fn new() -> Counters {
        let info = INFO_METRICS.len();
        Counters {
            carry: Duration::from_secs(300),
            round: 0,
            stat: stat_columns(),
            books: HashMap::new(),
            gone: HashMap::new(),
            gone_info: vec![0; info].into(),
            folded: HashMap::new(),
        }
    }

    /// How long a process missing from the scrapes is carried before its
    /// last values are folded into the total for good.
    pub fn carry(mut self, d: Duration) -> Counters {
        self.carry = d;
        self
    }

    /// How many processes the books hold (present and carried).
    pub fn processes(&self) -> usize {
        self.books.len()
    }

    /// Takes `snap` into the books and returns its monotonic totals.
    /// Snapshots of one target must be observed in the order they were
    /// taken.
    pub fn observe(&mut self, snap: &Snapshot) -> Totals {
        self.round += 1;
        let (round, now, width) = (self.round, Instant::now(), self.stat.len());
        let cols: Vec<Option<usize>> = self.stat.iter().map(|c| snap.column_index(c)).collect();
        let mut slot = vec![None; snap.columns().len()];
        for (t, c) in cols.iter().enumerate() {
            if let Some(c) = *c {
                slot[c] = Some(t);
            }
        }
        // The processes of this snapshot, each with its book (a restarted
        // one's old book folded first).
        let mut present: Vec<Instance> = Vec::with_capacity(snap.procs.len());
        for (pi, p) in snap.procs.iter().enumerate() {
            // Read from this snapshot's own show info.
            let id = snap.process_id(pi);
            let key: Instance = (id.pid, id.node.clone());
            let restarted = self
                .books
                .get(&key)
                .is_some_and(|b| !b.id.same_process(&id));
            if restarted {
                if let Some(b) = self.books.remove(&key) {
                    self.fold(b);
                }
            }
            // Back after being folded: only what it counts from now on.
            let returning = self
                .folded
                .get(&key)
                .is_some_and(|old| old.same_process(&id));
            let book = self.books.entry(key.clone()).or_insert_with(|| Book {
                id: id.clone(),
                returned: returning.then_some(round),
                seen: now,
                round,
                info: vec![Cell::default(); INFO_METRICS.len()].into(),
                objects: HashMap::new(),
            });
            if id.started.is_some() {
                book.id = id;
            }
            book.seen = now;
            book.round = round;
            for (i, cell) in book.info.iter_mut().enumerate() {
                let m = &INFO_METRICS[i];
                let v = m.fields.iter().find_map(|f| p.info.get(f));
                if let (true, Some(v)) = (info_tracked(i), v.and_then(|v| v.trim().parse().ok())) {
                    if returning {
                        *cell = Cell::baseline(v);
                    } else {
                        cell.update(v);
                    }
                }
            }
            present.push(key);
        }
        for key in &present {
            self.folded.remove(key);
        }
        let mut values = vec![u64::MAX; snap.objects.len() * width];
        let mut buf = String::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (obj, entry) in snap.objects.iter().enumerate() {
            if entry.kind == ObjectKind::Listener {
                continue;
            }
            key_into(&mut buf, entry.kind, snap.proxy_of(obj), snap.name_of(obj));
            index.insert(buf.clone(), obj);
            let out = &mut values[obj * width..(obj + 1) * width];
            for &(pi, row) in snap.rows_of(obj) {
                let (Some(p), Some(book)) = (
                    snap.procs.get(pi),
                    present.get(pi).and_then(|k| self.books.get_mut(k)),
                ) else {
                    continue;
                };
                let Some(cells) = p.table.cells(row) else {
                    continue;
                };
                let baseline = book.returned == Some(round);
                let e = match book.objects.get_mut(buf.as_str()) {
                    Some(e) => e,
                    None => book.objects.entry(buf.clone()).or_insert_with(|| Entry {
                        round,
                        cells: vec![Cell::default(); width].into(),
                    }),
                };
                e.round = round;
                for (t, c) in cols.iter().enumerate() {
                    let Some(local) = c.and_then(|c| p.col_map.get(c).copied().flatten()) else {
                        continue;
                    };
                    let v = match cells.get(local) {
                        Field::UInt(n) => n,
                        Field::Int(n) => u64::try_from(n).unwrap_or(0),
                        _ => continue,
                    };
                    if baseline {
                        e.cells[t] = Cell::baseline(v);
                    } else {
                        e.cells[t].update(v);
                    }
                    let o = &mut out[t];
                    *o = if *o == u64::MAX { 0 } else { *o };
                    *o = o.saturating_add(e.cells[t].contribution());
                }
            }
        }
        // Carried: missing processes, and objects a present process no
        // longer shows; then what processes that left counted.
        let add = |values: &mut [u64], obj: usize, t: usize, v: u64| {
            if let Some(o) = values.get_mut(obj * width + t) {
                *o = if *o == u64::MAX {
                    v
                } else {
                    o.saturating_add(v)
                };
            }
        };
        let mut info: Vec<Option<u64>> = vec![None; INFO_METRICS.len()];
        let mut expired = Vec::new();
        for (key, book) in &self.books {
            let missing = book.round != round;
            if missing && now.duration_since(book.seen) > self.carry {
                expired.push(key.clone());
                continue;
            }
            for (i, cell) in book.info.iter().enumerate() {
                if info_tracked(i) {
                    let v = info[i].get_or_insert(0);
                    *v = v.wrapping_add(cell.contribution());
                }
            }
            for (k, e) in &book.objects {
                if e.round == round {
                    continue;
                }
                if let Some(&obj) = index.get(k) {
                    for (t, c) in e.cells.iter().enumerate() {
                        add(&mut values, obj, t, c.contribution());
                    }
                }
            }
        }
        for key in expired {
            if let Some(b) = self.books.remove(&key) {
                // Bounded: a very old process coming back is not expected.
                if self.folded.len() >= MAX_FOLDED {
                    self.folded.clear();
                }
                self.folded.insert(key, b.id.clone());
                self.fold(b);
            }
        }
        for (k, gone) in &self.gone {
            if let Some(&obj) = index.get(k) {
                for (t, v) in gone.iter().enumerate() {
                    add(&mut values, obj, t, *v);
                }
            }
        }
        for (i, v) in info.iter_mut().enumerate() {
            if let (Some(v), Some(g)) = (v.as_mut(), self.gone_info.get(i)) {
                *v = v.wrapping_add(*g);
            }
        }
        Totals {
            slot,
            width,
            values,
            info,
        }
    }

    /// Folds a process that left into the target's totals.
    fn fold(&mut self, b: Book) {
        for (g, c) in self.gone_info.iter_mut().zip(b.info.iter()) {
            *g = g.wrapping_add(c.contribution());
        }
        for (k, e) in b.objects {
            let g = self
                .gone
                .entry(k)
                .or_insert_with(|| vec![0; e.cells.len()].into());
            for (g, c) in g.iter_mut().zip(e.cells.iter()) {
                *g = g.wrapping_add(c.contribution());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haproxy_transport::Endpoint;

    /// Processes `(pid, start, stot of be/s1, CumConns)`.
    fn snap(procs: &[(u32, u64, u64, u64)]) -> Snapshot {
        Snapshot::from_replies(procs.iter().map(|&(pid, start, stot, conns)| {
            (
                Endpoint::unix(format!("/{pid}")),
                format!("Name: HAProxy\nPid: {pid}\nStart_time_sec: {start}\nCumConns: {conns}\n"),
                format!("# pxname,svname,stot,scur,\nbe,s1,{stot},1,\nbe,BACKEND,{stot},1,\n\n"),
            )
        }))
        .expect("snapshot")
    }

    /// The combined `stot` of `be/s1` and `CumConns`.
    fn totals(c: &mut Counters, procs: &[(u32, u64, u64, u64)]) -> (u64, u64) {
        let s = snap(procs);
        let t = c.observe(&s);
        let obj = (0..s.objects.len())
            .find(|&o| s.name_of(o) == "s1")
            .expect("s1");
        let col = s.column_index("stot").expect("stot");
        let conns = INFO_METRICS
            .iter()
            .position(|m| m.fields == ["CumConns"])
            .expect("CumConns");
        (
            t.get(obj, col).expect("stot total"),
            t.info[conns].expect("CumConns total"),
        )
    }

    #[test]
    fn a_stalled_process_is_carried_and_a_restart_goes_on_from_the_total() {
        let mut c = Counters::new();
        assert_eq!(
            totals(&mut c, &[(10, 100, 10, 1), (11, 100, 20, 2)]),
            (30, 3)
        );
        // 11 stalls: its last values are carried, not dropped.
        assert_eq!(totals(&mut c, &[(10, 100, 12, 1)]), (32, 3));
        // Back, having counted meanwhile: all of it counts.
        assert_eq!(
            totals(&mut c, &[(10, 100, 12, 1), (11, 100, 25, 4)]),
            (37, 5)
        );
        // 11 restarts as 12: the new one starts at 0, the old one carried.
        assert_eq!(
            totals(&mut c, &[(10, 100, 14, 1), (12, 200, 3, 1)]),
            (42, 6)
        );
        // The same pid restarted (another start time): a new process.
        assert_eq!(totals(&mut c, &[(10, 300, 1, 0), (12, 200, 3, 1)]), (43, 6));
        // A counter that goes down on a process (clear counters): a reset.
        assert_eq!(totals(&mut c, &[(10, 300, 0, 0), (12, 200, 5, 1)]), (45, 6));
        assert_eq!(c.processes(), 3);
    }

    #[test]
    fn a_process_gone_past_the_carry_window_is_folded_for_good() {
        let mut c = Counters::new().carry(Duration::ZERO);
        assert_eq!(
            totals(&mut c, &[(10, 100, 10, 1), (11, 100, 20, 2)]),
            (30, 3)
        );
        std::thread::sleep(Duration::from_millis(2));
        // 11 is gone: folded into the total, not carried any more.
        assert_eq!(totals(&mut c, &[(10, 100, 11, 1)]), (31, 3));
        assert_eq!(c.processes(), 1);
        assert_eq!(totals(&mut c, &[(10, 100, 12, 1)]), (32, 3));
        // 11 comes back after all: only what it counts from now on.
        assert_eq!(
            totals(&mut c, &[(10, 100, 12, 1), (11, 100, 40, 9)]),
            (32, 3)
        );
        assert_eq!(
            totals(&mut c, &[(10, 100, 12, 1), (11, 100, 41, 9)]),
            (33, 3)
        );
    }

    #[test]
    fn gauges_and_rates_are_never_made_monotonic() {
        let tracked: Vec<&str> = (0..INFO_METRICS.len())
            .filter(|&i| info_tracked(i))
            .map(|i| INFO_METRICS[i].fields[0])
            .collect();
        for f in ["CumConns", "CumReq", "TotalBytesOut", "DroppedLogs"] {
            assert!(tracked.contains(&f), "{f}");
        }
        for f in NOT_MONOTONIC.iter().chain(&["CurrConns", "Uptime_sec"]) {
            assert!(!tracked.contains(f), "{f}");
        }
        let stat = stat_columns();
        assert!(stat.contains(&"stot") && stat.contains(&"hrsp_5xx"));
        assert!(!stat.contains(&"scur") && !stat.contains(&"qmax"));
    }
}
