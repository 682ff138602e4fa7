//! `ccenv import`: move a provider out of `~/.claude/settings.json` (where every guide
//! and cc-switch put it) into ccenv without changing what Claude Code does. The endpoint
//! becomes a preset match or a user provider, the key goes into the key store, and the
//! rest is printed as the project file to commit, with the auth style and every model
//! slot exactly as the global file had them. Global preferences (telemetry, proxies)
//! are not the provider and stay where they are. Only with `--remove-from-claude-settings`
//! is the global file touched: what was moved, and every auth variable, go after a backup.

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
use crate::store::keys::{self, FileKeyStore, KeyStore};
use crate::store::paths::Paths;

pub(crate) struct Options {
    pub(crate) name: Option<String>,
    pub(crate) from: Option<PathBuf>,
    pub(crate) remove_from_claude_settings: bool,
    pub(crate) dry_run: bool,
    pub(crate) replace_key: bool,
}

/// What the global file holds, read and checked before anything is written.
struct Found {
    path: PathBuf,
    text: String,
    env: BTreeMap<String, String>,
    base_url: Option<String>,
    auth: Auth,
    key: Option<String>,
}

fn read(path: PathBuf) -> Result<Found> {
    let text = fsutil::read_to_string_limited(&path, 16 * fsutil::MIB)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| anyhow!(claude::json_error(&path, &text, &e)))?;
    let env: BTreeMap<String, String> = doc
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
    if let Some(why) = key.as_deref().and_then(keys::placeholder) {
        let var = if auth == Auth::Bearer { names::AUTH_TOKEN } else { names::API_KEY };
        bail!(
            "{}: the key in {var} is a placeholder, not a key ({why}). Put your real key there, \
             or store it with `ccenv key set NAME`, and import again",
            located(&path, &text, var),
        );
    }
    Ok(Found { path, text, env, base_url, auth, key })
}

/// `path:line:column` of `var`'s value in the settings file's env (just `path` if not found).
fn located(path: &Path, text: &str, var: &str) -> String {
    let at = claude::jsonedit::value_position(text, "env", var)
        .map(|(line, column)| format!(":{line}:{column}"))
        .unwrap_or_default();
    format!("{}{at}", path.display())
}

pub(crate) fn run(opts: Options) -> Result<()> {
    let ctx = Context::from_process()?;
    let paths = &ctx.paths;
    let settings_path = match &opts.from {
        Some(p) => p.clone(),
        None => claude::config_dir(ctx.var("CLAUDE_CONFIG_DIR"))
            .context("cannot find the home folder")?
            .join("settings.json"),
    };
    let found = read(settings_path)?;
    let mut catalog = ctx.catalog()?;
    if let Some(url) = &found.base_url {
        catalog
            .check_base_url(url, crate::config::provider::Protocol::Anthropic)
            .map_err(|m| anyhow!("{}: {m}", located(&found.path, &found.text, names::BASE_URL)))?;
    }
    let id = provider_id(&opts, &found, &catalog)?;
    let config = user_provider(paths, &found, &id, &mut catalog)?;
    let store = FileKeyStore::new(paths.keys());
    let key_action = key_action(&store, &id, found.key.as_deref(), opts.replace_key)?;
    let (project_file, moved, left) = project_file(&id, &found, &catalog)?;

    let dry = if opts.dry_run { "would have " } else { "" };
    if let Some((file, text)) = &config {
        if !opts.dry_run {
            fsutil::write_atomic(file, text.as_bytes())?;
        }
        say(&format!("{dry}added [providers.{id}] to {}", file.display()));
    }
    if let (Some(k), Some(action)) = (&found.key, key_action) {
        if !opts.dry_run && action != "kept" {
            store.set(&id, k)?;
        }
        say(&format!("{dry}{action} key `{id}` ({}) in {}", mask(k), store.describe()));
    }
    emit(&project_file)?;
    say(
        "save the lines above as .claude-provider.toml in each repository that should use this provider, then run `ccenv allow` there",
    );
    settle(&found, moved, &left, &opts)
}

