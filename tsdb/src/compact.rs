//! Compaction: which blocks to merge, and how a merge (or a head cut) is written safely.
//!
//! ```text
//! plan(metas) ──► overlapping group?          ──► vertical merge of the group
//!            └──► ranges 3·r, 9·r, … ≤ max    ──► first aligned window holding ≥ 2 blocks
//!            └──► a block with tombstones     ──► rewritten without the deleted samples
//! compact_blocks ──► DbQuerier over the parents (tombstones applied, duplicates dropped)
//!                ──► BlockWriter (temp dir, fsync, rename) ──► parents deleted afterwards
//! ```
//!
//! The choice follows Prometheus's leveled compactor: overlapping blocks are merged first;
//! otherwise, for each range above the head's block range, blocks are split into windows
//! aligned to the range, and the first window with at least two blocks is compacted when it
//! spans the whole window or lies before the newest block (the newest block is never
//! compacted with others, so a backup of it stays valid for a whole block range).

use std::path::Path;

use crate::block::{Block, BlockMeta, BlockWriter, WriteStep};
use crate::error::{Error, Result};
use crate::head::Head;
use crate::merge::DbQuerier;
use crate::query::Querier;
use crate::storage::SelectHints;
use crate::tombstones::{Deleted, Tombstones};

/// A step of the block lifecycle after which a test hook may stop the work, simulating a
/// crash there. Reopening the directory after a stop at any step gives the same data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// A step of writing the new block (see [`WriteStep`]).
    Write(WriteStep),
    /// One parent block was deleted (the others not yet).
    ParentDeleted,
    /// Every parent of a compaction is deleted.
    ParentsDeleted,
    /// The head and WAL were truncated after a head block was written.
    WalTruncated,
    /// One block past retention was deleted.
    RetentionDeleted,
}

/// A hook called after each [`Step`]; an error from it stops the work there.
pub type StepHook<'h> = &'h mut dyn FnMut(Step) -> Result<()>;

/// The compaction ranges: `block_range` times powers of three, up to `max_range`
/// (at least the first one is always present).
pub fn ranges(block_range: i64, max_range: i64) -> Vec<i64> {
    let mut out = vec![block_range.max(1)];
    while let Some(next) = out.last().and_then(|r| r.checked_mul(3)) {
        if next > max_range {
            break;
        }
        out.push(next);
    }
    out
}

/// What to compact next among `metas` (sorted by min time, then max time): indexes into
/// `metas`, or `None` when nothing needs compacting. `ranges[0]` is the head's block range.
/// `has_tombstones(i)` says whether block `i` has deletions to apply.
pub fn plan(
    metas: &[&BlockMeta],
    ranges: &[i64],
    has_tombstones: impl Fn(usize) -> bool,
) -> Option<Vec<usize>> {
    if let Some(g) = overlapping(metas) {
        return Some(g);
    }
    if metas.len() >= 2 {
        // Leave the newest block out; a window that is not full is only compacted when
        // it ends before the newest remaining candidate starts.
        let cands = &metas[..metas.len() - 1];
        let high = cands[cands.len() - 1].min_time;
        for &r in ranges.iter().skip(1) {
            for g in split_by_range(cands, r) {
                let (lo, hi) = (metas[g[0]].min_time, metas[g[g.len() - 1]].max_time);
                if g.len() > 1 && (hi - lo == r || hi <= high) {
                    return Some(g);
                }
            }
        }
    }
    // Apply deletions to a block by rewriting it alone.
    (0..metas.len())
        .find(|&i| has_tombstones(i))
        .map(|i| vec![i])
}

/// The first run of blocks that overlap in time, when there is one.
fn overlapping(metas: &[&BlockMeta]) -> Option<Vec<usize>> {
    let mut group: Vec<usize> = Vec::new();
    let mut end = i64::MIN;
    for (i, m) in metas.iter().enumerate() {
        if !group.is_empty() && m.min_time < end {
            group.push(i);
            end = end.max(m.max_time);
            continue;
        }
        if group.len() > 1 {
            return Some(group);
        }
        group = vec![i];
        end = m.max_time;
    }
    (group.len() > 1).then_some(group)
}

/// Groups the blocks that fall wholly inside the same window `[k·r, (k+1)·r)`.
fn split_by_range(metas: &[&BlockMeta], r: i64) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut cur_window: Option<i64> = None;
    for (i, m) in metas.iter().enumerate() {
        let w = m.min_time.div_euclid(r);
        if m.max_time > (w + 1).saturating_mul(r) {
            // Does not fit in one window of this size.
            cur_window = None;
            continue;
        }
        if cur_window == Some(w) {
            if let Some(g) = out.last_mut() {
                g.push(i);
                continue;
            }
        }
        cur_window = Some(w);
        out.push(vec![i]);
    }
    out
}

/// Merges `parents` into one block in `root` covering their whole time range: series are
/// merged by labels, samples by time with duplicates dropped, deleted samples left out.
/// Returns the new block's meta, or `None` when nothing is left (every sample deleted).
/// The parents are not touched.
pub fn compact_blocks(
    root: &Path,
    parents: &[&Block],
    now_ms: i64,
    hook: StepHook<'_>,
) -> Result<Option<BlockMeta>> {
    let mint = parents.iter().map(|b| b.min_time()).min();
    let maxt = parents.iter().map(|b| b.max_time()).max();
    let (Some(mint), Some(maxt)) = (mint, maxt) else {
        return Err(Error::InvalidBlockWrite("compaction without blocks"));
    };
    let q = DbQuerier::blocks_only(
        parents
            .iter()
            .map(|b| b.querier(mint, maxt.saturating_sub(1)))
            .collect(),
    );
    let mut w = BlockWriter::create(root, mint, maxt)?;
    for s in q.select(&[], &SelectHints::default())? {
        if s.has_histograms() {
            w.add_series_mixed(s.labels(), &mut s.mixed_iter(), &|_| false)?;
        } else {
            let mut it = s.iter();
            w.add_series(s.labels(), &mut it)?;
        }
    }
    let metas: Vec<BlockMeta> = parents.iter().map(|b| b.meta().clone()).collect();
    w.finish_with(now_ms, &metas, &mut |s| hook(Step::Write(s)))
}

