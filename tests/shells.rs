//! Real interactive bash, zsh and fish on a pty, with the hook installed: walk through
//! projects and check the environment a child process sees at every step.

mod common;

use std::collections::BTreeMap;

use common::{Sandbox, Shell, comparable, have, managed_view};

const REAL_KEY: &str = "sk-ant-REAL-user-key-must-not-leak";
const GLM_KEY: &str = "sk-glm-secret-0123456789";
const KIMI_KEY: &str = "sk-kimi-secret-0123456789";
const PREEXISTING: &str = "pre-existing 'value' \\ with $(quotes)";

struct Fixture {
    sb: Sandbox,
}

fn fixture() -> Fixture {
    let sb = Sandbox::new();
    sb.set_key("glm", GLM_KEY);
    sb.set_key("kimi", KIMI_KEY);
    sb.project("a", "glm", "model = \"glm-4.7\"\n[env]\nT_A = \"a\"\n");
    sb.work("a/sub/deeper");
    sb.project("a/inner", "kimi-coding", "credential = \"kimi\"\n");
    sb.project("b", "kimi", "[env]\nT_B = \"b\"\n");
    sb.work("plain");
    Fixture { sb }
}

fn start(f: &Fixture, kind: &'static str) -> Shell {
    let env =
        [("ANTHROPIC_API_KEY", REAL_KEY), ("ANTHROPIC_MODEL", "claude-user-default"), ("T_A", PREEXISTING)];
    Shell::start(&f.sb, kind, &env)
}

fn cd(sh: &mut Shell, f: &Fixture, rel: &str) {
    sh.run(&format!("cd '{}'", f.sb.path("work").join(rel).display()));
}

fn assert_glm(env: &BTreeMap<String, String>) {
    assert_eq!(env.get("ANTHROPIC_AUTH_TOKEN").map(String::as_str), Some(GLM_KEY));
    assert_eq!(env.get("ANTHROPIC_API_KEY"), None, "the user's own key must be removed inside");
    assert_eq!(env["ANTHROPIC_BASE_URL"], "https://open.bigmodel.cn/api/anthropic");
    assert_eq!(env["ANTHROPIC_MODEL"], "glm-4.7");
    assert_eq!(env["ANTHROPIC_DEFAULT_HAIKU_MODEL"], "glm-4.7");
    assert_eq!(env["API_TIMEOUT_MS"], "3000000");
    assert_eq!(env["T_A"], "a");
    assert_eq!(env["CCENV_PROVIDER"], "glm");
    assert_no_leak(env);
}

/// The user's own key is never in any variable a child inherits (direnv and mise
/// export theirs inside their diff variables).
fn assert_no_leak(env: &BTreeMap<String, String>) {
    for (k, v) in env {
        assert!(!v.contains(REAL_KEY) || k == "ANTHROPIC_API_KEY", "{k} carries the user's key");
        if k != "ANTHROPIC_AUTH_TOKEN" && k != "ANTHROPIC_API_KEY" {
            assert!(!v.contains(GLM_KEY) && !v.contains(KIMI_KEY), "{k} carries a provider key");
        }
    }
}

