//! The I/O around the pure core: read the project, trust, user config and key for a
//! directory (`evaluate`), then compute and render the change for a shell (`plan`).

use std::path::{Path, PathBuf};

use crate::claude;
use crate::diagnostic::Diagnostic;
use crate::envdiff::{self, Op, Snapshot, Transition};
use crate::keystore::{FileKeyStore, KeyStore};
use crate::names;
use crate::paths::Paths;
use crate::project::{self, Contents, Credential, Found};
use crate::provider::Catalog;
use crate::resolve::{self, Desired, Key, Resolved};
use crate::state::{SnapshotStore, State};
use crate::trust::{Trust, TrustStore};

/// What applies in a directory.
#[derive(Debug)]
pub enum Outcome {
    NoProject,
    /// The working directory no longer exists.
    Gone,
    Denied {
        found: Found,
    },
    /// Not allowed yet, or edited since it was allowed.
    Blocked {
        found: Found,
        changed: bool,
    },
    Invalid {
        found: Option<Found>,
        error: String,
    },
    Applied {
        found: Found,
        resolved: Box<Resolved>,
        key: Key,
    },
}

pub struct Evaluation {
    pub outcome: Outcome,
    /// Files whose appearance, disappearance or change can change the outcome.
    pub watch: Vec<PathBuf>,
    /// Claude Code settings files whose `env` would override what is applied here.
    pub conflicts: Vec<claude::Conflict>,
}

impl Evaluation {
    pub fn desired(&self) -> Option<Desired> {
        match &self.outcome {
            Outcome::Applied { resolved, key, .. } => Some(resolve::desired(resolved, key)),
            _ => None,
        }
    }

    /// One-line messages for the user (errors, blocked files, a missing key).
    pub fn notices(&self) -> Vec<String> {
        match &self.outcome {
            Outcome::Invalid { error, .. } => vec![format!("error: {error}")],
            Outcome::Blocked { found, changed } => {
                let file = found.main.as_ref().or(found.local.as_ref()).expect("a file exists");
                let what = if *changed { "changed since it was allowed" } else { "is not allowed yet" };
                vec![format!("{} {what}; review it, then run `ccenv allow`", file.display())]
            }
            Outcome::Applied { key: Key::Missing { why }, .. } => vec![why.clone()],
            _ => Vec::new(),
        }
    }

    /// One line per Claude Code settings file that would override the provider.
    pub fn conflict_notices(&self) -> Vec<String> {
        self.conflicts
            .iter()
            .map(|c| {
                format!(
                    "{} sets {} in its env, which Claude Code applies over this shell; run `ccenv doctor`",
                    tilde(&c.path.to_string_lossy()),
                    c.names.join(", ")
                )
            })
            .collect()
    }

    pub fn found(&self) -> Option<&Found> {
        match &self.outcome {
            Outcome::Denied { found } | Outcome::Blocked { found, .. } | Outcome::Applied { found, .. } => {
                Some(found)
            }
            Outcome::Invalid { found, .. } => found.as_ref(),
            Outcome::NoProject | Outcome::Gone => None,
        }
    }
}

/// The restore state this process inherited, if any.
pub struct Inherited {
    pub state: Option<State>,
    pub snapshot: Option<Snapshot>,
    /// Set when `CCENV_STATE` pointed at a snapshot that could not be read.
    pub lost: Option<String>,
}

pub fn inherited(paths: &Paths) -> Inherited {
    let Some(raw) = std::env::var_os(names::STATE) else {
        return Inherited { state: None, snapshot: None, lost: None };
    };
    let Some(state) = raw.to_str().and_then(State::decode) else {
        return Inherited { state: None, snapshot: None, lost: Some("CCENV_STATE is malformed".into()) };
    };
    match SnapshotStore::new(&paths.data_dir).load(&state.snapshot_id) {
        Ok(snapshot) => Inherited { state: Some(state), snapshot: Some(snapshot), lost: None },
        Err(e) => {
            // Without the snapshot the old values are unknown: unset what was applied.
            let snapshot = state.names.iter().map(|n| (n.clone(), None)).collect();
            let lost = format!("restore state lost ({e:#}); unsetting {} instead", state.names.join(" "));
            Inherited { state: Some(state), snapshot: Some(snapshot), lost: Some(lost) }
        }
    }
}

