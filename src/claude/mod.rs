//! What ccenv knows about Claude Code's own files. An `env` block in any settings file
//! beats the process environment (measured: docs/claude-code.md, "Precedence"), so a
//! provider in `~/.claude/settings.json` — where every guide puts it — silently defeats
//! the hook.

pub(crate) mod jsonedit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::names;

/// A JSON file's top-level object, for editing; a missing file is an empty object.
/// Anything else that is not an object is refused rather than overwritten.
pub(crate) fn read_object(path: &Path) -> anyhow::Result<serde_json::Map<String, Value>> {
    match crate::store::fs::read_to_string_limited(path, 256 * crate::store::fs::MIB) {
        Ok(t) => serde_json::from_str(&t)
            .map_err(|e| anyhow::anyhow!("{}: not a JSON object ({e}); not touching it", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::Map::new()),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// A settings level, highest precedence first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    /// Nothing overrides it, not even `--settings`.
    Managed,
    Local,
    Project,
    User,
}

#[derive(Clone, Debug)]
pub(crate) struct SettingsFile {
    pub(crate) path: PathBuf,
    pub(crate) level: Level,
    pub(crate) env: BTreeMap<String, Value>,
    pub(crate) api_key_helper: Option<String>,
}

/// `$CLAUDE_CONFIG_DIR` (as the shell had it), else `~/.claude`.
pub(crate) fn config_dir(claude_config_dir: Option<String>) -> Option<PathBuf> {
    match claude_config_dir.filter(|d| !d.is_empty()) {
        Some(d) => Some(PathBuf::from(d)),
        None => dirs::home_dir().map(|h| h.join(".claude")),
    }
}

/// `~/.claude.json`, or `<CLAUDE_CONFIG_DIR>/.claude.json`.
pub(crate) fn state_file(claude_config_dir: Option<String>) -> Option<PathBuf> {
    match claude_config_dir.filter(|d| !d.is_empty()) {
        Some(d) => Some(PathBuf::from(d).join(".claude.json")),
        None => dirs::home_dir().map(|h| h.join(".claude.json")),
    }
}

fn managed_path() -> PathBuf {
    if cfg!(target_os = "macos") {
        PathBuf::from("/Library/Application Support/ClaudeCode/managed-settings.json")
    } else if cfg!(windows) {
        PathBuf::from(r"C:\Program Files\ClaudeCode\managed-settings.json")
    } else {
        PathBuf::from("/etc/claude-code/managed-settings.json")
    }
}

/// The settings files Claude Code reads in `project_dir`, highest precedence first.
pub(crate) fn settings_paths(project_dir: &Path, claude_config_dir: Option<String>) -> Vec<(Level, PathBuf)> {
    let mut paths = vec![
        (Level::Managed, managed_path()),
        (Level::Local, project_dir.join(".claude/settings.local.json")),
        (Level::Project, project_dir.join(".claude/settings.json")),
    ];
    if let Some(dir) = config_dir(claude_config_dir) {
        paths.push((Level::User, dir.join("settings.json")));
    }
    paths
}

/// The folders whose `.claude/` Claude Code reads when started in `cwd`: `cwd` itself
/// and the root of its git repository (the nearest folder above with `.git`), plus
/// ccenv's project `root`, each once.
pub(crate) fn settings_dirs(cwd: &Path, root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![cwd.to_path_buf()];
    if let Some(repo) = cwd.ancestors().find(|d| d.join(".git").exists()) {
        dirs.push(repo.to_path_buf());
    }
    dirs.push(root.to_path_buf());
    let mut unique: Vec<PathBuf> = Vec::new();
    for d in dirs {
        if !unique.contains(&d) {
            unique.push(d);
        }
    }
    unique
}

/// Reads the files that exist; an unreadable or malformed file is reported, not skipped.
pub(crate) fn read_settings(paths: &[(Level, PathBuf)]) -> (Vec<SettingsFile>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for (level, path) in paths {
        let text = match crate::store::fs::read_to_string_limited(path, 16 * crate::store::fs::MIB) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                errors.push(format!("{}: cannot read: {e}", path.display()));
                continue;
            }
        };
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => files.push(SettingsFile {
                path: path.clone(),
                level: *level,
                env: v
                    .get("env")
                    .and_then(Value::as_object)
                    .map(|o| o.clone().into_iter().collect())
                    .unwrap_or_default(),
                api_key_helper: v.get("apiKeyHelper").and_then(Value::as_str).map(str::to_string),
            }),
            Err(e) => errors.push(json_error(path, &text, &e)),
        }
    }
    (files, errors)
}

