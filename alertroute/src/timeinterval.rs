//! Time intervals: "is this instant inside the named interval?", in the interval's time zone.
//!
//! A named interval is a list of [`TimeSpec`]s (ORed). Inside a spec every present field must
//! contain the instant (ANDed); an absent field matches everything; a list of ranges within a
//! field is ORed. Time zones come from the bundled IANA database of the `jiff` crate, so no
//! system zoneinfo is needed.
//!
//! ```
//! use alertroute::timeinterval::{TimeSpec, TimeInterval};
//! let spec = TimeSpec::parse(&["09:00-17:00"], &["monday:friday"], &[], &[], &[], Some("Europe/Berlin")).unwrap();
//! let business = TimeInterval::new(vec![spec]);
//! // 2024-01-15 is a Monday; 10:00 UTC is 11:00 in Berlin.
//! assert!(business.contains(1_705_312_800_000));
//! // 20:00 UTC is 21:00 in Berlin: outside.
//! assert!(!business.contains(1_705_348_800_000));
//! ```

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::error::TimeIntervalError;

/// An inclusive range of integers (weekdays 0–6 with Sunday = 0, days ±1–31, months 1–12,
/// years), or minutes of the day where the end is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First value.
    pub begin: i32,
    /// Last value (inclusive), or the end minute (exclusive) for `times`.
    pub end: i32,
}

/// One specification inside a named interval.
#[derive(Debug, Clone)]
pub struct TimeSpec {
    /// Minutes of the day `[start, end)`.
    pub times: Option<Vec<Range>>,
    /// Weekdays, Sunday = 0.
    pub weekdays: Option<Vec<Range>>,
    /// Days of month; negative counts back from the month's end.
    pub days_of_month: Option<Vec<Range>>,
    /// Months 1–12.
    pub months: Option<Vec<Range>>,
    /// Years.
    pub years: Option<Vec<Range>>,
    /// The zone the instant is converted into (UTC when absent).
    pub location: Option<(String, TimeZone)>,
}

/// A named interval: a list of specs, any of which may contain the instant.
#[derive(Debug, Clone, Default)]
pub struct TimeInterval {
    specs: Vec<TimeSpec>,
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

impl TimeInterval {
    /// An interval made of `specs`.
    pub fn new(specs: Vec<TimeSpec>) -> TimeInterval {
        TimeInterval { specs }
    }

    /// The specs.
    pub fn specs(&self) -> &[TimeSpec] {
        &self.specs
    }

    /// Whether the instant (milliseconds since the epoch) is inside any spec.
    pub fn contains(&self, now_ms: i64) -> bool {
        self.specs.iter().any(|s| s.contains(now_ms))
    }
}

fn in_any(ranges: &Option<Vec<Range>>, v: i32) -> bool {
    match ranges {
        None => true,
        Some(rs) => rs.iter().any(|r| v >= r.begin && v <= r.end),
    }
}

impl TimeSpec {
    /// Builds a spec from its textual fields, validating them as Alertmanager does.
    ///
    /// `times` entries are `"HH:MM-HH:MM"`; an empty slice means the field is absent.
    pub fn parse(
        times: &[&str],
        weekdays: &[&str],
        days_of_month: &[&str],
        months: &[&str],
        years: &[&str],
        location: Option<&str>,
    ) -> Result<TimeSpec, TimeIntervalError> {
        let opt = |v: Vec<Range>| if v.is_empty() { None } else { Some(v) };
        let mut t = Vec::new();
        for s in times {
            let (a, b) = s
                .split_once('-')
                .ok_or_else(|| TimeIntervalError::BadTimestamp(s.to_string()))?;
            t.push(parse_time_range(a, b)?);
        }
        Ok(TimeSpec {
            times: opt(t),
            weekdays: opt(parse_list(weekdays, parse_weekday_range)?),
            days_of_month: opt(parse_list(days_of_month, parse_day_range)?),
            months: opt(parse_list(months, parse_month_range)?),
            years: opt(parse_list(years, parse_year_range)?),
            location: location.map(parse_location).transpose()?,
        })
    }

