//! `ccenv doctor`: every way a provider setup is known to fail, each check saying
//! ok / warning / problem, why, and the exact fix. Never prints a key.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::claude::{self, Level};
use crate::engine::{self, Evaluation, Outcome, tilde};
use crate::keystore;
use crate::paths::Paths;
use crate::provider::Auth;
use crate::resolve::{Key, Resolved};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Problem,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn check(check: &'static str, status: Status, summary: impl Into<String>) -> Check {
    Check { check, status, summary: summary.into(), why: None, fix: None }
}

impl Check {
    fn why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(why.into());
        self
    }
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

pub struct Options {
    pub online: bool,
    pub timeout: Duration,
}

pub fn run(paths: &Paths, eval: &Evaluation, opts: &Options) -> Vec<Check> {
    let mut checks = vec![hook()];
    checks.push(project(eval));
    let claude_dir = engine::current_var("CLAUDE_CONFIG_DIR");
    if let Outcome::Applied { resolved, key, found } = &eval.outcome {
        checks.push(provider(resolved, key));
        checks.extend(endpoint(resolved));
        let settings = claude::settings_paths(&found.root, claude_dir.clone());
        let (files, errors) = claude::read_settings(&settings);
        checks.extend(conflicts(eval));
        checks.extend(errors.into_iter().map(|e| {
            check("settings", Status::Warning, e).why("Claude Code may fail to start or ignore this file")
        }));
        checks.extend(api_key_helpers(&files, key));
        if resolved.provider.base_url.is_some() {
            checks.push(onboarding(claude_dir.clone()));
        }
        if opts.online {
            checks.push(online(resolved, key, opts.timeout));
        }
    }
    checks.push(key_store(&paths.keys()));
    checks
}

fn hook() -> Check {
    let Some(value) = engine::current_var("CCENV_SHELL") else {
        return check("hook", Status::Warning, "the hook is not installed in this shell")
            .why("without it, entering a project changes nothing (ccenv exec still works)")
            .fix(
                "add `eval \"$(ccenv hook bash)\"` to ~/.bashrc (see `ccenv hook --help` for other shells)",
            );
    };
    let (shell, pid) = value.split_once(':').unwrap_or((&value, ""));
    #[cfg(unix)]
    {
        let parent = std::os::unix::process::parent_id().to_string();
        if pid != parent {
            return check(
                "hook",
                Status::Warning,
                format!("the hook runs in a parent {shell} (pid {pid}), not in this shell"),
            )
            .why("this shell inherited the variables but will not update them when you change directory")
            .fix("start the shell with its startup file, or run `ccenv hook` in it");
        }
    }
    let _ = pid;
    check("hook", Status::Ok, format!("installed in this {shell}"))
}

fn project(eval: &Evaluation) -> Check {
    let file = |found: &crate::project::Found| {
        found.main.as_ref().or(found.local.as_ref()).map(|p| p.display().to_string()).unwrap_or_default()
    };
    match &eval.outcome {
        Outcome::NoProject => check("project", Status::Warning, "no .claude-provider.toml here or above")
            .why("nothing is pinned here: Claude Code uses whatever the shell and ~/.claude have")
            .fix("ccenv init PROVIDER   (`ccenv providers` lists them)"),
        Outcome::Gone => check("project", Status::Problem, "the current directory no longer exists")
            .fix("cd to an existing directory"),
        Outcome::Denied { found } => check("project", Status::Warning, format!("{} is denied", file(found)))
            .why("`ccenv deny` was run here; the provider is not applied")
            .fix("ccenv allow"),
        Outcome::Blocked { found, changed } => {
            let what = if *changed { "changed since it was allowed" } else { "not allowed yet" };
            check("project", Status::Problem, format!("{} is {what}", file(found)))
                .why("a project file applies only after you have read and allowed it")
                .fix("review the file, then run `ccenv allow`")
        }
        Outcome::Invalid { error, .. } => check("project", Status::Problem, error.clone())
            .why("an invalid project file applies nothing")
            .fix("edit the file at the position shown"),
        Outcome::Applied { found, .. } => {
            let files: Vec<String> =
                [&found.main, &found.local].into_iter().flatten().map(|p| p.display().to_string()).collect();
            check("project", Status::Ok, format!("{} (allowed, valid)", files.join(" + ")))
        }
    }
}

fn provider(r: &Resolved, key: &Key) -> Check {
    let p = &r.provider;
    let models = format!(
        "models: main {}, opus {}, sonnet {}, haiku {}",
        p.model.as_deref().unwrap_or("-"),
        p.models.opus.as_deref().unwrap_or("-"),
        p.models.sonnet.as_deref().unwrap_or("-"),
        p.models.haiku.as_deref().unwrap_or("-")
    );
    let endpoint = p.base_url.as_deref().unwrap_or("official Anthropic API");
    let summary = |k: &str| format!("{} at {endpoint}, {} key {k}; {models}", p.id, p.auth.as_str());
    match key {
        Key::Found { secret, source } => {
            check("provider", Status::Ok, summary(&format!("{} from {source}", keystore::mask(secret))))
        }
        Key::Placeholder(v) => check("provider", Status::Ok, summary(&format!("placeholder `{v}`"))),
        Key::NotNeeded => check("provider", Status::Ok, summary("not needed")),
        Key::Missing { why } => {
            check("provider", Status::Problem, summary("missing")).why(why.clone()).fix(match &r.credential {
                Some(crate::project::Credential::Env(var)) => format!("export {var}=… before entering"),
                _ => format!("ccenv key set {}", credential_name(r)),
            })
        }
    }
}

