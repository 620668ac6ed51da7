//! Pure parsers and a safe command builder for the HAProxy Runtime API.
#![deny(missing_docs)]

pub mod combine;
pub mod error;
pub mod reply;

pub use combine::Combine;
pub use error::{
    ArgError, ArgErrorKind, Error, Input, ParseError, ParseErrorKind, Position, Result,
};
