//! Which group does a request address? Parsing `/metrics/job/<job>{/<label>/<value>}` into
//! a grouping key, with `@base64` values and `%xx` escapes.

use base64::Engine as _;
use exposition::labels::is_valid_legacy_label_name;
use exposition::{Label, Labels};

use super::error::KeyError;

/// Parses the part of a path after `/metrics/` (for example `job/batch/instance/a`) into
/// the grouping key. A name ending in `@base64` has a URL-safe base64 value (padding
/// optional, `=` alone for the empty value); other values are percent-decoded.
///
/// ```
/// use examples::pushgateway::key::parse_grouping_key;
/// let k = parse_grouping_key("job/batch/path@base64/L3Zhci90bXA").unwrap();
/// assert_eq!(k.get("job"), Some("batch"));
/// assert_eq!(k.get("path"), Some("/var/tmp"));
/// ```
pub fn parse_grouping_key(rest: &str) -> Result<Labels, KeyError> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segs: Vec<&str> = rest.split('/').collect();
    match segs.first() {
        Some(&"job") | Some(&"job@base64") => {}
        _ => return Err(KeyError::NoJob),
    }
    let mut pairs: Vec<Label> = Vec::with_capacity(segs.len() / 2);
    let mut i = 0;
    while i < segs.len() {
        let raw_name = segs[i];
        let (name, b64) = match raw_name.strip_suffix("@base64") {
            Some(n) => (n, true),
            None => (raw_name, false),
        };
        let name =
            percent_decode(name).ok_or(KeyError::InvalidPercentEncoding { segment: i + 1 })?;
        if !is_valid_legacy_label_name(&name) || name.starts_with("__") {
            return Err(KeyError::InvalidLabelName {
                name,
                segment: i + 1,
            });
        }
        let Some(raw_value) = segs.get(i + 1) else {
            return Err(KeyError::MissingValue { name });
        };
        let value = if b64 {
            decode_base64(raw_value).ok_or_else(|| KeyError::InvalidBase64 {
                name: name.clone(),
                segment: i + 2,
            })?
        } else {
            percent_decode(raw_value).ok_or(KeyError::InvalidPercentEncoding { segment: i + 2 })?
        };
        if pairs.iter().any(|l| l.name == name) {
            return Err(KeyError::DuplicateLabel { name });
        }
        if name == "job" && value.is_empty() {
            return Err(KeyError::EmptyJob);
        }
        pairs.push(Label::new(name, value));
        i += 2;
    }
    // Empty values are allowed in a key and, as everywhere in Prometheus, mean "no label".
    pairs.retain(|l| !l.value.is_empty());
    pairs.sort();
    Ok(Labels::from_sorted_unchecked(pairs))
}

/// The path that addresses `key` (job first, values base64-encoded when they need it).
///
/// ```
/// use examples::pushgateway::key::{grouping_path, parse_grouping_key};
/// use exposition::Labels;
/// let k = Labels::from_pairs(&[("job", "a/b"), ("zone", "eu")]);
/// let p = grouping_path(&k);
/// assert_eq!(p, "/metrics/job@base64/YS9i/zone/eu");
/// assert_eq!(parse_grouping_key(p.strip_prefix("/metrics/").unwrap()).unwrap(), k);
/// ```
pub fn grouping_path(key: &Labels) -> String {
    let mut out = String::from("/metrics");
    let job = key.get("job").unwrap_or("");
    push_pair(&mut out, "job", job);
    for l in key.iter().filter(|l| l.name != "job") {
        push_pair(&mut out, &l.name, &l.value);
    }
    out
}

fn push_pair(out: &mut String, name: &str, value: &str) {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    out.push('/');
    out.push_str(name);
    if plain {
        out.push('/');
        out.push_str(value);
    } else {
        out.push_str("@base64/");
        if value.is_empty() {
            out.push('=');
        } else {
            out.push_str(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value));
        }
    }
}

fn decode_base64(s: &str) -> Option<String> {
    let s = s.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Decodes `%xx` escapes; `None` for a malformed escape or non-UTF-8 result.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_base64_keys() {
        let k = parse_grouping_key("job/some_job/instance/host:9100").unwrap();
        assert_eq!(
            k,
            Labels::from_pairs(&[("job", "some_job"), ("instance", "host:9100")])
        );
        let k = parse_grouping_key("job@base64/YS9i/empty@base64/=").unwrap();
        assert_eq!(k, Labels::from_pairs(&[("job", "a/b")]));
        // Padding is optional and standard-alphabet padding is accepted.
        let k = parse_grouping_key("job@base64/YWJj==/").unwrap();
        assert_eq!(k.get("job"), Some("abc"));
        let k = parse_grouping_key("job/a%20b").unwrap();
        assert_eq!(k.get("job"), Some("a b"));
    }

    #[test]
    fn bad_keys() {
        assert_eq!(parse_grouping_key("instance/x"), Err(KeyError::NoJob));
        assert_eq!(
            parse_grouping_key("job/"),
            Err(KeyError::MissingValue { name: "job".into() })
        );
        assert_eq!(parse_grouping_key("job@base64/="), Err(KeyError::EmptyJob));
        assert_eq!(
            parse_grouping_key("job/a/instance"),
            Err(KeyError::MissingValue {
                name: "instance".into()
            })
        );
        assert!(matches!(
            parse_grouping_key("job/a/1bad/x"),
            Err(KeyError::InvalidLabelName { segment: 3, .. })
        ));
        assert!(matches!(
            parse_grouping_key("job/a/__reserved/x"),
            Err(KeyError::InvalidLabelName { segment: 3, .. })
        ));
        assert!(matches!(
            parse_grouping_key("job/a/x@base64/!!!"),
            Err(KeyError::InvalidBase64 { segment: 4, .. })
        ));
        assert_eq!(
            parse_grouping_key("job/a/job/b"),
            Err(KeyError::DuplicateLabel { name: "job".into() })
        );
        assert_eq!(
            parse_grouping_key("job/a%zz"),
            Err(KeyError::InvalidPercentEncoding { segment: 2 })
        );
    }

    #[test]
    fn path_round_trip() {
        for pairs in [
            vec![("job", "x")],
            vec![("job", "with space"), ("a", "é/ü"), ("b", "plain-1.2")],
        ] {
            let k = Labels::from_pairs(&pairs);
            let p = grouping_path(&k);
            assert_eq!(
                parse_grouping_key(p.strip_prefix("/metrics/").unwrap()).unwrap(),
                k,
                "{p}"
            );
        }
    }
}
