//! The Windows build, run under wine: what no Linux build exercises. `%APPDATA%` folders
//! from `dirs`, CRLF project files, the Windows code behind `cfg` (exec, paths, trust ids,
//! a key store without Unix modes), case-insensitive names, and wine's cmd.exe applying
//! the real ccenv.exe's output through `for /f ('…')`.
//!
//! Needs the `x86_64-pc-windows-gnu` Rust target, mingw-w64 and wine. CI installs the last
//! two; the Rust target comes from rustup, not from a package registry. So the test is
//! `#[ignore]`d (cargo prints "ignored" and the reason, never "ok" for a test that did not
//! run), and `.ci/run` runs it with `--ignored` where the target exists and prints a
//! NOT RUN line where it does not. Asked for explicitly, a missing target fails. wine 8 lacks
//! bcryptprimitives.dll, which Rust's std imports; a small stand-in
//! (tests/windows/bcryptprimitives.c) is built beside the exe.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::have;

const TARGET: &str = "x86_64-pc-windows-gnu";

struct Wine {
    exe: PathBuf,
    prefix: PathBuf,
}

fn windows_path(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}

fn skip(why: &str) -> Option<Wine> {
    panic!("{why}: the Windows build cannot be tested here");
}

/// Builds ccenv.exe (its own target folder, so the running `cargo test` keeps its lock)
/// and a wine prefix of its own, or says why not.
fn setup() -> Option<Wine> {
    if !have("wine") || !have("x86_64-w64-mingw32-gcc") {
        return skip("wine and mingw-w64 are needed");
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc).args(["--print", "sysroot"]).output().unwrap();
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot.join("lib/rustlib").join(TARGET).join("lib").is_dir() {
        return skip(&format!("the {TARGET} Rust target is not installed (`rustup target add {TARGET}`)"));
    }
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("windows");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--locked", "--bin", "ccenv", "--target", TARGET])
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "the Windows build failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let exe = target_dir.join(TARGET).join("debug/ccenv.exe");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/windows");
    let out = Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(exe.with_file_name("bcryptprimitives.dll"))
        .arg(src.join("bcryptprimitives.c"))
        .arg(src.join("bcryptprimitives.def"))
        .arg("-ladvapi32")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // One prefix for all runs (making one takes ~10 s); ccenv's folders in it start empty.
    let prefix = std::env::temp_dir().join("ccenv-test-wineprefix-windows");
    let wine = Wine { exe, prefix };
    wine.cmd(&std::env::temp_dir(), "ver");
    let _ = std::fs::remove_dir_all(wine.appdata().join("ccenv"));
    Some(wine)
}

impl Wine {
    fn command(&self, program: &str, dir: &Path) -> Command {
        let mut c = Command::new("wine");
        c.arg(program).current_dir(dir).env_clear();
        c.env("WINEPREFIX", &self.prefix).env("WINEDEBUG", "-all").env("LANG", "C.UTF-8");
        for k in ["PATH", "HOME", "USER"] {
            if let Some(v) = std::env::var_os(k) {
                c.env(k, v);
            }
        }
        c
    }

    fn ccenv(&self, dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
        self.ccenv_with(dir, args, stdin, &[])
    }

