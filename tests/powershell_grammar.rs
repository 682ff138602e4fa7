//! A second opinion on ccenv's PowerShell output, written by others: the tree-sitter
//! PowerShell grammar (PyPI `tree-sitter-powershell`, driven by tests/powershell/grammar.py)
//! must parse the hook script and every statement ccenv emits without error, and each
//! statement's syntax tree must be exactly an assignment or removal ccenv intends, for
//! the whole hostile-value corpus. tests/powershell.rs checks the same output with this
//! repository's own tokenizer; the two were written independently.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::Sandbox;
use serde_json::Value;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/powershell/grammar.py");

fn have_grammar() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import tree_sitter, tree_sitter_powershell"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CCENV_REQUIRE_ALL").is_some() {
            panic!(
                "the Python packages tree-sitter and tree-sitter-powershell are required (CCENV_REQUIRE_ALL)"
            );
        }
        let _ = writeln!(std::io::stderr(), "SKIPPED: Python `tree-sitter-powershell` is not installed");
    }
    ok
}

fn parse(source: &str, mode: &str) -> Value {
    let mut child = Command::new("python3")
        .args([SCRIPT, mode])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(source.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn statements(source: &str) -> Vec<Value> {
    let tree = parse(source, "statements");
    assert_eq!(tree["error"], false, "syntax error at {}:\n{source}", tree["error_at"]);
    tree["statements"].as_array().unwrap().clone()
}

/// The checker is not blind: injections and other statements are reported as such.
#[test]
fn the_grammar_check_rejects_what_ccenv_must_never_print() {
    if !have_grammar() {
        return;
    }
    for bad in [
        "$env:A = 'x'; Write-Host pwned",
        "$env:A = \"$(Write-Host pwned)\"",
        "$env:A = 'x' + (Get-Date)",
        "Remove-Item -Path 'Env:A' -ErrorAction Ignore",
        "Remove-Item -LiteralPath 'Env:A' -ErrorAction Ignore -Recurse",
        "$global:__ccenv_said = (Invoke-Expression 'x')",
    ] {
        let got = statements(bad);
        assert!(got.iter().any(|s| s.get("other").is_some()), "{bad}: {got:?}");
    }
    assert_eq!(parse("$env:A = 'x", "statements")["error"], true, "an open quote is a syntax error");
    let good = statements("$env:A = 'it''s'\nRemove-Item -LiteralPath 'Env:B' -ErrorAction Ignore\n");
    assert_eq!(good, [serde_json::json!({"set": "A", "value": "it's"}), serde_json::json!({"unset": "B"})]);
}

/// The hook parses, and it survives a prompt tool loaded after it (oh-my-posh,
/// starship): when PowerShell is idle, a replaced `prompt` is wrapped again. No
/// PowerShell runs here, so that it works is not verified (README says so).
#[test]
fn the_hook_script_parses_and_rewraps_a_replaced_prompt() {
    let sb = Sandbox::new();
    let hook = sb.ok(sb.dir.path(), &["hook", "powershell"]);
    let idle = hook.find("Register-EngineEvent -SourceIdentifier PowerShell.OnIdle -Action {").expect(&hook);
    let action = &hook[idle..idle + hook[idle..].find("\n    }\n").unwrap()];
    assert!(
        action.contains("-notmatch '__ccenv_hook'") && action.contains("__ccenv_wrap_prompt"),
        "{action}"
    );
    if !have_grammar() {
        return;
    }
    for shell in ["powershell", "pwsh"] {
        let hook = sb.ok(sb.dir.path(), &["hook", shell]);
        let tree = parse(&hook, "script");
        assert_eq!(tree["error"], false, "syntax error at {}:\n{hook}", tree["error_at"]);
    }
}

#[test]
fn every_hostile_value_is_exactly_one_assignment_and_leaving_exactly_restores() {
    if !have_grammar() {
        return;
    }
    let sb = Sandbox::new();
    let mut values = common::hostile_values();
    values.push("’".repeat(3000));
    let dir = common::env_project(&sb, "p", &common::indexed(&values));
    let out = sb.ccenv_with(
        &dir,
        &["export", "--shell", "powershell"],
        &[("ANTHROPIC_API_KEY", "sk-real-’")],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = statements(&String::from_utf8(out.stdout).unwrap());
    let mut set = std::collections::BTreeMap::new();
    for s in &got {
        match (s["set"].as_str(), s["unset"].as_str()) {
            (Some(n), _) => {
                assert!(set.insert(n.to_string(), s["value"].as_str().unwrap().to_string()).is_none())
            }
            (None, Some(n)) => assert!(!set.contains_key(n), "{n} set and removed"),
            _ => panic!("not an assignment or removal ccenv means: {s}"),
        }
    }
    for (i, v) in values.iter().enumerate() {
        assert_eq!(set.get(&format!("T_{i}")), Some(v), "T_{i}");
    }
    assert!(got.iter().any(|s| s["unset"] == "ANTHROPIC_API_KEY"), "the user's key is removed");

    // hook-env adds only the hook's own globals, never a command.
    let out = sb.ccenv(&dir, &["hook-env", "powershell", "4242", ""]);
    for s in statements(&String::from_utf8(out.stdout).unwrap()) {
        assert!(s.get("other").is_none(), "{s}");
        if let Some(g) = s["global"].as_str() {
            assert!(g.starts_with("__ccenv_"), "{s}");
        }
    }
}
