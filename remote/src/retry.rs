//! When to try again: classifying HTTP answers, exponential backoff, and `Retry-After`.
//!
//! Nothing here sleeps or reads a clock. The caller passes `now_ms` and asks for the
//! delay; [`crate::WriteQueue`] uses these pieces to answer "when next?".
//!
//! ```text
//! status ──classify──► Success (2xx) | Retry (5xx, 429) | Drop (other 4xx, 1xx, 3xx)
//! Retry ──► Retry-After given? ── yes ──► that delay
//!                              └─ no ───► backoff: min, 2·min, 4·min, … capped at max
//! ```

/// What a sender should do with a request after an HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseClass {
    /// 2xx: delivered.
    Success,
    /// 5xx, or 429 when retrying on 429 is enabled: send the same body again later.
    Retry,
    /// Any other status (4xx other than 429, and 1xx/3xx): the receiver will never accept
    /// this body; drop it.
    Drop,
}

/// Classifies an HTTP status as remote-write 1.0 prescribes.
pub fn classify_status(status: u16, retry_on_429: bool) -> ResponseClass {
    match status {
        200..=299 => ResponseClass::Success,
        429 if retry_on_429 => ResponseClass::Retry,
        500..=599 => ResponseClass::Retry,
        _ => ResponseClass::Drop,
    }
}

/// Exponential backoff between `min_ms` and `max_ms`: each retry waits twice the
/// previous wait (a `Retry-After` delay counts as the previous wait), capped at `max_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    min_ms: i64,
    max_ms: i64,
    next_ms: i64,
}

impl Backoff {
    /// A backoff starting at `min_ms`, never above `max_ms` (both at least 0; `max_ms` is
    /// raised to `min_ms` if smaller).
    pub fn new(min_ms: i64, max_ms: i64) -> Backoff {
        let min_ms = min_ms.max(0);
        let max_ms = max_ms.max(min_ms);
        Backoff {
            min_ms,
            max_ms,
            next_ms: min_ms,
        }
    }

    /// The delay before the next retry, then doubles the one after. A `retry_after_ms`
    /// from the server replaces the computed delay (it is honoured even above `max_ms`;
    /// negative values count as 0).
    pub fn next_delay(&mut self, retry_after_ms: Option<i64>) -> i64 {
        let delay = match retry_after_ms {
            Some(r) => r.max(0),
            None => self.next_ms,
        };
        self.next_ms = delay.saturating_mul(2).clamp(self.min_ms, self.max_ms);
        delay
    }

    /// The delay the next retry would get without a `Retry-After`.
    pub fn peek(&self) -> i64 {
        self.next_ms
    }

    /// Back to `min_ms` (after a success).
    pub fn reset(&mut self) {
        self.next_ms = self.min_ms;
    }
}

/// Parses a `Retry-After` header value into a delay in milliseconds from `now_ms`: either
/// delay-seconds (`"120"`) or an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`, also the
/// obsolete RFC 850 and asctime forms). A date in the past gives 0. Anything else is
/// `None` (and the sender falls back to its backoff).
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<i64> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = v.parse().ok()?;
        return Some(secs.saturating_mul(1000));
    }
    let at = parse_http_date(v)?;
    Some(at.saturating_sub(now_ms).max(0))
}

/// Parses an HTTP date (RFC 9110 §5.6.7: IMF-fixdate, RFC 850, asctime) to ms since epoch.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        // Sun, 06 Nov 1994 08:49:37 GMT
        [_, d, m, y, t, "GMT"] => (d.parse().ok()?, month_num(m)?, y.parse().ok()?, *t),
        // Sunday, 06-Nov-94 08:49:37 GMT
        [_, dmy, t, "GMT"] => {
            let mut it = dmy.split('-');
            let d = it.next()?.parse().ok()?;
            let m = month_num(it.next()?)?;
            let y: i64 = it.next()?.parse().ok()?;
            if it.next().is_some() {
                return None;
            }
            // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
            (d, m, if y < 70 { 2000 + y } else { 1900 + y }, *t)
        }
        // Sun Nov  6 08:49:37 1994
        [_, m, d, t, y] => (d.parse().ok()?, month_num(m)?, y.parse().ok()?, *t),
        _ => return None,
    };
    let mut hms = time.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let mi: i64 = hms.next()?.parse().ok()?;
    let sec: i64 = hms.next()?.parse().ok()?;
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    if !(1..=9999).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000)
}

fn month_num(m: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS.iter().position(|&x| x == m).map(|i| i as i64 + 1)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(classify_status(200, true), ResponseClass::Success);
        assert_eq!(classify_status(204, true), ResponseClass::Success);
        assert_eq!(classify_status(500, true), ResponseClass::Retry);
        assert_eq!(classify_status(503, false), ResponseClass::Retry);
        assert_eq!(classify_status(429, true), ResponseClass::Retry);
        assert_eq!(classify_status(429, false), ResponseClass::Drop);
        assert_eq!(classify_status(400, true), ResponseClass::Drop);
        assert_eq!(classify_status(404, true), ResponseClass::Drop);
        assert_eq!(classify_status(302, true), ResponseClass::Drop);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let mut b = Backoff::new(30, 200);
        let got: Vec<i64> = (0..6).map(|_| b.next_delay(None)).collect();
        assert_eq!(got, [30, 60, 120, 200, 200, 200]);
        b.reset();
        assert_eq!(b.next_delay(None), 30);
    }

    #[test]
    fn retry_after_replaces_the_delay_and_seeds_the_next() {
        let mut b = Backoff::new(30, 5_000);
        assert_eq!(b.next_delay(Some(10_000)), 10_000);
        assert_eq!(b.next_delay(None), 5_000);
        assert_eq!(b.next_delay(Some(-5)), 0);
        assert_eq!(b.next_delay(None), 30);
    }

    #[test]
    fn retry_after_forms() {
        let now = 784_111_777_000; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("120", now), Some(120_000));
        assert_eq!(parse_retry_after(" 0 ", now), Some(0));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now),
            Some(3_000)
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", now),
            Some(60_000)
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:38 1994", now),
            Some(1_000)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(
            parse_retry_after("Sun, 32 Nov 1994 08:00:00 GMT", now),
            None
        );
    }

    #[test]
    fn epoch_dates() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480_000)
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600_000)
        );
    }
}
