//! The gateway's files in ccenv's data folder (found the way ccenv finds it:
//! `CCENV_DATA_DIR`, else the platform data folder + `ccenv`): the per-user token, the
//! state file of the running server, the usage database and the detached server's log.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

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

    pub(crate) fn token(&self) -> PathBuf {
        self.dir.join("gateway.token")
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
        self.dir.join("gateway.log")
    }

    /// The per-user gateway token, created on first use. 32 random bytes as hex: it only
    /// opens this machine's gateway, and only to processes of this user who can read it.
    pub(crate) fn load_or_create_token(&self) -> Result<String> {
        let path = self.token();
        if let Some(t) = read_capped(&path, 256)? {
            let t = t.trim().to_string();
            if t.len() < 32 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!("{} is not a gateway token; delete it and run again", path.display());
            }
            return Ok(t);
        }
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness for the gateway token: {e}"))?;
        let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        match create_private(&path) {
            Ok(mut f) => {
                f.write_all(token.as_bytes()).with_context(|| format!("writing {}", path.display()))?
            }
            // Another process created it first: theirs is the token.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return self.load_or_create_token(),
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
        Ok(token)
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