fn walk(kind: &'static str) {
    if !have(kind) || !have("script") {
        return;
    }
    let f = fixture();
    let mut sh = start(&f, kind);
    // Users' strict settings must not break the hook.
    match kind {
        "bash" => sh.run("set -u"),
        "zsh" => sh.run("setopt nounset warn_create_global"),
        _ => {}
    }
    cd(&mut sh, &f, "plain");
    let before = sh.child_env();
    assert_eq!(before["ANTHROPIC_API_KEY"], REAL_KEY);
    assert_eq!(before["T_A"], PREEXISTING);
    assert!(!before.contains_key("CCENV_STATE"));

    // Enter, and a subdirectory is inside.
    cd(&mut sh, &f, "a");
    let in_a = sh.child_env();
    assert_glm(&in_a);
    cd(&mut sh, &f, "a/sub/deeper");
    assert_eq!(managed_view(&sh.child_env()), managed_view(&in_a));

    // A nested project wins; what only A set goes back to its value from before.
    cd(&mut sh, &f, "a/inner");
    let inner = sh.child_env();
    assert_eq!(inner["CCENV_PROVIDER"], "kimi-coding");
    assert_eq!(inner["ANTHROPIC_AUTH_TOKEN"], KIMI_KEY);
    assert_eq!(inner["ANTHROPIC_BASE_URL"], "https://api.kimi.com/coding/");
    assert_eq!(inner["T_A"], PREEXISTING);
    assert_eq!(inner.get("API_TIMEOUT_MS"), None);
    assert_eq!(inner["CLAUDE_CODE_MAX_CONTEXT_TOKENS"], "262144");

    // Straight from one project into another: nothing of the first stays.
    cd(&mut sh, &f, "b");
    let in_b = sh.child_env();
    assert_eq!(in_b["CCENV_PROVIDER"], "kimi");
    assert_eq!(in_b["T_B"], "b");
    assert_eq!(in_b["T_A"], PREEXISTING);
    assert_eq!(in_b.get("CLAUDE_CODE_MAX_CONTEXT_TOKENS"), None);
    assert_no_leak(&in_b);

    // Leaving restores exactly, including values that were set before entering.
    cd(&mut sh, &f, "plain");
    assert_eq!(comparable(&sh.child_env()), comparable(&before));

    // Blocked: a project never allowed unloads the previous one and says so once.
    cd(&mut sh, &f, "a");
    f.sb.write(&f.sb.work("c").join(".claude-provider.toml"), "provider = \"deepseek\"\n");
    cd(&mut sh, &f, "c");
    assert_eq!(comparable(&sh.child_env()), comparable(&before));
    cd(&mut sh, &f, "c");
    sh.enter();
    sh.sync();
    let notices: Vec<_> =
        sh.ccenv_messages().into_iter().filter(|m| m.contains("is not allowed yet")).collect();
    assert_eq!(notices.len(), 1, "said once: {notices:?}");
    assert!(notices[0].contains("run `ccenv allow`"), "{notices:?}");

    // No key stored: both auth variables removed, one line on how to add one.
    f.sb.project("nokey", "deepseek", "");
    cd(&mut sh, &f, "nokey");
    let env = sh.child_env();
    assert_eq!(env["CCENV_PROVIDER"], "deepseek");
    assert_eq!((env.get("ANTHROPIC_AUTH_TOKEN"), env.get("ANTHROPIC_API_KEY")), (None, None));
    cd(&mut sh, &f, "nokey");
    let hints: Vec<_> =
        sh.ccenv_messages().into_iter().filter(|m| m.contains("ccenv key set deepseek")).collect();
    assert_eq!(hints.len(), 1, "{hints:?}");

    // Denied: unloads quietly.
    sh.run("ccenv deny");
    let quiet_before = sh.ccenv_messages().len();
    assert_eq!(comparable(&sh.child_env()), comparable(&before));
    let said: Vec<_> = sh.ccenv_messages().into_iter().skip(quiet_before).collect();
    assert!(said.iter().all(|m| m.starts_with("ccenv: unloaded")), "deny is quiet: {said:?}");

    // Edited after allowing: blocked again at the next prompt, until re-allowed.
    cd(&mut sh, &f, "a");
    assert_glm(&sh.child_env());
    let a_file = f.sb.path("work/a/.claude-provider.toml");
    let good = std::fs::read_to_string(&a_file).unwrap();
    std::fs::write(&a_file, format!("{good}# edited\n")).unwrap();
    sh.enter();
    assert_eq!(comparable(&sh.child_env()), comparable(&before));
    assert!(sh.ccenv_messages().iter().any(|m| m.contains("changed since it was allowed")));
    sh.run("ccenv allow");
    assert_glm(&sh.child_env());

    // Deleted: everything returns.
    std::fs::remove_file(&a_file).unwrap();
    sh.enter();
    assert_eq!(comparable(&sh.child_env()), comparable(&before));

    // Malformed: a located error, the prompt keeps working, nothing half-applied.
    std::fs::write(&a_file, &good).unwrap();
    sh.run("ccenv allow");
    assert_glm(&sh.child_env());
    std::fs::write(&a_file, "provider = \"kimi-code\"\nmodel = \"x\"\n").unwrap();
    sh.enter();
    assert_eq!(comparable(&sh.child_env()), comparable(&before));
    let expected =
        format!("{}:1:12: unknown provider `kimi-code`; did you mean `kimi-coding`?", a_file.display());
    assert!(sh.ccenv_messages().iter().any(|m| m.contains(&expected)), "{:?}", sh.ccenv_messages());
    std::fs::write(&a_file, "provider = \"glm\"\n[models\n").unwrap();
    sh.enter();
    assert_eq!(comparable(&sh.child_env()), comparable(&before));
    assert!(sh.ccenv_messages().iter().any(|m| m.contains(&format!("{}:2:", a_file.display()))));

    // Nested shell: started inside a project, it still restores correctly on leaving.
    std::fs::write(&a_file, &good).unwrap();
    sh.run("ccenv allow");
    assert_glm(&sh.child_env());
    sh.nest();
    assert_glm(&sh.child_env());
    cd(&mut sh, &f, "plain");
    assert_eq!(comparable(&sh.child_env()), comparable(&before), "nested shell restores");
    cd(&mut sh, &f, "b");
    assert_eq!(sh.child_env()["CCENV_PROVIDER"], "kimi");
    sh.send("exit");
    sh.sync();
    assert_glm(&sh.child_env());
    cd(&mut sh, &f, "plain");
    assert_eq!(comparable(&sh.child_env()), comparable(&before));
    sh.exit();
}

#[test]
fn bash_walk() {
    walk("bash");
}

#[test]
fn zsh_walk() {
    walk("zsh");
}

#[test]
fn fish_walk() {
    walk("fish");
}
