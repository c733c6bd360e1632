//! The OpenMetrics 1.0 semantic rules, checked while the parser streams.
//!
//! The syntax is checked by the parser; this state machine checks what the spec adds on
//! top: metadata placement and uniqueness, family contiguity and name clashes, type suffixes,
//! counter-like values, `le`/`quantile`/stateset labels, histogram structure (`+Inf` bucket,
//! bucket order, `_count`/`_sum` pairing), exemplar placement and length, and group
//! ordering (contiguous groups, consistent and non-decreasing timestamps).

use std::collections::HashSet;

use crate::error::ParseErrorKind;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed, Xxh3};

use crate::lex::{parse_strict_number, FxBuild};
use crate::types::{Exemplar, LabelsRef, MetricType};

/// Which metadata line.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Meta<'a> {
    Help,
    Type(MetricType),
    Unit(&'a str),
}

/// A sample-name suffix, matched once per sample.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Suffix {
    None,
    Total,
    Created,
    Bucket,
    Count,
    Sum,
    GCount,
    GSum,
    Info,
    Other,
}

impl Suffix {
    #[inline]
    fn of(s: &str) -> Suffix {
        match s.as_bytes() {
            b"" => Suffix::None,
            b"_total" => Suffix::Total,
            b"_created" => Suffix::Created,
            b"_bucket" => Suffix::Bucket,
            b"_count" => Suffix::Count,
            b"_sum" => Suffix::Sum,
            b"_gcount" => Suffix::GCount,
            b"_gsum" => Suffix::GSum,
            b"_info" => Suffix::Info,
            _ => Suffix::Other,
        }
    }

    /// Whether a family of type `ty` may have samples with this suffix.
    #[inline]
    fn allowed(self, ty: MetricType) -> bool {
        use Suffix as S;
        match ty {
            MetricType::Counter => matches!(self, S::Total | S::Created),
            MetricType::Summary => matches!(self, S::None | S::Count | S::Sum | S::Created),
            MetricType::Histogram => matches!(self, S::Count | S::Sum | S::Bucket | S::Created),
            MetricType::GaugeHistogram => matches!(self, S::GCount | S::GSum | S::Bucket),
            MetricType::Info => self == S::Info,
            _ => self == S::None,
        }
    }
}

struct Family<'a> {
    name: &'a str,
    ty: Option<MetricType>,
    help: bool,
    unit: Option<&'a str>,
    has_samples: bool,
}

#[derive(Default)]
struct HistGroup {
    bucket: Option<f64>,
    last_value: f64,
    count: Option<f64>,
    has_sum: bool,
    has_gsum: bool,
    negative_buckets: bool,
    negative_gsum: bool,
}

/// The validator; one per parse.
pub(crate) struct Validator<'a> {
    fam: Option<Family<'a>>,
    /// xxh3 hashes of every family name and every sample name a typed family may use.
    reserved: HashSet<u64, FxBuild>,
    groups: HashSet<u64, FxBuild>,
    last_group: Option<u64>,
    group_ts: Option<f64>,
    hist: HistGroup,
    hist_key: Option<(u64, Option<u64>)>,
}

type Res = Result<(), ParseErrorKind>;

fn structure(family: &str, reason: &'static str) -> ParseErrorKind {
    ParseErrorKind::Structure {
        family: family.to_string(),
        reason,
    }
}

