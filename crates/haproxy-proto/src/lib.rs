//! Pure parsers and a safe command builder for the HAProxy Runtime API.
#![deny(missing_docs)]

pub mod combine;
pub mod command;
pub mod error;
pub mod field;
pub mod info;
pub mod map;
pub mod proc;
pub mod reply;
pub mod servers_state;
pub mod show_errors;
pub mod ssl;
pub mod stat;
pub mod stick_table;
pub mod typed;
pub mod value;

pub use combine::Combine;
pub use error::{
    ArgError, ArgErrorKind, Error, Input, ParseError, ParseErrorKind, Position, Result,
};
pub use field::{Column, ColumnInfo, HeaderColumn, ValueKind};
pub use info::{parse_info, Info, InfoOwned};
pub use map::{
    parse_acl_entries, parse_lookup, parse_map_entries, parse_map_list, MapEntry, MapListing,
    MapLookup,
};
pub use proc::{parse_proc, ProcEntry, ProcKind};
pub use servers_state::{parse_servers_state, ServersState};
pub use show_errors::{parse_errors, ErrorsReport};
pub use stat::{
    parse_stat, parse_stat_with_columns, Cells, Field, OwnedStatTable, StatRecord, StatTable, Value,
};
pub use typed::{parse_typed, TypedField};
pub use value::{Addr, CheckStatus, Mode, ProxyType, Status};

/// The README's snippets, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
