//! The data set both servers load: a deterministic OpenMetrics file with timestamps.
//!
//! Families (all prefixed `dt_`) cover what the query generator needs: counters with
//! resets, random-walk gauges with negative values, a classic histogram with integer and
//! fractional `le` bounds, an info-like metric for joins (one label value holds a newline),
//! gaps longer than the lookback, a NaN-valued gauge, and one family sampled exactly on the
//! 15 s grid, so that range and lookback boundaries coincide with samples. Every other
//! family is sampled off the grid (a per-instance phase in milliseconds).

use std::fmt::Write as _;

use super::rng::Rng;

/// First sample time of the data set, in milliseconds (2024-01-01T00:00:00Z, aligned to
/// Prometheus's 2 h block ranges).
pub const START_MS: i64 = 1_704_067_200_000;
/// Scrape interval of the data set, in milliseconds.
pub const INTERVAL_MS: i64 = 15_000;

/// Shape of the generated data.
#[derive(Debug, Clone, Copy)]
pub struct DataSpec {
    /// Seed of the values.
    pub seed: u64,
    /// Span in minutes.
    pub minutes: i64,
}

impl DataSpec {
    /// Time of the last sample, in milliseconds (at most; phases add below one interval).
    pub fn end_ms(&self) -> i64 {
        START_MS + self.minutes * 60_000
    }
}

/// Instances of every family; each has its own sampling phase.
pub const INSTANCES: [&str; 3] = ["i0", "i1", "i2"];
const PHASES_MS: [i64; 3] = [500, 3_250, 7_125];
/// Jobs of the job-labelled families.
pub const JOBS: [&str; 2] = ["api", "web"];
/// Bucket bounds of `dt_latency_seconds` as written in the file.
pub const LE: [&str; 5] = ["0.1", "0.25", "1", "2.5", "+Inf"];

fn ts(out: &mut String, t: i64) {
    let _ = write!(out, " {}.{:03}", t.div_euclid(1000), t.rem_euclid(1000));
}

fn num(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str(" NaN");
    } else {
        let _ = write!(out, " {v}");
    }
}

fn steps(spec: &DataSpec) -> i64 {
    spec.minutes * 60_000 / INTERVAL_MS
}

