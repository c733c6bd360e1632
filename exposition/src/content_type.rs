//! Picking the parser from an HTTP `Content-Type` header, as a scraper must.

use crate::error::ParseError;
use crate::openmetrics::OpenMetricsParser;
use crate::text::TextParser;
use crate::types::Entry;

/// An exposition format this crate reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`).
    Text,
    /// OpenMetrics 1.0 text (`application/openmetrics-text`).
    OpenMetrics,
}

impl Format {
    /// The format a `Content-Type` header names, or `None` for a media type this crate does
    /// not parse (for example protobuf) or a header that is not a media type.
    ///
    /// `text/plain` (any version parameter) is text 0.0.4; `application/openmetrics-text`
    /// with version `1.0.0`, `0.0.1` or none is OpenMetrics. Matching ignores case and
    /// parameter order.
    ///
    /// ```
    /// use exposition::Format;
    /// assert_eq!(
    ///     Format::from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    ///     Some(Format::OpenMetrics)
    /// );
    /// assert_eq!(Format::from_content_type("text/plain; version=0.0.4"), Some(Format::Text));
    /// assert_eq!(Format::from_content_type("application/vnd.google.protobuf"), None);
    /// ```
    pub fn from_content_type(header: &str) -> Option<Format> {
        let mut parts = header.split(';');
        let media = parts.next()?.trim().to_ascii_lowercase();
        let version = parts.find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("version")
                .then(|| v.trim().trim_matches('"').to_string())
        });
        match media.as_str() {
            "text/plain" => Some(Format::Text),
            "application/openmetrics-text" => match version.as_deref() {
                None | Some("1.0.0" | "0.0.1") => Some(Format::OpenMetrics),
                Some(_) => None,
            },
            _ => None,
        }
    }

    /// The `Content-Type` to serve this format with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => crate::text::CONTENT_TYPE,
            Format::OpenMetrics => crate::openmetrics::CONTENT_TYPE,
        }
    }

    /// The `Accept` header a scraper sends to prefer OpenMetrics and fall back to text.
    pub const ACCEPT: &'static str =
        "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
}

/// Either pull parser behind one [`Iterator`].
pub enum Parser<'a> {
    /// Text 0.0.4.
    Text(TextParser<'a>),
    /// OpenMetrics 1.0 (strict).
    OpenMetrics(OpenMetricsParser<'a>),
}

impl<'a> Parser<'a> {
    /// A parser for `format`.
    pub fn new(format: Format, input: &'a [u8]) -> Parser<'a> {
        match format {
            Format::Text => Parser::Text(TextParser::new(input)),
            Format::OpenMetrics => Parser::OpenMetrics(OpenMetricsParser::new(input)),
        }
    }

    /// A parser for `format` with the rules Prometheus's scraper applies
    /// ([`TextParser::scrape`], [`OpenMetricsParser::lenient`]): what a Prometheus server
    /// accepts from a target, this accepts. [`Parser::new`] keeps the stricter rules of
    /// client_golang's text parser (used by the Pushgateway) and of the OpenMetrics spec.
    ///
    /// ```
    /// use exposition::{content_type::Format, Parser};
    /// // No final line feed and a repeated TYPE line: a Prometheus scrape takes it.
    /// let body = b"# TYPE a gauge\n# TYPE a gauge\na 1";
    /// assert!(Parser::new(Format::Text, body).any(|e| e.is_err()));
    /// assert!(Parser::for_scrape(Format::Text, body).all(|e| e.is_ok()));
    /// ```
    pub fn for_scrape(format: Format, input: &'a [u8]) -> Parser<'a> {
        match format {
            Format::Text => Parser::Text(TextParser::scrape(input)),
            Format::OpenMetrics => Parser::OpenMetrics(OpenMetricsParser::lenient(input)),
        }
    }

    /// The parser a scrape response calls for. A missing or unrecognised header falls back
    /// to text 0.0.4, as Prometheus 2.x does.
    ///
    /// ```
    /// use exposition::{Entry, Parser};
    /// let p = Parser::for_content_type(Some("application/openmetrics-text"), b"a 1\n# EOF\n");
    /// assert_eq!(p.filter(|e| matches!(e, Ok(Entry::Sample(_)))).count(), 1);
    /// ```
    pub fn for_content_type(header: Option<&str>, input: &'a [u8]) -> Parser<'a> {
        let format = header
            .and_then(Format::from_content_type)
            .unwrap_or(Format::Text);
        Parser::new(format, input)
    }

    /// The format being parsed.
    pub fn format(&self) -> Format {
        match self {
            Parser::Text(_) => Format::Text,
            Parser::OpenMetrics(_) => Format::OpenMetrics,
        }
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Parser::Text(p) => p.next(),
            Parser::OpenMetrics(p) => p.next(),
        }
    }
}

/// Whether a `Content-Type` names the delimited protobuf exposition
/// (`application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
/// encoding=delimited`, parameters in any order, names and media type in any case).
/// Other protobuf encodings (`text`, `compact-text`) and other messages are not it.
///
/// ```
/// use exposition::content_type::is_protobuf;
/// assert!(is_protobuf("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"));
/// assert!(is_protobuf("Application/Vnd.Google.Protobuf;encoding=delimited;proto=io.prometheus.client.MetricFamily"));
/// assert!(!is_protobuf("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=text"));
/// assert!(!is_protobuf("text/plain; version=0.0.4"));
/// ```
pub fn is_protobuf(header: &str) -> bool {
    let mut parts = header.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/vnd.google.protobuf") {
        return false;
    }
    let (mut proto, mut encoding) = (None, None);
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "proto" => proto = Some(v),
                "encoding" => encoding = Some(v),
                _ => {}
            }
        }
    }
    proto == Some("io.prometheus.client.MetricFamily") && encoding == Some("delimited")
}

