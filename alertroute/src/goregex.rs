//! Go RE2 syntax over the `regex` crate: "does Alertmanager accept this pattern, and as what?"
//!
//! Alertmanager compiles matcher regexes with Go's `regexp`, whose parser differs from the
//! `regex` crate's in a few places that show up in real configs:
//!
//! - a `{` that does not start a well-formed repetition (`{n}`, `{n,}`, `{n,m}`) is a literal
//!   in Go (`a{,3}`, `x{2`) and an error in Rust;
//! - `\Q...\E` quotes literal text in Go; Rust has no such escape;
//! - Go rejects a repetition of a repetition (`a**`, `a{2}{3}`, `a+*`; a single `?` after a
//!   repetition is the lazy modifier) and counts above 1000, which Rust accepts.
//!
//! [`to_rust`] rewrites the first two into Rust syntax and reports the last two with Go's
//! error codes. [`go_reason`] translates the `regex` crate's remaining messages into Go's
//! wording (`missing closing )`, `invalid escape sequence`, ...).

use std::borrow::Cow;

/// Go's Perl classes are ASCII-only; Rust's are Unicode. Each is rewritten to an explicit
/// ASCII class inside a `(?u:...)` or `(?-u:...)` group: Go has no `u` flag, so these
/// spellings never come from a valid Go pattern and [`to_go_text`] can undo them exactly.
const ASCII_CLASSES: &[(&str, &str)] = &[
    ("\\d", "(?u:[0-9])"),
    ("\\D", "(?u:[^0-9])"),
    ("\\w", "(?u:[0-9A-Za-z_])"),
    ("\\W", "(?u:[^0-9A-Za-z_])"),
    ("\\s", "(?u:[\\t\\n\\f\\r ])"),
    ("\\S", "(?u:[^\\t\\n\\f\\r ])"),
    ("\\b", "(?-u:\\b)"),
];

/// Go's `.` without the `s` flag: any character but a newline.
const DOT: &str = "(?u:[^\\n])";

/// A `{` that Go reads as a literal.
const LITERAL_BRACE: &str = "(?u:\\{)";

/// The same classes inside a bracket expression (not reversible, and rare).
const IN_CLASS: &[(char, &str)] = &[
    ('d', "0-9"),
    ('D', "[:^digit:]"),
    ('w', "0-9A-Za-z_"),
    ('W', "[:^word:]"),
    ('s', "\\t\\n\\f\\r "),
    ('S', "\\x00-\\x08\\x0B\\x0E-\\x1F\\x21-\\x{10FFFF}"),
];

/// Undoes the reversible rewrites of [`to_rust`], giving the pattern as it was written.
pub fn to_go_text(rust: &str) -> Cow<'_, str> {
    if !rust.contains("(?u:") && !rust.contains("(?-u:") {
        return Cow::Borrowed(rust);
    }
    let mut s = rust.replace(LITERAL_BRACE, "{").replace(DOT, ".");
    for (go, r) in ASCII_CLASSES {
        s = s.replace(r, go);
    }
    Cow::Owned(s)
}

/// Go's limit on `{n,m}` counts.
const MAX_REPEAT: u32 = 1000;

/// A pattern Go's parser rejects: its error code and the offending fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoSyntaxError {
    /// Go's error code text, e.g. `invalid nested repetition operator`.
    pub code: &'static str,
    /// The part of the pattern Go quotes.
    pub fragment: String,
}

