//! The `ccenv` binary: argument parsing and exit codes; everything else is in the library.

use std::process::ExitCode;

use clap::Parser;

use ccenv::cli::{self, Cli, Command};
use ccenv::{commands, completions, exec, ide, import, watch};

fn main() -> ExitCode {
    // `ccenv man | head` ends quietly, as C tools do, instead of reporting EPIPE.
    #[cfg(unix)]
    // SAFETY: setting a signal disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // The hook's call skips clap: it is the one command on the per-change path.
    let args: Vec<String> = std::env::args().skip(1).take(5).collect();
    if let [cmd, shell, pid, rest @ ..] = args.as_slice()
        && cmd == "hook-env"
        && rest.len() <= 1
        && let Ok(pid) = pid.parse()
    {
        let said = rest.first().map_or("", String::as_str);
        return finish(commands::hook_env(shell, pid, said).map(|()| 0));
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hook { shell } => commands::hook(shell).map(|()| 0),
        Command::HookEnv { shell, pid, said } => commands::hook_env(&shell, pid, &said).map(|()| 0),
        Command::Export { shell, json, blank_removed } => {
            commands::export(shell, json, blank_removed).map(|()| 0)
        }
        Command::Allow { dir } => commands::allow(dir).map(|()| 0),
        Command::Deny { dir } => commands::deny(dir).map(|()| 0),
        Command::Status { short: true, .. } => commands::status_short().map(|()| 0),
        Command::Status { json, .. } => commands::status(json).map(|()| 0),
        Command::Watch { dir } => watch::watch(dir).map(|()| 0),
        Command::Completions { shell } => completions::print(shell).map(|()| 0),
        Command::Man => completions::man().map(|()| 0),
        Command::Exec { command } => exec::exec(command),
        Command::Init { provider, model, force } => commands::init(&provider, model, force).map(|()| 0),
        Command::Providers { json } => commands::providers(json).map(|()| 0),
        Command::Key { action: cli::KeyAction::Helper { dir } } => ide::helper(dir).map(|()| 0),
        Command::Key { action } => commands::key(action).map(|()| 0),
        Command::ClaudeSettings { action } => match action {
            cli::ClaudeSettingsAction::Write => ide::write(),
            cli::ClaudeSettingsAction::Remove => ide::remove(),
        }
        .map(|()| 0),
        Command::Import { name, from, remove_from_claude_settings } => {
            import::import(import::Options { name, from, remove_from_claude_settings }).map(|()| 0)
        }
        Command::Doctor { online, timeout, json, fix_onboarding } => {
            commands::doctor(online, timeout, json, fix_onboarding)
        }
    };
    finish(result)
}

fn finish(result: anyhow::Result<i32>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            commands::say(&format!("error: {e:#}"));
            ExitCode::FAILURE
        }
    }
}
