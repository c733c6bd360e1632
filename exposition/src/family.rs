//! The grouped view: [`MetricFamily`] values (name, type, help, unit, samples) built from an
//! entry stream, and the input the encoders write.
//!
//! Grouping follows the exposition conventions: a sample belongs to the family whose name it
//! equals or extends with a suffix its type allows (`_total`/`_created` for counters,
//! `_bucket`/`_count`/`_sum` for histograms, `quantile` samples plus `_count`/`_sum` for
//! summaries, ...). A sample that fits no declared family starts an untyped family of its
//! own name, as Prometheus does.

use std::collections::HashMap;

use crate::content_type::Format;
use crate::error::ParseError;
use crate::labels::Labels;
use crate::types::{Entry, MetricType};

/// A metric family with owned data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricFamily {
    /// Family name (in text 0.0.4 a counter's family name usually ends in `_total`; in
    /// OpenMetrics it does not).
    pub name: String,
    /// Declared type ([`MetricType::Unknown`] when there was no TYPE line).
    pub ty: MetricType,
    /// HELP text, unescaped.
    pub help: Option<String>,
    /// UNIT (OpenMetrics only).
    pub unit: Option<String>,
    /// Samples in input order.
    pub samples: Vec<FamilySample>,
}

/// One sample of a [`MetricFamily`].
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySample {
    /// Full sample name, for example `rpc_seconds_bucket`.
    pub name: String,
    /// Labels without `__name__` (empty values dropped, as [`Labels`] does).
    pub labels: Labels,
    /// Value.
    pub value: f64,
    /// Timestamp in milliseconds.
    pub timestamp: Option<i64>,
    /// Exemplar (OpenMetrics only).
    pub exemplar: Option<FamilyExemplar>,
}

/// An owned exemplar.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyExemplar {
    /// Exemplar labels.
    pub labels: Labels,
    /// Exemplar value.
    pub value: f64,
    /// Timestamp in milliseconds.
    pub timestamp: Option<i64>,
}

impl MetricFamily {
    /// An empty family of the given name and type.
    pub fn new(name: impl Into<String>, ty: MetricType) -> MetricFamily {
        MetricFamily {
            name: name.into(),
            ty,
            ..MetricFamily::default()
        }
    }

    /// Whether a sample called `sample_name` belongs to this family under the naming
    /// rules of `format` (OpenMetrics allows exactly the suffixes of
    /// [`MetricType::openmetrics_suffixes`]; text 0.0.4 is looser).
    pub fn owns_sample(&self, format: Format, sample_name: &str) -> bool {
        let Some(suffix) = sample_name.strip_prefix(self.name.as_str()) else {
            return false;
        };
        if format == Format::OpenMetrics {
            return self.ty.openmetrics_suffixes().contains(&suffix);
        }
        let allowed: &[&str] = match self.ty {
            MetricType::Counter => &["", "_total", "_created"],
            MetricType::Histogram => &["_bucket", "_count", "_sum", "_created"],
            MetricType::GaugeHistogram => &["_bucket", "_gcount", "_gsum", "_count", "_sum"],
            MetricType::Summary => &["", "_count", "_sum", "_created"],
            MetricType::Info => &["", "_info"],
            _ => &[""],
        };
        allowed.contains(&suffix)
    }
}

