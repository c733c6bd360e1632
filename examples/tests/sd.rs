//! Service discovery in the stack loop: `file_sd_configs` (a target file written, changed
//! and emptied while the loop runs) and `http_sd_configs` (a loopback SD endpoint whose
//! answer changes, then fails). Targets that appear are scraped; targets that disappear
//! stop being scraped and their series (and `up`) get staleness markers.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use common::{dump, fetch_json, in_memory_stack, stack_api};
use exposition::Matcher;
use tsdb::Db;

/// A server answering `routes[path]` = (status, content type, body), changeable.
type Routes = Arc<Mutex<HashMap<String, (u16, String, String)>>>;

fn serve(routes: &[(&str, u16, &str, &str)]) -> (String, Routes, Arc<AtomicUsize>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap().to_string();
    let map: HashMap<String, (u16, String, String)> = routes
        .iter()
        .map(|(p, s, c, b)| (p.to_string(), (*s, c.to_string(), b.to_string())))
        .collect();
    let map = Arc::new(Mutex::new(map));
    let hits = Arc::new(AtomicUsize::new(0));
    let (m, h) = (Arc::clone(&map), Arc::clone(&hits));
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            h.fetch_add(1, Ordering::SeqCst);
            let r = m.lock().unwrap().get(req.url()).cloned();
            let (status, ct, body) = r.unwrap_or((404, "text/plain".into(), "no".into()));
            let ct = tiny_http::Header::from_bytes("Content-Type", ct.as_bytes()).unwrap();
            let _ = req.respond(
                tiny_http::Response::from_string(body)
                    .with_status_code(status)
                    .with_header(ct),
            );
        }
    });
    (addr, map, hits)
}

const TEXT: &str = "text/plain; version=0.0.4";

fn m(name: &str, pairs: &[(&str, &str)]) -> Vec<Matcher> {
    let mut v = vec![Matcher::equal("__name__", name)];
    v.extend(pairs.iter().map(|(k, x)| Matcher::equal(*k, *x)));
    v
}

/// The samples of the single series `sel` picks.
fn samples(db: &RwLock<Db>, sel: &[Matcher]) -> Vec<(i64, f64)> {
    let d = dump(db, sel);
    assert_eq!(d.len(), 1, "{sel:?} picked {d:?}");
    d.into_iter().next().unwrap().1
}

fn is_stale(s: &(i64, f64), t: i64) -> bool {
    s.0 == t && tsdb::storage::is_stale_nan(s.1)
}

