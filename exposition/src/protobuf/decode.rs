//! From protobuf families to what a scraper stores: classic series, flattened the way the
//! text format names them, and native histograms.
//!
//! The rules follow Prometheus's protobuf scrape parser:
//! - A histogram is **native** when it has at least one positive or negative span, a
//!   positive `zero_threshold` or a positive `zero_count`. Anything else (in particular a
//!   histogram with only classic buckets) is classic. An exporter that wants an empty
//!   native histogram with `zero_threshold` 0 sends one span of length 0.
//! - A native histogram is a [`Histogram`] (integer, delta-encoded buckets) unless
//!   `sample_count_float` or `zero_count_float` is positive, in which case it is a
//!   [`FloatHistogram`] built from the absolute `*_count` fields. A `GAUGE_HISTOGRAM`
//!   family gives it the [`CounterResetHint::Gauge`] hint.
//! - A native histogram's classic buckets are dropped unless
//!   [`DecodeOptions::keep_classic_histograms`] is set (Prometheus's
//!   `always_scrape_classic_histograms`, formerly `scrape_classic_histograms`); with it
//!   set, a native histogram that also has classic buckets yields both the native sample
//!   and the classic `_bucket`/`_sum`/`_count` series.
//! - Classic series come in text order: `_bucket{le=...}` by bucket (a `+Inf` bucket
//!   holding the sample count is added when the last one is not `+Inf`), then `_sum`, then
//!   `_count`; summaries give `{quantile=...}` per quantile, `_sum`, `_count`. `le` and
//!   `quantile` values are written as Prometheus writes them for protobuf scrapes
//!   (`1.0`, `0.25`, `1e+06`, `+Inf`).
//! - Native buckets are compacted as Prometheus does (`Compact(0)`): empty buckets are
//!   dropped and spans become the maximal runs of populated buckets, so the no-op span
//!   of an empty histogram disappears after it has marked the histogram native.
//! - A metric without the field its family type calls for reads as zero, as Prometheus
//!   reads it. `timestamp_ms` 0 means no timestamp. A summary metric labelled
//!   `quantile`, or a histogram metric labelled `le`, is an error (in Prometheus the
//!   scrape fails on the duplicate label).
//! - Created timestamps become `_created` samples (value in seconds, counter family
//!   `x_total` gives `x_created`) only with [`DecodeOptions::created_samples`]; a native
//!   histogram keeps its own in [`NativeHistogramSample::created_ms`].
//! - Exemplars: a counter's and each classic bucket's go on that sample; a native
//!   histogram takes its `exemplars` that have a timestamp, or when there are none, the
//!   timestamped exemplars of its classic buckets.

use crate::family::{FamilyExemplar, FamilySample, MetricFamily};
use crate::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
use crate::labels::{Label, Labels};
use crate::types::MetricType;

use super::error::{ProtobufError, ProtobufErrorKind};
use super::proto;
use super::reader::{DelimitedReader, DEFAULT_MAX_MESSAGE_LEN};

/// Knobs of [`decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Also expose the classic buckets of native histograms as series.
    pub keep_classic_histograms: bool,
    /// Expose created timestamps as `_created` samples.
    pub created_samples: bool,
    /// Largest accepted message, in bytes.
    pub max_message_len: usize,
}

impl Default for DecodeOptions {
    fn default() -> DecodeOptions {
        DecodeOptions {
            keep_classic_histograms: false,
            created_samples: false,
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
        }
    }
}

/// A decoded protobuf scrape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scrape {
    /// Every family in input order with its metadata and its classic (float) samples; a
    /// family holding only native histograms is here with no samples.
    pub families: Vec<MetricFamily>,
    /// Native histogram samples in input order.
    pub histograms: Vec<NativeHistogramSample>,
}

impl Scrape {
    /// Number of float samples plus native histogram samples.
    pub fn sample_count(&self) -> usize {
        self.families.iter().map(|f| f.samples.len()).sum::<usize>() + self.histograms.len()
    }
}

