//! Peer suite `promql-parse`: every expression after `eval` in Prometheus's own
//! `promqltest/testdata/*.test` scripts must parse (with all experimental syntax enabled, as
//! the upstream test engine has), and must print back to text that parses to the same tree.
//! Evals that expect failure must be rejected by the parser, unless they are listed in
//! `testdata/parse_runtime_failures.txt` (queries that parse and fail only when evaluated).
//! The multi-line `pretty` form must parse to the same tree too.

use promql::printer::{pretty, print};
use promql::{parse_with, ParseOptions};
use std::path::Path;
use testkit::{files_sorted, Outcome, Suite};

const RUNTIME_FAILURES: &str = include_str!("../testdata/parse_runtime_failures.txt");

struct Eval {
    line: usize,
    expr: String,
    expect_fail: bool,
}

/// Extracts the evals of one script (see SOURCE.md §1 and §8 for the grammar).
fn evals(text: &str) -> Vec<Eval> {
    let lines: Vec<&str> = text.split('\n').map(str::trim).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let first = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if first.starts_with("eval") {
            let words: Vec<&str> = line.split_whitespace().collect();
            let skip = match words.get(1) {
                Some(&"instant") => 4,
                Some(&"range") => 8,
                _ => panic!("bad eval header at line {}: {line}", i + 1),
            };
            // The expression is the rest of the line after `skip` words.
            let mut rest = line;
            for _ in 0..skip {
                rest = rest.trim_start();
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                rest = &rest[end..];
            }
            let mut expect_fail = first == "eval_fail";
            let mut j = i + 1;
            while j < lines.len() && !lines[j].is_empty() && !lines[j].starts_with('#') {
                let mut w = lines[j].split_whitespace();
                if w.next() == Some("expect") && w.next() == Some("fail") {
                    expect_fail = true;
                }
                j += 1;
            }
            out.push(Eval {
                line: i + 1,
                expr: rest.trim().to_string(),
                expect_fail,
            });
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn check(expr: &str, expect_fail: bool, runtime_failure: bool) -> Outcome {
    let parsed = parse_with(expr, ParseOptions::all());
    match (parsed, expect_fail) {
        (Ok(e), false) | (Ok(e), true) if !expect_fail || runtime_failure => {
            let printed = print(&e);
            match parse_with(&printed, ParseOptions::all()) {
                Ok(again) if again.same_as(&e) => {
                    let multi = pretty(&e);
                    match parse_with(&multi, ParseOptions::all()) {
                        Ok(m) if m.same_as(&e) => Outcome::Pass,
                        _ => Outcome::Fail(format!("pretty form changed the tree:\n{multi}")),
                    }
                }
                Ok(_) => Outcome::Fail(format!("round trip changed the tree: {printed}")),
                Err(err) => {
                    Outcome::Fail(format!("printed form {printed:?} does not parse: {err}"))
                }
            }
        }
        (Ok(_), _) => Outcome::Fail("expected a parse error, but it parsed".to_string()),
        (Err(_), true) if !runtime_failure => Outcome::Pass,
        (Err(err), _) => Outcome::Fail(format!("{err}\n{}", err.render(expr))),
    }
}

#[test]
fn peer_promql_parse() {
    let Some(suite) = Suite::open("promql-parse", "promql") else {
        return;
    };
    let mut suite = suite.known_failures(include_str!("peer_promql_parse.known"));
    let runtime: Vec<&str> = RUNTIME_FAILURES
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    let files = files_sorted(suite.root(), |p: &Path| {
        p.extension().is_some_and(|e| e == "test")
    });
    assert!(
        !files.is_empty(),
        "no .test files under {}",
        suite.root().display()
    );
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        for ev in evals(&text) {
            let id = format!("{name}:{}", ev.line);
            let runtime_failure = runtime.contains(&id.as_str());
            suite.case(&id, || check(&ev.expr, ev.expect_fail, runtime_failure));
        }
    }
    suite.finish();
}

/// How many peer expressions the stable (default) options accept; the rest use experimental
/// syntax. Printed for the record; asserts only that the stable language covers most of them.
#[test]
fn peer_promql_parse_default_options() {
    let Ok(root) = std::env::var("PEER_TESTS") else {
        return;
    };
    let dir = Path::new(&root).join("promql");
    let (mut ok, mut total) = (0, 0);
    for file in files_sorted(&dir, |p: &Path| p.extension().is_some_and(|e| e == "test")) {
        for ev in evals(&std::fs::read_to_string(&file).unwrap()) {
            if ev.expect_fail {
                continue;
            }
            total += 1;
            ok += usize::from(promql::parse(&ev.expr).is_ok());
        }
    }
    println!("promql-parse (default options): {ok} of {total} expressions parse");
    assert!(ok * 10 >= total * 8, "{ok} of {total}");
}
