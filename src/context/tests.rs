//! The whole path from a directory to operations, without the binary: tempdir projects,
//! an environment passed in as a map, and the operations applied back to that map.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;
use crate::config::diagnostic::ReadError;
use crate::store::keys::KeyStore;

type Env = BTreeMap<String, String>;

struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let w = World { dir: tempfile::tempdir().unwrap() };
        for d in ["cfg", "data", "claude", "work/app/sub", "work/other"] {
            std::fs::create_dir_all(w.path(d)).unwrap();
        }
        w
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn paths(&self) -> Paths {
        Paths { config_dir: self.path("cfg"), data_dir: self.path("data") }
    }

    fn ctx(&self, cwd: &str, env: &Env) -> Context {
        let mut env = env.clone();
        env.insert("CLAUDE_CONFIG_DIR".into(), self.path("claude").to_string_lossy().into_owned());
        Context::new(self.paths(), Some(self.path(cwd)), env)
    }

    fn project(&self, rel: &str, text: &str) -> Found {
        std::fs::write(self.path(rel).join(project::FILE), text).unwrap();
        project::discover(&self.path(rel)).found.unwrap()
    }

    fn allow(&self, found: &Found) {
        let digest = Contents::read(found).unwrap().digest();
        TrustStore::new(&self.path("data")).allow(&found.root, &digest).unwrap();
    }

    fn key(&self, name: &str, secret: &str) {
        FileKeyStore::new(self.paths().keys()).set(name, secret).unwrap();
    }
}

