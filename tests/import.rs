//! `ccenv import`: from a global settings file as the guides write it, into ccenv.

mod common;

use common::Sandbox;

/// Zhipu's guide (seeds 001) plus what users keep in the same file.
const GLM_SETTINGS: &str = r#"{
  "env": {
    "ANTHROPIC_AUTH_TOKEN": "sk-zhipu-0123456789abcdef",
    "ANTHROPIC_BASE_URL": "https://open.bigmodel.cn/api/anthropic",
    "API_TIMEOUT_MS": "3000000",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": 1,
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-4.5-air",
    "ANTHROPIC_DEFAULT_SONNET_MODEL": "glm-4.7",
    "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.7",
    "PATH": "/opt/tools/bin:/usr/bin"
  },
  "statusLine": {
    "type": "command",
    "command": "~/.claude/statusline.sh"
  },
  "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit"}]}]},
  "enabledPlugins": {"formatter@market": true}
}
"#;

fn run(sb: &Sandbox, args: &[&str]) -> (String, String, bool) {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    let out = sb.ccenv(&sb.work("x"), &all);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

#[test]
fn a_guide_style_global_file_moves_into_ccenv_and_nothing_else_changes() {
    let sb = Sandbox::new();
    let settings = sb.path("home/.claude/settings.json");
    sb.write(&settings, GLM_SETTINGS);

    // Without the flag the global file is left alone.
    let (project, err, ok) = run(&sb, &[]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), GLM_SETTINGS);
    assert!(err.contains("stored key `glm`") && !err.contains("sk-zhipu-0123456789abcdef"), "{err}");
    assert_eq!(
        project,
        "provider = \"glm\"\n\n[models]\nopus = \"glm-4.7\"\nsonnet = \"glm-4.7\"\nhaiku = \"glm-4.5-air\"\n\n\
         [env]\nAPI_TIMEOUT_MS = \"3000000\"\n"
    );
    assert!(err.contains("left PATH"), "{err}");
    assert!(
        err.contains("left CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"),
        "a global preference stays: {err}"
    );

    let (_, err, ok) = run(&sb, &["--remove-from-claude-settings"]);
    assert!(ok, "{err}");
    let edited = std::fs::read_to_string(&settings).unwrap();
    assert_eq!(
        edited,
        GLM_SETTINGS
            .lines()
            .filter(|l| !l.contains("ANTHROPIC_") && !l.contains("API_TIMEOUT_MS"))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
        "only the imported variables go; everything else (the global preference too) is byte for byte the same"
    );
    let backups: Vec<_> = std::fs::read_dir(sb.path("home/.claude"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("settings.json.ccenv-backup-"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), GLM_SETTINGS);

    // The printed file works as a project file, and nothing conflicts any more.
    let dir = sb.work("repo");
    sb.write(&dir.join(".claude-provider.toml"), &project);
    sb.ok(&dir, &["allow"]);
    let status: serde_json::Value = serde_json::from_str(&sb.ok(&dir, &["status", "--json"])).unwrap();
    assert_eq!(status["provider"]["key_source"], "key store `glm`");
    let out = sb.ccenv(&dir, &["doctor", "--json"]);
    let doctor: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doctor["checks"].as_array().unwrap().iter().all(|c| c["check"] != "settings"), "{doctor}");
}

