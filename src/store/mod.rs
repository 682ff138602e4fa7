//! What ccenv keeps on disk, outside every repository: where (`paths`), trust records,
//! keys, restore snapshots and per-shell stamps, all written privately and atomically
//! (`fs`).

pub(crate) mod fs;
pub mod gateway;
pub(crate) mod keys;
pub(crate) mod paths;
pub mod snapshots;
pub(crate) mod stamps;
pub(crate) mod trust;
