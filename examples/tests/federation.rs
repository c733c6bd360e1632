//! Two-level federation: stack A scrapes an application and serves its API (with
//! `/federate`) over loopback; stack B scrapes A's `/federate` with `match[]` from the
//! scrape config's `params:`. With `honor_labels: true` B stores A's series with A's
//! `job`/`instance`; without it, A's labels survive as `exported_job` /
//! `exported_instance` and B's target labels win. Native histograms federate over the
//! protobuf format (B with `scrape_native_histograms` asks for it) and are left out of
//! text, as Prometheus does.

mod common;

use std::sync::{Arc, RwLock};

use common::new_stack;
use examples::api::{now_ms, Api, ApiOptions, Request};
use examples::http::HttpServer;
use examples::stack::config::Config;
use examples::stack::runner::Stack;
use examples::telemetry::Registry;
use serde_json::Value;
use tsdb::{Db, HeadOptions};

fn app() -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap().to_string();
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            let body = "# TYPE jobs_total counter\njobs_total{queue=\"a\"} 3\njobs_total{queue=\"b\"} 5\n# TYPE temp gauge\ntemp 21.5\n";
            let _ = req.respond(tiny_http::Response::from_string(body));
        }
    });
    addr
}

fn stack(yaml: &str, db: &Arc<RwLock<Db>>) -> Stack {
    let cfg = Config::load(yaml, std::path::Path::new(".")).unwrap();
    new_stack(
        &cfg,
        db,
        Arc::new(Registry::new()),
        "http://stack",
        Box::new(std::io::sink()),
    )
}

fn query(api: &Api, q: &str, t_ms: i64) -> Vec<Value> {
    let url = format!(
        "/api/v1/query?query={}&time={}",
        form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>(),
        t_ms as f64 / 1000.0
    );
    let r = api.handle(&Request::new("GET", &url, None, b"", None));
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    let mut res = v["data"]["result"].as_array().unwrap().clone();
    res.sort_by_key(|x| x["metric"].to_string());
    res
}

#[test]
fn stack_b_federates_stack_a() {
    // Level 1: A scrapes the app and serves its API.
    let target = app();
    let db_a = Arc::new(RwLock::new(Db::in_memory(HeadOptions::default())));
    let mut a = stack(
        &format!("scrape_configs:\n- job_name: app\n  scrape_interval: 1s\n  static_configs: [{{targets: ['{target}'], labels: {{team: core}}}}]\n"),
        &db_a,
    );
    let api_a = Arc::new(Api::new(Arc::clone(&db_a), ApiOptions::default()));
    let srv = HttpServer::start("127.0.0.1:0", api_a, 2).unwrap();
    let a_addr = srv.addr().to_string();
    let t_a = now_ms();
    a.round(t_a);

    // Level 2: B scrapes A's /federate twice: honouring labels, and not.
    let db_b = Arc::new(RwLock::new(Db::in_memory(HeadOptions::default())));
    let mut b = stack(
        &format!(
            "global: {{scrape_timeout: 300ms}}\nscrape_configs:\n- job_name: federate\n  scrape_interval: 1s\n  honor_labels: true\n  metrics_path: /federate\n  params:\n    'match[]': ['{{job=\"app\",__name__=~\"jobs_.*\"}}', 'temp']\n  static_configs: [{{targets: ['{a_addr}']}}]\n- job_name: plain\n  scrape_interval: 1s\n  metrics_path: /federate\n  params:\n    'match[]': ['jobs_total{{queue=\"a\"}}']\n  static_configs: [{{targets: ['{a_addr}']}}]\n- job_name: restamp\n  scrape_interval: 1s\n  honor_timestamps: false\n  metrics_path: /federate\n  params:\n    'match[]': ['temp']\n  static_configs: [{{targets: ['{a_addr}']}}]\n"
        ),
        &db_b,
    );
    let t_b = now_ms() + 1;
    b.round(t_b);
    srv.stop();
    let api_b = Api::new(Arc::clone(&db_b), ApiOptions::default());
    // A goes away: B's scrape fails, but federated samples carry A's timestamps, so (as
    // in Prometheus) they get no staleness marker and age out with the lookback instead.
    let t_down = now_ms() + 1_001;
    b.round(t_down);
    assert_eq!(
        query(&api_b, "up{job=\"federate\"}", t_down)[0]["value"][1],
        "0"
    );
    assert_eq!(query(&api_b, "jobs_total{job=\"app\"}", t_down).len(), 2);

    // A's series, with A's labels, at A's timestamps.
    let r = query(&api_b, "jobs_total{job=\"app\"}", t_a);
    assert_eq!(r.len(), 2, "{r:?}");
    for (x, (queue, v)) in r.iter().zip([("a", "3"), ("b", "5")]) {
        assert_eq!(x["metric"]["queue"], queue);
        assert_eq!(x["metric"]["instance"], target.as_str());
        assert_eq!(x["metric"]["team"], "core");
        assert_eq!(x["value"], serde_json::json!([t_a as f64 / 1000.0, v]));
    }
    let r = query(&api_b, "temp", t_a);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["metric"]["job"], "app");
    assert_eq!(r[0]["value"][1], "21.5");
    // Only what match[] picked: A's own up series stayed on A.
    assert!(query(&api_b, "up{job=\"app\"}", t_a).is_empty());
    assert_eq!(query(&api_a_up(&db_a), "up{job=\"app\"}", t_a).len(), 1);
    // B's own scrape of A is job "federate".
    let up = query(&api_b, "up", t_down - 1_000);
    let jobs: Vec<&str> = up
        .iter()
        .map(|x| x["metric"]["job"].as_str().unwrap())
        .collect();
    assert_eq!(jobs, vec!["federate", "plain", "restamp"]);
    assert!(up.iter().all(|x| x["value"][1] == "1"), "{up:?}");

    // Without honor_labels: B's job/instance win; A's are kept as exported_*.
    let r = query(&api_b, "jobs_total{job=\"plain\"}", t_a);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["metric"]["exported_job"], "app");
    assert_eq!(r[0]["metric"]["exported_instance"], target.as_str());
    assert_eq!(r[0]["metric"]["instance"], a_addr.as_str());
    assert_eq!(r[0]["metric"]["queue"], "a");

    // honor_timestamps: false stores the federated sample at B's scrape time.
    let r = query(&api_b, "timestamp(temp{job=\"restamp\"})", t_b);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        r[0]["value"][1],
        format!("{}", t_b as f64 / 1000.0),
        "{r:?}"
    );
    let r = query(&api_b, "timestamp(temp{job=\"app\"})", t_b);
    assert_eq!(
        r[0]["value"][1],
        format!("{}", t_a as f64 / 1000.0),
        "{r:?}"
    );
}

