//! `doctor --online`: one minimal Messages request (`max_tokens: 1`), bounded in time,
//! and what its answer says about the endpoint, the key and the model.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Check, Status, check, credential_name};
use crate::config::provider::Auth;
use crate::core::resolve::{Key, Resolved};

/// What came back, with the key masked wherever it could be echoed.
struct Answer {
    url: String,
    model: String,
    ms: u128,
    status: u16,
    text: String,
    /// Where a redirect pointed (not followed).
    location: Option<String>,
    secret: Option<String>,
}

impl Answer {
    fn hide(&self, text: &str) -> String {
        match &self.secret {
            Some(s) if s.len() >= 4 => text.replace(s.as_str(), &crate::output::mask(s)),
            _ => text.to_string(),
        }
    }

    /// Masked before cut: a cut through the key would leave a piece that no longer matches.
    fn excerpt(&self, s: &str) -> String {
        self.hide(s).chars().take(200).collect()
    }
}

pub(super) fn check_endpoint(r: &Resolved, key: &Key, timeout: Duration) -> Check {
    match send(r, key, timeout) {
        Ok(answer) => judge(r, &answer),
        Err(c) => c,
    }
}

fn send(r: &Resolved, key: &Key, timeout: Duration) -> Result<Answer, Check> {
    let p = &r.provider;
    let base = p.base_url.as_deref().unwrap_or("https://api.anthropic.com");
    let url = format!("{}/v1/messages", base.trim_end_matches('/'));
    let secret = match key {
        Key::Found { secret, .. } => Some(secret.clone()),
        Key::Placeholder(v) => Some(v.clone()),
        _ => None,
    };
    let model = p.model.clone().or(p.models.sonnet.clone()).unwrap_or_else(|| "claude-sonnet-4-5".into());
    let body = serde_json::json!({
        "model": model, "max_tokens": 1,
        "messages": [{"role": "user", "content": "ping"}]
    })
    .to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        // A redirect would carry the key header (ureq drops only Authorization) to
        // wherever it points, another host included: not followed, reported instead.
        .max_redirects(0)
        .build()
        .into();
    let mut req =
        agent.post(&url).header("content-type", "application/json").header("anthropic-version", "2023-06-01");
    if let Some(s) = &secret {
        req = match p.auth {
            Auth::Bearer => req.header("authorization", format!("Bearer {s}")),
            Auth::XApiKey => req.header("x-api-key", s),
            Auth::None => req,
        };
    }
    let started = Instant::now();
    let response = req.send(body.as_str());
    let ms = started.elapsed().as_millis();
    let mut answer = Answer { url, model, ms, status: 0, text: String::new(), location: None, secret };
    let mut resp = match response {
        Ok(r) => r,
        Err(ureq::Error::Timeout(_)) => {
            return Err(check(
                "online",
                Status::Problem,
                format!("{}: no answer within {}s", answer.url, timeout.as_secs_f32()),
            )
            .why("the endpoint is unreachable from here, or a proxy is needed (HTTPS_PROXY is honoured)")
            .fix("check the network and base_url; try --timeout 30"));
        }
        Err(e) => {
            let summary = format!("{}: unreachable: {}", answer.url, answer.hide(&e.to_string()));
            return Err(
                check("online", Status::Problem, summary).fix("check base_url, DNS and HTTPS_PROXY/NO_PROXY")
            );
        }
    };
    answer.status = resp.status().as_u16();
    answer.location =
        resp.headers().get("location").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    answer.text = resp.body_mut().with_config().limit(64 * 1024).read_to_string().unwrap_or_default();
    Ok(answer)
}

fn judge(r: &Resolved, a: &Answer) -> Check {
    let (url, model, ms, status, text) = (&a.url, &a.model, a.ms, a.status, &a.text);
    let json: Option<Value> = serde_json::from_str(text).ok();
    let anthropic_error = json
        .as_ref()
        .filter(|v| v["type"] == "error")
        .map(|v| v["error"]["message"].as_str().unwrap_or("").to_string());
    let openai_shaped = json.as_ref().is_some_and(|v| v["type"] != "error" && v.get("error").is_some());
    match status {
        300..=399 => check(
            "online",
            Status::Problem,
            format!("{url}: answers with a redirect (HTTP {status}) to {}; {ms} ms", a.location.as_deref().unwrap_or("?")),
        )
        .why("ccenv does not follow redirects: the key would go along to wherever it points")
        .fix("set base_url to the address the provider documents (the redirect's target, if you trust it)"),
        200 if json.as_ref().is_some_and(|v| v["type"] == "message") => check(
            "online",
            Status::Ok,
            format!("{url}: speaks the Anthropic Messages API; key accepted; model `{model}` accepted; {ms} ms"),
        ),
        200 => check("online", Status::Problem, format!("{url}: HTTP 200 but not an Anthropic message ({ms} ms)"))
            .why(format!("answer: {}", a.excerpt(text)))
            .fix("this is not an Anthropic-compatible endpoint; check base_url"),
        401 | 403 => check("online", Status::Problem, format!("{url}: key rejected (HTTP {status}, {ms} ms)"))
            .why(a.excerpt(anthropic_error.as_deref().unwrap_or(text)))
            .fix(format!("store the right key: ccenv key set {}", credential_name(r))),
        404 | 405 if openai_shaped || anthropic_error.is_none() => {
            check("online", Status::Problem, format!("{url}: no Anthropic Messages endpoint here (HTTP {status}, {ms} ms)"))
                .why(if openai_shaped {
                    "the answer is shaped like an OpenAI-compatible API's error: Claude Code speaks the Anthropic Messages API".to_string()
                } else {
                    format!("answer: {}", a.excerpt(text))
                })
                .fix(format!(
                    "base_url is `{}`, and {url} does not exist. Set base_url to the part of the \
                     provider's Anthropic URL before `/v1/messages` (`ccenv providers` lists them)",
                    r.provider.base_url.as_deref().unwrap_or("")
                ))
        }
        _ if anthropic_error.as_deref().is_some_and(|m| m.to_ascii_lowercase().contains("model")) => {
            check("online", Status::Problem, format!("{url}: model `{model}` rejected (HTTP {status}, {ms} ms)"))
                .why(a.excerpt(anthropic_error.as_deref().unwrap_or("")))
                .fix("set `model` in .claude-provider.toml to one this provider offers")
        }
        _ => check("online", Status::Warning, format!("{url}: HTTP {status} ({ms} ms)"))
            .why(a.excerpt(anthropic_error.as_deref().unwrap_or(text))),
    }
}
