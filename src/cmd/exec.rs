//! `ccenv exec -- CMD ARGS…`: one command with this directory's provider, no hook.
//! For Claude Code, when a settings file's `env` would override the provider, the
//! project's variables also go in through `--settings` (the one level that beats user,
//! project and local settings), from a 0600 temporary file — never on the command line,
//! where `ps` would show the key — removed when Claude Code exits.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Result, bail};

use crate::claude;
use crate::config::project::FILE;
use crate::context::Context;
use crate::core::envdiff::Op;
use crate::core::outcome::Evaluation;
use crate::core::outcome::Refusal;
use crate::output::{say, tilde};
use crate::store::fs as fsutil;
use crate::store::paths::Paths;

pub(crate) fn run(command: Vec<OsString>) -> Result<i32> {
    let ctx = Context::from_process()?;
    let dir = super::cwd(&ctx)?;
    let (inherited, eval, gateway) = ctx.at_with_gateway(Some(&dir));
    let program = &command[0];
    match eval.refusal() {
        None => {}
        Some(Refusal::NoProject) => {
            bail!("no {FILE} in {} or above; not running {program:?} without a provider", dir.display())
        }
        Some(Refusal::Denied(root)) => bail!("{} is denied; run `ccenv allow` to use it", root.display()),
        Some(Refusal::Other(why)) => bail!("{why}; not running {program:?} without it"),
    }
    if let Some(why) = gateway {
        bail!("{why}; not running {program:?} without it");
    }
    let plan = ctx.plan(&eval, &inherited, false);
    plan.save(&ctx.paths)?;
    let use_settings = claude::is_claude(program) && !eval.conflicts.is_empty();
    let handled = if use_settings { eval.conflict_notices() } else { Vec::new() };
    for m in plan.messages.iter().filter(|m| !handled.contains(m)) {
        say(m);
    }
    let mut cmd = Command::new(program);
    for op in ctx.ops(&plan) {
        match op {
            Op::Set(n, v) => cmd.env(n, v),
            Op::Unset(n) => cmd.env_remove(n),
        };
    }
    if !use_settings {
        cmd.args(&command[1..]);
        return replace_process(cmd, program);
    }
    let files: Vec<String> = eval.conflicts.iter().map(|c| tilde(&c.path.to_string_lossy())).collect();
    say(&format!("passing this project's provider with --settings: {} would override it", files.join(", ")));
    let file = write_settings(&ctx.paths, &settings_json(&eval))?;
    cmd.arg("--settings").arg(&file).args(&command[1..]);
    let result = wait_for(cmd, program);
    let _ = std::fs::remove_file(&file);
    result.map(|exit| exit.finish())
}

/// `{"env": {…}}` with the project's values; a variable the project removes but a
/// settings file sets becomes "" (a settings file cannot unset, only cancel).
fn settings_json(eval: &Evaluation) -> String {
    let desired = eval.desired().expect("applied");
    let conflicting: Vec<&String> = eval.conflicts.iter().flat_map(|c| &c.names).collect();
    let env: serde_json::Map<String, serde_json::Value> = desired
        .iter()
        .filter_map(|(name, value)| match value {
            Some(v) => Some((name.clone(), v.clone().into())),
            None if conflicting.contains(&name) => Some((name.clone(), "".into())),
            None => None,
        })
        .collect();
    serde_json::json!({ "env": env }).to_string()
}

fn write_settings(paths: &Paths, json: &str) -> Result<PathBuf> {
    let dir = paths.data_dir.join("tmp");
    fsutil::private_dir(&dir)?;
    // Files left by a ccenv that was killed outright (SIGKILL) while Claude Code ran.
    fsutil::remove_older_than(&dir, std::time::Duration::from_secs(24 * 3600));
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let path = dir.join(format!("claude-settings-{}-{nanos}.json", std::process::id()));
    fsutil::write_atomic(&path, json.as_bytes())?;
    Ok(path)
}

#[cfg(unix)]
fn replace_process(mut cmd: Command, program: &OsStr) -> Result<i32> {
    use std::os::unix::process::CommandExt;
    // Replaces this process: exit code and signals are the command's own.
    let e = cmd.exec();
    Ok(cannot_run(program, &e))
}

/// The shells' convention: 127 when the command is not found, 126 when it cannot run.
fn cannot_run(program: &OsStr, e: &std::io::Error) -> i32 {
    eprintln!("ccenv: error: cannot run {program:?}: {e}");
    if e.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 }
}

#[cfg(not(unix))]
fn replace_process(cmd: Command, program: &OsStr) -> Result<i32> {
    wait_for(cmd, program).map(|exit| exit.finish())
}

/// How the child ended.
enum Exit {
    Code(i32),
    #[cfg(unix)]
    Signal(i32),
}

impl Exit {
    /// The exit code to pass on; a child killed by a signal kills us the same way.
    fn finish(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            #[cfg(unix)]
            Exit::Signal(sig) => unsafe {
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
                128 + sig
            },
        }
    }
}

#[cfg(unix)]
fn wait_for(mut cmd: Command, program: &OsStr) -> Result<Exit> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::sync::atomic::{AtomicI32, Ordering};

    static CHILD: AtomicI32 = AtomicI32::new(0);
    extern "C" fn forward(sig: libc::c_int) {
        let pid = CHILD.load(Ordering::SeqCst);
        if pid > 0 {
            unsafe { libc::kill(pid, sig) };
        }
    }
    // The terminal sends Ctrl-C and Ctrl-\ to the whole process group: Claude Code gets
    // them itself, and ccenv stays alive to clean up. Signals sent to ccenv alone go on.
    // SAFETY: plain POSIX signal dispositions; the handler only calls kill(2).
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
        libc::signal(libc::SIGTERM, forward as *const () as libc::sighandler_t);
        libc::signal(libc::SIGHUP, forward as *const () as libc::sighandler_t);
        // The child must not inherit "ignore": restore the defaults between fork and exec.
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGQUIT, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ok(Exit::Code(cannot_run(program, &e))),
    };
    CHILD.store(child.id() as i32, Ordering::SeqCst);
    let status = child.wait()?;
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(sig)) => Exit::Signal(sig),
        (None, None) => Exit::Code(1),
    })
}

#[cfg(not(unix))]
fn wait_for(mut cmd: Command, program: &OsStr) -> Result<Exit> {
    let status = match cmd.status() {
        Ok(s) => s,
        Err(e) => return Ok(Exit::Code(cannot_run(program, &e))),
    };
    Ok(Exit::Code(status.code().unwrap_or(1)))
}
