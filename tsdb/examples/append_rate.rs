//! Fixed-work append run for measuring throughput with `perf stat` on a busy machine:
//! 10 000 series, 2 000 commits of one sample each, by ref, head only and with an
//! in-memory WAL. Prints wall-clock rates; divide the sample count by the task-clock
//! seconds `perf stat` reports for the CPU-time rate.
//!
//! `cargo run --release -p tsdb --example append_rate [head|wal]`

use std::time::Instant;

use exposition::Labels;
use tsdb::{Db, DbOptions, HeadOptions, MemDir, SyncPolicy, WalOptions};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "head".into());
    let series = 10_000;
    let commits = 2_000i64;
    let labels: Vec<Labels> = (0..series)
        .map(|i| {
            Labels::from_pairs(&[
                ("__name__", format!("metric_{}", i % 100).as_str()),
                ("instance", format!("host-{}", i / 100).as_str()),
                ("job", "node"),
            ])
        })
        .collect();
    let mut db = match mode.as_str() {
        "wal" => {
            let opts = DbOptions {
                wal: WalOptions {
                    sync: SyncPolicy::Manual,
                    segment_size: 8 << 20,
                    ..WalOptions::default()
                },
                ..DbOptions::default()
            };
            Db::open(Box::new(MemDir::new()), opts).expect("open")
        }
        _ => Db::in_memory(HeadOptions::default()),
    };
    let mut app = db.appender();
    let refs: Vec<_> = labels
        .iter()
        .map(|l| app.append(l, 0, 0.0).expect("append"))
        .collect();
    app.commit().expect("commit");
    let start = Instant::now();
    for k in 1..=commits {
        let t = k * 15_000;
        let mut app = db.appender();
        for (i, &r) in refs.iter().enumerate() {
            app.append_ref(r, t, (k * 3 + i as i64 % 7) as f64)
                .expect("append");
        }
        app.commit().expect("commit");
    }
    let secs = start.elapsed().as_secs_f64();
    let n = series as f64 * commits as f64;
    println!(
        "{mode}: {n} samples in {secs:.3} s wall: {:.2} M samples/s",
        n / secs / 1e6
    );
}
