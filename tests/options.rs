//! Quoting and the hook scripts under hostile shell options, in real bash, zsh and fish:
//! every option set a user may have in an rc file, applied before the hook is installed.
//! Each run enters a project whose values include zsh `EQUALS` bait (`=enabled`), leaves
//! it, and compares what a child process sees with what it must see. An apply that
//! cannot complete (a read-only variable) must leave the previous state whole.

mod common;

use std::process::Command;

use common::{Sandbox, Shell, have, managed_view, read_env};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Options users set in ~/.zshrc that change how a word or a function is read.
const ZSH_SETS: &[&str] = &[
    "setopt equals",
    "setopt nounset",
    "setopt ksharrays",
    "setopt shwordsplit",
    "setopt noclobber",
    "setopt errexit",
    "emulate sh",
    "emulate ksh",
    "setopt rcquotes",
    "setopt cshnullglob",
    "setopt globsubst magicequalsubst globassign",
    "setopt errreturn warncreateglobal",
    "setopt kshglob shglob posixbuiltins octalzeroes cbases",
    "FUNCNEST=1",
    "setopt nounset ksharrays shwordsplit noclobber rcquotes cshnullglob errexit; FUNCNEST=1",
];

const BASH_SETS: &[&str] = &[
    "set -euo pipefail",
    "set -o posix",
    "shopt -s extglob failglob",
    "shopt -s nullglob",
    "FUNCNEST=1",
    "set -euo pipefail; set -o posix; shopt -s extglob failglob nullglob; FUNCNEST=1",
];

/// fish has no option that changes quoting; these change tracing and the locale.
const FISH_SETS: &[&str] = &["true", "set -g fish_trace 1", "set -gx LC_ALL C"];

fn sets(kind: &str) -> &'static [&'static str] {
    match kind {
        "zsh" => ZSH_SETS,
        "bash" => BASH_SETS,
        _ => FISH_SETS,
    }
}

/// Values that some option would reinterpret if a single one were left unquoted.
fn bait() -> Vec<String> {
    let mut v: Vec<String> =
        ["=enabled", "=ls", "~", "~root", "a=~/x", "*", "[ab]", "x*(N)", "^x", "#x", "{1..3}", "a b"]
            .map(String::from)
            .to_vec();
    v.extend(common::hostile_values());
    v
}

/// Enter a project and leave it through the prompt hook, with `options` set and the hook
/// installed again under them (an rc file sets options before the hook line).
fn enter_and_leave(kind: &'static str, options: &str) {
    let sb = Sandbox::new();
    let values = bait();
    let proj = common::env_project(&sb, "p", &common::indexed(&values));
    let outside = sb.work("outside");
    let mut sh = Shell::start(&sb, kind, &[("ANTHROPIC_MODEL", "=mine"), ("ANTHROPIC_API_KEY", "=k'ey")]);
    sh.run(options);
    sh.run(common::hook_line(kind));
    sh.run(&format!("cd '{}'", outside.display()));
    let before = managed_view(&sh.child_env());
    sh.run(&format!("cd '{}'", proj.display()));
    let inside = sh.child_env();
    for (i, v) in values.iter().enumerate() {
        assert_eq!(inside.get(&format!("T_{i}")), Some(v), "{kind} [{options}]: T_{i} = {v:?}");
    }
    assert_eq!(inside.get("ANTHROPIC_BASE_URL").map(String::as_str), Some("http://localhost:11434"));
    assert!(inside.contains_key("CCENV_STATE"), "{kind} [{options}]: no CCENV_STATE inside");
    assert!(!inside.contains_key("ANTHROPIC_API_KEY"), "{kind} [{options}]: the user's key stayed");
    sh.run(&format!("cd '{}'", outside.display()));
    let after = managed_view(&sh.child_env());
    assert_eq!(after, before, "{kind} [{options}]: leaving did not restore");
    let errors: Vec<String> =
        sh.ccenv_messages().into_iter().filter(|m| !m.contains("using ollama")).collect();
    let unloaded: Vec<&String> = errors.iter().filter(|m| !m.contains("unloaded")).collect();
    assert!(unloaded.is_empty(), "{kind} [{options}]: {unloaded:?}\n{}", sh.output());
    sh.exit();
}

