//! Answers of the Prometheus query API, normalised, and their comparison.

use std::collections::BTreeMap;

use serde_json::Value;

/// One series of an answer: its labels and its points (milliseconds, value).
pub type Series = (BTreeMap<String, String>, Vec<(i64, f64)>);

/// A normalised answer of `/api/v1/query` or `/api/v1/query_range`.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `status: error` (or a transport failure), with the message.
    Error(String),
    /// A scalar at a time.
    Scalar(i64, f64),
    /// A string at a time.
    Str(i64, String),
    /// An instant vector or a matrix: series sorted by labels.
    Series {
        /// `vector` or `matrix`.
        kind: String,
        /// The series, sorted by labels.
        series: Vec<Series>,
    },
}

fn time_ms(v: &Value) -> Option<i64> {
    v.as_f64().map(|s| (s * 1000.0).round() as i64)
}

fn float(v: &Value) -> Option<f64> {
    let s = v.as_str()?;
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

fn point(v: &Value) -> Option<(i64, f64)> {
    let a = v.as_array()?;
    Some((time_ms(a.first()?)?, float(a.get(1)?)?))
}

fn labels(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Parses a response body; anything that is not a well-formed success is an error.
pub fn parse_answer(body: &str) -> Answer {
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return Answer::Error(format!("bad JSON: {e}")),
    };
    if v["status"] != "success" {
        return Answer::Error(v["error"].as_str().unwrap_or("error").to_string());
    }
    let data = &v["data"];
    let kind = data["resultType"].as_str().unwrap_or_default().to_string();
    let r = &data["result"];
    let bad = || Answer::Error(format!("malformed {kind} result"));
    match kind.as_str() {
        "scalar" => point(r)
            .map(|(t, v)| Answer::Scalar(t, v))
            .unwrap_or_else(bad),
        "string" => {
            let a = r.as_array();
            match (
                a.and_then(|a| a.first()).and_then(time_ms),
                a.and_then(|a| a.get(1)).and_then(|s| s.as_str()),
            ) {
                (Some(t), Some(s)) => Answer::Str(t, s.to_string()),
                _ => bad(),
            }
        }
        "vector" | "matrix" => {
            let Some(items) = r.as_array() else {
                return bad();
            };
            let mut series = Vec::new();
            for it in items {
                let ls = labels(&it["metric"]);
                let pts: Option<Vec<(i64, f64)>> = if kind == "vector" {
                    point(&it["value"]).map(|p| vec![p])
                } else {
                    it["values"]
                        .as_array()
                        .map(|a| a.iter().map(point).collect::<Option<Vec<_>>>())
                        .unwrap_or(Some(Vec::new()))
                };
                match pts {
                    Some(p) => series.push((ls, p)),
                    None => return bad(),
                }
            }
            series.sort_by(|a, b| a.0.cmp(&b.0));
            Answer::Series { kind, series }
        }
        _ => bad(),
    }
}

/// How two answers are compared.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    /// Relative tolerance of values.
    pub rel: f64,
    /// Absolute tolerance of values (for results near zero after cancellation).
    pub abs: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            rel: 1e-6,
            abs: 1e-9,
        }
    }
}

/// Whether two values agree: NaN equals NaN, infinities by sign, finite values within
/// the tolerance.
pub fn values_agree(a: f64, b: f64, tol: Tolerance) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    let d = (a - b).abs();
    d <= tol.abs || d <= tol.rel * a.abs().max(b.abs())
}

