//! Property tests: any conversation Claude Code could send becomes a valid Chat
//! Completions request, and any chunk sequence an OpenAI-compatible server could send
//! (cut anywhere on the wire) becomes a well-formed Anthropic event stream.

use std::collections::HashSet;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::request::to_openai;
use super::tests::{run_stream, well_formed};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z ]{1,8}", "\\PC{0,12}", Just("\"\\\n{}".to_string())]
}

fn user_block(pending: Vec<String>) -> impl Strategy<Value = Vec<Value>> {
    let extra = prop::collection::vec(
        prop_oneof![
            text().prop_map(|t| json!({"type": "text", "text": t, "cache_control": {"type": "ephemeral"}})),
            Just(
                json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}})
            ),
            Just(json!({"type": "image", "source": {"type": "url", "url": "https://x/y.png"}})),
            Just(json!({"type": "unknown_future_block", "payload": [1]})),
        ],
        0..3,
    );
    (extra, any::<bool>(), text()).prop_map(move |(extra, err, t)| {
        let mut blocks: Vec<Value> = pending
            .iter()
            .map(|id| json!({"type": "tool_result", "tool_use_id": id, "is_error": err, "content": [{"type": "text", "text": t}]}))
            .collect();
        blocks.extend(extra);
        blocks
    })
}

fn assistant_blocks(turn: usize) -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(
        prop_oneof![
            text().prop_map(|t| json!({"type": "text", "text": t})),
            text().prop_map(|t| json!({"type": "thinking", "thinking": t, "signature": "s"})),
            (0..100u32, text()).prop_map(move |(n, t)| json!({
                "type": "tool_use", "id": format!("toolu_{turn}_{n}"), "name": "Bash", "input": {"command": t}
            })),
        ],
        0..4,
    )
}

fn conversation() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec((assistant_blocks(0), text()), 0..4).prop_flat_map(|turns| {
        let mut msgs: Vec<BoxedStrategy<Value>> =
            vec![Just(json!({"role": "user", "content": "start"})).boxed()];
        for (i, (blocks, _)) in turns.into_iter().enumerate() {
            let blocks: Vec<Value> = blocks
                .into_iter()
                .map(|mut b| {
                    if let Some(id) = b["id"].as_str() {
                        b["id"] = format!("{id}_{i}").into();
                    }
                    b
                })
                .collect();
            let ids: Vec<String> =
                blocks.iter().filter_map(|b| b["id"].as_str().map(str::to_string)).collect();
            let unique: Vec<String> = ids.iter().cloned().collect::<HashSet<_>>().into_iter().collect();
            let blocks: Vec<Value> = dedupe(blocks);
            msgs.push(Just(json!({"role": "assistant", "content": blocks})).boxed());
            msgs.push(user_block(unique).prop_map(|b| json!({"role": "user", "content": b})).boxed());
        }
        msgs
    })
}

fn dedupe(blocks: Vec<Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    blocks.into_iter().filter(|b| b["id"].as_str().is_none_or(|id| seen.insert(id.to_string()))).collect()
}

fn request() -> impl Strategy<Value = Value> {
    let choice = prop_oneof![
        Just(Value::Null),
        Just(json!({"type": "auto"})),
        Just(json!({"type": "any", "disable_parallel_tool_use": true})),
        Just(json!({"type": "none"})),
        Just(json!({"type": "tool", "name": "Bash"})),
    ];
    let system = prop_oneof![
        Just(Value::Null),
        text().prop_map(Value::from),
        text().prop_map(|t| json!([{"type": "text", "text": t}]))
    ];
    (conversation(), choice, system, any::<bool>(), prop::collection::vec(text(), 0..6), any::<bool>()).prop_map(
        |(messages, choice, system, stream, stops, with_tools)| {
            let mut r = json!({"model": "claude-x", "max_tokens": 1024, "messages": messages, "stream": stream,
                "stop_sequences": stops, "temperature": 0.5, "top_k": 3, "metadata": {"user_id": "u"}});
            if !system.is_null() { r["system"] = system; }
            if with_tools {
                r["tools"] = json!([{"name": "Bash", "input_schema": {"type": "object"}}, {"type": "web_search_20250305", "name": "ws"}]);
            }
            if !choice.is_null() { r["tool_choice"] = choice; }
            r
        },
    )
}

