//! Runs the `promtool test rules` files in `testdata/rules/` (each also passes the real
//! promtool) and checks the failure report format against promtool's.

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
