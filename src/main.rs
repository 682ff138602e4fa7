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
    let args: Vec<String> = std::env::args().skip(1).take(5).collect();
    if let [command, shell, pid, rest @ ..] = args.as_slice()
        && command == "hook-env"
        && rest.len() <= 1
        && let Ok(pid) = pid.parse()
    {
        let said = rest.first().map_or("", String::as_str);
        return cmd::finish(cmd::hook_env::run(shell, pid, said).map(|()| 0));
    }
    match Cli::try_parse() {
        Ok(cli) => cmd::run(cli),
        Err(e) => cmd::clap_error(e),
    }
}
