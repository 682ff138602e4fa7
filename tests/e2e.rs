//! End to end: the real Claude Code CLI and the Python `anthropic` SDK, started from a
//! real shell inside a project, against a loopback server that records what arrives.

mod common;

use std::io::Write;
use std::time::Duration;

use common::server::{Request, Server};
use common::{Sandbox, Shell, have};

const REAL_KEY: &str = "sk-ant-REAL-user-key-must-not-leak";
const PROJECT_KEY: &str = "sk-loop-project-secret-123";

/// A project whose user provider points at the loopback server.
fn loop_project(sb: &Sandbox, server: &Server) -> std::path::PathBuf {
    sb.user_provider(
        "loop",
        &server.url(),
        "model = \"loop-model-main\"\n[providers.loop.models]\nhaiku = \"loop-model-small\"\n",
    );
    sb.set_key("loop", PROJECT_KEY);
    sb.project("app", "loop", "")
}

fn shell_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ANTHROPIC_API_KEY", REAL_KEY),
        ("ANTHROPIC_MODEL", "claude-user-default"),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
        ("DISABLE_AUTOUPDATER", "1"),
    ]
}

fn assert_project_credentials_only(server: &Server, client: &str) {
    let msgs = server.messages();
    assert!(!msgs.is_empty(), "{client}: no request reached the server: {:?}", server.all());
    for r in &msgs {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {PROJECT_KEY}").as_str()),
            "{client}: {r:?}"
        );
        assert_eq!(r.header("x-api-key"), None, "{client} sent x-api-key: {r:?}");
    }
    for r in server.all() {
        let everything = format!("{r:?}");
        assert!(!everything.contains(REAL_KEY), "{client} sent the user's own key: {everything}");
    }
}

#[test]
fn claude_code_uses_the_project_provider_and_never_the_users_key() {
    if !have("claude") || !have("script") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::start();
    let dir = loop_project(&sb, &server);
    let mut sh = Shell::start(&sb, "bash", &shell_env());
    sh.timeout = Duration::from_secs(120);
    sh.run(&format!("cd '{}'", dir.display()));
    let out = sb.path("out/claude.txt");
    sh.run(&format!("claude -p 'reply with pong' > '{}' 2>&1; echo \"exit=$?\" >> '{0}'", out.display()));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("pong-from-loopback") && text.contains("exit=0"), "claude output:\n{text}");
    assert_project_credentials_only(&server, "claude");
    let models: Vec<String> = server.messages().iter().filter_map(Request::model).collect();
    assert!(models.contains(&"loop-model-main".to_string()), "main model not used: {models:?}");
    for m in &models {
        assert!(m == "loop-model-main" || m == "loop-model-small", "unexpected model {m}");
    }
    sh.exit();
}

fn have_python_sdk() -> bool {
    if !have("python3") {
        return false;
    }
    let ok = std::process::Command::new("python3")
        .args(["-c", "import anthropic"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CCENV_REQUIRE_ALL").is_some() {
            panic!("the Python anthropic SDK is required (CCENV_REQUIRE_ALL is set)");
        }
        let _ = writeln!(std::io::stderr(), "SKIPPED: Python package `anthropic` is not installed");
    }
    ok
}

const PY_CLIENT: &str = "import anthropic, os; m = anthropic.Anthropic().messages.create(model=os.environ['ANTHROPIC_MODEL'], max_tokens=8, messages=[{'role': 'user', 'content': 'ping'}]); print(m.content[0].text)";

#[test]
fn python_sdk_uses_the_project_provider_and_never_the_users_key() {
    if !have_python_sdk() || !have("script") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::start();
    let dir = loop_project(&sb, &server);
    let mut sh = Shell::start(&sb, "bash", &shell_env());
    sh.timeout = Duration::from_secs(60);
    sh.run(&format!("cd '{}'", dir.display()));
    let out = sb.path("out/py.txt");
    sh.run(&format!("python3 -c \"{PY_CLIENT}\" > '{}' 2>&1", out.display()));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("pong-from-loopback"), "python output:\n{text}");
    assert_project_credentials_only(&server, "anthropic SDK");
    assert_eq!(server.messages()[0].model().as_deref(), Some("loop-model-main"));
    sh.exit();
}

/// The recorder is not blind: without ccenv the same client sends the user's own key
/// (anthropic 2.12 prefers ANTHROPIC_API_KEY and sends it as the Bearer token), which
/// the assertions above would reject.
#[test]
fn without_ccenv_the_users_key_would_reach_the_third_party() {
    if !have_python_sdk() {
        return;
    }
    let server = Server::start();
    let out = std::process::Command::new("python3")
        .args(["-c", PY_CLIENT])
        .env("ANTHROPIC_BASE_URL", server.url())
        .env("ANTHROPIC_AUTH_TOKEN", PROJECT_KEY)
        .env("ANTHROPIC_API_KEY", REAL_KEY)
        .env("ANTHROPIC_MODEL", "m")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sent = format!("{:?}", server.messages()[0].headers);
    assert!(sent.contains(REAL_KEY), "the user's key did not arrive: {sent}");
}