/// The checks an OpenAI-compatible server applies before it reads a request.
fn valid_openai(out: &Value, input: &Value) -> Result<(), String> {
    let msgs = out["messages"].as_array().ok_or("messages is not an array")?;
    let mut open_calls: HashSet<String> = HashSet::new();
    let mut tool_msgs = 0;
    for (i, m) in msgs.iter().enumerate() {
        match m["role"].as_str() {
            Some("system") if i == 0 && m["content"].is_string() => {}
            Some("user") => {
                open_calls.clear();
                match &m["content"] {
                    Value::String(_) => {}
                    Value::Array(parts) => {
                        for p in parts {
                            let ok = (p["type"] == "text" && p["text"].is_string())
                                || (p["type"] == "image_url"
                                    && p["image_url"]["url"].as_str().is_some_and(|u| {
                                        u.starts_with("data:image/") || u.starts_with("https://")
                                    }));
                            if !ok {
                                return Err(format!("bad part {p}"));
                            }
                        }
                    }
                    other => return Err(format!("user content {other}")),
                }
            }
            Some("assistant") => {
                let calls = m["tool_calls"].as_array().cloned().unwrap_or_default();
                if !(m["content"].is_string() || (m["content"].is_null() && !calls.is_empty())) {
                    return Err(format!("assistant with nothing: {m}"));
                }
                open_calls.clear();
                for c in &calls {
                    let args: Value =
                        serde_json::from_str(c["function"]["arguments"].as_str().ok_or("args")?)
                            .map_err(|e| e.to_string())?;
                    if !args.is_object() || c["type"] != "function" || !c["function"]["name"].is_string() {
                        return Err(format!("bad call {c}"));
                    }
                    open_calls.insert(c["id"].as_str().ok_or("call id")?.to_string());
                }
            }
            Some("tool") => {
                tool_msgs += 1;
                let prev = msgs[i - 1]["role"].as_str();
                let id = m["tool_call_id"].as_str().unwrap_or("");
                if !matches!(prev, Some("assistant" | "tool"))
                    || !open_calls.contains(id)
                    || !m["content"].is_string()
                {
                    return Err(format!("tool message {i} does not answer a call just made: {m}"));
                }
            }
            _ => return Err(format!("bad message {i}: {m}")),
        }
    }
    let results = input["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["content"].as_array())
        .flatten()
        .filter(|b| b["type"] == "tool_result")
        .count();
    if results != tool_msgs {
        return Err(format!("{results} tool results became {tool_msgs} tool messages"));
    }
    if out["stop"].as_array().is_some_and(|s| s.len() > 4 || s.is_empty()) {
        return Err("stop".into());
    }
    if out.get("tool_choice").is_some() && out.get("tools").is_none() {
        return Err("choice without tools".into());
    }
    for t in out["tools"].as_array().into_iter().flatten() {
        if t["type"] != "function" || !t["function"]["parameters"].is_object() {
            return Err(format!("tool {t}"));
        }
    }
    if out.get("top_k").is_some() || out.get("metadata").is_some() {
        return Err("non-OpenAI field forwarded".into());
    }
    if (out["stream"] == true) != (input["stream"] == true) {
        return Err("stream flag lost".into());
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Reason(String),
    Call(u64, String, String),
    Args(u64, String),
    Finish(&'static str),
    Usage(u64, u64),
    Garbage,
    Error,
    Done,
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => text().prop_map(Piece::Text),
        2 => text().prop_map(Piece::Reason),
        1 => (0..3u64, "[a-z]{1,6}", text()).prop_map(|(i, n, a)| Piece::Call(i, n, a)),
        2 => (0..3u64, text()).prop_map(|(i, a)| Piece::Args(i, a)),
        1 => prop_oneof![Just("stop"), Just("length"), Just("tool_calls"), Just("content_filter")].prop_map(Piece::Finish),
        1 => (0..1000u64, 0..1000u64).prop_map(|(a, b)| Piece::Usage(a, b)),
        1 => Just(Piece::Garbage),
        1 => Just(Piece::Error),
        1 => Just(Piece::Done),
    ]
}

fn wire(pieces: &[Piece]) -> String {
    let chunk =
        |delta: Value| json!({"id": "x", "choices": [{"index": 0, "delta": delta, "finish_reason": null}]});
    pieces.iter().map(|p| {
        let data = match p {
            Piece::Text(t) => chunk(json!({"content": t})).to_string(),
            Piece::Reason(t) => chunk(json!({"reasoning_content": t})).to_string(),
            Piece::Call(i, n, a) => chunk(json!({"tool_calls": [{"index": i, "id": format!("call_{i}"), "function": {"name": n, "arguments": a}}]})).to_string(),
            Piece::Args(i, a) => chunk(json!({"tool_calls": [{"index": i, "function": {"arguments": a}}]})).to_string(),
            Piece::Finish(f) => json!({"id": "x", "choices": [{"index": 0, "delta": {}, "finish_reason": f}]}).to_string(),
            Piece::Usage(a, b) => json!({"id": "x", "choices": [], "usage": {"prompt_tokens": a, "completion_tokens": b}}).to_string(),
            Piece::Garbage => "{not json".to_string(),
            Piece::Error => json!({"error": {"message": "boom"}}).to_string(),
            Piece::Done => "[DONE]".to_string(),
        };
        format!("data: {data}\n\n")
    }).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_request_maps_to_a_valid_openai_request(req in request()) {
        let out = to_openai(&req, "served");
        prop_assert_eq!(&out["model"], "served");
        if let Err(e) = valid_openai(&out, &req) { prop_assert!(false, "{}\nin:  {}\nout: {}", e, req, out); }
    }

    #[test]
    fn any_chunk_sequence_maps_to_a_well_formed_stream(pieces in prop::collection::vec(piece(), 0..14), cut in 0usize..4000) {
        let w = wire(&pieces);
        let events = run_stream(&w, cut);
        if let Err(e) = well_formed(&events) { prop_assert!(false, "{}\nwire: {}", e, w); }
        prop_assert_eq!(&events, &run_stream(&w, usize::MAX));
        let ended = pieces.iter().position(|p| matches!(p, Piece::Error | Piece::Done)).unwrap_or(pieces.len());
        let sent: String = pieces[..ended].iter().filter_map(|p| if let Piece::Text(t) = p { Some(t.as_str()) } else { None }).collect();
        let got: String = events.iter().filter_map(|(_, d)| d["delta"]["text"].as_str()).collect();
        prop_assert_eq!(sent, got, "text was lost or invented");
    }
}
