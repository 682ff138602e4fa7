//! A provider: its fields (endpoint, auth, models, env) and how they are read from
//! TOML, for the presets, config.toml and the project file alike.

use std::collections::BTreeMap;

use serde::Serialize;
use toml::de::{DeTable, DeValue};

use crate::config::diagnostic::{Diagnostic, Located, Source, suggest};
use crate::config::keys::PROVIDER_KEYS;
use crate::config::names;

pub use crate::config::catalog::Catalog;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Auth {
    #[serde(rename = "bearer")]
    Bearer,
    #[serde(rename = "x-api-key")]
    XApiKey,
    #[serde(rename = "none")]
    None,
}

impl Auth {
    /// The variable that carries the key, and the one that must be removed.
    pub fn variables(self) -> (Option<&'static str>, &'static [&'static str]) {
        match self {
            Auth::Bearer => (Some(names::AUTH_TOKEN), &[names::API_KEY]),
            Auth::XApiKey => (Some(names::API_KEY), &[names::AUTH_TOKEN]),
            Auth::None => (None, &[names::AUTH_TOKEN, names::API_KEY]),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::Bearer => "bearer",
            Auth::XApiKey => "x-api-key",
            Auth::None => "none",
        }
    }
}

/// The API an endpoint speaks. Claude Code speaks only Anthropic Messages; an
/// `openai-chat` provider is served through ccenv's local gateway, which translates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Protocol {
    #[default]
    #[serde(rename = "anthropic")]
    Anthropic,
    #[serde(rename = "openai-chat")]
    OpenAiChat,
}

/// Model per Claude Code role; `None` falls back (see `resolve`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Roles {
    pub opus: Option<String>,
    pub sonnet: Option<String>,
    pub haiku: Option<String>,
    pub fable: Option<String>,
    pub subagent: Option<String>,
}

impl Roles {
    pub const KEYS: [&'static str; 5] = super::keys::ROLES;

    pub fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        match key {
            "opus" => Some(&mut self.opus),
            "sonnet" => Some(&mut self.sonnet),
            "haiku" => Some(&mut self.haiku),
            "fable" => Some(&mut self.fable),
            "subagent" => Some(&mut self.subagent),
            _ => None,
        }
    }

