//! `ccenv hook SHELL`: the script to put in the shell's startup file.

use anyhow::Result;

use crate::output::emit;
use crate::shell::ShellName;

pub(crate) fn run(shell: ShellName) -> Result<()> {
    emit(&shell.hook_script(&super::exe_path()?))
}
