//! Runs Prometheus's own PromQL script tests (`$PEER_TESTS/promql/*.test`) against our
//! engine, configured like upstream's test engine. Evals that need a feature we do not
//! implement (native histograms, start timestamps) are skipped by the runner's own
//! detection (histogram samples loaded under the names the query uses, `{{...}}` in the
//! expected output, native-only functions, `@st` data), which is finer than the regex
//! flags of `eval-index.tsv` (those flag, for instance, every `histogram_fraction` call,
//! although classic `le` buckets work). The index still gives the "core set" figure:
//! evals with none of its feature flags. Case ids are `<file>:<line of the eval>`.

use promql::engine::Engine;
use promql::promqltest::{run_script, EvalOutcome, RunOptions};
use std::collections::HashMap;
use testkit::{files_sorted, Outcome, Suite};

/// The flags of the "core" set (evals needing no feature flag at all).
const FEATURE_FLAGS: [&str; 7] = [
    "native_histogram",
    "experimental_fn",
    "extended_range",
    "fill_modifier",
    "duration_expr",
    "start_timestamps",
    "type_unit_labels",
];

#[test]
fn peer_promql() {
    let Some(suite) = Suite::open("promqltest", "promql") else {
        return;
    };
    let mut suite = suite.known_failures(include_str!("known_failures_promql.txt"));
    let index = std::fs::read_to_string(suite.root().join("eval-index.tsv")).unwrap_or_default();
    let mut flags: HashMap<(String, usize), Vec<String>> = HashMap::new();
    for row in index.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.len() < 5 {
            continue;
        }
        if let Ok(line) = cols[1].parse::<usize>() {
            let f = cols[4].split(',').map(|s| s.trim().to_string()).collect();
            flags.insert((cols[0].to_string(), line), f);
        }
    }
    let engine = Engine::default();
    let files = files_sorted(suite.root(), |p| p.extension().is_some_and(|e| e == "test"));
    let mut per_file: Vec<(String, usize, usize, usize)> = Vec::new();
    // (core evals run, core evals passed)
    let mut core = (0usize, 0usize);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).expect("read test file");
        let opts = RunOptions::default();
        let mut counts = (0, 0, 0);
        let mut outcomes = Vec::new();
        let res = run_script(&text, &engine, &opts, |e, o| outcomes.push((e.line, o)));
        if let Err(err) = res {
            suite.record(&format!("{name}:parse"), Outcome::Fail(err.to_string()));
            continue;
        }
        for (line, o) in outcomes {
            let id = format!("{name}:{line}");
            if !suite.selected(&id) {
                continue;
            }
            let is_core = flags
                .get(&(name.clone(), line))
                .is_some_and(|f| !f.iter().any(|x| FEATURE_FLAGS.contains(&x.as_str())));
            if is_core {
                core.0 += 1;
                if o == EvalOutcome::Pass {
                    core.1 += 1;
                }
            }
            let o = match o {
                EvalOutcome::Pass => {
                    counts.0 += 1;
                    Outcome::Pass
                }
                EvalOutcome::Fail(m) => {
                    counts.1 += 1;
                    Outcome::Fail(m)
                }
                EvalOutcome::Skip(m) => {
                    counts.2 += 1;
                    Outcome::Skip(m)
                }
            };
            suite.record(&id, o);
        }
        per_file.push((name, counts.0, counts.1, counts.2));
    }
    for (name, p, f, s) in &per_file {
        println!("  {name}: {p} passed, {f} failed, {s} skipped");
    }
    println!(
        "  core set (no feature flag): {} of {} passed",
        core.1, core.0
    );
    suite.finish();
}
