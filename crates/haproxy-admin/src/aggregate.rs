//! The aggregation engine: how one field's values from several processes
//! make one value, driven by [`Combine`] — the data attached to every field
//! in `haproxy-proto`'s tables, never decided by name here.
//!
//! - [`Combine::Sum`], [`Combine::Average`], [`Combine::Max`],
//!   [`Combine::Min`] skip processes that have no value (an empty field),
//!   and give `None` when none has one. A value that cannot be added or
//!   ordered (text where a number was expected) turns the field into a
//!   must-agree field, so nothing is silently dropped.
//! - [`Combine::MustAgree`] gives the agreed value, or a
//!   [`Combined::Disagreement`] with every process's value (absent values
//!   included: one process without the field disagrees with one that has
//!   it).
//! - [`Combine::First`] takes the first process's value.

use crate::process::ProcessId;
use crate::value::{Value, ValueRef};
use haproxy_proto::Combine;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

/// The value of one field across processes: the one value they make, or
/// — for a must-agree field whose processes differ — every process's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Combined<T> {
    /// The combined (or agreed) value.
    Value(T),
    /// The processes disagree on a must-agree field: every process's value,
    /// in process order (`None`: the process has no value for it).
    Disagreement {
        /// `(process, value)` for every process that has the object.
        values: Vec<(ProcessId, Option<T>)>,
    },
}

impl<T> Combined<T> {
    /// The value, or `None` for a disagreement.
    pub fn agreed(&self) -> Option<&T> {
        match self {
            Combined::Value(v) => Some(v),
            Combined::Disagreement { .. } => None,
        }
    }

    /// Whether the processes disagree.
    pub fn is_disagreement(&self) -> bool {
        matches!(self, Combined::Disagreement { .. })
    }

    /// Maps the value(s).
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Combined<U> {
        match self {
            Combined::Value(v) => Combined::Value(f(v)),
            Combined::Disagreement { values } => Combined::Disagreement {
                values: values
                    .into_iter()
                    .map(|(p, v)| (p, v.map(&mut f)))
                    .collect(),
            },
        }
    }
}

impl<T: fmt::Display> Combined<T> {
    /// The agreed value, or [`crate::Error::InconsistentData`] naming `what`
    /// and every process's value.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InconsistentData`] when the processes disagree.
    pub fn into_value(self, what: impl Into<String>) -> crate::Result<T> {
        match self {
            Combined::Value(v) => Ok(v),
            Combined::Disagreement { values } => Err(crate::Error::InconsistentData {
                what: what.into(),
                values: values
                    .into_iter()
                    .map(|(p, v)| (p, v.map(|v| v.to_string())))
                    .collect(),
            }),
        }
    }
}

/// A combined value as [`crate::BorrowedObject`] gives it: borrowed from the
/// snapshot where nothing had to be built, owned where something had (a
/// disagreement, an average). Serialises exactly as the
/// [`Combined<Value>`](Combined) it stands for.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CombinedRef<'a> {
    /// A value read or combined from the snapshot's fields.
    Value(ValueRef<'a>),
    /// A value that was built.
    Owned(Combined<Value>),
}

impl CombinedRef<'_> {
    /// The owned combined value.
    pub fn into_owned(self) -> Combined<Value> {
        match self {
            CombinedRef::Value(v) => Combined::Value(v.to_value()),
            CombinedRef::Owned(c) => c,
        }
    }

    /// The value when the processes agree, owned; `None` for a
    /// disagreement.
    pub fn agreed(&self) -> Option<Value> {
        match self {
            CombinedRef::Value(v) => Some(v.to_value()),
            CombinedRef::Owned(c) => c.agreed().cloned(),
        }
    }

    /// The value when the processes agree, borrowed; `None` for a
    /// disagreement.
    pub fn value(&self) -> Option<ValueRef<'_>> {
        match self {
            CombinedRef::Value(v) => Some(*v),
            CombinedRef::Owned(c) => c.agreed().map(Value::as_ref),
        }
    }

    /// Whether the processes disagree.
    pub fn is_disagreement(&self) -> bool {
        matches!(self, CombinedRef::Owned(c) if c.is_disagreement())
    }
}

