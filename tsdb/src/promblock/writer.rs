//! Exporting: any series source in, a Prometheus block directory out
//! (`chunks/000001...`, `index`, `tombstones`, `meta.json`), written under a temporary
//! name, synced, and renamed into place as `<root>/<ulid>`.

use std::io::Write;
use std::path::{Path, PathBuf};

use exposition::histogram::{CounterResetHint, FloatHistogram, Histogram};
use exposition::Labels;
use xxhash_rust::xxh3::xxh3_128;

use super::chunks::{SegmentWriter, DEFAULT_SEGMENT_SIZE};
use super::error::{PromBlockError, Result};
use super::histogram_chunk::{
    encode_float_histograms, encode_histograms, Layout, ENCODING_FLOAT_HISTOGRAM,
    ENCODING_HISTOGRAM,
};
use super::index_write::{self, IndexEntry};
use super::tombstones::Tombstones;
use super::ChunkMeta;
use crate::block::{block_id, Block, BlockMeta, BlockStats, Compaction};
use crate::chunk::{
    validate, MixedIterator, SampleIterator, ValueType, XorAppender, SAMPLES_PER_CHUNK,
};
use crate::db::Db;
use crate::storage::{is_stale_nan, stale_nan, SelectHints};

/// The chunk being filled by [`PromBlockWriter::add_series_mixed`].
enum Open {
    None,
    Float(XorAppender),
    Int(CounterResetHint, Layout, Vec<(i64, Histogram)>),
    FloatHist(CounterResetHint, Layout, Vec<(i64, FloatHistogram)>),
}

fn is_gauge(h: CounterResetHint) -> bool {
    h == CounterResetHint::Gauge
}

fn spans_cover(spans: &[exposition::histogram::Span], buckets: usize) -> bool {
    spans.iter().map(|s| s.length as usize).sum::<usize>() == buckets
}

/// Builds one Prometheus block over `[min_time, max_time)`.
///
/// Series may be added in any order (the index is sorted when the block is finished);
/// each series' samples must come in increasing time order. Samples outside the range
/// are left out, as is a series with none inside it. Samples are re-encoded into XOR
/// chunks of at most 120 samples, bit-compatible with Prometheus's own chunks.
#[derive(Debug)]
pub struct PromBlockWriter {
    root: PathBuf,
    tmp: PathBuf,
    chunks: SegmentWriter,
    series: Vec<IndexEntry>,
    stats: BlockStats,
    min_time: i64,
    max_time: i64,
}

impl PromBlockWriter {
    /// Starts a block over `[min_time, max_time)` to be placed in directory `root`.
    pub fn create(root: impl AsRef<Path>, min_time: i64, max_time: i64) -> Result<PromBlockWriter> {
        PromBlockWriter::with_segment_size(root, min_time, max_time, DEFAULT_SEGMENT_SIZE)
    }

    /// Like [`PromBlockWriter::create`], cutting a new chunk segment file when one
    /// reaches `segment_size` bytes (Prometheus uses 512 MiB).
    pub fn with_segment_size(
        root: impl AsRef<Path>,
        min_time: i64,
        max_time: i64,
        segment_size: u64,
    ) -> Result<PromBlockWriter> {
        if min_time >= max_time {
            return Err(PromBlockError::InvalidWrite("empty time range"));
        }
        let root = root.as_ref().to_path_buf();
        std::fs::create_dir_all(&root).map_err(|e| PromBlockError::io(&root, e))?;
        let tmp = root.join(format!("promblock-{min_time}-{max_time}.tmp"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| PromBlockError::io(&tmp, e))?;
        }
        let chunks = SegmentWriter::new(&tmp.join("chunks"), segment_size)?;
        Ok(PromBlockWriter {
            root,
            tmp,
            chunks,
            series: Vec::new(),
            stats: BlockStats::default(),
            min_time,
            max_time,
        })
    }

