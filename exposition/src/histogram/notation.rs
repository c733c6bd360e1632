//! The `{{schema:0 count:4 sum:6 buckets:[1 2]}}` notation of PromQL test scripts: parsing
//! one histogram and printing it back the way Prometheus's `TestExpression()` does.
//!
//! Keys: `schema`, `count`, `sum`, `z_bucket`, `z_bucket_w`, `custom_values:[..]`,
//! `offset`, `buckets:[..]`, `n_offset`, `n_buckets:[..]`, `counter_reset_hint`
//! (`unknown`, `reset`, `not_reset`, `gauge`). Bucket lists hold absolute counts and each
//! list becomes one span starting at its offset; zero counts inside the list are kept.
//! The series-expansion syntax around a histogram (`{{..}}+{{..}}x4`) belongs to the
//! test-script loader, not here.

use std::fmt;

use super::error::{HistogramNotationError, NotationErrorKind};
use super::{CounterResetHint, FloatHistogram, Span};

impl FloatHistogram {
    /// Parses one `{{...}}` histogram (surrounding whitespace is allowed).
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let h = FloatHistogram::parse_notation("{{schema:0 count:4 sum:6 offset:1 buckets:[1 2] n_buckets:[1]}}").unwrap();
    /// assert_eq!(h.count, 4.0);
    /// assert_eq!(h.positive_spans[0].offset, 1);
    /// assert_eq!(h.negative_buckets, vec![1.0]);
    /// assert_eq!(h.to_string(), "{{count:4 sum:6 offset:1 buckets:[1 2] n_buckets:[1]}}");
    /// ```
    pub fn parse_notation(text: &str) -> Result<FloatHistogram, HistogramNotationError> {
        Parser {
            s: text.as_bytes(),
            text,
            pos: 0,
        }
        .parse()
    }

    /// The notation Prometheus's `TestExpression()` prints: the histogram compacted to
    /// one span per side, fields that are zero omitted, floats in Go's `%g` form.
    /// (Buckets more than 65,536 indices apart cannot be joined into one span; such a
    /// side is printed with its first offset and all its buckets, where Prometheus would
    /// panic.)
    ///
    /// ```
    /// use exposition::histogram::{FloatHistogram, Span};
    /// let h = FloatHistogram {
    ///     count: 3.0, sum: 1e6,
    ///     positive_spans: vec![Span::new(-1, 2), Span::new(1, 1)],
    ///     positive_buckets: vec![0.0, 1.0, 2.0],
    ///     ..FloatHistogram::default()
    /// };
    /// assert_eq!(h.fmt_notation(), "{{count:3 sum:1e+06 buckets:[1 0 2]}}");
    /// ```
    pub fn fmt_notation(&self) -> String {
        let mut m = self.clone();
        m.compact(usize::MAX);
        let mut parts: Vec<String> = Vec::new();
        if m.schema != 0 {
            parts.push(format!("schema:{}", m.schema));
        }
        if m.count != 0.0 {
            parts.push(format!("count:{}", go_fmt_g(m.count)));
        }
        if m.sum != 0.0 {
            parts.push(format!("sum:{}", go_fmt_g(m.sum)));
        }
        if m.zero_count != 0.0 {
            parts.push(format!("z_bucket:{}", go_fmt_g(m.zero_count)));
        }
        if m.zero_threshold != 0.0 {
            parts.push(format!("z_bucket_w:{}", go_fmt_g(m.zero_threshold)));
        }
        if m.uses_custom_buckets() {
            parts.push(format!("custom_values:[{}]", fmt_list(&m.custom_values)));
        }
        match m.counter_reset_hint {
            CounterResetHint::Unknown => {}
            CounterResetHint::CounterReset => parts.push("counter_reset_hint:reset".into()),
            CounterResetHint::NotCounterReset => parts.push("counter_reset_hint:not_reset".into()),
            CounterResetHint::Gauge => parts.push("counter_reset_hint:gauge".into()),
        }
        for (spans, buckets, offset_key, buckets_key) in [
            (&m.positive_spans, &m.positive_buckets, "offset", "buckets"),
            (
                &m.negative_spans,
                &m.negative_buckets,
                "n_offset",
                "n_buckets",
            ),
        ] {
            if let Some(first) = spans.first() {
                if first.offset != 0 {
                    parts.push(format!("{offset_key}:{}", first.offset));
                }
            }
            if !buckets.is_empty() {
                parts.push(format!("{buckets_key}:[{}]", fmt_list(buckets)));
            }
        }
        format!("{{{{{}}}}}", parts.join(" "))
    }
}

