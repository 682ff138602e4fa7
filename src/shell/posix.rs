//! bash and zsh: POSIX single quotes, where every byte but `'` is literal.

use std::path::{Path, PathBuf};

use super::{Hook, Statements};

pub(crate) struct Posix {
    pub(crate) hook: &'static str,
    /// zsh warns (`WARN_CREATE_GLOBAL`) unless globals set in a function are declared.
    pub(crate) zsh: bool,
}

impl Statements for Posix {
    fn export(&self, name: &str, value: &str) -> String {
        format!("export {name}={}\n", self.quote(value))
    }

    fn unset(&self, name: &str) -> String {
        // `-v`: plain `unset` removes a function of that name when no variable exists.
        format!("unset -v {name}\n")
    }

    /// Each statement runs in its own `eval`: an error zsh treats as fatal (a read-only
    /// variable) ends that `eval` only, so the `else` branch still puts back every value.
    fn atomic(&self, apply: &[String], undo: &[String], failed: &str) -> String {
        if apply.is_empty() {
            return String::new();
        }
        let wrap = |s: &String| format!("eval {}", self.quote(s.trim_end()));
        let chain: Vec<String> = apply.iter().map(wrap).collect();
        let mut out = format!("if {}; then :; else\n", chain.join(" && "));
        for u in undo {
            out += &format!("  {} || :\n", wrap(u));
        }
        out += &format!("  builtin printf '%s\\n' {} >&2\nfi\n", self.quote(failed));
        out
    }
}

impl Hook for Posix {
    /// Every byte inside single quotes, `'` itself as `\'` between them: no option of
    /// bash or zsh acts on a quoted word (`shell-escape` left `=x` bare, which zsh's
    /// EQUALS expands). Two quotes never touch, so zsh's RC_QUOTES cannot join them.
    /// Correct for bash and zsh only, never for fish (docs/shells.md, "POSIX single quotes").
    fn quote(&self, value: &str) -> String {
        debug_assert!(!value.contains('\0'));
        if value.is_empty() {
            return "''".into();
        }
        let mut out = String::with_capacity(value.len() + 2);
        for (i, run) in value.split('\'').enumerate() {
            if i > 0 {
                out.push_str("\\'");
            }
            if !run.is_empty() {
                out.push('\'');
                out.push_str(run);
                out.push('\'');
            }
        }
        out
    }

    fn set_local(&self, name: &str, value: &str) -> String {
        let declare = if self.zsh { "typeset -g " } else { "" };
        format!("{declare}{name}={}\n", self.quote(value))
    }

    /// Bytes that are not UTF-8 go in `$'\xHH'`, so `[[ -e … ]]` finds the very file.
    fn quote_path(&self, path: &Path) -> String {
        if let Some(text) = path.to_str() {
            return self.quote(text);
        }
        super::quote_bytes(
            path.as_os_str().as_encoded_bytes(),
            |s| self.quote(s),
            // `""` keeps `$'…'` from touching a quote (RC_QUOTES would join them).
            |b| format!("\"\"$'\\x{b:02x}'\"\""),
        )
    }

    fn set_path_list(&self, name: &str, paths: &[PathBuf]) -> String {
        let declare = if self.zsh { "typeset -ga " } else { "" };
        let items: Vec<String> = paths.iter().map(|p| self.quote_path(p)).collect();
        format!("{declare}{name}=({})\n", items.join(" "))
    }

    fn template(&self) -> &'static str {
        self.hook
    }
}
