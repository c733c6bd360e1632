//! Blocks: immutable, persistent directories holding every sample of a time range, written
//! once from the head (or any sorted series set) and read back through memory maps.
//!
//! ```text
//! Head ──write_head_block──► BlockWriter ──► <root>/<id>.tmp/{chunks/000001, index, meta.json}
//!                                              └─ fsync, rename ──► <root>/<id>/
//! Block::open ──► meta.json + index (checksums verified, decoded) + chunk segments (mmapped)
//! BlockQuerier::select ──► postings ──► series ──► chunks (checksum checked on load) ──► iter
//! ```
//!
//! The byte layout is in the crate's `FORMAT.md`. Every index section and every chunk
//! record carries an xxh3 checksum; damage is [`Error::BlockCorruption`](crate::Error)
//! naming the file, the section and the byte offset.

pub mod chunks;
pub mod index;
pub mod meta;
mod querier;
mod reader;
mod writer;

pub use meta::{block_id, BlockMeta, BlockParent, BlockStats, Compaction};
pub use querier::{BlockQuerier, BlockSampleIter, BlockSeries, BlockSeriesIter, BlockSeriesSet};
pub use reader::Block;
pub use writer::{write_head_block, BlockWriter, WriteStep, BLOCK_SAMPLES_PER_CHUNK};
