//! `ccenv allow [DIR]`: trust the project file in its current content, after checking
//! it applies, and name the one host that will receive which key.

use std::path::PathBuf;

use anyhow::Result;

use crate::config::project::{Contents, Credential};
use crate::context::Context;
use crate::core::outcome;
use crate::core::resolve::{self, Key};
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
    // Only a key the store lacks is worth a line; the official API then uses the user's
    // own key or login, which is not a problem to fix.
    if let Some(Credential::Store(n)) = &resolved.credential
        && FileKeyStore::new(ctx.paths.keys()).get(n).ok().flatten().is_none()
    {
        match ctx.lookup_key(&resolved, ctx.inherited().snapshot.as_ref()) {
            Key::Found { source, .. } => say(&format!("Claude Code here uses {source}")),
            Key::OwnLogin(_) => {
                say(&format!("no key stored for `{n}`: Claude Code here uses your Claude login (/login)"))
            }
            Key::Missing { why } => say(&why),
            _ => {}
        }
    }
    Ok(())
}
