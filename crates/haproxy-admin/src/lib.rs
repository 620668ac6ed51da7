//! Operate every HAProxy process of a host through the Runtime API.
#![deny(missing_docs)]
