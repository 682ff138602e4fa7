//! `ccenv allow [DIR]`: trust the project file in its current content, after checking
//! it applies, and say where which key will be sent.

use std::path::PathBuf;

use anyhow::Result;

use crate::config::project::Contents;
use crate::context::Context;
use crate::core::outcome;
use crate::core::resolve;
use crate::output::say;
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
    // What trusting it means: where which key will be sent.
    let p = &resolved.provider;
    let endpoint = p.base_url.as_deref().unwrap_or("the official Anthropic API");
    let key = match &resolved.credential {
        Some(c) => format!("the key from {}", c.describe()),
        None => "no key".into(),
    };
    say(&format!("Claude Code here will send {key} to {endpoint}"));
    let standard = catalog.provider(&p.id).and_then(|c| c.base_url);
    if settings.base_url.is_some() && standard.is_some() && standard.as_deref() != p.base_url.as_deref() {
        say(&format!(
            "warning: this file overrides {}'s endpoint ({}); a file from someone else can use this to collect your key",
            p.id,
            standard.unwrap_or_default()
        ));
    }
    Ok(())
}