#[test]
fn exec_gives_claude_code_the_project_provider() {
    if !have("claude") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::start();
    let dir = loop_project(&sb, &server);
    let env: Vec<(&str, &str)> = shell_env();
    let out = sb.ccenv_with(&dir, &["exec", "--", "claude", "-p", "reply with pong"], &env, None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("pong-from-loopback"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_project_credentials_only(&server, "claude via exec");
}

/// The same control for Claude Code: with both variables set it sends the user's key.
#[test]
fn without_ccenv_claude_code_sends_the_users_key_too() {
    if !have("claude") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::start();
    let out = std::process::Command::new("claude")
        .args(["-p", "reply with pong"])
        .current_dir(sb.path("work"))
        .env_clear()
        .envs(sb.base_env())
        .envs(shell_env())
        .env("ANTHROPIC_BASE_URL", server.url())
        .env("ANTHROPIC_AUTH_TOKEN", PROJECT_KEY)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = &server.messages()[0];
    assert_eq!(r.header("x-api-key"), Some(REAL_KEY), "headers: {:?}", r.headers);
    assert_eq!(r.header("authorization"), Some(format!("Bearer {PROJECT_KEY}").as_str()));
}

/// A global settings file of the kind every provider guide writes.
fn global_settings(sb: &Sandbox, wrong: &Server) {
    let settings = serde_json::json!({
        "env": {
            "ANTHROPIC_BASE_URL": wrong.url(),
            "ANTHROPIC_AUTH_TOKEN": "global-token-from-settings",
            "ANTHROPIC_MODEL": "global-model",
        },
        "statusLine": {"type": "command", "command": "echo keep-me"}
    });
    sb.write(&sb.path("home/.claude/settings.json"), &serde_json::to_string_pretty(&settings).unwrap());
}

#[test]
fn a_global_settings_file_beats_the_hook_and_the_hook_says_so_once() {
    if !have("claude") || !have("script") {
        return;
    }
    let sb = Sandbox::new();
    let (right, wrong) = (Server::start(), Server::start());
    let dir = loop_project(&sb, &right);
    global_settings(&sb, &wrong);
    let mut sh = Shell::start(&sb, "bash", &shell_env());
    sh.timeout = Duration::from_secs(120);
    sh.run(&format!("cd '{}'", dir.display()));
    sh.run("cd sub 2>/dev/null; cd ..; cd app");
    let notices: Vec<String> = sh
        .ccenv_messages()
        .into_iter()
        .filter(|m| m.contains("settings.json sets ANTHROPIC_AUTH_TOKEN"))
        .collect();
    assert_eq!(notices.len(), 1, "{:?}", sh.ccenv_messages());
    assert!(notices[0].contains("ANTHROPIC_BASE_URL") && notices[0].contains("ccenv doctor"), "{notices:?}");
    sh.run("claude -p 'reply with pong' > /dev/null 2>&1");
    assert!(right.messages().is_empty(), "the hook alone cannot beat settings.json");
    assert!(!wrong.messages().is_empty());
    sh.exit();
}

#[test]
fn exec_beats_a_conflicting_global_settings_file() {
    if !have("claude") {
        return;
    }
    let sb = Sandbox::new();
    let (right, wrong) = (Server::start(), Server::start());
    let dir = loop_project(&sb, &right);
    global_settings(&sb, &wrong);
    let out = sb.ccenv_with(&dir, &["exec", "--", "claude", "-p", "reply with pong"], &shell_env(), None);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.contains("pong-from-loopback"), "{stdout}\n{stderr}");
    assert!(stderr.contains("--settings"), "{stderr}");
    assert!(wrong.all().is_empty(), "the global settings file won: {:?}", wrong.all());
    assert_project_credentials_only(&right, "claude via exec --settings");
    for r in right.messages() {
        let model = r.model().unwrap();
        assert!(model.starts_with("loop-model-"), "{model}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(sb.path("data/tmp")).unwrap().flatten().collect();
    assert!(leftovers.is_empty(), "temporary settings file left behind: {leftovers:?}");
    let global = std::fs::read_to_string(sb.path("home/.claude/settings.json")).unwrap();
    assert!(global.contains("global-token-from-settings"), "the global file is untouched");
}

#[test]
fn exec_passes_exit_codes_and_signals_through_when_it_waits() {
    // A stand-in named `claude` on PATH, so exec takes the --settings path and waits.
    let sb = Sandbox::new();
    let (right, wrong) = (Server::start(), Server::start());
    let dir = loop_project(&sb, &right);
    global_settings(&sb, &wrong);
    let bin = sb.path("out/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("claude");
    std::fs::write(&fake, "#!/bin/sh\n[ \"$1\" = --settings ] && [ -f \"$2\" ] || exit 99\ncase \"$3\" in\n  exit) exit \"$4\" ;;\n  sleep) exec sleep 30 ;;\nesac\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), sb.base_env().iter().find(|(k, _)| k == "PATH").unwrap().1);
    let out = sb.ccenv_with(&dir, &["exec", "--", "claude", "exit", "42"], &[("PATH", &path)], None);
    assert_eq!(out.status.code(), Some(42), "{}", String::from_utf8_lossy(&out.stderr));

    let mut child = std::process::Command::new(common::CCENV)
        .args(["exec", "--", "claude", "sleep"])
        .current_dir(&dir)
        .env_clear()
        .envs(sb.base_env())
        .env("PATH", &path)
        .env("PWD", &dir)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    send_signal(child.id(), 15);
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15), "ccenv ends the way its child ended: {status:?}");
    let leftovers: Vec<_> = std::fs::read_dir(sb.path("data/tmp")).unwrap().flatten().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn send_signal(pid: u32, sig: i32) {
    std::process::Command::new("kill").args([format!("-{sig}"), pid.to_string()]).status().unwrap();
}
