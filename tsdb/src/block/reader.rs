//! Opening a block: meta.json and index checked and decoded, chunk segments mapped but not
//! read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::chunks::ChunkReader;
use super::index::{self, IndexData, IndexSeries};
use super::meta::BlockMeta;
use super::querier::BlockQuerier;
use crate::chunk::validate;
use crate::dir::FsDir;
use crate::error::{Error, Result};
use crate::head::MemPostings;

/// An open, immutable block.
#[derive(Debug)]
pub struct Block {
    path: PathBuf,
    meta: BlockMeta,
    index: IndexData,
    chunks: ChunkReader,
}

impl Block {
    /// Opens the block directory at `path`: parses meta.json, verifies every index
    /// section's checksum and decodes the index, and maps the chunk segments. No chunk
    /// bytes are read (chunk refs are checked against the segment sizes only); each
    /// chunk's checksum is verified when a query first loads it.
    pub fn open(path: impl AsRef<Path>) -> Result<Block> {
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
        let map = dir.map("index")?;
        let index = index::decode(&map, &path.join("index"))?;
        drop(map);
        let chunks = ChunkReader::open(&path.join("chunks"))?;
        for s in &index.series {
            for c in &s.chunks {
                chunks.check_ref(c.cref)?;
            }
        }
        Ok(Block {
            path,
            meta,
            index,
            chunks,
        })
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
        for s in &self.index.series {
            for c in &s.chunks {
                let data = self.chunks.chunk(c.cref)?;
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
                let m = validate(data).map_err(|e| bad(e.to_string()))?;
                if (m.min_t, m.max_t) != (c.min_t, c.max_t) {
                    return Err(bad("chunk time range differs from its index entry".into()));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn series(&self) -> &[IndexSeries] {
        &self.index.series
    }

    pub(crate) fn postings(&self) -> &MemPostings {
        &self.index.postings
    }

    pub(crate) fn label_index(&self) -> &BTreeMap<String, Vec<String>> {
        &self.index.label_index
    }

    pub(crate) fn chunk(&self, cref: u64) -> Result<&[u8]> {
        self.chunks.chunk(cref)
    }
}