/// Writes the whole OpenMetrics file (ending in `# EOF`).
pub fn openmetrics(spec: &DataSpec) -> String {
    let mut rng = Rng::new(spec.seed);
    let mut o = String::new();
    let n = steps(spec);

    // Counter with resets.
    o.push_str("# TYPE dt_requests counter\n");
    for job in JOBS {
        for (ii, inst) in INSTANCES.iter().enumerate() {
            for method in ["GET", "POST"] {
                for code in ["200", "500"] {
                    let mut v = (rng.below(1000)) as f64;
                    let rate = 1.0 + rng.below(20) as f64;
                    for k in 0..n {
                        if rng.chance(0.004) {
                            v = rng.below(5) as f64;
                        } else {
                            v += (rng.unit() * rate * 2.0).floor();
                        }
                        let _ = write!(
                            o,
                            "dt_requests_total{{job=\"{job}\",instance=\"{inst}\",method=\"{method}\",code=\"{code}\"}}"
                        );
                        num(&mut o, v);
                        ts(&mut o, START_MS + k * INTERVAL_MS + PHASES_MS[ii]);
                        o.push('\n');
                    }
                }
            }
        }
    }

    // Random-walk gauge with negative values.
    o.push_str("# TYPE dt_temp_celsius gauge\n");
    for (ii, inst) in INSTANCES.iter().enumerate() {
        for sensor in ["a", "b"] {
            let mut v = rng.unit() * 20.0 - 10.0;
            for k in 0..n {
                v += (rng.unit() - 0.5) * 2.0;
                v = (v * 1000.0).round() / 1000.0;
                let _ = write!(
                    o,
                    "dt_temp_celsius{{instance=\"{inst}\",sensor=\"{sensor}\"}}"
                );
                num(&mut o, v);
                ts(&mut o, START_MS + k * INTERVAL_MS + PHASES_MS[ii]);
                o.push('\n');
            }
        }
    }

    // Classic histogram.
    o.push_str("# TYPE dt_latency_seconds histogram\n");
    for job in JOBS {
        for (ii, inst) in INSTANCES.iter().enumerate() {
            let mut counts = [0f64; 5];
            let mut sum = 0.0;
            let weights = [
                rng.unit(),
                rng.unit(),
                rng.unit(),
                rng.unit() * 0.3,
                rng.unit() * 0.1,
            ];
            for k in 0..n {
                if rng.chance(0.003) {
                    counts = [0.0; 5];
                    sum = 0.0;
                }
                let obs = rng.below(30);
                for _ in 0..obs {
                    let total: f64 = weights.iter().sum::<f64>().max(1e-9);
                    let mut x = rng.unit() * total;
                    let mut b = 0;
                    while b < 4 && x > weights[b] {
                        x -= weights[b];
                        b += 1;
                    }
                    for c in counts.iter_mut().skip(b) {
                        *c += 1.0;
                    }
                    let lo = [0.0, 0.1, 0.25, 1.0, 2.5][b];
                    let hi = [0.1, 0.25, 1.0, 2.5, 5.0][b];
                    sum += lo + (hi - lo) * rng.unit();
                }
                sum = (sum * 1000.0).round() / 1000.0;
                let t = START_MS + k * INTERVAL_MS + PHASES_MS[ii];
                for (b, le) in LE.iter().enumerate() {
                    let _ = write!(
                        o,
                        "dt_latency_seconds_bucket{{job=\"{job}\",instance=\"{inst}\",le=\"{le}\"}}"
                    );
                    num(&mut o, counts[b]);
                    ts(&mut o, t);
                    o.push('\n');
                }
                let _ = write!(
                    o,
                    "dt_latency_seconds_sum{{job=\"{job}\",instance=\"{inst}\"}}"
                );
                num(&mut o, sum);
                ts(&mut o, t);
                o.push('\n');
                let _ = write!(
                    o,
                    "dt_latency_seconds_count{{job=\"{job}\",instance=\"{inst}\"}}"
                );
                num(&mut o, counts[4]);
                ts(&mut o, t);
                o.push('\n');
            }
        }
    }

    // Up: 0/1 flapping gauge.
    o.push_str("# TYPE dt_up gauge\n");
    for job in JOBS {
        for (ii, inst) in INSTANCES.iter().enumerate() {
            let mut v = 1.0;
            for k in 0..n {
                if rng.chance(0.02) {
                    v = 1.0 - v;
                }
                let _ = write!(o, "dt_up{{job=\"{job}\",instance=\"{inst}\"}}");
                num(&mut o, v);
                ts(&mut o, START_MS + k * INTERVAL_MS + PHASES_MS[ii]);
                o.push('\n');
            }
        }
    }

    // Info-like metric for joins; one version holds a newline.
    o.push_str("# TYPE dt_build_info gauge\n");
    let versions = ["1.2.0", "1.3.0-rc.1", "a.b\\nc"];
    for (ii, inst) in INSTANCES.iter().enumerate() {
        for k in 0..n {
            let _ = write!(
                o,
                "dt_build_info{{instance=\"{inst}\",version=\"{}\"}} 1",
                versions[ii]
            );
            ts(&mut o, START_MS + k * INTERVAL_MS + PHASES_MS[ii]);
            o.push('\n');
        }
    }

    // Gaps longer than the lookback.
    o.push_str("# TYPE dt_gappy gauge\n");
    for (ii, inst) in INSTANCES.iter().enumerate() {
        let mut v = 50.0;
        for k in 0..n {
            v += (rng.unit() - 0.45) * 3.0;
            v = (v * 100.0).round() / 100.0;
            let minute = (k * INTERVAL_MS / 60_000) as usize;
            // A 12-minute gap every 40 minutes, shifted per instance.
            if (minute + ii * 13) % 40 < 12 {
                continue;
            }
            let _ = write!(o, "dt_gappy{{instance=\"{inst}\"}}");
            num(&mut o, v);
            ts(&mut o, START_MS + k * INTERVAL_MS + PHASES_MS[ii]);
            o.push('\n');
        }
    }

    // Exactly on the 15 s grid: boundaries coincide with samples.
    o.push_str("# TYPE dt_grid gauge\n");
    for inst in INSTANCES {
        let mut v = 0.0;
        for k in 0..n {
            v += rng.below(10) as f64;
            let _ = write!(o, "dt_grid{{instance=\"{inst}\"}}");
            num(&mut o, v);
            ts(&mut o, START_MS + k * INTERVAL_MS);
            o.push('\n');
        }
    }

    // A gauge with occasional NaN values and no labels.
    o.push_str("# TYPE dt_nan gauge\n");
    for k in 0..n {
        let v = if rng.chance(0.05) {
            f64::NAN
        } else {
            (rng.unit() * 100.0).round()
        };
        o.push_str("dt_nan");
        num(&mut o, v);
        ts(&mut o, START_MS + k * INTERVAL_MS + 1_000);
        o.push('\n');
    }
    o.push_str("# EOF\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_parseable() {
        let spec = DataSpec {
            seed: 3,
            minutes: 30,
        };
        let a = openmetrics(&spec);
        assert_eq!(a, openmetrics(&spec));
        assert!(a.ends_with("# EOF\n"));
        let mut samples = 0;
        for e in exposition::openmetrics::OpenMetricsParser::new(a.as_bytes()) {
            if let exposition::Entry::Sample(s) = e.expect("our own file parses") {
                assert!(s.timestamp.is_some());
                samples += 1;
            }
        }
        // 120 steps: 24 counters, 6 temps, 6*7 histogram, 6 up, 3 info, 3 grid, 1 nan,
        // plus gappy (fewer).
        assert!(samples > 120 * (24 + 6 + 42 + 6 + 3 + 3 + 1), "{samples}");
    }
}
