//! Where provider keys live: behind the `KeyStore` trait so an OS keychain can be
//! added later. The one implementation today is a TOML file in the config folder,
//! mode 0600, refused (as ssh refuses a private key) when others can read it.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::store::fs as fsutil;

pub(crate) trait KeyStore {
    fn get(&self, name: &str) -> Result<Option<String>>;
    fn set(&self, name: &str, secret: &str) -> Result<()>;
    /// Returns whether the key existed.
    fn remove(&self, name: &str) -> Result<bool>;
    fn names(&self) -> Result<Vec<String>>;
    /// Where keys are kept, for messages.
    fn describe(&self) -> String;
}

/// A secret must be one line of printable text: it travels through every shell.
pub(crate) fn check_secret(secret: &str) -> Result<()> {
    if secret.is_empty() {
        bail!("the key is empty");
    }
    if secret.chars().any(char::is_control) {
        bail!("the key contains control characters (a newline, tab or NUL); paste it on one line");
    }
    Ok(())
}

/// A guide's stand-in for a key (`your_zhipu_api_key`, `sk-xxxxxx`, `<your key>`,
/// `MINIMAX_API_KEY`): storing one would send it and fail far from the cause.
pub(crate) fn placeholder(secret: &str) -> Option<&'static str> {
    let lower = secret.to_ascii_lowercase();
    let body = lower.trim_start_matches("sk-").trim_start_matches("sk_");
    if secret.starts_with('<') && secret.ends_with('>') {
        return Some("it is wrapped in <…> like a guide's stand-in");
    }
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let named = words.windows(2).any(|w| w == ["api", "key"] || w == ["your", "key"]);
    if named || words.iter().any(|w| matches!(*w, "your" | "apikey" | "yourkey")) || lower.contains("你的")
    {
        return Some("it reads like a guide's stand-in (\"your…\", \"…API_KEY\")");
    }
    let filler = |w: &str| w.chars().all(|c| matches!(c, 'x' | '*' | '.' | '…' | '-' | '_'));
    if !body.is_empty() && filler(body) {
        return Some("it is only x's or stars, like a guide's stand-in");
    }
    // A vendor prefix and filler: `sk-kimi-xxxxxxxx`, `sk-ant-...`.
    let tail = lower.rsplit(['-', '_']).next().unwrap_or("");
    if tail.chars().count() >= 3 && filler(tail) {
        return Some("it ends in x's or dots, like a guide's stand-in");
    }
    None
}

/// What people paste around a key, removed: surrounding whitespace, quotes,
/// `export NAME="…"`, `NAME=`, `set NAME=` and `Bearer `. Returns the key and what was
/// removed, or why the text is not a key (the message never contains the text).
pub(crate) fn clean_pasted(raw: &str) -> Result<(String, Vec<&'static str>)> {
    let mut removed = Vec::new();
    // The newline `echo` or a terminal adds is not worth a word.
    let raw = raw.strip_suffix('\n').map(|r| r.strip_suffix('\r').unwrap_or(r)).unwrap_or(raw);
    let mut s = raw.trim();
    if s.len() != raw.len() {
        removed.push("surrounding whitespace");
    }
    for prefix in ["export ", "set ", "$env:"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.trim_start();
            removed.push(if prefix == "$env:" { "`$env:`" } else { "a shell `export`/`set`" });
        }
    }
    if let Some((name, value)) = s.split_once('=')
        && crate::config::names::is_valid(name.trim())
    {
        s = value.trim();
        removed.push("a leading `NAME=`");
    }
    // Curly quotes come with text copied from formatted pages or typed with a CJK input method.
    for (open, close) in [('"', '"'), ('\'', '\''), ('“', '”'), ('‘', '’')] {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            s = inner.trim();
            removed.push("quotes");
        }
    }
    if let Some(rest) = s.get(..7).filter(|p| p.eq_ignore_ascii_case("bearer ")).map(|_| &s[7..]) {
        s = rest.trim();
        removed.push("`Bearer `");
    }
    check_secret(s)?;
    if s.chars().any(char::is_whitespace) {
        bail!("the key contains a space; a key is one word. Paste only the key");
    }
    if let Some(why) = placeholder(s) {
        bail!("that is a placeholder, not a key: {why}. Paste the key from your provider's console");
    }
    // Keys travel in HTTP headers and through every shell: they are ASCII.
    if !s.is_ascii() {
        bail!(
            "the key contains a character that is not ASCII (a full-width or accented letter?); paste only the key"
        );
    }
    Ok((s.to_string(), removed))
}

pub(crate) struct FileKeyStore {
    path: PathBuf,
}

