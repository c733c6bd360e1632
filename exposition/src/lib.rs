//! The Prometheus exposition formats and the data model shared by every crate here.
//!
//! Module map:
//! - [`labels`]: `Labels`, the sorted, unique label set that identifies a series.
//! - [`matcher`]: `Matcher` (`=`, `!=`, `=~`, `!~`), with anchored RE2 regexes and fast paths.
//! - [`error`]: the typed errors.

pub mod error;
pub mod labels;
pub mod matcher;

pub use error::{LabelError, MatcherError};
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use matcher::{matches_all, FastRegex, MatchOp, Matcher};
