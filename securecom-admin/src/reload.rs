//! Asking a running server to reload its user directory.

use std::path::Path;

use crate::AdminError;

/// Sends SIGHUP to the server whose process id is in `pid_file` (written by the server's
/// `--pid-file`): the server reads its user folder again and closes the sessions of keys
/// no longer registered. Returns the process id.
///
/// # Errors
/// [`AdminError::Reload`] naming the pid file: unreadable, not a process id, or the
/// signal refused (no such process, not allowed).
pub fn signal_reload(pid_file: &Path) -> Result<u32, AdminError> {
    let failed = |reason: String| AdminError::Reload {
        pid_file: pid_file.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(pid_file).map_err(|e| failed(e.to_string()))?;
    let pid: u32 = text
        .trim()
        .parse()
        .map_err(|_| failed(format!("{:?} is not a process id", text.trim())))?;
    if pid == 0 {
        return Err(failed("0 is not a process id".into()));
    }
    // The `kill` program, rather than a system call: this crate has no unsafe code and no
    // binding to the C library.
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| failed(format!("cannot run kill: {e}")))?;
    if !status.success() {
        return Err(failed(format!(
            "no process {pid} to signal (is the server running?)"
        )));
    }
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_pid_file_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("securecom-reload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("server.pid");
        let missing = signal_reload(&file).unwrap_err().to_string();
        assert!(missing.contains("server.pid"), "{missing}");
        std::fs::write(&file, "not-a-pid\n").unwrap();
        let garbage = signal_reload(&file).unwrap_err().to_string();
        assert!(garbage.contains("not a process id"), "{garbage}");
        // A process id that cannot exist (above the kernel's pid_max).
        std::fs::write(&file, "4194305\n").unwrap();
        let gone = signal_reload(&file).unwrap_err().to_string();
        assert!(gone.contains("no process 4194305"), "{gone}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
