//! The READMEs' runnable blocks (```sh runnable) run, each in a fresh home with the
//! default XDG folders; and the Chinese README stays in step with the English one.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use clap::CommandFactory;
use common::Sandbox;

const README: &str = include_str!("../README.md");
const README_ZH: &str = include_str!("../README.zh-CN.md");

fn runnable_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if line.trim() == "```sh runnable" {
            let body: Vec<&str> = lines.by_ref().map(|(_, l)| l).take_while(|l| l.trim() != "```").collect();
            blocks.push((n + 1, body.join("\n")));
        }
    }
    blocks
}

/// Runs `block` as a user would type it: bash with `-e -o pipefail`; zsh interactive,
/// reading the lines (so a `#` is not a comment: zsh's default without
/// interactive_comments, as on macOS), stopping at the first failure; fish, each line
/// followed by `or exit 1`.
fn run_block(shell: &str, block: &str, sb: &Sandbox) -> std::process::Output {
    let path = sb.base_env().into_iter().find(|(k, _)| k == "PATH").unwrap().1;
    let mut c = Command::new(shell);
    let mut stdin = None;
    match shell {
        "bash" => c.args(["-e", "-o", "pipefail", "-c", block]),
        "zsh" => {
            stdin = Some(format!("setopt err_exit pipe_fail\n{block}\nexit 0\n"));
            c.args(["-f", "-i"])
        }
        _ => {
            let lines: Vec<String> = block.lines().map(|l| format!("{l}; or exit 1")).collect();
            c.args(["--no-config", "-c", &lines.join("\n")])
        }
    };
    c.current_dir(sb.path("home")).env_clear().env("HOME", sb.path("home")).env("PATH", path);
    c.env("LANG", "C.UTF-8").env("TERM", "dumb");
    c.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

#[test]
fn runnable_blocks_in_both_readmes_run_in_bash_zsh_and_fish() {
    let shells: Vec<&str> = ["bash", "zsh", "fish"].into_iter().filter(|s| common::have(s)).collect();
    for (file, text, at_least) in [("README.md", README, 1), ("README.zh-CN.md", README_ZH, 10)] {
        let blocks = runnable_blocks(text);
        assert!(blocks.len() >= at_least, "{file} has {} runnable blocks", blocks.len());
        for (line, block) in &blocks {
            for shell in &shells {
                let sb = Sandbox::new();
                let out = run_block(shell, block, &sb);
                assert!(
                    out.status.success(),
                    "{file}:{line} failed in {shell}:\n{block}\n--- stdout\n{}\n--- stderr\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                // The defaults really are the XDG folders under the home.
                assert!(
                    sb.path("home/.local/share/ccenv").exists() || !block.contains("ccenv init"),
                    "{file}:{line} in {shell}"
                );
            }
        }
        let _ = std::io::stderr().write_all(
            format!("{file}: {} runnable blocks ran in {}\n", blocks.len(), shells.join(", ")).as_bytes(),
        );
    }
}

#[test]
fn the_chinese_readme_keeps_in_step() {
    let first_block = |text: &str| {
        let start = text.find("```sh\n").unwrap() + 6;
        text[start..start + text[start..].find("```").unwrap()].to_string()
    };
    assert_eq!(first_block(README), first_block(README_ZH), "the two opening commands differ");
    for sub in ccenv::cli::Cli::command().get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("ccenv {}", sub.get_name());
        assert!(README.contains(&name), "README.md does not mention `{name}`");
        assert!(README_ZH.contains(&name), "README.zh-CN.md does not mention `{name}`");
    }
    assert!(README.contains("README.zh-CN.md") && README_ZH.contains("README.md"), "linked both ways");
    // The project file's reference block names the same fields in both.
    let fields = |text: &str| {
        let start = text.find("```toml\nprovider = \"glm\"").unwrap();
        let block = &text[start..start + text[start..].find("\n```\n").unwrap()];
        block
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(README), fields(README_ZH), "the project file blocks differ");
    // ccenv's folders come from `dirs`, which ignores XDG on macOS and Windows: both READMEs
    // must say where config.toml is there, or a macOS user edits a file ccenv never reads.
    for (file, text) in [("README.md", README), ("README.zh-CN.md", README_ZH)] {
        for folder in ["~/Library/Application Support/ccenv", "%APPDATA%\\ccenv"] {
            assert!(text.contains(folder), "{file} does not name {folder}");
        }
    }
}

/// `ccenv completions --help` shows the same install lines as the README (which run).
#[test]
fn completions_help_matches_the_readme() {
    let start = README.find("mkdir -p ~/.local/share/bash-completion").unwrap();
    let block = &README[start..start + README[start..].find("```").unwrap()];
    let sb = Sandbox::new();
    let help = sb.ok(sb.dir.path(), &["completions", "--help"]);
    for line in block.lines().filter(|l| l.contains("completions")) {
        assert!(help.contains(line), "`ccenv completions --help` lacks {line}:\n{help}");
    }
}
