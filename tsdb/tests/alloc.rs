//! The hot path allocates nothing: `append_ref` on known series, once the appender's
//! buffer has grown.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use exposition::Labels;
use tsdb::{Db, DbOptions, MemDir, SeriesRef};

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
fn append_ref_does_not_allocate() {
    let mut db = Db::open(Box::new(MemDir::new()), DbOptions::default()).unwrap();
    let labels: Vec<Labels> = (0..500)
        .map(|i| Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]))
        .collect();
    let mut app = db.appender();
    let refs: Vec<SeriesRef> = labels
        .iter()
        .map(|l| app.append(l, 0, 0.0).unwrap())
        .collect();
    app.commit().unwrap();
    let mut counted = 0;
    for k in 1..20i64 {
        let mut app = db.appender();
        let before = ALLOCS.load(Ordering::Relaxed);
        for &r in &refs {
            app.append_ref(r, k * 1000, k as f64).unwrap();
        }
        let after = ALLOCS.load(Ordering::Relaxed);
        app.commit().unwrap();
        if k > 2 {
            counted += after - before;
        }
    }
    assert_eq!(counted, 0, "append_ref allocated");
}
