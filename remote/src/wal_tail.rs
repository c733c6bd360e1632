//! Feeding the queue from our tsdb's write-ahead log, from a resumable position.
//!
//! ```text
//! checkpoint.N + segments < start ──series only──► ref → labels map
//! segment S @ offset O ──record by record──► Series: learn labels
//!                                         ├─► Samples: WriteQueue::push + mark(position)
//!                                         └─► (Float)HistogramSamples: pushed the same way
//! ```
//!
//! A [`WalPosition`] is a segment number and a byte offset just past a whole record.
//! [`WalTailer::poll`] reads from it to the end of the newest segment (or until the queue
//! is full), marking the queue after each record; the queue's
//! [`committed_position`](crate::WriteQueue::committed_position) is where to resume after
//! a restart, so nothing acknowledged is sent twice and nothing unacknowledged is lost.
//!
//! Like Prometheus's WAL watcher, when the position has been checkpointed away (the WAL
//! was truncated behind a slow sender), the tailer loads series from the checkpoint and
//! resumes at the first segment after it; the samples in between are skipped and
//! reported. Each new checkpoint also reloads the series map, forgetting series the tsdb
//! garbage-collected.

use std::collections::HashMap;

use exposition::Labels;
use tsdb::head::HistogramValue;
use tsdb::wal::record::{self, Record, FRAME_HEADER_LEN, MAX_RECORD_LEN};
use tsdb::wal::{checkpoint_name, read_records, segment_name};
use tsdb::{CorruptionKind, Dir};

use crate::error::RemoteError;
use crate::queue::WriteQueue;

/// A place in the WAL: just past a whole record of `segment` (offset 0: its start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WalPosition {
    /// Segment number (the file is named by it, 8 decimal digits).
    pub segment: u64,
    /// Byte offset in the segment.
    pub offset: u64,
}

/// What one [`WalTailer::poll`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TailReport {
    /// Records read.
    pub records: usize,
    /// Float samples pushed into the queue.
    pub samples: usize,
    /// Native histogram samples (integer and float) pushed into the queue.
    pub histograms: usize,
    /// Samples whose series ref had no series record (skipped).
    pub unknown_series: usize,
    /// When the start position had been checkpointed away: where reading resumed.
    pub skipped_to: Option<WalPosition>,
    /// Stopped because the queue was full (poll again after it drains).
    pub queue_full: bool,
}

/// Reads samples out of a tsdb WAL directory into a [`WriteQueue`].
#[derive(Debug, Clone)]
pub struct WalTailer {
    pos: WalPosition,
    series: HashMap<u64, Labels>,
    loaded: bool,
    checkpoint_seen: Option<u64>,
}

enum Frame {
    Record(Record, usize),
    Incomplete,
    Corrupt(CorruptionKind),
}

fn parse_segment(name: &str) -> Option<u64> {
    (name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()))
        .then(|| name.parse().ok())
        .flatten()
}

fn parse_checkpoint(name: &str) -> Option<u64> {
    parse_segment(name.strip_prefix("checkpoint.")?)
}

/// The record at the start of `rest`, or why there is none.
fn frame_at(rest: &[u8]) -> Frame {
    if rest.len() < FRAME_HEADER_LEN {
        return Frame::Incomplete;
    }
    let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&rest[4..12]);
    let sum = u64::from_le_bytes(sum);
    if len == 0 && rest.iter().all(|&b| b == 0) {
        return Frame::Incomplete;
    }
    if len == 0 || len > MAX_RECORD_LEN {
        return Frame::Corrupt(CorruptionKind::Length);
    }
    if FRAME_HEADER_LEN + len > rest.len() {
        return Frame::Incomplete;
    }
    let payload = &rest[FRAME_HEADER_LEN..FRAME_HEADER_LEN + len];
    if record::checksum(payload) != sum {
        if FRAME_HEADER_LEN + len == rest.len() {
            // Possibly a write still landing at the end of the newest segment.
            return Frame::Incomplete;
        }
        return Frame::Corrupt(CorruptionKind::Checksum);
    }
    match record::decode(payload) {
        Ok(r) => Frame::Record(r, FRAME_HEADER_LEN + len),
        Err(record::DecodeError::Type) => Frame::Corrupt(CorruptionKind::RecordType),
        Err(_) => Frame::Corrupt(CorruptionKind::Payload),
    }
}

impl WalTailer {
    /// A tailer that starts at `pos` (e.g. a persisted
    /// [`committed_position`](crate::WriteQueue::committed_position), or the default
    /// position to read the whole log).
    pub fn new(pos: WalPosition) -> WalTailer {
        WalTailer {
            pos,
            series: HashMap::new(),
            loaded: false,
            checkpoint_seen: None,
        }
    }

    /// A tailer positioned at the current end of the WAL: only samples committed from now
    /// on are sent.
    pub fn at_end(dir: &dyn Dir) -> Result<WalTailer, RemoteError> {
        let names = dir.list().map_err(RemoteError::Wal)?;
        let pos = match names.iter().filter_map(|n| parse_segment(n)).max() {
            Some(s) => WalPosition {
                segment: s,
                offset: dir.read(&segment_name(s)).map_err(RemoteError::Wal)?.len() as u64,
            },
            None => WalPosition {
                segment: names
                    .iter()
                    .filter_map(|n| parse_checkpoint(n))
                    .max()
                    .map_or(0, |c| c + 1),
                offset: 0,
            },
        };
        Ok(WalTailer::new(pos))
    }

    /// Where the next poll starts.
    pub fn position(&self) -> WalPosition {
        self.pos
    }

