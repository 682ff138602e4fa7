//! Any text as a `.claude-provider.toml`: parse, then resolve against the presets.
//! Must never panic or hang; errors must carry a position inside the text.
#![no_main]

use std::path::Path;

use ccenv::config::provider::Catalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match ccenv::config::project::parse(Path::new("f"), text) {
        Ok(settings) if settings.provider.is_some() => {
            let _ = ccenv::core::resolve::resolve(&settings, &Catalog::builtin());
        }
        Ok(_) => {}
        Err(d) => assert!(d.at.line >= 1 && d.at.line <= text.lines().count().max(1) + 1, "{d}"),
    }
});
