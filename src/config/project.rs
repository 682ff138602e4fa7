//! `.claude-provider.toml` (committed) and `.claude-provider.local.toml` (personal):
//! finding them by walking up from a directory, and parsing them into one layered config.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::diagnostic::{Diagnostic, Located, Location, Source};
use crate::config::fallback::Fallback;
use crate::config::provider::{self, Roles};
use crate::core::hex;

pub(crate) const FILE: &str = ".claude-provider.toml";
pub(crate) const LOCAL_FILE: &str = ".claude-provider.local.toml";
/// Larger project files are refused before parsing.
pub(crate) const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Where a provider key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A name in ccenv's key store.
    Store(String),
    /// A variable of the shell's environment from before entering.
    Env(String),
}

impl Credential {
    pub fn describe(&self) -> String {
        match self {
            Credential::Store(n) => format!("key store `{n}`"),
            Credential::Env(v) => format!("env:{v}"),
        }
    }
}

/// One file's settings, or several layered together.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub provider: Option<Located<String>>,
    pub model: Option<String>,
    pub credential: Option<Located<Credential>>,
    pub base_url: Option<Located<String>>,
    /// The provider's auth style for this project (`import` keeps the one it found).
    pub auth: Option<provider::Auth>,
    pub models: Roles,
    pub env: BTreeMap<String, String>,
    /// Where each `[env]` name was written: the allowlist check needs the user's config,
    /// so it runs in `resolve`, and its error points here.
    pub env_names: Vec<Located<String>>,
    /// Providers the gateway tries after this one (config/fallback.rs).
    pub fallback: Option<Vec<Fallback>>,
    /// `gateway = true`: served through ccenv's local gateway even when nothing needs it,
    /// so the key stays out of the shell.
    pub gateway: Option<bool>,
}

const KEYS: &[&str] =
    &["provider", "model", "credential", "base_url", "auth", "models", "env", "fallback", "gateway"];

impl Settings {
    /// `self` with every field `over` sets replaced; tables merge key by key.
    fn overlay(mut self, over: Settings) -> Settings {
        self.provider = over.provider.or(self.provider);
        self.model = over.model.or(self.model);
        self.credential = over.credential.or(self.credential);
        self.base_url = over.base_url.or(self.base_url);
        self.auth = over.auth.or(self.auth);
        self.models.overlay(&over.models);
        self.env.extend(over.env);
        self.env_names.extend(over.env_names);
        self.fallback = over.fallback.or(self.fallback);
        self.gateway = over.gateway.or(self.gateway);
        self
    }
}

/// The project files governing a directory (at least one of the two exists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub root: PathBuf,
    pub main: Option<PathBuf>,
    pub local: Option<PathBuf>,
}

/// Result of walking up: the nearest project, and every candidate path looked at
/// (the hook watches them so a file appearing or vanishing takes effect).
#[derive(Clone, Debug)]
pub(crate) struct Discovery {
    pub found: Option<Found>,
    pub candidates: Vec<PathBuf>,
    /// Project files skipped because another user owns them, with that user's id.
    pub ignored: Vec<(PathBuf, u32)>,
}

pub(crate) fn discover(start: &Path) -> Discovery {
    let mut d = Discovery { found: None, candidates: Vec::new(), ignored: Vec::new() };
    for dir in start.ancestors() {
        let main = dir.join(FILE);
        let local = dir.join(LOCAL_FILE);
        let has_main = present(&main, &mut d.ignored);
        let has_local = present(&local, &mut d.ignored);
        d.candidates.push(main.clone());
        d.candidates.push(local.clone());
        if has_main || has_local {
            d.found = Some(Found {
                root: dir.to_path_buf(),
                main: has_main.then_some(main),
                local: has_local.then_some(local),
            });
            return d;
        }
    }
    d
}

/// Whether `path` exists and counts: a file another user owns (planted in /tmp or a
/// shared folder above the project) does not, and is noted in `ignored`.
fn present(path: &Path, ignored: &mut Vec<(PathBuf, u32)>) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    match crate::store::fs::foreign_owner(path, &meta) {
        Some(uid) => {
            ignored.push((path.to_path_buf(), uid));
            false
        }
        None => true,
    }
}

/// A project's files, read once: their bytes are what is hashed for trust and parsed.
#[derive(Clone, Debug)]
pub(crate) struct Contents {
    pub found: Found,
    pub main: Option<String>,
    pub local: Option<String>,
}

impl Contents {
    pub fn read(found: &Found) -> Result<Contents, Diagnostic> {
        Ok(Contents {
            found: found.clone(),
            main: found.main.as_deref().map(read_text).transpose()?,
            local: found.local.as_deref().map(read_text).transpose()?,
        })
    }

