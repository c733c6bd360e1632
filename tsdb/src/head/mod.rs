//! The head: the in-memory, appendable part of the database.
//!
//! ```text
//! Labels ──hash (xxh3)──► series ref ──► MemSeries (closed chunks + open chunk)
//!                    └──► MemPostings (name=value ──► RoaringBitmap of refs)
//! ```
//!
//! Series are keyed by the xxh3 hash of their labels, with collisions resolved by
//! comparing labels. Refs are dense integers handed out in order and never reused, so the
//! postings bitmaps stay small and WAL records can name series by ref. Writes go through a
//! [`HeadAppender`] (in [`append`]); reads through a [`Querier`](crate::query::Querier).
//! [`Head::truncate`] drops chunks before a time and garbage-collects empty series. Blocks
//! (a later addition) will sit beside the head and be merged by the querier.

pub mod append;
pub mod postings;
pub mod read;
pub mod series;
mod table;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use exposition::Labels;

use crate::error::{Error, Result};
use crate::storage::SeriesRef;
pub use append::{HeadAppender, HistogramValue, PendingHistogram};
pub use postings::MemPostings;
pub use read::HeadSampleIter;
pub use series::{ClosedChunk, MemSeries, SeriesIter};

/// Tunables of the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadOptions {
    /// Chunks are cut at multiples of this range (ms), like Prometheus's 2 h block range;
    /// samples older than half a range behind the newest sample are out of bounds.
    pub chunk_range_ms: i64,
    /// Target number of samples per chunk.
    pub samples_per_chunk: usize,
    /// Cap on active series (0: no cap). At the cap, appends that would create a series
    /// fail with [`Error::TooManySeries`](crate::Error::TooManySeries) while existing series
    /// keep ingesting; series collected by truncation free room again. WAL replay is not
    /// capped (nothing acknowledged is dropped at open).
    pub max_series: usize,
}

impl Default for HeadOptions {
    fn default() -> Self {
        HeadOptions {
            chunk_range_ms: 2 * 3600 * 1000,
            samples_per_chunk: crate::chunk::SAMPLES_PER_CHUNK,
            max_series: 0,
        }
    }
}

/// Hasher for keys that already are good 64-bit hashes.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Counts describing the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeadStats {
    /// Live series.
    pub num_series: usize,
    /// Distinct label pairs in the postings.
    pub num_label_pairs: usize,
    /// Samples held.
    pub num_samples: usize,
    /// Bytes of encoded chunk data.
    pub chunk_bytes: usize,
    /// Oldest sample time the head answers for (`i64::MIN` before any truncation).
    pub min_time: i64,
    /// Newest sample time (`i64::MIN` when empty).
    pub max_time: i64,
}

/// The in-memory head; see the [module docs](self).
#[derive(Debug)]
pub struct Head {
    pub(crate) opts: HeadOptions,
    pub(crate) series: table::SeriesTable,
    by_hash: IdMap<u32>,
    /// Further refs whose labels share a hash with the one in `by_hash`.
    collisions: IdMap<Vec<u32>>,
    pub(crate) postings: MemPostings,
    num_series: usize,
    /// Truncation point: nothing older is visible or appendable.
    pub(crate) min_valid_t: i64,
    pub(crate) max_t: i64,
    hash_fn: fn(&Labels) -> u64,
    /// Sample buffer reused by successive appenders.
    pub(crate) spare: Vec<append::PendingSample>,
    /// Series created since the last rebuild of `rank`.
    unranked: usize,
}

impl Default for Head {
    fn default() -> Self {
        Head::new(HeadOptions::default())
    }
}

impl Head {
    /// An empty head.
    pub fn new(opts: HeadOptions) -> Head {
        let opts = HeadOptions {
            chunk_range_ms: opts.chunk_range_ms.max(1),
            samples_per_chunk: opts.samples_per_chunk.clamp(4, 16_000),
            max_series: opts.max_series,
        };
        Head {
            opts,
            series: table::SeriesTable::default(),
            by_hash: IdMap::default(),
            collisions: IdMap::default(),
            postings: MemPostings::default(),
            num_series: 0,
            min_valid_t: i64::MIN,
            max_t: i64::MIN,
            hash_fn: Labels::hash,
            spare: Vec::new(),
            unranked: 0,
        }
    }

    /// The options in force.
    pub fn options(&self) -> HeadOptions {
        self.opts
    }

