//! An embeddable, Prometheus-style time-series database: Gorilla-compressed chunks, an
//! in-memory head indexed by roaring postings, a querier, and a crash-safe write-ahead log.
//!
//! Use it to store float samples and native histograms keyed by label sets and to read them
//! back by label matchers and time range. It runs no threads and reads no clock: time is an argument.
//! [`Db::maintenance`] cuts the head into immutable on-disk blocks, merges blocks into larger
//! ones and applies retention; [`Db::delete`] hides samples through tombstones. Queries span
//! the blocks and the head.
//!
//! ```text
//! append ──► DbAppender ──commit──► WAL segment (framed, xxh64) ──► Head (chunks, postings)
//! select ──► Querier ──► postings_for_matchers ──► SeriesSet ──► SeriesIter (next/seek/at)
//! truncate ──► Head GC ──► WAL checkpoint          open ──► replay checkpoint + segments
//! ```
//!
//! # Module map
//!
//! | module | the question it answers |
//! |---|---|
//! | [`block`] | how does a time range of samples persist on disk, and how is it read back? |
//! | [`chunk`] | how is a run of samples stored compactly, and read back? |
//! | [`compact`] | which blocks merge next, and how is a merge written crash-safely? |
//! | [`head`] | where do new samples live, and which series has which labels? |
//! | [`merge`] | how do the head and the blocks answer one query together? |
//! | [`promblock`] | how do blocks move to and from Prometheus's own on-disk format? |
//! | [`query`] | which series match these matchers, and what are their samples in a range? |
//! | [`retention`] | which blocks are past the time or size limit? |
//! | [`storage`] | what do other crates program against (appender, queryable)? |
//! | [`tombstones`] | which samples did a deletion hide, until compaction drops them? |
//! | [`wal`] | how do committed samples survive a crash, and how does the log stay small? |
//! | [`dir`] | where do the WAL's files live (disk, memory, fault-injecting wrapper)? |
//! | [`db`] | how do head, WAL and blocks fit together (open, append, maintenance, delete)? |
//! | [`error`] | what went wrong? |
//!
//! Byte layouts: `docs/format/chunks.md`, `docs/format/wal.md` and `FORMAT.md` (blocks) in the crate.
//!
//! # Example
//!
//! ```
//! use exposition::{Labels, Matcher};
//! use tsdb::chunk::SampleIterator;
//! use tsdb::{Db, DbOptions, MemDir, Queryable, SelectHints};
//!
//! // A WAL in memory; use `Db::open_path(dir, opts)` for a directory on disk.
//! let dir = MemDir::new();
//! let mut db = Db::open(Box::new(dir.clone()), DbOptions::default()).unwrap();
//! let mut app = db.appender();
//! let up = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
//! let r = app.append(&up, 1_000, 1.0).unwrap();
//! app.append_ref(r, 16_000, 0.0).unwrap();
//! app.commit().unwrap();
//! drop(db);
//!
//! // Reopening replays the WAL.
//! let db = Db::open(Box::new(dir), DbOptions::default()).unwrap();
//! let q = db.querier(0, 20_000).unwrap();
//! let mut set = q.select(&[Matcher::equal("job", "node")], &SelectHints::default()).unwrap();
//! let series = set.next().unwrap();
//! let mut it = series.iter();
//! assert!(it.next());
//! assert_eq!(it.at(), (1_000, 1.0));
//! ```
#![warn(missing_docs)]

pub mod block;
pub mod chunk;
pub mod compact;
pub mod db;
pub mod dir;
pub mod error;
pub mod head;
pub mod merge;
pub mod promblock;
pub mod query;
pub mod retention;
pub mod storage;
pub mod tombstones;
pub mod wal;

pub use block::{write_head_block, Block, BlockMeta, BlockQuerier, BlockWriter, WriteStep};
pub use compact::Step;
pub use db::{Db, DbAppender, DbOptions, DeleteReport, MaintenanceReport, TruncateReport};
pub use dir::{Dir, FsDir, Mapped, MemDir};
pub use error::{CorruptionKind, Error, Result};
pub use head::{Head, HeadAppender, HeadOptions};
pub use merge::{DbQuerier, MergedSeries, MergedSeriesSet};
pub use query::{Querier, Series, SeriesSet};
pub use storage::{Appender, Queryable, SelectHints, SeriesRef};
pub use tombstones::{Interval, Tombstones};
pub use wal::{ReplayReport, SyncPolicy, WalOptions};

#[cfg(test)]
mod tests {
    fn assert_send<T: Send>() {}
    fn assert_sync<T: Sync>() {}

    #[test]
    fn core_types_can_cross_threads() {
        assert_send::<crate::Db>();
        assert_sync::<crate::Db>();
        assert_send::<crate::Head>();
        assert_sync::<crate::Head>();
        assert_send::<crate::Error>();
        assert_sync::<crate::MemDir>();
    }
}
