//! `ccenv status`: what applies here (file, trust, provider, endpoint, models, masked
//! key) and what this shell has applied; `--short` for prompts.

use anyhow::Result;
use serde_json::{Value, json};

use crate::config::names;
use crate::context::{Context, Inherited};
use crate::core::outcome::Evaluation;
use crate::core::outcome::{self, Outcome};
use crate::core::resolve::{Key, Resolved};
use crate::output::{emit, escape, json, mask, tilde};

pub(crate) fn run(dir: Option<std::path::PathBuf>, json_out: bool, short: bool) -> Result<()> {
    if short {
        // For prompts: the provider this shell has applied, from the environment alone
        // (no folders looked up, no file read).
        let provider = std::env::var_os(names::PROVIDER).map(|p| p.to_string_lossy().into_owned());
        return match provider.filter(|p| !p.is_empty()) {
            Some(p) => emit(&format!("{}\n", escape(&p))),
            None => Ok(()),
        };
    }
    let ctx = Context::from_process()?;
    let (inherited, eval) = match dir {
        Some(d) => ctx.at(Some(&super::dir_arg(&ctx, Some(d))?)),
        None => ctx.here(),
    };
    let report = report(&ctx, &eval, &inherited);
    if json_out {
        return emit(&format!("{}\n", json(&report)));
    }
    emit(&text(&report))
}

fn text(report: &Value) -> String {
    let get = |k: &str| report.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let mut lines = vec![("state", get("state").unwrap_or_default())];
    if let Some(files) = report.get("files").and_then(|f| f.as_array()) {
        let files: Vec<&str> = files.iter().filter_map(|f| f.as_str()).collect();
        lines.push(("file", files.join(" + ")));
    }
    if let Some(e) = get("error") {
        lines.push(("error", e));
    }
    if let Some(p) = report.get("provider") {
        provider_lines(p, &mut lines);
    }
    if let Some(g) = report.get("gateway") {
        let s = |k: &str| g.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
        lines.push(("gateway", format!("{} — {}", s("url"), s("state"))));
    }
    if let Some(ignored) = report.get("ignored").and_then(|f| f.as_array()) {
        lines.extend(ignored.iter().filter_map(|f| f.as_str()).map(|f| ("ignored", f.to_string())));
    }
    if let Some(c) = get("claude") {
        lines.push(("claude", c));
    }
    lines.push(("shell", get("shell").unwrap_or_default()));
    // Values came from files, paths and the environment: one escaped line each.
    lines.iter().map(|(k, v)| format!("{k:<9} {}\n", escape(v))).collect()
}

fn provider_lines(p: &Value, lines: &mut Vec<(&str, String)>) {
    let s = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
    // A user provider need not have a `name`: then the id alone.
    let name = p.get("name").and_then(|v| v.as_str()).filter(|n| !n.is_empty());
    let title = name.map_or_else(|| s("id"), |n| format!("{} — {n}", s("id")));
    lines.push(("provider", format!("{title} [{}]", s("origin"))));
    lines.push(("endpoint", s("base_url")));
    lines.push(("auth", format!("{} via {}", s("auth"), s("key_variable"))));
    lines.push(("key", s("key")));
    let (m, from) = (&p["models"], &p["model_sources"]);
    let role = |k: &str| {
        let model = m.get(k).and_then(|v| v.as_str()).unwrap_or("-");
        format!("{k} {model} ({})", from.get(k).and_then(|v| v.as_str()).unwrap_or("server"))
    };
    let roles: Vec<String> = ["main", "opus", "sonnet", "haiku", "fable", "subagent"].map(role).to_vec();
    lines.push(("models", roles.join(" · ")));
    if let Some(env) = p.get("env").and_then(|e| e.as_object()).filter(|e| !e.is_empty()) {
        let pairs: Vec<String> =
            env.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect();
        lines.push(("env", pairs.join(" ")));
    }
}

