//! `ccenv claude-settings write|remove`, for the surfaces that never see the shell
//! (the VS Code extension, background agents): the project's non-secret variables go
//! into `.claude/settings.local.json` with an `apiKeyHelper` that asks ccenv for the key,
//! so no secret lands in the file. What was written is recorded, so `remove` takes out
//! exactly that and puts back whatever those keys held before.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, anyhow, bail};
use serde_json::{Map, Value, json};

use crate::claude;
use crate::cli::ClaudeSettingsAction;
use crate::config::names;
use crate::config::project::FILE;
use crate::config::provider::Auth;
use crate::context::Context;
use crate::core::outcome::Evaluation;
use crate::core::outcome::{Outcome, Refusal};
use crate::output::{is_secret_name, say};
use crate::store::fs as fsutil;
use crate::store::paths::Paths;

const LOCAL: &str = ".claude/settings.local.json";

pub(crate) fn run(action: ClaudeSettingsAction) -> Result<()> {
    let ctx = Context::from_process()?;
    match action {
        ClaudeSettingsAction::Write => write(&ctx),
        ClaudeSettingsAction::Remove => remove(&ctx),
    }
}

fn applied_project(ctx: &Context) -> Result<(Evaluation, PathBuf)> {
    let dir = super::cwd(ctx)?;
    let (_, eval) = ctx.at(Some(&dir));
    let root = match (eval.refusal(), eval.found()) {
        (None, Some(found)) => found.root.clone(),
        (Some(Refusal::Denied(root)), _) => bail!("{} is denied; run `ccenv allow` first", root.display()),
        (Some(Refusal::Other(why)), _) => bail!("{why}"),
        _ => bail!("no {FILE} in {} or above", dir.display()),
    };
    Ok((eval, root))
}

fn record_path(paths: &Paths, root: &Path) -> PathBuf {
    paths.data_dir.join("claude-settings").join(format!("{}.json", crate::store::trust::path_id(root)))
}

/// The command Claude Code runs for the key: POSIX sh on macOS/Linux, cmd on Windows.
fn helper_command(exe: &str, root: &Path) -> String {
    let root = root.to_string_lossy();
    if cfg!(windows) {
        format!("\"{exe}\" key helper \"{root}\"")
    } else {
        let q = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
        format!("{} key helper {}", q(exe), q(&root))
    }
}

fn write(ctx: &Context) -> Result<()> {
    let paths = &ctx.paths;
    let (eval, root) = applied_project(ctx)?;
    let Outcome::Applied { resolved, .. } = &eval.outcome else { bail!("no provider applies here") };
    let desired = eval.desired().expect("applied");
    let mut env = Map::new();
    for (name, value) in &desired {
        if let Some(v) = value.as_ref().filter(|_| !is_secret_name(name)) {
            env.insert(name.clone(), Value::String(v.clone()));
        }
    }
    let mut top = Map::new();
    if resolved.provider.auth != Auth::None {
        // apiKeyHelper ranks below both variables: they must be cancelled for it to be used.
        env.insert(names::AUTH_TOKEN.into(), "".into());
        env.insert(names::API_KEY.into(), "".into());
        let exe = std::env::current_exe()?.to_string_lossy().into_owned();
        top.insert("apiKeyHelper".into(), helper_command(&exe, &root).into());
    }

    refuse_links(&root)?;
    let file = root.join(LOCAL);
    let existed = file.exists();
    let mut doc = claude::read_object(&file)?;
    let record = record_path(paths, &root);
    if record.exists() {
        bail!("ccenv already wrote {}; run `ccenv claude-settings remove` first", file.display());
    }
    let doc_env = doc.entry("env").or_insert_with(|| json!({}));
    let doc_env =
        doc_env.as_object_mut().ok_or_else(|| anyhow!("{}: `env` is not an object", file.display()))?;
    let mut previous_env = Map::new();
    for (k, v) in &env {
        previous_env.insert(k.clone(), doc_env.insert(k.clone(), v.clone()).unwrap_or(Value::Null));
    }
    let mut previous_top = Map::new();
    for (k, v) in &top {
        previous_top.insert(k.clone(), doc.insert(k.clone(), v.clone()).unwrap_or(Value::Null));
    }
    fsutil::replace_private(&file, format!("{}\n", serde_json::to_string_pretty(&doc)?).as_bytes())?;
    let written = json!({
        "file": file, "existed": existed,
        "env": env, "previous_env": previous_env, "top": top, "previous_top": previous_top,
    });
    fsutil::write_atomic(&record, serde_json::to_string_pretty(&written)?.as_bytes())?;
    say(&format!(
        "wrote {} variables and an apiKeyHelper into {} (no key in the file)",
        env.len(),
        file.display()
    ));
    ignore_in_git(&root);
    Ok(())
}

