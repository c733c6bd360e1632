//! Unit tests of the index and chunk layouts against hand-checked bytes and damage.

use std::path::Path;

use exposition::Labels;

use super::chunks::{SegmentReader, SegmentWriter};
use super::index_read::IndexReader;
use super::index_write::{encode, IndexEntry};
use super::*;

fn entry(pairs: &[(&str, &str)], chunks: &[(i64, i64, u64)]) -> IndexEntry {
    IndexEntry {
        labels: Labels::from_pairs(pairs),
        chunks: chunks
            .iter()
            .map(|&(min_t, max_t, chunk_ref)| ChunkMeta {
                min_t,
                max_t,
                chunk_ref,
            })
            .collect(),
    }
}

fn sample_index() -> Vec<IndexEntry> {
    vec![
        entry(
            &[("__name__", "a"), ("job", "x")],
            &[(-5, 10, 8), (11, 400, 30), (500, 500, (1 << 32) | 8)],
        ),
        entry(&[("__name__", "a"), ("job", "y")], &[(0, 0, 60)]),
        entry(&[("__name__", "b")], &[(7, 9, 90)]),
    ]
}

#[test]
fn index_round_trips() {
    let series = sample_index();
    let bytes = encode(&series).unwrap();
    let idx = IndexReader::decode(&bytes, Path::new("index")).unwrap();
    assert_eq!(idx.series.len(), 3);
    for (got, want) in idx.series.iter().zip(&series) {
        assert_eq!(got.labels, want.labels);
        assert_eq!(got.chunks, want.chunks);
        assert_eq!(u64::from(got.series_ref) * 16 % 16, 0);
    }
    let refs: Vec<u32> = idx.series.iter().map(|s| s.series_ref).collect();
    assert_eq!(idx.postings["__name__"]["a"], refs[..2]);
    assert_eq!(idx.postings["job"]["y"], [refs[1]]);
    assert_eq!(idx.postings.keys().collect::<Vec<_>>(), ["__name__", "job"]);
}

#[test]
fn index_layout_matches_the_spec() {
    let bytes = encode(&sample_index()).unwrap();
    assert_eq!(&bytes[..5], &[0xba, 0xaa, 0xd7, 0x00, 2]);
    // Symbols at offset 5: length, count, then "" first.
    let count = u32::from_be_bytes(bytes[9..13].try_into().unwrap());
    assert_eq!(count, 7); // "", __name__, a, b, job, x, y
    assert_eq!(bytes[13], 0, "the empty string is symbol 0");
    // TOC: the symbols offset is 5, and its CRC covers the 48 offset bytes.
    let toc = &bytes[bytes.len() - 52..];
    assert_eq!(u64::from_be_bytes(toc[..8].try_into().unwrap()), 5);
    let crc = u32::from_be_bytes(toc[48..].try_into().unwrap());
    assert_eq!(crc, crc::crc32c(&toc[..48]));
}

#[test]
fn unsorted_or_overlapping_input_is_refused() {
    let mut s = sample_index();
    s.swap(0, 2);
    assert!(matches!(encode(&s), Err(PromBlockError::InvalidWrite(_))));
    let s = vec![entry(&[("a", "b")], &[(0, 10, 8), (10, 20, 20)])];
    assert!(matches!(encode(&s), Err(PromBlockError::InvalidWrite(_))));
}

#[test]
fn every_flipped_byte_is_an_error_never_a_panic() {
    let bytes = encode(&sample_index()).unwrap();
    let good = IndexReader::decode(&bytes, Path::new("index")).unwrap();
    let mut padding = 0;
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            // Either the damage is reported, or it hit padding that no reader looks at
            // and the decoded index is unchanged.
            if let Ok(idx) = IndexReader::decode(&b, Path::new("index")) {
                assert_eq!(idx.series, good.series, "flip at {i} changed the series");
                assert_eq!(idx.postings, good.postings, "flip at {i} changed postings");
                padding += 1;
            }
        }
    }
    assert!(padding <= 2 * 40, "{padding} unchecked flips");
    for n in 0..bytes.len() {
        assert!(IndexReader::decode(&bytes[..n], Path::new("index")).is_err());
    }
}

