//! Writing helpers shared by the two encoders: numbers, names and label sets.

use std::fmt::Write;

use crate::labels::{is_valid_legacy_label_name, is_valid_legacy_metric_name, Labels};

/// Writes a float the way Prometheus client libraries do: `NaN`, `+Inf`, `-Inf`, integers
/// without a fraction, otherwise the shortest text that parses back to the same `f64`.
pub(crate) fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v == v.trunc() && v.abs() < 1e15 {
        if v == 0.0 && v.is_sign_negative() {
            out.push_str("-0");
        } else {
            let _ = write!(out, "{}", v as i64);
        }
    } else {
        let a = v.abs();
        if (1e-4..1e21).contains(&a) {
            let _ = write!(out, "{v}");
        } else {
            let _ = write!(out, "{v:e}");
        }
    }
}

/// Writes an integer.
pub(crate) fn write_int(out: &mut String, v: i64) {
    let _ = write!(out, "{v}");
}

/// Writes `s` escaping `\` and line feed, plus `"` when `quote` is set.
pub(crate) fn write_escaped(out: &mut String, s: &str, quote: bool) {
    if !s
        .bytes()
        .any(|c| c == b'\\' || c == b'\n' || (quote && c == b'"'))
    {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// Writes a metric name in a HELP/TYPE/UNIT line (quoted if not a legacy name).
pub(crate) fn write_meta_name(out: &mut String, name: &str) {
    if is_valid_legacy_metric_name(name) {
        out.push_str(name);
    } else {
        out.push('"');
        write_escaped(out, name, true);
        out.push('"');
    }
}

/// Writes `name{a="b",...}`; a non-legacy name goes inside the braces, quoted.
pub(crate) fn write_series(out: &mut String, name: &str, labels: &Labels) {
    let legacy = is_valid_legacy_metric_name(name);
    if legacy {
        out.push_str(name);
        if labels.is_empty() {
            return;
        }
    }
    out.push('{');
    let mut first = true;
    if !legacy {
        out.push('"');
        write_escaped(out, name, true);
        out.push('"');
        first = false;
    }
    write_pairs(out, labels, first);
    out.push('}');
}

/// Writes `{a="b",...}` (always with braces).
pub(crate) fn write_label_set(out: &mut String, labels: &Labels) {
    out.push('{');
    write_pairs(out, labels, true);
    out.push('}');
}

fn write_pairs(out: &mut String, labels: &Labels, mut first: bool) {
    for l in labels {
        if !first {
            out.push(',');
        }
        first = false;
        if is_valid_legacy_label_name(&l.name) {
            out.push_str(&l.name);
        } else {
            out.push('"');
            write_escaped(out, &l.name, true);
            out.push('"');
        }
        out.push_str("=\"");
        write_escaped(out, &l.value, true);
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip() {
        for v in [
            0.0,
            1.0,
            -3.0,
            1.5,
            0.1,
            1e-300,
            123456789.125,
            1e21,
            2.5e-5,
            1e15,
            -0.0,
            7e22,
        ] {
            let mut s = String::new();
            write_float(&mut s, v);
            let back: f64 = s.parse().unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v} -> {s}");
        }
        let mut s = String::new();
        write_float(&mut s, f64::INFINITY);
        write_float(&mut s, 42.0);
        assert_eq!(s, "+Inf42");
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        write_escaped(&mut s, "a\\b\"c\nd", true);
        assert_eq!(s, "a\\\\b\\\"c\\nd");
        let mut s = String::new();
        write_escaped(&mut s, "a\\b\"c\nd", false);
        assert_eq!(s, "a\\\\b\"c\\nd");
    }
}
