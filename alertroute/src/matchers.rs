//! Alertmanager's matcher syntax: `foo="bar"`, `foo=~"a|b"`, `foo!=bar`, `{a="1", b=~"x"}`.
//!
//! Two grammars exist upstream and this module implements both, combined the way
//! Alertmanager's default ("fallback") mode does:
//!
//! - the **UTF-8 grammar**: tokens `{ } , = != =~ !~`, quoted strings (Go escapes, any UTF-8
//!   name when quoted) and unquoted runs of characters other than whitespace and
//!   ``{ } ! = ~ , \ " ' ` ``;
//! - the **classic grammar**: split on commas outside quotes, each piece matched by
//!   `name op value` with a legacy name, a value that may be quoted, and lenient escapes.
//!
//! [`parse_matchers`] tries both. If only one accepts the input, its result is used; if both
//! accept and disagree, the classic meaning wins (so every existing config keeps its meaning);
//! if both reject it, the classic error is returned, as upstream does.
//!
//! ```
//! use alertroute::matchers::parse_matchers;
//! let ms = parse_matchers(r#"{service=~"api|web", env!=dev}"#).unwrap();
//! assert_eq!(ms.len(), 2);
//! assert_eq!(ms[0].to_string(), r#"service=~"api|web""#);
//! assert_eq!(ms[1].value(), "dev");
//! ```

use exposition::{MatchOp, Matcher};

use crate::error::MatcherParseError;

/// Parses a list of matchers in Alertmanager's default (fallback) mode.
pub fn parse_matchers(input: &str) -> Result<Vec<Matcher>, MatcherParseError> {
    let utf8 = parse_matchers_utf8(input);
    let classic = parse_matchers_classic(input);
    match (utf8, classic) {
        (_, Ok(c)) => Ok(c),
        (Ok(u), Err(_)) => Ok(u),
        (Err(_), Err(c)) => Err(c),
    }
}

/// Parses one matcher in Alertmanager's default mode (rejects input wrapped in braces).
pub fn parse_matcher(input: &str) -> Result<Matcher, MatcherParseError> {
    let t = input.trim();
    if t.starts_with('{') || t.ends_with('}') {
        return Err(MatcherParseError::BadFormat {
            piece: input.to_string(),
            offset: 0,
        });
    }
    let mut ms = parse_matchers(input)?;
    if ms.len() != 1 {
        return Err(MatcherParseError::BadFormat {
            piece: input.to_string(),
            offset: 0,
        });
    }
    Ok(ms.remove(0))
}

/// Builds a matcher the way Alertmanager does: regexes are compiled anchored (`^(?:v)$`).
///
/// The pattern is read with Go's syntax ([`crate::goregex`]): a `{` that starts no repetition
/// and `\Q...\E` are literals, and `a**` or counts above 1000 are errors.
pub fn new_matcher(op: MatchOp, name: &str, value: &str) -> Result<Matcher, MatcherParseError> {
    let value = if matches!(op, MatchOp::RegexMatch | MatchOp::RegexNoMatch) {
        crate::goregex::to_rust(value).map_err(|e| MatcherParseError::InvalidRegex {
            pattern: e.fragment,
            reason: e.code.to_string(),
        })?
    } else {
        std::borrow::Cow::Borrowed(value)
    };
    let value: &str = &value;
    Matcher::new(op, name, value).map_err(|e| {
        let reason = match e {
            exposition::MatcherError::InvalidRegex { reason, .. } => reason,
            other => other.to_string(),
        };
        MatcherParseError::InvalidRegex {
            pattern: format!("^(?:{value})$"),
            reason: crate::goregex::go_reason(
                reason
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("error: "),
            ),
        }
    })
}

/// Prints matchers the way Alertmanager's `Matchers.String()` does: `{a="1",b=~"x"}`.
pub fn matchers_to_string(ms: &[Matcher]) -> String {
    let mut s = String::from("{");
    for (i, m) in ms.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_matcher(&mut s, m);
    }
    s.push('}');
    s
}

/// Prints one matcher as Alertmanager does: `name="value"` with OpenMetrics escaping of the
/// value, or both quoted when the name holds whitespace or one of ``{ } ! = ~ , \ " ' ` ``.
pub fn matcher_to_string(m: &Matcher) -> String {
    let mut s = String::new();
    push_matcher(&mut s, m);
    s
}

