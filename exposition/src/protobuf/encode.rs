//! Writing a delimited body, and turning a [`Scrape`] back into protobuf families.
//!
//! [`to_messages`] is the inverse of [`decode`](super::decode()): it regroups the flattened
//! classic series of each family by label set (dropping `le`/`quantile`) into one
//! `Metric` per series and merges native histogram samples into the `Metric` with the
//! same labels, so a scrape decoded with classic buckets kept encodes back to the same
//! messages. Samples that do not fit their family's shape (a `_bucket` without a numeric
//! `le`, a summary sample without `quantile`, a counter's `_created`...) are carried the
//! way Prometheus would read them back: buckets and quantiles need their label; created
//! samples become `created_timestamp`.
//!
//! Scalars are written with proto3 rules: zero values are left out, so a `-0.0` value
//! reads back as `0.0`, and a `timestamp_ms` of 0 as "no timestamp".

use std::collections::HashMap;

use prost::Message;

use crate::family::{FamilyExemplar, FamilySample};
use crate::histogram::{CounterResetHint, Span};
use crate::labels::Labels;
use crate::types::MetricType;

use super::decode::{NativeHistogram, NativeHistogramSample, Scrape};
use super::proto;

/// Appends each family as one length-delimited message.
///
/// ```
/// use exposition::protobuf::{encode_delimited, decode_messages, proto};
/// let fams = vec![proto::MetricFamily { name: "a".into(), ..Default::default() }];
/// let mut out = Vec::new();
/// encode_delimited(&fams, &mut out);
/// assert_eq!(out, [3, 0x0a, 1, b'a']);
/// assert_eq!(decode_messages(&out).unwrap(), fams);
/// ```
pub fn encode_delimited(families: &[proto::MetricFamily], out: &mut Vec<u8>) {
    for f in families {
        out.reserve(f.encoded_len() + 10);
        // Writing into a Vec cannot run out of space.
        let _ = f.encode_length_delimited(out);
    }
}

/// The protobuf type number of an exposition [`MetricType`] (OpenMetrics-only types map
/// to the closest: info and stateset to gauge).
pub fn proto_type(ty: MetricType) -> proto::MetricType {
    match ty {
        MetricType::Counter => proto::MetricType::Counter,
        MetricType::Gauge | MetricType::Info | MetricType::StateSet => proto::MetricType::Gauge,
        MetricType::Summary => proto::MetricType::Summary,
        MetricType::Histogram => proto::MetricType::Histogram,
        MetricType::GaugeHistogram => proto::MetricType::GaugeHistogram,
        MetricType::Unknown => proto::MetricType::Untyped,
    }
}

/// Regroups a scrape into protobuf families (see the [module docs](self)). A native
/// histogram sample goes to the family its `family` index names when that family has
/// its name, else to the last family of that name, else to a new histogram family.
///
/// Samples are grouped into one `Metric` per label set, so the round trip
/// `decode(to_messages(decode(body))) == decode(body)` holds when every family's metrics
/// have distinct label sets (a scrape that breaks this is rejected by Prometheus anyway).
pub fn to_messages(scrape: &Scrape) -> Vec<proto::MetricFamily> {
    let mut out: Vec<proto::MetricFamily> = Vec::with_capacity(scrape.families.len());
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    // Per family: series labels -> index of its Metric.
    let mut series: Vec<HashMap<Labels, usize>> = Vec::new();
    let mut classic_len: Vec<usize> = Vec::new();
    for f in &scrape.families {
        let ty = proto_type(f.ty);
        by_name.insert(f.name.as_str(), out.len());
        let mut fam = proto::MetricFamily {
            name: f.name.clone(),
            help: f.help.clone().unwrap_or_default(),
            r#type: ty as i32,
            metric: Vec::new(),
            unit: f.unit.clone().unwrap_or_default(),
        };
        let mut index: HashMap<Labels, usize> = HashMap::new();
        for s in &f.samples {
            add_sample(&mut fam, &mut index, ty, &f.name, s);
        }
        classic_len.push(fam.metric.len());
        out.push(fam);
        series.push(index);
    }
    // Per family: the metric each native histogram went to, in order.
    let mut natives: Vec<Vec<usize>> = Vec::new();
    for h in &scrape.histograms {
        let own = Some(h.family).filter(|&i| out.get(i).is_some_and(|f| f.name == h.name));
        let i = match own.or_else(|| by_name.get(h.name.as_str()).copied()) {
            Some(i) => i,
            None => {
                let ty = match h.histogram {
                    NativeHistogram::Int(ref x)
                        if x.counter_reset_hint == CounterResetHint::Gauge =>
                    {
                        proto::MetricType::GaugeHistogram
                    }
                    NativeHistogram::Float(ref x)
                        if x.counter_reset_hint == CounterResetHint::Gauge =>
                    {
                        proto::MetricType::GaugeHistogram
                    }
                    _ => proto::MetricType::Histogram,
                };
                by_name.insert(h.name.as_str(), out.len());
                out.push(proto::MetricFamily {
                    name: h.name.clone(),
                    r#type: ty as i32,
                    ..Default::default()
                });
                series.push(HashMap::new());
                out.len() - 1
            }
        };
        let fam = &mut out[i];
        let m = metric_for(fam, &mut series[i], &h.labels, h.timestamp);
        let hist = fam.metric[m].histogram.get_or_insert_with(Default::default);
        set_native(hist, h);
        natives.resize_with(natives.len().max(i + 1), Vec::new);
        natives[i].push(m);
    }
    for (i, order) in natives.iter().enumerate() {
        let classic = classic_len.get(i).copied().unwrap_or(0);
        interleave(&mut out[i].metric, classic, order);
    }
    out
}

