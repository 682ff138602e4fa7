//! `ccenv allow [DIR]`: trust the project file in its current content, after checking
//! it applies, and name the one host that will receive which key.

use std::path::PathBuf;

use anyhow::Result;

use crate::config::project::{Contents, Credential};
use crate::context::Context;
use crate::core::outcome;
use crate::core::resolve;
use crate::output::say;
use crate::store::keys::{FileKeyStore, KeyStore};
use crate::store::trust::TrustStore;

pub(crate) fn run(dir: Option<PathBuf>) -> Result<()> {
    let ctx = Context::from_process()?;
    let dir = super::dir_arg(&ctx, dir)?;
    let found = super::find(&dir)?;
    let contents = Contents::read(&found)?;
    // Refuse to trust what would not apply: fix first, then allow.
    let catalog = ctx.catalog()?;
    let settings = contents.settings()?;
    let resolved = resolve::resolve(&settings, &catalog)?;
    TrustStore::new(&ctx.paths.data_dir).allow(&found.root, &contents.digest())?;
    say(&format!("allowed {} (provider {})", outcome::files(&found), resolved.provider.id));
    // What trusting it means: which host receives which key.
    let dest = resolve::destination(&settings, &resolved, &catalog);
    say(&dest.summary);
    for w in &dest.warnings {
        say(w);
    }
    // A settings file (the repository's own `.claude/settings.json` included) whose env
    // Claude Code applies over the shell sends the key elsewhere: said here, where the
    // user decides, not only by the hook afterwards.
    for notice in ctx.at(Some(&dir)).1.conflict_notices() {
        say(&format!("warning: {notice}"));
    }
    if let Some(Credential::Store(n)) = &resolved.credential
        && FileKeyStore::new(ctx.paths.keys()).get(n).ok().flatten().is_none()
    {
        say(&format!("no key stored for `{n}` yet; add it with `ccenv key set {n}`"));
    }
    Ok(())
}
