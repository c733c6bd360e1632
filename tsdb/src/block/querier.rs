//! Reading a block: the head querier's `select` / `label_names` / `label_values` over a
//! block's index and chunks.

use std::collections::BTreeSet;

use exposition::{Labels, Matcher};

use super::reader::Block;
use crate::chunk::{ClippedCursor, Encoding, MixedIterator, SampleIterator, ValueType, XorIter};
use crate::error::Result;
use crate::head::read::MixedCursor;
use crate::query::postings_for_matchers;
use crate::storage::SelectHints;
use crate::tombstones::{covers, Deleted, Interval};

/// Reads one block over a fixed time range `[mint, maxt]` (inclusive).
#[derive(Debug, Clone, Copy)]
pub struct BlockQuerier<'a> {
    block: &'a Block,
    mint: i64,
    maxt: i64,
}

impl<'a> BlockQuerier<'a> {
    /// A querier over `block` for `[mint, maxt]`.
    pub fn new(block: &'a Block, mint: i64, maxt: i64) -> BlockQuerier<'a> {
        BlockQuerier { block, mint, maxt }
    }

    /// The series every matcher accepts, sorted by labels, each with its chunks that
    /// overlap the range (narrowed by `hints`). Series without chunks in the range are left
    /// out. The chunks are loaded (and their checksums verified) here, so a damaged chunk is
    /// an error from `select`, never from iteration.
    pub fn select(&self, matchers: &[Matcher], hints: &SelectHints) -> Result<BlockSeriesSet<'a>> {
        let mint = self.mint.max(hints.start);
        let maxt = self.maxt.min(hints.end);
        let mut out = Vec::new();
        if mint <= maxt {
            let ids = postings_for_matchers(self.block.postings()?, matchers);
            let all = self.block.series()?;
            let tombs = self.block.tombstones();
            // Ids are positions in label order, and the bitmap iterates ascending.
            for id in &ids {
                let Some(s) = all.get(id as usize) else {
                    continue;
                };
                let dels = tombs.get(id);
                let mut chunks = Vec::new();
                for c in &s.chunks {
                    // A chunk wholly inside one deleted interval is never loaded.
                    if c.max_t >= mint
                        && c.min_t <= maxt
                        && !covers(dels, c.min_t.max(mint), c.max_t.min(maxt))
                    {
                        chunks.push(self.block.chunk(c.cref)?);
                    }
                }
                if !chunks.is_empty() {
                    out.push(BlockSeries {
                        labels: &s.labels,
                        chunks,
                        dels,
                        mint,
                        maxt,
                    });
                }
            }
        }
        Ok(BlockSeriesSet {
            series: out.into_iter(),
        })
    }

    /// Label names carried by the series the matchers select (all names when `matchers`
    /// is empty), sorted.
    pub fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>> {
        if matchers.is_empty() {
            return Ok(self.block.label_index()?.keys().cloned().collect());
        }
        let ids = postings_for_matchers(self.block.postings()?, matchers);
        let mut names = BTreeSet::new();
        let all = self.block.series()?;
        for id in &ids {
            if let Some(s) = all.get(id as usize) {
                names.extend(s.labels.iter().map(|l| l.name.as_str()));
            }
        }
        Ok(names.into_iter().map(str::to_string).collect())
    }

    /// Values of label `name` among the series the matchers select (all values when
    /// `matchers` is empty), sorted.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
        if matchers.is_empty() {
            return Ok(self
                .block
                .label_index()?
                .get(name)
                .cloned()
                .unwrap_or_default());
        }
        let postings = self.block.postings()?;
        let Some(values) = postings.values(name) else {
            return Ok(Vec::new());
        };
        let ids = postings_for_matchers(postings, matchers);
        Ok(values
            .iter()
            .filter(|(_, b)| !b.is_disjoint(&ids))
            .map(|(v, _)| v.clone())
            .collect())
    }
}

/// Selected block series in label order.
#[derive(Debug)]
pub struct BlockSeriesSet<'a> {
    series: std::vec::IntoIter<BlockSeries<'a>>,
}

impl<'a> BlockSeriesSet<'a> {
    /// Series left in the set.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether no series are left.
    pub fn is_empty(&self) -> bool {
        self.series.len() == 0
    }
}

impl<'a> Iterator for BlockSeriesSet<'a> {
    type Item = BlockSeries<'a>;

    fn next(&mut self) -> Option<BlockSeries<'a>> {
        self.series.next()
    }
}

/// One selected block series with its (verified) chunks and its deleted intervals.
#[derive(Debug, Clone)]
pub struct BlockSeries<'a> {
    labels: &'a Labels,
    chunks: Vec<(Encoding, &'a [u8])>,
    dels: &'a [Interval],
    mint: i64,
    maxt: i64,
}

