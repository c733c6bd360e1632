//! Writing a block: samples of sorted series in, a durable block directory out.

use std::path::{Path, PathBuf};

use exposition::Labels;
use xxhash_rust::xxh3::xxh3_128;

use super::chunks::ChunkWriter;
use super::index::{self, ChunkRef, IndexSeries};
use super::meta::{block_id, BlockMeta, BlockParent, BlockStats, Compaction, BLOCK_VERSION};
use crate::chunk::{SampleIterator, XorAppender};
use crate::dir::{Dir, FsDir};
use crate::error::{Error, Result};
use crate::head::Head;
use crate::query::Querier;
use crate::storage::SelectHints;

/// Samples per chunk in a block. Larger than the head's 120: a block's chunks are read
/// mostly whole and in order, and each chunk costs a record header, a checksum, a full
/// first sample and a 24-byte index entry, so fewer, longer chunks make a block smaller
/// (see the `blocks` benchmark).
pub const BLOCK_SAMPLES_PER_CHUNK: usize = 480;

/// Builds one block over `[min_time, max_time)` from series added in label order; see
/// `FORMAT.md` for the files it writes and the write protocol (temp dir, fsync, rename).
#[derive(Debug)]
pub struct BlockWriter {
    root: PathBuf,
    tmp: PathBuf,
    chunks: ChunkWriter,
    series: Vec<IndexSeries>,
    stats: BlockStats,
    min_time: i64,
    max_time: i64,
    /// Bytes the id's random part is hashed from (range, label hashes, sample count).
    entropy: Vec<u8>,
}

