//! The provider catalog: the built-in presets (data/presets.toml, turned into static data
//! by build.rs), user providers from config.toml layered over them, and the checks that
//! keep OpenAI-only endpoints out.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::diagnostic::{Diagnostic, Source, suggest};
use crate::config::names;
use crate::config::policy::{Policy, parse_policy};
use crate::config::provider::{Protocol, Provider, ProviderFields, is_valid_id, parse_fields};

/// The way to use an OpenAI-only endpoint, named wherever one is refused.
const OPENAI_CHAT_HINT: &str = "set `protocol = \"openai-chat\"` in a user provider in config.toml \
     (ccenv then serves it through its local gateway)";

mod builtin;
use builtin::{from_preset, preset};

/// Every provider id a project may name, plus the knowledge needed to refuse bad ones.
/// The presets are static data (build.rs): a provider becomes an owned `Provider` only
/// when asked for, so the hook pays for the one it uses.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// Providers from the user's config.toml, each laid over the preset of its id.
    user: BTreeMap<String, Provider>,
    /// User providers whose definition has an error: only projects naming them fail.
    pub broken: BTreeMap<String, String>,
    /// The user's policy from config.toml's `[env]`; a project file cannot change it.
    pub policy: Policy,
}

impl Catalog {
    /// The embedded presets alone.
    pub fn builtin() -> Catalog {
        Catalog::default()
    }

    /// The presets with the user's `[providers.*]` from config.toml laid over them.
    pub fn with_user_config(path: &Path, text: &str) -> Result<Catalog, Diagnostic> {
        let mut catalog = Catalog::builtin();
        let src = Source::new(path, text);
        let root = src.parse()?;
        // The policy first: it decides which `[env]` names the providers below may use.
        if let Some(env) = root.get_ref().get("env") {
            catalog.policy = parse_policy(&src, src.table("env", env)?)?;
        }
        for (key, value) in root.get_ref() {
            match key.get_ref().as_ref() {
                "env" => {}
                "providers" => {
                    for (id, table) in src.table("providers", value)? {
                        let id_str = id.get_ref().as_ref();
                        if !is_valid_id(id_str) {
                            return Err(src.error(
                                id.span(),
                                format!("provider id `{id_str}` may use only a-z, 0-9, `-` and `_`"),
                            ));
                        }
                        let allow = &catalog.policy.env_allow;
                        let check = |n: &str| names::refusal_with(n, allow);
                        let fields =
                            src.table(id_str, table).and_then(|t| parse_fields(&src, id_str, t, &check));
                        match fields.and_then(|f| catalog.check_fields(id_str, &f).map(|()| f)) {
                            Ok(f) => catalog.add_user(id_str, f),
                            Err(d) => {
                                catalog.user.remove(id_str);
                                catalog.broken.insert(id_str.to_string(), d.to_string());
                            }
                        }
                    }
                }
                _ => return Err(src.unknown_key(key, &["providers", "env"], "in the user config")),
            }
        }
        Ok(catalog)
    }

