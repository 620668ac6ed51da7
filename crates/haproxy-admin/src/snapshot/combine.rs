//! Combining: each object's columns across processes, from the parser's
//! typed cells (one record per process, read once per object), as the
//! field table's [`Combine`] says; listings combined on every core and
//! handed on in order.

use super::{Snapshot, PARALLEL_MIN_OBJECTS};
use crate::aggregate::{combine_indexed, Combined, CombinedRef};
use crate::haproxy::PerProcess;
use crate::objects::{ObjectBuilder, ObjectKind, StatObject};
use crate::table::{Cell, ProcTable};
use crate::value::{Value, ValueRef};
use haproxy_proto::stat::Cells;
use haproxy_proto::Combine;
use std::mem::ManuallyDrop;
use std::sync::Arc;

/// Objects per chunk when a listing is streamed: each worker holds at most
/// two chunks (one combined and waiting, one being combined), so a
/// 10,000-server listing's peak stays under a few MiB of objects.
const STREAM_CHUNK: usize = 128;

impl Snapshot {
    /// Every object of `kind` with all its columns combined: the owned,
    /// serialisable form the CLI prints. Large listings are combined on
    /// every core; see [`Snapshot::for_each_stat_object`] to stream them
    /// instead of holding them all.
    pub fn stat_objects(&self, kind: ObjectKind) -> Vec<StatObject> {
        let mut out = Vec::with_capacity(self.objects.iter().filter(|o| o.kind == kind).count());
        // All at once: one parallel round.
        let done: std::result::Result<(), std::convert::Infallible> =
            self.combine_in_rounds(kind, usize::MAX, |o| {
                out.push(o);
                Ok(())
            });
        match done {
            Ok(()) => out,
            Err(never) => match never {},
        }
    }

    /// Hands every object of `kind`, combined as in
    /// [`Snapshot::stat_objects`], to `f` in order, holding only a bounded
    /// batch at a time (combined on every core): for printing very large
    /// listings in constant memory. Stops at `f`'s first error.
    ///
    /// # Errors
    ///
    /// The first error `f` returns.
    pub fn for_each_stat_object<E>(
        &self,
        kind: ObjectKind,
        f: impl FnMut(StatObject) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.combine_in_rounds(kind, STREAM_CHUNK, f)
    }

