//! Trimming: the observations below or above a bound, for PromQL's experimental `</`
//! (keep what is below) and `>/` (keep what is above) operators.
//!
//! Buckets wholly on the kept side stay, buckets wholly on the other side are emptied,
//! and the bucket holding the bound keeps an interpolated share (exponentially for
//! exponential buckets, linearly for custom buckets and the zero bucket). When anything
//! was cut, count and sum are re-estimated from what is left, each bucket's observations
//! taken at the midpoint of its kept part. Buckets with an infinite bound have no known
//! distribution and are kept or dropped whole, with a few special cases as in Prometheus.

use super::buckets::Bucket;
use super::gomath::go_log2;
use super::FloatHistogram;

/// Which side of the bound a trim keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Observations below the bound (`</`).
    Below,
    /// Observations above the bound (`>/`).
    Above,
}

impl FloatHistogram {
    /// PromQL's `h </ bound`: only the observations below `bound`.
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let h = FloatHistogram::parse_notation(
    ///     "{{schema:0 sum:123.75 count:34 z_bucket:1 z_bucket_w:0.001 buckets:[2 4 8 16] n_buckets:[1 2]}}").unwrap();
    /// let t = h.trim_upper(2.0);
    /// assert_eq!(t.count, 10.0);
    /// assert_eq!(t.positive_buckets, vec![2.0, 4.0]);
    /// assert!((t.sum - 3.5355339059327373).abs() < 1e-12);
    /// ```
    pub fn trim_upper(&self, bound: f64) -> FloatHistogram {
        self.trim(bound, Keep::Below)
    }

    /// PromQL's `h >/ bound`: only the observations above `bound`.
    ///
    /// ```
    /// use exposition::histogram::FloatHistogram;
    /// let h = FloatHistogram::parse_notation(
    ///     "{{schema:0 sum:123.75 count:34 z_bucket:1 z_bucket_w:0.001 buckets:[2 4 8 16] n_buckets:[1 2]}}").unwrap();
    /// assert_eq!(h.trim_lower(2.0).to_string(), "{{count:24 sum:113.13708498984761 z_bucket_w:0.001 offset:2 buckets:[8 16]}}");
    /// ```
    pub fn trim_lower(&self, bound: f64) -> FloatHistogram {
        self.trim(bound, Keep::Above)
    }

    fn trim(&self, rhs: f64, keep: Keep) -> FloatHistogram {
        let mut out = self.clone();
        let linear = self.uses_custom_buckets();
        let (mut count, mut sum) = (0.0, 0.0);
        let mut cut = false;
        let mut seen = [false, false]; // [negative, positive] populated buckets
        for positive in [true, false] {
            let buckets: Vec<Bucket> = if positive {
                self.positive_bucket_iter().collect()
            } else {
                self.negative_bucket_iter().collect()
            };
            let counts = if positive {
                &mut out.positive_buckets
            } else {
                &mut out.negative_buckets
            };
            for (i, b) in buckets.iter().enumerate() {
                if b.count == 0.0 {
                    continue;
                }
                seen[positive as usize] = true;
                let (whole, partial) = match keep {
                    Keep::Below => (b.upper <= rhs, b.lower < rhs),
                    Keep::Above => (b.lower >= rhs, b.upper > rhs),
                };
                if whole {
                    count += b.count;
                    sum += midpoint(b.lower, b.upper, positive, linear) * b.count;
                } else if partial {
                    let (kept, mid) = trim_bucket(b, rhs, keep, positive, linear);
                    count += kept;
                    sum += mid * kept;
                    if counts[i] != kept {
                        counts[i] = kept;
                        cut = true;
                    }
                } else {
                    counts[i] = 0.0;
                    cut = true;
                }
            }
        }
        if out.zero_count > 0.0 {
            let (kept, mid) = trim_zero_bucket(&out.zero_bucket(), rhs, seen[0], seen[1], keep);
            if out.zero_count != kept {
                out.zero_count = kept;
                cut = true;
            }
            sum += mid * kept;
            count += kept;
        }
        if cut {
            out.count = count;
            out.sum = sum;
            out.compact(0);
        }
        out
    }
}

/// The representative value of `[lower, upper]`: arithmetic mean for custom buckets,
/// geometric mean (signed) for exponential ones; infinite ends fall back to the finite
/// end (or half of it).
fn midpoint(lower: f64, upper: f64, positive: bool, linear: bool) -> f64 {
    if lower.is_infinite() {
        if upper.is_infinite() {
            return 0.0;
        }
        return if upper > 0.0 { upper / 2.0 } else { upper };
    }
    if upper.is_infinite() {
        return lower;
    }
    if linear {
        return (lower + upper) / 2.0;
    }
    let g = (lower * upper).abs().sqrt();
    if positive {
        g
    } else {
        -g
    }
}

/// The share of `b`'s count at or below `rhs`.
fn share_below(b: &Bucket, rhs: f64, positive: bool, linear: bool) -> f64 {
    if rhs <= b.lower {
        return 0.0;
    }
    if rhs >= b.upper {
        return b.count;
    }
    let fraction = if linear {
        (rhs - b.lower) / (b.upper - b.lower)
    } else {
        let (ll, lu, lv) = (
            go_log2(b.lower.abs()),
            go_log2(b.upper.abs()),
            go_log2(rhs.abs()),
        );
        if positive {
            (lv - ll) / (lu - ll)
        } else {
            1.0 - (lv - lu) / (ll - lu)
        }
    };
    b.count * fraction
}

/// Kept count and midpoint of the kept part of the bucket holding the bound.
fn trim_bucket(b: &Bucket, rhs: f64, keep: Keep, positive: bool, linear: bool) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY || b.upper == f64::INFINITY {
        return trim_infinite_bucket(b, rhs, keep);
    }
    let below = share_below(b, rhs, positive, linear);
    match keep {
        Keep::Below => (below, midpoint(b.lower, rhs, positive, linear)),
        Keep::Above => (b.count - below, midpoint(rhs, b.upper, positive, linear)),
    }
}

