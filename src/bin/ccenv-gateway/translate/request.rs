//! Anthropic Messages request → OpenAI Chat Completions request. Pure: JSON in, JSON out.
//! Whatever this does not understand is dropped rather than forwarded, because strict
//! OpenAI-compatible servers reject unknown fields.

use serde_json::{Map, Value, json};

/// OpenAI accepts at most four stop sequences.
const MAX_STOP: usize = 4;

pub(crate) fn to_openai(req: &Value, model: &str) -> Value {
    let mut out = Map::new();
    out.insert("model".into(), model.into());
    out.insert("messages".into(), Value::Array(messages(req)));
    if let Some(n) = req.get("max_tokens").and_then(Value::as_u64) {
        out.insert("max_tokens".into(), n.into());
    }
    for key in ["temperature", "top_p"] {
        if let Some(v) = req.get(key).filter(|v| v.is_number()) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(stops) = req.get("stop_sequences").and_then(Value::as_array) {
        let stops: Vec<Value> = stops.iter().filter(|s| s.is_string()).take(MAX_STOP).cloned().collect();
        if !stops.is_empty() {
            out.insert("stop".into(), Value::Array(stops));
        }
    }
    let tools = tools(req);
    if !tools.is_empty() {
        if let Some(choice) = req.get("tool_choice") {
            insert_tool_choice(&mut out, choice);
        }
        out.insert("tools".into(), Value::Array(tools));
    }
    if req.get("stream").and_then(Value::as_bool) == Some(true) {
        out.insert("stream".into(), true.into());
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Value::Object(out)
}

fn messages(req: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let system = text_of(req.get("system").unwrap_or(&Value::Null));
    if !system.is_empty() {
        out.push(json!({"role": "system", "content": system}));
    }
    for m in req.get("messages").and_then(Value::as_array).into_iter().flatten() {
        let content = m.get("content").unwrap_or(&Value::Null);
        match m.get("role").and_then(Value::as_str) {
            Some("assistant") => out.extend(assistant(content)),
            Some("user") => out.extend(user(content)),
            _ => {}
        }
    }
    out
}

/// Text of a string or of the text blocks in an array (system prompts, tool results).
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n\n"),
        _ => String::new(),
    }
}

fn blocks(content: &Value) -> Vec<Value> {
    match content {
        Value::String(s) => vec![json!({"type": "text", "text": s})],
        Value::Array(a) => a.clone(),
        _ => Vec::new(),
    }
}

fn kind(b: &Value) -> &str {
    b.get("type").and_then(Value::as_str).unwrap_or("")
}

/// Thinking blocks are dropped: their signatures mean nothing to another provider.
fn assistant(content: &Value) -> Option<Value> {
    let mut text = String::new();
    let mut calls = Vec::new();
    for b in blocks(content) {
        match kind(&b) {
            "text" => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
            "tool_use" => calls.push(json!({
                "id": b.get("id").and_then(Value::as_str).unwrap_or(""),
                "type": "function",
                "function": {
                    "name": b.get("name").and_then(Value::as_str).unwrap_or(""),
                    "arguments": b.get("input").filter(|i| i.is_object()).unwrap_or(&json!({})).to_string(),
                },
            })),
            _ => {}
        }
    }
    if text.is_empty() && calls.is_empty() {
        return None;
    }
    let mut msg =
        json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { text.into() }});
    if !calls.is_empty() {
        msg["tool_calls"] = Value::Array(calls);
    }
    Some(msg)
}

/// One Anthropic user turn becomes: a `tool` message per tool result (these must follow
/// the assistant's tool calls directly), then one user message with the rest, including
/// any images the tool results carried (a `tool` message holds text only).
fn user(content: &Value) -> Vec<Value> {
    let mut tool_msgs = Vec::new();
    let mut parts = Vec::new();
    for b in blocks(content) {
        match kind(&b) {
            "text" => parts
                .push(json!({"type": "text", "text": b.get("text").and_then(Value::as_str).unwrap_or("")})),
            "image" => parts.extend(image(&b)),
            "tool_result" => {
                let inner = blocks(b.get("content").unwrap_or(&Value::Null));
                parts.extend(inner.iter().filter(|i| kind(i) == "image").filter_map(image));
                tool_msgs.push(tool_message(&b, &inner));
            }
            "document" => parts.extend(document(&b)),
            _ => {}
        }
    }
    if !parts.is_empty() {
        let only_text = parts.iter().all(|p| p["type"] == "text");
        let content = if only_text {
            parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join("\n\n").into()
        } else {
            Value::Array(parts)
        };
        tool_msgs.push(json!({"role": "user", "content": content}));
    }
    tool_msgs
}

/// OpenAI has no error flag on tool results; the model reads the marker instead.
fn tool_message(b: &Value, inner: &[Value]) -> Value {
    let mut text = text_of(&Value::Array(inner.to_vec()));
    if inner.iter().any(|i| kind(i) == "image") && text.is_empty() {
        text = "(image below)".into();
    }
    if b.get("is_error").and_then(Value::as_bool) == Some(true) {
        text = format!("[tool error] {text}");
    }
    json!({
        "role": "tool",
        "tool_call_id": b.get("tool_use_id").and_then(Value::as_str).unwrap_or(""),
        "content": text,
    })
}

fn image(b: &Value) -> Option<Value> {
    let src = b.get("source")?;
    let url = match src.get("type").and_then(Value::as_str)? {
        "base64" => format!(
            "data:{};base64,{}",
            src.get("media_type").and_then(Value::as_str).unwrap_or("image/png"),
            src.get("data").and_then(Value::as_str)?
        ),
        "url" => src.get("url").and_then(Value::as_str)?.to_string(),
        _ => return None,
    };
    Some(json!({"type": "image_url", "image_url": {"url": url}}))
}

/// Plain-text documents travel as text; others (PDF) have no Chat Completions form.
fn document(b: &Value) -> Option<Value> {
    let src = b.get("source")?;
    let text = match src.get("type").and_then(Value::as_str)? {
        "text" => src.get("data").and_then(Value::as_str)?.to_string(),
        _ => "[a document was attached here; this provider cannot read it]".to_string(),
    };
    Some(json!({"type": "text", "text": text}))
}

/// Client tools only: Anthropic server tools (web search, …) have no input schema and
/// nothing on the other side to run them.
fn tools(req: &Value) -> Vec<Value> {
    let list = req.get("tools").and_then(Value::as_array).into_iter().flatten();
    list.filter_map(|t| {
        let schema = t.get("input_schema").filter(|s| s.is_object())?;
        let mut f = json!({"name": t.get("name")?.as_str()?, "parameters": schema});
        if let Some(d) = t.get("description").and_then(Value::as_str) {
            f["description"] = d.into();
        }
        Some(json!({"type": "function", "function": f}))
    })
    .collect()
}

fn insert_tool_choice(out: &mut Map<String, Value>, choice: &Value) {
    let mapped = match choice.get("type").and_then(Value::as_str) {
        Some("auto") => json!("auto"),
        Some("any") => json!("required"),
        Some("none") => json!("none"),
        Some("tool") => match choice.get("name").and_then(Value::as_str) {
            Some(name) => json!({"type": "function", "function": {"name": name}}),
            None => return,
        },
        _ => return,
    };
    out.insert("tool_choice".into(), mapped);
    if choice.get("disable_parallel_tool_use").and_then(Value::as_bool) == Some(true) {
        out.insert("parallel_tool_calls".into(), false.into());
    }
}
