//! One series in memory: its labels, its closed chunks and the open chunk being appended.

use exposition::Labels;

use crate::chunk::{ClippedCursor, SampleIterator, XorAppender, XorIter};

/// A finished, immutable chunk.
#[derive(Debug, Clone)]
pub struct ClosedChunk {
    /// First timestamp.
    pub min_t: i64,
    /// Last timestamp.
    pub max_t: i64,
    /// Encoded XOR chunk.
    pub data: Box<[u8]>,
}

/// Initial byte capacity of an open chunk: about 120 samples of typical data (1.2 bytes
/// each) plus the header and the bit writer's 16 bytes of slack.
const OPEN_CHUNK_CAPACITY: usize = 176;

/// A series held by the head.
#[derive(Debug)]
pub struct MemSeries {
    pub(crate) labels: Labels,
    pub(crate) closed: Vec<ClosedChunk>,
    pub(crate) open: XorAppender,
    /// When the open chunk must be cut (time-aligned to the chunk range).
    pub(crate) next_at: i64,
    /// Last committed sample (`i64::MIN` when none).
    pub(crate) last_t: i64,
    pub(crate) last_v: u64,
    /// Last sample accepted by the open appender, not yet committed (`i64::MIN` when none).
    pub(crate) txn_t: i64,
    pub(crate) txn_v: u64,
    /// Whether the WAL already holds this series' record.
    pub(crate) logged: bool,
    /// Position in label order as of the head's last order rebuild (`u32::MAX` when the
    /// series is newer); lets a select sort by integer instead of by labels.
    pub(crate) rank: u32,
}

impl MemSeries {
    pub(crate) fn new(labels: Labels) -> MemSeries {
        MemSeries {
            labels,
            closed: Vec::new(),
            open: XorAppender::with_capacity(0),
            next_at: i64::MIN,
            last_t: i64::MIN,
            last_v: 0,
            txn_t: i64::MIN,
            txn_v: 0,
            logged: false,
            rank: u32::MAX,
        }
    }

    /// The series' labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// Whether the series holds no samples.
    pub fn is_empty(&self) -> bool {
        self.closed.is_empty() && self.open.is_empty()
    }

    /// Newest committed timestamp, if any.
    pub fn max_time(&self) -> Option<i64> {
        (self.last_t != i64::MIN).then_some(self.last_t)
    }

    /// Oldest timestamp held, if any.
    pub fn min_time(&self) -> Option<i64> {
        match self.closed.first() {
            Some(c) => Some(c.min_t),
            None => (!self.open.is_empty()).then(|| self.open.min_t()),
        }
    }

    /// Number of samples held.
    pub fn num_samples(&self) -> usize {
        self.closed
            .iter()
            .map(|c| crate::chunk::xor::num_samples(&c.data))
            .sum::<usize>()
            + self.open.num_samples()
    }

    /// Appends a committed sample, cutting a new chunk when the open one is full or
    /// crosses the next aligned boundary of `chunk_range`.
    #[inline]
    pub(crate) fn append(&mut self, t: i64, v: u64, chunk_range: i64, per_chunk: usize) {
        if self.open.is_empty() {
            self.next_at = range_end(t, chunk_range);
        } else if t >= self.next_at
            || self.open.num_samples() >= 2 * per_chunk
            || self.open.is_full()
        {
            self.cut();
            self.next_at = range_end(t, chunk_range);
        }
        if self.open.is_empty() && self.open.capacity() < OPEN_CHUNK_CAPACITY {
            self.open = XorAppender::with_capacity(OPEN_CHUNK_CAPACITY);
        }
        self.open.append(t, f64::from_bits(v));
        if self.open.num_samples() == per_chunk / 4 {
            self.next_at = chunk_end_time(self.open.min_t(), self.open.max_t(), self.next_at, 4);
        }
        self.last_t = t;
        self.last_v = v;
    }

    fn cut(&mut self) {
        let open = std::mem::replace(
            &mut self.open,
            XorAppender::with_capacity(OPEN_CHUNK_CAPACITY),
        );
        let (min_t, max_t) = (open.min_t(), open.max_t());
        self.closed.push(ClosedChunk {
            min_t,
            max_t,
            data: open.finish(),
        });
    }

