//! Prometheus's own on-disk block format: export our data as blocks that Prometheus and
//! `promtool` open, and import blocks Prometheus wrote.
//!
//! ```text
//! series (labels + samples,  ──► PromBlockWriter ──► <root>/<ulid>/{chunks/000001, index,
//!  floats and histograms)
//!                                                      tombstones, meta.json}
//! <root>/<ulid>/ ──► PromBlock::open ──► select(matchers, mint, maxt) ──► PromSeriesIter
//!                                    └─► convert_to_native ──► BlockWriter (our format)
//! ```
//!
//! The layouts follow Prometheus's `tsdb/docs/format/{index,chunks,tombstones}.md`:
//! every index section is `len <4b> | content | CRC32-C <4b>`; series sit 16-byte
//! aligned and are referenced by `offset / 16`; symbols are referenced by their position
//! in the sorted symbol table (index v2); chunk references are `segment << 32 | offset`.
//! Our XOR chunk encoding ([`crate::chunk::xor`]) is bit-for-bit Prometheus's (2-byte
//! sample count, then the Gorilla bit stream), so float chunks are read with
//! [`crate::chunk::XorIter`] and written with [`crate::chunk::XorAppender`]. Our native
//! histogram chunks carry the same information as Prometheus's but in another bit layout,
//! so histograms are re-encoded through [`histogram_chunk`] (encodings 2 and 3) on export
//! and decoded from it on import ([`PromSeries::mixed_iter`],
//! [`PromBlockWriter::add_series_mixed`]). Any other encoding is a
//! [`PromBlockError::UnsupportedEncoding`] error.
//!
//! | module | the question it answers |
//! |---|---|
//! | [`writer`] | how do our series become a Prometheus block? |
//! | [`reader`] | how is a Prometheus block read, queried and converted? |
//! | [`chunks`] | how are chunk segment files laid out? |
//! | [`histogram_chunk`] | how does Prometheus encode a chunk of native histograms? |
//! | [`index_read`] | how is a Prometheus index decoded and checked? |
//! | [`tombstones`] | which ranges did Prometheus delete? |
//! | [`crc`] | which checksum guards each section? |
//! | [`error`] | what went wrong, in which file, section and offset? |
//!
//! ```
//! use exposition::{Labels, Matcher};
//! use tsdb::promblock::{PromBlock, PromBlockWriter, VecSamples};
//!
//! let root = std::env::temp_dir().join(format!("promblock-doc-{}", std::process::id()));
//! let mut w = PromBlockWriter::create(&root, 0, 7_200_000).unwrap();
//! let up = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
//! w.add_series(&up, &mut VecSamples::new(vec![(1_000, 1.0), (16_000, 0.0)])).unwrap();
//! let meta = w.finish(1_700_000_000_000).unwrap().expect("one series");
//!
//! let block = PromBlock::open(root.join(&meta.ulid)).unwrap();
//! let found = block.select(&[Matcher::equal("job", "node")], 0, 20_000);
//! assert_eq!(found[0].samples().unwrap(), vec![(1_000, 1.0), (16_000, 0.0)]);
//! # std::fs::remove_dir_all(&root).unwrap();
//! ```

pub mod chunks;
pub mod crc;
mod enc;
pub mod error;
pub mod histogram_chunk;
pub mod index_read;
mod index_write;
pub mod reader;
pub mod tombstones;
pub mod writer;

pub use error::{PromBlockError, Result};
pub use index_read::IndexSeries;
pub use reader::{ConvertReport, PromBlock, PromMixedIter, PromSeries, PromSeriesIter};
pub use tombstones::Tombstones;
pub use writer::{export_block, export_db, export_native_block, PromBlockWriter, VecSamples};

/// Magic number opening a Prometheus index file.
pub const INDEX_MAGIC: u32 = 0xBAAA_D700;
/// The index format version written and read (v2, symbols referenced by position).
pub const INDEX_VERSION_2: u8 = 2;

/// Where a chunk lives and which samples it covers, as a Prometheus index records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    /// First timestamp in the chunk.
    pub min_t: i64,
    /// Last timestamp in the chunk (inclusive).
    pub max_t: i64,
    /// `segment index << 32 | byte offset` of the chunk record.
    pub chunk_ref: u64,
}

#[cfg(test)]
mod tests;
