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
pub mod stat;
pub mod typed;
pub mod value;

pub use combine::Combine;
pub use error::{ArgError, ArgErrorKind, Error, Input, ParseError, ParseErrorKind, Position, Result};
