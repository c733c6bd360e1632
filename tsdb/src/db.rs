//! The database: a head plus (optionally) a WAL in a directory the caller chooses.
//!
//! ```text
//! Db::open(dir) ──► wal::replay ──► Head        Db::appender ──► DbAppender::commit
//!                                                    └─► WAL records (durable) ──► head (visible)
//! Db::truncate(mint) ──► Head::truncate (GC) ──► cut segment + truncation record
//!                    ──► checkpoint of segments wholly before mint ──► delete them
//! Db::maintenance(now) ──► cut head blocks ──► compact blocks ──► retention
//! Db::delete(matchers, mint, maxt) ──► WAL tombstones (head) + block tombstones files
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use exposition::histogram::{FloatHistogram, Histogram};
use exposition::Labels;

use exposition::Matcher;

use crate::block::{meta::is_block_id, Block, BlockMeta};
use crate::compact::{self, Step};
use crate::dir::{Dir, FsDir};
use crate::error::{Error, Result};
use crate::head::{Head, HeadAppender, HeadOptions};
use crate::merge::DbQuerier;
use crate::query::Querier;
use crate::storage::{Appender, Queryable, SeriesRef};
use crate::tombstones::{covers, Tombstones};
use crate::wal::record::{self, RefSample, Tombstone};
use crate::wal::{self, Record, ReplayReport, Wal, WalOptions};

/// Options of a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbOptions {
    /// Head tunables.
    pub head: HeadOptions,
    /// WAL tunables (ignored in memory-only mode).
    pub wal: WalOptions,
    /// Time range of a block cut from the head, ms; 0 means the head's chunk range (2 h).
    pub block_range_ms: i64,
    /// Largest block level compaction builds, ms; 0 means 10% of the retention time, or
    /// 31 days when the retention is unlimited.
    pub max_block_range_ms: i64,
    /// Blocks whose end lies this far (ms) before the newest block's end are deleted by
    /// [`Db::maintenance`]; 0 keeps everything. Default 15 days, as Prometheus.
    pub retention_ms: i64,
    /// The oldest blocks are deleted while all blocks together take more bytes than this;
    /// 0 means no size limit (the default).
    pub retention_bytes: u64,
}

/// Prometheus's default retention: 15 days.
pub const DEFAULT_RETENTION_MS: i64 = 15 * 24 * 3_600_000;

impl Default for DbOptions {
    fn default() -> DbOptions {
        DbOptions {
            head: HeadOptions::default(),
            wal: WalOptions::default(),
            block_range_ms: 0,
            max_block_range_ms: 0,
            retention_ms: DEFAULT_RETENTION_MS,
            retention_bytes: 0,
        }
    }
}

impl DbOptions {
    /// The largest block compaction builds, with the defaults applied.
    pub fn max_block_range(&self, block_range: i64) -> i64 {
        let m = if self.max_block_range_ms > 0 {
            self.max_block_range_ms
        } else if self.retention_ms > 0 {
            (self.retention_ms / 10).min(31 * 24 * 3_600_000)
        } else {
            31 * 24 * 3_600_000
        };
        m.max(block_range)
    }
}

/// What a [`Db::maintenance`] call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Blocks cut from the head.
    pub head_blocks: Vec<BlockMeta>,
    /// Blocks written by merging (or rewriting) existing blocks.
    pub compacted: Vec<BlockMeta>,
    /// Ids of the blocks merged into others and deleted.
    pub merged_away: Vec<String>,
    /// Ids of the blocks deleted by retention (time or size).
    pub retention_deleted: Vec<String>,
    /// Head series garbage-collected, and WAL files deleted, by the truncations.
    pub truncate: TruncateReport,
}

impl MaintenanceReport {
    /// Whether the call changed nothing.
    pub fn is_empty(&self) -> bool {
        self.head_blocks.is_empty()
            && self.compacted.is_empty()
            && self.merged_away.is_empty()
            && self.retention_deleted.is_empty()
            && self.truncate == TruncateReport::default()
    }
}

/// What a [`Db::delete`] marked deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeleteReport {
    /// Head series that got a tombstone.
    pub head_series: usize,
    /// Block series (summed over blocks) that got a tombstone.
    pub block_series: usize,
}

