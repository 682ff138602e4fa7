//! data/claude-code-env.toml against the installed Claude Code, and ccenv against that file:
//! every variable name the CLI reads is classified; every routing, auth, identity and model
//! variable is set or removed inside a project (checked with the real CLI); a project's
//! `[env]` is accepted exactly when the name is on the allowlist.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::server::Server;
use common::{Sandbox, Shell, have, which};
use proptest::prelude::*;

const DATA: &str = include_str!("../data/claude-code-env.toml");
const PROJECT_KEY: &str = "sk-loop-project-secret-456";

/// name → (class, settable) from the data file.
fn classification() -> BTreeMap<String, (String, bool)> {
    let root: toml::Table = DATA.parse().unwrap();
    let mut out = BTreeMap::new();
    for g in root["group"].as_array().unwrap() {
        let class = g["class"].as_str().unwrap().to_string();
        let settable = g.get("settable").and_then(|v| v.as_bool()).unwrap_or(false);
        for n in g["names"].as_array().unwrap() {
            out.insert(n.as_str().unwrap().to_string(), (class.clone(), settable));
        }
    }
    out
}

fn allowlist() -> BTreeSet<String> {
    classification().into_iter().filter(|(_, (c, s))| c == "allowed" || *s).map(|(n, _)| n).collect()
}

fn managed() -> BTreeSet<String> {
    classification().into_iter().filter(|(_, (c, _))| c == "managed").map(|(n, _)| n).collect()
}

/// The files of the installed Claude Code that hold its JavaScript: the native binary
/// (JavaScript embedded as text) or cli.js, found through the `claude` on PATH.
fn claude_files() -> Vec<PathBuf> {
    let bin = std::fs::canonicalize(which("claude").unwrap()).unwrap();
    let mut files = vec![bin.clone()];
    if let Some(pkg) = bin.ancestors().find(|d| d.join("package.json").is_file()) {
        for rel in ["cli.js", "cli.mjs", "bin/claude.exe"] {
            let f = pkg.join(rel);
            if f.is_file() && !files.contains(&f) {
                files.push(f);
            }
        }
    }
    files
}

/// Quoted names with these prefixes count even when not read as `env.NAME`: Claude Code
/// reads many through helpers such as `isEnvTruthy("CLAUDE_CODE_…")`.
const PREFIXES: &[&str] = &[
    "ANTHROPIC_",
    "CLAUDE_",
    "CLAUDECODE",
    "DISABLE_",
    "ENABLE_",
    "OTEL_",
    "MCP_",
    "MAX_MCP",
    "BASH_",
    "API_",
    "CLOUD_ML_",
    "VERTEX_",
    "AWS_",
    "GOOGLE_",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "NODE_",
    "USE_",
    "IS_",
    "FORCE_",
    "SHELL",
];

fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The upper-case name starting at `i`, if the run of `[A-Z0-9_]` there is a whole word.
fn name_at(bytes: &[u8], i: usize) -> Option<(&str, usize)> {
    let first = *bytes.get(i)?;
    if !(first.is_ascii_uppercase() || first == b'_') {
        return None;
    }
    let len =
        bytes[i..].iter().take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_').count();
    let end = i + len;
    if bytes.get(end).is_some_and(|b| word(*b)) {
        return None;
    }
    Some((std::str::from_utf8(&bytes[i..end]).unwrap(), end))
}

/// Every variable name the JavaScript reads: `env.NAME` (also `process.env.NAME`),
/// `env["NAME"]`, and quoted names with a known prefix. Returns the names per form.
fn extract(bytes: &[u8]) -> [BTreeSet<String>; 3] {
    let mut found: [BTreeSet<String>; 3] = Default::default();
    let quote = |b: u8| matches!(b, b'"' | b'\'' | b'`');
    for i in 0..bytes.len() {
        // One comparison for almost every byte: the scan covers a 250-400 MB binary.
        if !matches!(bytes[i], b'e' | b'"' | b'\'' | b'`') {
            continue;
        }
        if bytes[i..].starts_with(b"env.") {
            if let Some((n, _)) = name_at(bytes, i + 4) {
                found[0].insert(n.to_string());
            }
        } else if bytes[i..].starts_with(b"env[") && bytes.get(i + 4).is_some_and(|b| quote(*b)) {
            let len = bytes[i + 5..].iter().take_while(|b| word(**b)).count();
            if len > 0
                && bytes.get(i + 5 + len).is_some_and(|b| quote(*b))
                && bytes.get(i + 6 + len) == Some(&b']')
            {
                found[1].insert(String::from_utf8_lossy(&bytes[i + 5..i + 5 + len]).into_owned());
            }
        } else if quote(bytes[i])
            && let Some((n, end)) = name_at(bytes, i + 1)
            && bytes.get(end).is_some_and(|b| quote(*b))
            && PREFIXES.iter().any(|p| n.starts_with(p))
        {
            found[2].insert(n.to_string());
        }
    }
    found
}

