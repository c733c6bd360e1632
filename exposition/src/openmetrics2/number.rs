//! The numbers of the OpenMetrics 2.0 ABNF: `realnumber`, `number` (adding case-insensitive
//! `inf`, `infinity` and `nan`), the three integer rules, and timestamps in seconds.
//!
//! Unlike the 1.0 lexer, which cuts a token at the next blank and hands it to the float
//! parser, these scanners follow the grammar character by character: inside a composite
//! value a number ends at `,`, `:`, `]` or `}`, and the grammar is narrower than Rust's
//! float syntax (no `+nan`, no `1e`, no hex).

use crate::error::ParseErrorKind;
use crate::lex::LexError;

/// Which number rule applies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum NumRule {
    /// `realnumber`: decimal with optional fraction and exponent, finite.
    Real,
    /// `number`: a `realnumber`, or `[sign] inf / infinity`, or `nan` (any case).
    Any,
}

/// Which integer rule applies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IntRule {
    /// `integer`: optional `+` or `-`.
    Signed,
    /// `non-negative-integer`: optional `+`, no `-`.
    NonNegative,
    /// `positive-integer`: no sign, at least one non-zero digit.
    Positive,
}

fn digits_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

fn starts_with_ci(b: &[u8], p: usize, word: &[u8]) -> bool {
    b.len() >= p + word.len() && b[p..p + word.len()].eq_ignore_ascii_case(word)
}

/// End of a `realnumber` starting at `p`, or `None` if none starts there.
pub(crate) fn realnumber_end(b: &[u8], p: usize) -> Option<usize> {
    let mut i = p;
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_end = digits_end(b, i);
    let mut digits = int_end - i;
    i = int_end;
    if b.get(i) == Some(&b'.') {
        let frac_end = digits_end(b, i + 1);
        digits += frac_end - (i + 1);
        i = frac_end;
    }
    if digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_end = digits_end(b, j);
        if exp_end == j {
            return None;
        }
        i = exp_end;
    }
    Some(i)
}

/// End of a `number` (see [`NumRule::Any`]) starting at `p`.
fn number_end(b: &[u8], p: usize) -> Option<usize> {
    if starts_with_ci(b, p, b"nan") {
        return Some(p + 3);
    }
    let q = p + usize::from(matches!(b.get(p), Some(b'+' | b'-')));
    if starts_with_ci(b, q, b"infinity") {
        return Some(q + 8);
    }
    if starts_with_ci(b, q, b"inf") {
        return Some(q + 3);
    }
    realnumber_end(b, p)
}

/// The text of a malformed token at `p`, cut at the next delimiter, for error messages.
fn bad_token(b: &[u8], p: usize) -> String {
    let end = (p..b.len())
        .find(|&i| matches!(b[i], b' ' | b'\n' | b',' | b':' | b']' | b'}'))
        .unwrap_or(b.len())
        .max((p + 1).min(b.len()));
    String::from_utf8_lossy(&b[p.min(b.len())..end]).into_owned()
}

/// Reads a number under `rule` at `p`; returns it and the position after it. A
/// `realnumber` outside the float64 range is rejected, as the spec requires numbers to fit.
pub(crate) fn number(b: &[u8], p: usize, rule: NumRule) -> Result<(f64, usize), LexError> {
    let end = match rule {
        NumRule::Real => realnumber_end(b, p),
        NumRule::Any => number_end(b, p),
    };
    let bad = || (p, ParseErrorKind::InvalidValue(bad_token(b, p)));
    let end = end.ok_or_else(bad)?;
    // The slice is ASCII (checked by the scanners above).
    let text = std::str::from_utf8(&b[p..end]).map_err(|_| bad())?;
    let v: f64 = text.parse().map_err(|_| bad())?;
    let is_word = matches!(text.as_bytes().last(), Some(c) if c.is_ascii_alphabetic());
    if v.is_infinite() && !is_word {
        return Err(bad());
    }
    Ok((v, end))
}

/// Reads an integer under `rule` at `p` as an `i32` (the range of schemas, offsets and
/// lengths); returns it and the position after it.
pub(crate) fn integer(b: &[u8], p: usize, rule: IntRule) -> Result<(i32, usize), LexError> {
    let mut i = p;
    let mut negative = false;
    match (b.get(i), rule) {
        (Some(b'-'), IntRule::Signed) => {
            negative = true;
            i += 1;
        }
        (Some(b'+'), IntRule::Signed | IntRule::NonNegative) => i += 1,
        _ => {}
    }
    let end = digits_end(b, i);
    let bad = || (p, ParseErrorKind::InvalidValue(bad_token(b, p)));
    if end == i {
        return Err(bad());
    }
    let mut v: i64 = 0;
    for &c in &b[i..end] {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(c - b'0')))
            .ok_or_else(bad)?;
    }
    if negative {
        v = -v;
    }
    if rule == IntRule::Positive && v == 0 {
        return Err(bad());
    }
    let v = i32::try_from(v).map_err(|_| bad())?;
    Ok((v, end))
}

