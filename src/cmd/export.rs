//! `ccenv export`: this directory's change for one shell, or as JSON, for tools that
//! apply and restore it themselves (direnv, mise, scripts).

use std::io::IsTerminal;

use anyhow::Result;

use crate::context::Context;
use crate::core::envdiff::Op;
use crate::output::{emit, is_secret_name, say};
use crate::shell::{self, ShellName};

pub(crate) fn run(shell: Option<ShellName>, json: bool, blank_removed: bool) -> Result<()> {
    let ctx = Context::from_process()?;
    let (inherited, eval, gateway) = ctx.at_with_gateway(ctx.cwd.as_deref());
    let plan = ctx.plan(&eval, &inherited, true);
    plan.save(&ctx.paths)?;
    for m in plan.messages.iter().chain(&gateway) {
        say(m);
    }
    let mut ops = ctx.ops(&plan);
    if blank_removed {
        for op in &mut ops {
            if let Op::Unset(name) = op {
                *op = Op::Set(std::mem::take(name), String::new());
            }
        }
    }
    let mask = std::io::stdout().is_terminal();
    let text = match shell {
        Some(shell) if !json => shell::render(shell.statements(), &ops, |n| ctx.var(n), mask)?,
        _ => shell::render_json(&ops, mask),
    };
    if mask && ops.iter().any(|op| matches!(op, Op::Set(n, _) if is_secret_name(n))) {
        say("keys are masked because standard output is a terminal; pipe or eval the output to apply it");
    }
    // Shown rather than applied: the terminal gets escapes, as it gets masked keys.
    emit(&if mask { crate::output::escape_lines(&text) } else { text })
}
