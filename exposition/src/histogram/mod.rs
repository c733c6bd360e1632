//! Native histograms: Prometheus's sparse, exponential-bucket histograms and the
//! custom-bucket variant (NHCB), as data.
//!
//! Two shapes carry the same information:
//! - [`Histogram`]: integer counts as exposed and stored; bucket counts are
//!   delta-encoded (each entry is the difference to the previous bucket), which is how
//!   the protobuf exposition, the WAL and the chunks carry them.
//! - [`FloatHistogram`]: float counts with absolute bucket values; what PromQL computes
//!   with (rates and averages of histograms are not integers).
//!
//! Buckets are addressed by index. For exponential schemas `-4..=8` the upper bound of
//! positive bucket `i` is `2^(i * 2^-schema)` (rounded as Prometheus's table of
//! fractions rounds it, see [`exponential_bound`]); negative buckets mirror them below zero;
//! observations whose magnitude is at most `zero_threshold` go to the zero bucket. The
//! custom-bucket schema [`CUSTOM_BUCKETS_SCHEMA`] instead uses `custom_values` as the
//! upper bounds (bucket `i` is `(custom_values[i-1], custom_values[i]]`, the last one
//! `(custom_values[n-1], +Inf]`), with no negative or zero buckets.
//!
//! Populated buckets are described by [`Span`]s: runs of consecutive indices, each
//! starting `offset` indices after the end of the previous run (the first offset is the
//! absolute start index).
//!
//! Module map:
//! - `notation`: how is a histogram written in PromQL test scripts?
//!   [`FloatHistogram::parse_notation`], [`FloatHistogram::fmt_notation`] (also `Display`).
//! - `buckets`: which values does a bucket cover, and in what order are buckets visited?
//!   [`Bucket`], [`FloatHistogram::all_buckets`], [`FloatHistogram::cumulative_buckets`].
//! - `layout`: how are buckets laid out? [`FloatHistogram::compact`],
//!   [`FloatHistogram::reduce_resolution`], [`FloatHistogram::copy_to_schema`].
//! - `arith`: how do histograms combine? [`FloatHistogram::add`], [`FloatHistogram::sub`],
//!   [`FloatHistogram::mul`], [`FloatHistogram::div`], [`FloatHistogram::equals`],
//!   [`FloatHistogram::detect_reset`]; `kahan`: [`FloatHistogram::kahan_add`] for
//!   compensated sums.
//! - `stats`: what does PromQL read out of one? [`FloatHistogram::quantile`],
//!   [`FloatHistogram::fraction`], [`FloatHistogram::stddev`], [`FloatHistogram::stdvar`].
//! - `trim`: what is left below or above a bound? [`FloatHistogram::trim_upper`] (`</`),
//!   [`FloatHistogram::trim_lower`] (`>/`).
//! - `validate`: is it well-formed? [`FloatHistogram::validate`], [`Histogram::validate`],
//!   [`FloatHistogram::to_integer`].
//! - `gomath`: how does Prometheus round the logarithms it interpolates with?
//!   [`go_log2`], [`go_exp2`] (Go's `math.Log2` and `math.Exp2`, bit for bit).
//! - `error`: [`HistogramNotationError`] (with byte offset) and [`HistogramError`].
//!
//! The main path: parse two histograms, add them across schemas, read a quantile, print
//! the result as PromQL test scripts expect it.
//!
//! ```
//! use exposition::histogram::FloatHistogram;
//! let mut a = FloatHistogram::parse_notation("{{schema:1 count:4 sum:6 buckets:[1 1 2]}}")?;
//! let b = FloatHistogram::parse_notation("{{schema:0 count:2 sum:3 offset:1 buckets:[2]}}")?;
//! let outcome = a.add(&b)?; // reduces `a` to schema 0 first
//! assert!(!outcome.nhcb_bounds_reconciled);
//! a.compact(0);
//! assert_eq!(a.to_string(), "{{count:6 sum:9 buckets:[1 5]}}");
//! assert_eq!(a.quantile(1.0), 2.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod arith;
mod bounds_table;
mod buckets;
mod error;
mod gomath;
mod kahan;
mod layout;
mod notation;
mod stats;
mod trim;
mod validate;

pub use arith::AddOutcome;
pub use buckets::{exponential_bound, AllBuckets, Bucket, SideBuckets};
pub use error::{HistogramError, HistogramNotationError, NotationErrorKind, Side};
pub use gomath::{go_exp2, go_log2};
pub use notation::go_fmt_g;
pub use stats::{kahan_sum_inc, NanNote};

