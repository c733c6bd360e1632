//! Chunk segment files: where a block's chunk bytes live, and how one is found by its ref.
//!
//! See `FORMAT.md` ("Chunk segment files"). A chunk ref packs the segment number (high 32
//! bits) and the record's byte offset (low 32 bits).

use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;

use crate::dir::{DirFile, FsDir, Mapped};
use crate::error::{Error, Result};

/// Magic number opening every chunk segment.
pub const SEGMENT_MAGIC: u32 = 0x85BD_40DD;
/// Size of the segment header.
pub const SEGMENT_HEADER_LEN: usize = 8;
/// The `encoding` byte of an XOR chunk.
pub const ENCODING_XOR: u8 = 1;
/// Largest segment the writer produces before starting the next.
pub const MAX_SEGMENT_SIZE: u64 = 512 << 20;
/// Bytes a record adds around its data: length, encoding, checksum.
const RECORD_OVERHEAD: u64 = 4 + 1 + 8;

/// Name of chunk segment `n` inside `chunks/`.
pub fn segment_name(n: u32) -> String {
    format!("{n:06}")
}

/// The checksum of a record: xxh3-64 over the encoding byte and the data.
pub fn record_checksum(encoding: u8, data: &[u8]) -> u64 {
    let mut h = Xxh3::new();
    h.update(&[encoding]);
    h.update(data);
    h.digest()
}

/// Appends chunk records to numbered segment files.
#[derive(Debug)]
pub struct ChunkWriter {
    dir: FsDir,
    seq: u32,
    file: Option<Box<dyn DirFile>>,
    max_size: u64,
}

impl ChunkWriter {
    /// A writer creating segments in `dir` (normally `<block>/chunks`).
    pub fn new(dir: FsDir) -> ChunkWriter {
        ChunkWriter::with_max_size(dir, MAX_SEGMENT_SIZE)
    }

    /// As [`ChunkWriter::new`] with a different segment size limit (for tests).
    pub fn with_max_size(dir: FsDir, max_size: u64) -> ChunkWriter {
        ChunkWriter {
            dir,
            seq: 0,
            file: None,
            max_size: max_size.clamp(64, u32::MAX as u64),
        }
    }

    /// Writes one XOR chunk and returns its ref.
    pub fn write(&mut self, data: &[u8]) -> Result<u64> {
        self.write_encoded(crate::chunk::Encoding::Xor, data)
    }

    /// Writes one chunk of the given encoding and returns its ref.
    pub fn write_encoded(&mut self, enc: crate::chunk::Encoding, data: &[u8]) -> Result<u64> {
        let enc = enc as u8;
        let len =
            u32::try_from(data.len()).map_err(|_| Error::InvalidBlockWrite("chunk too large"))?;
        let need = RECORD_OVERHEAD + u64::from(len);
        let cut = match &self.file {
            None => true,
            Some(f) => f.len() > SEGMENT_HEADER_LEN as u64 && f.len() + need > self.max_size,
        };
        if cut {
            self.close_segment()?;
            self.seq += 1;
            let mut f = self.dir.create(&segment_name(self.seq))?;
            let mut hdr = [0u8; SEGMENT_HEADER_LEN];
            hdr[..4].copy_from_slice(&SEGMENT_MAGIC.to_le_bytes());
            hdr[4] = 1;
            f.write_all(&hdr)?;
            self.file = Some(f);
        }
        let Some(f) = self.file.as_mut() else {
            return Err(Error::InvalidBlockWrite("no open segment"));
        };
        let off = f.len();
        if off > u64::from(u32::MAX) {
            return Err(Error::InvalidBlockWrite("segment offset past 4 GiB"));
        }
        let mut rec = Vec::with_capacity(need as usize);
        rec.extend_from_slice(&len.to_le_bytes());
        rec.push(enc);
        rec.extend_from_slice(data);
        rec.extend_from_slice(&record_checksum(enc, data).to_le_bytes());
        f.write_all(&rec)?;
        Ok((u64::from(self.seq) << 32) | off)
    }

    fn close_segment(&mut self) -> Result<()> {
        if let Some(mut f) = self.file.take() {
            f.sync()?;
        }
        Ok(())
    }

    /// Syncs the last segment and the directory.
    pub fn finish(mut self) -> Result<()> {
        self.close_segment()?;
        self.dir.sync_dir()
    }
}