    /// The date the presets' models were last checked.
    pub fn updated(&self) -> &'static str {
        builtin::UPDATED
    }

    /// One provider by id: the user's, else the preset; none when the user's is broken.
    pub fn provider(&self, id: &str) -> Option<Provider> {
        if self.broken.contains_key(id) {
            return None;
        }
        self.user.get(id).cloned().or_else(|| preset(id).map(from_preset))
    }

    /// Every provider, by id.
    pub fn providers(&self) -> BTreeMap<String, Provider> {
        let mut all: BTreeMap<String, Provider> =
            builtin::PRESETS.iter().map(|p| (p.id.to_string(), from_preset(p))).collect();
        all.extend(self.user.clone());
        all.retain(|id, _| !self.broken.contains_key(id));
        all
    }

    /// A user provider replaces a refused id too: it names a proxy that works.
    fn add_user(&mut self, id: &str, fields: ProviderFields) {
        let mut p = match preset(id) {
            Some(preset) => Provider { origin: "preset+user", ..from_preset(preset) },
            None => Provider::empty(id, "user"),
        };
        fields.apply_to(&mut p);
        self.user.insert(id.to_string(), p);
    }

    fn check_fields(&self, id: &str, fields: &ProviderFields) -> Result<(), Diagnostic> {
        let preset = self.provider(id).map_or(Protocol::Anthropic, |p| p.protocol);
        if let Some(url) = &fields.base_url {
            self.check_base_url(&url.value, fields.protocol.unwrap_or(preset)).map_err(|m| url.error(m))?;
        }
        Ok(())
    }

    /// Looks up a provider id, explaining refused names and suggesting near misses.
    pub fn get(&self, id: &str) -> Result<Provider, String> {
        if let Some(p) = self.provider(id) {
            return Ok(p);
        }
        if let Some(e) = self.broken.get(id) {
            return Err(format!("provider `{id}` is defined with an error: {e}"));
        }
        if let Some(r) = builtin::REFUSED.iter().find(|r| r.id == id) {
            let mut m = format!(
                "provider `{id}` has no Anthropic-compatible endpoint: {}. Claude Code speaks the \
                 Anthropic Messages API",
                r.why
            );
            match r.use_instead {
                Some(u) => m.push_str(&format!("; use `{u}`")),
                None => m.push_str(&format!("; for its OpenAI-compatible endpoint, {OPENAI_CHAT_HINT}")),
            }
            return Err(m);
        }
        let mut m = format!("unknown provider `{id}`");
        let lower = id.to_ascii_lowercase();
        let alias = builtin::ALIASES.iter().find(|(name, _)| *name == lower).map(|(_, to)| *to);
        let ids = builtin::PRESETS.iter().map(|p| p.id).chain(self.user.keys().map(String::as_str));
        match alias.or_else(|| suggest(id, ids)) {
            Some(s) => m.push_str(&format!("; did you mean `{s}`?")),
            None => m.push_str("; `ccenv providers` lists them, or define it in config.toml"),
        }
        Err(m)
    }

    /// Refuses base URLs that cannot work for `protocol`: for Anthropic ones, those that
    /// cannot be `ANTHROPIC_BASE_URL`, naming the right one.
    pub fn check_base_url(&self, url: &str, protocol: Protocol) -> Result<(), String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("base_url `{url}` must start with https:// or http://"));
        }
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!("base_url {url:?} contains spaces or control characters"));
        }
        if let Some(why) = authority_problem(url) {
            return Err(format!("base_url `{url}`: {why}"));
        }
        if protocol == Protocol::OpenAiChat {
            return Ok(());
        }
        let norm = url.trim_end_matches('/').to_ascii_lowercase();
        // Tencent's and Zhipu's cURL examples print the full request URL.
        for tail in ["/v1/messages"] {
            if norm.ends_with(tail) && !is_known_openai(&norm) {
                let trimmed = url.trim_end_matches('/');
                let right = &trimmed[..trimmed.len() - tail.len()];
                return Err(format!(
                    "base_url `{url}` is the full request URL; Claude Code appends /v1/messages \
                     itself, so it would call …{tail}/v1/messages. Use `{right}`"
                ));
            }
        }
        let openai = "is an OpenAI-compatible endpoint; Claude Code speaks the Anthropic Messages API";
        for known in builtin::OPENAI_URLS {
            let k = known.url.trim_end_matches('/').to_ascii_lowercase();
            if norm == k || (known.prefix && norm.starts_with(&format!("{k}/"))) {
                // A gateway preset for the same endpoint is the shortest way there.
                let norm_url = |b: &str| b.trim_end_matches('/').to_ascii_lowercase();
                let preset = self.providers().into_values().find(|p| {
                    p.protocol == Protocol::OpenAiChat
                        && p.base_url.as_deref().map(norm_url) == Some(k.clone())
                });
                return Err(match (known.use_instead, preset) {
                    (Some(u), _) => format!("base_url `{url}` {openai}. Use `{u}`"),
                    (None, Some(p)) => format!(
                        "base_url `{url}` {openai}, and this vendor has no Anthropic endpoint: use the \
                         preset `provider = \"{}\"` (served through ccenv's local gateway) without base_url",
                        p.id
                    ),
                    (None, None) => format!(
                        "base_url `{url}` {openai}, and this vendor has no Anthropic endpoint: \
                         {OPENAI_CHAT_HINT}"
                    ),
                });
            }
        }
        const OPENAI_MARKS: [&str; 6] =
            ["/compatible-mode/", "/openai", "/paas/v4", "/api/v3", "chat/completions", "wenxinworkshop"];
        if OPENAI_MARKS.iter().any(|m| format!("{norm}/").contains(m)) {
            return Err(format!("base_url `{url}` {openai}; use the vendor's Anthropic path"));
        }
        if norm.ends_with("/v1") {
            return Err(format!(
                "base_url `{url}` ends in /v1, but Claude Code appends /v1/messages itself; \
                 use `{}`",
                url.trim_end_matches('/').trim_end_matches("/v1")
            ));
        }
        Ok(())
    }
}

/// Why the host `allow` names (`resolve::host_of`) might not be the one Claude Code
/// connects to, or `None`. Node's URL parser (WHATWG) ends the authority at a backslash
/// too, skips an empty one, and decodes `%` escapes and maps non-ASCII in the host; so only
/// authorities written the one way both read alike are accepted: `[userinfo@]host[:port]`
/// with an ASCII name or a bracketed IPv6 address.
fn authority_problem(url: &str) -> Option<&'static str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let (userinfo, hostport) = authority.rsplit_once('@').map_or(("", authority), |(u, h)| (u, h));
    let userinfo_ok = userinfo.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:".contains(&b));
    let (host, port) = match hostport.rfind(']') {
        Some(end) => {
            let rest = &hostport[end + 1..];
            (&hostport[..=end], rest.strip_prefix(':').or(Some(rest).filter(|r| !r.is_empty())))
        }
        None => hostport.split_once(':').map_or((hostport, None), |(h, p)| (h, Some(p))),
    };
    let name = |h: &str| h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    let ipv6 = |h: &str| {
        h.strip_prefix('[').and_then(|h| h.strip_suffix(']')).is_some_and(|a| {
            !a.is_empty() && a.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        })
    };
    if !userinfo_ok {
        Some("the part before `@` may hold only letters, digits and `-._~!$&'()*+,;=:`")
    } else if host.is_empty() || !(name(host) || ipv6(host)) {
        Some(
            "the host must be an ASCII name (write an international one as its xn-- form) or an \
             IPv6 address in brackets, with nothing a URL parser could read another way \
             (`\\`, `%`, an empty host)",
        )
    } else if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        Some("the port must be digits")
    } else {
        None
    }
}

fn is_known_openai(norm: &str) -> bool {
    builtin::OPENAI_URLS.iter().any(|k| {
        let k = k.url.trim_end_matches('/').to_ascii_lowercase();
        norm == k || norm.starts_with(&format!("{k}/"))
    })
}

#[cfg(test)]
mod tests;
