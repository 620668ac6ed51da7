//! libFuzzer target `acl_entries`: `fuzz::acl_entries` on the input (lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::acl_entries(&String::from_utf8_lossy(data));
});
