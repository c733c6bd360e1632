//! Label matchers: `=`, `!=`, `=~`, `!~`.
//!
//! Regular expressions use RE2 syntax (the `regex` crate) and are anchored at both ends, as
//! in Prometheus: `job=~"api"` matches only the value `api`, not `api-server`. `.` also
//! matches a newline (Prometheus 3.x compiles patterns with the `s` flag).
//!
//! Patterns are analysed when the matcher is built so the hot paths in the tsdb and the
//! router avoid the regex engine: a literal, an alternation of literals (`a|b|c`), a
//! literal prefix (`api.*`), a suffix (`.*-prod`), a substring (`.*err.*`), `.*` and `.+`.
//!
//! ```
//! use exposition::{MatchOp, Matcher};
//!
//! let m = Matcher::new(MatchOp::RegexMatch, "job", "api|web").unwrap();
//! assert!(m.matches("web"));
//! assert!(!m.matches("web-2"));
//! assert_eq!(m.set_matches(), Some(&["api".to_string(), "web".to_string()][..]));
//! ```

use std::fmt;

use regex::{Regex, RegexBuilder};

use crate::error::MatcherError;
use crate::labels::{is_valid_legacy_label_name, write_quoted};

/// The comparison a [`Matcher`] performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    RegexMatch,
    /// `!~`
    RegexNoMatch,
}

impl MatchOp {
    /// The operator as written in PromQL.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        }
    }

    /// Whether the operator is one of the negative forms (`!=`, `!~`).
    pub fn is_negative(self) -> bool {
        matches!(self, MatchOp::NotEqual | MatchOp::RegexNoMatch)
    }
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most memory one compiled regular expression may take: 10 MiB.
///
/// Matching with the `regex` crate is linear in the input whatever the pattern (no
/// backtracking, so `(a*)*b` is harmless), but the compiled program grows with the
/// pattern: counted repetitions multiply (`(\w{100}){100}` is millions of states). A
/// pattern whose compiled form would exceed this limit is refused by [`FastRegex::new`]
/// with [`MatcherError::InvalidRegex`] whose reason says so, instead of letting one
/// matcher take the process's memory. Ordinary patterns, including alternations of ten
/// thousand values, stay far below it.
pub const REGEX_SIZE_LIMIT: usize = 10 << 20;

/// A compiled, fully anchored regular expression with fast paths for common shapes.
#[derive(Clone)]
pub struct FastRegex {
    pattern: String,
    kind: FastKind,
}

#[derive(Clone)]
enum FastKind {
    /// Matches exactly one string.
    Literal(String),
    /// Matches one of a sorted, de-duplicated set of strings.
    Set(Vec<String>),
    /// `.*`
    Any,
    /// `.+`
    NonEmpty,
    /// `prefix.*`
    Prefix(String),
    /// `.*suffix`
    Suffix(String),
    /// `.*needle.*`
    Contains(String),
    /// Anything else: the regex engine.
    Regex(Box<Regex>),
}

