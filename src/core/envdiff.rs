//! Pure core, step 2: from the environment now, what it was before the current project
//! was entered (the snapshot), and what the next project wants, compute the operations
//! that reach the new environment, and the snapshot to keep for the next leave.

use std::collections::{BTreeMap, BTreeSet};

/// Variables and their values, `None` = unset. The one map type of the core: what a
/// project wants (its desired variables) and what they were before entering (the
/// snapshot kept for leaving) are both `Vars`.
pub type Vars = BTreeMap<String, Option<String>>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Set(String, String),
    Unset(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub ops: Vec<Op>,
    /// What to restore on leaving the new project (`None`: no project applied).
    pub snapshot: Option<Vars>,
}

/// The value `name` had before any project was applied.
pub fn before_entering(
    current: &impl Fn(&str) -> Option<String>,
    old: Option<&Vars>,
    name: &str,
) -> Option<String> {
    match old.and_then(|s| s.get(name)) {
        Some(v) => v.clone(),
        None => current(name),
    }
}

pub fn transition(
    current: impl Fn(&str) -> Option<String>,
    old: Option<&Vars>,
    desired: Option<&Vars>,
) -> Transition {
    let names: BTreeSet<&String> =
        old.into_iter().flat_map(|s| s.keys()).chain(desired.into_iter().flat_map(|d| d.keys())).collect();
    let mut ops = Vec::new();
    let mut snapshot = desired.map(|_| Vars::new());
    for name in names {
        // One read per name: the managed set is ~100 names, most of them unset.
        let now = current(name);
        let before = match old.and_then(|s| s.get(name)) {
            Some(v) => v.clone(),
            None => now.clone(),
        };
        let wanted = desired.and_then(|d| d.get(name));
        let target = wanted.cloned().unwrap_or_else(|| before.clone());
        if now != target {
            ops.push(match target {
                Some(v) => Op::Set(name.clone(), v),
                None => Op::Unset(name.clone()),
            });
        }
        // Unset before and unset by the project: nothing to restore, so the restore state
        // (CCENV_STATE and the snapshot file) names only what was or will be set.
        if let (Some(snap), Some(wanted)) = (snapshot.as_mut(), wanted)
            && (wanted.is_some() || before.is_some())
        {
            snap.insert(name.clone(), before);
        }
    }
    Transition { ops, snapshot }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn apply(e: &mut BTreeMap<String, String>, ops: &[Op]) {
        for op in ops {
            match op {
                Op::Set(k, v) => e.insert(k.clone(), v.clone()),
                Op::Unset(k) => e.remove(k),
            };
        }
    }

    fn want(pairs: &[(&str, Option<&str>)]) -> Vars {
        pairs.iter().map(|(k, v)| (k.to_string(), v.map(str::to_string))).collect()
    }

    #[test]
    fn enter_switch_leave_restores_exactly() {
        let original = env(&[("ANTHROPIC_API_KEY", "sk-real"), ("UNRELATED", "u"), ("T", "")]);
        let mut e = original.clone();
        let a = want(&[("ANTHROPIC_API_KEY", None), ("ANTHROPIC_AUTH_TOKEN", Some("a")), ("T", Some("1"))]);
        let b =
            want(&[("ANTHROPIC_API_KEY", Some("b")), ("ANTHROPIC_AUTH_TOKEN", None), ("ONLY_B", Some("x"))]);

        let t = transition(|n| e.get(n).cloned(), None, Some(&a));
        apply(&mut e, &t.ops);
        assert_eq!(e.get("ANTHROPIC_API_KEY"), None);
        let snap_a = t.snapshot.unwrap();
        assert_eq!(snap_a["ANTHROPIC_API_KEY"].as_deref(), Some("sk-real"));
        assert_eq!(snap_a["T"].as_deref(), Some(""), "empty is not unset");

        let t = transition(|n| e.get(n).cloned(), Some(&snap_a), Some(&b));
        apply(&mut e, &t.ops);
        assert_eq!(e.get("T").map(String::as_str), Some(""), "A's T is gone");
        assert_eq!(e.get("ONLY_B").map(String::as_str), Some("x"));
        let snap_b = t.snapshot.unwrap();
        assert_eq!(snap_b["ANTHROPIC_API_KEY"].as_deref(), Some("sk-real"), "still the original");

        let t = transition(|n| e.get(n).cloned(), Some(&snap_b), None);
        apply(&mut e, &t.ops);
        assert_eq!(e, original);
        assert_eq!(t.snapshot, None);
    }

    #[test]
    fn nothing_to_do_gives_no_ops() {
        let e = env(&[("A", "1")]);
        let d = want(&[("A", Some("1")), ("B", None)]);
        let t = transition(|n| e.get(n).cloned(), None, Some(&d));
        assert!(t.ops.is_empty());
        let t = transition(|n| e.get(n).cloned(), None, None);
        assert!(t.ops.is_empty() && t.snapshot.is_none());
    }

    #[test]
    fn the_snapshot_keeps_only_names_set_before_or_by_the_project() {
        let e = env(&[("KEPT", "mine")]);
        let d = want(&[("KEPT", None), ("SET", Some("1")), ("NEVER", None)]);
        let snap = transition(|n| e.get(n).cloned(), None, Some(&d)).snapshot.unwrap();
        assert_eq!(snap, want(&[("KEPT", Some("mine")), ("SET", None)]));
    }
}
