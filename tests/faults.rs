//! Faults and bad input: each gives a clear message, keeps the prompt working and
//! changes nothing it should not.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Sandbox, Shell, comparable, have};

const KEY: &str = "sk-glm-fault-0123456789";

fn fixture() -> (Sandbox, PathBuf) {
    let sb = Sandbox::new();
    sb.set_key("glm", KEY);
    let dir = sb.project("a", "glm", "model = \"glm-4.7\"\n");
    sb.work("a/sub");
    sb.work("outside");
    (sb, dir)
}

fn shell(sb: &Sandbox) -> Option<Shell> {
    if !have("script") || !have("bash") {
        return None;
    }
    Some(Shell::start(sb, "bash", &[("ANTHROPIC_API_KEY", "sk-ant-user")]))
}

/// The prompt still runs commands and the hook still works.
fn prompt_alive(sh: &mut Shell) {
    let env = sh.child_env();
    assert!(env.contains_key("PATH"), "the shell still runs commands");
}

#[test]
fn a_project_file_replaced_by_a_directory() {
    let (sb, dir) = fixture();
    let Some(mut sh) = shell(&sb) else { return };
    sh.run(&format!("cd '{}'", sb.path("work/outside").display()));
    let before = comparable(&sh.child_env());
    sh.run(&format!("cd '{}'", dir.display()));
    assert_eq!(sh.child_env()["ANTHROPIC_AUTH_TOKEN"], KEY);
    std::fs::remove_file(dir.join(".claude-provider.toml")).unwrap();
    std::fs::create_dir(dir.join(".claude-provider.toml")).unwrap();
    sh.enter();
    assert_eq!(comparable(&sh.child_env()), before, "unloaded, nothing half-applied");
    assert!(
        sh.ccenv_messages().iter().any(|m| m.contains("is not a regular file")),
        "{:?}",
        sh.ccenv_messages()
    );
    prompt_alive(&mut sh);
}

#[test]
fn the_directory_deleted_while_the_shell_is_inside() {
    let (sb, dir) = fixture();
    let Some(mut sh) = shell(&sb) else { return };
    sh.run(&format!("cd '{}'", sb.path("work/outside").display()));
    let before = comparable(&sh.child_env());
    sh.run(&format!("cd '{}'", dir.join("sub").display()));
    assert_eq!(sh.child_env()["CCENV_PROVIDER"], "glm");
    std::fs::remove_dir_all(&dir).unwrap();
    sh.enter();
    assert_eq!(comparable(&sh.child_env()), before, "a vanished project unloads");
    prompt_alive(&mut sh);
    assert!(!sh.output().contains("panicked"), "{}", sh.output());
}

