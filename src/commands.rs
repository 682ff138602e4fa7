//! What each command does. Data goes to stdout, messages to stderr.

use std::fs;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::json;

use crate::cli::{KeyAction, ShellName};
use crate::engine::{self, Evaluation, Outcome};
use crate::envdiff::Op;
use crate::keystore::{self, FileKeyStore, KeyStore};
use crate::names;
use crate::paths::{self, Paths};
use crate::project::{self, Contents, FILE};
use crate::resolve::{self, Key};
use crate::shell::{self, Shell};
use crate::trust::TrustStore;

pub fn say(message: &str) {
    eprintln!("ccenv: {message}");
}

/// Writes a command's whole output to stdout in one write. Several small writes race a
/// reader that stops early (`ccenv status --json | grep -q …`): a write after it has gone
/// gets SIGPIPE, and under `set -o pipefail` the pipeline fails although grep matched.
pub fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn exe_path() -> Result<String> {
    let exe = std::env::current_exe().context("cannot find the ccenv binary's path")?;
    exe.to_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("the path of the ccenv binary is not UTF-8: {}", exe.display()))
}

pub fn hook(shell: ShellName) -> Result<()> {
    let shell = shell::from_name(shell.as_str()).expect("clap offers known shells");
    emit(&shell::hook(shell, &exe_path()?))
}

/// Renders every operation, or refuses the lot when one value cannot be carried safely.
fn render(shell: &dyn Shell, ops: &[Op], mask_secrets: bool) -> Result<String> {
    for op in ops {
        if let Op::Set(name, value) = op
            && let Some(why) = shell.refuse(value)
        {
            bail!(
                "this shell cannot carry {name} safely: the value {why}. Nothing was changed; \
                     use Clink (`ccenv hook cmd`) or PowerShell"
            );
        }
    }
    let mut out = String::new();
    for op in ops {
        out.push_str(&match op {
            Op::Set(n, v) if mask_secrets && engine::is_secret_name(n) => shell.export(n, &keystore::mask(v)),
            Op::Set(n, v) => shell.export(n, v),
            Op::Unset(n) => shell.unset(n),
        });
    }
    Ok(out)
}

/// The hook's work when something changed: apply, restore, and tell the hook what to
/// watch. Always exits 0 with complete output, so a bad file never breaks the prompt.
pub fn hook_env(shell_name: &str, shell_pid: u32, said: &str) -> Result<()> {
    let shell = shell::from_name(shell_name).ok_or_else(|| anyhow!("unknown shell `{shell_name}`"))?;
    let paths = Paths::from_env()?;
    // Before reading anything: whatever changes after this point is newer than the stamp.
    let stamp_file = paths.stamp(shell_pid);
    let stamp = begin_stamp(&stamp_file);
    let inherited = engine::inherited(&paths);
    let eval = engine::evaluate(paths::current_dir().as_deref(), &paths, inherited.snapshot.as_ref());

    let mut out = String::new();
    let mut messages = Vec::new();
    // direnv, mise or a script applied `ccenv export` here and will restore it: two tools
    // changing the same variables would fight, so the hook stands down (and plans nothing).
    let external = inherited.state.as_ref().is_some_and(|s| s.external);
    match (!external).then(|| engine::plan(&eval, &inherited, &paths, false)) {
        None => {}
        Some(Ok(plan)) => {
            match render(shell, &engine::ops_with_state(&plan), false) {
                Ok(text) => out.push_str(&text),
                Err(e) => messages.push(format!("{e:#}")),
            }
            messages.extend(plan.messages);
            if std::env::var_os("CCENV_QUIET").is_none_or(|v| v.is_empty())
                && let Some(a) = engine::announcement(&eval, &inherited)
            {
                say(&a);
            }
        }
        // Without a place for the restore state nothing new is applied (leaving could not
        // restore it), and whatever was applied is unloaded, which needs no new state.
        Some(Err(e)) => {
            let unload = engine::unload(&inherited);
            out.push_str(&render(shell, &engine::ops_with_state(&unload), false)?);
            messages.push(format!("provider not applied: cannot save the restore state: {e:#}"));
        }
    }

    let said_now = if messages.is_empty() { String::new() } else { short_hash(&messages.join("\n")) };
    if said_now != said {
        for m in &messages {
            say(m);
        }
    }
    let (present, absent): (Vec<PathBuf>, Vec<PathBuf>) = eval.watch.into_iter().partition(|p| p.exists());
    // Without a stamp every prompt re-checks: slower, never wrong.
    // Back the stamp off to 1 ns before its own write (see begin_stamp).
    let (stamp_path, started) =
        match stamp.and_then(|(f, t)| f.set_modified(t).map(|()| t).map_err(Into::into)) {
            Ok(t) => (stamp_file.to_string_lossy().into_owned(), t),
            Err(_) => (String::new(), SystemTime::UNIX_EPOCH),
        };
    out.push_str(&shell.set_path_list("__ccenv_present", &present));
    out.push_str(&shell.set_path_list("__ccenv_absent", &absent));
    out.push_str(&shell.stamp(&stamp_path, started));
    out.push_str(&shell.set_local("__ccenv_said", &said_now));
    emit(&out)
}

