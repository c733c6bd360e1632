//! Request parameters: form decoding and Prometheus's time and duration syntax.

/// Parameters of one request: the URL query string plus, for a form-encoded POST, the
/// body. Repeated keys (`match[]`) keep every value, in order.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes `query` (the part after `?`) and an optional form body.
    pub fn parse(query: &str, form_body: Option<&[u8]>) -> Params {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if let Some(b) = form_body {
            pairs.extend(form_urlencoded::parse(b).map(|(k, v)| (k.into_owned(), v.into_owned())));
        }
        Params { pairs }
    }

    /// The first value of `key` (Go's `r.FormValue`: body values come before URL values
    /// there; a key given in both is rare enough that first-seen is fine).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The earliest time the API accepts (Prometheus's `minTime`), in ms.
pub const MIN_TIME_MS: i64 = -9_223_372_036_854_775;
/// The latest time the API accepts (Prometheus's `maxTime`), in ms.
pub const MAX_TIME_MS: i64 = 9_223_372_036_854_775;

/// Parses a timestamp as the API does: Unix seconds with an optional fraction
/// (`1435781451.781`) or RFC 3339 (`2015-07-01T20:10:51.781Z`). Returns ms.
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return None;
        }
        let secs = f.trunc();
        let ms = (secs * 1000.0) + ((f - secs) * 1000.0).round();
        if ms.abs() > 9.2e15 {
            return None;
        }
        return Some(ms as i64);
    }
    let ts: jiff::Timestamp = s.parse().ok()?;
    Some(ts.as_millisecond())
}

/// Parses a duration as the API does: float seconds (`15`, `0.5`) or a Prometheus
/// duration literal (`1m30s`). Returns ms.
pub fn parse_duration(s: &str) -> Option<i64> {
    if let Ok(f) = s.parse::<f64>() {
        let ms = (f * 1000.0).round();
        if !f.is_finite() || ms.abs() > 9.2e15 {
            return None;
        }
        return Some(ms as i64);
    }
    promql::lexer::parse_duration_ms(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1435781451.781"), Some(1_435_781_451_781));
        assert_eq!(parse_time("10"), Some(10_000));
        assert_eq!(
            parse_time("2015-07-01T20:10:51.781Z"),
            Some(1_435_781_451_781)
        );
        assert_eq!(parse_time("nope"), None);
        assert_eq!(parse_time("NaN"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15"), Some(15_000));
        assert_eq!(parse_duration("0.5"), Some(500));
        assert_eq!(parse_duration("1m30s"), Some(90_000));
        assert_eq!(parse_duration("x"), None);
    }

    #[test]
    fn repeated_keys_from_query_and_body() {
        let p = Params::parse("match[]=up&start=1", Some(b"match[]=a%7Bb%3D%22c%22%7D"));
        assert_eq!(p.all("match[]"), vec!["up", "a{b=\"c\"}"]);
        assert_eq!(p.get("start"), Some("1"));
        assert_eq!(p.get("end"), None);
    }
}