fn matrix(kind: &'static str) {
    if !have("script") || !have(kind) {
        return;
    }
    for options in sets(kind) {
        enter_and_leave(kind, options);
    }
    eprintln!("{kind}: {} option sets entered and left through the hook", sets(kind).len());
}

#[test]
fn zsh_hook_under_hostile_options() {
    matrix("zsh");
}

#[test]
fn bash_hook_under_hostile_options() {
    matrix("bash");
}

#[test]
fn fish_hook_under_hostile_options() {
    matrix("fish");
}

/// A variable ccenv cannot set (read-only in the user's shell) makes the whole change
/// fail: nothing of the project is left half-applied and CCENV_STATE stays as it was.
fn read_only_apply_rolls_back(kind: &'static str, make_read_only: &str) {
    if !have("script") || !have(kind) {
        return;
    }
    let sb = Sandbox::new();
    let a = sb.project("a", "ollama", "model = \"model-a\"\n");
    let b = sb.project("b", "deepseek", "");
    sb.set_key("deepseek", "sk-deepseek-0123456789abcdef");
    let outside = sb.work("outside");
    let mut sh = Shell::start(&sb, kind, &[("ANTHROPIC_SMALL_FAST_MODEL", "mine")]);
    sh.run(&format!("cd '{}'", a.display()));
    let in_a = managed_view(&sh.child_env());
    assert_eq!(in_a.get("ANTHROPIC_MODEL").map(String::as_str), Some("model-a"));
    // Project b wants to change ANTHROPIC_MODEL, which is now read-only.
    sh.run(make_read_only);
    sh.run(&format!("cd '{}'", b.display()));
    let in_b = managed_view(&sh.child_env());
    assert_eq!(in_b, in_a, "{kind}: a failed switch must leave project a whole");
    let said = sh.ccenv_messages().join("\n");
    assert!(said.contains("could not be applied"), "{kind}: no notice of the failed change: {said}");
    sh.run(&format!("cd '{}'", outside.display()));
    sh.exit();
}

#[test]
fn zsh_read_only_variable_rolls_back() {
    read_only_apply_rolls_back("zsh", "typeset -r ANTHROPIC_MODEL");
}

#[test]
fn bash_read_only_variable_rolls_back() {
    read_only_apply_rolls_back("bash", "readonly ANTHROPIC_MODEL");
}

/// fish has no user-made read-only variables; its own (`status_generation`) are the only
/// ones an `[env]` name could hit. Either the project file is refused (an allowlist of
/// `[env]` names refuses it), or the apply is atomic.
#[test]
fn fish_read_only_variable_rolls_back() {
    if !have("script") || !have("fish") {
        return;
    }
    let sb = Sandbox::new();
    let dir = sb.work("p");
    sb.write(&dir.join(".claude-provider.toml"), "provider = \"ollama\"\n[env]\nstatus_generation = \"1\"\n");
    if !sb.ccenv(&dir, &["allow"]).status.success() {
        return;
    }
    let mut sh = Shell::start(&sb, "fish", &[]);
    let before = managed_view(&sh.child_env());
    sh.run(&format!("cd '{}'", dir.display()));
    let after = managed_view(&sh.child_env());
    assert_eq!(after, before, "fish: a failed apply left a half-applied environment");
    assert!(sh.ccenv_messages().join("\n").contains("could not be applied"), "{}", sh.output());
    sh.exit();
}

