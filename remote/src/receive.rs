//! The receiving side: a remote-write body in, samples appended to a tsdb, and a report
//! of what was stored and what was refused.
//!
//! ```text
//! body ──decode_request──► WriteRequest ──per series──► labels checked ──per sample──► Appender
//!                                                            │       floats, then         │
//!                                                            │       histograms           │
//!                                                            └──── SeriesRejection ◄──────┘ (out of order,
//!                                                                     duplicate, out of bounds, bad histogram)
//! ```
//!
//! Native histograms are decoded with [`crate::histogram::decode_histogram`] and appended
//! through [`HistogramAppender`], which our tsdb's appenders implement.
//!
//! One bad series does not sink the request: its rejected samples are listed in the
//! [`ReceiveReport`] and everything else is committed. This follows Prometheus's
//! remote-write 2.0 handler (partial writes, then `400 Bad Request` naming the bad series);
//! Prometheus's 1.0 handler instead rolls back the whole request on the first rejected
//! sample. Either way the sender sees a 400 and does not retry.

use std::fmt;

use exposition::histogram::{FloatHistogram, Histogram};
use exposition::{Label, LabelError, Labels, METRIC_NAME};
use tsdb::head::HistogramValue;
use tsdb::{Appender, DbAppender, HeadAppender, SeriesRef};

use crate::codec::decode_request;
use crate::error::RemoteError;
use crate::histogram::{decode_histogram, HistogramDecodeError};
use crate::proto::{TimeSeries, WriteRequest};

/// Why samples of one series were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// A sample is older than the series' newest stored sample.
    OutOfOrder {
        /// The series' newest timestamp at that moment.
        last_t: i64,
    },
    /// A sample repeats a stored timestamp with a different value.
    Duplicate,
    /// A sample is older than the head accepts.
    OutOfBounds {
        /// The oldest timestamp the head accepts.
        min_valid_t: i64,
    },
    /// The label set is invalid (no metric name, duplicate or empty names, …); all the
    /// series' samples are refused.
    InvalidLabels(String),
    /// A histogram message does not make a histogram (mixed integer and float fields,
    /// spans that do not match the bucket counts, …).
    BadHistogram(HistogramDecodeError),
    /// Storage refused a histogram as invalid (schema, negative counts, counts that do not
    /// add up, custom bounds).
    InvalidHistogram(&'static str),
    /// Any other per-sample refusal from storage (e.g. the series limit).
    Storage(String),
}

/// An [`Appender`] that also takes native histograms: what [`receive`] needs. Implemented
/// for [`DbAppender`] and [`HeadAppender`]; the same ordering rules apply across sample
/// types (one sample per timestamp).
pub trait HistogramAppender: Appender {
    /// Appends an integer histogram; with `Some(r)` the labels are not looked at.
    fn append_histogram(
        &mut self,
        r: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        h: &Histogram,
    ) -> tsdb::Result<SeriesRef>;

    /// Appends a float histogram; with `Some(r)` the labels are not looked at.
    fn append_float_histogram(
        &mut self,
        r: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        h: &FloatHistogram,
    ) -> tsdb::Result<SeriesRef>;
}

/// The same forwarding for both tsdb appenders (they share the inherent method names).
macro_rules! histogram_appender {
    ($appender:ident) => {
        impl HistogramAppender for $appender<'_> {
            fn append_histogram(
                &mut self,
                r: Option<SeriesRef>,
                labels: &Labels,
                t: i64,
                h: &Histogram,
            ) -> tsdb::Result<SeriesRef> {
                match r {
                    Some(r) => self.append_histogram_ref(r, t, h).map(|()| r),
                    None => $appender::append_histogram(self, labels, t, h),
                }
            }

            fn append_float_histogram(
                &mut self,
                r: Option<SeriesRef>,
                labels: &Labels,
                t: i64,
                h: &FloatHistogram,
            ) -> tsdb::Result<SeriesRef> {
                match r {
                    Some(r) => self.append_float_histogram_ref(r, t, h).map(|()| r),
                    None => $appender::append_float_histogram(self, labels, t, h),
                }
            }
        }
    };
}

