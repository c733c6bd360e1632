//! The table of PromQL functions: which functions exist, and what do they take and return?
//!
//! One [`Function`] per function of Prometheus 3.x. The parser uses the table to resolve
//! calls and check argument counts and types; the engine dispatches on [`Function::name`].

use crate::ast::ValueType;

use ValueType::{Matrix as M, Scalar as S, String as Str, Vector as V};

/// The signature of a PromQL function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Function {
    /// The name as written in queries.
    pub name: &'static str,
    /// Argument types. With `variadic != 0`, the last entry is the type of every optional
    /// trailing argument.
    pub arg_types: &'static [ValueType],
    /// 0: exactly `arg_types.len()` arguments. `n > 0`: between `arg_types.len() - 1` and
    /// `arg_types.len() - 1 + n` arguments. `-1`: at least `arg_types.len() - 1`, no upper limit.
    pub variadic: i32,
    /// The type of the result.
    pub return_type: ValueType,
    /// Whether the function needs the experimental-functions flag
    /// ([`crate::ParseOptions::experimental_functions`]).
    pub experimental: bool,
}

impl Function {
    /// The fewest arguments accepted.
    pub fn min_args(&self) -> usize {
        if self.variadic == 0 {
            self.arg_types.len()
        } else {
            self.arg_types.len().saturating_sub(1)
        }
    }

    /// The most arguments accepted (`None` = unlimited).
    pub fn max_args(&self) -> Option<usize> {
        match self.variadic {
            0 => Some(self.arg_types.len()),
            n if n < 0 => None,
            n => Some(self.arg_types.len().saturating_sub(1) + n as usize),
        }
    }

    /// The expected type of the argument at `index` (0-based), or `None` when the function
    /// takes no arguments.
    pub fn arg_type(&self, index: usize) -> Option<ValueType> {
        let last = self.arg_types.len().checked_sub(1)?;
        Some(self.arg_types[index.min(last)])
    }
}

const fn f(
    name: &'static str,
    arg_types: &'static [ValueType],
    variadic: i32,
    return_type: ValueType,
    experimental: bool,
) -> Function {
    Function {
        name,
        arg_types,
        variadic,
        return_type,
        experimental,
    }
}

