//! The READMEs' runnable blocks (```sh runnable) run, each in a fresh home with the
//! default XDG folders; and the Chinese README stays in step with the English one.

mod common;

use std::process::Command;

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

#[test]
fn runnable_blocks_in_both_readmes_run() {
    for (file, text, at_least) in [("README.md", README, 1), ("README.zh-CN.md", README_ZH, 10)] {
        let blocks = runnable_blocks(text);
        assert!(blocks.len() >= at_least, "{file} has {} runnable blocks", blocks.len());
        for (line, block) in &blocks {
            let sb = Sandbox::new();
            let path = sb.base_env().into_iter().find(|(k, _)| k == "PATH").unwrap().1;
            let out = Command::new("bash")
                .args(["-e", "-o", "pipefail", "-c", block])
                .current_dir(sb.path("home"))
                .env_clear()
                .env("HOME", sb.path("home"))
                .env("PATH", path)
                .env("LANG", "C.UTF-8")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{file}:{line} failed:\n{block}\n--- stdout\n{}\n--- stderr\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            // The defaults really are the XDG folders under the home.
            assert!(
                sb.path("home/.local/share/ccenv").exists() || !block.contains("ccenv init"),
                "{file}:{line}"
            );
        }
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("{file}: {} runnable blocks ran\n", blocks.len()).as_bytes(),
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
}
