//! `fallback` in the project file: the providers the gateway tries, in order, when the
//! primary fails before answering. Written as provider ids, or inline tables that also
//! pin a model or a credential:
//!
//! ```toml
//! fallback = ["kimi", { provider = "deepseek", model = "deepseek-chat", credential = "ds-work" }]
//! ```

use toml::de::DeValue;

use crate::config::diagnostic::{Diagnostic, Located, Source, type_name};
use crate::config::project::{Credential, parse_credential};
use crate::config::provider::{self, is_valid_id};

/// One entry of the chain: a provider id with its own endpoint, key and models.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fallback {
    pub provider: Located<String>,
    /// Every role on this provider uses this model (else the provider's own models).
    pub model: Option<String>,
    /// Else the key stored under the provider's id.
    pub credential: Option<Credential>,
}

const ENTRY_KEYS: &[&str] = &["provider", "model", "credential"];
/// More would only delay the error Claude Code shows when every provider is down.
const MAX_ENTRIES: usize = 8;

pub(crate) fn parse(src: &Source, value: &toml::Spanned<DeValue<'_>>) -> Result<Vec<Fallback>, Diagnostic> {
    let DeValue::Array(items) = value.get_ref() else {
        return Err(src.error(
            value.span(),
            format!(
                "`fallback` must be an array such as `fallback = [\"kimi\", \"deepseek\"]`, found {}",
                type_name(value.get_ref())
            ),
        ));
    };
    if items.len() > MAX_ENTRIES {
        return Err(src.error(value.span(), format!("`fallback` may name at most {MAX_ENTRIES} providers")));
    }
    items.iter().map(|item| entry(src, item)).collect()
}

fn entry(src: &Source, item: &toml::Spanned<DeValue<'_>>) -> Result<Fallback, Diagnostic> {
    let f = match item.get_ref() {
        DeValue::String(_) => {
            Fallback { provider: src.string("fallback", item)?, model: None, credential: None }
        }
        DeValue::Table(t) => {
            let at = src.locate(item.span());
            let mut f =
                Fallback { provider: Located { value: String::new(), at }, model: None, credential: None };
            for (key, value) in t {
                match key.get_ref().as_ref() {
                    "provider" => f.provider = src.string("provider", value)?,
                    "model" => f.model = Some(provider::model_name(src.string("model", value)?)?),
                    "credential" => {
                        let c = src.string("credential", value)?;
                        f.credential = Some(parse_credential(&c.value).map_err(|m| c.error(m))?);
                    }
                    _ => return Err(src.unknown_key(key, ENTRY_KEYS, "in a `fallback` entry")),
                }
            }
            f
        }
        other => {
            return Err(src.error(
                item.span(),
                format!("a `fallback` entry is a provider id or `{{ provider = \"…\", model = \"…\" }}`, found {}", type_name(other)),
            ));
        }
    };
    if f.provider.value.is_empty() {
        return Err(f.provider.error("this `fallback` entry needs `provider = \"…\"`"));
    }
    if !is_valid_id(&f.provider.value) {
        let p = &f.provider;
        return Err(
            p.error(format!("`{}` is not a provider id (lower-case letters, digits, `-`, `_`)", p.value))
        );
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::project::parse;

    #[test]
    fn entries_are_ids_or_tables_and_mistakes_are_located() {
        let s = parse(
            Path::new("p"),
            "provider = \"groq\"\ngateway = true\nfallback = [\"kimi\", { provider = \"deepseek\", model = \"deepseek-chat\" }]\n",
        )
        .unwrap();
        let f = s.fallback.unwrap();
        assert_eq!((f[0].provider.value.as_str(), f[0].model.as_deref()), ("kimi", None));
        assert_eq!(
            (f[1].provider.value.as_str(), f[1].model.as_deref()),
            ("deepseek", Some("deepseek-chat"))
        );
        assert_eq!(s.gateway, Some(true));
        let cases = [
            ("provider = \"glm\"\nfallback = \"kimi\"\n", (2, 12), "must be an array"),
            (
                "provider = \"glm\"\nfallback = [{ provder = \"kimi\" }]\n",
                (2, 15),
                "did you mean `provider`?",
            ),
            ("provider = \"glm\"\nfallback = [{ model = \"m\" }]\n", (2, 13), "needs `provider"),
            ("provider = \"glm\"\nfallback = [\"Kimi!\"]\n", (2, 13), "not a provider id"),
            ("provider = \"glm\"\nfallback = [3]\n", (2, 13), "found an integer"),
            ("provider = \"glm\"\ngatway = true\n", (2, 1), "did you mean `gateway`?"),
            ("provider = \"glm\"\ngateway = \"yes\"\n", (2, 11), "true or false"),
        ];
        for (text, (line, column), needle) in cases {
            let e = parse(Path::new("p"), text).unwrap_err();
            assert_eq!((e.at.line, e.at.column), (line, column), "{e}");
            assert!(e.message.contains(needle), "{e}");
        }
    }

    #[test]
    fn unknown_fallback_providers_suggest_a_near_one() {
        let s = parse(Path::new("p"), "provider = \"glm\"\nfallback = [\"kimmi\"]\n").unwrap();
        let e = crate::core::resolve::resolve(&s, &crate::config::provider::Catalog::builtin()).unwrap_err();
        assert_eq!((e.at.line, e.at.column), (2, 13), "{e}");
        assert!(e.message.contains("did you mean `kimi`?"), "{e}");
        let r = crate::core::resolve::resolve(
            &parse(
                Path::new("p"),
                "provider = \"glm\"\nfallback = [{ provider = \"deepseek\", model = \"x\" }]\n",
            )
            .unwrap(),
            &crate::config::provider::Catalog::builtin(),
        )
        .unwrap();
        assert!(r.gateway);
        assert_eq!(r.fallbacks[0].provider.models.haiku.as_deref(), Some("x"));
        assert_eq!(
            r.fallbacks[0].credential,
            Some(crate::config::project::Credential::Store("deepseek".into()))
        );
    }
}
