#![no_main]
//! Feeds arbitrary bytes to the WAL reader as a segment (torn tails allowed and not) and
//! as a whole database directory: errors are fine, panics are not.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tsdb::wal::read_records("00000000", data, true, |_| Ok(()));
    let _ = tsdb::wal::read_records("00000000", data, false, |_| Ok(()));
    let _ = tsdb::wal::record::decode(data);
    let dir = tsdb::MemDir::new();
    dir.put("00000000", data.to_vec());
    let _ = tsdb::Db::open(Box::new(dir), tsdb::DbOptions::default());
});
