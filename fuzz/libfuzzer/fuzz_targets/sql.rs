//! libFuzzer entry point for [`hdb_fuzz::sql`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hdb_fuzz::sql(data));
