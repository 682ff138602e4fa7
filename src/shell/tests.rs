//! Golden tests: what every shell receives for a fixed set of changes. A change in any
//! shell's output shows up as a readable diff of `snapshots/*.snap`, also for shells not
//! installed here (the round-trip tests in tests/ prove the output is read back exactly
//! where the shell is installed). Inputs are fixed: no machine path, no clock.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use super::*;

const ALL: [ShellName; 6] = [
    ShellName::Bash,
    ShellName::Zsh,
    ShellName::Fish,
    ShellName::Powershell,
    ShellName::Cmd,
    ShellName::Clink,
];

/// Values that break naive quoting somewhere.
const HOSTILE: &[(&str, &str)] = &[
    ("plain", "https://open.bigmodel.cn/api/anthropic"),
    ("empty", ""),
    ("single quotes", "it's 'quoted'"),
    ("double quotes", "say \"hi\""),
    ("backslashes", "a\\b\\'c\\\\"),
    ("newline", "line1\nline2"),
    ("carriage return", "a\r\nb"),
    ("equals first", "=cmd"),
    ("dollar", "$HOME ${PATH} $(id)"),
    ("backticks", "`id`"),
    ("bang and percent", "!x! %PATH% ^&|<>()"),
    ("non-ASCII", "é 日本 ‘smart’ “quotes”"),
    ("control characters", "\u{1b}[31m\u{7}\u{7f}\t"),
    ("ctrl-z", "a\u{1a}b"),
    ("leading dash", "-e --help"),
    ("glob", "*.? [a-z] ~user {a,b}"),
];

fn set(name: &str, value: &str) -> Op {
    Op::Set(name.into(), value.into())
}

/// One section per case: its statements, or why the shell refuses the value.
fn statements(shell: ShellName) -> String {
    let mut cases: Vec<(String, Vec<Op>)> =
        HOSTILE.iter().map(|(what, v)| (format!("set {what}"), vec![set("ANTHROPIC_MODEL", v)])).collect();
    cases.push(("unset".into(), vec![Op::Unset("ANTHROPIC_API_KEY".into())]));
    cases.push((
        "CCENV_STATE".into(),
        vec![set(
            "CCENV_STATE",
            "1;0123456789abcdef0123456789abcdef;ANTHROPIC_BASE_URL,CCENV_PROVIDER;/w/my proj",
        )],
    ));
    cases.push((
        "a whole change".into(),
        vec![
            set("ANTHROPIC_BASE_URL", "https://api.example/anthropic"),
            Op::Unset("ANTHROPIC_API_KEY".into()),
        ],
    ));
    let mut out = String::new();
    for (what, ops) in cases {
        let text = match render(shell.statements(), &ops, |_| None, false) {
            Ok(t) => t,
            Err(e) => format!("REFUSED: {e}\n"),
        };
        out += &format!("## {what}\n{text}");
    }
    out
}

fn hook_state(shell: ShellName) -> String {
    let Some(hook) = shell.hook() else {
        return "(no hook state: cmd's hook is the Clink script)\n".into();
    };
    let present = [PathBuf::from("/w/proj/.claude-provider.toml"), PathBuf::from("/w/it's $x/é.toml")];
    let absent = [PathBuf::from("/w/proj/.claude-provider.local.toml")];
    let started = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
    let stamp = Some((std::path::Path::new("/data/stamps/4242"), started));
    let state = HookState { present: &present, absent: &absent, stamp, said: "0123abcd" };
    let mut out = render_hook_state(hook, &state);
    let none = HookState { present: &[], absent: &[], stamp: None, said: "" };
    out += "## nothing watched, no stamp\n";
    out += &render_hook_state(hook, &none);
    out
}

#[test]
fn statements_of_every_shell() {
    for shell in ALL {
        insta::assert_snapshot!(format!("statements_{}", shell_id(shell)), statements(shell));
    }
}

#[test]
fn hook_state_of_every_shell() {
    for shell in ALL {
        insta::assert_snapshot!(format!("hook_state_{}", shell_id(shell)), hook_state(shell));
    }
}

/// A watched path that is not UTF-8 reaches bash, zsh and fish byte for byte.
#[cfg(unix)]
#[test]
fn non_utf8_watched_paths() {
    use std::os::unix::ffi::OsStrExt;
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(b"/w/caf\xe9/it's/.claude-provider.toml"));
    let mut out = String::new();
    for shell in [ShellName::Bash, ShellName::Zsh, ShellName::Fish] {
        let hook = shell.hook().unwrap();
        out += &format!(
            "## {}\n{}",
            shell_id(shell),
            hook.set_path_list("__ccenv_present", std::slice::from_ref(&path))
        );
    }
    insta::assert_snapshot!(out);
}

#[test]
fn masked_statements_and_json() {
    let ops = [
        set("ANTHROPIC_AUTH_TOKEN", "sk-abcdefghijklmnopqrstuvwxyz"),
        set("ANTHROPIC_MODEL", "glm-5"),
        Op::Unset("ANTHROPIC_API_KEY".into()),
    ];
    let mut out = String::from("## bash, masked\n");
    out += &render(ShellName::Bash.statements(), &ops, |_| None, true).unwrap();
    out += "## json, masked\n";
    out += &render_json(&ops, true);
    out += "## json\n";
    out += &render_json(&ops, false);
    insta::assert_snapshot!(out);
}

#[test]
fn hook_scripts_embed_the_quoted_binary() {
    for shell in [ShellName::Bash, ShellName::Fish, ShellName::Powershell, ShellName::Cmd] {
        let script = shell.hook_script("/opt/it's here/ccenv");
        assert!(!script.contains("@CCENV@"), "{shell:?}");
        let quoted = shell.hook().unwrap_or(&Clink).quote("/opt/it's here/ccenv");
        assert!(script.contains(&quoted), "{shell:?}: {quoted}");
    }
}

fn shell_id(shell: ShellName) -> &'static str {
    match shell {
        ShellName::Bash => "bash",
        ShellName::Zsh => "zsh",
        ShellName::Fish => "fish",
        ShellName::Powershell => "powershell",
        ShellName::Cmd => "cmd",
        ShellName::Clink => "clink",
    }
}
