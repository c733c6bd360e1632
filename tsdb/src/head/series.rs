//! One series in memory: its labels, its closed chunks and the open chunk being appended.
//!
//! A series holds float samples, native histograms, or both one after the other: a change
//! of sample type cuts the open chunk, so every chunk holds one [`Encoding`]. Float
//! samples go to the XOR appender `open`; histograms to `hopen` (boxed, so a float-only
//! series pays one pointer for it).

use exposition::histogram::{CounterResetHint, FloatHistogram, Histogram};
use exposition::Labels;

use crate::chunk::{
    ClippedCursor, Encoding, FloatHistogramAppender, HistogramAppender, SampleIterator,
    XorAppender, XorIter,
};

/// A finished, immutable chunk.
#[derive(Debug, Clone)]
pub struct ClosedChunk {
    /// First timestamp.
    pub min_t: i64,
    /// Last timestamp.
    pub max_t: i64,
    /// Encoded chunk.
    pub data: Box<[u8]>,
    /// How `data` is encoded.
    pub encoding: Encoding,
}

/// The open chunk of a series whose newest samples are native histograms.
#[derive(Debug, Clone)]
pub(crate) enum HistChunk {
    /// Integer histograms.
    Int(HistogramAppender),
    /// Float histograms.
    Float(FloatHistogramAppender),
}

impl HistChunk {
    fn num_samples(&self) -> usize {
        match self {
            HistChunk::Int(a) => a.num_samples(),
            HistChunk::Float(a) => a.num_samples(),
        }
    }
    pub(crate) fn min_t(&self) -> i64 {
        match self {
            HistChunk::Int(a) => a.min_t(),
            HistChunk::Float(a) => a.min_t(),
        }
    }
    pub(crate) fn max_t(&self) -> i64 {
        match self {
            HistChunk::Int(a) => a.max_t(),
            HistChunk::Float(a) => a.max_t(),
        }
    }
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            HistChunk::Int(a) => a.bytes(),
            HistChunk::Float(a) => a.bytes(),
        }
    }
    pub(crate) fn encoding(&self) -> Encoding {
        match self {
            HistChunk::Int(_) => Encoding::Histogram,
            HistChunk::Float(_) => Encoding::FloatHistogram,
        }
    }
    fn header(&self) -> CounterResetHint {
        match self {
            HistChunk::Int(a) => a.header(),
            HistChunk::Float(a) => a.header(),
        }
    }
}

/// A histogram chunk is cut at this many bytes (histogram samples are much larger than
/// float ones, so a sample count alone would make huge chunks).
const HIST_CHUNK_BYTES: usize = 4096;