/// Rewrites a Go RE2 pattern into one the `regex` crate reads the same way, or returns the
/// error Go's parser would give for a construct that Rust would accept.
pub fn to_rust(p: &str) -> Result<Cow<'_, str>, GoSyntaxError> {
    let cs: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 4);
    let mut changed = false;
    // The previous token was a repetition operator (and whether its lazy `?` was used).
    let mut prev_repeat: Option<(usize, bool)> = None;
    // Whether `.` matches a newline, per open group (Go's default: it does not).
    let mut dot_all = vec![false];
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        match c {
            '\\' if cs.get(i + 1) == Some(&'Q') => {
                let mut j = i + 2;
                let mut lit = String::new();
                while j < cs.len() && !(cs[j] == '\\' && cs.get(j + 1) == Some(&'E')) {
                    lit.push(cs[j]);
                    j += 1;
                }
                out.push_str(&regex_escape(&lit));
                changed = true;
                i = if j < cs.len() { j + 2 } else { j };
                prev_repeat = None;
                continue;
            }
            '\\' if cs
                .get(i + 1)
                .is_some_and(|n| ASCII_CLASSES.iter().any(|(e, _)| e.ends_with(*n))) =>
            {
                let n = cs[i + 1];
                let (_, rust) = ASCII_CLASSES
                    .iter()
                    .find(|(e, _)| e.ends_with(n))
                    .copied()
                    .unwrap_or(("", ""));
                out.push_str(rust);
                changed = true;
                prev_repeat = None;
                i += 2;
                continue;
            }
            '\\' if matches!(cs.get(i + 1), Some('u' | 'U')) => {
                return Err(GoSyntaxError {
                    code: "invalid escape sequence",
                    fragment: cs[i..i + 2].iter().collect(),
                });
            }
            '\\' if cs.get(i + 1).is_some_and(|d| ('0'..='7').contains(d)) => {
                // Go's octal escapes: `\0`, or one to three octal digits when more than one.
                let mut j = i + 1;
                let mut v: u32 = 0;
                while j < cs.len() && j < i + 4 && ('0'..='7').contains(&cs[j]) {
                    v = v * 8 + (cs[j] as u32 - '0' as u32);
                    j += 1;
                }
                if cs[i + 1] != '0' && j == i + 2 {
                    return Err(GoSyntaxError {
                        code: "invalid escape sequence",
                        fragment: cs[i..j].iter().collect(),
                    });
                }
                out.push_str(&format!("\\x{{{v:x}}}"));
                changed = true;
                prev_repeat = None;
                i = j;
                continue;
            }
            '\\' => {
                out.push(c);
                if let Some(&n) = cs.get(i + 1) {
                    out.push(n);
                    i += 2;
                    // `\p{Greek}`, `\x{41}`: copy the braced argument.
                    if matches!(n, 'p' | 'P' | 'x') && cs.get(i) == Some(&'{') {
                        while i < cs.len() {
                            out.push(cs[i]);
                            i += 1;
                            if cs[i - 1] == '}' {
                                break;
                            }
                        }
                    }
                } else {
                    i += 1;
                }
                prev_repeat = None;
                continue;
            }
            '[' => {
                let end = class_end(&cs, i);
                let mut k = i;
                while k < end {
                    if cs[k] == '\\' && k + 1 < end {
                        if let Some((_, r)) = IN_CLASS.iter().find(|(e, _)| *e == cs[k + 1]) {
                            // A class cannot end a range (`[a-\d]`): Go calls it a bad escape.
                            if k >= i + 3
                                && cs[k - 1] == '-'
                                && k - 2 > i
                                && !(k - 2 == i + 1 && cs[k - 2] == '^')
                            {
                                return Err(GoSyntaxError {
                                    code: "invalid escape sequence",
                                    fragment: cs[k..k + 2].iter().collect(),
                                });
                            }
                            out.push_str(r);
                            changed = true;
                        } else {
                            out.push(cs[k]);
                            out.push(cs[k + 1]);
                        }
                        k += 2;
                    } else {
                        out.push(cs[k]);
                        k += 1;
                    }
                }
                i = end;
                prev_repeat = None;
                continue;
            }
            '*' | '+' | '?' => {
                if let Some((start, lazy_used)) = prev_repeat {
                    if c == '?' && !lazy_used {
                        prev_repeat = Some((start, true));
                    } else {
                        return Err(GoSyntaxError {
                            code: "invalid nested repetition operator",
                            fragment: cs[start..=i].iter().collect(),
                        });
                    }
                } else {
                    prev_repeat = Some((i, false));
                }
                out.push(c);
                i += 1;
                continue;
            }
            '{' => {
                if let Some((end, lo, hi)) = repeat_at(&cs, i) {
                    let frag: String = cs[i..end].iter().collect();
                    if let Some((start, _)) = prev_repeat {
                        return Err(GoSyntaxError {
                            code: "invalid nested repetition operator",
                            fragment: cs[start..end].iter().collect(),
                        });
                    }
                    if lo > MAX_REPEAT || hi.is_some_and(|h| h > MAX_REPEAT || h < lo) {
                        return Err(GoSyntaxError {
                            code: "invalid repeat count",
                            fragment: frag,
                        });
                    }
                    out.push_str(&frag);
                    prev_repeat = Some((i, false));
                    i = end;
                } else {
                    out.push_str(LITERAL_BRACE);
                    changed = true;
                    prev_repeat = None;
                    i += 1;
                }
                continue;
            }
            '.' if !dot_all.last().copied().unwrap_or(false) => {
                out.push_str(DOT);
                changed = true;
                prev_repeat = None;
                i += 1;
            }
            '(' => {
                // Track the `s` flag: `(?s)` sets it for the rest of the group, `(?s:` for
                // the new group; every other group inherits it.
                let cur = dot_all.last().copied().unwrap_or(false);
                let mut j = i + 1;
                let mut next = cur;
                if cs.get(j) == Some(&'?') {
                    j += 1;
                    let mut neg = false;
                    while let Some(&f) = cs.get(j) {
                        match f {
                            '-' => neg = true,
                            's' => next = !neg,
                            'i' | 'm' | 'U' => {}
                            _ => break,
                        }
                        j += 1;
                    }
                    if cs.get(j) == Some(&')') {
                        if let Some(top) = dot_all.last_mut() {
                            *top = next;
                        }
                        out.extend(&cs[i..=j]);
                        i = j + 1;
                        prev_repeat = None;
                        continue;
                    }
                    if cs.get(j) != Some(&':') {
                        next = cur;
                    }
                }
                dot_all.push(next);
                out.push(c);
                prev_repeat = None;
                i += 1;
            }
            ')' => {
                if dot_all.len() > 1 {
                    dot_all.pop();
                }
                out.push(c);
                prev_repeat = None;
                i += 1;
            }
            _ => {
                out.push(c);
                prev_repeat = None;
                i += 1;
            }
        }
    }
    Ok(if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(p)
    })
}

