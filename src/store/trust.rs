//! `ccenv allow` / `ccenv deny` records. One file per project root, named by the
//! SHA-256 of the root's path; an allow record also holds the SHA-256 of the project
//! files' content, so any edit, a moved project or a changed `.local` file needs a new
//! `ccenv allow`.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::core::hex;
use crate::store::fs as fsutil;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trust {
    Allowed,
    /// `ccenv deny` was run here: stay quiet.
    Denied,
    /// Never allowed.
    Unknown,
    /// Allowed once, edited since.
    Changed,
}

pub(crate) struct TrustStore {
    dir: PathBuf,
}

impl TrustStore {
    pub(crate) fn new(data_dir: &Path) -> Self {
        TrustStore { dir: data_dir.to_path_buf() }
    }

    /// The two record files for `root`: the hook watches both.
    pub(crate) fn records(&self, root: &Path) -> [PathBuf; 2] {
        let id = path_id(root);
        [self.dir.join("allow").join(&id), self.dir.join("deny").join(&id)]
    }

    pub(crate) fn check(&self, root: &Path, digest: &str) -> Result<Trust> {
        let [allow, deny] = self.records(root);
        if deny.exists() {
            return Ok(Trust::Denied);
        }
        let text = match fsutil::read_to_string_limited(&allow, 64 * 1024) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Trust::Unknown),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", allow.display())),
        };
        // Line 1: the root, escaped to one line (for people reading the folder; the file
        // name already holds the exact bytes); line 2: the content digest. Records from
        // before the escaping hold the root as it was, which matches when it has no
        // control character.
        let mut lines = text.lines();
        let (recorded_root, recorded_digest) = (lines.next(), lines.next());
        if recorded_root.is_some_and(|r| same_root(r, &record_line(root))) && recorded_digest == Some(digest)
        {
            Ok(Trust::Allowed)
        } else {
            Ok(Trust::Changed)
        }
    }

    pub(crate) fn allow(&self, root: &Path, digest: &str) -> Result<()> {
        let [allow, deny] = self.records(root);
        let _lock = fsutil::lock(&self.dir, "trust")?;
        fsutil::write_atomic(&allow, format!("{}\n{digest}\n", record_line(root)).as_bytes())?;
        remove_if_present(&deny)
    }

    pub(crate) fn deny(&self, root: &Path) -> Result<()> {
        let [allow, deny] = self.records(root);
        let _lock = fsutil::lock(&self.dir, "trust")?;
        fsutil::write_atomic(&deny, format!("{}\n", record_line(root)).as_bytes())?;
        remove_if_present(&allow)
    }
}

fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// `root` on one line: a newline in a folder name cannot split the record.
fn record_line(root: &Path) -> String {
    crate::output::escape(&root.to_string_lossy())
}

/// Whether a recorded root names `root`: case-insensitive on Windows, as paths are there.
fn same_root(recorded: &str, root: &str) -> bool {
    if cfg!(unix) { recorded == root } else { recorded.to_lowercase() == root.to_lowercase() }
}

/// A file name for records about `root` (case-insensitive on Windows, as paths are).
pub(crate) fn path_id(root: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(root.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = root.to_string_lossy().to_lowercase().into_bytes();
    hex(&Sha256::digest(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_covers_path_and_content() {
        let data = tempfile::tempdir().unwrap();
        let store = TrustStore::new(data.path());
        let (a, b) = (Path::new("/w/a"), Path::new("/w/b"));
        assert_eq!(store.check(a, "d1").unwrap(), Trust::Unknown);
        store.allow(a, "d1").unwrap();
        assert_eq!(store.check(a, "d1").unwrap(), Trust::Allowed);
        assert_eq!(store.check(a, "d2").unwrap(), Trust::Changed);
        assert_eq!(store.check(b, "d1").unwrap(), Trust::Unknown, "a moved project is not allowed");
        store.deny(a).unwrap();
        assert_eq!(store.check(a, "d1").unwrap(), Trust::Denied);
        store.allow(a, "d1").unwrap();
        assert_eq!(store.check(a, "d1").unwrap(), Trust::Allowed);
    }
}
