//! The gateway wired into ccenv: a project that needs it (an `openai-chat` provider, a
//! `fallback` chain) gets it from the real hook in a real shell and from `ccenv exec`,
//! and the real Claude Code talks through it to loopback fake providers. The gateway
//! here runs ccenv's own project rules (no `--routes`).

mod common;
#[allow(dead_code)]
#[path = "common/gateway.rs"]
mod gw;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::server::Server;
use common::{CCENV, Sandbox, Shell, have};
use gw::{body_json, openai, rate_limited};

const UPSTREAM_KEY: &str = "sk-upstream-secret-groq-0123456789";
const FALLBACK_KEY: &str = "sk-upstream-secret-backup-0123456789";

/// A port of its own per test, as `CCENV_GATEWAY_PORT` (the default is per user).
fn free_port() -> String {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string()
}

/// The gateway the hook or `exec` started outlives the test unless stopped.
struct StopOnDrop<'a>(&'a Sandbox);
impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = Command::new(gw::GATEWAY).arg("stop").env_clear().envs(self.0.base_env()).output();
    }
}

fn claude_env(port: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CCENV_GATEWAY_PORT", port.to_string()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
        ("DISABLE_AUTOUPDATER", "1".into()),
    ]
}

fn token(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.path("data/gateway.token")).unwrap().trim().to_string()
}

fn expected_url(port: &str, root: &Path) -> String {
    use base64::Engine;
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(root.to_str().unwrap());
    format!("http://127.0.0.1:{port}/p/{enc}")
}

/// `provider = "groq"` with the preset's endpoint moved to a loopback fake in config.toml.
fn groq_project(sb: &Sandbox, server: &Server, extra_config: &str, body: &str) -> std::path::PathBuf {
    sb.write(
        &sb.path("cfg/config.toml"),
        &format!("[providers.groq]\nbase_url = \"{}/v1\"\n{extra_config}", server.url()),
    );
    sb.set_key("groq", UPSTREAM_KEY);
    sb.project("app", "groq", body)
}

#[test]
fn a_groq_project_works_through_claude_code_from_a_hooked_bash() {
    if !have("claude") || !have("bash") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let dir = groq_project(&sb, &server, "", "");
    let port = free_port();
    let _stop = StopOnDrop(&sb);
    let env = claude_env(&port);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut sh = Shell::start(&sb, "bash", &env);
    sh.timeout = Duration::from_secs(120);
    sh.run(&format!("cd '{}'", dir.display()));
    // A child of the shell holds the gateway's address and token, never the key.
    let child = sh.child_env();
    assert_eq!(child.get("ANTHROPIC_BASE_URL"), Some(&expected_url(&port, &dir)));
    assert_eq!(child.get("ANTHROPIC_AUTH_TOKEN"), Some(&token(&sb)));
    assert_eq!(child.get("ANTHROPIC_API_KEY"), None);
    assert!(child.values().all(|v| !v.contains(UPSTREAM_KEY)), "the upstream key reached the environment");
    let out = sb.path("out/claude.txt");
    sh.run(&format!("claude -p 'reply with pong' > '{}' 2>&1", out.display()));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("pong-from-openai via openai/gpt-oss-120b"),
        "claude output:\n{text}\nshell:\n{}",
        sh.output()
    );
    for r in server.all() {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {UPSTREAM_KEY}").as_str()));
        assert!(!format!("{r:?}").contains(&token(&sb)), "the gateway token went upstream");
    }
    assert!(
        sh.ccenv_messages().iter().all(|m| !m.contains("gateway is not running")),
        "{:?}",
        sh.ccenv_messages()
    );
    sh.exit();
}