/// Writes this shell's stamp file and returns the time the kernel gave the write, less
/// 1 ns. File times come from the kernel's coarse clock, which can lag the system clock
/// by a tick: a stamp taken from the system clock could be newer than a write that
/// happened after it. Backing off 1 ns makes a write in the same tick count as newer
/// (at worst one extra run). A new shell's first stamp also clears stamps unused for a
/// week; removing a live one is harmless (a missing stamp reads as "changed").
fn begin_stamp(path: &Path) -> Result<(fs::File, SystemTime)> {
    let dir = path.parent().context("stamp has a folder")?;
    crate::fsutil::private_dir(dir)?;
    if !path.exists() {
        let now = SystemTime::now();
        let week = std::time::Duration::from_secs(7 * 24 * 3600);
        for entry in fs::read_dir(dir)?.flatten() {
            let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(now);
            if now.duration_since(modified).unwrap_or_default() > week {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    // Rewriting the same byte at offset 0: the kernel stamps the write, nothing grows.
    let mut f = fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    f.write_all(b"\n")?;
    let kernel_time = f.metadata()?.modified()?;
    Ok((f, kernel_time - std::time::Duration::from_nanos(1)))
}

fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    project::hex(&Sha256::digest(text.as_bytes())[..8])
}

pub fn export(shell: Option<ShellName>, json: bool, blank_removed: bool) -> Result<()> {
    let paths = Paths::from_env()?;
    let inherited = engine::inherited(&paths);
    let eval = engine::evaluate(paths::current_dir().as_deref(), &paths, inherited.snapshot.as_ref());
    let plan = engine::plan(&eval, &inherited, &paths, true)?;
    for m in &plan.messages {
        say(m);
    }
    let mut ops = engine::ops_with_state(&plan);
    if blank_removed {
        for op in &mut ops {
            if let Op::Unset(name) = op {
                *op = Op::Set(std::mem::take(name), String::new());
            }
        }
    }
    let mask = std::io::stdout().is_terminal();
    let text = if json {
        let mut set = serde_json::Map::new();
        let mut unset = Vec::new();
        for op in &ops {
            match op {
                Op::Set(n, v) if mask && engine::is_secret_name(n) => {
                    set.insert(n.clone(), keystore::mask(v).into())
                }
                Op::Set(n, v) => set.insert(n.clone(), v.clone().into()),
                Op::Unset(n) => {
                    unset.push(n.clone());
                    None
                }
            };
        }
        format!("{}\n", serde_json::to_string_pretty(&json!({ "set": set, "unset": unset }))?)
    } else {
        let shell =
            shell::from_name(shell.expect("clap requires --shell or --json").as_str()).expect("known");
        render(shell, &ops, mask)?
    };
    if mask && ops.iter().any(|op| matches!(op, Op::Set(n, _) if engine::is_secret_name(n))) {
        say("keys are masked because standard output is a terminal; pipe or eval the output to apply it");
    }
    emit(&text)
}

fn project_at(dir: Option<PathBuf>) -> Result<project::Found> {
    let dir = match dir {
        Some(d) => d,
        None => paths::current_dir().context("the current directory no longer exists")?,
    };
    let dir = if dir.is_absolute() { dir } else { std::env::current_dir()?.join(dir) };
    project::discover(&dir).found.ok_or_else(|| {
        anyhow!("no {FILE} in {} or above; create one with `ccenv init PROVIDER`", dir.display())
    })
}

pub fn allow(dir: Option<PathBuf>) -> Result<()> {
    let paths = Paths::from_env()?;
    let found = project_at(dir)?;
    let contents = Contents::read(&found)?;
    // Refuse to trust what would not apply: fix first, then allow.
    let catalog = engine::load_catalog(&paths).map_err(|e| anyhow!(e))?;
    let settings = contents.settings()?;
    let resolved = resolve::resolve(&settings, &catalog)?;
    TrustStore::new(&paths.data_dir).allow(&found.root, &contents.digest())?;
    let files: Vec<String> =
        [&found.main, &found.local].into_iter().flatten().map(|p| p.display().to_string()).collect();
    say(&format!("allowed {} (provider {})", files.join(" + "), resolved.provider.id));
    // What trusting it means: where which key will be sent.
    let p = &resolved.provider;
    let endpoint = p.base_url.as_deref().unwrap_or("the official Anthropic API");
    let key = match &resolved.credential {
        Some(c) => format!("the key from {}", c.describe()),
        None => "no key".into(),
    };
    say(&format!("Claude Code here will send {key} to {endpoint}"));
    let standard = catalog.providers.get(&p.id).and_then(|c| c.base_url.clone());
    if settings.base_url.is_some() && standard.is_some() && standard.as_deref() != p.base_url.as_deref() {
        say(&format!(
            "warning: this file overrides {}'s endpoint ({}); a file from someone else can use this to collect your key",
            p.id,
            standard.unwrap_or_default()
        ));
    }
    Ok(())
}

pub fn deny(dir: Option<PathBuf>) -> Result<()> {
    let paths = Paths::from_env()?;
    let found = project_at(dir)?;
    TrustStore::new(&paths.data_dir).deny(&found.root)?;
    say(&format!("denied {}", found.root.display()));
    Ok(())
}

pub fn status(json_out: bool) -> Result<()> {
    let paths = Paths::from_env()?;
    let inherited = engine::inherited(&paths);
    let dir = paths::current_dir();
    let eval = engine::evaluate(dir.as_deref(), &paths, inherited.snapshot.as_ref());
    let report = status_report(&eval, &inherited);
    if json_out {
        return emit(&format!("{}\n", serde_json::to_string_pretty(&report)?));
    }
    let get = |k: &str| report.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let mut lines = Vec::new();
    lines.push(("state", get("state").unwrap_or_default()));
    if let Some(files) = report.get("files").and_then(|f| f.as_array()) {
        let files: Vec<&str> = files.iter().filter_map(|f| f.as_str()).collect();
        lines.push(("file", files.join(" + ")));
    }
    if let Some(e) = get("error") {
        lines.push(("error", e));
    }
    if let Some(p) = report.get("provider") {
        let s = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
        lines.push(("provider", format!("{} — {} [{}]", s("id"), s("name"), s("origin"))));
        lines.push(("endpoint", s("base_url")));
        lines.push(("auth", format!("{} via {}", s("auth"), s("key_variable"))));
        lines.push(("key", s("key")));
        let m = &p["models"];
        let role = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
        lines.push((
            "models",
            format!(
                "main {} · opus {} · sonnet {} · haiku {} · subagent {}",
                role("main"),
                role("opus"),
                role("sonnet"),
                role("haiku"),
                role("subagent")
            ),
        ));
        if let Some(env) = p.get("env").and_then(|e| e.as_object()).filter(|e| !e.is_empty()) {
            let pairs: Vec<String> =
                env.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect();
            lines.push(("env", pairs.join(" ")));
        }
    }
    lines.push(("shell", get("shell").unwrap_or_default()));
    emit(&lines.iter().map(|(k, v)| format!("{k:<9} {v}\n")).collect::<String>())
}

pub fn status_report(eval: &Evaluation, inherited: &engine::Inherited) -> serde_json::Value {
    let mut r = serde_json::Map::new();
    let state = match &eval.outcome {
        Outcome::NoProject => "no project file here or above",
        Outcome::Gone => "the current directory no longer exists",
        Outcome::Denied { .. } => "denied (ccenv allow to undo)",
        Outcome::Blocked { changed: false, .. } => "blocked: not allowed yet (review, then ccenv allow)",
        Outcome::Blocked { changed: true, .. } => "blocked: changed since allowed (review, then ccenv allow)",
        Outcome::Invalid { .. } => "invalid",
        Outcome::Applied { .. } => "allowed",
    };
    r.insert("state".into(), state.into());
    if let Some(found) = eval.found() {
        r.insert("root".into(), found.root.to_string_lossy().into());
        let files: Vec<String> = [&found.main, &found.local]
            .into_iter()
            .flatten()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        r.insert("files".into(), files.into());
    }
    if let Outcome::Invalid { error, .. } = &eval.outcome {
        r.insert("error".into(), error.clone().into());
    }
    if let Outcome::Applied { resolved, key, .. } = &eval.outcome {
        let p = &resolved.provider;
        let (key_text, key_source) = match key {
            Key::Found { secret, source } => {
                (format!("{} from {source}", keystore::mask(secret)), Some(source.clone()))
            }
            Key::Placeholder(v) => (format!("placeholder `{v}` (the server ignores keys)"), None),
            Key::NotNeeded => ("none needed".into(), None),
            Key::Missing { why } => (format!("missing: {why}"), None),
        };
        r.insert(
            "provider".into(),
            json!({
                "id": p.id, "name": p.name, "origin": p.origin,
                "base_url": p.base_url.clone().unwrap_or_else(|| "(official Anthropic API)".into()),
                "auth": p.auth.as_str(),
                "key_variable": p.auth.variables().0.unwrap_or("(none)"),
                "key": key_text, "key_source": key_source,
                "models": {
                    "main": p.model, "opus": p.models.opus, "sonnet": p.models.sonnet,
                    "haiku": p.models.haiku, "subagent": p.models.subagent,
                },
                "env": p.env,
            }),
        );
    }
    let shell = match (&inherited.state, std::env::var(names::PROVIDER).ok()) {
        (Some(s), Some(p)) => format!("applied in this shell: {p} from {}", s.root),
        (Some(s), None) => format!("applied in this shell from {}", s.root),
        (None, _) => "nothing applied in this shell (is the hook installed? see `ccenv hook --help`)".into(),
    };
    r.insert("shell".into(), shell.into());
    serde_json::Value::Object(r)
}

pub fn init(provider: &str, model: Option<String>, force: bool) -> Result<()> {
    let paths = Paths::from_env()?;
    let catalog = engine::load_catalog(&paths).map_err(|e| anyhow!(e))?;
    let p = catalog.get(provider).map_err(|e| anyhow!(e))?;
    let dir = paths::current_dir().context("the current directory no longer exists")?;
    let path = dir.join(FILE);
    if path.exists() && !force {
        bail!("{} exists; edit it, or pass --force to replace it", path.display());
    }
    if let Some(m) = &model
        && (m.is_empty() || m.chars().any(char::is_control) || m.contains('"') || m.contains('\\'))
    {
        bail!("--model {m:?} is not a model name");
    }
    let model_line = match (&model, &p.model) {
        (Some(m), _) => format!("model = \"{m}\"\n"),
        (None, Some(m)) => {
            format!("# model = \"{m}\"          # the preset's default; set one to pin it\n")
        }
        (None, None) => {
            "# model = \"...\"          # ANTHROPIC_MODEL and the default for every role\n".into()
        }
    };
    let text = format!(
        "# Claude Code provider for this repository, applied by ccenv (https://crates.io/crates/ccenv).\n\
         # Commit this file; it never holds a key. Keys: `ccenv key set {id}`.\n\
         # After any edit, review and run `ccenv allow` again.\n\
         provider = \"{id}\"\n\
         {model_line}\
         # credential = \"{id}\"     # stored key name (default: the provider id), or \"env:VAR\"\n\
         # base_url = \"https://...\"   # overrides the preset endpoint (no trailing /v1)\n\
         \n\
         # [models]                 # each falls back to `model`, then the preset\n\
         # opus = \"...\"\n\
         # sonnet = \"...\"\n\
         # haiku = \"...\"\n\
         # subagent = \"...\"\n\
         \n\
         # [env]                    # extra variables, string values\n\
         # API_TIMEOUT_MS = \"600000\"\n",
        id = p.id
    );
    project::parse(&path, &text).map_err(|d| anyhow!("internal: generated file is invalid: {d}"))?;
    fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    let found = project::discover(&dir).found.expect("just written");
    let contents = Contents::read(&found)?;
    TrustStore::new(&paths.data_dir).allow(&found.root, &contents.digest())?;
    say(&format!("wrote and allowed {}", path.display()));
    let has_key = FileKeyStore::new(paths.keys()).get(&p.id).ok().flatten().is_some();
    if !has_key && p.auth != crate::provider::Auth::None && p.placeholder_key.is_none() && !p.key_optional {
        say(&format!("next: store the key with `ccenv key set {}`", p.id));
    }
    Ok(())
}

pub fn providers(json_out: bool) -> Result<()> {
    let paths = Paths::from_env()?;
    let catalog = engine::load_catalog(&paths).map_err(|e| anyhow!(e))?;
    if json_out {
        let list: Vec<_> = catalog.providers.values().collect();
        let json = json!({ "updated": catalog.updated, "providers": list });
        return emit(&format!("{}\n", serde_json::to_string_pretty(&json)?));
    }
    let mut text = format!("{:<22} {:<10} {:<26} {}\n", "ID", "AUTH", "MODEL", "BASE URL");
    for p in catalog.providers.values() {
        let mark = if p.origin == "preset" { "" } else { " *" };
        text += &format!(
            "{:<22} {:<10} {:<26} {}\n",
            format!("{}{mark}", p.id),
            p.auth.as_str(),
            p.model.as_deref().unwrap_or("-"),
            p.base_url.as_deref().unwrap_or("(official API)")
        );
    }
    text += &format!("\nModels as of {}; * = from your config.toml.\n", catalog.updated);
    emit(&text)
}

pub fn key(action: KeyAction) -> Result<()> {
    let paths = Paths::from_env()?;
    let store = FileKeyStore::new(paths.keys());
    match action {
        KeyAction::Set { name } => {
            if !keystore::is_valid_name(&name) {
                bail!("key name `{name}` may use only letters, digits, `.`, `-` and `_`");
            }
            let secret = if std::io::stdin().is_terminal() {
                rpassword::prompt_password(format!("key for {name} (input hidden): "))?
            } else {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s.strip_suffix('\n').map(|s| s.strip_suffix('\r').unwrap_or(s)).unwrap_or(&s).to_string()
            };
            store.set(&name, &secret)?;
            say(&format!("stored `{name}` ({}) in {}", keystore::mask(&secret), store.describe()));
        }
        KeyAction::List => {
            let names = store.names()?;
            if names.is_empty() {
                say(&format!("no keys in {}; add one with `ccenv key set NAME`", store.describe()));
            }
            let mut text = String::new();
            for name in names {
                let secret = store.get(&name)?.unwrap_or_default();
                text += &format!("{name:<24} {}\n", keystore::mask(&secret));
            }
            emit(&text)?;
        }
        KeyAction::Helper { .. } => unreachable!("handled in main"),
        KeyAction::Rm { name } => {
            if !store.remove(&name)? {
                bail!("no key named `{name}`");
            }
            say(&format!("removed `{name}`"));
        }
    }
    Ok(())
}

pub fn doctor(online: bool, timeout: f64, json_out: bool, fix_onboarding: bool) -> Result<i32> {
    if fix_onboarding {
        let path = crate::doctor::fix_onboarding()?;
        say(&format!("set \"hasCompletedOnboarding\": true in {path}"));
        return Ok(0);
    }
    let paths = Paths::from_env()?;
    let inherited = engine::inherited(&paths);
    let eval = engine::evaluate(paths::current_dir().as_deref(), &paths, inherited.snapshot.as_ref());
    let timeout = std::time::Duration::from_secs_f64(timeout.clamp(0.1, 300.0));
    let checks = crate::doctor::run(&paths, &eval, &crate::doctor::Options { online, timeout });
    let worst = checks.iter().map(|c| c.status).max().unwrap_or(crate::doctor::Status::Ok);
    if json_out {
        emit(&format!("{}\n", serde_json::to_string_pretty(&json!({ "status": worst, "checks": checks }))?))?;
    } else {
        emit(&crate::doctor::render_text(&checks))?;
    }
    Ok(if worst == crate::doctor::Status::Problem { 1 } else { 0 })
}

/// For prompts: the provider this shell has applied, from the environment alone.
pub fn status_short() -> Result<()> {
    if let Some(p) = engine::current_var(names::PROVIDER).filter(|p| !p.is_empty()) {
        emit(&format!("{p}\n"))?;
    }
    Ok(())
}
