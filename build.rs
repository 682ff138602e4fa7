//! Build-time data, parsed once here so the per-prompt path only reads constants:
//! build/presets.rs (data/presets.toml) and build/claude_env.rs (data/claude-code-env.toml).

#[path = "build/claude_env.rs"]
mod claude_env;
#[path = "build/presets.rs"]
mod presets;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    presets::generate(&manifest_dir, &out_dir);
    claude_env::generate(&manifest_dir, &out_dir);
}
