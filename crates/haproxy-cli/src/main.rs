//! haproxy-cli: the operator's tool for the HAProxy Runtime API.
fn main() {}
