//! `ccenv init PROVIDER`: write a commented .claude-provider.toml here and allow it.

use anyhow::{Context as _, Result, bail};

use crate::config::project::{self, Contents, FILE};
use crate::config::provider::{Auth, Provider};
use crate::context::Context;
use crate::output::say;
use crate::store::keys::{FileKeyStore, KeyStore};
use crate::store::paths;
use crate::store::trust::TrustStore;

pub(crate) fn run(provider: &str, model: Option<String>, force: bool) -> Result<()> {
    let ctx = Context::from_process()?;
    let catalog = ctx.catalog()?;
    let p = catalog.get(provider).map_err(anyhow::Error::msg)?;
    let dir = super::cwd(&ctx)?;
    let path = dir.join(FILE);
    warn_if_wide(&dir);
    // symlink_metadata: a link (even one to nowhere) counts as there, and is never followed.
    if path.symlink_metadata().is_ok() && !force {
        bail!("{} exists; edit it, or pass --force to replace it", path.display());
    }
    if let Some(m) = &model
        && (m.is_empty() || m.chars().any(char::is_control) || m.contains('"') || m.contains('\\'))
    {
        bail!("--model {m:?} is not a model name");
    }
    let text = template(&p, model.as_deref());
    project::parse(&path, &text).map_err(|d| anyhow::anyhow!("internal: generated file is invalid: {d}"))?;
    // A new file renamed over the name: a committed symlink is replaced, not written through.
    crate::store::fs::replace_file(&path, text.as_bytes())?;
    let found = project::discover(&dir).found.context("the file just written is not found")?;
    let contents = Contents::read(&found)?;
    TrustStore::new(&ctx.paths.data_dir).allow(&found.root, &contents.digest())?;
    say(&format!("wrote and allowed {}", path.display()));
    let has_key = FileKeyStore::new(ctx.paths.keys()).get(&p.id).ok().flatten().is_some();
    if !has_key && p.auth != Auth::None && p.placeholder_key.is_none() && !p.key_optional {
        say(&format!("next: store the key with `ccenv key set {}`", p.id));
    }
    Ok(())
}

/// `/`, the home folder or the temporary folder: every folder below would use it.
fn warn_if_wide(dir: &std::path::Path) {
    let wide = [
        (Some(std::path::PathBuf::from("/")), "the root folder"),
        (dirs::home_dir(), "your home folder"),
        (Some(std::env::temp_dir()), "the temporary folder"),
    ];
    if let Some((_, what)) = wide.iter().find(|(w, _)| w.as_deref().is_some_and(|w| paths::same_dir(w, dir)))
    {
        say(&format!(
            "warning: {} is {what}, not a repository: every folder below it would use this \
             provider. Run `ccenv init` inside the repository instead (or remove this file)",
            dir.display()
        ));
    }
}

fn template(p: &Provider, model: Option<&str>) -> String {
    let model_line = match (model, &p.model) {
        (Some(m), _) => format!("model = \"{m}\"\n"),
        (None, Some(m)) => {
            format!("# model = \"{m}\"          # the preset's default; set one to pin it\n")
        }
        (None, None) => {
            "# model = \"...\"          # ANTHROPIC_MODEL, and roles the preset leaves open\n".into()
        }
    };
    format!(
        "# Claude Code provider for this repository, applied by ccenv (https://crates.io/crates/ccenv).\n\
         # Commit this file; it never holds a key. Keys: `ccenv key set {id}`.\n\
         # After any edit, review and run `ccenv allow` again.\n\
         provider = \"{id}\"\n\
         {model_line}\
         # credential = \"{id}\"     # stored key name (default: the provider id), or \"env:VAR\"\n\
         # base_url = \"https://...\"   # overrides the preset endpoint (no trailing /v1)\n\
         \n\
         # [models]                 # each: the preset's role, then `model`; \"\" sends none\n\
         # opus = \"...\"\n\
         # sonnet = \"...\"\n\
         # haiku = \"...\"\n\
         # fable = \"...\"\n\
         # subagent = \"...\"\n\
         \n\
         # [env]                    # extra variables, string values\n\
         # API_TIMEOUT_MS = \"600000\"\n",
        id = p.id
    )
}
