//! Prometheus's JSON shapes: the success/error envelope and query results.
//!
//! Sample values are strings (`"1.5"`, `"NaN"`, `"+Inf"`), timestamps are Unix seconds as
//! numbers with at most millisecond precision, label sets are objects.

use std::fmt::Write as _;

use exposition::Labels;
use promql::value::Value;

/// Appends `s` as a JSON string literal.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a timestamp in ms as Unix seconds (`1435781451.781`, `10`).
pub fn push_ts(out: &mut String, t_ms: i64) {
    let neg = t_ms < 0;
    let abs = t_ms.unsigned_abs();
    let (secs, ms) = (abs / 1000, abs % 1000);
    if neg {
        out.push('-');
    }
    let _ = write!(out, "{secs}");
    if ms != 0 {
        let digits = [
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ];
        let mut n = 3;
        while digits[n - 1] == b'0' {
            n -= 1;
        }
        out.push('.');
        for &d in &digits[..n] {
            out.push(d as char);
        }
    }
}

/// Appends a float as Prometheus's API writes it (see [`format_value`]).
pub fn push_value_str(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f == f64::INFINITY {
        out.push_str("+Inf");
    } else if f == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{f}");
    }
}

/// A float as Prometheus's API writes it (Go's `FormatFloat(f, 'f', -1, 64)` plus the
/// special values).
pub fn format_value(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{f}")
    }
}

/// Appends a label set as a JSON object.
pub fn push_labels(out: &mut String, l: &Labels) {
    out.push('{');
    for (i, lab) in l.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, &lab.name);
        out.push(':');
        push_str(out, &lab.value);
    }
    out.push('}');
}

fn push_point(out: &mut String, t: i64, f: f64) {
    out.push('[');
    push_ts(out, t);
    out.push_str(",\"");
    push_value_str(out, f);
    out.push_str("\"]");
}

/// Appends `[t,{"count":"..","sum":"..","buckets":[[rule,"lower","upper","count"],..]}]`,
/// Prometheus's rendering of a native histogram sample (boundary rules as in its API:
/// 0 `(l, u]`, 1 `[l, u)`, 2 `(l, u)`, 3 `[l, u]`; empty buckets left out).
fn push_histogram_point(out: &mut String, t: i64, h: &exposition::histogram::FloatHistogram) {
    out.push('[');
    push_ts(out, t);
    out.push_str(",{\"count\":\"");
    push_value_str(out, h.count);
    out.push_str("\",\"sum\":\"");
    push_value_str(out, h.sum);
    out.push('"');
    let buckets: Vec<_> = h.all_buckets().filter(|b| b.count != 0.0).collect();
    if !buckets.is_empty() {
        out.push_str(",\"buckets\":[");
        for (i, b) in buckets.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Prometheus's boundary rules: 0 `(l,u]`, 1 `[l,u)`, 2 `(l,u)`, 3 `[l,u]`.
            let rule = match (b.lower_inclusive, b.upper_inclusive) {
                (false, true) => 0,
                (true, false) => 1,
                (false, false) => 2,
                (true, true) => 3,
            };
            let _ = write!(out, "[{rule},\"");
            push_value_str(out, b.lower);
            out.push_str("\",\"");
            push_value_str(out, b.upper);
            out.push_str("\",\"");
            push_value_str(out, b.count);
            out.push_str("\"]");
        }
        out.push(']');
    }
    out.push_str("}]");
}

/// Appends `{"resultType":...,"result":...}` for a query value.
pub fn push_value(out: &mut String, v: &Value) {
    out.push_str("{\"resultType\":\"");
    out.push_str(v.type_name());
    out.push_str("\",\"result\":");
    match v {
        Value::Scalar(s) => push_point(out, s.t, s.v),
        Value::String(s) => {
            out.push('[');
            push_ts(out, s.t);
            out.push(',');
            push_str(out, &s.s);
            out.push(']');
        }
        Value::Vector(vec) => {
            out.push('[');
            for (i, s) in vec.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                push_labels(out, &s.metric);
                match &s.h {
                    Some(h) => {
                        out.push_str(",\"histogram\":");
                        push_histogram_point(out, s.t, h);
                    }
                    None => {
                        out.push_str(",\"value\":");
                        push_point(out, s.t, s.f);
                    }
                }
                out.push('}');
            }
            out.push(']');
        }
        Value::Matrix(m) => {
            out.push('[');
            for (i, s) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                push_labels(out, &s.metric);
                if !s.floats.is_empty() || s.histograms.is_empty() {
                    out.push_str(",\"values\":[");
                    for (j, p) in s.floats.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        push_point(out, p.t, p.f);
                    }
                    out.push(']');
                }
                if !s.histograms.is_empty() {
                    out.push_str(",\"histograms\":[");
                    for (j, p) in s.histograms.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        push_histogram_point(out, p.t, &p.h);
                    }
                    out.push(']');
                }
                out.push('}');
            }
            out.push(']');
        }
    }
    out.push('}');
}