    /// Adds a series with the samples of `it` that fall in the block's range.
    pub fn add_series(&mut self, labels: &Labels, it: &mut dyn SampleIterator) -> Result<()> {
        if labels.is_empty() {
            return Err(PromBlockError::InvalidWrite("empty label set"));
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
                return Err(PromBlockError::InvalidWrite(
                    "samples not in increasing time order",
                ));
            }
            prev_t = t;
            if app.num_samples() >= SAMPLES_PER_CHUNK {
                self.flush(&mut app, &mut metas)?;
            }
            app.append(t, v);
            ok = it.next();
        }
        self.flush(&mut app, &mut metas)?;
        if metas.is_empty() {
            return Ok(());
        }
        self.stats.num_series += 1;
        self.series.push(IndexEntry {
            labels: labels.clone(),
            chunks: metas,
        });
        Ok(())
    }

    /// Adds a series whose samples may include native histograms, read with a
    /// [`MixedIterator`]: floats go in XOR chunks, integer histograms in Prometheus's
    /// histogram chunks (encoding 2), float histograms in float-histogram chunks (3). A
    /// chunk holds one sample type and one bucket layout (a new chunk starts where the
    /// layout changes, at a counter-reset hint, or between gauge and counter histograms)
    /// and at most 120 samples; the first sample's counter-reset hint becomes the chunk's
    /// header. Histograms whose sum is the staleness marker are written as float
    /// staleness markers (Prometheus reads both as the end of the series).
    pub fn add_series_mixed(&mut self, labels: &Labels, it: &mut dyn MixedIterator) -> Result<()> {
        if labels.is_empty() {
            return Err(PromBlockError::InvalidWrite("empty label set"));
        }
        let mut metas = Vec::new();
        let mut open = Open::None;
        let mut prev_t = i64::MIN;
        let (mut h, mut fh) = (Histogram::default(), FloatHistogram::default());
        let mut vt = it.seek(self.min_time);
        while vt != ValueType::None {
            let t = it.at_t();
            if t >= self.max_time {
                break;
            }
            if t <= prev_t {
                return Err(PromBlockError::InvalidWrite(
                    "samples not in increasing time order",
                ));
            }
            prev_t = t;
            let float = match vt {
                ValueType::Float => Some(it.at().1),
                ValueType::Histogram => {
                    it.at_histogram(&mut h);
                    is_stale_nan(h.sum).then(stale_nan)
                }
                _ => {
                    it.at_float_histogram(&mut fh);
                    is_stale_nan(fh.sum).then(stale_nan)
                }
            };
            match (float, vt) {
                (Some(v), _) => {
                    if !matches!(&open, Open::Float(a) if a.num_samples() < SAMPLES_PER_CHUNK) {
                        self.flush_open(&mut open, &mut metas)?;
                        open = Open::Float(XorAppender::default());
                    }
                    if let Open::Float(a) = &mut open {
                        a.append(t, v);
                    }
                }
                (None, ValueType::Histogram) => {
                    if !spans_cover(&h.positive_spans, h.positive_buckets.len())
                        || !spans_cover(&h.negative_spans, h.negative_buckets.len())
                    {
                        return Err(PromBlockError::InvalidWrite(
                            "histogram spans do not match its buckets",
                        ));
                    }
                    let fits = match &open {
                        Open::Int(hdr, l, v) => {
                            v.len() < SAMPLES_PER_CHUNK
                                && h.counter_reset_hint != CounterResetHint::CounterReset
                                && is_gauge(*hdr) == is_gauge(h.counter_reset_hint)
                                && l.matches(
                                    h.schema,
                                    h.zero_threshold,
                                    &h.positive_spans,
                                    &h.negative_spans,
                                    &h.custom_values,
                                )
                        }
                        _ => false,
                    };
                    if !fits {
                        self.flush_open(&mut open, &mut metas)?;
                        open = Open::Int(h.counter_reset_hint, Layout::of(&h), Vec::new());
                    }
                    if let Open::Int(_, _, v) = &mut open {
                        v.push((t, h.clone()));
                    }
                }
                (None, _) => {
                    if !spans_cover(&fh.positive_spans, fh.positive_buckets.len())
                        || !spans_cover(&fh.negative_spans, fh.negative_buckets.len())
                    {
                        return Err(PromBlockError::InvalidWrite(
                            "histogram spans do not match its buckets",
                        ));
                    }
                    let fits = match &open {
                        Open::FloatHist(hdr, l, v) => {
                            v.len() < SAMPLES_PER_CHUNK
                                && fh.counter_reset_hint != CounterResetHint::CounterReset
                                && is_gauge(*hdr) == is_gauge(fh.counter_reset_hint)
                                && l.matches(
                                    fh.schema,
                                    fh.zero_threshold,
                                    &fh.positive_spans,
                                    &fh.negative_spans,
                                    &fh.custom_values,
                                )
                        }
                        _ => false,
                    };
                    if !fits {
                        self.flush_open(&mut open, &mut metas)?;
                        open = Open::FloatHist(
                            fh.counter_reset_hint,
                            Layout::of_float(&fh),
                            Vec::new(),
                        );
                    }
                    if let Open::FloatHist(_, _, v) = &mut open {
                        v.push((t, fh.clone()));
                    }
                }
            }
            vt = it.next();
        }
        self.flush_open(&mut open, &mut metas)?;
        if metas.is_empty() {
            return Ok(());
        }
        self.stats.num_series += 1;
        self.series.push(IndexEntry {
            labels: labels.clone(),
            chunks: metas,
        });
        Ok(())
    }

    fn flush_open(&mut self, open: &mut Open, metas: &mut Vec<ChunkMeta>) -> Result<()> {
        let (enc, data, min_t, max_t, n) = match std::mem::replace(open, Open::None) {
            Open::None => return Ok(()),
            Open::Float(mut a) => return self.flush(&mut a, metas),
            Open::Int(hdr, _, v) => {
                let refs: Vec<(i64, &Histogram)> = v.iter().map(|(t, h)| (*t, h)).collect();
                let data = encode_histograms(hdr, &refs);
                (ENCODING_HISTOGRAM, data, v[0].0, v[v.len() - 1].0, v.len())
            }
            Open::FloatHist(hdr, _, v) => {
                let refs: Vec<(i64, &FloatHistogram)> = v.iter().map(|(t, h)| (*t, h)).collect();
                let data = encode_float_histograms(hdr, &refs);
                (
                    ENCODING_FLOAT_HISTOGRAM,
                    data,
                    v[0].0,
                    v[v.len() - 1].0,
                    v.len(),
                )
            }
        };
        let chunk_ref = self.chunks.write_encoded(enc, &data)?;
        metas.push(ChunkMeta {
            min_t,
            max_t,
            chunk_ref,
        });
        self.stats.num_chunks += 1;
        self.stats.num_samples += n as u64;
        Ok(())
    }

    /// Adds a series from chunks already in the XOR encoding (ours and Prometheus's are
    /// the same), copied byte for byte: what re-exporting a Prometheus block or one of
    /// our native blocks without re-encoding needs. Each chunk is decoded to check it,
    /// and must lie inside the block's range, after the previous one.
    pub fn add_series_chunks(&mut self, labels: &Labels, chunks: &[&[u8]]) -> Result<()> {
        if labels.is_empty() {
            return Err(PromBlockError::InvalidWrite("empty label set"));
        }
        let mut metas = Vec::with_capacity(chunks.len());
        let mut prev_t = i64::MIN;
        let mut samples = 0u64;
        for data in chunks {
            let m = validate(data)
                .map_err(|_| PromBlockError::InvalidWrite("chunk does not decode"))?;
            if m.min_t < self.min_time || m.max_t >= self.max_time {
                return Err(PromBlockError::InvalidWrite(
                    "chunk outside the block's range",
                ));
            }
            if m.min_t <= prev_t {
                return Err(PromBlockError::InvalidWrite(
                    "chunks not in increasing time order",
                ));
            }
            prev_t = m.max_t;
            samples += m.num_samples as u64;
            let chunk_ref = self.chunks.write(data)?;
            metas.push(ChunkMeta {
                min_t: m.min_t,
                max_t: m.max_t,
                chunk_ref,
            });
        }
        if metas.is_empty() {
            return Ok(());
        }
        self.stats.num_series += 1;
        self.stats.num_chunks += metas.len() as u64;
        self.stats.num_samples += samples;
        self.series.push(IndexEntry {
            labels: labels.clone(),
            chunks: metas,
        });
        Ok(())
    }

    fn flush(&mut self, app: &mut XorAppender, metas: &mut Vec<ChunkMeta>) -> Result<()> {
        if app.is_empty() {
            return Ok(());
        }
        let full = std::mem::take(app);
        let (min_t, max_t, n) = (full.min_t(), full.max_t(), full.num_samples());
        let chunk_ref = self.chunks.write(&full.finish())?;
        metas.push(ChunkMeta {
            min_t,
            max_t,
            chunk_ref,
        });
        self.stats.num_chunks += 1;
        self.stats.num_samples += n as u64;
        Ok(())
    }

    /// Writes the index, an empty tombstones file and meta.json, syncs everything and
    /// renames the block into place as `<root>/<ulid>`; `now_ms` is the time part of
    /// the ULID. Returns `None` (and leaves nothing behind) when no series had samples.
    pub fn finish(self, now_ms: i64) -> Result<Option<BlockMeta>> {
        let PromBlockWriter {
            root,
            tmp,
            chunks,
            mut series,
            stats,
            min_time,
            max_time,
        } = self;
        if series.is_empty() {
            drop(chunks);
            std::fs::remove_dir_all(&tmp).map_err(|e| PromBlockError::io(&tmp, e))?;
            return Ok(None);
        }
        chunks.finish()?;
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        if series.windows(2).any(|w| w[0].labels == w[1].labels) {
            return Err(PromBlockError::InvalidWrite(
                "the same series was added twice",
            ));
        }
        let idx = index_write::encode(&series)?;
        let mut entropy = Vec::with_capacity(series.len() * 8 + 32);
        entropy.extend_from_slice(&min_time.to_le_bytes());
        entropy.extend_from_slice(&max_time.to_le_bytes());
        entropy.extend_from_slice(&stats.num_samples.to_le_bytes());
        entropy.extend_from_slice(&xxh3_128(&idx).to_le_bytes());
        let ulid = block_id(now_ms, xxh3_128(&entropy));
        write_synced(&tmp.join("index"), &idx)?;
        write_synced(&tmp.join("tombstones"), &Tombstones::default().encode())?;
        let meta = BlockMeta {
            ulid: ulid.clone(),
            min_time,
            max_time,
            stats,
            compaction: Compaction {
                level: 1,
                sources: vec![ulid.clone()],
                parents: Vec::new(),
            },
            version: 1,
        };
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|_| PromBlockError::InvalidWrite("meta.json serialization failed"))?;
        write_synced(&tmp.join("meta.json"), &json)?;
        sync_dir(&tmp.join("chunks"))?;
        sync_dir(&tmp)?;
        let dest = root.join(&ulid);
        if dest.exists() {
            return Err(PromBlockError::io(
                &dest,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "block already exists"),
            ));
        }
        std::fs::rename(&tmp, &dest).map_err(|e| PromBlockError::io(&tmp, e))?;
        sync_dir(&root)?;
        Ok(Some(meta))
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::File::create(path).map_err(|e| PromBlockError::io(path, e))?;
    f.write_all(bytes)
        .map_err(|e| PromBlockError::io(path, e))?;
    f.sync_all().map_err(|e| PromBlockError::io(path, e))
}

