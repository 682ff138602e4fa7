//! ccenv's side of the local gateway (`ccenv-gateway`, a separate binary so this one
//! links no server code): the per-user token a gateway project's shell holds, the
//! address for a project, and starting the gateway when it is not running.
//!
//! The address a shell gets always comes from the running gateway, never from a guess:
//! another local user can listen on any free port first (the preferred one included),
//! and a shell sent there would hand that user the token and every prompt. The gateway
//! holds an exclusive lock on `gateway.lock` (in ccenv's 0700 data folder) for as long as
//! it runs and writes `gateway.state` once it listens; a held lock means the state's port
//! is ours. Costs a gateway project an open, a lock test and a small read; others nothing.

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
pub fn lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("gateway.lock")
}
pub fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join("gateway.log")
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

/// The address a gateway project's shell gets while no gateway runs: port 1 is below
/// 1024, where only root may listen, so a client there fails rather than reach anyone.
pub const NOT_RUNNING: &str = "http://127.0.0.1:1/ccenv-gateway-not-running";

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

/// This user's running gateway: its lock is held (by a live process: the system drops a
/// dead one's lock) and its state file says where it listens. No connection is made.
pub fn running(data_dir: &Path) -> Option<State> {
    if !held(&lock_path(data_dir)) {
        return None;
    }
    let text = fsutil::read_to_string_limited(&state_path(data_dir), 4096).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether another process holds `path`'s lock. Testing takes a shared lock for an
/// instant, which the gateway's own start retries past.
fn held(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else { return false };
    matches!(f.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock))
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

/// This user's gateway, started first if it is not running (detached: own session, no
/// terminal, output to `gateway.log`), on `preferred` or, if another program holds that,
/// on a port the system picks. Waits for its state file (at most 5 s), as the address
/// handed out must be the one it listens on.
pub fn ensure_running(data_dir: &Path, preferred: u16) -> Result<State> {
    if let Some(state) = running(data_dir) {
        return Ok(state);
    }
    let program = program()?;
    fsutil::private_dir(data_dir)?;
    let log_file = log_path(data_dir);
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_file)?;
    let mut cmd = std::process::Command::new(&program);
    cmd.args(["serve", "--port", &preferred.to_string()]).env("CCENV_DATA_DIR", data_dir);
    cmd.stdin(std::process::Stdio::null()).stdout(log.try_clone()?).stderr(log);
    detached(&mut cmd);
    let mut child = cmd.spawn().with_context(|| format!("cannot start {}", program.display()))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Some(state) = running(data_dir) {
            return Ok(state);
        }
        // One that ended without a gateway running (a bad config, a broken install) is
        // not waited for: the hook would stall for the whole 5 s at every change.
        if let Ok(Some(status)) = child.try_wait()
            && running(data_dir).is_none()
        {
            bail!("the gateway exited ({status}); see {}", log_file.display())
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    bail!("the gateway did not start within 5s; see {}", log_file.display())
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