histogram_appender!(DbAppender);
histogram_appender!(HeadAppender);

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::OutOfOrder { last_t } => {
                write!(f, "out of order sample (series' last t={last_t})")
            }
            RejectReason::Duplicate => f.write_str("duplicate sample for timestamp"),
            RejectReason::OutOfBounds { min_valid_t } => {
                write!(f, "out of bounds (minimum valid t={min_valid_t})")
            }
            RejectReason::InvalidLabels(e) => write!(f, "invalid labels: {e}"),
            RejectReason::BadHistogram(e) => write!(f, "malformed histogram: {e}"),
            RejectReason::InvalidHistogram(e) => write!(f, "invalid histogram: {e}"),
            RejectReason::Storage(e) => f.write_str(e),
        }
    }
}

/// The samples of one series that were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRejection {
    /// Index of the series in the request's `timeseries` list.
    pub index: usize,
    /// The series' labels as sent, in PromQL form (`up{job="a"}`).
    pub series: String,
    /// Why the first refused sample was refused.
    pub reason: RejectReason,
    /// Timestamp of the first refused sample (`None` when the series had no samples).
    pub first_t: Option<i64>,
    /// How many of the series' samples (floats and histograms) were refused.
    pub samples: usize,
}

impl fmt::Display for SeriesRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} for series {}", self.reason, self.series)?;
        if let Some(t) = self.first_t {
            write!(f, " at t={t}")?;
        }
        if self.samples > 1 {
            write!(f, " ({} samples refused)", self.samples)?;
        }
        Ok(())
    }
}

/// What a request did to storage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiveReport {
    /// Series in the request.
    pub series: usize,
    /// Float samples appended (and committed, for [`receive`]).
    pub samples_appended: usize,
    /// Native histogram samples appended (and committed, for [`receive`]).
    pub histograms_appended: usize,
    /// Samples and histograms refused (sum of `rejections[..].samples`).
    pub samples_rejected: usize,
    /// Exemplars received and not stored (this crate does not store exemplars).
    pub exemplars_ignored: usize,
    /// Metadata entries received and not stored.
    pub metadata_ignored: usize,
    /// One entry per series with refused samples, in request order.
    pub rejections: Vec<SeriesRejection>,
}

impl ReceiveReport {
    /// The HTTP status a receiver should answer: `204 No Content` when everything was
    /// stored, `400 Bad Request` when some samples were refused (so the sender does not
    /// retry them).
    pub fn http_status(&self) -> u16 {
        if self.rejections.is_empty() {
            204
        } else {
            400
        }
    }

    /// A response body for a 400: one line per rejected series.
    pub fn error_text(&self) -> String {
        let mut s = String::new();
        for r in &self.rejections {
            s.push_str(&r.to_string());
            s.push('\n');
        }
        s
    }
}

/// Decodes `body` (snappy + protobuf), appends every acceptable sample with `app`, and
/// commits. Malformed bodies return an error and store nothing; per-sample refusals are
/// listed in the report while the rest is committed. A storage failure (e.g. the WAL
/// write) rolls back and returns [`RemoteError::Storage`].
///
/// Map the result to HTTP: `Ok(report)` → `report.http_status()` (204 or 400),
/// `Err(Snappy | Protobuf | BodyTooLarge)` → 400, `Err(Storage)` → 500 (the sender
/// retries).
pub fn receive<A: HistogramAppender>(
    body: &[u8],
    mut app: A,
) -> Result<ReceiveReport, RemoteError> {
    let req = match decode_request(body) {
        Ok(r) => r,
        Err(e) => {
            app.rollback();
            return Err(e);
        }
    };
    match append_request(&req, &mut app) {
        Ok(report) => {
            app.commit().map_err(RemoteError::Storage)?;
            Ok(report)
        }
        Err(e) => {
            app.rollback();
            Err(e)
        }
    }
}

