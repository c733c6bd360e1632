//! One query over the head and the persisted blocks together: series with the same labels
//! in several sources become one series whose samples run through the sources in time
//! order.
//!
//! ```text
//! DbQuerier::select ──► BlockQuerier::select (each block) ─┐
//!                  └──► Querier::select (head) ────────────┴─► group by labels ──► MergedSeries
//!                                                                    └──► MergedIter (blocks oldest first, then head)
//! ```
//!
//! Sources may overlap: blocks written by a backfill, a late block, or a crash between
//! writing a block and truncating the WAL can hold samples of the same series and time. The
//! iterator merges the sources by timestamp, sample by sample, and yields one sample per
//! timestamp (the first source's, blocks oldest first, then the head). Samples inside the
//! head's tombstones are skipped here; blocks apply their own tombstones.

use std::collections::BTreeSet;

use exposition::{Labels, Matcher};

use crate::block::{BlockQuerier, BlockSampleIter, BlockSeries, BlockSeriesIter};
use crate::chunk::{MixedIterator, SampleIterator, ValueType};
use crate::error::Result;
use crate::head::HeadSampleIter;
use crate::head::{Head, SeriesIter};
use crate::query::{Querier, Series};
use crate::storage::SelectHints;
use crate::tombstones::{Deleted, Interval, Tombstones};

/// Reads the head and every block over `[mint, maxt]` (inclusive).
#[derive(Debug, Clone)]
pub struct DbQuerier<'a> {
    blocks: Vec<BlockQuerier<'a>>,
    head: Option<Querier<'a>>,
    /// The head's tombstones (keyed by series ref) and the head to resolve refs in.
    head_tombs: Option<(&'a Head, &'a Tombstones)>,
}

impl<'a> DbQuerier<'a> {
    /// A querier over the given block queriers (oldest block first) and head querier.
    pub fn new(blocks: Vec<BlockQuerier<'a>>, head: Querier<'a>) -> DbQuerier<'a> {
        DbQuerier {
            blocks,
            head: Some(head),
            head_tombs: None,
        }
    }

    /// A querier over blocks only (what compaction reads).
    pub fn blocks_only(blocks: Vec<BlockQuerier<'a>>) -> DbQuerier<'a> {
        DbQuerier {
            blocks,
            head: None,
            head_tombs: None,
        }
    }

    /// Hides the samples `tombs` (keyed by the refs of `head`) deletes from the head's
    /// series.
    pub fn with_head_tombstones(mut self, head: &'a Head, tombs: &'a Tombstones) -> DbQuerier<'a> {
        if !tombs.is_empty() {
            self.head_tombs = Some((head, tombs));
        }
        self
    }

    /// The series every matcher accepts in any source, sorted by labels, each iterating
    /// its samples from all sources in time order.
    pub fn select(&self, matchers: &[Matcher], hints: &SelectHints) -> Result<MergedSeriesSet<'a>> {
        let mut parts: Vec<(&'a Labels, Part<'a>)> = Vec::new();
        for b in &self.blocks {
            for s in b.select(matchers, hints)? {
                parts.push((s.labels(), Part::Block(s)));
            }
        }
        if let Some(head) = &self.head {
            for s in head.select(matchers, hints)? {
                let dels: &'a [Interval] = match self.head_tombs {
                    Some((h, t)) => match h.lookup(s.labels()) {
                        Some(r) => u32::try_from(r.0).map(|r| t.get(r)).unwrap_or(&[]),
                        None => &[],
                    },
                    None => &[],
                };
                parts.push((s.labels(), Part::Head(s, dels)));
            }
        }
        // Stable: within equal labels the sources keep their order (blocks by time, head last).
        parts.sort_by(|a, b| a.0.cmp(b.0));
        let mut out: Vec<MergedSeries<'a>> = Vec::new();
        for (labels, part) in parts {
            match out.last_mut() {
                Some(last) if last.labels == labels => last.parts.push(part),
                _ => out.push(MergedSeries {
                    labels,
                    parts: vec![part],
                }),
            }
        }
        Ok(MergedSeriesSet {
            series: out.into_iter(),
        })
    }

    /// Label names of the selected series across all sources, sorted.
    pub fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>> {
        let mut all: BTreeSet<String> = BTreeSet::new();
        if let Some(h) = &self.head {
            all.extend(h.label_names(matchers)?);
        }
        for b in &self.blocks {
            all.extend(b.label_names(matchers)?);
        }
        Ok(all.into_iter().collect())
    }

    /// Values of label `name` among the selected series across all sources, sorted.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
        let mut all: BTreeSet<String> = BTreeSet::new();
        if let Some(h) = &self.head {
            all.extend(h.label_values(name, matchers)?);
        }
        for b in &self.blocks {
            all.extend(b.label_values(name, matchers)?);
        }
        Ok(all.into_iter().collect())
    }
}

