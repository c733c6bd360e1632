//! Label rewriting: `label_replace` and `label_join`.

use exposition::Labels;
use regex::Regex;

/// Compiles a `label_replace` regex, anchored at both ends with `.` matching newlines.
pub fn compile_anchored(re: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?s:{re})$"))
}

/// `label_replace`: when `regex` matches the value of `src` (empty when missing),
/// sets `dst` to `replacement` with `$1`/`${name}` expanded; an empty result deletes
/// `dst`. Returns `None` when the labels are unchanged.
pub fn label_replace(
    labels: &Labels,
    dst: &str,
    replacement: &str,
    src: &str,
    regex: &Regex,
) -> Option<Labels> {
    let src_val = labels.get(src).unwrap_or("");
    let caps = regex.captures(src_val)?;
    let mut out = String::new();
    caps.expand(replacement, &mut out);
    let mut b = labels.builder();
    b.set(dst, &out);
    Some(b.build())
}

/// `label_join`: sets `dst` to the values of `srcs` joined by `sep` (missing labels
/// count as empty); an empty result deletes `dst`.
pub fn label_join(labels: &Labels, dst: &str, sep: &str, srcs: &[String]) -> Labels {
    let joined = srcs
        .iter()
        .map(|s| labels.get(s).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(sep);
    let mut b = labels.builder();
    b.set(dst, &joined);
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_with_groups() {
        let l = Labels::from_pairs(&[("src", "a-value-b")]);
        let re = compile_anchored("(.*)-value-(.*)").unwrap();
        let out = label_replace(&l, "dst", "$1-$2", "src", &re).unwrap();
        assert_eq!(out.get("dst"), Some("a-b"));
        let re = compile_anchored("value").unwrap();
        assert!(label_replace(&l, "dst", "x", "src", &re).is_none());
    }

    #[test]
    fn join_skips_missing() {
        let l = Labels::from_pairs(&[("a", "1"), ("c", "3")]);
        let out = label_join(&l, "d", "-", &["a".into(), "b".into(), "c".into()]);
        assert_eq!(out.get("d"), Some("1--3"));
    }
}
