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
    let found = super::project_at(&ctx, dir)?;
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
    if let Some(Credential::Store(n)) = &resolved.credential
        && FileKeyStore::new(ctx.paths.keys()).get(n).ok().flatten().is_none()
    {
        say(&format!("no key stored for `{n}` yet; add it with `ccenv key set {n}`"));
    }
    Ok(())
}