    /// SHA-256 over both files with presence markers: editing, adding or removing
    /// either one changes it.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for (tag, text) in [(b"main", &self.main), (b"locl", &self.local)] {
            h.update(tag);
            match text {
                Some(t) => {
                    h.update((t.len() as u64).to_le_bytes());
                    h.update(t.as_bytes());
                }
                None => h.update(u64::MAX.to_le_bytes()),
            }
        }
        hex(&h.finalize())
    }

    /// Parses and layers both files; `provider` must be set by one of them.
    pub fn settings(&self) -> Result<Settings, Diagnostic> {
        let mut merged = Settings::default();
        for (path, text) in [(&self.found.main, &self.main), (&self.found.local, &self.local)] {
            if let (Some(path), Some(text)) = (path, text) {
                merged = merged.overlay(parse(path, text)?);
            }
        }
        if merged.provider.is_none() {
            let path = self.found.main.as_ref().or(self.found.local.as_ref()).expect("one file exists");
            return Err(Diagnostic {
                at: Location { path: path.clone(), line: 1, column: 1 },
                message: "missing `provider`; add a line such as `provider = \"glm\"` \
                          (`ccenv providers` lists them)"
                    .into(),
            });
        }
        Ok(merged)
    }
}

fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let at = Location { path: path.to_path_buf(), line: 1, column: 1 };
    let fail = |message: String| Diagnostic { at: at.clone(), message };
    let bytes = crate::store::fs::read_owned(path, MAX_FILE_BYTES).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            fail(format!("a project file may hold at most {MAX_FILE_BYTES} bytes"))
        }
        _ if e.raw_os_error().is_none() => fail(e.to_string()),
        _ => fail(format!("cannot read: {e}")),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let text = String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]).into_owned();
        Source::new(path, &text).error(text.len()..text.len(), "the file is not valid UTF-8")
    })
}

pub fn parse(path: &Path, text: &str) -> Result<Settings, Diagnostic> {
    let src = Source::new(path, text);
    let root = src.parse()?;
    let mut s = Settings::default();
    for (key, value) in root.get_ref() {
        let k = key.get_ref().as_ref();
        match k {
            "provider" => {
                let p = src.string(k, value)?;
                if !provider::is_valid_id(&p.value) {
                    return Err(p.error(format!(
                        "provider `{}` is not a provider id (lower-case letters, digits, `-`, `_`)",
                        p.value
                    )));
                }
                s.provider = Some(p);
            }
            "model" => s.model = Some(provider::model_name(src.string(k, value)?)?),
            "credential" => {
                let c = src.string(k, value)?;
                let parsed = parse_credential(&c.value).map_err(|m| c.error(m))?;
                s.credential = Some(Located { value: parsed, at: c.at });
            }
            "base_url" => s.base_url = Some(src.string(k, value)?),
            "auth" => s.auth = Some(provider::parse_auth(src.string(k, value)?)?),
            "models" => s.models = provider::parse_roles(&src, src.table(k, value)?)?,
            "env" => {
                for (name, v) in
                    provider::parse_env(&src, src.table(k, value)?, &crate::config::names::never)?
                {
                    s.env.insert(name.value.clone(), v);
                    s.env_names.push(name);
                }
            }
            "fallback" => s.fallback = Some(crate::config::fallback::parse(&src, value)?),
            "gateway" => s.gateway = Some(src.boolean(k, value)?),
            _ => return Err(src.unknown_key(key, KEYS, "in the project file")),
        }
    }
    Ok(s)
}

