//! Per-shell stamp files: the hook compares watched files' times against its shell's
//! stamp to decide, without running ccenv, whether anything changed.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

/// Stamps of shells that have not run ccenv for this long are removed.
const KEEP_UNUSED: Duration = Duration::from_secs(7 * 24 * 3600);

/// Writes this shell's stamp file and returns the time the kernel gave the write, less
/// 1 ns. File times come from the kernel's coarse clock, which can lag the system clock
/// by a tick: a stamp taken from the system clock could be newer than a write that
/// happened after it. Backing off 1 ns makes a write in the same tick count as newer
/// (at worst one extra run). A new shell's first stamp also clears stamps unused for a
/// week; removing a live one is harmless (a missing stamp reads as "changed").
pub(crate) fn begin(path: &Path) -> Result<(fs::File, SystemTime)> {
    let dir = path.parent().context("stamp has a folder")?;
    super::fs::private_dir(dir)?;
    if !path.exists() {
        super::fs::remove_older_than(dir, KEEP_UNUSED);
    }
    // Rewriting the same byte at offset 0: the kernel stamps the write, nothing grows.
    let mut f = fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    f.write_all(b"\n")?;
    let kernel_time = f.metadata()?.modified()?;
    Ok((f, kernel_time - Duration::from_nanos(1)))
}

/// Sets the stamp's time to `started` (from `begin`): the stamp is then older than any
/// change made while this run read its files.
pub(crate) fn finish(stamp: Result<(fs::File, SystemTime)>) -> Option<SystemTime> {
    stamp.and_then(|(f, t)| f.set_modified(t).map(|()| t).map_err(Into::into)).ok()
}
