//! The OpenMetrics 1.0 pull parser.

use std::borrow::Cow;

use crate::error::{ParseError, ParseErrorKind};
use crate::lex::{self, Escapes, LexError};
use crate::types::{Entry, Exemplar, LabelsRef, MetricType, Sample};

use super::validate::{Meta, Validator};

/// A pull parser for OpenMetrics 1.0 text (`application/openmetrics-text; version=1.0.0`).
///
/// An [`Iterator`] of `Result<Entry, ParseError>` borrowing from the input; after the first
/// error, or after [`Entry::Eof`], it yields nothing more. By default it is as strict as the
/// specification: the grammar (single spaces, no comments or blank lines, `# EOF` last) and
/// the semantic rules (see the `validate` module). [`OpenMetricsParser::lenient`] keeps the
/// grammar but skips the semantic rules, as Prometheus's own scraper does (it accepts, for
/// example, a histogram with negative buckets and a negative `_sum`).
///
/// Timestamps are float seconds in the text and milliseconds in the entries.
///
/// ```
/// use exposition::{openmetrics::OpenMetricsParser, Entry};
///
/// let input = b"# TYPE rpc counter\nrpc_total 3 # {trace_id=\"x\"} 1 1.5\n# EOF\n";
/// let entries: Vec<Entry> = OpenMetricsParser::new(input).collect::<Result<_, _>>().unwrap();
/// let Entry::Sample(s) = &entries[1] else { panic!() };
/// let x = s.exemplar.as_ref().unwrap();
/// assert_eq!((s.value, x.value, x.timestamp), (3.0, 1.0, Some(1500)));
/// assert_eq!(entries.last(), Some(&Entry::Eof));
/// ```
pub struct OpenMetricsParser<'a> {
    input: &'a [u8],
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    done: bool,
    validator: Option<Validator<'a>>,
}

