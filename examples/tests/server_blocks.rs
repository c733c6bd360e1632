//! The metadata endpoints (`/api/v1/series`, `/api/v1/labels`,
//! `/api/v1/label/<name>/values`), `/federate` and `/api/v1/query` read the persisted
//! blocks as well as the head, honour `start`/`end`, and stop showing deleted samples.
//!
//! Drives [`examples::api::Api`] in process over a tsdb directory whose head was cut into
//! blocks by `Db::maintenance`, as the `server` program does once a minute; then starts
//! the `server` binary over such a directory.

mod common;

use std::sync::{Arc, RwLock};

use examples::api::{now_ms, Api, ApiOptions, Request};
use exposition::{Labels, Matcher};
use serde_json::Value;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

struct Fixture {
    api: Api,
    db: Arc<RwLock<tsdb::Db>>,
    /// Timestamp of the last `cont` sample.
    last: i64,
    /// When the data was written (wall clock, ms).
    now: i64,
    _dir: tempfile::TempDir,
}

/// `old_metric{job="old",legacy="x"}` over [now-10h, now-7h], `cont{job="cont",inst=a|b}`
/// over [now-10h, now], one sample a minute, and one `future_marker{job="future"}` sample
/// at now+6h so that maintenance cuts everything up to now into blocks.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    let base = (now - 10 * HOUR) / MIN * MIN;
    let mut db = tsdb::Db::open_path(dir.path(), tsdb::DbOptions::default()).unwrap();
    db.open_blocks(dir.path().join("blocks")).unwrap();
    let old = Labels::from_pairs(&[("__name__", "old_metric"), ("job", "old"), ("legacy", "x")]);
    let conts: Vec<Labels> = ["a", "b"]
        .iter()
        .map(|i| Labels::from_pairs(&[("__name__", "cont"), ("job", "cont"), ("inst", i)]))
        .collect();
    let mut last = base;
    {
        let mut app = db.appender();
        let mut t = base;
        while t <= now {
            if t <= now - 7 * HOUR {
                app.append(&old, t, 1.0).unwrap();
            }
            for (i, c) in conts.iter().enumerate() {
                app.append(c, t, (t - base) as f64 / 1000.0 + i as f64)
                    .unwrap();
            }
            last = t;
            t += MIN;
        }
        let fut = Labels::from_pairs(&[("__name__", "future_marker"), ("job", "future")]);
        app.append(&fut, now + 6 * HOUR, 1.0).unwrap();
        app.commit().unwrap();
    }
    let rep = db.maintenance(now).unwrap();
    // 2 h blocks, of which any full 6 h window was compacted into one (it depends on where
    // `now` falls): 10 hours always leave at least two blocks.
    assert!(
        db.blocks().len() >= 2,
        "expected >= 2 blocks after maintenance, got {} ({rep:?})",
        db.blocks().len()
    );
    // Everything up to `now` left the head.
    assert!(
        db.head().min_time() > now,
        "head still starts at {} <= {now}",
        db.head().min_time()
    );
    let db = Arc::new(RwLock::new(db));
    Fixture {
        api: Api::new(db.clone(), ApiOptions::default()),
        db,
        last,
        now,
        _dir: dir,
    }
}

fn secs(ms: i64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn get(api: &Api, url: &str) -> (u16, String) {
    let req = Request::new("GET", url, None, b"", None);
    let r = api.handle(&req);
    (r.status, String::from_utf8(r.body).unwrap())
}

fn data(api: &Api, url: &str) -> Value {
    let (st, body) = get(api, url);
    assert_eq!(st, 200, "{url}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"));
    assert_eq!(v["status"], "success", "{url}: {body}");
    v["data"].clone()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// `/api/v1/series` as `name{labels}` strings, sorted.
fn series(api: &Api, query: &str) -> Vec<String> {
    let d = data(api, &format!("/api/v1/series?{query}"));
    let mut out: Vec<String> = d
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let o = m.as_object().unwrap();
            let mut parts: Vec<String> = o
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                .collect();
            parts.sort();
            format!("{}{{{}}}", o["__name__"].as_str().unwrap(), parts.join(","))
        })
        .collect();
    out.sort();
    out
}

