//! Reading a WAL file record by record, telling a torn tail from corruption.

use super::record::{self, DecodeError, Record, FRAME_HEADER_LEN, MAX_RECORD_LEN};
use crate::error::{CorruptionKind, Error, Result};

/// How a file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEnd {
    /// Every byte belonged to a valid record.
    Clean,
    /// The file ends in an incomplete record starting at `offset` (a crash mid-write).
    Torn {
        /// Where the incomplete record starts; everything before it is valid.
        offset: u64,
    },
}

/// Reads every record of `data` (the file `name`) and hands it to `f`.
///
/// When `tail_may_tear` is true (the newest segment), an incomplete final record is not an
/// error: the header is cut short, the length runs past the end, the checksum fails on a
/// record that ends exactly at the end of the file, or the rest of the file is zeros.
/// Any other bad record is [`Error::Corruption`] with the file name and offset.
pub fn read_records(
    name: &str,
    data: &[u8],
    tail_may_tear: bool,
    mut f: impl FnMut(Record) -> Result<()>,
) -> Result<FileEnd> {
    let mut off = 0usize;
    let corrupt = |offset: usize, reason| Error::Corruption {
        segment: name.to_string(),
        offset: offset as u64,
        reason,
    };
    while off < data.len() {
        let rest = &data[off..];
        let torn_ok = tail_may_tear;
        if rest.len() < FRAME_HEADER_LEN {
            if torn_ok {
                return Ok(FileEnd::Torn { offset: off as u64 });
            }
            return Err(corrupt(off, CorruptionKind::Length));
        }
        let all_zero = rest.iter().all(|&b| b == 0);
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let sum = u64::from_le_bytes(rest[4..12].try_into().unwrap_or([0; 8]));
        if len == 0 || len > MAX_RECORD_LEN || FRAME_HEADER_LEN + len > rest.len() {
            if torn_ok && (all_zero || FRAME_HEADER_LEN + len > rest.len()) {
                return Ok(FileEnd::Torn { offset: off as u64 });
            }
            return Err(corrupt(off, CorruptionKind::Length));
        }
        let payload = &rest[FRAME_HEADER_LEN..FRAME_HEADER_LEN + len];
        if record::checksum(payload) != sum {
            if torn_ok && (all_zero || FRAME_HEADER_LEN + len == rest.len()) {
                return Ok(FileEnd::Torn { offset: off as u64 });
            }
            return Err(corrupt(off, CorruptionKind::Checksum));
        }
        let rec = record::decode(payload).map_err(|e| {
            corrupt(
                off,
                match e {
                    DecodeError::Type => CorruptionKind::RecordType,
                    DecodeError::Payload => CorruptionKind::Payload,
                },
            )
        })?;
        f(rec)?;
        off += FRAME_HEADER_LEN + len;
    }
    Ok(FileEnd::Clean)
}