/// A native histogram value: integer or float.
#[derive(Debug, Clone, PartialEq)]
pub enum NativeHistogram {
    /// Integer counts (delta-encoded buckets).
    Int(Histogram),
    /// Float counts (absolute buckets).
    Float(FloatHistogram),
}

impl NativeHistogram {
    /// The value as a float histogram, whichever it is.
    pub fn to_float(&self) -> FloatHistogram {
        match self {
            NativeHistogram::Int(h) => h.to_float(),
            NativeHistogram::Float(h) => h.clone(),
        }
    }
}

/// One native histogram sample.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeHistogramSample {
    /// Index of its family in [`Scrape::families`].
    pub family: usize,
    /// Metric name (the family name).
    pub name: String,
    /// Labels without `__name__`.
    pub labels: Labels,
    /// The histogram.
    pub histogram: NativeHistogram,
    /// Timestamp in milliseconds, if the exporter gave one.
    pub timestamp: Option<i64>,
    /// Exemplars (all with timestamps).
    pub exemplars: Vec<FamilyExemplar>,
    /// Created timestamp in milliseconds.
    pub created_ms: Option<i64>,
}

/// Decodes a delimited protobuf body into families and native histograms.
///
/// ```
/// use exposition::protobuf::{self, proto, DecodeOptions};
///
/// let fam = proto::MetricFamily {
///     name: "rpc_seconds".into(),
///     r#type: proto::MetricType::Histogram as i32,
///     metric: vec![proto::Metric {
///         histogram: Some(proto::Histogram {
///             sample_count: 3, sample_sum: 1.5, schema: 0,
///             positive_span: vec![proto::BucketSpan { offset: 0, length: 2 }],
///             positive_delta: vec![1, 1], // bucket counts 1, 2
///             ..Default::default()
///         }),
///         ..Default::default()
///     }],
///     ..Default::default()
/// };
/// let mut body = Vec::new();
/// protobuf::encode_delimited(&[fam], &mut body);
/// let scrape = protobuf::decode(&body, &DecodeOptions::default()).unwrap();
/// assert_eq!(scrape.families[0].samples.len(), 0); // native only
/// let h = scrape.histograms[0].histogram.to_float();
/// assert_eq!((h.count, h.positive_buckets.clone()), (3.0, vec![1.0, 2.0]));
/// ```
pub fn decode(input: &[u8], opts: &DecodeOptions) -> Result<Scrape, ProtobufError> {
    let mut scrape = Scrape::default();
    for item in DelimitedReader::new(input).with_max_message_len(opts.max_message_len) {
        let (offset, fam) = item?;
        flatten_family(&fam, opts, &mut scrape).map_err(|k| ProtobufError::new(offset, k))?;
    }
    Ok(scrape)
}

/// Decodes only the messages, without flattening (for callers that want the raw model).
pub fn decode_messages(input: &[u8]) -> Result<Vec<proto::MetricFamily>, ProtobufError> {
    DelimitedReader::new(input)
        .map(|r| r.map(|(_, f)| f))
        .collect()
}

/// The exposition [`MetricType`] of a protobuf type number.
pub fn metric_type(ty: i32) -> Option<MetricType> {
    Some(match proto::MetricType::try_from(ty).ok()? {
        proto::MetricType::Counter => MetricType::Counter,
        proto::MetricType::Gauge => MetricType::Gauge,
        proto::MetricType::Summary => MetricType::Summary,
        proto::MetricType::Untyped => MetricType::Unknown,
        proto::MetricType::Histogram => MetricType::Histogram,
        proto::MetricType::GaugeHistogram => MetricType::GaugeHistogram,
    })
}

/// Whether Prometheus reads this histogram as native (see the [module docs](self)).
pub fn is_native(h: &proto::Histogram) -> bool {
    !h.positive_span.is_empty()
        || !h.negative_span.is_empty()
        || h.zero_threshold > 0.0
        || h.zero_count > 0
}

