//! A loopback HTTP server on 127.0.0.1 that records every request. By default it plays
//! a minimal Anthropic Messages endpoint: streaming (SSE) and plain answers,
//! count_tokens, 404 for anything else; tests may give it other answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    pub fn model(&self) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        v["model"].as_str().map(str::to_string)
    }
}

/// The answer to a request: status, content type and body; `None` holds the connection
/// open without answering (a server that never replies).
pub type Reply = fn(&Request) -> Option<(u16, &'static str, String)>;

pub struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// A minimal Anthropic Messages endpoint.
    pub fn start() -> Server {
        Server::answering(anthropic)
    }

    pub fn answering(reply: Reply) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &log, reply);
                });
            }
        });
        Server { port, requests }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Request> {
        let all = self.requests.lock().unwrap().clone();
        all.into_iter().filter(|r| r.method == "POST" && r.path.starts_with("/v1/messages")).collect()
    }

    pub fn all(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn handle(stream: TcpStream, log: &Mutex<Vec<Request>>, reply: Reply) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize =
        headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let req = Request { method, path, headers, body: String::from_utf8_lossy(&body).into_owned() };
    let answer = reply(&req);
    log.lock().unwrap().push(req);
    let Some((status, content_type, body)) = answer else {
        std::thread::sleep(Duration::from_secs(20));
        return Ok(());
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

fn anthropic(req: &Request) -> Option<(u16, &'static str, String)> {
    let model = req.model().unwrap_or_else(|| "unknown".into());
    let stream_wanted = req.body.contains("\"stream\":true") || req.body.contains("\"stream\": true");
    Some(if req.path.starts_with("/v1/messages/count_tokens") {
        (200, "application/json", r#"{"input_tokens":3}"#.to_string())
    } else if req.path.starts_with("/v1/messages") && stream_wanted {
        (200, "text/event-stream", sse(&model))
    } else if req.path.starts_with("/v1/messages") {
        (200, "application/json", message_json(&model).to_string())
    } else {
        (
            404,
            "application/json",
            r#"{"type":"error","error":{"type":"not_found_error","message":"no"}}"#.into(),
        )
    })
}

fn message_json(model: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "msg_loop", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": "pong-from-loopback"}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 3, "output_tokens": 2}
    })
}

fn sse(model: &str) -> String {
    let mut start = message_json(model);
    start["content"] = serde_json::json!([]);
    start["stop_reason"] = serde_json::Value::Null;
    let events = [
        ("message_start", serde_json::json!({"type": "message_start", "message": start})),
        (
            "content_block_start",
            serde_json::json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "pong-from-loopback"}}),
        ),
        ("content_block_stop", serde_json::json!({"type": "content_block_stop", "index": 0})),
        (
            "message_delta",
            serde_json::json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 2}}),
        ),
        ("message_stop", serde_json::json!({"type": "message_stop"})),
    ];
    events.iter().map(|(e, d)| format!("event: {e}\ndata: {d}\n\n")).collect()
}
