//! The printer: how is a tree written back as canonical PromQL?
//!
//! [`print()`] (and `Display` for [`Expr`]) writes one line of canonical text: single spaces
//! around binary operators, `by (..)` before the argument list, `on (..)`, durations in the
//! largest units (`1h30m`), `@` timestamps in seconds, strings double-quoted with Go escapes,
//! metric names quoted inside braces when they are not plain identifiers. Parentheses come only
//! from [`Expr::Paren`] nodes, so for every tree the parser returns,
//! `parse(print(e))` equals `e` up to spans.

use crate::ast::*;
use exposition::{MatchOp, METRIC_NAME};
use std::fmt::{self, Write};

/// Writes `expr` as canonical PromQL.
pub fn print(expr: &Expr) -> String {
    let mut s = String::with_capacity(64);
    let _ = write_expr(&mut s, expr);
    s
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_expr(&mut s, self)?;
        f.write_str(&s)
    }
}

impl fmt::Display for DurationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_duration_expr(&mut s, self)?;
        f.write_str(&s)
    }
}

/// Formats milliseconds as a Prometheus duration (`1h30m`, `1s500ms`, `0s`, `-5m`).
pub fn format_duration(ms: i64) -> String {
    let mut out = String::new();
    if ms == 0 {
        return "0s".to_string();
    }
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    for (unit, size) in [
        ("y", 31_536_000_000u64),
        ("w", 604_800_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if rest >= size {
            let _ = write!(out, "{}{}", rest / size, unit);
            rest %= size;
        }
    }
    out
}

/// Formats a float as a PromQL number literal (`+Inf`, `-Inf`, `NaN`, shortest decimal form).
pub fn format_number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        let a = v.abs();
        if a != 0.0 && !(1e-6..1e21).contains(&a) {
            format!("{v:e}")
        } else {
            format!("{v}")
        }
    }
}

/// Writes `s` as a double-quoted string with Go escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `s` can be written as a bare label name.
fn is_label_ident(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Whether `s` can be written as a bare metric name in expression position.
fn is_bare_metric_name(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty()
        || !(b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b':')
        || !b
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
    {
        return false;
    }
    const WORDS: [&str; 16] = [
        "and",
        "or",
        "unless",
        "atan2",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "offset",
        "bool",
        "anchored",
        "smoothed",
        "inf",
        "nan",
    ];
    !WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) && AggregateOp::from_name(s).is_none()
}

fn write_label(out: &mut String, l: &str) {
    if is_label_ident(l) {
        out.push_str(l);
    } else {
        out.push_str(&quote(l));
    }
}

fn write_label_list(out: &mut String, labels: &[String]) {
    out.push('(');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_label(out, l);
    }
    out.push(')');
}

fn write_at(out: &mut String, at: &Option<AtModifier>) {
    match at {
        None => {}
        Some(AtModifier::Start) => out.push_str(" @ start()"),
        Some(AtModifier::End) => out.push_str(" @ end()"),
        Some(AtModifier::Timestamp(ms)) => {
            let sign = if *ms < 0 { "-" } else { "" };
            let a = ms.unsigned_abs();
            if a % 1000 == 0 {
                let _ = write!(out, " @ {sign}{}", a / 1000);
            } else {
                let frac = format!("{:03}", a % 1000);
                let _ = write!(out, " @ {sign}{}.{}", a / 1000, frac.trim_end_matches('0'));
            }
        }
    }
}

fn write_offset(out: &mut String, ms: i64, expr: &Option<Box<DurationExpr>>) {
    if let Some(d) = expr {
        out.push_str(" offset ");
        let _ = write_duration_expr(out, d);
    } else if ms != 0 {
        out.push_str(" offset ");
        out.push_str(&format_duration(ms));
    }
}

fn write_range(out: &mut String, ms: i64, expr: &Option<Box<DurationExpr>>) {
    match expr {
        Some(d) => {
            let _ = write_duration_expr(out, d);
        }
        None => out.push_str(&format_duration(ms)),
    }
}