/// Reads a timestamp (a `realnumber` of seconds) at `p` as milliseconds, truncated toward
/// zero as the 1.0 parser (and Prometheus's) does. Plain decimals are converted exactly
/// from their digits, so `1.001` is 1001 ms (a float product would give 1000.999...);
/// exponent forms go through `f64`. Values beyond the `i64` range saturate.
pub(crate) fn timestamp_ms(b: &[u8], p: usize) -> Result<(i64, usize), LexError> {
    let end = realnumber_end(b, p)
        .ok_or_else(|| (p, ParseErrorKind::InvalidTimestamp(bad_token(b, p))))?;
    let tok = &b[p..end];
    if tok.iter().any(|c| matches!(c, b'e' | b'E')) {
        let (secs, _) = number(b, p, NumRule::Real)
            .map_err(|_| (p, ParseErrorKind::InvalidTimestamp(bad_token(b, p))))?;
        // `as` truncates toward zero and saturates at the i64 range.
        return Ok(((secs * 1000.0) as i64, end));
    }
    let (negative, digits) = match tok[0] {
        b'-' => (true, &tok[1..]),
        b'+' => (false, &tok[1..]),
        _ => (false, tok),
    };
    let (int, frac) = match digits.iter().position(|&c| c == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &digits[..0]),
    };
    let mut ms: i128 = 0;
    for &c in int.iter().chain(frac.iter().chain(b"000".iter()).take(3)) {
        ms = (ms * 10 + i128::from(c - b'0')).min(i128::from(i64::MAX) + 1);
    }
    if negative {
        ms = -ms;
    }
    let ms = ms.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    Ok((ms, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str, rule: NumRule) -> Option<(f64, usize)> {
        number(s.as_bytes(), 0, rule).ok()
    }

    #[test]
    fn realnumbers_follow_the_abnf() {
        for (s, v, end) in [
            ("1", 1.0, 1),
            ("0042", 42.0, 4),
            ("-1.5,", -1.5, 4),
            ("+.5]", 0.5, 3),
            ("1.", 1.0, 2),
            ("1.89e-7", 1.89e-7, 7),
            ("1E5}", 1e5, 3),
            ("0x1", 0.0, 1),
        ] {
            assert_eq!(num(s, NumRule::Real), Some((v, end)), "{s}");
        }
        for bad in [
            "", ".", "+", "e5", "1e", "1e+", "inf", "NaN", "1e400", "-.e1",
        ] {
            assert_eq!(num(bad, NumRule::Real), None, "{bad}");
        }
    }

    #[test]
    fn numbers_add_inf_and_nan() {
        assert_eq!(num("+Inf", NumRule::Any), Some((f64::INFINITY, 4)));
        assert_eq!(
            num("-infinity]", NumRule::Any),
            Some((f64::NEG_INFINITY, 9))
        );
        assert_eq!(num("INF,", NumRule::Any), Some((f64::INFINITY, 3)));
        assert!(num("nAn", NumRule::Any).unwrap().0.is_nan());
        assert_eq!(num("-nan", NumRule::Any), None);
        assert_eq!(num("1e400", NumRule::Any), None);
    }

    #[test]
    fn integers_by_rule() {
        let int = |s: &str, r| integer(s.as_bytes(), 0, r).ok();
        assert_eq!(int("-3:", IntRule::Signed), Some((-3, 2)));
        assert_eq!(int("+0", IntRule::NonNegative), Some((0, 2)));
        assert_eq!(int("-1", IntRule::NonNegative), None);
        assert_eq!(int("007", IntRule::Positive), Some((7, 3)));
        assert_eq!(int("000", IntRule::Positive), None);
        assert_eq!(int("+1", IntRule::Positive), None);
        assert_eq!(int("2147483648", IntRule::Signed), None);
        assert_eq!(int("99999999999999999999999", IntRule::Signed), None);
    }

    #[test]
    fn timestamps_to_millis() {
        let ts = |s: &str| timestamp_ms(s.as_bytes(), 0).ok().map(|t| t.0);
        assert_eq!(ts("1520879607.789"), Some(1_520_879_607_789));
        assert_eq!(ts("1604676851.123456789"), Some(1_604_676_851_123));
        assert_eq!(ts("1.0009"), Some(1000));
        assert_eq!(ts("1.001"), Some(1001));
        assert_eq!(ts("-1.0009"), Some(-1000));
        assert_eq!(ts("-1.5"), Some(-1500));
        assert_eq!(ts("123"), Some(123_000));
        assert_eq!(ts("1.5e3"), Some(1_500_000));
        assert_eq!(ts("99999999999999999999999"), Some(i64::MAX));
        assert_eq!(ts("-99999999999999999999999"), Some(i64::MIN));
        assert_eq!(ts("NaN"), None);
        assert_eq!(ts("+Inf"), None);
    }
}