/// The global file: the moved variables and every auth variable are removed (with the
/// flag) or each named in a `left …` line, as is everything that stays.
fn settle(found: &Found, mut moved: Vec<String>, left: &[(String, String)], opts: &Options) -> Result<()> {
    let shown = tilde(&found.path.to_string_lossy());
    let other_auth = other_auth_variable(found);
    if opts.remove_from_claude_settings {
        moved.extend(other_auth.clone());
        remove_from_settings(found, &moved, opts.dry_run)?;
    } else {
        for name in &moved {
            say(&format!(
                "left {name} in {shown}: it beats the hook there; --remove-from-claude-settings moves it"
            ));
        }
        let host = found.base_url.as_deref().unwrap_or("the official API");
        for name in &other_auth {
            say(&format!(
                "left {name} in {shown}: not imported, and Claude Code sends it to {host} beside the \
                 imported key; --remove-from-claude-settings removes it"
            ));
        }
    }
    for (name, why) in left {
        say(&format!("left {name} in {shown}: {why}"));
    }
    Ok(())
}

fn provider_id(opts: &Options, found: &Found, catalog: &Catalog) -> Result<String> {
    let norm = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
    let url = found.base_url.as_deref();
    let all = catalog.providers();
    let preset = url.and_then(|u| all.values().find(|p| p.base_url.as_deref().map(norm) == Some(norm(u))));
    let id = match (&opts.name, preset) {
        (Some(n), _) => n.clone(),
        (None, Some(p)) => p.id.clone(),
        (None, None) => url.map(provider::id_from_url).unwrap_or_else(|| "anthropic".into()),
    };
    if !provider::is_valid_id(&id) {
        bail!("provider id `{id}` may use only a-z, 0-9, `-` and `_`; pass --name");
    }
    if let Some(p) = all.get(&id)
        && url.is_some()
        && p.base_url.as_deref().map(norm) != url.map(norm)
    {
        bail!(
            "provider `{id}` already points at {}; pass --name to import {} under another id",
            p.base_url.as_deref().unwrap_or("the official API"),
            url.unwrap_or("")
        );
    }
    Ok(id)
}

/// A new `[providers.ID]` for an endpoint no provider has: the config file's new text,
/// checked to load, and the catalog updated to include it.
fn user_provider(
    paths: &Paths,
    found: &Found,
    id: &str,
    catalog: &mut Catalog,
) -> Result<Option<(PathBuf, String)>> {
    if catalog.provider(id).is_some() {
        return Ok(None);
    }
    let block = format!(
        "\n# Imported from {} by `ccenv import`.\n[providers.{id}]\nbase_url = {}\nauth = \"{}\"\n",
        tilde(&found.path.to_string_lossy()),
        toml::Value::String(found.base_url.clone().unwrap_or_default()),
        found.auth.as_str()
    );
    let file = paths.user_config();
    let mut text = fsutil::read_to_string_limited(&file, fsutil::MIB).unwrap_or_default();
    text.push_str(&block);
    *catalog = Catalog::with_user_config(&file, &text)?;
    if let Some(e) = catalog.broken.get(id) {
        bail!("internal: the provider block for `{id}` would not load: {e}");
    }
    Ok(Some((file, text)))
}

/// "stored", "replaced" or "kept"; refuses to replace a different key unasked.
fn key_action(
    store: &FileKeyStore,
    id: &str,
    key: Option<&str>,
    replace: bool,
) -> Result<Option<&'static str>> {
    let Some(key) = key else { return Ok(None) };
    Ok(Some(match store.get(id)? {
        None => "stored",
        Some(old) if old == key => "kept",
        Some(_) if replace => "replaced",
        Some(old) => bail!(
            "the key store already holds a different key `{id}` ({}); pass --replace-key to \
             replace it with the imported one ({}), or --name to import under another name",
            mask(&old),
            mask(key)
        ),
    }))
}

/// The auth variable the project will not use: Claude Code would send it to the
/// provider as well (both headers), so it must not stay behind unnamed.
fn other_auth_variable(found: &Found) -> Vec<String> {
    let other = if found.auth == Auth::Bearer { names::API_KEY } else { names::AUTH_TOKEN };
    found.env.contains_key(other).then(|| other.to_string()).into_iter().collect()
}

fn remove_from_settings(found: &Found, names: &[String], dry_run: bool) -> Result<()> {
    let shown = tilde(&found.path.to_string_lossy());
    let edited = claude::jsonedit::remove_members(&found.text, "env", names)?;
    if dry_run {
        say(&format!("would have removed {} from {shown}", names.join(", ")));
        return Ok(());
    }
    let backup = found.path.with_file_name(format!(
        "{}.ccenv-backup-{}",
        found.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    ));
    let permissions = std::fs::metadata(&found.path)?.permissions();
    fsutil::replace_private(&backup, found.text.as_bytes())?;
    fsutil::replace_private(&found.path, edited.as_bytes())?;
    std::fs::set_permissions(&found.path, permissions)?;
    say(&format!("removed {} from {shown} (backup: {})", names.join(", "), backup.display()));
    Ok(())
}

