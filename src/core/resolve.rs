//! Pure core, step 1: project settings + provider catalog → the provider as it applies
//! here; and, given the key, the exact variables a project wants (`Vars`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::core::envdiff::Vars;

use crate::config::diagnostic::Diagnostic;
use crate::config::names;
use crate::config::project::{Credential, Settings};
use crate::config::provider::{Auth, Catalog, Protocol, Provider, Roles};

/// What a project asks for once its provider is looked up: the provider with the
/// project's endpoint, models and `[env]` laid over it, and where its key comes from.
/// Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub provider: Provider,
    pub credential: Option<Credential>,
    /// Tried in order by the gateway when this provider fails before answering.
    pub fallbacks: Vec<Resolved>,
    /// Served through ccenv's local gateway: an `openai-chat` provider, a fallback
    /// chain, or `gateway = true`. The shell then holds the gateway's token, never a key.
    pub gateway: bool,
    /// Where each model slot (main, opus, sonnet, haiku, subagent) comes from:
    /// "file", "preset", "config" (a provider of config.toml) or "server" (nothing sent).
    pub sources: BTreeMap<&'static str, &'static str>,
}

/// The first set value wins; `""` stops the search: nothing is sent, the server picks.
fn pick(chain: &[(&Option<String>, &'static str)]) -> (Option<String>, &'static str) {
    for (value, source) in chain {
        match value {
            Some(m) if m.is_empty() => return (None, "server"),
            Some(m) => return (Some(m.clone()), source),
            None => {}
        }
    }
    (None, "server")
}

impl Serialize for Credential {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.describe())
    }
}

pub fn resolve(settings: &Settings, catalog: &Catalog) -> Result<Resolved, Diagnostic> {
    let id = settings.provider.as_ref().expect("settings() guarantees a provider");
    let p = catalog.get(&id.value).map_err(|m| id.error(m))?;
    check_policy(settings, catalog)?;
    let base_url = match &settings.base_url {
        Some(u) => {
            catalog.check_base_url(&u.value, p.protocol).map_err(|m| u.error(m))?;
            Some(u.value.clone())
        }
        None => p.base_url.clone(),
    };
    let theirs = if p.origin == "user" { "config" } else { "preset" };
    let (file_model, preset_model) = (&settings.model, &p.model);
    // A preset's own role beats the file's `model`: `init deepseek --model X` keeps the
    // preset's haiku. The file's role beats both.
    let role = |mine: &Option<String>, preset: &Option<String>| {
        pick(&[(mine, "file"), (preset, theirs), (file_model, "file"), (preset_model, theirs)])
    };
    let slots = [
        ("main", pick(&[(file_model, "file"), (preset_model, theirs)])),
        ("opus", role(&settings.models.opus, &p.models.opus)),
        ("sonnet", role(&settings.models.sonnet, &p.models.sonnet)),
        ("haiku", role(&settings.models.haiku, &p.models.haiku)),
        ("fable", role(&settings.models.fable, &p.models.fable)),
        ("subagent", pick(&[(&settings.models.subagent, "file"), (&p.models.subagent, theirs)])),
    ];
    let sources = slots.iter().map(|(slot, (_, source))| (*slot, *source)).collect();
    let [main, opus, sonnet, haiku, fable, subagent] = slots.map(|(_, (model, _))| model);
    let models = Roles { opus, sonnet, haiku, fable, subagent };
    // Names are case-insensitive on Windows: the project's `Api_Timeout_Ms` replaces the
    // preset's `API_TIMEOUT_MS` instead of standing beside it.
    let mut env = p.env.clone();
    env.retain(|k, _| !settings.env.keys().any(|n| n.eq_ignore_ascii_case(k)));
    env.extend(settings.env.clone());
    let auth = settings.auth.unwrap_or(p.auth);
    let credential = match auth {
        Auth::None => None,
        _ => Some(
            settings
                .credential
                .as_ref()
                .map(|c| c.value.clone())
                .unwrap_or_else(|| Credential::Store(p.id.clone())),
        ),
    };
    let mut provider = p.clone();
    provider.base_url = base_url;
    provider.model = main;
    provider.models = models;
    provider.env = env;
    provider.auth = auth;
    let fallbacks = settings
        .fallback
        .iter()
        .flatten()
        .map(|f| crate::core::chain::fallback(f, catalog))
        .collect::<Result<Vec<_>, _>>()?;
    let gateway =
        settings.gateway == Some(true) || provider.protocol == Protocol::OpenAiChat || !fallbacks.is_empty();
    Ok(Resolved { provider, credential, fallbacks, gateway, sources })
}

