//! The sending side: a queue the caller feeds with samples, cut into remote-write requests,
//! with one request in flight, retried on 5xx/429 with backoff and dropped on other 4xx.
//!
//! ```text
//! push(labels, t, v) ──► pending ──(full batch | deadline | flush)──► next_request(now) ──► POST
//!                                                                                          │
//!  committed_position() ◄── settled ◄── on_response(status, Retry-After, now) ◄────────────┘
//!                                         └── Retry: same body again at next_deadline()
//! ```
//!
//! The queue owns no thread, socket or clock. A caller's loop is: push what it has, call
//! [`WriteQueue::next_request`], POST the body with the headers, report the answer with
//! [`WriteQueue::on_response`] (or [`WriteQueue::on_send_error`]), and come back at
//! [`WriteQueue::next_deadline`]. Requests go out one at a time, in order, so samples of
//! a series reach the receiver oldest first.

use std::collections::{HashMap, VecDeque};

use exposition::histogram::{FloatHistogram, Histogram};
use exposition::Labels;
use thiserror::Error;
use tsdb::head::HistogramValue;

use crate::codec::{encode_request, request_headers, DEFAULT_USER_AGENT};
use crate::histogram::encode_value;
use crate::proto::{Label, Sample, TimeSeries, WriteRequest};
use crate::retry::{classify_status, parse_retry_after, Backoff, ResponseClass};
use crate::wal_tail::WalPosition;

/// Queue tunables; defaults follow Prometheus's `queue_config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// Samples per request at most (Prometheus: `max_samples_per_send`, 2000).
    pub max_samples_per_send: usize,
    /// A partial batch is sent once it has waited this long (`batch_send_deadline`, 5 s).
    pub batch_send_deadline_ms: i64,
    /// Pending samples at most; [`WriteQueue::push`] refuses more (`capacity`, 10000).
    pub capacity: usize,
    /// First retry delay (`min_backoff`, 30 ms).
    pub min_backoff_ms: i64,
    /// Largest retry delay without a `Retry-After` (`max_backoff`, 5 s).
    pub max_backoff_ms: i64,
    /// Retry on `429 Too Many Requests` (otherwise 429 drops the request like other 4xx).
    pub retry_on_http_429: bool,
    /// The `User-Agent` header value.
    pub user_agent: String,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            max_samples_per_send: 2000,
            batch_send_deadline_ms: 5_000,
            capacity: 10_000,
            min_backoff_ms: 30,
            max_backoff_ms: 5_000,
            retry_on_http_429: true,
            user_agent: DEFAULT_USER_AGENT.to_string(),
        }
    }
}

/// [`WriteQueue::push`] found the queue at capacity; the sample was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("remote-write queue full ({capacity} samples pending)")]
pub struct QueueFull {
    /// The configured capacity.
    pub capacity: usize,
}

/// A request ready to POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    /// Sequence number of the batch (retries of one batch share it).
    pub id: u64,
    /// 1 for the first try, 2 for the first retry, …
    pub attempt: u32,
    /// The body: snappy-compressed protobuf `WriteRequest`.
    pub body: Vec<u8>,
    /// Headers to set: `Content-Encoding`, `Content-Type`, `User-Agent`,
    /// `X-Prometheus-Remote-Write-Version`.
    pub headers: [(&'static str, String); 4],
    /// Samples in the body (float samples and histograms).
    pub samples: usize,
    /// Series in the body.
    pub series: usize,
}

/// What the queue did with the answer to the request in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseOutcome {
    /// 2xx: the samples are delivered.
    Delivered {
        /// Samples in the request.
        samples: usize,
    },
    /// 5xx, 429 or a transport error: the same body goes out again at `at_ms`.
    Retry {
        /// When [`WriteQueue::next_request`] will hand the request out again.
        at_ms: i64,
    },
    /// Any other status: the receiver refuses this body for good; its samples are dropped.
    Dropped {
        /// Samples dropped.
        samples: usize,
        /// The status that dropped them (0 for none).
        status: u16,
    },
    /// No request was waiting for an answer; nothing changed.
    NotInFlight,
}