/// Checks one family and appends its samples to `out`.
pub fn flatten_family(
    fam: &proto::MetricFamily,
    opts: &DecodeOptions,
    out: &mut Scrape,
) -> Result<(), ProtobufErrorKind> {
    let name = fam.name.as_str();
    if name.is_empty() {
        return Err(ProtobufErrorKind::EmptyMetricName);
    }
    let ty = metric_type(fam.r#type).ok_or_else(|| ProtobufErrorKind::UnknownType {
        family: name.to_string(),
        ty: fam.r#type,
    })?;
    check_unit(name, &fam.unit, ty)?;
    let mut family = MetricFamily::new(name, ty);
    family.help = (!fam.help.is_empty()).then(|| fam.help.clone());
    family.unit = (!fam.unit.is_empty()).then(|| fam.unit.clone());
    // What a metric without its type's field reads as (zero values, as in Prometheus).
    let no_counter = proto::Counter::default();
    let no_summary = proto::Summary::default();
    let no_histogram = proto::Histogram::default();
    for m in &fam.metric {
        let labels = labels_of(name, &m.label)?;
        let reserved = match ty {
            MetricType::Summary => Some("quantile"),
            MetricType::Histogram | MetricType::GaugeHistogram => Some("le"),
            _ => None,
        };
        if let Some(r) = reserved.filter(|r| m.label.iter().any(|l| l.name == *r)) {
            return Err(ProtobufErrorKind::InvalidLabel {
                family: name.to_string(),
                label: r.to_string(),
                reason: "reserved for the series this type exposes",
            });
        }
        let ts = (m.timestamp_ms != 0).then_some(m.timestamp_ms);
        let mut push = |suffix: &str, labels: Labels, value: f64, ex: Option<&proto::Exemplar>| {
            family.samples.push(FamilySample {
                name: format!("{name}{suffix}"),
                labels,
                value,
                timestamp: ts,
                exemplar: ex.map(exemplar_of),
            })
        };
        match ty {
            MetricType::Counter => {
                let c = m.counter.as_ref().unwrap_or(&no_counter);
                push("", labels.clone(), c.value, c.exemplar.as_ref());
                if let (true, Some(ct)) = (opts.created_samples, c.created_timestamp) {
                    let base = name.strip_suffix("_total").unwrap_or(name);
                    family.samples.push(FamilySample {
                        name: format!("{base}_created"),
                        labels,
                        value: ct.to_millis() as f64 / 1000.0,
                        timestamp: ts,
                        exemplar: None,
                    });
                }
            }
            MetricType::Gauge => {
                push("", labels, m.gauge.unwrap_or_default().value, None);
            }
            MetricType::Summary => {
                let s = m.summary.as_ref().unwrap_or(&no_summary);
                for q in &s.quantile {
                    let l = with_label(&labels, "quantile", &format_float(q.quantile));
                    push("", l, q.value, None);
                }
                push("_sum", labels.clone(), s.sample_sum, None);
                push("_count", labels.clone(), s.sample_count as f64, None);
                if let (true, Some(ct)) = (opts.created_samples, s.created_timestamp) {
                    push("_created", labels, ct.to_millis() as f64 / 1000.0, None);
                }
            }
            MetricType::Histogram | MetricType::GaugeHistogram => {
                let h = m.histogram.as_ref().unwrap_or(&no_histogram);
                let native = is_native(h);
                if native {
                    out.histograms.push(NativeHistogramSample {
                        family: out.families.len(),
                        name: name.to_string(),
                        labels: labels.clone(),
                        histogram: native_of(name, h, ty == MetricType::GaugeHistogram)?,
                        timestamp: ts,
                        exemplars: native_exemplars(h),
                        created_ms: h.created_timestamp.map(Timestamp::to_millis),
                    });
                }
                if !native || (opts.keep_classic_histograms && !h.bucket.is_empty()) {
                    let count = if h.sample_count_float > 0.0 {
                        h.sample_count_float
                    } else {
                        h.sample_count as f64
                    };
                    for b in &h.bucket {
                        let v = if b.cumulative_count_float > 0.0 {
                            b.cumulative_count_float
                        } else {
                            b.cumulative_count as f64
                        };
                        let l = with_label(&labels, "le", &format_float(b.upper_bound));
                        push("_bucket", l, v, b.exemplar.as_ref());
                    }
                    let has_inf = h
                        .bucket
                        .last()
                        .is_some_and(|b| b.upper_bound == f64::INFINITY);
                    if !has_inf {
                        push("_bucket", with_label(&labels, "le", "+Inf"), count, None);
                    }
                    push("_sum", labels.clone(), h.sample_sum, None);
                    push("_count", labels.clone(), count, None);
                    if let (true, Some(ct)) = (opts.created_samples, h.created_timestamp) {
                        push("_created", labels, ct.to_millis() as f64 / 1000.0, None);
                    }
                }
            }
            _ => {
                push("", labels, m.untyped.unwrap_or_default().value, None);
            }
        }
    }
    out.families.push(family);
    Ok(())
}

