//! What applies in a directory (`Outcome`), with what the hook must watch and which
//! Claude Code settings files would override it (`Evaluation`); and the one place an
//! outcome is put into words for the user.

use std::path::PathBuf;

use crate::claude::Conflict;
use crate::config::diagnostic::ReadError;
use crate::config::names;
use crate::config::project::{Credential, Found};
use crate::core::envdiff::Vars;
use crate::core::resolve::{self, Key, Resolved};
use crate::output::{mask, tilde};

#[derive(Debug)]
pub(crate) enum Outcome {
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
        error: ReadError,
    },
    Applied {
        found: Found,
        resolved: Box<Resolved>,
        key: Key,
    },
}

pub(crate) struct Evaluation {
    pub(crate) outcome: Outcome,
    /// Files whose appearance, disappearance or change can change the outcome.
    pub(crate) watch: Vec<PathBuf>,
    /// Claude Code settings files whose `env` would override what is applied here.
    pub(crate) conflicts: Vec<Conflict>,
    /// Project files skipped because another user owns them, with that user's id.
    pub(crate) ignored: Vec<(PathBuf, u32)>,
    /// The Claude Code settings files that apply where Claude Code would run here.
    pub(crate) settings: Vec<(crate::claude::Level, PathBuf)>,
}

impl Evaluation {
    pub(crate) fn desired(&self) -> Option<Vars> {
        match &self.outcome {
            Outcome::Applied { resolved, key, .. } => Some(resolve::desired(resolved, key)),
            _ => None,
        }
    }

    /// See `resolve::desired_keeping`.
    pub(crate) fn desired_keeping(&self, keep: impl Fn(&str) -> bool) -> Option<Vars> {
        match &self.outcome {
            Outcome::Applied { resolved, key, .. } => Some(resolve::desired_keeping(resolved, key, keep)),
            _ => None,
        }
    }

    pub(crate) fn found(&self) -> Option<&Found> {
        match &self.outcome {
            Outcome::Denied { found } | Outcome::Blocked { found, .. } | Outcome::Applied { found, .. } => {
                Some(found)
            }
            Outcome::Invalid { found, .. } => found.as_ref(),
            Outcome::NoProject | Outcome::Gone => None,
        }
    }

    /// One-line messages for the user (errors, blocked files, a missing key).
    pub(crate) fn notices(&self) -> Vec<String> {
        match &self.outcome {
            Outcome::Invalid { error, .. } => vec![format!("error: {error}")],
            Outcome::Blocked { found, changed } => {
                let what = if *changed { "changed since it was allowed" } else { "is not allowed yet" };
                vec![format!("{} {what}; review it, then run `ccenv allow`", first_file(found))]
            }
            Outcome::Applied { key: Key::Missing { why }, .. } => vec![why.clone()],
            _ => Vec::new(),
        }
    }

    /// One line per Claude Code settings file that would override the provider; the
    /// first also says where plain `claude` would send which key.
    pub(crate) fn conflict_notices(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .conflicts
            .iter()
            .map(|c| {
                format!(
                    "{} sets {} in its env, which Claude Code applies over this shell; run `ccenv doctor`",
                    tilde(&c.path.to_string_lossy()),
                    c.names.join(", ")
                )
            })
            .collect();
        if let (Some(first), Some(sends)) = (lines.first_mut(), self.claude_sends()) {
            first.push_str(&format!("; {sends}"));
        }
        lines
    }

    /// With a settings file overriding the project: which key plain `claude` sends to
    /// which endpoint (settings files rank highest first, so the first value wins).
    pub(crate) fn claude_sends(&self) -> Option<String> {
        let Outcome::Applied { resolved, key, .. } = &self.outcome else { return None };
        if self.conflicts.is_empty() {
            return None;
        }
        let from = |name: &str| self.conflicts.iter().find_map(|c| c.values.get(name).map(|v| (c, v)));
        let file = |c: &Conflict| tilde(&c.path.to_string_lossy());
        let url = match from(names::BASE_URL) {
            Some((_, v)) if !v.is_empty() => v.clone(),
            _ => resolved.provider.base_url.clone().unwrap_or_else(|| "the official Anthropic API".into()),
        };
        let ours = resolved.provider.auth.variables().0;
        let mut sent = Vec::new();
        for (var, header) in [(names::AUTH_TOKEN, "Authorization: Bearer"), (names::API_KEY, "x-api-key")] {
            match (from(var), key) {
                (Some((_, v)), _) if v.is_empty() => {}
                (Some((c, v)), _) => sent.push(format!("{}'s {var} ({}) as {header}", file(c), mask(v))),
                (None, Key::Found { source, .. }) if ours == Some(var) => {
                    sent.push(format!("this project's key ({source}) as {header}"))
                }
                _ => {}
            }
        }
        let what = if sent.is_empty() { "no key".to_string() } else { sent.join(" and ") };
        Some(format!("plain `claude` here sends {what} to {url}; `ccenv exec -- claude` sends the project's"))
    }

    /// Why a command that needs an applied provider (`exec`, `claude-settings`,
    /// `key helper`) cannot run here; `None` when one applies.
    pub(crate) fn refusal(&self) -> Option<Refusal> {
        match &self.outcome {
            Outcome::Applied { .. } => None,
            Outcome::NoProject | Outcome::Gone => Some(Refusal::NoProject),
            Outcome::Denied { found } => Some(Refusal::Denied(found.root.clone())),
            _ => Some(Refusal::Other(self.notices().join("; "))),
        }
    }
}

