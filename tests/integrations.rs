//! Fitting into people's tools: completions, man page, prompt integration (`status
//! --short`, starship), direnv and mise recipes, `ccenv watch`, and CLI manners.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{CCENV, Sandbox, Shell, comparable, have};

const README: &str = include_str!("../README.md");

/// The fenced block of `README.md` whose info string is exactly `info`.
fn readme_block(info: &str) -> String {
    let start =
        README.find(&format!("```{info}\n")).unwrap_or_else(|| panic!("README has no ```{info} block"));
    let body = &README[start + info.len() + 4..];
    body[..body.find("```").unwrap()].to_string()
}

#[test]
fn completions_work_in_real_shells() {
    let sb = Sandbox::new();
    if have("bash") {
        let script = sb.path("out/c.bash");
        std::fs::write(&script, sb.ok(sb.dir.path(), &["completions", "bash"])).unwrap();
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("source '{}'; COMP_WORDS=(ccenv key ''); COMP_CWORD=2; _ccenv ccenv '' key; echo \"${{COMPREPLY[@]}}\"", script.display()))
            .output()
            .unwrap();
        let words = String::from_utf8_lossy(&out.stdout);
        for w in ["set", "list", "rm"] {
            assert!(words.split_whitespace().any(|x| x == w), "bash: {words}");
        }
    }
    if have("fish") {
        let script = sb.path("out/c.fish");
        std::fs::write(&script, sb.ok(sb.dir.path(), &["completions", "fish"])).unwrap();
        let out = Command::new("fish")
            .args(["--no-config", "-c", &format!("source '{}'; complete -C 'ccenv hook '", script.display())])
            .output()
            .unwrap();
        let words = String::from_utf8_lossy(&out.stdout);
        for w in ["bash", "zsh", "fish", "powershell", "cmd"] {
            assert!(words.lines().any(|l| l.starts_with(w)), "fish: {words}");
        }
        let out = Command::new("fish")
            .args(["--no-config", "-c", &format!("source '{}'; complete -C 'ccenv '", script.display())])
            .output()
            .unwrap();
        let words = String::from_utf8_lossy(&out.stdout);
        assert!(words.lines().any(|l| l.starts_with("doctor")), "fish: {words}");
        assert!(
            !words.lines().any(|l| l.starts_with("hook-env")),
            "fish offers the hidden hook-env: {words}"
        );
    }
    if have("zsh") {
        let script = sb.path("out/_ccenv");
        std::fs::write(&script, sb.ok(sb.dir.path(), &["completions", "zsh"])).unwrap();
        assert!(Command::new("zsh").arg("-n").arg(&script).status().unwrap().success());
        assert!(std::fs::read_to_string(&script).unwrap().starts_with("#compdef ccenv"));
    }
    let ps = sb.ok(sb.dir.path(), &["completions", "powershell"]);
    assert!(ps.contains("Register-ArgumentCompleter") && ps.contains("'doctor'"));
    if have("lua5.4") {
        let lua = sb.path("out/clink_completions.lua");
        let stand_in = "local seen = {}\nlocal m = {}\nm.__index = m\nfunction m:addarg(t) for _, v in ipairs(t) do seen[#seen + 1] = tostring(v) end return self end\nfunction m:addflags(t) for _, v in ipairs(t) do seen[#seen + 1] = tostring(v) end return self end\nm.__concat = function(a, b) return a end\nclink = { argmatcher = function(name) return setmetatable({}, m) end }\ndofile(arg[1])\nprint(table.concat(seen, ' '))\n";
        std::fs::write(&lua, sb.ok(sb.dir.path(), &["completions", "cmd"])).unwrap();
        let runner = sb.path("out/run.lua");
        std::fs::write(&runner, stand_in).unwrap();
        let out = Command::new("lua5.4").arg(&runner).arg(&lua).output().unwrap();
        let words = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        for w in ["hook", "doctor", "claude-settings", "--online", "powershell"] {
            assert!(words.contains(w), "clink: {words}");
        }
    }
}

