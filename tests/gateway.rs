//! The gateway end to end: `ccenv-gateway serve --routes` between the real Claude Code
//! CLI / the Python `anthropic` SDK and loopback fake OpenAI-compatible providers.

mod common;
#[allow(dead_code)]
#[path = "common/gateway.rs"]
mod gw;

use std::io::{Read, Write};
use std::process::Command;

use common::server::Server;
use common::{Sandbox, have};
use gw::{Gateway, body_json, openai, rate_limited, routes};

const UPSTREAM_KEY: &str = "sk-upstream-secret-groq";
const FALLBACK_KEY: &str = "sk-upstream-secret-fallback";
const MODELS: &str = "{ default = \"big-model\", haiku = \"small-model\" }";

fn one_provider(sb: &Sandbox, server: &Server) -> (Gateway, std::path::PathBuf) {
    let dir = gw::project_dir(sb, "app");
    let r = routes(&[(&dir, Ok(&["groq"]))], &[("groq", &server.url(), UPSTREAM_KEY, MODELS)]);
    (Gateway::start(sb, &r, &[]), dir)
}

/// Every request upstream carried its own key, and nothing of the gateway's token.
fn assert_upstream_credentials(server: &Server, gw: &Gateway, key: &str) {
    assert!(!server.all().is_empty(), "nothing reached the upstream");
    for r in server.all() {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {key}").as_str()), "{:?}", r.headers);
        assert!(!format!("{r:?}").contains(&gw.token), "the gateway token went upstream: {r:?}");
    }
}

