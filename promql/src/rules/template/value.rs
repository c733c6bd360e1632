//! Template values: what can a template expression evaluate to, and how is it printed?

use exposition::histogram::{go_fmt_g, Bucket, FloatHistogram};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

/// A dynamically typed template value (the subset of Go values templates see).
#[derive(Debug, Clone, PartialEq)]
pub enum TValue {
    /// Go's nil / a missing value.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer constant or result.
    Int(i64),
    /// A float64.
    Float(f64),
    /// A string.
    Str(String),
    /// A map with string keys (labels, `args`, a query sample).
    Map(BTreeMap<String, TValue>),
    /// A list (a query result).
    List(Vec<TValue>),
    /// A native histogram: `$value` of an alert whose expression returned one (Go's
    /// `*histogram.FloatHistogram`, printed with its `String()` method).
    Histogram(Arc<FloatHistogram>),
}

impl TValue {
    /// Go's truth: false, 0, nil, and empty strings, maps and lists are false.
    pub fn truthy(&self) -> bool {
        match self {
            TValue::Nil => false,
            TValue::Bool(b) => *b,
            TValue::Int(i) => *i != 0,
            TValue::Float(f) => *f != 0.0,
            TValue::Str(s) => !s.is_empty(),
            TValue::Map(m) => !m.is_empty(),
            TValue::List(l) => !l.is_empty(),
            TValue::Histogram(_) => true,
        }
    }

    /// A map of string values built from label pairs.
    pub fn str_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> TValue {
        TValue::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), TValue::Str(v.to_string())))
                .collect(),
        )
    }

    /// The Go type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            TValue::Nil => "nil",
            TValue::Bool(_) => "bool",
            TValue::Int(_) => "int",
            TValue::Float(_) => "float64",
            TValue::Str(_) => "string",
            TValue::Map(_) => "map",
            TValue::List(_) => "slice",
            TValue::Histogram(_) => "*histogram.FloatHistogram",
        }
    }

    /// Prints as Go's `fmt.Sprint` would.
    pub fn print(&self, out: &mut String) {
        match self {
            TValue::Nil => out.push_str("<no value>"),
            TValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            TValue::Int(i) => {
                let _ = write!(out, "{i}");
            }
            TValue::Float(f) => out.push_str(&go_g(*f, None)),
            TValue::Str(s) => out.push_str(s),
            TValue::Map(m) => {
                out.push_str("map[");
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.print(out);
                }
                out.push(']');
            }
            TValue::Histogram(h) => out.push_str(&go_histogram_string(h)),
            TValue::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.print(out);
                }
                out.push(']');
            }
        }
    }

    /// The printed form as a new string.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.print(&mut s);
        s
    }
}

/// Go's `strconv.FormatFloat(v, 'g', prec, 64)`: `None` is the shortest representation
/// (`%v`), `Some(p)` is `%.pg`.
pub fn go_g(v: f64, prec: Option<usize>) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = v.is_sign_negative() && v != 0.0;
    let a = v.abs();
    if a == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = match prec {
        None => format!("{a:e}"),
        Some(p) => format!("{:.*e}", p.max(1) - 1, a),
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let nd = digits.len() as i32;
    let dp = exp + 1;
    let eprec = match prec {
        None => 6,
        Some(p) => {
            let p = p.max(1) as i32;
            if p > nd && nd >= dp {
                nd
            } else {
                p
            }
        }
    };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= eprec {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    } else if dp <= 0 {
        out.push_str("0.");
        for _ in 0..(-dp) {
            out.push('0');
        }
        out.push_str(&digits);
    } else if dp >= nd {
        out.push_str(&digits);
        for _ in 0..(dp - nd) {
            out.push('0');
        }
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
    out
}

/// Go's `FloatHistogram.String()`: count and sum, then every bucket with a non-zero count
/// from the lowest up, e.g. `{count:4, sum:5, [-2,-1):1, (0.5,1]:1, (1,2]:2}`.
pub fn go_histogram_string(h: &FloatHistogram) -> String {
    let mut out = format!("{{count:{}, sum:{}", go_fmt_g(h.count), go_fmt_g(h.sum));
    let bucket = |out: &mut String, b: &Bucket| {
        let _ = write!(
            out,
            ", {}{},{}{}:{}",
            if b.lower_inclusive { '[' } else { '(' },
            go_fmt_g(b.lower),
            go_fmt_g(b.upper),
            if b.upper_inclusive { ']' } else { ')' },
            go_fmt_g(b.count)
        );
    };
    let negative: Vec<Bucket> = h
        .negative_bucket_iter()
        .filter(|b| b.count != 0.0)
        .collect();
    for b in negative.iter().rev() {
        bucket(&mut out, b);
    }
    if h.zero_count != 0.0 {
        bucket(&mut out, &h.zero_bucket());
    }
    for b in h.positive_bucket_iter().filter(|b| b.count != 0.0) {
        bucket(&mut out, &b);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_print_like_go() {
        let h = FloatHistogram::parse_notation(
            "{{schema:0 count:9 sum:-1.5 z_bucket:2 z_bucket_w:0.001 buckets:[1 0 3] n_buckets:[1 2]}}",
        )
        .unwrap();
        assert_eq!(
            go_histogram_string(&h),
            "{count:9, sum:-1.5, [-2,-1):2, [-1,-0.5):1, [-0.001,0.001]:2, (0.5,1]:1, (2,4]:3}"
        );
        let v = TValue::Histogram(Arc::new(h));
        assert!(v.truthy());
        assert_eq!(v.type_name(), "*histogram.FloatHistogram");
        assert_eq!(
            go_histogram_string(&FloatHistogram::default()),
            "{count:0, sum:0}"
        );
    }

    #[test]
    fn go_float_formatting() {
        assert_eq!(go_g(1.0, None), "1");
        assert_eq!(go_g(0.5, None), "0.5");
        assert_eq!(go_g(1e6, None), "1e+06");
        assert_eq!(go_g(123456.0, None), "123456");
        assert_eq!(go_g(1234567.0, None), "1.234567e+06");
        assert_eq!(go_g(0.0001, None), "0.0001");
        assert_eq!(go_g(0.00001, None), "1e-05");
        assert_eq!(go_g(1.5, Some(4)), "1.5");
        assert_eq!(go_g(1000.0, Some(4)), "1000");
        assert_eq!(go_g(12345.0, Some(4)), "1.234e+04");
        assert_eq!(go_g(-2.71838, Some(4)), "-2.718");
        assert_eq!(go_g(0.0, Some(4)), "0");
    }
}