/// Extracted once per test process: several tests need it.
fn installed_names() -> BTreeSet<String> {
    static NAMES: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(scan_installed).clone()
}

fn scan_installed() -> BTreeSet<String> {
    let version = std::process::Command::new("claude").arg("--version").output().unwrap();
    let mut all = BTreeSet::new();
    for f in claude_files() {
        let [dotted, indexed, quoted] = extract(&std::fs::read(&f).unwrap());
        eprintln!(
            "{} ({}): {} as env.NAME, {} as env[\"NAME\"], {} quoted with a known prefix",
            f.display(),
            String::from_utf8_lossy(&version.stdout).trim(),
            dotted.len(),
            indexed.len(),
            quoted.len()
        );
        all.extend(dotted.into_iter().chain(indexed).chain(quoted));
    }
    eprintln!("{} distinct names", all.len());
    all
}

#[test]
fn the_extractor_finds_names_in_every_form() {
    let js = br#"a=process.env.ANTHROPIC_BASE_URL;b=Q.env.API_TIMEOUT_MS;c=env["NO_PROXY"];isEnvTruthy("CLAUDE_CODE_USE_MANTLE");x="NOT_A_PREFIX";y=env.lowercase;z=env.MIXEDcase;w='DISABLE_TELEMETRY'"#;
    let [dotted, indexed, quoted] = extract(js);
    assert_eq!(dotted, BTreeSet::from(["ANTHROPIC_BASE_URL".into(), "API_TIMEOUT_MS".into()]));
    assert_eq!(indexed, BTreeSet::from(["NO_PROXY".into()]));
    assert_eq!(
        quoted,
        BTreeSet::from(["CLAUDE_CODE_USE_MANTLE".into(), "DISABLE_TELEMETRY".into(), "NO_PROXY".into()])
    );
}

#[test]
fn every_name_the_installed_claude_code_reads_is_classified() {
    if !have("claude") {
        return;
    }
    let names = installed_names();
    for known in ["ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "CLAUDE_CODE_USE_BEDROCK", "API_TIMEOUT_MS"] {
        assert!(names.contains(known), "the extractor missed {known}: it is blind to this build");
    }
    let classified = classification();
    let missing: Vec<&String> = names.iter().filter(|n| !classified.contains_key(*n)).collect();
    assert!(
        missing.is_empty(),
        "the installed Claude Code reads {} variables that data/claude-code-env.toml does not classify \
         (see docs/claude-code-env.md):\n{}",
        missing.len(),
        missing.iter().map(|n| n.as_str()).collect::<Vec<_>>().join("\n")
    );
}

/// A name that routes requests, carries a credential, picks an identity or a model.
fn is_routing(n: &str) -> bool {
    let anthropic = n.starts_with("ANTHROPIC_")
        && (n.ends_with("_BASE_URL")
            || n.ends_with("_API_KEY")
            || n.ends_with("_AUTH_TOKEN")
            || n.ends_with("_MODEL")
            || n.contains("IDENTITY")
            || n.contains("FEDERATION")
            || [
                "ANTHROPIC_UNIX_SOCKET",
                "ANTHROPIC_PROFILE",
                "ANTHROPIC_ORGANIZATION_ID",
                "ANTHROPIC_WORKSPACE_ID",
            ]
            .contains(&n));
    let claude = n.starts_with("CLAUDE_CODE_")
        && (["BEDROCK", "VERTEX", "FOUNDRY", "MANTLE", "ANTHROPIC_AWS", "ANTHROPIC_GOOGLE_CLOUD", "GATEWAY"]
            .iter()
            .any(|b| n == format!("CLAUDE_CODE_USE_{b}") || n == format!("CLAUDE_CODE_SKIP_{b}_AUTH"))
            || n.starts_with("CLAUDE_CODE_OAUTH_TOKEN")
            || n.ends_with("_MODEL"));
    anthropic || claude
}

