//! A development and test aid, not ccenv's trust rules: `serve --routes FILE` reads fixed
//! routes from a small TOML file, so the gateway can be exercised end to end before it
//! is wired to `.claude-provider.toml`. Format:
//!
//! ```toml
//! [[project]]
//! root = "/abs/path"            # compared byte for byte with the root in the URL
//! upstreams = ["groq", "kimi"]  # tried in this order
//! # refuse = "message"          # instead: refuse with this message
//!
//! [upstream.groq]
//! protocol = "openai-chat"      # or "anthropic"
//! base_url = "https://api.groq.com/openai/v1"
//! key = "..."                   # the file holds keys: keep it 0600
//! auth = "bearer"               # or "x-api-key"
//! models = { default = "llama-3.3-70b-versatile", haiku = "llama-3.1-8b-instant" }
//! ```

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::route::{Refusal, Resolver, Route, Upstream};

const MAX_FILE: u64 = 1 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    project: Vec<Project>,
    #[serde(default)]
    upstream: BTreeMap<String, Upstream>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Project {
    root: PathBuf,
    #[serde(default)]
    upstreams: Vec<String>,
    refuse: Option<String>,
}

pub(crate) struct RoutesFile {
    projects: Vec<(PathBuf, Result<Route, Refusal>)>,
}

impl RoutesFile {
    pub(crate) fn load(path: &Path) -> Result<RoutesFile> {
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE + 1).read_to_string(&mut text))
            .with_context(|| format!("cannot read routes file {}", path.display()))?;
        if text.len() as u64 > MAX_FILE {
            bail!("{}: larger than {MAX_FILE} bytes", path.display());
        }
        RoutesFile::parse(&text).with_context(|| format!("in routes file {}", path.display()))
    }

    fn parse(text: &str) -> Result<RoutesFile> {
        let mut file: File = toml::from_str(text)?;
        for (id, up) in file.upstream.iter_mut() {
            up.id = id.clone();
        }
        let mut projects = Vec::new();
        for p in file.project {
            let decision = match p.refuse {
                Some(why) => Err(Refusal(why)),
                None => Ok(Route { upstreams: pick(&file.upstream, &p)? }),
            };
            projects.push((p.root, decision));
        }
        Ok(RoutesFile { projects })
    }
}

fn pick(all: &BTreeMap<String, Upstream>, p: &Project) -> Result<Vec<Upstream>> {
    if p.upstreams.is_empty() {
        bail!("project {} has neither `upstreams` nor `refuse`", p.root.display());
    }
    p.upstreams
        .iter()
        .map(|id| {
            all.get(id).cloned().with_context(|| {
                format!(
                    "project {} names upstream `{id}`, which no [upstream.{id}] defines",
                    p.root.display()
                )
            })
        })
        .collect()
}

impl Resolver for RoutesFile {
    fn route(&self, root: &Path) -> Result<Route, Refusal> {
        match self.projects.iter().find(|(r, _)| r == root) {
            Some((_, decision)) => decision.clone(),
            None => Err(Refusal(format!(
                "ccenv gateway: {} is not a gateway project (not in the routes file)",
                root.display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
[[project]]
root = "/w/app"
upstreams = ["a", "b"]
[[project]]
root = "/w/blocked"
refuse = "blocked: run `ccenv allow`"
[upstream.a]
protocol = "openai-chat"
base_url = "http://127.0.0.1:1/v1"
key = "ka"
auth = "bearer"
models = { default = "m1", haiku = "m2" }
[upstream.b]
protocol = "anthropic"
base_url = "http://127.0.0.1:2"
key = "kb"
auth = "x-api-key"
"#;

    #[test]
    fn routes_and_refusals_come_from_the_file() {
        let f = RoutesFile::parse(TEXT).unwrap();
        let r = f.route(Path::new("/w/app")).unwrap();
        assert_eq!(r.upstreams.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(f.route(Path::new("/w/blocked")).unwrap_err().0, "blocked: run `ccenv allow`");
        assert!(f.route(Path::new("/w/other")).unwrap_err().0.contains("not a gateway project"));
    }

    #[test]
    fn mistakes_name_their_place() {
        let err = format!(
            "{:#}",
            RoutesFile::parse("[[project]]\nroot = \"/x\"\nupstreams = [\"zz\"]\n").err().unwrap()
        );
        assert!(err.contains("[upstream.zz]"), "{err}");
        let err = format!("{:#}", RoutesFile::parse("[upstream.a]\nprotocol = \"grpc\"\n").err().unwrap());
        assert!(err.contains("line 2"), "{err}");
    }
}
