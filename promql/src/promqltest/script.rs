//! The `.test` script language: commands, series notation and expectations.

use crate::lexer::{parse_duration_ms, parse_number, unquote};
use exposition::histogram::FloatHistogram;
use exposition::Labels;
use std::sync::Arc;

/// Why a script could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// A command word that is not `load`, `clear` or `eval`.
    #[error("line {line}: unknown command {word:?}")]
    UnknownCommand {
        /// 1-based line.
        line: usize,
        /// The word.
        word: String,
    },
    /// A malformed command header.
    #[error("line {line}: invalid {what}: {text:?}")]
    BadHeader {
        /// 1-based line.
        line: usize,
        /// Which part was invalid.
        what: &'static str,
        /// The offending text.
        text: String,
    },
    /// A malformed series line (labels or values).
    #[error("line {line}, column {col}: invalid series: {msg}")]
    BadSeries {
        /// 1-based line.
        line: usize,
        /// 1-based byte column within the line.
        col: usize,
        /// What was wrong.
        msg: String,
    },
}

/// One value item of a series line, after expansion.
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesValue {
    /// `_`: no sample (or no point expected).
    Omitted,
    /// A float.
    Float(f64),
    /// `stale`: a staleness marker.
    Stale,
    /// A native histogram (`{{...}}`).
    Histogram {
        /// The histogram.
        h: Arc<FloatHistogram>,
        /// Whether the notation stated `counter_reset_hint:` (only then is the hint
        /// compared in expected output).
        hint_stated: bool,
    },
}

impl SeriesValue {
    /// Whether this item is a native histogram.
    pub fn is_histogram(&self) -> bool {
        matches!(self, SeriesValue::Histogram { .. })
    }
}

/// Parses the body of one `{{...}}` item (without the braces); returns the histogram
/// and whether a counter-reset hint was stated.
///
/// ```
/// let (h, hinted) = promql::promqltest::parse_histogram("schema:1 sum:5 count:4 buckets:[1 3] offset:-1").unwrap();
/// assert_eq!((h.schema, h.count, h.positive_buckets.len(), hinted), (1, 4.0, 2, false));
/// assert!(promql::promqltest::parse_histogram("schema:x").is_err());
/// let (h, hinted) = promql::promqltest::parse_histogram("count:1 counter_reset_hint:gauge").unwrap();
/// assert!(hinted && h.counter_reset_hint == exposition::histogram::CounterResetHint::Gauge);
/// assert!(promql::promqltest::parse_histogram("sum:1 sum:2").is_err());
/// ```
pub fn parse_histogram(body: &str) -> Result<(FloatHistogram, bool), String> {
    let h = FloatHistogram::parse_notation(&format!("{{{{{body}}}}}")).map_err(|mut e| {
        // Offsets count from the start of the body, not from the added braces.
        e.offset = e.offset.saturating_sub(2);
        e.to_string()
    })?;
    // The notation parser rejects duplicate keys, so a stated hint is a key at the
    // start of the body or after whitespace.
    let hinted = body
        .split_whitespace()
        .any(|t| t.starts_with("counter_reset_hint:"));
    Ok((h, hinted))
}

