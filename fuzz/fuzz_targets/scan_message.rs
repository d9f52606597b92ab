#![no_main]
//! libFuzzer entry for `traffic_guardian_fuzz::scan_message`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| traffic_guardian_fuzz::scan_message(data));
