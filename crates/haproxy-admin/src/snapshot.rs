//! One concurrent read of every process: `show info` and `show stat`,
//! parsed in each fetch thread, grouped by object across processes.
//! [`fetch`] gets the replies (over the processes, or handed in) and
//! turns them into a [`Snapshot`]; [`model`] is the snapshot and its
//! accessors; [`combine`] makes each object's columns one value across
//! processes.

pub(crate) mod combine;
mod fetch;
mod model;

pub use combine::BorrowedObject;
#[cfg(feature = "tokio")]
#[cfg(feature = "tokio")]
pub(crate) use fetch::parse_replies_into;
pub(crate) use model::ObjectEntry;
pub use model::Snapshot;

/// Listings of at least this many objects are combined on several threads.
const PARALLEL_MIN_OBJECTS: usize = 2048;
