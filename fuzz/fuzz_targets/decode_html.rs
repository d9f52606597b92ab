#![no_main]
//! libFuzzer entry for `traffic_guardian_fuzz::decode_html`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| traffic_guardian_fuzz::decode_html(data));