/// A test hook called after each lifecycle step (see [`Db::set_step_hook`]).
pub type BoxedStepHook = Box<dyn FnMut(Step) -> Result<()> + Send + Sync>;

struct HookSlot(Option<BoxedStepHook>);

impl std::fmt::Debug for HookSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(hook)"
        } else {
            "None"
        })
    }
}

impl HookSlot {
    fn call(&mut self, s: Step) -> Result<()> {
        match &mut self.0 {
            Some(h) => h(s),
            None => Ok(()),
        }
    }
}

/// What a [`Db::truncate`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
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
    opts: DbOptions,
    /// Deletions in the head, keyed by series ref (logged in the WAL).
    head_tombs: Tombstones,
    /// WAL refs that replay found naming a series already known under another ref (a
    /// series dropped by a truncation and created again): old ref -> head ref. Segments
    /// before `aliases_until` may still use the old refs, so checkpoints keep their series
    /// records until a checkpoint covers all of those segments.
    wal_aliases: HashMap<u64, u32>,
    aliases_until: u64,
    hook: HookSlot,
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
            opts: DbOptions {
                head: opts,
                ..DbOptions::default()
            },
            head_tombs: Tombstones::new(),
            wal_aliases: HashMap::new(),
            aliases_until: 0,
            hook: HookSlot(None),
        }
    }

    /// As [`Db::in_memory`] with all options (the WAL options are ignored).
    pub fn in_memory_with(opts: DbOptions) -> Db {
        let mut db = Db::in_memory(opts.head);
        db.opts = opts;
        if opts.block_range_ms > 0 {
            db.block_range = opts.block_range_ms;
        }
        db
    }

    /// Opens (creating if needed) a database whose WAL lives in the directory at `path`.
    pub fn open_path(path: impl AsRef<Path>, opts: DbOptions) -> Result<Db> {
        Db::open(Box::new(FsDir::open(path)?), opts)
    }

    /// Opens a database over `dir`, replaying its WAL into a fresh head. A torn final
    /// record is cut off and reported in [`Db::replay_report`]; corruption elsewhere is
    /// [`Error::Corruption`] unless `opts.wal.repair` is set.
    pub fn open(dir: Box<dyn Dir>, opts: DbOptions) -> Result<Db> {
        let mut head = Head::new(opts.head);
        let mut remap: HashMap<u64, u32> = HashMap::new();
        let mut tombs = Tombstones::new();
        let (report, state) = wal::replay(&*dir, &opts.wal, |rec| {
            replay_record(&mut head, &mut remap, &mut tombs, rec);
            Ok(())
        })?;
        // Series whose samples all fell before the truncation point come back empty.
        head.remove_empty_series();
        head.rebuild_order();
        let aliases_until = state.next_segment;
        let wal = Wal::create(dir, opts.wal, state)?;
        let block_range = if opts.block_range_ms > 0 {
            opts.block_range_ms
        } else {
            head.options().chunk_range_ms.max(1)
        };
        let mut db = Db {
            head,
            wal: Some(wal),
            report,
            blocks: Vec::new(),
            block_root: None,
            block_range,
            opts,
            head_tombs: tombs,
            wal_aliases: remap,
            aliases_until,
            hook: HookSlot(None),
        };
        db.prune_head_tombstones();
        Ok(db)
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
    /// loads every block in it (oldest first), deletes unfinished `.tmp` writes and blocks
    /// that a finished compaction already merged into another (a crash between writing the
    /// new block and deleting its parents), and hides from the head whatever the blocks
    /// already cover (a crash between writing a block and truncating the WAL replays those
    /// samples). From then on [`Db::maintenance`] writes blocks there and queries read them.
    /// Blocks are opened lazily ([`Block::open_lazy`]): a block's index is verified and
    /// decoded when a query first needs it, and damage is reported then.
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
                blocks.push(Block::open_lazy(&path)?);
            }
        }
        let merged: std::collections::HashSet<String> = blocks
            .iter()
            .flat_map(|b| b.meta().compaction.parents.iter().map(|p| p.ulid.clone()))
            .collect();
        let mut kept = Vec::with_capacity(blocks.len());
        for b in blocks {
            if merged.contains(&b.meta().ulid) {
                let path = b.path().to_path_buf();
                drop(b);
                compact::delete_block_dir(&root, &path)?;
            } else {
                kept.push(b);
            }
        }
        let mut blocks = kept;
        blocks.sort_by(|a, b| {
            (a.min_time(), a.max_time(), &a.meta().ulid).cmp(&(
                b.min_time(),
                b.max_time(),
                &b.meta().ulid,
            ))
        });
        if let Some(end) = blocks.iter().map(Block::max_time).max() {
            self.head.truncate(end);
            self.prune_head_tombstones();
        }
        self.blocks = blocks;
        self.block_root = Some(root);
        Ok(())
    }

    /// Where the blocks live, once [`Db::open_blocks`] was called.
    pub fn block_root(&self) -> Option<&Path> {
        self.block_root.as_deref()
    }

    /// The options the database was opened with.
    pub fn options(&self) -> &DbOptions {
        &self.opts
    }

    /// Installs (or removes) a hook called after each step of the block lifecycle; an error
    /// from the hook stops the work there and is returned. Tests use it to simulate a crash
    /// after every step and check that reopening gives the same data.
    #[doc(hidden)]
    pub fn set_step_hook(&mut self, hook: Option<BoxedStepHook>) {
        self.hook = HookSlot(hook);
    }

    /// The deletions the head still applies, keyed by head series ref.
    pub fn head_tombstones(&self) -> &Tombstones {
        &self.head_tombs
    }

    /// Whether a query over `[mint, maxt]` can read the head alone: no block overlaps the
    /// range and the head has no deletions. Query layers use it to skip the merge.
    pub fn head_only(&self, mint: i64, maxt: i64) -> bool {
        self.head_tombs.is_empty()
            && !self
                .blocks
                .iter()
                .any(|b| b.min_time() <= maxt && b.max_time() > mint)
    }

    /// Drops head tombstones of series that are gone and intervals wholly before the
    /// head's truncation point.
    fn prune_head_tombstones(&mut self) {
        if self.head_tombs.is_empty() {
            return;
        }
        let head = &self.head;
        let min = head.min_time();
        self.head_tombs
            .retain(|r, iv| iv.maxt >= min && head.series.contains(r));
    }

    /// Marks the samples of the series `matchers` select in `[mint, maxt]` (inclusive)
    /// deleted. Queries stop returning them at once; compaction drops them for good. Head
    /// deletions are logged in the WAL (as tombstone records) before they apply, so they
    /// survive a crash; block deletions are written to each block's `tombstones` file.
    pub fn delete(&mut self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<DeleteReport> {
        let mut rep = DeleteReport::default();
        if mint > maxt {
            return Ok(rep);
        }
        let ids = crate::query::postings_for_matchers(&self.head.postings, matchers);
        let mut list: Vec<Tombstone> = Vec::new();
        for r in &ids {
            let Some(s) = self.head.series.get(r) else {
                continue;
            };
            let hit = matches!((s.min_time(), s.max_time()), (Some(lo), Some(hi)) if lo <= maxt && hi >= mint);
            if hit && !covers(self.head_tombs.get(r), mint, maxt) {
                list.push(Tombstone {
                    r: u64::from(r),
                    mint,
                    maxt,
                });
            }
        }
        if !list.is_empty() {
            if let Some(wal) = &mut self.wal {
                wal.log_with(|b| record::frame(b, |b| record::encode_tombstones(b, &list)))?;
            }
            for t in &list {
                self.head_tombs.add(t.r as u32, t.mint, t.maxt);
            }
            rep.head_series = list.len();
        }
        for b in &mut self.blocks {
            rep.block_series += b.delete(matchers, mint, maxt)?;
        }
        Ok(rep)
    }

    /// Does the lifecycle work that is due at `now_ms` (the caller's clock, used only to
    /// stamp new block ids): cuts the head into blocks while it spans more than 1.5 block
    /// ranges (then truncates the head and checkpoints the WAL), merges blocks (overlapping
    /// ones first, then adjacent ones into the next range, 2 h → 6 h → 18 h … up to the
    /// maximum, and blocks with tombstones are rewritten without the deleted samples), and
    /// deletes blocks past the time or size retention, oldest first. Parents are deleted
    /// only after their merged block is durable. Without [`Db::open_blocks`], only the head
    /// is trimmed to the retention time.
    ///
    /// ```
    /// use exposition::{Labels, Matcher};
    /// use tsdb::{Db, DbOptions, SelectHints};
    ///
    /// let dir = std::env::temp_dir().join(format!("tsdb-doc-maint-{}", std::process::id()));
    /// let mut db = Db::open_path(dir.join("wal"), DbOptions::default()).unwrap();
    /// db.open_blocks(dir.join("blocks")).unwrap();
    /// let up = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
    /// let mut app = db.appender();
    /// for k in 0..(4 * 3600 / 15) {
    ///     app.append(&up, k * 15_000, 1.0).unwrap();
    /// }
    /// app.commit().unwrap();
    /// // Four hours in the head: the first two are cut into a block.
    /// let rep = db.maintenance(1_700_000_000_000).unwrap();
    /// assert_eq!(rep.head_blocks.len(), 1);
    /// assert_eq!(db.blocks()[0].max_time(), 2 * 3_600_000);
    /// // Queries see the block and the head together; deletions apply at once.
    /// db.delete(&[Matcher::equal("job", "node")], 0, 3_599_999).unwrap();
    /// let q = db.db_querier(0, i64::MAX);
    /// let s = q.select(&[], &SelectHints::default()).unwrap().next().unwrap();
    /// let mut it = s.iter();
    /// use tsdb::chunk::SampleIterator;
    /// assert!(it.next());
    /// assert_eq!(it.at().0, 3_600_000);
    /// # drop(db);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn maintenance(&mut self, now_ms: i64) -> Result<MaintenanceReport> {
        let mut rep = MaintenanceReport::default();
        if self.block_root.is_none() {
            if self.opts.retention_ms > 0 && self.head.min_sample_time().is_some() {
                let cut = self.head.max_time().saturating_sub(self.opts.retention_ms);
                if cut > self.head.min_time() {
                    rep.truncate = self.truncate(cut)?;
                }
            }
            return Ok(rep);
        }
        let (blocks, tr) = self.cut_head(now_ms)?;
        rep.head_blocks = blocks;
        rep.truncate = tr;
        while let Some((parents, child)) = self.compact_once(now_ms)? {
            rep.merged_away.extend(parents);
            rep.compacted.extend(child);
        }
        rep.retention_deleted = self.apply_retention()?;
        Ok(rep)
    }

    /// One planned compaction: the ids of the parents deleted and the new block, or `None`
    /// when nothing was due.
    fn compact_once(&mut self, now_ms: i64) -> Result<Option<(Vec<String>, Option<BlockMeta>)>> {
        let Some(root) = self.block_root.clone() else {
            return Ok(None);
        };
        let ranges = compact::ranges(
            self.block_range,
            self.opts.max_block_range(self.block_range),
        );
        let metas: Vec<&BlockMeta> = self.blocks.iter().map(Block::meta).collect();
        let blocks = &self.blocks;
        let Some(idx) = compact::plan(&metas, &ranges, |i| !blocks[i].tombstones().is_empty())
        else {
            return Ok(None);
        };
        let parents: Vec<&Block> = idx.iter().map(|&i| &self.blocks[i]).collect();
        let hook = &mut self.hook;
        let child = compact::compact_blocks(&root, &parents, now_ms, &mut |s| hook.call(s))?;
        let opened = match &child {
            Some(m) => Some(Block::open_lazy(root.join(&m.ulid))?),
            None => None,
        };
        let mut gone = Vec::new();
        let mut removed: Vec<Block> = Vec::new();
        for &i in idx.iter().rev() {
            removed.push(self.blocks.remove(i));
        }
        if let Some(b) = opened {
            self.blocks.push(b);
            self.sort_blocks();
        }
        let n = removed.len();
        for (k, b) in removed.into_iter().enumerate() {
            let path = b.path().to_path_buf();
            gone.push(b.meta().ulid.clone());
            drop(b);
            compact::delete_block_dir(&root, &path)?;
            if k + 1 < n {
                self.hook.call(Step::ParentDeleted)?;
            }
        }
        self.hook.call(Step::ParentsDeleted)?;
        Ok(Some((gone, child)))
    }

    /// Deletes the blocks past the time or size retention; returns their ids.
    fn apply_retention(&mut self) -> Result<Vec<String>> {
        let Some(root) = self.block_root.clone() else {
            return Ok(Vec::new());
        };
        let desc: Vec<(i64, i64, u64)> = self
            .blocks
            .iter()
            .map(|b| (b.min_time(), b.max_time(), b.size_bytes()))
            .collect();
        let idx = crate::retention::beyond_retention(
            &desc,
            self.opts.retention_ms,
            self.opts.retention_bytes,
        );
        let mut out = Vec::new();
        for &i in idx.iter().rev() {
            let b = self.blocks.remove(i);
            let path = b.path().to_path_buf();
            out.push(b.meta().ulid.clone());
            drop(b);
            compact::delete_block_dir(&root, &path)?;
            self.hook.call(Step::RetentionDeleted)?;
        }
        out.reverse();
        Ok(out)
    }

    fn sort_blocks(&mut self) {
        self.blocks.sort_by(|a, b| {
            (a.min_time(), a.max_time(), &a.meta().ulid).cmp(&(
                b.min_time(),
                b.max_time(),
                &b.meta().ulid,
            ))
        });
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
    /// range `[k·range, (k+1)·range)` as a block (leaving out deleted samples), opens it,
    /// and truncates the head (and WAL) at the block's end, as Prometheus does. Does
    /// nothing before [`Db::open_blocks`]. `now_ms` stamps the new block ids. Returns the
    /// new blocks. [`Db::maintenance`] calls this first.
    pub fn compact_head(&mut self, now_ms: i64) -> Result<Vec<BlockMeta>> {
        Ok(self.cut_head(now_ms)?.0)
    }

    fn cut_head(&mut self, now_ms: i64) -> Result<(Vec<BlockMeta>, TruncateReport)> {
        let mut tr = TruncateReport::default();
        let Some(root) = self.block_root.clone() else {
            return Ok((Vec::new(), tr));
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
            let hook = &mut self.hook;
            let written = compact::write_head_range(
                &self.head,
                &self.head_tombs,
                &root,
                mint,
                maxt,
                now_ms,
                &mut |s| hook.call(s),
            )?;
            if let Some(meta) = written {
                let block = Block::open_lazy(root.join(&meta.ulid))?;
                self.blocks.push(block);
                self.sort_blocks();
                out.push(meta);
            }
            let r = self.truncate(maxt)?;
            tr.series_removed += r.series_removed;
            tr.files_deleted += r.files_deleted;
            self.hook.call(Step::WalTruncated)?;
        }
        Ok((out, tr))
    }

    /// A querier over the blocks overlapping `[mint, maxt]` and the head, merged by
    /// series, with deletions applied. ([`Queryable::querier`] on a `Db` reads the head
    /// only and ignores deletions: it is the fast path for callers that know the range is
    /// in the head; see [`Db::head_only`].)
    pub fn db_querier(&self, mint: i64, maxt: i64) -> DbQuerier<'_> {
        let blocks = self
            .blocks
            .iter()
            .filter(|b| b.min_time() <= maxt && b.max_time() > mint)
            .map(|b| b.querier(mint, maxt))
            .collect();
        DbQuerier::new(blocks, Querier::new(&self.head, mint, maxt))
            .with_head_tombstones(&self.head, &self.head_tombs)
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
        self.prune_head_tombstones();
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
            let (head, aliases) = (&self.head, &self.wal_aliases);
            wal::read_records(&name, &data, false, |r| {
                if let Record::Samples(s) = r {
                    // Carried samples name the head's ref, so they need no alias later.
                    carried.extend(s.into_iter().filter_map(|mut x| {
                        let r = match aliases.get(&x.r) {
                            Some(&r) => r,
                            None => u32::try_from(x.r).ok()?,
                        };
                        x.r = u64::from(r);
                        (x.t >= mint && head.series.contains(r)).then_some(x)
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
        // Old refs that segments after `upto` may still use: their series again, under
        // the old ref (a replay maps it onto the live series).
        let aliases: Vec<(u64, &Labels)> = if upto + 1 < self.aliases_until {
            self.wal_aliases
                .iter()
                .filter_map(|(&old, &r)| Some((old, &head.series.get(r)?.labels)))
                .collect()
        } else {
            Vec::new()
        };
        if !aliases.is_empty() {
            cp.add(|b| record::encode_series(b, aliases.into_iter()))?;
        }
        for batch in carried.chunks(10_000) {
            cp.add(|b| record::encode_samples(b, batch.iter().copied()))?;
        }
        // Deletions still in force replace the tombstone records of the dropped segments.
        let tombs: Vec<Tombstone> = self
            .head_tombs
            .iter()
            .flat_map(|(r, list)| {
                list.iter().map(move |iv| Tombstone {
                    r: u64::from(r),
                    mint: iv.mint,
                    maxt: iv.maxt,
                })
            })
            .collect();
        for batch in tombs.chunks(10_000) {
            cp.add(|b| record::encode_tombstones(b, batch))?;
        }
        rep.files_deleted = cp.finish()?;
        if upto + 1 >= self.aliases_until {
            self.wal_aliases.clear();
        }
        for &r in &refs {
            if let Some(s) = head.series_mut(r) {
                s.logged = true;
            }
        }
        Ok(rep)
    }
}

fn replay_record(
    head: &mut Head,
    remap: &mut HashMap<u64, u32>,
    tombs: &mut Tombstones,
    rec: Record,
) {
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
                    head.series.reserve(want);
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
        Record::Tombstones(list) => {
            for t in list {
                let r = match remap.get(&t.r) {
                    Some(&r) => r,
                    None => match u32::try_from(t.r) {
                        Ok(r) => r,
                        Err(_) => continue,
                    },
                };
                if head.series.contains(r) {
                    tombs.add(r, t.mint, t.maxt);
                }
            }
        }
        Record::Truncation { mint } => {
            // Drops what the head held before `mint`, as the truncation did when it ran.
            head.truncate(mint);
        }
        // Native histogram samples: the head applies them itself.
        other => head.replay_histograms(remap, other),
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

    /// Appends an integer native histogram by labels, creating the series if needed.
    pub fn append_histogram(
        &mut self,
        labels: &Labels,
        t: i64,
        h: &Histogram,
    ) -> Result<SeriesRef> {
        self.app.append_histogram(labels, t, h)
    }

    /// Appends an integer native histogram to a known series.
    pub fn append_histogram_ref(&mut self, r: SeriesRef, t: i64, h: &Histogram) -> Result<()> {
        self.app.append_histogram_ref(r, t, h)
    }

    /// Appends a float native histogram by labels, creating the series if needed.
    pub fn append_float_histogram(
        &mut self,
        labels: &Labels,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<SeriesRef> {
        self.app.append_float_histogram(labels, t, h)
    }

    /// Appends a float native histogram to a known series.
    pub fn append_float_histogram_ref(
        &mut self,
        r: SeriesRef,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<()> {
        self.app.append_float_histogram_ref(r, t, h)
    }

    /// Samples (floats and histograms) accepted so far.
    pub fn len(&self) -> usize {
        self.app.pending().len() + self.app.pending_histograms().len()
    }

    /// Whether nothing was accepted.
    pub fn is_empty(&self) -> bool {
        self.app.is_empty()
    }

    /// Writes the batch to the WAL, then makes it visible. On a WAL error the batch is
    /// rolled back and the error returned.
    pub fn commit(mut self) -> Result<()> {
        let Some(wal) = self.wal.take() else {
            self.app.apply();
            return Ok(());
        };
        if self.app.is_empty() {
            self.app.apply();
            return Ok(());
        }
        // Series not yet in the WAL are logged with this commit.
        self.new_series.clear();
        {
            let head = &mut *self.app.head;
            let floats = self.app.samples.iter().map(|p| p.r);
            for r in floats.chain(self.app.histograms.iter().map(|p| p.r)) {
                if let Some(s) = head.series_mut(r) {
                    if !s.logged {
                        s.logged = true;
                        self.new_series.push(r);
                    }
                }
            }
        }
        let head: &Head = self.app.head;
        let new_series = &self.new_series;
        let app = &self.app;
        let res = wal.log_with(|b| {
            if !new_series.is_empty() {
                let list: Vec<(u64, &Labels)> = new_series
                    .iter()
                    .filter_map(|&r| Some((u64::from(r), &head.series.get(r)?.labels)))
                    .collect();
                record::frame(b, |b| record::encode_series(b, list.into_iter()));
            }
            // Float and histogram records, in append order.
            app.encode_wal_samples(b);
        });
        match res {
            Ok(()) => {
                if let Some(max_t) = self.app.max_pending_t() {
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
