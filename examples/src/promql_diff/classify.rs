//! The classes a mismatch can fall in: each rule names a documented Prometheus 2.x ->
//! 3.x change (see Prometheus's 3.0 migration guide) and how it is verified.

/// A class name and what it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Class name as counted and printed.
    pub name: &'static str,
    /// What changed in 3.0, and how the harness confirms that this change (and nothing
    /// else) explains the mismatch.
    pub what: &'static str,
}

/// Answers agree.
pub const AGREE: &str = "agree";
/// No rule explains the mismatch.
pub const UNEXPLAINED: &str = "unexplained";

/// Every rule, in the order they are tried.
pub const RULES: &[Rule] = &[
    Rule {
        name: "holt_winters-renamed",
        what: "3.0 renamed holt_winters to double_exponential_smoothing (behind the \
               promql-experimental-functions flag): we reject holt_winters as an unknown \
               function, 2.42 answers it. Applies only when the query calls holt_winters, \
               ours failed and theirs did not.",
    },
    Rule {
        name: "atan2-drops-name",
        what: "3.x drops the metric name in the result of the vector `atan2` operator, \
               like the other arithmetic operators (2.x kept it; not in the migration \
               guide, but in 3.x's engine and in the peer tests' operators.test): \
               applies when the query uses atan2 and the answers agree once neither \
               side has __name__ labels.",
    },
    Rule {
        name: "stddev-of-nan",
        what: "3.x stddev/stdvar give NaN for a group whose first sample is NaN or ±Inf \
               (2.x started such a group at 0; see the peer tests' aggregators.test): \
               applies when the query uses stddev/stdvar and the answers agree once \
               theirs has NaN wherever ours has NaN and theirs 0, or once 2.42 is asked \
               with every stddev/stdvar A over X written (A + sum <same grouping> (X) * 0), \
               which is NaN exactly when the group holds a NaN or an infinity.",
    },
    Rule {
        name: "utf8-label-names",
        what: "3.0 accepts any UTF-8 label name (migration guide, UTF-8 names), so \
               label_replace/label_join may write label \"a-b\", which 2.42 rejects: \
               the answers agree once 2.42 is asked for \"a_b\" instead and ours has \
               its a-b label renamed a_b.",
    },
    Rule {
        name: "count_values-float-digits",
        what: "not a semantic change: count_values turns sample values into label \
               values with every digit, so float rounding that differs in the last bits \
               (3.x sums with Kahan compensation, 2.42 does not) shows in labels: the \
               answers agree once fractional label values are rounded to 10 significant \
               digits and values compared with a relative 1e-4.",
    },
    Rule {
        name: "filtered-matches-count",
        what: "3.x reports ambiguous vector matching (many-to-one not explicit, grouping \
               labels not unique) even when the comparison filters the extra samples \
               away (peer tests' operators.test, 'track many-to-one vector matching \
               errors even when all but 0 or 1 series are filtered'); 2.42 checks only \
               the samples that survive: applies when ours failed with such an error, \
               theirs did not, and the query compares vectors.",
    },
    Rule {
        name: "le-normalisation",
        what: "3.0 normalises `le` and `quantile` label values to float form on ingestion \
               (le=\"1\" -> le=\"1.0\"): the answers agree once theirs has its le/quantile \
               values normalised.",
    },
    Rule {
        name: "regex-dot-newline",
        what: "3.0 regexes match newlines with `.` (migration guide; label_replace \
               compiles its regex the same way in 3.x): the answers agree once every \
               regex matcher and label_replace regex of the query sent to 2.42 starts \
               with (?s).",
    },
    Rule {
        name: "left-open-range",
        what: "3.0 range selectors and the lookback window are left-open ((t-r, t] instead \
               of [t-r, t]): the answers agree when 2.42 runs with a lookback delta 1 ms \
               shorter and every range of the query 1 ms shorter (on millisecond data the \
               same samples; rate/increase extrapolation then differs by about 1 ms/range, \
               so this comparison allows a relative 1e-4).",
    },
    Rule {
        name: "left-open-range+regex-dot-newline",
        what: "both of the above at once.",
    },
    Rule {
        name: "topk-tie-choice",
        what: "not a semantic change: among equal values topk/bottomk keep the series \
               their input order favours, and Prometheus orders computed inputs by Go map \
               iteration (random per query; over plain selectors we follow its heap \
               exactly): applies when the query uses topk/bottomk and at every timestamp \
               both answers hold the same multiset of values.",
    },
    Rule {
        name: "2.42-range-query-bug",
        what: "Prometheus 2.42's range evaluation disagrees with its own instant \
               evaluation (e.g. predict_linear over an `@`-pinned range answers the first \
               step only): applies when ours agrees with 2.42 asked as one instant query \
               per step.",
    },
    Rule {
        name: "2.42-at-modifier-bug",
        what: "Prometheus 2.42 answers some instant queries with `@ start()`/`@ end()` \
               differently from the same query without them, although in an instant \
               query both mean the evaluation time (e.g. timestamp(x offset 5m @ start()) \
               is empty): applies when ours agrees with 2.42 asked the query with those \
               modifiers removed.",
    },
    Rule {
        name: "2.42-timestamp-offset-at-bug",
        what: "Prometheus 2.42 answers timestamp() of a selector with both offset and `@` \
               with nothing (timestamp(x offset 5m @ T) is empty while x offset 5m @ T is \
               not); applies when the query has timestamp( with offset and @, and theirs \
               holds a strict subset of our series.",
    },
    Rule {
        name: "rounding-amplified",
        what: "not a semantic change: 3.x sums and averages with Kahan compensation \
               (2.42 does not), so results differ in the last bits, and `%`, floor, ceil \
               or round after such an aggregation can turn that into a visible \
               difference: applies when the query has both, and the answers have the \
               same series and timestamps (a heuristic).",
    },
    Rule {
        name: "left-open-range+2.42-range-query-bug",
        what: "both of those at once: ours agrees with 2.42 asked one instant query per \
               step with the left-open emulation.",
    },
    Rule {
        name: "ulp-amplified",
        what: "not a semantic change: Go's and Rust's exp/sinh/cosh/pow differ in the \
               last bit, and a date function (read as seconds) or sin/cos/tan of a huge \
               value turns that into any output: applies when the query has exactly one \
               such call, both engines agree on its argument to 12 digits, and the \
               answers have the same series and timestamps.",
    },
    Rule {
        name: "counter-zero-extrapolation",
        what: "rate/increase extrapolation towards the counter's zero point changed in \
               2.52 (prometheus PR #13725, so in every 3.x): the zero point now only \
               shortens the half-interval extrapolation instead of replacing it, so 2.42 \
               extrapolates further. Applies when the query uses rate or increase and the \
               answers have the same series and timestamps, differing in values only (a \
               heuristic: this change cannot be emulated on 2.42).",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_unique_and_distinct_from_outcomes() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
        assert!(!names.contains(&AGREE) && !names.contains(&UNEXPLAINED));
    }
}
