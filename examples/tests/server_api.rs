//! Starts the `server` binary on 127.0.0.1:0 over a temporary tsdb directory and checks
//! the JSON of every endpoint, errors included.

mod common;

use common::{server_owning, Proc as Server};

use exposition::Labels;
use serde_json::Value;

/// 3 jobs x 2 instances of `up` and `http_requests_total`, 15 s apart for 10 minutes
/// starting at t=0, plus a big `load_test` family used to trip limits.
fn start(extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut db = tsdb::Db::open_path(dir.path(), tsdb::DbOptions::default()).unwrap();
        let mut app = db.appender();
        for job in ["api", "web", "db"] {
            for inst in ["a:1", "b:2"] {
                let up =
                    Labels::from_pairs(&[("__name__", "up"), ("job", job), ("instance", inst)]);
                let req = Labels::from_pairs(&[
                    ("__name__", "http_requests_total"),
                    ("job", job),
                    ("instance", inst),
                ]);
                for k in 0..=40i64 {
                    app.append(&up, k * 15_000, if job == "db" { 0.0 } else { 1.0 })
                        .unwrap();
                    app.append(&req, k * 15_000, (k * 10) as f64).unwrap();
                }
            }
        }
        for s in 0..200 {
            let l = Labels::from_pairs(&[("__name__", "load_test"), ("s", &s.to_string())]);
            for k in 0..=40i64 {
                app.append(&l, k * 15_000, k as f64).unwrap();
            }
        }
        app.commit().unwrap();
    }
    server_owning(dir, extra)
}

fn get(s: &Server, path_and_query: &str) -> (u16, String, String) {
    let url = format!("{}{}", s.base, path_and_query);
    let resp = match ureq::get(&url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{url}: {e}"),
    };
    let status = resp.status();
    let ct = resp.content_type().to_string();
    (status, ct, resp.into_string().unwrap())
}

fn get_json(s: &Server, path_and_query: &str) -> (u16, Value) {
    let (st, ct, body) = get(s, path_and_query);
    assert_eq!(ct, "application/json", "{path_and_query}: {body}");
    (
        st,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")),
    )
}

fn post_form(s: &Server, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let url = format!("{}{}", s.base, path);
    let resp = match ureq::post(&url).send_form(form) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{url}: {e}"),
    };
    let st = resp.status();
    (
        st,
        serde_json::from_str(&resp.into_string().unwrap()).unwrap(),
    )
}

#[test]
fn endpoints_answer_like_prometheus() {
    let s = start(&[]);

    // Instant query, GET.
    let (st, v) = get_json(&s, "/api/v1/query?query=sum%20by%20(job)%20(up)&time=600");
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["resultType"], "vector");
    let res = v["data"]["result"].as_array().unwrap();
    assert_eq!(res.len(), 3);
    assert_eq!(res[0]["metric"], serde_json::json!({"job": "api"}));
    assert_eq!(res[0]["value"], serde_json::json!([600, "2"]));

    // Same query, form-encoded POST (what promtool and Grafana send); RFC 3339 time.
    let (st, v) = post_form(
        &s,
        "/api/v1/query",
        &[
            ("query", "up{job=\"db\"}"),
            ("time", "1970-01-01T00:10:00Z"),
        ],
    );
    assert_eq!(st, 200);
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"]["result"][0]["value"][1], "0");

    // Scalars and strings.
    let (_, v) = get_json(&s, "/api/v1/query?query=1%2B1&time=1.5");
    assert_eq!(
        v["data"],
        serde_json::json!({"resultType": "scalar", "result": [1.5, "2"]})
    );
    let (_, v) = get_json(&s, "/api/v1/query?query=%22hi%22&time=3");
    assert_eq!(v["data"]["result"], serde_json::json!([3, "hi"]));

    // Range query.
    let (st, v) = get_json(
        &s,
        "/api/v1/query_range?query=rate(http_requests_total{job=\"api\",instance=\"a:1\"}[1m])&start=60&end=120&step=30",
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["resultType"], "matrix");
    let m = &v["data"]["result"][0];
    assert_eq!(m["metric"]["job"], "api");
    assert_eq!(
        m["values"],
        serde_json::json!([
            [60, "0.6666666666666666"],
            [90, "0.6666666666666666"],
            [120, "0.6666666666666666"]
        ])
    );

    // Series, labels, label values.
    let (st, v) = get_json(
        &s,
        "/api/v1/series?match[]=up{job=~\"a.*\"}&match[]=up{instance=\"b:2\",job=\"web\"}",
    );
    assert_eq!(st, 200);
    assert_eq!(
        v["data"],
        serde_json::json!([
            {"__name__": "up", "instance": "a:1", "job": "api"},
            {"__name__": "up", "instance": "b:2", "job": "api"},
            {"__name__": "up", "instance": "b:2", "job": "web"},
        ])
    );
    let (_, v) = get_json(&s, "/api/v1/labels");
    assert_eq!(
        v["data"],
        serde_json::json!(["__name__", "instance", "job", "s"])
    );
    let (_, v) = get_json(&s, "/api/v1/labels?match[]=up");
    assert_eq!(
        v["data"],
        serde_json::json!(["__name__", "instance", "job"])
    );
    let (_, v) = get_json(&s, "/api/v1/label/job/values");
    assert_eq!(v["data"], serde_json::json!(["api", "db", "web"]));
    let (_, v) = get_json(&s, "/api/v1/label/__name__/values?match[]={job=\"db\"}");
    assert_eq!(v["data"], serde_json::json!(["http_requests_total", "up"]));

    // limit truncates with a warning.
    let (_, v) = get_json(&s, "/api/v1/label/job/values?limit=2");
    assert_eq!(v["data"], serde_json::json!(["api", "db"]));
    assert_eq!(
        v["warnings"],
        serde_json::json!(["results truncated due to limit"])
    );
    let (_, v) = get_json(&s, "/api/v1/series?match[]=up&limit=1");
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    let (st, v) = get_json(&s, "/api/v1/labels?limit=x");
    assert_eq!((st, v["errorType"].as_str()), (400, Some("bad_data")));

    // Rules, alerts, buildinfo.
    let (_, v) = get_json(&s, "/api/v1/rules");
    assert_eq!(
        v,
        serde_json::json!({"status": "success", "data": {"groups": []}})
    );
    let (_, v) = get_json(&s, "/api/v1/alerts");
    assert_eq!(v["data"], serde_json::json!({"alerts": []}));
    let (_, v) = get_json(&s, "/api/v1/status/buildinfo");
    assert!(v["data"]["version"].is_string());

    // /metrics counts what we just did, and negotiates OpenMetrics.
    let (st, ct, body) = get(&s, "/metrics");
    assert_eq!(st, 200);
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert!(
        body.contains("prometheus_http_requests_total{code=\"200\",handler=\"/api/v1/query\"} 4"),
        "{body}"
    );
    let resp = ureq::get(&format!("{}/metrics", s.base))
        .set("Accept", exposition::Format::ACCEPT)
        .call()
        .unwrap();
    assert!(resp
        .content_type()
        .starts_with("application/openmetrics-text"));
    assert!(resp.into_string().unwrap().ends_with("# EOF\n"));
}