/// Puts a family's metrics in an order that keeps both the classic series order
/// (metrics `0..classic`, created while reading classic samples) and the order of the
/// native histograms (`natives`, indices of the metrics they went to), so that decoding
/// lists both kinds of samples as they were.
fn interleave(metrics: &mut Vec<proto::Metric>, classic: usize, natives: &[usize]) {
    let mut is_native = vec![false; metrics.len()];
    for &n in natives {
        is_native[n] = true;
    }
    let mut order = Vec::with_capacity(metrics.len());
    let mut placed = vec![false; metrics.len()];
    let mut place = |k: usize, order: &mut Vec<usize>| {
        if !placed[k] {
            placed[k] = true;
            order.push(k);
        }
    };
    let (mut i, mut j) = (0, 0);
    while i < classic || j < natives.len() {
        if i < classic && !is_native[i] {
            place(i, &mut order);
            i += 1;
        } else if j < natives.len() && natives[j] >= classic {
            place(natives[j], &mut order);
            j += 1;
        } else if i < classic {
            // A metric with both: it is next in both orders.
            place(i, &mut order);
            if natives.get(j) == Some(&i) {
                j += 1;
            }
            i += 1;
        } else {
            place(natives[j], &mut order);
            j += 1;
        }
    }
    for k in 0..metrics.len() {
        place(k, &mut order);
    }
    let mut old: Vec<Option<proto::Metric>> =
        std::mem::take(metrics).into_iter().map(Some).collect();
    metrics.extend(order.into_iter().filter_map(|k| old[k].take()));
}

/// The index of the `Metric` for `labels` in `fam`, created if new.
fn metric_for(
    fam: &mut proto::MetricFamily,
    index: &mut HashMap<Labels, usize>,
    labels: &Labels,
    ts: Option<i64>,
) -> usize {
    if let Some(&i) = index.get(labels) {
        return i;
    }
    fam.metric.push(proto::Metric {
        label: labels
            .iter()
            .map(|l| proto::LabelPair {
                name: l.name.to_string(),
                value: l.value.to_string(),
            })
            .collect(),
        timestamp_ms: ts.unwrap_or(0),
        ..Default::default()
    });
    index.insert(labels.clone(), fam.metric.len() - 1);
    fam.metric.len() - 1
}

fn exemplar_to_proto(e: &FamilyExemplar) -> proto::Exemplar {
    proto::Exemplar {
        label: e
            .labels
            .iter()
            .map(|l| proto::LabelPair {
                name: l.name.to_string(),
                value: l.value.to_string(),
            })
            .collect(),
        value: e.value,
        timestamp: e.timestamp.map(proto::Timestamp::from_millis),
    }
}