/// Counters since the queue was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Samples accepted by `push`.
    pub pushed: u64,
    /// Samples in requests answered 2xx.
    pub delivered: u64,
    /// Samples in requests answered with a non-retryable status.
    pub dropped: u64,
    /// Requests handed out, retries included.
    pub requests: u64,
    /// Retries scheduled.
    pub retries: u64,
}

#[derive(Debug, Clone)]
struct Pending {
    series: u32,
    t: i64,
    v: Value,
}

/// A pending sample's value; histograms are boxed so float samples stay small.
#[derive(Debug, Clone)]
enum Value {
    Float(f64),
    Histogram(Box<HistogramValue>),
}

#[derive(Debug)]
struct InFlight {
    req: OutgoingRequest,
    /// `None` while waiting for an answer; `Some(at)` while waiting to retry.
    retry_at: Option<i64>,
}

/// When the series table is cleared (once nothing is pending), to bound memory under churn.
const SERIES_TABLE_GC: usize = 16_384;

/// The sender-side queue and batcher; see the [module docs](self).
#[derive(Debug)]
pub struct WriteQueue {
    cfg: QueueConfig,
    series: Vec<Labels>,
    index: HashMap<Labels, u32>,
    pending: VecDeque<Pending>,
    inflight: Option<InFlight>,
    backoff: Backoff,
    partial_since: Option<i64>,
    flush: bool,
    pushed_seq: u64,
    settled_seq: u64,
    marks: VecDeque<(u64, WalPosition)>,
    committed: Option<WalPosition>,
    next_id: u64,
    stats: QueueStats,
}

