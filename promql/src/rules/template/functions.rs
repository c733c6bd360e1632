//! Template functions: Go's builtins and Prometheus's alert-template functions.
//!
//! Go builtins: `and`, `or`, `not`, `len`, `index`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `print`,
//! `printf`, `println`, `html`, `js`, `urlquery`. Prometheus: `humanize`, `humanize1024`,
//! `humanizePercentage`, `humanizeDuration`, `humanizeTimestamp`, `toTime`, `toUpper`,
//! `toLower`, `title`, `reReplaceAll`, `match`, `query`, `first`, `value`, `label`, `strvalue`,
//! `sortByLabel`, `safeHtml`, `stripPort`, `stripDomain`, `args`, `graphLink`, `tableLink`,
//! `externalURL`, `pathPrefix`, `parseDuration`.
//!
//! Comparisons are slightly more lenient than Go's: an integer constant compares with a float
//! (`gt $value 1` works here; Go rejects it, so portable templates write `1.0`).

use super::exec::State;
use super::value::{go_g, TValue};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write;

const NAMES: &[&str] = &[
    "and",
    "or",
    "not",
    "len",
    "index",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "print",
    "printf",
    "println",
    "html",
    "js",
    "urlquery",
    "humanize",
    "humanize1024",
    "humanizePercentage",
    "humanizeDuration",
    "humanizeTimestamp",
    "toTime",
    "toUpper",
    "toLower",
    "title",
    "reReplaceAll",
    "match",
    "query",
    "first",
    "value",
    "label",
    "strvalue",
    "sortByLabel",
    "safeHtml",
    "stripPort",
    "stripDomain",
    "args",
    "graphLink",
    "tableLink",
    "externalURL",
    "pathPrefix",
    "parseDuration",
];

/// Whether a function of this name exists.
pub fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