use proto::Timestamp;

/// Prometheus's unit rule: the unit is a `_`-separated suffix of the name (for a counter,
/// of the name without `_total`).
fn check_unit(name: &str, unit: &str, ty: MetricType) -> Result<(), ProtobufErrorKind> {
    if unit.is_empty() {
        return Ok(());
    }
    let base = match (ty, name.strip_suffix("_total")) {
        (MetricType::Counter, Some(b)) => b,
        _ => name,
    };
    let ok = base
        .strip_suffix(unit)
        .is_some_and(|rest| rest.ends_with('_'));
    if ok {
        Ok(())
    } else {
        Err(ProtobufErrorKind::InvalidUnit {
            family: name.to_string(),
            unit: unit.to_string(),
        })
    }
}

fn labels_of(family: &str, pairs: &[proto::LabelPair]) -> Result<Labels, ProtobufErrorKind> {
    let bad = |label: &str, reason| ProtobufErrorKind::InvalidLabel {
        family: family.to_string(),
        label: label.to_string(),
        reason,
    };
    let mut v: Vec<Label> = Vec::with_capacity(pairs.len());
    for p in pairs {
        if p.name.is_empty() {
            return Err(bad("", "empty label name"));
        }
        if p.name == crate::labels::METRIC_NAME {
            return Err(bad(&p.name, "reserved label name"));
        }
        v.push(Label::new(p.name.as_str(), p.value.as_str()));
    }
    v.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = v.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(bad(&w[0].name, "label name given twice"));
    }
    v.retain(|l| !l.value.is_empty());
    Ok(Labels::from_sorted_unchecked(v))
}

fn with_label(labels: &Labels, name: &str, value: &str) -> Labels {
    let mut b = labels.builder();
    b.set(name, value);
    b.build()
}

fn exemplar_of(e: &proto::Exemplar) -> FamilyExemplar {
    FamilyExemplar {
        labels: Labels::from_pairs(
            &e.label
                .iter()
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect::<Vec<_>>(),
        ),
        value: e.value,
        timestamp: e.timestamp.map(Timestamp::to_millis),
    }
}

fn native_exemplars(h: &proto::Histogram) -> Vec<FamilyExemplar> {
    let own: Vec<FamilyExemplar> = h
        .exemplars
        .iter()
        .filter(|e| e.timestamp.is_some())
        .map(exemplar_of)
        .collect();
    if !own.is_empty() {
        return own;
    }
    h.bucket
        .iter()
        .filter_map(|b| b.exemplar.as_ref())
        .filter(|e| e.timestamp.is_some())
        .map(exemplar_of)
        .collect()
}