fn sync_dir(path: &Path) -> Result<()> {
    let d = std::fs::File::open(path).map_err(|e| PromBlockError::io(path, e))?;
    d.sync_all().map_err(|e| PromBlockError::io(path, e))
}

/// Exports series `(labels, samples)` as one Prometheus block over `[min_time, max_time)`
/// in `root`. Returns the block's meta, or `None` when no sample fell in the range.
pub fn export_block<I, S>(
    series: I,
    root: impl AsRef<Path>,
    min_time: i64,
    max_time: i64,
    now_ms: i64,
) -> Result<Option<BlockMeta>>
where
    I: IntoIterator<Item = (Labels, S)>,
    S: SampleIterator,
{
    let mut w = PromBlockWriter::create(root, min_time, max_time)?;
    for (labels, mut it) in series {
        w.add_series(&labels, &mut it)?;
    }
    w.finish(now_ms)
}

/// Exports one of our native blocks as a Prometheus block with the same time range
/// (native histograms included, in Prometheus's histogram chunk encodings).
pub fn export_native_block(
    block: &Block,
    root: impl AsRef<Path>,
    now_ms: i64,
) -> Result<Option<BlockMeta>> {
    let (min_time, max_time) = (block.min_time(), block.max_time());
    let mut w = PromBlockWriter::create(root, min_time, max_time)?;
    let q = block.querier(min_time, max_time - 1);
    for s in q.select(&[], &SelectHints::default())? {
        if s.has_histograms() {
            w.add_series_mixed(s.labels(), &mut s.sample_iter())?;
        } else {
            w.add_series(s.labels(), &mut s.iter())?;
        }
    }
    w.finish(now_ms)
}