    /// Drops closed chunks that end before `mint`. Returns whether the series is left
    /// with no samples at or after `mint` (and so can be garbage collected).
    pub(crate) fn truncate_before(&mut self, mint: i64) -> bool {
        let keep_from = self.closed.partition_point(|c| c.max_t < mint);
        if keep_from > 0 {
            self.closed.drain(..keep_from);
        }
        self.closed.is_empty() && (self.open.is_empty() || self.open.max_t() < mint)
    }

    /// Heap bytes used by the series' chunks (the samples themselves).
    pub(crate) fn chunk_bytes(&self) -> usize {
        self.closed.iter().map(|c| c.data.len()).sum::<usize>() + self.open.bytes().len()
    }

    /// An iterator over samples in `[mint, maxt]`.
    pub fn iter(&self, mint: i64, maxt: i64) -> SeriesIter<'_> {
        let mut it = SeriesIter::empty();
        it.reset(self, mint, maxt);
        it
    }
}

/// End of the aligned range of width `range` that contains `t`.
fn range_end(t: i64, range: i64) -> i64 {
    t.div_euclid(range)
        .saturating_mul(range)
        .saturating_add(range)
}

/// Prometheus's estimate of when to cut a chunk so the chunks up to `max_t` hold about the
/// same number of samples: called once the chunk is `1/ratio` full.
fn chunk_end_time(start: i64, cur: i64, max_t: i64, ratio: i64) -> i64 {
    let n = (max_t as f64 - start as f64) / ((cur as f64 - start as f64 + 1.0) * ratio as f64);
    if n <= 1.0 {
        return max_t;
    }
    (start as f64 + (max_t as f64 - start as f64) / n.floor()) as i64
}

/// Iterates one series' samples in `[mint, maxt]` across its chunks without allocating;
/// [`SeriesIter::reset`] points it at another series.
#[derive(Debug, Clone)]
pub struct SeriesIter<'a> {
    closed: &'a [ClosedChunk],
    open: Option<&'a [u8]>,
    clip: ClippedCursor<'a>,
}

impl<'a> SeriesIter<'a> {
    /// An iterator with nothing to yield.
    pub fn empty() -> SeriesIter<'a> {
        SeriesIter {
            closed: &[],
            open: None,
            clip: ClippedCursor::new(0, -1),
        }
    }

    /// Re-targets the iterator at `s` over `[mint, maxt]`.
    pub fn reset(&mut self, s: &'a MemSeries, mint: i64, maxt: i64) {
        let first = s.closed.partition_point(|c| c.max_t < mint);
        self.closed = &s.closed[first..];
        self.open = (!s.open.is_empty()).then(|| s.open.bytes());
        self.clip = ClippedCursor::new(mint, maxt);
    }
}

/// Loads the next closed chunk (unless it starts after `maxt`), then the open one, into `cur`.
#[inline]
fn next_head_chunk<'a>(
    closed: &mut &'a [ClosedChunk],
    open: &mut Option<&'a [u8]>,
    maxt: i64,
    cur: &mut XorIter<'a>,
) -> bool {
    if let Some((c, rest)) = closed.split_first() {
        *closed = rest;
        if c.min_t > maxt {
            *closed = &[];
            *open = None;
            return false;
        }
        cur.reset(&c.data);
        return true;
    }
    if let Some(o) = open.take() {
        cur.reset(o);
        return true;
    }
    false
}

impl SampleIterator for SeriesIter<'_> {
    #[inline]
    fn next(&mut self) -> bool {
        let (closed, open, maxt) = (&mut self.closed, &mut self.open, self.clip.maxt);
        self.clip
            .next(|cur| next_head_chunk(closed, open, maxt, cur))
    }

    fn seek(&mut self, t: i64) -> bool {
        if self.clip.done {
            return false;
        }
        // Skip whole chunks that end before t.
        let skip = self
            .closed
            .partition_point(|c| c.max_t < t.max(self.clip.mint));
        if skip > 0 {
            self.closed = &self.closed[skip..];
            self.clip.cur = XorIter::new(&[]);
        }
        let (closed, open, maxt) = (&mut self.closed, &mut self.open, self.clip.maxt);
        self.clip
            .seek(t, |cur| next_head_chunk(closed, open, maxt, cur))
    }

    #[inline]
    fn at(&self) -> (i64, f64) {
        self.clip.cur.at()
    }
}
