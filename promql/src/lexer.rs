//! The lexer: which tokens does a query consist of?
//!
//! [`lex`] turns the query into a vector of [`Token`]s, each a kind and a byte [`Span`]. Tokens
//! borrow nothing: identifiers, numbers and strings are read back from the input through their
//! span when the parser needs them, so lexing allocates only the token vector. Keywords are not
//! distinguished here (they are ordinary [`TokenKind::Ident`]s); the parser decides from context,
//! case-insensitively, as Prometheus does. `#` starts a comment that runs to the end of the line.

use crate::ast::Span;
use crate::error::{ParseError, ParseErrorKind};

/// The kind of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A name: `[a-zA-Z_:][a-zA-Z0-9_:]*` (no `:` inside `[...]`).
    Ident,
    /// A number literal: decimal, hex, scientific (`Inf`/`NaN` are identifiers).
    Number,
    /// A duration literal: `5m`, `1h30m`, `100ms`.
    Duration,
    /// A quoted string (`"..."`, `'...'`, `` `...` ``), span includes the quotes.
    String,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `@`
    At,
    /// `=`
    Assign,
    /// `==`
    EqlEq,
    /// `!=`
    Neq,
    /// `=~`
    RegexMatch,
    /// `!~`
    RegexNoMatch,
    /// `>`
    Gtr,
    /// `<`
    Lss,
    /// `>=`
    Gte,
    /// `<=`
    Lte,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `</`
    TrimUpper,
    /// `>/`
    TrimLower,
    /// End of input (always the last token).
    Eof,
}

impl TokenKind {
    /// A short description for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::Ident => "identifier",
            TokenKind::Number => "number",
            TokenKind::Duration => "duration",
            TokenKind::String => "string",
            TokenKind::LParen => "\"(\"",
            TokenKind::RParen => "\")\"",
            TokenKind::LBrace => "\"{\"",
            TokenKind::RBrace => "\"}\"",
            TokenKind::LBracket => "\"[\"",
            TokenKind::RBracket => "\"]\"",
            TokenKind::Comma => "\",\"",
            TokenKind::Colon => "\":\"",
            TokenKind::At => "\"@\"",
            TokenKind::Assign => "\"=\"",
            TokenKind::EqlEq => "\"==\"",
            TokenKind::Neq => "\"!=\"",
            TokenKind::RegexMatch => "\"=~\"",
            TokenKind::RegexNoMatch => "\"!~\"",
            TokenKind::Gtr => "\">\"",
            TokenKind::Lss => "\"<\"",
            TokenKind::Gte => "\">=\"",
            TokenKind::Lte => "\"<=\"",
            TokenKind::Add => "\"+\"",
            TokenKind::Sub => "\"-\"",
            TokenKind::Mul => "\"*\"",
            TokenKind::Div => "\"/\"",
            TokenKind::Mod => "\"%\"",
            TokenKind::Pow => "\"^\"",
            TokenKind::TrimUpper => "\"</\"",
            TokenKind::TrimLower => "\">/\"",
            TokenKind::Eof => "end of input",
        }
    }
}

