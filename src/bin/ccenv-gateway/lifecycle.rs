//! Starting, finding and stopping the one gateway of this user. The state file (0600)
//! says where it listens; a liveness check asks the server on that port to prove it
//! holds the token, so another program on the port is never mistaken for it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::app::{App, Timeouts};
use crate::files::{Files, read_capped};
use crate::route::Resolver;

#[derive(Serialize, Deserialize, Debug, Clone, Copy)]
pub(crate) struct State {
    pub port: u16,
    pub pid: u32,
}

/// A per-user default, so two users on one machine do not collide: 17200–17999, below
/// the usual ephemeral range. `--port` or `CCENV_GATEWAY_PORT` override it.
pub(crate) fn default_port() -> u16 {
    #[cfg(unix)]
    let uid = unsafe { libc::getuid() } as u16;
    #[cfg(not(unix))]
    let uid = 0u16;
    17200 + uid % 800
}

pub(crate) fn read_state(files: &Files) -> Option<State> {
    let text = read_capped(&files.state(), 4096).ok()??;
    serde_json::from_str(&text).ok()
}

/// Is our gateway answering on `port`? It must return HMAC(token, nonce) for a fresh nonce.
pub(crate) async fn alive(port: u16, token: &str) -> Option<u32> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).ok()?;
    let nonce: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).no_proxy().build().ok()?;
    let url = format!("http://127.0.0.1:{port}/ccenv/health?nonce={nonce}");
    let v: serde_json::Value =
        serde_json::from_slice(&client.get(url).send().await.ok()?.bytes().await.ok()?).ok()?;
    let proof = v["proof"].as_str()?;
    crate::security::proof_ok(token, &nonce, proof).then(|| v["pid"].as_u64().unwrap_or(0) as u32)
}

pub(crate) struct ServeOptions {
    pub port: u16,
    pub timeouts: Timeouts,
}

/// Prints where ours runs and returns true, if it does.
async fn already_running(files: &Files, token: &str) -> bool {
    if let Some(s) = read_state(files)
        && let Some(pid) = alive(s.port, token).await
    {
        println!("ccenv gateway is already running on 127.0.0.1:{} (pid {pid})", s.port);
        return true;
    }
    false
}

pub(crate) async fn serve(files: &Files, resolver: Arc<dyn Resolver>, opts: ServeOptions) -> Result<()> {
    let token = files.load_or_create_token()?;
    // Held until this process ends (the system drops it then, however it ends): shells
    // trust `gateway.state` only while it is held (ccenv's store/gateway.rs).
    let Some(_lock) = take_lock(files).await? else {
        if already_running(files, &token).await {
            return Ok(());
        }
        bail!("another ccenv gateway holds {}; it is starting or stopping", files.lock().display());
    };
    if already_running(files, &token).await {
        return Ok(());
    }
    // A state file left by a gateway that was killed would name its port, which anyone
    // may hold now.
    let _ = std::fs::remove_file(files.state());
    let listener = match tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], opts.port))).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            // Another program (perhaps another user's) holds the port: any other will do,
            // as shells take the address from the state file, never from the port number.
            let l = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .context("cannot listen on 127.0.0.1")?;
            eprintln!(
                "ccenv gateway: port {} on 127.0.0.1 is taken by another program; listening on {} instead",
                opts.port,
                l.local_addr()?.port()
            );
            l
        }
        Err(e) => return Err(e).with_context(|| format!("cannot listen on 127.0.0.1:{}", opts.port)),
    };
    let port = listener.local_addr()?.port();
    let usage = crate::usage::start(&files.usage_db())?;
    let app = Arc::new(App::new(resolver, token, port, opts.timeouts, usage)?);
    let state = State { port, pid: std::process::id() };
    files.write_private(&files.state(), &serde_json::to_string(&state)?)?;
    eprintln!("ccenv gateway listening on 127.0.0.1:{port} (pid {})", state.pid);
    let stop = app.clone();
    // Stream events are small writes: without TCP_NODELAY a burst can wait out the peer's
    // delayed ACK (40 ms on Linux), which bench/gateway showed as the stream p99.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(listener, crate::server::router(app))
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = stop.shutdown.notified() => {}
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate() => {}
            }
        })
        .await;
    remove_state_if_ours(files);
    served.context("the gateway stopped with an error")
}

/// The one-gateway-per-user lock, or `None` when another process keeps it. ccenv tests it
/// with a shared lock for an instant, so a few retries get past that.
async fn take_lock(files: &Files) -> Result<Option<std::fs::File>> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file =
        options.open(files.lock()).with_context(|| format!("cannot open {}", files.lock().display()))?;
    for _ in 0..100 {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", files.lock().display()));
            }
        }
    }
    Ok(None)
}

#[cfg(unix)]
async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending().await
}

fn remove_state_if_ours(files: &Files) {
    if read_state(files).is_some_and(|s| s.pid == std::process::id()) {
        let _ = std::fs::remove_file(files.state());
    }
}

/// Starts `serve` again as a background process without a terminal, then waits until
/// it proves it is up.
pub(crate) async fn detach(files: &Files, serve_args: &[std::ffi::OsString]) -> Result<()> {
    if already_running(files, &files.load_or_create_token()?).await {
        return Ok(());
    }
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    std::fs::create_dir_all(&files.dir)?;
    let log = std::fs::OpenOptions::new().create(true).append(true).open(files.log())?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(serve_args).stdin(std::process::Stdio::null()).stdout(log.try_clone()?).stderr(log);
    // The same detachment the hook uses when it starts the gateway.
    ccenv::store::gateway::detached(&mut cmd);
    let child = cmd.spawn().context("cannot start the gateway")?;
    let token = files.load_or_create_token()?;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Some(s) = read_state(files)
            && let Some(pid) = alive(s.port, &token).await
        {
            println!("ccenv gateway running on 127.0.0.1:{} (pid {pid})", s.port);
            return Ok(());
        }
    }
    bail!("the gateway (pid {}) did not come up within 5s; see {}", child.id(), files.log().display())
}

pub(crate) async fn stop(files: &Files) -> Result<()> {
    let token = files.load_or_create_token()?;
    let Some(s) = read_state(files) else {
        println!("ccenv gateway is not running");
        return Ok(());
    };
    if alive(s.port, &token).await.is_none() {
        let _ = std::fs::remove_file(files.state());
        println!("ccenv gateway is not running (removed a stale state file)");
        return Ok(());
    }
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).no_proxy().build()?;
    client.post(format!("http://127.0.0.1:{}/ccenv/shutdown", s.port)).bearer_auth(&token).send().await?;
    for _ in 0..100 {
        if alive(s.port, &token).await.is_none() {
            println!("ccenv gateway stopped");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the gateway on port {} did not stop within 5s", s.port)
}

pub(crate) async fn status(files: &Files, as_json: bool) -> Result<bool> {
    let token = files.load_or_create_token()?;
    let running = match read_state(files) {
        Some(s) if alive(s.port, &token).await.is_some() => Some(s),
        _ => None,
    };
    let Some(s) = running else {
        println!("{}", if as_json { "{\"running\":false}" } else { "ccenv gateway is not running" });
        return Ok(false);
    };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).no_proxy().build()?;
    let url = format!("http://127.0.0.1:{}/ccenv/status", s.port);
    let mut v: serde_json::Value =
        serde_json::from_slice(&client.get(url).bearer_auth(&token).send().await?.bytes().await?)?;
    v["running"] = true.into();
    if as_json {
        println!("{}", ccenv::output::json_line(&v));
    } else {
        crate::report::print_status(&v);
    }
    Ok(true)
}