fn push_matcher(s: &mut String, m: &Matcher) {
    // Alertmanager quotes the name (and then Go-quotes the value) only when the name holds
    // a character the UTF-8 grammar reserves; `foo:bar` and `ü` print bare.
    if !m.name().chars().any(is_reserved_in_names) {
        s.push_str(m.name());
        s.push_str(m.op().as_str());
        s.push('"');
        for c in shown_value(m).chars() {
            match c {
                '\\' => s.push_str("\\\\"),
                '"' => s.push_str("\\\""),
                '\n' => s.push_str("\\n"),
                c => s.push(c),
            }
        }
        s.push('"');
    } else {
        s.push_str(&go_quote(m.name()));
        s.push_str(m.op().as_str());
        s.push_str(&go_quote(&shown_value(m)));
    }
}

/// The value as written in the config: regexes are stored in Rust syntax
/// ([`crate::goregex::to_rust`]) and printed back in Go's.
pub fn shown_value(m: &Matcher) -> std::borrow::Cow<'_, str> {
    match m.op() {
        MatchOp::RegexMatch | MatchOp::RegexNoMatch => crate::goregex::to_go_text(m.value()),
        _ => std::borrow::Cow::Borrowed(m.value()),
    }
}

/// Characters that force a quoted name: whitespace and ``{ } ! = ~ , \ " ' ` ``.
fn is_reserved_in_names(c: char) -> bool {
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

/// Go's `strconv.Quote` for printable text (escapes `\`, `"` and control characters).
pub fn go_quote(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\u{7}' => s.push_str("\\a"),
            '\u{8}' => s.push_str("\\b"),
            '\u{c}' => s.push_str("\\f"),
            '\u{b}' => s.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                s.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

// ---------------------------------------------------------------------------------------
// Classic grammar
// ---------------------------------------------------------------------------------------

/// Parses a list with the classic grammar only (Alertmanager ≤ 0.26, `classic-mode`).
pub fn parse_matchers_classic(input: &str) -> Result<Vec<Matcher>, MatcherParseError> {
    let mut s = input;
    let mut base = 0;
    if let Some(r) = s.strip_prefix('{') {
        s = r;
        base = 1;
    }
    s = s.strip_suffix('}').unwrap_or(s);
    let mut pieces: Vec<(usize, &str)> = Vec::new();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            ',' if !in_quotes => {
                pieces.push((start, &s[start..i]));
                start = i + 1;
                continue;
            }
            ',' => escaped = false,
            '"' => {
                if !escaped {
                    in_quotes = !in_quotes;
                } else {
                    escaped = false;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
    }
    let last = s[start..].trim();
    if !last.is_empty() {
        pieces.push((start, last));
    }
    pieces
        .into_iter()
        .map(|(off, p)| parse_matcher_classic_at(p, base + off))
        .collect()
}

/// Parses one matcher with the classic grammar (`name op value`).
pub fn parse_matcher_classic(piece: &str) -> Result<Matcher, MatcherParseError> {
    parse_matcher_classic_at(piece, 0)
}

fn is_classic_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}

fn is_classic_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

fn parse_matcher_classic_at(piece: &str, offset: usize) -> Result<Matcher, MatcherParseError> {
    let bad = || MatcherParseError::BadFormat {
        piece: piece.to_string(),
        offset,
    };
    let b = piece.as_bytes();
    let mut i = 0;
    while i < b.len() && is_go_space(b[i]) {
        i += 1;
    }
    let ns = i;
    if i >= b.len() || !is_classic_name_start(b[i]) {
        return Err(bad());
    }
    while i < b.len() && is_classic_name_char(b[i]) {
        i += 1;
    }
    let name = &piece[ns..i];
    while i < b.len() && is_go_space(b[i]) {
        i += 1;
    }
    let rest = &piece[i..];
    let (op, oplen) = if rest.starts_with("=~") {
        (MatchOp::RegexMatch, 2)
    } else if rest.starts_with("!=") {
        (MatchOp::NotEqual, 2)
    } else if rest.starts_with("!~") {
        (MatchOp::RegexNoMatch, 2)
    } else if rest.starts_with('=') {
        (MatchOp::Equal, 1)
    } else {
        return Err(bad());
    };
    let raw_full = piece[i + oplen..].trim_matches(|c: char| c.is_ascii() && is_go_space(c as u8));
    let mut raw = raw_full;
    let mut expect_quote = false;
    if let Some(r) = raw.strip_prefix('"') {
        raw = r;
        expect_quote = true;
    }
    let quote_err = || MatcherParseError::UnescapedQuote {
        value: raw_full.to_string(),
        offset,
    };
    let mut value = String::with_capacity(raw.len());
    let mut escaped = false;
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    for &(idx, c) in &chars {
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                c => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            '\\' => {
                if idx < raw.len() - 1 {
                    escaped = true;
                } else {
                    value.push('\\');
                }
            }
            '"' => {
                if !expect_quote || idx < raw.len() - 1 {
                    return Err(quote_err());
                }
                expect_quote = false;
            }
            c => value.push(c),
        }
    }
    if expect_quote {
        return Err(quote_err());
    }
    new_matcher(op, name, &value)
}

/// RE2's `\s`: space, tab, newline, form feed, carriage return.
fn is_go_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

// ---------------------------------------------------------------------------------------
// UTF-8 grammar
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Comma,
    Op(MatchOp),
    Quoted(String),
    Unquoted(String),
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn err(&self, start: usize, end: usize, msg: impl Into<String>) -> MatcherParseError {
        MatcherParseError::Syntax {
            start,
            end,
            message: msg.into(),
        }
    }

    /// The next token with its byte range, or `None` at the end.
    fn next(&mut self) -> Result<Option<(Tok, usize, usize)>, MatcherParseError> {
        let rest = &self.s[self.pos..];
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
        let start = self.pos;
        let Some(c) = trimmed.chars().next() else {
            return Ok(None);
        };
        let one = |l: &mut Self, t: Tok| {
            l.pos += 1;
            Ok(Some((t, start, start + 1)))
        };
        match c {
            '{' => one(self, Tok::Open),
            '}' => one(self, Tok::Close),
            ',' => one(self, Tok::Comma),
            '=' => {
                if trimmed[1..].starts_with('~') {
                    self.pos += 2;
                    Ok(Some((Tok::Op(MatchOp::RegexMatch), start, start + 2)))
                } else {
                    one(self, Tok::Op(MatchOp::Equal))
                }
            }
            '!' => {
                if trimmed[1..].starts_with('=') {
                    self.pos += 2;
                    Ok(Some((Tok::Op(MatchOp::NotEqual), start, start + 2)))
                } else if trimmed[1..].starts_with('~') {
                    self.pos += 2;
                    Ok(Some((Tok::Op(MatchOp::RegexNoMatch), start, start + 2)))
                } else {
                    Err(self.err(start, start + 1, "expected one of '=~'"))
                }
            }
            '"' => {
                let b = trimmed.as_bytes();
                let mut i = 1;
                let mut esc = false;
                while i < b.len() {
                    if esc {
                        esc = false;
                    } else if b[i] == b'\\' {
                        esc = true;
                    } else if b[i] == b'"' {
                        break;
                    }
                    i += 1;
                }
                if i >= b.len() {
                    return Err(self.err(start, start + trimmed.len(), "missing end \""));
                }
                let lit = &trimmed[..=i];
                self.pos += i + 1;
                let v = go_unquote(lit).map_err(|m| self.err(start, start + i + 1, m))?;
                Ok(Some((Tok::Quoted(v), start, start + i + 1)))
            }
            '~' | '\\' | '\'' | '`' => Err(self.err(
                start,
                start + c.len_utf8(),
                format!("unexpected character {c:?}"),
            )),
            _ => {
                let end = trimmed
                    .char_indices()
                    .find(|&(_, c)| {
                        c.is_whitespace()
                            || matches!(
                                c,
                                '{' | '}' | '!' | '=' | '~' | ',' | '\\' | '"' | '\'' | '`'
                            )
                    })
                    .map(|(i, _)| i)
                    .unwrap_or(trimmed.len());
                self.pos += end;
                Ok(Some((
                    Tok::Unquoted(trimmed[..end].to_string()),
                    start,
                    start + end,
                )))
            }
        }
    }
}