/// Buckets with an infinite bound (custom buckets only): their distribution is unknown,
/// so they are kept or dropped whole, except that a first bucket with a positive upper
/// bound is taken to start at zero and interpolated linearly.
fn trim_infinite_bucket(b: &Bucket, rhs: f64, keep: Keep) -> (f64, f64) {
    let finite_or_zero = |x: f64| if x.is_infinite() { 0.0 } else { x };
    if b.lower == f64::NEG_INFINITY {
        return match keep {
            Keep::Below => {
                if rhs >= b.upper {
                    (b.count, 0.0)
                } else if rhs > 0.0 && b.upper > 0.0 && b.upper != f64::INFINITY {
                    (b.count * rhs / b.upper, rhs / 2.0)
                } else if b.upper <= 0.0 {
                    (b.count, rhs)
                } else {
                    (0.0, finite_or_zero(b.upper))
                }
            }
            Keep::Above => {
                if rhs <= b.lower {
                    (b.count, 0.0)
                } else if rhs >= 0.0 && b.upper > rhs && b.upper != f64::INFINITY {
                    (b.count * (1.0 - rhs / b.upper), (rhs + b.upper) / 2.0)
                } else {
                    (0.0, finite_or_zero(b.upper))
                }
            }
        };
    }
    match keep {
        Keep::Below => (0.0, finite_or_zero(b.lower)),
        Keep::Above if rhs >= b.lower => (b.count, rhs),
        Keep::Above => (0.0, finite_or_zero(b.lower)),
    }
}

/// Kept count and midpoint of the zero bucket; it counts as `[0, t]` or `[-t, 0]` when
/// the histogram has populated buckets on one side only.
fn trim_zero_bucket(
    z: &Bucket,
    rhs: f64,
    has_negative: bool,
    has_positive: bool,
    keep: Keep,
) -> (f64, f64) {
    let (mut lower, mut upper) = (z.lower, z.upper);
    if has_negative && !has_positive {
        upper = 0.0;
    }
    if has_positive && !has_negative {
        lower = 0.0;
    }
    match keep {
        Keep::Below => {
            if rhs <= lower {
                (0.0, 0.0)
            } else if rhs >= upper {
                (z.count, (lower + upper) / 2.0)
            } else {
                (
                    z.count * (rhs - lower) / (upper - lower),
                    (lower + rhs) / 2.0,
                )
            }
        }
        Keep::Above => {
            if rhs <= lower {
                (z.count, (lower + upper) / 2.0)
            } else if rhs >= upper {
                (0.0, 0.0)
            } else {
                (
                    z.count * (upper - rhs) / (upper - lower),
                    (rhs + upper) / 2.0,
                )
            }
        }
    }
}
