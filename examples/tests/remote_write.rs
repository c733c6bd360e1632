//! Remote-write over loopback: the `server` binary's `POST /api/v1/write` (204, 400 with
//! the reason, per-series out-of-order, 405), and a stack whose `remote_write` forwards
//! what it scrapes (tailing its WAL; floats and native histograms) to that server, where
//! queries return it.

mod common;

use std::sync::{Arc, Mutex, RwLock};

use common::{new_stack, server_owning, Log, Proc};

use examples::api::now_ms;
use examples::stack::config::Config;
use examples::telemetry::Registry;
use exposition::{Labels, Matcher};
use remote::{QueueConfig, WriteQueue};
use serde_json::Value;
use tsdb::chunk::SampleIterator as _;
use tsdb::Queryable as _;

fn server() -> Proc {
    server_owning(tempfile::tempdir().unwrap(), &[])
}

/// A remote-write body with `samples` of one series.
fn body(labels: &Labels, samples: &[(i64, f64)]) -> Vec<u8> {
    let mut q = WriteQueue::new(QueueConfig {
        max_samples_per_send: samples.len(),
        ..QueueConfig::default()
    });
    for (t, v) in samples {
        q.push(labels, *t, *v).unwrap();
    }
    q.next_request(0).unwrap().body
}

fn post(url: &str, body: &[u8]) -> (u16, String) {
    match ureq::post(url)
        .set("Content-Type", "application/x-protobuf")
        .set("Content-Encoding", "snappy")
        .set("X-Prometheus-Remote-Write-Version", "0.1.0")
        .send_bytes(body)
    {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{url}: {e}"),
    }
}

fn query(base: &str, q: &str, t_ms: i64) -> Value {
    let url = format!(
        "{base}/api/v1/query?query={}&time={}",
        form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>(),
        t_ms as f64 / 1000.0
    );
    serde_json::from_str(&ureq::get(&url).call().unwrap().into_string().unwrap()).unwrap()
}

#[test]
fn server_receives_remote_write_like_prometheus() {
    let s = server();
    let url = format!("{}/api/v1/write", s.base);
    let t = now_ms() - 10_000;
    let l = Labels::from_pairs(&[("__name__", "rw_test"), ("job", "push"), ("i", "1")]);
    let (code, text) = post(&url, &body(&l, &[(t, 1.0), (t + 1_000, 2.5)]));
    assert_eq!((code, text.as_str()), (204, ""));
    let r = query(&s.base, "rw_test", t + 2_000);
    assert_eq!(r["data"]["result"][0]["metric"]["job"], "push", "{r}");
    assert_eq!(r["data"]["result"][0]["value"][1], "2.5", "{r}");

    // Older than what is stored: 400 naming the series; a good series in the same
    // request is kept.
    let other = Labels::from_pairs(&[("__name__", "rw_other")]);
    let mut q = WriteQueue::new(QueueConfig {
        max_samples_per_send: 2,
        ..QueueConfig::default()
    });
    q.push(&l, t - 5_000, 9.0).unwrap();
    q.push(&other, t, 4.0).unwrap();
    let (code, text) = post(&url, &q.next_request(0).unwrap().body);
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("out of order sample"), "{text}");
    assert!(text.contains("rw_test{"), "{text}");
    let r = query(&s.base, "rw_other", t + 2_000);
    assert_eq!(r["data"]["result"][0]["value"][1], "4", "{r}");

    // Not snappy: 400 with the decoder's reason.
    let (code, text) = post(&url, b"\xff\xff\xff\xff not snappy");
    assert_eq!(code, 400);
    assert!(text.contains("snappy"), "{text}");
    // Snappy, but not a WriteRequest.
    let junk = snap::raw::Encoder::new()
        .compress_vec(b"\x0a\x05\xff")
        .unwrap();
    let (code, text) = post(&url, &junk);
    assert_eq!(code, 400);
    assert!(text.contains("protobuf"), "{text}");
    // Only POST.
    match ureq::get(&url).call() {
        Err(ureq::Error::Status(405, _)) => {}
        other => panic!("GET /api/v1/write: {other:?}"),
    }
}

/// A text target whose counter goes up by one per scrape.
fn counter_target() -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap().to_string();
    std::thread::spawn(move || {
        for (n, req) in server.incoming_requests().enumerate() {
            let body = format!("# TYPE jobs_total counter\njobs_total{{queue=\"q\"}} {n}\n");
            let _ = req.respond(tiny_http::Response::from_string(body));
        }
    });
    addr
}