#[test]
fn the_man_page_renders() {
    let sb = Sandbox::new();
    let page = sb.path("out/ccenv.1");
    std::fs::write(&page, sb.ok(sb.dir.path(), &["man"])).unwrap();
    if !have("man") {
        return;
    }
    let out = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Pin a Claude Code provider per repository"), "{text}");
    for sub in ["hook", "export", "doctor", "import", "claude-settings"] {
        assert!(text.contains(sub), "{sub} missing from the man page");
    }
}

#[test]
fn status_short_prints_what_the_shell_applied() {
    let sb = Sandbox::new();
    let out = sb.ccenv_with(sb.dir.path(), &["status", "--short"], &[("CCENV_PROVIDER", "glm")], None);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "glm\n");
    assert_eq!(sb.ok(sb.dir.path(), &["status", "--short"]), "");
    if !have("script") {
        return;
    }
    sb.set_key("glm", "sk-glm-0123456789abcdef");
    let dir = sb.project("app", "glm", "");
    let mut sh = Shell::start(&sb, "bash", &[]);
    let file = sb.path("out/short");
    sh.run(&format!("cd '{}' && ccenv status --short > '{}'", dir.display(), file.display()));
    sh.run(&format!("ccenv status --short > '{}'", file.display()));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "glm\n");
    sh.exit();
}

