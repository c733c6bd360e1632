//! The HTTP API's own cost, without sockets: parse the request, run the query over a tsdb
//! head, encode Prometheus's JSON. Data: 100 series x 1 day at 15 s (576 000 samples).
//!
//! Run: `cargo bench -p examples --bench api -- --warm-up-time 1 --measurement-time 3`

use std::sync::{Arc, RwLock};

use criterion::{criterion_group, criterion_main, Criterion};
use examples::api::{Api, ApiOptions, Request};
use exposition::Labels;
use tsdb::{Db, HeadOptions};

const STEP: i64 = 15_000;
const POINTS: i64 = 5_760;

fn api() -> Api {
    let mut db = Db::in_memory(HeadOptions::default());
    let labels: Vec<Labels> = (0..100)
        .map(|i| {
            Labels::from_pairs(&[
                ("__name__", "http_requests_total"),
                ("job", if i % 2 == 0 { "api" } else { "web" }),
                ("instance", &format!("host-{i}:9100")),
            ])
        })
        .collect();
    let mut refs = vec![None; labels.len()];
    for k in 0..POINTS {
        let mut app = db.appender();
        for (i, l) in labels.iter().enumerate() {
            let v = (k * (i as i64 + 1)) as f64;
            match refs[i] {
                Some(r) => app.append_ref(r, k * STEP, v).unwrap(),
                None => refs[i] = Some(app.append(l, k * STEP, v).unwrap()),
            }
        }
        app.commit().unwrap();
    }
    Api::new(Arc::new(RwLock::new(db)), ApiOptions::default())
}

fn bench(c: &mut Criterion) {
    let api = api();
    let end = (POINTS - 1) * STEP / 1000;
    let cases = [
        (
            "instant rate, 100 series",
            format!("/api/v1/query?query=rate(http_requests_total%5B5m%5D)&time={end}"),
        ),
        (
            "range sum by job, 1h at 15s",
            format!(
                "/api/v1/query_range?query=sum%20by%20(job)%20(rate(http_requests_total%5B5m%5D))&start={}&end={end}&step=15",
                end - 3600
            ),
        ),
        (
            "range raw, 100 series x 240 points (JSON-heavy)",
            format!(
                "/api/v1/query_range?query=http_requests_total&start={}&end={end}&step=15",
                end - 3600
            ),
        ),
        ("series match", "/api/v1/series?match[]=http_requests_total%7Bjob%3D%22api%22%7D".to_string()),
        ("label values", "/api/v1/label/instance/values".to_string()),
    ];
    let mut g = c.benchmark_group("api");
    g.sample_size(20);
    for (name, url) in &cases {
        let req = Request::new("GET", url, None, b"", None);
        assert_eq!(api.handle(&req).status, 200, "{name}");
        g.bench_function(*name, |b| b.iter(|| api.handle(&req)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
