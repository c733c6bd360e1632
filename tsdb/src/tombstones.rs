//! Tombstones: which samples a deletion hid, before compaction removes them for good.
//!
//! ```text
//! Db::delete ──► head: WAL tombstone record ──► Tombstones keyed by series ref (replayed at open)
//!           └──► blocks: Tombstones keyed by series id ──► <block>/tombstones (checksummed)
//! queries ──► Deleted<I> skips samples inside a deleted interval
//! compaction ──► writes only the samples the tombstones leave
//! ```
//!
//! A [`Tombstones`] set maps a series (a head ref or a block's series id) to sorted,
//! non-overlapping, inclusive [`Interval`]s. The file layout is in the crate's `FORMAT.md`
//! ("tombstones").

use std::collections::BTreeMap;
use std::path::Path;

use xxhash_rust::xxh3::xxh3_64;

use crate::chunk::SampleIterator;
use crate::error::{Error, Result};

/// Magic number opening a block's `tombstones` file.
pub const TOMBSTONES_MAGIC: u32 = 0x0130_BA30;
/// Name of the tombstones file inside a block directory.
pub const TOMBSTONES_FILE: &str = "tombstones";

/// A deleted time range, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    /// First deleted timestamp.
    pub mint: i64,
    /// Last deleted timestamp.
    pub maxt: i64,
}

impl Interval {
    /// Whether `t` lies in the interval.
    pub fn contains(&self, t: i64) -> bool {
        self.mint <= t && t <= self.maxt
    }
}

/// Adds `iv` to the sorted, disjoint list `list`, merging it with the intervals it
/// overlaps or touches.
pub fn add_interval(list: &mut Vec<Interval>, iv: Interval) {
    if iv.mint > iv.maxt {
        return;
    }
    let mut merged = iv;
    // The first interval that could touch `iv`: the first one not ending before iv.mint - 1.
    let start = list.partition_point(|x| x.maxt < merged.mint.saturating_sub(1));
    let mut end = start;
    while end < list.len() && list[end].mint <= merged.maxt.saturating_add(1) {
        merged.mint = merged.mint.min(list[end].mint);
        merged.maxt = merged.maxt.max(list[end].maxt);
        end += 1;
    }
    list.splice(start..end, [merged]);
}

/// Whether `t` lies in any interval of the sorted list.
pub fn is_deleted(list: &[Interval], t: i64) -> bool {
    let i = list.partition_point(|x| x.maxt < t);
    list.get(i).is_some_and(|x| x.mint <= t)
}

/// Whether one interval of `list` covers all of `[mint, maxt]`.
pub fn covers(list: &[Interval], mint: i64, maxt: i64) -> bool {
    let i = list.partition_point(|x| x.maxt < maxt);
    list.get(i).is_some_and(|x| x.mint <= mint)
}

/// Deleted intervals per series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tombstones {
    map: BTreeMap<u32, Vec<Interval>>,
}

impl Tombstones {
    /// An empty set.
    pub fn new() -> Tombstones {
        Tombstones::default()
    }

    /// Whether nothing is deleted.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Number of series with deletions.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Marks `[mint, maxt]` of series `id` deleted.
    pub fn add(&mut self, id: u32, mint: i64, maxt: i64) {
        if mint > maxt {
            return;
        }
        add_interval(self.map.entry(id).or_default(), Interval { mint, maxt });
    }

    /// The deleted intervals of series `id` (empty when none).
    pub fn get(&self, id: u32) -> &[Interval] {
        self.map.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every series with its intervals, by id.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &[Interval])> {
        self.map.iter().map(|(k, v)| (*k, v.as_slice()))
    }