fn want(name: &str, args: &[TValue], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

/// Go's `convertToFloat` in Prometheus's template package.
fn to_float(v: &TValue) -> Result<f64, String> {
    match v {
        TValue::Float(f) => Ok(*f),
        TValue::Int(i) => Ok(*i as f64),
        TValue::Str(s) => s
            .trim()
            .parse::<f64>()
            .or_else(|_| match s.trim().to_ascii_lowercase().as_str() {
                "+inf" | "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                "nan" => Ok(f64::NAN),
                _ => Err(()),
            })
            .map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")),
        other => Err(format!("can't convert {} to float", other.type_name())),
    }
}

fn to_str(v: &TValue) -> Result<String, String> {
    match v {
        TValue::Str(s) => Ok(s.clone()),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
    }
}

fn cmp(a: &TValue, b: &TValue) -> Result<Ordering, String> {
    match (a, b) {
        (TValue::Str(x), TValue::Str(y)) => Ok(x.cmp(y)),
        (TValue::Int(x), TValue::Int(y)) => Ok(x.cmp(y)),
        (TValue::Bool(x), TValue::Bool(y)) => Ok(x.cmp(y)),
        (TValue::Float(_) | TValue::Int(_), TValue::Float(_) | TValue::Int(_)) => {
            let (x, y) = (to_float(a)?, to_float(b)?);
            x.partial_cmp(&y)
                .ok_or_else(|| "incomparable NaN".to_string())
        }
        _ => Err("incompatible types for comparison".into()),
    }
}

fn equal(a: &TValue, b: &TValue) -> Result<bool, String> {
    match (a, b) {
        (TValue::Float(x), TValue::Float(y)) => Ok(x == y),
        (TValue::Nil, TValue::Nil) => Ok(true),
        _ => Ok(cmp(a, b)? == Ordering::Equal),
    }
}

fn sample_parts(v: &TValue) -> Result<(&BTreeMap<String, TValue>, f64), String> {
    if let TValue::Map(m) = v {
        if let (Some(TValue::Map(l)), Some(TValue::Float(f))) = (m.get("Labels"), m.get("Value")) {
            return Ok((l, *f));
        }
    }
    Err(format!("expected a query sample, got {}", v.type_name()))
}

/// Calls function `name`.
pub(super) fn call(name: &str, args: Vec<TValue>, st: &mut State) -> Result<TValue, String> {
    let s = |x: String| Ok(TValue::Str(x));
    match name {
        "and" => {
            if args.is_empty() {
                return Err("wrong number of args for and".into());
            }
            let last = args.len() - 1;
            Ok(args
                .iter()
                .position(|a| !a.truthy())
                .map_or(args[last].clone(), |i| args[i].clone()))
        }
        "or" => {
            if args.is_empty() {
                return Err("wrong number of args for or".into());
            }
            let last = args.len() - 1;
            Ok(args
                .iter()
                .position(TValue::truthy)
                .map_or(args[last].clone(), |i| args[i].clone()))
        }
        "not" => {
            want(name, &args, 1)?;
            Ok(TValue::Bool(!args[0].truthy()))
        }
        "len" => {
            want(name, &args, 1)?;
            match &args[0] {
                TValue::Str(x) => Ok(TValue::Int(x.len() as i64)),
                TValue::Map(m) => Ok(TValue::Int(m.len() as i64)),
                TValue::List(l) => Ok(TValue::Int(l.len() as i64)),
                o => Err(format!("len of type {}", o.type_name())),
            }
        }
        "index" => {
            if args.is_empty() {
                return Err("wrong number of args for index".into());
            }
            let mut it = args.into_iter();
            let mut v = it.next().unwrap_or(TValue::Nil);
            for k in it {
                v = match (v, k) {
                    (TValue::Map(mut m), TValue::Str(k)) => {
                        m.remove(&k).unwrap_or(TValue::Str(String::new()))
                    }
                    (TValue::List(l), TValue::Int(i)) => {
                        let n = l.len();
                        usize::try_from(i)
                            .ok()
                            .and_then(|i| l.into_iter().nth(i))
                            .ok_or_else(|| format!("index out of range: {i} (len {n})"))?
                    }
                    (v, _) => return Err(format!("can't index item of type {}", v.type_name())),
                };
            }
            Ok(v)
        }
        "eq" => {
            if args.len() < 2 {
                return Err("missing argument for comparison".into());
            }
            for b in &args[1..] {
                if equal(&args[0], b)? {
                    return Ok(TValue::Bool(true));
                }
            }
            Ok(TValue::Bool(false))
        }
        "ne" => {
            want(name, &args, 2)?;
            Ok(TValue::Bool(!equal(&args[0], &args[1])?))
        }
        "lt" | "le" | "gt" | "ge" => {
            want(name, &args, 2)?;
            let (a, b) = (&args[0], &args[1]);
            if let (TValue::Float(x), TValue::Float(y)) = (a, b) {
                return Ok(TValue::Bool(match name {
                    "lt" => x < y,
                    "le" => x <= y,
                    "gt" => x > y,
                    _ => x >= y,
                }));
            }
            let o = cmp(a, b)?;
            Ok(TValue::Bool(match name {
                "lt" => o == Ordering::Less,
                "le" => o != Ordering::Greater,
                "gt" => o == Ordering::Greater,
                _ => o != Ordering::Less,
            }))
        }
        "print" => {
            let mut out = String::new();
            for (i, a) in args.iter().enumerate() {
                // Go adds a space between operands when neither is a string.
                if i > 0 && !matches!(a, TValue::Str(_)) && !matches!(args[i - 1], TValue::Str(_)) {
                    out.push(' ');
                }
                a.print(&mut out);
            }
            s(out)
        }
        "println" => {
            let parts: Vec<String> = args.iter().map(TValue::to_text).collect();
            s(parts.join(" ") + "\n")
        }
        "printf" => {
            if args.is_empty() {
                return Err("wrong number of args for printf".into());
            }
            let f = to_str(&args[0])?;
            s(sprintf(&f, &args[1..]))
        }
        "safeHtml" => {
            want(name, &args, 1)?;
            s(to_str(&args[0])?)
        }
        "html" => {
            let t: String = args.iter().map(TValue::to_text).collect();
            s(t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&#34;")
                .replace('\'', "&#39;"))
        }
        "js" => {
            let t: String = args.iter().map(TValue::to_text).collect();
            let mut o = String::new();
            for c in t.chars() {
                match c {
                    '\\' => o.push_str("\\\\"),
                    '\'' => o.push_str("\\'"),
                    '"' => o.push_str("\\\""),
                    '<' => o.push_str("\\u003C"),
                    '>' => o.push_str("\\u003E"),
                    '&' => o.push_str("\\u0026"),
                    '=' => o.push_str("\\u003D"),
                    '\n' => o.push_str("\\u000A"),
                    '\r' => o.push_str("\\u000D"),
                    '\t' => o.push_str("\\u0009"),
                    c => o.push(c),
                }
            }
            s(o)
        }
        "urlquery" => {
            let t: String = args.iter().map(TValue::to_text).collect();
            s(query_escape(&t))
        }
        "humanize" => {
            want(name, &args, 1)?;
            s(humanize(to_float(&args[0])?))
        }
        "humanize1024" => {
            want(name, &args, 1)?;
            let mut v = to_float(&args[0])?;
            if v.abs() <= 1.0 || !v.is_finite() {
                return s(go_g(v, Some(4)));
            }
            let mut prefix = "";
            for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
                if v.abs() < 1024.0 {
                    break;
                }
                prefix = p;
                v /= 1024.0;
            }
            s(format!("{}{prefix}", go_g(v, Some(4))))
        }
        "humanizePercentage" => {
            want(name, &args, 1)?;
            s(format!("{}%", go_g(to_float(&args[0])? * 100.0, Some(4))))
        }
        "humanizeDuration" => {
            want(name, &args, 1)?;
            s(humanize_duration(to_float(&args[0])?))
        }
        "humanizeTimestamp" => {
            want(name, &args, 1)?;
            let v = to_float(&args[0])?;
            if !v.is_finite() {
                return s(go_g(v, Some(4)));
            }
            s(go_time_string((v * 1e9) as i64 / 1_000_000))
        }
        "toTime" => {
            want(name, &args, 1)?;
            let v = to_float(&args[0])?;
            if !v.is_finite() {
                return Err(format!("cannot convert {} to time", go_g(v, None)));
            }
            s(go_time_string((v * 1e9) as i64 / 1_000_000))
        }
        "toUpper" => {
            want(name, &args, 1)?;
            s(to_str(&args[0])?.to_uppercase())
        }
        "toLower" => {
            want(name, &args, 1)?;
            s(to_str(&args[0])?.to_lowercase())
        }
        "title" => {
            want(name, &args, 1)?;
            let mut out = String::new();
            let mut prev_letter = false;
            for c in to_str(&args[0])?.chars() {
                let letter = c.is_alphanumeric() || c == '_' || c == '\'';
                if letter && !prev_letter {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                prev_letter = letter;
            }
            s(out)
        }
        "match" => {
            want(name, &args, 2)?;
            let re = regex::Regex::new(&to_str(&args[0])?).map_err(|e| e.to_string())?;
            Ok(TValue::Bool(re.is_match(&to_str(&args[1])?)))
        }
        "reReplaceAll" => {
            want(name, &args, 3)?;
            let re = regex::Regex::new(&to_str(&args[0])?).map_err(|e| e.to_string())?;
            let repl = to_str(&args[1])?;
            s(re.replace_all(&to_str(&args[2])?, repl.as_str())
                .into_owned())
        }
        "query" => {
            want(name, &args, 1)?;
            let q = to_str(&args[0])?;
            let Some(f) = st.ctx.query else {
                return Err("query is not available in this context".into());
            };
            let res = f(&q)?;
            Ok(TValue::List(
                res.into_iter()
                    .map(|smp| {
                        let mut m = BTreeMap::new();
                        m.insert(
                            "Labels".to_string(),
                            TValue::str_map(
                                smp.labels
                                    .iter()
                                    .map(|l| (l.name.as_str(), l.value.as_str())),
                            ),
                        );
                        m.insert("Value".to_string(), TValue::Float(smp.value));
                        TValue::Map(m)
                    })
                    .collect(),
            ))
        }
        "first" => {
            want(name, &args, 1)?;
            match &args[0] {
                TValue::List(l) => l
                    .first()
                    .cloned()
                    .ok_or_else(|| "first() called on vector with no elements".to_string()),
                o => Err(format!("first() called on {}", o.type_name())),
            }
        }
        "value" => {
            want(name, &args, 1)?;
            Ok(TValue::Float(sample_parts(&args[0])?.1))
        }
        "label" => {
            want(name, &args, 2)?;
            let l = to_str(&args[0])?;
            let (m, _) = sample_parts(&args[1])?;
            Ok(m.get(&l).cloned().unwrap_or(TValue::Str(String::new())))
        }
        "strvalue" => {
            want(name, &args, 1)?;
            let (m, _) = sample_parts(&args[0])?;
            Ok(m.get("__value__")
                .cloned()
                .unwrap_or(TValue::Str(String::new())))
        }
        "sortByLabel" => {
            want(name, &args, 2)?;
            let l = to_str(&args[0])?;
            let TValue::List(mut v) = args[1].clone() else {
                return Err("sortByLabel expects a query result".into());
            };
            let key = |x: &TValue| -> String {
                sample_parts(x)
                    .ok()
                    .and_then(|(m, _)| m.get(&l).map(TValue::to_text))
                    .unwrap_or_default()
            };
            v.sort_by_key(key);
            Ok(TValue::List(v))
        }
        "stripPort" => {
            want(name, &args, 1)?;
            let hp = to_str(&args[0])?;
            s(strip_port(&hp))
        }
        "stripDomain" => {
            want(name, &args, 1)?;
            let hp = to_str(&args[0])?;
            let (host, port) = match split_host_port(&hp) {
                Some((h, p)) => (h.to_string(), Some(p.to_string())),
                None => (hp.clone(), None),
            };
            if host.parse::<std::net::IpAddr>().is_ok() {
                return s(hp);
            }
            let short = host.split('.').next().unwrap_or("").to_string();
            s(match port {
                Some(p) => format!("{short}:{p}"),
                None => short,
            })
        }
        "args" => {
            let mut m = BTreeMap::new();
            for (i, a) in args.into_iter().enumerate() {
                m.insert(format!("arg{i}"), a);
            }
            Ok(TValue::Map(m))
        }
        "graphLink" => {
            want(name, &args, 1)?;
            s(format!(
                "/graph?g0.expr={}&g0.tab=0",
                query_escape(&to_str(&args[0])?)
            ))
        }
        "tableLink" => {
            want(name, &args, 1)?;
            s(table_link(&to_str(&args[0])?))
        }
        "externalURL" => {
            want(name, &args, 0)?;
            s(st.ctx.external_url.to_string())
        }
        "pathPrefix" => {
            want(name, &args, 0)?;
            let u = st.ctx.external_url;
            let after = u.split_once("://").map_or(u, |(_, r)| r);
            s(after
                .find('/')
                .map_or(String::new(), |i| after[i..].to_string()))
        }
        "parseDuration" => {
            want(name, &args, 1)?;
            let d = to_str(&args[0])?;
            let ms = crate::lexer::parse_duration_ms(&d)
                .ok_or_else(|| format!("not a valid duration string: {d:?}"))?;
            Ok(TValue::Float(ms as f64 / 1000.0))
        }
        _ => Err(format!("function {name:?} not defined")),
    }
}

/// `/graph?g0.expr=<expr>&g0.tab=1`, Prometheus's table link for an expression.
pub fn table_link(expr: &str) -> String {
    format!("/graph?g0.expr={}&g0.tab=1", query_escape(expr))
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                o.push(b as char)
            }
            b' ' => o.push('+'),
            _ => {
                let _ = write!(o, "%{b:02X}");
            }
        }
    }
    o
}

