//! OpenMetrics 1.0: the strict pull parser, its semantic validator and the encoder.
//!
//! ```text
//! bytes ──► OpenMetricsParser ──(syntax)──► validate::Validator ──► Entry ──► family::group
//! MetricFamily ──► encode ──► bytes (ending in "# EOF")
//! ```

mod encoder;
mod parser;
mod validate;

pub use encoder::{encode, encode_family};
pub use parser::OpenMetricsParser;

use crate::error::ParseError;
use crate::family::MetricFamily;

/// The Content-Type an OpenMetrics 1.0 exposition is served with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Parses and validates a whole OpenMetrics exposition into families.
pub fn parse_families(input: &[u8]) -> Result<Vec<MetricFamily>, ParseError> {
    crate::family::group(crate::Format::OpenMetrics, OpenMetricsParser::new(input))
}
