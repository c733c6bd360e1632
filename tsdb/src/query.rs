//! Reading: which series match these matchers, and what are their samples in a range.
//!
//! ```text
//! &[Matcher] ──postings_for_matchers──► RoaringBitmap of refs ──sort by labels──► SeriesSet
//!                                                                     └──► Series::iter (SampleIterator)
//! ```
//!
//! Matchers become bitmap algebra over the head's postings, as in Prometheus: a matcher
//! that rejects the empty string intersects the union of the bitmaps of the values it
//! accepts; one that accepts the empty string (`foo=""`, `foo!="x"`, `foo!~".+"`) also
//! selects series without the label, so it *subtracts* the values it rejects. Values are
//! found through the matcher's fast paths (literal sets are looked up, prefixes scan an
//! ordered range) and only otherwise by testing each label value: never by testing series.

use std::collections::BTreeSet;
use std::ops::Bound;

use exposition::{Labels, Matcher};
use roaring::RoaringBitmap;

use crate::error::Result;
use crate::head::{Head, HeadSampleIter, MemPostings, MemSeries, SeriesIter};
use crate::storage::{Queryable, SelectHints};

/// The refs of the series that every matcher accepts (absent labels count as `""`).
pub fn postings_for_matchers(p: &MemPostings, matchers: &[Matcher]) -> RoaringBitmap {
    let mut acc: Option<RoaringBitmap> = None;
    let mut subtract: Vec<RoaringBitmap> = Vec::new();
    // Positive matchers first, smallest result first, so intersections shrink fast.
    for m in matchers.iter().filter(|m| !m.matches_empty()) {
        let b = values_matching(p, m, true);
        acc = Some(match acc {
            None => b,
            Some(mut a) => {
                a &= &b;
                a
            }
        });
        if acc.as_ref().is_some_and(RoaringBitmap::is_empty) {
            return RoaringBitmap::new();
        }
    }
    for m in matchers.iter().filter(|m| m.matches_empty()) {
        // Selects series without the label plus those whose value matches:
        // all minus the series whose value does not match.
        subtract.push(values_matching(p, m, false));
    }
    let mut out = acc.unwrap_or_else(|| p.all().clone());
    for s in &subtract {
        out -= s;
    }
    out
}

/// Union of the bitmaps of the values of `m.name()` for which `m.matches(v) == want`.
fn values_matching(p: &MemPostings, m: &Matcher, want: bool) -> RoaringBitmap {
    if want {
        union_accepted(p, m)
    } else {
        // The values `m` rejects are exactly those its inverse accepts.
        union_accepted(p, &m.inverse())
    }
}

/// Union of the bitmaps of the values `m` accepts, using its fast paths.
fn union_accepted(p: &MemPostings, m: &Matcher) -> RoaringBitmap {
    let mut out = RoaringBitmap::new();
    let Some(values) = p.values(m.name()) else {
        return out;
    };
    if let Some(set) = m.set_matches() {
        for v in set {
            if let Some(b) = values.get(v.as_str()) {
                out |= b;
            }
        }
        return out;
    }
    if let Some(prefix) = m.prefix() {
        let from = (Bound::Included(prefix), Bound::Unbounded);
        for (v, b) in values.range::<str, _>(from) {
            if !v.starts_with(prefix) {
                break;
            }
            out |= b;
        }
        return out;
    }
    for (v, b) in values {
        if m.matches(v) {
            out |= b;
        }
    }
    out
}

/// Reads the head over a fixed time range `[mint, maxt]`.
#[derive(Debug, Clone, Copy)]
pub struct Querier<'a> {
    head: &'a Head,
    mint: i64,
    maxt: i64,
}

