//! `ccenv key set|list|rm`, and the hidden `key helper DIR` that Claude Code's
//! apiKeyHelper runs.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::cli::KeyAction;
use crate::config::names;
use crate::context::Context;
use crate::core::outcome::Outcome;
use crate::core::resolve::Key;
use crate::output::{emit, mask, say};
use crate::store::keys::{FileKeyStore, KeyStore};

pub(crate) fn run(action: KeyAction) -> Result<()> {
    let ctx = Context::from_process()?;
    let store = FileKeyStore::new(ctx.paths.keys());
    match action {
        KeyAction::Set { name } => set(&store, &name),
        KeyAction::List => list(&store),
        KeyAction::Rm { name } => {
            if !store.remove(&name)? {
                bail!("no key named `{name}`");
            }
            say(&format!("removed `{name}`"));
            Ok(())
        }
        KeyAction::Helper { dir } => helper(&ctx, dir),
    }
}

fn set(store: &FileKeyStore, name: &str) -> Result<()> {
    if !names::is_valid_key_name(name) {
        bail!("key name `{name}` may use only letters, digits, `.`, `-` and `_`");
    }
    let raw = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("key for {name} (input hidden): "))?
    } else {
        let mut s = String::new();
        // A key is one line; a runaway pipe is cut, not held in memory.
        std::io::stdin().take(64 * 1024).read_to_string(&mut s)?;
        s
    };
    let (secret, removed) = crate::store::keys::clean_pasted(&raw)?;
    if !removed.is_empty() {
        say(&format!("removed {} around the key", removed.join(", ")));
    }
    store.set(name, &secret)?;
    say(&format!("stored `{name}` ({}) in {}", mask(&secret), store.describe()));
    Ok(())
}

fn list(store: &FileKeyStore) -> Result<()> {
    let names = store.names()?;
    if names.is_empty() {
        say(&format!("no keys in {}; add one with `ccenv key set NAME`", store.describe()));
    }
    let mut text = String::new();
    for name in names {
        let secret = store.get(&name)?.unwrap_or_default();
        text += &format!("{name:<24} {}\n", mask(&secret));
    }
    emit(&crate::output::escape_lines(&text))
}

/// What the apiKeyHelper runs: the key of the (allowed) project at `dir`.
fn helper(ctx: &Context, dir: PathBuf) -> Result<()> {
    let dir = super::dir_arg(ctx, Some(dir))?;
    let (_, eval) = ctx.at(Some(&dir));
    let secret = match &eval.outcome {
        Outcome::Applied { key: Key::Found { secret, .. }, .. } => secret.clone(),
        Outcome::Applied { key: Key::Placeholder(v), .. } => v.clone(),
        Outcome::Applied { .. } => bail!("{}", eval.notices().join("; ")),
        _ => bail!("no allowed project at {}: {}", dir.display(), eval.notices().join("; ")),
    };
    if std::io::stdout().is_terminal() {
        emit(&format!("{}\n", mask(&secret)))?;
        say("masked because standard output is a terminal; Claude Code reads it through a pipe");
    } else {
        emit(&format!("{secret}\n"))?;
    }
    Ok(())
}
