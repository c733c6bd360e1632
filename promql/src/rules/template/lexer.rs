//! Template lexer: which text runs and action tokens does a template consist of?
//!
//! Splits a Go `text/template` source into literal text and `{{ ... }}` actions, applying the
//! `{{-` / `-}}` whitespace trimming and dropping `{{/* comments */}}`, and tokenizes each action.

use super::TemplateError;

/// One token inside an action.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare identifier: a keyword (`if`, `range`, ...) or a function name.
    Ident(String),
    /// `.a.b` — a field chain (empty for a lone `.`). `spaced` is true when whitespace or the
    /// start of the action precedes it (a field right after `)` chains onto the group).
    Field {
        /// The field names.
        names: Vec<String>,
        /// Whether whitespace precedes the token.
        spaced: bool,
    },
    /// `$name.a.b` — a variable with an optional field chain (`$` alone is the root).
    Var(String, Vec<String>),
    /// A string literal (interpreted or raw).
    Str(String),
    /// A number literal; the flag says whether it was written as an integer.
    Num(f64, bool),
    /// `true` / `false`.
    Bool(bool),
    /// `nil`.
    Nil,
    /// `|`.
    Pipe,
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `:=`.
    Declare,
    /// `=`.
    Assign,
    /// `,`.
    Comma,
}

/// A lexed piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// An action's tokens and the byte offset of its `{{`.
    Action(Vec<Tok>, usize),
}

/// Splits `src` into text and actions.
pub fn lex(src: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut out: Vec<Piece> = Vec::new();
    let mut i = 0;
    let mut trim_next = false;
    while i <= src.len() {
        let rest = &src[i..];
        let Some(open) = rest.find("{{") else {
            let mut t = rest;
            if trim_next {
                t = t.trim_start();
            }
            if !t.is_empty() {
                out.push(Piece::Text(t.to_string()));
            }
            break;
        };
        let mut text = &rest[..open];
        if trim_next {
            text = text.trim_start();
        }
        let start = i + open;
        let mut j = start + 2;
        let b = src.as_bytes();
        let trim_left =
            b.get(j) == Some(&b'-') && b.get(j + 1).is_some_and(|c| c.is_ascii_whitespace());
        if trim_left {
            text = text.trim_end();
            j += 2;
        }
        if !text.is_empty() {
            out.push(Piece::Text(text.to_string()));
        }
        // Find the closing delimiter, skipping over string literals.
        let (body_end, close_end, trim_right) = find_close(src, j, start)?;
        let body = &src[j..body_end];
        let trimmed = body.trim();
        if trimmed.starts_with("/*") {
            if !trimmed.ends_with("*/") {
                return Err(TemplateError::syntax(start, "unclosed comment"));
            }
        } else {
            let toks = tokenize(body, j)?;
            if toks.is_empty() {
                return Err(TemplateError::syntax(start, "missing value for command"));
            }
            out.push(Piece::Action(toks, start));
        }
        trim_next = trim_right;
        i = close_end;
        if i == src.len() {
            break;
        }
    }
    Ok(out)
}

