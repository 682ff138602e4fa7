//! fish: inside single quotes only `\\` and `\'` are escapes, so POSIX quoting is
//! injectable here (`'\''` does not close the string in fish).

use super::Shell;

pub struct Fish;

impl Shell for Fish {
    fn quote(&self, value: &str) -> String {
        debug_assert!(!value.contains('\0'));
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
    }

    fn export(&self, name: &str, value: &str) -> String {
        format!("set -gx {name} {}\n", self.quote(value))
    }

    fn unset(&self, name: &str) -> String {
        // Erasing the global can uncover a universal variable of the same name; an
        // unexported empty global then hides it from this shell's children without
        // touching the universal (which other shells share).
        format!("set -e -g {name}; set -q {name}; and set -g -u {name} ''\n")
    }

    fn set_local(&self, name: &str, value: &str) -> String {
        format!("set -g {name} {}\n", self.quote(value))
    }

    fn set_local_list(&self, name: &str, values: &[String]) -> String {
        let mut out = format!("set -g {name}");
        for v in values {
            out.push(' ');
            out.push_str(&self.quote(v));
        }
        out.push('\n');
        out
    }

    fn hook_template(&self) -> &'static str {
        include_str!("../../shell/ccenv.fish")
    }
}
