//! `Labels`: the identity of a time series.
//!
//! A label set is a list of `name="value"` pairs kept sorted by name with no duplicate
//! names and no empty values (Prometheus treats an empty value as "no such label").
//! Comparison is lexicographic over the sorted pairs, the same order Prometheus uses to
//! sort series, and [`Labels::hash`] is a stable xxhash of the pairs for series lookups.
//!
//! ```
//! use exposition::Labels;
//!
//! let l = Labels::from_pairs(&[("job", "node"), ("__name__", "up"), ("instance", "a:9100")]);
//! assert_eq!(l.get("job"), Some("node"));
//! assert_eq!(l.metric_name(), Some("up"));
//! assert_eq!(l.to_string(), r#"up{instance="a:9100", job="node"}"#);
//! ```

use std::fmt;

use crate::error::LabelError;

/// The reserved label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One `name="value"` pair.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// Label name.
    pub name: String,
    /// Label value (never empty inside a [`Labels`]).
    pub value: String,
}

impl Label {
    /// A new label pair.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Label {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A sorted set of labels with unique names; see the [module docs](self).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels {
    pairs: Vec<Label>,
}

impl Labels {
    /// The empty label set.
    pub const fn empty() -> Labels {
        Labels { pairs: Vec::new() }
    }

    /// Builds a label set from pairs in any order. Empty values are dropped; when a name
    /// repeats, the last pair wins. Use [`Labels::try_from_pairs`] to reject duplicates.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> Labels {
        let mut b = LabelsBuilder::new();
        for (n, v) in pairs {
            b.set(n.as_ref(), v.as_ref());
        }
        b.build()
    }

    /// Builds a label set, rejecting empty and duplicate names. Empty values are dropped.
    pub fn try_from_pairs<N: AsRef<str>, V: AsRef<str>>(
        pairs: &[(N, V)],
    ) -> Result<Labels, LabelError> {
        let mut v: Vec<Label> = Vec::with_capacity(pairs.len());
        for (n, val) in pairs {
            let (n, val) = (n.as_ref(), val.as_ref());
            if n.is_empty() {
                return Err(LabelError::EmptyName);
            }
            v.push(Label::new(n, val));
        }
        Labels::from_vec(v)
    }

    /// Builds a label set from owned labels, rejecting empty and duplicate names.
    /// Empty values are dropped.
    pub fn from_vec(mut v: Vec<Label>) -> Result<Labels, LabelError> {
        v.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        for w in v.windows(2) {
            if w[0].name == w[1].name {
                return Err(LabelError::DuplicateName(w[0].name.clone()));
            }
        }
        if v.iter().any(|l| l.name.is_empty()) {
            return Err(LabelError::EmptyName);
        }
        v.retain(|l| !l.value.is_empty());
        Ok(Labels { pairs: v })
    }

    /// Builds from labels already sorted by unique, non-empty name with non-empty values.
    /// The invariant is checked in debug builds only.
    pub fn from_sorted_unchecked(v: Vec<Label>) -> Labels {
        debug_assert!(v.windows(2).all(|w| w[0].name < w[1].name));
        debug_assert!(v.iter().all(|l| !l.value.is_empty()));
        Labels { pairs: v }
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.pairs[i].value.as_str())
    }

    /// Whether a label called `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Iterates pairs in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.pairs.iter()
    }

    /// The pairs as a slice, in name order.
    pub fn as_slice(&self) -> &[Label] {
        &self.pairs
    }

    /// Consumes the set and returns its pairs in name order.
    pub fn into_vec(self) -> Vec<Label> {
        self.pairs
    }

    /// A stable 64-bit hash of the pairs (xxh3), the same for equal label sets on every
    /// platform and run. Used as the series key in the tsdb.
    pub fn hash(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for l in &self.pairs {
            h.update(l.name.as_bytes());
            h.update(&[0xff]);
            h.update(l.value.as_bytes());
            h.update(&[0xff]);
        }
        h.digest()
    }

    /// Hash of only the labels named in `names` (which need not be sorted).
    pub fn hash_for(&self, names: &[impl AsRef<str>]) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for l in &self.pairs {
            if names.iter().any(|n| n.as_ref() == l.name) {
                h.update(l.name.as_bytes());
                h.update(&[0xff]);
                h.update(l.value.as_bytes());
                h.update(&[0xff]);
            }
        }
        h.digest()
    }

    /// Hash of all labels except those named in `names` (and except `__name__`).
    pub fn hash_without(&self, names: &[impl AsRef<str>]) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for l in &self.pairs {
            if l.name != METRIC_NAME && !names.iter().any(|n| n.as_ref() == l.name) {
                h.update(l.name.as_bytes());
                h.update(&[0xff]);
                h.update(l.value.as_bytes());
                h.update(&[0xff]);
            }
        }
        h.digest()
    }

    /// A new set holding only the labels named in `names`.
    pub fn keep_only(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels {
            pairs: self
                .pairs
                .iter()
                .filter(|l| names.iter().any(|n| n.as_ref() == l.name))
                .cloned()
                .collect(),
        }
    }

    /// A new set without the labels named in `names`.
    pub fn without(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels {
            pairs: self
                .pairs
                .iter()
                .filter(|l| !names.iter().any(|n| n.as_ref() == l.name))
                .cloned()
                .collect(),
        }
    }

    /// A new set without `__name__`.
    pub fn without_metric_name(&self) -> Labels {
        self.without(&[METRIC_NAME])
    }

    /// A builder seeded with these labels.
    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder {
            pairs: self.pairs.clone(),
        }
    }

    /// Checks every name against Prometheus's rules: legacy names
    /// (`[a-zA-Z_][a-zA-Z0-9_]*`, metric names also allow `:`) when `utf8` is false,
    /// any non-empty UTF-8 string when `utf8` is true (Prometheus 3.x).
    pub fn validate(&self, utf8: bool) -> Result<(), LabelError> {
        for l in &self.pairs {
            if l.name == METRIC_NAME {
                if !(if utf8 {
                    !l.value.is_empty()
                } else {
                    is_valid_legacy_metric_name(&l.value)
                }) {
                    return Err(LabelError::InvalidMetricName(l.value.clone()));
                }
            } else if !(if utf8 {
                !l.name.is_empty()
            } else {
                is_valid_legacy_label_name(&l.name)
            }) {
                return Err(LabelError::InvalidName(l.name.clone()));
            }
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.pairs.iter()
    }
}