#[test]
fn symlink_loops_do_not_hang() {
    let (sb, dir) = fixture();
    let looped = sb.work("looped");
    std::os::unix::fs::symlink(".claude-provider.toml", looped.join(".claude-provider.toml")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("loop")).unwrap();
    let deep = dir.join("loop/loop/loop/loop/sub");
    for (place, expect) in [(&looped, "no project file"), (&deep, "allowed")] {
        let started = Instant::now();
        let out = sb.ccenv(place, &["status"]);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(expect),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn a_path_that_is_not_utf8_still_applies_and_restores() {
    use std::os::unix::ffi::OsStrExt;
    let (sb, _) = fixture();
    let odd = sb.path("work").join(std::ffi::OsStr::from_bytes(b"caf\xe9-\xff"));
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(odd.join(".claude-provider.toml"), "provider = \"glm\"\n").unwrap();
    let out = Command::new(common::CCENV)
        .arg("allow")
        .current_dir(&odd)
        .env_clear()
        .envs(sb.base_env())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let Some(mut sh) = shell(&sb) else { return };
    sh.run(&format!("cd '{}'", sb.path("work/outside").display()));
    let before = comparable(&sh.child_env());
    sh.run(&format!("cd {}/caf?-?", sb.path("work").display()));
    assert_eq!(sh.child_env()["ANTHROPIC_AUTH_TOKEN"], KEY);
    sh.run("cd ..");
    assert_eq!(comparable(&sh.child_env()), before);
}

/// Arguments that are not UTF-8 reach ccenv as they are: a DIR naming such a folder, and
/// `exec` passing bytes on to its command (its arguments are OsStrings for this).
#[test]
fn arguments_that_are_not_utf8_are_taken_as_they_are() {
    use std::os::unix::ffi::OsStrExt;
    let (sb, _) = fixture();
    let odd = sb.path("work").join(std::ffi::OsStr::from_bytes(b"caf\xe9-\xff"));
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(odd.join(".claude-provider.toml"), "provider = \"glm\"\n").unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        Command::new(common::CCENV)
            .args(args)
            .current_dir(&odd)
            .env_clear()
            .envs(sb.base_env())
            .output()
            .unwrap()
    };
    let out = run(&["allow".as_ref(), odd.as_os_str()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["status".as_ref(), odd.as_os_str()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("allowed"), "{out:?}");
    let out = run(&["exec".as_ref(), "--".as_ref(), "printf".as_ref(), "%s".as_ref(), odd.as_os_str()]);
    assert_eq!(out.stdout, odd.as_os_str().as_bytes(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn huge_and_deeply_nested_files_are_refused_quickly() {
    let (sb, dir) = fixture();
    let cases: [(PathBuf, String, &str); 4] = [
        (
            dir.join(".claude-provider.toml"),
            format!("provider = \"glm\"\n#{}\n", "x".repeat(10 << 20)),
            "at most",
        ),
        (
            dir.join(".claude-provider.toml"),
            format!("provider = \"glm\"\nx = {}{}\n", "[".repeat(10_000), "]".repeat(10_000)),
            ":2:",
        ),
        (sb.path("cfg/config.toml"), "#".repeat(10 << 20), "larger than"),
        (
            sb.path("cfg/config.toml"),
            format!("[providers.x]\nname = {}1{}\n", "{a = ".repeat(5_000), "}".repeat(5_000)),
            "config.toml:2:",
        ),
    ];
    for (file, text, expected) in cases {
        std::fs::write(&file, &text).unwrap();
        let started = Instant::now();
        let out = sb.ccenv(&dir, &["status"]);
        assert!(started.elapsed() < Duration::from_secs(3), "{expected}: too slow");
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(all.contains(expected), "{expected}: {all}");
        let _ = std::fs::remove_file(sb.path("cfg/config.toml"));
        std::fs::write(dir.join(".claude-provider.toml"), "provider = \"glm\"\nmodel = \"glm-4.7\"\n")
            .unwrap();
    }
}

#[test]
fn corrupt_stores_fail_safe() {
    let (sb, dir) = fixture();
    // A corrupt key store: the provider applies without a key, and says why.
    std::fs::write(sb.path("cfg/keys.toml"), "[keys\n").unwrap();
    let out = sb.ccenv_with(&dir, &["export", "--json"], &[("ANTHROPIC_API_KEY", "sk-ant-user")], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["unset"].as_array().unwrap().contains(&"ANTHROPIC_API_KEY".into()), "{v}");
    assert!(v["set"].get("ANTHROPIC_AUTH_TOKEN").is_none());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("corrupt"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e = sb.ccenv_with(sb.dir.path(), &["key", "set", "other"], &[], Some("x"));
    assert!(!e.status.success(), "a corrupt store is not overwritten (its other keys would be lost)");
    std::fs::remove_file(sb.path("cfg/keys.toml")).unwrap();
    sb.set_key("glm", KEY);

    // A corrupt trust record blocks (it never allows).
    let allow_dir = sb.path("data/allow");
    let record = std::fs::read_dir(&allow_dir).unwrap().flatten().next().unwrap().path();
    std::fs::write(&record, "garbage").unwrap();
    assert!(sb.ok(&dir, &["status"]).contains("changed since allowed"));
    sb.ok(&dir, &["allow"]);

    // A tampered or missing restore snapshot: what was applied is unset, with a notice.
    let out = sb.ccenv(&dir, &["export", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let state = v["set"]["CCENV_STATE"].as_str().unwrap().to_string();
    let id = state.split(';').nth(1).unwrap();
    std::fs::write(sb.path("data/state").join(id), "{\"ANTHROPIC_API_KEY\": \"stolen?\"}").unwrap();
    let out = sb.ccenv_with(
        &sb.work("outside"),
        &["export", "--json"],
        &[("CCENV_STATE", &state), ("ANTHROPIC_AUTH_TOKEN", KEY)],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["unset"].as_array().unwrap().contains(&"ANTHROPIC_AUTH_TOKEN".into()), "{v}");
    assert!(v["set"].get("ANTHROPIC_API_KEY").is_none(), "a tampered snapshot is not trusted: {v}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("restore state lost"));
    // A forged CCENV_STATE cannot point outside the state folder.
    let forged = "1;../../../../../../etc/passwd;ANTHROPIC_API_KEY;/";
    let out = sb.ccenv_with(&sb.work("outside"), &["export", "--json"], &[("CCENV_STATE", forged)], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("malformed"));
}

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status();
        if ok.is_ok_and(|s| s.success()) {
            return Some(Mount(dir.to_path_buf()));
        }
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: cannot mount a tmpfs here (needs root); full and read-only file systems untested"
        );
        None
    }
    fn read_only(&self) {
        assert!(Command::new("mount").args(["-o", "remount,ro"]).arg(&self.0).status().unwrap().success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn full_and_read_only_file_systems() {
    let (sb, dir) = fixture();
    let data = sb.path("data2");
    let Some(mount) = Mount::tmpfs(&data, "64k") else { return };
    let env = [("CCENV_DATA_DIR", data.to_str().unwrap())];
    sb.ccenv_with(&dir, &["allow"], &env, None);
    // Fill the file system.
    let mut filler = std::fs::File::create(data.join("filler")).unwrap();
    let _ = filler.write_all(&vec![0u8; 1 << 20]);
    drop(filler); // a file open for writing would keep the later read-only remount busy
    let b = sb.project("b", "glm", "");
    let out = sb.ccenv_with(&b, &["allow"], &env, None);
    assert!(!out.status.success(), "allow on a full disk must fail");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot write"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The hook on a full disk: nothing new applies, what was applied is unloaded.
    let out = sb.ccenv_with(&dir, &["hook-env", "bash", "1", ""], &env, None);
    assert!(out.status.success());
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(!script.contains("ANTHROPIC_AUTH_TOKEN="), "{script}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot save the restore state"));

    std::fs::remove_file(data.join("filler")).unwrap();
    mount.read_only();
    let out = sb.ccenv_with(&b, &["allow"], &env, None);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("Read-only"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sb.ccenv_with(&sb.work("outside"), &["hook-env", "bash", "1", ""], &env, None);
    assert!(out.status.success(), "the hook keeps working on a read-only store");
}

#[test]
fn racing_writers_lose_nothing() {
    let sb = Sandbox::new();
    let projects: Vec<PathBuf> = (0..20)
        .map(|i| {
            let d = sb.work(&format!("p{i}"));
            sb.write(&d.join(".claude-provider.toml"), "provider = \"glm\"\n");
            d
        })
        .collect();
    for round in 0..3 {
        let mut children = Vec::new();
        for (i, project) in projects.iter().enumerate() {
            let mut key = Command::new(common::CCENV);
            key.args(["key", "set", &format!("k{i}")])
                .env_clear()
                .envs(sb.base_env())
                .stdin(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null());
            let mut child = key.spawn().unwrap();
            child.stdin.take().unwrap().write_all(format!("secret-{round}-{i}").as_bytes()).unwrap();
            children.push(child);
            children.push(
                Command::new(common::CCENV)
                    .arg("allow")
                    .current_dir(project)
                    .env_clear()
                    .envs(sb.base_env())
                    .env("PWD", project)
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            // Two shells' worth of hook runs reading the same stores.
            children.push(
                Command::new(common::CCENV)
                    .args(["hook-env", "bash", &i.to_string()])
                    .current_dir(project)
                    .env_clear()
                    .envs(sb.base_env())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            );
        }
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        let list = sb.ok(sb.dir.path(), &["key", "list"]);
        assert_eq!(list.lines().count(), 20, "round {round}: {list}");
        let keys = std::fs::read_to_string(sb.path("cfg/keys.toml")).unwrap();
        for i in 0..20 {
            assert!(keys.contains(&format!("k{i} = \"secret-{round}-{i}\"")), "round {round} lost k{i}");
        }
        for p in &projects {
            assert!(sb.ok(p, &["status"]).contains("state     allowed"));
        }
    }
}

#[test]
fn trust_cannot_be_bypassed() {
    let (sb, a) = fixture();
    // A symlink, or a hard link, to an allowed file is not allowed at its own path.
    let b = sb.work("b");
    std::os::unix::fs::symlink(a.join(".claude-provider.toml"), b.join(".claude-provider.toml")).unwrap();
    assert!(sb.ok(&b, &["status"]).contains("not allowed yet"));
    let c = sb.work("c");
    std::fs::hard_link(a.join(".claude-provider.toml"), c.join(".claude-provider.toml")).unwrap();
    assert!(sb.ok(&c, &["status"]).contains("not allowed yet"));
    // Moving an allowed project.
    let moved = sb.path("work/moved");
    std::fs::rename(&a, &moved).unwrap();
    assert!(sb.ok(&moved, &["status"]).contains("not allowed yet"));
    std::fs::rename(&moved, &a).unwrap();
    assert!(sb.ok(&a, &["status"]).contains("state     allowed"));
    // Changing only the .local file.
    std::fs::write(a.join(".claude-provider.local.toml"), "base_url = \"https://evil.example/anthropic\"\n")
        .unwrap();
    assert!(sb.ok(&a, &["status"]).contains("changed since allowed"));
    let out = sb.ccenv(&a, &["exec", "--", "true"]);
    assert!(!out.status.success(), "exec refuses a blocked project");
}