/// One token: its kind and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// Splits `input` into tokens, ending with one [`TokenKind::Eof`].
pub fn lex(input: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::with_capacity(input.len() / 3 + 2);
    let mut i = 0;
    let mut bracket_depth = 0usize;
    let err = |kind, start: usize, end: usize| ParseError::new(kind, Span::new(start, end), input);
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' => {
                i += 1;
                TokenKind::LParen
            }
            b')' => {
                i += 1;
                TokenKind::RParen
            }
            b'{' => {
                i += 1;
                TokenKind::LBrace
            }
            b'}' => {
                i += 1;
                TokenKind::RBrace
            }
            b'[' => {
                i += 1;
                bracket_depth += 1;
                TokenKind::LBracket
            }
            b']' => {
                i += 1;
                bracket_depth = bracket_depth.saturating_sub(1);
                TokenKind::RBracket
            }
            b',' => {
                i += 1;
                TokenKind::Comma
            }
            b'@' => {
                i += 1;
                TokenKind::At
            }
            b'+' => {
                i += 1;
                TokenKind::Add
            }
            b'-' => {
                i += 1;
                TokenKind::Sub
            }
            b'*' => {
                i += 1;
                TokenKind::Mul
            }
            b'/' => {
                i += 1;
                TokenKind::Div
            }
            b'%' => {
                i += 1;
                TokenKind::Mod
            }
            b'^' => {
                i += 1;
                TokenKind::Pow
            }
            b'=' => match bytes.get(i + 1) {
                Some(b'=') => {
                    i += 2;
                    TokenKind::EqlEq
                }
                Some(b'~') => {
                    i += 2;
                    TokenKind::RegexMatch
                }
                _ => {
                    i += 1;
                    TokenKind::Assign
                }
            },
            b'!' => match bytes.get(i + 1) {
                Some(b'=') => {
                    i += 2;
                    TokenKind::Neq
                }
                Some(b'~') => {
                    i += 2;
                    TokenKind::RegexNoMatch
                }
                _ => return Err(err(ParseErrorKind::UnexpectedCharacter('!'), i, i + 1)),
            },
            b'>' => {
                if bytes.get(i + 1) == Some(&b'/') {
                    i += 2;
                    TokenKind::TrimLower
                } else if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    TokenKind::Gte
                } else {
                    i += 1;
                    TokenKind::Gtr
                }
            }
            b'<' => {
                if bytes.get(i + 1) == Some(&b'/') {
                    i += 2;
                    TokenKind::TrimUpper
                } else if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    TokenKind::Lte
                } else {
                    i += 1;
                    TokenKind::Lss
                }
            }
            b':' => {
                // Outside brackets a colon can only start a metric name (`:x`, `:`).
                if bracket_depth == 0 {
                    i = scan_ident(bytes, i, bracket_depth);
                    TokenKind::Ident
                } else {
                    i += 1;
                    TokenKind::Colon
                }
            }
            b'"' | b'\'' | b'`' => {
                i = scan_string(bytes, i).map_err(|k| err(k, start, bytes.len()))?;
                TokenKind::String
            }
            b'0'..=b'9' | b'.' => {
                if b == b'.' && !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    return Err(err(ParseErrorKind::UnexpectedCharacter('.'), i, i + 1));
                }
                let (end, kind) = scan_number(bytes, i);
                if bytes
                    .get(end)
                    .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
                {
                    let mut e = end;
                    while e < bytes.len() && (is_ident_continue(bytes[e]) || bytes[e] == b'.') {
                        e += 1;
                    }
                    return Err(err(
                        ParseErrorKind::InvalidNumber(input[start..e].to_string()),
                        start,
                        e,
                    ));
                }
                i = end;
                kind
            }
            _ if is_ident_start(b) => {
                i = scan_ident(bytes, i, bracket_depth);
                TokenKind::Ident
            }
            _ => {
                let c = input[i..].chars().next().unwrap_or('\u{fffd}');
                return Err(err(
                    ParseErrorKind::UnexpectedCharacter(c),
                    i,
                    i + c.len_utf8(),
                ));
            }
        };
        tokens.push(Token {
            kind,
            span: Span::new(start, i),
        });
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        span: Span::new(input.len(), input.len()),
    });
    Ok(tokens)
}

