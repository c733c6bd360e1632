//! Byte-level scanning shared by both parsers: character classes, quoted strings, numbers.
//!
//! Every function takes the input bytes and a position and returns the position after what
//! it read, or a `(position, ParseErrorKind)` the parser turns into a [`ParseError`]
//! (line and column are only computed on the error path).
//!
//! [`ParseError`]: crate::error::ParseError

use std::hash::{BuildHasherDefault, Hasher};

use crate::error::ParseErrorKind;

/// An error before line/column are known: byte offset and kind.
pub(crate) type LexError = (usize, ParseErrorKind);

const NAME_START: u8 = 1;
const NAME_CONT: u8 = 2;
const LABEL_START: u8 = 4;
const LABEL_CONT: u8 = 8;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let alpha = b.is_ascii_alphabetic() || b == b'_';
        let digit = b.is_ascii_digit();
        let mut v = 0;
        if alpha || b == b':' {
            v |= NAME_START | NAME_CONT;
        }
        if digit {
            v |= NAME_CONT | LABEL_CONT;
        }
        if alpha {
            v |= LABEL_START | LABEL_CONT;
        }
        t[c] = v;
        c += 1;
    }
    t
};

/// End of a legacy metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) starting at `p` (`p` if none).
#[inline]
pub(crate) fn metric_name_end(b: &[u8], p: usize) -> usize {
    if p >= b.len() || CLASS[b[p] as usize] & NAME_START == 0 {
        return p;
    }
    let mut i = p + 1;
    while i < b.len() && CLASS[b[i] as usize] & NAME_CONT != 0 {
        i += 1;
    }
    i
}

/// End of a legacy label name (`[a-zA-Z_][a-zA-Z0-9_]*`) starting at `p` (`p` if none).
#[inline]
pub(crate) fn label_name_end(b: &[u8], p: usize) -> usize {
    if p >= b.len() || CLASS[b[p] as usize] & LABEL_START == 0 {
        return p;
    }
    let mut i = p + 1;
    while i < b.len() && CLASS[b[i] as usize] & LABEL_CONT != 0 {
        i += 1;
    }
    i
}

/// Skips spaces and tabs.
#[inline]
pub(crate) fn skip_blanks(b: &[u8], mut p: usize) -> usize {
    while p < b.len() && (b[p] == b' ' || b[p] == b'\t') {
        p += 1;
    }
    p
}

/// End of a token: the first space, tab or line feed at or after `p`.
#[inline]
pub(crate) fn token_end(b: &[u8], mut p: usize) -> usize {
    while p < b.len() && !matches!(b[p], b' ' | b'\t' | b'\n') {
        p += 1;
    }
    p
}

/// Position of the next line feed at or after `p`, or `b.len()`.
#[inline]
pub(crate) fn line_end(b: &[u8], p: usize) -> usize {
    memchr::memchr(b'\n', &b[p..]).map_or(b.len(), |i| p + i)
}

/// How backslash escapes inside quoted strings are checked.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escapes {
    /// Only `\\`, `\"` and `\n` are accepted (text 0.0.4, as Prometheus's expfmt does).
    Strict,
    /// Any escaped character is accepted; unknown ones are kept as written (OpenMetrics, as
    /// the reference parser does).
    Lenient,
}

