//! Native histograms end to end through `stack`: a loopback target serves a delimited
//! protobuf body (written with exposition's protobuf encoder) holding a native histogram
//! that grows between scrapes; the stack scrapes it with `scrape_native_histograms`,
//! stores it through the tsdb histogram append path, and the HTTP API (served on
//! loopback) answers PromQL over it. A text target scraped by the same stack is
//! unaffected, `sample_limit` counts a histogram as one sample, and a histogram that
//! disappears gets a staleness marker.

mod common;

use common::Log;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use examples::api::{now_ms, Api, ApiOptions};
use examples::http::HttpServer;
use examples::stack::config::Config;
use examples::stack::runner::Stack;
use examples::telemetry::Registry;
use exposition::protobuf::{self, proto};
use serde_json::Value;
use tsdb::{Db, HeadOptions};

/// What a loopback target serves at one path: content type and body.
type Bodies = Arc<Mutex<HashMap<String, (String, Vec<u8>)>>>;

/// `(path, Accept header)` of each request a target received.
type Accepts = Arc<Mutex<Vec<(String, String)>>>;

/// Serves `bodies[path]`; records the `Accept` header of each request by path.
fn target(bodies: Bodies) -> (String, Accepts) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap().to_string();
    let accepts: Accepts = Arc::default();
    let acc = Arc::clone(&accepts);
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            let accept = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("Accept"))
                .map(|h| h.value.to_string())
                .unwrap_or_default();
            acc.lock().unwrap().push((req.url().to_string(), accept));
            let body = bodies.lock().unwrap().get(req.url()).cloned();
            let _ = match body {
                Some((ct, b)) => {
                    let ct = tiny_http::Header::from_bytes("Content-Type", ct).unwrap();
                    req.respond(tiny_http::Response::from_data(b).with_header(ct))
                }
                None => req.respond(tiny_http::Response::from_string("no").with_status_code(404)),
            };
        }
    });
    (addr, accepts)
}

