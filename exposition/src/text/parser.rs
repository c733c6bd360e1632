//! The text 0.0.4 pull parser.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::error::{ParseError, ParseErrorKind};
use crate::lex::{self, Escapes, FxBuild, LexError};
use crate::types::{Entry, LabelsRef, MetricType, Sample};

/// A pull parser for the Prometheus text format 0.0.4.
///
/// It is an [`Iterator`] of `Result<Entry, ParseError>` borrowing from the input; after the
/// first error it yields nothing more. Besides the syntax it checks what Prometheus's
/// reference parser (`expfmt`) checks: no duplicate HELP or TYPE per family, no TYPE after the
/// family's samples, known type names, parseable `quantile`/`le` labels on summaries and
/// histograms, no `__name__` or duplicate label names, only the `\\`, `\"` and `\n` escapes in
/// label values, and a line feed at the end of every sample line.
///
/// Accepted beyond the legacy grammar: the Prometheus 3.x quoted form for UTF-8 names,
/// `{"my.metric", "label.name"="v"}`.
///
/// [`TextParser::scrape`] reads the same format with the rules of Prometheus's scraper
/// instead of `expfmt`'s; the two differ on a handful of inputs (see that constructor).
///
/// ```
/// use exposition::{text::TextParser, Entry};
///
/// let mut n = 0;
/// for e in TextParser::new(b"# TYPE up gauge\nup{job=\"a\"} 1 1700000000000\n") {
///     if let Entry::Sample(s) = e.unwrap() {
///         assert_eq!(s.labels.get("job").as_deref(), Some("a"));
///         assert_eq!(s.timestamp, Some(1_700_000_000_000));
///         n += 1;
///     }
/// }
/// assert_eq!(n, 1);
/// ```
pub struct TextParser<'a> {
    input: &'a [u8],
    /// The longest valid UTF-8 prefix of `input`; all scanning happens on it.
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    done: bool,
    /// What has been seen per name: one hash lookup per metadata line or name change.
    names: HashMap<&'a str, usize, FxBuild>,
    states: Vec<NameState>,
    /// The most recently looked-up name and its state index: HELP, TYPE and the first
    /// sample of a family share a name, so most lookups are a string compare.
    cur: (&'a str, usize),
    any_type: bool,
    last_name: &'a str,
    check_quantile: bool,
    check_le: bool,
    /// Prometheus's scrape rules instead of expfmt's (see [`TextParser::scrape`]).
    scrape: bool,
    /// Where `s` starts in `input`: 0, except after a comment holding bytes that are not
    /// UTF-8 (scrape rules), past which scanning restarts on the next valid stretch.
    seg: usize,
}

