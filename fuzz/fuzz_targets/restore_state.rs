//! Any bytes as `CCENV_STATE` (inherited from the environment, so anyone who can set a
//! variable controls it) and as a snapshot file. Must never panic; a decoded state may
//! only name a hex id and valid variable names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(state) = ccenv::store::snapshots::State::decode(text) {
            assert!(state.snapshot_id.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(state.names.iter().all(|n| ccenv::config::names::is_valid(n)));
            assert_eq!(ccenv::store::snapshots::State::decode(&state.encode()), Some(state));
        }
    }
    let _ = ccenv::store::snapshots::parse_snapshot(data);
});
