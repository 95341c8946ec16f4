//! Integration tests of `securecom_proto::identity`: OpenSSL-made keys, and properties.
//! (Key files on disk, the `openssl` command line reading what we write, and the
//! folder-backed user directory are securecom-host's: `securecom-host/tests/key_files.rs`.)

#[path = "identity/support.rs"]
mod support;

#[path = "identity/fixtures.rs"]
mod fixtures;
#[path = "identity/properties.rs"]
mod properties;
