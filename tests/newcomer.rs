//! What a newcomer hits (issue 10): import that moves a provider without changing it,
//! pasted keys, `/v1/messages` endpoints, models left to the server, the official
//! provider with the user's own key, ccenv's state in cmd, and the smaller surprises.

mod common;

use std::time::Duration;

use common::server::Server;
use common::{Sandbox, Shell, have};

const REAL_KEY: &str = "sk-ant-REAL-user-key-must-not-leak";
const PROJECT_KEY: &str = "sk-loop-project-secret-123";

fn text(out: &std::process::Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn import(sb: &Sandbox, args: &[&str]) -> (String, String, bool) {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    let out = sb.ccenv(&sb.work("x"), &all);
    let (o, e) = text(&out);
    (o, e, out.status.success())
}

fn settings_with(sb: &Sandbox, env: serde_json::Value) -> std::path::PathBuf {
    let path = sb.path("home/.claude/settings.json");
    let doc = serde_json::json!({ "env": env, "statusLine": {"type": "command", "command": "keep"} });
    sb.write(&path, &serde_json::to_string_pretty(&doc).unwrap());
    path
}

/// The global file holds the provider's token AND the user's own Anthropic key: after
/// `import --remove-from-claude-settings`, real Claude Code in a hooked shell sends the
/// project's token and nothing of the user's key.
#[test]
fn import_moves_every_auth_variable_and_claude_code_sends_only_the_project_key() {
    let sb = Sandbox::new();
    let server = Server::start();
    let settings = settings_with(
        &sb,
        serde_json::json!({
            "ANTHROPIC_BASE_URL": server.url(),
            "ANTHROPIC_AUTH_TOKEN": PROJECT_KEY,
            "ANTHROPIC_API_KEY": REAL_KEY,
            "DISABLE_TELEMETRY": "1",
        }),
    );
    // Without the flag, every auth variable that stays is named.
    let (_, err, ok) = import(&sb, &["--dry-run"]);
    assert!(ok, "{err}");
    assert!(err.contains("left ANTHROPIC_API_KEY"), "{err}");
    assert!(!err.contains(REAL_KEY) && !err.contains(PROJECT_KEY), "{err}");

    let (project, err, ok) = import(&sb, &["--remove-from-claude-settings"]);
    assert!(ok, "{err}");
    let global = std::fs::read_to_string(&settings).unwrap();
    for gone in ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"] {
        assert!(!global.contains(gone), "{gone} stayed:\n{global}\n{err}");
    }
    assert!(global.contains("DISABLE_TELEMETRY"), "a global preference moved:\n{global}");
    assert!(!project.contains("DISABLE_TELEMETRY"), "{project}");
    assert!(err.contains("ANTHROPIC_API_KEY"), "the removal is named: {err}");

    if !have("claude") || !have("script") {
        return;
    }
    let dir = sb.work("app");
    sb.write(&dir.join(".claude-provider.toml"), &project);
    sb.ok(&dir, &["allow"]);
    let mut sh = Shell::start(&sb, "bash", &[("DISABLE_AUTOUPDATER", "1")]);
    sh.timeout = Duration::from_secs(120);
    sh.run(&format!("cd '{}'", dir.display()));
    sh.run("claude -p 'reply with pong' > /dev/null 2>&1");
    let msgs = server.messages();
    assert!(!msgs.is_empty(), "no request arrived: {:?}", sh.output());
    for r in &msgs {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {PROJECT_KEY}").as_str()), "{r:?}");
        assert_eq!(r.header("x-api-key"), None, "{r:?}");
    }
    assert!(!format!("{:?}", server.all()).contains(REAL_KEY), "the user's key reached the provider");
    sh.exit();
}

