//! The HTTP surface, on 127.0.0.1 only:
//!   POST /p/<root>/v1/messages[/count_tokens]  Claude Code and the SDKs (token)
//!   GET  /ccenv/health?nonce=N                 proves this server holds the token
//!   GET  /ccenv/status                         who is serving, cool-downs (token)
//!   POST /ccenv/shutdown                       for `ccenv-gateway stop` (token)
//! Every request must name this server in `Host`. No CORS headers are ever sent, so a
//! browser page cannot read an answer even if it guessed everything else.

use std::path::PathBuf;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, Response, Uri};
use axum::middleware::{self, Next};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::app::Shared;
use crate::failover;
use crate::relay::json as json_response;
use crate::route::{Refusal, Route, decode_root};
use crate::security;
use crate::translate::response::anthropic_error;

/// Claude Code sends whole conversations, images included; Anthropic's own cap is 32 MB.
const MAX_BODY: usize = 32 << 20;

pub(crate) fn router(app: Shared) -> Router {
    Router::new()
        .route("/p/{root}/v1/messages", post(messages))
        .route("/p/{root}/v1/messages/count_tokens", post(count_tokens))
        .route("/ccenv/health", get(health))
        .route("/ccenv/status", get(status))
        .route("/ccenv/shutdown", post(shutdown))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}

fn error(status: u16, message: &str) -> Response<Body> {
    json_response(status, &anthropic_error(status, message))
}

async fn guard(State(app): State<Shared>, req: Request, next: Next) -> Response<Body> {
    if !security::host_ok(req.headers(), app.port) {
        return error(403, "ccenv gateway: the Host header does not name this server");
    }
    if req.uri().path() != "/ccenv/health" && !security::token_ok(req.headers(), &app.token) {
        return error(
            401,
            "ccenv gateway: missing or wrong gateway token (ANTHROPIC_AUTH_TOKEN must be the token ccenv set; \
             re-enter the project directory or run `ccenv exec`)",
        );
    }
    next.run(req).await
}

async fn not_found() -> Response<Body> {
    error(404, "ccenv gateway: no such endpoint (Claude Code calls /p/<project>/v1/messages)")
}

/// The route for the project in the URL, resolved off the async threads (a resolver
/// reads files), or the refusal as Claude Code will show it.
async fn resolve(app: &Shared, segment: &str) -> Result<(PathBuf, Route), Box<Response<Body>>> {
    let Some(root) = decode_root(segment) else {
        return Err(Box::new(error(404, "ccenv gateway: the project part of the URL is not valid")));
    };
    let resolver = app.resolver.clone();
    let r = root.clone();
    let refused = match tokio::task::spawn_blocking(move || resolver.route(&r)).await {
        Ok(Ok(route)) if !route.upstreams.is_empty() => return Ok((root, route)),
        Ok(Ok(_)) => error(403, "ccenv gateway: this project has no upstream"),
        Ok(Err(Refusal(why))) => error(403, &why),
        Err(_) => error(500, "ccenv gateway: resolving the project failed"),
    };
    Err(Box::new(refused))
}

fn parse(body: &Bytes) -> Result<Value, Box<Response<Body>>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(Box::new(error(400, "ccenv gateway: the request body is not a JSON object"))),
    }
}

async fn messages(
    State(app): State<Shared>,
    Path(root): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let (root, route) = match resolve(&app, &root).await {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    match parse(&body) {
        Ok(req) => failover::messages(app, root.to_string_lossy().into_owned(), route, req, headers).await,
        Err(resp) => *resp,
    }
}

async fn count_tokens(
    State(app): State<Shared>,
    Path(root): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let (_, route) = match resolve(&app, &root).await {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    match parse(&body) {
        Ok(req) => failover::count_tokens(app, route, req, headers).await,
        Err(resp) => *resp,
    }
}

async fn health(State(app): State<Shared>, uri: Uri) -> Response<Body> {
    let nonce = uri.query().unwrap_or("").split('&').find_map(|kv| kv.strip_prefix("nonce=")).unwrap_or("");
    if nonce.is_empty() || nonce.len() > 128 {
        return error(400, "ccenv gateway: health needs a nonce of 1 to 128 characters");
    }
    json_response(200, &json!({"proof": security::proof(&app.token, nonce), "pid": std::process::id()}))
}

async fn status(State(app): State<Shared>) -> Response<Body> {
    json_response(200, &app.status())
}

async fn shutdown(State(app): State<Shared>) -> Response<Body> {
    app.shutdown.notify_one();
    json_response(200, &json!({"stopping": true}))
}
