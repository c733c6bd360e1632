//! Pushes with delimited protobuf bodies, and `GET /metrics` answered in protobuf.

use exposition::protobuf::{self, proto, DecodeOptions};
use exposition::MetricType;

use super::api::Pushgateway;

fn body(fams: &[proto::MetricFamily]) -> Vec<u8> {
    let mut out = Vec::new();
    protobuf::encode_delimited(fams, &mut out);
    out
}

fn counter(name: &str, help: &str, v: f64) -> proto::MetricFamily {
    proto::MetricFamily {
        name: name.into(),
        help: help.into(),
        r#type: proto::MetricType::Counter as i32,
        metric: vec![proto::Metric {
            label: vec![proto::LabelPair {
                name: "queue".into(),
                value: "a".into(),
            }],
            counter: Some(proto::Counter {
                value: v,
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn histogram(native: bool, classic: bool) -> proto::MetricFamily {
    let mut h = proto::Histogram {
        sample_count: 3,
        sample_sum: 1.5,
        ..Default::default()
    };
    if classic {
        h.bucket = vec![proto::Bucket {
            cumulative_count: 2,
            upper_bound: 0.5,
            ..Default::default()
        }];
    }
    if native {
        h.schema = 0;
        h.positive_span = vec![proto::BucketSpan {
            offset: 0,
            length: 2,
        }];
        h.positive_delta = vec![2, -1];
    }
    proto::MetricFamily {
        name: "rpc_seconds".into(),
        help: "RPC latency.".into(),
        r#type: proto::MetricType::Histogram as i32,
        metric: vec![proto::Metric {
            histogram: Some(h),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn text(pg: &mut Pushgateway) -> String {
    let r = pg.handle("GET", "/metrics", None, None, b"", 0);
    String::from_utf8(r.body).unwrap()
}

#[test]
fn protobuf_push_is_stored_like_text() {
    let mut pg = Pushgateway::default();
    let b = body(&[counter("jobs_total", "Jobs.", 3.0), histogram(true, true)]);
    let r = pg.handle(
        "PUT",
        "/metrics/job/batch",
        Some(protobuf::CONTENT_TYPE),
        None,
        &b,
        5_000,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let t = text(&mut pg);
    assert!(
        t.contains("jobs_total{job=\"batch\",queue=\"a\"} 3\n"),
        "{t}"
    );
    assert!(
        t.contains("rpc_seconds_bucket{job=\"batch\",le=\"0.5\"} 2\n"),
        "{t}"
    );
    assert!(
        t.contains("rpc_seconds_bucket{job=\"batch\",le=\"+Inf\"} 3\n"),
        "{t}"
    );
    assert!(t.contains("rpc_seconds_count{job=\"batch\"} 3\n"), "{t}");

    // The same family pushed as text by another group must agree on type and help.
    let r = pg.handle(
        "PUT",
        "/metrics/job/other",
        None,
        None,
        b"# TYPE jobs_total gauge\njobs_total 1\n",
        6_000,
    );
    assert_eq!(r.status, 400);
    // And a protobuf push is checked against text pushes.
    let r = pg.handle(
        "POST",
        "/metrics/job/other",
        Some(protobuf::CONTENT_TYPE),
        None,
        &body(&[counter("jobs_total", "Other help.", 1.0)]),
        7_000,
    );
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn refused_protobuf_pushes() {
    let mut pg = Pushgateway::default();
    let put = |pg: &mut Pushgateway, b: &[u8]| {
        let r = pg.handle(
            "PUT",
            "/metrics/job/batch",
            Some(protobuf::CONTENT_TYPE),
            None,
            b,
            1_000,
        );
        (r.status, String::from_utf8_lossy(&r.body).into_owned())
    };
    // A gauge histogram has no text 0.0.4 form.
    let mut g = histogram(true, true);
    g.r#type = proto::MetricType::GaugeHistogram as i32;
    let (status, msg) = put(&mut pg, &body(&[g]));
    assert_eq!(status, 400, "{msg}");
    // Truncated body: the error names the byte.
    let mut b = body(&[counter("jobs_total", "Jobs.", 3.0)]);
    b.pop();
    let (status, msg) = put(&mut pg, &b);
    assert_eq!(status, 400);
    assert!(msg.contains("byte 0"), "{msg}");
    // Pushed samples may not carry timestamps.
    let mut c = counter("jobs_total", "Jobs.", 3.0);
    c.metric[0].timestamp_ms = 1234;
    let (status, msg) = put(&mut pg, &body(&[c]));
    assert_eq!(status, 400);
    assert!(msg.contains("timestamp"), "{msg}");
    // Nothing was stored, and each failure was recorded.
    let t = text(&mut pg);
    assert!(!t.contains("jobs_total"), "{t}");
    assert!(
        t.contains("push_failure_time_seconds{job=\"batch\"} 1\n"),
        "{t}"
    );
    // Other protobuf encodings stay unsupported.
    let r = pg.handle(
        "PUT",
        "/metrics/job/batch",
        Some("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=text"),
        None,
        b"",
        1_000,
    );
    assert_eq!(r.status, 415);
}

#[test]
fn metrics_served_as_protobuf_when_asked() {
    let mut pg = Pushgateway::default();
    let r = pg.handle(
        "PUT",
        "/metrics/job/batch",
        None,
        None,
        b"# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total 3\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 3\n",
        5_000,
    );
    assert_eq!(r.status, 200);
    let r = pg.handle(
        "GET",
        "/metrics",
        None,
        Some(exposition::content_type::ACCEPT_PROTOBUF),
        b"",
        6_000,
    );
    assert_eq!(r.content_type, protobuf::CONTENT_TYPE);
    let scrape = protobuf::decode(&r.body, &DecodeOptions::default()).unwrap();
    let names: Vec<(&str, MetricType)> = scrape
        .families
        .iter()
        .map(|f| (f.name.as_str(), f.ty))
        .collect();
    assert_eq!(
        names,
        vec![
            ("jobs_total", MetricType::Counter),
            ("push_failure_time_seconds", MetricType::Gauge),
            ("push_time_seconds", MetricType::Gauge),
            ("s", MetricType::Summary),
        ]
    );
    let jobs = &scrape.families[0];
    assert_eq!(jobs.help.as_deref(), Some("Jobs."));
    assert_eq!(jobs.samples[0].value, 3.0);
    assert_eq!(jobs.samples[0].labels.get("job"), Some("batch"));
    let s: Vec<(String, f64)> = scrape.families[3]
        .samples
        .iter()
        .map(|s| (s.name.clone(), s.value))
        .collect();
    assert_eq!(
        s,
        vec![
            ("s".to_string(), 1.0),
            ("s_sum".to_string(), 2.0),
            ("s_count".to_string(), 3.0)
        ]
    );
    // Without protobuf in Accept, text as before.
    let r = pg.handle("GET", "/metrics", None, Some("text/plain"), b"", 6_000);
    assert!(r.content_type.starts_with("text/plain"));
}

#[test]
fn native_histograms_are_held_and_served_in_protobuf() {
    let mut pg = Pushgateway::default();
    let r = pg.handle(
        "PUT",
        "/metrics/job/batch",
        Some(protobuf::CONTENT_TYPE),
        None,
        &body(&[histogram(true, false)]),
        5_000,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // The text view shows what client libraries show for a native-only histogram.
    let t = text(&mut pg);
    assert!(
        t.contains("rpc_seconds_bucket{job=\"batch\",le=\"+Inf\"} 3\n"),
        "{t}"
    );
    assert!(t.contains("rpc_seconds_sum{job=\"batch\"} 1.5\n"), "{t}");

    let scrape_pb = |pg: &mut Pushgateway| {
        let r = pg.handle(
            "GET",
            "/metrics",
            None,
            Some(exposition::content_type::ACCEPT_PROTOBUF),
            b"",
            6_000,
        );
        protobuf::decode(&r.body, &DecodeOptions::default()).unwrap()
    };
    let scrape = scrape_pb(&mut pg);
    assert_eq!(scrape.histograms.len(), 1);
    let h = &scrape.histograms[0];
    assert_eq!(h.name, "rpc_seconds");
    assert_eq!(h.labels.get("job"), Some("batch"));
    let f = h.histogram.to_float();
    assert_eq!((f.count, f.sum), (3.0, 1.5));
    assert_eq!(f.positive_buckets, vec![2.0, 1.0]);
    assert_eq!(scrape.families[h.family].name, "rpc_seconds");

    // Survives persistence.
    let bytes = super::persist::to_bytes(&pg.store);
    let store = super::persist::from_bytes("test", &bytes).unwrap();
    let mut again = Pushgateway::new(store, false);
    assert_eq!(scrape_pb(&mut again).histograms, scrape.histograms);

    // A text push of the family replaces the native histogram with it.
    let r = pg.handle(
        "POST",
        "/metrics/job/batch",
        None,
        None,
        b"# HELP rpc_seconds RPC latency.\n# TYPE rpc_seconds histogram\nrpc_seconds_bucket{le=\"+Inf\"} 1\nrpc_seconds_sum 1\nrpc_seconds_count 1\n",
        7_000,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(scrape_pb(&mut pg).histograms.is_empty());
}
