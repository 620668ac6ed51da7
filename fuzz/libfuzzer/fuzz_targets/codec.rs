//! libFuzzer target `codec`: the reply codec, fed the input cut at
//! points the input chooses (`fuzz::codec`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::codec(data);
});
