//! The storage boundary: the only thing the engine sees of where samples live.
//!
//! [`Storage::querier`] opens a read view over a time range; a [`Querier`] selects
//! series by label matchers and answers label-name / label-value questions. Each
//! selected [`StorageSeries`] hands out a [`SampleIterator`] that walks samples in
//! time order and can `seek`, so the engine never has to copy a whole series.
//!
//! [`MemStorage`] is a small in-memory implementation (sorted samples per series),
//! used by the promqltest runner and handy for embedding and tests.

use exposition::histogram::FloatHistogram;
use exposition::{matches_all, Labels, Matcher};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The value of one stored sample: a float or a native histogram.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleValue {
    /// A float sample (possibly the staleness-marker NaN).
    Float(f64),
    /// A native histogram sample.
    Histogram(Arc<FloatHistogram>),
}

/// Errors a storage implementation can report to the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A sample was appended out of time order for its series.
    #[error("out of order sample for series {series} at {t}")]
    OutOfOrderSample {
        /// The series labels (PromQL form).
        series: String,
        /// The rejected timestamp.
        t: i64,
    },
    /// The backing store failed (I/O, corruption, ...).
    #[error("storage failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store cannot hold native-histogram samples (an appender without histogram
    /// support was handed one).
    #[error("native histograms are not supported by this appender (series {series} at {t})")]
    HistogramsUnsupported {
        /// The series labels (PromQL form).
        series: String,
        /// The rejected timestamp.
        t: i64,
    },
}

/// Hints the engine passes along with a select; implementations may ignore them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SelectHints {
    /// Earliest timestamp the engine will read (inclusive), in ms.
    pub start: i64,
    /// Latest timestamp the engine will read (inclusive), in ms.
    pub end: i64,
    /// Query step in ms (0 for instant queries).
    pub step: i64,
    /// Range of the matrix selector in ms, 0 for vector selectors.
    pub range: i64,
}

/// Something that can be queried: a tsdb, the in-memory store, a remote store.
pub trait Storage {
    /// Opens a read view over samples with timestamps in `[mint, maxt]`.
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError>;
}

