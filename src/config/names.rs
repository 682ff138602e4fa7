//! Which environment variable names ccenv manages, and which a project file may not set.

/// Variables ccenv owns inside a project. Every one is either set to the project's
/// value or removed, so nothing from the user's global setup or the previous project
/// leaks through (a leftover `CLAUDE_CODE_USE_BEDROCK` would silently win over any
/// gateway; a leftover `ANTHROPIC_API_KEY` would be sent to the third party).
pub(crate) const MANAGED: &[&str] = &[
    BASE_URL,
    AUTH_TOKEN,
    API_KEY,
    MODEL,
    "ANTHROPIC_DEFAULT_MODEL",
    OPUS_MODEL,
    SONNET_MODEL,
    HAIKU_MODEL,
    SMALL_FAST_MODEL,
    SUBAGENT_MODEL,
    "ANTHROPIC_CUSTOM_HEADERS",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
    "CLAUDE_CODE_OAUTH_TOKEN",
    PROVIDER,
];

pub(crate) const BASE_URL: &str = "ANTHROPIC_BASE_URL";
pub(crate) const AUTH_TOKEN: &str = "ANTHROPIC_AUTH_TOKEN";
pub(crate) const API_KEY: &str = "ANTHROPIC_API_KEY";
pub(crate) const MODEL: &str = "ANTHROPIC_MODEL";
pub(crate) const OPUS_MODEL: &str = "ANTHROPIC_DEFAULT_OPUS_MODEL";
pub(crate) const SONNET_MODEL: &str = "ANTHROPIC_DEFAULT_SONNET_MODEL";
pub(crate) const HAIKU_MODEL: &str = "ANTHROPIC_DEFAULT_HAIKU_MODEL";
pub(crate) const SMALL_FAST_MODEL: &str = "ANTHROPIC_SMALL_FAST_MODEL";
pub(crate) const SUBAGENT_MODEL: &str = "CLAUDE_CODE_SUBAGENT_MODEL";
pub(crate) const PROVIDER: &str = "CCENV_PROVIDER";
/// The restore reference the hook exports; holds no value from the environment.
pub(crate) const STATE: &str = "CCENV_STATE";

/// `[A-Za-z_][A-Za-z0-9_]*`: the only names every supported shell can set without quoting.
pub fn is_valid(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'A'..=b'Z' | b'a'..=b'z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether ccenv could ever set `name`: one it manages, or one a project's `[env]` may set.
pub fn could_set(name: &str) -> bool {
    MANAGED.contains(&name) || refusal(name).is_none()
}

/// Why a project's `[env]` may not set `name`, or `None` when it may.
/// A key store name, as `credential = "NAME"` and `ccenv key set NAME` take it.
pub(crate) fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

pub(crate) fn refusal(name: &str) -> Option<String> {
    if !is_valid(name) {
        return Some("variable names must match [A-Za-z_][A-Za-z0-9_]*".into());
    }
    let upper = name.to_ascii_uppercase();
    let field = match upper.as_str() {
        BASE_URL => Some("set `base_url` instead"),
        AUTH_TOKEN | API_KEY | "CLAUDE_CODE_OAUTH_TOKEN" => {
            Some("keys never go in the project file; use `credential` and `ccenv key set`")
        }
        MODEL => Some("set `model` instead"),
        OPUS_MODEL => Some("set `[models] opus` instead"),
        SONNET_MODEL => Some("set `[models] sonnet` instead"),
        HAIKU_MODEL | SMALL_FAST_MODEL => Some("set `[models] haiku` instead"),
        SUBAGENT_MODEL => Some("set `[models] subagent` instead"),
        _ => None,
    };
    if let Some(hint) = field {
        return Some(format!("ccenv sets `{name}` itself: {hint}"));
    }
    if upper.starts_with("CCENV_") {
        return Some("`CCENV_*` variables belong to ccenv".into());
    }
    if EXECUTES_VALUE.contains(&upper.as_str())
        || EXECUTES_PREFIX.iter().any(|p| upper.starts_with(p))
        || upper.starts_with("FISH_")
    {
        return Some(format!(
            "`{name}` makes a shell or program run code or load libraries from its value; \
             a project file may not set it"
        ));
    }
    if SHELL_SPECIAL.contains(&name) {
        return Some(format!("`{name}` is a special shell variable"));
    }
    None
}

/// Variables whose value is executed, sourced, preloaded or otherwise turned into code
/// (docs/shells.md, "Names", extended with the usual language and tool hooks).
const EXECUTES_VALUE: &[&str] = &[
    "PROMPT_COMMAND",
    "PS0",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "PROMPT",
    "RPROMPT",
    "RPS1",
    "RPS2",
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "IFS",
    "CDPATH",
    "ZDOTDIR",
    "HOME",
    "SHELL",
    "PATH",
    "PATHEXT",
    "COMSPEC",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONHOME",
    "PERL5OPT",
    "PERL5LIB",
    "RUBYOPT",
    "RUBYLIB",
    "NODE_OPTIONS",
    "NODE_PATH",
    "NODE_TLS_REJECT_UNAUTHORIZED",
    "JAVA_TOOL_OPTIONS",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_EDITOR",
    "GIT_PAGER",
    "GIT_ASKPASS",
    "GIT_EXEC_PATH",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "MANPAGER",
    "BROWSER",
    "LESSOPEN",
    "LESSCLOSE",
    "TERMINAL",
    "CLAUDE_CODE_PROCESS_WRAPPER",
    "CLAUDE_CONFIG_DIR",
    // A CA bundle from the repository would let a proxy read TLS traffic, keys included.
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSL_NO_VERIFY",
    "PYTHONHTTPSVERIFY",
];
const EXECUTES_PREFIX: &[&str] = &["BASH_FUNC_", "DYLD_", "LD_", "GIT_CONFIG_"];
/// fish and zsh read-only or electric variables (case-sensitive).
const SHELL_SPECIAL: &[&str] = &[
    "status",
    "pipestatus",
    "PWD",
    "OLDPWD",
    "SHLVL",
    "history",
    "fish_pid",
    "version",
    "hostname",
    "_",
    "argv",
    "umask",
    "USER",
    "LOGNAME",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["A", "_", "API_TIMEOUT_MS", "a1_B"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in ["", "1A", "A-B", "A.B", "A}B", "A{B", "É", "A B", "A\0"] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn refusals() {
        assert_eq!(refusal("API_TIMEOUT_MS"), None);
        assert_eq!(refusal("CLAUDE_CODE_MAX_OUTPUT_TOKENS"), None);
        assert_eq!(refusal("ANTHROPIC_CUSTOM_HEADERS"), None);
        for bad in [
            "PROMPT_COMMAND",
            "BASH_ENV",
            "ENV",
            "LD_PRELOAD",
            "NODE_OPTIONS",
            "PATH",
            "Path",
            "BASH_FUNC_x%%",
            "DYLD_INSERT_LIBRARIES",
            "ANTHROPIC_API_KEY",
            "anthropic_auth_token",
            "CCENV_PROVIDER",
            "CCENV_STATE",
            "status",
            "PWD",
            "fish_greeting",
            "NODE_EXTRA_CA_CERTS",
            "SSL_CERT_FILE",
            "NODE_TLS_REJECT_UNAUTHORIZED",
            "A-B",
        ] {
            assert!(refusal(bad).is_some(), "{bad}");
        }
    }
}