/// A repository can commit `.claude` or the settings file as a symlink: writing through
/// it would put this project's endpoint and key helper into another project's settings,
/// or copy whatever JSON file it names into this repository.
fn refuse_links(root: &Path) -> Result<()> {
    for rel in [".claude", LOCAL] {
        let path = root.join(rel);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            bail!(
                "{} is a symlink; ccenv writes Claude Code settings only into the project itself",
                path.display()
            );
        }
    }
    Ok(())
}

/// Keeps the file out of commits: `.git/info/exclude`, which is not itself committed.
fn ignore_in_git(root: &Path) {
    let git = |args: &[&str]| Command::new("git").arg("-C").arg(root).args(args).output();
    match git(&["rev-parse", "--is-inside-work-tree"]) {
        Ok(o) if o.status.success() => {}
        Ok(_) => return,
        Err(_) => {
            say("git is not installed: make sure .claude/settings.local.json is never committed");
            return;
        }
    }
    if git(&["check-ignore", "-q", LOCAL]).is_ok_and(|o| o.status.success()) {
        return;
    }
    let exclude = git(&["rev-parse", "--git-path", "info/exclude"])
        .ok()
        .filter(|o| o.status.success())
        .map(|o| root.join(String::from_utf8_lossy(&o.stdout).trim()));
    let Some(exclude) = exclude else { return };
    let mut text =
        crate::store::fs::read_to_string_limited(&exclude, crate::store::fs::MIB).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("/{LOCAL}\n"));
    if exclude.parent().is_some_and(|d| std::fs::create_dir_all(d).is_ok())
        && std::fs::write(&exclude, text).is_ok()
    {
        say(&format!("added /{LOCAL} to {} so git ignores it", exclude.display()));
    } else {
        say(&format!("could not update {}: add {LOCAL} to .gitignore yourself", exclude.display()));
    }
}

fn remove(ctx: &Context) -> Result<()> {
    let paths = &ctx.paths;
    let dir = super::cwd(ctx)?;
    let found = crate::config::project::discover(&dir)
        .found
        .ok_or_else(|| anyhow!("no {FILE} in {} or above", dir.display()))?;
    let record = record_path(paths, &found.root);
    let written: Value = serde_json::from_str(
        &crate::store::fs::read_to_string_limited(&record, crate::store::fs::MIB).map_err(|_| {
            anyhow!("ccenv has not written Claude Code settings for {}", found.root.display())
        })?,
    )?;
    let file = PathBuf::from(written["file"].as_str().unwrap_or_default());
    refuse_links(&found.root)?;
    let mut doc = claude::read_object(&file)?;
    let restore = |target: &mut Map<String, Value>, ours: &Value, previous: &Value| {
        for (k, v) in ours.as_object().into_iter().flatten() {
            if target.get(k) == Some(v) {
                match previous.get(k) {
                    Some(Value::Null) | None => target.remove(k),
                    Some(p) => target.insert(k.clone(), p.clone()),
                };
            }
        }
    };
    restore(&mut doc, &written["top"], &written["previous_top"]);
    if let Some(env) = doc.get_mut("env").and_then(Value::as_object_mut) {
        restore(env, &written["env"], &written["previous_env"]);
        if env.is_empty() {
            doc.remove("env");
        }
    }
    if doc.is_empty() && written["existed"] == false {
        let _ = std::fs::remove_file(&file);
    } else {
        fsutil::replace_private(&file, format!("{}\n", serde_json::to_string_pretty(&doc)?).as_bytes())?;
    }
    std::fs::remove_file(&record)?;
    say(&format!("removed what ccenv wrote from {}", file.display()));
    Ok(())
}