    /// Renders every object of `kind`, in order, without building a
    /// [`StatObject`] for it: `render` is given each object as an
    /// [`BorrowedObject`] (its values combined as in
    /// [`Snapshot::stat_objects`], text borrowed from the snapshot) and
    /// writes what it wants of it (JSON, CSV, nothing) into a buffer;
    /// `sink` is given the buffers in order. Large listings are rendered
    /// on every core, a bounded number of objects at a time. Stops at the
    /// first error.
    ///
    /// ```
    /// use haproxy_admin::{Endpoint, ObjectKind, Snapshot};
    /// let stat = "# pxname,svname,scur,\nbe,app1,3,\nbe,app2,4,\nbe,BACKEND,7,\n\n";
    /// let snap = Snapshot::from_replies([
    ///     (Endpoint::unix("/run/a.sock"), "Pid: 10\n".to_owned(), stat.to_owned()),
    ///     (Endpoint::unix("/run/b.sock"), "Pid: 11\n".to_owned(), stat.to_owned()),
    /// ])?;
    /// let mut text = Vec::new();
    /// snap.render_objects(
    ///     ObjectKind::Server,
    ///     |o, buf| {
    ///         let scur = o.value("scur").and_then(|v| v.agreed().and_then(|v| v.as_u64()));
    ///         buf.extend_from_slice(format!("{} {:?}\n", o.name(), scur).as_bytes());
    ///         Ok::<(), std::io::Error>(())
    ///     },
    ///     |bytes| {
    ///         text.extend_from_slice(bytes);
    ///         Ok(())
    ///     },
    /// )?;
    /// assert_eq!(text, b"app1 Some(6)\napp2 Some(8)\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first error `render` or `sink` returns.
    pub fn render_objects<E: Send>(
        &self,
        kind: ObjectKind,
        render: impl Fn(&mut BorrowedObject<'_>, &mut Vec<u8>) -> std::result::Result<(), E> + Sync,
        mut sink: impl FnMut(&[u8]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let wanted: Vec<usize> = (0..self.objects.len())
            .filter(|&i| self.objects[i].kind == kind)
            .collect();
        // The buffers the sink is done with, filled again: a listing
        // touches a few chunks' worth of memory, not its whole size.
        let spare: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
        let chunk = |part: &[usize]| -> std::result::Result<Vec<u8>, E> {
            let mut buf = spare
                .lock()
                .ok()
                .and_then(|mut s| s.pop())
                .unwrap_or_default();
            let mut o = BorrowedObject {
                snap: self,
                obj: 0,
                recs: Vec::new(),
                scratch: Vec::new(),
            };
            for (k, &i) in part.iter().enumerate() {
                o.set(i);
                render(&mut o, &mut buf)?;
                // Objects of a kind render to about the same size: room
                // for the rest of the chunk at once, not by doubling.
                if k == 0 {
                    buf.reserve(buf.len().saturating_mul(part.len()));
                }
            }
            Ok(buf)
        };
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        if threads < 2 || wanted.len() < PARALLEL_MIN_OBJECTS {
            return sink(&chunk(&wanted)?);
        }
        crate::fanout::in_order(
            &wanted,
            threads,
            STREAM_CHUNK,
            |part| vec![chunk(part)],
            |bytes| {
                let mut bytes = bytes?;
                sink(&bytes)?;
                bytes.clear();
                if let Ok(mut s) = spare.lock() {
                    s.push(bytes);
                }
                Ok(())
            },
        )
    }

    /// Combines the objects of `kind` in rounds of at most `batch` objects
    /// per core and hands them to `f` in order.
    fn combine_in_rounds<E>(
        &self,
        kind: ObjectKind,
        batch: usize,
        mut f: impl FnMut(StatObject) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let wanted: Vec<usize> = (0..self.objects.len())
            .filter(|&i| self.objects[i].kind == kind)
            .collect();
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        if threads < 2 || wanted.len() < PARALLEL_MIN_OBJECTS {
            let mut scratch = Scratch::default();
            for &i in &wanted {
                f(self.stat_object(i, &mut scratch))?;
            }
            return Ok(());
        }
        // Large listings: chunks of `batch` objects combined on every
        // core, handed on in order while the next are combined.
        crate::fanout::in_order(
            &wanted,
            threads,
            batch.min(wanted.len().div_ceil(threads)),
            |part| {
                let mut scratch = Scratch::default();
                part.iter()
                    .map(|&i| self.stat_object(i, &mut scratch))
                    .collect()
            },
            f,
        )
    }

    /// The cell of column `col` (snapshot index) for every process that
    /// has the object, with that process's table, in process order.
    fn cells(
        &self,
        obj: usize,
        col: usize,
    ) -> impl Iterator<Item = (usize, &ProcTable, Cell<'_>)> + '_ {
        self.rows_of(obj).iter().map(move |&(pi, row)| {
            let p = &self.procs[pi];
            let cell = p
                .col_map
                .get(col)
                .copied()
                .flatten()
                .map_or(Cell::Empty, |c| p.table.cell(row, c));
            (pi, &p.table, cell)
        })
    }

    /// Each process's record of object `obj`, in process order: read once
    /// per object, then every column is combined from it.
    pub(crate) fn records(&self, obj: usize) -> Vec<Rec<'_>> {
        let mut recs = Vec::new();
        self.records_into(obj, &mut recs);
        recs
    }

    /// [`Snapshot::records`] into `recs` (cleared first), to reuse it.
    fn records_into<'s>(&'s self, obj: usize, recs: &mut Vec<Rec<'s>>) {
        recs.clear();
        recs.extend(self.rows_of(obj).iter().filter_map(|&(pi, row)| {
            let p = &self.procs[pi];
            Some(Rec {
                proc_index: pi,
                col_map: &p.col_map,
                cells: p.table.cells(row)?,
            })
        }));
    }

    /// Column `col` of object `obj`, combined as the field table says.
    pub(crate) fn combined(
        &self,
        obj: usize,
        col: usize,
        scratch: &mut Vec<Option<Value>>,
    ) -> Option<Combined<Value>> {
        let recs = self.records(obj);
        self.combine_records(obj, &recs, col, scratch)
    }

    /// Column `col` of object `obj` from its records `recs`.
    pub(crate) fn combine_records(
        &self,
        obj: usize,
        recs: &[Rec<'_>],
        col: usize,
        scratch: &mut Vec<Option<Value>>,
    ) -> Option<Combined<Value>> {
        self.combine_ref(obj, recs, col, scratch)
            .map(CombinedRef::into_owned)
    }

    /// Column `col` of object `obj` from its records `recs`, text borrowed
    /// from the records.
    fn combine_ref<'r>(
        &self,
        obj: usize,
        recs: &[Rec<'r>],
        col: usize,
        scratch: &mut Vec<Option<Value>>,
    ) -> Option<CombinedRef<'r>> {
        let how = self.combine.get(col).copied().unwrap_or(Combine::MustAgree);
        if let Some(w) = self.weights.get(col).copied().flatten() {
            let pairs = recs.iter().map(|r| (r.cell(col), r.cell(w)));
            if let Some(v) = weighted_mean(pairs) {
                return Some(CombinedRef::Value(ValueRef::Unsigned(v)));
            }
        }
        // Every process holds a small number or nothing (most fields):
        // combined on the parser's integers, nothing unpacked or built.
        if let Some(v) = fold_small(how, recs, col) {
            return v.map(|n| CombinedRef::Value(ValueRef::of_i64(n)));
        }
        self.combine_read(obj, recs, col, how, scratch)
    }

    /// Every column of object `obj` from its records `recs`, in column
    /// order, handed to `f` with its index. Where every process has the
    /// same header (one version: the usual case) the small numbers are
    /// folded column after column straight from the records, no column
    /// mapped.
    fn for_each_combined<'r, E>(
        &self,
        obj: usize,
        recs: &[Rec<'r>],
        scratch: &mut Vec<Option<Value>>,
        mut f: impl FnMut(usize, Option<&CombinedRef<'r>>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        const MAX: usize = 16;
        match recs.first() {
            Some(r0) if self.aligned && recs.len() <= MAX => {
                let mut rows = [r0.cells; MAX];
                for (row, r) in rows.iter_mut().zip(recs) {
                    *row = r.cells;
                }
                let rows = &rows[..recs.len()];
                for (col, &how) in self.combine.iter().enumerate() {
                    if let Some(w) = self.weights[col] {
                        let pairs = rows.iter().map(|r| (r.get(col), r.get(w)));
                        if let Some(v) = weighted_mean(pairs) {
                            f(col, Some(&CombinedRef::Value(ValueRef::Unsigned(v))))?;
                            continue;
                        }
                    }
                    match fold_aligned(how, rows, col) {
                        Some(v) => {
                            // A number owns nothing: not dropped, so no
                            // drop is called for each field after `f`.
                            let v = ManuallyDrop::new(
                                v.map(|n| CombinedRef::Value(ValueRef::of_i64(n))),
                            );
                            f(col, v.as_ref())?;
                        }
                        None => f(
                            col,
                            self.combine_read(obj, recs, col, how, scratch).as_ref(),
                        )?,
                    }
                }
            }
            _ => {
                for col in 0..self.columns.len() {
                    f(col, self.combine_ref(obj, recs, col, scratch).as_ref())?;
                }
            }
        }
        Ok(())
    }

    /// Column `col` of object `obj` from its records `recs`, each
    /// process's field read (the path for text, large numbers, columns
    /// some processes lack and differing must-agree fields).
    fn combine_read<'r>(
        &self,
        obj: usize,
        recs: &[Rec<'r>],
        col: usize,
        how: Combine,
        scratch: &mut Vec<Option<Value>>,
    ) -> Option<CombinedRef<'r>> {
        // Read each process's field once.
        let mut small: [Cell<'r>; 16] = [Cell::Empty; 16];
        let mut big: Vec<Cell<'r>> = Vec::new();
        let cells: &[Cell<'r>] = if recs.len() <= small.len() {
            for (slot, r) in small.iter_mut().zip(recs) {
                *slot = r.cell(col);
            }
            &small[..recs.len()]
        } else {
            big.extend(recs.iter().map(|r| r.cell(col)));
            &big
        };
        let (&c0, rest) = cells.split_first()?;
        // A column some of the object's processes lack (mixed versions):
        // every process's value, never a sum over the subset as if it were
        // the whole.
        if self.uneven.get(col).copied().unwrap_or(false) && recs.len() > 1 {
            let has = |r: &Rec<'_>| r.col_map.get(col).copied().flatten().is_some();
            if recs.iter().any(|r| !has(r)) {
                if recs.iter().all(|r| !has(r)) {
                    return None;
                }
                return Some(CombinedRef::Owned(Combined::Disagreement {
                    values: self.per_process(obj, col),
                }));
            }
        }
        // Every process holds the same field (always true with one
        // process), and combining equal values gives that value: read it
        // once.
        if rest.is_empty() || (!matches!(how, Combine::Sum) && rest.iter().all(|c| *c == c0)) {
            return ValueRef::of_cell(c0).map(CombinedRef::Value);
        }
        if let Some(v) = fold_unsigned(how, cells.iter().copied()) {
            return v.map(|n| CombinedRef::Value(ValueRef::Unsigned(n)));
        }
        scratch.clear();
        scratch.extend(cells.iter().map(|&c| Value::of_cell(c)));
        combine_indexed(how, scratch, |i| self.process_id(recs[i].proc_index))
            .map(CombinedRef::Owned)
    }

    /// Column `col` of object `obj` for each process.
    pub(crate) fn per_process(&self, obj: usize, col: usize) -> PerProcess<Option<Value>> {
        self.cells(obj, col)
            .map(|(pi, _, c)| (self.process_id(pi), Value::of_cell(c)))
            .collect()
    }

    pub(crate) fn stat_object<'s>(&'s self, obj: usize, scratch: &mut Scratch<'s>) -> StatObject {
        let entry = &self.objects[obj];
        let mut recs = std::mem::take(&mut scratch.recs);
        self.records_into(obj, &mut recs);
        let mut built = std::mem::take(&mut scratch.object);
        let done: std::result::Result<(), std::convert::Infallible> =
            self.for_each_combined(obj, &recs, &mut scratch.values, |c, v| {
                if let Some(v) = v {
                    built.push(c, v.clone());
                }
                Ok(())
            });
        if let Err(never) = done {
            match never {}
        }
        scratch.recs = recs;
        let object = built.finish(
            entry.kind,
            self.proxy_of(obj),
            self.name_of(obj),
            Arc::clone(&self.columns),
            (self.rows_of(obj).len(), self.procs.len()),
        );
        scratch.object = built;
        object
    }

    pub(crate) fn stat_for_process(&self, obj: usize, pos: usize) -> Option<StatObject> {
        let entry = &self.objects[obj];
        let &(pi, row) = self.rows_of(obj).get(pos)?;
        let p = &self.procs[pi];
        let values = (0..self.columns.len()).map(|c| {
            p.col_map[c]
                .and_then(|lc| Value::of_cell(p.table.cell(row, lc)))
                .map(Combined::Value)
        });
        // One process's row is the whole of that process (`new` says 1 of 1).
        Some(StatObject::new(
            entry.kind,
            self.proxy_of(obj),
            self.name_of(obj),
            Arc::clone(&self.columns),
            values,
        ))
    }
}

/// One object of a snapshot as [`Snapshot::render_objects`] hands it
/// over: its names and its values combined across processes on demand,
/// text borrowed from the snapshot, nothing built that is not asked for.
pub struct BorrowedObject<'s> {
    snap: &'s Snapshot,
    obj: usize,
    recs: Vec<Rec<'s>>,
    scratch: Vec<Option<Value>>,
}