/// Expands `{{A}}`, `{{A}}xN`, `{{A}}+{{B}}xN` and `{{A}}-{{B}}xN` starting at byte `i`
/// of `s`; returns the items and the end offset.
fn parse_histogram_item(s: &str, i: usize) -> Result<(Vec<SeriesValue>, usize), String> {
    let close = |from: usize| -> Result<usize, String> {
        Ok(s[from..].find("}}").ok_or("unterminated histogram")? + from)
    };
    let e1 = close(i + 2)?;
    let (base, base_hint) = parse_histogram(&s[i + 2..e1])?;
    let mut j = e1 + 2;
    let mut inc = None;
    if s[j..].starts_with("+{{") || s[j..].starts_with("-{{") {
        let sign = if s[j..].starts_with('+') { 1.0 } else { -1.0 };
        let e2 = close(j + 3)?;
        inc = Some((parse_histogram(&s[j + 3..e2])?, sign));
        j = e2 + 2;
    }
    let mut times = 0usize;
    if s[j..].starts_with('x') {
        let k = s[j + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map(|k| k + j + 1)
            .unwrap_or(s.len());
        times = s[j + 1..k].parse().map_err(|_| "bad repeat count")?;
        j = k;
    }
    let mut out = Vec::with_capacity(times + 1);
    match inc {
        None => {
            let h = Arc::new(base);
            for _ in 0..=times {
                out.push(SeriesValue::Histogram {
                    h: h.clone(),
                    hint_stated: base_hint,
                });
            }
        }
        Some(((d, d_hint), sign)) => {
            let mut cur = base;
            for k in 0..=times {
                if k > 0 {
                    if cur.schema > d.schema && !cur.uses_custom_buckets() {
                        return Err(format!(
                            "error combining histograms: cannot merge from schema {} to {}",
                            d.schema, cur.schema
                        ));
                    }
                    let combined = if sign < 0.0 { cur.sub(&d) } else { cur.add(&d) };
                    combined.map_err(|_| "cannot combine exponential and custom buckets")?;
                }
                out.push(SeriesValue::Histogram {
                    h: Arc::new(cur.clone()),
                    hint_stated: d_hint,
                });
            }
        }
    }
    Ok((out, j))
}

/// A labels-plus-values line.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesLine {
    /// 1-based line number.
    pub line: usize,
    /// The series labels.
    pub labels: Labels,
    /// The expanded values.
    pub values: Vec<SeriesValue>,
    /// Start-timestamp offsets (ms, relative to each sample's time) from a preceding
    /// `@st` line; empty when there was none, `None` where a position has no ST.
    pub start_offsets: Vec<Option<i64>>,
}

/// How an expectation's message must match.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageMatch {
    /// Any message.
    Any,
    /// Exactly this text.
    Exact(String),
    /// This regex, searched unanchored.
    Regex(String),
}

/// What one eval expects.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expectations {
    /// `expect fail`.
    pub fail: Option<MessageMatch>,
    /// `expect warn` lines.
    pub warn: Vec<MessageMatch>,
    /// `expect info` lines.
    pub info: Vec<MessageMatch>,
    /// `expect no_warn`.
    pub no_warn: bool,
    /// `expect no_info`.
    pub no_info: bool,
    /// `expect ordered` / `eval_ordered`.
    pub ordered: bool,
    /// Deprecated `eval_warn`: at least one warning.
    pub any_warn: bool,
    /// Deprecated `eval_info`: at least one info.
    pub any_info: bool,
    /// `expect range vector from S to E step P`.
    pub range_vector: Option<(i64, i64, i64)>,
    /// `expect string "..."`.
    pub string: Option<String>,
    /// A bare number line.
    pub scalar: Option<f64>,
    /// Expected series lines.
    pub series: Vec<SeriesLine>,
}

/// When an eval runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalKind {
    /// `eval instant at T`.
    Instant {
        /// Time in ms.
        at: i64,
    },
    /// `eval range from S to E step P`.
    Range {
        /// Start in ms.
        start: i64,
        /// End in ms.
        end: i64,
        /// Step in ms.
        step: i64,
    },
}

/// One `eval` command.
#[derive(Debug, Clone, PartialEq)]
pub struct Eval {
    /// 1-based line of the header.
    pub line: usize,
    /// The query text.
    pub expr: String,
    /// Instant or range.
    pub kind: EvalKind,
    /// What is expected.
    pub expect: Expectations,
}

/// One `load` command.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// 1-based line of the header.
    pub line: usize,
    /// Spacing of values in ms.
    pub interval: i64,
    /// `load_with_nhcb` (treated like `load` for float data).
    pub with_nhcb: bool,
    /// Whether any line declared start timestamps (`@st`).
    pub has_start_timestamps: bool,
    /// The series lines.
    pub series: Vec<SeriesLine>,
}

/// A script command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `clear`.
    Clear {
        /// 1-based line.
        line: usize,
    },
    /// `load ...`.
    Load(Load),
    /// `eval ...`.
    Eval(Eval),
}