/// Prometheus's `Compact(0)` on one side of a native histogram, over absolute counts:
/// empty buckets go, and the spans become the maximal runs of consecutive non-empty
/// buckets (zero-length spans vanish, touching spans merge). `None` when a rebuilt
/// offset would not fit an `i32` (the caller then keeps the layout as sent).
fn compact<T: Copy + PartialEq + Default>(
    spans: &[proto::BucketSpan],
    counts: &[T],
) -> Option<(Vec<Span>, Vec<T>)> {
    let mut out_spans: Vec<Span> = Vec::new();
    let mut out_counts = Vec::with_capacity(counts.len());
    let mut idx: i64 = 0;
    let mut k = 0usize;
    let mut last_end: Option<i64> = None;
    for s in spans {
        idx += i64::from(s.offset);
        for _ in 0..s.length {
            let c = *counts.get(k)?;
            k += 1;
            if c != T::default() {
                match (last_end, out_spans.last_mut()) {
                    (Some(e), Some(span)) if e == idx => span.length += 1,
                    _ => {
                        let offset = idx - last_end.unwrap_or(0);
                        out_spans.push(Span::new(i32::try_from(offset).ok()?, 1));
                    }
                }
                out_counts.push(c);
                last_end = Some(idx + 1);
            }
            idx += 1;
        }
    }
    Some((out_spans, out_counts))
}

fn spans_of(spans: &[proto::BucketSpan]) -> Vec<Span> {
    spans
        .iter()
        .map(|s| Span::new(s.offset, s.length))
        .collect()
}

/// [`compact`] for delta-encoded integer buckets.
fn compact_deltas(spans: &[proto::BucketSpan], deltas: &[i64]) -> (Vec<Span>, Vec<i64>) {
    let mut acc = 0i64;
    let abs: Vec<i64> = deltas
        .iter()
        .map(|d| {
            acc = acc.wrapping_add(*d);
            acc
        })
        .collect();
    match compact(spans, &abs) {
        Some((s, abs)) => {
            let mut prev = 0i64;
            let d = abs
                .iter()
                .map(|a| {
                    let d = a.wrapping_sub(prev);
                    prev = *a;
                    d
                })
                .collect();
            (s, d)
        }
        None => (spans_of(spans), deltas.to_vec()),
    }
}

/// [`compact`] for absolute float buckets.
fn compact_counts(spans: &[proto::BucketSpan], counts: &[f64]) -> (Vec<Span>, Vec<f64>) {
    compact(spans, counts).unwrap_or_else(|| (spans_of(spans), counts.to_vec()))
}

/// Builds the native histogram, checking that spans and buckets agree, and compacts it
/// as Prometheus does.
fn native_of(
    family: &str,
    h: &proto::Histogram,
    gauge: bool,
) -> Result<NativeHistogram, ProtobufErrorKind> {
    let hint = if gauge {
        CounterResetHint::Gauge
    } else {
        CounterResetHint::Unknown
    };
    let bad = |reason: String| ProtobufErrorKind::InvalidNativeHistogram {
        family: family.to_string(),
        reason,
    };
    let check = |side: &str, spans: &[proto::BucketSpan], n: usize| {
        let want: u64 = spans.iter().map(|s| u64::from(s.length)).sum();
        if want == n as u64 {
            Ok(())
        } else {
            Err(bad(format!(
                "{side} spans cover {want} buckets but {n} counts are given"
            )))
        }
    };
    let float = h.sample_count_float > 0.0 || h.zero_count_float > 0.0;
    if float {
        check("positive", &h.positive_span, h.positive_count.len())?;
        check("negative", &h.negative_span, h.negative_count.len())?;
        let (positive_spans, positive_buckets) =
            compact_counts(&h.positive_span, &h.positive_count);
        let (negative_spans, negative_buckets) =
            compact_counts(&h.negative_span, &h.negative_count);
        Ok(NativeHistogram::Float(FloatHistogram {
            counter_reset_hint: hint,
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: h.zero_count_float,
            count: h.sample_count_float,
            sum: h.sample_sum,
            positive_spans,
            negative_spans,
            positive_buckets,
            negative_buckets,
            custom_values: Vec::new(),
        }))
    } else {
        check("positive", &h.positive_span, h.positive_delta.len())?;
        check("negative", &h.negative_span, h.negative_delta.len())?;
        let (positive_spans, positive_buckets) =
            compact_deltas(&h.positive_span, &h.positive_delta);
        let (negative_spans, negative_buckets) =
            compact_deltas(&h.negative_span, &h.negative_delta);
        Ok(NativeHistogram::Int(Histogram {
            counter_reset_hint: hint,
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: h.zero_count,
            count: h.sample_count,
            sum: h.sample_sum,
            positive_spans,
            negative_spans,
            positive_buckets,
            negative_buckets,
            custom_values: Vec::new(),
        }))
    }
}

