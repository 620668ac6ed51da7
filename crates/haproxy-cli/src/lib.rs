//! The library half of `haproxy-cli`: how its results are written, apart
//! from the binary that parses flags and runs subcommands (as ripgrep
//! keeps its printer apart from `main`).
//!
//! - [`output`]: every format (`table`, `json`, `jsonl`, `csv`,
//!   `prometheus`) written from `haproxy-admin`'s typed values
//!   ([`haproxy_admin::StatObject`], [`haproxy_admin::Combined`]) — the
//!   same values a library user gets; nothing is parsed again here.
//! - [`escape`]: control characters made visible in text formats.
//! - [`Failure`]: what a subcommand fails with, and its exit code's kind.
#![deny(missing_docs)]

use clap::ValueEnum;
use haproxy_admin::Error;

/// A line on stderr, as `eprintln!` writes it, but never a panic: when
/// stderr cannot be written (`2>/dev/full`, a closed pipe) the line is
/// lost and the command goes on, its exit code still saying what
/// happened (a change made is not reported as a crash).
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// [`note!`] without the newline (a progress line redrawn in place).
#[macro_export]
macro_rules! note_inline {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut err = std::io::stderr();
        let _ = write!(err, $($arg)*);
        let _ = err.flush();
    }};
}

pub mod escape;
pub mod output;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON: arrays of objects, numbers as numbers, empty fields as null.
    Json,
    /// CSV with a header, every column.
    Csv,
    /// JSON lines: one object per line (listings).
    Jsonl,
    /// Prometheus text exposition format.
    Prometheus,
}

/// What a subcommand can fail with: the library's error, or a usage
/// problem found after parsing (exit 2).
#[derive(Debug)]
pub enum Failure {
    /// The library's error.
    Admin(Error),
    /// A usage problem found after parsing (exit 2).
    Usage(String),
    /// Writing or reading failed, in words.
    Io(String),
    /// A `--wait` reached its deadline (exit 4).
    WaitTimeout(String),
    /// `check` found differences (exit 1; they are on stdout).
    Checked(String),
    /// The reader of stdout went away (`| head`): exit 0 without a word,
    /// as other Unix tools do.
    BrokenPipe,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Admin(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Io(e.to_string())
        }
    }
}

impl Failure {
    /// A JSON writer's failure: a closed pipe, or what went wrong.
    pub fn json(e: serde_json::Error) -> Failure {
        if e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe) {
            Failure::BrokenPipe
        } else {
            Failure::Io(format!("writing JSON: {e}"))
        }
    }
}

/// A subcommand's result.
pub type Result<T = ()> = std::result::Result<T, Failure>;
