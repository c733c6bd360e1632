//! Composite values: what sits between `{` and `}` after a metric name and a space.
//!
//! ```text
//! histogram:        count:N,sum:N,( bucket:[...] | schema:I,zero_threshold:R,zero_count:N
//!                   [,negative_spans:[...],negative_buckets:[...]]
//!                   [,positive_spans:[...],positive_buckets:[...]] [,bucket:[...]] )
//! gauge histogram:  the same with gcount and gsum
//! summary:          count:N,sum:N,quantile:[R:N,...]
//! ```
//!
//! Only the grammar is checked here; `validate` checks the numbers against the type.

use crate::error::ParseErrorKind;
use crate::histogram::{CounterResetHint, FloatHistogram, Span};
use crate::lex::{self, LexError};

use super::number::{integer, number, IntRule, NumRule};
use super::{ClassicBucket, HistogramValue, Quantile, SummaryValue, Value};

/// Consumes `lit` at `p` or fails with "expected `what`".
fn lit(b: &[u8], p: usize, lit: &[u8], what: &'static str) -> Result<usize, LexError> {
    if b.len() >= p + lit.len() && &b[p..p + lit.len()] == lit {
        Ok(p + lit.len())
    } else {
        Err(lex::unexpected(b, p, what))
    }
}

fn has(b: &[u8], p: usize, lit: &[u8]) -> bool {
    b.len() >= p + lit.len() && &b[p..p + lit.len()] == lit
}

/// Parses a composite value whose `{` is just before `p`; returns it and the position
/// after the closing `}`.
pub(crate) fn parse(b: &[u8], p: usize) -> Result<(Value, usize), LexError> {
    let gauge = b.get(p) == Some(&b'g');
    let p = lit(
        b,
        p + usize::from(gauge),
        b"count:",
        "\"count:\" or \"gcount:\" opening a composite value",
    )?;
    let (count, p) = number(b, p, NumRule::Any)?;
    let p = if gauge {
        lit(b, p, b",gsum:", "\",gsum:\" after the gcount")?
    } else {
        lit(b, p, b",sum:", "\",sum:\" after the count")?
    };
    let (sum, p) = number(b, p, NumRule::Any)?;
    let p = lit(b, p, b",", "',' after the sum")?;
    let (value, p) = if !gauge && has(b, p, b"quantile:") {
        let (quantiles, p) = quantiles(b, p + 9)?;
        (
            Value::Summary(Box::new(SummaryValue {
                count,
                sum,
                quantiles,
            })),
            p,
        )
    } else {
        let mut h = HistogramValue {
            gauge,
            count,
            sum,
            native: None,
            classic: None,
        };
        let mut p = p;
        if has(b, p, b"schema:") {
            let (native, q) = native(b, p + 7, &h)?;
            h.native = Some(native);
            p = q;
            if has(b, p, b",bucket:") {
                let (c, q) = classic(b, p + 8)?;
                h.classic = Some(c);
                p = q;
            }
        } else {
            let q = lit(
                b,
                p,
                b"bucket:",
                if gauge {
                    "\"bucket:\" or \"schema:\""
                } else {
                    "\"bucket:\", \"schema:\" or \"quantile:\""
                },
            )?;
            let (c, q) = classic(b, q)?;
            h.classic = Some(c);
            p = q;
        }
        (Value::Histogram(Box::new(h)), p)
    };
    let p = lit(b, p, b"}", "'}' closing the composite value")?;
    Ok((value, p))
}

/// `[` items separated by `,` `]`, each read by `item`; `p` is at the `[`.
fn list<T>(
    b: &[u8],
    p: usize,
    mut item: impl FnMut(&[u8], usize, usize) -> Result<(T, usize), LexError>,
) -> Result<(Vec<T>, usize), LexError> {
    let mut p = lit(b, p, b"[", "'[' opening a list")?;
    let mut out = Vec::new();
    if b.get(p) == Some(&b']') {
        return Ok((out, p + 1));
    }
    loop {
        let (v, q) = item(b, p, out.len())?;
        out.push(v);
        match b.get(q) {
            Some(b',') => p = q + 1,
            Some(b']') => return Ok((out, q + 1)),
            _ => return Err(lex::unexpected(b, q, "',' or ']' in a list")),
        }
    }
}

