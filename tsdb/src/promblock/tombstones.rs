//! The `tombstones` file: deleted time ranges per series. Layout: magic `0x0130BA30`
//! (4 bytes), format version 1 (1 byte), then records `series ref <uvarint> | mint
//! <varint> | maxt <varint>`, then a CRC32-C over the records (the version byte excluded).

use std::collections::HashMap;
use std::path::Path;

use super::crc::crc32c;
use super::enc::{put_be32, Decbuf};
use super::error::{PromBlockError, Result};

/// Magic number opening a tombstones file.
pub const TOMBSTONES_MAGIC: u32 = 0x0130_BA30;
/// Tombstones format version.
pub const TOMBSTONES_VERSION: u8 = 1;

/// Deleted ranges `[mint, maxt]` (both inclusive) per series reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tombstones {
    ranges: HashMap<u64, Vec<(i64, i64)>>,
}

impl Tombstones {
    /// The deleted ranges of a series, sorted by start.
    pub fn get(&self, series_ref: u64) -> &[(i64, i64)] {
        self.ranges.get(&series_ref).map_or(&[], |v| v.as_slice())
    }

    /// Number of deleted ranges.
    pub fn len(&self) -> usize {
        self.ranges.values().map(Vec::len).sum()
    }

    /// Whether nothing is deleted.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Records a deleted range.
    pub fn add(&mut self, series_ref: u64, mint: i64, maxt: i64) {
        let v = self.ranges.entry(series_ref).or_default();
        v.push((mint, maxt));
        v.sort_unstable();
    }

    /// Encodes the file (records in series-ref order).
    pub fn encode(&self) -> Vec<u8> {
        let mut body = vec![TOMBSTONES_VERSION];
        let mut refs: Vec<_> = self.ranges.keys().copied().collect();
        refs.sort_unstable();
        for r in refs {
            for &(a, b) in &self.ranges[&r] {
                super::enc::put_uvarint(&mut body, r);
                super::enc::put_varint(&mut body, a);
                super::enc::put_varint(&mut body, b);
            }
        }
        let mut out = Vec::with_capacity(body.len() + 8);
        put_be32(&mut out, TOMBSTONES_MAGIC);
        out.extend_from_slice(&body);
        put_be32(&mut out, crc32c(&body[1..]));
        out
    }

    /// Decodes a tombstones file read from `file`.
    pub fn decode(b: &[u8], file: &Path) -> Result<Tombstones> {
        let corrupt = |offset, reason| PromBlockError::Corrupt {
            file: file.to_path_buf(),
            section: "tombstones",
            offset,
            reason,
        };
        if b.len() < 9 {
            return Err(corrupt(0, "file shorter than header and checksum"));
        }
        if u32::from_be_bytes([b[0], b[1], b[2], b[3]]) != TOMBSTONES_MAGIC {
            return Err(corrupt(0, "bad magic number"));
        }
        if b[4] != TOMBSTONES_VERSION {
            return Err(PromBlockError::UnsupportedVersion {
                file: file.to_path_buf(),
                what: "tombstones",
                version: b[4],
            });
        }
        let body = &b[5..b.len() - 4];
        let t = &b[b.len() - 4..];
        let stored = u32::from_be_bytes([t[0], t[1], t[2], t[3]]);
        let computed = crc32c(body);
        if stored != computed {
            return Err(PromBlockError::Checksum {
                file: file.to_path_buf(),
                section: "tombstones",
                offset: 5,
                stored,
                computed,
            });
        }
        let mut d = Decbuf::new(body, 5);
        let mut out = Tombstones::default();
        while d.remaining() > 0 {
            let e = |e: super::enc::DecodeError| corrupt(e.offset, e.reason);
            let r = d.uvarint().map_err(e)?;
            let a = d.varint().map_err(e)?;
            let z = d.varint().map_err(e)?;
            out.add(r, a, z);
        }
        Ok(out)
    }

    /// Reads `<block>/tombstones`; a missing file means nothing is deleted.
    pub fn read(block_dir: &Path) -> Result<Tombstones> {
        let path = block_dir.join("tombstones");
        match std::fs::read(&path) {
            Ok(b) => Tombstones::decode(&b, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Tombstones::default()),
            Err(e) => Err(PromBlockError::io(path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_matches_prometheus() {
        // What Prometheus writes for a block without deletions.
        let want = [0x01, 0x30, 0xba, 0x30, 0x01, 0, 0, 0, 0];
        assert_eq!(Tombstones::default().encode(), want);
        assert!(Tombstones::decode(&want, Path::new("t"))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn ranges_round_trip_and_damage_is_caught() {
        let mut t = Tombstones::default();
        t.add(6, -5, 10);
        t.add(6, 100, 200);
        t.add(12, 0, i64::MAX);
        let b = t.encode();
        assert_eq!(Tombstones::decode(&b, Path::new("t")).unwrap(), t);
        let mut bad = b.clone();
        bad[6] ^= 1;
        assert!(matches!(
            Tombstones::decode(&bad, Path::new("t")),
            Err(PromBlockError::Checksum { .. })
        ));
        assert!(Tombstones::decode(&b[..7], Path::new("t")).is_err());
    }
}
