//! Choosing objects: name patterns with globs (`be_app/*`, `*/web-*`),
//! status filters, `FIELD OP VALUE` predicates on any `show stat` column,
//! "processes disagree", and sorting — what an operator needs to act on a
//! set of servers rather than one.
//!
//! Everything here works on [`StatObject`]s (combined across processes), so
//! the same [`Selection`] drives a listing and a write.
//!
//! ```
//! use haproxy_admin::{Predicate, Selection, SortKey};
//! let sel = Selection::new()
//!     .pattern("be_app/*".parse()?)
//!     .status("UP")
//!     .predicate("scur>0".parse()?);
//! assert!(sel.has_filters());
//! let keys = SortKey::parse_list("-scur,name")?;
//! assert_eq!(keys.len(), 2);
//! # Ok::<(), haproxy_admin::Error>(())
//! ```

use crate::aggregate::{Combined, CombinedRef};
use crate::haproxy::{HAProxy, PerProcess};
use crate::objects::{ObjectKind, StatObject};
use crate::snapshot::Snapshot;
use crate::value::Value;
use crate::{Error, ProcessId, Result};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

fn bad(input: &str, reason: impl Into<String>) -> Error {
    Error::Selection {
        input: input.to_owned(),
        reason: reason.into(),
    }
}