#[test]
fn stack_forwards_what_it_scrapes_to_a_server() {
    let b = server();
    let target = counter_target();
    let dir = tempfile::tempdir().unwrap();
    // A destination that refuses connections first: the queue retries with backoff,
    // then the real one is added as a second destination.
    let yaml = format!(
        "global: {{scrape_interval: 200ms}}\nscrape_configs:\n- job_name: app\n  static_configs: [{{targets: ['{target}']}}]\nremote_write:\n- url: {}/api/v1/write\n  queue_config: {{max_samples_per_send: 20, batch_send_deadline: 100ms, min_backoff: 10ms, max_backoff: 200ms}}\n- url: http://127.0.0.1:1/api/v1/write\n  name: nowhere\n  remote_timeout: 1s\n  queue_config: {{batch_send_deadline: 50ms, min_backoff: 50ms, max_backoff: 100ms, capacity: 100}}\n",
        b.base
    );
    let cfg = Config::load(&yaml, dir.path()).unwrap();
    let db = Arc::new(RwLock::new(
        tsdb::Db::open_path(dir.path().join("data"), tsdb::DbOptions::default()).unwrap(),
    ));
    let log = Log::default();
    let telemetry = Arc::new(Registry::new());
    let mut a = new_stack(
        &cfg,
        &db,
        Arc::clone(&telemetry),
        "http://a",
        Box::new(log.clone()),
    );
    assert_eq!(a.remote_write_count(), 2);
    // Run until at least 5 scrapes (30 samples) have been delivered.
    let deadline = now_ms() + 15_000;
    a.run(deadline, &|s| s.scrapes >= 5 && s.remote_delivered >= 30);
    let delivered = a.summary.remote_delivered;
    assert!(delivered >= 30, "{delivered} delivered\n{}", log.text());
    let stats = a.remote_write_stats();
    assert_eq!(stats[0].1.dropped, 0, "{stats:?}");
    assert!(stats[1].1.retries >= 1, "{stats:?}");
    assert_eq!(stats[1].1.delivered, 0, "{stats:?}");
    // The same counts on the stack's own /metrics.
    let rw_url = format!("{}/api/v1/write", b.base);
    let sent = telemetry.get("stack_remote_write_samples", &[("remote_name", &rw_url)]);
    assert_eq!(sent, Some(delivered as f64));
    let retried = telemetry.get("stack_remote_write_retries", &[("remote_name", "nowhere")]);
    assert!(retried.is_some_and(|r| r >= 1.0), "{retried:?}");
    assert!(
        log.text().contains("remote_write nowhere: "),
        "{}",
        log.text()
    );

    // Every sample A stored and delivered, B has: compare the counter's samples.
    let mine: Vec<(i64, f64)> = {
        let d = db.read().unwrap();
        let q = d.querier(i64::MIN / 2, i64::MAX / 2).unwrap();
        let mut set = q
            .select(
                &[Matcher::equal("__name__", "jobs_total")],
                &Default::default(),
            )
            .unwrap();
        let s = set.next().unwrap();
        let mut it = s.iter();
        let mut v = Vec::new();
        while it.next() {
            v.push(it.at());
        }
        v
    };
    let (first, last) = (mine[0].0, mine[mine.len() - 1].0);
    let url = format!(
        "{}/api/v1/query_range?query=jobs_total&start={}&end={}&step=0.1",
        b.base,
        first as f64 / 1000.0,
        first as f64 / 1000.0 + 10.0
    );
    let r: Value =
        serde_json::from_str(&ureq::get(&url).call().unwrap().into_string().unwrap()).unwrap();
    let res = &r["data"]["result"][0];
    assert_eq!(res["metric"]["job"], "app", "{r}");
    assert_eq!(res["metric"]["queue"], "q", "{r}");
    assert_eq!(res["metric"]["instance"], target.as_str(), "{r}");
    // The range query repeats each sample until the next; the distinct values B has at
    // A's sample times are A's values.
    let at = |t: i64| {
        let q = query(&b.base, "jobs_total", t);
        q["data"]["result"][0]["value"][1]
            .as_str()
            .map(str::to_string)
    };
    let delivered_scrapes = (delivered / 6) as usize;
    for (t, v) in mine.iter().take(delivered_scrapes.min(mine.len())) {
        assert_eq!(at(*t), Some(format!("{v}")), "at {t}");
    }
    assert!(last >= first);
    // `up` went too (everything the WAL got is forwarded).
    let up = query(&b.base, "up{job=\"app\"}", mine[0].0);
    assert_eq!(up["data"]["result"][0]["value"][1], "1", "{up}");
}