/// `[q:v,...]` after `quantile:`.
fn quantiles(b: &[u8], p: usize) -> Result<(Vec<Quantile>, usize), LexError> {
    list(b, p, |b, p, _| {
        let (quantile, p) = number(b, p, NumRule::Real)?;
        let p = lit(b, p, b":", "':' after the quantile")?;
        let (value, p) = number(b, p, NumRule::Any)?;
        Ok((Quantile { quantile, value }, p))
    })
}

/// `[le:count,...,+Inf:count]` after `bucket:`: `-Inf` only first, `+Inf` last and
/// required.
fn classic(b: &[u8], p: usize) -> Result<(Vec<ClassicBucket>, usize), LexError> {
    let mut closed = false;
    let (buckets, end) = list(b, p, |b, p, n| {
        if closed {
            return Err(lex::unexpected(b, p, "']' after the +Inf bucket"));
        }
        let (le, p) = if has(b, p, b"+Inf:") {
            closed = true;
            (f64::INFINITY, p + 4)
        } else if n == 0 && has(b, p, b"-Inf:") {
            (f64::NEG_INFINITY, p + 4)
        } else {
            number(b, p, NumRule::Real)?
        };
        let p = lit(b, p, b":", "':' after the bucket bound")?;
        let (count, p) = number(b, p, NumRule::Any)?;
        Ok((ClassicBucket { le, count }, p))
    })?;
    if !closed {
        return Err((
            end.saturating_sub(1),
            ParseErrorKind::Unexpected {
                found: "']'".into(),
                expected: "a final \"+Inf:\" bucket",
            },
        ));
    }
    Ok((buckets, end))
}

/// `[offset:length,...]`: the first offset any integer, later ones non-negative, lengths
/// positive.
fn spans(b: &[u8], p: usize) -> Result<(Vec<Span>, usize), LexError> {
    list(b, p, |b, p, n| {
        let rule = if n == 0 {
            IntRule::Signed
        } else {
            IntRule::NonNegative
        };
        let (offset, p) = integer(b, p, rule)?;
        let p = lit(b, p, b":", "':' after the span offset")?;
        let (length, p) = integer(b, p, IntRule::Positive)?;
        // Positive, so the conversion cannot fail.
        Ok((Span::new(offset, length.unsigned_abs()), p))
    })
}

fn buckets(b: &[u8], p: usize) -> Result<(Vec<f64>, usize), LexError> {
    list(b, p, |b, p, _| number(b, p, NumRule::Any))
}

