//! `ccenv deny [DIR]`: block the project file without further notices.

use std::path::PathBuf;

use anyhow::Result;

use crate::context::Context;
use crate::output::say;
use crate::store::trust::TrustStore;

pub(crate) fn run(dir: Option<PathBuf>) -> Result<()> {
    let ctx = Context::from_process()?;
    let found = super::project_at(&ctx, dir)?;
    TrustStore::new(&ctx.paths.data_dir).deny(&found.root)?;
    say(&format!("denied {}", found.root.display()));
    Ok(())
}