impl<'s> BorrowedObject<'s> {
    fn set(&mut self, obj: usize) {
        self.obj = obj;
        self.snap.records_into(obj, &mut self.recs);
    }

    fn entry(&self) -> &'s super::model::ObjectEntry {
        &self.snap.objects[self.obj]
    }

    /// Frontend, backend, server or listener.
    pub fn kind(&self) -> ObjectKind {
        self.entry().kind
    }

    /// `pxname`: the proxy (the backend, for a server).
    pub fn proxy(&self) -> &'s str {
        self.snap.proxy_of(self.obj)
    }

    /// `svname`: the server name, or `FRONTEND` / `BACKEND`.
    pub fn name(&self) -> &'s str {
        self.snap.name_of(self.obj)
    }

    /// How many processes have this object (as
    /// [`StatObject::processes`]).
    pub fn processes(&self) -> usize {
        self.snap.rows_of(self.obj).len()
    }

    /// How many processes answered the snapshot.
    pub fn of_processes(&self) -> usize {
        self.snap.procs.len()
    }

    /// Whether only some of the processes that answered have this object.
    pub fn is_partial(&self) -> bool {
        self.processes() < self.of_processes()
    }

    /// The combined value of column `name`, as [`StatObject::get`] gives
    /// it; `None` if empty or absent.
    pub fn value(&mut self, name: &str) -> Option<CombinedRef<'s>> {
        let col = self.snap.columns.iter().position(|c| &**c == name)?;
        self.snap
            .combine_ref(self.obj, &self.recs, col, &mut self.scratch)
    }

    /// Hands `f` every column of the snapshot, in header order, with its
    /// combined value (`None` for an empty field), as
    /// [`StatObject::iter`] lists them. The value is lent, not moved: a
    /// 32-byte move per field was a measurable part of writing a large
    /// listing. Stops at `f`'s first error.
    ///
    /// # Errors
    ///
    /// The first error `f` returns.
    pub fn try_for_each_value<E>(
        &mut self,
        mut f: impl FnMut(&'s str, Option<&CombinedRef<'s>>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let snap = self.snap;
        snap.for_each_combined(self.obj, &self.recs, &mut self.scratch, |col, v| {
            f(snap.columns.get(col).map_or("", |c| &**c), v)
        })
    }

    /// The owned [`StatObject`], as [`Snapshot::stat_objects`] builds it.
    pub fn to_stat_object(&self) -> StatObject {
        let mut scratch = Scratch::default();
        self.snap.stat_object(self.obj, &mut scratch)
    }
}

