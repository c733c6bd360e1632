//! Native histograms on the wire: the remote-write [`proto::Histogram`] message to and from
//! `exposition::histogram::{Histogram, FloatHistogram}`.
//!
//! ```text
//! proto::Histogram ──decode_histogram──► (t, HistogramValue::Int | HistogramValue::Float)
//!     count_int / zero_count_int / *_deltas    ─► Histogram       (integer, delta-encoded)
//!     count_float / zero_count_float / *_counts ─► FloatHistogram (float, absolute)
//! Histogram      ──encode_histogram──────► proto::Histogram
//! FloatHistogram ──encode_float_histogram─► proto::Histogram
//! ```
//!
//! The kind comes from the `count` one-of, as in Prometheus (`count_float` set: a float
//! histogram; `count_int` or nothing: an integer one). Decoding checks the *shape* only:
//! the message sticks to one kind, and the spans ask for exactly as many buckets as there
//! are counts on each side, with no negative gap after the first span. Everything that
//! needs the values (schema range, negative counts, count vs. buckets, custom bounds) is
//! left to the storage's validation, which refuses the sample. Nothing here panics on any
//! input.

use exposition::histogram::{
    CounterResetHint, FloatHistogram, Histogram, Side, Span, CUSTOM_BUCKETS_SCHEMA,
};
use thiserror::Error;
use tsdb::head::HistogramValue;

use crate::proto::{self, BucketSpan, HistogramCount, HistogramZeroCount, ResetHint};

/// Why a [`proto::Histogram`] does not make a histogram. No variant carries a float, so
/// the error compares with `==`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HistogramDecodeError {
    /// The `count` one-of says one kind and another field belongs to the other kind
    /// (e.g. `count_int` with `positive_counts`, or `count_float` with `zero_count_int`).
    #[error("{kind} histogram carries {field}, a field of the other kind")]
    MixedKinds {
        /// `"integer"` or `"float"`: the kind the `count` one-of gives.
        kind: &'static str,
        /// The field that does not belong.
        field: &'static str,
    },
    /// The spans of one side cover a different number of buckets than there are counts.
    #[error("{side} spans cover {spans_need} buckets but {buckets_have} bucket counts were sent")]
    SpansBucketsMismatch {
        /// Which side.
        side: Side,
        /// Sum of the span lengths.
        spans_need: u64,
        /// Number of deltas or counts sent.
        buckets_have: usize,
    },
    /// A span after the first (or any span of a custom-bucket histogram) has a negative
    /// offset, which would revisit buckets.
    #[error("{side} span {span} has negative offset {offset}")]
    NegativeSpanOffset {
        /// Which side.
        side: Side,
        /// 1-based position of the span.
        span: usize,
        /// The offset sent.
        offset: i32,
    },
}