/// Formats a bound or quantile as Prometheus does for protobuf scrapes: Go's shortest
/// `%g`, with `.0` appended when that has neither a `.` nor an exponent.
///
/// ```
/// use exposition::protobuf::decode::format_float;
/// assert_eq!(format_float(1.0), "1.0");
/// assert_eq!(format_float(0.25), "0.25");
/// assert_eq!(format_float(1e6), "1e+06");
/// assert_eq!(format_float(0.00001), "1e-05");
/// assert_eq!(format_float(f64::INFINITY), "+Inf");
/// ```
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let sci = format!("{v:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let s = if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        format!("{v}")
    };
    if s.contains(['.', 'e']) {
        s
    } else {
        s + ".0"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_floats() {
        assert_eq!(format_float(100000.0), "100000.0");
        assert_eq!(format_float(1234567.0), "1.234567e+06");
        assert_eq!(format_float(0.0001), "0.0001");
        assert_eq!(format_float(-2.5e-7), "-2.5e-07");
        assert_eq!(format_float(0.005), "0.005");
        assert_eq!(format_float(1e100), "1e+100");
    }

    fn spans(v: &[(i32, u32)]) -> Vec<proto::BucketSpan> {
        v.iter()
            .map(|&(offset, length)| proto::BucketSpan { offset, length })
            .collect()
    }

    #[test]
    fn compaction_drops_empty_buckets_and_merges_spans() {
        // Buckets at 2,3 | 5,6,7 (offset 1 after 3) | 8 (offset 0): counts 1,0 | 0,4,0 | 2
        let sp = spans(&[(2, 2), (1, 3), (0, 1), (4, 0)]);
        let (s, c) = compact(&sp, &[1.0, 0.0, 0.0, 4.0, 0.0, 2.0]).unwrap();
        assert_eq!(c, vec![1.0, 4.0, 2.0]);
        assert_eq!(s, vec![Span::new(2, 1), Span::new(3, 1), Span::new(1, 1)]);
        // Deltas 1, 1, -2, 3 = absolute 1, 2, 0, 3 at indices -1, 0, 1, 2.
        let (s, d) = compact_deltas(&spans(&[(-1, 4)]), &[1, 1, -2, 3]);
        assert_eq!(s, vec![Span::new(-1, 2), Span::new(1, 1)]);
        assert_eq!(d, vec![1, 1, 1]);
        // A no-op span vanishes.
        assert_eq!(compact::<f64>(&spans(&[(0, 0)]), &[]).unwrap().0, vec![]);
    }

    #[test]
    fn unit_rule() {
        assert!(check_unit("rpc_seconds", "seconds", MetricType::Histogram).is_ok());
        assert!(check_unit("rpc_seconds_total", "seconds", MetricType::Counter).is_ok());
        assert!(check_unit("rpcseconds", "seconds", MetricType::Gauge).is_err());
        assert!(check_unit("seconds", "seconds", MetricType::Gauge).is_err());
        assert!(check_unit("x_total", "total", MetricType::Gauge).is_ok());
    }
}
