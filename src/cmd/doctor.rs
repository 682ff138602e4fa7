//! `ccenv doctor`: run the checks of `crate::doctor` here and print them; exit code 1
//! when any reports a problem.

use anyhow::Result;
use serde_json::json;

use crate::context::Context;
use crate::doctor::{self, Options, Status};
use crate::output::{emit, say};

pub(crate) fn run(online: bool, timeout: f64, json_out: bool, fix_onboarding: bool) -> Result<i32> {
    if fix_onboarding {
        // Needs none of ccenv's folders: only Claude Code's.
        let claude_dir = std::env::var_os("CLAUDE_CONFIG_DIR").map(|d| d.to_string_lossy().into_owned());
        let path = doctor::fix_onboarding(claude_dir)?;
        say(&format!("set \"hasCompletedOnboarding\": true in {path}"));
        return Ok(0);
    }
    let ctx = Context::from_process()?;
    let (_, eval) = ctx.here();
    let timeout = std::time::Duration::from_secs_f64(timeout.clamp(0.1, 300.0));
    let checks = doctor::run(&ctx, &eval, &Options { online, timeout });
    let worst = checks.iter().map(|c| c.status).max().unwrap_or(Status::Ok);
    if json_out {
        emit(&format!("{}\n", crate::output::json(&json!({ "status": worst, "checks": checks }))))?;
    } else {
        emit(&crate::output::escape_lines(&doctor::render_text(&checks)))?;
    }
    Ok(if worst == Status::Problem { 1 } else { 0 })
}
