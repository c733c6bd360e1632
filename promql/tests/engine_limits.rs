//! Limits that keep one bad query from taking the process down.
//!
//! Known-expensive queries (`count_values` over a high-cardinality set, a 1 s step over a
//! year, deeply nested subqueries, `topk` over many series, wide binary operations) run
//! under tight limits and must fail fast with the right error. "Fast" is pinned without
//! wall-clock timing: a cancellation callback counts its calls and trips after N of them,
//! and a counting global allocator (per thread, so parallel tests do not mix) measures the
//! peak bytes allocated while the query runs, which must stay well below what the same
//! query uses unlimited (or below a fixed bound when the unlimited query is too big to run).

use exposition::Labels;
use promql::engine::{Engine, EngineError, EngineOptions, QueryContext};
use promql::storage::MemStorage;
use promql::value::Value;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the bytes allocated by the current thread, and their peak.
struct Counting;

thread_local! {
    static CUR: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    // `try_with`: the thread-locals may be gone while a thread is torn down.
    let _ = CUR.try_with(|c| {
        let v = c.get() + delta;
        c.set(v);
        let _ = PEAK.try_with(|p| {
            if v > p.get() {
                p.set(v);
            }
        });
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator, which upholds the
// `GlobalAlloc` contract; the bookkeeping only touches const-initialised thread-locals
// (which never allocate) and never unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: same layout contract as the caller's.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            note(l.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: `p` was allocated by `System` with layout `l` (see `alloc`).
        unsafe { System.dealloc(p, l) };
        note(-(l.size() as isize));
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: `p` was allocated by `System` with layout `l`.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            note(new as isize - l.size() as isize);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its result plus the peak bytes it had allocated at once.
fn peak_bytes<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CUR.with(|c| c.get());
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(|p| p.get());
    (out, (peak - base).max(0) as usize)
}

const MIB: usize = 1 << 20;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

fn engine(max_samples: usize) -> Engine {
    let mut o = EngineOptions::default();
    o.max_samples = max_samples;
    Engine::new(o)
}

/// `n` series `m{i="k"}`, each with `steps` samples one minute apart; every sample has a
/// distinct value.
fn wide(n: usize, steps: i64) -> MemStorage {
    let mut db = MemStorage::new();
    for k in 0..n {
        let l = Labels::from_pairs(&[("__name__", "m"), ("i", &k.to_string())]);
        db.append_series(
            &l,
            (0..steps).map(|s| (s * MIN, (k as i64 * 1_000 + s) as f64)),
        )
        .unwrap();
    }
    db
}

/// One series `m` with one sample an hour for a year.
fn yearly() -> MemStorage {
    let mut db = MemStorage::new();
    let l = Labels::from_pairs(&[("__name__", "m")]);
    db.append_series(&l, (0..365 * 24).map(|h| (h * HOUR, h as f64)))
        .unwrap();
    db
}

/// A cancellation callback that counts its calls and trips on call `after`.
struct Tripwire {
    calls: Cell<usize>,
    after: usize,
}

impl Tripwire {
    fn new(after: usize) -> Tripwire {
        Tripwire {
            calls: Cell::new(0),
            after,
        }
    }
    fn check(&self) -> bool {
        self.calls.set(self.calls.get() + 1);
        self.calls.get() >= self.after
    }
}

fn too_many(r: Result<promql::engine::QueryResult, EngineError>) {
    match r {
        Err(EngineError::TooManySamples(_)) => {}
        Err(e) => panic!("expected TooManySamples, got {e}"),
        Ok(_) => panic!("expected TooManySamples, the query succeeded"),
    }
}

fn canceled(r: Result<promql::engine::QueryResult, EngineError>) {
    match r {
        Err(EngineError::Canceled(_)) => {}
        Err(e) => panic!("expected Canceled, got {e}"),
        Ok(_) => panic!("expected Canceled, the query succeeded"),
    }
}

#[test]
fn count_values_over_high_cardinality_stops_at_the_limit() {
    // 2000 series x 100 steps, every value distinct: 200k input samples, and
    // count_values makes one output series per sample.
    let db = wide(2_000, 100);
    let q = r#"count_values("v", m)"#;
    let end = 99 * MIN;
    let (r, unlimited) = peak_bytes(|| Engine::default().range_query_text(&db, q, 0, end, MIN));
    let Value::Matrix(m) = r.unwrap().value else {
        panic!("matrix expected")
    };
    assert_eq!(m.len(), 200_000);

    // Limit between the input and input + output: fails inside count_values.
    let (r, limited) = peak_bytes(|| engine(250_000).range_query_text(&db, q, 0, end, MIN));
    too_many(r);
    eprintln!("count_values: unlimited {unlimited} B, limited {limited} B");
    assert!(
        limited * 2 < unlimited,
        "limited peak {limited} B vs unlimited {unlimited} B"
    );

    // Limit below the input: fails while the selector loads.
    let (r, tiny) = peak_bytes(|| engine(20_000).range_query_text(&db, q, 0, end, MIN));
    too_many(r);
    assert!(tiny * 10 < unlimited, "tiny {tiny} B vs {unlimited} B");
}

#[test]
fn one_second_steps_over_a_year_are_canceled_promptly() {
    let db = yearly();
    let year = 365 * DAY;
    // Unlimited, the selector alone materialises ~2.6M points (5 min of lookback after
    // each hourly sample at 1 s resolution).
    let (r, unlimited) =
        peak_bytes(|| Engine::default().range_query_text(&db, "m", 0, year, 1_000));
    let Value::Matrix(m) = r.unwrap().value else {
        panic!("matrix expected")
    };
    assert_eq!(m[0].floats.len(), 365 * 24 * 300);

    for q in [
        "m",
        "rate(m[5m])",
        "sum_over_time(m[1h])",
        "sum(m)",
        "m > 5",
    ] {
        let trip = Tripwire::new(5);
        let cancel = || trip.check();
        let ctx = QueryContext {
            cancel: Some(&cancel),
        };
        let expr = promql::parse(q).unwrap();
        let (r, limited) =
            peak_bytes(|| Engine::default().range_query_with(&db, &expr, 0, year, 1_000, ctx));
        canceled(r);
        eprintln!("year {q}: unlimited {unlimited} B, canceled {limited} B");
        // The engine stops at the first `true` and never asks again.
        assert_eq!(trip.calls.get(), 5, "{q}");
        assert!(
            limited * 20 < unlimited && limited < 4 * MIB,
            "{q}: canceled peak {limited} B vs unlimited {unlimited} B"
        );
    }

    // A sample limit refuses the 31.5M per-step buffers before allocating them.
    for q in ["m", "m * 2", "time()", "rate(m[5m])"] {
        let (r, limited) =
            peak_bytes(|| engine(1_000_000).range_query_text(&db, q, 0, year, 1_000));
        too_many(r);
        assert!(limited < MIB, "{q}: {limited} B");
    }
}

#[test]
fn cancellation_is_checked_inside_step_loops() {
    // One series, 86 400 steps: a per-series/per-node check alone would be called a
    // handful of times; the step loops must ask at least once per 1024 steps.
    let db = yearly();
    let calls = Cell::new(0usize);
    let cancel = || {
        calls.set(calls.get() + 1);
        false
    };
    let ctx = QueryContext {
        cancel: Some(&cancel),
    };
    let expr = promql::parse("rate(m[1h])").unwrap();
    Engine::default()
        .range_query_with(&db, &expr, 0, DAY, 1_000, ctx)
        .unwrap();
    assert!(calls.get() >= 86_400 / 1024, "only {} checks", calls.get());
}

#[test]
fn deeply_nested_subqueries_stop_on_cancel_and_on_the_limit() {
    // One series sampled every 10 s for 4 days.
    let mut db = MemStorage::new();
    let l = Labels::from_pairs(&[("__name__", "m")]);
    db.append_series(&l, (0..4 * 8_640).map(|k| (k * 10_000, k as f64)))
        .unwrap();
    let q =
        "max_over_time(max_over_time(max_over_time(max_over_time(m[5m:1s])[1d:1s])[1d:1s])[1d:1s])";
    let expr = promql::parse(q).unwrap();
    let t = 4 * DAY;
    for after in [1, 20, 200] {
        let trip = Tripwire::new(after);
        let cancel = || trip.check();
        let ctx = QueryContext {
            cancel: Some(&cancel),
        };
        let (r, peak) = peak_bytes(|| Engine::default().instant_query_with(&db, &expr, t, ctx));
        canceled(r);
        eprintln!("nested, trip after {after}: peak {peak} B");
        assert_eq!(trip.calls.get(), after);
        assert!(peak < 8 * MIB, "trip after {after}: peak {peak} B");
    }
    // The innermost subquery holds ~3 days of 1 s steps (259k samples) while the level
    // above builds its own: the limit is shared by all levels and stops that early.
    let (r, peak) = peak_bytes(|| engine(270_000).instant_query(&db, &expr, t));
    too_many(r);
    eprintln!("nested, max_samples 270k: peak {peak} B");
    assert!(peak < 8 * MIB, "peak {peak} B");
}

#[test]
fn topk_over_many_series_stops_at_the_limit() {
    let db = wide(5_000, 200);
    let end = 199 * MIN;
    let q = "topk(10, m)";
    let (r, unlimited) = peak_bytes(|| Engine::default().range_query_text(&db, q, 0, end, MIN));
    let Value::Matrix(m) = r.unwrap().value else {
        panic!("matrix expected")
    };
    assert_eq!(m.iter().map(|s| s.floats.len()).sum::<usize>(), 2_000);
    let (r, limited) = peak_bytes(|| engine(100_000).range_query_text(&db, q, 0, end, MIN));
    too_many(r);
    eprintln!("topk: unlimited {unlimited} B, limited {limited} B");
    assert!(
        limited * 4 < unlimited,
        "limited {limited} B vs unlimited {unlimited} B"
    );

    // The input fits; topk's own output pushes the query over the limit.
    let db = wide(20_000, 1);
    too_many(engine(25_000).instant_query_text(&db, "topk(15000, m)", 0));
    let r = engine(25_000).instant_query_text(&db, "topk(10, m)", 0);
    assert!(matches!(r.unwrap().value, Value::Vector(v) if v.len() == 10));
}

#[test]
fn the_limit_counts_samples_held_at_once_not_per_node() {
    let db = wide(1_000, 1);
    // Each operand alone (1000) is under the limit, but both are held together.
    too_many(engine(1_500).instant_query_text(&db, "m + m", 0));
    // Inside the binary operation: 2000 operands + output pass 2500.
    too_many(engine(2_500).instant_query_text(&db, "m * on(i) m", 0));
    let r = engine(3_000).instant_query_text(&db, "m * on(i) m", 0);
    assert!(matches!(r.unwrap().value, Value::Vector(v) if v.len() == 1_000));
    // Consumed values are released: each count() frees its 1000 input samples.
    let r = engine(1_010).instant_query_text(&db, "count(m) + count(m) + count(m)", 0);
    assert!(matches!(r.unwrap().value, Value::Vector(v) if v[0].f == 3_000.0));
    // Subqueries share the parent's budget.
    too_many(engine(1_500).instant_query_text(&db, "m + sum_over_time(m[5m:1m])", 0));
    // The error text is Prometheus's.
    let e = engine(1_500)
        .instant_query_text(&db, "m + m", 0)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
}
