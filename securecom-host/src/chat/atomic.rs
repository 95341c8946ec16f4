//! Replacing a file atomically, never through a file or link someone else put in place.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;

/// Temporary names tried before giving up (a taken random name means someone is guessing
/// or planting them).
const ATTEMPTS: usize = 4;

/// Replaces `path` with `contents`: through a temporary file with a random name in the same
/// directory (see [`write_with_names`]).
pub(crate) fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_with_names(path, contents, || temp_name(path))
}

/// Replaces `path` with `contents` through a temporary file in the same directory, named
/// by `name`: created exclusively (`O_CREAT | O_EXCL`, which also refuses to follow a
/// symbolic link at that name) with mode 0600, written, synced, renamed over `path`; then
/// the directory is synced. A temporary name that is taken is never used: another is
/// drawn, [`ATTEMPTS`] times at most. On failure the temporary file is removed.
pub(super) fn write_with_names(
    path: &Path,
    contents: &[u8],
    mut name: impl FnMut() -> io::Result<OsString>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut taken = None;
    for _ in 0..ATTEMPTS {
        let tmp = dir.join(name()?);
        match create_exclusive(&tmp) {
            Ok(file) => {
                let done = finish(file, &tmp, path, dir, contents);
                if done.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                return done;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => taken = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(taken.unwrap_or_else(|| io::Error::other("no temporary name available")))
}

fn create_exclusive(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

fn finish(mut file: File, tmp: &Path, path: &Path, dir: &Path, contents: &[u8]) -> io::Result<()> {
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(tmp, path)?;
    // The rename itself reaches the disk with the directory.
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// `.NAME.RANDOM.tmp` beside `path`: 128 random bits, so nobody can plant it in advance.
fn temp_name(path: &Path) -> io::Result<OsString> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
    let mut name = OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".");
    for b in random {
        name.push(format!("{b:02x}"));
    }
    name.push(".tmp");
    Ok(name)
}
