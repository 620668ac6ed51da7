//! libFuzzer target `map_entries`: `fuzz::map_entries` on the input (lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::map_entries(&String::from_utf8_lossy(data));
});
