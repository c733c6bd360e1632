//! Chunk segment files (`chunks/000001`, ...): an 8-byte header (magic, version, padding)
//! and chunk records `len <uvarint> | encoding <1b> | data | CRC32-C(encoding, data)`.
//! A chunk reference is `segment index << 32 | offset in the segment`, the first
//! segment (`000001`) having index 0.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::crc::{crc32c, update};
use super::enc::{put_uvarint, Decbuf};
use super::error::{PromBlockError, Result};
use crate::dir::{FsDir, Mapped};

/// Magic number opening a chunk segment.
pub const CHUNKS_MAGIC: u32 = 0x85BD_40DD;
/// Chunk segment format version.
pub const CHUNKS_VERSION: u8 = 1;
/// Bytes before the first chunk record.
pub const SEGMENT_HEADER_LEN: usize = 8;
/// Segment size at which the writer starts a new file (Prometheus's default, 512 MiB).
pub const DEFAULT_SEGMENT_SIZE: u64 = 512 << 20;
/// The XOR float chunk encoding byte.
pub const ENCODING_XOR: u8 = 1;

/// The file name of segment `index` (0-based): `000001` for 0.
pub fn segment_name(index: u32) -> String {
    format!("{:06}", u64::from(index) + 1)
}

/// Writes chunk records into numbered segment files.
#[derive(Debug)]
pub(crate) struct SegmentWriter {
    dir: PathBuf,
    max_size: u64,
    index: u32,
    file: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>,
    size: u64,
}

impl SegmentWriter {
    pub fn new(dir: &Path, max_size: u64) -> Result<SegmentWriter> {
        std::fs::create_dir_all(dir).map_err(|e| PromBlockError::io(dir, e))?;
        Ok(SegmentWriter {
            dir: dir.to_path_buf(),
            max_size: max_size.max(SEGMENT_HEADER_LEN as u64 + 64),
            index: 0,
            file: None,
            size: 0,
        })
    }

