//! ccenv: pin a Claude Code provider per repository.
//!
//! Pure core: `project` + `provider` → `resolve` (what a project wants) → `envdiff`
//! (how to get there and back). Around it: `engine` (reads files and stores),
//! `shell` (one emitter per shell), `commands` and friends (the CLI), `claude`
//! (Claude Code's own files), `doctor`.

pub mod claude;
pub mod cli;
pub mod commands;
pub mod completions;
pub mod diagnostic;
pub mod doctor;
pub mod engine;
pub mod envdiff;
pub mod exec;
pub mod fsutil;
pub mod ide;
pub mod import;
pub mod jsonedit;
pub mod keystore;
pub mod names;
pub mod paths;
pub mod project;
pub mod provider;
pub mod resolve;
pub mod shell;
pub mod state;
pub mod trust;
pub mod watch;