/// `{n}`, `{n,}` or `{n,m}` at `i`: (end index, n, m). Counts too large for `u32` saturate.
fn repeat_at(cs: &[char], i: usize) -> Option<(usize, u32, Option<u32>)> {
    let digits = |mut j: usize| {
        let s = j;
        let mut v: u32 = 0;
        while j < cs.len() && cs[j].is_ascii_digit() {
            v = v
                .saturating_mul(10)
                .saturating_add(cs[j] as u32 - '0' as u32);
            j += 1;
        }
        (j > s).then_some((j, v))
    };
    let (j, lo) = digits(i + 1)?;
    match cs.get(j)? {
        '}' => Some((j + 1, lo, Some(lo))),
        ',' => {
            if cs.get(j + 1) == Some(&'}') {
                return Some((j + 2, lo, None));
            }
            let (k, hi) = digits(j + 1)?;
            (cs.get(k) == Some(&'}')).then_some((k + 1, lo, Some(hi)))
        }
        _ => None,
    }
}

/// The index just past the character class starting at `i` (`[...]`, with a leading `^`, a
/// leading literal `]`, escapes and `[:name:]` inside). An unclosed class runs to the end.
fn class_end(cs: &[char], i: usize) -> usize {
    let mut j = i + 1;
    if cs.get(j) == Some(&'^') {
        j += 1;
    }
    if cs.get(j) == Some(&']') {
        j += 1;
    }
    while j < cs.len() {
        match cs[j] {
            '\\' => j += 2,
            '[' if cs.get(j + 1) == Some(&':') => {
                let mut k = j + 2;
                while k + 1 < cs.len() && !(cs[k] == ':' && cs[k + 1] == ']') {
                    k += 1;
                }
                j = if k + 1 < cs.len() { k + 2 } else { j + 1 };
            }
            ']' => return j + 1,
            _ => j += 1,
        }
    }
    cs.len()
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~ ".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Go's wording for a `regex` crate parse error message (the text after `error: `).
pub fn go_reason(rust: &str) -> String {
    const TABLE: &[(&str, &str)] = &[
        ("unrecognized escape sequence", "invalid escape sequence"),
        (
            "backreferences are not supported",
            "invalid escape sequence",
        ),
        ("unclosed group", "missing closing )"),
        ("unopened group", "unexpected )"),
        (
            "repetition operator missing expression",
            "missing argument to repetition operator",
        ),
        (
            "invalid character class range",
            "invalid character class range",
        ),
        ("invalid range boundary", "invalid character class range"),
        ("unclosed character class", "missing closing ]"),
        (
            "incomplete escape sequence",
            "trailing backslash at end of expression",
        ),
        ("invalid repetition count range", "invalid repeat count"),
        ("decimal literal invalid", "invalid repeat count"),
        ("unrecognized flag", "invalid or unsupported Perl syntax"),
        ("look-around", "invalid or unsupported Perl syntax"),
        ("invalid capture group", "invalid named capture"),
        (
            "duplicate capture group name",
            "duplicate capture group name",
        ),
        ("exceeds size limit", "expression too large"),
        ("nest limit", "expression nests too deeply"),
    ];
    TABLE
        .iter()
        .find(|(r, _)| rust.contains(r))
        .map(|(_, g)| g.to_string())
        .unwrap_or_else(|| rust.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(p: &str) -> exposition::Matcher {
        exposition::Matcher::new(exposition::MatchOp::RegexMatch, "x", p).unwrap()
    }

    #[test]
    fn literal_braces_and_quoted_text_become_rust_syntax() {
        assert_eq!(to_rust("a{,3}").unwrap(), "a(?u:\\{),3}");
        assert_eq!(to_rust("x{2").unwrap(), "x(?u:\\{)2");
        assert_eq!(to_rust("\\Q.*\\Ex").unwrap(), "\\.\\*x");
        assert_eq!(to_rust("a{2,3}b{4}c{5,}").unwrap(), "a{2,3}b{4}c{5,}");
        assert_eq!(
            to_rust("[{*]+\\p{Greek}\\x{41}").unwrap(),
            "[{*]+\\p{Greek}\\x{41}"
        );
        assert_eq!(to_rust("[]{]x*?").unwrap(), "[]{]x*?");
        assert!(matches!(to_rust("api|web"), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn perl_classes_are_ascii_and_print_back() {
        for p in ["5\\d\\d", "\\w+\\s\\S\\D\\W", "\\bx", "a{,3}|\\d{2}"] {
            let r = to_rust(p).unwrap();
            assert_ne!(r, p);
            assert_eq!(to_go_text(&r), p);
            compile(&r);
        }
        let d = compile(&to_rust("\\d+\\w").unwrap());
        assert!(d.matches("12a") && !d.matches("١٢a") && !d.matches("12ü"));
        let c = compile(&to_rust("[\\d\\s]+").unwrap());
        assert!(c.matches("1 2") && !c.matches("١"));
        assert!(compile(&to_rust("\\S+").unwrap()).matches("ü\u{b}"));
        assert_eq!(to_rust("\\0\\07\\141").unwrap(), "\\x{0}\\x{7}\\x{61}");
        assert_eq!(to_rust("\\1").unwrap_err().code, "invalid escape sequence");
        assert_eq!(to_rust("[a-\\d]").unwrap_err().fragment, "\\d");
        assert!(to_rust("[-\\d]").is_ok() && to_rust("[\\d-]").is_ok());
        assert!(to_rust("[^-\\d]").is_ok());
        assert_eq!(to_rust("\\u0061").unwrap_err().fragment, "\\u");
    }

    #[test]
    fn dot_skips_newlines_unless_s_is_set() {
        let m = |p: &str, v: &str| compile(&to_rust(p).unwrap()).matches(v);
        assert!(m("a.b", "axb") && !m("a.b", "a\nb"));
        assert!(!m("api-.*", "api-x\ny") && m("api-.*", "api-xy"));
        assert!(m("(?s)a.b", "a\nb") && m("(?s:a.)b", "a\nb"));
        assert!(!m("(?s:a)(.)", "a\n") && !m("(?s)(?-s)a.", "a\n"));
        assert!(m("[.]", ".") && !m("[.]", "x") && m("\\.", "."));
        for p in ["a.b", "(?s:.).", "x(.*)|y.+", "[.].\\.", "(?P<n>.)(?i:.)"] {
            assert_eq!(to_go_text(&to_rust(p).unwrap()), p);
        }
    }

    #[test]
    fn go_only_errors() {
        let e = to_rust("a**").unwrap_err();
        assert_eq!(
            (e.code, e.fragment.as_str()),
            ("invalid nested repetition operator", "**")
        );
        let e = to_rust("a{2}{3}").unwrap_err();
        assert_eq!(e.fragment, "{2}{3}");
        assert_eq!(to_rust("a*??").unwrap_err().fragment, "*??");
        let e = to_rust("a{1001}").unwrap_err();
        assert_eq!(
            (e.code, e.fragment.as_str()),
            ("invalid repeat count", "{1001}")
        );
        assert_eq!(to_rust("a{3,2}").unwrap_err().code, "invalid repeat count");
        assert!(to_rust("a*?b+?c??").is_ok());
        assert!(to_rust("[[:alpha:]*]*").is_ok());
    }

    #[test]
    fn reasons_use_go_words() {
        assert_eq!(go_reason("unclosed group"), "missing closing )");
        assert_eq!(go_reason("something else"), "something else");
    }
}
