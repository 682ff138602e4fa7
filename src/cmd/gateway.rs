//! `ccenv gateway start|stop|status` and `ccenv usage`: run `ccenv-gateway`, installed
//! beside this binary, which holds all the server code (this one links none of it).

use std::process::Command;

use anyhow::{Context as _, Result};

use crate::cli::GatewayAction;
use crate::context::Context;
use crate::store::gateway;

pub(crate) fn run(action: GatewayAction) -> Result<i32> {
    let ctx = Context::from_process()?;
    let port = ctx.gateway_port().to_string();
    let args: Vec<&str> = match &action {
        GatewayAction::Start => vec!["serve", "--detach", "--port", &port],
        GatewayAction::Stop => vec!["stop"],
        GatewayAction::Status { json: true } => vec!["status", "--json"],
        GatewayAction::Status { json: false } => vec!["status"],
    };
    run_gateway(&args)
}

pub(crate) fn usage(since: &str, by: &str, json: bool) -> Result<i32> {
    let mut args = vec!["usage", "--since", since, "--by", by];
    if json {
        args.push("--json");
    }
    run_gateway(&args)
}

fn run_gateway(args: &[&str]) -> Result<i32> {
    let program = gateway::program()?;
    let status = Command::new(&program)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {}", program.display()))?;
    Ok(status.code().unwrap_or(1))
}
