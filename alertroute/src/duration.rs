//! Prometheus duration strings (`30s`, `1h30m`, `2d`, `1w`, `100ms`) in milliseconds.
//!
//! Units must appear in the order `y w d h m s ms`, each at most once, with integer counts;
//! `0` alone is allowed. Fractions (`1.5m`) are rejected, as in Alertmanager.
//!
//! ```
//! use alertroute::duration::{parse_duration, format_duration};
//! assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000);
//! assert_eq!(format_duration(5_400_000), "1h30m");
//! assert!(parse_duration("1.5m").is_err());
//! ```

use crate::error::DurationError;

const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses a Prometheus duration into milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, DurationError> {
    let err = || DurationError(s.to_string());
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(err());
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut next_unit = 0usize;
    let mut total: i64 = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(err());
        }
        let n: i64 = s[start..i].parse().map_err(|_| err())?;
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[ustart..i];
        let pos = UNITS[next_unit..]
            .iter()
            .position(|(u, _)| *u == unit)
            .ok_or_else(err)?;
        let mult = UNITS[next_unit + pos].1;
        next_unit += pos + 1;
        total = n
            .checked_mul(mult)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
    }
    Ok(total)
}

/// Formats milliseconds the way Prometheus prints durations (`1h30m`, `0s`).
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = ms;
    if rest < 0 {
        out.push('-');
        rest = -rest;
    }
    for (u, m) in UNITS {
        if rest >= m {
            out.push_str(&(rest / m).to_string());
            out.push_str(u);
            rest %= m;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_in_order() {
        assert_eq!(parse_duration("30s").unwrap(), 30_000);
        assert_eq!(parse_duration("5m").unwrap(), 300_000);
        assert_eq!(parse_duration("4h").unwrap(), 14_400_000);
        assert_eq!(parse_duration("2d").unwrap(), 172_800_000);
        assert_eq!(parse_duration("1w").unwrap(), 604_800_000);
        assert_eq!(parse_duration("1y").unwrap(), 31_536_000_000);
        assert_eq!(parse_duration("1m30s250ms").unwrap(), 90_250);
        assert_eq!(parse_duration("0").unwrap(), 0);
        assert_eq!(parse_duration("0s").unwrap(), 0);
    }

    #[test]
    fn rejects_bad_strings() {
        for s in [
            "",
            "1.5m",
            "s",
            "5",
            "1s1m",
            "1m1m",
            "-1s",
            "1 s",
            "1x",
            "99999999999999999y",
        ] {
            let e = parse_duration(s).unwrap_err();
            let want = if s.is_empty() {
                "empty duration string".to_string()
            } else {
                format!("not a valid duration string: {s:?}")
            };
            assert_eq!(e.to_string(), want);
        }
    }

    #[test]
    fn format_round_trips() {
        for ms in [0, 1, 999, 1000, 61_000, 5_400_000, 90_061_001] {
            assert_eq!(parse_duration(&format_duration(ms)).unwrap(), ms);
        }
    }
}
