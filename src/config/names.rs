//! Which environment variable names ccenv manages, and which a project's `[env]` may set.
//! Both come from data/claude-code-env.toml, where every variable the installed Claude Code
//! reads is classified (build.rs turns it into the tables below; tests/claude_names.rs checks
//! it against the real CLI). `[env]` is an allowlist: a name not classified `allowed` there,
//! or named by the user in config.toml, is refused.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Managed,
    Allowed,
    Refused,
    Irrelevant,
}

#[derive(Debug)]
pub(crate) struct Group {
    pub class: Class,
    #[allow(dead_code)] // kept in the table for debugging output and future `ccenv names`
    pub key: &'static str,
    pub why: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/claude_env.rs"));

pub(crate) const BASE_URL: &str = "ANTHROPIC_BASE_URL";
pub(crate) const AUTH_TOKEN: &str = "ANTHROPIC_AUTH_TOKEN";
pub(crate) const API_KEY: &str = "ANTHROPIC_API_KEY";
pub(crate) const OAUTH_TOKEN: &str = "CLAUDE_CODE_OAUTH_TOKEN";
pub(crate) const MODEL: &str = "ANTHROPIC_MODEL";
pub(crate) const OPUS_MODEL: &str = "ANTHROPIC_DEFAULT_OPUS_MODEL";
pub(crate) const SONNET_MODEL: &str = "ANTHROPIC_DEFAULT_SONNET_MODEL";
pub(crate) const HAIKU_MODEL: &str = "ANTHROPIC_DEFAULT_HAIKU_MODEL";
pub(crate) const FABLE_MODEL: &str = "ANTHROPIC_DEFAULT_FABLE_MODEL";
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

/// Whether ccenv could ever set `name`: one it manages, or one a project's `[env]` may set
/// (the built-in allowlist, or the names the user allows in config.toml).
pub fn could_set(name: &str, user_allowed: &[String]) -> bool {
    MANAGED.binary_search(&name).is_ok() || refusal_with(name, user_allowed).is_none()
}

/// A key store name, as `credential = "NAME"` and `ccenv key set NAME` take it.
pub(crate) fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// The class and reason data/claude-code-env.toml gives `name` (exact spelling).
pub(crate) fn classify(name: &str) -> Option<&'static Group> {
    let i = CLASSIFIED.binary_search_by(|(n, _)| n.cmp(&name)).ok()?;
    Some(&GROUPS[CLASSIFIED[i].1 as usize])
}

/// Why no project may set `name`, whatever the user allows: names that are not names,
/// ccenv's own, the managed set (in any case, as Windows ignores case) and shell specials.
pub(crate) fn never(name: &str) -> Option<String> {
    if !is_valid(name) {
        return Some("variable names must match [A-Za-z_][A-Za-z0-9_]*".into());
    }
    let upper = name.to_ascii_uppercase();
    if upper.starts_with("CCENV_") {
        return Some("`CCENV_*` variables belong to ccenv".into());
    }
    if SHELL_SPECIAL.contains(&name) {
        return Some(format!("`{name}` is a special shell variable"));
    }
    if ENV_ALLOWED.binary_search(&name).is_ok() || MANAGED.binary_search(&upper.as_str()).is_err() {
        return None;
    }
    let hint = match upper.as_str() {
        BASE_URL => "set `base_url` instead",
        AUTH_TOKEN | API_KEY => "keys never go in the project file; use `credential` and `ccenv key set`",
        MODEL => "set `model` instead",
        OPUS_MODEL => "set `[models] opus` instead",
        SONNET_MODEL => "set `[models] sonnet` instead",
        HAIKU_MODEL | SMALL_FAST_MODEL => "set `[models] haiku` instead",
        FABLE_MODEL => "set `[models] fable` instead",
        SUBAGENT_MODEL => "set `[models] subagent` instead",
        _ => {
            let why = classify(&upper).map_or("", |g| g.why);
            return Some(format!("ccenv manages `{name}` and removes it inside every project ({why})"));
        }
    };
    Some(format!("ccenv sets `{name}` itself: {hint}"))
}

