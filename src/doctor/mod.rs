//! `ccenv doctor`: every way a provider setup is known to fail, each check saying
//! ok / warning / problem, why, and the exact fix. Never prints a key.

use std::path::Path;
use std::time::Duration;

mod online;

use serde::Serialize;
use serde_json::Value;

use crate::claude::{self, Level};
use crate::context::Context;
use crate::core::outcome::Evaluation;
use crate::core::outcome::{self, Outcome};
use crate::core::resolve::{Key, Resolved};
use crate::output::tilde;
use crate::store::keys;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Ok,
    Warning,
    Problem,
}

#[derive(Debug, Serialize)]
pub(crate) struct Check {
    pub(crate) check: &'static str,
    pub(crate) status: Status,
    pub(crate) summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fix: Option<String>,
}

pub(crate) fn check(check: &'static str, status: Status, summary: impl Into<String>) -> Check {
    Check { check, status, summary: summary.into(), why: None, fix: None }
}

impl Check {
    pub(crate) fn why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(why.into());
        self
    }
    pub(crate) fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

pub(crate) struct Options {
    pub(crate) online: bool,
    pub(crate) timeout: Duration,
}

pub(crate) fn run(ctx: &Context, eval: &Evaluation, opts: &Options) -> Vec<Check> {
    let mut checks = vec![hook(ctx.var("CCENV_SHELL"))];
    checks.push(project(eval));
    let claude_dir = ctx.var("CLAUDE_CONFIG_DIR");
    checks.extend(ignored(eval));
    if let Outcome::Applied { resolved, key, .. } = &eval.outcome {
        checks.push(provider(resolved, key));
        checks.extend(endpoint(resolved));
        let (files, errors) = claude::read_settings(&eval.settings);
        checks.extend(conflicts(eval));
        checks.extend(errors.into_iter().map(|e| {
            check("settings", Status::Warning, e).why("Claude Code may fail to start or ignore this file")
        }));
        checks.extend(api_key_helpers(&files, key));
        if resolved.provider.base_url.is_some() {
            checks.push(onboarding(claude_dir.clone()));
        }
        if opts.online {
            checks.push(online::check_endpoint(resolved, key, opts.timeout));
        }
    }
    checks.push(key_store(&ctx.paths.keys()));
    checks
}

fn hook(ccenv_shell: Option<String>) -> Check {
    let Some(value) = ccenv_shell else {
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
    let file = outcome::first_file;
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
        Outcome::Invalid { error, .. } => check("project", Status::Problem, error.to_string())
            .why("an invalid project file applies nothing")
            .fix("edit the file at the position shown"),
        Outcome::Applied { found, .. } => {
            check("project", Status::Ok, format!("{} (allowed, valid)", outcome::files(found)))
        }
    }
}

/// Project files another user owns: skipped as if absent, said once here.
fn ignored(eval: &Evaluation) -> Vec<Check> {
    eval.ignored
        .iter()
        .map(|(path, uid)| {
            check("project", Status::Warning, format!("ignored {}: owned by another user (uid {uid})", path.display()))
                .why("a file in a shared folder above this one could be planted by anyone; ccenv reads only yours and root's")
                .fix("if it is meant for you, copy it into a folder of your own")
        })
        .collect()
}

fn provider(r: &Resolved, key: &Key) -> Check {
    let p = &r.provider;
    let m = &p.models;
    let roles = [
        ("main", &p.model),
        ("opus", &m.opus),
        ("sonnet", &m.sonnet),
        ("haiku", &m.haiku),
        ("fable", &m.fable),
        ("subagent", &m.subagent),
    ];
    let models: Vec<String> =
        roles.iter().map(|(role, model)| format!("{role} {}", model.as_deref().unwrap_or("-"))).collect();
    let models = format!("models: {}", models.join(", "));
    let endpoint = p.base_url.as_deref().unwrap_or("official Anthropic API");
    let summary = |k: &str| format!("{} at {endpoint}, {} key {k}; {models}", p.id, p.auth.as_str());
    match key {
        Key::Found { secret, source } => {
            check("provider", Status::Ok, summary(&format!("{} from {source}", crate::output::mask(secret))))
        }
        Key::Placeholder(v) => check("provider", Status::Ok, summary(&format!("placeholder `{v}`"))),
        Key::NotNeeded => check("provider", Status::Ok, summary("not needed")),
        Key::OwnLogin(_) => check("provider", Status::Ok, summary("none stored: your Claude login (/login)")),
        Key::Gateway { url, live: true, .. } => {
            check("provider", Status::Ok, summary(&format!("kept by the gateway at {url}")))
        }
        // Not an error: the hook, `exec` and `export` start it. Its placeholder address
        // would only confuse.
        Key::Gateway { live: false, .. } => check(
            "provider",
            Status::Ok,
            summary("kept by the gateway, not running now (a shell entering the project starts it)"),
        ),
        Key::Missing { why } => {
            check("provider", Status::Problem, summary("missing")).why(why.clone()).fix(match &r.credential {
                Some(crate::config::project::Credential::Env(var)) => {
                    format!("export {var}=… before entering")
                }
                _ => format!("ccenv key set {}", credential_name(r)),
            })
        }
    }
}

pub(crate) fn credential_name(r: &Resolved) -> String {
    match &r.credential {
        Some(crate::config::project::Credential::Store(n)) => n.clone(),
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
            let sends = eval.claude_sends().unwrap_or_default();
            let c2 =
                check("settings", Status::Problem, format!("{file} sets {} in its env", c.names.join(", ")))
                    .why(format!("Claude Code applies a settings file's env over the shell: {sends}"));
            match c.level {
                Level::Managed => {
                    c2.fix("nothing overrides managed settings; ask whoever manages this machine")
                }
                Level::User => c2.fix(format!(
                    "ccenv import --remove-from-claude-settings (moves them into ccenv, backs up {file}); \
                     or run Claude Code as `ccenv exec -- claude`"
                )),
                _ => c2.fix(format!(
                    "remove {} from the env of {file}; or run `ccenv exec -- claude`",
                    c.names.join(", ")
                )),
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
    let done = crate::store::fs::read_to_string_limited(&path, 256 * crate::store::fs::MIB)
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
pub(crate) fn fix_onboarding(claude_dir: Option<String>) -> anyhow::Result<String> {
    let path =
        claude::state_file(claude_dir).ok_or_else(|| anyhow::anyhow!("cannot find the home folder"))?;
    let mut doc = claude::read_object(&path)?;
    doc.insert("hasCompletedOnboarding".into(), Value::Bool(true));
    crate::store::fs::replace_private(
        &path,
        format!("{}\n", serde_json::to_string_pretty(&doc)?).as_bytes(),
    )?;
    Ok(path.display().to_string())
}

fn key_store(path: &Path) -> Check {
    if !path.exists() {
        return check("keys", Status::Ok, format!("no key store yet ({})", path.display()));
    }
    match keys::check_permissions(path) {
        Ok(()) => check("keys", Status::Ok, format!("{} is readable by you only", path.display())),
        Err(e) => {
            check("keys", Status::Problem, format!("{e:#}")).fix(format!("chmod 600 '{}'", path.display()))
        }
    }
}

pub(crate) fn render_text(checks: &[Check]) -> String {
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
