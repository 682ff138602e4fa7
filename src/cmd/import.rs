//! `ccenv import`: move a provider out of `~/.claude/settings.json` (where every guide
//! and cc-switch put it) into ccenv. The endpoint becomes a preset match or a user
//! provider, the key goes into the key store, and the rest is printed as the project
//! file to commit. Only with `--remove-from-claude-settings` is the global file touched:
//! exactly the imported variables are removed, after a backup, keeping everything else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::Value;

use crate::claude;
use crate::config::names;
use crate::config::provider::{self, Auth, Catalog};
use crate::context::Context;
use crate::output::{emit, mask, say, tilde};
use crate::store::fs as fsutil;
use crate::store::keys::{FileKeyStore, KeyStore};
use crate::store::paths::Paths;

pub(crate) struct Options {
    pub(crate) name: Option<String>,
    pub(crate) from: Option<PathBuf>,
    pub(crate) remove_from_claude_settings: bool,
}

/// The provider found in a settings file's `env`.
struct Found {
    base_url: Option<String>,
    auth: Auth,
    key: Option<String>,
}

pub(crate) fn run(opts: Options) -> Result<()> {
    let ctx = Context::from_process()?;
    let settings_path = match opts.from {
        Some(p) => p,
        None => claude::config_dir(ctx.var("CLAUDE_CONFIG_DIR"))
            .context("cannot find the home folder")?
            .join("settings.json"),
    };
    let (text, env) = read_env(&settings_path)?;
    let found = find_provider(&settings_path, &env)?;
    let catalog = ctx.catalog()?;
    let id = provider_id(&ctx.paths, &catalog, &settings_path, &found, opts.name.as_deref())?;
    let mut imported: Vec<String> =
        [names::BASE_URL].iter().map(|s| s.to_string()).filter(|n| env.contains_key(n)).collect();
    imported.extend(store_key(&ctx.paths, &id, &found)?);

    let (project_file, moved, left) = project_file(&id, &env);
    imported.extend(moved);
    emit(&project_file)?;
    say(
        "save the lines above as .claude-provider.toml in each repository that should use this provider, then run `ccenv allow` there",
    );
    for (name, why) in &left {
        say(&format!("left {name} in {}: {why}", tilde(&settings_path.to_string_lossy())));
    }
    if opts.remove_from_claude_settings {
        remove_imported(&settings_path, &text, &imported)?;
    } else {
        say(
            "the variables stay in the global file, where they beat the hook: rerun with --remove-from-claude-settings to move them",
        );
    }
    Ok(())
}

/// The settings file's text and its `env` as strings.
fn read_env(path: &Path) -> Result<(String, BTreeMap<String, String>)> {
    let text = fsutil::read_to_string_limited(path, 16 * fsutil::MIB)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow!("{}:{}:{}: not valid JSON: {e}", path.display(), e.line(), e.column()))?;
    let env = doc
        .get("env")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            Value::Number(_) | Value::Bool(_) => Some((k.clone(), v.to_string())),
            _ => None,
        })
        .collect();
    Ok((text, env))
}

fn find_provider(path: &Path, env: &BTreeMap<String, String>) -> Result<Found> {
    let get = |n: &str| env.get(n).filter(|v| !v.is_empty()).cloned();
    let base_url = get(names::BASE_URL);
    let (auth, key) = match (get(names::AUTH_TOKEN), get(names::API_KEY)) {
        (Some(t), _) => (Auth::Bearer, Some(t)),
        (None, Some(k)) => (Auth::XApiKey, Some(k)),
        (None, None) => (Auth::Bearer, None),
    };
    if base_url.is_none() && key.is_none() {
        bail!("{} sets neither ANTHROPIC_BASE_URL nor a key in its env: nothing to import", path.display());
    }
    Ok(Found { base_url, auth, key })
}

/// The id to import under: `--name`, the preset with this endpoint, or one made from
/// the host, added to config.toml when it is new.
fn provider_id(
    paths: &Paths,
    catalog: &Catalog,
    path: &Path,
    found: &Found,
    name: Option<&str>,
) -> Result<String> {
    let base_url = found.base_url.as_deref();
    if let Some(url) = base_url {
        catalog.check_base_url(url).map_err(|m| anyhow!("{}: {m}", path.display()))?;
    }
    let norm = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
    let all = catalog.providers();
    let preset =
        base_url.and_then(|u| all.values().find(|p| p.base_url.as_deref().map(norm) == Some(norm(u))));
    let id = match (name, preset) {
        (Some(n), _) => n.to_string(),
        (None, Some(p)) => p.id.clone(),
        (None, None) => base_url.map(id_from_url).unwrap_or_else(|| "anthropic".into()),
    };
    if !provider::is_valid_id(&id) {
        bail!("provider id `{id}` may use only a-z, 0-9, `-` and `_`; pass --name");
    }
    match all.get(&id) {
        Some(p) if base_url.is_none() || p.base_url.as_deref().map(norm) == base_url.map(norm) => {}
        Some(p) => bail!(
            "provider `{id}` already points at {}; pass --name to import {} under another id",
            p.base_url.as_deref().unwrap_or("the official API"),
            base_url.unwrap_or("")
        ),
        None => add_provider(paths, path, &id, found)?,
    }
    Ok(id)
}