#[test]
fn the_starship_module_from_the_readme_shows_the_provider() {
    if !have("starship") {
        return;
    }
    let sb = Sandbox::new();
    let config = sb.path("out/starship.toml");
    std::fs::write(&config, format!("format = \"$custom\"\n{}", readme_block("toml starship"))).unwrap();
    let run = |provider: Option<&str>| {
        let mut c = Command::new("starship");
        c.args(["prompt"])
            .current_dir(sb.dir.path())
            .env_clear()
            .envs(sb.base_env())
            .env("TERM", "xterm-256color") // starship turns itself off under TERM=dumb
            .env("STARSHIP_CONFIG", &config);
        if let Some(p) = provider {
            c.env("CCENV_PROVIDER", p);
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    assert!(run(Some("kimi-coding")).contains("kimi-coding"), "{}", run(Some("kimi-coding")));
    assert!(!run(None).contains("ccenv"), "{}", run(None));
}

fn direnv_or_mise(tool: &str) {
    if !have(tool) || !have("script") {
        return;
    }
    let sb = Sandbox::new();
    sb.set_key("glm", "sk-glm-0123456789abcdef");
    let dir = sb.project("app", "glm", "model = \"glm-4.7\"\n");
    let outside = sb.work("outside");
    let (file, body) = match tool {
        "direnv" => (".envrc", readme_block("sh envrc")),
        _ => ("mise.toml", readme_block("toml mise")),
    };
    sb.write(&dir.join(file), &body);
    if tool == "mise" {
        sb.write(&dir.join(".ccenv.sh"), &readme_block("sh mise-source"));
    }
    for with_ccenv_hook in [false, true] {
        let env = [("ANTHROPIC_API_KEY", "sk-ant-user"), ("XDG_CONFIG_HOME", ""), ("MISE_YES", "1")];
        let mut sh = Shell::start(&sb, "bash", &env);
        if !with_ccenv_hook {
            // Start over without the ccenv hook that Shell::start installs.
            sh.run("PROMPT_COMMAND=''; unset CCENV_SHELL");
        }
        match tool {
            "direnv" => {
                sh.run("eval \"$(direnv hook bash)\"");
                sh.run(&format!("direnv allow '{}'", dir.display()));
            }
            _ => {
                sh.run("eval \"$(mise activate bash)\"");
                sh.run(&format!("mise trust '{}' >/dev/null 2>&1", dir.join(file).display()));
            }
        }
        // mise keeps its own session state in exported variables that change by design.
        let ours = |e: &std::collections::BTreeMap<String, String>| {
            let mut e = comparable(e);
            e.retain(|k, _| !k.starts_with("__MISE_"));
            e
        };
        sh.run(&format!("cd '{}'", outside.display()));
        let before = ours(&sh.child_env());
        sh.run(&format!("cd '{}'", dir.display()));
        sh.enter();
        let inside = sh.child_env();
        assert_eq!(
            inside.get("ANTHROPIC_AUTH_TOKEN").map(String::as_str),
            Some("sk-glm-0123456789abcdef"),
            "{tool} (hook {with_ccenv_hook}): {}",
            sh.output()
        );
        // mise can only set: the removed key is blanked (--blank-removed), never left as it was.
        let key = inside.get("ANTHROPIC_API_KEY").map(String::as_str);
        assert!(
            key.is_none() || (tool == "mise" && key == Some("")),
            "{tool}: the user's key is still set: {key:?}"
        );
        assert_eq!(inside["ANTHROPIC_MODEL"], "glm-4.7");
        sh.enter();
        sh.enter();
        let again = sh.child_env();
        assert_eq!(ours(&again), ours(&inside), "{tool} and ccenv do not fight (hook {with_ccenv_hook})");
        sh.run(&format!("cd '{}'", outside.display()));
        sh.enter();
        assert_eq!(ours(&sh.child_env()), before, "{tool} restores (hook {with_ccenv_hook})");
        sh.exit();
    }
}

#[test]
fn the_direnv_recipe_works_alone_and_beside_the_hook() {
    direnv_or_mise("direnv");
}

#[test]
fn the_mise_recipe_works_alone_and_beside_the_hook() {
    direnv_or_mise("mise");
}

#[test]
fn watch_reports_each_change_as_a_json_line() {
    // Not under /tmp: watch follows DIR's ancestors, and other tests' writes in /tmp would
    // wake it, hiding a change it missed.
    let sb = Sandbox::new_in(Path::new(env!("CARGO_TARGET_TMPDIR")));
    let dir = sb.work("app/sub");
    let mut child = Command::new(CCENV)
        .args(["watch", dir.to_str().unwrap()])
        .env_clear()
        .envs(sb.base_env())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(serde_json::from_str::<serde_json::Value>(&line).unwrap());
        }
    });
    let next = |what: &str| {
        rx.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| panic!("no line after: {what}"))
    };
    assert!(next("start")["state"].as_str().unwrap().starts_with("no project"));
    let project = sb.path("work/app/.claude-provider.toml");
    std::fs::write(&project, "provider = \"glm\"\n").unwrap();
    assert!(next("create")["state"].as_str().unwrap().contains("not allowed"));
    sb.ok(&dir, &["allow"]);
    let v = next("allow");
    assert_eq!((v["state"].as_str(), v["provider"]["id"].as_str()), (Some("allowed"), Some("glm")));
    sb.set_key("glm", "sk-glm-watch-0123456789");
    let v = next("key set");
    assert!(v["provider"]["key"].as_str().unwrap().starts_with("sk-g…"), "{v}");
    assert!(!v.to_string().contains("sk-glm-watch-0123456789"), "a key in watch output");
    sb.write(&sb.path("cfg/config.toml"), "[providers.glm]\nmodel = \"from-config\"\n");
    assert_eq!(next("user config")["provider"]["models"]["main"], "from-config");
    std::fs::write(sb.path("work/app/.claude-provider.local.toml"), "model = \"local\"\n").unwrap();
    assert!(next(".local")["state"].as_str().unwrap().contains("changed since allowed"));
    sb.ok(&dir, &["deny"]);
    assert!(next("deny")["state"].as_str().unwrap().starts_with("denied"));
    // The project folder deleted and made again (a re-clone): edits in the new folder are seen.
    std::fs::remove_dir_all(sb.path("work/app")).unwrap();
    assert!(next("rm -rf")["state"].as_str().unwrap().starts_with("no project"));
    std::fs::create_dir_all(&dir).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&project, "provider = \"glm\"\nmodel = \"again\"\n").unwrap();
    let v = next("a file in the new folder");
    assert!(v["state"].as_str().unwrap().starts_with("denied"), "{v}");
    sb.ok(&dir, &["allow"]);
    assert_eq!(next("allow again")["provider"]["models"]["main"], "again");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn manners_version_no_color_and_exit_codes() {
    let sb = Sandbox::new();
    assert_eq!(sb.ok(sb.dir.path(), &["--version"]), format!("ccenv {}\n", env!("CARGO_PKG_VERSION")));
    let usage = sb.ccenv(sb.dir.path(), &["hook", "tcsh"]);
    assert_eq!(usage.status.code(), Some(2), "usage errors exit 2");
    assert!(usage.stdout.is_empty() && !usage.stderr.is_empty(), "errors go to stderr");
    let error = sb.ccenv(sb.dir.path(), &["deny"]);
    assert_eq!(error.status.code(), Some(1), "errors exit 1");
    assert!(String::from_utf8_lossy(&error.stderr).starts_with("ccenv: error: "));
    if have("script") {
        let colored = |no_color: bool| {
            let mut c = Command::new("script");
            c.args(["-q", "-e", "-c", &format!("{CCENV} --help"), "/dev/null"]).env("TERM", "xterm-256color");
            if no_color {
                c.env("NO_COLOR", "1");
            } else {
                c.env_remove("NO_COLOR");
            }
            String::from_utf8_lossy(&c.output().unwrap().stdout).contains('\u{1b}')
        };
        assert!(colored(false), "help is styled on a terminal");
        assert!(!colored(true), "NO_COLOR turns styling off");
    }
}

