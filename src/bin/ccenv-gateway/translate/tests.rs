use serde_json::{Value, json};

use super::request::to_openai;
use super::response::to_anthropic;
use super::sse::Parser;
use super::stream::{Events, Translator};

/// Anthropic's stream grammar: message_start first; blocks strictly one after another,
/// numbered from 0, each start → deltas of its own kind → stop; then exactly one
/// message_delta and a final message_stop — or an `error` event as the last event.
pub(super) fn well_formed(events: &Events) -> Result<(), String> {
    let names: Vec<&str> = events.iter().map(|(n, _)| *n).collect();
    if names.first() != Some(&"message_start") {
        return Err(format!("does not begin with message_start: {names:?}"));
    }
    let failed = names.last() == Some(&"error");
    if !failed && names[names.len().saturating_sub(2)..] != ["message_delta", "message_stop"] {
        return Err(format!("does not end with message_delta, message_stop: {names:?}"));
    }
    let (mut open, mut next): (Option<&str>, u64) = (None, 0);
    for (i, (name, data)) in events.iter().enumerate() {
        if data["type"] != *name {
            return Err(format!("event {i}: name {name} but type {}", data["type"]));
        }
        let index = data["index"].as_u64();
        match *name {
            "message_start" if i > 0 => return Err("second message_start".into()),
            "content_block_start" => {
                if open.is_some() || index != Some(next) {
                    return Err(format!("event {i}: block start while open or out of order: {names:?}"));
                }
                open = data["content_block"]["type"].as_str();
            }
            "content_block_delta" => {
                let want = match open {
                    Some("text") => "text_delta",
                    Some("thinking") => "thinking_delta",
                    Some("tool_use") => "input_json_delta",
                    _ => return Err(format!("event {i}: delta with no open block")),
                };
                if index != Some(next) || data["delta"]["type"] != want {
                    return Err(format!("event {i}: wrong delta {data} for {open:?}"));
                }
            }
            "content_block_stop" => {
                if open.take().is_none() || index != Some(next) {
                    return Err(format!("event {i}: stop without start"));
                }
                next += 1;
            }
            "message_delta" | "message_stop" | "error" if open.is_some() => {
                return Err(format!("event {i}: {name} while a block is open"));
            }
            "message_delta" if data["delta"]["stop_reason"].as_str().is_none() => {
                return Err("message_delta without stop_reason".into());
            }
            "error" if i + 1 != events.len() => return Err("events after error".into()),
            _ => {}
        }
    }
    Ok(())
}

pub(super) fn run_stream(wire: &str, cut: usize) -> Events {
    let (mut p, mut t) = (Parser::default(), Translator::new("served-model"));
    let mut out = Vec::new();
    let cut = cut.min(wire.len());
    for piece in [&wire.as_bytes()[..cut], &wire.as_bytes()[cut..]] {
        for e in p.push(piece) {
            out.extend(t.data(&e.data));
        }
    }
    for e in p.finish() {
        out.extend(t.data(&e.data));
    }
    out.extend(t.eof());
    out
}

fn render(events: &Events) -> String {
    events.iter().map(|(n, d)| format!("{n}: {d}\n")).collect()
}

macro_rules! golden {
    ($name:ident) => {
        #[test]
        fn $name() {
            let wire =
                include_str!(concat!("../../../../tests/fixtures/gateway/", stringify!($name), ".sse"));
            let events = run_stream(wire, usize::MAX);
            well_formed(&events).unwrap();
            for cut in (0..wire.len()).step_by(7) {
                assert_eq!(run_stream(wire, cut), events, "split at byte {cut} changed the result");
            }
            insta::assert_snapshot!(render(&events));
        }
    };
}

golden!(text_with_usage);
golden!(reasoning_then_text);
golden!(parallel_tool_calls);
golden!(cut_short);
golden!(error_mid_stream);
golden!(no_done_length);