fn api_a_up(db: &Arc<RwLock<Db>>) -> Api {
    Api::new(Arc::clone(db), ApiOptions::default())
}

const PROTOBUF_ACCEPT: &str =
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3";

/// A's database with native histograms (an integer counter one, a float gauge one, one
/// series of the same name as a float) and a float series, all at `t`.
fn histogram_db(t: i64) -> Arc<RwLock<Db>> {
    use exposition::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
    use exposition::Labels;
    let db = Arc::new(RwLock::new(Db::in_memory(HeadOptions::default())));
    {
        let mut d = db.write().unwrap();
        let mut app = d.appender();
        let h = Histogram {
            schema: 1,
            zero_threshold: 0.001,
            zero_count: 2,
            count: 10,
            sum: 12.5,
            positive_spans: vec![Span::new(-1, 2), Span::new(1, 1)],
            positive_buckets: vec![1, 2, -1],
            negative_spans: vec![Span::new(0, 1)],
            negative_buckets: vec![2],
            ..Histogram::default()
        };
        for (k, path) in ["/a", "/b"].iter().enumerate() {
            let l =
                Labels::from_pairs(&[("__name__", "rpc_seconds"), ("job", "app"), ("path", path)]);
            app.append_histogram(&l, t - 1_000 * k as i64, &h).unwrap();
        }
        let g = FloatHistogram {
            counter_reset_hint: CounterResetHint::Gauge,
            schema: 0,
            count: 2.5,
            sum: -1.0,
            positive_spans: vec![Span::new(0, 1)],
            positive_buckets: vec![2.5],
            ..FloatHistogram::default()
        };
        let gl = Labels::from_pairs(&[
            ("__name__", "rpc_seconds"),
            ("job", "app"),
            ("path", "/gauge"),
        ]);
        app.append_float_histogram(&gl, t, &g).unwrap();
        let fl = Labels::from_pairs(&[
            ("__name__", "rpc_seconds"),
            ("job", "app"),
            ("path", "/float"),
        ]);
        app.append(&fl, t, 4.0).unwrap();
        let temp = Labels::from_pairs(&[("__name__", "temp"), ("job", "app")]);
        app.append(&temp, t, 21.5).unwrap();
        app.commit().unwrap();
    }
    db
}