impl<'a> Querier<'a> {
    /// A querier over `head` for `[mint, maxt]`, clipped to what the head still holds.
    pub fn new(head: &'a Head, mint: i64, maxt: i64) -> Querier<'a> {
        Querier {
            head,
            mint: mint.max(head.min_time()),
            maxt,
        }
    }

    /// The series every matcher accepts, sorted by labels, each iterating its samples in
    /// the querier's range narrowed by `hints`. Series without samples in the range are
    /// left out.
    pub fn select(&self, matchers: &[Matcher], hints: &SelectHints) -> Result<SeriesSet<'a>> {
        let mint = self.mint.max(hints.start);
        let maxt = self.maxt.min(hints.end);
        let bm = postings_for_matchers(&self.head.postings, matchers);
        let mut ranked: Vec<(u32, &'a MemSeries)> = Vec::with_capacity(bm.len() as usize);
        let mut unranked: Vec<&'a MemSeries> = Vec::new();
        if mint <= maxt {
            for r in &bm {
                if let Some(s) = self.head.series.get(r) {
                    if overlaps(s, mint, maxt) {
                        if s.rank != u32::MAX {
                            ranked.push((s.rank, s));
                        } else {
                            unranked.push(s);
                        }
                    }
                }
            }
        }
        // Series ranked at the last rebuild sort by integer rank; newer ones by labels;
        // then the two sorted runs are merged.
        ranked.sort_unstable_by_key(|&(k, _)| k);
        let series = if unranked.is_empty() {
            ranked.into_iter().map(|(_, s)| s).collect()
        } else {
            unranked.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
            merge_by_labels(ranked.into_iter().map(|(_, s)| s), unranked)
        };
        Ok(SeriesSet {
            series,
            pos: 0,
            mint,
            maxt,
        })
    }

    /// Label names carried by the series the matchers select (all names when `matchers`
    /// is empty), sorted.
    pub fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>> {
        if matchers.is_empty() {
            return Ok(self.head.postings.names().map(str::to_string).collect());
        }
        let bm = postings_for_matchers(&self.head.postings, matchers);
        let mut names = BTreeSet::new();
        for r in &bm {
            if let Some(s) = self.head.series.get(r) {
                for l in &s.labels {
                    if !names.contains(l.name.as_str()) {
                        names.insert(l.name.as_str());
                    }
                }
            }
        }
        Ok(names.into_iter().map(str::to_string).collect())
    }

    /// Values of label `name` among the series the matchers select (all values when
    /// `matchers` is empty), sorted.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
        let Some(values) = self.head.postings.values(name) else {
            return Ok(Vec::new());
        };
        if matchers.is_empty() {
            return Ok(values.keys().cloned().collect());
        }
        let bm = postings_for_matchers(&self.head.postings, matchers);
        Ok(values
            .iter()
            .filter(|(_, b)| !b.is_disjoint(&bm))
            .map(|(v, _)| v.clone())
            .collect())
    }

    /// How many series the matchers select (ignoring time), without sorting them.
    pub fn series_count(&self, matchers: &[Matcher]) -> u64 {
        postings_for_matchers(&self.head.postings, matchers).len()
    }

    /// The number of series per value of label `name`, sorted by value: the figure
    /// cardinality tools show.
    pub fn label_value_counts(&self, name: &str) -> Vec<(String, u64)> {
        self.head
            .postings
            .values(name)
            .map(|vals| vals.iter().map(|(v, b)| (v.clone(), b.len())).collect())
            .unwrap_or_default()
    }
}

fn merge_by_labels<'a>(
    a: impl Iterator<Item = &'a MemSeries>,
    b: Vec<&'a MemSeries>,
) -> Vec<&'a MemSeries> {
    let mut out = Vec::with_capacity(b.len());
    let mut a = a.peekable();
    let mut b = b.into_iter().peekable();
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.labels <= y.labels,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return out,
        };
        let next = if take_a { a.next() } else { b.next() };
        out.extend(next);
    }
}

fn overlaps(s: &MemSeries, mint: i64, maxt: i64) -> bool {
    match (s.min_time(), s.max_time()) {
        (Some(lo), Some(hi)) => lo <= maxt && hi >= mint,
        _ => false,
    }
}

impl Queryable for Head {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Querier<'_>> {
        Ok(Querier::new(self, mint, maxt))
    }
}

/// Selected series in label order; a lending cursor (`next` then `labels`/`iter`).
#[derive(Debug)]
pub struct SeriesSet<'a> {
    series: Vec<&'a MemSeries>,
    pos: usize,
    mint: i64,
    maxt: i64,
}

impl<'a> SeriesSet<'a> {
    /// Number of series in the set.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

impl<'a> Iterator for SeriesSet<'a> {
    type Item = Series<'a>;

    fn next(&mut self) -> Option<Series<'a>> {
        let s = *self.series.get(self.pos)?;
        self.pos += 1;
        Some(Series {
            s,
            mint: self.mint,
            maxt: self.maxt,
        })
    }
}

/// One selected series.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    s: &'a MemSeries,
    mint: i64,
    maxt: i64,
}

impl<'a> Series<'a> {
    /// The series' labels.
    pub fn labels(&self) -> &'a Labels {
        &self.s.labels
    }

    /// A fresh iterator over the series' samples in the selected range.
    pub fn iter(&self) -> SeriesIter<'a> {
        self.s.iter(self.mint, self.maxt)
    }

    /// Re-targets an existing iterator at this series (no allocation).
    pub fn reset_iter(&self, it: &mut SeriesIter<'a>) {
        it.reset(self.s, self.mint, self.maxt);
    }

    /// A fresh iterator over every sample type (floats and native histograms) in the
    /// selected range; [`Series::iter`] is the faster float-only path.
    pub fn sample_iter(&self) -> HeadSampleIter<'a> {
        self.s.sample_iter(self.mint, self.maxt)
    }

    /// Whether the series may hold native histograms; when false, [`Series::iter`] sees
    /// every sample.
    pub fn has_histograms(&self) -> bool {
        self.s.has_histograms()
    }
}