/// What only the user's config.toml can allow: `[env]` names beyond the built-in
/// allowlist, and shell variables a project may take its key from.
fn check_policy(settings: &Settings, catalog: &Catalog) -> Result<(), Diagnostic> {
    let policy = &catalog.policy;
    for name in &settings.env_names {
        if let Some(why) = names::refusal_with(&name.value, &policy.env_allow) {
            return Err(name.error(format!("[env] `{}`: {why}", name.value)));
        }
    }
    if let Some(c) = &settings.credential
        && let Credential::Env(var) = &c.value
        && !policy.env_credentials.contains(var)
    {
        return Err(c.error(format!(
            "`env:{var}` would send whatever your shell holds in `{var}` to this provider; a project \
             may read only variables you list in config.toml: `[env] credentials = [\"{var}\"]`"
        )));
    }
    Ok(())
}

/// Where the official preset's requests go when no `base_url` is set.
pub const OFFICIAL_ENDPOINT: &str = "https://api.anthropic.com";

/// What trusting a project means for its key: the one host that receives it, and
/// warnings when the file sends it somewhere the user's own setup would not.
pub struct Destination {
    pub summary: String,
    pub warnings: Vec<String>,
}

/// `https://user@host:8443/path` → `host:8443`.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

pub fn destination(settings: &Settings, r: &Resolved, catalog: &Catalog) -> Destination {
    let p = &r.provider;
    let (key, url) = key_and_url(r);
    let host = host_of(url);
    let mut warnings = Vec::new();
    let summary = if r.gateway {
        // The shell holds only the gateway token; the gateway sends each provider's key.
        let mut s = format!("ccenv's local gateway will send {key} to {host} ({url})");
        for f in &r.fallbacks {
            let (fkey, furl) = key_and_url(f);
            s.push_str(&format!("; if that fails, {fkey} to {} ({furl})", host_of(furl)));
            warnings.extend(borrowed_key(f, catalog, host_of(furl)));
        }
        s + ", and to no other host"
    } else {
        format!("Claude Code here will send {key} to {host} ({url}), and to no other host")
    };
    let standard =
        catalog.provider(&p.id).map(|c| c.base_url.unwrap_or_else(|| OFFICIAL_ENDPOINT.to_string()));
    if let (Some(own), Some(standard)) = (&settings.base_url, standard)
        && own.value.trim_end_matches('/') != standard.trim_end_matches('/')
    {
        warnings.push(format!(
            "warning: this file sends {key} to {host}, not to {}'s endpoint {}; a file from someone else \
             can use this to collect your key",
            p.id,
            host_of(&standard)
        ));
    }
    warnings.extend(borrowed_key(r, catalog, host));
    Destination { summary, warnings }
}

fn key_and_url(r: &Resolved) -> (String, &str) {
    let key = match &r.credential {
        Some(c) => format!("the key from {}", c.describe()),
        None => "no key".into(),
    };
    (key, r.provider.base_url.as_deref().unwrap_or(OFFICIAL_ENDPOINT))
}

/// A project that names another provider's stored key for this one.
fn borrowed_key(r: &Resolved, catalog: &Catalog, host: &str) -> Option<String> {
    match &r.credential {
        Some(Credential::Store(name)) if name != &r.provider.id && catalog.provider(name).is_some() => Some(
            format!("warning: this file sends your key for provider `{name}` to {host} ({})", r.provider.id),
        ),
        _ => None,
    }
}

