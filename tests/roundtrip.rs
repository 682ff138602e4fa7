//! Hostile values round-trip exactly through real bash, zsh and fish, both ways:
//! applied from a project's `[env]`, and restored from the shell's earlier values.
//! Any value that executed would create a canary file; none may exist afterwards.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Sandbox, Shell, batches, have, random_values, read_env};

/// The shared hostile values, with canaries that would be created if a value ever ran.
fn corpus(canary_dir: &Path) -> Vec<String> {
    let c = |n: &str| canary_dir.join(n).display().to_string();
    let mut v = common::hostile_values();
    v.extend([
        format!("$(touch {})", c("dollar")),
        format!("`touch {}`", c("backtick")),
        format!("'; touch {}; '", c("quote")),
        format!("x\\'; touch {}; #", c("fish-posix")),
        format!("a\\\n; touch {}", c("trailing-backslash")),
        format!("(touch {})", c("fish-subst")),
        format!("\"; touch {}; \"", c("dquote")),
        format!("\n touch {}\n", c("newline")),
        "A".repeat(4096),
        "x’".repeat(2000) + "\\",
        "é".repeat(9000),
    ]);
    v
}

/// In batches that fit a project file: each value is exported as T_<i> by the project,
/// while the shell already had a different hostile value in T_<i> to be restored.
fn round_trip(kind: &str, values: &[String]) -> usize {
    let sb = Sandbox::new();
    let outside = sb.work("outside");
    let mut checked = 0;
    for (batch_no, batch) in batches(values).into_iter().enumerate() {
        let proj = common::env_project(&sb, &format!("p{batch_no}"), &batch);
        // What the shell had before entering: the value of another index.
        let before: Vec<(String, String)> =
            batch.iter().map(|(i, _)| (format!("T_{i}"), values[(i + 7) % values.len()].clone())).collect();
        let (inside, after) =
            (sb.path(&format!("out/{kind}-{batch_no}-in")), sb.path(&format!("out/{kind}-{batch_no}-out")));
        let apply = match kind {
            "fish" => "ccenv export --shell fish | source",
            _ => &format!("eval \"$(ccenv export --shell {kind})\""),
        };
        let and = if kind == "fish" { "; and" } else { " &&" };
        let script = format!(
            "cd '{p}'{and} {apply}{and} command env -0 > '{i}'{and} cd '{o}'{and} {apply}{and} command env -0 > '{a}'",
            p = proj.display(),
            o = outside.display(),
            i = inside.display(),
            a = after.display()
        );
        let out = Command::new(kind)
            .args(if kind == "zsh" { vec!["-f", "-c", &script] } else { vec!["-c", &script] })
            .current_dir(&outside)
            .env_clear()
            .envs(sb.base_env())
            .envs(before.iter().cloned())
            .output()
            .unwrap();
        assert!(out.status.success(), "{kind} failed: {}", String::from_utf8_lossy(&out.stderr));
        let (inside, after) = (read_env(&inside, true), read_env(&after, true));
        for (i, v) in &batch {
            assert_eq!(inside.get(&format!("T_{i}")), Some(v), "{kind}: value {i} {v:?} applied wrong");
        }
        for (k, v) in &before {
            assert_eq!(after.get(k), Some(v), "{kind}: {k} = {v:?} restored wrong");
        }
        assert!(!inside.contains_key("PWNED") && !after.contains_key("PWNED"), "{kind}: a value ran");
        checked += batch.len();
    }
    checked
}

fn check_shell(kind: &str) {
    if !have(kind) {
        return;
    }
    let canaries = tempfile::tempdir().unwrap();
    let mut values = corpus(canaries.path());
    let random: usize =
        std::env::var("CCENV_ROUNDTRIP_RANDOM").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    values.extend(random_values(random, 0x9E37_79B9_7F4A_7C15 ^ kind.len() as u64));
    let n = round_trip(kind, &values);
    assert_eq!(n, values.len());
    let ran: Vec<_> = std::fs::read_dir(canaries.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(ran.is_empty(), "{kind} executed values: {ran:?}");
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("{kind}: {n} hostile values round-tripped both ways, 0 mismatches, 0 executed\n").as_bytes(),
    );
}

#[test]
fn bash_round_trip() {
    check_shell("bash");
}

#[test]
fn zsh_round_trip() {
    check_shell("zsh");
}

#[test]
fn fish_round_trip() {
    check_shell("fish");
}

/// The same corpus through the interactive hook (not `export`), once per shell.
#[test]
fn hostile_values_through_the_prompt_hook() {
    if !have("script") {
        return;
    }
    for kind in ["bash", "zsh", "fish"] {
        if !have(kind) {
            continue;
        }
        let sb = Sandbox::new();
        let canaries = tempfile::tempdir().unwrap();
        let values = corpus(canaries.path());
        let proj = common::env_project(&sb, "p", &common::indexed(&values));
        let mut sh = Shell::start(&sb, kind, &[]);
        sh.run(&format!("cd '{}'", proj.display()));
        let env = sh.child_env();
        for (i, v) in values.iter().enumerate() {
            assert_eq!(env.get(&format!("T_{i}")), Some(v), "{kind}: T_{i}");
        }
        sh.run("cd ..");
        let env = sh.child_env();
        assert!(env.keys().all(|k| !k.starts_with("T_")), "{kind}: restored");
        sh.exit();
        let ran: Vec<_> =
            std::fs::read_dir(canaries.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert!(ran.is_empty(), "{kind} executed values: {ran:?}");
    }
}