/// Unquotes a Go double-quoted string literal (`strconv.Unquote`).
fn go_unquote(lit: &str) -> Result<String, String> {
    let inner = &lit[1..lit.len() - 1];
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let b = inner.as_bytes();
    let mut i = 0;
    let bad = || "invalid input: invalid escape sequence".to_string();
    while i < b.len() {
        if b[i] != b'\\' {
            if b[i] == b'\n' {
                return Err("invalid input: newline in string".into());
            }
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += 1;
        let c = *b.get(i).ok_or_else(bad)?;
        i += 1;
        match c {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'"' => out.push(b'"'),
            b'x' => {
                let h = inner.get(i..i + 2).ok_or_else(bad)?;
                out.push(u8::from_str_radix(h, 16).map_err(|_| bad())?);
                i += 2;
            }
            b'0'..=b'7' => {
                let o = inner.get(i - 1..i + 2).ok_or_else(bad)?;
                let v = u32::from_str_radix(o, 8).map_err(|_| bad())?;
                out.push(u8::try_from(v).map_err(|_| bad())?);
                i += 2;
            }
            b'u' | b'U' => {
                let n = if c == b'u' { 4 } else { 8 };
                let h = inner.get(i..i + n).ok_or_else(bad)?;
                let v = u32::from_str_radix(h, 16).map_err(|_| bad())?;
                let ch = char::from_u32(v).ok_or_else(bad)?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                i += n;
            }
            _ => return Err(bad()),
        }
    }
    String::from_utf8(out).map_err(|_| "invalid input: invalid UTF-8".to_string())
}

/// Parses a list with the UTF-8 grammar only (Alertmanager's `utf8-strict-mode`).
pub fn parse_matchers_utf8(input: &str) -> Result<Vec<Matcher>, MatcherParseError> {
    let mut lx = Lexer { s: input, pos: 0 };
    let mut out = Vec::new();
    let end = input.len();
    let eof = |what: &str| MatcherParseError::Syntax {
        start: end,
        end,
        message: format!("unexpected end of input, expected {what}"),
    };
    let unexpected = |t: &Tok, s: usize, e: usize, what: &str| MatcherParseError::Syntax {
        start: s,
        end: e,
        message: format!("unexpected {}: expected {what}", tok_text(t)),
    };
    let mut tok = lx.next()?;
    let mut braced = false;
    if let Some((Tok::Open, _, _)) = tok {
        braced = true;
        tok = lx.next()?;
    }
    loop {
        match tok {
            None => {
                if braced {
                    return Err(eof("close brace"));
                }
                return Ok(out);
            }
            Some((Tok::Close, s, e)) => {
                if !braced {
                    return Err(unexpected(&Tok::Close, s, e, "label matcher"));
                }
                if let Some((t, s, e)) = lx.next()? {
                    return Err(unexpected(&t, s, e, "end of input"));
                }
                return Ok(out);
            }
            Some((Tok::Quoted(name) | Tok::Unquoted(name), ns, ne)) => {
                if name.is_empty() {
                    return Err(MatcherParseError::Syntax {
                        start: ns,
                        end: ne,
                        message: "label name cannot be empty".into(),
                    });
                }
                let op = match lx.next()? {
                    Some((Tok::Op(op), _, _)) => op,
                    Some((t, s, e)) => {
                        return Err(unexpected(&t, s, e, "one of '=', '!=', '=~', '!~'"))
                    }
                    None => return Err(eof("one of '=', '!=', '=~', '!~'")),
                };
                let value = match lx.next()? {
                    Some((Tok::Quoted(v) | Tok::Unquoted(v), _, _)) => v,
                    Some((t, s, e)) => return Err(unexpected(&t, s, e, "label value")),
                    None => return Err(eof("label value")),
                };
                out.push(new_matcher(op, &name, &value)?);
                match lx.next()? {
                    Some((Tok::Comma, _, _)) => tok = lx.next()?,
                    Some((Tok::Close, s, e)) => tok = Some((Tok::Close, s, e)),
                    None => tok = None,
                    Some((t, s, e)) => return Err(unexpected(&t, s, e, "comma or close brace")),
                }
            }
            Some((t, s, e)) => return Err(unexpected(&t, s, e, "label matcher")),
        }
    }
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Open => "'{'".into(),
        Tok::Close => "'}'".into(),
        Tok::Comma => "','".into(),
        Tok::Op(op) => format!("'{}'", op.as_str()),
        Tok::Quoted(s) => go_quote(s),
        Tok::Unquoted(s) => format!("{s:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(ms: &[Matcher]) -> String {
        matchers_to_string(ms)
    }

    #[test]
    fn classic_and_utf8_agree_on_common_inputs() {
        for (input, want) in [
            (r#"foo="bar""#, r#"{foo="bar"}"#),
            (r#"{foo=~"a|b",bar!=baz}"#, r#"{foo=~"a|b",bar!="baz"}"#),
            ("foo!~x", r#"{foo!~"x"}"#),
            (r#"  a = "1" , b="2",  "#, r#"{a="1",b="2"}"#),
            ("{}", "{}"),
        ] {
            assert_eq!(show(&parse_matchers(input).unwrap()), want, "{input}");
            assert_eq!(
                show(&parse_matchers_utf8(input).unwrap()),
                want,
                "utf8 {input}"
            );
            assert_eq!(
                show(&parse_matchers_classic(input).unwrap()),
                want,
                "classic {input}"
            );
        }
    }

    #[test]
    fn classic_only_inputs_fall_back() {
        // Empty unquoted value, regex backslash escapes, unquoted value with spaces.
        assert_eq!(parse_matchers("foo=").unwrap()[0].value(), "");
        assert_eq!(
            shown_value(&parse_matchers(r#"foo=~"\d+""#).unwrap()[0]),
            r"\d+"
        );
        assert_eq!(
            parse_matchers("foo=hello world").unwrap()[0].value(),
            "hello world"
        );
        assert!(parse_matchers_utf8(r#"foo=~"\d+""#).is_err());
        assert!(parse_matchers_utf8("foo=").is_err());
    }

    #[test]
    fn utf8_only_inputs() {
        let ms = parse_matchers(r#"{"foo bar"="x", "ünï"=~"y.*"}"#).unwrap();
        assert_eq!(ms[0].name(), "foo bar");
        assert_eq!(ms[1].name(), "ünï");
        assert_eq!(matcher_to_string(&ms[0]), r#""foo bar"="x""#);
        // Only reserved characters force quoting (amtool prints `foo:bar` and `ünï` bare).
        assert_eq!(matcher_to_string(&ms[1]), r#"ünï=~"y.*""#);
        let colon = parse_matchers("foo:bar=~x").unwrap();
        assert_eq!(matcher_to_string(&colon[0]), r#"foo:bar=~"x""#);
        let ms = parse_matchers_utf8(r#"a="\u00e9\x41\n""#).unwrap();
        assert_eq!(ms[0].value(), "éA\n");
        // Both grammars accept it but disagree: the classic meaning wins.
        let ms = parse_matchers(r#"a="\x41""#).unwrap();
        assert_eq!(ms[0].value(), "\\x41");
    }

    #[test]
    fn classic_escapes() {
        let m = parse_matcher_classic(r#"a="x\"y\\z\n""#).unwrap();
        assert_eq!(m.value(), "x\"y\\z\n");
        let m = parse_matcher_classic(r#"a=x\"#).unwrap();
        assert_eq!(m.value(), "x\\");
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            parse_matchers("foo").unwrap_err().to_string(),
            "bad matcher format: foo"
        );
        assert_eq!(
            parse_matchers(r#"a="a"b""#).unwrap_err().to_string(),
            r#"matcher value contains unescaped double quote: "a"b""#
        );
        assert_eq!(
            parse_matchers(r#"a="open"#).unwrap_err().to_string(),
            r#"matcher value contains unescaped double quote: "open"#
        );
        assert!(parse_matchers("a=1,,b=2").is_err());
        let e = parse_matchers("a=~\"(\"").unwrap_err();
        assert!(e.to_string().starts_with("error parsing regexp: "), "{e}");
        assert!(e.to_string().ends_with("`^(?:()$`"), "{e}");
        let e = parse_matchers_utf8("{a=\"b\"").unwrap_err();
        assert!(matches!(e, MatcherParseError::Syntax { .. }), "{e}");
        assert!(e.to_string().contains("unexpected end of input"), "{e}");
    }

    #[test]
    fn single_matcher_rules() {
        assert!(parse_matcher("{a=b}").is_err());
        assert!(parse_matcher("a=b,c=d").is_err());
        assert_eq!(parse_matcher(r#"a="b""#).unwrap().value(), "b");
    }

    #[test]
    fn printing_escapes_values() {
        let m = new_matcher(MatchOp::Equal, "a", "q\"\\\n").unwrap();
        assert_eq!(matcher_to_string(&m), r#"a="q\"\\\n""#);
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "\"",
            "{",
            "}",
            "{{",
            "a=\"\\",
            "!",
            "=~",
            "a=~",
            "\"\\x\"=1",
            "a=\"\\777\"",
            "é=1",
        ] {
            let _ = parse_matchers(s);
            let _ = parse_matchers_utf8(s);
            let _ = parse_matchers_classic(s);
        }
    }
}
