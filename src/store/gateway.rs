//! ccenv's side of the local gateway (`ccenv-gateway`, a separate binary so this one
//! links no server code): the per-user token a gateway project's shell holds, the
//! address for a project, and starting the gateway when it is not running. Costs a
//! gateway project one small file read and a `kill(pid, 0)`; other projects nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

use crate::store::fs as fsutil;

pub const PROGRAM: &str = if cfg!(windows) { "ccenv-gateway.exe" } else { "ccenv-gateway" };

/// What the running gateway writes to `gateway.state` (0600).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub port: u16,
    pub pid: u32,
}

pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("gateway.token")
}
pub fn state_path(data_dir: &Path) -> PathBuf {
    data_dir.join("gateway.state")
}

/// `CCENV_GATEWAY_PORT`, else 17200 + uid % 800 (the gateway computes the same).
pub fn port(var: impl Fn(&str) -> Option<String>) -> u16 {
    if let Some(p) = var("CCENV_GATEWAY_PORT").and_then(|v| v.trim().parse().ok()) {
        return p;
    }
    #[cfg(unix)]
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() } as u16;
    #[cfg(not(unix))]
    let uid = 0u16;
    17200 + uid % 800
}

/// `ANTHROPIC_BASE_URL` for a project: the root's raw path bytes, base64url without
/// padding, so any path survives the URL.
pub fn url(port: u16, root: &Path) -> String {
    use base64::Engine;
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(path_bytes(root));
    format!("http://127.0.0.1:{port}/p/{enc}")
}

#[cfg(unix)]
fn path_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().into_owned().into_bytes()
}

/// The per-user gateway token (32 random bytes as hex, 0600), created on first use. It
/// opens only this machine's gateway, so it may sit in a shell's environment.
pub fn token(data_dir: &Path) -> Result<String> {
    let path = token_path(data_dir);
    match fsutil::read_to_string_limited(&path, 256) {
        Ok(t) => {
            let t = t.trim();
            if t.len() < 32 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!("{} is not a gateway token; delete it and run again", path.display());
            }
            return Ok(t.to_string());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness for the gateway token: {e}"))?;
    let token = crate::core::hex(&raw);
    fsutil::private_dir(data_dir)?;
    match fsutil::private_options().open(&path) {
        Ok(mut f) => std::io::Write::write_all(&mut f, token.as_bytes())?,
        // Another process created it first: theirs is the token.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return self::token(data_dir),
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
    Ok(token)
}

/// The gateway that runs on `port`, judged from its state file and its pid alone: a
/// liveness check that costs no connection.
pub fn running(data_dir: &Path, port: u16) -> Option<State> {
    let text = fsutil::read_to_string_limited(&state_path(data_dir), 4096).ok()?;
    let state: State = serde_json::from_str(&text).ok()?;
    (state.port == port && alive(state.pid)).then_some(state)
}

#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: signal 0 only checks that the process exists and is ours to signal.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}

#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    false
}

/// `ccenv-gateway` beside this program (how both are installed).
pub fn program() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the ccenv binary's path")?;
    let path = exe.with_file_name(PROGRAM);
    if !path.is_file() {
        bail!("{} is missing; install it beside ccenv (`cargo install ccenv` installs both)", path.display());
    }
    Ok(path)
}

/// Starts the gateway on `port` unless it runs, detached (own session, no terminal,
/// output to `gateway.log`). `wait`: return once its state file names a live process
/// (at most 5 s); else return at once — the shell's next command is not kept waiting.
pub fn ensure_running(data_dir: &Path, port: u16, wait: bool) -> Result<()> {
    if running(data_dir, port).is_some() {
        return Ok(());
    }
    let program = program()?;
    fsutil::private_dir(data_dir)?;
    let log = std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join("gateway.log"))?;
    let mut cmd = std::process::Command::new(&program);
    cmd.args(["serve", "--port", &port.to_string()]).env("CCENV_DATA_DIR", data_dir);
    cmd.stdin(std::process::Stdio::null()).stdout(log.try_clone()?).stderr(log);
    detached(&mut cmd);
    cmd.spawn().with_context(|| format!("cannot start {}", program.display()))?;
    if !wait {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if running(data_dir, port).is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("the gateway did not start within 5s; see {}", data_dir.join("gateway.log").display())
}

#[cfg(unix)]
pub fn detached(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe. Its own session: closing the terminal that
    // started it, or Ctrl-C there, does not end it.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

#[cfg(windows)]
pub fn detached(cmd: &mut std::process::Command) {
    use std::os::windows::process::CommandExt;
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    cmd.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW);
}
