//! The entries both parsers yield: metadata, samples and exemplars, borrowed from the input.
//!
//! A [`Sample`] keeps its label set as the raw, already validated text between the braces
//! ([`LabelsRef`]); iterating it decodes pairs lazily, so a parse that only looks at names
//! and values allocates nothing. Values with escapes decode into an owned `Cow`.

use std::borrow::Cow;
use std::fmt;

use crate::labels::{Label, Labels, LabelsBuilder, METRIC_NAME};

/// The type of a metric family, as declared by a `# TYPE` line.
///
/// Text 0.0.4 has `counter`, `gauge`, `histogram`, `summary` and `untyped`; OpenMetrics adds
/// `gaugehistogram`, `info` and `stateset` and spells `untyped` as `unknown`. Both spellings
/// map to [`MetricType::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    /// A monotonic counter.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Cumulative buckets with `_count` and `_sum`.
    Histogram,
    /// Buckets of a distribution that can go down (OpenMetrics only).
    GaugeHistogram,
    /// Quantiles with `_count` and `_sum`.
    Summary,
    /// Constant labels with value 1 (OpenMetrics only).
    Info,
    /// One sample per state, 0 or 1 (OpenMetrics only).
    StateSet,
    /// No type declared (`untyped` in 0.0.4, `unknown` in OpenMetrics).
    #[default]
    Unknown,
}

impl MetricType {
    /// Parses a text 0.0.4 type name (`counter`, `gauge`, `histogram`, `summary`, `untyped`).
    pub fn from_text(s: &str) -> Option<MetricType> {
        Some(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            "untyped" => MetricType::Unknown,
            _ => return None,
        })
    }

    /// Parses an OpenMetrics 1.0 type name (`untyped` is not one).
    pub fn from_openmetrics(s: &str) -> Option<MetricType> {
        Some(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            "unknown" => MetricType::Unknown,
            _ => return None,
        })
    }

    /// The name written in text 0.0.4 (types 0.0.4 lacks are written as `untyped`).
    pub fn as_text(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
            _ => "untyped",
        }
    }

    /// The name written in OpenMetrics.
    pub fn as_openmetrics(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// The sample-name suffixes an OpenMetrics family of this type may use.
    pub fn openmetrics_suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Summary => &["", "_count", "_sum", "_created"],
            MetricType::Histogram => &["_count", "_sum", "_bucket", "_created"],
            MetricType::GaugeHistogram => &["_gcount", "_gsum", "_bucket"],
            MetricType::Info => &["_info"],
            _ => &[""],
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_openmetrics())
    }
}

/// One entry of an exposition, borrowed from the input buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `# HELP name text` (text unescaped).
    Help {
        /// Family name.
        name: Cow<'a, str>,
        /// Help text with escapes decoded.
        help: Cow<'a, str>,
    },
    /// `# TYPE name type`.
    Type {
        /// Family name.
        name: Cow<'a, str>,
        /// The declared type.
        ty: MetricType,
    },
    /// `# UNIT name unit` (OpenMetrics only).
    Unit {
        /// Family name.
        name: Cow<'a, str>,
        /// The unit (may be empty).
        unit: &'a str,
    },
    /// Any other `#` line (text 0.0.4 only), without the leading `#`.
    Comment(&'a str),
    /// A sample line.
    Sample(Sample<'a>),
    /// `# EOF` (OpenMetrics only); nothing follows it.
    Eof,
}

/// One sample line: name, labels, value, optional timestamp and exemplar.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// The sample name (for example `http_requests_total` or `latency_bucket`).
    pub name: Cow<'a, str>,
    /// The series as written: the name and label set, `http_requests_total{code="200"}`.
    /// Equal text means the same series, so a scraper can key a cache on it and skip
    /// building [`Labels`] for series it has seen (what Prometheus's scrape cache does).
    pub series: &'a str,
    /// The labels, decoded lazily.
    pub labels: LabelsRef<'a>,
    /// The value; NaN, `+Inf` and `-Inf` allowed.
    pub value: f64,
    /// Timestamp in milliseconds since the epoch. Text 0.0.4 writes milliseconds;
    /// OpenMetrics writes float seconds, which are converted (truncated toward zero to the millisecond, as Prometheus does).
    pub timestamp: Option<i64>,
    /// The exemplar (OpenMetrics only).
    pub exemplar: Option<Exemplar<'a>>,
}

impl Sample<'_> {
    /// The full label set, with the sample name as `__name__`. Allocates.
    pub fn to_labels(&self) -> Labels {
        let mut b = LabelsBuilder::new();
        b.set(METRIC_NAME, &self.name);
        for (n, v) in self.labels.iter() {
            b.set(&n, &v);
        }
        b.build()
    }
}

/// An OpenMetrics exemplar: `# {labels} value [timestamp]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// The exemplar's labels.
    pub labels: LabelsRef<'a>,
    /// The exemplar value.
    pub value: f64,
    /// Timestamp in milliseconds (converted from float seconds).
    pub timestamp: Option<i64>,
}

