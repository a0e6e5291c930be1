//! libFuzzer entry point for [`hdb_fuzz::wal`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hdb_fuzz::wal(data));