/// A receiver that answers 503 to the first
/// `fail` requests, then decodes and keeps every body.
/// Samples a receiver got: (metric name, t, v).
type Received = Arc<Mutex<Vec<(String, i64, f64)>>>;

fn flaky_receiver(fail: usize) -> (String, Received) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap().to_string();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = Arc::clone(&got);
    std::thread::spawn(move || {
        for (n, mut req) in server.incoming_requests().enumerate() {
            let mut body = Vec::new();
            std::io::Read::read_to_end(req.as_reader(), &mut body).unwrap();
            if n < fail {
                let _ = req.respond(tiny_http::Response::from_string("busy").with_status_code(503));
                continue;
            }
            let wr = remote::decode_request(&body).unwrap();
            let mut g = g.lock().unwrap();
            for ts in &wr.timeseries {
                let name = ts
                    .labels
                    .iter()
                    .find(|l| l.name == "__name__")
                    .map(|l| l.value.clone())
                    .unwrap_or_default();
                for s in &ts.samples {
                    g.push((name.clone(), s.timestamp, s.value));
                }
            }
            let _ = req.respond(tiny_http::Response::empty(204));
        }
    });
    (format!("http://{addr}/api/v1/write"), got)
}

#[test]
fn stack_retries_a_busy_receiver_without_losing_samples() {
    // The queue holds two scrapes at most: while the receiver is busy the WAL is the
    // buffer, and the sender reads on from where it stopped.
    let target = counter_target();
    let (url, got) = flaky_receiver(6);
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "global: {{scrape_interval: 100ms}}\nscrape_configs:\n- job_name: app\n  static_configs: [{{targets: ['{target}']}}]\nremote_write:\n- url: {url}\n  queue_config: {{max_samples_per_send: 6, capacity: 12, batch_send_deadline: 50ms, min_backoff: 50ms, max_backoff: 200ms}}\n"
    );
    let cfg = Config::load(&yaml, dir.path()).unwrap();
    let db = Arc::new(RwLock::new(
        tsdb::Db::open_path(dir.path().join("data"), tsdb::DbOptions::default()).unwrap(),
    ));
    let log = Log::default();
    let mut a = new_stack(
        &cfg,
        &db,
        Arc::new(Registry::new()),
        "http://a",
        Box::new(log.clone()),
    );
    a.run(now_ms() + 10_000, &|s| s.scrapes >= 8);
    // Let the queue drain what the last scrapes committed.
    let end = now_ms() + 5_000;
    while now_ms() < end && a.remote_write_stats()[0].1.delivered < a.summary.scrapes * 6 {
        a.round(now_ms());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let st = a.remote_write_stats()[0].1;
    let text = log.text();
    assert!(st.retries >= 6, "{st:?}\n{text}");
    assert_eq!(st.dropped, 0, "{st:?}");
    assert!(text.contains("HTTP 503, retrying: busy"), "{text}");
    assert!(text.contains("delivering again"), "{text}");
    // Every counter sample the stack stored reached the receiver exactly once, in order.
    let stored: Vec<(i64, f64)> = {
        let d = db.read().unwrap();
        let q = d.querier(i64::MIN / 2, i64::MAX / 2).unwrap();
        let s = q
            .select(
                &[Matcher::equal("__name__", "jobs_total")],
                &Default::default(),
            )
            .unwrap()
            .next()
            .unwrap();
        let mut it = s.iter();
        let mut v = Vec::new();
        while it.next() {
            v.push(it.at());
        }
        v
    };
    let received: Vec<(i64, f64)> = got
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _, _)| n == "jobs_total")
        .map(|(_, t, v)| (*t, *v))
        .collect();
    assert!(stored.len() >= 8, "{stored:?}");
    assert_eq!(received, stored);
}