/// Scans a quoted string whose opening `"` is at `p`. Returns the position of the closing
/// quote and whether the content has escapes.
#[inline]
pub(crate) fn quoted_end(b: &[u8], p: usize, esc: Escapes) -> Result<(usize, bool), LexError> {
    let mut i = p + 1;
    let mut escaped = false;
    loop {
        match memchr::memchr3(b'"', b'\\', b'\n', &b[i..]) {
            None => {
                return Err((
                    b.len(),
                    ParseErrorKind::UnexpectedEof("unterminated quoted string"),
                ))
            }
            Some(off) => {
                i += off;
                match b[i] {
                    b'"' => return Ok((i, escaped)),
                    b'\n' => {
                        return Err((
                            i,
                            ParseErrorKind::Unexpected {
                                found: "line feed".into(),
                                expected: "closing '\"' (a raw line feed is not allowed)",
                            },
                        ))
                    }
                    _ => {
                        escaped = true;
                        match b.get(i + 1) {
                            None => {
                                return Err((
                                    b.len(),
                                    ParseErrorKind::UnexpectedEof("unterminated quoted string"),
                                ))
                            }
                            Some(b'\\' | b'"' | b'n') => {}
                            Some(b'\n') => {
                                return Err((i + 1, ParseErrorKind::InvalidEscape('\n')));
                            }
                            Some(&c) => {
                                if esc == Escapes::Strict {
                                    return Err((i, ParseErrorKind::InvalidEscape(c as char)));
                                }
                            }
                        }
                        i += 2;
                    }
                }
            }
        }
    }
}

/// Scans a label value whose opening `"` is at `p` under Prometheus's scrape rules: any
/// backslash escape (except one before a line feed) and raw line feeds are allowed. Returns
/// the position of the closing quote.
pub(crate) fn quoted_end_multiline(b: &[u8], p: usize) -> Result<usize, LexError> {
    let mut i = p + 1;
    loop {
        match memchr::memchr2(b'"', b'\\', &b[i.min(b.len())..]) {
            None => {
                return Err((
                    b.len(),
                    ParseErrorKind::UnexpectedEof("unterminated quoted string"),
                ))
            }
            Some(off) => {
                i += off;
                if b[i] == b'"' {
                    return Ok(i);
                }
                match b.get(i + 1) {
                    None => {
                        return Err((
                            b.len(),
                            ParseErrorKind::UnexpectedEof("unterminated quoted string"),
                        ))
                    }
                    Some(b'\n') => return Err((i + 1, ParseErrorKind::InvalidEscape('\n'))),
                    Some(_) => i += 2,
                }
            }
        }
    }
}

/// A printable description of the byte at `p` for error messages.
pub(crate) fn describe(b: &[u8], p: usize) -> String {
    match b.get(p) {
        None => "end of input".into(),
        Some(b'\n') => "line feed".into(),
        Some(b'\t') => "tab".into(),
        Some(b' ') => "space".into(),
        Some(&c) if c.is_ascii_graphic() => format!("'{}'", c as char),
        Some(&c) => format!("byte 0x{c:02x}"),
    }
}

/// An "unexpected X, expected Y" error at `p`.
pub(crate) fn unexpected(b: &[u8], p: usize, expected: &'static str) -> LexError {
    if p >= b.len() {
        return (p, ParseErrorKind::UnexpectedEof(expected));
    }
    (
        p,
        ParseErrorKind::Unexpected {
            found: describe(b, p),
            expected,
        },
    )
}

/// Parses a sample value the way Prometheus does (Go's `strconv.ParseFloat` behind a guard
/// against `p`, `P` and `_`): decimal or exponent floats, `NaN` in any case without a sign,
/// `Inf`/`Infinity` in any case with an optional sign. Hex floats, `0x`/`0b`/`0o` integers,
/// `_` separators, a signed NaN and a decimal that overflows to infinity (`1e400`, which Go
/// reports as out of range) are rejected; an underflow (`1e-400`) is zero, as in Go.
#[inline]
pub(crate) fn parse_value(tok: &str) -> Option<f64> {
    // Rust's parser already rejects hex, binary, octal and '_' and accepts the
    // case-insensitive inf/infinity/nan spellings; it differs from Go on a signed NaN
    // (Go rejects it) and on overflow (Go returns an error, Rust infinity).
    let v = tok.parse::<f64>().ok()?;
    if v.is_finite() {
        return Some(v);
    }
    let word = tok.trim_start_matches(['+', '-']);
    if v.is_nan() {
        return (word.len() == tok.len()).then_some(v);
    }
    // Infinite: only from an explicit inf/infinity spelling (at most one sign).
    let spelled = word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity");
    (spelled && tok.len() - word.len() <= 1).then_some(v)
}