#[test]
fn exec_claude_fails_over_to_the_fallback_and_usage_shows_it() {
    if !have("claude") {
        return;
    }
    let sb = Sandbox::new();
    let primary = Server::answering(rate_limited);
    let backup = Server::answering(openai);
    let backup_cfg = format!(
        "[providers.backup]\nprotocol = \"openai-chat\"\nbase_url = \"{}/v1\"\nauth = \"bearer\"\nmodel = \"backup-big\"\n",
        backup.url()
    );
    let dir = groq_project(
        &sb,
        &primary,
        &backup_cfg,
        "fallback = [{ provider = \"backup\", model = \"fb-model\" }]\n",
    );
    sb.set_key("backup", FALLBACK_KEY);
    // Trusting the file names every host that will receive a key, fallbacks included.
    let allowed = sb.ccenv(&dir, &["allow"]);
    let said = String::from_utf8_lossy(&allowed.stderr).to_string();
    for (server, key) in [(&primary, "key store `groq`"), (&backup, "key store `backup`")] {
        let host = server.url().trim_start_matches("http://").to_string();
        assert!(said.contains(&format!("{key} to {host}")), "ccenv allow said:\n{said}");
    }
    let port = free_port();
    let _stop = StopOnDrop(&sb);
    let out = Command::new(CCENV)
        .args(["exec", "--", "claude", "-p", "reply with pong"])
        .current_dir(&dir)
        .env_clear()
        .envs(sb.base_env())
        .envs(claude_env(&port))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("pong-from-openai via fb-model"), "claude output:\n{text}");
    assert!(!primary.all().is_empty(), "the primary was tried first");
    for r in backup.all() {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {FALLBACK_KEY}").as_str()),
            "each provider gets its own key"
        );
        assert_eq!(body_json(&r)["model"], "fb-model");
    }
    for r in primary.all() {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {UPSTREAM_KEY}").as_str()));
    }
    // The gateway records a request after its reply has gone out: wait for the rows.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let usage = loop {
        let usage = sb.ok(&dir, &["usage", "--by", "provider"]);
        if (usage.contains("backup") && usage.contains("groq")) || std::time::Instant::now() > deadline {
            break usage;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(usage.contains("backup") && usage.contains("groq"), "ccenv usage:\n{usage}");
    let status = Command::new(CCENV)
        .args(["gateway", "status"])
        .env_clear()
        .envs(sb.base_env())
        .envs(claude_env(&port))
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(
        status.contains(&format!("127.0.0.1:{port}")) && status.contains("cooling down"),
        "ccenv gateway status:\n{status}"
    );
    let here = Command::new(CCENV)
        .args(["status"])
        .current_dir(&dir)
        .env_clear()
        .envs(sb.base_env())
        .envs(claude_env(&port))
        .output()
        .unwrap();
    let here = String::from_utf8_lossy(&here.stdout).to_string();
    assert!(here.contains("serving: backup") && here.contains("groq cooling down"), "ccenv status:\n{here}");
    assert!(
        here.contains(&expected_url(&port, &dir)) && !here.contains(UPSTREAM_KEY),
        "ccenv status:\n{here}"
    );
}

#[test]
fn an_edited_project_is_refused_in_claude_codes_output() {
    if !have("claude") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let dir = groq_project(&sb, &server, "", "");
    let port = free_port();
    let _stop = StopOnDrop(&sb);
    let started = Command::new(CCENV)
        .args(["gateway", "start"])
        .env_clear()
        .envs(sb.base_env())
        .envs(claude_env(&port))
        .output()
        .unwrap();
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    // A shell that entered before the edit still holds the gateway's address: the
    // gateway, not the shell, must notice the edit.
    sb.write(&dir.join(".claude-provider.toml"), "provider = \"groq\"\nmodel = \"evil\"\n");
    let out = Command::new("claude")
        .args(["-p", "reply with pong"])
        .current_dir(&dir)
        .env_clear()
        .envs(sb.base_env())
        .envs(claude_env(&port))
        .env("ANTHROPIC_BASE_URL", expected_url(&port, &dir))
        .env("ANTHROPIC_AUTH_TOKEN", token(&sb))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains("changed since it was allowed") && text.contains("ccenv allow"),
        "claude output:\n{text}"
    );
    assert!(server.all().is_empty(), "nothing may reach the provider");
}

