//! The running server's shared state: configuration, the upstream client, and what it
//! has learned about each upstream (cool-downs, last error, who served each project).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::route::Resolver;
use crate::usage::Sink;

pub(crate) struct Timeouts {
    pub connect: Duration,
    /// Until the first byte of the answer (headers and, for streams, the first chunk).
    pub first_byte: Duration,
    /// Between two chunks of a stream already under way.
    pub idle: Duration,
}

pub(crate) struct App {
    pub resolver: Arc<dyn Resolver>,
    pub client: reqwest::Client,
    pub token: String,
    pub port: u16,
    pub timeouts: Timeouts,
    pub usage: Sink,
    pub shutdown: tokio::sync::Notify,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    upstreams: HashMap<String, UpstreamHealth>,
    serving: HashMap<String, String>,
}

#[derive(Default)]
struct UpstreamHealth {
    cool_until: Option<Instant>,
    last_error: Option<String>,
    served: u64,
    failed: u64,
}

pub(crate) type Shared = Arc<App>;

impl App {
    pub(crate) fn new(
        resolver: Arc<dyn Resolver>,
        token: String,
        port: u16,
        timeouts: Timeouts,
        usage: Sink,
    ) -> anyhow::Result<App> {
        let client = reqwest::Client::builder()
            // A redirect could carry the key to another host; upstream APIs do not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            .build()?;
        Ok(App {
            resolver,
            client,
            token,
            port,
            timeouts,
            usage,
            shutdown: tokio::sync::Notify::new(),
            health: Mutex::default(),
        })
    }

    pub(crate) fn cooling(&self, id: &str) -> bool {
        let h = self.health.lock().unwrap();
        h.upstreams.get(id).and_then(|u| u.cool_until).is_some_and(|t| t > Instant::now())
    }

    pub(crate) fn failed(&self, id: &str, why: &str, cool: Duration) {
        let mut h = self.health.lock().unwrap();
        let u = h.upstreams.entry(id.to_string()).or_default();
        u.failed += 1;
        u.last_error = Some(why.to_string());
        u.cool_until = Some(Instant::now() + cool);
    }

    pub(crate) fn served(&self, id: &str, project: &str) {
        let mut h = self.health.lock().unwrap();
        let u = h.upstreams.entry(id.to_string()).or_default();
        u.served += 1;
        u.cool_until = None;
        h.serving.insert(project.to_string(), id.to_string());
    }

    /// What `GET /ccenv/status` answers: no keys, no prompts.
    pub(crate) fn status(&self) -> Value {
        let h = self.health.lock().unwrap();
        let now = Instant::now();
        let upstreams: serde_json::Map<String, Value> = h
            .upstreams
            .iter()
            .map(|(id, u)| {
                let cooling = u.cool_until.filter(|t| *t > now).map(|t| (t - now).as_secs());
                (id.clone(), json!({"cooling_secs": cooling, "last_error": u.last_error, "served": u.served, "failed": u.failed}))
            })
            .collect();
        json!({
            "pid": std::process::id(), "port": self.port, "version": env!("CARGO_PKG_VERSION"),
            "upstreams": upstreams, "serving": h.serving,
        })
    }
}
