//! An unchanged prompt starts no ccenv process: counted with strace on real shells.

mod common;

use common::{CCENV, Sandbox, Shell, have};

/// A change in the same kernel clock tick (1-10 ms) as a ccenv run counts as newer than
/// it, so the next prompt checks once more (by design: never miss an edit). The exact
/// counts below need each change to be a tick older than the run that notices it.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(30));
}

fn ccenv_runs(log: &std::path::Path) -> usize {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let needle = format!("execve(\"{CCENV}\"");
    text.lines().filter(|l| l.contains(&needle) && l.contains("hook-env")).count()
}

fn unchanged_prompts_start_no_process(kind: &'static str) {
    if !have(kind) || !have("script") || !have("strace") {
        return;
    }
    let sb = Sandbox::new();
    sb.set_key("glm", "sk-glm-abcdefghijklmnop");
    let dir = sb.project("a/b/c", "glm", "");
    let log = sb.path("out/strace.log");
    let wrapper = format!("strace -f -qq -e trace=execve -e signal=none -o '{}' ", log.display());
    let mut sh = Shell::start_wrapped(&sb, kind, &[], &wrapper);
    sh.run(&format!("cd '{}'", dir.join("sub").display()));
    sh.run(&format!("cd '{}'", dir.display()));
    assert_eq!(sh.child_env()["CCENV_PROVIDER"], "glm");
    let before = ccenv_runs(&log);
    assert!(before >= 2, "the hook ran on cd ({before} runs)");

    for _ in 0..100 {
        sh.enter();
    }
    sh.sync();
    let after = ccenv_runs(&log);
    assert_eq!(after, before, "{kind}: 100 unchanged prompts started ccenv {} times", after - before);

    // The counter is live: each kind of change makes the next prompt run ccenv once.
    std::fs::write(dir.join(".claude-provider.toml"), "provider = \"glm\"\nmodel = \"m\"\n").unwrap();
    settle();
    sh.enter();
    sh.sync();
    assert_eq!(ccenv_runs(&log), after + 1, "{kind}: an edit is noticed");
    sb.ok(&dir, &["allow"]);
    settle();
    sh.enter();
    sh.sync();
    assert_eq!(ccenv_runs(&log), after + 2, "{kind}: allow is noticed");
    assert_eq!(sh.child_env()["ANTHROPIC_MODEL"], "m");
    sb.set_key("glm", "sk-glm-rotated-abcdefghij");
    settle();
    sh.enter();
    sh.sync();
    assert_eq!(
        sh.child_env()["ANTHROPIC_AUTH_TOKEN"],
        "sk-glm-rotated-abcdefghij",
        "{kind}: key set is noticed"
    );
    sb.write(&sb.path("cfg/config.toml"), "[providers.glm]\nmodel = \"from-user-config\"\n");
    std::fs::write(dir.join(".claude-provider.toml"), "provider = \"glm\"\n").unwrap();
    sb.ok(&dir, &["allow"]);
    settle();
    sh.enter();
    sh.sync();
    assert_eq!(sh.child_env()["ANTHROPIC_MODEL"], "from-user-config", "{kind}: user config is noticed");
    let runs = ccenv_runs(&log);
    sb.write(&dir.join(".claude-provider.local.toml"), "model = \"mine\"\n");
    settle();
    sh.enter();
    let env = sh.child_env();
    assert_eq!(env.get("CCENV_PROVIDER"), None, "{kind}: a new .local file blocks until allowed");
    assert!(sh.ccenv_messages().iter().any(|m| m.contains("changed since it was allowed")), "{kind}");
    sb.ok(&dir, &["allow"]);
    settle();
    sh.enter();
    assert_eq!(sh.child_env()["ANTHROPIC_MODEL"], "mine");
    sb.ok(&dir, &["key", "rm", "glm"]);
    settle();
    sh.enter();
    let env = sh.child_env();
    assert_eq!(env.get("ANTHROPIC_AUTH_TOKEN"), None, "{kind}: key rm is noticed");
    assert!(sh.ccenv_messages().iter().any(|m| m.contains("ccenv key set glm")), "{kind}");
    assert!(ccenv_runs(&log) >= runs + 3);
    sh.exit();
}

#[test]
fn bash_unchanged_prompts() {
    unchanged_prompts_start_no_process("bash");
}

#[test]
fn zsh_unchanged_prompts() {
    unchanged_prompts_start_no_process("zsh");
}

#[test]
fn fish_unchanged_prompts() {
    unchanged_prompts_start_no_process("fish");
}

/// A project under a directory whose name is not UTF-8 keeps the fast path: the hook is
/// given the watched files' exact bytes, so its builtin tests find them.
fn non_utf8_directory_keeps_the_fast_path(kind: &'static str) {
    use std::os::unix::ffi::OsStrExt;
    if !have(kind) || !have("script") || !have("strace") {
        return;
    }
    let sb = Sandbox::new();
    sb.set_key("glm", "sk-glm-abcdefghijklmnop");
    let odd = sb.path("work").join(std::ffi::OsStr::from_bytes(b"caf\xe9-\xff\x80"));
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(odd.join(".claude-provider.toml"), "provider = \"glm\"\n").unwrap();
    sb.ok(&odd, &["allow"]);
    let log = sb.path("out/strace.log");
    let wrapper = format!("strace -f -qq -e trace=execve -e signal=none -o '{}' ", log.display());
    let mut sh = Shell::start_wrapped(&sb, kind, &[], &wrapper);
    sh.run(&format!("cd {}/caf*", sb.path("work").display()));
    assert_eq!(sh.child_env()["CCENV_PROVIDER"], "glm", "{kind}");
    let before = ccenv_runs(&log);
    for _ in 0..20 {
        sh.enter();
    }
    sh.sync();
    assert_eq!(ccenv_runs(&log), before, "{kind}: unchanged prompts in a non-UTF-8 directory ran ccenv");
    std::fs::write(odd.join(".claude-provider.toml"), "provider = \"glm\"\nmodel = \"m\"\n").unwrap();
    sb.ok(&odd, &["allow"]);
    settle();
    sh.enter();
    assert_eq!(sh.child_env()["ANTHROPIC_MODEL"], "m", "{kind}: an edit there is noticed");
    assert_eq!(ccenv_runs(&log), before + 1, "{kind}");
    sh.exit();
}

#[test]
fn bash_non_utf8_directory() {
    non_utf8_directory_keeps_the_fast_path("bash");
}

#[test]
fn zsh_non_utf8_directory() {
    non_utf8_directory_keeps_the_fast_path("zsh");
}

#[test]
fn fish_non_utf8_directory() {
    non_utf8_directory_keeps_the_fast_path("fish");
}