#[test]
fn federate_serves_native_histograms_over_protobuf_only() {
    use exposition::protobuf::{decode_messages, proto};
    let t = now_ms() - 2_000;
    let api = Api::new(histogram_db(t), ApiOptions::default());
    let url = "/federate?match[]=%7Bjob%3D%22app%22%7D";
    let r = api.handle(&Request::new("GET", url, None, b"", Some(PROTOBUF_ACCEPT)));
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, exposition::protobuf::CONTENT_TYPE);
    let fams = decode_messages(&r.body).unwrap();
    let shape: Vec<(&str, i32, usize)> = fams
        .iter()
        .map(|f| (f.name.as_str(), f.r#type, f.metric.len()))
        .collect();
    // Grouped as Prometheus groups them: a new family when the sample type or the
    // histogram kind changes (series in label order within the name).
    assert_eq!(
        shape,
        [
            ("rpc_seconds", proto::MetricType::Histogram as i32, 2),
            ("rpc_seconds", proto::MetricType::Untyped as i32, 1),
            ("rpc_seconds", proto::MetricType::GaugeHistogram as i32, 1),
            ("temp", proto::MetricType::Untyped as i32, 1),
        ]
    );
    let a = &fams[0].metric[0];
    let labels: Vec<(&str, &str)> = a
        .label
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect();
    assert_eq!(labels, [("job", "app"), ("path", "/a")]);
    assert_eq!(a.timestamp_ms, t);
    assert_eq!(fams[0].metric[1].timestamp_ms, t - 1_000);
    let h = a.histogram.as_ref().unwrap();
    assert_eq!(
        (h.sample_count_float, h.sample_sum, h.schema),
        (10.0, 12.5, 1)
    );
    assert_eq!((h.zero_threshold, h.zero_count_float), (0.001, 2.0));
    assert_eq!(h.positive_count, [1.0, 3.0, 2.0]);
    assert_eq!(h.negative_count, [2.0]);
    let spans: Vec<(i32, u32)> = h
        .positive_span
        .iter()
        .map(|s| (s.offset, s.length))
        .collect();
    assert_eq!(spans, [(-1, 2), (1, 1)]);
    assert_eq!(fams[1].metric[0].untyped.as_ref().unwrap().value, 4.0);
    assert_eq!(fams[3].metric[0].untyped.as_ref().unwrap().value, 21.5);
    // Our own protobuf decoder reads the histograms back (what a scraping stack does).
    let scrape = exposition::protobuf::decode(&r.body, &Default::default()).unwrap();
    assert_eq!(scrape.histograms.len(), 3, "{:?}", scrape.histograms);

    // Text formats leave the histograms out and keep the floats.
    for accept in [
        None,
        Some("text/plain;version=0.0.4"),
        Some("application/openmetrics-text;version=1.0.0"),
    ] {
        let r = api.handle(&Request::new("GET", url, None, b"", accept));
        assert_eq!(r.status, 200);
        let body = String::from_utf8(r.body).unwrap();
        assert!(
            body.contains(&format!("rpc_seconds{{job=\"app\",path=\"/float\"}} 4 {t}")),
            "{body}"
        );
        assert!(body.contains("temp{job=\"app\"} 21.5"), "{body}");
        assert_eq!(body.matches("rpc_seconds{").count(), 1, "{body}");
    }
}

#[test]
fn stack_b_federates_native_histograms_from_a() {
    let t_a = now_ms() - 2_000;
    let db_a = histogram_db(t_a);
    let srv = HttpServer::start(
        "127.0.0.1:0",
        Arc::new(Api::new(Arc::clone(&db_a), ApiOptions::default())),
        2,
    )
    .unwrap();
    let a_addr = srv.addr().to_string();
    let db_b = Arc::new(RwLock::new(Db::in_memory(HeadOptions::default())));
    // Native histograms on: B asks for protobuf first.
    let mut b = stack(
        &format!(
            "scrape_configs:\n- job_name: federate\n  scrape_interval: 1s\n  scrape_native_histograms: true\n  honor_labels: true\n  metrics_path: /federate\n  params:\n    'match[]': ['rpc_seconds']\n  static_configs: [{{targets: ['{a_addr}']}}]\n"
        ),
        &db_b,
    );
    b.round(now_ms());
    srv.stop();
    let api_a = Api::new(db_a, ApiOptions::default());
    let api_b = Api::new(Arc::clone(&db_b), ApiOptions::default());
    // Every histogram A holds, B holds at the same time with the same buckets.
    for sel in [
        "rpc_seconds{path=\"/a\"}",
        "rpc_seconds{path=\"/b\"}",
        "rpc_seconds{path=\"/gauge\"}",
    ] {
        let want = query(&api_a, sel, t_a);
        let got = query(&api_b, sel, t_a);
        assert_eq!(got.len(), 1, "{sel}: {got:?}");
        assert_eq!(got[0]["histogram"], want[0]["histogram"], "{sel}");
        // honor_labels keeps A's job; A's series have no instance, so B's target adds it.
        assert_eq!(got[0]["metric"]["job"], want[0]["metric"]["job"], "{sel}");
        assert_eq!(got[0]["metric"]["path"], want[0]["metric"]["path"], "{sel}");
        assert_eq!(got[0]["metric"]["instance"], a_addr.as_str(), "{sel}");
    }
    let f = query(&api_b, "rpc_seconds{path=\"/float\"}", t_a);
    assert_eq!(f[0]["value"][1], "4");
    let r = query(&api_b, "histogram_count(rpc_seconds{path=\"/a\"})", t_a);
    assert_eq!(r[0]["value"][1], "10");
}
