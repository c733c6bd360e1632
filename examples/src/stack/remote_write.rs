//! Remote-write from `stack`: one sender per `remote_write` entry, fed by tailing the
//! tsdb's WAL (so scraped samples, rule results and samples received on
//! `/api/v1/write` all go out, as in Prometheus; native histograms too, as remote-write
//! `Histogram` messages), sending from the stack's own loop.
//!
//! ```text
//! commit ──► WAL ──WalTailer::poll──► WriteQueue ──next_request(now)──► POST url (ureq)
//!                                        ▲                                  │
//!                                        └── on_response / on_send_error ◄──┘  (backoff: the
//!                                                                               loop comes back
//!                                                                               at next_deadline)
//! ```
//!
//! The sender starts at the end of the WAL: samples committed before the stack started
//! are not sent. One request is in flight per destination; a round sends at most
//! [`MAX_REQUESTS_PER_TICK`] requests so scraping is not starved.

use std::sync::RwLock;
use std::time::Duration;

use remote::{QueueStats, ResponseOutcome, WalTailer, WriteQueue};
use tsdb::Db;

use super::config::RemoteWriteConfig;

/// Requests one [`RemoteWriter::tick`] sends at most.
pub const MAX_REQUESTS_PER_TICK: usize = 16;

/// One destination: its queue, WAL position and HTTP agent.
pub struct RemoteWriter {
    cfg: RemoteWriteConfig,
    queue: WriteQueue,
    tailer: WalTailer,
    agent: ureq::Agent,
    /// (segment, length) of the WAL at the last poll: unchanged means nothing to read.
    seen: Option<(u64, u64)>,
    /// No WAL poll before this (ms): each poll reads the current segment whole, so polls
    /// are spaced by a quarter of `batch_send_deadline` (50 ms to 1 s).
    next_poll_ms: i64,
    /// The last poll stopped at a full queue: read on as soon as there is room.
    backlog: bool,
    retrying: bool,
}

impl std::fmt::Debug for RemoteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteWriter")
            .field("name", &self.cfg.name)
            .field("stats", &self.queue.stats())
            .finish()
    }
}

/// Why a sender could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteWriteError {
    /// The database has no WAL (in-memory): there is nothing to tail.
    #[error("remote_write {0}: the database has no WAL to send from")]
    NoWal(String),
    /// The WAL could not be read.
    #[error("remote_write {name}: {source}")]
    Wal {
        /// The destination's name.
        name: String,
        /// What went wrong.
        source: remote::RemoteError,
    },
}