#[test]
fn every_routing_name_claude_code_reads_is_removed_or_set_inside_a_project() {
    if !have("claude") {
        return;
    }
    let routing: Vec<String> = installed_names().into_iter().filter(|n| is_routing(n)).collect();
    assert!(routing.len() >= 30, "only {} routing names found: {routing:?}", routing.len());
    let sb = Sandbox::new();
    sb.user_provider("loop", "http://127.0.0.1:9", "");
    sb.set_key("loop", PROJECT_KEY);
    let dir = sb.project("app", "loop", "");
    let global: Vec<(&str, &str)> = routing.iter().map(|n| (n.as_str(), "from-the-global-shell")).collect();
    let out = sb.ccenv_with(&dir, &["exec", "--", "env"], &global, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let leaked: Vec<&str> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.ends_with("=from-the-global-shell"))
        .map(|l| l.split('=').next().unwrap())
        .map(|n| routing.iter().find(|r| *r == n).unwrap().as_str())
        .collect();
    assert!(leaked.is_empty(), "these reach Claude Code inside the project unchanged: {leaked:?}");
}

/// Sets `var` in a hooked bash before entering the project, runs `claude -p` inside,
/// and requires the request to reach the project's server with the project's key.
fn reaches_pinned_provider(
    sb: &Sandbox,
    sh: &mut Shell,
    server: &Server,
    dir: &Path,
    var: &str,
    value: &str,
) {
    let before = server.messages().len();
    let out = sb.path(&format!("out/{var}.txt"));
    sh.run(&format!("cd / && export {var}='{value}' && cd '{}'", dir.display()));
    sh.run(&format!("claude -p 'reply with pong' > '{}' 2>&1; echo \"exit=$?\" >> '{0}'", out.display()));
    sh.run(&format!("cd / && unset {var}"));
    let text = std::fs::read_to_string(&out).unwrap();
    let msgs = server.messages();
    assert!(
        msgs.len() > before,
        "with {var}={value} set globally, no request reached the pinned provider:\n{text}"
    );
    for r in &msgs[before..] {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {PROJECT_KEY}").as_str()), "{var}: {r:?}");
    }
    assert!(text.contains("pong-from-loopback") && text.contains("exit=0"), "{var}: claude said:\n{text}");
}

#[test]
fn each_routing_variable_set_globally_still_reaches_the_pinned_provider() {
    if !have("claude") || !have("script") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::start();
    sb.user_provider("loop", &server.url(), "model = \"loop-model\"\n");
    sb.set_key("loop", PROJECT_KEY);
    let dir = sb.project("app", "loop", "");
    let base = [("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"), ("DISABLE_AUTOUPDATER", "1")];
    let mut sh = Shell::start(&sb, "bash", &base);
    sh.timeout = Duration::from_secs(120);
    let socket = sb.path("out/nothing.sock").display().to_string();
    let cases = [
        ("CLAUDE_CODE_USE_MANTLE", "1"),
        ("CLAUDE_CODE_USE_ANTHROPIC_AWS", "1"),
        ("ANTHROPIC_UNIX_SOCKET", socket.as_str()),
        ("CLAUDE_CODE_USE_BEDROCK", "1"),
        ("CLAUDE_CODE_USE_VERTEX", "1"),
        ("CLAUDE_CODE_USE_FOUNDRY", "1"),
        ("CLAUDE_CODE_USE_GATEWAY", "1"),
        ("CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD", "1"),
        ("ANTHROPIC_PROFILE", "someone-else"),
        ("ANTHROPIC_IDENTITY_TOKEN", "id-token-from-the-global-shell"),
        ("CLAUDE_CODE_OAUTH_TOKEN", "oauth-from-the-global-shell"),
    ];
    for (var, value) in cases {
        reaches_pinned_provider(&sb, &mut sh, &server, &dir, var, value);
    }
    sh.exit();
}