impl<'a> OpenMetricsParser<'a> {
    /// A strict parser over `input`.
    pub fn new(input: &'a [u8]) -> OpenMetricsParser<'a> {
        let s = match std::str::from_utf8(input) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&input[..e.valid_up_to()]).unwrap_or(""),
        };
        OpenMetricsParser {
            input,
            s,
            b: s.as_bytes(),
            pos: 0,
            done: false,
            validator: Some(Validator::new()),
        }
    }

    /// A parser that checks the grammar only, not the semantic rules.
    pub fn lenient(input: &'a [u8]) -> OpenMetricsParser<'a> {
        let mut p = OpenMetricsParser::new(input);
        p.validator = None;
        p
    }

    /// Byte offset of the next unread line.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn error(&self, (off, kind): LexError) -> ParseError {
        let kind = if off >= self.b.len() && self.b.len() < self.input.len() {
            ParseErrorKind::InvalidUtf8
        } else {
            kind
        };
        ParseError::at(self.input, off.min(self.input.len()), kind)
    }

    fn next_entry(&mut self) -> Result<Entry<'a>, LexError> {
        let b = self.b;
        let p = self.pos;
        if p >= b.len() {
            if b.len() < self.input.len() {
                return Err((p, ParseErrorKind::InvalidUtf8));
            }
            return Err((p, ParseErrorKind::UnexpectedEof("a final \"# EOF\" line")));
        }
        match b[p] {
            b'#' => self.hash_line(p),
            b'\n' => Err((
                p,
                ParseErrorKind::InvalidLine("blank lines are not allowed"),
            )),
            b' ' | b'\t' => Err((
                p,
                ParseErrorKind::InvalidLine("leading whitespace is not allowed"),
            )),
            _ => self.sample(p),
        }
    }

    fn hash_line(&mut self, p: usize) -> Result<Entry<'a>, LexError> {
        let (b, s) = (self.b, self.s);
        let eol = lex::line_end(b, p);
        let line = &b[p..eol];
        if line == b"# EOF" {
            if eol + 1 < self.input.len() || (eol < self.input.len() && b.get(eol) != Some(&b'\n'))
            {
                return Err((eol + 1, ParseErrorKind::TextAfterEof));
            }
            if let Some(v) = self.validator.as_mut() {
                v.finish().map_err(|k| (p, k))?;
            }
            self.pos = b.len();
            self.done = true;
            return Ok(Entry::Eof);
        }
        if line.starts_with(b"# EOF") {
            return Err((p + 5, ParseErrorKind::TextAfterEof));
        }
        let kind = match line.get(..7) {
            Some(b"# HELP ") => 0,
            Some(b"# TYPE ") => 1,
            Some(b"# UNIT ") => 2,
            _ => {
                return Err((
                    p,
                    ParseErrorKind::InvalidLine(
                        "only \"# HELP\", \"# TYPE\", \"# UNIT\" and \"# EOF\" lines may start with '#'",
                    ),
                ))
            }
        };
        let q = p + 7;
        let name_end = lex::metric_name_end(b, q);
        if name_end == q {
            return Err((
                q,
                ParseErrorKind::InvalidMetricName(s[q..lex::token_end(b, q)].to_string()),
            ));
        }
        if name_end >= eol || b[name_end] != b' ' {
            return Err(lex::unexpected(
                b,
                name_end,
                "a space after the metric name",
            ));
        }
        let name = &s[q..name_end];
        let text = &s[name_end + 1..eol];
        self.pos = (eol + 1).min(b.len());
        if eol >= b.len() {
            self.pos = b.len();
        }
        let (entry, meta) = match kind {
            0 => {
                let help = if text.contains('\\') {
                    Cow::Owned(crate::types::unescape(text))
                } else {
                    Cow::Borrowed(text)
                };
                (
                    Entry::Help {
                        name: Cow::Borrowed(name),
                        help,
                    },
                    Meta::Help,
                )
            }
            1 => {
                let ty = MetricType::from_openmetrics(text)
                    .ok_or_else(|| (name_end + 1, ParseErrorKind::InvalidType(text.to_string())))?;
                (
                    Entry::Type {
                        name: Cow::Borrowed(name),
                        ty,
                    },
                    Meta::Type(ty),
                )
            }
            _ => {
                if !text
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
                {
                    return Err((
                        name_end + 1,
                        ParseErrorKind::InvalidUnit {
                            family: name.to_string(),
                            unit: text.to_string(),
                        },
                    ));
                }
                // Prometheus's rule, also in lenient mode: a unit is a `_`-separated
                // suffix of the family name.
                let suffixed = name
                    .strip_suffix(text)
                    .is_some_and(|base| base.ends_with('_'));
                if !text.is_empty() && !suffixed {
                    return Err((
                        name_end + 1,
                        ParseErrorKind::InvalidUnit {
                            family: name.to_string(),
                            unit: text.to_string(),
                        },
                    ));
                }
                (
                    Entry::Unit {
                        name: Cow::Borrowed(name),
                        unit: text,
                    },
                    Meta::Unit(text),
                )
            }
        };
        if let Some(v) = self.validator.as_mut() {
            v.metadata(name, meta).map_err(|k| (p, k))?;
        }
        Ok(entry)
    }

    fn sample(&mut self, start: usize) -> Result<Entry<'a>, LexError> {
        let (b, s) = (self.b, self.s);
        let name_end = lex::metric_name_end(b, start);
        if name_end == start {
            let end = lex::token_end(b, start);
            let end = (start..end)
                .find(|&i| b[i] == b'{')
                .unwrap_or(end)
                .max(start + 1)
                .min(b.len());
            return Err((
                start,
                ParseErrorKind::InvalidMetricName(s.get(start..end).unwrap_or("").to_string()),
            ));
        }
        let name = &s[start..name_end];
        let mut p = name_end;
        let mut labels = LabelsRef::default();
        if b.get(p) == Some(&b'{') {
            let end = self.labels(p + 1, true)?;
            labels = LabelsRef::from_validated(&s[p + 1..end - 1]);
            p = end;
        }
        let series = &s[start..p];
        p = expect(b, p, b' ', "a space before the value")?;
        let (value, end) = self.value(p)?;
        p = end;
        let mut ts_secs = None;
        let mut exemplar = None;
        if b.get(p) == Some(&b' ') {
            p += 1;
            if b.get(p) != Some(&b'#') {
                let (t, end) = self.timestamp(p)?;
                ts_secs = Some(t);
                p = end;
                if b.get(p) == Some(&b' ') {
                    p += 1;
                    if b.get(p) != Some(&b'#') {
                        return Err(lex::unexpected(b, p, "'#' starting an exemplar"));
                    }
                }
            }
            if b.get(p) == Some(&b'#') {
                // Prometheus's rule, also in lenient mode: only `_total` and `_bucket`
                // samples carry exemplars.
                if !(name.ends_with("_total") || name.ends_with("_bucket")) {
                    return Err((
                        p,
                        ParseErrorKind::InvalidExemplar {
                            metric: name.to_string(),
                            reason: "exemplars are only allowed on _total and _bucket samples",
                        },
                    ));
                }
                let (x, end) = self.exemplar(p)?;
                exemplar = Some(x);
                p = end;
            }
        }
        if p >= b.len() {
            if b.len() < self.input.len() {
                return Err((p, ParseErrorKind::InvalidUtf8));
            }
            return Err((p, ParseErrorKind::UnexpectedEof("a final \"# EOF\" line")));
        }
        if b[p] != b'\n' {
            return Err(lex::unexpected(b, p, "end of line"));
        }
        self.pos = p + 1;
        if let Some(v) = self.validator.as_mut() {
            v.sample(name, labels, value, ts_secs, exemplar.as_ref())
                .map_err(|k| (start, k))?;
        }
        Ok(Entry::Sample(Sample {
            name: Cow::Borrowed(name),
            series,
            labels,
            value,
            timestamp: ts_secs.map(secs_to_ms),
            exemplar,
        }))
    }

    fn value(&self, p: usize) -> Result<(f64, usize), LexError> {
        let (b, s) = (self.b, self.s);
        let end = lex::token_end(b, p);
        if end == p {
            return Err(lex::unexpected(b, p, "a value"));
        }
        let v = lex::parse_value(&s[p..end])
            .ok_or_else(|| (p, ParseErrorKind::InvalidValue(s[p..end].to_string())))?;
        Ok((v, end))
    }

    fn timestamp(&self, p: usize) -> Result<(f64, usize), LexError> {
        let (b, s) = (self.b, self.s);
        let end = lex::token_end(b, p);
        if end == p {
            return Err(lex::unexpected(b, p, "a timestamp"));
        }
        let t = lex::parse_value(&s[p..end])
            .filter(|t| t.is_finite())
            .ok_or_else(|| (p, ParseErrorKind::InvalidTimestamp(s[p..end].to_string())))?;
        Ok((t, end))
    }

    /// `# {labels} value [timestamp]`, starting at the `#`.
    fn exemplar(&self, p: usize) -> Result<(Exemplar<'a>, usize), LexError> {
        let (b, s) = (self.b, self.s);
        let p = expect(b, p + 1, b' ', "a space after '#'")?;
        if b.get(p) != Some(&b'{') {
            return Err(lex::unexpected(b, p, "'{' opening the exemplar labels"));
        }
        let end = self.labels(p + 1, false)?;
        let labels = LabelsRef::from_validated(&s[p + 1..end - 1]);
        let q = expect(b, end, b' ', "a space before the exemplar value")?;
        let (value, mut q) = self.value(q)?;
        let mut timestamp = None;
        if b.get(q) == Some(&b' ') {
            let (t, e) = self.timestamp(q + 1)?;
            timestamp = Some(secs_to_ms(t));
            q = e;
        }
        Ok((
            Exemplar {
                labels,
                value,
                timestamp,
            },
            q,
        ))
    }

    /// A label set after its `{`: `name="value"` pairs separated by single commas, no
    /// blanks, no trailing comma. Returns the position after `}`.
    ///
    /// Sample labels (`sample`) may not repeat a name or use `__name__`: Prometheus's
    /// storage refuses such a series. Exemplar labels are only checked for repeats by the
    /// strict parser, since Prometheus does not store exemplars by default and accepts them.
    fn labels(&self, mut p: usize, sample: bool) -> Result<usize, LexError> {
        let (b, s) = (self.b, self.s);
        if b.get(p) == Some(&b'}') {
            return Ok(p + 1);
        }
        let mut seen = lex::DupCheck::new();
        loop {
            let n_end = lex::label_name_end(b, p);
            if n_end == p {
                let e = (p + 1).min(b.len());
                return Err((
                    p,
                    ParseErrorKind::InvalidLabelName(s.get(p..e).unwrap_or("").to_string()),
                ));
            }
            let lname = &s[p..n_end];
            if sample && lname == "__name__" {
                // Prometheus reads it, then its storage refuses the series (the name twice).
                return Err((p, ParseErrorKind::InvalidLabelName(lname.to_string())));
            }
            let q = expect(b, n_end, b'=', "'=' after the label name")?;
            if b.get(q) != Some(&b'"') {
                return Err(lex::unexpected(b, q, "'\"' opening the label value"));
            }
            let (close, _) = lex::quoted_end(b, q, Escapes::Lenient)?;
            if (sample || self.validator.is_some()) && !seen.insert(lname) {
                return Err((p, ParseErrorKind::DuplicateLabel(lname.to_string())));
            }
            p = close + 1;
            match b.get(p) {
                Some(b',') => p += 1,
                Some(b'}') => return Ok(p + 1),
                _ => return Err(lex::unexpected(b, p, "',' or '}' after the label value")),
            }
        }
    }
}

