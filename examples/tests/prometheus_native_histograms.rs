//! Native histograms between a real Prometheus (the Debian `prometheus` package, 2.42, run
//! with `--enable-feature=native-histograms`) and our programs:
//!
//! 1. Prometheus scrapes a loopback target serving a delimited-protobuf native histogram
//!    and remote-writes it (`send_native_histograms: true`) to our `server`'s
//!    `POST /api/v1/write`; PromQL on our side then returns the same histograms as
//!    Prometheus's own API.
//! 2. Prometheus scrapes our `server`'s `/federate` (it asks for protobuf first when
//!    native histograms are on) and stores the native histograms we serve.
//!
//! Each test prints a note and passes when `prometheus` is not on `PATH`.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{free_port, poll, server_owning, spawn_on_port, Proc};

use examples::api::now_ms;
use exposition::protobuf::{self, proto};
use serde_json::Value;

const PROTO_CT: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

fn have_prometheus(test: &str) -> bool {
    let ok = Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("{test}: skipped (prometheus not installed; apt-get install prometheus)");
    }
    ok
}

/// Starts Prometheus with native histograms on, `config`, and `--storage.tsdb.path`
/// `data` (a fresh directory when `None`); waits until it is ready.
pub fn prometheus(config: &str, data: Option<&std::path::Path>) -> Proc {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(&cfg, config).unwrap();
    let data = data.map_or_else(|| dir.path().join("data"), |d| d.to_path_buf());
    let port = free_port();
    let mut cmd = Command::new("prometheus");
    cmd.arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(["--enable-feature=native-histograms", "--log.level=warn"]);
    let mut p = spawn_on_port(cmd, port, "prometheus", Duration::from_secs(15), |base| {
        ureq::get(&format!("{base}/-/ready"))
            .call()
            .is_ok_and(|r| r.status() == 200)
    });
    p.dir = Some(dir);
    p
}

