//! From an upstream answer already under way to the client's response: streams pass
//! chunk by chunk (translated, or for Anthropic upstreams as they are), never whole.
//! Dropping the client's body drops the upstream response, which closes its connection:
//! a client that goes away cancels the upstream request.

use std::time::Instant;

use axum::body::Body;
use axum::http::{Response, StatusCode};
use bytes::Bytes;
use futures_util::stream::{self, Stream};
use serde_json::Value;

use crate::app::Shared;
use crate::translate::{response, sse, stream::Translator};
use crate::usage::Record;

/// Records one request's usage when dropped, however the response ended.
pub(crate) struct Meter {
    pub app: Shared,
    pub project: String,
    pub provider: String,
    pub model: String,
    pub started: Instant,
    pub tokens: (u64, u64),
    pub status: u16,
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.app.usage.record(Record {
            project: std::mem::take(&mut self.project),
            provider: std::mem::take(&mut self.provider),
            model: std::mem::take(&mut self.model),
            tokens_in: self.tokens.0,
            tokens_out: self.tokens.1,
            status: self.status,
            latency_ms: self.started.elapsed().as_millis() as u64,
        });
    }
}

pub(crate) fn json(status: u16, v: &Value) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY))
        .header("content-type", "application/json")
        .body(Body::from(v.to_string()))
        .unwrap()
}

fn sse_response(body: Body) -> Response<Body> {
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(body)
        .unwrap()
}

/// A plain OpenAI answer, translated.
pub(crate) fn openai_whole(body: &[u8], model: &str, mut meter: Meter) -> Response<Body> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            meter.tokens = response::usage_of(&v).unwrap_or((0, 0));
            meter.status = 200;
            json(200, &response::to_anthropic(&v, model))
        }
        Err(_) => {
            meter.status = 502;
            json(
                502,
                &response::anthropic_error(
                    502,
                    &format!("{}: the upstream answer is not JSON", meter.provider),
                ),
            )
        }
    }
}

/// A plain Anthropic answer, as it came (usage read from it for the meter).
pub(crate) fn anthropic_whole(body: Bytes, mut meter: Meter) -> Response<Body> {
    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
        let n = |k: &str| v["usage"][k].as_u64().unwrap_or(0);
        meter.tokens = (n("input_tokens"), n("output_tokens"));
    }
    meter.status = 200;
    Response::builder().status(200).header("content-type", "application/json").body(Body::from(body)).unwrap()
}

struct Pump {
    resp: reqwest::Response,
    first: Option<Bytes>,
    parser: sse::Parser,
    meter: Meter,
    idle: std::time::Duration,
}

impl Pump {
    /// The next upstream chunk; `Err` carries why the stream broke off.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, String> {
        if let Some(first) = self.first.take() {
            return Ok(Some(first));
        }
        match tokio::time::timeout(self.idle, self.resp.chunk()).await {
            Err(_) => Err(format!("{} sent nothing for {}s", self.meter.provider, self.idle.as_secs())),
            Ok(Err(_)) => Err(format!("the connection to {} broke", self.meter.provider)),
            Ok(Ok(c)) => Ok(c),
        }
    }
}

/// An OpenAI stream, translated event by event.
pub(crate) fn openai_stream(
    app: &Shared,
    resp: reqwest::Response,
    first: Bytes,
    model: &str,
    meter: Meter,
) -> Response<Body> {
    let pump =
        Pump { resp, first: Some(first), parser: sse::Parser::default(), meter, idle: app.timeouts.idle };
    let state = (pump, Translator::new(model));
    let s = stream::unfold(Some(state), |state| async move {
        let (mut pump, mut t) = state?;
        let events = match pump.next_chunk().await {
            Ok(Some(bytes)) => pump.parser.push(&bytes).into_iter().flat_map(|e| t.data(&e.data)).collect(),
            Ok(None) => {
                let mut ev: Vec<_> = pump.parser.finish().into_iter().flat_map(|e| t.data(&e.data)).collect();
                ev.extend(t.eof());
                ev
            }
            Err(why) => t.fail(&why),
        };
        let text: String = events.iter().map(|(n, d)| sse::frame(n, d)).collect();
        pump.meter.tokens = t.usage();
        if t.is_finished() {
            pump.meter.status = if events.iter().any(|(n, _)| *n == "error") { 502 } else { 200 };
            return Some((Ok::<_, std::io::Error>(Bytes::from(text)), None));
        }
        Some((Ok(Bytes::from(text)), Some((pump, t))))
    });
    sse_response(Body::from_stream(s))
}

/// An Anthropic stream, byte for byte; a side parser reads the usage as it passes.
pub(crate) fn anthropic_stream(
    app: &Shared,
    resp: reqwest::Response,
    first: Bytes,
    meter: Meter,
) -> Response<Body> {
    let pump =
        Pump { resp, first: Some(first), parser: sse::Parser::default(), meter, idle: app.timeouts.idle };
    sse_response(Body::from_stream(passthrough(pump)))
}

fn passthrough(pump: Pump) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    stream::unfold(Some(pump), |pump| async move {
        let mut pump = pump?;
        match pump.next_chunk().await {
            Ok(Some(bytes)) => {
                for e in pump.parser.push(&bytes) {
                    note_usage(&mut pump.meter, &e.data);
                }
                Some((Ok(bytes), Some(pump)))
            }
            Ok(None) => {
                pump.meter.status = 200;
                None
            }
            Err(why) => {
                pump.meter.status = 502;
                let err = response::anthropic_error(502, &why);
                Some((Ok(Bytes::from(sse::frame("error", &err))), None))
            }
        }
    })
}

fn note_usage(meter: &mut Meter, data: &str) {
    let Ok(v) = serde_json::from_str::<Value>(data) else { return };
    let usage = match v["type"].as_str() {
        Some("message_start") => &v["message"]["usage"],
        Some("message_delta") => &v["usage"],
        _ => return,
    };
    if let Some(n) = usage["input_tokens"].as_u64().filter(|n| *n > 0) {
        meter.tokens.0 = n;
    }
    if let Some(n) = usage["output_tokens"].as_u64() {
        meter.tokens.1 = n;
    }
}