/// A protobuf target whose native histogram `lat_seconds` gains 5 observations per scrape.
fn histogram_target() -> String {
    use exposition::protobuf::{self, proto};
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap().to_string();
    std::thread::spawn(move || {
        for (n, req) in server.incoming_requests().enumerate() {
            let n = n as u64 + 1;
            let fam = proto::MetricFamily {
                name: "lat_seconds".into(),
                r#type: proto::MetricType::Histogram as i32,
                metric: vec![proto::Metric {
                    histogram: Some(proto::Histogram {
                        sample_count: 5 * n,
                        sample_sum: 3.0 * n as f64,
                        schema: 0,
                        zero_threshold: 1e-128,
                        positive_span: vec![proto::BucketSpan {
                            offset: -1,
                            length: 2,
                        }],
                        positive_delta: vec![n as i64, 2 * n as i64],
                        negative_span: vec![proto::BucketSpan {
                            offset: 0,
                            length: 1,
                        }],
                        negative_delta: vec![n as i64],
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            };
            let mut body = Vec::new();
            protobuf::encode_delimited(&[fam], &mut body);
            let ct = tiny_http::Header::from_bytes(
                "Content-Type",
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
            )
            .unwrap();
            let _ = req.respond(tiny_http::Response::from_data(body).with_header(ct));
        }
    });
    addr
}

#[test]
fn stack_forwards_native_histograms_to_a_server() {
    use tsdb::chunk::ValueType;
    let b = server();
    let target = histogram_target();
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "global: {{scrape_interval: 200ms}}\nscrape_configs:\n- job_name: app\n  scrape_native_histograms: true\n  static_configs: [{{targets: ['{target}']}}]\nremote_write:\n- url: {}/api/v1/write\n  queue_config: {{max_samples_per_send: 20, batch_send_deadline: 100ms, min_backoff: 10ms, max_backoff: 200ms}}\n",
        b.base
    );
    let cfg = Config::load(&yaml, dir.path()).unwrap();
    let db = Arc::new(RwLock::new(
        tsdb::Db::open_path(dir.path().join("data"), tsdb::DbOptions::default()).unwrap(),
    ));
    let log = Log::default();
    let mut a = new_stack(
        &cfg,
        &db,
        Arc::new(Registry::new()),
        "http://a",
        Box::new(log.clone()),
    );
    // 1 histogram + 5 report series per scrape.
    let deadline = now_ms() + 15_000;
    a.run(deadline, &|s| s.scrapes >= 5 && s.remote_delivered >= 30);
    assert!(
        a.summary.remote_delivered >= 30,
        "{}\n{}",
        a.summary.remote_delivered,
        log.text()
    );
    assert_eq!(a.remote_write_stats()[0].1.dropped, 0);
    // The histograms A stored: (t, count, sum).
    let mine: Vec<(i64, f64, f64)> = {
        let d = db.read().unwrap();
        let q = d.querier(i64::MIN / 2, i64::MAX / 2).unwrap();
        let mut set = q
            .select(
                &[Matcher::equal("__name__", "lat_seconds")],
                &Default::default(),
            )
            .unwrap();
        let s = set.next().unwrap();
        let mut it = s.sample_iter();
        let mut v = Vec::new();
        while it.next() != ValueType::None {
            let mut h = exposition::histogram::FloatHistogram::default();
            let t = it.at_float_histogram(&mut h);
            v.push((t, h.count, h.sum));
        }
        v
    };
    assert!(mine.len() >= 3, "{mine:?}");
    // Every histogram but possibly the newest was delivered: B answers the same count
    // and sum at A's sample times, and the raw sample is a histogram.
    for (t, count, sum) in &mine[..mine.len() - 1] {
        let c = query(&b.base, "histogram_count(lat_seconds)", *t);
        assert_eq!(
            c["data"]["result"][0]["value"][1],
            count.to_string(),
            "at {t}: {c}"
        );
        let s = query(&b.base, "histogram_sum(lat_seconds)", *t);
        assert_eq!(
            s["data"]["result"][0]["value"][1],
            sum.to_string(),
            "at {t}: {s}"
        );
    }
    let raw = query(&b.base, "lat_seconds", mine[0].0);
    let h = &raw["data"]["result"][0]["histogram"][1];
    assert_eq!(h["buckets"].as_array().map(Vec::len), Some(3), "{raw}");
    assert_eq!(raw["data"]["result"][0]["metric"]["job"], "app", "{raw}");
}