    fn ccenv_with(&self, dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut c = self.command(self.exe.to_str().unwrap(), dir);
        c.args(args).envs(env.iter().copied()).stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.ccenv(dir, args, None);
        assert!(out.status.success(), "ccenv.exe {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs one line in wine's cmd.exe.
    fn cmd(&self, dir: &Path, line: &str) -> Output {
        self.command("cmd", dir).args(["/c", line]).output().unwrap()
    }

    /// `%APPDATA%` inside the prefix, as a Linux path.
    fn appdata(&self) -> PathBuf {
        let users = self.prefix.join("drive_c/users");
        let user = std::fs::read_dir(&users)
            .unwrap()
            .map_while(Result::ok)
            .map(|e| e.file_name())
            .find(|n| n != "Public")
            .expect("a user folder in the wine prefix");
        users.join(user).join("AppData/Roaming")
    }
}

#[test]
#[ignore = "needs the x86_64-pc-windows-gnu Rust target (rustup), mingw-w64 and wine; .ci/run runs it where the target exists"]
fn the_windows_build_works_under_wine() {
    let Some(wine) = setup() else { return };
    let sb = common::Sandbox::new();
    assert_eq!(wine.ok(&sb.path("work"), &["--version"]), format!("ccenv {}\n", env!("CARGO_PKG_VERSION")));

    // Keys and trust go to %APPDATA%\ccenv, as `dirs` finds it.
    let out = wine.ccenv(&sb.path("work"), &["key", "set", "glm"], Some("sk-glm-windows-0123456789\r\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = std::fs::read_to_string(wine.appdata().join("ccenv/keys.toml")).unwrap();
    assert!(
        store.contains("\"sk-glm-windows-0123456789\""),
        "the CR of a Windows line is not part of the key"
    );
    let listed = wine.ok(&sb.path("work"), &["key", "list"]);
    assert!(listed.starts_with("glm") && !listed.contains("0123456789"), "masked: {listed}");

    // A CRLF project file and .local file, allowed and applied.
    let dir = sb.work("Company Repo");
    std::fs::write(dir.join(".claude-provider.toml"), "provider = \"glm\"\r\nmodel = \"glm-4.7\"\r\n")
        .unwrap();
    std::fs::write(dir.join(".claude-provider.local.toml"), "[models]\r\nhaiku = \"glm-4.5-air\"\r\n")
        .unwrap();
    let blocked = wine.ccenv(&dir, &["export", "--shell", "cmd"], None);
    assert!(String::from_utf8_lossy(&blocked.stderr).contains("not allowed"), "trust first");
    wine.ok(&dir, &["allow"]);
    assert!(wine.appdata().join("ccenv/allow").read_dir().unwrap().count() == 1);
    let status: serde_json::Value = serde_json::from_str(&wine.ok(&dir, &["status", "--json"])).unwrap();
    assert_eq!(status["state"], "allowed", "{status}");
    assert_eq!(status["root"], windows_path(&dir), "{status}");
    assert_eq!(status["provider"]["models"]["haiku"], "glm-4.5-air");
    assert!(!status.to_string().contains("0123456789"), "a key in status: {status}");

    // cmd.exe applies the real exe's output through `for /f ('…')`: the user's own
    // Anthropic key is cleared, the project's values are set.
    let dump = sb.path("out/env.txt");
    let script = format!(
        "set \"ANTHROPIC_API_KEY=sk-ant-real\" & for /f \"tokens=1*\" %a in ('{} export --shell cmd') do @set %b\r\n",
        windows_path(&wine.exe)
    );
    let bat = sb.path("out/apply.cmd");
    std::fs::write(
        &bat,
        format!("@echo off\r\n{}set > \"{}\"\r\n", script.replace('%', "%%"), windows_path(&dump)),
    )
    .unwrap();
    let out = wine.cmd(&dir, &windows_path(&bat));
    let text = std::fs::read(&dump)
        .unwrap_or_else(|_| panic!("cmd wrote no dump: {}", String::from_utf8_lossy(&out.stdout)));
    let env: BTreeMap<String, String> = String::from_utf8_lossy(&text)
        .split("\r\n")
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_uppercase(), v.to_string()))
        .collect();
    assert_eq!(env.get("ANTHROPIC_API_KEY"), None, "the real key is cleared");
    assert_eq!(env["ANTHROPIC_AUTH_TOKEN"], "sk-glm-windows-0123456789");
    assert_eq!(env["ANTHROPIC_BASE_URL"], "https://open.bigmodel.cn/api/anthropic");
    assert_eq!(env["ANTHROPIC_DEFAULT_HAIKU_MODEL"], "glm-4.5-air");
    assert_eq!(env["CCENV_PROVIDER"], "glm");
    assert!(env["CCENV_STATE"].ends_with(&windows_path(&dir)), "{}", env["CCENV_STATE"]);

    // PowerShell statements from the exe are ASCII only, whatever the model name holds.
    std::fs::write(dir.join(".claude-provider.local.toml"), "model = \"模型’; Write-Host pwned; ’\"\r\n")
        .unwrap();
    wine.ok(&dir, &["allow"]);
    let out =
        wine.ccenv_with(&dir, &["export", "--shell", "powershell"], None, &[("ANTHROPIC_API_KEY", "sk-ant")]);
    let ps = String::from_utf8(out.stdout).unwrap();
    assert!(ps.is_ascii() && !ps.contains("Write-Host"), "{ps}");
    assert!(ps.contains("Remove-Item -LiteralPath 'Env:ANTHROPIC_API_KEY'"), "{ps}");

    // exec: the child gets the provider, and its exit code comes back.
    let out = wine.ccenv(&dir, &["exec", "--", "cmd", "/c", "echo url=%ANTHROPIC_BASE_URL%& exit 3"], None);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("url=https://open.bigmodel.cn/api/anthropic"));

    // Names are case-insensitive on Windows: `[env]` cannot reach a managed variable or
    // PATH by changing case.
    for name in ["anthropic_base_url", "Path"] {
        std::fs::write(dir.join(".claude-provider.local.toml"), format!("[env]\r\n{name} = \"x\"\r\n"))
            .unwrap();
        let out = wine.ccenv(&dir, &["allow"], None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(":2:1"), "{name}: {err}");
    }

    // Trust ids ignore case, as Windows paths do: allowing the folder under another
    // spelling allows it under its own.
    std::fs::write(dir.join(".claude-provider.local.toml"), "# edited\r\n").unwrap();
    let upper = windows_path(&dir).to_uppercase();
    assert!(wine.ok(&dir, &["status"]).contains("changed since"), "the edit blocks");
    let out = wine.ccenv(&sb.path("work"), &["allow", &upper], None);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&upper),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_str(&wine.ok(&dir, &["status", "--json"])).unwrap();
    assert_eq!(status["state"], "allowed", "{status}");
}
