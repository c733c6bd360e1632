//! Query result values: what an expression evaluates to.
//!
//! PromQL has four value types — scalar, string, instant vector and range vector
//! (matrix). Only float samples are modelled here; native histograms are not yet
//! supported by the engine.

use exposition::Labels;
use std::fmt;

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

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series labels.
    pub metric: Labels,
    /// Timestamp in milliseconds.
    pub t: i64,
    /// The value.
    pub f: f64,
    /// Set when the metric name must be dropped at the end of evaluation
    /// (delayed `__name__` removal).
    pub drop_name: bool,
}

/// One series of a range vector (matrix).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// The series labels.
    pub metric: Labels,
    /// Points in ascending time order.
    pub floats: Vec<FPoint>,
    /// Set when the metric name must be dropped at the end of evaluation.
    pub drop_name: bool,
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
                    writeln!(f, "{} => {} @[{}]", s.metric, s.f, s.t)?;
                }
                Ok(())
            }
            Value::Matrix(m) => {
                for s in m {
                    write!(f, "{} =>", s.metric)?;
                    for p in &s.floats {
                        write!(f, " {} @[{}]", p.f, p.t)?;
                    }
                    writeln!(f)?;
                }
                Ok(())
            }
        }
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
