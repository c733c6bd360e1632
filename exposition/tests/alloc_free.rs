//! The zero-copy claim, measured: parsing samples allocates nothing per sample. A counting
//! global allocator watches a parse of 20,000 samples (labels, timestamps, no escapes) and
//! allows only the parsers' per-family bookkeeping (a few set resizes).

use std::alloc::System;

use exposition::openmetrics::OpenMetricsParser;
use exposition::text::TextParser;
use exposition::Entry;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn input(openmetrics: bool) -> String {
    let mut s = String::new();
    for f in 0..20 {
        s.push_str(&format!("# HELP fam{f} Family {f}.\n# TYPE fam{f} gauge\n"));
        for i in 0..1000 {
            let ts = if openmetrics {
                "1700000000.123"
            } else {
                "1700000000123"
            };
            s.push_str(&format!(
                "fam{f}{{instance=\"host-{i}:9100\",job=\"node\",mode=\"idle\"}} {i}.5 {ts}\n"
            ));
        }
    }
    if openmetrics {
        s.push_str("# EOF\n");
    }
    s
}

fn allocations(f: impl FnOnce() -> usize) -> (usize, usize) {
    let region = Region::new(GLOBAL);
    let n = f();
    (region.change().allocations, n)
}

fn drain<'a>(it: impl Iterator<Item = Result<Entry<'a>, exposition::ParseError>>) -> usize {
    let mut n = 0;
    for e in it {
        if let Entry::Sample(s) = e.expect("valid") {
            for (k, v) in s.labels.iter() {
                std::hint::black_box((k, v));
            }
            n += 1;
        }
    }
    n
}

// One test function: the counter is global, so nothing may run beside it.
#[test]
fn parsing_does_not_allocate_per_sample() {
    text_parse();
    openmetrics_parse();
}

fn text_parse() {
    let text = input(false);
    let (allocs, n) = allocations(|| drain(TextParser::new(text.as_bytes())));
    assert_eq!(n, 20_000);
    println!("text: {allocs} allocations for {n} samples");
    assert!(allocs < 50, "{allocs} allocations for {n} samples");
}

fn openmetrics_parse() {
    let om = input(true);
    let (allocs, n) = allocations(|| drain(OpenMetricsParser::new(om.as_bytes())));
    assert_eq!(n, 20_000);
    // Strict mode keeps sets of family names and label groups; they grow, they do not churn.
    println!("openmetrics strict: {allocs} allocations for {n} samples");
    assert!(allocs < 100, "{allocs} allocations for {n} samples");
    let (allocs, _) = allocations(|| drain(OpenMetricsParser::lenient(om.as_bytes())));
    assert!(
        allocs < 50,
        "{allocs} allocations for {n} samples (lenient)"
    );
}