fn scan_ident(bytes: &[u8], mut i: usize, bracket_depth: usize) -> usize {
    i += 1;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphanumeric() || c == b'_' || (c == b':' && bracket_depth == 0) {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// Scans a string starting at the quote `bytes[i]`; returns the index after the closing quote.
fn scan_string(bytes: &[u8], i: usize) -> Result<usize, ParseErrorKind> {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() {
        let c = bytes[j];
        if c == quote {
            return Ok(j + 1);
        }
        if quote != b'`' {
            if c == b'\\' {
                j += 2;
                continue;
            }
            if c == b'\n' {
                return Err(ParseErrorKind::UnterminatedString);
            }
        }
        j += 1;
    }
    Err(ParseErrorKind::UnterminatedString)
}

fn is_unit_start(c: u8) -> bool {
    matches!(c, b's' | b'm' | b'h' | b'd' | b'w' | b'y')
}

/// Scans a number or duration starting at `i`; returns the end and the kind. Trailing garbage is
/// left for the caller to detect.
fn scan_number(bytes: &[u8], i: usize) -> (usize, TokenKind) {
    let mut j = i;
    if bytes[j] == b'0' && matches!(bytes.get(j + 1), Some(b'x' | b'X')) {
        j += 2;
        while j < bytes.len() && bytes[j].is_ascii_hexdigit() {
            j += 1;
        }
        return (j, TokenKind::Number);
    }
    while j < bytes.len() && bytes[j].is_ascii_digit() {
        j += 1;
    }
    // Duration: digits followed by a unit, repeated.
    if j > i && j < bytes.len() && is_unit_start(bytes[j]) {
        let mut k = i;
        loop {
            let ds = k;
            while k < bytes.len() && bytes[k].is_ascii_digit() {
                k += 1;
            }
            if k == ds {
                break;
            }
            let unit_len = if bytes.get(k..k + 2) == Some(b"ms") {
                2
            } else if k < bytes.len() && is_unit_start(bytes[k]) {
                1
            } else {
                // Digits without a unit: not part of the duration.
                k = ds;
                break;
            };
            k += unit_len;
        }
        return (k, TokenKind::Duration);
    }
    if j < bytes.len() && bytes[j] == b'.' {
        j += 1;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
    }
    if j < bytes.len() && matches!(bytes[j], b'e' | b'E') {
        let mut k = j + 1;
        if k < bytes.len() && matches!(bytes[k], b'+' | b'-') {
            k += 1;
        }
        if k < bytes.len() && bytes[k].is_ascii_digit() {
            while k < bytes.len() && bytes[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    (j, TokenKind::Number)
}

/// Resolves the escapes of a string token's text (including its quotes), Go style.
pub fn unquote(text: &str) -> Result<String, ParseErrorKind> {
    let bytes = text.as_bytes();
    if bytes.len() < 2 {
        return Err(ParseErrorKind::UnterminatedString);
    }
    let quote = bytes[0];
    let inner = &text[1..text.len() - 1];
    if quote == b'`' || !inner.contains('\\') {
        return Ok(inner.to_string());
    }
    let ib = inner.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let mut i = 0;
    let bad = |s: &str| ParseErrorKind::InvalidEscape(s.to_string());
    while i < ib.len() {
        let c = ib[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = ib.get(i + 1) else {
            return Err(bad("\\"));
        };
        i += 2;
        match e {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'\'' | b'"' if e == quote => out.push(e),
            b'0'..=b'7' => {
                let digits = ib.get(i - 1..i + 2).ok_or_else(|| bad(&inner[i - 2..]))?;
                if !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                    return Err(bad(&inner[i - 2..(i + 2).min(inner.len())]));
                }
                let v = digits.iter().fold(0u32, |a, d| a * 8 + u32::from(d - b'0'));
                if v > 255 {
                    return Err(bad(&inner[i - 2..i + 2]));
                }
                out.push(v as u8);
                i += 2;
            }
            b'x' | b'u' | b'U' => {
                let n = match e {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = ib
                    .get(i..i + n)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .ok_or_else(|| bad(&inner[i - 2..(i + n).min(inner.len())]))?;
                let v = hex
                    .iter()
                    .fold(0u32, |a, d| a * 16 + (*d as char).to_digit(16).unwrap_or(0));
                if e == b'x' {
                    out.push(v as u8);
                } else {
                    let ch = char::from_u32(v).ok_or_else(|| bad(&inner[i - 2..i + n]))?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                i += n;
            }
            _ => {
                let end = (i - 1 + 1).min(inner.len());
                let mut end = end;
                while !inner.is_char_boundary(end) {
                    end += 1;
                }
                return Err(bad(&inner[i - 2..end]));
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad("string is not valid UTF-8 after unescaping"))
}

/// Parses a duration literal (`1h30m`, `100ms`) to milliseconds. Units must decrease.
pub fn parse_duration_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut total: i64 = 0;
    let mut last_rank = usize::MAX;
    if b.is_empty() {
        return None;
    }
    while i < b.len() {
        let ds = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if ds == i {
            return None;
        }
        let n: i64 = text[ds..i].parse().ok()?;
        let (mult, rank, len) = match (b.get(i), b.get(i + 1)) {
            (Some(b'm'), Some(b's')) => (1, 0, 2),
            (Some(b's'), _) => (1000, 1, 1),
            (Some(b'm'), _) => (60_000, 2, 1),
            (Some(b'h'), _) => (3_600_000, 3, 1),
            (Some(b'd'), _) => (86_400_000, 4, 1),
            (Some(b'w'), _) => (604_800_000, 5, 1),
            (Some(b'y'), _) => (31_536_000_000, 6, 1),
            _ => return None,
        };
        if rank >= last_rank {
            return None;
        }
        last_rank = rank;
        i += len;
        total = total.checked_add(n.checked_mul(mult)?)?;
    }
    Some(total)
}

/// Parses a number literal's text (decimal, `0x` hex, leading-zero octal, scientific) as Prometheus
/// does: first as an integer with Go base prefixes, then as a float.
pub fn parse_number(text: &str) -> Option<f64> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    if text.len() > 1 && text.starts_with('0') && text.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(v) = u64::from_str_radix(&text[1..], 8) {
            return Some(v as f64);
        }
    }
    text.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokenKind> {
        lex(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tokens() {
        use TokenKind::*;
        assert_eq!(
            kinds("rate(foo{a=~\"x\"}[5m:1m]) >= 1.5e3 # c\n"),
            vec![
                Ident, LParen, Ident, LBrace, Ident, RegexMatch, String, RBrace, LBracket,
                Duration, Colon, Duration, RBracket, RParen, Gte, Number, Eof
            ]
        );
        assert_eq!(kinds("a:b:c"), vec![Ident, Eof]);
        assert_eq!(
            kinds("x[step():]"),
            vec![Ident, LBracket, Ident, LParen, RParen, Colon, RBracket, Eof]
        );
    }

    #[test]
    fn lex_errors() {
        assert!(matches!(
            lex("foo !bar").unwrap_err().kind(),
            ParseErrorKind::UnexpectedCharacter('!')
        ));
        assert!(matches!(
            lex("\"abc").unwrap_err().kind(),
            ParseErrorKind::UnterminatedString
        ));
        assert!(matches!(
            lex("1abc").unwrap_err().kind(),
            ParseErrorKind::InvalidNumber(_)
        ));
        assert_eq!(lex("a ☃").unwrap_err().column(), 3);
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote(r#""a\nb\"c""#).unwrap(), "a\nb\"c");
        assert_eq!(unquote(r#"'a\'b'"#).unwrap(), "a'b");
        assert_eq!(unquote(r#""\u00e9\x41\101""#).unwrap(), "éAA");
        assert_eq!(unquote(r"`a\n`").unwrap(), "a\\n");
        assert!(unquote(r#""\q""#).is_err());
        assert!(unquote(r#""\'""#).is_err());
        assert!(unquote(r#""a\xc5z""#).is_err());
    }

    #[test]
    fn numbers_and_durations() {
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("100ms"), Some(100));
        assert_eq!(parse_duration_ms("1y"), Some(31_536_000_000));
        assert_eq!(parse_duration_ms("30m1h"), None);
        assert_eq!(parse_number("0x1F"), Some(31.0));
        assert_eq!(parse_number("010"), Some(8.0));
        assert_eq!(parse_number("2."), Some(2.0));
        assert_eq!(parse_number("12.34e-6"), Some(12.34e-6));
        assert_eq!(parse_number(".5"), Some(0.5));
    }
}
