//! `ccenv providers`: the providers a project may name (presets and the user's own).

use anyhow::Result;
use serde_json::json;

use crate::context::Context;
use crate::output::emit;

pub(crate) fn run(json_out: bool) -> Result<()> {
    let ctx = Context::from_process()?;
    let catalog = ctx.catalog()?;
    if json_out {
        let list: Vec<_> = catalog.providers().into_values().collect();
        let json = json!({ "updated": catalog.updated(), "providers": list, "broken": catalog.broken });
        return emit(&format!("{}\n", crate::output::json(&json)));
    }
    for e in catalog.broken.values() {
        crate::output::say(&format!("error: {e}"));
    }
    let mut text = format!("{:<22} {:<10} {:<26} {}\n", "ID", "AUTH", "MODEL", "BASE URL");
    for p in catalog.providers().values() {
        let mark = if p.origin == "preset" { "" } else { " *" };
        text += &format!(
            "{:<22} {:<10} {:<26} {}\n",
            format!("{}{mark}", p.id),
            p.auth.as_str(),
            p.model.as_deref().unwrap_or("-"),
            p.base_url.as_deref().unwrap_or("(official API)")
        );
    }
    text += &format!("\nModels as of {}; * = from your config.toml.\n", catalog.updated());
    emit(&crate::output::escape_lines(&text))?;
    if !catalog.broken.is_empty() {
        anyhow::bail!("{} provider(s) in your config.toml have errors (above)", catalog.broken.len());
    }
    Ok(())
}