fn name_strategy() -> impl Strategy<Value = String> {
    let known: Vec<String> = classification().into_keys().collect();
    let allowed: Vec<String> = allowlist().into_iter().collect();
    prop_oneof![
        proptest::sample::select(known),
        proptest::sample::select(allowed.clone()),
        proptest::sample::select(allowed).prop_map(|n| n.to_ascii_lowercase()),
        "[A-Z_][A-Z0-9_]{0,20}",
        "(CLAUDE_CODE_|ANTHROPIC_|DISABLE_|MAX_|OTEL_)[A-Z0-9_]{1,12}",
        "[a-z_][a-zA-Z0-9_]{0,10}",
    ]
}

fn allow_project(sb: &Sandbox, dir: &Path, name: &str) -> (bool, String) {
    sb.write(&dir.join(".claude-provider.toml"), &format!("provider = \"glm\"\n[env]\n{name} = \"1\"\n"));
    let out = sb.ccenv(dir, &["allow"]);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn a_project_env_name_is_accepted_iff_it_is_on_the_allowlist(name in name_strategy()) {
        let sb = Sandbox::new();
        let dir = sb.work("p");
        std::fs::remove_file(sb.path("cfg/config.toml")).unwrap();
        let (ok, err) = allow_project(&sb, &dir, &name);
        prop_assert_eq!(ok, allowlist().contains(&name), "{}: {}", name, err);
        if !ok {
            let at = format!("{}:3:1: [env] `{name}`", dir.join(".claude-provider.toml").display());
            prop_assert!(err.contains(&at), "no location in: {}", err);
        }
    }

    #[test]
    fn the_user_widens_the_allowlist_but_never_to_managed_names(name in name_strategy()) {
        let sb = Sandbox::new();
        let dir = sb.work("p");
        sb.write(&sb.path("cfg/config.toml"), &format!("[env]\nallow = [\"{name}\"]\n"));
        let (ok, err) = allow_project(&sb, &dir, &name);
        let upper = name.to_ascii_uppercase();
        let special = ["status", "pipestatus", "PWD", "OLDPWD", "SHLVL", "history", "fish_pid", "version",
            "hostname", "_", "argv", "umask", "USER", "LOGNAME"].contains(&name.as_str());
        let never = (managed().contains(&upper) && !allowlist().contains(&name))
            || upper.starts_with("CCENV_") || special;
        prop_assert_eq!(ok, !never, "{}: {}", name, err);
    }
}

#[test]
fn only_config_toml_widens_the_allowlist() {
    let sb = Sandbox::new();
    let dir = sb.work("p");
    assert!(!allow_project(&sb, &dir, "MY_TOOL_FLAG").0);
    for (file, text) in [
        (
            ".claude-provider.toml",
            "provider = \"glm\"\n[env]\nallow = [\"MY_TOOL_FLAG\"]\nMY_TOOL_FLAG = \"1\"\n",
        ),
        (
            ".claude-provider.toml",
            "provider = \"glm\"\nallow = [\"MY_TOOL_FLAG\"]\n[env]\nMY_TOOL_FLAG = \"1\"\n",
        ),
        (".claude-provider.local.toml", "[env]\nallow = [\"MY_TOOL_FLAG\"]\n"),
    ] {
        let _ = std::fs::remove_file(dir.join(".claude-provider.local.toml"));
        sb.write(&dir.join(".claude-provider.toml"), "provider = \"glm\"\n[env]\nMY_TOOL_FLAG = \"1\"\n");
        sb.write(&dir.join(file), text);
        let out = sb.ccenv(&dir, &["allow"]);
        assert!(!out.status.success(), "{file} widened the list:\n{text}");
    }
    let _ = std::fs::remove_file(dir.join(".claude-provider.local.toml"));
    sb.write(&sb.path("cfg/config.toml"), "[env]\nallow = [\"MY_TOOL_FLAG\"]\n");
    assert!(allow_project(&sb, &dir, "MY_TOOL_FLAG").0);
    let env = sb.ok(&dir, &["exec", "--", "env"]);
    assert!(env.lines().any(|l| l == "MY_TOOL_FLAG=1"), "{env}");
}