impl<'a> Validator<'a> {
    pub(crate) fn new() -> Validator<'a> {
        Validator {
            fam: None,
            reserved: HashSet::with_capacity_and_hasher(256, FxBuild::default()),
            groups: HashSet::default(),
            last_group: None,
            group_ts: None,
            hist: HistGroup::default(),
            hist_key: None,
        }
    }

    fn start_family(&mut self, name: &'a str) -> Res {
        self.end_family()?;
        if !self.reserved.insert(xxh3_64(name.as_bytes())) {
            return Err(ParseErrorKind::ClashingName(name.to_string()));
        }
        self.fam = Some(Family {
            name,
            ty: None,
            help: false,
            unit: None,
            has_samples: false,
        });
        Ok(())
    }

    fn end_family(&mut self) -> Res {
        if self.hist_key.take().is_some() {
            let name = self.fam.as_ref().map_or("", |f| f.name);
            self.check_hist(name)?;
        }
        self.groups.clear();
        self.last_group = None;
        self.group_ts = None;
        self.fam = None;
        Ok(())
    }

    /// All input seen (`# EOF`).
    pub(crate) fn finish(&mut self) -> Res {
        self.end_family()
    }

    pub(crate) fn metadata(&mut self, name: &'a str, meta: Meta<'a>) -> Res {
        let same = matches!(&self.fam, Some(f) if f.name == name);
        if !same {
            self.start_family(name)?;
        }
        let Some(fam) = self.fam.as_mut() else {
            return Ok(());
        };
        let kind = match meta {
            Meta::Help => "HELP",
            Meta::Type(_) => "TYPE",
            Meta::Unit(_) => "UNIT",
        };
        if fam.has_samples {
            return Err(ParseErrorKind::MetadataAfterSamples {
                kind,
                family: name.to_string(),
            });
        }
        let dup = || ParseErrorKind::DuplicateMetadata {
            kind,
            family: name.to_string(),
        };
        let bad_unit = |unit: &str| ParseErrorKind::InvalidUnit {
            family: name.to_string(),
            unit: unit.to_string(),
        };
        match meta {
            Meta::Help => {
                if fam.help {
                    return Err(dup());
                }
                fam.help = true;
            }
            Meta::Type(ty) => {
                if fam.ty.is_some() {
                    return Err(dup());
                }
                fam.ty = Some(ty);
                if let Some(u) = fam.unit.filter(|u| !u.is_empty()) {
                    if matches!(ty, MetricType::Info | MetricType::StateSet) {
                        return Err(bad_unit(u));
                    }
                }
                for suffix in ty.openmetrics_suffixes().iter().filter(|s| !s.is_empty()) {
                    let mut h = Xxh3::new();
                    h.update(name.as_bytes());
                    h.update(suffix.as_bytes());
                    if !self.reserved.insert(h.digest()) {
                        return Err(ParseErrorKind::ClashingName(format!("{name}{suffix}")));
                    }
                }
            }
            Meta::Unit(u) => {
                if fam.unit.is_some() {
                    return Err(dup());
                }
                fam.unit = Some(u);
                if !u.is_empty() {
                    let suffix_ok = name
                        .strip_suffix(u)
                        .is_some_and(|rest| rest.ends_with('_') && rest.len() > 1);
                    if !suffix_ok || matches!(fam.ty, Some(MetricType::Info | MetricType::StateSet))
                    {
                        return Err(bad_unit(u));
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks one sample; `ts` is the timestamp in seconds as written.
    pub(crate) fn sample(
        &mut self,
        name: &'a str,
        labels: LabelsRef<'a>,
        value: f64,
        ts: Option<f64>,
        exemplar: Option<&Exemplar<'a>>,
    ) -> Res {
        // Which family, which suffix.
        let fits = self.fam.as_ref().and_then(|f| {
            let suffix = Suffix::of(name.strip_prefix(f.name)?);
            suffix.allowed(f.ty.unwrap_or_default()).then_some(suffix)
        });
        let suffix = match fits {
            Some(s) => s,
            None => {
                self.start_family(name)?;
                Suffix::None
            }
        };
        let Some(fam) = self.fam.as_mut() else {
            return Ok(());
        };
        fam.has_samples = true;
        let fam_name = fam.name;
        let ty = fam.ty.unwrap_or_default();
        let bad_value = |reason: &'static str| ParseErrorKind::InvalidValueForType {
            metric: name.to_string(),
            value: value.to_string(),
            reason,
        };
        let non_negative = "counter-like values must be non-negative and not NaN";
        // Values.
        match (ty, suffix) {
            (MetricType::Counter, Suffix::Total)
            | (MetricType::Histogram, Suffix::Bucket | Suffix::Count | Suffix::Sum)
            | (MetricType::GaugeHistogram, Suffix::Bucket | Suffix::GCount)
            | (MetricType::Summary, Suffix::Count | Suffix::Sum)
                if value.is_nan() || value < 0.0 =>
            {
                return Err(bad_value(non_negative));
            }
            (MetricType::GaugeHistogram, Suffix::GSum) if value.is_nan() => {
                return Err(bad_value("_gsum must not be NaN"));
            }
            (MetricType::Summary, Suffix::None) if value < 0.0 => {
                return Err(bad_value("quantile values must not be negative"));
            }
            (MetricType::Info, _) if value != 1.0 => {
                return Err(bad_value("info values must be 1"));
            }
            (MetricType::StateSet, _) if value != 0.0 && value != 1.0 => {
                return Err(bad_value("stateset values must be 0 or 1"));
            }
            _ => {}
        }
        let type_label = |label: &str, reason: &'static str| ParseErrorKind::InvalidTypeLabel {
            label: label.to_string(),
            metric: name.to_string(),
            reason,
        };
        // Type labels.
        let mut le = None;
        let is_bucket = matches!(ty, MetricType::Histogram | MetricType::GaugeHistogram)
            && suffix == Suffix::Bucket;
        let is_quantile = ty == MetricType::Summary && suffix == Suffix::None;
        if is_bucket {
            let v = labels
                .get("le")
                .ok_or_else(|| type_label("le", "missing"))?;
            let f = parse_strict_number(&v)
                .filter(|f| !f.is_nan())
                .ok_or_else(|| type_label("le", "not a number"))?;
            le = Some(f);
        }
        if is_quantile {
            let v = labels
                .get("quantile")
                .filter(|v| !v.is_empty())
                .ok_or_else(|| type_label("quantile", "missing"))?;
            let q =
                parse_strict_number(&v).ok_or_else(|| type_label("quantile", "not a number"))?;
            if !(0.0..=1.0).contains(&q) {
                return Err(type_label("quantile", "must be between 0 and 1"));
            }
        }
        // An empty value is no label at all (the Prometheus data model).
        if ty == MetricType::StateSet && !matches!(labels.get(fam_name), Some(v) if !v.is_empty()) {
            return Err(type_label(
                fam_name,
                "a stateset sample needs a label named as its family",
            ));
        }
        // Exemplars.
        if let Some(x) = exemplar {
            let allowed = (ty == MetricType::Counter && suffix == Suffix::Total) || is_bucket;
            let bad = |reason| ParseErrorKind::InvalidExemplar {
                metric: name.to_string(),
                reason,
            };
            if !allowed {
                return Err(bad(
                    "exemplars are only allowed on counter _total and bucket samples",
                ));
            }
            let len: usize = x
                .labels
                .iter()
                .map(|(n, v)| n.chars().count() + v.chars().count())
                .sum();
            if len > 128 {
                return Err(bad("exemplar labels exceed 128 characters"));
            }
        }
        // Groups.
        let skip = if is_bucket {
            Some("le")
        } else if is_quantile {
            Some("quantile")
        } else if ty == MetricType::StateSet {
            Some(fam_name)
        } else {
            None
        };
        // Order-independent group key: the sum of one strong hash per pair.
        let mut g = 0u64;
        for (n, v) in labels.iter() {
            if v.is_empty() || Some(n.as_ref()) == skip {
                continue;
            }
            let pair = xxh3_64_with_seed(v.as_bytes(), xxh3_64(n.as_bytes()));
            g = g.wrapping_add(pair);
        }
        let ordering = |reason| ParseErrorKind::Ordering {
            family: fam_name.to_string(),
            reason,
        };
        if self.last_group == Some(g) {
            if ts.is_some() != self.group_ts.is_some() {
                return Err(ordering(
                    "a group mixes samples with and without timestamps",
                ));
            }
            if let (Some(t), Some(prev)) = (ts, self.group_ts) {
                if t < prev && ty != MetricType::Info {
                    return Err(ordering("timestamps went backwards"));
                }
            }
        } else if !self.groups.insert(g) {
            return Err(ordering(
                "the samples of one label group are not contiguous",
            ));
        }
        self.last_group = Some(g);
        self.group_ts = ts;
        // Histogram structure.
        if matches!(ty, MetricType::Histogram | MetricType::GaugeHistogram)
            && suffix != Suffix::Created
        {
            let key = (g, ts.map(f64::to_bits));
            if self.hist_key != Some(key) {
                if self.hist_key.is_some() {
                    self.check_hist(fam_name)?;
                }
                self.hist = HistGroup::default();
                self.hist_key = Some(key);
            }
            let hg = &mut self.hist;
            match suffix {
                Suffix::Bucket => {
                    let le = le.unwrap_or(f64::NAN);
                    if le < 0.0 {
                        hg.negative_buckets = true;
                    }
                    if hg.bucket.is_some_and(|prev| le <= prev) {
                        return Err(structure(
                            fam_name,
                            "buckets are not in increasing le order",
                        ));
                    }
                    if value < hg.last_value {
                        return Err(structure(fam_name, "bucket values are not cumulative"));
                    }
                    hg.bucket = Some(le);
                    hg.last_value = value;
                }
                Suffix::Count | Suffix::GCount => hg.count = Some(value),
                Suffix::Sum => hg.has_sum = true,
                Suffix::GSum => {
                    hg.has_gsum = true;
                    if value < 0.0 {
                        hg.negative_gsum = true;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn check_hist(&self, fam: &str) -> Res {
        let h = &self.hist;
        if h.bucket != Some(f64::INFINITY) {
            return Err(structure(fam, "the +Inf bucket is missing"));
        }
        if h.count.is_some_and(|c| c != h.last_value) {
            return Err(structure(fam, "_count does not match the +Inf bucket"));
        }
        if h.has_sum && h.count.is_none() {
            return Err(structure(fam, "_sum without _count"));
        }
        if h.has_gsum && h.count.is_none() {
            return Err(structure(fam, "_gsum without _gcount"));
        }
        if h.count.is_some() && !(h.has_sum || h.has_gsum) {
            return Err(structure(fam, "_count without _sum"));
        }
        if h.negative_buckets && h.has_sum {
            return Err(structure(fam, "_sum is not allowed with negative buckets"));
        }
        if h.negative_gsum && !h.negative_buckets {
            return Err(structure(fam, "negative _gsum without negative buckets"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_table_matches_metric_type() {
        let all = [
            "", "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
            "_x",
        ];
        for ty in [
            MetricType::Counter,
            MetricType::Gauge,
            MetricType::Histogram,
            MetricType::GaugeHistogram,
            MetricType::Summary,
            MetricType::Info,
            MetricType::StateSet,
            MetricType::Unknown,
        ] {
            for s in all {
                assert_eq!(
                    Suffix::of(s).allowed(ty),
                    ty.openmetrics_suffixes().contains(&s),
                    "{ty} {s:?}"
                );
            }
        }
    }
}
