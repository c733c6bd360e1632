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
//! Blocks do not overlap the head in normal operation (the head is truncated at the end of
//! the last block it was cut into), but after a crash between writing a block and
//! truncating the WAL both can hold the same samples: the iterator skips any sample not
//! newer than the last one it yielded, so such duplicates appear once.

use std::collections::BTreeSet;

use exposition::{Labels, Matcher};

use crate::block::{BlockQuerier, BlockSeries, BlockSeriesIter};
use crate::chunk::SampleIterator;
use crate::error::Result;
use crate::head::SeriesIter;
use crate::query::{Querier, Series};
use crate::storage::SelectHints;

/// Reads the head and every block over `[mint, maxt]` (inclusive).
#[derive(Debug, Clone)]
pub struct DbQuerier<'a> {
    blocks: Vec<BlockQuerier<'a>>,
    head: Querier<'a>,
}

impl<'a> DbQuerier<'a> {
    /// A querier over the given block queriers (oldest block first) and head querier.
    pub fn new(blocks: Vec<BlockQuerier<'a>>, head: Querier<'a>) -> DbQuerier<'a> {
        DbQuerier { blocks, head }
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
        for s in self.head.select(matchers, hints)? {
            parts.push((s.labels(), Part::Head(s)));
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
        let mut all: BTreeSet<String> = self.head.label_names(matchers)?.into_iter().collect();
        for b in &self.blocks {
            all.extend(b.label_names(matchers)?);
        }
        Ok(all.into_iter().collect())
    }

    /// Values of label `name` among the selected series across all sources, sorted.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
        let mut all: BTreeSet<String> = self
            .head
            .label_values(name, matchers)?
            .into_iter()
            .collect();
        for b in &self.blocks {
            all.extend(b.label_values(name, matchers)?);
        }
        Ok(all.into_iter().collect())
    }
}

#[derive(Debug, Clone)]
enum Part<'a> {
    Block(BlockSeries<'a>),
    Head(Series<'a>),
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

    /// An iterator over the samples of every source, in time order.
    pub fn iter(&self) -> MergedIter<'_> {
        MergedIter {
            parts: self
                .parts
                .iter()
                .map(|p| match p {
                    Part::Block(b) => PartIter::Block(b.iter()),
                    Part::Head(h) => PartIter::Head(h.iter()),
                })
                .collect(),
            idx: 0,
            last: None,
            done: false,
        }
    }
}

#[derive(Debug, Clone)]
enum PartIter<'s> {
    Block(BlockSeriesIter<'s>),
    Head(SeriesIter<'s>),
}

impl PartIter<'_> {
    fn as_iter(&mut self) -> &mut dyn SampleIterator {
        match self {
            PartIter::Block(b) => b,
            PartIter::Head(h) => h,
        }
    }
}

/// Iterates a [`MergedSeries`]: each source in turn, skipping samples not newer than the
/// last one yielded.
#[derive(Debug, Clone)]
pub struct MergedIter<'s> {
    parts: Vec<PartIter<'s>>,
    idx: usize,
    last: Option<(i64, f64)>,
    done: bool,
}

impl SampleIterator for MergedIter<'_> {
    fn next(&mut self) -> bool {
        while let Some(p) = self.parts.get_mut(self.idx) {
            let it = p.as_iter();
            if it.next() {
                let (t, v) = it.at();
                if self.last.is_none_or(|(l, _)| t > l) {
                    self.last = Some((t, v));
                    return true;
                }
            } else {
                self.idx += 1;
            }
        }
        self.done = true;
        false
    }

    fn seek(&mut self, t: i64) -> bool {
        if self.done {
            return false;
        }
        if self.last.is_some_and(|(l, _)| l >= t) {
            return true;
        }
        while let Some(p) = self.parts.get_mut(self.idx) {
            let it = p.as_iter();
            if it.seek(t) {
                // last < t <= this sample, so it is new.
                self.last = Some(it.at());
                return true;
            }
            self.idx += 1;
        }
        self.done = true;
        false
    }

    fn at(&self) -> (i64, f64) {
        self.last.unwrap_or((0, 0.0))
    }
}
