//! libFuzzer target `map_list`: `fuzz::map_list` on the input (lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::map_list(&String::from_utf8_lossy(data));
});
