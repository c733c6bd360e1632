//! Targets over the `examples` crate: the Prometheus HTTP API (a pure function from a
//! request to a reply) and the `stack` program's configuration file.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use examples::api::{Api, ApiOptions, Request};
use examples::stack::config::Config;
use exposition::Labels;
use tsdb::{Db, HeadOptions};

fn api() -> Api {
    let mut db = Db::in_memory(HeadOptions::default());
    let mut app = db.appender();
    for (job, v) in [("a", 1.0), ("b", 0.0)] {
        let l = Labels::from_pairs(&[("__name__", "up"), ("job", job)]);
        for k in 0..5i64 {
            let _ = app.append(&l, k * 15_000, v + k as f64);
        }
    }
    let _ = app.commit();
    Api::new(
        Arc::new(RwLock::new(db)),
        ApiOptions {
            timeout: Duration::from_secs(2),
            max_samples: 200_000,
            lookback_ms: 5 * 60_000,
        },
    )
}

fn line(data: &[u8]) -> (&str, &[u8]) {
    let (l, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    (std::str::from_utf8(l).unwrap_or(""), rest)
}

/// One HTTP request to the API, laid out as `METHOD URL\nContent-Type\nAccept\nbody`
/// (an empty header line means no header): any request gets a reply with a status code,
/// and a JSON reply is valid JSON.
pub fn api_request(data: &[u8]) {
    let (req_line, rest) = line(data);
    let (ctype, rest) = line(rest);
    let (accept, body) = line(rest);
    let (method, url) = req_line.split_once(' ').unwrap_or(("GET", req_line));
    let req = Request::new(
        method,
        url,
        (!ctype.is_empty()).then_some(ctype),
        body,
        (!accept.is_empty()).then_some(accept),
    );
    let _ = req.body_json();
    let reply = api().handle(&req);
    assert!(
        (100..600).contains(&reply.status),
        "status {}",
        reply.status
    );
    if reply.content_type == "application/json" {
        serde_json::from_slice::<serde_json::Value>(&reply.body).unwrap_or_else(|e| {
            panic!(
                "reply is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&reply.body)
            )
        });
    }
}

/// The `stack` program's YAML config: any text loads or returns a `ConfigError`, never
/// panics; a loaded config's relabel rules run over a sample target.
pub fn stack_config(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = Config::load(s, Path::new("/nonexistent")) else {
        return;
    };
    let target = Labels::from_pairs(&[
        ("__address__", "localhost:9090"),
        ("__metrics_path__", "/metrics"),
        ("__scheme__", "http"),
        ("job", "fuzz"),
    ]);
    for job in cfg.scrape_configs.iter().take(4) {
        let _ = examples::stack::relabel::process(&target, &job.relabel_configs);
        let _ = examples::stack::relabel::process(&target, &job.metric_relabel_configs);
    }
}