fn claude_code_like_request() -> Value {
    json!({
        "model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": true,
        "temperature": 1, "top_k": 5, "metadata": {"user_id": "u"}, "thinking": {"type": "enabled", "budget_tokens": 100},
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "Be brief."}],
        "stop_sequences": ["a", "b", "c", "d", "e"],
        "tools": [
            {"name": "Bash", "description": "Run", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
        ],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "QUJD"}}
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "text", "text": "Running."},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
                {"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {"command": "false"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.txt"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true, "content": [{"type": "text", "text": "exit 1"}]},
                {"type": "text", "text": "go on", "cache_control": {"type": "ephemeral"}},
                {"type": "mystery_block", "x": 1}
            ]}
        ],
        "unknown_top_level": {"nested": [1, 2]}
    })
}

#[test]
fn a_claude_code_request_becomes_an_openai_request() {
    insta::assert_json_snapshot!(to_openai(&claude_code_like_request(), "llama-3.3-70b"));
}

#[test]
fn every_tool_choice_maps() {
    let base = json!({"tools": [{"name": "t", "input_schema": {"type": "object"}}], "messages": []});
    let cases = [
        (json!({"type": "auto"}), json!("auto")),
        (json!({"type": "any"}), json!("required")),
        (json!({"type": "none"}), json!("none")),
        (json!({"type": "tool", "name": "t"}), json!({"type": "function", "function": {"name": "t"}})),
    ];
    for (choice, want) in cases {
        let mut req = base.clone();
        req["tool_choice"] = choice.clone();
        let out = to_openai(&req, "m");
        assert_eq!(out["tool_choice"], want, "{choice}");
        assert!(out.get("parallel_tool_calls").is_none());
    }
    let no_tools = to_openai(&json!({"tool_choice": {"type": "auto"}, "messages": []}), "m");
    assert!(no_tools.get("tool_choice").is_none(), "a choice without tools is invalid for OpenAI");
}

#[test]
fn system_as_a_plain_string_and_user_text_as_a_string() {
    let out = to_openai(
        &json!({"system": "sys", "messages": [{"role": "user", "content": "hi"}], "stream": false}),
        "m",
    );
    assert_eq!(
        out["messages"],
        json!([{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}])
    );
    assert!(out.get("stream").is_none());
}

#[test]
fn garbage_never_panics() {
    for v in [
        json!(null),
        json!([]),
        json!({"messages": 5}),
        json!({"messages": [null, 1, {"role": "user", "content": 7}]}),
        json!({"messages": [{"role": "assistant", "content": [{"type": "tool_use"}]}], "tools": [{"input_schema": 1}]}),
    ] {
        let _ = to_openai(&v, "m");
        let _ = to_anthropic(&v, "m");
    }
}

#[test]
fn a_plain_openai_answer_becomes_an_anthropic_message() {
    let resp = json!({
        "id": "chatcmpl-9", "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "Sure.", "reasoning_content": "think",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}},
                           {"id": "call_2", "type": "function", "function": {"name": "Bash", "arguments": "not json"}}]
        }}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    });
    insta::assert_json_snapshot!(to_anthropic(&resp, "served-model"));
}

#[test]
fn finish_reasons_map_to_stop_reasons() {
    use super::response::stop_reason;
    assert_eq!(stop_reason(Some("stop"), false), "end_turn");
    assert_eq!(stop_reason(Some("length"), false), "max_tokens");
    assert_eq!(stop_reason(Some("tool_calls"), true), "tool_use");
    assert_eq!(stop_reason(Some("stop"), true), "tool_use", "some providers say stop after a tool call");
    assert_eq!(stop_reason(Some("content_filter"), false), "refusal");
    assert_eq!(stop_reason(None, false), "end_turn");
}

#[test]
fn the_grammar_check_rejects_broken_streams() {
    let good = run_stream(include_str!("../../../../tests/fixtures/gateway/text_with_usage.sse"), usize::MAX);
    for drop in 0..good.len() {
        let mut bad = good.clone();
        bad.remove(drop);
        if !matches!(good[drop].0, "ping" | "content_block_delta") {
            assert!(well_formed(&bad).is_err(), "dropping event {drop} went unnoticed");
        }
    }
}

#[test]
fn count_tokens_is_an_estimate_that_grows_with_the_request() {
    use super::tokens::estimate;
    let small = estimate(&json!({"messages": [{"role": "user", "content": "hi"}]}));
    let big = estimate(&claude_code_like_request());
    assert!(small >= 1 && big > small + 1600, "{small} {big}");
}
