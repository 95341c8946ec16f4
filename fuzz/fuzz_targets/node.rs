#![no_main]
use securecom_fuzz as _;
libfuzzer_sys::fuzz_target!(|data: &[u8]| securecom_proto::fuzzing::node(data));
