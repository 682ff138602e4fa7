//! Private, atomic file writes, a cross-process lock for ccenv's stores, and the one
//! way any file is read (non-blocking open, regular files only, capped).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Creates `dir` (and parents) readable by the user only.
pub(crate) fn private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot chmod 700 {}", dir.display()))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to a temporary file in the same folder (mode 0600) and renames it
/// over `path`, so readers see the old content or the new, never a mix.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("path has no parent")?;
    private_dir(dir)?;
    write_then_rename(path, bytes, &private_options())
}

/// `write_atomic` for a file in a folder that is not ccenv's (Claude Code's files in the
/// home folder, `~/.claude`, a project's `.claude`): the file is 0600, as it may hold a
/// key, and the folder's permissions are left alone (a 0700 home breaks other readers).
pub(crate) fn replace_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("path has no parent")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_then_rename(path, bytes, &private_options())
}

/// Replaces `path` with a new file holding `bytes` (mode from the umask, as an editor
/// would make it), by rename: a symlink at `path` is replaced, never written through, and
/// the folder's permissions are left alone (it is the user's project, not a store).
pub(crate) fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    write_then_rename(path, bytes, OpenOptions::new().write(true).create_new(true))
}

/// The temporary file is removed when any step fails, so a full disk leaves no debris.
fn write_then_rename(path: &Path, bytes: &[u8], options: &OpenOptions) -> Result<()> {
    let tmp = temp_name(path);
    let result = (|| -> Result<()> {
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

fn temp_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    path.with_file_name(format!(".{name}.{}.{nanos}.tmp", std::process::id()))
}

pub(crate) fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Holds an exclusive lock on `<dir>/<name>.lock` until dropped, so concurrent
/// read-modify-write cycles on one store do not lose each other's changes.
pub(crate) struct Lock(#[allow(dead_code)] File);

pub(crate) fn lock(dir: &Path, name: &str) -> Result<Lock> {
    private_dir(dir)?;
    let path = dir.join(format!("{name}.lock"));
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    f.lock().with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(Lock(f))
}

/// Reads a text file of at most `max` bytes; a larger one is an error, not a hang or an
/// out-of-memory (a hostile repository or a runaway file can be any size).
pub(crate) fn read_to_string_limited(path: &Path, max: u64) -> std::io::Result<String> {
    let bytes = read_limited(path, max)?;
    String::from_utf8(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// The one way ccenv reads a file: opened without blocking (a FIFO would wait for a
/// writer forever), checked on the opened descriptor to be a regular file (a device or
/// FIFO swapped in after a check is still caught), and read to at most `max` bytes
/// whatever size it reports (/proc files report 0).
pub(crate) fn read_limited(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    read_file(path, max, false)
}

/// `read_limited` for files another local user could plant (project files in a shared
/// folder such as /tmp): one owned by anyone but this user or root is refused.
pub(crate) fn read_owned(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    read_file(path, max, true)
}

fn read_file(path: &Path, max: u64, owned: bool) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "is not a regular file"));
    }
    if owned && let Some(uid) = foreign_owner(path, &meta) {
        return Err(Error::new(ErrorKind::PermissionDenied, format!("is owned by another user (uid {uid})")));
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(Error::new(ErrorKind::InvalidData, format!("is larger than {max} bytes")));
    }
    Ok(bytes)
}

/// The owner of `path` (the link itself, and the file it leads to, as opened) when
/// that is neither this user nor root: git's `safe.directory` rule for project files.
#[cfg(unix)]
pub(crate) fn foreign_owner(path: &Path, opened: &fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let me = unsafe { libc::geteuid() };
    let link = fs::symlink_metadata(path).map(|m| m.uid()).unwrap_or(opened.uid());
    [link, opened.uid()].into_iter().find(|&uid| uid != me && uid != 0)
}

#[cfg(not(unix))]
pub(crate) fn foreign_owner(_path: &Path, _opened: &fs::Metadata) -> Option<u32> {
    None
}

pub(crate) const MIB: u64 = 1024 * 1024;

/// Removes the files in `dir` last modified more than `age` ago (left by shells,
/// snapshots or runs that are gone); a file whose time cannot be read is kept.
pub(crate) fn remove_older_than(dir: &Path, age: std::time::Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|a| a > age);
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}