/// Each command writes its output to stdout in one write, so a reader that stops early
/// (`| grep -q`, `| head -1`) cannot make a later write fail the pipeline under pipefail.
#[test]
fn data_output_is_one_write() {
    let sb = Sandbox::new();
    sb.set_key("glm", "sk-glm-abcdefghijklmnop");
    let dir = sb.project("p", "glm", "[env]\nAPI_TIMEOUT_MS = \"3000000\"\n");
    // What users type: both must hold every time, not just usually.
    let path = sb.base_env().into_iter().find(|(k, _)| k == "PATH").unwrap().1;
    for _ in 0..30 {
        let out = Command::new("bash")
            .args([
                "-e",
                "-o",
                "pipefail",
                "-c",
                "ccenv status --json | grep -q '\"base_url\"'; ccenv man | head -1 >/dev/null",
            ])
            .current_dir(&dir)
            .env_clear()
            .envs(sb.base_env())
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    if !have("strace") {
        return;
    }
    let log = sb.path("out/write.log");
    let cases: &[&[&str]] = &[
        &["status"],
        &["status", "--json"],
        &["providers"],
        &["providers", "--json"],
        &["key", "list"],
        &["doctor"],
        &["doctor", "--json"],
        &["export", "--json"],
        &["export", "--shell", "bash"],
        &["export", "--shell", "powershell"],
        &["hook", "zsh"],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["completions", "cmd"],
        &["man"],
    ];
    for args in cases {
        let mut full = vec!["-f", "-qq", "-e", "trace=write,writev", "-e", "signal=none", "-o"];
        let log_s = log.to_str().unwrap();
        full.push(log_s);
        full.push(CCENV);
        full.extend_from_slice(args);
        let out = Command::new("strace")
            .args(&full)
            .current_dir(&dir)
            .env_clear()
            .envs(sb.base_env())
            .env("PWD", &dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            !out.stdout.is_empty(),
            "ccenv {args:?} printed nothing: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let trace = std::fs::read_to_string(&log).unwrap();
        let call = |l: &str| l.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ').to_string();
        let writes = trace
            .lines()
            .map(call)
            .filter(|l| l.starts_with("write(1,") || l.starts_with("writev(1,"))
            .count();
        assert_eq!(writes, 1, "ccenv {args:?} wrote stdout in {writes} pieces:\n{trace}");
    }
}
