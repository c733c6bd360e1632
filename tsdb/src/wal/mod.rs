//! The write-ahead log: committed samples reach a file before `commit()` returns, and
//! reopening the directory replays them.
//!
//! ```text
//! commit ──► records (series, samples) ──► framed + xxh64 ──► segment 00000007 (append)
//! truncate ──► cut + truncation record ──► checkpoint.00000007 (live series) ──► delete ≤ 7
//!              (7 = newest segment whose samples all precede the truncation point)
//! open ──► checkpoint.N ──► segments N+1.. ──► records ──► head
//! ```
//!
//! Segments are files named by an 8-digit sequence number; a record never spans two
//! segments. Writing resumes in a fresh segment on every open (or in the newest one when
//! it is empty), after any torn tail was cut off, so only the newest segment can have a
//! torn tail. The byte layout is in `docs/format/wal.md`.

pub mod reader;
pub mod record;

use std::collections::BTreeMap;

use crate::dir::{Dir, DirFile};
use crate::error::{Error, Result};
pub use reader::{read_records, FileEnd};
pub use record::{Record, RefFloatHistogramSample, RefHistogramSample, RefSample, Tombstone};

/// When committed data is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Fsync before every commit returns: a commit survives a power loss. Costs one
    /// fsync per commit (milliseconds on many disks).
    EveryCommit,
    /// Fsync when the caller's clock passes `ms` since the last sync
    /// (see [`crate::Db::tick`]). A commit survives a process crash at once (the bytes are
    /// in the OS page cache) but a power loss may lose the last `ms` of commits.
    Interval {
        /// Milliseconds between syncs.
        ms: i64,
    },
    /// Never fsync on its own; only [`crate::Db::sync`] does.
    Manual,
}

/// WAL tunables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalOptions {
    /// A segment is cut when the next write would make it bigger than this.
    pub segment_size: u64,
    /// The fsync policy.
    pub sync: SyncPolicy,
    /// On corruption in the middle of the log, keep everything before the bad record,
    /// delete the rest and go on (instead of returning [`Error::Corruption`]).
    pub repair: bool,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: 64 << 20,
            sync: SyncPolicy::EveryCommit,
            repair: false,
        }
    }
}

/// What a replay found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// The checkpoint loaded, if any.
    pub checkpoint: Option<String>,
    /// Segments read.
    pub segments: usize,
    /// Records read.
    pub records: usize,
    /// Samples read.
    pub samples: usize,
    /// A torn final record that was cut off: (segment, offset).
    pub torn_tail: Option<(String, u64)>,
    /// Corruption that `repair` cut off: (segment, offset, segments deleted after it).
    pub repaired: Option<(String, u64, usize)>,
}

/// What [`replay`] hands to [`Wal::create`]: where to write next and what is known about
/// the segments on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalState {
    /// The segment to write next.
    pub next_segment: u64,
    /// The newest checkpoint, if any.
    pub checkpoint: Option<u64>,
    /// Newest sample timestamp in each segment (`i64::MIN` when it holds none).
    pub segment_max_t: BTreeMap<u64, i64>,
}

/// File name of segment `n`.
pub fn segment_name(n: u64) -> String {
    format!("{n:08}")
}

/// File name of the checkpoint covering segments up to `n`.
pub fn checkpoint_name(n: u64) -> String {
    format!("checkpoint.{n:08}")
}

fn parse_segment(name: &str) -> Option<u64> {
    (name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()))
        .then(|| name.parse().ok())
        .flatten()
}

fn parse_checkpoint(name: &str) -> Option<u64> {
    parse_segment(name.strip_prefix("checkpoint.")?)
}