impl<'a> TextParser<'a> {
    /// A parser over `input`.
    pub fn new(input: &'a [u8]) -> TextParser<'a> {
        let s = match std::str::from_utf8(input) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&input[..e.valid_up_to()]).unwrap_or(""),
        };
        // About one name per 150 bytes in real scrapes; sizing up front avoids rehashing.
        let cap = (input.len() / 150).min(1 << 16);
        TextParser {
            input,
            s,
            b: s.as_bytes(),
            pos: 0,
            done: false,
            // About one name per 150 bytes in real scrapes; sizing up front avoids rehashing.
            names: HashMap::with_capacity_and_hasher(cap, FxBuild::default()),
            states: Vec::with_capacity(cap),
            cur: ("", usize::MAX),
            any_type: false,
            last_name: "",
            check_quantile: false,
            check_le: false,
            scrape: false,
            seg: 0,
        }
    }

    /// A parser with the rules Prometheus's own scraper applies to a text 0.0.4 response
    /// (its `textparse` parser), which are looser than `expfmt`'s in [`TextParser::new`]:
    ///
    /// - the last line needs no line feed, and a NUL byte where a line starts ends the input;
    /// - HELP and TYPE may repeat and TYPE may follow the family's samples; the metadata
    ///   text is everything after the one character that follows the name, so a TYPE with
    ///   trailing blanks is an error, and a HELP or TYPE line without text is one too;
    /// - label values may use any backslash escape (only `\\`, `\"` and `\n` are decoded,
    ///   the others are kept as written) and may span lines; the comma between two pairs
    ///   may be missing;
    /// - `le` and `quantile` are not checked;
    /// - a timestamp is digits only (no sign);
    /// - a sample line may not start with blanks (Prometheus 2.x keeps them in the metric
    ///   name, which then fails validation; 3.x, with UTF-8 names allowed, would store
    ///   the name with the blanks).
    ///
    /// Duplicate label names (and `__name__` inside the braces) stay errors: Prometheus's
    /// storage refuses such a series and the scrape fails.
    ///
    /// ```
    /// use exposition::{text::TextParser, Entry};
    ///
    /// let body = b"# TYPE a gauge\n# TYPE a gauge\na{b=\"x\\ty\" c=\"d\"} 1";
    /// assert!(TextParser::new(body).any(|e| e.is_err()));
    /// let got: Vec<Entry> = TextParser::scrape(body).collect::<Result<_, _>>().unwrap();
    /// let Entry::Sample(s) = &got[2] else { panic!("{got:?}") };
    /// assert_eq!(s.labels.get("b").as_deref(), Some("x\\ty"));
    /// assert_eq!(s.labels.get("c").as_deref(), Some("d"));
    /// ```
    pub fn scrape(input: &'a [u8]) -> TextParser<'a> {
        let mut p = TextParser::new(input);
        p.scrape = true;
        p
    }

    /// Byte offset of the next unread line.
    pub fn offset(&self) -> usize {
        self.seg + self.pos
    }

    fn error(&self, (off, kind): LexError) -> ParseError {
        let kind = if off >= self.b.len() && self.seg + self.b.len() < self.input.len() {
            ParseErrorKind::InvalidUtf8
        } else {
            kind
        };
        ParseError::at(self.input, (self.seg + off).min(self.input.len()), kind)
    }

    fn next_entry(&mut self) -> Result<Option<Entry<'a>>, LexError> {
        let b = self.b;
        loop {
            let p = lex::skip_blanks(b, self.pos);
            if p >= b.len() {
                self.pos = p;
                if self.seg + b.len() < self.input.len() {
                    return Err((p, ParseErrorKind::InvalidUtf8));
                }
                return Ok(None);
            }
            match b[p] {
                b'\n' => self.pos = p + 1,
                b'\0' if self.scrape => {
                    self.pos = b.len();
                    self.done = true;
                    return Ok(None);
                }
                b'#' if self.scrape => return self.scrape_comment(p).map(Some),
                b'#' => return self.comment(p).map(Some),
                _ if self.scrape && p > self.pos => {
                    // Prometheus keeps the blanks as part of the metric name, which is
                    // then not a valid name: the scrape fails.
                    return Err((
                        self.pos,
                        ParseErrorKind::InvalidLine("a sample line may not start with blanks"),
                    ));
                }
                _ => return self.sample(p).map(Some),
            }
        }
    }

    fn comment(&mut self, hash: usize) -> Result<Entry<'a>, LexError> {
        let (b, s) = (self.b, self.s);
        let eol = lex::line_end(b, hash);
        if eol == b.len() && b.len() < self.input.len() {
            return Err((eol, ParseErrorKind::InvalidUtf8));
        }
        self.pos = (eol + 1).min(b.len());
        let comment = Entry::Comment(&s[hash + 1..eol]);
        let p = lex::skip_blanks(b, hash + 1);
        let tok_end = lex::token_end(b, p).min(eol);
        let is_help = match &b[p..tok_end] {
            b"HELP" => true,
            b"TYPE" => false,
            _ => return Ok(comment),
        };
        let p = lex::skip_blanks(b, tok_end);
        if p >= eol {
            return Ok(comment);
        }
        let (name, raw, name_end) = self.metadata_name(p)?;
        if name_end >= eol {
            // `# HELP name` with nothing after the name: expfmt ignores the line.
            return Ok(comment);
        }
        if !matches!(b[name_end], b' ' | b'\t') {
            return Err(lex::unexpected(b, name_end, "blank after the metric name"));
        }
        let p = lex::skip_blanks(b, name_end);
        if is_help {
            let st = self.state(raw);
            if std::mem::replace(&mut st.help, true) {
                return Err((
                    hash,
                    ParseErrorKind::DuplicateMetadata {
                        kind: "HELP",
                        family: name.into_owned(),
                    },
                ));
            }
            let text = &s[p.min(eol)..eol];
            let help = if text.contains('\\') {
                Cow::Owned(unescape_help(text))
            } else {
                Cow::Borrowed(text)
            };
            return Ok(Entry::Help { name, help });
        }
        let t_end = lex::token_end(b, p).min(eol);
        let ty = MetricType::from_text(&s[p..t_end])
            .ok_or_else(|| (p, ParseErrorKind::InvalidType(s[p..t_end].to_string())))?;
        let rest = lex::skip_blanks(b, t_end);
        if rest < eol {
            return Err(lex::unexpected(b, rest, "end of line after the type"));
        }
        let st = self.state(raw);
        if st.sampled {
            return Err((
                hash,
                ParseErrorKind::MetadataAfterSamples {
                    kind: "TYPE",
                    family: name.into_owned(),
                },
            ));
        }
        if st.ty.replace(ty).is_some() {
            return Err((
                hash,
                ParseErrorKind::DuplicateMetadata {
                    kind: "TYPE",
                    family: name.into_owned(),
                },
            ));
        }
        self.any_type = true;
        if raw == self.last_name {
            self.last_name = "";
        }
        Ok(Entry::Type { name, ty })
    }

    /// Returns `comment`; when its line runs into bytes that are not UTF-8 (which a plain
    /// comment may hold under the scrape rules), first moves past the line and rescans the
    /// rest of the input. The comment's text then stops at the first such byte.
    fn plain_comment(&mut self, hash: usize, truncated: bool, comment: Entry<'a>) -> Entry<'a> {
        if truncated {
            self.skip_line(hash);
        }
        comment
    }

    /// Moves past the line holding `at` (a position in the current stretch) in the whole
    /// input, and rescans from the next line: the longest UTF-8 stretch from there.
    fn skip_line(&mut self, at: usize) {
        let abs = self.seg + at;
        let next =
            memchr::memchr(b'\n', &self.input[abs..]).map_or(self.input.len(), |i| abs + i + 1);
        let rest = &self.input[next..];
        let valid = match std::str::from_utf8(rest) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or(""),
        };
        self.seg = next;
        self.s = valid;
        self.b = valid.as_bytes();
        self.pos = 0;
    }

    /// How backslash escapes in quoted strings are checked under the rules in force.
    fn escapes(&self) -> Escapes {
        if self.scrape {
            Escapes::Lenient
        } else {
            Escapes::Strict
        }
    }

    /// A `#` line under Prometheus's scrape rules: `#`, blanks, `HELP` or `TYPE`, blanks,
    /// the name, then the text after the one character that follows the name. Anything
    /// else starting with `#` is a comment. No duplicate or ordering checks.
    fn scrape_comment(&mut self, hash: usize) -> Result<Entry<'a>, LexError> {
        let (b, s) = (self.b, self.s);
        let eol = lex::line_end(b, hash);
        // The line runs into bytes that are not UTF-8: fine for a plain comment only.
        let truncated = eol == b.len() && self.seg + b.len() < self.input.len();
        self.pos = (eol + 1).min(b.len());
        let comment = Entry::Comment(&s[hash + 1..eol]);
        let p = lex::skip_blanks(b, hash + 1);
        if p == hash + 1 {
            return Ok(self.plain_comment(hash, truncated, comment));
        }
        let is_help = match b.get(p..p + 4) {
            Some(b"HELP") => true,
            Some(b"TYPE") => false,
            _ => return Ok(self.plain_comment(hash, truncated, comment)),
        };
        let q = lex::skip_blanks(b, p + 4);
        if q == p + 4 {
            return Ok(self.plain_comment(hash, truncated, comment));
        }
        if q >= eol {
            if truncated {
                return Err((eol, ParseErrorKind::InvalidUtf8));
            }
            return Err(lex::unexpected(b, q, "a metric name after HELP or TYPE"));
        }
        let (name, _, name_end) = self.metadata_name(q)?;
        if truncated {
            // Prometheus drops the one byte after the name whatever it is; the text after
            // it must be UTF-8.
            if name_end != eol {
                return Err((eol, ParseErrorKind::InvalidUtf8));
            }
            let input = self.input;
            let from = self.seg + name_end + 1;
            let to = memchr::memchr(b'\n', &input[from..]).map_or(input.len(), |i| from + i);
            let text = std::str::from_utf8(&input[from..to])
                .map_err(|_| (eol, ParseErrorKind::InvalidUtf8))?;
            self.skip_line(hash);
            if is_help {
                let help = if text.contains('\\') {
                    Cow::Owned(unescape_help(text))
                } else {
                    Cow::Borrowed(text)
                };
                return Ok(Entry::Help { name, help });
            }
            let ty = MetricType::from_text(text)
                .ok_or_else(|| (eol, ParseErrorKind::InvalidType(text.to_string())))?;
            return Ok(Entry::Type { name, ty });
        }
        let blank_text = b[name_end..eol].iter().all(|&c| c == b' ' || c == b'\t');
        if is_help && blank_text {
            // `# HELP name` with no text (or blanks only) is an empty help.
            return Ok(Entry::Help {
                name,
                help: Cow::Borrowed(""),
            });
        }
        if blank_text {
            return Err(lex::unexpected(b, eol, "a type after the metric name"));
        }
        let text_start = name_end + 1;
        let Some(text) = s.get(text_start..eol) else {
            // The character after the name is multi-byte: the text would start inside it.
            return Err((text_start, ParseErrorKind::InvalidUtf8));
        };
        if is_help {
            let help = if text.contains('\\') {
                Cow::Owned(unescape_help(text))
            } else {
                Cow::Borrowed(text)
            };
            return Ok(Entry::Help { name, help });
        }
        let ty = MetricType::from_text(text)
            .ok_or_else(|| (text_start, ParseErrorKind::InvalidType(text.to_string())))?;
        Ok(Entry::Type { name, ty })
    }

    /// The bookkeeping for `name`, created on first use.
    #[inline]
    fn state(&mut self, name: &'a str) -> &mut NameState {
        if name != self.cur.0 || self.cur.1 >= self.states.len() {
            let next = self.states.len();
            let i = *self.names.entry(name).or_insert(next);
            if i == self.states.len() {
                self.states.push(NameState::default());
            }
            self.cur = (name, i);
        }
        &mut self.states[self.cur.1]
    }

    /// A metric name in a HELP/TYPE line: legacy, or quoted UTF-8.
    fn metadata_name(&self, p: usize) -> Result<(Cow<'a, str>, &'a str, usize), LexError> {
        let (b, s) = (self.b, self.s);
        if b[p] == b'"' {
            let (q, esc) = lex::quoted_end(b, p, Escapes::Strict)?;
            let raw = &s[p + 1..q];
            if raw.is_empty() {
                return Err((p, ParseErrorKind::InvalidMetricName(String::new())));
            }
            return Ok((decode(raw, esc), raw, q + 1));
        }
        let end = lex::metric_name_end(b, p);
        if end == p {
            return Err((
                p,
                ParseErrorKind::InvalidMetricName(s[p..lex::token_end(b, p)].to_string()),
            ));
        }
        Ok((Cow::Borrowed(&s[p..end]), &s[p..end], end))
    }

    fn sample(&mut self, start: usize) -> Result<Entry<'a>, LexError> {
        let (b, s) = (self.b, self.s);
        let mut p = start;
        let name_end = lex::metric_name_end(b, p);
        let mut name: Option<(Cow<'a, str>, &'a str)> = None;
        if name_end > p {
            name = Some((Cow::Borrowed(&s[p..name_end]), &s[p..name_end]));
            p = name_end;
        } else if b[p] != b'{' {
            return Err((
                p,
                ParseErrorKind::InvalidMetricName(s[p..lex::token_end(b, p)].to_string()),
            ));
        }
        p = lex::skip_blanks(b, p);
        let mut labels = LabelsRef::default();
        let mut series = &s[start..name_end];
        if p < b.len() && b[p] == b'{' {
            let (end, quoted) = self.labels(p + 1, name.is_none())?;
            labels = LabelsRef::from_validated(&s[p + 1..end - 1]);
            series = &s[start..end];
            if let Some(q) = quoted {
                name = Some(q);
            }
            p = lex::skip_blanks(b, end);
        } else if p == name_end {
            return Err(lex::unexpected(
                b,
                p,
                "'{' or a blank after the metric name",
            ));
        }
        let Some((name, raw_name)) = name else {
            return Err((start, ParseErrorKind::InvalidMetricName(String::new())));
        };
        let v_end = lex::token_end(b, p);
        if v_end == p {
            return Err(lex::unexpected(b, p, "a sample value"));
        }
        let value = lex::parse_value(&s[p..v_end])
            .ok_or_else(|| (p, ParseErrorKind::InvalidValue(s[p..v_end].to_string())))?;
        p = lex::skip_blanks(b, v_end);
        let mut timestamp = None;
        if p < b.len() && b[p] != b'\n' {
            let t_end = lex::token_end(b, p);
            let tok = &s[p..t_end];
            let bad = || (p, ParseErrorKind::InvalidTimestamp(tok.to_string()));
            if self.scrape && !tok.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            timestamp = Some(tok.parse::<i64>().map_err(|_| bad())?);
            p = lex::skip_blanks(b, t_end);
        }
        if p >= b.len() && !(self.scrape && self.seg + b.len() == self.input.len()) {
            return Err((
                p,
                ParseErrorKind::UnexpectedEof("a sample line must end with a line feed"),
            ));
        }
        if p < b.len() && b[p] != b'\n' {
            return Err(lex::unexpected(b, p, "end of line after the sample"));
        }
        self.pos = (p + 1).min(b.len());

        if self.scrape {
            return Ok(Entry::Sample(Sample {
                name,
                series,
                labels,
                value,
                timestamp,
                exemplar: None,
            }));
        }
        if raw_name != self.last_name {
            self.last_name = raw_name;
            let st = self.state(raw_name);
            let ty = st.ty;
            // A later `# TYPE` for a name that already has one fails as a duplicate, so
            // only untyped names need marking for the "TYPE after samples" rule.
            st.sampled |= ty.is_none();
            self.check_quantile = ty == Some(MetricType::Summary);
            self.check_le = self.any_type
                && raw_name.strip_suffix("_bucket").is_some_and(|base| {
                    self.names
                        .get(base)
                        .and_then(|&i| self.states.get(i))
                        .and_then(|st| st.ty)
                        == Some(MetricType::Histogram)
                });
        }
        if self.check_quantile {
            if let Some(q) = labels.get("quantile") {
                if lex::parse_value(&q).is_none() {
                    return Err(type_label_error(start, "quantile", &name, "not a number"));
                }
            }
        }
        if self.check_le {
            match labels.get("le") {
                Some(le) if lex::parse_value(&le).is_some() => {}
                Some(_) => return Err(type_label_error(start, "le", &name, "not a number")),
                None => return Err(type_label_error(start, "le", &name, "missing")),
            }
        }
        Ok(Entry::Sample(Sample {
            name,
            series,
            labels,
            value,
            timestamp,
            exemplar: None,
        }))
    }

    /// Scans a label set after its `{`; returns the position after `}` and a quoted metric
    /// name if one was found inside the braces.
    #[allow(clippy::type_complexity)]
    fn labels(
        &self,
        mut p: usize,
        name_allowed: bool,
    ) -> Result<(usize, Option<(Cow<'a, str>, &'a str)>), LexError> {
        let (b, s) = (self.b, self.s);
        let mut seen = lex::DupCheck::new();
        let mut quoted_name = None;
        let mut first = true;
        loop {
            p = lex::skip_blanks(b, p);
            if p >= b.len() {
                return Err((
                    p,
                    ParseErrorKind::UnexpectedEof("'}' closing the label set"),
                ));
            }
            if b[p] == b'}' {
                return Ok((p + 1, quoted_name));
            }
            let (lname, quoted, after) = if b[p] == b'"' {
                let (q, _) = lex::quoted_end(b, p, self.escapes())?;
                (&s[p + 1..q], true, q + 1)
            } else {
                let end = lex::label_name_end(b, p);
                if end == p {
                    return Err((
                        p,
                        ParseErrorKind::InvalidLabelName(
                            s[p..lex::token_end(b, p).max(p + 1).min(b.len())]
                                .chars()
                                .take(1)
                                .collect(),
                        ),
                    ));
                }
                (&s[p..end], false, end)
            };
            let was_first = first;
            first = false;
            p = lex::skip_blanks(b, after);
            if quoted && p < b.len() && (b[p] == b',' || b[p] == b'}') {
                if !(was_first && name_allowed) {
                    return Err(lex::unexpected(b, p, "'=' after the label name"));
                }
                if lname.is_empty() {
                    return Err((after - 2, ParseErrorKind::InvalidMetricName(String::new())));
                }
                let esc = lname.contains('\\');
                quoted_name = Some((decode(lname, esc), lname));
                if b[p] == b',' {
                    p += 1;
                }
                continue;
            }
            if lname.is_empty() || lname == "__name__" {
                return Err((
                    after - lname.len() - usize::from(quoted) * 2,
                    ParseErrorKind::InvalidLabelName(lname.to_string()),
                ));
            }
            if p >= b.len() || b[p] != b'=' {
                return Err(lex::unexpected(b, p, "'=' after the label name"));
            }
            p = lex::skip_blanks(b, p + 1);
            if p >= b.len() || b[p] != b'"' {
                return Err(lex::unexpected(b, p, "'\"' opening the label value"));
            }
            let q = if self.scrape {
                lex::quoted_end_multiline(b, p)?
            } else {
                lex::quoted_end(b, p, Escapes::Strict)?.0
            };
            // Duplicate names.
            if !seen.insert(lname) {
                return Err((p, ParseErrorKind::DuplicateLabel(lname.to_string())));
            }
            p = lex::skip_blanks(b, q + 1);
            if p < b.len() && b[p] == b',' {
                p += 1;
            } else if self.scrape && p < b.len() && b[p] != b'=' {
                // Prometheus's scraper reads the next pair (or the `}`) without a comma.
            } else if p >= b.len() || b[p] != b'}' {
                return Err(lex::unexpected(b, p, "',' or '}' after the label value"));
            }
        }
    }
}

