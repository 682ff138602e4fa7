//! `ccenv man`: the man page, generated from the clap definition.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::Cli;

pub(crate) fn run() -> Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    crate::output::emit(&String::from_utf8(out)?)
}