/// Groups an entry stream of the given format into families. The first parse error is
/// returned.
///
/// ```
/// use exposition::{family, text::TextParser, Format};
///
/// let input = b"# TYPE rpc_seconds summary\nrpc_seconds{quantile=\"0.5\"} 0.1\nrpc_seconds_count 4\nup 1\n";
/// let fams = family::group(Format::Text, TextParser::new(input)).unwrap();
/// assert_eq!(fams.len(), 2);
/// assert_eq!(fams[0].samples.len(), 2);
/// assert_eq!(fams[1].name, "up");
/// ```
pub fn group<'a, I>(format: Format, entries: I) -> Result<Vec<MetricFamily>, ParseError>
where
    I: IntoIterator<Item = Result<Entry<'a>, ParseError>>,
{
    let mut fams: Vec<MetricFamily> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut current: Option<usize> = None;
    fn get(
        fams: &mut Vec<MetricFamily>,
        by_name: &mut HashMap<String, usize>,
        name: &str,
    ) -> usize {
        *by_name.entry(name.to_string()).or_insert_with(|| {
            fams.push(MetricFamily::new(name, MetricType::Unknown));
            fams.len() - 1
        })
    }
    for e in entries {
        match e? {
            Entry::Help { name, help } => {
                let i = get(&mut fams, &mut by_name, &name);
                fams[i].help = Some(help.into_owned());
                current = Some(i);
            }
            Entry::Type { name, ty } => {
                let i = get(&mut fams, &mut by_name, &name);
                fams[i].ty = ty;
                current = Some(i);
            }
            Entry::Unit { name, unit } => {
                let i = get(&mut fams, &mut by_name, &name);
                fams[i].unit = Some(unit.to_string());
                current = Some(i);
            }
            Entry::Comment(_) | Entry::Eof => {}
            Entry::Sample(s) => {
                let i = match current {
                    Some(i) if fams[i].owns_sample(format, &s.name) => i,
                    _ => {
                        let found = family_candidates(&s.name).find_map(|base| {
                            by_name
                                .get(base)
                                .copied()
                                .filter(|&i| fams[i].owns_sample(format, &s.name))
                        });
                        match found {
                            Some(i) => i,
                            None => get(&mut fams, &mut by_name, &s.name),
                        }
                    }
                };
                current = Some(i);
                fams[i].samples.push(FamilySample {
                    name: s.name.into_owned(),
                    labels: s.labels.to_labels(),
                    value: s.value,
                    timestamp: s.timestamp,
                    exemplar: s.exemplar.map(|x| FamilyExemplar {
                        labels: x.labels.to_labels(),
                        value: x.value,
                        timestamp: x.timestamp,
                    }),
                });
            }
        }
    }
    Ok(fams)
}

/// Rewrites families read from text 0.0.4 so they are valid OpenMetrics: a counter family
/// loses the `_total` suffix from its name and its samples gain it (`# TYPE x_total counter`
/// with sample `x_total` becomes `# TYPE x counter` with sample `x_total`); everything else is
/// unchanged. A counter `x_total` beside a family `x` cannot be expressed and becomes an
/// `unknown` family of its own name. This is what a converter or a `tsdb import` of a 0.0.4 scrape needs.
///
/// ```
/// use exposition::{family::to_openmetrics, text, openmetrics};
///
/// let fams = text::parse_families(b"# TYPE jobs_total counter\njobs_total 3\n# TYPE up counter\nup 1\n").unwrap();
/// let mut out = String::new();
/// openmetrics::encode(&to_openmetrics(fams), &mut out);
/// assert_eq!(out, "# TYPE jobs counter\njobs_total 3\n# TYPE up counter\nup_total 1\n# EOF\n");
/// assert!(openmetrics::parse_families(out.as_bytes()).is_ok());
/// ```
pub fn to_openmetrics(families: Vec<MetricFamily>) -> Vec<MetricFamily> {
    let taken: std::collections::HashSet<String> =
        families.iter().map(|f| f.name.clone()).collect();
    families
        .into_iter()
        .map(|mut f| {
            if f.ty == MetricType::Counter {
                let base = f.name.strip_suffix("_total").unwrap_or(&f.name).to_string();
                if base != f.name && taken.contains(&base) {
                    // `x_total` beside a family `x`: no OpenMetrics counter can say that.
                    f.ty = MetricType::Unknown;
                    return f;
                }
                for s in &mut f.samples {
                    if s.name == f.name && !s.name.ends_with("_total") {
                        s.name.push_str("_total");
                    }
                }
                f.name = base;
            }
            f
        })
        .collect()
}

/// Possible family names for a sample name: itself, then with each known suffix removed.
fn family_candidates(name: &str) -> impl Iterator<Item = &str> {
    const SUFFIXES: [&str; 8] = [
        "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
    ];
    std::iter::once(name).chain(SUFFIXES.iter().filter_map(move |s| name.strip_suffix(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::TextParser;

    #[test]
    fn groups_histogram_and_interleaved_text() {
        let input = b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\nx 1\n# TYPE s summary\ns{quantile=\"0.5\"} 1\nh_sum{a=\"b\"} 1\n";
        let f = group(Format::Text, TextParser::new(input)).unwrap();
        let names: Vec<_> = f
            .iter()
            .map(|f| (f.name.as_str(), f.samples.len()))
            .collect();
        assert_eq!(names, vec![("h", 5), ("x", 1), ("s", 1)]);
        assert_eq!(f[0].ty, MetricType::Histogram);
        assert_eq!(f[0].samples[4].labels.get("a"), Some("b"));
    }
}