/// Appends a decoded request with `app` without committing (the caller commits or rolls
/// back). Per-sample refusals go in the report; other storage errors are returned.
pub fn append_request<A: HistogramAppender>(
    req: &WriteRequest,
    app: &mut A,
) -> Result<ReceiveReport, RemoteError> {
    let mut report = ReceiveReport {
        series: req.timeseries.len(),
        metadata_ignored: req.metadata.len(),
        ..ReceiveReport::default()
    };
    for (index, ts) in req.timeseries.iter().enumerate() {
        report.exemplars_ignored += ts.exemplars.len();
        let total = ts.samples.len() + ts.histograms.len();
        let labels = match series_labels(ts) {
            Ok(l) => l,
            Err(e) => {
                if total > 0 {
                    report.samples_rejected += total;
                    report.rejections.push(SeriesRejection {
                        index,
                        series: raw_series_string(ts),
                        reason: RejectReason::InvalidLabels(e),
                        first_t: ts
                            .samples
                            .first()
                            .map(|s| s.timestamp)
                            .or(ts.histograms.first().map(|h| h.timestamp)),
                        samples: total,
                    });
                }
                continue;
            }
        };
        let mut series = SeriesAppend {
            index,
            labels: &labels,
            r: None,
            rejection: None,
        };
        for s in &ts.samples {
            let res = app.append(series.r, &labels, s.timestamp, s.value);
            if series.note(res, s.timestamp, &mut report)? {
                report.samples_appended += 1;
            }
        }
        for p in &ts.histograms {
            let res = match decode_histogram(p) {
                Ok((t, HistogramValue::Int(h))) => app.append_histogram(series.r, &labels, t, &h),
                Ok((t, HistogramValue::Float(h))) => {
                    app.append_float_histogram(series.r, &labels, t, &h)
                }
                Err(e) => {
                    series.refuse(RejectReason::BadHistogram(e), p.timestamp, &mut report);
                    continue;
                }
            };
            if series.note(res, p.timestamp, &mut report)? {
                report.histograms_appended += 1;
            }
        }
        report.rejections.extend(series.rejection);
    }
    Ok(report)
}

/// The appends of one series: its ref once known, and its rejection so far.
struct SeriesAppend<'a> {
    index: usize,
    labels: &'a Labels,
    r: Option<SeriesRef>,
    rejection: Option<SeriesRejection>,
}

impl SeriesAppend<'_> {
    /// Records the outcome of one append: `Ok(true)` when stored, `Ok(false)` when refused
    /// (counted), `Err` for a storage failure that sinks the request.
    fn note(
        &mut self,
        res: tsdb::Result<SeriesRef>,
        t: i64,
        report: &mut ReceiveReport,
    ) -> Result<bool, RemoteError> {
        match res {
            Ok(got) => {
                self.r = Some(got);
                Ok(true)
            }
            Err(e) if e.is_sample_rejection() => {
                self.refuse(reason_of(&e), t, report);
                Ok(false)
            }
            Err(e) => Err(RemoteError::Storage(e)),
        }
    }

    fn refuse(&mut self, reason: RejectReason, t: i64, report: &mut ReceiveReport) {
        report.samples_rejected += 1;
        match &mut self.rejection {
            Some(rej) => rej.samples += 1,
            None => {
                self.rejection = Some(SeriesRejection {
                    index: self.index,
                    series: self.labels.to_string(),
                    reason,
                    first_t: Some(t),
                    samples: 1,
                })
            }
        }
    }
}

fn reason_of(e: &tsdb::Error) -> RejectReason {
    match e {
        tsdb::Error::OutOfOrderSample { last_t, .. } => {
            RejectReason::OutOfOrder { last_t: *last_t }
        }
        tsdb::Error::DuplicateSample { .. } => RejectReason::Duplicate,
        tsdb::Error::OutOfBounds { min_valid_t, .. } => RejectReason::OutOfBounds {
            min_valid_t: *min_valid_t,
        },
        tsdb::Error::InvalidLabels(l) => RejectReason::InvalidLabels(l.to_string()),
        tsdb::Error::EmptyLabels => RejectReason::InvalidLabels("empty label set".into()),
        tsdb::Error::InvalidHistogram(why) => RejectReason::InvalidHistogram(why),
        other => RejectReason::Storage(other.to_string()),
    }
}

/// The label set of a series as Prometheus's receiver checks it: names unique and
/// valid (UTF-8 rules of Prometheus 3.x), a metric name present; empty values dropped.
fn series_labels(ts: &TimeSeries) -> Result<Labels, String> {
    let v: Vec<Label> = ts
        .labels
        .iter()
        .map(|l| Label::new(l.name.as_str(), l.value.as_str()))
        .collect();
    let labels = Labels::from_vec(v).map_err(|e: LabelError| e.to_string())?;
    if labels.get(METRIC_NAME).is_none() {
        return Err("missing metric name (__name__)".to_string());
    }
    labels.validate(true).map_err(|e| e.to_string())?;
    Ok(labels)
}

/// The labels as sent, for a report about a series whose labels did not validate.
fn raw_series_string(ts: &TimeSeries) -> String {
    let mut s = String::from("{");
    for (i, l) in ts.labels.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&l.name);
        s.push('=');
        let _ = exposition::labels::write_quoted(&mut s, &l.value);
    }
    s.push('}');
    s
}