/// Replays the WAL in `dir`: the newest checkpoint, then every later segment, handing each
/// record to `f`. Cuts a torn tail off the newest segment; with `opts.repair`, cuts the log
/// at the first corrupt record. Leftovers of an interrupted checkpoint are removed.
/// Returns the report and the state the writer resumes from.
pub fn replay(
    dir: &dyn Dir,
    opts: &WalOptions,
    mut f: impl FnMut(Record) -> Result<()>,
) -> Result<(ReplayReport, WalState)> {
    let mut report = ReplayReport::default();
    let mut seg_max: BTreeMap<u64, i64> = BTreeMap::new();
    let names = dir.list()?;
    for n in names.iter().filter(|n| n.ends_with(".tmp")) {
        dir.remove(n)?;
    }
    let checkpoint = names.iter().filter_map(|n| parse_checkpoint(n)).max();
    let mut segments: Vec<u64> = names.iter().filter_map(|n| parse_segment(n)).collect();
    segments.sort_unstable();
    if let Some(c) = checkpoint {
        // Segments the checkpoint covers, left behind by a crash before their deletion.
        for &s in segments.iter().filter(|&&s| s <= c) {
            dir.remove(&segment_name(s))?;
        }
        for n in names
            .iter()
            .filter(|n| parse_checkpoint(n).is_some_and(|x| x < c))
        {
            dir.remove(n)?;
        }
        segments.retain(|&s| s > c);
        let name = checkpoint_name(c);
        let data = dir.read(&name)?;
        read_records(&name, &data, false, |r| {
            report.records += 1;
            report.samples += r.num_samples();
            f(r)
        })?;
        report.checkpoint = Some(name);
    }
    // The sequence must be contiguous (and follow the checkpoint).
    let mut expect = checkpoint.map(|c| c + 1);
    for &s in &segments {
        if let Some(e) = expect {
            if s != e {
                return Err(Error::Corruption {
                    segment: segment_name(e),
                    offset: 0,
                    reason: crate::error::CorruptionKind::MissingSegment,
                });
            }
        }
        expect = Some(s + 1);
    }
    let mut last_len = 0u64;
    for (i, &s) in segments.iter().enumerate() {
        let name = segment_name(s);
        let data = dir.read(&name)?;
        let last = i + 1 == segments.len();
        last_len = data.len() as u64;
        report.segments += 1;
        let max_t = seg_max.entry(s).or_insert(i64::MIN);
        let res = read_records(&name, &data, last, |r| {
            report.records += 1;
            report.samples += r.num_samples();
            if let Some(t) = r.max_sample_time() {
                *max_t = (*max_t).max(t);
            }
            f(r)
        });
        match res {
            Ok(FileEnd::Clean) => {}
            Ok(FileEnd::Torn { offset }) => {
                dir.truncate(&name, offset)?;
                last_len = offset;
                report.torn_tail = Some((name, offset));
            }
            Err(Error::Corruption {
                segment, offset, ..
            }) if opts.repair => {
                dir.truncate(&segment, offset)?;
                let later = &segments[i + 1..];
                for &l in later {
                    dir.remove(&segment_name(l))?;
                }
                dir.sync_dir()?;
                report.repaired = Some((segment, offset, later.len()));
                let state = WalState {
                    next_segment: s + 1,
                    checkpoint,
                    segment_max_t: seg_max,
                };
                return Ok((report, state));
            }
            Err(e) => return Err(e),
        }
    }
    // An empty newest segment (an open without writes, or a tail cut to nothing) is
    // reused rather than followed by another.
    let next = match segments.last() {
        Some(&s) if last_len == 0 => {
            seg_max.remove(&s);
            s
        }
        Some(&s) => s + 1,
        None => checkpoint.map_or(0, |c| c + 1),
    };
    Ok((
        report,
        WalState {
            next_segment: next,
            checkpoint,
            segment_max_t: seg_max,
        },
    ))
}

/// The WAL writer: appends framed records to the current segment.
#[derive(Debug)]
pub struct Wal {
    dir: Box<dyn Dir>,
    opts: WalOptions,
    seg: u64,
    file: Box<dyn DirFile>,
    buf: Vec<u8>,
    unsynced: bool,
    last_sync_ms: Option<i64>,
    broken: bool,
    checkpoint: Option<u64>,
    seg_max_t: BTreeMap<u64, i64>,
}

impl Wal {
    /// Starts writing at `state.next_segment` (as returned by [`replay`]).
    pub fn create(dir: Box<dyn Dir>, opts: WalOptions, state: WalState) -> Result<Wal> {
        let seg = state.next_segment;
        let file = dir.create(&segment_name(seg))?;
        dir.sync_dir()?;
        let mut seg_max_t = state.segment_max_t;
        seg_max_t.insert(seg, i64::MIN);
        Ok(Wal {
            dir,
            opts,
            seg,
            file,
            buf: Vec::new(),
            unsynced: false,
            last_sync_ms: None,
            broken: false,
            checkpoint: state.checkpoint,
            seg_max_t,
        })
    }

    /// Records that the segment being written now holds a sample at `t`.
    pub fn note_sample_time(&mut self, t: i64) {
        let e = self.seg_max_t.entry(self.seg).or_insert(i64::MIN);
        *e = (*e).max(t);
    }

    /// The newest checkpoint, if any.
    pub fn last_checkpoint(&self) -> Option<u64> {
        self.checkpoint
    }

    /// The highest closed segment such that it and every older segment hold only samples
    /// before `mint`: what a checkpoint at `mint` can replace.
    pub fn checkpointable(&self, mint: i64) -> Option<u64> {
        let mut last = None;
        for (&seg, &max_t) in &self.seg_max_t {
            if seg >= self.seg || max_t >= mint {
                break;
            }
            last = Some(seg);
        }
        last
    }

    /// The number of the segment being written.
    pub fn current_segment(&self) -> u64 {
        self.seg
    }

    /// The options in force.
    pub fn options(&self) -> &WalOptions {
        &self.opts
    }

    /// The directory.
    pub fn dir(&self) -> &dyn Dir {
        &*self.dir
    }