/// Decides where a histogram sample goes: `None` to append to the open chunk, or
/// `Some(header)` to cut and start a chunk with that counter-reset header.
///
/// `open` describes the open histogram chunk of the same kind: its header, whether the
/// sample fits its layout, and whether time or size asks for a cut. `reset` detects a
/// counter reset against the chunk's last sample.
fn place_histogram(
    hint: CounterResetHint,
    open: Option<(CounterResetHint, bool, bool)>,
    reset: impl FnOnce() -> bool,
) -> Option<CounterResetHint> {
    use CounterResetHint::*;
    let Some((header, fits, cut)) = open else {
        return Some(match hint {
            Gauge => Gauge,
            CounterReset => CounterReset,
            _ => Unknown,
        });
    };
    if hint == Gauge {
        return (header != Gauge || !fits || cut).then_some(Gauge);
    }
    if header == Gauge {
        return Some(if hint == CounterReset {
            CounterReset
        } else {
            Unknown
        });
    }
    if hint == CounterReset || (hint != NotCounterReset && reset()) {
        return Some(CounterReset);
    }
    (!fits || cut).then_some(Unknown)
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
    /// The open histogram chunk; at most one of `open` (non-empty) and `hopen` exists.
    pub(crate) hopen: Option<Box<HistChunk>>,
    /// When the open chunk must be cut (time-aligned to the chunk range).
    pub(crate) next_at: i64,
    /// Last committed sample (`i64::MIN` when none).
    pub(crate) last_t: i64,
    pub(crate) last_v: u64,
    /// Last sample accepted by the open appender, not yet committed (`i64::MIN` when none).
    pub(crate) txn_t: i64,
    pub(crate) txn_v: u64,
    /// Whether the pending sample at `txn_t` is a histogram.
    pub(crate) txn_hist: bool,
    /// Whether a histogram was ever appended (readers pick the float-only fast path
    /// otherwise).
    pub(crate) had_hist: bool,
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
            hopen: None,
            next_at: i64::MIN,
            last_t: i64::MIN,
            last_v: 0,
            txn_t: i64::MIN,
            txn_v: 0,
            txn_hist: false,
            had_hist: false,
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
        self.closed.is_empty() && self.open.is_empty() && self.hopen.is_none()
    }

    /// Newest committed timestamp, if any.
    pub fn max_time(&self) -> Option<i64> {
        (self.last_t != i64::MIN).then_some(self.last_t)
    }

    /// Oldest timestamp held, if any.
    pub fn min_time(&self) -> Option<i64> {
        match self.closed.first() {
            Some(c) => Some(c.min_t),
            None => match &self.hopen {
                Some(h) => Some(h.min_t()),
                None => (!self.open.is_empty()).then(|| self.open.min_t()),
            },
        }
    }

    /// Number of samples held.
    pub fn num_samples(&self) -> usize {
        self.closed
            .iter()
            .map(|c| crate::chunk::xor::num_samples(&c.data))
            .sum::<usize>()
            + self.open.num_samples()
            + self.hopen.as_ref().map_or(0, |h| h.num_samples())
    }

    /// Whether the series may hold native histograms (one was appended at some point); when
    /// false, the float-only [`SeriesIter`] sees every sample.
    pub fn has_histograms(&self) -> bool {
        self.had_hist
    }

    /// Whether the newest committed sample is a native histogram.
    pub fn last_is_histogram(&self) -> bool {
        self.hopen.is_some()
    }

    /// Appends a committed sample, cutting a new chunk when the open one is full or
    /// crosses the next aligned boundary of `chunk_range`.
    #[inline]
    pub(crate) fn append(&mut self, t: i64, v: u64, chunk_range: i64, per_chunk: usize) {
        if self.hopen.is_some() {
            self.cut_hist();
        }
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
            encoding: Encoding::Xor,
        });
    }

    /// Closes the open histogram chunk, if any. Cold: the float append path only calls it
    /// when a series switches from histograms to floats.
    #[cold]
    #[inline(never)]
    fn cut_hist(&mut self) {
        let Some(h) = self.hopen.take() else {
            return;
        };
        if h.num_samples() == 0 {
            return;
        }
        let (min_t, max_t, encoding) = (h.min_t(), h.max_t(), h.encoding());
        let data = match *h {
            HistChunk::Int(a) => a.finish(),
            HistChunk::Float(a) => a.finish(),
        };
        self.closed.push(ClosedChunk {
            min_t,
            max_t,
            data,
            encoding,
        });
    }

    /// Closes the open float chunk, if it holds samples.
    fn cut_float(&mut self) {
        if !self.open.is_empty() {
            let open = std::mem::take(&mut self.open);
            let (min_t, max_t) = (open.min_t(), open.max_t());
            self.closed.push(ClosedChunk {
                min_t,
                max_t,
                data: open.finish(),
                encoding: Encoding::Xor,
            });
        }
    }

    /// Whether the open histogram chunk must be cut before a sample at `t` for time or
    /// size reasons.
    fn hist_cut_due(&self, h: &HistChunk, t: i64, per_chunk: usize) -> bool {
        t >= self.next_at
            || h.num_samples() >= per_chunk
            || (h.bytes().len() >= HIST_CHUNK_BYTES && h.num_samples() >= 10)
    }

    /// Appends a committed integer histogram (already validated), cutting a chunk on a
    /// type change, a layout change, a counter reset (detected or hinted), a gauge/counter
    /// change, or for time and size like float chunks.
    pub(crate) fn append_histogram(
        &mut self,
        t: i64,
        h: &Histogram,
        chunk_range: i64,
        per_chunk: usize,
    ) {
        self.cut_float();
        self.had_hist = true;
        let open = match self.hopen.as_deref() {
            Some(c @ HistChunk::Int(a)) => {
                let fits = a.fits(h) || a.can_widen(h);
                Some((a.header(), fits, self.hist_cut_due(c, t, per_chunk)))
            }
            _ => None,
        };
        let decision =
            place_histogram(h.counter_reset_hint, open, || match self.hopen.as_deref() {
                Some(HistChunk::Int(a)) => a.detect_counter_reset(h),
                _ => false,
            });
        if let Some(header) = decision {
            self.cut_hist();
            self.hopen = Some(Box::new(HistChunk::Int(HistogramAppender::new(h, header))));
            self.next_at = range_end(t, chunk_range);
        }
        if let Some(HistChunk::Int(a)) = self.hopen.as_deref_mut() {
            if !a.fits(h) {
                // New buckets appeared: re-code the chunk into the wider layout.
                *a = a.widen(h);
            }
            a.append(t, h);
        }
        self.last_t = t;
    }

    /// Appends a committed float histogram (already validated); chunks are cut as for
    /// [`MemSeries::append_histogram`].
    pub(crate) fn append_float_histogram(
        &mut self,
        t: i64,
        h: &FloatHistogram,
        chunk_range: i64,
        per_chunk: usize,
    ) {
        self.cut_float();
        self.had_hist = true;
        let open = match self.hopen.as_deref() {
            Some(c @ HistChunk::Float(a)) => {
                let fits = a.fits(h) || a.can_widen(h);
                Some((a.header(), fits, self.hist_cut_due(c, t, per_chunk)))
            }
            _ => None,
        };
        let decision =
            place_histogram(h.counter_reset_hint, open, || match self.hopen.as_deref() {
                Some(HistChunk::Float(a)) => a.detect_counter_reset(h),
                _ => false,
            });
        if let Some(header) = decision {
            self.cut_hist();
            self.hopen = Some(Box::new(HistChunk::Float(FloatHistogramAppender::new(
                h, header,
            ))));
            self.next_at = range_end(t, chunk_range);
        }
        if let Some(HistChunk::Float(a)) = self.hopen.as_deref_mut() {
            if !a.fits(h) {
                *a = a.widen(h);
            }
            a.append(t, h);
        }
        self.last_t = t;
    }

    /// Re-encodes every sample of `it` with `t` in `[mint, maxt)` (and not deleted by
    /// `deleted`) into chunks cut as the head cuts them, and returns them in time order: how
    /// a block stores a series holding native histograms.
    pub(crate) fn encode_mixed(
        it: &mut dyn crate::chunk::MixedIterator,
        mint: i64,
        maxt: i64,
        per_chunk: usize,
        deleted: impl Fn(i64) -> bool,
    ) -> crate::error::Result<(Vec<ClosedChunk>, usize)> {
        use crate::chunk::ValueType;
        let mut s = MemSeries::new(Labels::default());
        let range = 1i64 << 62;
        let (mut h, mut fh) = (Histogram::default(), FloatHistogram::default());
        let mut n = 0usize;
        let mut vt = it.seek(mint);
        while vt != ValueType::None {
            let t = it.at_t();
            if t >= maxt {
                break;
            }
            if s.last_t != i64::MIN && t <= s.last_t {
                return Err(crate::error::Error::InvalidBlockWrite(
                    "samples not in increasing time order",
                ));
            }
            if !deleted(t) {
                match vt {
                    ValueType::Float => s.append(t, it.at().1.to_bits(), range, per_chunk),
                    ValueType::Histogram => {
                        it.at_histogram(&mut h);
                        s.append_histogram(t, &h, range, per_chunk);
                    }
                    _ => {
                        it.at_float_histogram(&mut fh);
                        s.append_float_histogram(t, &fh, range, per_chunk);
                    }
                }
                n += 1;
            }
            vt = it.next();
        }
        s.cut_hist();
        s.cut_float();
        Ok((s.closed, n))
    }

    /// Whether the newest committed sample is the integer histogram `h` (hint aside).
    pub(crate) fn last_histogram_equals(&self, h: &Histogram) -> bool {
        matches!(self.hopen.as_deref(), Some(HistChunk::Int(a)) if a.last_equals(h))
    }

    /// Whether the newest committed sample is the float histogram `h` (hint aside).
    pub(crate) fn last_float_histogram_equals(&self, h: &FloatHistogram) -> bool {
        matches!(self.hopen.as_deref(), Some(HistChunk::Float(a)) if a.last_equals(h))
    }

    /// The counter-reset header of the open histogram chunk, if there is one.
    pub fn open_histogram_header(&self) -> Option<CounterResetHint> {
        self.hopen.as_ref().map(|h| h.header())
    }

    /// Drops closed chunks that end before `mint`. Returns whether the series is left
    /// with no samples at or after `mint` (and so can be garbage collected).
    pub(crate) fn truncate_before(&mut self, mint: i64) -> bool {
        let keep_from = self.closed.partition_point(|c| c.max_t < mint);
        if keep_from > 0 {
            self.closed.drain(..keep_from);
        }
        let open_max = match &self.hopen {
            Some(h) => Some(h.max_t()),
            None => (!self.open.is_empty()).then(|| self.open.max_t()),
        };
        self.closed.is_empty() && open_max.is_none_or(|m| m < mint)
    }

    /// Heap bytes used by the series' chunks (the samples themselves).
    pub(crate) fn chunk_bytes(&self) -> usize {
        self.closed.iter().map(|c| c.data.len()).sum::<usize>()
            + self.open.bytes().len()
            + self.hopen.as_ref().map_or(0, |h| h.bytes().len())
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

/// Iterates one series' float samples in `[mint, maxt]` across its chunks without
/// allocating (histogram chunks are skipped: use [`crate::head::HeadSampleIter`] for every
/// sample type); [`SeriesIter::reset`] points it at another series.
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
    while let Some((c, rest)) = closed.split_first() {
        *closed = rest;
        if c.min_t > maxt {
            *closed = &[];
            *open = None;
            return false;
        }
        if c.encoding == Encoding::Xor {
            cur.reset(&c.data);
            return true;
        }
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
