//! Interoperability with a real Prometheus (the Debian `prometheus` package, 2.42):
//!
//! 1. Prometheus scrapes our `pushgateway` and a `server`'s `/federate` with
//!    `honor_labels: true`, and remote-writes what it scrapes to another `server`.
//! 2. Our stack remote-writes to Prometheus started with
//!    `--web.enable-remote-write-receiver`.
//!
//! Each test prints a note and passes when `prometheus` is not on `PATH`.

mod common;

use std::process::Command;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use common::{free_port, ours, poll, server_owning, spawn_on_port, Proc};

use examples::api::{now_ms, RulesSnapshot};
use examples::stack::config::Config;
use examples::stack::runner::Stack;
use examples::telemetry::Registry;
use exposition::Labels;
use remote::{QueueConfig, WriteQueue};
use serde_json::Value;

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

fn server() -> Proc {
    server_owning(tempfile::tempdir().unwrap(), &[])
}

/// Starts Prometheus with `config` and waits until it is ready.
fn prometheus(config: &str) -> Proc {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(&cfg, config).unwrap();
    let port = free_port();
    let mut cmd = Command::new("prometheus");
    cmd.arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(["--web.enable-remote-write-receiver", "--log.level=warn"]);
    let mut p = spawn_on_port(cmd, port, "prometheus", Duration::from_secs(10), |base| {
        ureq::get(&format!("{base}/-/ready"))
            .call()
            .is_ok_and(|r| r.status() == 200)
    });
    p.dir = Some(dir);
    p
}

/// The `result` array of an instant query at `time` (or now).
fn query(base: &str, q: &str, time_ms: Option<i64>) -> Vec<Value> {
    let mut url = format!(
        "{base}/api/v1/query?query={}",
        form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
    );
    if let Some(t) = time_ms {
        url.push_str(&format!("&time={}", t as f64 / 1000.0));
    }
    let Ok(r) = ureq::get(&url).call() else {
        return Vec::new();
    };
    let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// Polls until `q` returns at least one series.
fn wait_for(base: &str, q: &str) -> Vec<Value> {
    poll(Duration::from_secs(12), || {
        Some(query(base, q, None)).filter(|r| !r.is_empty())
    })
    .unwrap_or_else(|| panic!("{base}: {q} never returned anything"))
}

#[test]
fn prometheus_scrapes_pushgateway_and_federate_and_writes_to_server() {
    if !have_prometheus("prometheus_clients scrape") {
        return;
    }
    // Our pushgateway, with a group pushed under job="batch", instance="i1".
    let pg = ours(env!("CARGO_BIN_EXE_pushgateway"), &[]);
    let r = ureq::put(&format!("{}/metrics/job/batch/instance/i1", pg.base))
        .send_string("# TYPE batch_items gauge\nbatch_items{kind=\"x\"} 42\n")
        .unwrap();
    assert!(r.status() < 300);
    // A server holding a series of another job, to be federated.
    let lower = server();
    let l = Labels::from_pairs(&[
        ("__name__", "fed_metric"),
        ("job", "lower"),
        ("instance", "l1"),
    ]);
    let mut q = WriteQueue::new(QueueConfig {
        max_samples_per_send: 1,
        ..QueueConfig::default()
    });
    q.push(&l, now_ms() - 1_000, 7.0).unwrap();
    let resp = ureq::post(&format!("{}/api/v1/write", lower.base))
        .send_bytes(&q.next_request(0).unwrap().body)
        .unwrap();
    assert_eq!(resp.status(), 204);
    // A server receiving Prometheus's remote-write.
    let sink = server();
    let host = |b: &str| b.trim_start_matches("http://").to_string();
    let p = prometheus(&format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    static_configs: [{{targets: ['{}']}}]\n  - job_name: federate\n    honor_labels: true\n    metrics_path: /federate\n    params:\n      'match[]': ['{{job=\"lower\"}}']\n    static_configs: [{{targets: ['{}']}}]\nremote_write:\n  - url: {}/api/v1/write\n    queue_config: {{batch_send_deadline: 500ms, min_backoff: 50ms, max_backoff: 500ms}}\n",
        host(&pg.base),
        host(&lower.base),
        sink.base
    ));

    // honor_labels: the pushed group's job/instance, not the gateway's.
    let r = wait_for(&p.base, "batch_items");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["metric"]["job"], "batch", "{r:?}");
    assert_eq!(r[0]["metric"]["instance"], "i1", "{r:?}");
    assert_eq!(r[0]["metric"]["kind"], "x", "{r:?}");
    assert_eq!(r[0]["value"][1], "42", "{r:?}");
    // Our /federate: the lower server's series, its labels kept.
    let r = wait_for(&p.base, "fed_metric");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["metric"]["job"], "lower", "{r:?}");
    assert_eq!(r[0]["metric"]["instance"], "l1", "{r:?}");
    assert_eq!(r[0]["value"][1], "7", "{r:?}");
    let up = wait_for(&p.base, "up{job=\"federate\"}");
    assert_eq!(up[0]["value"][1], "1", "{up:?}");

    // Prometheus's remote-write into our server: its scrapes arrive.
    let r = wait_for(&sink.base, "up{job=\"pushgateway\"}");
    assert_eq!(r[0]["value"][1], "1", "{r:?}");
    let r = wait_for(&sink.base, "batch_items{job=\"batch\"}");
    assert_eq!(r[0]["value"][1], "42", "{r:?}");
    assert_eq!(r[0]["metric"]["instance"], "i1", "{r:?}");
}

