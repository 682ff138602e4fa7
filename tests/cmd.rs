//! cmd.exe: `ccenv export --shell cmd` end to end, and, where Debian's wine is
//! installed, its `set` lines applied by wine's real cmd.exe and read back. wine 8
//! runs a FOR variable as a command differently from Windows (shells.md §9), so the
//! smoke test applies each line with `do set %%b` — the same `set "NAME=value"`
//! parsing — instead of `do @%%i`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Sandbox, have};

fn project(sb: &Sandbox, values: &[&str]) -> std::path::PathBuf {
    common::env_project(sb, "p", &common::indexed(values))
}

/// Every printable ASCII character but `!`, in the places cmd's parser cares about.
fn accepted() -> Vec<String> {
    let mut v: Vec<String> =
        (0x20u8..0x7f).filter(|&b| b != b'!').map(|b| format!("a{}b", b as char)).collect();
    v.extend(
        [
            "a\"&echo INJECTED&rem \"",
            "x\" & echo INJECTED & \"",
            "\"",
            "\"\"",
            "^",
            "\"^",
            "^a^b",
            "(x)|<y>",
            "a b  c ",
            "-e",
            "a=b==c",
            "https://h/p?a=1&b=2#f",
            "C:\\path\\",
            "\t",
            "100%",
            "%PATH%",
            "%%",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    v
}

#[test]
fn unsafe_values_stop_the_export_and_name_the_variable() {
    let sb = Sandbox::new();
    for (value, why) in
        [("two\nlines", "line break"), ("x!PATH!", "`!`"), ("é", "non-ASCII"), ("’", "non-ASCII")]
    {
        let dir = project(&sb, &["fine", value]);
        let out = sb.ccenv(&dir, &["export", "--shell", "cmd"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{value:?} accepted");
        assert!(out.stdout.is_empty(), "nothing half-applied: {:?}", String::from_utf8_lossy(&out.stdout));
        assert!(err.contains("T_1") && err.contains(why) && err.contains("Clink"), "{err}");
    }
    // A `model` fills several role variables: the refusal names them all, the one the
    // user wrote (ANTHROPIC_MODEL) included, not only the first in sorted order.
    sb.set_key("glm", "sk-glm-0123456789abcdef");
    let dir = sb.project("m", "glm", "model = \"模型\"\n");
    let err = String::from_utf8_lossy(&sb.ccenv(&dir, &["export", "--shell", "cmd"]).stderr).to_string();
    assert!(err.contains("ANTHROPIC_MODEL") && err.contains("ANTHROPIC_DEFAULT_FABLE_MODEL"), "{err}");
}

#[test]
fn accepted_values_are_set_lines() {
    let sb = Sandbox::new();
    let values = accepted();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let dir = project(&sb, &refs);
    let out = sb.ccenv_with(&dir, &["export", "--shell", "cmd"], &[("ANTHROPIC_API_KEY", "sk-real")], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        assert!(line.starts_with("set \"") && line.ends_with('"'), "{line}");
    }
    assert!(text.contains("set \"ANTHROPIC_API_KEY=\"\n"), "unset form");
    for (i, v) in values.iter().enumerate() {
        assert!(text.contains(&format!("set \"T_{i}={v}\"\n")), "T_{i}");
    }
}

fn wine_prefix() -> std::path::PathBuf {
    // One prefix for all runs: creating it takes ~10 s, reusing it ~0.5 s per run.
    std::env::temp_dir().join("ccenv-test-wineprefix")
}

/// Runs a batch file in wine's cmd.exe; returns the `T_*` and `ANTHROPIC_*` variables it ends with.
fn wine_cmd(dir: &Path, lines: &str, initial: &[(&str, &str)]) -> BTreeMap<String, String> {
    let dump = dir.join("dump.txt");
    let mut batch = String::from("@echo off\r\n");
    for (k, v) in initial {
        batch.push_str(&format!("set \"{k}={v}\"\r\n"));
    }
    let exported = dir.join("exported.txt");
    std::fs::write(&exported, lines.replace('\n', "\r\n")).unwrap();
    batch.push_str(&format!(
        "for /f \"usebackq tokens=1*\" %%a in (\"Z:{}\") do set %%b\r\n",
        exported.display().to_string().replace('/', "\\")
    ));
    batch.push_str(&format!("set>\"Z:{}\"\r\n", dump.display().to_string().replace('/', "\\")));
    let bat = dir.join("apply.cmd");
    std::fs::write(&bat, batch).unwrap();
    let out = Command::new("wine")
        .args(["cmd", "/c", &format!("Z:{}", bat.display().to_string().replace('/', "\\"))])
        .env("WINEPREFIX", wine_prefix())
        .env("WINEDEBUG", "-all")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(!printed.contains("INJECTED"), "a value ran in cmd: {printed}");
    let text = std::fs::read(&dump).unwrap_or_else(|_| panic!("wine produced no dump: {printed}"));
    String::from_utf8_lossy(&text)
        .split("\r\n")
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.starts_with("T_") || k.starts_with("ANTHROPIC_") || k.starts_with("CCENV_"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn wine_cmd_reads_back_exactly_what_was_exported() {
    if !have("wine") {
        return;
    }
    let sb = Sandbox::new();
    // wine 8 re-expands `%` inside an expanded value (real cmd does not): leave those out.
    let values: Vec<String> = accepted().into_iter().filter(|v| !v.contains('%')).collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let dir = project(&sb, &refs);
    let out = sb.ccenv_with(&dir, &["export", "--shell", "cmd"], &[("ANTHROPIC_API_KEY", "sk-real")], None);
    assert!(out.status.success());
    let lines = String::from_utf8(out.stdout).unwrap();
    let got = wine_cmd(&sb.path("out"), &lines, &[("ANTHROPIC_API_KEY", "sk-real")]);
    for (i, v) in values.iter().enumerate() {
        // cmd keeps trailing spaces inside `set "…"`; it cannot hold an empty value.
        assert_eq!(got.get(&format!("T_{i}")), Some(v), "T_{i} = {v:?}");
    }
    assert_eq!(got.get("ANTHROPIC_API_KEY"), None, "removed");
    assert_eq!(got.get("ANTHROPIC_AUTH_TOKEN").map(String::as_str), Some("ollama"));
    assert!(got.contains_key("CCENV_STATE"));
}

/// 10,000 generated values from cmd's safe alphabet come back exactly from the `set`
/// lines (parsed the way `set "NAME=VALUE"` is); generated values with one unsafe
/// character are refused, naming the variable, with nothing printed.
#[test]
fn ten_thousand_generated_values_are_carried_or_refused() {
    let sb = Sandbox::new();
    let safe: Vec<char> = (0x20u8..0x7f).filter(|&b| b != b'!').map(char::from).chain(['\t']).collect();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let values: Vec<String> = (0..10_000)
        .map(|_| (0..next() % 40).map(|_| safe[(next() % safe.len() as u64) as usize]).collect())
        .collect();
    let mut checked = 0;
    for (n, batch) in common::batches(&values).into_iter().enumerate() {
        let dir = common::env_project(&sb, &format!("b{n}"), &batch);
        let out = sb.ccenv(&dir, &["export", "--shell", "cmd"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut set = BTreeMap::new();
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let inner = line.strip_prefix("set \"").and_then(|l| l.strip_suffix('"')).expect(line);
            let (k, v) = inner.split_once('=').unwrap();
            set.insert(k.to_string(), v.to_string());
        }
        for (i, v) in &batch {
            // cmd has no empty variables: "" is carried as removal.
            assert_eq!(set.get(&format!("T_{i}")).map(String::as_str), Some(v.as_str()), "T_{i}");
        }
        checked += batch.len();
    }
    assert_eq!(checked, 10_000);
    let unsafe_chars = ['\n', '\r', '!', '\u{1a}', '\u{1b}', '\u{7f}', 'é', '’', '日', '\u{0}'];
    for k in 0..200 {
        let ch = unsafe_chars[k % (unsafe_chars.len() - 1)];
        let v = format!("{}{ch}{}", values[k], values[k + 1]);
        let dir = common::env_project(&sb, &format!("u{k}"), &[(0, v)]);
        let out = sb.ccenv(&dir, &["export", "--shell", "cmd"]);
        assert!(!out.status.success() && out.stdout.is_empty(), "{ch:?} accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("T_0"));
    }
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        b"cmd: 10000 generated values carried exactly, 200 unsafe ones refused\n",
    );
}

/// A project under a non-ASCII profile folder (C:\Users\张三\…) applies in plain cmd, and
/// the README's undo — the same `for /f` line run outside every project — gives back
/// exactly what cmd had.
#[test]
fn wine_cmd_applies_a_project_under_a_chinese_path_and_undoes_it() {
    if !have("wine") {
        return;
    }
    let sb = Sandbox::new();
    let dir = sb.work("张三/app");
    sb.write(&dir.join(".claude-provider.toml"), "provider = \"ollama\"\n[env]\nT_0 = \"zero\"\n");
    sb.ok(&dir, &["allow"]);
    let before = [("ANTHROPIC_API_KEY", "sk-real"), ("T_0", "mine")];
    let out = sb.ccenv_with(&dir, &["export", "--shell", "cmd"], &before, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let applied = wine_cmd(&sb.path("out"), &String::from_utf8(out.stdout).unwrap(), &before);
    assert_eq!(applied.get("T_0").map(String::as_str), Some("zero"));
    assert_eq!(applied.get("ANTHROPIC_API_KEY"), None);
    let env: Vec<(&str, &str)> = applied.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = sb.ccenv_with(&sb.work("elsewhere"), &["export", "--shell", "cmd"], &env, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let undone = wine_cmd(&sb.path("out"), &String::from_utf8(out.stdout).unwrap(), &env);
    assert_eq!(undone.get("T_0").map(String::as_str), Some("mine"), "{undone:?}");
    assert_eq!(undone.get("ANTHROPIC_API_KEY").map(String::as_str), Some("sk-real"));
    assert!(!undone.contains_key("CCENV_STATE") && !undone.contains_key("ANTHROPIC_BASE_URL"), "{undone:?}");
}
