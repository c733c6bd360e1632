//! Two-level federation: stack A scrapes an application and serves its API (with
//! `/federate`) over loopback; stack B scrapes A's `/federate` with `match[]` from the
//! scrape config's `params:`. With `honor_labels: true` B stores A's series with A's
//! `job`/`instance`; without it, A's labels survive as `exported_job` /
//! `exported_instance` and B's target labels win.

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
