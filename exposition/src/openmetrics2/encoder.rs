//! The OpenMetrics 2.0 encoder.

use std::fmt::Write;

use crate::encode::{
    write_escaped, write_float, write_int, write_label_set, write_meta_name, write_series,
};
use crate::histogram::{FloatHistogram, Span};

use super::{ClassicBucket, Family, FamilySample, HistogramValue, SummaryValue, Value};

/// Writes families as OpenMetrics 2.0 and the closing `# EOF`.
///
/// Each family gets `# TYPE`, then `# UNIT` and `# HELP` when set and non-empty, then one
/// line per sample: the family name and labels (quoted as `{"name",...}` when the name is
/// not a legacy one), the value (a number or a composite value), the timestamp and the
/// `st@` start timestamp in seconds with millisecond precision, and the exemplars (those
/// without a timestamp are skipped: 2.0 requires one). Values are written as they are; a
/// classic bucket list should end with `+Inf` and native spans should cover the buckets,
/// as [`parse_families`](super::parse_families) guarantees for what it returns.
///
/// ```
/// use exposition::openmetrics2::{self, Family, FamilySample, Value, SummaryValue, Quantile};
/// use exposition::{Labels, MetricType};
///
/// let mut f = Family::new("rpc_seconds", MetricType::Summary);
/// f.samples.push(FamilySample {
///     labels: Labels::from_pairs(&[("path", "/")]),
///     value: Value::Summary(Box::new(SummaryValue {
///         count: 3.0,
///         sum: 1.5,
///         quantiles: vec![Quantile { quantile: 0.5, value: 0.25 }],
///     })),
///     timestamp: None,
///     start_timestamp: Some(1_500),
///     exemplars: vec![],
/// });
/// let mut out = String::new();
/// openmetrics2::encode(&[f], &mut out);
/// assert_eq!(
///     out,
///     "# TYPE rpc_seconds summary\nrpc_seconds{path=\"/\"} {count:3,sum:1.5,quantile:[0.5:0.25]} st@1.500\n# EOF\n"
/// );
/// ```
pub fn encode(families: &[Family], out: &mut String) {
    for f in families {
        encode_family(f, out);
    }
    out.push_str("# EOF\n");
}

/// Writes one family without the closing `# EOF` (see [`encode`]).
pub fn encode_family(f: &Family, out: &mut String) {
    out.push_str("# TYPE ");
    write_meta_name(out, &f.name);
    out.push(' ');
    out.push_str(f.ty.as_openmetrics());
    out.push('\n');
    for (kind, text, escape) in [("UNIT", &f.unit, false), ("HELP", &f.help, true)] {
        if let Some(text) = text.as_deref().filter(|t| !t.is_empty()) {
            out.push_str("# ");
            out.push_str(kind);
            out.push(' ');
            write_meta_name(out, &f.name);
            out.push(' ');
            if escape {
                write_escaped(out, text, true);
            } else {
                out.push_str(text);
            }
            out.push('\n');
        }
    }
    for s in &f.samples {
        write_sample(out, &f.name, s);
    }
}

fn write_sample(out: &mut String, name: &str, s: &FamilySample) {
    write_series(out, name, &s.labels);
    out.push(' ');
    match &s.value {
        Value::Number(v) => write_float(out, *v),
        Value::Histogram(h) => write_histogram(out, h),
        Value::Summary(q) => write_summary(out, q),
    }
    if let Some(ts) = s.timestamp {
        out.push(' ');
        write_seconds(out, ts);
    }
    if let Some(ts) = s.start_timestamp {
        out.push_str(" st@");
        write_seconds(out, ts);
    }
    for x in &s.exemplars {
        let Some(ts) = x.timestamp else { continue };
        out.push_str(" # ");
        write_label_set(out, &x.labels);
        out.push(' ');
        write_float(out, x.value);
        out.push(' ');
        write_seconds(out, ts);
    }
    out.push('\n');
}

/// Writes `items` as `[a,b,...]`, each by `item`.
fn write_list<T>(out: &mut String, items: &[T], mut item: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item(out, x);
    }
    out.push(']');
}

fn write_count_sum(out: &mut String, gauge: bool, count: f64, sum: f64) {
    out.push_str(if gauge { "{gcount:" } else { "{count:" });
    write_float(out, count);
    out.push_str(if gauge { ",gsum:" } else { ",sum:" });
    write_float(out, sum);
}

fn write_summary(out: &mut String, q: &SummaryValue) {
    write_count_sum(out, false, q.count, q.sum);
    out.push_str(",quantile:");
    write_list(out, &q.quantiles, |out, x| {
        write_float(out, x.quantile);
        out.push(':');
        write_float(out, x.value);
    });
    out.push('}');
}

fn write_histogram(out: &mut String, h: &HistogramValue) {
    write_count_sum(out, h.gauge, h.count, h.sum);
    if let Some(n) = &h.native {
        write_native(out, n);
    }
    if let Some(c) = &h.classic {
        out.push_str(",bucket:");
        write_list(out, c, |out, b: &ClassicBucket| {
            write_float(out, b.le);
            out.push(':');
            write_float(out, b.count);
        });
    }
    out.push('}');
}

fn write_native(out: &mut String, n: &FloatHistogram) {
    out.push_str(",schema:");
    write_int(out, i64::from(n.schema));
    out.push_str(",zero_threshold:");
    write_float(out, n.zero_threshold);
    out.push_str(",zero_count:");
    write_float(out, n.zero_count);
    let sides = [
        ("negative", &n.negative_spans, &n.negative_buckets),
        ("positive", &n.positive_spans, &n.positive_buckets),
    ];
    for (side, spans, buckets) in sides {
        if spans.is_empty() && buckets.is_empty() {
            continue;
        }
        let _ = write!(out, ",{side}_spans:");
        write_list(out, spans, |out, s: &Span| {
            let _ = write!(out, "{}:{}", s.offset, s.length);
        });
        let _ = write!(out, ",{side}_buckets:");
        write_list(out, buckets, |out, v| write_float(out, *v));
    }
}

/// Milliseconds as seconds with three decimals (`1500` -> `1.500`, `-1` -> `-0.001`).
fn write_seconds(out: &mut String, ms: i64) {
    let a = ms.unsigned_abs();
    let sign = if ms < 0 { "-" } else { "" };
    let _ = write!(out, "{sign}{}.{:03}", a / 1000, a % 1000);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_keep_millis() {
        let mut s = String::new();
        for ms in [0, 1_520_430_000_123, -1] {
            write_seconds(&mut s, ms);
            s.push(' ');
        }
        assert_eq!(s, "0.000 1520430000.123 -0.001 ");
    }
}
