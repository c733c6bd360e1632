//! Self-instrumentation: a tiny registry of counters and gauges, exposed with the
//! `exposition` encoders (text 0.0.4 or OpenMetrics, by content negotiation).

use std::collections::BTreeMap;
use std::sync::Mutex;

use exposition::{FamilySample, Format, Labels, MetricFamily, MetricType};

#[derive(Debug, Default)]
struct Family {
    ty: MetricType,
    help: String,
    series: BTreeMap<Labels, f64>,
}

/// Counters and gauges keyed by family name and labels. Thread-safe; cheap enough for a
/// handful of updates per request or scrape.
#[derive(Debug, Default)]
pub struct Registry {
    families: Mutex<BTreeMap<String, Family>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    fn with(
        &self,
        name: &str,
        ty: MetricType,
        help: &str,
        labels: &[(&str, &str)],
        f: impl FnOnce(&mut f64),
    ) {
        let mut fams = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let fam = fams.entry(name.to_string()).or_insert_with(|| Family {
            ty,
            help: help.to_string(),
            series: BTreeMap::new(),
        });
        f(fam.series.entry(Labels::from_pairs(labels)).or_insert(0.0));
    }

    /// Adds `delta` to counter `name` (the name without `_total`).
    pub fn inc(&self, name: &str, help: &str, labels: &[(&str, &str)], delta: f64) {
        self.with(name, MetricType::Counter, help, labels, |v| *v += delta);
    }

    /// Sets gauge `name`.
    pub fn set(&self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.with(name, MetricType::Gauge, help, labels, |v| *v = value);
    }

    /// The current value of a series, if it exists.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let fams = self.families.lock().unwrap_or_else(|e| e.into_inner());
        fams.get(name)?
            .series
            .get(&Labels::from_pairs(labels))
            .copied()
    }

    /// Encodes every family in `format`.
    pub fn encode(&self, format: Format) -> String {
        let fams = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let mut out_fams = Vec::with_capacity(fams.len());
        for (name, f) in fams.iter() {
            let counter = f.ty == MetricType::Counter;
            let sample_name = if counter {
                format!("{name}_total")
            } else {
                name.clone()
            };
            let fam_name = if counter && format == Format::Text {
                sample_name.clone()
            } else {
                name.clone()
            };
            let mut mf = MetricFamily::new(fam_name, f.ty);
            mf.help = Some(f.help.clone());
            for (labels, v) in &f.series {
                mf.samples.push(FamilySample {
                    name: sample_name.clone(),
                    labels: labels.clone(),
                    value: *v,
                    timestamp: None,
                    exemplar: None,
                });
            }
            out_fams.push(mf);
        }
        let mut out = String::new();
        match format {
            Format::Text => exposition::text::encode(&out_fams, &mut out),
            Format::OpenMetrics => exposition::openmetrics::encode(&out_fams, &mut out),
        }
        out
    }
}

/// Picks the format to answer a scrape with from its `Accept` header: OpenMetrics when
/// the client asks for it, text 0.0.4 otherwise.
pub fn negotiate(accept: Option<&str>) -> Format {
    match accept {
        Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
        _ => Format::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_parse_back() {
        let r = Registry::new();
        r.inc("http_requests", "Requests.", &[("handler", "/q")], 2.0);
        r.set("up_since", "Start.", &[], 5.0);
        let text = r.encode(Format::Text);
        assert!(
            text.contains("http_requests_total{handler=\"/q\"} 2"),
            "{text}"
        );
        let fams = exposition::text::parse_families(text.as_bytes()).unwrap();
        assert_eq!(fams.len(), 2);
        let om = r.encode(Format::OpenMetrics);
        assert!(om.ends_with("# EOF\n"), "{om}");
        let n = exposition::Parser::new(Format::OpenMetrics, om.as_bytes())
            .filter(|e| matches!(e, Ok(exposition::Entry::Sample(_))))
            .count();
        assert_eq!(n, 2);
        assert_eq!(r.get("http_requests", &[("handler", "/q")]), Some(2.0));
    }
}