/// A protobuf body: native histogram `rpc_seconds{path="/a"}` after `n` rounds of 10
/// observations (5 in (0.5,1], 5 in (1,2], sum 15 per round), with the same counts as
/// classic buckets `le` 1 and 2, plus a gauge `temp`.
fn proto_body(n: u64) -> Vec<u8> {
    let hist = proto::MetricFamily {
        name: "rpc_seconds".into(),
        help: "RPC latency.".into(),
        r#type: proto::MetricType::Histogram as i32,
        metric: vec![proto::Metric {
            label: vec![proto::LabelPair {
                name: "path".into(),
                value: "/a".into(),
            }],
            histogram: Some(proto::Histogram {
                sample_count: 10 * n,
                sample_sum: 15.0 * n as f64,
                schema: 0,
                zero_threshold: 1e-128,
                positive_span: vec![proto::BucketSpan {
                    offset: 0,
                    length: 2,
                }],
                // Buckets (0.5,1] and (1,2]: absolute counts 5n, 5n.
                positive_delta: vec![5 * n as i64, 0],
                // The classic buckets an instrumented client sends alongside.
                bucket: [(1.0, 5 * n), (2.0, 10 * n)]
                    .into_iter()
                    .map(|(upper_bound, cumulative_count)| proto::Bucket {
                        upper_bound,
                        cumulative_count,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    };
    let gauge = proto::MetricFamily {
        name: "temp".into(),
        r#type: proto::MetricType::Gauge as i32,
        metric: vec![proto::Metric {
            gauge: Some(proto::Gauge { value: 21.5 }),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut out = Vec::new();
    protobuf::encode_delimited(&[hist, gauge], &mut out);
    out
}

fn stack(yaml: &str, db: &Arc<RwLock<Db>>, log: &Log) -> Stack {
    let cfg = Config::load(yaml, std::path::Path::new(".")).unwrap();
    common::new_stack(
        &cfg,
        db,
        Arc::new(Registry::new()),
        "http://stack",
        Box::new(log.clone()),
    )
}

/// `/api/v1/query` over real HTTP; the result vector.
fn query(api: &str, q: &str, t_ms: i64) -> Vec<Value> {
    let url = format!(
        "http://{api}/api/v1/query?query={}&time={}",
        form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>(),
        t_ms as f64 / 1000.0
    );
    let body = ureq::get(&url).call().unwrap().into_string().unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "success", "{q}: {body}");
    v["data"]["result"].as_array().unwrap().clone()
}

fn scalar(r: &[Value]) -> f64 {
    assert_eq!(r.len(), 1, "{r:?}");
    r[0]["value"][1].as_str().unwrap().parse().unwrap()
}

const PROTO_CT: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

#[test]
fn native_histogram_scrape_to_promql_over_http() {
    let bodies: Bodies = Arc::default();
    bodies.lock().unwrap().insert(
        "/text".into(),
        (
            "text/plain; version=0.0.4".into(),
            b"# TYPE jobs_total counter\njobs_total 7\n".to_vec(),
        ),
    );
    let (addr, accepts) = target(Arc::clone(&bodies));
    let db = Arc::new(RwLock::new(Db::in_memory(HeadOptions::default())));
    let log = Log::default();
    let yaml = format!(
        "global: {{scrape_interval: 15s, scrape_timeout: 2s}}\nscrape_configs:\n\
         - job_name: app\n  scrape_native_histograms: true\n  metrics_path: /proto\n  static_configs: [{{targets: ['{addr}']}}]\n\
         - job_name: text\n  metrics_path: /text\n  static_configs: [{{targets: ['{addr}']}}]\n"
    );
    let mut s = stack(&yaml, &db, &log);
    let api = Arc::new(Api::new(Arc::clone(&db), ApiOptions::default()));
    let srv = HttpServer::start("127.0.0.1:0", api, 2).unwrap();
    let api_addr = srv.addr().to_string();

    let t0 = now_ms();
    for k in 0..6u64 {
        bodies
            .lock()
            .unwrap()
            .insert("/proto".into(), (PROTO_CT.into(), proto_body(k + 1)));
        s.round(t0 + 15_000 * k as i64);
    }
    let t_end = t0 + 75_000;
    let logged = log.text();
    assert!(logged.contains("protobuf"), "{logged}");

    // The protobuf job asked for protobuf first; the text job did not ask for it.
    for (path, accept) in accepts.lock().unwrap().iter() {
        if path == "/proto" {
            assert!(
                accept.starts_with("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"),
                "{accept}"
            );
        } else {
            assert!(!accept.contains("protobuf"), "{accept}");
        }
    }

    // The raw series is a histogram sample.
    let r = query(&api_addr, "rpc_seconds", t_end);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["metric"]["job"], "app");
    assert_eq!(r[0]["metric"]["path"], "/a");
    assert!(r[0].get("value").is_none(), "{:?}", r[0]);
    let h = &r[0]["histogram"];
    assert_eq!(h[0].as_f64().unwrap(), t_end as f64 / 1000.0);
    assert_eq!(h[1]["count"], "60", "{h:?}");
    assert_eq!(h[1]["sum"], "90", "{h:?}");
    assert_eq!(h[1]["buckets"].as_array().unwrap().len(), 2, "{h:?}");

    // 10 observations every 15s.
    let rate = scalar(&query(
        &api_addr,
        "histogram_count(rate(rpc_seconds[1m]))",
        t_end,
    ));
    assert!((rate - 10.0 / 15.0).abs() < 1e-6, "rate {rate}");
    let sum_rate = scalar(&query(
        &api_addr,
        "histogram_sum(rate(rpc_seconds[1m]))",
        t_end,
    ));
    assert!((sum_rate - 1.0).abs() < 1e-6, "sum rate {sum_rate}");
    // Half the observations are at most 1: the median is the bucket boundary 1.
    let median = scalar(&query(
        &api_addr,
        "histogram_quantile(0.5, rpc_seconds)",
        t_end,
    ));
    assert!((median - 1.0).abs() < 1e-9, "median {median}");
    let p90 = scalar(&query(
        &api_addr,
        "histogram_quantile(0.9, rpc_seconds)",
        t_end,
    ));
    assert!(p90 > 1.0 && p90 <= 2.0, "p90 {p90}");
    // Only the native histogram was stored: no classic series.
    assert!(query(&api_addr, "rpc_seconds_count", t_end).is_empty());

    // Floats from the same protobuf body and from the text target.
    assert_eq!(scalar(&query(&api_addr, "temp", t_end)), 21.5);
    assert_eq!(scalar(&query(&api_addr, "jobs_total", t_end)), 7.0);
    // The histogram counts as one sample.
    assert_eq!(
        scalar(&query(
            &api_addr,
            "scrape_samples_scraped{job=\"app\"}",
            t_end
        )),
        2.0
    );

    // The histogram disappears: a staleness marker ends it at once.
    bodies.lock().unwrap().insert(
        "/proto".into(),
        (PROTO_CT.into(), {
            let mut b = Vec::new();
            protobuf::encode_delimited(
                &[proto::MetricFamily {
                    name: "temp".into(),
                    r#type: proto::MetricType::Gauge as i32,
                    metric: vec![proto::Metric {
                        gauge: Some(proto::Gauge { value: 22.0 }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                &mut b,
            );
            b
        }),
    );
    let t_gone = t_end + 15_000;
    s.round(t_gone);
    assert!(query(&api_addr, "rpc_seconds", t_gone).is_empty());
    assert!(query(&api_addr, "rpc_seconds", t_gone - 1).len() == 1);
    assert_eq!(scalar(&query(&api_addr, "temp", t_gone)), 22.0);
    srv.stop();
}

#[test]
fn classic_series_kept_and_sample_limit_counts_a_histogram_once() {
    let bodies: Bodies = Arc::default();
    bodies
        .lock()
        .unwrap()
        .insert("/proto".into(), (PROTO_CT.into(), proto_body(2)));
    let (addr, _) = target(Arc::clone(&bodies));
    let db = Arc::new(RwLock::new(Db::in_memory(HeadOptions::default())));
    let log = Log::default();
    // `scrape_protocols` with PrometheusProto first turns protobuf on (Prometheus 3).
    let yaml = format!(
        "global: {{scrape_interval: 15s, scrape_timeout: 2s}}\nscrape_configs:\n\
         - job_name: ok\n  scrape_protocols: [PrometheusProto, PrometheusText0.0.4]\n  sample_limit: 2\n  metrics_path: /proto\n  static_configs: [{{targets: ['{addr}']}}]\n\
         - job_name: over\n  scrape_native_histograms: true\n  sample_limit: 1\n  metrics_path: /proto\n  static_configs: [{{targets: ['{addr}']}}]\n\
         - job_name: both\n  scrape_native_histograms: true\n  always_scrape_classic_histograms: true\n  metrics_path: /proto\n  static_configs: [{{targets: ['{addr}']}}]\n"
    );
    let mut s = stack(&yaml, &db, &log);
    let api = Arc::new(Api::new(Arc::clone(&db), ApiOptions::default()));
    let srv = HttpServer::start("127.0.0.1:0", api, 2).unwrap();
    let a = srv.addr().to_string();
    let t = now_ms();
    s.round(t);

    assert_eq!(scalar(&query(&a, "up{job=\"ok\"}", t)), 1.0);
    assert_eq!(query(&a, "rpc_seconds{job=\"ok\"}", t).len(), 1);
    assert_eq!(scalar(&query(&a, "up{job=\"over\"}", t)), 0.0);
    assert!(query(&a, "rpc_seconds{job=\"over\"}", t).is_empty());
    assert!(
        log.text().contains("sample limit exceeded"),
        "{}",
        log.text()
    );

    // The classic series are stored next to the native histogram.
    let r = query(&a, "rpc_seconds{job=\"both\"}", t);
    assert_eq!(r.len(), 1);
    assert!(r[0].get("histogram").is_some(), "{r:?}");
    assert_eq!(
        scalar(&query(&a, "rpc_seconds_count{job=\"both\"}", t)),
        20.0
    );
    let b = query(&a, "rpc_seconds_bucket{job=\"both\"}", t);
    assert_eq!(b.len(), 3, "le 1, 2, +Inf: {b:?}");
    assert!(query(&a, "rpc_seconds_count{job=\"ok\"}", t).is_empty());
    srv.stop();

    // An unknown protocol is a config error.
    let bad = "scrape_configs:\n- job_name: x\n  scrape_protocols: [Gopher]\n  static_configs: [{targets: ['a:1']}]\n";
    let e = Config::load(bad, std::path::Path::new(".")).unwrap_err();
    assert!(e.to_string().contains("unknown scrape protocol"), "{e}");
}

/// A `Pushgateway` served on loopback (in process): pushes and scrapes go over HTTP.
fn pushgateway() -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap().to_string();
    std::thread::spawn(move || {
        let mut pg = examples::pushgateway::Pushgateway::default();
        for mut req in server.incoming_requests() {
            let header = |name: &str| {
                req.headers()
                    .iter()
                    .find(|h| h.field.to_string().eq_ignore_ascii_case(name))
                    .map(|h| h.value.to_string())
            };
            let (ct, accept) = (header("Content-Type"), header("Accept"));
            let mut body = Vec::new();
            let _ = req.as_reader().read_to_end(&mut body);
            let method = req.method().to_string();
            let r = pg.handle(
                &method,
                req.url(),
                ct.as_deref(),
                accept.as_deref(),
                &body,
                now_ms(),
            );
            let ct = tiny_http::Header::from_bytes("Content-Type", r.content_type).unwrap();
            let _ = req.respond(
                tiny_http::Response::from_data(r.body)
                    .with_status_code(r.status)
                    .with_header(ct),
            );
        }
    });
    addr
}

/// A native-only histogram family `rpc_seconds` with `n` observations in (0.5,1].
fn native_only(n: u64) -> Vec<u8> {
    let fam = proto::MetricFamily {
        name: "rpc_seconds".into(),
        r#type: proto::MetricType::Histogram as i32,
        metric: vec![proto::Metric {
            histogram: Some(proto::Histogram {
                sample_count: n,
                sample_sum: 0.75 * n as f64,
                schema: 0,
                zero_threshold: 1e-128,
                positive_span: vec![proto::BucketSpan {
                    offset: 0,
                    length: 1,
                }],
                positive_delta: vec![n as i64],
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut out = Vec::new();
    protobuf::encode_delimited(&[fam], &mut out);
    out
}

#[test]
fn pushgateway_native_histograms_reach_a_stack_scrape() {
    let pg = pushgateway();
    let push = |n: u64| {
        let r = ureq::put(&format!("http://{pg}/metrics/job/batch"))
            .set("Content-Type", PROTO_CT)
            .send_bytes(&native_only(n))
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    push(3);
    let db = Arc::new(RwLock::new(Db::in_memory(HeadOptions::default())));
    let log = Log::default();
    let yaml = format!(
        "global: {{scrape_interval: 15s, scrape_timeout: 2s}}\nscrape_configs:\n\
         - job_name: pushgateway\n  honor_labels: true\n  scrape_native_histograms: true\n  static_configs: [{{targets: ['{pg}']}}]\n"
    );
    let mut s = stack(&yaml, &db, &log);
    let api = Arc::new(Api::new(Arc::clone(&db), ApiOptions::default()));
    let srv = HttpServer::start("127.0.0.1:0", api, 2).unwrap();
    let a = srv.addr().to_string();
    let t = now_ms();
    s.round(t);
    assert!(log.text().contains("protobuf"), "{}", log.text());
    let r = query(&a, "rpc_seconds", t);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        r[0]["metric"]["job"], "batch",
        "honor_labels keeps the pushed job"
    );
    assert_eq!(r[0]["histogram"][1]["count"], "3", "{r:?}");
    push(8);
    s.round(t + 15_000);
    let c = scalar(&query(&a, "histogram_count(rpc_seconds)", t + 15_000));
    assert_eq!(c, 8.0);
    let inc = scalar(&query(
        &a,
        "histogram_count(increase(rpc_seconds[30s]))",
        t + 15_000,
    ));
    assert!(inc > 5.0, "increase {inc}");
    srv.stop();
}

#[test]
fn scrape_protocols_order_the_accept_header() {
    let load = |extra: &str| {
        let y = format!(
            "scrape_configs:\n- job_name: x\n{extra}  static_configs: [{{targets: ['a:1']}}]\n"
        );
        Config::load(&y, std::path::Path::new("."))
            .unwrap()
            .scrape_configs[0]
            .clone()
    };
    let plain = load("");
    assert!(!plain.scrape_native_histograms);
    assert_eq!(plain.scrape_protocols[0], "OpenMetricsText1.0.0");
    assert!(!examples::stack::config::accept_header(&plain.scrape_protocols).contains("protobuf"));
    let native = load("  scrape_native_histograms: true\n");
    assert_eq!(native.scrape_protocols.len(), 5);
    let h = examples::stack::config::accept_header(&native.scrape_protocols);
    assert!(
        h.starts_with("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,"),
        "{h}"
    );
    assert!(
        h.ends_with("text/plain;version=0.0.4;q=0.2,*/*;q=0.1"),
        "{h}"
    );
    // Text only, even with native histograms on: no protobuf asked for.
    let text =
        load("  scrape_native_histograms: true\n  scrape_protocols: [PrometheusText0.0.4]\n");
    assert_eq!(
        examples::stack::config::accept_header(&text.scrape_protocols),
        "text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
    );
    // Protobuf asked for with native histograms explicitly off: only classic series.
    let off = load("  scrape_native_histograms: false\n  scrape_protocols: [PrometheusProto]\n");
    assert!(!off.scrape_native_histograms);
}

#[test]
fn protobuf_without_native_histograms_stores_the_classic_series() {
    let bodies: Bodies = Arc::default();
    bodies
        .lock()
        .unwrap()
        .insert("/proto".into(), (PROTO_CT.into(), proto_body(4)));
    let (addr, _) = target(Arc::clone(&bodies));
    let db = Arc::new(RwLock::new(Db::in_memory(HeadOptions::default())));
    let log = Log::default();
    let yaml = format!(
        "scrape_configs:\n- job_name: off\n  scrape_native_histograms: false\n  scrape_protocols: [PrometheusProto]\n  metrics_path: /proto\n  static_configs: [{{targets: ['{addr}']}}]\n"
    );
    let mut s = stack(&yaml, &db, &log);
    let api = Arc::new(Api::new(Arc::clone(&db), ApiOptions::default()));
    let srv = HttpServer::start("127.0.0.1:0", api, 2).unwrap();
    let a = srv.addr().to_string();
    let t = now_ms();
    s.round(t);
    assert!(query(&a, "rpc_seconds", t).is_empty());
    assert_eq!(scalar(&query(&a, "rpc_seconds_count", t)), 40.0);
    assert_eq!(
        scalar(&query(&a, "histogram_quantile(0.5, rpc_seconds_bucket)", t)),
        1.0
    );
    srv.stop();
}