#[derive(Debug, Clone)]
enum Part<'a> {
    Block(BlockSeries<'a>),
    Head(Series<'a>, &'a [Interval]),
}

/// Merged series in label order.
#[derive(Debug)]
pub struct MergedSeriesSet<'a> {
    series: std::vec::IntoIter<MergedSeries<'a>>,
}

impl MergedSeriesSet<'_> {
    /// Series left in the set.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether no series are left.
    pub fn is_empty(&self) -> bool {
        self.series.len() == 0
    }
}

impl<'a> Iterator for MergedSeriesSet<'a> {
    type Item = MergedSeries<'a>;

    fn next(&mut self) -> Option<MergedSeries<'a>> {
        self.series.next()
    }
}

/// One series as seen across the head and the blocks.
#[derive(Debug, Clone)]
pub struct MergedSeries<'a> {
    labels: &'a Labels,
    parts: Vec<Part<'a>>,
}

impl<'a> MergedSeries<'a> {
    /// The series' labels.
    pub fn labels(&self) -> &'a Labels {
        self.labels
    }

    /// Number of sources (blocks and head) holding the series in the range.
    pub fn sources(&self) -> usize {
        self.parts.len()
    }

    /// The head's part of the series (with the head's deleted intervals), when the head
    /// holds it: callers that need the head's native histograms read it from there.
    pub fn head_part(&self) -> Option<(&Series<'a>, &'a [Interval])> {
        self.parts.iter().find_map(|p| match p {
            Part::Head(s, dels) => Some((s, *dels)),
            Part::Block(_) => None,
        })
    }

    /// Whether any source may hold native histograms (then [`MergedSeries::mixed_iter`]
    /// sees samples that [`MergedSeries::iter`] skips).
    pub fn has_histograms(&self) -> bool {
        self.parts.iter().any(|p| match p {
            Part::Block(b) => b.has_histograms(),
            Part::Head(h, _) => h.has_histograms(),
        })
    }

    /// An iterator over every sample type (floats and native histograms) of every source,
    /// merged by time with one sample per timestamp, deletions applied.
    pub fn mixed_iter(&self) -> MergedMixedIter<'_> {
        MergedMixedIter {
            srcs: self
                .parts
                .iter()
                .map(|p| MixedSource {
                    it: match p {
                        Part::Block(b) => MixedPart::Block(b.sample_iter()),
                        Part::Head(h, dels) => MixedPart::Head(h.sample_iter(), dels),
                    },
                    cur: ValueType::None,
                })
                .collect(),
            started: false,
            chosen: None,
        }
    }

    /// An iterator over the float samples of the blocks only (the head left out), merged
    /// as [`MergedSeries::iter`] merges them.
    pub fn blocks_iter(&self) -> MergedIter<'_> {
        self.iter_of(|p| matches!(p, Part::Block(_)))
    }

    /// An iterator over the samples of every source, in time order, one per timestamp.
    pub fn iter(&self) -> MergedIter<'_> {
        self.iter_of(|_| true)
    }

    fn iter_of(&self, keep: impl Fn(&Part<'a>) -> bool) -> MergedIter<'_> {
        MergedIter {
            srcs: self
                .parts
                .iter()
                .filter(|p| keep(p))
                .map(|p| Source {
                    it: match p {
                        Part::Block(b) => PartIter::Block(b.iter()),
                        Part::Head(h, dels) => PartIter::Head(Deleted::new(h.iter(), dels)),
                    },
                    cur: None,
                })
                .collect(),
            started: false,
            last: None,
        }
    }
}

#[derive(Debug, Clone)]
enum PartIter<'s> {
    Block(BlockSeriesIter<'s>),
    Head(Deleted<'s, SeriesIter<'s>>),
}

/// One source of a merge with its next unconsumed sample.
#[derive(Debug, Clone)]
struct Source<'s> {
    it: PartIter<'s>,
    cur: Option<(i64, f64)>,
}

impl Source<'_> {
    fn as_iter(&mut self) -> &mut dyn SampleIterator {
        match &mut self.it {
            PartIter::Block(b) => b,
            PartIter::Head(h) => h,
        }
    }

    fn advance(&mut self) {
        let it = self.as_iter();
        self.cur = if it.next() { Some(it.at()) } else { None };
    }

    fn seek(&mut self, t: i64) {
        let it = self.as_iter();
        self.cur = if it.seek(t) { Some(it.at()) } else { None };
    }
}

/// Iterates a [`MergedSeries`]: the sources merged by timestamp, one sample per timestamp.
#[derive(Debug, Clone)]
pub struct MergedIter<'s> {
    srcs: Vec<Source<'s>>,
    started: bool,
    last: Option<(i64, f64)>,
}