fn split_host_port(hp: &str) -> Option<(&str, &str)> {
    if let Some(rest) = hp.strip_prefix('[') {
        let (h, p) = rest.split_once("]:")?;
        return Some((h, p));
    }
    let (h, p) = hp.rsplit_once(':')?;
    if h.contains(':') {
        return None;
    }
    Some((h, p))
}

fn strip_port(hp: &str) -> String {
    match split_host_port(hp) {
        Some((h, _)) => h.to_string(),
        None => hp.to_string(),
    }
}

fn humanize(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return go_g(v, Some(4));
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", go_g(v, Some(4)))
}

fn humanize_duration(mut v: f64) -> String {
    if !v.is_finite() {
        return go_g(v, Some(4));
    }
    if v == 0.0 {
        return format!("{}s", go_g(v, Some(4)));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        v = v.abs();
        let d = v as i64;
        let (secs, mins, hours, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        if days != 0 {
            return format!("{sign}{days}d {hours}h {mins}m {secs}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {mins}m {secs}s");
        }
        if mins != 0 {
            return format!("{sign}{mins}m {secs}s");
        }
        return format!("{sign}{}s", go_g(v, Some(4)));
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", go_g(v, Some(4)))
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn split_ms(ms: i64) -> (i64, u32, u32, i64, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    (y, mo, d, sod / 3600, (sod / 60) % 60, sod % 60, frac)
}

/// Go's `time.Time.String()` for a UTC time: `2006-01-02 15:04:05.999 +0000 UTC`.
pub fn go_time_string(ms: i64) -> String {
    let (y, mo, d, h, mi, s, frac) = split_ms(ms);
    let mut out = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
    if frac != 0 {
        let f = format!("{frac:03}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    out
}

/// RFC 3339 with milliseconds in UTC, as Alertmanager's API shows times.
pub fn rfc3339(ms: i64) -> String {
    let (y, mo, d, h, mi, s, frac) = split_ms(ms);
    if frac == 0 {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:03}Z")
    }
}

/// Go's `fmt.Sprintf` for the common verbs (`%s %v %d %f %e %g %q %x %t %%`, width,
/// precision, `-` and `0` flags).
pub fn sprintf(fmt: &str, args: &[TValue]) -> String {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    let mut ai = 0;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut minus, mut zero, mut plus) = (false, false, false);
        while let Some(&f) = it.peek() {
            match f {
                '-' => minus = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' | '#' => {}
                _ => break,
            }
            it.next();
        }
        let mut width = String::new();
        while let Some(&d) = it.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            it.next();
        }
        let mut prec: Option<usize> = None;
        if it.peek() == Some(&'.') {
            it.next();
            let mut p = String::new();
            while let Some(&d) = it.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                it.next();
            }
            prec = Some(p.parse::<usize>().unwrap_or(0).min(1000));
        }
        let Some(verb) = it.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(a) = args.get(ai) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        ai += 1;
        let bad = || format!("%!{verb}({}={})", a.type_name(), a.to_text());
        let mut text = match (verb, a) {
            ('v', _) => a.to_text(),
            ('s', TValue::Str(x)) => match prec {
                Some(p) => x.chars().take(p).collect(),
                None => x.clone(),
            },
            ('s', TValue::Map(_) | TValue::List(_) | TValue::Nil) => a.to_text(),
            // A histogram is a Go Stringer: `%s` and `%q` use its `String()`.
            ('s', TValue::Histogram(_)) => a.to_text(),
            ('q', TValue::Histogram(_)) => format!("{:?}", a.to_text()),
            ('q', TValue::Str(x)) => format!("{x:?}"),
            ('t', TValue::Bool(b)) => b.to_string(),
            ('d', TValue::Int(i)) => i.to_string(),
            ('x', TValue::Int(i)) => format!("{i:x}"),
            ('X', TValue::Int(i)) => format!("{i:X}"),
            ('x', TValue::Str(x)) => x.bytes().map(|b| format!("{b:02x}")).collect(),
            ('f' | 'F', TValue::Float(f)) => {
                go_special(*f).unwrap_or_else(|| format!("{:.*}", prec.unwrap_or(6), f))
            }
            ('e', TValue::Float(f)) => {
                go_special(*f).unwrap_or_else(|| go_e(*f, prec.unwrap_or(6)))
            }
            ('g', TValue::Float(f)) => go_g(*f, prec),
            _ => bad(),
        };
        if plus && matches!(a, TValue::Float(_) | TValue::Int(_)) && !text.starts_with(['-', '+']) {
            text.insert(0, '+');
        }
        // Widths are capped (Go has no cap) so a template cannot allocate without bound.
        let w: usize = width.parse::<usize>().unwrap_or(0).min(1 << 16);
        let n = text.chars().count();
        if n < w {
            let pad = w - n;
            if minus {
                text.extend(std::iter::repeat_n(' ', pad));
            } else if zero && matches!(a, TValue::Float(_) | TValue::Int(_)) {
                let at = usize::from(text.starts_with(['-', '+']));
                text.insert_str(at, &"0".repeat(pad));
            } else {
                text.insert_str(0, &" ".repeat(pad));
            }
        }
        out.push_str(&text);
    }
    if ai < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[ai..]
            .iter()
            .map(|a| format!("{}={}", a.type_name(), a.to_text()))
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

fn go_special(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("NaN".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        })
    } else {
        None
    }
}