#[test]
fn file_sd_targets_appear_change_and_go_stale() {
    let (a, _, _) = serve(&[("/metrics", 200, TEXT, "app_requests 7\n")]);
    let (b, _, _) = serve(&[("/metrics", 200, TEXT, "app_requests 9\n")]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("targets")).unwrap();
    let yaml = "scrape_configs:\n- job_name: files\n  scrape_interval: 1s\n  file_sd_configs:\n  - files: ['targets/*.json', 'targets/*.yml']\n  relabel_configs:\n  - source_labels: [__meta_filepath]\n    regex: '.*/(.*)'\n    target_label: from\n";
    let (mut s, db, log) = in_memory_stack(yaml, dir.path());
    let t0 = examples::api::now_ms() + 1_000;
    s.round(t0);
    assert_eq!(s.target_count(), 0);

    // A JSON file with target a appears.
    std::fs::write(
        dir.path().join("targets/a.json"),
        format!(r#"[{{"targets":["{a}"],"labels":{{"env":"prod"}}}}]"#),
    )
    .unwrap();
    let t1 = t0 + 1_000;
    s.round(t1);
    assert_eq!(s.target_urls(), vec![format!("http://{a}/metrics")]);
    let sel = m(
        "app_requests",
        &[("instance", &a), ("env", "prod"), ("from", "a.json")],
    );
    assert_eq!(samples(&db, &sel), vec![(t1, 7.0)]);

    // A YAML file adds b.
    std::fs::write(
        dir.path().join("targets/b.yml"),
        format!("- targets: ['{b}']\n  labels: {{env: dev}}\n"),
    )
    .unwrap();
    let t2 = t1 + 1_000;
    s.round(t2);
    assert_eq!(s.target_count(), 2);
    assert_eq!(
        samples(
            &db,
            &m("app_requests", &[("instance", &b), ("from", "b.yml")])
        ),
        vec![(t2, 9.0)]
    );

    // a leaves the JSON file: its series and its up get a staleness marker now, and
    // nothing more is scraped from it.
    std::fs::write(dir.path().join("targets/a.json"), "[]").unwrap();
    let t3 = t2 + 1_000;
    s.round(t3);
    assert_eq!(s.target_urls(), vec![format!("http://{b}/metrics")]);
    let got = samples(&db, &sel);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(is_stale(&got[2], t3), "{got:?}");
    let up_a = samples(&db, &m("up", &[("instance", &a)]));
    assert!(is_stale(up_a.last().unwrap(), t3), "{up_a:?}");
    let t4 = t3 + 1_000;
    s.round(t4);
    assert_eq!(samples(&db, &sel).len(), 3, "a is not scraped any more");
    assert_eq!(
        samples(&db, &m("app_requests", &[("instance", &b)])).len(),
        3,
        "b still is"
    );

    // A broken file keeps its targets (and says why); removing it drops them.
    std::fs::write(dir.path().join("targets/b.yml"), "- targets: [oops\n").unwrap();
    s.round(t4 + 1_000);
    assert_eq!(s.target_count(), 1);
    std::fs::remove_file(dir.path().join("targets/b.yml")).unwrap();
    s.round(t4 + 2_000);
    assert_eq!(s.target_count(), 0);
    let up_b = samples(&db, &m("up", &[("instance", &b)]));
    assert!(is_stale(up_b.last().unwrap(), t4 + 2_000), "{up_b:?}");
    let text = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    assert!(
        text.contains("discovery files: 1 targets (+1 -0)"),
        "{text}"
    );
    assert!(
        text.contains("b.yml:"),
        "the parse error names the file: {text}"
    );
    assert_eq!((s.summary.targets_added, s.summary.targets_removed), (2, 2));
}

#[test]
fn http_sd_follows_the_endpoint_and_keeps_the_last_good_list() {
    let (a, _, _) = serve(&[("/metrics", 200, TEXT, "thing 1\n")]);
    let (b, _, _) = serve(&[("/metrics", 200, TEXT, "thing 2\n")]);
    let list = |ts: &[&str]| {
        let ts: Vec<String> = ts.iter().map(|t| format!("\"{t}\"")).collect();
        format!(
            r#"[{{"targets":[{}],"labels":{{"dc":"x"}}}}]"#,
            ts.join(",")
        )
    };
    let (sd, routes, hits) = serve(&[("/sd", 200, "application/json", &list(&[&a]))]);
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "scrape_configs:\n- job_name: http\n  scrape_interval: 1s\n  http_sd_configs:\n  - url: http://{sd}/sd\n    refresh_interval: 5s\n  relabel_configs:\n  - source_labels: [__meta_url]\n    target_label: sd_url\n"
    );
    let (mut s, db, log) = in_memory_stack(&yaml, dir.path());
    let t0 = examples::api::now_ms() + 1_000;
    s.round(t0);
    assert_eq!(s.target_urls(), vec![format!("http://{a}/metrics")]);
    let sel_a = m("thing", &[("instance", &a), ("dc", "x")]);
    assert_eq!(samples(&db, &sel_a), vec![(t0, 1.0)]);
    assert_eq!(
        dump(&db, &sel_a)[0].0.get("sd_url"),
        Some(format!("http://{sd}/sd").as_str())
    );
    // Not fetched again before refresh_interval.
    let n = hits.load(Ordering::SeqCst);
    routes
        .lock()
        .unwrap()
        .insert("/sd".into(), (200, "application/json".into(), list(&[&b])));
    s.round(t0 + 1_000);
    assert_eq!(hits.load(Ordering::SeqCst), n);
    assert_eq!(s.target_count(), 1);
    // After it: a is replaced by b; a's series go stale.
    let t1 = t0 + 5_000;
    s.round(t1);
    assert_eq!(s.target_urls(), vec![format!("http://{b}/metrics")]);
    let got = samples(&db, &sel_a);
    assert!(is_stale(got.last().unwrap(), t1), "{got:?}");
    assert_eq!(
        samples(&db, &m("thing", &[("instance", &b)])),
        vec![(t1, 2.0)]
    );
    // The endpoint fails (500, then not JSON): b stays.
    routes
        .lock()
        .unwrap()
        .insert("/sd".into(), (500, "text/plain".into(), "boom".into()));
    s.round(t1 + 5_000);
    routes
        .lock()
        .unwrap()
        .insert("/sd".into(), (200, "text/html".into(), "<html>".into()));
    s.round(t1 + 10_000);
    assert_eq!(s.target_urls(), vec![format!("http://{b}/metrics")]);
    let text = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    assert!(text.contains("server returned HTTP status 500"), "{text}");
    assert!(text.contains("unsupported content type"), "{text}");
}