    /// Series known (ref → labels).
    pub fn num_series(&self) -> usize {
        self.series.len()
    }

    fn learn(&mut self, rec: &Record) {
        if let Record::Series(s) = rec {
            for (r, l) in s {
                self.series.insert(*r, l.clone());
            }
        }
    }

    /// Loads series from the newest checkpoint and every segment before the position
    /// (forgetting series known before, so series the tsdb dropped are forgotten too).
    fn load(
        &mut self,
        dir: &dyn Dir,
        checkpoint: Option<u64>,
        segments: &[u64],
    ) -> Result<(), RemoteError> {
        self.series.clear();
        self.checkpoint_seen = checkpoint;
        if let Some(c) = checkpoint {
            let name = checkpoint_name(c);
            let data = dir.read(&name).map_err(RemoteError::Wal)?;
            read_records(&name, &data, false, |r| {
                self.learn(&r);
                Ok(())
            })
            .map_err(RemoteError::Wal)?;
        }
        let upto = self.pos.segment;
        for &s in segments.iter().filter(|&&s| s <= upto) {
            let name = segment_name(s);
            let data = dir.read(&name).map_err(RemoteError::Wal)?;
            let end = if s == self.pos.segment {
                (self.pos.offset as usize).min(data.len())
            } else {
                data.len()
            };
            read_records(&name, &data[..end], true, |r| {
                self.learn(&r);
                Ok(())
            })
            .map_err(RemoteError::Wal)?;
        }
        self.loaded = true;
        Ok(())
    }

    /// Reads from the position to the end of the newest segment (or until `queue` is
    /// full), pushing samples and marking the queue after every record.
    pub fn poll(
        &mut self,
        dir: &dyn Dir,
        queue: &mut WriteQueue,
    ) -> Result<TailReport, RemoteError> {
        let mut report = TailReport::default();
        let names = dir.list().map_err(RemoteError::Wal)?;
        let checkpoint = names.iter().filter_map(|n| parse_checkpoint(n)).max();
        let mut segments: Vec<u64> = names.iter().filter_map(|n| parse_segment(n)).collect();
        segments.sort_unstable();
        segments.retain(|&s| !matches!(checkpoint, Some(c) if s <= c));
        // Checkpointed away, or older than every segment: resume at the first one left.
        let first = segments.first().copied().or(checkpoint.map(|c| c + 1));
        if let Some(f) = first {
            if self.pos.segment < f {
                self.pos = WalPosition {
                    segment: f,
                    offset: 0,
                };
                report.skipped_to = Some(self.pos);
                self.loaded = false;
            }
        }
        // A new checkpoint: reload, which also drops series the tsdb has garbage-collected.
        if !self.loaded || checkpoint != self.checkpoint_seen {
            self.load(dir, checkpoint, &segments)?;
        }
        let Some(&last) = segments.last() else {
            return Ok(report);
        };
        while self.pos.segment <= last {
            let seg = self.pos.segment;
            let name = segment_name(seg);
            if !segments.contains(&seg) {
                return Err(RemoteError::Wal(tsdb::Error::Corruption {
                    segment: name,
                    offset: 0,
                    reason: CorruptionKind::MissingSegment,
                }));
            }
            let data = dir.read(&name).map_err(RemoteError::Wal)?;
            let newest = seg == last;
            let mut off = (self.pos.offset as usize).min(data.len());
            while off < data.len() {
                if queue.is_full() {
                    report.queue_full = true;
                    return Ok(report);
                }
                match frame_at(&data[off..]) {
                    Frame::Record(rec, len) => {
                        report.records += 1;
                        match &rec {
                            Record::Series(_) => self.learn(&rec),
                            Record::Samples(samples) => {
                                for s in samples {
                                    match self.series.get(&s.r) {
                                        Some(l) => {
                                            queue.push_unbounded(l, s.t, f64::from_bits(s.v));
                                            report.samples += 1;
                                        }
                                        None => report.unknown_series += 1,
                                    }
                                }
                            }
                            Record::HistogramSamples(hs) => {
                                for s in hs {
                                    match self.series.get(&s.r) {
                                        Some(l) => {
                                            let h = HistogramValue::Int(s.h.clone());
                                            queue.push_histogram_unbounded(l, s.t, h);
                                            report.histograms += 1;
                                        }
                                        None => report.unknown_series += 1,
                                    }
                                }
                            }
                            Record::FloatHistogramSamples(hs) => {
                                for s in hs {
                                    match self.series.get(&s.r) {
                                        Some(l) => {
                                            let h = HistogramValue::Float(s.h.clone());
                                            queue.push_histogram_unbounded(l, s.t, h);
                                            report.histograms += 1;
                                        }
                                        None => report.unknown_series += 1,
                                    }
                                }
                            }
                            _ => {}
                        }
                        off += len;
                        self.pos.offset = off as u64;
                        queue.mark(self.pos);
                    }
                    Frame::Incomplete if newest => return Ok(report),
                    Frame::Incomplete => {
                        return Err(RemoteError::Wal(tsdb::Error::Corruption {
                            segment: name,
                            offset: off as u64,
                            reason: CorruptionKind::Length,
                        }))
                    }
                    Frame::Corrupt(reason) => {
                        return Err(RemoteError::Wal(tsdb::Error::Corruption {
                            segment: name,
                            offset: off as u64,
                            reason,
                        }))
                    }
                }
            }
            if newest {
                break;
            }
            self.pos = WalPosition {
                segment: seg + 1,
                offset: 0,
            };
            queue.mark(self.pos);
        }
        Ok(report)
    }
}
