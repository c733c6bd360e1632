//! The OpenMetrics 2.0 semantic rules, checked while the parser streams.
//!
//! The grammar is the parser's job; this checks what the spec's prose adds: one TYPE,
//! UNIT and HELP per family, before its metrics; contiguous families (a name never comes
//! back); value kinds per type (numbers for counters, gauges, infos and statesets, the
//! matching composite for histograms, gauge histograms and summaries); counter, info and
//! stateset values; histogram structure (sorted unique classic bounds, `count` equal to
//! the `+Inf` bucket, cumulative non-negative counts, standard schema, spans covering the
//! buckets, no `le` label); summary structure (count and sum not NaN or negative,
//! quantiles in `[0, 1]` and increasing, no `quantile` label); which types take a start
//! timestamp or exemplars; metrics not repeated except with increasing timestamps; and
//! stateset groups (the labels besides the state label) not interleaved.

use std::borrow::Cow;
use std::collections::HashSet;

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::error::ParseErrorKind;
use crate::histogram::{FloatHistogram, Span, MAX_EXPONENTIAL_SCHEMA, MIN_EXPONENTIAL_SCHEMA};
use crate::lex::FxBuild;
use crate::types::MetricType;

use super::{ClassicBucket, HistogramValue, Sample, SummaryValue, Value};

/// Which metadata line.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Meta {
    Help,
    Type(MetricType),
    Unit,
}

struct Family<'a> {
    name: Cow<'a, str>,
    ty: Option<MetricType>,
    help: bool,
    unit: Option<bool>,
    has_samples: bool,
    last: Option<(u64, Option<i64>)>,
    /// For a stateset: the label set without the state label of the last metric.
    last_group: Option<u64>,
}

/// The validator; one per parse.
pub(crate) struct Validator<'a> {
    fam: Option<Family<'a>>,
    names: HashSet<u64, FxBuild>,
    /// Order-independent hashes of the current family's label sets (cleared, not
    /// dropped, between families, so a scrape does not reallocate it per family).
    metrics: HashSet<u64, FxBuild>,
    /// For a stateset, the groups (label sets without the state label) seen.
    groups: HashSet<u64, FxBuild>,
}

type Res = Result<(), ParseErrorKind>;

fn structure(family: &str, reason: &'static str) -> ParseErrorKind {
    ParseErrorKind::Structure {
        family: family.to_string(),
        reason,
    }
}

fn bad_value(metric: &str, value: &Value, reason: &'static str) -> ParseErrorKind {
    let value = match value {
        Value::Number(v) => v.to_string(),
        Value::Histogram(h) if h.gauge => "a gauge histogram value".into(),
        Value::Histogram(_) => "a histogram value".into(),
        Value::Summary(_) => "a summary value".into(),
    };
    ParseErrorKind::InvalidValueForType {
        metric: metric.to_string(),
        value,
        reason,
    }
}

