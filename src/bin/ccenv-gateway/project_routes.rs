//! The gateway's real resolver: ccenv's own project and trust rules, through the
//! library (`ccenv::route`), evaluated afresh for every request, so an edited, blocked
//! or denied project is refused at its next request, as the hook would refuse it.

use std::path::Path;

use crate::route::{AuthStyle, Protocol, Refusal, Resolver, Role, Route, Secret, Upstream};

pub(crate) struct ProjectRoutes;

impl Resolver for ProjectRoutes {
    fn route(&self, root: &Path) -> Result<Route, Refusal> {
        let upstreams = ccenv::route::route(root).map_err(Refusal)?;
        Ok(Route { upstreams: upstreams.into_iter().map(upstream).collect() })
    }
}

fn upstream(u: ccenv::route::Upstream) -> Upstream {
    let models = u.models.into_iter().filter_map(|(role, m)| Some((role_named(role)?, m))).collect();
    Upstream {
        id: u.id,
        protocol: match u.protocol {
            ccenv::config::provider::Protocol::Anthropic => Protocol::Anthropic,
            ccenv::config::provider::Protocol::OpenAiChat => Protocol::OpenAiChat,
        },
        base_url: u.base_url,
        key: Secret::new(u.key),
        auth: if u.bearer { AuthStyle::Bearer } else { AuthStyle::XApiKey },
        models,
    }
}

fn role_named(name: &str) -> Option<Role> {
    Some(match name {
        "default" => Role::Default,
        "opus" => Role::Opus,
        "sonnet" => Role::Sonnet,
        "haiku" => Role::Haiku,
        "subagent" => Role::Subagent,
        _ => return None,
    })
}
