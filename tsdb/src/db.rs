//! The database: a head plus (optionally) a WAL in a directory the caller chooses.
//!
//! ```text
//! Db::open(dir) ──► wal::replay ──► Head        Db::appender ──► DbAppender::commit
//!                                                    └─► WAL records (durable) ──► head (visible)
//! Db::truncate(mint) ──► Head::truncate (GC) ──► cut segment + truncation record
//!                    ──► checkpoint of segments wholly before mint ──► delete them
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use exposition::Labels;

use crate::block::{meta::is_block_id, write_head_block, Block, BlockMeta};
use crate::dir::{Dir, FsDir};
use crate::error::{Error, Result};
use crate::head::{Head, HeadAppender, HeadOptions};
use crate::merge::DbQuerier;
use crate::query::Querier;
use crate::storage::{Appender, Queryable, SeriesRef};
use crate::wal::record::{self, RefSample};
use crate::wal::{self, Record, ReplayReport, Wal, WalOptions};

/// Options of a [`Db`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DbOptions {
    /// Head tunables.
    pub head: HeadOptions,
    /// WAL tunables (ignored in memory-only mode).
    pub wal: WalOptions,
}

/// What a [`Db::truncate`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TruncateReport {
    /// Series garbage-collected.
    pub series_removed: usize,
    /// WAL files deleted after checkpointing.
    pub files_deleted: usize,
}

/// A head with a WAL (or without, in memory-only mode). One writer at a time: an appender
/// borrows the database mutably until it commits or rolls back.
#[derive(Debug)]
pub struct Db {
    head: Head,
    wal: Option<Wal>,
    report: ReplayReport,
    /// Persisted blocks, oldest first (empty until [`Db::open_blocks`]).
    blocks: Vec<Block>,
    /// Where blocks are written and read.
    block_root: Option<PathBuf>,
    /// Time range of one block cut from the head (ms).
    block_range: i64,
}

impl Db {
    /// A database with no WAL: nothing survives the process.
    pub fn in_memory(opts: HeadOptions) -> Db {
        Db {
            head: Head::new(opts),
            wal: None,
            report: ReplayReport::default(),
            blocks: Vec::new(),
            block_root: None,
            block_range: opts.chunk_range_ms.max(1),
        }
    }

    /// Opens (creating if needed) a database whose WAL lives in the directory at `path`.
    pub fn open_path(path: impl AsRef<Path>, opts: DbOptions) -> Result<Db> {
        Db::open(Box::new(FsDir::open(path)?), opts)
    }

    /// Opens a database over `dir`, replaying its WAL into a fresh head. A torn final
    /// record is cut off and reported in [`Db::replay_report`]; corruption elsewhere is
    /// [`Error::Corruption`](crate::Error::Corruption) unless `opts.wal.repair` is set.
    pub fn open(dir: Box<dyn Dir>, opts: DbOptions) -> Result<Db> {
        let mut head = Head::new(opts.head);
        let mut remap: HashMap<u64, u32> = HashMap::new();
        let (report, state) = wal::replay(&*dir, &opts.wal, |rec| {
            replay_record(&mut head, &mut remap, rec);
            Ok(())
        })?;
        // Series whose samples all fell before the truncation point come back empty.
        head.remove_empty_series();
        head.rebuild_order();
        let wal = Wal::create(dir, opts.wal, state)?;
        let block_range = head.options().chunk_range_ms;
        Ok(Db {
            head,
            wal: Some(wal),
            report,
            blocks: Vec::new(),
            block_root: None,
            block_range,
        })
    }

    /// What the WAL replay at open found.
    pub fn replay_report(&self) -> &ReplayReport {
        &self.report
    }

    /// The head.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// The WAL, when there is one.
    pub fn wal(&self) -> Option<&Wal> {
        self.wal.as_ref()
    }