/// Turns a wire histogram into its timestamp and a histogram of the kind the message
/// declares. See the [module docs](self) for what is checked.
///
/// ```
/// use remote::histogram::decode_histogram;
/// use remote::proto::{BucketSpan, Histogram, HistogramCount};
/// use tsdb::head::HistogramValue;
/// let p = Histogram {
///     count: Some(HistogramCount::CountInt(5)),
///     sum: 7.5,
///     positive_spans: vec![BucketSpan { offset: 0, length: 2 }],
///     positive_deltas: vec![2, 1], // counts 2 and 3
///     timestamp: 1_000,
///     ..Histogram::default()
/// };
/// let (t, v) = decode_histogram(&p).unwrap();
/// let HistogramValue::Int(h) = v else { unreachable!() };
/// assert_eq!((t, h.count, h.positive_buckets), (1_000, 5, vec![2, 1]));
/// ```
pub fn decode_histogram(
    p: &proto::Histogram,
) -> Result<(i64, HistogramValue), HistogramDecodeError> {
    let custom = p.schema == CUSTOM_BUCKETS_SCHEMA;
    let neg_spans = spans(Side::Negative, &p.negative_spans, custom)?;
    let pos_spans = spans(Side::Positive, &p.positive_spans, custom)?;
    let hint = reset_hint(p.reset_hint);
    let value = match p.count {
        Some(HistogramCount::CountFloat(count)) => {
            let mixed = |field| HistogramDecodeError::MixedKinds {
                kind: "float",
                field,
            };
            let zero_count = match p.zero_count {
                None => 0.0,
                Some(HistogramZeroCount::ZeroCountFloat(z)) => z,
                Some(HistogramZeroCount::ZeroCountInt(_)) => return Err(mixed("zero_count_int")),
            };
            if !p.negative_deltas.is_empty() {
                return Err(mixed("negative_deltas"));
            }
            if !p.positive_deltas.is_empty() {
                return Err(mixed("positive_deltas"));
            }
            check_len(Side::Negative, &neg_spans, p.negative_counts.len())?;
            check_len(Side::Positive, &pos_spans, p.positive_counts.len())?;
            HistogramValue::Float(FloatHistogram {
                counter_reset_hint: hint,
                schema: p.schema,
                zero_threshold: p.zero_threshold,
                zero_count,
                count,
                sum: p.sum,
                positive_spans: pos_spans,
                negative_spans: neg_spans,
                positive_buckets: p.positive_counts.clone(),
                negative_buckets: p.negative_counts.clone(),
                custom_values: p.custom_values.clone(),
            })
        }
        Some(HistogramCount::CountInt(_)) | None => {
            let mixed = |field| HistogramDecodeError::MixedKinds {
                kind: "integer",
                field,
            };
            let count = match p.count {
                Some(HistogramCount::CountInt(c)) => c,
                _ => 0,
            };
            let zero_count = match p.zero_count {
                None => 0,
                Some(HistogramZeroCount::ZeroCountInt(z)) => z,
                Some(HistogramZeroCount::ZeroCountFloat(_)) => {
                    return Err(mixed("zero_count_float"))
                }
            };
            if !p.negative_counts.is_empty() {
                return Err(mixed("negative_counts"));
            }
            if !p.positive_counts.is_empty() {
                return Err(mixed("positive_counts"));
            }
            check_len(Side::Negative, &neg_spans, p.negative_deltas.len())?;
            check_len(Side::Positive, &pos_spans, p.positive_deltas.len())?;
            HistogramValue::Int(Histogram {
                counter_reset_hint: hint,
                schema: p.schema,
                zero_threshold: p.zero_threshold,
                zero_count,
                count,
                sum: p.sum,
                positive_spans: pos_spans,
                negative_spans: neg_spans,
                positive_buckets: p.positive_deltas.clone(),
                negative_buckets: p.negative_deltas.clone(),
                custom_values: p.custom_values.clone(),
            })
        }
    };
    Ok((p.timestamp, value))
}

/// The wire message for an integer histogram at time `t`.
///
/// ```
/// use exposition::histogram::{Histogram, Span};
/// use remote::histogram::{decode_histogram, encode_histogram};
/// use tsdb::head::HistogramValue;
/// let h = Histogram { count: 3, sum: 1.0, positive_spans: vec![Span::new(-1, 2)], positive_buckets: vec![1, 1], ..Histogram::default() };
/// let p = encode_histogram(42, &h);
/// assert_eq!(decode_histogram(&p).unwrap(), (42, HistogramValue::Int(h)));
/// ```
pub fn encode_histogram(t: i64, h: &Histogram) -> proto::Histogram {
    proto::Histogram {
        count: Some(HistogramCount::CountInt(h.count)),
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: Some(HistogramZeroCount::ZeroCountInt(h.zero_count)),
        negative_spans: wire_spans(&h.negative_spans),
        negative_deltas: h.negative_buckets.clone(),
        negative_counts: Vec::new(),
        positive_spans: wire_spans(&h.positive_spans),
        positive_deltas: h.positive_buckets.clone(),
        positive_counts: Vec::new(),
        reset_hint: wire_hint(h.counter_reset_hint) as i32,
        timestamp: t,
        custom_values: h.custom_values.clone(),
    }
}