/// A read view over one time range.
pub trait Querier {
    /// The series matching all `matchers`, sorted by labels.
    fn select(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<Box<dyn StorageSeries + '_>>, StorageError>;
    /// Sorted label names of series matching `matchers` (all series when empty).
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;
    /// Sorted values of label `name` over series matching `matchers`.
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;
}

/// One selected series.
pub trait StorageSeries {
    /// The series labels.
    fn labels(&self) -> &Labels;
    /// A fresh iterator over the series' samples (restricted to the querier's range).
    fn iter(&self) -> Box<dyn SampleIterator + '_>;
    /// Whether the series may hold native-histogram samples in range. The default,
    /// `true`, makes the engine read with [`SampleIterator::next_value`]; a store that
    /// knows a series holds floats only answers `false`, and the engine then uses the
    /// float-only [`SampleIterator::next`] loops.
    fn may_have_histograms(&self) -> bool {
        true
    }
}

/// Walks the samples of one series in ascending time order.
///
/// `next`/`seek` see float samples only (a store without histograms implements just
/// those); [`SampleIterator::next_value`] sees every sample, floats and histograms,
/// and is what the engine reads with. Use one or the other on one iterator, not both.
pub trait SampleIterator {
    /// The next float sample, or `None` at the end.
    fn next(&mut self) -> Option<(i64, f64)>;
    /// The next sample of either kind, or `None` at the end. The default wraps
    /// [`SampleIterator::next`], for stores that hold floats only.
    fn next_value(&mut self) -> Option<(i64, SampleValue)> {
        self.next().map(|(t, f)| (t, SampleValue::Float(f)))
    }
    /// Advances to the first sample with timestamp `>= t` and returns it; never moves
    /// backwards (if the current sample is already at or after `t`, returns it again).
    fn seek(&mut self, t: i64) -> Option<(i64, f64)>;
    /// The start timestamp (ms) of the sample last returned: when the counter behind it
    /// started (OpenTelemetry's start time). 0 means unknown, the default.
    fn start_timestamp(&self) -> i64 {
        0
    }
}

/// An in-memory store: samples kept sorted per series. Filled by promqltest `load`.
///
/// ```
/// use promql::storage::{MemStorage, Storage, SelectHints};
/// use exposition::{Labels, Matcher};
/// let mut s = MemStorage::new();
/// let l = Labels::from_pairs(&[("__name__", "up"), ("job", "a")]);
/// s.append(&l, 0, 1.0).unwrap();
/// s.append(&l, 1000, 2.0).unwrap();
/// let q = s.querier(0, 1000).unwrap();
/// let set = q.select(&SelectHints::default(), &[Matcher::equal("__name__", "up")]).unwrap();
/// let mut it = set[0].iter();
/// assert_eq!(it.seek(500), Some((1000, 2.0)));
/// ```
#[derive(Debug, Default, Clone)]
pub struct MemStorage {
    series: BTreeMap<Labels, Vec<(i64, f64)>>,
    /// Histogram samples of the series that have any (their key is also in `series`,
    /// whose float list may then be empty).
    hists: std::collections::HashMap<Labels, Vec<(i64, Arc<FloatHistogram>)>>,
    /// Metric name -> the series with that name (a one-label postings index).
    by_name: std::collections::HashMap<String, std::collections::BTreeSet<Labels>>,
    /// Start timestamps, for the samples that have one: series -> (t -> st).
    starts: std::collections::HashMap<Labels, BTreeMap<i64, i64>>,
}

impl MemStorage {
    /// An empty store.
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    /// Appends one sample; timestamps per series must increase (an equal timestamp
    /// replaces the last sample).
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<(), StorageError> {
        self.index(labels);
        if let Some(h) = self.hists.get_mut(labels) {
            match h.last() {
                Some(last) if last.0 > t => {
                    return Err(StorageError::OutOfOrderSample {
                        series: labels.to_string(),
                        t,
                    })
                }
                Some(last) if last.0 == t => {
                    h.pop();
                }
                _ => {}
            }
        }
        let s = self.series.entry(labels.clone()).or_default();
        match s.last_mut() {
            Some(last) if last.0 == t => last.1 = v,
            Some(last) if last.0 > t => {
                return Err(StorageError::OutOfOrderSample {
                    series: labels.to_string(),
                    t,
                })
            }
            _ => s.push((t, v)),
        }
        Ok(())
    }

    /// Appends many samples of one series (looked up once); timestamps must increase.
    pub fn append_series(
        &mut self,
        labels: &Labels,
        samples: impl IntoIterator<Item = (i64, f64)>,
    ) -> Result<(), StorageError> {
        self.index(labels);
        let s = self.series.entry(labels.clone()).or_default();
        for (t, v) in samples {
            match s.last_mut() {
                Some(last) if last.0 == t => last.1 = v,
                Some(last) if last.0 > t => {
                    return Err(StorageError::OutOfOrderSample {
                        series: labels.to_string(),
                        t,
                    })
                }
                _ => s.push((t, v)),
            }
        }
        Ok(())
    }

    /// Appends one native-histogram sample; timestamps per series must increase across
    /// float and histogram samples (an equal timestamp replaces the last sample).
    ///
    /// ```
    /// use exposition::{histogram::FloatHistogram, Labels, Matcher};
    /// use promql::storage::{MemStorage, SampleValue, SelectHints, Storage};
    /// use std::sync::Arc;
    /// let mut s = MemStorage::new();
    /// let l = Labels::from_pairs(&[("__name__", "h")]);
    /// let h = Arc::new(FloatHistogram { count: 3.0, sum: 1.5, ..Default::default() });
    /// s.append(&l, 0, 1.0).unwrap();
    /// s.append_histogram(&l, 1000, h.clone()).unwrap();
    /// let q = s.querier(0, 1000).unwrap();
    /// let set = q.select(&SelectHints::default(), &[Matcher::equal("__name__", "h")]).unwrap();
    /// let mut it = set[0].iter();
    /// assert!(set[0].may_have_histograms());
    /// assert_eq!(it.next_value(), Some((0, SampleValue::Float(1.0))));
    /// assert_eq!(it.next_value(), Some((1000, SampleValue::Histogram(h))));
    /// assert_eq!(it.next_value(), None);
    /// ```
    pub fn append_histogram(
        &mut self,
        labels: &Labels,
        t: i64,
        h: Arc<FloatHistogram>,
    ) -> Result<(), StorageError> {
        self.index(labels);
        let s = self.series.entry(labels.clone()).or_default();
        match s.last() {
            Some(last) if last.0 > t => {
                return Err(StorageError::OutOfOrderSample {
                    series: labels.to_string(),
                    t,
                })
            }
            Some(last) if last.0 == t => {
                s.pop();
            }
            _ => {}
        }
        let hs = self.hists.entry(labels.clone()).or_default();
        match hs.last_mut() {
            Some(last) if last.0 == t => last.1 = h,
            Some(last) if last.0 > t => {
                return Err(StorageError::OutOfOrderSample {
                    series: labels.to_string(),
                    t,
                })
            }
            _ => hs.push((t, h)),
        }
        Ok(())
    }

