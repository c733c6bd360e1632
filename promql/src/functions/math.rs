//! Per-sample math: the functions that map one float to one float.

/// Go's `math.Max`: +Inf if either is +Inf (even against NaN), else NaN if either is
/// NaN; +0 beats -0.
pub fn go_max(a: f64, b: f64) -> f64 {
    if a == f64::INFINITY || b == f64::INFINITY {
        f64::INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b && a == 0.0 {
        if a.is_sign_positive() {
            a
        } else {
            b
        }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: -Inf if either is -Inf (even against NaN), else NaN if either is
/// NaN; -0 beats +0.
pub fn go_min(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY || b == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b && a == 0.0 {
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else if a < b {
        a
    } else {
        b
    }
}

/// The one-argument math function called `name`, if there is one.
pub fn simple_fn(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => go_sinh,
        "cosh" => go_cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => |v| v * 180.0 / std::f64::consts::PI,
        "rad" => |v| v * std::f64::consts::PI / 180.0,
        "sgn" => |v: f64| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        _ => return None,
    })
}

/// `sinh` as Go computes it: above |x| = 21 it is `exp(|x|) / 2` with the sign, so it
/// overflows to ±Inf where `exp` does (Prometheus answers `sinh(710)` with +Inf).
pub fn go_sinh(x: f64) -> f64 {
    if x.abs() > 21.0 {
        (x.abs().exp() * 0.5).copysign(x)
    } else {
        x.sinh()
    }
}

/// `cosh` as Go computes it: above |x| = 21 it is `exp(|x|) / 2`, so it overflows to
/// +Inf where `exp` does.
pub fn go_cosh(x: f64) -> f64 {
    if x.abs() > 21.0 {
        x.abs().exp() * 0.5
    } else {
        x.cosh()
    }
}

/// `round(v, to_nearest)`: rounds half up to a multiple of `to_nearest`.
pub fn round(v: f64, to_nearest: f64) -> f64 {
    let inv = 1.0 / to_nearest;
    (v * inv + 0.5).floor() / inv
}

/// `clamp(v, min, max)` (caller drops the sample when `max < min`).
pub fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    go_max(lo, go_min(hi, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperbolic_overflow_like_go() {
        assert_eq!(go_cosh(710.0), f64::INFINITY);
        assert_eq!(go_sinh(710.0), f64::INFINITY);
        assert_eq!(go_sinh(-710.0), f64::NEG_INFINITY);
        assert!(f64::cosh(710.0).is_finite());
        assert!((go_cosh(30.0) - f64::cosh(30.0)).abs() / f64::cosh(30.0) < 1e-15);
        assert!((go_sinh(-1.5) - f64::sinh(-1.5)).abs() < 1e-15);
        assert!(go_cosh(f64::NAN).is_nan());
    }

    #[test]
    fn round_half_up() {
        assert_eq!(round(2.5, 1.0), 3.0);
        assert_eq!(round(-2.5, 1.0), -2.0);
        assert_eq!(round(12.34, 0.1), 12.3);
    }

    #[test]
    fn go_min_max_propagate_nan() {
        assert!(go_max(1.0, f64::NAN).is_nan());
        // Go checks the infinity that wins before NaN.
        assert_eq!(go_max(f64::INFINITY, f64::NAN), f64::INFINITY);
        assert_eq!(go_max(f64::NAN, f64::INFINITY), f64::INFINITY);
        assert_eq!(go_min(f64::NAN, f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert!(go_min(f64::INFINITY, f64::NAN).is_nan());
        assert!(go_max(f64::NEG_INFINITY, f64::NAN).is_nan());
        assert!(clamp(f64::NAN, 0.0, 1.0).is_nan());
        assert_eq!(clamp(5.0, 0.0, 1.0), 1.0);
    }

    #[test]
    fn sgn_keeps_zero_and_nan() {
        let f = simple_fn("sgn").unwrap();
        assert_eq!(f(-3.0), -1.0);
        assert!(f(f64::NAN).is_nan());
    }
}