pub(crate) fn parse_credential(value: &str) -> Result<Credential, String> {
    if let Some(var) = value.strip_prefix("env:") {
        return if crate::config::names::is_valid(var) {
            Ok(Credential::Env(var.to_string()))
        } else {
            Err(format!("`env:{var}` must name a variable ([A-Za-z_][A-Za-z0-9_]*)"))
        };
    }
    let looks_like_a_key = (value.starts_with("sk-") && value.len() >= 16) || value.len() > 40;
    if looks_like_a_key {
        Err("this looks like a key itself; keys never go in the project file. Store it with \
             `ccenv key set NAME` and write `credential = \"NAME\"`"
            .into())
    } else if crate::config::names::is_valid_key_name(value) {
        Ok(Credential::Store(value.to_string()))
    } else {
        Err(format!(
            "credential `{value}` must be a stored key name (letters, digits, `.`, `-`, `_`) or `env:VAR`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> Diagnostic {
        parse(Path::new("/p/.claude-provider.toml"), text).unwrap_err()
    }

    #[test]
    fn full_file_parses() {
        let text = "provider = \"glm\"\r\nmodel = \"glm-4.7\"\r\ncredential = \"glm-work\"\r\n\
                    [models]\r\nhaiku = \"glm-4.5-air\"\r\n[env]\r\nAPI_TIMEOUT_MS = \"3000000\"\r\n";
        let s = parse(Path::new("f"), text).unwrap();
        assert_eq!(s.provider.unwrap().value, "glm");
        assert_eq!(s.credential.unwrap().value, Credential::Store("glm-work".into()));
        assert_eq!(s.models.haiku.as_deref(), Some("glm-4.5-air"));
        assert_eq!(s.env["API_TIMEOUT_MS"], "3000000");
    }

    #[test]
    fn mistakes_are_located_and_explained() {
        let cases = [
            (
                "provider = \"glm\"\nmodle = \"x\"\n",
                (2, 1),
                "unknown key `modle` in the project file; did you mean `model`?",
            ),
            ("provider = 3\n", (1, 12), "`provider` must be a string, found an integer"),
            (
                "provider = \"glm\"\n[env]\nAPI_TIMEOUT_MS = 3000000\n",
                (3, 18),
                "write `API_TIMEOUT_MS = \"3000000\"`",
            ),
            ("provider = \"glm\"\n[env]\nCCENV_STATE = \"x\"\n", (3, 1), "belong to ccenv"),
            (
                "provider = \"glm\"\n[env]\nCLAUDE_CODE_USE_MANTLE = \"1\"\n",
                (3, 1),
                "removes it inside every project",
            ),
            ("provider = \"glm\"\n[env]\n\"A-B\" = \"1\"\n", (3, 1), "[A-Za-z_]"),
            ("provider = \"glm\"\n[models]\nopsu = \"m\"\n", (3, 1), "did you mean `opus`?"),
            ("provider = \"glm\"\ncredential = \"sk-abcdef0123456789\"\n", (2, 14), "looks like a key"),
            ("provider = \"glm\"\ncredential = \"env:1X\"\n", (2, 14), "must name a variable"),
            ("provider = \"GLM!\"\n", (1, 12), "not a provider id"),
            ("provider = \"glm\"\n[env]\nFOO = \"1\"\nFoo = \"2\"\n", (4, 1), "one variable on Windows"),
            ("provider = \"glm\"\nprovider = \"kimi\"\n", (2, 1), "invalid TOML"),
        ];
        for (text, (line, column), needle) in cases {
            let e = err(text);
            assert_eq!((e.at.line, e.at.column), (line, column), "{e}");
            assert!(e.message.contains(needle), "{e}");
        }
    }

    #[test]
    fn local_file_overrides_and_may_stand_alone() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join(FILE), "provider = \"glm\"\nmodel = \"a\"\n[env]\nX = \"1\"\nY = \"1\"\n")
            .unwrap();
        std::fs::write(root.join(LOCAL_FILE), "model = \"b\"\n[env]\nY = \"2\"\n").unwrap();
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        let d = discover(&root.join("sub/deeper"));
        let found = d.found.unwrap();
        assert_eq!(found.root, root);
        assert_eq!(d.candidates.len(), 6);
        let c = Contents::read(&found).unwrap();
        let s = c.settings().unwrap();
        assert_eq!((s.provider.unwrap().value.as_str(), s.model.as_deref()), ("glm", Some("b")));
        assert_eq!((s.env["X"].as_str(), s.env["Y"].as_str()), ("1", "2"));
        let digest = c.digest();

        std::fs::remove_file(root.join(FILE)).unwrap();
        let found = discover(root).found.unwrap();
        assert_eq!(found.main, None);
        let c = Contents::read(&found).unwrap();
        assert_ne!(c.digest(), digest);
        let e = c.settings().unwrap_err();
        assert!(e.message.starts_with("missing `provider`"), "{e}");
    }

    #[test]
    fn unreadable_shapes_are_diagnosed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(FILE)).unwrap();
        let found = discover(dir.path()).found.unwrap();
        assert!(Contents::read(&found).unwrap_err().message.contains("not a regular file"));
        std::fs::remove_dir(dir.path().join(FILE)).unwrap();
        std::fs::write(dir.path().join(FILE), b"provider = \"\xff\"\n").unwrap();
        let found = discover(dir.path()).found.unwrap();
        assert!(Contents::read(&found).unwrap_err().message.contains("UTF-8"));
        std::fs::write(dir.path().join(FILE), vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert!(Contents::read(&found).unwrap_err().message.contains("at most"));
    }
}
