//! Rewrites of a query that make Prometheus 2.42 answer it with Prometheus 3.x semantics,
//! so that a mismatch can be attributed to a documented 2.x -> 3.x change instead of being
//! waved through on the strength of the query's text.
//!
//! - Left-open ranges: 3.x selects `(t - r, t]`, 2.x `[t - r, t]`; on millisecond data,
//!   2.x with `r - 1ms` selects exactly the 3.x set. (Lookback is handled the same way by
//!   the caller: a second Prometheus with `--query.lookback-delta` one millisecond
//!   shorter.)
//! - Regex `.` matches newlines in 3.x: 2.x with the `(?s)` flag does the same.

/// Milliseconds of a Prometheus duration (`1h30m`, `90s`, `250ms`), or `None`.
pub fn duration_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut total: i64 = 0;
    if b.is_empty() {
        return None;
    }
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let n: i64 = s[start..i].parse().ok()?;
        let unit_start = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let mult = match &s[unit_start..i] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(mult)?)?;
    }
    Some(total)
}

/// Byte index just past the string literal that starts at `i` (a quote character).
fn skip_string(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == b'\\' && q != b'`' {
            j += 2;
            continue;
        }
        if b[j] == q {
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

/// The query with every range (of a selector or a subquery) one millisecond shorter.
pub fn left_open_ranges(q: &str) -> String {
    let b = q.as_bytes();
    let mut out = String::with_capacity(q.len() + 16);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' | b'`' => {
                let j = skip_string(b, i);
                out.push_str(&q[i..j]);
                i = j;
            }
            b'[' => {
                let end = q[i + 1..]
                    .find([']', ':'])
                    .map(|k| i + 1 + k)
                    .unwrap_or(b.len());
                let d = q[i + 1..end].trim();
                match duration_ms(d) {
                    Some(ms) if ms > 1 => {
                        out.push('[');
                        out.push_str(&format!("{}ms", ms - 1));
                        i = end;
                    }
                    _ => {
                        out.push('[');
                        i += 1;
                    }
                }
            }
            _ => {
                let c = q[i..].chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// The query with `(?s)` at the start of every regex matcher and of every
/// `label_replace` regex (3.x compiles both with `.` matching `\n`).
pub fn dot_all_regexes(q: &str) -> String {
    dot_all_label_replace(&dot_all_matchers(q))
}

/// Byte offsets of the string literal that is argument `index` of every call of `func`.
fn call_string_args(q: &str, func: &str, index: usize) -> Vec<usize> {
    let b = q.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if matches!(b[i], b'"' | b'\'' | b'`') {
            i = skip_string(b, i);
            continue;
        }
        if q[i..].starts_with(func) && q[i + func.len()..].starts_with('(') {
            let mut j = i + func.len() + 1;
            let (mut depth, mut arg) = (0usize, 0usize);
            while j < b.len() {
                match b[j] {
                    b'"' | b'\'' | b'`' => {
                        if depth == 0 && arg == index {
                            found.push(j);
                        }
                        j = skip_string(b, j);
                        continue;
                    }
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' if depth == 0 => break,
                    b')' | b']' | b'}' => depth -= 1,
                    b',' if depth == 0 => arg += 1,
                    _ => {}
                }
                j += 1;
            }
        }
        i += q[i..].chars().next().map(|c| c.len_utf8()).unwrap_or(1);
    }
    found
}

fn dot_all_label_replace(q: &str) -> String {
    let mut out = q.to_string();
    // Insert from the back so earlier offsets stay valid (nested calls are found
    // outer first, so sort).
    let mut at = call_string_args(q, "label_replace", 4);
    at.sort_unstable();
    for pos in at.into_iter().rev() {
        out.insert_str(pos + 1, "(?s)");
    }
    out
}

