//! Routing throughput on a 1,000-route tree with regex matchers (goal: > 1 M alerts/s on one
//! core). Two shapes: a two-level tree (20 teams × 49 services) and a flat list of 1,000
//! regex siblings where most alerts scan far.

use alertroute::Config;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use exposition::Labels;

fn two_level() -> String {
    let mut y = String::from("route:\n  receiver: default\n  group_by: [alertname]\n  routes:\n");
    for t in 0..20 {
        y += &format!("    - matchers: ['team=\"t{t}\"']\n      receiver: r\n      routes:\n");
        for s in 0..49 {
            y += &format!(
                "        - matchers: ['service=~\"svc-{t}-{s}|svc-{t}-{s}-canary\"', 'severity=~\"crit.*|page\"']\n          receiver: r\n"
            );
        }
    }
    y + "receivers: [{name: default}, {name: r}]\n"
}

fn flat() -> String {
    let mut y = String::from("route:\n  receiver: default\n  routes:\n");
    for s in 0..999 {
        y += &format!("    - matchers: ['service=~\"svc-{s}-(a|b)[0-9]+\"']\n      receiver: r\n");
    }
    y + "receivers: [{name: default}, {name: r}]\n"
}

fn alerts(n: usize, flat: bool) -> Vec<Labels> {
    // A small deterministic LCG, so runs are comparable.
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    (0..n)
        .map(|_| {
            let (t, s) = (next() % 20, next() % 49);
            let service = if flat {
                format!("svc-{}-a{}", next() % 999, next() % 100)
            } else {
                format!("svc-{t}-{s}")
            };
            let sev = ["critical", "warning", "page"][next() % 3];
            Labels::from_pairs(&[
                ("alertname", "HighLatency"),
                ("instance", "host-1:9100"),
                ("job", "node"),
                ("service", service.as_str()),
                ("severity", sev),
                ("team", format!("t{t}").as_str()),
            ])
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    for (name, yaml, flat) in [
        ("two_level_1000", two_level(), false),
        ("flat_1000_regex", flat(), true),
    ] {
        let cfg = Config::load(&yaml).unwrap();
        assert!(cfg.route.len() >= 1000, "{} routes", cfg.route.len());
        let input = alerts(1024, flat);
        let mut g = c.benchmark_group("route");
        g.throughput(Throughput::Elements(input.len() as u64));
        g.bench_function(name, |b| {
            let mut out = Vec::new();
            b.iter(|| {
                let mut n = 0;
                for l in &input {
                    cfg.route.route_into(black_box(l), &mut out);
                    n += out.len();
                }
                n
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
