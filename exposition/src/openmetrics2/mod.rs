//! OpenMetrics 2.0 (draft 2.0.0-rc0): the strict pull parser, its semantic checks and the
//! encoder, with composite values (histograms with classic and native buckets, gauge
//! histograms, summaries), start timestamps and several exemplars per sample.
//!
//! ```text
//! bytes ──► OpenMetrics2Parser ──(ABNF)──► validate ──► Entry ──► group ──► Family
//! Family ──► encode ──► bytes (ending in "# EOF")
//! ```
//!
//! What 2.0 changes from 1.0, and how it shows here:
//! - A histogram, gauge histogram or summary is one line with a [`Value`] in braces,
//!   `{count:2,sum:3.5,bucket:[1:1,+Inf:2]}`, instead of `_bucket`/`_count`/`_sum` lines.
//!   Native (exponential) buckets become a [`FloatHistogram`]; classic buckets stay
//!   [`ClassicBucket`]s (the draft does not map them to custom-bucket histograms).
//! - Every sample's name is its family's name (no suffixes); the start timestamp moves
//!   in-line as `st@<seconds>`; a sample may carry several exemplars, each with a
//!   mandatory timestamp.
//! - Names that are not legacy names are quoted (`{"my.metric","a.b"="c"}`).
//!
//! The main path, parsing a scrape into families and writing it back:
//!
//! ```
//! use exposition::openmetrics2::{self, Value};
//!
//! let body = "# TYPE rpc_seconds histogram\n\
//!             rpc_seconds {count:3,sum:1.5,schema:0,zero_threshold:1e-4,zero_count:0,\
//!             positive_spans:[0:2],positive_buckets:[1,2]} st@1520430000.123 \
//!             ## {trace_id=\"a\"} 0.5 1520879607.789\n# EOF\n";
//! let families = openmetrics2::parse_families(body.as_bytes()).unwrap();
//! let s = &families[0].samples[0];
//! let Value::Histogram(h) = &s.value else { panic!() };
//! let native = h.native.as_ref().unwrap();
//! assert_eq!((native.schema, native.positive_buckets.clone()), (0, vec![1.0, 2.0]));
//! assert_eq!(s.start_timestamp, Some(1_520_430_000_123));
//! assert_eq!(s.exemplars.len(), 1);
//!
//! let mut out = String::new();
//! openmetrics2::encode(&families, &mut out);
//! assert_eq!(openmetrics2::parse_families(out.as_bytes()).unwrap(), families);
//! ```

mod composite;
mod encoder;
mod number;
mod parser;
mod validate;

use std::borrow::Cow;

pub use encoder::{encode, encode_family};
pub use parser::OpenMetrics2Parser;

use crate::error::ParseError;
use crate::family::FamilyExemplar;
use crate::histogram::{CounterResetHint, FloatHistogram, Span, CUSTOM_BUCKETS_SCHEMA};
use crate::labels::Labels;
use crate::types::{Entry as TextEntry, Exemplar, LabelsRef, MetricType};

/// The Content-Type an OpenMetrics 2.0 exposition is served with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=2.0.0; charset=utf-8";

/// One entry of an OpenMetrics 2.0 exposition, borrowed from the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// A `# HELP`, `# TYPE` or `# UNIT` line: [`crate::Entry::Help`], [`crate::Entry::Type`]
    /// or [`crate::Entry::Unit`], as the 1.0 parser yields them (names unquoted and
    /// unescaped; an empty help or unit means none).
    Metadata(crate::types::Entry<'a>),
    /// A metric line.
    Sample(Sample<'a>),
    /// `# EOF`; nothing follows it.
    Eof,
}

/// One metric line: name, labels, value, timestamps and exemplars.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// The metric name (which is also its family's name in 2.0).
    pub name: Cow<'a, str>,
    /// The series as written, name and label set (`a{b="c"}` or `{"a.b",c="d"}`).
    pub series: &'a str,
    /// The labels, decoded lazily (a quoted metric name in the braces is skipped).
    pub labels: LabelsRef<'a>,
    /// A number or a composite value.
    pub value: Value,
    /// Timestamp in milliseconds (the text has float seconds; truncated toward zero).
    pub timestamp: Option<i64>,
    /// Start timestamp (`st@<seconds>`) in milliseconds.
    pub start_timestamp: Option<i64>,
    /// Exemplars in input order; every one has a timestamp.
    pub exemplars: Vec<Exemplar<'a>>,
}

