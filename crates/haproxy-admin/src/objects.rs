//! What a `show stat` record describes ([`ObjectKind`]) and the owned,
//! serialisable [`StatObject`]: every column of one object, combined.

use crate::aggregate::{Combined, CombinedRef};
use crate::value::{Value, ValueRef};
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
///
/// Held compactly: 16 bytes per non-empty field, and the object's text
/// (its names and every text value) in one buffer; values are handed out
/// borrowed from it as [`CombinedRef`]s.
#[derive(Debug, Clone)]
pub struct StatObject {
    kind: ObjectKind,
    columns: Arc<[Box<str>]>,
    /// `pxname`, `svname`, then every text value, end to end.
    text: Box<str>,
    /// Where `pxname` ends in `text`, and where `svname` ends.
    names: (u32, u32),
    /// The non-empty columns, in column order.
    slots: Box<[Slot]>,
    /// The values that are more than one number or text: disagreements.
    built: Box<[Combined<Value>]>,
    /// How many processes have the object, out of how many answered.
    processes: (usize, usize),
}

/// One non-empty field of a [`StatObject`]: its column and its value, a
/// number in `bits` or where its text (or built value) is.
#[derive(Debug, Clone, Copy)]
struct Slot {
    col: u32,
    kind: SlotKind,
    /// The number's bits; for text, its start (high half) and end (low
    /// half) in the object's text; for a built value, its index.
    bits: u64,
}

#[derive(Debug, Clone, Copy)]
enum SlotKind {
    Unsigned,
    Signed,
    Float,
    Text,
    Built,
}

/// Gathers one object's values, column after column, into a
/// [`StatObject`]; reused from one object to the next.
#[derive(Debug, Default)]
pub(crate) struct ObjectBuilder {
    text: String,
    slots: Vec<Slot>,
    built: Vec<Combined<Value>>,
}

impl ObjectBuilder {
    /// Adds column `col`'s value (columns in increasing order).
    #[inline]
    pub(crate) fn push(&mut self, col: usize, value: CombinedRef<'_>) {
        let Ok(col) = u32::try_from(col) else {
            return;
        };
        let (kind, bits) = match value {
            CombinedRef::Value(v) => self.value(v),
            CombinedRef::Owned(Combined::Value(v)) => self.value(v.as_ref()),
            CombinedRef::Owned(c) => {
                self.built.push(c);
                (SlotKind::Built, (self.built.len() - 1) as u64)
            }
        };
        self.slots.push(Slot { col, kind, bits });
    }

    #[inline]
    fn value(&mut self, v: ValueRef<'_>) -> (SlotKind, u64) {
        match v {
            ValueRef::Unsigned(n) => (SlotKind::Unsigned, n),
            // `as` keeps the bits; read back as they were.
            ValueRef::Signed(n) => (SlotKind::Signed, n as u64),
            ValueRef::Float(f) => (SlotKind::Float, f.to_bits()),
            ValueRef::Text(t) => {
                let start = self.text.len() as u64;
                self.text.push_str(t);
                (SlotKind::Text, (start << 32) | self.text.len() as u64)
            }
        }
    }

    /// The object of the values pushed since the last call, named
    /// `proxy`/`name`, present in `processes.0` of `processes.1`
    /// processes; the builder is left empty.
    pub(crate) fn finish(
        &mut self,
        kind: ObjectKind,
        proxy: &str,
        name: &str,
        columns: Arc<[Box<str>]>,
        processes: (usize, usize),
    ) -> StatObject {
        // The names first, then the text the values point into, moved up.
        let shift = (proxy.len() + name.len()) as u64;
        let mut text = String::with_capacity(shift as usize + self.text.len());
        text.push_str(proxy);
        text.push_str(name);
        text.push_str(&self.text);
        for s in &mut self.slots {
            if let SlotKind::Text = s.kind {
                s.bits += (shift << 32) | shift;
            }
        }
        let object = StatObject {
            kind,
            columns,
            names: (proxy.len() as u32, shift as u32),
            text: text.into_boxed_str(),
            slots: self.slots.as_slice().into(),
            built: std::mem::take(&mut self.built).into_boxed_slice(),
            processes,
        };
        self.text.clear();
        self.slots.clear();
        object
    }
}

impl StatObject {
    /// An object with `values` for its columns, in column order, as one
    /// process has it (present in 1 process of 1).
    pub(crate) fn new(
        kind: ObjectKind,
        proxy: &str,
        name: &str,
        columns: Arc<[Box<str>]>,
        values: impl Iterator<Item = Option<Combined<Value>>>,
    ) -> StatObject {
        let mut b = ObjectBuilder::default();
        for (col, v) in values.enumerate() {
            if let Some(v) = v {
                b.push(col, CombinedRef::Owned(v));
            }
        }
        b.finish(kind, proxy, name, columns, (1, 1))
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
        self.text.get(..self.names.0 as usize).unwrap_or("")
    }

