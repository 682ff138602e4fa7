//! The pure core: no file, no environment, no clock. `resolve` turns a project's
//! settings and the provider catalog into the variables it wants; `envdiff` computes
//! the operations from the environment now to that, and back; `outcome` is what
//! applies in a directory and the one place it is put into words.

pub(crate) mod chain;
pub(crate) mod envdiff;
pub(crate) mod outcome;
pub mod resolve;

/// Lower-case hex of `bytes` (content ids, digests, the Clink wire format).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
