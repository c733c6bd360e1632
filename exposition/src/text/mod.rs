//! Prometheus text format 0.0.4: the pull parser and the encoder.
//!
//! ```text
//! bytes ──► TextParser (Iterator<Item = Result<Entry, ParseError>>) ──► family::group ──► MetricFamily
//! MetricFamily ──► encode ──► bytes
//! ```
//!
//! Two rule sets read the same format: [`TextParser::new`] checks what `expfmt` (client_golang,
//! pushgateway, `promtool check metrics`) checks, and [`TextParser::scrape`] accepts and
//! rejects what Prometheus's own scraper does (checked against a real Prometheus by
//! `examples/src/bin/exposition-diff.rs`). A scraper that wants Prometheus's verdicts uses
//! the second.

mod encoder;
mod parser;

pub use encoder::{encode, encode_family};
pub use parser::TextParser;

use crate::error::ParseError;
use crate::family::MetricFamily;

/// The Content-Type a text 0.0.4 exposition is served with.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Parses a whole text 0.0.4 exposition into families.
pub fn parse_families(input: &[u8]) -> Result<Vec<MetricFamily>, ParseError> {
    crate::family::group(crate::Format::Text, TextParser::new(input))
}