fn vector_len(api: &Api, q: &str, t: i64) -> usize {
    let d = data(
        api,
        &format!("/api/v1/query?query={}&time={}", enc(q), secs(t)),
    );
    d["result"].as_array().unwrap().len()
}

#[test]
fn metadata_endpoints_read_blocks_and_honour_range_and_deletions() {
    let f = fixture();
    let api = &f.api;
    let any = enc("{job=~\".+\"}");
    let recent = format!("start={}&end={}", secs(f.now - HOUR), secs(f.now));

    // series: all time by default, from the blocks.
    assert_eq!(
        series(api, &format!("match[]={any}")),
        vec![
            "cont{inst=a,job=cont}",
            "cont{inst=b,job=cont}",
            "future_marker{job=future}",
            "old_metric{job=old,legacy=x}",
        ]
    );
    // start/end narrow it: old_metric stopped 7 h ago, the marker is in the future.
    assert_eq!(
        series(api, &format!("match[]={any}&{recent}")),
        vec!["cont{inst=a,job=cont}", "cont{inst=b,job=cont}"]
    );
    // Several match[] are a union.
    assert_eq!(
        series(
            api,
            &format!("match[]=old_metric&match[]={}", enc("cont{inst=\"b\"}"))
        ),
        vec!["cont{inst=b,job=cont}", "old_metric{job=old,legacy=x}"]
    );

    // labels / values, all time and narrowed.
    let names = strings(&data(api, "/api/v1/labels"));
    assert_eq!(names, vec!["__name__", "inst", "job", "legacy"]);
    let names = strings(&data(
        api,
        &format!("/api/v1/labels?match[]={any}&{recent}"),
    ));
    assert_eq!(names, vec!["__name__", "inst", "job"]);
    let names = strings(&data(api, "/api/v1/labels?match[]=old_metric"));
    assert_eq!(names, vec!["__name__", "job", "legacy"]);
    let vals = strings(&data(api, "/api/v1/label/job/values"));
    assert_eq!(vals, vec!["cont", "future", "old"]);
    let vals = strings(&data(api, &format!("/api/v1/label/job/values?{recent}")));
    assert_eq!(vals, vec!["cont"]);
    let vals = strings(&data(api, "/api/v1/label/__name__/values?match[]=cont"));
    assert_eq!(vals, vec!["cont"]);

    // query spans blocks: old_metric 8 h ago, cont now.
    assert_eq!(vector_len(api, "old_metric", f.now - 8 * HOUR), 1);
    assert_eq!(vector_len(api, "cont", f.now), 2);
    let d = data(
        api,
        &format!(
            "/api/v1/query?query={}&time={}",
            enc("count_over_time(cont{inst=\"a\"}[10h])"),
            secs(f.now)
        ),
    );
    let n: f64 = d["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 590.0, "count_over_time over blocks: {n}");

    // federate: the latest sample of each series, out of a block.
    let (st, text) = get(api, &format!("/federate?match[]={}", enc("{job=\"cont\"}")));
    assert_eq!(st, 200, "{text}");
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (l, inst) in lines.iter().zip(["a", "b"]) {
        assert!(l.contains(&format!("inst=\"{inst}\"")), "{text}");
        assert!(
            l.ends_with(&format!(" {}", f.last)),
            "{l} (last {})",
            f.last
        );
    }

    // Deleting hides series from every endpoint at once.
    {
        let mut db = f.db.write().unwrap();
        db.delete(
            &[Matcher::equal("__name__", "old_metric")],
            i64::MIN / 2,
            i64::MAX / 2,
        )
        .unwrap();
        db.delete(&[Matcher::equal("inst", "b")], i64::MIN / 2, i64::MAX / 2)
            .unwrap();
    }
    assert_eq!(
        series(api, &format!("match[]={any}")),
        vec!["cont{inst=a,job=cont}", "future_marker{job=future}"]
    );
    assert_eq!(
        strings(&data(api, "/api/v1/labels")),
        vec!["__name__", "inst", "job"]
    );
    assert_eq!(
        strings(&data(api, "/api/v1/label/job/values")),
        vec!["cont", "future"]
    );
    assert_eq!(strings(&data(api, "/api/v1/label/inst/values")), vec!["a"]);
    assert_eq!(vector_len(api, "old_metric", f.now - 8 * HOUR), 0);
    assert_eq!(vector_len(api, "cont", f.now), 1);
    let (_, text) = get(api, &format!("/federate?match[]={}", enc("{job=\"cont\"}")));
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("inst=\"a\""), "{text}");

    // A partial deletion keeps the series where samples remain.
    {
        let mut db = f.db.write().unwrap();
        db.delete(&[Matcher::equal("inst", "a")], f.now - HOUR, i64::MAX / 2)
            .unwrap();
    }
    assert_eq!(series(api, "match[]=cont"), vec!["cont{inst=a,job=cont}"]);
    assert!(series(api, &format!("match[]=cont&{recent}")).is_empty());
    let (_, text) = get(api, "/federate?match[]=cont");
    assert!(
        text.lines().all(|l| l.starts_with('#')),
        "latest samples were deleted: {text}"
    );
}