fn write_selector_core(out: &mut String, v: &VectorSelector) {
    let mut name_used = false;
    let bare = v.name.as_deref().filter(|n| is_bare_metric_name(n));
    if let Some(n) = bare {
        out.push_str(n);
    }
    let mut items: Vec<String> = Vec::new();
    if let (Some(n), None) = (v.name.as_deref(), bare) {
        items.push(quote(n));
    }
    for m in &v.matchers {
        if !name_used
            && v.name.is_some()
            && m.name() == METRIC_NAME
            && m.op() == MatchOp::Equal
            && Some(m.value()) == v.name.as_deref()
        {
            name_used = true;
            continue;
        }
        let mut s = String::new();
        write_label(&mut s, m.name());
        s.push_str(m.op().as_str());
        s.push_str(&quote(m.value()));
        items.push(s);
    }
    if !items.is_empty() || bare.is_none() {
        out.push('{');
        out.push_str(&items.join(", "));
        out.push('}');
    }
}

fn write_selector_modifiers(out: &mut String, v: &VectorSelector) {
    if v.anchored {
        out.push_str(" anchored");
    }
    if v.smoothed {
        out.push_str(" smoothed");
    }
    write_at(out, &v.at);
    write_offset(out, v.offset, &v.offset_expr);
}

/// `op`, `op by (..) ` or `op without (..) `: everything before the argument list.
fn write_aggregate_head(out: &mut String, a: &AggregateExpr) {
    out.push_str(a.op.as_str());
    if a.without {
        out.push_str(" without ");
        write_label_list(out, &a.grouping);
        out.push(' ');
    } else if !a.grouping.is_empty() {
        out.push_str(" by ");
        write_label_list(out, &a.grouping);
        out.push(' ');
    }
}

fn write_expr(out: &mut String, e: &Expr) -> fmt::Result {
    match e {
        Expr::NumberLiteral(n) => out.push_str(&format_number(n.value)),
        Expr::StringLiteral(s) => out.push_str(&quote(&s.value)),
        Expr::VectorSelector(v) => {
            write_selector_core(out, v);
            write_selector_modifiers(out, v);
        }
        Expr::MatrixSelector(m) => {
            write_selector_core(out, &m.vector);
            out.push('[');
            write_range(out, m.range, &m.range_expr);
            out.push(']');
            write_selector_modifiers(out, &m.vector);
        }
        Expr::Subquery(s) => {
            write_expr(out, &s.expr)?;
            out.push('[');
            write_range(out, s.range, &s.range_expr);
            out.push(':');
            match (&s.step_expr, s.step) {
                (Some(d), _) => write_duration_expr(out, d)?,
                (None, Some(ms)) => out.push_str(&format_duration(ms)),
                (None, None) => {}
            }
            out.push(']');
            write_at(out, &s.at);
            write_offset(out, s.offset, &s.offset_expr);
        }
        Expr::Unary(u) => {
            out.push_str(u.op.as_str());
            write_expr(out, &u.expr)?;
        }
        Expr::Binary(b) => {
            write_expr(out, &b.lhs)?;
            out.push(' ');
            out.push_str(b.op.as_str());
            if b.return_bool {
                out.push_str(" bool");
            }
            if let Some(m) = &b.matching {
                let grouped = matches!(m.card, Cardinality::ManyToOne | Cardinality::OneToMany);
                if m.on || !m.labels.is_empty() || grouped {
                    out.push_str(if m.on { " on " } else { " ignoring " });
                    write_label_list(out, &m.labels);
                }
                if grouped {
                    out.push_str(if m.card == Cardinality::ManyToOne {
                        " group_left"
                    } else {
                        " group_right"
                    });
                    // Always written: a `(` after group_x would otherwise be read as the
                    // label list.
                    out.push(' ');
                    write_label_list(out, &m.include);
                }
                match (m.fill.lhs, m.fill.rhs) {
                    (Some(l), Some(r)) if l.to_bits() == r.to_bits() => {
                        let _ = write!(out, " fill({})", format_number(l));
                    }
                    (l, r) => {
                        if let Some(l) = l {
                            let _ = write!(out, " fill_left({})", format_number(l));
                        }
                        if let Some(r) = r {
                            let _ = write!(out, " fill_right({})", format_number(r));
                        }
                    }
                }
            }
            out.push(' ');
            write_expr(out, &b.rhs)?;
        }
        Expr::Aggregate(a) => {
            write_aggregate_head(out, a);
            out.push('(');
            if let Some(p) = &a.param {
                write_expr(out, p)?;
                out.push_str(", ");
            }
            write_expr(out, &a.expr)?;
            out.push(')');
        }
        Expr::Call(c) => {
            out.push_str(c.func.name);
            out.push('(');
            for (i, a) in c.args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, a)?;
            }
            out.push(')');
        }
        Expr::Paren(p) => {
            out.push('(');
            write_expr(out, &p.expr)?;
            out.push(')');
        }
    }
    Ok(())
}

