//! Query result values: what an expression evaluates to.
//!
//! PromQL has four value types — scalar, string, instant vector and range vector
//! (matrix). A sample of a vector or a point of a series is either a float or a
//! native histogram ([`FloatHistogram`], shared behind an [`Arc`] because the engine
//! passes the same histogram through many steps and nodes).

use exposition::histogram::FloatHistogram;
use exposition::Labels;
use std::fmt;
use std::sync::Arc;

/// Bit pattern of the NaN that Prometheus uses as a staleness marker.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness-marker NaN: a sample with this value ends a series.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is the staleness marker (and not an ordinary NaN).
#[inline]
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One float point of a series: timestamp in milliseconds and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FPoint {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The value.
    pub f: f64,
}

/// One native-histogram point of a series: timestamp in milliseconds and histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct HPoint {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The histogram.
    pub h: Arc<FloatHistogram>,
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series labels.
    pub metric: Labels,
    /// Timestamp in milliseconds.
    pub t: i64,
    /// The float value (0 and meaningless when `h` is set).
    pub f: f64,
    /// The histogram value, when this sample is a native histogram.
    pub h: Option<Arc<FloatHistogram>>,
    /// Set when the metric name must be dropped at the end of evaluation
    /// (delayed `__name__` removal).
    pub drop_name: bool,
}

/// One series of a range vector (matrix).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// The series labels.
    pub metric: Labels,
    /// Float points in ascending time order.
    pub floats: Vec<FPoint>,
    /// Histogram points in ascending time order (a timestamp is in `floats` or here,
    /// never in both).
    pub histograms: Vec<HPoint>,
    /// Set when the metric name must be dropped at the end of evaluation.
    pub drop_name: bool,
}

impl Series {
    /// A series with float points only.
    pub fn from_floats(metric: Labels, floats: Vec<FPoint>, drop_name: bool) -> Series {
        Series {
            metric,
            floats,
            histograms: Vec::new(),
            drop_name,
        }
    }

    /// Whether the series has no point at all.
    pub fn is_empty(&self) -> bool {
        self.floats.is_empty() && self.histograms.is_empty()
    }

    /// Number of points (floats and histograms).
    pub fn len(&self) -> usize {
        self.floats.len() + self.histograms.len()
    }
}

/// An instant vector: at most one sample per series, all at one time.
pub type Vector = Vec<Sample>;

/// A range vector: several series, each with points over time.
pub type Matrix = Vec<Series>;

/// A scalar result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scalar {
    /// Evaluation timestamp in milliseconds.
    pub t: i64,
    /// The value.
    pub v: f64,
}

/// A string result.
#[derive(Debug, Clone, PartialEq)]
pub struct StringValue {
    /// Evaluation timestamp in milliseconds.
    pub t: i64,
    /// The text.
    pub s: String,
}

/// The result of evaluating an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar.
    Scalar(Scalar),
    /// A string.
    String(StringValue),
    /// An instant vector.
    Vector(Vector),
    /// A range vector; also the result of every range query.
    Matrix(Matrix),
}

impl Value {
    /// The PromQL name of this value's type (`scalar`, `string`, `vector`, `matrix`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::String(_) => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// Sorts a matrix by label set, the order Prometheus returns range-query results in.
pub fn sort_matrix(m: &mut Matrix) {
    m.sort_by(|a, b| a.metric.cmp(&b.metric));
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Scalar(s) => write!(f, "scalar: {} @[{}]", s.v, s.t),
            Value::String(s) => write!(f, "string: {:?} @[{}]", s.s, s.t),
            Value::Vector(v) => {
                for s in v {
                    match &s.h {
                        Some(h) => writeln!(f, "{} => {} @[{}]", s.metric, HistogramText(h), s.t)?,
                        None => writeln!(f, "{} => {} @[{}]", s.metric, s.f, s.t)?,
                    }
                }
                Ok(())
            }
            Value::Matrix(m) => {
                for s in m {
                    write!(f, "{} =>", s.metric)?;
                    for p in &s.floats {
                        write!(f, " {} @[{}]", p.f, p.t)?;
                    }
                    for p in &s.histograms {
                        write!(f, " {} @[{}]", HistogramText(&p.h), p.t)?;
                    }
                    writeln!(f)?;
                }
                Ok(())
            }
        }
    }
}

/// Renders a histogram in the test language's `{{...}}` notation.
pub struct HistogramText<'a>(pub &'a FloatHistogram);

impl fmt::Display for HistogramText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.0;
        write!(f, "{{{{")?;
        if h.schema != 0 {
            write!(f, "schema:{} ", h.schema)?;
        }
        write!(f, "count:{} sum:{}", h.count, h.sum)?;
        if h.zero_threshold != 0.0 {
            write!(f, " z_bucket_w:{}", h.zero_threshold)?;
        }
        if h.zero_count != 0.0 {
            write!(f, " z_bucket:{}", h.zero_count)?;
        }
        if !h.custom_values.is_empty() {
            write!(f, " custom_values:{:?}", h.custom_values)?;
        }
        for (name, spans, buckets) in [
            ("", &h.positive_spans, &h.positive_buckets),
            ("n_", &h.negative_spans, &h.negative_buckets),
        ] {
            if buckets.is_empty() {
                continue;
            }
            let offset = spans.first().map(|s| s.offset).unwrap_or(0);
            write!(f, " {name}offset:{offset} {name}buckets:[")?;
            let mut first = true;
            let mut k = 0;
            for (i, s) in spans.iter().enumerate() {
                if i > 0 {
                    for _ in 0..s.offset {
                        write!(f, "{}0", if first { "" } else { " " })?;
                        first = false;
                    }
                }
                for _ in 0..s.length {
                    if let Some(b) = buckets.get(k) {
                        write!(f, "{}{b}", if first { "" } else { " " })?;
                        first = false;
                    }
                    k += 1;
                }
            }
            write!(f, "]")?;
        }
        match h.counter_reset_hint {
            exposition::histogram::CounterResetHint::CounterReset => {
                write!(f, " counter_reset_hint:reset")?
            }
            exposition::histogram::CounterResetHint::NotCounterReset => {
                write!(f, " counter_reset_hint:not_reset")?
            }
            exposition::histogram::CounterResetHint::Gauge => {
                write!(f, " counter_reset_hint:gauge")?
            }
            exposition::histogram::CounterResetHint::Unknown => {}
        }
        write!(f, "}}}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_nan_is_distinct_from_nan() {
        assert!(is_stale_nan(stale_nan()));
        assert!(!is_stale_nan(f64::NAN));
        assert!(stale_nan().is_nan());
    }
}
