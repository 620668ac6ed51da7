//! libFuzzer target `servers_state`: `fuzz::servers_state` on the input (lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::servers_state(&String::from_utf8_lossy(data));
});
