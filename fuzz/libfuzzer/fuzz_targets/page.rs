//! libFuzzer entry point for [`hdb_fuzz::page`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hdb_fuzz::page(data));
