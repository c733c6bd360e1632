//! Dispatcher cost with 100k active alerts in 10k groups: inserting them, and a steady-state
//! tick that flushes every group once (dedup finds nothing new). Criterion reports the time
//! per tick; divide by 10,000 for the cost per group flush.

use alertroute::{Alert, Config, Dispatcher, DispatcherOptions};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use exposition::Labels;

const GROUPS: usize = 10_000;
const PER_GROUP: usize = 10;
const INTERVAL: i64 = 60_000;

fn config() -> Config {
    Config::load(
        "route: {receiver: r, group_by: [alertname], group_wait: 1s, group_interval: 1m, repeat_interval: 100000h}\nreceivers: [{name: r}]",
    )
    .unwrap()
}

fn alerts() -> Vec<Alert> {
    let mut v = Vec::with_capacity(GROUPS * PER_GROUP);
    for g in 0..GROUPS {
        for i in 0..PER_GROUP {
            let name = format!("Alert{g}");
            let inst = format!("host-{i}:9100");
            v.push(
                Alert::new(
                    Labels::from_pairs(&[
                        ("alertname", name.as_str()),
                        ("instance", inst.as_str()),
                        ("job", "node"),
                        ("severity", "warning"),
                    ]),
                    0,
                )
                .with_ends_at(i64::MAX / 4),
            );
        }
    }
    v
}

fn bench(c: &mut Criterion) {
    let input = alerts();
    let mut g = c.benchmark_group("dispatch");
    g.sample_size(10);
    g.throughput(Throughput::Elements(input.len() as u64));
    g.bench_function("insert_100k_alerts_10k_groups", |b| {
        b.iter_batched(
            || (Dispatcher::new(config(), "bench"), input.clone()),
            |(mut d, alerts)| {
                for a in alerts {
                    d.insert(a, 0);
                }
                d
            },
            BatchSize::PerIteration,
        )
    });
    // Keep log entries for the whole (simulated) run so every tick is a steady-state one.
    let opts = DispatcherOptions {
        retention_ms: i64::MAX / 8,
        ..Default::default()
    };
    let mut d = Dispatcher::with_options(config(), "bench", opts);
    for a in input.iter().cloned() {
        d.insert(a, 0);
    }
    assert_eq!(d.group_count(), GROUPS);
    assert_eq!(
        d.tick(1_000).len(),
        GROUPS,
        "first flush notifies every group"
    );
    g.throughput(Throughput::Elements(GROUPS as u64));
    let mut now = 1_000;
    g.bench_function("tick_flush_10k_groups_100k_alerts", |b| {
        b.iter(|| {
            now += INTERVAL;
            let sent = d.tick(now);
            assert!(sent.is_empty());
            sent.len()
        })
    });

    // The same groups with one inhibit rule and 1,000 silences (none matching): the cost of
    // the muting stages per flush.
    let muted_cfg = Config::load(
        "route: {receiver: r, group_by: [alertname], group_wait: 1s, group_interval: 1m, repeat_interval: 100000h}\nreceivers: [{name: r}]\ninhibit_rules: [{source_matchers: [severity=critical], target_matchers: [severity=warning], equal: [instance]}]",
    )
    .unwrap();
    let opts = DispatcherOptions {
        retention_ms: i64::MAX / 8,
        ..Default::default()
    };
    let mut d = Dispatcher::with_options(muted_cfg, "bench", opts);
    for i in 0..1000 {
        let m = if i % 2 == 0 {
            format!("alertname=Other{i}")
        } else {
            format!("instance=~\"db-{i}.*\"")
        };
        let ms = alertroute::matchers::parse_matchers(&m).unwrap();
        d.silences
            .set(alertroute::silence::Silence::new(ms, 0, i64::MAX / 8), 0)
            .unwrap();
    }
    for a in input.iter().cloned() {
        d.insert(a, 0);
    }
    assert_eq!(d.tick(1_000).len(), GROUPS);
    let mut now = 1_000;
    g.bench_function("tick_flush_10k_groups_1000_silences_1_inhibit_rule", |b| {
        b.iter(|| {
            now += INTERVAL;
            let sent = d.tick(now);
            assert!(sent.is_empty());
            sent.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
