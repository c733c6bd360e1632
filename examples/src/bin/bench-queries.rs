//! `bench-queries [--scale N]`: times a fixed list of range queries over Prometheus's
//! `BenchmarkRangeQuery` data set (stored in a tsdb head, queried through the PromQL
//! engine) at 1, 100 and 1000 steps, and prints a table.

use std::time::{Duration, Instant};

use clap::Parser;
use examples::bench::{self, INTERVAL_MS};
use promql::engine::Engine;

/// Times range queries over a deterministic data set.
#[derive(Parser, Debug)]
#[command(name = "bench-queries")]
struct Args {
    /// Data size: the number of 10 s intervals is 10 000 x N / 10 (N=10 matches upstream).
    #[arg(long, default_value_t = 10)]
    scale: u32,
    /// Only queries containing this text.
    #[arg(long)]
    filter: Option<String>,
    /// Time budget per cell (ms); each cell runs at least 3 times.
    #[arg(long, default_value_t = 300)]
    budget_ms: u64,
}

fn fmt_dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.1} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

fn main() {
    let args = Args::parse();
    let intervals = (bench::BASE_INTERVALS * i64::from(args.scale.max(1)) / 10).max(1_000);
    let t0 = Instant::now();
    let db = bench::build(intervals);
    let series = db.head().num_series();
    println!(
        "bench-queries: {} series x {} samples ({:.1} M samples) loaded in {:.2} s",
        series,
        intervals,
        (series as f64 * intervals as f64) / 1e6,
        t0.elapsed().as_secs_f64()
    );
    let engine = Engine::default();
    let end = (intervals - 1) * INTERVAL_MS;
    println!(
        "{:<58} {:>12} {:>12} {:>12}",
        "query", "1 step", "100 steps", "1000 steps"
    );
    let mut reference: Vec<(String, Duration)> = Vec::new();
    for template in bench::QUERIES {
        for x in ["one", "ten", "hundred"] {
            let q = template.replace('X', x);
            if args.filter.as_deref().is_some_and(|f| !q.contains(f)) {
                continue;
            }
            let expr = match promql::parse(&q) {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("{q}: {e}");
                    continue;
                }
            };
            let mut cells = Vec::new();
            for steps in [1i64, 100, 1000] {
                let start = end - (steps - 1) * INTERVAL_MS;
                let budget = Duration::from_millis(args.budget_ms);
                let mut best = Duration::MAX;
                let began = Instant::now();
                let mut runs = 0;
                while runs < 3 || (began.elapsed() < budget && runs < 1000) {
                    let t = Instant::now();
                    let r = engine.range_query(&db, &expr, start, end, INTERVAL_MS);
                    let d = t.elapsed();
                    if let Err(e) = r {
                        eprintln!("{q}: {e}");
                        break;
                    }
                    std::hint::black_box(&r);
                    best = best.min(d);
                    runs += 1;
                }
                if steps == 1000 {
                    reference.push((q.clone(), best));
                }
                cells.push(fmt_dur(best));
            }
            println!(
                "{:<58} {:>12} {:>12} {:>12}",
                q, cells[0], cells[1], cells[2]
            );
        }
    }
    // Figures of Prometheus 2.42 on a 2 vCPU machine (shared/bench/README.md).
    let go = [
        ("a_one", 58e-6),
        ("histogram_quantile(0.9, rate(h_hundred[5m]))", 0.296),
    ];
    for (q, secs) in go {
        if let Some((_, d)) = reference.iter().find(|(r, _)| r == q) {
            println!(
                "vs Prometheus (Go) {q} @1000 steps: {} vs {} -> ratio {:.2}x (lower is faster)",
                fmt_dur(*d),
                fmt_dur(Duration::from_secs_f64(secs)),
                d.as_secs_f64() / secs
            );
        }
    }
}