    /// Writes the records that `encode` appends to a buffer (use [`record::frame`]) as one
    /// write, then syncs if the policy says so. On failure the segment is cut back to
    /// where it was, so a failed commit leaves no trace.
    pub fn log_with(&mut self, encode: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        if self.broken {
            return Err(Error::io(
                self.dir.path(&segment_name(self.seg)),
                std::io::Error::other("WAL unusable after a failed write; reopen the database"),
            ));
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        encode(&mut buf);
        let res = self.write(&buf);
        if buf.capacity() <= 4 << 20 {
            self.buf = buf;
        }
        res
    }

    fn write(&mut self, buf: &[u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        if buf.len() > record::MAX_RECORD_LEN {
            return Err(Error::CommitTooLarge {
                bytes: buf.len(),
                limit: record::MAX_RECORD_LEN,
            });
        }
        let len = self.file.len();
        if len > 0 && len + buf.len() as u64 > self.opts.segment_size {
            self.cut()?;
        }
        let before = self.file.len();
        let mut res = self.file.write_all(buf);
        if res.is_ok() && self.opts.sync == SyncPolicy::EveryCommit {
            res = self.file.sync();
        }
        match res {
            Ok(()) => {
                self.unsynced = self.opts.sync != SyncPolicy::EveryCommit;
                Ok(())
            }
            Err(e) => {
                self.undo(before);
                Err(e)
            }
        }
    }

    /// Cuts the current segment back to `len` after a failed write.
    fn undo(&mut self, len: u64) {
        let name = segment_name(self.seg);
        let ok = self.dir.truncate(&name, len).is_ok()
            && match self.dir.append(&name) {
                Ok(f) => {
                    self.file = f;
                    true
                }
                Err(_) => false,
            };
        if !ok {
            self.broken = true;
        }
    }

    /// Closes the current segment (synced) and starts the next. Returns the number of the
    /// segment just closed.
    pub fn cut(&mut self) -> Result<u64> {
        self.file.sync()?;
        let closed = self.seg;
        let next = closed + 1;
        // Switch to the new segment only once its directory entry is durable: until then
        // commits keep going to `closed`, so a failed cut never strands acknowledged records
        // in a file the WAL does not know it is writing (the next cut would empty it).
        let file = self.dir.create(&segment_name(next))?;
        self.dir.sync_dir()?;
        self.file = file;
        self.seg = next;
        self.seg_max_t.insert(next, i64::MIN);
        self.unsynced = false;
        Ok(closed)
    }

    /// Fsyncs the current segment.
    pub fn sync(&mut self) -> Result<()> {
        self.file.sync()?;
        self.unsynced = false;
        Ok(())
    }

    /// Applies the interval policy: syncs when `now_ms` is at least the interval past
    /// the last sync and something is unsynced.
    pub fn tick(&mut self, now_ms: i64) -> Result<()> {
        if let SyncPolicy::Interval { ms } = self.opts.sync {
            let due = match self.last_sync_ms {
                None => true,
                Some(l) => now_ms.saturating_sub(l) >= ms,
            };
            if due {
                if self.unsynced {
                    self.sync()?;
                }
                self.last_sync_ms = Some(now_ms);
            }
        }
        Ok(())
    }

    /// Whether committed data may be waiting for an fsync.
    pub fn has_unsynced(&self) -> bool {
        self.unsynced
    }

    /// Starts a checkpoint covering segments up to and including `upto` (which must be
    /// closed). Write its records, then [`CheckpointWriter::finish`].
    pub fn checkpoint(&mut self, upto: u64) -> Result<CheckpointWriter<'_>> {
        let tmp = format!("{}.tmp", checkpoint_name(upto));
        let file = self.dir.create(&tmp)?;
        Ok(CheckpointWriter {
            wal: self,
            upto,
            tmp,
            file,
            buf: Vec::with_capacity(1 << 20),
        })
    }
}

/// Writes one checkpoint file; dropped unfinished, it leaves only a `.tmp` file that the
/// next open removes.
#[derive(Debug)]
pub struct CheckpointWriter<'a> {
    wal: &'a mut Wal,
    upto: u64,
    tmp: String,
    file: Box<dyn DirFile>,
    buf: Vec<u8>,
}

impl CheckpointWriter<'_> {
    /// Adds one record, encoded by `encode` (a payload encoder from [`record`]).
    pub fn add(&mut self, encode: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        record::frame(&mut self.buf, encode);
        if self.buf.len() >= 1 << 20 {
            self.file.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Makes the checkpoint durable, atomically puts it in place, and deletes the
    /// segments and older checkpoints it replaces. Returns the number of files deleted.
    pub fn finish(mut self) -> Result<usize> {
        self.file.write_all(&self.buf)?;
        self.file.sync()?;
        self.wal
            .dir
            .rename(&self.tmp, &checkpoint_name(self.upto))?;
        self.wal.dir.sync_dir()?;
        self.wal.checkpoint = Some(self.upto);
        let upto = self.upto;
        self.wal.seg_max_t.retain(|&s, _| s > upto);
        let dir = &self.wal.dir;
        let mut deleted = 0;
        for n in dir.list()? {
            let old_seg = parse_segment(&n).is_some_and(|s| s <= self.upto);
            let old_cp = parse_checkpoint(&n).is_some_and(|c| c < self.upto);
            if old_seg || old_cp {
                dir.remove(&n)?;
                deleted += 1;
            }
        }
        dir.sync_dir()?;
        Ok(deleted)
    }
}
