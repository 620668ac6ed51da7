//! Endpoints, timeouts, retries and sessions for the HAProxy Runtime API.
#![deny(missing_docs)]