#[test]
fn errors_carry_prometheus_error_types() {
    let s = start(&["--query.max-samples", "1000"]);

    // Parse error: 400 bad_data with the parser's position.
    let (st, v) = get_json(&s, "/api/v1/query?query=rate(up)&time=10");
    assert_eq!(st, 400);
    assert_eq!(v["status"], "error");
    assert_eq!(v["errorType"], "bad_data");
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.starts_with("invalid parameter \"query\": 1:6: parse error:"),
        "{msg}"
    );

    let (st, v) = get_json(&s, "/api/v1/query?query=up&time=yesterday");
    assert_eq!((st, v["errorType"].as_str()), (400, Some("bad_data")));
    assert_eq!(
        v["error"],
        "invalid parameter \"time\": cannot parse \"yesterday\" to a valid timestamp"
    );

    let (st, v) = get_json(&s, "/api/v1/query_range?query=up&start=10&end=5&step=1");
    assert_eq!((st, v["errorType"].as_str()), (400, Some("bad_data")));
    let (st, v) = get_json(&s, "/api/v1/query_range?query=up&start=0&end=5&step=0");
    assert_eq!(st, 400);
    assert!(v["error"].as_str().unwrap().starts_with("zero or negative"));
    let (st, v) = get_json(&s, "/api/v1/query_range?query=up&start=0&end=100000&step=1");
    assert_eq!(st, 400);
    assert!(v["error"]
        .as_str()
        .unwrap()
        .starts_with("exceeded maximum resolution"));

    let (st, v) = get_json(&s, "/api/v1/series");
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("no match[] parameter provided"))
    );
    let (st, v) = get_json(&s, "/api/v1/series?match[]=sum(up)");
    assert_eq!((st, v["errorType"].as_str()), (400, Some("bad_data")));

    // Too many samples: 422 execution.
    let (st, v) = get_json(
        &s,
        "/api/v1/query_range?query=load_test&start=0&end=600&step=15",
    );
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["errorType"], "execution");
    assert!(
        v["error"].as_str().unwrap().contains("too many samples"),
        "{v}"
    );

    // Unknown endpoint.
    let (st, v) = get_json(&s, "/api/v1/nope");
    assert_eq!((st, v["errorType"].as_str()), (404, Some("not_found")));
}

#[test]
fn timeout_is_503_timeout() {
    let s = start(&["--query.timeout", "1ms"]);
    // A heavy range query: 11 000 steps over 200 series through a subquery.
    let (st, v) = get_json(
        &s,
        "/api/v1/query_range?query=sum(max_over_time(load_test[10m:1s]))&start=0&end=11000&step=1",
    );
    assert_eq!(st, 503, "{v}");
    assert_eq!(v["errorType"], "timeout");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("query timed out in"),
        "{v}"
    );
}

#[test]
fn federate_serves_latest_samples_as_text() {
    // Data near "now" so the lookback finds it.
    let dir = tempfile::tempdir().unwrap();
    let now = examples::api::now_ms();
    {
        let mut db = tsdb::Db::open_path(dir.path(), tsdb::DbOptions::default()).unwrap();
        let mut app = db.appender();
        let l = Labels::from_pairs(&[("__name__", "up"), ("job", "x")]);
        app.append(&l, now - 20_000, 0.0).unwrap();
        app.append(&l, now - 5_000, 1.0).unwrap();
        let old = Labels::from_pairs(&[("__name__", "up"), ("job", "old")]);
        app.append(&old, now - 3_600_000, 1.0).unwrap();
        app.commit().unwrap();
    }
    let s = server_owning(dir, &[]);
    let (st, ct, body) = get(&s, "/federate?match[]=up");
    assert_eq!(st, 200);
    assert!(ct.starts_with("text/plain"));
    let fams = exposition::text::parse_families(body.as_bytes()).unwrap();
    assert_eq!(fams.len(), 1, "{body}");
    assert_eq!(fams[0].samples.len(), 1, "{body}");
    assert_eq!(fams[0].samples[0].value, 1.0);
    assert_eq!(fams[0].samples[0].timestamp, Some(now - 5_000));
}