/// The `result` array of an instant query at `time_ms`, or empty on any failure.
fn query(base: &str, q: &str, time_ms: i64) -> Vec<Value> {
    let url = format!(
        "{base}/api/v1/query?query={}&time={}",
        form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>(),
        time_ms as f64 / 1000.0
    );
    let Ok(r) = ureq::get(&url).call() else {
        return Vec::new();
    };
    let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// A delimited-protobuf body: native histogram `rpc_seconds{path="/a"}` (schema 1, zero,
/// negative and positive buckets) after `n` rounds of observations.
fn histogram_body(n: u64) -> Vec<u8> {
    let fam = proto::MetricFamily {
        name: "rpc_seconds".into(),
        help: "RPC latency.".into(),
        r#type: proto::MetricType::Histogram as i32,
        metric: vec![proto::Metric {
            label: vec![proto::LabelPair {
                name: "path".into(),
                value: "/a".into(),
            }],
            histogram: Some(proto::Histogram {
                // zero 1n, negative 2n, positive 3n + 0 + 4n.
                sample_count: 10 * n,
                sample_sum: 12.25 * n as f64,
                schema: 1,
                zero_threshold: 0.001,
                zero_count: n,
                negative_span: vec![proto::BucketSpan {
                    offset: 1,
                    length: 1,
                }],
                negative_delta: vec![2 * n as i64],
                positive_span: vec![
                    proto::BucketSpan {
                        offset: -1,
                        length: 2,
                    },
                    proto::BucketSpan {
                        offset: 2,
                        length: 1,
                    },
                ],
                positive_delta: vec![3 * n as i64, -3 * n as i64, 4 * n as i64],
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

/// A loopback target whose histogram grows by one round per scrape; returns its address.
fn growing_target() -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap().to_string();
    let rounds = Arc::new(AtomicU64::new(0));
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            let n = rounds.fetch_add(1, Ordering::SeqCst) + 1;
            let ct = tiny_http::Header::from_bytes("Content-Type", PROTO_CT).unwrap();
            let _ = req.respond(tiny_http::Response::from_data(histogram_body(n)).with_header(ct));
        }
    });
    addr
}

/// Whether two API histogram lists are the same: timestamps, counts, sums, bucket
/// boundary rules and bucket counts exactly; bucket bounds to within 1e-15 relative.
/// (Prometheus computes exponential bounds from a table of constants whose last digit
/// can differ by one ulp from `2^(i/2^schema)`; the bound is not what remote write
/// carries, the bucket index is.)
fn same_histograms(a: &[Value], b: &[Value]) -> bool {
    let close = |x: &Value, y: &Value| {
        let (Some(x), Some(y)) = (x.as_str(), y.as_str()) else {
            return false;
        };
        let (Ok(x), Ok(y)) = (x.parse::<f64>(), y.parse::<f64>()) else {
            return false;
        };
        x == y || (x - y).abs() <= 1e-15 * x.abs().max(y.abs())
    };
    a.len() == b.len()
        && a.iter().zip(b).all(|(p, q)| {
            let (hp, hq) = (&p[1], &q[1]);
            let (Some(bp), Some(bq)) = (hp["buckets"].as_array(), hq["buckets"].as_array()) else {
                return false;
            };
            p[0] == q[0]
                && hp["count"] == hq["count"]
                && hp["sum"] == hq["sum"]
                && bp.len() == bq.len()
                && bp.iter().zip(bq).all(|(x, y)| {
                    x[0] == y[0] && close(&x[1], &y[1]) && close(&x[2], &y[2]) && x[3] == y[3]
                })
        })
}

/// The `histograms` of the one series a range selector returns, or `None`.
fn histograms(result: &[Value]) -> Option<Vec<Value>> {
    let [s] = result else { return None };
    s["histograms"].as_array().cloned()
}

#[test]
fn prometheus_remote_writes_native_histograms_to_server() {
    if !have_prometheus("prometheus_native_histograms remote write") {
        return;
    }
    let sink = server_owning(tempfile::tempdir().unwrap(), &[]);
    let target = growing_target();
    let p = prometheus(
        &format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nh\n    static_configs: [{{targets: ['{target}']}}]\nremote_write:\n  - url: {}/api/v1/write\n    send_native_histograms: true\n    queue_config: {{batch_send_deadline: 500ms, min_backoff: 50ms, max_backoff: 500ms}}\n",
            sink.base
        ),
        None,
    );
    // Prometheus has scraped a few histograms.
    let sel = "rpc_seconds{job=\"nh\"}[1m]";
    let prom = poll(Duration::from_secs(20), || {
        histograms(&query(&p.base, sel, now_ms())).filter(|h| h.len() >= 3)
    })
    .expect("Prometheus never scraped 3 native histograms");
    println!(
        "prometheus scraped {} histograms, e.g. {}",
        prom.len(),
        prom[0]
    );
    // Pin the evaluation time: every histogram up to it is in Prometheus, and once remote
    // write has caught up our server answers the same list.
    let at = now_ms() - 1_000;
    let want = histograms(&query(&p.base, sel, at)).unwrap();
    assert!(want.len() >= 2, "{want:?}");
    let got = poll(Duration::from_secs(15), || {
        histograms(&query(&sink.base, sel, at)).filter(|h| same_histograms(h, &want))
    });
    assert!(
        got.is_some(),
        "server never matched Prometheus:\nprometheus: {want:?}\nserver:     {:?}",
        query(&sink.base, sel, at)
    );
    // PromQL over the received histograms agrees too. (Not `histogram_quantile`: 2.42
    // interpolates linearly inside a bucket, Prometheus 3.x, our spec, exponentially.)
    for q in [
        "histogram_count(rpc_seconds)",
        "histogram_sum(rpc_seconds)",
        "histogram_fraction(0, 1, rpc_seconds)",
        "histogram_count(rate(rpc_seconds[10s]))",
    ] {
        let a = query(&p.base, q, at);
        let b = query(&sink.base, q, at);
        assert_eq!(a.len(), 1, "{q}: {a:?}");
        assert_eq!(b.len(), 1, "{q}: {b:?}");
        let (x, y) = (&a[0]["value"][1], &b[0]["value"][1]);
        let (x, y): (f64, f64) = (
            x.as_str().unwrap().parse().unwrap(),
            y.as_str().unwrap().parse().unwrap(),
        );
        assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "{q}: {x} vs {y}");
    }
}

#[test]
fn prometheus_federates_native_histograms_from_server() {
    use exposition::histogram::{Histogram, Span};
    use exposition::Labels;
    use remote::{QueueConfig, WriteQueue};
    if !have_prometheus("prometheus_native_histograms federate") {
        return;
    }
    // Our server, holding native histograms (sent to it over remote write).
    let ours = server_owning(tempfile::tempdir().unwrap(), &[]);
    let t = now_ms() - 5_000;
    let mut q = WriteQueue::new(QueueConfig::default());
    for (i, path) in ["/x", "/y"].iter().enumerate() {
        let l = Labels::from_pairs(&[
            ("__name__", "fed_seconds"),
            ("job", "lower"),
            ("path", path),
        ]);
        let k = i as i64 + 1;
        let h = Histogram {
            schema: 2,
            zero_threshold: 2f64.powi(-128),
            zero_count: 1,
            count: 1 + 9 * k as u64,
            sum: 3.25 * k as f64,
            positive_spans: vec![Span::new(3, 2), Span::new(4, 1)],
            positive_buckets: vec![k, k, 2 * k],
            negative_spans: vec![Span::new(-2, 1)],
            negative_buckets: vec![2 * k],
            ..Histogram::default()
        };
        q.push_histogram(&l, t, &h).unwrap();
    }
    q.flush();
    let body = q.next_request(0).unwrap().body;
    let resp = ureq::post(&format!("{}/api/v1/write", ours.base))
        .send_bytes(&body)
        .unwrap();
    assert_eq!(resp.status(), 204);
    let host = ours.base.trim_start_matches("http://");
    let p = prometheus(
        &format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: federate\n    honor_labels: true\n    metrics_path: /federate\n    params:\n      'match[]': ['fed_seconds']\n    static_configs: [{{targets: ['{host}']}}]\n"
        ),
        None,
    );
    let sel = "fed_seconds{job=\"lower\"}";
    let got = poll(Duration::from_secs(20), || {
        Some(query(&p.base, &format!("{sel}[1m]"), now_ms())).filter(|r| r.len() == 2)
    })
    .expect("Prometheus never stored the federated histograms");
    let want = query(&ours.base, &format!("{sel}[1m]"), now_ms());
    assert_eq!(want.len(), 2, "{want:?}");
    let mut got = got;
    got.sort_by_key(|x| x["metric"]["path"].to_string());
    let mut want = want;
    want.sort_by_key(|x| x["metric"]["path"].to_string());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g["metric"]["path"], w["metric"]["path"]);
        let (gh, wh) = (
            histograms(std::slice::from_ref(g)).unwrap(),
            histograms(std::slice::from_ref(w)).unwrap(),
        );
        // Federation keeps our timestamp: the same single sample on both sides.
        assert!(
            same_histograms(&gh[..1], &wh[..1]),
            "prometheus {gh:?}\nours {wh:?}"
        );
    }
    println!(
        "prometheus federated {} native histograms from server",
        got.len()
    );
}