impl FastRegex {
    /// Compiles `pattern`, anchored at both ends.
    ///
    /// Fails with [`MatcherError::InvalidRegex`] when the pattern does not parse, or when
    /// its compiled form would exceed [`REGEX_SIZE_LIMIT`].
    pub fn new(pattern: &str) -> Result<FastRegex, MatcherError> {
        // Always compile once so an invalid pattern is an error even when a fast path
        // would have accepted it (e.g. unbalanced parentheses never reach here anyway).
        let anchored = format!("^(?s:{pattern})$");
        let re = RegexBuilder::new(&anchored)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| MatcherError::InvalidRegex {
                pattern: pattern.to_string(),
                reason: match e {
                    regex::Error::CompiledTooBig(limit) => format!(
                        "the compiled regular expression would exceed the size limit of {limit} bytes ({} MiB); simplify the pattern",
                        limit >> 20
                    ),
                    e => e.to_string(),
                },
            })?;
        let kind = analyse(pattern).unwrap_or(FastKind::Regex(Box::new(re)));
        Ok(FastRegex {
            pattern: pattern.to_string(),
            kind,
        })
    }

    /// The pattern as written (without the anchors).
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the whole of `s` matches.
    #[inline]
    pub fn is_match(&self, s: &str) -> bool {
        match &self.kind {
            FastKind::Literal(l) => s == l,
            FastKind::Set(set) => {
                if set.len() <= 8 {
                    set.iter().any(|x| x == s)
                } else {
                    set.binary_search_by(|x| x.as_str().cmp(s)).is_ok()
                }
            }
            FastKind::Any => true,
            FastKind::NonEmpty => !s.is_empty(),
            FastKind::Prefix(p) => s.starts_with(p.as_str()),
            FastKind::Suffix(p) => s.ends_with(p.as_str()),
            FastKind::Contains(p) => s.contains(p.as_str()),
            FastKind::Regex(re) => re.is_match(s),
        }
    }

    /// When the regex matches only a finite set of strings, those strings (sorted).
    pub fn set_matches(&self) -> Option<&[String]> {
        match &self.kind {
            FastKind::Literal(l) => Some(std::slice::from_ref(l)),
            FastKind::Set(s) => Some(s),
            _ => None,
        }
    }

    /// A literal prefix every match starts with, when the pattern is `prefix.*`.
    pub fn prefix(&self) -> Option<&str> {
        match &self.kind {
            FastKind::Prefix(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Debug for FastRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FastRegex({:?})", self.pattern)
    }
}

/// Recognises the fast shapes; `None` means "use the regex engine".
fn analyse(p: &str) -> Option<FastKind> {
    match p {
        ".*" => return Some(FastKind::Any),
        ".+" => return Some(FastKind::NonEmpty),
        _ => {}
    }
    if let Some(l) = literal(p) {
        return Some(FastKind::Literal(l));
    }
    // Alternation of literals, optionally wrapped in one group: a|b|c or (a|b|c).
    let inner = p
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .map(|s| s.strip_prefix("?:").unwrap_or(s))
        .filter(|s| !s.contains(['(', ')']))
        .unwrap_or(p);
    if inner.contains('|') && !inner.contains(['(', ')']) {
        let mut set = Vec::new();
        for alt in split_alternation(inner)? {
            set.push(literal(alt)?);
        }
        set.sort();
        set.dedup();
        return Some(FastKind::Set(set));
    }
    if let Some(rest) = p.strip_prefix(".*") {
        if let Some(mid) = rest.strip_suffix(".*") {
            if let Some(l) = literal(mid) {
                return Some(FastKind::Contains(l));
            }
        }
        if let Some(l) = literal(rest) {
            return Some(FastKind::Suffix(l));
        }
    }
    if let Some(pre) = p.strip_suffix(".*") {
        if let Some(l) = literal(pre) {
            return Some(FastKind::Prefix(l));
        }
    }
    None
}

/// Splits on top-level `|` that are not escaped.
fn split_alternation(p: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in p.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '|' => {
                out.push(&p[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if escaped {
        return None;
    }
    out.push(&p[start..]);
    Some(out)
}

/// The string a pattern matches when it contains no metacharacters (escaped punctuation
/// counts as literal); `None` otherwise.
fn literal(p: &str) -> Option<String> {
    let mut out = String::with_capacity(p.len());
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let n = chars.next()?;
                if n.is_ascii_punctuation() {
                    out.push(n);
                } else {
                    return None; // \d, \w, \n, ... are classes or escapes: not literal
                }
            }
            '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' => {
                return None
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// A label matcher such as `job=~"api|web"`.
///
/// Equality and hashing consider the name, operator and value (not the compiled form).
#[derive(Clone)]
pub struct Matcher {
    name: String,
    op: MatchOp,
    value: String,
    re: Option<FastRegex>,
}

impl Matcher {
    /// Builds a matcher; regex operators compile `value` (anchored) and fail on a bad pattern.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Matcher, MatcherError> {
        let value = value.into();
        let re = match op {
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => Some(FastRegex::new(&value)?),
            _ => None,
        };
        Ok(Matcher {
            name: name.into(),
            op,
            value,
            re,
        })
    }

    /// Shorthand for an `=` matcher (never fails).
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Matcher {
        Matcher {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            re: None,
        }
    }

    /// The label name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operator.
    pub fn op(&self) -> MatchOp {
        self.op
    }

    /// The value or pattern as written.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether a label value matches. An absent label is the empty string.
    #[inline]
    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Equal => v == self.value,
            MatchOp::NotEqual => v != self.value,
            MatchOp::RegexMatch => self.regex().is_match(v),
            MatchOp::RegexNoMatch => !self.regex().is_match(v),
        }
    }

    /// Whether the matcher accepts the empty string, i.e. also selects series that do
    /// not have the label at all.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// The compiled regex of a regex matcher.
    pub fn fast_regex(&self) -> Option<&FastRegex> {
        self.re.as_ref()
    }

    /// For `=` and `=~` matchers that accept a finite set of values, that set (sorted).
    pub fn set_matches(&self) -> Option<&[String]> {
        match self.op {
            MatchOp::Equal => Some(std::slice::from_ref(&self.value)),
            MatchOp::RegexMatch => self.regex().set_matches(),
            _ => None,
        }
    }

    /// The literal prefix of a `=~"prefix.*"` matcher.
    pub fn prefix(&self) -> Option<&str> {
        match self.op {
            MatchOp::RegexMatch => self.regex().prefix(),
            _ => None,
        }
    }

    /// The inverse matcher (`=` ↔ `!=`, `=~` ↔ `!~`).
    pub fn inverse(&self) -> Matcher {
        let op = match self.op {
            MatchOp::Equal => MatchOp::NotEqual,
            MatchOp::NotEqual => MatchOp::Equal,
            MatchOp::RegexMatch => MatchOp::RegexNoMatch,
            MatchOp::RegexNoMatch => MatchOp::RegexMatch,
        };
        Matcher {
            name: self.name.clone(),
            op,
            value: self.value.clone(),
            re: self.re.clone(),
        }
    }

    fn regex(&self) -> &FastRegex {
        // Regex operators always carry a compiled pattern (see `new`).
        self.re
            .as_ref()
            .expect("regex matcher built without a pattern")
    }
}

impl PartialEq for Matcher {
    fn eq(&self, o: &Matcher) -> bool {
        self.name == o.name && self.op == o.op && self.value == o.value
    }
}

impl Eq for Matcher {}

impl std::hash::Hash for Matcher {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.name.hash(h);
        self.op.hash(h);
        self.value.hash(h);
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Matcher({self})")
    }
}

impl fmt::Display for Matcher {
    /// PromQL form: `name="value"`, with a quoted name when it is not legacy-valid.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_valid_legacy_label_name(&self.name) {
            f.write_str(&self.name)?;
        } else {
            write_quoted(f, &self.name)?;
        }
        f.write_str(self.op.as_str())?;
        write_quoted(f, &self.value)
    }
}