#[test]
fn checksum_errors_name_section_and_offset() {
    let bytes = encode(&sample_index()).unwrap();
    let mut b = bytes.clone();
    b[14] ^= 0x40; // inside the first symbol string
    match IndexReader::decode(&b, Path::new("index")) {
        Err(PromBlockError::Checksum {
            section, offset, ..
        }) => assert_eq!((section, offset), ("symbols", 5)),
        other => panic!("{other:?}"),
    }
    let mut b = bytes.clone();
    b[4] = 1;
    assert!(matches!(
        IndexReader::decode(&b, Path::new("index")),
        Err(PromBlockError::UnsupportedVersion { version: 1, .. })
    ));
}

#[test]
fn chunk_segments_cut_and_check() {
    let dir = std::env::temp_dir().join(format!("promblock-seg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut w = SegmentWriter::new(&dir, 100).unwrap();
    let mut refs = Vec::new();
    for i in 0..10u8 {
        refs.push(w.write(&[i; 30]).unwrap());
    }
    w.finish().unwrap();
    assert_eq!(refs[0], 8);
    assert!(
        refs.iter().any(|r| r >> 32 > 0),
        "cut into several segments"
    );
    let r = SegmentReader::open(&dir).unwrap();
    for (i, cr) in refs.iter().enumerate() {
        let (enc, data) = r.chunk(*cr).unwrap();
        assert_eq!(enc, chunks::ENCODING_XOR);
        assert_eq!(data, vec![i as u8; 30].as_slice());
    }
    assert!(r.chunk(3).is_err());
    assert!(r.chunk(99 << 32).is_err());
    // Damage one data byte of the first chunk.
    let p = dir.join("000001");
    let mut b = std::fs::read(&p).unwrap();
    b[12] ^= 1;
    std::fs::write(&p, &b).unwrap();
    let r = SegmentReader::open(&dir).unwrap();
    assert!(matches!(
        r.chunk(refs[0]),
        Err(PromBlockError::Checksum { offset: 8, .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

mod garbage {
    use super::*;
    use proptest::prelude::*;

    /// Overwrites `content[i] = v` inside the `len | content | crc` series record at
    /// `off` and recomputes its CRC, so the decoder (not the checksum) meets the damage.
    fn corrupt_series(bytes: &mut [u8], off: usize, i: usize, v: u8) {
        let mut d = super::super::enc::Decbuf::new(&bytes[off..], 0);
        let len = d.uvarint().unwrap() as usize;
        let start = off + d.offset() as usize;
        bytes[start + i % len] = v;
        let crc = crc::crc32c(&bytes[start..start + len]);
        bytes[start + len..start + len + 4].copy_from_slice(&crc.to_be_bytes());
    }

    /// Same for a `len <4b> | content | crc` section at `off`.
    fn corrupt_section(bytes: &mut [u8], off: usize, i: usize, v: u8) {
        let len = u32::from_be_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
        let start = off + 4;
        bytes[start + i % len] = v;
        let crc = crc::crc32c(&bytes[start..start + len]);
        bytes[start + len..start + len + 4].copy_from_slice(&crc.to_be_bytes());
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = IndexReader::decode(&b, Path::new("index"));
            let _ = Tombstones::decode(&b, Path::new("tombstones"));
            let mut v = INDEX_MAGIC.to_be_bytes().to_vec();
            v.push(INDEX_VERSION_2);
            v.extend_from_slice(&b);
            let _ = IndexReader::decode(&v, Path::new("index"));
        }

        #[test]
        fn damage_behind_a_valid_crc_never_panics(
            which in 0usize..6, i in any::<usize>(), v in any::<u8>()
        ) {
            let mut bytes = encode(&sample_index()).unwrap();
            let good = IndexReader::decode(&bytes, Path::new("index")).unwrap();
            let toc = bytes.len() - 52;
            let off = |k: usize| u64::from_be_bytes(bytes[toc + 8 * k..toc + 8 * k + 8].try_into().unwrap()) as usize;
            match which {
                0..=2 => {
                    let r = good.series[which].series_ref as usize * 16;
                    corrupt_series(&mut bytes, r, i, v);
                }
                3 => { let o = off(0); corrupt_section(&mut bytes, o, i, v) }
                4 => { let o = off(3); corrupt_section(&mut bytes, o, i, v) }
                _ => { let o = off(5); corrupt_section(&mut bytes, o, i, v) }
            }
            // An error or some index, never a panic.
            let _ = IndexReader::decode(&bytes, Path::new("index"));
        }
    }
}