/// What combining one object after another reuses.
#[derive(Default)]
pub(crate) struct Scratch<'s> {
    recs: Vec<Rec<'s>>,
    values: Vec<Option<Value>>,
    object: ObjectBuilder,
}

/// One process's record of an object.
pub(crate) struct Rec<'a> {
    /// Index into `Snapshot::procs`.
    proc_index: usize,
    /// For every snapshot column, this process's column index.
    col_map: &'a [Option<usize>],
    cells: Cells<'a>,
}

impl<'a> Rec<'a> {
    /// Column `col` (snapshot index); empty when this process lacks it.
    fn cell(&self, col: usize) -> Cell<'a> {
        self.col_map
            .get(col)
            .copied()
            .flatten()
            .map_or(Cell::Empty, |c| self.cells.get(c))
    }
}

/// How many samples HAProxy's time averages hold at most.
const AVERAGE_WINDOW: u64 = 1024;

/// The mean of each process's average `(value, sessions)`, weighted by
/// the samples behind it (its sessions, at most [`AVERAGE_WINDOW`]),
/// rounded to the nearest integer; `None` when no process has both an
/// average and a session (then they are averaged plainly).
fn weighted_mean<'a>(pairs: impl Iterator<Item = (Cell<'a>, Cell<'a>)>) -> Option<u64> {
    let num = |c: Cell<'_>| match c {
        Cell::UInt(n) => Some(n),
        Cell::Int(n) => u64::try_from(n).ok(),
        _ => None,
    };
    let (mut sum, mut weight) = (0u128, 0u128);
    for (v, w) in pairs {
        if let (Some(v), Some(w)) = (num(v), num(w).map(|w| w.min(AVERAGE_WINDOW))) {
            sum += u128::from(v) * u128::from(w);
            weight += u128::from(w);
        }
    }
    (weight > 0).then(|| u64::try_from((sum + weight / 2) / weight).unwrap_or(u64::MAX))
}

