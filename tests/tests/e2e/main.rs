//! The end-to-end suite: one test binary, every test against a real haproxy
//! started by the harness in `haproxy_e2e`.

mod admin;
mod asynch;
mod certs;
mod cli;
mod cli_sets;
mod commands;
mod examples;
mod harness;
mod map_safety;
mod mixed;
mod one_path;
mod operator;
mod partial;
mod prometheus;
mod reliability;
mod select;
mod tables;
mod top;
mod transport;
mod verdicts;
mod watch;