impl WriteQueue {
    /// An empty queue.
    pub fn new(cfg: QueueConfig) -> WriteQueue {
        let backoff = Backoff::new(cfg.min_backoff_ms, cfg.max_backoff_ms);
        WriteQueue {
            cfg: QueueConfig {
                max_samples_per_send: cfg.max_samples_per_send.max(1),
                capacity: cfg.capacity.max(1),
                ..cfg
            },
            series: Vec::new(),
            index: HashMap::new(),
            pending: VecDeque::new(),
            inflight: None,
            backoff,
            partial_since: None,
            flush: false,
            pushed_seq: 0,
            settled_seq: 0,
            marks: VecDeque::new(),
            committed: None,
            next_id: 0,
            stats: QueueStats::default(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &QueueConfig {
        &self.cfg
    }

    /// Queues one sample, or refuses it when `capacity` samples are already pending.
    pub fn push(&mut self, labels: &Labels, t: i64, v: f64) -> Result<(), QueueFull> {
        if self.is_full() {
            return Err(QueueFull {
                capacity: self.cfg.capacity,
            });
        }
        self.push_unbounded(labels, t, v);
        Ok(())
    }

    /// Queues one integer native histogram (it counts as one sample towards
    /// `max_samples_per_send` and `capacity`), or refuses it when the queue is full.
    pub fn push_histogram(
        &mut self,
        labels: &Labels,
        t: i64,
        h: &Histogram,
    ) -> Result<(), QueueFull> {
        self.push_value(
            labels,
            t,
            Value::Histogram(Box::new(HistogramValue::Int(h.clone()))),
        )
    }

    /// Queues one float native histogram, or refuses it when the queue is full.
    pub fn push_float_histogram(
        &mut self,
        labels: &Labels,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<(), QueueFull> {
        self.push_value(
            labels,
            t,
            Value::Histogram(Box::new(HistogramValue::Float(h.clone()))),
        )
    }

    fn push_value(&mut self, labels: &Labels, t: i64, v: Value) -> Result<(), QueueFull> {
        if self.is_full() {
            return Err(QueueFull {
                capacity: self.cfg.capacity,
            });
        }
        self.push_pending(labels, t, v);
        Ok(())
    }

    /// Queues one sample even past capacity (the WAL tailer never splits a record).
    pub(crate) fn push_unbounded(&mut self, labels: &Labels, t: i64, v: f64) {
        self.push_pending(labels, t, Value::Float(v));
    }

    /// Queues one histogram even past capacity (the WAL tailer never splits a record).
    pub(crate) fn push_histogram_unbounded(&mut self, labels: &Labels, t: i64, h: HistogramValue) {
        self.push_pending(labels, t, Value::Histogram(Box::new(h)));
    }

    fn push_pending(&mut self, labels: &Labels, t: i64, v: Value) {
        let series = match self.index.get(labels) {
            Some(&id) => id,
            None => {
                let id = self.series.len() as u32;
                self.series.push(labels.clone());
                self.index.insert(labels.clone(), id);
                id
            }
        };
        self.pending.push_back(Pending { series, t, v });
        self.pushed_seq += 1;
        self.stats.pushed += 1;
    }

    /// Whether `capacity` samples are pending.
    pub fn is_full(&self) -> bool {
        self.pending.len() >= self.cfg.capacity
    }

    /// Samples waiting to be put in a request (the request in flight not included).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is pending and nothing is in flight.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.inflight.is_none()
    }

    /// Sends what is pending without waiting for a full batch or the deadline.
    pub fn flush(&mut self) {
        if !self.pending.is_empty() {
            self.flush = true;
        }
    }

    /// Records that every sample pushed so far comes from before `pos` in a WAL: once
    /// they are all settled (delivered or dropped), [`WriteQueue::committed_position`]
    /// becomes `pos`.
    pub fn mark(&mut self, pos: WalPosition) {
        if self.pushed_seq == self.settled_seq {
            self.committed = Some(pos);
            self.marks.clear();
        } else {
            match self.marks.back_mut() {
                Some(last) if last.0 == self.pushed_seq => last.1 = pos,
                _ => self.marks.push_back((self.pushed_seq, pos)),
            }
        }
    }

    /// The newest WAL position all of whose samples are settled: persist it, and resume a
    /// [`WalTailer`](crate::WalTailer) from it after a restart.
    pub fn committed_position(&self) -> Option<WalPosition> {
        self.committed
    }

    /// Counters.
    pub fn stats(&self) -> QueueStats {
        self.stats
    }

    /// The request to send now, if any: a retry whose time has come, or a new batch when
    /// `max_samples_per_send` samples are pending, the oldest pending sample has waited
    /// `batch_send_deadline_ms` (counted from the first call that saw it), or
    /// [`WriteQueue::flush`] was called. Only one request is in flight at a time: after a
    /// request is handed out, this returns `None` until its answer is reported.
    pub fn next_request(&mut self, now_ms: i64) -> Option<OutgoingRequest> {
        if let Some(inf) = &mut self.inflight {
            return match inf.retry_at {
                Some(at) if now_ms >= at => {
                    inf.retry_at = None;
                    inf.req.attempt += 1;
                    self.stats.requests += 1;
                    Some(inf.req.clone())
                }
                _ => None,
            };
        }
        loop {
            if self.pending.is_empty() {
                self.partial_since = None;
                self.flush = false;
                return None;
            }
            let due = self.pending.len() >= self.cfg.max_samples_per_send
                || self.flush
                || self
                    .partial_since
                    .is_some_and(|s| now_ms.saturating_sub(s) >= self.cfg.batch_send_deadline_ms);
            if !due {
                self.partial_since.get_or_insert(now_ms);
                return None;
            }
            let (wr, samples) = self.build_batch();
            self.partial_since = (!self.pending.is_empty()).then_some(now_ms);
            if self.pending.is_empty() {
                self.gc_series();
            }
            let series = wr.timeseries.len();
            match encode_request(&wr) {
                Ok(body) => {
                    self.next_id += 1;
                    let req = OutgoingRequest {
                        id: self.next_id,
                        attempt: 1,
                        body,
                        headers: request_headers(&self.cfg.user_agent),
                        samples,
                        series,
                    };
                    self.stats.requests += 1;
                    self.inflight = Some(InFlight {
                        req: req.clone(),
                        retry_at: None,
                    });
                    return Some(req);
                }
                Err(_) => {
                    // Too large for one snappy block: no receiver could take it.
                    self.stats.dropped += samples as u64;
                    self.settle(samples);
                }
            }
        }
    }

    /// Takes up to `max_samples_per_send` samples, one `TimeSeries` per series (in order
    /// of first appearance, samples in push order; a series' float samples and its
    /// histograms go in separate lists, each in push order).
    fn build_batch(&mut self) -> (WriteRequest, usize) {
        let n = self.pending.len().min(self.cfg.max_samples_per_send);
        let mut slot: HashMap<u32, usize> = HashMap::new();
        let mut wr = WriteRequest::default();
        for p in self.pending.drain(..n) {
            let i = *slot.entry(p.series).or_insert_with(|| {
                let labels = &self.series[p.series as usize];
                wr.timeseries.push(TimeSeries {
                    labels: labels
                        .iter()
                        .map(|l| Label {
                            name: l.name.to_string(),
                            value: l.value.to_string(),
                        })
                        .collect(),
                    ..TimeSeries::default()
                });
                wr.timeseries.len() - 1
            });
            let ts = &mut wr.timeseries[i];
            match p.v {
                Value::Float(value) => ts.samples.push(Sample {
                    value,
                    timestamp: p.t,
                }),
                Value::Histogram(h) => ts.histograms.push(encode_value(p.t, &h)),
            }
        }
        (wr, n)
    }

    fn gc_series(&mut self) {
        if self.series.len() > SERIES_TABLE_GC {
            self.series.clear();
            self.index.clear();
        }
    }

    fn settle(&mut self, samples: usize) {
        self.settled_seq += samples as u64;
        while let Some(&(seq, pos)) = self.marks.front() {
            if seq > self.settled_seq {
                break;
            }
            self.committed = Some(pos);
            self.marks.pop_front();
        }
    }

    /// Reports the HTTP answer to the request in flight. `retry_after` is the raw
    /// `Retry-After` header value, if any (seconds or an HTTP date).
    pub fn on_response(
        &mut self,
        status: u16,
        retry_after: Option<&str>,
        now_ms: i64,
    ) -> ResponseOutcome {
        match self.inflight.as_ref() {
            Some(inf) if inf.retry_at.is_none() => {}
            _ => return ResponseOutcome::NotInFlight,
        }
        match classify_status(status, self.cfg.retry_on_http_429) {
            ResponseClass::Success => {
                let samples = self.finish();
                self.stats.delivered += samples as u64;
                self.backoff.reset();
                ResponseOutcome::Delivered { samples }
            }
            ResponseClass::Retry => {
                let ra = retry_after.and_then(|v| parse_retry_after(v, now_ms));
                self.schedule_retry(ra, now_ms)
            }
            ResponseClass::Drop => {
                let samples = self.finish();
                self.stats.dropped += samples as u64;
                ResponseOutcome::Dropped { samples, status }
            }
        }
    }

    /// Reports that the request in flight got no HTTP answer (connection refused, reset,
    /// timeout): it is retried with backoff.
    pub fn on_send_error(&mut self, now_ms: i64) -> ResponseOutcome {
        match self.inflight.as_ref() {
            Some(inf) if inf.retry_at.is_none() => self.schedule_retry(None, now_ms),
            _ => ResponseOutcome::NotInFlight,
        }
    }

    fn schedule_retry(&mut self, retry_after_ms: Option<i64>, now_ms: i64) -> ResponseOutcome {
        let delay = self.backoff.next_delay(retry_after_ms);
        let at_ms = now_ms.saturating_add(delay);
        if let Some(inf) = &mut self.inflight {
            inf.retry_at = Some(at_ms);
        }
        self.stats.retries += 1;
        ResponseOutcome::Retry { at_ms }
    }

    fn finish(&mut self) -> usize {
        let samples = self.inflight.take().map_or(0, |i| i.req.samples);
        self.settle(samples);
        samples
    }

    /// When to call [`WriteQueue::next_request`] next: the retry time of the request in
    /// flight, the deadline of a partial batch, or a time in the past (`i64::MIN`) when a
    /// batch is ready now. `None` when waiting for an answer or when nothing is pending
    /// (a partial batch not yet seen by `next_request` also reports "now").
    pub fn next_deadline(&self) -> Option<i64> {
        if let Some(inf) = &self.inflight {
            return inf.retry_at;
        }
        if self.pending.is_empty() {
            return None;
        }
        if self.pending.len() >= self.cfg.max_samples_per_send || self.flush {
            return Some(i64::MIN);
        }
        Some(match self.partial_since {
            Some(s) => s.saturating_add(self.cfg.batch_send_deadline_ms),
            None => i64::MIN,
        })
    }
}
