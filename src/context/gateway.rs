//! A gateway project's address and token, and starting its gateway: the address is
//! always the running gateway's (store/gateway.rs says why never a guessed port).

use std::path::Path;

use super::{Context, Inherited};
use crate::core::outcome::{Evaluation, Outcome};
use crate::core::resolve::Key;
use crate::store::gateway;

impl Context {
    /// A gateway project's shell holds the gateway's address and token; the provider's
    /// key is looked up by the gateway, per request. While no gateway runs, the address
    /// is one no user's program can listen on, so nothing leaves until it is started.
    pub(super) fn gateway_key(&self, root: &Path) -> Key {
        match gateway::token(&self.paths.data_dir) {
            Ok(token) => match gateway::running(&self.paths.data_dir) {
                Some(state) => Key::Gateway { url: gateway::url(state.port, root), token, live: true },
                None => Key::Gateway { url: gateway::NOT_RUNNING.into(), token, live: false },
            },
            Err(e) => Key::Missing { why: format!("{e:#}") },
        }
    }

    /// `at(dir)` for commands that hand the environment to a client (the hook, `export`,
    /// `exec`): a gateway project's gateway is started first and waited for, then the
    /// directory is evaluated again for its address. The message: it could not start.
    pub(crate) fn at_with_gateway(&self, dir: Option<&Path>) -> (Inherited, Evaluation, Option<String>) {
        let (inherited, eval) = self.at(dir);
        let Outcome::Applied { key: Key::Gateway { live: false, .. }, .. } = &eval.outcome else {
            return (inherited, eval, None);
        };
        match gateway::ensure_running(&self.paths.data_dir, self.gateway_port()) {
            Ok(_) => {
                let (inherited, eval) = self.at(dir);
                (inherited, eval, None)
            }
            Err(e) => (inherited, eval, Some(format!("the gateway is not running: {e:#}"))),
        }
    }

    pub(crate) fn gateway_port(&self) -> u16 {
        gateway::port(|n| self.var(n))
    }
}