/// The first difference between two answers, or `None` when they agree. Two errors
/// agree whatever their messages.
pub fn diff(ours: &Answer, theirs: &Answer, tol: Tolerance) -> Option<String> {
    match (ours, theirs) {
        (Answer::Error(_), Answer::Error(_)) => None,
        (Answer::Error(e), _) => Some(format!("ours failed: {e}")),
        (_, Answer::Error(e)) => Some(format!("theirs failed: {e}")),
        (Answer::Scalar(t1, v1), Answer::Scalar(t2, v2)) => {
            if t1 == t2 && values_agree(*v1, *v2, tol) {
                None
            } else {
                Some(format!("scalar ours {v1}@{t1} theirs {v2}@{t2}"))
            }
        }
        (Answer::Str(t1, s1), Answer::Str(t2, s2)) => {
            (t1 != t2 || s1 != s2).then(|| format!("string ours {s1:?} theirs {s2:?}"))
        }
        (
            Answer::Series {
                kind: k1,
                series: a,
            },
            Answer::Series {
                kind: k2,
                series: b,
            },
        ) => {
            if k1 != k2 {
                return Some(format!("result type ours {k1} theirs {k2}"));
            }
            let ma: BTreeMap<_, _> = a.iter().map(|(l, p)| (l, p)).collect();
            let mb: BTreeMap<_, _> = b.iter().map(|(l, p)| (l, p)).collect();
            if ma.len() != a.len() {
                return Some("ours has duplicate series".into());
            }
            for (l, pa) in &ma {
                let Some(pb) = mb.get(l) else {
                    return Some(format!(
                        "series only in ours: {} ({} series vs {})",
                        fmt_labels(l),
                        a.len(),
                        b.len()
                    ));
                };
                if pa.len() != pb.len() {
                    return Some(format!(
                        "{}: {} points in ours, {} in theirs (first ours {:?}, theirs {:?})",
                        fmt_labels(l),
                        pa.len(),
                        pb.len(),
                        pa.first(),
                        pb.first()
                    ));
                }
                for (x, y) in pa.iter().zip(pb.iter()) {
                    if x.0 != y.0 || !values_agree(x.1, y.1, tol) {
                        return Some(format!(
                            "{}: ours {}@{} theirs {}@{}",
                            fmt_labels(l),
                            x.1,
                            x.0,
                            y.1,
                            y.0
                        ));
                    }
                }
            }
            for l in mb.keys() {
                if !ma.contains_key(l) {
                    return Some(format!(
                        "series only in theirs: {} ({} series vs {})",
                        fmt_labels(l),
                        a.len(),
                        b.len()
                    ));
                }
            }
            None
        }
        _ => Some(format!(
            "result type ours {} theirs {}",
            kind_of(ours),
            kind_of(theirs)
        )),
    }
}

fn kind_of(a: &Answer) -> &str {
    match a {
        Answer::Error(_) => "error",
        Answer::Scalar(..) => "scalar",
        Answer::Str(..) => "string",
        Answer::Series { kind, .. } => kind,
    }
}

