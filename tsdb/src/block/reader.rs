//! Opening a block: meta.json and the index's header and TOC checked, chunk segments
//! mapped but not read. The index sections are verified and decoded on first use (or at
//! once by [`Block::open`]; [`Block::open_lazy`] defers it, so opening costs about the same
//! for any block size).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::chunks::ChunkReader;
use super::index::{self, IndexData, IndexSeries};
use super::meta::BlockMeta;
use super::querier::BlockQuerier;
use crate::dir::{FsDir, Mapped};
use crate::error::{Error, Result};
use crate::head::MemPostings;
use crate::tombstones::{Tombstones, TOMBSTONES_FILE};

/// An open, immutable block.
#[derive(Debug)]
pub struct Block {
    path: PathBuf,
    meta: BlockMeta,
    /// The mapped index file (header and TOC checked at open).
    index_map: Mapped,
    /// The decoded index, or what was wrong with it, once first needed.
    index: OnceLock<std::result::Result<IndexData, Damage>>,
    chunks: ChunkReader,
    tombstones: Tombstones,
    /// Bytes on disk (chunk segments, index, meta.json, tombstones).
    size: u64,
}

impl Block {
    /// Opens the block directory at `path`: parses meta.json, verifies every index
    /// section's checksum and decodes the index, and maps the chunk segments. No chunk
    /// bytes are read (chunk refs are checked against the segment sizes only); each
    /// chunk's checksum is verified when a query first loads it.
    pub fn open(path: impl AsRef<Path>) -> Result<Block> {
        let b = Block::open_lazy(path)?;
        b.index()?;
        Ok(b)
    }