/// x-api-key stays x-api-key, no model appears that the global file did not send, global
/// preferences stay global, and --dry-run writes nothing.
#[test]
fn import_keeps_auth_style_models_and_preferences() {
    let sb = Sandbox::new();
    let server = Server::start();
    let settings = settings_with(
        &sb,
        serde_json::json!({
            "ANTHROPIC_BASE_URL": "https://open.bigmodel.cn/api/anthropic",
            "ANTHROPIC_API_KEY": "zhipu-key-0123456789abcdef",
            "ANTHROPIC_DEFAULT_SONNET_MODEL": "glm-4.7",
            "API_TIMEOUT_MS": "3000000",
            "DISABLE_TELEMETRY": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": 1,
            "HTTPS_PROXY": "http://proxy.example:3128",
        }),
    );
    let before = std::fs::read_to_string(&settings).unwrap();
    let config = std::fs::read_to_string(sb.path("cfg/config.toml")).unwrap_or_default();
    let (dry, err, ok) = import(&sb, &["--dry-run", "--remove-from-claude-settings"]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), before, "--dry-run changed the file");
    assert!(!sb.path("cfg/keys.toml").exists(), "{err}");
    assert_eq!(std::fs::read_to_string(sb.path("cfg/config.toml")).unwrap_or_default(), config, "{err}");

    let (project, err, ok) = import(&sb, &["--remove-from-claude-settings"]);
    assert!(ok, "{err}");
    assert_eq!(project, dry);
    for global in ["DISABLE_TELEMETRY", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "HTTPS_PROXY"] {
        assert!(!project.contains(global), "{global} moved into the project:\n{project}");
        assert!(
            std::fs::read_to_string(&settings).unwrap().contains(global),
            "{global} left the global file"
        );
    }
    assert!(project.contains("API_TIMEOUT_MS"), "{project}");

    // Applied: the key still travels as x-api-key, only the sonnet role is pinned.
    sb.user_provider("loopglm", &server.url(), "");
    let dir = sb.work("app");
    let pointed = project.replace("provider = \"glm\"", "provider = \"loopglm\"\ncredential = \"glm\"");
    sb.write(&dir.join(".claude-provider.toml"), &pointed);
    sb.ok(&dir, &["allow"]);
    let env: serde_json::Value = serde_json::from_str(&sb.ok(&dir, &["export", "--json"])).unwrap();
    let set = &env["set"];
    assert_eq!(set["ANTHROPIC_API_KEY"], "zhipu-key-0123456789abcdef", "{env}");
    assert_eq!(set["ANTHROPIC_DEFAULT_SONNET_MODEL"], "glm-4.7", "{env}");
    for unset in ["ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_OPUS_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL"] {
        assert!(set.get(unset).is_none(), "{unset} appeared: {env}\n{pointed}");
    }
    // The auth style is the imported one even on the glm preset (bearer by default).
    let glm = sb.work("glm");
    sb.write(&glm.join(".claude-provider.toml"), &project);
    sb.ok(&glm, &["allow"]);
    let env: serde_json::Value = serde_json::from_str(&sb.ok(&glm, &["export", "--json"])).unwrap();
    assert_eq!(env["set"]["ANTHROPIC_API_KEY"], "zhipu-key-0123456789abcdef", "{env}\n{project}");
}

#[test]
fn import_never_replaces_a_stored_key_silently_and_refuses_placeholders() {
    let sb = Sandbox::new();
    sb.set_key("glm", "sk-zhipu-original-0123456789");
    settings_with(
        &sb,
        serde_json::json!({
            "ANTHROPIC_BASE_URL": "https://open.bigmodel.cn/api/anthropic",
            "ANTHROPIC_AUTH_TOKEN": "sk-zhipu-other-9876543210",
        }),
    );
    let (_, err, ok) = import(&sb, &[]);
    assert!(!ok && err.contains("--replace-key"), "{err}");
    let stored = sb.ok(&sb.work("x"), &["key", "list"]);
    assert!(stored.contains("sk-z…89"), "{stored}");
    let (_, err, ok) = import(&sb, &["--replace-key"]);
    assert!(ok, "{err}");
    assert!(sb.ok(&sb.work("x"), &["key", "list"]).contains("sk-z…10"));

    for placeholder in [
        "your_zhipu_api_key",
        "sk-xxxxxx",
        "<your key>",
        "MINIMAX_API_KEY",
        "YOUR_API_KEY",
        "sk-kimi-xxxxxxxxxxxxxxxx",
    ] {
        let sb = Sandbox::new();
        settings_with(
            &sb,
            serde_json::json!({
                "ANTHROPIC_BASE_URL": "https://open.bigmodel.cn/api/anthropic",
                "ANTHROPIC_AUTH_TOKEN": placeholder,
            }),
        );
        let (_, err, ok) = import(&sb, &[]);
        assert!(!ok && err.contains("placeholder"), "{placeholder}: {err}");
        assert!(!sb.path("cfg/keys.toml").exists(), "{placeholder} was stored");
    }
}