/// `{a="b", ...}` for messages.
pub fn fmt_labels(l: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// The answer with every `le` and `quantile` label value written as Prometheus 3.x
/// normalises them on ingestion (`1` becomes `1.0`, `+Inf` stays).
pub fn normalise_le(a: &Answer) -> Answer {
    match a {
        Answer::Series { kind, series } => {
            let mut series: Vec<Series> = series
                .iter()
                .map(|(l, p)| {
                    let l = l
                        .iter()
                        .map(|(k, v)| {
                            let v = if k == "le" || k == "quantile" {
                                normalise_float_label(v)
                            } else {
                                v.clone()
                            };
                            (k.clone(), v)
                        })
                        .collect();
                    (l, p.clone())
                })
                .collect();
            series.sort_by(|a, b| a.0.cmp(&b.0));
            Answer::Series {
                kind: kind.clone(),
                series,
            }
        }
        other => other.clone(),
    }
}

/// The answer without any `__name__` label (series re-sorted).
pub fn drop_names(a: &Answer) -> Answer {
    match a {
        Answer::Series { kind, series } => {
            let mut series: Vec<Series> = series
                .iter()
                .map(|(l, p)| {
                    let mut l = l.clone();
                    l.remove("__name__");
                    (l, p.clone())
                })
                .collect();
            series.sort_by(|a, b| a.0.cmp(&b.0));
            Answer::Series {
                kind: kind.clone(),
                series,
            }
        }
        other => other.clone(),
    }
}

fn map_series(
    a: &Answer,
    f: impl Fn(&mut BTreeMap<String, String>, &mut Vec<(i64, f64)>),
) -> Answer {
    match a {
        Answer::Series { kind, series } => {
            let mut series: Vec<Series> = series
                .iter()
                .map(|(l, p)| {
                    let (mut l, mut p) = (l.clone(), p.clone());
                    f(&mut l, &mut p);
                    (l, p)
                })
                .collect();
            series.sort_by(|a, b| a.0.cmp(&b.0));
            Answer::Series {
                kind: kind.clone(),
                series,
            }
        }
        other => other.clone(),
    }
}

/// The answer with label `from` renamed to `to`.
pub fn rename_label(a: &Answer, from: &str, to: &str) -> Answer {
    map_series(a, |l, _| {
        if let Some(v) = l.remove(from) {
            l.insert(to.to_string(), v);
        }
    })
}

/// Label values that are numbers rounded to 10 significant digits (values
/// that `count_values` made from floats differing only in the last bits then agree).
pub fn round_numeric_labels(a: &Answer) -> Answer {
    map_series(a, |l, _| {
        for v in l.values_mut() {
            if let Ok(f) = v.parse::<f64>() {
                if f.is_finite() {
                    *v = format!("{f:.9e}");
                }
            }
        }
    })
}

/// `theirs` with a 0 turned into NaN wherever `ours` has NaN for the same series and time.
pub fn adopt_nan_for_zero(ours: &Answer, theirs: &Answer) -> Answer {
    let Answer::Series { series: os, .. } = ours else {
        return theirs.clone();
    };
    let nan_at: std::collections::BTreeSet<(&BTreeMap<String, String>, i64)> = os
        .iter()
        .flat_map(|(l, p)| p.iter().filter(|x| x.1.is_nan()).map(move |x| (l, x.0)))
        .collect();
    map_series(theirs, |l, p| {
        for x in p.iter_mut() {
            if x.1 == 0.0 && nan_at.contains(&(&*l, x.0)) {
                x.1 = f64::NAN;
            }
        }
    })
}

/// Per timestamp, the sorted values of all series (labels forgotten): two answers with the
/// same multiset of values at every step but different series chosen.
pub fn values_by_time(a: &Answer) -> Answer {
    match a {
        Answer::Series { kind, series } => {
            let mut by_t: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for (_, p) in series {
                for &(t, v) in p {
                    by_t.entry(t).or_default().push(v);
                }
            }
            let series = by_t
                .into_iter()
                .map(|(t, mut vs)| {
                    vs.sort_by(|a, b| a.total_cmp(b));
                    let mut l = BTreeMap::new();
                    l.insert("t".to_string(), t.to_string());
                    (l, vs.into_iter().map(|v| (t, v)).collect())
                })
                .collect();
            Answer::Series {
                kind: kind.clone(),
                series,
            }
        }
        other => other.clone(),
    }
}

/// Whether the two answers have the same series and timestamps (values may differ).
pub fn same_shape(a: &Answer, b: &Answer) -> bool {
    match (a, b) {
        (Answer::Series { series: x, .. }, Answer::Series { series: y, .. }) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| {
                    p.0 == q.0
                        && p.1.len() == q.1.len()
                        && p.1.iter().zip(&q.1).all(|(u, v)| u.0 == v.0)
                })
        }
        (Answer::Scalar(t1, _), Answer::Scalar(t2, _)) => t1 == t2,
        _ => false,
    }
}

