//! The OpenMetrics 2.0 pull parser: lines, names, label sets, the sample tail
//! (timestamp, `st@` start timestamp, exemplars). Composite values are read by
//! `composite`, numbers by `number`.

use std::borrow::Cow;

use crate::error::{ParseError, ParseErrorKind};
use crate::lex::{self, Escapes, LexError};
use crate::types::{Entry as TextEntry, Exemplar, LabelsRef, MetricType};

use super::number::{self, NumRule};
use super::validate::{Meta, Validator};
use super::{composite, Entry, Sample, Value};

/// A pull parser for OpenMetrics 2.0 text (`application/openmetrics-text; version=2.0.0`).
///
/// An [`Iterator`] of `Result<Entry, ParseError>` borrowing from the input. It follows
/// the ABNF of the 2.0 draft exactly (no blanks beyond single separating spaces, no
/// comments, quoted names where a name is not a legacy one, `# EOF` last) and, unless
/// built with [`lenient`](Self::lenient), the semantic rules on top: family contiguity,
/// unique metadata, value kinds per type, histogram and summary structure, where start
/// timestamps and exemplars may appear. After the first error it yields nothing more.
///
/// ```
/// use exposition::openmetrics2::{Entry, OpenMetrics2Parser, Value};
///
/// let input = b"# TYPE foo_total counter\nfoo_total 17.0 1520879607.789 st@1520430000.123\n# EOF\n";
/// let entries: Vec<Entry> = OpenMetrics2Parser::new(input).collect::<Result<_, _>>().unwrap();
/// let Entry::Sample(s) = &entries[1] else { panic!() };
/// assert_eq!(s.value, Value::Number(17.0));
/// assert_eq!((s.timestamp, s.start_timestamp), (Some(1_520_879_607_789), Some(1_520_430_000_123)));
/// assert_eq!(entries.last(), Some(&Entry::Eof));
/// ```
pub struct OpenMetrics2Parser<'a> {
    input: &'a [u8],
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    done: bool,
    validator: Option<Validator<'a>>,
}

impl<'a> OpenMetrics2Parser<'a> {
    /// A strict parser over `input`.
    pub fn new(input: &'a [u8]) -> OpenMetrics2Parser<'a> {
        // Parse the valid UTF-8 prefix; running into its end reports invalid UTF-8.
        let s = input.utf8_chunks().next().map_or("", |c| c.valid());
        OpenMetrics2Parser {
            input,
            s,
            b: s.as_bytes(),
            pos: 0,
            done: false,
            validator: Some(Validator::new()),
        }
    }

    /// A parser that checks the grammar only, not the semantic rules.
    pub fn lenient(input: &'a [u8]) -> OpenMetrics2Parser<'a> {
        let mut p = OpenMetrics2Parser::new(input);
        p.validator = None;
        p
    }

    /// Byte offset of the next unread line.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn error(&self, (off, kind): LexError) -> ParseError {
        let truncated = off >= self.b.len() && self.b.len() < self.input.len();
        let kind = if truncated {
            ParseErrorKind::InvalidUtf8
        } else {
            kind
        };
        ParseError::at(self.input, off, kind)
    }

    fn next_entry(&mut self) -> Result<Entry<'a>, LexError> {
        let (b, p) = (self.b, self.pos);
        match b.get(p) {
            None => Err((p, ParseErrorKind::UnexpectedEof("a final \"# EOF\" line"))),
            Some(b'#') => self.hash_line(p),
            Some(b'\n') => Err((
                p,
                ParseErrorKind::InvalidLine("blank lines are not allowed"),
            )),
            Some(b' ' | b'\t') => Err((
                p,
                ParseErrorKind::InvalidLine("leading whitespace is not allowed"),
            )),
            Some(_) => self.sample(p),
        }
    }

