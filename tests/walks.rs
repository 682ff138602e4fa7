//! Generated walks in real shells: cd among nested projects, allow and deny, edit,
//! delete and re-create project files (valid and broken), nested shells, switching and
//! removing keys. Whenever the shell is outside every project, the environment a child
//! sees must equal the one from before the walk, byte for byte. Seeded: a failure names
//! its walk and step and reproduces.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Sandbox, Shell, comparable, have, random_values};

const PLACES: [&str; 7] = ["outside", "plain", "a", "a/sub", "a/inner", "b", "a/inner/deep"];
const PROJECTS: [&str; 3] = ["a", "a/inner", "b"];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

fn inside_a_project(dir: &Path, work: &Path) -> bool {
    dir.ancestors()
        .take_while(|d| d.starts_with(work.parent().unwrap()))
        .any(|d| d.join(".claude-provider.toml").exists() || d.join(".claude-provider.local.toml").exists())
}

fn project_text(rng: &mut Rng, values: &[String]) -> String {
    let provider = rng.pick(&["glm", "kimi", "kimi-coding", "deepseek", "ollama", "anthropic"]);
    let value = rng.pick(values);
    match rng.next() % 5 {
        0 => format!("provider = \"{provider}\"\nmodle = \"typo\"\n"),
        1 => "provider = \"glm\"\n[env\n".into(),
        _ => format!(
            "provider = \"{provider}\"\nmodel = \"m{}\"\n[env]\nT_A = {}\nT_W = {}\n",
            rng.next() % 9,
            toml::Value::String(value.clone()),
            toml::Value::String(rng.pick(values).clone())
        ),
    }
}

fn walks(kind: &'static str) {
    if !have(kind) || !have("script") {
        return;
    }
    let count: usize = std::env::var("CCENV_WALKS").ok().and_then(|v| v.parse().ok()).unwrap_or(340);
    let sb = Sandbox::new();
    sb.set_key("glm", "sk-glm-walk-0123456789");
    sb.set_key("kimi", "sk-kimi-walk-0123456789");
    let work = sb.path("work");
    for p in PLACES {
        sb.work(p);
    }
    let originals: BTreeMap<&str, String> = [
        ("a", "provider = \"glm\"\nmodel = \"glm-4.7\"\n[env]\nT_A = \"a\"\n"),
        ("a/inner", "provider = \"kimi-coding\"\ncredential = \"kimi\"\n"),
        ("b", "provider = \"kimi\"\n[env]\nT_B = \"b\"\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    for (p, text) in &originals {
        sb.write(&work.join(p).join(".claude-provider.toml"), text);
        sb.ok(&work.join(p), &["allow"]);
    }
    let values = random_values(200, 0xACE ^ kind.len() as u64);
    let env = [
        ("ANTHROPIC_API_KEY", "sk-ant-REAL-walk"),
        ("ANTHROPIC_MODEL", "user-model"),
        ("T_A", "pre-existing 'T_A' \\ $(x)"),
        ("CLAUDE_CODE_USE_BEDROCK", "1"),
    ];
    let mut sh = Shell::start(&sb, kind, &env);
    sh.run(&format!("cd '{}'", work.join("outside").display()));
    let before = comparable(&sh.child_env());
    assert_eq!(before["ANTHROPIC_API_KEY"], "sk-ant-REAL-walk");

    let mut rng = Rng(0x1234_5678_9ABC_DEF1 ^ (kind.len() as u64) << 32);
    let (mut checks, mut steps) = (0, 0);
    for walk in 0..count {
        let mut cwd = vec!["outside"];
        for step in 0..7 {
            steps += 1;
            match rng.next() % 10 {
                0..=2 => {
                    let to = *rng.pick(&PLACES);
                    sh.run(&format!("cd '{}'", work.join(to).display()));
                    *cwd.last_mut().unwrap() = to;
                }
                3 => sh.run("ccenv allow 2>/dev/null"),
                4 => sh.run("ccenv deny 2>/dev/null"),
                5 => {
                    let p = *rng.pick(&PROJECTS);
                    sb.write(&work.join(p).join(".claude-provider.toml"), &project_text(&mut rng, &values));
                }
                6 => {
                    let p = *rng.pick(&PROJECTS);
                    let _ = std::fs::remove_file(work.join(p).join(".claude-provider.toml"));
                }
                7 => {
                    let p = *rng.pick(&PROJECTS);
                    sb.write(&work.join(p).join(".claude-provider.toml"), &originals[p]);
                }
                8 if cwd.len() < 3 => {
                    sh.nest();
                    let here = *cwd.last().unwrap();
                    cwd.push(here);
                }
                8 => {
                    sh.send("exit");
                    sh.sync();
                    cwd.pop();
                }
                _ => {
                    let name = *rng.pick(&["glm", "kimi"]);
                    if rng.next().is_multiple_of(3) {
                        sb.ccenv(sb.dir.path(), &["key", "rm", name]);
                    } else {
                        sb.set_key(name, &format!("sk-{name}-{}", rng.next() % 1000));
                    }
                }
            }
            let here = work.join(cwd.last().unwrap());
            if !inside_a_project(&here, &work) {
                sh.enter();
                let now = comparable(&sh.child_env());
                checks += 1;
                if now != before {
                    let diff: Vec<_> = now
                        .iter()
                        .filter(|(k, v)| before.get(*k) != Some(v))
                        .map(|(k, v)| format!("{k}={v:?}"))
                        .chain(
                            before.keys().filter(|k| !now.contains_key(*k)).map(|k| format!("{k} missing")),
                        )
                        .collect();
                    panic!("{kind} walk {walk} step {step} at {}: {diff:?}", cwd.last().unwrap());
                }
            }
        }
        while cwd.len() > 1 {
            sh.send("exit");
            sh.sync();
            cwd.pop();
        }
        sh.run(&format!("cd '{}'", work.join("outside").display()));
        assert_eq!(comparable(&sh.child_env()), before, "{kind} walk {walk} end");
        checks += 1;
    }
    sh.exit();
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("{kind}: {count} walks, {steps} steps, {checks} outside checks, 0 differences\n").as_bytes(),
    );
}

#[test]
fn bash_walks() {
    walks("bash");
}

#[test]
fn zsh_walks() {
    walks("zsh");
}

#[test]
fn fish_walks() {
    walks("fish");
}