/// Seed 000's GLM block has a missing comma after `"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": 1`.
const SEED_GLM: &str = r#"{
  "env": {
    "ANTHROPIC_AUTH_TOKEN": "your_zhipu_api_key",
    "ANTHROPIC_BASE_URL": "https://open.bigmodel.cn/api/anthropic",
    "API_TIMEOUT_MS": "3000000",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": 1
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-4.5-air",
    "ANTHROPIC_DEFAULT_SONNET_MODEL": "glm-4.7",
    "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.7"
  }
}
"#;

#[test]
fn a_json_syntax_error_is_located_with_the_fix_in_import_and_doctor() {
    let sb = Sandbox::new();
    sb.write(&sb.path("home/.claude/settings.json"), SEED_GLM);
    let (_, err, ok) = import(&sb, &[]);
    assert!(!ok, "{err}");
    assert!(err.contains("settings.json:7:5:") && err.contains("add `,` at the end of line 6"), "{err}");
    let dir = sb.project("p", "glm", "");
    let (out, _) = text(&sb.ccenv(&dir, &["doctor"]));
    assert!(out.contains("settings.json:7:5:") && out.contains("add `,` at the end of line 6"), "{out}");
    // With the comma added, the guide's placeholder key is pointed at where it stands.
    sb.write(&sb.path("home/.claude/settings.json"), &SEED_GLM.replace(": 1\n", ": 1,\n"));
    let (_, err, ok) = import(&sb, &[]);
    assert!(
        !ok && err.contains("settings.json:3:29: the key in ANTHROPIC_AUTH_TOKEN is a placeholder"),
        "{err}"
    );
}

fn stored(sb: &Sandbox, name: &str) -> String {
    let dir = sb.project(&format!("k-{name}"), "glm", &format!("credential = \"{name}\"\n"));
    let env: serde_json::Value = serde_json::from_str(&sb.ok(&dir, &["export", "--json"])).unwrap();
    env["set"]["ANTHROPIC_AUTH_TOKEN"].as_str().unwrap_or("<none>").to_string()
}

#[test]
fn key_set_strips_what_is_not_the_key_and_refuses_what_is_not_one() {
    let key = "sk-abcDEF0123456789xyz";
    let sb = Sandbox::new();
    let pasted = [
        format!("  {key}  \n"),
        format!("Bearer {key}"),
        format!("ANTHROPIC_AUTH_TOKEN={key}"),
        format!("export ANTHROPIC_AUTH_TOKEN=\"{key}\"\n"),
        format!("'{key}'"),
        format!("\"{key}\"\r\n"),
        // Copied from a Chinese page or typed with a Chinese input method: curly quotes.
        format!("“{key}”"),
    ];
    for (i, p) in pasted.iter().enumerate() {
        let name = format!("k{i}");
        let out = sb.ccenv_with(sb.dir.path(), &["key", "set", &name], &[], Some(p));
        let (o, e) = text(&out);
        assert!(out.status.success(), "{p:?}: {e}");
        assert!(!o.contains(key) && !e.contains(key), "the key was printed: {e}");
        assert!(e.contains("removed"), "what was stripped is said: {p:?}: {e}");
        assert_eq!(stored(&sb, &name), key, "{p:?}");
    }
    let bad = [
        "",
        "   ",
        "your_zhipu_api_key",
        "sk-xxxxxxxx",
        "<your key>",
        "sk-abc def0123456789",
        // Seed 002 (Kimi's guide) and other guides' vendor-prefixed stand-ins.
        "sk-kimi-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "$env:ANTHROPIC_API_KEY=\"sk-kimi-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
        "sk-kimi-...",
        "sk-ant-…",
        // Not ASCII: no key is, and these panicked while stripping `Bearer `.
        "你的密钥",
        "sk-你的key",
        "sk-abcdéf0123456789",
    ];
    for bad in bad {
        let out = sb.ccenv_with(sb.dir.path(), &["key", "set", "bad"], &[], Some(bad));
        let (_, e) = text(&out);
        assert!(!out.status.success(), "{bad:?} was stored");
        assert!(e.starts_with("ccenv: error: ") && !e.contains("panicked"), "{bad:?}: {e}");
        assert!(!e.contains("def0123456789") && !e.contains("f0123456789"), "{e}");
    }
    assert!(!sb.ok(sb.dir.path(), &["key", "list"]).contains("bad"));
}