#[test]
fn the_stack_program_follows_a_target_file() {
    use std::io::BufReader;
    use std::process::{Command, Stdio};
    let (a, _, _) = serve(&[("/metrics", 200, TEXT, "app_requests 3\n")]);
    let dir = tempfile::tempdir().unwrap();
    // Relative patterns resolve against the config file's directory.
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "global: {scrape_interval: 200ms}\nscrape_configs:\n- job_name: files\n  file_sd_configs:\n  - files: ['targets/*.yml']\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stack"))
        .arg("--config.file")
        .arg(dir.path().join("prometheus.yml"))
        .args(["--web.listen-address", "127.0.0.1:0", "--duration", "8s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let (_, api) = stack_api(&mut reader);
    let get = |path: &str| fetch_json(&format!("{api}{path}"));
    let wait = |what: &str, f: &dyn Fn() -> bool| {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !f() {
            assert!(
                std::time::Instant::now() < end,
                "timed out waiting for {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    std::fs::create_dir(dir.path().join("targets")).unwrap();
    std::fs::write(
        dir.path().join("targets/t.yml"),
        format!("- targets: ['{a}']\n  labels: {{team: sd}}\n"),
    )
    .unwrap();
    let up_now = || get("/api/v1/query?query=up%7Bjob%3D%22files%22%7D");
    wait("the target to be scraped", &|| {
        up_now()["data"]["result"][0]["value"][1] == "1"
    });
    let t = get("/api/v1/targets");
    let at = &t["data"]["activeTargets"][0];
    assert_eq!(at["labels"]["team"], "sd", "{t}");
    let metrics = ureq::get(&format!("{api}/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(
        metrics.contains("stack_sd_targets{job=\"files\"} 1"),
        "{metrics}"
    );
    assert_eq!(
        at["discoveredLabels"]["__meta_filepath"],
        dir.path().join("targets/t.yml").display().to_string(),
        "{t}"
    );
    // The file goes: the target's series are marked stale, so `up` disappears at once
    // instead of lingering for the 5-minute lookback.
    std::fs::remove_file(dir.path().join("targets/t.yml")).unwrap();
    wait("up to go stale", &|| {
        up_now()["data"]["result"]
            .as_array()
            .is_some_and(|r| r.is_empty())
    });
    let t = get("/api/v1/targets");
    assert_eq!(t["data"]["activeTargets"], serde_json::json!([]), "{t}");
    let _ = child.kill();
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
    let _ = child.wait();
    assert!(
        rest.contains("discovery files: 1 targets (+1 -0)"),
        "{rest}"
    );
    assert!(
        rest.contains("discovery files: 0 targets (+0 -1)"),
        "{rest}"
    );
}
