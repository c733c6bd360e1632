//! Runs our own promqltest scripts (`promql/testdata/*.test`): every eval must pass and
//! none may be skipped.

use promql::engine::Engine;
use promql::promqltest::{run_script, EvalOutcome, RunOptions};

#[test]
fn own_scripts_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("testdata dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "expected our .test scripts in {}",
        dir.display()
    );
    let engine = Engine::default();
    let mut problems = Vec::new();
    let mut passed = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        run_script(&text, &engine, &RunOptions::default(), |e, o| match o {
            EvalOutcome::Pass => passed += 1,
            other => problems.push(format!("{}:{} {}: {other:?}", f.display(), e.line, e.expr)),
        })
        .unwrap_or_else(|err| panic!("{}: {err}", f.display()));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(passed >= 40, "only {passed} evals ran");
}
