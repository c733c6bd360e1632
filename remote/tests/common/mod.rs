//! Helpers shared by the integration tests.
#![allow(dead_code)]

use exposition::{Labels, MatchOp, Matcher};
use tsdb::chunk::SampleIterator;
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