/// One generated case: `[env]` values applied by `ccenv export`, with the shell's earlier
/// values of the same names to be restored, under `options`, in a non-interactive shell.
fn export_round_trip(sb: &Sandbox, kind: &str, options: &str, case: &[(String, String, String)]) {
    let values: Vec<(usize, String)> = case.iter().map(|(_, v, _)| v.clone()).enumerate().collect();
    let dir = sb.path("work/case");
    let _ = std::fs::remove_dir_all(&dir);
    let mut text = String::from("provider = \"ollama\"\n[env]\n");
    for (name, v, _) in case {
        text.push_str(&format!("{name} = {}\n", toml::Value::String(v.clone())));
    }
    sb.write(&dir.join(".claude-provider.toml"), &text);
    sb.ok(&dir, &["allow"]);
    let outside = sb.work("outside");
    let (inside_file, after_file) = (sb.path("out/in"), sb.path("out/after"));
    let apply = match kind {
        "fish" => "ccenv export --shell fish | source".to_string(),
        _ => format!("eval \"$(ccenv export --shell {kind})\""),
    };
    let script = format!(
        "{options}\ncd '{p}'\n{apply}\ncommand env -0 >| '{i}'\ncd '{o}'\n{apply}\ncommand env -0 >| '{a}'\n",
        p = dir.display(),
        o = outside.display(),
        i = inside_file.display(),
        a = after_file.display()
    );
    let script = if kind == "fish" { script.replace(">|", ">") } else { script };
    let args: Vec<&str> = match kind {
        "zsh" => vec!["-f", "-c", &script],
        "bash" => vec!["--norc", "--noprofile", "-c", &script],
        _ => vec!["--no-config", "-c", &script],
    };
    let _ = (std::fs::remove_file(&inside_file), std::fs::remove_file(&after_file));
    let out = Command::new(kind)
        .args(args)
        .current_dir(&outside)
        .env_clear()
        .envs(sb.base_env())
        .envs(case.iter().map(|(n, _, before)| (n.clone(), before.clone())))
        .output()
        .unwrap();
    let why = String::from_utf8_lossy(&out.stderr);
    let (inside, after) = (read_env(&inside_file, false), read_env(&after_file, false));
    for ((name, v, before), (_, _)) in case.iter().zip(&values) {
        assert_eq!(inside.get(name), Some(v), "{kind} [{options}] applied {name} wrong; stderr: {why}");
        assert_eq!(after.get(name), Some(before), "{kind} [{options}] restored {name} wrong; stderr: {why}");
    }
    assert!(inside.contains_key("CCENV_STATE") && !after.contains_key("CCENV_STATE"), "{kind} [{options}]");
}

/// Any string without NUL, weighted toward the characters shells and options act on.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[=~'\"\\\\$`!*?\\[\\](){}#;&|<> \n\t%^,:-]{0,12}", "=[a-z]{1,6}",]
        .prop_map(|s| s.replace('\0', ""))
}

/// Generated names: never the shell's own, so `T_` and then any valid tail.
fn case() -> impl Strategy<Value = Vec<(String, String, String)>> {
    proptest::collection::btree_map("T_[A-Z0-9_]{0,12}", (value(), value()), 1..6)
        .prop_map(|m| m.into_iter().map(|(n, (v, b))| (n, v, b)).collect())
}

fn property(kind: &'static str) {
    if !have(kind) {
        return;
    }
    let cases: u32 = std::env::var("CCENV_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    let sb = Sandbox::new();
    for options in sets(kind) {
        let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
        runner
            .run(&case(), |c| {
                export_round_trip(&sb, kind, options, &c);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{kind} [{options}]: {e}"));
    }
    eprintln!("{kind}: {} option sets x {cases} generated cases round-tripped", sets(kind).len());
}

#[test]
fn zsh_generated_names_and_values_under_every_option_set() {
    property("zsh");
}

#[test]
fn bash_generated_names_and_values_under_every_option_set() {
    property("bash");
}

#[test]
fn fish_generated_names_and_values_under_every_option_set() {
    property("fish");
}
