//! The `ccenv` binary: the hook's fast path, then clap; everything else is in the library.
//!
//! C's `main`, not Rust's: std's start-up before a Rust `main` reads /proc/self/maps to
//! place the main thread's stack-overflow guard, ~100k instructions, a third of what an
//! empty Rust program costs and more than the hook's own work when a directory changes.
//! Without it `std::env::args` still works (glibc hands std the arguments before `main`;
//! macOS and Windows ask the OS); a stack overflow is then a plain SIGSEGV.
#![cfg_attr(not(test), no_main)]

use clap::Parser;

use ccenv::cli::Cli;
use ccenv::cmd;

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    let code = run();
    // Rust's start-up would flush stdout on the way out; here nothing else does.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    std::ffi::c_int::from(code)
}

#[cfg_attr(test, allow(dead_code))]
fn run() -> u8 {
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
