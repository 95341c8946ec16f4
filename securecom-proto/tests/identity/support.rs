//! Shared helpers: fixture paths and contents.

use std::path::{Path, PathBuf};

/// A file in `tests/fixtures/identity/`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/identity")
        .join(name)
}

/// The text of a file in `tests/fixtures/identity/`.
pub(crate) fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}