/// The gateway inherits the environment of whichever shell started it: inside another
/// project that may hold that project's key in ANTHROPIC_API_KEY. The gateway takes keys
/// from the key store alone, so an official-API gateway project without a stored key is
/// refused with the fix instead of sending that environment's key to api.anthropic.com.
#[test]
fn the_gateway_never_takes_a_key_from_the_environment_it_was_started_from() {
    let sb = Sandbox::new();
    let dir = sb.project("official", "anthropic", "gateway = true\n");
    let port = free_port();
    let _stop = StopOnDrop(&sb);
    let other_key = "sk-another-projects-key-0123456789";
    let out = Command::new(CCENV)
        .args(["exec", "--", "true"])
        .current_dir(&dir)
        .env_clear()
        .envs(sb.base_env())
        .envs(claude_env(&port))
        .env("ANTHROPIC_API_KEY", other_key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut resp = agent
        .post(format!("{}/v1/messages", expected_url(&port, &dir)))
        .header("authorization", &format!("Bearer {}", token(&sb)))
        .header("content-type", "application/json")
        .send(r#"{"model":"m","max_tokens":1,"messages":[]}"#)
        .unwrap();
    let body = resp.body_mut().read_to_string().unwrap();
    assert!(body.contains("ccenv key set anthropic"), "{}: {body}", resp.status());
}

/// Another program listening on the gateway's preferred port first (another local user
/// can): the hook's shell gets the address of the gateway ccenv started, which moved to
/// a free port, and the squatter receives nothing, neither the token nor a prompt. On the
/// old code the shell was pointed at the preferred port whoever held it.
#[test]
fn a_program_squatting_the_gateway_port_never_gets_the_shell() {
    use std::io::Read;
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let dir = groq_project(&sb, &server, "", "");
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    squatter.set_nonblocking(true).unwrap();
    let port = squatter.local_addr().unwrap().port().to_string();
    let _stop = StopOnDrop(&sb);
    let env = claude_env(&port);
    let run = |args: &[&str]| {
        Command::new(CCENV)
            .args(args)
            .current_dir(&dir)
            .env_clear()
            .envs(sb.base_env())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("PWD", &dir)
            .output()
            .unwrap()
    };
    let out = run(&["export", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let url = json["set"]["ANTHROPIC_BASE_URL"].as_str().unwrap().to_string();
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path("data/gateway.state")).unwrap()).unwrap();
    let live = state["port"].as_u64().unwrap().to_string();
    assert_ne!(live, port, "the gateway cannot listen where the squatter does");
    assert_eq!(url, expected_url(&live, &dir), "the shell gets the running gateway's address");
    // The address works: a request with the token reaches the provider through it.
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let body =
        serde_json::json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
    let reply = agent
        .post(format!("{url}/v1/messages"))
        .header("authorization", &format!("Bearer {}", token(&sb)))
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert!(!server.all().is_empty());
    let mut conn = squatter.accept();
    let mut got = Vec::new();
    if let Ok((c, _)) = conn.as_mut() {
        let _ = c.read_to_end(&mut got);
    }
    assert!(conn.is_err(), "the squatter got a connection: {:?}", String::from_utf8_lossy(&got));
    // And the hook's own run names the same address.
    let hook = run(&["hook-env", "bash", "4242"]);
    assert!(String::from_utf8_lossy(&hook.stdout).contains(&format!("127.0.0.1:{live}/p/")));
}

/// A gateway that cannot start (here its usage database is a folder) ends at once, and
/// ccenv says so instead of waiting out its 5 s for a state file that never comes (which
/// the hook would have paid at every change).
#[test]
fn a_gateway_that_cannot_start_is_reported_not_waited_for() {
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let dir = groq_project(&sb, &server, "", "");
    std::fs::create_dir_all(sb.path("data/usage.sqlite3/x")).unwrap();
    let _stop = StopOnDrop(&sb);
    let out = Command::new(CCENV)
        .args(["exec", "--", "true"])
        .current_dir(&dir)
        .env_clear()
        .envs(sb.base_env())
        .env("CCENV_GATEWAY_PORT", free_port())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("the gateway exited") && err.contains("gateway.log"), "{err}");
}