    /// Whether the spec contains the instant.
    pub fn contains(&self, now_ms: i64) -> bool {
        let Ok(ts) = Timestamp::from_millisecond(now_ms) else {
            return false;
        };
        let tz = match &self.location {
            Some((_, tz)) => tz.clone(),
            None => TimeZone::UTC,
        };
        let z = ts.to_zoned(tz);
        let minute = i32::from(z.hour()) * 60 + i32::from(z.minute());
        if let Some(ts) = &self.times {
            if !ts.iter().any(|r| minute >= r.begin && minute < r.end) {
                return false;
            }
        }
        if let Some(ds) = &self.days_of_month {
            let dim = i32::from(z.days_in_month());
            let day = i32::from(z.day());
            let hit = ds.iter().any(|r| {
                let begin = if r.begin < 0 {
                    dim + r.begin + 1
                } else {
                    r.begin
                };
                let end = if r.end < 0 { dim + r.end + 1 } else { r.end };
                if begin > dim {
                    return false;
                }
                let begin = begin.clamp(-dim, dim);
                let end = end.clamp(-dim, dim);
                day >= begin && day <= end
            });
            if !hit {
                return false;
            }
        }
        let weekday = i32::from(z.weekday().to_sunday_zero_offset());
        in_any(&self.weekdays, weekday)
            && in_any(&self.months, i32::from(z.month()))
            && in_any(&self.years, i32::from(z.year()))
    }
}

fn parse_list(
    items: &[&str],
    f: fn(&str) -> Result<Range, TimeIntervalError>,
) -> Result<Vec<Range>, TimeIntervalError> {
    items.iter().map(|s| f(s)).collect()
}

/// Parses `HH:MM` (two-digit hours, `24:00` allowed) into minutes of the day.
fn parse_clock(s: &str) -> Result<i32, TimeIntervalError> {
    let bad = || TimeIntervalError::BadTimestamp(s.to_string());
    if s == "24:00" {
        return Ok(1440);
    }
    let b = s.as_bytes();
    if b.len() != 5
        || b[2] != b':'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
    {
        return Err(bad());
    }
    let h: i32 = s[..2].parse().map_err(|_| bad())?;
    let m: i32 = s[3..].parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// A `times` entry: start inclusive, end exclusive, start < end.
pub fn parse_time_range(start: &str, end: &str) -> Result<Range, TimeIntervalError> {
    let b = parse_clock(start)?;
    let e = parse_clock(end)?;
    if b >= e {
        return Err(TimeIntervalError::TimeOrder);
    }
    Ok(Range { begin: b, end: e })
}

fn split_range(s: &str) -> (&str, &str) {
    // A leading '-' belongs to a negative number, so split on the first ':' only.
    match s.split_once(':') {
        Some((a, b)) => (a, b),
        None => (s, s),
    }
}

fn parse_weekday_range(s: &str) -> Result<Range, TimeIntervalError> {
    let (a, b) = split_range(s);
    let day = |x: &str| {
        let l = x.trim().to_ascii_lowercase();
        WEEKDAYS
            .iter()
            .position(|d| *d == l)
            .map(|i| i as i32)
            .ok_or_else(|| TimeIntervalError::BadValue {
                field: "weekdays",
                value: x.to_string(),
                reason: format!("{} is not a valid weekday", x.trim().to_ascii_lowercase()),
            })
    };
    let (b0, e0) = (day(a)?, day(b)?);
    if b0 > e0 {
        return Err(TimeIntervalError::DayOrder);
    }
    Ok(Range { begin: b0, end: e0 })
}

fn parse_int(field: &'static str, s: &str) -> Result<i32, TimeIntervalError> {
    s.trim().parse().map_err(|_| TimeIntervalError::BadValue {
        field,
        value: s.to_string(),
        reason: format!("strconv.Atoi: parsing {:?}: invalid syntax", s.trim()),
    })
}

fn parse_day_range(s: &str) -> Result<Range, TimeIntervalError> {
    let (a, b) = split_range(s);
    let (b0, e0) = (
        parse_int("days_of_month", a)?,
        parse_int("days_of_month", b)?,
    );
    let bad = |reason: &str| TimeIntervalError::BadValue {
        field: "days_of_month",
        value: s.to_string(),
        reason: reason.to_string(),
    };
    for d in [b0, e0] {
        if d == 0 || !(-31..=31).contains(&d) {
            return Err(bad(&format!(
                "{d} is not a valid day of the month: out of range"
            )));
        }
    }
    if b0 < 0 && e0 > 0 {
        // Mixed signs are allowed only as positive start, negative end.
        return Err(bad("end day must be negative if start day is negative"));
    }
    if (b0 > 0) == (e0 > 0) && b0 > e0 {
        return Err(bad(&format!(
            "end day {e0} is always before start day {b0}"
        )));
    }
    Ok(Range { begin: b0, end: e0 })
}

fn parse_month_range(s: &str) -> Result<Range, TimeIntervalError> {
    let (a, b) = split_range(s);
    let month = |x: &str| {
        let l = x.trim().to_ascii_lowercase();
        if let Some(i) = MONTHS.iter().position(|m| *m == l) {
            return Ok(i as i32 + 1);
        }
        // Alertmanager 0.25 takes any number (13 or 0 simply never matches).
        match l.parse::<i32>() {
            Ok(n) => Ok(n),
            Err(_) => Err(TimeIntervalError::BadValue {
                field: "months",
                value: x.to_string(),
                reason: format!("{} is not a valid month", x.trim().to_ascii_lowercase()),
            }),
        }
    };
    let (b0, e0) = (month(a)?, month(b)?);
    if b0 > e0 {
        return Err(TimeIntervalError::BadValue {
            field: "months",
            value: s.to_string(),
            reason: format!(
                "end month {} is before start month {}",
                b.trim().to_ascii_lowercase(),
                a.trim().to_ascii_lowercase()
            ),
        });
    }
    Ok(Range { begin: b0, end: e0 })
}

fn parse_year_range(s: &str) -> Result<Range, TimeIntervalError> {
    let (a, b) = split_range(s);
    let (b0, e0) = (parse_int("years", a)?, parse_int("years", b)?);
    if b0 > e0 {
        return Err(TimeIntervalError::BadValue {
            field: "years",
            value: s.to_string(),
            reason: format!("end year {e0} is before start year {b0}"),
        });
    }
    Ok(Range { begin: b0, end: e0 })
}

/// Resolves an IANA zone name (`UTC` and `Local` included) from the bundled database.
pub fn parse_location(name: &str) -> Result<(String, TimeZone), TimeIntervalError> {
    let tz = match name {
        "UTC" | "" => TimeZone::UTC,
        "Local" => TimeZone::system(),
        // Go reads zone files by exact name: `utc` or `europe/berlin` are unknown.
        n => TimeZone::get(n)
            .ok()
            .filter(|tz| tz.iana_name() == Some(n))
            .ok_or_else(|| TimeIntervalError::UnknownZone(n.to_string()))?,
    };
    Ok((name.to_string(), tz))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn spec(
        times: &[&str],
        weekdays: &[&str],
        dom: &[&str],
        months: &[&str],
        years: &[&str],
        loc: Option<&str>,
    ) -> TimeSpec {
        TimeSpec::parse(times, weekdays, dom, months, years, loc).unwrap()
    }

    #[test]
    fn times_are_start_inclusive_end_exclusive() {
        let s = spec(&["09:00-17:00"], &[], &[], &[], &[], None);
        assert!(!s.contains(ms("2024-03-01T08:59:59Z")));
        assert!(s.contains(ms("2024-03-01T09:00:00Z")));
        assert!(s.contains(ms("2024-03-01T16:59:59Z")));
        assert!(!s.contains(ms("2024-03-01T17:00:00Z")));
        let s = spec(&["23:00-24:00"], &[], &[], &[], &[], None);
        assert!(s.contains(ms("2024-03-01T23:59:00Z")));
    }

    #[test]
    fn weekdays_months_years() {
        let s = spec(&[], &["monday:friday"], &[], &[], &[], None);
        assert!(s.contains(ms("2024-01-15T12:00:00Z"))); // Monday
        assert!(!s.contains(ms("2024-01-14T12:00:00Z"))); // Sunday
        let s = spec(
            &[],
            &["Sunday"],
            &[],
            &["january:march", "12"],
            &["2024"],
            None,
        );
        assert!(s.contains(ms("2024-01-14T12:00:00Z")));
        assert!(!s.contains(ms("2023-01-15T12:00:00Z")));
        assert!(s.contains(ms("2024-12-29T12:00:00Z")));
        assert!(!s.contains(ms("2024-06-02T12:00:00Z")));
    }

    #[test]
    fn negative_days_count_from_month_end() {
        let s = spec(&[], &[], &["-3:-1"], &[], &[], None);
        assert!(s.contains(ms("2024-02-27T00:00:00Z"))); // leap February: 27..29
        assert!(!s.contains(ms("2024-02-26T00:00:00Z")));
        assert!(s.contains(ms("2023-02-26T00:00:00Z"))); // 26..28
        let s = spec(&[], &[], &["1:-1"], &[], &[], None);
        assert!(s.contains(ms("2024-02-29T00:00:00Z")));
        // A start past the month's end is skipped.
        let s = spec(&[], &[], &["31"], &[], &[], None);
        assert!(!s.contains(ms("2024-04-30T00:00:00Z")));
        assert!(s.contains(ms("2024-05-31T00:00:00Z")));
    }

    #[test]
    fn locations_shift_the_clock() {
        let s = spec(
            &["09:00-10:00"],
            &[],
            &[],
            &[],
            &[],
            Some("America/New_York"),
        );
        assert!(s.contains(ms("2024-01-15T14:30:00Z"))); // 09:30 EST
        assert!(s.contains(ms("2024-07-15T13:30:00Z"))); // 09:30 EDT
        assert!(!s.contains(ms("2024-07-15T14:30:00Z")));
    }

    #[test]
    fn errors_match_alertmanager() {
        let e = TimeSpec::parse(&["9:00-10:00"], &[], &[], &[], &[], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "couldn't parse timestamp 9:00, invalid format"
        );
        let e = TimeSpec::parse(&["10:00-10:00"], &[], &[], &[], &[], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "start time cannot be equal or greater than end time"
        );
        let e = TimeSpec::parse(&[], &["saturday:sunday"], &[], &[], &[], None).unwrap_err();
        assert_eq!(e.to_string(), "start day cannot be before end day");
        let e = TimeSpec::parse(&[], &[], &[], &[], &[], Some("Mars/Olympus")).unwrap_err();
        assert_eq!(e.to_string(), "unknown time zone Mars/Olympus");
        assert!(TimeSpec::parse(&[], &[], &["0"], &[], &[], None).is_err());
        assert!(TimeSpec::parse(&[], &[], &["-1:5"], &[], &[], None).is_err());
        // amtool 0.25 accepts out-of-range month numbers; such a range never matches.
        let m13 = TimeSpec::parse(&[], &[], &[], &["13"], &[], None).unwrap();
        assert!(!m13.contains(ms("2024-12-15T00:00:00Z")));
        let e = TimeSpec::parse(&[], &[], &[], &["march:january"], &[], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "months: end month january is before start month march"
        );
        for zone in ["utc", "europe/berlin", "local"] {
            let e = TimeSpec::parse(&[], &[], &[], &[], &[], Some(zone)).unwrap_err();
            assert_eq!(e.to_string(), format!("unknown time zone {zone}"));
        }
        assert!(TimeSpec::parse(&[], &["funday"], &[], &[], &[], None).is_err());
    }

    #[test]
    fn empty_spec_matches_always_and_interval_is_or() {
        let always = spec(&[], &[], &[], &[], &[], None);
        assert!(always.contains(0));
        let i = TimeInterval::new(vec![
            spec(&["01:00-02:00"], &[], &[], &[], &[], None),
            spec(&["05:00-06:00"], &[], &[], &[], &[], None),
        ]);
        assert!(i.contains(ms("2024-01-01T05:30:00Z")));
        assert!(!i.contains(ms("2024-01-01T03:30:00Z")));
        assert!(!TimeInterval::default().contains(0));
    }
}
