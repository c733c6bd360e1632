//! Robustness sweep: every eval expression of the peer suite (when `PEER_TESTS` is set)
//! is also run as range queries with unusual parameters over its file's data. Results
//! are not checked; the engine must return `Ok` or `Err`, never panic.

use promql::engine::Engine;
use promql::promqltest::script::{parse_script, Command, SeriesValue};
use promql::storage::MemStorage;
use promql::value::stale_nan;
use promql::{parse_with, ParseOptions};
use std::panic::{catch_unwind, AssertUnwindSafe};

#[test]
fn peer_expressions_never_panic() {
    let Some(base) = std::env::var_os("PEER_TESTS") else {
        println!("engine_robustness: skipped (PEER_TESTS unset)");
        return;
    };
    let dir = std::path::Path::new(&base).join("promql");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut files: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.retain(|p| p.extension().is_some_and(|x| x == "test"));
    files.sort();
    let engine = Engine::default();
    let mut panics = Vec::new();
    let mut runs = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let Ok(cmds) = parse_script(&text) else {
            continue;
        };
        let mut st = MemStorage::new();
        for c in cmds {
            match c {
                Command::Clear { .. } => st = MemStorage::new(),
                Command::Load(l) => {
                    for s in &l.series {
                        for (k, v) in s.values.iter().enumerate() {
                            let f = match v {
                                SeriesValue::Float(f) => *f,
                                SeriesValue::Stale => stale_nan(),
                                _ => continue,
                            };
                            let _ = st.append(&s.labels, k as i64 * l.interval, f);
                        }
                    }
                }
                Command::Eval(e) => {
                    let Ok(expr) = parse_with(&e.expr, ParseOptions::all()) else {
                        continue;
                    };
                    for (start, end, step) in [
                        (-3_600_000, 3_600_000, 7_000),
                        (0, 0, 1),
                        (123, 98_765, 33_333),
                    ] {
                        runs += 1;
                        let r = catch_unwind(AssertUnwindSafe(|| {
                            let _ = engine.range_query(&st, &expr, start, end, step);
                            let _ = engine.instant_query(&st, &expr, end);
                        }));
                        if r.is_err() {
                            panics.push(format!("{}:{} {}", f.display(), e.line, e.expr));
                        }
                    }
                }
            }
        }
    }
    assert!(
        panics.is_empty(),
        "{} panics:\n{}",
        panics.len(),
        panics.join("\n")
    );
    println!("engine_robustness: {runs} runs without a panic");
}
