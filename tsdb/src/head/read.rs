//! Reading every sample type of a series: floats and native histograms, chunk by chunk.
//!
//! ```text
//! closed chunks (Xor | Histogram | FloatHistogram) + open chunk ──► MixedCursor ──► ValueType
//! ```
//!
//! The float-only [`SeriesIter`](super::SeriesIter) stays the fast path for float queries;
//! [`HeadSampleIter`] is the path that sees histograms too, in the shape of Prometheus's
//! `chunkenc.Iterator`: `next`/`seek` say which type the current sample has, and the
//! matching `at*` method reads it.

use exposition::histogram::{FloatHistogram, Histogram};

use super::series::{ClosedChunk, MemSeries};
use crate::chunk::{
    Encoding, FloatHistogramIter, HistogramIter, MixedIterator, SampleIterator, ValueType, XorIter,
};

/// Decodes a run of chunks of any encoding, clipped to `[mint, maxt]`. The caller supplies
/// the chunks through a closure, so the head and the blocks can share it. Decoder buffers
/// are kept across chunks.
#[derive(Debug, Clone)]
pub(crate) struct MixedCursor<'a> {
    xor: XorIter<'a>,
    hist: HistogramIter<'a>,
    fhist: FloatHistogramIter<'a>,
    /// Type of the loaded chunk (`None` before the first).
    kind: ValueType,
    mint: i64,
    maxt: i64,
    done: bool,
}

