//! The `ccenv` binary: the hook's fast path, then clap; everything else is in the library.

use std::process::ExitCode;

use clap::Parser;

use ccenv::cli::Cli;
use ccenv::cmd;

fn main() -> ExitCode {
    // `ccenv man | head` ends quietly, as C tools do, instead of reporting EPIPE.
    #[cfg(unix)]
    // SAFETY: setting a signal disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // The hook's call skips clap: it is the one command on the per-change path.
    // `args_os`: `args` panics on an argument that is not UTF-8 (a folder name, or what
    // `exec` passes on); clap takes those as they are.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).take(5).collect();
    let args: Option<Vec<&str>> = args.iter().map(|a| a.to_str()).collect();
    if let Some([command, shell, pid, rest @ ..]) = args.as_deref()
        && *command == "hook-env"
        && rest.len() <= 1
        && let Ok(pid) = pid.parse()
    {
        let said = rest.first().copied().unwrap_or("");
        return cmd::finish(cmd::hook_env::run(shell, pid, said).map(|()| 0));
    }
    match Cli::try_parse() {
        Ok(cli) => cmd::run(cli),
        Err(e) => cmd::clap_error(e),
    }
}