    /// Opens (creating if needed) the directory `root` that holds this database's blocks:
    /// loads every block in it (oldest first), deletes unfinished `.tmp` writes, and hides
    /// from the head whatever the blocks already cover (a crash between writing a block and
    /// truncating the WAL replays those samples). From then on [`Db::compact_head`] writes
    /// blocks there and [`Db::db_querier`] reads them.
    pub fn open_blocks(&mut self, root: impl AsRef<Path>) -> Result<()> {
        let root = root.as_ref().to_path_buf();
        std::fs::create_dir_all(&root).map_err(|e| Error::io(&root, e))?;
        let rd = std::fs::read_dir(&root).map_err(|e| Error::io(&root, e))?;
        let mut blocks = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|e| Error::io(&root, e))?;
            let name = ent.file_name().to_string_lossy().into_owned();
            let path = ent.path();
            if !path.is_dir() {
                continue;
            }
            if name.ends_with(".tmp") {
                std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            } else if is_block_id(&name) {
                blocks.push(Block::open(&path)?);
            }
        }
        blocks.sort_by_key(|b| (b.min_time(), b.max_time()));
        if let Some(end) = blocks.iter().map(Block::max_time).max() {
            self.head.truncate(end);
        }
        self.blocks = blocks;
        self.block_root = Some(root);
        Ok(())
    }

    /// Sets the time range of a block cut from the head (default: the head's chunk range,
    /// 2 h). Keep it a multiple of the chunk range so head chunks never straddle a block
    /// boundary.
    pub fn set_block_range(&mut self, range_ms: i64) {
        self.block_range = range_ms.max(1);
    }

    /// The persisted blocks, oldest first.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// While the head spans more than 1.5 block ranges, writes its oldest aligned block
    /// range `[k·range, (k+1)·range)` as a block, opens it, and truncates the head (and
    /// WAL) at the block's end, as Prometheus does. Does nothing before
    /// [`Db::open_blocks`]. `now_ms` stamps the new block ids. Returns the new blocks.
    pub fn compact_head(&mut self, now_ms: i64) -> Result<Vec<BlockMeta>> {
        let Some(root) = self.block_root.clone() else {
            return Ok(Vec::new());
        };
        let range = self.block_range;
        let mut out = Vec::new();
        while let Some(lo) = self.head.min_sample_time() {
            let hi = self.head.max_time();
            if hi.saturating_sub(lo) <= range / 2 * 3 {
                break;
            }
            let mint = lo.div_euclid(range) * range;
            let maxt = mint + range;
            if let Some(meta) = write_head_block(&self.head, &root, mint, maxt, now_ms)? {
                let block = Block::open(root.join(&meta.ulid))?;
                self.blocks.push(block);
                self.blocks.sort_by_key(|b| (b.min_time(), b.max_time()));
                out.push(meta);
            }
            self.truncate(maxt)?;
        }
        Ok(out)
    }

    /// A querier over the blocks overlapping `[mint, maxt]` and the head, merged by
    /// series. ([`Queryable::querier`] on a `Db` reads the head only.)
    pub fn db_querier(&self, mint: i64, maxt: i64) -> DbQuerier<'_> {
        let blocks = self
            .blocks
            .iter()
            .filter(|b| b.min_time() <= maxt && b.max_time() > mint)
            .map(|b| b.querier(mint, maxt))
            .collect();
        DbQuerier::new(blocks, Querier::new(&self.head, mint, maxt))
    }

    /// Starts a write transaction.
    pub fn appender(&mut self) -> DbAppender<'_> {
        DbAppender {
            app: self.head.appender(),
            wal: self.wal.as_mut(),
            new_series: Vec::new(),
        }
    }

    /// Fsyncs the WAL now.
    pub fn sync(&mut self) -> Result<()> {
        match &mut self.wal {
            Some(w) => w.sync(),
            None => Ok(()),
        }
    }

    /// Drives time-based work with the caller's clock: the interval fsync policy.
    pub fn tick(&mut self, now_ms: i64) -> Result<()> {
        match &mut self.wal {
            Some(w) => w.tick(now_ms),
            None => Ok(()),
        }
    }

    /// Drops data before `mint` from the head (garbage-collecting empty series), logs the
    /// truncation, and replaces the oldest WAL segments whose samples all lie before
    /// `mint` with a checkpoint of the live series (see `docs/format/wal.md`).
    pub fn truncate(&mut self, mint: i64) -> Result<TruncateReport> {
        let series_removed = self.head.truncate(mint);
        let mut rep = TruncateReport {
            series_removed,
            files_deleted: 0,
        };
        let Some(wal) = &mut self.wal else {
            return Ok(rep);
        };
        // Later samples go to a fresh segment; the checkpoint replaces only the oldest
        // segments whose samples all lie before the truncation point.
        wal.cut()?;
        let mint = self.head.min_time();
        // The truncation point itself is logged, so a replay drops the same data even
        // when no segment can be checkpointed yet.
        wal.log_with(|b| record::frame(b, |b| record::encode_truncation(b, mint)))?;
        let Some(upto) = wal.checkpointable(mint) else {
            return Ok(rep);
        };
        // Samples a previous checkpoint carried that are still wanted.
        let mut carried: Vec<RefSample> = Vec::new();
        if let Some(prev) = wal.last_checkpoint() {
            let name = wal::checkpoint_name(prev);
            let data = wal.dir().read(&name)?;
            let head = &self.head;
            wal::read_records(&name, &data, false, |r| {
                if let Record::Samples(s) = r {
                    carried.extend(s.into_iter().filter(|x| {
                        x.t >= mint && u32::try_from(x.r).is_ok_and(|r| head.series.contains(r))
                    }));
                }
                Ok(())
            })?;
        }
        let head = &mut self.head;
        let mut cp = wal.checkpoint(upto)?;
        cp.add(|b| record::encode_truncation(b, mint))?;
        let refs: Vec<u32> = head.live_refs().map(|(r, _)| r).collect();
        for batch in refs.chunks(1000) {
            let list: Vec<(u64, &Labels)> = batch
                .iter()
                .filter_map(|&r| Some((u64::from(r), &head.series.get(r)?.labels)))
                .collect();
            cp.add(|b| record::encode_series(b, list.into_iter()))?;
        }
        for batch in carried.chunks(10_000) {
            cp.add(|b| record::encode_samples(b, batch.iter().copied()))?;
        }
        rep.files_deleted = cp.finish()?;
        for &r in &refs {
            if let Some(s) = head.series_mut(r) {
                s.logged = true;
            }
        }
        Ok(rep)
    }
}

