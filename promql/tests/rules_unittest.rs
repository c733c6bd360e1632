//! Runs the `promtool test rules` files in `testdata/rules/` (each also passes the real
//! promtool, except those in `native_histograms/`: histogram notation in input series and
//! `histogram:` expectations came after promtool 2.42, the peer available here) and checks
//! the failure report format against promtool's.

use promql::rules::unittest::{run_test_file, run_test_str};
use std::path::{Path, PathBuf};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/rules")
}

#[test]
fn checked_in_rule_tests_pass() {
    let files = testkit::files_sorted(&testdata(), |p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with("_test.yml"))
    });
    assert!(
        files.len() >= 3,
        "expected rule test files, found {files:?}"
    );
    for f in files {
        let r = run_test_file(&f);
        assert!(r.passed(), "{}:\n{}", r.path, r.failures.join("\n"));
    }
}

#[test]
fn checked_in_rule_files_load() {
    let files = testkit::files_sorted(&testdata(), |p| {
        let n = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        n.ends_with(".yml") && !n.ends_with("_test.yml") && !n.starts_with("bad_")
    });
    for f in files {
        promql::rules::load_file(&f.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
    }
}

const FAILING: &str = r#"
rule_files: [alerts.yml]
tests:
  - interval: 1m
    name: wrong expectations
    input_series:
      - series: 'up{job="db", instance="db-1:9100"}'
        values: '0 0 0 0'
    alert_rule_test:
      - eval_time: 3m
        alertname: InstanceDown
        exp_alerts: []
    promql_expr_test:
      - expr: up
        eval_time: 1m
        exp_samples:
          - labels: 'up{job="db"}'
            value: 2
"#;

#[test]
fn failures_are_reported_like_promtool() {
    let f = run_test_str(FAILING, &testdata(), "failing.yml").unwrap();
    assert_eq!(f.len(), 2, "{f:#?}");
    assert_eq!(
        f[0],
        "    name: wrong expectations,\n    alertname: InstanceDown, time: 3m, \n        exp:[], \n        got:[\n            0:\n              Labels:{alertname=\"InstanceDown\", instance=\"db-1:9100\", job=\"db\", severity=\"page\", team=\"DB\"}\n              Annotations:{description=\"A backend is degraded ()\", host=\"db-1\", summary=\"Instance db-1:9100 of job db is down\"}\n            ]"
    );
    assert_eq!(
        f[1],
        "    expr: \"up\", time: 1m,\n        exp: {__name__=\"up\", job=\"db\"} 2E+00\n        got: {__name__=\"up\", instance=\"db-1:9100\", job=\"db\"} 0E+00"
    );
}

#[test]
fn missing_rule_file_and_bad_yaml_are_errors() {
    let e = run_test_str("rule_files: [nope.yml]\ntests: []\n", &testdata(), "t.yml").unwrap_err();
    assert!(e.to_string().contains("nope.yml"), "{e}");
    let e = run_test_str(
        "rule_files: [alerts.yml]\ntestz: []\n",
        &testdata(),
        "t.yml",
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("t.yml:2:"), "{e}");
    let e = run_test_str(
        "group_eval_order: [a, a]\ntests: []\n",
        &testdata(),
        "t.yml",
    )
    .unwrap_err();
    assert!(e.to_string().contains("group name repeated"), "{e}");
}

#[test]
fn numeric_eval_times_and_default_interval() {
    // `eval_time: 0` is a YAML integer; a test group without `interval` uses the
    // evaluation interval (here 30s) for its input series.
    let t = r#"
rule_files: [recording.yml]
evaluation_interval: 30s
tests:
  - input_series:
      - series: 'requests_total{job="api", instance="a:80"}'
        values: '0+30x10'
    promql_expr_test:
      - expr: timestamp(requests_total)
        eval_time: 0
        exp_samples:
          - labels: '{job="api", instance="a:80"}'
            value: 0
      - expr: timestamp(requests_total)
        eval_time: 1m
        exp_samples:
          - labels: '{job="api", instance="a:80"}'
            value: 60
      - expr: round(job:requests:rate2m * 1000)
        eval_time: 5m
        exp_samples:
          - labels: '{job="api", source="recorded"}'
            value: 1000
"#;
    let f = run_test_str(t, &testdata(), "t.yml").unwrap();
    assert!(f.is_empty(), "{f:#?}");
}

const HIST_FAILING: &str = r#"
rule_files: [native_histograms/histograms.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'http_duration_seconds{job="api", instance="a"}'
        values: '{{schema:0 sum:0 count:0 buckets:[0 0 0]}}+{{schema:0 sum:6 count:4 buckets:[1 2 1]}}x5'
      - series: 'plain{job="api"}'
        values: '3x5'
    promql_expr_test:
      - expr: job:http_duration_seconds:rate2m
        eval_time: 3m
        exp_samples:
          - labels: 'job:http_duration_seconds:rate2m{job="api"}'
            histogram: '{{sum:0.1 count:0.06666666666666667 buckets:[0.016666666666666666 0.03333333333333333 0.016666666666666666]}}'
      - expr: http_duration_seconds
        eval_time: 1m
        exp_samples:
          - labels: 'http_duration_seconds{job="api", instance="a"}'
            value: 4
      - expr: plain
        eval_time: 1m
        exp_samples:
          - labels: 'plain{job="api"}'
            histogram: '{{count:3}}'
      - expr: plain
        eval_time: 1m
        exp_samples:
          - labels: 'plain{job="api"}'
            histogram: '3'
      - expr: plain
        eval_time: 1m
        exp_samples:
          - labels: 'plain{job="api"}'
            histogram: '{{count:1}} {{count:2}}'
"#;

#[test]
fn native_histogram_failures_are_reported_like_promtool() {
    let f = run_test_str(HIST_FAILING, &testdata(), "failing.yml").unwrap();
    assert_eq!(f.len(), 5, "{f:#?}");
    // The hint differs: rate() returns gauge histograms, and promtool compares the notation
    // with the hint.
    assert_eq!(
        f[0],
        "    expr: \"job:http_duration_seconds:rate2m\", time: 3m,\n        exp: {__name__=\"job:http_duration_seconds:rate2m\", job=\"api\"} {{count:0.06666666666666667 sum:0.1 buckets:[0.016666666666666666 0.03333333333333333 0.016666666666666666]}}\n        got: {__name__=\"job:http_duration_seconds:rate2m\", job=\"api\"} {{count:0.06666666666666667 sum:0.1 counter_reset_hint:gauge buckets:[0.016666666666666666 0.03333333333333333 0.016666666666666666]}}"
    );
    // A float expected where a histogram came back.
    assert_eq!(
        f[1],
        "    expr: \"http_duration_seconds\", time: 1m,\n        exp: {__name__=\"http_duration_seconds\", instance=\"a\", job=\"api\"} 4E+00\n        got: {__name__=\"http_duration_seconds\", instance=\"a\", job=\"api\"} {{count:4 sum:6 counter_reset_hint:not_reset buckets:[1 2 1]}}"
    );
    // A histogram expected where a float came back.
    assert_eq!(
        f[2],
        "    expr: \"plain\", time: 1m,\n        exp: {__name__=\"plain\", job=\"api\"} {{count:3}}\n        got: {__name__=\"plain\", job=\"api\"} 3E+00"
    );
    // `histogram:` must hold exactly one histogram.
    assert_eq!(
        f[3],
        "    expr: \"plain\", time: 1m, err: labels \"plain{job=\\\"api\\\"}\": expected histogram, got 3"
    );
    assert_eq!(
        f[4],
        "    expr: \"plain\", time: 1m, err: labels \"plain{job=\\\"api\\\"}\": expected 1 value, got 2"
    );
}

#[test]
fn checked_in_histogram_tests_fail_when_expectations_change() {
    // The passing file turned into a failing one by changing one bucket: proves the
    // histogram comparison is not vacuous.
    let path = testdata().join("native_histograms/histograms_test.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text.replacen("buckets:[2 4 2]", "buckets:[2 4 3]", 1);
    assert_ne!(text, broken);
    let f = run_test_str(&broken, &testdata().join("native_histograms"), "b.yml").unwrap();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].contains("got: {__name__=\"http_duration_seconds\", instance=\"a\", job=\"api\"} {{count:8 sum:12 counter_reset_hint:not_reset buckets:[2 4 2]}}"), "{}", f[0]);
}