/// Writes the head's samples in `[mint, maxt)` as a level-1 block in `root`, leaving out
/// the samples `tombs` (keyed by head series ref) deletes. Series holding native
/// histograms are written with their histogram chunks.
pub fn write_head_range(
    head: &Head,
    tombs: &Tombstones,
    root: &Path,
    mint: i64,
    maxt: i64,
    now_ms: i64,
    hook: StepHook<'_>,
) -> Result<Option<BlockMeta>> {
    let mut w = BlockWriter::create(root, mint, maxt)?;
    let q = Querier::new(head, mint, maxt - 1);
    for s in q.select(&[], &SelectHints::default())? {
        let dels = if tombs.is_empty() {
            &[][..]
        } else {
            head.lookup(s.labels())
                .and_then(|r| u32::try_from(r.0).ok())
                .map_or(&[][..], |r| tombs.get(r))
        };
        if s.has_histograms() {
            let deleted = |t: i64| crate::tombstones::is_deleted(dels, t);
            w.add_series_mixed(s.labels(), &mut s.sample_iter(), &deleted)?;
        } else {
            let mut it = Deleted::new(s.iter(), dels);
            w.add_series(s.labels(), &mut it)?;
        }
    }
    w.finish_with(now_ms, &[], &mut |s| hook(Step::Write(s)))
}

/// Deletes the block directory at `path` crash-safely: it is first renamed to
/// `<id>.delete.tmp` (an atomic step, after which opening ignores and removes it), the root
/// is fsynced, then the files are removed.
pub fn delete_block_dir(root: &Path, path: &Path) -> Result<()> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a block directory"),
        ));
    };
    let tmp = root.join(format!("{name}.delete.tmp"));
    std::fs::rename(path, &tmp).map_err(|e| Error::io(path, e))?;
    {
        use crate::dir::Dir as _;
        crate::dir::FsDir::open(root)?.sync_dir()?;
    }
    std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{block_id, BlockStats, Compaction};

    const H: i64 = 3_600_000;

    fn meta(i: u128, min_time: i64, max_time: i64) -> BlockMeta {
        BlockMeta {
            ulid: block_id(1, i),
            min_time,
            max_time,
            stats: BlockStats::default(),
            compaction: Compaction {
                level: 1,
                sources: vec![],
                parents: vec![],
            },
            version: 1,
        }
    }

    fn run(ms: &[BlockMeta], tomb: Option<usize>) -> Option<Vec<usize>> {
        let refs: Vec<&BlockMeta> = ms.iter().collect();
        plan(&refs, &ranges(2 * H, 31 * 24 * H), |i| Some(i) == tomb)
    }

    #[test]
    fn ranges_grow_by_three() {
        assert_eq!(ranges(2 * H, 54 * H), vec![2 * H, 6 * H, 18 * H, 54 * H]);
        assert_eq!(ranges(2 * H, H), vec![2 * H]);
    }

    #[test]
    fn three_aligned_blocks_become_one() {
        let ms = [
            meta(1, 0, 2 * H),
            meta(2, 2 * H, 4 * H),
            meta(3, 4 * H, 6 * H),
            meta(4, 6 * H, 8 * H),
        ];
        assert_eq!(run(&ms, None), Some(vec![0, 1, 2]));
        // The window is not full yet (the newest block is left out): wait.
        assert_eq!(run(&ms[..3], None), None);
        assert_eq!(run(&ms[..2], None), None);
        assert_eq!(run(&ms[..1], None), None);
    }

    #[test]
    fn a_window_not_yet_full_waits_while_it_holds_the_newest_block() {
        // 6h..8h and 8h..10h are in window [6h, 12h), which is not full: wait while a
        // block of that window is the newest candidate (the newest block never counts).
        let ms = [
            meta(1, 6 * H, 8 * H),
            meta(2, 8 * H, 10 * H),
            meta(3, 14 * H, 16 * H),
        ];
        assert_eq!(run(&ms, None), None);
        // Once a later block is a candidate, the partial window is compacted (with a gap).
        let ms = [
            meta(1, 6 * H, 8 * H),
            meta(2, 8 * H, 10 * H),
            meta(3, 14 * H, 16 * H),
            meta(4, 16 * H, 18 * H),
        ];
        assert_eq!(run(&ms, None), Some(vec![0, 1]));
    }

    #[test]
    fn overlaps_go_first_and_tombstones_last() {
        let ms = [
            meta(1, 0, 2 * H),
            meta(2, H, 3 * H),
            meta(3, 2 * H, 4 * H),
            meta(4, 10 * H, 12 * H),
        ];
        assert_eq!(run(&ms, None), Some(vec![0, 1, 2]));
        let ms = [meta(1, 0, 2 * H), meta(2, 20 * H, 22 * H)];
        assert_eq!(run(&ms, Some(1)), Some(vec![1]));
        assert_eq!(run(&ms, None), None);
    }

    #[test]
    fn level_two_blocks_merge_at_the_next_range() {
        let ms = [
            meta(1, 0, 6 * H),
            meta(2, 6 * H, 12 * H),
            meta(3, 12 * H, 18 * H),
            meta(4, 18 * H, 20 * H),
        ];
        assert_eq!(run(&ms, None), Some(vec![0, 1, 2]));
    }
}