fn replay_record(head: &mut Head, remap: &mut HashMap<u64, u32>, rec: Record) {
    match rec {
        Record::Series(series) => {
            for (r, labels) in series {
                // Refs are dense; one past 2^31 can only come from damage.
                let Some(want) = u32::try_from(r).ok().filter(|&r| r < 1 << 31) else {
                    continue;
                };
                let got = head.create_with_ref(want, labels);
                if let Some(s) = head.series_mut(got) {
                    s.logged = true;
                }
                if got != want {
                    remap.insert(r, got);
                } else {
                    remap.remove(&r);
                }
            }
        }
        Record::Samples(samples) => {
            let (range, per) = (head.opts.chunk_range_ms, head.opts.samples_per_chunk);
            let min_valid = head.min_valid_t;
            let mut max_t = head.max_t;
            for s in samples {
                let r = match remap.get(&s.r) {
                    Some(&r) => r,
                    None => match u32::try_from(s.r) {
                        Ok(r) => r,
                        Err(_) => continue,
                    },
                };
                if s.t < min_valid {
                    continue;
                }
                if let Some(ms) = head.series_mut(r) {
                    if ms.last_t == i64::MIN || s.t > ms.last_t {
                        ms.append(s.t, s.v, range, per);
                        max_t = max_t.max(s.t);
                    }
                }
            }
            head.max_t = max_t;
        }
        Record::Tombstones(_) => {
            // Deletion is not implemented in the head yet; tombstones are read and ignored.
        }
        Record::Truncation { mint } => {
            // Drops what the head held before `mint`, as the truncation did when it ran.
            head.truncate(mint);
        }
    }
}

