//! The keys a provider table may hold: shared by `provider.rs` (config.toml) and
//! `build/presets.rs` (data/presets.toml, read by the build script, which includes this
//! file by path), so both accept and suggest the same names.

pub(crate) const PROVIDER_KEYS: &[&str] = &[
    "name",
    "base_url",
    "protocol",
    "auth",
    "key_optional",
    "placeholder_key",
    "key_url",
    "model",
    "models",
    "env",
];

/// The model roles of `[models]`, in Claude Code's order.
pub(crate) const ROLES: [&str; 5] = ["opus", "sonnet", "haiku", "fable", "subagent"];