/// The schema number of custom-bucket (NHCB) histograms.
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// Smallest exponential schema.
pub const MIN_EXPONENTIAL_SCHEMA: i32 = -4;

/// Largest exponential schema.
pub const MAX_EXPONENTIAL_SCHEMA: i32 = 8;

/// A run of consecutive populated bucket indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// Gap to the end of the previous span (for the first span: the start index).
    pub offset: i32,
    /// Number of consecutive buckets in the span.
    pub length: u32,
}

impl Span {
    /// A span starting `offset` after the previous one and covering `length` buckets.
    pub const fn new(offset: i32, length: u32) -> Span {
        Span { offset, length }
    }
}

/// What is known about a counter reset between this sample and the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum CounterResetHint {
    /// Nothing is known; readers compare with the previous sample.
    #[default]
    Unknown,
    /// A counter reset happened right before this sample.
    CounterReset,
    /// No counter reset happened since the previous sample.
    NotCounterReset,
    /// The histogram is a gauge: counts may go up and down, resets do not apply.
    Gauge,
}

/// An integer native histogram with delta-encoded bucket counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    /// Counter-reset knowledge for this sample.
    pub counter_reset_hint: CounterResetHint,
    /// Resolution: `-4..=8` exponential, or [`CUSTOM_BUCKETS_SCHEMA`].
    pub schema: i32,
    /// Observations with `|v| <= zero_threshold` count in the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// Total observations (including NaN observations, which land in no bucket).
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
    /// Populated positive bucket indices.
    pub positive_spans: Vec<Span>,
    /// Populated negative bucket indices.
    pub negative_spans: Vec<Span>,
    /// Positive bucket counts, each a delta to the previous bucket (the first absolute).
    pub positive_buckets: Vec<i64>,
    /// Negative bucket counts, delta-encoded like `positive_buckets`.
    pub negative_buckets: Vec<i64>,
    /// Upper bounds for [`CUSTOM_BUCKETS_SCHEMA`]; empty otherwise.
    pub custom_values: Vec<f64>,
}

/// A float native histogram with absolute bucket counts; what PromQL computes with.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    /// Counter-reset knowledge for this sample.
    pub counter_reset_hint: CounterResetHint,
    /// Resolution: `-4..=8` exponential, or [`CUSTOM_BUCKETS_SCHEMA`].
    pub schema: i32,
    /// Observations with `|v| <= zero_threshold` count in the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: f64,
    /// Total observations.
    pub count: f64,
    /// Sum of observations.
    pub sum: f64,
    /// Populated positive bucket indices.
    pub positive_spans: Vec<Span>,
    /// Populated negative bucket indices.
    pub negative_spans: Vec<Span>,
    /// Positive bucket counts (absolute).
    pub positive_buckets: Vec<f64>,
    /// Negative bucket counts (absolute).
    pub negative_buckets: Vec<f64>,
    /// Upper bounds for [`CUSTOM_BUCKETS_SCHEMA`]; empty otherwise.
    pub custom_values: Vec<f64>,
}

impl Histogram {
    /// The same histogram with float, absolute bucket counts.
    ///
    /// ```
    /// use exposition::histogram::{Histogram, Span};
    /// let h = Histogram {
    ///     count: 5, sum: 10.0,
    ///     positive_spans: vec![Span::new(0, 2)],
    ///     positive_buckets: vec![2, 1], // deltas: counts 2, 3
    ///     ..Histogram::default()
    /// };
    /// assert_eq!(h.to_float().positive_buckets, vec![2.0, 3.0]);
    /// ```
    pub fn to_float(&self) -> FloatHistogram {
        FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero_count as f64,
            count: self.count as f64,
            sum: self.sum,
            positive_spans: self.positive_spans.clone(),
            negative_spans: self.negative_spans.clone(),
            positive_buckets: undelta(&self.positive_buckets),
            negative_buckets: undelta(&self.negative_buckets),
            custom_values: self.custom_values.clone(),
        }
    }

    /// Whether the schema is the custom-bucket one.
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }
}

impl From<&Histogram> for FloatHistogram {
    /// [`Histogram::to_float`].
    fn from(h: &Histogram) -> FloatHistogram {
        h.to_float()
    }
}

impl FloatHistogram {
    /// Whether the schema is the custom-bucket one.
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }
}

fn undelta(deltas: &[i64]) -> Vec<f64> {
    let mut acc = 0i64;
    deltas
        .iter()
        .map(|d| {
            acc = acc.wrapping_add(*d);
            acc as f64
        })
        .collect()
}
