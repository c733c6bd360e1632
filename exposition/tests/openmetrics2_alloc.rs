//! The zero-copy claim for OpenMetrics 2.0, measured: parsing number samples allocates
//! nothing per sample. A counting global allocator watches a parse of 20,000 samples
//! (labels, timestamps, start timestamps, no escapes) and allows only the validator's
//! bookkeeping (set growth, not churn).

use std::alloc::System;

use exposition::openmetrics2::{Entry, OpenMetrics2Parser};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn input() -> String {
    let mut s = String::new();
    for f in 0..20 {
        s.push_str(&format!(
            "# TYPE fam{f}_total counter\n# HELP fam{f}_total Family {f}.\n"
        ));
        for i in 0..1000 {
            s.push_str(&format!(
                "fam{f}_total{{instance=\"host-{i}:9100\",job=\"node\",mode=\"idle\"}} {i}.5 1700000000.123 st@1690000000.5\n"
            ));
        }
    }
    s.push_str("# EOF\n");
    s
}

/// Samples parsed, with every label pair decoded on the way.
fn drain(p: OpenMetrics2Parser<'_>) -> usize {
    p.filter_map(|e| match e.expect("valid") {
        Entry::Sample(s) => Some(s),
        _ => None,
    })
    .inspect(|s| {
        s.labels
            .iter()
            .for_each(|kv| drop(std::hint::black_box(kv)))
    })
    .count()
}

// One test function: the counter is global, so nothing may run beside it.
#[test]
fn parsing_does_not_allocate_per_sample() {
    let text = input();
    for (strict, limit) in [(true, 50), (false, 5)] {
        let region = Region::new(GLOBAL);
        let n = if strict {
            drain(OpenMetrics2Parser::new(text.as_bytes()))
        } else {
            drain(OpenMetrics2Parser::lenient(text.as_bytes()))
        };
        let allocs = region.change().allocations;
        assert_eq!(n, 20_000);
        println!("openmetrics2 strict={strict}: {allocs} allocations for {n} samples");
        assert!(
            allocs < limit,
            "{allocs} allocations for {n} samples (strict={strict})"
        );
    }
}