impl RemoteWriter {
    /// A sender for `cfg` that sends what is committed to `db` from now on.
    pub fn new(cfg: RemoteWriteConfig, db: &Db) -> Result<RemoteWriter, RemoteWriteError> {
        let wal = db
            .wal()
            .ok_or_else(|| RemoteWriteError::NoWal(cfg.name.clone()))?;
        let tailer = WalTailer::at_end(wal.dir()).map_err(|source| RemoteWriteError::Wal {
            name: cfg.name.clone(),
            source,
        })?;
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_millis(cfg.remote_timeout_ms.max(1) as u64))
            .build();
        Ok(RemoteWriter {
            queue: WriteQueue::new(cfg.queue.clone()),
            cfg,
            tailer,
            agent,
            seen: None,
            next_poll_ms: i64::MIN,
            backlog: false,
            retrying: false,
        })
    }

    /// The destination's name.
    pub fn name(&self) -> &str {
        &self.cfg.name
    }

    /// Counters of the queue (pushed, delivered, dropped, requests, retries).
    pub fn stats(&self) -> QueueStats {
        self.queue.stats()
    }

    /// When the loop should come back: a retry time or a batch deadline.
    pub fn next_deadline(&self) -> Option<i64> {
        self.queue.next_deadline()
    }

    fn poll_spacing_ms(&self) -> i64 {
        (self.cfg.queue.batch_send_deadline_ms / 4).clamp(50, 1_000)
    }

    /// Reads what was committed since the last call, then sends what is due at
    /// `now()`. Returns lines worth logging (drops, first failure of a retry streak,
    /// recovery, WAL problems).
    pub fn tick(&mut self, db: &RwLock<Db>, now: &dyn Fn() -> i64) -> Vec<String> {
        let mut log = Vec::new();
        let t = now();
        // A full queue cannot take more; otherwise read when due, or at once when the
        // last read stopped at a full queue that has room again.
        if self.queue.is_full() || (t < self.next_poll_ms && !self.backlog) {
            self.send_due(now, &mut log);
            return log;
        }
        self.next_poll_ms = t.saturating_add(self.poll_spacing_ms());
        for _ in 0..4 {
            let mut queue_full = false;
            {
                let db = db.read().unwrap_or_else(|e| e.into_inner());
                if let Some(wal) = db.wal() {
                    let seg = wal.current_segment();
                    let len = std::fs::metadata(wal.dir().path(&tsdb::wal::segment_name(seg)))
                        .ok()
                        .map(|m| m.len());
                    let stamp = len.map(|l| (seg, l));
                    if stamp.is_none() || stamp != self.seen || self.backlog {
                        match self.tailer.poll(wal.dir(), &mut self.queue) {
                            Ok(rep) => {
                                queue_full = rep.queue_full;
                                self.backlog = rep.queue_full;
                                if !queue_full {
                                    self.seen = stamp;
                                }
                                if let Some(p) = rep.skipped_to {
                                    log.push(format!(
                                        "remote_write {}: WAL checkpointed behind the sender, resumed at segment {}",
                                        self.cfg.name, p.segment
                                    ));
                                }
                            }
                            Err(e) => log.push(format!("remote_write {}: {e}", self.cfg.name)),
                        }
                    }
                }
            }
            self.send_due(now, &mut log);
            if !queue_full {
                break;
            }
        }
        log
    }

    fn send_due(&mut self, now: &dyn Fn() -> i64, log: &mut Vec<String>) {
        for _ in 0..MAX_REQUESTS_PER_TICK {
            let Some(req) = self.queue.next_request(now()) else {
                return;
            };
            let mut post = self.agent.post(&self.cfg.url);
            for (k, v) in &req.headers {
                post = post.set(k, v);
            }
            for (k, v) in &self.cfg.headers {
                post = post.set(k, v);
            }
            let outcome = match post.send_bytes(&req.body) {
                Ok(r) => {
                    let ra = r.header("Retry-After").map(str::to_string);
                    self.queue.on_response(r.status(), ra.as_deref(), now())
                }
                Err(ureq::Error::Status(code, r)) => {
                    let ra = r.header("Retry-After").map(str::to_string);
                    let body = r.into_string().unwrap_or_default();
                    let o = self.queue.on_response(code, ra.as_deref(), now());
                    if let ResponseOutcome::Dropped { samples, .. } = o {
                        log.push(format!(
                            "remote_write {}: HTTP {code}, {samples} samples dropped: {}",
                            self.cfg.name,
                            body.trim()
                        ));
                    } else if !self.retrying {
                        log.push(format!(
                            "remote_write {}: HTTP {code}, retrying: {}",
                            self.cfg.name,
                            body.trim()
                        ));
                    }
                    o
                }
                Err(e) => {
                    if !self.retrying {
                        log.push(format!("remote_write {}: {e}, retrying", self.cfg.name));
                    }
                    self.queue.on_send_error(now())
                }
            };
            match outcome {
                ResponseOutcome::Retry { .. } => {
                    self.retrying = true;
                    return;
                }
                ResponseOutcome::Delivered { .. } if self.retrying => {
                    self.retrying = false;
                    log.push(format!(
                        "remote_write {}: delivering again (attempt {})",
                        self.cfg.name, req.attempt
                    ));
                }
                _ => {}
            }
        }
    }
}
