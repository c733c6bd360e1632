#![no_main]
//! Decodes arbitrary bytes as an XOR chunk: validation, iteration and seeking must never
//! panic, and a chunk that validates must re-encode to the same samples.
use tsdb::chunk::{validate, SampleIterator, XorAppender, XorIter};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let ok = validate(data).is_ok();
    let mut it = XorIter::new(data);
    let mut samples = Vec::new();
    while it.next() {
        samples.push(it.at());
    }
    let mut it = XorIter::new(data);
    if let Some(&(t, _)) = samples.get(samples.len() / 2) {
        it.seek(t);
    }
    if ok {
        let mut a = XorAppender::default();
        for &(t, v) in &samples {
            a.append(t, v);
        }
        let re = a.finish();
        let mut it = XorIter::new(&re);
        for &(t, v) in &samples {
            assert!(it.next());
            assert_eq!(it.at().0, t);
            assert_eq!(it.at().1.to_bits(), v.to_bits());
        }
        assert!(!it.next());
    }
});