impl Queryable for Db {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Querier<'_>> {
        Ok(Querier::new(&self.head, mint, maxt))
    }
}

/// A write transaction on a [`Db`]: validated like a [`HeadAppender`], and at commit the
/// new series and the samples are written to the WAL (one write, synced per the policy)
/// before they become visible. If the WAL write fails, nothing becomes visible.
#[derive(Debug)]
pub struct DbAppender<'a> {
    app: HeadAppender<'a>,
    wal: Option<&'a mut Wal>,
    new_series: Vec<u32>,
}

impl DbAppender<'_> {
    /// Appends by labels, creating the series if needed; returns its ref.
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef> {
        self.app.append(labels, t, v)
    }

    /// Appends to a known series: the allocation-free hot path.
    #[inline]
    pub fn append_ref(&mut self, r: SeriesRef, t: i64, v: f64) -> Result<()> {
        self.app.append_ref(r, t, v)
    }

    /// Samples accepted so far.
    pub fn len(&self) -> usize {
        self.app.pending().len()
    }

    /// Whether nothing was accepted.
    pub fn is_empty(&self) -> bool {
        self.app.pending().is_empty()
    }

    /// Writes the batch to the WAL, then makes it visible. On a WAL error the batch is
    /// rolled back and the error returned.
    pub fn commit(mut self) -> Result<()> {
        let Some(wal) = self.wal.take() else {
            self.app.apply();
            return Ok(());
        };
        if self.app.pending().is_empty() {
            self.app.apply();
            return Ok(());
        }
        // Series not yet in the WAL are logged with this commit.
        self.new_series.clear();
        {
            let head = &mut *self.app.head;
            for p in &self.app.samples {
                if let Some(s) = head.series_mut(p.r) {
                    if !s.logged {
                        s.logged = true;
                        self.new_series.push(p.r);
                    }
                }
            }
        }
        let head: &Head = self.app.head;
        let new_series = &self.new_series;
        let samples = &self.app.samples;
        let res = wal.log_with(|b| {
            if !new_series.is_empty() {
                let list: Vec<(u64, &Labels)> = new_series
                    .iter()
                    .filter_map(|&r| Some((u64::from(r), &head.series.get(r)?.labels)))
                    .collect();
                record::frame(b, |b| record::encode_series(b, list.into_iter()));
            }
            record::frame(b, |b| {
                record::encode_samples(
                    b,
                    samples.iter().map(|p| RefSample {
                        r: u64::from(p.r),
                        t: p.t,
                        v: p.v,
                    }),
                )
            });
        });
        match res {
            Ok(()) => {
                if let Some(max_t) = self.app.samples.iter().map(|p| p.t).max() {
                    wal.note_sample_time(max_t);
                }
                self.app.apply();
                Ok(())
            }
            Err(e) => {
                for &r in &self.new_series {
                    if let Some(s) = self.app.head.series_mut(r) {
                        s.logged = false;
                    }
                }
                self.app.discard();
                Err(e)
            }
        }
    }

    /// Drops the batch.
    pub fn rollback(mut self) {
        self.app.discard();
    }
}

impl Appender for DbAppender<'_> {
    fn append(
        &mut self,
        r: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef> {
        Appender::append(&mut self.app, r, labels, t, v)
    }

    fn commit(self) -> Result<()> {
        DbAppender::commit(self)
    }

    fn rollback(self) {
        DbAppender::rollback(self)
    }
}