    /// `self` with every role `over` sets replaced.
    pub fn overlay(&mut self, over: &Roles) {
        let pairs = [
            (&mut self.opus, &over.opus),
            (&mut self.sonnet, &over.sonnet),
            (&mut self.haiku, &over.haiku),
            (&mut self.fable, &over.fable),
            (&mut self.subagent, &over.subagent),
        ];
        for (mine, theirs) in pairs {
            if theirs.is_some() {
                mine.clone_from(theirs);
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Provider {
    pub id: String,
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub protocol: Protocol,
    pub auth: Auth,
    pub key_optional: bool,
    pub placeholder_key: Option<String>,
    pub key_url: Option<String>,
    pub model: Option<String>,
    pub models: Roles,
    pub env: BTreeMap<String, String>,
    /// "preset", "user" or "preset+user".
    pub origin: &'static str,
}

/// Field-by-field description of a provider as written in a file; absent fields stay `None`.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProviderFields {
    name: Option<String>,
    pub(crate) base_url: Option<Located<String>>,
    pub(crate) protocol: Option<Protocol>,
    auth: Option<Auth>,
    key_optional: Option<bool>,
    placeholder_key: Option<String>,
    key_url: Option<String>,
    model: Option<String>,
    models: Roles,
    env: BTreeMap<String, String>,
}

impl Provider {
    pub(crate) fn empty(id: &str, origin: &'static str) -> Provider {
        Provider {
            id: id.to_string(),
            name: None,
            base_url: None,
            protocol: Protocol::Anthropic,
            auth: Auth::Bearer,
            key_optional: false,
            placeholder_key: None,
            key_url: None,
            model: None,
            models: Roles::default(),
            env: BTreeMap::new(),
            origin,
        }
    }
}

impl ProviderFields {
    pub(crate) fn apply_to(self, p: &mut Provider) {
        macro_rules! take {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { p.$f = v.into(); } )* };
        }
        take!(name, protocol, auth, key_optional, placeholder_key, key_url, model);
        if let Some(u) = self.base_url {
            p.base_url = Some(u.value);
        }
        p.models.overlay(&self.models);
        p.env.extend(self.env);
    }
}

pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Why `[env]` may not set a name, or `None`.
pub(crate) type EnvCheck<'a> = dyn Fn(&str) -> Option<String> + 'a;

pub(crate) fn parse_fields(
    src: &Source,
    id: &str,
    table: &DeTable,
    check: &EnvCheck,
) -> Result<ProviderFields, Diagnostic> {
    let mut f = ProviderFields::default();
    for (key, value) in table {
        let k = key.get_ref().as_ref();
        match k {
            "name" => f.name = Some(src.string(k, value)?.value),
            "base_url" => f.base_url = Some(src.string(k, value)?),
            "protocol" => f.protocol = Some(parse_protocol(src.string(k, value)?)?),
            "auth" => f.auth = Some(parse_auth(src.string(k, value)?)?),
            "key_optional" => f.key_optional = Some(src.boolean(k, value)?),
            "placeholder_key" => f.placeholder_key = Some(src.string(k, value)?.value),
            "key_url" => f.key_url = Some(src.string(k, value)?.value),
            "model" => f.model = Some(model_name(src.string(k, value)?)?),
            "models" => f.models = parse_roles(src, src.table(k, value)?)?,
            "env" => {
                f.env = parse_env(src, src.table(k, value)?, check)?
                    .into_iter()
                    .map(|(n, v)| (n.value, v))
                    .collect()
            }
            _ => return Err(src.unknown_key(key, PROVIDER_KEYS, &format!("in provider `{id}`"))),
        }
    }
    Ok(f)
}

fn parse_protocol(s: Located<String>) -> Result<Protocol, Diagnostic> {
    match s.value.as_str() {
        "anthropic" => Ok(Protocol::Anthropic),
        "openai-chat" => Ok(Protocol::OpenAiChat),
        other => {
            let mut m = format!("unknown protocol `{other}`");
            match suggest(other, ["anthropic", "openai-chat"]) {
                Some(g) => m.push_str(&format!("; did you mean `{g}`?")),
                None => m.push_str("; expected `anthropic` or `openai-chat`"),
            }
            Err(s.error(m))
        }
    }
}

pub(crate) fn parse_auth(s: Located<String>) -> Result<Auth, Diagnostic> {
    Ok(match s.value.as_str() {
        "bearer" => Auth::Bearer,
        "x-api-key" => Auth::XApiKey,
        "none" => Auth::None,
        other => {
            let mut m = format!("unknown auth `{other}`");
            match suggest(other, ["bearer", "x-api-key", "none"]) {
                Some(g) => m.push_str(&format!("; did you mean `{g}`?")),
                None => m.push_str("; expected `bearer`, `x-api-key` or `none`"),
            }
            return Err(s.error(m));
        }
    })
}

/// `""` is allowed: it means "send nothing for this role; the server picks".
pub(crate) fn model_name(m: Located<String>) -> Result<String, Diagnostic> {
    if m.value.chars().any(char::is_control) || m.value.trim() != m.value {
        return Err(
            m.error("model names are free of control characters and surrounding spaces (\"\" sends none)")
        );
    }
    Ok(m.value)
}

pub(crate) fn parse_roles(src: &Source, table: &DeTable) -> Result<Roles, Diagnostic> {
    let mut roles = Roles::default();
    for (key, value) in table {
        let k = key.get_ref().as_ref();
        let model = model_name(src.string(k, value)?)?;
        match roles.slot(k) {
            Some(slot) => *slot = Some(model),
            None => return Err(src.unknown_key(key, &Roles::KEYS, "in [models]")),
        }
    }
    Ok(roles)
}

/// `[env]` in file order, each name with where it was written (a project's names are
/// checked against the user's allowlist later, in `resolve`, when config.toml is known).
pub(crate) fn parse_env(
    src: &Source,
    table: &DeTable,
    check: &EnvCheck,
) -> Result<Vec<(Located<String>, String)>, Diagnostic> {
    let mut env: Vec<(Located<String>, String)> = Vec::new();
    for (key, value) in table {
        let name = key.get_ref().as_ref();
        if let Some(why) = check(name) {
            return Err(src.error(key.span(), format!("[env] `{name}`: {why}")));
        }
        if let Some((other, _)) = env.iter().find(|(k, _)| k.value.eq_ignore_ascii_case(name)) {
            let other = &other.value;
            return Err(src.error(
                key.span(),
                format!("[env] `{name}` and `{other}` are one variable on Windows; keep one"),
            ));
        }
        let v = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) => {
                let raw = &src.text[value.span()];
                return Err(
                    src.error(value.span(), format!("[env] values are strings: write `{name} = \"{raw}\"`"))
                );
            }
            other => {
                return Err(src.error(
                    value.span(),
                    format!(
                        "[env] `{name}` must be a string, found {}",
                        crate::config::diagnostic::type_name(other)
                    ),
                ));
            }
        };
        if v.contains('\0') {
            return Err(src.error(value.span(), format!("[env] `{name}` contains a NUL character")));
        }
        let at = src.error(key.span(), String::new()).at;
        env.push((Located { value: name.to_string(), at }, v));
    }
    Ok(env)
}

/// `https://llm.corp.example/anthropic` → `llm-corp-example`.
pub(crate) fn id_from_url(url: &str) -> String {
    let host = url.split("://").nth(1).unwrap_or(url).split(['/', ':']).next().unwrap_or("");
    let host = host.strip_prefix("api.").unwrap_or(host).to_ascii_lowercase();
    let id: String = host.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).take(40).collect();
    match id.trim_matches('-') {
        "" => "imported".into(),
        id => id.to_string(),
    }
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
