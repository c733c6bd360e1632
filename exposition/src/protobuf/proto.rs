//! The `io.prometheus.client` messages, hand-written with `prost`'s derive.
//!
//! They mirror `exposition/proto/metrics.proto` field for field (no `protoc` at build time);
//! `tests/protobuf_wire.rs` decodes hand-assembled bytes to pin every field number and
//! wire type. Scalars follow proto3 rules: absent and zero are the same value.
//!
//! ```text
//! MetricFamily ─┬─ name (1), help (2), type (3), unit (5)
//!               └─ metric (4) ─► Metric ─┬─ label (1) ─► LabelPair { name (1), value (2) }
//!                                        ├─ gauge (2) / untyped (5) ─► { value (1) }
//!                                        ├─ counter (3) ─► { value (1), exemplar (2), created_timestamp (3) }
//!                                        ├─ summary (4) ─► { sample_count (1), sample_sum (2), quantile (3), created_timestamp (4) }
//!                                        ├─ histogram (7) ─► Histogram (classic: 1-4, 15; native: 5-14, 16)
//!                                        └─ timestamp_ms (6)
//! ```

/// One metric family: what one length-delimited message of a scrape body holds.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricFamily {
    /// Family name (a counter's usually ends in `_total`).
    #[prost(string, tag = "1")]
    pub name: String,
    /// Help text.
    #[prost(string, tag = "2")]
    pub help: String,
    /// A [`MetricType`] number.
    #[prost(enumeration = "MetricType", tag = "3")]
    pub r#type: i32,
    /// The series of the family.
    #[prost(message, repeated, tag = "4")]
    pub metric: Vec<Metric>,
    /// Unit (a suffix of the name).
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// The type of a family, which says which [`Metric`] field holds the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    /// [`Metric::counter`].
    Counter = 0,
    /// [`Metric::gauge`].
    Gauge = 1,
    /// [`Metric::summary`].
    Summary = 2,
    /// [`Metric::untyped`].
    Untyped = 3,
    /// [`Metric::histogram`].
    Histogram = 4,
    /// [`Metric::histogram`], with counts that may go down.
    GaugeHistogram = 5,
}

/// One series (or, for summaries and histograms, one group of series) of a family.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    /// Labels, without the metric name.
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    /// Value of a gauge.
    #[prost(message, optional, tag = "2")]
    pub gauge: Option<Gauge>,
    /// Value of a counter.
    #[prost(message, optional, tag = "3")]
    pub counter: Option<Counter>,
    /// Value of a summary.
    #[prost(message, optional, tag = "4")]
    pub summary: Option<Summary>,
    /// Value of an untyped metric.
    #[prost(message, optional, tag = "5")]
    pub untyped: Option<Untyped>,
    /// Value of a histogram or gauge histogram.
    #[prost(message, optional, tag = "7")]
    pub histogram: Option<Histogram>,
    /// Milliseconds since the epoch; 0 means "no timestamp".
    #[prost(int64, tag = "6")]
    pub timestamp_ms: i64,
}

/// A label name and value.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct LabelPair {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// A gauge value.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Gauge {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
}

/// A counter value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Counter {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// An exemplar for the current value.
    #[prost(message, optional, tag = "2")]
    pub exemplar: Option<Exemplar>,
    /// When the counter was created (reset to zero).
    #[prost(message, optional, tag = "3")]
    pub created_timestamp: Option<Timestamp>,
}

/// One quantile of a summary.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Quantile {
    /// The quantile, `0..=1`.
    #[prost(double, tag = "1")]
    pub quantile: f64,
    /// Its value.
    #[prost(double, tag = "2")]
    pub value: f64,
}

/// A summary value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// Number of observations.
    #[prost(uint64, tag = "1")]
    pub sample_count: u64,
    /// Sum of observations.
    #[prost(double, tag = "2")]
    pub sample_sum: f64,
    /// Quantiles.
    #[prost(message, repeated, tag = "3")]
    pub quantile: Vec<Quantile>,
    /// When the summary was created (reset).
    #[prost(message, optional, tag = "4")]
    pub created_timestamp: Option<Timestamp>,
}

/// An untyped value.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Untyped {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
}