#[test]
fn a_base_url_ending_in_v1_messages_is_refused_with_the_right_value() {
    let sb = Sandbox::new();
    for (url, right) in [
        ("https://open.bigmodel.cn/api/anthropic/v1/messages", "https://open.bigmodel.cn/api/anthropic"),
        (
            "https://api.lkeap.cloud.tencent.com/anthropic/v1/messages/",
            "https://api.lkeap.cloud.tencent.com/anthropic",
        ),
    ] {
        let dir = sb.work("u");
        sb.write(&dir.join(".claude-provider.toml"), &format!("provider = \"glm\"\nbase_url = \"{url}\"\n"));
        let (_, e) = text(&sb.ccenv(&dir, &["allow"]));
        assert!(e.contains(":2:12:") && e.contains(&format!("`{right}`")), "{e}");
    }
}

#[test]
fn doctor_online_says_what_to_change_on_404() {
    let sb = Sandbox::new();
    let server = Server::answering(|_| Some((404, "text/plain", "404 page not found".into())));
    let base = format!("{}/api", server.url());
    sb.user_provider("four", &base, "");
    sb.set_key("four", PROJECT_KEY);
    let dir = sb.project("q", "four", "");
    let (out, _) = text(&sb.ccenv(&dir, &["doctor", "--online"]));
    let fix = out.lines().skip_while(|l| !l.contains("online")).find(|l| l.contains("fix:")).unwrap_or("");
    assert!(fix.contains(&format!("`{base}`")) && fix.contains("before `/v1/messages`"), "{out}");
}

fn models(sb: &Sandbox, dir: &std::path::Path) -> serde_json::Value {
    let env: serde_json::Value = serde_json::from_str(&sb.ok(dir, &["export", "--json"])).unwrap();
    env["set"].clone()
}

