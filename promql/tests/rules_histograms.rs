//! Native histograms through rules: recording rules write histogram results (into
//! `MemStorage` and into a tsdb through `TsdbRuleStorage`), vanished histogram outputs get a
//! float staleness marker, appenders without histogram support report a typed error, and
//! alerting rules over histogram expressions behave like Prometheus 3.x.

use exposition::histogram::FloatHistogram;
use exposition::Labels;
use promql::engine::Engine;
use promql::rules::{load_str, Appendable, EvalError, Group, GroupOptions};
use promql::storage::{MemStorage, Querier, Storage, StorageError};
use promql::tsdb_storage::TsdbRuleStorage;
use promql::value::{Sample, Value};
use std::sync::Arc;

const M: i64 = 60_000;

const RECORD: &str = "groups:\n- name: g\n  rules:\n  - record: job:http_duration_seconds:rate5m\n    expr: sum by (job) (rate(http_duration_seconds[5m]))\n";

fn group(yaml: &str) -> Group {
    let f = load_str("r.yml", yaml).unwrap_or_else(|e| panic!("{e}"));
    Group::new(&f.groups[0], &GroupOptions::default()).unwrap()
}

fn vector(s: &dyn Storage, q: &str, t: i64) -> Vec<Sample> {
    let e = promql::parse(q).unwrap();
    match Engine::default().instant_query(s, &e, t).unwrap().value {
        Value::Vector(v) => v,
        other => panic!("{other:?}"),
    }
}

fn series(job: &str, inst: &str) -> Labels {
    Labels::from_pairs(&[
        ("__name__", "http_duration_seconds"),
        ("job", job),
        ("instance", inst),
    ])
}

/// The k-th scrape of a counter histogram growing by `step` observations per bucket.
fn hist(k: i64, step: f64) -> Arc<FloatHistogram> {
    let c = k as f64 * step;
    let text = format!(
        "{{{{schema:0 count:{} sum:{} z_bucket:{c} z_bucket_w:0.001 buckets:[{c} {c} {c}]}}}}",
        4.0 * c,
        2.5 * c
    );
    Arc::new(FloatHistogram::parse_notation(&text).unwrap())
}

/// Five minutes of scrapes of two instances of job `api` every 15s, through `put`.
fn load(mut put: impl FnMut(&Labels, i64, Arc<FloatHistogram>)) {
    for k in 0..=20 {
        put(&series("api", "1"), k * 15_000, hist(k, 1.0));
        put(&series("api", "2"), k * 15_000, hist(k, 3.0));
    }
}

fn only_histogram(v: &[Sample]) -> Arc<FloatHistogram> {
    assert_eq!(v.len(), 1, "{v:?}");
    v[0].h
        .clone()
        .unwrap_or_else(|| panic!("not a histogram: {v:?}"))
}

#[test]
fn recording_rule_writes_histograms_to_mem_storage() {
    let mut db = MemStorage::new();
    load(|l, t, h| db.append_histogram(l, t, h).unwrap());
    let mut g = group(RECORD);
    let t = 5 * M;
    let r = g.eval(t, &mut db);
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!(r.samples_written, 1);
    let want = only_histogram(&vector(
        &db,
        "sum by (job) (rate(http_duration_seconds[5m]))",
        t,
    ));
    let got = vector(&db, "job:http_duration_seconds:rate5m", t);
    assert_eq!(
        got[0].metric,
        Labels::from_pairs(&[
            ("__name__", "job:http_duration_seconds:rate5m"),
            ("job", "api")
        ])
    );
    let got = only_histogram(&got);
    assert!(got.equals(&want), "{got} vs {want}");
    // 4 obs/15s per bucket over both instances: a rate of 4/15 in each bucket.
    assert!((got.positive_buckets[0] - 4.0 / 15.0).abs() < 1e-9, "{got}");
    // histogram functions work on the recorded series.
    let c = vector(&db, "histogram_count(job:http_duration_seconds:rate5m)", t);
    assert!((c[0].f - 16.0 / 15.0).abs() < 1e-9, "{c:?}");
}

#[test]
fn vanished_histogram_output_gets_a_float_staleness_marker() {
    let mut db = MemStorage::new();
    load(|l, t, h| db.append_histogram(l, t, h).unwrap());
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - record: h:copy\n    expr: http_duration_seconds\n",
    );
    let r = g.eval(5 * M, &mut db);
    assert_eq!((r.samples_written, r.stale_written), (2, 0));
    // Instance 2 goes stale (a float StaleNaN, as scrapes write it); its output must end
    // at once, and the marker for the histogram output is a float StaleNaN too.
    let t = 5 * M + 15_000;
    db.append_histogram(&series("api", "1"), t, hist(21, 1.0))
        .unwrap();
    db.append(&series("api", "2"), t, promql::value::stale_nan())
        .unwrap();
    let r = g.eval(t, &mut db);
    assert_eq!((r.samples_written, r.stale_written), (2, 1));
    let left = vector(&db, "h:copy", t + 1);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].metric.get("instance"), Some("1"));
    assert!(left[0].h.is_some());
    let q = db.querier(t, t).unwrap();
    let set = q
        .select(
            &Default::default(),
            &[
                exposition::Matcher::equal("__name__", "h:copy"),
                exposition::Matcher::equal("instance", "2"),
            ],
        )
        .unwrap();
    let mut it = set[0].iter();
    match it.next_value() {
        Some((tt, promql::storage::SampleValue::Float(f))) => {
            assert_eq!(tt, t);
            assert!(promql::value::is_stale_nan(f));
        }
        other => panic!("want a float StaleNaN, got {other:?}"),
    }
}

