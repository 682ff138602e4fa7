//! The one place text reaches the terminal: messages to stderr (`say`), a command's
//! output to stdout in one write (`emit`), and the ways a value is made fit to show
//! (`tilde`, `mask`, `escape`).
//!
//! Anything that came from a file, a path or the environment can hold bytes a terminal
//! obeys (ESC sequences set the title, write the clipboard, hide or recolour text; bidi
//! controls reorder what is shown): every message and listing goes through `escape`,
//! and JSON gets the same characters as `\u` escapes.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;

use crate::config::names;

pub(crate) fn say(message: &str) {
    eprintln!("ccenv: {}", escape(message));
}

/// Characters shown as escapes instead of being sent: C0 and C1 controls, DEL, bidi
/// and invisible formatting characters, line and paragraph separators.
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        )
}

/// `text` with every unsafe character written as `\e`, `\n`, `\t`, `\xHH` or `\u{…}`.
pub fn escape(text: &str) -> String {
    if !text.chars().any(is_unsafe) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            _ if !is_unsafe(c) => out.push(c),
            '\u{1b}' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    out
}

/// Lines of a listing built by ccenv: each line escaped, the line breaks kept.
pub(crate) fn escape_lines(text: &str) -> String {
    text.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

/// Pretty JSON whose strings carry no character a terminal would act on: serde_json
/// escapes C0 controls itself; DEL, C1 and bidi characters become `\uXXXX` here (all are
/// in the Basic Multilingual Plane and only ever inside strings).
pub(crate) fn json(value: &serde_json::Value) -> String {
    json_safe(serde_json::to_string_pretty(value).unwrap_or_default())
}

/// `json` on one line, for streams of records (`ccenv watch`).
pub fn json_line(value: &serde_json::Value) -> String {
    json_safe(serde_json::to_string(value).unwrap_or_default())
}

fn json_safe(text: String) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // C0 controls in strings are escaped by serde_json; outside them, only layout.
        if is_unsafe(c) && c >= ' ' {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes a command's whole output to stdout in one write. Several small writes race a
/// reader that stops early (`ccenv status --json | grep -q …`): a write after it has gone
/// gets SIGPIPE, and under `set -o pipefail` the pipeline fails although grep matched.
pub(crate) fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `/home/me/src/app` → `~/src/app`, for messages.
pub(crate) fn tilde(path: &str) -> String {
    match dirs::home_dir().map(|h| h.to_string_lossy().into_owned()) {
        Some(h) if !h.is_empty() && h != "/" && path.starts_with(&h) => {
            format!("~{}", &path[h.len()..])
        }
        _ => path.to_string(),
    }
}

/// Shows enough of a key to recognise it and no more.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 16 {
        return "*".repeat(chars.len().clamp(3, 8));
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail} ({} chars)", chars.len())
}

/// Values of these names are keys: never shown on a terminal.
pub(crate) fn is_secret_name(name: &str) -> bool {
    matches!(name, names::AUTH_TOKEN | names::API_KEY | "CLAUDE_CODE_OAUTH_TOKEN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_become_escapes() {
        assert_eq!(escape("a\u{1b}]0;t\u{7}b"), "a\\e]0;t\\x07b");
        assert_eq!(escape("x\u{202e}y\u{9b}\n"), "x\\u{202e}y\\u{9b}\\n");
        assert_eq!(escape("plain ~/é 日本"), "plain ~/é 日本");
        assert_eq!(escape_lines("a\u{7}\nb"), "a\\x07\nb");
        let v = serde_json::json!({"k": "a\u{7f}\u{202e}\u{1b}"});
        let j = json(&v);
        assert!(j.contains("a\\u007f\\u202e\\u001b"), "{j}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&j).unwrap(), v);
    }

    #[test]
    fn masking_hides_the_middle() {
        assert_eq!(mask("sk-abcdefghijklmnopqrstuvwxyz"), "sk-a…yz (29 chars)");
        assert_eq!(mask("short"), "*****");
        assert!(!mask("ollama").contains("ollama"));
    }
}