/// Per-name bookkeeping for the duplicate and ordering rules.
#[derive(Default, Clone, Copy)]
struct NameState {
    help: bool,
    ty: Option<MetricType>,
    sampled: bool,
}

fn type_label_error(at: usize, label: &str, metric: &str, reason: &'static str) -> LexError {
    (
        at,
        ParseErrorKind::InvalidTypeLabel {
            label: label.to_string(),
            metric: metric.to_string(),
            reason,
        },
    )
}

fn decode(raw: &str, escaped: bool) -> Cow<'_, str> {
    if escaped {
        Cow::Owned(crate::types::unescape(raw))
    } else {
        Cow::Borrowed(raw)
    }
}

/// HELP text in 0.0.4 knows `\\` and `\n`; any other backslash is kept as written.
fn unescape_help(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut it = raw.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.peek() {
                Some('\\') => {
                    out.push('\\');
                    it.next();
                }
                Some('n') => {
                    out.push('\n');
                    it.next();
                }
                _ => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl<'a> Iterator for TextParser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
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

    fn parse(s: &str) -> Result<Vec<Entry<'_>>, ParseError> {
        TextParser::new(s.as_bytes()).collect()
    }

    type Row = (String, Vec<(String, String)>, f64, Option<i64>);

    fn samples(s: &str) -> Vec<Row> {
        parse(s)
            .unwrap()
            .into_iter()
            .filter_map(|e| match e {
                Entry::Sample(s) => Some((
                    s.name.to_string(),
                    s.labels
                        .iter()
                        .map(|(a, b)| (a.into_owned(), b.into_owned()))
                        .collect(),
                    s.value,
                    s.timestamp,
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn basic_lines() {
        let got = samples(
            "# HELP a help\n# TYPE a counter\na{b=\"c\",d=\"e\\\"f\"} 1.5 123\n  b 2\nc{} -Inf\n",
        );
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, "a");
        assert_eq!(
            got[0].1,
            vec![("b".into(), "c".into()), ("d".into(), "e\"f".into())]
        );
        assert_eq!(got[0].2, 1.5);
        assert_eq!(got[0].3, Some(123));
        let e = parse("a{b=\"c\"} 1\n").unwrap();
        let Entry::Sample(s) = &e[0] else {
            panic!("{e:?}")
        };
        assert_eq!(s.series, "a{b=\"c\"}");
        assert_eq!(got[2].2, f64::NEG_INFINITY);
    }

    #[test]
    fn lenient_whitespace_like_expfmt() {
        let got = samples("name2{ labelname = \"val1\" , }-Inf\nname {a=\"b\"}\t0.23\t12 \n");
        assert_eq!(got[0].1, vec![("labelname".into(), "val1".into())]);
        assert_eq!(got[1].3, Some(12));
    }

    #[test]
    fn help_and_type_entries() {
        let e = parse("# HELP x a\\nb\\\\c\\d\n# TYPE x gauge\n# other\n").unwrap();
        assert_eq!(
            e[0],
            Entry::Help {
                name: "x".into(),
                help: "a\nb\\c\\d".into()
            }
        );
        assert_eq!(
            e[1],
            Entry::Type {
                name: "x".into(),
                ty: MetricType::Gauge
            }
        );
        assert_eq!(e[2], Entry::Comment(" other"));
    }

    #[test]
    fn quoted_utf8_names() {
        let got = samples("{\"my.metric\", \"a.b\"=\"c\"} 1\n");
        assert_eq!(got[0].0, "my.metric");
        assert_eq!(got[0].1, vec![("a.b".into(), "c".into())]);
        let e = parse("# TYPE \"my.metric\" gauge\n").unwrap();
        assert_eq!(
            e[0],
            Entry::Type {
                name: "my.metric".into(),
                ty: MetricType::Gauge
            }
        );
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("a 1\nb{c=\"d\"} x\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 10));
        assert!(matches!(e.kind, ParseErrorKind::InvalidValue(_)));
        assert_eq!(e.to_string(), "2:10: invalid sample value \"x\"");
    }

    #[test]
    fn rejects() {
        for bad in [
            "a 1",
            "a{b=\"\\t\"} 1\n",
            "a{b=\"x\ny\"} 1\n",
            "a{@=\"x\"} 1\n",
            "a{__name__=\"x\"} 1\n",
            "a{b+=\"x\"} 1\n",
            "a{b=x} 1\n",
            "a{b=\"x\"+} 1\n",
            "a 1 2.5\n",
            "a 1 2 3\n",
            "a blubb\n",
            "# HELP a x\n# HELP a y\n",
            "# TYPE a counter\n# TYPE a gauge\n",
            "a 1\n# TYPE a counter\n",
            "# TYPE a bla\n",
            "# TYPE met-ric gauge\n",
            "@a 1\n",
            "{b=\"c\"} 1\n",
            "# TYPE a summary\na{quantile=\"x\"} 1\n",
            "# TYPE a histogram\na_bucket{le=\"x\"} 1\n",
            "# TYPE a histogram\na_bucket 1\n",
            "a{b=\"1\",b=\"2\"} 1\n",
            "a 0x1\n",
            "a 1_2\n",
            "a1\n",
            "a{b=\"c\",,d=\"e\"} 1\n",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    fn scrape(input: &[u8]) -> Result<Vec<(String, f64, Option<i64>)>, ParseError> {
        let mut out = Vec::new();
        for e in TextParser::scrape(input) {
            if let Entry::Sample(s) = e? {
                out.push((s.name.to_string(), s.value, s.timestamp));
            }
        }
        Ok(out)
    }

    #[test]
    fn scrape_rules_accept_what_prometheus_accepts() {
        for good in [
            &b"a 1"[..],
            b"# TYPE a gauge\n# TYPE a gauge\na 1\n# TYPE a counter\n",
            b"# HELP a x\n# HELP a y\n# HELP b\n# HELP c \t\n",
            b"a{b=\"x\\ty\" c=\"d\",} 1\n",
            b"a{b=\"two\nlines\"} 1\n",
            b"# TYPE h histogram\nh_bucket 1\nh_bucket{le=\"x\"} 1\n",
            b"# comment \xff\n#\xff\na 1\n",
            b"# HELP a\xffb c\na 1\n",
            b"a 1\n\0junk\n",
            b"# HELP a-b text\n",
        ] {
            let r = scrape(good);
            assert!(
                r.is_ok(),
                "rejected {:?}: {r:?}",
                String::from_utf8_lossy(good)
            );
        }
        assert_eq!(scrape(b"a 1\n\0b 2\n").unwrap().len(), 1);
        assert_eq!(
            scrape(b"# c \xff\nb 2 17").unwrap(),
            vec![("b".to_string(), 2.0, Some(17))]
        );
    }

    #[test]
    fn scrape_rules_reject_what_prometheus_rejects() {
        for bad in [
            &b"a 1 -5\n"[..],
            b"a 1 +5\n",
            b" a 1\n",
            b"a +nan\n",
            b"a 1e400\n",
            b"# TYPE a counter \n",
            b"# TYPE a \n",
            b"# HELP a \xff\n",
            b"a{b=\"\\\n\"} 1\n",
            b"a{b=\"1\",b=\"2\"} 1\n",
            b"a{__name__=\"x\"} 1\n",
            b"a{b=\"\xff\"} 1\n",
            b"a{,b=\"c\"} 1\n",
        ] {
            let r = scrape(bad);
            assert!(
                r.is_err(),
                "accepted {:?}: {r:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let e = scrape(b"# ok\n# c \xff\na{b=\"\xfe\"} 1\n").unwrap_err();
        assert_eq!((e.line, e.kind), (3, ParseErrorKind::InvalidUtf8));
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let e: Result<Vec<_>, _> = TextParser::new(b"a 1\nb{c=\"\xff\"} 1\n").collect();
        let e = e.unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::InvalidUtf8);
        assert_eq!(e.line, 2);
    }
}
