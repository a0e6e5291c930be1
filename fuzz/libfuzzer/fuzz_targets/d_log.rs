//! libFuzzer entry point for [`hdb_fuzz::d_log`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hdb_fuzz::d_log(data));