impl fmt::Display for FloatHistogram {
    /// Prints [`FloatHistogram::fmt_notation`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fmt_notation())
    }
}

fn fmt_list(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| go_fmt_g(*v))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Formats a float as Go's `fmt.Sprintf("%g", v)` does: the shortest representation that
/// round-trips, in exponent form (`1e+06`, `1.5e-05`) when the decimal exponent is below
/// -4 or at least 6, `+Inf`/`-Inf`/`NaN` for the specials.
///
/// ```
/// use exposition::histogram::go_fmt_g;
/// assert_eq!(go_fmt_g(123456.0), "123456");
/// assert_eq!(go_fmt_g(1234567.0), "1.234567e+06");
/// assert_eq!(go_fmt_g(0.0001), "0.0001");
/// assert_eq!(go_fmt_g(0.00001), "1e-05");
/// assert_eq!(go_fmt_g(f64::INFINITY), "+Inf");
/// ```
pub fn go_fmt_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-tripping digits: "d.ddde<exp>".
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::new();
    if v < 0.0 {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(&digits);
    }
    out
}

/// Parses a number as PromQL test scripts write them: decimal or exponent notation with
/// an optional sign, `Inf`/`+Inf`/`-Inf`/`NaN` (any case), or a hexadecimal integer.
pub(crate) fn parse_go_number(text: &str) -> Option<f64> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let value = if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        f64::INFINITY
    } else if body.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()? as f64
    } else {
        // Only digits, '.', exponent: reject what Rust would accept but Go would not.
        if !body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        if !body.as_bytes()[0].is_ascii_digit() && body.as_bytes()[0] != b'.' {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -value } else { value })
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

#[derive(Default)]
struct Seen {
    keys: Vec<&'static str>,
}

const KEYS: [&str; 11] = [
    "schema",
    "count",
    "sum",
    "z_bucket",
    "z_bucket_w",
    "custom_values",
    "offset",
    "buckets",
    "n_offset",
    "n_buckets",
    "counter_reset_hint",
];