fn add_provider(paths: &Paths, path: &Path, id: &str, found: &Found) -> Result<()> {
    let block = format!(
        "\n# Imported from {} by `ccenv import`.\n[providers.{id}]\nbase_url = {}\nauth = \"{}\"\n",
        tilde(&path.to_string_lossy()),
        toml::Value::String(found.base_url.clone().unwrap_or_default()),
        found.auth.as_str()
    );
    let config = paths.user_config();
    let mut text =
        crate::store::fs::read_to_string_limited(&config, crate::store::fs::MIB).unwrap_or_default();
    text.push_str(&block);
    // Refuse to write a config that would not load.
    Catalog::with_user_config(&config, &text)?;
    fsutil::write_atomic(&config, text.as_bytes())?;
    say(&format!("added [providers.{id}] to {}", config.display()));
    Ok(())
}

/// Stores the key under `id`; returns the variable it came from.
fn store_key(paths: &Paths, id: &str, found: &Found) -> Result<Option<String>> {
    let Some(k) = &found.key else {
        return Ok(None);
    };
    let store = FileKeyStore::new(paths.keys());
    let replaced = store.get(id)?.is_some_and(|old| &old != k);
    store.set(id, k)?;
    say(&format!(
        "{} key `{id}` ({}) in {}",
        if replaced { "replaced" } else { "stored" },
        mask(k),
        store.describe()
    ));
    Ok(Some(if found.auth == Auth::Bearer { names::AUTH_TOKEN } else { names::API_KEY }.to_string()))
}

/// Takes exactly the imported variables out of the settings file, after a backup.
fn remove_imported(path: &Path, text: &str, imported: &[String]) -> Result<()> {
    let backup = path.with_file_name(format!(
        "{}.ccenv-backup-{}",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    ));
    let permissions = std::fs::metadata(path)?.permissions();
    fsutil::write_atomic(&backup, text.as_bytes())?;
    let edited = claude::jsonedit::remove_members(text, "env", imported)?;
    fsutil::write_atomic(path, edited.as_bytes())?;
    std::fs::set_permissions(path, permissions)?;
    say(&format!(
        "removed {} from {} (backup: {})",
        imported.join(", "),
        tilde(&path.to_string_lossy()),
        backup.display()
    ));
    Ok(())
}

/// `https://llm.corp.example/anthropic` → `llm-corp-example`.
fn id_from_url(url: &str) -> String {
    let host = url.split("://").nth(1).unwrap_or(url).split(['/', ':']).next().unwrap_or("");
    let host = host.strip_prefix("api.").unwrap_or(host).to_ascii_lowercase();
    let id: String = host.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).take(40).collect();
    match id.trim_matches('-') {
        "" => "imported".into(),
        id => id.to_string(),
    }
}

/// The project file for `env`, which names went into it, and which stay (with why).
fn project_file(id: &str, env: &BTreeMap<String, String>) -> (String, Vec<String>, Vec<(String, String)>) {
    let q = |v: &str| toml::Value::String(v.to_string()).to_string();
    let mut moved = Vec::new();
    let mut take = |name: &str| {
        let v = env.get(name).filter(|v| !v.is_empty()).cloned();
        if env.contains_key(name) {
            moved.push(name.to_string());
        }
        v
    };
    let model = take(names::MODEL);
    let roles = [
        ("opus", take(names::OPUS_MODEL)),
        ("sonnet", take(names::SONNET_MODEL)),
        ("haiku", take(names::HAIKU_MODEL).or(take(names::SMALL_FAST_MODEL))),
        ("subagent", take(names::SUBAGENT_MODEL)),
    ];
    let mut out = format!("provider = {}\n", q(id));
    if let Some(m) = &model {
        out.push_str(&format!("model = {}\n", q(m)));
    }
    let roles: Vec<_> = roles
        .into_iter()
        .filter_map(|(r, v)| v.filter(|v| Some(v) != model.as_ref()).map(|v| (r, v)))
        .collect();
    if !roles.is_empty() {
        out.push_str("\n[models]\n");
        for (r, v) in roles {
            out.push_str(&format!("{r} = {}\n", q(&v)));
        }
    }
    let handled = [names::BASE_URL, names::AUTH_TOKEN, names::API_KEY];
    let mut extra = String::new();
    let mut left = Vec::new();
    for (name, value) in env {
        if handled.contains(&name.as_str()) || moved.contains(name) {
            continue;
        }
        match names::refusal(name) {
            None => {
                extra.push_str(&format!("{name} = {}\n", q(value)));
                moved.push(name.clone());
            }
            Some(why) => left.push((name.clone(), why)),
        }
    }
    if !extra.is_empty() {
        out.push_str("\n[env]\n");
        out.push_str(&extra);
    }
    (out, moved, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_hosts() {
        assert_eq!(id_from_url("https://llm.corp.example/anthropic"), "llm-corp-example");
        assert_eq!(id_from_url("https://api.example.com:8443/x"), "example-com");
        assert_eq!(id_from_url("http://127.0.0.1:4000"), "127-0-0-1");
    }
}