    fn index(&mut self, labels: &Labels) {
        if self.series.contains_key(labels) {
            return;
        }
        if let Some(n) = labels.metric_name() {
            self.by_name
                .entry(n.to_string())
                .or_default()
                .insert(labels.clone());
        }
    }

    /// Records the start timestamp `st` (ms) of the sample at `t` of a series.
    pub fn set_start_timestamp(&mut self, labels: &Labels, t: i64, st: i64) {
        self.starts.entry(labels.clone()).or_default().insert(t, st);
    }

    /// Removes a series' samples with timestamps in `[mint, maxt]`; empty series are dropped.
    pub fn delete_range(&mut self, labels: &Labels, mint: i64, maxt: i64) {
        let mut hists_left = false;
        if let Some(h) = self.hists.get_mut(labels) {
            h.retain(|(t, _)| *t < mint || *t > maxt);
            hists_left = !h.is_empty();
            if !hists_left {
                self.hists.remove(labels);
            }
        }
        if let Some(s) = self.series.get_mut(labels) {
            s.retain(|(t, _)| *t < mint || *t > maxt);
            if s.is_empty() && !hists_left {
                self.series.remove(labels);
                if let Some(set) = labels.metric_name().and_then(|n| self.by_name.get_mut(n)) {
                    set.remove(labels);
                }
            }
        }
    }

    /// Number of series stored.
    pub fn num_series(&self) -> usize {
        self.series.len()
    }

    /// Drops all data.
    pub fn clear(&mut self) {
        self.series.clear();
        self.hists.clear();
        self.by_name.clear();
        self.starts.clear();
    }
}

type SeriesEntry<'a> = (&'a Labels, &'a Vec<(i64, f64)>);

struct MemQuerier<'a> {
    store: &'a MemStorage,
    mint: i64,
    maxt: i64,
}

struct MemSeries<'a> {
    labels: &'a Labels,
    samples: &'a [(i64, f64)],
    hists: &'a [(i64, Arc<FloatHistogram>)],
    starts: Option<&'a BTreeMap<i64, i64>>,
}

struct MemIter<'a> {
    samples: &'a [(i64, f64)],
    pos: usize,
    started: bool,
    starts: Option<&'a BTreeMap<i64, i64>>,
    hists: &'a [(i64, Arc<FloatHistogram>)],
    /// Next histogram to hand out from `next_value`.
    hpos: usize,
    /// Next float to hand out from `next_value` (when histograms are present).
    fpos: usize,
    /// Timestamp of the sample last returned by `next_value` on a series with
    /// histograms (whose floats are not walked through `pos`).
    value_t: Option<i64>,
}

impl Storage for MemStorage {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError> {
        Ok(Box::new(MemQuerier {
            store: self,
            mint,
            maxt,
        }))
    }
}

