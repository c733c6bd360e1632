//! Targets over the `tsdb` crate's readers of bytes on disk: WAL segments and records, whole
//! database directories, and XOR chunks.

use tsdb::chunk::{validate, SampleIterator, XorAppender, XorIter};

/// Arbitrary bytes as a WAL segment (torn tails allowed and not), as one record, and as
/// the only segment of a database directory: errors are fine, panics are not.
pub fn wal_reader(data: &[u8]) {
    let _ = tsdb::wal::read_records("00000000", data, true, |_| Ok(()));
    let _ = tsdb::wal::read_records("00000000", data, false, |_| Ok(()));
    let _ = tsdb::wal::record::decode(data);
    let dir = tsdb::MemDir::new();
    dir.put("00000000", data.to_vec());
    let _ = tsdb::Db::open(Box::new(dir), tsdb::DbOptions::default());
}

/// Arbitrary bytes as an XOR chunk: validation, iteration and seeking never panic, and a
/// chunk that validates re-encodes to the same samples.
pub fn chunk_decode(data: &[u8]) {
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
}