impl<'a> From<&'a Combined<Value>> for CombinedRef<'a> {
    /// An agreed value borrowed; a disagreement cloned.
    fn from(c: &'a Combined<Value>) -> CombinedRef<'a> {
        match c {
            Combined::Value(v) => CombinedRef::Value(v.as_ref()),
            Combined::Disagreement { .. } => CombinedRef::Owned(c.clone()),
        }
    }
}

impl Serialize for CombinedRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CombinedRef::Value(v) => v.serialize(s),
            CombinedRef::Owned(c) => c.serialize(s),
        }
    }
}

/// Serialised as the bare value, or as
/// `{"disagreement": [{"process": …, "value": …}, …]}`.
impl<T: Serialize> Serialize for Combined<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Entries<'a, T>(&'a [(ProcessId, Option<T>)]);
        impl<T: Serialize> Serialize for Entries<'_, T> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                #[derive(Serialize)]
                struct Entry<'a, T> {
                    process: &'a ProcessId,
                    value: &'a Option<T>,
                }
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for (process, value) in self.0 {
                    seq.serialize_element(&Entry { process, value })?;
                }
                seq.end()
            }
        }
        match self {
            Combined::Value(v) => v.serialize(s),
            Combined::Disagreement { values } => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("disagreement", &Entries(values))?;
                map.end()
            }
        }
    }
}

/// What the engine needs of a value: adding, averaging and ordering, each
/// of which may be impossible for a given pair (text), and equality.
pub trait Merge: Clone + PartialEq {
    /// `self + other`, or `None` when they cannot be added (text, overflow).
    fn add(&self, other: &Self) -> Option<Self>;
    /// `self / count` (the mean of a sum), or `None` when not a number.
    fn div(&self, count: usize) -> Option<Self>;
    /// The order of two values, or `None` when they cannot be ordered.
    fn order(&self, other: &Self) -> Option<Ordering>;
}