/// Column `col` combined straight from the parser's integers when every
/// record holds a small one or nothing: `Some(None)` when all are empty,
/// `None` when the general path must decide (text, a large number, a
/// process without the column, a must-agree field that differs, an
/// overflow). Gives what [`combine_indexed`] gives on the same values.
fn fold_small(how: Combine, recs: &[Rec<'_>], col: usize) -> Option<Option<i64>> {
    fold_ints(
        how,
        recs.iter().map(|r| {
            let local = r.col_map.get(col).copied().flatten()?;
            r.cells.small_int(local)
        }),
    )
}

/// [`fold_small`] for processes with the same header: column `col` of
/// each record `rows`, no column mapped.
#[inline(always)]
fn fold_aligned(how: Combine, rows: &[Cells<'_>], col: usize) -> Option<Option<i64>> {
    fold_ints(how, rows.iter().map(|r| r.small_int(col)))
}

/// Combines each record's field, read as [`Cells::small_int`] reads it
/// (`None`: not a small number, or a column the process lacks, which
/// only the general path can combine), as [`fold_small`] says.
#[inline(always)]
fn fold_ints(
    how: Combine,
    mut fields: impl Iterator<Item = Option<Option<i64>>>,
) -> Option<Option<i64>> {
    let v0 = fields.next()??;
    match how {
        Combine::First => {
            for v in fields {
                v?;
            }
            Some(v0)
        }
        Combine::MustAgree => {
            for v in fields {
                if v? != v0 {
                    return None;
                }
            }
            Some(v0)
        }
        Combine::Sum | Combine::Average => {
            let mut count = i64::from(v0.is_some());
            let mut acc = v0;
            for v in fields {
                if let Some(n) = v? {
                    count += 1;
                    acc = Some(match acc {
                        None => n,
                        Some(a) => a.checked_add(n)?,
                    });
                }
            }
            match how {
                Combine::Average => Some(acc.and_then(|sum| sum.checked_div(count))),
                _ => Some(acc),
            }
        }
        Combine::Max | Combine::Min => {
            let mut acc = v0;
            for v in fields {
                if let Some(n) = v? {
                    acc = Some(match (acc, how) {
                        (None, _) => n,
                        (Some(a), Combine::Max) => a.max(n),
                        (Some(a), _) => a.min(n),
                    });
                }
            }
            Some(acc)
        }
        // Not one of these: the general path decides.
        _ => None,
    }
}

/// Sum, max or min of fields that are all non-negative integers or
/// empty, without building values: `Some(None)` when every field is
/// empty, `None` when the fast path does not apply (other combines, text,
/// negatives, overflow) and the general path must decide.
fn fold_unsigned<'a>(how: Combine, cells: impl Iterator<Item = Cell<'a>>) -> Option<Option<u64>> {
    let step: fn(u64, u64) -> Option<u64> = match how {
        Combine::Sum => u64::checked_add,
        Combine::Max => |a, b| Some(a.max(b)),
        Combine::Min => |a, b| Some(a.min(b)),
        _ => return None,
    };
    let mut acc: Option<u64> = None;
    for c in cells {
        let n = match c {
            Cell::Empty => continue,
            Cell::Int(n) => u64::try_from(n).ok()?,
            Cell::UInt(n) => n,
            Cell::Text(_) => return None,
        };
        acc = Some(match acc {
            None => n,
            Some(a) => step(a, n)?,
        });
    }
    Some(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process that served nothing does not halve an average; one that
    /// served more weighs more, up to HAProxy's 1,024-sample window.
    #[test]
    fn time_averages_are_weighted_by_sessions() {
        use haproxy_transport::Endpoint;
        let snap = |rows: &[(u64, u64)]| {
            Snapshot::from_replies(rows.iter().enumerate().map(|(i, (rtime, stot))| {
                (
                    Endpoint::unix(format!("/p{i}.sock")),
                    format!("Name: HAProxy\nPid: {}\n", 10 + i),
                    format!("# pxname,svname,stot,rtime,\nbe,BACKEND,{stot},{rtime},\n\n"),
                )
            }))
            .expect("snapshot")
        };
        for (rows, want) in [
            (&[(6172, 10), (0, 0)][..], 6172),
            (&[(100, 3000), (200, 1024)][..], 150),
            (&[(100, 1), (200, 3)][..], 175),
            // No process has served: the plain mean (HAProxy's 0s).
            (&[(0, 0), (0, 0)][..], 0),
        ] {
            let s = snap(rows);
            let col = s.column_index("rtime").expect("rtime");
            let got = s.combined(0, col, &mut Vec::new());
            assert_eq!(
                got,
                Some(Combined::Value(Value::Unsigned(want))),
                "{rows:?}"
            );
            let listed = s.stat_objects(ObjectKind::Backend);
            assert_eq!(
                listed[0].get("rtime").and_then(|v| v.agreed()),
                Some(Value::Unsigned(want)),
                "{rows:?}"
            );
        }
    }

    #[test]
    fn the_aligned_fold_gives_what_every_field_read_gives() {
        use haproxy_transport::Endpoint;
        let header = "# pxname,svname,qcur,qmax,scur,status,weight,pid,qtime,lastchg,\n";
        // Small, large (past the packed range), negative, empty, text and
        // differing values, in every way a column combines.
        let rows = [
            "be,a,1,5,3,UP,10,1,4,-1,\nbe,b,,,,,,,,,\nbe,c,536870911,536870911,9000000000,DOWN,1,7,3,0,\n",
            "be,a,2,9,4,UP,10,2,6,-1,\nbe,b,,,,,,,,,\nbe,c,1,1,1,DOWN,2,8,,9000000000,\n",
            "be,a,,7,-4,UP,11,3,5,-1,\nbe,b,,,,,,,,,\nbe,c,536870911,-536870912,1,UP,1,9,1,7,\n",
        ];
        let snap = Snapshot::from_replies(rows.iter().enumerate().map(|(i, r)| {
            (
                Endpoint::unix(format!("/p{i}.sock")),
                format!("Name: HAProxy\nPid: {}\n", 10 + i),
                format!("{header}{r}\n"),
            )
        }))
        .expect("snapshot");
        assert!(snap.aligned);
        let mut scratch = Vec::new();
        let mut checked = 0;
        for obj in 0..snap.objects.len() {
            let recs = snap.records(obj);
            let mut fast = Vec::new();
            let done: std::result::Result<(), ()> =
                snap.for_each_combined(obj, &recs, &mut scratch, |_, v| {
                    fast.push(v.cloned().map(CombinedRef::into_owned));
                    Ok(())
                });
            assert!(done.is_ok());
            for (col, got) in fast.iter().enumerate() {
                let how = snap.combine[col];
                let read = snap
                    .combine_read(obj, &recs, col, how, &mut scratch)
                    .map(CombinedRef::into_owned);
                assert_eq!(got, &read, "object {obj}, column {}", snap.columns[col]);
                checked += 1;
            }
        }
        assert_eq!(checked, 3 * 10);
    }

    #[test]
    fn unsigned_fast_path_matches_the_general_rules() {
        use haproxy_proto::Field;
        let cells = [Field::Int(3), Field::Empty, Field::Int(4)];
        assert_eq!(
            fold_unsigned(Combine::Sum, cells.into_iter()),
            Some(Some(7))
        );
        assert_eq!(
            fold_unsigned(Combine::Max, cells.into_iter()),
            Some(Some(4))
        );
        assert_eq!(
            fold_unsigned(Combine::Min, cells.into_iter()),
            Some(Some(3))
        );
        assert_eq!(
            fold_unsigned(Combine::Sum, [Field::Empty; 2].into_iter()),
            Some(None)
        );
        // Anything else goes the general way.
        assert_eq!(fold_unsigned(Combine::Average, cells.into_iter()), None);
        assert_eq!(
            fold_unsigned(Combine::Sum, [Field::Int(-1)].into_iter()),
            None
        );
        assert_eq!(
            fold_unsigned(Combine::Sum, [Field::Text("x")].into_iter()),
            None
        );
        assert_eq!(
            fold_unsigned(
                Combine::Sum,
                [Field::UInt(u64::MAX), Field::Int(1)].into_iter()
            ),
            None
        );
    }
}
