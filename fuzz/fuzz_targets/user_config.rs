//! Any text as the user's config.toml. Must never panic or hang.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = ccenv::config::provider::Catalog::with_user_config(Path::new("config.toml"), text);
});
