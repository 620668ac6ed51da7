//! What a `show stat` record describes ([`ObjectKind`]) and the owned,
//! serialisable [`StatObject`]: every column of one object, combined.

use crate::aggregate::Combined;
use crate::value::Value;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::sync::Arc;

/// What a `show stat` record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A frontend (`FRONTEND` row, type 0).
    Frontend,
    /// A backend (`BACKEND` row, type 1).
    Backend,
    /// A server (type 2).
    Server,
    /// A listener (type 3, with `option socket-stats`).
    Listener,
}

impl ObjectKind {
    /// The kind of a record from its `type` column (when the header has
    /// one) or its `svname`.
    pub(crate) fn of(ty: Option<i64>, svname: &str) -> ObjectKind {
        match ty {
            Some(0) => ObjectKind::Frontend,
            Some(1) => ObjectKind::Backend,
            Some(3) => ObjectKind::Listener,
            Some(2) => ObjectKind::Server,
            _ => match svname {
                "FRONTEND" => ObjectKind::Frontend,
                "BACKEND" => ObjectKind::Backend,
                _ => ObjectKind::Server,
            },
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            ObjectKind::Frontend => "frontend",
            ObjectKind::Backend => "backend",
            ObjectKind::Server => "server",
            ObjectKind::Listener => "listener",
        }
    }
}

/// Every `show stat` column of one object under HAProxy's own column name,
/// combined across processes (a must-agree disagreement is every process's
/// value). Serialised as a JSON object in header order; empty fields are
/// `null`.
#[derive(Debug, Clone)]
pub struct StatObject {
    kind: ObjectKind,
    proxy: String,
    name: String,
    columns: Arc<[Box<str>]>,
    /// `(column index, value)` for the non-empty columns, in column order.
    values: Vec<(usize, Combined<Value>)>,
    /// How many processes have the object, out of how many answered.
    processes: (usize, usize),
}

impl StatObject {
    pub(crate) fn new(
        kind: ObjectKind,
        proxy: &str,
        name: &str,
        columns: Arc<[Box<str>]>,
        values: impl Iterator<Item = Option<Combined<Value>>>,
    ) -> StatObject {
        // Gathered in this thread's buffer, then copied into a vector of
        // the exact size (about half the columns are empty): one
        // allocation per object, of what it keeps.
        thread_local! {
            static KEPT: std::cell::RefCell<Vec<(usize, Combined<Value>)>> =
                const { std::cell::RefCell::new(Vec::new()) };
        }
        let values = KEPT.with(|kept| match kept.try_borrow_mut() {
            Ok(mut kept) => {
                kept.extend(values.enumerate().filter_map(|(i, v)| v.map(|v| (i, v))));
                kept.drain(..).collect()
            }
            Err(_) => values
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i, v)))
                .collect(),
        });
        StatObject::from_values(kind, proxy, name, columns, values)
    }

    /// An object of `(column index, value)` pairs, in column order.
    pub(crate) fn from_values(
        kind: ObjectKind,
        proxy: &str,
        name: &str,
        columns: Arc<[Box<str>]>,
        values: Vec<(usize, Combined<Value>)>,
    ) -> StatObject {
        StatObject {
            kind,
            proxy: proxy.to_owned(),
            name: name.to_owned(),
            columns,
            values,
            processes: (1, 1),
        }
    }

    /// Says that `of` processes answered and `have` of them have the
    /// object.
    pub(crate) fn with_processes(mut self, have: usize, of: usize) -> StatObject {
        self.processes = (have, of);
        self
    }

    /// How many processes have this object: every value of it is combined
    /// over these (see [`StatObject::is_partial`]).
    pub fn processes(&self) -> usize {
        self.processes.0
    }

    /// How many processes answered the snapshot the object comes from.
    pub fn of_processes(&self) -> usize {
        self.processes.1
    }

    /// Whether only some of the processes that answered have this object
    /// (its values are theirs alone).
    pub fn is_partial(&self) -> bool {
        self.processes.0 < self.processes.1
    }

    /// Frontend, backend, server or listener.
    pub fn kind(&self) -> ObjectKind {
        self.kind
    }

    /// `pxname`: the proxy (the backend, for a server).
    pub fn proxy(&self) -> &str {
        &self.proxy
    }

    /// `svname`: the server name, or `FRONTEND` / `BACKEND`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The combined value of column `name`; `None` if empty or absent.
    pub fn get(&self, name: &str) -> Option<&Combined<Value>> {
        let i = self.columns.iter().position(|c| &**c == name)?;
        let at = self.values.binary_search_by_key(&i, |(c, _)| *c).ok()?;
        Some(&self.values[at].1)
    }

    /// `(column, value)` for every column, in header order (`None` for an
    /// empty field).
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&Combined<Value>>)> + '_ {
        let mut next = self.values.iter().peekable();
        self.columns.iter().enumerate().map(move |(i, c)| {
            let v = next.next_if(|(col, _)| *col == i).map(|(_, v)| v);
            (&**c, v)
        })
    }

    /// Columns whose processes disagree.
    pub fn disagreements(&self) -> impl Iterator<Item = (&str, &Combined<Value>)> + '_ {
        self.values
            .iter()
            .filter(|(_, v)| v.is_disagreement())
            .map(|(c, v)| (self.columns.get(*c).map_or("", |c| &**c), v))
    }
}

impl Serialize for StatObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (c, v) in self.iter() {
            map.serialize_entry(c, &v)?;
        }
        // An object only some processes have says how many.
        if self.is_partial() {
            map.serialize_entry("processes", &self.processes.0)?;
        }
        map.end()
    }
}
