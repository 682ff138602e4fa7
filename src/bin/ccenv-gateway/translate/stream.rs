//! OpenAI streaming chunks → Anthropic stream events. Anthropic's stream is a strict
//! grammar (message_start, then blocks one at a time — start, deltas, stop — then one
//! message_delta and message_stop); OpenAI's interleaves reasoning, text and tool-call
//! fragments freely. The translator keeps one block open and closes it whenever a
//! fragment of another kind arrives.

use serde_json::{Value, json};

use super::response::{message_id, reasoning, stop_reason, usage_of};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Open {
    Thinking,
    Text,
    /// A tool call, by the upstream's own tool index.
    Tool(u64),
}

pub(crate) struct Translator {
    model: String,
    started: bool,
    finished: bool,
    next_index: usize,
    open: Option<Open>,
    tools_seen: Vec<u64>,
    finish: Option<String>,
    usage: (u64, u64),
}

/// (event name, data) pairs; `sse::frame` puts them on the wire.
pub(crate) type Events = Vec<(&'static str, Value)>;

impl Translator {
    pub(crate) fn new(model: &str) -> Translator {
        Translator {
            model: model.to_string(),
            started: false,
            finished: false,
            next_index: 0,
            open: None,
            tools_seen: Vec::new(),
            finish: None,
            usage: (0, 0),
        }
    }

    /// Token counts seen so far: (input, output).
    pub(crate) fn usage(&self) -> (u64, u64) {
        self.usage
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// One `data:` payload from upstream. `[DONE]` ends the message.
    pub(crate) fn data(&mut self, data: &str) -> Events {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        if data.trim() == "[DONE]" {
            return self.end();
        }
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            return out;
        };
        self.start(chunk.get("id").and_then(Value::as_str), &mut out);
        if let Some(msg) =
            chunk.get("error").map(|e| e.get("message").and_then(Value::as_str).unwrap_or("upstream error"))
        {
            let msg = format!("upstream error mid-stream: {msg}");
            out.extend(self.fail(&msg));
            return out;
        }
        if let Some(u) = usage_of(&chunk) {
            self.usage = u;
        }
        for choice in chunk.get("choices").and_then(Value::as_array).into_iter().flatten().take(1) {
            let delta = choice.get("delta").unwrap_or(&Value::Null);
            self.delta(delta, &mut out);
            if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
                self.finish = Some(f.to_string());
            }
        }
        out
    }

    /// The upstream closed its stream. Without `[DONE]` or a finish reason the answer is
    /// cut short, and the client must learn that rather than take it as complete.
    pub(crate) fn eof(&mut self) -> Events {
        if self.finished {
            return Vec::new();
        }
        if self.finish.is_some() {
            return self.end();
        }
        self.fail("the upstream closed the stream before the answer was complete")
    }

    /// Ends the stream with an Anthropic `error` event (after closing what is open).
    pub(crate) fn fail(&mut self, message: &str) -> Events {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        self.start(None, &mut out);
        self.close(&mut out);
        self.finished = true;
        out.push(("error", json!({"type": "error", "error": {"type": "api_error", "message": message}})));
        out
    }

    fn start(&mut self, id: Option<&str>, out: &mut Events) {
        if self.started {
            return;
        }
        self.started = true;
        out.push((
            "message_start",
            json!({"type": "message_start", "message": {
                "id": message_id(id), "type": "message", "role": "assistant", "model": self.model,
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 0, "output_tokens": 0},
            }}),
        ));
        out.push(("ping", json!({"type": "ping"})));
    }

    fn delta(&mut self, delta: &Value, out: &mut Events) {
        if let Some(r) = reasoning(delta).filter(|r| !r.is_empty()) {
            self.open_block(
                Open::Thinking,
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                out,
            );
            self.block_delta(json!({"type": "thinking_delta", "thinking": r}), out);
        }
        if let Some(t) = delta.get("content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
            self.open_block(Open::Text, json!({"type": "text", "text": ""}), out);
            self.block_delta(json!({"type": "text_delta", "text": t}), out);
        }
        for call in delta.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
            self.tool_fragment(call, out);
        }
    }

    fn tool_fragment(&mut self, call: &Value, out: &mut Events) {
        let idx = call.get("index").and_then(Value::as_u64).unwrap_or(self.tools_seen.len() as u64);
        let f = call.get("function").unwrap_or(&Value::Null);
        if !self.tools_seen.contains(&idx) {
            self.tools_seen.push(idx);
            let id = call.get("id").and_then(Value::as_str).map(str::to_string);
            let block = json!({
                "type": "tool_use",
                "id": id.unwrap_or_else(|| format!("toolu_ccenv_{}", self.next_index)),
                "name": f.get("name").and_then(Value::as_str).unwrap_or(""),
                "input": {},
            });
            self.open_block(Open::Tool(idx), block, out);
        } else if self.open != Some(Open::Tool(idx)) {
            // A fragment for a call whose block is already closed cannot be expressed
            // in Anthropic's stream; providers send calls in order, so this is not seen.
            return;
        }
        if let Some(args) = f.get("arguments").and_then(Value::as_str).filter(|a| !a.is_empty()) {
            self.block_delta(json!({"type": "input_json_delta", "partial_json": args}), out);
        }
    }

    fn open_block(&mut self, kind: Open, block: Value, out: &mut Events) {
        if self.open == Some(kind) {
            return;
        }
        self.close(out);
        self.open = Some(kind);
        out.push((
            "content_block_start",
            json!({"type": "content_block_start", "index": self.next_index, "content_block": block}),
        ));
    }

    fn block_delta(&mut self, delta: Value, out: &mut Events) {
        out.push((
            "content_block_delta",
            json!({"type": "content_block_delta", "index": self.next_index, "delta": delta}),
        ));
    }

    fn close(&mut self, out: &mut Events) {
        if self.open.take().is_some() {
            out.push(("content_block_stop", json!({"type": "content_block_stop", "index": self.next_index})));
            self.next_index += 1;
        }
    }

    fn end(&mut self) -> Events {
        let mut out = Vec::new();
        self.start(None, &mut out);
        self.close(&mut out);
        self.finished = true;
        let reason = stop_reason(self.finish.as_deref(), !self.tools_seen.is_empty());
        out.push((
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": null},
                   "usage": {"input_tokens": self.usage.0, "output_tokens": self.usage.1}}),
        ));
        out.push(("message_stop", json!({"type": "message_stop"})));
        out
    }
}
