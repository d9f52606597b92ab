#![no_main]
//! libFuzzer entry for `traffic_guardian_fuzz::decode_base64`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| traffic_guardian_fuzz::decode_base64(data));