/// A histogram value: classic buckets, native buckets, or both.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    /// Number of observations (integer histograms).
    #[prost(uint64, tag = "1")]
    pub sample_count: u64,
    /// Number of observations (float histograms); used instead of `sample_count` when > 0.
    #[prost(double, tag = "4")]
    pub sample_count_float: f64,
    /// Sum of observations.
    #[prost(double, tag = "2")]
    pub sample_sum: f64,
    /// Classic buckets by increasing upper bound; `+Inf` may be left out.
    #[prost(message, repeated, tag = "3")]
    pub bucket: Vec<Bucket>,
    /// When the histogram was created (reset).
    #[prost(message, optional, tag = "15")]
    pub created_timestamp: Option<Timestamp>,
    /// Native: bucket resolution, `-4..=8`.
    #[prost(sint32, tag = "5")]
    pub schema: i32,
    /// Native: width of the zero bucket.
    #[prost(double, tag = "6")]
    pub zero_threshold: f64,
    /// Native: observations in the zero bucket (integer histograms).
    #[prost(uint64, tag = "7")]
    pub zero_count: u64,
    /// Native: observations in the zero bucket (float histograms); used when > 0.
    #[prost(double, tag = "8")]
    pub zero_count_float: f64,
    /// Native: populated negative bucket runs.
    #[prost(message, repeated, tag = "9")]
    pub negative_span: Vec<BucketSpan>,
    /// Native: negative bucket counts, each a delta to the previous bucket.
    #[prost(sint64, repeated, tag = "10")]
    pub negative_delta: Vec<i64>,
    /// Native: negative bucket counts, absolute (float histograms).
    #[prost(double, repeated, tag = "11")]
    pub negative_count: Vec<f64>,
    /// Native: populated positive bucket runs.
    #[prost(message, repeated, tag = "12")]
    pub positive_span: Vec<BucketSpan>,
    /// Native: positive bucket counts, each a delta to the previous bucket.
    #[prost(sint64, repeated, tag = "13")]
    pub positive_delta: Vec<i64>,
    /// Native: positive bucket counts, absolute (float histograms).
    #[prost(double, repeated, tag = "14")]
    pub positive_count: Vec<f64>,
    /// Native: exemplars (each should carry a timestamp).
    #[prost(message, repeated, tag = "16")]
    pub exemplars: Vec<Exemplar>,
}

/// One classic histogram bucket.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Bucket {
    /// Observations `<= upper_bound` (integer histograms).
    #[prost(uint64, tag = "1")]
    pub cumulative_count: u64,
    /// Observations `<= upper_bound` (float histograms); used when > 0.
    #[prost(double, tag = "4")]
    pub cumulative_count_float: f64,
    /// Inclusive upper bound.
    #[prost(double, tag = "2")]
    pub upper_bound: f64,
    /// An exemplar that fell in this bucket.
    #[prost(message, optional, tag = "3")]
    pub exemplar: Option<Exemplar>,
}

/// A run of consecutive native buckets.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct BucketSpan {
    /// Gap to the previous run's end (the first run: its start index).
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    /// Number of buckets.
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

/// An exemplar: labels (a trace id, typically), a value and when it was observed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// Exemplar labels.
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    /// Observed value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// When it was observed.
    #[prost(message, optional, tag = "3")]
    pub timestamp: Option<Timestamp>,
}

/// `google.protobuf.Timestamp`: seconds and nanoseconds since the epoch.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct Timestamp {
    /// Whole seconds.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds within the second, `0..1e9`.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    /// Milliseconds since the epoch (nanoseconds truncated toward zero, as Prometheus
    /// does; clamped to the `i64` range).
    pub fn to_millis(self) -> i64 {
        let ms = i128::from(self.seconds) * 1000 + i128::from(self.nanos / 1_000_000);
        ms.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// The timestamp of `ms` milliseconds since the epoch; `to_millis` gives `ms` back.
    ///
    /// ```
    /// use exposition::protobuf::proto::Timestamp;
    /// for ms in [0, -1, 1_700_000_000_123, i64::MIN, i64::MAX] {
    ///     assert_eq!(Timestamp::from_millis(ms).to_millis(), ms);
    /// }
    /// ```
    pub fn from_millis(ms: i64) -> Timestamp {
        Timestamp {
            seconds: ms.div_euclid(1000),
            nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
        }
    }
}
