//! One client request across the route's upstreams: the primary first, then each
//! fallback with its own URL, key and model for the same role — and only while nothing
//! has been sent to the client. An upstream that failed is kept aside for a while.

use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, Response};
use serde_json::{Value, json};

use crate::app::Shared;
use crate::relay::{self, Meter, json as json_response};
use crate::route::{Protocol, Route, Upstream};
use crate::translate::{request, response::anthropic_error, tokens};
use crate::upstream::{self, Call, Outcome};

/// The upstreams in the order to try: those not cooling down, in route order; when all
/// are cooling, all of them anyway (an estimate of recovery is no reason to refuse).
fn order<'a>(app: &Shared, route: &'a Route) -> Vec<&'a Upstream> {
    let fresh: Vec<&Upstream> = route.upstreams.iter().filter(|u| !app.cooling(&u.id)).collect();
    if fresh.is_empty() { route.upstreams.iter().collect() } else { fresh }
}

pub(crate) async fn messages(
    app: Shared,
    project: String,
    route: Route,
    req: Value,
    headers: HeaderMap,
) -> Response<Body> {
    let requested = req["model"].as_str().unwrap_or("").to_string();
    let role = route.role_of(&requested);
    let stream = req["stream"].as_bool() == Some(true);
    let mut failures = Vec::new();
    let mut last_status = 502;
    for up in order(&app, &route) {
        let model = up.model_for(role, &requested);
        let body = match up.protocol {
            Protocol::OpenAiChat => request::to_openai(&req, &model),
            Protocol::Anthropic => with_model(&req, &model),
        };
        let meter = Meter {
            app: app.clone(),
            project: project.clone(),
            provider: up.id.clone(),
            model: model.clone(),
            started: Instant::now(),
            tokens: (0, 0),
            status: 499,
        };
        match upstream::attempt(&app, up, &Call::Messages { stream }, &body, &headers).await {
            Outcome::Ready { resp, first } => {
                app.served(&up.id, &project);
                return match (up.protocol, stream) {
                    (Protocol::OpenAiChat, true) => relay::openai_stream(&app, resp, first, &model, meter),
                    (Protocol::OpenAiChat, false) => relay::openai_whole(&first, &model, meter),
                    (Protocol::Anthropic, true) => relay::anthropic_stream(&app, resp, first, meter),
                    (Protocol::Anthropic, false) => relay::anthropic_whole(first, meter),
                };
            }
            Outcome::Next { why, status, cool } => {
                let mut meter = meter;
                meter.status = status;
                app.failed(&up.id, &why, cool);
                failures.push(format!("{}: {why}", up.id));
                last_status = status;
            }
            Outcome::Final { status, message } => {
                let mut meter = meter;
                meter.status = status;
                return json_response(status, &anthropic_error(status, &format!("{}: {message}", up.id)));
            }
        }
    }
    let msg = format!("ccenv gateway: no upstream could answer ({})", failures.join("; "));
    json_response(last_status, &anthropic_error(last_status, &msg))
}

fn with_model(req: &Value, model: &str) -> Value {
    let mut v = req.clone();
    v["model"] = model.into();
    v
}

/// Claude Code asks before it compacts; an error here would stop it, so whatever the
/// upstream cannot count is estimated.
pub(crate) async fn count_tokens(
    app: Shared,
    route: Route,
    req: Value,
    headers: HeaderMap,
) -> Response<Body> {
    let primary = &route.upstreams[0];
    if primary.protocol == Protocol::Anthropic {
        let requested = req["model"].as_str().unwrap_or("");
        let model = primary.model_for(route.role_of(requested), requested);
        let body = with_model(&req, &model);
        if let Outcome::Ready { first, .. } =
            upstream::attempt(&app, primary, &Call::CountTokens, &body, &headers).await
            && let Ok(v) = serde_json::from_slice::<Value>(&first)
            && v["input_tokens"].is_u64()
        {
            return json_response(200, &v);
        }
    }
    json_response(200, &json!({"input_tokens": tokens::estimate(&req)}))
}
