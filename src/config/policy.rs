//! What the user, and never a repository, lets projects do beyond the built-in rules:
//! config.toml's `[env]` table. Neither project file is read for it (`.local` lives in the
//! repository's directory too).

use toml::de::{DeTable, DeValue};

use crate::config::diagnostic::{Diagnostic, Source};
use crate::config::names;

#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// `[env] allow`: extra names a project's `[env]` may set (never the managed set);
    /// `PREFIX*` allows every name starting with `PREFIX`.
    pub env_allow: Vec<String>,
    /// `[env] credentials`: shell variables a project may name as `credential = "env:VAR"`.
    pub env_credentials: Vec<String>,
}

pub(crate) fn parse_policy(src: &Source, table: &DeTable) -> Result<Policy, Diagnostic> {
    let mut policy = Policy::default();
    for (key, value) in table {
        let k = key.get_ref().as_ref();
        let list = match k {
            "allow" => &mut policy.env_allow,
            "credentials" => &mut policy.env_credentials,
            _ => return Err(src.unknown_key(key, &["allow", "credentials"], "in [env]")),
        };
        let DeValue::Array(items) = value.get_ref() else {
            return Err(
                src.error(value.span(), format!("[env] `{k}` is a list of names: `{k} = [\"NAME\"]`"))
            );
        };
        for item in items.iter() {
            let name = src.string(k, item)?;
            let bare =
                if k == "allow" { name.value.strip_suffix('*').unwrap_or(&name.value) } else { &name.value };
            if !names::is_valid(bare) {
                return Err(
                    name.error(format!("`{}` is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", name.value))
                );
            }
            list.push(name.value);
        }
    }
    Ok(policy)
}