fn dot_all_matchers(q: &str) -> String {
    let b = q.as_bytes();
    let mut out = String::with_capacity(q.len() + 16);
    let mut i = 0;
    let mut after_re_op = false;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' | b'`' => {
                let j = skip_string(b, i);
                if after_re_op {
                    out.push(b[i] as char);
                    out.push_str("(?s)");
                    out.push_str(&q[i + 1..j]);
                } else {
                    out.push_str(&q[i..j]);
                }
                after_re_op = false;
                i = j;
            }
            b'~' if i > 0 && (b[i - 1] == b'=' || b[i - 1] == b'!') => {
                after_re_op = true;
                out.push('~');
                i += 1;
            }
            c => {
                if !c.is_ascii_whitespace() {
                    after_re_op = false;
                }
                let ch = q[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    out
}

/// The query with every `stddev`/`stdvar` aggregation `A` over `X` written as
/// `(A + sum <same grouping> (X) * 0)`, so a group holding NaN or ±Inf is NaN on 2.42 too,
/// as 3.x gives for stddev/stdvar (2.42 starts such a group at 0 when the NaN comes first).
/// `None` when the query does not parse, has no such aggregation, or nests them.
pub fn nan_aware_stddev(q: &str) -> Option<String> {
    use promql::ast::{AggregateOp, Expr};
    let e = promql::parser::parse(q).ok()?;
    let mut found: Vec<(String, String)> = Vec::new();
    e.walk(&mut |x| {
        if let Expr::Aggregate(a) = x {
            if matches!(a.op, AggregateOp::Stddev | AggregateOp::Stdvar) {
                let grouping = if a.without {
                    format!(" without ({})", a.grouping.join(", "))
                } else {
                    format!(" by ({})", a.grouping.join(", "))
                };
                let whole = x.to_string();
                let guard = format!("({whole} + sum{grouping} ({}) * 0)", a.expr);
                found.push((whole, guard));
            }
        }
    });
    if found.is_empty() {
        return None;
    }
    let mut text = e.to_string();
    for (i, (whole, guard)) in found.iter().enumerate() {
        let nested = found
            .iter()
            .enumerate()
            .any(|(j, (other, _))| j != i && other.contains(whole.as_str()));
        if nested || text.matches(whole.as_str()).count() != 1 {
            return None;
        }
        text = text.replace(whole.as_str(), guard);
    }
    Some(text)
}

/// Functions whose output swings with the last bits of a huge input (the date functions
/// read it as seconds; periodic functions reduce it modulo 2π).
const AMPLIFIERS: [&str; 11] = [
    "minute",
    "hour",
    "day_of_week",
    "day_of_month",
    "day_of_year",
    "days_in_month",
    "month",
    "year",
    "sin",
    "cos",
    "tan",
];

/// The argument text of the outermost call of a date or periodic function in `q`, when
/// there is exactly one such call: if both engines agree on the argument to 12 digits,
/// a difference after the function is floating-point amplification (Go's and Rust's
/// `exp`/`sinh`/`cosh`/`pow` differ in the last bit, which `minute(sinh(x))` or
/// `tan(cosh(x))` turns into any value).
pub fn amplifier_argument(q: &str) -> Option<String> {
    use promql::ast::Expr;
    let e = promql::parser::parse(q).ok()?;
    let mut args = Vec::new();
    e.walk(&mut |x| {
        if let Expr::Call(c) = x {
            if AMPLIFIERS.contains(&c.func.name) && c.args.len() == 1 {
                args.push(c.args[0].to_string());
            }
        }
    });
    (args.len() == 1).then(|| args.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stddev_guard() {
        let q = nan_aware_stddev("stddev by (a) (x) > 1").unwrap();
        assert!(q.contains("sum by (a) (x) * 0"), "{q}");
        promql::parser::parse(&q).unwrap();
        let q = nan_aware_stddev("clamp(stdvar without () (vector(NaN)), 10, 100)").unwrap();
        promql::parser::parse(&q).unwrap();
        assert!(nan_aware_stddev("sum(x)").is_none());
        assert!(nan_aware_stddev("stddev(stddev(x))").is_none());
    }

    #[test]
    fn amplifier_arguments() {
        assert_eq!(
            amplifier_argument("minute(sinh(x)) + 1").as_deref(),
            Some("sinh(x)")
        );
        assert_eq!(amplifier_argument("tan(a) + cos(b)"), None);
        assert_eq!(amplifier_argument("minute()"), None);
        assert_eq!(amplifier_argument("sum(x)"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms("5m"), Some(300_000));
        assert_eq!(duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(duration_ms("250ms"), Some(250));
        assert_eq!(duration_ms("5"), None);
        assert_eq!(duration_ms(""), None);
        assert_eq!(duration_ms("m"), None);
    }

    #[test]
    fn ranges_shrink_outside_strings_only() {
        assert_eq!(
            left_open_ranges(r#"rate(a{b=~"i[01]"}[5m]) + (x)[10m:1m] + y[1h:]"#),
            r#"rate(a{b=~"i[01]"}[299999ms]) + (x)[599999ms:1m] + y[3599999ms:]"#
        );
    }

    #[test]
    fn regexes_get_dot_all() {
        assert_eq!(
            dot_all_regexes(r#"a{b=~"x.*", c!~ "y", d="z"}"#),
            r#"a{b=~"(?s)x.*", c!~ "(?s)y", d="z"}"#
        );
        assert_eq!(dot_all_regexes(r#"a{d="=~"}"#), r#"a{d="=~"}"#);
        assert_eq!(
            dot_all_regexes(
                r#"label_replace(label_replace(a{b=~"x"}, "d", "$1", "s", "(.*)"), "e", "", "f", "g.")"#
            ),
            r#"label_replace(label_replace(a{b=~"(?s)x"}, "d", "$1", "s", "(?s)(.*)"), "e", "", "f", "(?s)g.")"#
        );
    }
}
