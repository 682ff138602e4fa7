//! `ccenv-gateway`: the local gateway that lets Claude Code use OpenAI-protocol
//! providers and fail over between providers, with upstream keys kept out of every
//! environment. A separate binary so the per-prompt `ccenv hook-env` path links none
//! of it; `ccenv` starts it and reads its usage by running this program.

mod app;
mod failover;
mod files;
mod lifecycle;
mod project_routes;
mod relay;
mod report;
mod route;
mod routes_file;
mod security;
mod server;
mod translate;
mod upstream;
mod usage;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ccenv-gateway", version, about = "ccenv's local gateway for Claude Code")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway on 127.0.0.1.
    Serve(ServeArgs),
    /// Stop the running gateway.
    Stop,
    /// Is the gateway running, and which upstream serves each project?
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Requests and tokens per project, provider, model or day.
    Usage {
        /// How far back: 30m, 12h, 7d, 2w.
        #[arg(long, default_value = "7d")]
        since: String,
        #[arg(long, value_enum, default_value = "project")]
        by: report::By,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// DEVELOPMENT AND TEST AID: fixed routes from a TOML file instead of ccenv's
    /// project rules (see routes_file.rs for the format). Without it: ccenv's rules.
    #[arg(long, value_name = "FILE")]
    routes: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one); default CCENV_GATEWAY_PORT, else per user.
    #[arg(long)]
    port: Option<u16>,
    /// Start in the background and return once it answers.
    #[arg(long)]
    detach: bool,
    /// Seconds to wait for an upstream's first byte before trying the next.
    #[arg(long, default_value_t = 120)]
    first_byte_timeout: u64,
    /// Seconds to wait for a TCP/TLS connection to an upstream.
    #[arg(long, default_value_t = 10)]
    connect_timeout: u64,
    /// Seconds of silence in the middle of a stream before it is ended with an error.
    #[arg(long, default_value_t = 300)]
    idle_timeout: u64,
}

fn main() {
    let cli = Cli::parse();
    // reqwest is built without a default crypto provider so that only ring is linked.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let result = rt.block_on(run(cli));
    match result {
        Ok(0) => {}
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("ccenv-gateway: {}", report::escape(&format!("{e:#}")));
            std::process::exit(1);
        }
    }
}

async fn run(cli: Cli) -> Result<i32> {
    let files = files::Files::from_env()?;
    match cli.command {
        Command::Serve(args) => serve(&files, args).await.map(|_| 0),
        Command::Stop => lifecycle::stop(&files).await.map(|_| 0),
        Command::Status { json } => lifecycle::status(&files, json).await.map(|up| if up { 0 } else { 3 }),
        Command::Usage { since, by, json } => {
            let secs = report::parse_since(&since)?;
            let conn = usage::open(&files.usage_db())?;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
            let rows = report::query(&conn, secs, by, now)?;
            if json {
                println!("{}", ccenv::output::json_line(&report::to_json(&rows)));
            } else {
                print!("{}", report::table(&rows, by));
            }
            Ok(0)
        }
    }
}

fn port(args: &ServeArgs) -> Result<u16> {
    if let Some(p) = args.port {
        return Ok(p);
    }
    match std::env::var("CCENV_GATEWAY_PORT") {
        Ok(v) if !v.is_empty() => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("CCENV_GATEWAY_PORT `{}` is not a port number", report::escape(&v))),
        _ => Ok(lifecycle::default_port()),
    }
}

async fn serve(files: &files::Files, args: ServeArgs) -> Result<()> {
    let port = port(&args)?;
    if args.detach {
        let mut forward: Vec<std::ffi::OsString> = vec!["serve".into()];
        if let Some(routes) = &args.routes {
            forward.extend(["--routes".into(), std::path::absolute(routes)?.into()]);
        }
        for (flag, value) in [
            ("--port", u64::from(port)),
            ("--first-byte-timeout", args.first_byte_timeout),
            ("--connect-timeout", args.connect_timeout),
            ("--idle-timeout", args.idle_timeout),
        ] {
            forward.extend([flag.into(), value.to_string().into()]);
        }
        return lifecycle::detach(files, &forward).await;
    }
    let resolver: Arc<dyn route::Resolver> = match &args.routes {
        Some(routes) => Arc::new(routes_file::RoutesFile::load(routes)?),
        None => Arc::new(project_routes::ProjectRoutes),
    };
    let timeouts = app::Timeouts {
        connect: Duration::from_secs(args.connect_timeout),
        first_byte: Duration::from_secs(args.first_byte_timeout),
        idle: Duration::from_secs(args.idle_timeout),
    };
    lifecycle::serve(files, resolver, lifecycle::ServeOptions { port, timeouts }).await
}