impl<'a> BlockSeries<'a> {
    /// The series' labels.
    pub fn labels(&self) -> &'a Labels {
        self.labels
    }

    /// Whether the series has native-histogram chunks in the selected range (then
    /// [`BlockSeries::sample_iter`] sees samples that [`BlockSeries::iter`] skips).
    pub fn has_histograms(&self) -> bool {
        self.chunks.iter().any(|(e, _)| *e != Encoding::Xor)
    }

    /// An iterator over every sample type (floats and native histograms) in the selected
    /// range, leaving out samples the block's tombstones delete.
    pub fn sample_iter(&self) -> BlockSampleIter<'_> {
        BlockSampleIter {
            rest: &self.chunks,
            cur: MixedCursor::new(self.mint, self.maxt),
            dels: self.dels,
        }
    }

    /// An iterator over the series' float samples in the selected range (histogram chunks
    /// are skipped), leaving out samples the block's tombstones delete.
    pub fn iter(&self) -> BlockSeriesIter<'_> {
        BlockSeriesIter {
            inner: Deleted::new(
                RawIter {
                    rest: &self.chunks,
                    clip: ClippedCursor::new(self.mint, self.maxt),
                },
                self.dels,
            ),
        }
    }
}

/// Iterates a block series' samples across its chunks (tombstones applied).
#[derive(Debug, Clone)]
pub struct BlockSeriesIter<'s> {
    inner: Deleted<'s, RawIter<'s>>,
}

impl SampleIterator for BlockSeriesIter<'_> {
    #[inline]
    fn next(&mut self) -> bool {
        self.inner.next()
    }

    fn seek(&mut self, t: i64) -> bool {
        self.inner.seek(t)
    }

    #[inline]
    fn at(&self) -> (i64, f64) {
        self.inner.at()
    }
}

/// Iterates every sample type of a block series (tombstones applied).
#[derive(Debug, Clone)]
pub struct BlockSampleIter<'s> {
    rest: &'s [(Encoding, &'s [u8])],
    cur: MixedCursor<'s>,
    dels: &'s [Interval],
}

impl BlockSampleIter<'_> {
    fn skip_deleted(&mut self, mut vt: ValueType) -> ValueType {
        while vt != ValueType::None && covers(self.dels, self.cur.t(), self.cur.t()) {
            let rest = &mut self.rest;
            vt = self.cur.next(|| next_mixed_chunk(rest));
        }
        vt
    }
}

fn next_mixed_chunk<'s>(rest: &mut &'s [(Encoding, &'s [u8])]) -> Option<(Encoding, &'s [u8])> {
    let (c, tail) = rest.split_first()?;
    *rest = tail;
    Some(*c)
}

impl MixedIterator for BlockSampleIter<'_> {
    fn next(&mut self) -> ValueType {
        let rest = &mut self.rest;
        let vt = self.cur.next(|| next_mixed_chunk(rest));
        self.skip_deleted(vt)
    }

    fn seek(&mut self, t: i64) -> ValueType {
        let rest = &mut self.rest;
        let vt = self.cur.seek(t, || next_mixed_chunk(rest));
        self.skip_deleted(vt)
    }

    fn at_t(&self) -> i64 {
        self.cur.t()
    }

    fn at(&self) -> (i64, f64) {
        self.cur.at()
    }

    fn at_histogram(&self, out: &mut exposition::histogram::Histogram) -> i64 {
        self.cur.at_histogram(out)
    }

    fn at_float_histogram(&self, out: &mut exposition::histogram::FloatHistogram) -> i64 {
        self.cur.at_float_histogram(out)
    }
}

/// The chunks of a series, clipped to the range.
#[derive(Debug, Clone)]
struct RawIter<'s> {
    rest: &'s [(Encoding, &'s [u8])],
    clip: ClippedCursor<'s>,
}

/// Loads the next XOR chunk of `rest` into `cur` (histogram chunks are skipped).
fn next_block_chunk<'s>(rest: &mut &'s [(Encoding, &'s [u8])], cur: &mut XorIter<'s>) -> bool {
    while let Some(((enc, c), tail)) = rest.split_first() {
        *rest = tail;
        if *enc == Encoding::Xor {
            cur.reset(c);
            return true;
        }
    }
    false
}

impl SampleIterator for RawIter<'_> {
    fn next(&mut self) -> bool {
        let rest = &mut self.rest;
        self.clip.next(|cur| next_block_chunk(rest, cur))
    }

    fn seek(&mut self, t: i64) -> bool {
        let rest = &mut self.rest;
        self.clip.seek(t, |cur| next_block_chunk(rest, cur))
    }

    fn at(&self) -> (i64, f64) {
        self.clip.cur.at()
    }
}
