//! The `rules` program: `check` and `test` behave like `promtool check rules` /
//! `promtool test rules` (output, stderr for failures, exit status).

use std::path::{Path, PathBuf};
use std::process::Command;

fn testdata(f: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../promql/testdata/rules")
        .join(f)
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rules"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_counts_rules_and_reports_problems() {
    let good = testdata("recording.yml");
    let bad = testdata("bad_rules.yml");
    let (code, out, err) = run(&["check", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("Checking {}\n  SUCCESS: 4 rules found\n\n", good.display())
    );
    let (code, out, err) = run(&["check", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("SUCCESS: 4 rules found"), "{out}");
    let b = bad.display();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "  FAILED:");
    assert_eq!(
        lines[1],
        format!("{b}: 5: group \"broken\", rule 1, \"AlsoAnAlert\": only one of 'record' and 'alert' must be set")
    );
    assert!(lines[2].starts_with(&format!("{b}: 9: group \"broken\", rule 2, \"Unparsable\": could not parse expression: 1:16: parse error")), "{err}");
    assert_eq!(
        lines[4],
        format!("{b}: 12: group \"broken\", rule 4, \"BadTemplate\": annotation \"summary\": template: __alert_BadTemplate:1: function \"humanise\" not defined")
    );
    assert_eq!(
        lines[6],
        format!("{b}: 20: groupname: \"broken\" is repeated in the same file")
    );
    assert_eq!(lines.len(), 7, "{err}");
}

#[test]
fn test_passes_checked_in_files_and_fails_wrong_expectations() {
    let a = testdata("alerts_test.yml");
    let r = testdata("recording_test.yml");
    let (code, out, err) = run(&["test", a.to_str().unwrap(), r.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        format!(
            "Unit Testing:  {}\n  SUCCESS\n\nUnit Testing:  {}\n  SUCCESS\n\n",
            a.display(),
            r.display()
        )
    );
    let dir = std::env::temp_dir().join(format!("rules-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t = dir.join("t.yml");
    std::fs::write(
        &t,
        format!(
            "rule_files: [{}]\ntests:\n- interval: 1m\n  input_series:\n  - series: up{{job=\"x\", instance=\"h:1\"}}\n    values: 1 1 1\n  promql_expr_test:\n  - expr: up\n    eval_time: 2m\n    exp_samples: []\n",
            testdata("alerts.yml").display()
        ),
    )
    .unwrap();
    let (code, out, err) = run(&["test", t.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(out, format!("Unit Testing:  {}\n\n\n", t.display()));
    assert_eq!(
        err,
        "  FAILED:\n    expr: \"up\", time: 2m,\n        exp: nil\n        got: {__name__=\"up\", instance=\"h:1\", job=\"x\"} 1E+00\n"
    );
    std::fs::remove_dir_all(&dir).ok();
    // Usage errors exit non-zero too.
    assert_ne!(run(&["test"]).0, 0);
}
