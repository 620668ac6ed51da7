//! Pure parsers and a safe command builder for the HAProxy Runtime API.
#![deny(missing_docs)]