    fn hash_line(&mut self, p: usize) -> Result<Entry<'a>, LexError> {
        let (b, s) = (self.b, self.s);
        let eol = lex::line_end(b, p);
        let line = &b[p..eol];
        if line == b"# EOF" {
            if eol < self.input.len() && eol + 1 < self.input.len() {
                return Err((eol + 1, ParseErrorKind::TextAfterEof));
            }
            if eol < self.input.len() && b.get(eol) != Some(&b'\n') {
                return Err((eol, ParseErrorKind::InvalidUtf8));
            }
            self.pos = b.len();
            self.done = true;
            return Ok(Entry::Eof);
        }
        if line.starts_with(b"# EOF") {
            return Err((p + 5, ParseErrorKind::TextAfterEof));
        }
        let meta = match line.get(..7) {
            Some(b"# HELP ") => Meta::Help,
            Some(b"# TYPE ") => Meta::Type(MetricType::Unknown),
            Some(b"# UNIT ") => Meta::Unit,
            _ => {
                return Err((
                    p,
                    ParseErrorKind::InvalidLine(
                        "only \"# HELP\", \"# TYPE\", \"# UNIT\" and \"# EOF\" lines may start with '#'",
                    ),
                ))
            }
        };
        let (name, name_end) = self.meta_name(p + 7)?;
        let q = expect(b, name_end, b' ', "a space after the metric name")?;
        let text_end = match meta {
            // escaped-string: a raw '"' is not a normal-char.
            Meta::Help => help_end(b, q)?,
            Meta::Type(_) => q + b[q..].iter().take_while(|c| c.is_ascii_lowercase()).count(),
            Meta::Unit => unit_end(b, q),
        };
        if b.get(text_end) != Some(&b'\n') {
            if text_end >= b.len() {
                return Err(self.eof_or_utf8(text_end));
            }
            return Err(lex::unexpected(b, text_end, "end of line"));
        }
        let text = &s[q..text_end];
        let meta = match meta {
            Meta::Type(_) => Meta::Type(
                MetricType::from_openmetrics(text)
                    .ok_or_else(|| (q, ParseErrorKind::InvalidType(text.to_string())))?,
            ),
            m => m,
        };
        if let Some(v) = self.validator.as_mut() {
            v.metadata(name.clone(), meta, text).map_err(|k| (p, k))?;
        }
        let entry = match meta {
            Meta::Help => {
                let help = if text.contains('\\') {
                    Cow::Owned(crate::types::unescape(text))
                } else {
                    Cow::Borrowed(text)
                };
                TextEntry::Help { name, help }
            }
            Meta::Type(ty) => TextEntry::Type { name, ty },
            Meta::Unit => TextEntry::Unit { name, unit: text },
        };
        self.pos = text_end + 1;
        Ok(Entry::Metadata(entry))
    }

    fn eof_or_utf8(&self, p: usize) -> LexError {
        if self.b.len() < self.input.len() {
            (p, ParseErrorKind::InvalidUtf8)
        } else {
            (p, ParseErrorKind::UnexpectedEof("a line feed"))
        }
    }

    /// A metric name in a metadata line: `metricname` or a quoted, non-empty string.
    fn meta_name(&self, q: usize) -> Result<(Cow<'a, str>, usize), LexError> {
        let (b, s) = (self.b, self.s);
        if b.get(q) == Some(&b'"') {
            return self.quoted_name(q);
        }
        let end = lex::metric_name_end(b, q);
        if end == q {
            return Err((
                q,
                ParseErrorKind::InvalidMetricName(s[q..lex::token_end(b, q)].to_string()),
            ));
        }
        Ok((Cow::Borrowed(&s[q..end]), end))
    }

    /// A quoted, non-empty name starting at its `"`; returns it decoded and the position
    /// after the closing quote.
    fn quoted_name(&self, q: usize) -> Result<(Cow<'a, str>, usize), LexError> {
        let (close, escaped) = lex::quoted_end(self.b, q, Escapes::Lenient)?;
        if close == q + 1 {
            return Err((q, ParseErrorKind::InvalidMetricName(String::new())));
        }
        let raw = &self.s[q + 1..close];
        let name = if escaped {
            Cow::Owned(crate::types::unescape(raw))
        } else {
            Cow::Borrowed(raw)
        };
        Ok((name, close + 1))
    }

    fn sample(&mut self, start: usize) -> Result<Entry<'a>, LexError> {
        let (b, s) = (self.b, self.s);
        let (name, labels, series_end) = if b[start] == b'{' {
            if b.get(start + 1) != Some(&b'"') {
                return Err(lex::unexpected(b, start + 1, "a quoted metric name"));
            }
            let (name, after) = self.quoted_name(start + 1)?;
            if b.get(after) == Some(&b'=') {
                return Err((
                    start + 1,
                    ParseErrorKind::InvalidLine("a label set needs the metric name before it"),
                ));
            }
            let end = self.label_set(start + 1, after)?;
            (name, LabelsRef::from_validated(&s[start + 1..end - 1]), end)
        } else {
            let name_end = lex::metric_name_end(b, start);
            if name_end == start {
                let end = lex::token_end(b, start).max(start + 1).min(b.len());
                return Err((
                    start,
                    ParseErrorKind::InvalidMetricName(s.get(start..end).unwrap_or("").to_string()),
                ));
            }
            let name = Cow::Borrowed(&s[start..name_end]);
            if b.get(name_end) == Some(&b'{') {
                let end = self.label_set(name_end + 1, name_end + 1)?;
                (
                    name,
                    LabelsRef::from_validated(&s[name_end + 1..end - 1]),
                    end,
                )
            } else {
                (name, LabelsRef::default(), name_end)
            }
        };
        let series = &s[start..series_end];
        let mut p = expect(b, series_end, b' ', "a space before the value")?;
        let value = if b.get(p) == Some(&b'{') {
            let (v, end) = composite::parse(b, p + 1)?;
            p = end;
            v
        } else {
            let (v, end) = number::number(b, p, NumRule::Any)?;
            p = end;
            Value::Number(v)
        };
        let mut timestamp = None;
        let mut start_timestamp = None;
        let mut exemplars = Vec::new();
        loop {
            match b.get(p) {
                Some(b'\n') => break,
                Some(b' ') => {}
                None => return Err(self.eof_or_utf8(p)),
                Some(_) => return Err(lex::unexpected(b, p, "a space or end of line")),
            }
            let q = p + 1;
            if b.get(q) == Some(&b'#') {
                let (x, end) = self.exemplar(q)?;
                exemplars.push(x);
                p = end;
            } else if !exemplars.is_empty() {
                return Err(lex::unexpected(b, q, "'#' starting an exemplar"));
            } else if b.get(q) == Some(&b's') && start_timestamp.is_none() {
                let t = expect(b, q + 1, b't', "\"st@\" starting a start timestamp")?;
                let t = expect(b, t, b'@', "\"st@\" starting a start timestamp")?;
                let (st, end) = number::timestamp_ms(b, t)?;
                start_timestamp = Some(st);
                p = end;
            } else if timestamp.is_none() && start_timestamp.is_none() {
                let (ts, end) = number::timestamp_ms(b, q)?;
                timestamp = Some(ts);
                p = end;
            } else {
                return Err(lex::unexpected(b, q, "'#' starting an exemplar"));
            }
        }
        self.pos = p + 1;
        let sample = Sample {
            name,
            series,
            labels,
            value,
            timestamp,
            start_timestamp,
            exemplars,
        };
        if let Some(v) = self.validator.as_mut() {
            v.sample(&sample).map_err(|k| (start, k))?;
        }
        Ok(Entry::Sample(sample))
    }

    /// `# {labels} number timestamp`, starting at the `#`.
    fn exemplar(&self, p: usize) -> Result<(Exemplar<'a>, usize), LexError> {
        let b = self.b;
        let p = expect(b, p + 1, b' ', "a space after '#'")?;
        if b.get(p) != Some(&b'{') {
            return Err(lex::unexpected(b, p, "'{' opening the exemplar labels"));
        }
        let end = self.label_set(p + 1, p + 1)?;
        let labels = LabelsRef::from_validated(&self.s[p + 1..end - 1]);
        let q = expect(b, end, b' ', "a space before the exemplar value")?;
        let (value, q) = number::number(b, q, NumRule::Any)?;
        let q = expect(b, q, b' ', "a space before the exemplar timestamp")?;
        let (ts, q) = number::timestamp_ms(b, q)?;
        Ok((
            Exemplar {
                labels,
                value,
                timestamp: Some(ts),
            },
            q,
        ))
    }

    /// A label set whose text starts at `open` (just after `{`); labels start at `p`,
    /// which is after a quoted metric name when the name is inside the braces. Returns
    /// the position after `}`.
    fn label_set(&self, open: usize, mut p: usize) -> Result<usize, LexError> {
        let (b, s) = (self.b, self.s);
        if p > open {
            // After the quoted name: `}` or `,` then labels.
            match b.get(p) {
                Some(b'}') => return Ok(p + 1),
                Some(b',') => p += 1,
                _ => return Err(lex::unexpected(b, p, "',' or '}' after the metric name")),
            }
        } else if b.get(p) == Some(&b'}') {
            return Ok(p + 1);
        }
        let mut seen = lex::DupCheck::new();
        let mut escaped_names = false;
        loop {
            let (key, after, escaped) = if b.get(p) == Some(&b'"') {
                let (close, escaped) = lex::quoted_end(b, p, Escapes::Lenient)?;
                if close == p + 1 {
                    return Err((p, ParseErrorKind::InvalidLabelName(String::new())));
                }
                (&s[p + 1..close], close + 1, escaped)
            } else {
                let end = lex::label_name_end(b, p);
                if end == p {
                    let e = (p + 1).min(b.len());
                    return Err((
                        p,
                        ParseErrorKind::InvalidLabelName(s.get(p..e).unwrap_or("").to_string()),
                    ));
                }
                (&s[p..end], end, false)
            };
            if escaped {
                escaped_names = true;
            } else if !seen.insert(key) {
                return Err((p, ParseErrorKind::DuplicateLabel(key.to_string())));
            }
            let q = expect(b, after, b'=', "'=' after the label name")?;
            if b.get(q) != Some(&b'"') {
                return Err(lex::unexpected(b, q, "'\"' opening the label value"));
            }
            let (close, _) = lex::quoted_end(b, q, Escapes::Lenient)?;
            p = close + 1;
            match b.get(p) {
                Some(b',') => p += 1,
                Some(b'}') => break,
                _ => return Err(lex::unexpected(b, p, "',' or '}' after the label value")),
            }
        }
        if escaped_names {
            // Rare: compare decoded names (`"a\\b"` and `"a\\b"` spelled differently).
            let names: Vec<Cow<'_, str>> = LabelsRef::from_validated(&s[open..p])
                .iter()
                .map(|(n, _)| n)
                .collect();
            for (i, n) in names.iter().enumerate() {
                if names[..i].contains(n) {
                    return Err((open, ParseErrorKind::DuplicateLabel(n.to_string())));
                }
            }
        }
        Ok(p + 1)
    }
}

