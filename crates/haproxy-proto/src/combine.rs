//! How a value combines across HAProxy processes that serve the same
//! objects. Attached as data to every known field (see [`crate::field`] and
//! [`crate::info`]), never decided by name at run time.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// How the values of one field from several processes make one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Combine {
    /// Add them: counters and current values (sessions, bytes, errors).
    Sum,
    /// Arithmetic mean of the processes that have a value: times, ages,
    /// percentages, per-process averages.
    Average,
    /// The largest: maxima (`qmax`, `smax`, `rate_max`, …).
    Max,
    /// The smallest.
    Min,
    /// Every process must report the same value (names, ids, status,
    /// weight, versions); a difference is data to report, not to hide.
    MustAgree,
    /// Identity-like values where processes legitimately differ and one
    /// is as good as another (pid, process number): take the first.
    First,
}
