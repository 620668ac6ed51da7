//! libFuzzer target `proc`: `fuzz::proc` on the input (lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::proc(&String::from_utf8_lossy(data));
});