fn write_duration_expr(out: &mut String, d: &DurationExpr) -> fmt::Result {
    match d {
        DurationExpr::Number {
            seconds,
            is_duration,
            ..
        } => {
            // Duration literals hold whole milliseconds; seconds * 1000 may be off by an ulp.
            let ms = (seconds * 1000.0).round();
            if *is_duration && ms.abs() < 9.0e18 {
                out.push_str(&format_duration(ms as i64));
            } else {
                out.push_str(&format_number(*seconds));
            }
        }
        DurationExpr::Step(_) => out.push_str("step()"),
        DurationExpr::Range(_) => out.push_str("range()"),
        DurationExpr::MinMax { max, lhs, rhs, .. } => {
            out.push_str(if *max { "max_of(" } else { "min_of(" });
            write_duration_expr(out, lhs)?;
            out.push_str(", ");
            write_duration_expr(out, rhs)?;
            out.push(')');
        }
        DurationExpr::Unary { op, expr, .. } => {
            out.push_str(op.as_str());
            write_duration_expr(out, expr)?;
        }
        DurationExpr::Binary { op, lhs, rhs, .. } => {
            write_duration_expr(out, lhs)?;
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            write_duration_expr(out, rhs)?;
        }
        DurationExpr::Paren { expr, .. } => {
            out.push('(');
            write_duration_expr(out, expr)?;
            out.push(')');
        }
    }
    Ok(())
}

/// Width above which [`pretty`] splits an expression over several lines.
pub const PRETTY_WIDTH: usize = 100;

/// Writes `expr` as canonical PromQL over several lines, like `promtool promql format`: any
/// node whose one-line form (plus indentation) is wider than [`PRETTY_WIDTH`] is split, with
/// two spaces of indentation per level — binary operands on their own lines with the operator
/// between them, and the contents of calls, aggregations and parentheses indented. The result
/// parses to the same tree as [`print()`]'s.
///
/// ```
/// let e = promql::parse("sum by (job) (rate(http_requests_total{job=\"api\"}[5m])) / ignoring (code) group_left sum by (job) (rate(http_requests_total[5m]))").unwrap();
/// let text = promql::printer::pretty(&e);
/// assert_eq!(text.lines().nth(1), Some("/ ignoring (code) group_left ()"));
/// assert!(promql::parse(&text).unwrap().same_as(&e));
/// ```
pub fn pretty(expr: &Expr) -> String {
    let mut out = String::new();
    write_pretty(&mut out, expr, 0);
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_pretty(out: &mut String, e: &Expr, level: usize) {
    let flat = print(e);
    if flat.len() + 2 * level <= PRETTY_WIDTH {
        indent(out, level);
        out.push_str(&flat);
        return;
    }
    match e {
        Expr::Binary(b) => {
            write_pretty(out, &b.lhs, level);
            out.push('\n');
            indent(out, level);
            // The operator and its modifiers, exactly as the one-line form writes them.
            let lhs_len = print(&b.lhs).len();
            let rhs_len = print(&b.rhs).len();
            out.push_str(flat[lhs_len..flat.len() - rhs_len].trim());
            out.push('\n');
            write_pretty(out, &b.rhs, level);
        }
        Expr::Paren(p) => {
            indent(out, level);
            out.push_str("(\n");
            write_pretty(out, &p.expr, level + 1);
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        Expr::Aggregate(a) => {
            indent(out, level);
            write_aggregate_head(out, a);
            out.push_str("(\n");
            if let Some(p) = &a.param {
                write_pretty(out, p, level + 1);
                out.push_str(",\n");
            }
            write_pretty(out, &a.expr, level + 1);
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        Expr::Call(c) if !c.args.is_empty() => {
            indent(out, level);
            out.push_str(c.func.name);
            out.push_str("(\n");
            for (i, a) in c.args.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                write_pretty(out, a, level + 1);
            }
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        Expr::Subquery(s) => {
            write_pretty(out, &s.expr, level);
            let inner_len = print(&s.expr).len();
            out.push_str(&flat[inner_len..]);
        }
        Expr::Unary(u) => {
            indent(out, level);
            out.push_str(u.op.as_str());
            let mut inner = String::new();
            write_pretty(&mut inner, &u.expr, level);
            out.push_str(inner.trim_start());
        }
        _ => {
            indent(out, level);
            out.push_str(&flat);
        }
    }
}