/// The key that will be exported, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Found {
        secret: String,
        source: String,
    },
    /// A provider that ignores keys (local servers): a fixed stand-in.
    Placeholder(String),
    /// None needed (`auth = "none"`, or optional and absent).
    NotNeeded,
    /// The official API with no key stored and none in the shell: Claude Code uses the
    /// user's own login, and the login token the shell had (if any) is kept.
    OwnLogin(Option<String>),
    /// Needed and absent: both auth variables are removed and the user is told how to add one.
    Missing {
        why: String,
    },
    /// A gateway project: the shell gets the gateway's address for this project and the
    /// per-user gateway token; the provider's key stays with the gateway.
    Gateway {
        url: String,
        token: String,
        /// The gateway runs (`url` is its address); else `url` reaches nobody.
        live: bool,
    },
}

/// Every variable a project controls: `Some` is set, `None` is removed.
pub(crate) fn desired(r: &Resolved, key: &Key) -> Vars {
    desired_keeping(r, key, |_| true)
}

/// `desired`, listing as removed only the managed names `keep` accepts: the hook keeps
/// those set now or in the restore state, as removing an unset name changes nothing
/// (and the managed set is ~100 names).
pub(crate) fn desired_keeping(r: &Resolved, key: &Key, keep: impl Fn(&str) -> bool) -> Vars {
    let p = &r.provider;
    let mut d: Vars = names::MANAGED.iter().filter(|n| keep(n)).map(|n| (n.to_string(), None)).collect();
    let mut set = |name: &str, value: &Option<String>| {
        if value.is_some() {
            d.insert(name.to_string(), value.clone());
        }
    };
    match key {
        Key::Gateway { url, token, .. } => {
            set(names::BASE_URL, &Some(url.clone()));
            set(names::AUTH_TOKEN, &Some(token.clone()));
        }
        _ => set(names::BASE_URL, &p.base_url),
    }
    set(names::MODEL, &p.model);
    set(names::OPUS_MODEL, &p.models.opus);
    set(names::SONNET_MODEL, &p.models.sonnet);
    set(names::HAIKU_MODEL, &p.models.haiku);
    set(names::SMALL_FAST_MODEL, &p.models.haiku);
    set(names::FABLE_MODEL, &p.models.fable);
    set(names::SUBAGENT_MODEL, &p.models.subagent);
    set(names::PROVIDER, &Some(p.id.clone()));
    if let (Some(var), Key::Found { secret: v, .. } | Key::Placeholder(v)) = (p.auth.variables().0, key) {
        set(var, &Some(v.clone()));
    }
    if let Key::OwnLogin(Some(token)) = key {
        set(names::OAUTH_TOKEN, &Some(token.clone()));
    }
    for (name, value) in &p.env {
        d.insert(name.clone(), Some(value.clone()));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::project::parse;
    use std::path::Path;

    fn resolved(text: &str) -> Resolved {
        let s = parse(Path::new("p"), text).unwrap();
        resolve(&s, &Catalog::builtin()).unwrap()
    }

    #[test]
    fn roles_fall_back_model_then_preset_role_then_preset_model() {
        let r = resolved("provider = \"deepseek\"\n");
        assert_eq!(r.provider.model.as_deref(), Some("deepseek-v4-pro"));
        assert_eq!(r.provider.models.haiku.as_deref(), Some("deepseek-v4-flash"), "preset role");
        assert_eq!(r.provider.models.opus.as_deref(), Some("deepseek-v4-pro"), "preset model");
        assert_eq!(r.provider.models.subagent, None, "subagent only when given");

        let r =
            resolved("provider = \"deepseek\"\nmodel = \"m\"\n[models]\nopus = \"o\"\nsubagent = \"s\"\n");
        assert_eq!(r.provider.models.opus.as_deref(), Some("o"));
        assert_eq!(
            r.provider.models.sonnet.as_deref(),
            Some("m"),
            "file model fills roles the preset leaves"
        );
        assert_eq!(r.provider.models.haiku.as_deref(), Some("deepseek-v4-flash"), "preset role kept");
        assert_eq!(r.provider.models.subagent.as_deref(), Some("s"));
        assert_eq!((r.sources["opus"], r.sources["haiku"], r.sources["sonnet"]), ("file", "preset", "file"));

        let r = resolved("provider = \"deepseek\"\nmodel = \"\"\n[models]\nhaiku = \"\"\n");
        assert_eq!((r.provider.model.as_ref(), r.provider.models.haiku.as_ref()), (None, None));
        assert_eq!(
            (r.sources["main"], r.sources["opus"], r.sources["haiku"]),
            ("server", "server", "server")
        );
    }

    #[test]
    fn desired_sets_the_key_variable_and_removes_the_other() {
        let r = resolved(
            "provider = \"glm\"\nmodel = \"glm-4.7\"\n[models]\nfable = \"f\"\n[env]\nDISABLE_TELEMETRY = \"1\"\n",
        );
        let key = Key::Found { secret: "k".into(), source: "store".into() };
        let d = desired(&r, &key);
        assert_eq!(d["ANTHROPIC_AUTH_TOKEN"].as_deref(), Some("k"));
        assert_eq!(d["ANTHROPIC_API_KEY"], None);
        assert_eq!(d["ANTHROPIC_BASE_URL"].as_deref(), Some("https://open.bigmodel.cn/api/anthropic"));
        assert_eq!(d["ANTHROPIC_SMALL_FAST_MODEL"].as_deref(), Some("glm-4.7"));
        assert_eq!(d["CLAUDE_CODE_USE_BEDROCK"], None);
        assert_eq!(d["CCENV_PROVIDER"].as_deref(), Some("glm"));
        assert_eq!(d["DISABLE_TELEMETRY"].as_deref(), Some("1"));
        assert_eq!(d["ANTHROPIC_DEFAULT_FABLE_MODEL"].as_deref(), Some("f"));
        assert_eq!(d["CLAUDE_CODE_USE_MANTLE"], None, "a backend switch is removed");
        assert_eq!(d["API_TIMEOUT_MS"].as_deref(), Some("3000000"));

        let d = desired(&r, &Key::Missing { why: String::new() });
        assert_eq!((d["ANTHROPIC_AUTH_TOKEN"].as_ref(), d["ANTHROPIC_API_KEY"].as_ref()), (None, None));
    }

    #[test]
    fn official_preset_clears_the_endpoint_and_models() {
        let r = resolved("provider = \"anthropic\"\n");
        let d = desired(&r, &Key::NotNeeded);
        assert!(d.iter().all(|(k, v)| v.is_none() || k == "CCENV_PROVIDER"), "{d:?}");
        let d = desired(&r, &Key::Found { secret: "sk-ant".into(), source: String::new() });
        assert_eq!(d["ANTHROPIC_API_KEY"].as_deref(), Some("sk-ant"));
        assert_eq!(d["ANTHROPIC_AUTH_TOKEN"], None);
    }

    #[test]
    fn project_errors_point_at_the_value() {
        let s = parse(Path::new("p"), "provider = \"kimi-code\"\n").unwrap();
        let e = resolve(&s, &Catalog::builtin()).unwrap_err();
        assert_eq!(e.to_string(), "p:1:12: unknown provider `kimi-code`; did you mean `kimi-coding`?");
        let s = parse(Path::new("p"), "provider = \"glm\"\nbase_url = \"https://api.z.ai/api/paas/v4\"\n")
            .unwrap();
        let e = resolve(&s, &Catalog::builtin()).unwrap_err();
        assert!(e.to_string().starts_with("p:2:12: base_url"), "{e}");
        assert!(e.message.contains("https://api.z.ai/api/anthropic"), "{e}");
    }
}