/// Every PromQL function, sorted by name.
pub static FUNCTIONS: &[Function] = &[
    f("abs", &[V], 0, V, false),
    f("absent", &[V], 0, V, false),
    f("absent_over_time", &[M], 0, V, false),
    f("acos", &[V], 0, V, false),
    f("acosh", &[V], 0, V, false),
    f("asin", &[V], 0, V, false),
    f("asinh", &[V], 0, V, false),
    f("atan", &[V], 0, V, false),
    f("atanh", &[V], 0, V, false),
    f("avg_over_time", &[M], 0, V, false),
    f("ceil", &[V], 0, V, false),
    f("changes", &[M], 0, V, false),
    f("clamp", &[V, S, S], 0, V, false),
    f("clamp_max", &[V, S], 0, V, false),
    f("clamp_min", &[V, S], 0, V, false),
    f("cos", &[V], 0, V, false),
    f("cosh", &[V], 0, V, false),
    f("count_over_time", &[M], 0, V, false),
    f("day_of_month", &[V], 1, V, false),
    f("day_of_week", &[V], 1, V, false),
    f("day_of_year", &[V], 1, V, false),
    f("days_in_month", &[V], 1, V, false),
    f("deg", &[V], 0, V, false),
    f("delta", &[M], 0, V, false),
    f("deriv", &[M], 0, V, false),
    f("double_exponential_smoothing", &[M, S, S], 0, V, true),
    f("end", &[], 0, S, true),
    f("exp", &[V], 0, V, false),
    f("first_over_time", &[M], 0, V, false),
    f("floor", &[V], 0, V, false),
    f("histogram_avg", &[V], 0, V, false),
    f("histogram_count", &[V], 0, V, false),
    f("histogram_fraction", &[S, S, V], 0, V, false),
    f("histogram_quantile", &[S, V], 0, V, false),
    f("histogram_quantiles", &[V, Str, S, S], 9, V, true),
    f("histogram_stddev", &[V], 0, V, false),
    f("histogram_stdvar", &[V], 0, V, false),
    f("histogram_sum", &[V], 0, V, false),
    f("hour", &[V], 1, V, false),
    f("idelta", &[M], 0, V, false),
    f("increase", &[M], 0, V, false),
    f("info", &[V, V], 1, V, true),
    f("irate", &[M], 0, V, false),
    f("label_join", &[V, Str, Str, Str], -1, V, false),
    f("label_replace", &[V, Str, Str, Str, Str], 0, V, false),
    f("last_over_time", &[M], 0, V, false),
    f("ln", &[V], 0, V, false),
    f("log10", &[V], 0, V, false),
    f("log2", &[V], 0, V, false),
    f("mad_over_time", &[M], 0, V, true),
    f("max_of", &[S, S], 0, S, true),
    f("max_over_time", &[M], 0, V, false),
    f("min_of", &[S, S], 0, S, true),
    f("min_over_time", &[M], 0, V, false),
    f("minute", &[V], 1, V, false),
    f("month", &[V], 1, V, false),
    f("pi", &[], 0, S, false),
    f("predict_linear", &[M, S], 0, V, false),
    f("present_over_time", &[M], 0, V, false),
    f("quantile_over_time", &[S, M], 0, V, false),
    f("rad", &[V], 0, V, false),
    f("range", &[], 0, S, true),
    f("rate", &[M], 0, V, false),
    f("resets", &[M], 0, V, false),
    f("round", &[V, S], 1, V, false),
    f("scalar", &[V], 0, S, false),
    f("sgn", &[V], 0, V, false),
    f("sin", &[V], 0, V, false),
    f("sinh", &[V], 0, V, false),
    f("sort", &[V], 0, V, false),
    f("sort_by_label", &[V, Str], -1, V, true),
    f("sort_by_label_desc", &[V, Str], -1, V, true),
    f("sort_desc", &[V], 0, V, false),
    f("sqrt", &[V], 0, V, false),
    f("start", &[], 0, S, true),
    f("start_timestamp", &[V], 0, V, true),
    f("stddev_over_time", &[M], 0, V, false),
    f("stdvar_over_time", &[M], 0, V, false),
    f("step", &[], 0, S, true),
    f("sum_over_time", &[M], 0, V, false),
    f("tan", &[V], 0, V, false),
    f("tanh", &[V], 0, V, false),
    f("time", &[], 0, S, false),
    f("timestamp", &[V], 0, V, false),
    f("ts_of_first_over_time", &[M], 0, V, true),
    f("ts_of_last_over_time", &[M], 0, V, true),
    f("ts_of_max_over_time", &[M], 0, V, true),
    f("ts_of_min_over_time", &[M], 0, V, true),
    f("vector", &[S], 0, V, false),
    f("year", &[V], 1, V, false),
];

/// Looks a function up by its exact name.
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .map(|i| &FUNCTIONS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in FUNCTIONS.windows(2) {
            assert!(w[0].name < w[1].name, "{} !< {}", w[0].name, w[1].name);
        }
    }

    #[test]
    fn lookup_and_arity() {
        let lj = lookup("label_join").unwrap();
        assert_eq!(lj.min_args(), 3);
        assert_eq!(lj.max_args(), None);
        assert_eq!(lj.arg_type(7), Some(ValueType::String));
        let round = lookup("round").unwrap();
        assert_eq!((round.min_args(), round.max_args()), (1, Some(2)));
        let hq = lookup("histogram_quantiles").unwrap();
        assert_eq!((hq.min_args(), hq.max_args()), (3, Some(12)));
        assert_eq!(lookup("time").unwrap().arg_type(0), None);
        assert!(lookup("holt_winters").is_none());
        assert!(lookup("Rate").is_none());
    }
}
