//! `ccenv watch [DIR]`: one JSON line on stdout each time what applies in DIR changes
//! (project file, `.local` file, user config, key store, trust), for editor plugins
//! and status bars. The first line is the state at start. Keys are masked.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Result;
use notify::{RecursiveMode, Watcher};

use crate::cmd::status::report;
use crate::context::Context;
use crate::store::fs as fsutil;

pub(crate) fn run(dir: Option<PathBuf>) -> Result<()> {
    let ctx = Context::from_process()?;
    let paths = &ctx.paths;
    let dir = super::dir_arg(&ctx, dir)?;
    // Folders that may not exist yet are created so they can be watched.
    for d in [paths.config_dir.clone(), paths.data_dir.join("allow"), paths.data_dir.join("deny")] {
        fsutil::private_dir(&d)?;
    }
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = tx.send(event);
    })?;
    let mut watched =
        vec![paths.config_dir.clone(), paths.data_dir.join("allow"), paths.data_dir.join("deny")];
    watched.extend(dir.ancestors().map(PathBuf::from));
    // A folder that does not exist or cannot be read is not watched. A folder deleted and
    // made again is a new inode that the old watch does not see: after every change the
    // folders are watched again (a no-op for those still watched).
    let rewatch = |watcher: &mut notify::RecommendedWatcher| {
        for d in &watched {
            let _ = watcher.watch(d, RecursiveMode::NonRecursive);
        }
    };
    rewatch(&mut watcher);

    let mut last = String::new();
    let mut out = std::io::stdout().lock();
    loop {
        let (inherited, eval) = ctx.at(Some(&dir));
        let mut report = report(&ctx, &eval, &inherited);
        if let Some(map) = report.as_object_mut() {
            map.remove("shell");
            map.insert("dir".into(), dir.to_string_lossy().into());
        }
        let line = crate::output::json_line(&report);
        if line != last {
            // A closed pipe ends the watch.
            if out.write_all(format!("{line}\n").as_bytes()).and_then(|()| out.flush()).is_err() {
                return Ok(());
            }
            last = line;
        }
        if rx.recv().is_err() {
            return Ok(());
        }
        // Editors save in several steps: wait for the burst to end.
        while rx.recv_timeout(Duration::from_millis(60)).is_ok() {}
        rewatch(&mut watcher);
    }
}