impl BlockWriter {
    /// Starts a block over `[min_time, max_time)` to be placed in directory `root`.
    pub fn create(root: impl AsRef<Path>, min_time: i64, max_time: i64) -> Result<BlockWriter> {
        if min_time >= max_time {
            return Err(Error::InvalidBlockWrite("empty time range"));
        }
        let root = root.as_ref().to_path_buf();
        std::fs::create_dir_all(&root).map_err(|e| Error::io(&root, e))?;
        let tmp = root.join(format!("block-{min_time}-{max_time}.tmp"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        let chunks = ChunkWriter::new(FsDir::open(tmp.join("chunks"))?);
        let mut entropy = Vec::with_capacity(64);
        entropy.extend_from_slice(&min_time.to_le_bytes());
        entropy.extend_from_slice(&max_time.to_le_bytes());
        Ok(BlockWriter {
            root,
            tmp,
            chunks,
            series: Vec::new(),
            stats: BlockStats::default(),
            min_time,
            max_time,
            entropy,
        })
    }

    /// Adds a series with the samples of `it` that fall in the block's range, re-encoded
    /// into chunks of up to [`BLOCK_SAMPLES_PER_CHUNK`] samples. Series must come in strictly increasing label
    /// order; a series with no sample in range is left out.
    pub fn add_series(&mut self, labels: &Labels, it: &mut dyn SampleIterator) -> Result<()> {
        if labels.is_empty() {
            return Err(Error::EmptyLabels);
        }
        if self.series.last().is_some_and(|s| &s.labels >= labels) {
            return Err(Error::InvalidBlockWrite(
                "series not in strictly increasing label order",
            ));
        }
        let mut metas = Vec::new();
        let mut app = XorAppender::default();
        let mut prev_t = i64::MIN;
        let mut ok = it.seek(self.min_time);
        while ok {
            let (t, v) = it.at();
            if t >= self.max_time {
                break;
            }
            if t <= prev_t {
                return Err(Error::InvalidBlockWrite(
                    "samples not in increasing time order",
                ));
            }
            prev_t = t;
            if app.num_samples() >= BLOCK_SAMPLES_PER_CHUNK || app.is_full() {
                self.flush(&mut app, &mut metas)?;
            }
            app.append(t, v);
            self.stats.num_samples += 1;
            ok = it.next();
        }
        self.flush(&mut app, &mut metas)?;
        if metas.is_empty() {
            return Ok(());
        }
        self.entropy.extend_from_slice(&labels.hash().to_le_bytes());
        self.stats.num_series += 1;
        self.series.push(IndexSeries {
            labels: labels.clone(),
            chunks: metas,
        });
        Ok(())
    }

    /// Adds a series whose samples may include native histograms: every sample of `it` in
    /// the block's range for which `deleted(t)` is false is re-encoded into chunks cut as
    /// the head cuts them (one chunk per encoding and bucket layout; counter-reset headers
    /// kept). Same ordering rules as [`BlockWriter::add_series`].
    pub fn add_series_mixed(
        &mut self,
        labels: &Labels,
        it: &mut dyn crate::chunk::MixedIterator,
        deleted: &dyn Fn(i64) -> bool,
    ) -> Result<()> {
        if labels.is_empty() {
            return Err(Error::EmptyLabels);
        }
        if self.series.last().is_some_and(|s| &s.labels >= labels) {
            return Err(Error::InvalidBlockWrite(
                "series not in strictly increasing label order",
            ));
        }
        let (chunks, n) = crate::head::MemSeries::encode_mixed(
            it,
            self.min_time,
            self.max_time,
            BLOCK_SAMPLES_PER_CHUNK,
            deleted,
        )?;
        if chunks.is_empty() {
            return Ok(());
        }
        let mut metas = Vec::with_capacity(chunks.len());
        for c in &chunks {
            let cref = self.chunks.write_encoded(c.encoding, &c.data)?;
            metas.push(ChunkRef {
                min_t: c.min_t,
                max_t: c.max_t,
                cref,
            });
        }
        self.stats.num_chunks += metas.len() as u64;
        self.stats.num_samples += n as u64;
        self.entropy.extend_from_slice(&labels.hash().to_le_bytes());
        self.stats.num_series += 1;
        self.series.push(IndexSeries {
            labels: labels.clone(),
            chunks: metas,
        });
        Ok(())
    }

    fn flush(&mut self, app: &mut XorAppender, metas: &mut Vec<ChunkRef>) -> Result<()> {
        if app.is_empty() {
            return Ok(());
        }
        let full = std::mem::take(app);
        let (min_t, max_t) = (full.min_t(), full.max_t());
        let cref = self.chunks.write(&full.finish())?;
        metas.push(ChunkRef { min_t, max_t, cref });
        self.stats.num_chunks += 1;
        Ok(())
    }

    /// Writes the index and meta.json, syncs everything and renames the block into place
    /// as `<root>/<id>`; `now_ms` is the time part of the id. Returns `None` (and writes
    /// nothing) when no series had samples in range.
    pub fn finish(self, now_ms: i64) -> Result<Option<BlockMeta>> {
        self.finish_with(now_ms, &[], &mut |_| Ok(()))
    }

    /// As [`BlockWriter::finish`] for a block merged from `parents` (level one more than
    /// the highest parent's, or the parent's own for a rewrite of one block; sources the
    /// union of theirs). `hook` is called after each
    /// step of the write protocol; an error from it stops the write there (tests use it to
    /// simulate a crash at every step).
    pub fn finish_with(
        self,
        now_ms: i64,
        parents: &[BlockMeta],
        hook: &mut dyn FnMut(WriteStep) -> Result<()>,
    ) -> Result<Option<BlockMeta>> {
        let BlockWriter {
            root,
            tmp,
            chunks,
            series,
            stats,
            min_time,
            max_time,
            mut entropy,
        } = self;
        if series.is_empty() {
            drop(chunks);
            std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
            return Ok(None);
        }
        chunks.finish()?;
        entropy.extend_from_slice(&stats.num_samples.to_le_bytes());
        let mut sources: Vec<String> = Vec::new();
        for p in parents {
            entropy.extend_from_slice(p.ulid.as_bytes());
            sources.extend(p.compaction.sources.iter().cloned());
        }
        sources.sort();
        sources.dedup();
        // A merge is one level above its highest parent; rewriting one block (to apply
        // its tombstones) keeps its level.
        let top = parents.iter().map(|p| p.compaction.level).max();
        let level = match (top, parents.len()) {
            (None, _) => 1,
            (Some(l), 1) => l,
            (Some(l), _) => l + 1,
        };
        let ulid = block_id(now_ms, xxh3_128(&entropy));
        if sources.is_empty() {
            sources.push(ulid.clone());
        }
        let dir = FsDir::open(&tmp)?;
        let idx = index::encode(&series)?;
        write_synced(&dir, "index", &idx)?;
        let meta = BlockMeta {
            ulid: ulid.clone(),
            min_time,
            max_time,
            stats,
            compaction: Compaction {
                level,
                sources,
                parents: parents
                    .iter()
                    .map(|p| BlockParent {
                        ulid: p.ulid.clone(),
                        min_time: p.min_time,
                        max_time: p.max_time,
                    })
                    .collect(),
            },
            version: BLOCK_VERSION,
        };
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|_| Error::InvalidBlockWrite("meta.json serialization failed"))?;
        write_synced(&dir, "meta.json", &json)?;
        hook(WriteStep::TempWritten)?;
        dir.sync_dir()?;
        hook(WriteStep::TempSynced)?;
        let dest = root.join(&ulid);
        if dest.exists() {
            return Err(Error::io(
                &dest,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "block already exists"),
            ));
        }
        std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&tmp, e))?;
        FsDir::open(&root)?.sync_dir()?;
        hook(WriteStep::Renamed)?;
        Ok(Some(meta))
    }
}

/// The steps of the block write protocol, in order, as reported to a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WriteStep {
    /// Chunks, index and meta.json are written (each file fsynced) in the `.tmp` directory.
    TempWritten,
    /// The `.tmp` directory itself is fsynced.
    TempSynced,
    /// The directory is renamed to its id and the root fsynced: the block is durable.
    Renamed,
}

fn write_synced(dir: &FsDir, name: &str, bytes: &[u8]) -> Result<()> {
    let mut f = dir.create(name)?;
    f.write_all(bytes)?;
    f.sync()
}

/// Writes the head's samples in `[min_time, max_time)` as a block in `root`. Returns the
/// new block's meta, or `None` when the head has no samples in that range.
pub fn write_head_block(
    head: &Head,
    root: impl AsRef<Path>,
    min_time: i64,
    max_time: i64,
    now_ms: i64,
) -> Result<Option<BlockMeta>> {
    let mut w = BlockWriter::create(root, min_time, max_time)?;
    let q = Querier::new(head, min_time, max_time - 1);
    for s in q.select(&[], &SelectHints::default())? {
        let mut it = s.iter();
        w.add_series(s.labels(), &mut it)?;
    }
    w.finish(now_ms)
}