/// What `status --json` prints and `watch` streams.
pub(crate) fn report(ctx: &Context, eval: &Evaluation, inherited: &Inherited) -> Value {
    let mut r = serde_json::Map::new();
    r.insert("state".into(), outcome::state_text(&eval.outcome).into());
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
        r.insert("error".into(), error.to_string().into());
    }
    if let Outcome::Applied { resolved, key, .. } = &eval.outcome {
        r.insert("provider".into(), provider_json(resolved, key));
    }
    if let Some(sends) = eval.claude_sends() {
        let files: Vec<String> = eval.conflicts.iter().map(|c| tilde(&c.path.to_string_lossy())).collect();
        let verb = if files.len() == 1 { "overrides" } else { "override" };
        r.insert("claude".into(), format!("{} {verb} this project: {sends}", files.join(", ")).into());
    }
    if let Outcome::Applied { found, resolved, key: Key::Gateway { url, live, .. } } = &eval.outcome {
        r.insert("gateway".into(), gateway_json(&found.root, resolved, url, *live));
    }
    let shell = match (&inherited.state, ctx.var(names::PROVIDER)) {
        (Some(s), Some(p)) => format!("applied in this shell: {p} from {}", s.root),
        (Some(s), None) => format!("applied in this shell from {}", s.root),
        (None, _) if matches!(eval.outcome, Outcome::Applied { .. }) => {
            "nothing applied in this shell (is the hook installed? see `ccenv hook --help`)".into()
        }
        (None, _) => "nothing applied in this shell".into(),
    };
    r.insert("shell".into(), shell.into());
    if !eval.ignored.is_empty() {
        let ignored: Vec<String> = eval
            .ignored
            .iter()
            .map(|(p, uid)| format!("{}: owned by another user (uid {uid})", p.display()))
            .collect();
        r.insert("ignored".into(), ignored.into());
    }
    Value::Object(r)
}

/// The gateway's address for this project and, when it runs, who serves it and which
/// of the chain cool down (asked of `ccenv-gateway status`, which proves it holds the token).
fn gateway_json(root: &std::path::Path, r: &Resolved, url: &str, live: bool) -> Value {
    let chain: Vec<&str> = std::iter::once(&r.provider.id)
        .chain(r.fallbacks.iter().map(|f| &f.provider.id))
        .map(String::as_str)
        .collect();
    let status = live.then(gateway_status).flatten();
    let state = match &status {
        None if !live => {
            "not running (starts when a shell enters this project, or `ccenv gateway start`)".to_string()
        }
        None => "running, not answering `ccenv gateway status`".to_string(),
        Some(v) => {
            let serving = v["serving"][root.to_string_lossy().as_ref()].as_str().unwrap_or("nobody yet");
            let mut s = format!("running; serving: {serving}");
            for id in &chain {
                if let Some(secs) = v["upstreams"][*id]["cooling_secs"].as_u64() {
                    s.push_str(&format!("; {id} cooling down for {secs}s"));
                }
            }
            s
        }
    };
    json!({ "url": url, "running": live, "chain": chain, "state": state })
}

fn gateway_status() -> Option<Value> {
    let program = crate::store::gateway::program().ok()?;
    let out = std::process::Command::new(program).args(["status", "--json"]).output().ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

fn provider_json(resolved: &Resolved, key: &Key) -> Value {
    let p = &resolved.provider;
    let (key_text, key_source) = match key {
        Key::Found { secret, source } => (format!("{} from {source}", mask(secret)), Some(source.clone())),
        Key::Placeholder(v) => (format!("placeholder `{v}` (the server ignores keys)"), None),
        Key::NotNeeded => ("none needed".into(), None),
        Key::OwnLogin(_) => ("none stored: your Claude login (/login) is used".into(), None),
        Key::Missing { why } => (format!("missing: {why}"), None),
        Key::Gateway { .. } => ("kept by the gateway (the shell holds only the gateway token)".into(), None),
    };
    json!({
        "id": p.id, "name": p.name, "origin": p.origin,
        "base_url": p.base_url.clone().unwrap_or_else(|| "(official Anthropic API)".into()),
        "auth": p.auth.as_str(),
        "key_variable": p.auth.variables().0.unwrap_or("(none)"),
        "key": key_text, "key_source": key_source,
        "models": {
            "main": p.model, "opus": p.models.opus, "sonnet": p.models.sonnet,
            "haiku": p.models.haiku, "fable": p.models.fable, "subagent": p.models.subagent,
        },
        "model_sources": resolved.sources,
        "env": p.env,
        "protocol": p.protocol,
        "fallback": resolved.fallbacks.iter().map(|f| f.provider.id.clone()).collect::<Vec<_>>(),
        "gateway": match key { Key::Gateway { url, .. } => Some(url.clone()), _ => None },
    })
}
