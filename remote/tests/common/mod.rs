//! Helpers shared by the integration tests.
#![allow(dead_code)]

use exposition::histogram::{FloatHistogram, Histogram};
use exposition::{Labels, MatchOp, Matcher};
use tsdb::chunk::{SampleIterator, ValueType};
use tsdb::{Queryable, SelectHints};

/// Every series in `q` with its samples as (t, value bits), sorted by labels.
pub fn dump(q: &impl Queryable) -> Vec<(Labels, Vec<(i64, u64)>)> {
    let querier = q.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap();
    let set = querier.select(&[m], &SelectHints::default()).unwrap();
    let mut out = Vec::new();
    for s in set {
        let mut it = s.iter();
        let mut samples = Vec::new();
        while it.next() {
            let (t, v) = it.at();
            samples.push((t, v.to_bits()));
        }
        out.push((s.labels().clone(), samples));
    }
    out.sort();
    out
}

/// A stored sample of any type, as read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// A float sample (value bits).
    Float(u64),
    /// An integer native histogram.
    Hist(Histogram),
    /// A float native histogram.
    FloatHist(FloatHistogram),
}

/// Every series in `q` with samples of every type, sorted by labels.
pub fn dump_all(q: &impl Queryable) -> Vec<(Labels, Vec<(i64, Stored)>)> {
    let querier = q.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap();
    let set = querier.select(&[m], &SelectHints::default()).unwrap();
    let mut out = Vec::new();
    for s in set {
        let mut it = s.sample_iter();
        let mut samples = Vec::new();
        loop {
            match it.next() {
                ValueType::None => break,
                ValueType::Float => {
                    let (t, v) = it.at();
                    samples.push((t, Stored::Float(v.to_bits())));
                }
                ValueType::Histogram => {
                    let mut h = Histogram::default();
                    let t = it.at_histogram(&mut h);
                    samples.push((t, Stored::Hist(h)));
                }
                ValueType::FloatHistogram => {
                    let mut h = FloatHistogram::default();
                    let t = it.at_float_histogram(&mut h);
                    samples.push((t, Stored::FloatHist(h)));
                }
            }
        }
        out.push((s.labels().clone(), samples));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
