//! One renderer per shell: a computed change (`core::envdiff::Op`s) becomes statements
//! that shell reads back exactly, and the hook's own state (watched paths, stamp,
//! what was said) becomes that shell's variables. Every value goes through the shell's
//! quoting (the rules and their measurements: docs/shells.md); names are checked by
//! `config::names::is_valid` before they get here, so names are never quoted. The hook
//! scripts are in `hooks/`, beside their renderers.

mod clink;
mod cmd;
mod fish;
mod posix;
mod powershell;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::ValueEnum;

use crate::core::envdiff::Op;
use crate::output::{is_secret_name, mask};

use clink::Clink;
use cmd::Cmd;
use fish::Fish;
use posix::Posix;
use powershell::PowerShell;

/// The shells ccenv speaks, named once: clap reads them from the command line and the
/// hook's `hook-env` call names them with `from_name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShellName {
    Bash,
    Zsh,
    Fish,
    /// Windows PowerShell 5.1 and PowerShell 7
    #[value(alias = "pwsh")]
    Powershell,
    /// cmd.exe: the hook is a Clink script; export prints `set` lines
    Cmd,
    /// The data format the Clink hook reads (`hook-env clink` only)
    #[value(skip)]
    Clink,
}

/// Statements that change exported variables.
pub(crate) trait Statements {
    /// Sets an exported variable.
    fn export(&self, name: &str, value: &str) -> String;
    /// Removes a variable from this shell and from what its children inherit.
    fn unset(&self, name: &str) -> String;
    /// Why this shell cannot carry `value` safely, if it cannot.
    fn refuse(&self, _value: &str) -> Option<String> {
        None
    }
    /// `apply` (from `export` and `unset`) as one change: when any statement fails, every
    /// `undo` statement runs and `failed` is printed. By default in order, for shells whose
    /// values cannot fail to set (PowerShell, cmd).
    fn atomic(&self, apply: &[String], _undo: &[String], _failed: &str) -> String {
        apply.concat()
    }
}

/// What a prompt hook needs besides statements: its script, and its own variables.
pub(crate) trait Hook: Statements {
    /// A literal that this shell reads back as exactly `value` (which has no NUL).
    fn quote(&self, value: &str) -> String;
    /// Sets a global shell variable that children do not inherit.
    fn set_local(&self, name: &str, value: &str) -> String;
    /// A literal that this shell reads back as exactly `path`. By default lossy: fine for
    /// shells whose paths are Unicode (Windows), and for other shells' UTF-8 paths.
    fn quote_path(&self, path: &Path) -> String {
        self.quote(&path.to_string_lossy())
    }
    /// Sets a global list of paths that children do not inherit (the watched files).
    fn set_path_list(&self, name: &str, paths: &[PathBuf]) -> String;
    /// The hook script, with `@CCENV@` standing for the quoted path of the binary.
    fn template(&self) -> &'static str;
    /// What the hook compares watched files' times against: by default a stamp file
    /// (`-nt`); hooks that read file times in-process keep the start time as a number.
    fn stamp(&self, stamp_file: &str, _started: SystemTime) -> String {
        self.set_local("__ccenv_stamp", stamp_file)
    }
}

const BASH: Posix = Posix { hook: include_str!("hooks/ccenv.bash"), zsh: false };
const ZSH: Posix = Posix { hook: include_str!("hooks/ccenv.zsh"), zsh: true };

impl ShellName {
    /// The names `hook-env` takes (what each hook script passes).
    pub fn from_name(name: &str) -> Option<ShellName> {
        Some(match name {
            "bash" => ShellName::Bash,
            "zsh" => ShellName::Zsh,
            "fish" => ShellName::Fish,
            "powershell" | "pwsh" => ShellName::Powershell,
            "cmd" => ShellName::Cmd,
            "clink" => ShellName::Clink,
            _ => return None,
        })
    }

    pub(crate) fn statements(self) -> &'static dyn Statements {
        match self.hook() {
            Some(h) => h,
            None => &Cmd,
        }
    }

    /// The shell's hook side; plain cmd has none (its hook is the Clink script).
    pub(crate) fn hook(self) -> Option<&'static dyn Hook> {
        match self {
            ShellName::Bash => Some(&BASH),
            ShellName::Zsh => Some(&ZSH),
            ShellName::Fish => Some(&Fish),
            ShellName::Powershell => Some(&PowerShell),
            ShellName::Clink => Some(&Clink),
            ShellName::Cmd => None,
        }
    }

    /// The hook script for this shell, pointing at the binary `exe`.
    pub(crate) fn hook_script(self, exe: &str) -> String {
        let hook = self.hook().unwrap_or(&Clink);
        hook.template().replace("@CCENV@", &hook.quote(exe))
    }
}