/// Whether a `Content-Type` names OpenMetrics 2.0 text (`application/openmetrics-text`
/// with `version=2.0.0`; case and parameter order ignored), which
/// [`openmetrics2::OpenMetrics2Parser`](crate::openmetrics2::OpenMetrics2Parser) reads.
/// [`Format::from_content_type`] does not name it: the 1.0 parser cannot read 2.0 text.
///
/// ```
/// use exposition::content_type::is_openmetrics2;
/// assert!(is_openmetrics2("application/openmetrics-text; version=2.0.0; charset=utf-8"));
/// assert!(is_openmetrics2("Application/OpenMetrics-Text;charset=utf-8;Version=\"2.0.0\""));
/// assert!(!is_openmetrics2("application/openmetrics-text; version=1.0.0"));
/// assert!(!is_openmetrics2("application/openmetrics-text"));
/// ```
pub fn is_openmetrics2(header: &str) -> bool {
    openmetrics_version(header) == Some("2.0.0")
}

/// The media ranges of an `Accept` header, each with its `q` (default 1, unparsable 0)
/// and the media type with its other parameters.
fn media_ranges(accept: &str) -> impl Iterator<Item = (f64, String)> + '_ {
    accept.split(',').map(|range| {
        let mut q = 1.0;
        let mut rest = Vec::new();
        for p in range.split(';') {
            match p.split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("q") => {
                    q = v.trim().parse().unwrap_or(0.0);
                }
                _ => rest.push(p),
            }
        }
        (q, rest.join(";"))
    })
}

/// The `version` parameter of an `application/openmetrics-text` media type.
fn openmetrics_version(media: &str) -> Option<&str> {
    let mut parts = media.split(';');
    if !parts
        .next()?
        .trim()
        .eq_ignore_ascii_case("application/openmetrics-text")
    {
        return None;
    }
    parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("version")
            .then(|| v.trim().trim_matches('"'))
    })
}

/// The `Accept` header a scraper that reads OpenMetrics 2.0 sends: 2.0 first, then 1.0,
/// then text 0.0.4.
pub const ACCEPT_OPENMETRICS2: &str = "application/openmetrics-text;version=2.0.0;q=1,application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Whether an `Accept` header asks for OpenMetrics 2.0 above everything else a server
/// that also serves 1.0, text 0.0.4 and protobuf could answer with: the range
/// `application/openmetrics-text;version=2.0.0` with the highest `q` (ties go to the
/// earlier range). A server that says no serves what [`negotiate`] picks. As the spec
/// requires, a range without a version never selects 2.0.
///
/// ```
/// use exposition::content_type::{prefers_openmetrics2, ACCEPT_OPENMETRICS2, ACCEPT_PROTOBUF};
/// use exposition::Format;
/// assert!(prefers_openmetrics2(Some(ACCEPT_OPENMETRICS2)));
/// assert!(!prefers_openmetrics2(Some(Format::ACCEPT)));
/// assert!(!prefers_openmetrics2(Some(ACCEPT_PROTOBUF)));
/// assert!(!prefers_openmetrics2(Some("application/openmetrics-text;version=2.0.0;q=0.2,text/plain;q=0.3")));
/// assert!(!prefers_openmetrics2(None));
/// ```
pub fn prefers_openmetrics2(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let mut best: Option<(f64, bool)> = None;
    for (q, media) in media_ranges(accept) {
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, is_openmetrics2(&media)));
        }
    }
    best.is_some_and(|(_, om2)| om2)
}

/// The `Accept` header a scraper that reads protobuf sends: delimited protobuf first, then
/// OpenMetrics, then text 0.0.4 (the order Prometheus uses with native histograms on).
pub const ACCEPT_PROTOBUF: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=1,application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// What a server should answer for an `Accept` header, when it can serve all three
/// formats: the delimited protobuf format (`None`) or a text [`Format`].
///
/// Each media range's `q` counts (default 1, ties go to the earlier range); protobuf is
/// chosen only when a range names it exactly (see [`is_protobuf`], with `q` ignored).
/// `application/openmetrics-text` picks OpenMetrics; anything else, or no header, picks
/// text 0.0.4.
///
/// ```
/// use exposition::content_type::{negotiate, ACCEPT_PROTOBUF};
/// use exposition::Format;
/// assert_eq!(negotiate(Some(ACCEPT_PROTOBUF)), None);
/// assert_eq!(negotiate(Some(Format::ACCEPT)), Some(Format::OpenMetrics));
/// assert_eq!(negotiate(None), Some(Format::Text));
/// ```
pub fn negotiate(accept: Option<&str>) -> Option<Format> {
    let Some(accept) = accept else {
        return Some(Format::Text);
    };
    let mut best: Option<(f64, Option<Format>)> = None;
    for (q, media) in media_ranges(accept) {
        let choice = if is_protobuf(&media) {
            None
        } else if Format::from_content_type(&media) == Some(Format::OpenMetrics) {
            Some(Format::OpenMetrics)
        } else {
            Some(Format::Text)
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, choice));
        }
    }
    best.map_or(Some(Format::Text), |(_, c)| c)
}