fn glob(input: &str, part: &str) -> Result<glob::Pattern> {
    glob::Pattern::new(part).map_err(|e| bad(input, e.msg))
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// A name pattern: `BACKEND/SERVER` for servers, `NAME` for frontends and
/// backends; each part may be a glob (`*`, `?`, `[…]`).
#[derive(Debug, Clone)]
pub struct NamePattern {
    text: String,
    proxy: glob::Pattern,
    server: Option<glob::Pattern>,
}

impl NamePattern {
    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern names one object exactly (no glob characters).
    pub fn is_literal(&self) -> bool {
        !has_glob(&self.text)
    }

    /// The `(proxy, server)` parts when the pattern is literal (`server` is
    /// `None` for a frontend or backend name).
    pub fn literal(&self) -> Option<(&str, Option<&str>)> {
        if !self.is_literal() {
            return None;
        }
        Some(match self.text.split_once('/') {
            Some((p, s)) => (p, Some(s)),
            None => (self.text.as_str(), None),
        })
    }

    /// Whether the pattern has a server part (`BACKEND/SERVER`).
    pub fn names_servers(&self) -> bool {
        self.server.is_some()
    }

    /// Whether `o` matches: its proxy (and, for a server, its name).
    /// A pattern without a server part matches frontends and backends by
    /// name; for servers it matches every server of the matching backends.
    pub fn matches(&self, o: &StatObject) -> bool {
        if !self.proxy.matches(o.proxy()) {
            return false;
        }
        match (&self.server, o.kind()) {
            (Some(s), ObjectKind::Server | ObjectKind::Listener) => s.matches(o.name()),
            (Some(_), _) => false,
            (None, _) => true,
        }
    }
}

impl FromStr for NamePattern {
    type Err = Error;

    /// `NAME` or `BACKEND/SERVER`, either part a glob; empty parts are
    /// refused.
    fn from_str(s: &str) -> Result<NamePattern> {
        let (proxy, server) = match s.split_once('/') {
            Some((p, srv)) => (p, Some(srv)),
            None => (s, None),
        };
        if proxy.is_empty() || server.is_some_and(|x| x.is_empty() || x.contains('/')) {
            return Err(bad(s, "expected NAME or BACKEND/SERVER (globs allowed)"));
        }
        Ok(NamePattern {
            text: s.to_owned(),
            proxy: glob(s, proxy)?,
            server: server.map(|x| glob(s, x)).transpose()?,
        })
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A comparison of a [`Predicate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// `=`: equal (numerically when both sides are numbers).
    Eq,
    /// `!=`: not equal.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `~`: the field's text matches a glob.
    Glob,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Glob => "~",
        }
    }
}

/// `FIELD OP VALUE` on one `show stat` column (`scur>0`,
/// `check_status=L4CON`, `addr~10.0.*`). Numbers compare as numbers, text
/// as text; an empty field equals only the empty value. On a column whose
/// processes disagree, the predicate holds if it holds for any process's
/// value ("DOWN anywhere").
#[derive(Debug, Clone)]
pub struct Predicate {
    field: String,
    op: Op,
    value: String,
    number: Option<Value>,
    glob: Option<glob::Pattern>,
}

impl Predicate {
    /// The column the predicate reads.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// Whether `o` satisfies the predicate.
    pub fn matches(&self, o: &StatObject) -> bool {
        match field_of(o, &self.field) {
            Some(Combined::Value(v)) => self.holds(Some(&v)),
            Some(Combined::Disagreement { values }) => {
                values.iter().any(|(_, v)| self.holds(v.as_ref()))
            }
            None => self.holds(None),
        }
    }

    fn holds(&self, v: Option<&Value>) -> bool {
        let Some(v) = v else {
            return match self.op {
                Op::Eq => self.value.is_empty(),
                Op::Ne => !self.value.is_empty(),
                Op::Glob => self.glob.as_ref().is_some_and(|g| g.matches("")),
                _ => false,
            };
        };
        if self.op == Op::Glob {
            return self
                .glob
                .as_ref()
                .is_some_and(|g| g.matches(&v.to_string()));
        }
        let ord = match (&self.number, v) {
            (Some(n), v) if !matches!(v, Value::Text(_)) => v.numeric_cmp(n),
            _ => Some(v.to_string().as_str().cmp(self.value.as_str())),
        };
        let Some(ord) = ord else {
            return self.op == Op::Ne;
        };
        match self.op {
            Op::Eq => ord == Ordering::Equal,
            Op::Ne => ord != Ordering::Equal,
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            Op::Gt => ord == Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
            Op::Glob => false,
        }
    }
}

impl FromStr for Predicate {
    type Err = Error;

    /// `FIELD OP VALUE` with OP one of `= != < <= > >= ~` (spaces around
    /// the operator allowed).
    fn from_str(s: &str) -> Result<Predicate> {
        let at = s
            .find(['=', '!', '<', '>', '~'])
            .ok_or_else(|| bad(s, "expected FIELD OP VALUE with OP one of = != < <= > >= ~"))?;
        let (field, rest) = s.split_at(at);
        let (op, value) = [
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
            ("~", Op::Glob),
        ]
        .iter()
        .find_map(|(sym, op)| rest.strip_prefix(sym).map(|v| (*op, v)))
        .ok_or_else(|| bad(s, "expected an operator = != < <= > >= ~"))?;
        let field = field.trim();
        if field.is_empty()
            || !field
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(bad(
                s,
                "the field must be a column name (letters, digits, _)",
            ));
        }
        let value = value.trim().to_owned();
        let glob = if op == Op::Glob {
            Some(glob(s, &value)?)
        } else {
            None
        };
        let number = Value::parse_number(&value);
        // An ordering of text would match nothing, silently.
        if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && number.is_none() {
            return Err(bad(s, "an ordering (< <= > >=) needs a number"));
        }
        Ok(Predicate {
            field: field.to_owned(),
            op,
            number,
            value,
            glob,
        })
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.field, self.op.symbol(), self.value)
    }
}

/// A column of an object by name, with the pseudo-columns `name` (the
/// server, frontend or backend name) and `backend` / `proxy` (the proxy).
fn field_of(o: &StatObject, field: &str) -> Option<Combined<Value>> {
    match field {
        "name" => Some(Combined::Value(Value::Text(display_name(o).to_owned()))),
        "backend" | "proxy" => Some(Combined::Value(Value::Text(o.proxy().to_owned()))),
        f => o.get(f).map(CombinedRef::into_owned),
    }
}

/// The name an operator calls `o` by: the server's name, or the proxy's
/// for a frontend or backend.
pub fn display_name(o: &StatObject) -> &str {
    match o.kind() {
        ObjectKind::Server | ObjectKind::Listener => o.name(),
        ObjectKind::Frontend | ObjectKind::Backend => o.proxy(),
    }
}

/// Whether the status text `status` is one of `wanted` (case-insensitive;
/// `UP` also matches `UP 1/3` and `DOWN` matches `DOWN (agent)`).
fn status_is(status: &str, wanted: &str) -> bool {
    let s = status.trim();
    if s.eq_ignore_ascii_case(wanted) {
        return true;
    }
    s.get(..wanted.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(wanted))
        && s[wanted.len()..].starts_with([' ', '('])
}

/// Which objects: any of the name patterns (all when none), then every
/// filter. Built with the chaining methods; an empty selection matches
/// everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    patterns: Vec<NamePattern>,
    statuses: Vec<String>,
    predicates: Vec<Predicate>,
    disagreeing: bool,
}

impl Selection {
    /// Everything.
    pub fn new() -> Selection {
        Selection::default()
    }

    /// Adds a name pattern (objects matching any pattern are kept).
    #[must_use]
    pub fn pattern(mut self, p: NamePattern) -> Selection {
        self.patterns.push(p);
        self
    }

    /// Keeps objects whose status is `status` (or any of the statuses
    /// added; on any process when processes disagree).
    #[must_use]
    pub fn status(mut self, status: &str) -> Selection {
        self.statuses.push(status.trim().to_owned());
        self
    }

    /// Keeps objects satisfying `p` (every predicate added must hold).
    #[must_use]
    pub fn predicate(mut self, p: Predicate) -> Selection {
        self.predicates.push(p);
        self
    }

    /// Keeps only objects on which the processes disagree (any must-agree
    /// column).
    #[must_use]
    pub fn disagreeing(mut self) -> Selection {
        self.disagreeing = true;
        self
    }

    /// The name patterns.
    pub fn patterns(&self) -> &[NamePattern] {
        &self.patterns
    }

    /// The predicates.
    pub fn predicates(&self) -> &[Predicate] {
        &self.predicates
    }

    /// Whether anything but name patterns narrows the selection.
    pub fn has_filters(&self) -> bool {
        !self.statuses.is_empty() || !self.predicates.is_empty() || self.disagreeing
    }

    /// The one object a selection of a single literal pattern and no
    /// filter names (`be_app/app1`): such a selection can be acted on
    /// without reading the stats first.
    pub fn single_literal(&self) -> Option<(&str, Option<&str>)> {
        match self.patterns.as_slice() {
            [p] if !self.has_filters() => p.literal(),
            _ => None,
        }
    }

    /// Checks that every predicate names a column of `columns` (or a
    /// pseudo-column `name`, `backend`, `proxy`).
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchField`] for the first unknown column.
    pub fn check_columns<S: AsRef<str>>(&self, columns: &[S]) -> Result<()> {
        for p in &self.predicates {
            let f = p.field();
            let known = matches!(f, "name" | "backend" | "proxy")
                || columns.iter().any(|c| c.as_ref() == f);
            if !known {
                return Err(Error::NoSuchField {
                    kind: "show stat",
                    name: f.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Whether `o` is selected.
    pub fn matches(&self, o: &StatObject) -> bool {
        if !self.patterns.is_empty() && !self.patterns.iter().any(|p| p.matches(o)) {
            return false;
        }
        if !self.statuses.is_empty() {
            let ok = match o.get("status").map(CombinedRef::into_owned) {
                Some(Combined::Value(v)) => {
                    let s = v.to_string();
                    self.statuses.iter().any(|w| status_is(&s, w))
                }
                Some(Combined::Disagreement { values }) => values.iter().any(|(_, v)| {
                    let s = v.as_ref().map(Value::to_string).unwrap_or_default();
                    self.statuses.iter().any(|w| status_is(&s, w))
                }),
                None => false,
            };
            if !ok {
                return false;
            }
        }
        if self.disagreeing && o.disagreements().next().is_none() {
            return false;
        }
        self.predicates.iter().all(|p| p.matches(o))
    }
}

/// One sort key: a column (or `name`, `backend`), descending when written
/// `-FIELD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The column.
    pub field: String,
    /// Largest first.
    pub descending: bool,
}

impl SortKey {
    /// `FIELD[,-FIELD…]`.
    ///
    /// # Errors
    ///
    /// [`Error::Selection`] for an empty key.
    pub fn parse_list(s: &str) -> Result<Vec<SortKey>> {
        s.split(',')
            .map(|k| {
                let k = k.trim();
                let (descending, field) = match k.strip_prefix('-') {
                    Some(f) => (true, f),
                    None => (false, k.strip_prefix('+').unwrap_or(k)),
                };
                if field.is_empty() {
                    return Err(bad(s, "empty sort key"));
                }
                Ok(SortKey {
                    field: field.to_owned(),
                    descending,
                })
            })
            .collect()
    }
}

/// How two fields order: numbers numerically, text as text, numbers before
/// text, empty fields and disagreements last.
fn cmp_field(a: Option<&Combined<Value>>, b: Option<&Combined<Value>>) -> Ordering {
    match (a.and_then(Combined::agreed), b.and_then(Combined::agreed)) {
        (Some(x), Some(y)) => match (x, y) {
            (Value::Text(x), Value::Text(y)) => x.cmp(y),
            (Value::Text(_), _) => Ordering::Greater,
            (_, Value::Text(_)) => Ordering::Less,
            (x, y) => x.numeric_cmp(y).unwrap_or(Ordering::Equal),
        },
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Sorts `list` by `keys` (stable: objects equal on every key keep their
/// order). Empty values sort last whatever the direction.
pub fn sort_objects(list: &mut [StatObject], keys: &[SortKey]) {
    list.sort_by(|a, b| {
        for k in keys {
            let (fa, fb) = (field_of(a, &k.field), field_of(b, &k.field));
            let ord = cmp_field(fa.as_ref(), fb.as_ref());
            let empty_involved = fa.as_ref().and_then(Combined::agreed).is_none()
                || fb.as_ref().and_then(Combined::agreed).is_none();
            let ord = if k.descending && !empty_involved {
                ord.reverse()
            } else {
                ord
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
}

/// One frontend, backend or server by name, for acting on a selected set
/// after the snapshot it was chosen from is gone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    /// Frontend, backend or server.
    pub kind: ObjectKind,
    /// The proxy (the backend of a server).
    pub proxy: String,
    /// The server's name, `FRONTEND` or `BACKEND`.
    pub name: String,
}

impl ObjectRef {
    /// The reference of `o`.
    pub fn of(o: &StatObject) -> ObjectRef {
        ObjectRef {
            kind: o.kind(),
            proxy: o.proxy().to_owned(),
            name: o.name().to_owned(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ObjectKind::Server | ObjectKind::Listener => write!(f, "{}/{}", self.proxy, self.name),
            ObjectKind::Frontend | ObjectKind::Backend => f.write_str(&self.proxy),
        }
    }
}

/// An object that still has more sessions than a wait allows, with its
/// current sessions (`scur`) on every process.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionsLeft {
    /// The object.
    pub object: ObjectRef,
    /// `scur` of every process that has it (an empty field counts as 0).
    pub per_process: PerProcess<u64>,
}

impl SessionsLeft {
    /// Sessions summed over the processes.
    pub fn total(&self) -> u64 {
        self.per_process.iter().map(|(_, n)| n).sum()
    }
}

/// The objects of `objects` that have more than `max` current sessions
/// on some process of `snap`.
///
/// # Errors
///
/// [`Error::NotFound`] when an object is no longer in the snapshot (it
/// was deleted, or a process was reloaded without it).
pub fn sessions_above(
    snap: &Snapshot,
    objects: &[ObjectRef],
    max: u64,
) -> Result<Vec<SessionsLeft>> {
    let mut out = Vec::new();
    for o in objects {
        let per = per_process_of(snap, o, "scur")?;
        let per_process: PerProcess<u64> = per
            .into_iter()
            .map(|(p, v)| (p, v.as_ref().and_then(Value::as_u64).unwrap_or(0)))
            .collect();
        if per_process.iter().any(|(_, n)| *n > max) {
            out.push(SessionsLeft {
                object: o.clone(),
                per_process,
            });
        }
    }
    Ok(out)
}

/// Whether an object whose status is `status` takes new traffic: a
/// server `UP` (`UP 1/3`, `UP (agent)`) or without checks, an `OPEN`
/// frontend. `DRAIN`, `MAINT`, `NOLB`, `DOWN`, `STOP` do not.
fn takes_traffic(status: &str) -> bool {
    status_is(status, "UP") || status_is(status, "no check") || status_is(status, "OPEN")
}

/// What a sessions wait remembers from one round to the next: which
/// object (by index) on which process was not taking new traffic when
/// the wait began, and what was left after the last round.
#[derive(Debug, Default)]
pub(crate) struct WaitState {
    held: Option<Vec<(usize, ProcessId)>>,
    last: Vec<SessionsLeft>,
}

/// Every process's `column` of `o` in `snap`.
///
/// # Errors
///
/// [`Error::NotFound`] when the object is not in the snapshot.
fn per_process_of(
    snap: &Snapshot,
    o: &ObjectRef,
    column: &str,
) -> Result<PerProcess<Option<Value>>> {
    Ok(match o.kind {
        ObjectKind::Server | ObjectKind::Listener => snap
            .backend(&o.proxy)?
            .server(&o.name)?
            .metric_per_process(column),
        ObjectKind::Frontend => snap.frontend(&o.proxy)?.metric_per_process(column),
        ObjectKind::Backend => snap.backend(&o.proxy)?.metric_per_process(column),
    })
}

impl WaitState {
    /// A read cut short by the deadline (each round's I/O is bounded by
    /// the time left) is the end of the wait, not a failure to read: what
    /// the last round saw is what is left. `None` before the deadline,
    /// or when no round has seen anything yet.
    pub(crate) fn cut_short(&mut self, end: Instant) -> Option<Vec<SessionsLeft>> {
        (Instant::now() >= end && !self.last.is_empty()).then(|| std::mem::take(&mut self.last))
    }

    /// Fails when an object held out of traffic at the first round takes
    /// traffic again in `snap` (someone set the drained server back to
    /// `ready` mid-wait); remembers what is held at the first round.
    fn check(&mut self, snap: &Snapshot, objects: &[ObjectRef]) -> Result<()> {
        let first = self.held.is_none();
        let mut held = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            for (p, v) in per_process_of(snap, o, "status")? {
                let status = v.as_ref().and_then(Value::as_str).unwrap_or_default();
                let taking = takes_traffic(status);
                if first {
                    if !taking {
                        held.push((i, p));
                    }
                } else if taking
                    && self
                        .held
                        .as_ref()
                        .is_some_and(|h| h.contains(&(i, p.clone())))
                {
                    return Err(Error::WaitUndone {
                        object: o.to_string(),
                        process: p,
                        status: status.to_owned(),
                    });
                }
            }
        }
        if first {
            self.held = Some(held);
        }
        Ok(())
    }
}

/// What a round of a sessions wait decides.
pub(crate) enum WaitRound {
    /// The wait is over: what is left (empty: it succeeded).
    Done(Vec<SessionsLeft>),
    /// Poll again after this long.
    Sleep(Duration),
}

/// One round of [`HAProxy::wait_sessions`] (blocking or async) on a fresh
/// `snap`: a process that could not be read fails the wait; otherwise
/// `progress` hears what is left, and the wait is over when nothing is
/// or `end` has passed.
pub(crate) fn wait_round(
    snap: &Snapshot,
    objects: &[ObjectRef],
    max: u64,
    (end, poll): (Instant, Duration),
    state: &mut WaitState,
    progress: &mut impl FnMut(&[SessionsLeft]),
) -> Result<WaitRound> {
    if let Some(f) = snap.failures().first() {
        if let Some(left) = state.cut_short(end) {
            return Ok(WaitRound::Done(left));
        }
        return Err(Error::WaitUnreadable {
            endpoint: f.endpoint.clone(),
            reason: f.error.to_string(),
        });
    }
    state.check(snap, objects)?;
    let left = sessions_above(snap, objects, max)?;
    progress(&left);
    let now = Instant::now();
    if left.is_empty() || now >= end {
        return Ok(WaitRound::Done(left));
    }
    state.last = left;
    Ok(WaitRound::Sleep(poll.min(end - now)))
}

/// The time a wait's round may take: what is left before `end`, but at
/// least a moment, so that a round always reads.
pub(crate) fn round_budget(end: Instant) -> Duration {
    end.saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100))
}

impl HAProxy {
    /// Polls every `poll` until no object of `objects` has more than
    /// `max` current sessions on any process, or `deadline` has passed.
    /// `progress` is called with what is left after every poll. Returns
    /// what was left at the deadline: empty when the wait succeeded.
    ///
    /// ```no_run
    /// # fn main() -> haproxy_admin::Result<()> {
    /// # let hap = haproxy_admin::HAProxy::from_dir("/run/haproxy")?;
    /// use haproxy_admin::{Command, ObjectKind, ObjectRef, Selection, State};
    /// use std::time::Duration;
    /// let snap = hap.snapshot()?;
    /// let sel = Selection::new().pattern("be_app/*".parse()?).status("UP");
    /// let chosen: Vec<ObjectRef> = snap
    ///     .stat_objects(ObjectKind::Server)
    ///     .iter()
    ///     .filter(|o| sel.matches(o))
    ///     .map(ObjectRef::of)
    ///     .collect();
    /// let mut batch = hap.batch();
    /// for o in &chosen {
    ///     batch.push(Command::set_server_state(&o.proxy, &o.name, State::Drain)?);
    /// }
    /// batch.run()?;
    /// let left = hap.wait_sessions(&chosen, 0, Duration::from_secs(60), Duration::from_millis(250), |_| {})?;
    /// assert!(left.is_empty(), "still busy: {left:?}");
    /// for d in hap.differences(&hap.snapshot()?)? {
    ///     println!("{d}");
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// Every read of the wait ends by its deadline (a frozen process does
    /// not stretch it). An object that was not taking new traffic when
    /// the wait began (`DRAIN`, `MAINT`, a disabled frontend) and takes it
    /// again on some process ends the wait with [`Error::WaitUndone`]:
    /// the sessions it has left no longer mean what the wait was for.
    ///
    /// # Errors
    ///
    /// A process that cannot be read during the wait (its sessions are
    /// unknown, so the wait cannot succeed), an object that is gone
    /// ([`Error::NotFound`]), or [`Error::WaitUndone`].
    pub fn wait_sessions(
        &self,
        objects: &[ObjectRef],
        max: u64,
        deadline: Duration,
        poll: Duration,
        mut progress: impl FnMut(&[SessionsLeft]),
    ) -> Result<Vec<SessionsLeft>> {
        let end = Instant::now() + deadline;
        let mut state = WaitState::default();
        loop {
            // Every read of the round ends by the wait's deadline.
            let snap = match self.within(round_budget(end)).snapshot() {
                Ok(snap) => snap,
                Err(e) => return state.cut_short(end).ok_or(e),
            };
            match wait_round(&snap, objects, max, (end, poll), &mut state, &mut progress)? {
                WaitRound::Done(left) => return Ok(left),
                WaitRound::Sleep(d) => std::thread::sleep(d),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn server(proxy: &str, name: &str, status: &str, scur: u64) -> StatObject {
        let cols: Arc<[Box<str>]> = ["pxname", "svname", "scur", "status", "check_status"]
            .iter()
            .map(|c| Box::<str>::from(*c))
            .collect();
        StatObject::new(
            ObjectKind::Server,
            proxy,
            name,
            cols,
            [
                Value::text(proxy),
                Value::text(name),
                Some(Value::Unsigned(scur)),
                Value::text(status),
                None,
            ]
            .into_iter()
            .map(|v| v.map(Combined::Value)),
        )
    }

    #[test]
    fn patterns() {
        let o = server("be_app", "web-1", "UP", 0);
        for (p, want) in [
            ("be_app/*", true),
            ("*/web-*", true),
            ("be_app/web-1", true),
            ("be_app", true),
            ("be_*/db-*", false),
            ("be_static/*", false),
        ] {
            let p: NamePattern = p.parse().expect("pattern");
            assert_eq!(p.matches(&o), want, "{p}");
        }
        for bad in ["", "/s", "be/", "a/b/c", "be/[x"] {
            assert!(bad.parse::<NamePattern>().is_err(), "{bad}");
        }
        let lit: NamePattern = "be/s1".parse().expect("pattern");
        assert_eq!(lit.literal(), Some(("be", Some("s1"))));
        assert!("be/s*"
            .parse::<NamePattern>()
            .expect("p")
            .literal()
            .is_none());
    }

    #[test]
    fn predicates() {
        let o = server("be", "s1", "UP 1/3", 5);
        for (p, want) in [
            ("scur>0", true),
            ("scur > 4", true),
            ("scur>=5", true),
            ("scur<5", false),
            ("scur!=5", false),
            ("scur=5", true),
            ("status=UP 1/3", true),
            ("status~UP*", true),
            ("name=s1", true),
            ("backend~b?", true),
            ("check_status=", true),
            ("check_status!=", false),
        ] {
            let pr: Predicate = p.parse().expect("predicate");
            assert_eq!(pr.matches(&o), want, "{p}");
        }
        for bad in [
            "scur",
            "=1",
            "sc ur=1",
            "scur>",
            "a~[x",
            "scur>abc",
            "scur<=1x",
            "status>UP",
        ] {
            assert!(bad.parse::<Predicate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn selections() {
        let up = server("be", "s1", "UP 1/3", 0);
        let down = server("be", "s2", "DOWN (agent)", 3);
        let sel = Selection::new().status("down");
        assert!(!sel.matches(&up) && sel.matches(&down));
        let sel = Selection::new().status("UP").status("DOWN");
        assert!(sel.matches(&up) && sel.matches(&down));
        let sel = Selection::new()
            .pattern("be/*".parse().expect("p"))
            .predicate("scur>0".parse().expect("p"));
        assert!(!sel.matches(&up) && sel.matches(&down));
        assert!(!Selection::new().disagreeing().matches(&up));
        assert!(sel.check_columns(&["scur"]).is_ok());
        let unknown = Selection::new().predicate("nope=1".parse().expect("p"));
        assert!(unknown.check_columns(&["scur"]).is_err());
    }

    #[test]
    fn sorting() {
        let mut l = vec![
            server("b", "x", "UP", 2),
            server("a", "y", "UP", 9),
            server("a", "z", "DOWN", 2),
        ];
        sort_objects(&mut l, &SortKey::parse_list("-scur,name").expect("keys"));
        let names: Vec<&str> = l.iter().map(StatObject::name).collect();
        assert_eq!(names, ["y", "x", "z"]);
        sort_objects(&mut l, &SortKey::parse_list("backend,-name").expect("keys"));
        let names: Vec<&str> = l.iter().map(StatObject::name).collect();
        assert_eq!(names, ["z", "y", "x"]);
        assert!(SortKey::parse_list("a,,b").is_err());
    }
}