    /// Starts a write transaction.
    pub fn appender(&mut self) -> HeadAppender<'_> {
        HeadAppender::new(self)
    }

    /// Number of live series.
    pub fn num_series(&self) -> usize {
        self.num_series
    }

    /// Oldest time the head answers for (`i64::MIN` before any truncation).
    pub fn min_time(&self) -> i64 {
        self.min_valid_t
    }

    /// Newest committed sample time (`i64::MIN` when empty).
    pub fn max_time(&self) -> i64 {
        self.max_t
    }

    /// The oldest timestamp an append may carry right now: the truncation point, or half a
    /// chunk range behind the newest sample, whichever is later (Prometheus's rule).
    pub fn min_valid_time(&self) -> i64 {
        if self.max_t == i64::MIN {
            return self.min_valid_t;
        }
        self.min_valid_t
            .max(self.max_t.saturating_sub(self.opts.chunk_range_ms / 2))
    }

    /// The series behind `r`, if it is live.
    pub fn series(&self, r: SeriesRef) -> Option<&MemSeries> {
        self.series.get(u32::try_from(r.0).ok()?)
    }

    pub(crate) fn series_mut(&mut self, r: u32) -> Option<&mut MemSeries> {
        self.series.get_mut(r)
    }

    /// The ref of the series with exactly these labels, if it exists.
    pub fn lookup(&self, labels: &Labels) -> Option<SeriesRef> {
        self.lookup_hashed((self.hash_fn)(labels), labels)
            .map(|r| SeriesRef(u64::from(r)))
    }

    fn lookup_hashed(&self, h: u64, labels: &Labels) -> Option<u32> {
        let first = *self.by_hash.get(&h)?;
        if self.series.get(first)?.labels == *labels {
            return Some(first);
        }
        self.collisions
            .get(&h)?
            .iter()
            .copied()
            .find(|&r| self.series.get(r).is_some_and(|s| s.labels == *labels))
    }

    /// Finds or creates the series for `labels` (already validated). Returns the ref and
    /// whether it was created.
    pub(crate) fn get_or_create(&mut self, labels: &Labels) -> (u32, bool) {
        let h = (self.hash_fn)(labels);
        if let Some(r) = self.lookup_hashed(h, labels) {
            return (r, false);
        }
        let r = self.series.next_ref();
        self.insert_series(r, h, labels.clone());
        (r, true)
    }

    /// Creates a series with a given ref (WAL replay). An existing series with the same
    /// labels wins and its ref is returned.
    pub(crate) fn create_with_ref(&mut self, r: u32, labels: Labels) -> u32 {
        let h = (self.hash_fn)(&labels);
        if let Some(existing) = self.lookup_hashed(h, &labels) {
            return existing;
        }
        if self.series.contains(r) || r == u32::MAX {
            // Ref taken by other labels (a damaged WAL): allocate a fresh one.
            let fresh = self.series.next_ref();
            self.insert_series(fresh, h, labels);
            return fresh;
        }
        self.insert_series(r, h, labels);
        r
    }

    fn insert_series(&mut self, r: u32, h: u64, labels: Labels) {
        self.postings.add(r, &labels);
        match self.by_hash.entry(h) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(r);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collisions.entry(h).or_default().push(r);
            }
        }
        self.series.insert(r, MemSeries::new(labels));
        self.unranked += 1;
        self.num_series += 1;
    }

    fn remove_series(&mut self, r: u32) {
        let Some(s) = self.series.remove(r) else {
            return;
        };
        let h = (self.hash_fn)(&s.labels);
        self.postings.remove(r, &s.labels);
        if self.by_hash.get(&h) == Some(&r) {
            let promoted = self.collisions.get_mut(&h).and_then(|v| v.pop());
            match promoted {
                Some(p) => {
                    self.by_hash.insert(h, p);
                }
                None => {
                    self.by_hash.remove(&h);
                }
            }
        } else if let Some(v) = self.collisions.get_mut(&h) {
            v.retain(|&x| x != r);
        }
        if self.collisions.get(&h).is_some_and(Vec::is_empty) {
            self.collisions.remove(&h);
        }
        self.num_series -= 1;
    }

    /// Drops all data before `mint`: closed chunks that end before it are freed, series
    /// left without samples at or after `mint` are garbage-collected (removed from the
    /// postings), and appends older than `mint` are refused from now on. Returns the number
    /// of series removed.
    pub fn truncate(&mut self, mint: i64) -> usize {
        if mint <= self.min_valid_t {
            return 0;
        }
        self.min_valid_t = mint;
        let mut dead = Vec::new();
        for (r, s) in self.series.iter_mut() {
            if s.truncate_before(mint) {
                dead.push(r);
            }
        }
        for &r in &dead {
            self.remove_series(r);
        }
        self.rebuild_order();
        dead.len()
    }

    /// Removes series that hold no samples (after a WAL replay dropped everything before
    /// the truncation point). Returns how many went.
    pub(crate) fn remove_empty_series(&mut self) -> usize {
        let empty: Vec<u32> = self
            .series
            .iter()
            .filter(|(_, s)| s.is_empty())
            .map(|(r, _)| r)
            .collect();
        for &r in &empty {
            self.remove_series(r);
        }
        empty.len()
    }

    /// Recomputes every live series' rank in label order, so selects can sort by rank.
    /// Runs at truncation, after WAL replay, and on commit once many series were created
    /// since the last run (amortised O(log n) per new series).
    pub fn rebuild_order(&mut self) {
        let mut refs: Vec<(u32, &Labels)> = self.live_refs().map(|(r, s)| (r, &s.labels)).collect();
        refs.sort_unstable_by(|a, b| a.1.cmp(b.1));
        let order: Vec<u32> = refs.into_iter().map(|(r, _)| r).collect();
        for (i, r) in order.into_iter().enumerate() {
            if let Some(s) = self.series.get_mut(r) {
                s.rank = i as u32;
            }
        }
        self.unranked = 0;
    }

    /// Rebuilds the rank order when the series created since the last rebuild exceed a
    /// quarter of the head (and at least 1000).
    pub(crate) fn maybe_rebuild_order(&mut self) {
        if self.unranked > 1000 && self.unranked > self.num_series / 4 {
            self.rebuild_order();
        }
    }

    /// Refs of live series, in ref order.
    pub(crate) fn live_refs(&self) -> impl Iterator<Item = (u32, &MemSeries)> {
        self.series.iter()
    }

    /// The oldest sample time visible in the head (at or after the truncation point), or
    /// `None` when it holds no samples. Walks every series; not for hot paths.
    pub fn min_sample_time(&self) -> Option<i64> {
        self.live_refs()
            .filter_map(|(_, s)| s.min_time())
            .map(|t| t.max(self.min_valid_t))
            .min()
    }

    /// Counts describing the head (walks every series; not for hot paths).
    pub fn stats(&self) -> HeadStats {
        let (mut num_samples, mut chunk_bytes) = (0, 0);
        for (_, s) in self.live_refs() {
            num_samples += s.num_samples();
            chunk_bytes += s.chunk_bytes();
        }
        HeadStats {
            num_series: self.num_series,
            num_label_pairs: self.postings.num_pairs(),
            num_samples,
            chunk_bytes,
            min_time: self.min_valid_t,
            max_time: self.max_t,
        }
    }

    /// Validates labels for a new series: non-empty, names non-empty and unique (empty
    /// values were already dropped by `Labels`).
    pub(crate) fn check_labels(labels: &Labels) -> Result<()> {
        if labels.is_empty() {
            return Err(Error::EmptyLabels);
        }
        let mut prev: Option<&str> = None;
        for l in labels {
            if l.name.is_empty() {
                return Err(exposition::LabelError::EmptyName.into());
            }
            if prev == Some(l.name.as_str()) {
                return Err(exposition::LabelError::DuplicateName(l.name.clone()).into());
            }
            prev = Some(&l.name);
        }
        Ok(())
    }

    /// Applies a histogram WAL record during replay: refs go through `remap` (WAL ref to
    /// head ref where they differ), samples before the truncation point or not newer than
    /// their series' last sample are skipped. Other records are ignored.
    pub(crate) fn replay_histograms(&mut self, remap: &HashMap<u64, u32>, rec: crate::wal::Record) {
        use crate::wal::Record;
        let resolve = |r: u64| remap.get(&r).copied().or_else(|| u32::try_from(r).ok());
        let apply = |head: &mut Head, r: u64, t: i64, h: HistogramValue| {
            let Some(r) = resolve(r) else {
                return;
            };
            if t < head.min_valid_t {
                return;
            }
            let ok = head
                .series
                .get(r)
                .is_some_and(|s| s.last_t == i64::MIN || t > s.last_t);
            let valid = match &h {
                HistogramValue::Int(h) => crate::chunk::histogram::validate_histogram(h).is_ok(),
                HistogramValue::Float(h) => {
                    crate::chunk::histogram::validate_float_histogram(h).is_ok()
                }
            };
            if ok && valid {
                head.apply_histogram(r, t, &h);
                head.max_t = head.max_t.max(t);
            }
        };
        match rec {
            Record::HistogramSamples(v) => {
                for s in v {
                    apply(self, s.r, s.t, HistogramValue::Int(s.h));
                }
            }
            Record::FloatHistogramSamples(v) => {
                for s in v {
                    apply(self, s.r, s.t, HistogramValue::Float(s.h));
                }
            }
            _ => {}
        }
    }

    #[cfg(test)]
    pub(crate) fn set_hash_fn(&mut self, f: fn(&Labels) -> u64) {
        self.hash_fn = f;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_collisions_keep_series_apart() {
        let mut h = Head::default();
        h.set_hash_fn(|_| 42);
        let a = Labels::from_pairs(&[("a", "1")]);
        let b = Labels::from_pairs(&[("a", "2")]);
        let c = Labels::from_pairs(&[("a", "3")]);
        let mut app = h.appender();
        let ra = app.append(&a, 0, 1.0).unwrap();
        let rb = app.append(&b, 100, 2.0).unwrap();
        let rc = app.append(&c, 200, 3.0).unwrap();
        app.commit();
        assert!(ra != rb && rb != rc);
        assert_eq!(h.lookup(&a), Some(ra));
        assert_eq!(h.lookup(&b), Some(rb));
        assert_eq!(h.lookup(&c), Some(rc));
        // Collect `a` (the primary entry); the others stay reachable.
        h.truncate(50);
        assert_eq!(h.lookup(&a), None);
        assert_eq!(h.lookup(&b), Some(rb));
        assert_eq!(h.lookup(&c), Some(rc));
        h.truncate(150);
        assert_eq!(h.lookup(&c), Some(rc));
        assert_eq!(h.num_series(), 1);
    }
}