/// A sample value: a number, or a composite value in braces.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A float (NaN and the infinities allowed).
    Number(f64),
    /// `{count:..,sum:..,...}` or `{gcount:..,gsum:..,...}` (boxed: it is large, and
    /// allocates its buckets anyway).
    Histogram(Box<HistogramValue>),
    /// `{count:..,sum:..,quantile:[...]}`.
    Summary(Box<SummaryValue>),
}

/// A histogram or gauge histogram composite value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistogramValue {
    /// Written with `gcount`/`gsum` (a gauge histogram) instead of `count`/`sum`.
    pub gauge: bool,
    /// Count of observations (`count` or `gcount`).
    pub count: f64,
    /// Sum of observations (`sum` or `gsum`).
    pub sum: f64,
    /// Native buckets, if present. Its `count` and `sum` equal the fields above and its
    /// counter-reset hint is `Gauge` for a gauge histogram; the encoder writes the fields
    /// above, not these.
    pub native: Option<FloatHistogram>,
    /// Classic buckets in increasing `le` order, the last one `+Inf`, if present.
    pub classic: Option<Vec<ClassicBucket>>,
}

/// One classic bucket: the count of observations at most `le` (cumulative).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassicBucket {
    /// Upper bound (inclusive); `+Inf` for the last bucket.
    pub le: f64,
    /// Cumulative count.
    pub count: f64,
}

/// A summary composite value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SummaryValue {
    /// Count of observations.
    pub count: f64,
    /// Sum of observations.
    pub sum: f64,
    /// Quantiles in increasing order.
    pub quantiles: Vec<Quantile>,
}

/// One summary quantile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    /// The quantile, in `[0, 1]`.
    pub quantile: f64,
    /// Its value.
    pub value: f64,
}

/// A metric family with owned data, as [`parse_families`] builds it and [`encode`] writes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Family {
    /// Family name, also the name of every sample.
    pub name: String,
    /// Declared type ([`MetricType::Unknown`] without a TYPE line).
    pub ty: MetricType,
    /// HELP text, unescaped (`None` when absent or empty).
    pub help: Option<String>,
    /// UNIT (`None` when absent or empty).
    pub unit: Option<String>,
    /// Samples in input order.
    pub samples: Vec<FamilySample>,
}

/// One owned sample of a [`Family`].
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySample {
    /// Labels without `__name__` (empty values dropped, as [`Labels`] does).
    pub labels: Labels,
    /// The value.
    pub value: Value,
    /// Timestamp in milliseconds.
    pub timestamp: Option<i64>,
    /// Start timestamp in milliseconds.
    pub start_timestamp: Option<i64>,
    /// Exemplars; the encoder skips any without a timestamp (2.0 requires one).
    pub exemplars: Vec<FamilyExemplar>,
}

impl Family {
    /// An empty family of the given name and type.
    pub fn new(name: impl Into<String>, ty: MetricType) -> Family {
        Family {
            name: name.into(),
            ty,
            ..Family::default()
        }
    }
}

