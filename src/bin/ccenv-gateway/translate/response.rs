//! OpenAI Chat Completions response → Anthropic message, and the error shapes both ways.

use serde_json::{Value, json};

pub(crate) fn stop_reason(finish: Option<&str>, saw_tool_call: bool) -> &'static str {
    match finish {
        Some("length") => "max_tokens",
        _ if saw_tool_call => "tool_use",
        Some("content_filter") => "refusal",
        _ => "end_turn",
    }
}

/// Token counts from an OpenAI `usage` object: (input, output).
pub(crate) fn usage_of(v: &Value) -> Option<(u64, u64)> {
    let u = v.get("usage").filter(|u| u.is_object())?;
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    Some((n("prompt_tokens"), n("completion_tokens")))
}

/// A tool call's arguments as the object Anthropic's `input` must be; a provider that
/// sent something else gets it back under one key rather than losing it.
pub(crate) fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({"_unparsed_arguments": arguments}),
    }
}

pub(crate) fn to_anthropic(resp: &Value, model: &str) -> Value {
    let choice = resp.get("choices").and_then(|c| c.get(0)).unwrap_or(&Value::Null);
    let msg = choice.get("message").unwrap_or(&Value::Null);
    let mut content = Vec::new();
    if let Some(r) = reasoning(msg).filter(|r| !r.is_empty()) {
        content.push(json!({"type": "thinking", "thinking": r, "signature": ""}));
    }
    if let Some(t) = msg.get("content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
        content.push(json!({"type": "text", "text": t}));
    }
    let calls = msg.get("tool_calls").and_then(Value::as_array).cloned().unwrap_or_default();
    for (i, c) in calls.iter().enumerate() {
        let f = c.get("function").unwrap_or(&Value::Null);
        content.push(json!({
            "type": "tool_use",
            "id": c.get("id").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| format!("toolu_{i}")),
            "name": f.get("name").and_then(Value::as_str).unwrap_or(""),
            "input": tool_input(f.get("arguments").and_then(Value::as_str).unwrap_or("")),
        }));
    }
    let (input, output) = usage_of(resp).unwrap_or((0, 0));
    json!({
        "id": message_id(resp.get("id").and_then(Value::as_str)),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason").and_then(Value::as_str), !calls.is_empty()),
        "stop_sequence": null,
        "usage": {"input_tokens": input, "output_tokens": output},
    })
}

/// DeepSeek, vLLM and Qwen say `reasoning_content`; Groq and OpenRouter say `reasoning`.
pub(crate) fn reasoning(delta_or_message: &Value) -> Option<&str> {
    ["reasoning_content", "reasoning"].iter().find_map(|k| delta_or_message.get(*k).and_then(Value::as_str))
}

pub(crate) fn message_id(upstream: Option<&str>) -> String {
    let clean: String =
        upstream.unwrap_or("").chars().filter(|c| c.is_ascii_alphanumeric()).take(40).collect();
    format!("msg_{}", if clean.is_empty() { "ccenv" } else { &clean })
}

/// Anthropic's error type for an HTTP status, so clients retry (or not) as they would
/// against Anthropic itself.
pub(crate) fn error_type(status: u16) -> &'static str {
    match status {
        400 | 422 => "invalid_request_error",
        401 => "authentication_error",
        402 | 403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 | 503 => "overloaded_error",
        _ => "api_error",
    }
}

pub(crate) fn anthropic_error(status: u16, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type(status), "message": message}})
}

/// The human part of an upstream error body, in either protocol, capped; `None` when
/// the body is not one of the known shapes.
pub(crate) fn upstream_message(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let e = v.get("error").unwrap_or(&v);
    let msg = match e {
        Value::String(s) => s.clone(),
        _ => e
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| v.get("message").and_then(Value::as_str))?
            .to_string(),
    };
    Some(msg.chars().take(1000).collect())
}

/// Quota exhaustion that some providers report as 400/403 instead of 402/429.
pub(crate) fn looks_like_quota(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_ascii_lowercase();
    ["insufficient_quota", "quota exceeded", "exceeded your current quota", "insufficient balance", "billing"]
        .iter()
        .any(|n| text.contains(n))
}