impl fmt::Display for Labels {
    /// PromQL form: `name{a="b", c="d"}`; names that are not legacy-valid are quoted,
    /// and a non-legacy metric name moves inside the braces (`{"my.metric", a="b"}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name();
        let mut first = true;
        let name_outside = name.is_some_and(is_valid_legacy_metric_name);
        if let (Some(n), true) = (name, name_outside) {
            f.write_str(n)?;
        }
        let rest = self.pairs.iter().filter(|l| l.name != METRIC_NAME);
        if name_outside && self.pairs.len() == 1 {
            return Ok(());
        }
        f.write_str("{")?;
        if let (Some(n), false) = (name, name_outside) {
            write_quoted(f, n)?;
            first = false;
        }
        for l in rest {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            if is_valid_legacy_label_name(&l.name) {
                f.write_str(&l.name)?;
            } else {
                write_quoted(f, &l.name)?;
            }
            f.write_str("=")?;
            write_quoted(f, &l.value)?;
        }
        f.write_str("}")
    }
}

/// Writes `s` as a double-quoted string with Go-style escapes (`\\`, `\"`, `\n`, ...).
pub fn write_quoted<W: fmt::Write>(w: &mut W, s: &str) -> fmt::Result {
    w.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => w.write_str("\\\"")?,
            '\\' => w.write_str("\\\\")?,
            '\n' => w.write_str("\\n")?,
            '\r' => w.write_str("\\r")?,
            '\t' => w.write_str("\\t")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(w, "\\x{:02x}", c as u32)?,
            c => w.write_char(c)?,
        }
    }
    w.write_char('"')
}