    /// Keeps only the entries `keep(id, interval)` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(u32, &Interval) -> bool) {
        self.map.retain(|id, list| {
            list.retain(|iv| keep(*id, iv));
            !list.is_empty()
        });
    }

    /// Encodes the set as a `tombstones` file (see `FORMAT.md`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.map.len() * 24);
        out.extend_from_slice(&TOMBSTONES_MAGIC.to_le_bytes());
        out.extend_from_slice(&[1, 0, 0, 0]);
        out.extend_from_slice(&(self.map.len() as u32).to_le_bytes());
        for (id, list) in &self.map {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&(list.len() as u32).to_le_bytes());
            for iv in list {
                out.extend_from_slice(&iv.mint.to_le_bytes());
                out.extend_from_slice(&iv.maxt.to_le_bytes());
            }
        }
        let sum = xxh3_64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Decodes a `tombstones` file read from `file`. Damage is
    /// [`Error::BlockCorruption`] with section `tombstones` and the byte offset.
    pub fn decode(buf: &[u8], file: &Path) -> Result<Tombstones> {
        let bad = |offset: usize, reason: &str| Error::BlockCorruption {
            file: file.to_path_buf(),
            section: "tombstones",
            offset: offset as u64,
            reason: reason.to_string(),
        };
        if buf.len() < 20 {
            return Err(bad(0, "tombstones file shorter than header and checksum"));
        }
        if buf[..4] != TOMBSTONES_MAGIC.to_le_bytes() || buf[4..8] != [1, 0, 0, 0] {
            return Err(bad(0, "bad tombstones magic or version"));
        }
        let body_end = buf.len() - 8;
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&buf[body_end..]);
        if u64::from_le_bytes(sum) != xxh3_64(&buf[..body_end]) {
            return Err(bad(body_end, "checksum mismatch"));
        }
        let body = &buf[..body_end];
        let mut pos = 8usize;
        let take = |n: usize, pos: &mut usize| -> Result<&[u8]> {
            let end = pos
                .checked_add(n)
                .filter(|&e| e <= body.len())
                .ok_or_else(|| bad(*pos, "unexpected end of tombstones"))?;
            let s = &body[*pos..end];
            *pos = end;
            Ok(s)
        };
        let u32_at = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let i64_at = |b: &[u8]| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            i64::from_le_bytes(a)
        };
        let n = u32_at(take(4, &mut pos)?) as usize;
        if n.saturating_mul(8) > body.len() - pos {
            return Err(bad(8, "series count exceeds the file"));
        }
        let mut map = BTreeMap::new();
        let mut prev: Option<u32> = None;
        for _ in 0..n {
            let at = pos;
            let id = u32_at(take(4, &mut pos)?);
            if prev.is_some_and(|p| p >= id) {
                return Err(bad(at, "series ids not sorted"));
            }
            prev = Some(id);
            let k = u32_at(take(4, &mut pos)?) as usize;
            if k == 0 || k.saturating_mul(16) > body.len() - pos {
                return Err(bad(at, "bad interval count"));
            }
            let mut list: Vec<Interval> = Vec::with_capacity(k);
            for _ in 0..k {
                let iat = pos;
                let mint = i64_at(take(8, &mut pos)?);
                let maxt = i64_at(take(8, &mut pos)?);
                if mint > maxt || list.last().is_some_and(|l| l.maxt >= mint) {
                    return Err(bad(iat, "intervals out of order"));
                }
                list.push(Interval { mint, maxt });
            }
            map.insert(id, list);
        }
        if pos != body.len() {
            return Err(bad(pos, "trailing bytes in tombstones"));
        }
        Ok(Tombstones { map })
    }
}

/// Wraps a sample iterator so the samples inside `dels` (sorted, disjoint) are skipped.
#[derive(Debug, Clone)]
pub struct Deleted<'d, I> {
    it: I,
    dels: &'d [Interval],
}

