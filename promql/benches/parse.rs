//! Parse speed on two corpora, beside the `promql-parser` crate:
//! - `peer`: every `eval` expression of `$PEER_TESTS/promql/*.test` that *both* parsers accept
//!   (skipped when `PEER_TESTS` is unset);
//! - `dashboard`: the long queries in `testdata/parse_dashboard.txt`.
//!
//! `promql` parses each query from scratch; `promql (QueryParser, ...)` reuses one
//! [`promql::QueryParser`], whose cache skips recompiling regex matchers it has seen.
//!
//! Run: `PEER_TESTS=/work/shared/peer-tests cargo bench -p promql --bench parse -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use promql::{parse_with, ParseOptions};
use std::hint::black_box;

fn peer_expressions() -> Vec<String> {
    let Ok(root) = std::env::var("PEER_TESTS") else {
        return Vec::new();
    };
    let dir = std::path::Path::new(&root).join("promql");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == "test"));
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for line in text.lines().map(str::trim) {
            let words: Vec<&str> = line.split_whitespace().collect();
            if !words
                .first()
                .is_some_and(|w| w.to_ascii_lowercase().starts_with("eval"))
            {
                continue;
            }
            let skip = match words.get(1) {
                Some(&"instant") => 4,
                Some(&"range") => 8,
                _ => continue,
            };
            let mut rest = line;
            for _ in 0..skip {
                rest = rest.trim_start();
                rest = &rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..];
            }
            out.push(rest.trim().to_string());
        }
    }
    out
}

fn dashboard_expressions() -> Vec<String> {
    include_str!("../testdata/parse_dashboard.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn bench_corpus(c: &mut Criterion, name: &str, all: Vec<String>) {
    let ours = all
        .iter()
        .filter(|e| parse_with(e, ParseOptions::all()).is_ok())
        .count();
    let theirs = all
        .iter()
        .filter(|e| promql_parser::parser::parse(e).is_ok())
        .count();
    let both: Vec<String> = all
        .into_iter()
        .filter(|e| {
            parse_with(e, ParseOptions::all()).is_ok() && promql_parser::parser::parse(e).is_ok()
        })
        .collect();
    let total = both.len();
    eprintln!(
        "{name}: promql accepts {ours}, promql-parser accepts {theirs}; benchmarking the {total} both accept"
    );
    if both.is_empty() {
        return;
    }
    let bytes: usize = both.iter().map(String::len).sum();
    let mut g = c.benchmark_group(format!("parse/{name}"));
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("promql", |b| {
        b.iter(|| {
            for e in &both {
                black_box(parse_with(black_box(e), ParseOptions::all()).is_ok());
            }
        })
    });
    let mut reused = promql::QueryParser::new(ParseOptions::all());
    g.bench_function("promql (QueryParser, warm regex cache)", |b| {
        b.iter(|| {
            for e in &both {
                black_box(reused.parse(black_box(e)).is_ok());
            }
        })
    });
    g.bench_function("promql-parser", |b| {
        b.iter(|| {
            for e in &both {
                black_box(promql_parser::parser::parse(black_box(e)).is_ok());
            }
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_corpus(c, "peer", peer_expressions());
    bench_corpus(c, "dashboard", dashboard_expressions());
}

criterion_group!(parse_benches, benches);
criterion_main!(parse_benches);