    fn cut(&mut self) -> Result<()> {
        if self.file.is_some() {
            self.close_current()?;
            self.index = self
                .index
                .checked_add(1)
                .ok_or(PromBlockError::InvalidWrite("too many chunk segments"))?;
        }
        let path = self.dir.join(segment_name(self.index));
        let f = std::fs::File::create(&path).map_err(|e| PromBlockError::io(&path, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
        let mut hdr = CHUNKS_MAGIC.to_be_bytes().to_vec();
        hdr.extend_from_slice(&[CHUNKS_VERSION, 0, 0, 0]);
        w.write_all(&hdr)
            .map_err(|e| PromBlockError::io(&path, e))?;
        self.size = SEGMENT_HEADER_LEN as u64;
        self.file = Some((path, w));
        Ok(())
    }

    fn close_current(&mut self) -> Result<()> {
        if let Some((path, w)) = self.file.take() {
            let f = w
                .into_inner()
                .map_err(|e| PromBlockError::io(&path, e.into_error()))?;
            f.sync_all().map_err(|e| PromBlockError::io(&path, e))?;
        }
        Ok(())
    }

    /// Appends an XOR chunk, returning its reference.
    pub fn write(&mut self, data: &[u8]) -> Result<u64> {
        self.write_encoded(ENCODING_XOR, data)
    }

    /// Appends a chunk of encoding `enc` (1 XOR, 2 histogram, 3 float histogram),
    /// returning its reference.
    pub fn write_encoded(&mut self, enc: u8, data: &[u8]) -> Result<u64> {
        let mut head = Vec::with_capacity(11);
        put_uvarint(&mut head, data.len() as u64);
        head.push(enc);
        let rec_len = (head.len() + data.len() + 4) as u64;
        if self.file.is_none() || self.size + rec_len > self.max_size {
            self.cut()?;
        }
        if self.size + rec_len > u64::from(u32::MAX) {
            return Err(PromBlockError::InvalidWrite("chunk does not fit a segment"));
        }
        let r = (u64::from(self.index) << 32) | self.size;
        let crc = update(crc32c(&[enc]), data);
        let Some((path, w)) = self.file.as_mut() else {
            return Err(PromBlockError::InvalidWrite("no open chunk segment"));
        };
        let io = |e| PromBlockError::io(path.clone(), e);
        w.write_all(&head).map_err(io)?;
        w.write_all(data).map_err(io)?;
        w.write_all(&crc.to_be_bytes()).map_err(io)?;
        self.size += rec_len;
        Ok(r)
    }

    /// Flushes and syncs the last segment (creating one if nothing was written).
    pub fn finish(mut self) -> Result<()> {
        if self.file.is_none() {
            self.cut()?;
        }
        self.close_current()
    }
}

/// The chunk segments of a block, memory-mapped.
#[derive(Debug)]
pub struct SegmentReader {
    dir: PathBuf,
    segments: Vec<Mapped>,
}

impl SegmentReader {
    /// Maps every segment in `dir` (named `000001`, `000002`, ... without gaps) and checks
    /// each header.
    pub fn open(dir: &Path) -> Result<SegmentReader> {
        let mut names: Vec<(u64, String)> = Vec::new();
        let rd = std::fs::read_dir(dir).map_err(|e| PromBlockError::io(dir, e))?;
        for ent in rd {
            let ent = ent.map_err(|e| PromBlockError::io(dir, e))?;
            let name = ent.file_name().to_string_lossy().into_owned();
            if let Ok(n) = name.parse::<u64>() {
                names.push((n, name));
            }
        }
        names.sort();
        let fs = FsDir::open_existing(dir)?;
        let mut segments = Vec::with_capacity(names.len());
        for (i, (n, name)) in names.iter().enumerate() {
            let path = dir.join(name);
            if *n != i as u64 + 1 {
                return Err(PromBlockError::Corrupt {
                    file: path,
                    section: "header",
                    offset: 0,
                    reason: "chunk segments are not numbered 1, 2, 3, ...",
                });
            }
            let map = fs.map(name)?;
            let corrupt = |reason| PromBlockError::Corrupt {
                file: path.clone(),
                section: "header",
                offset: 0,
                reason,
            };
            if map.len() < SEGMENT_HEADER_LEN {
                return Err(corrupt("segment shorter than its header"));
            }
            if u32::from_be_bytes([map[0], map[1], map[2], map[3]]) != CHUNKS_MAGIC {
                return Err(corrupt("bad magic number"));
            }
            if map[4] != CHUNKS_VERSION {
                return Err(PromBlockError::UnsupportedVersion {
                    file: path,
                    what: "chunks",
                    version: map[4],
                });
            }
            segments.push(map);
        }
        Ok(SegmentReader {
            dir: dir.to_path_buf(),
            segments,
        })
    }

    /// Path of segment `index`, for error messages.
    pub fn segment_path(&self, index: u32) -> PathBuf {
        self.dir.join(segment_name(index))
    }

    /// Total bytes of all segments.
    pub fn size(&self) -> u64 {
        self.segments.iter().map(|m| m.len() as u64).sum()
    }

    /// The encoding byte and data of the chunk at `chunk_ref`, CRC verified.
    pub fn chunk(&self, chunk_ref: u64) -> Result<(u8, &[u8])> {
        let seg = (chunk_ref >> 32) as u32;
        let off = chunk_ref & 0xffff_ffff;
        let corrupt = |offset, reason| PromBlockError::Corrupt {
            file: self.segment_path(seg),
            section: "chunk",
            offset,
            reason,
        };
        let Some(b) = self.segments.get(seg as usize) else {
            return Err(corrupt(off, "chunk reference names a missing segment"));
        };
        if off < SEGMENT_HEADER_LEN as u64 || off >= b.len() as u64 {
            return Err(corrupt(off, "chunk reference outside the segment"));
        }
        let mut d = Decbuf::new(&b[off as usize..], off);
        let e = |e: super::enc::DecodeError| corrupt(e.offset, e.reason);
        let len = d.uvarint().map_err(e)?;
        let len = usize::try_from(len).map_err(|_| corrupt(off, "chunk length too large"))?;
        let enc_and_data = d
            .bytes(
                len.checked_add(1)
                    .ok_or(corrupt(off, "chunk length too large"))?,
            )
            .map_err(|_| corrupt(off, "chunk runs past the end of the segment"))?;
        let stored = d
            .be32()
            .map_err(|_| corrupt(off, "chunk checksum past the end of the segment"))?;
        let computed = crc32c(enc_and_data);
        if stored != computed {
            return Err(PromBlockError::Checksum {
                file: self.segment_path(seg),
                section: "chunk",
                offset: off,
                stored,
                computed,
            });
        }
        Ok((enc_and_data[0], &enc_and_data[1..]))
    }
}
