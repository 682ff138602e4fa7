//! Test support: an isolated sandbox (HOME, config and data folders), a driver for
//! real interactive shells through a pty, and a loud skip for missing tools.
#![allow(dead_code)]

pub mod server;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const CCENV: &str = env!("CARGO_BIN_EXE_ccenv");
/// Every sandbox's config.toml to start with.
pub const TEST_CONFIG: &str = "[env]\nallow = [\"T_*\"]\n";

/// Is `tool` on PATH? When not: fail under CCENV_REQUIRE_ALL (CI installs everything),
/// else print a SKIPPED line that cargo does not capture.
pub fn have(tool: &str) -> bool {
    if which(tool).is_some() {
        return true;
    }
    if std::env::var_os("CCENV_REQUIRE_ALL").is_some() {
        panic!("{tool} is required (CCENV_REQUIRE_ALL is set) but not on PATH");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED: `{tool}` is not installed; this test did not run");
    false
}

pub fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox::new_in(&std::env::temp_dir())
    }

    /// A sandbox under `base`: for tests that watch its ancestors and want them quiet.
    pub fn new_in(base: &Path) -> Sandbox {
        let s = Sandbox { dir: tempfile::Builder::new().prefix("ccenv-test-").tempdir_in(base).unwrap() };
        for d in ["home", "cfg", "data", "work", "out"] {
            std::fs::create_dir_all(s.path(d)).unwrap();
        }
        // The tests' own `[env]` variables (T_A, T_<index>, …) are not on ccenv's built-in
        // allowlist; the user's config.toml allows them, as a user would.
        s.write(&s.path("cfg/config.toml"), TEST_CONFIG);
        s
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn work(&self, rel: &str) -> PathBuf {
        let p = self.path("work").join(rel);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// The environment every process in the sandbox starts from.
    pub fn base_env(&self) -> Vec<(String, String)> {
        let bin = Path::new(CCENV).parent().unwrap().to_string_lossy().into_owned();
        let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
        vec![
            ("PATH".into(), path),
            ("HOME".into(), self.path("home").to_string_lossy().into()),
            ("CCENV_CONFIG_DIR".into(), self.path("cfg").to_string_lossy().into()),
            ("CCENV_DATA_DIR".into(), self.path("data").to_string_lossy().into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("TERM".into(), "dumb".into()),
        ]
    }

    pub fn ccenv(&self, dir: &Path, args: &[&str]) -> Output {
        self.ccenv_with(dir, args, &[], None)
    }

    pub fn ccenv_with(&self, dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
        let mut c = Command::new(CCENV);
        c.args(args).current_dir(dir).env_clear().envs(self.base_env()).env("PWD", dir);
        c.envs(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        c.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs ccenv and requires success.
    pub fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.ccenv(dir, args);
        assert!(out.status.success(), "ccenv {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn set_key(&self, name: &str, secret: &str) {
        let out = self.ccenv_with(self.dir.path(), &["key", "set", name], &[], Some(secret));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn write(&self, path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A project that allows itself, with `body` after the provider line.
    pub fn project(&self, rel: &str, provider: &str, body: &str) -> PathBuf {
        let dir = self.work(rel);
        self.write(&dir.join(".claude-provider.toml"), &format!("provider = \"{provider}\"\n{body}"));
        self.ok(&dir, &["allow"]);
        dir
    }

    /// A user provider pointing at `base_url`, for tests that must not leave the machine.
    pub fn user_provider(&self, id: &str, base_url: &str, extra: &str) {
        self.write(
            &self.path("cfg/config.toml"),
            &format!("{TEST_CONFIG}[providers.{id}]\nbase_url = \"{base_url}\"\nauth = \"bearer\"\n{extra}"),
        );
    }
}

/// A real interactive shell on a pty (util-linux `script`), fed line by line.
pub struct Shell {
    pub kind: &'static str,
    child: Child,
    stdin: ChildStdin,
    output: Arc<Mutex<Vec<u8>>>,
    sync_dir: PathBuf,
    step: usize,
    /// How far `sync` has read the output: each search scans only what came after (a
    /// walk's output grows to megabytes; rescanning all of it on every poll was slow).
    seen: usize,
    /// How long one step may take (raise it for slow commands such as `claude -p`).
    pub timeout: Duration,
}

impl Shell {
    /// Starts `kind` with no startup files and installs the hook.
    pub fn start(sandbox: &Sandbox, kind: &'static str, env: &[(&str, &str)]) -> Shell {
        Self::start_wrapped(sandbox, kind, env, "")
    }

    /// `wrapper` is prepended to the shell command (e.g. `strace … `).
    pub fn start_wrapped(
        sandbox: &Sandbox,
        kind: &'static str,
        env: &[(&str, &str)],
        wrapper: &str,
    ) -> Shell {
        let sync_dir =
            tempfile::Builder::new().prefix("sync").tempdir_in(sandbox.path("out")).unwrap().keep();
        let mut c = Command::new("script");
        c.args(["-q", "-f", "-e", "-c", &format!("{wrapper}{}", start_command(kind)), "/dev/null"]);
        c.current_dir(sandbox.path("work")).env_clear().envs(sandbox.base_env());
        c.envs(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("script(1) from util-linux");
        let stdin = child.stdin.take().unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        for mut stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    output.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
        let mut sh = Shell {
            kind,
            child,
            stdin,
            output,
            sync_dir,
            step: 0,
            seen: 0,
            timeout: Duration::from_secs(30),
        };
        sh.send(prompt_line(kind));
        sh.run(hook_line(kind));
        sh
    }

    /// Types `line`, then waits until it and the prompt hook after it have run.
    pub fn run(&mut self, line: &str) {
        self.send(line);
        self.sync();
    }

    pub fn send(&mut self, line: &str) {
        self.stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Starts the same shell inside this one, with the test prompt and the hook.
    pub fn nest(&mut self) {
        self.send(start_command(self.kind));
        self.send(prompt_line(self.kind));
        self.run(hook_line(self.kind));
    }

    /// Presses Enter on an empty line.
    pub fn enter(&mut self) {
        self.send("");
    }

    /// Waits until every line typed so far has run, the prompt hook after the last one has
    /// finished, and everything they printed has been read: commands run in order, the
    /// hook runs before each prompt is drawn, and the pty is one ordered stream, so once
    /// the prompt after the marker's output arrives, all earlier output has too. Waiting
    /// for the marker alone would race the hook that runs after it against whatever the
    /// test does next. (The typed line echoes as `'@@%s@@\n' N`, never as the marker.)
    pub fn sync(&mut self) {
        self.step += 1;
        let marker = format!("@@{}@@", self.step);
        self.send(&format!("command printf '@@%s@@\\n' {}", self.step));
        let deadline = Instant::now() + self.timeout;
        let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
        loop {
            let found = {
                let out = self.output.lock().unwrap();
                let from = self.seen.min(out.len());
                find(&out[from..], marker.as_bytes())
                    .map(|i| from + i + marker.len())
                    .and_then(|after| find(&out[after..], PROMPT.as_bytes()).map(|j| after + j))
            };
            if let Some(at) = found {
                self.seen = at + PROMPT.len();
                return;
            }
            if Instant::now() > deadline {
                panic!("{} did not reach step {}; output so far:\n{}", self.kind, self.step, self.output());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The environment a child process of this shell sees now.
    pub fn child_env(&mut self) -> BTreeMap<String, String> {
        self.step += 1;
        let file = self.sync_dir.join(format!("env{}", self.step));
        self.run(&format!("command env -0 > '{}'", file.display()));
        // Lossy only matters for PWD in a non-UTF-8 directory (not compared).
        read_env(&file, false)
    }

    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).replace('\r', "")
    }

    /// Lines ccenv itself printed (its messages all start with `ccenv: `).
    pub fn ccenv_messages(&self) -> Vec<String> {
        self.output()
            .lines()
            .filter_map(|l| l.find("ccenv: ").map(|i| l[i..].to_string()))
            .filter(|l| !l.contains("command printf") && !l.contains("command env"))
            .collect()
    }

    pub fn exit(mut self) {
        self.send("exit");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The variables in a file written by `env -0`. `strict`: every name and value must be
/// UTF-8 (round trips of values, where a mangled byte is the failure being looked for).
pub fn read_env(path: &Path, strict: bool) -> BTreeMap<String, String> {
    std::fs::read(path)
        .unwrap()
        .split(|b| *b == 0)
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            assert!(!strict || std::str::from_utf8(kv).is_ok(), "not UTF-8: {kv:?}");
            let s = String::from_utf8_lossy(kv);
            let (k, v) = s.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

pub fn start_command(kind: &str) -> &'static str {
    match kind {
        "bash" => "bash --norc --noprofile -i",
        "zsh" => "zsh -f -i",
        "fish" => "fish --no-config -i",
        other => panic!("unknown shell {other}"),
    }
}

/// The prompt every test shell draws, so `sync` can tell when the hook before it is done.
pub const PROMPT: &str = "<ccenv-test-prompt> ";

/// Sets the prompt to `PROMPT` (no escapes in it for any shell's prompt language).
pub fn prompt_line(kind: &str) -> &'static str {
    match kind {
        "bash" | "zsh" => "PS1='<ccenv-test-prompt> '",
        "fish" => "function fish_prompt; printf '%s' '<ccenv-test-prompt> '; end",
        other => panic!("unknown shell {other}"),
    }
}

pub fn hook_line(kind: &str) -> &'static str {
    match kind {
        "bash" => "eval \"$(ccenv hook bash)\"",
        "zsh" => "eval \"$(ccenv hook zsh)\"",
        "fish" => "ccenv hook fish | source",
        other => panic!("unknown shell {other}"),
    }
}

/// Only the variables ccenv may touch, for comparing environments.
pub fn managed_view(env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    env.iter()
        .filter(|(k, _)| {
            k.starts_with("ANTHROPIC_")
                || k.starts_with("CLAUDE_CODE_")
                || k.starts_with("CCENV_P")
                || k.starts_with("CCENV_STATE")
                || k.starts_with("API_TIMEOUT")
                || k.starts_with("T_")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Everything but the variables a shell changes on its own (PWD, SHLVL, `_`, …).
pub fn comparable(env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    const SHELL_OWNED: &[&str] = &["PWD", "OLDPWD", "SHLVL", "_", "LINES", "COLUMNS", "CCENV_SHELL"];
    env.iter()
        .filter(|(k, _)| !SHELL_OWNED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// shells.md §10: the quote, escape and expansion characters of every supported shell
/// (and of Lua, for Clink), control characters and non-ASCII. Every round-trip test
/// starts from these and adds its own (canaries, long values).
pub fn hostile_values() -> Vec<String> {
    [
        "",
        "'",
        "''",
        "\\",
        "a\\",
        "\\'",
        "\\\\'",
        "\"",
        "\"\"",
        "\"&\"",
        "a\"&echo PWNED&rem \"",
        "x\" & echo PWNED & \"",
        "${HOME}",
        "%PATH%",
        "%%",
        "100%",
        "!",
        "!!",
        "!PATH!",
        "^",
        "^!",
        "\"^",
        "^a^b",
        "a b  c ",
        "-e",
        "--help",
        "\n",
        "x\n\n",
        "\r\n",
        "\t",
        "\u{1b}[31m",
        "\u{7f}",
        "\u{1a}",
        "\u{a0}",
        "‘’‚‛",
        "x’; Write-Host pwned; ’",
        "“”„",
        "é",
        "日本",
        "😀",
        "Ē",
        "{a,b}",
        "*?[",
        ";&|<>()~",
        "a=b==c",
        "=enabled",
        "=ls",
        "~",
        "~root/x",
        "https://h/p?a=1&b=2#f",
        "$'\\x41'",
        "\\x41",
        "$",
        "$$",
        "#",
        "set -gx PWNED 1",
        "end",
        "'\\''",
        "\\\n",
        "(echo PWNED)",
        "\\'; echo PWNED; #",
        "`",
        "`n",
        "$(whoami)",
        "$env:PATH",
        "@(1)",
        "${x}",
        "“x”",
        "; Remove-Item -Recurse C:\\",
        "[char]0x41",
        "!x!",
        "&",
        "|",
        "<>",
        "()",
        "{}",
        "]]",
        "--[[",
        "\\0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Seeded, so a failure reproduces: full Unicode (no NUL, no surrogates), weighted
/// toward the characters that end strings in some shell.
pub fn random_values(count: usize, seed: u64) -> Vec<String> {
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const SPECIAL: &[char] = &[
        '\'', '"', '\\', '$', '`', '!', '\n', '\r', '\t', '%', '^', '&', ';', '(', ')', '#', '’', '‘', '‚',
        '‛', ' ',
    ];
    (0..count)
        .map(|_| {
            let len = (next() % 40) as usize;
            (0..len)
                .map(|_| match next() % 4 {
                    0 | 1 => SPECIAL[(next() % SPECIAL.len() as u64) as usize],
                    2 => char::from_u32((next() % 0x7e) as u32 + 1).unwrap(),
                    _ => loop {
                        if let Some(ch) = char::from_u32((next() % 0x10FFFF) as u32).filter(|c| *c != '\0') {
                            break ch;
                        }
                    },
                })
                .collect()
        })
        .collect()
}

/// Splits values into groups that fit one project file (64 KiB), keeping their indexes.
pub fn batches(values: &[String]) -> Vec<Vec<(usize, String)>> {
    let mut out: Vec<Vec<(usize, String)>> = vec![Vec::new()];
    let mut size = 0;
    for (i, v) in values.iter().enumerate() {
        let cost = v.len() * 6 + 16; // worst case for TOML's \uXXXX escapes
        if size + cost > 60_000 && !out.last().unwrap().is_empty() {
            out.push(Vec::new());
            size = 0;
        }
        size += cost;
        out.last_mut().unwrap().push((i, v.clone()));
    }
    out
}

/// An allowed `ollama` project whose `[env]` sets `T_<index>` to each value.
pub fn env_project(sb: &Sandbox, rel: &str, values: &[(usize, String)]) -> PathBuf {
    let mut text = String::from("provider = \"ollama\"\n[env]\n");
    for (i, v) in values {
        text.push_str(&format!("T_{i} = {}\n", toml::Value::String(v.clone())));
    }
    let dir = sb.work(rel);
    sb.write(&dir.join(".claude-provider.toml"), &text);
    sb.ok(&dir, &["allow"]);
    dir
}

/// `values` paired with their indexes, for `env_project`.
pub fn indexed<S: AsRef<str>>(values: &[S]) -> Vec<(usize, String)> {
    values.iter().map(|v| v.as_ref().to_string()).enumerate().collect()
}