/// Returns (end of action body, end of `}}`, whether ` -}}` trims).
fn find_close(src: &str, from: usize, open: usize) -> Result<(usize, usize, bool), TemplateError> {
    let b = src.as_bytes();
    let mut k = from;
    while k < b.len() {
        match b[k] {
            b'"' | b'\'' => {
                let q = b[k];
                k += 1;
                while k < b.len() && b[k] != q {
                    if b[k] == b'\\' {
                        k += 1;
                    }
                    k += 1;
                }
                k += 1;
            }
            b'`' => {
                k += 1;
                while k < b.len() && b[k] != b'`' {
                    k += 1;
                }
                k += 1;
            }
            b'}' if b.get(k + 1) == Some(&b'}') => {
                let trim = k >= 2 && b[k - 1] == b'-' && b[k - 2].is_ascii_whitespace() && k > from;
                let body_end = if trim { k - 1 } else { k };
                return Ok((body_end, k + 2, trim));
            }
            _ => k += 1,
        }
    }
    Err(TemplateError::syntax(open, "unclosed action"))
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn tokenize(body: &str, base: usize) -> Result<Vec<Tok>, TemplateError> {
    let b = body.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut spaced = true;
    while i < b.len() {
        let c = b[i];
        let pos = base + i;
        if c.is_ascii_whitespace() {
            spaced = true;
            i += 1;
            continue;
        }
        let was_spaced = spaced;
        spaced = false;
        match c {
            b'|' => {
                toks.push(Tok::Pipe);
                i += 1;
            }
            b'(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            b')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            b',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            b':' if b.get(i + 1) == Some(&b'=') => {
                toks.push(Tok::Declare);
                i += 2;
            }
            b'=' => {
                toks.push(Tok::Assign);
                i += 1;
            }
            b'.' if !b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                let (names, ni) = field_chain(body, i, pos)?;
                toks.push(Tok::Field {
                    names,
                    spaced: was_spaced,
                });
                i = ni;
            }
            b'$' => {
                let mut j = i + 1;
                while j < b.len() && is_ident_char(b[j]) {
                    j += 1;
                }
                let name = body[i..j].to_string();
                let (names, ni) = if b.get(j) == Some(&b'.') {
                    field_chain(body, j, base + j)?
                } else {
                    (Vec::new(), j)
                };
                toks.push(Tok::Var(name, names));
                i = ni;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                if j >= b.len() {
                    return Err(TemplateError::syntax(pos, "unterminated quoted string"));
                }
                let s = unescape(&body[i + 1..j]).ok_or_else(|| {
                    TemplateError::syntax(pos, "invalid escape sequence in string")
                })?;
                toks.push(Tok::Str(s));
                i = j + 1;
            }
            b'`' => {
                let j = body[i + 1..]
                    .find('`')
                    .map(|k| k + i + 1)
                    .ok_or_else(|| TemplateError::syntax(pos, "unterminated raw quoted string"))?;
                toks.push(Tok::Str(body[i + 1..j].to_string()));
                i = j + 1;
            }
            b'\'' => {
                let j = body[i + 1..]
                    .find('\'')
                    .map(|k| k + i + 1)
                    .ok_or_else(|| TemplateError::syntax(pos, "unterminated character constant"))?;
                let s = unescape(&body[i + 1..j])
                    .ok_or_else(|| TemplateError::syntax(pos, "invalid character constant"))?;
                let mut cs = s.chars();
                match (cs.next(), cs.next()) {
                    (Some(ch), None) => toks.push(Tok::Num(ch as u32 as f64, true)),
                    _ => return Err(TemplateError::syntax(pos, "invalid character constant")),
                }
                i = j + 1;
            }
            b'0'..=b'9' | b'-' | b'+' | b'.' => {
                let mut j = i + 1;
                while j < b.len()
                    && (b[j].is_ascii_alphanumeric()
                        || b[j] == b'.'
                        || b[j] == b'_'
                        || ((b[j] == b'-' || b[j] == b'+') && matches!(b[j - 1], b'e' | b'E')))
                {
                    j += 1;
                }
                let text = &body[i..j];
                let t = text.replace('_', "");
                let is_int = !t.contains(['.', 'e', 'E']) || t.starts_with("0x");
                let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("-0x")) {
                    i64::from_str_radix(h, 16).ok().map(|v| {
                        if t.starts_with('-') {
                            -v as f64
                        } else {
                            v as f64
                        }
                    })
                } else {
                    t.parse::<f64>().ok()
                };
                match v {
                    Some(v) => toks.push(Tok::Num(v, is_int)),
                    None => {
                        return Err(TemplateError::syntax(
                            pos,
                            format!("bad number syntax: {text:?}"),
                        ))
                    }
                }
                i = j;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i + 1;
                while j < b.len() && is_ident_char(b[j]) {
                    j += 1;
                }
                let w = &body[i..j];
                toks.push(match w {
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    "nil" => Tok::Nil,
                    _ => Tok::Ident(w.to_string()),
                });
                i = j;
            }
            _ => {
                let ch = body[i..].chars().next().unwrap_or('?');
                return Err(TemplateError::syntax(
                    pos,
                    format!("unexpected {ch:?} in command"),
                ));
            }
        }
    }
    Ok(toks)
}

fn field_chain(
    body: &str,
    mut i: usize,
    pos: usize,
) -> Result<(Vec<String>, usize), TemplateError> {
    let b = body.as_bytes();
    let mut names = Vec::new();
    while i < b.len() && b[i] == b'.' {
        let mut j = i + 1;
        while j < b.len() && is_ident_char(b[j]) {
            j += 1;
        }
        if j == i + 1 {
            if names.is_empty()
                && (j >= b.len() || !b[j].is_ascii_punctuation() || b[j] == b')' || b[j] == b'|')
            {
                return Ok((names, j));
            }
            return Err(TemplateError::syntax(pos, "bad field syntax"));
        }
        names.push(body[i + 1..j].to_string());
        i = j;
    }
    Ok((names, i))
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            'x' => {
                let h: String = it.by_ref().take(2).collect();
                out.push(char::from(u8::from_str_radix(&h, 16).ok()?));
            }
            'u' => {
                let h: String = it.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?)?);
            }
            'U' => {
                let h: String = it.by_ref().take(8).collect();
                out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_comments() {
        let p = lex("a  {{- /* c */ -}}  b {{ $labels.x }}").unwrap();
        assert_eq!(p[0], Piece::Text("a".into()));
        assert_eq!(p[1], Piece::Text("b ".into()));
        assert!(
            matches!(&p[2], Piece::Action(t, _) if t[0] == Tok::Var("$labels".into(), vec!["x".into()]))
        );
    }

    #[test]
    fn unclosed_action_is_an_error() {
        assert!(lex("{{ $value ").is_err());
        assert!(lex("{{ \"abc }}").is_err());
    }
}