impl<'d, I: SampleIterator> Deleted<'d, I> {
    /// Filters `it` through `dels`.
    pub fn new(it: I, dels: &'d [Interval]) -> Deleted<'d, I> {
        Deleted { it, dels }
    }

    /// Moves past deleted samples starting at the current one.
    fn skip_deleted(&mut self, mut ok: bool) -> bool {
        while ok {
            let t = self.it.at().0;
            // Samples only move forward, so intervals that end before t are done with.
            let i = self.dels.partition_point(|x| x.maxt < t);
            self.dels = &self.dels[i..];
            match self.dels.first() {
                Some(iv) if iv.mint <= t => ok = self.it.seek(iv.maxt.saturating_add(1)),
                _ => return true,
            }
            if self.dels.first().is_some_and(|iv| iv.maxt == i64::MAX) {
                return false;
            }
        }
        false
    }
}

impl<I: SampleIterator> SampleIterator for Deleted<'_, I> {
    fn next(&mut self) -> bool {
        let ok = self.it.next();
        self.skip_deleted(ok)
    }

    fn seek(&mut self, t: i64) -> bool {
        let ok = self.it.seek(t);
        self.skip_deleted(ok)
    }

    fn at(&self) -> (i64, f64) {
        self.it.at()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct VecIter(Vec<i64>, usize);

    impl SampleIterator for VecIter {
        fn next(&mut self) -> bool {
            self.1 += 1;
            self.1 <= self.0.len()
        }
        fn seek(&mut self, t: i64) -> bool {
            if self.1 == 0 {
                self.1 = 1;
            }
            while self.1 <= self.0.len() && self.0[self.1 - 1] < t {
                self.1 += 1;
            }
            self.1 <= self.0.len()
        }
        fn at(&self) -> (i64, f64) {
            (self.0[self.1 - 1], 0.0)
        }
    }

    fn iv(mint: i64, maxt: i64) -> Interval {
        Interval { mint, maxt }
    }

    #[test]
    fn intervals_merge() {
        let mut l = Vec::new();
        add_interval(&mut l, iv(10, 20));
        add_interval(&mut l, iv(30, 40));
        add_interval(&mut l, iv(0, 5));
        assert_eq!(l, vec![iv(0, 5), iv(10, 20), iv(30, 40)]);
        add_interval(&mut l, iv(21, 29));
        assert_eq!(l, vec![iv(0, 5), iv(10, 40)]);
        add_interval(&mut l, iv(-10, 100));
        assert_eq!(l, vec![iv(-10, 100)]);
        add_interval(&mut l, iv(5, 4));
        assert_eq!(l.len(), 1);
        assert!(is_deleted(&l, -10) && is_deleted(&l, 100) && !is_deleted(&l, 101));
        assert!(covers(&l, 0, 50) && !covers(&l, 0, 101));
    }

    #[test]
    fn filter_skips_deleted_samples() {
        let dels = vec![iv(2, 3), iv(6, 6), iv(9, i64::MAX)];
        let mut it = Deleted::new(VecIter((0..12).collect(), 0), &dels);
        let mut got = Vec::new();
        while it.next() {
            got.push(it.at().0);
        }
        assert_eq!(got, vec![0, 1, 4, 5, 7, 8]);
        let mut it = Deleted::new(VecIter((0..12).collect(), 0), &dels);
        assert!(it.seek(2));
        assert_eq!(it.at().0, 4);
        assert!(it.seek(6));
        assert_eq!(it.at().0, 7);
        assert!(!it.seek(9));
    }

    #[test]
    fn file_roundtrip_and_damage() {
        let mut t = Tombstones::new();
        t.add(3, 10, 20);
        t.add(3, 40, 50);
        t.add(1, i64::MIN, i64::MAX);
        let buf = t.encode();
        assert_eq!(Tombstones::decode(&buf, Path::new("t")).unwrap(), t);
        for i in 0..buf.len() {
            let mut b = buf.clone();
            b[i] ^= 0x10;
            assert!(matches!(
                Tombstones::decode(&b, Path::new("t")),
                Err(Error::BlockCorruption {
                    section: "tombstones",
                    ..
                })
            ));
        }
        for n in 0..buf.len() {
            assert!(Tombstones::decode(&buf[..n], Path::new("t")).is_err());
        }
    }
}
