//! One attempt against one upstream, up to the first byte of its answer. Whether the
//! next upstream should be tried is decided here, while nothing has reached the client.

use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::Value;

use crate::app::App;
use crate::route::{AuthStyle, Protocol, Upstream};
use crate::translate::response::{looks_like_quota, upstream_message};

/// Error bodies are read only this far: they are for a message, not for relaying.
const MAX_ERROR_BODY: usize = 64 << 10;

pub(crate) enum Outcome {
    /// The upstream answered 2xx. For a stream, `first` is its first chunk (already
    /// read, so a silent upstream counted as a failure); for a plain answer, the body.
    Ready { resp: reqwest::Response, first: Bytes },
    /// Try the next upstream; keep this one aside for `cool`.
    Next { why: String, status: u16, cool: Duration },
    /// An answer the client must see as it is (a bad request is bad everywhere).
    Final { status: u16, message: String },
}

pub(crate) enum Call {
    Messages { stream: bool },
    CountTokens,
}

fn url(up: &Upstream, call: &Call) -> String {
    let base = up.base_url.trim_end_matches('/');
    match (up.protocol, call) {
        (Protocol::OpenAiChat, _) => format!("{base}/chat/completions"),
        (Protocol::Anthropic, Call::Messages { .. }) => format!("{base}/v1/messages"),
        (Protocol::Anthropic, Call::CountTokens) => format!("{base}/v1/messages/count_tokens"),
    }
}

/// The request for `up`: its own URL and its own key, and from the client only the
/// Anthropic protocol headers (never its credentials, never the gateway token).
fn build(
    app: &App,
    up: &Upstream,
    call: &Call,
    body: &Value,
    client_headers: &HeaderMap,
) -> reqwest::RequestBuilder {
    let mut req = app.client.post(url(up, call)).header("content-type", "application/json");
    req = match up.auth {
        AuthStyle::Bearer => req.bearer_auth(up.key.expose()),
        AuthStyle::XApiKey => req.header("x-api-key", up.key.expose()),
    };
    if up.protocol == Protocol::Anthropic {
        let version = client_headers.get("anthropic-version").cloned();
        req = req.header("anthropic-version", version.unwrap_or_else(|| "2023-06-01".parse().unwrap()));
        if let Some(beta) = client_headers.get("anthropic-beta") {
            req = req.header("anthropic-beta", beta.clone());
        }
    }
    if matches!(call, Call::Messages { stream: true }) {
        req = req.header("accept", "text/event-stream");
    }
    req.body(serde_json::to_vec(body).unwrap_or_default())
}

pub(crate) async fn attempt(
    app: &App,
    up: &Upstream,
    call: &Call,
    body: &Value,
    headers: &HeaderMap,
) -> Outcome {
    let started = Instant::now();
    let deadline = app.timeouts.first_byte;
    let sent = tokio::time::timeout(deadline, build(app, up, call, body, headers).send()).await;
    let resp = match sent {
        Err(_) => {
            return next(format!("no answer within {}s", deadline.as_secs()), 504, Duration::from_secs(30));
        }
        Ok(Err(e)) => return next(describe(&e), 502, Duration::from_secs(30)),
        Ok(Ok(r)) => r,
    };
    let left = deadline.saturating_sub(started.elapsed());
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        let first = match call {
            Call::Messages { stream: true } => tokio::time::timeout(left, first_chunk(resp)).await,
            _ => tokio::time::timeout(left, whole(resp)).await,
        };
        return match first {
            Err(_) => next(format!("no answer within {}s", deadline.as_secs()), 504, Duration::from_secs(30)),
            Ok(Err(e)) => next(describe(&e), 502, Duration::from_secs(30)),
            Ok(Ok((resp, first))) => Outcome::Ready { resp, first },
        };
    }
    let retry_after = retry_after(resp.headers());
    let body = tokio::time::timeout(left.max(Duration::from_secs(5)), capped(resp)).await.unwrap_or_default();
    classify(status, &masked(&body, up.key.expose()), retry_after)
}

/// The error body with the key this upstream was sent masked: some providers echo it,
/// and the message goes on to Claude Code and into `ccenv gateway status`.
fn masked(body: &[u8], key: &str) -> Vec<u8> {
    if key.len() < 4 {
        return body.to_vec();
    }
    String::from_utf8_lossy(body).replace(key, &ccenv::output::mask(key)).into_bytes()
}

fn next(why: String, status: u16, cool: Duration) -> Outcome {
    Outcome::Next { why, status, cool }
}

/// Failover rules: rate limits, exhausted quota and server errors move on; anything
/// else (a malformed request, a wrong key) is the client's to see.
fn classify(status: u16, body: &[u8], retry_after: Option<Duration>) -> Outcome {
    let detail = upstream_message(body)
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
    let why = format!("HTTP {status}: {detail}");
    match status {
        429 => next(why, status, retry_after.unwrap_or(Duration::from_secs(60))),
        402 => next(why, status, retry_after.unwrap_or(Duration::from_secs(600))),
        400 | 403 if looks_like_quota(body) => {
            next(why, status, retry_after.unwrap_or(Duration::from_secs(600)))
        }
        500..=599 => next(why, status, retry_after.unwrap_or(Duration::from_secs(15))),
        _ => Outcome::Final { status, message: detail },
    }
}

/// `Retry-After` in seconds (the form API servers use), capped at a day.
fn retry_after(h: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: u64 = h.get("retry-after")?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(86_400)))
}

async fn first_chunk(mut resp: reqwest::Response) -> reqwest::Result<(reqwest::Response, Bytes)> {
    let first = resp.chunk().await?.unwrap_or_default();
    Ok((resp, first))
}

/// A plain (non-stream) answer is one JSON document; it is read whole, capped.
async fn whole(mut resp: reqwest::Response) -> reqwest::Result<(reqwest::Response, Bytes)> {
    let mut all = Vec::new();
    while let Some(c) = resp.chunk().await? {
        all.extend_from_slice(&c);
        if all.len() > 64 << 20 {
            break;
        }
    }
    Ok((resp, Bytes::from(all)))
}

async fn capped(mut resp: reqwest::Response) -> Vec<u8> {
    let mut all = Vec::new();
    while let Ok(Some(c)) = resp.chunk().await {
        all.extend_from_slice(&c);
        if all.len() >= MAX_ERROR_BODY {
            all.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    all
}

/// A transport error in words, without the URL (it may carry a query the user set).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "cannot connect"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "connection failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() { kind.to_string() } else { format!("{kind}: {detail}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_statuses() {
        let moves = |s, b: &str| matches!(classify(s, b.as_bytes(), None), Outcome::Next { .. });
        for s in [429, 402, 500, 502, 503, 529] {
            assert!(moves(s, "{}"), "{s}");
        }
        assert!(moves(403, r#"{"error":{"code":"insufficient_quota"}}"#));
        for s in [400, 401, 403, 404, 413] {
            assert!(!moves(s, r#"{"error":{"message":"bad"}}"#), "{s}");
        }
        match classify(429, b"{}", Some(Duration::from_secs(7))) {
            Outcome::Next { cool, .. } => assert_eq!(cool, Duration::from_secs(7)),
            _ => unreachable!(),
        }
    }
}
