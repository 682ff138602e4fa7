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
}

impl Hook for Posix {
    fn quote(&self, value: &str) -> String {
        debug_assert!(!value.contains('\0'));
        // `'` becomes `'\''` (and `!` becomes `'\!'`, harmless here); correct for bash
        // and zsh only, never for fish (docs/shells.md, "POSIX single quotes").
        shell_escape::unix::escape(value.into()).into_owned()
    }

    fn set_local(&self, name: &str, value: &str) -> String {
        let declare = if self.zsh { "typeset -g " } else { "" };
        format!("{declare}{name}={}\n", self.quote(value))
    }

    /// Bytes that are not UTF-8 go in `$'\xHH'`, so `[[ -e … ]]` finds the very file.
    fn quote_path(&self, path: &Path) -> String {
        super::quote_bytes(
            path.as_os_str().as_encoded_bytes(),
            |s| self.quote(s),
            |b| format!("$'\\x{b:02x}'"),
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
