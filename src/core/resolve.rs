//! Pure core, step 1: project settings + provider catalog → the provider as it applies
//! here; and, given the key, the exact variables a project wants (`Vars`).

use crate::core::envdiff::Vars;

use serde::Serialize;

use crate::config::diagnostic::Diagnostic;
use crate::config::names;
use crate::config::project::{Credential, Settings};
use crate::config::provider::{Auth, Catalog, Provider, Roles};

/// What a project asks for once its provider is looked up: the provider with the
/// project's endpoint, models and `[env]` laid over it, and where its key comes from.
/// Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub provider: Provider,
    pub credential: Option<Credential>,
}

impl Serialize for Credential {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.describe())
    }
}

pub fn resolve(settings: &Settings, catalog: &Catalog) -> Result<Resolved, Diagnostic> {
    let id = settings.provider.as_ref().expect("settings() guarantees a provider");
    let p = &catalog.get(&id.value).map_err(|m| id.error(m))?;
    let base_url = match &settings.base_url {
        Some(u) => {
            catalog.check_base_url(&u.value).map_err(|m| u.error(m))?;
            Some(u.value.clone())
        }
        None => p.base_url.clone(),
    };
    let role = |project: &Option<String>, preset: &Option<String>| {
        project
            .clone()
            .or_else(|| settings.model.clone())
            .or_else(|| preset.clone())
            .or_else(|| p.model.clone())
    };
    let models = Roles {
        opus: role(&settings.models.opus, &p.models.opus),
        sonnet: role(&settings.models.sonnet, &p.models.sonnet),
        haiku: role(&settings.models.haiku, &p.models.haiku),
        subagent: settings.models.subagent.clone().or_else(|| p.models.subagent.clone()),
    };
    // Names are case-insensitive on Windows: the project's `Api_Timeout_Ms` replaces the
    // preset's `API_TIMEOUT_MS` instead of standing beside it.
    let mut env = p.env.clone();
    env.retain(|k, _| !settings.env.keys().any(|n| n.eq_ignore_ascii_case(k)));
    env.extend(settings.env.clone());
    let credential = match p.auth {
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
    provider.model = settings.model.clone().or_else(|| p.model.clone());
    provider.models = models;
    provider.env = env;
    Ok(Resolved { provider, credential })
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
    /// Needed and absent: both auth variables are removed and the user is told how to add one.
    Missing {
        why: String,
    },
}

/// Every variable a project controls: `Some` is set, `None` is removed.
pub(crate) fn desired(r: &Resolved, key: &Key) -> Vars {
    let p = &r.provider;
    let mut d: Vars = names::MANAGED.iter().map(|n| (n.to_string(), None)).collect();
    let mut set = |name: &str, value: &Option<String>| {
        if value.is_some() {
            d.insert(name.to_string(), value.clone());
        }
    };
    set(names::BASE_URL, &p.base_url);
    set(names::MODEL, &p.model);
    set(names::OPUS_MODEL, &p.models.opus);
    set(names::SONNET_MODEL, &p.models.sonnet);
    set(names::HAIKU_MODEL, &p.models.haiku);
    set(names::SMALL_FAST_MODEL, &p.models.haiku);
    set(names::SUBAGENT_MODEL, &p.models.subagent);
    set(names::PROVIDER, &Some(p.id.clone()));
    if let (Some(var), Key::Found { secret: v, .. } | Key::Placeholder(v)) = (p.auth.variables().0, key) {
        set(var, &Some(v.clone()));
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
        assert_eq!(r.provider.models.haiku.as_deref(), Some("m"), "file model beats preset role");
        assert_eq!(r.provider.models.subagent.as_deref(), Some("s"));
    }

    #[test]
    fn desired_sets_the_key_variable_and_removes_the_other() {
        let r = resolved("provider = \"glm\"\nmodel = \"glm-4.7\"\n[env]\nX = \"1\"\n");
        let key = Key::Found { secret: "k".into(), source: "store".into() };
        let d = desired(&r, &key);
        assert_eq!(d["ANTHROPIC_AUTH_TOKEN"].as_deref(), Some("k"));
        assert_eq!(d["ANTHROPIC_API_KEY"], None);
        assert_eq!(d["ANTHROPIC_BASE_URL"].as_deref(), Some("https://open.bigmodel.cn/api/anthropic"));
        assert_eq!(d["ANTHROPIC_SMALL_FAST_MODEL"].as_deref(), Some("glm-4.7"));
        assert_eq!(d["CLAUDE_CODE_USE_BEDROCK"], None);
        assert_eq!(d["CCENV_PROVIDER"].as_deref(), Some("glm"));
        assert_eq!(d["X"].as_deref(), Some("1"));
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