/// A value one shell cannot carry: nothing is rendered.
#[derive(Debug)]
pub(crate) struct Refused {
    name: String,
    why: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "this shell cannot carry {} safely: the value {}. Nothing was changed; \
             use Clink (`ccenv hook cmd`) or PowerShell",
            self.name, self.why
        )
    }
}

impl std::error::Error for Refused {}

/// Renders every operation as one change, or refuses the lot when one value cannot be
/// carried safely. `now` gives each name's value before the change: when any statement
/// fails, every name is put back to it, so the shell never holds half of a change and
/// `CCENV_STATE` (set last) always describes what is set.
/// `mask_secrets`: keys are shown masked (the output goes to a terminal).
pub(crate) fn render(
    shell: &dyn Statements,
    ops: &[Op],
    now: impl Fn(&str) -> Option<String>,
    mask_secrets: bool,
) -> Result<String, Refused> {
    // Every name that cannot be carried, not just the first: a `model` fills several
    // role variables, and naming only the first sorted one hides the one the user wrote.
    let refused: Vec<(&String, String)> = ops
        .iter()
        .filter_map(|op| match op {
            Op::Set(name, value) => shell.refuse(value).map(|why| (name, why)),
            Op::Unset(_) => None,
        })
        .collect();
    if let Some((_, why)) = refused.first() {
        let names: Vec<&str> = refused.iter().map(|(n, _)| n.as_str()).collect();
        return Err(Refused { name: names.join(", "), why: why.clone() });
    }
    let line = |op: &Op| match op {
        Op::Set(n, v) if mask_secrets && is_secret_name(n) => shell.export(n, &mask(v)),
        Op::Set(n, v) => shell.export(n, v),
        Op::Unset(n) => shell.unset(n),
    };
    let undo: Vec<String> = ops
        .iter()
        .map(|op| {
            let (Op::Set(name, _) | Op::Unset(name)) = op;
            line(&match now(name) {
                Some(v) => Op::Set(name.clone(), v),
                None => Op::Unset(name.clone()),
            })
        })
        .collect();
    let apply: Vec<String> = ops.iter().map(line).collect();
    Ok(shell.atomic(
        &apply,
        &undo,
        "ccenv: the provider change could not be applied (see above); nothing was changed",
    ))
}

/// `{"set": {…}, "unset": […]}` for tools that apply the change themselves.
pub(crate) fn render_json(ops: &[Op], mask_secrets: bool) -> String {
    let mut set = serde_json::Map::new();
    let mut unset = Vec::new();
    for op in ops {
        match op {
            Op::Set(n, v) if mask_secrets && is_secret_name(n) => {
                set.insert(n.clone(), mask(v).into());
            }
            Op::Set(n, v) => {
                set.insert(n.clone(), v.clone().into());
            }
            Op::Unset(n) => unset.push(n.clone()),
        }
    }
    let json = serde_json::json!({ "set": set, "unset": unset });
    format!("{}\n", crate::output::json(&json))
}

/// What the hook keeps between prompts: the watched files that exist and those that do
/// not, the stamp to compare them against (`None`: none, every prompt re-checks), and
/// the hash of what was last said.
pub(crate) struct HookState<'a> {
    pub(crate) present: &'a [PathBuf],
    pub(crate) absent: &'a [PathBuf],
    pub(crate) stamp: Option<(&'a Path, SystemTime)>,
    pub(crate) said: &'a str,
}

pub(crate) fn render_hook_state(hook: &dyn Hook, state: &HookState) -> String {
    let (stamp_path, started) = match state.stamp {
        Some((p, t)) => (p.to_string_lossy().into_owned(), t),
        None => (String::new(), SystemTime::UNIX_EPOCH),
    };
    let mut out = hook.set_path_list("__ccenv_present", state.present);
    out.push_str(&hook.set_path_list("__ccenv_absent", state.absent));
    out.push_str(&hook.stamp(&stamp_path, started));
    out.push_str(&hook.set_local("__ccenv_said", state.said));
    out
}

/// Quotes the UTF-8 runs of `bytes` with `quote` and writes every other byte with
/// `escape`, side by side: shells join adjacent quoted parts into one word.
fn quote_bytes(bytes: &[u8], quote: impl Fn(&str) -> String, escape: impl Fn(u8) -> String) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        if !chunk.valid().is_empty() {
            out += &quote(chunk.valid());
        }
        for &b in chunk.invalid() {
            out += &escape(b);
        }
    }
    if out.is_empty() { quote("") } else { out }
}
