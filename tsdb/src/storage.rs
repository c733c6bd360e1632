//! The seams other crates program against: series references, the appender and the
//! queryable traits, and select hints.
//!
//! They are kept as small as Prometheus's `storage` interfaces: an [`Appender`] appends and
//! then either commits or rolls back (both take `self`, so a finished appender cannot be
//! used again), and a [`Queryable`] hands out a [`Querier`] over a
//! time range.

use exposition::Labels;

use crate::error::Result;
use crate::query::Querier;

/// A dense, stable reference to a series in the head, returned by appends. Refs are never
/// reused for another label set while the directory lives, so the WAL can refer to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesRef(pub u64);

/// A write transaction. Samples become visible (and, for a [`Db`](crate::Db) with a WAL,
/// durable) only when [`Appender::commit`] returns `Ok`.
pub trait Appender {
    /// Appends one sample. With `Some(r)` the labels are not looked at (the fast path);
    /// with `None` the series is found or created from `labels`. A rejected sample
    /// (out of order, duplicate, out of bounds, invalid labels) returns an error and leaves
    /// the rest of the batch intact.
    fn append(
        &mut self,
        r: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef>;

    /// Makes every accepted sample visible (and durable) at once.
    fn commit(self) -> Result<()>;

    /// Drops every sample appended so far.
    fn rollback(self);
}

/// Something that can be queried over a time range.
pub trait Queryable {
    /// A querier over samples with timestamps in `[mint, maxt]` (inclusive).
    fn querier(&self, mint: i64, maxt: i64) -> Result<Querier<'_>>;
}

/// Optional narrowing of a select, as in Prometheus's `SelectHints`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectHints {
    /// Earliest timestamp wanted (inclusive); intersected with the querier's range.
    pub start: i64,
    /// Latest timestamp wanted (inclusive); intersected with the querier's range.
    pub end: i64,
}

impl Default for SelectHints {
    fn default() -> Self {
        SelectHints {
            start: i64::MIN,
            end: i64::MAX,
        }
    }
}

/// The special NaN Prometheus writes to mark a series stale: bit pattern
/// `0x7ff0000000000002`. Compare bit patterns, never float values, to detect it.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as a float (a NaN with Prometheus's payload).
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is the staleness marker (by bit pattern, not any NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}