    /// `svname`: the server name, or `FRONTEND` / `BACKEND`.
    pub fn name(&self) -> &str {
        self.text
            .get(self.names.0 as usize..self.names.1 as usize)
            .unwrap_or("")
    }

    fn value(&self, s: &Slot) -> CombinedRef<'_> {
        let v = match s.kind {
            SlotKind::Unsigned => ValueRef::Unsigned(s.bits),
            SlotKind::Signed => ValueRef::Signed(s.bits as i64),
            SlotKind::Float => ValueRef::Float(f64::from_bits(s.bits)),
            SlotKind::Text => {
                let (start, end) = ((s.bits >> 32) as usize, s.bits as u32 as usize);
                ValueRef::Text(self.text.get(start..end).unwrap_or(""))
            }
            SlotKind::Built => {
                return match self.built.get(s.bits as usize) {
                    Some(c) => CombinedRef::Owned(c.clone()),
                    None => CombinedRef::Value(ValueRef::Text("")),
                }
            }
        };
        CombinedRef::Value(v)
    }

    /// The combined value of column `name`; `None` if empty or absent. A
    /// disagreement is cloned; everything else is borrowed.
    pub fn get(&self, name: &str) -> Option<CombinedRef<'_>> {
        let i = self.columns.iter().position(|c| &**c == name)?;
        let at = self
            .slots
            .binary_search_by_key(&i, |s| s.col as usize)
            .ok()?;
        Some(self.value(&self.slots[at]))
    }

    /// `(column, value)` for every column, in header order (`None` for an
    /// empty field).
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<CombinedRef<'_>>)> + '_ {
        let mut next = self.slots.iter().peekable();
        self.columns.iter().enumerate().map(move |(i, c)| {
            let v = next.next_if(|s| s.col as usize == i).map(|s| self.value(s));
            (&**c, v)
        })
    }

    /// Columns whose processes disagree.
    pub fn disagreements(&self) -> impl Iterator<Item = (&str, &Combined<Value>)> + '_ {
        self.slots.iter().filter_map(|s| match s.kind {
            SlotKind::Built => {
                let v = self.built.get(s.bits as usize)?;
                v.is_disagreement()
                    .then(|| (self.columns.get(s.col as usize).map_or("", |c| &**c), v))
            }
            _ => None,
        })
    }
}

impl Serialize for StatObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        // 2.6's `-` separator column is no field.
        for (c, v) in self
            .iter()
            .filter(|(c, _)| !haproxy_proto::field::is_separator(c))
        {
            map.serialize_entry(c, &v)?;
        }
        // An object only some processes have says how many.
        if self.is_partial() {
            map.serialize_entry("processes", &self.processes.0)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::ProcessId;

    #[test]
    fn every_kind_of_value_reads_back_as_it_was_given() {
        let columns: Arc<[Box<str>]> = ["pxname", "svname", "a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .map(|c| Box::<str>::from(*c))
            .collect();
        let split = Combined::Disagreement {
            values: vec![
                (
                    ProcessId::new(1, None, None),
                    Some(Value::Text("UP".into())),
                ),
                (ProcessId::new(2, None, None), None),
            ],
        };
        let given = [
            Some(Value::Text("be".into())),
            Some(Value::Text("s1".into())),
            Some(Value::Unsigned(u64::MAX)),
            Some(Value::Signed(i64::MIN)),
            Some(Value::Float(0.25)),
            None,
            Some(Value::Text("L7OK é".into())),
            Some(Value::Text(String::new())),
        ]
        .into_iter()
        .map(|v| v.map(Combined::Value))
        .chain([Some(split.clone())]);
        let o = StatObject::new(ObjectKind::Server, "be", "s1", columns, given.clone());
        assert_eq!(
            (o.proxy(), o.name(), o.kind()),
            ("be", "s1", ObjectKind::Server)
        );
        let read: Vec<Option<Combined<Value>>> = o
            .iter()
            .map(|(_, v)| v.map(CombinedRef::into_owned))
            .collect();
        assert_eq!(read, given.collect::<Vec<_>>());
        assert_eq!(
            o.get("e"),
            Some(CombinedRef::Value(ValueRef::Text("L7OK é")))
        );
        assert_eq!(o.get("d"), None);
        assert_eq!(o.get("nope"), None);
        assert_eq!(o.get("g"), Some(CombinedRef::Owned(split.clone())));
        let split_cols: Vec<_> = o.disagreements().map(|(c, v)| (c, v.clone())).collect();
        assert_eq!(split_cols, [("g", split)]);
        let json = serde_json::to_string(&o).expect("json");
        assert_eq!(
            json,
            r#"{"pxname":"be","svname":"s1","a":18446744073709551615,"b":-9223372036854775808,"c":0.25,"d":null,"e":"L7OK é","f":"","g":{"disagreement":[{"process":{"pid":1,"node":null,"started":null},"value":"UP"},{"process":{"pid":2,"node":null,"started":null},"value":null}]}}"#
        );
    }
}