impl<'a> Validator<'a> {
    pub(crate) fn new() -> Validator<'a> {
        Validator {
            fam: None,
            names: HashSet::default(),
            metrics: HashSet::default(),
            groups: HashSet::default(),
        }
    }

    /// The family `name` belongs to, starting it if it is not the current one.
    fn family(&mut self, name: &Cow<'a, str>) -> Result<&mut Family<'a>, ParseErrorKind> {
        let same = self.fam.as_ref().is_some_and(|f| f.name == *name);
        if !same {
            if !self.names.insert(xxh3_64(name.as_bytes())) {
                return Err(ParseErrorKind::ClashingName(name.to_string()));
            }
            self.fam = Some(Family {
                name: name.clone(),
                ty: None,
                help: false,
                unit: None,
                has_samples: false,
                last: None,
                last_group: None,
            });
            self.metrics.clear();
            self.groups.clear();
        }
        // Set just above when it was not already.
        self.fam
            .as_mut()
            .ok_or(ParseErrorKind::InvalidLine("no metric family"))
    }

    pub(crate) fn metadata(&mut self, name: Cow<'a, str>, meta: Meta, unit: &str) -> Res {
        let f = self.family(&name)?;
        let kind = match meta {
            Meta::Help => "HELP",
            Meta::Type(_) => "TYPE",
            Meta::Unit => "UNIT",
        };
        if f.has_samples {
            return Err(ParseErrorKind::MetadataAfterSamples {
                kind,
                family: name.into_owned(),
            });
        }
        let dup = match meta {
            Meta::Help => std::mem::replace(&mut f.help, true),
            Meta::Type(ty) => f.ty.replace(ty).is_some(),
            Meta::Unit => f.unit.replace(!unit.is_empty()).is_some(),
        };
        if dup {
            return Err(ParseErrorKind::DuplicateMetadata {
                kind,
                family: name.into_owned(),
            });
        }
        let ty = f.ty.unwrap_or_default();
        if f.unit == Some(true) && matches!(ty, MetricType::Info | MetricType::StateSet) {
            return Err(ParseErrorKind::InvalidUnit {
                family: name.into_owned(),
                unit: unit.to_string(),
            });
        }
        if ty == MetricType::Info && !name.ends_with("_info") {
            return Err(ParseErrorKind::InvalidMetricName(name.into_owned()));
        }
        Ok(())
    }

    pub(crate) fn sample(&mut self, s: &Sample<'a>) -> Res {
        self.family(&s.name)?;
        let (Some(f), metrics, groups) = (self.fam.as_mut(), &mut self.metrics, &mut self.groups)
        else {
            return Err(ParseErrorKind::InvalidLine("no metric family"));
        };
        f.has_samples = true;
        let ty = f.ty.unwrap_or_default();
        let name = &*s.name;
        check_value(ty, s)?;
        if s.start_timestamp.is_some()
            && !matches!(
                ty,
                MetricType::Counter
                    | MetricType::Histogram
                    | MetricType::Summary
                    | MetricType::Unknown
            )
        {
            return Err(ParseErrorKind::StartTimestampNotAllowed {
                metric: name.to_string(),
                ty: ty.as_openmetrics(),
            });
        }
        if s.start_timestamp.is_some() && matches!(&s.value, Value::Histogram(h) if h.gauge) {
            return Err(ParseErrorKind::StartTimestampNotAllowed {
                metric: name.to_string(),
                ty: MetricType::GaugeHistogram.as_openmetrics(),
            });
        }
        if !s.exemplars.is_empty()
            && matches!(
                ty,
                MetricType::Gauge | MetricType::Info | MetricType::StateSet | MetricType::Summary
            )
        {
            return Err(ParseErrorKind::InvalidExemplar {
                metric: name.to_string(),
                reason:
                    "only counters, histograms, gauge histograms and unknown metrics have exemplars",
            });
        }
        // Order-independent hash of the label set, empty values dropped (they count as
        // absent), so `a{x="1",y="2"}` and `a{y="2",x="1",z=""}` are one metric.
        // A stateset's group is the same without the state label.
        let (mut key, mut group) = (0u64, 0u64);
        for (n, v) in s.labels.iter() {
            if !v.is_empty() {
                let h = xxh3_64_with_seed(v.as_bytes(), xxh3_64(n.as_bytes()));
                let h = h.rotate_left(17) ^ h;
                key = key.wrapping_add(h);
                if n != name {
                    group = group.wrapping_add(h);
                }
            }
        }
        if ty == MetricType::StateSet && f.last_group != Some(group) {
            if !groups.insert(group) {
                return Err(ParseErrorKind::Ordering {
                    family: f.name.to_string(),
                    reason: "stateset groups must not be interleaved",
                });
            }
            f.last_group = Some(group);
        }
        match f.last {
            Some((k, prev_ts)) if k == key => match (prev_ts, s.timestamp) {
                (Some(a), Some(b)) if b >= a => {}
                _ => {
                    return Err(ParseErrorKind::Ordering {
                        family: f.name.to_string(),
                        reason: "a metric's samples need increasing timestamps",
                    })
                }
            },
            _ => {
                if !metrics.insert(key) {
                    return Err(ParseErrorKind::Ordering {
                        family: f.name.to_string(),
                        reason: "metrics of a family must not be interleaved or repeated",
                    });
                }
            }
        }
        f.last = Some((key, s.timestamp));
        Ok(())
    }
}

fn check_value(ty: MetricType, s: &Sample<'_>) -> Res {
    let name = &*s.name;
    let v = &s.value;
    match (ty, v) {
        (MetricType::Counter, Value::Number(x)) => {
            if x.is_nan() || *x < 0.0 {
                return Err(bad_value(name, v, "a counter is not NaN or negative"));
            }
        }
        (MetricType::Gauge, Value::Number(_)) | (MetricType::Unknown, Value::Number(_)) => {}
        (MetricType::Info, Value::Number(x)) => {
            if *x != 1.0 {
                return Err(bad_value(name, v, "an info value is 1"));
            }
        }
        (MetricType::StateSet, Value::Number(x)) => {
            if *x != 0.0 && *x != 1.0 {
                return Err(bad_value(name, v, "a stateset value is 0 or 1"));
            }
            if s.labels.get(name).is_none_or(|v| v.is_empty()) {
                return Err(ParseErrorKind::InvalidTypeLabel {
                    label: name.to_string(),
                    metric: name.to_string(),
                    reason: "a stateset metric has a label named after the family",
                });
            }
        }
        (MetricType::Histogram | MetricType::Unknown, Value::Histogram(h)) if !h.gauge => {
            check_histogram(name, s, h)?
        }
        (MetricType::GaugeHistogram | MetricType::Unknown, Value::Histogram(h)) if h.gauge => {
            check_histogram(name, s, h)?
        }
        (MetricType::Summary | MetricType::Unknown, Value::Summary(q)) => {
            check_summary(name, s, q)?
        }
        (MetricType::Counter | MetricType::Gauge | MetricType::Info | MetricType::StateSet, _) => {
            return Err(bad_value(name, v, "this type takes a number"))
        }
        (MetricType::Histogram, _) => {
            return Err(bad_value(
                name,
                v,
                "a histogram takes {count:..,sum:..,...}",
            ))
        }
        (MetricType::GaugeHistogram, _) => {
            return Err(bad_value(
                name,
                v,
                "a gauge histogram takes {gcount:..,gsum:..,...}",
            ))
        }
        (MetricType::Summary, _) => {
            return Err(bad_value(
                name,
                v,
                "a summary takes {count:..,sum:..,quantile:[...]}",
            ))
        }
        (MetricType::Unknown, _) => {}
    }
    Ok(())
}