impl Querier for MemQuerier<'_> {
    fn select(
        &self,
        _hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<Box<dyn StorageSeries + '_>>, StorageError> {
        let mut out: Vec<Box<dyn StorageSeries + '_>> = Vec::new();
        let (mint, maxt) = (self.mint, self.maxt);
        let name_eq = matchers
            .iter()
            .find(|m| m.name() == exposition::METRIC_NAME && m.op() == exposition::MatchOp::Equal);
        let candidates: Box<dyn Iterator<Item = SeriesEntry<'_>>> = match name_eq {
            Some(m) => match self.store.by_name.get(m.value()) {
                Some(set) => Box::new(
                    set.iter()
                        .filter_map(|l| self.store.series.get_key_value(l)),
                ),
                None => Box::new(std::iter::empty()),
            },
            None => Box::new(self.store.series.iter()),
        };
        for (l, s) in candidates {
            if !matches_all(matchers, l) {
                continue;
            }
            let lo = first_at_or_after(s, mint);
            let hi = lo + first_at_or_after(&s[lo..], maxt.saturating_add(1));
            let hists: &[(i64, Arc<FloatHistogram>)] = match self.store.hists.get(l) {
                Some(h) => {
                    let a = h.partition_point(|(t, _)| *t < mint);
                    let b = h.partition_point(|(t, _)| *t <= maxt);
                    &h[a..b.max(a)]
                }
                None => &[],
            };
            if lo < hi || !hists.is_empty() {
                out.push(Box::new(MemSeries {
                    labels: l,
                    samples: &s[lo..hi],
                    hists,
                    starts: self.store.starts.get(l),
                }));
            }
        }
        Ok(out)
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut names: Vec<String> = Vec::new();
        for (l, _) in self.matching_owned(matchers) {
            for lab in l.iter() {
                names.push(lab.name.clone());
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut vals: Vec<String> = Vec::new();
        for (l, _) in self.matching_owned(matchers) {
            if let Some(v) = l.get(name) {
                vals.push(v.to_string());
            }
        }
        vals.sort();
        vals.dedup();
        Ok(vals)
    }
}

impl MemQuerier<'_> {
    fn matching_owned(&self, matchers: &[Matcher]) -> Vec<(&Labels, usize)> {
        let (mint, maxt) = (self.mint, self.maxt);
        self.store
            .series
            .iter()
            .filter(|(l, s)| {
                matches_all(matchers, l)
                    && (s.iter().any(|(t, _)| *t >= mint && *t <= maxt)
                        || self
                            .store
                            .hists
                            .get(*l)
                            .is_some_and(|h| h.iter().any(|(t, _)| *t >= mint && *t <= maxt)))
            })
            .map(|(l, s)| (l, s.len()))
            .collect()
    }
}

/// Index of the first sample with timestamp `>= t`. Guesses the position by
/// interpolation (samples are usually evenly spaced) and gallops from there, so a
/// lookup touches a handful of cache lines instead of a full binary search.
fn first_at_or_after(s: &[(i64, f64)], t: i64) -> usize {
    let n = s.len();
    if n == 0 || s[0].0 >= t {
        return 0;
    }
    if s[n - 1].0 < t {
        return n;
    }
    let (t0, t1) = (s[0].0 as f64, s[n - 1].0 as f64);
    let guess = (((t as f64 - t0) / (t1 - t0)) * (n - 1) as f64) as usize;
    let mut g = guess.min(n - 1);
    // Invariant we establish: s[lo].0 < t <= s[hi].0.
    let (mut lo, mut hi);
    if s[g].0 < t {
        let mut step = 1;
        lo = g;
        loop {
            let nxt = (lo + step).min(n - 1);
            if s[nxt].0 >= t {
                hi = nxt;
                break;
            }
            lo = nxt;
            step *= 2;
        }
    } else {
        let mut step = 1;
        hi = g;
        loop {
            let nxt = g.saturating_sub(step);
            if s[nxt].0 < t {
                lo = nxt;
                break;
            }
            hi = nxt;
            g = nxt;
            step *= 2;
        }
    }
    lo + 1 + s[lo + 1..hi].partition_point(|(ts, _)| *ts < t)
}

impl StorageSeries for MemSeries<'_> {
    fn labels(&self) -> &Labels {
        self.labels
    }
    fn may_have_histograms(&self) -> bool {
        !self.hists.is_empty()
    }
    fn iter(&self) -> Box<dyn SampleIterator + '_> {
        Box::new(MemIter {
            samples: self.samples,
            pos: 0,
            started: false,
            starts: self.starts,
            hists: self.hists,
            hpos: 0,
            fpos: 0,
            value_t: None,
        })
    }
}