/// See `Evaluation::refusal`; each command words the first two in its own sentence.
pub(crate) enum Refusal {
    NoProject,
    Denied(PathBuf),
    Other(String),
}

/// The short state `ccenv status` shows.
pub(crate) fn state_text(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::NoProject => "no project file here or above",
        Outcome::Gone => "the current directory no longer exists",
        Outcome::Denied { .. } => "denied (ccenv allow to undo)",
        Outcome::Blocked { changed: false, .. } => "blocked: not allowed yet (review, then ccenv allow)",
        Outcome::Blocked { changed: true, .. } => "blocked: changed since allowed (review, then ccenv allow)",
        Outcome::Invalid { .. } => "invalid",
        Outcome::Applied { .. } => "allowed",
    }
}

/// The file to point the user at: the committed one, else the `.local` one.
pub(crate) fn first_file(found: &Found) -> String {
    found.main.as_ref().or(found.local.as_ref()).map(|p| p.display().to_string()).unwrap_or_default()
}

/// Every file of a project, `a + b`.
pub(crate) fn files(found: &Found) -> String {
    let files: Vec<String> =
        [&found.main, &found.local].into_iter().flatten().map(|p| p.display().to_string()).collect();
    files.join(" + ")
}

/// "using glm (glm-5.1) in ~/src/app" / "unloaded glm": said when the project changes.
/// `before`: the root this shell had applied and the provider it had then.
pub(crate) fn announcement(outcome: &Outcome, before: Option<(String, Option<String>)>) -> Option<String> {
    match (outcome, before) {
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

/// What to do about a key that is needed and absent.
pub(crate) fn missing_key_hint(r: &Resolved, credential: &Credential) -> String {
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::config::provider::Catalog;

    fn found(main: bool, local: bool) -> Found {
        let root = PathBuf::from("/w/app");
        Found {
            main: main.then(|| root.join(".claude-provider.toml")),
            local: local.then(|| root.join(".claude-provider.local.toml")),
            root,
        }
    }

    fn applied(text: &str) -> Outcome {
        let settings = crate::config::project::parse(Path::new("p"), text).unwrap();
        let resolved = resolve::resolve(&settings, &Catalog::builtin()).unwrap();
        Outcome::Applied { found: found(true, false), resolved: Box::new(resolved), key: Key::NotNeeded }
    }

    fn eval(outcome: Outcome) -> Evaluation {
        Evaluation {
            outcome,
            watch: Vec::new(),
            conflicts: Vec::new(),
            ignored: Vec::new(),
            settings: Vec::new(),
        }
    }

    #[test]
    fn files_name_the_committed_file_first() {
        assert_eq!(first_file(&found(true, true)), "/w/app/.claude-provider.toml");
        assert_eq!(first_file(&found(false, true)), "/w/app/.claude-provider.local.toml");
        assert_eq!(
            files(&found(true, true)),
            "/w/app/.claude-provider.toml + /w/app/.claude-provider.local.toml"
        );
    }

    #[test]
    fn announcements_say_enter_and_leave_once() {
        let glm = applied("provider = \"glm\"\nmodel = \"glm-5\"\n");
        assert_eq!(announcement(&glm, None).as_deref(), Some("using glm (glm-5) in /w/app"));
        let same = Some(("/w/app".to_string(), Some("glm".to_string())));
        assert_eq!(announcement(&glm, same), None, "already applied here");
        let other = Some(("/w/other".to_string(), Some("kimi".to_string())));
        assert_eq!(announcement(&glm, other).as_deref(), Some("using glm (glm-5) in /w/app"));
        let left = Some(("/w/app".to_string(), Some("glm".to_string())));
        assert_eq!(announcement(&Outcome::NoProject, left).as_deref(), Some("unloaded glm"));
        assert_eq!(
            announcement(&Outcome::NoProject, Some(("/w".into(), None))).as_deref(),
            Some("unloaded provider")
        );
        assert_eq!(announcement(&Outcome::NoProject, None), None);
    }

    #[test]
    fn refusals_and_notices_follow_the_outcome() {
        assert!(eval(applied("provider = \"ollama\"\n")).refusal().is_none());
        assert!(matches!(eval(Outcome::Gone).refusal(), Some(Refusal::NoProject)));
        let denied = eval(Outcome::Denied { found: found(true, false) });
        assert!(matches!(denied.refusal(), Some(Refusal::Denied(r)) if r == Path::new("/w/app")));
        assert!(denied.notices().is_empty(), "deny means quiet");
        let blocked = eval(Outcome::Blocked { found: found(false, true), changed: true });
        assert_eq!(
            blocked.notices(),
            [
                "/w/app/.claude-provider.local.toml changed since it was allowed; review it, then run `ccenv allow`"
            ]
        );
        assert!(matches!(blocked.refusal(), Some(Refusal::Other(m)) if m == blocked.notices()[0]));
        let invalid =
            eval(Outcome::Invalid { found: None, error: ReadError::Other("x: cannot read".into()) });
        assert_eq!(invalid.notices(), ["error: x: cannot read"]);
        assert_eq!(state_text(&invalid.outcome), "invalid");
    }
}
