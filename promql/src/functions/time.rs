//! Calendar fields of a timestamp (UTC): the date functions.

/// Calendar date and time of day, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Day of week, 0 = Sunday.
    pub weekday: u32,
    /// Day of year, 1–366.
    pub yday: u32,
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in `month` of `year`.
pub fn days_in_month_of(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if is_leap(year) {
                29
            } else {
                28
            }
        }
    }
}

/// Seconds since 1970 of the instant Go's `time.Unix(int64(f), 0).UTC()` stands for, on
/// the amd64 builds Prometheus ships: `int64(f)` truncates toward zero and turns NaN, ±Inf
/// and anything out of range into `math.MinInt64`; Go then counts seconds from its
/// absolute zero year in a `uint64` reached by wrapping `int64` arithmetic, so instants
/// before that year wrap into the far future (NaN lands in December 292277026596).
pub fn go_unix_seconds(secs: f64) -> i128 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    // Seconds from Go's absolute zero year to 1970.
    const UNIX_TO_ABSOLUTE: i64 = 9_223_372_028_715_321_600;
    let s = if secs.is_nan() || !(-TWO_63..TWO_63).contains(&secs) {
        i64::MIN
    } else {
        secs as i64
    };
    let abs = s.wrapping_add(UNIX_TO_ABSOLUTE) as u64;
    abs as i128 - UNIX_TO_ABSOLUTE as i128
}

/// Breaks Unix seconds into fields the way Prometheus's date functions do (see
/// [`go_unix_seconds`]: truncation toward zero, Go's treatment of NaN and ±Inf).
pub fn civil(secs: f64) -> Civil {
    let u = go_unix_seconds(secs);
    let days = u.div_euclid(86_400) as i64;
    let rem = u.rem_euclid(86_400) as i64;
    // Howard Hinnant's days-from-civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let mut y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    if m <= 2 {
        y += 1;
    }
    let mut yday = d;
    for mm in 1..m {
        yday += days_in_month_of(y, mm);
    }
    Civil {
        year: y,
        month: m,
        day: d,
        hour: (rem / 3600) as u32,
        minute: ((rem % 3600) / 60) as u32,
        weekday: (days + 4).rem_euclid(7) as u32,
        yday,
    }
}

/// The date function called `name` applied to Unix seconds, if there is one.
pub fn date_fn(name: &str, secs: f64) -> Option<f64> {
    let c = civil(secs);
    Some(match name {
        "day_of_month" => c.day as f64,
        "day_of_week" => c.weekday as f64,
        "day_of_year" => c.yday as f64,
        "days_in_month" => days_in_month_of(c.year, c.month) as f64,
        "hour" => c.hour as f64,
        "minute" => c.minute as f64,
        "month" => c.month as f64,
        "year" => c.year as f64,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_fields() {
        let c = civil(0.0);
        assert_eq!(
            (c.year, c.month, c.day, c.weekday, c.yday),
            (1970, 1, 1, 4, 1)
        );
    }

    #[test]
    fn leap_day() {
        // 2020-02-29T12:34:00Z
        let c = civil(1_582_979_640.0);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (2020, 2, 29, 12, 34)
        );
        assert_eq!(date_fn("days_in_month", 1_582_979_640.0), Some(29.0));
        assert_eq!(date_fn("day_of_year", 1_582_979_640.0), Some(60.0));
    }

    #[test]
    fn nan_and_infinities_follow_go_on_amd64() {
        // Prometheus answers minute(NaN) = 30, day_of_month(NaN) = 4,
        // days_in_month(NaN) = 31: int64(NaN) is MinInt64, which wraps into year
        // 292277026596.
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e19] {
            let c = civil(x);
            assert_eq!(
                (c.year, c.month, c.day, c.hour, c.minute),
                (292_277_026_596, 12, 4, 15, 30),
                "{x}"
            );
            assert_eq!(date_fn("days_in_month", x), Some(31.0));
        }
        // Large but in range: no wrap.
        assert_eq!(go_unix_seconds(9e18), 9_000_000_000_000_000_000);
        assert_eq!(go_unix_seconds(-2.5), -2);
    }

    #[test]
    fn before_epoch() {
        let c = civil(-1.0);
        assert_eq!((c.year, c.month, c.day, c.hour), (1969, 12, 31, 23));
    }
}