fn claude(sb: &Sandbox, gw: &Gateway, dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("claude")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(sb.base_env())
        .envs(gw.client_env(dir))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn claude_code_talks_to_an_openai_provider_through_the_gateway() {
    if !have("claude") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let (gw, dir) = one_provider(&sb, &server);
    let (ok, text) = claude(&sb, &gw, &dir, &["-p", "reply with pong"]);
    assert!(ok && text.contains("pong-from-openai via big-model"), "claude output:\n{text}");
    assert_upstream_credentials(&server, &gw, UPSTREAM_KEY);
    let models: Vec<String> =
        server.all().iter().filter_map(|r| body_json(r)["model"].as_str().map(String::from)).collect();
    assert!(models.iter().all(|m| m == "big-model" || m == "small-model"), "{models:?}");
    let streamed = server.all().iter().any(|r| body_json(r)["stream"] == true);
    assert!(streamed, "Claude Code streams; the gateway must ask the upstream to stream too");
}

#[test]
fn a_tool_call_round_trips_through_claude_code() {
    if !have("claude") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let (gw, dir) = one_provider(&sb, &server);
    let (ok, text) = claude(&sb, &gw, &dir, &["-p", "TOOLTEST: run the command", "--allowedTools", "Bash"]);
    assert!(ok && text.contains("tool said: tool-ran-42"), "claude output:\n{text}");
    let with_result = server
        .all()
        .into_iter()
        .map(|r| body_json(&r))
        .find(|v| v["messages"].as_array().is_some_and(|m| m.iter().any(|m| m["role"] == "tool")));
    let v = with_result.expect("no request carried a tool message");
    let msgs = v["messages"].as_array().unwrap();
    let i = msgs.iter().position(|m| m["role"] == "tool").unwrap();
    assert_eq!(msgs[i]["tool_call_id"], "call_7");
    assert_eq!(msgs[i - 1]["role"], "assistant");
    assert_eq!(msgs[i - 1]["tool_calls"][0]["function"]["name"], "Bash");
    assert!(msgs[i]["content"].as_str().unwrap().contains("tool-ran-42"), "{}", msgs[i]);
}

#[test]
fn a_refused_project_shows_its_reason_in_claude_code() {
    if !have("claude") {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let dir = gw::project_dir(&sb, "blocked");
    let why = "ccenv: .claude-provider.toml changed since you allowed it; run `ccenv allow` to review";
    let gw = Gateway::start(
        &sb,
        &routes(&[(&dir, Err(why))], &[("groq", &server.url(), UPSTREAM_KEY, MODELS)]),
        &[],
    );
    let (ok, text) = claude(&sb, &gw, &dir, &["-p", "hello"]);
    assert!(!ok && text.contains("run `ccenv allow` to review"), "claude output:\n{text}");
    assert!(server.all().is_empty(), "a refused project reached the upstream");
}

fn have_python_sdk() -> bool {
    if !have("python3") {
        return false;
    }
    let ok =
        Command::new("python3").args(["-c", "import anthropic"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var_os("CCENV_REQUIRE_ALL").is_none(), "the Python anthropic SDK is required");
        eprintln!("SKIPPED: Python package `anthropic` is not installed");
    }
    ok
}

const PY: &str = r#"
import anthropic, base64, os
c = anthropic.Anthropic(base_url=os.environ["ANTHROPIC_BASE_URL"], auth_token=os.environ["ANTHROPIC_AUTH_TOKEN"], api_key=None)
m = c.messages.create(model="claude-3-5-haiku-latest", max_tokens=64, messages=[{"role": "user", "content": "ping"}])
print("PLAIN", m.content[0].text, m.stop_reason, m.usage.input_tokens, m.usage.output_tokens)
with c.messages.stream(model="big-model", max_tokens=64, messages=[{"role": "user", "content": "ping"}]) as s:
    text = "".join(s.text_stream)
    final = s.get_final_message()
print("STREAM", text, final.stop_reason, final.usage.output_tokens)
png = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
m = c.messages.create(model="big-model", max_tokens=64, messages=[{"role": "user", "content": [
    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
    {"type": "text", "text": "what is this?"}]}])
print("IMAGE", m.content[0].text)
print("COUNT", c.messages.count_tokens(model="big-model", messages=[{"role": "user", "content": "hello there"}]).input_tokens)
"#;

#[test]
fn the_python_sdk_streams_and_not_and_sends_images() {
    if !have_python_sdk() {
        return;
    }
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let (gw, dir) = one_provider(&sb, &server);
    let out = Command::new("python3")
        .args(["-c", PY])
        .env_clear()
        .envs(sb.base_env())
        .envs(gw.client_env(&dir))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("PLAIN pong-from-openai via small-model end_turn 21 4"), "{text}");
    assert!(text.contains("STREAM pong-from-openai via big-model end_turn 4"), "{text}");
    assert!(text.contains("IMAGE saw an image via big-model"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.strip_prefix("COUNT ").is_some_and(|n| n.trim().parse::<u64>().is_ok_and(|n| n > 0))),
        "{text}"
    );
    assert_upstream_credentials(&server, &gw, UPSTREAM_KEY);
    let image = server
        .all()
        .into_iter()
        .map(|r| body_json(&r))
        .find(|v| v.to_string().contains("image_url"))
        .unwrap();
    let url = image["messages"][0]["content"][0]["image_url"]["url"].as_str().unwrap();
    assert!(url.starts_with("data:image/png;base64,iVBORw0KGgpmYWtl"), "{url}");
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// POSTs a Messages request the way an SDK would; returns status and body.
fn post(gw: &Gateway, dir: &std::path::Path, body: &serde_json::Value) -> (u16, String) {
    let mut resp = agent()
        .post(format!("{}/v1/messages", gw.base_url(dir)))
        .header("authorization", &format!("Bearer {}", gw.token))
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap();
    (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap())
}

/// The text of an Anthropic event stream.
fn sse_text(body: &str) -> String {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|v| v["delta"]["text"].as_str().map(String::from))
        .collect()
}

#[test]
fn a_rate_limited_primary_hands_over_to_the_fallback_with_its_own_key_and_model() {
    let sb = Sandbox::new();
    let (primary, fallback) = (Server::answering(rate_limited), Server::answering(openai));
    let dir = gw::project_dir(&sb, "app");
    let r = routes(
        &[(&dir, Ok(&["groq", "together"]))],
        &[
            ("groq", &primary.url(), UPSTREAM_KEY, MODELS),
            ("together", &fallback.url(), FALLBACK_KEY, "{ default = \"fb-big\", haiku = \"fb-small\" }"),
        ],
    );
    let gw = Gateway::start(&sb, &r, &[]);
    let req = serde_json::json!({"model": "small-model", "max_tokens": 10, "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let (status, body) = post(&gw, &dir, &req);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sse_text(&body),
        "pong-from-openai via fb-small",
        "the haiku role maps to the fallback's haiku model: {body}"
    );
    assert!(
        body.starts_with("event: message_start")
            && body.trim_end().ends_with("data: {\"type\":\"message_stop\"}"),
        "{body}"
    );
    assert_eq!(primary.all().len(), 1);
    assert_upstream_credentials(&primary, &gw, UPSTREAM_KEY);
    assert_upstream_credentials(&fallback, &gw, FALLBACK_KEY);

    // The primary now cools down: the next request goes straight to the fallback.
    let (status, _) = post(&gw, &dir, &req);
    assert_eq!((status, primary.all().len(), fallback.all().len()), (200, 1, 2));
    let mut resp = agent()
        .get(format!("http://127.0.0.1:{}/ccenv/status", gw.port))
        .header("x-api-key", &gw.token)
        .call()
        .unwrap();
    let st: serde_json::Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert!(st["upstreams"]["groq"]["cooling_secs"].as_u64().is_some_and(|s| s > 0), "{st}");
    assert_eq!(st["serving"][dir.to_str().unwrap()], "together", "{st}");
    assert!(!st.to_string().contains(UPSTREAM_KEY) && !st.to_string().contains(FALLBACK_KEY));

    // Usage shows both providers, the 429 counted as an error. The gateway records a
    // request after its reply has gone out (a writer thread), so wait for the rows.
    let usage = || {
        let out = Command::new(gw::GATEWAY)
            .args(["usage", "--by", "provider", "--json"])
            .env_clear()
            .envs(sb.base_env())
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_else(|_| panic!("{out:?}"))
    };
    let requests = |rows: &serde_json::Value, p: &str| {
        rows.as_array().unwrap().iter().find(|r| r["key"] == p).and_then(|r| r["requests"].as_i64())
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let rows = loop {
        let rows = usage();
        let all_in = requests(&rows, "groq") == Some(1) && requests(&rows, "together") == Some(2);
        if all_in || std::time::Instant::now() > deadline {
            break rows;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let find = |p: &str| rows.as_array().unwrap().iter().find(|r| r["key"] == p).cloned().unwrap_or_default();
    assert_eq!(
        (find("groq")["requests"].as_i64(), find("groq")["errors"].as_i64()),
        (Some(1), Some(1)),
        "{rows}"
    );
    assert_eq!(
        (find("together")["requests"].as_i64(), find("together")["tokens_out"].as_i64()),
        (Some(2), Some(8)),
        "{rows}"
    );
    let table = Command::new(gw::GATEWAY)
        .args(["usage", "--by", "provider"])
        .env_clear()
        .envs(sb.base_env())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("together") && table.contains('█'), "{table}");
}

#[test]
fn when_every_upstream_fails_the_client_gets_an_anthropic_error_naming_them() {
    let sb = Sandbox::new();
    let primary = Server::answering(rate_limited);
    let dir = gw::project_dir(&sb, "app");
    let dead = "http://127.0.0.1:9";
    let r = routes(
        &[(&dir, Ok(&["groq", "gone"]))],
        &[("groq", &primary.url(), UPSTREAM_KEY, MODELS), ("gone", dead, FALLBACK_KEY, MODELS)],
    );
    let gw = Gateway::start(&sb, &r, &[]);
    let (status, body) =
        post(&gw, &dir, &serde_json::json!({"model": "big-model", "max_tokens": 5, "messages": []}));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["type"], "error", "{body}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("groq: HTTP 429") && msg.contains("gone: cannot connect"), "{msg}");
    assert!(status == 502 || status == 429, "{status}");
}

/// A raw request, for headers an HTTP client library would not let a test forge.
fn raw(port: u16, head: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(format!("{head}\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{{}}").as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn only_the_token_holder_naming_this_host_gets_in() {
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let (gw, dir) = one_provider(&sb, &server);
    let path = gw.base_url(&dir).split_once(&format!(":{}", gw.port)).unwrap().1.to_string() + "/v1/messages";
    let host = format!("host: 127.0.0.1:{}", gw.port);
    let good = format!("POST {path} HTTP/1.1\r\n{host}\r\nx-api-key: {}", gw.token);
    assert!(raw(gw.port, &good).starts_with("HTTP/1.1 200"), "{}", raw(gw.port, &good));
    let cases = [
        (format!("POST {path} HTTP/1.1\r\n{host}"), "401"),
        (format!("POST {path} HTTP/1.1\r\n{host}\r\nauthorization: Bearer {}x", gw.token), "401"),
        (format!("POST {path} HTTP/1.1\r\nhost: evil.example:{}\r\nx-api-key: {}", gw.port, gw.token), "403"),
        (
            format!(
                "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{}\r\norigin: http://evil.example\r\nx-api-key: {}",
                gw.port + 1,
                gw.token
            ),
            "403",
        ),
    ];
    for (head, want) in cases {
        let out = raw(gw.port, &head);
        assert!(out.starts_with(&format!("HTTP/1.1 {want}")), "{head}\n→ {out}");
        assert!(out.contains("\"type\":\"error\""), "{out}");
    }
    assert_eq!(server.all().len(), 1, "only the good request reached the upstream");
    let out = raw(
        gw.port,
        &format!(
            "OPTIONS {path} HTTP/1.1\r\n{host}\r\norigin: http://evil.example\r\naccess-control-request-method: POST"
        ),
    );
    assert!(!out.to_ascii_lowercase().contains("access-control-allow"), "{out}");
}

#[test]
fn serve_detach_status_and_stop() {
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let dir = gw::project_dir(&sb, "app");
    sb.write(
        &sb.path("out/routes.toml"),
        &routes(&[(&dir, Ok(&["groq"]))], &[("groq", &server.url(), UPSTREAM_KEY, MODELS)]),
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run = |args: &[&str]| {
        let out = Command::new(gw::GATEWAY).args(args).env_clear().envs(sb.base_env()).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let routes_arg = sb.path("out/routes.toml");
    let serve = ["serve", "--detach", "--port", &port.to_string(), "--routes", routes_arg.to_str().unwrap()];
    let (code, out) = run(&serve);
    // A detached gateway outlives a failed assertion unless something stops it.
    struct StopOnDrop<'a>(&'a Sandbox);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            let _ = Command::new(gw::GATEWAY).arg("stop").env_clear().envs(self.0.base_env()).output();
        }
    }
    let _stop = StopOnDrop(&sb);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!("running on 127.0.0.1:{port}")), "{out}");
    #[cfg(unix)]
    for f in ["gateway.token", "gateway.state"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(sb.path("data").join(f)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    let (code, out) = run(&serve);
    assert!(code == Some(0) && out.contains("already running"), "{out}");
    let (code, out) = run(&["status"]);
    assert!(code == Some(0) && out.contains(&format!("127.0.0.1:{port}")), "{out}");
    let (code, out) = run(&["stop"]);
    assert!(code == Some(0) && out.contains("stopped"), "{out}");
    let (code, out) = run(&["status"]);
    assert!(code == Some(3) && out.contains("not running"), "{out}");

    // Another program on the port: it is not taken for ours, and the gateway listens on a
    // free port instead, which its state file (what ccenv hands to shells) names.
    let squatter = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let (code, out) = run(&serve);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("running on 127.0.0.1:") && !out.contains(&format!(":{port} ")), "{out}");
    let log = std::fs::read_to_string(sb.path("data/gateway.log")).unwrap();
    assert!(
        log.contains(&format!("port {port} on 127.0.0.1 is taken by another program; listening on")),
        "{log}"
    );
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path("data/gateway.state")).unwrap()).unwrap();
    assert_ne!(state["port"].as_u64(), Some(u64::from(port)));
    let (code, out) = run(&["stop"]);
    assert!(code == Some(0) && out.contains("stopped"), "{out}");
    drop(squatter);
}

#[test]
fn a_silent_primary_times_out_before_the_first_byte_and_the_fallback_serves() {
    let sb = Sandbox::new();
    let (silent, fallback) = (Server::answering(|_| None), Server::answering(openai));
    let dir = gw::project_dir(&sb, "app");
    let r = routes(
        &[(&dir, Ok(&["slow", "ok"]))],
        &[("slow", &silent.url(), UPSTREAM_KEY, MODELS), ("ok", &fallback.url(), FALLBACK_KEY, MODELS)],
    );
    let gw = Gateway::start(&sb, &r, &["--first-byte-timeout", "1"]);
    let started = std::time::Instant::now();
    let (status, body) = post(
        &gw,
        &dir,
        &serde_json::json!({"model": "big-model", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("pong-from-openai via big-model"), "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(silent.all().len(), 1);
}

#[test]
fn thirty_two_concurrent_streams_all_complete() {
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let (gw, dir) = one_provider(&sb, &server);
    let gw = std::sync::Arc::new(gw);
    let handles: Vec<_> = (0..32)
        .map(|_| {
            let (gw, dir) = (gw.clone(), dir.clone());
            std::thread::spawn(move || {
                let req = serde_json::json!({"model": "big-model", "max_tokens": 5, "stream": true, "messages": [{"role": "user", "content": "x"}]});
                post(&gw, &dir, &req)
            })
        })
        .collect();
    for h in handles {
        let (status, body) = h.join().unwrap();
        assert_eq!((status, sse_text(&body).as_str()), (200, "pong-from-openai via big-model"), "{body}");
    }
}

/// An upstream that streams one chunk every 50 ms for as long as someone reads, and
/// reports when its reader hung up.
fn endless_stream() -> (String, std::sync::mpsc::Receiver<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 65536];
        let _ = s.read(&mut buf);
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        let data = "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"la \"}}]}\n\n";
        for _ in 0..400 {
            if s.write_all(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes()).is_err() {
                let _ = tx.send(());
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    });
    (url, rx)
}

#[test]
fn a_client_that_goes_away_cancels_the_upstream_request() {
    let sb = Sandbox::new();
    let (url, hung_up) = endless_stream();
    let dir = gw::project_dir(&sb, "app");
    let gw = Gateway::start(&sb, &routes(&[(&dir, Ok(&["up"]))], &[("up", &url, UPSTREAM_KEY, MODELS)]), &[]);
    let req = serde_json::json!({"model": "m", "max_tokens": 5, "stream": true, "messages": [{"role": "user", "content": "x"}]});
    let mut resp = agent()
        .post(format!("{}/v1/messages", gw.base_url(&dir)))
        .header("x-api-key", &gw.token)
        .send(req.to_string())
        .unwrap();
    let mut reader = resp.body_mut().as_reader();
    let mut first = [0u8; 256];
    assert!(reader.read(&mut first).unwrap() > 0);
    assert!(String::from_utf8_lossy(&first).contains("message_start"));
    assert!(
        hung_up.recv_timeout(std::time::Duration::from_millis(300)).is_err(),
        "the stream ended on its own"
    );
    drop(reader);
    drop(resp);
    hung_up
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("the upstream request went on after the client left");
}

/// An upstream that echoes the key it was sent in its error (as some providers' 401 and
/// 5xx bodies do, with the key at any position): the gateway passes the message on to
/// Claude Code and keeps it for `gateway status`, so it masks the key first.
fn echoes_the_key(req: &common::server::Request) -> Option<(u16, &'static str, String)> {
    let key = req.header("authorization").unwrap_or_default().trim_start_matches("Bearer ").to_string();
    let status = if key == UPSTREAM_KEY { 500 } else { 401 };
    let pad = "x".repeat(295);
    let body = serde_json::json!({"error": {"message": format!("{pad}{key} is not valid here")}});
    Some((status, "application/json", body.to_string()))
}

#[test]
fn an_upstream_that_echoes_the_key_never_gets_it_shown() {
    let sb = Sandbox::new();
    let (primary, fallback) = (Server::answering(echoes_the_key), Server::answering(echoes_the_key));
    let dir = gw::project_dir(&sb, "app");
    let r = routes(
        &[(&dir, Ok(&["groq", "together"]))],
        &[
            ("groq", &primary.url(), UPSTREAM_KEY, MODELS),
            ("together", &fallback.url(), FALLBACK_KEY, MODELS),
        ],
    );
    let gw = Gateway::start(&sb, &r, &[]);
    let (status, body) =
        post(&gw, &dir, &serde_json::json!({"model": "big-model", "max_tokens": 5, "messages": []}));
    assert_eq!(status, 401, "{body}");
    assert_upstream_credentials(&fallback, &gw, FALLBACK_KEY);
    let mut resp = agent()
        .get(format!("http://127.0.0.1:{}/ccenv/status", gw.port))
        .header("x-api-key", &gw.token)
        .call()
        .unwrap();
    let st = resp.body_mut().read_to_string().unwrap();
    assert!(st.contains("groq") && st.contains("HTTP 500"), "{st}");
    for (what, text) in [("the answer to Claude Code", &body), ("the status", &st)] {
        for key in [UPSTREAM_KEY, FALLBACK_KEY] {
            for part in [key, &key[..12], &key[key.len() - 12..]] {
                assert!(!text.contains(part), "{what} shows the key (`{part}`): {text}");
            }
        }
    }
}

/// A project folder whose name holds an 8-bit CSI, ESC and a bidi override: every
/// `usage` and `status` form shows them escaped, JSON included (serde_json leaves C1 and
/// bidi characters raw), as ccenv's own commands do.
#[test]
fn usage_and_status_never_send_control_or_bidi_characters_to_the_terminal() {
    let sb = Sandbox::new();
    let server = Server::answering(openai);
    let dir = gw::project_dir(&sb, "app\u{9b}2J\u{1b}]0;t\u{7}\u{202e}\u{2066}x");
    let r = routes(&[(&dir, Ok(&["groq"]))], &[("groq", &server.url(), UPSTREAM_KEY, MODELS)]);
    let gw = Gateway::start(&sb, &r, &[]);
    let (status, body) =
        post(&gw, &dir, &serde_json::json!({"model": "big-model", "max_tokens": 5, "messages": []}));
    assert_eq!(status, 200, "{body}");
    for args in [&["usage", "--json"][..], &["usage"], &["status", "--json"], &["status"]] {
        // Usage is written by the gateway's own thread after the answer: wait for the row.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let text = loop {
            let out = Command::new(gw::GATEWAY).args(args).env_clear().envs(sb.base_env()).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if text.contains("app") || std::time::Instant::now() > deadline {
                break text;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert!(text.contains("app"), "{args:?}: {text}");
        let raw: Vec<char> = text
            .chars()
            .filter(|&c| {
                (c.is_control() && c != '\n') || ('\u{2066}'..='\u{2069}').contains(&c) || c == '\u{202e}'
            })
            .collect();
        assert!(raw.is_empty(), "{args:?} sent {raw:?} to the terminal: {text}");
    }
}
