//! The head's write path: a transaction that validates samples as they come and applies
//! them all at commit.

use exposition::Labels;

use super::Head;
use crate::error::{Error, Result};
use crate::storage::{Appender, SeriesRef};

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

/// A write transaction on a [`Head`]. Series are created as soon as they are appended (as
/// in Prometheus); samples become visible at [`HeadAppender::commit`]. Dropping an
/// appender without committing rolls it back.
#[derive(Debug)]
pub struct HeadAppender<'a> {
    pub(crate) head: &'a mut Head,
    pub(crate) samples: Vec<PendingSample>,
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
                Head::check_labels(labels)?;
                if self.head.series.next_ref() == u32::MAX {
                    return Err(Error::SeriesLimit);
                }
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
                if vb == lv {
                    // Same timestamp, same value: accepted and ignored, as in Prometheus.
                    return Ok(());
                }
                return Err(Error::DuplicateSample { t });
            }
        }
        s.txn_t = t;
        s.txn_v = vb;
        self.samples.push(PendingSample { r: idx, t, v: vb });
        Ok(())
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
        for p in &self.samples {
            if let Some(s) = self.head.series_mut(p.r) {
                s.append(p.t, p.v, range, per_chunk);
                s.txn_t = i64::MIN;
                max_t = max_t.max(p.t);
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
        self.finish();
    }

    fn finish(&mut self) {
        self.done = true;
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