/// Why a project's `[env]` may not set `name`, given the names the user allows in
/// config.toml (`[env] allow`), or `None` when it may.
pub(crate) fn refusal_with(name: &str, user_allowed: &[String]) -> Option<String> {
    if let Some(why) = never(name) {
        return Some(why);
    }
    let by_user = |a: &String| a == name || a.strip_suffix('*').is_some_and(|p| name.starts_with(p));
    if ENV_ALLOWED.binary_search(&name).is_ok() || user_allowed.iter().any(by_user) {
        return None;
    }
    // The user's list applies to every project they allow, so the hint says so.
    let widen = format!(
        "only your config.toml can allow it, and then every project you allow may set it: \
         `[env] allow = [\"{name}\"]`"
    );
    let upper = name.to_ascii_uppercase();
    Some(match classify(&upper).filter(|_| upper == name) {
        Some(g) if g.class == Class::Refused => {
            format!("a project may not set `{name}`: {}; {widen}", g.why)
        }
        _ => {
            let near = crate::config::diagnostic::suggest(name, ENV_ALLOWED.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            format!(
                "`{name}` is not on the list of variables a project may set{near}: a project may set \
                 only variables that configure Claude Code without running code or changing where \
                 traffic and keys go; {widen}"
            )
        }
    })
}

/// [`refusal_with`] with no names allowed by the user (presets, imports).
pub(crate) fn refusal(name: &str) -> Option<String> {
    refusal_with(name, &[])
}

/// fish and zsh read-only or electric variables (case-sensitive), which would break the
/// shell running the hook even if a user allowed them.
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

/// Variables that describe a provider, which `import` moves into the project. Anything
/// else (DISABLE_TELEMETRY, HTTPS_PROXY, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC) is the
/// user's global preference and stays global.
pub(crate) fn is_provider_variable(name: &str) -> bool {
    name.starts_with("ANTHROPIC_")
        || matches!(
            name,
            "API_TIMEOUT_MS"
                | "CLAUDE_CODE_SUBAGENT_MODEL"
                | "CLAUDE_CODE_MAX_OUTPUT_TOKENS"
                | "CLAUDE_CODE_MAX_CONTEXT_TOKENS"
                | "CLAUDE_CODE_AUTO_COMPACT_WINDOW"
        )
}

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
    fn tables_are_sorted_for_binary_search() {
        assert!(MANAGED.windows(2).all(|w| w[0] < w[1]));
        assert!(ENV_ALLOWED.windows(2).all(|w| w[0] < w[1]));
        assert!(CLASSIFIED.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn refusals() {
        for ok in [
            "API_TIMEOUT_MS",
            "CLAUDE_CODE_MAX_OUTPUT_TOKENS",
            "ANTHROPIC_CUSTOM_HEADERS",
            "DISABLE_TELEMETRY",
        ] {
            assert_eq!(refusal(ok), None, "{ok}");
        }
        for bad in [
            "PROMPT_COMMAND",
            "BASH_ENV",
            "LD_PRELOAD",
            "NODE_OPTIONS",
            "Path",
            "BASH_FUNC_x%%",
            "ANTHROPIC_API_KEY",
            "anthropic_auth_token",
            "CLAUDE_CODE_USE_MANTLE",
            "ANTHROPIC_UNIX_SOCKET",
            "HTTPS_PROXY",
            "CCENV_PROVIDER",
            "status",
            "api_timeout_ms",
            "MY_VAR",
        ] {
            assert!(refusal(bad).is_some(), "{bad}");
        }
        let mine = vec!["MY_VAR".to_string(), "ANTHROPIC_BASE_URL".to_string(), "PWD".to_string()];
        assert_eq!(refusal_with("MY_VAR", &mine), None);
        let family = vec!["MYTOOL_*".to_string()];
        assert_eq!(refusal_with("MYTOOL_DEBUG", &family), None);
        assert!(refusal_with("MYTOOLX", &family).is_some());
        assert!(refusal_with("ANTHROPIC_BASE_URL", &mine).unwrap().contains("base_url"));
        assert!(refusal_with("PWD", &mine).is_some());
        assert!(refusal("api_timeout_ms").unwrap().contains("did you mean `API_TIMEOUT_MS`"));
    }
}