/// The wire message for a float histogram at time `t`.
pub fn encode_float_histogram(t: i64, h: &FloatHistogram) -> proto::Histogram {
    proto::Histogram {
        count: Some(HistogramCount::CountFloat(h.count)),
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: Some(HistogramZeroCount::ZeroCountFloat(h.zero_count)),
        negative_spans: wire_spans(&h.negative_spans),
        negative_deltas: Vec::new(),
        negative_counts: h.negative_buckets.clone(),
        positive_spans: wire_spans(&h.positive_spans),
        positive_deltas: Vec::new(),
        positive_counts: h.positive_buckets.clone(),
        reset_hint: wire_hint(h.counter_reset_hint) as i32,
        timestamp: t,
        custom_values: h.custom_values.clone(),
    }
}

/// The wire message for either kind.
pub fn encode_value(t: i64, v: &HistogramValue) -> proto::Histogram {
    match v {
        HistogramValue::Int(h) => encode_histogram(t, h),
        HistogramValue::Float(h) => encode_float_histogram(t, h),
    }
}

fn spans(side: Side, wire: &[BucketSpan], custom: bool) -> Result<Vec<Span>, HistogramDecodeError> {
    wire.iter()
        .enumerate()
        .map(|(i, s)| {
            if s.offset < 0 && (i > 0 || custom) {
                return Err(HistogramDecodeError::NegativeSpanOffset {
                    side,
                    span: i + 1,
                    offset: s.offset,
                });
            }
            Ok(Span::new(s.offset, s.length))
        })
        .collect()
}

fn check_len(side: Side, spans: &[Span], have: usize) -> Result<(), HistogramDecodeError> {
    let need: u64 = spans.iter().map(|s| u64::from(s.length)).sum();
    if need != have as u64 {
        return Err(HistogramDecodeError::SpansBucketsMismatch {
            side,
            spans_need: need,
            buckets_have: have,
        });
    }
    Ok(())
}

fn wire_spans(spans: &[Span]) -> Vec<BucketSpan> {
    spans
        .iter()
        .map(|s| BucketSpan {
            offset: s.offset,
            length: s.length,
        })
        .collect()
}

/// The counter-reset hint a wire number stands for; numbers this version does not know
/// read as "unknown" (the reader then compares with the previous sample).
pub fn reset_hint(wire: i32) -> CounterResetHint {
    match ResetHint::try_from(wire) {
        Ok(ResetHint::Yes) => CounterResetHint::CounterReset,
        Ok(ResetHint::No) => CounterResetHint::NotCounterReset,
        Ok(ResetHint::Gauge) => CounterResetHint::Gauge,
        Ok(ResetHint::Unknown) | Err(_) => CounterResetHint::Unknown,
    }
}

