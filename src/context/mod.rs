//! The boundary between the pure core and the machine. A `Context` holds what a run
//! starts from — the environment (as a map, passed in), the working directory and
//! ccenv's folders — and turns a directory into an `Evaluation` (reading the project,
//! trust, config and key store) and an evaluation into a `Plan` (the operations, the
//! new restore state, the messages). Planning writes nothing: the one write it needs,
//! the snapshot file, is `Plan::save`, done by the command before it applies anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::claude;
use crate::config::diagnostic::ReadError;
use crate::config::names;
use crate::config::project::{self, Contents, Credential, Found};
use crate::config::provider::Catalog;
use crate::core::envdiff::{self, Op, Transition, Vars};
pub(crate) use crate::core::outcome::Evaluation;
use crate::core::outcome::{self, Outcome};
use crate::core::resolve::{self, Key, Resolved};
use crate::store::keys::{FileKeyStore, KeyStore};
use crate::store::paths::{self, Paths};
use crate::store::snapshots::{self, SnapshotStore, State};
use crate::store::trust::{Trust, TrustStore};

pub(crate) struct Context {
    pub(crate) paths: Paths,
    /// `None` when the working directory was deleted.
    pub(crate) cwd: Option<PathBuf>,
    /// `None`: this process's environment, read one variable at a time (the hook asks for
    /// about thirty; copying a shell's whole environment, often a hundred, cost more).
    env: Option<BTreeMap<String, String>>,
}

/// The restore state this process inherited, if any.
pub(crate) struct Inherited {
    pub(crate) state: Option<State>,
    pub(crate) snapshot: Option<Vars>,
    /// Set when `CCENV_STATE` pointed at a snapshot that could not be read.
    pub(crate) lost: Option<String>,
}

/// The operations that take the environment to what an evaluation wants, the new
/// restore state, and what the user should read about it.
pub(crate) struct Plan {
    pub(crate) transition: Transition,
    /// `Some(value)` exports `CCENV_STATE`, `None` removes it (when set).
    pub(crate) state: Option<String>,
    /// The snapshot that state names, serialized once for its id and its file.
    snapshot: Option<snapshots::Encoded>,
    pub(crate) messages: Vec<String>,
}

/// Windows reads variable names without regard to case.
fn env_key(name: &str) -> String {
    if cfg!(windows) { name.to_ascii_uppercase() } else { name.to_string() }
}

impl Context {
    /// A given environment (tests, the gateway serving a project root).
    pub(crate) fn new(
        paths: Paths,
        cwd: Option<PathBuf>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let env = Some(env.into_iter().map(|(k, v)| (env_key(&k), v)).collect());
        Context { paths, cwd, env }
    }

    /// This process's environment, working directory and folders.
    pub(crate) fn from_process() -> anyhow::Result<Self> {
        Ok(Context { paths: Paths::from_env()?, cwd: paths::current_dir(), env: None })
    }

    pub(crate) fn var(&self, name: &str) -> Option<String> {
        match &self.env {
            Some(env) => env.get(&env_key(name)).cloned(),
            None => {
                std::env::var_os(name).map(|v| v.into_string().unwrap_or_else(|v| v.to_string_lossy().into()))
            }
        }
    }

    /// The inherited restore state and the evaluation of the working directory.
    pub(crate) fn here(&self) -> (Inherited, Evaluation) {
        self.at(self.cwd.as_deref())
    }

    /// The inherited restore state and the evaluation of `dir`.
    pub(crate) fn at(&self, dir: Option<&Path>) -> (Inherited, Evaluation) {
        let inherited = self.inherited();
        let eval = self.evaluate(dir, inherited.snapshot.as_ref());
        (inherited, eval)
    }

    pub(crate) fn inherited(&self) -> Inherited {
        let Some(raw) = self.var(names::STATE) else {
            return Inherited { state: None, snapshot: None, lost: None };
        };
        let Some(mut state) = State::decode(&raw) else {
            return Inherited { state: None, snapshot: None, lost: Some("CCENV_STATE is malformed".into()) };
        };
        // CCENV_STATE is only an environment variable: whoever set it, a restore touches no
        // name ccenv could not have set itself (a forged one must not unset PATH). What ccenv
        // could set includes the names the user's config.toml allows.
        let allow = self.catalog().map(|c| c.policy.env_allow).unwrap_or_default();
        state.names.retain(|n| names::could_set(n, &allow));
        match SnapshotStore::new(&self.paths.data_dir).load(&state.snapshot_id) {
            Ok(mut snapshot) => {
                snapshot.retain(|n, _| names::could_set(n, &allow));
                Inherited { state: Some(state), snapshot: Some(snapshot), lost: None }
            }
            Err(e) => {
                // Without the snapshot the old values are unknown: unset what was applied.
                let snapshot = state.names.iter().map(|n| (n.clone(), None)).collect();
                let lost = format!("restore state lost ({e:#}); unsetting {} instead", state.names.join(" "));
                Inherited { state: Some(state), snapshot: Some(snapshot), lost: Some(lost) }
            }
        }
    }

