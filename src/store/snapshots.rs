//! Restore state. The exported `CCENV_STATE` names the applied project and points at
//! a snapshot file; the snapshot (values from before entering, possibly the user's own
//! `ANTHROPIC_API_KEY`) stays in a 0600 file and never in the environment, so child
//! processes inherit no secret, while a nested shell can still restore by reading it.
//!
//! Snapshot files are named by the SHA-256 of their content, so entering many projects
//! from the same shell state reuses one file. Unused files are removed after 30 days.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::config::names;
use crate::core::envdiff::Vars;
use crate::core::hex;
use crate::store::fs;

const FORMAT: &str = "2";
const EXTERNAL: &str = "2x";
/// Format 1 carried the root verbatim; a shell started by an older ccenv still has it.
const OLD: [&str; 2] = ["1", "1x"];
const KEEP_UNUSED: Duration = Duration::from_secs(30 * 24 * 3600);

/// The value of `CCENV_STATE`: `2;<snapshot id>;<NAME,NAME,…>;<project root in hex>`, or `2x;…`
/// when `ccenv export` produced it for another tool (direnv, mise, a script) that
/// applies and restores it itself: ccenv's hook then leaves it alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub snapshot_id: String,
    pub names: Vec<String>,
    pub root: String,
    pub external: bool,
}

impl State {
    pub fn encode(&self) -> String {
        let format = if self.external { EXTERNAL } else { FORMAT };
        // The root in hex: every shell carries ASCII, cmd included, whatever the path
        // (C:\Users\张三\…), and no path character can end a field.
        format!("{format};{};{};{}", self.snapshot_id, self.names.join(","), hex(self.root.as_bytes()))
    }

    /// Accepts only what `encode` writes: the id is hex, the names are valid names.
    pub fn decode(value: &str) -> Option<State> {
        let mut parts = value.splitn(4, ';');
        let format = parts.next()?;
        let external = format.ends_with('x');
        let (id, names, raw) = (parts.next()?, parts.next()?, parts.next()?);
        let root = match format {
            FORMAT | EXTERNAL => String::from_utf8(unhex(raw)?).ok()?,
            f if OLD.contains(&f) => raw.to_string(),
            _ => return None,
        };
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let names: Vec<String> = names.split(',').filter(|n| !n.is_empty()).map(str::to_string).collect();
        if !names.iter().all(|n| names::is_valid(n)) {
            return None;
        }
        Some(State { snapshot_id: id.to_string(), names, root, external })
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

pub(crate) struct SnapshotStore {
    dir: PathBuf,
}

impl SnapshotStore {
    pub(crate) fn new(data_dir: &Path) -> Self {
        SnapshotStore { dir: data_dir.join("state") }
    }

    /// Stores `snapshot` (once per distinct content) and returns its id, which is
    /// always `id(snapshot)`.
    pub(crate) fn save(&self, snapshot: &Encoded) -> Result<()> {
        let path = self.dir.join(&snapshot.id);
        if path.exists() {
            // Mark as in use; a failure only shortens its life.
            if let Ok(f) = std::fs::OpenOptions::new().write(true).open(&path) {
                let _ = f.set_modified(SystemTime::now());
            }
        } else {
            fs::write_atomic(&path, &snapshot.bytes)?;
            fs::remove_older_than(&self.dir, KEEP_UNUSED);
        }
        Ok(())
    }

    pub(crate) fn load(&self, id: &str) -> Result<Vars> {
        let path = self.dir.join(id);
        let bytes = fs::read_to_string_limited(&path, fs::MIB)
            .with_context(|| format!("cannot read {}", path.display()))?
            .into_bytes();
        if content_id(&bytes) != id {
            bail!("{} is corrupt", path.display());
        }
        parse_snapshot(&bytes).with_context(|| format!("{} is corrupt", path.display()))
    }
}

/// Decodes a snapshot file's content; only valid variable names are accepted.
pub fn parse_snapshot(bytes: &[u8]) -> Result<Vars> {
    let snapshot: Vars = serde_json::from_slice(bytes)?;
    if let Some(bad) = snapshot.keys().find(|n| !names::is_valid(n)) {
        bail!("invalid variable name {bad:?}");
    }
    if snapshot.values().flatten().any(|v| v.contains('\0')) {
        bail!("a value contains NUL");
    }
    Ok(snapshot)
}

/// The id `save` gives `snapshot`, known without writing it (planning writes nothing).
/// A snapshot serialized once: the bytes to store and the content id naming them (the
/// restore state needs the id before the file is written).
pub(crate) struct Encoded {
    pub(crate) id: String,
    bytes: Vec<u8>,
}

pub(crate) fn encode(snapshot: &Vars) -> Encoded {
    let bytes = serde_json::to_vec(snapshot).expect("a map of strings serializes");
    Encoded { id: content_id(&bytes), bytes }
}

fn content_id(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_rejects_tampering() {
        let s = State {
            snapshot_id: "0123456789abcdef0123456789abcdef".into(),
            names: vec!["A".into(), "B_C".into()],
            root: "/w/we;ird,root".into(),
            external: false,
        };
        let ext = State { external: true, ..s.clone() };
        assert!(ext.encode().starts_with("2x;"));
        assert_eq!(State::decode(&ext.encode()), Some(ext));
        assert_eq!(State::decode(&s.encode()), Some(s.clone()));
        let chinese = State { root: "C:\\Users\\张三\\app".into(), ..s.clone() };
        assert!(chinese.encode().is_ascii());
        assert_eq!(State::decode(&chinese.encode()), Some(chinese));
        let old = format!("1;{};A,B_C;/w/we;ird,root", s.snapshot_id);
        assert_eq!(State::decode(&old), Some(s), "a shell from an older ccenv still restores");
        for bad in [
            "",
            "3;0123456789abcdef0123456789abcdef;A;2f72",
            "2;0123456789abcdef0123456789abcdef;A;/r",
            "2;0123456789abcdef0123456789abcdef;A;ff",
            "1;../../etc/passwd000000000000000;A;/r",
            "1;0123456789abcdef0123456789abcdef;A B;/r",
            "1;0123456789abcdef0123456789abcdef;A",
        ] {
            assert_eq!(State::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn snapshots_are_content_addressed_and_verified() {
        let data = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(data.path());
        let snap: Vars =
            [("ANTHROPIC_API_KEY".to_string(), Some("sk-real".to_string())), ("B".into(), None)].into();
        let encoded = encode(&snap);
        store.save(&encoded).unwrap();
        store.save(&encode(&snap)).unwrap();
        let id = encoded.id;
        assert_eq!(store.load(&id).unwrap(), snap);
        assert_eq!(std::fs::read_dir(data.path().join("state")).unwrap().count(), 1);
        std::fs::write(data.path().join("state").join(&id), b"{}").unwrap();
        assert!(store.load(&id).is_err());
    }
}