/// Text for the project file, the names it represents, and the names left (with why).
type Sorted = (String, Vec<String>, Vec<(String, String)>);

const SLOTS: [(&str, &str); 6] = [
    ("main", names::MODEL),
    ("opus", names::OPUS_MODEL),
    ("sonnet", names::SONNET_MODEL),
    ("haiku", names::HAIKU_MODEL),
    ("fable", names::FABLE_MODEL),
    ("subagent", names::SUBAGENT_MODEL),
];

/// The project file for `found`, which names went into it, and which stay (with why).
/// Each model slot the global file left empty is written as `""` when the provider
/// would otherwise fill it, so Claude Code sends exactly what it sent before.
fn project_file(id: &str, found: &Found, catalog: &Catalog) -> Result<Sorted> {
    let env = &found.env;
    let q = |v: &str| toml::Value::String(v.to_string()).to_string();
    let value = |var: &str| {
        let v = env.get(var).filter(|v| !v.is_empty()).cloned();
        if var == names::HAIKU_MODEL { v.or_else(|| env.get(names::SMALL_FAST_MODEL).cloned()) } else { v }
    };
    let wanted: BTreeMap<&str, Option<String>> =
        SLOTS.iter().map(|(slot, var)| (*slot, value(var))).collect();
    let provider = catalog.get(id).map_err(|m| anyhow!(m))?;
    let mut out = format!("provider = {}\n", q(id));
    if found.key.is_some() && provider.auth != found.auth {
        out.push_str(&format!(
            "auth = \"{}\"   # as in {}\n",
            found.auth.as_str(),
            tilde(&found.path.to_string_lossy())
        ));
    }
    let probe =
        crate::config::project::parse(Path::new("<import>"), &out).map_err(|d| anyhow!("internal: {d}"))?;
    let r = crate::core::resolve::resolve(&probe, catalog).map_err(|d| anyhow!("internal: {d}"))?;
    let by_default = |slot: &str| match slot {
        "main" => r.provider.model.clone(),
        "opus" => r.provider.models.opus.clone(),
        "sonnet" => r.provider.models.sonnet.clone(),
        "haiku" => r.provider.models.haiku.clone(),
        "fable" => r.provider.models.fable.clone(),
        _ => r.provider.models.subagent.clone(),
    };
    let line = |slot: &str| match (&wanted[slot], by_default(slot)) {
        (Some(m), _) => Some(q(m)),
        (None, Some(_)) => Some("\"\"".to_string()),
        (None, None) => None,
    };
    if let Some(v) = line("main") {
        out.push_str(&format!("model = {v}\n"));
    }
    let roles: Vec<String> =
        SLOTS[1..].iter().filter_map(|(s, _)| line(s).map(|v| format!("{s} = {v}\n"))).collect();
    if !roles.is_empty() {
        out.push_str(&format!("\n[models]\n{}", roles.concat()));
    }
    let (extra, moved, left) = sort_variables(env, found);
    if !extra.is_empty() {
        out.push_str("\n[env]\n");
        out.push_str(&extra);
    }
    Ok((out, moved, left))
}

/// Splits the global env into the project's `[env]` lines, every name that moves (or is
/// represented by the project file), and the names left behind with the reason.
fn sort_variables(env: &BTreeMap<String, String>, found: &Found) -> Sorted {
    let q = |v: &str| toml::Value::String(v.to_string()).to_string();
    let key_var = if found.auth == Auth::Bearer { names::AUTH_TOKEN } else { names::API_KEY };
    let represented = |n: &str| {
        n == names::BASE_URL
            || (n == key_var && found.key.is_some())
            || n == names::SMALL_FAST_MODEL
            || SLOTS.iter().any(|(_, v)| *v == n)
    };
    let (mut extra, mut moved, mut left) = (String::new(), Vec::new(), Vec::new());
    for (name, value) in env {
        if represented(name) {
            moved.push(name.clone());
        } else if name == names::AUTH_TOKEN || name == names::API_KEY {
            continue; // the other auth variable: see other_auth_variable
        } else if !names::is_provider_variable(name) {
            left.push((name.clone(), "a global preference, not the provider; it stays global".into()));
        } else if let Some(why) = names::refusal(name) {
            left.push((name.clone(), why));
        } else {
            extra.push_str(&format!("{name} = {}\n", q(value)));
            moved.push(name.clone());
        }
    }
    (extra, moved, left)
}