fn credential_name(r: &Resolved) -> String {
    match &r.credential {
        Some(crate::project::Credential::Store(n)) => n.clone(),
        _ => r.provider.id.clone(),
    }
}

fn endpoint(r: &Resolved) -> Option<Check> {
    let url = r.provider.base_url.as_ref()?;
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    let local = host == "localhost" || host.starts_with("127.") || host == "::1";
    if local {
        return Some(check("base_url", Status::Ok, format!("{url} (local, plain HTTP)")));
    }
    Some(
        check("base_url", Status::Warning, format!("{url} is plain http:// to {host}"))
            .why("the key travels unencrypted to a host that is not this machine")
            .fix("use the provider's https:// endpoint"),
    )
}

fn conflicts(eval: &Evaluation) -> Vec<Check> {
    eval.conflicts
        .iter()
        .map(|c| {
            let file = tilde(&c.path.to_string_lossy());
            let c2 = check("settings", Status::Problem, format!("{file} sets {} in its env", c.names.join(", ")))
                .why("Claude Code applies a settings file's env over the shell, so this project's provider is not what Claude Code uses");
            match c.level {
                Level::Managed => c2.fix("nothing overrides managed settings; ask whoever manages this machine"),
                Level::User => c2.fix(format!(
                    "ccenv import --remove-from-claude-settings (moves them into ccenv, backs up {file}); \
                     or run Claude Code as `ccenv exec -- claude`"
                )),
                _ => c2.fix(format!("remove {} from the env of {file}; or run `ccenv exec -- claude`", c.names.join(", "))),
            }
        })
        .collect()
}

fn api_key_helpers(files: &[claude::SettingsFile], key: &Key) -> Vec<Check> {
    files
        .iter()
        .filter(|f| f.api_key_helper.is_some())
        .map(|f| {
            let file = tilde(&f.path.to_string_lossy());
            match key {
                Key::Found { .. } | Key::Placeholder(_) => check(
                    "apiKeyHelper",
                    Status::Ok,
                    format!("{file} has an apiKeyHelper; ccenv's key variable outranks it here"),
                ),
                _ => check(
                    "apiKeyHelper",
                    Status::Problem,
                    format!("{file} has an apiKeyHelper that Claude Code will use here"),
                )
                .why("with no key from ccenv, the helper's key is sent to this project's provider")
                .fix(
                    "store a key for this provider (`ccenv key set …`) or remove apiKeyHelper from the file",
                ),
            }
        })
        .collect()
}

fn onboarding(claude_dir: Option<String>) -> Check {
    let Some(path) = claude::state_file(claude_dir) else {
        return check("onboarding", Status::Warning, "cannot find ~/.claude.json (no home folder)");
    };
    let done = crate::fsutil::read_to_string_limited(&path, 256 * crate::fsutil::MIB)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("hasCompletedOnboarding").and_then(Value::as_bool))
        .unwrap_or(false);
    if done {
        return check(
            "onboarding",
            Status::Ok,
            format!("{} has hasCompletedOnboarding", tilde(&path.to_string_lossy())),
        );
    }
    check("onboarding", Status::Warning, format!("{} lacks \"hasCompletedOnboarding\": true", tilde(&path.to_string_lossy())))
        .why("Claude Code's first-run screen asks third-party users to log in to Anthropic although a provider is set")
        .fix("ccenv doctor --fix-onboarding   (adds that one key and keeps the rest of the file)")
}