/// Parses a time or duration token (`0`, `5m`, `1h30m`) to ms.
pub fn parse_time(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    parse_duration_ms(s)
}

/// Parses a whole script.
pub fn parse_script(text: &str) -> Result<Vec<Command>, ScriptError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| {
            let t = l.trim();
            if t.starts_with('#') {
                ""
            } else {
                t
            }
        })
        .collect();
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let line = i + 1;
        let word = l
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut end = i + 1;
        while end < lines.len() && !lines[end].is_empty() {
            end += 1;
        }
        let body: Vec<(usize, &str)> = (i + 1..end).map(|k| (k + 1, lines[k])).collect();
        if word == "clear" {
            cmds.push(Command::Clear { line });
            i += 1;
            continue;
        } else if word.starts_with("load") {
            cmds.push(Command::Load(parse_load(line, l, &body)?));
        } else if word.starts_with("eval") {
            let (ev, used) = parse_eval(line, l, &body)?;
            cmds.push(Command::Eval(ev));
            // A scalar line ends the block; anything after it is a new command.
            if used < body.len() {
                i = body[used].0 - 1;
                continue;
            }
        } else {
            return Err(ScriptError::UnknownCommand { line, word });
        }
        i = end;
    }
    Ok(cmds)
}

fn bad(line: usize, what: &'static str, text: &str) -> ScriptError {
    ScriptError::BadHeader {
        line,
        what,
        text: text.to_string(),
    }
}

fn parse_load(line: usize, header: &str, body: &[(usize, &str)]) -> Result<Load, ScriptError> {
    let mut parts = header.split_whitespace();
    let word = parts.next().unwrap_or("");
    let with_nhcb = word == "load_with_nhcb";
    if word != "load" && !with_nhcb {
        return Err(bad(line, "load command", header));
    }
    let iv = parts
        .next()
        .ok_or_else(|| bad(line, "load interval", header))?;
    let interval = parse_time(iv).ok_or_else(|| bad(line, "load interval", iv))?;
    let mut series: Vec<SeriesLine> = Vec::new();
    let mut has_st = false;
    let mut pending_st: Option<(usize, Labels, Vec<Option<i64>>)> = None;
    for &(ln, text) in body {
        if let Some(at) = text.find("@st") {
            let after = &text[at + 3..];
            if after.is_empty() || after.starts_with(char::is_whitespace) {
                has_st = true;
                let head = parse_series_line(ln, &text[..at])?;
                let offs = parse_st_items(after).map_err(|msg| ScriptError::BadSeries {
                    line: ln,
                    col: at + 4,
                    msg,
                })?;
                pending_st = Some((ln, head.labels, offs));
                continue;
            }
        }
        let mut s = parse_series_line(ln, text)?;
        if let Some((st_line, labels, offs)) = pending_st.take() {
            if labels != s.labels || offs.len() != s.values.len() {
                return Err(ScriptError::BadSeries {
                    line: st_line,
                    col: 1,
                    msg: "@st line must be followed by the same series with as many values".into(),
                });
            }
            s.start_offsets = offs;
        }
        if let Some(pos) = series.iter().position(|x| x.labels == s.labels) {
            series[pos] = s;
        } else {
            series.push(s);
        }
    }
    Ok(Load {
        line,
        interval,
        with_nhcb,
        has_start_timestamps: has_st,
        series,
    })
}

fn match_spec(rest: &str) -> MessageMatch {
    let r = rest.trim();
    if let Some(m) = r.strip_prefix("msg:") {
        MessageMatch::Exact(m.trim().to_string())
    } else if let Some(m) = r.strip_prefix("regex:") {
        MessageMatch::Regex(m.trim().to_string())
    } else {
        MessageMatch::Any
    }
}