fn check_histogram(name: &str, s: &Sample<'_>, h: &HistogramValue) -> Res {
    let counter = !h.gauge;
    if counter && (h.count.is_nan() || h.count < 0.0) {
        return Err(structure(name, "the count is NaN or negative"));
    }
    if let Some(c) = &h.classic {
        check_classic(name, h, c)?;
        if s.labels.get("le").is_some_and(|v| !v.is_empty()) {
            return Err(ParseErrorKind::InvalidTypeLabel {
                label: "le".into(),
                metric: name.to_string(),
                reason: "a histogram with classic buckets has no \"le\" label",
            });
        }
    }
    if let Some(n) = &h.native {
        check_native(name, counter, n)?;
    }
    Ok(())
}

fn check_classic(name: &str, h: &HistogramValue, c: &[ClassicBucket]) -> Res {
    for w in c.windows(2) {
        if w[1].le <= w[0].le {
            return Err(structure(name, "classic bucket bounds are not increasing"));
        }
        if !h.gauge && w[1].count < w[0].count {
            return Err(structure(name, "classic bucket counts are not cumulative"));
        }
    }
    if !h.gauge && c.iter().any(|b| b.count.is_nan() || b.count < 0.0) {
        return Err(structure(name, "a classic bucket count is NaN or negative"));
    }
    let inf = c.last().map_or(f64::NAN, |b| b.count);
    if inf != h.count && !(inf.is_nan() && h.count.is_nan()) {
        return Err(structure(name, "the count differs from the +Inf bucket"));
    }
    Ok(())
}

fn check_spans(name: &str, spans: &[Span], buckets: &[f64]) -> Res {
    let need: u64 = spans.iter().map(|s| u64::from(s.length)).sum();
    if need != buckets.len() as u64 {
        return Err(structure(
            name,
            "span lengths do not add up to the bucket count",
        ));
    }
    Ok(())
}

fn check_native(name: &str, counter: bool, n: &FloatHistogram) -> Res {
    if !(MIN_EXPONENTIAL_SCHEMA..=MAX_EXPONENTIAL_SCHEMA).contains(&n.schema) {
        return Err(structure(
            name,
            "the schema is not a standard one (-4 to 8)",
        ));
    }
    if n.zero_threshold < 0.0 {
        return Err(structure(name, "the zero threshold is negative"));
    }
    check_spans(name, &n.negative_spans, &n.negative_buckets)?;
    check_spans(name, &n.positive_spans, &n.positive_buckets)?;
    if counter
        && std::iter::once(&n.zero_count)
            .chain(&n.negative_buckets)
            .chain(&n.positive_buckets)
            .any(|c| c.is_nan() || *c < 0.0)
    {
        return Err(structure(name, "a native bucket count is NaN or negative"));
    }
    Ok(())
}

fn check_summary(name: &str, s: &Sample<'_>, q: &SummaryValue) -> Res {
    if q.count.is_nan() || q.count < 0.0 || q.count.fract() != 0.0 {
        return Err(structure(name, "the count is not a non-negative integer"));
    }
    if q.sum.is_nan() || q.sum < 0.0 {
        return Err(structure(name, "the sum is NaN or negative"));
    }
    for (i, x) in q.quantiles.iter().enumerate() {
        if !(0.0..=1.0).contains(&x.quantile) {
            return Err(structure(name, "a quantile is outside [0, 1]"));
        }
        if i > 0 && x.quantile <= q.quantiles[i - 1].quantile {
            return Err(structure(name, "quantiles are not increasing"));
        }
        if x.value < 0.0 {
            return Err(structure(name, "a quantile value is negative"));
        }
    }
    if s.labels.get("quantile").is_some_and(|v| !v.is_empty()) {
        return Err(ParseErrorKind::InvalidTypeLabel {
            label: "quantile".into(),
            metric: name.to_string(),
            reason: "a summary has no \"quantile\" label",
        });
    }
    Ok(())
}
