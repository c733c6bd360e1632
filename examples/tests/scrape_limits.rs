//! Scrape limits (`sample_limit`, `label_limit`, `label_name_length_limit`,
//! `label_value_length_limit`, `body_size_limit`): a scrape over a limit fails as a whole
//! (`up` 0, the reason in the log), appends nothing it scraped, and the series of the
//! previous good scrape get staleness markers, as in Prometheus. The stack loop is driven
//! round by round with chosen timestamps; targets are served by this test over loopback.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use common::{dump, in_memory_stack, Log};
use examples::stack::runner::Stack;
use exposition::Matcher;
use tsdb::Db;

/// Serves `bodies[path]` as text 0.0.4; bodies can be changed while it runs.
fn targets(bodies: &[(&str, &str)]) -> (String, Arc<Mutex<HashMap<String, String>>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap().to_string();
    let map: HashMap<String, String> = bodies
        .iter()
        .map(|(p, b)| (p.to_string(), b.to_string()))
        .collect();
    let map = Arc::new(Mutex::new(map));
    let m = Arc::clone(&map);
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            let body = m.lock().unwrap().get(req.url()).cloned();
            let ct =
                tiny_http::Header::from_bytes("Content-Type", "text/plain; version=0.0.4").unwrap();
            let _ = match body {
                Some(b) => req.respond(tiny_http::Response::from_string(b).with_header(ct)),
                None => req.respond(tiny_http::Response::from_string("no").with_status_code(404)),
            };
        }
    });
    (addr, map)
}

fn stack(yaml: &str) -> (Stack, Arc<RwLock<Db>>, Log) {
    in_memory_stack(yaml, std::path::Path::new("."))
}

fn name(n: &str) -> Matcher {
    Matcher::equal("__name__", n)
}

fn job(j: &str) -> Matcher {
    Matcher::equal("job", j)
}

/// `up` of a job at a time.
fn up(db: &RwLock<Db>, j: &str, t: i64) -> Option<f64> {
    dump(db, &[name("up"), job(j)])
        .first()
        .and_then(|(_, s)| s.iter().find(|(x, _)| *x == t).map(|(_, v)| *v))
}

#[test]
fn each_limit_fails_the_scrape_and_stores_nothing_of_it() {
    let long_value = "v".repeat(40);
    let long_name = "n".repeat(40);
    let (addr, _) = targets(&[
        ("/ok", "a 1\nb 2\n"),
        ("/samples", "a 1\nb 2\nc 3\nd 4\n"),
        ("/labels", "a{x=\"1\",y=\"2\",z=\"3\"} 1\nb 2\n"),
        ("/name", &format!("a{{{long_name}=\"1\"}} 1\nb 2\n")),
        ("/value", &format!("a{{x=\"{long_value}\"}} 1\nb 2\n")),
        ("/body", &format!("# {}\na 1\n", "x".repeat(2000))),
    ]);
    let job_cfg = |j: &str, path: &str, limit: &str| {
        format!("- job_name: {j}\n  metrics_path: {path}\n  {limit}\n  static_configs: [{{targets: ['{addr}']}}]\n")
    };
    let yaml = format!(
        "global: {{scrape_interval: 1s}}\nscrape_configs:\n{}{}{}{}{}{}",
        job_cfg("ok", "/ok", "sample_limit: 2"),
        job_cfg("samples", "/samples", "sample_limit: 3"),
        job_cfg("labels", "/labels", "label_limit: 4"),
        job_cfg("name", "/name", "label_name_length_limit: 39"),
        job_cfg("value", "/value", "label_value_length_limit: 39"),
        job_cfg("body", "/body", "body_size_limit: 1KB"),
    );
    let (mut s, db, log) = stack(&yaml);
    let t = examples::api::now_ms() + 1_000;
    s.round(t);
    // Under its limits (exactly at sample_limit): stored.
    assert_eq!(up(&db, "ok", t), Some(1.0));
    assert_eq!(dump(&db, &[name("a"), job("ok")]).len(), 1);
    for j in ["samples", "labels", "name", "value", "body"] {
        assert_eq!(up(&db, j, t), Some(0.0), "{j}: up should be 0");
        let stored: Vec<_> = dump(&db, &[job(j)])
            .into_iter()
            .map(|(l, _)| l.metric_name().unwrap_or("").to_string())
            .filter(|n| !n.starts_with("scrape_") && n != "up")
            .collect();
        assert!(stored.is_empty(), "{j}: stored {stored:?}");
    }
    let text = log.text();
    for reason in [
        "samples DOWN (sample limit exceeded (limit: 3)",
        "labels DOWN (label_limit exceeded (metric: a, number of labels: 6, limit: 4)",
        "name DOWN (label_name_length_limit exceeded (metric: a, label name: nnnn",
        "value DOWN (label_value_length_limit exceeded (metric: a, label name: x, value: \"vvvv",
        "body DOWN (body size limit exceeded (limit: 1024 bytes)",
    ] {
        assert!(text.contains(reason), "missing {reason:?} in:\n{text}");
    }
    assert_eq!(s.summary.limit_failures, 5);
    // Prometheus still reports the samples it saw before refusing them.
    let seen = dump(&db, &[name("scrape_samples_scraped"), job("samples")]);
    assert_eq!(seen[0].1, vec![(t, 4.0)]);
    let post = dump(
        &db,
        &[
            name("scrape_samples_post_metric_relabeling"),
            job("samples"),
        ],
    );
    assert_eq!(post[0].1, vec![(t, 0.0)]);
}

