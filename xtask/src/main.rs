//! cargo xtask: automation entry point.
fn main() {}