/// Parses a `le` or `quantile` label value strictly: decimal numbers, `+Inf`, `-Inf`, `Inf`
/// and `NaN` exactly so spelled.
pub(crate) fn parse_strict_number(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => return Some(f64::INFINITY),
        "-Inf" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    if s.is_empty()
        || !s
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Duplicate label-name detection without allocating for the first 16 names.
pub(crate) struct DupCheck<'a> {
    seen: [&'a str; 16],
    n: usize,
    more: Vec<&'a str>,
}

impl<'a> DupCheck<'a> {
    pub(crate) fn new() -> DupCheck<'a> {
        DupCheck {
            seen: [""; 16],
            n: 0,
            more: Vec::new(),
        }
    }

    /// Records `name`; false if it was already recorded.
    #[inline]
    pub(crate) fn insert(&mut self, name: &'a str) -> bool {
        if self.seen[..self.n].contains(&name) || self.more.contains(&name) {
            return false;
        }
        if self.n < self.seen.len() {
            self.seen[self.n] = name;
            self.n += 1;
        } else {
            self.more.push(name);
        }
        true
    }
}

/// A small, fast, non-cryptographic hasher for the parsers' name sets (FxHash style).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &c in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(c)).wrapping_mul(K);
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Build-hasher for [`FxHasher`].
pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(metric_name_end(b"abc:d_1{", 0), 7);
        assert_eq!(metric_name_end(b"0abc", 0), 0);
        assert_eq!(label_name_end(b"a:b", 0), 1);
        assert_eq!(label_name_end(b"_x9=", 0), 3);
    }

    #[test]
    fn quoted() {
        assert_eq!(quoted_end(br#""ab" "#, 0, Escapes::Strict), Ok((3, false)));
        assert_eq!(quoted_end(br#""a\"b" "#, 0, Escapes::Strict), Ok((5, true)));
        assert!(quoted_end(br#""a\tb" "#, 0, Escapes::Strict).is_err());
        assert_eq!(
            quoted_end(br#""a\zb" "#, 0, Escapes::Lenient),
            Ok((5, true))
        );
        assert!(quoted_end(b"\"ab\n\"", 0, Escapes::Lenient).is_err());
        assert!(quoted_end(b"\"ab\\", 0, Escapes::Lenient).is_err());
        assert!(quoted_end(b"\"ab", 0, Escapes::Lenient).is_err());
    }

    #[test]
    fn quoted_multiline() {
        assert_eq!(quoted_end_multiline(b"\"a\nb\\t\" ", 0), Ok(6));
        assert!(quoted_end_multiline(b"\"a\\\n\"", 0).is_err());
        assert!(quoted_end_multiline(b"\"a\\", 0).is_err());
        assert!(quoted_end_multiline(b"\"a", 0).is_err());
    }

    #[test]
    fn dup_check() {
        let names: Vec<String> = (0..40).map(|i| format!("l{i}")).collect();
        let mut d = DupCheck::new();
        for n in &names {
            assert!(d.insert(n));
        }
        assert!(!d.insert("l3"));
        assert!(!d.insert("l39"));
        assert!(d.insert("x"));
    }

    #[test]
    fn values() {
        assert_eq!(parse_value("1.5e3"), Some(1500.0));
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("-infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_value("nAn").unwrap().is_nan());
        assert_eq!(parse_value("1e-400"), Some(0.0));
        for bad in [
            "0x1", "1_2", "0x1p-3", "0b1", "0o1", "", "1 ", "a", "+nan", "-NaN", "1e400", "-1e309",
            "++inf", "infin",
        ] {
            assert_eq!(parse_value(bad), None, "{bad}");
        }
        assert_eq!(parse_strict_number("+INF"), None);
        assert_eq!(parse_strict_number("1e-04"), Some(1e-4));
        assert_eq!(parse_strict_number("inf"), None);
    }
}