use crate::dir::Dir as _;

/// Reads chunk records out of memory-mapped segments.
#[derive(Debug)]
pub struct ChunkReader {
    dir: PathBuf,
    segments: Vec<(u32, Mapped)>,
}

impl ChunkReader {
    /// Maps every segment in `dir` (nothing is read: pages load when a chunk is used).
    pub fn open(dir: &Path) -> Result<ChunkReader> {
        let fs = FsDir::open_existing(dir)?;
        let mut segments = Vec::new();
        for name in fs.list()? {
            let Ok(n) = name.parse::<u32>() else { continue };
            if name.len() != 6 {
                continue;
            }
            segments.push((n, fs.map(&name)?));
        }
        segments.sort_by_key(|(n, _)| *n);
        Ok(ChunkReader {
            dir: dir.to_path_buf(),
            segments,
        })
    }

    /// Checks that `r` names an existing segment and an offset inside it, without touching
    /// the segment's bytes (the length comes from the file size).
    pub fn check_ref(&self, r: u64) -> Result<()> {
        let seq = (r >> 32) as u32;
        let off = r & 0xffff_ffff;
        let ok = self
            .segments
            .binary_search_by_key(&seq, |(n, _)| *n)
            .is_ok_and(|i| {
                off >= SEGMENT_HEADER_LEN as u64
                    && off + RECORD_OVERHEAD <= self.segments[i].1.len() as u64
            });
        if ok {
            return Ok(());
        }
        Err(Error::BlockCorruption {
            file: self.dir.join(segment_name(seq)),
            section: "chunk",
            offset: off,
            reason: "index names a chunk outside the segment files".to_string(),
        })
    }

    /// The bytes of the XOR chunk at `r`, after checking its segment header and checksum
    /// (another encoding is an error).
    pub fn chunk(&self, r: u64) -> Result<&[u8]> {
        match self.chunk_encoded(r)? {
            (crate::chunk::Encoding::Xor, data) => Ok(data),
            _ => Err(Error::BlockCorruption {
                file: self.dir.join(segment_name((r >> 32) as u32)),
                section: "chunk",
                offset: (r & 0xffff_ffff) + 4,
                reason: "not an XOR chunk".to_string(),
            }),
        }
    }

    /// The encoding and bytes of the chunk at `r` (XOR or a native-histogram encoding),
    /// after checking its segment header and checksum.
    pub fn chunk_encoded(&self, r: u64) -> Result<(crate::chunk::Encoding, &[u8])> {
        let seq = (r >> 32) as u32;
        let off = (r & 0xffff_ffff) as usize;
        let file = self.dir.join(segment_name(seq));
        let bad = |section: &'static str, offset: usize, reason: &str| Error::BlockCorruption {
            file: file.clone(),
            section,
            offset: offset as u64,
            reason: reason.to_string(),
        };
        let Ok(i) = self.segments.binary_search_by_key(&seq, |(n, _)| *n) else {
            return Err(bad("chunk", off, "chunk ref names a missing segment"));
        };
        let buf: &[u8] = &self.segments[i].1;
        if buf.len() < SEGMENT_HEADER_LEN
            || buf[..4] != SEGMENT_MAGIC.to_le_bytes()
            || buf[4..8] != [1, 0, 0, 0]
        {
            return Err(bad("header", 0, "bad segment magic or version"));
        }
        if off < SEGMENT_HEADER_LEN || off + 5 > buf.len() {
            return Err(bad("chunk", off, "chunk ref outside the segment"));
        }
        let len = u32::from_le_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]]) as usize;
        let enc = buf[off + 4];
        let start = off + 5;
        let end = start
            .checked_add(len)
            .filter(|&e| e + 8 <= buf.len())
            .ok_or_else(|| bad("chunk", off, "chunk length past end of segment"))?;
        let data = &buf[start..end];
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&buf[end..end + 8]);
        if u64::from_le_bytes(sum) != record_checksum(enc, data) {
            return Err(bad("chunk", off, "checksum mismatch"));
        }
        match crate::chunk::Encoding::from_u8(enc) {
            Some(e) => Ok((e, data)),
            None => Err(bad("chunk", off + 4, "unknown chunk encoding")),
        }
    }
}