fn env(pairs: &[(&str, &str)]) -> Env {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn apply(env: &mut Env, ops: &[Op]) {
    for op in ops {
        match op {
            Op::Set(n, v) => env.insert(n.clone(), v.clone()),
            Op::Unset(n) => env.remove(n),
        };
    }
}

/// What one prompt in `cwd` does to `env`: plan, save the snapshot, apply.
fn prompt(w: &World, cwd: &str, env: &mut Env) -> Plan {
    let ctx = w.ctx(cwd, env);
    let (inherited, eval) = ctx.here();
    let plan = ctx.plan(&eval, &inherited, false);
    plan.save(&ctx.paths).unwrap();
    apply(env, &ctx.ops(&plan));
    env.remove("CLAUDE_CONFIG_DIR");
    plan
}

#[test]
fn entering_applies_and_leaving_restores_exactly() {
    let w = World::new();
    let found = w.project("work/app", "provider = \"glm\"\nmodel = \"glm-4.7\"\n");
    w.allow(&found);
    w.key("glm", "sk-glm-0123456789abcdef");
    let original = env(&[("ANTHROPIC_API_KEY", "sk-mine"), ("ANTHROPIC_MODEL", "claude"), ("HOME", "/h")]);
    let mut e = original.clone();

    prompt(&w, "work/app/sub", &mut e);
    assert_eq!(e["ANTHROPIC_AUTH_TOKEN"], "sk-glm-0123456789abcdef");
    assert_eq!(e["ANTHROPIC_MODEL"], "glm-4.7");
    assert_eq!(e["CCENV_PROVIDER"], "glm");
    assert!(!e.contains_key("ANTHROPIC_API_KEY"), "the other auth variable is removed");
    let state = State::decode(&e["CCENV_STATE"]).unwrap();
    assert_eq!(PathBuf::from(&state.root), found.root);
    assert!(!state.external);

    let again = prompt(&w, "work/app", &mut e);
    assert!(again.transition.ops.is_empty(), "nothing to do on a second prompt: {:?}", again.transition.ops);

    prompt(&w, "work/other", &mut e);
    assert_eq!(e, original);
}

/// The restore state names only what was set before or is set by the project, so a
/// managed name exported by hand inside the project is the user's on leaving (as direnv
/// keeps what it never changed), while one the project set is put back.
#[test]
fn leaving_puts_back_what_ccenv_changed_and_keeps_what_it_never_touched() {
    let w = World::new();
    let found = w.project("work/app", "provider = \"glm\"\n");
    w.allow(&found);
    w.key("glm", "sk-glm-0123456789abcdef");
    let mut e = env(&[("ANTHROPIC_API_KEY", "sk-mine")]);

    prompt(&w, "work/app", &mut e);
    let state = State::decode(&e["CCENV_STATE"]).unwrap();
    let named = |n: &str| state.names.iter().any(|m| m == n);
    assert!(named("ANTHROPIC_API_KEY") && named("ANTHROPIC_AUTH_TOKEN"), "{:?}", state.names);
    assert!(!named("ANTHROPIC_BEDROCK_BASE_URL"), "{:?}", state.names);
    e.insert("ANTHROPIC_AUTH_TOKEN".into(), "typed-by-hand".into());
    e.insert("ANTHROPIC_BEDROCK_BASE_URL".into(), "http://typed-by-hand".into());

    prompt(&w, "work/other", &mut e);
    assert_eq!(e.get("ANTHROPIC_API_KEY").map(String::as_str), Some("sk-mine"));
    assert_eq!(e.get("ANTHROPIC_AUTH_TOKEN"), None, "the project set it: put back (unset)");
    assert_eq!(e["ANTHROPIC_BEDROCK_BASE_URL"], "http://typed-by-hand", "never touched: kept");

    // Inside the project, ccenv's next change removes a managed name set by hand.
    prompt(&w, "work/app", &mut e);
    assert_eq!(e.get("ANTHROPIC_BEDROCK_BASE_URL"), None);
}

#[test]
fn planning_writes_nothing_and_save_writes_the_snapshot_the_state_names() {
    let w = World::new();
    let found = w.project("work/app", "provider = \"ollama\"\n");
    w.allow(&found);
    let ctx = w.ctx("work/app", &env(&[]));
    let (inherited, eval) = ctx.here();
    let plan = ctx.plan(&eval, &inherited, true);
    assert!(!w.path("data/state").exists(), "plan wrote a file");
    let state = State::decode(plan.state.as_ref().unwrap()).unwrap();
    assert!(state.external);
    plan.save(&ctx.paths).unwrap();
    let saved = SnapshotStore::new(&w.path("data")).load(&state.snapshot_id).unwrap();
    assert_eq!(Some(&saved), plan.transition.snapshot.as_ref());
}

#[test]
fn a_file_not_allowed_is_blocked_and_changes_nothing() {
    let w = World::new();
    let found = w.project("work/app", "provider = \"glm\"\n");
    let ctx = w.ctx("work/app", &env(&[("ANTHROPIC_MODEL", "x")]));
    let (inherited, eval) = ctx.here();
    assert!(matches!(eval.outcome, Outcome::Blocked { changed: false, .. }));
    let plan = ctx.plan(&eval, &inherited, false);
    assert!(ctx.ops(&plan).is_empty());
    assert_eq!(
        plan.messages,
        [format!("{} is not allowed yet; review it, then run `ccenv allow`", found.main.unwrap().display())]
    );

    w.allow(&project::discover(&w.path("work/app")).found.unwrap());
    w.project("work/app", "provider = \"glm\"\nmodel = \"other\"\n");
    let (_, eval) = ctx.here();
    assert!(matches!(eval.outcome, Outcome::Blocked { changed: true, .. }), "edited after allow");
}

#[test]
fn an_invalid_file_keeps_its_location_to_the_end() {
    let w = World::new();
    w.project("work/app", "provider = \"glm\"\nmodel = 5\n");
    let ctx = w.ctx("work/app", &env(&[]));
    let (_, eval) = ctx.here();
    let Outcome::Invalid { error: ReadError::At(d), .. } = &eval.outcome else {
        panic!("not a located error: {:?}", eval.outcome);
    };
    assert_eq!((d.at.line, d.at.column), (2, 9));
    assert!(
        eval.notices()[0]
            .starts_with(&format!("error: {}:2:9: ", w.path("work/app").join(project::FILE).display()))
    );
}

#[test]
fn an_env_credential_is_read_from_the_environment_passed_in() {
    let w = World::new();
    let found = w.project("work/app", "provider = \"glm\"\ncredential = \"env:MY_GLM_KEY\"\n");
    w.allow(&found);
    // Only a variable the user lists in config.toml may carry a project's key.
    let (_, eval) = w.ctx("work/app", &env(&[("MY_GLM_KEY", "from-the-map")])).here();
    assert!(matches!(eval.outcome, Outcome::Invalid { .. }), "{:?}", eval.outcome);
    std::fs::write(w.path("cfg/config.toml"), "[env]\ncredentials = [\"MY_GLM_KEY\"]\n").unwrap();
    let mut e = env(&[("MY_GLM_KEY", "from-the-map")]);
    prompt(&w, "work/app", &mut e);
    assert_eq!(e["ANTHROPIC_AUTH_TOKEN"], "from-the-map");

    let ctx = w.ctx("work/app", &env(&[]));
    let (_, eval) = ctx.here();
    assert!(eval.notices()[0].contains("`MY_GLM_KEY` is not set in this shell"), "{:?}", eval.notices());
}

#[test]
fn no_project_and_a_deleted_directory_plan_nothing_but_are_watched() {
    let w = World::new();
    let ctx = w.ctx("work/other", &env(&[]));
    let (inherited, eval) = ctx.here();
    assert!(matches!(eval.outcome, Outcome::NoProject));
    assert!(eval.watch.contains(&w.path("work/other").join(project::FILE)));
    assert!(eval.watch.contains(&w.paths().keys()));
    assert!(ctx.ops(&ctx.plan(&eval, &inherited, false)).is_empty());
    let gone = Context::new(w.paths(), None, env(&[]));
    assert!(matches!(gone.here().1.outcome, Outcome::Gone));
}

#[test]
fn a_lost_snapshot_unsets_what_was_applied() {
    let w = World::new();
    let state = State {
        snapshot_id: "0123456789abcdef0123456789abcdef".into(),
        names: vec!["ANTHROPIC_MODEL".into()],
        root: "/gone".into(),
        external: false,
    };
    let e = env(&[("CCENV_STATE", &state.encode()), ("ANTHROPIC_MODEL", "m"), ("CCENV_PROVIDER", "glm")]);
    let ctx = w.ctx("work/other", &e);
    let (inherited, eval) = ctx.here();
    assert!(inherited.lost.as_ref().unwrap().contains("unsetting ANTHROPIC_MODEL"));
    let plan = ctx.plan(&eval, &inherited, false);
    let ops = ctx.ops(&plan);
    assert!(
        ops.contains(&Op::Unset("ANTHROPIC_MODEL".into())) && ops.contains(&Op::Unset("CCENV_STATE".into()))
    );
    assert_eq!(ctx.announcement(&eval, &inherited).as_deref(), Some("unloaded glm"));
}

#[test]
fn claude_settings_that_override_the_provider_are_named() {
    let w = World::new();
    let found = w.project("work/app", "provider = \"ollama\"\n");
    w.allow(&found);
    std::fs::write(w.path("claude/settings.json"), r#"{"env": {"ANTHROPIC_BASE_URL": "https://x"}}"#)
        .unwrap();
    let ctx = w.ctx("work/app", &env(&[]));
    let (_, eval) = ctx.here();
    assert_eq!(eval.conflicts.len(), 1);
    assert_eq!(eval.conflicts[0].names, ["ANTHROPIC_BASE_URL"]);
    assert!(eval.conflict_notices()[0].contains("sets ANTHROPIC_BASE_URL in its env"));
}

/// A gateway project's address comes only from a gateway that holds the lock and wrote
/// its state; a state file alone (left by a killed gateway) or nothing gives an address
/// no unprivileged program can listen on.
#[test]
fn a_gateway_address_comes_only_from_a_running_gateway() {
    use crate::store::gateway;
    let w = World::new();
    let found = w.project("work/app", "provider = \"groq\"\n");
    w.allow(&found);
    w.key("groq", "sk-groq-0123456789abcdef");
    let key = |w: &World| match w.ctx("work/app", &Env::new()).here().1.outcome {
        Outcome::Applied { key: Key::Gateway { url, live, .. }, .. } => (url, live),
        other => panic!("{other:?}"),
    };
    assert_eq!(key(&w), (gateway::NOT_RUNNING.to_string(), false));

    std::fs::write(gateway::state_path(&w.path("data")), r#"{"port":4321,"pid":1}"#).unwrap();
    assert_eq!(key(&w), (gateway::NOT_RUNNING.to_string(), false), "a state file alone is not a gateway");

    let lock = std::fs::File::create(gateway::lock_path(&w.path("data"))).unwrap();
    lock.lock().unwrap();
    assert_eq!(key(&w), (gateway::url(4321, &found.root), true));
    drop(lock);
    assert!(!key(&w).1, "the lock ends with the gateway");
}