    pub(crate) fn evaluate(&self, dir: Option<&Path>, before: Option<&Vars>) -> Evaluation {
        let mut watch = vec![self.paths.user_config(), self.paths.keys()];
        let empty = |outcome, watch, ignored| Evaluation {
            outcome,
            watch,
            conflicts: Vec::new(),
            ignored,
            settings: Vec::new(),
        };
        let Some(dir) = dir else {
            return empty(Outcome::Gone, watch, Vec::new());
        };
        let discovery = project::discover(dir);
        watch.extend(discovery.candidates);
        let Some(found) = discovery.found else {
            return empty(Outcome::NoProject, watch, discovery.ignored);
        };
        let trust = TrustStore::new(&self.paths.data_dir);
        watch.extend(trust.records(&found.root));
        let settings = self.settings_files(dir, &found.root);
        watch.extend(settings.iter().map(|(_, p)| p.clone()));
        let outcome = self.evaluate_project(found, &trust, before);
        if let Outcome::Applied { key: Key::Gateway { .. }, .. } = &outcome {
            // A gateway that starts or stops rewrites its state: shells take the new address.
            watch.push(crate::store::gateway::state_path(&self.paths.data_dir));
        }
        let mut eval =
            Evaluation { outcome, watch, conflicts: Vec::new(), ignored: discovery.ignored, settings };
        if matches!(eval.outcome, Outcome::Applied { .. }) {
            // Most projects have no Claude settings file with an `env`: then nothing to compare.
            let files = claude::read_settings(&eval.settings).0;
            if !files.is_empty()
                && let Some(desired) = eval.desired()
            {
                eval.conflicts = claude::conflicts(&files, &desired);
            }
        }
        eval
    }

    /// The Claude Code settings files that apply when Claude Code starts in `dir`: its
    /// project settings where it runs and at its repository's root, which may lie below
    /// ccenv's project `root` (a nested clone), and those of the project root, each once.
    fn settings_files(&self, dir: &Path, root: &Path) -> Vec<(claude::Level, PathBuf)> {
        let mut settings = Vec::new();
        for base in claude::settings_dirs(dir, root) {
            for entry in claude::settings_paths(&base, self.var("CLAUDE_CONFIG_DIR")) {
                if !settings.contains(&entry) {
                    settings.push(entry);
                }
            }
        }
        settings
    }

    fn evaluate_project(&self, found: Found, trust: &TrustStore, before: Option<&Vars>) -> Outcome {
        let invalid =
            |found: &Found, error: ReadError| Outcome::Invalid { found: Some(found.clone()), error };
        let contents = match Contents::read(&found) {
            Ok(c) => c,
            Err(d) => return invalid(&found, d.into()),
        };
        let trust = match trust.check(&found.root, &contents.digest()) {
            Ok(Trust::Denied) => return Outcome::Denied { found },
            Ok(t) => t,
            Err(e) => return invalid(&found, ReadError::Other(format!("{e:#}"))),
        };
        // Parsing untrusted text is safe, and a broken file is better reported as such
        // than as "run ccenv allow" (which would refuse it).
        let resolved = match self.catalog().and_then(|c| Ok(resolve::resolve(&contents.settings()?, &c)?)) {
            Ok(r) => r,
            Err(e) => return invalid(&found, e),
        };
        match trust {
            Trust::Allowed => {}
            Trust::Unknown => return Outcome::Blocked { found, changed: false },
            Trust::Changed | Trust::Denied => return Outcome::Blocked { found, changed: true },
        }
        let key =
            if resolved.gateway { self.gateway_key(&found.root) } else { self.lookup_key(&resolved, before) };
        Outcome::Applied { found, resolved: Box::new(resolved), key }
    }

    /// The presets with the user's config.toml laid over them.
    pub(crate) fn catalog(&self) -> Result<Catalog, ReadError> {
        let path = self.paths.user_config();
        match crate::store::fs::read_to_string_limited(&path, crate::store::fs::MIB) {
            Ok(text) => Ok(Catalog::with_user_config(&path, &text)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Catalog::builtin()),
            Err(e) => Err(ReadError::Other(format!("{}: cannot read: {e}", path.display()))),
        }
    }