#[test]
fn our_stack_remote_writes_to_prometheus() {
    if !have_prometheus("prometheus_clients remote-write receiver") {
        return;
    }
    let p = prometheus("global:\n  scrape_interval: 1m\n");
    // A target whose counter goes up on every scrape.
    let srv = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let target = srv.server_addr().to_ip().unwrap().to_string();
    std::thread::spawn(move || {
        for (n, req) in srv.incoming_requests().enumerate() {
            let body = format!("# TYPE work_total counter\nwork_total{{queue=\"q\"}} {n}\n");
            let _ = req.respond(tiny_http::Response::from_string(body));
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::load(
        &format!("global: {{scrape_interval: 200ms}}\nscrape_configs:\n- job_name: app\n  static_configs: [{{targets: ['{target}']}}]\nremote_write:\n- url: {}/api/v1/write\n  queue_config: {{batch_send_deadline: 100ms}}\n", p.base),
        dir.path(),
    )
    .unwrap();
    let db = Arc::new(RwLock::new(
        tsdb::Db::open_path(dir.path().join("data"), tsdb::DbOptions::default()).unwrap(),
    ));
    let am = alertroute::Config::load("route:\n  receiver: x\nreceivers:\n  - name: x\n").unwrap();
    let mut stack = Stack::new(
        &cfg,
        &[],
        am,
        Arc::clone(&db),
        Arc::new(RwLock::new(RulesSnapshot::default())),
        Arc::new(Registry::new()),
        "http://stack",
        Box::new(std::io::sink()),
    )
    .unwrap();
    stack.run(now_ms() + 10_000, &|s| {
        s.scrapes >= 5 && s.remote_delivered >= 5 * 6
    });
    let stats = stack.remote_write_stats();
    assert!(stats[0].1.delivered >= 30, "{stats:?}");
    assert_eq!(stats[0].1.dropped, 0, "{stats:?}");

    // Prometheus has the series with our labels, and the values we stored.
    let r = wait_for(&p.base, "work_total");
    assert_eq!(r[0]["metric"]["job"], "app", "{r:?}");
    assert_eq!(r[0]["metric"]["instance"], target.as_str(), "{r:?}");
    assert_eq!(r[0]["metric"]["queue"], "q", "{r:?}");
    let r = query(&p.base, "count_over_time(work_total[1m])", None);
    let n: usize = r[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(n >= 5, "{r:?}");
    let up = query(&p.base, "up{job=\"app\"}", None);
    assert_eq!(up[0]["value"][1], "1", "{up:?}");
    // Values agree at the first sample's time.
    let first: (i64, f64) = {
        use tsdb::chunk::SampleIterator as _;
        use tsdb::Queryable as _;
        let d = db.read().unwrap();
        let q = d.querier(i64::MIN / 2, i64::MAX / 2).unwrap();
        let s = q
            .select(
                &[exposition::Matcher::equal("__name__", "work_total")],
                &Default::default(),
            )
            .unwrap()
            .next()
            .unwrap();
        let mut it = s.iter();
        assert!(it.next());
        it.at()
    };
    let r = query(&p.base, "work_total", Some(first.0));
    assert_eq!(r[0]["value"][1], format!("{}", first.1), "{r:?}");
}
