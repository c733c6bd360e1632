//! The head's write path: a transaction that validates samples as they come and applies
//! them all at commit.

use exposition::histogram::{FloatHistogram, Histogram};
use exposition::Labels;

use super::Head;
use crate::chunk::histogram::{validate_float_histogram, validate_histogram};
use crate::error::{Error, Result};
use crate::storage::{Appender, SeriesRef};
use crate::wal::record::{self, RefSample};

/// A sample accepted by an appender and waiting for commit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PendingSample {
    /// Series ref.
    pub r: u32,
    /// Timestamp (ms).
    pub t: i64,
    /// Value bits.
    pub v: u64,
}

/// A native histogram sample of either kind.
#[derive(Debug, Clone, PartialEq)]
pub enum HistogramValue {
    /// Integer counts.
    Int(Histogram),
    /// Float counts.
    Float(FloatHistogram),
}

impl HistogramValue {
    /// Whether two values are equal apart from their counter-reset hints.
    fn same_as(&self, other: &HistogramValue) -> bool {
        match (self, other) {
            (HistogramValue::Int(a), HistogramValue::Int(b)) => eq_int_ignoring_hint(a, b),
            (HistogramValue::Float(a), HistogramValue::Float(b)) => eq_float_ignoring_hint(a, b),
            _ => false,
        }
    }
}

fn eq_int_ignoring_hint(a: &Histogram, b: &Histogram) -> bool {
    a.schema == b.schema
        && a.zero_threshold.to_bits() == b.zero_threshold.to_bits()
        && a.zero_count == b.zero_count
        && a.count == b.count
        && a.sum.to_bits() == b.sum.to_bits()
        && a.positive_spans == b.positive_spans
        && a.negative_spans == b.negative_spans
        && a.positive_buckets == b.positive_buckets
        && a.negative_buckets == b.negative_buckets
        && bits_eq(&a.custom_values, &b.custom_values)
}

fn eq_float_ignoring_hint(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    a.schema == b.schema
        && a.zero_threshold.to_bits() == b.zero_threshold.to_bits()
        && a.zero_count.to_bits() == b.zero_count.to_bits()
        && a.count.to_bits() == b.count.to_bits()
        && a.sum.to_bits() == b.sum.to_bits()
        && a.positive_spans == b.positive_spans
        && a.negative_spans == b.negative_spans
        && bits_eq(&a.positive_buckets, &b.positive_buckets)
        && bits_eq(&a.negative_buckets, &b.negative_buckets)
        && bits_eq(&a.custom_values, &b.custom_values)
}

fn bits_eq(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// A histogram accepted by an appender and waiting for commit.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingHistogram {
    /// Series ref.
    pub r: u32,
    /// Timestamp (ms).
    pub t: i64,
    /// Number of float samples appended before it: where it sits in append order.
    pub pos: usize,
    /// The histogram.
    pub h: HistogramValue,
}

/// A write transaction on a [`Head`]. Series are created as soon as they are appended (as
/// in Prometheus); samples become visible at [`HeadAppender::commit`]. Dropping an
/// appender without committing rolls it back.
#[derive(Debug)]
pub struct HeadAppender<'a> {
    pub(crate) head: &'a mut Head,
    pub(crate) samples: Vec<PendingSample>,
    pub(crate) histograms: Vec<PendingHistogram>,
    min_valid: i64,
    done: bool,
}