impl<'a> Parser<'a> {
    fn err(&self, kind: NotationErrorKind, offset: usize) -> HistogramNotationError {
        HistogramNotationError { kind, offset }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// A token: everything up to whitespace, ':', '[', ']', '{' or '}'.
    fn word(&mut self) -> (usize, &'a str) {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_whitespace() || matches!(b, b':' | b'[' | b']' | b'{' | b'}') {
                break;
            }
            self.pos += 1;
        }
        // Boundaries are ASCII bytes, so these are char boundaries.
        (start, &self.text[start..self.pos])
    }

    fn parse(mut self) -> Result<FloatHistogram, HistogramNotationError> {
        self.skip_ws();
        if !self.s[self.pos..].starts_with(b"{{") {
            return Err(self.err(NotationErrorKind::MissingOpen, self.pos));
        }
        self.pos += 2;
        let mut h = FloatHistogram::default();
        let mut seen = Seen::default();
        let (mut pos_offset, mut neg_offset) = (0i32, 0i32);
        let (mut pos_buckets, mut neg_buckets): (Option<Vec<f64>>, Option<Vec<f64>>) = (None, None);
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(self.err(NotationErrorKind::MissingClose, self.pos)),
                Some(b'}') => {
                    if self.s[self.pos..].starts_with(b"}}") {
                        self.pos += 2;
                        break;
                    }
                    return Err(self.err(NotationErrorKind::MissingClose, self.pos));
                }
                Some(_) => {}
            }
            let (key_at, key) = self.word();
            if key.is_empty() {
                return Err(self.err(NotationErrorKind::ExpectedKey, key_at));
            }
            let Some(&key) = KEYS.iter().find(|k| **k == key) else {
                return Err(self.err(NotationErrorKind::UnknownKey(key.to_string()), key_at));
            };
            if seen.keys.contains(&key) {
                return Err(self.err(NotationErrorKind::DuplicateKey(key.to_string()), key_at));
            }
            seen.keys.push(key);
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err(NotationErrorKind::MissingColon(key.to_string()), self.pos));
            }
            self.pos += 1;
            self.skip_ws();
            match key {
                "custom_values" | "buckets" | "n_buckets" => {
                    let list = self.list(key)?;
                    match key {
                        "custom_values" => h.custom_values = list,
                        "buckets" => pos_buckets = Some(list),
                        _ => neg_buckets = Some(list),
                    }
                }
                _ => {
                    if self.peek() == Some(b'[') {
                        return Err(
                            self.err(NotationErrorKind::UnexpectedList(key.to_string()), self.pos)
                        );
                    }
                    let (at, value) = self.word();
                    if value.is_empty() {
                        return Err(self.err(NotationErrorKind::MissingValue(key.to_string()), at));
                    }
                    match key {
                        "schema" => h.schema = self.int(key, at, value)?,
                        "offset" => pos_offset = self.int(key, at, value)?,
                        "n_offset" => neg_offset = self.int(key, at, value)?,
                        "counter_reset_hint" => {
                            h.counter_reset_hint = match value {
                                "unknown" => CounterResetHint::Unknown,
                                "reset" => CounterResetHint::CounterReset,
                                "not_reset" => CounterResetHint::NotCounterReset,
                                "gauge" => CounterResetHint::Gauge,
                                _ => {
                                    return Err(self.err(
                                        NotationErrorKind::InvalidHint(value.to_string()),
                                        at,
                                    ))
                                }
                            }
                        }
                        _ => {
                            let v = self.float(key, at, value)?;
                            match key {
                                "count" => h.count = v,
                                "sum" => h.sum = v,
                                "z_bucket" => h.zero_count = v,
                                _ => h.zero_threshold = v,
                            }
                        }
                    }
                }
            }
        }
        self.skip_ws();
        if self.pos < self.s.len() {
            return Err(self.err(NotationErrorKind::TrailingInput, self.pos));
        }
        if let Some(b) = pos_buckets.filter(|b| !b.is_empty()) {
            h.positive_spans = vec![Span::new(pos_offset, b.len() as u32)];
            h.positive_buckets = b;
        }
        if let Some(b) = neg_buckets.filter(|b| !b.is_empty()) {
            h.negative_spans = vec![Span::new(neg_offset, b.len() as u32)];
            h.negative_buckets = b;
        }
        Ok(h)
    }

    fn list(&mut self, key: &str) -> Result<Vec<f64>, HistogramNotationError> {
        if self.peek() != Some(b'[') {
            return Err(self.err(NotationErrorKind::ExpectedList(key.to_string()), self.pos));
        }
        let open = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return Ok(out);
                }
                None | Some(b'{' | b'}' | b'[' | b':') => {
                    return Err(self.err(NotationErrorKind::UnterminatedList(key.to_string()), open))
                }
                Some(_) => {
                    let (at, value) = self.word();
                    out.push(self.float(key, at, value)?);
                }
            }
        }
    }

    fn float(&self, key: &str, at: usize, text: &str) -> Result<f64, HistogramNotationError> {
        parse_go_number(text).ok_or_else(|| {
            self.err(
                NotationErrorKind::InvalidNumber {
                    key: key.to_string(),
                    text: text.to_string(),
                },
                at,
            )
        })
    }

    fn int(&self, key: &str, at: usize, text: &str) -> Result<i32, HistogramNotationError> {
        let (neg, digits) = match text.as_bytes()[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let parsed = if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            digits
                .parse::<i64>()
                .ok()
                .map(|v| if neg { -v } else { v })
                .and_then(|v| i32::try_from(v).ok())
        };
        parsed.ok_or_else(|| {
            self.err(
                NotationErrorKind::InvalidInteger {
                    key: key.to_string(),
                    text: text.to_string(),
                },
                at,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_g_formats() {
        for (v, want) in [
            (1.0, "1"),
            (-2.5, "-2.5"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1e21, "1e+21"),
            (1.5e-5, "1.5e-05"),
            (0.001, "0.001"),
            (3.56528e50, "3.56528e+50"),
            (2.2580178264e220, "2.2580178264e+220"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-0.0, "-0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Inf"),
            (1e-300, "1e-300"),
        ] {
            assert_eq!(go_fmt_g(v), want, "{v}");
        }
    }

    #[test]
    fn parses_every_key() {
        let h = FloatHistogram::parse_notation(
            " {{schema:-53 count:4 sum:6 z_bucket:0 z_bucket_w:0 offset:1 buckets:[1 2 1 ] \
             counter_reset_hint:gauge custom_values:[1 2 3]}} ",
        )
        .unwrap();
        assert_eq!(h.schema, -53);
        assert_eq!(h.custom_values, vec![1.0, 2.0, 3.0]);
        assert_eq!(h.positive_spans, vec![Span::new(1, 3)]);
        assert_eq!(h.positive_buckets, vec![1.0, 2.0, 1.0]);
        assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
        assert_eq!(
            h.to_string(),
            "{{schema:-53 count:4 sum:6 custom_values:[1 2 3] counter_reset_hint:gauge offset:1 buckets:[1 2 1]}}"
        );
        let e = FloatHistogram::parse_notation("{{}}").unwrap();
        assert_eq!(e, FloatHistogram::default());
        assert_eq!(e.to_string(), "{{}}");
        let s = FloatHistogram::parse_notation("{{count:Inf sum:-Inf z_bucket:NaN}}").unwrap();
        assert!(s.count.is_infinite() && s.sum < 0.0 && s.zero_count.is_nan());
        assert_eq!(s.to_string(), "{{count:+Inf sum:-Inf z_bucket:NaN}}");
    }

    #[test]
    fn printing_compacts_to_one_span() {
        let h =
            FloatHistogram::parse_notation("{{buckets:[0 0 1 0 2 0] n_offset:2 n_buckets:[0]}}")
                .unwrap();
        assert_eq!(h.to_string(), "{{offset:2 buckets:[1 0 2]}}");
    }

    #[test]
    fn errors_carry_offsets() {
        let cases = [
            ("schema:1}}", 0, "MissingOpen"),
            ("{{schema:1", 10, "MissingClose"),
            ("{{foo:1}}", 2, "UnknownKey"),
            ("{{sum:1 sum:2}}", 8, "DuplicateKey"),
            ("{{sum 1}}", 6, "MissingColon"),
            ("{{sum:abc}}", 6, "InvalidNumber"),
            ("{{schema:1.5}}", 9, "InvalidInteger"),
            ("{{offset:99999999999}}", 9, "InvalidInteger"),
            ("{{buckets:1}}", 10, "ExpectedList"),
            ("{{buckets:[1 2}}", 10, "UnterminatedList"),
            ("{{sum:[1]}}", 6, "UnexpectedList"),
            ("{{counter_reset_hint:maybe}}", 21, "InvalidHint"),
            ("{{sum:}}", 6, "MissingValue"),
            ("{{sum:1}} x", 10, "TrailingInput"),
            ("{{sum:1}x", 7, "MissingClose"),
            ("{{[1]}}", 2, "ExpectedKey"),
        ];
        for (text, offset, kind) in cases {
            let e = FloatHistogram::parse_notation(text).unwrap_err();
            assert_eq!(e.offset, offset, "{text}: {e}");
            assert!(format!("{:?}", e.kind).starts_with(kind), "{text}: {e:?}");
        }
    }
}