/// Adds `"hasCompletedOnboarding": true`, keeping every other key; only on request.
pub fn fix_onboarding() -> anyhow::Result<String> {
    let path = claude::state_file(engine::current_var("CLAUDE_CONFIG_DIR"))
        .ok_or_else(|| anyhow::anyhow!("cannot find the home folder"))?;
    let mut doc: serde_json::Map<String, Value> = match std::fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str(&t)
            .map_err(|e| anyhow::anyhow!("{} is not a JSON object ({e}); not touching it", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(e) => return Err(e.into()),
    };
    doc.insert("hasCompletedOnboarding".into(), Value::Bool(true));
    crate::fsutil::write_atomic(&path, format!("{}\n", serde_json::to_string_pretty(&doc)?).as_bytes())?;
    Ok(path.display().to_string())
}

fn key_store(path: &Path) -> Check {
    if !path.exists() {
        return check("keys", Status::Ok, format!("no key store yet ({})", path.display()));
    }
    match keystore::check_permissions(path) {
        Ok(()) => check("keys", Status::Ok, format!("{} is readable by you only", path.display())),
        Err(e) => {
            check("keys", Status::Problem, format!("{e:#}")).fix(format!("chmod 600 '{}'", path.display()))
        }
    }
}

/// One minimal Messages request (`max_tokens: 1`), bounded in time.
fn online(r: &Resolved, key: &Key, timeout: Duration) -> Check {
    let p = &r.provider;
    let base = p.base_url.as_deref().unwrap_or("https://api.anthropic.com");
    let url = format!("{}/v1/messages", base.trim_end_matches('/'));
    let secret = match key {
        Key::Found { secret, .. } => Some(secret.as_str()),
        Key::Placeholder(v) => Some(v.as_str()),
        _ => None,
    };
    let model = p.model.clone().or(p.models.sonnet.clone()).unwrap_or_else(|| "claude-sonnet-4-5".into());
    let body = serde_json::json!({
        "model": model, "max_tokens": 1,
        "messages": [{"role": "user", "content": "ping"}]
    })
    .to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let mut req =
        agent.post(&url).header("content-type", "application/json").header("anthropic-version", "2023-06-01");
    if let Some(s) = secret {
        req = match p.auth {
            Auth::Bearer => req.header("authorization", format!("Bearer {s}")),
            Auth::XApiKey => req.header("x-api-key", s),
            Auth::None => req,
        };
    }
    let started = Instant::now();
    let response = req.send(body.as_str());
    let ms = started.elapsed().as_millis();
    let hide = |text: &str| match secret {
        Some(s) if s.len() >= 4 => text.replace(s, &keystore::mask(s)),
        _ => text.to_string(),
    };
    let mut resp = match response {
        Ok(r) => r,
        Err(ureq::Error::Timeout(_)) => {
            return check(
                "online",
                Status::Problem,
                format!("{url}: no answer within {}s", timeout.as_secs_f32()),
            )
            .why("the endpoint is unreachable from here, or a proxy is needed (HTTPS_PROXY is honoured)")
            .fix("check the network and base_url; try --timeout 30");
        }
        Err(e) => {
            return check("online", Status::Problem, format!("{url}: unreachable: {}", hide(&e.to_string())))
                .fix("check base_url, DNS and HTTPS_PROXY/NO_PROXY");
        }
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().with_config().limit(64 * 1024).read_to_string().unwrap_or_default();
    let json: Option<Value> = serde_json::from_str(&text).ok();
    let anthropic_error = json
        .as_ref()
        .filter(|v| v["type"] == "error")
        .map(|v| v["error"]["message"].as_str().unwrap_or("").to_string());
    let openai_shaped = json.as_ref().is_some_and(|v| v["type"] != "error" && v.get("error").is_some());
    let excerpt = |s: &str| hide(&s.chars().take(200).collect::<String>());
    match status {
        200 if json.as_ref().is_some_and(|v| v["type"] == "message") => check(
            "online",
            Status::Ok,
            format!("{url}: speaks the Anthropic Messages API; key accepted; model `{model}` accepted; {ms} ms"),
        ),
        200 => check("online", Status::Problem, format!("{url}: HTTP 200 but not an Anthropic message ({ms} ms)"))
            .why(format!("answer: {}", excerpt(&text)))
            .fix("this is not an Anthropic-compatible endpoint; check base_url"),
        401 | 403 => check("online", Status::Problem, format!("{url}: key rejected (HTTP {status}, {ms} ms)"))
            .why(excerpt(&anthropic_error.unwrap_or(text)))
            .fix(format!("store the right key: ccenv key set {}", credential_name(r))),
        404 | 405 if openai_shaped || anthropic_error.is_none() => {
            check("online", Status::Problem, format!("{url}: no Anthropic Messages endpoint here (HTTP {status}, {ms} ms)"))
                .why(if openai_shaped {
                    "the answer is shaped like an OpenAI-compatible API's error: Claude Code speaks the Anthropic Messages API".to_string()
                } else {
                    format!("answer: {}", excerpt(&text))
                })
                .fix("use the provider's Anthropic endpoint (see `ccenv providers`); it must not end in /v1")
        }
        _ if anthropic_error.as_deref().is_some_and(|m| m.to_ascii_lowercase().contains("model")) => {
            check("online", Status::Problem, format!("{url}: model `{model}` rejected (HTTP {status}, {ms} ms)"))
                .why(excerpt(anthropic_error.as_deref().unwrap_or("")))
                .fix("set `model` in .claude-provider.toml to one this provider offers")
        }
        _ => check("online", Status::Warning, format!("{url}: HTTP {status} ({ms} ms)"))
            .why(excerpt(&anthropic_error.unwrap_or(text))),
    }
}

pub fn render_text(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let status = match c.status {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Problem => "problem",
        };
        out.push_str(&format!("{status:<8} {:<12} {}\n", c.check, c.summary));
        if let Some(why) = &c.why {
            out.push_str(&format!("{:<21} why: {why}\n", ""));
        }
        if let Some(fix) = &c.fix {
            out.push_str(&format!("{:<21} fix: {fix}\n", ""));
        }
    }
    out
}
