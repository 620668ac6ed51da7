//! The end-to-end suite: one test binary, every test against a real haproxy
//! started by the harness in `haproxy_e2e`.

mod admin;
mod cli;
mod commands;
mod harness;
mod prometheus;
mod reliability;
mod transport;