#[test]
fn a_target_growing_past_the_limit_goes_stale_until_it_shrinks() {
    let (addr, bodies) = targets(&[("/metrics", "a 1\nb 2\n")]);
    let (mut s, db, log) = stack(&format!(
        "scrape_configs:\n- job_name: grow\n  scrape_interval: 1s\n  sample_limit: 3\n  static_configs: [{{targets: ['{addr}']}}]\n"
    ));
    let t0 = examples::api::now_ms() + 1_000;
    s.round(t0);
    assert_eq!(up(&db, "grow", t0), Some(1.0));
    bodies
        .lock()
        .unwrap()
        .insert("/metrics".into(), "a 5\nb 6\nc 7\nd 8\n".into());
    let t1 = t0 + 1_000;
    s.round(t1);
    assert_eq!(up(&db, "grow", t1), Some(0.0));
    // a and b got a staleness marker at t1, not the refused values; c and d never existed.
    for m in ["a", "b"] {
        let ser = dump(&db, &[name(m)]);
        assert_eq!(ser.len(), 1);
        let samples = &ser[0].1;
        assert_eq!(samples.len(), 2, "{m}: {samples:?}");
        assert_eq!(samples[1].0, t1);
        assert!(
            tsdb::storage::is_stale_nan(samples[1].1),
            "{m}: {samples:?}"
        );
    }
    assert!(dump(&db, &[name("c")]).is_empty());
    assert!(dump(&db, &[name("d")]).is_empty());
    assert!(log.text().contains("grow DOWN (sample limit exceeded"));
    // Back under the limit: everything is appended again.
    bodies
        .lock()
        .unwrap()
        .insert("/metrics".into(), "a 9\nb 10\nc 11\n".into());
    let t2 = t1 + 1_000;
    s.round(t2);
    assert_eq!(up(&db, "grow", t2), Some(1.0));
    assert_eq!(dump(&db, &[name("c")])[0].1, vec![(t2, 11.0)]);
    assert_eq!(dump(&db, &[name("a")])[0].1[2], (t2, 9.0));
}

#[test]
fn over_target_limit_no_target_of_the_job_is_scraped() {
    let (addr, _) = targets(&[("/metrics", "a 1\n")]);
    let dir = tempfile::tempdir().unwrap();
    let group = |n: u32| format!(r#"{{"targets":["{addr}"],"labels":{{"n":"{n}"}}}}"#);
    let file = dir.path().join("t.json");
    std::fs::write(&file, format!("[{},{},{}]", group(1), group(2), group(3))).unwrap();
    let (mut s, db, log) = in_memory_stack(
        "scrape_configs:\n- job_name: many\n  scrape_interval: 1s\n  target_limit: 2\n  file_sd_configs: [{files: ['t.json']}]\n",
        dir.path(),
    );
    let t0 = examples::api::now_ms() + 1_000;
    s.round(t0);
    assert_eq!(s.target_count(), 3);
    let ups = dump(&db, &[name("up")]);
    assert_eq!(ups.len(), 3);
    assert!(ups.iter().all(|(_, v)| *v == vec![(t0, 0.0)]), "{ups:?}");
    assert!(dump(&db, &[name("a")]).is_empty(), "nothing was scraped");
    assert!(log
        .text()
        .contains("many DOWN (target_limit exceeded (number of targets: 3, limit: 2)"));
    // Back to two targets: both are scraped; the third one's up goes stale.
    std::fs::write(&file, format!("[{},{}]", group(1), group(2))).unwrap();
    let t1 = t0 + 1_000;
    s.round(t1);
    for n in ["1", "2"] {
        let up = dump(&db, &[name("up"), Matcher::equal("n", n)]);
        assert_eq!(up[0].1, vec![(t0, 0.0), (t1, 1.0)], "{up:?}");
    }
    let up3 = dump(&db, &[name("up"), Matcher::equal("n", "3")]);
    assert!(tsdb::storage::is_stale_nan(up3[0].1[1].1), "{up3:?}");
    assert_eq!(dump(&db, &[name("a")]).len(), 2);
}
