//! cmd.exe without Clink: `set "NAME=value"` lines, applied with
//!   for /f "delims=" %i in ('ccenv export --shell cmd') do @%i
//! FOR-variable text is substituted after `%` expansion and is not re-tokenized, so
//! `% & | < > ( ) ^ "` are literal, and `set "…"` keeps everything up to the last quote.
//! What this form cannot carry is refused instead of mangled (docs/shells.md, "cmd").

use super::Statements;

pub(crate) struct Cmd;

/// cmd's line limit is 8191 characters; leave room for `set "NAME=` and the quote.
const MAX_VALUE: usize = 8000;

impl Statements for Cmd {
    fn export(&self, name: &str, value: &str) -> String {
        // cmd has no empty variables: `set "NAME="` removes it.
        format!("set \"{name}={value}\"\n")
    }

    fn unset(&self, name: &str) -> String {
        format!("set \"{name}=\"\n")
    }

    fn refuse(&self, value: &str) -> Option<String> {
        let why = if value.contains(['\n', '\r']) {
            "contains a line break, which ends a cmd line"
        } else if value.contains('!') {
            "contains `!`, which cmd's delayed expansion would remove or expand"
        } else if value.contains('\u{1a}') {
            "contains Ctrl-Z, which ends cmd's text input"
        } else if value.chars().any(|c| c.is_control() && c != '\t') {
            "contains control characters"
        } else if !value.is_ascii() {
            "contains non-ASCII characters, which cmd reads in the console code page \
             (a DBCS page can swallow the closing quote)"
        } else if value.len() > MAX_VALUE {
            "is longer than a cmd line may be"
        } else {
            return None;
        };
        Some(why.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_printable_ascii_character_but_bang_is_carried() {
        for b in 0x20u8..0x7f {
            let v = format!("a{}b", b as char);
            assert_eq!(Cmd.refuse(&v).is_some(), b == b'!', "{v:?}");
        }
        for v in ["", "\t", "100%", "%PATH%", "a\"&echo PWNED&rem \"", "^", "\"", "(x)|<y>"] {
            assert_eq!(Cmd.refuse(v), None, "{v:?}");
            assert_eq!(Cmd.export("A", v), format!("set \"A={v}\"\n"));
        }
    }

    #[test]
    fn unsafe_values_are_refused_with_the_reason() {
        let cases = [
            ("a\nb", "line break"),
            ("a\rb", "line break"),
            ("x!PATH!", "`!`"),
            ("\u{1a}", "Ctrl-Z"),
            ("\u{1b}[31m", "control"),
            ("\u{7f}", "control"),
            ("é", "non-ASCII"),
            ("’", "non-ASCII"),
        ];
        for (v, why) in cases {
            assert!(Cmd.refuse(v).is_some_and(|m| m.contains(why)), "{v:?}");
        }
        assert!(Cmd.refuse(&"a".repeat(8001)).is_some());
        assert!(Cmd.refuse(&"a".repeat(8000)).is_none());
    }
}