/// The `server` program opens `<storage.path>/blocks`: series that only live in blocks
/// (their head part was cut and truncated away) show up in every endpoint.
#[test]
fn server_binary_serves_series_from_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    let base = (now - 10 * HOUR) / MIN * MIN;
    {
        let mut db = tsdb::Db::open_path(dir.path(), tsdb::DbOptions::default()).unwrap();
        db.open_blocks(dir.path().join("blocks")).unwrap();
        let old = Labels::from_pairs(&[("__name__", "old_metric"), ("job", "old")]);
        let cont = Labels::from_pairs(&[("__name__", "cont"), ("job", "cont")]);
        let mut app = db.appender();
        let mut t = base;
        while t <= now {
            if t <= now - 7 * HOUR {
                app.append(&old, t, 1.0).unwrap();
            }
            app.append(&cont, t, 2.0).unwrap();
            t += MIN;
        }
        app.commit().unwrap();
        db.maintenance(now).unwrap();
        // At least two: a full 6 h window may have been compacted into one block.
        assert!(db.blocks().len() >= 2, "{} blocks", db.blocks().len());
        assert!(db.head().min_time() > now - 7 * HOUR);
    }
    let srv = common::server_owning(dir, &[]);
    let fetch = |path: &str| -> Value {
        let url = format!("{}{path}", srv.base);
        let body = ureq::get(&url)
            .call()
            .unwrap_or_else(|e| panic!("{url}: {e}"))
            .into_string()
            .unwrap();
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
    };
    let d = fetch("/api/v1/series?match[]=old_metric");
    assert_eq!(d["data"].as_array().unwrap().len(), 1, "{d}");
    let d = fetch("/api/v1/label/job/values");
    assert_eq!(strings(&d["data"]), vec!["cont", "old"]);
    let d = fetch(&format!(
        "/api/v1/query?query=old_metric&time={}",
        secs(now - 8 * HOUR)
    ));
    assert_eq!(d["data"]["result"].as_array().unwrap().len(), 1, "{d}");
    let url = format!("{}/federate?match[]=cont", srv.base);
    let text = ureq::get(&url).call().unwrap().into_string().unwrap();
    assert_eq!(
        text.lines().filter(|l| !l.starts_with('#')).count(),
        1,
        "{text}"
    );
}