impl<'a> HeadAppender<'a> {
    pub(crate) fn new(head: &'a mut Head) -> HeadAppender<'a> {
        let min_valid = head.min_valid_time();
        let samples = std::mem::take(&mut head.spare);
        HeadAppender {
            head,
            samples,
            histograms: Vec::new(),
            min_valid,
            done: false,
        }
    }

    /// Appends a sample to the series with these labels, creating the series if needed,
    /// and returns its ref for later [`HeadAppender::append_ref`] calls.
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef> {
        if t < self.min_valid {
            return Err(Error::OutOfBounds {
                t,
                min_valid_t: self.min_valid,
            });
        }
        let r = match self.head.lookup(labels) {
            Some(r) => r,
            None => {
                self.check_new_series(labels)?;
                SeriesRef(u64::from(self.head.get_or_create(labels).0))
            }
        };
        self.append_ref(r, t, v)?;
        Ok(r)
    }

    /// Appends a sample to a known series: the allocation-free hot path.
    #[inline]
    pub fn append_ref(&mut self, r: SeriesRef, t: i64, v: f64) -> Result<()> {
        if t < self.min_valid {
            return Err(Error::OutOfBounds {
                t,
                min_valid_t: self.min_valid,
            });
        }
        let idx = u32::try_from(r.0).map_err(|_| Error::UnknownSeries(r.0))?;
        let s = self.head.series_mut(idx).ok_or(Error::UnknownSeries(r.0))?;
        let vb = v.to_bits();
        let (lt, lv) = if s.txn_t != i64::MIN {
            (s.txn_t, s.txn_v)
        } else {
            (s.last_t, s.last_v)
        };
        if lt != i64::MIN {
            if t < lt {
                return Err(Error::OutOfOrderSample { t, last_t: lt });
            }
            if t == lt {
                let last_is_float = if s.txn_t != i64::MIN {
                    !s.txn_hist
                } else {
                    s.hopen.is_none()
                };
                if vb == lv && last_is_float {
                    // Same timestamp, same value: accepted and ignored, as in Prometheus.
                    return Ok(());
                }
                return Err(Error::DuplicateSample { t });
            }
        }
        s.txn_t = t;
        s.txn_v = vb;
        s.txn_hist = false;
        self.samples.push(PendingSample { r: idx, t, v: vb });
        Ok(())
    }

    /// Finds or creates the series for `labels` (validating them when new).
    fn resolve(&mut self, labels: &Labels) -> Result<SeriesRef> {
        if let Some(r) = self.head.lookup(labels) {
            return Ok(r);
        }
        self.check_new_series(labels)?;
        Ok(SeriesRef(u64::from(self.head.get_or_create(labels).0)))
    }

    /// Whether a series with these (not yet known) labels may be created: valid labels,
    /// refs left, and room under the active-series cap.
    fn check_new_series(&self, labels: &Labels) -> Result<()> {
        Head::check_labels(labels)?;
        if self.head.series.next_ref() == u32::MAX {
            return Err(Error::SeriesLimit);
        }
        let limit = self.head.opts.max_series;
        if limit != 0 && self.head.num_series() >= limit {
            return Err(Error::TooManySeries { limit });
        }
        Ok(())
    }

    /// Appends an integer native histogram to the series with these labels, creating the
    /// series if needed. The same ordering rules as for floats apply, across sample types:
    /// a series holds one sample per timestamp.
    pub fn append_histogram(
        &mut self,
        labels: &Labels,
        t: i64,
        h: &Histogram,
    ) -> Result<SeriesRef> {
        if t < self.min_valid {
            return Err(Error::OutOfBounds {
                t,
                min_valid_t: self.min_valid,
            });
        }
        validate_histogram(h)?;
        let r = self.resolve(labels)?;
        self.push_histogram(r, t, HistogramValue::Int(h.clone()))?;
        Ok(r)
    }

    /// Appends an integer native histogram to a known series.
    pub fn append_histogram_ref(&mut self, r: SeriesRef, t: i64, h: &Histogram) -> Result<()> {
        validate_histogram(h)?;
        self.push_histogram(r, t, HistogramValue::Int(h.clone()))
    }

    /// Appends a float native histogram to the series with these labels, creating the
    /// series if needed.
    pub fn append_float_histogram(
        &mut self,
        labels: &Labels,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<SeriesRef> {
        if t < self.min_valid {
            return Err(Error::OutOfBounds {
                t,
                min_valid_t: self.min_valid,
            });
        }
        validate_float_histogram(h)?;
        let r = self.resolve(labels)?;
        self.push_histogram(r, t, HistogramValue::Float(h.clone()))?;
        Ok(r)
    }

    /// Appends a float native histogram to a known series.
    pub fn append_float_histogram_ref(
        &mut self,
        r: SeriesRef,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<()> {
        validate_float_histogram(h)?;
        self.push_histogram(r, t, HistogramValue::Float(h.clone()))
    }

    fn push_histogram(&mut self, r: SeriesRef, t: i64, h: HistogramValue) -> Result<()> {
        if t < self.min_valid {
            return Err(Error::OutOfBounds {
                t,
                min_valid_t: self.min_valid,
            });
        }
        let idx = u32::try_from(r.0).map_err(|_| Error::UnknownSeries(r.0))?;
        let s = self.head.series.get(idx).ok_or(Error::UnknownSeries(r.0))?;
        let pending = s.txn_t != i64::MIN;
        let lt = if pending { s.txn_t } else { s.last_t };
        if lt != i64::MIN {
            if t < lt {
                return Err(Error::OutOfOrderSample { t, last_t: lt });
            }
            if t == lt {
                let same = if pending {
                    s.txn_hist
                        && self
                            .histograms
                            .iter()
                            .rev()
                            .find(|p| p.r == idx)
                            .is_some_and(|p| p.h.same_as(&h))
                } else {
                    match &h {
                        HistogramValue::Int(h) => s.last_histogram_equals(h),
                        HistogramValue::Float(h) => s.last_float_histogram_equals(h),
                    }
                };
                if same {
                    return Ok(());
                }
                return Err(Error::DuplicateSample { t });
            }
        }
        let s = self.head.series_mut(idx).ok_or(Error::UnknownSeries(r.0))?;
        s.txn_t = t;
        s.txn_hist = true;
        self.histograms.push(PendingHistogram {
            r: idx,
            t,
            pos: self.samples.len(),
            h,
        });
        Ok(())
    }

    /// Histograms accepted so far, in append order.
    pub fn pending_histograms(&self) -> &[PendingHistogram] {
        &self.histograms
    }

    /// Whether nothing (float or histogram) was accepted.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty() && self.histograms.is_empty()
    }

    /// Refs of the series touched by this transaction (with repeats).
    pub fn touched_refs(&self) -> impl Iterator<Item = u32> + '_ {
        self.samples
            .iter()
            .map(|p| p.r)
            .chain(self.histograms.iter().map(|p| p.r))
    }

    /// Newest timestamp accepted (float or histogram), if any.
    pub fn max_pending_t(&self) -> Option<i64> {
        self.samples
            .iter()
            .map(|p| p.t)
            .chain(self.histograms.iter().map(|p| p.t))
            .max()
    }

    /// Appends the transaction's WAL records (framed) to `out`: float samples and
    /// histograms in runs that keep the append order, so a replay applies them in the
    /// same order as the commit.
    pub fn encode_wal_samples(&self, out: &mut Vec<u8>) {
        let float_run = |out: &mut Vec<u8>, run: &[PendingSample]| {
            if !run.is_empty() {
                record::frame(out, |b| {
                    record::encode_samples(
                        b,
                        run.iter().map(|p| RefSample {
                            r: u64::from(p.r),
                            t: p.t,
                            v: p.v,
                        }),
                    )
                });
            }
        };
        let mut done = 0usize;
        let mut rest = &self.histograms[..];
        while let Some(first) = rest.first() {
            let pos = first.pos.min(self.samples.len());
            float_run(out, &self.samples[done.min(pos)..pos]);
            done = done.max(pos);
            let is_int = matches!(first.h, HistogramValue::Int(_));
            let n = rest
                .iter()
                .take_while(|p| {
                    p.pos == first.pos && matches!(p.h, HistogramValue::Int(_)) == is_int
                })
                .count();
            let (run, tail) = rest.split_at(n);
            if is_int {
                record::frame(out, |b| {
                    record::encode_histogram_samples(
                        b,
                        run.iter().filter_map(|p| match &p.h {
                            HistogramValue::Int(h) => Some((u64::from(p.r), p.t, h)),
                            HistogramValue::Float(_) => None,
                        }),
                    )
                });
            } else {
                record::frame(out, |b| {
                    record::encode_float_histogram_samples(
                        b,
                        run.iter().filter_map(|p| match &p.h {
                            HistogramValue::Float(h) => Some((u64::from(p.r), p.t, h)),
                            HistogramValue::Int(_) => None,
                        }),
                    )
                });
            }
            rest = tail;
        }
        float_run(out, &self.samples[done..]);
    }

    /// Samples accepted so far, in append order.
    pub fn pending(&self) -> &[PendingSample] {
        &self.samples
    }

    /// The head being written.
    pub fn head(&self) -> &Head {
        self.head
    }

    /// Makes every accepted sample visible at once.
    pub fn commit(mut self) {
        self.apply();
    }

    /// Drops every accepted sample (series created meanwhile stay, empty, until the next
    /// truncation collects them).
    pub fn rollback(mut self) {
        self.discard();
    }

    pub(crate) fn apply(&mut self) {
        let (range, per_chunk) = (
            self.head.opts.chunk_range_ms,
            self.head.opts.samples_per_chunk,
        );
        let mut max_t = self.head.max_t;
        if self.histograms.is_empty() {
            for p in &self.samples {
                if let Some(s) = self.head.series_mut(p.r) {
                    s.append(p.t, p.v, range, per_chunk);
                    s.txn_t = i64::MIN;
                    max_t = max_t.max(p.t);
                }
            }
        } else {
            // Floats and histograms in append order (per series, that is time order).
            let mut hs = self.histograms.iter().peekable();
            for (i, p) in self.samples.iter().enumerate() {
                while let Some(h) = hs.next_if(|h| h.pos <= i) {
                    max_t = max_t.max(h.t);
                    self.head.apply_histogram(h.r, h.t, &h.h);
                }
                if let Some(s) = self.head.series_mut(p.r) {
                    s.append(p.t, p.v, range, per_chunk);
                    s.txn_t = i64::MIN;
                    max_t = max_t.max(p.t);
                }
            }
            for h in hs {
                max_t = max_t.max(h.t);
                self.head.apply_histogram(h.r, h.t, &h.h);
            }
        }
        self.head.max_t = max_t;
        self.head.maybe_rebuild_order();
        self.finish();
    }

    pub(crate) fn discard(&mut self) {
        for p in &self.samples {
            if let Some(s) = self.head.series_mut(p.r) {
                s.txn_t = i64::MIN;
            }
        }
        for p in &self.histograms {
            if let Some(s) = self.head.series_mut(p.r) {
                s.txn_t = i64::MIN;
                s.txn_hist = false;
            }
        }
        self.finish();
    }

    fn finish(&mut self) {
        self.done = true;
        self.histograms.clear();
        let mut buf = std::mem::take(&mut self.samples);
        buf.clear();
        if buf.capacity() <= 1 << 20 {
            self.head.spare = buf;
        }
    }
}

impl Drop for HeadAppender<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.discard();
        }
    }
}

impl Appender for HeadAppender<'_> {
    fn append(
        &mut self,
        r: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef> {
        match r {
            Some(r) if self.head.series(r).is_some() => {
                self.append_ref(r, t, v)?;
                Ok(r)
            }
            _ => HeadAppender::append(self, labels, t, v),
        }
    }

    fn commit(self) -> Result<()> {
        HeadAppender::commit(self);
        Ok(())
    }

    fn rollback(self) {
        HeadAppender::rollback(self);
    }
}

impl Head {
    /// Applies one committed histogram to series `r` (commit and WAL replay).
    pub(crate) fn apply_histogram(&mut self, r: u32, t: i64, h: &HistogramValue) {
        let (range, per_chunk) = (self.opts.chunk_range_ms, self.opts.samples_per_chunk);
        if let Some(s) = self.series_mut(r) {
            match h {
                HistogramValue::Int(h) => s.append_histogram(t, h, range, per_chunk),
                HistogramValue::Float(h) => s.append_float_histogram(t, h, range, per_chunk),
            }
            s.txn_t = i64::MIN;
            s.txn_hist = false;
        }
    }
}