impl FileKeyStore {
    pub(crate) fn new(path: PathBuf) -> Self {
        FileKeyStore { path }
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn load(&self) -> Result<BTreeMap<String, String>> {
        let text = match fsutil::read_to_string_limited(&self.path, fsutil::MIB) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", self.path.display()));
            }
        };
        check_permissions(&self.path)?;
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            keys: BTreeMap<String, String>,
        }
        // The parser's message quotes the line it stopped at, which here holds a key:
        // only the position is shown.
        let file: File = toml::from_str(&text).map_err(|e| {
            let at = e.span().map(|s| s.start).unwrap_or(0).min(text.len());
            let line = text[..at].matches('\n').count() + 1;
            let column = text[..at].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            anyhow::anyhow!(
                "the key store {} is corrupt at line {line}, column {column} (the parser's message is \
                 not shown: it would quote a key); fix or remove it and store the keys again",
                self.path.display()
            )
        })?;
        Ok(file.keys)
    }

    fn save(&self, keys: &BTreeMap<String, String>) -> Result<()> {
        let mut out =
            String::from("# ccenv key store: keep private (chmod 600). Managed by `ccenv key`.\n[keys]\n");
        for (name, secret) in keys {
            out.push_str(&format!("{} = {}\n", toml_key(name), toml::Value::String(secret.clone())));
        }
        fsutil::write_atomic(&self.path, out.as_bytes())
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

fn toml_key(name: &str) -> String {
    if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        name.to_string()
    } else {
        format!("\"{name}\"")
    }
}

/// ssh's rule: a file others may read is refused, with the command that fixes it.
pub(crate) fn check_permissions(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!(
                "permissions {mode:04o} for {} are too open: other users could read your keys. \
                 Run: chmod 600 '{}'",
                path.display(),
                path.display()
            );
        }
    }
    // Windows: the profile folder's ACL protects the file; ACLs are not checked (SECURITY.md).
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

impl KeyStore for FileKeyStore {
    fn get(&self, name: &str) -> Result<Option<String>> {
        Ok(self.load()?.remove(name))
    }

    fn set(&self, name: &str, secret: &str) -> Result<()> {
        if !crate::config::names::is_valid_key_name(name) {
            bail!("key name `{name}` may use only letters, digits, `.`, `-` and `_`");
        }
        check_secret(secret)?;
        let _lock = fsutil::lock(self.dir(), "keys")?;
        let mut keys = self.load()?;
        keys.insert(name.to_string(), secret.to_string());
        self.save(&keys)
    }

    fn remove(&self, name: &str) -> Result<bool> {
        let _lock = fsutil::lock(self.dir(), "keys")?;
        let mut keys = self.load()?;
        let existed = keys.remove(name).is_some();
        if existed {
            self.save(&keys)?;
        }
        Ok(existed)
    }

    fn names(&self) -> Result<Vec<String>> {
        Ok(self.load()?.into_keys().collect())
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn set_get_remove_round_trip_with_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::new(dir.path().join("cfg/keys.toml"));
        assert_eq!(store.get("glm").unwrap(), None);
        store.set("glm", "sk-\"quoted\"\\'x'").unwrap();
        store.set("a.b-c_d", "k2").unwrap();
        assert_eq!(store.get("glm").unwrap().as_deref(), Some("sk-\"quoted\"\\'x'"));
        assert_eq!(store.names().unwrap(), ["a.b-c_d", "glm"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(store.remove("glm").unwrap());
        assert!(!store.remove("glm").unwrap());
        assert_eq!(store.names().unwrap(), ["a.b-c_d"]);
    }

    #[cfg(unix)]
    #[test]
    fn readable_store_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::new(dir.path().join("keys.toml"));
        store.set("glm", "secret-value").unwrap();
        fs::set_permissions(store.path(), fs::Permissions::from_mode(0o644)).unwrap();
        let e = store.get("glm").unwrap_err().to_string();
        assert!(e.contains("0644") && e.contains("chmod 600"), "{e}");
        assert!(!e.contains("secret-value"));
    }

    #[test]
    fn bad_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::new(dir.path().join("keys.toml"));
        assert!(store.set("a b", "x").is_err());
        assert!(store.set("ok", "").is_err());
        assert!(store.set("ok", "two\nlines").is_err());
        fs::write(store.path(), "not toml [").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(store.path(), fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert!(store.get("ok").unwrap_err().to_string().contains("corrupt"));
    }

    #[test]
    fn pasted_junk_is_stripped_and_placeholders_refused() {
        let k = "sk-abc0123456789";
        for p in [format!(" {k}\n"), format!("Bearer {k}"), format!("export A_B=\"{k}\""), format!("'{k}'")] {
            assert_eq!(clean_pasted(&p).unwrap().0, k, "{p}");
        }
        assert!(clean_pasted(k).unwrap().1.is_empty());
        for bad in ["your_zhipu_api_key", "sk-xxxxxx", "<your key>", "MINIMAX_API_KEY", "a b", " "] {
            assert!(clean_pasted(bad).is_err(), "{bad}");
        }
        assert!(clean_pasted("sk-abc def0123").unwrap_err().to_string().find("def0123").is_none());
    }
}