fn parse_eval(
    line: usize,
    header: &str,
    body: &[(usize, &str)],
) -> Result<(Eval, usize), ScriptError> {
    let toks: Vec<&str> = header.split_whitespace().collect();
    let word = toks[0];
    let mut expect = Expectations::default();
    match word {
        "eval" => {}
        "eval_fail" => expect.fail = Some(MessageMatch::Any),
        "eval_warn" => expect.any_warn = true,
        "eval_info" => expect.any_info = true,
        "eval_ordered" => expect.ordered = true,
        _ => return Err(bad(line, "eval command", header)),
    }
    // Find where the expression starts: after the fixed header words.
    let skip_words = |n: usize| -> &str {
        let mut rest = header;
        for _ in 0..n {
            rest = rest.trim_start();
            let e = rest.find(char::is_whitespace).unwrap_or(rest.len());
            rest = &rest[e..];
        }
        rest.trim()
    };
    let (kind, expr) = match toks.get(1).copied() {
        Some("instant") if toks.get(2) == Some(&"at") && toks.len() > 4 => {
            let at = parse_time(toks[3]).ok_or_else(|| bad(line, "eval time", toks[3]))?;
            (EvalKind::Instant { at }, skip_words(4))
        }
        Some("range")
            if toks.len() > 7 && toks[2] == "from" && toks[4] == "to" && toks[6] == "step" =>
        {
            let start = parse_time(toks[3]).ok_or_else(|| bad(line, "range start", toks[3]))?;
            let end = parse_time(toks[5]).ok_or_else(|| bad(line, "range end", toks[5]))?;
            let step = parse_time(toks[7]).ok_or_else(|| bad(line, "range step", toks[7]))?;
            if end < start {
                return Err(bad(line, "range (end before start)", header));
            }
            (EvalKind::Range { start, end, step }, skip_words(8))
        }
        _ => return Err(bad(line, "eval header", header)),
    };
    let mut used = 0;
    for &(ln, text) in body {
        used += 1;
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or("");
        if first == "expect" {
            let ty = words.next().unwrap_or("");
            let rest = text.trim_start()["expect".len()..].trim_start();
            let rest = rest[ty.len()..].trim();
            match ty {
                "fail" => expect.fail = Some(match_spec(rest)),
                "warn" => expect.warn.push(match_spec(rest)),
                "info" => expect.info.push(match_spec(rest)),
                "no_warn" => expect.no_warn = true,
                "no_info" => expect.no_info = true,
                "ordered" => expect.ordered = true,
                "range" => {
                    let t: Vec<&str> = rest.split_whitespace().collect();
                    if t.len() != 7
                        || t[0] != "vector"
                        || t[1] != "from"
                        || t[3] != "to"
                        || t[5] != "step"
                    {
                        return Err(bad(ln, "expect range vector", text));
                    }
                    let p = |s: &str| {
                        parse_time(s).ok_or_else(|| bad(ln, "expect range vector time", s))
                    };
                    expect.range_vector = Some((p(t[2])?, p(t[4])?, p(t[6])?));
                }
                "string" => {
                    let s = unquote(rest).map_err(|_| bad(ln, "expected string", rest))?;
                    expect.string = Some(s);
                }
                _ => return Err(bad(ln, "expect line", text)),
            }
            continue;
        }
        if !text.contains(char::is_whitespace) && !text.starts_with('{') {
            if let Some(v) = parse_scalar(text) {
                expect.scalar = Some(v);
                break;
            }
        }
        expect.series.push(parse_series_line(ln, text)?);
    }
    Ok((
        Eval {
            line,
            expr: expr.to_string(),
            kind,
            expect,
        },
        used,
    ))
}

fn parse_scalar(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = match body.to_ascii_lowercase().as_str() {
        "inf" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => {
            if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
                u64::from_str_radix(b, 2).ok().map(|v| v as f64)
            } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
                u64::from_str_radix(o, 8).ok().map(|v| v as f64)
            } else if body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
                parse_number(body)
            } else {
                None
            }
        }
    }?;
    Some(if neg { -v } else { v })
}

