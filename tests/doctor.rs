//! `ccenv doctor`: offline checks, `--fix-onboarding`, the hook check from a real
//! shell, and `--online` against loopback servers that play an Anthropic endpoint, an
//! OpenAI-only endpoint, a 401, a wrong model and a server that never answers.

mod common;

use std::time::{Duration, Instant};

use common::server::{Reply, Server};
use common::{Sandbox, Shell, have};
use serde_json::Value;

const KEY: &str = "sk-doctor-secret-0123456789";

fn doctor_json(sb: &Sandbox, dir: &std::path::Path, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["doctor", "--json"];
    all.extend_from_slice(args);
    let out = sb.ccenv(dir, &all);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(KEY), "doctor printed the key: {text}");
    (v, out.status.code().unwrap())
}

fn find<'a>(v: &'a Value, check: &str) -> Vec<&'a Value> {
    v["checks"].as_array().unwrap().iter().filter(|c| c["check"] == check).collect()
}

fn project_on(sb: &Sandbox, url: &str) -> std::path::PathBuf {
    sb.user_provider("loop", url, "model = \"loop-model\"\n");
    sb.set_key("loop", KEY);
    sb.project("app", "loop", "")
}

#[test]
fn online_reports_a_working_anthropic_endpoint_with_latency() {
    let server = Server::answering(|_| {
        Some((200, "application/json", r#"{"id":"m","type":"message","role":"assistant","model":"loop-model","content":[{"type":"text","text":"p"}],"stop_reason":"max_tokens","usage":{"input_tokens":1,"output_tokens":1}}"#.into()))
    });
    let sb = Sandbox::new();
    let dir = project_on(&sb, &server.url());
    let (v, _) = doctor_json(&sb, &dir, &["--online"]);
    let online = find(&v, "online")[0];
    assert_eq!(online["status"], "ok", "{online}");
    let summary = online["summary"].as_str().unwrap();
    assert!(summary.contains("speaks the Anthropic Messages API") && summary.contains(" ms"), "{summary}");
    let request = server.all()[0].clone();
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/v1/messages"), "{request:?}");
    assert_eq!(request.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert!(request.body.contains("\"max_tokens\":1"), "{request:?}");
}

#[test]
fn online_tells_the_failures_apart() {
    let cases: [(Reply, &str); 4] = [
        (
            |_| {
                Some((404, "application/json", r#"{"error":{"message":"Invalid URL (POST /v1/messages)","type":"invalid_request_error","param":null,"code":null}}"#.into()))
            },
            "no Anthropic Messages endpoint",
        ),
        (
            |_| {
                Some((
                    401,
                    "application/json",
                    format!(
                        r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid key {KEY}"}}}}"#
                    ),
                ))
            },
            "key rejected",
        ),
        (
            |_| {
                Some((
                    404,
                    "application/json",
                    r#"{"type":"error","error":{"type":"not_found_error","message":"model: loop-model"}}"#
                        .into(),
                ))
            },
            "model `loop-model` rejected",
        ),
        (|_| None, "no answer within 1s"),
    ];
    for (reply, expected) in cases {
        let server = Server::answering(reply);
        let sb = Sandbox::new();
        let dir = project_on(&sb, &server.url());
        let started = Instant::now();
        let (v, code) = doctor_json(&sb, &dir, &["--online", "--timeout", "1"]);
        assert!(started.elapsed() < Duration::from_secs(8), "bounded in time");
        let online = find(&v, "online")[0];
        assert_eq!(online["status"], "problem", "{online}");
        assert!(online["summary"].as_str().unwrap().contains(expected), "{expected}: {online}");
        assert!(online.get("fix").is_some(), "{online}");
        assert_eq!(code, 1);
        if expected == "no Anthropic Messages endpoint" {
            assert!(online["why"].as_str().unwrap().contains("OpenAI-compatible"), "{online}");
        }
    }
}

#[test]
fn conflicting_settings_files_are_problems_with_fixes() {
    let sb = Sandbox::new();
    sb.set_key("glm", KEY);
    let dir = sb.project("app", "glm", "");
    let (v, code) = doctor_json(&sb, &dir, &[]);
    assert!(find(&v, "settings").is_empty());
    assert_eq!(find(&v, "provider")[0]["status"], "ok");
    assert_eq!(code, 0, "{v}");

    sb.write(&sb.path("home/.claude/settings.json"), r#"{"env": {"ANTHROPIC_BASE_URL": "https://x.example/anthropic", "ANTHROPIC_API_KEY": "sk-other"}, "apiKeyHelper": "echo k"}"#);
    sb.write(&dir.join(".claude/settings.local.json"), r#"{"env": {"ANTHROPIC_MODEL": "m"}}"#);
    let (v, code) = doctor_json(&sb, &dir, &[]);
    let settings = find(&v, "settings");
    assert_eq!(settings.len(), 2, "{v}");
    let user =
        settings.iter().find(|c| c["summary"].as_str().unwrap().contains("~/.claude/settings.json")).unwrap();
    assert!(user["summary"].as_str().unwrap().contains("ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL"), "{user}");
    assert!(user["fix"].as_str().unwrap().contains("ccenv import --remove-from-claude-settings"));
    assert_eq!(find(&v, "apiKeyHelper")[0]["status"], "ok", "ccenv's key outranks the helper");
    assert_eq!(code, 1);
    assert_eq!(v["status"], "problem");
}

#[test]
fn onboarding_is_offered_and_fixed_only_on_request() {
    let sb = Sandbox::new();
    sb.set_key("glm", KEY);
    let dir = sb.project("app", "glm", "");
    let state = sb.path("home/.claude.json");
    sb.write(&state, "{\"theme\": \"dark\", \"projects\": {\"/x\": {\"allowedTools\": []}}}");
    let (v, _) = doctor_json(&sb, &dir, &[]);
    let onboarding = find(&v, "onboarding")[0];
    assert_eq!(onboarding["status"], "warning");
    assert!(onboarding["fix"].as_str().unwrap().contains("--fix-onboarding"));
    let untouched: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(untouched.get("hasCompletedOnboarding"), None, "never applied silently");

    sb.ok(&dir, &["doctor", "--fix-onboarding"]);
    let fixed: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(fixed["hasCompletedOnboarding"], true);
    assert_eq!(fixed["theme"], "dark");
    assert!(fixed["projects"]["/x"]["allowedTools"].is_array());
    assert_eq!(find(&doctor_json(&sb, &dir, &[]).0, "onboarding")[0]["status"], "ok");
}

#[test]
fn missing_key_open_key_store_and_plain_http_are_reported() {
    let sb = Sandbox::new();
    sb.user_provider("remote", "http://llm.example.net/anthropic", "");
    let dir = sb.project("app", "remote", "");
    let (v, _) = doctor_json(&sb, &dir, &[]);
    let provider = find(&v, "provider")[0];
    assert_eq!(provider["status"], "problem");
    assert_eq!(provider["fix"], "ccenv key set remote");
    assert_eq!(find(&v, "base_url")[0]["status"], "warning");

    sb.set_key("remote", KEY);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sb.path("cfg/keys.toml"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let (v, _) = doctor_json(&sb, &dir, &[]);
    let keys = find(&v, "keys")[0];
    assert_eq!(keys["status"], "problem");
    assert!(keys["fix"].as_str().unwrap().starts_with("chmod 600"));
}

#[test]
fn the_hook_check_knows_this_shell_from_a_parent() {
    if !have("script") {
        return;
    }
    let sb = Sandbox::new();
    let out = sb.path("out/doctor.json");
    let mut sh = Shell::start(&sb, "bash", &[]);
    sh.run(&format!("ccenv doctor --json > '{}'", out.display()));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(find(&v, "hook")[0]["status"], "ok", "{v}");
    assert!(find(&v, "hook")[0]["summary"].as_str().unwrap().contains("bash"));
    // A child shell without its startup file inherits the marker but has no hook.
    sh.run(&format!("bash --norc --noprofile -c 'ccenv doctor --json > {}'", out.display()));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(find(&v, "hook")[0]["status"], "warning", "{v}");
    sh.exit();
    let (v, _) = doctor_json(&sb, sb.dir.path(), &[]);
    assert_eq!(find(&v, "hook")[0]["status"], "warning");
}

/// The provider check names every model role the project sends, as `status` does.
#[test]
fn the_provider_check_names_every_model_role() {
    let sb = Sandbox::new();
    sb.set_key("glm", KEY);
    let dir =
        sb.project("roles", "glm", "model = \"m\"\n[models]\nfable = \"f-model\"\nsubagent = \"s-model\"\n");
    let (v, _) = doctor_json(&sb, &dir, &[]);
    let summary = find(&v, "provider")[0]["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("fable f-model") && summary.contains("subagent s-model"), "{summary}");
}