#[test]
fn recording_rule_histograms_land_in_tsdb_and_read_back() {
    let mut db = tsdb::Db::in_memory(tsdb::HeadOptions::default());
    let mut app = db.appender();
    load(|l, t, h| {
        app.append_float_histogram(l, t, &h).unwrap();
    });
    app.commit().unwrap();
    let mut g = group(RECORD);
    let mut mem_view = MemStorage::new();
    load(|l, t, h| mem_view.append_histogram(l, t, h).unwrap());
    for step in 0..3 {
        let t = 5 * M + step * 15_000;
        if step > 0 {
            let mut app = db.appender();
            for (inst, per) in [("1", 1.0), ("2", 3.0)] {
                let h = hist(20 + step, per);
                app.append_float_histogram(&series("api", inst), t, &h)
                    .unwrap();
                mem_view
                    .append_histogram(&series("api", inst), t, h)
                    .unwrap();
            }
            app.commit().unwrap();
        }
        let r = g.eval(t, &mut TsdbRuleStorage::new(&mut db));
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        assert_eq!(r.samples_written, 1);
    }
    // A later query against the tsdb itself reads the recorded histograms back, equal to
    // the expression evaluated directly (over the same data in memory).
    for step in 0..3 {
        let t = 5 * M + step * 15_000;
        let got = only_histogram(&vector(&db, "job:http_duration_seconds:rate5m", t));
        let want = only_histogram(&vector(
            &mem_view,
            "sum by (job) (rate(http_duration_seconds[5m]))",
            t,
        ));
        assert!(got.equals(&want), "t={t}: {got} vs {want}");
    }
    let m = vector(
        &db,
        "count_over_time(job:http_duration_seconds:rate5m[1m])",
        5 * M + 30_000,
    );
    assert_eq!(m[0].f, 3.0);
    // The recorded series ends with a staleness marker when its input disappears.
    let mut g2 = group(
        "groups:\n- name: g\n  rules:\n  - record: h:copy\n    expr: http_duration_seconds\n",
    );
    let t = 5 * M + 30_000;
    let r = g2.eval(t, &mut TsdbRuleStorage::new(&mut db));
    assert_eq!(r.samples_written, 2, "{:?}", r.failures);
    let t2 = t + 15_000;
    let mut app = db.appender();
    app.append_float_histogram(&series("api", "1"), t2, &hist(23, 1.0))
        .unwrap();
    app.append(&series("api", "2"), t2, promql::value::stale_nan())
        .unwrap();
    app.commit().unwrap();
    let r = g2.eval(t2, &mut TsdbRuleStorage::new(&mut db));
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!((r.samples_written, r.stale_written), (2, 1));
    let left = vector(&db, "h:copy", t2 + 1);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].metric.get("instance"), Some("1"));
}

/// A float-only store: the default `append_histogram` rejects histogram output.
struct FloatsOnly(MemStorage);

impl Storage for FloatsOnly {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError> {
        self.0.querier(mint, maxt)
    }
}

impl Appendable for FloatsOnly {
    fn append(&mut self, labels: &Labels, t_ms: i64, v: f64) -> Result<(), StorageError> {
        self.0.append(labels, t_ms, v)
    }
}

#[test]
fn float_only_appender_reports_a_typed_error() {
    let mut db = MemStorage::new();
    load(|l, t, h| db.append_histogram(l, t, h).unwrap());
    let mut store = FloatsOnly(db);
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - record: h:rate\n    expr: sum(rate(http_duration_seconds[5m]))\n  - record: c:rate\n    expr: histogram_count(sum(rate(http_duration_seconds[5m])))\n",
    );
    let r = g.eval(5 * M, &mut store);
    assert_eq!(r.samples_written, 1);
    assert_eq!(r.failures.len(), 1);
    assert_eq!(r.failures[0].name, "h:rate");
    assert!(matches!(
        r.failures[0].error,
        EvalError::Append(StorageError::HistogramsUnsupported { .. })
    ));
}

