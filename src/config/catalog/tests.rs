//! The presets parse and stay consistent; user providers layer over them.
use super::*;
use crate::config::names;
use crate::config::provider::Auth;

const REQUIRED: &[&str] = &[
    "anthropic",
    "glm",
    "glm-intl",
    "kimi",
    "kimi-intl",
    "kimi-coding",
    "minimax",
    "minimax-intl",
    "deepseek",
    "dashscope",
    "dashscope-intl",
    "dashscope-coding",
    "tencent-lkeap",
    "hunyuan",
    "volcengine",
    "volcengine-coding",
    "qianfan-coding",
    "modelscope",
    "siliconflow",
    "longcat",
    "mimo",
    "openrouter",
    "ollama",
    "vllm",
    "llamacpp",
    "lmstudio",
];

#[test]
fn presets_parse_and_every_endpoint_passes_our_own_check() {
    let c = Catalog::builtin();
    let all = c.providers();
    for id in REQUIRED {
        assert!(all.contains_key(*id), "missing preset {id}");
    }
    for p in all.values() {
        assert!(is_valid_id(&p.id), "{}", p.id);
        if let Some(url) = &p.base_url {
            c.check_base_url(url, p.protocol).unwrap_or_else(|e| panic!("preset {}: {e}", p.id));
        } else {
            assert_eq!(p.id, "anthropic", "only the official preset has no endpoint");
        }
        for name in p.env.keys() {
            assert_eq!(names::refusal(name), None, "preset {} env {name}", p.id);
        }
    }
    assert_eq!(all["minimax"].env["API_TIMEOUT_MS"], "3000000");
    assert_eq!(all["kimi-coding"].base_url.as_deref(), Some("https://api.kimi.com/coding/"));
    assert!(all["anthropic"].key_optional);
    assert!(!c.updated().is_empty());
}

/// build.rs and the user-config parser read data/presets.toml alike.
#[test]
fn generated_presets_equal_the_file_read_by_the_user_config_parser() {
    let src = Source::new(Path::new("data/presets.toml"), include_str!("../../../data/presets.toml"));
    let root = src.parse().unwrap();
    let presets = src.table("presets", root.get_ref().get("presets").unwrap()).unwrap();
    let all = Catalog::builtin().providers();
    assert_eq!(all.len(), presets.len());
    for (id, table) in presets {
        let id = id.get_ref().as_ref();
        let fields = parse_fields(&src, id, src.table(id, table).unwrap(), &crate::config::names::refusal)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut p = Provider::empty(id, "preset");
        fields.apply_to(&mut p);
        assert_eq!(all[id], p);
    }
}

#[test]
fn a_user_provider_may_take_a_refused_id() {
    let text = "[providers.groq]\nbase_url = \"https://proxy.example/anthropic\"\n";
    let c = Catalog::with_user_config(Path::new("config.toml"), text).unwrap();
    assert_eq!(c.get("groq").unwrap().base_url.as_deref(), Some("https://proxy.example/anthropic"));
}

#[test]
fn refused_and_misspelt_providers_explain_themselves() {
    let c = Catalog::builtin();
    let e = c.get("xai").unwrap_err();
    assert!(e.contains("Anthropic Messages API") && e.contains("protocol = \"openai-chat\""), "{e}");
    assert!(c.get("kimi-code").unwrap_err().ends_with("did you mean `kimi-coding`?"));
    let e = c.get("qianfan").unwrap_err();
    assert!(
        e.contains("use `qianfan-coding`") && !e.contains("openai-chat"),
        "where an Anthropic endpoint exists, it is named: {e}"
    );
    for id in ["groq", "together", "nvidia", "openai"] {
        let p = c.get(id).unwrap();
        assert_eq!(p.protocol, Protocol::OpenAiChat, "{id}");
        assert!(p.base_url.as_deref().unwrap().ends_with("/v1"), "{id}");
    }
    for (alias, id) in super::builtin::ALIASES {
        assert!(c.provider(id).is_some(), "alias {alias} names no preset {id}");
    }
    assert!(c.get("zhipu").unwrap_err().ends_with("did you mean `glm`?"));
}