    pub(crate) fn lookup_key(&self, r: &Resolved, before: Option<&Vars>) -> Key {
        let Some(credential) = &r.credential else {
            return Key::NotNeeded;
        };
        let found = match credential {
            Credential::Store(name) => match FileKeyStore::new(self.paths.keys()).get(name) {
                Ok(v) => v,
                Err(e) => return Key::Missing { why: format!("{e:#}") },
            },
            // The shell's value from before entering: a managed variable such as
            // ANTHROPIC_API_KEY may already have been replaced by a project.
            Credential::Env(var) => {
                envdiff::before_entering(&|n| self.var(n), before, var).filter(|v| !v.is_empty())
            }
        };
        let p = &r.provider;
        // The official API is the user's own account: their key, or their login, is theirs
        // to use there (only a third party must never see them).
        if p.base_url.is_none() && found.is_none() && matches!(credential, Credential::Store(_)) {
            let own =
                |n: &str| envdiff::before_entering(&|v| self.var(v), before, n).filter(|v| !v.is_empty());
            return match own(names::API_KEY) {
                Some(secret) => {
                    Key::Found { secret, source: "your own ANTHROPIC_API_KEY (none stored)".into() }
                }
                None => Key::OwnLogin(own(names::OAUTH_TOKEN)),
            };
        }
        match (found, &p.placeholder_key) {
            (Some(secret), _) => Key::Found { secret, source: credential.describe() },
            (None, Some(p)) => Key::Placeholder(p.clone()),
            (None, None) if p.key_optional => Key::NotNeeded,
            (None, None) => Key::Missing { why: outcome::missing_key_hint(r, credential) },
        }
    }

    /// `external`: the state is for a tool that applies and restores it itself (`export`).
    pub(crate) fn plan(&self, eval: &Evaluation, inherited: &Inherited, external: bool) -> Plan {
        let old = inherited.snapshot.as_ref();
        let desired =
            eval.desired_keeping(|n| old.is_some_and(|s| s.contains_key(n)) || self.var(n).is_some());
        let transition = envdiff::transition(|n| self.var(n), inherited.snapshot.as_ref(), desired.as_ref());
        let (state, snapshot) = match (&transition.snapshot, eval.found()) {
            (Some(snapshot), Some(found)) => {
                let encoded = snapshots::encode(snapshot);
                let names = snapshot.keys().cloned().collect();
                let root = found.root.to_string_lossy().into_owned();
                let state = State { snapshot_id: encoded.id.clone(), names, root, external };
                (Some(state.encode()), Some(encoded))
            }
            _ => (None, None),
        };
        let mut messages: Vec<String> = inherited.lost.iter().cloned().collect();
        messages.extend(eval.notices());
        messages.extend(eval.conflict_notices());
        Plan { transition, state, snapshot, messages }
    }

    /// Back to the environment from before any project; needs no new restore state.
    pub(crate) fn unload(&self, inherited: &Inherited) -> Plan {
        let transition = envdiff::transition(|n| self.var(n), inherited.snapshot.as_ref(), None);
        Plan { transition, state: None, snapshot: None, messages: inherited.lost.iter().cloned().collect() }
    }

    /// The plan's operations with `CCENV_STATE` set or removed as the plan says.
    pub(crate) fn ops(&self, plan: &Plan) -> Vec<Op> {
        let mut ops = plan.transition.ops.clone();
        let now = self.var(names::STATE);
        match &plan.state {
            Some(s) if now.as_deref() != Some(s) => ops.push(Op::Set(names::STATE.into(), s.clone())),
            None if now.is_some() => ops.push(Op::Unset(names::STATE.into())),
            _ => {}
        }
        ops
    }

    /// "using glm in ~/src/app" when this shell enters or leaves a project.
    pub(crate) fn announcement(&self, eval: &Evaluation, inherited: &Inherited) -> Option<String> {
        let before = inherited.state.as_ref().map(|s| (s.root.clone(), self.var(names::PROVIDER)));
        outcome::announcement(&eval.outcome, before)
    }
}

impl Plan {
    /// Writes the snapshot the new restore state points at; before any of the plan's
    /// operations reach a shell, or leaving could not restore them.
    pub(crate) fn save(&self, paths: &Paths) -> anyhow::Result<()> {
        if let Some(snapshot) = &self.snapshot {
            SnapshotStore::new(&paths.data_dir).save(snapshot)?;
        }
        Ok(())
    }
}

mod gateway;
pub mod route;

#[cfg(test)]
mod tests;