#[test]
fn alerting_rule_over_histograms_templates_the_histogram_as_value() {
    // As Prometheus 3.x: the alert fires per histogram sample, the alert's value is the
    // float field (0), `$value` is the histogram (printed like Go's `String()`), and float
    // functions on it fail like Go's conversion does.
    let mut db = MemStorage::new();
    let l = Labels::from_pairs(&[("__name__", "latency"), ("job", "api")]);
    let h = FloatHistogram::parse_notation(
        "{{schema:0 count:4 sum:5 z_bucket:1 z_bucket_w:0.001 buckets:[1 2]}}",
    )
    .unwrap();
    db.append_histogram(&l, 0, Arc::new(h)).unwrap();
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - alert: H\n    expr: latency\n    annotations:\n      value: '{{ $value }}'\n      dot: '{{ .Value }}'\n      count: '{{ with query \"histogram_count(latency)\" }}{{ . | first | value }}{{ end }}'\n      raw: '{{ with query \"latency\" }}{{ . | first | value }}{{ end }}'\n      bad: '{{ $value | humanize }}'\n",
    );
    let r = g.eval(0, &mut db);
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let alerts = g.active_alerts();
    assert_eq!(alerts.len(), 1);
    let a = alerts[0];
    assert_eq!(a.value, 0.0);
    assert_eq!(
        a.labels,
        Labels::from_pairs(&[("alertname", "H"), ("job", "api")])
    );
    let want = "{count:4, sum:5, [-0.001,0.001]:1, (0.5,1]:1, (1,2]:2}";
    assert_eq!(a.annotations.get("value"), Some(want));
    assert_eq!(a.annotations.get("dot"), Some(want));
    assert_eq!(a.annotations.get("count"), Some("4"));
    // `query` results carry the float field: 0 for histograms.
    assert_eq!(a.annotations.get("raw"), Some("0"));
    let bad = a.annotations.get("bad").unwrap();
    assert!(
        bad.starts_with("<error expanding template: ")
            && bad.contains("can't convert *histogram.FloatHistogram to float"),
        "{bad}"
    );
    // ALERTS is still a float series.
    let alerts_series = vector(&db, "ALERTS", 0);
    assert_eq!(alerts_series.len(), 1);
    assert_eq!(alerts_series[0].f, 1.0);
    assert!(alerts_series[0].h.is_none());
}

/// Templates that treat `$value` as a number, a string, a map or a list must fail or print,
/// never panic, when `$value` is a histogram; so must edited histogram unit-test files.
#[test]
fn histogram_values_in_templates_and_edited_test_files_do_not_panic() {
    use promql::rules::template::{ExpandContext, Template, TemplateData};
    let h = Arc::new(
        FloatHistogram::parse_notation(
            "{{schema:-53 count:3 sum:2 custom_values:[1 2] buckets:[1 1 1]}}",
        )
        .unwrap(),
    );
    let d = TemplateData::new(Labels::from_pairs(&[("job", "a")]), 0.0).with_histogram(h);
    for src in [
        "{{ $value }} {{ .Value }} {{ printf \"%v %s %d %5.2f %q\" $value $value $value $value $value }}",
        "{{ if gt $value 1.0 }}a{{ end }}{{ if eq $value $value }}b{{ end }}{{ if $value }}c{{ end }}",
        "{{ range $value }}x{{ end }}{{ len $value }}{{ index $value \"a\" }}{{ $value.Count }}",
        "{{ humanize $value }}{{ humanizeDuration $value }}{{ toUpper $value }}{{ value $value }}",
        "{{ $value | humanizePercentage }}{{ $value | first }}{{ label \"a\" $value }}{{ not $value }}",
    ] {
        let t = Template::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let _ = t.expand(&d, &ExpandContext::default());
    }
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/rules/native_histograms");
    let text = std::fs::read_to_string(dir.join("histograms_test.yml")).unwrap();
    let chars: Vec<char> = text.chars().collect();
    let mut seed = 11u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let noise = [
        "{{", "}}", "[", "]", ":", " ", "x", "+", "-", "_", "1e308", "NaN", "schema:9",
    ];
    for _ in 0..150 {
        let mut v = chars.clone();
        for _ in 0..1 + next() % 3 {
            let at = next() % v.len();
            if next() % 2 == 0 {
                let n = (1 + next() % 6).min(v.len() - at);
                v.drain(at..at + n);
            } else {
                let ins: Vec<char> = noise[next() % noise.len()].chars().collect();
                v.splice(at..at, ins);
            }
        }
        let edited: String = v.into_iter().collect();
        let _ = promql::rules::unittest::run_test_str(&edited, &dir, "edited.yml");
    }
}

#[test]
fn recorded_histograms_survive_a_reopen_of_the_tsdb_directory() {
    let dir = std::env::temp_dir().join(format!("rules-hist-wal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let t = 5 * M;
    let want = {
        let mut db = tsdb::Db::open_path(&dir, tsdb::DbOptions::default()).unwrap();
        let mut app = db.appender();
        load(|l, t, h| {
            app.append_float_histogram(l, t, &h).unwrap();
        });
        app.commit().unwrap();
        let r = group(RECORD).eval(t, &mut TsdbRuleStorage::new(&mut db));
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        only_histogram(&vector(&db, "job:http_duration_seconds:rate5m", t))
    };
    // The rule's output was committed through the WAL: a fresh open replays it.
    let db = tsdb::Db::open_path(&dir, tsdb::DbOptions::default()).unwrap();
    let got = only_histogram(&vector(&db, "job:http_duration_seconds:rate5m", t));
    assert!(got.equals(&want), "{got} vs {want}");
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}