impl HistogramValue {
    /// The classic buckets as a custom-bucket native histogram (NHCB, schema
    /// [`CUSTOM_BUCKETS_SCHEMA`]): the finite bounds become `custom_values`, the
    /// cumulative counts become per-bucket counts in one span, `count` and `sum` carry
    /// over. This is what an ingestor that stores classic histograms as NHCB does; the
    /// draft itself keeps classic buckets classic, so the parser never does it.
    ///
    /// `None` without classic buckets, or when a count is NaN or the counts are not
    /// cumulative (a gauge histogram's may not be).
    ///
    /// ```
    /// use exposition::openmetrics2::{self, Value};
    /// let f = openmetrics2::parse_families(b"h {count:5,sum:2,bucket:[0.5:1,1:3,+Inf:5]}\n# EOF\n").unwrap();
    /// let Value::Histogram(h) = &f[0].samples[0].value else { panic!() };
    /// let nhcb = h.classic_as_nhcb().unwrap();
    /// assert_eq!(nhcb.custom_values, vec![0.5, 1.0]);
    /// assert_eq!(nhcb.positive_buckets, vec![1.0, 2.0, 2.0]);
    /// assert!(nhcb.validate().is_ok());
    /// ```
    pub fn classic_as_nhcb(&self) -> Option<FloatHistogram> {
        let classic = self.classic.as_ref()?;
        let mut custom_values = Vec::with_capacity(classic.len());
        let mut buckets = Vec::with_capacity(classic.len());
        let mut prev = 0.0;
        for b in classic {
            if b.count.is_nan() || b.count < prev {
                return None;
            }
            if b.le == f64::NEG_INFINITY {
                // Observations of -Inf belong to the first custom bucket, (-Inf, first].
                continue;
            }
            if b.le.is_finite() {
                custom_values.push(b.le);
            }
            buckets.push(b.count - prev);
            prev = b.count;
        }
        Some(FloatHistogram {
            counter_reset_hint: if self.gauge {
                CounterResetHint::Gauge
            } else {
                CounterResetHint::Unknown
            },
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: self.count,
            sum: self.sum,
            positive_spans: vec![Span::new(0, u32::try_from(buckets.len()).ok()?)],
            positive_buckets: buckets,
            custom_values,
            ..FloatHistogram::default()
        })
    }
}

impl Sample<'_> {
    /// The owned form, as a [`Family`] holds it.
    pub fn to_owned_sample(&self) -> FamilySample {
        FamilySample {
            labels: self.labels.to_labels(),
            value: self.value.clone(),
            timestamp: self.timestamp,
            start_timestamp: self.start_timestamp,
            exemplars: self
                .exemplars
                .iter()
                .map(|x| FamilyExemplar {
                    labels: x.labels.to_labels(),
                    value: x.value,
                    timestamp: x.timestamp,
                })
                .collect(),
        }
    }
}

/// Groups an entry stream into families: metadata and samples of one name, in order.
/// The first error of the stream is returned.
pub fn group<'a>(
    entries: impl IntoIterator<Item = Result<Entry<'a>, ParseError>>,
) -> Result<Vec<Family>, ParseError> {
    let mut fams: Vec<Family> = Vec::new();
    fn current<'f>(fams: &'f mut Vec<Family>, name: &str, meta: bool) -> &'f mut Family {
        let reuse = fams
            .last()
            .is_some_and(|f| f.name == name && (!meta || f.samples.is_empty()));
        if !reuse {
            fams.push(Family::new(name, MetricType::Unknown));
        }
        let last = fams.len() - 1;
        &mut fams[last]
    }
    for e in entries {
        match e? {
            Entry::Metadata(TextEntry::Help { name, help }) => {
                current(&mut fams, &name, true).help =
                    (!help.is_empty()).then(|| help.into_owned());
            }
            Entry::Metadata(TextEntry::Type { name, ty }) => {
                current(&mut fams, &name, true).ty = ty
            }
            Entry::Metadata(TextEntry::Unit { name, unit }) => {
                current(&mut fams, &name, true).unit = (!unit.is_empty()).then(|| unit.to_string());
            }
            Entry::Sample(s) => {
                let owned = s.to_owned_sample();
                current(&mut fams, &s.name, false).samples.push(owned);
            }
            Entry::Metadata(_) | Entry::Eof => {}
        }
    }
    Ok(fams)
}

/// Parses and validates a whole OpenMetrics 2.0 exposition into families.
pub fn parse_families(input: &[u8]) -> Result<Vec<Family>, ParseError> {
    group(OpenMetrics2Parser::new(input))
}
