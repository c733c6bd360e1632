//! `stack` driven by config files: scrapes a text-0.0.4 target served by this test,
//! relabels, stores into a tsdb directory, evaluates a rule file and POSTs the alert to a
//! webhook this test receives.

mod common;

use std::io::{BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use common::{fetch_json, stack_api};
use exposition::{Labels, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::Queryable;

/// A target on 127.0.0.1:0 that serves text 0.0.4 at /metrics and records POSTs to /hook.
fn target() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap().to_string();
    let hooks = Arc::new(Mutex::new(Vec::new()));
    let h = Arc::clone(&hooks);
    std::thread::spawn(move || {
        for mut req in server.incoming_requests() {
            if req.url() == "/hook" {
                let mut body = String::new();
                req.as_reader().read_to_string(&mut body).unwrap();
                h.lock().unwrap().push(serde_json::from_str(&body).unwrap());
                let _ = req.respond(tiny_http::Response::from_string("ok"));
                continue;
            }
            // Ignore the Accept header on purpose: a text-only exporter.
            let body = "# TYPE app_jobs_total counter\napp_jobs_total{queue=\"a\"} 3\napp_jobs_total{queue=\"b\",job=\"inner\"} 1\ndebug_noise 1\n";
            let ct =
                tiny_http::Header::from_bytes("Content-Type", "text/plain; version=0.0.4").unwrap();
            let _ = req.respond(tiny_http::Response::from_string(body).with_header(ct));
        }
    });
    (addr, hooks)
}

#[test]
fn config_files_drive_scrape_rules_and_webhook() {
    let (addr, hooks) = target();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 200ms\n  evaluation_interval: 200ms\n  external_labels: {{dc: test}}\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['{addr}']\n        labels: {{__meta_team: core}}\n    relabel_configs:\n      - regex: '__meta_(.+)'\n        action: labelmap\n    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: 'debug_.*'\n        action: drop\nrule_files: [rules.yml]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n  - name: app\n    rules:\n      - alert: QueueBusy\n        expr: app_jobs_total{queue=\"a\"} > 2\n        labels: {severity: ticket}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("alertmanager.yml"),
        format!("route:\n  receiver: hook\n  group_wait: 100ms\n  group_interval: 1s\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://{addr}/hook\n"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stack"))
        .arg("--config.file")
        .arg(dir.path().join("prometheus.yml"))
        .arg("--alertmanager.config")
        .arg(dir.path().join("alertmanager.yml"))
        .arg("--storage.path")
        .arg(&data)
        .args(["--web.listen-address", "127.0.0.1:0", "--duration", "3s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let (first, api) = stack_api(&mut reader);
    std::thread::sleep(std::time::Duration::from_millis(1_000));
    // While it runs: the API serves what the stack scraped and evaluated.
    let get = |path: &str| fetch_json(&format!("{api}{path}"));
    let t = get("/api/v1/targets");
    let at = &t["data"]["activeTargets"][0];
    assert_eq!(at["health"], "up", "{t}");
    assert_eq!(at["scrapePool"], "app");
    assert_eq!(at["scrapeUrl"], format!("http://{addr}/metrics"));
    assert_eq!(at["labels"]["team"], "core");
    let r = get("/api/v1/rules");
    assert_eq!(
        r["data"]["groups"][0]["rules"][0]["name"], "QueueBusy",
        "{r}"
    );
    assert_eq!(r["data"]["groups"][0]["rules"][0]["state"], "firing", "{r}");
    let a = get("/api/v1/alerts");
    assert_eq!(
        a["data"]["alerts"][0]["labels"]["alertname"], "QueueBusy",
        "{a}"
    );
    let q = get("/api/v1/query?query=up");
    assert_eq!(q["data"]["result"][0]["value"][1], "1", "{q}");

    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let stdout = format!("{first}{rest}");
    assert!(status.success(), "{stdout}");
    assert!(stdout.contains("app up (3 samples, text"), "{stdout}");
    assert!(
        stdout.contains("notify: receiver=hook FIRING {alertname=\"QueueBusy\""),
        "{stdout}"
    );

    // The webhook got Alertmanager's version-4 payload, external labels included.
    let hooks = hooks.lock().unwrap();
    assert!(!hooks.is_empty(), "{stdout}");
    let h = &hooks[0];
    assert_eq!(h["version"], "4");
    assert_eq!(h["status"], "firing");
    assert_eq!(h["receiver"], "hook");
    assert_eq!(h["alerts"][0]["labels"]["alertname"], "QueueBusy");
    assert_eq!(h["alerts"][0]["labels"]["dc"], "test");
    assert_eq!(h["alerts"][0]["labels"]["team"], "core");

    // What was stored survives: reopen the directory.
    let db = tsdb::Db::open_path(&data, tsdb::DbOptions::default()).unwrap();
    let q = db.querier(i64::MIN / 2, i64::MAX / 2).unwrap();
    let names = q.label_values("__name__", &[]).unwrap();
    for n in [
        "ALERTS",
        "app_jobs_total",
        "scrape_duration_seconds",
        "scrape_samples_post_metric_relabeling",
        "scrape_samples_scraped",
        "scrape_series_added",
        "up",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    assert!(!names.iter().any(|x| x == "debug_noise"), "{names:?}");
    let set: Vec<Labels> = q
        .select(
            &[Matcher::equal("__name__", "app_jobs_total")],
            &Default::default(),
        )
        .unwrap()
        .map(|s| s.labels().clone())
        .collect();
    assert_eq!(
        set,
        vec![
            Labels::from_pairs(&[
                ("__name__", "app_jobs_total"),
                ("exported_job", "inner"),
                ("instance", &addr),
                ("job", "app"),
                ("queue", "b"),
                ("team", "core")
            ]),
            Labels::from_pairs(&[
                ("__name__", "app_jobs_total"),
                ("instance", &addr),
                ("job", "app"),
                ("queue", "a"),
                ("team", "core")
            ]),
        ]
    );
    let up = q
        .select(&[Matcher::equal("__name__", "up")], &Default::default())
        .unwrap()
        .next()
        .unwrap();
    let mut it = up.iter();
    let mut n = 0;
    while it.next() {
        assert_eq!(it.at().1, 1.0);
        n += 1;
    }
    assert!(n >= 5, "{n} up samples");
}