#[test]
fn openai_style_urls_are_refused_with_the_right_endpoint() {
    let c = Catalog::builtin();
    let cases = [
        (
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            Some("https://dashscope.aliyuncs.com/apps/anthropic"),
        ),
        ("https://open.bigmodel.cn/api/paas/v4/", Some("https://open.bigmodel.cn/api/anthropic")),
        ("https://openrouter.ai/api/v1", Some("https://openrouter.ai/api")),
        ("https://api.deepseek.com", Some("https://api.deepseek.com/anthropic")),
        ("https://api.groq.com/openai/v1", None),
        ("https://llm.corp.example/openai/v1", None),
        ("https://gateway.example/anthropic/v1", Some("https://gateway.example/anthropic")),
    ];
    for (url, right) in cases {
        let e = c.check_base_url(url, Protocol::Anthropic).unwrap_err();
        if let Some(r) = right {
            assert!(e.contains(r) && !e.contains("openai-chat"), "{url}: {e}");
        } else if url.contains("groq") {
            assert!(e.contains("`provider = \"groq\"`") && e.contains("gateway"), "the preset: {url}: {e}");
        }
        assert_eq!(c.check_base_url(url, Protocol::OpenAiChat), Ok(()), "{url}");
    }
    for ok in [
        "https://api.deepseek.com/anthropic",
        "https://api.stepfun.ai/v1/anthropic",
        "http://127.0.0.1:9/",
        "https://llm.corp.example/anthropic",
    ] {
        assert_eq!(c.check_base_url(ok, Protocol::Anthropic), Ok(()), "{ok}");
    }
    assert!(c.check_base_url("ftp://x", Protocol::Anthropic).is_err());
    assert!(c.check_base_url("https://x/\n", Protocol::Anthropic).is_err());
}

#[test]
fn user_providers_add_and_override_field_by_field() {
    let text = r#"
[env]
allow = ["EXTRA"]
credentials = ["CORP_KEY"]

[providers.corp]
base_url = "https://llm.corp.example/anthropic"
auth = "x-api-key"
model = "corp-large"

[providers.glm]
model = "glm-4.7"
[providers.glm.env]
EXTRA = "1"
"#;
    let c = Catalog::with_user_config(Path::new("config.toml"), text).unwrap();
    let corp = c.provider("corp").unwrap();
    assert_eq!((corp.auth, corp.origin), (Auth::XApiKey, "user"));
    let glm = c.provider("glm").unwrap();
    assert_eq!(glm.origin, "preset+user");
    assert_eq!(glm.model.as_deref(), Some("glm-4.7"));
    assert_eq!(glm.base_url.as_deref(), Some("https://open.bigmodel.cn/api/anthropic"));
    assert_eq!(glm.env.get("API_TIMEOUT_MS").map(String::as_str), Some("3000000"));
    assert_eq!(glm.env.get("EXTRA").map(String::as_str), Some("1"));
    let policy = (c.policy.env_allow.as_slice(), c.policy.env_credentials.as_slice());
    assert_eq!(policy, (&["EXTRA".to_string()][..], &["CORP_KEY".to_string()][..]));
}

#[test]
fn user_config_errors_are_located() {
    let cases = [
        ("[providers.x]\nauth = \"berer\"\n", 2, "did you mean `bearer`?"),
        (
            "[providers.x]\nbase_url = \"https://api.moonshot.cn/v1\"\n",
            2,
            "https://api.moonshot.cn/anthropic",
        ),
        ("[providers.x]\nmodle = \"m\"\n", 2, "did you mean `model`?"),
        ("[provider.x]\n", 1, "did you mean `providers`?"),
        ("[providers.X]\n", 1, "only a-z"),
        ("[providers.x.env]\nPROMPT_COMMAND = \"id\"\n", 2, "not on the list"),
        ("[env]\nallow = [\"A-B\"]\n", 2, "not a variable name"),
        ("[env]\nallow = \"X\"\n", 2, "a list of names"),
    ];
    for (text, line, needle) in cases {
        let e = match Catalog::with_user_config(Path::new("c.toml"), text) {
            Ok(c) => c.get("x").map(|_| ()).unwrap_err(),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(&format!("c.toml:{line}:")), "{e}");
        assert!(e.contains(needle), "{e}");
    }
    let c = Catalog::with_user_config(Path::new("c.toml"), "[providers.x]\nmodle = 1\n").unwrap();
    assert!(c.get("glm").is_ok(), "one broken provider leaves the others usable");
}
