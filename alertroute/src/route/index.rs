//! A per-node index over the children's matchers, so a node with many children does not test
//! every child: "which children can possibly match this alert?"
//!
//! Each child is filed under one *necessary* condition taken from its matchers: an equality
//! (`team="db"`), a finite regex set (`service=~"a|b"`) or a literal regex prefix
//! (`service=~"api-.*"`, `svc-1-(a|b)[0-9]+`). Children without one are always candidates.
//! The candidates are then checked in config order with their full matchers, so the result
//! is exactly that of the plain scan.

use std::collections::{BTreeSet, HashMap};

use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use exposition::{Labels, MatchOp, Matcher};

/// Nodes with fewer children than this are scanned linearly.
pub(crate) const MIN_CHILDREN: usize = 8;

#[derive(Debug, Clone, Default)]
struct NameIndex {
    /// Exact values -> child positions.
    exact: HashMap<String, Vec<u32>, Xxh3DefaultBuilder>,
    /// Literal prefixes -> child positions.
    prefixes: HashMap<String, Vec<u32>, Xxh3DefaultBuilder>,
    /// The distinct prefix lengths (bytes), to probe only those.
    prefix_lens: BTreeSet<usize>,
}

/// The index of one node's children (positions in its `children` list).
#[derive(Debug, Clone, Default)]
pub(crate) struct ChildIndex {
    by_name: Vec<(String, NameIndex)>,
    always: Vec<u32>,
}

enum Key {
    Exact(Vec<String>),
    Prefix(String),
}

fn key_for(m: &Matcher) -> Option<Key> {
    match m.op() {
        MatchOp::Equal => Some(Key::Exact(vec![m.value().to_string()])),
        MatchOp::RegexMatch => {
            if let Some(set) = m.set_matches() {
                return Some(Key::Exact(set.to_vec()));
            }
            let p = match m.prefix() {
                Some(p) => p.to_string(),
                None => literal_prefix(m.value())?,
            };
            (!p.is_empty()).then_some(Key::Prefix(p))
        }
        _ => None,
    }
}

/// The literal text every match of the (anchored) pattern starts with, conservatively:
/// `None` when the pattern has a top-level alternation or starts with a metacharacter.
pub(crate) fn literal_prefix(p: &str) -> Option<String> {
    let (mut depth, mut in_class, mut esc) = (0i32, false, false);
    for c in p.chars() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' => esc = true,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => depth -= 1,
            '|' if !in_class && depth == 0 => return None,
            _ => {}
        }
    }
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        let lit = match c {
            '\\' => match chars.next() {
                Some(n) if n.is_ascii_punctuation() => n,
                _ => break,
            },
            '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' => break,
            c => c,
        };
        match chars.peek() {
            Some('?' | '*' | '{') => break, // this character is optional or counted
            Some('+') => {
                out.push(lit);
                break;
            }
            _ => out.push(lit),
        }
    }
    (!out.is_empty()).then_some(out)
}

impl ChildIndex {
    /// Builds the index for children given by their matchers, in order.
    pub(crate) fn build<'a>(children: impl Iterator<Item = &'a [Matcher]>) -> ChildIndex {
        let mut idx = ChildIndex::default();
        for (pos, matchers) in children.enumerate() {
            let pos = pos as u32;
            // Prefer an exact key to a prefix.
            let mut best: Option<(&str, Key)> = None;
            for m in matchers {
                match key_for(m) {
                    Some(k @ Key::Exact(_)) => {
                        best = Some((m.name(), k));
                        break;
                    }
                    Some(k @ Key::Prefix(_)) if best.is_none() => best = Some((m.name(), k)),
                    _ => {}
                }
            }
            let Some((name, key)) = best else {
                idx.always.push(pos);
                continue;
            };
            let slot = match idx.by_name.iter().position(|(n, _)| n == name) {
                Some(i) => i,
                None => {
                    idx.by_name.push((name.to_string(), NameIndex::default()));
                    idx.by_name.len() - 1
                }
            };
            let ni = &mut idx.by_name[slot].1;
            match key {
                Key::Exact(values) => {
                    for v in values {
                        ni.exact.entry(v).or_default().push(pos);
                    }
                }
                Key::Prefix(p) => {
                    ni.prefix_lens.insert(p.len());
                    ni.prefixes.entry(p).or_default().push(pos);
                }
            }
        }
        idx
    }

    /// Appends the positions of the children that may match `labels` to `out`, ascending
    /// and unique within the appended part.
    pub(crate) fn candidates(&self, labels: &Labels, out: &mut Vec<u32>) {
        let start = out.len();
        out.extend_from_slice(&self.always);
        for (name, ni) in &self.by_name {
            let v = labels.get(name).unwrap_or("");
            if let Some(ps) = ni.exact.get(v) {
                out.extend_from_slice(ps);
            }
            for &len in &ni.prefix_lens {
                let Some(pre) = v.get(..len) else { break };
                if let Some(ps) = ni.prefixes.get(pre) {
                    out.extend_from_slice(ps);
                }
            }
        }
        if out.len() - start <= 1 {
            return;
        }
        let part = &mut out[start..];
        part.sort_unstable();
        // Dedup the appended part in place.
        let mut w = 0;
        for r in 0..part.len() {
            if r == 0 || part[r] != part[w - 1] {
                part[w] = part[r];
                w += 1;
            }
        }
        out.truncate(start + w);
    }
}

