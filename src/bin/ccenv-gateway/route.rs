//! What the gateway needs to know about a project: the ordered upstreams that may serve
//! it, or why it may not be served. `Resolver` is the seam where ccenv's project and
//! trust rules plug in: `project_routes.rs` (ccenv's rules), `routes_file.rs` (a test aid).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Finds the route for a project root. Called once per request (on a blocking thread),
/// so an implementation may read files; it must not cache a decision past an edit.
pub(crate) trait Resolver: Send + Sync + 'static {
    fn route(&self, root: &Path) -> Result<Route, Refusal>;
}

/// Upstreams in the order they are tried; the first is the primary. Never empty.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub upstreams: Vec<Upstream>,
}

/// Why a project is not served, written for the person at the terminal: what is wrong
/// and the command that fixes it. Claude Code shows it as the API error.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Refusal(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub(crate) enum Protocol {
    #[serde(rename = "anthropic")]
    Anthropic,
    #[serde(rename = "openai-chat")]
    OpenAiChat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AuthStyle {
    Bearer,
    XApiKey,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    Default,
    Opus,
    Sonnet,
    Haiku,
    Subagent,
}

/// An upstream credential. Debug and Display never show it; only `expose` does, at the
/// one place a request to this upstream's own URL is built.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(s: String) -> Secret {
        Secret(s)
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Upstream {
    /// The provider id (`groq`, `kimi`, …): shown in status and usage, never secret.
    #[serde(skip)]
    pub id: String,
    pub protocol: Protocol,
    /// Without the API path: `https://api.groq.com/openai/v1` for openai-chat (the
    /// gateway appends `/chat/completions`), `https://api.deepseek.com/anthropic` for
    /// anthropic (it appends `/v1/messages`, as Claude Code does).
    pub base_url: String,
    pub key: Secret,
    pub auth: AuthStyle,
    #[serde(default)]
    pub models: BTreeMap<Role, String>,
}

impl Route {
    /// The role a requested model plays, judged against the primary's model map: an exact
    /// match first, then Claude Code's own alias families, else `Default`.
    pub(crate) fn role_of(&self, requested: &str) -> Role {
        let primary = &self.upstreams[0];
        if let Some((role, _)) = primary.models.iter().find(|(_, m)| m.as_str() == requested) {
            return *role;
        }
        let lower = requested.to_ascii_lowercase();
        [Role::Opus, Role::Sonnet, Role::Haiku]
            .into_iter()
            .find(|r| lower.contains(&format!("{r:?}").to_ascii_lowercase()))
            .unwrap_or(Role::Default)
    }
}

impl Upstream {
    /// The model this upstream uses for `role`: its own entry, else its default, else
    /// (no map at all) what the client asked for.
    pub(crate) fn model_for(&self, role: Role, requested: &str) -> String {
        self.models
            .get(&role)
            .or_else(|| self.models.get(&Role::Default))
            .cloned()
            .unwrap_or_else(|| requested.to_string())
    }
}

/// The project root carried in the URL path (`/p/<base64url of the root>/v1/...`):
/// base64url keeps any byte of a path, including `/` and non-UTF-8, out of URL syntax.
pub(crate) fn decode_root(segment: &str) -> Option<PathBuf> {
    use base64::Engine;
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
    let path = bytes_to_path(bytes)?;
    path.is_absolute().then_some(path)
}

/// The hook's side of `decode_root` (ccenv will carry its own copy); here for tests.
#[cfg(test)]
pub(crate) fn encode_root(root: &Path) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(path_bytes(root))
}

#[cfg(unix)]
fn bytes_to_path(bytes: Vec<u8>) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

#[cfg(not(unix))]
fn bytes_to_path(bytes: Vec<u8>) -> Option<PathBuf> {
    String::from_utf8(bytes).ok().map(PathBuf::from)
}

#[cfg(all(unix, test))]
fn path_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(all(not(unix), test))]
fn path_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().into_owned().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(models: &[(Role, &str)]) -> Upstream {
        Upstream {
            id: "p".into(),
            protocol: Protocol::OpenAiChat,
            base_url: "http://127.0.0.1:9/v1".into(),
            key: Secret::new("k".into()),
            auth: AuthStyle::Bearer,
            models: models.iter().map(|(r, m)| (*r, m.to_string())).collect(),
        }
    }

    #[test]
    fn roles_come_from_the_primary_map_then_the_alias_family() {
        let route = Route {
            upstreams: vec![up(&[(Role::Default, "big"), (Role::Haiku, "small"), (Role::Subagent, "mid")])],
        };
        assert_eq!(route.role_of("small"), Role::Haiku);
        assert_eq!(route.role_of("mid"), Role::Subagent);
        assert_eq!(route.role_of("big"), Role::Default);
        assert_eq!(route.role_of("claude-3-5-haiku-20241022"), Role::Haiku);
        assert_eq!(route.role_of("claude-opus-4-1"), Role::Opus);
        assert_eq!(route.role_of("something-else"), Role::Default);
    }

    #[test]
    fn a_fallback_uses_its_own_model_for_the_role() {
        let fb = up(&[(Role::Default, "fb-big"), (Role::Haiku, "fb-small")]);
        assert_eq!(fb.model_for(Role::Haiku, "x"), "fb-small");
        assert_eq!(fb.model_for(Role::Opus, "x"), "fb-big");
        assert_eq!(up(&[]).model_for(Role::Opus, "asked"), "asked");
    }

    #[test]
    fn roots_survive_the_url_including_non_utf8() {
        for p in ["/a/b c/ü", "/", "/x/y+/z?=&#"] {
            let enc = encode_root(Path::new(p));
            assert!(enc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{enc}");
            assert_eq!(decode_root(&enc).unwrap(), Path::new(p));
        }
        #[cfg(unix)]
        {
            let raw = bytes_to_path(vec![b'/', 0xff, b'x']).unwrap();
            assert_eq!(decode_root(&encode_root(&raw)).unwrap(), raw);
        }
        assert_eq!(decode_root("cmVsYXRpdmU"), None, "relative paths are refused");
        assert_eq!(decode_root("not base64!"), None);
    }

    #[test]
    fn secrets_do_not_print() {
        let u = up(&[]);
        assert!(!format!("{u:?}").contains("\"k\""));
    }
}