impl MergedIter<'_> {
    /// Takes the smallest pending sample and drops the other sources' samples at the same
    /// timestamp.
    fn pop(&mut self) -> bool {
        let mut best: Option<(i64, f64)> = None;
        for s in &self.srcs {
            if let Some((t, v)) = s.cur {
                if best.is_none_or(|(b, _)| t < b) {
                    best = Some((t, v));
                }
            }
        }
        let Some((t, v)) = best else {
            self.last = None;
            return false;
        };
        for s in &mut self.srcs {
            if s.cur.is_some_and(|(st, _)| st == t) {
                s.advance();
            }
        }
        self.last = Some((t, v));
        true
    }
}

impl SampleIterator for MergedIter<'_> {
    fn next(&mut self) -> bool {
        if !self.started {
            self.started = true;
            for s in &mut self.srcs {
                s.advance();
            }
        }
        self.pop()
    }

    fn seek(&mut self, t: i64) -> bool {
        if self.started && self.last.is_some_and(|(l, _)| l >= t) {
            return true;
        }
        if self.started && self.last.is_none() {
            return false;
        }
        self.started = true;
        for s in &mut self.srcs {
            match s.cur {
                Some((st, _)) if st >= t => {}
                _ => s.seek(t),
            }
        }
        self.pop()
    }

    fn at(&self) -> (i64, f64) {
        self.last.unwrap_or((0, 0.0))
    }
}

#[derive(Debug, Clone)]
enum MixedPart<'s> {
    Block(BlockSampleIter<'s>),
    Head(HeadSampleIter<'s>, &'s [Interval]),
}

#[derive(Debug, Clone)]
struct MixedSource<'s> {
    it: MixedPart<'s>,
    /// What the source is at (`None` before the start and at the end).
    cur: ValueType,
}

impl MixedSource<'_> {
    fn iter(&self) -> &dyn MixedIterator {
        match &self.it {
            MixedPart::Block(b) => b,
            MixedPart::Head(h, _) => h,
        }
    }

    /// Moves to the next sample that is not deleted.
    fn advance(&mut self) {
        self.cur = match &mut self.it {
            MixedPart::Block(b) => b.next(),
            MixedPart::Head(h, dels) => {
                let mut vt = h.next();
                while vt != ValueType::None && crate::tombstones::is_deleted(dels, h.at_t()) {
                    vt = h.next();
                }
                vt
            }
        };
    }

    fn t(&self) -> Option<i64> {
        (self.cur != ValueType::None).then(|| self.iter().at_t())
    }
}

/// Iterates a [`MergedSeries`] over every sample type: the sources merged by timestamp, one
/// sample per timestamp (the first source's), as [`MergedIter`] does for floats.
#[derive(Debug, Clone)]
pub struct MergedMixedIter<'s> {
    srcs: Vec<MixedSource<'s>>,
    started: bool,
    /// The source whose sample is current.
    chosen: Option<usize>,
}

impl MergedMixedIter<'_> {
    fn pick(&mut self) -> ValueType {
        let mut best: Option<(i64, usize)> = None;
        for (i, s) in self.srcs.iter().enumerate() {
            if let Some(t) = s.t() {
                if best.is_none_or(|(b, _)| t < b) {
                    best = Some((t, i));
                }
            }
        }
        let Some((t, i)) = best else {
            self.chosen = None;
            return ValueType::None;
        };
        // Later sources' samples at the same timestamp are duplicates.
        for (j, s) in self.srcs.iter_mut().enumerate() {
            if j != i && s.t() == Some(t) {
                s.advance();
            }
        }
        self.chosen = Some(i);
        self.srcs[i].cur
    }

    fn current(&self) -> Option<&dyn MixedIterator> {
        self.chosen.map(|i| self.srcs[i].iter())
    }
}

impl MixedIterator for MergedMixedIter<'_> {
    fn next(&mut self) -> ValueType {
        if !self.started {
            self.started = true;
            for s in &mut self.srcs {
                s.advance();
            }
        } else if let Some(i) = self.chosen {
            self.srcs[i].advance();
        } else {
            return ValueType::None;
        }
        self.pick()
    }

    fn seek(&mut self, t: i64) -> ValueType {
        loop {
            let vt = if self.started && self.chosen.is_some() {
                match self.current() {
                    Some(c) if c.at_t() >= t => return self.srcs[self.chosen.unwrap_or(0)].cur,
                    _ => self.next(),
                }
            } else {
                self.next()
            };
            if vt == ValueType::None {
                return vt;
            }
            if self.current().is_some_and(|c| c.at_t() >= t) {
                return vt;
            }
        }
    }

    fn at_t(&self) -> i64 {
        self.current().map_or(0, |c| c.at_t())
    }

    fn at(&self) -> (i64, f64) {
        self.current().map_or((0, 0.0), |c| c.at())
    }

    fn at_histogram(&self, out: &mut exposition::histogram::Histogram) -> i64 {
        self.current().map_or(0, |c| c.at_histogram(out))
    }

    fn at_float_histogram(&self, out: &mut exposition::histogram::FloatHistogram) -> i64 {
        self.current().map_or(0, |c| c.at_float_histogram(out))
    }
}