fn go_e(f: f64, prec: usize) -> String {
    let s = format!("{f:.prec$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanizers_match_prometheus() {
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize(1234.0), "1.234k");
        assert_eq!(humanize(1_234_567.0), "1.235M");
        assert_eq!(humanize(0.001234), "1.234m");
        assert_eq!(humanize(12.0), "12");
        assert_eq!(humanize_duration(0.0), "0s");
        assert_eq!(humanize_duration(1.0), "1s");
        assert_eq!(humanize_duration(60.0), "1m 0s");
        assert_eq!(humanize_duration(3600.0), "1h 0m 0s");
        assert_eq!(humanize_duration(90061.0), "1d 1h 1m 1s");
        assert_eq!(humanize_duration(0.0015), "1.5ms");
        assert_eq!(humanize_duration(-61.0), "-1m 1s");
        assert_eq!(
            go_time_string(1_435_065_584_128),
            "2015-06-23 13:19:44.128 +0000 UTC"
        );
        assert_eq!(go_time_string(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.500Z");
    }

    #[test]
    fn printf_verbs() {
        assert_eq!(sprintf("%.2f", &[TValue::Float(1.2345)]), "1.23");
        assert_eq!(sprintf("%d items", &[TValue::Int(3)]), "3 items");
        assert_eq!(
            sprintf("%s=%v", &[TValue::Str("a".into()), TValue::Float(0.5)]),
            "a=0.5"
        );
        assert_eq!(sprintf("%d", &[TValue::Float(1.5)]), "%!d(float64=1.5)");
        assert_eq!(
            sprintf("%s %s", &[TValue::Str("a".into())]),
            "a %!s(MISSING)"
        );
        assert_eq!(
            sprintf("%5s|%-3d|", &[TValue::Str("ab".into()), TValue::Int(7)]),
            "   ab|7  |"
        );
        assert_eq!(sprintf("%e", &[TValue::Float(1234.5)]), "1.234500e+03");
        let h =
            exposition::histogram::FloatHistogram::parse_notation("{{count:2 sum:3 buckets:[2]}}")
                .unwrap();
        let h = TValue::Histogram(std::sync::Arc::new(h));
        assert_eq!(
            sprintf("%v|%s|%q", &[h.clone(), h.clone(), h]),
            "{count:2, sum:3, (0.5,1]:2}|{count:2, sum:3, (0.5,1]:2}|\"{count:2, sum:3, (0.5,1]:2}\""
        );
    }

    #[test]
    fn host_port() {
        assert_eq!(strip_port("example.com:9090"), "example.com");
        assert_eq!(strip_port("[::1]:9090"), "::1");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(query_escape("up == 0"), "up+%3D%3D+0");
    }
}
