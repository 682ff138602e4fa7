//! ccenv: pin a Claude Code provider per repository.
//!
//! The data flow, one directory per step (docs/architecture.md has the map):
//!
//! - `config/`: what the user wrote — the project file found by walking up, the provider
//!   catalog (presets + config.toml), variable names, located errors.
//! - `core/`: pure — `resolve` (project + provider → the variables it wants),
//!   `envdiff` (environment now + snapshot + wanted → operations), `outcome` (what
//!   applies here, and the one place it is put into words).
//! - `context.rs`: the boundary — an environment passed in as a map, the working
//!   directory and ccenv's folders; evaluates a directory and plans a change without
//!   writing anything.
//! - `shell/`: one renderer per shell of a computed change, and the hook scripts.
//! - `store/`: what ccenv keeps on disk — trust, keys, snapshots, stamps.
//! - `claude/`: Claude Code's own settings files. `doctor/`: the checks.
//! - `cli.rs` + `cmd/`: the command line, one file per subcommand; `output.rs`: the
//!   one place text reaches the terminal.

mod claude;
pub mod cli;
pub mod cmd;
pub mod config;
mod context;
/// What `ccenv-gateway` asks of the library: a project's upstreams under the hook's rules.
pub use context::route;
pub mod core;
mod doctor;
pub mod output;
pub mod shell;
pub mod store;