/// Builds a [`Labels`] by setting and deleting names; the result is sorted and unique.
///
/// ```
/// use exposition::{Labels, LabelsBuilder};
/// let mut b = LabelsBuilder::new();
/// b.set("b", "2").set("a", "1").set("b", "3").del("a");
/// assert_eq!(b.build(), Labels::from_pairs(&[("b", "3")]));
/// ```
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    pairs: Vec<Label>,
}

impl LabelsBuilder {
    /// An empty builder.
    pub fn new() -> LabelsBuilder {
        LabelsBuilder::default()
    }

    /// Sets `name` to `value`; an empty value deletes the label.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        if value.is_empty() {
            return self.del(name);
        }
        match self.pairs.iter_mut().find(|l| l.name == name) {
            Some(l) => {
                l.value.clear();
                l.value.push_str(value);
            }
            None => self.pairs.push(Label::new(name, value)),
        }
        self
    }

    /// Removes `name` if present.
    pub fn del(&mut self, name: &str) -> &mut Self {
        self.pairs.retain(|l| l.name != name);
        self
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.value.as_str())
    }

    /// Keeps only the labels for which `f` returns true.
    pub fn retain(&mut self, mut f: impl FnMut(&Label) -> bool) -> &mut Self {
        self.pairs.retain(|l| f(l));
        self
    }

    /// The sorted label set.
    pub fn build(&self) -> Labels {
        let mut v = self.pairs.clone();
        v.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Labels { pairs: v }
    }
}

/// Legacy metric name rule: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_valid_legacy_metric_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b':')
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

/// Legacy label name rule: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_legacy_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Prometheus 3.x UTF-8 name rule: any non-empty valid UTF-8 string.
pub fn is_valid_utf8_name(s: &str) -> bool {
    !s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_unique() {
        let l = Labels::from_pairs(&[("b", "1"), ("a", "2"), ("b", "3"), ("c", "")]);
        let names: Vec<_> = l.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(l.get("b"), Some("3"));
        assert_eq!(l.get("c"), None);
    }

    #[test]
    fn try_from_pairs_rejects_duplicates_and_empty_names() {
        assert_eq!(
            Labels::try_from_pairs(&[("a", "1"), ("a", "2")]),
            Err(LabelError::DuplicateName("a".into()))
        );
        assert_eq!(
            Labels::try_from_pairs(&[("", "1")]),
            Err(LabelError::EmptyName)
        );
    }

    #[test]
    fn display_forms() {
        assert_eq!(Labels::from_pairs(&[("__name__", "up")]).to_string(), "up");
        assert_eq!(Labels::empty().to_string(), "{}");
        assert_eq!(
            Labels::from_pairs(&[("__name__", "a.b"), ("x-y", "q\"\n")]).to_string(),
            r#"{"a.b", "x-y"="q\"\n"}"#
        );
    }

    #[test]
    fn hash_is_order_independent_and_discriminating() {
        let a = Labels::from_pairs(&[("a", "1"), ("b", "2")]);
        let b = Labels::from_pairs(&[("b", "2"), ("a", "1")]);
        let c = Labels::from_pairs(&[("a", "12")]);
        let d = Labels::from_pairs(&[("a", "1"), ("2", "")]);
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
        assert_ne!(c.hash(), d.hash());
    }

    #[test]
    fn name_rules() {
        assert!(is_valid_legacy_metric_name("a:b_c9"));
        assert!(!is_valid_legacy_metric_name("9a"));
        assert!(!is_valid_legacy_label_name("a:b"));
        assert!(is_valid_legacy_label_name("_a9"));
        let l = Labels::from_pairs(&[("__name__", "a.b")]);
        assert!(l.validate(false).is_err());
        assert!(l.validate(true).is_ok());
    }

    #[test]
    fn ordering_matches_prometheus() {
        let a = Labels::from_pairs(&[("a", "1")]);
        let b = Labels::from_pairs(&[("a", "1"), ("b", "1")]);
        let c = Labels::from_pairs(&[("a", "2")]);
        assert!(a < b && b < c);
    }
}
