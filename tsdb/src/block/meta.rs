//! `meta.json`: what a block is (id, time range, stats, lineage), and block ids.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Version of the block format this crate writes and reads.
pub const BLOCK_VERSION: u32 = 1;

/// Counts describing a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    /// Samples in the block.
    pub num_samples: u64,
    /// Series in the block.
    pub num_series: u64,
    /// Chunks in the block.
    pub num_chunks: u64,
}

/// A block a compaction merged, as recorded in its child's meta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockParent {
    /// The parent's id.
    pub ulid: String,
    /// The parent's first timestamp (inclusive).
    pub min_time: i64,
    /// The parent's end (exclusive).
    pub max_time: i64,
}

/// Where a block came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compaction {
    /// 1 for a block cut from the head; one more than the highest parent for a merge.
    pub level: u32,
    /// Ids of the level-1 blocks whose data this block holds.
    pub sources: Vec<String>,
    /// The blocks merged into this one (empty for a head block).
    #[serde(default)]
    pub parents: Vec<BlockParent>,
}

/// The contents of a block's `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    /// The block id (also the directory name).
    pub ulid: String,
    /// First timestamp the block covers (inclusive).
    pub min_time: i64,
    /// End of the range the block covers (exclusive).
    pub max_time: i64,
    /// Counts.
    pub stats: BlockStats,
    /// Lineage.
    pub compaction: Compaction,
    /// Format version ([`BLOCK_VERSION`]).
    pub version: u32,
}

impl BlockMeta {
    /// Parses and checks a meta.json read from `path`.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<BlockMeta> {
        let bad = |offset: u64, reason: String| Error::BlockCorruption {
            file: path.to_path_buf(),
            section: "meta",
            offset,
            reason,
        };
        let meta: BlockMeta = serde_json::from_slice(bytes).map_err(|e| {
            // serde_json reports line/column; turn them into a byte offset.
            let offset = line_col_offset(bytes, e.line(), e.column());
            bad(offset, e.to_string())
        })?;
        if meta.version != BLOCK_VERSION {
            return Err(bad(0, format!("unsupported version {}", meta.version)));
        }
        if meta.min_time >= meta.max_time {
            return Err(bad(0, "minTime is not before maxTime".into()));
        }
        if !is_block_id(&meta.ulid) {
            return Err(bad(0, format!("malformed block id {:?}", meta.ulid)));
        }
        Ok(meta)
    }
}

fn line_col_offset(bytes: &[u8], line: usize, col: usize) -> u64 {
    let mut off = 0usize;
    for (i, l) in bytes.split(|&b| b == b'\n').enumerate() {
        if i + 1 == line {
            return (off + col.saturating_sub(1)).min(bytes.len()) as u64;
        }
        off += l.len() + 1;
    }
    bytes.len() as u64
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID-shaped block id: the high 48 bits are `now_ms`, the low 80 come from `entropy`.
pub fn block_id(now_ms: i64, entropy: u128) -> String {
    let ts = (now_ms.max(0) as u128) & ((1u128 << 48) - 1);
    let v = (ts << 80) | (entropy & ((1u128 << 80) - 1));
    // 26 characters × 5 bits = 130 bits; the first character carries the top 3 bits.
    (0..26)
        .map(|i| CROCKFORD[((v >> (125 - 5 * i)) & 31) as usize] as char)
        .collect()
}

/// Whether `s` looks like a block id (26 Crockford base32 characters, first one `0`-`7`).
pub fn is_block_id(s: &str) -> bool {
    s.len() == 26
        && s.bytes().all(|b| CROCKFORD.contains(&b))
        && matches!(s.as_bytes()[0], b'0'..=b'7')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_are_valid() {
        let a = block_id(1_700_000_000_000, 7);
        let b = block_id(1_700_000_000_001, 0);
        assert_eq!(a.len(), 26);
        assert!(is_block_id(&a) && is_block_id(&b));
        assert!(a < b);
        assert_ne!(block_id(5, 1), block_id(5, 2));
        assert!(!is_block_id("01ARZ3NDEKTSV4RRFFQ69G5FAI"));
    }

    #[test]
    fn meta_errors_are_typed() {
        let p = Path::new("b/meta.json");
        let e = BlockMeta::parse(b"{\n  \"ulid\": 3", p).unwrap_err();
        assert!(
            matches!(
                e,
                Error::BlockCorruption {
                    section: "meta",
                    ..
                }
            ),
            "{e}"
        );
        let m = BlockMeta {
            ulid: block_id(1, 1),
            min_time: 10,
            max_time: 10,
            stats: BlockStats::default(),
            compaction: Compaction {
                level: 1,
                sources: vec![],
                parents: vec![],
            },
            version: 1,
        };
        let j = serde_json::to_vec(&m).unwrap();
        assert!(BlockMeta::parse(&j, p).is_err());
        let ok = BlockMeta { max_time: 11, ..m };
        let j = serde_json::to_vec(&ok).unwrap();
        assert_eq!(BlockMeta::parse(&j, p).unwrap(), ok);
    }
}