/// Exports the samples of a [`Db`] (its blocks and head, merged; floats and native
/// histograms) in `[min_time, max_time)` as one Prometheus block.
pub fn export_db(
    db: &Db,
    root: impl AsRef<Path>,
    min_time: i64,
    max_time: i64,
    now_ms: i64,
) -> Result<Option<BlockMeta>> {
    let mut w = PromBlockWriter::create(root, min_time, max_time)?;
    let q = db.db_querier(min_time, max_time - 1);
    for s in q.select(&[], &SelectHints::default())? {
        if s.has_histograms() {
            w.add_series_mixed(s.labels(), &mut s.mixed_iter())?;
        } else {
            w.add_series(s.labels(), &mut s.iter())?;
        }
    }
    w.finish(now_ms)
}

/// A [`SampleIterator`] over samples held in a vector (sorted by time), for exporting
/// data that is already in memory.
#[derive(Debug, Clone, Default)]
pub struct VecSamples {
    samples: Vec<(i64, f64)>,
    /// One past the current sample (0 before the first `next`).
    pos: usize,
}

impl VecSamples {
    /// An iterator over `samples`, which must be sorted by timestamp.
    pub fn new(samples: Vec<(i64, f64)>) -> VecSamples {
        VecSamples { samples, pos: 0 }
    }
}

impl SampleIterator for VecSamples {
    fn next(&mut self) -> bool {
        if self.pos < self.samples.len() {
            self.pos += 1;
            true
        } else {
            self.pos = self.samples.len() + 1;
            false
        }
    }

    fn seek(&mut self, t: i64) -> bool {
        if self.pos == 0 {
            self.pos = 1;
        }
        while self.pos <= self.samples.len() && self.samples[self.pos - 1].0 < t {
            self.pos += 1;
        }
        self.pos <= self.samples.len()
    }

    fn at(&self) -> (i64, f64) {
        self.samples
            .get(self.pos.wrapping_sub(1))
            .copied()
            .unwrap_or((i64::MIN, f64::NAN))
    }
}