fn add_sample(
    fam: &mut proto::MetricFamily,
    index: &mut HashMap<Labels, usize>,
    ty: proto::MetricType,
    family: &str,
    s: &FamilySample,
) {
    let suffix = s.name.strip_prefix(family).unwrap_or("");
    let created = || {
        Some(proto::Timestamp::from_millis(
            (s.value * 1000.0).round() as i64
        ))
    };
    // Counters named `x_total` carry their created sample as `x_created`.
    let counter_created =
        ty == proto::MetricType::Counter && s.name.ends_with("_created") && s.name != family;
    match ty {
        proto::MetricType::Counter => {
            let i = metric_for(fam, index, &s.labels, s.timestamp);
            let c = fam.metric[i].counter.get_or_insert_with(Default::default);
            if counter_created {
                c.created_timestamp = created();
            } else {
                c.value = s.value;
                c.exemplar = s.exemplar.as_ref().map(exemplar_to_proto);
            }
        }
        proto::MetricType::Gauge => {
            let i = metric_for(fam, index, &s.labels, s.timestamp);
            fam.metric[i].gauge = Some(proto::Gauge { value: s.value });
        }
        proto::MetricType::Untyped => {
            let i = metric_for(fam, index, &s.labels, s.timestamp);
            fam.metric[i].untyped = Some(proto::Untyped { value: s.value });
        }
        proto::MetricType::Summary => {
            let quantile = s.labels.get("quantile").and_then(parse_float);
            let labels = s.labels.without(&["quantile"]);
            let i = metric_for(fam, index, &labels, s.timestamp);
            let sum = fam.metric[i].summary.get_or_insert_with(Default::default);
            match (suffix, quantile) {
                ("_sum", _) => sum.sample_sum = s.value,
                ("_count", _) => sum.sample_count = s.value as u64,
                ("_created", _) => sum.created_timestamp = created(),
                (_, Some(q)) => sum.quantile.push(proto::Quantile {
                    quantile: q,
                    value: s.value,
                }),
                _ => {}
            }
        }
        proto::MetricType::Histogram | proto::MetricType::GaugeHistogram => {
            let le = s.labels.get("le").and_then(parse_float);
            let labels = s.labels.without(&["le"]);
            let i = metric_for(fam, index, &labels, s.timestamp);
            let h = fam.metric[i].histogram.get_or_insert_with(Default::default);
            let integral = s.value >= 0.0 && s.value == s.value.trunc() && s.value < 2f64.powi(63);
            match (suffix, le) {
                ("_sum", _) => h.sample_sum = s.value,
                ("_count", _) if integral => h.sample_count = s.value as u64,
                ("_count", _) => h.sample_count_float = s.value,
                ("_created", _) => h.created_timestamp = created(),
                ("_bucket", Some(le)) => h.bucket.push(proto::Bucket {
                    cumulative_count: if integral { s.value as u64 } else { 0 },
                    cumulative_count_float: if integral { 0.0 } else { s.value },
                    upper_bound: le,
                    exemplar: s.exemplar.as_ref().map(exemplar_to_proto),
                }),
                _ => {}
            }
        }
    }
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

fn spans_to_proto(spans: &[Span]) -> Vec<proto::BucketSpan> {
    spans
        .iter()
        .map(|s| proto::BucketSpan {
            offset: s.offset,
            length: s.length,
        })
        .collect()
}

/// Writes the native fields of `h` into `hist` (classic fields are left as they are).
fn set_native(hist: &mut proto::Histogram, h: &NativeHistogramSample) {
    match &h.histogram {
        NativeHistogram::Int(x) => {
            hist.sample_count = x.count;
            hist.sample_sum = x.sum;
            hist.schema = x.schema;
            hist.zero_threshold = x.zero_threshold;
            hist.zero_count = x.zero_count;
            hist.positive_span = spans_to_proto(&x.positive_spans);
            hist.negative_span = spans_to_proto(&x.negative_spans);
            hist.positive_delta = x.positive_buckets.clone();
            hist.negative_delta = x.negative_buckets.clone();
        }
        NativeHistogram::Float(x) => {
            hist.sample_count_float = x.count;
            hist.sample_sum = x.sum;
            hist.schema = x.schema;
            hist.zero_threshold = x.zero_threshold;
            hist.zero_count_float = x.zero_count;
            hist.positive_span = spans_to_proto(&x.positive_spans);
            hist.negative_span = spans_to_proto(&x.negative_spans);
            hist.positive_count = x.positive_buckets.clone();
            hist.negative_count = x.negative_buckets.clone();
        }
    }
    // An empty native histogram must still read back as native.
    if hist.positive_span.is_empty()
        && hist.negative_span.is_empty()
        && hist.zero_threshold <= 0.0
        && hist.zero_count == 0
    {
        hist.positive_span.push(proto::BucketSpan {
            offset: 0,
            length: 0,
        });
    }
    hist.created_timestamp = h.created_ms.map(proto::Timestamp::from_millis);
    hist.exemplars = h.exemplars.iter().map(exemplar_to_proto).collect();
}