pub fn current_var(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

pub fn evaluate(dir: Option<&Path>, paths: &Paths, before: Option<&Snapshot>) -> Evaluation {
    let mut watch = vec![paths.user_config(), paths.keys()];
    let Some(dir) = dir else {
        return Evaluation { outcome: Outcome::Gone, watch, conflicts: Vec::new() };
    };
    let discovery = project::discover(dir);
    watch.extend(discovery.candidates);
    let Some(found) = discovery.found else {
        return Evaluation { outcome: Outcome::NoProject, watch, conflicts: Vec::new() };
    };
    let trust = TrustStore::new(&paths.data_dir);
    watch.extend(trust.records(&found.root));
    let settings = claude::settings_paths(&found.root, current_var("CLAUDE_CONFIG_DIR"));
    watch.extend(settings.iter().map(|(_, p)| p.clone()));
    let outcome = evaluate_project(found, paths, &trust, before);
    let mut eval = Evaluation { outcome, watch, conflicts: Vec::new() };
    if let Some(desired) = eval.desired() {
        eval.conflicts = claude::conflicts(&claude::read_settings(&settings).0, desired.keys());
    }
    eval
}

fn evaluate_project(found: Found, paths: &Paths, trust: &TrustStore, before: Option<&Snapshot>) -> Outcome {
    let invalid = |found: &Found, error: String| Outcome::Invalid { found: Some(found.clone()), error };
    let contents = match Contents::read(&found) {
        Ok(c) => c,
        Err(d) => return invalid(&found, d.to_string()),
    };
    let trust = match trust.check(&found.root, &contents.digest()) {
        Ok(Trust::Denied) => return Outcome::Denied { found },
        Ok(t) => t,
        Err(e) => return invalid(&found, format!("{e:#}")),
    };
    // Parsing untrusted text is safe, and a broken file is better reported as such
    // than as "run ccenv allow" (which would refuse it).
    let resolved = match load_catalog(paths).and_then(|c| {
        let settings = contents.settings().map_err(|d| d.to_string())?;
        resolve::resolve(&settings, &c).map_err(|d: Diagnostic| d.to_string())
    }) {
        Ok(r) => r,
        Err(e) => return invalid(&found, e),
    };
    match trust {
        Trust::Allowed => {}
        Trust::Unknown => {
            return Outcome::Blocked { found, changed: false };
        }
        _ => {
            return Outcome::Blocked { found, changed: true };
        }
    }
    let key = lookup_key(&resolved, paths, before);
    Outcome::Applied { found, resolved: Box::new(resolved), key }
}

pub fn load_catalog(paths: &Paths) -> Result<Catalog, String> {
    let path = paths.user_config();
    match crate::fsutil::read_to_string_limited(&path, crate::fsutil::MIB) {
        Ok(text) => Catalog::with_user_config(&path, &text).map_err(|d| d.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Catalog::builtin()),
        Err(e) => Err(format!("{}: cannot read: {e}", path.display())),
    }
}

fn lookup_key(r: &Resolved, paths: &Paths, before: Option<&Snapshot>) -> Key {
    let Some(credential) = &r.credential else {
        return Key::NotNeeded;
    };
    let found = match credential {
        Credential::Store(name) => match FileKeyStore::new(paths.keys()).get(name) {
            Ok(v) => v,
            Err(e) => {
                return Key::Missing { why: format!("{e:#}") };
            }
        },
        // The shell's value from before entering: a managed variable such as
        // ANTHROPIC_API_KEY may already have been replaced by a project.
        Credential::Env(var) => envdiff::before_entering(&current_var, before, var).filter(|v| !v.is_empty()),
    };
    let p = &r.provider;
    match (found, &p.placeholder_key) {
        (Some(secret), _) => Key::Found { secret, source: credential.describe() },
        (None, Some(p)) => Key::Placeholder(p.clone()),
        (None, None) if p.key_optional => Key::NotNeeded,
        (None, None) => Key::Missing { why: missing_key_hint(r, credential) },
    }
}

fn missing_key_hint(r: &Resolved, credential: &Credential) -> String {
    let get = r.provider.key_url.as_ref().map(|u| format!(" (get one at {u})")).unwrap_or_default();
    match credential {
        Credential::Store(name) => {
            format!("no key stored for `{}`{get}; add it with `ccenv key set {name}`", r.provider.id)
        }
        Credential::Env(var) => {
            format!("`{var}` is not set in this shell, so `{}` has no key{get}", r.provider.id)
        }
    }
}

/// The operations that take this process's environment to what `eval` wants, the new
/// restore state, and what the user should read about it.
pub struct Plan {
    pub transition: Transition,
    /// `Some(value)` exports `CCENV_STATE`, `None` removes it (when set).
    pub state: Option<String>,
    pub messages: Vec<String>,
}

/// `external`: the state is for a tool that applies and restores it itself (`export`).
pub fn plan(eval: &Evaluation, inherited: &Inherited, paths: &Paths, external: bool) -> anyhow::Result<Plan> {
    let desired = eval.desired();
    let transition = envdiff::transition(current_var, inherited.snapshot.as_ref(), desired.as_ref());
    let state = match (&transition.snapshot, eval.found()) {
        (Some(snapshot), Some(found)) => {
            let id = SnapshotStore::new(&paths.data_dir).save(snapshot)?;
            let names = snapshot.keys().cloned().collect();
            let root = found.root.to_string_lossy().into_owned();
            Some(State { snapshot_id: id, names, root, external }.encode())
        }
        _ => None,
    };
    let mut messages: Vec<String> = inherited.lost.iter().cloned().collect();
    messages.extend(eval.notices());
    messages.extend(eval.conflict_notices());
    Ok(Plan { transition, state, messages })
}

/// Back to the environment from before any project; needs no new restore state.
pub fn unload(inherited: &Inherited) -> Plan {
    let transition = envdiff::transition(current_var, inherited.snapshot.as_ref(), None);
    Plan { transition, state: None, messages: inherited.lost.iter().cloned().collect() }
}

/// "using glm (glm-5.1) in ~/src/app" / "unloaded glm": said when the project changes.
pub fn announcement(eval: &Evaluation, inherited: &Inherited) -> Option<String> {
    let before = inherited.state.as_ref().map(|s| (s.root.clone(), current_var(names::PROVIDER)));
    match (&eval.outcome, before) {
        (Outcome::Applied { found, resolved, .. }, before) => {
            let root = found.root.to_string_lossy().into_owned();
            if before == Some((root.clone(), Some(resolved.provider.id.clone()))) {
                return None;
            }
            let model = resolved.provider.model.as_ref().map(|m| format!(" ({m})")).unwrap_or_default();
            Some(format!("using {}{model} in {}", resolved.provider.id, tilde(&root)))
        }
        (_, Some((_, provider))) => {
            Some(format!("unloaded {}", provider.unwrap_or_else(|| "provider".into())))
        }
        _ => None,
    }
}

pub fn tilde(path: &str) -> String {
    match dirs::home_dir().map(|h| h.to_string_lossy().into_owned()) {
        Some(h) if !h.is_empty() && h != "/" && path.starts_with(&h) => {
            format!("~{}", &path[h.len()..])
        }
        _ => path.to_string(),
    }
}

/// Values of these names are keys: never shown on a terminal.
pub fn is_secret_name(name: &str) -> bool {
    matches!(name, names::AUTH_TOKEN | names::API_KEY | "CLAUDE_CODE_OAUTH_TOKEN")
}

pub fn ops_with_state(plan: &Plan) -> Vec<Op> {
    let mut ops = plan.transition.ops.clone();
    let now = current_var(names::STATE);
    match &plan.state {
        Some(s) if now.as_deref() != Some(s) => ops.push(Op::Set(names::STATE.into(), s.clone())),
        None if now.is_some() => ops.push(Op::Unset(names::STATE.into())),
        _ => {}
    }
    ops
}