/// End of a HELP text starting at `q`: an `escaped-string`, so no raw `"` and no
/// backslash before the line feed.
fn help_end(b: &[u8], q: usize) -> Result<usize, LexError> {
    let eol = lex::line_end(b, q);
    let mut i = q;
    while i < eol {
        match b[i] {
            b'"' => {
                return Err((
                    i,
                    ParseErrorKind::Unexpected {
                        found: "'\"'".into(),
                        expected: "'\\\"' (a double quote in HELP text must be escaped)",
                    },
                ))
            }
            b'\\' if i + 1 >= eol => {
                return Err((i + 1, ParseErrorKind::InvalidEscape('\n')));
            }
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    Ok(eol)
}

/// A unit is `*metricname-char`; it may start with a digit, which a metric name may not.
fn unit_end(b: &[u8], q: usize) -> usize {
    let mut i = q;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
        i += 1;
    }
    i
}

fn expect(b: &[u8], p: usize, c: u8, what: &'static str) -> Result<usize, LexError> {
    if b.get(p) == Some(&c) {
        Ok(p + 1)
    } else {
        Err(lex::unexpected(b, p, what))
    }
}

impl<'a> Iterator for OpenMetrics2Parser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let entry = self.next_entry();
        // After the first error, nothing more.
        self.done |= entry.is_err();
        Some(entry.map_err(|e| self.error(e)))
    }
}
