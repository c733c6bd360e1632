//! Rule benchmarks: loading a rule file, expanding an alert template, and one evaluation of
//! a group (recording + alerting rules) over 1,000 series.
//!
//! `cargo bench -p promql --bench rules -- --warm-up-time 1 --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use exposition::Labels;
use promql::rules::template::{ExpandContext, Template, TemplateData};
use promql::rules::{load_str, Group, GroupOptions};
use promql::storage::MemStorage;

const RULES: &str = include_str!("../testdata/rules/alerts.yml");

const GROUP: &str = r#"
groups:
  - name: bench
    rules:
      - record: job:requests:rate5m
        expr: sum by (job) (rate(requests_total[5m]))
      - record: instance:requests:rate5m
        expr: rate(requests_total[5m])
      - alert: HighRate
        expr: instance:requests:rate5m > 0.5
        for: 1m
        labels:
          severity: page
        annotations:
          summary: '{{ $labels.instance }} of {{ $labels.job }} at {{ $value | humanize }} req/s'
"#;

fn bench(c: &mut Criterion) {
    c.bench_function("rules/load_file", |b| {
        b.iter(|| load_str("alerts.yml", black_box(RULES)).unwrap())
    });

    let t = Template::parse(
        "{{ if gt $value 0.5 }}{{ $labels.instance | stripPort }} is at {{ $value | humanizePercentage }}{{ else }}ok{{ end }} ({{ $labels.job }})",
    )
    .unwrap();
    let d = TemplateData::new(
        Labels::from_pairs(&[("instance", "web-1:9090"), ("job", "api")]),
        0.734,
    );
    c.bench_function("rules/template_expand", |b| {
        b.iter(|| t.expand(black_box(&d), &ExpandContext::default()).unwrap())
    });

    let mut db = MemStorage::new();
    for i in 0..1000 {
        let l = Labels::from_pairs(&[
            ("__name__", "requests_total"),
            ("instance", &format!("host-{i}:9090")),
            ("job", &format!("job-{}", i % 10)),
        ]);
        db.append_series(
            &l,
            (0..=10).map(|k| (k * 60_000, (k * 60 * (i % 3)) as f64)),
        )
        .unwrap();
    }
    let spec = load_str("bench.yml", GROUP).unwrap();
    // Steady state: the same group re-evaluated at the same time over the same store (the
    // outputs of the previous iteration are replaced in place, alert state persists).
    let mut g = Group::new(&spec.groups[0], &GroupOptions::default()).unwrap();
    c.bench_function("rules/group_eval_1000_series", |b| {
        b.iter(|| {
            let r = g.eval(600_000, &mut db);
            assert!(r.failures.is_empty());
            r.samples_written
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
