//! Decoding histogram chunks allocates nothing per sample once the output buffers and the
//! iterator have grown to the layout's size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use exposition::histogram::{FloatHistogram, Histogram, Span};
use exposition::Labels;
use tsdb::chunk::ValueType;
use tsdb::Head;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged and only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: `p` came from `System` with layout `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

#[test]
fn decoding_reuses_buffers() {
    let mut head = Head::default();
    let l = Labels::from_pairs(&[("__name__", "h")]);
    let mut app = head.appender();
    let mut r = None;
    for i in 0..1000u64 {
        let h = Histogram {
            schema: 2,
            count: 6 * i,
            sum: i as f64,
            positive_spans: vec![Span::new(0, 3)],
            positive_buckets: vec![i as i64, i as i64, 0],
            negative_spans: vec![Span::new(1, 1)],
            negative_buckets: vec![i as i64],
            ..Histogram::default()
        };
        r = Some(app.append_histogram(&l, i as i64 * 1000, &h).unwrap());
    }
    app.commit();
    let s = head.series(r.unwrap()).unwrap();
    let mut h = Histogram::default();
    let mut f = FloatHistogram::default();
    // Warm up the output buffers.
    let mut it = s.sample_iter(i64::MIN, i64::MAX);
    assert_eq!(it.next(), ValueType::Histogram);
    it.at_histogram(&mut h);
    it.at_float_histogram(&mut f);
    let mut it = s.sample_iter(i64::MIN, i64::MAX);
    let before = ALLOCS.load(Ordering::Relaxed);
    // The first chunk's decode buffers grow once; count what later chunks cost.
    let mut n = 0;
    while it.next() == ValueType::Histogram {
        it.at_histogram(&mut h);
        it.at_float_histogram(&mut f);
        n += 1;
    }
    let allocs = ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!(n, 1000);
    assert!(allocs <= 6, "{allocs} allocations for {n} samples");
}