impl SampleIterator for MemIter<'_> {
    fn next_value(&mut self) -> Option<(i64, SampleValue)> {
        if self.hists.is_empty() {
            return self.next().map(|(t, f)| (t, SampleValue::Float(f)));
        }
        let f = self.samples.get(self.fpos);
        let h = self.hists.get(self.hpos);
        let next = match (f, h) {
            (Some(&(tf, v)), Some((th, _))) if tf < *th => {
                self.fpos += 1;
                Some((tf, SampleValue::Float(v)))
            }
            (_, Some((th, h))) => {
                self.hpos += 1;
                Some((*th, SampleValue::Histogram(h.clone())))
            }
            (Some(&(tf, v)), None) => {
                self.fpos += 1;
                Some((tf, SampleValue::Float(v)))
            }
            (None, None) => None,
        };
        self.value_t = next.as_ref().map(|(t, _)| *t);
        next
    }

    fn next(&mut self) -> Option<(i64, f64)> {
        if self.started {
            self.pos += 1;
        }
        self.started = true;
        self.samples.get(self.pos).copied()
    }

    fn start_timestamp(&self) -> i64 {
        if let (Some(m), Some(t)) = (self.starts, self.value_t) {
            return m.get(&t).copied().unwrap_or(0);
        }
        match (self.starts, self.samples.get(self.pos)) {
            (Some(m), Some(&(t, _))) if self.started => m.get(&t).copied().unwrap_or(0),
            _ => 0,
        }
    }

    fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        if !self.started {
            self.started = true;
        }
        let rest = &self.samples[self.pos.min(self.samples.len())..];
        self.pos += rest.partition_point(|(ts, _)| *ts < t);
        self.samples.get(self.pos).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> MemStorage {
        let mut s = MemStorage::new();
        let a = Labels::from_pairs(&[("__name__", "m"), ("i", "a")]);
        let b = Labels::from_pairs(&[("__name__", "m"), ("i", "b")]);
        for t in 0..10 {
            s.append(&a, t * 10, t as f64).unwrap();
        }
        s.append(&b, 50, 1.0).unwrap();
        s
    }

    #[test]
    fn select_restricts_range_and_matchers() {
        let s = store();
        let q = s.querier(20, 40).unwrap();
        let set = q
            .select(&SelectHints::default(), &[Matcher::equal("__name__", "m")])
            .unwrap();
        assert_eq!(set.len(), 1);
        let mut it = set[0].iter();
        assert_eq!(it.next(), Some((20, 2.0)));
        assert_eq!(it.next(), Some((30, 3.0)));
        assert_eq!(it.seek(25), Some((30, 3.0)));
        assert_eq!(it.seek(40), Some((40, 4.0)));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn galloping_lower_bound_agrees_with_binary_search() {
        let s: Vec<(i64, f64)> = [0, 5, 7, 7, 20, 21, 22, 100, 1000]
            .iter()
            .map(|&t| (t, 0.0))
            .collect();
        for t in -5..1010 {
            assert_eq!(
                first_at_or_after(&s, t),
                s.partition_point(|(x, _)| *x < t),
                "t={t}"
            );
        }
    }

    #[test]
    fn out_of_order_rejected() {
        let mut s = store();
        let a = Labels::from_pairs(&[("__name__", "m"), ("i", "a")]);
        assert!(s.append(&a, 5, 1.0).is_err());
    }

    #[test]
    fn label_values_sorted() {
        let s = store();
        let q = s.querier(0, 100).unwrap();
        assert_eq!(q.label_values("i", &[]).unwrap(), vec!["a", "b"]);
        assert_eq!(q.label_names(&[]).unwrap(), vec!["__name__", "i"]);
    }

    #[test]
    fn start_timestamps_follow_next_value() {
        let mut s = MemStorage::new();
        let l = Labels::from_pairs(&[("__name__", "h")]);
        s.append(&l, 10, 1.0).unwrap();
        s.append_histogram(&l, 20, Arc::new(FloatHistogram::default()))
            .unwrap();
        s.set_start_timestamp(&l, 10, 5);
        s.set_start_timestamp(&l, 20, 15);
        let q = s.querier(0, 100).unwrap();
        let set = q.select(&SelectHints::default(), &[]).unwrap();
        let mut it = set[0].iter();
        let mut got = Vec::new();
        while let Some((t, _)) = it.next_value() {
            got.push((t, it.start_timestamp()));
        }
        assert_eq!(got, vec![(10, 5), (20, 15)]);
    }
}