/// A regex matcher of the shape `lit|lit2|prefix.*|...` (literals, each optionally followed
/// by `.*`), evaluated without the regex engine. Anchored like the regex; `.*` matches
/// anything but a newline, as in Go.
#[derive(Debug, Clone)]
pub(crate) struct AltMatch {
    name: String,
    exact: Vec<String>,
    prefixes: Vec<String>,
}

impl AltMatch {
    /// Recognises the shape; `None` for anything else (including shapes the matcher's own
    /// fast paths already cover).
    pub(crate) fn new(m: &Matcher) -> Option<AltMatch> {
        if m.op() != MatchOp::RegexMatch || m.set_matches().is_some() || m.prefix().is_some() {
            return None;
        }
        // The pattern as written (Go syntax): its `.*` does not cross a newline.
        let shown = crate::matchers::shown_value(m);
        let p: &str = &shown;
        if p.contains(['(', ')', '[', ']', '{', '}', '\\', '^', '$', '?', '+']) {
            return None;
        }
        let mut out = AltMatch {
            name: m.name().to_string(),
            exact: Vec::new(),
            prefixes: Vec::new(),
        };
        for alt in p.split('|') {
            match alt.strip_suffix(".*") {
                Some(pre) if !pre.contains(['.', '*']) => out.prefixes.push(pre.to_string()),
                Some(_) => return None,
                None if !alt.contains(['.', '*']) => out.exact.push(alt.to_string()),
                None => return None,
            }
        }
        Some(out)
    }

    /// Whether the label value matches.
    #[inline]
    pub(crate) fn matches(&self, labels: &Labels) -> bool {
        let v = labels.get(&self.name).unwrap_or("");
        self.exact.iter().any(|e| e == v)
            || self.prefixes.iter().any(|p| {
                v.strip_prefix(p.as_str())
                    .is_some_and(|rest| !rest.contains('\n'))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternation_fast_path_agrees_with_regex() {
        let pats = [
            "crit.*|page",
            "a|b.*|",
            "x.*|y.*",
            ".*|a",
            "a.b|c",
            "a*|b",
            "(a)|b",
            "ab|c\\.d",
        ];
        let inputs = [
            "", "a", "b", "bx", "crit", "critical", "page", "pagex", "x", "y\nz", "a.b", "axb", "c",
        ];
        let mut recognised = 0;
        for p in pats {
            let m = crate::matchers::new_matcher(MatchOp::RegexMatch, "l", p).unwrap();
            let Some(fast) = AltMatch::new(&m) else {
                continue;
            };
            recognised += 1;
            for i in inputs {
                let l = Labels::from_pairs(&[("l", i)]);
                assert_eq!(fast.matches(&l), m.matches(i), "{p} on {i:?}");
            }
        }
        assert_eq!(recognised, 4, "crit.*|page, a|b.*|, x.*|y.*, .*|a");
    }

    #[test]
    fn literal_prefixes() {
        assert_eq!(literal_prefix("svc-1-(a|b)[0-9]+"), Some("svc-1-".into()));
        assert_eq!(literal_prefix("abc?"), Some("ab".into()));
        assert_eq!(literal_prefix("ab+c"), Some("ab".into()));
        assert_eq!(literal_prefix("a\\.b.*"), Some("a.b".into()));
        assert_eq!(literal_prefix("a|b"), None);
        assert_eq!(literal_prefix("(?i)abc"), None);
        assert_eq!(literal_prefix("^(?:x)$"), None);
        assert_eq!(literal_prefix("x{2}"), None);
        assert_eq!(literal_prefix("[|]abc"), None);
        assert_eq!(literal_prefix("ab(c|d)"), Some("ab".into()));
    }

    /// The prefix is a necessary condition: whatever matches starts with it.
    #[test]
    fn prefix_is_necessary() {
        let pats = [
            "svc-1-(a|b)[0-9]+",
            "abc?",
            "ab+c",
            "ab(c|d)",
            "a\\.b.*",
            "xy*z",
        ];
        let inputs = [
            "svc-1-a1",
            "svc-1-b22",
            "ab",
            "abc",
            "abbbc",
            "abd",
            "a.b",
            "a.bzz",
            "xz",
            "xyyz",
        ];
        for p in pats {
            let m = Matcher::new(MatchOp::RegexMatch, "l", p).unwrap();
            let pre = literal_prefix(p).unwrap();
            for i in inputs {
                if m.matches(i) {
                    assert!(i.starts_with(&pre), "{p} matched {i} without prefix {pre}");
                }
            }
        }
    }
}