    /// Opens the block directory at `path` reading only meta.json, the index header and
    /// TOC, and the tombstones: the index sections are verified and decoded when first
    /// needed, and damage found then is returned by the query (or by
    /// [`Block::verify_index`]). Opening costs about the same for any block size.
    pub fn open_lazy(path: impl AsRef<Path>) -> Result<Block> {
        let path = path.as_ref().to_path_buf();
        let meta_path = path.join("meta.json");
        let bytes = std::fs::read(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
        let meta = BlockMeta::parse(&bytes, &meta_path)?;
        if path.file_name().and_then(|n| n.to_str()) != Some(meta.ulid.as_str()) {
            return Err(Error::BlockCorruption {
                file: meta_path,
                section: "meta",
                offset: 0,
                reason: format!("block id {} differs from the directory name", meta.ulid),
            });
        }
        let dir = FsDir::open_existing(&path)?;
        let index_map = dir.map("index")?;
        index::check_toc(&index_map, &path.join("index"))?;
        let chunks = ChunkReader::open(&path.join("chunks"))?;
        let tomb_path = path.join(TOMBSTONES_FILE);
        let tombstones = match std::fs::read(&tomb_path) {
            Ok(b) => Tombstones::decode(&b, &tomb_path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Tombstones::new(),
            Err(e) => return Err(Error::io(&tomb_path, e)),
        };
        let size = dir_size(&path)?;
        Ok(Block {
            path,
            meta,
            index_map,
            index: OnceLock::new(),
            chunks,
            tombstones,
            size,
        })
    }

    /// Bytes the block takes on disk (all its files), measured at open and after each
    /// tombstone write.
    pub fn size_bytes(&self) -> u64 {
        self.size
    }

    /// The block's deletions, keyed by series id.
    pub fn tombstones(&self) -> &Tombstones {
        &self.tombstones
    }

    /// Marks `[mint, maxt]` deleted for the series the matchers select, and rewrites the
    /// block's `tombstones` file durably (temp file, fsync, rename, fsync of the directory)
    /// before the in-memory set changes. Returns how many series got a new interval.
    pub fn delete(
        &mut self,
        matchers: &[exposition::Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<usize> {
        if mint > maxt || maxt < self.min_time() || mint >= self.max_time() {
            return Ok(0);
        }
        let ids = crate::query::postings_for_matchers(self.postings()?, matchers);
        let mut next = self.tombstones.clone();
        let mut n = 0;
        for id in &ids {
            let Some(s) = self.series()?.get(id as usize) else {
                continue;
            };
            let hit = s.chunks.iter().any(|c| c.max_t >= mint && c.min_t <= maxt);
            if hit && !crate::tombstones::covers(next.get(id), mint, maxt) {
                next.add(id, mint, maxt);
                n += 1;
            }
        }
        if n == 0 {
            return Ok(0);
        }
        let dir = FsDir::open_existing(&self.path)?;
        let tmp = format!("{TOMBSTONES_FILE}.tmp");
        {
            use crate::dir::Dir as _;
            let mut f = dir.create(&tmp)?;
            f.write_all(&next.encode())?;
            f.sync()?;
            dir.rename(&tmp, TOMBSTONES_FILE)?;
            dir.sync_dir()?;
        }
        self.tombstones = next;
        self.size = dir_size(&self.path)?;
        Ok(n)
    }

    /// The block's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The block's meta.json.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// First timestamp covered (inclusive).
    pub fn min_time(&self) -> i64 {
        self.meta.min_time
    }

    /// End of the covered range (exclusive).
    pub fn max_time(&self) -> i64 {
        self.meta.max_time
    }

    /// A querier over `[mint, maxt]` (inclusive, like the head's).
    pub fn querier(&self, mint: i64, maxt: i64) -> BlockQuerier<'_> {
        BlockQuerier::new(self, mint, maxt)
    }

    /// Reads and checks every chunk (checksum, XOR decoding, time range against its meta):
    /// the full scrub that opening skips.
    pub fn verify_chunks(&self) -> Result<()> {
        for s in self.series()? {
            for c in &s.chunks {
                let (enc, data) = self.chunks.chunk_encoded(c.cref)?;
                let file = self
                    .path
                    .join("chunks")
                    .join(super::chunks::segment_name((c.cref >> 32) as u32));
                let bad = |reason: String| Error::BlockCorruption {
                    file: file.clone(),
                    section: "chunk",
                    offset: c.cref & 0xffff_ffff,
                    reason,
                };
                let m = enc.validate(data).map_err(|e| bad(e.to_string()))?;
                if (m.min_t, m.max_t) != (c.min_t, c.max_t) {
                    return Err(bad("chunk time range differs from its index entry".into()));
                }
            }
        }
        Ok(())
    }

    /// Verifies every index section's checksum and every chunk ref (once; later calls
    /// return the first answer).
    pub fn verify_index(&self) -> Result<()> {
        self.index().map(|_| ())
    }

    /// The decoded index, decoding (and verifying) it on first use.
    fn index(&self) -> Result<&IndexData> {
        let got = self.index.get_or_init(|| {
            let file = self.path.join("index");
            let data = index::decode(&self.index_map, &file).map_err(Damage::from_error)?;
            for s in &data.series {
                for c in &s.chunks {
                    self.chunks.check_ref(c.cref).map_err(Damage::from_error)?;
                }
            }
            Ok(data)
        });
        match got {
            Ok(d) => Ok(d),
            Err(d) => Err(d.to_error()),
        }
    }

    pub(crate) fn series(&self) -> Result<&[IndexSeries]> {
        Ok(&self.index()?.series)
    }

    pub(crate) fn postings(&self) -> Result<&MemPostings> {
        Ok(&self.index()?.postings)
    }

    pub(crate) fn label_index(&self) -> Result<&BTreeMap<String, Vec<String>>> {
        Ok(&self.index()?.label_index)
    }

    pub(crate) fn chunk(&self, cref: u64) -> Result<(crate::chunk::Encoding, &[u8])> {
        self.chunks.chunk_encoded(cref)
    }
}

/// Total size of the regular files under `path` (one level of subdirectories).
fn dir_size(path: &Path) -> Result<u64> {
    let mut total = 0;
    let rd = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
    for ent in rd {
        let ent = ent.map_err(|e| Error::io(path, e))?;
        let md = ent.metadata().map_err(|e| Error::io(ent.path(), e))?;
        if md.is_dir() {
            total += dir_size(&ent.path())?;
        } else {
            total += md.len();
        }
    }
    Ok(total)
}

/// What was wrong with an index, kept so every later use reports the same error.
#[derive(Debug)]
struct Damage {
    file: PathBuf,
    section: &'static str,
    offset: u64,
    reason: String,
}

impl Damage {
    fn from_error(e: Error) -> Damage {
        match e {
            Error::BlockCorruption {
                file,
                section,
                offset,
                reason,
            } => Damage {
                file,
                section,
                offset,
                reason,
            },
            other => Damage {
                file: PathBuf::new(),
                section: "index",
                offset: 0,
                reason: other.to_string(),
            },
        }
    }

    fn to_error(&self) -> Error {
        Error::BlockCorruption {
            file: self.file.clone(),
            section: self.section,
            offset: self.offset,
            reason: self.reason.clone(),
        }
    }
}
