//! fish: inside single quotes only `\\` and `\'` are escapes, so POSIX quoting is
//! injectable here (`'\''` does not close the string in fish).

use std::path::{Path, PathBuf};

use super::{Hook, Statements};

pub(crate) struct Fish;

impl Statements for Fish {
    fn export(&self, name: &str, value: &str) -> String {
        format!("set -gx {name} {}\n", self.quote(value))
    }

    fn unset(&self, name: &str) -> String {
        // Erasing the global can uncover an exported universal variable of the same
        // name, which children would inherit. Only an exported empty global shadows it
        // (an unexported one does not, fish 3.6): children see "", which Claude Code
        // treats as unset, and the universal, shared by every fish, stays untouched.
        // One command (begin … end), so it can stand in an `and` chain.
        format!("begin; set -e -g {name}; not set -q {name}; or set -gx {name} ''; end\n")
    }

    /// fish ends no script on a failed `set`: an `and` chain stops at the first one.
    fn atomic(&self, apply: &[String], undo: &[String], failed: &str) -> String {
        if apply.is_empty() {
            return String::new();
        }
        let chain: Vec<&str> = apply.iter().map(|s| s.trim_end()).collect();
        let mut out = format!("if {}\nelse\n", chain.join("; and "));
        for u in undo {
            out += &format!("  {}\n", u.trim_end());
        }
        out += &format!("  echo {} >&2\nend\n", self.quote(failed));
        out
    }
}

impl Hook for Fish {
    fn quote(&self, value: &str) -> String {
        debug_assert!(!value.contains('\0'));
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
    }

    fn set_local(&self, name: &str, value: &str) -> String {
        format!("set -g {name} {}\n", self.quote(value))
    }

    /// Bytes that are not UTF-8 go unquoted as `\xHH`, which fish reads as that byte.
    fn quote_path(&self, path: &Path) -> String {
        super::quote_bytes(path.as_os_str().as_encoded_bytes(), |s| self.quote(s), |b| format!("\\x{b:02x}"))
    }

    fn set_path_list(&self, name: &str, paths: &[PathBuf]) -> String {
        let mut out = format!("set -g {name}");
        for p in paths {
            out.push(' ');
            out.push_str(&self.quote_path(p));
        }
        out.push('\n');
        out
    }

    fn template(&self) -> &'static str {
        include_str!("hooks/ccenv.fish")
    }
}
