//! What the user wrote: the project file (found by walking up), the provider catalog
//! (built-in presets plus the user's config.toml), the variable names ccenv manages or
//! refuses, and located errors (`path:line:column: message`) for all of them.

pub mod catalog;
pub mod diagnostic;
pub mod fallback;
pub(crate) mod keys;
pub mod names;
pub mod policy;
pub mod project;
pub mod provider;
