//! One file per subcommand, each with one `run`: read the context, call the core,
//! render through `shell` or `output`. Data goes to stdout, messages to stderr.

mod allow;
mod claude_settings;
mod completions;
mod deny;
mod doctor;
mod exec;
mod export;
mod gateway;
mod hook;
pub mod hook_env;
mod import;
mod init;
mod key;
mod man;
mod providers;
mod status;
mod watch;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};

use crate::cli::{Cli, Command};
use crate::config::project::{self, FILE};
use crate::output::say;

/// Runs a parsed command line and turns its result into the process's exit code.
pub fn run(cli: Cli) -> u8 {
    let ok = |r: Result<()>| r.map(|()| 0);
    let result = match cli.command {
        Command::Hook { shell } => ok(hook::run(shell)),
        Command::HookEnv { shell, pid, said } => ok(hook_env::run(&shell, pid, &said)),
        Command::Export { shell, json, blank_removed } => ok(export::run(shell, json, blank_removed)),
        Command::Allow { dir } => ok(allow::run(dir)),
        Command::Deny { dir } => ok(deny::run(dir)),
        Command::Status { dir, json, short } => ok(status::run(dir, json, short)),
        Command::Watch { dir } => ok(watch::run(dir)),
        Command::Completions { shell } => ok(completions::run(shell)),
        Command::Man => ok(man::run()),
        Command::Exec { command } => exec::run(command),
        Command::Gateway { action } => gateway::run(action),
        Command::Usage { since, by, json } => gateway::usage(&since, &by, json),
        Command::Init { provider, model, force } => ok(init::run(&provider, model, force)),
        Command::Providers { json } => ok(providers::run(json)),
        Command::Key { action } => ok(key::run(action)),
        Command::ClaudeSettings { action } => ok(claude_settings::run(action)),
        Command::Import { name, from, remove_from_claude_settings, dry_run, replace_key } => {
            ok(import::run(import::Options { name, from, remove_from_claude_settings, dry_run, replace_key }))
        }
        Command::Doctor { online, timeout, json, fix_onboarding } => {
            doctor::run(online, timeout, json, fix_onboarding)
        }
    };
    finish(result)
}

/// A command line clap refused: help and version as clap prints them, errors (which
/// quote the refused argument) escaped like every other message.
pub fn clap_error(e: clap::Error) -> u8 {
    if !e.use_stderr() {
        e.exit();
    }
    eprint!("{}", crate::output::escape_lines(&e.render().to_string()));
    u8::try_from(e.exit_code()).unwrap_or(2)
}

pub fn finish(result: Result<i32>) -> u8 {
    match result {
        Ok(code) => u8::try_from(code).unwrap_or(1),
        Err(e) => {
            say(&format!("error: {e:#}"));
            1
        }
    }
}

fn exe_path() -> Result<String> {
    let exe = std::env::current_exe().context("cannot find the ccenv binary's path")?;
    exe.to_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("the path of the ccenv binary is not UTF-8: {}", exe.display()))
}

/// The working directory, or an error saying it is gone.
fn cwd(ctx: &crate::context::Context) -> Result<PathBuf> {
    ctx.cwd.clone().context("the current directory no longer exists")
}

/// The directory a command's DIR argument names (default: the working directory),
/// spelled as the hook would see it after `cd DIR`.
fn dir_arg(ctx: &crate::context::Context, dir: Option<PathBuf>) -> Result<PathBuf> {
    crate::store::paths::resolve_dir(ctx.cwd.as_deref(), dir.as_deref())
}

/// The project governing `dir` (default: the working directory).
fn project_at(ctx: &crate::context::Context, dir: Option<PathBuf>) -> Result<project::Found> {
    find(&dir_arg(ctx, dir)?)
}

fn find(dir: &Path) -> Result<project::Found> {
    let discovery = project::discover(dir);
    let ignored: String = discovery
        .ignored
        .iter()
        .map(|(p, uid)| format!("; ignored {} (owned by uid {uid})", p.display()))
        .collect();
    discovery.found.ok_or_else(|| {
        anyhow!("no {FILE} in {} or above{ignored}; create one with `ccenv init PROVIDER`", dir.display())
    })
}
