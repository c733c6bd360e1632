//! The text 0.0.4 encoder.

use crate::encode::{write_escaped, write_float, write_int, write_meta_name, write_series};
use crate::family::MetricFamily;

/// Writes families as text 0.0.4: `# HELP` (if any), `# TYPE`, then one line per sample.
/// Types 0.0.4 does not have (gaugehistogram, info, stateset) are written as `untyped`;
/// UNIT and exemplars have no 0.0.4 form and are left out.
///
/// ```
/// use exposition::{text, MetricFamily, MetricType, FamilySample, Labels};
///
/// let mut f = MetricFamily::new("up", MetricType::Gauge);
/// f.samples.push(FamilySample {
///     name: "up".into(),
///     labels: Labels::from_pairs(&[("job", "node")]),
///     value: 1.0,
///     timestamp: None,
///     exemplar: None,
/// });
/// let mut out = String::new();
/// text::encode(&[f], &mut out);
/// assert_eq!(out, "# TYPE up gauge\nup{job=\"node\"} 1\n");
/// ```
pub fn encode(families: &[MetricFamily], out: &mut String) {
    for f in families {
        encode_family(f, out);
    }
}

/// Writes one family as text 0.0.4 (see [`encode`]).
pub fn encode_family(f: &MetricFamily, out: &mut String) {
    if let Some(help) = &f.help {
        out.push_str("# HELP ");
        write_meta_name(out, &f.name);
        out.push(' ');
        write_escaped(out, help, false);
        out.push('\n');
    }
    out.push_str("# TYPE ");
    write_meta_name(out, &f.name);
    out.push(' ');
    out.push_str(f.ty.as_text());
    out.push('\n');
    for s in &f.samples {
        write_series(out, &s.name, &s.labels);
        out.push(' ');
        write_float(out, s.value);
        if let Some(ts) = s.timestamp {
            out.push(' ');
            write_int(out, ts);
        }
        out.push('\n');
    }
}