/// Parses `labels values...`.
pub fn parse_series_line(line: usize, text: &str) -> Result<SeriesLine, ScriptError> {
    let err = |col: usize, msg: String| ScriptError::BadSeries {
        line,
        col: col + 1,
        msg,
    };
    let b = text.as_bytes();
    // Find the end of the labels part.
    let mut i = 0;
    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'{' {
        i += 1;
    }
    let name = &text[..i];
    let mut pairs: Vec<(String, String)> = Vec::new();
    if !name.is_empty() {
        pairs.push(("__name__".into(), name.to_string()));
    }
    if i < b.len() && b[i] == b'{' {
        i += 1;
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
                i += 1;
            }
            if i >= b.len() {
                return Err(err(i, "unterminated label set".into()));
            }
            if b[i] == b'}' {
                i += 1;
                break;
            }
            let (lname, ni) = read_name_or_string(text, i).map_err(|m| err(i, m))?;
            i = ni;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b',' || b[i] == b'}') {
                // A bare quoted string is the metric name.
                pairs.push(("__name__".into(), lname));
                continue;
            }
            if i >= b.len() || b[i] != b'=' {
                return Err(err(i, "expected '='".into()));
            }
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let (val, ni) = read_string(text, i).map_err(|m| err(i, m))?;
            i = ni;
            pairs.push((lname, val));
        }
    }
    let labels = Labels::try_from_pairs(&pairs).map_err(|e| err(0, e.to_string()))?;
    let values = parse_values(&text[i..]).map_err(|m| err(i, m))?;
    Ok(SeriesLine {
        line,
        labels,
        values,
        start_offsets: Vec::new(),
    })
}

fn read_name_or_string(text: &str, i: usize) -> Result<(String, usize), String> {
    let b = text.as_bytes();
    if matches!(b[i], b'"' | b'\'' | b'`') {
        return read_string(text, i);
    }
    let mut j = i;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b':') {
        j += 1;
    }
    if j == i {
        return Err("expected label name".into());
    }
    Ok((text[i..j].to_string(), j))
}

fn read_string(text: &str, i: usize) -> Result<(String, usize), String> {
    let b = text.as_bytes();
    let q = *b.get(i).ok_or("expected string")?;
    if !matches!(q, b'"' | b'\'' | b'`') {
        return Err("expected quoted string".into());
    }
    let mut j = i + 1;
    while j < b.len() && b[j] != q {
        if b[j] == b'\\' && q != b'`' {
            j += 1;
        }
        j += 1;
    }
    if j >= b.len() {
        return Err("unterminated string".into());
    }
    let s = unquote(&text[i..=j]).map_err(|e| format!("{e:?}"))?;
    Ok((s, j + 1))
}

/// Parses a float as series values allow: signed, `_` separators, Inf/NaN; no hex.
fn parse_float(s: &str) -> Option<f64> {
    let t = s.replace('_', "");
    let lower = t.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if body.starts_with("0x") {
        return None;
    }
    match body {
        "inf" | "nan" => {}
        _ if body.starts_with(|c: char| c.is_ascii_digit() || c == '.') => {}
        _ => return None,
    }
    lower.parse::<f64>().ok()
}

/// Parses a signed duration (`-1m`, `+30s`, `0`, `-0ms`) to ms.
fn parse_signed_duration(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = parse_time(body)?;
    Some(if neg { -v } else { v })
}

/// Expands the items of an `@st` line: `_`, `_xN`, `d`, `dxN`, `d+d2xN`, `d-d2xN`.
pub fn parse_st_items(s: &str) -> Result<Vec<Option<i64>>, String> {
    let mut out = Vec::new();
    for item in s.split_whitespace() {
        if item == "_" {
            out.push(None);
            continue;
        }
        if let Some(n) = item.strip_prefix("_x") {
            let n: usize = n.parse().map_err(|_| format!("bad item {item:?}"))?;
            out.extend(std::iter::repeat_n(None, n));
            continue;
        }
        let (base, times) = match item.rfind('x') {
            Some(p) if p + 1 < item.len() && item[p + 1..].bytes().all(|c| c.is_ascii_digit()) => (
                &item[..p],
                Some(
                    item[p + 1..]
                        .parse::<usize>()
                        .map_err(|_| "bad repeat count")?,
                ),
            ),
            _ => (item, None),
        };
        let bb = base.as_bytes();
        let op = (1..bb.len()).find(|&k| bb[k] == b'+' || bb[k] == b'-');
        let (a, inc) = match op {
            Some(k) => {
                let a = parse_signed_duration(&base[..k])
                    .ok_or_else(|| format!("bad item {item:?}"))?;
                let d = parse_time(&base[k + 1..]).ok_or_else(|| format!("bad item {item:?}"))?;
                (a, if bb[k] == b'-' { -d } else { d })
            }
            None => (
                parse_signed_duration(base).ok_or_else(|| format!("bad item {item:?}"))?,
                0,
            ),
        };
        let mut v = a;
        out.push(Some(v));
        for _ in 0..times.unwrap_or(0) {
            v += inc;
            out.push(Some(v));
        }
    }
    Ok(out)
}

