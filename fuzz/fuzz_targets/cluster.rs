#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| securecom_proto::fuzzing::cluster(data));
