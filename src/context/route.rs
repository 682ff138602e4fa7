//! The gateway's question, answered with the hook's rules: which upstreams may serve
//! the project at `root` right now? `ccenv-gateway` calls `route` once per request, so
//! an edit, `ccenv deny` or a new key takes effect at the next request, exactly as the
//! hook would see it (the same project files, trust record, config.toml and key store).

use std::path::Path;

use crate::config::project::Credential;
use crate::config::provider::{Auth, Protocol};
use crate::context::Context;
use crate::core::outcome::Outcome;
use crate::core::resolve::{Key, Resolved};
use crate::store::paths::Paths;

/// One provider of a project's chain, with its key: only for the gateway's memory.
pub struct Upstream {
    pub id: String,
    pub protocol: Protocol,
    /// Never empty: the official API when the provider names none.
    pub base_url: String,
    pub key: String,
    /// `Authorization: Bearer` (else `x-api-key`).
    pub bearer: bool,
    /// `default`, `opus`, `sonnet`, `haiku`, `subagent` → model.
    pub models: Vec<(&'static str, String)>,
}

/// The primary first, then the fallbacks; or why the project is not served, with the
/// command that fixes it.
pub fn route(root: &Path) -> Result<Vec<Upstream>, String> {
    let paths = Paths::from_env().map_err(|e| format!("{e:#}"))?;
    // No environment: the gateway's own is that of whichever shell started it, perhaps
    // inside another project whose key sits in ANTHROPIC_API_KEY. Keys come from the
    // key store alone (an official-API project without one is refused with the fix).
    let ctx = Context::new(paths, Some(root.to_path_buf()), std::iter::empty());
    let shown = root.display();
    let file = root.join(crate::config::project::FILE);
    match ctx.evaluate(Some(root), None).outcome {
        Outcome::Applied { found, .. } if found.root != root => Err(format!("no project file in {shown}")),
        Outcome::Applied { resolved, .. } if !resolved.gateway => Err(format!(
            "the project in {shown} does not use the gateway; open a new shell there (or cd out and back in)"
        )),
        Outcome::Applied { resolved, .. } => {
            std::iter::once(&*resolved).chain(&resolved.fallbacks).map(|r| upstream(&ctx, r)).collect()
        }
        Outcome::Blocked { changed: true, .. } => Err(format!(
            "ccenv: {} changed since it was allowed; review it, then run `ccenv allow {shown}`",
            file.display()
        )),
        Outcome::Blocked { changed: false, .. } => Err(format!(
            "ccenv: {} is not allowed yet; review it, then run `ccenv allow {shown}`",
            file.display()
        )),
        Outcome::Denied { .. } => {
            Err(format!("ccenv: the project in {shown} is denied; run `ccenv allow {shown}` to use it"))
        }
        Outcome::Invalid { error, .. } => Err(format!("ccenv: {error}")),
        Outcome::NoProject | Outcome::Gone => Err(format!("ccenv: no project file in {shown}")),
    }
}

fn upstream(ctx: &Context, r: &Resolved) -> Result<Upstream, String> {
    let p = &r.provider;
    if let Some(Credential::Env(var)) = &r.credential {
        return Err(format!(
            "ccenv: provider `{}` takes its key from env:{var}, which the gateway cannot see; \
             store it with `ccenv key set {}` and drop the `credential` line",
            p.id, p.id
        ));
    }
    let key = match ctx.lookup_key(r, None) {
        Key::Found { secret, .. } => secret,
        Key::Placeholder(v) => v,
        Key::NotNeeded | Key::Gateway { .. } => String::new(),
        Key::Missing { why } => return Err(format!("ccenv: provider `{}`: {why}", p.id)),
        // A Claude login lives in Claude Code, not in ccenv's key store.
        Key::OwnLogin(_) => {
            return Err(format!(
                "ccenv: provider `{}` through the gateway needs a stored key: `ccenv key set {}`",
                p.id, p.id
            ));
        }
    };
    let base_url = p.base_url.clone().unwrap_or_else(|| "https://api.anthropic.com".into());
    let roles = [
        ("default", &p.model),
        ("opus", &p.models.opus),
        ("sonnet", &p.models.sonnet),
        ("haiku", &p.models.haiku),
        ("subagent", &p.models.subagent),
    ];
    let models = roles.into_iter().filter_map(|(role, m)| m.clone().map(|m| (role, m))).collect();
    Ok(Upstream {
        id: p.id.clone(),
        protocol: p.protocol,
        base_url,
        key,
        bearer: p.auth != Auth::XApiKey,
        models,
    })
}