/// Expands the value items of a series line.
pub fn parse_values(s: &str) -> Result<Vec<SeriesValue>, String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if s[i..].starts_with("{{") {
            let (items, j) = parse_histogram_item(s, i)?;
            out.extend(items);
            i = j;
            continue;
        }
        let e = s[i..]
            .find(char::is_whitespace)
            .map(|e| e + i)
            .unwrap_or(s.len());
        let item = &s[i..e];
        i = e;
        if item == "_" {
            out.push(SeriesValue::Omitted);
            continue;
        }
        if item == "stale" {
            out.push(SeriesValue::Stale);
            continue;
        }
        if let Some(n) = item.strip_prefix("_x") {
            let n: usize = n.parse().map_err(|_| format!("bad item {item:?}"))?;
            out.extend(std::iter::repeat_n(SeriesValue::Omitted, n));
            continue;
        }
        let (base, times) = match item.rfind('x') {
            Some(p) if p + 1 < item.len() && item[p + 1..].bytes().all(|c| c.is_ascii_digit()) => (
                &item[..p],
                Some(
                    item[p + 1..]
                        .parse::<usize>()
                        .map_err(|_| "bad repeat count")?,
                ),
            ),
            _ => (item, None),
        };
        let Some(n) = times else {
            let v = parse_float(item).ok_or_else(|| format!("bad value {item:?}"))?;
            out.push(SeriesValue::Float(v));
            continue;
        };
        // a, a+b, a-b (the operator is not at index 0 and not after an exponent 'e').
        let bb = base.as_bytes();
        let mut op = None;
        for k in 1..bb.len() {
            if (bb[k] == b'+' || bb[k] == b'-') && !matches!(bb[k - 1], b'e' | b'E') {
                op = Some(k);
                break;
            }
        }
        let (a, inc) = match op {
            Some(k) => {
                let a = parse_float(&base[..k]).ok_or_else(|| format!("bad value {item:?}"))?;
                let d = parse_float(&base[k + 1..]).ok_or_else(|| format!("bad value {item:?}"))?;
                (a, if bb[k] == b'-' { -d } else { d })
            }
            None => (
                parse_float(base).ok_or_else(|| format!("bad value {item:?}"))?,
                0.0,
            ),
        };
        let mut v = a;
        out.push(SeriesValue::Float(v));
        for _ in 0..n {
            v += inc;
            out.push(SeriesValue::Float(v));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expand() {
        let v = parse_values("1+1x2 _ stale _x2 5x1 -1-1x1 1e-5").unwrap();
        use SeriesValue::*;
        assert_eq!(
            v,
            vec![
                Float(1.0),
                Float(2.0),
                Float(3.0),
                Omitted,
                Stale,
                Omitted,
                Omitted,
                Float(5.0),
                Float(5.0),
                Float(-1.0),
                Float(-2.0),
                Float(1e-5)
            ]
        );
    }

    #[test]
    fn start_timestamp_items() {
        let v = parse_st_items("_ _x2 -30s-1mx2 -1ms 0 +1m").unwrap();
        assert_eq!(
            v,
            vec![
                None,
                None,
                None,
                Some(-30_000),
                Some(-90_000),
                Some(-150_000),
                Some(-1),
                Some(0),
                Some(60_000)
            ]
        );
        let cmds = parse_script("load 1m\n  m@st _ -1m\n  m 1 2\n").unwrap();
        match &cmds[0] {
            Command::Load(l) => assert_eq!(l.series[0].start_offsets, vec![None, Some(-60_000)]),
            c => panic!("unexpected {c:?}"),
        }
        assert!(parse_script("load 1m\n  m@st _ -1m\n  m 1\n").is_err());
    }

    #[test]
    fn histograms_count() {
        let v = parse_values("{{schema:0 sum:1}}x2 {{count:1}}+{{count:2}}x1").unwrap();
        assert_eq!(v.len(), 5);
        let SeriesValue::Histogram { h, hint_stated } = &v[4] else {
            panic!("expected a histogram")
        };
        assert_eq!(h.count, 3.0);
        assert!(!hint_stated);
        let v = parse_values(
            "{{buckets:[1 2] counter_reset_hint:gauge}}+{{buckets:[1] offset:1 counter_reset_hint:gauge}}x2",
        )
        .unwrap();
        let SeriesValue::Histogram { h, hint_stated } = &v[2] else {
            panic!("expected a histogram")
        };
        assert_eq!(h.positive_buckets, vec![1.0, 4.0]);
        assert!(*hint_stated);
        assert!(parse_values("{{schema:0}}+{{schema:1}}x1").is_ok());
        assert!(parse_values("{{schema:1}}+{{schema:0}}x1").is_err());
        assert!(parse_values("{{bogus:1}}").is_err());
    }

    #[test]
    fn series_line_labels() {
        let s = parse_series_line(1, r#"m{a="x\"y", 'b'="z"} 1 2"#).unwrap();
        assert_eq!(s.labels.get("a"), Some("x\"y"));
        assert_eq!(s.labels.get("b"), Some("z"));
        assert_eq!(s.labels.metric_name(), Some("m"));
        assert_eq!(s.values.len(), 2);
        let s = parse_series_line(1, r#"{"my.metric", a="1"} 3"#).unwrap();
        assert_eq!(s.labels.metric_name(), Some("my.metric"));
        let s = parse_series_line(1, "{} 7").unwrap();
        assert!(s.labels.is_empty());
    }

    #[test]
    fn script_commands() {
        let text = "load 1m\n  m 1 2\n\n# c\neval instant at 1m m\n  m 2\n\neval range from 0 to 1m step 1m m\n  expect fail msg: boom\n\nclear\neval instant at 0 1\n  1\n";
        let cmds = parse_script(text).unwrap();
        assert_eq!(cmds.len(), 5);
        match &cmds[2] {
            Command::Eval(e) => {
                assert_eq!(e.expect.fail, Some(MessageMatch::Exact("boom".into())));
                assert_eq!(
                    e.kind,
                    EvalKind::Range {
                        start: 0,
                        end: 60_000,
                        step: 60_000
                    }
                );
            }
            c => panic!("unexpected {c:?}"),
        }
        match &cmds[4] {
            Command::Eval(e) => assert_eq!(e.expect.scalar, Some(1.0)),
            c => panic!("unexpected {c:?}"),
        }
    }

    #[test]
    fn malformed_scripts_do_not_panic() {
        let pieces = [
            "load",
            "load 1m",
            "eval",
            "eval instant at",
            "eval range from 0 to 1m step",
            "1m",
            "x",
            "{",
            "}",
            "{{",
            "}}",
            "\"",
            "'",
            "`",
            "=",
            ",",
            "a+bx",
            "1+1x",
            "_x",
            "stale",
            "expect",
            "expect range vector from",
            "expect string",
            "\n",
            "\n\n",
            " ",
            "é",
            "\u{1F600}",
            "metric{a=\"b\"}",
            "1e",
            "-",
            "+",
            "x9",
            "{{schema:0}}+{{",
            "clear",
        ];
        // Deterministic pseudo-random concatenations of the pieces.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..5000 {
            let mut text = String::new();
            for _ in 0..(seed % 12) {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
                if seed & 1 == 0 {
                    text.push(' ');
                }
                if seed & 6 == 0 {
                    text.push('\n');
                }
            }
            seed = seed.wrapping_add(7);
            let _ = parse_script(&text);
        }
    }

    #[test]
    fn unknown_command_is_an_error() {
        assert!(matches!(
            parse_script("bogus 1\n"),
            Err(ScriptError::UnknownCommand { line: 1, .. })
        ));
    }
}