/// `1` -> `1.0`, `0.25` -> `0.25`, `+Inf` -> `+Inf`; anything not a float unchanged.
pub fn normalise_float_label(v: &str) -> String {
    match v.parse::<f64>() {
        Ok(f) if f.is_infinite() => if f > 0.0 { "+Inf" } else { "-Inf" }.to_string(),
        Ok(f) if f.is_finite() && f == f.trunc() && f.abs() < 1e15 => format!("{f:.1}"),
        Ok(f) if f.is_finite() => format!("{f}"),
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vector_matrix_scalar_and_errors() {
        let v = parse_answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1.5,"NaN"]}]}}"#,
        );
        let Answer::Series { kind, series } = &v else {
            panic!("{v:?}")
        };
        assert_eq!(kind, "vector");
        assert_eq!(series[0].1[0].0, 1500);
        assert!(series[0].1[0].1.is_nan());
        let m = parse_answer(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"+Inf"]]}]}}"#,
        );
        assert!(
            matches!(&m, Answer::Series { series, .. } if series[0].1 == vec![(1000, 1.0), (2000, f64::INFINITY)])
        );
        assert_eq!(
            parse_answer(r#"{"status":"success","data":{"resultType":"scalar","result":[3,"2"]}}"#),
            Answer::Scalar(3000, 2.0)
        );
        assert!(
            matches!(parse_answer(r#"{"status":"error","error":"boom"}"#), Answer::Error(e) if e == "boom")
        );
        assert!(matches!(parse_answer("nope"), Answer::Error(_)));
    }

    #[test]
    fn diff_tolerates_rounding_and_nan_but_not_more() {
        let t = Tolerance::default();
        assert!(values_agree(f64::NAN, f64::NAN, t));
        assert!(!values_agree(f64::NAN, 1.0, t));
        assert!(values_agree(1.0, 1.0 + 1e-12, t));
        assert!(!values_agree(1.0, 1.001, t));
        assert!(!values_agree(f64::INFINITY, f64::NEG_INFINITY, t));
        let a = parse_answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"1"]}]}}"#,
        );
        let b = parse_answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"c"},"value":[1,"1"]}]}}"#,
        );
        assert!(diff(&a, &a, t).is_none());
        assert!(diff(&a, &b, t).unwrap().contains("only in"));
        assert!(diff(&Answer::Error("x".into()), &Answer::Error("y".into()), t).is_none());
        assert!(diff(&Answer::Error("x".into()), &a, t).is_some());
    }

    #[test]
    fn drop_names_removes_only_the_name() {
        let a = parse_answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"m","a":"b"},"value":[1,"1"]}]}}"#,
        );
        let b = parse_answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"1"]}]}}"#,
        );
        assert!(diff(&a, &b, Tolerance::default()).is_some());
        assert!(diff(&drop_names(&a), &b, Tolerance::default()).is_none());
    }

    #[test]
    fn rewrites_of_answers() {
        let t = Tolerance::default();
        let a = parse_answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a-b":"0.30000000000000004"},"value":[1,"NaN"]}]}}"#,
        );
        let b = parse_answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a_b":"0.3"},"value":[1,"0"]}]}}"#,
        );
        let a2 = round_numeric_labels(&rename_label(&a, "a-b", "a_b"));
        let b2 = round_numeric_labels(&b);
        assert!(diff(&a2, &b2, t).is_some());
        assert!(diff(&a2, &adopt_nan_for_zero(&a2, &b2), t).is_none());
        assert!(diff(&a, &adopt_nan_for_zero(&a, &b), t).is_some());
    }

    #[test]
    fn tie_and_shape_helpers() {
        let t = Tolerance::default();
        let a = parse_answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"NaN"]},{"metric":{"a":"2"},"value":[1,"5"]}]}}"#,
        );
        let b = parse_answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"3"},"value":[1,"5"]},{"metric":{"a":"1"},"value":[1,"NaN"]}]}}"#,
        );
        let c = parse_answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"6"]}]}}"#,
        );
        assert!(diff(&a, &b, t).is_some());
        assert!(diff(&values_by_time(&a), &values_by_time(&b), t).is_none());
        assert!(diff(&values_by_time(&a), &values_by_time(&c), t).is_some());
        assert!(same_shape(&a, &c));
        assert!(!same_shape(&a, &b));
    }

    #[test]
    fn le_normalisation() {
        assert_eq!(normalise_float_label("1"), "1.0");
        assert_eq!(normalise_float_label("0.25"), "0.25");
        assert_eq!(normalise_float_label("+Inf"), "+Inf");
        assert_eq!(normalise_float_label("x"), "x");
    }
}
