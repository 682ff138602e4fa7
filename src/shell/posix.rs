//! bash and zsh: POSIX single quotes, where every byte but `'` is literal.

use super::Shell;

pub struct Posix {
    pub hook: &'static str,
    /// zsh warns (`WARN_CREATE_GLOBAL`) unless globals set in a function are declared.
    pub zsh: bool,
}

impl Shell for Posix {
    fn quote(&self, value: &str) -> String {
        debug_assert!(!value.contains('\0'));
        // `'` becomes `'\''` (and `!` becomes `'\!'`, harmless here); correct for bash
        // and zsh only, never for fish (shells.md §3).
        shell_escape::unix::escape(value.into()).into_owned()
    }

    fn export(&self, name: &str, value: &str) -> String {
        format!("export {name}={}\n", self.quote(value))
    }

    fn unset(&self, name: &str) -> String {
        // `-v`: plain `unset` removes a function of that name when no variable exists.
        format!("unset -v {name}\n")
    }

    fn set_local(&self, name: &str, value: &str) -> String {
        let declare = if self.zsh { "typeset -g " } else { "" };
        format!("{declare}{name}={}\n", self.quote(value))
    }

    fn set_local_list(&self, name: &str, values: &[String]) -> String {
        let declare = if self.zsh { "typeset -ga " } else { "" };
        let items: Vec<String> = values.iter().map(|v| self.quote(v)).collect();
        format!("{declare}{name}=({})\n", items.join(" "))
    }

    fn hook_template(&self) -> &'static str {
        self.hook
    }
}