/// `{"status":"success","data":<data>[,"warnings":[...]][,"infos":[...]]}` around
/// already-encoded `data`.
pub fn success(data: &str, warnings: &[String], infos: &[String]) -> String {
    let mut out = String::with_capacity(data.len() + 64);
    out.push_str("{\"status\":\"success\",\"data\":");
    out.push_str(data);
    for (key, list) in [("warnings", warnings), ("infos", infos)] {
        if !list.is_empty() {
            let _ = write!(out, ",\"{key}\":[");
            for (i, w) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_str(&mut out, w);
            }
            out.push(']');
        }
    }
    out.push('}');
    out
}

/// `{"status":"error","errorType":...,"error":...}`.
pub fn error(error_type: &str, message: &str) -> String {
    let mut out = String::from("{\"status\":\"error\",\"errorType\":");
    push_str(&mut out, error_type);
    out.push_str(",\"error\":");
    push_str(&mut out, message);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(t: i64) -> String {
        let mut s = String::new();
        push_ts(&mut s, t);
        s
    }

    #[test]
    fn timestamps_are_seconds_with_trimmed_millis() {
        assert_eq!(ts(1_435_781_451_781), "1435781451.781");
        assert_eq!(ts(10_000), "10");
        assert_eq!(ts(1_500), "1.5");
        assert_eq!(ts(-1_500), "-1.5");
        assert_eq!(ts(-500), "-0.5");
        assert_eq!(ts(0), "0");
        for t in [-123_456i64, -1, 1, 999, 1_001, -2_000] {
            let v: f64 = ts(t).parse().unwrap();
            assert!((v * 1000.0 - t as f64).abs() < 1e-6, "{t} -> {}", ts(t));
        }
    }

    #[test]
    fn histogram_samples_render_like_prometheus() {
        use exposition::histogram::{FloatHistogram, Span};
        use promql::value::{HPoint, Sample, Series};
        use std::sync::Arc;
        let h = Arc::new(FloatHistogram {
            count: 4.0,
            sum: 5.0,
            zero_threshold: 0.001,
            zero_count: 1.0,
            positive_spans: vec![Span::new(0, 2)],
            positive_buckets: vec![2.0, 0.0],
            negative_spans: vec![Span::new(0, 1)],
            negative_buckets: vec![1.0],
            ..Default::default()
        });
        let l = Labels::from_pairs(&[("__name__", "h")]);
        let mut out = String::new();
        push_value(
            &mut out,
            &Value::Vector(vec![Sample {
                metric: l.clone(),
                t: 1000,
                f: 0.0,
                h: Some(h.clone()),
                drop_name: false,
            }]),
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let hv = &v["result"][0]["histogram"];
        assert_eq!(hv[0], 1.0);
        assert_eq!(hv[1]["count"], "4");
        assert_eq!(hv[1]["sum"], "5");
        let b = hv[1]["buckets"].as_array().unwrap();
        // Negative [-1, -0.5), zero [-0.001, 0.001], positive (0.5, 1]; the empty one is left out.
        assert_eq!(b.len(), 3);
        assert_eq!(b[0], serde_json::json!([1, "-1", "-0.5", "1"]));
        assert_eq!(b[1], serde_json::json!([3, "-0.001", "0.001", "1"]));
        assert_eq!(b[2], serde_json::json!([0, "0.5", "1", "2"]));
        let mut series = Series::from_floats(l, Vec::new(), false);
        series.histograms.push(HPoint { t: 2000, h });
        let mut out = String::new();
        push_value(&mut out, &Value::Matrix(vec![series]));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["result"][0].get("values").is_none());
        assert_eq!(v["result"][0]["histograms"][0][0], 2.0);
    }

    #[test]
    fn values_and_errors() {
        assert_eq!(format_value(1e21), "1000000000000000000000");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(0.1), "0.1");
        let e = error("bad_data", "1:2: \"x\"");
        let v: serde_json::Value = serde_json::from_str(&e).unwrap();
        assert_eq!(v["error"], "1:2: \"x\"");
        assert_eq!(v["errorType"], "bad_data");
    }
}