/// The wire enum for a counter-reset hint.
pub fn wire_hint(h: CounterResetHint) -> ResetHint {
    match h {
        CounterResetHint::Unknown => ResetHint::Unknown,
        CounterResetHint::CounterReset => ResetHint::Yes,
        CounterResetHint::NotCounterReset => ResetHint::No,
        CounterResetHint::Gauge => ResetHint::Gauge,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int_msg() -> proto::Histogram {
        proto::Histogram {
            count: Some(HistogramCount::CountInt(4)),
            sum: 3.0,
            negative_spans: vec![BucketSpan {
                offset: 0,
                length: 1,
            }],
            negative_deltas: vec![1],
            positive_spans: vec![
                BucketSpan {
                    offset: -2,
                    length: 1,
                },
                BucketSpan {
                    offset: 1,
                    length: 1,
                },
            ],
            positive_deltas: vec![2, -1],
            ..proto::Histogram::default()
        }
    }

    #[test]
    fn kind_follows_the_count_oneof() {
        assert!(matches!(
            decode_histogram(&int_msg()).unwrap().1,
            HistogramValue::Int(_)
        ));
        let none = proto::Histogram::default();
        assert!(matches!(
            decode_histogram(&none).unwrap().1,
            HistogramValue::Int(Histogram { count: 0, .. })
        ));
        let f = proto::Histogram {
            count: Some(HistogramCount::CountFloat(2.5)),
            positive_spans: vec![BucketSpan {
                offset: 0,
                length: 1,
            }],
            positive_counts: vec![2.5],
            ..proto::Histogram::default()
        };
        assert!(matches!(
            decode_histogram(&f).unwrap().1,
            HistogramValue::Float(FloatHistogram { count, .. }) if count == 2.5
        ));
    }

    #[test]
    fn mixed_kinds_are_refused() {
        let mut m = int_msg();
        m.positive_counts = vec![1.0];
        assert_eq!(
            decode_histogram(&m).unwrap_err(),
            HistogramDecodeError::MixedKinds {
                kind: "integer",
                field: "positive_counts"
            }
        );
        let mut m = int_msg();
        m.zero_count = Some(HistogramZeroCount::ZeroCountFloat(1.0));
        assert!(matches!(
            decode_histogram(&m),
            Err(HistogramDecodeError::MixedKinds {
                field: "zero_count_float",
                ..
            })
        ));
        let mut m = int_msg();
        m.count = Some(HistogramCount::CountFloat(4.0));
        assert!(matches!(
            decode_histogram(&m),
            Err(HistogramDecodeError::MixedKinds {
                kind: "float",
                field: "negative_deltas"
            })
        ));
    }

    #[test]
    fn span_and_bucket_counts_must_agree() {
        let mut m = int_msg();
        m.positive_deltas.push(1);
        assert_eq!(
            decode_histogram(&m).unwrap_err(),
            HistogramDecodeError::SpansBucketsMismatch {
                side: Side::Positive,
                spans_need: 2,
                buckets_have: 3
            }
        );
        let mut m = int_msg();
        m.negative_spans[0].length = u32::MAX;
        assert!(matches!(
            decode_histogram(&m),
            Err(HistogramDecodeError::SpansBucketsMismatch {
                side: Side::Negative,
                spans_need: 4_294_967_295,
                ..
            })
        ));
    }

    #[test]
    fn negative_gaps_after_the_first_span_are_refused() {
        let mut m = int_msg();
        m.positive_spans[1].offset = -1;
        assert_eq!(
            decode_histogram(&m).unwrap_err(),
            HistogramDecodeError::NegativeSpanOffset {
                side: Side::Positive,
                span: 2,
                offset: -1
            }
        );
        // Custom buckets index from 0: even the first span may not go negative.
        let mut m = int_msg();
        m.schema = CUSTOM_BUCKETS_SCHEMA;
        assert!(matches!(
            decode_histogram(&m),
            Err(HistogramDecodeError::NegativeSpanOffset { span: 1, .. })
        ));
    }

    #[test]
    fn hints_map_both_ways_and_unknown_numbers_read_as_unknown() {
        for h in [
            CounterResetHint::Unknown,
            CounterResetHint::CounterReset,
            CounterResetHint::NotCounterReset,
            CounterResetHint::Gauge,
        ] {
            assert_eq!(reset_hint(wire_hint(h) as i32), h);
        }
        assert_eq!(reset_hint(99), CounterResetHint::Unknown);
        assert_eq!(reset_hint(-1), CounterResetHint::Unknown);
    }

    #[test]
    fn float_round_trip_keeps_bits() {
        let h = FloatHistogram {
            counter_reset_hint: CounterResetHint::Gauge,
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 3.5,
            sum: f64::from_bits(0x7ff0_0000_0000_0002),
            positive_spans: vec![Span::new(0, 2)],
            positive_buckets: vec![1.5, 2.0],
            custom_values: vec![1.0, 2.0],
            ..FloatHistogram::default()
        };
        let (t, back) = decode_histogram(&encode_float_histogram(-5, &h)).unwrap();
        let HistogramValue::Float(back) = back else {
            panic!("kind changed")
        };
        assert_eq!(t, -5);
        assert_eq!(back.sum.to_bits(), h.sum.to_bits());
        assert_eq!(
            (
                back.positive_buckets,
                back.custom_values,
                back.counter_reset_hint
            ),
            (h.positive_buckets, h.custom_values, h.counter_reset_hint)
        );
    }
}
