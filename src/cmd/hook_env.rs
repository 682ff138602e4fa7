//! `ccenv hook-env SHELL PID SAID`: what the hook runs when something changed. Applies,
//! restores, and tells the hook what to watch. Always exits 0 with complete output, so
//! a bad file never breaks the prompt. The one command on the per-change path: `main`
//! calls it before clap.

use anyhow::{Result, anyhow};

use crate::context::{Context, Inherited};
use crate::core::outcome::Evaluation;
use crate::output::{emit, say};
use crate::shell::{self, HookState, ShellName};
use crate::store::stamps;

pub fn run(shell_name: &str, shell_pid: u32, said: &str) -> Result<()> {
    let name = ShellName::from_name(shell_name).ok_or_else(|| anyhow!("unknown shell `{shell_name}`"))?;
    let ctx = Context::from_process()?;
    // Before reading anything: whatever changes after this point is newer than the stamp.
    let stamp_file = ctx.paths.stamp(shell_pid);
    let stamp = stamps::begin(&stamp_file);
    let (inherited, eval, gateway) = ctx.at_with_gateway(ctx.cwd.as_deref());
    let (mut out, mut messages) = change(&ctx, name, &eval, &inherited)?;
    messages.extend(gateway);

    let said_now = if messages.is_empty() { String::new() } else { short_hash(&messages.join("\n")) };
    if said_now != said {
        for m in &messages {
            say(m);
        }
    }
    // Without a stamp every prompt re-checks: slower, never wrong.
    let stamp = stamps::finish(stamp).map(|t| (stamp_file.as_path(), t));
    if let Some(hook) = name.hook() {
        let (present, absent): (Vec<_>, Vec<_>) = eval.watch.into_iter().partition(|p| p.exists());
        let state = HookState { present: &present, absent: &absent, stamp, said: &said_now };
        out.push_str(&shell::render_hook_state(hook, &state));
    }
    emit(&out)
}

/// The statements for this prompt and the messages for the user.
fn change(
    ctx: &Context,
    name: ShellName,
    eval: &Evaluation,
    inherited: &Inherited,
) -> Result<(String, Vec<String>)> {
    let shell = name.statements();
    // direnv, mise or a script applied `ccenv export` here and will restore it: two tools
    // changing the same variables would fight, so the hook stands down (and plans nothing).
    if inherited.state.as_ref().is_some_and(|s| s.external) {
        return Ok((String::new(), Vec::new()));
    }
    let plan = ctx.plan(eval, inherited, false);
    let mut messages = Vec::new();
    let mut out = String::new();
    match plan.save(&ctx.paths) {
        Ok(()) => {
            match shell::render(shell, &ctx.ops(&plan), |n| ctx.var(n), false) {
                Ok(text) => out.push_str(&text),
                Err(e) => messages.push(e.to_string()),
            }
            messages.extend(plan.messages);
            if ctx.var("CCENV_QUIET").is_none_or(|v| v.is_empty())
                && let Some(a) = ctx.announcement(eval, inherited)
            {
                say(&a);
            }
        }
        // Without a place for the restore state nothing new is applied (leaving could not
        // restore it), and whatever was applied is unloaded, which needs no new state.
        Err(e) => {
            let unload = ctx.unload(inherited);
            out.push_str(&shell::render(shell, &ctx.ops(&unload), |n| ctx.var(n), false)?);
            messages.push(format!("provider not applied: cannot save the restore state: {e:#}"));
        }
    }
    Ok((out, messages))
}

fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::core::hex(&Sha256::digest(text.as_bytes())[..8])
}
