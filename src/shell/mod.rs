//! One emitter per shell behind one small trait of pure string builders. Every value
//! that reaches a shell goes through that shell's builder; names are checked against
//! `names::is_valid` before they get here, so names are never quoted.

mod clink;
mod cmd;
mod fish;
mod posix;
mod powershell;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use clink::Clink;
pub use cmd::Cmd;
pub use fish::Fish;
pub use posix::Posix;
pub use powershell::PowerShell;

pub trait Shell {
    /// A literal that this shell reads back as exactly `value` (which has no NUL).
    fn quote(&self, value: &str) -> String;
    /// Sets an exported variable.
    fn export(&self, name: &str, value: &str) -> String;
    /// Removes a variable from this shell and from what its children inherit.
    fn unset(&self, name: &str) -> String;
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
    fn hook_template(&self) -> &'static str;
    /// Why this shell cannot carry `value` safely, if it cannot.
    fn refuse(&self, _value: &str) -> Option<String> {
        None
    }
    /// What the hook compares watched files' times against: by default a stamp file
    /// (`-nt`); hooks that read file times in-process keep the start time as a number.
    fn stamp(&self, stamp_file: &str, _started: SystemTime) -> String {
        self.set_local("__ccenv_stamp", stamp_file)
    }
}

pub const BASH: Posix = Posix { hook: include_str!("../../shell/ccenv.bash"), zsh: false };
pub const ZSH: Posix = Posix { hook: include_str!("../../shell/ccenv.zsh"), zsh: true };

/// `hook-env` shells: what the hooks call. `clink` is the data format the cmd hook reads.
pub fn from_name(name: &str) -> Option<&'static dyn Shell> {
    match name {
        "bash" => Some(&BASH),
        "zsh" => Some(&ZSH),
        "fish" => Some(&Fish),
        "powershell" | "pwsh" => Some(&PowerShell),
        "cmd" => Some(&Cmd),
        "clink" => Some(&Clink),
        _ => None,
    }
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

pub fn hook(shell: &dyn Shell, exe: &str) -> String {
    shell.hook_template().replace("@CCENV@", &shell.quote(exe))
}