macro_rules! merge_int {
    ($($t:ty),*) => {$(
        impl Merge for $t {
            fn add(&self, other: &Self) -> Option<Self> {
                self.checked_add(*other)
            }
            fn div(&self, count: usize) -> Option<Self> {
                let count = <$t>::try_from(count).ok()?;
                self.checked_div(count)
            }
            fn order(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
    )*};
}
merge_int!(u32, u64, i64);

impl Merge for f64 {
    fn add(&self, other: &Self) -> Option<Self> {
        Some(self + other)
    }
    fn div(&self, count: usize) -> Option<Self> {
        (count > 0).then(|| self / count as f64)
    }
    fn order(&self, other: &Self) -> Option<Ordering> {
        self.partial_cmp(other)
    }
}

impl Merge for String {
    fn add(&self, _: &Self) -> Option<Self> {
        None
    }
    fn div(&self, _: usize) -> Option<Self> {
        None
    }
    fn order(&self, _: &Self) -> Option<Ordering> {
        None
    }
}

impl Merge for Value {
    fn add(&self, other: &Self) -> Option<Self> {
        self.checked_add(other)
    }
    fn div(&self, count: usize) -> Option<Self> {
        self.checked_div(count)
    }
    fn order(&self, other: &Self) -> Option<Ordering> {
        self.numeric_cmp(other)
    }
}

/// Combines `values` — one `(process, value)` per process that has the
/// object, in process order — as `how` says. `None` when no process has a
/// value (or, for must-agree, when all agree there is none).
pub fn combine<T: Merge>(how: Combine, values: &[(ProcessId, Option<T>)]) -> Option<Combined<T>> {
    let only: Vec<Option<T>> = values.iter().map(|(_, v)| v.clone()).collect();
    combine_indexed(how, &only, |i| values[i].0.clone())
}

/// [`combine`] over values in process order, `id(i)` naming the process of
/// `values[i]`, called only to report a disagreement (no identity is
/// cloned on the common path).
pub(crate) fn combine_indexed<T: Merge>(
    how: Combine,
    values: &[Option<T>],
    id: impl Fn(usize) -> ProcessId,
) -> Option<Combined<T>> {
    let fold = |f: &dyn Fn(&T, &T) -> Option<T>| match fold_values(values, f) {
        Folded::None => None,
        Folded::Value(v) => Some(Combined::Value(v)),
        Folded::Impossible => must_agree(values, &id),
    };
    match how {
        Combine::First => values.first().cloned().flatten().map(Combined::Value),
        Combine::MustAgree => must_agree(values, &id),
        Combine::Sum => fold(&|a, b| a.add(b)),
        Combine::Max => fold(&|a, b| {
            a.order(b).map(|o| {
                if o == Ordering::Less {
                    b.clone()
                } else {
                    a.clone()
                }
            })
        }),
        Combine::Min => fold(&|a, b| {
            a.order(b).map(|o| {
                if o == Ordering::Greater {
                    b.clone()
                } else {
                    a.clone()
                }
            })
        }),
        Combine::Average => {
            let count = values.iter().filter(|v| v.is_some()).count();
            match fold_values(values, &|a: &T, b: &T| a.add(b)) {
                Folded::None => None,
                Folded::Value(sum) => match sum.div(count) {
                    Some(mean) => Some(Combined::Value(mean)),
                    None => must_agree(values, &id),
                },
                Folded::Impossible => must_agree(values, &id),
            }
        }
        // A way of combining this crate does not know yet is taken as the
        // strictest: one value where the processes agree, else a
        // disagreement, never a figure it cannot vouch for.
        _ => must_agree(values, &id),
    }
}

enum Folded<T> {
    None,
    Value(T),
    Impossible,
}

fn fold_values<T: Merge>(values: &[Option<T>], f: &dyn Fn(&T, &T) -> Option<T>) -> Folded<T> {
    let mut acc: Option<T> = None;
    for v in values.iter().flatten() {
        acc = Some(match acc {
            None => v.clone(),
            Some(a) => match f(&a, v) {
                Some(x) => x,
                None => return Folded::Impossible,
            },
        });
    }
    acc.map_or(Folded::None, Folded::Value)
}

fn must_agree<T: Clone + PartialEq>(
    values: &[Option<T>],
    id: &dyn Fn(usize) -> ProcessId,
) -> Option<Combined<T>> {
    if values.windows(2).all(|w| w[0] == w[1]) {
        values.first().cloned().flatten().map(Combined::Value)
    } else {
        Some(Combined::Disagreement {
            values: values
                .iter()
                .enumerate()
                .map(|(i, v)| (id(i), v.clone()))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Case<T> = (Combine, &'static [Option<T>], Option<T>);

    fn pid(n: u32) -> ProcessId {
        ProcessId::new(n, None, None)
    }

    fn vals<T: Clone>(v: &[Option<T>]) -> Vec<(ProcessId, Option<T>)> {
        v.iter()
            .enumerate()
            .map(|(i, v)| (pid(i as u32 + 1), v.clone()))
            .collect()
    }

    #[test]
    fn numbers_combine_per_table() {
        use Combine::*;
        let cases: &[Case<u64>] = &[
            (Sum, &[Some(1), Some(2), Some(3)], Some(6)),
            (Sum, &[Some(1), None, Some(3)], Some(4)),
            (Sum, &[None, None], None),
            (Sum, &[], None),
            (Average, &[Some(10), Some(20)], Some(15)),
            (Average, &[Some(10), None, Some(20)], Some(15)),
            (Average, &[Some(1), Some(2)], Some(1)),
            (Max, &[Some(3), Some(9), Some(4)], Some(9)),
            (Min, &[Some(3), Some(9), Some(4)], Some(3)),
            (Min, &[None, Some(9)], Some(9)),
            (First, &[Some(7), Some(8)], Some(7)),
            (First, &[None, Some(8)], None),
            (MustAgree, &[Some(5), Some(5), Some(5)], Some(5)),
            (MustAgree, &[None, None], None),
        ];
        for (how, input, want) in cases {
            let got = combine(*how, &vals(input));
            assert_eq!(got, want.map(Combined::Value), "{how:?} of {input:?}");
        }
    }

    #[test]
    fn must_agree_reports_every_value() {
        let cases: &[&[Option<u64>]] = &[
            &[Some(1), Some(2)],
            &[Some(1), None],
            &[None, Some(1), Some(1)],
        ];
        for input in cases {
            let got = combine(Combine::MustAgree, &vals(input));
            assert_eq!(
                got,
                Some(Combined::Disagreement {
                    values: vals(input)
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn sum_overflow_and_text_become_must_agree() {
        let got = combine(Combine::Sum, &vals(&[Some(u64::MAX), Some(1)]));
        assert!(
            matches!(got, Some(Combined::Disagreement { .. })),
            "{got:?}"
        );
        let text = vals(&[Some("UP".to_owned()), Some("UP".to_owned())]);
        assert_eq!(
            combine(Combine::Sum, &text),
            Some(Combined::Value("UP".to_owned()))
        );
        let text = vals(&[Some("UP".to_owned()), Some("DOWN".to_owned())]);
        assert!(combine(Combine::Average, &text).is_some_and(|c| c.is_disagreement()));
    }

    #[test]
    fn values_mix_signed_unsigned_and_float() {
        let cases: &[Case<Value>] = &[
            (
                Combine::Sum,
                &[Some(Value::Unsigned(2)), Some(Value::Signed(-1))],
                Some(Value::Unsigned(1)),
            ),
            (
                Combine::Sum,
                &[Some(Value::Unsigned(1)), Some(Value::Signed(-3))],
                Some(Value::Signed(-2)),
            ),
            (
                Combine::Average,
                &[Some(Value::Unsigned(1)), Some(Value::Unsigned(2))],
                Some(Value::Unsigned(1)),
            ),
            (
                Combine::Average,
                &[Some(Value::Float(1.0)), Some(Value::Unsigned(2))],
                Some(Value::Float(1.5)),
            ),
            (
                Combine::Max,
                &[Some(Value::Signed(-1)), Some(Value::Unsigned(3))],
                Some(Value::Unsigned(3)),
            ),
        ];
        for (how, input, want) in cases {
            assert_eq!(
                combine(*how, &vals(input)),
                want.clone().map(Combined::Value),
                "{how:?} {input:?}"
            );
        }
    }

    #[test]
    fn into_value_names_what_and_every_process() {
        let c: Combined<u64> = Combined::Disagreement {
            values: vals(&[Some(1), None]),
        };
        match c.into_value("weight of be/s") {
            Err(crate::Error::InconsistentData { what, values }) => {
                assert_eq!(what, "weight of be/s");
                assert_eq!(values, vec![(pid(1), Some("1".to_owned())), (pid(2), None)]);
            }
            other => panic!("expected InconsistentData, got {other:?}"),
        }
        assert_eq!(Combined::Value(3u64).into_value("x").ok(), Some(3));
    }

    #[test]
    fn serialises_value_bare_and_disagreement_per_process() {
        let json = serde_json::to_string(&Combined::Value(3u64)).expect("serialises");
        assert_eq!(json, "3");
        let d: Combined<u64> = Combined::Disagreement {
            values: vals(&[Some(1), None]),
        };
        let json = serde_json::to_string(&d).expect("serialises");
        assert_eq!(
            json,
            r#"{"disagreement":[{"process":{"pid":1,"node":null,"started":null},"value":1},{"process":{"pid":2,"node":null,"started":null},"value":null}]}"#
        );
    }
}