/// `path:line:column: not valid JSON: …` and, for the usual slips (the guides' own
/// blocks miss commas), what to change.
pub(crate) fn json_error(path: &Path, text: &str, e: &serde_json::Error) -> String {
    let full = e.to_string();
    let what = full.rfind(" at line ").map_or(full.as_str(), |i| &full[..i]);
    let (line, column) = (e.line(), e.column());
    let offset: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum::<usize>()
        + column.saturating_sub(1);
    let before = text.get(..offset.min(text.len())).unwrap_or(text).trim_end();
    let prev_line = before.matches('\n').count() + 1;
    let fix = if what.starts_with("expected `,` or") && !before.ends_with(',') {
        format!("; a comma is missing: add `,` at the end of line {prev_line}")
    } else if what.starts_with("trailing comma") {
        format!("; remove the `,` at the end of line {prev_line}: JSON allows no comma before `}}` or `]`")
    } else if what.starts_with("key must be a string") {
        "; JSON names are in double quotes: \"NAME\": \"value\"".into()
    } else if what.starts_with("EOF while parsing") {
        "; the file ends early: a closing `}` or `]` is missing".into()
    } else {
        String::new()
    };
    format!("{}:{line}:{column}: not valid JSON: {what}{fix}", path.display())
}

/// A settings file whose `env` sets variables the project sets or clears.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct Conflict {
    pub(crate) path: PathBuf,
    pub(crate) level: Level,
    pub(crate) names: Vec<String>,
    /// What the file sets for those names (for saying who receives which key).
    #[serde(skip)]
    pub(crate) values: BTreeMap<String, String>,
}

/// ccenv's own `apiKeyHelper` (`claude-settings write`): it hands out the project's key.
fn is_ccenv_helper(helper: Option<&str>) -> bool {
    helper.is_some_and(|h| h.contains("ccenv") && h.contains(" key helper "))
}

/// Files whose `env` would change what the project wants. A value equal to the
/// project's, `""` where the project removes the variable, and the auth variables that
/// `claude-settings write` cancels for ccenv's own key helper change nothing.
pub(crate) fn conflicts(files: &[SettingsFile], desired: &BTreeMap<String, Option<String>>) -> Vec<Conflict> {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    files
        .iter()
        .filter_map(|f| {
            let values: BTreeMap<String, String> = desired
                .iter()
                .filter_map(|(name, want)| {
                    let have = text(f.env.get(name)?);
                    let same = match want {
                        Some(w) => *w == have,
                        None => have.is_empty(),
                    };
                    let own_helper = have.is_empty()
                        && (name == names::AUTH_TOKEN || name == names::API_KEY)
                        && is_ccenv_helper(f.api_key_helper.as_deref());
                    (!same && !own_helper).then(|| (name.clone(), have))
                })
                .collect();
            let names: Vec<String> = values.keys().cloned().collect();
            (!names.is_empty()).then(|| Conflict { path: f.path.clone(), level: f.level, names, values })
        })
        .collect()
}

/// Is `command` Claude Code (`claude`, `claude.exe`, `claude.cmd`)?
pub(crate) fn is_claude(command: &std::ffi::OsStr) -> bool {
    let full = command.to_string_lossy().to_ascii_lowercase();
    let name = full.rsplit(['/', '\\']).next().unwrap_or_default();
    matches!(name, "claude" | "claude.exe" | "claude.cmd")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_name_the_file_and_the_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("settings.json");
        std::fs::write(
            &user,
            r#"{"env": {"ANTHROPIC_BASE_URL": "https://x", "ANTHROPIC_API_KEY": "k", "OTHER": "1"}, "apiKeyHelper": "h"}"#,
        )
        .unwrap();
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "{").unwrap();
        let (files, errors) = read_settings(&[
            (Level::User, user.clone()),
            (Level::Project, broken),
            (Level::Local, dir.path().join("missing.json")),
        ]);
        assert_eq!(files.len(), 1);
        assert_eq!(errors.len(), 1);
        assert_eq!(files[0].api_key_helper.as_deref(), Some("h"));
        let mut desired: BTreeMap<String, Option<String>> = [
            ("ANTHROPIC_API_KEY", None),
            ("ANTHROPIC_BASE_URL", Some("https://y")),
            ("ANTHROPIC_MODEL", None),
        ]
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .into();
        let c = conflicts(&files, &desired);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].names, ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"]);
        assert_eq!(c[0].values["ANTHROPIC_BASE_URL"], "https://x");
        desired.insert("ANTHROPIC_BASE_URL".into(), Some("https://x".into()));
        assert_eq!(
            conflicts(&files, &desired)[0].names,
            ["ANTHROPIC_API_KEY"],
            "the same value is no conflict"
        );
    }

    #[test]
    fn claude_is_recognised_by_name() {
        for yes in ["claude", "/usr/bin/claude", "C:\\tools\\claude.EXE", "claude.cmd"] {
            assert!(is_claude(yes.as_ref()), "{yes}");
        }
        for no in ["claude-code", "python", "/opt/claude/bin/node"] {
            assert!(!is_claude(no.as_ref()), "{no}");
        }
    }
}
