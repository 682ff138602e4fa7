//! One emitter per shell behind one small trait of pure string builders. Every value
//! that reaches a shell goes through `quote` of that shell; names are checked against
//! `names::is_valid` before they get here, so names are never quoted.

mod fish;
mod posix;

pub use fish::Fish;
pub use posix::Posix;

pub trait Shell {
    /// A literal that this shell reads back as exactly `value` (which has no NUL).
    fn quote(&self, value: &str) -> String;
    /// Sets an exported variable.
    fn export(&self, name: &str, value: &str) -> String;
    /// Removes a variable from this shell and from what its children inherit.
    fn unset(&self, name: &str) -> String;
    /// Sets a global shell variable that children do not inherit.
    fn set_local(&self, name: &str, value: &str) -> String;
    fn set_local_list(&self, name: &str, values: &[String]) -> String;
    /// The hook script, with `@CCENV@` standing for the quoted path of the binary.
    fn hook_template(&self) -> &'static str;
}

pub const BASH: Posix = Posix { hook: include_str!("../../shell/ccenv.bash"), zsh: false };
pub const ZSH: Posix = Posix { hook: include_str!("../../shell/ccenv.zsh"), zsh: true };
pub const FISH: Fish = Fish;

pub fn from_name(name: &str) -> Option<&'static dyn Shell> {
    match name {
        "bash" => Some(&BASH),
        "zsh" => Some(&ZSH),
        "fish" => Some(&FISH),
        _ => None,
    }
}

pub fn hook(shell: &dyn Shell, exe: &str) -> String {
    shell.hook_template().replace("@CCENV@", &shell.quote(exe))
}