#[test]
fn init_with_a_model_keeps_the_presets_other_roles() {
    let sb = Sandbox::new();
    let dir = sb.work("ds");
    let out = sb.ccenv(&dir, &["init", "deepseek", "--model", "deepseek-v9"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let set = models(&sb, &dir);
    assert_eq!(set["ANTHROPIC_MODEL"], "deepseek-v9");
    assert_eq!(set["ANTHROPIC_DEFAULT_HAIKU_MODEL"], "deepseek-v4-flash", "the preset's haiku was re-pinned");
}

#[test]
fn empty_model_sends_nothing_and_status_says_where_each_role_comes_from() {
    let sb = Sandbox::new();
    let dir = sb.project("d", "deepseek", "model = \"\"\n[models]\nopus = \"mine\"\n");
    let set = models(&sb, &dir);
    assert!(set.get("ANTHROPIC_MODEL").is_none(), "{set}");
    assert!(set.get("ANTHROPIC_DEFAULT_SONNET_MODEL").is_none(), "{set}");
    assert_eq!(set["ANTHROPIC_DEFAULT_OPUS_MODEL"], "mine");
    assert_eq!(set["ANTHROPIC_DEFAULT_HAIKU_MODEL"], "deepseek-v4-flash");
    let status = sb.ok(&dir, &["status"]);
    assert!(status.contains("opus mine (file)"), "{status}");
    assert!(status.contains("haiku deepseek-v4-flash (preset)"), "{status}");
    assert!(status.contains("sonnet - (server)"), "{status}");
    // Zhipu's coding plan advises leaving the mapping to the server (seed 001).
    let glm = sb.project("g", "glm", "");
    let set = models(&sb, &glm);
    for role in ["ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_OPUS_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL"] {
        assert!(set.get(role).is_none(), "glm pins {role}: {set}");
    }
}

/// `provider = "anthropic"` without a stored key: the user's own key (or login) is used,
/// not removed, and status says which.
#[test]
fn the_official_provider_uses_the_users_own_key_or_login() {
    let sb = Sandbox::new();
    let dir = sb.project("a", "anthropic", "");
    let out = sb.ccenv_with(&dir, &["export", "--json"], &[("ANTHROPIC_API_KEY", REAL_KEY)], None);
    let env: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !env["unset"].as_array().unwrap().iter().any(|n| n == "ANTHROPIC_API_KEY"),
        "the user's own key was removed: {env}"
    );
    let out = sb.ccenv_with(&dir, &["status"], &[("ANTHROPIC_API_KEY", REAL_KEY)], None);
    let (o, _) = text(&out);
    assert!(o.contains("your own ANTHROPIC_API_KEY") && !o.contains(REAL_KEY), "{o}");
    let (o, _) = text(&sb.ccenv(&dir, &["status"]));
    assert!(o.contains("your Claude login"), "{o}");
    // `allow` tells the same story and asks for no key the official API does not need.
    let (_, e) = text(&sb.ccenv_with(&dir, &["allow"], &[("ANTHROPIC_API_KEY", REAL_KEY)], None));
    assert!(
        e.contains("your own ANTHROPIC_API_KEY") && !e.contains("ccenv key set") && !e.contains(REAL_KEY),
        "{e}"
    );
    let (_, e) = text(&sb.ccenv(&dir, &["allow"]));
    assert!(e.contains("your Claude login") && !e.contains("ccenv key set"), "{e}");
}

/// cmd without Clink in a project under a non-ASCII profile folder (C:\Users\张三\…).
#[test]
fn cmd_export_carries_any_project_path() {
    let sb = Sandbox::new();
    let dir = sb.project("张三/app", "glm", "");
    sb.set_key("glm", "sk-zhipu-0123456789abcdef");
    let out = sb.ccenv(&dir, &["export", "--shell", "cmd"]);
    let (o, e) = text(&out);
    assert!(out.status.success(), "{e}");
    assert!(o.is_ascii() && o.contains("set \"CCENV_STATE="), "{o}");
    // And the state it carries restores: leaving applies the snapshot.
    let state = o.lines().find_map(|l| l.strip_prefix("set \"CCENV_STATE=")).unwrap().trim_end_matches('"');
    let out = sb.ccenv_with(&sb.work("elsewhere"), &["export", "--json"], &[("CCENV_STATE", state)], None);
    let env: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(env["unset"].as_array().unwrap().iter().any(|n| n == "CCENV_STATE"), "{env}");
}

#[test]
fn exec_exit_codes_follow_the_shell_convention() {
    let sb = Sandbox::new();
    let dir = sb.project("e", "glm", "");
    let out = sb.ccenv(&dir, &["exec", "--", "no-such-command-ccenv"]);
    assert_eq!(out.status.code(), Some(127), "{}", text(&out).1);
    let noexec = dir.join("script.txt");
    sb.write(&noexec, "echo hi\n");
    let out = sb.ccenv(&dir, &["exec", "--", noexec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126), "{}", text(&out).1);
}

#[test]
fn vendor_names_suggest_the_preset() {
    let sb = Sandbox::new();
    for (vendor, preset) in [
        ("zhipu", "glm"),
        ("qwen", "dashscope"),
        ("bailian", "dashscope"),
        ("moonshot", "kimi"),
        ("doubao", "volcengine"),
        ("tongyi", "dashscope"),
        ("claude", "anthropic"),
    ] {
        let out = sb.ccenv(&sb.work("v"), &["init", vendor]);
        let (_, e) = text(&out);
        assert!(!out.status.success() && e.contains(&format!("did you mean `{preset}`")), "{vendor}: {e}");
    }
}

#[test]
fn one_bad_user_provider_only_breaks_projects_that_use_it() {
    let sb = Sandbox::new();
    let dir = sb.project("ok", "glm", "");
    sb.write(&sb.path("cfg/config.toml"), "[providers.broken]\nbase_url = \"https://x.example/v1\"\n");
    let (o, e) = text(&sb.ccenv(&dir, &["status"]));
    assert!(o.contains("allowed") && !o.contains("invalid"), "{o}{e}");
    let bad = sb.work("bad");
    sb.write(&bad.join(".claude-provider.toml"), "provider = \"broken\"\n");
    let (o, e) = text(&sb.ccenv(&bad, &["status"]));
    assert!(o.contains("config.toml:2:12"), "{o}{e}");
}

#[test]
fn small_wording_fixes() {
    let sb = Sandbox::new();
    // Blocked is not "is the hook installed?".
    let dir = sb.work("blocked");
    sb.write(&dir.join(".claude-provider.toml"), "provider = \"glm\"\n");
    let (o, _) = text(&sb.ccenv(&dir, &["status"]));
    assert!(!o.contains("is the hook installed"), "{o}");
    // allow does not promise a key the store does not hold.
    let (_, e) = text(&sb.ccenv(&dir, &["allow"]));
    assert!(e.contains("no key stored") && e.contains("ccenv key set glm"), "{e}");
    // init in the home folder warns.
    let (_, e) = text(&sb.ccenv(&sb.path("home"), &["init", "glm"]));
    assert!(e.contains("warning") && e.contains("home"), "{e}");
    // One settings file overriding the project reads as a sentence.
    sb.write(
        &sb.path("home/.claude/settings.json"),
        r#"{"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}}"#,
    );
    sb.ok(&dir, &["allow"]);
    let (o, e) = text(&sb.ccenv(&dir, &["status"]));
    assert!(o.contains("~/.claude/settings.json overrides this project: plain `claude`"), "{o}");
    let (_, e2) = text(&sb.ccenv(&dir, &["export", "--shell", "bash"]));
    assert!(e2.contains("run `ccenv doctor`; plain `claude` here sends"), "{e}{e2}");
    // A user provider without a `name` shows its id, not "corp — -".
    sb.user_provider("corp", "https://llm.corp.example/anthropic", "");
    let corp = sb.project("corp", "corp", "");
    let (o, _) = text(&sb.ccenv(&corp, &["status"]));
    assert!(o.lines().any(|l| l.starts_with("provider") && l.ends_with(" corp [user]")), "{o}");
}

#[test]
fn every_option_has_help_and_the_readme_table_lists_every_command() {
    use clap::CommandFactory;
    let readme = include_str!("../README.md");
    let table: String = readme.lines().filter(|l| l.starts_with("| `ccenv ")).collect::<Vec<_>>().join("\n");
    let cli = ccenv::cli::Cli::command();
    let mut missing = Vec::new();
    let mut visit = vec![(String::from("ccenv"), cli)];
    while let Some((path, cmd)) = visit.pop() {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let id = arg.get_id().as_str();
            if !["help", "version"].contains(&id) && arg.get_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            if path == "ccenv" && !table.contains(&format!("`ccenv {}", sub.get_name())) {
                missing.push(format!("README command table lacks `ccenv {}`", sub.get_name()));
            }
            visit.push((format!("{path} {}", sub.get_name()), sub.clone()));
        }
    }
    // Each command's row in both READMEs' tables names every option it (or its subcommands) takes.
    for (file, text) in [("README.md", readme), ("README.zh-CN.md", include_str!("../README.zh-CN.md"))] {
        for sub in ccenv::cli::Cli::command().get_subcommands().filter(|s| !s.is_hide_set()) {
            let start = format!("| `ccenv {}", sub.get_name());
            let Some(row) = text.lines().find(|l| l.starts_with(&start)) else { continue };
            let nested = sub.get_subcommands().flat_map(|n| n.get_arguments());
            for long in sub.get_arguments().chain(nested).filter_map(|a| a.get_long()) {
                if long != "help" && !row.contains(&format!("--{long}")) {
                    missing.push(format!("{file}: the `ccenv {}` row lacks --{long}", sub.get_name()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

/// A test that cannot run must not say ok: the Windows test is ignored with its reason
/// (cargo prints "ignored, needs …"), and CI runs it or prints NOT RUN.
#[test]
fn the_windows_test_is_ignored_with_a_reason_and_ci_says_when_it_did_not_run() {
    let windows = include_str!("windows.rs");
    let ci = include_str!("../.ci/run");
    let at = windows.find("fn the_windows_build_works_under_wine").unwrap();
    assert!(windows[..at].trim_end().lines().last().unwrap().starts_with("#[ignore = \"needs the"));
    assert!(!windows.contains("SKIPPED"), "a missing target must not pass quietly");
    assert!(ci.contains("--test windows -- --ignored") && ci.contains("NOT RUN: tests/windows.rs"), "{ci}");
}

/// A global settings file that sets only ANTHROPIC_BASE_URL: plain `claude` under the
/// hook sends the project's key to the settings file's host. The notice, `status` and
/// `doctor` say exactly that, and the real Claude Code confirms it.
#[test]
fn settings_conflicts_say_which_host_receives_which_key() {
    let sb = Sandbox::new();
    let (right, wrong) = (Server::start(), Server::start());
    sb.user_provider("loop", &right.url(), "model = \"loop-model\"\n");
    sb.set_key("loop", PROJECT_KEY);
    let dir = sb.project("app", "loop", "");
    settings_with(&sb, serde_json::json!({ "ANTHROPIC_BASE_URL": wrong.url() }));
    let truth = format!("this project's key (key store `loop`) as Authorization: Bearer to {}", wrong.url());
    let (status, _) = text(&sb.ccenv(&dir, &["status"]));
    assert!(status.contains(&truth), "{status}");
    let (doctor, _) = text(&sb.ccenv(&dir, &["doctor"]));
    assert!(doctor.contains(&truth), "{doctor}");
    if !have("claude") || !have("script") {
        return;
    }
    let mut sh = Shell::start(&sb, "bash", &[("DISABLE_AUTOUPDATER", "1")]);
    sh.timeout = Duration::from_secs(120);
    sh.run(&format!("cd '{}'", dir.display()));
    assert!(sh.ccenv_messages().iter().any(|m| m.contains(&truth)), "{:?}", sh.ccenv_messages());
    sh.run("claude -p 'reply with pong' > /dev/null 2>&1");
    let got = wrong.messages();
    assert!(!got.is_empty() && right.messages().is_empty(), "the notice was not the truth");
    assert_eq!(got[0].header("authorization"), Some(format!("Bearer {PROJECT_KEY}").as_str()));
    sh.exit();
}

/// `claude-settings write` puts ccenv's own entries in .claude/settings.local.json;
/// doctor must not call them a problem.
#[test]
fn claude_settings_write_does_not_make_doctor_complain() {
    let sb = Sandbox::new();
    sb.set_key("glm", "sk-zhipu-0123456789abcdef");
    let dir = sb.project("ide", "glm", "");
    sb.ok(&dir, &["claude-settings", "write"]);
    let out = sb.ccenv(&dir, &["doctor", "--json"]);
    let doctor: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let settings: Vec<_> =
        doctor["checks"].as_array().unwrap().iter().filter(|c| c["check"] == "settings").collect();
    assert!(settings.iter().all(|c| c["status"] != "problem"), "{settings:#?}");
}

/// Whatever the global file holds, `ccenv exec -- claude` inside a project sends none of
/// its auth variables: here the user's own Anthropic key sits in settings.json.
#[test]
fn exec_sends_no_auth_variable_of_the_settings_file() {
    if !have("claude") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::start();
    sb.user_provider("loop", &server.url(), "model = \"loop-model\"\n");
    sb.set_key("loop", PROJECT_KEY);
    let dir = sb.project("app", "loop", "");
    settings_with(&sb, serde_json::json!({ "ANTHROPIC_API_KEY": REAL_KEY }));
    let out = sb.ccenv_with(
        &dir,
        &["exec", "--", "claude", "-p", "reply with pong"],
        &[("DISABLE_AUTOUPDATER", "1")],
        None,
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let msgs = server.messages();
    assert!(!msgs.is_empty());
    for r in &msgs {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {PROJECT_KEY}").as_str()), "{r:?}");
        assert_eq!(r.header("x-api-key"), None, "{r:?}");
    }
    assert!(!format!("{:?}", server.all()).contains(REAL_KEY));
}
