//! The one place text reaches the terminal: messages to stderr (`say`), a command's
//! output to stdout in one write (`emit`), and the ways a value is made fit to show
//! (`tilde`, `mask`).

use std::io::Write;

use anyhow::Result;

use crate::config::names;

pub(crate) fn say(message: &str) {
    eprintln!("ccenv: {message}");
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
pub(crate) fn mask(secret: &str) -> String {
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
    fn masking_hides_the_middle() {
        assert_eq!(mask("sk-abcdefghijklmnopqrstuvwxyz"), "sk-a…yz (29 chars)");
        assert_eq!(mask("short"), "*****");
        assert!(!mask("ollama").contains("ollama"));
    }
}
