//! The Prometheus exposition formats and the data model shared by every crate here.
//!
//! This crate reads and writes what a `/metrics` endpoint serves, Prometheus text 0.0.4
//! and OpenMetrics 1.0, and owns the label model ([`Labels`], [`Matcher`]) that the tsdb,
//! the PromQL engine and the alert router build on. Use it to scrape (parse a response into
//! borrowed entries without allocating per sample), to expose (encode families), or just
//! for the label and matcher types. It has no I/O, no threads and no clock.
//!
//! Should I use this? Yes if you scrape or serve `/metrics` in Rust and want either speed
//! (the text pull parser runs at several hundred MB/s without allocating per sample) or
//! strictness (the OpenMetrics parser passes the whole upstream conformance suite). It also
//! reads and writes the delimited protobuf format, the one that carries native histograms.
//! It has no features to switch on or off.
//!
//! Module map (module → the question it answers):
//! - [`labels`]: how is a series identified? `Labels`, the sorted, unique label set.
//! - [`matcher`]: does a label value match `=`, `!=`, `=~`, `!~`? Anchored RE2 regexes with
//!   fast paths for literals, prefixes and alternations.
//! - [`types`]: what does a parser yield? [`Entry`], [`Sample`], [`Exemplar`], [`MetricType`].
//! - [`text`]: how do I read or write text 0.0.4? [`text::TextParser`], [`text::encode`].
//! - [`openmetrics`]: how do I read (strictly) or write OpenMetrics 1.0?
//!   [`openmetrics::OpenMetricsParser`], [`openmetrics::encode`].
//! - [`openmetrics2`]: how do I read or write the OpenMetrics 2.0 draft (composite
//!   histogram and summary values, `st@` start timestamps)?
//!   [`openmetrics2::OpenMetrics2Parser`], [`openmetrics2::encode`].
//! - [`content_type`]: which parser does this `Content-Type` call for? [`Format`], [`Parser`].
//! - [`family`]: what are the families of a scrape? [`MetricFamily`] grouped from entries.
//! - [`protobuf`]: how do I read or write the delimited protobuf format (and its native
//!   histograms)? [`protobuf::decode()`], [`protobuf::encode_delimited`].
//! - [`histogram`]: what is a native histogram? [`histogram::Histogram`] (integer, as
//!   exposed and stored) and [`histogram::FloatHistogram`] (what PromQL computes with).
//! - [`error`]: what went wrong and where? [`ParseError`] (`line:column: reason`).
//!
//! The main path, parsing a scrape by its Content-Type:
//!
//! ```
//! use exposition::{Entry, Parser};
//!
//! let body = b"# HELP up Whether the target is up.\n# TYPE up gauge\nup{job=\"node\"} 1\n";
//! let mut samples = 0;
//! for entry in Parser::for_content_type(Some("text/plain; version=0.0.4"), body) {
//!     match entry.expect("valid exposition") {
//!         Entry::Sample(s) => {
//!             assert_eq!(s.name, "up");
//!             assert_eq!(s.labels.get("job").as_deref(), Some("node"));
//!             assert_eq!(s.value, 1.0);
//!             samples += 1;
//!         }
//!         _ => {}
//!     }
//! }
//! assert_eq!(samples, 1);
//! ```

#![warn(missing_docs)]

pub mod content_type;
mod encode;
pub mod error;
pub mod family;
pub mod histogram;
pub mod labels;
mod lex;
pub mod matcher;
pub mod openmetrics;
pub mod openmetrics2;
pub mod protobuf;
pub mod text;
pub mod types;

pub use content_type::{Format, Parser};
pub use error::{LabelError, MatcherError, ParseError, ParseErrorKind};
pub use family::{FamilyExemplar, FamilySample, MetricFamily};
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use matcher::{matches_all, FastRegex, MatchOp, Matcher};
pub use types::{Entry, Exemplar, LabelIter, LabelsRef, MetricType, Sample};
