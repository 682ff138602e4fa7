//! A project's fallback chain as the gateway uses it: each entry a provider with its
//! own endpoint, key and models (config/fallback.rs reads the entries).

use std::collections::BTreeMap;

use crate::config::diagnostic::Diagnostic;
use crate::config::fallback::Fallback;
use crate::config::project::Credential;
use crate::config::provider::{Auth, Catalog, Provider, Roles};
use crate::core::resolve::Resolved;

/// Where a provider's key comes from: the one written, else the key stored under its id.
fn credential_for(p: &Provider, written: Option<&Credential>) -> Option<Credential> {
    match p.auth {
        Auth::None => None,
        _ => Some(written.cloned().unwrap_or_else(|| Credential::Store(p.id.clone()))),
    }
}

/// A fallback provider as the gateway uses it: its own endpoint and key, and its own
/// models unless the entry names one model for every role.
pub(crate) fn fallback(f: &Fallback, catalog: &Catalog) -> Result<Resolved, Diagnostic> {
    let p = catalog.get(&f.provider.value).map_err(|m| f.provider.error(m))?;
    let mut provider = p.clone();
    if let Some(m) = &f.model {
        provider.model = Some(m.clone());
        let one = Some(m.clone());
        provider.models =
            Roles { opus: one.clone(), sonnet: one.clone(), haiku: one.clone(), fable: one, subagent: None };
    }
    let credential = credential_for(&p, f.credential.as_ref());
    Ok(Resolved { provider, credential, fallbacks: Vec::new(), gateway: true, sources: BTreeMap::new() })
}