impl<'a> MixedCursor<'a> {
    pub(crate) fn new(mint: i64, maxt: i64) -> MixedCursor<'a> {
        MixedCursor {
            xor: XorIter::new(&[]),
            hist: HistogramIter::default(),
            fhist: FloatHistogramIter::default(),
            kind: ValueType::None,
            mint,
            maxt,
            done: mint > maxt,
        }
    }

    fn load(&mut self, enc: Encoding, data: &'a [u8]) {
        match enc {
            Encoding::Xor => {
                self.xor.reset(data);
                self.kind = ValueType::Float;
            }
            Encoding::Histogram => {
                self.hist.reset(data);
                self.kind = ValueType::Histogram;
            }
            Encoding::FloatHistogram => {
                self.fhist.reset(data);
                self.kind = ValueType::FloatHistogram;
            }
        }
    }

    fn step(&mut self) -> bool {
        match self.kind {
            ValueType::None => false,
            ValueType::Float => self.xor.next(),
            ValueType::Histogram => self.hist.next(),
            ValueType::FloatHistogram => self.fhist.next(),
        }
    }

    fn step_to(&mut self, t: i64) -> bool {
        match self.kind {
            ValueType::None => false,
            ValueType::Float => self.xor.seek(t),
            ValueType::Histogram => self.hist.seek(t),
            ValueType::FloatHistogram => self.fhist.seek(t),
        }
    }

    /// Timestamp of the current sample.
    pub(crate) fn t(&self) -> i64 {
        match self.kind {
            ValueType::Float => self.xor.at().0,
            ValueType::Histogram => self.hist.t(),
            ValueType::FloatHistogram => self.fhist.t(),
            ValueType::None => i64::MIN,
        }
    }

    fn finish(&mut self) -> ValueType {
        self.done = true;
        ValueType::None
    }

    /// Advances to the next sample in range; `next_chunk` returns the following chunk.
    pub(crate) fn next(
        &mut self,
        mut next_chunk: impl FnMut() -> Option<(Encoding, &'a [u8])>,
    ) -> ValueType {
        if self.done {
            return ValueType::None;
        }
        loop {
            if self.step() {
                let t = self.t();
                if t < self.mint {
                    continue;
                }
                if t > self.maxt {
                    return self.finish();
                }
                return self.kind;
            }
            match next_chunk() {
                Some((enc, data)) => self.load(enc, data),
                None => return self.finish(),
            }
        }
    }

    /// Advances to the first sample at or after `t` (and `mint`) that is in range.
    pub(crate) fn seek(
        &mut self,
        t: i64,
        mut next_chunk: impl FnMut() -> Option<(Encoding, &'a [u8])>,
    ) -> ValueType {
        if self.done {
            return ValueType::None;
        }
        let t = t.max(self.mint);
        loop {
            if self.step_to(t) {
                if self.t() > self.maxt {
                    return self.finish();
                }
                return self.kind;
            }
            match next_chunk() {
                Some((enc, data)) => self.load(enc, data),
                None => return self.finish(),
            }
        }
    }

    /// Forgets the loaded chunk (after the caller skipped chunks).
    pub(crate) fn unload(&mut self) {
        self.kind = ValueType::None;
    }

    /// The current float sample (`(t, 0.0)`-like garbage unless at a float).
    pub(crate) fn at(&self) -> (i64, f64) {
        self.xor.at()
    }

    /// Writes the current integer histogram into `out`; returns its timestamp.
    pub(crate) fn at_histogram(&self, out: &mut Histogram) -> i64 {
        self.hist.at_histogram(out)
    }

    /// Writes the current histogram (of either kind) into `out` as a float histogram.
    pub(crate) fn at_float_histogram(&self, out: &mut FloatHistogram) -> i64 {
        match self.kind {
            ValueType::Histogram => self.hist.at_float_histogram(out),
            _ => self.fhist.at_float_histogram(out),
        }
    }
}

/// Iterates every sample of one head series in `[mint, maxt]`: floats, integer and float
/// native histograms, in time order.
///
/// ```
/// use exposition::histogram::{Histogram, Span};
/// use exposition::Labels;
/// use tsdb::chunk::ValueType;
/// use tsdb::Head;
///
/// let mut head = Head::default();
/// let lbls = Labels::from_pairs(&[("__name__", "rpc_seconds")]);
/// let h = Histogram {
///     count: 3, sum: 1.5,
///     positive_spans: vec![Span::new(0, 2)],
///     positive_buckets: vec![1, 1],
///     ..Histogram::default()
/// };
/// let mut app = head.appender();
/// let r = app.append(&lbls, 1_000, 7.0).unwrap();
/// app.append_histogram_ref(r, 2_000, &h).unwrap();
/// app.commit();
///
/// let mut it = head.series(r).unwrap().sample_iter(0, 10_000);
/// assert_eq!(it.next(), ValueType::Float);
/// assert_eq!(it.at(), (1_000, 7.0));
/// assert_eq!(it.next(), ValueType::Histogram);
/// let mut got = Histogram::default();
/// assert_eq!(it.at_histogram(&mut got), 2_000);
/// assert_eq!((got.count, got.positive_buckets.clone()), (3, vec![1, 1]));
/// assert_eq!(it.next(), ValueType::None);
/// ```
#[derive(Debug, Clone)]
pub struct HeadSampleIter<'a> {
    closed: &'a [ClosedChunk],
    open: Option<(Encoding, &'a [u8])>,
    cur: MixedCursor<'a>,
}

impl<'a> HeadSampleIter<'a> {
    /// An iterator over `s`'s samples in `[mint, maxt]`.
    pub fn new(s: &'a MemSeries, mint: i64, maxt: i64) -> HeadSampleIter<'a> {
        let first = s.closed.partition_point(|c| c.max_t < mint);
        let open = match &s.hopen {
            Some(h) => Some((h.encoding(), h.bytes())),
            None => (!s.open.is_empty()).then(|| (Encoding::Xor, s.open.bytes())),
        };
        HeadSampleIter {
            closed: &s.closed[first..],
            open,
            cur: MixedCursor::new(mint, maxt),
        }
    }

    fn chunks(
        closed: &mut &'a [ClosedChunk],
        open: &mut Option<(Encoding, &'a [u8])>,
        maxt: i64,
    ) -> Option<(Encoding, &'a [u8])> {
        if let Some((c, rest)) = closed.split_first() {
            *closed = rest;
            if c.min_t > maxt {
                *closed = &[];
                *open = None;
                return None;
            }
            return Some((c.encoding, &c.data));
        }
        open.take()
    }

    /// Moves to the next sample and says its type ([`ValueType::None`] at the end).
    // A lending cursor (the sample is read with `at*`), not an `Iterator`.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> ValueType {
        let (closed, open, maxt) = (&mut self.closed, &mut self.open, self.cur.maxt);
        self.cur.next(|| Self::chunks(closed, open, maxt))
    }

    /// Moves to the first sample at or after `t`, never backwards; says its type.
    pub fn seek(&mut self, t: i64) -> ValueType {
        if self.cur.done {
            return ValueType::None;
        }
        let t = t.max(self.cur.mint);
        let at_or_after = self.cur.kind != ValueType::None && self.cur.t() >= t;
        if !at_or_after {
            let skip = self.closed.partition_point(|c| c.max_t < t);
            if skip > 0 {
                self.closed = &self.closed[skip..];
                self.cur.unload();
            }
        }
        let (closed, open, maxt) = (&mut self.closed, &mut self.open, self.cur.maxt);
        self.cur.seek(t, || Self::chunks(closed, open, maxt))
    }

    /// Timestamp of the current sample.
    pub fn at_t(&self) -> i64 {
        self.cur.t()
    }

    /// The current float sample; meaningful when `next`/`seek` said [`ValueType::Float`].
    pub fn at(&self) -> (i64, f64) {
        self.cur.at()
    }

    /// Writes the current integer histogram into `out` (reusing its buffers) and returns
    /// its timestamp; meaningful at [`ValueType::Histogram`].
    pub fn at_histogram(&self, out: &mut Histogram) -> i64 {
        self.cur.at_histogram(out)
    }

    /// Writes the current histogram, integer or float, into `out` as a float histogram
    /// and returns its timestamp; meaningful at either histogram type.
    pub fn at_float_histogram(&self, out: &mut FloatHistogram) -> i64 {
        self.cur.at_float_histogram(out)
    }
}

impl MixedIterator for HeadSampleIter<'_> {
    fn next(&mut self) -> ValueType {
        HeadSampleIter::next(self)
    }
    fn seek(&mut self, t: i64) -> ValueType {
        HeadSampleIter::seek(self, t)
    }
    fn at_t(&self) -> i64 {
        HeadSampleIter::at_t(self)
    }
    fn at(&self) -> (i64, f64) {
        HeadSampleIter::at(self)
    }
    fn at_histogram(&self, out: &mut Histogram) -> i64 {
        HeadSampleIter::at_histogram(self, out)
    }
    fn at_float_histogram(&self, out: &mut FloatHistogram) -> i64 {
        HeadSampleIter::at_float_histogram(self, out)
    }
}

impl MemSeries {
    /// An iterator over every sample type in `[mint, maxt]`.
    pub fn sample_iter(&self, mint: i64, maxt: i64) -> HeadSampleIter<'_> {
        HeadSampleIter::new(self, mint, maxt)
    }
}
