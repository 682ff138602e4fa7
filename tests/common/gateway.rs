//! A `ccenv-gateway serve --routes` process for tests, and fake OpenAI-compatible
//! upstreams for the recording server (`server.rs`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::Sandbox;
use crate::common::server::Request;

pub const GATEWAY: &str = env!("CARGO_BIN_EXE_ccenv-gateway");

pub struct Gateway {
    pub port: u16,
    pub token: String,
    child: Child,
}

impl Gateway {
    /// Starts on a free port with `routes` (TOML) as its routes file.
    pub fn start(sb: &Sandbox, routes: &str, extra: &[&str]) -> Gateway {
        let file = sb.path("out/routes.toml");
        sb.write(&file, routes);
        let mut c = Command::new(GATEWAY);
        c.args(["serve", "--routes"]).arg(&file).args(["--port", "0"]).args(extra);
        c.env_clear().envs(sb.base_env()).stdin(Stdio::null()).stdout(Stdio::null());
        c.stderr(std::fs::File::create(sb.path("out/gateway.log")).unwrap());
        let mut gw = Gateway { port: 0, token: String::new(), child: c.spawn().unwrap() };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(sb.path("data/gateway.state"))
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            {
                gw.token = std::fs::read_to_string(sb.path("data/gateway.token")).unwrap();
                gw.port = v["port"].as_u64().unwrap() as u16;
                return gw;
            }
            assert!(
                Instant::now() < deadline,
                "gateway did not start: {}",
                std::fs::read_to_string(sb.path("out/gateway.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// ANTHROPIC_BASE_URL for the project at `root`, as the hook will set it.
    pub fn base_url(&self, root: &Path) -> String {
        use base64::Engine;
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(root.to_str().unwrap());
        format!("http://127.0.0.1:{}/p/{enc}", self.port)
    }

    pub fn client_env(&self, root: &Path) -> Vec<(String, String)> {
        vec![
            ("ANTHROPIC_BASE_URL".into(), self.base_url(root)),
            ("ANTHROPIC_AUTH_TOKEN".into(), self.token.clone()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(), "1".into()),
            ("DISABLE_AUTOUPDATER".into(), "1".into()),
        ]
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A routes file: `projects` are (root, upstream ids or a refusal), `upstreams` are
/// (id, base_url, key, models TOML inline table).
pub fn routes(projects: &[(&Path, Result<&[&str], &str>)], upstreams: &[(&str, &str, &str, &str)]) -> String {
    let mut t = String::new();
    for (root, r) in projects {
        t.push_str(&format!("[[project]]\nroot = {}\n", toml::Value::String(root.to_str().unwrap().into())));
        match r {
            Ok(ids) => t.push_str(&format!("upstreams = {ids:?}\n")),
            Err(why) => t.push_str(&format!("refuse = {}\n", toml::Value::String(why.to_string()))),
        }
    }
    for (id, url, key, models) in upstreams {
        t.push_str(&format!(
            "[upstream.{id}]\nprotocol = \"openai-chat\"\nbase_url = \"{url}/v1\"\nkey = \"{key}\"\nauth = \"bearer\"\nmodels = {models}\n"
        ));
    }
    t
}

pub fn body_json(r: &Request) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_default()
}

fn chunk(delta: serde_json::Value, finish: Option<&str>) -> String {
    let c = serde_json::json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {c}\n\n")
}

/// An OpenAI-compatible server: answers `text` (stream or not); when the request offers
/// a Bash tool and the conversation says TOOLTEST, first asks for a tool call, then
/// reports the tool message it got back.
pub fn openai(req: &Request) -> Option<(u16, &'static str, String)> {
    if !req.path.ends_with("/chat/completions") {
        return Some((404, "application/json", r#"{"error":{"message":"no such path"}}"#.into()));
    }
    let v = body_json(req);
    let msgs = v["messages"].as_array().cloned().unwrap_or_default();
    let tool_msg = msgs.iter().rev().find(|m| m["role"] == "tool");
    let wants_tool = v["tools"].as_array().is_some_and(|t| t.iter().any(|t| t["function"]["name"] == "Bash"))
        && msgs.iter().any(|m| m["role"] == "user" && m["content"].to_string().contains("TOOLTEST"));
    let has_image = v.to_string().contains("data:image/png;base64,");
    let model = v["model"].as_str().unwrap_or("").to_string();
    let (text, call) = match tool_msg {
        Some(m) => (format!("tool said: {}", m["content"].as_str().unwrap_or("")), None),
        None if wants_tool => (String::new(), Some(r#"{"command":"echo tool-ran-$((40+2))"}"#)),
        None if has_image => (format!("saw an image via {model}"), None),
        None => (format!("pong-from-openai via {model}"), None),
    };
    if v["stream"] != true {
        let mut msg = serde_json::json!({"role": "assistant", "content": text});
        if let Some(args) = call {
            msg["tool_calls"] = serde_json::json!([{"id": "call_7", "type": "function", "function": {"name": "Bash", "arguments": args}}]);
        }
        let finish = if call.is_some() { "tool_calls" } else { "stop" };
        let body = serde_json::json!({"id": "chatcmpl-fake", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
            "usage": {"prompt_tokens": 21, "completion_tokens": 4}});
        return Some((200, "application/json", body.to_string()));
    }
    let mut s = chunk(serde_json::json!({"role": "assistant", "content": ""}), None);
    if let Some(args) = call {
        let (a, b) = args.split_at(11);
        s += &chunk(
            serde_json::json!({"tool_calls": [{"index": 0, "id": "call_7", "type": "function", "function": {"name": "Bash", "arguments": a}}]}),
            None,
        );
        s += &chunk(serde_json::json!({"tool_calls": [{"index": 0, "function": {"arguments": b}}]}), None);
        s += &chunk(serde_json::json!({}), Some("tool_calls"));
    } else {
        let (a, b) = text.split_at(text.len() / 2);
        s += &chunk(serde_json::json!({"content": a}), None);
        s += &chunk(serde_json::json!({"content": b}), None);
        s += &chunk(serde_json::json!({}), Some("stop"));
    }
    s += &format!(
        "data: {}\n\ndata: [DONE]\n\n",
        serde_json::json!({"id": "chatcmpl-fake", "choices": [], "usage": {"prompt_tokens": 21, "completion_tokens": 4}})
    );
    Some((200, "text/event-stream", s))
}

/// A provider whose plan is used up for now.
pub fn rate_limited(_: &Request) -> Option<(u16, &'static str, String)> {
    Some((
        429,
        "application/json",
        r#"{"error":{"message":"Rate limit reached","type":"rate_limit"}}"#.into(),
    ))
}

pub fn project_dir(sb: &Sandbox, rel: &str) -> PathBuf {
    sb.work(rel)
}