/// A validated label set still in its source form (the text between `{` and `}`).
///
/// Iterating yields `(name, value)` pairs with escapes decoded; names and values without
/// escapes are borrowed. A quoted metric name inside the braces (the Prometheus 3.x
/// `{"my.metric", a="b"}` form) is not a label and is skipped.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct LabelsRef<'a> {
    src: &'a str,
}

impl<'a> LabelsRef<'a> {
    /// Wraps label text that a parser has already validated. Text that does not follow the
    /// grammar yields fewer pairs; it never panics.
    pub fn from_validated(src: &'a str) -> LabelsRef<'a> {
        LabelsRef { src }
    }

    /// The raw source text between the braces.
    pub fn as_str(&self) -> &'a str {
        self.src
    }

    /// Whether there are no labels (cheap check of the source text).
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Number of label pairs (walks the text).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Iterates over `(name, value)` pairs in source order.
    pub fn iter(&self) -> LabelIter<'a> {
        LabelIter {
            b: self.src.as_bytes(),
            s: self.src,
            pos: 0,
        }
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Owned labels (empty values dropped, as [`Labels`] does).
    pub fn to_labels(&self) -> Labels {
        let mut b = LabelsBuilder::new();
        for (n, v) in self.iter() {
            b.set(&n, &v);
        }
        b.build()
    }

    /// Owned pairs in source order, empty values kept.
    pub fn to_vec(&self) -> Vec<Label> {
        self.iter()
            .map(|(n, v)| Label::new(n.into_owned(), v.into_owned()))
            .collect()
    }
}

impl fmt::Debug for LabelsRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Iterator over the pairs of a [`LabelsRef`].
#[derive(Debug, Clone)]
pub struct LabelIter<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl<'a> LabelIter<'a> {
    fn skip_ws_commas(&mut self) {
        while self.pos < self.b.len() && matches!(self.b[self.pos], b' ' | b'\t' | b',') {
            self.pos += 1;
        }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.b.len() && matches!(self.b[self.pos], b' ' | b'\t') {
            self.pos += 1;
        }
    }

    /// Reads a quoted string starting at `"`; returns the decoded content.
    fn quoted(&mut self) -> Option<Cow<'a, str>> {
        if self.b.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        while i < self.b.len() {
            match self.b[i] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => i += 1,
            }
        }
        let end = i.min(self.b.len());
        self.pos = (end + 1).min(self.b.len());
        let raw = self.s.get(start..end)?;
        Some(if escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        })
    }
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = (Cow<'a, str>, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.skip_ws_commas();
            if self.pos >= self.b.len() {
                return None;
            }
            let name = if self.b[self.pos] == b'"' {
                self.quoted()?
            } else {
                let start = self.pos;
                while self.pos < self.b.len()
                    && !matches!(self.b[self.pos], b' ' | b'\t' | b'=' | b',')
                {
                    self.pos += 1;
                }
                if start == self.pos {
                    // Not the grammar we validated: stop instead of looping.
                    self.pos = self.b.len();
                    return None;
                }
                Cow::Borrowed(self.s.get(start..self.pos)?)
            };
            self.skip_ws();
            if self.b.get(self.pos) != Some(&b'=') {
                // A quoted metric name inside the braces: not a label.
                continue;
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.quoted()?;
            return Some((name, value));
        }
    }
}

/// Decodes `\\`, `\"` and `\n`; any other backslash pair is kept as written.
pub(crate) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_iter_decodes_and_skips_quoted_name() {
        let l = LabelsRef::from_validated(r#""my.metric", a="b\"c" , "x.y"="1\\n",b="""#);
        let v: Vec<(String, String)> = l
            .iter()
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(
            v,
            vec![
                ("a".into(), "b\"c".into()),
                ("x.y".into(), "1\\n".into()),
                ("b".into(), "".into())
            ]
        );
        assert_eq!(l.get("a").as_deref(), Some("b\"c"));
        assert_eq!(l.len(), 3);
    }

    #[test]
    fn label_iter_on_garbage_terminates() {
        for s in ["=", "\"", "a=", "a=\"", ",,,", "a b c", "\"\\"] {
            let _ = LabelsRef::from_validated(s).iter().count();
        }
    }

    #[test]
    fn unescape_keeps_unknown() {
        assert_eq!(unescape(r#"a\\b\"c\nd\ze"#), "a\\b\"c\nd\\ze");
    }

    #[test]
    fn types_round_trip_names() {
        for t in [
            MetricType::Counter,
            MetricType::Gauge,
            MetricType::Histogram,
            MetricType::GaugeHistogram,
            MetricType::Summary,
            MetricType::Info,
            MetricType::StateSet,
            MetricType::Unknown,
        ] {
            assert_eq!(MetricType::from_openmetrics(t.as_openmetrics()), Some(t));
        }
        assert_eq!(MetricType::from_text("untyped"), Some(MetricType::Unknown));
        assert_eq!(MetricType::from_openmetrics("untyped"), None);
    }
}