#[test]
fn an_unknown_endpoint_becomes_a_user_provider_once() {
    let sb = Sandbox::new();
    let settings = sb.path("home/.claude/settings.json");
    sb.write(&settings, r#"{"env": {"ANTHROPIC_BASE_URL": "https://llm.corp.example/anthropic", "ANTHROPIC_API_KEY": "corp-key-0123456789", "ANTHROPIC_MODEL": "corp-large"}}"#);
    let (project, err, ok) = run(&sb, &[]);
    assert!(ok, "{err}");
    assert_eq!(project, "provider = \"llm-corp-example\"\nmodel = \"corp-large\"\n");
    let config = std::fs::read_to_string(sb.path("cfg/config.toml")).unwrap();
    assert!(config.contains("[providers.llm-corp-example]\nbase_url = \"https://llm.corp.example/anthropic\"\nauth = \"x-api-key\"\n"), "{config}");
    let (_, err, ok) = run(&sb, &[]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read_to_string(sb.path("cfg/config.toml")).unwrap(), config, "no second block");
    let (project, err, ok) = run(&sb, &["--name", "work"]);
    assert!(ok && project.starts_with("provider = \"work\""), "{err}");
}

#[test]
fn broken_or_empty_global_files_are_explained() {
    let sb = Sandbox::new();
    let settings = sb.path("home/.claude/settings.json");
    sb.write(&settings, "{\"env\": {\"ANTHROPIC_BASE_URL\": \"https://dashscope.aliyuncs.com/compatible-mode/v1\", \"ANTHROPIC_API_KEY\": \"k\"}}");
    let (_, err, ok) = run(&sb, &[]);
    assert!(
        !ok && err.contains("settings.json:1:32: ")
            && err.contains("https://dashscope.aliyuncs.com/apps/anthropic"),
        "{err}"
    );
    sb.write(&settings, "{\"env\": {\"A\": \"1\",}}");
    let (_, err, ok) = run(&sb, &[]);
    assert!(!ok && err.contains("settings.json:1:"), "{err}");
    sb.write(&settings, "{\"env\": {\"API_TIMEOUT_MS\": \"1\"}}");
    let (_, err, ok) = run(&sb, &[]);
    assert!(!ok && err.contains("nothing to import"), "{err}");
    assert!(!sb.path("cfg/keys.toml").exists(), "nothing stored");
}

#[test]
fn every_model_role_is_imported_fable_included() {
    let sb = Sandbox::new();
    let settings = sb.path("home/.claude/settings.json");
    sb.write(
        &settings,
        r#"{"env": {"ANTHROPIC_AUTH_TOKEN": "sk-zhipu-0123456789abcdef",
  "ANTHROPIC_BASE_URL": "https://open.bigmodel.cn/api/anthropic",
  "ANTHROPIC_MODEL": "glm-5", "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-5",
  "ANTHROPIC_DEFAULT_SONNET_MODEL": "glm-4.7", "ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-4.5-air",
  "ANTHROPIC_DEFAULT_FABLE_MODEL": "glm-4.6", "CLAUDE_CODE_SUBAGENT_MODEL": "glm-4.7"}}"#,
    );
    let (project, err, ok) = run(&sb, &[]);
    assert!(ok, "{err}");
    assert_eq!(
        project,
        "provider = \"glm\"\nmodel = \"glm-5\"\n\n[models]\nopus = \"glm-5\"\nsonnet = \"glm-4.7\"\n\
         haiku = \"glm-4.5-air\"\nfable = \"glm-4.6\"\nsubagent = \"glm-4.7\"\n"
    );
    assert!(
        err.contains("left ANTHROPIC_DEFAULT_FABLE_MODEL in ~/.claude/settings.json: it beats the hook"),
        "moved like the other roles: {err}"
    );

    // Applied, the project sends the same fable model Claude Code sent before.
    let dir = sb.work("repo");
    sb.write(&dir.join(".claude-provider.toml"), &project);
    sb.ok(&dir, &["allow"]);
    let status: serde_json::Value = serde_json::from_str(&sb.ok(&dir, &["status", "--json"])).unwrap();
    assert_eq!(status["provider"]["models"]["fable"], "glm-4.6", "{status}");

    let (_, err, ok) = run(&sb, &["--remove-from-claude-settings"]);
    assert!(ok, "{err}");
    let edited = std::fs::read_to_string(&settings).unwrap();
    assert!(!edited.contains("FABLE"), "moved, so removed with the others: {edited}");
}

/// A global file with only a main model: Claude Code sent no fable model before, so the
/// project must not start sending one (roles otherwise follow `model`).
#[test]
fn a_fable_role_the_global_file_left_open_stays_open() {
    let sb = Sandbox::new();
    sb.write(
        &sb.path("home/.claude/settings.json"),
        r#"{"env": {"ANTHROPIC_AUTH_TOKEN": "sk-minimax-0123456789abcdef",
  "ANTHROPIC_BASE_URL": "https://api.minimaxi.com/anthropic", "ANTHROPIC_MODEL": "MiniMax-M2.1",
  "ANTHROPIC_DEFAULT_OPUS_MODEL": "MiniMax-M2.1"}}"#,
    );
    let (project, err, ok) = run(&sb, &[]);
    assert!(ok, "{err}");
    assert!(project.contains("fable = \"\"\n"), "{project}");
    let dir = sb.work("repo");
    sb.write(&dir.join(".claude-provider.toml"), &project);
    sb.ok(&dir, &["allow"]);
    let env: serde_json::Value = serde_json::from_str(&sb.ok(&dir, &["export", "--json"])).unwrap();
    assert_eq!(env["set"]["ANTHROPIC_MODEL"], "MiniMax-M2.1", "{env}");
    assert!(env["set"].get("ANTHROPIC_DEFAULT_FABLE_MODEL").is_none(), "{env}\n{project}");
}
