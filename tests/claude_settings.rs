//! `ccenv claude-settings write|remove`: for Claude Code started without the shell's
//! variables (IDE extensions, background agents).

mod common;

use std::process::Command;

use common::server::Server;
use common::{Sandbox, have};

const KEY: &str = "sk-ide-project-secret-42";

fn git(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new("git").arg("-C").arg(dir).args(args).output().unwrap()
}

#[test]
fn write_merges_without_secrets_ignores_the_file_and_remove_restores_it() {
    if !have("git") {
        return;
    }
    let sb = Sandbox::new();
    sb.user_provider("loop", "http://127.0.0.1:9", "model = \"loop-model\"\n");
    sb.set_key("loop", KEY);
    let dir = sb.project("repo", "loop", "[env]\nAPI_TIMEOUT_MS = \"600000\"\n");
    assert!(git(&dir, &["init", "-q"]).status.success());
    let local = dir.join(".claude/settings.local.json");
    let before = "{\n  \"permissions\": {\"allow\": [\"Bash(ls)\"]},\n  \"env\": {\"API_TIMEOUT_MS\": \"1\", \"MINE\": \"x\"}\n}\n";
    sb.write(&local, before);

    let out = sb.ccenv(&dir, &["claude-settings", "write"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&local).unwrap();
    assert!(!text.contains(KEY), "a key landed in the file:\n{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["env"]["ANTHROPIC_BASE_URL"], "http://127.0.0.1:9");
    assert_eq!(v["env"]["ANTHROPIC_MODEL"], "loop-model");
    assert_eq!(v["env"]["ANTHROPIC_AUTH_TOKEN"], "");
    assert_eq!(v["env"]["ANTHROPIC_API_KEY"], "");
    assert_eq!(v["env"]["API_TIMEOUT_MS"], "600000");
    assert_eq!(v["env"]["MINE"], "x", "merged, not clobbered");
    assert_eq!(v["permissions"]["allow"][0], "Bash(ls)");
    assert!(v["apiKeyHelper"].as_str().unwrap().contains("key helper"));
    assert!(
        git(&dir, &["check-ignore", "-q", ".claude/settings.local.json"]).status.success(),
        "ignored by git"
    );
    let status =
        String::from_utf8(git(&dir, &["status", "--porcelain", "--untracked-files=all"]).stdout).unwrap();
    assert!(!status.contains("settings.local.json") && !status.contains(".gitignore"), "{status}");

    // The helper prints the key only through a pipe, and only for an allowed project.
    let run_helper = || {
        Command::new("sh")
            .arg("-c")
            .arg(v["apiKeyHelper"].as_str().unwrap())
            .env_clear()
            .envs(sb.base_env())
            .output()
            .unwrap()
    };
    let helper = run_helper();
    assert_eq!(String::from_utf8_lossy(&helper.stdout), format!("{KEY}\n"));
    std::fs::write(dir.join(".claude-provider.toml"), "provider = \"loop\"\n# edited\n").unwrap();
    let helper = run_helper();
    assert!(!helper.status.success() && helper.stdout.is_empty(), "a changed, unallowed file gets no key");
    std::fs::write(
        dir.join(".claude-provider.toml"),
        "provider = \"loop\"\n[env]\nAPI_TIMEOUT_MS = \"600000\"\n",
    )
    .unwrap();
    sb.ok(&dir, &["allow"]);

    let out = sb.ccenv(&dir, &["claude-settings", "remove"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&local).unwrap()).unwrap();
    assert_eq!(
        after,
        serde_json::from_str::<serde_json::Value>(before).unwrap(),
        "exactly what was there before"
    );

    std::fs::remove_file(&local).unwrap();
    sb.ok(&dir, &["claude-settings", "write"]);
    sb.ok(&dir, &["claude-settings", "remove"]);
    assert!(!local.exists(), "a file ccenv created goes again");
}

#[test]
fn claude_code_without_the_shell_uses_the_written_settings() {
    if !have("claude") || !have("git") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::start();
    sb.user_provider("loop", &server.url(), "model = \"ide-model\"\n");
    sb.set_key("loop", KEY);
    let dir = sb.project("repo", "loop", "");
    git(&dir, &["init", "-q"]);
    sb.ok(&dir, &["claude-settings", "write"]);
    // As an editor would start it: no ANTHROPIC_* variables, no CCENV_* state.
    let out = Command::new("claude")
        .args(["-p", "reply with pong"])
        .current_dir(&dir)
        .env_clear()
        .envs(sb.base_env())
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("pong-from-loopback"), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let msgs = server.messages();
    assert!(!msgs.is_empty());
    for r in &msgs {
        let auth = r.header("authorization").or(r.header("x-api-key")).unwrap_or("");
        assert!(auth.ends_with(KEY), "the helper's key was not used: {:?}", r.headers);
    }
    assert_eq!(msgs[0].model().as_deref(), Some("ide-model"));
}