/// Whether every matcher accepts the given label set (absent labels match as "").
pub fn matches_all(matchers: &[Matcher], labels: &crate::Labels) -> bool {
    matchers
        .iter()
        .all(|m| m.matches(labels.get(m.name()).unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> FastRegex {
        FastRegex::new(p).unwrap()
    }

    #[test]
    fn anchored_both_ends() {
        let r = re("api");
        assert!(r.is_match("api"));
        assert!(!r.is_match("xapi"));
        assert!(!r.is_match("apix"));
        let r = re("a[0-9]+");
        assert!(r.is_match("a12"));
        assert!(!r.is_match("a12b"));
    }

    #[test]
    fn fast_paths_agree_with_regex() {
        let patterns = [
            ".*", ".+", "abc", "a|b|cc", "(a|b)", "(?:x|y)", "foo.*", ".*foo", ".*foo.*", "a\\.b",
            "a\\|b", "a.b", "(a|b)c", "a|b.*", "", "|a", "\\d+", "(?i)abc",
        ];
        let inputs = [
            "", "a", "b", "cc", "abc", "ABC", "foo", "foobar", "barfoo", "xfooy", "a.b", "a|b",
            "axb", "ac", "bc", "b123", "123", "x", "y", "\n", "foo\nbar",
        ];
        for p in patterns {
            let fast = re(p);
            let slow = Regex::new(&format!("^(?s:{p})$")).unwrap();
            for i in inputs {
                assert_eq!(
                    fast.is_match(i),
                    slow.is_match(i),
                    "pattern {p:?} input {i:?}"
                );
            }
        }
    }

    #[test]
    fn dot_matches_newline() {
        assert!(re("a.b").is_match("a\nb"));
        assert!(re(".*").is_match("x\ny"));
    }

    #[test]
    fn sets_and_prefixes() {
        assert_eq!(
            re("b|a|b").set_matches(),
            Some(&["a".to_string(), "b".to_string()][..])
        );
        assert_eq!(re("node_.*").prefix(), Some("node_"));
        assert_eq!(re("a.b").set_matches(), None);
    }

    #[test]
    fn bad_regex_is_an_error() {
        let e = Matcher::new(MatchOp::RegexMatch, "a", "(").unwrap_err();
        assert!(matches!(e, MatcherError::InvalidRegex { .. }));
    }

    #[test]
    fn matcher_semantics() {
        let m = Matcher::new(MatchOp::NotEqual, "a", "").unwrap();
        assert!(!m.matches_empty());
        let m = Matcher::new(MatchOp::RegexNoMatch, "a", ".+").unwrap();
        assert!(m.matches_empty());
        assert_eq!(m.to_string(), r#"a!~".+""#);
        assert_eq!(m.inverse().op(), MatchOp::RegexMatch);
        let q = Matcher::new(MatchOp::Equal, "a.b", "x").unwrap();
        assert_eq!(q.to_string(), r#""a.b"="x""#);
    }
}