fn expect(b: &[u8], p: usize, c: u8, what: &'static str) -> Result<usize, LexError> {
    if b.get(p) == Some(&c) {
        Ok(p + 1)
    } else {
        Err(lex::unexpected(b, p, what))
    }
}

/// Float seconds to milliseconds, truncating toward zero as Prometheus does
/// (`int64(ts * 1000)`): `1.0009` is 1000 ms, `-1.5` is -1500 ms. `as` saturates at the
/// i64 range.
fn secs_to_ms(t: f64) -> i64 {
    (t * 1000.0) as i64
}

impl<'a> Iterator for OpenMetricsParser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_entry() {
            Ok(e) => Some(Ok(e)),
            Err(e) => {
                self.done = true;
                Some(Err(self.error(e)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<Vec<Entry<'_>>, ParseError> {
        OpenMetricsParser::new(s.as_bytes()).collect()
    }

    #[test]
    fn parses_types_and_timestamps() {
        let e = check("# TYPE a gauge\n# UNIT a \na{b=\"c\\z\"} 1 1.5\n# EOF").unwrap();
        let Entry::Sample(s) = &e[2] else {
            panic!("{e:?}")
        };
        assert_eq!(s.timestamp, Some(1500));
        assert_eq!(s.series, "a{b=\"c\\z\"}");
        assert_eq!(s.labels.get("b").as_deref(), Some("c\\z"));
        assert_eq!(e[3], Entry::Eof);
    }

    #[test]
    fn rejects_structure() {
        for bad in [
            "a 1\n",
            "a 1\n\n# EOF\n",
            "a  1\n# EOF\n",
            "# TYPE a histogram\na_bucket{le=\"1\"} 1\n# EOF\n",
            "# TYPE a counter\na_total -1\n# EOF\n",
            "a 1\nb 1\na 1\n# EOF\n",
            "# random comment\n# EOF\n",
            "a 1\n# EOF\nx",
            "# TYPE a stateset\na{a=\"\"} 1\n# EOF\n",
            "a{x=\"\"} 1 5\na 2\n# EOF\n",
            "# TYPE a summary\na{quantile=\"\"} 1\n# EOF\n",
            "# TYPE a_total counter\n# TYPE a counter\n# EOF\n",
            "# TYPE a counter\na_total 1\n# TYPE b gauge\nb 1\na_total 2\n# EOF\n",
            "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gcount 1\n# EOF\n",
        ] {
            assert!(check(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn accepts_valid() {
        for good in [
            "# EOF",
            "# TYPE a info\na_info{v=\"1\"} 1\n# EOF\n",
            "# TYPE a stateset\na{a=\"x\",b=\"1\"} 1\na{a=\"y\",b=\"1\"} 0\n# EOF\n",
            "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gcount 1\na_gsum 0\n# EOF\n",
            "# TYPE a histogram\na_bucket{le=\"1\"} 1 # {} 1\na_bucket{le=\"+Inf\"} 1\na_count 1\na_sum 0.5\na_created 1\n# EOF\n",
            "a{x=\"\"} 1 5\na 2 6\n# EOF\n",
            "a 1\n# EOF\n",
        ] {
            let r = check(good);
            assert!(r.is_ok(), "rejected {good:?}: {r:?}");
        }
    }

    #[test]
    fn lenient_keeps_prometheus_rules() {
        for bad in [
            "# TYPE a gauge\na 1 # {a=\"b\"} 1\n# EOF\n",
            "# TYPE a histogram\na_sum 1 # {a=\"b\"} 0.5\n# EOF\n",
            "# UNIT a seconds\n# EOF\n",
            "# UNIT a_seconds xseconds\n# EOF\n",
            "a{__name__=\"b\"} 1\n# EOF\n",
            "a{b=\"1\",b=\"2\"} 1\n# EOF\n",
        ] {
            let r = OpenMetricsParser::lenient(bad.as_bytes()).collect::<Result<Vec<_>, _>>();
            assert!(r.is_err(), "accepted {bad:?}");
        }
        for good in [
            "# TYPE a gauge\na_total 1 # {a=\"b\"} 1\n# EOF\n",
            "# UNIT a_seconds seconds\n# UNIT b \n# EOF\n",
            "a_total 1 # {a=\"b\",a=\"c\",__name__=\"d\"} 1\n# EOF\n",
        ] {
            let r = OpenMetricsParser::lenient(good.as_bytes()).collect::<Result<Vec<_>, _>>();
            assert!(r.is_ok(), "rejected {good:?}: {r:?}");
        }
    }

    #[test]
    fn lenient_skips_semantics() {
        let input = b"# TYPE a histogram\na_bucket{le=\"-1\"} 0\na_bucket{le=\"+Inf\"} 0\na_sum -1\na_count 0\n# EOF\n";
        assert!(OpenMetricsParser::new(input)
            .collect::<Result<Vec<_>, _>>()
            .is_err());
        assert!(OpenMetricsParser::lenient(input)
            .collect::<Result<Vec<_>, _>>()
            .is_ok());
    }
}
