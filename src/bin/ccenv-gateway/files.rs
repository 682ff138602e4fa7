//! The gateway's files in ccenv's data folder (found the way ccenv finds it:
//! `CCENV_DATA_DIR`, else the platform data folder + `ccenv`): the per-user token, the
//! state file of the running server, the usage database and the detached server's log.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub(crate) struct Files {
    pub dir: PathBuf,
}

impl Files {
    pub(crate) fn from_env() -> Result<Files> {
        let dir = match std::env::var_os("CCENV_DATA_DIR").filter(|v| !v.is_empty()) {
            Some(v) => PathBuf::from(v),
            None => dirs::data_dir()
                .map(|d| d.join("ccenv"))
                .context("cannot find the data folder; set CCENV_DATA_DIR")?,
        };
        Ok(Files { dir })
    }

    pub(crate) fn state(&self) -> PathBuf {
        ccenv::store::gateway::state_path(&self.dir)
    }
    /// Held by the running gateway (see `lifecycle::take_lock`).
    pub(crate) fn lock(&self) -> PathBuf {
        ccenv::store::gateway::lock_path(&self.dir)
    }
    pub(crate) fn usage_db(&self) -> PathBuf {
        self.dir.join("usage.sqlite3")
    }
    pub(crate) fn log(&self) -> PathBuf {
        ccenv::store::gateway::log_path(&self.dir)
    }

    /// The per-user gateway token, created on first use: the same one ccenv hands to
    /// shells (one function creates it for both).
    pub(crate) fn load_or_create_token(&self) -> Result<String> {
        ccenv::store::gateway::token(&self.dir)
    }

    /// Writes `text` to `path` via a private temporary file and a rename, so a reader
    /// sees the old state or the new one, never half of one.
    pub(crate) fn write_private(&self, path: &Path, text: &str) -> Result<()> {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let mut f = create_private(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
    }
}

/// Opens a new file readable by its owner only (0600 on Unix; the per-user data folder
/// on Windows), creating the folder too.
pub(crate) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// At most `cap` bytes of a file; `None` when it does not exist.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<Option<String>> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut s = String::new();
    f.take(cap).read_to_string(&mut s).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(s))
}
