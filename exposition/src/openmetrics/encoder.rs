//! The OpenMetrics 1.0 encoder.

use crate::encode::{write_escaped, write_float, write_label_set, write_meta_name, write_series};
use crate::family::MetricFamily;

/// Writes families as OpenMetrics 1.0 and the closing `# EOF`.
///
/// Each family gets `# TYPE`, `# UNIT` (when set) and `# HELP` (when set), then its samples
/// with their exemplars; timestamps are written as seconds with millisecond precision.
/// Samples are written with the names they carry, so a counter family `x` should hold
/// `x_total` (and optionally `x_created`) samples, as OpenMetrics requires.
///
/// ```
/// use exposition::{openmetrics, MetricFamily, MetricType, FamilySample, Labels};
///
/// let mut f = MetricFamily::new("jobs", MetricType::Counter);
/// f.samples.push(FamilySample {
///     name: "jobs_total".into(),
///     labels: Labels::empty(),
///     value: 3.0,
///     timestamp: Some(1_500),
///     exemplar: None,
/// });
/// let mut out = String::new();
/// openmetrics::encode(&[f], &mut out);
/// assert_eq!(out, "# TYPE jobs counter\njobs_total 3 1.500\n# EOF\n");
/// ```
pub fn encode(families: &[MetricFamily], out: &mut String) {
    for f in families {
        encode_family(f, out);
    }
    out.push_str("# EOF\n");
}

/// Writes one family without the closing `# EOF` (see [`encode`]).
pub fn encode_family(f: &MetricFamily, out: &mut String) {
    out.push_str("# TYPE ");
    write_meta_name(out, &f.name);
    out.push(' ');
    out.push_str(f.ty.as_openmetrics());
    out.push('\n');
    if let Some(unit) = &f.unit {
        out.push_str("# UNIT ");
        write_meta_name(out, &f.name);
        out.push(' ');
        out.push_str(unit);
        out.push('\n');
    }
    if let Some(help) = &f.help {
        out.push_str("# HELP ");
        write_meta_name(out, &f.name);
        out.push(' ');
        write_escaped(out, help, true);
        out.push('\n');
    }
    for s in &f.samples {
        write_series(out, &s.name, &s.labels);
        out.push(' ');
        write_float(out, s.value);
        if let Some(ts) = s.timestamp {
            out.push(' ');
            write_seconds(out, ts);
        }
        if let Some(x) = &s.exemplar {
            out.push_str(" # ");
            write_label_set(out, &x.labels);
            out.push(' ');
            write_float(out, x.value);
            if let Some(ts) = x.timestamp {
                out.push(' ');
                write_seconds(out, ts);
            }
        }
        out.push('\n');
    }
}

/// Milliseconds as seconds with three decimals (`1500` -> `1.500`, `-1` -> `-0.001`).
///
/// Readers (Prometheus, and this crate's parser) convert with `int64(seconds * 1000)`,
/// which truncates; where the float product falls just short of the integer
/// (`1078297808.942` gives `...941.9999`), a fourth decimal `1` is added so the reader gets
/// the millisecond back.
fn write_seconds(out: &mut String, ms: i64) {
    use std::fmt::Write;
    let sign = if ms < 0 { "-" } else { "" };
    let a = ms.unsigned_abs();
    let start = out.len();
    let _ = write!(out, "{sign}{}.{:03}", a / 1000, a % 1000);
    let back = out[start..].parse::<f64>().map(|t| (t * 1000.0) as i64);
    if back != Ok(ms) {
        out.push('1');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds() {
        let mut s = String::new();
        for ms in [0, 1500, -1500, -1, i64::MIN] {
            write_seconds(&mut s, ms);
            s.push(' ');
        }
        assert_eq!(s, "0.000 1.500 -1.500 -0.001 -9223372036854775.808 ");
    }

    #[test]
    fn seconds_survive_truncating_readers() {
        for ms in [
            1_078_297_808_942,
            -1_078_297_808_942,
            1_700_000_000_001,
            4_999,
        ] {
            let mut s = String::new();
            write_seconds(&mut s, ms);
            let back = (s.parse::<f64>().unwrap() * 1000.0) as i64;
            assert_eq!(back, ms, "{s}");
        }
        let mut s = String::new();
        write_seconds(&mut s, 1_078_297_808_942);
        assert_eq!(s, "1078297808.9421");
    }
}