/// The native fields after `schema:`.
fn native(b: &[u8], p: usize, h: &HistogramValue) -> Result<(FloatHistogram, usize), LexError> {
    let (schema, p) = integer(b, p, IntRule::Signed)?;
    let p = lit(
        b,
        p,
        b",zero_threshold:",
        "\",zero_threshold:\" after the schema",
    )?;
    let (zero_threshold, p) = number(b, p, NumRule::Real)?;
    let p = lit(
        b,
        p,
        b",zero_count:",
        "\",zero_count:\" after the zero threshold",
    )?;
    let (zero_count, mut p) = number(b, p, NumRule::Any)?;
    let mut fh = FloatHistogram {
        counter_reset_hint: if h.gauge {
            CounterResetHint::Gauge
        } else {
            CounterResetHint::Unknown
        },
        schema,
        zero_threshold,
        zero_count,
        count: h.count,
        sum: h.sum,
        ..FloatHistogram::default()
    };
    for (spans_field, buckets_field, negative) in [
        (&b",negative_spans:"[..], &b",negative_buckets:"[..], true),
        (&b",positive_spans:"[..], &b",positive_buckets:"[..], false),
    ] {
        if !has(b, p, spans_field) {
            continue;
        }
        let (s, q) = spans(b, p + spans_field.len())?;
        let what = if negative {
            "\",negative_buckets:\" after the spans"
        } else {
            "\",positive_buckets:\" after the spans"
        };
        let q = lit(b, q, buckets_field, what)?;
        let (v, q) = buckets(b, q)?;
        if negative {
            (fh.negative_spans, fh.negative_buckets) = (s, v);
        } else {
            (fh.positive_spans, fh.positive_buckets) = (s, v);
        }
        p = q;
    }
    Ok((fh, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Value, usize> {
        let b = s.as_bytes();
        match parse(b, 1) {
            Ok((v, end)) if end == b.len() => Ok(v),
            Ok((_, end)) => Err(end),
            Err((p, _)) => Err(p),
        }
    }

    #[test]
    fn classic_native_and_summary() {
        let Value::Histogram(h) =
            parse_str("{count:17,sum:324789.3,bucket:[0.0:0,1e-05:0,1.1e+23:16,+Inf:17]}").unwrap()
        else {
            panic!()
        };
        assert_eq!(h.classic.as_ref().unwrap().len(), 4);
        assert!(h.native.is_none());
        let Value::Histogram(h) = parse_str(
            "{gcount:59,gsum:1.2e2,schema:7,zero_threshold:1e-4,zero_count:0,negative_spans:[1:2],negative_buckets:[5,7],positive_spans:[-1:2,3:4],positive_buckets:[5,7,10,9,8,8],bucket:[-Inf:0,+Inf:59]}",
        )
        .unwrap() else {
            panic!()
        };
        let n = h.native.unwrap();
        assert!(h.gauge);
        assert_eq!(n.counter_reset_hint, CounterResetHint::Gauge);
        assert_eq!(n.positive_spans, vec![Span::new(-1, 2), Span::new(3, 4)]);
        assert_eq!(n.negative_buckets, vec![5.0, 7.0]);
        assert_eq!((n.count, n.sum, n.schema), (59.0, 120.0, 7));
        assert_eq!(h.classic.unwrap()[0].le, f64::NEG_INFINITY);
        let Value::Summary(s) =
            parse_str("{count:0,sum:0.0,quantile:[0.95:123.7,0.99:150]}").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            s.quantiles[1],
            Quantile {
                quantile: 0.99,
                value: 150.0
            }
        );
        assert!(matches!(
            parse_str("{count:1,sum:0,quantile:[]}"),
            Ok(Value::Summary(_))
        ));
    }

    #[test]
    fn grammar_violations() {
        for (bad, at) in [
            ("{count:1,sum:1,bucket:[1:1]}", 26),
            ("{count:1,sum:1,bucket:[]}", 23),
            ("{count:1,sum:1,bucket:[+Inf:1,2:1]}", 30),
            ("{count:1,sum:1,bucket:[1:0,-Inf:0,+Inf:1]}", 27),
            ("{count:1,gsum:1,bucket:[+Inf:1]}", 8),
            ("{gcount:1,gsum:1,quantile:[]}", 17),
            ("{count:1, sum:1,bucket:[+Inf:1]}", 8),
            ("{count:1,sum:1,schema:0,zero_threshold:NaN,zero_count:0}", 39),
            ("{count:1,sum:1,schema:0,zero_threshold:0,zero_count:0,positive_spans:[0:0],positive_buckets:[]}", 72),
            ("{count:1,sum:1,schema:0,zero_threshold:0,zero_count:0,positive_spans:[0:1,-1:1],positive_buckets:[1,1]}", 74),
            ("{count:1,sum:1,schema:0,zero_threshold:0,zero_count:0,positive_spans:[0:1]}", 74),
            ("{count:1,sum:1,schema:0,zero_threshold:0,zero_count:0,positive_spans:[0:1],positive_buckets:[1],negative_spans:[0:1],negative_buckets:[1]}", 95),
            ("{count:1,sum:1,schema:1.5,zero_threshold:0,zero_count:0}", 23),
            ("{count:1,sum:1,quantile:[NaN:1]}", 25),
            ("{count:1,sum:1,quantile:[0.5:1}", 30),
        ] {
            assert_eq!(parse_str(bad), Err(at), "{bad}");
        }
    }
}
